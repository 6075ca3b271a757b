/*
 * test_hlc.c - the hybrid logical clock under a wall clock the test drives:
 * it jumps backwards, stands still long enough to overflow the counter, and
 * peers report times at and just past the skew limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "err.h"
#include "hlc.h"

#define MS_MAX ((UINT64_C(1) << 48) - 1)

static int
clock_setup(void **state)
{
	struct hlc *c = malloc(sizeof(*c));

	if (c == NULL)
		return -1;
	hlc_init(c, 0);
	*state = c;
	return 0;
}

static int
clock_teardown(void **state)
{
	free(*state);
	return 0;
}

static void
expect_now(struct hlc *c, uint64_t wall, uint64_t ms, uint16_t ctr)
{
	uint64_t h = hlc_now(c, wall);

	assert_int_equal(HLC_MS(h), ms);
	assert_int_equal(HLC_CTR(h), ctr);
	assert_int_equal(c->last, h);
}

static void
test_now_follows_wall(void **state)
{
	struct hlc *c = *state;

	expect_now(c, 1000, 1000, 0);
	expect_now(c, 1000, 1000, 1);
	expect_now(c, 1000, 1000, 2);
	expect_now(c, 1001, 1001, 0);
	expect_now(c, 5000, 5000, 0);
}

static void
test_now_wall_backwards(void **state)
{
	struct hlc *c = *state;
	uint64_t prev, h, wall = 1000000000, seed = 12345;
	int i;

	expect_now(c, 5000, 5000, 0);
	expect_now(c, 4000, 5000, 1);
	expect_now(c, 0, 5000, 2);
	prev = hlc_now(c, wall);
	/* A clock that wanders back and forth by up to a second. */
	for (i = 0; i < 100000; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		wall += (seed >> 33) % 2000;
		wall -= (seed >> 13) % 2000;
		h = hlc_now(c, wall);
		assert_true(h > prev);
		prev = h;
	}
}

static void
test_counter_overflow(void **state)
{
	struct hlc *c = *state;

	hlc_init(c, HLC_MAKE(1000, 0xfffe));
	expect_now(c, 999, 1000, 0xffff);
	/* The carry moves into the milliseconds, which stays monotonic. */
	expect_now(c, 999, 1001, 0);
	expect_now(c, 1000, 1001, 1);
	expect_now(c, 1001, 1001, 2);
	expect_now(c, 1002, 1002, 0);
}

static void
test_init_persisted(void **state)
{
	struct hlc *c = *state;

	hlc_init(c, HLC_MAKE(2000, 5));
	expect_now(c, 1500, 2000, 6);
	expect_now(c, 2001, 2001, 0);
}

/* A wall clock past 48 bits must not wrap the time part to zero. */
static void
test_wall_beyond_48_bits(void **state)
{
	struct hlc *c = *state;

	expect_now(c, 1000, 1000, 0);
	expect_now(c, MS_MAX + 5, MS_MAX, 0);
	expect_now(c, UINT64_MAX, MS_MAX, 1);
}

static void
test_observe_skew(void **state)
{
	struct hlc *c = *state;
	uint64_t at = HLC_MAKE(10300, 7), over = HLC_MAKE(10301, 0);

	expect_now(c, 10000, 10000, 0);
	assert_int_equal(hlc_observe(c, at, 10000, 300), 0);
	assert_int_equal(c->last, at);
	assert_int_equal(hlc_observe(c, over, 10000, 300), JALIN_ESKEW);
	assert_int_equal(c->last, at);
	/* Our next stamp comes after what we have seen. */
	expect_now(c, 10000, 10300, 8);
}

static void
test_observe_older(void **state)
{
	struct hlc *c = *state;

	expect_now(c, 10000, 10000, 0);
	assert_int_equal(hlc_observe(c, HLC_MAKE(9000, 3), 10000, 300), 0);
	assert_int_equal(c->last, HLC_MAKE(10000, 0));
	assert_int_equal(hlc_observe(c, HLC_MAKE(10000, 0), 10000, 300), 0);
	expect_now(c, 10000, 10000, 1);
}

static void
test_observe_edges(void **state)
{
	struct hlc *c = *state;

	assert_int_equal(hlc_observe(c, HLC_MAKE(500, 0xffff), 500, 0), 0);
	assert_int_equal(hlc_observe(c, HLC_MAKE(501, 0), 500, 0), JALIN_ESKEW);
	/* wall + skew would wrap; the check must not. */
	assert_int_equal(
	    hlc_observe(c, HLC_MAKE(MS_MAX, 0), 10, UINT64_MAX), 0);
	assert_int_equal(c->last, HLC_MAKE(MS_MAX, 0));
	hlc_init(c, 0);
	assert_int_equal(hlc_observe(c, UINT64_MAX, 1000, 1000), JALIN_ESKEW);
	assert_int_equal(c->last, 0);
}

static void
test_wall_ms(void **state)
{
	struct timespec t0, t1;
	uint64_t a, ms, b;

	(void)state;
	/* the same clock on both sides: time(2) reads a coarser one that may
	 * lag a tick behind across a second boundary */
	clock_gettime(CLOCK_REALTIME, &t0);
	ms = hlc_wall_ms();
	clock_gettime(CLOCK_REALTIME, &t1);
	a = (uint64_t)t0.tv_sec * 1000 + (uint64_t)t0.tv_nsec / 1000000;
	b = (uint64_t)t1.tv_sec * 1000 + (uint64_t)t1.tv_nsec / 1000000;
	assert_true(ms >= a);
	assert_true(ms <= b);
}

static void
expect_format(uint64_t ms, const char *text)
{
	char out[32];

	memset(out, 'x', sizeof(out));
	assert_int_equal(hlc_format_ms(ms, out, 25), 0);
	assert_string_equal(out, text);
	assert_int_equal(hlc_format(HLC_MAKE(ms, 0xabcd), out, sizeof(out)), 0);
	assert_string_equal(out, text);
}

static void
test_format(void **state)
{
	(void)state;
	expect_format(0, "1970-01-01T00:00:00.000Z");
	expect_format(1795344121123u, "2026-11-22T10:42:01.123Z");
	expect_format(1709251199999u, "2024-02-29T23:59:59.999Z");
	expect_format(946684800001u, "2000-01-01T00:00:00.001Z");
	expect_format(253402300799999u, "9999-12-31T23:59:59.999Z");
}

static void
test_format_errors(void **state)
{
	char out[32] = "untouched";

	(void)state;
	assert_int_equal(hlc_format_ms(1000, out, 24), JALIN_ETOOBIG);
	assert_int_equal(hlc_format_ms(1000, out, 0), JALIN_ETOOBIG);
	/* A 48-bit time part reaches year 10889: no 4-digit text for it. */
	assert_int_equal(
	    hlc_format_ms(253402300800000u, out, sizeof(out)), JALIN_EINVAL);
	assert_int_equal(
	    hlc_format(UINT64_MAX, out, sizeof(out)), JALIN_EINVAL);
	assert_int_equal(
	    hlc_format_ms(UINT64_MAX, out, sizeof(out)), JALIN_EINVAL);
	assert_string_equal(out, "untouched");
}

#define CLOCK_TEST(f) \
	cmocka_unit_test_setup_teardown(f, clock_setup, clock_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    CLOCK_TEST(test_now_follows_wall),
	    CLOCK_TEST(test_now_wall_backwards),
	    CLOCK_TEST(test_counter_overflow),
	    CLOCK_TEST(test_init_persisted),
	    CLOCK_TEST(test_wall_beyond_48_bits),
	    CLOCK_TEST(test_observe_skew),
	    CLOCK_TEST(test_observe_older),
	    CLOCK_TEST(test_observe_edges),
	    cmocka_unit_test(test_wall_ms),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_format_errors),
	};

	return cmocka_run_group_tests_name("hlc", tests, NULL, NULL);
}
