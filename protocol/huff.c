/*
 * huff.c - the static byte code of record format 3 (see huff.h).
 */
#include <string.h>

#include "huff.h"

#include "huff_table.h"

_Static_assert(HF_MAXLEN == HF_MAX_BITS, "huff.h's bound is the table's");

size_t
hf_bits(const uint8_t *s, size_t n)
{
	size_t bits = 0;

	for (size_t i = 0; i < n; i++)
		bits += hf_len[s[i]];
	return bits;
}

void
hf_encode(const uint8_t *s, size_t n, uint8_t *out)
{
	uint64_t acc = 0; /* the low k bits are pending */
	unsigned k = 0;

	for (size_t i = 0; i < n; i++) {
		acc = acc << hf_len[s[i]] | hf_code[s[i]];
		k += hf_len[s[i]];
		if (k >= 32) {
			k -= 32;
			uint32_t w = (uint32_t)(acc >> k);
			out[0] = (uint8_t)(w >> 24);
			out[1] = (uint8_t)(w >> 16);
			out[2] = (uint8_t)(w >> 8);
			out[3] = (uint8_t)w;
			out += 4;
		}
	}
	while (k >= 8) {
		k -= 8;
		*out++ = (uint8_t)(acc >> k);
	}
	if (k > 0) /* pad with one bits: a prefix of the longest code */
		*out =
		    (uint8_t)(acc << (8 - k)) | (uint8_t)((1u << (8 - k)) - 1);
}

static inline uint64_t
load_be64(const uint8_t *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
	    (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 |
	    (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

static inline void
put3(uint8_t *out, size_t i, uint32_t e)
{
	out[i] = (uint8_t)e;
	out[i + 1] = (uint8_t)(e >> 8);
	out[i + 2] = (uint8_t)(e >> 16);
}

/*
 * Table decoding: HF_WIN bits (up to three codes) a lookup, four lookups a
 * load, while 8 bytes can be loaded in place and 12 more output bytes fit;
 * then one code a lookup, the last 8 bytes loaded from a copy padded with
 * ones. Four windows of 12 bits stay clear of the padding: it is within
 * the last 7 of the 57 or more bits a load brings.
 */
int
hf_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *n)
{
	uint8_t pad[16];
	size_t i = 0, bp = 0, base = len > 8 ? len - 8 : 0;

	while ((bp >> 3) + 8 <= len && i + 12 <= cap) {
		uint64_t acc = load_be64(in + (bp >> 3)) << (bp & 7);
		unsigned used = 0;
		for (int k = 0; k < 4; k++) {
			uint32_t e = hf_dec3[(acc << used) >> (64 - HF_WIN)];
			if (out != NULL)
				put3(out, i, e);
			i += (e >> 24) & 3u;
			used += e >> 26;
		}
		bp += used;
	}
	memset(pad, 0xff, sizeof(pad));
	if (len > 0)
		memcpy(pad, in + base, len - base);
	while (bp < 8 * len) {
		const uint8_t *p = (bp >> 3) + 8 <= len
		    ? in + (bp >> 3)
		    : pad + ((bp >> 3) - base);
		uint16_t e =
		    hf_dec[(load_be64(p) << (bp & 7)) >> (64 - HF_MAXLEN)];
		unsigned l = e >> 8;
		if (bp + l > 8 * len) {
			/* past the end: what is left must be the padding,
			 * fewer than 8 one bits */
			size_t r = 8 * len - bp;
			uint8_t ones = (uint8_t)((1u << r) - 1);
			if (r > 7 || (in[len - 1] & ones) != ones)
				return -1;
			break;
		}
		if (i >= cap)
			return -1;
		if (out != NULL)
			out[i] = (uint8_t)e;
		i++;
		bp += l;
	}
	*n = i;
	return 0;
}
