/*
 * merge.c - the join of record states and the local write operations.
 *
 * Every operation works in the same three steps: settle the origin table
 * of the result, decide which entries are kept (as (tag, origin, hlc,
 * value), in (tag, origin, hlc) order), then finalize(): build the sorted
 * dot table from the kept entries and point each entry at its dot. Keeping
 * one finalize step is what makes every result canonical.
 */
#include <string.h>

#include "merge.h"
#include "schema.h"

struct kept {
	uint16_t tag;
	uint16_t o; /* index into the result's origins */
	uint32_t vlen;
	uint64_t h;
	const uint8_t *val;
};

/* Scratch of one operation; on the stack (about 30 KiB). */
struct work {
	uint16_t ma[JALIN_RECORD_ORIGINS_MAX]; /* a's origin -> out's */
	uint16_t mb[JALIN_RECORD_ORIGINS_MAX]; /* b's origin -> out's */
	uint64_t ca[JALIN_RECORD_ORIGINS_MAX]; /* a's ctx, out-indexed */
	uint64_t cb[JALIN_RECORD_ORIGINS_MAX]; /* b's ctx, out-indexed */
	struct kept k[JALIN_RECORD_ENTRIES_MAX];
	size_t nk;
};

static int
origin_cmp(const struct rec_origin *a, const struct rec_origin *b)
{
	return rec_name_cmp(a->name, a->len, b->name, b->len);
}

/* out's origins = a's ∪ b's, with index maps and out-indexed contexts. */
static int
origins_union(const struct record *a, const struct record *b,
    struct record *out, struct work *w)
{
	size_t i = 0, j = 0, n = 0;

	while (i < a->norigins || j < b->norigins) {
		int c = i == a->norigins ? 1
		    : j == b->norigins
		    ? -1
		    : origin_cmp(&a->origin[i], &b->origin[j]);
		if (n == JALIN_RECORD_ORIGINS_MAX)
			return JALIN_ETOOBIG;
		w->ca[n] = w->cb[n] = 0;
		if (c <= 0) {
			out->origin[n] = a->origin[i];
			w->ca[n] = a->ctx[i];
			w->ma[i++] = (uint16_t)n;
		}
		if (c >= 0) {
			out->origin[n] = b->origin[j];
			w->cb[n] = b->ctx[j];
			w->mb[j++] = (uint16_t)n;
		}
		out->ctx[n] = w->ca[n] > w->cb[n] ? w->ca[n] : w->cb[n];
		n++;
	}
	out->norigins = (uint16_t)n;
	return 0;
}

static int
keep(struct work *w, uint16_t tag, uint16_t o, uint64_t h, const uint8_t *val,
    uint32_t vlen)
{
	if (w->nk == JALIN_RECORD_ENTRIES_MAX)
		return JALIN_ETOOBIG;
	w->k[w->nk++] = (struct kept){tag, o, vlen, h, val};
	return 0;
}

static int
dot_key_cmp(uint16_t o1, uint64_t h1, uint16_t o2, uint64_t h2)
{
	if (o1 != o2)
		return o1 < o2 ? -1 : 1;
	return (h1 > h2) - (h1 < h2);
}

/* Position of (o, h) in out's sorted dots; *found tells if it is there. */
static size_t
dot_find(const struct record *out, uint16_t o, uint64_t h, bool *found)
{
	size_t lo = 0, hi = out->ndots;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c =
		    dot_key_cmp(out->dot[mid].origin, out->dot[mid].hlc, o, h);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Build out's dots and entries from the kept list. */
static int
finalize(struct record *out, const struct work *w)
{
	bool found;
	size_t pos;

	out->ndots = 0;
	for (size_t i = 0; i < w->nk; i++) {
		pos = dot_find(out, w->k[i].o, w->k[i].h, &found);
		if (found)
			continue;
		if (out->ndots == JALIN_RECORD_DOTS_MAX)
			return JALIN_ETOOBIG;
		memmove(&out->dot[pos + 1], &out->dot[pos],
		    (out->ndots - pos) * sizeof(out->dot[0]));
		out->dot[pos] = (struct rec_dot){w->k[i].o, w->k[i].h};
		out->ndots++;
	}
	for (size_t i = 0; i < w->nk; i++) {
		const struct kept *k = &w->k[i];
		pos = dot_find(out, k->o, k->h, &found);
		out->entry[i] =
		    (struct rec_entry){k->tag, (uint16_t)pos, k->vlen, k->val};
	}
	out->nentries = (uint16_t)w->nk;
	return 0;
}

static void
rec_copy(struct record *dst, const struct record *src)
{
	dst->flags = src->flags;
	dst->norigins = src->norigins;
	dst->ndots = src->ndots;
	dst->nentries = src->nentries;
	memcpy(
	    dst->origin, src->origin, src->norigins * sizeof(src->origin[0]));
	memcpy(dst->ctx, src->ctx, src->norigins * sizeof(src->ctx[0]));
	memcpy(dst->dot, src->dot, src->ndots * sizeof(src->dot[0]));
	memcpy(dst->entry, src->entry, src->nentries * sizeof(src->entry[0]));
}

/* Of two purged states the greater (hlc, origin) purge wins. */
static void
join_purged(const struct record *a, const struct record *b, struct record *out)
{
	const struct record *win = a;

	if (!rec_is_purged(a))
		win = b;
	else if (rec_is_purged(b)) {
		const struct rec_dot *da = &a->dot[0], *db = &b->dot[0];
		int c = (da->hlc > db->hlc) - (da->hlc < db->hlc);
		if (c == 0)
			c = origin_cmp(&a->origin[0], &b->origin[0]);
		if (c < 0)
			win = b;
	}
	rec_copy(out, win);
}

struct side {
	const struct record *r;
	const uint16_t *map;
	size_t i;
};

static void
side_key(const struct side *s, uint16_t *tag, uint16_t *o, uint64_t *h)
{
	const struct rec_entry *e = &s->r->entry[s->i];

	*tag = e->tag;
	*o = s->map[s->r->dot[e->dot].origin];
	*h = s->r->dot[e->dot].hlc;
}

/*
 * Two sides hold the same dot for the same field: the values must be equal
 * (one write has one value). If a broken or restored node sent another, pick
 * the greater bytes so every node still decides the same way.
 */
static const struct rec_entry *
same_dot(const struct rec_entry *x, const struct rec_entry *y)
{
	size_t n = x->vlen < y->vlen ? x->vlen : y->vlen;
	int c = memcmp(x->val, y->val, n);

	if (c == 0)
		c = (x->vlen > y->vlen) - (x->vlen < y->vlen);
	return c >= 0 ? x : y;
}

static int
join_step(struct side *a, struct side *b, struct work *w)
{
	uint16_t ta = UINT16_MAX, tb = UINT16_MAX, oa = 0, ob = 0;
	uint64_t ha = 0, hb = 0;
	int c;

	if (a->i < a->r->nentries)
		side_key(a, &ta, &oa, &ha);
	if (b->i < b->r->nentries)
		side_key(b, &tb, &ob, &hb);
	c = a->i == a->r->nentries   ? 1
	    : b->i == b->r->nentries ? -1
	    : ta != tb               ? (ta < tb ? -1 : 1)
	                             : dot_key_cmp(oa, ha, ob, hb);
	if (c == 0) {
		const struct rec_entry *e =
		    same_dot(&a->r->entry[a->i++], &b->r->entry[b->i++]);
		return keep(w, ta, oa, ha, e->val, e->vlen);
	}
	if (c < 0) {
		const struct rec_entry *e = &a->r->entry[a->i++];
		return ha > w->cb[oa] ? keep(w, ta, oa, ha, e->val, e->vlen)
		                      : 0;
	}
	const struct rec_entry *e = &b->r->entry[b->i++];
	return hb > w->ca[ob] ? keep(w, tb, ob, hb, e->val, e->vlen) : 0;
}

int
merge_join(const struct record *a, const struct record *b, struct record *out,
    bool *changed)
{
	struct work w;
	struct side sa = {a, w.ma, 0}, sb = {b, w.mb, 0};
	int rc;

	if (rec_is_purged(a) || rec_is_purged(b)) {
		join_purged(a, b, out);
	} else {
		out->flags = 0;
		w.nk = 0;
		if ((rc = origins_union(a, b, out, &w)) != 0)
			return rc;
		while (sa.i < a->nentries || sb.i < b->nentries) {
			if ((rc = join_step(&sa, &sb, &w)) != 0)
				return rc;
		}
		if ((rc = finalize(out, &w)) != 0)
			return rc;
	}
	if (changed != NULL)
		*changed = !merge_equal(a, out);
	return 0;
}

/* out's origins = cur's plus self; ma maps cur's indexes. Returns self's
 * index in out, or a negative error. */
static int
origins_with_self(const struct record *cur, const char *self, size_t len,
    uint64_t hlc, struct record *out, struct work *w)
{
	struct record one;
	int rc, s;

	one.flags = 0;
	one.norigins = 1;
	one.ndots = one.nentries = 0;
	one.origin[0] = (struct rec_origin){self, (uint8_t)len};
	one.ctx[0] = hlc;
	if ((s = rec_origin_find(cur, self, len)) >= 0 && cur->ctx[s] >= hlc)
		return JALIN_EINVAL; /* our clock must be ahead of our past */
	if ((rc = origins_union(cur, &one, out, w)) != 0)
		return rc;
	return w->mb[0];
}

static bool
update_changes(const struct record *cur, const struct merge_update *u)
{
	const uint8_t *v = u->val ? u->val : rec_nil;
	uint32_t vlen = u->val ? u->vlen : 1;
	size_t f, e, n = rec_field(cur, u->tag, &f, &e);

	if (n == 0)
		return u->val != NULL;
	if (n > 1)
		return true; /* rewriting a conflicted field resolves it */
	return !(cur->entry[f].vlen == vlen &&
	    memcmp(cur->entry[f].val, v, vlen) == 0);
}

static int
check_updates(const struct merge_update *u, size_t n, size_t selflen)
{
	if (selflen == 0 || selflen > JALIN_NAME_MAX)
		return JALIN_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (u[i].tag == 0 || u[i].tag > JALIN_TAG_MAX ||
		    (i > 0 && u[i].tag <= u[i - 1].tag))
			return JALIN_EINVAL;
	}
	return 0;
}

/* Kept entries of a put: cur's, minus replaced fields and deletes, plus
 * the changed updates, in tag order. */
static int
put_entries(const struct record *cur, const struct merge_update *u, size_t n,
    const bool *chg, uint16_t self, uint64_t hlc, struct work *w)
{
	size_t i = 0, j = 0;
	int rc = 0;

	while (rc == 0 && (i < cur->nentries || j < n)) {
		const struct rec_entry *e = &cur->entry[i];
		if (j < n && (i == cur->nentries || u[j].tag <= e->tag)) {
			if (chg[j])
				rc = keep(w, u[j].tag, self, hlc,
				    u[j].val ? u[j].val : rec_nil,
				    u[j].val ? u[j].vlen : 1);
			/* skip cur's entries of a replaced field */
			while (chg[j] && i < cur->nentries &&
			    cur->entry[i].tag == u[j].tag)
				i++;
			j++;
			continue;
		}
		if (e->tag != TAG_DELETED)
			rc = keep(w, e->tag, w->ma[cur->dot[e->dot].origin],
			    cur->dot[e->dot].hlc, e->val, e->vlen);
		i++;
	}
	return rc;
}

int
merge_put(const struct record *cur, const struct merge_update *u, size_t n,
    const char *self, size_t selflen, uint64_t hlc, struct record *out,
    bool *changed)
{
	bool chg[JALIN_RECORD_ENTRIES_MAX], any;
	struct work w;
	int rc, s;

	*changed = false;
	if (rec_is_purged(cur))
		return JALIN_EPURGED;
	if (n > JALIN_RECORD_ENTRIES_MAX || check_updates(u, n, selflen) != 0)
		return JALIN_EINVAL;
	any = rec_has_delete(cur);
	for (size_t i = 0; i < n; i++)
		any |= chg[i] = update_changes(cur, &u[i]);
	if (!any)
		return 0;
	out->flags = 0;
	w.nk = 0;
	if ((s = origins_with_self(cur, self, selflen, hlc, out, &w)) < 0)
		return s;
	if ((rc = put_entries(cur, u, n, chg, (uint16_t)s, hlc, &w)) != 0 ||
	    (rc = finalize(out, &w)) != 0)
		return rc;
	*changed = true;
	return 0;
}

/* out = cur's origins and ctx plus self, with just one tag-0 entry. */
static int
tombstone(const struct record *cur, const uint8_t *val, size_t vlen,
    const char *self, size_t selflen, uint64_t hlc, struct record *out)
{
	struct work w;
	int s;

	if (selflen == 0 || selflen > JALIN_NAME_MAX || vlen > JALIN_VALUE_MAX)
		return JALIN_EINVAL;
	out->flags = 0;
	w.nk = 0;
	if ((s = origins_with_self(cur, self, selflen, hlc, out, &w)) < 0)
		return s;
	keep(&w, TAG_DELETED, (uint16_t)s, hlc, val, (uint32_t)vlen);
	return finalize(out, &w);
}

int
merge_delete(const struct record *cur, const uint8_t *val, size_t vlen,
    const char *self, size_t selflen, uint64_t hlc, struct record *out,
    bool *changed)
{
	int rc;

	*changed = false;
	if (rec_is_purged(cur))
		return JALIN_EPURGED;
	if (rec_is_empty(cur))
		return JALIN_ENOTFOUND;
	if (!rec_is_live(cur))
		return 0;
	if ((rc = tombstone(cur, val, vlen, self, selflen, hlc, out)) != 0)
		return rc;
	*changed = true;
	return 0;
}

int
merge_purge(const struct record *cur, const uint8_t *val, size_t vlen,
    const char *self, size_t selflen, uint64_t hlc, struct record *out,
    bool *changed)
{
	struct record empty;
	int rc;

	*changed = false;
	if (rec_is_purged(cur))
		return 0;
	/* A purge keeps nothing of the record, not even its context. */
	rec_init(&empty);
	if ((rc = tombstone(&empty, val, vlen, self, selflen, hlc, out)) != 0)
		return rc;
	out->flags = REC_PURGED;
	*changed = true;
	return 0;
}

bool
merge_equal(const struct record *a, const struct record *b)
{
	if (a->flags != b->flags || a->norigins != b->norigins ||
	    a->ndots != b->ndots || a->nentries != b->nentries)
		return false;
	for (size_t i = 0; i < a->norigins; i++) {
		if (a->ctx[i] != b->ctx[i] ||
		    origin_cmp(&a->origin[i], &b->origin[i]) != 0)
			return false;
	}
	for (size_t i = 0; i < a->ndots; i++) {
		if (a->dot[i].origin != b->dot[i].origin ||
		    a->dot[i].hlc != b->dot[i].hlc)
			return false;
	}
	for (size_t i = 0; i < a->nentries; i++) {
		const struct rec_entry *x = &a->entry[i], *y = &b->entry[i];
		if (x->tag != y->tag || x->dot != y->dot ||
		    x->vlen != y->vlen || memcmp(x->val, y->val, x->vlen) != 0)
			return false;
	}
	return true;
}
