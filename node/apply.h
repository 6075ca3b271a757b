/*
 * apply.h - the peer's change feed to us: our SUB after HELLO, each
 * CHANGES frame merged in one group commit with its checkpoint and then
 * acknowledged, LIVE and RESYNC from the peer, and REPAIR frames from a
 * verification.
 *
 * Its state is its own: per connection (struct apply_conn, from HELLO
 * until the connection closes) and per peer (struct apply_peer: our
 * checkpoint of its feed, its head, catch-up, live and resync); others
 * read it through the accessors below.
 */
#ifndef JALIN_APPLY_H
#define JALIN_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "authz.h"
#include "msg.h"

struct peers;
struct peer;
struct conn;

/*
 * After a long outage (node.h held_since_ms, DOMAIN.md privacy 6): set
 * ps->n->held_since_ms from the last saved contact if it is older than
 * offline_hold, else clear it. Reads the store; logs the hold.
 */
void apply_check_outage(struct peers *ps);

/* HELLO (hello, only read) is done on c: subscribe to the peer's feed
 * from our checkpoint (or from 0 in the epoch HELLO named). */
void apply_open(struct conn *c, const struct msg_peer *hello);

/*
 * CHANGES on c: checked against the subscription and queued for the next
 * group commit; input from c waits until it is committed, then it is
 * acknowledged. 0, or -1 when c was closed.
 */
int apply_changes(struct conn *c, const struct msg_peer *m);

/*
 * REPAIR on c: its records merged like CHANGES but outside the feed order
 * and without a checkpoint; records the peer should not hold are answered
 * with withdrawals. 0, or -1 when c was closed.
 */
int apply_repair(struct conn *c, const struct msg_peer *m);

/*
 * A CERT or BATCH (protocol 4, trust.h): kept for the records that follow.
 * One the node cannot accept closes the connection with the reason. 0 or
 * -1 (closed).
 */
int apply_signed(struct conn *c, const struct msg_peer *m);

/*
 * LIVE on c: every frame before it is applied. Ends an outage hold.
 * 1 if the peer just became live (the caller runs tombstone collection,
 * which saves the contact time), 0 if it already was, -1 when c was
 * closed (LIVE at the wrong seq).
 */
int apply_live(struct conn *c, const struct msg_peer *m);

/*
 * RESYNC on c: the peer restarts its feed from 0 (in a new epoch if its
 * store was replaced; then our feed to it restarts too, feed_restart).
 * 0, or -1 when c was closed.
 */
int apply_resync(struct conn *c, const struct msg_peer *m);

/* c is closing: a task in progress still commits, unanswered. */
void apply_closed(struct conn *c);

/* p said LIVE and we applied everything up to it. */
bool apply_is_live(const struct peer *p);

/*
 * We applied all of p's feed we know of: it is live, nothing is being
 * committed, and our position is its head. False when not connected.
 */
bool apply_idle(const struct peer *p);

/* The last seq of the peer's feed applied or queued on c. */
uint64_t apply_pos(const struct conn *c);

/* p is sending us its feed again from 0 (its RESYNC), until LIVE. */
bool apply_resyncing(const struct peer *p);

/* p's changes we know of (its head) and have not applied yet. */
uint64_t apply_in_lag(const struct peer *p);

/* How far pulling p's feed has come, in feed entries. */
struct apply_progress {
	uint64_t done, total;
	uint64_t elapsed_ms; /* since catching up started (at least 1) */
	uint64_t bytes;      /* received since then, partial frames too */
};

/*
 * While we catch up with p: fill *out and return true. False (out
 * untouched) when not connected, live, or nothing is missing.
 */
bool apply_catch_up(const struct peer *p, struct apply_progress *out);

/*
 * Sessions with p that ended before we caught up with its feed, counted
 * across reconnects until we do (then 0). *why: why the last one ended
 * (owned by p; NULL if none ever did), *at_ms: when (0: never).
 */
uint32_t apply_failures(
    const struct peer *p, const char **why, uint64_t *at_ms);

/*
 * Sessions in a row that ended while catching up before one CHANGES
 * frame of p's arrived (0 once one does); *rx_bytes: what the last of
 * them received.
 */
uint32_t apply_stuck(const struct peer *p, uint64_t *rx_bytes);

/*
 * States from p refused by write authority or the schema (authz.h), of
 * one rule, since the node started.
 */
uint64_t apply_refused_by(const struct peer *p, enum authz_rule rule);

/*
 * The last such refusal, "COLLECTION ID: RULE: why" (owned by p; NULL if
 * none), and when (*at_ms, 0 if none).
 */
const char *apply_last_refusal(const struct peer *p, uint64_t *at_ms);

/* Make (0) or free p's applier state (struct apply_peer, private to
 * apply.c); new returns JALIN_ENOMEM when out of memory. free of a peer
 * without state is a no-op; p itself stays. */
int apply_peer_new(struct peer *p);
void apply_peer_free(struct peer *p);

/* Load every peer's "in:" checkpoint from the store (how far we applied
 * its feed); a store that cannot be read leaves them unknown. */
void apply_load(struct peers *ps);

#endif
