/*
 * msg.c - parse admin requests with the bounded cursor.
 *
 * The request stays in its frame: strings and nested values are kept as
 * spans, so a 1 MiB import batch is parsed without copying it.
 */
#include <string.h>

#include "mp.h"
#include "msg.h"

static int
bad(struct mpr *m, struct jalin_err *err, uint64_t key, const char *what)
{
	mpr_fail(m, JALIN_EPROTO);
	return jalin_err_set(err, JALIN_EPROTO, "request: key %llu must be %s",
	    (unsigned long long)key, what);
}

static int
get_str(struct mpr *m, struct jalin_err *err, uint64_t key, const char **s,
    uint32_t *len)
{
	if (mpr_str(m, s, len) != 0)
		return bad(m, err, key, "a string");
	return 0;
}

static int
get_uint(struct mpr *m, struct jalin_err *err, uint64_t key, uint64_t *v)
{
	if (mpr_u64(m, v) != 0)
		return bad(m, err, key, "a non-negative integer");
	return 0;
}

static int
get_bool(struct mpr *m, struct jalin_err *err, uint64_t key, bool *v)
{
	if (mpr_bool(m, v) != 0)
		return bad(m, err, key, "a boolean");
	return 0;
}

/*
 * The bulk of a message (import records, CHANGES records) comes last:
 * then take the rest of the frame without walking it; its reader parses it
 * fully and checks that nothing is left over.
 */
static int
get_raw(struct mpr *m, struct jalin_err *err, uint64_t key, enum mp_type want,
    bool last, const uint8_t **p, size_t *len)
{
	enum mp_type t = mpr_peek(m);

	if (want != MP_INVALID && t != want)
		return bad(m, err, key, want == MP_MAP ? "a map" : "an array");
	if (last && want != MP_INVALID) {
		*p = mpr_pos(m);
		*len = mpr_left(m);
		return 0;
	}
	if (mpr_raw(m, p, len) != 0)
		return bad(m, err, key, "a msgpack value");
	return 0;
}

static int
parse_key(struct mpr *m, uint64_t key, struct msg_req *r, bool last,
    struct jalin_err *err)
{
	switch (key) {
	case MK_TYPE:
		return get_uint(m, err, key, &r->type);
	case MK_REQID:
		return get_uint(m, err, key, &r->reqid);
	case MK_COLL:
		return get_str(m, err, key, &r->coll, &r->coll_len);
	case MK_ID:
		return get_raw(
		    m, err, key, MP_INVALID, last, &r->id, &r->id_len);
	case MK_FIELDS:
		return get_raw(
		    m, err, key, MP_MAP, last, &r->fields, &r->fields_len);
	case MK_VERSIONS:
		return get_bool(m, err, key, &r->versions);
	case MK_REASON:
		return get_str(m, err, key, &r->reason, &r->reason_len);
	case MK_HASH:
		return get_raw(
		    m, err, key, MP_INVALID, last, &r->hash, &r->hash_len);
	case MK_LIMIT:
		return get_uint(m, err, key, &r->limit);
	case MK_AFTER:
		return get_str(m, err, key, &r->after, &r->after_len);
	case MK_SINCE:
		return get_uint(m, err, key, &r->since);
	case MK_RECORDS:
		return get_raw(
		    m, err, key, MP_ARRAY, last, &r->records, &r->records_len);
	case MK_STOP:
		return get_bool(m, err, key, &r->stop);
	case MK_PEER:
		return get_str(m, err, key, &r->peer, &r->peer_len);
	case MK_PURPOSE:
		return get_str(m, err, key, &r->purpose, &r->purpose_len);
	default:
		return mpr_skip(m) == 0 ? 0 : bad(m, err, key, "a value");
	}
}

int
msg_parse_req(
    const void *buf, size_t len, struct msg_req *req, struct jalin_err *err)
{
	struct mpr m;
	uint32_t n;
	uint64_t key;
	bool have_type = false;
	int rc;

	memset(req, 0, sizeof(*req));
	mpr_init(&m, buf, len);
	if (mpr_map(&m, &n) != 0)
		return jalin_err_set(
		    err, JALIN_EPROTO, "request: not a msgpack map");
	for (uint32_t i = 0; i < n; i++) {
		if (mpr_u64(&m, &key) != 0)
			return jalin_err_set(err, JALIN_EPROTO,
			    "request: keys must be non-negative integers");
		have_type |= key == MK_TYPE;
		rc = parse_key(&m, key, req, i + 1 == n, err);
		if (rc != 0)
			return rc;
	}
	if (!have_type)
		return jalin_err_set(
		    err, JALIN_EPROTO, "request: no message type (key 0)");
	return 0;
}

const char *
msg_type_name(uint64_t type)
{
	static const char *const names[] = {"status", "put", "get", "delete",
	    "purge", "list", "export", "import", "feed", "conflicts", "digest",
	    "peers", "verify", "audit"};
	static const char *const peer[] = {"hello", "error", "sub", "resync",
	    "changes", "ack", "live", "ping", "pong", "vdigest-req", "vdigest",
	    "vids-req", "vids", "repair", "fetch"};

	if (type >= MSG_STATUS && type <= MSG_AUDIT)
		return names[type - MSG_STATUS];
	if (type >= MSG_HELLO && type <= MSG_FETCH)
		return peer[type - MSG_HELLO];
	return type == MSG_RESP ? "response" : "unknown";
}

static int
get_epoch(
    struct mpr *m, struct jalin_err *err, uint64_t key, uint8_t *out, bool *has)
{
	const uint8_t *b;
	uint32_t n;

	if (mpr_bin(m, &b, &n) != 0 || n != 16)
		return bad(m, err, key, "16 bytes of binary");
	memcpy(out, b, 16);
	*has = true;
	return 0;
}

static int
get_bin(struct mpr *m, struct jalin_err *err, uint64_t key, uint32_t want,
    const uint8_t **out)
{
	uint32_t n;

	if (mpr_bin(m, out, &n) != 0 || n != want)
		return bad(m, err, key, "binary of the right size");
	return 0;
}

static int
get_uint_has(
    struct mpr *m, struct jalin_err *err, uint64_t key, uint64_t *v, bool *has)
{
	*has = true;
	return get_uint(m, err, key, v);
}

static int
parse_peer_key(struct mpr *m, uint64_t key, struct msg_peer *p, bool last,
    struct jalin_err *err)
{
	switch (key) {
	case MK_TYPE:
		return get_uint(m, err, key, &p->type);
	case MK_STATUS:
		return mpr_i64(m, &p->code) == 0
		    ? 0
		    : bad(m, err, key, "an integer");
	case MK_ERROR:
		return get_str(m, err, key, &p->error, &p->error_len);
	case MK_PV_MIN:
		return get_uint(m, err, key, &p->pv_min);
	case MK_PV_MAX:
		return get_uint(m, err, key, &p->pv_max);
	case MK_NAME:
		return get_str(m, err, key, &p->name, &p->name_len);
	case MK_EPOCH:
		return get_epoch(m, err, key, p->epoch, &p->has_epoch);
	case MK_SEQ:
		return get_uint_has(m, err, key, &p->seq, &p->has_seq);
	case MK_FEATURES:
		return get_uint(m, err, key, &p->features);
	case MK_SCHEMA:
		return get_raw(
		    m, err, key, MP_MAP, false, &p->schema, &p->schema_len);
	case MK_TIME:
		return get_uint(m, err, key, &p->time);
	case MK_FROM:
		return get_uint_has(m, err, key, &p->from, &p->has_from);
	case MK_UPTO:
		return get_uint_has(m, err, key, &p->upto, &p->has_upto);
	case MK_HEAD:
		return get_uint(m, err, key, &p->head);
	case MK_SUMS:
		return get_bin(m, err, key, 256 * 32, &p->sums);
	case MK_COUNT:
		return get_uint(m, err, key, &p->count);
	case MK_BAD:
		return get_uint(m, err, key, &p->bad);
	case MK_BUCKET:
		return get_uint_has(m, err, key, &p->bucket, &p->has_bucket);
	case MK_IDS:
		return get_raw(
		    m, err, key, MP_ARRAY, last, &p->ids, &p->ids_len);
	case MK_RECS:
		return get_raw(
		    m, err, key, MP_ARRAY, last, &p->recs, &p->recs_len);
	default:
		return mpr_skip(m) == 0 ? 0 : bad(m, err, key, "a value");
	}
}

int
msg_parse_peer(
    const void *buf, size_t len, struct msg_peer *p, struct jalin_err *err)
{
	struct mpr m;
	uint32_t n;
	uint64_t key;
	bool have_type = false;
	int rc;

	memset(p, 0, sizeof(*p));
	mpr_init(&m, buf, len);
	if (mpr_map(&m, &n) != 0)
		return jalin_err_set(
		    err, JALIN_EPROTO, "message: not a msgpack map");
	for (uint32_t i = 0; i < n; i++) {
		if (mpr_u64(&m, &key) != 0)
			return jalin_err_set(err, JALIN_EPROTO,
			    "message: keys must be non-negative integers");
		have_type |= key == MK_TYPE;
		rc = parse_peer_key(&m, key, p, i + 1 == n, err);
		if (rc != 0)
			return rc;
	}
	if (!have_type)
		return jalin_err_set(
		    err, JALIN_EPROTO, "message: no message type (key 0)");
	return 0;
}

void
msg_resp_begin(msgpack_packer *pk, uint64_t reqid)
{
	msgpack_pack_map(pk, 4);
	msgpack_pack_uint8(pk, MK_TYPE);
	msgpack_pack_uint8(pk, MSG_RESP);
	msgpack_pack_uint8(pk, MK_REQID);
	msgpack_pack_uint64(pk, reqid);
	msgpack_pack_uint8(pk, MK_STATUS);
	msgpack_pack_int(pk, 0);
	msgpack_pack_uint8(pk, MK_RESULT);
}

void
msg_resp_error(struct buf *out, uint64_t reqid, int code, const char *msg)
{
	msgpack_packer pk;

	buf_reset(out);
	msgpack_packer_init(&pk, out, buf_pk_write);
	msgpack_pack_map(&pk, 4);
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint8(&pk, MSG_RESP);
	msgpack_pack_uint8(&pk, MK_REQID);
	msgpack_pack_uint64(&pk, reqid);
	msgpack_pack_uint8(&pk, MK_STATUS);
	msgpack_pack_int(&pk, code);
	msgpack_pack_uint8(&pk, MK_ERROR);
	msgpack_pack_str_with_body(&pk, msg, strlen(msg));
}
