/*
 * test_jsonline.c - jalinctl import's fast path (tools/json.c,
 * js_fast_line) against the jansson path it stands in for.
 *
 * The property: a line the fast path takes is one jansson takes too, and
 * both give the same bytes; a line jansson refuses, the fast path refuses.
 * Checked on hand-written edge cases and on 20,000 random lines (random
 * keys, values, escapes, code points, whitespace, then random damage).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "json.h"
#include "jsonline_ref.h"

#define MAX (1u << 20)

struct counts {
	unsigned fast, slow_only, refused;
};

/* The property for one line; returns what the fast path said. */
static int
check_line(const char *s, size_t len, const char *defcoll, struct counts *n)
{
	struct js_fast f;
	struct buf a, b;
	const char *coll = NULL;
	size_t clen = 0;
	int fr, sr;

	js_fast_init(&f, MAX);
	buf_init(&a, MAX);
	buf_init(&b, MAX);
	fr = js_fast_line(&f, s, len, defcoll, &a, &coll, &clen);
	sr = slow_line(s, len, defcoll, &b);
	if (fr == 0) {
		if (sr != 0 || a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
			fail_msg("fast path differs from jansson on: %.*s",
			    (int)len, s);
		assert_non_null(coll);
		n->fast++;
	} else if (sr == 0) {
		n->slow_only++;
	} else {
		n->refused++;
	}
	js_fast_free(&f);
	buf_free(&a);
	buf_free(&b);
	return fr;
}

static int
check(const char *s, const char *defcoll)
{
	struct counts n = {0};

	return check_line(s, strlen(s), defcoll, &n);
}

static void
test_taken(void **state)
{
	static const char *lines[] = {
	    "{\"collection\":\"lks\",\"name\":\"Yayasan Harapan\"}",
	    " {\t\"name\" : \"a\" , \"collection\" : \"lks\" }\r",
	    "{\"collection\":\"lks\",\"id\":null,\"n\":0,\"m\":-0,\"k\":-12}",
	    "{\"collection\":\"lks\",\"id\":\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\"}",
	    "{\"collection\":\"lks\",\"big\":9223372036854775807,"
	    "\"small\":-9223372036854775808}",
	    "{\"collection\":\"case\",\"t\":true,\"f\":false,\"z\":null}",
	    "{\"collection\":\"case\",\"share_with\":[\"jabar\",\"banten\"],"
	    "\"e\":[],\"m\":[1,\"x\",true,null,-3]}",
	    "{\"collection\":\"lks\",\"s\":\"kab. Maros \\\"baru\\\"\\n\\t\\\\/\\/"
	    "\\b\\f\\r\"}",
	    "{\"collection\":\"lks\",\"s\":\"\\u00e9\\u4e2d\\ud83d\\ude00\\u0041\"}",
	    "{\"collection\":\"lks\",\"s\":\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80"
	    "\"}",
	    "{\"collection\":\"lks\",\"\":\"empty key\",\"a.b\":\"dotted\"}",
	    "{\"collection\":\"lks\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (check(lines[i], NULL) != 0)
			fail_msg("not taken by the fast path: %s", lines[i]);
	}
	/* --collection when the line has none; the line's own wins */
	assert_int_equal(check("{\"name\":\"x\"}", "lks"), 0);
	assert_int_equal(check("{}", "lks"), 0);
	assert_int_equal(check("{\"collection\":\"case\",\"a\":1}", "lks"), 0);
}

static void
test_left_to_jansson(void **state)
{
	static const char *lines[] = {
	    "",
	    "   ",
	    "[]",
	    "\"lks\"",
	    "{",
	    "{\"collection\":\"lks\"",
	    "{\"collection\":\"lks\",}",
	    "{\"collection\":\"lks\" \"a\":1}",
	    "{\"collection\":\"lks\"} x",
	    "{\"collection\":\"lks\"}{}",
	    "{\"collection\":\"lks\",\"a\":1,\"a\":2}",
	    "{\"collection\":\"lks\",\"collection\":\"lks\"}",
	    "{\"collection\":\"lks\",\"a\\u0062\":1}",
	    "{\"collection\":\"l\\u006bs\"}",
	    "{\"collection\":null}",
	    "{\"collection\":1}",
	    "{\"id\":7,\"collection\":\"lks\"}",
	    "{\"id\":\"a\\u0062\",\"collection\":\"lks\"}",
	    "{\"a\":1}",
	    "{\"collection\":\"lks\",\"o\":{\"x\":1}}",
	    "{\"collection\":\"lks\",\"a\":[[1]]}",
	    "{\"collection\":\"lks\",\"a\":[{}]}",
	    "{\"collection\":\"lks\",\"r\":1.5}",
	    "{\"collection\":\"lks\",\"r\":1e5}",
	    "{\"collection\":\"lks\",\"r\":1E5}",
	    "{\"collection\":\"lks\",\"r\":01}",
	    "{\"collection\":\"lks\",\"r\":-}",
	    "{\"collection\":\"lks\",\"r\":+1}",
	    "{\"collection\":\"lks\",\"r\":9223372036854775808}",
	    "{\"collection\":\"lks\",\"r\":-9223372036854775809}",
	    "{\"collection\":\"lks\",\"b\":truex}",
	    "{\"collection\":\"lks\",\"b\":tru}",
	    "{\"collection\":\"lks\",\"b\":nul}",
	    "{\"collection\":\"lks\",\"s\":\"\\u0000\"}",
	    "{\"collection\":\"lks\",\"s\":\"\\ud83d\"}",
	    "{\"collection\":\"lks\",\"s\":\"\\ude00\"}",
	    "{\"collection\":\"lks\",\"s\":\"\\ud83dx\"}",
	    "{\"collection\":\"lks\",\"s\":\"\\x\"}",
	    "{\"collection\":\"lks\",\"s\":\"\\u12\"}",
	    "{\"collection\":\"lks\",\"s\":\"\\u12g4\"}",
	    "{\"collection\":\"lks\",\"s\":\"tab\there\"}",
	    "{\"collection\":\"lks\",\"s\":\"\xc0\x80\"}",
	    "{\"collection\":\"lks\",\"s\":\"\xed\xa0\x80\"}",
	    "{\"collection\":\"lks\",\"s\":\"\xf4\x90\x80\x80\"}",
	    "{\"collection\":\"lks\",\"s\":\"\xe4\xb8\"}",
	    "{\"collection\":\"lks\",\"s\":\"\xff\"}",
	    "{\"collection\":\"lks\",\"s\":\"open",
	    "{\"collection\":\"lks\",\"s\":\"ends in a backslash\\",
	    "\xef\xbb\xbf{\"collection\":\"lks\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (check(lines[i], NULL) != -1)
			fail_msg("taken by the fast path: %s", lines[i]);
	}
	/* a NUL inside the line is not JSON */
	struct counts n = {0};
	assert_int_equal(
	    check_line("{\"collection\":\"lks\"}\0", 21, NULL, &n), -1);
	assert_int_equal(
	    check_line("{\"collection\":\"l\0s\"}", 20, NULL, &n), -1);
}

/* ---- random lines ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

struct out {
	char p[8192];
	size_t len;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->len + n < sizeof(o->p)) {
		memcpy(o->p + o->len, s, n);
		o->len += n;
	}
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
ws(struct out *o)
{
	static const char *w[] = {"", "", "", " ", "\t", "  ", "\r", "\n"};
	puts_(o, w[rnd(8)]);
}

static void
rstring(struct out *o)
{
	static const char *parts[] = {"a", "Kab. ", "Maros", " ", "\\n", "\\\"",
	    "\\\\", "\\/", "\\t", "\\u00e9", "\\u4E2D", "\\ud83d\\ude00",
	    "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\\u0041", "0", "-",
	    "Jl. Perintis Kemerdekaan", "\\b", "\\f", "\\r", "\\u00", "\\ud83d",
	    "\x7f", "\xc2\x80", "\xef\xbf\xbf"};
	unsigned n = rnd(6);

	puts_(o, "\"");
	for (unsigned i = 0; i < n; i++)
		puts_(o, parts[rnd(sizeof(parts) / sizeof(parts[0]))]);
	puts_(o, "\"");
}

static void
rscalar(struct out *o)
{
	static const char *nums[] = {"0", "-0", "7", "-12", "123456789",
	    "9223372036854775807", "-9223372036854775808", "1.5", "2e3",
	    "-0.0"};
	char t[32];

	switch (rnd(7)) {
	case 0:
	case 1:
	case 2:
		rstring(o);
		return;
	case 3:
		puts_(o, nums[rnd(sizeof(nums) / sizeof(nums[0]))]);
		return;
	case 4:
		snprintf(t, sizeof(t), "%d", (int)rnd(100000) - 50000);
		puts_(o, t);
		return;
	case 5:
		puts_(o, rnd(2) ? "true" : "false");
		return;
	default:
		puts_(o, "null");
	}
}

static void
rvalue(struct out *o, unsigned depth)
{
	unsigned n;

	switch (rnd(depth == 0 ? 8 : 12)) {
	case 0:
		puts_(o, "[");
		ws(o);
		n = rnd(4);
		for (unsigned i = 0; i < n; i++) {
			if (i > 0)
				puts_(o, ",");
			ws(o);
			if (depth < 2 && rnd(6) == 0)
				rvalue(o, depth + 1);
			else
				rscalar(o);
			ws(o);
		}
		puts_(o, "]");
		return;
	case 1:
		if (depth < 2 && rnd(3) == 0) {
			puts_(o, "{\"k\":");
			rvalue(o, depth + 1);
			puts_(o, "}");
			return;
		}
		/* fall through */
	default:
		rscalar(o);
	}
}

static void
rline(struct out *o)
{
	static const char *keys[] = {"name", "legal_form", "status", "address",
	    "region_code", "contact.phone", "head.name", "a", "", "collection",
	    "id", "mode", "share_with", "n\\u0061me"};
	unsigned n = rnd(8);

	o->len = 0;
	ws(o);
	puts_(o, "{");
	for (unsigned i = 0; i < n; i++) {
		const char *k = keys[rnd(sizeof(keys) / sizeof(keys[0]))];
		if (i > 0)
			puts_(o, ",");
		ws(o);
		puts_(o, "\"");
		puts_(o, k);
		puts_(o, "\"");
		ws(o);
		puts_(o, ":");
		ws(o);
		if (strcmp(k, "collection") == 0 && rnd(8) != 0)
			puts_(o, rnd(2) ? "\"lks\"" : "\"case\"");
		else if (strcmp(k, "id") == 0 && rnd(4) != 0)
			puts_(o,
			    rnd(2)
			        ? "null"
			        : "\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\"");
		else
			rvalue(o, 0);
		ws(o);
	}
	puts_(o, "}");
	ws(o);
}

static void
damage(struct out *o)
{
	static const char junk[] = "{}[]\",:\\ 0-eE.tfn\x80\xc3\xed\x00";

	for (unsigned i = rnd(3) + 1; i > 0 && o->len > 0; i--) {
		size_t at = rnd((uint32_t)o->len);
		switch (rnd(3)) {
		case 0: /* replace */
			o->p[at] = junk[rnd(sizeof(junk) - 1)];
			break;
		case 1: /* cut */
			memmove(o->p + at, o->p + at + 1, o->len - at - 1);
			o->len--;
			break;
		default: /* truncate */
			o->len = at;
		}
	}
}

static void
test_random_lines(void **state)
{
	struct counts clean = {0}, hurt = {0};
	struct out o;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		rline(&o);
		check_line(o.p, o.len, rnd(2) ? "lks" : NULL, &clean);
		damage(&o);
		check_line(o.p, o.len, rnd(2) ? "lks" : NULL, &hurt);
	}
	print_message("clean lines: %u fast, %u jansson only, %u refused; "
	              "damaged: %u fast, %u jansson only, %u refused\n",
	    clean.fast, clean.slow_only, clean.refused, hurt.fast,
	    hurt.slow_only, hurt.refused);
	/* not vacuous: every kind of outcome happened */
	assert_true(clean.fast > 2000);
	assert_true(clean.slow_only > 500);
	assert_true(hurt.refused > 2000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_taken),
	    cmocka_unit_test(test_left_to_jansson),
	    cmocka_unit_test(test_random_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
