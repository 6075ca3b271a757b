/*
 * storedb.c - open the store's LMDB environment and read it.
 *
 * Shared by jalind (which adds the writes, node/store.c) and jalinctl --db
 * (read-only). LMDB return codes become JALIN_E* here and nowhere else on
 * the read side.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crc32c.h"
#include "storedb.h"

struct stdb {
	MDB_env *env;
	MDB_dbi dbi[STDB_NDB];
	bool has[STDB_NDB];
	unsigned format;
	char dir[JALIN_PATH_MAX];
};

static const char *const db_names[STDB_NDB] = {"records", "feed", "conflicts",
    "digest", "ckpt", "meta", "gone", "audit", "batch", "certs", "enccerts",
    "bref"};

int
stdb_errcode(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_MAP_FULL:
		return JALIN_ESPACE;
	case MDB_NOTFOUND:
		return JALIN_ENOTFOUND;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return JALIN_ECORRUPT;
	case ENOMEM:
		return JALIN_ENOMEM;
	}
	return JALIN_EIO;
}

int
stdb_mdb_err(int rc, struct jalin_err *err, const char *what)
{
	return jalin_err_set(
	    err, stdb_errcode(rc), "%s (%s)", what, mdb_strerror(rc));
}

static int
open_dbis(struct stdb *db, unsigned flags, struct jalin_err *err)
{
	MDB_txn *txn;
	char what[JALIN_PATH_MAX + 64];
	int rc;

	rc = mdb_txn_begin(
	    db->env, NULL, (flags & STDB_RDONLY) ? MDB_RDONLY : 0, &txn);
	if (rc != 0) {
		snprintf(what, sizeof(what), "cannot open store '%s'", db->dir);
		return stdb_mdb_err(rc, err, what);
	}
	for (int i = 0; i < STDB_NDB; i++) {
		rc = mdb_dbi_open(txn, db_names[i],
		    (flags & STDB_RDONLY) ? 0 : MDB_CREATE, &db->dbi[i]);
		db->has[i] = rc == 0;
		if (rc == MDB_NOTFOUND &&
		    (i == STDB_GONE || i == STDB_AUDIT || i == STDB_BATCH ||
		        i == STDB_CERTS || i == STDB_ENCCERTS ||
		        i == STDB_BREF))
			continue; /* an older store, opened read-only */
		if (rc == MDB_NOTFOUND) {
			mdb_txn_abort(txn);
			return jalin_err_set(err, JALIN_ENOTFOUND,
			    "no jalin store in '%s' (database '%s' missing)",
			    db->dir, db_names[i]);
		}
		if (rc != 0) {
			mdb_txn_abort(txn);
			snprintf(what, sizeof(what), "cannot open store '%s'",
			    db->dir);
			return stdb_mdb_err(rc, err, what);
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		snprintf(what, sizeof(what), "cannot open store '%s'", db->dir);
		return stdb_mdb_err(rc, err, what);
	}
	return 0;
}

static int
check_dir(const char *dir, unsigned flags, struct jalin_err *err)
{
	char path[JALIN_PATH_MAX + 16];
	struct stat st;

	if (stat(dir, &st) != 0) {
		if (errno == ENOENT && (flags & STDB_CREATE)) {
			if (mkdir(dir, 0700) == 0)
				return 0;
		}
		return jalin_err_set(err,
		    errno == ENOENT ? JALIN_ENOTFOUND : JALIN_EIO,
		    "cannot open store '%s' (%s)", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return jalin_err_set(err, JALIN_EIO,
		    "cannot open store '%s' (not a directory)", dir);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (!(flags & STDB_CREATE) && stat(path, &st) != 0)
		return jalin_err_set(err, JALIN_ENOTFOUND,
		    "no jalin store in '%s' (no data.mdb)", dir);
	return 0;
}

static int
env_open(
    struct stdb *db, unsigned flags, uint64_t mapsize, struct jalin_err *err)
{
	unsigned mflags = MDB_NOTLS;
	int rc;

	if ((rc = mdb_env_create(&db->env)) != 0)
		return stdb_mdb_err(rc, err, "cannot create LMDB environment");
	mdb_env_set_maxdbs(db->env, STDB_NDB + 2);
	if (flags & STDB_RDONLY)
		mflags |= MDB_RDONLY;
	else if (mapsize > 0)
		mdb_env_set_mapsize(db->env, (size_t)mapsize);
	rc = mdb_env_open(db->env, db->dir, mflags, 0600);
	if (rc != 0) {
		char what[JALIN_PATH_MAX + 32];
		snprintf(what, sizeof(what), "cannot open store '%s'", db->dir);
		return stdb_mdb_err(rc, err, what);
	}
	return 0;
}

static int
check_format(struct stdb *db, unsigned flags, struct jalin_err *err)
{
	MDB_txn *txn;
	uint64_t v;
	const void *p;
	size_t len;
	int rc;

	if ((rc = stdb_begin_read(db, &txn, err)) != 0)
		return rc;
	rc = stdb_meta_get(txn, db, "format", &p, &len);
	if (rc == JALIN_ENOTFOUND) {
		mdb_txn_abort(txn);
		db->format = STDB_FORMAT;
		return 0; /* new store: node/store.c writes the meta */
	}
	v = (rc == 0 && len == 4) ? stdb_get_u32(p) : 0;
	mdb_txn_abort(txn);
	db->format = (unsigned)v;
	if ((v == STDB_FORMAT_1 || v == STDB_FORMAT_2) && (flags & STDB_RDONLY))
		return jalin_err_set(err, JALIN_ECONFIG,
		    "store '%s' has format %u, from an older jalind; start "
		    "this version of jalind on it once to upgrade it to "
		    "format %d",
		    db->dir, (unsigned)v, STDB_FORMAT);
	if (v != STDB_FORMAT && v != STDB_FORMAT_1 && v != STDB_FORMAT_2)
		return jalin_err_set(err, JALIN_ECORRUPT,
		    "store '%s' has format %llu; this build reads %d", db->dir,
		    (unsigned long long)v, STDB_FORMAT);
	return 0;
}

int
stdb_open(const char *dir, unsigned flags, uint64_t mapsize, struct stdb **out,
    struct jalin_err *err)
{
	struct stdb *db;
	int rc;

	*out = NULL;
	if (strlen(dir) >= JALIN_PATH_MAX)
		return jalin_err_set(err, JALIN_EINVAL,
		    "store path is longer than %d bytes", JALIN_PATH_MAX - 1);
	if ((rc = check_dir(dir, flags, err)) != 0)
		return rc;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	snprintf(db->dir, sizeof(db->dir), "%s", dir);
	if ((rc = env_open(db, flags, mapsize, err)) != 0 ||
	    (rc = open_dbis(db, flags, err)) != 0 ||
	    (rc = check_format(db, flags, err)) != 0) {
		stdb_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

void
stdb_close(struct stdb *db)
{
	if (db == NULL)
		return;
	if (db->env != NULL)
		mdb_env_close(db->env);
	free(db);
}

unsigned
stdb_format(const struct stdb *db)
{
	return db->format;
}

MDB_env *
stdb_env(const struct stdb *db)
{
	return db->env;
}

MDB_dbi
stdb_dbi(const struct stdb *db, enum stdb_db which)
{
	return db->dbi[which];
}

const char *
stdb_dir(const struct stdb *db)
{
	return db->dir;
}

int
stdb_begin_read(struct stdb *db, MDB_txn **txn, struct jalin_err *err)
{
	int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, txn);

	if (rc == MDB_MAP_RESIZED) {
		/* The writer grew the map: adopt its size and retry. */
		mdb_env_set_mapsize(db->env, 0);
		rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, txn);
	}
	if (rc != 0)
		return stdb_mdb_err(rc, err, "cannot begin read transaction");
	return 0;
}

void
stdb_end_read(MDB_txn *txn)
{
	if (txn != NULL)
		mdb_txn_abort(txn);
}

/* --- iterator ----------------------------------------------------------- */

void
stdb_iter_open(struct stdb_iter *it, MDB_txn *txn, const struct stdb *db,
    enum stdb_db which)
{
	memset(it, 0, sizeof(*it));
	if (!db->has[which])
		return; /* an older store, opened read-only: nothing to walk */
	it->mdb_rc = mdb_cursor_open(txn, db->dbi[which], &it->cur);
	it->err = stdb_errcode(it->mdb_rc);
	if (it->err != 0)
		it->cur = NULL;
}

void
stdb_iter_close(struct stdb_iter *it)
{
	if (it == NULL)
		return;
	if (it->cur != NULL)
		mdb_cursor_close(it->cur);
	it->cur = NULL;
	it->valid = false;
	it->moved = false;
}

/* Take the result of a cursor move: MDB_NOTFOUND ends the walk, any
 * other failure is kept. */
static bool
iter_result(struct stdb_iter *it, int rc)
{
	it->valid = rc == 0;
	if (rc != 0 && rc != MDB_NOTFOUND && it->err == 0) {
		it->err = stdb_errcode(rc);
		it->mdb_rc = rc;
	}
	return it->valid;
}

static bool
iter_usable(struct stdb_iter *it)
{
	if (it->err == 0 && it->cur != NULL)
		return true;
	it->valid = false;
	return false;
}

/* The first entry with a key > key[0..len) (len > 0). */
static int
iter_gt(struct stdb_iter *it, const void *key, size_t len)
{
	int rc;

	it->key.mv_size = len;
	it->key.mv_data = (void *)(uintptr_t)key;
	rc = mdb_cursor_get(it->cur, &it->key, &it->val, MDB_SET_RANGE);
	if (rc == 0 && it->key.mv_size == len &&
	    memcmp(it->key.mv_data, key, len) == 0)
		rc = mdb_cursor_get(it->cur, &it->key, &it->val, MDB_NEXT);
	return rc;
}

bool
stdb_iter_find(
    struct stdb_iter *it, const void *key, size_t len, enum stdb_find how)
{
	MDB_cursor_op op = how == STDB_FIND_EQ ? MDB_SET_KEY : MDB_SET_RANGE;
	int rc;

	if (!iter_usable(it))
		return false;
	it->moved = true;
	if (how == STDB_FIND_LAST)
		rc = mdb_cursor_get(it->cur, &it->key, &it->val, MDB_LAST);
	else if (len == 0) /* LMDB refuses an empty key */
		rc = how == STDB_FIND_EQ
		    ? MDB_NOTFOUND
		    : mdb_cursor_get(it->cur, &it->key, &it->val, MDB_FIRST);
	else if (how == STDB_FIND_GT)
		rc = iter_gt(it, key, len);
	else {
		it->key.mv_size = len;
		it->key.mv_data = (void *)(uintptr_t)key;
		rc = mdb_cursor_get(it->cur, &it->key, &it->val, op);
	}
	return iter_result(it, rc);
}

bool
stdb_iter_first(struct stdb_iter *it)
{
	return stdb_iter_find(it, NULL, 0, STDB_FIND_GEQ);
}

bool
stdb_iter_find_seq(struct stdb_iter *it, uint64_t seq)
{
	uint8_t k[STDB_SEQ_LEN];

	stdb_put_u64(k, seq);
	return stdb_iter_find(it, k, sizeof(k), STDB_FIND_GEQ);
}

bool
stdb_iter_next(struct stdb_iter *it)
{
	if (!iter_usable(it) || !it->moved) {
		it->valid = false;
		return false;
	}
	return iter_result(
	    it, mdb_cursor_get(it->cur, &it->key, &it->val, MDB_NEXT));
}

bool
stdb_iter_valid(const struct stdb_iter *it)
{
	return it->valid && it->err == 0;
}

int
stdb_iter_err(const struct stdb_iter *it)
{
	return it->err;
}

int
stdb_iter_fail(struct stdb_iter *it, int code)
{
	if (it->err == 0)
		it->err = code;
	it->valid = false;
	return it->err;
}

int
stdb_iter_report(
    const struct stdb_iter *it, struct jalin_err *err, const char *what)
{
	if (it->err == 0)
		return 0;
	return jalin_err_set(err, it->err, "%s (%s)", what,
	    it->mdb_rc != 0 ? mdb_strerror(it->mdb_rc)
	                    : jalin_strerror(it->err));
}

bool
stdb_iter_has_prefix(const struct stdb_iter *it, const void *prefix, size_t len)
{
	return stdb_iter_valid(it) && it->key.mv_size >= len &&
	    (len == 0 || memcmp(it->key.mv_data, prefix, len) == 0);
}

const uint8_t *
stdb_iter_key(const struct stdb_iter *it, size_t *len)
{
	bool ok = stdb_iter_valid(it);

	if (len != NULL)
		*len = ok ? it->key.mv_size : 0;
	return ok ? it->key.mv_data : NULL;
}

const uint8_t *
stdb_iter_val(const struct stdb_iter *it, size_t *len)
{
	bool ok = stdb_iter_valid(it);

	if (len != NULL)
		*len = ok ? it->val.mv_size : 0;
	return ok ? it->val.mv_data : NULL;
}

uint64_t
stdb_iter_seq(const struct stdb_iter *it)
{
	if (!stdb_iter_valid(it) || it->key.mv_size != STDB_SEQ_LEN)
		return 0;
	return stdb_get_u64(it->key.mv_data);
}

int
stdb_iter_record(const struct stdb_iter *it, const uint8_t **state, size_t *len,
    uint64_t *seq)
{
	if (!stdb_iter_valid(it))
		return JALIN_ECORRUPT;
	return stdb_value_state(
	    it->val.mv_data, it->val.mv_size, state, len, seq);
}

/* Stop the walk on LMDB's rc (not 0, not MDB_NOTFOUND). */
static int
iter_mdb_fail(struct stdb_iter *it, int rc)
{
	if (it->err == 0)
		it->mdb_rc = rc;
	return stdb_iter_fail(it, stdb_errcode(rc));
}

/* A cursor put on the current entry; LMDB may move the page's nodes, so
 * the key is a copy, and the entry is read back afterwards. */
static int
iter_put(struct stdb_iter *it, MDB_val *v, unsigned flags)
{
	uint8_t key[STDB_KEY_MAX];
	MDB_val k = {it->key.mv_size, key};
	int rc;

	if (!stdb_iter_valid(it))
		return it->err ? it->err : JALIN_ENOTFOUND;
	if (k.mv_size > sizeof(key))
		return stdb_iter_fail(it, JALIN_ETOOBIG);
	memcpy(key, it->key.mv_data, k.mv_size);
	rc = mdb_cursor_put(it->cur, &k, v, MDB_CURRENT | flags);
	if (rc == 0)
		rc = mdb_cursor_get(
		    it->cur, &it->key, &it->val, MDB_GET_CURRENT);
	if (rc != 0)
		return iter_mdb_fail(it, rc);
	return 0;
}

int
stdb_iter_put(struct stdb_iter *it, const void *val, size_t len)
{
	MDB_val v = {len, (void *)(uintptr_t)val};

	return iter_put(it, &v, 0);
}

int
stdb_iter_reserve(struct stdb_iter *it, size_t len, void **p)
{
	MDB_val v = {len, NULL};
	int rc;

	if ((rc = iter_put(it, &v, MDB_RESERVE)) != 0)
		return rc;
	*p = v.mv_data;
	return 0;
}

int
stdb_iter_del(struct stdb_iter *it)
{
	int rc;

	if (!stdb_iter_valid(it))
		return it->err ? it->err : JALIN_ENOTFOUND;
	if ((rc = mdb_cursor_del(it->cur, 0)) != 0)
		return iter_mdb_fail(it, rc);
	it->valid = false; /* next moves on from the deleted entry */
	return 0;
}

int
stdb_get(MDB_txn *txn, const struct stdb *db, enum stdb_db which,
    const void *key, size_t klen, const uint8_t **val, size_t *vlen)
{
	MDB_val k = {klen, (void *)(uintptr_t)key}, v;
	int rc;

	if (!db->has[which] || klen == 0)
		return JALIN_ENOTFOUND;
	if ((rc = mdb_get(txn, db->dbi[which], &k, &v)) != 0)
		return stdb_errcode(rc);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

void
stdb_key(uint8_t key[STDB_KEY_LEN], uint8_t coll, const uint8_t *id)
{
	key[0] = coll;
	memcpy(key + 1, id, UUID_LEN);
}

void
stdb_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

uint64_t
stdb_get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void
stdb_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

uint32_t
stdb_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
stdb_get_record(MDB_txn *txn, const struct stdb *db, uint8_t coll,
    const uint8_t id[UUID_LEN], const uint8_t **state, size_t *len,
    uint64_t *seq)
{
	uint8_t k[STDB_KEY_LEN];
	MDB_val key = {sizeof(k), k}, val;
	int rc;

	stdb_key(k, coll, id);
	rc = mdb_get(txn, db->dbi[STDB_RECORDS], &key, &val);
	if (rc == MDB_NOTFOUND)
		return JALIN_ENOTFOUND;
	if (rc != 0)
		return stdb_mdb_err(rc, NULL, "get");
	return stdb_val_state(&val, state, len, seq);
}

int
stdb_get_record_parts(MDB_txn *txn, const struct stdb *db, uint8_t coll,
    const uint8_t id[UUID_LEN], uint64_t *seq, const uint8_t **proof,
    size_t *plen, const uint8_t **state, size_t *len)
{
	uint8_t k[STDB_KEY_LEN];
	MDB_val key = {sizeof(k), k}, val;
	const uint8_t *p;
	int rc;

	stdb_key(k, coll, id);
	rc = mdb_get(txn, db->dbi[STDB_RECORDS], &key, &val);
	if (rc == MDB_NOTFOUND)
		return JALIN_ENOTFOUND;
	if (rc != 0)
		return stdb_mdb_err(rc, NULL, "get");
	p = val.mv_data;
	if (stdb_value_parts(p, val.mv_size, seq, proof, plen, state, len) !=
	        0 ||
	    crc32c(0, p + STDB_CRC_LEN, val.mv_size - STDB_CRC_LEN) !=
	        stdb_get_u32(p))
		return JALIN_ECORRUPT;
	return 0;
}

bool
stdb_has(const struct stdb *db, enum stdb_db which)
{
	return db->has[which];
}

int
stdb_get_gone(MDB_txn *txn, const struct stdb *db, uint8_t coll,
    const uint8_t id[UUID_LEN], const uint8_t **state, size_t *len)
{
	uint8_t k[STDB_KEY_LEN];
	MDB_val key = {sizeof(k), k}, val;
	uint64_t seq;
	int rc;

	if (!db->has[STDB_GONE])
		return JALIN_ENOTFOUND;
	stdb_key(k, coll, id);
	rc = mdb_get(txn, db->dbi[STDB_GONE], &key, &val);
	if (rc == MDB_NOTFOUND)
		return JALIN_ENOTFOUND;
	if (rc != 0)
		return stdb_mdb_err(rc, NULL, "get");
	return stdb_val_state(&val, state, len, &seq);
}

/* A LEB128 integer at p[*i..n): 0, or -1 past the end or over 64 bits. */
static int
leb(const uint8_t *p, size_t n, size_t *i, uint64_t *out)
{
	uint64_t x = 0;

	for (unsigned shift = 0;; shift += 7) {
		if (*i >= n || shift > 63 || (shift == 63 && p[*i] > 1))
			return -1;
		x |= (uint64_t)(p[*i] & 0x7f) << shift;
		if (!(p[(*i)++] & 0x80))
			break;
	}
	*out = x;
	return 0;
}

int
stdb_value_parts(const void *val, size_t vlen, uint64_t *seq,
    const uint8_t **proof, size_t *plen, const uint8_t **state, size_t *len)
{
	const uint8_t *p = val;
	size_t i = STDB_CRC_LEN;
	uint64_t n = 0;

	if (leb(p, vlen, &i, seq) != 0 || i >= vlen)
		return JALIN_ECORRUPT;
	*proof = NULL;
	if (p[i] == STDB_PROOF_MARK) {
		i++;
		if (leb(p, vlen, &i, &n) != 0 || n == 0 || n >= vlen - i)
			return JALIN_ECORRUPT;
		*proof = p + i;
		i += (size_t)n;
	}
	*plen = (size_t)n;
	*state = p + i;
	*len = vlen - i;
	return 0;
}

int
stdb_value_split(const void *val, size_t vlen, const uint8_t **state,
    size_t *len, uint64_t *seq)
{
	const uint8_t *proof;
	size_t plen;

	return stdb_value_parts(val, vlen, seq, &proof, &plen, state, len);
}

int
stdb_value_state(const void *val, size_t vlen, const uint8_t **state,
    size_t *len, uint64_t *seq)
{
	const uint8_t *p = val;

	if (stdb_value_split(val, vlen, state, len, seq) != 0 ||
	    crc32c(0, p + STDB_CRC_LEN, vlen - STDB_CRC_LEN) != stdb_get_u32(p))
		return JALIN_ECORRUPT;
	return 0;
}

int
stdb_val_split(
    const MDB_val *v, const uint8_t **state, size_t *len, uint64_t *seq)
{
	return stdb_value_split(v->mv_data, v->mv_size, state, len, seq);
}

int
stdb_val_state(
    const MDB_val *v, const uint8_t **state, size_t *len, uint64_t *seq)
{
	return stdb_value_state(v->mv_data, v->mv_size, state, len, seq);
}

int
stdb_val_state_v1(
    const MDB_val *v, const uint8_t **state, size_t *len, uint64_t *seq)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size <= 12)
		return JALIN_ECORRUPT;
	*seq = stdb_get_u64(p);
	*state = p + 12;
	*len = v->mv_size - 12;
	if (crc32c(0, *state, *len) != stdb_get_u32(p + 8))
		return JALIN_ECORRUPT;
	return 0;
}

size_t
stdb_val_header(uint8_t hdr[STDB_VAL_HDR_MAX], uint64_t seq, const void *proof,
    size_t plen, const void *state, size_t len)
{
	size_t n = STDB_CRC_LEN;
	uint32_t c;

	while (seq >= 0x80) {
		hdr[n++] = (uint8_t)(seq | 0x80);
		seq >>= 7;
	}
	hdr[n++] = (uint8_t)seq;
	if (plen > 0) {
		size_t v = plen;
		hdr[n++] = STDB_PROOF_MARK;
		while (v >= 0x80) {
			hdr[n++] = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		hdr[n++] = (uint8_t)v;
	}
	c = crc32c(0, hdr + STDB_CRC_LEN, n - STDB_CRC_LEN);
	if (plen > 0)
		c = crc32c(c, proof, plen);
	stdb_put_u32(hdr, crc32c(c, state, len));
	return n;
}

int
stdb_meta_get(MDB_txn *txn, const struct stdb *db, const char *name,
    const void **val, size_t *len)
{
	MDB_val key = {strlen(name), (void *)(uintptr_t)name}, v;
	int rc = mdb_get(txn, db->dbi[STDB_META], &key, &v);

	if (rc == MDB_NOTFOUND)
		return JALIN_ENOTFOUND;
	if (rc != 0)
		return stdb_mdb_err(rc, NULL, "meta");
	*val = v.mv_data;
	*len = v.mv_size;
	return 0;
}

int
stdb_meta_u64(
    MDB_txn *txn, const struct stdb *db, const char *name, uint64_t *v)
{
	const void *p;
	size_t len;
	int rc = stdb_meta_get(txn, db, name, &p, &len);

	if (rc != 0)
		return rc;
	if (len != 8)
		return JALIN_ECORRUPT;
	*v = stdb_get_u64(p);
	return 0;
}

static void
info_counts(MDB_txn *txn, const struct stdb *db, struct stdb_info *info)
{
	const void *p;
	size_t len;

	if (stdb_meta_get(txn, db, "count", &p, &len) == 0 &&
	    len == 8 * COLL_COUNT) {
		for (int c = COLL_MIN; c <= COLL_MAX; c++)
			info->count[c] = stdb_get_u64(
			    (const uint8_t *)p + 8 * (c - COLL_MIN));
	}
	stdb_meta_u64(txn, db, "nconflicts", &info->nconflicts);
	stdb_meta_u64(txn, db, "gcseq", &info->gcseq);
	stdb_meta_u64(txn, db, "created", &info->created_ms);
}

int
stdb_info(MDB_txn *txn, const struct stdb *db, struct stdb_info *info,
    struct jalin_err *err)
{
	const void *p;
	size_t len;
	MDB_envinfo ei;
	MDB_stat st;

	memset(info, 0, sizeof(*info));
	if (stdb_meta_get(txn, db, "node", &p, &len) != 0 ||
	    len > JALIN_NAME_MAX)
		return jalin_err_set(err, JALIN_ECORRUPT,
		    "store '%s' has no node name", db->dir);
	memcpy(info->node, p, len);
	if (stdb_meta_get(txn, db, "epoch", &p, &len) != 0 || len != 16)
		return jalin_err_set(
		    err, JALIN_ECORRUPT, "store '%s' has no epoch", db->dir);
	memcpy(info->epoch, p, 16);
	stdb_meta_u64(txn, db, "seq", &info->seq);
	stdb_meta_u64(txn, db, "hlc", &info->hlc);
	info_counts(txn, db, info);
	mdb_env_info(db->env, &ei);
	mdb_env_stat(db->env, &st);
	info->map_size = ei.me_mapsize;
	info->map_used = (uint64_t)(ei.me_last_pgno + 1) * st.ms_psize;
	if (mdb_stat(txn, db->dbi[STDB_RECORDS], &st) == 0)
		info->entries = st.ms_entries;
	return 0;
}

int
stdb_record_hash(EVP_MD_CTX *ctx, const EVP_MD *md, uint8_t coll,
    const uint8_t id[UUID_LEN], const void *state, size_t len, uint8_t out[32])
{
	uint8_t k[STDB_KEY_LEN];

	stdb_key(k, coll, id);
	if (!EVP_DigestInit_ex2(ctx, md, NULL) ||
	    !EVP_DigestUpdate(ctx, k, sizeof(k)) ||
	    !EVP_DigestUpdate(ctx, state, len) ||
	    !EVP_DigestFinal_ex(ctx, out, NULL))
		return JALIN_ENOMEM;
	return 0;
}

void
stdb_sum_add(uint8_t acc[32], const uint8_t h[32])
{
	unsigned carry = 0;

	for (int i = 0; i < 32; i++) {
		carry += (unsigned)acc[i] + h[i];
		acc[i] = (uint8_t)carry;
		carry >>= 8;
	}
}

void
stdb_sum_sub(uint8_t acc[32], const uint8_t h[32])
{
	int borrow = 0;

	for (int i = 0; i < 32; i++) {
		int d = (int)acc[i] - h[i] - borrow;
		borrow = d < 0;
		acc[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

static int
coll_sum(MDB_txn *txn, const struct stdb *db, uint8_t coll, uint8_t sum[32])
{
	struct stdb_iter it;
	const uint8_t *v;
	size_t klen, vlen;
	int rc;

	memset(sum, 0, 32);
	stdb_iter_open(&it, txn, db, STDB_DIGEST);
	stdb_iter_foreach(&it, &coll, 1)
	{
		stdb_iter_key(&it, &klen);
		v = stdb_iter_val(&it, &vlen);
		if (klen == 2 && vlen == 32)
			stdb_sum_add(sum, v);
	}
	rc = stdb_iter_err(&it);
	stdb_iter_close(&it);
	return rc;
}

int
stdb_digests(MDB_txn *txn, const struct stdb *db,
    uint8_t digests[COLL_COUNT + 1][32], struct jalin_err *err)
{
	struct stdb_info info;
	uint8_t buf[40], all[COLL_COUNT * 32];
	int rc;

	if ((rc = stdb_info(txn, db, &info, err)) != 0)
		return rc;
	for (int c = COLL_MIN; c <= COLL_MAX; c++) {
		if ((rc = coll_sum(txn, db, (uint8_t)c, buf)) != 0)
			return jalin_err_set(err, rc, "cannot read digests");
		for (int i = 0; i < 8; i++)
			buf[32 + i] = (uint8_t)(info.count[c] >> (8 * i));
		if (!EVP_Digest(
		        buf, sizeof(buf), digests[c], NULL, EVP_sha256(), NULL))
			return jalin_err_set(
			    err, JALIN_ENOMEM, "sha256 failed");
		memcpy(all + 32 * (c - COLL_MIN), digests[c], 32);
	}
	if (!EVP_Digest(all, sizeof(all), digests[0], NULL, EVP_sha256(), NULL))
		return jalin_err_set(err, JALIN_ENOMEM, "sha256 failed");
	return 0;
}

size_t
stdb_batch_key(uint8_t *k, const char *origin, size_t olen, uint64_t bno)
{
	k[0] = (uint8_t)olen;
	memcpy(k + 1, origin, olen);
	stdb_put_u64(k + 1 + olen, bno);
	return 1 + olen + 8;
}
