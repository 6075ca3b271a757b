/*
 * cmd.h - jalinctl's command handlers and what they share.
 *
 * jalinctl.c parses the command line against its command table, opens the
 * backend and calls one handler with a struct ctx. A handler asks the node
 * (client.h), hands the results to the output (output.h) and returns the
 * exit status; it prints diagnostics itself, once, as "jalinctl: ...".
 */
#ifndef JALINCTL_CMD_H
#define JALINCTL_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "client.h"
#include "limits.h"
#include "output.h"

/* Exit statuses (DESIGN.md §5). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,  /* the request failed */
	EXIT_USAGE = 2,   /* bad command line */
	EXIT_UNREACH = 3, /* cannot reach the node (or open the store) */
};

/* How a command reaches the node: the global options. */
struct target {
	const char *config;  /* -c (NULL: $JALIN_CONFIG or the default) */
	const char *socket;  /* -s */
	const char *db;      /* --db */
	const char *enc_key; /* --enc-key: opens sealed fields with --db */
	const char *remote;  /* --remote HOST:PORT */
	const char *cert, *key, *ca; /* admin certificate, key, CA */
	const char *crl;             /* --crl: the CA's CRL, or NULL */
	unsigned timeout_ms;         /* --timeout */
	const char *purpose;         /* --purpose: sent with every request */
};

struct ctx {
	const struct target *t;
	struct client *cl; /* NULL for federation, which opens its own */
	const struct output *out;
	bool json;
	int argc; /* the command's positional arguments */
	char **argv;
	/* command options (jalinctl.c parses; handlers read) */
	uint64_t limit;
	uint64_t since;
	uint64_t batch;
	uint64_t interval; /* watch */
	uint64_t count;    /* watch; 0: until interrupted */
	bool versions;
	bool stop_on_error;
	const char *reason;
	const char *hash;
	const char *file;
	const char *collection;
};

int cmd_status(struct ctx *x);
int cmd_peers(struct ctx *x);
int cmd_keys(struct ctx *x);
int cmd_put(struct ctx *x);
int cmd_get(struct ctx *x);
int cmd_delete(struct ctx *x);
int cmd_purge(struct ctx *x);
int cmd_list(struct ctx *x);
int cmd_export(struct ctx *x);
int cmd_import(struct ctx *x);
int cmd_feed(struct ctx *x);
int cmd_conflicts(struct ctx *x);
int cmd_digest(struct ctx *x);
int cmd_audit(struct ctx *x);
int cmd_watch(struct ctx *x);
int cmd_verify(struct ctx *x);
int cmd_federation(struct ctx *x);

/*
 * Open the backend t names (open.c): --db, --remote, -s, or the admin
 * socket of the config (-c, $JALIN_CONFIG, the default). bounded: waits
 * on the local socket are bounded by t->timeout_ms too (watch,
 * federation). EXIT_OK with *cl (client_close), else the failure is
 * printed and EXIT_UNREACH returned.
 */
int ctl_open(const struct target *t, bool bounded, struct client **cl);

/* The config file t names: -c, else $JALIN_CONFIG, else the default. */
const char *ctl_config_path(const struct target *t);

/* conn.h options from t (timeouts, certificate, key, CA). */
void ctl_conn_opts(const struct target *t, bool bounded, struct conn_opts *o);

/*
 * Send r and wait for the answer. EXIT_OK with *result (caller owns it);
 * else the failure is printed ("jalinctl: MESSAGE") and the exit status
 * returned: EXIT_FAILED when the node refused, EXIT_UNREACH when the
 * connection failed. Frees nothing: the caller frees r.
 */
int ctl_call(struct ctx *x, struct creq *r, json_t **result);

/* Ask for the status and show it (status, and each refresh of watch). */
int ctl_status(struct ctx *x);

/* Print "jalinctl: " + message to stderr; returns code. */
int ctl_err(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Read a whole stream of at most max bytes into *out (malloc'd, NUL
 * added). EXIT_OK, or EXIT_FAILED after printing what went wrong. */
int ctl_read_all(
    FILE *fp, const char *name, size_t max, char **out, size_t *len);

#endif
