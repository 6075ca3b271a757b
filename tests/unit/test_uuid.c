/*
 * test_uuid.c - UUIDv7 ids (layout, strict order from one generator even
 * when the clock stands still or goes back) and the text forms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "uuid.h"

static int
gen_setup(void **state)
{
	struct uuidgen *g = malloc(sizeof(*g));

	if (g == NULL)
		return -1;
	uuidgen_init(g);
	*state = g;
	return 0;
}

static int
gen_teardown(void **state)
{
	free(*state);
	return 0;
}

static void
next(struct uuidgen *g, uint64_t ms, uint8_t id[UUID_LEN])
{
	assert_int_equal(uuid_v7(g, ms, id), 0);
	assert_int_equal(id[6] >> 4, 7);
	assert_int_equal(id[8] & 0xc0, 0x80);
}

static uint16_t
counter(const uint8_t id[UUID_LEN])
{
	return (uint16_t)((id[6] & 0x0f) << 8 | id[7]);
}

static void
test_layout(void **state)
{
	struct uuidgen *g = *state;
	uint8_t id[UUID_LEN];
	uint64_t ms = UINT64_C(0x0123456789ab);

	next(g, ms, id);
	assert_int_equal(id[0], 0x01);
	assert_int_equal(id[5], 0xab);
	assert_true(uuid_v7_ms(id) == ms);
	/* A fresh millisecond starts the counter below the guard bit. */
	assert_true(counter(id) <= 0x7ff);
}

static void
test_monotonic_same_ms(void **state)
{
	struct uuidgen *g = *state;
	uint8_t prev[UUID_LEN], id[UUID_LEN];
	int i;

	next(g, 1000, prev);
	/* More than the 12-bit counter holds: it must carry into ms. */
	for (i = 0; i < 10000; i++) {
		next(g, 1000, id);
		assert_true(memcmp(prev, id, UUID_LEN) < 0);
		memcpy(prev, id, UUID_LEN);
	}
	assert_true(uuid_v7_ms(id) > 1000);
	assert_true(uuid_v7_ms(id) <= 1000 + 10000 / 2048 + 1);
}

static void
test_monotonic_backwards(void **state)
{
	struct uuidgen *g = *state;
	uint8_t prev[UUID_LEN], id[UUID_LEN];
	uint64_t ms;

	next(g, 5000, prev);
	for (ms = 4999; ms > 4000; ms--) {
		next(g, ms, id);
		assert_true(memcmp(prev, id, UUID_LEN) < 0);
		assert_int_equal(uuid_v7_ms(id), 5000);
		memcpy(prev, id, UUID_LEN);
	}
	next(g, 0, id);
	assert_true(memcmp(prev, id, UUID_LEN) < 0);
	/* Once the clock passes the last id, ids follow it again. */
	next(g, 6000, id);
	assert_int_equal(uuid_v7_ms(id), 6000);
	assert_true(counter(id) <= 0x7ff);
}

static void
test_random_part(void **state)
{
	struct uuidgen a, b;
	uint8_t x[UUID_LEN], y[UUID_LEN];

	(void)state;
	uuidgen_init(&a);
	uuidgen_init(&b);
	next(&a, 1000, x);
	next(&b, 1000, y);
	/* Two nodes in the same millisecond: told apart by 62 random bits. */
	assert_memory_equal(x, y, 6);
	assert_memory_not_equal(x + 8, y + 8, 8);
}

static void
test_format_parse(void **state)
{
	static const uint8_t id[UUID_LEN] = {0x01, 0x7f, 0x22, 0xe2, 0x79, 0xb0,
	    0x7c, 0xc3, 0x98, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f};
	static const char text[] = "017f22e2-79b0-7cc3-98c4-dc0c0c07398f";
	char out[UUID_STR_LEN + 1];
	uint8_t back[UUID_LEN];

	(void)state;
	uuid_format(id, out);
	assert_string_equal(out, text);
	assert_int_equal(uuid_parse(text, UUID_STR_LEN, back), 0);
	assert_memory_equal(back, id, UUID_LEN);
	assert_int_equal(uuid_parse("017F22E2-79B0-7CC3-98C4-DC0C0C07398F",
	                     UUID_STR_LEN, back),
	    0);
	assert_memory_equal(back, id, UUID_LEN);
	assert_true(uuid_v7_ms(id) == UINT64_C(0x017f22e279b0));
	memset(back, 0, sizeof(back));
	uuid_format(back, out);
	assert_string_equal(out, "00000000-0000-0000-0000-000000000000");
}

static void
test_roundtrip_generated(void **state)
{
	struct uuidgen *g = *state;
	uint8_t id[UUID_LEN], back[UUID_LEN];
	char out[UUID_STR_LEN + 1];
	int i;

	for (i = 0; i < 1000; i++) {
		next(g, 1700000000000u + (uint64_t)i * 7, id);
		uuid_format(id, out);
		assert_int_equal(strlen(out), UUID_STR_LEN);
		assert_int_equal(uuid_parse(out, strlen(out), back), 0);
		assert_memory_equal(back, id, UUID_LEN);
	}
}

static void
test_parse_rejects(void **state)
{
	static const char *const bad[] = {
	    "017f22e2-79b0-7cc3-98c4-dc0c0c07398",   /* 35 */
	    "017f22e2-79b0-7cc3-98c4-dc0c0c07398f0", /* 37 */
	    "",
	    "017f22e2-79b0-7cc3-98c4-dc0c0c07398g", /* not hex */
	    "017f22e2-79b0-7cc3-98c4-dc0c0c07398 ",
	    "017f22e2-79b0-7cc3-98c4 dc0c0c07398f", /* no dash */
	    "017f22e2079b0-7cc3-98c4-dc0c0c07398f",
	    "017f22e-279b0-7cc3-98c4-dc0c0c07398f", /* dash moved */
	    "017f22e2-79b0-7cc3-98c4d-c0c0c07398f",
	    "017f22e2-79b0-7cc3--8c4-dc0c0c07398f", /* dash for hex */
	    "017f22e279b07cc398c4dc0c0c07398f----",
	    "{17f22e2-79b0-7cc3-98c4-dc0c0c07398}",
	};
	uint8_t out[UUID_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(
		    uuid_parse(bad[i], strlen(bad[i]), out), JALIN_EINVAL);
		assert_int_equal(out[0], 0xee);
		assert_int_equal(out[15], 0xee);
	}
	/* The length is what the caller says, not where a NUL is. */
	assert_int_equal(
	    uuid_parse("017f22e2-79b0-7cc3-98c4-dc0c0c07398fff", 36, out), 0);
	assert_int_equal(
	    uuid_parse("017f22e2-79b0-7cc3-98c4-dc0c0c07398f", 35, out),
	    JALIN_EINVAL);
}

static void
test_v7_ms_other_versions(void **state)
{
	static const uint8_t v4[UUID_LEN] = {0x01, 0x7f, 0x22, 0xe2, 0x79, 0xb0,
	    0x4c, 0xc3, 0x98, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f};

	(void)state;
	assert_int_equal(uuid_v7_ms(v4), 0);
}

static void
test_hex(void **state)
{
	static const uint8_t in[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff};
	char out[2 * sizeof(in) + 1];
	uint8_t back[sizeof(in)];

	(void)state;
	hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "0001abcdefff");
	assert_int_equal(hex_decode("0001ABCDefFF", 12, back, sizeof(back)), 0);
	assert_memory_equal(back, in, sizeof(in));
	hex_encode(in, 0, out);
	assert_string_equal(out, "");
	assert_int_equal(hex_decode("", 0, back, 0), 0);
}

static void
test_hex_rejects(void **state)
{
	static const char *const bad[] = {"0001abcdeff", "0001abcdefff0",
	    "0001abcdefgf", "0001abcdef f", "0x01abcdefff", "0001abcdef-f"};
	uint8_t out[6];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(
		    hex_decode(bad[i], strlen(bad[i]), out, sizeof(out)),
		    JALIN_EINVAL);
		/* Nothing written, not even the valid leading pairs. */
		assert_int_equal(out[0], 0xee);
	}
	assert_int_equal(hex_decode("0001", 4, out, 3), JALIN_EINVAL);
	assert_int_equal(hex_decode("0001", 4, out, SIZE_MAX), JALIN_EINVAL);
}

#define GEN_TEST(f) cmocka_unit_test_setup_teardown(f, gen_setup, gen_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    GEN_TEST(test_layout),
	    GEN_TEST(test_monotonic_same_ms),
	    GEN_TEST(test_monotonic_backwards),
	    cmocka_unit_test(test_random_part),
	    cmocka_unit_test(test_format_parse),
	    GEN_TEST(test_roundtrip_generated),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_v7_ms_other_versions),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_hex_rejects),
	};

	return cmocka_run_group_tests_name("uuid", tests, NULL, NULL);
}
