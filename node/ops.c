/*
 * ops.c - validate local writes, queue them, apply them in one commit.
 *
 * A request becomes a job: its records (op, collection, id) and, for puts,
 * the canonical field values, already checked against the schema. Jobs
 * wait in a queue until the flush event runs: then all of them go through
 * merge_* inside one store_write(), and after the durable commit each is
 * answered. Field values are never logged.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <msgpack.h>

#include "hlc.h"
#include "log.h"
#include "merge.h"
#include "mp.h"
#include "ops.h"
#include "query.h"
#include "schema.h"
#include "scope.h"
#include "uuid.h"
#include "view.h"

enum {
	OP_PUT = 1,
	OP_DELETE,
	OP_PURGE
};

#define NO_VALUE UINT32_MAX /* update offset meaning "remove the field" */

struct op_rec {
	uint8_t op;
	bool have_id;
	const struct schema_coll *c;
	uint8_t id[UUID_LEN];
	uint32_t up_first, nups;
	uint32_t roff, rlen; /* delete/purge reason in vals (rlen 0: none) */
	bool has_hash;       /* purge: erasure request hash given */
	uint8_t hash[32];
	int parse_rc; /* validation result before the store */
	int rc;       /* final result */
	bool changed;
	char *msg; /* error text, owned */
};

struct job {
	TAILQ_ENTRY(job) link;
	struct ops_task task; /* set for tasks (type 0) */
	uint64_t type, reqid;
	bool stop;
	ops_done_fn done;
	void *ctx;
	struct op_rec *recs;
	size_t nrec;
	struct merge_update *ups;
	size_t nups, upcap;
	struct buf vals;
	size_t stopped_at; /* index of the record that stopped an import */
};

TAILQ_HEAD(jobq, job);

struct ops {
	struct event_base *base;
	struct store *store;
	struct event *flush_ev;
	struct jobq q;
	struct jobq answering; /* committed jobs being answered */
	size_t pending;
	struct uuidgen ug;
	struct buf resp;
	struct buf sys;           /* system field values for one put */
	struct merge_update *tmp; /* updates + system fields for one put */
	struct crypt *crypt;      /* seals S! values; NULL: none */
	struct buf plain;         /* sealed values opened for the rules */
	unsigned unwrapped;       /* readers of the last put left without a
	                             wrap (their key is unknown) */
	struct schema_kv *kv;
	void (*committed)(void *arg);
	void *hook_arg;
	struct authz_nodes authz; /* all_cases nodes, for write authority */
};

static void flush_cb(evutil_socket_t fd, short what, void *arg);

struct ops *
ops_new(struct event_base *base, struct store *store)
{
	struct ops *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->base = base;
	o->store = store;
	TAILQ_INIT(&o->q);
	TAILQ_INIT(&o->answering);
	uuidgen_init(&o->ug);
	buf_init(&o->resp, JALIN_FRAME_MAX);
	buf_init(&o->sys, 64u << 10);
	buf_init(&o->plain, JALIN_RECORD_MAX + 64);
	o->tmp = calloc(CRYPT_UPDATES_MAX, sizeof(*o->tmp));
	o->kv = calloc(JALIN_RECORD_ENTRIES_MAX, sizeof(*o->kv));
	o->flush_ev = event_new(base, -1, 0, flush_cb, o);
	if (o->tmp == NULL || o->kv == NULL || o->flush_ev == NULL) {
		ops_free(o);
		return NULL;
	}
	/* After the I/O of a loop round: that is what groups the commits.
	 * Priority 1 of main.c's 2 is also libevent's default for new events
	 * (nprios / 2), so I/O callbacks share it: the flush runs after them
	 * because an event activated from a callback joins the end of the
	 * active queue, not because of its priority. */
	event_priority_set(o->flush_ev, 1);
	return o;
}

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->nrec; i++)
		free(j->recs[i].msg);
	free(j->recs);
	free(j->ups);
	buf_free(&j->vals);
	free(j);
}

void
ops_free(struct ops *o)
{
	struct job *j;

	if (o == NULL)
		return;
	/* answers may queue more (a peer's next frame); stop after a few */
	for (int i = 0; i < 4 && !TAILQ_EMPTY(&o->q); i++)
		ops_flush(o);
	while ((j = TAILQ_FIRST(&o->q)) != NULL) {
		/* not answered: their submitters may be gone by now */
		TAILQ_REMOVE(&o->q, j, link);
		log_warnx("store: a write request queued at shutdown was "
		          "dropped");
		job_free(j);
	}
	if (o->flush_ev != NULL)
		event_free(o->flush_ev);
	buf_free(&o->resp);
	buf_free(&o->sys);
	buf_free(&o->plain);
	free(o->tmp);
	free(o->kv);
	free(o);
}

size_t
ops_pending(const struct ops *o)
{
	return o->pending;
}

static void
rec_fail(struct op_rec *r, int rc, const struct jalin_err *err)
{
	r->parse_rc = r->rc = rc;
	free(r->msg);
	r->msg = strdup(jalin_err_msg(err, rc));
}

static int
add_update(struct job *j, uint16_t tag, uint32_t off, uint32_t len)
{
	if (j->nups == j->upcap) {
		size_t ncap = j->upcap ? j->upcap * 2 : 16;
		void *p = realloc(j->ups, ncap * sizeof(*j->ups));
		if (p == NULL)
			return JALIN_ENOMEM;
		j->ups = p;
		j->upcap = ncap;
	}
	/* Offsets until the values buffer stops moving (fix_pointers). */
	j->ups[j->nups++] =
	    (struct merge_update){tag, len, (const uint8_t *)(uintptr_t)off};
	return 0;
}

static int
cmp_update(const void *a, const void *b)
{
	const struct merge_update *x = a, *y = b;

	return (x->tag > y->tag) - (x->tag < y->tag);
}

/*
 * Values are compared with stored ones and stored in their state form
 * (record.h): a string that codes shorter is replaced, in b, by its code.
 */
static int
code_in_place(struct buf *b, size_t off)
{
	uint8_t mem[512];
	struct buf t;
	int rc;

	buf_init_mem(&t, mem, sizeof(mem), JALIN_VALUE_MAX + 16);
	rc = rec_val_canon(b->p + off, (uint32_t)(b->len - off), &t);
	if (rc == 0 && t.len < b->len - off) {
		memcpy(b->p + off, t.p, t.len);
		b->len = off + t.len;
	}
	buf_free(&t);
	return rc;
}

/* One "name": value pair of a put's fields. */
static int
parse_field(struct job *j, struct op_rec *r, struct mpr *m, msgpack_packer *pk,
    struct jalin_err *err)
{
	const struct schema_field *f;
	const uint8_t *v;
	const char *name;
	uint32_t nlen;
	size_t vlen, off;
	int rc;

	if (mpr_str(m, &name, &nlen) != 0 || mpr_raw(m, &v, &vlen) != 0)
		return jalin_err_set(err, JALIN_EINVAL,
		    "%s: field names must be strings", r->c->name);
	if ((f = schema_field_by_name(r->c, name, nlen)) == NULL)
		return jalin_err_set(err, JALIN_ESCHEMA,
		    "%s: unknown field '%.*s'", r->c->name,
		    (int)(nlen > JALIN_FIELD_NAME_MAX ? JALIN_FIELD_NAME_MAX
		                                      : nlen),
		    name);
	if (vlen == 1 && v[0] == 0xc0)
		return add_update(j, f->tag, NO_VALUE, 0);
	off = j->vals.len;
	if ((rc = schema_coerce(r->c, f, v, vlen, pk, err)) != 0)
		return rc;
	if (j->vals.err != 0)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "%s.%s: value too large", r->c->name, f->name);
	if ((rc = code_in_place(&j->vals, off)) != 0)
		return jalin_err_set(err, rc, "%s.%s: %s", r->c->name, f->name,
		    jalin_strerror(rc));
	return add_update(
	    j, f->tag, (uint32_t)off, (uint32_t)(j->vals.len - off));
}

/* The "name": value pairs of a put, read from m. */
static int
parse_fields_at(
    struct job *j, struct op_rec *r, struct mpr *m, struct jalin_err *err)
{
	msgpack_packer pk;
	uint32_t n;
	int rc;

	if (mpr_map(m, &n) != 0)
		return jalin_err_set(err, JALIN_EINVAL,
		    "%s: the record must be a JSON object", r->c->name);
	if (n > JALIN_RECORD_ENTRIES_MAX)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "%s: %u fields exceeds the limit of %d", r->c->name, n,
		    JALIN_RECORD_ENTRIES_MAX);
	msgpack_packer_init(&pk, &j->vals, buf_pk_write);
	r->up_first = (uint32_t)j->nups;
	for (uint32_t i = 0; i < n; i++) {
		if ((rc = parse_field(j, r, m, &pk, err)) != 0)
			return rc;
	}
	r->nups = (uint32_t)(j->nups - r->up_first);
	if (r->nups > 1) /* with no field at all, ups may still be NULL */
		qsort(
		    j->ups + r->up_first, r->nups, sizeof(*j->ups), cmp_update);
	for (uint32_t i = 1; i < r->nups; i++) {
		if (j->ups[r->up_first + i].tag ==
		    j->ups[r->up_first + i - 1].tag)
			return jalin_err_set(err, JALIN_EINVAL,
			    "%s: a field is given twice", r->c->name);
	}
	return 0;
}

static int
parse_fields(struct job *j, struct op_rec *r, const uint8_t *fields, size_t len,
    struct jalin_err *err)
{
	struct mpr m;
	int rc;

	if (fields == NULL)
		return jalin_err_set(err, JALIN_EINVAL,
		    "%s: the record must be a JSON object", r->c->name);
	mpr_init(&m, fields, len);
	if ((rc = parse_fields_at(j, r, &m, err)) != 0)
		return rc;
	if (mpr_left(&m) != 0)
		return jalin_err_set(err, JALIN_EPROTO,
		    "request: %zu bytes after the fields", mpr_left(&m));
	return 0;
}

static int
parse_hash(const uint8_t *raw, size_t len, uint8_t h[32], struct jalin_err *err)
{
	struct mpr m;
	const char *s;
	const uint8_t *b;
	uint32_t n;

	mpr_init(&m, raw, len);
	if (mpr_peek(&m) == MP_BIN) {
		if (mpr_bin(&m, &b, &n) == 0 && n == 32) {
			memcpy(h, b, 32);
			return 0;
		}
	} else if (mpr_str(&m, &s, &n) == 0 && n == 64 &&
	    hex_decode(s, n, h, 32) == 0) {
		return 0;
	}
	return jalin_err_set(err, JALIN_EINVAL,
	    "the erasure request hash must be 64 hex characters (SHA-256)");
}

static bool
known_reason(const char *reason, uint32_t len)
{
	for (size_t i = 0; schema_deletion_reasons[i] != NULL; i++) {
		if (strlen(schema_deletion_reasons[i]) == len &&
		    memcmp(schema_deletion_reasons[i], reason, len) == 0)
			return true;
	}
	return false;
}

/* Reason and request hash of a delete/purge; the tombstone value itself
 * is built in the transaction, where the record's scope is known. */
static int
parse_tombstone(struct job *j, struct op_rec *r, const struct msg_req *q,
    struct jalin_err *err)
{
	int rc;

	if (q->reason != NULL && !known_reason(q->reason, q->reason_len))
		return jalin_err_set(err, JALIN_EINVAL,
		    "reason must be one of erasure_request, retention_expired,"
		    " unlawful, duplicate, error");
	if (q->hash != NULL && r->op != OP_PURGE)
		return jalin_err_set(err, JALIN_EINVAL,
		    "a request hash is only recorded by purge");
	if (q->hash != NULL &&
	    (rc = parse_hash(q->hash, q->hash_len, r->hash, err)) != 0)
		return rc;
	r->has_hash = q->hash != NULL;
	r->roff = (uint32_t)j->vals.len;
	r->rlen = q->reason ? q->reason_len : 0;
	return buf_append(&j->vals, q->reason, r->rlen);
}

static int
parse_target(struct op_rec *r, const char *coll, uint32_t clen,
    const uint8_t *id, size_t idlen, struct jalin_err *err)
{
	if (coll == NULL)
		return jalin_err_set(err, JALIN_EINVAL, "no collection given");
	if ((r->c = query_coll(coll, clen, err)) == NULL)
		return JALIN_EINVAL;
	if (id == NULL || (idlen == 1 && id[0] == 0xc0))
		return 0;
	r->have_id = true;
	return query_id(id, idlen, r->id, err);
}

/* A single put/delete/purge request is one record. */
static int
parse_single(struct job *j, const struct msg_req *q, struct jalin_err *err)
{
	struct op_rec *r = &j->recs[0];
	int rc;

	j->nrec = 1;
	r->op = q->type == MSG_PUT  ? OP_PUT
	    : q->type == MSG_DELETE ? OP_DELETE
	                            : OP_PURGE;
	if ((rc = parse_target(
	         r, q->coll, q->coll_len, q->id, q->id_len, err)) != 0)
		return rc;
	if (r->op != OP_PUT && !r->have_id)
		return jalin_err_set(err, JALIN_EINVAL, "no record id given");
	if (r->op == OP_PUT)
		return parse_fields(j, r, q->fields, q->fields_len, err);
	return parse_tombstone(j, r, q, err);
}

/* One [coll, id or nil, fields] item of an import, read from m. */
static int
parse_item(
    struct job *j, struct op_rec *r, struct mpr *m, struct jalin_err *err)
{
	const char *coll;
	const uint8_t *id = NULL;
	size_t idlen = 0;
	uint32_t n, clen;
	int rc;

	r->op = OP_PUT;
	if (mpr_array(m, &n) != 0 || n != 3 || mpr_str(m, &coll, &clen) != 0)
		return jalin_err_set(err, JALIN_EPROTO,
		    "import: each record must be [collection, id, fields]");
	if (mpr_raw(m, &id, &idlen) != 0)
		return jalin_err_set(err, JALIN_EPROTO, "import: bad record");
	if ((rc = parse_target(r, coll, clen, id, idlen, err)) != 0)
		return rc;
	return parse_fields_at(j, r, m, err);
}

/*
 * An import: every record is validated; a bad one is marked and the rest
 * go on, or with stop set nothing after it is looked at.
 */
static int
parse_import(struct job *j, const struct msg_req *q, struct jalin_err *err)
{
	struct jalin_err rerr;
	struct mpr m, skip;
	uint32_t n;

	mpr_init(&m, q->records, q->records_len);
	if (q->records == NULL || mpr_array(&m, &n) != 0)
		return jalin_err_set(err, JALIN_EINVAL, "import: no records");
	if (n > JALIN_BATCH_RECORDS_MAX)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "import: %u records in one batch exceeds the limit of %d",
		    n, JALIN_BATCH_RECORDS_MAX);
	if ((j->recs = calloc(n ? n : 1, sizeof(*j->recs))) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	j->nrec = n;
	j->stopped_at = SIZE_MAX;
	for (uint32_t i = 0; i < n; i++) {
		int rc;
		skip = m;
		jalin_err_clear(&rerr);
		if ((rc = parse_item(j, &j->recs[i], &m, &rerr)) == 0)
			continue;
		rec_fail(&j->recs[i], rc, &rerr);
		if (rc == JALIN_EPROTO || j->stop) {
			j->stopped_at = i;
			j->nrec = i + 1;
			break;
		}
		m = skip;
		if (mpr_skip(&m) != 0)
			return jalin_err_set(
			    err, JALIN_EPROTO, "import: bad record %u", i);
	}
	return 0;
}

static void
fix_pointers(struct job *j)
{
	for (size_t i = 0; i < j->nups; i++) {
		uintptr_t off = (uintptr_t)j->ups[i].val;
		j->ups[i].val = off == NO_VALUE ? NULL : j->vals.p + off;
	}
}

static struct job *
job_new(const struct msg_req *q, ops_done_fn done, void *ctx)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->type = q->type;
	j->reqid = q->reqid;
	j->stop = q->stop;
	j->done = done;
	j->ctx = ctx;
	j->stopped_at = SIZE_MAX;
	buf_init(&j->vals, JALIN_FRAME_MAX);
	if (q->type != MSG_IMPORT &&
	    (j->recs = calloc(1, sizeof(*j->recs))) == NULL) {
		free(j);
		return NULL;
	}
	return j;
}

int
ops_submit(struct ops *o, const struct msg_req *q, ops_done_fn done, void *ctx)
{
	struct jalin_err err;
	struct job *j;
	int rc;

	jalin_err_clear(&err);
	if ((j = job_new(q, done, ctx)) == NULL)
		return JALIN_ENOMEM;
	rc = q->type == MSG_IMPORT ? parse_import(j, q, &err)
	                           : parse_single(j, q, &err);
	if (rc != 0) {
		msg_resp_error(&o->resp, q->reqid, rc, jalin_err_msg(&err, rc));
		done(ctx, o->resp.p, o->resp.len);
		job_free(j);
		return 0;
	}
	fix_pointers(j);
	TAILQ_INSERT_TAIL(&o->q, j, link);
	if (o->pending++ == 0)
		event_active(o->flush_ev, 0, 0);
	return 0;
}

void
ops_cancel(struct ops *o, void *ctx)
{
	struct job *j;

	TAILQ_FOREACH (j, &o->q, link) {
		if (j->ctx == ctx)
			j->done = NULL;
	}
	TAILQ_FOREACH (j, &o->answering, link) {
		if (j->ctx == ctx)
			j->done = NULL;
	}
}

/* Record-level rules need the live fields of the new state. */
static size_t
live_kv(const struct record *r, struct schema_kv *kv)
{
	size_t n = 0, i = 0;

	while (i < r->nentries) {
		size_t end = i;
		while (
		    end < r->nentries && r->entry[end].tag == r->entry[i].tag)
			end++;
		const struct rec_entry *w = &r->entry[rec_winner(r, i, end)];
		if (w->tag != TAG_DELETED &&
		    !(w->vlen == 1 && w->val[0] == 0xc0))
			kv[n++] = (struct schema_kv){w->tag, w->val, w->vlen};
		i = end;
	}
	return n;
}

/*
 * The updates of a put plus, on create, the system fields the client did
 * not give (origin_node, created_at). System fields may not be changed
 * once set.
 */
static int
with_system(struct ops *o, const struct op_rec *r, const struct job *j,
    const struct record *old, bool creating, uint64_t hlc, size_t *n,
    struct jalin_err *err)
{
	const struct merge_update *u = j->ups + r->up_first;
	const char *node = store_node(o->store);
	const struct merge_update *share = NULL;
	msgpack_packer pk;
	bool has_origin = false, has_created = false;
	size_t k = 0;

	for (size_t i = 0; i < r->nups; i++) {
		const struct schema_field *f =
		    schema_field_by_tag(r->c, u[i].tag);
		size_t a, b;
		if (u[i].tag == TAG_UNSHARED_FROM && !creating) {
			if (rec_field(old, u[i].tag, &a, &b) == 0 ||
			    u[i].val == NULL ||
			    old->entry[a].vlen != u[i].vlen ||
			    memcmp(old->entry[a].val, u[i].val, u[i].vlen) != 0)
				return jalin_err_set(err, JALIN_ESCHEMA,
				    "%s.unshared_from: set by the node when "
				    "share_with loses a node",
				    r->c->name);
			continue; /* the same as stored: nothing to write */
		}
		if (f != NULL && (f->flags & SF_SYSTEM) && !creating &&
		    rec_field(old, u[i].tag, &a, &b) > 0 &&
		    (u[i].val == NULL || old->entry[a].vlen != u[i].vlen ||
		        memcmp(old->entry[a].val, u[i].val, u[i].vlen) != 0))
			return jalin_err_set(err, JALIN_ESCHEMA,
			    "%s.%s: set by the node that created the record; "
			    "it cannot be changed",
			    r->c->name, f->name);
		if (f != NULL && (f->flags & SF_REQUIRED) && u[i].val == NULL)
			return jalin_err_set(err, JALIN_ESCHEMA,
			    "%s.%s: a required field cannot be removed",
			    r->c->name, f->name);
		has_origin |= u[i].tag == TAG_ORIGIN_NODE;
		has_created |= u[i].tag == TAG_CREATED_AT;
		if (u[i].tag == TAG_SHARE_WITH)
			share = &u[i];
		o->tmp[k++] = u[i];
	}
	buf_reset(&o->sys);
	msgpack_packer_init(&pk, &o->sys, buf_pk_write);
	/* taking nodes out of share_with withdraws the record there */
	size_t wd = o->sys.len;
	int unshared = 0;
	if (share != NULL && !creating &&
	    (unshared = scope_unshared(
	         r->c, old, share->val, share->vlen, &pk)) < 0)
		return jalin_err_set(err, JALIN_ESCHEMA,
		    "%s.share_with: a record can be withdrawn from at most %d "
		    "nodes (unshared_from)",
		    r->c->name, JALIN_UNSHARED_MAX);
	if (unshared > 0) {
		const uint8_t *v = o->sys.p + wd;
		bool nil = o->sys.len - wd == 1 && *v == 0xc0;
		o->tmp[k++] = (struct merge_update){TAG_UNSHARED_FROM,
		    nil ? 0 : (uint32_t)(o->sys.len - wd), NULL};
	}
	size_t origin_at = o->sys.len;
	if (creating && !has_origin) {
		view_str(&pk, node);
		if (o->sys.err == 0 && code_in_place(&o->sys, origin_at) != 0)
			o->sys.err = JALIN_ENOMEM;
		o->tmp[k++] = (struct merge_update){
		    TAG_ORIGIN_NODE, (uint32_t)(o->sys.len - origin_at), NULL};
	}
	size_t mid = o->sys.len;
	if (creating && !has_created) {
		msgpack_pack_uint64(&pk, HLC_MS(hlc));
		o->tmp[k++] = (struct merge_update){
		    TAG_CREATED_AT, (uint32_t)(o->sys.len - mid), NULL};
	}
	/* sys does not move any more: point the system values into it */
	for (size_t i = 0; i < k; i++) {
		if (o->tmp[i].tag == TAG_UNSHARED_FROM && unshared > 0 &&
		    o->tmp[i].vlen > 0)
			o->tmp[i].val = o->sys.p + wd;
		if (o->tmp[i].tag == TAG_ORIGIN_NODE && !has_origin)
			o->tmp[i].val = o->sys.p + origin_at;
		if (o->tmp[i].tag == TAG_CREATED_AT && !has_created)
			o->tmp[i].val = o->sys.p + mid;
	}
	qsort(o->tmp, k, sizeof(*o->tmp), cmp_update);
	*n = k;
	return 0;
}

/*
 * Record-level rules read plaintext: the sealed values of kv[0..n) opened
 * (this node wrote or reads them) into o->plain, which is reserved whole
 * first so the pointers stay put.
 */
static int
open_kv(struct ops *o, const struct op_rec *r, const struct record *out,
    size_t n, struct jalin_err *err)
{
	const uint8_t *body;
	uint32_t blen;
	int rc;

	if (o->crypt == NULL || !srec_coll_sealed(r->c))
		return 0;
	buf_reset(&o->plain);
	if (buf_reserve(&o->plain, JALIN_RECORD_MAX) != 0)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!schema_rule_reads(r->c, o->kv[i].tag) ||
		    !srec_sealed_body(o->kv[i].val, o->kv[i].len, &body, &blen))
			continue;
		size_t at = o->plain.len;
		rc = srec_open(crypt_reader(o->crypt), r->c, r->id, out,
		    o->kv[i].tag, o->kv[i].val, o->kv[i].len, &o->plain, err);
		if (rc != 0)
			return rc == JALIN_ENOTFOUND ? 0 : rc; /* not ours */
		o->kv[i].val = o->plain.p + at;
		o->kv[i].len = (uint32_t)(o->plain.len - at);
	}
	return 0;
}

/* "case 0190a1b2-…" for messages about one record. */
static const char *
rec_name(const struct op_rec *r, char *buf, size_t n)
{
	char ids[UUID_STR_LEN + 1];

	uuid_format(r->id, ids);
	snprintf(buf, n, "%s %s", r->c->name, ids);
	return buf;
}

static int
apply_put(struct ops *o, struct store_txn *t, struct job *j, struct op_rec *r,
    struct store_cur *cur, const struct record *old, struct jalin_err *err)
{
	struct record *out = store_ws(o->store, 3);
	bool creating = !rec_is_live(old), changed;
	uint64_t hlc = store_txn_hlc(t);
	size_t n = 0;
	int rc;

	char nb[64];

	if (rec_is_purged(old))
		return jalin_err_set(err, JALIN_EPURGED,
		    "%s: the record was purged; its id cannot be used again",
		    rec_name(r, nb, sizeof(nb)));
	if ((rc = with_system(o, r, j, old, creating, hlc, &n, err)) != 0)
		return rc;
	/* S! values sealed before they are merged: the sealed bytes are the
	 * record's (crypt.h) */
	if (o->crypt != NULL &&
	    (rc = crypt_put(o->crypt, r->c, r->id, old, o->tmp, &n,
	         CRYPT_UPDATES_MAX, &o->unwrapped, err)) != 0)
		return rc;
	rc = merge_put(old, o->tmp, n, store_node(o->store),
	    strlen(store_node(o->store)), hlc, out, &changed);
	if (rc != 0)
		return jalin_err_set(err, rc, "%s: %s",
		    rec_name(r, nb, sizeof(nb)), jalin_strerror(rc));
	if (!changed)
		return 0;
	n = live_kv(out, o->kv);
	if ((rc = open_kv(o, r, out, n, err)) != 0 ||
	    (rc = schema_check_record(r->c, o->kv, n, creating, err)) != 0)
		return rc;
	/* what every peer would refuse is refused here, with the reason */
	if ((rc = authz_check(r->c, old, out, out, &o->authz, NULL, err)) != 0)
		return rc;
	r->changed = true;
	if ((rc = store_txn_set(t, cur, old, out)) == JALIN_ETOOBIG)
		return jalin_err_set(err, rc,
		    "%s: the record would exceed %u bytes",
		    rec_name(r, nb, sizeof(nb)), JALIN_RECORD_MAX);
	return rc;
}

/* delete: [reason|nil, scope]; purge: [reason, hash|nil, scope]. */
static void
pack_tomb(struct ops *o, const struct job *j, const struct op_rec *r,
    const struct record *old)
{
	msgpack_packer pk;

	buf_reset(&o->sys);
	msgpack_packer_init(&pk, &o->sys, buf_pk_write);
	msgpack_pack_array(&pk, r->op == OP_PURGE ? 3 : 2);
	if (r->rlen > 0)
		msgpack_pack_str_with_body(&pk, j->vals.p + r->roff, r->rlen);
	else if (r->op == OP_PURGE)
		view_str(&pk, "erasure_request");
	else
		msgpack_pack_nil(&pk);
	if (r->op == OP_PURGE && r->has_hash)
		msgpack_pack_bin_with_body(&pk, r->hash, 32);
	else if (r->op == OP_PURGE)
		msgpack_pack_nil(&pk);
	scope_pack(r->c, old, &pk);
}

static int
apply_tomb(struct ops *o, struct store_txn *t, struct job *j, struct op_rec *r,
    struct store_cur *cur, const struct record *old, struct jalin_err *err)
{
	struct record *out = store_ws(o->store, 3);
	const char *node = store_node(o->store);
	uint64_t hlc = store_txn_hlc(t);
	char nb[64];
	bool changed;
	int rc;

	rec_name(r, nb, sizeof(nb));
	pack_tomb(o, j, r, old);
	if (o->sys.err != 0)
		return jalin_err_set(
		    err, JALIN_ENOMEM, "%s: out of memory", nb);
	if (r->op == OP_DELETE)
		rc = merge_delete(old, o->sys.p, o->sys.len, node, strlen(node),
		    hlc, out, &changed);
	else
		rc = merge_purge(old, o->sys.p, o->sys.len, node, strlen(node),
		    hlc, out, &changed);
	if (rc == JALIN_EPURGED)
		return jalin_err_set(err, rc, "%s: the record was purged", nb);
	if (rc == JALIN_ENOTFOUND || (r->op == OP_DELETE && !changed))
		return jalin_err_set(err, JALIN_ENOTFOUND,
		    rc == 0 ? "%s: the record was already deleted"
		            : "%s: no such record",
		    nb);
	if (rc != 0)
		return jalin_err_set(err, rc, "%s: %s", nb, jalin_strerror(rc));
	if (changed &&
	    (rc = authz_check(r->c, old, out, out, &o->authz, NULL, err)) != 0)
		return rc;
	r->changed = changed;
	return changed ? store_txn_set(t, cur, old, out) : 0;
}

static int
apply_rec(struct ops *o, struct store_txn *t, struct job *j, struct op_rec *r)
{
	struct record *old = store_ws(o->store, 0);
	struct store_cur cur;
	struct jalin_err err;
	char nb[64];
	int rc;

	jalin_err_clear(&err);
	if (!r->have_id) {
		if (uuid_v7(&o->ug, hlc_wall_ms(), r->id) != 0)
			return JALIN_EIO;
		r->have_id = true;
	}
	if ((rc = store_txn_get(t, r->c->id, r->id, &cur)) != 0)
		return rc;
	/* store.h: only a peer's copy replaces it; a purge may close it */
	if (cur.corrupt && r->op != OP_PURGE)
		rc = jalin_err_set(&err, JALIN_ECORRUPT,
		    "%s: the stored record is corrupt",
		    rec_name(r, nb, sizeof(nb)));
	else if (!cur.exists)
		rec_init(old);
	else if (rec_decode(old, cur.raw, cur.rawlen, REC_TRUSTED, NULL) != 0)
		rc = jalin_err_set(&err, JALIN_ECORRUPT,
		    "%s: the stored record does not decode",
		    rec_name(r, nb, sizeof(nb)));
	if (rc == 0 && r->op == OP_PUT)
		rc = apply_put(o, t, j, r, &cur, old, &err);
	else if (rc == 0)
		rc = apply_tomb(o, t, j, r, &cur, old, &err);
	if (rc != 0 && rc != JALIN_ESPACE && rc != JALIN_EIO &&
	    rc != JALIN_ENOMEM) {
		rec_fail(r, rc, &err);
		return 0; /* this record only */
	}
	return rc;
}

static int
flush_fn(struct store_txn *t, void *arg)
{
	struct ops *o = arg;
	struct job *j;
	int rc;

	TAILQ_FOREACH (j, &o->q, link) {
		if (j->task.apply != NULL) {
			if ((rc = j->task.apply(t, j->task.arg)) != 0)
				return rc;
			continue;
		}
		for (size_t i = 0; i < j->nrec; i++) {
			struct op_rec *r = &j->recs[i];
			r->rc = r->parse_rc; /* a rerun starts afresh */
			r->changed = false;
			if (r->parse_rc != 0)
				continue;
			if ((rc = apply_rec(o, t, j, r)) != 0)
				return rc;
			if (r->rc != 0 && j->stop && j->type == MSG_IMPORT) {
				j->stopped_at = i;
				break;
			}
		}
	}
	return 0;
}

static void
resp_single(struct ops *o, const struct job *j)
{
	const struct op_rec *r = &j->recs[0];
	char ids[UUID_STR_LEN + 1];
	msgpack_packer pk;

	if (r->rc != 0) {
		msg_resp_error(&o->resp, j->reqid, r->rc,
		    r->msg ? r->msg : jalin_strerror(r->rc));
		return;
	}
	buf_reset(&o->resp);
	msgpack_packer_init(&pk, &o->resp, buf_pk_write);
	msg_resp_begin(&pk, j->reqid);
	uuid_format(r->id, ids);
	msgpack_pack_map(&pk, 2);
	view_str(&pk, "id");
	view_str(&pk, ids);
	view_str(&pk, "changed");
	if (r->changed)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
}

static void
resp_import(struct ops *o, const struct job *j)
{
	msgpack_packer pk;
	size_t last = j->stopped_at == SIZE_MAX ? j->nrec : j->stopped_at;
	uint32_t stored = 0, changed = 0, nerr = 0;

	for (size_t i = 0; i < last; i++) {
		stored += j->recs[i].rc == 0;
		changed += j->recs[i].changed;
	}
	buf_reset(&o->resp);
	msgpack_packer_init(&pk, &o->resp, buf_pk_write);
	msg_resp_begin(&pk, j->reqid);
	msgpack_pack_map(&pk, 4);
	view_str(&pk, "stored");
	msgpack_pack_uint32(&pk, stored);
	view_str(&pk, "changed");
	msgpack_pack_uint32(&pk, changed);
	view_str(&pk, "errors");
	size_t mark = view_array_begin(&o->resp);
	for (size_t i = 0; i < j->nrec && i <= last; i++) {
		if (j->recs[i].rc == 0)
			continue;
		msgpack_pack_array(&pk, 2);
		msgpack_pack_uint64(&pk, i);
		view_str(&pk,
		    j->recs[i].msg ? j->recs[i].msg
		                   : jalin_strerror(j->recs[i].rc));
		nerr++;
	}
	view_patch(&o->resp, mark, nerr);
	view_str(&pk, "stopped_at");
	if (j->stopped_at == SIZE_MAX)
		msgpack_pack_nil(&pk);
	else
		msgpack_pack_uint64(&pk, j->stopped_at);
}

/*
 * Answer the jobs of one commit. They are taken off the queue first: an
 * answer may submit a new job at once (a peer's next CHANGES frame, read
 * as soon as the previous one is done), and that one belongs to the next
 * commit, not to this answer loop.
 */
static void
respond_all(struct ops *o, int rc, const struct jalin_err *err)
{
	struct jobq *done = &o->answering;
	struct job *j;

	TAILQ_CONCAT(done, &o->q, link);
	o->pending = 0;
	while ((j = TAILQ_FIRST(done)) != NULL) {
		TAILQ_REMOVE(done, j, link);
		if (j->task.apply != NULL) {
			j->task.done(j->task.arg, rc, err);
			job_free(j);
			continue;
		}
		if (rc != 0)
			msg_resp_error(
			    &o->resp, j->reqid, rc, jalin_err_msg(err, rc));
		else if (j->type == MSG_IMPORT)
			resp_import(o, j);
		else
			resp_single(o, j);
		if (o->resp.err != 0) /* never leave a client waiting */
			msg_resp_error(&o->resp, j->reqid, JALIN_ETOOBIG,
			    "response too large");
		if (j->done != NULL)
			j->done(j->ctx, o->resp.p, o->resp.len);
		job_free(j);
	}
}

void
ops_flush(struct ops *o)
{
	struct jalin_err err;
	int rc;

	if (TAILQ_EMPTY(&o->q))
		return;
	jalin_err_clear(&err);
	rc = store_write(o->store, flush_fn, o, &err);
	if (rc != 0)
		log_warnx("store: %zu write request(s) failed: %s", o->pending,
		    jalin_err_msg(&err, rc));
	respond_all(o, rc, &err);
	if (rc == 0 && o->committed != NULL)
		o->committed(o->hook_arg);
}

int
ops_submit_task(struct ops *o, const struct ops_task *task)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return JALIN_ENOMEM;
	j->task = *task;
	buf_init(&j->vals, 0);
	TAILQ_INSERT_TAIL(&o->q, j, link);
	if (o->pending++ == 0)
		event_active(o->flush_ev, 0, 0);
	return 0;
}

void
ops_set_hook(struct ops *o, void (*committed)(void *arg), void *arg)
{
	o->committed = committed;
	o->hook_arg = arg;
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ops_flush(arg);
}

void
ops_set_crypt(struct ops *o, struct crypt *crypt)
{
	o->crypt = crypt;
}

void
ops_set_authz(struct ops *o, const struct authz_nodes *nodes)
{
	o->authz = *nodes;
}
