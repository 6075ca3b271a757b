/*
 * test_mp.c - mp_check, mp_canonical and the mpr cursor.
 *
 * Three sources of truth: the msgpack conformance vectors (every listed
 * encoding of every case), msgpack-c as a second decoder (it must agree with
 * mp_check on everything mp_check lets through), and hand-made hostile
 * input: declared counts and lengths that lie, nesting bombs, truncation at
 * every byte, reserved bytes, random garbage.
 *
 * Skipped as not representable: nothing. The vectors' bignums all fit
 * int64/uint64 (read from their decimal strings, not as JSON numbers). The
 * cursor has no float or ext reader (jalin's canonical data has neither):
 * its part decodes float encodings by hand from mpr_raw, and for ext and
 * timestamp cases checks MP_EXT and that mpr_skip consumes exactly the
 * encoding; msgpack-c checks their values (timestamps as seconds + nanos).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <msgpack.h>

#include "buf.h"
#include "limits.h"
#include "mp.h"

#define ENC_MAX 256 /* longest vector encoding is 37 bytes */

/* ------------------------------------------------------------------ */
/* Small helpers.                                                       */

static int
hexnib(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	fail_msg("bad hex digit '%c' in the vectors", c);
	return -1;
}

/* "cc-80" (the vectors' notation) into bytes; returns the count. */
static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (*s != '\0') {
		assert_true(n < max);
		out[n++] = (uint8_t)(hexnib(s[0]) << 4 | hexnib(s[1]));
		s += 2;
		if (*s == '-')
			s++;
	}
	return n;
}

/* Expect rc == JALIN_EPROTO and exactly msg from mp_check. */
static void
check_fails(
    const void *buf, size_t len, const struct mp_limits *lim, const char *msg)
{
	struct jalin_err err;

	jalin_err_clear(&err);
	assert_int_equal(mp_check(buf, len, lim, NULL, &err), JALIN_EPROTO);
	assert_int_equal(err.code, JALIN_EPROTO);
	assert_string_equal(err.msg, msg);
}

static void
canon_fails(const void *buf, size_t len, const char *msg)
{
	struct jalin_err err;

	jalin_err_clear(&err);
	assert_int_equal(mp_canonical(buf, len, &err), JALIN_EPROTO);
	assert_string_equal(err.msg, msg);
}

/* xorshift64*: a fixed seed makes every run test the same inputs. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static uint32_t
rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)((rng_next(s) >> 32) % n);
}

/* ------------------------------------------------------------------ */
/* The conformance vectors.                                             */

struct vcase {
	const char *file;
	size_t index;
	const char *kind; /* the value key, "bignum" when present */
	json_t *val;
	json_t *encs; /* array of hex strings */
};

struct venc {
	uint8_t p[ENC_MAX];
	size_t len;
	size_t index;
	const char *hex;
};

typedef void (*enc_fn)(const struct vcase *vc, const struct venc *ve);

static int
vectors_setup(void **state)
{
	const char *dir = getenv("JALIN_VECTORS");
	char path[JALIN_PATH_MAX];
	json_error_t jerr;
	json_t *root;
	int n;

	n = snprintf(path, sizeof(path), "%s/msgpack/msgpack-test-suite.json",
	    dir != NULL && dir[0] != '\0' ? dir : "tests/vectors");
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	root = json_load_file(path, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		fprintf(stderr, "cannot load %s: %s\n", path, jerr.text);
		json_decref(root);
		return -1;
	}
	*state = root;
	return 0;
}

static int
vectors_teardown(void **state)
{
	json_decref(*state);
	return 0;
}

static void
case_init(struct vcase *vc, const char *file, size_t index, json_t *c)
{
	const char *key;
	json_t *v;

	vc->file = file;
	vc->index = index;
	vc->encs = json_object_get(c, "msgpack");
	vc->kind = NULL;
	assert_true(json_is_array(vc->encs));
	json_object_foreach(c, key, v)
	{
		if (strcmp(key, "msgpack") == 0)
			continue;
		/* "number" + "bignum": the string is exact, use it. */
		if (vc->kind == NULL || strcmp(key, "bignum") == 0) {
			vc->kind = key;
			vc->val = v;
		}
	}
	assert_non_null(vc->kind);
}

/* Call fn for every encoding of every case; returns the encoding count. */
static size_t
each_encoding(json_t *root, enc_fn fn)
{
	struct vcase vc;
	struct venc ve;
	const char *file;
	json_t *cases, *c, *e;
	size_t i, j, total = 0;

	json_object_foreach(root, file, cases)
	{
		json_array_foreach(cases, i, c)
		{
			case_init(&vc, file, i, c);
			json_array_foreach(vc.encs, j, e)
			{
				ve.hex = json_string_value(e);
				assert_non_null(ve.hex);
				ve.len = unhex(ve.hex, ve.p, sizeof(ve.p));
				ve.index = j;
				fn(&vc, &ve);
				total++;
			}
		}
	}
	return total;
}

#define VFAIL(vc, ve, what)                                               \
	fail_msg("%s case %zu, encoding %s: %s", (vc)->file, (vc)->index, \
	    (ve)->hex, (what))

/* The nested values of arrays and maps carry no key: infer the kind. */
static const char *
json_kind(const json_t *v)
{
	if (json_is_null(v))
		return "nil";
	if (json_is_boolean(v))
		return "bool";
	if (json_is_number(v))
		return "number";
	if (json_is_string(v))
		return "string";
	if (json_is_array(v))
		return "array";
	return "map";
}

enum num_kind {
	NUM_U,
	NUM_I,
	NUM_F
};

struct num {
	enum num_kind kind;
	uint64_t u;
	int64_t i;
	double d;
};

static struct num
num_of(const char *kind, const json_t *v)
{
	struct num n = {NUM_F, 0, 0, 0.0};
	const char *s;
	char *end;

	if (strcmp(kind, "bignum") == 0) {
		s = json_string_value(v);
		errno = 0;
		n.kind = s[0] == '-' ? NUM_I : NUM_U;
		if (n.kind == NUM_I)
			n.i = strtoll(s, &end, 10);
		else
			n.u = strtoull(s, &end, 10);
		assert_int_equal(errno, 0);
		assert_int_equal(*end, '\0');
	} else if (json_is_integer(v) && json_integer_value(v) >= 0) {
		n.kind = NUM_U;
		n.u = (uint64_t)json_integer_value(v);
	} else if (json_is_integer(v)) {
		n.kind = NUM_I;
		n.i = json_integer_value(v);
	} else {
		n.d = json_real_value(v);
	}
	n.d = n.kind == NUM_U ? (double)n.u
	    : n.kind == NUM_I ? (double)n.i
	                      : n.d;
	return n;
}

static bool
is_num(const char *kind)
{
	return strcmp(kind, "number") == 0 || strcmp(kind, "bignum") == 0;
}

/* ------------------------------------------------------------------ */
/* Expected value against msgpack-c's object.                          */

static bool obj_eq(const msgpack_object *o, const char *kind, json_t *v);

static bool
bytes_eq(const void *p, size_t len, const char *hex)
{
	uint8_t want[ENC_MAX];
	size_t n = unhex(hex, want, sizeof(want));

	return n == len && (n == 0 || memcmp(p, want, n) == 0);
}

static bool
obj_num_eq(const msgpack_object *o, struct num n)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return n.kind == NUM_U && o->via.u64 == n.u;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return n.kind == NUM_I && o->via.i64 == n.i;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return o->via.f64 == n.d;
	default:
		return false;
	}
}

static bool
obj_array_eq(const msgpack_object *o, json_t *v)
{
	size_t i;

	if (o->type != MSGPACK_OBJECT_ARRAY ||
	    o->via.array.size != json_array_size(v))
		return false;
	for (i = 0; i < o->via.array.size; i++) {
		json_t *e = json_array_get(v, i);

		if (!obj_eq(&o->via.array.ptr[i], json_kind(e), e))
			return false;
	}
	return true;
}

static bool
obj_map_eq(const msgpack_object *o, json_t *v)
{
	const msgpack_object_kv *kv;
	json_t *e;
	size_t i;

	if (o->type != MSGPACK_OBJECT_MAP ||
	    o->via.map.size != json_object_size(v))
		return false;
	for (i = 0; i < o->via.map.size; i++) {
		kv = &o->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			return false;
		e = json_object_getn(
		    v, kv->key.via.str.ptr, kv->key.via.str.size);
		if (e == NULL || !obj_eq(&kv->val, json_kind(e), e))
			return false;
	}
	return true;
}

static bool
obj_ext_eq(const msgpack_object *o, const char *kind, json_t *v)
{
	msgpack_timestamp ts;

	if (strcmp(kind, "timestamp") == 0)
		return msgpack_object_to_timestamp(o, &ts) &&
		    ts.tv_sec == json_integer_value(json_array_get(v, 0)) &&
		    ts.tv_nsec == json_integer_value(json_array_get(v, 1));
	return o->type == MSGPACK_OBJECT_EXT &&
	    o->via.ext.type == json_integer_value(json_array_get(v, 0)) &&
	    bytes_eq(o->via.ext.ptr, o->via.ext.size,
	        json_string_value(json_array_get(v, 1)));
}

static bool
obj_eq(const msgpack_object *o, const char *kind, json_t *v)
{
	if (strcmp(kind, "nil") == 0)
		return o->type == MSGPACK_OBJECT_NIL;
	if (strcmp(kind, "bool") == 0)
		return o->type == MSGPACK_OBJECT_BOOLEAN &&
		    o->via.boolean == json_is_true(v);
	if (strcmp(kind, "binary") == 0)
		return o->type == MSGPACK_OBJECT_BIN &&
		    bytes_eq(
		        o->via.bin.ptr, o->via.bin.size, json_string_value(v));
	if (is_num(kind))
		return obj_num_eq(o, num_of(kind, v));
	if (strcmp(kind, "string") == 0)
		return o->type == MSGPACK_OBJECT_STR &&
		    o->via.str.size == json_string_length(v) &&
		    (o->via.str.size == 0 ||
		        memcmp(o->via.str.ptr, json_string_value(v),
		            o->via.str.size) == 0);
	if (strcmp(kind, "array") == 0)
		return obj_array_eq(o, v);
	if (strcmp(kind, "map") == 0)
		return obj_map_eq(o, v);
	return obj_ext_eq(o, kind, v);
}

/* ------------------------------------------------------------------ */
/* Expected value against the mpr cursor.                               */

static bool mpr_eq(struct mpr *r, const char *kind, json_t *v);

static double
be_float(const uint8_t *p, size_t len)
{
	uint64_t bits = 0;
	size_t i;
	float f;
	double d;

	for (i = 1; i < len; i++)
		bits = bits << 8 | p[i];
	if (p[0] == 0xca) {
		uint32_t b32 = (uint32_t)bits;

		memcpy(&f, &b32, sizeof(f));
		return f;
	}
	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* Floats have no mpr reader (jalin's canonical data has none): by hand. */
static bool
mpr_num_eq(struct mpr *r, struct num n)
{
	struct mpr copy = *r;
	const uint8_t *p;
	uint64_t u;
	int64_t i;
	size_t len;

	switch (mpr_peek(r)) {
	case MP_UINT:
		/* The signed reader must agree wherever int64 reaches. */
		if (n.u <= INT64_MAX &&
		    (mpr_i64(&copy, &i) != 0 || (uint64_t)i != n.u))
			return false;
		return n.kind == NUM_U && mpr_u64(r, &u) == 0 && u == n.u;
	case MP_INT:
		if (mpr_u64(&copy, &u) != JALIN_EPROTO)
			return false;
		return n.kind == NUM_I && mpr_i64(r, &i) == 0 && i == n.i;
	case MP_FLOAT:
		return mpr_raw(r, &p, &len) == 0 && be_float(p, len) == n.d;
	default:
		return false;
	}
}

static bool
mpr_array_eq(struct mpr *r, json_t *v)
{
	uint32_t n, i;

	if (mpr_array(r, &n) != 0 || n != json_array_size(v))
		return false;
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(v, i);

		if (!mpr_eq(r, json_kind(e), e))
			return false;
	}
	return true;
}

static bool
mpr_map_eq(struct mpr *r, json_t *v)
{
	const char *k;
	uint32_t n, klen, i;
	json_t *e;

	if (mpr_map(r, &n) != 0 || n != json_object_size(v))
		return false;
	for (i = 0; i < n; i++) {
		if (mpr_str(r, &k, &klen) != 0)
			return false;
		e = json_object_getn(v, k, klen);
		if (e == NULL || !mpr_eq(r, json_kind(e), e))
			return false;
	}
	return true;
}

static bool
mpr_eq(struct mpr *r, const char *kind, json_t *v)
{
	const uint8_t *b;
	const char *s;
	uint32_t len;
	bool t;

	if (strcmp(kind, "nil") == 0)
		return mpr_nil(r) == 0;
	if (strcmp(kind, "bool") == 0)
		return mpr_bool(r, &t) == 0 && t == json_is_true(v);
	if (strcmp(kind, "binary") == 0)
		return mpr_bin(r, &b, &len) == 0 &&
		    bytes_eq(b, len, json_string_value(v));
	if (is_num(kind))
		return mpr_num_eq(r, num_of(kind, v));
	if (strcmp(kind, "string") == 0)
		return mpr_str(r, &s, &len) == 0 &&
		    len == json_string_length(v) &&
		    memcmp(s, json_string_value(v), len) == 0;
	if (strcmp(kind, "array") == 0)
		return mpr_array_eq(r, v);
	if (strcmp(kind, "map") == 0)
		return mpr_map_eq(r, v);
	/* ext and timestamp: no reader; the cursor must step over them. */
	return mpr_peek(r) == MP_EXT && mpr_skip(r) == 0;
}

/* ------------------------------------------------------------------ */
/* Expected value through msgpack-c's packer.                           */

static void pack_val(msgpack_packer *pk, const char *kind, json_t *v);

static void
pack_bytes(msgpack_packer *pk, const char *kind, const char *hex, int8_t type)
{
	uint8_t b[ENC_MAX];
	size_t n = unhex(hex, b, sizeof(b));

	if (strcmp(kind, "binary") == 0) {
		msgpack_pack_bin(pk, n);
		msgpack_pack_bin_body(pk, b, n);
	} else {
		msgpack_pack_ext(pk, n, type);
		msgpack_pack_ext_body(pk, b, n);
	}
}

static void
pack_container(msgpack_packer *pk, const char *kind, json_t *v)
{
	const char *key;
	json_t *e;
	size_t i;

	if (strcmp(kind, "array") == 0) {
		msgpack_pack_array(pk, json_array_size(v));
		json_array_foreach(v, i, e)
		{
			pack_val(pk, json_kind(e), e);
		}
		return;
	}
	msgpack_pack_map(pk, json_object_size(v));
	json_object_foreach(v, key, e)
	{
		msgpack_pack_str_with_body(pk, key, strlen(key));
		pack_val(pk, json_kind(e), e);
	}
}

static void
pack_val(msgpack_packer *pk, const char *kind, json_t *v)
{
	msgpack_timestamp ts;
	struct num n;

	if (strcmp(kind, "nil") == 0) {
		msgpack_pack_nil(pk);
	} else if (strcmp(kind, "bool") == 0) {
		if (json_is_true(v))
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
	} else if (is_num(kind)) {
		n = num_of(kind, v);
		if (n.kind == NUM_U)
			msgpack_pack_uint64(pk, n.u);
		else if (n.kind == NUM_I)
			msgpack_pack_int64(pk, n.i);
		else
			msgpack_pack_double(pk, n.d);
	} else if (strcmp(kind, "string") == 0) {
		msgpack_pack_str_with_body(
		    pk, json_string_value(v), json_string_length(v));
	} else if (strcmp(kind, "timestamp") == 0) {
		ts.tv_sec = json_integer_value(json_array_get(v, 0));
		ts.tv_nsec = (uint32_t)json_integer_value(json_array_get(v, 1));
		msgpack_pack_timestamp(pk, &ts);
	} else if (strcmp(kind, "ext") == 0) {
		pack_bytes(pk, kind, json_string_value(json_array_get(v, 1)),
		    (int8_t)json_integer_value(json_array_get(v, 0)));
	} else if (strcmp(kind, "binary") == 0) {
		pack_bytes(pk, kind, json_string_value(v), 0);
	} else {
		pack_container(pk, kind, v);
	}
}

/* ------------------------------------------------------------------ */
/* Which encoding of a case is the canonical one (independent of mp.c).  */

static bool
float_or_ext(uint8_t b)
{
	return b == 0xca || b == 0xcb || (b >= 0xc7 && b <= 0xc9) ||
	    (b >= 0xd4 && b <= 0xd8);
}

/*
 * The shortest encoding without float or ext; of two equally short ones a
 * non-negative number takes the unsigned format (cf, not d3).
 */
static bool
expect_canonical(const struct vcase *vc, const struct venc *ve)
{
	uint8_t p[ENC_MAX];
	size_t i, n, best = SIZE_MAX;
	json_t *e;
	bool nonneg;

	if (float_or_ext(ve->p[0]))
		return false;
	json_array_foreach(vc->encs, i, e)
	{
		n = unhex(json_string_value(e), p, sizeof(p));
		if (!float_or_ext(p[0]) && n < best)
			best = n;
	}
	nonneg = is_num(vc->kind) && num_of(vc->kind, vc->val).kind == NUM_U;
	if (nonneg && ve->p[0] >= 0xd0 && ve->p[0] <= 0xd3)
		return false;
	return ve->len == best;
}

/* ------------------------------------------------------------------ */
/* Vector tests.                                                        */

static void
vec_check(const struct vcase *vc, const struct venc *ve)
{
	struct jalin_err err;
	size_t used = 0;

	jalin_err_clear(&err);
	if (mp_check(ve->p, ve->len, NULL, NULL, &err) != 0)
		VFAIL(vc, ve, err.msg);
	if (mp_check(ve->p, ve->len, NULL, &used, &err) != 0 || used != ve->len)
		VFAIL(vc, ve, "used != length");
}

static void
vec_msgpackc(const struct vcase *vc, const struct venc *ve)
{
	msgpack_unpacked u;
	size_t off = 0;

	assert_int_equal(mp_check(ve->p, ve->len, NULL, NULL, NULL), 0);
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)ve->p, ve->len, &off) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    off != ve->len)
		VFAIL(vc, ve, "msgpack-c does not decode it");
	if (!obj_eq(&u.data, vc->kind, vc->val))
		VFAIL(vc, ve, "msgpack-c decodes another value");
	msgpack_unpacked_destroy(&u);
}

static void
vec_mpr(const struct vcase *vc, const struct venc *ve)
{
	struct mpr r;

	mpr_init(&r, ve->p, ve->len);
	if (!mpr_eq(&r, vc->kind, vc->val))
		VFAIL(vc, ve, "the cursor reads another value");
	if (mpr_error(&r) != 0 || mpr_peek(&r) != MP_END || mpr_left(&r) != 0)
		VFAIL(vc, ve, "the cursor did not end cleanly");
	mpr_init(&r, ve->p, ve->len);
	if (mpr_skip(&r) != 0 || mpr_left(&r) != 0)
		VFAIL(vc, ve, "mpr_skip");
}

static void
vec_canonical(const struct vcase *vc, const struct venc *ve)
{
	struct jalin_err err;
	int rc;

	jalin_err_clear(&err);
	rc = mp_canonical(ve->p, ve->len, &err);
	if (expect_canonical(vc, ve) && rc != 0)
		VFAIL(vc, ve, err.msg);
	if (!expect_canonical(vc, ve) && rc != JALIN_EPROTO)
		VFAIL(vc, ve, "accepted as canonical");
}

static void
test_vectors_check(void **state)
{
	/* The NOTICE promises 233 encodings in 85 cases. */
	assert_int_equal(each_encoding(*state, vec_check), 233);
}

static void
test_vectors_msgpackc(void **state)
{
	each_encoding(*state, vec_msgpackc);
}

static void
test_vectors_mpr(void **state)
{
	each_encoding(*state, vec_mpr);
}

static void
test_vectors_canonical(void **state)
{
	each_encoding(*state, vec_canonical);
}

/* Per case: the packer's bytes are listed, and canonical unless float/ext. */
static void
pack_case(const struct vcase *vc)
{
	msgpack_packer pk;
	struct buf b;
	json_t *e;
	size_t i, ncanon = 0;
	bool listed = false;
	struct venc ve;

	buf_init(&b, 1024);
	msgpack_packer_init(&pk, &b, buf_pk_write);
	pack_val(&pk, vc->kind, vc->val);
	assert_int_equal(b.err, 0);
	json_array_foreach(vc->encs, i, e)
	{
		ve.hex = json_string_value(e);
		ve.len = unhex(ve.hex, ve.p, sizeof(ve.p));
		listed |= ve.len == b.len && memcmp(ve.p, b.p, b.len) == 0;
		ncanon += expect_canonical(vc, &ve);
	}
	if (!listed)
		fail_msg("%s case %zu: msgpack-c's encoding is not listed",
		    vc->file, vc->index);
	/* Exactly one canonical form, and it is what msgpack-c writes. */
	assert_int_equal(ncanon, float_or_ext(b.p[0]) ? 0 : 1);
	if (ncanon == 1)
		assert_int_equal(mp_canonical(b.p, b.len, NULL), 0);
	buf_free(&b);
}

static void
test_vectors_packer(void **state)
{
	struct vcase vc;
	const char *file;
	json_t *cases, *c;
	size_t i, ncases = 0;

	json_object_foreach((json_t *)*state, file, cases)
	{
		json_array_foreach(cases, i, c)
		{
			case_init(&vc, file, i, c);
			pack_case(&vc);
			ncases++;
		}
	}
	assert_int_equal(ncases, 85);
}

/* ------------------------------------------------------------------ */
/* Declared counts and lengths that lie.                                */

static void
test_bomb_counts(void **state)
{
	static const uint8_t arr32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t map32[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t nested[] = {0x91, 0xdd, 0, 1, 0, 0, 0xc0, 0xc0};
	static const uint8_t map16[] = {0xde, 0x00, 0x02, 0x01, 0x02, 0x03};
	static const uint8_t fix1[] = {0x91};
	static const uint8_t at_limit[] = {0x93, 1, 2, 3};
	static const uint8_t over[] = {0x94, 1, 2, 3};

	(void)state;
	/* Never handed to msgpack-c: Debian's 4.0.0 would ask for 128 GiB. */
	check_fails(arr32, sizeof(arr32), NULL,
	    "msgpack: array of 4294967295 elements at offset 0 exceeds the 0 bytes left");
	check_fails(map32, sizeof(map32), NULL,
	    "msgpack: map of 4294967295 pairs (8589934590 objects) at offset 0 exceeds the 0 bytes left");
	check_fails(nested, sizeof(nested), NULL,
	    "msgpack: array of 65536 elements at offset 1 exceeds the 2 bytes left");
	check_fails(map16, sizeof(map16), NULL,
	    "msgpack: map of 2 pairs (4 objects) at offset 0 exceeds the 3 bytes left");
	check_fails(fix1, sizeof(fix1), NULL,
	    "msgpack: array of 1 element at offset 0 exceeds the 0 bytes left");
	check_fails(over, sizeof(over), NULL,
	    "msgpack: array of 4 elements at offset 0 exceeds the 3 bytes left");
	canon_fails(arr32, sizeof(arr32),
	    "msgpack: array of 4294967295 elements at offset 0 exceeds the 0 bytes left");
	assert_int_equal(
	    mp_check(at_limit, sizeof(at_limit), NULL, NULL, NULL), 0);
}

static void
test_bomb_counts_mpr(void **state)
{
	static const uint8_t arr32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t map32[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t arr16[] = {0xdc, 0x00, 0x03, 0x01, 0x02};
	static const uint8_t map_ok[] = {0x82, 1, 2, 3, 4};
	static const uint8_t map_over[] = {0x82, 1, 2, 3};
	struct mpr r;
	uint32_t n = 77;

	(void)state;
	mpr_init(&r, arr32, sizeof(arr32));
	assert_int_equal(mpr_array(&r, &n), JALIN_EPROTO);
	assert_int_equal(mpr_left(&r), sizeof(arr32));
	assert_int_equal(n, 77);
	mpr_init(&r, map32, sizeof(map32));
	assert_int_equal(mpr_map(&r, &n), JALIN_EPROTO);
	mpr_init(&r, arr16, sizeof(arr16));
	assert_int_equal(mpr_array(&r, &n), JALIN_EPROTO);
	mpr_init(&r, map_over, sizeof(map_over));
	assert_int_equal(mpr_map(&r, &n), JALIN_EPROTO);
	mpr_init(&r, map_ok, sizeof(map_ok));
	assert_int_equal(mpr_map(&r, &n), 0);
	assert_int_equal(n, 2);
	mpr_init(&r, arr32, sizeof(arr32));
	assert_int_equal(mpr_skip(&r), JALIN_EPROTO);
}

static void
test_bomb_lengths(void **state)
{
	static const uint8_t str32[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'a', 'b'};
	static const uint8_t bin32[] = {0xc6, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t ext32[] = {0xc9, 0xff, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t fixstr[] = {0x93, 0x01, 0x02, 0xaa, 'a', 'b'};
	struct mpr r;
	const char *s;
	const uint8_t *b;
	uint32_t n;

	(void)state;
	check_fails(str32, sizeof(str32), NULL,
	    "msgpack: truncated str at offset 0 (needs 4294967295 bytes, 2 left)");
	check_fails(bin32, sizeof(bin32), NULL,
	    "msgpack: truncated bin at offset 0 (needs 4294967295 bytes, 0 left)");
	/* The ext's type byte is part of what must follow the header. */
	check_fails(ext32, sizeof(ext32), NULL,
	    "msgpack: truncated ext at offset 0 (needs 4294967296 bytes, 1 left)");
	check_fails(fixstr, sizeof(fixstr), NULL,
	    "msgpack: truncated str at offset 3 (needs 10 bytes, 2 left)");
	mpr_init(&r, str32, sizeof(str32));
	assert_int_equal(mpr_str(&r, &s, &n), JALIN_EPROTO);
	mpr_init(&r, bin32, sizeof(bin32));
	assert_int_equal(mpr_bin(&r, &b, &n), JALIN_EPROTO);
	mpr_init(&r, ext32, sizeof(ext32));
	assert_int_equal(mpr_skip(&r), JALIN_EPROTO);
}

static void
test_truncated_headers(void **state)
{
	static const uint8_t u16[] = {0xcd, 0x01};
	static const uint8_t s8[] = {0xd9};
	static const uint8_t elem[] = {0x92, 0xcd, 0x00};
	static const uint8_t missing[] = {0x92, 0xa1, 'a'};
	static const uint8_t f64[] = {0xcb, 0, 0, 0};
	static const uint8_t fixext[] = {0xd6, 0x01, 0, 0};

	(void)state;
	check_fails(u16, sizeof(u16), NULL,
	    "msgpack: truncated int at offset 0 (needs 2 bytes, 1 left)");
	check_fails(s8, sizeof(s8), NULL,
	    "msgpack: truncated str at offset 0 (needs 1 byte, 0 left)");
	check_fails(elem, sizeof(elem), NULL,
	    "msgpack: truncated int at offset 1 (needs 2 bytes, 1 left)");
	check_fails(missing, sizeof(missing), NULL,
	    "msgpack: truncated object at offset 3 (needs 1 byte, 0 left)");
	check_fails(f64, sizeof(f64), NULL,
	    "msgpack: truncated float at offset 0 (needs 8 bytes, 3 left)");
	check_fails(fixext, sizeof(fixext), NULL,
	    "msgpack: truncated ext at offset 0 (needs 5 bytes, 3 left)");
	check_fails(NULL, 0, NULL,
	    "msgpack: truncated object at offset 0 (needs 1 byte, 0 left)");
	check_fails(u16, 0, NULL,
	    "msgpack: truncated object at offset 0 (needs 1 byte, 0 left)");
	assert_int_equal(
	    mp_check(u16, sizeof(u16), NULL, NULL, NULL), JALIN_EPROTO);
}

/* A map holding every format msgpack has, built by msgpack-c. */
static void
pack_everything(struct buf *b)
{
	static const uint8_t bytes[300] = {1, 2, 3};
	msgpack_timestamp ts = {1514862245, 678901234};
	msgpack_packer pk;

	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_map(&pk, 10);
	msgpack_pack_nil(&pk);
	msgpack_pack_true(&pk);
	msgpack_pack_false(&pk);
	msgpack_pack_uint8(&pk, 200);
	msgpack_pack_uint16(&pk, 60000);
	msgpack_pack_uint32(&pk, 4000000000u);
	msgpack_pack_uint64(&pk, UINT64_MAX);
	msgpack_pack_int8(&pk, -100);
	msgpack_pack_int16(&pk, -30000);
	msgpack_pack_int32(&pk, -2000000000);
	msgpack_pack_int64(&pk, INT64_MIN);
	msgpack_pack_float(&pk, 1.5f);
	msgpack_pack_double(&pk, -2.25);
	msgpack_pack_str_with_body(
	    &pk, "forty characters of text in one string..", 40);
	msgpack_pack_bin_with_body(&pk, bytes, sizeof(bytes));
	msgpack_pack_ext_with_body(&pk, bytes, 5, 7);
	msgpack_pack_timestamp(&pk, &ts);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_int8(&pk, -1);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_fix_uint8(&pk, 2);
	msgpack_pack_map(&pk, 0);
	msgpack_pack_str_with_body(&pk, "", 0);
	msgpack_pack_fix_int16(&pk, 5);
	msgpack_pack_bin_with_body(&pk, bytes, 0);
	assert_int_equal(b->err, 0);
}

/* Cut the object at every length: always a clean refusal, nothing read. */
static void
test_truncated_every_prefix(void **state)
{
	struct jalin_err err;
	struct buf b;
	struct mpr r;
	size_t k, used;

	(void)state;
	buf_init(&b, 4096);
	pack_everything(&b);
	assert_int_equal(mp_check(b.p, b.len, NULL, NULL, NULL), 0);
	for (k = 0; k < b.len; k++) {
		jalin_err_clear(&err);
		assert_int_equal(
		    mp_check(b.p, k, NULL, &used, &err), JALIN_EPROTO);
		if (strncmp(err.msg, "msgpack: truncated ", 19) != 0 &&
		    strstr(err.msg, " exceeds the ") == NULL)
			fail_msg(
			    "prefix %zu: unexpected message '%s'", k, err.msg);
		assert_int_equal(mp_canonical(b.p, k, NULL), JALIN_EPROTO);
		mpr_init(&r, b.p, k);
		assert_int_equal(mpr_skip(&r), JALIN_EPROTO);
		assert_int_equal(mpr_left(&r), k);
	}
	buf_free(&b);
}

static void
test_reserved_byte(void **state)
{
	static const uint8_t top[] = {0xc1};
	static const uint8_t elem[] = {0x92, 0x01, 0xc1};
	static const uint8_t key[] = {0x81, 0xc1, 0x01};
	struct mpr r;

	(void)state;
	check_fails(
	    top, sizeof(top), NULL, "msgpack: reserved byte 0xc1 at offset 0");
	check_fails(elem, sizeof(elem), NULL,
	    "msgpack: reserved byte 0xc1 at offset 2");
	check_fails(
	    key, sizeof(key), NULL, "msgpack: reserved byte 0xc1 at offset 1");
	canon_fails(
	    top, sizeof(top), "msgpack: reserved byte 0xc1 at offset 0");
	mpr_init(&r, top, sizeof(top));
	assert_int_equal(mpr_peek(&r), MP_INVALID);
	assert_int_equal(mpr_skip(&r), JALIN_EPROTO);
}

static void
test_trailing_bytes(void **state)
{
	static const uint8_t four[] = {0x01, 0x02, 0x03, 0x04};
	static const uint8_t two[] = {0xc0, 0xc0};
	size_t used = 0;

	(void)state;
	check_fails(four, sizeof(four), NULL,
	    "msgpack: 3 trailing bytes after the object");
	check_fails(two, sizeof(two), NULL,
	    "msgpack: 1 trailing byte after the object");
	canon_fails(
	    two, sizeof(two), "msgpack: 1 trailing byte after the object");
	/* With used, the caller takes the rest: a stream of objects. */
	assert_int_equal(mp_check(four, sizeof(four), NULL, &used, NULL), 0);
	assert_int_equal(used, 1);
}

static void
test_limits_tiny(void **state)
{
	static const struct mp_limits tiny = {2, 4, 3, false, false};
	static const uint8_t str4[] = {0xa4, 'a', 'b', 'c', 'd'};
	static const uint8_t str5[] = {0xa5, 'a', 'b', 'c', 'd', 'e'};
	static const uint8_t key5[] = {0x81, 0xa5, 'a', 'b', 'c', 'd', 'e', 1};
	static const uint8_t bin3[] = {0xc4, 0x03, 1, 2, 3};
	static const uint8_t bin4[] = {0xc4, 0x04, 1, 2, 3, 4};
	static const uint8_t d2[] = {0x91, 0x91, 0xc0};
	static const uint8_t d3[] = {0x91, 0x91, 0x91, 0xc0};
	static const uint8_t flt[] = {0x91, 0xca, 0, 0, 0, 0};
	static const uint8_t ext[] = {0xd4, 0x01, 0x00};

	(void)state;
	assert_int_equal(mp_check(str4, sizeof(str4), &tiny, NULL, NULL), 0);
	check_fails(str5, sizeof(str5), &tiny,
	    "msgpack: str of 5 bytes at offset 0 exceeds limit 4");
	check_fails(key5, sizeof(key5), &tiny,
	    "msgpack: str of 5 bytes at offset 1 exceeds limit 4");
	assert_int_equal(mp_check(bin3, sizeof(bin3), &tiny, NULL, NULL), 0);
	check_fails(bin4, sizeof(bin4), &tiny,
	    "msgpack: bin of 4 bytes at offset 0 exceeds limit 3");
	assert_int_equal(mp_check(d2, sizeof(d2), &tiny, NULL, NULL), 0);
	check_fails(d3, sizeof(d3), &tiny,
	    "msgpack: nesting deeper than 2 at offset 2");
	check_fails(
	    flt, sizeof(flt), &tiny, "msgpack: float at offset 1 not allowed");
	check_fails(
	    ext, sizeof(ext), &tiny, "msgpack: ext at offset 0 not allowed");
	assert_int_equal(mp_check(flt, sizeof(flt), NULL, NULL, NULL), 0);
	assert_int_equal(mp_check(ext, sizeof(ext), NULL, NULL, NULL), 0);
}

static void
test_limits_depth_zero(void **state)
{
	static const struct mp_limits flat = {0, 16, 16, true, true};
	static const uint8_t nil[] = {0xc0};
	static const uint8_t arr[] = {0x90};

	(void)state;
	assert_int_equal(mp_check(nil, sizeof(nil), &flat, NULL, NULL), 0);
	check_fails(arr, sizeof(arr), &flat,
	    "msgpack: nesting deeper than 0 at offset 0");
}

/* The default str/bin limit is the frame size: at it and one over. */
static void
test_limits_default_str(void **state)
{
	size_t n = JALIN_FRAME_MAX + 1;
	uint8_t *p = calloc(1, 5 + n);

	(void)state;
	assert_non_null(p);
	p[0] = 0xdb;
	p[1] = (uint8_t)(n >> 24);
	p[2] = (uint8_t)(n >> 16);
	p[3] = (uint8_t)(n >> 8);
	p[4] = (uint8_t)n;
	check_fails(p, 5 + n, NULL,
	    "msgpack: str of 8388609 bytes at offset 0 exceeds limit 8388608");
	p[0] = 0xc6;
	check_fails(p, 5 + n, NULL,
	    "msgpack: bin of 8388609 bytes at offset 0 exceeds limit 8388608");
	p[4] = (uint8_t)(n - 1);
	assert_int_equal(mp_check(p, 5 + n - 1, NULL, NULL, NULL), 0);
	free(p);
}

/* ------------------------------------------------------------------ */
/* Nesting bombs.                                                       */

struct bomb {
	uint8_t *p;
	size_t len;
};

#define BOMB_LEVELS 100000

/* 100k nested one-element arrays around a nil: 100001 bytes. */
static int
bomb_setup(void **state)
{
	struct bomb *b = malloc(sizeof(*b));

	if (b == NULL || (b->p = malloc(BOMB_LEVELS + 1)) == NULL) {
		free(b);
		return -1;
	}
	memset(b->p, 0x91, BOMB_LEVELS);
	b->p[BOMB_LEVELS] = 0xc0;
	b->len = BOMB_LEVELS + 1;
	*state = b;
	return 0;
}

static int
bomb_teardown(void **state)
{
	struct bomb *b = *state;

	free(b->p);
	free(b);
	return 0;
}

static void
test_depth_bomb_arrays(void **state)
{
	struct bomb *b = *state;
	struct mpr r;

	check_fails(
	    b->p, b->len, NULL, "msgpack: nesting deeper than 16 at offset 16");
	canon_fails(
	    b->p, b->len, "msgpack: nesting deeper than 16 at offset 16");
	mpr_init(&r, b->p, b->len);
	assert_int_equal(mpr_skip(&r), JALIN_EPROTO);
	assert_int_equal(mpr_left(&r), b->len);
}

/* At the limit: 16 levels pass, and msgpack-c agrees; 17 do not. */
static void
test_depth_at_limit(void **state)
{
	struct bomb *b = *state;
	const uint8_t *p = b->p + b->len - (JALIN_MP_DEPTH_MAX + 1);
	msgpack_unpacked u;
	struct mpr r;
	size_t off = 0;

	assert_int_equal(
	    mp_check(p, JALIN_MP_DEPTH_MAX + 1, NULL, NULL, NULL), 0);
	assert_int_equal(mp_canonical(p, JALIN_MP_DEPTH_MAX + 1, NULL), 0);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(
	                     &u, (const char *)p, JALIN_MP_DEPTH_MAX + 1, &off),
	    MSGPACK_UNPACK_SUCCESS);
	msgpack_unpacked_destroy(&u);
	mpr_init(&r, p, JALIN_MP_DEPTH_MAX + 1);
	assert_int_equal(mpr_skip(&r), 0);
	check_fails(p - 1, JALIN_MP_DEPTH_MAX + 2, NULL,
	    "msgpack: nesting deeper than 16 at offset 16");
}

static void
test_depth_bomb_maps(void **state)
{
	size_t i, n = 2 * BOMB_LEVELS + 1;
	uint8_t *p = malloc(n);
	static const uint8_t arr32[] = {0xdd, 0, 0, 0, 1};
	uint8_t *q = malloc(5 * 1000 + 1);

	(void)state;
	assert_non_null(p);
	assert_non_null(q);
	/* {0: {0: {0: ...}}}: each level is "81 00". */
	for (i = 0; i < BOMB_LEVELS; i++) {
		p[2 * i] = 0x81;
		p[2 * i + 1] = 0x00;
	}
	p[n - 1] = 0xc0;
	check_fails(p, n, NULL, "msgpack: nesting deeper than 16 at offset 32");
	/* The same with array32 headers, whose counts are honest. */
	for (i = 0; i < 1000; i++)
		memcpy(q + 5 * i, arr32, 5);
	q[5 * 1000] = 0xc0;
	check_fails(q, 5 * 1000 + 1, NULL,
	    "msgpack: nesting deeper than 16 at offset 80");
	free(p);
	free(q);
}

/* ------------------------------------------------------------------ */
/* The cursor.                                                          */

static void
test_mpr_scalars(void **state)
{
	static const uint8_t in[] = {0xc0, 0xc2, 0xc3, 0x7f, 0xcc, 0xff, 0xcd,
	    0xff, 0xfe, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xe0, 0xd0, 0x80, 0xd1, 0x80, 0x00, 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0,
	    0xd0, 0x05};
	struct mpr r;
	uint64_t u;
	int64_t i;
	bool t, f;

	(void)state;
	mpr_init(&r, in, sizeof(in));
	assert_int_equal(mpr_nil(&r), 0);
	assert_int_equal(mpr_bool(&r, &f), 0);
	assert_int_equal(mpr_bool(&r, &t), 0);
	assert_false(f);
	assert_true(t);
	assert_int_equal(mpr_u64(&r, &u), 0);
	assert_int_equal(u, 127);
	assert_int_equal(mpr_u64(&r, &u), 0);
	assert_int_equal(u, 255);
	assert_int_equal(mpr_i64(&r, &i), 0);
	assert_int_equal(i, 65534);
	assert_int_equal(mpr_u64(&r, &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(mpr_i64(&r, &i), 0);
	assert_int_equal(i, -32);
	assert_int_equal(mpr_i64(&r, &i), 0);
	assert_int_equal(i, -128);
	assert_int_equal(mpr_i64(&r, &i), 0);
	assert_int_equal(i, -32768);
	assert_int_equal(mpr_i64(&r, &i), 0);
	assert_true(i == INT64_MIN);
	/* A non-negative value in a signed encoding is still a u64. */
	assert_int_equal(mpr_u64(&r, &u), 0);
	assert_int_equal(u, 5);
	assert_int_equal(mpr_peek(&r), MP_END);
	assert_int_equal(mpr_error(&r), 0);
}

static void
test_mpr_int_range(void **state)
{
	static const uint8_t big[] = {0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t max[] = {
	    0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t neg[] = {0xff};
	struct mpr r;
	uint64_t u = 9;
	int64_t i = 9;

	(void)state;
	mpr_init(&r, big, sizeof(big));
	assert_int_equal(mpr_i64(&r, &i), JALIN_EPROTO);
	assert_int_equal(i, 9);
	mpr_init(&r, max, sizeof(max));
	assert_int_equal(mpr_i64(&r, &i), 0);
	assert_true(i == INT64_MAX);
	mpr_init(&r, neg, sizeof(neg));
	assert_int_equal(mpr_u64(&r, &u), JALIN_EPROTO);
	assert_int_equal(u, 9);
	assert_int_equal(mpr_left(&r), 1);
}

static void
test_mpr_containers(void **state)
{
	static const uint8_t in[] = {0x82, 0xa1, 'a', 0xc4, 0x02, 0xde, 0xad,
	    0xa1, 'b', 0xdc, 0x00, 0x02, 0xd9, 0x02, 'h', 'i', 0x90};
	struct mpr r;
	const char *s;
	const uint8_t *b;
	uint32_t n, len;

	(void)state;
	mpr_init(&r, in, sizeof(in));
	assert_int_equal(mpr_peek(&r), MP_MAP);
	assert_int_equal(mpr_map(&r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(mpr_str(&r, &s, &len), 0);
	assert_int_equal(len, 1);
	assert_memory_equal(s, "a", 1);
	assert_int_equal(mpr_peek(&r), MP_BIN);
	assert_int_equal(mpr_bin(&r, &b, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(b[0], 0xde);
	assert_int_equal(mpr_str(&r, &s, &len), 0);
	assert_int_equal(mpr_peek(&r), MP_ARRAY);
	assert_int_equal(mpr_array(&r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(mpr_str(&r, &s, &len), 0);
	assert_memory_equal(s, "hi", 2);
	assert_int_equal(mpr_array(&r, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(mpr_left(&r), 0);
	assert_ptr_equal(mpr_pos(&r), in + sizeof(in));
}

static void
test_mpr_peek(void **state)
{
	static const struct {
		uint8_t in[3];
		size_t len;
		enum mp_type t;
	} cases[] = {
	    {{0xc0}, 1, MP_NIL},
	    {{0xc3}, 1, MP_BOOL},
	    {{0x00}, 1, MP_UINT},
	    {{0xcf}, 1, MP_UINT},
	    {{0xff}, 1, MP_INT},
	    {{0xd0, 0x05}, 2, MP_UINT},
	    {{0xd3, 0x80}, 2, MP_INT},
	    {{0xd0}, 1, MP_INVALID},
	    {{0xca}, 1, MP_FLOAT},
	    {{0xcb}, 1, MP_FLOAT},
	    {{0xa0}, 1, MP_STR},
	    {{0xdb}, 1, MP_STR},
	    {{0xc4}, 1, MP_BIN},
	    {{0x90}, 1, MP_ARRAY},
	    {{0xdd}, 1, MP_ARRAY},
	    {{0x80}, 1, MP_MAP},
	    {{0xdf}, 1, MP_MAP},
	    {{0xd4}, 1, MP_EXT},
	    {{0xc9}, 1, MP_EXT},
	    {{0xc1}, 1, MP_INVALID},
	    {{0}, 0, MP_END},
	};
	struct mpr r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mpr_init(&r, cases[i].in, cases[i].len);
		assert_int_equal(mpr_peek(&r), cases[i].t);
	}
	mpr_init(&r, NULL, 0);
	assert_int_equal(mpr_peek(&r), MP_END);
	assert_int_equal(mpr_left(&r), 0);
}

/* One failed read poisons the cursor; the caller checks once at the end. */
static void
test_mpr_sticky(void **state)
{
	static const uint8_t in[] = {0x01, 0xc0, 0xc0};
	struct mpr r;
	const char *s = NULL;
	uint32_t len = 0;
	bool t;

	(void)state;
	mpr_init(&r, in, sizeof(in));
	assert_int_equal(mpr_str(&r, &s, &len), JALIN_EPROTO);
	assert_null(s);
	assert_int_equal(mpr_left(&r), 3);
	assert_int_equal(mpr_peek(&r), MP_INVALID);
	assert_int_equal(mpr_nil(&r), JALIN_EPROTO);
	assert_int_equal(mpr_bool(&r, &t), JALIN_EPROTO);
	assert_int_equal(mpr_skip(&r), JALIN_EPROTO);
	assert_int_equal(mpr_error(&r), JALIN_EPROTO);
	/* The first error stays; mpr_fail with 0 still fails the cursor. */
	mpr_fail(&r, JALIN_ESCHEMA);
	assert_int_equal(mpr_error(&r), JALIN_EPROTO);
	mpr_init(&r, in, sizeof(in));
	mpr_fail(&r, JALIN_ESCHEMA);
	assert_int_equal(mpr_nil(&r), JALIN_ESCHEMA);
	assert_int_equal(mpr_error(&r), JALIN_ESCHEMA);
	mpr_init(&r, in, sizeof(in));
	mpr_fail(&r, 0);
	assert_int_equal(mpr_error(&r), JALIN_EPROTO);
}

static void
test_mpr_wrong_type_and_short(void **state)
{
	static const struct {
		uint8_t in[4];
		size_t len;
	} bad_str[] = {{{0x01}, 1}, {{0xa3, 'a', 'b'}, 3}, {{0xd9}, 1},
	    {{0xda, 0x00}, 2}, {{0xc5, 0x00}, 2}, {{0}, 0}};
	struct mpr r;
	const char *s;
	const uint8_t *b;
	uint32_t len;
	uint64_t u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_str) / sizeof(bad_str[0]); i++) {
		mpr_init(&r, bad_str[i].in, bad_str[i].len);
		assert_int_equal(mpr_str(&r, &s, &len), JALIN_EPROTO);
		mpr_init(&r, bad_str[i].in, bad_str[i].len);
		assert_int_equal(mpr_bin(&r, &b, &len), JALIN_EPROTO);
		mpr_init(&r, bad_str[i].in, bad_str[i].len);
		assert_int_equal(mpr_nil(&r), JALIN_EPROTO);
	}
	mpr_init(&r, (const uint8_t[]){0xc4, 0x00}, 2);
	assert_int_equal(mpr_str(&r, &s, &len), JALIN_EPROTO);
	mpr_init(&r, (const uint8_t[]){0xa0}, 1);
	assert_int_equal(mpr_bin(&r, &b, &len), JALIN_EPROTO);
	mpr_init(&r, (const uint8_t[]){0xcd, 0x01}, 2);
	assert_int_equal(mpr_u64(&r, &u), JALIN_EPROTO);
	mpr_init(&r, (const uint8_t[]){0xc0}, 1);
	assert_int_equal(mpr_u64(&r, &u), JALIN_EPROTO);
	mpr_init(&r, (const uint8_t[]){0xca, 0, 0, 0, 0}, 5);
	assert_int_equal(mpr_u64(&r, &u), JALIN_EPROTO);
}

static void
test_mpr_raw(void **state)
{
	static const uint8_t in[] = {0x92, 0x81, 0xa1, 'k', 0xcb, 0, 0, 0, 0, 0,
	    0, 0, 0, 0xd4, 0x01, 0x02, 0x07};
	struct mpr r;
	const uint8_t *p;
	size_t len;
	uint64_t u;

	(void)state;
	mpr_init(&r, in, sizeof(in));
	assert_int_equal(mpr_raw(&r, &p, &len), 0);
	assert_ptr_equal(p, in);
	assert_int_equal(len, sizeof(in) - 1);
	assert_int_equal(mpr_u64(&r, &u), 0);
	assert_int_equal(u, 7);
	assert_int_equal(mpr_skip(&r), JALIN_EPROTO);
}

/* ------------------------------------------------------------------ */
/* Canonical form.                                                      */

struct canon_case {
	uint8_t in[40];
	size_t len;
	const char *msg; /* NULL: canonical */
};

static const struct canon_case canon_cases[] = {
    {{0x00}, 1, NULL},
    {{0x7f}, 1, NULL},
    {{0xcc, 0x80}, 2, NULL},
    {{0xcd, 0x01, 0x00}, 3, NULL},
    {{0xce, 0x00, 0x01, 0x00, 0x00}, 5, NULL},
    {{0xcf, 0, 0, 0, 1, 0, 0, 0, 0}, 9, NULL},
    {{0xe0}, 1, NULL},
    {{0xd0, 0xdf}, 2, NULL},
    {{0xd1, 0xff, 0x7f}, 3, NULL},
    {{0xd2, 0xff, 0xff, 0x7f, 0xff}, 5, NULL},
    {{0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff}, 9, NULL},
    {{0xc0}, 1, NULL},
    {{0xc2}, 1, NULL},
    {{0xa0}, 1, NULL},
    {{0xc4, 0x00}, 2, NULL},
    {{0x90}, 1, NULL},
    {{0x80}, 1, NULL},
    {{0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02}, 7, NULL},
    {{0x82, 0x01, 0xc0, 0xa1, 'a', 0xc0}, 6, NULL},
    {{0x82, 0xa1, 'b', 0x01, 0xa2, 'a', 'a', 0x02}, 8, NULL},
    {{0xcc, 0x05}, 2, "msgpack: int at offset 0 not in its smallest encoding"},
    {{0xcd, 0x00, 0xff}, 3,
        "msgpack: int at offset 0 not in its smallest encoding"},
    {{0xcf, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, 9,
        "msgpack: int at offset 0 not in its smallest encoding"},
    {{0xd0, 0x05}, 2,
        "msgpack: non-negative int at offset 0 in a signed encoding"},
    {{0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9,
        "msgpack: non-negative int at offset 0 in a signed encoding"},
    {{0xd0, 0xe0}, 2, "msgpack: int at offset 0 not in its smallest encoding"},
    {{0xd1, 0xff, 0x80}, 3,
        "msgpack: int at offset 0 not in its smallest encoding"},
    {{0xd3, 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0}, 9,
        "msgpack: int at offset 0 not in its smallest encoding"},
    {{0xd9, 0x03, 'a', 'b', 'c'}, 5,
        "msgpack: str at offset 0 not in its smallest encoding"},
    {{0xda, 0x00, 0x01, 'a'}, 4,
        "msgpack: str at offset 0 not in its smallest encoding"},
    {{0xc5, 0x00, 0x01, 0x00}, 4,
        "msgpack: bin at offset 0 not in its smallest encoding"},
    {{0xdc, 0x00, 0x01, 0x01}, 4,
        "msgpack: array at offset 0 not in its smallest encoding"},
    {{0xde, 0x00, 0x01, 0x01, 0x02}, 5,
        "msgpack: map at offset 0 not in its smallest encoding"},
    {{0x92, 0x01, 0xcc, 0x02}, 4,
        "msgpack: int at offset 2 not in its smallest encoding"},
    {{0x82, 0xa1, 'b', 0x01, 0xa1, 'a', 0x02}, 7,
        "msgpack: map key at offset 4 out of order"},
    {{0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02}, 7,
        "msgpack: duplicate map key at offset 4"},
    {{0x83, 0x01, 0xc0, 0x02, 0xc0, 0x02, 0xc0}, 7,
        "msgpack: duplicate map key at offset 5"},
    {{0x81, 0x81, 0x02, 0xc0, 0xc0}, 5, NULL},
    {{0xca, 0, 0, 0, 0}, 5, "msgpack: float at offset 0 not allowed"},
    {{0xcb, 0, 0, 0, 0, 0, 0, 0, 0}, 9,
        "msgpack: float at offset 0 not allowed"},
    {{0x81, 0xa1, 'x', 0xca, 0, 0, 0, 0}, 8,
        "msgpack: float at offset 3 not allowed"},
    {{0xd4, 0x01, 0x00}, 3, "msgpack: ext at offset 0 not allowed"},
    {{0xd6, 0xff, 0, 0, 0, 0}, 6, "msgpack: ext at offset 0 not allowed"},
    {{0x01, 0x02}, 2, "msgpack: 1 trailing byte after the object"},
};

static void
test_canonical(void **state)
{
	const struct canon_case *c;
	struct jalin_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(canon_cases) / sizeof(canon_cases[0]); i++) {
		c = &canon_cases[i];
		jalin_err_clear(&err);
		if (c->msg == NULL && mp_canonical(c->in, c->len, &err) != 0)
			fail_msg("case %zu: %s", i, err.msg);
		if (c->msg != NULL)
			canon_fails(c->in, c->len, c->msg);
		/* Canonical or not, all of them are well-formed. */
		assert_int_equal(
		    mp_check(c->in, c->len, NULL, &(size_t){0}, NULL), 0);
	}
}

/* Length boundaries of str, bin, array and map headers. */
static void
test_canonical_length_edges(void **state)
{
	uint8_t *p = calloc(1, 70000);
	struct buf b;
	msgpack_packer pk;
	static const size_t lens[] = {15, 16, 31, 32, 255, 256, 65535, 65536};
	size_t i;

	(void)state;
	assert_non_null(p);
	buf_init(&b, 1 << 20);
	msgpack_packer_init(&pk, &b, buf_pk_write);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		buf_reset(&b);
		msgpack_pack_str_with_body(&pk, p, lens[i]);
		assert_int_equal(mp_canonical(b.p, b.len, NULL), 0);
		buf_reset(&b);
		msgpack_pack_bin_with_body(&pk, p, lens[i]);
		assert_int_equal(mp_canonical(b.p, b.len, NULL), 0);
		buf_reset(&b);
		msgpack_pack_array(&pk, lens[i]);
		buf_append(&b, p, lens[i]);
		assert_int_equal(mp_canonical(b.p, b.len, NULL), 0);
	}
	buf_free(&b);
	free(p);
}

/* ------------------------------------------------------------------ */
/* Random input: mp_check must never crash, and whatever it lets        */
/* through msgpack-c must decode to the same length.                    */

#define RANDOM_BYTES_RUNS  200000
#define RANDOM_STRUCT_RUNS 100000

/* Re-encoding a canonical object with msgpack-c gives the same bytes. */
static void
repack_same(const msgpack_object *o, const uint8_t *p, size_t len)
{
	msgpack_packer pk;
	struct buf b;

	buf_init(&b, 1 << 20);
	msgpack_packer_init(&pk, &b, buf_pk_write);
	assert_int_equal(msgpack_pack_object(&pk, *o), 0);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.p, p, len);
	buf_free(&b);
}

/* One input through every reader; returns whether mp_check accepted it. */
static bool
fuzz_one(msgpack_unpacked *u, const uint8_t *p, size_t len)
{
	const uint8_t *raw;
	size_t used, off = 0, rawlen;
	struct mpr r;

	mpr_init(&r, p, len);
	if (mp_check(p, len, NULL, &used, NULL) != 0) {
		assert_int_equal(mpr_skip(&r), JALIN_EPROTO);
		assert_int_equal(mp_canonical(p, len, NULL), JALIN_EPROTO);
		return false;
	}
	assert_int_equal(msgpack_unpack_next(u, (const char *)p, len, &off),
	    MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, used);
	assert_int_equal(mpr_raw(&r, &raw, &rawlen), 0);
	assert_int_equal(rawlen, used);
	if (mp_canonical(p, used, NULL) == 0)
		repack_same(&u->data, p, used);
	return true;
}

/* Bytes that make structure likely: headers, small lengths, zeros. */
static uint8_t
rnd_byte(uint64_t *seed)
{
	static const uint8_t hdr[] = {0x91, 0x92, 0x93, 0x81, 0x82, 0xa1, 0xa2,
	    0xc0, 0xc1, 0xc4, 0xc7, 0xca, 0xcb, 0xcc, 0xcd, 0xd0, 0xd3, 0xd4,
	    0xd8, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0x00, 0x01, 0xff};

	switch (rng_below(seed, 4)) {
	case 0:
	case 1:
		return (uint8_t)rng_next(seed);
	case 2:
		return hdr[rng_below(seed, sizeof(hdr))];
	default:
		return (uint8_t)rng_below(seed, 4);
	}
}

static void
test_random_bytes(void **state)
{
	uint64_t seed = UINT64_C(0x6a616c696e2d6d70);
	uint8_t buf[48];
	msgpack_unpacked u;
	size_t i, j, len, accepted = 0;

	(void)state;
	msgpack_unpacked_init(&u);
	for (i = 0; i < RANDOM_BYTES_RUNS; i++) {
		len = rng_below(&seed, sizeof(buf) + 1);
		for (j = 0; j < len; j++)
			buf[j] = rnd_byte(&seed);
		accepted += fuzz_one(&u, buf, len);
	}
	msgpack_unpacked_destroy(&u);
	/* Enough got through for the comparison with msgpack-c to count. */
	assert_true(accepted > RANDOM_BYTES_RUNS / 10);
}

/* Generator of valid objects; canon: only what mp_canonical accepts. */
struct gen {
	uint64_t seed;
	bool canon;
	msgpack_packer pk;
	struct buf *b;
};

static void gen_obj(struct gen *g, unsigned depth);

static size_t
gen_len(struct gen *g)
{
	switch (rng_below(&g->seed, 16)) {
	case 0:
		return 200 + rng_below(&g->seed, 100);
	case 1:
		return 20 + rng_below(&g->seed, 30);
	default:
		return rng_below(&g->seed, 6);
	}
}

static void
gen_bytes(struct gen *g, bool str)
{
	uint8_t tmp[300];
	size_t i, n = gen_len(g);

	for (i = 0; i < n; i++)
		tmp[i] = (uint8_t)('a' + rng_below(&g->seed, 3));
	if (str)
		msgpack_pack_str_with_body(&g->pk, tmp, n);
	else
		msgpack_pack_bin_with_body(&g->pk, tmp, n);
}

/* Valid but never canonical: floats, ext, an int in a wide encoding. */
static void
gen_noncanon(struct gen *g)
{
	uint8_t wide[9] = {0xd3, 0, 0, 0, 0, 0, 0, 0, 0};

	switch (rng_below(&g->seed, 4)) {
	case 0:
		msgpack_pack_float(&g->pk, 0.25f);
		break;
	case 1:
		msgpack_pack_double(&g->pk, -1e300);
		break;
	case 2:
		msgpack_pack_ext_with_body(
		    &g->pk, "xyz", rng_below(&g->seed, 4), 3);
		break;
	default:
		wide[8] = (uint8_t)rng_next(&g->seed);
		buf_append(g->b, wide, sizeof(wide));
	}
}

static void
gen_int(struct gen *g)
{
	uint64_t v = rng_next(&g->seed) >> rng_below(&g->seed, 64);

	if (rng_below(&g->seed, 2) == 0)
		msgpack_pack_uint64(&g->pk, v);
	else
		msgpack_pack_int64(&g->pk, -(int64_t)(v >> 1) - 1);
}

struct key {
	uint8_t p[8];
	size_t len;
};

static int
key_order(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Keys that collide often: small ints and one- or two-letter strings. */
static void
gen_key(struct gen *g, struct key *k)
{
	uint32_t r = rng_below(&g->seed, 8);

	if (r < 3) {
		k->p[0] = (uint8_t)r;
		k->len = 1;
		return;
	}
	k->len = r < 6 ? 2 : 3;
	k->p[0] = (uint8_t)(0xa0 | (k->len - 1));
	k->p[1] = (uint8_t)('a' + rng_below(&g->seed, 2));
	k->p[2] = (uint8_t)('a' + rng_below(&g->seed, 2));
}

static void
gen_map(struct gen *g, unsigned depth)
{
	struct key keys[5];
	size_t i, n = rng_below(&g->seed, 5), m = 0;

	for (i = 0; i < n; i++)
		gen_key(g, &keys[i]);
	if (g->canon && n > 0) {
		qsort(keys, n, sizeof(keys[0]), key_order);
		for (i = 1, m = 1; i < n; i++)
			if (key_order(&keys[m - 1], &keys[i]) != 0)
				keys[m++] = keys[i];
		n = m;
	}
	msgpack_pack_map(&g->pk, n);
	for (i = 0; i < n; i++) {
		buf_append(g->b, keys[i].p, keys[i].len);
		gen_obj(g, depth + 1);
	}
}

static void
gen_obj(struct gen *g, unsigned depth)
{
	uint32_t i, n, kind = rng_below(&g->seed, depth < 4 ? 9 : 6);

	switch (kind) {
	case 0:
		msgpack_pack_nil(&g->pk);
		break;
	case 1:
		msgpack_pack_true(&g->pk);
		break;
	case 2:
		gen_int(g);
		break;
	case 3:
	case 4:
		gen_bytes(g, kind == 3);
		break;
	case 5:
		if (g->canon)
			gen_int(g);
		else
			gen_noncanon(g);
		break;
	case 6:
	case 7:
		msgpack_pack_array(&g->pk, n = rng_below(&g->seed, 5));
		for (i = 0; i < n; i++)
			gen_obj(g, depth + 1);
		break;
	default:
		gen_map(g, depth);
	}
}

/* Flip, drop or overwrite a few bytes of a valid object. */
static void
mutate(uint64_t *seed, uint8_t *p, size_t *len)
{
	uint32_t i, n = 1 + rng_below(seed, 3);

	for (i = 0; i<n && * len> 0; i++) {
		switch (rng_below(seed, 3)) {
		case 0:
			p[rng_below(seed, (uint32_t)*len)] ^=
			    (uint8_t)(1u << rng_below(seed, 8));
			break;
		case 1:
			*len = rng_below(seed, (uint32_t)*len);
			break;
		default:
			p[rng_below(seed, (uint32_t)*len)] = rnd_byte(seed);
		}
	}
}

static void
test_random_structured(void **state)
{
	struct gen g = {.seed = UINT64_C(0x736972656e2d6a6b)};
	msgpack_unpacked u;
	struct buf b;
	size_t i, len, canon = 0;

	(void)state;
	buf_init(&b, 1 << 20);
	g.b = &b;
	msgpack_packer_init(&g.pk, &b, buf_pk_write);
	msgpack_unpacked_init(&u);
	for (i = 0; i < RANDOM_STRUCT_RUNS; i++) {
		buf_reset(&b);
		g.canon = (i & 1) != 0;
		gen_obj(&g, 0);
		assert_int_equal(b.err, 0);
		assert_true(fuzz_one(&u, b.p, b.len));
		assert_int_equal(mp_check(b.p, b.len, NULL, NULL, NULL), 0);
		if (g.canon)
			assert_int_equal(mp_canonical(b.p, b.len, NULL), 0);
		canon += mp_canonical(b.p, b.len, NULL) == 0;
		len = b.len;
		mutate(&g.seed, b.p, &len);
		fuzz_one(&u, b.p, len);
	}
	msgpack_unpacked_destroy(&u);
	buf_free(&b);
	/* Some of the free-form objects were canonical too, some not. */
	assert_true(canon > RANDOM_STRUCT_RUNS / 2);
	assert_true(canon < RANDOM_STRUCT_RUNS);
}

int
main(void)
{
	const struct CMUnitTest vectors[] = {
	    cmocka_unit_test(test_vectors_check),
	    cmocka_unit_test(test_vectors_msgpackc),
	    cmocka_unit_test(test_vectors_mpr),
	    cmocka_unit_test(test_vectors_packer),
	    cmocka_unit_test(test_vectors_canonical),
	};
	const struct CMUnitTest hostile[] = {
	    cmocka_unit_test(test_bomb_counts),
	    cmocka_unit_test(test_bomb_counts_mpr),
	    cmocka_unit_test(test_bomb_lengths),
	    cmocka_unit_test(test_truncated_headers),
	    cmocka_unit_test(test_truncated_every_prefix),
	    cmocka_unit_test(test_reserved_byte),
	    cmocka_unit_test(test_trailing_bytes),
	    cmocka_unit_test(test_limits_tiny),
	    cmocka_unit_test(test_limits_depth_zero),
	    cmocka_unit_test(test_limits_default_str),
	    cmocka_unit_test_setup_teardown(
	        test_depth_bomb_arrays, bomb_setup, bomb_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_depth_at_limit, bomb_setup, bomb_teardown),
	    cmocka_unit_test(test_depth_bomb_maps),
	    cmocka_unit_test(test_mpr_scalars),
	    cmocka_unit_test(test_mpr_int_range),
	    cmocka_unit_test(test_mpr_containers),
	    cmocka_unit_test(test_mpr_peek),
	    cmocka_unit_test(test_mpr_sticky),
	    cmocka_unit_test(test_mpr_wrong_type_and_short),
	    cmocka_unit_test(test_mpr_raw),
	    cmocka_unit_test(test_canonical),
	    cmocka_unit_test(test_canonical_length_edges),
	    cmocka_unit_test(test_random_bytes),
	    cmocka_unit_test(test_random_structured),
	};
	int failed;

	failed = cmocka_run_group_tests_name(
	    "msgpack vectors", vectors, vectors_setup, vectors_teardown);
	failed += cmocka_run_group_tests_name(
	    "mp hostile input", hostile, NULL, NULL);
	return failed != 0;
}
