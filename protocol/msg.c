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

static int
get_raw(struct mpr *m, struct jalin_err *err, uint64_t key, enum mp_type want,
    const uint8_t **p, size_t *len)
{
	enum mp_type t = mpr_peek(m);

	if (want != MP_INVALID && t != want)
		return bad(m, err, key, want == MP_MAP ? "a map" : "an array");
	if (mpr_raw(m, p, len) != 0)
		return bad(m, err, key, "a msgpack value");
	return 0;
}

static int
parse_key(struct mpr *m, uint64_t key, struct msg_req *r, struct jalin_err *err)
{
	switch (key) {
	case MK_TYPE:
		return get_uint(m, err, key, &r->type);
	case MK_REQID:
		return get_uint(m, err, key, &r->reqid);
	case MK_COLL:
		return get_str(m, err, key, &r->coll, &r->coll_len);
	case MK_ID:
		return get_raw(m, err, key, MP_INVALID, &r->id, &r->id_len);
	case MK_FIELDS:
		return get_raw(m, err, key, MP_MAP, &r->fields, &r->fields_len);
	case MK_VERSIONS:
		return get_bool(m, err, key, &r->versions);
	case MK_REASON:
		return get_str(m, err, key, &r->reason, &r->reason_len);
	case MK_HASH:
		return get_raw(m, err, key, MP_INVALID, &r->hash, &r->hash_len);
	case MK_LIMIT:
		return get_uint(m, err, key, &r->limit);
	case MK_AFTER:
		return get_str(m, err, key, &r->after, &r->after_len);
	case MK_SINCE:
		return get_uint(m, err, key, &r->since);
	case MK_RECORDS:
		return get_raw(
		    m, err, key, MP_ARRAY, &r->records, &r->records_len);
	case MK_STOP:
		return get_bool(m, err, key, &r->stop);
	case MK_PEER:
		return get_str(m, err, key, &r->peer, &r->peer_len);
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
		if ((rc = parse_key(&m, key, req, err)) != 0)
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
	    "peers", "verify"};

	if (type >= MSG_STATUS && type <= MSG_VERIFY)
		return names[type - MSG_STATUS];
	return type == MSG_RESP ? "response" : "unknown";
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
