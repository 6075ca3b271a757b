/*
 * sig.h - origin signatures: the leaf of a write event, batch digests,
 * ECDSA signing and verification with a node's key (PROTOCOL.md §13).
 *
 * A write event is one dot of a record with the fields it wrote. Its leaf is
 * a 16-byte hash over (collection, id, origin, hlc, kind, elements), one
 * element per field: the tag and the value itself when it is at most
 * SIG_INLINE_MAX bytes, else a 16-byte hash of it. A state that no longer
 * holds some of an event's entries carries their elements ("missing"), so
 * the leaf can still be recomputed. An origin signs the leaves of up to
 * JALIN_SIG_BATCH_MAX events at once (a batch); a verifier checks one
 * signature per batch and one leaf per event.
 *
 * struct sig_ctx holds the digest state reused across calls (no allocation
 * per record). One per thread.
 */
#ifndef JALIN_SIG_H
#define JALIN_SIG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "err.h"
#include "limits.h"
#include "record.h"

#define SIG_LEAF_LEN   16
#define SIG_KID_LEN    8
#define SIG_DIGEST_LEN 32
#define SIG_INLINE_MAX 48 /* values this long or shorter are inlined */
#define SIG_ELEM_MAX   (2 + 1 + SIG_INLINE_MAX) /* one element, bytes */
#define SIG_MAX_LEN    72                       /* ECDSA P-256, DER */

/* The kind byte of a leaf: a purge (the state is purged), a delete (the
 * event wrote tag 0), else a write. */
enum sig_kind {
	SIG_WRITE = 0,
	SIG_DELETE = 1,
	SIG_PURGE = 2
};

struct sig_ctx;

/* NULL if out of memory or SHA-256 is not available. */
struct sig_ctx *sig_ctx_new(void);
void sig_ctx_free(struct sig_ctx *x);

/*
 * The element of a field value (its state form): written to out (at least
 * SIG_ELEM_MAX bytes); returns its length. 0 if hashing failed.
 */
size_t sig_element(struct sig_ctx *x, uint16_t tag, const uint8_t *val,
    uint32_t vlen, uint8_t *out);

/*
 * The leaf of dot d of r (a record of collection coll, id id): its entries
 * in r, merged by tag with the elements in missing[0..mlen) (a run of
 * elements by strictly increasing tag, none of a tag that r holds for d).
 * 0, or JALIN_EPROTO with err when missing is malformed or overlaps r's
 * entries, JALIN_ENOMEM if hashing failed.
 */
int sig_leaf(struct sig_ctx *x, uint8_t coll, const uint8_t id[16],
    const struct record *r, uint16_t d, const uint8_t *missing, size_t mlen,
    uint8_t leaf[SIG_LEAF_LEN], struct jalin_err *err);

/*
 * The leaf of an event a state holds no entry of (a witness, proof.h): of
 * origin o at hlc, with its elements el[0..elen), at least one. A write or
 * a delete (never a purge). 0 or as sig_leaf.
 */
int sig_leaf_ghost(struct sig_ctx *x, uint8_t coll, const uint8_t id[16],
    const struct rec_origin *o, uint64_t hlc, const uint8_t *el, size_t elen,
    uint8_t leaf[SIG_LEAF_LEN], struct jalin_err *err);

/*
 * The digest an origin signs for a batch: SHA-256 over the origin's name,
 * bno, kid, the number of leaves and the leaves (n of them, n at most
 * JALIN_SIG_BATCH_MAX). 0 or JALIN_EINVAL / JALIN_ENOMEM.
 */
int sig_batch_digest(struct sig_ctx *x, const char *origin, size_t olen,
    uint64_t bno, const uint8_t kid[SIG_KID_LEN], const uint8_t *leaves,
    size_t n, uint8_t out[SIG_DIGEST_LEN]);

/* The key id of a public key: SHA-256 of its SubjectPublicKeyInfo, cut. */
int sig_kid(const EVP_PKEY *key, uint8_t kid[SIG_KID_LEN]);

/*
 * Sign digest with key (an EC P-256 private key): the DER signature in
 * sig (SIG_MAX_LEN bytes), its length in *len. 0 or JALIN_ETLS + err.
 */
int sig_sign(EVP_PKEY *key, const uint8_t digest[SIG_DIGEST_LEN],
    uint8_t sig[SIG_MAX_LEN], size_t *len, struct jalin_err *err);

/* 0 if sig is key's signature of digest, else JALIN_EPERM with err. */
int sig_verify(EVP_PKEY *key, const uint8_t digest[SIG_DIGEST_LEN],
    const uint8_t *sig, size_t len, struct jalin_err *err);

#endif
