/*
 * test_crc32c.c - CRC-32C against the published check value and across
 * lengths and alignments (the hardware path against the table).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crc32c.h"

static void
test_check_value(void **state)
{
	(void)state;
	/* RFC 3720 B.4 and the CRC catalogue: "123456789" -> e3069283 */
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(crc32c(0, "", 0), 0);
	/* 32 bytes of zeros, RFC 3720 B.4 */
	static const uint8_t zeros[32];
	assert_int_equal(crc32c(0, zeros, sizeof(zeros)), 0x8a9136aau);
}

static void
test_incremental_and_unaligned(void **state)
{
	uint8_t buf[300];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (size_t off = 0; off < 8; off++) {
		for (size_t n = 0; n + off <= sizeof(buf); n += 13) {
			uint32_t whole = crc32c(0, buf + off, n);
			size_t cut = n / 3;
			uint32_t part = crc32c(crc32c(0, buf + off, cut),
			    buf + off + cut, n - cut);
			assert_int_equal(whole, part);
		}
	}
	/* a flipped bit changes it */
	uint32_t a = crc32c(0, buf, sizeof(buf));
	buf[150] ^= 0x10;
	assert_int_not_equal(a, crc32c(0, buf, sizeof(buf)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_value),
	    cmocka_unit_test(test_incremental_and_unaligned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
