/*
 * feed.h - our change feed to a peer: what the peer may have of our
 * records (the scope rule), the CHANGES stream after its SUB, LIVE at the
 * head, RESYNC when it must start over, and its ACKs.
 *
 * Its state is its own: per connection (struct feed_conn, from SUB until
 * the connection closes) and per peer (struct feed_peer: what the peer
 * acknowledged, whether we resync it, echo trust); others read it
 * through the accessors below.
 */
#ifndef JALIN_FEED_H
#define JALIN_FEED_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "msg.h"

struct peers;
struct peer;
struct conn;
struct record;
struct buf;

/* What a peer gets of one record (feed_what). */
enum feed_what {
	FEED_NOTHING = 0,  /* not shared with it: skipped */
	FEED_RECORD,       /* the record */
	FEED_WITHDRAWAL,   /* a withdrawal (scope.h): nil instead of state */
	FEED_NEEDS_RECORD, /* r was NULL and its contents decide */
};

/*
 * The scope rule, stated once for the feed, verification and repairs:
 * what p gets of a record of collection coll. r is the decoded record, or
 * NULL to ask whether the collection alone decides (then FEED_NEEDS_RECORD
 * if it does not). Everything is only read.
 */
enum feed_what feed_what(
    const struct peer *p, uint8_t coll, const struct record *r);

/*
 * True if we hold key ([coll][id], STDB_KEY_LEN bytes) and p is owed a
 * withdrawal of it instead of the record: what the feed would send p.
 * txn is a read (or write) transaction of the node's store; decodes into
 * ps's sender workspace.
 */
bool feed_owes_withdrawal(
    struct peers *ps, MDB_txn *txn, const struct peer *p, const uint8_t *key);

/*
 * SUB from the peer on c: start streaming from its checkpoint, or send
 * RESYNC and start from 0 when the checkpoint cannot be honoured.
 * 0, or -1 when c was closed (a malformed SUB).
 */
int feed_subscribe(struct conn *c, const struct msg_peer *m);

/* ACK from the peer on c: note how far it holds our feed. 0, or -1 when
 * c was closed (an ACK beyond what was sent). */
int feed_ack(struct conn *c, const struct msg_peer *m);

/*
 * Send what c's peer is missing while c's output is below the high
 * watermark (then wait for the write callback); LIVE once at the head.
 * Does nothing before SUB or on a closing connection.
 */
void feed_pump(struct conn *c);

/*
 * The peer's store was replaced (a new epoch since HELLO): if it
 * subscribed, send RESYNC (why, a static or caller-owned text) and stream
 * everything again from seq 0.
 */
void feed_restart(struct conn *c, const char *why);

/* New local commits: pump every subscribed open connection. NULL is a
 * no-op. */
void feed_notify(struct peers *ps);

/* c is closing: it no longer takes our feed. */
void feed_closed(struct conn *c);

/*
 * How far p acknowledged our feed: true and epoch/seq set, or false (no
 * acknowledgement known; outputs untouched).
 */
bool feed_acked(const struct peer *p, uint8_t epoch[16], uint64_t *seq);

/* Our changes p has not acknowledged (our whole feed after a new epoch). */
uint64_t feed_lag_records(struct peers *ps, const struct peer *p);

/* Age in ms of the oldest change p has not acknowledged; 0 when none or
 * when the store cannot be read. */
uint64_t feed_lag_ms(struct peers *ps, const struct peer *p);

/* We told p LIVE on its session and it acknowledged our feed up to
 * there: it holds all of our feed (not merely queued for it). */
bool feed_caught_up(const struct peer *p);

/*
 * p holds all of our feed: we said LIVE on its session and it
 * acknowledged our head (in our epoch), or our feed is empty.
 */
bool feed_idle(struct peers *ps, const struct peer *p);

/*
 * Bytes the next CHANGES frame to p aims at: JALIN_BATCH_SECONDS of what
 * p acknowledges per second, below what drops taught (limits.h), between
 * JALIN_BATCH_BYTES_MIN and JALIN_BATCH_BYTES.
 */
uint64_t feed_batch(const struct peer *p);

/* Bytes per second p acknowledged of our feed, as last measured (0: not
 * yet); kept across connections. */
double feed_rate(const struct peer *p);

/*
 * Sessions in a row that closed before p acknowledged one batch of ours
 * (0 once one gets through); the size of the last batch that did not get
 * through in *batch (may be NULL).
 */
uint32_t feed_stuck(const struct peer *p, uint64_t *batch);

/* We are sending p our feed again from 0 (RESYNC), until LIVE. */
bool feed_resyncing(const struct peer *p);

/* Make (0) or free p's feed state (struct feed_peer, private to feed.c);
 * new returns JALIN_ENOMEM when out of memory. free(NULL state) is a
 * no-op; p itself stays. */
int feed_peer_new(struct peer *p);
void feed_peer_free(struct peer *p);

/* Load every peer's "ack:" checkpoint from the store (how far it holds
 * our feed); a store that cannot be read leaves them unknown. */
void feed_load(struct peers *ps);

/*
 * Echo suppression: feed entries after seq whose source is p hold what p
 * sent us and still has, so they are not sent back. Set whenever p's
 * store may have changed (first contact, new epoch, RESYNC).
 */
void feed_trust_from(struct peer *p, uint64_t seq);

/* feed_trust_from was called for p since we started. */
bool feed_trusts(const struct peer *p);

#endif
