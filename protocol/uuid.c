/*
 * uuid.c - UUIDv7 record ids (RFC 9562) and the hex helpers for their text
 * forms.
 *
 * Layout: 48 bits of Unix milliseconds, version 7, 12 bits of counter
 * (rand_a, method 1), variant 10, 62 random bits. The counter makes one
 * generator's ids strictly increasing; the random tail keeps two nodes that
 * create records in the same millisecond apart.
 */
#include <string.h>

#include <openssl/rand.h>

#include "err.h"
#include "uuid.h"

#define UUID_MS_MAX  ((UINT64_C(1) << 48) - 1)
#define UUID_SEQ_MAX 0x0fffu
/* A new ms seeds the counter below the guard bit: >= 2048 ids before carry. */
#define UUID_SEQ_SEED 0x07ffu

static const char hexdig[] = "0123456789abcdef";

void
uuidgen_init(struct uuidgen *g)
{
	g->last_ms = 0;
	g->seq = 0;
	g->used = 0;
}

/*
 * Advance the generator to (ms, seq) strictly above the last id. A new
 * millisecond seeds the counter at random below the guard bit, so ids are
 * not guessable from their neighbours; when ms stands still or goes back
 * we count on from the last id, and a full counter carries into ms.
 */
static void
uuidgen_step(struct uuidgen *g, uint64_t ms, uint16_t seed)
{
	if (ms > UUID_MS_MAX)
		ms = UUID_MS_MAX;
	if (ms > g->last_ms) {
		g->last_ms = ms;
		g->seq = seed & UUID_SEQ_SEED;
	} else if (g->seq < UUID_SEQ_MAX) {
		g->seq++;
	} else {
		g->last_ms++;
		g->seq = 0;
	}
}

int
uuid_v7(struct uuidgen *g, uint64_t ms, uint8_t out[UUID_LEN])
{
	const uint8_t *rnd;
	int i;

	if (g->used == 0 || g->used + 10 > UUIDGEN_POOL) {
		if (RAND_bytes(g->pool, UUIDGEN_POOL) != 1)
			return JALIN_EIO;
		g->used = 0;
	}
	rnd = g->pool + g->used;
	g->used += 10;
	uuidgen_step(g, ms, (uint16_t)(rnd[8] << 8 | rnd[9]));
	for (i = 0; i < 6; i++)
		out[i] = (uint8_t)(g->last_ms >> (40 - 8 * i));
	out[6] = (uint8_t)(0x70 | (g->seq >> 8));
	out[7] = (uint8_t)g->seq;
	out[8] = (uint8_t)(0x80 | (rnd[0] & 0x3f));
	memcpy(out + 9, rnd + 1, 7);
	return 0;
}

/* Value of a hex digit in either case, or -1. */
static inline int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline int
is_dash_pos(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

int
uuid_parse(const char *s, size_t len, uint8_t out[UUID_LEN])
{
	char hex[2 * UUID_LEN];
	size_t i, j = 0;

	if (len != UUID_STR_LEN)
		return JALIN_EINVAL;
	for (i = 0; i < len; i++) {
		if (is_dash_pos(i) != (s[i] == '-'))
			return JALIN_EINVAL;
		if (!is_dash_pos(i))
			hex[j++] = s[i];
	}
	return hex_decode(hex, sizeof(hex), out, UUID_LEN);
}

void
uuid_format(const uint8_t id[UUID_LEN], char out[UUID_STR_LEN + 1])
{
	size_t i, j = 0;

	for (i = 0; i < UUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hexdig[id[i] >> 4];
		out[j++] = hexdig[id[i] & 0x0f];
	}
	out[j] = '\0';
}

uint64_t
uuid_v7_ms(const uint8_t id[UUID_LEN])
{
	uint64_t ms = 0;
	int i;

	if (id[6] >> 4 != 7)
		return 0;
	for (i = 0; i < 6; i++)
		ms = ms << 8 | id[i];
	return ms;
}

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

int
hex_decode(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t i;

	/* Check everything first: out is written only on success. */
	if (n > SIZE_MAX / 2 || slen != 2 * n)
		return JALIN_EINVAL;
	for (i = 0; i < slen; i++)
		if (hexval(s[i]) < 0)
			return JALIN_EINVAL;
	for (i = 0; i < n; i++)
		out[i] =
		    (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
	return 0;
}
