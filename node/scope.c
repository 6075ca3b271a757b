/*
 * scope.c - the sharing scope of a record, from its own fields.
 */
#include <string.h>

#include "mp.h"
#include "scope.h"

#define SCOPE_NAMES_MAX 64

struct names {
	const char *s[SCOPE_NAMES_MAX];
	uint32_t len[SCOPE_NAMES_MAX];
	size_t n;
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
	names_from(nm, w->val, w->vlen);
}

/* Collect the scope; returns false for a purge of unknown scope. */
static bool
collect(const struct record *r, struct names *nm)
{
	bool purged = rec_is_purged(r);
	struct rec_tomb t;

	nm->n = 0;
	if (!purged) {
		field_names(nm, r, TAG_ORIGIN_NODE);
		field_names(nm, r, TAG_SHARE_WITH);
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

bool
scope_allows(const struct schema_coll *c, const struct record *r,
    const char *name, size_t len)
{
	struct names nm;

	if (c->scope != SCOPE_SCOPED)
		return true;
	if (!collect(r, &nm))
		return true; /* a purge that holds no data and no scope */
	for (size_t i = 0; i < nm.n; i++) {
		if (nm.len[i] == len && memcmp(nm.s[i], name, len) == 0)
			return true;
	}
	return false;
}

void
scope_pack(
    const struct schema_coll *c, const struct record *old, msgpack_packer *pk)
{
	struct names nm;

	if (c->scope != SCOPE_SCOPED || !collect(old, &nm) || nm.n == 0) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_array(pk, (uint32_t)nm.n);
	for (size_t i = 0; i < nm.n; i++)
		msgpack_pack_str_with_body(pk, nm.s[i], nm.len[i]);
}
