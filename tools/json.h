/*
 * json.h - JSON (jansson) at jalinctl's edges, msgpack on the wire.
 *
 * Records come in as JSON (put, import) and go to the node as msgpack;
 * answers come back as msgpack and go out as JSON. The node's results hold
 * only maps with string keys, arrays, strings, integers, booleans and nil
 * (msg.h), so the conversion is exact both ways. Every response goes
 * through mp_check before msgpack-c unpacks it: msgpack-c allocates from
 * declared counts, and the bytes come from a socket.
 */
#ifndef JALINCTL_JSON_H
#define JALINCTL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>

#include "buf.h"
#include "err.h"

/* Prefix js_: jansson owns json_. */

/*
 * Pack a JSON value as msgpack: object -> map, array, string, integer,
 * real -> float64 (the node refuses floats with a message naming the field),
 * true/false, null -> nil. JALIN_ETOOBIG "nesting deeper than 16" beyond
 * JALIN_MP_DEPTH_MAX. The packer's own write errors are the caller's to
 * check (struct buf's err).
 */
int js_pack_mp(json_t *v, msgpack_packer *pk, struct jalin_err *err);

/*
 * The fast path of `import`: most lines are flat objects whose values are
 * strings, integers, booleans, null or arrays of those. js_fast_line packs
 * such a line straight into out, as [collection, id or nil, {fields}], the
 * bytes the jansson path (js_parse, then js_pack_mp of the fields) would
 * give, about ten times faster. *coll, *coll_len: the collection (from the
 * line, else defcoll). -1 when the line is anything else (nested objects,
 * reals, escapes in keys, collection or id, duplicate keys, invalid JSON or
 * UTF-8, no collection): out is then unspecified and the caller takes the
 * jansson path, which gives the exact error messages. A line it takes
 * is one jansson takes too (tests/unit/test_jsonline.c checks both ways).
 */
struct js_fast {
	struct buf str;    /* a string with escapes, decoded */
	struct buf fields; /* the fields, packed */
	struct buf arr;    /* the items of an array value, packed */
	struct jl *jl;     /* parser state (its key table), made on first use */
};

void js_fast_init(struct js_fast *f, size_t max);
void js_fast_free(struct js_fast *f);
int js_fast_line(struct js_fast *f, const char *line, size_t len,
    const char *defcoll, struct buf *out, const char **coll, size_t *coll_len);

/*
 * Decode one admin response frame body. Returns 0 when it is a well-formed
 * response to reqid: *status is the node's status (0 or a JALIN_E* code);
 * when 0, *result is the result (new reference, the caller owns it; JSON
 * null if the node sent none); else err holds the node's message and
 * *result is NULL. A response to reqid 0 with an error is the node closing
 * a connection it no longer trusts; it is returned like any error.
 * JALIN_EPROTO with err for bytes that are not such a response (bad
 * msgpack, wrong type or reqid, a value JSON cannot hold: non-string map
 * key, invalid UTF-8, integer beyond int64). JALIN_EUNREACH with err for a
 * peer message instead (over TLS, a node that does not take us for an
 * admin): ERROR ("refused by the node: WHY") or HELLO ("certificate
 * refused: ...").
 */
int js_decode_resp(const uint8_t *p, size_t len, uint64_t reqid, int *status,
    json_t **result, struct jalin_err *err);

/*
 * Parse one JSON text of len bytes (no NUL allowed, duplicate keys
 * refused). NULL with err "line 1, column 7: ..." from jansson.
 */
json_t *js_parse(const char *s, size_t len, struct jalin_err *err);

/* Integer member of an object, or def if absent or not an integer. */
json_int_t js_int(json_t *obj, const char *key, json_int_t def);

/* String member of an object, or NULL if absent or not a string. */
const char *js_str(json_t *obj, const char *key);

#endif
