/*
 * seal.h - envelope encryption of S! field values (PROTOCOL.md §14).
 *
 * A record that holds S! fields has data keys (32 random bytes each, named
 * by an 8-byte key id). Each S! value is stored and sent sealed: a msgpack
 * ext object of type REC_SEALED_EXT whose body is
 *
 *   [1 version = 1][8 kid][12 nonce][ciphertext][16 tag]
 *
 * AES-256-GCM under the data key kid, the plaintext being the value's
 * canonical msgpack encoding (plain: never coded), and the associated data
 * binding the collection, the record id, the field tag, the version and the
 * kid, so a sealed value moved to another field or record does not open.
 *
 * A record's data keys travel in its keys field (a system field, tag
 * SEAL_KEYS_TAG) as a msgpack ext object of type REC_KEYS_EXT whose body is
 *
 *   [1 version = 1][8 kid of the current key][32 ephemeral X25519 public key]
 *   [1 n] n x ([1 name length][name][48 wrapped key])   names sorted, unique
 *   [1 m] then if m > 0: [12 nonce][m x (8 kid, 32 key)][16 tag]
 *
 * A wrap is the current data key sealed (AES-256-GCM, zero nonce: each
 * wrap key is used once) under HKDF-SHA256(X25519(ephemeral, recipient),
 * salt = ephemeral public || recipient public, info = "jalin wrap 1" ||
 * collection || id || kid || name). The chain (m older keys, newest
 * first) is sealed under the current key, so a node that can open the
 * current key opens every older one; a node taken out of the recipients
 * keeps at most the keys it had.
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

#define SEAL_VERSION    1
#define SEAL_KID_LEN    8
#define SEAL_DK_LEN     32
#define SEAL_NONCE_LEN  12
#define SEAL_TAG_LEN    16
#define SEAL_PUB_LEN    32  /* X25519 public key */
#define SEAL_WRAP_LEN   48  /* wrapped data key: 32 + tag */
#define SEAL_OVERHEAD   (1 + SEAL_KID_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN)
#define SEAL_WRAPS_MAX  64  /* recipients of one key */
#define SEAL_CHAIN_MAX  32  /* older keys carried */
#define SEAL_NAME_MAX   64
#define SEAL_KEYS_TAG   10  /* the keys field of case and referral */

struct seal_key {
	uint8_t kid[SEAL_KID_LEN];
	uint8_t dk[SEAL_DK_LEN];
};

/* Where a sealed value or a keys value sits. */
struct seal_where {
	uint8_t coll;         /* collection code */
	const uint8_t *id;    /* 16-byte record id */
	uint16_t tag;         /* field tag (sealed values only) */
};

struct seal_recipient {
	const char *name;
	uint8_t len;
	EVP_PKEY *pub;        /* X25519 public key */
};

struct seal_ctx;

struct seal_ctx *seal_ctx_new(void);
void seal_ctx_free(struct seal_ctx *x);

/* A fresh random data key and its id. 0 or JALIN_ENOMEM (no randomness). */
int seal_key_new(struct seal_key *k);
void seal_key_wipe(struct seal_key *k);

/*
 * Seal plain[0..plen) (a canonical msgpack object) for field w->tag of
 * record w->id under k: appends the whole ext object (msgpack ext header
 * and body) to out. 0, JALIN_ETOOBIG (out's max), JALIN_ENOMEM.
 */
int seal_value(struct seal_ctx *x, const struct seal_key *k,
    const struct seal_where *w, const uint8_t *plain, size_t plen,
    struct buf *out, struct jalin_err *err);

/*
 * Open the body of a sealed ext object (without its msgpack header) of
 * field w->tag of record w->id with the key of its kid among keys[0..n):
 * appends the plaintext to plain. JALIN_ENOTFOUND when no key has its kid
 * (a node that is not a recipient), JALIN_EPERM when the tag does not
 * check (tampered, moved, wrong key), JALIN_EPROTO when malformed.
 */
int seal_open(struct seal_ctx *x, const struct seal_key *keys, size_t n,
    const struct seal_where *w, const uint8_t *body, size_t len,
    struct buf *plain, struct jalin_err *err);

/* Shape of a sealed body (schema check on receipt): 0 or JALIN_EPROTO. */
int seal_value_check(const uint8_t *body, size_t len, struct jalin_err *err);

/* The kid of a sealed body (seal_value_check'd). */
void seal_value_kid(const uint8_t *body, uint8_t kid[SEAL_KID_LEN]);

/*
 * A keys value for record w (w->tag unused): cur wrapped for r[0..nr)
 * (sorted and unique by name here), older[0..nolder) (newest first) in the
 * chain. Appends the ext object to out. JALIN_EINVAL (too many, duplicate
 * name, a key that is not X25519), JALIN_ENOMEM, JALIN_ETOOBIG.
 */
int seal_keys_build(struct seal_ctx *x, const struct seal_where *w,
    const struct seal_key *cur, const struct seal_key *older, size_t nolder,
    const struct seal_recipient *r, size_t nr, struct buf *out,
    struct jalin_err *err);

/*
 * Open a keys body as node me (priv: its X25519 private key): the current
 * key in out[0], the chain after it; *n keys (at most max). JALIN_ENOTFOUND
 * when me has no wrap, JALIN_EPERM when a wrap or the chain does not check,
 * JALIN_EPROTO when malformed.
 */
int seal_keys_open(struct seal_ctx *x, const struct seal_where *w,
    const uint8_t *body, size_t len, const char *me, size_t melen,
    EVP_PKEY *priv, struct seal_key *out, size_t max, size_t *n,
    struct jalin_err *err);

/* Shape of a keys body: 0 or JALIN_EPROTO. */
int seal_keys_check(const uint8_t *body, size_t len, struct jalin_err *err);

/* The current kid of a keys body, and whether name has a wrap in it. */
void seal_keys_kid(const uint8_t *body, uint8_t kid[SEAL_KID_LEN]);
bool seal_keys_has(const uint8_t *body, size_t len, const char *name,
    size_t nlen);

#endif
