/*
 * view.c - render record states in the client (JSON-shaped) form.
 */
#include <stdio.h>
#include <string.h>

#include "hlc.h"
#include "mp.h"
#include "sealrec.h"
#include "view.h"

void
view_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

void
view_time(msgpack_packer *pk, uint64_t hlc)
{
	char t[32];

	if (hlc_format(hlc, t, sizeof(t)) != 0)
		t[0] = '\0';
	view_str(pk, t);
}

static size_t
begin32(struct buf *b, uint8_t type)
{
	static const uint8_t zero[4];
	size_t mark = b->len;

	if (buf_append(b, &type, 1) != 0 || buf_append(b, zero, 4) != 0)
		b->err = JALIN_ETOOBIG;
	return mark;
}

size_t
view_map_begin(struct buf *b)
{
	return begin32(b, 0xdf);
}

size_t
view_array_begin(struct buf *b)
{
	return begin32(b, 0xdd);
}

void
view_patch(struct buf *b, size_t mark, uint32_t n)
{
	if (b->err != 0 || mark + 5 > b->len)
		return;
	b->p[mark + 1] = (uint8_t)(n >> 24);
	b->p[mark + 2] = (uint8_t)(n >> 16);
	b->p[mark + 3] = (uint8_t)(n >> 8);
	b->p[mark + 4] = (uint8_t)n;
}

const char *
view_state(const struct record *r)
{
	if (rec_is_purged(r))
		return "purged";
	return rec_is_live(r) ? "live" : "deleted";
}

const char *
view_field_name(const struct schema_coll *c, uint16_t tag, char *buf, size_t n)
{
	const struct schema_field *f = schema_field_by_tag(c, tag);

	if (f != NULL)
		return f->name;
	snprintf(buf, n, "_tag%u", (unsigned)tag);
	return buf;
}

static void
pack_key(msgpack_packer *pk, const struct schema_coll *c, uint16_t tag)
{
	char nb[16];

	view_str(pk, view_field_name(c, tag, nb, sizeof(nb)));
}

/* The record being shown, for pack_value. */
struct vrec {
	const struct schema_coll *c;
	const uint8_t *id;
	const struct record *r;
	const struct view_open *op;
};

/* A sealed value as its reader sees it, or "(encrypted)". */
static void
pack_sealed(
    msgpack_packer *pk, const struct vrec *vr, const struct rec_entry *e)
{
	uint8_t mem[512], mem2[512];
	const uint8_t *v;
	uint32_t vlen;
	struct buf t, t2;

	/* opened: the value's state form (a string may be coded) */
	buf_init_mem(&t, mem, sizeof(mem), JALIN_VALUE_MAX);
	buf_init_mem(&t2, mem2, sizeof(mem2), JALIN_VALUE_MAX);
	if (vr->op == NULL || vr->op->open == NULL ||
	    vr->op->open(vr->op->arg, vr->c, vr->id, vr->r, e->tag, e->val,
	        e->vlen, &t) != 0 ||
	    rec_val_plain(t.p, (uint32_t)t.len, &t2, &v, &vlen) != 0 ||
	    schema_display(schema_field_by_tag(vr->c, e->tag), v, vlen, pk) !=
	        0)
		view_str(pk, "(encrypted)");
	buf_free(&t);
	buf_free(&t2);
}

static void
pack_value(msgpack_packer *pk, const struct vrec *vr, const struct rec_entry *e)
{
	uint8_t mem[512];
	const uint8_t *v;
	uint32_t vlen;
	struct buf t;

	if (e->vlen == 1 && e->val[0] == 0xc0) {
		msgpack_pack_nil(pk);
		return;
	}
	const uint8_t *body;
	uint32_t blen;
	if (srec_sealed_body(e->val, e->vlen, &body, &blen)) {
		pack_sealed(pk, vr, e);
		return;
	}
	if (srec_keys_body(e->val, e->vlen, &body, &blen)) {
		view_str(pk, "(data keys)");
		return;
	}
	buf_init_mem(&t, mem, sizeof(mem), JALIN_VALUE_MAX);
	if (rec_val_plain(e->val, e->vlen, &t, &v, &vlen) != 0 ||
	    schema_display(schema_field_by_tag(vr->c, e->tag), v, vlen, pk) !=
	        0)
		view_str(pk, "(undecodable value)");
	buf_free(&t);
}

static void
pack_origin(msgpack_packer *pk, const struct record *r, uint16_t o)
{
	msgpack_pack_str_with_body(pk, r->origin[o].name, r->origin[o].len);
}

/* {"value", "hlc", "at", "origin"} of one entry. */
static void
pack_version(
    msgpack_packer *pk, const struct vrec *vr, const struct rec_entry *e)
{
	const struct record *r = vr->r;
	const struct rec_dot *d = &r->dot[e->dot];

	msgpack_pack_map(pk, 4);
	view_str(pk, "value");
	pack_value(pk, vr, e);
	view_str(pk, "hlc");
	msgpack_pack_uint64(pk, d->hlc);
	view_str(pk, "at");
	view_time(pk, d->hlc);
	view_str(pk, "origin");
	pack_origin(pk, r, d->origin);
}

static void
pack_id(msgpack_packer *pk, const uint8_t id[UUID_LEN])
{
	char s[UUID_STR_LEN + 1];

	uuid_format(id, s);
	view_str(pk, "id");
	view_str(pk, s);
}

/* Walk the fields (tag >= 1): fn(winner, first, end) per field. */
#define FOR_FIELDS(r, i, end)                                   \
	for (size_t i = 0, end = 0; i < (r)->nentries; i = end) \
		if (((end = field_end(r, i)), 1) &&             \
		    (r)->entry[i].tag != TAG_DELETED)

static size_t
field_end(const struct record *r, size_t i)
{
	size_t end = i;

	while (end < r->nentries && r->entry[end].tag == r->entry[i].tag)
		end++;
	return end;
}

static bool
is_nil(const struct rec_entry *e)
{
	return e->vlen == 1 && e->val[0] == 0xc0;
}

/* The winning non-nil value of each field as name/value pairs (the data
 * keys are the node's, not the record's: left out). */
static uint32_t
plain_pairs(msgpack_packer *pk, const struct vrec *vr)
{
	const struct record *r = vr->r;
	uint32_t n = 0;

	FOR_FIELDS(r, i, end)
	{
		const struct rec_entry *w = &r->entry[rec_winner(r, i, end)];
		if (is_nil(w) || w->tag == TAG_KEYS)
			continue;
		pack_key(pk, vr->c, w->tag);
		pack_value(pk, vr, w);
		n++;
	}
	return n;
}

static void
view_fields_versions(
    msgpack_packer *pk, struct buf *b, const struct vrec *vr, bool losers)
{
	const struct schema_coll *c = vr->c;
	const struct record *r = vr->r;
	size_t mark = view_map_begin(b);
	uint32_t n = 0;

	FOR_FIELDS(r, i, end)
	{
		size_t w = rec_winner(r, i, end);
		if (losers && end - i < 2)
			continue;
		pack_key(pk, c, r->entry[i].tag);
		n++;
		if (!losers) {
			pack_version(pk, vr, &r->entry[w]);
			continue;
		}
		msgpack_pack_array(pk, (uint32_t)(end - i - 1));
		for (size_t k = i; k < end; k++)
			if (k != w)
				pack_version(pk, vr, &r->entry[k]);
	}
	view_patch(b, mark, n);
}

/* The reason of a delete or purge, nil if none. */
static void
pack_reason(
    msgpack_packer *pk, const struct record *r, const struct rec_entry *e)
{
	struct rec_tomb t;

	if (rec_tomb_parse(e, rec_is_purged(r), &t) == 0 && t.reason != NULL)
		msgpack_pack_str_with_body(pk, t.reason, t.reason_len);
	else
		msgpack_pack_nil(pk);
}

/* Deletes (or the purge) as [{"hlc","at","origin","reason"}]. */
static void
view_deletes(msgpack_packer *pk, const struct record *r)
{
	size_t n = 0;

	while (n < r->nentries && r->entry[n].tag == TAG_DELETED)
		n++;
	msgpack_pack_array(pk, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct rec_entry *e = &r->entry[i];
		const struct rec_dot *d = &r->dot[e->dot];
		msgpack_pack_map(pk, 4);
		view_str(pk, "hlc");
		msgpack_pack_uint64(pk, d->hlc);
		view_str(pk, "at");
		view_time(pk, d->hlc);
		view_str(pk, "origin");
		pack_origin(pk, r, d->origin);
		view_str(pk, "reason");
		pack_reason(pk, r, e);
	}
}

static void
view_versions(msgpack_packer *pk, struct buf *b, const struct vrec *vr)
{
	const struct record *r = vr->r;

	msgpack_pack_map(pk, 5);
	view_str(pk, "fields");
	view_fields_versions(pk, b, vr, false);
	view_str(pk, "conflicts");
	view_fields_versions(pk, b, vr, true);
	view_str(pk, "deletes");
	view_deletes(pk, r);
	view_str(pk, "context");
	msgpack_pack_map(pk, r->norigins);
	for (uint16_t i = 0; i < r->norigins; i++) {
		pack_origin(pk, r, i);
		msgpack_pack_uint64(pk, r->ctx[i]);
	}
	view_str(pk, "updated_at");
	view_time(pk, rec_max_hlc(r));
}

int
view_record(msgpack_packer *pk, struct buf *b, const struct schema_coll *c,
    const uint8_t id[UUID_LEN], const struct record *r, unsigned flags,
    const struct view_open *op)
{
	const struct vrec vr = {c, id, r, op};

	if (flags & VIEW_VERSIONS) {
		msgpack_pack_map(pk, 4);
		view_str(pk, "collection");
		view_str(pk, c->name);
		pack_id(pk, id);
		view_str(pk, "state");
		view_str(pk, view_state(r));
		view_str(pk, "versions");
		view_versions(pk, b, &vr);
		return b->err;
	}
	/* The plain form is one flat object: id, collection, fields. */
	size_t mark = view_map_begin(b);
	uint32_t n = 1;
	pack_id(pk, id);
	if (flags & VIEW_COLL) {
		view_str(pk, "collection");
		view_str(pk, c->name);
		n++;
	}
	n += plain_pairs(pk, &vr);
	view_patch(b, mark, n);
	return b->err;
}

static void
conflict_head(msgpack_packer *pk, const struct schema_coll *c,
    const uint8_t id[UUID_LEN], const char *field)
{
	msgpack_pack_map(pk, 7);
	view_str(pk, "collection");
	view_str(pk, c->name);
	pack_id(pk, id);
	view_str(pk, "field");
	view_str(pk, field);
}

static void
conflict_winner(
    msgpack_packer *pk, const struct vrec *vr, const struct rec_entry *w)
{
	const struct record *r = vr->r;

	view_str(pk, "value");
	pack_value(pk, vr, w);
	view_str(pk, "origin");
	pack_origin(pk, r, r->dot[w->dot].origin);
	view_str(pk, "at");
	view_time(pk, r->dot[w->dot].hlc);
}

unsigned
view_conflicts(msgpack_packer *pk, const struct schema_coll *c,
    const uint8_t id[UUID_LEN], const struct record *r,
    const struct view_open *op)
{
	const struct vrec vr = {c, id, r, op};
	unsigned n = 0;
	char nb[16];

	if (rec_is_purged(r))
		return 0;
	FOR_FIELDS(r, i, end)
	{
		size_t w = rec_winner(r, i, end);
		if (end - i < 2)
			continue;
		conflict_head(pk, c, id,
		    view_field_name(c, r->entry[i].tag, nb, sizeof(nb)));
		conflict_winner(pk, &vr, &r->entry[w]);
		view_str(pk, "others");
		msgpack_pack_array(pk, (uint32_t)(end - i - 1));
		for (size_t k = i; k < end; k++)
			if (k != w)
				pack_version(pk, &vr, &r->entry[k]);
		n++;
	}
	if (rec_has_delete(r) && rec_is_live(r)) {
		conflict_head(pk, c, id, "(deleted)");
		view_str(pk, "value");
		view_str(pk, "record kept: edited concurrently with a delete");
		view_str(pk, "origin");
		msgpack_pack_nil(pk);
		view_str(pk, "at");
		view_time(pk, rec_max_hlc(r));
		view_str(pk, "others");
		view_deletes(pk, r);
		n++;
	}
	return n;
}
