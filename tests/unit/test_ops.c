/*
 * test_ops.c - local writes (node/ops.c) without sockets or processes:
 * requests built in msgpack, parsed by msg_parse_req, queued with
 * ops_submit and applied by ops_flush (or by the event loop) in one group
 * commit; the response handed to the done callback is decoded and checked
 * (status, exact error text, result), and the stored record is read back
 * through query_get. A fresh store in a temporary directory per test.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>
#include <jansson.h>
#include <msgpack.h>

#include "hlc.h"
#include "ops.h"
#include "query.h"
#include "store.h"
#include "view.h"

#define NODE "jabar"

/* What one done callback received. */
struct resp {
	int n; /* calls */
	uint64_t reqid;
	int64_t status;
	char error[JALIN_ERRMSG_MAX + 64];
	json_t *result;
};

struct fx {
	char dir[64];
	struct store *s;
	struct event_base *base;
	struct ops *o;
	int commits;
};

/* One request; every value but type optional. */
struct rq {
	uint64_t type;
	uint64_t reqid;
	const char *coll;
	const char *id_json;   /* the MK_ID value as JSON ("null" allowed) */
	const char *json;      /* MK_FIELDS (put) or MK_RECORDS (import) */
	const char *reason;    /* MK_REASON */
	const char *hash_json; /* MK_HASH as JSON */
	const uint8_t *hash_bin;
	size_t hash_bin_len;
	bool stop;
	uint8_t raw_key; /* with raw: this key's value as raw bytes, last */
	const uint8_t *raw;
	size_t raw_len;
};

/* ---- fixture ------------------------------------------------------------ */

static void
on_commit(void *arg)
{
	((struct fx *)arg)->commits++;
}

static void
open_store(struct fx *f, uint64_t map_max, uint64_t map_initial)
{
	struct store_opts so = {f->dir, NODE, map_max, map_initial};

	assert_int_equal(store_open(&so, &f->s, NULL), 0);
	assert_non_null(f->o = ops_new(f->base, f->s));
	ops_set_hook(f->o, on_commit, f);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/jalin-ops-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_non_null(f->base = event_base_new());
	/* as main.c: the flush event runs at the lower priority */
	assert_int_equal(event_base_priority_init(f->base, 2), 0);
	open_store(f, 64ull << 20, 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	ops_free(f->o);
	store_close(f->s);
	event_base_free(f->base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
resp_clear(struct resp *r)
{
	json_decref(r->result);
	memset(r, 0, sizeof(*r));
}

/* ---- JSON <-> msgpack --------------------------------------------------- */

static void
pack_json(msgpack_packer *pk, const json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(v));
		json_object_foreach((json_t *)(uintptr_t)v, k, x)
		{
			msgpack_pack_str_with_body(pk, k, strlen(k));
			pack_json(pk, x);
		}
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(v));
		json_array_foreach(v, i, x) pack_json(pk, x);
		break;
	case JSON_STRING:
		msgpack_pack_str_with_body(
		    pk, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(v));
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	case JSON_NULL:
		msgpack_pack_nil(pk);
		break;
	default:
		fail_msg("no reals in these tests");
	}
}

static void
pack_json_text(msgpack_packer *pk, const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &je);

	if (v == NULL)
		fail_msg("bad JSON in a test: %s: %s", je.text, text);
	pack_json(pk, v);
	json_decref(v);
}

static json_t *
to_json(const msgpack_object *o)
{
	json_t *v;

	switch (o->type) {
	case MSGPACK_OBJECT_MAP:
		v = json_object();
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			char key[128];
			assert_int_equal(k->type, MSGPACK_OBJECT_STR);
			assert_true(k->via.str.size < sizeof(key));
			memcpy(key, k->via.str.ptr, k->via.str.size);
			key[k->via.str.size] = '\0';
			json_object_set_new(
			    v, key, to_json(&o->via.map.ptr[i].val));
		}
		return v;
	case MSGPACK_OBJECT_ARRAY:
		v = json_array();
		for (uint32_t i = 0; i < o->via.array.size; i++)
			json_array_append_new(v, to_json(&o->via.array.ptr[i]));
		return v;
	case MSGPACK_OBJECT_STR:
		return json_stringn(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer(o->via.i64);
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_NIL:
		return json_null();
	default:
		fail_msg("unexpected msgpack type %d in a result", o->type);
	}
	return NULL;
}

/* Compact JSON with sorted keys, for exact comparisons. Caller frees. */
static char *
dump(const json_t *v)
{
	char *s =
	    json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	assert_non_null(s);
	return s;
}

static void
assert_json(const json_t *v, const char *want)
{
	char *got = dump(v);
	json_error_t je;
	json_t *w = json_loads(want, JSON_DECODE_ANY, &je);
	char *ws;

	assert_non_null(w);
	ws = dump(w);
	assert_string_equal(got, ws);
	free(got);
	free(ws);
	json_decref(w);
}

static void
assert_same(const json_t *a, const json_t *b)
{
	char *sa = dump(a), *sb = dump(b);

	assert_string_equal(sa, sb);
	free(sa);
	free(sb);
}

/* ---- requests and responses --------------------------------------------- */

/* The done callback: decode the MSG_RESP envelope into ctx. */
static void
on_done(void *ctx, const uint8_t *p, size_t len)
{
	struct resp *r = ctx;
	msgpack_unpacked up;
	size_t off = 0;

	r->n++;
	json_decref(r->result);
	r->result = NULL;
	r->error[0] = '\0';
	r->status = 0;
	msgpack_unpacked_init(&up);
	assert_int_equal(msgpack_unpack_next(&up, (const char *)p, len, &off),
	    MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, len);
	assert_int_equal(up.data.type, MSGPACK_OBJECT_MAP);
	for (uint32_t i = 0; i < up.data.via.map.size; i++) {
		const msgpack_object *k = &up.data.via.map.ptr[i].key;
		const msgpack_object *v = &up.data.via.map.ptr[i].val;
		switch (k->via.u64) {
		case MK_TYPE:
			assert_int_equal(v->via.u64, MSG_RESP);
			break;
		case MK_REQID:
			r->reqid = v->via.u64;
			break;
		case MK_STATUS:
			r->status = v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER
			    ? v->via.i64
			    : (int64_t)v->via.u64;
			break;
		case MK_ERROR:
			assert_true(v->via.str.size < sizeof(r->error));
			memcpy(r->error, v->via.str.ptr, v->via.str.size);
			r->error[v->via.str.size] = '\0';
			break;
		case MK_RESULT:
			r->result = to_json(v);
			break;
		default:
			fail_msg("unexpected key %llu in a response",
			    (unsigned long long)k->via.u64);
		}
	}
	msgpack_unpacked_destroy(&up);
}

/* The request map of q (frame.h's body), in sb. */
static void
pack_req(msgpack_sbuffer *sb, const struct rq *q)
{
	msgpack_packer pk;
	uint32_t n = 2 + (q->coll != NULL) + (q->id_json != NULL) +
	    (q->json != NULL) + (q->reason != NULL) + (q->hash_json != NULL) +
	    (q->hash_bin != NULL) + (q->type == MSG_IMPORT) + (q->raw != NULL);

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n);
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint64(&pk, q->type);
	msgpack_pack_uint8(&pk, MK_REQID);
	msgpack_pack_uint64(&pk, q->reqid);
	if (q->coll != NULL) {
		msgpack_pack_uint8(&pk, MK_COLL);
		msgpack_pack_str_with_body(&pk, q->coll, strlen(q->coll));
	}
	if (q->id_json != NULL) {
		msgpack_pack_uint8(&pk, MK_ID);
		pack_json_text(&pk, q->id_json);
	}
	if (q->reason != NULL) {
		msgpack_pack_uint8(&pk, MK_REASON);
		msgpack_pack_str_with_body(&pk, q->reason, strlen(q->reason));
	}
	if (q->hash_json != NULL) {
		msgpack_pack_uint8(&pk, MK_HASH);
		pack_json_text(&pk, q->hash_json);
	}
	if (q->hash_bin != NULL) {
		msgpack_pack_uint8(&pk, MK_HASH);
		msgpack_pack_bin_with_body(&pk, q->hash_bin, q->hash_bin_len);
	}
	if (q->type == MSG_IMPORT) {
		msgpack_pack_uint8(&pk, MK_STOP);
		(q->stop ? msgpack_pack_true : msgpack_pack_false)(&pk);
	}
	if (q->json != NULL) { /* the bulk last, as jalinctl sends it */
		msgpack_pack_uint8(
		    &pk, q->type == MSG_IMPORT ? MK_RECORDS : MK_FIELDS);
		pack_json_text(&pk, q->json);
	}
	if (q->raw != NULL) {
		msgpack_pack_uint8(&pk, q->raw_key);
		msgpack_sbuffer_write(sb, (const char *)q->raw, q->raw_len);
	}
}

/* Build q, parse it with msg_parse_req, hand it to ops_submit. */
static int
submit_to(struct fx *f, const struct rq *q, ops_done_fn done, void *ctx)
{
	msgpack_sbuffer sb;
	struct msg_req req;
	struct jalin_err err;
	int rc;

	msgpack_sbuffer_init(&sb);
	pack_req(&sb, q);
	jalin_err_clear(&err);
	assert_int_equal(msg_parse_req(sb.data, sb.size, &req, &err), 0);
	rc = ops_submit(f->o, &req, done, ctx);
	/* the request's frame is gone once ops_submit returns */
	memset(sb.data, 0xc1, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static void
submit(struct fx *f, const struct rq *q, struct resp *r)
{
	assert_int_equal(submit_to(f, q, on_done, r), 0);
}

/* Submit, commit, and expect exactly one answer. */
static void
run(struct fx *f, const struct rq *q, struct resp *r)
{
	resp_clear(r);
	submit(f, q, r);
	ops_flush(f->o);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->reqid, q->reqid);
	assert_int_equal(ops_pending(f->o), 0);
}

static void
assert_ok(const struct resp *r)
{
	if (r->status != 0)
		fail_msg("expected success, got %lld: %s", (long long)r->status,
		    r->error);
	assert_string_equal(r->error, "");
	assert_non_null(r->result);
}

static void
assert_err(const struct resp *r, int code, const char *msg)
{
	assert_int_equal(r->n, 1);
	if (r->status != code)
		fail_msg("expected %d, got %lld: %s", code,
		    (long long)r->status, r->error);
	assert_string_equal(r->error, msg);
	assert_null(r->result);
}

/* put coll {fields} (id_json NULL: a new record): run and return r. */
static void
put(struct fx *f, const char *coll, const char *id_json, const char *fields,
    struct resp *r)
{
	run(f,
	    &(struct rq){.type = MSG_PUT,
	        .reqid = 7,
	        .coll = coll,
	        .id_json = id_json,
	        .json = fields},
	    r);
}

/* The id a successful single-record answer gave, as a JSON string. */
static void
id_of(const struct resp *r, char out[UUID_STR_LEN + 3])
{
	const char *s;

	assert_ok(r);
	s = json_string_value(json_object_get(r->result, "id"));
	assert_non_null(s);
	assert_int_equal(strlen(s), UUID_STR_LEN);
	snprintf(out, UUID_STR_LEN + 3, "\"%s\"", s);
}

static void
assert_id(const struct resp *r, const char *id_json)
{
	char got[UUID_STR_LEN + 3];

	id_of(r, got);
	assert_string_equal(got, id_json);
}

static bool
changed(const struct resp *r)
{
	assert_ok(r);
	return json_is_true(json_object_get(r->result, "changed"));
}

#define LKS                                                            \
	"{\"name\": \"Yayasan Harapan\", \"legal_form\": \"yayasan\"," \
	" \"status\": \"active\"}"
#define CASE                                                             \
	"{\"controller\": \"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\","     \
	" \"legal_basis\": \"vital_interest\", \"status\": \"intake\", " \
	"\"cluster\": \"child\"}"

/* Create an lks record; its id as JSON in id. */
static void
new_lks(struct fx *f, char id[UUID_STR_LEN + 3])
{
	struct resp r = {0};

	put(f, "lks", NULL, LKS, &r);
	id_of(&r, id);
	assert_true(changed(&r));
	resp_clear(&r);
}

/*
 * The stored record as a client reads it (query_get; versions: with each
 * field's version), or NULL with *rc and msg set.
 */
static json_t *
get(struct fx *f, const char *coll, const char *id_json, bool versions, int *rc,
    char *msg, size_t msglen)
{
	const struct schema_coll *c = schema_coll_by_name(coll, strlen(coll));
	struct record *ws = malloc(sizeof(*ws));
	struct jalin_err err;
	msgpack_unpacked up;
	msgpack_packer pk;
	json_t *out = NULL;
	uint8_t id[UUID_LEN];
	struct buf b;
	MDB_txn *txn;
	json_error_t je;
	json_t *idj = json_loads(id_json, JSON_DECODE_ANY, &je);

	assert_non_null(idj);
	assert_int_equal(
	    uuid_parse(json_string_value(idj), UUID_STR_LEN, id), 0);
	json_decref(idj);
	buf_init(&b, JALIN_FRAME_MAX);
	msgpack_packer_init(&pk, &b, buf_pk_write);
	jalin_err_clear(&err);
	assert_int_equal(stdb_begin_read(store_db(f->s), &txn, NULL), 0);
	*rc = query_get(txn, store_db(f->s), c, id,
	    versions ? VIEW_VERSIONS : 0, ws, NULL, &pk, &b, &err);
	mdb_txn_abort(txn);
	if (msg != NULL)
		snprintf(msg, msglen, "%s", jalin_err_msg(&err, *rc));
	if (*rc == 0) {
		msgpack_unpacked_init(&up);
		assert_int_equal(
		    msgpack_unpack_next(&up, (const char *)b.p, b.len, NULL),
		    MSGPACK_UNPACK_SUCCESS);
		out = to_json(&up.data);
		msgpack_unpacked_destroy(&up);
	}
	buf_free(&b);
	free(ws);
	return out;
}

/* The live record (plain view); fails the test if there is none. */
static json_t *
get_live(struct fx *f, const char *coll, const char *id_json)
{
	char msg[JALIN_ERRMSG_MAX];
	int rc;
	json_t *v = get(f, coll, id_json, false, &rc, msg, sizeof(msg));

	if (rc != 0)
		fail_msg("get %s %s: %s", coll, id_json, msg);
	return v;
}

/* versions.fields of the record (every field with value, hlc, origin). */
static json_t *
get_versions(struct fx *f, const char *coll, const char *id_json)
{
	int rc;
	json_t *v = get(f, coll, id_json, true, &rc, NULL, 0);

	assert_int_equal(rc, 0);
	return v;
}

static uint64_t
field_hlc(const json_t *vers, const char *field)
{
	const json_t *x = json_object_get(
	    json_object_get(json_object_get(vers, "versions"), "fields"),
	    field);

	if (x == NULL)
		fail_msg("field %s has no version", field);
	return (uint64_t)json_integer_value(json_object_get(x, "hlc"));
}

static const char *
str_at(const json_t *v, const char *key)
{
	const char *s = json_string_value(json_object_get(v, key));

	if (s == NULL)
		fail_msg("no string %s", key);
	return s;
}

/* "lks <uuid>" for an id given as JSON text. */
static const char *
rname(const char *coll, const char *id_json, char *buf, size_t n)
{
	snprintf(buf, n, "%s %.*s", coll, UUID_STR_LEN, id_json + 1);
	return buf;
}

/* ---- put ---------------------------------------------------------------- */

static void
test_put_new_record(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	uint64_t before = hlc_wall_ms();
	char id[UUID_STR_LEN + 3];

	put(f, "lks", NULL, LKS, &r);
	id_of(&r, id);
	assert_true(changed(&r));
	/* a UUIDv7: version 7, variant 10 */
	assert_int_equal(id[1 + 14], '7');
	assert_non_null(strchr("89ab", id[1 + 19]));
	assert_int_equal(f->commits, 1);
	assert_int_equal(store_seq(f->s), 1);

	json_t *v = get_live(f, "lks", id);
	/* what was given, and the system fields the node set */
	assert_string_equal(str_at(v, "name"), "Yayasan Harapan");
	assert_string_equal(str_at(v, "legal_form"), "yayasan");
	assert_string_equal(str_at(v, "status"), "active");
	assert_string_equal(str_at(v, "origin_node"), NODE);
	uint64_t at =
	    (uint64_t)json_integer_value(json_object_get(v, "created_at"));
	assert_true(at >= before && at <= hlc_wall_ms());
	assert_int_equal(json_object_size(v), 6); /* id + 5 fields */
	json_decref(v);

	/* all fields of one write share one version, by this node */
	v = get_versions(f, "lks", id);
	uint64_t h = field_hlc(v, "name");
	assert_true(h > 0);
	assert_int_equal(field_hlc(v, "status"), h);
	assert_int_equal(field_hlc(v, "origin_node"), h);
	assert_int_equal(field_hlc(v, "created_at"), h);
	assert_string_equal(
	    str_at(
	        json_object_get(
	            json_object_get(json_object_get(v, "versions"), "fields"),
	            "name"),
	        "origin"),
	    NODE);
	json_decref(v);

	/* a second new record gets another id */
	char id2[UUID_STR_LEN + 3];
	put(f, "lks", "null", LKS, &r); /* id nil: a new record too */
	id_of(&r, id2);
	assert_string_not_equal(id, id2);
	resp_clear(&r);
}

static void
test_put_given_id_creates(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	const char *id = "\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\"";

	put(f, "lks", id, LKS, &r);
	assert_true(changed(&r));
	assert_string_equal(
	    str_at(r.result, "id"), "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
	json_t *v = get_live(f, "lks", id);
	assert_string_equal(str_at(v, "name"), "Yayasan Harapan");
	json_decref(v);
	resp_clear(&r);
}

static void
test_put_update_versions(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3];

	put(f, "lks", NULL,
	    "{\"name\": \"Yayasan Harapan\", \"legal_form\": \"yayasan\", "
	    "\"status\": \"active\", \"address\": \"Jl. Merdeka 1\", "
	    "\"staff.total\": 12}",
	    &r);
	id_of(&r, id);
	json_t *v0 = get_versions(f, "lks", id);
	uint64_t h0 = field_hlc(v0, "name");
	json_decref(v0);

	/* one field changes, one is given with its current value */
	put(f, "lks", id,
	    "{\"status\": \"inactive\", \"name\": \"Yayasan Harapan\"}", &r);
	assert_true(changed(&r));
	assert_id(&r, id);
	json_t *v1 = get_versions(f, "lks", id);
	uint64_t h1 = field_hlc(v1, "status");
	assert_true(h1 > h0);
	assert_int_equal(field_hlc(v1, "name"), h0);
	assert_int_equal(field_hlc(v1, "address"), h0);
	assert_int_equal(field_hlc(v1, "origin_node"), h0);
	assert_int_equal(field_hlc(v1, "created_at"), h0);
	json_decref(v1);
	json_t *v = get_live(f, "lks", id);
	assert_string_equal(str_at(v, "status"), "inactive");
	assert_int_equal(
	    json_integer_value(json_object_get(v, "staff.total")), 12);
	json_decref(v);

	/* null removes a field; the others keep their versions */
	put(f, "lks", id, "{\"address\": null}", &r);
	assert_true(changed(&r));
	v = get_live(f, "lks", id);
	assert_null(json_object_get(v, "address"));
	assert_string_equal(str_at(v, "name"), "Yayasan Harapan");
	json_decref(v);
	v1 = get_versions(f, "lks", id);
	assert_true(field_hlc(v1, "address") > h1);
	assert_true(json_is_null(json_object_get(
	    json_object_get(
	        json_object_get(json_object_get(v1, "versions"), "fields"),
	        "address"),
	    "value")));
	assert_int_equal(field_hlc(v1, "status"), h1);
	assert_int_equal(field_hlc(v1, "name"), h0);
	json_decref(v1);
	assert_int_equal(store_seq(f->s), 3);
	resp_clear(&r);
}

static void
test_put_noop(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3];

	new_lks(f, id);
	json_t *v0 = get_versions(f, "lks", id);
	uint64_t seq = store_seq(f->s);
	put(f, "lks", id, LKS, &r);
	assert_false(changed(&r));
	assert_id(&r, id);
	/* nothing written: no feed entry, no new version, yet a commit */
	assert_int_equal(store_seq(f->s), seq);
	json_t *v1 = get_versions(f, "lks", id);
	assert_same(v1, v0);
	json_decref(v0);
	json_decref(v1);
	/* a subset of the fields, unchanged: still nothing */
	put(f, "lks", id, "{\"status\": \"active\"}", &r);
	assert_false(changed(&r));
	assert_int_equal(store_seq(f->s), seq);
	resp_clear(&r);
}

/* A put refused while it is parsed: answered at once, nothing queued. */
static void
refused_now(struct fx *f, const struct rq *q, int code, const char *msg)
{
	struct resp r = {0};

	submit(f, q, &r);
	assert_err(&r, code, msg);
	assert_int_equal(r.reqid, q->reqid);
	assert_int_equal(ops_pending(f->o), 0);
	ops_flush(f->o);
	assert_int_equal(r.n, 1);
	resp_clear(&r);
}

static void
refused_put(struct fx *f, const char *coll, const char *id_json,
    const char *fields, int code, const char *msg)
{
	refused_now(f,
	    &(struct rq){.type = MSG_PUT,
	        .reqid = 9,
	        .coll = coll,
	        .id_json = id_json,
	        .json = fields},
	    code, msg);
}

static void
refused_raw(
    struct fx *f, const void *raw, size_t len, int code, const char *msg)
{
	refused_now(f,
	    &(struct rq){.type = MSG_PUT,
	        .reqid = 9,
	        .coll = "lks",
	        .raw_key = MK_FIELDS,
	        .raw = raw,
	        .raw_len = len},
	    code, msg);
}

static void
test_put_schema_refusals(void **state)
{
	struct fx *f = *state;
	char name[301];

	refused_put(f, "lks", NULL,
	    "{\"name\": \"a\", \"legal_form\": \"yayasan\", \"status\": "
	    "\"active\", \"nope\": 1}",
	    JALIN_ESCHEMA, "lks: unknown field 'nope'");
	refused_put(f, "lks", NULL, "{\"staff.total\": \"twelve\"}",
	    JALIN_ESCHEMA,
	    "lks.staff.total: expected an integer, got a string");
	refused_put(f, "lks", NULL, "{\"status\": \"closed\"}", JALIN_ESCHEMA,
	    "lks.status: 'closed' is not one of active, inactive, suspended, "
	    "revoked");
	memset(name, 'n', 300);
	name[300] = '\0';
	char fields[400];
	snprintf(fields, sizeof(fields), "{\"name\": \"%s\"}", name);
	refused_put(f, "lks", NULL, fields, JALIN_ESCHEMA,
	    "lks.name: 300 bytes exceeds the limit of 256");
	refused_put(f, "nope", NULL, LKS, JALIN_EINVAL,
	    "unknown collection 'nope' (one of case, partnership, lks, "
	    "resource, referral)");
	refused_put(f, NULL, NULL, LKS, JALIN_EINVAL, "no collection given");
	refused_put(f, "lks", "\"42\"", LKS, JALIN_EINVAL,
	    "record id must be a UUID like 0190a1b2-c3d4-7e5f-8a9b-"
	    "0c1d2e3f4a5b");
	refused_put(f, "lks", NULL, NULL, JALIN_EINVAL,
	    "lks: the record must be a JSON object");

	/* what JSON cannot say: raw msgpack fields */
	static const uint8_t int_key[] = {0x81, 0x01, 0xa1, 'x'};
	refused_raw(f, int_key, sizeof(int_key), JALIN_EINVAL,
	    "lks: field names must be strings");
	static const uint8_t twice[] = {0x82, 0xa4, 'n', 'a', 'm', 'e', 0xa1,
	    'a', 0xa4, 'n', 'a', 'm', 'e', 0xa1, 'b'};
	refused_raw(f, twice, sizeof(twice), JALIN_EINVAL,
	    "lks: a field is given twice");
	static uint8_t many[3 + 1025 * 3] = {0xde, 0x04, 0x01};
	for (size_t i = 3; i < sizeof(many); i += 3)
		memcpy(many + i,
		    "\xa1"
		    "a"
		    "\xc0",
		    3);
	refused_raw(f, many, sizeof(many), JALIN_ETOOBIG,
	    "lks: 1025 fields exceeds the limit of 1024");
	/* a map header that claims more than the bytes hold */
	refused_raw(
	    f, many, 3, JALIN_EINVAL, "lks: the record must be a JSON object");
	static const uint8_t trailing[] = {0x80, 0xc0};
	refused_raw(f, trailing, sizeof(trailing), JALIN_EPROTO,
	    "request: 1 bytes after the fields");

	/* none of it reached the store */
	assert_int_equal(f->commits, 0);
	assert_int_equal(store_seq(f->s), 0);
}

/* No field at all: a create lacks the required ones, an update is a no-op
 * (ops.c sorted an empty, NULL update array: UB, caught by UBSan). */
static void
test_put_empty_fields(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3];

	put(f, "lks", NULL, "{}", &r);
	assert_err(&r, JALIN_ESCHEMA, "lks: required field 'name' is missing");
	new_lks(f, id);
	put(f, "lks", id, "{}", &r);
	assert_false(changed(&r));
	assert_id(&r, id);
	assert_int_equal(store_seq(f->s), 1);
	resp_clear(&r);
}

/* Rules that need the stored state are checked in the transaction. */
static void
test_put_record_rules(void **state)
{
	struct fx *f = *state;
	const char *id = "\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\"";
	struct resp r = {0};
	char msg[JALIN_ERRMSG_MAX];
	int rc;

	put(f, "lks", id, "{\"name\": \"a\", \"legal_form\": \"yayasan\"}", &r);
	assert_err(
	    &r, JALIN_ESCHEMA, "lks: required field 'status' is missing");
	assert_null(get(f, "lks", id, false, &rc, msg, sizeof(msg)));
	assert_int_equal(rc, JALIN_ENOTFOUND);
	assert_int_equal(store_seq(f->s), 0);
	assert_int_equal(f->commits, 1); /* the group committed, empty */

	put(f, "lks", id,
	    "{\"name\": null, \"legal_form\": \"yayasan\", \"status\": "
	    "\"active\"}",
	    &r);
	assert_err(
	    &r, JALIN_ESCHEMA, "lks.name: a required field cannot be removed");

	/* once created, a record may be written one field at a time */
	put(f, "lks", id, LKS, &r);
	assert_true(changed(&r));
	put(f, "lks", id, "{\"name\": null}", &r);
	assert_err(
	    &r, JALIN_ESCHEMA, "lks.name: a required field cannot be removed");
	put(f, "lks", id, "{\"mode\": \"both\"}", &r);
	assert_true(changed(&r));
	json_t *v = get_live(f, "lks", id);
	assert_string_equal(str_at(v, "name"), "Yayasan Harapan");
	assert_string_equal(str_at(v, "mode"), "both");
	json_decref(v);
	resp_clear(&r);
}

/* ---- with_system: the fields the node sets ------------------------------ */

static void
test_system_fields_on_create(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3];

	/* another office's record: this node cannot speak for it (write
	 * authority, authz.h), so an import from elsewhere is refused */
	put(f, "lks", NULL,
	    "{\"name\": \"a\", \"legal_form\": \"yayasan\", \"status\": "
	    "\"active\", \"origin_node\": \"banten\"}",
	    &r);
	assert_err(&r, JALIN_EPERM,
	    "origin: lks.origin_node written by jabar: a new record's "
	    "origin_node must name the node that wrote it");
	/* given on create (an import of our own export): kept as given */
	put(f, "lks", NULL,
	    "{\"name\": \"a\", \"legal_form\": \"yayasan\", \"status\": "
	    "\"active\", \"origin_node\": \"jabar\", \"created_at\": 12345}",
	    &r);
	id_of(&r, id);
	json_t *v = get_live(f, "lks", id);
	assert_string_equal(str_at(v, "origin_node"), "jabar");
	assert_int_equal(
	    json_integer_value(json_object_get(v, "created_at")), 12345);
	json_decref(v);

	/* the same values again: allowed, nothing changes */
	put(f, "lks", id, "{\"origin_node\": \"jabar\", \"created_at\": 12345}",
	    &r);
	assert_false(changed(&r));

	/* any other value, or removing them: refused */
	put(f, "lks", id, "{\"origin_node\": \"banten\"}", &r);
	assert_err(&r, JALIN_ESCHEMA,
	    "lks.origin_node: set by the node that created the record; it "
	    "cannot be changed");
	put(f, "lks", id, "{\"origin_node\": \"jabarx\"}", &r);
	assert_err(&r, JALIN_ESCHEMA,
	    "lks.origin_node: set by the node that created the record; it "
	    "cannot be changed");
	put(f, "lks", id, "{\"origin_node\": null}", &r);
	assert_err(&r, JALIN_ESCHEMA,
	    "lks.origin_node: set by the node that created the record; it "
	    "cannot be changed");
	put(f, "lks", id, "{\"created_at\": 12346}", &r);
	assert_err(&r, JALIN_ESCHEMA,
	    "lks.created_at: set by the node that created the record; it "
	    "cannot be changed");
	put(f, "lks", id, "{\"created_at\": null, \"mode\": \"both\"}", &r);
	assert_err(&r, JALIN_ESCHEMA,
	    "lks.created_at: set by the node that created the record; it "
	    "cannot be changed");
	v = get_live(f, "lks", id);
	assert_string_equal(str_at(v, "origin_node"), "jabar");
	assert_null(json_object_get(v, "mode")); /* the refusal wrote nothing */
	json_decref(v);
	resp_clear(&r);
}

/* A node name long enough to be stored coded (record.h) is compared in
 * that form: given again, it is the same value. */
static void
test_system_long_origin(void **state)
{
	struct fx *f = *state;
	struct store_opts so;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3];

	ops_free(f->o);
	store_close(f->s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", f->dir);
	assert_int_equal(system(cmd), 0);
	so = (struct store_opts){
	    f->dir, "sentra-wirajaya-makassar", 64ull << 20, 0};
	assert_int_equal(store_open(&so, &f->s, NULL), 0);
	assert_non_null(f->o = ops_new(f->base, f->s));

	put(f, "lks", NULL, LKS, &r);
	id_of(&r, id);
	json_t *v = get_live(f, "lks", id);
	assert_string_equal(
	    str_at(v, "origin_node"), "sentra-wirajaya-makassar");
	json_decref(v);
	put(f, "lks", id, "{\"origin_node\": \"sentra-wirajaya-makassar\"}",
	    &r);
	assert_false(changed(&r));
	put(f, "lks", id, "{\"origin_node\": \"sentra-wirajaya-makassan\"}",
	    &r);
	assert_err(&r, JALIN_ESCHEMA,
	    "lks.origin_node: set by the node that created the record; it "
	    "cannot be changed");
	resp_clear(&r);
}

static json_t *
unshared(struct fx *f, const char *id)
{
	json_t *v = get_live(f, "case", id);
	json_t *u = json_incref(json_object_get(v, "unshared_from"));

	json_decref(v);
	return u;
}

static void
test_system_share_with(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3];

	put(f, "case", NULL,
	    "{\"controller\": \"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\","
	    " \"legal_basis\": \"vital_interest\", \"status\": \"intake\", "
	    "\"cluster\": \"child\", \"share_with\": [\"banten\", \"sulsel\"]}",
	    &r);
	id_of(&r, id);
	assert_null(unshared(f, id)); /* not on create */

	/* unshared_from is the node's: not before it is set */
	put(f, "case", id, "{\"unshared_from\": [\"sulsel\"]}", &r);
	assert_err(&r, JALIN_ESCHEMA,
	    "case.unshared_from: set by the node when share_with loses a "
	    "node");

	/* taking a node out of share_with withdraws the record there */
	put(f, "case", id, "{\"share_with\": [\"banten\"]}", &r);
	assert_true(changed(&r));
	json_t *u = unshared(f, id);
	assert_json(u, "[\"sulsel\"]");
	json_decref(u);

	/* given as stored: nothing to write; any other value: refused */
	put(f, "case", id, "{\"unshared_from\": [\"sulsel\"]}", &r);
	assert_false(changed(&r));
	put(f, "case", id, "{\"unshared_from\": [\"sulsex\"]}", &r);
	assert_err(&r, JALIN_ESCHEMA,
	    "case.unshared_from: set by the node when share_with loses a "
	    "node");
	put(f, "case", id, "{\"unshared_from\": [\"sulsel\", \"banten\"]}", &r);
	assert_err(&r, JALIN_ESCHEMA,
	    "case.unshared_from: set by the node when share_with loses a "
	    "node");
	put(f, "case", id, "{\"unshared_from\": null}", &r);
	assert_err(&r, JALIN_ESCHEMA,
	    "case.unshared_from: set by the node when share_with loses a "
	    "node");

	/* removing share_with withdraws from every node in it */
	put(f, "case", id, "{\"share_with\": null}", &r);
	assert_true(changed(&r));
	u = unshared(f, id);
	assert_json(u, "[\"banten\", \"sulsel\"]");
	json_decref(u);

	/* putting the nodes back clears unshared_from */
	put(f, "case", id, "{\"share_with\": [\"sulsel\", \"banten\"]}", &r);
	assert_true(changed(&r));
	assert_null(unshared(f, id));
	json_t *v = get_live(f, "case", id);
	assert_json(
	    json_object_get(v, "share_with"), "[\"sulsel\", \"banten\"]");
	json_decref(v);

	/* a share_with that takes nobody out leaves unshared_from alone */
	put(f, "case", id,
	    "{\"share_with\": [\"sulsel\", \"banten\", \"jatim\"], "
	    "\"status\": \"assessment\"}",
	    &r);
	assert_true(changed(&r));
	assert_null(unshared(f, id));
	resp_clear(&r);
}

static void
share_list(char *out, size_t n, unsigned first, unsigned count)
{
	size_t len = (size_t)snprintf(out, n, "{\"share_with\": [");

	for (unsigned i = 0; i < count; i++)
		len += (size_t)snprintf(out + len, n - len, "%s\"n%02u\"",
		    i ? ", " : "", first + i);
	snprintf(out + len, n - len, "]}");
}

static void
test_system_unshared_limit(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3], fields[512];

	put(f, "case", NULL, CASE, &r);
	id_of(&r, id);
	for (unsigned round = 0; round < 3; round++) {
		share_list(fields, sizeof(fields), round * 16, 16);
		put(f, "case", id, fields, &r);
		assert_true(changed(&r));
	}
	json_t *u = unshared(f, id);
	assert_int_equal(json_array_size(u), 32);
	json_decref(u);
	/* a 33rd node withdrawn is one too many */
	share_list(fields, sizeof(fields), 48, 1);
	put(f, "case", id, fields, &r);
	assert_err(&r, JALIN_ESCHEMA,
	    "case.share_with: a record can be withdrawn from at most 32 nodes "
	    "(unshared_from)");
	resp_clear(&r);
}

/* share_with of an ALL collection withdraws nothing. */
static void
test_system_share_with_all_coll(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3];

	put(f, "lks", NULL,
	    "{\"name\": \"a\", \"legal_form\": \"yayasan\", \"status\": "
	    "\"active\", \"share_with\": [\"banten\"]}",
	    &r);
	id_of(&r, id);
	put(f, "lks", id, "{\"share_with\": [\"sulsel\"]}", &r);
	assert_true(changed(&r));
	json_t *v = get_live(f, "lks", id);
	assert_json(json_object_get(v, "share_with"), "[\"sulsel\"]");
	assert_null(json_object_get(v, "unshared_from"));
	json_decref(v);
	/* lks has no unshared_from field at all */
	refused_put(f, "lks", id, "{\"unshared_from\": []}", JALIN_ESCHEMA,
	    "lks: unknown field 'unshared_from'");
	resp_clear(&r);
}

/* ---- delete and purge --------------------------------------------------- */

static void
tomb(struct fx *f, uint64_t type, const char *coll, const char *id,
    const char *reason, struct resp *r)
{
	run(f,
	    &(struct rq){.type = type,
	        .reqid = 11,
	        .coll = coll,
	        .id_json = id,
	        .reason = reason},
	    r);
}

static void
test_delete_then_put(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3], nb[64], want[128], msg[JALIN_ERRMSG_MAX];
	int rc;

	put(f, "lks", NULL,
	    "{\"name\": \"a\", \"legal_form\": \"yayasan\", \"status\": "
	    "\"active\", \"address\": \"Jl. Merdeka 1\"}",
	    &r);
	id_of(&r, id);
	tomb(f, MSG_DELETE, "lks", id, "duplicate", &r);
	assert_true(changed(&r));
	assert_id(&r, id);
	assert_null(get(f, "lks", id, false, &rc, msg, sizeof(msg)));
	assert_int_equal(rc, JALIN_ENOTFOUND);
	json_t *v = get_versions(f, "lks", id);
	assert_string_equal(str_at(v, "state"), "deleted");
	json_t *d = json_object_get(json_object_get(v, "versions"), "deletes");
	assert_int_equal(json_array_size(d), 1);
	assert_string_equal(
	    str_at(json_array_get(d, 0), "reason"), "duplicate");
	assert_string_equal(str_at(json_array_get(d, 0), "origin"), NODE);
	json_decref(v);

	/* a second delete finds nothing to delete */
	tomb(f, MSG_DELETE, "lks", id, NULL, &r);
	snprintf(want, sizeof(want), "%s: the record was already deleted",
	    rname("lks", id, nb, sizeof(nb)));
	assert_err(&r, JALIN_ENOTFOUND, want);

	/* a later put makes it a record again, created anew */
	put(f, "lks", id, "{\"name\": \"b\"}", &r);
	assert_err(
	    &r, JALIN_ESCHEMA, "lks: required field 'legal_form' is missing");
	put(f, "lks", id, LKS, &r);
	assert_true(changed(&r));
	v = get_live(f, "lks", id);
	assert_string_equal(str_at(v, "name"), "Yayasan Harapan");
	assert_null(json_object_get(v, "address")); /* the delete removed it */
	assert_string_equal(str_at(v, "origin_node"), NODE);
	json_decref(v);

	/* a delete without a reason */
	tomb(f, MSG_DELETE, "lks", id, NULL, &r);
	assert_true(changed(&r));
	v = get_versions(f, "lks", id);
	d = json_object_get(json_object_get(v, "versions"), "deletes");
	assert_int_equal(json_array_size(d), 1);
	assert_true(
	    json_is_null(json_object_get(json_array_get(d, 0), "reason")));
	json_decref(v);
	resp_clear(&r);
}

static void
test_delete_case_scope(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3];

	put(f, "case", NULL,
	    "{\"controller\": \"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\","
	    " \"legal_basis\": \"vital_interest\", \"status\": \"intake\", "
	    "\"cluster\": \"child\", \"share_with\": [\"banten\"]}",
	    &r);
	id_of(&r, id);
	tomb(f, MSG_DELETE, "case", id, "error", &r);
	assert_true(changed(&r));
	/* the tombstone keeps the scope the case had (scope.h) */
	json_t *v = get_versions(f, "case", id);
	assert_string_equal(str_at(v, "state"), "deleted");
	json_decref(v);
	struct record *rec = malloc(sizeof(*rec));
	MDB_txn *txn;
	const uint8_t *st;
	size_t len;
	uint64_t seq;
	uint8_t bid[UUID_LEN];
	struct rec_tomb t;
	assert_int_equal(uuid_parse(id + 1, UUID_STR_LEN, bid), 0);
	assert_int_equal(stdb_begin_read(store_db(f->s), &txn, NULL), 0);
	assert_int_equal(stdb_get_record(txn, store_db(f->s), COLL_CASE, bid,
	                     &st, &len, &seq),
	    0);
	assert_int_equal(rec_decode(rec, st, len, REC_TRUSTED, NULL), 0);
	assert_int_equal(rec->entry[0].tag, TAG_DELETED);
	assert_int_equal(rec_tomb_parse(&rec->entry[0], false, &t), 0);
	assert_int_equal(t.reason_len, 5);
	assert_memory_equal(t.reason, "error", 5);
	assert_non_null(t.scope);
	/* origin and share_with, in name order (shorter first) */
	static const uint8_t scope[] = {0x92, 0xa5, 'j', 'a', 'b', 'a', 'r',
	    0xa6, 'b', 'a', 'n', 't', 'e', 'n'};
	assert_int_equal(t.scope_len, sizeof(scope));
	assert_memory_equal(t.scope, scope, sizeof(scope));
	mdb_txn_abort(txn);
	free(rec);
	resp_clear(&r);
}

#define ID_0     "\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\""
#define BAD_HASH "the erasure request hash must be 64 hex characters (SHA-256)"

static void
test_delete_refusals(void **state)
{
	struct fx *f = *state;
	static const uint8_t short_hash[31];
	static const struct {
		struct rq q;
		int code;
		const char *msg;
	} bad[] = {
	    {{.type = MSG_DELETE,
	         .coll = "lks",
	         .id_json = ID_0,
	         .reason = "bored"},
	        JALIN_EINVAL,
	        "reason must be one of erasure_request, retention_expired, "
	        "unlawful, duplicate, error"},
	    {{.type = MSG_DELETE,
	         .coll = "lks",
	         .id_json = ID_0,
	         .hash_json = "\"000000000000000000000000000000000000000000000"
	                      "0000000000000000000\""},
	        JALIN_EINVAL, "a request hash is only recorded by purge"},
	    {{.type = MSG_DELETE, .coll = "lks"}, JALIN_EINVAL,
	        "no record id given"},
	    {{.type = MSG_PURGE, .coll = "lks", .id_json = "null"},
	        JALIN_EINVAL, "no record id given"},
	    {{.type = MSG_PURGE,
	         .coll = "case",
	         .id_json = ID_0,
	         .hash_json = "\"abc\""},
	        JALIN_EINVAL, BAD_HASH},
	    {{.type = MSG_PURGE,
	         .coll = "lks",
	         .id_json = ID_0,
	         .hash_bin = short_hash,
	         .hash_bin_len = 31},
	        JALIN_EINVAL, BAD_HASH},
	    {{.type = MSG_PURGE,
	         .coll = "lks",
	         .id_json = ID_0,
	         .hash_json = "\"zz0000000000000000000000000000000000000000000"
	                      "0000000000000000000\""},
	        JALIN_EINVAL, BAD_HASH},
	    {{.type = MSG_PURGE,
	         .coll = "lks",
	         .id_json = ID_0,
	         .hash_json = "42"},
	        JALIN_EINVAL, BAD_HASH},
	};
	struct resp r = {0};
	char nb[64], want[128];

	tomb(f, MSG_DELETE, "lks", ID_0, NULL, &r);
	snprintf(want, sizeof(want), "%s: no such record",
	    rname("lks", ID_0, nb, sizeof(nb)));
	assert_err(&r, JALIN_ENOTFOUND, want);
	assert_int_equal(store_seq(f->s), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused_now(f, &bad[i].q, bad[i].code, bad[i].msg);
	assert_int_equal(f->commits, 1);
	resp_clear(&r);
}

/* The stored purge entry: reason and request hash. */
static void
purge_entry(
    struct fx *f, const char *id, const char *reason, const uint8_t *hash)
{
	struct record *rec = malloc(sizeof(*rec));
	uint8_t bid[UUID_LEN];
	const uint8_t *st;
	struct rec_tomb t;
	MDB_txn *txn;
	uint64_t seq;
	size_t len;

	assert_int_equal(uuid_parse(id + 1, UUID_STR_LEN, bid), 0);
	assert_int_equal(stdb_begin_read(store_db(f->s), &txn, NULL), 0);
	assert_int_equal(stdb_get_record(txn, store_db(f->s), COLL_LKS, bid,
	                     &st, &len, &seq),
	    0);
	assert_int_equal(rec_decode(rec, st, len, REC_TRUSTED, NULL), 0);
	assert_true(rec_is_purged(rec));
	assert_int_equal(rec->nentries, 1);
	assert_int_equal(rec_tomb_parse(&rec->entry[0], true, &t), 0);
	assert_int_equal(t.reason_len, strlen(reason));
	assert_memory_equal(t.reason, reason, t.reason_len);
	if (hash == NULL)
		assert_null(t.hash);
	else
		assert_memory_equal(t.hash, hash, 32);
	assert_null(t.scope); /* lks: an ALL collection */
	mdb_txn_abort(txn);
	free(rec);
}

static void
test_purge(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3], nb[64], want[128], msg[JALIN_ERRMSG_MAX];
	uint8_t hash[32];
	int rc;

	new_lks(f, id);
	for (int i = 0; i < 32; i++)
		hash[i] = (uint8_t)(0xa0 + i);
	run(f,
	    &(struct rq){.type = MSG_PURGE,
	        .reqid = 5,
	        .coll = "lks",
	        .id_json = id,
	        .reason = "unlawful",
	        .hash_json = "\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
	                     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf\""},
	    &r);
	assert_true(changed(&r));
	assert_id(&r, id);
	purge_entry(f, id, "unlawful", hash);
	rname("lks", id, nb, sizeof(nb));
	assert_null(get(f, "lks", id, false, &rc, msg, sizeof(msg)));
	assert_int_equal(rc, JALIN_EPURGED);
	snprintf(want, sizeof(want), "%s: the record was purged", nb);
	assert_string_equal(msg, want);

	/* the id is closed: a later put is refused, and so is a delete */
	put(f, "lks", id, LKS, &r);
	snprintf(want, sizeof(want),
	    "%s: the record was purged; its id cannot be used again", nb);
	assert_err(&r, JALIN_EPURGED, want);
	tomb(f, MSG_DELETE, "lks", id, NULL, &r);
	snprintf(want, sizeof(want), "%s: the record was purged", nb);
	assert_err(&r, JALIN_EPURGED, want);
	/* a second purge changes nothing */
	uint64_t seq = store_seq(f->s);
	tomb(f, MSG_PURGE, "lks", id, NULL, &r);
	assert_false(changed(&r));
	assert_int_equal(store_seq(f->s), seq);
	resp_clear(&r);
}

/* A purge of an id never seen here closes it too (it may live elsewhere);
 * no reason means erasure_request; the hash may come as bin 32. */
static void
test_purge_missing(void **state)
{
	struct fx *f = *state;
	const char *id = "\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\"";
	struct resp r = {0};
	uint8_t hash[32];

	memset(hash, 0x5a, sizeof(hash));
	run(f,
	    &(struct rq){.type = MSG_PURGE,
	        .reqid = 5,
	        .coll = "lks",
	        .id_json = id,
	        .hash_bin = hash,
	        .hash_bin_len = 32},
	    &r);
	assert_true(changed(&r));
	purge_entry(f, id, "erasure_request", hash);

	const char *id2 = "\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c\"";
	tomb(f, MSG_PURGE, "lks", id2, "duplicate", &r);
	assert_true(changed(&r));
	purge_entry(f, id2, "duplicate", NULL);
	assert_int_equal(store_seq(f->s), 2);
	resp_clear(&r);
}

/* ---- damaged records ---------------------------------------------------- */

/*
 * Replace the stored value of coll/id behind the store's back: with
 * good_crc, a state that does not decode under a valid checksum (written
 * by a buggy build), else the same state with one bit flipped (a failing
 * disk: the checksum catches it).
 */
static void
damage(struct fx *f, uint8_t coll, const char *id_json, bool good_crc)
{
	uint8_t k[STDB_KEY_LEN], id[UUID_LEN], hdr[STDB_VAL_HDR_MAX];
	static const uint8_t junk[] = {0x93, 0x01, 0x02, 0x03};
	MDB_val key = {sizeof(k), k}, val;
	const uint8_t *st;
	uint64_t seq;
	size_t len;
	MDB_txn *txn;

	assert_int_equal(uuid_parse(id_json + 1, UUID_STR_LEN, id), 0);
	stdb_key(k, coll, id);
	assert_int_equal(
	    mdb_txn_begin(stdb_env(store_db(f->s)), NULL, 0, &txn), 0);
	MDB_dbi dbi = stdb_dbi(store_db(f->s), STDB_RECORDS);
	assert_int_equal(mdb_get(txn, dbi, &key, &val), 0);
	assert_int_equal(stdb_val_state(&val, &st, &len, &seq), 0);
	uint8_t *copy = malloc(val.mv_size + sizeof(junk) + sizeof(hdr));
	if (good_crc) {
		size_t h =
		    stdb_val_header(hdr, seq, NULL, 0, junk, sizeof(junk));
		memcpy(copy, hdr, h);
		memcpy(copy + h, junk, sizeof(junk));
		val.mv_size = h + sizeof(junk);
	} else {
		memcpy(copy, val.mv_data, val.mv_size);
		copy[val.mv_size - 2] ^= 0x20;
	}
	val.mv_data = copy;
	assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	free(copy);
}

/* A stored state that does not decode is not written over. */
static void
test_undecodable_record(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3], nb[64], want[128];

	new_lks(f, id);
	damage(f, COLL_LKS, id, true);
	snprintf(want, sizeof(want), "%s: the stored record does not decode",
	    rname("lks", id, nb, sizeof(nb)));
	put(f, "lks", id, LKS, &r);
	assert_err(&r, JALIN_ECORRUPT, want);
	tomb(f, MSG_DELETE, "lks", id, NULL, &r);
	assert_err(&r, JALIN_ECORRUPT, want);
	tomb(f, MSG_PURGE, "lks", id, NULL, &r);
	assert_err(&r, JALIN_ECORRUPT, want);
	assert_int_equal(store_seq(f->s), 1);
	resp_clear(&r);
}

/*
 * A record that fails its checksum is not there to read (store.h: only a
 * peer's copy, through store_txn_apply, may replace it): a local put must
 * not take it for an absent record and create a new one over it, which
 * would claim origin_node and created_at for this node against the real
 * ones when the peer's copy comes back. Nor is it "no such record" to a
 * delete. A purge, which keeps no data and absorbs any copy, may close it.
 */
static void
test_corrupt_record(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	char id[UUID_STR_LEN + 3], nb[64], want[128];
	int rc;

	new_lks(f, id);
	damage(f, COLL_LKS, id, false);
	snprintf(want, sizeof(want), "%s: the stored record is corrupt",
	    rname("lks", id, nb, sizeof(nb)));
	put(f, "lks", id, LKS, &r);
	assert_err(&r, JALIN_ECORRUPT, want);
	put(f, "lks", id, "{\"mode\": \"both\"}", &r);
	assert_err(&r, JALIN_ECORRUPT, want);
	tomb(f, MSG_DELETE, "lks", id, NULL, &r);
	assert_err(&r, JALIN_ECORRUPT, want);
	assert_int_equal(store_seq(f->s), 1);
	assert_null(get(f, "lks", id, false, &rc, NULL, 0));
	assert_int_equal(rc, JALIN_ECORRUPT);

	tomb(f, MSG_PURGE, "lks", id, "erasure_request", &r);
	assert_true(changed(&r));
	purge_entry(f, id, "erasure_request", NULL);
	resp_clear(&r);
}

/* ---- import ------------------------------------------------------------ */

static void
import(struct fx *f, const char *records, bool stop, struct resp *r)
{
	run(f,
	    &(struct rq){
	        .type = MSG_IMPORT, .reqid = 21, .json = records, .stop = stop},
	    r);
	assert_ok(r);
}

#define ID_A "\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\""
#define ID_B "\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c\""
#define ID_C "\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d\""

static void
assert_absent(struct fx *f, const char *coll, const char *id)
{
	int rc;

	assert_null(get(f, coll, id, false, &rc, NULL, 0));
	assert_int_equal(rc, JALIN_ENOTFOUND);
}

/* Several records, one transaction; a bad one harms none of the others. */
static void
test_import_mixed(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};

	import(f,
	    "[[\"lks\", " ID_A ", " LKS "],"
	    " [\"lks\", " ID_B ", {\"name\": \"b\"}],"
	    " [\"nope\", null, {}],"
	    " [\"lks\", null, {\"status\": \"closed\"}],"
	    " [\"lks\", \"x\", " LKS "],"
	    " [\"case\", " ID_C ", " CASE "],"
	    " [\"lks\", " ID_A ", {\"mode\": \"both\"}],"
	    " [\"lks\", " ID_A ", {\"mode\": \"both\"}]]",
	    false, &r);
	assert_json(r.result,
	    "{\"stored\": 4, \"changed\": 3, \"stopped_at\": null, \"errors\": ["
	    "[1, \"lks: required field 'legal_form' is missing\"],"
	    "[2, \"unknown collection 'nope' (one of case, partnership, lks, "
	    "resource, referral)\"],"
	    "[3, \"lks.status: 'closed' is not one of active, inactive, "
	    "suspended, revoked\"],"
	    "[4, \"record id must be a UUID like "
	    "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\"]]}");
	/* one commit, one feed entry per change */
	assert_int_equal(f->commits, 1);
	assert_int_equal(store_seq(f->s), 3);
	json_t *v = get_live(f, "lks", ID_A);
	assert_string_equal(str_at(v, "mode"), "both");
	assert_string_equal(str_at(v, "name"), "Yayasan Harapan");
	json_decref(v);
	v = get_live(f, "case", ID_C);
	assert_string_equal(str_at(v, "status"), "intake");
	json_decref(v);
	assert_absent(f, "lks", ID_B);
	resp_clear(&r);
}

/* A record that is not [collection, id, fields] stops the import there. */
static void
test_import_malformed_item(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};

	import(f,
	    "[[\"lks\", " ID_A ", " LKS "], [\"lks\", " ID_B "],"
	    " [\"lks\", " ID_C ", " LKS "]]",
	    false, &r);
	assert_json(r.result,
	    "{\"stored\": 1, \"changed\": 1, \"stopped_at\": 1, \"errors\": ["
	    "[1, \"import: each record must be [collection, id, fields]\"]]}");
	assert_absent(f, "lks", ID_C);
	json_decref(get_live(f, "lks", ID_A));

	import(f, "[[\"lks\", " ID_B ", " LKS "], 7]", false, &r);
	assert_json(r.result,
	    "{\"stored\": 1, \"changed\": 1, \"stopped_at\": 1, \"errors\": ["
	    "[1, \"import: each record must be [collection, id, fields]\"]]}");
	resp_clear(&r);
}

/* With stop, nothing after the first bad record is stored. */
static void
test_import_stop(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};

	/* refused while parsed */
	import(f,
	    "[[\"lks\", " ID_A ", " LKS "], [\"lks\", null, {\"x\": 1}],"
	    " [\"lks\", " ID_C ", " LKS "]]",
	    true, &r);
	assert_json(r.result,
	    "{\"stored\": 1, \"changed\": 1, \"stopped_at\": 1, \"errors\": ["
	    "[1, \"lks: unknown field 'x'\"]]}");
	assert_absent(f, "lks", ID_C);

	/* refused in the transaction */
	import(f,
	    "[[\"lks\", " ID_A ", {\"mode\": \"both\"}],"
	    " [\"lks\", " ID_B ", {\"name\": \"b\"}],"
	    " [\"lks\", " ID_C ", " LKS "]]",
	    true, &r);
	assert_json(r.result,
	    "{\"stored\": 1, \"changed\": 1, \"stopped_at\": 1, \"errors\": ["
	    "[1, \"lks: required field 'legal_form' is missing\"]]}");
	assert_absent(f, "lks", ID_B);
	assert_absent(f, "lks", ID_C);
	json_t *v = get_live(f, "lks", ID_A);
	assert_string_equal(str_at(v, "mode"), "both");
	json_decref(v);

	/* all good: stopped_at stays nil */
	import(f, "[[\"lks\", " ID_C ", " LKS "]]", true, &r);
	assert_json(r.result,
	    "{\"stored\": 1, \"changed\": 1, \"stopped_at\": null, "
	    "\"errors\": []}");
	resp_clear(&r);
}

static void
test_import_refusals(void **state)
{
	struct fx *f = *state;
	char *many;
	size_t n = 4097;

	refused_now(f, &(struct rq){.type = MSG_IMPORT, .reqid = 4},
	    JALIN_EINVAL, "import: no records");
	many = malloc(n * 2 + 2);
	many[0] = '[';
	for (size_t i = 0; i < n; i++) {
		many[1 + 2 * i] = '0';
		many[2 + 2 * i] = i + 1 < n ? ',' : ']';
	}
	many[n * 2 + 1] = '\0';
	refused_now(f,
	    &(struct rq){.type = MSG_IMPORT, .reqid = 4, .json = many},
	    JALIN_ETOOBIG,
	    "import: 4097 records in one batch exceeds the limit of 4096");
	free(many);

	/* an item cut short cannot even be skipped: the import is refused */
	static const uint8_t cut[] = {0x91, 0x93, 0xa3, 'l', 'k', 's', 0xc0,
	    0x81, 0xa4, 'n', 'a', 'm', 'e'};
	refused_now(f,
	    &(struct rq){.type = MSG_IMPORT,
	        .reqid = 4,
	        .raw_key = MK_RECORDS,
	        .raw = cut,
	        .raw_len = sizeof(cut)},
	    JALIN_EPROTO, "import: bad record 0");
	assert_int_equal(f->commits, 0);
}

/* An id that is cut short ends the import at that record. */
static void
test_import_cut_id(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};
	static const uint8_t cut[] = {0x92, 0x93, 0xa3, 'l', 'k', 's', 0xc0,
	    0x80, 0x93, 0xa3, 'l', 'k', 's', 0xd9};

	run(f,
	    &(struct rq){.type = MSG_IMPORT,
	        .reqid = 4,
	        .raw_key = MK_RECORDS,
	        .raw = cut,
	        .raw_len = sizeof(cut)},
	    &r);
	assert_ok(&r);
	/* the first record (no fields) is refused in the transaction */
	assert_json(r.result,
	    "{\"stored\": 0, \"changed\": 0, \"stopped_at\": 1, \"errors\": ["
	    "[0, \"lks: required field 'name' is missing\"],"
	    "[1, \"import: bad record\"]]}");
	resp_clear(&r);
}

/* An empty import is answered like any other. */
static void
test_import_empty(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};

	import(f, "[]", false, &r);
	assert_json(r.result,
	    "{\"stored\": 0, \"changed\": 0, \"stopped_at\": null, "
	    "\"errors\": []}");
	resp_clear(&r);
}

/* ---- group commit, tasks, cancel ---------------------------------------- */

struct order {
	int seen[8];
	int n;
};

struct tagged {
	struct resp r;
	struct order *log;
	int tag;
	struct fx *f;
	void *cancel; /* ctx to cancel when answered */
};

static void
on_done_tagged(void *ctx, const uint8_t *p, size_t len)
{
	struct tagged *t = ctx;

	on_done(&t->r, p, len);
	if (t->log != NULL)
		t->log->seen[t->log->n++] = t->tag;
	if (t->cancel != NULL)
		ops_cancel(t->f->o, t->cancel);
}

struct task_state {
	int applied, done, rc_apply, rc_done;
	char msg[JALIN_ERRMSG_MAX];
	struct order *log;
	int tag;
};

static int
task_apply(struct store_txn *t, void *arg)
{
	struct task_state *ts = arg;

	(void)t;
	ts->applied++;
	return ts->rc_apply;
}

static void
task_done(void *arg, int rc, const struct jalin_err *err)
{
	struct task_state *ts = arg;

	ts->done++;
	ts->rc_done = rc;
	snprintf(ts->msg, sizeof(ts->msg), "%s", jalin_err_msg(err, rc));
	if (ts->log != NULL)
		ts->log->seen[ts->log->n++] = ts->tag;
}

static void
submit_tagged(struct fx *f, struct tagged *t, const struct rq *q)
{
	assert_int_equal(submit_to(f, q, on_done_tagged, t), 0);
}

static void
test_group_commit(void **state)
{
	struct fx *f = *state;
	struct order log = {0};
	struct tagged t[4] = {{.tag = 0}, {.tag = 1}, {.tag = 2}, {.tag = 3}};
	struct task_state ts = {.log = &log, .tag = 9};
	struct ops_task task = {task_apply, task_done, &ts};
	struct resp bad = {0};

	const struct rq q[4] = {
	    {.type = MSG_PUT,
	        .reqid = 1,
	        .coll = "lks",
	        .id_json = ID_A,
	        .json = LKS},
	    {.type = MSG_PUT, .reqid = 2, .coll = "lks", .json = LKS},
	    {.type = MSG_IMPORT,
	        .reqid = 3,
	        .json = "[[\"lks\", " ID_B ", " LKS "]]"},
	    {.type = MSG_DELETE, .reqid = 5, .coll = "lks", .id_json = ID_A},
	};

	for (int i = 0; i < 4; i++)
		t[i].log = &log;
	submit_tagged(f, &t[0], &q[0]);
	submit_tagged(f, &t[1], &q[1]);
	assert_int_equal(ops_submit_task(f->o, &task), 0);
	submit_tagged(f, &t[2], &q[2]);
	/* a refused request is answered at once and not queued */
	submit(f,
	    &(struct rq){.type = MSG_PUT,
	        .reqid = 4,
	        .coll = "lks",
	        .json = "{\"x\": 1}"},
	    &bad);
	assert_err(&bad, JALIN_ESCHEMA, "lks: unknown field 'x'");
	submit_tagged(f, &t[3], &q[3]);
	assert_int_equal(ops_pending(f->o), 5);
	for (int i = 0; i < 4; i++)
		assert_int_equal(t[i].r.n, 0);
	assert_int_equal(ts.applied, 0);
	assert_int_equal(f->commits, 0);

	/* one round of the loop runs the flush event: one commit for all */
	assert_int_equal(
	    event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
	assert_int_equal(f->commits, 1);
	assert_int_equal(ops_pending(f->o), 0);
	assert_int_equal(ts.applied, 1);
	assert_int_equal(ts.done, 1);
	assert_int_equal(ts.rc_done, 0);
	/* answered in the order submitted */
	assert_int_equal(log.n, 5);
	static const int want[] = {0, 1, 9, 2, 3};
	assert_memory_equal(log.seen, want, sizeof(want));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(t[i].r.n, 1);
		assert_int_equal(t[i].r.reqid, q[i].reqid);
		assert_ok(&t[i].r);
	}
	/* the put and the delete of ID_A in the same commit, in order */
	assert_true(changed(&t[0].r));
	assert_true(changed(&t[3].r));
	assert_absent(f, "lks", ID_A);
	json_decref(get_live(f, "lks", ID_B));
	assert_int_equal(store_seq(f->s), 4);

	/* nothing queued: the loop round and a flush do nothing */
	assert_int_equal(event_base_loop(f->base, EVLOOP_NONBLOCK), 1);
	ops_flush(f->o);
	assert_int_equal(f->commits, 1);
	for (int i = 0; i < 4; i++)
		resp_clear(&t[i].r);
	resp_clear(&bad);
}

/* A task whose apply fails fails the whole group: nothing is written and
 * every submitter gets the error. */
static void
test_task_failure(void **state)
{
	struct fx *f = *state;
	struct task_state bad = {.rc_apply = JALIN_EIO}, good = {.rc_apply = 0};
	struct ops_task tb = {task_apply, task_done, &bad},
	                tg = {task_apply, task_done, &good};
	struct resp r1 = {0}, r2 = {0};

	submit(f,
	    &(struct rq){.type = MSG_PUT,
	        .reqid = 1,
	        .coll = "lks",
	        .id_json = ID_A,
	        .json = LKS},
	    &r1);
	assert_int_equal(ops_submit_task(f->o, &tg), 0);
	assert_int_equal(ops_submit_task(f->o, &tb), 0);
	submit(f,
	    &(struct rq){.type = MSG_IMPORT,
	        .reqid = 2,
	        .json = "[[\"lks\", " ID_B ", " LKS "]]"},
	    &r2);
	assert_int_equal(ops_pending(f->o), 4);
	ops_flush(f->o);
	assert_err(&r1, JALIN_EIO, "store: write failed (input/output error)");
	assert_err(&r2, JALIN_EIO, "store: write failed (input/output error)");
	assert_int_equal(r1.reqid, 1);
	assert_int_equal(r2.reqid, 2);
	assert_int_equal(bad.applied, 1);
	assert_int_equal(bad.done, 1);
	assert_int_equal(bad.rc_done, JALIN_EIO);
	assert_string_equal(
	    bad.msg, "store: write failed (input/output error)");
	assert_int_equal(good.done, 1);
	assert_int_equal(good.rc_done, JALIN_EIO);
	assert_int_equal(f->commits, 0); /* no commit, no hook */
	assert_int_equal(ops_pending(f->o), 0);
	assert_int_equal(store_seq(f->s), 0);
	assert_absent(f, "lks", ID_A);
	assert_absent(f, "lks", ID_B);

	/* the queue is usable again */
	put(f, "lks", ID_A, LKS, &r1);
	assert_true(changed(&r1));
	assert_int_equal(f->commits, 1);
	resp_clear(&r1);
	resp_clear(&r2);
}

/* A task's own error code reaches everyone, with its standard text. */
static void
test_task_error_code(void **state)
{
	struct fx *f = *state;
	struct task_state bad = {.rc_apply = JALIN_ECORRUPT};
	struct ops_task tb = {task_apply, task_done, &bad};
	struct resp r = {0};

	assert_int_equal(ops_submit_task(f->o, &tb), 0);
	submit(f,
	    &(struct rq){.type = MSG_PUT,
	        .reqid = 1,
	        .coll = "lks",
	        .id_json = ID_A,
	        .json = LKS},
	    &r);
	ops_flush(f->o);
	assert_err(&r, JALIN_ECORRUPT, jalin_strerror(JALIN_ECORRUPT));
	assert_int_equal(bad.rc_done, JALIN_ECORRUPT);
	assert_string_equal(bad.msg, jalin_strerror(JALIN_ECORRUPT));
	assert_absent(f, "lks", ID_A);
	resp_clear(&r);
}

static void
test_cancel(void **state)
{
	struct fx *f = *state;
	struct tagged a = {.tag = 1}, b = {.tag = 2}, c = {.tag = 3};

	submit_tagged(f, &a,
	    &(struct rq){.type = MSG_PUT,
	        .reqid = 1,
	        .coll = "lks",
	        .id_json = ID_A,
	        .json = LKS});
	submit_tagged(f, &b,
	    &(struct rq){.type = MSG_PUT,
	        .reqid = 2,
	        .coll = "lks",
	        .id_json = ID_B,
	        .json = LKS});
	submit_tagged(f, &c,
	    &(struct rq){.type = MSG_PUT,
	        .reqid = 3,
	        .coll = "lks",
	        .id_json = ID_C,
	        .json = LKS});
	/* a is gone before the commit; b goes while the answers are sent,
	 * and cancels c, whose answer is still to come */
	ops_cancel(f->o, &a);
	ops_cancel(f->o, &f); /* nobody's */
	b.f = f;
	b.cancel = &c;
	assert_int_equal(ops_pending(f->o), 3);
	ops_flush(f->o);
	assert_int_equal(a.r.n, 0);
	assert_int_equal(b.r.n, 1);
	assert_int_equal(c.r.n, 0);
	/* their writes were done all the same */
	json_decref(get_live(f, "lks", ID_A));
	json_decref(get_live(f, "lks", ID_B));
	json_decref(get_live(f, "lks", ID_C));
	assert_int_equal(ops_pending(f->o), 0);
	resp_clear(&b.r);
}

/* ---- ops_free ----------------------------------------------------------- */

static void
test_free_applies_queue(void **state)
{
	struct fx *f = *state;
	struct resp r = {0};

	ops_free(NULL);
	submit(f,
	    &(struct rq){.type = MSG_PUT,
	        .reqid = 1,
	        .coll = "lks",
	        .id_json = ID_A,
	        .json = LKS},
	    &r);
	assert_int_equal(r.n, 0);
	ops_free(f->o);
	f->o = NULL;
	assert_int_equal(r.n, 1);
	assert_true(changed(&r));
	assert_int_equal(f->commits, 1);
	json_decref(get_live(f, "lks", ID_A));
	resp_clear(&r);
}

/* A submitter that writes again on every answer (a peer's next frame):
 * ops_free flushes a few rounds, then drops what is still queued. */
struct again {
	struct fx *f;
	struct resp r;
	int answers;
};

static void
on_done_again(void *ctx, const uint8_t *p, size_t len)
{
	struct again *a = ctx;

	on_done(&a->r, p, len);
	assert_int_equal(a->r.status, 0);
	a->answers++;
	assert_int_equal(
	    submit_to(a->f,
	        &(struct rq){.type = MSG_PUT,
	            .reqid = 1,
	            .coll = "lks",
	            .id_json = ID_A,
	            .json = a->answers % 2 ? "{\"mode\": \"both\"}"
	                                   : "{\"mode\": \"outside\"}"},
	        on_done_again, a),
	    0);
	/* the new request waits for the next commit */
	assert_int_equal(ops_pending(a->f->o), 1);
}

static void
test_free_drops_endless(void **state)
{
	struct fx *f = *state;
	struct again a = {.f = f};

	assert_int_equal(submit_to(f,
	                     &(struct rq){.type = MSG_PUT,
	                         .reqid = 1,
	                         .coll = "lks",
	                         .id_json = ID_A,
	                         .json = LKS},
	                     on_done_again, &a),
	    0);
	ops_flush(f->o);
	assert_int_equal(a.answers, 1);
	assert_int_equal(f->commits, 1);
	assert_int_equal(ops_pending(f->o), 1);
	ops_free(f->o); /* four more rounds, then the fifth is dropped */
	f->o = NULL;
	assert_int_equal(a.answers, 5);
	assert_int_equal(f->commits, 5);
	assert_int_equal(store_seq(f->s), 5);
	resp_clear(&a.r);
}

/* ---- a full store ------------------------------------------------------- */

static void
big_import(char *out, size_t n, unsigned first, unsigned count)
{
	size_t len = (size_t)snprintf(out, n, "[");

	for (unsigned i = 0; i < count; i++) {
		char addr[257];
		unsigned x = (first + i) * 2654435761u;
		for (int k = 0; k < 256; k++) {
			x = x * 1103515245u + 12345u;
			addr[k] = (char)('!' + (x >> 16) % 90);
			if (addr[k] == '"' || addr[k] == '\\')
				addr[k] = 'q';
		}
		addr[256] = '\0';
		len += (size_t)snprintf(out + len, n - len,
		    "%s[\"lks\", null, {\"name\": \"%s\", \"address\": \"%s\","
		    " \"legal_form\": \"yayasan\", \"status\": \"active\"}]",
		    i ? "," : "", addr, addr);
		assert_true(len < n);
	}
	snprintf(out + len, n - len, "]");
}

/* At the cap the whole group fails with the store's message; a task in it
 * ran again after the map grew; what was reported stored is there. */
static void
test_map_full(void **state)
{
	struct fx *f = *state;
	struct task_state ts = {0};
	struct ops_task task = {task_apply, task_done, &ts};
	struct resp r = {0}, p = {0};
	size_t n = 200 * 700 + 16;
	char *recs = malloc(n);
	unsigned stored = 0, groups = 0;
	uint64_t seq = 0;

	ops_free(f->o);
	store_close(f->s);
	f->s = NULL;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", f->dir);
	assert_int_equal(system(cmd), 0);
	open_store(f, 2ull << 20, 1ull << 20); /* 1 MiB, may grow to 2 */

	for (;;) {
		big_import(recs, n, stored, 200);
		assert_int_equal(ops_submit_task(f->o, &task), 0);
		submit(f,
		    &(struct rq){.type = MSG_PUT,
		        .reqid = 2,
		        .coll = "lks",
		        .json = LKS},
		    &p);
		resp_clear(&r);
		submit(f,
		    &(struct rq){.type = MSG_IMPORT, .reqid = 3, .json = recs},
		    &r);
		ops_flush(f->o);
		groups++;
		assert_int_equal(r.n, 1);
		assert_int_equal(p.n, 1);
		if (r.status != 0)
			break;
		assert_json(json_object_get(r.result, "stored"), "200");
		assert_int_equal(p.status, 0);
		resp_clear(&p);
		stored += 201;
		seq = store_seq(f->s);
		assert_true(groups < 100);
	}
	static const char full[] =
	    "store is full: map_size_max of 2097152 bytes reached; raise "
	    "map_size_max in [node] or free disk space";
	assert_err(&r, JALIN_ESPACE, full);
	assert_err(&p, JALIN_ESPACE, full);
	assert_int_equal(ts.rc_done, JALIN_ESPACE);
	assert_string_equal(ts.msg, full);
	assert_int_equal(ts.done, (int)groups);
	assert_true(ts.applied > ts.done); /* reruns after the map grew */
	assert_int_equal(store_map_size(f->s), 2ull << 20);
	assert_true(stored > 1000); /* more than 1 MiB held */
	assert_int_equal(store_seq(f->s), seq);
	assert_int_equal(seq, stored);
	assert_int_equal(f->commits, (int)groups - 1);

	/* everything reported as stored is there; reads go on */
	struct stdb_info in;
	MDB_txn *txn;
	assert_int_equal(stdb_begin_read(store_db(f->s), &txn, NULL), 0);
	assert_int_equal(stdb_info(txn, store_db(f->s), &in, NULL), 0);
	mdb_txn_abort(txn);
	assert_int_equal(in.count[COLL_LKS], stored);
	free(recs);
	resp_clear(&r);
	resp_clear(&p);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_put_new_record),
	    T(test_put_given_id_creates),
	    T(test_put_update_versions),
	    T(test_put_noop),
	    T(test_put_schema_refusals),
	    T(test_put_empty_fields),
	    T(test_put_record_rules),
	    T(test_system_fields_on_create),
	    T(test_system_long_origin),
	    T(test_system_share_with),
	    T(test_system_unshared_limit),
	    T(test_system_share_with_all_coll),
	    T(test_delete_then_put),
	    T(test_delete_case_scope),
	    T(test_delete_refusals),
	    T(test_purge),
	    T(test_purge_missing),
	    T(test_undecodable_record),
	    T(test_corrupt_record),
	    T(test_import_mixed),
	    T(test_import_malformed_item),
	    T(test_import_stop),
	    T(test_import_refusals),
	    T(test_import_cut_id),
	    T(test_import_empty),
	    T(test_group_commit),
	    T(test_task_failure),
	    T(test_task_error_code),
	    T(test_cancel),
	    T(test_free_applies_queue),
	    T(test_free_drops_endless),
	    T(test_map_full),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
