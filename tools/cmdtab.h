/*
 * cmdtab.h - jalinctl's command line as data: every command, every option
 * and the prose of the manual, in one place.
 *
 * jalinctl.c parses argv against these tables; help.c renders them as
 * --help, `jalinctl COMMAND --help` and the troff of jalinctl(8)
 * (`jalinctl --man`, written to man/jalinctl.8 by `make man`), so the
 * help and the manual page cannot say different things.
 */
#ifndef JALINCTL_CMDTAB_H
#define JALINCTL_CMDTAB_H

#include <stddef.h>
#include <stdio.h>

#include "cmd.h"

#define DEFAULT_CONFIG "/etc/jalin/jalin.conf"

/* Options. Short ones use their letter, the rest ids from 256. */
enum {
	O_DB = 256,
	O_JSON,
	O_REMOTE,
	O_CERT,
	O_KEY,
	O_CA,
	O_CRL,
	O_TIMEOUT,
	O_PURPOSE,
	O_ENC_KEY,
	O_MAN,
	O_LIMIT, /* command options from here (OPT_BIT) */
	O_VERSIONS,
	O_REASON,
	O_HASH,
	O_FILE,
	O_SINCE,
	O_COLLECTION,
	O_BATCH,
	O_ON_ERROR,
	O_INTERVAL,
	O_COUNT,
};

/* Room for the tables in getopt_long's form (both, and the end). */
#define CTL_OPTS_MAX 32

/* Bit of a command option in struct cmd's opts. */
#define OPT_BIT(id) (1u << ((id)-O_LIMIT))

struct opt {
	int id;
	const char *name;
	const char *arg; /* metavar, NULL for a flag */
	const char *help;
};

#define CMD_WRITE   0x01 /* changes the store: not with --db */
#define CMD_COLL    0x02 /* argv[0] is a collection */
#define CMD_ID      0x04 /* argv[1] is a record id */
#define CMD_OPTCOLL 0x08 /* an optional argv[0] is a collection */
#define CMD_REMOTE  0x10 /* allowed with --remote (the node's reads) */
#define CMD_LIVE    0x20 /* needs the running node: not with --db */
#define CMD_OWN     0x40 /* opens its own connections (federation) */

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

/* A labelled paragraph of the manual (exit codes, files, variables). */
struct item {
	const char *tag;
	const char *text;
};

extern const struct opt ctl_gopts[]; /* global options */
extern const struct opt ctl_copts[]; /* command options */
extern const struct cmd ctl_cmds[];
extern const size_t ctl_ngopts, ctl_ncopts, ctl_ncmds;

extern const char ctl_name_line[];          /* "jalinctl - administer ..." */
extern const char *const ctl_synopsis[];    /* NULL-terminated */
extern const char *const ctl_description[]; /* paragraphs, NULL-ended */
extern const struct item ctl_exit[], ctl_env[], ctl_files[];
extern const size_t ctl_nexit, ctl_nenv, ctl_nfiles;
extern const char *const ctl_examples[]; /* NULL-terminated */
extern const char ctl_see_also[];

/* help.c */

/* The whole manual as --help prints it. */
void help_full(FILE *fp);

/* One command's synopsis, description and options. */
void help_cmd(FILE *fp, const struct cmd *c);

/* "usage: jalinctl NAME ARGS [--opt X]..." style line after lead. */
void help_synopsis(FILE *fp, const struct cmd *c, const char *lead);

/* The list of commands with their summaries (usage errors). */
void help_list(FILE *fp);

/* The manual as troff (man(7)) for man/jalinctl.8. */
void help_man(FILE *fp);

/* A command option by id, NULL if none. */
const struct opt *ctl_copt(int id);

#endif
