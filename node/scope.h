/*
 * scope.h - which nodes a record may reach (DESIGN.md §4, DOMAIN.md).
 *
 * Records of ALL collections (partnership, lks, resource) go to every peer
 * configured for the collection. Records of SCOPED collections (case,
 * referral) go only to their origin node, the nodes in share_with, and
 * nodes configured as all_cases. A tombstone carries the scope the record
 * had when it was deleted, so it reaches exactly the nodes that hold the
 * record. The sender filters with this, and the receiver checks again.
 *
 * Withdrawal (DOMAIN.md, privacy 2: "removing a node means the data must be
 * deleted there"): a write that takes nodes out of share_with adds them to
 * the system field unshared_from (and one that puts a node back removes
 * it). A live record is never sent to a node in unshared_from that is not
 * also its origin or in share_with; such a node is sent a withdrawal
 * instead (no content: collection and id) and erases its copy. A tombstone
 * scope includes unshared_from, so a deletion also reaches a node that
 * missed the withdrawal.
 */
#ifndef JALIN_SCOPE_H
#define JALIN_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include <msgpack.h>

#include "record.h"
#include "schema.h"

/*
 * True if node name is within r's scope: always for ALL collections; for
 * SCOPED ones if name is the origin_node, in share_with, or in the scope of
 * a tombstone entry; a purge of unknown scope carries no data and goes
 * everywhere. (all_cases is the caller's to check.)
 */
bool scope_allows(const struct schema_coll *c, const struct record *r,
    const char *name, size_t len);

/*
 * True if r is a live SCOPED record withdrawn from name (see above): the
 * sender owes that node a withdrawal instead of the record.
 */
bool scope_withdrawn(const struct schema_coll *c, const struct record *r,
    const char *name, size_t len);

/*
 * True if node name may hold r, now or before (write authority, authz.h):
 * always for ALL collections; for SCOPED ones if name is the origin_node,
 * in share_with or unshared_from, or in a tombstone's scope. Unlike
 * scope_allows it keeps a node taken out of share_with, so a write it made
 * while it held the record is judged the same whichever arrives first.
 */
bool scope_ever_held(const struct schema_coll *c, const struct record *r,
    const char *name, size_t len);

/*
 * r's origin_node (its winning value, decoded) copied into out[0..size)
 * with a NUL. Its length, or 0 if r has none or it does not fit.
 */
int scope_origin(const struct record *r, char *out, size_t size);

/* True if name is r's origin_node. */
bool scope_is_origin(const struct record *r, const char *name, size_t len);

/*
 * A write sets share_with of old (live, SCOPED) to the msgpack value v (NULL:
 * removes it). Packs into pk the new unshared_from: the nodes old was
 * shared with or withdrawn from that v does not list, sorted (nil when
 * none). 0: unchanged, nothing packed; 1: packed; -1: more than
 * JALIN_UNSHARED_MAX names.
 */
int scope_unshared(const struct schema_coll *c, const struct record *old,
    const uint8_t *v, size_t vlen, msgpack_packer *pk);

/*
 * Pack the scope a tombstone of old must carry: nil for ALL collections,
 * else an array of the node names (origin_node, share_with, unshared_from
 * and earlier tombstones' scopes), without duplicates.
 */
void scope_pack(
    const struct schema_coll *c, const struct record *old, msgpack_packer *pk);

#endif
