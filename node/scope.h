/*
 * scope.h - which nodes a record may reach (DESIGN.md §4, DOMAIN.md).
 *
 * Records of ALL collections (partnership, lks, resource) go to every peer
 * configured for the collection. Records of SCOPED collections (case,
 * referral) go only to their origin node, the nodes in share_with, and
 * nodes configured as all_cases. A tombstone carries the scope the record
 * had when it was deleted, so it reaches exactly the nodes that hold the
 * record. The sender filters with this, and the receiver checks again.
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
 * Pack the scope a tombstone of old must carry: nil for ALL collections,
 * else an array of the node names (origin_node, share_with, and earlier
 * tombstones' scopes), without duplicates.
 */
void scope_pack(
    const struct schema_coll *c, const struct record *old, msgpack_packer *pk);

#endif
