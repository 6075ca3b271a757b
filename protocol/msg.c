/*
 * msg.c - the message layer: parse admin requests and peer messages with
 * the bounded cursor, check peer messages against the grammar table, and
 * encode every peer message.
 *
 * A message stays in its frame: strings and nested values are kept as
 * spans, so a 1 MiB import batch is parsed without copying it.
 */
#include <string.h>

#include "limits.h"
#include "mp.h"
#include "msg.h"
#include "schema.h"

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
	    "vids-req", "vids", "repair", "fetch", "cert", "batch"};

	if (type >= MSG_STATUS && type <= MSG_AUDIT)
		return names[type - MSG_STATUS];
	if (type >= MSG_HELLO && type <= MSG_SIGBATCH)
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
get_anybin(struct mpr *m, struct jalin_err *err, uint64_t key,
    const uint8_t **out, uint32_t *len)
{
	if (mpr_bin(m, out, len) != 0)
		return bad(m, err, key, "binary");
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
		return get_bin(
		    m, err, key, JALIN_DIGEST_BUCKETS * 32, &p->sums);
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
	case MK_ORIGIN:
		return get_str(m, err, key, &p->origin, &p->origin_len);
	case MK_BNO:
		return get_uint(m, err, key, &p->bno);
	case MK_KID:
		return get_anybin(m, err, key, &p->kid, &p->kid_len);
	case MK_SIG:
		return get_anybin(m, err, key, &p->sig, &p->sig_len);
	case MK_LEAVES:
		return get_anybin(m, err, key, &p->leaves, &p->leaves_len);
	case MK_CERT:
		return get_anybin(m, err, key, &p->cert, &p->cert_len);
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
		if (key < 64)
			p->keys |= 1ull << key;
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

static int
resp_bad(struct jalin_err *err, uint64_t key, const char *what)
{
	return jalin_err_set(err, JALIN_EPROTO, "response: key %llu must be %s",
	    (unsigned long long)key, what);
}

static int
parse_resp_key(struct mpr *m, uint64_t key, struct msg_resp *r, uint64_t *type,
    struct jalin_err *err)
{
	switch (key) {
	case MK_TYPE:
		return mpr_u64(m, type) == 0
		    ? 0
		    : resp_bad(err, key, "a non-negative integer");
	case MK_REQID:
		return mpr_u64(m, &r->reqid) == 0
		    ? 0
		    : resp_bad(err, key, "a non-negative integer");
	case MK_STATUS:
		return mpr_i64(m, &r->status) == 0
		    ? 0
		    : resp_bad(err, key, "an integer");
	case MK_ERROR:
		return mpr_str(m, &r->error, &r->error_len) == 0
		    ? 0
		    : resp_bad(err, key, "a string");
	case MK_RESULT:
		return mpr_raw(m, &r->result, &r->result_len) == 0
		    ? 0
		    : resp_bad(err, key, "a msgpack value");
	default:
		return mpr_skip(m) == 0 ? 0 : resp_bad(err, key, "a value");
	}
}

int
msg_parse_resp(
    const void *buf, size_t len, struct msg_resp *r, struct jalin_err *err)
{
	struct mpr m;
	uint32_t n;
	uint64_t key, type = UINT64_MAX;
	int rc;

	memset(r, 0, sizeof(*r));
	mpr_init(&m, buf, len);
	if (mpr_map(&m, &n) != 0)
		return jalin_err_set(
		    err, JALIN_EPROTO, "response: not a msgpack map");
	for (uint32_t i = 0; i < n; i++) {
		if (mpr_u64(&m, &key) != 0)
			return jalin_err_set(err, JALIN_EPROTO,
			    "response: keys must be non-negative integers");
		if ((rc = parse_resp_key(&m, key, r, &type, err)) != 0)
			return rc;
	}
	if (type == UINT64_MAX)
		return jalin_err_set(
		    err, JALIN_EPROTO, "response: no message type (key 0)");
	if (type != MSG_RESP)
		return jalin_err_set(err, JALIN_EPROTO,
		    "response: not a response (type %llu)",
		    (unsigned long long)type);
	return 0;
}

/* --- the grammar of peer messages -------------------------------------- */

/*
 * Required means what the node cannot act on a message without: it refuses
 * the message (or, for a late verification answer, ignores it). Everything
 * else reads as 0 or empty when absent, so older and newer peers agree.
 */
#define REQ(k)                     \
	{                          \
		k, MSG_REQUIRED, 0 \
	}
#define OPT(k)                     \
	{                          \
		k, MSG_OPTIONAL, 0 \
	}
#define WITH(k, w)             \
	{                      \
		k, MSG_WITH, w \
	}

static const struct msg_slot s_hello[] = {OPT(MK_PV_MIN), REQ(MK_PV_MAX),
    REQ(MK_NAME), REQ(MK_EPOCH), OPT(MK_SEQ), OPT(MK_FEATURES), OPT(MK_SCHEMA)};
static const struct msg_slot s_error[] = {OPT(MK_STATUS), OPT(MK_ERROR)};
static const struct msg_slot s_sub[] = {OPT(MK_EPOCH), WITH(MK_SEQ, MK_EPOCH)};
static const struct msg_slot s_resync[] = {REQ(MK_EPOCH), OPT(MK_ERROR)};
static const struct msg_slot s_changes[] = {REQ(MK_EPOCH), REQ(MK_FROM),
    REQ(MK_UPTO), OPT(MK_HEAD), OPT(MK_TIME), REQ(MK_RECS)};
static const struct msg_slot s_ack[] = {REQ(MK_EPOCH), REQ(MK_UPTO)};
static const struct msg_slot s_live[] = {OPT(MK_EPOCH), REQ(MK_UPTO)};
static const struct msg_slot s_time[] = {OPT(MK_TIME)};
static const struct msg_slot s_vdigest[] = {OPT(MK_SEQ), OPT(MK_HEAD),
    OPT(MK_UPTO), REQ(MK_SUMS), OPT(MK_COUNT), OPT(MK_BAD)};
static const struct msg_slot s_vids_req[] = {REQ(MK_BUCKET)};
static const struct msg_slot s_vids[] = {REQ(MK_BUCKET), REQ(MK_IDS)};
static const struct msg_slot s_recs[] = {REQ(MK_RECS)};
static const struct msg_slot s_ids[] = {REQ(MK_IDS)};
static const struct msg_slot s_cert[] = {REQ(MK_CERT)};
static const struct msg_slot s_batch[] = {
    REQ(MK_ORIGIN), REQ(MK_BNO), REQ(MK_KID), REQ(MK_SIG), REQ(MK_LEAVES)};

#define DEF(t, name, s)                              \
	{                                            \
		t, name, s, sizeof(s) / sizeof(s[0]) \
	}

static const struct msg_def defs[] = {
    DEF(MSG_HELLO, "HELLO", s_hello),
    DEF(MSG_ERROR, "ERROR", s_error),
    DEF(MSG_SUB, "SUB", s_sub),
    DEF(MSG_RESYNC, "RESYNC", s_resync),
    DEF(MSG_CHANGES, "CHANGES", s_changes),
    DEF(MSG_ACK, "ACK", s_ack),
    DEF(MSG_LIVE, "LIVE", s_live),
    DEF(MSG_PING, "PING", s_time),
    DEF(MSG_PONG, "PONG", s_time),
    {MSG_VDIGEST_REQ, "VDIGEST_REQ", NULL, 0},
    DEF(MSG_VDIGEST, "VDIGEST", s_vdigest),
    DEF(MSG_VIDS_REQ, "VIDS_REQ", s_vids_req),
    DEF(MSG_VIDS, "VIDS", s_vids),
    DEF(MSG_REPAIR, "REPAIR", s_recs),
    DEF(MSG_FETCH, "FETCH", s_ids),
    DEF(MSG_CERT, "CERT", s_cert),
    DEF(MSG_SIGBATCH, "BATCH", s_batch),
};

static const struct msg_keydef keys[] = {
    {MK_TYPE, MV_UINT, "TYPE"},
    {MK_STATUS, MV_INT, "STATUS"},
    {MK_ERROR, MV_STR, "ERROR"},
    {MK_PV_MIN, MV_UINT, "PV_MIN"},
    {MK_PV_MAX, MV_UINT, "PV_MAX"},
    {MK_NAME, MV_STR, "NAME"},
    {MK_EPOCH, MV_BIN16, "EPOCH"},
    {MK_SEQ, MV_UINT, "SEQ"},
    {MK_FEATURES, MV_UINT, "FEATURES"},
    {MK_SCHEMA, MV_MAP, "SCHEMA"},
    {MK_TIME, MV_UINT, "TIME"},
    {MK_FROM, MV_UINT, "FROM"},
    {MK_UPTO, MV_UINT, "UPTO"},
    {MK_HEAD, MV_UINT, "HEAD"},
    {MK_RECS, MV_ARRAY, "RECS"},
    {MK_SUMS, MV_SUMS, "SUMS"},
    {MK_COUNT, MV_UINT, "COUNT"},
    {MK_BAD, MV_UINT, "BAD"},
    {MK_BUCKET, MV_UINT, "BUCKET"},
    {MK_IDS, MV_ARRAY, "IDS"},
    {MK_ORIGIN, MV_STR, "ORIGIN"},
    {MK_BNO, MV_UINT, "BNO"},
    {MK_KID, MV_BIN, "KID"},
    {MK_SIG, MV_BIN, "SIG"},
    {MK_LEAVES, MV_BIN, "LEAVES"},
    {MK_CERT, MV_BIN, "CERT"},
};

const struct msg_def *
msg_defs(size_t *n)
{
	*n = sizeof(defs) / sizeof(defs[0]);
	return defs;
}

const struct msg_keydef *
msg_keys(size_t *n)
{
	*n = sizeof(keys) / sizeof(keys[0]);
	return keys;
}

const struct msg_def *
msg_def(uint64_t type)
{
	if (type < MSG_HELLO || type > MSG_SIGBATCH)
		return NULL;
	return &defs[type - MSG_HELLO];
}

const struct msg_keydef *
msg_key(uint64_t key)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].key == key)
			return &keys[i];
	return NULL;
}

const char *
msg_vtype_name(unsigned vtype)
{
	static const char *const names[] = {"uint", "int", "str", "bin 16",
	    "bin 8192", "map str→uint", "array", "bin"};

	return vtype < sizeof(names) / sizeof(names[0]) ? names[vtype] : "?";
}

static bool
has_key(const struct msg_peer *m, uint8_t key)
{
	return (m->keys >> key) & 1;
}

int
msg_check_peer(const struct msg_peer *m, struct jalin_err *err)
{
	const struct msg_def *d = msg_def(m->type);

	for (uint8_t i = 0; d != NULL && i < d->nslots; i++) {
		const struct msg_slot *s = &d->slots[i];
		if (has_key(m, s->key) || s->need == MSG_OPTIONAL)
			continue;
		if (s->need == MSG_REQUIRED)
			return jalin_err_set(err, JALIN_EPROTO,
			    "%s: required key %u (%s) is missing", d->name,
			    s->key, msg_key(s->key)->name);
		if (has_key(m, s->with))
			return jalin_err_set(err, JALIN_EPROTO,
			    "%s: key %u (%s) is required with key %u (%s)",
			    d->name, s->key, msg_key(s->key)->name, s->with,
			    msg_key(s->with)->name);
	}
	return 0;
}

int
msg_decode_peer(
    const void *buf, size_t len, struct msg_peer *m, struct jalin_err *err)
{
	int rc = msg_parse_peer(buf, len, m, err);

	return rc != 0 ? rc : msg_check_peer(m, err);
}

/* --- encoders of peer messages ----------------------------------------- */

/* Reset out and open a map of n keys besides the type. */
static void
enc_begin(struct buf *out, msgpack_packer *pk, uint32_t n, uint8_t type)
{
	buf_reset(out);
	msgpack_packer_init(pk, out, buf_pk_write);
	msgpack_pack_map(pk, n + 1);
	msgpack_pack_uint8(pk, MK_TYPE);
	msgpack_pack_uint8(pk, type);
}

static void
put_uint(msgpack_packer *pk, uint8_t key, uint64_t v)
{
	msgpack_pack_uint8(pk, key);
	msgpack_pack_uint64(pk, v);
}

static void
put_str(msgpack_packer *pk, uint8_t key, const char *s)
{
	msgpack_pack_uint8(pk, key);
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void
put_bin(msgpack_packer *pk, uint8_t key, const uint8_t *b, size_t n)
{
	msgpack_pack_uint8(pk, key);
	msgpack_pack_bin_with_body(pk, b, n);
}

static void
put_schema(msgpack_packer *pk, const struct msg_hello *h)
{
	msgpack_pack_uint8(pk, MK_SCHEMA);
	if (h->schema != NULL) {
		msgpack_pack_map(pk, h->nschema);
		for (uint32_t i = 0; i < h->nschema; i++) {
			const char *name = h->schema[i].name;
			msgpack_pack_str_with_body(pk, name, strlen(name));
			msgpack_pack_uint32(pk, h->schema[i].version);
		}
		return;
	}
	msgpack_pack_map(pk, COLL_COUNT);
	for (unsigned i = COLL_MIN; i <= COLL_MAX; i++) {
		const struct schema_coll *c = schema_coll_by_id(i);
		msgpack_pack_str_with_body(pk, c->name, strlen(c->name));
		msgpack_pack_uint32(pk, c->version);
	}
}

void
msg_enc_hello(struct buf *out, const struct msg_hello *h)
{
	msgpack_packer pk;

	enc_begin(out, &pk, 7, MSG_HELLO);
	put_uint(&pk, MK_PV_MIN, h->pv_min);
	put_uint(&pk, MK_PV_MAX, h->pv_max);
	put_str(&pk, MK_NAME, h->name);
	put_bin(&pk, MK_EPOCH, h->epoch, 16);
	put_uint(&pk, MK_SEQ, h->seq);
	put_uint(&pk, MK_FEATURES, h->features);
	put_schema(&pk, h);
}

void
msg_enc_error(struct buf *out, int code, const char *msg)
{
	msgpack_packer pk;

	enc_begin(out, &pk, 2, MSG_ERROR);
	msgpack_pack_uint8(&pk, MK_STATUS);
	msgpack_pack_int(&pk, code);
	put_str(&pk, MK_ERROR, msg);
}

void
msg_enc_sub(struct buf *out, const uint8_t *epoch, uint64_t seq)
{
	msgpack_packer pk;

	enc_begin(out, &pk, epoch != NULL ? 2 : 0, MSG_SUB);
	if (epoch == NULL)
		return;
	put_bin(&pk, MK_EPOCH, epoch, 16);
	put_uint(&pk, MK_SEQ, seq);
}

void
msg_enc_resync(struct buf *out, const uint8_t epoch[16], const char *why)
{
	msgpack_packer pk;

	enc_begin(out, &pk, 2, MSG_RESYNC);
	put_bin(&pk, MK_EPOCH, epoch, 16);
	put_str(&pk, MK_ERROR, why);
}

static void
enc_epoch_upto(
    struct buf *out, uint8_t type, const uint8_t epoch[16], uint64_t upto)
{
	msgpack_packer pk;

	enc_begin(out, &pk, 2, type);
	put_bin(&pk, MK_EPOCH, epoch, 16);
	put_uint(&pk, MK_UPTO, upto);
}

void
msg_enc_ack(struct buf *out, const uint8_t epoch[16], uint64_t upto)
{
	enc_epoch_upto(out, MSG_ACK, epoch, upto);
}

void
msg_enc_live(struct buf *out, const uint8_t epoch[16], uint64_t upto)
{
	enc_epoch_upto(out, MSG_LIVE, epoch, upto);
}

static void
enc_time(struct buf *out, uint8_t type, uint64_t time_ms)
{
	msgpack_packer pk;

	enc_begin(out, &pk, 1, type);
	put_uint(&pk, MK_TIME, time_ms);
}

void
msg_enc_cert(struct buf *out, const uint8_t *der, size_t len)
{
	msgpack_packer pk;

	enc_begin(out, &pk, 1, MSG_CERT);
	msgpack_pack_uint8(&pk, MK_CERT);
	msgpack_pack_bin_with_body(&pk, der, len);
}

void
msg_enc_batch(struct buf *out, const char *origin, size_t olen, uint64_t bno,
    const uint8_t *kid, size_t kidlen, const uint8_t *sig, size_t slen,
    const uint8_t *leaves, size_t lbytes)
{
	msgpack_packer pk;

	enc_begin(out, &pk, 5, MSG_SIGBATCH);
	msgpack_pack_uint8(&pk, MK_ORIGIN);
	msgpack_pack_str_with_body(&pk, origin, olen);
	put_uint(&pk, MK_BNO, bno);
	msgpack_pack_uint8(&pk, MK_KID);
	msgpack_pack_bin_with_body(&pk, kid, kidlen);
	msgpack_pack_uint8(&pk, MK_SIG);
	msgpack_pack_bin_with_body(&pk, sig, slen);
	msgpack_pack_uint8(&pk, MK_LEAVES);
	msgpack_pack_bin_with_body(&pk, leaves, lbytes);
}

void
msg_enc_ping(struct buf *out, uint64_t time_ms)
{
	enc_time(out, MSG_PING, time_ms);
}

void
msg_enc_pong(struct buf *out, uint64_t time_ms)
{
	enc_time(out, MSG_PONG, time_ms);
}

void
msg_enc_vdigest_req(struct buf *out)
{
	msgpack_packer pk;

	enc_begin(out, &pk, 0, MSG_VDIGEST_REQ);
}

void
msg_enc_vdigest(struct buf *out, const struct msg_vdigest *d)
{
	msgpack_packer pk;

	enc_begin(out, &pk, 6, MSG_VDIGEST);
	put_uint(&pk, MK_SEQ, d->seq);
	put_uint(&pk, MK_HEAD, d->head);
	put_uint(&pk, MK_UPTO, d->upto);
	put_bin(&pk, MK_SUMS, d->sums, 256 * 32);
	put_uint(&pk, MK_COUNT, d->count);
	put_uint(&pk, MK_BAD, d->bad);
}

void
msg_enc_vids_req(struct buf *out, uint8_t bucket)
{
	msgpack_packer pk;

	enc_begin(out, &pk, 1, MSG_VIDS_REQ);
	put_uint(&pk, MK_BUCKET, bucket);
}

void
msg_enc_vids(struct buf *out, uint8_t bucket, uint32_t n, const uint8_t *items,
    size_t len)
{
	msgpack_packer pk;

	enc_begin(out, &pk, 2, MSG_VIDS);
	put_uint(&pk, MK_BUCKET, bucket);
	msgpack_pack_uint8(&pk, MK_IDS);
	msgpack_pack_array(&pk, n);
	buf_pk_write(out, (const char *)items, len);
}

void
msg_ids_item(
    msgpack_packer *pk, uint8_t coll, const uint8_t id[16], const uint8_t *hash)
{
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, coll);
	msgpack_pack_bin_with_body(pk, id, 16);
	if (hash != NULL)
		msgpack_pack_bin_with_body(pk, hash, 32);
	else
		msgpack_pack_nil(pk);
}

/* --- streaming messages ------------------------------------------------ */

/*
 * Fixed-size slots patched at the end: a uint64 as cf + 8 bytes, an array
 * header as dd + 4 bytes (PROTOCOL.md section 11 shows both). A failed
 * append marks out failed, like a packer write.
 */
static size_t
slot(struct buf *out, uint8_t tag, size_t n)
{
	static const uint8_t zero[8];
	size_t at = out->len;

	if (buf_append(out, &tag, 1) != 0 || buf_append(out, zero, n) != 0)
		out->err = out->err ? out->err : JALIN_ETOOBIG;
	return at + 1;
}

static void
patch(struct buf *out, size_t at, uint64_t v, size_t n)
{
	if (out->err != 0 || at + n > out->len)
		return;
	for (size_t i = 0; i < n; i++)
		out->p[at + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void
batch_begin(struct msg_batch *bt, struct buf *out, uint32_t n, uint8_t type)
{
	bt->out = out;
	bt->upto_at = 0;
	bt->n = 0;
	bt->want = MSG_COUNT_LATER;
	enc_begin(out, &bt->pk, n, type);
}

/* The items' array: counted now, or a slot patched at the end. */
static void
batch_items(struct msg_batch *bt, uint8_t key, uint32_t n)
{
	msgpack_pack_uint8(&bt->pk, key);
	bt->want = n;
	if (n != MSG_COUNT_LATER)
		msgpack_pack_array(&bt->pk, n);
	else
		bt->mark = slot(bt->out, 0xdd, 4);
}

void
msg_changes_begin(struct msg_batch *bt, struct buf *out,
    const uint8_t epoch[16], uint64_t from, uint64_t head, uint64_t time_ms)
{
	batch_begin(bt, out, 6, MSG_CHANGES);
	put_bin(&bt->pk, MK_EPOCH, epoch, 16);
	put_uint(&bt->pk, MK_FROM, from);
	msgpack_pack_uint8(&bt->pk, MK_UPTO);
	bt->upto_at = slot(out, 0xcf, 8);
	put_uint(&bt->pk, MK_HEAD, head);
	put_uint(&bt->pk, MK_TIME, time_ms);
	batch_items(bt, MK_RECS, MSG_COUNT_LATER);
}

void
msg_repair_begin(struct msg_batch *bt, struct buf *out, uint32_t n)
{
	batch_begin(bt, out, 1, MSG_REPAIR);
	batch_items(bt, MK_RECS, n);
}

void
msg_fetch_begin(struct msg_batch *bt, struct buf *out)
{
	batch_begin(bt, out, 1, MSG_FETCH);
	batch_items(bt, MK_IDS, MSG_COUNT_LATER);
}

void
msg_batch_rec(struct msg_batch *bt, uint64_t seq, uint8_t coll,
    const uint8_t id[16], const uint8_t *state, size_t len)
{
	msgpack_pack_array(&bt->pk, 4);
	msgpack_pack_uint64(&bt->pk, seq);
	msgpack_pack_uint8(&bt->pk, coll);
	msgpack_pack_bin_with_body(&bt->pk, id, 16);
	/* the state as it lies in the store: the one copy of its bytes */
	if (state != NULL)
		buf_pk_write(bt->out, (const char *)state, len);
	else
		msgpack_pack_nil(&bt->pk);
	bt->n++;
}

void
msg_batch_rec4(struct msg_batch *bt, uint64_t seq, uint8_t coll,
    const uint8_t id[16], const uint8_t *state, size_t len,
    const uint8_t *proof, size_t plen)
{
	msgpack_pack_array(&bt->pk, 5);
	msgpack_pack_uint64(&bt->pk, seq);
	msgpack_pack_uint8(&bt->pk, coll);
	msgpack_pack_bin_with_body(&bt->pk, id, 16);
	if (state != NULL)
		buf_pk_write(bt->out, (const char *)state, len);
	else
		msgpack_pack_nil(&bt->pk);
	if (plen > 0)
		buf_pk_write(bt->out, (const char *)proof, plen);
	else
		msgpack_pack_nil(&bt->pk);
	bt->n++;
}

void
msg_batch_id(struct msg_batch *bt, uint8_t coll, const uint8_t id[16])
{
	msgpack_pack_array(&bt->pk, 2);
	msgpack_pack_uint8(&bt->pk, coll);
	msgpack_pack_bin_with_body(&bt->pk, id, 16);
	bt->n++;
}

void
msg_changes_end(struct msg_batch *bt, uint64_t upto)
{
	patch(bt->out, bt->upto_at, upto, 8);
	msg_batch_end(bt);
}

void
msg_batch_end(struct msg_batch *bt)
{
	if (bt->want == MSG_COUNT_LATER)
		patch(bt->out, bt->mark, bt->n, 4);
	else if (bt->n != bt->want && bt->out->err == 0)
		bt->out->err = JALIN_EINVAL;
}
