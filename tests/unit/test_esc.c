/*
 * test_esc.c - escaping text from others: what is escaped and how, what is
 * kept, where a cut falls, and that escaping twice changes nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esc.h"

static void
expect(const char *in, size_t len, const char *out)
{
	char buf[256];
	size_t used;

	assert_int_equal(
	    esc_text(buf, sizeof(buf), in, len, &used), strlen(out));
	assert_int_equal(used, len);
	assert_string_equal(buf, out);
}

#define EXPECT(in, out) expect(in, sizeof(in) - 1, out)

static void
test_controls(void **state)
{
	(void)state;
	EXPECT("a\nb\rc\td", "a\\nb\\rc\\td");
	EXPECT("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
	EXPECT("\x01\x7f\x00z", "\\x01\\x7f\\x00z");
	EXPECT("c1 \xc2\x80 \xc2\x9b", "c1 \\xc2\\x80 \\xc2\\x9b");
	EXPECT("\xe2\x80\xa8\xe2\x80\xae\xe2\x81\xa6\xe2\x81\xa9",
	    "\\xe2\\x80\\xa8\\xe2\\x80\\xae\\xe2\\x81\\xa6\\xe2\\x81\\xa9");
}

static void
test_kept(void **state)
{
	(void)state;
	EXPECT("Yayasan Peduli Disabilitas, Jl. Perintis Kemerdekaan No. 7",
	    "Yayasan Peduli Disabilitas, Jl. Perintis Kemerdekaan No. 7");
	EXPECT("« Sulawesi » – ꦗꦮ 🙏 \\n \xc2\xa0\xe2\x80\xa7\xe2\x81\xaa",
	    "« Sulawesi » – ꦗꦮ 🙏 \\n \xc2\xa0\xe2\x80\xa7\xe2\x81\xaa");
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	EXPECT("\xff\xfe", "\\xff\\xfe");
	EXPECT("\xc0\x80", "\\xc0\\x80");                   /* overlong NUL */
	EXPECT("\xe0\x80\xaf", "\\xe0\\x80\\xaf");          /* overlong '/' */
	EXPECT("\xed\xa0\x80", "\\xed\\xa0\\x80");          /* surrogate */
	EXPECT("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	EXPECT("\xc3(", "\\xc3(");
	EXPECT("ok\xe2\x80", "ok\\xe2\\x80"); /* cut short at the end */
}

static void
test_shown(void **state)
{
	size_t n;
	uint32_t cp;

	(void)state;
	assert_true(esc_shown("\xc3\xa9", 2, &n, &cp));
	assert_int_equal(n, 2);
	assert_int_equal(cp, 0xe9);
	assert_false(esc_shown("\xc2\x9b", 2, &n, &cp));
	assert_int_equal(cp, 0x9b);
	assert_false(esc_shown("\xc3", 1, &n, &cp));
	assert_int_equal(n, 1);
	assert_int_equal(cp, ESC_INVALID);
}

/* A cut never splits a character or an escape. */
static void
test_cut(void **state)
{
	char buf[8];
	size_t used;

	(void)state;
	assert_int_equal(esc_text(buf, sizeof(buf), "ab\x1b\x1b", 4, &used), 6);
	assert_string_equal(buf, "ab\\x1b");
	assert_int_equal(used, 3);
	assert_int_equal(esc_text(buf, 6, "abc🙏", 7, &used), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(used, 3);
	assert_int_equal(esc_text(buf, 1, "a", 1, &used), 0);
	assert_string_equal(buf, "");
	assert_int_equal(used, 0);
}

static void
test_dup_is_idempotent(void **state)
{
	const char *in = "x\n\x1b[1m\xff\xc2\x9b – y";
	char *once = esc_dup(in), *twice = esc_dup(once);

	(void)state;
	assert_string_equal(once, "x\\n\\x1b[1m\\xff\\xc2\\x9b – y");
	assert_string_equal(twice, once);
	assert_null(esc_dup(NULL));
	free(once);
	free(twice);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_controls),
	    cmocka_unit_test(test_kept),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_shown),
	    cmocka_unit_test(test_cut),
	    cmocka_unit_test(test_dup_is_idempotent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
