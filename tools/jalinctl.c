/*
 * jalinctl.c - the admin CLI of a jalin node: options, the command table,
 * help, and wiring (DESIGN.md §5 is the contract).
 *
 * Every command is one row of cmds[] (name, arguments, options, summary,
 * handler, long help) and every option one row of opts[]: usage, --help
 * and `jalinctl COMMAND --help` are generated from these two tables, and so
 * will the man page be. Nothing here prints data; handlers (cmd.h) do,
 * through the output chosen by --json.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "query.h"
#include "schema.h"
#include "uuid.h"

#define DEFAULT_CONFIG "/etc/jalin/jalin.conf"

/* Options. Short ones use their letter, the rest ids from 256. */
enum {
	O_DB = 256,
	O_JSON,
	O_REMOTE,
	O_CERT,
	O_KEY,
	O_CA,
	O_LIMIT,
	O_VERSIONS,
	O_REASON,
	O_HASH,
	O_FILE,
	O_SINCE,
	O_COLLECTION,
	O_BATCH,
	O_ON_ERROR,
};

/* Bit of a command option in struct cmd's opts. */
#define OPT_BIT(id) (1u << ((id)-O_LIMIT))

struct opt {
	int id;
	const char *name;
	const char *arg; /* metavar, NULL for a flag */
	const char *help;
};

static const struct opt gopts[] = {
    {'c', "config", "CONFIG",
        "read the admin socket's path from this jalind config (default: "
        "$JALIN_CONFIG if set, else " DEFAULT_CONFIG ")"},
    {'s', "socket", "SOCKET", "talk to the admin socket at this path"},
    {O_DB, "db", "DIR",
        "open the store in DIR read-only instead of asking the node; "
        "works for status, peers, get, list, export, feed, conflicts, "
        "digest, whether jalind runs or not"},
    {O_JSON, "json", NULL,
        "print JSON for scripts: one compact value per line, keys "
        "sorted (may also follow the command)"},
    {O_REMOTE, "remote", "HOST:PORT",
        "a node's TLS admin port (with --cert, --key, --ca): not "
        "supported yet (exit 2)"},
    {O_CERT, "cert", "FILE", "admin certificate for --remote"},
    {O_KEY, "key", "FILE", "admin private key for --remote"},
    {O_CA, "ca", "FILE", "federation CA certificate for --remote"},
    {'h', "help", NULL, "this help; after a command, that command's help"},
    {'V', "version", NULL, "print the version"},
};

static const struct opt copts[] = {
    {O_LIMIT, "limit", "N",
        "show at most N items (default 100; 1.."
        "10000000)"},
    {O_VERSIONS, "versions", NULL,
        "show each field's version (hlc, time, origin node), the "
        "values in conflict, deletes and the causal context; also shows "
        "deleted and purged records"},
    {O_REASON, "reason", "R",
        "why: erasure_request, retention_expired, unlawful, duplicate or "
        "error (delete: none recorded by default; purge: "
        "erasure_request)"},
    {O_HASH, "request-hash", "HEX",
        "SHA-256 (64 hex digits) of the erasure request, kept in the "
        "tombstone"},
    {O_FILE, "file", "FILE",
        "read the JSON object from FILE (default: standard input)"},
    {O_SINCE, "since", "SEQ",
        "changes after this local sequence number (default 0: from the "
        "start)"},
    {O_COLLECTION, "collection", "C",
        "collection of the lines that have no \"collection\" key"},
    {O_BATCH, "batch", "N",
        "records per request, each committed as one transaction (default "
        "1000; 1..4096)"},
    {O_ON_ERROR, "on-error", "continue|stop",
        "at a bad line: stop there, with every line before it stored "
        "(default), or report it and go on"},
};

#define CMD_WRITE   0x1 /* changes the store: not with --db */
#define CMD_COLL    0x2 /* argv[0] is a collection */
#define CMD_ID      0x4 /* argv[1] is a record id */
#define CMD_OPTCOLL 0x8 /* an optional argv[0] is a collection */

struct cmd {
	const char *name;
	const char *args;
	int min, max;  /* positional arguments */
	unsigned opts; /* OPT_BIT()s */
	unsigned flags;
	int (*fn)(struct ctx *);
	const char *summary;
	const char *help;
};

static const struct cmd cmds[] = {
    {"status", "", 0, 0, 0, 0, cmd_status,
        "the node: sequence, records per collection, store, peers",
        "Shows the node's name and epoch, its change sequence number, the "
        "live records per collection, conflicts, tombstones, the store "
        "(path, map in use, map_size_max), version and uptime, and a table "
        "of peers (NAME STATE LAG_RECORDS LAG_SECONDS LAST_CONTACT "
        "LAST_ERROR). --json prints the node's status object as it is."},
    {"peers", "", 0, 0, 0, 0, cmd_peers, "one line per peer",
        "The peers table of status on its own (--json: an array)."},
    {"put", "COLLECTION [ID]", 1, 2, OPT_BIT(O_FILE),
        CMD_WRITE | CMD_COLL | CMD_ID, cmd_put,
        "write a record from a JSON object; prints its id",
        "Reads one JSON object ({\"field\": value, ...}) from standard "
        "input or --file. Without ID it creates a record and prints the "
        "new id. With the ID of an existing record it sets only the fields "
        "given (null removes one); a field whose value does not change "
        "keeps its version, so a full-record put that changes one field "
        "is an edit of that field alone. \"id\" and \"collection\" keys in "
        "the object must match the arguments (an \"id\" names the record "
        "when ID is not given); they are not fields. --json prints "
        "{\"changed\": BOOL, \"id\": ID}."},
    {"get", "COLLECTION ID", 2, 2, OPT_BIT(O_VERSIONS), CMD_COLL | CMD_ID,
        cmd_get, "print a record as JSON",
        "Prints the record as one flat JSON object: \"id\" and its fields "
        "(dotted names for flattened blocks, e.g. \"pasung.status\"); "
        "pretty with sorted keys, or one compact line with --json."},
    {"delete", "COLLECTION ID", 2, 2, OPT_BIT(O_REASON),
        CMD_WRITE | CMD_COLL | CMD_ID, cmd_delete, "delete a record",
        "Writes a tombstone that removes the field values it has seen. An "
        "edit made concurrently on another node survives and is listed "
        "as a conflict. Prints the id."},
    {"purge", "COLLECTION ID", 2, 2, OPT_BIT(O_REASON) | OPT_BIT(O_HASH),
        CMD_WRITE | CMD_COLL | CMD_ID, cmd_purge,
        "erase a record for good (right to erasure)",
        "Replaces the record by a tombstone that holds no field values, "
        "on this node and on every node it reaches; the id can never be "
        "written again. Prints the id. This cannot be undone."},
    {"list", "COLLECTION", 1, 1, OPT_BIT(O_LIMIT), CMD_COLL, cmd_list,
        "a table of the records of a collection",
        "A table of id and summary fields: case: case_no, status, "
        "cluster; lks: name, status, region_code; partnership: "
        "agreement_no, title, status; resource: kind, capacity_available, "
        "owner_unit; referral: referral_no, status, to_kind. In id order. "
        "--json prints an array of the records."},
    {"export", "[COLLECTION]", 0, 1, 0, CMD_OPTCOLL, cmd_export,
        "all records as JSON Lines",
        "One record per line, keys sorted, compact, with \"collection\", "
        "sorted by collection then id: byte-identical on nodes that hold "
        "the same records. The output is what import reads."},
    {"import", "FILE", 1, 1,
        OPT_BIT(O_COLLECTION) | OPT_BIT(O_BATCH) | OPT_BIT(O_ON_ERROR),
        CMD_WRITE, cmd_import, "load JSON Lines (FILE, or - for stdin)",
        "Each line is one JSON object with \"collection\" (or "
        "--collection) and, optionally, \"id\"; blank lines are skipped, "
        "lines over 1 MiB refused. Lines go to the node in batches; each "
        "batch is one transaction, so a record is stored only when its "
        "batch is confirmed. Bad lines are reported on stderr as "
        "'jalinctl: line N: why'. Progress shows on stderr when it is a "
        "terminal, and a summary at the end. --json prints, as each batch "
        "is committed, {\"batch\", \"first_line\", \"last_line\", "
        "\"stored\", \"changed\", \"errors\": [{\"line\", \"message\"}]}. "
        "Exit status 1 if any line failed."},
    {"feed", "", 0, 0, OPT_BIT(O_SINCE) | OPT_BIT(O_LIMIT), 0, cmd_feed,
        "the change feed: what changed, in order",
        "A table of seq, time, collection, id and state (live, deleted, "
        "purged) of the latest change of each record. --json prints "
        "{\"entries\": [...], \"last_seq\": N}."},
    {"conflicts", "[COLLECTION]", 0, 1, 0, CMD_OPTCOLL, cmd_conflicts,
        "unresolved conflicts; resolve by writing the field again",
        "For each field edited concurrently on two nodes: the winning "
        "value (origin node, time) and the other values. The values may "
        "be personal data. Resolve a conflict by putting the field's "
        "right value. --json prints an array."},
    {"digest", "", 0, 0, 0, 0, cmd_digest,
        "a hash of the live records per collection and of all",
        "Two nodes that hold the same records print the same digest for "
        "a collection: equal digests mean converged."},
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))
#define NGOPT (sizeof(gopts) / sizeof(gopts[0]))
#define NCOPT (sizeof(copts) / sizeof(copts[0]))

static const char help_head[] =
    "NAME\n"
    "    jalinctl - administer a jalin node\n"
    "\n"
    "SYNOPSIS\n"
    "    jalinctl [-c CONFIG | -s SOCKET | --db DIR] [--json]\n"
    "             COMMAND [ARGUMENTS] [OPTIONS]\n"
    "    jalinctl COMMAND --help\n"
    "    jalinctl --help | --version\n"
    "\n"
    "DESCRIPTION\n";

static const char help_description[] =
    "jalinctl talks to a running jalind over its admin socket, or reads a "
    "node's store directly with --db. Data goes to standard output, "
    "messages to standard error.";

static const char help_tail[] =
    "EXIT STATUS\n"
    "    0  success\n"
    "    1  the request failed (the message says what and why)\n"
    "    2  usage error\n"
    "    3  cannot reach the node (config unreadable, socket missing or\n"
    "       refusing, connection lost), or open the store (--db)\n"
    "\n"
    "ENVIRONMENT\n"
    "    JALIN_CONFIG  config file used when neither -c, -s nor --db is "
    "given\n"
    "\n"
    "FILES\n"
    "    " DEFAULT_CONFIG "\n"
    "        default config; its [node] admin_socket names the socket\n"
    "        (default DATA_DIR/jalind.sock)\n"
    "\n"
    "EXAMPLES\n"
    "    jalinctl status\n"
    "    echo '{\"name\": \"Yayasan Peduli Kasih\", \"legal_form\": "
    "\"yayasan\",\n"
    "           \"status\": \"active\", \"region_code\": \"73.71\"}' "
    "| jalinctl put lks\n"
    "    jalinctl get case 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b --versions\n"
    "    jalinctl -c /etc/jalin/jabar.conf export > jabar.jsonl\n"
    "    jalinctl -s /run/jalin/banten.sock import --on-error continue \\\n"
    "             jabar.jsonl\n"
    "    jalinctl --db /var/lib/jalin/jabar digest\n"
    "    jalinctl purge case 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b \\\n"
    "             --reason erasure_request\n";

/* Print text wrapped at 78 columns with indent (words never split). */
static void
wrap(FILE *fp, const char *text, int indent)
{
	int col = 0;

	while (*text != '\0') {
		size_t w = strcspn(text, " ");
		if (col > indent && col + 1 + (int)w > 78) {
			fputc('\n', fp);
			col = 0;
		}
		if (col == 0)
			col = fprintf(fp, "%*s", indent, "");
		else
			col += fprintf(fp, " ");
		col += fprintf(fp, "%.*s", (int)w, text);
		text += w;
		text += strspn(text, " ");
	}
	fputc('\n', fp);
}

static const struct opt *
copt(int id)
{
	for (size_t i = 0; i < NCOPT; i++) {
		if (copts[i].id == id)
			return &copts[i];
	}
	return NULL;
}

static void
print_opt(FILE *fp, const struct opt *o)
{
	if (o->id < 256)
		fprintf(fp, "    -%c, --%s%s%s\n", o->id, o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	else
		fprintf(fp, "    --%s%s%s\n", o->name, o->arg ? " " : "",
		    o->arg ? o->arg : "");
	wrap(fp, o->help, 8);
}

static void
cmd_synopsis(FILE *fp, const struct cmd *c, const char *lead)
{
	fprintf(fp, "%s%s%s%s", lead, c->name, *c->args ? " " : "", c->args);
	for (size_t i = 0; i < NCOPT; i++) {
		if (c->opts & OPT_BIT(copts[i].id))
			fprintf(fp, " [--%s%s%s]", copts[i].name,
			    copts[i].arg ? " " : "",
			    copts[i].arg ? copts[i].arg : "");
	}
	fputc('\n', fp);
}

static void
cmd_help(FILE *fp, const struct cmd *c, int indent)
{
	wrap(fp, c->summary, indent);
	wrap(fp, c->help, indent);
	for (size_t i = 0; i < NCOPT; i++) {
		if (c->opts & OPT_BIT(copts[i].id)) {
			fprintf(fp, "%*s--%s%s%s\n", indent, "", copts[i].name,
			    copts[i].arg ? " " : "",
			    copts[i].arg ? copts[i].arg : "");
			wrap(fp, copts[i].help, indent + 4);
		}
	}
}

static void
full_help(FILE *fp)
{
	fputs(help_head, fp);
	wrap(fp, help_description, 4);
	fputs("\nCOMMANDS\n", fp);
	for (size_t i = 0; i < NCMDS; i++) {
		cmd_synopsis(fp, &cmds[i], "    ");
		cmd_help(fp, &cmds[i], 8);
		fputc('\n', fp);
	}
	fputs("OPTIONS\n", fp);
	for (size_t i = 0; i < NGOPT; i++)
		print_opt(fp, &gopts[i]);
	fputc('\n', fp);
	fputs(help_tail, fp);
}

static void
one_help(FILE *fp, const struct cmd *c)
{
	fputs("SYNOPSIS\n", fp);
	cmd_synopsis(fp, c,
	    "    jalinctl [-c CONFIG | -s SOCKET | --db DIR] "
	    "[--json] ");
	fputs("\nDESCRIPTION\n", fp);
	cmd_help(fp, c, 4);
	fputs("\nSee jalinctl --help for the global options and exit "
	      "status.\n",
	    fp);
}

static void
list_commands(FILE *fp)
{
	fputs("commands:\n", fp);
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(fp, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fputs("see jalinctl --help\n", fp);
}

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
		cmd_synopsis(stderr, c, "usage: jalinctl ");
	else
		list_commands(stderr);
	return EXIT_USAGE;
}

struct global {
	const char *config, *socket, *db, *remote;
	bool json, help, version;
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

static int
parse_global(int argc, char **argv, struct global *g)
{
	struct option lo[NGOPT + 1];
	int ch;

	long_opts(lo, gopts, NGOPT);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:s:hV", lo, NULL)) != -1) {
		if (optarg != NULL && strlen(optarg) >= JALIN_PATH_MAX)
			return usage_err(NULL,
			    "argument of %s is longer than "
			    "%d bytes",
			    argv[optind - 1], JALIN_PATH_MAX - 1);
		switch (ch) {
		case 'c':
			g->config = optarg;
			break;
		case 's':
			g->socket = optarg;
			break;
		case O_DB:
			g->db = optarg;
			break;
		case O_JSON:
			g->json = true;
			break;
		case O_REMOTE:
			g->remote = optarg;
			break;
		case O_CERT:
		case O_KEY:
		case O_CA:
			break;
		case 'h':
			g->help = true;
			break;
		case 'V':
			g->version = true;
			break;
		default:
			return getopt_err(NULL, ch, argv);
		}
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
		    c, "limit", arg, 1, CTL_LIST_LIMIT_MAX, &x->limit);
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
	struct option lo[NCOPT + 3];
	int ch, rc;

	long_opts(lo, copts, NCOPT);
	lo[NCOPT] = (struct option){"json", no_argument, NULL, O_JSON};
	lo[NCOPT + 1] = (struct option){"help", no_argument, NULL, 'h'};
	lo[NCOPT + 2] = (struct option){NULL, 0, NULL, 0};
	optind = 0; /* glibc: start afresh on the command's argv */
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch == O_JSON || ch == 'h') {
			*(ch == 'h' ? &g->help : &g->json) = true;
			continue;
		}
		if (ch == ':' || ch == '?')
			return getopt_err(c, ch, argv);
		if (!(c->opts & OPT_BIT(ch)))
			return usage_err(c, "option --%s does not apply to %s",
			    copt(ch)->name, c->name);
		if (optarg != NULL && strlen(optarg) >= JALIN_PATH_MAX)
			return usage_err(
			    c, "argument of --%s is too long", copt(ch)->name);
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

static int
check_global(const struct cmd *c, const struct global *g)
{
	if (g->remote != NULL)
		return ctl_err(EXIT_USAGE, "--remote is not supported yet");
	if ((g->config != NULL) + (g->socket != NULL) + (g->db != NULL) > 1)
		return usage_err(c, "give only one of -c, -s and --db");
	if (g->db != NULL && (c->flags & CMD_WRITE))
		return ctl_err(EXIT_USAGE,
		    "--db opens the store read-only; write through the "
		    "running node (-c or -s)");
	return EXIT_OK;
}

/* The admin socket: -s, else the config's admin_socket. */
static int
find_socket(const struct global *g, char *out, size_t n)
{
	const char *path = g->config, *env = getenv("JALIN_CONFIG");
	struct jalin_err err;
	struct cfg *cfg;
	int rc;

	if (g->socket != NULL) {
		snprintf(out, n, "%s", g->socket);
		return EXIT_OK;
	}
	if (path == NULL)
		path = env != NULL && *env != '\0' ? env : DEFAULT_CONFIG;
	jalin_err_clear(&err);
	if ((rc = cfg_load(path, &cfg, &err)) != 0)
		return ctl_err(EXIT_UNREACH,
		    "%s (name the node's config with -c CONFIG or its admin "
		    "socket with -s SOCKET)",
		    jalin_err_msg(&err, rc));
	snprintf(out, n, "%s", cfg->admin_socket);
	cfg_free(cfg);
	return EXIT_OK;
}

static int
open_backend(const struct global *g, struct client **cl)
{
	char sock[JALIN_PATH_MAX];
	struct jalin_err err;
	int rc;

	jalin_err_clear(&err);
	if (g->db != NULL) {
		rc = client_open_db(g->db, JALIN_VERSION, cl, &err);
	} else {
		if ((rc = find_socket(g, sock, sizeof(sock))) != EXIT_OK)
			return rc;
		rc = client_open_socket(sock, cl, &err);
	}
	if (rc != 0)
		return ctl_err(EXIT_UNREACH, "%s", jalin_err_msg(&err, rc));
	return EXIT_OK;
}

static int
run(const struct global *g, const struct cmd *c, struct ctx *x)
{
	int rc;

	if ((rc = open_backend(g, &x->cl)) != EXIT_OK)
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
	for (size_t i = 0; i < NCMDS; i++) {
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct global g = {0};
	struct ctx x = {.limit = CTL_LIST_LIMIT,
	    .batch = JALIN_IMPORT_BATCH,
	    .stop_on_error = true};
	const struct cmd *c;
	int rc;

	if ((rc = parse_global(argc, argv, &g)) != EXIT_OK)
		return rc;
	if (g.version) {
		printf("jalinctl %s\n", JALIN_VERSION);
		return EXIT_OK;
	}
	if (optind >= argc) {
		if (g.help) {
			full_help(stdout);
			return EXIT_OK;
		}
		return usage_err(NULL, "no command given");
	}
	if ((c = find_cmd(argv[optind])) == NULL)
		return usage_err(NULL, "unknown command '%.32s'", argv[optind]);
	if ((rc = parse_cmd(c, argc - optind, argv + optind, &g, &x)) != 0)
		return rc;
	if (g.help) {
		one_help(stdout, c);
		return EXIT_OK;
	}
	if ((rc = check_args(c, &x)) != EXIT_OK ||
	    (rc = check_global(c, &g)) != EXIT_OK)
		return rc;
	x.json = g.json;
	x.out = g.json ? &output_json : &output_text;
	return run(&g, c, &x);
}
