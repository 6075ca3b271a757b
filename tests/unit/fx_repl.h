/*
 * fx_repl.h - an in-process replication harness for the unit tests: nodes
 * in ONE process, each a struct node with its own store in a temporary
 * directory, its ops (group commit) and the repl/conn machinery, all on
 * one event_base; connected to each other, or to a fake peer the test
 * speaks for, through libevent bufferevent pairs (in memory: no socket,
 * no TLS, no listener, no DNS). The test drives the loop (fx_run,
 * fx_settle) for a bounded number of rounds.
 *
 * A test:
 *
 *	struct fx *f = fx_new();
 *	struct fx_node *a = fx_node_add(f, "jabar");
 *	fx_node_peer(a, "banten", FX_COLLS_ALL, false);
 *	a->n.cfg->max_clock_skew = 5;          (any cfg field, before start)
 *	fx_node_start(a);
 *	struct fx_fake *p = fx_fake_new(a, "banten", false);
 *	fx_fake_expect(p, MSG_HELLO, &m);      (the node's HELLO)
 *	fx_fake_hello(p, epoch, 0);
 *	fx_fake_expect(p, MSG_SUB, &m);        (it subscribes to our feed)
 *	... msg_changes_begin / msg_batch_rec / msg_changes_end into
 *	    fx_fake_buf(p), then fx_fake_send(p, fx_fake_buf(p)) ...
 *	fx_fake_expect(p, MSG_ACK, &m);
 *	fx_free(f);
 *
 * Two real nodes: fx_link(a, b), then fx_run(f, cond, arg) until cond.
 *
 * Every function fails the running cmocka test (fail_msg / assert_*) on a
 * setup error rather than returning it, unless it says otherwise. Nodes'
 * log lines go to stderr; fx_log_capture / fx_log_has let a test assert
 * one. The tick (liveness, verification rounds, gc every 10 ticks) is
 * never armed: fx_tick runs one when a test wants it.
 *
 * Linking: tests/unit/test_X.c that includes this links
 * build/tests/unit/fx_repl.o (Makefile UNIT_FX).
 */
#ifndef JALIN_FX_REPL_H
#define JALIN_FX_REPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <msgpack.h>

#include "buf.h"
#include "merge.h"
#include "msg.h"
#include "node.h"
#include "peer.h"
#include "schema.h"

#define FX_NODES_MAX 4
#define FX_FAKES_MAX 8
/* Loop rounds (EVLOOP_NONBLOCK) fx_run tries before giving up. */
#define FX_ROUNDS_MAX 2000
/* Rounds fx_settle runs: enough for a few round trips and commits. */
#define FX_SETTLE_ROUNDS 64
/* Every collection, for fx_node_peer. */
#define FX_COLLS_ALL                                                       \
	((1u << COLL_CASE) | (1u << COLL_PARTNERSHIP) | (1u << COLL_LKS) | \
	    (1u << COLL_RESOURCE) | (1u << COLL_REFERRAL))

struct fx;

/* One node. n is the daemon's state as main.c builds it (n.base is the
 * harness's loop; n.cfg is the node's and may be changed before start). */
struct fx_node {
	struct node n;
	char dir[64]; /* its store's temporary directory */
	bool started;
	struct fx *f;
};

/* A fake peer: the test writes its frames and reads what the node sent. */
struct fx_fake {
	struct fx *f;
	struct fx_node *nd; /* the node it is connected to */
	char name[JALIN_NAME_MAX + 1];
	struct bufferevent *bev; /* the fake's end of the pair */
	struct buf frame;        /* the last frame received (fx_fake_recv) */
	struct buf out;          /* scratch for the test's encoders */
	uint8_t epoch[16];       /* the epoch fx_fake_hello sent */
};

/* The harness: its loop, nodes, fakes; log level info (FX_DEBUG=1 in
 * the environment: debug). Never NULL. */
struct fx *fx_new(void);

/* Stop every node, free every fake, remove the stores' directories. */
void fx_free(struct fx *f);

/* The harness's event_base (shared by every node). */
struct event_base *fx_base(struct fx *f);

/*
 * A node called name (region 31, a store in a new temporary directory
 * under $FX_TMPDIR if set, else /tmp,
 * max_clock_skew JALIN_CLOCK_SKEW_DEFAULT, verify and offline hold off),
 * without peers and not started.
 */
struct fx_node *fx_node_add(struct fx *f, const char *name);

/* Configure [peer name] on nd (before fx_node_start): the collections it
 * shares with nd (bits 1 << COLL_*), whether it keeps every case. No
 * address: nothing is dialled. Returns the cfg entry (owned by nd). */
struct cfg_peer *fx_node_peer(
    struct fx_node *nd, const char *name, uint32_t colls, bool all_cases);

/*
 * Give nd (before fx_node_start) a key and a certificate of the harness's
 * own CA (an EC P-256 CA made once per struct fx; files in nd's
 * directory, [tls] ca/cert/key set): when started, the node has a TLS
 * context like jalind's, signs its writes with its key (PROTOCOL.md §13)
 * and checks the CERTs a peer sends against that CA. Without it a node
 * signs nothing and has no CA.
 */
void fx_node_tls(struct fx_node *nd);

/* Open the store, ops, and replication as main.c and repl_start do
 * (conn_start_test: no TLS, no sockets; checkpoints loaded, outage
 * checked, gc made; commits wake the feeds). */
void fx_node_start(struct fx_node *nd);

/* Stop as main.c does (ERROR "node stopping" to every peer, queued writes
 * flushed, store closed); the directory and cfg stay for a restart. */
void fx_node_stop(struct fx_node *nd);

/* fx_node_stop then fx_node_start: the same store, reopened. */
void fx_node_restart(struct fx_node *nd);

/* nd's configured peer called name (fails the test if none). */
struct peer *fx_peer(struct fx_node *nd, const char *name);

/* Connect two started nodes (each configured with the other as a peer):
 * a dialled b. HELLO, SUB and the feeds follow as the loop runs. */
void fx_link(struct fx_node *a, struct fx_node *b);

/*
 * A fake peer called name connected to nd (outbound: nd dialled it). nd
 * sends its HELLO at once (fx_fake_expect it). The fake's HELLO is the
 * test's to send (fx_fake_hello), or any other first frame.
 */
struct fx_fake *fx_fake_new(
    struct fx_node *nd, const char *name, bool outbound);

/*
 * Free fk before fx_free (its bufferevent, buffers, its slot among the
 * FX_FAKES_MAX): for a harness that opens a connection per input. Hang up
 * first (fx_fake_hangup) and run the loop until the node has closed its
 * end, or stop the node: the node's end is not told of the free.
 */
void fx_fake_free(struct fx_fake *fk);

/* The fake's scratch buffer, for msg_enc_* / msg_changes_begin. */
struct buf *fx_fake_buf(struct fx_fake *fk);

/* Frame body and write it to the node (body stays the caller's). */
void fx_fake_send(struct fx_fake *fk, const struct buf *body);

/* Send a HELLO as fk->name in epoch (remembered in fk->epoch) at seq. */
void fx_fake_hello(struct fx_fake *fk, const uint8_t epoch[16], uint64_t seq);

/*
 * Run the loop until the node sent fk a whole frame; decode it into *m
 * (msg_decode_peer; m's spans point into fk->frame until the next recv).
 * 0, -1 if none came within FX_ROUNDS_MAX rounds, or the decoder's error.
 */
int fx_fake_recv(struct fx_fake *fk, struct msg_peer *m);

/* fx_fake_recv, asserting a frame of type came (fails the test naming
 * what came instead). m may be NULL. */
void fx_fake_expect(struct fx_fake *fk, uint64_t type, struct msg_peer *m);

/* An ERROR came next, with this exact code and text. */
void fx_fake_expect_error(struct fx_fake *fk, int code, const char *text);

/* The fake hangs up: the node sees EOF (as a dropped TCP connection)
 * when the loop next runs. */
void fx_fake_hangup(struct fx_fake *fk);

/* After fx_settle: true if nothing more waits from the node. */
bool fx_fake_quiet(struct fx_fake *fk);

/* Run the loop until cond(arg) holds (checked before each round), at
 * most FX_ROUNDS_MAX rounds. Returns whether it held. */
bool fx_run(struct fx *f, bool (*cond)(void *arg), void *arg);

/* Run FX_SETTLE_ROUNDS rounds (frames exchanged, tasks committed). */
void fx_settle(struct fx *f);

/* One tick of nd's connections (conn_tick_test). */
void fx_tick(struct fx_node *nd);

/* --- record states -------------------------------------------------- */

/*
 * A record state as a node's write would make it (merge_put on an empty
 * record at hlc by origin), with these fields besides TAG_ORIGIN_NODE
 * (origin): u[0..n) sorted by tag, tags > TAG_ORIGIN_NODE. Encoded into
 * out (reset first).
 */
void fx_state(struct buf *out, const char *origin, uint64_t hlc,
    const struct merge_update *u, size_t n);

/*
 * The same for a new record of collection coll as a peer must send it:
 * besides u[0..n) (sorted by tag), every required field the schema names
 * gets a valid value (authz.h checks required fields on creation).
 */
void fx_state_coll(struct buf *out, uint8_t coll, const char *origin,
    uint64_t hlc, const struct merge_update *u, size_t n);

/*
 * The same as a later write by self on prev (a state fx_state* made):
 * merge_put on prev's decoded state at hlc (above prev's) with u[0..n)
 * (sorted by tag, tags >= 1). Encoded into out (reset first; out must not
 * be prev).
 */
void fx_state_on(struct buf *out, const struct buf *prev, const char *self,
    uint64_t hlc, const struct merge_update *u, size_t n);

/* The tombstone of prev (a delete by self at hlc, value [nil, nil]),
 * into out. */
void fx_state_deleted(
    struct buf *out, const struct buf *prev, const char *self, uint64_t hlc);

/* Start a hand-made frame body in b: a map of n keys, TYPE = type first
 * (for what the encoders never write). */
void fx_raw_begin(struct buf *b, msgpack_packer *pk, uint32_t n, uint8_t type);

/* A purge of prev (NULL: of a record never written) by self at hlc,
 * without hash and of unknown scope (it goes everywhere). */
void fx_state_purged(
    struct buf *out, const struct buf *prev, const char *self, uint64_t hlc);

/* A case (with its required fields) made at origin and shared with `with`
 * (NULL: share_with left out), written at hlc. */
void fx_state_shared(
    struct buf *out, const char *origin, const char *with, uint64_t hlc);

/* An HLC for wall-clock ms from now (negative: the past). */
uint64_t fx_hlc(int64_t ms_from_now);

/*
 * nd stores the state st as record idn of coll (fx_id) as a peer's state
 * is applied (store_txn_apply: merged, not signed), then tells its feed
 * (feed_notify). fx_bury collects record idn's tombstone (store_txn_bury;
 * the record must exist).
 */
void fx_put(
    struct fx_node *nd, uint8_t coll, unsigned idn, const struct buf *st);
void fx_bury(struct fx_node *nd, uint8_t coll, unsigned idn);

/* A fixed id: 16 bytes derived from n (distinct for distinct n). */
void fx_id(uint8_t id[16], unsigned n);

/* --- reading back --------------------------------------------------- */

/*
 * The stored state of coll/id on nd copied into state (may be NULL) and
 * its feed seq into *seq (may be NULL). 0, JALIN_ENOTFOUND or the
 * store's error.
 */
int fx_get(struct fx_node *nd, uint8_t coll, const uint8_t id[16],
    struct buf *state, uint64_t *seq);

/* The checkpoint prefix (PEER_CKPT_IN / _ACK) + peer saved on nd: true
 * and epoch/seq set, or false when none. */
bool fx_ckpt(struct fx_node *nd, const char *prefix, const char *peer,
    uint8_t epoch[16], uint64_t *seq);

/* --- log lines ------------------------------------------------------ */

/* From now until fx_log_end (or fx_free) stderr goes to a file. */
void fx_log_capture(struct fx *f);

/* A captured line contains needle. */
bool fx_log_has(struct fx *f, const char *needle);

/* Stop capturing: stderr is restored and the capture is written to it. */
void fx_log_end(struct fx *f);

#endif
