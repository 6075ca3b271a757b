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

/* ---- import lines: a fast path beside jansson ---------------------------- */

#define JL_KEYS_MAX 256

struct jl {
	const unsigned char *p, *end;
	struct js_fast *f;
	unsigned nkeys;
	const unsigned char *key[JL_KEYS_MAX];
	size_t keylen[JL_KEYS_MAX];
};

void
js_fast_init(struct js_fast *f, size_t max)
{
	buf_init(&f->str, max);
	buf_init(&f->fields, max);
	buf_init(&f->arr, max);
	f->jl = NULL;
}

void
js_fast_free(struct js_fast *f)
{
	buf_free(&f->str);
	buf_free(&f->fields);
	buf_free(&f->arr);
	free(f->jl);
	f->jl = NULL;
}

static void
jl_ws(struct jl *j)
{
	while (j->p < j->end &&
	    (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool
jl_lit(struct jl *j, const char *lit, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

/* Bytes of the valid UTF-8 sequence at p (lead byte >= 0x80), 0 if it is
 * not one: overlong forms, surrogates and code points past U+10FFFF are
 * refused, as jansson does. */
static size_t
utf8_seq(const unsigned char *p, const unsigned char *end)
{
	uint32_t cp;
	size_t n;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2, cp = p[0] & 0x1Fu;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3, cp = p[0] & 0x0Fu;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4, cp = p[0] & 0x07u;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3Fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

static int
hex4(const unsigned char *p, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		*v = (*v << 4) | d;
	}
	return 0;
}

static int
put_utf8(struct buf *b, uint32_t cp)
{
	uint8_t u[4];
	size_t n;

	if (cp < 0x80)
		u[0] = (uint8_t)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (uint8_t)(0xC0 | (cp >> 6)),
		u[1] = (uint8_t)(0x80 | (cp & 0x3F)), n = 2;
	else if (cp < 0x10000)
		u[0] = (uint8_t)(0xE0 | (cp >> 12)),
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)),
		u[2] = (uint8_t)(0x80 | (cp & 0x3F)), n = 3;
	else
		u[0] = (uint8_t)(0xF0 | (cp >> 18)),
		u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F)),
		u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)),
		u[3] = (uint8_t)(0x80 | (cp & 0x3F)), n = 4;
	return buf_append(b, u, n);
}

/* The escapes of the string body [p, end) into f->str. 0, or -1 for
 * anything jansson would refuse or treat otherwise (\u0000, lone
 * surrogates, unknown escapes). */
static int
unescape(struct js_fast *f, const unsigned char *p, const unsigned char *end)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	uint32_t cp, lo;

	buf_reset(&f->str);
	while (p < end) {
		const unsigned char *q = p;
		while (q < end && *q != '\\')
			q++;
		if (buf_append(&f->str, p, (size_t)(q - p)) != 0)
			return -1;
		if (q == end)
			break;
		const char *e = q[1] != '\0' ? strchr(from, q[1]) : NULL;
		if (e != NULL) {
			if (buf_append(&f->str, &to[e - from], 1) != 0)
				return -1;
			p = q + 2;
			continue;
		}
		if (q[1] != 'u' || end - q < 6 || hex4(q + 2, &cp) != 0 ||
		    cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
			return -1;
		p = q + 6;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
			    hex4(p + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
				return -1;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			p += 6;
		}
		if (put_utf8(&f->str, cp) != 0)
			return -1;
	}
	return 0;
}

/* The string at j->p (its opening quote): *s, *n point into the line or,
 * when it has escapes (only if esc_ok), into f->str. 0 or -1 (not here). */
static int
jl_str(struct jl *j, bool esc_ok, const unsigned char **s, size_t *n)
{
	const unsigned char *p = j->p + 1, *start = p;
	bool esc = false;

	while (p < j->end && *p != '"') {
		if (*p == '\\') {
			if (!esc_ok || j->end - p < 2)
				return -1;
			esc = true;
			p += 2;
		} else if (*p < 0x20) {
			return -1;
		} else if (*p < 0x80) {
			p++;
		} else {
			size_t l = utf8_seq(p, j->end);
			if (l == 0)
				return -1;
			p += l;
		}
	}
	if (p >= j->end)
		return -1;
	j->p = p + 1;
	if (!esc) {
		*s = start;
		*n = (size_t)(p - start);
		return 0;
	}
	if (unescape(j->f, start, p) != 0)
		return -1;
	*s = j->f->str.p;
	*n = j->f->str.len;
	return 0;
}

/* An integer as jansson reads one: -?(0|[1-9][0-9]*), no fraction or
 * exponent (those are reals: left to jansson), within int64. */
static int
jl_int(struct jl *j, int64_t *v)
{
	const unsigned char *p = j->p;
	bool neg = false;
	uint64_t u = 0, lim;

	if (p < j->end && *p == '-')
		neg = true, p++;
	if (p >= j->end || *p < '0' || *p > '9')
		return -1;
	if (*p == '0' && p + 1 < j->end && p[1] >= '0' && p[1] <= '9')
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	while (p < j->end && *p >= '0' && *p <= '9') {
		unsigned d = *p++ - '0';
		if (u > (lim - d) / 10)
			return -1;
		u = u * 10 + d;
	}
	if (p < j->end && (*p == '.' || *p == 'e' || *p == 'E'))
		return -1;
	*v = neg ? (u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u)
	         : (int64_t)u;
	j->p = p;
	return 0;
}

/* A scalar (string, integer, true, false, null) packed into pk. */
static int
jl_scalar(struct jl *j, msgpack_packer *pk)
{
	const unsigned char *s;
	size_t n;
	int64_t v;

	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '"':
		if (jl_str(j, true, &s, &n) != 0)
			return -1;
		return msgpack_pack_str_with_body(pk, s, n);
	case 't':
		return jl_lit(j, "true", 4) ? msgpack_pack_true(pk) : -1;
	case 'f':
		return jl_lit(j, "false", 5) ? msgpack_pack_false(pk) : -1;
	case 'n':
		return jl_lit(j, "null", 4) ? msgpack_pack_nil(pk) : -1;
	}
	if (jl_int(j, &v) != 0)
		return -1;
	return msgpack_pack_int64(pk, v);
}

/* A value: a scalar, or an array of scalars (packed into f->arr first to
 * count them). Objects and deeper nesting are left to jansson. */
static int
jl_value(struct jl *j, msgpack_packer *pk)
{
	msgpack_packer apk;
	uint32_t n = 0;

	if (j->p >= j->end || *j->p != '[')
		return jl_scalar(j, pk);
	j->p++;
	buf_reset(&j->f->arr);
	msgpack_packer_init(&apk, &j->f->arr, buf_pk_write);
	jl_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
	} else {
		for (;;) {
			if (j->p < j->end && (*j->p == '[' || *j->p == '{'))
				return -1;
			if (jl_scalar(j, &apk) != 0 || n == UINT32_MAX)
				return -1;
			n++;
			jl_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				jl_ws(j);
				continue;
			}
			if (j->p < j->end && *j->p == ']') {
				j->p++;
				break;
			}
			return -1;
		}
	}
	if (j->f->arr.err != 0)
		return -1;
	msgpack_pack_array(pk, n);
	if (j->f->arr.len == 0)
		return 0;
	return msgpack_pack_str_body(pk, j->f->arr.p, j->f->arr.len);
}

static bool
jl_dup(struct jl *j, const unsigned char *k, size_t n)
{
	for (unsigned i = 0; i < j->nkeys; i++) {
		if (j->keylen[i] == n && memcmp(j->key[i], k, n) == 0)
			return true;
	}
	if (j->nkeys == JL_KEYS_MAX)
		return true; /* not counted here: let jansson take it */
	j->key[j->nkeys] = k;
	j->keylen[j->nkeys++] = n;
	return false;
}

/* "collection" or "id": a string without escapes (or null for id). */
static int
jl_meta(struct jl *j, bool null_ok, const unsigned char **s, size_t *n)
{
	if (null_ok && jl_lit(j, "null", 4)) {
		*s = NULL;
		return 0;
	}
	if (j->p >= j->end || *j->p != '"')
		return -1;
	return jl_str(j, false, s, n);
}

int
js_fast_line(struct js_fast *f, const char *line, size_t len,
    const char *defcoll, struct buf *out, const char **coll, size_t *coll_len)
{
	struct jl *j = f->jl;
	const unsigned char *k, *cs = NULL, *ids = NULL;
	size_t kn, cn = 0, idn = 0;
	uint32_t nfields = 0;
	msgpack_packer pk;

	if (j == NULL && (j = f->jl = malloc(sizeof(*j))) == NULL)
		return -1;
	j->p = (const unsigned char *)line;
	j->end = j->p + len;
	j->f = f;
	j->nkeys = 0;
	buf_reset(&f->fields);
	msgpack_packer_init(&pk, &f->fields, buf_pk_write);
	jl_ws(j);
	if (j->p >= j->end || *j->p++ != '{')
		return -1;
	jl_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		goto close;
	}
	for (;;) {
		if (j->p >= j->end || *j->p != '"' ||
		    jl_str(j, false, &k, &kn) != 0 || jl_dup(j, k, kn))
			return -1;
		jl_ws(j);
		if (j->p >= j->end || *j->p++ != ':')
			return -1;
		jl_ws(j);
		if (kn == 10 && memcmp(k, "collection", 10) == 0) {
			if (jl_meta(j, false, &cs, &cn) != 0)
				return -1;
		} else if (kn == 2 && memcmp(k, "id", 2) == 0) {
			if (jl_meta(j, true, &ids, &idn) != 0)
				return -1;
		} else {
			msgpack_pack_str_with_body(&pk, k, kn);
			if (jl_value(j, &pk) != 0)
				return -1;
			nfields++;
		}
		jl_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jl_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			break;
		}
		return -1;
	}
close:
	jl_ws(j);
	if (j->p != j->end || f->fields.err != 0)
		return -1;
	if (cs == NULL) {
		if (defcoll == NULL)
			return -1;
		cs = (const unsigned char *)defcoll;
		cn = strlen(defcoll);
	}
	buf_reset(out);
	msgpack_packer_init(&pk, out, buf_pk_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_str_with_body(&pk, cs, cn);
	if (ids != NULL)
		msgpack_pack_str_with_body(&pk, ids, idn);
	else
		msgpack_pack_nil(&pk);
	msgpack_pack_map(&pk, nfields);
	if (f->fields.len > 0)
		msgpack_pack_str_body(&pk, f->fields.p, f->fields.len);
	if (out->err != 0)
		return -1;
	*coll = (const char *)cs;
	*coll_len = cn;
	return 0;
}
