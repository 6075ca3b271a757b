/*
 * scope.c - the sharing scope of a record, from its own fields.
 */
#include <string.h>

#include "mp.h"
#include "scope.h"

#define SCOPE_NAMES_MAX 128

struct names {
	const char *s[SCOPE_NAMES_MAX];
	uint32_t len[SCOPE_NAMES_MAX];
	size_t n;
	uint8_t plain[JALIN_NAME_MAX + 8]; /* a coded name, decoded */
};

static void
names_add(struct names *nm, const char *s, uint32_t len)
{
	for (size_t i = 0; i < nm->n; i++) {
		if (nm->len[i] == len && memcmp(nm->s[i], s, len) == 0)
			return;
	}
	if (nm->n < SCOPE_NAMES_MAX) {
		nm->s[nm->n] = s;
		nm->len[nm->n++] = len;
	}
}

/* Names from a msgpack string or array of strings. */
static void
names_from(struct names *nm, const uint8_t *v, size_t vlen)
{
	struct mpr m;
	const char *s;
	uint32_t n, len;

	mpr_init(&m, v, vlen);
	if (mpr_peek(&m) == MP_STR) {
		if (mpr_str(&m, &s, &len) == 0)
			names_add(nm, s, len);
		return;
	}
	if (mpr_array(&m, &n) != 0)
		return;
	for (uint32_t i = 0; i < n && mpr_str(&m, &s, &len) == 0; i++)
		names_add(nm, s, len);
}

static void
field_names(struct names *nm, const struct record *r, uint16_t tag)
{
	size_t first, end;

	if (rec_field(r, tag, &first, &end) == 0)
		return;
	const struct rec_entry *w = &r->entry[rec_winner(r, first, end)];
	const uint8_t *v = w->val;
	uint32_t vlen = w->vlen;
	struct buf t;

	/* a node name long enough is stored coded (record.h); longer than a
	 * name, it is none */
	buf_init_mem(&t, nm->plain, sizeof(nm->plain), sizeof(nm->plain));
	if (rec_val_plain(w->val, w->vlen, &t, &v, &vlen) == 0)
		names_from(nm, v, vlen);
}

static bool
names_has(const struct names *nm, const char *name, size_t len)
{
	for (size_t i = 0; i < nm->n; i++) {
		if (nm->len[i] == len && memcmp(nm->s[i], name, len) == 0)
			return true;
	}
	return false;
}

/*
 * Collect the scope; returns false for a purge of unknown scope. With
 * withdrawn, also the nodes the record was withdrawn from (a tombstone
 * must reach them: one of them may not have had the withdrawal yet).
 */
static bool
collect(const struct record *r, struct names *nm, bool withdrawn)
{
	bool purged = rec_is_purged(r);
	struct rec_tomb t;

	nm->n = 0;
	if (!purged) {
		field_names(nm, r, TAG_ORIGIN_NODE);
		field_names(nm, r, TAG_SHARE_WITH);
		if (withdrawn)
			field_names(nm, r, TAG_UNSHARED_FROM);
	}
	for (size_t i = 0; i < r->nentries && r->entry[i].tag == TAG_DELETED;
	     i++) {
		if (rec_tomb_parse(&r->entry[i], purged, &t) != 0)
			continue;
		if (t.scope != NULL)
			names_from(nm, t.scope, t.scope_len);
		else if (purged)
			return false;
	}
	return true;
}

/*
 * A live record withdrawn from name: name is in unshared_from and neither
 * its origin nor in share_with (an old tombstone's scope does not count).
 */
static bool
withdrawn_from(const struct record *r, const char *name, size_t len)
{
	struct names nm = {.n = 0};

	if (!rec_is_live(r))
		return false;
	field_names(&nm, r, TAG_UNSHARED_FROM);
	if (!names_has(&nm, name, len))
		return false;
	nm.n = 0;
	field_names(&nm, r, TAG_ORIGIN_NODE);
	field_names(&nm, r, TAG_SHARE_WITH);
	return !names_has(&nm, name, len);
}

bool
scope_allows(const struct schema_coll *c, const struct record *r,
    const char *name, size_t len)
{
	struct names nm;

	if (c->scope != SCOPE_SCOPED)
		return true;
	if (!collect(r, &nm, false))
		return true; /* a purge that holds no data and no scope */
	return names_has(&nm, name, len) && !withdrawn_from(r, name, len);
}

bool
scope_withdrawn(const struct schema_coll *c, const struct record *r,
    const char *name, size_t len)
{
	return c->scope == SCOPE_SCOPED && withdrawn_from(r, name, len);
}

bool
scope_is_origin(const struct record *r, const char *name, size_t len)
{
	struct names nm = {.n = 0};

	field_names(&nm, r, TAG_ORIGIN_NODE);
	return names_has(&nm, name, len);
}

int
scope_unshared(const struct schema_coll *c, const struct record *old,
    const uint8_t *v, size_t vlen, msgpack_packer *pk)
{
	struct names was = {.n = 0}, now = {.n = 0}, out = {.n = 0};

	if (c->scope != SCOPE_SCOPED || !rec_is_live(old))
		return 0;
	field_names(&was, old, TAG_UNSHARED_FROM);
	size_t before = was.n;
	field_names(&was, old, TAG_SHARE_WITH);
	if (v != NULL)
		names_from(&now, v, vlen);
	for (size_t i = 0; i < was.n; i++) {
		if (!names_has(&now, was.s[i], was.len[i]))
			names_add(&out, was.s[i], was.len[i]);
	}
	/* unchanged: the same names as before, in the same order */
	bool same = out.n == before;
	for (size_t i = 0; same && i < out.n; i++)
		same = out.s[i] == was.s[i];
	if (same)
		return 0;
	if (out.n > JALIN_UNSHARED_MAX)
		return -1;
	/* sorted, so that equal sets are equal bytes */
	for (size_t i = 1; i < out.n; i++) {
		for (size_t j = i; j > 0 &&
		     rec_name_cmp(out.s[j - 1], out.len[j - 1], out.s[j],
		         out.len[j]) > 0;
		     j--) {
			const char *ts = out.s[j];
			uint32_t tl = out.len[j];
			out.s[j] = out.s[j - 1];
			out.len[j] = out.len[j - 1];
			out.s[j - 1] = ts;
			out.len[j - 1] = tl;
		}
	}
	if (out.n == 0) {
		msgpack_pack_nil(pk);
		return 1;
	}
	msgpack_pack_array(pk, (uint32_t)out.n);
	for (size_t i = 0; i < out.n; i++)
		msgpack_pack_str_with_body(pk, out.s[i], out.len[i]);
	return 1;
}

void
scope_pack(
    const struct schema_coll *c, const struct record *old, msgpack_packer *pk)
{
	struct names nm;

	if (c->scope != SCOPE_SCOPED || !collect(old, &nm, true) || nm.n == 0) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_array(pk, (uint32_t)nm.n);
	for (size_t i = 0; i < nm.n; i++)
		msgpack_pack_str_with_body(pk, nm.s[i], nm.len[i]);
}

bool
scope_ever_held(const struct schema_coll *c, const struct record *r,
    const char *name, size_t len)
{
	struct names nm;

	if (c->scope != SCOPE_SCOPED)
		return true;
	return collect(r, &nm, true) && names_has(&nm, name, len);
}

int
scope_origin(const struct record *r, char *out, size_t size)
{
	struct names nm = {.n = 0};

	field_names(&nm, r, TAG_ORIGIN_NODE);
	if (nm.n == 0 || nm.len[0] >= size)
		return 0;
	memcpy(out, nm.s[0], nm.len[0]);
	out[nm.len[0]] = '\0';
	return (int)nm.len[0];
}
