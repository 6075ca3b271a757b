/*
 * test_huff.c - the static byte code of record format 3: the table is a
 * complete canonical prefix code, and encode/decode round-trip with exactly
 * one accepted form per text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "huff.h"
#include "huff_table.h"

/* The codes are the canonical ones for the lengths (PROTOCOL.md §8.2):
 * shorter first, equal lengths by byte value; complete (Kraft sum 1) and
 * prefix-free; the decoding table agrees with both. */
static void
test_table_is_canonical(void **state)
{
	uint64_t kraft = 0; /* in units of 2^-HF_MAXLEN */
	uint32_t next = 0;
	unsigned prev = 0;

	(void)state;
	for (unsigned len = 1; len <= HF_MAXLEN; len++) {
		for (unsigned b = 0; b < 256; b++) {
			if (hf_len[b] != len)
				continue;
			next <<= len - prev;
			prev = len;
			assert_int_equal(hf_code[b], next);
			next++;
			kraft += 1u << (HF_MAXLEN - len);
		}
	}
	assert_int_equal(kraft, 1u << HF_MAXLEN);
	/* huff.h's bounds are the table's */
	unsigned shortest = 99, longest = 0;
	for (unsigned b = 0; b < 256; b++) {
		shortest = hf_len[b] < shortest ? hf_len[b] : shortest;
		longest = hf_len[b] > longest ? hf_len[b] : longest;
	}
	assert_int_equal(shortest, HF_MIN_BITS);
	assert_int_equal(longest, HF_MAX_BITS);
	/* padding with ones is safe: no code is all ones but the longest */
	for (unsigned b = 0; b < 256; b++)
		assert_true(hf_code[b] != (1u << hf_len[b]) - 1 ||
		    hf_len[b] == HF_MAXLEN);
	for (unsigned b = 0; b < 256; b++) {
		assert_true(hf_len[b] >= 1 && hf_len[b] <= HF_MAXLEN);
		unsigned lo = (unsigned)hf_code[b] << (HF_MAXLEN - hf_len[b]);
		for (unsigned j = 0; j < 1u << (HF_MAXLEN - hf_len[b]); j++)
			assert_int_equal(hf_dec[lo + j], b | hf_len[b] << 8);
	}
}

static void
round_trip(const uint8_t *s, size_t n)
{
	size_t bits = hf_bits(s, n), len = (bits + 7) / 8, got;
	uint8_t *c = malloc(len + 2), *d = malloc(n + 16);

	c[len] = 0xee; /* nothing written past the end */
	hf_encode(s, n, c);
	assert_int_equal(c[len], 0xee);
	assert_int_equal(hf_decode(c, len, d, n + 16, &got), 0);
	assert_int_equal(got, n);
	assert_memory_equal(d, s, n);
	assert_int_equal(hf_decode(c, len, NULL, SIZE_MAX, &got), 0);
	assert_int_equal(got, n);
	if (n > 0) {
		/* not room for all of it: refused */
		assert_int_equal(hf_decode(c, len, d, n - 1, &got), -1);
		/* padding is ones, fewer than 8: one more byte of ones is
		 * refused, or (with the padding, 11 ones) another text */
		c[len] = 0xff;
		if (hf_decode(c, len + 1, d, n + 16, &got) == 0)
			assert_int_equal(got, n + 1);
		if (bits % 8 != 0) {
			c[len - 1] &= (uint8_t)~1u;
			assert_int_equal(
			    hf_decode(c, len, d, n + 16, &got), -1);
		}
	}
	free(c);
	free(d);
}

static void
test_round_trip(void **state)
{
	static const char *texts[] = {"", "Dinas Sosial Kabupaten Gowa",
	    "Klien dipasung oleh keluarga selama tiga tahun di belakang rumah; "
	    "dirujuk ke Sentra Wirajaya Makassar untuk rehabilitasi sosial.",
	    "yayasan.nurul.iman@gmail.com", "0877-1740-7322",
	    "AHU-0045540.AH.01.04.Tahun 2017"};
	uint8_t all[256 * 3];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		round_trip((const uint8_t *)texts[i], strlen(texts[i]));
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)(i * 7);
	round_trip(all, sizeof(all));
	/* random texts of every length up to 300 */
	srand(7);
	for (size_t n = 0; n < 300; n++) {
		uint8_t buf[300];
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(rand() % 3 ? 'a' + rand() % 26
			                              : rand() % 256);
		round_trip(buf, n);
	}
	/* Indonesian text takes well under 8 bits a byte */
	const char *t = texts[2];
	assert_true(hf_bits((const uint8_t *)t, strlen(t)) < 6 * strlen(t));
}

/* Any bytes given to the decoder: it never reads or writes out of bounds
 * (run under ASan), and what it accepts encodes back to the same bytes:
 * one form per text. */
static void
test_decode_any_bytes(void **state)
{
	uint8_t in[64], out[200], again[64];
	size_t n, ok = 0;

	(void)state;
	srand(11);
	for (int k = 0; k < 50000; k++) {
		size_t len = (size_t)(rand() % 64),
		       cap = (size_t)(rand() % 200);
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)rand();
		if (rand() % 2 && len > 0) /* often end in valid padding */
			in[len - 1] |= (uint8_t)((1u << (rand() % 8)) - 1);
		if (hf_decode(in, len, out, cap, &n) != 0)
			continue;
		ok++;
		assert_true(n <= cap);
		assert_int_equal((hf_bits(out, n) + 7) / 8, len);
		hf_encode(out, n, again);
		assert_memory_equal(again, in, len);
	}
	assert_true(ok > 1000); /* the property was tested, not skipped */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_is_canonical),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_decode_any_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
