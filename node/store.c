/*
 * store.c - jalind's write transactions on the LMDB store.
 *
 * Keeps in memory what every commit updates (feed seq, HLC, live counts,
 * conflict count, digest bucket sums) and writes it with the changes, so a
 * commit is one LMDB transaction with one durable sync. The in-memory copy
 * is only advanced after a successful commit; an abort restores it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "hlc.h"
#include "merge.h"
#include "proof.h"
#include "sig.h"
#include "store.h"

#define NBUCKETS JALIN_DIGEST_BUCKETS

/* A batch whose reference count this transaction changes, by how much. */
struct bref_slot {
	uint8_t klen;
	uint8_t key[STDB_BATCH_KEY_MAX];
	int32_t d;
};

struct store_txn {
	struct store *s;
	MDB_txn *txn;
	int err; /* sticky: the first store-level failure */
	uint64_t seq;
	uint64_t count[COLL_COUNT + 1];
	uint64_t nconflicts;
	uint8_t dirty[COLL_COUNT + 1][NBUCKETS / 8];
	bool any_dirty;
	const char *src; /* source of the next store_txn_set, or NULL */
	size_t srclen;
	bool rebuild; /* a corrupt record was replaced: recount at commit */
	/* origin signatures: the batch being filled, the last one signed */
	uint64_t bno; /* the batch's id: the HLC of its first event */
	uint16_t nleaves;
	uint8_t leaves[JALIN_SIG_BATCH_MAX][SIG_LEAF_LEN];
	const struct record *rem; /* the peer's state being applied */
	const struct proof *remp; /* its proof (NULL: none) */
	const uint8_t *remraw;    /* ... as the peer sent it */
	size_t remrawlen;
	/* batch reference counts: this transaction's changes (bref_flush) */
	struct bref_slot *bref; /* open addressing; klen 0: free */
	size_t bref_cap, bref_n;
};

struct store {
	struct stdb *db;
	int lockfd;
	char node[JALIN_NAME_MAX + 1];
	uint8_t epoch[16];
	uint64_t seq;
	uint64_t map_max;
	struct hlc hlc;
	uint64_t count[COLL_COUNT + 1];
	uint64_t nconflicts;
	uint8_t sums[COLL_COUNT + 1][NBUCKETS][32];  /* committed */
	uint8_t tsums[COLL_COUNT + 1][NBUCKETS][32]; /* in the open txn */
	struct buf enc;
	struct buf code; /* upgrade: a legacy record's values, coded */
	EVP_MD_CTX *mdctx;
	EVP_MD *sha;
	struct record *ws[4];
	struct store_txn txn;
	uint64_t upgraded; /* states re-encoded by the format upgrade */
	/* origin signatures (PROTOCOL.md §13) */
	struct sig_ctx *sx;
	EVP_PKEY *key; /* NULL: this node's writes are not signed */
	uint8_t kid[SIG_KID_LEN];
	struct proof *pold, *pout;
	struct buf ptmp, penc;
};

static int
lock_dir(struct store *s, const char *dir, struct jalin_err *err)
{
	char path[JALIN_PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/jalind.lock", dir);
	s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0)
		return jalin_err_set(err, JALIN_EIO,
		    "cannot open store '%s' (lock file: %s)", dir,
		    strerror(errno));
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0)
		return jalin_err_set(err, JALIN_EIO,
		    "cannot open store '%s' (%s)", dir,
		    errno == EWOULDBLOCK ? "in use by another jalind"
		                         : strerror(errno));
	return 0;
}

static int
meta_put(
    MDB_txn *txn, struct store *s, const char *name, const void *v, size_t len)
{
	MDB_val key = {strlen(name), (void *)(uintptr_t)name};
	MDB_val val = {len, (void *)(uintptr_t)v};

	return mdb_put(txn, stdb_dbi(s->db, STDB_META), &key, &val, 0);
}

static int
meta_put_u64(MDB_txn *txn, struct store *s, const char *name, uint64_t v)
{
	uint8_t b[8];

	stdb_put_u64(b, v);
	return meta_put(txn, s, name, b, sizeof(b));
}

/* A new store: format, node name, a fresh epoch, zero counters. */
static int
init_meta(MDB_txn *txn, struct store *s)
{
	uint8_t fmt[4], counts[8 * COLL_COUNT] = {0};
	int rc;

	if (RAND_bytes(s->epoch, sizeof(s->epoch)) != 1)
		return EIO;
	stdb_put_u32(fmt, STDB_FORMAT);
	if ((rc = meta_put(txn, s, "format", fmt, 4)) != 0 ||
	    (rc = meta_put(txn, s, "node", s->node, strlen(s->node))) != 0 ||
	    (rc = meta_put(txn, s, "epoch", s->epoch, 16)) != 0 ||
	    (rc = meta_put_u64(txn, s, "seq", 0)) != 0 ||
	    (rc = meta_put_u64(txn, s, "hlc", 0)) != 0 ||
	    (rc = meta_put_u64(txn, s, "gcseq", 0)) != 0 ||
	    (rc = meta_put_u64(txn, s, "nconflicts", 0)) != 0 ||
	    (rc = meta_put_u64(txn, s, "brefseq", 0)) != 0 ||
	    (rc = meta_put(txn, s, "count", counts, sizeof(counts))) != 0)
		return rc;
	return meta_put_u64(txn, s, "created", hlc_wall_ms());
}

static int
load_sums(MDB_txn *txn, struct store *s, struct jalin_err *err)
{
	struct stdb_iter it;
	const uint8_t *k, *v;
	size_t klen, vlen;
	int rc;

	stdb_iter_open(&it, txn, s->db, STDB_DIGEST);
	stdb_iter_foreach(&it, NULL, 0)
	{
		k = stdb_iter_key(&it, &klen);
		v = stdb_iter_val(&it, &vlen);
		if (klen == 2 && k[0] >= COLL_MIN && k[0] <= COLL_MAX &&
		    vlen == 32)
			memcpy(s->sums[k[0]][k[1]], v, 32);
	}
	rc = stdb_iter_report(&it, err, "cannot read digests");
	stdb_iter_close(&it);
	memcpy(s->tsums, s->sums, sizeof(s->sums));
	return rc;
}

static int
load_meta(MDB_txn *txn, struct store *s, struct jalin_err *err)
{
	struct stdb_info info;
	int rc;

	if ((rc = stdb_info(txn, s->db, &info, err)) != 0)
		return rc;
	if (strcmp(info.node, s->node) != 0)
		return jalin_err_set(err, JALIN_ECONFIG,
		    "store '%s' belongs to node '%s', not '%s'",
		    stdb_dir(s->db), info.node, s->node);
	memcpy(s->epoch, info.epoch, 16);
	s->seq = info.seq;
	hlc_init(&s->hlc, info.hlc);
	memcpy(s->count, info.count, sizeof(s->count));
	s->nconflicts = info.nconflicts;
	return load_sums(txn, s, err);
}

static int
open_state(struct store *s, struct jalin_err *err)
{
	MDB_txn *txn;
	const void *p;
	size_t len;
	int rc;

	if ((rc = mdb_txn_begin(stdb_env(s->db), NULL, 0, &txn)) != 0)
		return stdb_mdb_err(rc, err, "cannot open store");
	if (stdb_meta_get(txn, s->db, "node", &p, &len) == JALIN_ENOTFOUND &&
	    (rc = init_meta(txn, s)) != 0) {
		mdb_txn_abort(txn);
		return stdb_mdb_err(rc, err, "cannot initialise store");
	}
	if ((rc = load_meta(txn, s, err)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return stdb_mdb_err(rc, err, "cannot initialise store");
	return 0;
}

static int
alloc_parts(struct store *s, struct jalin_err *err)
{
	buf_init(&s->enc, JALIN_RECORD_MAX);
	buf_init(&s->code, JALIN_RECORD_MAX);
	s->mdctx = EVP_MD_CTX_new();
	s->sha = EVP_MD_fetch(NULL, "SHA256", NULL);
	for (int i = 0; i < 4; i++)
		s->ws[i] = malloc(sizeof(struct record));
	s->sx = sig_ctx_new();
	s->pold = malloc(sizeof(struct proof));
	s->pout = malloc(sizeof(struct proof));
	buf_init(&s->ptmp, JALIN_RECORD_MAX);
	buf_init(&s->penc, JALIN_RECORD_MAX);
	if (s->mdctx == NULL || s->sha == NULL || s->ws[0] == NULL ||
	    s->ws[1] == NULL || s->ws[2] == NULL || s->ws[3] == NULL ||
	    s->sx == NULL || s->pold == NULL || s->pout == NULL)
		return jalin_err_set(
		    err, JALIN_ENOMEM, "cannot open store (out of memory)");
	return 0;
}

/*
 * Upgrade of a format-1 or format-2 store: every value in records and gone
 * is read in its layout (format 1: stdb_val_state_v1), its state decoded
 * (REC_LEGACY) and written again as record format 3 behind the current
 * header, with its seq. UPGRADE_BATCH values per transaction, so a large store
 * never makes one huge transaction; each transaction also writes meta "upgrade"
 * = [db][last key done], so an upgrade cut short (kill, power loss) goes
 * on after that key at the next start, and no value is ever read in the
 * wrong layout. The last transaction recomputes counts and digests (they
 * hash the state bytes), drops "upgrade" and writes format 3. A value
 * that fails its old checksum or does not decode is left as it is: it is
 * then corrupt like any damaged record, counted nowhere, and verification
 * repairs it from a peer. A value rewritten already (an upgrade that went
 * on past its last mark) fails the format-1 checksum, or, from format 2,
 * decodes as format 3 and is written again as the same bytes.
 */
#define UPGRADE_BATCH 10000

static int txn_fail(struct store_txn *t, int rc);
static void bref_reset(struct store_txn *t);
static int bref_add_key(
    struct store_txn *t, const uint8_t *k, size_t klen, int32_t d);
static int bref_stored(struct store_txn *t, const struct record *r,
    const uint8_t *proof, size_t plen, int32_t d);
static int bref_mark(struct store_txn *t, const uint8_t *k);

/* The same for a failure already mapped (stdb_iter's): it stays failed. */
static int
txn_fail_code(struct store_txn *t, int code)
{
	if (t->err == 0)
		t->err = code;
	return t->err;
}

static const enum stdb_db upgrade_dbs[] = {STDB_RECORDS, STDB_GONE};
#define UPGRADE_NDBS (sizeof(upgrade_dbs) / sizeof(upgrade_dbs[0]))

struct upgrade_at {
	uint8_t db; /* index into upgrade_dbs */
	uint8_t key[STDB_KEY_LEN];
	bool started; /* key is the last one done in this db */
	uint64_t n;   /* values rewritten */
};

/* store_write runs fn again after growing the map: each try starts from
 * what the last commit left (done), not from where a rolled-back try got
 * to (at). */
struct upgrade {
	struct upgrade_at done, at;
};

/* 1: rewritten, 0: left as it is (does not read or decode), < 0: error. */
static int
upgrade_one(struct store_txn *t, struct stdb_iter *it)
{
	struct store *s = t->s;
	const uint8_t *state;
	size_t len, hl;
	uint64_t seq;
	MDB_val v;
	uint8_t hdr[STDB_VAL_HDR_MAX], *p;
	int rc;

	v.mv_data = (void *)(uintptr_t)stdb_iter_val(it, &v.mv_size);
	if ((stdb_format(s->db) == STDB_FORMAT_1
	            ? stdb_val_state_v1(&v, &state, &len, &seq)
	            : stdb_val_state(&v, &state, &len, &seq)) != 0 ||
	    rec_decode(s->ws[3], state, len, REC_TRUSTED | REC_LEGACY, NULL) !=
	        0)
		return 0;
	s->enc.len = 0;
	if ((rc = rec_code_values(s->ws[3], &s->code)) != 0 ||
	    (rc = rec_encode(s->ws[3], &s->enc)) != 0)
		return rc;
	hl = stdb_val_header(hdr, seq, NULL, 0, s->enc.p, s->enc.len);
	if ((rc = stdb_iter_reserve(it, hl + s->enc.len, (void **)&p)) != 0)
		return txn_fail_code(t, rc);
	memcpy(p, hdr, hl);
	memcpy(p + hl, s->enc.p, s->enc.len);
	return 1;
}

static int
upgrade_fn(struct store_txn *t, void *arg)
{
	struct upgrade_at *u = &((struct upgrade *)arg)->at;
	struct stdb_iter it;
	const uint8_t *k;
	uint8_t mark[1 + STDB_KEY_LEN];
	size_t klen;
	int rc = 0, ierr, n = 0;
	bool more;

	*u = ((struct upgrade *)arg)->done;
	stdb_iter_open(&it, t->txn, t->s->db, upgrade_dbs[u->db]);
	stdb_iter_find(
	    &it, u->key, u->started ? STDB_KEY_LEN : 0, STDB_FIND_GT);
	while (stdb_iter_valid(&it) && n++ < UPGRADE_BATCH) {
		if ((k = stdb_iter_key(&it, &klen)) != NULL &&
		    klen == STDB_KEY_LEN) {
			memcpy(u->key, k, STDB_KEY_LEN);
			u->started = true;
			if ((rc = upgrade_one(t, &it)) < 0)
				break;
			u->n += (uint64_t)rc;
		}
		stdb_iter_next(&it);
	}
	more = stdb_iter_valid(&it);
	ierr = stdb_iter_err(&it);
	stdb_iter_close(&it);
	if (rc < 0)
		return t->err ? t->err : txn_fail(t, rc);
	if (ierr != 0)
		return txn_fail_code(t, ierr);
	if (!more) { /* this db is done: on to the next */
		u->db++;
		u->started = false;
	}
	mark[0] = u->db;
	memcpy(mark + 1, u->key, STDB_KEY_LEN);
	return meta_put(
	    t->txn, t->s, "upgrade", mark, u->started ? sizeof(mark) : 1);
}

static int
upgrade_done_fn(struct store_txn *t, void *arg)
{
	char name[] = "upgrade";
	MDB_val k = {sizeof(name) - 1, name};
	uint8_t fmt[4];
	int rc;

	(void)arg;
	t->rebuild = true; /* counts, conflicts, digests, at commit */
	rc = mdb_del(t->txn, stdb_dbi(t->s->db, STDB_META), &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return txn_fail(t, rc);
	stdb_put_u32(fmt, STDB_FORMAT);
	return meta_put(t->txn, t->s, "format", fmt, 4);
}

static int
upgrade_failed(struct store *s, int rc, struct jalin_err *err)
{
	char why[JALIN_ERRMSG_MAX / 2];
	size_t n = strnlen(err->msg, sizeof(why) - 1);

	memcpy(why, err->msg, n);
	why[n] = '\0';
	return jalin_err_set(err, rc,
	    "cannot upgrade store '%s' to format %d: %s", stdb_dir(s->db),
	    STDB_FORMAT, why);
}

/* Where an earlier, interrupted upgrade stopped (meta "upgrade"). */
static int
upgrade_resume(struct store *s, struct upgrade_at *u)
{
	MDB_txn *txn;
	const void *p;
	size_t len;
	int rc;

	memset(u, 0, sizeof(*u));
	if ((rc = stdb_begin_read(s->db, &txn, NULL)) != 0)
		return rc;
	/* A mark that makes no sense is ignored: starting over is safe (a
	 * value already rewritten is left as it is, or written again the
	 * same). */
	if (stdb_meta_get(txn, s->db, "upgrade", &p, &len) == 0 &&
	    (len == 1 || len == 1 + STDB_KEY_LEN) &&
	    *(const uint8_t *)p <= UPGRADE_NDBS) {
		const uint8_t *m = p;
		u->db = m[0];
		u->started = len > 1;
		if (u->started)
			memcpy(u->key, m + 1, STDB_KEY_LEN);
	}
	mdb_txn_abort(txn);
	return 0;
}

static int
upgrade(struct store *s, struct jalin_err *err)
{
	const size_t ndbs = UPGRADE_NDBS;
	struct upgrade u;
	int rc;

	if (stdb_format(s->db) == STDB_FORMAT)
		return 0;
	if ((rc = upgrade_resume(s, &u.done)) != 0)
		return upgrade_failed(s, rc, err);
	while (u.done.db < ndbs) {
		if (!stdb_has(s->db, upgrade_dbs[u.done.db])) {
			u.done.db++;
			continue;
		}
		if ((rc = store_write(s, upgrade_fn, &u, err)) != 0)
			return upgrade_failed(s, rc, err);
		u.done = u.at;
	}
	s->upgraded = u.done.n;
	if ((rc = store_write(s, upgrade_done_fn, NULL, err)) != 0)
		return upgrade_failed(s, rc, err);
	return 0;
}

/*
 * The bref counts, made again from every stored proof: for a store made
 * before they existed, or written since by a build that does not keep
 * them (meta "brefseq" is not "seq"). Every batch is looked at (d 0), so
 * the ones no proof refers to go; every origin with a batch stays marked
 * as signing. One transaction, O(records), once.
 */
static int
bref_count_one(struct store_txn *t, const struct stdb_iter *it)
{
	struct store *s = t->s;
	const uint8_t *proof, *state;
	size_t vlen, plen, len;
	uint64_t seq;
	const uint8_t *v = stdb_iter_val(it, &vlen);

	if (stdb_value_parts(v, vlen, &seq, &proof, &plen, &state, &len) != 0 ||
	    plen == 0 ||
	    rec_decode(s->ws[3], state, len, REC_TRUSTED, NULL) != 0)
		return 0;
	return bref_stored(t, s->ws[3], proof, plen, 1);
}

static int
bref_count_fn(struct store_txn *t, void *arg)
{
	struct stdb_iter it;
	const uint8_t *k;
	size_t klen;
	int rc;

	(void)arg;
	/* the counts go (the origins' marks stay) */
	stdb_iter_open(&it, t->txn, t->s->db, STDB_BREF);
	stdb_iter_foreach(&it, NULL, 0)
	{
		k = stdb_iter_key(&it, &klen);
		if (klen != 1 + (size_t)k[0])
			stdb_iter_del(&it);
	}
	rc = stdb_iter_err(&it);
	stdb_iter_close(&it);
	if (rc != 0)
		return txn_fail_code(t, rc);
	stdb_iter_open(&it, t->txn, t->s->db, STDB_RECORDS);
	stdb_iter_foreach(&it, NULL, 0) if (bref_count_one(t, &it) != 0) break;
	rc = stdb_iter_err(&it);
	stdb_iter_close(&it);
	if (rc != 0 || t->err != 0)
		return rc != 0 ? txn_fail_code(t, rc) : t->err;
	stdb_iter_open(&it, t->txn, t->s->db, STDB_BATCH);
	stdb_iter_foreach(&it, NULL, 0)
	{
		k = stdb_iter_key(&it, &klen);
		if (klen < 2 || klen > STDB_BATCH_KEY_MAX ||
		    bref_add_key(t, k, klen, 0) != 0 || bref_mark(t, k) != 0)
			break;
	}
	rc = stdb_iter_err(&it);
	stdb_iter_close(&it);
	if (rc != 0)
		return txn_fail_code(t, rc);
	return t->err; /* commit: bref_flush writes the counts */
}

static int
bref_check(struct store *s, struct jalin_err *err)
{
	uint64_t seq = 0, bseq = 1;
	MDB_txn *txn;
	int rc;

	if ((rc = stdb_begin_read(s->db, &txn, err)) != 0)
		return rc;
	stdb_meta_u64(txn, s->db, "seq", &seq);
	if (stdb_meta_u64(txn, s->db, "brefseq", &bseq) != 0)
		bseq = seq + 1;
	stdb_end_read(txn);
	if (bseq == seq)
		return 0;
	if ((rc = store_write(s, bref_count_fn, NULL, err)) != 0)
		return jalin_err_set(err, rc,
		    "cannot count the batch references of store '%s': %s",
		    stdb_dir(s->db), jalin_strerror(rc));
	return 0;
}

uint64_t
store_upgraded(const struct store *s)
{
	return s->upgraded;
}

int
store_open(
    const struct store_opts *o, struct store **out, struct jalin_err *err)
{
	struct store *s;
	uint64_t initial;
	int rc;

	*out = NULL;
	if (o->node == NULL || strlen(o->node) == 0 ||
	    strlen(o->node) > JALIN_NAME_MAX)
		return jalin_err_set(err, JALIN_EINVAL, "bad node name");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	s->lockfd = -1;
	s->txn.s = s;
	snprintf(s->node, sizeof(s->node), "%s", o->node);
	s->map_max = o->map_max < JALIN_MAP_MIN ? JALIN_MAP_MIN : o->map_max;
	initial = o->map_initial ? o->map_initial : JALIN_MAP_INITIAL;
	if (initial > s->map_max)
		initial = s->map_max;
	if ((rc = alloc_parts(s, err)) != 0 ||
	    (rc = stdb_open(o->dir, STDB_CREATE, initial, &s->db, err)) != 0 ||
	    (rc = lock_dir(s, o->dir, err)) != 0 ||
	    (rc = open_state(s, err)) != 0 || (rc = upgrade(s, err)) != 0 ||
	    (rc = bref_check(s, err)) != 0) {
		store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	stdb_close(s->db);
	if (s->lockfd >= 0)
		close(s->lockfd);
	buf_free(&s->enc);
	buf_free(&s->code);
	EVP_MD_CTX_free(s->mdctx);
	EVP_MD_free(s->sha);
	for (int i = 0; i < 4; i++)
		free(s->ws[i]);
	sig_ctx_free(s->sx);
	EVP_PKEY_free(s->key);
	free(s->pold);
	free(s->pout);
	buf_free(&s->ptmp);
	buf_free(&s->penc);
	free(s->txn.bref);
	free(s);
}

int
store_set_signer(struct store *s, EVP_PKEY *key, struct jalin_err *err)
{
	if (key == NULL || !EVP_PKEY_is_a(key, "EC") ||
	    EVP_PKEY_get_bits(key) != 256)
		return jalin_err_set(
		    err, JALIN_ETLS, "the node's key is not an EC P-256 key");
	if (sig_kid(key, s->kid) != 0 || EVP_PKEY_up_ref(key) != 1)
		return jalin_err_set(err, JALIN_ETLS,
		    "cannot use the node's key to sign its writes");
	EVP_PKEY_free(s->key);
	s->key = key;
	return 0;
}

struct stdb *
store_db(struct store *s)
{
	return s->db;
}

const char *
store_node(const struct store *s)
{
	return s->node;
}

const uint8_t *
store_epoch(const struct store *s)
{
	return s->epoch;
}

uint64_t
store_seq(const struct store *s)
{
	return s->seq;
}

uint64_t
store_map_size(const struct store *s)
{
	MDB_envinfo ei;

	mdb_env_info(stdb_env(s->db), &ei);
	return ei.me_mapsize;
}

uint64_t
store_map_max(const struct store *s)
{
	return s->map_max;
}

static int
epoch_fn(struct store_txn *t, void *arg)
{
	return store_txn_put(t, STDB_META, "epoch", 5, arg, 16);
}

int
store_new_epoch(struct store *s, struct jalin_err *err)
{
	uint8_t e[16];
	int rc;

	if (RAND_bytes(e, sizeof(e)) != 1)
		return jalin_err_set(err, JALIN_EIO, "store: no randomness");
	if ((rc = store_write(s, epoch_fn, e, err)) == 0)
		memcpy(s->epoch, e, sizeof(e));
	return rc;
}

struct record *
store_ws(struct store *s, int i)
{
	return s->ws[i];
}

/* Map an LMDB failure inside the transaction; it stays failed. */
static int
txn_fail(struct store_txn *t, int rc)
{
	return txn_fail_code(t, stdb_errcode(rc));
}

static int
txn_begin(struct store *s, struct jalin_err *err)
{
	struct store_txn *t = &s->txn;
	int rc;

	t->err = 0;
	t->seq = s->seq;
	memcpy(t->count, s->count, sizeof(t->count));
	t->nconflicts = s->nconflicts;
	memset(t->dirty, 0, sizeof(t->dirty));
	t->any_dirty = false;
	t->rebuild = false;
	t->nleaves = 0;
	bref_reset(t);
	t->rem = NULL;
	t->remp = NULL;
	if ((rc = mdb_txn_begin(stdb_env(s->db), NULL, 0, &t->txn)) != 0)
		return stdb_mdb_err(rc, err, "store: cannot begin transaction");
	return 0;
}

/* Undo the open transaction's digest changes in memory. */
static void
txn_rollback(struct store *s)
{
	struct store_txn *t = &s->txn;

	if (t->txn != NULL)
		mdb_txn_abort(t->txn);
	t->txn = NULL;
	if (!t->any_dirty)
		return;
	for (int c = COLL_MIN; c <= COLL_MAX; c++)
		for (int b = 0; b < NBUCKETS; b++)
			if (t->dirty[c][b / 8] & (1u << (b % 8)))
				memcpy(s->tsums[c][b], s->sums[c][b], 32);
}

static int
write_meta(struct store *s, struct store_txn *t)
{
	uint8_t counts[8 * COLL_COUNT];
	uint8_t k[2];
	int rc;

	for (int c = COLL_MIN; c <= COLL_MAX; c++)
		stdb_put_u64(counts + 8 * (c - COLL_MIN), t->count[c]);
	/* "brefseq": the counts in bref match this seq's proofs (a commit
	 * by a build that does not count them would leave it behind) */
	if ((rc = meta_put_u64(t->txn, s, "seq", t->seq)) != 0 ||
	    (rc = meta_put_u64(t->txn, s, "brefseq", t->seq)) != 0 ||
	    (rc = meta_put_u64(t->txn, s, "hlc", s->hlc.last)) != 0 ||
	    (rc = meta_put_u64(t->txn, s, "nconflicts", t->nconflicts)) ||
	    (rc = meta_put(t->txn, s, "count", counts, sizeof(counts))) != 0)
		return rc;
	for (int c = COLL_MIN; c <= COLL_MAX && t->any_dirty; c++) {
		for (int b = 0; b < NBUCKETS; b++) {
			if (!(t->dirty[c][b / 8] & (1u << (b % 8))))
				continue;
			k[0] = (uint8_t)c;
			k[1] = (uint8_t)b;
			MDB_val key = {2, k}, val = {32, s->tsums[c][b]};
			rc = mdb_put(t->txn, stdb_dbi(s->db, STDB_DIGEST), &key,
			    &val, 0);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static void bucket_update(struct store_txn *t, uint8_t coll, const uint8_t *id,
    const uint8_t *state, size_t len, bool add);

/* One record of the rebuild: add it to the counts and digests. */
static void
rebuild_one(struct store_txn *t, const struct stdb_iter *it)
{
	struct store *s = t->s;
	const uint8_t *state;
	size_t klen, len;
	uint64_t seq;
	const uint8_t *key = stdb_iter_key(it, &klen);

	if (klen != STDB_KEY_LEN || key[0] < COLL_MIN || key[0] > COLL_MAX ||
	    stdb_iter_record(it, &state, &len, &seq) != 0 ||
	    rec_decode(s->ws[3], state, len, REC_TRUSTED, NULL) != 0)
		return; /* still corrupt: counted nowhere, found by verify */
	t->nconflicts += rec_conflicts(s->ws[3]);
	if (!rec_is_live(s->ws[3]))
		return;
	t->count[key[0]]++;
	bucket_update(t, key[0], key + 1, state, len, true);
}

/* Drop feed entries that no longer match their record's seq. */
static int
rebuild_feed(struct store_txn *t)
{
	struct stdb_iter it;
	const uint8_t *state, *rk;
	size_t klen, vlen, len;
	uint64_t seq;
	int rc;

	stdb_iter_open(&it, t->txn, t->s->db, STDB_FEED);
	stdb_iter_foreach(&it, NULL, 0)
	{
		stdb_iter_key(&it, &klen);
		rk = stdb_iter_val(&it, &vlen);
		if (klen == STDB_SEQ_LEN && vlen >= STDB_KEY_LEN &&
		    stdb_get_record(t->txn, t->s->db, rk[0], rk + 1, &state,
		        &len, &seq) == 0 &&
		    seq == stdb_iter_seq(&it))
			continue;
		stdb_iter_del(&it); /* next: the entry after it */
	}
	rc = stdb_iter_err(&it);
	stdb_iter_close(&it);
	return rc;
}

/*
 * After a corrupt record was replaced: recount live records and
 * conflicts, recompute every digest bucket, and clean the feed. O(N), for
 * a rare event.
 */
static int
rebuild_stats(struct store_txn *t)
{
	struct stdb_iter it;
	int rc;

	memset(t->count, 0, sizeof(t->count));
	t->nconflicts = 0;
	memset(t->s->tsums, 0, sizeof(t->s->tsums));
	memset(t->dirty, 0xff, sizeof(t->dirty));
	t->any_dirty = true;
	stdb_iter_open(&it, t->txn, t->s->db, STDB_RECORDS);
	stdb_iter_foreach(&it, NULL, 0) rebuild_one(t, &it);
	rc = stdb_iter_err(&it);
	stdb_iter_close(&it);
	if (rc != 0)
		return rc;
	return rebuild_feed(t);
}

static int batch_flush(struct store_txn *t);
static int bref_flush(struct store_txn *t);
static void bref_reset(struct store_txn *t);

static int
txn_commit(struct store *s, struct jalin_err *err)
{
	struct store_txn *t = &s->txn;
	int rc;

	if (t->rebuild && (rc = rebuild_stats(t)) != 0)
		txn_fail_code(t, rc); /* stdb_iter's: mapped already */
	else if ((rc = batch_flush(t)) != 0 || (rc = bref_flush(t)) != 0)
		; /* failed the transaction already */
	else if ((rc = write_meta(s, t)) != 0)
		txn_fail(t, rc);
	if (rc != 0) {
		txn_rollback(s);
		return t->err;
	}
	rc = mdb_txn_commit(t->txn);
	t->txn = NULL;
	if (rc != 0) {
		txn_rollback(s);
		if (rc == MDB_MAP_FULL)
			return JALIN_ESPACE;
		return stdb_mdb_err(rc, err, "store: commit failed");
	}
	s->seq = t->seq;
	memcpy(s->count, t->count, sizeof(s->count));
	s->nconflicts = t->nconflicts;
	for (int c = COLL_MIN; c <= COLL_MAX && t->any_dirty; c++)
		for (int b = 0; b < NBUCKETS; b++)
			if (t->dirty[c][b / 8] & (1u << (b % 8)))
				memcpy(s->sums[c][b], s->tsums[c][b], 32);
	return 0;
}

/* Double the map, up to the cap. JALIN_ESPACE once the cap is reached. */
static int
grow_map(struct store *s, struct jalin_err *err)
{
	uint64_t cur = store_map_size(s), next;
	int rc;

	if (cur >= s->map_max)
		return jalin_err_set(err, JALIN_ESPACE,
		    "store is full: map_size_max of %llu bytes reached; "
		    "raise map_size_max in [node] or free disk space",
		    (unsigned long long)s->map_max);
	next = cur * 2 > s->map_max ? s->map_max : cur * 2;
	if ((rc = mdb_env_set_mapsize(stdb_env(s->db), (size_t)next)) != 0)
		return stdb_mdb_err(rc, err, "store: cannot grow the map");
	return 0;
}

int
store_write(struct store *s, store_fn fn, void *arg, struct jalin_err *err)
{
	int rc;

	for (;;) {
		if ((rc = txn_begin(s, err)) != 0)
			return rc;
		rc = fn(&s->txn, arg);
		if (s->txn.err != 0)
			rc = s->txn.err;
		/* A task must return JALIN_E* codes; one that let an LMDB
		 * code (or an errno) through still fails cleanly, named. */
		if (rc > 0 || rc < JALIN_ERR_MIN)
			rc = stdb_errcode(rc);
		if (rc == 0)
			rc = txn_commit(s, err); /* rolls back on failure */
		else
			txn_rollback(s);
		if (rc != JALIN_ESPACE)
			break;
		if ((rc = grow_map(s, err)) != 0)
			return rc;
	}
	if (rc == JALIN_EIO || rc == JALIN_ENOMEM)
		jalin_err_set(
		    err, rc, "store: write failed (%s)", jalin_strerror(rc));
	return rc;
}

int
store_txn_get(struct store_txn *t, uint8_t coll, const uint8_t id[UUID_LEN],
    struct store_cur *cur)
{
	int rc;

	cur->coll = coll;
	memcpy(cur->id, id, UUID_LEN);
	cur->exists = false;
	cur->corrupt = false;
	cur->seq = 0;
	cur->raw = NULL;
	cur->rawlen = 0;
	cur->proof = NULL;
	cur->prooflen = 0;
	if (t->err != 0)
		return t->err;
	rc = stdb_get_record_parts(t->txn, t->s->db, coll, id, &cur->seq,
	    &cur->proof, &cur->prooflen, &cur->raw, &cur->rawlen);
	if (rc == JALIN_ENOTFOUND)
		return 0;
	if (rc == JALIN_ECORRUPT) {
		cur->corrupt = true;
		cur->raw = NULL;
		cur->rawlen = 0;
		cur->seq = 0; /* not to be trusted either */
		return 0;
	}
	if (rc != 0)
		return txn_fail(t, EIO);
	cur->exists = true;
	return 0;
}

static void
bucket_update(struct store_txn *t, uint8_t coll, const uint8_t *id,
    const uint8_t *state, size_t len, bool add)
{
	struct store *s = t->s;
	uint8_t h[32], b = id[UUID_LEN - 1];

	if (stdb_record_hash(s->mdctx, s->sha, coll, id, state, len, h) != 0) {
		txn_fail(t, ENOMEM);
		return;
	}
	if (add)
		stdb_sum_add(s->tsums[coll][b], h);
	else
		stdb_sum_sub(s->tsums[coll][b], h);
	t->dirty[coll][b / 8] |= (uint8_t)(1u << (b % 8));
	t->any_dirty = true;
}

static int
feed_move(struct store_txn *t, struct store_cur *cur, const uint8_t *key,
    uint64_t seq)
{
	MDB_dbi feed = stdb_dbi(t->s->db, STDB_FEED);
	uint8_t sk[8], fv[STDB_KEY_LEN + JALIN_NAME_MAX];
	MDB_val k = {8, sk}, v = {STDB_KEY_LEN + t->srclen, fv};
	int rc;

	memcpy(fv, key, STDB_KEY_LEN);
	if (t->srclen > 0)
		memcpy(fv + STDB_KEY_LEN, t->src, t->srclen);
	if (cur->exists) {
		stdb_put_u64(sk, cur->seq);
		rc = mdb_del(t->txn, feed, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	stdb_put_u64(sk, seq);
	return mdb_put(t->txn, feed, &k, &v, MDB_APPEND);
}

static int
conflicts_update(
    struct store_txn *t, const uint8_t *key, unsigned oldc, unsigned newc)
{
	MDB_dbi dbi = stdb_dbi(t->s->db, STDB_CONFLICTS);
	uint8_t cv[4];
	MDB_val k = {STDB_KEY_LEN, (void *)(uintptr_t)key}, v = {4, cv};
	int rc = 0;

	t->nconflicts = t->nconflicts + newc - oldc;
	if (newc > 0) {
		stdb_put_u32(cv, newc);
		rc = mdb_put(t->txn, dbi, &k, &v, 0);
	} else if (oldc > 0) {
		rc = mdb_del(t->txn, dbi, &k, NULL);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Put the record: seq then state, written straight into its page. New
 * ids are mostly the newest (UUIDv7): try an append first. */
static int
put_record(struct store_txn *t, const uint8_t *key, bool exists,
    const uint8_t *state, size_t len)
{
	MDB_dbi dbi = stdb_dbi(t->s->db, STDB_RECORDS);
	MDB_val k = {STDB_KEY_LEN, (void *)(uintptr_t)key};
	const struct buf *pf = &t->s->penc;
	uint8_t hdr[STDB_VAL_HDR_MAX];
	size_t hl = stdb_val_header(hdr, t->seq, pf->p, pf->len, state, len);
	MDB_val v = {hl + pf->len + len, NULL};
	int rc = MDB_KEYEXIST;

	if (!exists)
		rc = mdb_put(t->txn, dbi, &k, &v, MDB_RESERVE | MDB_APPEND);
	if (rc == MDB_KEYEXIST) {
		v.mv_size = hl + pf->len + len;
		rc = mdb_put(t->txn, dbi, &k, &v, MDB_RESERVE);
	}
	if (rc != 0)
		return rc;
	memcpy(v.mv_data, hdr, hl);
	if (pf->len > 0)
		memcpy((uint8_t *)v.mv_data + hl, pf->p, pf->len);
	memcpy((uint8_t *)v.mv_data + hl + pf->len, state, len);
	return 0;
}

/*
 * Counts, digests, conflicts and the feed cannot be adjusted for a state
 * we cannot read: drop its conflicts entry and recompute the rest before
 * commit. 0 or an LMDB error.
 */
static int
forget_corrupt(struct store_txn *t, const uint8_t *key)
{
	MDB_val ck = {STDB_KEY_LEN, (void *)(uintptr_t)key};
	int rc;

	t->rebuild = true;
	rc = mdb_del(t->txn, stdb_dbi(t->s->db, STDB_CONFLICTS), &ck, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- origin signatures (PROTOCOL.md §13) ---------------------------- */

/* Sign the batch being filled and store it; the next one starts. */
static int
batch_flush(struct store_txn *t)
{
	struct store *s = t->s;
	uint8_t k[STDB_BATCH_KEY_MAX], d[SIG_DIGEST_LEN], sig[SIG_MAX_LEN];
	size_t olen = strlen(s->node), slen, vlen;
	MDB_val key = {0, k}, val;
	int rc;

	if (t->nleaves == 0 || t->err != 0)
		return t->err;
	if (sig_batch_digest(s->sx, s->node, olen, t->bno, s->kid,
	        &t->leaves[0][0], t->nleaves, d) != 0 ||
	    sig_sign(s->key, d, sig, &slen, NULL) != 0)
		return txn_fail_code(t, JALIN_ENOMEM);
	key.mv_size = stdb_batch_key(k, s->node, olen, t->bno);
	vlen = SIG_KID_LEN + 1 + slen + (size_t)t->nleaves * SIG_LEAF_LEN;
	val = (MDB_val){vlen, NULL};
	/* our batches come in order; another origin's may sort after them */
	rc = mdb_put(t->txn, stdb_dbi(s->db, STDB_BATCH), &key, &val,
	    MDB_RESERVE | MDB_APPEND);
	if (rc == MDB_KEYEXIST)
		rc = mdb_put(t->txn, stdb_dbi(s->db, STDB_BATCH), &key, &val,
		    MDB_RESERVE);
	if (rc != 0)
		return txn_fail(t, rc);
	uint8_t *p = val.mv_data;
	memcpy(p, s->kid, SIG_KID_LEN);
	p[SIG_KID_LEN] = (uint8_t)slen;
	memcpy(p + SIG_KID_LEN + 1, sig, slen);
	memcpy(p + SIG_KID_LEN + 1 + slen, t->leaves,
	    (size_t)t->nleaves * SIG_LEAF_LEN);
	t->nleaves = 0;
	return 0;
}

/*
 * Batch reference counts (storedb.h, bref). Every dot and witness of a
 * stored proof counts one reference to its batch; a write changes the
 * counts of the proofs it replaces and stores in memory (bref_add), and
 * the commit writes them (bref_flush), deleting each batch whose count
 * reaches 0 in the same transaction: a kill -9 leaves the counts and the
 * proofs as the last commit wrote both. Counts only ever err high (a
 * corrupt record's proof cannot be read to uncount it): a batch may stay
 * too long, never go too early.
 */
#define BREF_MIN  64   /* slots of the first table */
#define BREF_KEEP 4096 /* a larger table is freed after its transaction */

static void
bref_reset(struct store_txn *t)
{
	if (t->bref_cap > BREF_KEEP) {
		free(t->bref);
		t->bref = NULL;
		t->bref_cap = 0;
	} else if (t->bref_n > 0) {
		memset(t->bref, 0, t->bref_cap * sizeof(*t->bref));
	}
	t->bref_n = 0;
}

static size_t
bref_slot(
    const struct bref_slot *tab, size_t cap, const uint8_t *k, size_t klen)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (size_t j = 0; j < klen; j++)
		h = (h ^ k[j]) * 1099511628211ull;
	for (i = (size_t)(h % cap); tab[i].klen != 0; i = (i + 1) % cap)
		if (tab[i].klen == klen && memcmp(tab[i].key, k, klen) == 0)
			break;
	return i;
}

/* Twice the slots, every entry moved over. 0 or JALIN_ENOMEM. */
static int
bref_grow(struct store_txn *t)
{
	size_t cap = t->bref_cap ? t->bref_cap * 2 : BREF_MIN;
	struct bref_slot *tab = calloc(cap, sizeof(*tab));

	if (tab == NULL)
		return JALIN_ENOMEM;
	for (size_t i = 0; i < t->bref_cap; i++)
		if (t->bref[i].klen != 0)
			tab[bref_slot(tab, cap, t->bref[i].key,
			    t->bref[i].klen)] = t->bref[i];
	free(t->bref);
	t->bref = tab;
	t->bref_cap = cap;
	return 0;
}

/* Count d more references to batch key k (d 0: only look at it at
 * commit). 0 or the transaction's error. */
static int
bref_add_key(struct store_txn *t, const uint8_t *k, size_t klen, int32_t d)
{
	size_t i;

	if (t->err != 0)
		return t->err;
	if (2 * (t->bref_n + 1) > t->bref_cap && bref_grow(t) != 0)
		return txn_fail_code(t, JALIN_ENOMEM);
	i = bref_slot(t->bref, t->bref_cap, k, klen);
	if (t->bref[i].klen == 0) {
		t->bref[i].klen = (uint8_t)klen;
		memcpy(t->bref[i].key, k, klen);
		t->bref_n++;
	}
	t->bref[i].d += d;
	return 0;
}

static int
bref_add(
    struct store_txn *t, const struct rec_origin *o, uint64_t bno, int32_t d)
{
	uint8_t k[STDB_BATCH_KEY_MAX];

	return bref_add_key(t, k, stdb_batch_key(k, o->name, o->len, bno), d);
}

/* The references of proof p of r, counted d times each. */
static int
bref_proof(struct store_txn *t, const struct record *r, const struct proof *p,
    int32_t d)
{
	int rc = 0;

	for (uint16_t i = 0; i < p->ndots && rc == 0; i++)
		if (p->dot[i].is_signed)
			rc = bref_add(
			    t, &r->origin[r->dot[i].origin], p->dot[i].bno, d);
	for (uint16_t i = 0; i < p->nwit && rc == 0; i++)
		rc = bref_add(t, &r->origin[p->wit[i].oidx], p->wit[i].bno, d);
	return rc;
}

/* The same for a stored proof[0..plen) of r (a proof that does not decode
 * counted nothing: it is read as unsigned everywhere). */
static int
bref_stored(struct store_txn *t, const struct record *r, const uint8_t *proof,
    size_t plen, int32_t d)
{
	if (plen == 0 || proof_decode(t->s->pold, r, proof, plen, NULL) != 0)
		return 0;
	return bref_proof(t, r, t->s->pold, d);
}

/* Note that batch k's origin signs: [len][origin] in bref, once. */
static int
bref_mark(struct store_txn *t, const uint8_t *k)
{
	MDB_dbi dbi = stdb_dbi(t->s->db, STDB_BREF);
	MDB_val key = {1 + (size_t)k[0], (void *)(uintptr_t)k}, v = {0, NULL};
	int rc = mdb_get(t->txn, dbi, &key, &v);

	if (rc == MDB_NOTFOUND)
		rc = mdb_put(t->txn, dbi, &key, &v, 0);
	return rc;
}

/* One batch's count: written, or 0 reached and the batch deleted. */
static int
bref_write(struct store_txn *t, const struct bref_slot *b)
{
	MDB_dbi dbi = stdb_dbi(t->s->db, STDB_BREF);
	MDB_val key = {b->klen, (void *)(uintptr_t)b->key}, v;
	uint8_t c[4];
	int64_t n = 0;
	int rc = mdb_get(t->txn, dbi, &key, &v);

	if (rc == 0 && v.mv_size == 4)
		n = stdb_get_u32(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	n += b->d;
	if (n <= 0) {
		rc = mdb_del(t->txn, dbi, &key, NULL);
		if (rc == 0 || rc == MDB_NOTFOUND)
			rc = mdb_del(
			    t->txn, stdb_dbi(t->s->db, STDB_BATCH), &key, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	if (b->d == 0 && rc == 0)
		return 0;
	stdb_put_u32(c, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
	v = (MDB_val){4, c};
	if ((rc = mdb_put(t->txn, dbi, &key, &v, 0)) != 0)
		return rc;
	return bref_mark(t, b->key);
}

static int
bref_flush(struct store_txn *t)
{
	int rc;

	if (t->err != 0)
		return t->err;
	for (size_t i = 0; i < t->bref_cap; i++)
		if (t->bref[i].klen != 0 &&
		    (rc = bref_write(t, &t->bref[i])) != 0)
			return txn_fail(t, rc);
	bref_reset(t);
	return 0;
}

int
store_txn_batch_refs(
    struct store_txn *t, const uint8_t *k, size_t klen, uint32_t *n)
{
	const uint8_t *v;
	size_t vlen;
	int64_t c = 0;
	int rc;

	*n = 0;
	if (t->err != 0)
		return t->err;
	rc = stdb_get(t->txn, t->s->db, STDB_BREF, k, klen, &v, &vlen);
	if (rc == 0 && vlen == 4)
		c = stdb_get_u32(v);
	else if (rc != 0 && rc != JALIN_ENOTFOUND)
		return txn_fail_code(t, rc);
	if (t->bref_cap > 0) {
		size_t i = bref_slot(t->bref, t->bref_cap, k, klen);
		c += t->bref[i].klen != 0 ? t->bref[i].d : 0;
	}
	*n = c > 0 ? (uint32_t)c : 0;
	return 0;
}

int
store_txn_put_batch(struct store_txn *t, const uint8_t *k, size_t klen,
    const void *val, size_t vlen)
{
	int rc;

	if ((rc = store_txn_put(t, STDB_BATCH, k, klen, val, vlen)) != 0)
		return rc;
	return bref_add_key(t, k, klen, 0); /* kept only while referred to */
}

static bool
has_event(const struct record *r, const struct rec_origin *o, uint64_t hlc)
{
	return r != NULL && rec_dot_find(r, o->name, o->len, hlc) >= 0;
}

/* A write event of this node in next, new to the store: its leaf joins the
 * batch being filled; *f says where. */
static int
sign_event(struct store_txn *t, const struct store_cur *cur,
    const struct record *next, uint16_t d, struct proof_new *f)
{
	struct store *s = t->s;
	int rc;

	if (t->nleaves == JALIN_SIG_BATCH_MAX && (rc = batch_flush(t)) != 0)
		return rc;
	/* A batch is named by the HLC of its first event: unique, as this
	 * node never issues one HLC twice, even after a restore from backup
	 * (a counter would start again from the backup's value). */
	if (t->nleaves == 0)
		t->bno = next->dot[d].hlc;
	if (sig_leaf(s->sx, cur->coll, cur->id, next, d, NULL, 0,
	        t->leaves[t->nleaves], NULL) != 0)
		return txn_fail_code(t, JALIN_ENOMEM);
	*f = (struct proof_new){s->node, (uint8_t)strlen(s->node), t->nleaves++,
	    next->dot[d].hlc, t->bno};
	return 0;
}

#define FRESH_MAX 4 /* new events of this node in one state: one a write */

/*
 * The proof of next into s->penc: joined from the stored proof, the peer's
 * state being applied, and this node's new events, signed (PROTOCOL.md
 * §13). A stored proof that does not decode counts as unsigned.
 */
static int
txn_proof(struct store_txn *t, const struct store_cur *cur,
    const struct record *old, const struct record *next)
{
	struct store *s = t->s;
	struct proof_src src[2];
	struct proof_new fresh[FRESH_MAX];
	size_t nsrc = 0, nfresh = 0;
	int rc;

	buf_reset(&s->penc);
	/* The peer's state stored as it is (nothing held before): its proof
	 * as it came, checked by trust_decode; no join, no new events. */
	if (!(cur->exists && !cur->corrupt) && next == t->rem)
		return t->remp == NULL ? 0
		    : buf_append(&s->penc, t->remraw, t->remrawlen) != 0
		    ? txn_fail_code(t, JALIN_ENOMEM)
		    : bref_proof(t, next, t->remp, 1);
	if (cur->exists && !cur->corrupt) {
		if (proof_decode(
		        s->pold, old, cur->proof, cur->prooflen, NULL) != 0)
			proof_init(s->pold, old);
		src[nsrc++] = (struct proof_src){old, s->pold};
	}
	if (t->rem != NULL)
		src[nsrc++] = (struct proof_src){t->rem, t->remp};
	for (uint16_t d = 0; s->key != NULL && d < next->ndots; d++) {
		const struct rec_origin *o = &next->origin[next->dot[d].origin];
		if (nfresh == FRESH_MAX || o->len != strlen(s->node) ||
		    memcmp(o->name, s->node, o->len) != 0 ||
		    has_event(
		        nsrc > 0 ? src[0].r : NULL, o, next->dot[d].hlc) ||
		    has_event(t->rem, o, next->dot[d].hlc))
			continue;
		if ((rc = sign_event(t, cur, next, d, &fresh[nfresh++])) != 0)
			return rc;
	}
	if ((rc = proof_join(s->sx, next, src, nsrc, fresh, nfresh, s->pout,
	         &s->ptmp)) != 0 ||
	    (rc = proof_encode(s->pout, next, &s->penc)) != 0)
		return rc == JALIN_ETOOBIG ? rc : txn_fail_code(t, rc);
	/* the stored proof is replaced: its batches lose a reference, the
	 * new one's gain one (counted only now: a refused write counts
	 * nothing) */
	if (nsrc > 0 && src[0].r == old &&
	    (rc = bref_proof(t, old, s->pold, -1)) != 0)
		return rc;
	return bref_proof(t, next, s->pout, 1);
}

/* Store next, whose canonical encoding is state[0..len). */
static int
set_encoded(struct store_txn *t, struct store_cur *cur,
    const struct record *old, const struct record *next, const uint8_t *state,
    size_t len)
{
	uint8_t key[STDB_KEY_LEN];
	bool old_live = cur->exists && !cur->corrupt && rec_is_live(old);
	bool new_live = rec_is_live(next);
	unsigned oldc = cur->exists && !cur->corrupt ? rec_conflicts(old) : 0;
	int rc;

	/* before any write: the old proof may point into the map */
	if ((rc = txn_proof(t, cur, old, next)) != 0)
		return rc;
	stdb_key(key, cur->coll, cur->id);
	if (cur->corrupt) {
		cur->exists = false;
		if ((rc = forget_corrupt(t, key)) != 0)
			return txn_fail(t, rc);
	}
	/* Hash the old bytes before any write can move them. */
	if (old_live)
		bucket_update(
		    t, cur->coll, cur->id, cur->raw, cur->rawlen, false);
	if (new_live)
		bucket_update(t, cur->coll, cur->id, state, len, true);
	stdb_key(key, cur->coll, cur->id);
	++t->seq;
	if ((rc = feed_move(t, cur, key, t->seq)) != 0 ||
	    (rc = put_record(t, key, cur->exists, state, len)) != 0 ||
	    (rc = conflicts_update(t, key, oldc, rec_conflicts(next))) != 0)
		return txn_fail(t, rc);
	t->count[cur->coll] = t->count[cur->coll] + new_live - old_live;
	cur->exists = true;
	cur->seq = t->seq;
	cur->raw = NULL;
	cur->rawlen = 0;
	t->src = NULL;
	t->srclen = 0;
	return t->err;
}

int
store_txn_set(struct store_txn *t, struct store_cur *cur,
    const struct record *old, const struct record *next)
{
	struct store *s = t->s;
	int rc;

	if (t->err != 0)
		return t->err;
	buf_reset(&s->enc);
	if ((rc = rec_encode(next, &s->enc)) != 0)
		return rc == JALIN_ETOOBIG ? rc : txn_fail(t, ENOMEM);
	return set_encoded(t, cur, old, next, s->enc.p, s->enc.len);
}

static void
txn_source(struct store_txn *t, const char *from)
{
	size_t n = from ? strlen(from) : 0;

	t->src = n > 0 && n <= JALIN_NAME_MAX ? from : NULL;
	t->srclen = t->src ? n : 0;
}

/* The collected tombstone of coll/id, decoded into r (into the map). */
static bool
dig_up(struct store_txn *t, uint8_t coll, const uint8_t *id, struct record *r)
{
	const uint8_t *state;
	size_t len;

	if (stdb_get_gone(t->txn, t->s->db, coll, id, &state, &len) != 0 ||
	    rec_decode(r, state, len, REC_TRUSTED, NULL) != 0) {
		rec_init(r);
		return false;
	}
	return true;
}

static int
gone_del(struct store_txn *t, uint8_t coll, const uint8_t *id)
{
	uint8_t key[STDB_KEY_LEN];
	MDB_val k = {STDB_KEY_LEN, key};
	int rc;

	stdb_key(key, coll, id);
	rc = mdb_del(t->txn, stdb_dbi(t->s->db, STDB_GONE), &k, NULL);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : txn_fail(t, rc);
}

int
store_txn_apply(struct store_txn *t, uint8_t coll, const uint8_t id[UUID_LEN],
    const void *state, size_t len, bool *changed, struct jalin_err *err)
{
	struct record *rem = t->s->ws[0];
	int rc;

	*changed = false;
	if ((rc = rec_decode(rem, state, len, 0, err)) != 0)
		return rc;
	return store_txn_apply_decoded(
	    t, coll, id, state, len, rem, NULL, NULL, changed, err);
}

int
store_txn_apply_decoded(struct store_txn *t, uint8_t coll,
    const uint8_t id[UUID_LEN], const void *raw, size_t rawlen,
    const struct record *rem, const char *from, const struct store_check *check,
    bool *changed, struct jalin_err *err)
{
	struct store *s = t->s;
	struct record *old = s->ws[1], *out = s->ws[2];
	const struct proof *rp = t->remp; /* for this call only */
	struct store_cur cur;
	int rc;

	t->remp = NULL;
	*changed = false;
	if ((rc = store_txn_get(t, coll, id, &cur)) != 0)
		return rc;
	/* Already exactly what we hold: the common case of a relayed copy. */
	if (cur.exists && cur.rawlen == rawlen &&
	    memcmp(cur.raw, raw, rawlen) == 0)
		return 0;
	bool buried = false;
	if (!cur.exists || cur.corrupt) {
		rec_init(old); /* a corrupt copy is replaced by the peer's */
		buried = !cur.exists && dig_up(t, coll, id, old);
	} else if (rec_decode(old, cur.raw, cur.rawlen, REC_TRUSTED, NULL) !=
	    0) {
		return jalin_err_set(err, JALIN_ECORRUPT,
		    "store: stored record does not decode");
	}
	if (t->err != 0)
		return t->err;
	/* rem decoded untrusted: raw is its canonical encoding as it is */
	if (rec_is_empty(old)) {
		if (check != NULL &&
		    (rc = check->fn(check->arg, coll, old, rem, rem, err)) != 0)
			return rc;
		store_txn_observe(t, rec_max_hlc(rem));
		*changed = true;
		txn_source(t, from);
		t->rem = rem; /* a source of the stored proof (txn_proof) */
		t->remp = rp;
		rc = set_encoded(t, &cur, old, rem, raw, rawlen);
		t->rem = NULL;
		t->remp = NULL;
		return rc;
	}
	if ((rc = merge_join(old, rem, out, changed)) != 0)
		return jalin_err_set(err, rc, "merge: %s", jalin_strerror(rc));
	if (!*changed)
		return 0; /* e.g. an old copy of a collected tombstone's record
		           */
	/* judged before anything is written: a refusal changes nothing */
	if (check != NULL &&
	    (rc = check->fn(check->arg, coll, old, out, rem, err)) != 0) {
		*changed = false;
		return rc;
	}
	store_txn_observe(t, rec_max_hlc(rem));
	/* the sender holds exactly this state: no need to send it back */
	t->rem = rem;
	t->remp = rp;
	if (merge_equal(out, rem)) {
		txn_source(t, from);
		rc = set_encoded(t, &cur, old, rem, raw, rawlen);
	} else {
		rc = store_txn_set(t, &cur, old, out);
	}
	t->rem = NULL;
	t->remp = NULL;
	/* newer than the collected tombstone: a record again (old is not
	 * used any more, so the marker may go) */
	if (rc == 0 && buried)
		rc = gone_del(t, coll, id);
	return rc;
}

/* Delete a record entry and its feed entry outright. */
static int
store_txn_drop(struct store_txn *t, struct store_cur *cur)
{
	uint8_t key[STDB_KEY_LEN], sk[8];
	MDB_val k = {STDB_KEY_LEN, key}, fk = {8, sk};
	int rc;

	if (t->err != 0)
		return t->err;
	if (!cur->exists)
		return 0;
	stdb_key(key, cur->coll, cur->id);
	stdb_put_u64(sk, cur->seq);
	rc = mdb_del(t->txn, stdb_dbi(t->s->db, STDB_FEED), &fk, NULL);
	if (rc == 0 || rc == MDB_NOTFOUND)
		rc =
		    mdb_del(t->txn, stdb_dbi(t->s->db, STDB_RECORDS), &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return txn_fail(t, rc);
	cur->exists = false;
	return 0;
}

/*
 * Write the records value copied to s->enc to gone as key's, without its
 * proof: a collected tombstone is never sent, so its batches lose the
 * references it held (a value that does not split goes as it is).
 */
static int
bury_value(struct store_txn *t, const uint8_t *key)
{
	struct store *s = t->s;
	MDB_val k = {STDB_KEY_LEN, (void *)(uintptr_t)key}, v;
	const uint8_t *proof, *state;
	uint8_t hdr[STDB_VAL_HDR_MAX];
	size_t plen, len, hl;
	uint64_t seq;
	int rc;

	if (stdb_value_parts(
	        s->enc.p, s->enc.len, &seq, &proof, &plen, &state, &len) != 0 ||
	    rec_decode(s->ws[3], state, len, REC_TRUSTED, NULL) != 0) {
		v = (MDB_val){s->enc.len, s->enc.p};
		rc = mdb_put(t->txn, stdb_dbi(s->db, STDB_GONE), &k, &v, 0);
		return rc != 0 ? txn_fail(t, rc) : 0;
	}
	if ((rc = bref_stored(t, s->ws[3], proof, plen, -1)) != 0)
		return rc;
	hl = stdb_val_header(hdr, seq, NULL, 0, state, len);
	v = (MDB_val){hl + len, NULL};
	if ((rc = mdb_put(
	         t->txn, stdb_dbi(s->db, STDB_GONE), &k, &v, MDB_RESERVE)) != 0)
		return txn_fail(t, rc);
	memcpy(v.mv_data, hdr, hl);
	memcpy((uint8_t *)v.mv_data + hl, state, len);
	return 0;
}

int
store_txn_bury(struct store_txn *t, struct store_cur *cur)
{
	uint8_t key[STDB_KEY_LEN];
	MDB_val k = {STDB_KEY_LEN, key}, v;
	struct buf *b = &t->s->enc;
	int rc;

	if (t->err != 0)
		return t->err;
	if (!cur->exists)
		return 0;
	stdb_key(key, cur->coll, cur->id);
	rc = mdb_get(t->txn, stdb_dbi(t->s->db, STDB_RECORDS), &k, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : txn_fail(t, rc);
	/* copied out first: the put may move the page it lies in */
	buf_reset(b);
	if (buf_append(b, v.mv_data, v.mv_size) != 0)
		return txn_fail(t, ENOMEM);
	if ((rc = bury_value(t, k.mv_data)) != 0)
		return rc;
	return store_txn_drop(t, cur);
}

int
store_txn_erase(struct store_txn *t, struct store_cur *cur,
    const struct record *old, bool *erased)
{
	uint8_t key[STDB_KEY_LEN];
	int rc;

	*erased = false;
	if (t->err != 0)
		return t->err;
	if (!cur->exists || (!cur->corrupt && !rec_is_live(old)))
		return 0; /* tombstones and purge markers stay */
	stdb_key(key, cur->coll, cur->id);
	/* before any write: the proof lies in the map */
	if (!cur->corrupt &&
	    (rc = bref_stored(t, old, cur->proof, cur->prooflen, -1)) != 0)
		return rc;
	if (cur->corrupt) {
		rc = forget_corrupt(t, key);
	} else {
		bucket_update(
		    t, cur->coll, cur->id, cur->raw, cur->rawlen, false);
		rc = conflicts_update(t, key, rec_conflicts(old), 0);
		t->count[cur->coll]--;
	}
	if (rc != 0)
		return txn_fail(t, rc);
	if ((rc = store_txn_drop(t, cur)) == 0)
		*erased = true;
	return rc;
}

uint64_t
store_txn_hlc(struct store_txn *t)
{
	return hlc_now(&t->s->hlc, hlc_wall_ms());
}

void
store_txn_observe(struct store_txn *t, uint64_t hlc)
{
	if (hlc > t->s->hlc.last)
		t->s->hlc.last = hlc;
}

int
store_txn_put(struct store_txn *t, enum stdb_db db, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	MDB_val k = {klen, (void *)(uintptr_t)key};
	MDB_val v = {vlen, (void *)(uintptr_t)val};
	int rc;

	if (t->err != 0)
		return t->err;
	if ((rc = mdb_put(t->txn, stdb_dbi(t->s->db, db), &k, &v, 0)) != 0)
		return txn_fail(t, rc);
	return 0;
}

int
store_txn_del(
    struct store_txn *t, enum stdb_db db, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)(uintptr_t)key};
	int rc;

	if (t->err != 0)
		return t->err;
	rc = mdb_del(t->txn, stdb_dbi(t->s->db, db), &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return txn_fail(t, rc);
	return 0;
}

struct store *
store_txn_store(struct store_txn *t)
{
	return t->s;
}

void
store_txn_rem_proof(
    struct store_txn *t, const struct proof *p, const uint8_t *raw, size_t len)
{
	t->remp = p;
	t->remraw = raw;
	t->remrawlen = len;
}

MDB_txn *
store_txn_mdb(struct store_txn *t)
{
	return t->txn;
}
