/*
 * sealrec.h - a node reading the sealed S! fields of records (seal.h,
 * PROTOCOL.md §14).
 *
 * A reader is a node name and its X25519 private key. For a record, its
 * data keys are in the winning value of the keys field (TAG_KEYS); the
 * reader opens them once (its wrap, then the chain of older keys) and
 * keeps them for the next values of the same record. Used by jalind's
 * admin reads and by jalinctl --db with the node's key; its srec_view
 * fills view.h's struct view_open.
 *
 * Keys opened are wiped when the reader moves to another record and when
 * it is freed.
 */
#ifndef JALIN_SEALREC_H
#define JALIN_SEALREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "record.h"
#include "schema.h"
#include "seal.h"
#include "view.h"

struct srec;

/*
 * A reader for node (NUL-terminated, copied) with its private key (held,
 * not owned; NULL: the node reads no sealed value). NULL if out of memory.
 */
struct srec *srec_new(const char *node, EVP_PKEY *priv);
void srec_free(struct srec *s);

/* The view.h hook that opens sealed values with s. */
void srec_view(struct srec *s, struct view_open *op);

/*
 * The data keys of record id of c (state r) that s can open, newest first:
 * *keys points into s (valid until the next call), *n of them. 0 with
 * *n = 0 when the record has no keys field or s has no wrap in it (not a
 * recipient); JALIN_EPERM when a wrap or the chain does not check;
 * JALIN_EPROTO when the keys value is malformed.
 */
int srec_keys(struct srec *s, const struct schema_coll *c, const uint8_t id[16],
    const struct record *r, const struct seal_key **keys, size_t *n,
    struct jalin_err *err);

/*
 * The keys a writer just gave record id of c (keys value kv[0..kvlen), the
 * whole ext object, its data keys keys[0..n)): kept as if opened, so the
 * reads that follow do not open them again (an X25519 agreement each).
 */
void srec_prime(struct srec *s, const struct schema_coll *c,
    const uint8_t id[16], const uint8_t *kv, uint32_t kvlen,
    const struct seal_key *keys, size_t n);

/*
 * Open the sealed value v (the whole ext object) of field tag of record
 * id (state r): its plaintext appended to plain: the value's state form
 * (record.h; rec_val_plain decodes a coded string). JALIN_ENOTFOUND when s
 * holds no key for it, JALIN_EPERM when it does not check, JALIN_EPROTO
 * when v is not a sealed value.
 */
int srec_open(struct srec *s, const struct schema_coll *c, const uint8_t id[16],
    const struct record *r, uint16_t tag, const uint8_t *v, uint32_t vlen,
    struct buf *plain, struct jalin_err *err);

/* The body of v if it is a sealed value (ext REC_SEALED_EXT). */
bool srec_sealed_body(
    const uint8_t *v, uint32_t vlen, const uint8_t **body, uint32_t *blen);

/* The body of v if it is a keys value (ext REC_KEYS_EXT). */
bool srec_keys_body(
    const uint8_t *v, uint32_t vlen, const uint8_t **body, uint32_t *blen);

/* True if r holds a sealed value or data keys (a protocol 3 node cannot
 * store it). */
bool srec_rec_sealed(const struct record *r);

/* True if collection c seals fields: case and referral (SCOPED). */
bool srec_coll_sealed(const struct schema_coll *c);

/*
 * True if field f of c is sealed: every field of a case or referral that
 * holds personal data (class U, S or S!; PROTOCOL.md §14). Fields of class
 * N (who the record goes to, its controller, legal basis, retention, case
 * number) travel in clear: nodes route and judge by them.
 */
bool srec_field_sealed(
    const struct schema_coll *c, const struct schema_field *f);

#endif
