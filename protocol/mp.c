/*
 * mp.c - bounded msgpack reading: the mp_check guard, the canonical-form
 * check and the zero-allocation mpr cursor.
 *
 * Everything here treats its input as hostile. A declared length or count is
 * compared with the bytes that are really left before anything relies on it,
 * so a few header bytes can never make us (or msgpack-c after us) walk,
 * allocate or recurse in proportion to a number the sender made up.
 */
#include <inttypes.h>
#include <string.h>

#include "limits.h"
#include "mp.h"

const struct mp_limits mp_limits_default = {
    .depth_max = JALIN_MP_DEPTH_MAX,
    .str_max = JALIN_FRAME_MAX,
    .bin_max = JALIN_FRAME_MAX,
    .allow_float = true,
    .allow_ext = true,
};

/* mp_canonical: sizes are bounded by the buffer alone. */
static const struct mp_limits canon_limits = {
    .depth_max = JALIN_MP_DEPTH_MAX,
    .str_max = UINT32_MAX,
    .bin_max = UINT32_MAX,
    .allow_float = false,
    .allow_ext = false,
};

/* mpr_skip/mpr_raw: any well-formed object, depth as the header promises. */
static const struct mp_limits skip_limits = {
    .depth_max = JALIN_MP_DEPTH_MAX,
    .str_max = UINT32_MAX,
    .bin_max = UINT32_MAX,
    .allow_float = true,
    .allow_ext = true,
};

/*
 * The formats 0xc0..0xdf. vsize: bytes of the length or value field after
 * the first byte; extra: fixed body bytes (ext type byte, float, fixext
 * data); islen: the field is a body length (str, bin, ext).
 */
struct fmt {
	uint8_t type;
	uint8_t vsize;
	uint8_t extra;
	uint8_t islen;
};

static const struct fmt fmt_c0[32] = {
    {MP_NIL, 0, 0, 0},     /* c0 */
    {MP_INVALID, 0, 0, 0}, /* c1: reserved */
    {MP_BOOL, 0, 0, 0},    /* c2 */
    {MP_BOOL, 0, 0, 0},    /* c3 */
    {MP_BIN, 1, 0, 1},     /* c4 bin8 */
    {MP_BIN, 2, 0, 1},     /* c5 bin16 */
    {MP_BIN, 4, 0, 1},     /* c6 bin32 */
    {MP_EXT, 1, 1, 1},     /* c7 ext8 */
    {MP_EXT, 2, 1, 1},     /* c8 ext16 */
    {MP_EXT, 4, 1, 1},     /* c9 ext32 */
    {MP_FLOAT, 0, 4, 0},   /* ca float32 */
    {MP_FLOAT, 0, 8, 0},   /* cb float64 */
    {MP_UINT, 1, 0, 0},    /* cc uint8 */
    {MP_UINT, 2, 0, 0},    /* cd uint16 */
    {MP_UINT, 4, 0, 0},    /* ce uint32 */
    {MP_UINT, 8, 0, 0},    /* cf uint64 */
    {MP_INT, 1, 0, 0},     /* d0 int8 */
    {MP_INT, 2, 0, 0},     /* d1 int16 */
    {MP_INT, 4, 0, 0},     /* d2 int32 */
    {MP_INT, 8, 0, 0},     /* d3 int64 */
    {MP_EXT, 0, 2, 0},     /* d4 fixext1 */
    {MP_EXT, 0, 3, 0},     /* d5 fixext2 */
    {MP_EXT, 0, 5, 0},     /* d6 fixext4 */
    {MP_EXT, 0, 9, 0},     /* d7 fixext8 */
    {MP_EXT, 0, 17, 0},    /* d8 fixext16 */
    {MP_STR, 1, 0, 1},     /* d9 str8 */
    {MP_STR, 2, 0, 1},     /* da str16 */
    {MP_STR, 4, 0, 1},     /* db str32 */
    {MP_ARRAY, 2, 0, 0},   /* dc array16 */
    {MP_ARRAY, 4, 0, 0},   /* dd array32 */
    {MP_MAP, 2, 0, 0},     /* de map16 */
    {MP_MAP, 4, 0, 0},     /* df map32 */
};

/* Names used in messages; unsigned and negative ints are both "int". */
static const char *const type_name[] = {
    [MP_INVALID] = "object",
    [MP_END] = "object",
    [MP_NIL] = "nil",
    [MP_BOOL] = "bool",
    [MP_UINT] = "int",
    [MP_INT] = "int",
    [MP_FLOAT] = "float",
    [MP_STR] = "str",
    [MP_BIN] = "bin",
    [MP_ARRAY] = "array",
    [MP_MAP] = "map",
    [MP_EXT] = "ext",
};

static inline uint64_t
be_get(const uint8_t *p, unsigned n)
{
	switch (n) {
	case 1:
		return p[0];
	case 2:
		return (uint64_t)p[0] << 8 | p[1];
	case 4:
		return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 |
		    (uint64_t)p[2] << 8 | p[3];
	case 8:
		return be_get(p, 4) << 32 | be_get(p + 4, 4);
	default:
		return 0;
	}
}

static inline const char *
plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* ------------------------------------------------------------------ */
/* The walker behind mp_check, mp_canonical and mpr_skip.              */

struct hdr {
	uint8_t type;    /* enum mp_type; ints by sign of the value */
	uint8_t hlen;    /* header bytes, the first byte included */
	bool signed_fmt; /* int in an int8..int64 encoding */
	uint64_t v;      /* int value (two's complement), length or count */
	uint64_t body;   /* bytes after the header */
};

enum {
	HDR_OK = 0,
	HDR_RESERVED,
	HDR_SHORT
};

struct walk {
	const uint8_t *base;
	const uint8_t *p;
	const uint8_t *end;
	const struct mp_limits *lim;
	struct jalin_err *err;
	bool canon;
	unsigned ext_depth; /* canonical: ext of ext_type allowed only here */
	int ext_type;       /* -1: none anywhere */
};

static inline void
hdr_fix(struct hdr *h, uint8_t type, uint64_t v)
{
	h->type = type;
	h->hlen = 1;
	h->signed_fmt = false;
	h->v = v;
	h->body = type == MP_STR ? v : 0;
}

/* The one-byte formats: b < 0xc0 or b >= 0xe0. */
static inline void
hdr_fixfmt(struct hdr *h, uint8_t b)
{
	if (b <= 0x7f)
		hdr_fix(h, MP_UINT, b);
	else if (b >= 0xe0)
		hdr_fix(h, MP_INT, b | ~(uint64_t)0xff);
	else if (b <= 0x8f)
		hdr_fix(h, MP_MAP, b & 0x0f);
	else if (b <= 0x9f)
		hdr_fix(h, MP_ARRAY, b & 0x0f);
	else
		hdr_fix(h, MP_STR, b & 0x1f);
}

/* Decode the header at p (left >= 1 bytes). The body is not checked. */
static inline int
hdr_read(const uint8_t *p, size_t left, struct hdr *h)
{
	const struct fmt *f;
	uint8_t b = p[0];

	if (b < 0xc0 || b >= 0xe0) {
		hdr_fixfmt(h, b);
		return HDR_OK;
	}
	f = &fmt_c0[b - 0xc0];
	if (f->type == MP_INVALID)
		return HDR_RESERVED;
	if (left - 1 < f->vsize)
		return HDR_SHORT;
	h->type = f->type;
	h->hlen = 1 + f->vsize;
	h->v = be_get(p + 1, f->vsize);
	h->body = (f->islen ? h->v : 0) + f->extra;
	h->signed_fmt = f->type == MP_INT;
	if (h->signed_fmt && f->vsize < 8 && h->v >> (8 * f->vsize - 1) != 0)
		h->v |= ~(uint64_t)0 << (8 * f->vsize);
	if (h->signed_fmt && h->v >> 63 == 0)
		h->type = MP_UINT;
	return HDR_OK;
}

/* Smallest header that can encode h's value, length or count. */
static unsigned
min_hlen(const struct hdr *h)
{
	uint64_t v = h->v;
	int64_t s;

	switch (h->type) {
	case MP_UINT:
		return v < 0x80       ? 1
		    : v <= 0xff       ? 2
		    : v <= 0xffff     ? 3
		    : v <= 0xffffffff ? 5
		                      : 9;
	case MP_INT: /* v has its sign bit set: ~v fits int64 */
		s = -(int64_t)~v - 1;
		return s >= -32      ? 1
		    : s >= INT8_MIN  ? 2
		    : s >= INT16_MIN ? 3
		    : s >= INT32_MIN ? 5
		                     : 9;
	case MP_STR:
		return v < 32 ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : 5;
	case MP_BIN:
		return v <= 0xff ? 2 : v <= 0xffff ? 3 : 5;
	case MP_ARRAY:
	case MP_MAP:
		return v < 16 ? 1 : v <= 0xffff ? 3 : 5;
	default:
		return h->hlen;
	}
}

/* Header bytes of the smallest encoding of an ext with dlen data bytes. */
static unsigned
ext_min_hlen(uint64_t dlen)
{
	if (dlen == 1 || dlen == 2 || dlen == 4 || dlen == 8 || dlen == 16)
		return 1; /* fixext: the type byte counts as body */
	return dlen <= 0xff ? 2 : dlen <= 0xffff ? 3 : 5;
}

static int
check_canon(struct walk *w, const struct hdr *h, size_t off)
{
	if (h->type == MP_EXT && h->hlen != ext_min_hlen(h->body - 1))
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: ext at offset %zu not in its smallest encoding",
		    off);
	if (h->type == MP_UINT && h->signed_fmt)
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: non-negative int at offset %zu in a signed encoding",
		    off);
	if (h->hlen != min_hlen(h))
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: %s at offset %zu not in its smallest encoding",
		    type_name[h->type], off);
	return 0;
}

/* Limits that apply to one object's own header and body (which starts at
 * w->p + h->hlen). */
static int
check_limits(struct walk *w, const struct hdr *h, size_t off, unsigned depth)
{
	const struct mp_limits *lim = w->lim;

	if (h->type == MP_EXT && w->ext_type >= 0 && depth == w->ext_depth &&
	    (int)(int8_t)w->p[h->hlen] >= 1 &&
	    (int)(int8_t)w->p[h->hlen] <= w->ext_type)
		return check_canon(w, h, off);

	if (h->type == MP_STR && h->v > lim->str_max)
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: str of %" PRIu64
		    " bytes at offset %zu exceeds limit %" PRIu32,
		    h->v, off, lim->str_max);
	if (h->type == MP_BIN && h->v > lim->bin_max)
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: bin of %" PRIu64
		    " bytes at offset %zu exceeds limit %" PRIu32,
		    h->v, off, lim->bin_max);
	if ((h->type == MP_FLOAT && !lim->allow_float) ||
	    (h->type == MP_EXT && !lim->allow_ext))
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: %s at offset %zu not allowed", type_name[h->type],
		    off);
	if (w->canon)
		return check_canon(w, h, off);
	return 0;
}

static int walk_obj(struct walk *w, unsigned depth);

/*
 * Canonical maps: keys strictly increasing by their encoded bytes, so equal
 * maps are equal bytes. No encoding is a prefix of another, but keep the
 * length as the tie-break the header promises.
 */
static int
check_key_order(struct walk *w, const uint8_t *prev, size_t prevlen,
    const uint8_t *key, size_t keylen)
{
	size_t off = (size_t)(key - w->base);
	int c = memcmp(prev, key, prevlen < keylen ? prevlen : keylen);

	if (c == 0)
		c = (prevlen > keylen) - (prevlen < keylen);
	if (c == 0)
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: duplicate map key at offset %zu", off);
	if (c > 0)
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: map key at offset %zu out of order", off);
	return 0;
}

static int
walk_map(struct walk *w, uint64_t n, unsigned depth)
{
	const uint8_t *prev = NULL, *key;
	size_t prevlen = 0, keylen;
	uint64_t i;
	int rc;

	for (i = 0; i < n; i++) {
		key = w->p;
		if ((rc = walk_obj(w, depth)) != 0)
			return rc;
		keylen = (size_t)(w->p - key);
		if (w->canon && prev != NULL &&
		    (rc = check_key_order(w, prev, prevlen, key, keylen)) != 0)
			return rc;
		prev = key;
		prevlen = keylen;
		if ((rc = walk_obj(w, depth)) != 0)
			return rc;
	}
	return 0;
}

static int
count_error(struct walk *w, const struct hdr *h, size_t off, size_t left)
{
	if (h->type == MP_ARRAY)
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: array of %" PRIu64
		    " element%s at offset %zu exceeds the %zu byte%s left",
		    h->v, plural(h->v), off, left, plural(left));
	return jalin_err_set(w->err, JALIN_EPROTO,
	    "msgpack: map of %" PRIu64 " pair%s (%" PRIu64
	    " objects) at offset %zu exceeds the %zu byte%s left",
	    h->v, plural(h->v), 2 * h->v, off, left, plural(left));
}

/*
 * Every element takes at least one byte, so a count above the bytes left is
 * a lie we refuse before looping (and before msgpack-c allocates for it).
 */
static int
walk_container(struct walk *w, const struct hdr *h, size_t off, unsigned depth)
{
	size_t left = (size_t)(w->end - w->p);
	uint64_t objs = h->type == MP_MAP ? 2 * h->v : h->v;
	uint64_t i;
	int rc;

	if (depth >= w->lim->depth_max)
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: nesting deeper than %u at offset %zu",
		    w->lim->depth_max, off);
	if (objs > left)
		return count_error(w, h, off, left);
	if (h->type == MP_MAP)
		return walk_map(w, h->v, depth + 1);
	for (i = 0; i < h->v; i++)
		if ((rc = walk_obj(w, depth + 1)) != 0)
			return rc;
	return 0;
}

/* hdr_read failed on the 0xc0..0xdf byte at w->p. */
static int
hdr_error(struct walk *w, int rc, size_t off, size_t left)
{
	const struct fmt *f = &fmt_c0[w->p[0] - 0xc0];

	if (rc == HDR_RESERVED)
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: reserved byte 0x%02x at offset %zu", w->p[0],
		    off);
	return jalin_err_set(w->err, JALIN_EPROTO,
	    "msgpack: truncated %s at offset %zu (needs %u byte%s, %zu left)",
	    type_name[f->type], off, f->vsize, plural(f->vsize), left - 1);
}

/* depth: containers already open around this object. */
static int
walk_obj(struct walk *w, unsigned depth)
{
	size_t off = (size_t)(w->p - w->base);
	size_t left = (size_t)(w->end - w->p);
	struct hdr h;
	int rc;

	if (left == 0)
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: truncated object at offset %zu (needs 1 byte, 0 left)",
		    off);
	if ((rc = hdr_read(w->p, left, &h)) != HDR_OK)
		return hdr_error(w, rc, off, left);
	left -= h.hlen;
	if (h.body > left)
		return jalin_err_set(w->err, JALIN_EPROTO,
		    "msgpack: truncated %s at offset %zu (needs %" PRIu64
		    " byte%s, %zu left)",
		    type_name[h.type], off, h.body, plural(h.body), left);
	if ((rc = check_limits(w, &h, off, depth)) != 0)
		return rc;
	w->p += h.hlen;
	if (h.type == MP_ARRAY || h.type == MP_MAP)
		return walk_container(w, &h, off, depth);
	w->p += h.body;
	return 0;
}

/* ext_type -1: no ext allowed beyond what lim says; else types 1..ext_type
 * at ext_depth (mp_canonical_ext). */
static int
walk_run(const void *buf, size_t len, const struct mp_limits *lim, bool canon,
    unsigned ext_depth, int ext_type, size_t *used, struct jalin_err *err)
{
	struct walk w;
	size_t n;
	int rc;

	w.base = buf;
	w.p = w.base;
	w.end = len != 0 ? w.base + len : w.base;
	w.lim = lim;
	w.err = err;
	w.canon = canon;
	w.ext_depth = ext_depth;
	w.ext_type = ext_type;
	if ((rc = walk_obj(&w, 0)) != 0)
		return rc;
	n = (size_t)(w.p - w.base);
	if (used == NULL && n < len)
		return jalin_err_set(err, JALIN_EPROTO,
		    "msgpack: %zu trailing byte%s after the object", len - n,
		    plural(len - n));
	if (used != NULL)
		*used = n;
	return 0;
}

int
mp_check(const void *buf, size_t len, const struct mp_limits *lim, size_t *used,
    struct jalin_err *err)
{
	return walk_run(buf, len, lim != NULL ? lim : &mp_limits_default, false,
	    0, -1, used, err);
}

int
mp_canonical(const void *buf, size_t len, struct jalin_err *err)
{
	return walk_run(buf, len, &canon_limits, true, 0, -1, NULL, err);
}

int
mp_canonical_ext(const void *buf, size_t len, unsigned depth, int8_t type,
    struct jalin_err *err)
{
	return walk_run(buf, len, &canon_limits, true, depth, type, NULL, err);
}

/* ------------------------------------------------------------------ */
/* The cursor. Hot path: no allocation, no formatting, bounds checks only. */

void
mpr_init(struct mpr *r, const void *buf, size_t len)
{
	r->p = buf;
	r->end = len != 0 ? r->p + len : r->p;
	r->err = 0;
}

enum mp_type
mpr_peek(const struct mpr *r)
{
	uint8_t b;

	if (r->err != 0)
		return MP_INVALID;
	if (r->p == r->end)
		return MP_END;
	b = *r->p;
	if (b <= 0x7f)
		return MP_UINT;
	if (b >= 0xe0)
		return MP_INT;
	if (b <= 0x8f)
		return MP_MAP;
	if (b <= 0x9f)
		return MP_ARRAY;
	if (b <= 0xbf)
		return MP_STR;
	if (b < 0xd0 || b > 0xd3)
		return (enum mp_type)fmt_c0[b - 0xc0].type;
	/* A signed encoding: the sign bit decides, as for mpr_u64. */
	if (r->end - r->p < 2)
		return MP_INVALID;
	return (r->p[1] & 0x80) != 0 ? MP_INT : MP_UINT;
}

size_t
mpr_left(const struct mpr *r)
{
	return (size_t)(r->end - r->p);
}

const uint8_t *
mpr_pos(const struct mpr *r)
{
	return r->p;
}

int
mpr_error(const struct mpr *r)
{
	return r->err;
}

void
mpr_fail(struct mpr *r, int code)
{
	if (r->err == 0)
		r->err = code < 0 ? code : JALIN_EPROTO;
}

/* Fail the cursor; an earlier error stays the one reported. */
static inline int
mpr_bad(struct mpr *r)
{
	if (r->err == 0)
		r->err = JALIN_EPROTO;
	return r->err;
}

/* Any int encoding at p: the end of it, or NULL. Nothing is committed. */
static inline const uint8_t *
int_get(const uint8_t *p, const uint8_t *end, uint64_t *u, bool *neg)
{
	unsigned n;
	uint8_t b;

	if (p == end)
		return NULL;
	b = *p;
	if (b <= 0x7f || b >= 0xe0) {
		*u = b <= 0x7f ? b : b | ~(uint64_t)0xff;
		*neg = b >= 0xe0;
		return p + 1;
	}
	if (b < 0xcc || b > 0xd3)
		return NULL;
	n = 1u << ((b - 0xcc) & 3);
	if ((size_t)(end - p) <= n)
		return NULL;
	*u = be_get(p + 1, n);
	*neg = b >= 0xd0 && *u >> (8 * n - 1) != 0;
	if (*neg && n < 8)
		*u |= ~(uint64_t)0 << (8 * n);
	return p + 1 + n;
}

/* A length field of n bytes after the first byte at p; NULL if short. */
static inline const uint8_t *
len_get(const uint8_t *p, const uint8_t *end, unsigned n, uint32_t *len)
{
	if ((size_t)(end - p) <= n)
		return NULL;
	*len = (uint32_t)be_get(p + 1, n);
	return p + 1 + n;
}

int
mpr_nil(struct mpr *r)
{
	if (r->err != 0)
		return r->err;
	if (r->p == r->end || *r->p != 0xc0)
		return mpr_bad(r);
	r->p++;
	return 0;
}

int
mpr_bool(struct mpr *r, bool *v)
{
	if (r->err != 0)
		return r->err;
	if (r->p == r->end || (*r->p & 0xfe) != 0xc2)
		return mpr_bad(r);
	*v = *r->p == 0xc3;
	r->p++;
	return 0;
}

int
mpr_u64(struct mpr *r, uint64_t *v)
{
	const uint8_t *q;
	uint64_t u;
	bool neg;

	if (r->err != 0)
		return r->err;
	q = int_get(r->p, r->end, &u, &neg);
	if (q == NULL || neg)
		return mpr_bad(r);
	*v = u;
	r->p = q;
	return 0;
}

int
mpr_i64(struct mpr *r, int64_t *v)
{
	const uint8_t *q;
	uint64_t u;
	bool neg;

	if (r->err != 0)
		return r->err;
	q = int_get(r->p, r->end, &u, &neg);
	if (q == NULL || (!neg && u > INT64_MAX))
		return mpr_bad(r);
	/* Two's complement without an implementation-defined conversion. */
	*v = neg ? -(int64_t)~u - 1 : (int64_t)u;
	r->p = q;
	return 0;
}

int
mpr_str(struct mpr *r, const char **s, uint32_t *len)
{
	const uint8_t *q = NULL;
	uint32_t n = 0;
	uint8_t b;

	if (r->err != 0)
		return r->err;
	if (r->p == r->end)
		return mpr_bad(r);
	b = *r->p;
	if ((b & 0xe0) == 0xa0) {
		n = b & 0x1f;
		q = r->p + 1;
	} else if (b >= 0xd9 && b <= 0xdb) {
		q = len_get(r->p, r->end, 1u << (b - 0xd9), &n);
	}
	if (q == NULL || (size_t)(r->end - q) < n)
		return mpr_bad(r);
	*s = (const char *)q;
	*len = n;
	r->p = q + n;
	return 0;
}

int
mpr_bin(struct mpr *r, const uint8_t **bp, uint32_t *len)
{
	const uint8_t *q = NULL;
	uint32_t n = 0;
	uint8_t b;

	if (r->err != 0)
		return r->err;
	if (r->p == r->end)
		return mpr_bad(r);
	b = *r->p;
	if (b >= 0xc4 && b <= 0xc6)
		q = len_get(r->p, r->end, 1u << (b - 0xc4), &n);
	if (q == NULL || (size_t)(r->end - q) < n)
		return mpr_bad(r);
	*bp = q;
	*len = n;
	r->p = q + n;
	return 0;
}

int
mpr_ext(struct mpr *r, int8_t *type, const uint8_t **dp, uint32_t *len)
{
	static const uint8_t fix[5] = {1, 2, 4, 8, 16};
	const uint8_t *q = NULL;
	uint32_t n = 0;
	uint8_t b;

	if (r->err != 0)
		return r->err;
	if (r->p == r->end)
		return mpr_bad(r);
	b = *r->p;
	if (b >= 0xd4 && b <= 0xd8) {
		n = fix[b - 0xd4];
		q = r->p + 1;
	} else if (b >= 0xc7 && b <= 0xc9) {
		q = len_get(r->p, r->end, 1u << (b - 0xc7), &n);
	}
	/* the type byte, then n bytes of data */
	if (q == NULL || (size_t)(r->end - q) < (size_t)n + 1)
		return mpr_bad(r);
	*type = (int8_t)*q;
	*dp = q + 1;
	*len = n;
	r->p = q + 1 + n;
	return 0;
}

/* Array (fix 0x90, 16/32 at b16) or map (0x80, b16) header; objs per n. */
static inline int
mpr_count(struct mpr *r, uint8_t fix, uint8_t b16, unsigned objs, uint32_t *np)
{
	const uint8_t *q = NULL;
	uint32_t n = 0;
	uint8_t b;

	if (r->err != 0)
		return r->err;
	if (r->p == r->end)
		return mpr_bad(r);
	b = *r->p;
	if ((b & 0xf0) == fix) {
		n = b & 0x0f;
		q = r->p + 1;
	} else if (b == b16 || b == b16 + 1) {
		q = len_get(r->p, r->end, b == b16 ? 2 : 4, &n);
	}
	if (q == NULL || (uint64_t)n * objs > (size_t)(r->end - q))
		return mpr_bad(r);
	*np = n;
	r->p = q;
	return 0;
}

int
mpr_array(struct mpr *r, uint32_t *n)
{
	return mpr_count(r, 0x90, 0xdc, 1, n);
}

int
mpr_map(struct mpr *r, uint32_t *n)
{
	return mpr_count(r, 0x80, 0xde, 2, n);
}

int
mpr_raw(struct mpr *r, const uint8_t **p, size_t *len)
{
	size_t used, left = mpr_left(r);
	struct hdr h;

	if (r->err != 0)
		return r->err;
	/* A scalar (most field values) has its size in its header. */
	if (left > 0 && hdr_read(r->p, left, &h) == HDR_OK &&
	    h.type != MP_ARRAY && h.type != MP_MAP) {
		if (h.body > left - h.hlen)
			return mpr_bad(r);
		used = h.hlen + (size_t)h.body;
	} else if (walk_run(r->p, left, &skip_limits, false, 0, -1, &used,
	               NULL) != 0) {
		return mpr_bad(r);
	}
	*p = r->p;
	*len = used;
	r->p += used;
	return 0;
}

int
mpr_skip(struct mpr *r)
{
	const uint8_t *p;
	size_t len;

	return mpr_raw(r, &p, &len);
}
