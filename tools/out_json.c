/*
 * out_json.c - the --json rendering: one compact JSON value per line with
 * sorted keys, so that output is stable and diffable and every line parses
 * on its own (scripts read import's batch reports line by line while the
 * import runs).
 */
#include <stdio.h>

#include "output.h"

void
out_json_line(json_t *v)
{
	json_dumpf(v, stdout, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	fputc('\n', stdout);
}

static void
feed(json_t *entries, json_int_t last_seq)
{
	json_t *o = json_pack(
	    "{sOsI}", "entries", entries, "last_seq", (json_int_t)last_seq);

	if (o != NULL)
		out_json_line(o);
	json_decref(o);
}

static void
status(json_t *st, const char *via)
{
	(void)via;
	out_json_line(st);
}

static void
list(const char *coll, json_t *records)
{
	(void)coll;
	out_json_line(records);
}

/* A batch report must reach the reader before the next batch is sent. */
static void
import_batch(json_t *report)
{
	out_json_line(report);
	fflush(stdout);
}

const struct output output_json = {
    .status = status,
    .peers = out_json_line,
    .verify = out_json_line,
    .federation = out_json_line,
    .written = out_json_line,
    .record = out_json_line,
    .audit = out_json_line,
    .list = list,
    .export_line = out_json_line,
    .feed = feed,
    .conflicts = out_json_line,
    .digest = out_json_line,
    .import_batch = import_batch,
};
