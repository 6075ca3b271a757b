/*
 * audit.h - the access log of case and referral records (DOMAIN.md,
 * privacy 5): who read which record, when, how and why, in a hash chain
 * that an edit, a removal or a reordering breaks.
 *
 * jalind appends an entry (node/admin.c) for every request on its local
 * admin socket that shows case or referral contents: get of such a
 * record, list of those collections, export (of them or of everything),
 * and conflicts. The entry is committed before the answer is sent. The
 * actor is the Unix user on the other end of the socket (SO_PEERCRED);
 * the purpose is what the client gave (jalinctl --purpose). Storage: the
 * audit database, storedb.h.
 */
#ifndef JALIN_AUDIT_H
#define JALIN_AUDIT_H

#include <stdint.h>

#include <msgpack.h>

#include "buf.h"
#include "err.h"
#include "limits.h"
#include "storedb.h"

/* The old name, still used by tools/ (jalinctl --purpose). */
#define AUDIT_PURPOSE_MAX JALIN_AUDIT_PURPOSE_MAX

struct audit_entry {
	uint64_t at_ms;
	const char *actor;   /* "alice (uid 1000)" */
	const char *action;  /* get, list, export, conflicts */
	const char *coll;    /* NULL: every collection */
	const uint8_t *id;   /* 16 bytes, or NULL */
	const char *purpose; /* NULL: none given */
};

/* The last entry's seq and hash (0 and zeros for an empty log). */
int audit_last(MDB_txn *txn, const struct stdb *db, uint64_t *seq,
    uint8_t hash[32], struct jalin_err *err);

/*
 * Encode e, chained to prev, as the stored value in out (reset first):
 * [[at, actor, action, coll|nil, id|nil, purpose|nil], hash] with
 * hash = SHA-256(prev || the inner array's bytes). 0 or JALIN_ENOMEM.
 */
int audit_encode(const struct audit_entry *e, const uint8_t prev[32],
    struct buf *out, uint8_t hash[32]);

/*
 * audit: {"entries": [{seq, at, actor, action, collection, id, purpose}],
 * "next": seq|nil, "total": n, "chain": "ok"|"broken", "broken_at":
 * seq|nil}, the entries after seq since, at most limit (0 or above
 * JALIN_AUDIT_PAGE_MAX: that many). The whole chain is checked every time, from
 * the first entry.
 */
int audit_query(MDB_txn *txn, const struct stdb *db, uint64_t since,
    uint64_t limit, msgpack_packer *pk, struct buf *b, struct jalin_err *err);

#endif
