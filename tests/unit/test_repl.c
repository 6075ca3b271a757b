/*
 * test_repl.c - a replication session in one process (tests/unit/fx_repl.h):
 * the connection layer (node/conn.c: framing, HELLO and its rules, ERROR,
 * PING/PONG, duplicates, liveness on the tick), the router and the peer
 * states (node/repl.c), and our feed as a fake peer receives it
 * (node/feed.c: SUB, CHANGES, LIVE, ACK, RESYNC). Exact error texts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "err.h"
#include "hlc.h"
#include "mp.h"
#include "peer.h"
#include "peer_impl.h"
#include "conn.h"
#include "store.h"
#include "feed.h"
#include "apply.h"
#include "repl.h"
#include "fx_repl.h"

#define ME   "jabar"
#define THEM "banten"

static const uint8_t EPOCH_A[16] = {
    0xa1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

struct t {
	struct fx *f;
	struct fx_node *nd;
	struct fx_fake *fk;
	struct buf st;
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->f = fx_new();
	t->nd = fx_node_add(t->f, ME);
	fx_node_peer(t->nd, THEM, FX_COLLS_ALL, false);
	fx_node_peer(t->nd, "sulsel", FX_COLLS_ALL, false);
	buf_init(&t->st, JALIN_RECORD_MAX);
	fx_log_capture(t->f);
	fx_node_start(t->nd);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	fx_free(t->f);
	buf_free(&t->st);
	free(t);
	return 0;
}

static struct peer *
them(struct t *t)
{
	return fx_peer(t->nd, THEM);
}

/* A fake called name, the node's HELLO read. */
static struct fx_fake *
fake(struct t *t, const char *name, bool outbound)
{
	struct fx_fake *fk = fx_fake_new(t->nd, name, outbound);

	fx_fake_expect(fk, MSG_HELLO, NULL);
	return fk;
}

/* ... and HELLO from it; the node's SUB read. */
static struct fx_fake *
open_fake(struct t *t, const char *name, bool outbound)
{
	struct fx_fake *fk = fake(t, name, outbound);

	fx_fake_hello(fk, EPOCH_A, 0);
	fx_fake_expect(fk, MSG_SUB, NULL);
	return fk;
}

static void
flush_fake(struct fx_fake *fk)
{
	fx_fake_send(fk, fx_fake_buf(fk));
}

/* A frame header alone, of length len. */
static void
send_hdr(struct fx_fake *fk, uint32_t len)
{
	uint8_t h[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16),
	    (uint8_t)(len >> 8), (uint8_t)len};

	bufferevent_write(fk->bev, h, 4);
}

/* ---- HELLO ------------------------------------------------------------- */

static void
test_hello_opens(void **state)
{
	struct t *t = *state;
	struct msg_peer m;

	assert_int_equal(repl_state(t->nd->n.peers, them(t)), PEER_DOWN);
	t->fk = fx_fake_new(t->nd, THEM, false);
	fx_fake_expect(t->fk, MSG_HELLO, &m);
	assert_int_equal(m.pv_min, JALIN_PROTO_VERSION_MIN);
	assert_int_equal(m.pv_max, JALIN_PROTO_VERSION_MAX);
	assert_int_equal(m.name_len, strlen(ME));
	assert_memory_equal(m.name, ME, m.name_len);
	assert_memory_equal(m.epoch, store_epoch(t->nd->n.store), 16);
	assert_int_equal(repl_state(t->nd->n.peers, them(t)), PEER_HANDSHAKING);
	assert_false(conn_is_up(them(t)));
	assert_int_equal(conn_connected_ms(them(t)), 0);
	fx_fake_hello(t->fk, EPOCH_A, 5);
	fx_fake_expect(t->fk, MSG_SUB, &m);
	assert_true(conn_is_up(them(t)));
	assert_true(conn_connected_ms(them(t)) > 0);
	assert_true(conn_last_contact_ms(them(t)) > 0);
	assert_int_equal(repl_state(t->nd->n.peers, them(t)), PEER_CATCHING_UP);
	assert_string_equal(conn_who(them(t)->conn), THEM);
	assert_string_equal(conn_cn(them(t)->conn), THEM);
	assert_string_equal(conn_addr(them(t)->conn), "test:" THEM);
	assert_ptr_equal(conn_peer(them(t)->conn), them(t));
	assert_ptr_equal(conn_peers(them(t)->conn), t->nd->n.peers);
	assert_true(fx_log_has(
	    t->f, "peer " THEM ": up (accepted, test:" THEM ", protocol 4)"));
}

static void
test_hello_no_common_version(void **state)
{
	struct t *t = *state;
	struct msg_hello h = {9, 10, THEM, EPOCH_A, 0, 0, NULL, 0};
	char want[128];

	t->fk = fake(t, THEM, true);
	msg_enc_hello(fx_fake_buf(t->fk), &h);
	flush_fake(t->fk);
	snprintf(want, sizeof(want),
	    "no common protocol version (we speak %d-%d, you 9-10)",
	    JALIN_PROTO_VERSION_MIN, JALIN_PROTO_VERSION_MAX);
	fx_fake_expect_error(t->fk, JALIN_EPROTO, want);
	fx_settle(t->f);
	assert_int_equal(repl_state(t->nd->n.peers, them(t)), PEER_REFUSED);
	assert_string_equal(peer_last_error(them(t)), want);
	/* a later HELLO that agrees clears it */
	t->fk = open_fake(t, THEM, false);
	assert_int_equal(repl_state(t->nd->n.peers, them(t)), PEER_CATCHING_UP);
	assert_null(peer_last_error(them(t)));
}

static void
test_hello_without_epoch(void **state)
{
	struct t *t = *state;
	struct buf *b;
	msgpack_packer pk;

	t->fk = fake(t, THEM, false);
	b = fx_fake_buf(t->fk);
	fx_raw_begin(b, &pk, 4, MSG_HELLO);
	msgpack_pack_uint8(&pk, MK_PV_MIN);
	msgpack_pack_uint8(&pk, JALIN_PROTO_VERSION_MIN);
	msgpack_pack_uint8(&pk, MK_PV_MAX);
	msgpack_pack_uint8(&pk, JALIN_PROTO_VERSION_MAX);
	msgpack_pack_uint8(&pk, MK_NAME);
	msgpack_pack_str_with_body(&pk, THEM, strlen(THEM));
	flush_fake(t->fk);
	fx_fake_expect_error(
	    t->fk, JALIN_EPROTO, "HELLO: required key 43 (EPOCH) is missing");
}

static void
test_hello_other_name(void **state)
{
	struct t *t = *state;
	struct msg_hello h = {JALIN_PROTO_VERSION_MIN, JALIN_PROTO_VERSION_MAX,
	    "sulsel", EPOCH_A, 0, 0, NULL, 0};

	t->fk = fake(t, THEM, false);
	msg_enc_hello(fx_fake_buf(t->fk), &h);
	flush_fake(t->fk);
	fx_fake_expect_error(t->fk, JALIN_EPERM,
	    "HELLO names another node than the certificate (" THEM ")");
	assert_int_equal(peer_counters(them(t))->errors_by[EK_AUTH], 1);
}

static void
test_before_hello(void **state)
{
	struct t *t = *state;
	static const uint8_t junk[] = {0xc1};
	struct msg_peer m;
	char want[96];

	t->fk = fake(t, THEM, false);
	msg_enc_ping(fx_fake_buf(t->fk), 1);
	flush_fake(t->fk);
	fx_fake_expect_error(t->fk, JALIN_ESTATE, "expected HELLO, got ping");

	t->fk = fake(t, THEM, false);
	send_hdr(t->fk, JALIN_HELLO_FRAME_MAX + 1);
	snprintf(want, sizeof(want), "frame of %u bytes exceeds limit %u",
	    (unsigned)JALIN_HELLO_FRAME_MAX + 1,
	    (unsigned)JALIN_HELLO_FRAME_MAX);
	fx_fake_expect_error(t->fk, JALIN_ETOOBIG, want);

	t->fk = fake(t, THEM, false);
	send_hdr(t->fk, 0);
	fx_fake_expect_error(t->fk, JALIN_EPROTO, "empty frame");

	t->fk = fake(t, THEM, false);
	send_hdr(t->fk, 1);
	bufferevent_write(t->fk->bev, junk, 1);
	fx_fake_expect(t->fk, MSG_ERROR, &m);
	assert_int_equal(m.code, JALIN_EPROTO);
	assert_false(conn_is_up(them(t)));
}

/* ---- after HELLO ------------------------------------------------------- */

static void
test_ping_pong(void **state)
{
	struct t *t = *state;
	uint64_t then = hlc_wall_ms() + 60000;
	struct msg_peer m;

	t->fk = open_fake(t, THEM, false);
	msg_enc_ping(fx_fake_buf(t->fk), then);
	flush_fake(t->fk);
	fx_fake_expect(t->fk, MSG_PONG, &m);
	assert_int_equal(m.time, then);
	assert_true(peer_skew_ms(them(t)) > 59000);
	assert_true(peer_skew_ms(them(t)) <= 60000);
	msg_enc_pong(fx_fake_buf(t->fk), then);
	flush_fake(t->fk);
	fx_settle(t->f);
	assert_true(fx_fake_quiet(t->fk));
	assert_true(conn_is_up(them(t)));
}

static void
test_unexpected_after_hello(void **state)
{
	struct t *t = *state;

	t->fk = open_fake(t, THEM, false);
	fx_fake_hello(t->fk, EPOCH_A, 0);
	fx_fake_expect_error(
	    t->fk, JALIN_ESTATE, "unexpected hello message after HELLO");
	assert_false(conn_is_up(them(t)));
	assert_int_equal(peer_counters(them(t))->errors_by[EK_PROTOCOL], 1);
}

static void
test_frame_too_big_after_hello(void **state)
{
	struct t *t = *state;
	char want[96];

	t->fk = open_fake(t, THEM, false);
	send_hdr(t->fk, JALIN_FRAME_MAX + 1);
	snprintf(want, sizeof(want), "frame of %u bytes exceeds limit %u",
	    (unsigned)JALIN_FRAME_MAX + 1, (unsigned)JALIN_FRAME_MAX);
	fx_fake_expect_error(t->fk, JALIN_ETOOBIG, want);
}

/* ERROR from the peer: noted, connection closed; before HELLO an EPERM
 * marks the peer refused (an operator must act). */
static void
test_error_from_peer(void **state)
{
	struct t *t = *state;

	t->fk = open_fake(t, THEM, false);
	msg_enc_error(fx_fake_buf(t->fk), JALIN_EPERM, "go away");
	flush_fake(t->fk);
	fx_settle(t->f);
	assert_false(conn_is_up(them(t)));
	assert_string_equal(peer_last_error(them(t)), "peer said: go away");
	assert_int_equal(repl_state(t->nd->n.peers, them(t)), PEER_DOWN);
	assert_true(
	    fx_log_has(t->f, "peer " THEM ": error from peer: go away"));

	t->fk = fake(t, THEM, true);
	msg_enc_error(fx_fake_buf(t->fk), JALIN_EPERM, "not a peer here");
	flush_fake(t->fk);
	fx_settle(t->f);
	assert_int_equal(repl_state(t->nd->n.peers, them(t)), PEER_REFUSED);
}

/* Two sessions with one peer: the one dialled by the node with the
 * smaller name stays. */
static void
test_duplicate(void **state)
{
	struct t *t = *state;
	struct fx_fake *a, *b;

	/* both dialled by banten: the new one replaces the old, since a node
	 * dials again only once it gave the old session up (a satellite link
	 * that dropped without a word leaves the old one open here) */
	a = open_fake(t, THEM, false);
	b = fake(t, THEM, false);
	fx_fake_hello(b, EPOCH_A, 0);
	fx_fake_expect_error(a, JALIN_EEXIST, "duplicate connection");
	fx_settle(t->f);
	assert_true(conn_is_up(them(t)));
	assert_null(peer_last_error(them(t)));
	/* ours to banten (jabar > banten): banten's stays */
	a = fake(t, THEM, true);
	fx_fake_hello(a, EPOCH_A, 0);
	fx_fake_expect_error(a, JALIN_EEXIST, "duplicate connection");
	assert_int_equal(peer_counters(them(t))->errors_by[EK_DUPLICATE], 2);
	(void)b;
	/* sulsel's to us, then ours to it (jabar < sulsel): ours stays */
	a = open_fake(t, "sulsel", false);
	b = open_fake(t, "sulsel", true);
	fx_fake_expect_error(a, JALIN_EEXIST, "duplicate connection");
	fx_settle(t->f);
	assert_true(conn_is_up(fx_peer(t->nd, "sulsel")));
	assert_true(fx_peer(t->nd, "sulsel")->conn->outbound);
}

/* ---- liveness ---------------------------------------------------------- */

/* Nothing received for stall_timeout: stalled (and a PING sent); anything
 * received: recovered; four times that: closed. */
static void
test_stall_and_timeout(void **state)
{
	struct t *t = *state;
	uint64_t stall = t->nd->n.cfg->stall_timeout * 1000ull;
	struct conn *c;
	char want[64];

	t->fk = open_fake(t, THEM, false);
	c = them(t)->conn;
	c->last_rx_ms = hlc_wall_ms() - 2 * stall;
	c->last_tx_ms = hlc_wall_ms() - stall;
	fx_tick(t->nd);
	assert_int_equal(repl_state(t->nd->n.peers, them(t)), PEER_STALLED);
	assert_string_equal(
	    peer_last_error(them(t)), "stalled: nothing received");
	snprintf(want, sizeof(want),
	    "peer " THEM ": stalled: nothing received for %u s",
	    t->nd->n.cfg->stall_timeout);
	assert_true(fx_log_has(t->f, want));
	fx_fake_expect(t->fk, MSG_PING, NULL);
	msg_enc_pong(fx_fake_buf(t->fk), 1);
	flush_fake(t->fk);
	fx_settle(t->f);
	fx_tick(t->nd);
	assert_int_equal(repl_state(t->nd->n.peers, them(t)), PEER_CATCHING_UP);
	assert_null(peer_last_error(them(t)));
	assert_true(fx_log_has(t->f, "peer " THEM ": recovered"));
	c->last_rx_ms = hlc_wall_ms() - 5 * stall;
	fx_tick(t->nd);
	snprintf(want, sizeof(want), "nothing received for %llu s",
	    (unsigned long long)(5 * stall / 1000));
	fx_fake_expect(t->fk, MSG_ERROR, NULL); /* after the stall */
	assert_false(conn_is_up(them(t)));
	assert_int_equal(peer_counters(them(t))->errors_by[EK_TIMEOUT], 1);
}

/* A peer that does not read what we send is stalled too. */
static void
test_stall_not_reading(void **state)
{
	struct t *t = *state;
	struct buf b;
	struct conn *c;

	t->fk = open_fake(t, THEM, false);
	c = them(t)->conn;
	bufferevent_disable(t->fk->bev, EV_READ);
	buf_init(&b, 64);
	msg_enc_ping(&b, 1);
	conn_send(c, &b);
	fx_settle(t->f);
	assert_true(evbuffer_get_length(bufferevent_get_output(c->bev)) > 0);
	c->last_drain_ms = hlc_wall_ms() - 60 * 1000;
	fx_tick(t->nd);
	assert_string_equal(
	    peer_last_error(them(t)), "stalled: it does not read what we send");
	buf_free(&b);
}

/* A body that cannot be sent is logged and dropped. */
static void
test_send_refused(void **state)
{
	struct t *t = *state;
	struct buf b;

	t->fk = open_fake(t, THEM, false);
	buf_init(&b, 64);
	conn_send(them(t)->conn, &b);
	fx_settle(t->f);
	assert_true(fx_fake_quiet(t->fk));
	assert_true(
	    fx_log_has(t->f, "peer " THEM ": cannot send a 0-byte message"));
	buf_free(&b);
}

/* Ten ticks run tombstone collection too; nothing breaks while a session
 * is open. */
static void
test_ticks(void **state)
{
	struct t *t = *state;

	t->fk = open_fake(t, THEM, false);
	for (int i = 0; i < 10; i++)
		fx_tick(t->nd);
	fx_settle(t->f);
	assert_true(conn_is_up(them(t)));
}

/* ---- our feed, as the peer receives it --------------------------------- */

/* The number of items in m's RECS. */
static uint32_t
nrecs(const struct msg_peer *m)
{
	struct mpr r;
	uint32_t n;

	mpr_init(&r, m->recs, m->recs_len);
	assert_int_equal(mpr_array(&r, &n), 0);
	return n;
}

static void
sub(struct fx_fake *fk, const uint8_t *epoch, uint64_t seq)
{
	msg_enc_sub(fx_fake_buf(fk), epoch, seq);
	flush_fake(fk);
}

/* SUB from the start: our records in scope, then LIVE at our head;
 * ACKs up to what was sent; the states are live both ways. */
static void
test_feed_stream(void **state)
{
	struct t *t = *state;
	struct msg_peer m;
	uint64_t head;

	fx_state_coll(&t->st, COLL_LKS, ME, fx_hlc(-1000), NULL, 0);
	fx_put(t->nd, COLL_LKS, 1, &t->st);
	fx_put(t->nd, COLL_LKS, 2, &t->st);
	fx_state_shared(&t->st, ME, "sulsel", fx_hlc(-1000));
	fx_put(t->nd, COLL_CASE, 3, &t->st); /* not banten's */
	head = store_seq(t->nd->n.store);
	t->fk = open_fake(t, THEM, false);
	sub(t->fk, NULL, 0);
	fx_fake_expect(t->fk, MSG_CHANGES, &m);
	assert_int_equal(m.from, 0);
	assert_int_equal(m.upto, head);
	assert_int_equal(nrecs(&m), 2);
	fx_fake_expect(t->fk, MSG_LIVE, &m);
	assert_int_equal(m.upto, head);
	/* LIVE said is not LIVE held: caught up once acknowledged */
	assert_false(feed_caught_up(them(t)));
	msg_enc_ack(fx_fake_buf(t->fk), store_epoch(t->nd->n.store), head);
	flush_fake(t->fk);
	fx_settle(t->f);
	assert_true(feed_caught_up(them(t)));
	msg_enc_live(fx_fake_buf(t->fk), EPOCH_A, 0);
	flush_fake(t->fk);
	fx_settle(t->f);
	assert_int_equal(repl_state(t->nd->n.peers, them(t)), PEER_LIVE);
	assert_true(feed_idle(t->nd->n.peers, them(t)));
	/* a new write goes out at once */
	fx_state_coll(&t->st, COLL_LKS, ME, fx_hlc(-500), NULL, 0);
	fx_put(t->nd, COLL_LKS, 4, &t->st);
	fx_fake_expect(t->fk, MSG_CHANGES, &m);
	assert_int_equal(m.from, head);
	assert_int_equal(nrecs(&m), 1);
	/* an ACK beyond it */
	msg_enc_ack(fx_fake_buf(t->fk), store_epoch(t->nd->n.store), 99);
	flush_fake(t->fk);
	while (fx_fake_recv(t->fk, &m) == 0 && m.type != MSG_ERROR)
		;
	assert_int_equal(m.type, MSG_ERROR);
	assert_int_equal(m.code, JALIN_EPROTO);
	assert_int_equal(m.error_len, strlen("ACK beyond what was sent"));
}

/* SUB from a checkpoint in another epoch of our store: RESYNC, from 0. */
static void
test_feed_resync(void **state)
{
	struct t *t = *state;
	struct msg_peer m;

	fx_state_coll(&t->st, COLL_LKS, ME, fx_hlc(-1000), NULL, 0);
	fx_put(t->nd, COLL_LKS, 1, &t->st);
	t->fk = open_fake(t, THEM, false);
	sub(t->fk, EPOCH_A, 1);
	fx_fake_expect(t->fk, MSG_RESYNC, &m);
	assert_memory_equal(m.error,
	    "the checkpoint is for another epoch of this store", m.error_len);
	fx_fake_expect(t->fk, MSG_CHANGES, &m);
	assert_int_equal(m.from, 0);
	assert_int_equal(nrecs(&m), 1);
}

static void
test_feed_sub_without_seq(void **state)
{
	struct t *t = *state;
	struct buf *b;
	msgpack_packer pk;

	t->fk = open_fake(t, THEM, false);
	b = fx_fake_buf(t->fk);
	fx_raw_begin(b, &pk, 2, MSG_SUB);
	msgpack_pack_uint8(&pk, MK_EPOCH);
	msgpack_pack_bin_with_body(&pk, store_epoch(t->nd->n.store), 16);
	flush_fake(t->fk);
	fx_fake_expect_error(t->fk, JALIN_EPROTO,
	    "SUB: key 44 (SEQ) is required with key 43 (EPOCH)");
}

/* SUB from a checkpoint of ours: the rest from there; what it holds
 * counts as acknowledged, and the lag is what follows. */
static void
test_feed_sub_from_checkpoint(void **state)
{
	struct t *t = *state;
	const uint8_t *ep = store_epoch(t->nd->n.store);
	uint8_t acked[16];
	struct msg_peer m;
	uint64_t seq;

	fx_state_coll(&t->st, COLL_LKS, ME, fx_hlc(-1000), NULL, 0);
	fx_put(t->nd, COLL_LKS, 1, &t->st);
	fx_put(t->nd, COLL_LKS, 2, &t->st);
	t->fk = open_fake(t, THEM, false);
	assert_int_equal(feed_lag_records(t->nd->n.peers, them(t)), 2);
	assert_true(feed_lag_ms(t->nd->n.peers, them(t)) >= 1000);
	sub(t->fk, ep, 1);
	fx_fake_expect(t->fk, MSG_CHANGES, &m);
	assert_int_equal(m.from, 1);
	assert_int_equal(nrecs(&m), 1);
	fx_fake_expect(t->fk, MSG_LIVE, &m);
	assert_true(feed_acked(them(t), acked, &seq));
	assert_int_equal(seq, 1);
	assert_memory_equal(acked, ep, 16);
	assert_int_equal(feed_lag_records(t->nd->n.peers, them(t)), 1);
	msg_enc_ack(fx_fake_buf(t->fk), ep, 2);
	flush_fake(t->fk);
	fx_settle(t->f);
	assert_int_equal(feed_lag_records(t->nd->n.peers, them(t)), 0);
	assert_int_equal(feed_lag_ms(t->nd->n.peers, them(t)), 0);
}

/* SUB from beyond our head: our store was restored from an older copy.
 * A new epoch is drawn and the peer resyncs. */
static void
test_feed_sub_ahead(void **state)
{
	struct t *t = *state;
	uint8_t old[16];
	struct msg_peer m;
	char want[160];

	memcpy(old, store_epoch(t->nd->n.store), 16);
	t->fk = open_fake(t, THEM, false);
	sub(t->fk, old, 99);
	fx_fake_expect(t->fk, MSG_RESYNC, &m);
	assert_memory_equal(m.error,
	    "the checkpoint is ahead of this node's feed (its store was "
	    "restored from an older copy)",
	    m.error_len);
	assert_memory_not_equal(store_epoch(t->nd->n.store), old, 16);
	snprintf(want, sizeof(want),
	    "store: peer " THEM " has seq 99 of this node but the feed ends "
	    "at 0");
	assert_true(fx_log_has(t->f, want));
}

/* The peer resyncing its feed to us shows as resyncing. */
static void
test_state_resyncing(void **state)
{
	struct t *t = *state;

	t->fk = open_fake(t, THEM, false);
	msg_enc_resync(fx_fake_buf(t->fk), EPOCH_A, "again");
	flush_fake(t->fk);
	fx_settle(t->f);
	assert_int_equal(repl_state(t->nd->n.peers, them(t)), PEER_RESYNCING);
}

/* A verification message the verifier refuses closes the session. */
static void
test_verify_message_refused(void **state)
{
	struct t *t = *state;
	struct buf *b;
	msgpack_packer pk;

	t->fk = open_fake(t, THEM, false);
	b = fx_fake_buf(t->fk);
	fx_raw_begin(b, &pk, 1, MSG_VIDS_REQ);
	flush_fake(t->fk);
	fx_fake_expect_error(t->fk, JALIN_EPROTO,
	    "VIDS_REQ: required key 55 (BUCKET) is missing");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_hello_opens),
	    T(test_hello_no_common_version),
	    T(test_hello_without_epoch),
	    T(test_hello_other_name),
	    T(test_before_hello),
	    T(test_ping_pong),
	    T(test_unexpected_after_hello),
	    T(test_frame_too_big_after_hello),
	    T(test_error_from_peer),
	    T(test_duplicate),
	    T(test_stall_and_timeout),
	    T(test_stall_not_reading),
	    T(test_send_refused),
	    T(test_ticks),
	    T(test_feed_stream),
	    T(test_feed_resync),
	    T(test_feed_sub_without_seq),
	    T(test_feed_sub_from_checkpoint),
	    T(test_feed_sub_ahead),
	    T(test_state_resyncing),
	    T(test_verify_message_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
