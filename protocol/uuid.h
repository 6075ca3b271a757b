/*
 * uuid.h - record ids (UUIDv7, RFC 9562) and hex helpers.
 *
 * Ids are 16 bytes on the wire and in the store, 36 characters of lowercase
 * hex with dashes in JSON. UUIDv7 starts with the 48-bit Unix milliseconds,
 * so new ids sort by creation time and land at the end of the store's
 * B-tree (cheap inserts); within one millisecond the 12-bit rand_a field is
 * a counter (RFC 9562 method 1) so ids from one generator are increasing.
 */
#ifndef JALIN_UUID_H
#define JALIN_UUID_H

#include <stddef.h>
#include <stdint.h>

#define UUID_LEN     16
#define UUID_STR_LEN 36

#define UUIDGEN_POOL 640 /* random bytes fetched at a time (64 ids) */

struct uuidgen {
	uint64_t last_ms;
	uint16_t seq;  /* 12 bits used */
	uint16_t used; /* bytes of pool consumed */
	uint8_t pool[UUIDGEN_POOL];
};

void uuidgen_init(struct uuidgen *g);

/*
 * Next UUIDv7 for wall time ms: version 7, variant 10, random bits from
 * OpenSSL's RAND_bytes (fetched 64 ids at a time: one call per id cost a
 * system call each, which showed in import profiles). Strictly greater (memcmp)
 * than the previous id of the same generator, even if ms goes backwards. 0 or
 * JALIN_EIO (no randomness).
 */
int uuid_v7(struct uuidgen *g, uint64_t ms, uint8_t out[UUID_LEN]);

/* Parse exactly 36 characters "8-4-4-4-12" (hex in either case). Any
 * version is accepted. 0 or JALIN_EINVAL. */
int uuid_parse(const char *s, size_t len, uint8_t out[UUID_LEN]);

/* 36 lowercase characters plus NUL into out. */
void uuid_format(const uint8_t id[UUID_LEN], char out[UUID_STR_LEN + 1]);

/* Milliseconds of a UUIDv7 (0 for other versions). */
uint64_t uuid_v7_ms(const uint8_t id[UUID_LEN]);

/* Lowercase hex of n bytes into out (2n+1 bytes with NUL). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Decode exactly 2n hex characters (either case) into n bytes.
 * 0 or JALIN_EINVAL. */
int hex_decode(const char *s, size_t slen, uint8_t *out, size_t n);

#endif
