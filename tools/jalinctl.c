/*
 * jalinctl.c - the admin CLI of a jalin node: parse the command line
 * against the tables of cmdtab.c, check it, open the backend and run one
 * command (DESIGN.md section 5 is the contract).
 *
 * Nothing here prints data; handlers (cmd.h) do, through the output
 * chosen by --json. Usage, --help, `jalinctl COMMAND --help` and the
 * manual page (--man, hidden) come from the same tables (help.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cmdtab.h"
#include "config.h"
#include "query.h"
#include "schema.h"
#include "uuid.h"

static int usage_err(const struct cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
usage_err(const struct cmd *c, const char *fmt, ...)
{
	va_list ap;

	fputs("jalinctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c != NULL)
		help_synopsis(stderr, c, "usage: jalinctl ");
	else
		help_list(stderr);
	return EXIT_USAGE;
}

struct global {
	struct target t;
	bool json, help, version, man;
};

/* getopt_long's table from ours (names live in one place). */
static void
long_opts(struct option *lo, const struct opt *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lo[i] = (struct option){t[i].name,
		    t[i].arg ? required_argument : no_argument, NULL, t[i].id};
	lo[n] = (struct option){NULL, 0, NULL, 0};
}

/* A getopt error: missing argument (':') or unknown option ('?'). */
static int
getopt_err(const struct cmd *c, int ch, char **argv)
{
	const char *what = argv[optind - 1];

	if (ch == ':')
		return usage_err(c, "option %s needs an argument", what);
	if (optopt != 0 && optopt < 256)
		return usage_err(c, "unknown option '-%c'", optopt);
	return usage_err(c, "unknown option '%s'", what);
}

static int parse_u64(const struct cmd *c, const char *opt, const char *s,
    uint64_t lo, uint64_t hi, uint64_t *v);

/* One global option with its argument. */
static int
take_gopt(int ch, const char *arg, struct global *g, char **argv)
{
	uint64_t secs;
	int rc;

	switch (ch) {
	case 'c':
		g->t.config = arg;
		return EXIT_OK;
	case 's':
		g->t.socket = arg;
		return EXIT_OK;
	case O_DB:
		g->t.db = arg;
		return EXIT_OK;
	case O_ENC_KEY:
		g->t.enc_key = arg;
		return EXIT_OK;
	case O_REMOTE:
		g->t.remote = arg;
		return EXIT_OK;
	case O_CERT:
		g->t.cert = arg;
		return EXIT_OK;
	case O_KEY:
		g->t.key = arg;
		return EXIT_OK;
	case O_CA:
		g->t.ca = arg;
		return EXIT_OK;
	case O_CRL:
		g->t.crl = arg;
		return EXIT_OK;
	case O_TIMEOUT:
		rc = parse_u64(
		    NULL, "timeout", arg, 1, JALIN_CTL_TIMEOUT_MAX, &secs);
		g->t.timeout_ms = (unsigned)secs * 1000;
		return rc;
	case O_PURPOSE:
		if (strlen(arg) > AUDIT_PURPOSE_MAX)
			return usage_err(NULL,
			    "--purpose: %zu bytes exceeds the limit of %d",
			    strlen(arg), AUDIT_PURPOSE_MAX);
		g->t.purpose = arg;
		return EXIT_OK;
	case O_JSON:
		g->json = true;
		return EXIT_OK;
	case O_MAN:
		g->man = true;
		return EXIT_OK;
	case 'h':
		g->help = true;
		return EXIT_OK;
	case 'V':
		g->version = true;
		return EXIT_OK;
	}
	return getopt_err(NULL, ch, argv);
}

static int
parse_global(int argc, char **argv, struct global *g)
{
	struct option lo[CTL_OPTS_MAX];
	int ch, rc;

	long_opts(lo, ctl_gopts, ctl_ngopts);
	/* --man is for make man, not for people: not in the tables */
	lo[ctl_ngopts] = (struct option){"man", no_argument, NULL, O_MAN};
	lo[ctl_ngopts + 1] = (struct option){NULL, 0, NULL, 0};
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:s:hV", lo, NULL)) != -1) {
		if (optarg != NULL && strlen(optarg) >= JALIN_PATH_MAX)
			return usage_err(NULL,
			    "argument of %s is longer than "
			    "%d bytes",
			    argv[optind - 1], JALIN_PATH_MAX - 1);
		if ((rc = take_gopt(ch, optarg, g, argv)) != EXIT_OK)
			return rc;
	}
	return EXIT_OK;
}

static int
parse_u64(const struct cmd *c, const char *opt, const char *s, uint64_t lo,
    uint64_t hi, uint64_t *v)
{
	unsigned long long n;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9' ||
	    ((n = strtoull(s, &end, 10)), *end != '\0') || errno != 0)
		return usage_err(
		    c, "--%s: '%.32s' is not a whole number", opt, s);
	if (n < lo || n > hi)
		return usage_err(c, "--%s: %llu is out of range (%llu..%llu)",
		    opt, n, (unsigned long long)lo, (unsigned long long)hi);
	*v = n;
	return EXIT_OK;
}

static bool
known_reason(const char *r)
{
	for (size_t i = 0; schema_deletion_reasons[i] != NULL; i++) {
		if (strcmp(schema_deletion_reasons[i], r) == 0)
			return true;
	}
	return false;
}

static int
check_hash(const struct cmd *c, const char *h)
{
	uint8_t b[32];

	if (strlen(h) != 64 || hex_decode(h, 64, b, sizeof(b)) != 0)
		return usage_err(c,
		    "--request-hash: must be 64 hex digits "
		    "(a SHA-256)");
	return EXIT_OK;
}

/* One command option with its argument (checked). */
static int
take_copt(const struct cmd *c, int id, const char *arg, struct ctx *x)
{
	switch (id) {
	case O_LIMIT:
		return parse_u64(
		    c, "limit", arg, 1, JALIN_CTL_LIST_LIMIT_MAX, &x->limit);
	case O_SINCE:
		return parse_u64(c, "since", arg, 0, INT64_MAX, &x->since);
	case O_BATCH:
		return parse_u64(
		    c, "batch", arg, 1, JALIN_BATCH_RECORDS_MAX, &x->batch);
	case O_VERSIONS:
		x->versions = true;
		return EXIT_OK;
	case O_REASON:
		x->reason = arg;
		return known_reason(arg)
		    ? EXIT_OK
		    : usage_err(c,
		          "--reason: '%.32s' is not one of "
		          "erasure_request, retention_expired, "
		          "unlawful, duplicate, error",
		          arg);
	case O_HASH:
		x->hash = arg;
		return check_hash(c, arg);
	case O_FILE:
		x->file = arg;
		return EXIT_OK;
	case O_COLLECTION:
		x->collection = arg;
		return EXIT_OK;
	case O_INTERVAL:
		return parse_u64(c, "interval", arg, 1,
		    JALIN_CTL_WATCH_INTERVAL_MAX, &x->interval);
	case O_COUNT:
		return parse_u64(
		    c, "count", arg, 0, JALIN_CTL_WATCH_COUNT_MAX, &x->count);
	case O_ON_ERROR:
		x->stop_on_error = strcmp(arg, "stop") == 0;
		return x->stop_on_error || strcmp(arg, "continue") == 0
		    ? EXIT_OK
		    : usage_err(c,
		          "--on-error: '%.32s' is not continue or "
		          "stop",
		          arg);
	}
	return usage_err(c, "internal error: option %d", id);
}

static int
parse_cmd(
    const struct cmd *c, int argc, char **argv, struct global *g, struct ctx *x)
{
	struct option lo[CTL_OPTS_MAX];
	int ch, rc;

	/* the command's options, then the global ones (long names only) */
	long_opts(lo, ctl_copts, ctl_ncopts);
	long_opts(lo + ctl_ncopts, ctl_gopts, ctl_ngopts);
	optind = 0; /* glibc: start afresh on the command's argv */
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch == ':' || ch == '?')
			return getopt_err(c, ch, argv);
		if (optarg != NULL && strlen(optarg) >= JALIN_PATH_MAX)
			return usage_err(
			    c, "argument of %s is too long", argv[optind - 1]);
		if (ch < O_LIMIT) {
			if ((rc = take_gopt(ch, optarg, g, argv)) != EXIT_OK)
				return rc;
			continue;
		}
		if (!(c->opts & OPT_BIT(ch)))
			return usage_err(c, "option --%s does not apply to %s",
			    ctl_copt(ch)->name, c->name);
		if ((rc = take_copt(c, ch, optarg, x)) != EXIT_OK)
			return rc;
	}
	x->argc = argc - optind;
	x->argv = argv + optind;
	return EXIT_OK;
}

static int
check_coll(const struct cmd *c, const char *name)
{
	struct jalin_err err;

	jalin_err_clear(&err);
	if (query_coll(name, strlen(name), &err) == NULL)
		return usage_err(c, "%s", jalin_err_msg(&err, JALIN_EINVAL));
	return EXIT_OK;
}

static int
check_args(const struct cmd *c, struct ctx *x)
{
	uint8_t id[UUID_LEN];

	if (x->argc < c->min)
		return usage_err(c, "%s needs %s", c->name, c->args);
	if (x->argc > c->max)
		return usage_err(c, "too many arguments for %s", c->name);
	for (int i = 0; i < x->argc; i++) {
		if (strlen(x->argv[i]) >= JALIN_PATH_MAX)
			return usage_err(c, "argument %d is too long", i + 1);
	}
	if (((c->flags & CMD_COLL) ||
	        ((c->flags & CMD_OPTCOLL) && x->argc > 0)) &&
	    check_coll(c, x->argv[0]) != EXIT_OK)
		return EXIT_USAGE;
	if (x->collection != NULL && check_coll(c, x->collection) != EXIT_OK)
		return EXIT_USAGE;
	if ((c->flags & CMD_ID) && x->argc > 1 &&
	    uuid_parse(x->argv[1], strlen(x->argv[1]), id) != 0)
		return usage_err(c,
		    "'%.40s' is not a record id (a UUID like "
		    "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b)",
		    x->argv[1]);
	return EXIT_OK;
}

/* Which way to the node, and is this command allowed that way? */
static int
check_target(const struct cmd *c, const struct target *t)
{
	struct cfg_addr a;

	if ((t->config != NULL) + (t->socket != NULL) + (t->db != NULL) +
	        (t->remote != NULL) >
	    1)
		return usage_err(
		    c, "give only one of -c, -s and --db (or --remote)");
	if (t->db != NULL && (c->flags & CMD_WRITE))
		return ctl_err(EXIT_USAGE,
		    "--db opens the store read-only; write through the "
		    "running node (-c or -s)");
	if (t->db != NULL && (c->flags & (CMD_LIVE | CMD_OWN)))
		return ctl_err(EXIT_USAGE,
		    "%s needs the running node (-c or -s), not --db", c->name);
	if (t->remote != NULL && c->fn == cmd_federation)
		return ctl_err(EXIT_USAGE,
		    "federation takes the nodes to ask as arguments "
		    "(HOST:PORT ...), not --remote");
	if (t->remote != NULL && !(c->flags & CMD_REMOTE))
		return ctl_err(EXIT_USAGE,
		    "%s is not allowed over --remote: a remote admin may only "
		    "read (status, peers, watch, get, list, export, feed, "
		    "conflicts, digest); run it on the node's machine",
		    c->name);
	if (t->remote != NULL && cfg_parse_addr(t->remote, &a) != 0)
		return usage_err(c,
		    "--remote: '%.300s' is not HOST:PORT (or [IPv6]:PORT)",
		    t->remote);
	if (t->remote != NULL &&
	    (t->cert == NULL || t->key == NULL || t->ca == NULL))
		return usage_err(c, "--remote needs --cert, --key and --ca");
	if (t->remote == NULL && c->fn != cmd_federation &&
	    (t->cert != NULL || t->key != NULL || t->ca != NULL ||
	        t->crl != NULL))
		return usage_err(c,
		    "--cert, --key, --ca and --crl go with --remote or "
		    "federation");
	return EXIT_OK;
}

static int
run(const struct global *g, const struct cmd *c, struct ctx *x)
{
	int rc;

	x->t = &g->t;
	if (!(c->flags & CMD_OWN) &&
	    (rc = ctl_open(&g->t, false, &x->cl)) != EXIT_OK)
		return rc;
	rc = c->fn(x);
	client_close(x->cl);
	if ((fflush(stdout) != 0 || ferror(stdout)) && rc == EXIT_OK)
		rc = ctl_err(EXIT_FAILED, "cannot write to standard output: %s",
		    strerror(errno));
	return rc;
}

static const struct cmd *
find_cmd(const char *name)
{
	for (size_t i = 0; i < ctl_ncmds; i++) {
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	}
	return NULL;
}

/* --version, --help and --man without a command: 1 if one was done. */
static int
info_only(const struct global *g, int argc)
{
	if (g->version) {
		printf("jalinctl %s\n", JALIN_VERSION);
		return 1;
	}
	if (g->man) {
		help_man(stdout);
		return 1;
	}
	if (optind >= argc && g->help) {
		help_full(stdout);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct global g = {.t.timeout_ms = JALIN_CTL_TIMEOUT * 1000};
	struct ctx x = {.limit = JALIN_CTL_LIST_LIMIT,
	    .batch = JALIN_IMPORT_BATCH,
	    .interval = JALIN_CTL_WATCH_INTERVAL,
	    .stop_on_error = true};
	const struct cmd *c;
	int rc;

	if ((rc = parse_global(argc, argv, &g)) != EXIT_OK)
		return rc;
	if (info_only(&g, argc))
		return EXIT_OK;
	if (optind >= argc)
		return usage_err(NULL, "no command given");
	if ((c = find_cmd(argv[optind])) == NULL)
		return usage_err(NULL, "unknown command '%.32s'", argv[optind]);
	if ((rc = parse_cmd(c, argc - optind, argv + optind, &g, &x)) != 0)
		return rc;
	if (g.help) {
		help_cmd(stdout, c);
		return EXIT_OK;
	}
	if ((rc = check_args(c, &x)) != EXIT_OK ||
	    (rc = check_target(c, &g.t)) != EXIT_OK)
		return rc;
	x.json = g.json;
	x.out = g.json ? &output_json : &output_text;
	return run(&g, c, &x);
}
