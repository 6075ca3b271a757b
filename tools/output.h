/*
 * output.h - how jalinctl shows results: one interface, two renderings.
 *
 * output_text is for people (tables, pretty JSON for records); output_json
 * (--json) is for scripts: one compact JSON value per line, keys sorted.
 * Commands fetch and page; they never print data themselves. Everything
 * here writes to stdout only; diagnostics go to stderr elsewhere. Write
 * errors are found once at exit (ferror(stdout)).
 */
#ifndef JALINCTL_OUTPUT_H
#define JALINCTL_OUTPUT_H

#include <jansson.h>

struct output {
	/*
	 * status: the status result object; via says how the node was
	 * reached when it was not the local socket ("TLS to HOST:PORT,
	 * certificate CN jabar"), else NULL. Text only.
	 */
	void (*status)(json_t *st, const char *via);
	/* peers: the "peers" array of status. */
	void (*peers)(json_t *peers);
	/* keys: the "enc_keys" array of status (the key ring). */
	void (*keys)(json_t *keys);
	/* verify: the node's verify result object. */
	void (*verify)(json_t *res);
	/* federation: {"nodes", "matrix", "unreachable"} (doc/json.md). */
	void (*federation)(json_t *fed);
	/* put, delete, purge: {"id", "changed"}. */
	void (*written)(json_t *res);
	/* get: the record (flat, or with --versions). */
	void (*record)(json_t *rec);
	/* list: the records of coll (array). */
	void (*list)(const char *coll, json_t *records);
	/* export: one record; the same JSON line in both renderings. */
	void (*export_line)(json_t *rec);
	/* feed: the entries (array) and the node's last seq. */
	void (*feed)(json_t *entries, json_int_t last_seq);
	/* conflicts: the conflicts (array). */
	void (*conflicts)(json_t *conflicts);
	/* digest: {"case": hex, ..., "all": hex}. */
	void (*digest)(json_t *d);
	/* import: one committed batch's report (json: flushed at once). */
	void (*import_batch)(json_t *report);
	/* audit: {"entries", "next", "total", "chain", "broken_at"}. */
	void (*audit)(json_t *res);
};

extern const struct output output_text;
extern const struct output output_json;

/* One compact JSON line, keys sorted: export's format in both modes. */
void out_json_line(json_t *v);

/*
 * v as JSON text (flags of json_dumps; JSON_ENCODE_ANY is added), with
 * DEL, C1 controls and the bidi and line-separator characters of esc.h
 * written as \uXXXX, which JSON leaves raw. malloc'd: the caller frees;
 * NULL when memory runs out.
 */
char *out_json_dumps(json_t *v, size_t flags);

#endif
