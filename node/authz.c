/*
 * authz.c - who may write what, judged on what a peer's state changes
 * (authz.h; the table is in PROTOCOL.md "Write authority").
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hlc.h"
#include "huff.h"
#include "mp.h"
#include "node.h"
#include "authz.h"
#include "sealrec.h"
#include "scope.h"

/* referral.status: the first field both ends of a referral write */
#define REFERRAL_TAG_STATUS 26

/* One judgement: the inputs and what we learnt of the record. */
struct az {
	const struct schema_coll *c;
	const struct record *old, *out, *rem;
	const struct authz_nodes *nodes;
	char owner[JALIN_NAME_MAX + 1]; /* origin_node; "" if unknown */
	size_t ownlen;
	bool owner_from_old; /* old held origin_node: it cannot change */
	bool isnew[JALIN_RECORD_DOTS_MAX]; /* out's dots old did not hold */
	uint64_t from_ms; /* write authority applies from then (ms) */
	enum authz_rule *rule;
	struct jalin_err *err;
};

static const char *const rule_names[AUTHZ_RULES] = {
    [AUTHZ_AUTHOR] = "authority",
    [AUTHZ_ORIGIN] = "origin",
    [AUTHZ_ERASE] = "erasure",
    [AUTHZ_SCHEMA] = "schema",
    [AUTHZ_SIGNATURE] = "signature",
};

const char *
authz_rule_name(enum authz_rule r)
{
	return (unsigned)r < AUTHZ_RULES && rule_names[r] ? rule_names[r] : "?";
}

static int refuse(struct az *a, enum authz_rule r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct az *a, enum authz_rule r, const char *fmt, ...)
{
	char msg[JALIN_ERRMSG_MAX - 16];
	va_list ap;

	if (a->rule != NULL)
		*a->rule = r;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return jalin_err_set(a->err,
	    r == AUTHZ_SCHEMA ? JALIN_ESCHEMA : JALIN_EPERM, "%s: %s",
	    authz_rule_name(r), msg);
}

/* The origin for messages. */
static const char *
owner(const struct az *a)
{
	return a->ownlen > 0 ? a->owner : "(unknown)";
}

static const char *
field_name(const struct schema_coll *c, uint16_t tag, char *buf, size_t n)
{
	const struct schema_field *f = schema_field_by_tag(c, tag);

	if (tag == TAG_DELETED)
		return "(delete)";
	if (f != NULL)
		return f->name;
	snprintf(buf, n, "tag %u", tag);
	return buf;
}

static bool
is_owner(const struct az *a, const struct rec_origin *who)
{
	return a->ownlen > 0 && a->ownlen == who->len &&
	    memcmp(a->owner, who->name, who->len) == 0;
}

static bool
is_all_cases(const struct az *a, const struct rec_origin *who)
{
	return a->nodes != NULL && a->nodes->all_cases != NULL &&
	    a->nodes->all_cases(a->nodes->arg, who->name, who->len);
}

/* Delete or purge: the origin, or an all_cases node for SCOPED records.
 * Of a record whose origin we do not know (we never held it) we hold
 * nothing a tombstone could take away. */
static bool
may_delete(const struct az *a, const struct rec_origin *who)
{
	if (a->ownlen == 0 || is_owner(a, who))
		return true;
	return a->c->scope == SCOPE_SCOPED && is_all_cases(a, who);
}

/* Fields only the origin (or an all_cases node) writes: who the record
 * goes to, under which law and for how long. */
static bool
origin_field(const struct schema_coll *c, uint16_t tag)
{
	switch (tag) {
	case TAG_CONTROLLER:
	case TAG_LEGAL_BASIS:
	case TAG_SHARE_WITH:
	case TAG_RETENTION_UNTIL:
	case TAG_CREATED_AT:
	case TAG_UNSHARED_FROM:
	case TAG_KEYS: /* who reads is who it is shared with */
		return true;
	default:
		/* a referral's request is its sender's; from status on
		 * (status, status_at, response_note, handover_doc, outcome,
		 * feedback_at) both ends write */
		return c->id == COLL_REFERRAL && tag >= TAG_FIRST_OWN &&
		    tag < REFERRAL_TAG_STATUS;
	}
}

static bool
may_write(const struct az *a, uint16_t tag, const struct rec_origin *who)
{
	if (is_owner(a, who))
		return true;
	/* an edit concurrent with a delete that took origin_node with it,
	 * met by a node that never held the record: whose it is cannot be
	 * known here, and nothing stored is at stake */
	if (a->ownlen == 0 && rec_has_delete(a->out))
		return true;
	if (a->c->scope != SCOPE_SCOPED)
		return false; /* lks, partnership, resource: the origin's */
	if (is_all_cases(a, who))
		return true;
	/* held by it before this state, or by what this state says (a
	 * node the origin just shared the record with) */
	return !origin_field(a->c, tag) &&
	    (scope_ever_held(a->c, a->old, who->name, who->len) ||
	        scope_ever_held(a->c, a->out, who->name, who->len));
}

/* Why may_write said no, for the message. */
static const char *
why_not(const struct az *a, uint16_t tag)
{
	if (a->c->scope != SCOPE_SCOPED)
		return "only its origin writes a record of this collection";
	if (origin_field(a->c, tag))
		return "only its origin or an all_cases node writes this field";
	return "a node the record is not shared with";
}

/* The plain value of an entry, or NULL if a coded string does not
 * decode. */
static const uint8_t *
plain(const struct rec_entry *e, struct buf *tmp, uint32_t *len)
{
	const uint8_t *v;

	if (rec_val_plain(e->val, e->vlen, tmp, &v, len) != 0)
		return NULL;
	return v;
}

/* A coded string value (record.h) whose text surely fits in max bytes:
 * a code of d bytes stands for at most 8 d / HF_MIN_BITS of text. */
static bool
coded_fits(const struct rec_entry *e, uint32_t max)
{
	const uint8_t *d;
	uint32_t dlen;
	int8_t type;
	struct mpr m;

	mpr_init(&m, e->val, e->vlen);
	return mpr_peek(&m) == MP_EXT && mpr_ext(&m, &type, &d, &dlen) == 0 &&
	    type == REC_CODED_EXT && 8ull * dlen / HF_MIN_BITS <= max;
}

static int
check_origin_node(
    struct az *a, const struct rec_entry *e, const struct rec_origin *who)
{
	uint8_t mem[JALIN_NAME_MAX + 16];
	struct buf t;
	uint32_t len;

	buf_init_mem(&t, mem, sizeof(mem), sizeof(mem));
	const uint8_t *v = plain(e, &t, &len);
	/* a str of the expected name: fixstr header, then the bytes */
	const char *want = a->owner_from_old ? a->owner : who->name;
	size_t wlen = a->owner_from_old ? a->ownlen : who->len;
	if (v != NULL && len == wlen + 1 && v[0] == (0xa0 | wlen) &&
	    memcmp(v + 1, want, wlen) == 0)
		return 0;
	if (a->owner_from_old)
		return refuse(a, AUTHZ_ORIGIN,
		    "%s.origin_node written by %.*s: a record's origin_node "
		    "(%s) never changes",
		    a->c->name, (int)who->len, who->name, a->owner);
	return refuse(a, AUTHZ_ORIGIN,
	    "%s.origin_node written by %.*s: a new record's origin_node must "
	    "name the node that wrote it",
	    a->c->name, (int)who->len, who->name);
}

/*
 * A data keys value, or an S! value that is sealed: 0 if its shape is
 * right, the refusal if not; 1 for a plain S! value (a 0.3 peer's, or
 * written before sealing): checked as any value.
 */
static int
check_sealed(struct az *a, const struct rec_entry *e,
    const struct schema_field *f, const struct rec_origin *who)
{
	struct jalin_err verr;
	const uint8_t *body;
	uint32_t blen;
	int rc;

	jalin_err_clear(&verr);
	if (f->type == ST_KEYS)
		rc = srec_keys_body(e->val, e->vlen, &body, &blen)
		    ? seal_keys_check(body, blen, &verr)
		    : jalin_err_set(&verr, JALIN_EPROTO, "not a keys value");
	else if (srec_sealed_body(e->val, e->vlen, &body, &blen))
		rc = seal_value_check(body, blen, &verr);
	else
		return 1;
	if (rc == 0)
		return 0;
	return refuse(a, AUTHZ_SCHEMA, "%s.%s written by %.*s: %s", a->c->name,
	    f->name, (int)who->len, who->name, verr.msg);
}

static int
check_value(struct az *a, const struct rec_entry *e,
    const struct schema_field *f, const struct rec_origin *who)
{
	uint8_t mem[1024];
	struct buf t;
	uint32_t len;
	int rc;

	if (e->vlen == 1 && e->val[0] == 0xc0) {
		if (!(f->flags & SF_REQUIRED))
			return 0;
		return refuse(a, AUTHZ_SCHEMA,
		    "%s.%s removed by %.*s: a required field cannot be "
		    "removed",
		    a->c->name, f->name, (int)who->len, who->name);
	}
	/* sealed S! values and data keys: their shape (seal.h); what is
	 * inside only their readers can see */
	if (f->type == ST_KEYS || srec_field_sealed(a->c, f)) {
		int sealed = check_sealed(a, e, f, who);
		if (sealed <= 0)
			return sealed;
	}
	/* free text, coded, that cannot be too long: decoding every string
	 * on the replication path would cost more than the rest of the
	 * check (its code is checked when it is read, record.h) */
	if (f->type == ST_STR && coded_fits(e, f->max))
		return 0;
	buf_init_mem(&t, mem, sizeof(mem), JALIN_VALUE_MAX);
	const uint8_t *v = plain(e, &t, &len);
	if (v == NULL) {
		buf_free(&t);
		/* free text whose code does not decode is kept as sent
		 * (PROTOCOL.md 8.1); anything else must be readable */
		if (f->type == ST_STR)
			return 0;
		return refuse(a, AUTHZ_SCHEMA,
		    "%s.%s written by %.*s: coded value does not decode",
		    a->c->name, f->name, (int)who->len, who->name);
	}
	struct jalin_err verr;
	jalin_err_clear(&verr);
	rc = schema_check_value(a->c, f, v, len, &verr);
	buf_free(&t);
	if (rc == JALIN_ENOMEM)
		return jalin_err_set(a->err, rc, "out of memory");
	if (rc == 0)
		return 0;
	if (a->rule != NULL)
		*a->rule = AUTHZ_SCHEMA;
	return jalin_err_set(a->err, JALIN_ESCHEMA, "schema: %.*s wrote %s",
	    (int)who->len, who->name, verr.msg);
}

/* One entry of a new write event. */
static int
check_entry(struct az *a, const struct rec_entry *e)
{
	const struct rec_dot *d = &a->out->dot[e->dot];
	const struct rec_origin *who = &a->out->origin[d->origin];
	const struct schema_field *f = schema_field_by_tag(a->c, e->tag);
	char nb[16];
	int rc;

	/* written before the federation turned write authority on: the
	 * schema alone (the rules then let any node write anything) */
	if (HLC_MS(d->hlc) < a->from_ms)
		return f != NULL && e->tag != TAG_DELETED
		    ? check_value(a, e, f, who)
		    : 0;

	if (e->tag == TAG_DELETED) {
		if (may_delete(a, who))
			return 0;
		return refuse(a, AUTHZ_AUTHOR,
		    "%s %s by %.*s: only its origin (%s)%s may delete or "
		    "purge it",
		    a->c->name, rec_is_purged(a->out) ? "purge" : "delete",
		    (int)who->len, who->name, owner(a),
		    a->c->scope == SCOPE_SCOPED ? " or an all_cases node" : "");
	}
	if (e->tag == TAG_ORIGIN_NODE &&
	    (rc = check_origin_node(a, e, who)) != 0)
		return rc;
	if (e->tag != TAG_ORIGIN_NODE && !may_write(a, e->tag, who))
		return refuse(a, AUTHZ_AUTHOR,
		    "%s.%s written by %.*s: %s (origin %s)", a->c->name,
		    field_name(a->c, e->tag, nb, sizeof(nb)), (int)who->len,
		    who->name, why_not(a, e->tag), owner(a));
	/* a field this node does not know (newer schema) passes as it is */
	return f != NULL ? check_value(a, e, f, who) : 0;
}

/* Does out hold the write event (name, hlc)? Its index, or -1. */
static int
dot_find(const struct record *r, const struct rec_origin *o, uint64_t hlc)
{
	int oi = rec_origin_find(r, o->name, o->len);

	if (oi < 0)
		return -1;
	/* dots are sorted by (origin, hlc): halve */
	size_t lo = 0, hi = r->ndots;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct rec_dot *d = &r->dot[mid];
		if (d->origin < oi || (d->origin == oi && d->hlc < hlc))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->ndots && r->dot[lo].origin == oi && r->dot[lo].hlc == hlc)
		return (int)lo;
	return -1;
}

/* Mark out's dots that old did not hold, and check what they write. */
static int
check_new(struct az *a)
{
	const struct record *out = a->out;
	int rc;

	for (size_t i = 0; i < out->ndots; i++)
		a->isnew[i] = dot_find(a->old, &out->origin[out->dot[i].origin],
		                  out->dot[i].hlc) < 0;
	for (size_t i = 0; i < out->nentries; i++)
		if (a->isnew[out->entry[i].dot] &&
		    (rc = check_entry(a, &out->entry[i])) != 0)
			return rc;
	return 0;
}

/* Is old's entry e (of dot od) still in out? */
static bool
kept(const struct az *a, const struct rec_entry *e)
{
	const struct rec_dot *od = &a->old->dot[e->dot];
	int d = dot_find(a->out, &a->old->origin[od->origin], od->hlc);
	size_t first, end;

	if (d < 0)
		return false;
	rec_field(a->out, e->tag, &first, &end);
	for (size_t i = first; i < end; i++)
		if (a->out->entry[i].dot == d)
			return true;
	return false;
}

/*
 * An entry of old that out lost must have been seen by a write out holds:
 * one with a higher HLC (HLCs never go backwards along causality) on the
 * same field, a delete, or a write by a node that may delete the record
 * (which may have deleted it and written again, clearing its delete).
 * A purge takes everything; its author was checked as a new event.
 */
static bool
justified(const struct az *a, const struct rec_entry *e)
{
	const struct record *out = a->out;
	uint64_t h = a->old->dot[e->dot].hlc;

	if (rec_is_purged(out))
		return true;
	for (size_t i = 0; i < out->nentries; i++) {
		const struct rec_entry *x = &out->entry[i];
		const struct rec_dot *d = &out->dot[x->dot];
		if (d->hlc <= h)
			continue;
		if (x->tag == e->tag || x->tag == TAG_DELETED ||
		    (a->ownlen > 0 && may_delete(a, &out->origin[d->origin])))
			return true;
	}
	return false;
}

static int
check_lost(struct az *a)
{
	const struct record *old = a->old;
	char nb[16];

	for (size_t i = 0; i < old->nentries; i++) {
		const struct rec_entry *e = &old->entry[i];
		if (kept(a, e) || justified(a, e))
			continue;
		const struct rec_origin *o =
		    &old->origin[old->dot[e->dot].origin];
		return refuse(a, AUTHZ_ERASE,
		    "%s.%s of %.*s lost without a write that saw it",
		    a->c->name, field_name(a->c, e->tag, nb, sizeof(nb)),
		    (int)o->len, o->name);
	}
	return 0;
}

/* A context raised above every write the state holds would make this
 * node drop the origin's next writes: an erasure in advance. */
static int
check_ctx(struct az *a)
{
	const struct record *out = a->out;
	uint64_t top = 0;

	for (size_t i = 0; i < out->ndots; i++)
		if (out->dot[i].hlc > top)
			top = out->dot[i].hlc;
	for (size_t i = 0; i < out->norigins; i++) {
		const struct rec_origin *o = &out->origin[i];
		int oi = rec_origin_find(a->old, o->name, o->len);
		uint64_t was = oi < 0 ? 0 : a->old->ctx[oi];
		if (out->ctx[i] > was && out->ctx[i] > top)
			return refuse(a, AUTHZ_ERASE,
			    "%s: context of %.*s raised above every write the "
			    "state holds",
			    a->c->name, (int)o->len, o->name);
	}
	return 0;
}

/* A record seen here for the first time carries its required fields,
 * unless a delete took some (a delete concurrent with an edit). */
static int
check_first(struct az *a)
{
	struct schema_kv kv[JALIN_RECORD_ENTRIES_MAX];
	const struct record *out = a->out;
	struct jalin_err verr;
	size_t n = 0;
	int rc;

	if (!rec_is_empty(a->old) || !rec_is_live(out) || rec_has_delete(out))
		return 0;
	for (size_t i = 0; i < out->nentries;) {
		size_t first, end;
		rec_field(out, out->entry[i].tag, &first, &end);
		const struct rec_entry *w =
		    &out->entry[rec_winner(out, first, end)];
		if (!(w->vlen == 1 && w->val[0] == 0xc0))
			kv[n++] = (struct schema_kv){w->tag, w->val, w->vlen};
		i = end;
	}
	jalin_err_clear(&verr);
	if ((rc = schema_check_record(a->c, kv, n, true, &verr)) == 0)
		return 0;
	if (a->rule != NULL)
		*a->rule = AUTHZ_SCHEMA;
	return jalin_err_set(
	    a->err, JALIN_ESCHEMA, "schema: new record: %s", verr.msg);
}

/* Who the record's origin is: what old says (it cannot change), else
 * what the result says (checked: written by that node itself). */
static void
find_owner(struct az *a)
{
	int n = scope_origin(a->old, a->owner, sizeof(a->owner));

	a->owner_from_old = n > 0;
	if (n == 0)
		n = scope_origin(a->out, a->owner, sizeof(a->owner));
	if (n == 0)
		a->owner[0] = '\0';
	a->ownlen = (size_t)n;
}

int
authz_check(const struct schema_coll *c, const struct record *old,
    const struct record *out, const struct record *rem,
    const struct authz_nodes *nodes, enum authz_rule *rule,
    struct jalin_err *err)
{
	struct az a = {.c = c,
	    .old = old,
	    .out = out,
	    .rem = rem,
	    .nodes = nodes,
	    .rule = rule,
	    .err = err};
	int rc;

	if (rule != NULL)
		*rule = 0;
	if (nodes != NULL && nodes->authority_from != NULL)
		a.from_ms = nodes->authority_from(nodes->arg);
	find_owner(&a);
	/* what was lost first: an erasure is the graver charge */
	if ((rc = check_lost(&a)) != 0 || (rc = check_ctx(&a)) != 0 ||
	    (rc = check_new(&a)) != 0 || (rc = check_first(&a)) != 0)
		return rc;
	return 0;
}

bool
authz_node_all_cases(void *node, const char *name, size_t len)
{
	const struct cfg *cfg = ((const struct node *)node)->cfg;

	if (strlen(cfg->name) == len && memcmp(cfg->name, name, len) == 0)
		return cfg->all_cases;
	for (unsigned i = 0; i < cfg->npeers; i++) {
		const struct cfg_peer *p = &cfg->peers[i];
		if (strlen(p->name) == len && memcmp(p->name, name, len) == 0)
			return p->all_cases;
	}
	return cfg_all_cases_listed(cfg, name, len);
}

uint64_t
authz_node_authority_from(void *node)
{
	return ((const struct node *)node)->cfg->write_authority_from * 1000ull;
}
