/*
 * seal.h - envelope encryption of S! field values (PROTOCOL.md §14).
 *
 * A record that holds S! fields has data keys (32 random bytes each, named
 * by an 8-byte key id). Each S! value is stored and sent sealed: a msgpack
 * ext object of type REC_SEALED_EXT whose body is
 *
 *   [1 version = 1][8 kid][12 nonce][ciphertext][16 tag]
 *
 * AES-256-GCM under the data key kid (a random nonce per value), the
 * plaintext being the value's state form (record.h: its canonical msgpack,
 * a string coded when that is shorter), and the associated data binding the
 * collection, the record id, the field tag, the version and the kid, so a
 * sealed value moved to another field or record does not open:
 *
 *   "jalin seal 1" || [1 collection] || [16 id] || [2 tag, big-endian]
 *   || [1 version] || [8 kid]                         (40 bytes)
 *
 * The whole ext object (header and body) is at most JALIN_VALUE_MAX bytes,
 * like any field value.
 *
 * A record's data keys travel in its keys field (a system field, tag
 * SEAL_KEYS_TAG) as a msgpack ext object of type REC_KEYS_EXT whose body is
 *
 *   [1 version = 1][8 kid of the current key][32 ephemeral X25519 public key]
 *   [1 n] n x ([1 name length][name][48 wrapped key])   names sorted, unique
 *   [1 m] then if m > 0: [12 nonce][m x (8 kid, 32 key)][16 tag]
 *
 * with 1 <= n <= SEAL_WRAPS_MAX, names 1..SEAL_NAME_MAX bytes in strictly
 * increasing byte order (a name before any longer name it is a prefix of),
 * m <= SEAL_CHAIN_MAX, and no byte after the chain.
 *
 * A wrap is the current data key sealed (AES-256-GCM, zero nonce: each
 * wrap key is used once) under HKDF-SHA256(X25519(ephemeral, recipient),
 * salt = ephemeral public || recipient public, info = "jalin wrap 1" ||
 * collection || id || kid || name; the ephemeral key is new for each
 * keys value). The chain (m older keys, newest first) is sealed under the
 * current key with a random nonce and the associated data
 *
 *   "jalin chain 1" || [1 collection] || [16 id] || [1 version]
 *   || [8 current kid] || [1 m]                       (40 bytes)
 *
 * so a node that can open the current key opens every older one; a node
 * taken out of the recipients keeps at most the keys it had.
 *
 * Keys in memory (struct seal_key) are wiped by seal_key_wipe; nothing
 * here logs or keeps a key. struct seal_ctx holds cipher and digest
 * contexts reused across calls (no allocation per value). One per thread.
 */
#ifndef JALIN_SEAL_H
#define JALIN_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "buf.h"
#include "err.h"

#define SEAL_VERSION   1
#define SEAL_KID_LEN   8
#define SEAL_DK_LEN    32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN   16
#define SEAL_PUB_LEN   32 /* X25519 public key */
#define SEAL_WRAP_LEN  48 /* wrapped data key: 32 + tag */
#define SEAL_OVERHEAD  (1 + SEAL_KID_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN)
#define SEAL_WRAPS_MAX 64 /* recipients of one key */
#define SEAL_CHAIN_MAX 32 /* older keys carried */
#define SEAL_NAME_MAX  64
#define SEAL_KEYS_TAG  10 /* the keys field of case and referral */

struct seal_key {
	uint8_t kid[SEAL_KID_LEN];
	uint8_t dk[SEAL_DK_LEN];
};

/* Where a sealed value or a keys value sits. */
struct seal_where {
	uint8_t coll;      /* collection code */
	const uint8_t *id; /* 16-byte record id */
	uint16_t tag;      /* field tag (sealed values only) */
};

struct seal_recipient {
	const char *name;
	uint8_t len;
	EVP_PKEY *pub; /* X25519 public key */
};

struct seal_ctx;

struct seal_ctx *seal_ctx_new(void);
void seal_ctx_free(struct seal_ctx *x);

/*
 * Let up to uses keys values built with x share one ephemeral key, and so
 * the X25519 secret with each recipient key (kept in x for up to
 * SEAL_WRAPS_MAX recipient keys, wiped when the ephemeral key changes, at
 * the next call and by seal_ctx_free): a bulk write of many records pays
 * the key agreements (~35-50 us each) once per recipient, not once per
 * record and recipient. 0 or 1 (the default): a fresh ephemeral key per
 * keys value. The layout is the same either way, and every wrap key stays
 * unique (its HKDF info binds the record, the kid and the name); records
 * keyed with one ephemeral key show that they were keyed together, and a
 * memory read of x in that time gives their data keys (as a read of the
 * writer's memory would anyway).
 */
void seal_ctx_eph_reuse(struct seal_ctx *x, unsigned uses);

/* A fresh random data key and its id. 0 or JALIN_ENOMEM (no randomness). */
int seal_key_new(struct seal_key *k);
void seal_key_wipe(struct seal_key *k);

/*
 * Seal plain[0..plen) (a canonical msgpack object) for field w->tag of
 * record w->id under k: appends the whole ext object (msgpack ext header
 * in its smallest form, and body) to out. 0, JALIN_EINVAL (plen 0),
 * JALIN_ETOOBIG (the object would exceed JALIN_VALUE_MAX, or out's max),
 * JALIN_ENOMEM (no memory or randomness); out is unchanged on error.
 */
int seal_value(struct seal_ctx *x, const struct seal_key *k,
    const struct seal_where *w, const uint8_t *plain, size_t plen,
    struct buf *out, struct jalin_err *err);

/*
 * Open the body of a sealed ext object (without its msgpack header) of
 * field w->tag of record w->id with the key of its kid among keys[0..n):
 * appends the plaintext to plain. JALIN_ENOTFOUND when no key has its kid
 * (a node that is not a recipient), JALIN_EPERM when the tag does not
 * check (tampered, moved, wrong key), JALIN_EPROTO when malformed
 * (seal_value_check). plain is unchanged on error (nothing unauthenticated
 * is left in it).
 */
int seal_open(struct seal_ctx *x, const struct seal_key *keys, size_t n,
    const struct seal_where *w, const uint8_t *body, size_t len,
    struct buf *plain, struct jalin_err *err);

/*
 * Shape of a sealed body (schema check on receipt): version 1, at least
 * SEAL_OVERHEAD + 1 and at most JALIN_VALUE_MAX bytes. 0 or JALIN_EPROTO.
 */
int seal_value_check(const uint8_t *body, size_t len, struct jalin_err *err);

/* The kid of a sealed body (seal_value_check'd). */
void seal_value_kid(const uint8_t *body, uint8_t kid[SEAL_KID_LEN]);

/*
 * A keys value for record w (w->tag unused): cur wrapped for r[0..nr)
 * (sorted and unique by name here), older[0..nolder) (newest first) in the
 * chain. Appends the ext object to out. JALIN_EINVAL (too many, duplicate
 * or unsorted name, a key that is not X25519, an older key with the kid
 * of cur or of another older key), JALIN_ENOMEM, JALIN_ETOOBIG (out's
 * max); out is unchanged on error.
 */
int seal_keys_build(struct seal_ctx *x, const struct seal_where *w,
    const struct seal_key *cur, const struct seal_key *older, size_t nolder,
    const struct seal_recipient *r, size_t nr, struct buf *out,
    struct jalin_err *err);

/*
 * Open a keys body as node me (priv: its X25519 private key): the current
 * key in out[0], the chain after it; *n keys (at most max: the newest
 * max are kept when the chain is longer; the whole chain is checked all
 * the same). JALIN_ENOTFOUND when me has no wrap, JALIN_EPERM when a wrap
 * or the chain does not check, JALIN_EPROTO when malformed (or the chain
 * repeats a kid), JALIN_EINVAL when max is 0 or priv is not X25519. On
 * error out and *n are left as they were (out[0] wiped).
 */
int seal_keys_open(struct seal_ctx *x, const struct seal_where *w,
    const uint8_t *body, size_t len, const char *me, size_t melen,
    EVP_PKEY *priv, struct seal_key *out, size_t max, size_t *n,
    struct jalin_err *err);

/* Shape of a keys body: 0 or JALIN_EPROTO. */
int seal_keys_check(const uint8_t *body, size_t len, struct jalin_err *err);

/* The current kid of a keys body (seal_keys_check'd), and whether name
 * has a wrap in it (false for a malformed body). */
void seal_keys_kid(const uint8_t *body, uint8_t kid[SEAL_KID_LEN]);
bool seal_keys_has(
    const uint8_t *body, size_t len, const char *name, size_t nlen);

#endif
