/*
 * open.c - how jalinctl reaches a node (struct target): the store with
 * --db, a remote node over TLS with --remote, the admin socket named by
 * -s, or the admin socket of a jalind config (-c, $JALIN_CONFIG, the
 * default path).
 */
#include <stdlib.h>

#include "cmdtab.h"
#include "config.h"
#include "limits.h"

const char *
ctl_config_path(const struct target *t)
{
	const char *env = getenv("JALIN_CONFIG");

	if (t->config != NULL)
		return t->config;
	return env != NULL && *env != '\0' ? env : DEFAULT_CONFIG;
}

void
ctl_conn_opts(const struct target *t, bool bounded, struct conn_opts *o)
{
	*o = (struct conn_opts){.cert = t->cert,
	    .key = t->key,
	    .ca = t->ca,
	    .crl = t->crl,
	    .timeout_ms = bounded ? t->timeout_ms : 0};
}

/* The admin socket: -s, else the config's admin_socket. */
static int
find_socket(const struct target *t, char *out, size_t n)
{
	struct jalin_err err;
	struct cfg *cfg;
	int rc;

	if (t->socket != NULL) {
		snprintf(out, n, "%s", t->socket);
		return EXIT_OK;
	}
	jalin_err_clear(&err);
	if ((rc = cfg_load(ctl_config_path(t), &cfg, &err)) != 0)
		return ctl_err(EXIT_UNREACH,
		    "%s (name the node's config with -c CONFIG or its admin "
		    "socket with -s SOCKET)",
		    jalin_err_msg(&err, rc));
	snprintf(out, n, "%s", cfg->admin_socket);
	cfg_free(cfg);
	return EXIT_OK;
}

int
ctl_open(const struct target *t, bool bounded, struct client **cl)
{
	char sock[JALIN_PATH_MAX];
	struct conn_opts o;
	struct jalin_err err;
	int rc;

	jalin_err_clear(&err);
	if (t->db != NULL) {
		rc = client_open_db(t->db, t->enc_key, JALIN_VERSION, cl, &err);
	} else if (t->remote != NULL) {
		ctl_conn_opts(
		    t, true, &o); /* a remote wait is always bounded */
		rc = client_open_remote(t->remote, &o, cl, &err);
	} else {
		if ((rc = find_socket(t, sock, sizeof(sock))) != EXIT_OK)
			return rc;
		ctl_conn_opts(t, bounded, &o);
		rc = client_open_socket(sock, &o, cl, &err);
	}
	if (rc != 0)
		return ctl_err(EXIT_UNREACH, "%s", jalin_err_msg(&err, rc));
	if (t->purpose != NULL)
		client_set_purpose(*cl, t->purpose);
	return EXIT_OK;
}
