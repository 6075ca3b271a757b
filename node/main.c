/*
 * main.c - jalind: parse options, load the config, wire the modules, run
 * the event loop. Signals arrive as libevent events: SIGTERM/SIGINT stop
 * cleanly (queued writes are committed and answered first), SIGHUP reloads
 * the config.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin.h"
#include "config.h"
#include "hlc.h"
#include "log.h"
#include "node.h"
#include "metrics.h"
#include "ops.h"
#include "conn.h"
#include "feed.h"
#include "repl.h"
#include "gc.h"
#include "keyring.h"
#include "record.h"
#include "reseal.h"
#include "retention.h"
#include "crypt.h"
#include "store.h"
#include "storedb.h"

struct sigs {
	struct event *term, *intr, *hup;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: jalind -c CONFIG [-f] [-v]\n"
	    "       jalind -n -c CONFIG\n"
	    "\n"
	    "  -c CONFIG  configuration file (see jalin.conf(5))\n"
	    "  -f         stay in the foreground and log to stderr\n"
	    "  -v         more verbose logging (debug)\n"
	    "  -n         check the configuration, print it normalized, exit\n"
	    "  -V         print the version\n"
	    "  -h         this help\n");
}

/* -n: the encryption key pair a node needs, and the roster, as jalind
 * would load them (no store: what peers gave is not checked). */
static int
check_keyring(const struct cfg *cfg, struct jalin_err *err)
{
	struct keyring *kr = NULL;
	int rc;

	log_init(1, cfg->log_level, "jalind");
	rc = kr_open(cfg, NULL, &kr, err);
	kr_free(kr);
	return rc;
}

static int
check_config(const char *path)
{
	struct jalin_err err;
	struct cfg *cfg;
	int rc;

	jalin_err_clear(&err);
	if ((rc = cfg_load(path, &cfg, &err)) != 0) {
		fprintf(stderr, "jalind: %s\n", jalin_err_msg(&err, rc));
		return 1;
	}
	rc = cfg_check_files(cfg, &err);
	if (rc == 0 && cfg->tls_ca[0] != '\0')
		rc = check_keyring(cfg, &err);
	cfg_print(cfg, stdout);
	if (rc != 0)
		fprintf(stderr, "jalind: %s\n", jalin_err_msg(&err, rc));
	else
		fprintf(stderr, "jalind: configuration '%s' is valid\n", path);
	cfg_free(cfg);
	return rc != 0;
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct node *n = arg;

	(void)what;
	if (n->stopping)
		return;
	log_notice("node %s: stopping (signal %d)", n->cfg->name, (int)sig);
	n->stopping = true;
	ops_flush(n->ops); /* answer what was accepted */
	event_base_loopexit(n->base, NULL);
}

/* Settings that the running process cannot take over without a restart. */
static void
warn_restart(const struct cfg *old, const struct cfg *nw)
{
	if (strcmp(old->name, nw->name) != 0 ||
	    strcmp(old->data_dir, nw->data_dir) != 0 ||
	    strcmp(old->admin_socket, nw->admin_socket) != 0 ||
	    old->map_size_max != nw->map_size_max || old->seal != nw->seal ||
	    memcmp(&old->metrics_listen, &nw->metrics_listen,
	        sizeof(old->metrics_listen)) != 0 ||
	    memcmp(&old->listen, &nw->listen, sizeof(old->listen)) != 0)
		log_warnx("config: name, data_dir, admin_socket, listen, "
		          "metrics_listen, map_size_max and seal take effect "
		          "only after a restart");
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct node *n = arg;
	struct jalin_err err;
	struct cfg *nc = NULL;
	int rc;

	(void)sig;
	(void)what;
	jalin_err_clear(&err);
	if ((rc = cfg_load(n->cfg->path, &nc, &err)) == 0)
		rc = cfg_check_files(nc, &err);
	if (rc != 0) {
		cfg_free(nc);
		log_warnx("config: reload failed, keeping the running "
		          "configuration: %s",
		    jalin_err_msg(&err, rc));
		return;
	}
	warn_restart(n->cfg, nc);
	if ((rc = conn_reload(n->peers, nc, &err)) != 0) {
		cfg_free(nc);
		log_warnx("config: reload failed, keeping the running "
		          "configuration: %s",
		    jalin_err_msg(&err, rc));
		return;
	}
	if ((rc = kr_recheck(n->keyring, nc, &err)) != 0)
		log_warnx("keyring: not re-checked, keeping the CA and CRL it "
		          "had: %s",
		    jalin_err_msg(&err, rc));
	log_set_level(nc->log_level);
	/* Keep what cannot change live; take the rest. */
	memcpy(nc->name, n->cfg->name, sizeof(nc->name));
	memcpy(nc->data_dir, n->cfg->data_dir, sizeof(nc->data_dir));
	memcpy(
	    nc->admin_socket, n->cfg->admin_socket, sizeof(nc->admin_socket));
	cfg_free(n->cfg);
	n->cfg = nc;
	log_notice("config: reloaded '%s'", nc->path);
}

static int
add_signals(struct node *n, struct sigs *s)
{
	signal(SIGPIPE, SIG_IGN);
	s->term = evsignal_new(n->base, SIGTERM, on_stop, n);
	s->intr = evsignal_new(n->base, SIGINT, on_stop, n);
	s->hup = evsignal_new(n->base, SIGHUP, on_hup, n);
	if (s->term == NULL || s->intr == NULL || s->hup == NULL ||
	    evsignal_add(s->term, NULL) != 0 ||
	    evsignal_add(s->intr, NULL) != 0 || evsignal_add(s->hup, NULL) != 0)
		return -1;
	return 0;
}

static void
free_signals(struct sigs *s)
{
	if (s->term)
		event_free(s->term);
	if (s->intr)
		event_free(s->intr);
	if (s->hup)
		event_free(s->hup);
}

/* crypt.h's all_cases: this node if it is one, its all_cases peers, and
 * [node] all_cases_nodes (the same nodes authz.h counts). */
static size_t
all_cases_names(void *arg, struct crypt_name *out, size_t max)
{
	const struct cfg *cfg = ((const struct node *)arg)->cfg;
	const char *p = cfg->all_cases_nodes;
	size_t k = 0;

	if (cfg->all_cases && k < max)
		out[k++] =
		    (struct crypt_name){cfg->name, (uint8_t)strlen(cfg->name)};
	for (unsigned i = 0; i < cfg->npeers && k < max; i++)
		if (cfg->peers[i].all_cases)
			out[k++] = (struct crypt_name){cfg->peers[i].name,
			    (uint8_t)strlen(cfg->peers[i].name)};
	while (*p != '\0' && k < max) {
		size_t len = strcspn(p, ",");
		if (len > 0 && len <= JALIN_NAME_MAX)
			out[k++] = (struct crypt_name){p, (uint8_t)len};
		p += len;
		p += strspn(p, ", ");
	}
	return k;
}

/* crypt.h's pub: a node's encryption key from the key ring. */
static EVP_PKEY *
enc_pub(void *arg, const char *name, size_t len)
{
	return kr_pub(((const struct node *)arg)->keyring, name, len);
}

/* Seal personal fields of cases and referrals when this node has an
 * encryption key (crypt.h; the key ring says when one is required). */
static int
start_crypt(struct node *n, struct jalin_err *err)
{
	const struct crypt_keys k = {enc_pub, all_cases_names, n};
	EVP_PKEY *priv = kr_self(n->keyring);

	if (priv == NULL)
		return 0;
	/* it reads sealed fields with its key in any case; it seals what it
	 * writes unless [node] seal = no (offices still on 0.3) */
	if ((n->crypt = crypt_new(n->cfg->name, priv, &k)) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	if (!n->cfg->seal)
		return 0;
	ops_set_crypt(n->ops, n->crypt);
	return reseal_start(n, &n->reseal, err);
}

static int
start(struct node *n, struct jalin_err *err)
{
	struct store_opts so = {
	    n->cfg->data_dir, n->cfg->name, n->cfg->map_size_max, 0};
	int rc;

	if ((rc = store_open(&so, &n->store, err)) != 0)
		return rc;
	if (store_upgraded(n->store) > 0)
		log_notice(
		    "store %s: upgraded to format %d (%llu record states "
		    "written again in record format %d)",
		    n->cfg->data_dir, STDB_FORMAT,
		    (unsigned long long)store_upgraded(n->store), REC_FORMAT);
	if ((rc = kr_open(n->cfg, n->store, &n->keyring, err)) != 0)
		return rc;
	if ((n->ops = ops_new(n->base, n->store)) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	if ((rc = repl_start(n, &n->peers, err)) != 0)
		return rc;
	ops_set_hook(n->ops, (void (*)(void *))feed_notify, n->peers);
	ops_set_authz(n->ops,
	    &(struct authz_nodes){
	        authz_node_all_cases, authz_node_authority_from, n});
	if ((rc = start_crypt(n, err)) != 0)
		return rc;
	if ((rc = admin_open(n, &n->admin, err)) != 0)
		return rc;
	/* remote admins' requests take the local socket's path (admin.c) */
	conn_set_admin(n->peers, admin_remote, n->admin);
	if ((rc = metrics_start(n, &n->metrics, err)) != 0)
		return rc;
	if ((rc = retention_start(n, &n->retention, err)) != 0)
		return rc;
	n->started_ms = hlc_wall_ms();
	return 0;
}

static void
stop(struct node *n)
{
	n->stopping = true; /* answers queue no more work (apply.c) */
	metrics_stop(n->metrics);
	conn_set_admin(n->peers, NULL, NULL);
	admin_close(n->admin);
	if (n->ops)
		ops_flush(n->ops);
	conn_stop(n->peers);
	ops_free(n->ops);
	gc_free(n->gc);         /* after ops: its last run ends there */
	reseal_stop(n->reseal); /* after ops: it answers its writes */
	crypt_free(n->crypt);
	kr_free(n->keyring);          /* after conn: CERTs learn into it */
	retention_stop(n->retention); /* after ops: it answers its purges */
	store_close(n->store);
	if (n->base)
		event_base_free(n->base);
	cfg_free(n->cfg);
}

/*
 * Each commit frees LMDB's dirty pages and each batch its buffers; glibc
 * would hand that memory back to the kernel and fault it in again for the
 * next batch (a tenth of the time of a sync went to page faults). Keep up
 * to 8 MiB of freed heap, and serve buffers up to 4 MiB from the heap.
 */
static void
tune_malloc(void)
{
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
}

static int
run(const char *path, bool foreground, int verbose)
{
	struct node n = {0};
	struct sigs sigs = {0};
	struct jalin_err err;
	char name[JALIN_NAME_MAX + 1];
	sigset_t stopsigs, old;
	int rc;

	/* Held until the loop's signal events exist (below). */
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGINT);
	sigaddset(&stopsigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &stopsigs, &old);
	jalin_err_clear(&err);
	if ((rc = cfg_load(path, &n.cfg, &err)) != 0 ||
	    (rc = cfg_check_files(n.cfg, &err)) != 0) {
		fprintf(stderr, "jalind: %s\n", jalin_err_msg(&err, rc));
		cfg_free(n.cfg);
		return 1;
	}
	log_init(
	    foreground, verbose ? CFG_LOG_DEBUG : n.cfg->log_level, "jalind");
	tune_malloc();
	if (!foreground && daemon(0, 0) != 0) {
		fprintf(stderr, "jalind: cannot daemonize\n");
		cfg_free(n.cfg);
		return 1;
	}
	/* Signals first: a SIGTERM that arrives while the store, the sockets
	 * and the peers are being set up waits for the loop and stops the
	 * node cleanly, instead of killing it half-started. */
	if ((n.base = event_base_new()) == NULL ||
	    event_base_priority_init(n.base, 2) != 0 ||
	    add_signals(&n, &sigs) != 0)
		rc = jalin_err_set(&err, JALIN_ENOMEM,
		    "cannot create the event loop or its signal events");
	else
		rc = start(&n, &err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_errx("node %s: cannot start: %s", n.cfg->name,
		    jalin_err_msg(&err, rc));
		free_signals(&sigs);
		stop(&n);
		return 1;
	}
	log_notice("node %s: started (store '%s', admin socket '%s')",
	    n.cfg->name, n.cfg->data_dir, n.cfg->admin_socket);
	event_base_dispatch(n.base);
	free_signals(&sigs);
	snprintf(name, sizeof(name), "%s", n.cfg->name);
	stop(&n);
	log_notice("node %s: stopped", name);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	bool foreground = false, check = false;
	int verbose = 0, ch;

	while ((ch = getopt(argc, argv, "c:fnvVh")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("jalind %s\n", JALIN_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	return check ? check_config(path) : run(path, foreground, verbose);
}
