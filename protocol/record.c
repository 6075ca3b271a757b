/*
 * record.c - decode, validate and canonically encode record states.
 *
 * Decoding is the gate for states that come from peers: every ordering and
 * cross-reference rule of record.h is checked, so the merge can rely on
 * them. Encoding always produces the one canonical form (values are
 * canonical when they enter a record: decoded from a canonical state, coded
 * by ops, or by rec_code_values after a legacy decode); the store keeps
 * only what rec_encode wrote, never bytes as received.
 */
#include <string.h>

#include <msgpack.h>

#include "huff.h"
#include "mp.h"
#include "record.h"
#include "schema.h"

const uint8_t rec_nil[1] = {0xc0};

/* dec_entry: check format 3's coding rule (an untrusted state) */
#define REC_CHECK_CODING 0x100u

/* --- coded strings (format 3) ------------------------------------------ */

static size_t
str_item(size_t n)
{
	return n + (n < 32 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : 5);
}

static size_t
ext_item(size_t d)
{
	if (d == 1 || d == 2 || d == 4 || d == 8 || d == 16)
		return d + 2;
	return d + (d <= 0xff ? 3 : d <= 0xffff ? 4 : 6);
}

/* The body of a msgpack str item that is exactly v[0..vlen). */
static bool
str_body(const uint8_t *v, size_t vlen, const uint8_t **s, size_t *n)
{
	struct mpr m;
	const char *p;
	uint32_t len;

	mpr_init(&m, v, vlen);
	if (vlen == 0 || mpr_peek(&m) != MP_STR || mpr_str(&m, &p, &len) != 0 ||
	    mpr_left(&m) != 0)
		return false;
	*s = (const uint8_t *)p;
	*n = len;
	return true;
}

/* The code in an ext item of type REC_CODED_EXT that is exactly v. */
static bool
coded_body(const uint8_t *v, size_t vlen, const uint8_t **d, size_t *dlen)
{
	struct mpr m;
	uint32_t len;
	int8_t type;

	mpr_init(&m, v, vlen);
	if (vlen == 0 || mpr_peek(&m) != MP_EXT ||
	    mpr_ext(&m, &type, d, &len) != 0 || type != REC_CODED_EXT ||
	    mpr_left(&m) != 0)
		return false;
	*dlen = len;
	return true;
}

/* Bytes of the code of s[0..n), or 0 if the coded item would not be
 * shorter than the plain str (or s is too short to code). */
static size_t
coded_size(const uint8_t *s, size_t n)
{
	if (n < REC_CODED_MIN)
		return 0;
	size_t d = (hf_bits(s, n) + 7) / 8;
	return ext_item(d) < str_item(n) ? d : 0;
}

/* The most bytes a code of d bytes can stand for (codes of 3 bits). */
static size_t
coded_max(size_t d)
{
	return 8 * d / HF_MIN_BITS;
}

bool
rec_val_coded(const uint8_t *v, uint32_t vlen)
{
	const uint8_t *d;
	size_t dlen;

	return coded_body(v, vlen, &d, &dlen);
}

int
rec_val_canon(const uint8_t *v, uint32_t vlen, struct buf *out)
{
	msgpack_packer pk;
	const uint8_t *s;
	size_t n, d, start = out->len;
	int rc;

	if (!str_body(v, vlen, &s, &n) || (d = coded_size(s, n)) == 0)
		return buf_append(out, v, vlen);
	msgpack_packer_init(&pk, out, buf_pk_write);
	msgpack_pack_ext(&pk, d, REC_CODED_EXT);
	if ((rc = out->err) != 0 || (rc = buf_reserve(out, d)) != 0) {
		out->len = start;
		out->err = 0;
		return rc;
	}
	hf_encode(s, n, out->p + out->len);
	out->len += d;
	return 0;
}

int
rec_val_plain(const uint8_t *v, uint32_t vlen, struct buf *tmp,
    const uint8_t **pv, uint32_t *plen)
{
	msgpack_packer pk;
	const uint8_t *code;
	uint8_t hdr[5];
	size_t clen, n, cap;
	struct buf h;
	int rc;

	if (!coded_body(v, vlen, &code, &clen)) {
		*pv = v;
		*plen = vlen;
		return 0;
	}
	/* room for the longest text the code can be, within the limit */
	cap = coded_max(clen);
	if (cap > JALIN_VALUE_MAX - sizeof(hdr))
		cap = JALIN_VALUE_MAX - sizeof(hdr);
	if (tmp->max - tmp->len < sizeof(hdr) + 1)
		return JALIN_ETOOBIG;
	if (cap > tmp->max - tmp->len - sizeof(hdr))
		cap = tmp->max - tmp->len - sizeof(hdr);
	if ((rc = buf_reserve(tmp, sizeof(hdr) + cap)) != 0)
		return rc;
	/* decode after room for the longest str header, then put the header
	 * right before the text */
	uint8_t *o = tmp->p + tmp->len;
	if (hf_decode(code, clen, o + sizeof(hdr), cap, &n) != 0 ||
	    n < REC_CODED_MIN || ext_item(clen) >= str_item(n))
		return JALIN_ECORRUPT; /* not a canonical coded string */
	buf_init_mem(&h, hdr, sizeof(hdr), sizeof(hdr));
	msgpack_packer_init(&pk, &h, buf_pk_write);
	msgpack_pack_str(&pk, n);
	memcpy(o + sizeof(hdr) - h.len, hdr, h.len);
	*pv = o + sizeof(hdr) - h.len;
	*plen = (uint32_t)(h.len + n);
	tmp->len += sizeof(hdr) + n;
	return 0;
}

int
rec_code_values(struct record *r, struct buf *scratch)
{
	size_t at[JALIN_RECORD_ENTRIES_MAX];
	int rc;

	buf_reset(scratch);
	for (size_t i = 0; i < r->nentries; i++) {
		at[i] = scratch->len;
		if ((rc = rec_val_canon(
		         r->entry[i].val, r->entry[i].vlen, scratch)) != 0)
			return rc;
	}
	/* scratch does not move any more: point the values into it */
	for (size_t i = 0; i < r->nentries; i++) {
		size_t end = i + 1 < r->nentries ? at[i + 1] : scratch->len;
		r->entry[i].val = scratch->p + at[i];
		r->entry[i].vlen = (uint32_t)(end - at[i]);
	}
	return 0;
}

/*
 * Format 3's rule for one entry value from a peer: a str that codes
 * shorter is coded; a coded one has a code that can be a text of at least
 * REC_CODED_MIN bytes. Whether the code decodes (and to a text it is
 * shorter than) is left to the reader (rec_val_plain): checking it here
 * would cost a replica a fifth of its time in an initial sync, and a value
 * that does not decode is the same bytes, read as undecodable, on every
 * node.
 */
static const char *
coding_bad(const uint8_t *v, size_t vlen)
{
	const uint8_t *s;
	size_t n;

	if (coded_body(v, vlen, &s, &n))
		return coded_max(n) < REC_CODED_MIN ? "coded string too short"
		                                    : NULL;
	if (str_body(v, vlen, &s, &n) && coded_size(s, n) != 0)
		return "string not in its coded form";
	return NULL;
}

void
rec_init(struct record *r)
{
	r->flags = 0;
	r->norigins = 0;
	r->ndots = 0;
	r->nentries = 0;
}

int
rec_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

static bool
origin_name_ok(const char *s, uint32_t len)
{
	if (len == 0 || len > JALIN_NAME_MAX)
		return false;
	for (uint32_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        (i > 0 && (c == '-' || c == '_'))))
			return false;
	}
	return true;
}

static int
dec_fail(struct mpr *m, struct jalin_err *err, int code, const char *what)
{
	mpr_fail(m, code);
	return jalin_err_set(err, code, "record: %s", what);
}

static int
dec_header(struct mpr *m, struct record *r, unsigned flags, unsigned *version,
    struct jalin_err *err)
{
	uint32_t n;
	uint64_t v;

	if (mpr_array(m, &n) != 0 || n != 6)
		return dec_fail(m, err, JALIN_EPROTO, "not an array of 6");
	if (mpr_u64(m, &v) != 0 ||
	    !(v == REC_FORMAT ||
	        ((v == REC_FORMAT_1 || v == REC_FORMAT_2) &&
	            (flags & REC_LEGACY))))
		return dec_fail(m, err, JALIN_EPROTO,
		    v == REC_FORMAT_1 ? "format 1 (from a node older than "
		                        "protocol version 2)"
		        : v == REC_FORMAT_2
		        ? "format 2 (from a node older than "
		          "protocol version 3)"
		        : "unknown format version");
	*version = (unsigned)v;
	if (mpr_u64(m, &v) != 0 || (v & ~(uint64_t)REC_PURGED) != 0)
		return dec_fail(m, err, JALIN_EPROTO, "unknown flags");
	r->flags = (uint32_t)v;
	return 0;
}

static int
dec_origins(struct mpr *m, struct record *r, struct jalin_err *err)
{
	uint32_t n, len;
	const char *s;

	if (mpr_array(m, &n) != 0)
		return dec_fail(m, err, JALIN_EPROTO, "origins not an array");
	if (n > JALIN_RECORD_ORIGINS_MAX)
		return dec_fail(m, err, JALIN_ETOOBIG, "too many origins");
	for (uint32_t i = 0; i < n; i++) {
		if (mpr_str(m, &s, &len) != 0 || !origin_name_ok(s, len))
			return dec_fail(
			    m, err, JALIN_EPROTO, "bad origin name");
		if (i > 0 &&
		    rec_name_cmp(r->origin[i - 1].name, r->origin[i - 1].len, s,
		        len) >= 0)
			return dec_fail(
			    m, err, JALIN_EPROTO, "origins not in order");
		r->origin[i].name = s;
		r->origin[i].len = (uint8_t)len;
	}
	r->norigins = (uint16_t)n;
	return 0;
}

static int
dec_ctx(struct mpr *m, struct record *r, struct jalin_err *err)
{
	uint32_t n;

	if (mpr_array(m, &n) != 0 || n != r->norigins)
		return dec_fail(
		    m, err, JALIN_EPROTO, "context does not match origins");
	for (uint32_t i = 0; i < n; i++) {
		if (mpr_u64(m, &r->ctx[i]) != 0 || r->ctx[i] == 0)
			return dec_fail(m, err, JALIN_EPROTO, "bad context");
	}
	return 0;
}

/* A dot is (oidx, back): its HLC is ctx[oidx] - back (format 1: the HLC
 * itself). The latest write of an origin, the usual dot, has back 0. */
static int
dec_dots(
    struct mpr *m, struct record *r, unsigned version, struct jalin_err *err)
{
	uint32_t n;
	uint64_t o, h;

	if (mpr_array(m, &n) != 0 || n % 2 != 0)
		return dec_fail(m, err, JALIN_EPROTO, "dots not pairs");
	if (n / 2 > JALIN_RECORD_DOTS_MAX)
		return dec_fail(m, err, JALIN_ETOOBIG, "too many dots");
	for (uint32_t i = 0; i < n / 2; i++) {
		if (mpr_u64(m, &o) != 0 || mpr_u64(m, &h) != 0 ||
		    o >= r->norigins)
			return dec_fail(
			    m, err, JALIN_EPROTO, "dot outside its context");
		if (version != REC_FORMAT_1)
			h = h < r->ctx[o] ? r->ctx[o] - h : 0;
		if (h == 0 || h > r->ctx[o])
			return dec_fail(
			    m, err, JALIN_EPROTO, "dot outside its context");
		if (i > 0 &&
		    (o < r->dot[i - 1].origin ||
		        (o == r->dot[i - 1].origin && h <= r->dot[i - 1].hlc)))
			return dec_fail(
			    m, err, JALIN_EPROTO, "dots not in order");
		r->dot[i].origin = (uint16_t)o;
		r->dot[i].hlc = h;
	}
	r->ndots = (uint16_t)(n / 2);
	return 0;
}

/* An entry is (key, value) with key = tag * ndots + didx, so keys
 * increase exactly as (tag, didx) do (format 1: tag, didx, value). */
static int
dec_entry(struct mpr *m, struct record *r, size_t i, unsigned flags,
    unsigned version, struct jalin_err *err)
{
	uint64_t tag, d;
	const uint8_t *v;
	const char *bad = NULL;
	size_t vlen;

	if (version == REC_FORMAT_1) {
		if (mpr_u64(m, &tag) != 0 || mpr_u64(m, &d) != 0)
			return dec_fail(m, err, JALIN_EPROTO, "bad entry");
	} else {
		if (mpr_u64(m, &tag) != 0 || r->ndots == 0)
			return dec_fail(m, err, JALIN_EPROTO, "bad entry");
		d = tag % r->ndots;
		tag /= r->ndots;
	}
	if (mpr_raw(m, &v, &vlen) != 0)
		return dec_fail(m, err, JALIN_EPROTO, "bad entry");
	if (tag > JALIN_TAG_MAX || d >= r->ndots)
		return dec_fail(m, err, JALIN_EPROTO, "entry out of range");
	if (vlen > JALIN_VALUE_MAX)
		return dec_fail(m, err, JALIN_ETOOBIG, "value too large");
	if (i > 0 &&
	    (tag < r->entry[i - 1].tag ||
	        (tag == r->entry[i - 1].tag && d <= r->entry[i - 1].dot)))
		return dec_fail(m, err, JALIN_EPROTO, "entries not in order");
	if (!(flags & REC_TRUSTED) && mp_canonical(v, vlen, NULL) != 0)
		return dec_fail(
		    m, err, JALIN_EPROTO, "value not in canonical form");
	if (version != REC_FORMAT ? rec_val_coded(v, vlen)
	                          : (flags & REC_CHECK_CODING) &&
	            (bad = coding_bad(v, vlen)) != NULL)
		return dec_fail(m, err, JALIN_EPROTO,
		    bad != NULL ? bad : "coded string in an old format");
	r->entry[i].tag = (uint16_t)tag;
	r->entry[i].dot = (uint16_t)d;
	r->entry[i].val = v;
	r->entry[i].vlen = (uint32_t)vlen;
	return 0;
}

static int
dec_entries(struct mpr *m, struct record *r, unsigned flags, unsigned version,
    struct jalin_err *err)
{
	uint32_t n, per = version == REC_FORMAT_1 ? 3 : 2;
	int rc;

	if (mpr_array(m, &n) != 0 || n % per != 0)
		return dec_fail(m, err, JALIN_EPROTO,
		    per == 3 ? "entries not triples" : "entries not pairs");
	if (n / per > JALIN_RECORD_ENTRIES_MAX)
		return dec_fail(m, err, JALIN_ETOOBIG, "too many entries");
	for (uint32_t i = 0; i < n / per; i++) {
		if ((rc = dec_entry(m, r, i, flags, version, err)) != 0)
			return rc;
	}
	r->nentries = (uint16_t)(n / per);
	return 0;
}

static int
tomb_str(struct mpr *m, const char **s, uint32_t *len)
{
	*s = NULL;
	*len = 0;
	if (mpr_peek(m) == MP_NIL)
		return mpr_nil(m);
	if (mpr_str(m, s, len) != 0 || *len > JALIN_FIELD_NAME_MAX)
		return JALIN_EPROTO;
	return 0;
}

/* The scope list: nil, or an array of node names. */
static int
tomb_scope(struct mpr *m, struct rec_tomb *t)
{
	const uint8_t *start = mpr_pos(m);
	const char *s;
	uint32_t n, len;

	t->scope = NULL;
	t->scope_len = 0;
	if (mpr_peek(m) == MP_NIL)
		return mpr_nil(m);
	if (mpr_array(m, &n) != 0 || n > JALIN_LIST_ITEMS_MAX)
		return JALIN_EPROTO;
	for (uint32_t i = 0; i < n; i++) {
		if (mpr_str(m, &s, &len) != 0 || !origin_name_ok(s, len))
			return JALIN_EPROTO;
	}
	t->scope = start;
	t->scope_len = (size_t)(mpr_pos(m) - start);
	return 0;
}

int
rec_tomb_parse(const struct rec_entry *e, bool purged, struct rec_tomb *t)
{
	struct mpr m;
	const uint8_t *b;
	uint32_t n, blen;

	memset(t, 0, sizeof(*t));
	mpr_init(&m, e->val, e->vlen);
	if (mpr_array(&m, &n) != 0 || n != (purged ? 3u : 2u) ||
	    tomb_str(&m, &t->reason, &t->reason_len) != 0)
		return JALIN_EPROTO;
	if (purged && mpr_peek(&m) != MP_NIL) {
		if (mpr_bin(&m, &b, &blen) != 0 || blen != 32)
			return JALIN_EPROTO;
		t->hash = b;
	} else if (purged && mpr_nil(&m) != 0) {
		return JALIN_EPROTO;
	}
	if (tomb_scope(&m, t) != 0 || mpr_left(&m) != 0)
		return JALIN_EPROTO;
	return 0;
}

static int
dec_check_shape(struct record *r, struct jalin_err *err)
{
	uint8_t used[JALIN_RECORD_DOTS_MAX] = {0};

	for (size_t i = 0; i < r->nentries; i++) {
		const struct rec_entry *e = &r->entry[i];
		used[e->dot] = 1;
		struct rec_tomb t;
		if (e->tag == 0 && !(r->flags & REC_PURGED) &&
		    rec_tomb_parse(e, false, &t) != 0)
			return jalin_err_set(
			    err, JALIN_EPROTO, "record: bad delete entry");
	}
	for (size_t i = 0; i < r->ndots; i++) {
		if (!used[i])
			return jalin_err_set(
			    err, JALIN_EPROTO, "record: unused dot");
	}
	if (!(r->flags & REC_PURGED))
		return 0;
	struct rec_tomb t;
	if (r->norigins != 1 || r->ndots != 1 || r->nentries != 1 ||
	    r->entry[0].tag != 0 || rec_tomb_parse(&r->entry[0], true, &t) != 0)
		return jalin_err_set(err, JALIN_EPROTO,
		    "record: purged state holds more than its tombstone");
	return 0;
}

int
rec_decode(struct record *r, const void *buf, size_t len, unsigned flags,
    struct jalin_err *err)
{
	size_t used;
	int rc;

	if (len > JALIN_RECORD_MAX)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "record: %zu bytes exceeds the limit of %u", len,
		    JALIN_RECORD_MAX);
	if ((rc = rec_decode_prefix(r, buf, len, flags, &used, err)) != 0)
		return rc;
	if (used != len) {
		rec_init(r);
		return jalin_err_set(
		    err, JALIN_EPROTO, "record: trailing bytes");
	}
	return 0;
}

int
rec_decode_prefix(struct record *r, const void *buf, size_t len, unsigned flags,
    size_t *used, struct jalin_err *err)
{
	struct mpr m;
	unsigned version = 0;
	int rc;

	rec_init(r);
	mpr_init(&m, buf, len);
	if ((rc = dec_header(&m, r, flags, &version, err)) != 0 ||
	    (rc = dec_origins(&m, r, err)) != 0 ||
	    (rc = dec_ctx(&m, r, err)) != 0 ||
	    (rc = dec_dots(&m, r, version, err)) != 0 ||
	    (rc = dec_entries(&m, r,
	         flags & REC_TRUSTED ? REC_TRUSTED
	                             : REC_TRUSTED | REC_CHECK_CODING,
	         version, err)) != 0)
		goto fail;
	*used = len - mpr_left(&m);
	if (*used > JALIN_RECORD_MAX) {
		rc = jalin_err_set(err, JALIN_ETOOBIG,
		    "record: %zu bytes exceeds the limit of %u", *used,
		    JALIN_RECORD_MAX);
		goto fail;
	}
	/* One pass over the whole state checks every integer, header and
	 * value for its canonical form: then these bytes are exactly what
	 * rec_encode would write, and the store can keep them as they are. */
	if (!(flags & REC_TRUSTED) &&
	    mp_canonical_ext(buf, *used, 2, REC_KEYS_EXT, NULL) != 0) {
		rc = jalin_err_set(
		    err, JALIN_EPROTO, "record: not in canonical form");
		goto fail;
	}
	if ((rc = dec_check_shape(r, err)) != 0)
		goto fail;
	return 0;
fail:
	rec_init(r);
	return rc;
}

bool
rec_peek_deleted(const void *buf, size_t len)
{
	struct mpr m;
	uint32_t n;
	uint64_t v;

	mpr_init(&m, buf, len);
	if (mpr_array(&m, &n) != 0 || n != 6 || mpr_u64(&m, &v) != 0 ||
	    mpr_u64(&m, &v) != 0)
		return true; /* not for us to judge: decode it */
	if (v & REC_PURGED)
		return false;
	uint32_t ndots;
	if (mpr_skip(&m) != 0 || mpr_skip(&m) != 0 || /* origins, ctx */
	    mpr_array(&m, &ndots) != 0 || ndots < 2 || ndots % 2 != 0)
		return true;
	for (uint32_t i = 0; i < ndots; i++) {
		if (mpr_skip(&m) != 0)
			return true;
	}
	if (mpr_array(&m, &n) != 0 || n == 0 || mpr_u64(&m, &v) != 0)
		return true;
	return v / (ndots / 2) == TAG_DELETED; /* the first entry's tag */
}

static void
enc_tables(msgpack_packer *pk, const struct record *r)
{
	msgpack_pack_array(pk, r->norigins);
	for (size_t i = 0; i < r->norigins; i++)
		msgpack_pack_str_with_body(
		    pk, r->origin[i].name, r->origin[i].len);
	msgpack_pack_array(pk, r->norigins);
	for (size_t i = 0; i < r->norigins; i++)
		msgpack_pack_uint64(pk, r->ctx[i]);
	msgpack_pack_array(pk, 2u * r->ndots);
	for (size_t i = 0; i < r->ndots; i++) {
		msgpack_pack_uint16(pk, r->dot[i].origin);
		msgpack_pack_uint64(
		    pk, r->ctx[r->dot[i].origin] - r->dot[i].hlc);
	}
}

int
rec_encode(const struct record *r, struct buf *out)
{
	msgpack_packer pk;
	size_t start = out->len, cap = out->max;
	int rc;

	/* Bound the record itself, not just the caller's buffer. */
	if (out->max - start > JALIN_RECORD_MAX)
		out->max = start + JALIN_RECORD_MAX;
	msgpack_packer_init(&pk, out, buf_pk_write);
	msgpack_pack_array(&pk, 6);
	msgpack_pack_uint8(&pk, REC_FORMAT);
	msgpack_pack_uint32(&pk, r->flags);
	enc_tables(&pk, r);
	msgpack_pack_array(&pk, 2u * r->nentries);
	for (size_t i = 0; i < r->nentries && out->err == 0; i++) {
		const struct rec_entry *e = &r->entry[i];
		msgpack_pack_uint32(&pk, (uint32_t)e->tag * r->ndots + e->dot);
		buf_pk_write(out, (const char *)e->val, e->vlen);
	}
	out->max = cap;
	if (out->err != 0) {
		rc = out->err;
		out->len = start;
		out->err = 0;
		return rc;
	}
	return 0;
}

bool
rec_is_empty(const struct record *r)
{
	return r->norigins == 0 && r->nentries == 0;
}

bool
rec_is_purged(const struct record *r)
{
	return (r->flags & REC_PURGED) != 0;
}

bool
rec_has_delete(const struct record *r)
{
	return r->nentries > 0 && r->entry[0].tag == TAG_DELETED &&
	    !(r->flags & REC_PURGED);
}

int
rec_dot_cmp(const struct record *r, uint16_t a, uint16_t b)
{
	const struct rec_dot *x = &r->dot[a], *y = &r->dot[b];

	if (x->hlc != y->hlc)
		return x->hlc < y->hlc ? -1 : 1;
	return rec_name_cmp(r->origin[x->origin].name, r->origin[x->origin].len,
	    r->origin[y->origin].name, r->origin[y->origin].len);
}

size_t
rec_field(const struct record *r, uint16_t tag, size_t *first, size_t *end)
{
	size_t lo = 0, hi = r->nentries;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->entry[mid].tag < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < r->nentries && r->entry[hi].tag == tag)
		hi++;
	*end = hi;
	return hi - lo;
}

size_t
rec_winner(const struct record *r, size_t first, size_t end)
{
	size_t w = first;

	for (size_t i = first + 1; i < end; i++) {
		if (rec_dot_cmp(r, r->entry[i].dot, r->entry[w].dot) > 0)
			w = i;
	}
	return w;
}

static bool
is_nil(const struct rec_entry *e)
{
	return e->vlen == 1 && e->val[0] == 0xc0;
}

bool
rec_is_live(const struct record *r)
{
	size_t i = 0;

	if (r->flags & REC_PURGED)
		return false;
	while (i < r->nentries) {
		size_t end = i;
		while (
		    end < r->nentries && r->entry[end].tag == r->entry[i].tag)
			end++;
		if (r->entry[i].tag != TAG_DELETED &&
		    !is_nil(&r->entry[rec_winner(r, i, end)]))
			return true;
		i = end;
	}
	return false;
}

uint64_t
rec_max_hlc(const struct record *r)
{
	uint64_t m = 0;

	for (size_t i = 0; i < r->norigins; i++) {
		if (r->ctx[i] > m)
			m = r->ctx[i];
	}
	return m;
}

unsigned
rec_conflicts(const struct record *r)
{
	unsigned n = 0;
	size_t i = 0;

	if (r->flags & REC_PURGED)
		return 0;
	while (i < r->nentries) {
		size_t end = i;
		while (
		    end < r->nentries && r->entry[end].tag == r->entry[i].tag)
			end++;
		if (r->entry[i].tag != TAG_DELETED && end - i > 1)
			n++;
		i = end;
	}
	if (rec_has_delete(r) && rec_is_live(r))
		n++;
	return n;
}

int
rec_origin_find(const struct record *r, const char *name, size_t len)
{
	size_t lo = 0, hi = r->norigins;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = rec_name_cmp(
		    r->origin[mid].name, r->origin[mid].len, name, len);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int
rec_dot_find(const struct record *r, const char *name, size_t len, uint64_t hlc)
{
	int oi = rec_origin_find(r, name, len);

	for (uint16_t i = 0; oi >= 0 && i < r->ndots; i++)
		if (r->dot[i].origin == oi && r->dot[i].hlc == hlc)
			return i;
	return -1;
}
