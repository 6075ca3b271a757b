/*
 * out_text.c - the rendering for people: aligned tables, human sizes,
 * records as pretty JSON (2-space indent, keys sorted).
 *
 * Table cells come from records that anyone may have typed: control
 * characters are shown as '?' so that a value cannot move the cursor or
 * recolour the admin's terminal. Records themselves (get) are JSON, which
 * escapes them anyway.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "output.h"

#define TABLE_COLS_MAX 8

struct table {
	unsigned ncols;
	const char *head[TABLE_COLS_MAX];
	char **cells; /* rows * ncols, owned */
	size_t nrows, cap;
	int failed;
};

/* A string member, or "-" when absent (a reply from another version). */
static const char *
sv(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "-";
}

/* Display width: UTF-8 code points, not bytes. */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static char *
sanitize(char *s)
{
	for (char *p = s; p != NULL && *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	return s;
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
		return sanitize(strdup(json_string_value(v)));
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
		return sanitize(json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS));
	default:
		return strdup("-");
	}
}

static void
table_row(struct table *t, json_t *obj, const char *const *keys)
{
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? 2 * t->cap : 64;
		char **p = realloc(t->cells, ncap * t->ncols * sizeof(*p));
		if (p == NULL) {
			t->failed = 1;
			return;
		}
		t->cells = p;
		t->cap = ncap;
	}
	for (unsigned c = 0; c < t->ncols; c++) {
		char *s = cell_text(json_object_get(obj, keys[c]));
		t->cells[t->nrows * t->ncols + c] = s;
		t->failed |= s == NULL;
	}
	t->nrows++;
}

static void
print_cells(const struct table *t, const char *const *cells, size_t *w)
{
	for (unsigned c = 0; c < t->ncols; c++) {
		const char *s = cells[c] != NULL ? cells[c] : "?";
		if (c + 1 == t->ncols)
			printf("%s\n", s);
		else
			printf("%s%*s", s, (int)(w[c] - width(s) + 2), "");
	}
}

/* Print the header and the rows, columns two spaces apart; free rows. */
static void
table_print(struct table *t)
{
	size_t w[TABLE_COLS_MAX];

	for (unsigned c = 0; c < t->ncols; c++) {
		w[c] = width(t->head[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			if (s != NULL && width(s) > w[c])
				w[c] = width(s);
		}
	}
	print_cells(t, t->head, w);
	for (size_t r = 0; r < t->nrows; r++)
		print_cells(t, (const char *const *)&t->cells[r * t->ncols], w);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	if (t->failed)
		fprintf(stderr, "jalinctl: out of memory: table incomplete\n");
}

static void
table_of(json_t *arr, unsigned ncols, const char *const *head,
    const char *const *keys)
{
	struct table t = {.ncols = ncols};
	size_t i;
	json_t *row;

	memcpy(t.head, head, ncols * sizeof(*head));
	json_array_foreach(arr, i, row)
	{
		table_row(&t, row, keys);
	}
	table_print(&t);
}

static void
human_size(json_int_t n, char *out, size_t len)
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

static void
peers(json_t *arr)
{
	static const char *const head[] = {"NAME", "STATE", "LAG_RECORDS",
	    "LAG_SECONDS", "LAST_CONTACT", "LAST_ERROR"};
	static const char *const keys[] = {"name", "state", "lag_records",
	    "lag_seconds", "last_contact", "last_error"};

	table_of(arr, 6, head, keys);
}

static void
status_records(json_t *rec)
{
	static const char *const colls[] = {
	    "case", "partnership", "lks", "resource", "referral"};
	json_int_t all = 0;

	printf("records      ");
	for (size_t i = 0; i < 5; i++) {
		json_int_t n =
		    json_integer_value(json_object_get(rec, colls[i]));
		printf(
		    "%s%s %" JSON_INTEGER_FORMAT, i ? ", " : "", colls[i], n);
		all += n;
	}
	printf(" (%" JSON_INTEGER_FORMAT " in all)\n", all);
}

static void
status_store(json_t *st)
{
	json_t *store = json_object_get(st, "store");
	json_t *max = json_object_get(st, "map_max");
	char used[32], size[32], cap[32];

	human_size(json_integer_value(json_object_get(store, "map_used")), used,
	    sizeof(used));
	human_size(json_integer_value(json_object_get(store, "map_size")), size,
	    sizeof(size));
	printf("store        %s\n", sv(store, "path"));
	printf("map          %s used of %s mapped", used, size);
	if (json_is_integer(max)) {
		human_size(json_integer_value(max), cap, sizeof(cap));
		printf(" (grows up to map_size_max %s)", cap);
	}
	printf("\n");
}

static void
status_uptime(json_t *st)
{
	json_t *up = json_object_get(st, "uptime_s");
	json_int_t s = json_integer_value(up);

	if (json_is_false(json_object_get(st, "running"))) {
		printf("running      no (read from the store with --db)\n");
		return;
	}
	if (!json_is_integer(up))
		return;
	printf("uptime       ");
	if (s >= 86400)
		printf("%" JSON_INTEGER_FORMAT "d ", s / 86400);
	printf("%02d:%02d:%02d\n", (int)(s % 86400 / 3600),
	    (int)(s % 3600 / 60), (int)(s % 60));
}

static void
status(json_t *st)
{
	printf("node         %s\n", sv(st, "node"));
	printf("epoch        %s\n", sv(st, "epoch"));
	printf("seq          %" JSON_INTEGER_FORMAT "\n", js_int(st, "seq", 0));
	status_records(json_object_get(st, "records"));
	printf("conflicts    %" JSON_INTEGER_FORMAT "\n",
	    js_int(st, "conflicts", 0));
	printf("tombstones   %" JSON_INTEGER_FORMAT "\n",
	    js_int(st, "tombstones", 0));
	status_store(st);
	if (json_is_string(json_object_get(st, "version")))
		printf("version      %s\n", sv(st, "version"));
	status_uptime(st);
	printf("\n");
	peers(json_object_get(st, "peers"));
}

static void
written(json_t *res)
{
	printf("%s\n", sv(res, "id"));
}

static void
record(json_t *rec)
{
	json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
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
	    ? json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
	    : NULL;
	const char *origin = sv(v, "origin");
	const char *at = sv(v, "at");

	if (value == NULL)
		printf("  %-7s deleted, reason %s", label,
		    json_is_string(json_object_get(v, "reason"))
		        ? sv(v, "reason")
		        : "-");
	else
		printf("  %-7s %s", label, s != NULL ? s : "?");
	printf(" (%s, %s)\n", origin ? origin : "-", at ? at : "-");
	free(s);
}

static void
conflicts(json_t *arr)
{
	size_t i, k;
	json_t *c, *o;

	json_array_foreach(arr, i, c)
	{
		printf("%s%s %s %s\n", i ? "\n" : "", sv(c, "collection"),
		    sv(c, "id"), sv(c, "field"));
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

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *h = json_string_value(json_object_get(d, keys[i]));
		printf("%-12s %s\n", keys[i], h != NULL ? h : "-");
	}
}

/* Text mode reports batches on stderr only (progress and errors). */
static void
import_batch(json_t *report)
{
	(void)report;
}

const struct output output_text = {
    .status = status,
    .peers = peers,
    .written = written,
    .record = record,
    .list = list,
    .export_line = out_json_line,
    .feed = feed,
    .conflicts = conflicts,
    .digest = digest,
    .import_batch = import_batch,
};
