/*
 * test_gc.c - tombstone collection (node/gc.c) without sockets or
 * processes: a node with its store in a temporary directory and fake peers
 * (tests/unit/fx_repl.h) that take its feed and acknowledge exactly as far
 * as the test says.
 *
 * What gc.c guarantees: a tombstone is kept until every configured peer
 * has acknowledged our feed past it (in this epoch of our store), and
 * status can name the peer that holds collection back; then it is buried
 * (moved out of the feed, kept aside in the gone database) in bounded
 * batches; purge markers are never collected; an older copy of a buried
 * record (a restored backup) cannot bring it back, and a peer whose
 * checkpoint is older than the collected tombstones is resynced. The same
 * run saves the peers' acknowledgements and, while one is live, the
 * contact time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "hlc.h"
#include "uuid.h"
#include "peer.h"
#include "ops.h"
#include "store.h"
#include "conn.h"
#include "feed.h"
#include "apply.h"
#include "gc.h"
#include "fx_repl.h"

#define ME "jabar"
#define P1 "banten"
#define P2 "sulsel"

#define GC_BATCH 10000 /* gc.c: tombstones buried per run */

static const uint8_t EPOCH_F[16] = {
    0xf1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

struct t {
	struct fx *f;
	struct fx_node *a;
	struct fx_fake *p1, *p2;
	struct buf st, st2, got;
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->f = fx_new();
	t->a = fx_node_add(t->f, ME);
	fx_node_peer(t->a, P1, FX_COLLS_ALL, false);
	fx_node_peer(t->a, P2, FX_COLLS_ALL, false);
	buf_init(&t->st, JALIN_RECORD_MAX);
	buf_init(&t->st2, JALIN_RECORD_MAX);
	buf_init(&t->got, JALIN_RECORD_MAX);
	fx_log_capture(t->f);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	fx_free(t->f);
	buf_free(&t->st);
	buf_free(&t->st2);
	buf_free(&t->got);
	free(t);
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

/* Write records first..first+count-1 of lks as jabar's own: live, or
 * created and deleted (a tombstone). */
struct bulk {
	unsigned first, count;
	bool deleted;
	const struct buf *st; /* NULL: made per record */
};

static int
bulk_fn(struct store_txn *tx, void *arg)
{
	const struct bulk *b = arg;
	struct buf s, d;
	uint8_t id[16];
	bool changed;
	int rc = 0;

	buf_init(&s, 1024);
	buf_init(&d, 1024);
	for (unsigned i = b->first; rc == 0 && i < b->first + b->count; i++) {
		const struct buf *w = b->st;
		fx_id(id, i);
		if (w == NULL) {
			fx_state_coll(
			    &s, COLL_LKS, ME, fx_hlc(-10000), NULL, 0);
			w = &s;
			if (b->deleted) {
				fx_state_deleted(&d, &s, ME, fx_hlc(-9000));
				w = &d;
			}
		}
		rc = store_txn_apply(
		    tx, COLL_LKS, id, w->p, w->len, &changed, NULL);
	}
	buf_free(&s);
	buf_free(&d);
	return rc;
}

static void
write_lks(struct t *t, unsigned first, unsigned count, bool deleted)
{
	struct bulk b = {first, count, deleted, NULL};

	assert_int_equal(store_write(t->a->n.store, bulk_fn, &b, NULL), 0);
	feed_notify(t->a->n.peers);
}

/* Store st as lks idn (one record). */
static void
put_local(struct t *t, unsigned idn, const struct buf *st)
{
	struct bulk b = {idn, 1, false, st};

	assert_int_equal(store_write(t->a->n.store, bulk_fn, &b, NULL), 0);
	feed_notify(t->a->n.peers);
}

/* A live lks idn, then its deletion: two feed entries, the last kept. */
static void
put_then_delete(struct t *t, unsigned idn)
{
	fx_state_coll(&t->st, COLL_LKS, ME, fx_hlc(-5000), NULL, 0);
	put_local(t, idn, &t->st);
	fx_state_deleted(&t->st2, &t->st, ME, fx_hlc(-4000));
	put_local(t, idn, &t->st2);
}

/* A fake peer name connected, both feeds subscribed from the start. */
static struct fx_fake *
connect_fake(struct t *t, const char *name)
{
	struct fx_fake *fk;
	struct msg_peer m;

	if (!t->a->started)
		fx_node_start(t->a);
	fk = fx_fake_new(t->a, name, false);
	fx_fake_expect(fk, MSG_HELLO, &m);
	fx_fake_hello(fk, EPOCH_F, 0);
	fx_fake_expect(fk, MSG_SUB, &m);
	msg_enc_sub(fx_fake_buf(fk), NULL, 0);
	fx_fake_send(fk, fx_fake_buf(fk));
	msg_enc_live(fx_fake_buf(fk), EPOCH_F, 0);
	fx_fake_send(fk, fx_fake_buf(fk));
	return fk;
}

static void ack_in(
    struct t *t, struct fx_fake *fk, const uint8_t *epoch, uint64_t upto);

/* Read what jabar sent fk (CHANGES, LIVE) until it is quiet: the last
 * UPTO of its CHANGES (0: none). With acks, each batch is acknowledged as
 * a peer does: the sender keeps only a few batches unacknowledged, so a
 * feed larger than those needs it; the tests of what an acknowledgement
 * allows acknowledge by hand. */
static uint64_t
take_feed_acking(struct t *t, struct fx_fake *fk, bool acks)
{
	struct msg_peer m;
	uint64_t upto = 0;

	for (;;) {
		fx_settle(t->f);
		if (fx_fake_quiet(fk))
			return upto;
		assert_int_equal(fx_fake_recv(fk, &m), 0);
		if (m.type == MSG_CHANGES) {
			upto = m.upto;
			if (acks)
				ack_in(t, fk, NULL, upto);
		} else
			assert_int_equal(m.type, MSG_LIVE);
	}
}

static uint64_t
take_feed(struct t *t, struct fx_fake *fk)
{
	return take_feed_acking(t, fk, false);
}

/* fk acknowledges jabar's feed up to upto (in epoch; NULL: jabar's). */
static void
ack_in(struct t *t, struct fx_fake *fk, const uint8_t *epoch, uint64_t upto)
{
	msg_enc_ack(
	    fx_fake_buf(fk), epoch ? epoch : store_epoch(t->a->n.store), upto);
	fx_fake_send(fk, fx_fake_buf(fk));
	fx_settle(t->f);
	assert_true(conn_is_up(fx_peer(t->a, fk->name)));
}

static void
ack(struct t *t, struct fx_fake *fk, uint64_t upto)
{
	ack_in(t, fk, NULL, upto);
}

/* One collection run, committed. */
static void
gc(struct t *t)
{
	gc_run(t->a->n.gc);
	fx_settle(t->f);
}

static uint64_t
seq_of(struct t *t, unsigned idn)
{
	uint8_t id[16];
	uint64_t seq = 0;

	fx_id(id, idn);
	assert_int_equal(fx_get(t->a, COLL_LKS, id, NULL, &seq), 0);
	return seq;
}

/* Where lks idn is: 'r' records, 'g' gone, '-' neither. */
static char
where(struct t *t, unsigned idn)
{
	const struct stdb *db = store_db(t->a->n.store);
	const uint8_t *st;
	size_t len;
	uint64_t seq;
	uint8_t id[16];
	MDB_txn *txn;
	char w = '-';

	fx_id(id, idn);
	assert_int_equal(
	    stdb_begin_read(store_db(t->a->n.store), &txn, NULL), 0);
	if (stdb_get_record(txn, db, COLL_LKS, id, &st, &len, &seq) == 0)
		w = 'r';
	else if (stdb_get_gone(txn, db, COLL_LKS, id, &st, &len) == 0)
		w = 'g';
	stdb_end_read(txn);
	return w;
}

static uint64_t
meta(struct t *t, const char *name)
{
	uint64_t v = 0;
	MDB_txn *txn;

	assert_int_equal(
	    stdb_begin_read(store_db(t->a->n.store), &txn, NULL), 0);
	stdb_meta_u64(txn, store_db(t->a->n.store), name, &v);
	stdb_end_read(txn);
	return v;
}

/* Entries in one of jabar's databases. */
static size_t
entries(struct t *t, enum stdb_db which)
{
	const struct stdb *db = store_db(t->a->n.store);
	MDB_stat st;
	MDB_txn *txn;

	assert_int_equal(
	    stdb_begin_read(store_db(t->a->n.store), &txn, NULL), 0);
	assert_int_equal(mdb_stat(txn, stdb_dbi(db, which), &st), 0);
	stdb_end_read(txn);
	return st.ms_entries;
}

static int
contact_fn(struct store_txn *tx, void *arg)
{
	uint8_t zero[8] = {0};

	(void)arg;
	return store_txn_put(tx, STDB_META, "contact", 7, zero, 8);
}

/* ---- tests ------------------------------------------------------------- */

/*
 * A tombstone stays while one peer has not acknowledged it (not even
 * connected: no acknowledgement known), and gc_holder names that peer;
 * once every peer acknowledged it, it is buried; live records stay.
 */
static void
test_kept_until_every_peer_acknowledged(void **state)
{
	struct t *t = *state;
	uint8_t epoch[16];
	uint64_t seq, head;

	assert_null(gc_holder(NULL));
	gc_free(NULL); /* a no-op */
	fx_node_start(t->a);
	write_lks(t, 1, 2, false);
	put_then_delete(t, 3);
	uint64_t tomb = seq_of(t, 3);
	head = store_seq(t->a->n.store);
	assert_int_equal(tomb, head);

	/* nobody acknowledged anything: the first peer holds it back */
	gc(t);
	assert_int_equal(where(t, 3), 'r');
	assert_string_equal(gc_holder(t->a->n.gc), P1);

	/* banten has all of it; sulsel was never seen */
	t->p1 = connect_fake(t, P1);
	assert_int_equal(take_feed(t, t->p1), head);
	ack(t, t->p1, head);
	gc(t);
	assert_int_equal(where(t, 3), 'r');
	assert_string_equal(gc_holder(t->a->n.gc), P2);
	/* banten's acknowledgement was saved by the run */
	assert_true(fx_ckpt(t->a, PEER_CKPT_ACK, P1, epoch, &seq));
	assert_memory_equal(epoch, store_epoch(t->a->n.store), 16);
	assert_int_equal(seq, head);
	assert_false(fx_ckpt(t->a, PEER_CKPT_ACK, P2, epoch, &seq));

	/* sulsel has all but the tombstone */
	t->p2 = connect_fake(t, P2);
	assert_int_equal(take_feed(t, t->p2), head);
	ack(t, t->p2, tomb - 1);
	gc(t);
	assert_int_equal(where(t, 3), 'r');
	assert_string_equal(gc_holder(t->a->n.gc), P2);
	assert_int_equal(meta(t, "gcseq"), 0);

	/* now every peer has it: buried; the live records stay */
	ack(t, t->p2, head);
	gc(t);
	assert_null(gc_holder(t->a->n.gc));
	assert_int_equal(where(t, 3), 'g');
	assert_int_equal(where(t, 1), 'r');
	assert_int_equal(where(t, 2), 'r');
	assert_int_equal(meta(t, "gcseq"), tomb);
	assert_int_equal(meta(t, "gcscan"), head);
	assert_int_equal(entries(t, STDB_FEED), 2);
	assert_int_equal(entries(t, STDB_GONE), 1);
	assert_true(fx_log_has(t->f,
	    "store: collected 1 tombstone(s) "
	    "acknowledged by every peer"));
	/* nothing new: a run changes nothing */
	gc(t);
	assert_int_equal(entries(t, STDB_GONE), 1);
	assert_int_equal(meta(t, "gcseq"), tomb);
}

/* Only what every peer acknowledged goes: of two tombstones, the one
 * below the lowest acknowledgement. */
static void
test_buried_up_to_the_lowest_ack(void **state)
{
	struct t *t = *state;

	fx_node_start(t->a);
	put_then_delete(t, 1);
	put_then_delete(t, 2);
	uint64_t t1 = seq_of(t, 1), t2 = seq_of(t, 2);
	assert_true(t1 < t2);
	t->p1 = connect_fake(t, P1);
	t->p2 = connect_fake(t, P2);
	take_feed(t, t->p1);
	take_feed(t, t->p2);
	ack(t, t->p1, t2);
	ack(t, t->p2, t1);
	gc(t);
	assert_int_equal(where(t, 1), 'g');
	assert_int_equal(where(t, 2), 'r');
	assert_string_equal(gc_holder(t->a->n.gc), P2);
	assert_int_equal(meta(t, "gcseq"), t1);
	ack(t, t->p2, t2);
	gc(t);
	assert_int_equal(where(t, 2), 'g');
	assert_null(gc_holder(t->a->n.gc));
	assert_int_equal(meta(t, "gcseq"), t2);
}

/* An acknowledgement in another epoch than our store's (it was made
 * before our store was restored or replaced) counts as none. */
static void
test_ack_of_another_epoch(void **state)
{
	struct t *t = *state;

	fx_node_start(t->a);
	put_then_delete(t, 1);
	uint64_t head = store_seq(t->a->n.store);
	t->p1 = connect_fake(t, P1);
	t->p2 = connect_fake(t, P2);
	take_feed(t, t->p1);
	take_feed(t, t->p2);
	ack(t, t->p1, head);
	ack_in(t, t->p2, EPOCH_F, head);
	gc(t);
	assert_int_equal(where(t, 1), 'r');
	assert_string_equal(gc_holder(t->a->n.gc), P2);
	ack(t, t->p2, head);
	gc(t);
	assert_int_equal(where(t, 1), 'g');
}

/*
 * More tombstones than one batch: a run buries GC_BATCH of them, the next
 * run the rest; the feed keeps only what is left.
 */
static void
test_bounded_batches(void **state)
{
	struct t *t = *state;
	const unsigned n = GC_BATCH + 25;

	fx_node_start(t->a);
	write_lks(t, 1, 10, false);
	write_lks(t, 100, n, true);
	uint64_t head = store_seq(t->a->n.store);
	assert_int_equal(entries(t, STDB_FEED), 10 + n);
	t->p1 = connect_fake(t, P1);
	t->p2 = connect_fake(t, P2);
	assert_int_equal(take_feed_acking(t, t->p1, true), head);
	assert_int_equal(take_feed_acking(t, t->p2, true), head);
	gc(t);
	assert_int_equal(entries(t, STDB_GONE), GC_BATCH);
	assert_int_equal(entries(t, STDB_FEED), 10 + n - GC_BATCH);
	assert_int_equal(where(t, 100), 'g');
	assert_int_equal(where(t, 100 + n - 1), 'r');
	assert_true(fx_log_has(t->f, "store: collected 10000 tombstone(s)"));
	gc(t);
	assert_int_equal(entries(t, STDB_GONE), n);
	assert_int_equal(entries(t, STDB_FEED), 10);
	assert_int_equal(where(t, 100 + n - 1), 'g');
	assert_int_equal(meta(t, "gcseq"), head);
	assert_true(fx_log_has(t->f, "store: collected 25 tombstone(s)"));
	for (unsigned i = 1; i <= 10; i++)
		assert_int_equal(where(t, i), 'r');
}

/* A purge marker is never collected: it keeps an erased id from coming
 * back, whoever acknowledged it. */
static void
test_purge_marker_kept(void **state)
{
	struct t *t = *state;

	fx_node_start(t->a);
	fx_state_coll(&t->st, COLL_LKS, ME, fx_hlc(-5000), NULL, 0);
	put_local(t, 1, &t->st);
	fx_state_purged(&t->st2, &t->st, ME, fx_hlc(-4000));
	put_local(t, 1, &t->st2);
	put_then_delete(t, 2);
	uint64_t head = store_seq(t->a->n.store);
	t->p1 = connect_fake(t, P1);
	t->p2 = connect_fake(t, P2);
	take_feed(t, t->p1);
	take_feed(t, t->p2);
	ack(t, t->p1, head);
	ack(t, t->p2, head);
	gc(t);
	assert_int_equal(where(t, 1), 'r');
	assert_int_equal(where(t, 2), 'g');
	assert_null(gc_holder(t->a->n.gc));
}

/*
 * What a buried tombstone still does: an older copy of the record from a
 * peer (a restored backup) merges into it and changes nothing; a peer
 * whose checkpoint is older than the collected tombstones is not streamed
 * from there (it would miss the deletions) but resynced.
 */
static void
test_restored_backup_cannot_undelete(void **state)
{
	struct t *t = *state;
	struct msg_batch bt;
	struct msg_peer m;
	uint8_t id[16];

	fx_node_start(t->a);
	put_then_delete(t, 1); /* t->st: the live copy, st2 the tombstone */
	fx_state_coll(&t->got, COLL_LKS, ME, fx_hlc(-3000), NULL, 0);
	put_local(t, 2, &t->got);
	uint64_t head = store_seq(t->a->n.store);
	t->p1 = connect_fake(t, P1);
	t->p2 = connect_fake(t, P2);
	take_feed(t, t->p1);
	take_feed(t, t->p2);
	ack(t, t->p1, head);
	ack(t, t->p2, head);
	gc(t);
	assert_int_equal(where(t, 1), 'g');
	uint64_t seq0 = store_seq(t->a->n.store);

	/* banten sends the old live copy in its feed */
	msg_changes_begin(
	    &bt, fx_fake_buf(t->p1), EPOCH_F, 0, 1, hlc_wall_ms());
	fx_id(id, 1);
	msg_batch_rec(&bt, 1, COLL_LKS, id, t->st.p, t->st.len);
	msg_changes_end(&bt, 1);
	fx_fake_send(t->p1, fx_fake_buf(t->p1));
	fx_fake_expect(t->p1, MSG_ACK, &m);
	assert_int_equal(m.upto, 1);
	assert_int_equal(where(t, 1), 'g');
	assert_int_equal(store_seq(t->a->n.store), seq0);

	/* sulsel comes back with a checkpoint from before the deletion */
	fx_fake_hangup(t->p2);
	fx_settle(t->f);
	t->p2 = fx_fake_new(t->a, P2, false);
	fx_fake_expect(t->p2, MSG_HELLO, &m);
	fx_fake_hello(t->p2, EPOCH_F, 0);
	fx_fake_expect(t->p2, MSG_SUB, &m);
	msg_enc_sub(fx_fake_buf(t->p2), store_epoch(t->a->n.store), 1);
	fx_fake_send(t->p2, fx_fake_buf(t->p2));
	fx_fake_expect(t->p2, MSG_RESYNC, &m);
	assert_int_equal(m.error_len,
	    strlen("tombstones after the checkpoint "
	           "have been collected"));
	assert_memory_equal(m.error,
	    "tombstones after the checkpoint have been collected", m.error_len);
}

/*
 * The run also saves "contact" while a peer is live and the node is not
 * held after an outage; acknowledgements it saved are loaded at the next
 * start, so collection does not wait for the peers to come back.
 */
static void
test_contact_and_saved_acks(void **state)
{
	struct t *t = *state;
	uint8_t epoch[16];
	uint64_t seq;

	fx_node_start(t->a);
	put_then_delete(t, 1);
	uint64_t head = store_seq(t->a->n.store);
	gc(t); /* no peer live: no contact */
	assert_int_equal(meta(t, "contact"), 0);
	t->p1 = connect_fake(t, P1);
	take_feed(t, t->p1);
	ack(t, t->p1, head);
	/* its LIVE ran a collection, which saved contact: forget it */
	assert_true(meta(t, "contact") != 0);
	assert_int_equal(store_write(t->a->n.store, contact_fn, NULL, NULL), 0);
	assert_int_equal(meta(t, "contact"), 0);
	t->a->n.held_since_ms = 1; /* held: contact is not saved */
	gc(t);
	assert_int_equal(meta(t, "contact"), 0);
	t->a->n.held_since_ms = 0;
	uint64_t before = hlc_wall_ms();
	gc(t);
	assert_true(meta(t, "contact") >= before);
	assert_true(meta(t, "contact") <= hlc_wall_ms());
	assert_int_equal(where(t, 1), 'r'); /* sulsel never acknowledged */

	t->p2 = connect_fake(t, P2);
	take_feed(t, t->p2);
	ack(t, t->p2, head);
	/* a run already queued: the second call does nothing */
	gc_run(t->a->n.gc);
	gc_run(t->a->n.gc);
	fx_settle(t->f);
	assert_int_equal(where(t, 1), 'g');
	assert_true(fx_ckpt(t->a, PEER_CKPT_ACK, P2, epoch, &seq));
	assert_int_equal(seq, head);

	/* after a restart, with no peer connected, the saved
	 * acknowledgements let a new tombstone wait for them alone */
	fx_node_restart(t->a);
	assert_true(feed_acked(fx_peer(t->a, P1), epoch, &seq));
	assert_int_equal(seq, head);
	put_then_delete(t, 2);
	gc(t);
	assert_int_equal(where(t, 2), 'r');
	assert_string_equal(gc_holder(t->a->n.gc), P1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_kept_until_every_peer_acknowledged),
	    T(test_buried_up_to_the_lowest_ack),
	    T(test_ack_of_another_epoch),
	    T(test_bounded_batches),
	    T(test_purge_marker_kept),
	    T(test_restored_backup_cannot_undelete),
	    T(test_contact_and_saved_acks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
