/*
 * test_apply.c - the applier (node/apply.c) without sockets or processes:
 * a node with its store in a temporary directory, and a fake peer
 * (tests/unit/fx_repl.h) whose CHANGES, REPAIR, LIVE and RESYNC frames the
 * test writes; the outcome is read back from the store and the node's
 * answers (SUB, ACK, ERROR with its exact text) are decoded.
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
#include "peer.h"
#include "apply.h"
#include "feed.h"
#include "store.h"
#include "fx_repl.h"

#define ME   "jabar"
#define THEM "banten"

static const uint8_t EPOCH_A[16] = {
    0xa1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

struct t {
	struct fx *f;
	struct fx_node *nd;
	struct fx_fake *fk;
	struct buf st; /* a state being built */
	struct buf got;
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->f = fx_new();
	t->nd = fx_node_add(t->f, ME);
	fx_node_peer(t->nd, THEM, FX_COLLS_ALL, false);
	buf_init(&t->st, JALIN_RECORD_MAX);
	buf_init(&t->got, JALIN_RECORD_MAX);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	fx_free(t->f);
	buf_free(&t->st);
	buf_free(&t->got);
	free(t);
	return 0;
}

/* Start the node, connect the fake, HELLO both ways; the node's SUB. */
static void
open_fake(struct t *t, struct msg_peer *sub)
{
	struct msg_peer m;

	if (!t->nd->started)
		fx_node_start(t->nd);
	t->fk = fx_fake_new(t->nd, THEM, false);
	fx_fake_expect(t->fk, MSG_HELLO, &m);
	fx_fake_hello(t->fk, EPOCH_A, 0);
	fx_fake_expect(t->fk, MSG_SUB, sub ? sub : &m);
}

static void
test_new_record(void **state)
{
	struct t *t = *state;
	struct msg_batch bt;
	struct msg_peer m;
	uint8_t id[16];
	uint64_t seq;

	open_fake(t, &m);
	assert_false(m.has_epoch);
	fx_id(id, 1);
	fx_state(&t->st, THEM, fx_hlc(-1000), NULL, 0);
	msg_changes_begin(
	    &bt, fx_fake_buf(t->fk), EPOCH_A, 0, 1, hlc_wall_ms());
	msg_batch_rec(&bt, 1, COLL_LKS, id, t->st.p, t->st.len);
	msg_changes_end(&bt, 1);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_expect(t->fk, MSG_ACK, &m);
	assert_int_equal(m.upto, 1);
	assert_int_equal(fx_get(t->nd, COLL_LKS, id, &t->got, &seq), 0);
	assert_int_equal(t->got.len, t->st.len);
	assert_memory_equal(t->got.p, t->st.p, t->st.len);
}

/* ---- two real nodes ---------------------------------------------------- */

struct put {
	uint8_t coll;
	const uint8_t *id;
	const struct buf *st;
};

static int
put_fn(struct store_txn *tx, void *arg)
{
	const struct put *p = arg;
	bool changed;

	return store_txn_apply(
	    tx, p->coll, p->id, p->st->p, p->st->len, &changed, NULL);
}

/* Write a state into nd's store as if a local write had made it. */
static void
put_local(
    struct fx_node *nd, uint8_t coll, const uint8_t *id, const struct buf *st)
{
	struct put p = {coll, id, st};

	assert_int_equal(store_write(nd->n.store, put_fn, &p, NULL), 0);
	feed_notify(nd->n.peers);
}

struct has {
	struct fx_node *nd;
	const uint8_t *id;
};

static bool
has_lks(void *arg)
{
	struct has *h = arg;

	return fx_get(h->nd, COLL_LKS, h->id, NULL, NULL) == 0;
}

static bool
both_live(void *arg)
{
	struct fx_node **nds = arg;

	return apply_is_live(fx_peer(nds[0], "sulsel")) &&
	    apply_is_live(fx_peer(nds[1], ME));
}

/* Two nodes over a pair: a record written on one reaches the other, and
 * both feeds go live. */
static void
test_two_nodes(void **state)
{
	struct t *t = *state;
	struct fx_node *b = fx_node_add(t->f, "sulsel");
	struct fx_node *nds[2] = {t->nd, b};
	uint8_t id[16];

	fx_node_peer(t->nd, "sulsel", FX_COLLS_ALL, false);
	fx_node_peer(b, ME, FX_COLLS_ALL, false);
	fx_node_start(t->nd);
	fx_node_start(b);
	fx_link(t->nd, b);
	assert_true(fx_run(t->f, both_live, nds));
	fx_id(id, 7);
	fx_state(&t->st, ME, fx_hlc(0), NULL, 0);
	put_local(t->nd, COLL_LKS, id, &t->st);
	struct has h = {b, id};
	assert_true(fx_run(t->f, has_lks, &h));
	assert_int_equal(fx_get(b, COLL_LKS, id, &t->got, NULL), 0);
	assert_memory_equal(t->got.p, t->st.p, t->st.len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_new_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_nodes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
