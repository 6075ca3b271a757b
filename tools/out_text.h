/*
 * out_text.h - what the two halves of the text rendering share: tables
 * and small formatters (out_text.c), used by out_status.c (status, peers,
 * verify, federation).
 *
 * Table cells and values come from what anyone may have typed or a node
 * or peer may have sent: they are escaped (esc.h: "\n", "\x1b", "\xff")
 * so that a value cannot start a line, move the cursor or recolour the
 * admin's terminal.
 */
#ifndef JALINCTL_OUT_TEXT_H
#define JALINCTL_OUT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* out_status.c: the renderings of output.h for the node's state. */
void out_text_status(json_t *st, const char *via);
void out_text_peers(json_t *peers);
void out_text_keys(json_t *keys);
void out_text_verify(json_t *res);
void out_text_federation(json_t *fed);

/* A table being filled: ncols columns (any number), rows of strings. */
struct table {
	unsigned ncols;
	const char *const *head; /* ncols headers, the caller's */
	char **cells;            /* rows * ncols, owned */
	size_t nrows, cap;
	int failed;
};

/* Start a table with ncols columns named by head (kept, not copied). */
void ot_table_init(struct table *t, unsigned ncols, const char *const *head);

/* Add a row of the cells of obj at keys (JSON values as text). */
void ot_table_row(struct table *t, json_t *obj, const char *const *keys);

/* Add a row of ncols strings (copied and sanitized; NULL shows "-"). */
void ot_table_add(struct table *t, const char *const *cells);

/* Print the header and the rows, columns two spaces apart; free rows. */
void ot_table_print(struct table *t);

/* A string member, or "-" when absent. */
const char *ot_sv(json_t *obj, const char *key);

/* Room for an escaped short string (a name, an id, a time) and a long one
 * (a purpose, an error): ot_esc cuts what does not fit. */
#define OT_ESC_SHORT 256
#define OT_ESC_LONG  4096

/*
 * The escaped copy (esc.h) of s, malloc'd; s (malloc'd, may be NULL) is
 * freed. NULL when s is NULL or memory runs out.
 */
char *ot_escape(char *s);

/* s ("-" when NULL) escaped into buf of size bytes, cut to fit; returns
 * buf, for printf. */
const char *ot_esc(const char *s, char *buf, size_t size);

/* "12.3 MiB" */
void ot_human_size(json_int_t n, char *out, size_t len);

/*
 * A node's time "2026-11-23T16:21:01.123Z" shown to the second
 * ("2026-11-23T16:21:01Z") into out; "-" when t is NULL or odd.
 */
void ot_time(const char *t, char *out, size_t len);

/*
 * How long ago the node time t was, compactly ("now", "12s ago", "3m
 * ago", "2h ago", "4d ago"), or never when t is NULL.
 */
void ot_ago(const char *t, const char *never, char *out, size_t len);

/* Seconds from now to the node time t (negative: past); false if odd. */
bool ot_secs_until(const char *t, double *secs);

/* Seconds as people read them: "14 s", "3 min", "2 h 5 min", "3 days". */
void ot_duration(double secs, char *out, size_t len);

#endif
