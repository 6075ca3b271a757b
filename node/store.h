/*
 * store.h - jalind's writes to its LMDB store (layout: protocol/storedb.h).
 *
 * One writer: the event loop thread. Work is handed to store_write() as a
 * function that runs inside one write transaction; everything it does is
 * committed together with one durable sync (group commit: the admin and
 * replication layers queue many changes and write them in one call). If the
 * map fills up the transaction is aborted, the map grown (doubling, up to
 * map_max) and the function run again from the start, so it must not keep
 * state from an earlier run. At the cap, JALIN_ESPACE: nothing is written,
 * reads go on.
 *
 * Inside the function, per record:
 *	store_txn_get()   the stored bytes (valid until the next write)
 *	rec_decode()      into a workspace (store_ws)
 *	merge_*()         the new state
 *	store_txn_set()   encode, then write record, feed, conflicts index,
 *	                  digest and counts
 * or store_txn_apply() which does all of that for a state from a peer.
 */
#ifndef JALIN_STORE_H
#define JALIN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proof.h"
#include "record.h"
#include "storedb.h"

struct store;
struct store_txn;

struct store_opts {
	const char *dir;      /* data directory (created 0700 if absent) */
	const char *node;     /* this node's name */
	uint64_t map_max;     /* size cap in bytes */
	uint64_t map_initial; /* first map size; 0: JALIN_MAP_INITIAL */
};

/*
 * Sign this node's writes with key from now on (PROTOCOL.md §13): each
 * commit signs the new events' leaves in batches and stores the batches.
 * The store takes a reference to key. 0 or JALIN_ETLS.
 */
int store_set_signer(struct store *s, EVP_PKEY *key, struct jalin_err *err);

/*
 * Open (or create) the store. Refuses a directory that another jalind holds
 * (lock file DIR/jalind.lock) or that belongs to another node name.
 * Errors name the directory and the reason.
 */
int store_open(
    const struct store_opts *o, struct store **out, struct jalin_err *err);

/* Close; NULL is a no-op. */
void store_close(struct store *s);

/* States re-encoded when store_open upgraded a format-1 store (0 if it
 * was already in the current format): for the node's log. */
uint64_t store_upgraded(const struct store *s);

/* The read side (query.c, stdb_*). */
struct stdb *store_db(struct store *s);

/* This node's name, epoch, last seq. */
const char *store_node(const struct store *s);
const uint8_t *store_epoch(const struct store *s);
uint64_t store_seq(const struct store *s);

/* Current map size and cap. */
uint64_t store_map_size(const struct store *s);
uint64_t store_map_max(const struct store *s);

/*
 * Draw a new epoch and commit it: this store was found to be older than
 * what peers already received from it (restored from a backup), so every
 * checkpoint taken against the old epoch must be resynced.
 */
int store_new_epoch(struct store *s, struct jalin_err *err);

/* Record workspaces owned by the store (writer thread only), i in 0..3. */
struct record *store_ws(struct store *s, int i);

typedef int (*store_fn)(struct store_txn *t, void *arg);

/*
 * Run fn in a write transaction and commit durably. fn returns 0 to commit
 * or an error to abort (its error is returned). A store failure inside fn
 * (map full, I/O) aborts even if fn ignores it. Returns 0, fn's error,
 * JALIN_ESPACE ("store is full: ..."), JALIN_EIO, with err set.
 */
int store_write(struct store *s, store_fn fn, void *arg, struct jalin_err *err);

/* The current stored state of a record inside a write transaction. */
struct store_cur {
	uint8_t coll;
	uint8_t id[UUID_LEN];
	bool exists;
	bool corrupt; /* stored, but fails its checksum: no state, no seq */
	uint64_t seq;
	const uint8_t *raw; /* into the map: valid until the next write */
	size_t rawlen;
	const uint8_t *proof; /* the state's proof (proof.h), the same way */
	size_t prooflen;      /* 0: none, every event unsigned */
};

/*
 * Look up coll/id. cur->exists false if absent; cur->corrupt if it is
 * stored but fails its checksum (then only store_txn_apply*, which replaces
 * it with a peer's copy, may write it). 0 or the transaction's error.
 */
int store_txn_get(struct store_txn *t, uint8_t coll, const uint8_t id[UUID_LEN],
    struct store_cur *cur);

/*
 * Store next as the new state of cur's record; old is cur's decoded state
 * (empty if !cur->exists). next is encoded before anything is written, so it
 * may point into the map through old. Assigns a new feed seq. 0 or the
 * (sticky) transaction error; JALIN_ETOOBIG if next exceeds
 * JALIN_RECORD_MAX (not sticky: the transaction may go on).
 */
int store_txn_set(struct store_txn *t, struct store_cur *cur,
    const struct record *old, const struct record *next);

/*
 * Apply a record state received from a peer: decode it (untrusted: every
 * rule checked), join it with ours, store the result if it changed
 * anything. *changed tells. JALIN_EPROTO (+err) for a state that does not
 * decode; store errors are sticky.
 */
int store_txn_apply(struct store_txn *t, uint8_t coll,
    const uint8_t id[UUID_LEN], const void *state, size_t len, bool *changed,
    struct jalin_err *err);

/*
 * A check of a peer's state before it is stored (apply.c fills it with
 * write authority and schema rules, authz.h): old is what the store holds
 * (empty, or a collected tombstone dug up), out the merge of old and rem
 * (rem itself when old is empty). 0 to store out; an error code (with err
 * set) refuses the state: nothing is written.
 */
typedef int store_check_fn(void *arg, uint8_t coll, const struct record *old,
    const struct record *out, const struct record *rem, struct jalin_err *err);

struct store_check {
	store_check_fn *fn;
	void *arg;
};

/*
 * The same for a state the caller has decoded already (rem, from raw,
 * without REC_TRUSTED: raw is then canonical and may be stored as is).
 * from: the peer it came from (NULL: none); if the stored result is
 * exactly rem, the feed entry remembers it (storedb.h). check (may be
 * NULL) runs after the merge, before anything is written, whenever the
 * state would change what is stored; its error is returned as it is (not
 * sticky: the transaction goes on) and *changed stays false. The caller's
 * workspace must not be one of store_ws(s, 0..2).
 */
int store_txn_apply_decoded(struct store_txn *t, uint8_t coll,
    const uint8_t id[UUID_LEN], const void *raw, size_t rawlen,
    const struct record *rem, const char *from, const struct store_check *check,
    bool *changed, struct jalin_err *err);

/*
 * Collect a tombstone: move its entry to the gone database (storedb.h) and
 * drop its feed entry. An older copy of the record that arrives later is
 * merged with it and changes nothing; a newer write makes it a record
 * again. 0 or the sticky error.
 */
int store_txn_bury(struct store_txn *t, struct store_cur *cur);

/*
 * Erase cur's record here and only here: no tombstone, nothing sent on
 * (a withdrawal, scope.h). old is its decoded state (unused when
 * cur->corrupt). A live record's values, feed entry, conflicts and digest
 * share go; tombstones and purge markers are left as they are. *erased
 * tells. 0 or the sticky error.
 */
int store_txn_erase(struct store_txn *t, struct store_cur *cur,
    const struct record *old, bool *erased);

/* A new HLC timestamp for a local write. */
uint64_t store_txn_hlc(struct store_txn *t);

/* Fold in a timestamp seen in remote data (the caller checked skew). */
void store_txn_observe(struct store_txn *t, uint64_t hlc);

/* Metadata writes (checkpoints, gcseq) inside the transaction. */
int store_txn_put(struct store_txn *t, enum stdb_db db, const void *key,
    size_t klen, const void *val, size_t vlen);
int store_txn_del(
    struct store_txn *t, enum stdb_db db, const void *key, size_t klen);

/* The store of the transaction. */
struct store *store_txn_store(struct store_txn *t);

/*
 * The proof of the peer's state the next store_txn_apply_decoded applies
 * (NULL: none, every event unsigned), decoded and as raw[0..len) it came;
 * cleared by it.
 */
void store_txn_rem_proof(
    struct store_txn *t, const struct proof *p, const uint8_t *raw, size_t len);

/*
 * Batches of origin signatures (PROTOCOL.md §13, storedb.h bref): a batch
 * is kept while a stored proof refers to it. store_txn_batch_refs: into *n
 * how many references batch key k[0..klen) (stdb_batch_key) has, this
 * transaction's writes included. store_txn_put_batch: store the batch
 * value val[0..vlen) under k; unless a proof refers to it when the
 * transaction commits, the commit deletes it again. 0 or the sticky error.
 */
int store_txn_batch_refs(
    struct store_txn *t, const uint8_t *k, size_t klen, uint32_t *n);
int store_txn_put_batch(struct store_txn *t, const uint8_t *k, size_t klen,
    const void *val, size_t vlen);

/* The LMDB transaction, for reads inside fn (e.g. stdb_get_record). */
MDB_txn *store_txn_mdb(struct store_txn *t);

#endif
