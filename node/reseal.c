/*
 * reseal.c - seal what was written in clear before (reseal.h): a sliced
 * walk of the store, writes through ops.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "crypt.h"
#include "log.h"
#include "mp.h"
#include "msg.h"
#include "ops.h"
#include "reseal.h"
#include "scope.h"
#include "store.h"
#include "uuid.h"
#include "view.h"

struct reseal {
	struct node *n;
	struct event *step;
	struct record *ws;
	struct buf fields; /* one put's fields, client form */
	uint8_t last[STDB_KEY_LEN];
	bool started;
	unsigned inflight;
	uint64_t queued, failed;
};

/* One write on its way through ops. */
struct rput {
	struct reseal *r;
	uint8_t key[STDB_KEY_LEN];
};

static void
put_done(void *ctx, const uint8_t *resp, size_t len)
{
	struct rput *p = ctx;
	const struct schema_coll *c = schema_coll_by_id(p->key[0]);
	char ids[UUID_STR_LEN + 1];
	struct jalin_err err;
	struct msg_resp rs;

	jalin_err_clear(&err);
	if (msg_parse_resp(resp, len, &rs, &err) != 0) {
		rs.status = JALIN_EPROTO;
		rs.error = err.msg;
		rs.error_len = (uint32_t)strlen(err.msg);
	}
	if (rs.status != 0) {
		uuid_format(p->key + 1, ids);
		p->r->failed++;
		log_warnx("reseal: cannot seal %s %s: %.*s", c ? c->name : "?",
		    ids, (int)rs.error_len, rs.error ? rs.error : "");
	}
	p->r->inflight--;
	free(p);
}

/* True if e is a value in clear of a field that is sealed. */
static bool
in_clear(const struct schema_coll *c, const struct rec_entry *e)
{
	const uint8_t *body;
	uint32_t blen;

	return srec_field_sealed(c, schema_field_by_tag(c, e->tag)) &&
	    !(e->vlen == 1 && e->val[0] == 0xc0) &&
	    !srec_sealed_body(e->val, e->vlen, &body, &blen);
}

/*
 * The fields of rec to write again, as a client gives them (a map of
 * name: value) in r->fields; false if rec needs nothing (not ours, not
 * live, sealed already).
 */
static bool
fields_to_seal(
    struct reseal *r, const struct schema_coll *c, const struct record *rec)
{
	const char *self = r->n->cfg->name;
	msgpack_packer pk;
	size_t a, b, mark;
	uint32_t n = 0;
	bool keys;

	if (!srec_coll_sealed(c) || !rec_is_live(rec) ||
	    !scope_is_origin(rec, self, strlen(self)))
		return false;
	keys = rec_field(rec, TAG_KEYS, &a, &b) > 0;
	buf_reset(&r->fields);
	msgpack_packer_init(&pk, &r->fields, buf_pk_write);
	mark = view_map_begin(&r->fields);
	for (size_t i = 0; i < rec->nentries; i = b) {
		rec_field(rec, rec->entry[i].tag, &a, &b);
		if (b <= i)
			b = i + 1;
		const struct rec_entry *w = &rec->entry[rec_winner(rec, a, b)];
		if (w->tag == TAG_DELETED || !in_clear(c, w))
			continue;
		uint8_t mem[512];
		const uint8_t *v;
		uint32_t vlen;
		struct buf t;
		buf_init_mem(&t, mem, sizeof(mem), JALIN_VALUE_MAX);
		const struct schema_field *f = schema_field_by_tag(c, w->tag);
		if (rec_val_plain(w->val, w->vlen, &t, &v, &vlen) == 0) {
			view_str(&pk, f->name);
			if (schema_display(f, v, vlen, &pk) == 0)
				n++;
			else
				msgpack_pack_nil(&pk); /* cannot happen */
		}
		buf_free(&t);
	}
	view_patch(&r->fields, mark, n);
	return (n > 0 || !keys) && r->fields.err == 0;
}

static void
queue_put(struct reseal *r, const uint8_t *key)
{
	const struct schema_coll *c = schema_coll_by_id(key[0]);
	struct rput *p = calloc(1, sizeof(*p));
	uint8_t idmp[2 + UUID_LEN] = {0xc4, UUID_LEN};
	struct msg_req q = {.type = MSG_PUT};

	if (p == NULL || c == NULL) {
		free(p);
		return;
	}
	p->r = r;
	memcpy(p->key, key, STDB_KEY_LEN);
	memcpy(idmp + 2, key + 1, UUID_LEN);
	q.coll = c->name;
	q.coll_len = (uint32_t)strlen(c->name);
	q.id = idmp;
	q.id_len = sizeof(idmp);
	q.fields = r->fields.p;
	q.fields_len = r->fields.len;
	r->inflight++;
	r->queued++;
	if (ops_submit(r->n->ops, &q, put_done, p) != 0) {
		r->inflight--;
		free(p);
	}
}

/* Look at up to JALIN_RESEAL_SLICE records after r->last; queue the writes
 * they need. True if there are more to look at. */
static bool
scan_slice(struct reseal *r, MDB_txn *txn, int *rc)
{
	struct stdb_iter it;
	unsigned queued = 0;
	bool more;

	stdb_iter_open(&it, txn, store_db(r->n->store), STDB_RECORDS);
	stdb_iter_find(
	    &it, r->last, r->started ? STDB_KEY_LEN : 0, STDB_FIND_GT);
	for (int i = 0; stdb_iter_valid(&it) && i < JALIN_RESEAL_SLICE &&
	     queued < JALIN_RESEAL_QUEUE_MAX;
	     i++) {
		const uint8_t *state, *key;
		size_t klen, len;
		uint64_t seq;
		key = stdb_iter_key(&it, &klen);
		if (klen == STDB_KEY_LEN &&
		    stdb_iter_record(&it, &state, &len, &seq) == 0 &&
		    rec_decode(r->ws, state, len, REC_TRUSTED, NULL) == 0 &&
		    fields_to_seal(r, schema_coll_by_id(key[0]), r->ws)) {
			queue_put(r, key);
			queued++;
		}
		if (klen == STDB_KEY_LEN) {
			memcpy(r->last, key, STDB_KEY_LEN);
			r->started = true;
		}
		stdb_iter_next(&it);
	}
	more = stdb_iter_valid(&it);
	*rc = stdb_iter_err(&it);
	stdb_iter_close(&it);
	return more;
}

static void
step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct reseal *r = arg;
	MDB_txn *txn;
	bool more;
	int rc;

	(void)fd;
	(void)what;
	if (r->n->stopping)
		return;
	if (stdb_begin_read(store_db(r->n->store), &txn, NULL) != 0) {
		log_warnx("reseal: cannot read the store; sealing stops until "
		          "the next start");
		return;
	}
	/* the writes queued read their fields from r->fields before
	 * ops_submit returns (it parses them): one buffer serves all */
	more = scan_slice(r, txn, &rc);
	stdb_end_read(txn);
	if (more && rc == 0) {
		event_active(r->step, 0, 0); /* after other work */
		return;
	}
	if (rc != 0)
		log_warnx("reseal: cannot read the store (%s); the rest is "
		          "sealed at the next start",
		    jalin_strerror(rc));
	if (r->queued > 0)
		log_notice("reseal: %llu record(s) written in clear before "
		           "queued for sealing",
		    (unsigned long long)r->queued);
}

int
reseal_start(struct node *n, struct reseal **out, struct jalin_err *err)
{
	struct reseal *r;

	*out = NULL;
	if (n->crypt == NULL)
		return 0;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->ws = malloc(sizeof(*r->ws))) == NULL) {
		free(r);
		return jalin_err_set(
		    err, JALIN_ENOMEM, "reseal: out of memory");
	}
	r->n = n;
	buf_init(&r->fields, JALIN_FRAME_MAX);
	if ((r->step = event_new(n->base, -1, 0, step_cb, r)) == NULL) {
		reseal_stop(r);
		return jalin_err_set(
		    err, JALIN_ENOMEM, "reseal: out of memory");
	}
	event_active(r->step, 0, 0);
	*out = r;
	return 0;
}

void
reseal_stop(struct reseal *r)
{
	if (r == NULL)
		return;
	if (r->step)
		event_free(r->step);
	buf_free(&r->fields);
	free(r->ws);
	free(r);
}
