/*
 * metrics.c - the /metrics endpoint (libevent's evhttp).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "hlc.h"
#include "log.h"
#include "metrics.h"
#include "peerview.h"
#include "schema.h"
#include "store.h"
#include "storedb.h"

struct metrics {
	struct node *n;
	struct evhttp *http;
};

static void
family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
gauge(struct evbuffer *b, const char *name, const char *help, double v)
{
	family(b, name, "gauge", help);
	evbuffer_add_printf(b, "%s ", name);
	peerview_sample(b, v);
}

static void
store_metrics(struct metrics *m, struct evbuffer *b)
{
	struct stdb *db = store_db(m->n->store);
	struct stdb_info in;
	MDB_txn *txn;

	if (stdb_begin_read(db, &txn, NULL) != 0)
		return;
	if (stdb_info(txn, db, &in, NULL) != 0) {
		stdb_end_read(txn);
		return;
	}
	stdb_end_read(txn);
	family(b, "jalin_records", "gauge", "Live records per collection.");
	uint64_t live = 0;
	for (unsigned c = COLL_MIN; c <= COLL_MAX; c++) {
		evbuffer_add_printf(b,
		    "jalin_records{collection=\"%s\"} %llu\n",
		    schema_coll_by_id(c)->name,
		    (unsigned long long)in.count[c]);
		live += in.count[c];
	}
	gauge(b, "jalin_conflicts", "Unresolved conflicts.",
	    (double)in.nconflicts);
	gauge(b, "jalin_tombstones",
	    "Deleted and purged records kept (awaiting collection, or "
	    "purge markers).",
	    (double)(in.entries > live ? in.entries - live : 0));
	gauge(b, "jalin_feed_seq", "Last sequence number of the change feed.",
	    (double)in.seq);
	gauge(b, "jalin_store_map_size_bytes", "Current LMDB map size.",
	    (double)in.map_size);
	gauge(b, "jalin_store_map_used_bytes", "Bytes of the map in use.",
	    (double)in.map_used);
	gauge(b, "jalin_store_map_max_bytes", "Configured map_size_max.",
	    (double)store_map_max(m->n->store));
}

static void
metrics_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evbuffer *b;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "only GET");
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	gauge(b, "jalin_up", "1 while the node serves.", 1);
	gauge(b, "jalin_uptime_seconds", "Seconds since the node started.",
	    (double)(hlc_wall_ms() - m->n->started_ms) / 1000.0);
	store_metrics(m, b);
	peerview_metrics(m->n->peers, b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
other_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, 404, "only /metrics is served here");
}

int
metrics_start(struct node *n, struct metrics **out, struct jalin_err *err)
{
	const struct cfg_addr *a = &n->cfg->metrics_listen;
	struct metrics *m;

	*out = NULL;
	if (!a->set)
		return 0;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->http = evhttp_new(n->base)) == NULL) {
		free(m);
		return jalin_err_set(
		    err, JALIN_ENOMEM, "metrics: out of memory");
	}
	m->n = n;
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET);
	evhttp_set_timeout(m->http, 10);
	evhttp_set_max_headers_size(m->http, 8192);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_cb(m->http, "/metrics", metrics_cb, m);
	evhttp_set_gencb(m->http, other_cb, m);
	if (evhttp_bind_socket(m->http, a->host, a->port) != 0) {
		metrics_stop(m);
		return jalin_err_set(err, JALIN_EIO,
		    "metrics: cannot listen on %s:%u", a->host, a->port);
	}
	log_notice("metrics: serving http://%s:%u/metrics", a->host, a->port);
	*out = m;
	return 0;
}

void
metrics_stop(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->http)
		evhttp_free(m->http);
	free(m);
}
