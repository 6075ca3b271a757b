/*
 * query.h - the read-only admin requests, answered from a read transaction.
 *
 * Used by jalind to answer get/list/export/feed/conflicts/digest/status and
 * by jalinctl --db on a store opened read-only, so both give the same
 * answers. Each function writes one MK_RESULT value to pk (which writes
 * into b). On error the caller discards what was written.
 * ws is a record workspace (struct record, owned by the caller); op opens
 * the sealed S! values this node may read (view.h; NULL: none).
 */
#ifndef JALIN_QUERY_H
#define JALIN_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

#include "buf.h"
#include "record.h"
#include "storedb.h"
#include "view.h"

/*
 * Flag of query_dispatch (and query_records / query_feed /
 * query_conflicts, in their flags): leave out the records of the scoped
 * collections (case, referral) -- what a remote admin may read. A get of
 * one is refused with JALIN_EPERM.
 */
#define QUERY_PUBLIC 0x100

/*
 * get: the record's view. JALIN_ENOTFOUND "case 0190…: no such record"
 * (also for a tombstone unless versions are asked), JALIN_EPURGED
 * "case 0190…: purged".
 */
int query_get(MDB_txn *txn, const struct stdb *db, const struct schema_coll *c,
    const uint8_t id[UUID_LEN], unsigned flags, struct record *ws,
    const struct view_open *op, msgpack_packer *pk, struct buf *b,
    struct jalin_err *err);

/*
 * list / export: {"records": [view...], "next": cursor or nil}: live
 * records of coll (0: all collections, in store order) after the cursor,
 * at most limit (1..JALIN_LIST_PAGE_MAX). flags are VIEW_* flags and
 * QUERY_PUBLIC.
 */
int query_records(MDB_txn *txn, const struct stdb *db, uint8_t coll,
    const char *after, size_t after_len, uint64_t limit, unsigned flags,
    struct record *ws, const struct view_open *op, msgpack_packer *pk,
    struct buf *b, struct jalin_err *err);

/* feed: {"entries": [{"seq","collection","id","state","hlc","at"}],
 * "next": seq to ask for next, "last_seq": n}, entries with seq > since.
 * flags: 0 or QUERY_PUBLIC. */
int query_feed(MDB_txn *txn, const struct stdb *db, uint64_t since,
    uint64_t limit, unsigned flags, struct record *ws, msgpack_packer *pk,
    struct buf *b, struct jalin_err *err);

/* conflicts: {"conflicts": [view_conflicts items], "next": cursor|nil}. */
int query_conflicts(MDB_txn *txn, const struct stdb *db, uint8_t coll,
    const char *after, size_t after_len, uint64_t limit, unsigned flags,
    struct record *ws, const struct view_open *op, msgpack_packer *pk,
    struct buf *b, struct jalin_err *err);

/* digest: {"case": hex, ..., "referral": hex, "all": hex}. */
int query_digest(MDB_txn *txn, const struct stdb *db, msgpack_packer *pk,
    struct jalin_err *err);

/*
 * status: the local part, as a map left open so the caller can add keys:
 * returns (via *mark, *n) the map's patch mark and the pairs written; the
 * caller writes more pairs and calls view_patch(b, mark, n + extra).
 * Keys: node, epoch, seq, hlc, records{coll:n}, conflicts, tombstones,
 * store{path,map_size,map_used}.
 */
int query_status(MDB_txn *txn, const struct stdb *db, msgpack_packer *pk,
    struct buf *b, size_t *mark, uint32_t *n, struct jalin_err *err);

/*
 * Extra keys of a status answer: the caller's fn packs its pairs and
 * returns how many (jalind: version, uptime, peers; jalinctl --db: a
 * stopped node's view).
 */
typedef uint32_t (*query_extra_fn)(void *ctx, msgpack_packer *pk);

/* A parsed admin request (msg.h). */
struct msg_req;

/*
 * Answer one read request (status, get, list, export, feed, conflicts,
 * digest) with its MK_RESULT value. JALIN_EINVAL for a request that is not
 * a read or lacks an argument, with err saying which. flags: 0 or
 * QUERY_PUBLIC.
 */
int query_dispatch(MDB_txn *txn, const struct stdb *db, const struct msg_req *q,
    unsigned flags, query_extra_fn extra, void *ctx, struct record *ws,
    const struct view_open *op, msgpack_packer *pk, struct buf *b,
    struct jalin_err *err);

/* True for the request types query_dispatch answers. */
bool query_is_read(uint64_t type);

/* Parse a collection name; NULL + err "unknown collection 'x' (one of
 * case, partnership, lks, resource, referral)". */
const struct schema_coll *query_coll(
    const char *name, size_t len, struct jalin_err *err);

/* Parse a record id given as 36-char text or bin 16 (raw msgpack). */
int query_id(const uint8_t *raw, size_t len, uint8_t id[UUID_LEN],
    struct jalin_err *err);

#endif
