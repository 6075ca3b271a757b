/*
 * test_storedb.c - the store's iterator (stdb_iter) and the one mapping of
 * LMDB codes to JALIN_E* (stdb_errcode): positions, walks, sticky errors,
 * writes through the iterator. A fresh temporary directory per test; the
 * entries are written with LMDB directly, as node/store.c would.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "storedb.h"

#define MAP_SMALL (1u << 20)

struct fx {
	char dir[64];
	struct stdb *db;
	MDB_txn *txn; /* the test's write transaction, if any */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/jalin-storedb-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(
	    stdb_open(f->dir, STDB_CREATE, MAP_SMALL, &f->db, NULL), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	if (f->txn != NULL)
		mdb_txn_abort(f->txn);
	stdb_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static MDB_txn *
wtxn(struct fx *f)
{
	assert_int_equal(mdb_txn_begin(stdb_env(f->db), NULL, 0, &f->txn), 0);
	return f->txn;
}

static void
commit(struct fx *f)
{
	assert_int_equal(mdb_txn_commit(f->txn), 0);
	f->txn = NULL;
}

static void
put(struct fx *f, enum stdb_db which, const void *k, size_t klen, const void *v,
    size_t vlen)
{
	MDB_val key = {klen, (void *)(uintptr_t)k};
	MDB_val val = {vlen, (void *)(uintptr_t)v};

	assert_int_equal(
	    mdb_put(f->txn, stdb_dbi(f->db, which), &key, &val, 0), 0);
}

/* Feed entries seq first..last, each value "v<seq>". */
static void
put_feed(struct fx *f, uint64_t first, uint64_t last)
{
	uint8_t k[STDB_SEQ_LEN];
	char v[24];

	wtxn(f);
	for (uint64_t s = first; s <= last; s++) {
		stdb_put_u64(k, s);
		snprintf(v, sizeof(v), "v%llu", (unsigned long long)s);
		put(f, STDB_FEED, k, sizeof(k), v, strlen(v));
	}
	commit(f);
}

static MDB_txn *
rtxn(struct fx *f)
{
	MDB_txn *txn;

	assert_int_equal(stdb_begin_read(f->db, &txn, NULL), 0);
	return txn;
}

static void
test_errcode(void **state)
{
	struct jalin_err err;

	(void)state;
	assert_int_equal(stdb_errcode(0), 0);
	assert_int_equal(stdb_errcode(MDB_NOTFOUND), JALIN_ENOTFOUND);
	assert_int_equal(stdb_errcode(MDB_MAP_FULL), JALIN_ESPACE);
	assert_int_equal(stdb_errcode(MDB_CORRUPTED), JALIN_ECORRUPT);
	assert_int_equal(stdb_errcode(MDB_PAGE_NOTFOUND), JALIN_ECORRUPT);
	assert_int_equal(stdb_errcode(MDB_INVALID), JALIN_ECORRUPT);
	assert_int_equal(stdb_errcode(MDB_VERSION_MISMATCH), JALIN_ECORRUPT);
	assert_int_equal(stdb_errcode(ENOMEM), JALIN_ENOMEM);
	assert_int_equal(stdb_errcode(EACCES), JALIN_EIO);
	assert_int_equal(stdb_errcode(MDB_TXN_FULL), JALIN_EIO);
	jalin_err_clear(&err);
	assert_int_equal(
	    stdb_mdb_err(MDB_MAP_FULL, &err, "store: commit"), JALIN_ESPACE);
	assert_string_equal(err.msg,
	    "store: commit (MDB_MAP_FULL: Environment mapsize limit reached)");
}

static void
test_empty_db(void **state)
{
	struct fx *f = *state;
	MDB_txn *txn = rtxn(f);
	struct stdb_iter it;
	size_t len = 99;
	int n = 0;

	stdb_iter_open(&it, txn, f->db, STDB_FEED);
	assert_false(stdb_iter_valid(&it)); /* not positioned yet */
	assert_false(stdb_iter_next(&it));
	assert_false(stdb_iter_first(&it));
	assert_false(stdb_iter_find(&it, "x", 1, STDB_FIND_EQ));
	assert_false(stdb_iter_find(&it, NULL, 0, STDB_FIND_LAST));
	assert_false(stdb_iter_find_seq(&it, 1));
	assert_false(stdb_iter_next(&it));
	assert_null(stdb_iter_key(&it, &len));
	assert_int_equal(len, 0);
	assert_null(stdb_iter_val(&it, NULL));
	assert_int_equal(stdb_iter_seq(&it), 0);
	stdb_iter_foreach(&it, NULL, 0) n++;
	assert_int_equal(n, 0);
	/* running off the end of nothing is no error */
	assert_int_equal(stdb_iter_err(&it), 0);
	assert_int_equal(stdb_iter_report(&it, NULL, "x"), 0);
	assert_int_equal(stdb_iter_del(&it), JALIN_ENOTFOUND);
	assert_int_equal(stdb_iter_put(&it, "v", 1), JALIN_ENOTFOUND);
	assert_int_equal(stdb_iter_err(&it), 0); /* not sticky */
	stdb_iter_close(&it);
	stdb_iter_close(&it); /* twice: harmless */
	stdb_iter_close(NULL);
	stdb_end_read(txn);
	stdb_end_read(NULL);
}

static void
test_seq_positions(void **state)
{
	struct fx *f = *state;
	uint8_t k[STDB_SEQ_LEN];
	struct stdb_iter it;
	const uint8_t *v;
	size_t vlen;
	uint64_t seen = 0;
	MDB_txn *txn;

	put_feed(f, 1, 5);
	txn = rtxn(f);
	stdb_iter_open(&it, txn, f->db, STDB_FEED);
	assert_true(stdb_iter_first(&it));
	assert_int_equal(stdb_iter_seq(&it), 1);
	assert_true(stdb_iter_find_seq(&it, 3));
	assert_int_equal(stdb_iter_seq(&it), 3);
	v = stdb_iter_val(&it, &vlen);
	assert_int_equal(vlen, 2);
	assert_memory_equal(v, "v3", 2);
	/* after a key: where a sliced walk resumes */
	stdb_put_u64(k, 3);
	assert_true(stdb_iter_find(&it, k, sizeof(k), STDB_FIND_GT));
	assert_int_equal(stdb_iter_seq(&it), 4);
	assert_true(stdb_iter_find(&it, NULL, 0, STDB_FIND_GT));
	assert_int_equal(stdb_iter_seq(&it), 1);
	stdb_put_u64(k, 5);
	assert_false(stdb_iter_find(&it, k, sizeof(k), STDB_FIND_GT));
	assert_true(stdb_iter_find(&it, k, sizeof(k), STDB_FIND_EQ));
	assert_int_equal(stdb_iter_seq(&it), 5);
	stdb_put_u64(k, 9);
	assert_false(stdb_iter_find(&it, k, sizeof(k), STDB_FIND_EQ));
	assert_false(stdb_iter_find_seq(&it, 6));
	assert_true(stdb_iter_find(&it, NULL, 0, STDB_FIND_LAST));
	assert_int_equal(stdb_iter_seq(&it), 5);
	assert_false(stdb_iter_next(&it));
	assert_false(stdb_iter_next(&it)); /* still at the end */
	/* a walk from seq 2 sees 2..5 in order */
	for (stdb_iter_find_seq(&it, 2); stdb_iter_valid(&it);
	     stdb_iter_next(&it))
		assert_int_equal(stdb_iter_seq(&it), ++seen + 1);
	assert_int_equal(seen, 4);
	assert_int_equal(stdb_iter_err(&it), 0);
	stdb_iter_close(&it);
	stdb_end_read(txn);
}

static void
test_prefix_walk(void **state)
{
	struct fx *f = *state;
	uint8_t key[STDB_KEY_LEN], id[UUID_LEN] = {0}, coll = 2;
	struct stdb_iter it;
	const uint8_t *k;
	size_t klen;
	int n = 0;
	MDB_txn *txn;

	wtxn(f);
	for (uint8_t c = 1; c <= 3; c++)
		for (uint8_t i = 0; i < 4; i++) {
			id[15] = i;
			stdb_key(key, c, id);
			put(f, STDB_CONFLICTS, key, sizeof(key), "\0\0\0\1", 4);
		}
	commit(f);
	txn = rtxn(f);
	stdb_iter_open(&it, txn, f->db, STDB_CONFLICTS);
	stdb_iter_foreach(&it, &coll, 1)
	{
		k = stdb_iter_key(&it, &klen);
		assert_int_equal(klen, STDB_KEY_LEN);
		assert_int_equal(k[0], 2);
		assert_int_equal(k[16], n);
		n++;
	}
	assert_int_equal(n, 4);
	assert_int_equal(stdb_iter_err(&it), 0);
	/* the walk stopped on collection 3's first key */
	assert_true(stdb_iter_valid(&it));
	assert_false(stdb_iter_has_prefix(&it, &coll, 1));
	assert_true(stdb_iter_has_prefix(&it, NULL, 0));
	/* a collection alone: a 1-byte key sorts before its records */
	assert_true(stdb_iter_find(&it, &coll, 1, STDB_FIND_GT));
	assert_int_equal(stdb_iter_key(&it, NULL)[0], 2);
	stdb_iter_close(&it);
	stdb_end_read(txn);
}

static void
test_sticky_error(void **state)
{
	struct fx *f = *state;
	struct jalin_err err;
	struct stdb_iter it;
	MDB_txn *txn;
	int n = 0;

	put_feed(f, 1, 5);
	txn = rtxn(f);
	stdb_iter_open(&it, txn, f->db, STDB_FEED);
	stdb_iter_foreach(&it, NULL, 0)
	{
		if (++n == 2)
			stdb_iter_fail(&it, JALIN_ECORRUPT);
	}
	assert_int_equal(n, 2);
	assert_false(stdb_iter_valid(&it));
	assert_int_equal(stdb_iter_err(&it), JALIN_ECORRUPT);
	/* every later call does nothing */
	assert_false(stdb_iter_first(&it));
	assert_false(stdb_iter_next(&it));
	assert_false(stdb_iter_find_seq(&it, 1));
	assert_null(stdb_iter_key(&it, NULL));
	assert_int_equal(stdb_iter_fail(&it, JALIN_EIO), JALIN_ECORRUPT);
	assert_int_equal(stdb_iter_put(&it, "x", 1), JALIN_ECORRUPT);
	jalin_err_clear(&err);
	assert_int_equal(stdb_iter_report(&it, &err, "cannot read the feed"),
	    JALIN_ECORRUPT);
	assert_string_equal(
	    err.msg, "cannot read the feed (stored data is corrupt)");
	stdb_iter_close(&it);
	assert_int_equal(stdb_iter_err(&it), JALIN_ECORRUPT);

	/* LMDB's own failure: a write in a read transaction */
	stdb_iter_open(&it, txn, f->db, STDB_FEED);
	assert_true(stdb_iter_first(&it));
	assert_int_equal(stdb_iter_put(&it, "x", 1), JALIN_EIO);
	assert_false(stdb_iter_next(&it));
	assert_int_equal(stdb_iter_err(&it), JALIN_EIO);
	jalin_err_clear(&err);
	assert_int_equal(stdb_iter_report(&it, &err, "feed"), JALIN_EIO);
	assert_string_equal(err.msg, "feed (Permission denied)");
	stdb_iter_close(&it);
	stdb_end_read(txn);
}

static void
test_map_full(void **state)
{
	struct fx *f = *state;
	size_t big = 2 * MAP_SMALL;
	uint8_t k[STDB_SEQ_LEN];
	struct jalin_err err;
	struct stdb_iter it;
	void *p = NULL;
	uint8_t *v;

	put_feed(f, 1, 1);
	v = calloc(1, big);
	assert_non_null(v);
	wtxn(f);
	stdb_iter_open(&it, f->txn, f->db, STDB_FEED);
	stdb_put_u64(k, 1);
	assert_true(stdb_iter_find(&it, k, sizeof(k), STDB_FIND_EQ));
	assert_int_equal(stdb_iter_put(&it, v, big), JALIN_ESPACE);
	assert_int_equal(stdb_iter_err(&it), JALIN_ESPACE);
	assert_int_equal(stdb_iter_reserve(&it, 8, &p), JALIN_ESPACE);
	assert_null(p);
	jalin_err_clear(&err);
	assert_int_equal(
	    stdb_iter_report(&it, &err, "store: write"), JALIN_ESPACE);
	assert_string_equal(err.msg,
	    "store: write (MDB_MAP_FULL: Environment mapsize limit reached)");
	stdb_iter_close(&it);
	free(v);
}

/* Delete the even seqs and rewrite the odd ones through the iterator. */
static void
test_write_through_iter(void **state)
{
	struct fx *f = *state;
	struct stdb_iter it;
	const uint8_t *v;
	size_t vlen;
	void *p;
	uint64_t seqs[8], n = 0;
	MDB_txn *txn;

	put_feed(f, 1, 6);
	wtxn(f);
	stdb_iter_open(&it, f->txn, f->db, STDB_FEED);
	/* after a delete, next goes on to the entry that followed */
	for (stdb_iter_first(&it); stdb_iter_valid(&it); stdb_iter_next(&it)) {
		uint64_t s = stdb_iter_seq(&it);
		if (s % 2 == 0) {
			assert_int_equal(stdb_iter_del(&it), 0);
			assert_false(stdb_iter_valid(&it));
			assert_int_equal(stdb_iter_del(&it), JALIN_ENOTFOUND);
		} else if (s == 3) {
			assert_int_equal(stdb_iter_reserve(&it, 5, &p), 0);
			memcpy(p, "three", 5);
			assert_int_equal(
			    stdb_iter_seq(&it), 3); /* still on it */
		} else {
			assert_int_equal(stdb_iter_put(&it, "odd", 3), 0);
			assert_int_equal(stdb_iter_seq(&it), s);
		}
	}
	assert_int_equal(stdb_iter_err(&it), 0);
	stdb_iter_close(&it);
	commit(f);

	txn = rtxn(f);
	stdb_iter_open(&it, txn, f->db, STDB_FEED);
	stdb_iter_foreach(&it, NULL, 0)
	{
		seqs[n++] = stdb_iter_seq(&it);
		v = stdb_iter_val(&it, &vlen);
		if (seqs[n - 1] == 3)
			assert_memory_equal(v, "three", vlen);
		else
			assert_memory_equal(v, "odd", vlen);
	}
	assert_int_equal(n, 3);
	assert_int_equal(seqs[0], 1);
	assert_int_equal(seqs[1], 3);
	assert_int_equal(seqs[2], 5);
	stdb_iter_close(&it);
	stdb_end_read(txn);
}

static void
test_record_values(void **state)
{
	struct fx *f = *state;
	uint8_t key[STDB_KEY_LEN], id[UUID_LEN] = {1}, val[64];
	const char state_bytes[] = "\x93\x01\x02\x03";
	const uint8_t *st, *raw;
	struct stdb_iter it;
	size_t hl, len, rawlen;
	uint64_t seq;
	MDB_txn *txn;

	hl = stdb_val_header(val, 300, NULL, 0, state_bytes, 4);
	memcpy(val + hl, state_bytes, 4);
	stdb_key(key, 1, id);
	wtxn(f);
	put(f, STDB_RECORDS, key, sizeof(key), val, hl + 4);
	val[hl] ^= 1; /* fails its checksum */
	id[0] = 2;
	stdb_key(key, 1, id);
	put(f, STDB_RECORDS, key, sizeof(key), val, hl + 4);
	commit(f);

	txn = rtxn(f);
	stdb_iter_open(&it, txn, f->db, STDB_RECORDS);
	assert_int_equal(stdb_iter_record(&it, &st, &len, &seq),
	    JALIN_ECORRUPT); /* not on an entry */
	assert_true(stdb_iter_first(&it));
	assert_int_equal(stdb_iter_record(&it, &st, &len, &seq), 0);
	assert_int_equal(seq, 300);
	assert_int_equal(len, 4);
	assert_memory_equal(st, state_bytes, 4);
	assert_true(stdb_iter_next(&it));
	assert_int_equal(
	    stdb_iter_record(&it, &st, &len, &seq), JALIN_ECORRUPT);
	assert_int_equal(stdb_iter_err(&it), 0); /* the walk goes on */
	stdb_iter_close(&it);

	/* point reads */
	assert_int_equal(
	    stdb_get(txn, f->db, STDB_RECORDS, key, sizeof(key), &raw, &rawlen),
	    0);
	assert_int_equal(rawlen, hl + 4);
	assert_int_equal(stdb_value_split(raw, rawlen, &st, &len, &seq), 0);
	assert_int_equal(seq, 300);
	assert_int_equal(
	    stdb_value_state(raw, rawlen, &st, &len, &seq), JALIN_ECORRUPT);
	id[0] = 3;
	stdb_key(key, 1, id);
	assert_int_equal(
	    stdb_get(txn, f->db, STDB_RECORDS, key, sizeof(key), &raw, &rawlen),
	    JALIN_ENOTFOUND);
	assert_int_equal(
	    stdb_get(txn, f->db, STDB_RECORDS, key, 0, &raw, &rawlen),
	    JALIN_ENOTFOUND);
	stdb_end_read(txn);
}

/* A store from before the gone and audit databases, opened read-only:
 * walks of those are empty, not errors. */
static void
test_optional_db_absent(void **state)
{
	static const char *const names[] = {
	    "records", "feed", "conflicts", "digest", "ckpt", "meta"};
	struct fx *f = *state;
	uint8_t fmt[4], k[STDB_SEQ_LEN] = {0};
	struct stdb_iter it;
	struct stdb *ro;
	const uint8_t *v;
	size_t vlen;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	stdb_close(f->db);
	f->db = NULL;
	snprintf(
	    f->dir + strlen(f->dir), sizeof(f->dir) - strlen(f->dir), "/old");
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, STDB_NDB), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(
		    mdb_dbi_open(txn, names[i], MDB_CREATE, &dbi), 0);
	stdb_put_u32(fmt, STDB_FORMAT);
	MDB_val mk = {6, (void *)(uintptr_t) "format"}, mv = {4, fmt};
	assert_int_equal(mdb_put(txn, dbi, &mk, &mv, 0), 0); /* meta */
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_equal(stdb_open(f->dir, STDB_RDONLY, 0, &ro, NULL), 0);
	assert_false(stdb_has(ro, STDB_GONE));
	assert_false(stdb_has(ro, STDB_AUDIT));
	assert_int_equal(stdb_begin_read(ro, &txn, NULL), 0);
	stdb_iter_open(&it, txn, ro, STDB_AUDIT);
	assert_false(stdb_iter_find(&it, NULL, 0, STDB_FIND_LAST));
	assert_false(stdb_iter_first(&it));
	assert_int_equal(stdb_iter_err(&it), 0);
	stdb_iter_close(&it);
	assert_int_equal(stdb_get(txn, ro, STDB_GONE, k, sizeof(k), &v, &vlen),
	    JALIN_ENOTFOUND);
	stdb_end_read(txn);
	stdb_close(ro);
	*strrchr(f->dir, '/') = '\0'; /* teardown removes the whole tree */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errcode),
	    cmocka_unit_test_setup_teardown(test_empty_db, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_seq_positions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prefix_walk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sticky_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_write_through_iter, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_record_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_optional_db_absent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
