/*
 * crypt.h - S! values sealed where they are written (PROTOCOL.md §14).
 *
 * A local put of a case or referral goes through crypt_put before it is
 * merged: each S! value is replaced by its sealed form (seal.h) under the
 * record's current data key, and the record's keys field (TAG_KEYS) is
 * written when its readers change: the origin, the nodes in share_with
 * and the all_cases nodes. Adding a reader wraps the same key for it (it
 * reads past values too); taking one out makes a new key, with the older
 * ones in its chain, so what is written afterwards is closed to the node
 * taken out. Only a node that may write share_with (the origin or an
 * all_cases node) writes the keys field; another reader seals with the
 * current key. The sealed bytes are what is stored and replicated, the
 * same on every node.
 */
#ifndef JALIN_CRYPT_H
#define JALIN_CRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "err.h"
#include "limits.h"
#include "merge.h"
#include "record.h"
#include "schema.h"
#include "sealrec.h"

/* The most updates crypt_put takes: a put's fields, the system fields
 * and the keys field. */
#define CRYPT_UPDATES_MAX (JALIN_RECORD_ENTRIES_MAX + 4)

struct crypt_name {
	const char *name;
	uint8_t len;
};

/* Where crypt finds the keys and readers of other nodes. */
struct crypt_keys {
	/* node name's X25519 public key (held by the callee); NULL if this
	 * node does not know it */
	EVP_PKEY *(*pub)(void *arg, const char *name, size_t len);
	/* the all_cases nodes (they read every case): at most max into out;
	 * returns how many */
	size_t (*all_cases)(void *arg, struct crypt_name *out, size_t max);
	void *arg;
};

struct crypt;

/*
 * node's sealer: its name (copied), its X25519 private key (held, not
 * owned; NULL: the node cannot write S! values), k copied. NULL if out of
 * memory.
 */
struct crypt *crypt_new(
    const char *node, EVP_PKEY *priv, const struct crypt_keys *k);
void crypt_free(struct crypt *x);

/* The reader of this node (sealrec.h), for the admin reads. */
struct srec *crypt_reader(struct crypt *x);

/*
 * Seal a local put: u[0..*n) sorted by tag (state form; room for max) of
 * record id of c whose stored state is old (empty when new). Sealed values
 * and the keys value point into x until the next call; *n may grow by one
 * (the keys field). *missing (may be NULL) gets the readers whose key this
 * node does not know (left without a wrap). 0; JALIN_EPERM when this node
 * cannot read the record's data keys, or has no encryption key;
 * JALIN_EPROTO when the stored keys do not open; JALIN_ENOMEM;
 * JALIN_ETOOBIG.
 */
int crypt_put(struct crypt *x, const struct schema_coll *c,
    const uint8_t id[16], const struct record *old, struct merge_update *u,
    size_t *n, size_t max, unsigned *missing, struct jalin_err *err);

#endif
