/*
 * out_json.c - the --json rendering: one compact JSON value per line with
 * sorted keys, so that output is stable and diffable and every line parses
 * on its own (scripts read import's batch reports line by line while the
 * import runs).
 *
 * JSON escapes what it must (quotes, backslash, C0 controls); DEL, C1
 * controls and the Unicode characters that reorder or break a line
 * (esc.h) are written as \uXXXX too, so that a value printed raw by a
 * script (jq -r) cannot reach a terminal as control. The data is the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"
#include "output.h"

/* Bytes of s that out_json_dumps writes as \uXXXX, or 0. jansson
 * escapes C0 controls itself; DEL, C1 and the bidi and line-separator
 * characters it leaves raw. */
static size_t
unshown(const char *s, size_t len, size_t *n, uint32_t *cp)
{
	if ((unsigned char)*s < 0x7f) {
		*n = 1;
		return 0;
	}
	return esc_shown(s, len, n, cp) ? 0 : *n;
}

/* s with each character esc.h does not show as \uXXXX; NULL: no memory. */
static char *
json_escape_more(char *s)
{
	size_t len = strlen(s), i, o = 0, n, extra = 0;
	uint32_t cp;
	char *d;

	for (i = 0; i < len; i += n)
		extra += unshown(s + i, len - i, &n, &cp) ? 6 : 0;
	if (extra == 0)
		return s;
	if ((d = malloc(len + extra + 1)) == NULL)
		goto out;
	for (i = 0; i < len; i += n) {
		if (!unshown(s + i, len - i, &n, &cp)) {
			memcpy(d + o, s + i, n);
			o += n;
		} else {
			/* jansson writes valid UTF-8 only; all these are BMP */
			o += (size_t)snprintf(d + o, 7, "\\u%04x",
			    cp == ESC_INVALID ? 0xfffdu : (unsigned)cp);
		}
	}
	d[o] = '\0';
out:
	free(s);
	return d;
}

char *
out_json_dumps(json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags | JSON_ENCODE_ANY);

	return s != NULL ? json_escape_more(s) : NULL;
}

void
out_json_line(json_t *v)
{
	char *s = out_json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

	if (s == NULL) {
		fprintf(stderr, "jalinctl: out of memory: a line not shown\n");
		return;
	}
	fputs(s, stdout);
	fputc('\n', stdout);
	free(s);
}

static void
feed(json_t *entries, json_int_t last_seq)
{
	json_t *o = json_pack(
	    "{sOsI}", "entries", entries, "last_seq", (json_int_t)last_seq);

	if (o != NULL)
		out_json_line(o);
	json_decref(o);
}

static void
status(json_t *st, const char *via)
{
	(void)via;
	out_json_line(st);
}

static void
list(const char *coll, json_t *records)
{
	(void)coll;
	out_json_line(records);
}

/* A batch report must reach the reader before the next batch is sent. */
static void
import_batch(json_t *report)
{
	out_json_line(report);
	fflush(stdout);
}

const struct output output_json = {
    .status = status,
    .peers = out_json_line,
    .keys = out_json_line,
    .verify = out_json_line,
    .federation = out_json_line,
    .written = out_json_line,
    .record = out_json_line,
    .audit = out_json_line,
    .list = list,
    .export_line = out_json_line,
    .feed = feed,
    .conflicts = out_json_line,
    .digest = out_json_line,
    .import_batch = import_batch,
};
