/*
 * test_verify.c - verification (node/verify.c) without sockets or
 * processes: two nodes in one process, each with its store in a temporary
 * directory, or a node and a fake peer whose VDIGEST, VIDS and FETCH
 * frames the test writes (tests/unit/fx_repl.h).
 *
 * Differences are made the way they arise in the field: a node whose
 * checkpoint of the other's feed is ahead of what it holds (a store
 * restored from an older copy) never receives those records by the feed;
 * a record's bytes damaged on disk. Verification must find them bucket
 * by bucket, repair them both ways (REPAIR what we hold, FETCH what they
 * hold), verify again and report equal; never compare or send a record
 * outside the peer's scope; and end every round it starts exactly once
 * for each waiter (done, timed out, connection lost, cancelled).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "err.h"
#include "hlc.h"
#include "mp.h"
#include "uuid.h"
#include "peer.h"
#include "ops.h"
#include "store.h"
#include "conn.h"
#include "feed.h"
#include "apply.h"
#include "verify.h"
#include "fx_repl.h"

#define ME   "jabar"
#define THEM "banten"

#define ROUND_MAX_MS 120000 /* verify.c: a round that takes longer ends */

static const uint8_t EPOCH_F[16] = {
    0xf1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* What one done callback received. */
struct done {
	int n;
	struct verify_result r;
};

struct t {
	struct fx *f;
	struct fx_node *a, *b; /* b: NULL with a fake peer */
	struct fx_fake *fk;
	struct buf st, st2, got, items;
	struct done d[10];
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->f = fx_new();
	t->a = fx_node_add(t->f, ME);
	fx_node_peer(t->a, THEM, FX_COLLS_ALL, false);
	/* a second peer, never connected nor verified */
	fx_node_peer(t->a, "sulsel", FX_COLLS_ALL, false);
	buf_init(&t->st, JALIN_RECORD_MAX);
	buf_init(&t->st2, JALIN_RECORD_MAX);
	buf_init(&t->got, JALIN_RECORD_MAX);
	buf_init(&t->items, JALIN_FRAME_MAX);
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
	buf_free(&t->items);
	free(t);
	return 0;
}

/* ---- helpers: records -------------------------------------------------- */

/* A [name] field update u (value packed into v). */
static void
upd_name(struct merge_update *u, struct buf *v, uint16_t tag, const char *a)
{
	msgpack_packer pk;

	buf_reset(v);
	msgpack_packer_init(&pk, v, buf_pk_write);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_str_with_body(&pk, a, strlen(a));
	*u = (struct merge_update){tag, (uint32_t)v->len, v->p};
}

static int
get(struct t *t, struct fx_node *nd, uint8_t coll, unsigned idn)
{
	uint8_t id[16];

	fx_id(id, idn);
	return fx_get(nd, coll, id, &t->got, NULL);
}

/* nd holds coll/idn exactly as st. */
static void
assert_stored(struct t *t, struct fx_node *nd, uint8_t coll, unsigned idn,
    const struct buf *st)
{
	assert_int_equal(get(t, nd, coll, idn), 0);
	assert_int_equal(t->got.len, st->len);
	assert_memory_equal(t->got.p, st->p, st->len);
}

/* Damage a stored record's bytes behind the store's back (test_store.c). */
static void
corrupt(struct fx_node *nd, uint8_t coll, unsigned idn)
{
	const struct stdb *db = store_db(nd->n.store);
	uint8_t k[STDB_KEY_LEN], id[16];
	MDB_val key = {sizeof(k), k}, val;
	MDB_txn *txn;

	fx_id(id, idn);
	stdb_key(k, coll, id);
	assert_int_equal(mdb_txn_begin(stdb_env(db), NULL, 0, &txn), 0);
	assert_int_equal(
	    mdb_get(txn, stdb_dbi(db, STDB_RECORDS), &key, &val), 0);
	uint8_t *copy = malloc(val.mv_size);
	memcpy(copy, val.mv_data, val.mv_size);
	copy[val.mv_size - 2] ^= 0x55; /* a bit flip inside a value */
	val.mv_data = copy;
	assert_int_equal(
	    mdb_put(txn, stdb_dbi(db, STDB_RECORDS), &key, &val, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	free(copy);
}

struct ckpt {
	char key[JALIN_NAME_MAX + 8];
	uint8_t v[32];
	size_t len;
};

static int
ckpt_fn(struct store_txn *tx, void *arg)
{
	struct ckpt *c = arg;

	return store_txn_put(
	    tx, STDB_CKPT, c->key, strlen(c->key), c->v, c->len);
}

/*
 * nd's checkpoint of peer's feed says it holds all of other's store as it
 * is now (a restored backup that lost what came after): what other holds
 * now never reaches nd by the feed. Takes effect at nd's next start.
 */
static void
skip_feed(struct fx_node *nd, const char *peer, struct fx_node *other)
{
	struct ckpt c;

	peer_ckpt_key(c.key, sizeof(c.key), PEER_CKPT_IN, peer);
	c.len = peer_ckpt_pack(
	    c.v, store_epoch(other->n.store), store_seq(other->n.store));
	assert_int_equal(store_write(nd->n.store, ckpt_fn, &c, NULL), 0);
}

/* ---- helpers: two nodes ------------------------------------------------ */

static bool
idle_one(struct fx_node *nd, const char *peer)
{
	struct peer *p = fx_peer(nd, peer);

	return apply_idle(p) && feed_idle(nd->n.peers, p);
}

static bool
idle2(void *arg)
{
	struct t *t = arg;

	return idle_one(t->a, THEM) && idle_one(t->b, ME);
}

/* Add banten (configured for every collection both ways), start both. */
static void
two_nodes(struct t *t)
{
	t->b = fx_node_add(t->f, THEM);
	fx_node_peer(t->b, ME, FX_COLLS_ALL, false);
	fx_node_start(t->a);
	fx_node_start(t->b);
}

/* Link a and b, each skipping what the other holds now (skip: see
 * skip_feed), and run until both feeds are idle both ways. */
static void
link_nodes(struct t *t, bool skip)
{
	if (skip) {
		skip_feed(t->a, THEM, t->b);
		skip_feed(t->b, ME, t->a);
		fx_node_restart(t->a);
		fx_node_restart(t->b);
	}
	fx_link(t->a, t->b);
	assert_true(fx_run(t->f, idle2, t));
}

static void
on_done(void *ctx, const struct verify_result *r)
{
	struct done *d = ctx;

	d->n++;
	d->r = *r;
}

/*
 * Let the loop run (and the tick that starts a recheck once both feeds
 * are idle again) until d was called. rounds: settles at most.
 */
static void
wait_done(struct t *t, struct fx_node *nd, struct done *d, int rounds)
{
	for (int i = 0; i < rounds && d->n == 0; i++) {
		fx_settle(t->f);
		if (d->n == 0 && (t->b == NULL || idle2(t)))
			verify_tick(nd->n.peers, hlc_wall_ms() + 1500);
	}
	assert_int_equal(d->n, 1);
}

/* Verify nd's peer now and wait for the result (into t->d[0]). */
static const struct verify_result *
verify(struct t *t, struct fx_node *nd, const char *peer)
{
	struct jalin_err err;

	memset(&t->d[0], 0, sizeof(t->d[0]));
	jalin_err_clear(&err);
	assert_int_equal(verify_request(nd->n.peers, peer, strlen(peer),
	                     on_done, &t->d[0], &err),
	    0);
	wait_done(t, nd, &t->d[0], 1000);
	return &t->d[0].r;
}

static void
lks(struct t *t, struct buf *out, const char *origin, int64_t ms)
{
	(void)t;
	fx_state_coll(out, COLL_LKS, origin, fx_hlc(ms), NULL, 0);
}

/* "lks 01900000-..." for record idn of coll. */
static void
rname(char *out, size_t n, const char *coll, unsigned idn)
{
	char ids[UUID_STR_LEN + 1];
	uint8_t id[16];

	fx_id(id, idn);
	uuid_format(id, ids);
	snprintf(out, n, "%s %s", coll, ids);
}

/* ---- two nodes --------------------------------------------------------- */

/* Equal stores: verified from either side, every record compared, none
 * differing; the result is also what verify_last shows. */
static void
test_equal(void **state)
{
	struct t *t = *state;
	const struct verify_result *r;

	two_nodes(t);
	assert_null(verify_last(fx_peer(t->a, THEM)));
	for (unsigned i = 1; i <= 3; i++) {
		lks(t, &t->st, ME, -1000 + (int)i);
		fx_put(t->a, COLL_LKS, i, &t->st);
	}
	lks(t, &t->st, THEM, -500);
	fx_put(t->b, COLL_LKS, 0x100, &t->st);
	link_nodes(t, false);
	r = verify(t, t->a, THEM);
	assert_string_equal(r->peer, THEM);
	assert_int_equal(r->rc, 0);
	assert_true(r->equal);
	assert_int_equal(r->compared, 4);
	assert_int_equal(r->differing, 0);
	assert_int_equal(r->repaired, 0);
	assert_int_equal(r->corrupt, 0);
	assert_string_equal(r->text, "in sync: 4 records compared");
	assert_string_equal(r->where, "");
	assert_true(r->at_ms != 0);
	assert_int_equal(r->verified_ms, r->at_ms);
	const struct verify_result *last = verify_last(fx_peer(t->a, THEM));
	assert_non_null(last);
	assert_memory_equal(last, r, sizeof(*r));
	assert_true(fx_log_has(t->f,
	    "peer " THEM ": verify: in sync: 4 "
	    "records compared"));

	r = verify(t, t->b, ME);
	assert_int_equal(r->rc, 0);
	assert_true(r->equal);
	assert_int_equal(r->compared, 4);
	assert_string_equal(r->peer, ME);
}

/*
 * Each side lacks a record the other has (the feed skipped them), and a
 * third is held in two versions: the differing buckets are found, their
 * ids compared, ours sent (REPAIR), theirs asked for (FETCH), both
 * versions exchanged; then the check runs again and finds them equal.
 */
static void
test_repair_both_ways(void **state)
{
	struct t *t = *state;
	const struct verify_result *r;
	struct buf x, y, w;
	struct merge_update u;
	struct buf v;
	char want[512], nx[64], ny[64], nz[64];

	buf_init(&x, 256);
	buf_init(&y, 256);
	buf_init(&w, 256);
	buf_init(&v, 64);
	two_nodes(t);
	lks(t, &x, ME, -3000);
	fx_put(t->a, COLL_LKS, 0x101, &x); /* bucket 1, jabar only */
	lks(t, &y, THEM, -3000);
	fx_put(t->b, COLL_LKS, 0x201, &y); /* bucket 1, banten only */
	lks(t, &t->st, ME, -2000);         /* bucket 2: v1 at banten */
	fx_put(t->b, COLL_LKS, 0x302, &t->st);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &v, buf_pk_write);
	msgpack_pack_str_with_body(&pk, "v2", 2);
	u = (struct merge_update){TAG_FIRST_OWN, (uint32_t)v.len, v.p};
	fx_state_on(&t->st2, &t->st, ME, fx_hlc(-1000), &u, 1);
	fx_put(t->a, COLL_LKS, 0x302, &t->st2); /* v2 at jabar */
	link_nodes(t, true);
	lks(t, &w, ME, -500); /* one they share by the feed */
	fx_put(t->a, COLL_LKS, 0x403, &w);
	assert_true(fx_run(t->f, idle2, t));
	assert_int_equal(get(t, t->b, COLL_LKS, 0x101), JALIN_ENOTFOUND);
	assert_int_equal(get(t, t->a, COLL_LKS, 0x201), JALIN_ENOTFOUND);

	r = verify(t, t->a, THEM);
	assert_int_equal(r->rc, 0);
	assert_true(r->equal);
	assert_int_equal(r->compared, 4);
	assert_int_equal(r->differing, 3);
	assert_int_equal(r->repaired, 4); /* x sent, y asked, z both */
	assert_int_equal(r->corrupt, 0);
	assert_string_equal(r->text,
	    "in sync: 4 records compared; 3 differed and were repaired");
	rname(nx, sizeof(nx), "lks", 0x101);
	rname(ny, sizeof(ny), "lks", 0x201);
	rname(nz, sizeof(nz), "lks", 0x302);
	snprintf(want, sizeof(want), "%s, %s, %s", nx, ny, nz);
	assert_string_equal(r->where, want);
	snprintf(want, sizeof(want),
	    "peer " THEM ": verify: 2 record(s) differ in bucket 1 (%s, %s; 0 "
	    "corrupt so far); repairing",
	    nx, ny);
	assert_true(fx_log_has(t->f, want));
	assert_stored(t, t->b, COLL_LKS, 0x101, &x);
	assert_stored(t, t->a, COLL_LKS, 0x201, &y);
	assert_stored(t, t->a, COLL_LKS, 0x302, &t->st2);
	assert_stored(t, t->b, COLL_LKS, 0x302, &t->st2);
	assert_stored(t, t->b, COLL_LKS, 0x403, &w);
	/* the other side agrees */
	r = verify(t, t->b, ME);
	assert_true(r->equal);
	assert_int_equal(r->differing, 0);
	buf_free(&x);
	buf_free(&y);
	buf_free(&w);
	buf_free(&v);
}

/* A record damaged on the peer's disk is counted and replaced by ours; one
 * damaged on ours is fetched from the peer. */
static void
test_corrupt(void **state)
{
	struct t *t = *state;
	const struct verify_result *r;
	struct buf s[3];

	two_nodes(t);
	for (unsigned i = 0; i < 3; i++) {
		buf_init(&s[i], 256);
		lks(t, &s[i], ME, -1000 + (int)i);
		fx_put(t->a, COLL_LKS, i + 1, &s[i]);
	}
	link_nodes(t, false);
	corrupt(t->b, COLL_LKS, 2);
	assert_int_equal(get(t, t->b, COLL_LKS, 2), JALIN_ECORRUPT);
	r = verify(t, t->a, THEM);
	assert_int_equal(r->rc, 0);
	assert_true(r->equal);
	assert_int_equal(r->corrupt, 1);
	assert_int_equal(r->differing, 1);
	assert_int_equal(r->repaired, 1);
	assert_int_equal(r->compared, 3);
	assert_stored(t, t->b, COLL_LKS, 2, &s[1]);

	corrupt(t->a, COLL_LKS, 3);
	r = verify(t, t->a, THEM);
	assert_int_equal(r->rc, 0);
	assert_true(r->equal);
	assert_int_equal(r->corrupt, 1);
	assert_int_equal(r->differing, 1);
	assert_int_equal(r->repaired, 1);
	assert_stored(t, t->a, COLL_LKS, 3, &s[2]);
	for (unsigned i = 0; i < 3; i++)
		buf_free(&s[i]);
}

/*
 * The same record damaged on both sides: the digests agree but both
 * count it, so every bucket is listed; neither side can repair it, and
 * after three repair rounds the check says so instead of spinning.
 */
static void
test_corrupt_both_sides(void **state)
{
	struct t *t = *state;
	const struct verify_result *r;
	char want[JALIN_ERRMSG_MAX + 64], nm[64];

	two_nodes(t);
	lks(t, &t->st, ME, -1000);
	fx_put(t->a, COLL_LKS, 7, &t->st);
	link_nodes(t, false);
	corrupt(t->a, COLL_LKS, 7);
	corrupt(t->b, COLL_LKS, 7);
	r = verify(t, t->a, THEM);
	rname(nm, sizeof(nm), "lks", 7);
	assert_int_equal(r->rc, 0);
	assert_false(r->equal);
	assert_int_equal(r->corrupt, 8); /* both sides, four rounds */
	assert_int_equal(r->differing, 4);
	assert_int_equal(r->repaired, 0);
	assert_int_equal(r->compared, 0);
	assert_int_equal(r->verified_ms, 0);
	assert_string_equal(r->where, nm);
	snprintf(
	    want, sizeof(want), "differences remain after 3 repairs (%s)", nm);
	assert_string_equal(r->text, want);
	snprintf(want, sizeof(want), "peer " THEM ": verify: %s", r->text);
	assert_true(fx_log_has(t->f, want));
}

/*
 * Records outside the peer's scope are neither compared nor sent: a case
 * shared with another node stays here, one shared with the peer is sent,
 * and a case withdrawn from the peer that it still holds (it missed the
 * withdrawal) is answered with a withdrawal, not fetched.
 */
static void
test_scope(void **state)
{
	struct t *t = *state;
	const struct verify_result *r;
	struct buf c1, c2, l, v1, v2;
	struct merge_update u[2];

	buf_init(&c1, 256);
	buf_init(&c2, 256);
	buf_init(&l, 256);
	buf_init(&v1, 64);
	buf_init(&v2, 64);
	two_nodes(t);
	/* all in bucket 5 */
	fx_state_shared(&c1, ME, "sulsel", fx_hlc(-3000));
	fx_put(t->a, COLL_CASE, 0x105, &c1);
	fx_state_shared(&c2, ME, THEM, fx_hlc(-3000));
	fx_put(t->a, COLL_CASE, 0x205, &c2);
	lks(t, &l, ME, -3000);
	fx_put(t->a, COLL_LKS, 0x305, &l);
	/* withdrawn here from banten, which still holds the old copy */
	fx_state_shared(&t->st, ME, THEM, fx_hlc(-3000));
	fx_put(t->b, COLL_CASE, 0x405, &t->st);
	upd_name(&u[0], &v1, TAG_SHARE_WITH, "sulsel");
	upd_name(&u[1], &v2, TAG_UNSHARED_FROM, THEM);
	fx_state_on(&t->st2, &t->st, ME, fx_hlc(-2000), u, 2);
	fx_put(t->a, COLL_CASE, 0x405, &t->st2);
	link_nodes(t, true);

	r = verify(t, t->a, THEM);
	assert_int_equal(r->rc, 0);
	assert_true(r->equal);
	assert_int_equal(r->compared, 2); /* c2 and l */
	assert_int_equal(r->differing, 3);
	assert_int_equal(r->repaired, 3);
	assert_stored(t, t->b, COLL_CASE, 0x205, &c2);
	assert_stored(t, t->b, COLL_LKS, 0x305, &l);
	assert_int_equal(get(t, t->b, COLL_CASE, 0x105), JALIN_ENOTFOUND);
	assert_int_equal(get(t, t->b, COLL_CASE, 0x405), JALIN_ENOTFOUND);
	assert_stored(t, t->a, COLL_CASE, 0x405, &t->st2);
	char nm[64];
	rname(nm, sizeof(nm), "case", 0x105);
	assert_null(strstr(r->where, nm));
	rname(nm, sizeof(nm), "case", 0x405);
	assert_non_null(strstr(r->where, nm));
	buf_free(&c1);
	buf_free(&c2);
	buf_free(&l);
	buf_free(&v1);
	buf_free(&v2);
}

/*
 * A record whose tombstone we collected, still live at the peer (a
 * restored backup): we send the tombstone, which deletes its copy.
 */
static void
test_collected_tombstone_answered(void **state)
{
	struct t *t = *state;
	const struct verify_result *r;
	struct record *rec = malloc(sizeof(*rec));

	two_nodes(t);
	lks(t, &t->st, ME, -3000);
	fx_put(t->a, COLL_LKS, 9, &t->st);
	fx_put(t->b, COLL_LKS, 9, &t->st);
	fx_state_deleted(&t->st2, &t->st, ME, fx_hlc(-2000));
	fx_put(t->a, COLL_LKS, 9, &t->st2);
	fx_bury(t->a, COLL_LKS, 9);
	assert_int_equal(get(t, t->a, COLL_LKS, 9), JALIN_ENOTFOUND);
	link_nodes(t, true);

	r = verify(t, t->a, THEM);
	assert_int_equal(r->rc, 0);
	assert_true(r->equal);
	assert_int_equal(r->differing, 1);
	assert_int_equal(r->repaired, 1);
	assert_int_equal(r->compared, 0);
	assert_stored(t, t->b, COLL_LKS, 9, &t->st2);
	assert_int_equal(
	    rec_decode(rec, t->got.p, t->got.len, REC_TRUSTED, NULL), 0);
	assert_false(rec_is_live(rec));
	assert_int_equal(get(t, t->a, COLL_LKS, 9), JALIN_ENOTFOUND);
	free(rec);
}

/*
 * The same seen from the restored side: its REPAIR of the old copy merges
 * into our collected tombstone and changes nothing, so its check cannot
 * settle the difference (it says so after three rounds); ours does.
 */
static void
test_collected_tombstone_other_side(void **state)
{
	struct t *t = *state;
	const struct verify_result *r;

	two_nodes(t);
	lks(t, &t->st, ME, -3000);
	fx_put(t->a, COLL_LKS, 9, &t->st);
	fx_put(t->b, COLL_LKS, 9, &t->st);
	fx_state_deleted(&t->st2, &t->st, ME, fx_hlc(-2000));
	fx_put(t->a, COLL_LKS, 9, &t->st2);
	fx_bury(t->a, COLL_LKS, 9);
	link_nodes(t, true);

	r = verify(t, t->b, ME);
	assert_int_equal(r->rc, 0);
	assert_false(r->equal);
	assert_int_equal(r->differing, 4);
	assert_stored(t, t->b, COLL_LKS, 9, &t->st);
	assert_int_equal(get(t, t->a, COLL_LKS, 9), JALIN_ENOTFOUND);
	r = verify(t, t->a, THEM);
	assert_true(r->equal);
	assert_stored(t, t->b, COLL_LKS, 9, &t->st2);
	r = verify(t, t->b, ME);
	assert_true(r->equal);
}

/* A verification asked for while one runs joins it: every waiter hears
 * the one result once; a waiter that is gone is not called; there is
 * room for eight. */
static void
test_waiters(void **state)
{
	struct t *t = *state;
	struct jalin_err err;
	struct peers *ps;

	two_nodes(t);
	lks(t, &t->st, ME, -1000);
	fx_put(t->a, COLL_LKS, 1, &t->st);
	link_nodes(t, false);
	ps = t->a->n.peers;
	jalin_err_clear(&err);
	for (int i = 0; i < 8; i++)
		assert_int_equal(verify_request(ps, THEM, strlen(THEM), on_done,
		                     &t->d[i], &err),
		    0);
	assert_int_equal(
	    verify_request(ps, THEM, strlen(THEM), on_done, &t->d[8], &err),
	    JALIN_EEXIST);
	assert_string_equal(
	    err.msg, "too many verifications of '" THEM "' waiting");
	/* just start (or join): nobody to tell */
	assert_int_equal(
	    verify_request(ps, THEM, strlen(THEM), NULL, NULL, &err), 0);
	verify_cancel_waiter(ps, &t->d[3]);
	verify_cancel_waiter(NULL, &t->d[4]); /* no-op */
	wait_done(t, t->a, &t->d[0], 50);
	for (int i = 0; i < 8; i++) {
		if (i == 3) {
			assert_int_equal(t->d[i].n, 0);
			continue;
		}
		assert_int_equal(t->d[i].n, 1);
		assert_memory_equal(&t->d[i].r, &t->d[0].r, sizeof(t->d[0].r));
	}
	assert_int_equal(t->d[8].n, 0);
	assert_true(t->d[0].r.equal);
	assert_int_equal(t->d[0].r.compared, 1);
	/* the next request starts a new round */
	assert_int_equal(
	    verify_request(ps, THEM, strlen(THEM), on_done, &t->d[8], &err), 0);
	wait_done(t, t->a, &t->d[8], 50);
	assert_int_equal(t->d[0].n, 1);
	assert_true(t->d[8].r.equal);
}

/* Requests that cannot start: no such peer, not connected, changes in
 * flight (the last two end at once, through the callback). */
static void
test_request_refused(void **state)
{
	struct t *t = *state;
	struct jalin_err err;
	struct peers *ps;
	char longname[JALIN_NAME_MAX + 2];

	jalin_err_clear(&err);
	assert_int_equal(
	    verify_request(NULL, THEM, strlen(THEM), on_done, &t->d[0], &err),
	    JALIN_ENOTFOUND);
	assert_string_equal(err.msg, "no such peer");
	two_nodes(t);
	ps = t->a->n.peers;
	jalin_err_clear(&err);
	assert_int_equal(
	    verify_request(ps, "papua", 5, on_done, &t->d[0], &err),
	    JALIN_ENOTFOUND);
	assert_string_equal(err.msg, "'papua' is not a configured peer");
	assert_int_equal(verify_request(ps, THEM, 0, on_done, &t->d[0], &err),
	    JALIN_ENOTFOUND);
	memset(longname, 'a', sizeof(longname));
	assert_int_equal(verify_request(ps, longname, sizeof(longname), on_done,
	                     &t->d[0], &err),
	    JALIN_ENOTFOUND);
	assert_int_equal(t->d[0].n, 0);

	/* configured, but not connected */
	assert_int_equal(
	    verify_request(ps, THEM, strlen(THEM), on_done, &t->d[0], &err), 0);
	assert_int_equal(t->d[0].n, 1);
	assert_int_equal(t->d[0].r.rc, JALIN_EUNREACH);
	assert_false(t->d[0].r.equal);
	assert_string_equal(t->d[0].r.text, "not verified: not connected");
	assert_int_equal(t->d[0].r.verified_ms, 0);
	assert_non_null(verify_last(fx_peer(t->a, THEM)));

	/* connected, but our feed is not yet acknowledged */
	link_nodes(t, false);
	lks(t, &t->st, ME, -1000);
	fx_put(t->a, COLL_LKS, 1, &t->st);
	assert_int_equal(
	    verify_request(ps, THEM, strlen(THEM), on_done, &t->d[1], &err), 0);
	assert_int_equal(t->d[1].n, 1);
	assert_int_equal(t->d[1].r.rc, JALIN_ESTATE);
	assert_string_equal(
	    t->d[1].r.text, "not verified: changes in flight; retrying");
	/* once settled, it verifies; a failure later keeps verified_ms */
	assert_true(fx_run(t->f, idle2, t));
	const struct verify_result *r = verify(t, t->a, THEM);
	assert_true(r->equal);
	uint64_t when = r->verified_ms;
	fx_put(t->a, COLL_LKS, 2, &t->st);
	assert_int_equal(
	    verify_request(ps, THEM, strlen(THEM), on_done, &t->d[2], &err), 0);
	assert_int_equal(t->d[2].r.rc, JALIN_ESTATE);
	assert_int_equal(t->d[2].r.verified_ms, when);
}

/* The periodic check: soon after a peer goes live, then every
 * verify_interval seconds; none while the interval is 0. */
static void
test_periodic(void **state)
{
	struct t *t = *state;
	struct peer *p;
	uint64_t now;

	two_nodes(t);
	link_nodes(t, false);
	p = fx_peer(t->a, THEM);
	verify_soon(p);
	now = hlc_wall_ms();
	verify_tick(t->a->n.peers, now + 5000);
	fx_settle(t->f);
	/* verify_interval 0: off */
	assert_int_equal(verify_last(p)->at_ms, 0);
	t->a->n.cfg->verify_interval = 60;
	verify_tick(t->a->n.peers, now + 1000); /* not yet */
	fx_settle(t->f);
	assert_int_equal(verify_last(p)->at_ms, 0);
	verify_tick(t->a->n.peers, now + 5000);
	fx_settle(t->f);
	assert_non_null(verify_last(p));
	assert_int_equal(verify_last(p)->rc, 0);
	assert_true(verify_last(p)->equal);
	uint64_t at = verify_last(p)->at_ms;
	verify_soon(p); /* idle: moves the next check closer */
	verify_tick(t->a->n.peers, hlc_wall_ms() + 30000);
	fx_settle(t->f);
	assert_true(verify_last(p)->at_ms >= at);
}

/* ---- a fake peer ------------------------------------------------------- */

static bool
fake_idle(void *arg)
{
	struct t *t = arg;

	return idle_one(t->a, THEM);
}

/* Start jabar, connect the fake banten, subscribe both ways, take
 * jabar's feed (acknowledging it) until both are live. */
static void
fake_live(struct t *t)
{
	struct msg_peer m;
	struct buf *b;

	if (!t->a->started)
		fx_node_start(t->a);
	t->fk = fx_fake_new(t->a, THEM, false);
	b = fx_fake_buf(t->fk);
	fx_fake_expect(t->fk, MSG_HELLO, &m);
	fx_fake_hello(t->fk, EPOCH_F, 0);
	fx_fake_expect(t->fk, MSG_SUB, &m);
	msg_enc_sub(b, NULL, 0);
	fx_fake_send(t->fk, b);
	msg_enc_live(b, EPOCH_F, 0);
	fx_fake_send(t->fk, b);
	for (;;) {
		assert_int_equal(fx_fake_recv(t->fk, &m), 0);
		if (m.type == MSG_LIVE)
			break;
		assert_int_equal(m.type, MSG_CHANGES);
		msg_enc_ack(b, store_epoch(t->a->n.store), m.upto);
		fx_fake_send(t->fk, b);
	}
	assert_true(fx_run(t->f, fake_idle, t));
}

/* Ask jabar for its digest of what it shares with us. */
static void
fake_get_digest(struct t *t, uint8_t sums[256 * 32], struct msg_peer *m)
{
	msg_enc_vdigest_req(fx_fake_buf(t->fk));
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_expect(t->fk, MSG_VDIGEST, m);
	assert_non_null(m->sums);
	memcpy(sums, m->sums, 256 * 32);
}

/* Answer jabar's VDIGEST_REQ with sums as if we held count records. */
static void
fake_digest(struct t *t, const uint8_t *sums, uint64_t count)
{
	struct msg_vdigest d = {0, 0, store_seq(t->a->n.store), sums, count, 0};

	msg_enc_vdigest(fx_fake_buf(t->fk), &d);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
}

static void
request(struct t *t, struct done *d)
{
	struct jalin_err err;

	jalin_err_clear(&err);
	assert_int_equal(
	    verify_request(t->a->n.peers, THEM, strlen(THEM), on_done, d, &err),
	    0);
}

/* VIDS of bucket from the items in t->items (n of them). */
static void
fake_vids(struct t *t, uint8_t bucket, uint32_t n)
{
	msg_enc_vids(fx_fake_buf(t->fk), bucket, n, t->items.p, t->items.len);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
}

/* One [coll, id, hash|nil] item into t->items. */
static void
item(struct t *t, uint8_t coll, unsigned idn, const uint8_t *hash)
{
	msgpack_packer pk;
	uint8_t id[16];

	fx_id(id, idn);
	msgpack_packer_init(&pk, &t->items, buf_pk_write);
	msg_ids_item(&pk, coll, id, hash);
}

/* One malformed listing item into t->items, a different fault by kind:
 * too short, an id of 8 bytes, a hash of 16, a collection above 255. */
static void
bad_item(struct t *t, int kind, const uint8_t *h)
{
	static const uint8_t id[16] = {1};
	msgpack_packer pk;

	msgpack_packer_init(&pk, &t->items, buf_pk_write);
	msgpack_pack_array(&pk, kind == 0 ? 2 : 3);
	msgpack_pack_uint16(&pk, kind == 3 ? 300 : COLL_LKS);
	if (kind == 0) {
		msgpack_pack_nil(&pk);
		return;
	}
	msgpack_pack_bin_with_body(&pk, id, kind == 1 ? 8 : 16);
	msgpack_pack_bin_with_body(&pk, h, kind == 2 ? 16 : 32);
}

/* The [coll, id] or [seq, coll, id, state(, proof)] items of a FETCH or
 * REPAIR:
 * their ids' numbers (fx_id's n) into idn, the count returned. */
static uint32_t
ids_of(const uint8_t *arr, size_t len, bool repair, unsigned *idn, uint32_t max)
{
	struct mpr r;
	uint32_t n, k, idlen;
	uint64_t u;
	const uint8_t *id;

	mpr_init(&r, arr, len);
	assert_int_equal(mpr_array(&r, &n), 0);
	assert_true(n <= max);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(mpr_array(&r, &k), 0);
		/* protocol 4's REPAIR items carry a fifth: the proof */
		assert_true(repair ? k == 4 || k == 5 : k == 2);
		if (repair)
			assert_int_equal(mpr_u64(&r, &u), 0);
		assert_int_equal(mpr_u64(&r, &u), 0);
		assert_int_equal(mpr_bin(&r, &id, &idlen), 0);
		assert_int_equal(idlen, 16);
		idn[i] = (unsigned)id[12] << 24 | (unsigned)id[13] << 16 |
		    (unsigned)id[14] << 8 | id[15];
		if (repair)
			assert_int_equal(mpr_skip(&r), 0);
		if (k == 5)
			assert_int_equal(mpr_skip(&r), 0);
	}
	return n;
}

/* Equal digests from a peer that holds the same: verified. The answering
 * side: jabar's digest of what it shares, its listing of a bucket. */
static void
test_fake_equal_and_answers(void **state)
{
	struct t *t = *state;
	uint8_t sums[256 * 32], zero[32] = {0}, h[32];
	struct msg_peer m;
	struct mpr r;
	uint32_t n, k, len;
	uint64_t u;
	const uint8_t *p;

	fx_node_start(t->a);
	lks(t, &t->st, ME, -1000);
	fx_put(t->a, COLL_LKS, 0x107, &t->st);
	fx_state_shared(&t->st2, ME, "sulsel", fx_hlc(-1000));
	fx_put(t->a, COLL_CASE, 0x207, &t->st2); /* not ours to see */
	fake_live(t);
	fake_get_digest(t, sums, &m);
	assert_int_equal(m.count, 1);
	assert_int_equal(m.bad, 0);
	assert_int_equal(m.seq, 2);
	assert_int_equal(m.head, 2);
	assert_int_equal(m.upto, 0);
	for (int b = 0; b < 256; b++)
		if (b != 7)
			assert_memory_equal(sums + 32 * b, zero, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t id[16];
	fx_id(id, 0x107);
	assert_int_equal(stdb_record_hash(md, EVP_sha256(), COLL_LKS, id,
	                     t->st.p, t->st.len, h),
	    0);
	EVP_MD_CTX_free(md);
	assert_memory_equal(sums + 32 * 7, h, 32);

	/* its listing of bucket 7: the lks, not the case */
	msg_enc_vids_req(fx_fake_buf(t->fk), 7);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_expect(t->fk, MSG_VIDS, &m);
	assert_true(m.has_bucket);
	assert_int_equal(m.bucket, 7);
	mpr_init(&r, m.ids, m.ids_len);
	assert_int_equal(mpr_array(&r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mpr_array(&r, &k), 0);
	assert_int_equal(k, 3);
	assert_int_equal(mpr_u64(&r, &u), 0);
	assert_int_equal(u, COLL_LKS);
	assert_int_equal(mpr_bin(&r, &p, &len), 0);
	assert_memory_equal(p, id, 16);
	assert_int_equal(mpr_bin(&r, &p, &len), 0);
	assert_int_equal(len, 32);
	assert_memory_equal(p, h, 32);

	/* a second request replaces the first: one answer */
	msg_enc_vdigest_req(fx_fake_buf(t->fk));
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_expect(t->fk, MSG_VDIGEST, &m);
	fx_settle(t->f);
	assert_true(fx_fake_quiet(t->fk));

	/* jabar verifies us: equal */
	request(t, &t->d[0]);
	fx_fake_expect(t->fk, MSG_VDIGEST_REQ, NULL);
	fake_digest(t, sums, 1);
	wait_done(t, t->a, &t->d[0], 10);
	assert_int_equal(t->d[0].r.rc, 0);
	assert_true(t->d[0].r.equal);
	assert_int_equal(t->d[0].r.compared, 1);
}

/* FETCH: the asked records we hold and may give, as REPAIR; nothing for
 * what is out of scope, unknown, or after a malformed item. */
static void
test_fake_fetch(void **state)
{
	struct t *t = *state;
	struct msg_batch bt;
	struct msg_peer m;
	unsigned idn[8];
	uint8_t id[16];

	fx_node_start(t->a);
	lks(t, &t->st, ME, -1000);
	fx_put(t->a, COLL_LKS, 1, &t->st);
	fx_put(t->a, COLL_LKS, 4, &t->st);
	fx_state_shared(&t->st2, ME, "sulsel", fx_hlc(-1000));
	fx_put(t->a, COLL_CASE, 2, &t->st2);
	fake_live(t);
	msg_fetch_begin(&bt, fx_fake_buf(t->fk));
	fx_id(id, 1);
	msg_batch_id(&bt, COLL_LKS, id);
	fx_id(id, 2);
	msg_batch_id(&bt, COLL_CASE, id); /* shared with sulsel only */
	fx_id(id, 3);
	msg_batch_id(&bt, COLL_LKS, id); /* unknown */
	msg_batch_id(&bt, 0xff, id);     /* no such collection */
	/* a malformed item ends the list: 4 is not sent */
	msgpack_pack_array(&bt.pk, 1);
	msgpack_pack_uint8(&bt.pk, 1);
	bt.n++;
	fx_id(id, 4);
	msg_batch_id(&bt, COLL_LKS, id);
	msg_batch_end(&bt);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_expect(t->fk, MSG_REPAIR, &m);
	assert_int_equal(ids_of(m.recs, m.recs_len, true, idn, 8), 1);
	assert_int_equal(idn[0], 1);
	fx_settle(t->f);
	assert_true(fx_fake_quiet(t->fk));

	/* nothing to give: no REPAIR at all */
	msg_fetch_begin(&bt, fx_fake_buf(t->fk));
	fx_id(id, 3);
	msg_batch_id(&bt, COLL_LKS, id);
	msg_batch_end(&bt);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_settle(t->f);
	assert_true(fx_fake_quiet(t->fk));
	assert_true(conn_is_up(fx_peer(t->a, THEM)));
}

/* A VIDS_REQ without a usable bucket closes the connection. */
static void
test_fake_vids_req_without_bucket(void **state)
{
	struct t *t = *state;
	struct buf *b;
	msgpack_packer pk;

	fake_live(t);
	b = fx_fake_buf(t->fk);
	buf_reset(b);
	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint8(&pk, MSG_VIDS_REQ);
	fx_fake_send(t->fk, b);
	fx_fake_expect_error(t->fk, JALIN_EPROTO,
	    "VIDS_REQ: required key 55 (BUCKET) is missing");
}

static void
test_fake_vids_req_bucket_too_big(void **state)
{
	struct t *t = *state;
	struct buf *b;
	msgpack_packer pk;

	fake_live(t);
	b = fx_fake_buf(t->fk);
	buf_reset(b);
	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint8(&pk, MSG_VIDS_REQ);
	msgpack_pack_uint8(&pk, MK_BUCKET);
	msgpack_pack_uint16(&pk, 256);
	fx_fake_send(t->fk, b);
	fx_fake_expect_error(t->fk, JALIN_EPROTO, "VIDS_REQ without a bucket");
}

/*
 * The peer's answers that do not fit: a VDIGEST without sums is ignored
 * (the round goes on); one whose heads do not match ours is not compared
 * ("changes in flight"); one whose sums are not 8192 bytes closes the
 * connection, and the round ends as lost.
 */
static void
test_fake_bad_vdigest(void **state)
{
	struct t *t = *state;
	uint8_t sums[256 * 32];
	struct msg_peer m;
	struct buf *b;
	msgpack_packer pk;

	fx_node_start(t->a);
	lks(t, &t->st, ME, -1000);
	fx_put(t->a, COLL_LKS, 1, &t->st);
	fake_live(t);
	fake_get_digest(t, sums, &m);
	b = fx_fake_buf(t->fk);

	/* without sums: ignored, then the real answer */
	request(t, &t->d[0]);
	fx_fake_expect(t->fk, MSG_VDIGEST_REQ, NULL);
	buf_reset(b);
	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint8(&pk, MSG_VDIGEST);
	msgpack_pack_uint8(&pk, MK_COUNT);
	msgpack_pack_uint8(&pk, 1);
	fx_fake_send(t->fk, b);
	fx_settle(t->f);
	assert_int_equal(t->d[0].n, 0);
	fake_digest(t, sums, 1);
	wait_done(t, t->a, &t->d[0], 10);
	assert_true(t->d[0].r.equal);
	/* a late answer to a round that ended: ignored */
	fake_digest(t, sums, 1);
	fx_settle(t->f);
	assert_int_equal(t->d[0].n, 1);
	assert_true(conn_is_up(fx_peer(t->a, THEM)));

	/* heads that do not match: not compared */
	request(t, &t->d[1]);
	fx_fake_expect(t->fk, MSG_VDIGEST_REQ, NULL);
	struct msg_vdigest d = {0, 0, 0, sums, 1, 0}; /* upto 0, not 1 */
	msg_enc_vdigest(b, &d);
	fx_fake_send(t->fk, b);
	wait_done(t, t->a, &t->d[1], 10);
	assert_int_equal(t->d[1].r.rc, JALIN_ESTATE);
	assert_false(t->d[1].r.equal);
	assert_string_equal(
	    t->d[1].r.text, "not verified: changes were in flight; retrying");
	assert_int_equal(t->d[1].r.verified_ms, t->d[0].r.verified_ms);

	/* sums of the wrong size */
	request(t, &t->d[2]);
	fx_fake_expect(t->fk, MSG_VDIGEST_REQ, NULL);
	buf_reset(b);
	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint8(&pk, MSG_VDIGEST);
	msgpack_pack_uint8(&pk, MK_SUMS);
	msgpack_pack_bin_with_body(&pk, sums, 32);
	fx_fake_send(t->fk, b);
	fx_fake_expect_error(t->fk, JALIN_EPROTO,
	    "request: key 52 must be binary of the right size");
	wait_done(t, t->a, &t->d[2], 10);
	assert_int_equal(t->d[2].r.rc, JALIN_EUNREACH);
	assert_string_equal(
	    t->d[2].r.text, "not verified: the connection was lost");
}

/*
 * A differing bucket listed by the peer: a VIDS of another bucket or
 * without ids is ignored; the listing is walked up to a malformed item
 * (what it lists and we lack is fetched, what we hold and it does not
 * list is sent); an answer that never settles the difference ends, after
 * three repair rounds, as "differences remain".
 */
static void
test_fake_bad_vids_and_recheck_max(void **state)
{
	struct t *t = *state;
	uint8_t zero[256 * 32] = {0}, h[32];
	struct msg_peer m;
	unsigned idn[8];
	char want[256], nm[64];
	struct buf *b;
	msgpack_packer pk;

	fx_node_start(t->a);
	lks(t, &t->st, ME, -1000);
	fx_put(t->a, COLL_LKS, 0x103, &t->st); /* bucket 3 */
	fake_live(t);
	b = fx_fake_buf(t->fk);
	memset(h, 0x33, sizeof(h));
	request(t, &t->d[0]);
	for (int round = 0; round < 4; round++) {
		fx_fake_expect(t->fk, MSG_VDIGEST_REQ, NULL);
		fake_digest(t, zero, 0);
		fx_fake_expect(t->fk, MSG_VIDS_REQ, &m);
		assert_int_equal(m.bucket, 3);
		if (round == 0) {
			/* another bucket; no ids: both ignored */
			buf_reset(&t->items);
			fake_vids(t, 4, 0);
			buf_reset(b);
			msgpack_packer_init(&pk, b, buf_pk_write);
			msgpack_pack_map(&pk, 2);
			msgpack_pack_uint8(&pk, MK_TYPE);
			msgpack_pack_uint8(&pk, MSG_VIDS);
			msgpack_pack_uint8(&pk, MK_BUCKET);
			msgpack_pack_uint8(&pk, 3);
			fx_fake_send(t->fk, b);
			fx_settle(t->f);
			assert_true(fx_fake_quiet(t->fk));
		}
		/* 0x003 we lack; then a malformed item hides 0x203 */
		buf_reset(&t->items);
		item(t, COLL_LKS, 0x003, h);
		bad_item(t, round, h);
		item(t, COLL_LKS, 0x203, h);
		fake_vids(t, 3, 3);
		fx_fake_expect(t->fk, MSG_REPAIR, &m);
		assert_int_equal(ids_of(m.recs, m.recs_len, true, idn, 8), 1);
		assert_int_equal(idn[0], 0x103);
		fx_fake_expect(t->fk, MSG_FETCH, &m);
		assert_int_equal(ids_of(m.ids, m.ids_len, false, idn, 8), 1);
		assert_int_equal(idn[0], 0x003);
		fx_settle(t->f);
		if (round < 3) {
			assert_int_equal(t->d[0].n, 0);
			verify_tick(t->a->n.peers, hlc_wall_ms() + 1500);
		}
	}
	wait_done(t, t->a, &t->d[0], 10);
	assert_int_equal(t->d[0].r.rc, 0);
	assert_false(t->d[0].r.equal);
	assert_int_equal(t->d[0].r.differing, 8);
	assert_int_equal(t->d[0].r.repaired, 8);
	rname(nm, sizeof(nm), "lks", 0x003);
	snprintf(
	    want, sizeof(want), "differences remain after 3 repairs (%s", nm);
	assert_memory_equal(t->d[0].r.text, want, strlen(want));
}

/* lks k * 256 + 3 (bucket 3) for k in [first, first + count) on jabar,
 * in one commit. */
struct bulk {
	unsigned first, count;
	const struct buf *st;
};

static int
bulk_fn(struct store_txn *tx, void *arg)
{
	const struct bulk *b = arg;
	uint8_t id[16];
	bool changed;
	int rc = 0;

	for (unsigned k = b->first; rc == 0 && k < b->first + b->count; k++) {
		fx_id(id, k * 256 + 3);
		rc = store_txn_apply(
		    tx, COLL_LKS, id, b->st->p, b->st->len, &changed, NULL);
	}
	return rc;
}

/* Items in the REPAIR and FETCH frames fk got until it is quiet. */
static void
count_answers(struct t *t, uint32_t *nrep, uint32_t *nfetch, int *frames)
{
	struct msg_peer m;
	struct mpr r;
	uint32_t n;

	*nrep = *nfetch = 0;
	*frames = 0;
	for (;;) {
		fx_settle(t->f);
		if (fx_fake_quiet(t->fk))
			return;
		assert_int_equal(fx_fake_recv(t->fk, &m), 0);
		assert_true(m.type == MSG_REPAIR || m.type == MSG_FETCH);
		mpr_init(&r, m.type == MSG_REPAIR ? m.recs : m.ids,
		    m.type == MSG_REPAIR ? m.recs_len : m.ids_len);
		assert_int_equal(mpr_array(&r, &n), 0);
		assert_true(n > 0 && n <= 4096);
		*(m.type == MSG_REPAIR ? nrep : nfetch) += n;
		(*frames)++;
	}
}

/*
 * A large bucket: more records than one scan slice, more differences
 * than one REPAIR or FETCH frame holds; a record both list with the same
 * hash is no difference. Then the peer FETCHes more than one frame's worth.
 */
static void
test_fake_large_bucket(void **state)
{
	struct t *t = *state;
	const unsigned mine = 5200, theirs = 4100;
	struct bulk b = {0, mine, &t->st};
	uint8_t zero[256 * 32] = {0}, h[32], id[16];
	uint32_t nrep, nfetch;
	struct msg_batch bt;
	struct msg_peer m;
	int frames;

	fx_node_start(t->a);
	lks(t, &t->st, ME, -1000);
	assert_int_equal(store_write(t->a->n.store, bulk_fn, &b, NULL), 0);
	fake_live(t);
	fake_get_digest(t, zero, &m);
	assert_int_equal(m.count, mine);
	memset(zero, 0, sizeof(zero));

	request(t, &t->d[0]);
	fx_fake_expect(t->fk, MSG_VDIGEST_REQ, NULL);
	fake_digest(t, zero, theirs);
	fx_fake_expect(t->fk, MSG_VIDS_REQ, &m);
	assert_int_equal(m.bucket, 3);
	/* the first of ours, with its hash; then ids we lack */
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	fx_id(id, 3);
	assert_int_equal(stdb_record_hash(md, EVP_sha256(), COLL_LKS, id,
	                     t->st.p, t->st.len, h),
	    0);
	EVP_MD_CTX_free(md);
	buf_reset(&t->items);
	item(t, COLL_LKS, 3, h);
	for (unsigned k = 10000; k < 10000 + theirs; k++)
		item(t, COLL_LKS, k * 256 + 3, h);
	fake_vids(t, 3, theirs + 1);
	count_answers(t, &nrep, &nfetch, &frames);
	assert_int_equal(nrep, mine - 1);
	assert_int_equal(nfetch, theirs);
	assert_true(frames >= 4);
	assert_int_equal(t->d[0].n, 0);

	/* the peer asks for 4100 of ours */
	msg_fetch_begin(&bt, fx_fake_buf(t->fk));
	for (unsigned k = 0; k < theirs; k++) {
		fx_id(id, k * 256 + 3);
		msg_batch_id(&bt, COLL_LKS, id);
	}
	msg_batch_end(&bt);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	count_answers(t, &nrep, &nfetch, &frames);
	assert_int_equal(nrep, theirs);
	assert_int_equal(nfetch, 0);
	assert_int_equal(frames, 2);
}

/* A message after HELLO that nobody handles closes the connection. */
static void
test_fake_unknown_message(void **state)
{
	struct t *t = *state;
	struct buf *b;
	msgpack_packer pk;

	fake_live(t);
	b = fx_fake_buf(t->fk);
	buf_reset(b);
	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint8(&pk, 99);
	fx_fake_send(t->fk, b);
	fx_fake_expect_error(
	    t->fk, JALIN_ESTATE, "unexpected unknown message after HELLO");
}

/* The peer hangs up while it is being verified: the round ends as lost,
 * in either phase. */
static void
test_fake_hangup_mid_round(void **state)
{
	struct t *t = *state;
	struct msg_peer m;

	fx_node_start(t->a);
	lks(t, &t->st, ME, -1000);
	fx_put(t->a, COLL_LKS, 0x103, &t->st);
	fake_live(t);
	request(t, &t->d[0]);
	fx_fake_expect(t->fk, MSG_VDIGEST_REQ, &m);
	fx_fake_hangup(t->fk);
	wait_done(t, t->a, &t->d[0], 10);
	assert_int_equal(t->d[0].r.rc, JALIN_EUNREACH);
	assert_string_equal(
	    t->d[0].r.text, "not verified: the connection was lost");
	assert_false(conn_is_up(fx_peer(t->a, THEM)));

	/* reconnect; now while a bucket is being compared */
	fake_live(t);
	request(t, &t->d[1]);
	uint8_t zero[256 * 32] = {0};
	fx_fake_expect(t->fk, MSG_VDIGEST_REQ, NULL);
	fake_digest(t, zero, 0);
	fx_fake_expect(t->fk, MSG_VIDS_REQ, &m);
	fx_fake_hangup(t->fk);
	wait_done(t, t->a, &t->d[1], 10);
	assert_int_equal(t->d[1].r.rc, JALIN_EUNREACH);
	assert_string_equal(
	    t->d[1].r.text, "not verified: the connection was lost");
}

/* The peer asks for our digest and hangs up before we answer: the scan
 * is dropped, nothing is sent. */
static void
test_fake_hangup_while_answering(void **state)
{
	struct t *t = *state;

	fx_node_start(t->a);
	lks(t, &t->st, ME, -1000);
	fx_put(t->a, COLL_LKS, 1, &t->st);
	fake_live(t);
	msg_enc_vdigest_req(fx_fake_buf(t->fk));
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_hangup(t->fk);
	fx_settle(t->f);
	assert_false(conn_is_up(fx_peer(t->a, THEM)));
}

/* A peer that never answers: the round times out, in either phase; a
 * round that times out before our own scan finished drops that scan. */
static void
test_fake_timeout(void **state)
{
	struct t *t = *state;
	uint8_t zero[256 * 32] = {0};
	struct msg_peer m;

	fx_node_start(t->a);
	lks(t, &t->st, ME, -1000);
	fx_put(t->a, COLL_LKS, 0x103, &t->st);
	fake_live(t);
	request(t, &t->d[0]);
	fx_fake_expect(t->fk, MSG_VDIGEST_REQ, NULL);
	verify_tick(t->a->n.peers, hlc_wall_ms() + 1000); /* not yet */
	assert_int_equal(t->d[0].n, 0);
	verify_tick(t->a->n.peers, hlc_wall_ms() + ROUND_MAX_MS + 1000);
	assert_int_equal(t->d[0].n, 1);
	assert_int_equal(t->d[0].r.rc, JALIN_ETIMEOUT);
	assert_string_equal(
	    t->d[0].r.text, "not verified: the peer did not answer");

	/* before our scan ran at all */
	request(t, &t->d[1]);
	verify_tick(t->a->n.peers, hlc_wall_ms() + ROUND_MAX_MS + 1000);
	assert_int_equal(t->d[1].r.rc, JALIN_ETIMEOUT);
	fx_fake_expect(t->fk, MSG_VDIGEST_REQ, NULL);
	fx_settle(t->f);
	assert_int_equal(t->d[1].n, 1);

	/* while a bucket is compared */
	request(t, &t->d[2]);
	fx_fake_expect(t->fk, MSG_VDIGEST_REQ, NULL);
	fake_digest(t, zero, 0);
	fx_fake_expect(t->fk, MSG_VIDS_REQ, &m);
	fx_settle(t->f);
	assert_int_equal(t->d[2].n, 0);
	verify_tick(t->a->n.peers, hlc_wall_ms() + ROUND_MAX_MS + 1000);
	assert_int_equal(t->d[2].r.rc, JALIN_ETIMEOUT);
	/* its late listing is ignored */
	buf_reset(&t->items);
	fake_vids(t, 3, 0);
	fx_settle(t->f);
	assert_true(fx_fake_quiet(t->fk));
	assert_int_equal(t->d[2].n, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_equal),
	    T(test_repair_both_ways),
	    T(test_corrupt),
	    T(test_corrupt_both_sides),
	    T(test_scope),
	    T(test_collected_tombstone_answered),
	    T(test_collected_tombstone_other_side),
	    T(test_waiters),
	    T(test_request_refused),
	    T(test_periodic),
	    T(test_fake_equal_and_answers),
	    T(test_fake_fetch),
	    T(test_fake_vids_req_without_bucket),
	    T(test_fake_vids_req_bucket_too_big),
	    T(test_fake_bad_vdigest),
	    T(test_fake_bad_vids_and_recheck_max),
	    T(test_fake_large_bucket),
	    T(test_fake_unknown_message),
	    T(test_fake_hangup_mid_round),
	    T(test_fake_hangup_while_answering),
	    T(test_fake_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
