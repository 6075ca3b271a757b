/*
 * query.c - read-only admin requests over one LMDB read transaction.
 *
 * The same code answers jalind's admin socket and jalinctl --db, so an
 * operator sees the same thing whether the node runs or not. Pages are
 * bounded by a record count and by JALIN_QUERY_PAGE_BYTES; the "next" cursor is
 * the hex of the last store key, so paging is stable while writes go on.
 */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "hlc.h"
#include "mp.h"
#include "msg.h"
#include "query.h"
#include "view.h"

const struct schema_coll *
query_coll(const char *name, size_t len, struct jalin_err *err)
{
	const struct schema_coll *c = schema_coll_by_name(name, len);
	size_t shown = len > JALIN_COLL_ECHO_MAX ? JALIN_COLL_ECHO_MAX : len;

	if (c == NULL)
		jalin_err_set(err, JALIN_EINVAL,
		    "unknown collection '%.*s' (one of case, partnership, "
		    "lks, resource, referral)",
		    (int)shown, name);
	return c;
}

int
query_id(
    const uint8_t *raw, size_t len, uint8_t id[UUID_LEN], struct jalin_err *err)
{
	struct mpr m;
	const char *s;
	const uint8_t *b;
	uint32_t n;

	mpr_init(&m, raw, len);
	if (mpr_peek(&m) == MP_BIN) {
		if (mpr_bin(&m, &b, &n) == 0 && n == UUID_LEN) {
			memcpy(id, b, UUID_LEN);
			return 0;
		}
	} else if (mpr_str(&m, &s, &n) == 0 && uuid_parse(s, n, id) == 0) {
		return 0;
	}
	return jalin_err_set(err, JALIN_EINVAL,
	    "record id must be a UUID like 0190a1b2-c3d4-7e5f-8a9b-"
	    "0c1d2e3f4a5b");
}

static void
id_text(const uint8_t id[UUID_LEN], char out[UUID_STR_LEN + 1])
{
	uuid_format(id, out);
}

int
query_get(MDB_txn *txn, const struct stdb *db, const struct schema_coll *c,
    const uint8_t id[UUID_LEN], unsigned flags, struct record *ws,
    const struct view_open *op, msgpack_packer *pk, struct buf *b,
    struct jalin_err *err)
{
	char ids[UUID_STR_LEN + 1];
	const uint8_t *state;
	size_t len;
	uint64_t seq;
	int rc;

	id_text(id, ids);
	rc = stdb_get_record(txn, db, c->id, id, &state, &len, &seq);
	if (rc == JALIN_ENOTFOUND)
		return jalin_err_set(
		    err, rc, "%s %s: no such record", c->name, ids);
	if (rc == 0)
		rc = rec_decode(ws, state, len, REC_TRUSTED, NULL);
	if (rc != 0)
		return jalin_err_set(err, JALIN_ECORRUPT,
		    "%s %s: stored record does not decode", c->name, ids);
	if (!(flags & VIEW_VERSIONS) && rec_is_purged(ws))
		return jalin_err_set(err, JALIN_EPURGED,
		    "%s %s: the record was purged", c->name, ids);
	if (!(flags & VIEW_VERSIONS) && !rec_is_live(ws))
		return jalin_err_set(err, JALIN_ENOTFOUND,
		    "%s %s: the record was deleted", c->name, ids);
	if ((rc = view_record(pk, b, c, id, ws, flags, op)) != 0)
		return jalin_err_set(
		    err, rc, "%s %s: record too large to show", c->name, ids);
	return 0;
}

/* Position it after the hex cursor "after" (or at the start). */
static int
seek_after(struct stdb_iter *it, const char *after, size_t alen, uint8_t coll,
    struct jalin_err *err)
{
	uint8_t k[STDB_KEY_LEN] = {coll};

	if (alen > 0 &&
	    (alen != 2 * STDB_KEY_LEN ||
	        hex_decode(after, alen, k, STDB_KEY_LEN) != 0))
		return jalin_err_set(err, JALIN_EINVAL,
		    "bad paging cursor (use the 'next' value of the previous "
		    "page)");
	/* a collection alone: its first record (a 1-byte key equals none) */
	stdb_iter_find(
	    it, k, alen > 0 ? STDB_KEY_LEN : (coll ? 1 : 0), STDB_FIND_GT);
	return 0;
}

static bool
coll_scoped(uint8_t coll)
{
	const struct schema_coll *c = schema_coll_by_id(coll);

	return c != NULL && c->scope == SCOPE_SCOPED;
}

/* With QUERY_PUBLIC, move it from a record of a scoped collection on to
 * the next collection. */
static void
skip_scoped(struct stdb_iter *it, unsigned flags)
{
	const uint8_t *key;
	size_t klen;
	uint8_t k;

	while ((flags & QUERY_PUBLIC) &&
	    (key = stdb_iter_key(it, &klen)) != NULL && klen > 0 &&
	    coll_scoped(key[0])) {
		k = (uint8_t)(key[0] + 1);
		stdb_iter_find(it, &k, 1, STDB_FIND_GEQ);
	}
}

/* it stands on a record key of coll (0: any collection). */
static bool
in_coll(const struct stdb_iter *it, uint8_t coll)
{
	size_t klen;
	const uint8_t *key = stdb_iter_key(it, &klen);

	return key != NULL && klen == STDB_KEY_LEN &&
	    (coll == 0 || key[0] == coll);
}

static void
pack_next(msgpack_packer *pk, const uint8_t *key, bool more)
{
	char hex[2 * STDB_KEY_LEN + 1];

	view_str(pk, "next");
	if (!more) {
		msgpack_pack_nil(pk);
		return;
	}
	hex_encode(key, STDB_KEY_LEN, hex);
	view_str(pk, hex);
}

static uint64_t
page_limit(uint64_t limit)
{
	if (limit == 0 || limit > JALIN_LIST_PAGE_MAX)
		return JALIN_LIST_PAGE_MAX;
	return limit;
}

struct scan {
	uint8_t coll;
	uint64_t limit;
	unsigned flags;
	struct record *ws;
	uint8_t last[STDB_KEY_LEN];
	uint32_t n;
	const struct view_open *op;
};

/* One record of a page: skip tombstones; returns JALIN_ECORRUPT if the
 * stored bytes do not decode. */
static int
scan_one(struct scan *sc, const struct stdb_iter *it, msgpack_packer *pk,
    struct buf *b)
{
	const uint8_t *k = stdb_iter_key(it, NULL);
	const struct schema_coll *c = schema_coll_by_id(k[0]);

	memcpy(sc->last, k, STDB_KEY_LEN);
	const uint8_t *state;
	size_t len;
	uint64_t seq;

	if (c == NULL || stdb_iter_record(it, &state, &len, &seq) != 0 ||
	    rec_decode(sc->ws, state, len, REC_TRUSTED, NULL) != 0)
		return JALIN_ECORRUPT;
	if (!rec_is_live(sc->ws) && !(sc->flags & VIEW_VERSIONS))
		return 0;
	sc->n++;
	return view_record(pk, b, c, k + 1, sc->ws,
	    sc->flags & (VIEW_COLL | VIEW_VERSIONS), sc->op);
}

int
query_records(MDB_txn *txn, const struct stdb *db, uint8_t coll,
    const char *after, size_t after_len, uint64_t limit, unsigned flags,
    struct record *ws, const struct view_open *op, msgpack_packer *pk,
    struct buf *b, struct jalin_err *err)
{
	struct scan sc = {coll, page_limit(limit), flags, ws, {0}, 0, op};
	struct stdb_iter it;
	size_t mark;
	int rc;

	msgpack_pack_map(pk, 2);
	view_str(pk, "records");
	mark = view_array_begin(b);
	stdb_iter_open(&it, txn, db, STDB_RECORDS);
	if ((rc = seek_after(&it, after, after_len, coll, err)) != 0) {
		stdb_iter_close(&it);
		return rc;
	}
	skip_scoped(&it, flags);
	while (in_coll(&it, coll) && sc.n < sc.limit &&
	    b->len < JALIN_QUERY_PAGE_BYTES) {
		if ((rc = scan_one(&sc, &it, pk, b)) != 0)
			break;
		stdb_iter_next(&it);
		skip_scoped(&it, flags);
	}
	bool more = rc == 0 && in_coll(&it, coll);
	if (rc == 0)
		rc = stdb_iter_report(&it, err, "cannot read records");
	stdb_iter_close(&it);
	if (rc == JALIN_ECORRUPT)
		return jalin_err_set(err, rc, "stored record does not decode");
	if (rc != 0)
		return jalin_err_set(
		    err, rc, "cannot list records (%s)", jalin_strerror(rc));
	view_patch(b, mark, sc.n);
	pack_next(pk, sc.last, more);
	return b->err;
}

static void
feed_entry(msgpack_packer *pk, uint64_t seq, const struct schema_coll *c,
    const uint8_t *id, const struct record *r)
{
	char ids[UUID_STR_LEN + 1];

	id_text(id, ids);
	msgpack_pack_map(pk, 6);
	view_str(pk, "seq");
	msgpack_pack_uint64(pk, seq);
	view_str(pk, "collection");
	view_str(pk, c->name);
	view_str(pk, "id");
	view_str(pk, ids);
	view_str(pk, "state");
	view_str(pk, view_state(r));
	view_str(pk, "hlc");
	msgpack_pack_uint64(pk, rec_max_hlc(r));
	view_str(pk, "at");
	view_time(pk, rec_max_hlc(r));
}

static int
feed_one(MDB_txn *txn, const struct stdb *db, const struct stdb_iter *it,
    struct record *ws, msgpack_packer *pk)
{
	const uint8_t *k, *state;
	const struct schema_coll *c;
	size_t klen, vlen, len;
	uint64_t seq;

	stdb_iter_key(it, &klen);
	k = stdb_iter_val(it, &vlen);
	if (klen != STDB_SEQ_LEN || vlen < STDB_KEY_LEN ||
	    (c = schema_coll_by_id(k[0])) == NULL ||
	    stdb_get_record(txn, db, k[0], k + 1, &state, &len, &seq) != 0 ||
	    rec_decode(ws, state, len, REC_TRUSTED, NULL) != 0)
		return JALIN_ECORRUPT;
	feed_entry(pk, stdb_iter_seq(it), c, k + 1, ws);
	return 0;
}

int
query_feed(MDB_txn *txn, const struct stdb *db, uint64_t since, uint64_t limit,
    unsigned flags, struct record *ws, msgpack_packer *pk, struct buf *b,
    struct jalin_err *err)
{
	uint64_t next = since, last = 0, lim = page_limit(limit), seen = 0;
	struct stdb_iter it;
	const uint8_t *v;
	uint32_t n = 0;
	size_t mark, vlen;
	int rc = 0;

	stdb_meta_u64(txn, db, "seq", &last);
	stdb_iter_open(&it, txn, db, STDB_FEED);
	msgpack_pack_map(pk, 3);
	view_str(pk, "entries");
	mark = view_array_begin(b);
	stdb_iter_find_seq(&it, since + 1);
	/* Entries left out (QUERY_PUBLIC) count towards a bound of their
	 * own, so that a page never scans the whole feed. */
	while (stdb_iter_valid(&it) && n < lim &&
	    seen < 4 * (uint64_t)JALIN_LIST_PAGE_MAX &&
	    b->len < JALIN_QUERY_PAGE_BYTES) {
		seen++;
		v = stdb_iter_val(&it, &vlen);
		if (!(flags & QUERY_PUBLIC) || vlen < 1 || !coll_scoped(v[0])) {
			if ((rc = feed_one(txn, db, &it, ws, pk)) != 0)
				break;
			n++;
		}
		next = stdb_iter_seq(&it);
		stdb_iter_next(&it);
	}
	if (rc != 0)
		rc = jalin_err_set(err, JALIN_ECORRUPT,
		    "feed entry after seq %llu does not decode",
		    (unsigned long long)next);
	else
		rc = stdb_iter_report(&it, err, "cannot read the feed");
	stdb_iter_close(&it);
	if (rc != 0)
		return rc;
	view_patch(b, mark, n);
	view_str(pk, "next");
	msgpack_pack_uint64(pk, next);
	view_str(pk, "last_seq");
	msgpack_pack_uint64(pk, last);
	return b->err;
}

int
query_conflicts(MDB_txn *txn, const struct stdb *db, uint8_t coll,
    const char *after, size_t after_len, uint64_t limit, unsigned flags,
    struct record *ws, const struct view_open *op, msgpack_packer *pk,
    struct buf *b, struct jalin_err *err)
{
	struct stdb_iter it;
	uint8_t last[STDB_KEY_LEN] = {0};
	uint64_t lim = page_limit(limit), recs = 0;
	uint32_t n = 0;
	size_t mark;
	int rc;

	msgpack_pack_map(pk, 2);
	view_str(pk, "conflicts");
	mark = view_array_begin(b);
	stdb_iter_open(&it, txn, db, STDB_CONFLICTS);
	if ((rc = seek_after(&it, after, after_len, coll, err)) != 0) {
		stdb_iter_close(&it);
		return rc;
	}
	skip_scoped(&it, flags);
	while (in_coll(&it, coll) && recs < lim &&
	    b->len < JALIN_QUERY_PAGE_BYTES) {
		const uint8_t *k = stdb_iter_key(&it, NULL), *state;
		const struct schema_coll *c = schema_coll_by_id(k[0]);
		size_t len;
		uint64_t seq;
		memcpy(last, k, STDB_KEY_LEN);
		if (c != NULL &&
		    stdb_get_record(txn, db, k[0], k + 1, &state, &len, &seq) ==
		        0 &&
		    rec_decode(ws, state, len, REC_TRUSTED, NULL) == 0)
			n += view_conflicts(pk, c, k + 1, ws, op);
		recs++;
		stdb_iter_next(&it);
		skip_scoped(&it, flags);
	}
	bool more = in_coll(&it, coll);
	rc = stdb_iter_report(&it, err, "cannot read conflicts");
	stdb_iter_close(&it);
	if (rc != 0)
		return rc;
	view_patch(b, mark, n);
	pack_next(pk, last, more);
	return b->err;
}

int
query_digest(MDB_txn *txn, const struct stdb *db, msgpack_packer *pk,
    struct jalin_err *err)
{
	uint8_t d[COLL_COUNT + 1][32];
	char hex[65];
	int rc;

	if ((rc = stdb_digests(txn, db, d, err)) != 0)
		return rc;
	msgpack_pack_map(pk, COLL_COUNT + 1);
	for (int c = COLL_MIN; c <= COLL_MAX; c++) {
		view_str(pk, schema_coll_by_id((unsigned)c)->name);
		hex_encode(d[c], 32, hex);
		view_str(pk, hex);
	}
	view_str(pk, "all");
	hex_encode(d[0], 32, hex);
	view_str(pk, hex);
	return 0;
}

static void
status_records(msgpack_packer *pk, const struct stdb_info *in)
{
	view_str(pk, "records");
	msgpack_pack_map(pk, COLL_COUNT);
	for (int c = COLL_MIN; c <= COLL_MAX; c++) {
		view_str(pk, schema_coll_by_id((unsigned)c)->name);
		msgpack_pack_uint64(pk, in->count[c]);
	}
}

static void
status_store(
    msgpack_packer *pk, const struct stdb *db, const struct stdb_info *in)
{
	view_str(pk, "store");
	msgpack_pack_map(pk, 4);
	view_str(pk, "path");
	view_str(pk, stdb_dir(db));
	view_str(pk, "map_size");
	msgpack_pack_uint64(pk, in->map_size);
	view_str(pk, "map_used");
	msgpack_pack_uint64(pk, in->map_used);
	view_str(pk, "entries");
	msgpack_pack_uint64(pk, in->entries);
}

int
query_status(MDB_txn *txn, const struct stdb *db, msgpack_packer *pk,
    struct buf *b, size_t *mark, uint32_t *n, struct jalin_err *err)
{
	struct stdb_info in;
	char hex[33];
	uint64_t live = 0;
	int rc;

	if ((rc = stdb_info(txn, db, &in, err)) != 0)
		return rc;
	for (int c = COLL_MIN; c <= COLL_MAX; c++)
		live += in.count[c];
	*mark = view_map_begin(b);
	view_str(pk, "node");
	view_str(pk, in.node);
	view_str(pk, "epoch");
	hex_encode(in.epoch, 16, hex);
	view_str(pk, hex);
	view_str(pk, "seq");
	msgpack_pack_uint64(pk, in.seq);
	view_str(pk, "hlc");
	msgpack_pack_uint64(pk, in.hlc);
	status_records(pk, &in);
	view_str(pk, "conflicts");
	msgpack_pack_uint64(pk, in.nconflicts);
	view_str(pk, "tombstones");
	msgpack_pack_uint64(pk, in.entries > live ? in.entries - live : 0);
	status_store(pk, db, &in);
	*n = 8;
	return b->err;
}

bool
query_is_read(uint64_t type)
{
	switch (type) {
	case MSG_STATUS:
	case MSG_GET:
	case MSG_LIST:
	case MSG_EXPORT:
	case MSG_FEED:
	case MSG_CONFLICTS:
	case MSG_DIGEST:
	case MSG_AUDIT:
		return true;
	}
	return false;
}

static int
dispatch_status(MDB_txn *txn, const struct stdb *db, query_extra_fn extra,
    void *ctx, msgpack_packer *pk, struct buf *b, struct jalin_err *err)
{
	size_t mark;
	uint32_t n;
	int rc;

	if ((rc = query_status(txn, db, pk, b, &mark, &n, err)) != 0)
		return rc;
	if (extra != NULL)
		n += extra(ctx, pk);
	view_patch(b, mark, n);
	return b->err;
}

static int
dispatch_get(MDB_txn *txn, const struct stdb *db, const struct msg_req *q,
    const struct schema_coll *c, struct record *ws, const struct view_open *op,
    msgpack_packer *pk, struct buf *b, struct jalin_err *err)
{
	uint8_t id[UUID_LEN];
	int rc;

	if (c == NULL || q->id == NULL)
		return jalin_err_set(
		    err, JALIN_EINVAL, "get needs a collection and an id");
	if ((rc = query_id(q->id, q->id_len, id, err)) != 0)
		return rc;
	return query_get(txn, db, c, id, q->versions ? VIEW_VERSIONS : 0, ws,
	    op, pk, b, err);
}

int
query_dispatch(MDB_txn *txn, const struct stdb *db, const struct msg_req *q,
    unsigned flags, query_extra_fn extra, void *ctx, struct record *ws,
    const struct view_open *op, msgpack_packer *pk, struct buf *b,
    struct jalin_err *err)
{
	const struct schema_coll *c = NULL;

	if (q->coll != NULL &&
	    (c = query_coll(q->coll, q->coll_len, err)) == NULL)
		return JALIN_EINVAL;
	flags &= QUERY_PUBLIC;
	if ((flags & QUERY_PUBLIC) && c != NULL && c->scope == SCOPE_SCOPED)
		return jalin_err_set(err, JALIN_EPERM,
		    "%s records are not shown to remote admins (ask on the "
		    "node's local admin socket)",
		    c->name);
	switch (q->type) {
	case MSG_STATUS:
		return dispatch_status(txn, db, extra, ctx, pk, b, err);
	case MSG_GET:
		return dispatch_get(txn, db, q, c, ws, op, pk, b, err);
	case MSG_LIST:
		if (c == NULL)
			return jalin_err_set(
			    err, JALIN_EINVAL, "list needs a collection");
		/* fall through */
	case MSG_EXPORT:
		return query_records(txn, db, c ? c->id : 0, q->after,
		    q->after_len, q->limit,
		    (q->type == MSG_EXPORT ? VIEW_COLL : 0) | flags, ws, op, pk,
		    b, err);
	case MSG_FEED:
		return query_feed(
		    txn, db, q->since, q->limit, flags, ws, pk, b, err);
	case MSG_CONFLICTS:
		return query_conflicts(txn, db, c ? c->id : 0, q->after,
		    q->after_len, q->limit, flags, ws, op, pk, b, err);
	case MSG_DIGEST:
		return query_digest(txn, db, pk, err);
	case MSG_AUDIT:
		if (flags & QUERY_PUBLIC)
			return jalin_err_set(err, JALIN_EPERM,
			    "the audit log is read on the node's local admin "
			    "socket only");
		return audit_query(txn, db, q->since, q->limit, pk, b, err);
	}
	return jalin_err_set(err, JALIN_EINVAL, "unknown request type %llu",
	    (unsigned long long)q->type);
}
