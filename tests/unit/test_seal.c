/*
 * test_seal.c - envelope encryption of S! values (protocol/seal.h,
 * PROTOCOL.md §14): a sealed value opens with its key only, in its own
 * field of its own record, and not once one byte of it or of where it sits
 * changes; a keys value opens for each of its recipients and for no other
 * node, and not once a wrap or the chain is touched; a node taken out of
 * the recipients keeps the old key only. Every cut or malformed body is
 * refused with a message. The layouts are checked against an independent
 * decoding with plain EVP calls, so seal.c cannot drift from what seal.h
 * and PROTOCOL.md say.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "buf.h"
#include "err.h"
#include "mp.h"
#include "record.h"
#include "seal.h"

#define COLL  2
#define TAG   21
#define NODES 4 /* banten, jabar, sulsel: recipients; pusat: not */

static const uint8_t ID[16] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t ID2[16] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17};
static const char *const NAME[NODES] = {"banten", "jabar", "sulsel", "pusat"};

/* msgpack values: a short str, a list of two str, a map {"a": 1, "b": "x"}.
 */
static const uint8_t V_SHORT[] = {0xb0, '3', '2', '7', '3', '0', '1', '1', '2',
    '0', '3', '8', '5', '0', '0', '0', '1'};
static const uint8_t V_LIST[] = {
    0x92, 0xa5, 'a', 's', 'm', 'a', ' ', 0xa3, 'T', 'B', 'C'};
static const uint8_t V_MAP[] = {0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0xa1, 'x'};

struct t {
	struct seal_ctx *x;
	EVP_PKEY *priv[NODES];
	EVP_PKEY *pub[NODES]; /* public only, as a roster would give it */
	struct seal_key k, k2, k3;
	struct seal_where w;
	struct buf out, plain;
	struct jalin_err err;
};

static EVP_PKEY *
x25519_new(void)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
	EVP_PKEY *k = NULL;

	if (c == NULL || EVP_PKEY_keygen_init(c) != 1 ||
	    EVP_PKEY_keygen(c, &k) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(c);
	return k;
}

static EVP_PKEY *
pub_of(EVP_PKEY *priv)
{
	uint8_t raw[SEAL_PUB_LEN];
	size_t n = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(priv, raw, &n) != 1)
		return NULL;
	return EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, raw, n);
}

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->x = seal_ctx_new()) == NULL)
		return -1;
	for (int i = 0; i < NODES; i++)
		if ((t->priv[i] = x25519_new()) == NULL ||
		    (t->pub[i] = pub_of(t->priv[i])) == NULL)
			return -1;
	if (seal_key_new(&t->k) != 0 || seal_key_new(&t->k2) != 0 ||
	    seal_key_new(&t->k3) != 0)
		return -1;
	t->w = (struct seal_where){COLL, ID, TAG};
	buf_init(&t->out, JALIN_RECORD_MAX);
	buf_init(&t->plain, JALIN_RECORD_MAX);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	for (int i = 0; i < NODES; i++) {
		EVP_PKEY_free(t->priv[i]);
		EVP_PKEY_free(t->pub[i]);
	}
	seal_ctx_free(t->x);
	buf_free(&t->out);
	buf_free(&t->plain);
	free(t);
	return 0;
}

/* The body of the one ext object of type type that out holds. */
static const uint8_t *
ext_body(const struct buf *out, int8_t want, size_t *len)
{
	const uint8_t *d;
	uint32_t n;
	int8_t type;
	struct mpr m;

	mpr_init(&m, out->p, out->len);
	assert_int_equal(mpr_ext(&m, &type, &d, &n), 0);
	assert_int_equal(type, want);
	assert_int_equal(mpr_left(&m), 0);
	/* the smallest header, as a canonical state needs */
	assert_int_equal(mp_canonical_ext(out->p, out->len, 0, want, NULL), 0);
	*len = n;
	return d;
}

static const uint8_t *
seal(struct t *t, const struct seal_key *k, const uint8_t *v, size_t n,
    size_t *blen)
{
	buf_reset(&t->out);
	assert_int_equal(seal_value(t->x, k, &t->w, v, n, &t->out, &t->err), 0);
	return ext_body(&t->out, REC_SEALED_EXT, blen);
}

static int
open_v(struct t *t, const struct seal_key *keys, size_t n,
    const struct seal_where *w, const uint8_t *b, size_t len)
{
	buf_reset(&t->plain);
	jalin_err_clear(&t->err);
	return seal_open(t->x, keys, n, w, b, len, &t->plain, &t->err);
}

/* b[0..*len) to dst: a function, so *len is read after the call that
 * sets it. */
static void
copy(uint8_t *dst, const uint8_t *b, const size_t *len)
{
	memcpy(dst, b, *len);
}

static void
round_trip(struct t *t, const uint8_t *v, size_t n)
{
	const uint8_t *b;
	size_t blen;

	b = seal(t, &t->k, v, n, &blen);
	assert_int_equal(blen, n + SEAL_OVERHEAD);
	assert_int_equal(seal_value_check(b, blen, &t->err), 0);
	uint8_t kid[SEAL_KID_LEN];
	seal_value_kid(b, kid);
	assert_memory_equal(kid, t->k.kid, SEAL_KID_LEN);
	assert_int_equal(open_v(t, &t->k, 1, &t->w, b, blen), 0);
	assert_int_equal(t->plain.len, n);
	assert_memory_equal(t->plain.p, v, n);
	/* the plaintext does not show in the body */
	for (size_t i = 0; n >= 9 && i + 8 <= blen; i++)
		assert_memory_not_equal(b + i, v + 1, 8);
}

/* Short, long (8 KiB str16), list and map values come back as sealed. */
static void
test_value_round_trip(void **state)
{
	struct t *t = *state;
	static uint8_t big[3 + 8192];

	round_trip(t, V_SHORT, sizeof(V_SHORT));
	round_trip(t, V_LIST, sizeof(V_LIST));
	round_trip(t, V_MAP, sizeof(V_MAP));
	round_trip(t, (const uint8_t[]){0x2a}, 1);
	big[0] = 0xda;
	big[1] = (uint8_t)((sizeof(big) - 3) >> 8);
	big[2] = (uint8_t)(sizeof(big) - 3);
	for (size_t i = 3; i < sizeof(big); i++)
		big[i] = (uint8_t)('a' + i % 26);
	round_trip(t, big, sizeof(big));
	for (size_t n = 1; n <= 300; n++) /* every ext header length */
		round_trip(t, big + 3, n);
}

/* The same value sealed twice: two nonces, two ciphertexts. */
static void
test_value_fresh_nonce(void **state)
{
	struct t *t = *state;
	uint8_t a[sizeof(V_SHORT) + SEAL_OVERHEAD];
	const uint8_t *b;
	size_t blen;

	b = seal(t, &t->k, V_SHORT, sizeof(V_SHORT), &blen);
	memcpy(a, b, sizeof(a));
	b = seal(t, &t->k, V_SHORT, sizeof(V_SHORT), &blen);
	assert_memory_not_equal(
	    a + 1 + SEAL_KID_LEN, b + 1 + SEAL_KID_LEN, SEAL_NONCE_LEN);
	assert_memory_not_equal(a + 21, b + 21, sizeof(V_SHORT));
}

/* A forked child seals with nonces of its own, not the ones its parent
 * draws next from the same context (the pool is wiped in the child). */
static void
test_value_nonce_after_fork(void **state)
{
	struct t *t = *state;
	uint8_t mine[SEAL_NONCE_LEN], child[SEAL_NONCE_LEN];
	const uint8_t *b;
	size_t blen;
	int fd[2], st;
	pid_t pid;

	(void)seal(t, &t->k, V_SHORT, sizeof(V_SHORT), &blen); /* a pool */
	assert_int_equal(pipe(fd), 0);
	if ((pid = fork()) == 0) {
		b = seal(t, &t->k, V_SHORT, sizeof(V_SHORT), &blen);
		_exit(write(fd[1], b + 1 + SEAL_KID_LEN, SEAL_NONCE_LEN) ==
		            SEAL_NONCE_LEN
		        ? 0
		        : 1);
	}
	assert_true(pid > 0);
	b = seal(t, &t->k, V_SHORT, sizeof(V_SHORT), &blen);
	memcpy(mine, b + 1 + SEAL_KID_LEN, SEAL_NONCE_LEN);
	assert_int_equal(read(fd[0], child, sizeof(child)), sizeof(child));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd[0]);
	close(fd[1]);
	assert_memory_not_equal(mine, child, SEAL_NONCE_LEN);
}

/* A key with another kid is not found; one with the kid but other bytes
 * does not open; the right key among others does. */
static void
test_value_wrong_key(void **state)
{
	struct t *t = *state;
	struct seal_key ring[3], forged = t->k2;
	const uint8_t *b;
	size_t blen;

	b = seal(t, &t->k, V_SHORT, sizeof(V_SHORT), &blen);
	assert_int_equal(open_v(t, &t->k2, 1, &t->w, b, blen), JALIN_ENOTFOUND);
	assert_string_equal(t->err.msg,
	    "sealed value of field 21: no key with its key id (this node is "
	    "not a recipient)");
	assert_int_equal(open_v(t, NULL, 0, &t->w, b, blen), JALIN_ENOTFOUND);
	memcpy(forged.kid, t->k.kid, SEAL_KID_LEN);
	assert_int_equal(open_v(t, &forged, 1, &t->w, b, blen), JALIN_EPERM);
	assert_string_equal(t->err.msg,
	    "sealed value of field 21 does not open (tampered, moved from "
	    "another field or record, or a wrong key)");
	assert_int_equal(t->plain.len, 0);
	ring[0] = t->k3;
	ring[1] = t->k2;
	ring[2] = t->k;
	assert_int_equal(open_v(t, ring, 3, &t->w, b, blen), 0);
	assert_memory_equal(t->plain.p, V_SHORT, sizeof(V_SHORT));
}

/* Every byte of a body flipped: the version is malformed, a kid is not
 * found (and with a key of that kid does not open: the kid is bound), the
 * nonce, ciphertext and tag do not open. Nothing is appended to plain. */
static void
test_value_tampered(void **state)
{
	struct t *t = *state;
	uint8_t b[sizeof(V_LIST) + SEAL_OVERHEAD];
	struct seal_key ring[2];
	size_t blen;

	copy(b, seal(t, &t->k, V_LIST, sizeof(V_LIST), &blen), &blen);
	assert_int_equal(blen, sizeof(b));
	for (size_t i = 0; i < blen; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			b[i] ^= (uint8_t)(1u << bit);
			ring[0] = t->k;
			ring[1] = t->k;
			memcpy(ring[1].kid, b + 1, SEAL_KID_LEN);
			int rc = open_v(t, ring, 2, &t->w, b, blen);
			int want = i == 0 ? JALIN_EPROTO : JALIN_EPERM;
			assert_int_equal(rc, want);
			assert_int_equal(t->plain.len, 0);
			if (i >= 1 && i <= SEAL_KID_LEN)
				assert_int_equal(
				    open_v(t, &t->k, 1, &t->w, b, blen),
				    JALIN_ENOTFOUND);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(open_v(t, &t->k, 1, &t->w, b, blen), 0);
	b[0] = 2;
	assert_int_equal(open_v(t, &t->k, 1, &t->w, b, blen), JALIN_EPROTO);
	assert_string_equal(t->err.msg, "sealed value: version 2 (expected 1)");
}

/* A value moved to another field, record or collection does not open. */
static void
test_value_moved(void **state)
{
	struct t *t = *state;
	struct seal_where w;
	const uint8_t *b;
	size_t blen;

	b = seal(t, &t->k, V_SHORT, sizeof(V_SHORT), &blen);
	w = (struct seal_where){COLL, ID, TAG + 1};
	assert_int_equal(open_v(t, &t->k, 1, &w, b, blen), JALIN_EPERM);
	w = (struct seal_where){COLL, ID, TAG + 256}; /* the tag's high byte */
	assert_int_equal(open_v(t, &t->k, 1, &w, b, blen), JALIN_EPERM);
	w = (struct seal_where){COLL, ID2, TAG};
	assert_int_equal(open_v(t, &t->k, 1, &w, b, blen), JALIN_EPERM);
	w = (struct seal_where){COLL + 1, ID, TAG};
	assert_int_equal(open_v(t, &t->k, 1, &w, b, blen), JALIN_EPERM);
	assert_int_equal(open_v(t, &t->k, 1, &t->w, b, blen), 0);
}

/* A body cut at every length: malformed up to the overhead, then the tag
 * does not check. A body with a byte more does not open either. */
static void
test_value_truncated(void **state)
{
	struct t *t = *state;
	uint8_t b[sizeof(V_MAP) + SEAL_OVERHEAD + 1];
	size_t blen;

	copy(b, seal(t, &t->k, V_MAP, sizeof(V_MAP), &blen), &blen);
	for (size_t n = 0; n < blen; n++) {
		int want = n <= SEAL_OVERHEAD ? JALIN_EPROTO : JALIN_EPERM;
		assert_int_equal(open_v(t, &t->k, 1, &t->w, b, n), want);
		assert_int_equal(seal_value_check(b, n, NULL),
		    n <= SEAL_OVERHEAD ? JALIN_EPROTO : 0);
	}
	assert_int_equal(
	    open_v(t, &t->k, 1, &t->w, b, SEAL_OVERHEAD), JALIN_EPROTO);
	assert_string_equal(
	    t->err.msg, "sealed value: body of 37 bytes is cut (at least 38)");
	b[blen] = 0;
	assert_int_equal(open_v(t, &t->k, 1, &t->w, b, blen + 1), JALIN_EPERM);
}

/* seal_value's limits: an empty value, one too long for a field, an out
 * buffer that is full (left as it was). */
static void
test_value_limits(void **state)
{
	struct t *t = *state;
	static uint8_t big[JALIN_VALUE_MAX];
	size_t fit = JALIN_VALUE_MAX - 4 - SEAL_OVERHEAD; /* ext16 header */
	struct buf small;

	assert_int_equal(
	    seal_value(t->x, &t->k, &t->w, V_SHORT, 0, &t->out, &t->err),
	    JALIN_EINVAL);
	assert_string_equal(t->err.msg,
	    "seal: field 21: empty value (a msgpack object is needed)");
	jalin_err_clear(&t->err);
	buf_reset(&t->out);
	assert_int_equal(
	    seal_value(t->x, &t->k, &t->w, big, fit, &t->out, &t->err), 0);
	assert_int_equal(t->out.len, JALIN_VALUE_MAX);
	assert_int_equal(
	    seal_value(t->x, &t->k, &t->w, big, fit + 1, &t->out, &t->err),
	    JALIN_ETOOBIG);
	assert_string_equal(t->err.msg,
	    "seal: field 21: sealed value of 65537 bytes exceeds limit 65536");
	jalin_err_clear(&t->err);
	buf_init(&small, 40);
	assert_int_equal(seal_value(t->x, &t->k, &t->w, V_SHORT,
	                     sizeof(V_SHORT), &small, &t->err),
	    JALIN_ETOOBIG);
	assert_int_equal(small.len, 0);
	buf_free(&small);
	static uint8_t over[JALIN_VALUE_MAX + 1] = {SEAL_VERSION};
	assert_int_equal(
	    seal_value_check(over, sizeof(over), &t->err), JALIN_EPROTO);
}

/* Fresh keys differ; a wiped key is zeros. */
static void
test_key_new_wipe(void **state)
{
	struct t *t = *state;
	struct seal_key z = {0};

	assert_memory_not_equal(t->k.kid, t->k2.kid, SEAL_KID_LEN);
	assert_memory_not_equal(t->k.dk, t->k2.dk, SEAL_DK_LEN);
	seal_key_wipe(&t->k3);
	assert_memory_equal(&t->k3, &z, sizeof(z));
}

/* --- keys values ------------------------------------------------------ */

/* Recipients i in idx (sorted by name). */
static size_t
recipients(struct t *t, const int *idx, size_t n, struct seal_recipient *r)
{
	for (size_t i = 0; i < n; i++)
		r[i] = (struct seal_recipient){NAME[idx[i]],
		    (uint8_t)strlen(NAME[idx[i]]), t->pub[idx[i]]};
	return n;
}

static const uint8_t *
build(struct t *t, const struct seal_key *cur, const struct seal_key *older,
    size_t nolder, const int *idx, size_t n, size_t *blen)
{
	struct seal_recipient r[NODES];

	buf_reset(&t->out);
	recipients(t, idx, n, r);
	assert_int_equal(seal_keys_build(t->x, &t->w, cur, older, nolder, r, n,
	                     &t->out, &t->err),
	    0);
	return ext_body(&t->out, REC_KEYS_EXT, blen);
}

static int
open_k(struct t *t, const uint8_t *b, size_t len, int who, EVP_PKEY *priv,
    struct seal_key *out, size_t max, size_t *n)
{
	jalin_err_clear(&t->err);
	return seal_keys_open(t->x, &t->w, b, len, NAME[who], strlen(NAME[who]),
	    priv, out, max, n, &t->err);
}

static const int THREE[] = {0, 1, 2}; /* banten, jabar, sulsel */

/* Each recipient opens the current key and the chain; a smaller out gets
 * the newest keys; seal_keys_has and seal_keys_kid read the body. */
static void
test_keys_round_trip(void **state)
{
	struct t *t = *state;
	struct seal_key older[2] = {t->k2, t->k3}, out[SEAL_CHAIN_MAX + 1];
	const uint8_t *b;
	size_t blen, n;
	uint8_t kid[SEAL_KID_LEN];

	b = build(t, &t->k, older, 2, THREE, 3, &blen);
	assert_int_equal(blen,
	    42 + 3 * (1 + SEAL_WRAP_LEN) + 6 + 5 + 6 + 1 + 12 + 2 * 40 + 16);
	assert_int_equal(seal_keys_check(b, blen, &t->err), 0);
	seal_keys_kid(b, kid);
	assert_memory_equal(kid, t->k.kid, SEAL_KID_LEN);
	for (int i = 0; i < 3; i++) {
		assert_true(seal_keys_has(b, blen, NAME[i], strlen(NAME[i])));
		assert_int_equal(open_k(t, b, blen, i, t->priv[i], out,
		                     SEAL_CHAIN_MAX + 1, &n),
		    0);
		assert_int_equal(n, 3);
		assert_memory_equal(&out[0], &t->k, sizeof(t->k));
		assert_memory_equal(&out[1], &t->k2, sizeof(t->k));
		assert_memory_equal(&out[2], &t->k3, sizeof(t->k));
	}
	assert_false(seal_keys_has(b, blen, "pusat", 5));
	assert_false(seal_keys_has(b, blen, "jaba", 4));
	assert_false(seal_keys_has(b, blen, "jabarx", 6));
	assert_int_equal(open_k(t, b, blen, 1, t->priv[1], out, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(&out[0], &t->k, sizeof(t->k));
	assert_int_equal(open_k(t, b, blen, 1, t->priv[1], out, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(
	    open_k(t, b, blen, 1, t->priv[1], out, 0, &n), JALIN_EINVAL);
	/* no chain */
	b = build(t, &t->k, NULL, 0, THREE + 1, 1, &blen);
	assert_int_equal(blen, 42 + 1 + 5 + SEAL_WRAP_LEN + 1);
	assert_int_equal(open_k(t, b, blen, 1, t->priv[1], out, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(&out[0], &t->k, sizeof(t->k));
}

/* A node without a wrap is told so; a node's name with another node's
 * key does not open; nor does a wrap for another record. */
static void
test_keys_not_recipient(void **state)
{
	struct t *t = *state;
	struct seal_key out[4];
	struct seal_where w = t->w;
	const uint8_t *b;
	size_t blen, n = 99;

	b = build(t, &t->k, &t->k2, 1, THREE, 3, &blen);
	assert_int_equal(
	    open_k(t, b, blen, 3, t->priv[3], out, 4, &n), JALIN_ENOTFOUND);
	assert_string_equal(
	    t->err.msg, "keys: no wrap for pusat (not a recipient)");
	assert_int_equal(
	    open_k(t, b, blen, 1, t->priv[3], out, 4, &n), JALIN_EPERM);
	assert_string_equal(t->err.msg,
	    "keys: the wrap for jabar does not open (tampered or another "
	    "key)");
	assert_int_equal(n, 99);
	w.id = ID2;
	assert_int_equal(seal_keys_open(t->x, &w, b, blen, "jabar", 5,
	                     t->priv[1], out, 4, &n, NULL),
	    JALIN_EPERM);
	w = (struct seal_where){COLL + 1, ID, 0};
	assert_int_equal(seal_keys_open(t->x, &w, b, blen, "jabar", 5,
	                     t->priv[1], out, 4, &n, NULL),
	    JALIN_EPERM);
	w = (struct seal_where){COLL, ID, 999}; /* tag unused for keys */
	assert_int_equal(seal_keys_open(t->x, &w, b, blen, "jabar", 5,
	                     t->priv[1], out, 4, &n, NULL),
	    0);
}

/* Where the entry of recipient who starts in a keys body for THREE. */
static size_t
entry_at(int who)
{
	size_t off = 42;

	for (int i = 0; i < who; i++)
		off += 1 + strlen(NAME[i]) + SEAL_WRAP_LEN;
	return off;
}

/* What opening as jabar gives with byte i of a keys body for THREE with a
 * chain of one flipped (bit 0). */
static int
tampered_want(size_t i)
{
	size_t jb = entry_at(1), se = entry_at(2), m = entry_at(3);

	if (i == 0 || i == 41 || i == jb || i == m)
		return JALIN_EPROTO; /* version, n, a length, m */
	if (i > jb && i <= jb + 5)
		return JALIN_ENOTFOUND; /* jabar's name: another name */
	if (i < 42 || (i > jb + 5 && i < se) || i > m)
		return JALIN_EPERM; /* kid, eph, jabar's wrap, the chain */
	if (i == 42 || i == se)
		return JALIN_EPROTO; /* another recipient's name length */
	return 0; /* another recipient's name (still in order) or wrap */
}

/* Every byte flipped: opening as jabar fails as tampered_want says; when
 * it does not fail, jabar gets its keys unchanged. */
static void
test_keys_tampered(void **state)
{
	struct t *t = *state;
	struct seal_key out[4];
	uint8_t b[512];
	size_t blen, n;

	copy(b, build(t, &t->k, &t->k2, 1, THREE, 3, &blen), &blen);
	assert_int_equal(blen, entry_at(3) + 1 + 12 + 40 + 16);
	for (size_t i = 0; i < blen; i++) {
		b[i] ^= 0x01;
		int rc = open_k(t, b, blen, 1, t->priv[1], out, 4, &n);
		if (rc != tampered_want(i))
			fail_msg("byte %zu: %d (%s), expected %d", i, rc,
			    t->err.msg, tampered_want(i));
		if (rc == 0) {
			assert_int_equal(n, 2);
			assert_memory_equal(&out[0], &t->k, sizeof(t->k));
			assert_memory_equal(&out[1], &t->k2, sizeof(t->k));
		}
		b[i] ^= 0x01;
	}
	assert_int_equal(open_k(t, b, blen, 1, t->priv[1], out, 4, &n), 0);
	/* the chain's tag: the wrap opens, the chain does not */
	b[blen - 1] ^= 0x80;
	assert_int_equal(
	    open_k(t, b, blen, 1, t->priv[1], out, 4, &n), JALIN_EPERM);
	assert_string_equal(
	    t->err.msg, "keys: chain of older keys does not open (tampered)");
	b[blen - 1] ^= 0x80;
	/* an ephemeral key of a low order (zero): X25519 refuses it */
	memset(b + 9, 0, SEAL_PUB_LEN);
	assert_int_equal(
	    open_k(t, b, blen, 1, t->priv[1], out, 4, &n), JALIN_EPERM);
}

/* Cut at every length, or one byte more: malformed. */
static void
test_keys_truncated(void **state)
{
	struct t *t = *state;
	struct seal_key out[4];
	uint8_t b[512];
	size_t blen, n;

	copy(b, build(t, &t->k, &t->k2, 1, THREE, 3, &blen), &blen);
	for (size_t i = 0; i < blen; i++) {
		assert_int_equal(seal_keys_check(b, i, NULL), JALIN_EPROTO);
		assert_int_equal(
		    open_k(t, b, i, 1, t->priv[1], out, 4, &n), JALIN_EPROTO);
		assert_false(seal_keys_has(b, i, "banten", 6));
	}
	b[blen] = 0;
	jalin_err_clear(&t->err);
	assert_int_equal(seal_keys_check(b, blen + 1, &t->err), JALIN_EPROTO);
	assert_string_equal(
	    t->err.msg, "keys: 1 trailing bytes after the chain");
	jalin_err_clear(&t->err);
	assert_int_equal(seal_keys_check(b, 10, &t->err), JALIN_EPROTO);
	assert_string_equal(
	    t->err.msg, "keys: body of 10 bytes is cut (at least 93)");
	jalin_err_clear(&t->err);
	assert_int_equal(seal_keys_check(b, blen - 1, &t->err), JALIN_EPROTO);
	assert_string_equal(
	    t->err.msg, "keys: chain of 1 keys cut (67 bytes, needs 68)");
}

/* Rotation: the new key for jabar and sulsel, the old one in the chain.
 * banten, taken out, cannot open the new keys value nor a value sealed
 * under the new key; it still opens what was sealed for it before. */
static void
test_keys_rotation(void **state)
{
	struct t *t = *state;
	static const int TWO[] = {1, 2};
	uint8_t v1[64], v2[64], kv2[512];
	struct seal_key bk[4], sk[4];
	size_t l1, l2, kl2, n;
	const uint8_t *b;

	b = build(t, &t->k, NULL, 0, THREE, 3, &n);
	assert_int_equal(open_k(t, b, n, 0, t->priv[0], bk, 4, &n), 0);
	copy(v1, seal(t, &t->k, V_SHORT, sizeof(V_SHORT), &l1), &l1);
	copy(kv2, build(t, &t->k2, &t->k, 1, TWO, 2, &kl2), &kl2);
	copy(v2, seal(t, &t->k2, V_LIST, sizeof(V_LIST), &l2), &l2);

	assert_int_equal(
	    open_k(t, kv2, kl2, 0, t->priv[0], bk + 1, 3, &n), JALIN_ENOTFOUND);
	assert_false(seal_keys_has(kv2, kl2, "banten", 6));
	assert_int_equal(open_v(t, bk, 1, &t->w, v1, l1), 0);
	assert_int_equal(open_v(t, bk, 1, &t->w, v2, l2), JALIN_ENOTFOUND);

	assert_int_equal(open_k(t, kv2, kl2, 2, t->priv[2], sk, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(open_v(t, sk, n, &t->w, v1, l1), 0);
	assert_memory_equal(t->plain.p, V_SHORT, sizeof(V_SHORT));
	assert_int_equal(open_v(t, sk, n, &t->w, v2, l2), 0);
	assert_memory_equal(t->plain.p, V_LIST, sizeof(V_LIST));
}

/* seal_ctx_eph_reuse(3): three keys values share an ephemeral key, the
 * fourth has a new one; each still opens for each recipient only, and a
 * recipient's wraps differ from record to record. By default each keys
 * value has its own. */
static void
test_keys_eph_reuse(void **state)
{
	struct t *t = *state;
	uint8_t kv[4][512], id[4][16];
	size_t len[4], n;
	struct seal_key out[2];

	seal_ctx_eph_reuse(t->x, 3);
	for (int i = 0; i < 4; i++) {
		memcpy(id[i], ID, 16);
		id[i][0] = (uint8_t)i;
		t->w.id = id[i];
		copy(kv[i], build(t, &t->k, &t->k2, 1, THREE, 3, &len[i]),
		    &len[i]);
	}
	assert_memory_equal(kv[0] + 9, kv[1] + 9, SEAL_PUB_LEN);
	assert_memory_equal(kv[0] + 9, kv[2] + 9, SEAL_PUB_LEN);
	assert_memory_not_equal(kv[2] + 9, kv[3] + 9, SEAL_PUB_LEN);
	assert_memory_not_equal(
	    kv[0] + entry_at(1) + 6, kv[1] + entry_at(1) + 6, SEAL_WRAP_LEN);
	for (int i = 0; i < 4; i++) {
		t->w.id = id[i];
		for (int who = 0; who < 3; who++) {
			assert_int_equal(open_k(t, kv[i], len[i], who,
			                     t->priv[who], out, 2, &n),
			    0);
			assert_memory_equal(&out[0], &t->k, sizeof(t->k));
			assert_memory_equal(&out[1], &t->k2, sizeof(t->k));
		}
		assert_int_equal(
		    open_k(t, kv[i], len[i], 1, t->priv[3], out, 2, &n),
		    JALIN_EPERM);
	}
	seal_ctx_eph_reuse(t->x, 0);
	copy(kv[0], build(t, &t->k, NULL, 0, THREE, 3, &len[0]), &len[0]);
	copy(kv[1], build(t, &t->k, NULL, 0, THREE, 3, &len[1]), &len[1]);
	assert_memory_not_equal(kv[0] + 9, kv[1] + 9, SEAL_PUB_LEN);
	t->w.id = ID;
}

/* seal_keys_build refuses what would not check on receipt. */
static void
test_keys_build_refused(void **state)
{
	struct t *t = *state;
	struct seal_recipient r[SEAL_WRAPS_MAX + 1];
	struct seal_key older[SEAL_CHAIN_MAX + 1];
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	const int dup[] = {1, 1}, unsorted[] = {2, 1};

#define BUILD(o, no, rr, nr)                           \
	(buf_reset(&t->out), jalin_err_clear(&t->err), \
	    seal_keys_build(                           \
	        t->x, &t->w, &t->k, o, no, rr, nr, &t->out, &t->err))
	recipients(t, dup, 2, r);
	assert_int_equal(BUILD(NULL, 0, r, 2), JALIN_EINVAL);
	assert_string_equal(t->err.msg,
	    "keys: recipient jabar: names not sorted or not unique");
	recipients(t, unsorted, 2, r);
	assert_int_equal(BUILD(NULL, 0, r, 2), JALIN_EINVAL);
	assert_int_equal(BUILD(NULL, 0, r, 0), JALIN_EINVAL);
	assert_string_equal(t->err.msg, "keys: 0 recipients (1 to 64)");
	for (int i = 0; i <= SEAL_WRAPS_MAX; i++)
		r[i] = (struct seal_recipient){"n", 1, t->pub[0]};
	assert_int_equal(BUILD(NULL, 0, r, SEAL_WRAPS_MAX + 1), JALIN_EINVAL);
	r[0] = (struct seal_recipient){"jabar", 0, t->pub[1]};
	assert_int_equal(BUILD(NULL, 0, r, 1), JALIN_EINVAL);
	r[0] = (struct seal_recipient){"jabar", 5, ec};
	assert_int_equal(BUILD(NULL, 0, r, 1), JALIN_EINVAL);
	assert_string_equal(
	    t->err.msg, "keys: recipient jabar: not an X25519 key");
	r[0] = (struct seal_recipient){"jabar", 5, t->pub[1]};
	older[0] = t->k2;
	older[1] = t->k;
	assert_int_equal(BUILD(older, 2, r, 1), JALIN_EINVAL);
	assert_string_equal(t->err.msg, "keys: chain key 2 repeats a key id");
	older[1] = t->k2;
	assert_int_equal(BUILD(older, 2, r, 1), JALIN_EINVAL);
	for (int i = 0; i <= SEAL_CHAIN_MAX; i++)
		assert_int_equal(seal_key_new(&older[i]), 0);
	assert_int_equal(BUILD(older, SEAL_CHAIN_MAX + 1, r, 1), JALIN_EINVAL);
	assert_int_equal(t->out.len, 0);
	/* at the limits: 64 recipients, 32 older keys */
	static char names[SEAL_WRAPS_MAX][12];
	for (int i = 0; i < SEAL_WRAPS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "%02d", i);
		r[i] = (struct seal_recipient){names[i], 2, t->pub[i % 3]};
	}
	r[5].pub = t->pub[1];
	assert_int_equal(BUILD(older, SEAL_CHAIN_MAX, r, SEAL_WRAPS_MAX), 0);
	size_t blen, n;
	const uint8_t *b = ext_body(&t->out, REC_KEYS_EXT, &blen);
	struct seal_key out[SEAL_CHAIN_MAX + 1];
	assert_int_equal(seal_keys_open(t->x, &t->w, b, blen, "05", 2,
	                     t->priv[1], out, SEAL_CHAIN_MAX + 1, &n, NULL),
	    0);
	assert_int_equal(n, SEAL_CHAIN_MAX + 1);
	assert_memory_equal(
	    &out[SEAL_CHAIN_MAX], &older[SEAL_CHAIN_MAX - 1], sizeof(out[0]));
#undef BUILD
	EVP_PKEY_free(ec);
}

/* Hand-made bodies: each rule of the layout, with its message. */
static void
test_keys_check_garbage(void **state)
{
	struct t *t = *state;
	uint8_t b[512] = {0};

#define CHECK(len, want)                                             \
	do {                                                         \
		jalin_err_clear(&t->err);                            \
		assert_int_equal(                                    \
		    seal_keys_check(b, len, &t->err), JALIN_EPROTO); \
		assert_string_equal(t->err.msg, want);               \
		assert_false(seal_keys_has(b, len, "jabar", 5));     \
	} while (0)
	CHECK(0, "keys: body of 0 bytes is cut (at least 93)");
	CHECK(92, "keys: body of 92 bytes is cut (at least 93)");
	CHECK(100, "keys: version 0 (expected 1)");
	b[0] = 1;
	CHECK(100, "keys: 0 recipients (1 to 64)");
	b[41] = 65;
	CHECK(100, "keys: 65 recipients (1 to 64)");
	b[41] = 1;
	CHECK(100, "keys: recipient 1: name of 0 bytes (1 to 64)");
	b[42] = 65;
	CHECK(200, "keys: recipient 1: name of 65 bytes (1 to 64)");
	b[42] = 5;
	memcpy(b + 43, "jabar", 5);
	CHECK(43 + 5 + 47, "keys: cut in recipient 1 of 1");
	CHECK(43 + 5 + 48, "keys: cut before the chain");
	b[96] = 33;
	CHECK(97, "keys: chain of 33 keys exceeds limit 32");
	b[96] = 0;
	assert_int_equal(seal_keys_check(b, 97, NULL), 0);
	assert_true(seal_keys_has(b, 97, "jabar", 5));
	CHECK(98, "keys: 1 trailing bytes after the chain");
	/* two recipients: "jabar" twice, then out of order, then a name
	 * before its own prefix */
	b[41] = 2;
	b[96] = 5;
	memcpy(b + 97, "jabar", 5);
	b[150] = 0;
	CHECK(151, "keys: recipient 2: names not sorted or not unique");
	memcpy(b + 97, "jaba", 4);
	CHECK(151, "keys: recipient 2: names not sorted or not unique");
	memcpy(b + 97, "jabas", 5);
	assert_int_equal(seal_keys_check(b, 151, NULL), 0);
	b[96] = 4; /* "jaba" after "jabar": shorter first */
	CHECK(150, "keys: recipient 2: names not sorted or not unique");
#undef CHECK
}

/* Value bodies of garbage: never a crash, malformed or not opening. */
static void
test_value_check_garbage(void **state)
{
	struct t *t = *state;
	uint8_t b[64];

	for (int round = 0; round < 256; round++) {
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)(i * 31 + round * 7);
		b[0] = (uint8_t)(round & 1 ? SEAL_VERSION : round);
		memcpy(b + 1, t->k.kid, SEAL_KID_LEN);
		for (size_t n = 0; n <= sizeof(b); n += 7) {
			int rc = open_v(t, &t->k, 1, &t->w, b, n);
			assert_true(rc == JALIN_EPROTO || rc == JALIN_EPERM);
			assert_int_equal(t->plain.len, 0);
		}
	}
}

/* --- the layouts, decoded with plain EVP calls ------------------------- */

static void
gcm_open_ref(const uint8_t *key, const uint8_t *nonce, const uint8_t *ad,
    size_t alen, const uint8_t *ct, size_t n, const uint8_t *tag, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t tg[16];
	int l;

	memcpy(tg, tag, 16);
	assert_non_null(c);
	assert_int_equal(
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce), 1);
	assert_int_equal(EVP_DecryptUpdate(c, NULL, &l, ad, (int)alen), 1);
	assert_int_equal(EVP_DecryptUpdate(c, out, &l, ct, (int)n), 1);
	assert_int_equal(
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tg), 1);
	assert_int_equal(EVP_DecryptFinal_ex(c, out + l, &l), 1);
	EVP_CIPHER_CTX_free(c);
}

/* A sealed value: AES-256-GCM, nonce body[9..21), associated data
 * "jalin seal 1" || coll || id || tag (2, big-endian) || body[0..9). */
static void
test_layout_value(void **state)
{
	struct t *t = *state;
	uint8_t ad[12 + 1 + 16 + 2 + 9], out[sizeof(V_LIST)];
	const uint8_t *b;
	size_t blen;

	b = seal(t, &t->k, V_LIST, sizeof(V_LIST), &blen);
	assert_int_equal(b[0], 1);
	memcpy(ad, "jalin seal 1", 12);
	ad[12] = COLL;
	memcpy(ad + 13, ID, 16);
	ad[29] = 0;
	ad[30] = TAG;
	memcpy(ad + 31, b, 9);
	gcm_open_ref(t->k.dk, b + 9, ad, sizeof(ad), b + 21, sizeof(V_LIST),
	    b + 21 + sizeof(V_LIST), out);
	assert_memory_equal(out, V_LIST, sizeof(V_LIST));
}

/* A wrap: X25519 with the ephemeral key, HKDF-SHA256 (salt eph || pub,
 * info "jalin wrap 1" || coll || id || kid || name), AES-256-GCM with a
 * zero nonce and no associated data. The chain: AES-256-GCM under the
 * current key, associated data "jalin chain 1" || coll || id || version ||
 * kid || m. HKDF here through EVP_PKEY_derive, not EVP_KDF. */
static void
test_layout_keys(void **state)
{
	struct t *t = *state;
	uint8_t s[32], kek[32], salt[64], info[12 + 1 + 16 + 8 + 5], dk[32];
	uint8_t ad[13 + 1 + 16 + 1 + 8 + 1], chain[40], zero[12] = {0};
	size_t blen, n = 32;
	const uint8_t *b = build(t, &t->k, &t->k2, 1, THREE + 1, 1, &blen);
	EVP_PKEY *eph =
	    EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, b + 9, 32);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(t->priv[1], NULL);

	assert_int_equal(b[0], 1);
	assert_memory_equal(b + 1, t->k.kid, 8);
	assert_int_equal(b[41], 1);
	assert_int_equal(b[42], 5);
	assert_memory_equal(b + 43, "jabar", 5);
	assert_true(EVP_PKEY_derive_init(c) == 1 &&
	    EVP_PKEY_derive_set_peer(c, eph) == 1 &&
	    EVP_PKEY_derive(c, s, &n) == 1);
	EVP_PKEY_CTX_free(c);
	memcpy(salt, b + 9, 32);
	n = 32;
	assert_int_equal(
	    EVP_PKEY_get_raw_public_key(t->pub[1], salt + 32, &n), 1);
	memcpy(info, "jalin wrap 1", 12);
	info[12] = COLL;
	memcpy(info + 13, ID, 16);
	memcpy(info + 29, t->k.kid, 8);
	memcpy(info + 37, "jabar", 5);
	c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	n = 32;
	assert_true(EVP_PKEY_derive_init(c) == 1 &&
	    EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_salt(c, salt, 64) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_key(c, s, 32) == 1 &&
	    EVP_PKEY_CTX_add1_hkdf_info(c, info, sizeof(info)) == 1 &&
	    EVP_PKEY_derive(c, kek, &n) == 1);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(eph);
	gcm_open_ref(kek, zero, NULL, 0, b + 48, 32, b + 80, dk);
	assert_memory_equal(dk, t->k.dk, 32);
	assert_int_equal(b[96], 1);
	assert_int_equal(blen, 97 + 12 + 40 + 16);
	memcpy(ad, "jalin chain 1", 13);
	ad[13] = COLL;
	memcpy(ad + 14, ID, 16);
	ad[30] = 1;
	memcpy(ad + 31, t->k.kid, 8);
	ad[39] = 1;
	gcm_open_ref(dk, b + 97, ad, sizeof(ad), b + 109, 40, b + 149, chain);
	assert_memory_equal(chain, t->k2.kid, 8);
	assert_memory_equal(chain + 8, t->k2.dk, 32);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_value_round_trip),
	    T(test_value_fresh_nonce),
	    T(test_value_nonce_after_fork),
	    T(test_value_wrong_key),
	    T(test_value_tampered),
	    T(test_value_moved),
	    T(test_value_truncated),
	    T(test_value_limits),
	    T(test_value_check_garbage),
	    T(test_key_new_wipe),
	    T(test_keys_round_trip),
	    T(test_keys_not_recipient),
	    T(test_keys_tampered),
	    T(test_keys_truncated),
	    T(test_keys_rotation),
	    T(test_keys_eph_reuse),
	    T(test_keys_build_refused),
	    T(test_keys_check_garbage),
	    T(test_layout_value),
	    T(test_layout_keys),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
