/*
 * json.c - jansson <-> msgpack for jalinctl (see json.h).
 *
 * Both directions are recursive and bounded by JALIN_MP_DEPTH_MAX, the
 * same nesting limit the node applies, so a hostile file or a corrupt
 * answer cannot run the stack down.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mp.h"
#include "msg.h"
#include "uuid.h"

static int pack_value(
    json_t *v, msgpack_packer *pk, unsigned depth, struct jalin_err *err);

static int
pack_object(
    json_t *v, msgpack_packer *pk, unsigned depth, struct jalin_err *err)
{
	const char *key;
	size_t klen;
	json_t *val;
	int rc;

	msgpack_pack_map(pk, json_object_size(v));
	json_object_keylen_foreach(v, key, klen, val)
	{
		msgpack_pack_str_with_body(pk, key, klen);
		if ((rc = pack_value(val, pk, depth + 1, err)) != 0)
			return rc;
	}
	return 0;
}

static int
pack_array(json_t *v, msgpack_packer *pk, unsigned depth, struct jalin_err *err)
{
	size_t i;
	json_t *val;
	int rc;

	msgpack_pack_array(pk, json_array_size(v));
	json_array_foreach(v, i, val)
	{
		if ((rc = pack_value(val, pk, depth + 1, err)) != 0)
			return rc;
	}
	return 0;
}

static int
pack_value(json_t *v, msgpack_packer *pk, unsigned depth, struct jalin_err *err)
{
	if (depth > JALIN_MP_DEPTH_MAX)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "nesting deeper than %d", JALIN_MP_DEPTH_MAX);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return pack_object(v, pk, depth, err);
	case JSON_ARRAY:
		return pack_array(v, pk, depth, err);
	case JSON_STRING:
		msgpack_pack_str_with_body(
		    pk, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(v));
		return 0;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(v));
		return 0;
	case JSON_TRUE:
		return msgpack_pack_true(pk);
	case JSON_FALSE:
		return msgpack_pack_false(pk);
	case JSON_NULL:
		return msgpack_pack_nil(pk);
	}
	return jalin_err_set(err, JALIN_EINVAL, "unknown JSON type");
}

int
js_pack_mp(json_t *v, msgpack_packer *pk, struct jalin_err *err)
{
	return pack_value(v, pk, 0, err);
}

static json_t *to_json(
    const msgpack_object *o, unsigned depth, struct jalin_err *err);

static int
add_pair(json_t *obj, const msgpack_object_kv *kv, unsigned depth,
    struct jalin_err *err)
{
	const msgpack_object *k = &kv->key;
	json_t *v;

	if (k->type != MSGPACK_OBJECT_STR)
		return jalin_err_set(
		    err, JALIN_EPROTO, "response: a map key is not a string");
	if ((v = to_json(&kv->val, depth + 1, err)) == NULL)
		return JALIN_EPROTO;
	if (json_object_setn_new(obj, k->via.str.ptr, k->via.str.size, v))
		return jalin_err_set(err, JALIN_EPROTO,
		    "response: a map key is not valid UTF-8");
	return 0;
}

static json_t *
map_to_json(const msgpack_object_map *m, unsigned depth, struct jalin_err *err)
{
	json_t *obj = json_object();

	for (uint32_t i = 0; obj != NULL && i < m->size; i++) {
		if (add_pair(obj, &m->ptr[i], depth, err) != 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

static json_t *
array_to_json(
    const msgpack_object_array *a, unsigned depth, struct jalin_err *err)
{
	json_t *arr = json_array(), *v;

	for (uint32_t i = 0; arr != NULL && i < a->size; i++) {
		if ((v = to_json(&a->ptr[i], depth + 1, err)) == NULL ||
		    json_array_append_new(arr, v) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* bin never comes in a result (msg.h); if it does, show it as hex. */
static json_t *
bin_to_json(const msgpack_object_bin *b)
{
	char *hex = malloc(2 * (size_t)b->size + 1);
	json_t *s;

	if (hex == NULL)
		return NULL;
	hex_encode((const uint8_t *)b->ptr, b->size, hex);
	s = json_string(hex);
	free(hex);
	return s;
}

static json_t *
str_to_json(const msgpack_object_str *s, struct jalin_err *err)
{
	json_t *j = json_stringn(s->ptr, s->size);

	if (j == NULL)
		jalin_err_set(
		    err, JALIN_EPROTO, "response: a string is not valid UTF-8");
	return j;
}

static json_t *
to_json(const msgpack_object *o, unsigned depth, struct jalin_err *err)
{
	if (depth > JALIN_MP_DEPTH_MAX) {
		jalin_err_set(err, JALIN_EPROTO, "response: nesting too deep");
		return NULL;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			break;
		return json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer((json_int_t)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return str_to_json(&o->via.str, err);
	case MSGPACK_OBJECT_BIN:
		return bin_to_json(&o->via.bin);
	case MSGPACK_OBJECT_ARRAY:
		return array_to_json(&o->via.array, depth, err);
	case MSGPACK_OBJECT_MAP:
		return map_to_json(&o->via.map, depth, err);
	default:
		break;
	}
	jalin_err_set(err, JALIN_EPROTO,
	    "response: a value JSON cannot hold (type %d)", (int)o->type);
	return NULL;
}

struct envelope {
	uint64_t type, reqid;
	int64_t status;
	const msgpack_object *error, *result;
};

/* Pick the envelope keys of msg.h out of the top-level map. */
static int
read_envelope(
    const msgpack_object *o, struct envelope *e, struct jalin_err *err)
{
	memset(e, 0, sizeof(*e));
	if (o->type != MSGPACK_OBJECT_MAP)
		return jalin_err_set(err, JALIN_EPROTO, "response: not a map");
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		const msgpack_object *v = &o->via.map.ptr[i].val;
		if (k->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			continue;
		if (k->via.u64 == MK_TYPE &&
		    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			e->type = v->via.u64;
		else if (k->via.u64 == MK_REQID &&
		    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			e->reqid = v->via.u64;
		else if (k->via.u64 == MK_STATUS &&
		    v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			e->status = v->via.i64;
		else if (k->via.u64 == MK_ERROR &&
		    v->type == MSGPACK_OBJECT_STR)
			e->error = v;
		else if (k->via.u64 == MK_RESULT)
			e->result = v;
	}
	if (e->type != MSG_RESP && e->type != MSG_ERROR && e->type != MSG_HELLO)
		return jalin_err_set(
		    err, JALIN_EPROTO, "response: not a response message");
	return 0;
}

/* A peer message where a response was due: the node will not serve us. */
static int
peer_message(const struct envelope *e, struct jalin_err *err)
{
	if (e->type == MSG_HELLO)
		return jalin_err_set(err, JALIN_EUNREACH,
		    "certificate refused: the node took us for a peer node "
		    "(it sent HELLO), not an admin");
	if (e->error != NULL)
		return jalin_err_set(err, JALIN_EUNREACH,
		    "refused by the node: %.*s", (int)e->error->via.str.size,
		    e->error->via.str.ptr);
	return jalin_err_set(
	    err, JALIN_EUNREACH, "the node closed the connection");
}

static int
take_envelope(const struct envelope *e, uint64_t reqid, int *status,
    json_t **result, struct jalin_err *err)
{
	if (e->status != 0) {
		*status =
		    e->status < JALIN_ERR_MIN ? JALIN_EPROTO : (int)e->status;
		if (e->error != NULL)
			jalin_err_set(err, *status, "%.*s",
			    (int)e->error->via.str.size, e->error->via.str.ptr);
		else
			jalin_err_set(
			    err, *status, "%s", jalin_strerror(*status));
		return 0;
	}
	if (e->reqid != reqid)
		return jalin_err_set(err, JALIN_EPROTO,
		    "response to request %" PRIu64
		    " while waiting for %" PRIu64,
		    e->reqid, reqid);
	*status = 0;
	*result = e->result != NULL ? to_json(e->result, 0, err) : json_null();
	return *result != NULL ? 0 : JALIN_EPROTO;
}

int
js_decode_resp(const uint8_t *p, size_t len, uint64_t reqid, int *status,
    json_t **result, struct jalin_err *err)
{
	msgpack_unpacked u;
	struct envelope e;
	size_t off = 0;
	int rc;

	*result = NULL;
	if ((rc = mp_check(p, len, NULL, NULL, err)) != 0)
		return jalin_err_set(err, JALIN_EPROTO, "bad response");
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)p, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS)
		rc = jalin_err_set(
		    err, JALIN_EPROTO, "response: msgpack does not decode");
	else if ((rc = read_envelope(&u.data, &e, err)) == 0)
		rc = e.type == MSG_RESP
		    ? take_envelope(&e, reqid, status, result, err)
		    : peer_message(&e, err);
	msgpack_unpacked_destroy(&u);
	return rc;
}

json_t *
js_parse(const char *s, size_t len, struct jalin_err *err)
{
	json_error_t je;
	json_t *v = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);

	if (v == NULL)
		jalin_err_set(err, JALIN_EINVAL, "line %d, column %d: %s",
		    je.line, je.column, je.text);
	return v;
}

json_int_t
js_int(json_t *obj, const char *key, json_int_t def)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

const char *
js_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}
