/*
 * test_store.c - the LMDB store: layout, feed, counts, conflicts index,
 * digests, map growth up to the cap, locking, read-only access.
 * A fresh temporary directory per test.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <msgpack.h>

#include "crc32c.h"
#include "merge.h"
#include "store.h"

struct fx {
	char dir[64];
	struct store *s;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_opts o;

	snprintf(f->dir, sizeof(f->dir), "/tmp/jalin-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	o = (struct store_opts){f->dir, "jabar", 64ull << 20, 0};
	assert_int_equal(store_open(&o, &f->s, NULL), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
mkid(uint8_t id[16], unsigned n)
{
	memset(id, 0, 16);
	id[0] = 0x01;
	id[6] = 0x70;
	id[14] = (uint8_t)(n >> 8);
	id[15] = (uint8_t)n;
}

struct putarg {
	uint8_t coll;
	unsigned first, count;
	const char *val;
	uint16_t tag;
};

/* Put tag=val (msgpack str) on `count` records. */
static int
put_fn(struct store_txn *t, void *arg)
{
	struct putarg *p = arg;
	struct store *s = NULL;
	uint8_t plain[300], mp[300];
	struct buf pb, cb;
	msgpack_packer pk;

	(void)s;
	assert_true(strlen(p->val) < 256);
	buf_init_mem(&pb, plain, sizeof(plain), sizeof(plain));
	msgpack_packer_init(&pk, &pb, buf_pk_write);
	msgpack_pack_str_with_body(&pk, p->val, strlen(p->val));
	/* in its state form, as ops writes it (record.h) */
	buf_init_mem(&cb, mp, sizeof(mp), sizeof(mp));
	assert_int_equal(rec_val_canon(pb.p, (uint32_t)pb.len, &cb), 0);
	struct merge_update u = {p->tag, (uint32_t)cb.len, mp};
	for (unsigned i = p->first; i < p->first + p->count; i++) {
		struct store_cur cur;
		uint8_t id[16];
		bool changed;
		int rc;
		mkid(id, i);
		if ((rc = store_txn_get(t, p->coll, id, &cur)) != 0)
			return rc;
		struct record *old = malloc(sizeof(*old)),
		              *out = malloc(sizeof(*out));
		if (cur.exists)
			assert_int_equal(rec_decode(old, cur.raw, cur.rawlen,
			                     REC_TRUSTED, NULL),
			    0);
		else
			rec_init(old);
		assert_int_equal(merge_put(old, &u, 1, "jabar", 5,
		                     store_txn_hlc(t), out, &changed),
		    0);
		rc = changed ? store_txn_set(t, &cur, old, out) : 0;
		free(old);
		free(out);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
put(struct fx *f, uint8_t coll, unsigned first, unsigned count, const char *val,
    struct jalin_err *err)
{
	struct putarg p = {coll, first, count, val, 16};

	return store_write(f->s, put_fn, &p, err);
}

static struct stdb_info
info(struct fx *f)
{
	struct stdb_info in;
	MDB_txn *txn;

	assert_int_equal(stdb_begin_read(store_db(f->s), &txn, NULL), 0);
	assert_int_equal(stdb_info(txn, store_db(f->s), &in, NULL), 0);
	mdb_txn_abort(txn);
	return in;
}

static void
test_new_store_meta(void **state)
{
	struct fx *f = *state;
	struct stdb_info in = info(f);

	assert_string_equal(in.node, "jabar");
	assert_int_equal(in.seq, 0);
	assert_int_equal(store_seq(f->s), 0);
	assert_true(in.created_ms > 0);
	assert_memory_equal(in.epoch, store_epoch(f->s), 16);
}

static void
test_wrong_node_and_lock(void **state)
{
	struct fx *f = *state;
	struct store_opts o = {f->dir, "banten", 64ull << 20, 0};
	struct jalin_err err;
	struct store *s2;
	char want[256];

	jalin_err_clear(&err);
	assert_int_equal(store_open(&o, &s2, &err), JALIN_EIO);
	snprintf(want, sizeof(want),
	    "cannot open store '%s' (in use by another jalind)", f->dir);
	assert_string_equal(err.msg, want);
	store_close(f->s);
	f->s = NULL;
	jalin_err_clear(&err);
	assert_int_equal(store_open(&o, &s2, &err), JALIN_ECONFIG);
	snprintf(want, sizeof(want),
	    "store '%s' belongs to node 'jabar', not 'banten'", f->dir);
	assert_string_equal(err.msg, want);
	o.node = "jabar";
	assert_int_equal(store_open(&o, &f->s, NULL), 0);
}

static void
test_feed_moves_and_counts(void **state)
{
	struct fx *f = *state;
	struct stdb_info in;
	MDB_txn *txn;
	MDB_stat st;

	assert_int_equal(put(f, COLL_LKS, 0, 10, "a", NULL), 0);
	assert_int_equal(put(f, COLL_LKS, 0, 3, "b", NULL), 0); /* edits */
	assert_int_equal(put(f, COLL_LKS, 0, 3, "b", NULL), 0); /* no-ops */
	in = info(f);
	assert_int_equal(in.seq, 13);
	assert_int_equal(in.count[COLL_LKS], 10);
	assert_int_equal(in.entries, 10);
	assert_int_equal(stdb_begin_read(store_db(f->s), &txn, NULL), 0);
	assert_int_equal(
	    mdb_stat(txn, stdb_dbi(store_db(f->s), STDB_FEED), &st), 0);
	assert_int_equal(st.ms_entries, 10); /* one entry per record */
	const uint8_t *state0;
	size_t len;
	uint64_t seq;
	uint8_t id[16];
	mkid(id, 0);
	assert_int_equal(stdb_get_record(txn, store_db(f->s), COLL_LKS, id,
	                     &state0, &len, &seq),
	    0);
	assert_int_equal(seq, 11);
	mkid(id, 9);
	assert_int_equal(stdb_get_record(txn, store_db(f->s), COLL_LKS, id,
	                     &state0, &len, &seq),
	    0);
	assert_int_equal(seq, 10);
	mdb_txn_abort(txn);
}

static void
digests(struct fx *f, uint8_t d[COLL_COUNT + 1][32])
{
	MDB_txn *txn;

	assert_int_equal(stdb_begin_read(store_db(f->s), &txn, NULL), 0);
	assert_int_equal(stdb_digests(txn, store_db(f->s), d, NULL), 0);
	mdb_txn_abort(txn);
}

/* Replicate every record of a into b through store_txn_apply. */
struct copyarg {
	struct fx *from;
	int changed;
};

static int
copy_fn(struct store_txn *t, void *arg)
{
	struct copyarg *c = arg;
	MDB_txn *rt;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	assert_int_equal(stdb_begin_read(store_db(c->from->s), &rt, NULL), 0);
	mdb_cursor_open(rt, stdb_dbi(store_db(c->from->s), STDB_RECORDS), &cur);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		const uint8_t *kp = k.mv_data;
		bool changed;
		const uint8_t *st;
		size_t len;
		uint64_t seq;
		assert_int_equal(stdb_val_state(&v, &st, &len, &seq), 0);
		rc = store_txn_apply(t, kp[0], kp + 1, st, len, &changed, NULL);
		assert_int_equal(rc, 0);
		c->changed += changed;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(rt);
	return 0;
}

static void
test_apply_and_digest(void **state)
{
	struct fx *f = *state, g = {{0}, NULL};
	struct store_opts o;
	uint8_t da[COLL_COUNT + 1][32], db[COLL_COUNT + 1][32];
	struct copyarg ca = {f, 0};

	snprintf(g.dir, sizeof(g.dir), "/tmp/jalin-store-XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	o = (struct store_opts){g.dir, "banten", 64ull << 20, 0};
	assert_int_equal(store_open(&o, &g.s, NULL), 0);
	assert_int_equal(put(f, COLL_CASE, 0, 50, "x", NULL), 0);
	assert_int_equal(put(f, COLL_LKS, 0, 20, "y", NULL), 0);
	digests(f, da);
	digests(&g, db);
	assert_memory_not_equal(da[0], db[0], 32);
	assert_int_equal(store_write(g.s, copy_fn, &ca, NULL), 0);
	assert_int_equal(ca.changed, 70);
	digests(&g, db);
	assert_memory_equal(da[0], db[0], 32);
	assert_memory_equal(da[COLL_CASE], db[COLL_CASE], 32);
	/* again: nothing changes, nothing is re-logged */
	ca.changed = 0;
	uint64_t seq = store_seq(g.s);
	assert_int_equal(store_write(g.s, copy_fn, &ca, NULL), 0);
	assert_int_equal(ca.changed, 0);
	assert_int_equal(store_seq(g.s), seq);
	/* an edit on one side makes the digests differ until copied */
	assert_int_equal(put(f, COLL_LKS, 3, 1, "z", NULL), 0);
	digests(f, da);
	assert_memory_not_equal(da[0], db[0], 32);
	assert_memory_equal(da[COLL_CASE], db[COLL_CASE], 32);
	ca.changed = 0;
	assert_int_equal(store_write(g.s, copy_fn, &ca, NULL), 0);
	assert_int_equal(ca.changed, 1);
	digests(&g, db);
	assert_memory_equal(da[0], db[0], 32);
	store_close(g.s);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g.dir);
	assert_int_equal(system(cmd), 0);
}

/* Delete (mode 0) or collect (mode 1) record `n` of lks. */
struct tombarg {
	unsigned n;
	int mode;
};

static int
tomb_fn(struct store_txn *t, void *arg)
{
	static const uint8_t tomb[] = {0x92, 0xc0, 0xc0}; /* [nil, nil] */
	struct tombarg *a = arg;
	struct store_cur cur;
	uint8_t id[16];
	bool changed;
	int rc;

	mkid(id, a->n);
	if ((rc = store_txn_get(t, COLL_LKS, id, &cur)) != 0)
		return rc;
	assert_true(cur.exists);
	if (a->mode == 1)
		return store_txn_bury(t, &cur);
	struct record *old = malloc(sizeof(*old)), *out = malloc(sizeof(*out));
	assert_int_equal(
	    rec_decode(old, cur.raw, cur.rawlen, REC_TRUSTED, NULL), 0);
	assert_int_equal(merge_delete(old, tomb, sizeof(tomb), "jabar", 5,
	                     store_txn_hlc(t), out, &changed),
	    0);
	rc = store_txn_set(t, &cur, old, out);
	free(old);
	free(out);
	return rc;
}

struct applyarg {
	const uint8_t *state;
	size_t len;
	bool changed;
};

static int
apply_fn(struct store_txn *t, void *arg)
{
	struct applyarg *a = arg;
	uint8_t id[16];

	mkid(id, 1);
	return store_txn_apply(
	    t, COLL_LKS, id, a->state, a->len, &a->changed, NULL);
}

static bool
held(struct fx *f, enum stdb_db which)
{
	const uint8_t *st;
	size_t len;
	uint64_t seq;
	uint8_t id[16];
	MDB_txn *txn;
	int rc;

	mkid(id, 1);
	assert_int_equal(stdb_begin_read(store_db(f->s), &txn, NULL), 0);
	rc = which == STDB_GONE
	    ? stdb_get_gone(txn, store_db(f->s), COLL_LKS, id, &st, &len)
	    : stdb_get_record(
	          txn, store_db(f->s), COLL_LKS, id, &st, &len, &seq);
	mdb_txn_abort(txn);
	return rc == 0;
}

/*
 * A collected tombstone is kept aside: an old copy of the record (a
 * restored backup) changes nothing; a write the deletion had not seen
 * makes it a record again.
 */
static void
test_collected_tombstone_stops_old_copies(void **state)
{
	struct fx *f = *state;
	struct tombarg del = {1, 0}, bury = {1, 1};
	uint8_t old_copy[512], newer[512];
	struct applyarg a;
	struct buf enc;
	MDB_txn *txn;
	const uint8_t *st;
	size_t len;
	uint64_t seq;
	uint8_t id[16];

	assert_int_equal(put(f, COLL_LKS, 0, 3, "x", NULL), 0);
	mkid(id, 1);
	assert_int_equal(stdb_begin_read(store_db(f->s), &txn, NULL), 0);
	assert_int_equal(
	    stdb_get_record(txn, store_db(f->s), COLL_LKS, id, &st, &len, &seq),
	    0);
	assert_true(len < sizeof(old_copy));
	memcpy(old_copy, st, len);
	mdb_txn_abort(txn);
	size_t old_len = len;

	assert_int_equal(store_write(f->s, tomb_fn, &del, NULL), 0);
	assert_int_equal(info(f).count[COLL_LKS], 2);
	assert_int_equal(store_write(f->s, tomb_fn, &bury, NULL), 0);
	assert_false(held(f, STDB_RECORDS));
	assert_true(held(f, STDB_GONE));
	uint64_t seq0 = store_seq(f->s);

	/* the old copy merges into the collected tombstone: no effect */
	a = (struct applyarg){old_copy, old_len, true};
	assert_int_equal(store_write(f->s, apply_fn, &a, NULL), 0);
	assert_false(a.changed);
	assert_false(held(f, STDB_RECORDS));
	assert_int_equal(store_seq(f->s), seq0);
	assert_int_equal(info(f).count[COLL_LKS], 2);

	/* banten wrote the record without having seen the deletion */
	struct record *empty = malloc(sizeof(*empty)), *r = malloc(sizeof(*r));
	struct merge_update u = {17, 2, (const uint8_t *)"\xa1z"};
	bool changed;
	rec_init(empty);
	assert_int_equal(
	    merge_put(empty, &u, 1, "banten", 6, 1ull << 40, r, &changed), 0);
	buf_init(&enc, 4096);
	assert_int_equal(rec_encode(r, &enc), 0);
	assert_true(enc.len < sizeof(newer));
	memcpy(newer, enc.p, enc.len);
	a = (struct applyarg){newer, enc.len, false};
	assert_int_equal(store_write(f->s, apply_fn, &a, NULL), 0);
	assert_true(a.changed);
	assert_true(held(f, STDB_RECORDS));
	assert_false(held(f, STDB_GONE));
	assert_int_equal(info(f).count[COLL_LKS], 3);
	buf_free(&enc);
	free(empty);
	free(r);
}

static int
bad_apply_fn(struct store_txn *t, void *arg)
{
	static const uint8_t junk[] = {0x96, 0x02, 0x00, 0x90, 0x90, 0x90};
	static const uint8_t bomb[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	struct jalin_err *err = arg;
	uint8_t id[16];
	bool changed;

	mkid(id, 1);
	assert_int_equal(
	    store_txn_apply(t, COLL_LKS, id, junk, sizeof(junk), &changed, err),
	    JALIN_EPROTO);
	jalin_err_clear(err);
	assert_int_equal(
	    store_txn_apply(t, COLL_LKS, id, bomb, sizeof(bomb), &changed, err),
	    JALIN_EPROTO);
	assert_false(changed);
	return 0;
}

static void
test_apply_refuses_garbage(void **state)
{
	struct fx *f = *state;
	struct jalin_err err;

	jalin_err_clear(&err);
	assert_int_equal(store_write(f->s, bad_apply_fn, &err, NULL), 0);
	assert_string_equal(err.msg, "record: not an array of 6");
	assert_int_equal(info(f).seq, 0);
}

static void
test_map_full_then_reads_go_on(void **state)
{
	struct fx *f = *state;
	struct store_opts o;
	struct jalin_err err;
	char big[200];
	int rc = 0;
	unsigned n = 0;

	store_close(f->s);
	/* starts at 1 MiB, may grow to 4 MiB */
	o = (struct store_opts){f->dir, "jabar", 4ull << 20, 1ull << 20};
	assert_int_equal(store_open(&o, &f->s, NULL), 0);
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	while (rc == 0 && n < 100000) {
		jalin_err_clear(&err);
		rc = put(f, COLL_LKS, n, 100, big, &err);
		if (rc == 0)
			n += 100;
	}
	assert_int_equal(rc, JALIN_ESPACE);
	assert_string_equal(err.msg,
	    "store is full: map_size_max of 4194304 bytes reached; raise "
	    "map_size_max in [node] or free disk space");
	assert_true(n >= 8000); /* more than 1 MiB holds: the map grew */
	assert_int_equal(store_map_size(f->s), 4ull << 20);
	/* everything reported as stored is there; reads go on */
	struct stdb_info in = info(f);
	assert_int_equal(in.count[COLL_LKS], n);
	assert_int_equal(in.seq, n);
}

static void
test_readonly_while_open(void **state)
{
	struct fx *f = *state;
	struct stdb *ro;
	struct stdb_info in;
	MDB_txn *txn;

	assert_int_equal(put(f, COLL_RESOURCE, 0, 5, "r", NULL), 0);
	assert_int_equal(stdb_open(f->dir, STDB_RDONLY, 0, &ro, NULL), 0);
	assert_int_equal(stdb_begin_read(ro, &txn, NULL), 0);
	assert_int_equal(stdb_info(txn, ro, &in, NULL), 0);
	assert_int_equal(in.count[COLL_RESOURCE], 5);
	mdb_txn_abort(txn);
	stdb_close(ro);
}

/* Damage a stored record's bytes behind the store's back. */
static void
corrupt_record(struct fx *f, uint8_t coll, unsigned n)
{
	uint8_t k[STDB_KEY_LEN], id[16];
	MDB_val key = {sizeof(k), k}, val;
	MDB_txn *txn;

	mkid(id, n);
	stdb_key(k, coll, id);
	assert_int_equal(
	    mdb_txn_begin(stdb_env(store_db(f->s)), NULL, 0, &txn), 0);
	assert_int_equal(
	    mdb_get(txn, stdb_dbi(store_db(f->s), STDB_RECORDS), &key, &val),
	    0);
	uint8_t *copy = malloc(val.mv_size);
	memcpy(copy, val.mv_data, val.mv_size);
	copy[val.mv_size - 2] ^= 0x55; /* a bit flip inside a value */
	val.mv_data = copy;
	assert_int_equal(
	    mdb_put(txn, stdb_dbi(store_db(f->s), STDB_RECORDS), &key, &val, 0),
	    0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	free(copy);
}

static void
test_corrupt_record_detected_and_replaced(void **state)
{
	struct fx *f = *state, g = {{0}, NULL};
	struct store_opts o;
	uint8_t da[COLL_COUNT + 1][32], db[COLL_COUNT + 1][32];
	const uint8_t *st;
	size_t len;
	uint64_t seq;
	uint8_t id[16];
	MDB_txn *txn;

	/* a healthy copy of the same records on another node */
	snprintf(g.dir, sizeof(g.dir), "/tmp/jalin-store-XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	o = (struct store_opts){g.dir, "banten", 64ull << 20, 0};
	assert_int_equal(store_open(&o, &g.s, NULL), 0);
	assert_int_equal(put(f, COLL_LKS, 0, 20, "sehat", NULL), 0);
	struct copyarg ca = {f, 0};
	assert_int_equal(store_write(g.s, copy_fn, &ca, NULL), 0);
	corrupt_record(f, COLL_LKS, 7);
	/* reads see it as corrupt, not as some other record */
	mkid(id, 7);
	assert_int_equal(stdb_begin_read(store_db(f->s), &txn, NULL), 0);
	assert_int_equal(
	    stdb_get_record(txn, store_db(f->s), COLL_LKS, id, &st, &len, &seq),
	    JALIN_ECORRUPT);
	mdb_txn_abort(txn);
	/* the healthy copy arrives from the peer and replaces it */
	struct copyarg back = {&g, 0};
	assert_int_equal(store_write(f->s, copy_fn, &back, NULL), 0);
	assert_int_equal(back.changed, 1);
	digests(f, da);
	digests(&g, db);
	assert_memory_equal(da[0], db[0], 32);
	assert_int_equal(info(f).count[COLL_LKS], 20);
	store_close(g.s);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g.dir);
	assert_int_equal(system(cmd), 0);
}

/* r's values as formats 1 and 2 held them, never coded: decoded into
 * arena (reset first), which must outlive r's values. */
static void
plain_values(struct record *r, struct buf *arena)
{
	size_t at[JALIN_RECORD_ENTRIES_MAX];
	const uint8_t *v;
	uint32_t vlen;

	buf_reset(arena);
	for (size_t i = 0; i < r->nentries; i++) {
		at[i] = arena->len;
		assert_int_equal(rec_val_plain(r->entry[i].val,
		                     r->entry[i].vlen, arena, &v, &vlen),
		    0);
		if (v == r->entry[i].val) { /* plain already: copy it */
			assert_int_equal(buf_append(arena, v, vlen), 0);
		} else { /* decoded after room for a header: keep the str */
			memmove(arena->p + at[i], v, vlen);
			arena->len = at[i] + vlen;
		}
	}
	for (size_t i = 0; i < r->nentries; i++) {
		size_t end = i + 1 < r->nentries ? at[i + 1] : arena->len;
		r->entry[i].val = arena->p + at[i];
		r->entry[i].vlen = (uint32_t)(end - at[i]);
	}
}

/* Record format 2, as jalin 0.2 wrote it (record.h): format 3 without
 * coded strings, so rec_encode of the plain values, format byte 2. */
static void
encode_v2(struct record *r, struct buf *b, struct buf *arena)
{
	size_t start = b->len;

	plain_values(r, arena);
	assert_int_equal(rec_encode(r, b), 0);
	assert_int_equal(b->p[start + 1], REC_FORMAT);
	b->p[start + 1] = REC_FORMAT_2;
}

/* Record format 1, as jalin 0.1 wrote it (record.h). */
static void
encode_v1(struct record *r, struct buf *b, struct buf *arena)
{
	msgpack_packer pk;

	plain_values(r, arena);
	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_array(&pk, 6);
	msgpack_pack_uint8(&pk, 1);
	msgpack_pack_uint32(&pk, r->flags);
	msgpack_pack_array(&pk, r->norigins);
	for (size_t i = 0; i < r->norigins; i++)
		msgpack_pack_str_with_body(
		    &pk, r->origin[i].name, r->origin[i].len);
	msgpack_pack_array(&pk, r->norigins);
	for (size_t i = 0; i < r->norigins; i++)
		msgpack_pack_uint64(&pk, r->ctx[i]);
	msgpack_pack_array(&pk, 2u * r->ndots);
	for (size_t i = 0; i < r->ndots; i++) {
		msgpack_pack_uint16(&pk, r->dot[i].origin);
		msgpack_pack_uint64(&pk, r->dot[i].hlc);
	}
	msgpack_pack_array(&pk, 3u * r->nentries);
	for (size_t i = 0; i < r->nentries; i++) {
		msgpack_pack_uint16(&pk, r->entry[i].tag);
		msgpack_pack_uint16(&pk, r->entry[i].dot);
		buf_pk_write(
		    b, (const char *)r->entry[i].val, r->entry[i].vlen);
	}
}

/* Turn f's store into a format-1 store, as jalin 0.1 left it: every
 * value [seq u64][crc32c of the state][state in record format 1], meta
 * "format" 1 (or, format 2, into a store of jalin 0.2: the current value
 * layout, states in record format 2, meta "format" 2); but the first `done`
 * records are left as they are and (mark_it) meta "upgrade" says so, as an
 * upgrade interrupted after them leaves it. Returns the records db's values
 * before, concatenated. */
static struct buf
downgrade(struct fx *f, unsigned format, unsigned done, bool mark_it)
{
	struct record *r = malloc(sizeof(*r));
	struct buf before, v1, arena;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t fmt[4], mark[1 + STDB_KEY_LEN] = {0};
	char fname[] = "format", uname[] = "upgrade";
	unsigned n = 0;

	buf_init(&before, 1u << 30);
	buf_init(&v1, JALIN_RECORD_MAX);
	buf_init(&arena, JALIN_RECORD_MAX);
	assert_int_equal(
	    mdb_txn_begin(stdb_env(store_db(f->s)), NULL, 0, &txn), 0);
	mdb_cursor_open(txn, stdb_dbi(store_db(f->s), STDB_RECORDS), &cur);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		uint8_t key[STDB_KEY_LEN], *val;
		const uint8_t *st;
		size_t len;
		uint64_t seq;
		assert_int_equal(buf_append(&before, v.mv_data, v.mv_size), 0);
		memcpy(key, k.mv_data, sizeof(key));
		if (n++ < done) {
			memcpy(mark + 1, key, sizeof(key));
			continue;
		}
		assert_int_equal(stdb_val_state(&v, &st, &len, &seq), 0);
		assert_int_equal(rec_decode(r, st, len, 0, NULL), 0);
		buf_reset(&v1);
		size_t hl = 12;
		if (format == 1) {
			encode_v1(r, &v1, &arena);
			val = malloc(hl + v1.len);
			stdb_put_u64(val, seq);
			stdb_put_u32(val + 8, crc32c(0, v1.p, v1.len));
		} else {
			uint8_t hdr[STDB_VAL_HDR_MAX];
			encode_v2(r, &v1, &arena);
			hl = stdb_val_header(hdr, seq, NULL, 0, v1.p, v1.len);
			val = malloc(hl + v1.len);
			memcpy(val, hdr, hl);
		}
		memcpy(val + hl, v1.p, v1.len);
		MDB_val nk = {sizeof(key), key}, nv = {hl + v1.len, val};
		assert_int_equal(mdb_cursor_put(cur, &nk, &nv, MDB_CURRENT), 0);
		/* the last record's old copy also stands in for a collected
		 * tombstone: the gone database is upgraded the same way */
		if (n == 25000)
			assert_int_equal(
			    mdb_put(txn, stdb_dbi(store_db(f->s), STDB_GONE),
			        &nk, &nv, 0),
			    0);
		free(val);
	}
	mdb_cursor_close(cur);
	stdb_put_u32(fmt, format);
	MDB_val mk = {6, fname}, mv = {4, fmt};
	assert_int_equal(
	    mdb_put(txn, stdb_dbi(store_db(f->s), STDB_META), &mk, &mv, 0), 0);
	if (done > 0 && mark_it) {
		MDB_val uk = {7, uname}, uv = {sizeof(mark), mark};
		assert_int_equal(
		    mdb_put(
		        txn, stdb_dbi(store_db(f->s), STDB_META), &uk, &uv, 0),
		    0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	buf_free(&v1);
	buf_free(&arena);
	free(r);
	return before;
}

static void
check_upgrade(void **state, unsigned format, unsigned done, bool mark_it)
{
	struct fx *f = *state;
	uint8_t da[COLL_COUNT + 1][32], db[COLL_COUNT + 1][32];
	struct putarg later = {COLL_LKS, 0, 300, "diubah kemudian", 17};
	/* the smallest map: the upgrade fills it and must grow it, so
	 * store_write runs a batch again after a rolled-back try */
	struct store_opts o = {f->dir, "jabar", 64ull << 20, JALIN_MAP_MIN};
	struct jalin_err err;
	struct stdb *ro;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;

	/* more records than one upgrade batch; some written twice, so they
	 * hold a dot behind their origin's context */
	assert_int_equal(put(f, COLL_LKS, 0, 25000, "nilai awal", NULL), 0);
	assert_int_equal(store_write(f->s, put_fn, &later, NULL), 0);
	digests(f, da);
	struct buf before = downgrade(f, format, done, mark_it);
	assert_int_equal(store_upgraded(f->s), 0);
	/* read-only opens refuse it and say what to do */
	jalin_err_clear(&err);
	assert_int_equal(
	    stdb_open(f->dir, STDB_RDONLY, 0, &ro, &err), JALIN_ECONFIG);
	char want[64];
	snprintf(
	    want, sizeof(want), "has format %u, from an older jalind", format);
	assert_non_null(strstr(err.msg, want));
	store_close(f->s);
	assert_int_equal(store_open(&o, &f->s, NULL), 0);
	/* + gone; from format 2, values rewritten already are rewritten
	 * again (the same bytes) unless the mark says to skip them */
	assert_int_equal(store_upgraded(f->s),
	    (format == 2 && !mark_it ? 25000 : 25000 - done) + 1);
	/* byte for byte what was there before, digests and counts too */
	digests(f, db);
	assert_memory_equal(da, db, sizeof(da));
	assert_int_equal(info(f).count[COLL_LKS], 25000);
	size_t at = 0;
	assert_int_equal(stdb_begin_read(store_db(f->s), &txn, NULL), 0);
	mdb_cursor_open(txn, stdb_dbi(store_db(f->s), STDB_RECORDS), &cur);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		assert_true(at + v.mv_size <= before.len);
		assert_memory_equal(before.p + at, v.mv_data, v.mv_size);
		at += v.mv_size;
	}
	mdb_cursor_close(cur);
	/* the gone copy reads in format 3 */
	uint8_t id[16];
	const uint8_t *st;
	size_t len;
	struct record *r = malloc(sizeof(*r));
	mkid(id, 24999);
	assert_int_equal(
	    stdb_get_gone(txn, store_db(f->s), COLL_LKS, id, &st, &len), 0);
	assert_int_equal(rec_decode(r, st, len, 0, NULL), 0);
	free(r);
	mdb_txn_abort(txn);
	assert_int_equal(at, before.len);
	buf_free(&before);
	/* and once is enough */
	store_close(f->s);
	assert_int_equal(store_open(&o, &f->s, NULL), 0);
	assert_int_equal(store_upgraded(f->s), 0);
}

static void
test_upgrade_from_format_1(void **state)
{
	check_upgrade(state, 1, 0, false);
}

/* A store of jalin 0.2: states in record format 2 get their strings
 * coded, byte for byte what this version writes. */
static void
test_upgrade_from_format_2(void **state)
{
	check_upgrade(state, 2, 0, false);
}

/* Cut short, from format 2: the records rewritten already decode as
 * format 3 and are written again the same. */
static void
test_upgrade_from_format_2_starts_over(void **state)
{
	check_upgrade(state, 2, 7000, false);
}

/* An upgrade cut short after 12,345 records goes on where it stopped. */
static void
test_upgrade_resumes(void **state)
{
	check_upgrade(state, 1, 12345, true);
}

/* The same without the mark: the upgrade starts over, and the values it
 * already rewrote fail the format-1 checksum and are left as they are. */
static void
test_upgrade_starts_over_safely(void **state)
{
	check_upgrade(state, 1, 5000, false);
}

static void
test_readonly_missing(void **state)
{
	struct jalin_err err;
	struct stdb *ro;

	(void)state;
	jalin_err_clear(&err);
	assert_int_equal(
	    stdb_open("/nonexistent/jalin", STDB_RDONLY, 0, &ro, &err),
	    JALIN_ENOTFOUND);
	assert_string_equal(err.msg,
	    "cannot open store '/nonexistent/jalin' (No such file or "
	    "directory)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_new_store_meta, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_wrong_node_and_lock, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_feed_moves_and_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_and_digest, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_refuses_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_map_full_then_reads_go_on, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_readonly_while_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_corrupt_record_detected_and_replaced, setup, teardown),
	    cmocka_unit_test(test_readonly_missing),
	    cmocka_unit_test_setup_teardown(
	        test_upgrade_from_format_1, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_upgrade_resumes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_upgrade_starts_over_safely, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_upgrade_from_format_2, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_upgrade_from_format_2_starts_over, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_collected_tombstone_stops_old_copies, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
