/*
 * proof.c - the proofs of a record state's write events (see proof.h).
 */
#include <string.h>

#include <msgpack.h>

#include "mp.h"
#include "proof.h"

/* Missing elements of one event: at most one per field. */
#define MISSING_MAX ((size_t)JALIN_RECORD_ENTRIES_MAX * SIG_ELEM_MAX)

void
proof_init(struct proof *p, const struct record *r)
{
	p->ndots = r->ndots;
	p->nwit = 0;
	for (uint16_t i = 0; i < r->ndots; i++)
		p->dot[i] = (struct proof_dot){0};
}

static int
bad(struct jalin_err *err, const char *what)
{
	return jalin_err_set(err, JALIN_EPROTO, "proof: %s", what);
}

/* [back, idx, bin]: the batch is named hlc - back (hlc: the event's). */
static int
dec_ref(struct mpr *m, uint64_t hlc, uint64_t *bno, uint16_t *idx,
    const uint8_t **b, uint32_t *blen)
{
	uint64_t i;
	int64_t back;

	*blen = 0;
	if (mpr_i64(m, &back) != 0 ||
	    (back >= 0 ? (uint64_t)back >= hlc
	               : (uint64_t) - (back + 1) >= UINT64_MAX - hlc))
		return -1;
	*bno = hlc - (uint64_t)back;
	if (mpr_u64(m, &i) != 0 || i >= JALIN_SIG_BATCH_MAX ||
	    (b != NULL && (mpr_bin(m, b, blen) != 0 || *blen > MISSING_MAX)))
		return -1;
	*idx = (uint16_t)i;
	return 0;
}

static int
dec_dots(struct mpr *m, struct proof *p, const struct record *r,
    struct jalin_err *err)
{
	uint32_t n;

	for (uint16_t i = 0; i < p->ndots; i++) {
		struct proof_dot *d = &p->dot[i];
		*d = (struct proof_dot){0};
		if (mpr_peek(m) == MP_NIL) {
			(void)mpr_nil(m);
			continue;
		}
		if (mpr_array(m, &n) != 0 || (n != 2 && n != 3) ||
		    dec_ref(m, r->dot[i].hlc, &d->bno, &d->idx,
		        n == 3 ? &d->missing : NULL, &d->mlen) != 0 ||
		    (n == 3 && d->mlen == 0))
			return bad(err, "a dot's proof is not [bno, idx, bin]");
		d->is_signed = true;
	}
	return 0;
}

static int
dec_wits(struct mpr *m, struct proof *p, const struct record *r,
    struct jalin_err *err)
{
	uint32_t n, k;
	uint64_t o;
	int prev = -1;

	if (mpr_array(m, &n) != 0 || n > r->norigins)
		return bad(err, "more witnesses than origins");
	p->nwit = (uint16_t)n;
	for (uint16_t i = 0; i < p->nwit; i++) {
		struct proof_wit *w = &p->wit[i];
		if (mpr_array(m, &k) != 0 || k != 4 || mpr_u64(m, &o) != 0 ||
		    o >= r->norigins || (int)o <= prev ||
		    dec_ref(m, r->ctx[o], &w->bno, &w->idx, &w->el, &w->elen) !=
		        0)
			return bad(err,
			    "a witness is not [oidx, bno, idx, bin] in order");
		w->oidx = (uint16_t)o;
		prev = (int)o;
	}
	return 0;
}

int
proof_decode(struct proof *p, const struct record *r, const void *buf,
    size_t len, struct jalin_err *err)
{
	struct mpr m;
	uint32_t n, k;
	int rc;

	proof_init(p, r);
	if (len == 0)
		return 0;
	mpr_init(&m, buf, len);
	if (mpr_array(&m, &k) != 0 || (k != 1 && k != 2) ||
	    mpr_array(&m, &n) != 0)
		return bad(err, "not [dots] or [dots, witnesses]");
	if (n != r->ndots)
		return bad(err, "not one entry per dot");
	if ((rc = dec_dots(&m, p, r, err)) != 0 ||
	    (k == 2 && (rc = dec_wits(&m, p, r, err)) != 0))
		return rc;
	if (k == 2 && p->nwit == 0)
		return bad(err, "an empty list of witnesses");
	if (mpr_error(&m) != 0 || mpr_left(&m) != 0)
		return bad(err, "bytes after the proof");
	return 0;
}

static bool
anything_signed(const struct proof *p)
{
	if (p->nwit > 0)
		return true;
	for (uint16_t i = 0; i < p->ndots; i++)
		if (p->dot[i].is_signed)
			return true;
	return false;
}

static void
pack_ref(msgpack_packer *pk, uint64_t hlc, uint64_t bno, uint16_t idx,
    const uint8_t *b, uint32_t blen)
{
	msgpack_pack_int64(pk, (int64_t)(hlc - bno));
	msgpack_pack_uint16(pk, idx);
	if (b == NULL)
		return;
	msgpack_pack_bin(pk, blen);
	msgpack_pack_bin_body(pk, b, blen);
}

int
proof_encode(const struct proof *p, const struct record *r, struct buf *out)
{
	msgpack_packer pk;

	if (!anything_signed(p))
		return 0;
	msgpack_packer_init(&pk, out, buf_pk_write);
	msgpack_pack_array(&pk, p->nwit > 0 ? 2 : 1);
	msgpack_pack_array(&pk, p->ndots);
	for (uint16_t i = 0; i < p->ndots; i++) {
		const struct proof_dot *d = &p->dot[i];
		if (!d->is_signed) {
			msgpack_pack_nil(&pk);
			continue;
		}
		msgpack_pack_array(&pk, d->mlen > 0 ? 3 : 2);
		pack_ref(&pk, r->dot[i].hlc, d->bno, d->idx,
		    d->mlen > 0 ? d->missing : NULL, d->mlen);
	}
	if (p->nwit == 0)
		return out->err;
	msgpack_pack_array(&pk, p->nwit);
	for (uint16_t i = 0; i < p->nwit; i++) {
		const struct proof_wit *w = &p->wit[i];
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint16(&pk, w->oidx);
		pack_ref(&pk, r->ctx[w->oidx], w->bno, w->idx, w->el, w->elen);
	}
	return out->err;
}

int
proof_wit_leaf(struct sig_ctx *x, uint8_t coll, const uint8_t id[16],
    const struct record *r, const struct proof_wit *w,
    uint8_t leaf[SIG_LEAF_LEN], struct jalin_err *err)
{
	return sig_leaf_ghost(x, coll, id, &r->origin[w->oidx], r->ctx[w->oidx],
	    w->el, w->elen, leaf, err);
}

/* ---- join ---------------------------------------------------------- */

static bool
name_eq(const struct rec_origin *a, const char *name, uint8_t len)
{
	return a->len == len && memcmp(a->name, name, len) == 0;
}

/* True if out holds an entry of tag for dot d. */
static bool
holds(const struct record *out, int d, uint16_t tag)
{
	for (uint16_t i = 0; d >= 0 && i < out->nentries; i++)
		if (out->entry[i].dot == d && out->entry[i].tag == tag)
			return true;
	return false;
}

/*
 * Append to tmp, by increasing tag, the elements of: src's missing m, and
 * src's entries of dot j that out does not hold for dot d (d < 0: none
 * held). Both runs are sorted by tag and disjoint. tmp has room reserved.
 */
static int
gather(struct sig_ctx *x, const struct record *s, uint16_t j, const uint8_t *m,
    size_t mlen, const struct record *out, int d, struct buf *tmp)
{
	size_t off = 0, i = 0;

	for (;;) {
		while (i < s->nentries &&
		    (s->entry[i].dot != j || holds(out, d, s->entry[i].tag)))
			i++;
		bool he = i < s->nentries, hm = off < mlen;
		if (!he && !hm)
			return 0;
		if (hm && off + 3 > mlen)
			return JALIN_EPROTO;
		if (he &&
		    (!hm || s->entry[i].tag < (m[off] << 8 | m[off + 1]))) {
			const struct rec_entry *e = &s->entry[i++];
			size_t n = sig_element(
			    x, e->tag, e->val, e->vlen, tmp->p + tmp->len);
			if (n == 0)
				return JALIN_ENOMEM;
			tmp->len += n;
		} else {
			size_t n = m[off + 2] <= SIG_INLINE_MAX
			    ? 3 + (size_t)m[off + 2]
			    : 3 + SIG_LEAF_LEN;
			if (off + 3 > mlen || n > mlen - off)
				return JALIN_EPROTO; /* cut: sig_leaf says so */
			/* a field out holds again for d is not missing */
			if (!holds(
			        out, d, (uint16_t)(m[off] << 8 | m[off + 1]))) {
				memcpy(tmp->p + tmp->len, m + off, n);
				tmp->len += n;
			}
			off += n;
		}
	}
}

/* Room for every element gather could write for these sources. */
static size_t
room(const struct proof_src *src, size_t nsrc)
{
	size_t n = 0;

	for (size_t k = 0; k < nsrc; k++) {
		const struct proof *p = src[k].p;
		n += (size_t)src[k].r->nentries * SIG_ELEM_MAX;
		for (uint16_t i = 0; p != NULL && i < p->ndots; i++)
			n += p->dot[i].mlen;
		for (uint16_t i = 0; p != NULL && i < p->nwit; i++)
			n += p->wit[i].elen;
	}
	return n;
}

/* The proof of out's dot d: from a fresh event, or a source's. */
static int
join_dot(struct sig_ctx *x, const struct record *out, uint16_t d,
    const struct proof_src *src, size_t nsrc, const struct proof_new *fresh,
    size_t nfresh, struct proof_dot *res, struct buf *tmp)
{
	const struct rec_origin *o = &out->origin[out->dot[d].origin];
	uint64_t hlc = out->dot[d].hlc;

	*res = (struct proof_dot){0};
	for (size_t k = 0; k < nfresh; k++)
		if (fresh[k].hlc == hlc &&
		    name_eq(o, fresh[k].origin, fresh[k].olen)) {
			*res = (struct proof_dot){
			    true, fresh[k].idx, 0, fresh[k].bno, NULL};
			return 0;
		}
	for (size_t k = 0; k < nsrc; k++) {
		int j = rec_dot_find(src[k].r, o->name, o->len, hlc);
		if (j < 0 || src[k].p == NULL || !src[k].p->dot[j].is_signed)
			continue;
		const struct proof_dot *sd = &src[k].p->dot[j];
		size_t at = tmp->len;
		int rc = gather(x, src[k].r, (uint16_t)j, sd->missing, sd->mlen,
		    out, d, tmp);
		if (rc != 0)
			return rc;
		*res = (struct proof_dot){true, sd->idx,
		    (uint32_t)(tmp->len - at), sd->bno, tmp->p + at};
		return 0;
	}
	return 0; /* unsigned */
}

/* A witness for out's origin oi (context above its last dot) from a
 * source: an event there at that HLC, or the source's own witness. */
static int
join_wit(struct sig_ctx *x, const struct record *out, uint16_t oi,
    const struct proof_src *src, size_t nsrc, struct proof_wit *res,
    bool *found, struct buf *tmp)
{
	const struct rec_origin *o = &out->origin[oi];
	uint64_t hlc = out->ctx[oi];

	*found = false;
	for (size_t k = 0; k < nsrc; k++) {
		const struct record *s = src[k].r;
		const struct proof *p = src[k].p;
		int j = rec_dot_find(s, o->name, o->len, hlc);
		if (p == NULL)
			continue;
		if (j >= 0 && p->dot[j].is_signed) {
			size_t at = tmp->len;
			int rc = gather(x, s, (uint16_t)j, p->dot[j].missing,
			    p->dot[j].mlen, out, -1, tmp);
			if (rc != 0)
				return rc;
			*res = (struct proof_wit){oi, p->dot[j].idx,
			    (uint32_t)(tmp->len - at), p->dot[j].bno,
			    tmp->p + at};
			*found = true;
			return 0;
		}
		for (uint16_t w = 0; w < p->nwit; w++) {
			uint16_t so = p->wit[w].oidx;
			if (s->ctx[so] == hlc &&
			    name_eq(&s->origin[so], o->name, o->len)) {
				*res = p->wit[w];
				res->oidx = oi;
				*found = true;
				return 0;
			}
		}
	}
	return 0;
}

/* True if out has a dot of origin oi at its context. */
static bool
ctx_has_dot(const struct record *out, uint16_t oi)
{
	for (uint16_t i = 0; i < out->ndots; i++)
		if (out->dot[i].origin == oi && out->dot[i].hlc == out->ctx[oi])
			return true;
	return false;
}

int
proof_join(struct sig_ctx *x, const struct record *out,
    const struct proof_src *src, size_t nsrc, const struct proof_new *fresh,
    size_t nfresh, struct proof *res, struct buf *tmp)
{
	bool found;
	int rc;

	buf_reset(tmp);
	if ((rc = buf_reserve(tmp, room(src, nsrc))) != 0)
		return rc;
	proof_init(res, out);
	for (uint16_t d = 0; d < out->ndots; d++)
		if ((rc = join_dot(x, out, d, src, nsrc, fresh, nfresh,
		         &res->dot[d], tmp)) != 0)
			return rc;
	for (uint16_t oi = 0; oi < out->norigins; oi++) {
		if (ctx_has_dot(out, oi))
			continue;
		if ((rc = join_wit(x, out, oi, src, nsrc, &res->wit[res->nwit],
		         &found, tmp)) != 0)
			return rc;
		res->nwit += found;
	}
	return 0;
}
