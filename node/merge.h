/*
 * merge.h - merging record states, and local writes as state changes.
 *
 * merge_join() is THE merge: replication applies every remote state through
 * it, and it is commutative, associative and idempotent (a join of the
 * dot-kernel CRDT described in record.h), so nodes that received the same
 * writes in any order, any number of times, hold byte-identical states.
 *
 *  - An entry survives a join unless the other side has seen its dot (the
 *    dot is within the other's ctx) and no longer holds it: that is how an
 *    overwrite or a delete removes exactly the values it had seen, while a
 *    concurrent write survives as a conflict.
 *  - A purged state absorbs everything; of two purges the greater
 *    (hlc, origin) one is kept.
 *
 * The local operations produce a new state from the current one, as the
 * node's own write with a fresh HLC:
 *  - put: each given field whose value changes gets one new entry, replacing
 *    every entry of that field it has seen (so writing a field resolves its
 *    conflict); unchanged fields keep their versions; deletes it has seen
 *    are cleared (a put revives a deleted record).
 *  - delete: removes every entry it has seen and leaves one tag-0 entry.
 *  - purge: the state becomes a purged tombstone.
 *
 * All functions write the new state into out, whose pointers then refer to
 * the inputs (records, update values, self name): keep them alive until out
 * has been encoded. out must not alias an input.
 */
#ifndef JALIN_MERGE_H
#define JALIN_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* One field of a put. val == NULL removes the field (writes nil). */
struct merge_update {
	uint16_t tag;
	uint32_t vlen;
	const uint8_t *val; /* canonical msgpack */
};

/*
 * out = a joined with b. *changed (may be NULL) tells whether out differs
 * from a, i.e. whether b brought anything new. 0, or JALIN_ETOOBIG when
 * the result would exceed a table limit (record.h); out is then undefined.
 */
int merge_join(const struct record *a, const struct record *b,
    struct record *out, bool *changed);

/*
 * Local put by node self at hlc (which must be above every hlc in cur's
 * ctx for self; the node's HLC guarantees it). u[0..n) sorted by tag,
 * unique, tags >= 1. If nothing changes, *changed is false and out is not
 * written. JALIN_EPURGED if cur is purged; JALIN_EINVAL for bad arguments;
 * JALIN_ETOOBIG when limits are exceeded.
 */
int merge_put(const struct record *cur, const struct merge_update *u, size_t n,
    const char *self, size_t selflen, uint64_t hlc, struct record *out,
    bool *changed);

/*
 * Local delete. val is the tag-0 value (msgpack str reason, or nil).
 * JALIN_ENOTFOUND if cur is empty; *changed false (out not written) if cur
 * is already a tombstone without live fields; JALIN_EPURGED if purged.
 */
int merge_delete(const struct record *cur, const uint8_t *val, size_t vlen,
    const char *self, size_t selflen, uint64_t hlc, struct record *out,
    bool *changed);

/*
 * Local purge. val is [reason, hash or nil] in msgpack. Allowed on an
 * empty record (the id may live on other nodes). *changed false if already
 * purged.
 */
int merge_purge(const struct record *cur, const uint8_t *val, size_t vlen,
    const char *self, size_t selflen, uint64_t hlc, struct record *out,
    bool *changed);

/* True if the two states are equal (same encoding). */
bool merge_equal(const struct record *a, const struct record *b);

#endif
