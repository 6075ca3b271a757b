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
#include "output.h"

/* Exit statuses (DESIGN.md §5). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,  /* the request failed */
	EXIT_USAGE = 2,   /* bad command line */
	EXIT_UNREACH = 3, /* cannot reach the node (or open the store) */
};

/* Default and largest list --limit / feed --limit. */
#define CTL_LIST_LIMIT     100
#define CTL_LIST_LIMIT_MAX 10000000
/* put reads at most this much JSON (the request must fit one frame). */
#define CTL_PUT_INPUT_MAX JALIN_ADMIN_FRAME_MAX

struct ctx {
	struct client *cl;
	const struct output *out;
	bool json;
	int argc; /* the command's positional arguments */
	char **argv;
	/* command options (jalinctl.c parses; handlers read) */
	uint64_t limit;
	uint64_t since;
	uint64_t batch;
	bool versions;
	bool stop_on_error;
	const char *reason;
	const char *hash;
	const char *file;
	const char *collection;
};

int cmd_status(struct ctx *x);
int cmd_peers(struct ctx *x);
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

/*
 * Send r and wait for the answer. EXIT_OK with *result (caller owns it);
 * else the failure is printed ("jalinctl: MESSAGE") and the exit status
 * returned: EXIT_FAILED when the node refused, EXIT_UNREACH when the
 * connection failed. Frees nothing: the caller frees r.
 */
int ctl_call(struct ctx *x, struct creq *r, json_t **result);

/* Print "jalinctl: " + message to stderr; returns code. */
int ctl_err(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Read a whole stream of at most max bytes into *out (malloc'd, NUL
 * added). EXIT_OK, or EXIT_FAILED after printing what went wrong. */
int ctl_read_all(
    FILE *fp, const char *name, size_t max, char **out, size_t *len);

#endif
