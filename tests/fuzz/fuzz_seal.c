/*
 * fuzz_seal.c - libFuzzer harness for the S! envelope decoders (seal.h):
 * each input is tried as the body of a sealed value (seal_value_check,
 * seal_open with a fixed data key) and as the body of a keys value
 * (seal_keys_check, seal_keys_has, seal_keys_open as node jabar with a
 * fixed X25519 key). Nothing may crash or read out of bounds; what opens
 * must also pass the shape check, with the lengths and kids it implies.
 * The input is also sealed as a plaintext and must open to itself.
 *
 * The seeds (corpus/seal/, written by mkseed_seal.py from PROTOCOL.md
 * §14's layouts, with Python's cryptography) open under the same fixed
 * keys, so mutations start from bodies that get past every check but
 * the tags. FUZZ_SEAL_SHOW=1 prints what each input opened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* Shared with mkseed_seal.py. */
static const uint8_t ID[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
static const struct seal_where W = {2, ID, 21};
static const uint8_t PRIV[] = "Jabar fuzz key 0123456789abcdefg";

static struct seal_ctx *x;
static EVP_PKEY *priv;
static struct seal_key keys[2]; /* "fuzzkid1" 01..20, "fuzzkid2" 21..40 */
static bool show;

static void
init(void)
{
	x = seal_ctx_new();
	priv = EVP_PKEY_new_raw_private_key(
	    EVP_PKEY_X25519, NULL, PRIV, sizeof(PRIV) - 1); /* no NUL */
	if (x == NULL || priv == NULL)
		abort();
	for (int k = 0; k < 2; k++) {
		memcpy(keys[k].kid, k == 0 ? "fuzzkid1" : "fuzzkid2", 8);
		for (int i = 0; i < SEAL_DK_LEN; i++)
			keys[k].dk[i] = (uint8_t)(1 + 32 * k + i);
	}
	show = getenv("FUZZ_SEAL_SHOW") != NULL;
}

static void
as_value(const uint8_t *d, size_t n, struct buf *plain)
{
	uint8_t kid[SEAL_KID_LEN];
	int rc;

	if (seal_value_check(d, n, NULL) == 0)
		seal_value_kid(d, kid);
	rc = seal_open(x, keys, 2, &W, d, n, plain, NULL);
	if (show)
		printf("fuzz_seal: value: %d\n", rc);
	if (rc == 0 &&
	    (seal_value_check(d, n, NULL) != 0 ||
	        plain->len != n - SEAL_OVERHEAD))
		abort();
	if (rc != 0 && plain->len != 0)
		abort(); /* nothing unauthenticated is left */
}

static void
as_keys(const uint8_t *d, size_t n)
{
	struct seal_key out[1 + SEAL_CHAIN_MAX];
	uint8_t kid[SEAL_KID_LEN];
	size_t k = 0;
	int rc;

	(void)seal_keys_has(d, n, "banten", 6);
	if (seal_keys_check(d, n, NULL) == 0)
		seal_keys_kid(d, kid);
	rc = seal_keys_open(
	    x, &W, d, n, "jabar", 5, priv, out, 1 + SEAL_CHAIN_MAX, &k, NULL);
	if (show)
		printf("fuzz_seal: keys: %d (%zu keys)\n", rc, k);
	if (rc != 0)
		return;
	if (seal_keys_check(d, n, NULL) != 0 ||
	    !seal_keys_has(d, n, "jabar", 5) || k == 0 ||
	    memcmp(out[0].kid, kid, SEAL_KID_LEN) != 0)
		abort();
	for (size_t i = 0; i < k; i++)
		seal_key_wipe(&out[i]);
}

/* The input sealed as a plaintext opens to itself, and not elsewhere. */
static void
round_trip(const uint8_t *d, size_t n, struct buf *a, struct buf *b)
{
	struct seal_where w2 = W;
	uint32_t len;
	const uint8_t *body;
	int8_t type;

	buf_reset(a);
	buf_reset(b);
	if (n == 0 || seal_value(x, &keys[1], &W, d, n, a, NULL) != 0)
		return;
	/* header: ext8 (2 bytes), ext16 (3) or ext32 (5), then the type */
	size_t h = a->p[0] == 0xc7 ? 2 : a->p[0] == 0xc8 ? 3 : 5;
	type = (int8_t)a->p[h];
	body = a->p + h + 1;
	len = (uint32_t)(a->len - h - 1);
	if (type != 2 || len != n + SEAL_OVERHEAD ||
	    seal_open(x, keys, 2, &W, body, len, b, NULL) != 0 || b->len != n ||
	    memcmp(b->p, d, n) != 0)
		abort();
	buf_reset(b);
	w2.tag++;
	if (seal_open(x, keys, 2, &w2, body, len, b, NULL) != JALIN_EPERM)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct buf a, b;

	if (x == NULL)
		init();
	buf_init(&a, JALIN_VALUE_MAX);
	buf_init(&b, JALIN_VALUE_MAX);
	as_value(d, n, &a);
	as_keys(d, n);
	round_trip(d, n, &a, &b);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
