/*
 * trust.h - origin signatures on the wire (PROTOCOL.md §13, protocol 4).
 *
 * Sender: before a CHANGES (or REPAIR) frame whose records carry proofs,
 * the batches they refer to, each preceded once per connection by the
 * certificate that signed it (trust_out). Receiver: certificates checked
 * like a TLS peer's, batches verified once and stored with the records,
 * and the events a state would add checked against them (trust_in,
 * trust_check).
 */
#ifndef JALIN_TRUST_H
#define JALIN_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "msg.h"
#include "proof.h"
#include "record.h"
#include "store.h"

struct conn;
struct tls;

/* ---- sender ------------------------------------------------------------ */

struct trust_out;

struct trust_out *trust_out_new(void);
void trust_out_free(struct trust_out *o);

/*
 * Note the batches record r's proof[0..plen) refers to. False when this
 * frame cannot refer to more batches: end it before r.
 */
bool trust_out_note(struct trust_out *o, const struct record *r,
    const uint8_t *proof, size_t plen);

/*
 * Send c the noted batches it may not have yet (each after its
 * certificate, once per connection), read in txn; the notes are cleared.
 */
void trust_out_flush(struct trust_out *o, struct conn *c, MDB_txn *txn);

/* ---- receiver ---------------------------------------------------------- */

struct trust_in;

struct trust_in *trust_in_new(void);
void trust_in_free(struct trust_in *in);

/*
 * A CERT from the peer: checked (tls_check_cert) and kept for the batches
 * that follow. 0; 1 with err (to log) if the certificate is refused
 * (revoked...): the batches it signed are kept as refused, and so are
 * their events (PROTOCOL.md §13.6), the link goes on; or JALIN_ETOOBIG /
 * JALIN_EPROTO / JALIN_ETLS with err: the peer is closed.
 */
int trust_in_cert(struct tls *tls, struct trust_in *in,
    const struct msg_peer *m, struct jalin_err *err);

/*
 * A BATCH from the peer: its signature checked with the certificate of its
 * kid, which must be the origin's, unless the origin is the sender itself
 * (its TLS identity vouches, and the next hop checks the signature). Kept
 * in memory (at most JALIN_TRUST_PENDING_MAX; the oldest are dropped) and
 * stored only once a stored record refers to it (trust_in_keep); one
 * signed with a refused certificate is kept as refused. 0; 1 with err (to
 * log: the link goes on) the first time the set is full; or JALIN_EPERM /
 * JALIN_EPROTO / JALIN_ENOMEM with err (the peer is closed).
 */
int trust_in_batch(struct trust_in *in, const struct msg_peer *m,
    const char *sender, struct jalin_err *err);

/* Batches dropped from a full set on this connection (unreferenced). */
uint64_t trust_in_dropped(const struct trust_in *in);

/* At the start of a task's transaction: write the certificates received;
 * forget the batches the last task stored (committed). 0 or the
 * transaction's error. */
int trust_in_store(struct trust_in *in, struct store_txn *st);

/* At the end of a task, in its transaction: store the batches received
 * that a record stored now refers to (store_txn_batch_refs). 0 or the
 * transaction's error. */
int trust_in_keep(struct trust_in *in, struct store_txn *st);

/*
 * Decode the proof[0..plen) of the peer's state rem for the next
 * trust_check (and the store's join: trust_proof). 0 or JALIN_EPROTO.
 */
int trust_decode(struct trust_in *in, const struct record *rem,
    const uint8_t *proof, size_t plen);

/* What a check knows of the state it judges. */
struct trust_state {
	uint8_t coll;
	const uint8_t *id;
	const struct record *old; /* what we hold (empty if nothing) */
	const struct record *rem; /* the peer's state */
	bool has_proof;           /* trust_decode was given its proof */
	const char *sender;       /* the peer's name (its TLS identity) */
	bool require;             /* [node] require_signatures */
	struct tls *tls;          /* CA and CRL now (NULL: no kid check) */
	uint64_t tls_gen;         /* which reload loaded them */
};

/*
 * The events rem would add to old, and the contexts it would raise, are
 * signed by their origins (or made by the sender, or acceptably unsigned:
 * PROTOCOL.md §13.4, §13.5) with a certificate that the CRL loaded now
 * does not revoke (§13.6; judged once per kid and reload). NULL, or the
 * rule the state breaks. Reads the batches received and those in st.
 */
const char *trust_check(
    struct trust_in *in, struct store_txn *st, const struct trust_state *s);

/* The proof decoded by the last trust_check (for the store's join). */
const struct proof *trust_proof(const struct trust_in *in);

/* ---- encryption certificates (PROTOCOL.md §13.3.1) -------------------- */

/*
 * After HELLO on a protocol 4 connection: send c a CERT for every
 * encryption certificate in the node's key ring (keyring.h) but c's own,
 * at most JALIN_ENC_CERTS_MAX. Nothing for protocol 3.
 */
void trust_enc_send(struct conn *c);

/*
 * A CERT from the peer that holds an X25519 key (kr_is_enc_der): given to
 * the key ring (kr_learn). A certificate that fails its checks is logged
 * and skipped, the connection goes on (a relay may pass on one that a
 * newer CRL here revokes); one new to us is passed on to the other open
 * protocol 4 peers. 0, or JALIN_ETOOBIG with err past JALIN_ENC_CERTS_MAX
 * on one connection: the peer is closed.
 */
int trust_enc_in(struct conn *c, struct trust_in *in, const struct msg_peer *m,
    struct jalin_err *err);

#endif
