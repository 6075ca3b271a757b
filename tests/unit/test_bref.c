/*
 * test_bref.c - signed batches at rest (PROTOCOL.md §13.2, storedb.h
 * bref): a store that signs keeps a batch while a stored proof refers to
 * it and deletes it in the transaction that drops the last reference
 * (overwrite, purge, collected tombstone); an older store's counts are made
 * again when it is opened; a batch put in a transaction that no proof
 * refers to is gone at commit. A fresh temporary directory per test.
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
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "merge.h"
#include "store.h"

struct fx {
	char dir[64];
	struct store *s;
	EVP_PKEY *key;
	struct record *old, *out;
};

static void
open_store(struct fx *f)
{
	struct store_opts o = {f->dir, "jabar", 64ull << 20, 0};

	assert_int_equal(store_open(&o, &f->s, NULL), 0);
	assert_int_equal(store_set_signer(f->s, f->key, NULL), 0);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/jalin-bref-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_non_null(f->key = EVP_EC_gen("P-256"));
	assert_non_null(f->old = malloc(sizeof(struct record)));
	assert_non_null(f->out = malloc(sizeof(struct record)));
	open_store(f);
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
	EVP_PKEY_free(f->key);
	free(f->old);
	free(f->out);
	free(f);
	return 0;
}

static void
mkid(uint8_t id[16], unsigned n)
{
	memset(id, 0, 16);
	id[0] = 0x01;
	id[6] = 0x70;
	id[15] = (uint8_t)n;
}

enum op {
	OP_PUT,
	OP_PURGE,
	OP_DELETE,
	OP_BURY
};

struct w {
	struct fx *f;
	enum op op;
	unsigned first, count;
};

/* One write of this node on record n (as ops.c makes it). */
static int
write_one(struct store_txn *t, struct w *w, unsigned n)
{
	static const uint8_t tomb[] = {0x92, 0xc0, 0xc0}; /* [nil, nil] */
	static uint8_t gen;
	/* a name of its own each time: the same value again is no write */
	uint8_t name[] = {0xa4, 'n', 'a', 'm', (uint8_t)('a' + gen++ % 26)};
	struct merge_update u = {16, sizeof(name), name};
	struct store_cur cur;
	uint8_t id[16];
	bool changed = false;
	int rc;

	mkid(id, n);
	if ((rc = store_txn_get(t, 3, id, &cur)) != 0)
		return rc;
	if (cur.exists)
		assert_int_equal(rec_decode(w->f->old, cur.raw, cur.rawlen,
		                     REC_TRUSTED, NULL),
		    0);
	else
		rec_init(w->f->old);
	if (w->op == OP_BURY)
		return store_txn_bury(t, &cur);
	uint64_t hlc = store_txn_hlc(t);
	rc = w->op == OP_PUT
	    ? merge_put(w->f->old, &u, 1, "jabar", 5, hlc, w->f->out, &changed)
	    : w->op == OP_PURGE ? merge_purge(w->f->old, tomb, sizeof(tomb),
	                              "jabar", 5, hlc, w->f->out, &changed)
	                        : merge_delete(w->f->old, tomb, sizeof(tomb),
	                              "jabar", 5, hlc, w->f->out, &changed);
	assert_int_equal(rc, 0);
	return changed ? store_txn_set(t, &cur, w->f->old, w->f->out) : 0;
}

static int
write_fn(struct store_txn *t, void *arg)
{
	struct w *w = arg;
	int rc = 0;

	for (unsigned i = w->first; i < w->first + w->count && rc == 0; i++)
		rc = write_one(t, w, i);
	return rc;
}

/* Records first..first+count-1 written in one transaction. */
static void
do_write(struct fx *f, enum op op, unsigned first, unsigned count)
{
	struct w w = {f, op, first, count};

	assert_int_equal(store_write(f->s, write_fn, &w, NULL), 0);
}

/* Entries of a database; of bref, the counts (not the origin marks),
 * their sum in *sum. */
static unsigned
entries(struct fx *f, enum stdb_db which, uint64_t *sum)
{
	struct stdb *db = store_db(f->s);
	struct stdb_iter it;
	MDB_txn *txn;
	unsigned n = 0;
	size_t kl, vl;

	*sum = 0;
	assert_int_equal(stdb_begin_read(db, &txn, NULL), 0);
	stdb_iter_open(&it, txn, db, which);
	stdb_iter_foreach(&it, NULL, 0)
	{
		const uint8_t *k = stdb_iter_key(&it, &kl);
		const uint8_t *v = stdb_iter_val(&it, &vl);
		if (which == STDB_BREF && kl == 1 + (size_t)k[0])
			continue; /* the origin's mark */
		n++;
		if (which == STDB_BREF && vl == 4)
			*sum += stdb_get_u32(v);
	}
	assert_int_equal(stdb_iter_err(&it), 0);
	stdb_iter_close(&it);
	stdb_end_read(txn);
	return n;
}

static unsigned
nbatches(struct fx *f)
{
	uint64_t sum;

	return entries(f, STDB_BATCH, &sum);
}

/* The counts: one per batch, summing to refs. */
static void
assert_counts(struct fx *f, unsigned batches, uint64_t refs)
{
	uint64_t sum;

	assert_int_equal(nbatches(f), batches);
	assert_int_equal(entries(f, STDB_BREF, &sum), batches);
	assert_int_equal(sum, refs);
}

static void
test_overwritten_and_purged_free_their_batches(void **state)
{
	struct fx *f = *state;

	do_write(f, OP_PUT, 1, 3); /* one batch of three events */
	assert_counts(f, 1, 3);
	do_write(f, OP_PUT, 1, 1); /* record 1's name again: a second batch */
	assert_counts(f, 2, 3);
	do_write(f, OP_PUT, 2, 2); /* the first batch has no event left */
	assert_counts(f, 2, 3);
	do_write(f, OP_PURGE, 1, 3); /* three purges, one batch */
	assert_counts(f, 1, 3);
}

static void
test_a_collected_tombstone_frees_its_batch(void **state)
{
	struct fx *f = *state;
	struct stdb *db = store_db(f->s);
	const uint8_t *st;
	uint8_t id[16];
	size_t len;
	MDB_txn *txn;

	do_write(f, OP_PUT, 1, 1);
	do_write(f, OP_DELETE, 1, 1);
	assert_counts(f, 1, 1); /* the delete's batch: the write is gone */
	do_write(f, OP_BURY, 1, 1);
	assert_counts(f, 0, 0);
	/* the tombstone stays in gone, without its proof */
	mkid(id, 1);
	assert_int_equal(stdb_begin_read(db, &txn, NULL), 0);
	assert_int_equal(stdb_get_gone(txn, db, 3, id, &st, &len), 0);
	{
		uint8_t key[STDB_KEY_LEN];
		const uint8_t *v, *proof;
		size_t vlen, plen;
		uint64_t seq;
		stdb_key(key, 3, id);
		assert_int_equal(
		    stdb_get(txn, db, STDB_GONE, key, sizeof(key), &v, &vlen),
		    0);
		assert_int_equal(
		    stdb_value_parts(v, vlen, &seq, &proof, &plen, &st, &len),
		    0);
		assert_int_equal(plen, 0);
	}
	stdb_end_read(txn);
}

static int
batch_fn(struct store_txn *t, void *arg)
{
	uint8_t k[STDB_BATCH_KEY_MAX], v[8 + 1 + 8 + 16] = {0};
	size_t kl = stdb_batch_key(k, "banten", 6, 42);
	uint32_t n = 99;

	(void)arg;
	v[8] = 8;
	assert_int_equal(store_txn_put_batch(t, k, kl, v, sizeof(v)), 0);
	assert_int_equal(store_txn_batch_refs(t, k, kl, &n), 0);
	assert_int_equal(n, 0);
	return 0;
}

static void
test_a_batch_no_proof_refers_to_is_not_kept(void **state)
{
	struct fx *f = *state;

	do_write(f, OP_PUT, 1, 1);
	assert_int_equal(store_write(f->s, batch_fn, NULL, NULL), 0);
	assert_counts(f, 1, 1); /* banten's is gone at commit */
}

static int
stale_fn(struct store_txn *t, void *arg)
{
	uint8_t k[STDB_BATCH_KEY_MAX], v[8 + 1 + 8 + 16] = {0};
	size_t kl = stdb_batch_key(k, "banten", 6, 7);

	(void)arg;
	v[8] = 8;
	/* a batch nothing counts, as a build without counts left it */
	return store_txn_put(t, STDB_BATCH, k, kl, v, sizeof(v));
}

/* meta "brefseq" behind "seq", as a build that does not count leaves it */
static void
stale_counts(struct fx *f)
{
	static char name[] = "brefseq";
	uint8_t zero[8] = {0};
	MDB_val k = {7, name}, v = {8, zero};
	struct stdb *db;
	MDB_txn *txn;

	store_close(f->s);
	assert_int_equal(stdb_open(f->dir, 0, 64ull << 20, &db, NULL), 0);
	assert_int_equal(mdb_txn_begin(stdb_env(db), NULL, 0, &txn), 0);
	assert_int_equal(mdb_put(txn, stdb_dbi(db, STDB_META), &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	stdb_close(db);
	open_store(f);
}

static void
test_counts_are_made_again_for_an_older_store(void **state)
{
	struct fx *f = *state;

	do_write(f, OP_PUT, 1, 3);
	do_write(f, OP_PUT, 4, 2);
	assert_counts(f, 2, 5);
	assert_int_equal(store_write(f->s, stale_fn, NULL, NULL), 0);
	assert_int_equal(nbatches(f), 3);
	stale_counts(f);
	assert_counts(f, 2, 5);
	do_write(f, OP_PUT, 1, 5); /* everything again: both batches go */
	assert_counts(f, 1, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_overwritten_and_purged_free_their_batches, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_a_collected_tombstone_frees_its_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_a_batch_no_proof_refers_to_is_not_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_counts_are_made_again_for_an_older_store, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
