/*
 * retention.c - expire records whose retention_until has passed (see
 * retention.h): a sliced walk of the records, purges through ops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "mp.h"
#include "msg.h"
#include "ops.h"
#include "retention.h"
#include "scope.h"
#include "store.h"
#include "uuid.h"

#define REASON "retention_expired"

struct retention {
	struct node *n;
	struct event *tick, *first, *step;
	struct record *ws;
	uint8_t last[STDB_KEY_LEN];
	bool started; /* last is set: resume after it */
	bool running; /* a pass is under way */
	char today[11];
	uint8_t until[16]; /* a coded retention_until, decoded (expired) */
	unsigned inflight;
	uint64_t queued; /* in this pass */
};

/* One purge on its way through ops. */
struct rpurge {
	struct retention *r;
	uint8_t idmp[2 + UUID_LEN]; /* bin 16 */
	uint8_t coll;
};

static void
purge_done(void *ctx, const uint8_t *resp, size_t len)
{
	struct rpurge *p = ctx;
	const struct schema_coll *c = schema_coll_by_id(p->coll);
	char ids[UUID_STR_LEN + 1];
	struct jalin_err err;
	struct msg_resp rs;

	uuid_format(p->idmp + 2, ids);
	jalin_err_clear(&err);
	if (msg_parse_resp(resp, len, &rs, &err) != 0) {
		rs.status = JALIN_EPROTO; /* not ours to answer: say why */
		rs.error = err.msg;
		rs.error_len = (uint32_t)strlen(err.msg);
	}
	/* the date is a field value: not logged (STYLE §7) */
	if (rs.status == 0)
		log_notice("retention: purged %s %s (past its retention_until)",
		    c ? c->name : "?", ids);
	else if (rs.status != JALIN_EPURGED)
		log_warnx("retention: cannot purge %s %s: %.*s",
		    c ? c->name : "?", ids, (int)rs.error_len,
		    rs.error ? rs.error : "");
	p->r->inflight--;
	free(p);
}

static void
queue_purge(struct retention *r, const uint8_t *key)
{
	const struct schema_coll *c = schema_coll_by_id(key[0]);
	struct rpurge *p = calloc(1, sizeof(*p));
	struct msg_req q = {.type = MSG_PURGE};

	if (p == NULL || c == NULL) {
		free(p);
		return;
	}
	p->r = r;
	p->coll = key[0];
	p->idmp[0] = 0xc4;
	p->idmp[1] = UUID_LEN;
	memcpy(p->idmp + 2, key + 1, UUID_LEN);
	q.coll = c->name;
	q.coll_len = (uint32_t)strlen(c->name);
	q.id = p->idmp;
	q.id_len = sizeof(p->idmp);
	q.reason = REASON;
	q.reason_len = sizeof(REASON) - 1;
	r->inflight++;
	r->queued++;
	if (ops_submit(r->n->ops, &q, purge_done, p) != 0) {
		r->inflight--;
		free(p);
	}
}

/* True for a live record this node created whose winning
 * retention_until is a date before today. */
static bool
expired(struct retention *r, const struct record *rec)
{
	const char *self = r->n->cfg->name;
	size_t first, end;
	const char *s;
	uint32_t len;
	struct mpr m;

	if (!rec_is_live(rec) || !scope_is_origin(rec, self, strlen(self)) ||
	    rec_field(rec, TAG_RETENTION_UNTIL, &first, &end) == 0)
		return false;
	const struct rec_entry *w = &rec->entry[rec_winner(rec, first, end)];
	const uint8_t *v;
	uint32_t vlen;
	struct buf t;
	buf_init_mem(&t, r->until, sizeof(r->until), sizeof(r->until));
	if (rec_val_plain(w->val, w->vlen, &t, &v, &vlen) != 0)
		return false;
	mpr_init(&m, v, vlen);
	return mpr_str(&m, &s, &len) == 0 && len == 10 &&
	    memcmp(s, r->today, 10) < 0;
}

/* A record due for purging, found by a slice. */
struct due {
	uint8_t key[STDB_KEY_LEN];
};

/*
 * Look at up to JALIN_RETENTION_SLICE records after r->last in txn; fill due
 * (at most JALIN_RETENTION_QUEUE_MAX). True if there are more to look at; *rc
 * gets the walk's error.
 */
static bool
scan_slice(
    struct retention *r, MDB_txn *txn, struct due *due, size_t *ndue, int *rc)
{
	struct stdb_iter it;
	bool more;

	stdb_iter_open(&it, txn, store_db(r->n->store), STDB_RECORDS);
	stdb_iter_find(
	    &it, r->last, r->started ? STDB_KEY_LEN : 0, STDB_FIND_GT);
	for (int i = 0; stdb_iter_valid(&it) && i < JALIN_RETENTION_SLICE &&
	     *ndue < JALIN_RETENTION_QUEUE_MAX;
	     i++) {
		const uint8_t *state, *key;
		size_t klen, len;
		uint64_t seq;
		key = stdb_iter_key(&it, &klen);
		if (klen == STDB_KEY_LEN &&
		    stdb_iter_record(&it, &state, &len, &seq) == 0 &&
		    rec_decode(r->ws, state, len, REC_TRUSTED, NULL) == 0 &&
		    expired(r, r->ws)) {
			memcpy(due[(*ndue)++].key, key, STDB_KEY_LEN);
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

/* Look at the next JALIN_RETENTION_SLICE records; queue the purges they
 * need. */
static void
step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct retention *r = arg;
	struct due *due;
	MDB_txn *txn;
	size_t ndue = 0;
	bool more;
	int rc;

	(void)fd;
	(void)what;
	if (r->n->stopping ||
	    (due = malloc(JALIN_RETENTION_QUEUE_MAX * sizeof(*due))) == NULL)
		return;
	if (stdb_begin_read(store_db(r->n->store), &txn, NULL) != 0) {
		log_warnx("retention: cannot read the store; trying later");
		r->running = false;
		free(due);
		return;
	}
	more = scan_slice(r, txn, due, &ndue, &rc);
	stdb_end_read(txn);
	for (size_t i = 0; i < ndue; i++)
		queue_purge(r, due[i].key);
	free(due);
	if (more) {
		event_active(r->step, 0, 0); /* more to look at: after others */
		return;
	}
	r->running = false;
	if (rc != 0)
		log_warnx("retention: cannot read the store (%s); trying later",
		    jalin_strerror(rc));
	if (r->queued > 0)
		log_info(
		    "retention: %llu record(s) past retention_until queued "
		    "for purging",
		    (unsigned long long)r->queued);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct retention *r = arg;
	time_t now = time(NULL);
	struct tm tm;

	(void)fd;
	(void)what;
	if (r->running || r->inflight > 0 || r->n->stopping)
		return; /* the last pass is not over yet */
	gmtime_r(&now, &tm);
	strftime(r->today, sizeof(r->today), "%Y-%m-%d", &tm);
	r->running = true;
	r->started = false;
	r->queued = 0;
	event_active(r->step, 0, 0);
}

int
retention_start(struct node *n, struct retention **out, struct jalin_err *err)
{
	unsigned every = n->cfg->retention_check;
	struct timeval tv = {(time_t)every, 0};
	unsigned soon = JALIN_RETENTION_FIRST_PASS;
	struct timeval first = {(time_t)(every < soon ? every : soon), 0};
	struct retention *r;

	*out = NULL;
	if (every == 0)
		return 0;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->ws = malloc(sizeof(*r->ws))) == NULL)
		goto nomem;
	r->n = n;
	r->tick = event_new(n->base, -1, EV_PERSIST, tick_cb, r);
	r->first = evtimer_new(n->base, tick_cb, r);
	r->step = event_new(n->base, -1, 0, step_cb, r);
	if (r->tick == NULL || r->first == NULL || r->step == NULL ||
	    evtimer_add(r->tick, &tv) != 0 ||
	    evtimer_add(r->first, &first) != 0)
		goto nomem;
	*out = r;
	return 0;
nomem:
	retention_stop(r);
	return jalin_err_set(err, JALIN_ENOMEM, "retention: out of memory");
}

void
retention_stop(struct retention *r)
{
	if (r == NULL)
		return;
	if (r->tick)
		event_free(r->tick);
	if (r->first)
		event_free(r->first);
	if (r->step)
		event_free(r->step);
	free(r->ws);
	free(r);
}
