/*
 * test_apply.c - the applier (node/apply.c) without sockets or processes:
 * a node with its store in a temporary directory, and a fake peer
 * (tests/unit/fx_repl.h) whose HELLO, CHANGES, REPAIR, LIVE and RESYNC
 * frames the test writes. Outcomes are read back from the store, the
 * node's answers (SUB, ACK, REPAIR, ERROR with its exact text) decoded,
 * and its log lines matched.
 *
 * Every branch of apply_one: a new record, a merge, an echo, a record
 * refused (collection, scope, state that does not decode: the rest of the
 * batch applied), a malformed item (the frame refused), a clock too far
 * ahead (held back), purged ids, withdrawals; and of the handlers:
 * checkpoints (restart from one), CHANGES out of order, LIVE, RESYNC,
 * REPAIR, a connection closed while its batch commits.
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
#include "mp.h"
#include "uuid.h"
#include "peer.h"
#include "peer_impl.h"
#include "conn.h"
#include "ops.h"
#include "store.h"
#include "feed.h"
#include "apply.h"
#include "fx_repl.h"

#define ME   "jabar"
#define THEM "banten"

static const uint8_t EPOCH_A[16] = {
    0xa1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t EPOCH_B[16] = {
    0xb2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

struct t {
	struct fx *f;
	struct fx_node *nd;
	struct cfg_peer *cp; /* the node's [peer banten], before start */
	struct fx_fake *fk;
	struct msg_batch bt;
	struct buf st, st2, st3; /* states being built */
	struct buf got;
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->f = fx_new();
	t->nd = fx_node_add(t->f, ME);
	t->cp = fx_node_peer(t->nd, THEM, FX_COLLS_ALL, false);
	buf_init(&t->st, JALIN_RECORD_MAX);
	buf_init(&t->st2, JALIN_RECORD_MAX);
	buf_init(&t->st3, JALIN_RECORD_MAX);
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
	buf_free(&t->st3);
	buf_free(&t->got);
	free(t);
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static struct peer *
them(struct t *t)
{
	return fx_peer(t->nd, THEM);
}

/* Connect the fake (starting the node if need be), HELLO both ways in
 * epoch at head; the node's SUB into *sub. */
static void
connect_at(
    struct t *t, const uint8_t epoch[16], uint64_t head, struct msg_peer *sub)
{
	struct msg_peer m;

	if (!t->nd->started)
		fx_node_start(t->nd);
	t->fk = fx_fake_new(t->nd, THEM, false);
	fx_fake_expect(t->fk, MSG_HELLO, &m);
	fx_fake_hello(t->fk, epoch, head);
	fx_fake_expect(t->fk, MSG_SUB, sub ? sub : &m);
}

static void
link_fake(struct t *t)
{
	connect_at(t, EPOCH_A, 0, NULL);
}

/* CHANGES (from, ...] in epoch, built item by item. */
static void
ch_begin_in(struct t *t, const uint8_t epoch[16], uint64_t from)
{
	/* head 0: their head stays what HELLO said */
	msg_changes_begin(
	    &t->bt, fx_fake_buf(t->fk), epoch, from, 0, hlc_wall_ms());
}

static void
ch_begin(struct t *t, uint64_t from)
{
	ch_begin_in(t, EPOCH_A, from);
}

/* One item; st NULL: a withdrawal. */
static void
ch_rec(
    struct t *t, uint64_t seq, uint8_t coll, unsigned idn, const struct buf *st)
{
	uint8_t id[16];

	fx_id(id, idn);
	msg_batch_rec(
	    &t->bt, seq, coll, id, st ? st->p : NULL, st ? st->len : 0);
}

static void
ch_send(struct t *t, uint64_t upto)
{
	msg_changes_end(&t->bt, upto);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
}

/* REPAIR of n items (ch_rec with seq 0), then rep_send. */
static void
rep_begin(struct t *t, uint32_t n)
{
	msg_repair_begin(&t->bt, fx_fake_buf(t->fk), n);
}

static void
rep_send(struct t *t)
{
	msg_batch_end(&t->bt);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
}

/* The node's ACK: its upto. */
static uint64_t
ack(struct t *t)
{
	struct msg_peer m;

	fx_fake_expect(t->fk, MSG_ACK, &m);
	assert_true(m.has_epoch);
	return m.upto;
}

static int
get(struct t *t, uint8_t coll, unsigned idn, uint64_t *seq)
{
	uint8_t id[16];

	fx_id(id, idn);
	return fx_get(t->nd, coll, id, &t->got, seq);
}

/* The stored state of coll/idn is exactly st. */
static void
assert_stored(struct t *t, uint8_t coll, unsigned idn, const struct buf *st)
{
	assert_int_equal(get(t, coll, idn, NULL), 0);
	assert_int_equal(t->got.len, st->len);
	assert_memory_equal(t->got.p, st->p, st->len);
}

static void
assert_absent(struct t *t, uint8_t coll, unsigned idn)
{
	assert_int_equal(get(t, coll, idn, NULL), JALIN_ENOTFOUND);
}

/* The log has the refusal line of a batch whose first refusal was this. */
static void
assert_refused(
    struct t *t, unsigned n, const char *coll, unsigned idn, const char *why)
{
	char line[512], ids[UUID_STR_LEN + 1];
	uint8_t id[16];

	fx_id(id, idn);
	uuid_format(id, ids);
	snprintf(line, sizeof(line),
	    "peer " THEM ": refused %u record(s), e.g. %s %s: %s", n, coll, ids,
	    why);
	if (!fx_log_has(t->f, line))
		fail_msg("no log line '%s'", line);
}

/* A str field update u (value packed into v). */
static void
upd_str(struct merge_update *u, struct buf *v, uint16_t tag, const char *s)
{
	msgpack_packer pk;

	buf_reset(v);
	msgpack_packer_init(&pk, v, buf_pk_write);
	msgpack_pack_str_with_body(&pk, s, strlen(s));
	*u = (struct merge_update){tag, (uint32_t)v->len, v->p};
}

/* A [names...] field update. */
static void
upd_names(struct merge_update *u, struct buf *v, uint16_t tag, const char *a,
    const char *b)
{
	msgpack_packer pk;

	buf_reset(v);
	msgpack_packer_init(&pk, v, buf_pk_write);
	msgpack_pack_array(&pk, b ? 2 : 1);
	msgpack_pack_str_with_body(&pk, a, strlen(a));
	if (b)
		msgpack_pack_str_with_body(&pk, b, strlen(b));
	*u = (struct merge_update){tag, (uint32_t)v->len, v->p};
}

/* A CHANGES frame by hand, for what the encoders never write: a map of
 * the given keys (epoch NULL: left out), then nrecs items by the caller
 * through *pk. */
static void
raw_changes(struct t *t, msgpack_packer *pk, const uint8_t *epoch,
    uint64_t from, uint64_t upto, uint32_t nrecs)
{
	struct buf *b = fx_fake_buf(t->fk);

	buf_reset(b);
	msgpack_packer_init(pk, b, buf_pk_write);
	msgpack_pack_map(pk, epoch ? 5 : 4);
	msgpack_pack_uint8(pk, MK_TYPE);
	msgpack_pack_uint8(pk, MSG_CHANGES);
	if (epoch) {
		msgpack_pack_uint8(pk, MK_EPOCH);
		msgpack_pack_bin_with_body(pk, epoch, 16);
	}
	msgpack_pack_uint8(pk, MK_FROM);
	msgpack_pack_uint64(pk, from);
	msgpack_pack_uint8(pk, MK_UPTO);
	msgpack_pack_uint64(pk, upto);
	msgpack_pack_uint8(pk, MK_RECS);
	msgpack_pack_array(pk, nrecs);
}

static void
send_live(struct t *t, uint64_t upto)
{
	msg_enc_live(fx_fake_buf(t->fk), EPOCH_A, upto);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
}

/* ---- apply_one: records ------------------------------------------------ */

/* A record we never had: stored as sent, counted, acknowledged with the
 * checkpoint committed alongside. */
static void
test_new_record(void **state)
{
	struct t *t = *state;
	struct msg_peer sub;
	uint8_t ep[16];
	uint64_t seq;

	connect_at(t, EPOCH_A, 0, &sub);
	assert_false(sub.has_epoch); /* no checkpoint: from the start */
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_send(t, 1);
	assert_int_equal(ack(t), 1);
	assert_stored(t, COLL_LKS, 1, &t->st);
	assert_true(fx_ckpt(t->nd, PEER_CKPT_IN, THEM, ep, &seq));
	assert_memory_equal(ep, EPOCH_A, 16);
	assert_int_equal(seq, 1);
	assert_int_equal(peer_counters(them(t))->recs_in, 1);
	assert_int_equal(peer_counters(them(t))->batches_in, 1);
	assert_int_equal(peer_counters(them(t))->refused_recs, 0);
	assert_int_equal(apply_pos(them(t)->conn), 1);
}

/* A newer version replaces ours; a concurrent one is joined with it. */
static void
test_merge(void **state)
{
	struct t *t = *state;
	struct merge_update u;
	struct buf v, want;
	uint64_t s1, s2;

	buf_init(&v, 256);
	buf_init(&want, JALIN_RECORD_MAX);
	link_fake(t);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-3000), NULL, 0);
	upd_str(&u, &v, TAG_CREATED_BY, "ani");
	fx_state_on(&t->st2, &t->st, THEM, fx_hlc(-2000), &u, 1);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_rec(t, 2, COLL_LKS, 1, &t->st2);
	ch_send(t, 2);
	assert_int_equal(ack(t), 2);
	assert_stored(t, COLL_LKS, 1, &t->st2);
	assert_int_equal(get(t, COLL_LKS, 1, &s1), 0);
	/* our own write on st2, and theirs on st2 at the same time */
	upd_str(&u, &v, TAG_CREATED_BY, "budi");
	fx_state_on(&t->st3, &t->st2, ME, fx_hlc(-1500), &u, 1);
	fx_put(t->nd, COLL_LKS, 1, &t->st3);
	upd_str(&u, &v, TAG_CREATED_BY, "citra");
	fx_state_on(&t->st, &t->st2, THEM, fx_hlc(-1000), &u, 1);
	ch_begin(t, 2);
	ch_rec(t, 3, COLL_LKS, 1, &t->st);
	ch_send(t, 3);
	assert_int_equal(ack(t), 3);
	/* the join of both, stored as a new version of ours */
	struct record *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)),
	              *j = malloc(sizeof(*j));
	assert_int_equal(
	    rec_decode(a, t->st3.p, t->st3.len, REC_TRUSTED, NULL), 0);
	assert_int_equal(
	    rec_decode(b, t->st.p, t->st.len, REC_TRUSTED, NULL), 0);
	assert_int_equal(merge_join(a, b, j, NULL), 0);
	assert_int_equal(rec_encode(j, &want), 0);
	assert_stored(t, COLL_LKS, 1, &want);
	assert_int_equal(get(t, COLL_LKS, 1, &s2), 0);
	assert_true(s2 > s1);
	assert_int_equal(peer_counters(them(t))->recs_in, 3);
	free(a);
	free(b);
	free(j);
	buf_free(&v);
	buf_free(&want);
}

/* What we hold already (our own record echoed, or a resend) changes
 * nothing: same feed seq, same head. */
static void
test_echo(void **state)
{
	struct t *t = *state;
	uint64_t s1, s2, head;

	fx_node_start(t->nd);
	fx_state_coll(&t->st, COLL_LKS, ME, fx_hlc(-1000), NULL, 0);
	fx_put(t->nd, COLL_LKS, 1, &t->st);
	assert_int_equal(get(t, COLL_LKS, 1, &s1), 0);
	head = store_seq(t->nd->n.store);
	link_fake(t);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_rec(t, 2, COLL_LKS, 1, &t->st); /* twice in one frame */
	ch_send(t, 2);
	assert_int_equal(ack(t), 2);
	assert_int_equal(get(t, COLL_LKS, 1, &s2), 0);
	assert_int_equal(s2, s1);
	assert_int_equal(store_seq(t->nd->n.store), head);
	assert_stored(t, COLL_LKS, 1, &t->st);
	/* applied (merged), though nothing changed */
	assert_int_equal(peer_counters(them(t))->recs_in, 2);
}

/* A collection not configured for the peer, or unknown: refused and
 * logged; the rest of the batch is applied and the checkpoint moves past
 * it. */
static void
test_refused_collection(void **state)
{
	struct t *t = *state;

	t->cp->collections = 1u << COLL_CASE | 1u << COLL_PARTNERSHIP;
	link_fake(t);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	fx_state_coll(&t->st2, COLL_PARTNERSHIP, THEM, fx_hlc(-1000), NULL, 0);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_rec(t, 2, COLL_PARTNERSHIP, 2, &t->st2);
	ch_rec(t, 3, 9, 3, &t->st); /* no such collection */
	ch_send(t, 3);
	assert_int_equal(ack(t), 3);
	assert_absent(t, COLL_LKS, 1);
	assert_stored(t, COLL_PARTNERSHIP, 2, &t->st2);
	assert_refused(
	    t, 2, "lks", 1, "collection not accepted from this peer");
	assert_int_equal(peer_counters(them(t))->refused_recs, 2);
	assert_int_equal(peer_counters(them(t))->recs_in, 1);
	/* the unknown one alone */
	ch_begin(t, 3);
	ch_rec(t, 4, 9, 3, &t->st);
	ch_send(t, 4);
	assert_int_equal(ack(t), 4);
	assert_refused(t, 1, "?", 3, "collection not accepted from this peer");
}

/* A case not shared with us is refused, unless we keep every case. */
static void
test_refused_scope(void **state)
{
	struct t *t = *state;

	link_fake(t);
	fx_state_shared(&t->st, "sulsel", THEM, fx_hlc(-1000));
	fx_state_shared(&t->st2, "sulsel", ME, fx_hlc(-1000));
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_CASE, 1, &t->st);
	ch_rec(t, 2, COLL_CASE, 2, &t->st2);
	ch_send(t, 2);
	assert_int_equal(ack(t), 2);
	assert_absent(t, COLL_CASE, 1);
	assert_stored(t, COLL_CASE, 2, &t->st2);
	assert_refused(t, 1, "case", 1, "not shared with this node");
}

static void
test_all_cases_node(void **state)
{
	struct t *t = *state;

	t->nd->n.cfg->all_cases = true;
	link_fake(t);
	fx_state_shared(&t->st, "sulsel", THEM, fx_hlc(-1000));
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_CASE, 1, &t->st);
	ch_send(t, 1);
	assert_int_equal(ack(t), 1);
	assert_stored(t, COLL_CASE, 1, &t->st);
}

/* A state that is msgpack but not a record is refused alone. */
static void
test_state_does_not_decode(void **state)
{
	struct t *t = *state;
	static const uint8_t junk[] = {0x92, 0x01, 0x02}; /* [1, 2] */
	struct buf bad;

	buf_init_mem(&bad, (void *)(uintptr_t)junk, sizeof(junk), sizeof(junk));
	bad.len = sizeof(junk);
	link_fake(t);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &bad);
	ch_rec(t, 2, COLL_LKS, 2, &t->st);
	ch_send(t, 2);
	assert_int_equal(ack(t), 2);
	assert_absent(t, COLL_LKS, 1);
	assert_stored(t, COLL_LKS, 2, &t->st);
	assert_refused(t, 1, "lks", 1, "does not decode (");
	assert_int_equal(peer_counters(them(t))->refused_recs, 1);
}

/* Bytes that are not msgpack where a state should be: the frame is
 * malformed, the connection closed. What came before it in the frame is
 * committed, but not the checkpoint and no ACK. */
static void
test_state_not_msgpack(void **state)
{
	struct t *t = *state;
	static const uint8_t junk[] = {0xc1}; /* never used in msgpack */
	struct buf bad;
	uint8_t ep[16];
	uint64_t seq;

	buf_init_mem(&bad, (void *)(uintptr_t)junk, sizeof(junk), sizeof(junk));
	bad.len = sizeof(junk);
	link_fake(t);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_rec(t, 2, COLL_LKS, 2, &bad);
	ch_send(t, 2);
	fx_fake_expect_error(
	    t->fk, JALIN_EPROTO, "malformed record in CHANGES");
	assert_false(fx_ckpt(t->nd, PEER_CKPT_IN, THEM, ep, &seq));
	assert_false(conn_is_up(them(t)));
	assert_string_equal(
	    peer_last_error(them(t)), "malformed record in CHANGES");
}

/* Malformed items: each closes the connection with EPROTO. */
enum bad_item {
	BAD_ARRAY3,
	BAD_ID15,
	BAD_SEQ_REPEAT,
	BAD_SEQ_PAST_UPTO
};

static void
send_bad_item(struct t *t, enum bad_item what)
{
	msgpack_packer pk;
	uint8_t id[16];

	fx_id(id, 1);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	raw_changes(t, &pk, EPOCH_A, 0, 2, 2);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint64(&pk, 1);
	msgpack_pack_uint8(&pk, COLL_LKS);
	msgpack_pack_bin_with_body(&pk, id, 16);
	msgpack_pack_nil(&pk); /* a withdrawal of an lks: refused alone */
	msgpack_pack_array(&pk, what == BAD_ARRAY3 ? 3 : 4);
	msgpack_pack_uint64(&pk,
	    what == BAD_SEQ_REPEAT          ? 1
	        : what == BAD_SEQ_PAST_UPTO ? 3
	                                    : 2);
	msgpack_pack_uint8(&pk, COLL_LKS);
	msgpack_pack_bin_with_body(&pk, id, what == BAD_ID15 ? 15 : 16);
	if (what != BAD_ARRAY3)
		msgpack_pack_nil(&pk);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_expect_error(
	    t->fk, JALIN_EPROTO, "malformed record in CHANGES");
}

static void
test_malformed_items(void **state)
{
	struct t *t = *state;

	for (int what = BAD_ARRAY3; what <= BAD_SEQ_PAST_UPTO; what++) {
		link_fake(t);
		send_bad_item(t, (enum bad_item)what);
		assert_false(conn_is_up(them(t)));
	}
	assert_int_equal(peer_counters(them(t))->errors_by[EK_PROTOCOL], 4);
}

/* A record written further ahead than max_clock_skew is held back: the
 * batch is applied up to the record before it, acknowledged there, and
 * the connection closed with the reason (it will resend from there). */
static void
test_clock_skew(void **state)
{
	struct t *t = *state;
	uint8_t ep[16];
	uint64_t seq;
	const char *why = "clock is 3600 s ahead (max_clock_skew 5 s): its "
	                  "changes are held back";

	t->nd->n.cfg->max_clock_skew = 5;
	link_fake(t);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	fx_state_coll(
	    &t->st2, COLL_LKS, THEM, fx_hlc(3600 * 1000 + 500), NULL, 0);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_rec(t, 2, COLL_LKS, 2, &t->st2);
	ch_rec(t, 3, COLL_LKS, 3, &t->st);
	ch_send(t, 3);
	assert_int_equal(ack(t), 1);
	fx_fake_expect_error(t->fk, JALIN_ESKEW, why);
	assert_stored(t, COLL_LKS, 1, &t->st);
	assert_absent(t, COLL_LKS, 2);
	assert_absent(t, COLL_LKS, 3);
	assert_true(fx_ckpt(t->nd, PEER_CKPT_IN, THEM, ep, &seq));
	assert_int_equal(seq, 1);
	assert_string_equal(peer_last_error(them(t)), why);
	assert_int_equal(peer_counters(them(t))->errors_by[EK_SKEW], 1);
	/* within the skew: taken */
	t->nd->n.cfg->max_clock_skew = 7200;
	connect_at(t, EPOCH_A, 3, NULL);
	ch_begin(t, 1);
	ch_rec(t, 2, COLL_LKS, 2, &t->st2);
	ch_send(t, 2);
	assert_int_equal(ack(t), 2);
	assert_stored(t, COLL_LKS, 2, &t->st2);
}

/* A purged id stays purged whatever version arrives; a purge from the
 * peer purges ours. */
static void
test_purged(void **state)
{
	struct t *t = *state;
	struct merge_update u;
	struct buf v;

	buf_init(&v, 256);
	fx_node_start(t->nd);
	fx_state_coll(&t->st, COLL_LKS, ME, fx_hlc(-5000), NULL, 0);
	fx_state_purged(&t->st2, &t->st, ME, fx_hlc(-4000));
	fx_put(t->nd, COLL_LKS, 1, &t->st2);
	link_fake(t);
	/* a later write on the live record, by them: purged all the same */
	upd_str(&u, &v, TAG_CREATED_BY, "ani");
	fx_state_on(&t->st3, &t->st, THEM, fx_hlc(-1000), &u, 1);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st3);
	ch_send(t, 1);
	assert_int_equal(ack(t), 1);
	assert_stored(t, COLL_LKS, 1, &t->st2);
	/* their purge of a record of theirs we hold live */
	fx_state_coll(&t->st2, COLL_LKS, THEM, fx_hlc(-600), NULL, 0);
	fx_put(t->nd, COLL_LKS, 2, &t->st2);
	fx_state_purged(&t->st3, &t->st2, THEM, fx_hlc(-500));
	ch_begin(t, 1);
	ch_rec(t, 2, COLL_LKS, 2, &t->st3);
	ch_send(t, 2);
	assert_int_equal(ack(t), 2);
	assert_stored(t, COLL_LKS, 2, &t->st3);
	/* a purge of an id we never had is kept (it may reach us later) */
	fx_state_purged(&t->st3, NULL, THEM, fx_hlc(-400));
	ch_begin(t, 2);
	ch_rec(t, 3, COLL_LKS, 3, &t->st3);
	ch_send(t, 3);
	assert_int_equal(ack(t), 3);
	assert_stored(t, COLL_LKS, 3, &t->st3);
	buf_free(&v);
}

/* A version whose join with ours would break a record limit (more than
 * JALIN_RECORD_ORIGINS_MAX writers) cannot be merged: refused alone. */
static void
test_cannot_be_merged(void **state)
{
	struct t *t = *state;
	struct merge_update u;
	struct buf v, *a = &t->st2, *b = &t->st3, tmp;
	char who[16];

	buf_init(&v, 256);
	buf_init(&tmp, JALIN_RECORD_MAX);
	fx_node_start(t->nd);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-100000), NULL, 0);
	/* two lines of 40 writers each on the same first version */
	for (int side = 0; side < 2; side++) {
		struct buf *cur = side ? b : a;
		buf_reset(cur);
		buf_append(cur, t->st.p, t->st.len);
		for (int i = 0; i < 40; i++) {
			snprintf(who, sizeof(who), "w%c%02d", 'a' + side, i);
			upd_str(&u, &v, TAG_CREATED_BY, who);
			fx_state_on(&tmp, cur, who,
			    fx_hlc(-90000 + side * 100 + i * 1000), &u, 1);
			buf_reset(cur);
			buf_append(cur, tmp.p, tmp.len);
		}
	}
	fx_put(t->nd, COLL_LKS, 1, a);
	link_fake(t);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, b);
	ch_rec(t, 2, COLL_LKS, 2, &t->st);
	ch_send(t, 2);
	assert_int_equal(ack(t), 2);
	assert_stored(t, COLL_LKS, 1, a);
	assert_stored(t, COLL_LKS, 2, &t->st);
	assert_refused(t, 1, "lks", 1, "cannot be merged");
	buf_free(&v);
	buf_free(&tmp);
}

/* ---- apply_one: withdrawals -------------------------------------------- */

/* A case made at sulsel, shared with us, withdrawn by the peer: erased. */
static void
test_withdrawal_erases(void **state)
{
	struct t *t = *state;
	char line[256], ids[UUID_STR_LEN + 1];
	uint8_t id[16];

	link_fake(t);
	fx_state_shared(&t->st, "sulsel", ME, fx_hlc(-1000));
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_CASE, 1, &t->st);
	ch_send(t, 1);
	assert_int_equal(ack(t), 1);
	assert_stored(t, COLL_CASE, 1, &t->st);
	ch_begin(t, 1);
	ch_rec(t, 2, COLL_CASE, 1, NULL);
	ch_rec(t, 3, COLL_CASE, 2, NULL); /* one we never had: nothing */
	ch_send(t, 3);
	assert_int_equal(ack(t), 3);
	assert_absent(t, COLL_CASE, 1);
	assert_absent(t, COLL_CASE, 2);
	fx_id(id, 1);
	uuid_format(id, ids);
	snprintf(line, sizeof(line),
	    "peer " THEM ": case %s is no longer shared with this node: "
	    "erased here",
	    ids);
	assert_true(fx_log_has(t->f, line));
	assert_int_equal(peer_counters(them(t))->refused_recs, 0);
}

/* Withdrawals that are refused, one batch each (the log names the first
 * refusal of a batch): of a collection not taken from the peer, of a
 * record shared with every node, of a case this node created. */
static void
test_withdrawal_refused(void **state)
{
	struct t *t = *state;

	t->cp->collections = FX_COLLS_ALL & ~(1u << COLL_REFERRAL);
	fx_node_start(t->nd);
	fx_state_shared(&t->st, ME, THEM, fx_hlc(-1000));
	fx_put(t->nd, COLL_CASE, 3, &t->st);
	fx_state_coll(&t->st2, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	fx_put(t->nd, COLL_LKS, 2, &t->st2);
	link_fake(t);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_REFERRAL, 1, NULL);
	ch_send(t, 1);
	assert_int_equal(ack(t), 1);
	assert_refused(
	    t, 1, "referral", 1, "collection not accepted from this peer");
	ch_begin(t, 1);
	ch_rec(t, 2, COLL_LKS, 2, NULL);
	ch_send(t, 2);
	assert_int_equal(ack(t), 2);
	assert_refused(
	    t, 1, "lks", 2, "withdrawal of a record shared with every node");
	assert_stored(t, COLL_LKS, 2, &t->st2);
	ch_begin(t, 2);
	ch_rec(t, 3, COLL_CASE, 3, NULL);
	ch_send(t, 3);
	assert_int_equal(ack(t), 3);
	assert_refused(
	    t, 1, "case", 3, "withdrawal of a record this node created");
	assert_stored(t, COLL_CASE, 3, &t->st);
	ch_begin(t, 3);
	ch_rec(t, 4, 9, 4, NULL); /* no such collection */
	ch_send(t, 4);
	assert_int_equal(ack(t), 4);
	assert_refused(t, 1, "?", 4, "collection not accepted from this peer");
	assert_int_equal(peer_counters(them(t))->refused_recs, 4);
}

static void
test_withdrawal_to_all_cases_node(void **state)
{
	struct t *t = *state;

	t->nd->n.cfg->all_cases = true;
	link_fake(t);
	fx_state_shared(&t->st, "sulsel", THEM, fx_hlc(-1000));
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_CASE, 1, &t->st);
	ch_rec(t, 2, COLL_CASE, 1, NULL);
	ch_send(t, 2);
	assert_int_equal(ack(t), 2);
	assert_stored(t, COLL_CASE, 1, &t->st);
	assert_refused(
	    t, 1, "case", 1, "withdrawal sent to a node that keeps every case");
}

/* ---- CHANGES: checkpoints and order ------------------------------------ */

/* The checkpoint is committed with each batch: after a restart the node
 * subscribes from it, and a frame from anywhere else is out of order. */
static void
test_checkpoint_restart(void **state)
{
	struct t *t = *state;
	struct msg_peer sub;

	link_fake(t);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_rec(t, 2, COLL_LKS, 2, &t->st);
	ch_send(t, 2);
	assert_int_equal(ack(t), 2);
	fx_node_restart(t->nd);
	assert_false(conn_is_up(them(t)));
	connect_at(t, EPOCH_A, 2, &sub);
	assert_true(sub.has_epoch);
	assert_memory_equal(sub.epoch, EPOCH_A, 16);
	assert_int_equal(sub.seq, 2);
	assert_stored(t, COLL_LKS, 2, &t->st);
	/* caught up at once: HELLO said its head is 2 */
	assert_int_equal(apply_in_lag(them(t)), 0);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_send(t, 1);
	fx_fake_expect_error(
	    t->fk, JALIN_ESTATE, "CHANGES out of order: from 0, expected 2");
}

/* Out of order: a gap, a range going backwards, another epoch, keys
 * missing; each closes the connection with its reason. */
static void
test_changes_out_of_order(void **state)
{
	struct t *t = *state;
	msgpack_packer pk;

	link_fake(t);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	ch_begin(t, 5);
	ch_rec(t, 6, COLL_LKS, 1, &t->st);
	ch_send(t, 6);
	fx_fake_expect_error(
	    t->fk, JALIN_ESTATE, "CHANGES out of order: from 5, expected 0");
	assert_absent(t, COLL_LKS, 1);
	assert_string_equal(peer_last_error(them(t)),
	    "CHANGES out of order: from 5, expected 0");

	link_fake(t);
	raw_changes(t, &pk, EPOCH_A, 0, 0, 0);
	fx_fake_send(t->fk, fx_fake_buf(t->fk)); /* empty: fine */
	assert_int_equal(ack(t), 0);
	/* upto below from: pos is 0, from 0, upto ... wraps nothing */
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_send(t, 1);
	assert_int_equal(ack(t), 1);
	raw_changes(t, &pk, EPOCH_A, 1, 0, 0);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_expect_error(
	    t->fk, JALIN_ESTATE, "CHANGES out of order: from 1, expected 1");

	connect_at(t, EPOCH_A, 1, NULL);
	ch_begin_in(t, EPOCH_B, 1);
	ch_send(t, 1);
	fx_fake_expect_error(t->fk, JALIN_ESTATE,
	    "CHANGES for another epoch than the subscription");

	connect_at(t, EPOCH_A, 1, NULL);
	raw_changes(t, &pk, NULL, 1, 1, 0);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_expect_error(
	    t->fk, JALIN_EPROTO, "CHANGES: required key 43 (EPOCH) is missing");
}

/* Several frames in a row: each waits for the one before it (input held
 * while a batch commits), each is acknowledged in order. */
static void
test_changes_pipelined(void **state)
{
	struct t *t = *state;

	connect_at(t, EPOCH_A, 3, NULL);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	for (unsigned i = 0; i < 3; i++) {
		ch_begin(t, i);
		ch_rec(t, i + 1, COLL_LKS, i + 1, &t->st);
		ch_send(t, i + 1);
	}
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(ack(t), i + 1);
	for (unsigned i = 0; i < 3; i++)
		assert_stored(t, COLL_LKS, i + 1, &t->st);
	assert_int_equal(peer_counters(them(t))->batches_in, 3);
}

/* ---- LIVE -------------------------------------------------------------- */

static void
test_live(void **state)
{
	struct t *t = *state;
	struct apply_progress pr;

	connect_at(t, EPOCH_A, 4, NULL);
	assert_false(apply_is_live(them(t)));
	assert_false(apply_idle(them(t)));
	assert_int_equal(apply_in_lag(them(t)), 4);
	assert_true(apply_catch_up(them(t), &pr));
	assert_int_equal(pr.total, 4);
	assert_int_equal(pr.done, 0);
	assert_true(pr.elapsed_ms >= 1);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_rec(t, 3, COLL_LKS, 2, &t->st); /* gaps in seqs are fine */
	ch_send(t, 3);
	assert_int_equal(ack(t), 3);
	assert_true(apply_catch_up(them(t), &pr));
	assert_int_equal(pr.done, 3);
	assert_int_equal(apply_in_lag(them(t)), 1);
	ch_begin(t, 3);
	ch_send(t, 4); /* nothing of ours in it, but it moves the position */
	assert_int_equal(ack(t), 4);
	send_live(t, 4);
	fx_settle(t->f);
	assert_true(apply_is_live(them(t)));
	assert_true(apply_idle(them(t)));
	assert_false(apply_catch_up(them(t), &pr));
	assert_true(fx_log_has(t->f, "peer " THEM ": caught up at seq 4"));
	/* again: nothing new; then at the wrong seq */
	send_live(t, 4);
	fx_settle(t->f);
	assert_true(apply_is_live(them(t)));
	send_live(t, 9);
	fx_fake_expect_error(t->fk, JALIN_ESTATE, "LIVE at 9, expected 4");
	assert_false(apply_is_live(them(t)));
	assert_false(apply_idle(them(t)));
}

/* LIVE without UPTO is refused by the grammar (msg_check_peer). */
static void
test_live_without_upto(void **state)
{
	struct t *t = *state;
	struct buf *b;
	msgpack_packer pk;

	link_fake(t);
	b = fx_fake_buf(t->fk);
	fx_raw_begin(b, &pk, 1, MSG_LIVE);
	fx_fake_send(t->fk, b);
	fx_fake_expect_error(
	    t->fk, JALIN_EPROTO, "LIVE: required key 49 (UPTO) is missing");
}

struct contact {
	uint64_t ms;
};

static int
contact_fn(struct store_txn *tx, void *arg)
{
	const struct contact *c = arg;
	uint8_t v[8];

	stdb_put_u64(v, c->ms);
	return store_txn_put(tx, STDB_META, "contact", 7, v, 8);
}

/* After an outage longer than offline_hold the node serves no records
 * until a peer is caught up with: LIVE ends the hold. */
static void
test_live_ends_outage_hold(void **state)
{
	struct t *t = *state;
	struct contact c = {hlc_wall_ms() - 3600 * 1000};

	struct contact recent = {hlc_wall_ms() - 10 * 1000};

	t->nd->n.cfg->offline_hold = 60;
	fx_node_start(t->nd);
	assert_int_equal(t->nd->n.held_since_ms, 0); /* no contact saved */
	assert_int_equal(
	    store_write(t->nd->n.store, contact_fn, &recent, NULL), 0);
	fx_node_restart(t->nd);
	assert_int_equal(t->nd->n.held_since_ms, 0); /* within the hold */
	assert_int_equal(store_write(t->nd->n.store, contact_fn, &c, NULL), 0);
	fx_node_restart(t->nd);
	assert_int_equal(t->nd->n.held_since_ms, c.ms);
	assert_true(fx_log_has(t->f, "records are not served until a peer"));
	link_fake(t);
	send_live(t, 0);
	fx_settle(t->f);
	assert_int_equal(t->nd->n.held_since_ms, 0);
	assert_true(fx_log_has(t->f,
	    "node " ME ": caught up with peer " THEM " after 3600 s offline"));
}

/* ---- RESYNC ------------------------------------------------------------ */

/* RESYNC in the same epoch: its feed starts again from 0, until LIVE. */
static void
test_resync_same_epoch(void **state)
{
	struct t *t = *state;

	link_fake(t);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_send(t, 1);
	assert_int_equal(ack(t), 1);
	send_live(t, 1);
	msg_enc_resync(fx_fake_buf(t->fk), EPOCH_A, "your checkpoint is gone");
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_settle(t->f);
	assert_true(apply_resyncing(them(t)));
	assert_false(apply_is_live(them(t)));
	assert_int_equal(apply_pos(them(t)->conn), 0);
	assert_true(fx_log_has(t->f,
	    "peer " THEM ": resyncing its feed from "
	    "seq 0: your checkpoint is gone"));
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_send(t, 1);
	assert_int_equal(ack(t), 1);
	send_live(t, 1);
	fx_settle(t->f);
	assert_false(apply_resyncing(them(t)));
	assert_true(apply_is_live(them(t)));
	assert_true(fx_fake_quiet(t->fk)); /* our feed was not restarted */
}

/* RESYNC in a new epoch (its store was restored): our feed to it starts
 * again from 0 too, with a RESYNC of ours. */
static void
test_resync_new_epoch(void **state)
{
	struct t *t = *state;
	struct msg_peer m;

	link_fake(t);
	msg_enc_sub(fx_fake_buf(t->fk), NULL, 0);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_expect(t->fk, MSG_LIVE, &m); /* our feed: empty, live */
	msg_enc_resync(fx_fake_buf(t->fk), EPOCH_B, "restored");
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_expect(t->fk, MSG_RESYNC, &m);
	assert_int_equal(m.error_len,
	    strlen("the peer's store was restored; "
	           "sending all"));
	assert_memory_equal(
	    m.error, "the peer's store was restored; sending all", m.error_len);
	assert_true(apply_resyncing(them(t)));
	/* its feed in the new epoch from 0 */
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	ch_begin_in(t, EPOCH_B, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	msg_changes_end(&t->bt, 1);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	while (fx_fake_recv(t->fk, &m) == 0 && m.type != MSG_ACK)
		; /* our feed's frames first */
	assert_int_equal(m.type, MSG_ACK);
	assert_memory_equal(m.epoch, EPOCH_B, 16);
	assert_stored(t, COLL_LKS, 1, &t->st);
	/* the same new epoch again: no second restart of ours */
	msg_enc_resync(fx_fake_buf(t->fk), EPOCH_B, "again");
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_settle(t->f);
	while (fx_fake_recv(t->fk, &m) == 0)
		assert_int_not_equal(m.type, MSG_RESYNC);
}

/* RESYNC without a reason: logged with an empty one. */
static void
test_resync_without_reason(void **state)
{
	struct t *t = *state;
	struct buf *b;
	msgpack_packer pk;

	link_fake(t);
	b = fx_fake_buf(t->fk);
	fx_raw_begin(b, &pk, 2, MSG_RESYNC);
	msgpack_pack_uint8(&pk, MK_EPOCH);
	msgpack_pack_bin_with_body(&pk, EPOCH_A, 16);
	fx_fake_send(t->fk, b);
	fx_settle(t->f);
	assert_true(apply_resyncing(them(t)));
	assert_true(fx_log_has(
	    t->f, "peer " THEM ": resyncing its feed from seq 0: \n"));
}

static void
test_resync_without_epoch(void **state)
{
	struct t *t = *state;
	struct buf *b;
	msgpack_packer pk;

	link_fake(t);
	b = fx_fake_buf(t->fk);
	fx_raw_begin(b, &pk, 1, MSG_RESYNC);
	fx_fake_send(t->fk, b);
	fx_fake_expect_error(
	    t->fk, JALIN_EPROTO, "RESYNC: required key 43 (EPOCH) is missing");
}

/* ---- REPAIR ------------------------------------------------------------ */

/* REPAIR records are merged outside the feed: no checkpoint, no ACK. */
static void
test_repair(void **state)
{
	struct t *t = *state;
	uint8_t ep[16];
	uint64_t seq;

	link_fake(t);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	fx_state_shared(&t->st2, "sulsel", "kaltim", fx_hlc(-1000));
	rep_begin(t, 3);
	ch_rec(t, 0, COLL_LKS, 1, &t->st);
	ch_rec(t, 0, COLL_LKS, 2, &t->st);
	ch_rec(t, 0, COLL_CASE, 3, &t->st2); /* not ours to have */
	rep_send(t);
	fx_settle(t->f);
	assert_stored(t, COLL_LKS, 1, &t->st);
	assert_stored(t, COLL_LKS, 2, &t->st);
	assert_absent(t, COLL_CASE, 3);
	assert_false(fx_ckpt(t->nd, PEER_CKPT_IN, THEM, ep, &seq));
	assert_true(fx_fake_quiet(t->fk));
	assert_true(fx_log_has(
	    t->f, "peer " THEM ": repair: 2 record(s) merged, 2 changed"));
	assert_int_equal(peer_counters(them(t))->recs_in, 2);
	assert_int_equal(peer_counters(them(t))->refused_recs, 1);
	assert_int_equal(peer_counters(them(t))->batches_in, 0);
	/* the feed goes on from where it was */
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_send(t, 1);
	assert_int_equal(ack(t), 1);
}

/* A REPAIR of a case we withdrew from the peer: it should not hold it, so
 * we answer with a withdrawal. */
static void
test_repair_owed_withdrawal(void **state)
{
	struct t *t = *state;
	struct merge_update u[2];
	struct buf v1, v2;
	struct msg_peer m;
	struct mpr r;
	uint32_t n;
	uint64_t seq, coll;
	const uint8_t *idp;
	uint8_t id[16];

	buf_init(&v1, 256);
	buf_init(&v2, 256);
	fx_node_start(t->nd);
	fx_state_shared(&t->st, ME, THEM, fx_hlc(-5000));
	upd_names(&u[0], &v1, TAG_SHARE_WITH, "sulsel", NULL);
	upd_names(&u[1], &v2, TAG_UNSHARED_FROM, THEM, NULL);
	fx_state_on(&t->st2, &t->st, ME, fx_hlc(-4000), u, 2);
	fx_put(t->nd, COLL_CASE, 1, &t->st2);
	link_fake(t);
	rep_begin(t, 1);
	ch_rec(t, 0, COLL_CASE, 1, &t->st); /* its old copy */
	rep_send(t);
	fx_fake_expect(t->fk, MSG_REPAIR, &m);
	mpr_init(&r, m.recs, m.recs_len);
	assert_int_equal(mpr_array(&r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mpr_array(&r, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(mpr_u64(&r, &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(mpr_u64(&r, &coll), 0);
	assert_int_equal(coll, COLL_CASE);
	assert_int_equal(mpr_bin(&r, &idp, &n), 0);
	fx_id(id, 1);
	assert_memory_equal(idp, id, 16);
	assert_int_equal(mpr_peek(&r), MP_NIL);
	assert_stored(t, COLL_CASE, 1, &t->st2);
	assert_true(fx_log_has(
	    t->f, "peer " THEM ": repair: 1 record(s) merged, 0 changed"));
	/* the same, but it hangs up before the repair is committed: the
	 * withdrawal is not owed to a connection that is gone */
	rep_begin(t, 1);
	ch_rec(t, 0, COLL_CASE, 1, &t->st);
	rep_send(t);
	fx_fake_hangup(t->fk);
	fx_settle(t->f);
	assert_true(fx_fake_quiet(t->fk));
	assert_stored(t, COLL_CASE, 1, &t->st2);
	buf_free(&v1);
	buf_free(&v2);
}

static void
test_repair_without_records(void **state)
{
	struct t *t = *state;
	struct buf *b;
	msgpack_packer pk;

	link_fake(t);
	b = fx_fake_buf(t->fk);
	fx_raw_begin(b, &pk, 1, MSG_REPAIR);
	fx_fake_send(t->fk, b);
	fx_fake_expect_error(
	    t->fk, JALIN_EPROTO, "REPAIR: required key 51 (RECS) is missing");
}

/* A malformed REPAIR closes the connection like a malformed CHANGES. */
static void
test_repair_malformed(void **state)
{
	struct t *t = *state;
	static const uint8_t junk[] = {0xc1};
	struct buf bad;

	buf_init_mem(&bad, (void *)(uintptr_t)junk, sizeof(junk), sizeof(junk));
	bad.len = sizeof(junk);
	link_fake(t);
	rep_begin(t, 1);
	ch_rec(t, 0, COLL_LKS, 1, &bad);
	rep_send(t);
	fx_fake_expect_error(
	    t->fk, JALIN_EPROTO, "malformed record in CHANGES");
}

/* ---- a connection closing while its batch commits ---------------------- */

/* The peer hangs up right after a CHANGES frame: the batch still commits
 * (records and checkpoint), unanswered. */
static void
test_closed_while_committing(void **state)
{
	struct t *t = *state;
	uint8_t ep[16];
	uint64_t seq;

	link_fake(t);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_send(t, 1);
	fx_fake_hangup(t->fk);
	fx_settle(t->f);
	assert_false(conn_is_up(them(t)));
	assert_string_equal(peer_last_error(them(t)), "connection lost");
	assert_stored(t, COLL_LKS, 1, &t->st);
	assert_true(fx_ckpt(t->nd, PEER_CKPT_IN, THEM, ep, &seq));
	assert_int_equal(seq, 1);
	assert_true(fx_fake_quiet(t->fk));
	assert_int_equal(peer_counters(them(t))->batches_in, 0);
}

/* Once the node is stopping, the batch being committed is answered and
 * nothing more is read. */
static void
test_stopping_while_committing(void **state)
{
	struct t *t = *state;
	struct msg_peer m;

	link_fake(t);
	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	ch_begin(t, 0);
	ch_rec(t, 1, COLL_LKS, 1, &t->st);
	ch_send(t, 1);
	ch_begin(t, 1);
	ch_rec(t, 2, COLL_LKS, 2, &t->st);
	ch_send(t, 2);
	t->nd->n.stopping = true; /* as main.c's SIGTERM handler */
	fx_fake_expect(t->fk, MSG_ACK, &m);
	assert_int_equal(m.upto, 1);
	fx_settle(t->f);
	fx_node_stop(t->nd);
	/* an orderly close: TLS close_notify (none here), no ERROR */
	assert_int_equal(fx_fake_recv(t->fk, &m), -1);
	fx_node_start(t->nd);
	assert_stored(t, COLL_LKS, 1, &t->st);
	assert_absent(t, COLL_LKS, 2);
}

/* ---- the store refusing the batch -------------------------------------- */

/* A batch the store cannot take (map at its cap) closes the connection
 * with the store's reason; nothing of it is kept. */
static void
test_store_full(void **state)
{
	struct t *t = *state;
	struct merge_update u;
	struct buf v, *b;
	struct msg_peer m;
	char big[60];
	unsigned i, seq = 0;
	int rc;

	buf_init(&v, 256);
	t->nd->n.cfg->map_size_max = JALIN_MAP_MIN;
	link_fake(t);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	upd_str(&u, &v, TAG_CREATED_BY, big);
	for (i = 0; i < 200; i++) {
		ch_begin(t, seq);
		for (unsigned k = 0; k < 100; k++) {
			fx_state_coll(
			    &t->st, COLL_LKS, THEM, fx_hlc(-1000), &u, 1);
			ch_rec(t, seq + 1 + k, COLL_LKS, i * 100 + k, &t->st);
		}
		ch_send(t, seq + 100);
		if ((rc = fx_fake_recv(t->fk, &m)) != 0 || m.type != MSG_ACK)
			break;
		seq += 100;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(m.type, MSG_ERROR);
	assert_int_equal(m.code, JALIN_ESPACE);
	b = fx_fake_buf(t->fk);
	buf_reset(b);
	buf_append(b, m.error, m.error_len);
	buf_append(b, "", 1);
	if (strncmp((char *)b->p, "cannot store changes: store is full", 35))
		fail_msg("ERROR '%s'", (char *)b->p);
	assert_absent(t, COLL_LKS, i * 100);
	buf_free(&v);
}

/* ---- who may connect, and the accessors without a connection -------- */

/* A fake whose certificate names no configured peer is refused before
 * HELLO; the applier never sees it. */
static void
test_unknown_peer(void **state)
{
	struct t *t = *state;
	struct fx_fake *fk;

	fx_node_start(t->nd);
	fk = fx_fake_new(t->nd, "nobody", false);
	fx_fake_expect_error(
	    fk, JALIN_EPERM, "node 'nobody' is not a configured peer");
	fx_settle(t->f);
	assert_false(conn_is_up(them(t)));
}

static void
test_not_connected(void **state)
{
	struct t *t = *state;
	struct apply_progress pr;

	fx_node_start(t->nd);
	assert_false(apply_is_live(them(t)));
	assert_false(apply_idle(them(t)));
	assert_false(apply_resyncing(them(t)));
	assert_false(apply_catch_up(them(t), &pr));
	assert_int_equal(apply_in_lag(them(t)), 0);
	link_fake(t);
	assert_int_equal(apply_pos(them(t)->conn), 0);
	fx_fake_hangup(t->fk);
	fx_settle(t->f);
	assert_false(conn_is_up(them(t)));
	assert_false(apply_idle(them(t)));
	assert_false(apply_catch_up(them(t), &pr));
}

/* ---- two real nodes ---------------------------------------------------- */

struct has {
	struct fx_node *nd;
	uint8_t id[16];
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

/* Two nodes over a pair: both feeds go live, and a record written on one
 * reaches the other. */
static void
test_two_nodes(void **state)
{
	struct t *t = *state;
	struct fx_node *b = fx_node_add(t->f, "sulsel");
	struct fx_node *nds[2] = {t->nd, b};
	struct has h = {b, {0}};

	fx_node_peer(t->nd, "sulsel", FX_COLLS_ALL, false);
	fx_node_peer(b, ME, FX_COLLS_ALL, false);
	fx_node_start(t->nd);
	fx_node_start(b);
	fx_link(t->nd, b);
	assert_true(fx_run(t->f, both_live, nds));
	fx_state_coll(&t->st, COLL_LKS, ME, fx_hlc(0), NULL, 0);
	fx_put(t->nd, COLL_LKS, 7, &t->st);
	fx_id(h.id, 7);
	assert_true(fx_run(t->f, has_lks, &h));
	assert_int_equal(fx_get(b, COLL_LKS, h.id, &t->got, NULL), 0);
	assert_memory_equal(t->got.p, t->st.p, t->st.len);
	assert_true(fx_run(t->f, both_live, nds));
	assert_true(apply_idle(fx_peer(b, ME)));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_new_record),
	    T(test_merge),
	    T(test_echo),
	    T(test_refused_collection),
	    T(test_refused_scope),
	    T(test_all_cases_node),
	    T(test_state_does_not_decode),
	    T(test_state_not_msgpack),
	    T(test_malformed_items),
	    T(test_clock_skew),
	    T(test_purged),
	    T(test_cannot_be_merged),
	    T(test_withdrawal_erases),
	    T(test_withdrawal_refused),
	    T(test_withdrawal_to_all_cases_node),
	    T(test_checkpoint_restart),
	    T(test_changes_out_of_order),
	    T(test_changes_pipelined),
	    T(test_live),
	    T(test_live_without_upto),
	    T(test_live_ends_outage_hold),
	    T(test_resync_same_epoch),
	    T(test_resync_new_epoch),
	    T(test_resync_without_epoch),
	    T(test_resync_without_reason),
	    T(test_repair),
	    T(test_repair_owed_withdrawal),
	    T(test_repair_without_records),
	    T(test_repair_malformed),
	    T(test_closed_while_committing),
	    T(test_stopping_while_committing),
	    T(test_store_full),
	    T(test_unknown_peer),
	    T(test_not_connected),
	    T(test_two_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
