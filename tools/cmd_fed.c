/*
 * cmd_fed.c - federation: ask every node for its status at once and put
 * their views of each other in one table.
 *
 * One thread per node, each with the same absolute deadline for connect,
 * TLS handshake and answer (conn.h), so the command takes about
 * --timeout whatever the nodes do: one that accepts TCP and then says
 * nothing is reported as "timed out". The only wait conn.h cannot bound
 * is a name lookup (getaddrinfo); main therefore stops waiting at the
 * deadline plus a grace period, reports what has not answered as timed
 * out, and leaves such a thread behind (detached). The shared state is
 * reference counted so that whoever finishes last frees it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "config.h"
#include "json.h"
#include "msg.h"

#define FED_ASKS_MAX   (1 + 2 * JALIN_PEERS_MAX) /* local + config + args */
#define FED_STACK_SIZE (1u << 20)

struct fed;

struct ask {
	/* set before the thread starts */
	struct fed *f;
	char target[JALIN_PATH_MAX];   /* socket path, or HOST:PORT */
	char name[JALIN_NAME_MAX + 1]; /* known from the config, or "" */
	bool local;
	pthread_t th;
	bool started;
	/* results, under f->mu */
	bool done;
	json_t *st;
	char err[JALIN_ERRMSG_MAX];
};

struct fed {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned refs;    /* main, and each thread not yet finished */
	unsigned pending; /* asks not done */
	bool closed;      /* main has stopped waiting */
	struct conn_opts o;
	char ca[JALIN_PATH_MAX];  /* the config's [tls] ca, if used */
	char crl[JALIN_PATH_MAX]; /* the config's [tls] crl, if used */
	size_t n;
	struct ask asks[FED_ASKS_MAX];
	size_t nnoaddr; /* config peers without an address */
	char noaddr[JALIN_PEERS_MAX][JALIN_NAME_MAX + 1];
};

static void
fed_free(struct fed *f)
{
	for (size_t i = 0; i < f->n; i++)
		json_decref(f->asks[i].st);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

/* Drop a reference; the last one frees. */
static void
fed_unref(struct fed *f)
{
	bool last;

	pthread_mutex_lock(&f->mu);
	last = --f->refs == 0;
	pthread_mutex_unlock(&f->mu);
	if (last)
		fed_free(f);
}

/* "cannot reach the node at X: why" -> "why" (the table names X). */
static const char *
short_why(const struct ask *a, const char *msg)
{
	char pre[JALIN_PATH_MAX + 64];
	int n = snprintf(
	    pre, sizeof(pre), "cannot reach the node at %s: ", a->target);

	if (n > 0 && strncmp(msg, pre, (size_t)n) == 0)
		return msg + n;
	return msg;
}

/* Ask one node for its status: *st, or err says why not. */
static void
ask_status(struct ask *a, json_t **st, char *err, size_t n)
{
	struct jalin_err e;
	struct client *cl;
	struct creq r;
	int rc, status = 0;

	*st = NULL;
	jalin_err_clear(&e);
	rc = a->local ? client_open_socket(a->target, &a->f->o, &cl, &e)
	              : client_open_remote(a->target, &a->f->o, &cl, &e);
	if (rc != 0) {
		snprintf(err, n, "%s", short_why(a, jalin_err_msg(&e, rc)));
		return;
	}
	creq_init(&r, cl, MSG_STATUS);
	rc = client_call(cl, &r, &status, st, &e);
	creq_free(&r);
	client_close(cl);
	if (rc == 0 && status == 0 &&
	    !json_is_string(json_object_get(*st, "node"))) {
		json_decref(*st);
		*st = NULL;
		rc = jalin_err_set(&e, JALIN_EPROTO, "status without a name");
	}
	if (rc != 0 || status != 0)
		snprintf(err, n, "%s",
		    short_why(a, jalin_err_msg(&e, rc ? rc : status)));
}

static void *
ask_run(void *arg)
{
	struct ask *a = arg;
	struct fed *f = a->f;
	char err[JALIN_ERRMSG_MAX] = "";
	json_t *st;

	ask_status(a, &st, err, sizeof(err));
	pthread_mutex_lock(&f->mu);
	if (!f->closed) {
		a->st = st;
		st = NULL;
		memcpy(a->err, err, sizeof(err));
		a->done = true;
		f->pending--;
		pthread_cond_signal(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	json_decref(st); /* an answer nobody waits for any more */
	fed_unref(f);
	return NULL;
}

static int
add_ask(struct fed *f, const char *target, const char *name, bool local)
{
	struct ask *a;

	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->asks[i].target, target) == 0)
			return EXIT_OK; /* named twice: ask once */
	}
	if (f->n == FED_ASKS_MAX)
		return ctl_err(
		    EXIT_USAGE, "more than %d nodes to ask", FED_ASKS_MAX);
	a = &f->asks[f->n++];
	a->f = f;
	a->local = local;
	snprintf(a->target, sizeof(a->target), "%s", target);
	snprintf(a->name, sizeof(a->name), "%s", name ? name : "");
	return EXIT_OK;
}

/* The config's node (its socket) and its peers (their addresses). */
static int
from_config(struct ctx *x, struct fed *f)
{
	char addr[sizeof(((struct cfg_addr *)0)->host) + 16];
	struct jalin_err err;
	struct cfg *cfg;
	int rc;

	jalin_err_clear(&err);
	if ((rc = cfg_load(ctl_config_path(x->t), &cfg, &err)) != 0)
		return ctl_err(EXIT_UNREACH, "%s", jalin_err_msg(&err, rc));
	rc = add_ask(f, cfg->admin_socket, cfg->name, true);
	for (unsigned i = 0; rc == EXIT_OK && i < cfg->npeers; i++) {
		const struct cfg_peer *p = &cfg->peers[i];
		if (!p->address.set) {
			snprintf(f->noaddr[f->nnoaddr++], JALIN_NAME_MAX + 1,
			    "%s", p->name);
			continue;
		}
		snprintf(addr, sizeof(addr),
		    strchr(p->address.host, ':') ? "[%s]:%u" : "%s:%u",
		    p->address.host, p->address.port);
		rc = add_ask(f, addr, p->name, false);
	}
	if (x->t->ca == NULL && cfg->tls_ca[0] != '\0') {
		snprintf(f->ca, sizeof(f->ca), "%s", cfg->tls_ca);
		f->o.ca = f->ca;
	}
	if (x->t->crl == NULL && cfg->tls_crl[0] != '\0') {
		snprintf(f->crl, sizeof(f->crl), "%s", cfg->tls_crl);
		f->o.crl = f->crl;
	}
	cfg_free(cfg);
	return rc;
}

/*
 * Who to ask: -s, the config (-c, or by default), and the arguments:
 * HOST:PORT over TLS, a path (it has a '/') as a local admin socket.
 */
static int
targets(struct ctx *x, struct fed *f)
{
	struct cfg_addr a;
	int rc = EXIT_OK;

	ctl_conn_opts(x->t, true, &f->o);
	if (x->t->socket != NULL)
		rc = add_ask(f, x->t->socket, NULL, true);
	else if (x->t->config != NULL || x->argc == 0)
		rc = from_config(x, f);
	for (int i = 0; rc == EXIT_OK && i < x->argc; i++) {
		if (strchr(x->argv[i], '/') != NULL) {
			rc = add_ask(f, x->argv[i], NULL, true);
			continue;
		}
		if (cfg_parse_addr(x->argv[i], &a) != 0)
			return ctl_err(EXIT_USAGE,
			    "'%.300s' is not HOST:PORT, [IPv6]:PORT or the "
			    "path of an admin socket",
			    x->argv[i]);
		rc = add_ask(f, x->argv[i], NULL, false);
	}
	for (size_t i = 0; rc == EXIT_OK && i < f->n; i++) {
		if (!f->asks[i].local &&
		    (f->o.cert == NULL || f->o.key == NULL || f->o.ca == NULL))
			return ctl_err(EXIT_USAGE,
			    "federation asks %s over TLS: give --cert and "
			    "--key of an admin certificate, and --ca",
			    f->asks[i].target);
	}
	return rc;
}

static void
start_all(struct fed *f)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, FED_STACK_SIZE);
	for (size_t i = 0; i < f->n; i++) {
		struct ask *a = &f->asks[i];
		pthread_mutex_lock(&f->mu);
		f->refs++;
		f->pending++;
		pthread_mutex_unlock(&f->mu);
		if (pthread_create(&a->th, &attr, ask_run, a) == 0) {
			a->started = true;
			continue;
		}
		snprintf(a->err, sizeof(a->err), "cannot start a thread: %s",
		    strerror(errno));
		pthread_mutex_lock(&f->mu);
		f->refs--;
		f->pending--;
		a->done = true;
		pthread_mutex_unlock(&f->mu);
	}
	pthread_attr_destroy(&attr);
}

/* Wait for every answer or the deadline; late ones are timed out. */
static void
wait_all(struct fed *f, uint64_t deadline_ms)
{
	struct timespec ts;

	pthread_mutex_lock(&f->mu);
	while (f->pending > 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t now =
		    (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		if (now >= deadline_ms)
			break;
		ts.tv_sec = (time_t)(deadline_ms / 1000);
		ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000;
		pthread_cond_timedwait(&f->cv, &f->mu, &ts);
	}
	f->closed = true;
	for (size_t i = 0; i < f->n; i++) {
		if (!f->asks[i].done)
			snprintf(f->asks[i].err, sizeof(f->asks[i].err),
			    "timed out (no answer within %u s)",
			    f->o.timeout_ms / 1000);
	}
	pthread_mutex_unlock(&f->mu);
	for (size_t i = 0; i < f->n; i++) {
		struct ask *a = &f->asks[i];
		if (a->started && a->done)
			pthread_join(a->th, NULL);
		else if (a->started)
			pthread_detach(a->th);
	}
}

static struct fed *
fed_new(void)
{
	struct fed *f = calloc(1, sizeof(*f));
	pthread_condattr_t ca;

	if (f == NULL)
		return NULL;
	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cv, &ca);
	pthread_condattr_destroy(&ca);
	f->refs = 1;
	return f;
}

/* --- the answers as {"nodes", "matrix", "unreachable"} ------------------
 * After wait_all the results are main's alone (f->closed). */

/* A member, or JSON null: a new reference either way. */
static json_t *
member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return v != NULL ? json_incref(v) : json_null();
}

/* A name for an address nobody answered at, from the others' peers. */
static const char *
name_by_address(json_t *nodes, const char *addr)
{
	const char *name;
	json_t *st, *p;
	size_t i;

	json_object_foreach(nodes, name, st)
	{
		json_array_foreach(json_object_get(st, "peers"), i, p)
		{
			const char *a = js_str(p, "address");
			if (a != NULL && strcmp(a, addr) == 0)
				return js_str(p, "name");
		}
	}
	return NULL;
}

static void
add_unreachable(
    json_t *un, const char *addr, const char *name, const char *error)
{
	json_array_append_new(un,
	    json_pack("{s:o,s:o,s:s}", "address",
	        addr ? json_string(addr) : json_null(), "name",
	        name ? json_string(name) : json_null(), "error", error));
}

/* Nodes that answered, then those that did not (named if we can). */
static size_t
fed_nodes(struct fed *f, json_t *nodes, json_t *un)
{
	size_t failed = 0;

	for (size_t i = 0; i < f->n; i++) {
		struct ask *a = &f->asks[i];
		const char *name = js_str(a->st, "node");
		if (a->st != NULL &&
		    !json_is_object(json_object_get(nodes, name)))
			json_object_set(nodes, name, a->st);
	}
	for (size_t i = 0; i < f->n; i++) {
		struct ask *a = &f->asks[i];
		const char *name = a->name[0] ? a->name : NULL;
		if (a->st != NULL)
			continue;
		failed++;
		if (name == NULL)
			name = name_by_address(nodes, a->target);
		if (name != NULL && json_object_get(nodes, name) == NULL)
			json_object_set_new(nodes, name, json_null());
		add_unreachable(un, a->target, name, a->err);
	}
	return failed;
}

/* Each answering node's row: {peer: {state, lag_records, lag_seconds}}. */
static void
fed_matrix(json_t *nodes, json_t *matrix)
{
	json_t *st, *p, *row, *peers;
	const char *name;
	size_t i;

	json_object_foreach(nodes, name, st)
	{
		if (json_is_null(st))
			continue;
		peers = json_object_get(st, "peers");
		row = json_is_array(peers) ? json_object() : json_null();
		json_array_foreach(peers, i, p)
		{
			if (js_str(p, "name") == NULL)
				continue;
			json_object_set_new(row, js_str(p, "name"),
			    json_pack("{s:o,s:o,s:o}", "state",
			        member(p, "state"), "lag_records",
			        member(p, "lag_records"), "lag_seconds",
			        member(p, "lag_seconds")));
		}
		json_object_set_new(matrix, name, row);
	}
}

/* Peers nobody asked about become columns (nodes with a null status). */
static void
fed_columns(json_t *nodes)
{
	json_t *more = json_array(), *st, *p, *v;
	const char *name;
	size_t i;

	json_object_foreach(nodes, name, st)
	{
		json_array_foreach(json_object_get(st, "peers"), i, p)
		{
			if (js_str(p, "name") != NULL)
				json_array_append(
				    more, json_object_get(p, "name"));
		}
	}
	json_array_foreach(more, i, v)
	{
		if (json_object_get(nodes, json_string_value(v)) == NULL)
			json_object_set_new(
			    nodes, json_string_value(v), json_null());
	}
	json_decref(more);
}

static bool
listed(json_t *un, const char *name)
{
	json_t *u;
	size_t i;

	json_array_foreach(un, i, u)
	{
		const char *n = js_str(u, "name");
		if (n != NULL && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* The nodes we know of by name only: say why they were not asked. */
static void
fed_not_asked(struct fed *f, json_t *nodes, json_t *un)
{
	const char *name;
	json_t *st;

	json_object_foreach(nodes, name, st)
	{
		bool cfg = false;
		if (!json_is_null(st) || listed(un, name))
			continue;
		for (size_t i = 0; i < f->nnoaddr; i++)
			cfg = cfg || strcmp(f->noaddr[i], name) == 0;
		add_unreachable(un, NULL, name,
		    cfg ? "not asked: its [peer] section has no address (it "
		          "dials us); give its HOST:PORT to ask it"
		        : "not asked: a peer of a node that answered, with no "
		          "address known; give its HOST:PORT or socket to ask "
		          "it");
	}
}

static int
fed_result(struct fed *f, json_t **out)
{
	json_t *nodes = json_object(), *matrix = json_object();
	json_t *un = json_array();
	size_t failed;

	failed = fed_nodes(f, nodes, un);
	for (size_t i = 0; i < f->nnoaddr; i++) {
		if (json_object_get(nodes, f->noaddr[i]) == NULL)
			json_object_set_new(nodes, f->noaddr[i], json_null());
	}
	fed_columns(nodes);
	fed_matrix(nodes, matrix);
	fed_not_asked(f, nodes, un);
	*out = json_pack("{s:o,s:o,s:o}", "nodes", nodes, "matrix", matrix,
	    "unreachable", un);
	if (*out == NULL)
		return ctl_err(EXIT_FAILED, "out of memory");
	if (failed == f->n)
		return EXIT_UNREACH;
	return failed > 0 ? EXIT_FAILED : EXIT_OK;
}

int
cmd_federation(struct ctx *x)
{
	struct fed *f = fed_new();
	json_t *out = NULL;
	int rc;

	if (f == NULL)
		return ctl_err(EXIT_FAILED, "out of memory");
	/* jansson seeds its hash function on first use: not in threads */
	json_object_seed(0);
	if ((rc = targets(x, f)) == EXIT_OK) {
		uint64_t start = conn_now_ms();
		f->o.deadline_ms = start + f->o.timeout_ms;
		start_all(f);
		wait_all(f, f->o.deadline_ms + JALIN_FED_GRACE_MS);
		rc = fed_result(f, &out);
	}
	if (out != NULL)
		x->out->federation(out);
	json_decref(out);
	fed_unref(f);
	return rc;
}
