/*
 * out_text.c - the rendering for people: aligned tables, human sizes and
 * times, records as pretty JSON (2-space indent, keys sorted). The node's
 * own state (status, peers, verify, federation) is in out_status.c.
 *
 * What is shown comes from records that anyone may have typed, from a
 * client's purpose or from a peer's error: every string is escaped
 * (esc.h: "\n", "\x1b"...) so that a value cannot start a line of its own,
 * move the cursor or recolour the admin's terminal. Records (get) are
 * JSON, escaped by its rules and out_json_dumps.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esc.h"
#include "json.h"
#include "out_text.h"
#include "output.h"

/* Display width: UTF-8 code points, not bytes. */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

const char *
ot_sv(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "-";
}

char *
ot_escape(char *s)
{
	char *e = esc_dup(s);

	free(s);
	return e;
}

const char *
ot_esc(const char *s, char *buf, size_t size)
{
	if (s == NULL)
		s = "-";
	esc_text(buf, size, s, strlen(s), NULL);
	return buf;
}

/* Text of a JSON value for a cell (malloc'd): "-" for null or absent. */
static char *
cell_text(json_t *v)
{
	char tmp[64];

	if (v == NULL)
		return strdup("-");
	switch (json_typeof(v)) {
	case JSON_STRING:
		return esc_dup(json_string_value(v));
	case JSON_INTEGER:
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return strdup(tmp);
	case JSON_REAL:
		snprintf(tmp, sizeof(tmp), "%.1f", json_real_value(v));
		return strdup(tmp);
	case JSON_TRUE:
		return strdup("yes");
	case JSON_FALSE:
		return strdup("no");
	case JSON_OBJECT:
	case JSON_ARRAY:
		return ot_escape(
		    out_json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS));
	default:
		return strdup("-");
	}
}

void
ot_table_init(struct table *t, unsigned ncols, const char *const *head)
{
	*t = (struct table){.ncols = ncols, .head = head};
}

/* Room for one more row: its first cell, or NULL (out of memory). */
static char **
new_row(struct table *t)
{
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? 2 * t->cap : 64;
		char **p = realloc(t->cells, ncap * t->ncols * sizeof(*p));
		if (p == NULL) {
			t->failed = 1;
			return NULL;
		}
		t->cells = p;
		t->cap = ncap;
	}
	return &t->cells[t->nrows++ * t->ncols];
}

void
ot_table_row(struct table *t, json_t *obj, const char *const *keys)
{
	char **row = new_row(t);

	for (unsigned c = 0; row != NULL && c < t->ncols; c++) {
		row[c] = cell_text(json_object_get(obj, keys[c]));
		t->failed |= row[c] == NULL;
	}
}

void
ot_table_add(struct table *t, const char *const *cells)
{
	char **row = new_row(t);

	for (unsigned c = 0; row != NULL && c < t->ncols; c++) {
		row[c] = esc_dup(cells[c] != NULL ? cells[c] : "-");
		t->failed |= row[c] == NULL;
	}
}

static void
print_cells(const struct table *t, const char *const *cells, const size_t *w)
{
	for (unsigned c = 0; c < t->ncols; c++) {
		const char *s = cells[c] != NULL ? cells[c] : "?";
		if (c + 1 == t->ncols)
			printf("%s\n", s);
		else
			printf("%s%*s", s, (int)(w[c] - width(s) + 2), "");
	}
}

void
ot_table_print(struct table *t)
{
	size_t *w = calloc(t->ncols, sizeof(*w));
	char **head = calloc(t->ncols, sizeof(*head));

	for (unsigned c = 0; head != NULL && c < t->ncols; c++)
		t->failed |= (head[c] = esc_dup(t->head[c])) == NULL;
	if (t->failed || head == NULL) {
		free(w);
		w = NULL;
	}
	for (unsigned c = 0; w != NULL && c < t->ncols; c++) {
		w[c] = width(head[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			if (s != NULL && width(s) > w[c])
				w[c] = width(s);
		}
	}
	if (w != NULL) {
		print_cells(t, (const char *const *)head, w);
		for (size_t r = 0; r < t->nrows; r++)
			print_cells(
			    t, (const char *const *)&t->cells[r * t->ncols], w);
	}
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	for (unsigned c = 0; head != NULL && c < t->ncols; c++)
		free(head[c]);
	free(head);
	free(t->cells);
	free(w);
	if (t->failed || w == NULL)
		fprintf(stderr, "jalinctl: out of memory: table incomplete\n");
}

static void
table_of(json_t *arr, unsigned ncols, const char *const *head,
    const char *const *keys)
{
	struct table t;
	size_t i;
	json_t *row;

	ot_table_init(&t, ncols, head);
	json_array_foreach(arr, i, row)
	{
		ot_table_row(&t, row, keys);
	}
	ot_table_print(&t);
}

void
ot_human_size(json_int_t n, char *out, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	unsigned u = 0;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%" JSON_INTEGER_FORMAT " B", n);
	else
		snprintf(out, len, "%.1f %s", v, unit[u]);
}

/* Seconds since 1970 of a node time, false if it does not parse. */
static bool
parse_time(const char *t, time_t *out)
{
	struct tm tm = {0};
	int n = 0;

	if (t == NULL ||
	    sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 19)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	return *out != (time_t)-1;
}

void
ot_time(const char *t, char *out, size_t len)
{
	time_t x;

	if (!parse_time(t, &x))
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%.19sZ", t);
}

bool
ot_secs_until(const char *t, double *secs)
{
	time_t x;

	if (!parse_time(t, &x))
		return false;
	*secs = difftime(x, time(NULL));
	return true;
}

void
ot_ago(const char *t, const char *never, char *out, size_t len)
{
	double s;

	if (!ot_secs_until(t, &s)) {
		snprintf(out, len, "%s", t == NULL ? never : "-");
		return;
	}
	s = -s;
	if (s < 2)
		snprintf(out, len, "now");
	else if (s < 120)
		snprintf(out, len, "%.0fs ago", s);
	else if (s < 7200)
		snprintf(out, len, "%.0fm ago", s / 60);
	else if (s < 172800)
		snprintf(out, len, "%.0fh ago", s / 3600);
	else
		snprintf(out, len, "%.0fd ago", s / 86400);
}

void
ot_duration(double secs, char *out, size_t len)
{
	unsigned long long s = secs > 0 ? (unsigned long long)(secs + 0.5) : 0;

	if (s < 120)
		snprintf(out, len, "%llu s", s);
	else if (s < 7200)
		snprintf(out, len, "%llu min", s / 60);
	else if (s < 172800)
		snprintf(out, len, "%llu h %llu min", s / 3600, s % 3600 / 60);
	else
		snprintf(out, len, "%llu days", s / 86400);
}

static void
written(json_t *res)
{
	char id[OT_ESC_SHORT];

	printf("%s\n", ot_esc(ot_sv(res, "id"), id, sizeof(id)));
}

static void
record(json_t *rec)
{
	char *s = out_json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s == NULL) {
		fprintf(stderr, "jalinctl: out of memory: record not shown\n");
		return;
	}
	printf("%s\n", s);
	free(s);
}

/* The summary columns of list, per collection (after the id). */
static const struct {
	const char *coll;
	const char *head[3];
	const char *keys[3];
} list_cols[] = {
    {"case", {"CASE_NO", "STATUS", "CLUSTER"},
        {"case_no", "status", "cluster"}},
    {"lks", {"NAME", "STATUS", "REGION_CODE"},
        {"name", "status", "region_code"}},
    {"partnership", {"AGREEMENT_NO", "TITLE", "STATUS"},
        {"agreement_no", "title", "status"}},
    {"resource", {"KIND", "CAPACITY_AVAILABLE", "OWNER_UNIT"},
        {"kind", "capacity_available", "owner_unit"}},
    {"referral", {"REFERRAL_NO", "STATUS", "TO_KIND"},
        {"referral_no", "status", "to_kind"}},
};

static void
list(const char *coll, json_t *records)
{
	const char *head[4] = {"ID"}, *keys[4] = {"id"};
	unsigned n = 1;

	for (size_t i = 0; i < sizeof(list_cols) / sizeof(list_cols[0]); i++) {
		if (strcmp(list_cols[i].coll, coll) != 0)
			continue;
		for (n = 1; n < 4; n++) {
			head[n] = list_cols[i].head[n - 1];
			keys[n] = list_cols[i].keys[n - 1];
		}
	}
	table_of(records, n, head, keys);
}

static void
feed(json_t *entries, json_int_t last_seq)
{
	static const char *const head[] = {
	    "SEQ", "AT", "COLLECTION", "ID", "STATE"};
	static const char *const keys[] = {
	    "seq", "at", "collection", "id", "state"};

	(void)last_seq;
	table_of(entries, 5, head, keys);
}

/* One version of a conflict: value (origin, at), or a delete. */
static void
conflict_version(const char *label, json_t *v)
{
	json_t *value = json_object_get(v, "value");
	char *s = value != NULL
	    ? ot_escape(out_json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS))
	    : NULL;
	char origin[OT_ESC_SHORT], at[OT_ESC_SHORT], why[OT_ESC_SHORT];

	if (value == NULL)
		printf("  %-7s deleted, reason %s", label,
		    json_is_string(json_object_get(v, "reason"))
		        ? ot_esc(ot_sv(v, "reason"), why, sizeof(why))
		        : "-");
	else
		printf("  %-7s %s", label, s != NULL ? s : "?");
	printf(" (%s, %s)\n",
	    ot_esc(ot_sv(v, "origin"), origin, sizeof(origin)),
	    ot_esc(ot_sv(v, "at"), at, sizeof(at)));
	free(s);
}

static void
conflicts(json_t *arr)
{
	char coll[OT_ESC_SHORT], id[OT_ESC_SHORT], field[OT_ESC_SHORT];
	size_t i, k;
	json_t *c, *o;

	json_array_foreach(arr, i, c)
	{
		printf("%s%s %s %s\n", i ? "\n" : "",
		    ot_esc(ot_sv(c, "collection"), coll, sizeof(coll)),
		    ot_esc(ot_sv(c, "id"), id, sizeof(id)),
		    ot_esc(ot_sv(c, "field"), field, sizeof(field)));
		conflict_version("winner", c);
		json_array_foreach(json_object_get(c, "others"), k, o)
		{
			conflict_version("other", o);
		}
	}
}

static void
digest(json_t *d)
{
	static const char *const keys[] = {
	    "case", "partnership", "lks", "resource", "referral", "all"};

	char h[OT_ESC_SHORT];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		printf("%-12s %s\n", keys[i],
		    ot_esc(ot_sv(d, keys[i]), h, sizeof(h)));
}

/* Text mode reports batches on stderr only (progress and errors). */
static void
import_batch(json_t *report)
{
	(void)report;
}

/* An audit entry's field k escaped into b (the actor and the purpose
 * are what a client sent). */
#define AUDIT_FIELD(e, k, b) ot_esc(ot_sv(e, k), b, sizeof(b))

static void
audit_entry(json_t *e)
{
	char at[OT_ESC_SHORT], actor[OT_ESC_SHORT], action[OT_ESC_SHORT];
	char coll[OT_ESC_SHORT], id[OT_ESC_SHORT], purpose[OT_ESC_LONG];

	printf("%-6" JSON_INTEGER_FORMAT " %-24s %-22s %-9s %-9s %-36s %s\n",
	    json_integer_value(json_object_get(e, "seq")),
	    AUDIT_FIELD(e, "at", at), AUDIT_FIELD(e, "actor", actor),
	    AUDIT_FIELD(e, "action", action),
	    AUDIT_FIELD(e, "collection", coll), AUDIT_FIELD(e, "id", id),
	    AUDIT_FIELD(e, "purpose", purpose));
}

static void
audit(json_t *res)
{
	json_t *e;
	size_t i;

	printf("%-6s %-24s %-22s %-9s %-9s %-36s %s\n", "SEQ", "TIME", "ACTOR",
	    "ACTION", "COLL", "ID", "PURPOSE");
	json_array_foreach(json_object_get(res, "entries"), i, e)
	{
		audit_entry(e);
	}
	if (json_is_null(json_object_get(res, "broken_at")))
		printf("chain: whole (%" JSON_INTEGER_FORMAT
		       " entries, each holding the hash of the one before)\n",
		    json_integer_value(json_object_get(res, "total")));
	else
		printf("chain: BROKEN at entry %" JSON_INTEGER_FORMAT
		       ": the log was edited, cut or reordered from there on\n",
		    json_integer_value(json_object_get(res, "broken_at")));
}

const struct output output_text = {
    .status = out_text_status,
    .peers = out_text_peers,
    .keys = out_text_keys,
    .verify = out_text_verify,
    .federation = out_text_federation,
    .written = written,
    .record = record,
    .list = list,
    .export_line = out_json_line,
    .feed = feed,
    .conflicts = conflicts,
    .digest = digest,
    .import_batch = import_batch,
    .audit = audit,
};
