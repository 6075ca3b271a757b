/*
 * storedb.h - the store's LMDB layout, and read access to it.
 *
 * One LMDB environment per node (DESIGN.md §3), named databases:
 *
 *   records    [coll u8][id 16]  -> [crc32c u32 BE][seq][proof][state]
 *              seq as LEB128 (7 bits a byte, low first: 3 bytes up to
 *              2 million), state as in record.h; proof, when the state has
 *              signed events (proof.h, PROTOCOL.md §13): the byte 0xc1
 *              (never the first byte of a msgpack state), its length as
 *              LEB128, the proof; the CRC-32C of everything after it is
 *              checked on every read (a mismatch is JALIN_ECORRUPT). Format 1
 * had [seq u64 BE][crc32c of the state u32 BE][state]. feed       [seq u64 BE]
 * -> [coll u8][id 16][source] one entry per record: its latest change; older
 * entries of the same record are deleted when it changes again. source (0..64
 * bytes) names the peer that sent exactly the state now stored, so it need not
 * be sent back there; empty for local writes and for merges that made something
 * new conflicts  [coll u8][id 16]  -> [count u32 BE]   records with conflicts
 *   digest     [coll u8][bucket u8] -> 32-byte sum   (see below)
 *   ckpt       peer name        -> checkpoint (node/repl; msgpack)
 *   gone       [coll u8][id 16]  -> as in records: a collected tombstone,
 *              kept out of the feed, counts and digests so that an older
 *              copy of the record (a restored backup) cannot bring it back
 *              (a store made before this database existed gets it when
 *              jalind opens it; read-only opens do without)
 *   audit      [seq u64 BE]     -> [at ms, actor, action, collection|nil,
 *              id bin 16|nil, purpose|nil, hash bin 32]: reads of case and
 *              referral records on the admin socket (node/audit.h); hash =
 *              SHA-256(previous entry's hash, or 32 zero bytes || the
 *              msgpack of the first six items), a chain an edit breaks
 *              (made by jalind when it opens a store; read-only opens of an
 *              older store do without, like gone)
 *   batch      [len u8][origin][bno u64 BE] -> [kid 8][siglen u8][sig]
 *              [leaves, 16 bytes each]: signed batches of write events
 *              (sig.h), this node's own and those it received (made by
 *              jalind when it opens a store; read-only opens do without)
 *   certs      [kid 8]          -> a node certificate (DER) that signed a
 *              batch received from a peer, to pass on with it (optional
 *              like batch)
 *   bref       [len u8][origin][bno u64 BE] -> [count u32 BE]: how many
 *              dots and witnesses of stored record proofs refer to that
 *              batch; a batch is kept while its count is above 0 and
 *              deleted with it in the transaction that drops it to 0
 *              (node/store.c). [len u8][origin] -> empty: the origin has
 *              had a batch stored, so it signs its writes (never deleted).
 *              Optional like batch; jalind counts an older store's
 *              proofs when it opens it (meta "bref")
 *   meta       name             -> value:
 *      "format" u32 BE (STDB_FORMAT), "node" the node's name,
 *      "epoch" 16 random bytes drawn when the store is created,
 *      "seq" u64 BE last assigned feed seq, "hlc" u64 BE last HLC,
 *      "created" u64 BE ms, "count" 5 x u64 BE live records per collection,
 *      "nconflicts" u64 BE, "gcseq" u64 BE highest collected tombstone seq,
 *      "bno" u64 BE the number of this node's last signed batch,
 *      "bref" u8 1: the bref database counts every stored proof
 *
 * Digest: a record's hash is SHA-256([coll][id][state]) for live records
 * (tombstones count as absent). Bucket = id[15] (random bits of a UUIDv7).
 * A bucket's value is the sum modulo 2^256 (little-endian) of its records'
 * hashes, so a change updates it in O(1): subtract the old hash, add the new.
 * A collection's digest is SHA-256(sum of its buckets || live count u64 LE);
 * "all" is SHA-256 of the five collection digests in id order. Equal
 * digests: the same live records, byte for byte, on both sides.
 *
 * Readers never block the writer. jalinctl --db opens the environment
 * read-only (MDB_RDONLY), while jalind runs or not.
 */
#ifndef JALIN_STOREDB_H
#define JALIN_STOREDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>
#include <openssl/evp.h>

#include "err.h"
#include "schema.h"
#include "uuid.h"

/* Format 3: record states in record format 3 (record.h). A format-1 or
 * format-2 store is upgraded in place by jalind when it opens it
 * (node/store.c); read-only opens refuse it until then. Format 2 had the
 * value layout of format 3 and record format 2 states. */
#define STDB_FORMAT   3
#define STDB_FORMAT_2 2
#define STDB_FORMAT_1 1
#define STDB_KEY_LEN  17 /* coll + id */
#define STDB_SEQ_LEN  8  /* seq as a key (feed) */
#define STDB_CRC_LEN  4
/* crc + seq (LEB128) + proof mark and length before a proof and state */
#define STDB_VAL_HDR_MAX 22
#define STDB_PROOF_MARK  0xc1 /* msgpack's reserved byte */
#define STDB_KEY_MAX     511  /* LMDB's largest key (MDB_MAXKEYSIZE) */

enum stdb_db {
	STDB_RECORDS = 0,
	STDB_FEED,
	STDB_CONFLICTS,
	STDB_DIGEST,
	STDB_CKPT,
	STDB_META,
	STDB_GONE,
	STDB_AUDIT,
	STDB_BATCH,
	STDB_CERTS,
	STDB_ENCCERTS, /* node name -> DER of its encryption certificate
	                  learned from a peer (node/keyring.c, issue 14) */
	STDB_BREF,
	STDB_NDB
};

#define STDB_RDONLY 0x1 /* MDB_RDONLY; never writes */
#define STDB_CREATE 0x2 /* create the directory's environment if absent */

struct stdb;

/*
 * Open the environment in dir. With STDB_RDONLY the map size is taken from
 * the file; else mapsize is the initial map size. Errors (JALIN_EIO,
 * JALIN_ENOTFOUND "no jalin store in 'DIR'", JALIN_ECORRUPT "store 'DIR'
 * has format N; this build reads 1") name the directory and the reason.
 */
int stdb_open(const char *dir, unsigned flags, uint64_t mapsize,
    struct stdb **out, struct jalin_err *err);

/* Close; NULL is a no-op. No transaction may be open. */
void stdb_close(struct stdb *db);

MDB_env *stdb_env(const struct stdb *db);
MDB_dbi stdb_dbi(const struct stdb *db, enum stdb_db which);
const char *stdb_dir(const struct stdb *db);

/*
 * Begin a read transaction (handles another process having grown the map).
 * 0 or JALIN_EIO with err.
 */
int stdb_begin_read(struct stdb *db, MDB_txn **txn, struct jalin_err *err);

/* End a read transaction begun by stdb_begin_read; NULL is a no-op. */
void stdb_end_read(MDB_txn *txn);

/*
 * The LMDB return code rc as a JALIN_E* code: 0 stays 0, MDB_MAP_FULL is
 * JALIN_ESPACE, MDB_NOTFOUND JALIN_ENOTFOUND, MDB_CORRUPTED,
 * MDB_PAGE_NOTFOUND, MDB_INVALID and MDB_VERSION_MISMATCH JALIN_ECORRUPT,
 * ENOMEM JALIN_ENOMEM, anything else JALIN_EIO. The one place where LMDB
 * codes are mapped (stdb_mdb_err, stdb_iter and node/store.c use it).
 */
int stdb_errcode(int rc);

/*
 * Iterator over one database of the store, in key order, in the manner of
 * Knot DNS's knot_lmdb: the positioning calls (find, next) return true
 * while the iterator stands on an entry; the first error is kept (sticky)
 * and every later call does nothing and returns false, so a walk is
 *
 *	struct stdb_iter it;
 *	stdb_iter_open(&it, txn, db, STDB_FEED);
 *	for (stdb_iter_find(&it, k, 8, STDB_FIND_GEQ); stdb_iter_valid(&it);
 *	     stdb_iter_next(&it))
 *		... stdb_iter_key(&it, &klen), stdb_iter_val(&it, &vlen) ...
 *	rc = stdb_iter_err(&it);
 *	stdb_iter_close(&it);
 *
 * Running off the end (LMDB's MDB_NOTFOUND) is no error: the iterator is
 * just no longer valid. Errors are JALIN_E* codes (stdb_errcode). The
 * struct lives where the caller likes (the stack): its fields are private.
 * Key and value point into the map: valid until the next call on the
 * iterator, a write in the transaction, or the transaction's end.
 */
struct stdb_iter {
	MDB_cursor *cur; /* NULL: nothing to walk (see stdb_iter_open) */
	MDB_val key, val;
	int err;    /* the first error (JALIN_E*), sticky */
	int mdb_rc; /* LMDB's code behind err (0: the caller's error) */
	bool valid; /* key and val hold the current entry */
	bool moved; /* the cursor has a position next can move from */
};

/* Where stdb_iter_find puts the iterator. */
enum stdb_find {
	STDB_FIND_EQ,   /* on the entry with exactly this key */
	STDB_FIND_GEQ,  /* on the first entry with a key >= key */
	STDB_FIND_GT,   /* on the first entry with a key > key: where a
	                   sliced walk that stopped at key resumes */
	STDB_FIND_LAST, /* on the last entry (key ignored) */
};

/*
 * Open it over database which in txn (read or write). Cannot fail by
 * itself: an LMDB failure to open the cursor becomes the iterator's error.
 * An optional database a read-only open did not find (stdb_has false)
 * gives an empty walk without error. Close with stdb_iter_close, before
 * the transaction ends.
 */
void stdb_iter_open(struct stdb_iter *it, MDB_txn *txn, const struct stdb *db,
    enum stdb_db which);

/* Close the cursor; NULL is a no-op. The error stays readable. */
void stdb_iter_close(struct stdb_iter *it);

/*
 * Position it as how says. key[0..len) is the search key; len 0 (the
 * empty key) sorts before every key: GEQ and GT then go to the first
 * entry. True if it now stands on an entry; false past the end, when EQ
 * finds no such key, or on error (stdb_iter_err).
 */
bool stdb_iter_find(
    struct stdb_iter *it, const void *key, size_t len, enum stdb_find how);

/* The first entry: stdb_iter_find(it, NULL, 0, STDB_FIND_GEQ). */
bool stdb_iter_first(struct stdb_iter *it);

/* The first entry whose 8-byte key (feed, audit: a seq) is >= seq. */
bool stdb_iter_find_seq(struct stdb_iter *it, uint64_t seq);

/*
 * Move to the next entry (after stdb_iter_del: to the entry that followed
 * the deleted one). False past the end or on error.
 */
bool stdb_iter_next(struct stdb_iter *it);

/* True while it stands on an entry and has no error. */
bool stdb_iter_valid(const struct stdb_iter *it);

/* 0, or the first error of the walk (JALIN_E*). */
int stdb_iter_err(const struct stdb_iter *it);

/*
 * Stop the walk with the caller's code (a negative JALIN_E*, e.g.
 * JALIN_ECORRUPT for an entry that does not decode) unless it already has
 * an error: the loop ends and stdb_iter_err tells. Returns the iterator's
 * error.
 */
int stdb_iter_fail(struct stdb_iter *it, int code);

/*
 * Report the walk's error in err as "what (reason)", the reason being
 * LMDB's own text when LMDB failed. Returns stdb_iter_err (0: err is left
 * alone).
 */
int stdb_iter_report(
    const struct stdb_iter *it, struct jalin_err *err, const char *what);

/* True if the current key starts with prefix[0..len) (len 0: always). */
bool stdb_iter_has_prefix(
    const struct stdb_iter *it, const void *prefix, size_t len);

/*
 * The current key / value and their length (NULL and 0 when not valid).
 * Into the map: see above.
 */
const uint8_t *stdb_iter_key(const struct stdb_iter *it, size_t *len);
const uint8_t *stdb_iter_val(const struct stdb_iter *it, size_t *len);

/* The current key read as a seq (feed, audit); 0 if it is not 8 bytes. */
uint64_t stdb_iter_seq(const struct stdb_iter *it);

/*
 * The current value as a record value (records, gone), checked like
 * stdb_val_state: 0, or JALIN_ECORRUPT (also when not valid). Does not
 * touch the iterator's error.
 */
int stdb_iter_record(const struct stdb_iter *it, const uint8_t **state,
    size_t *len, uint64_t *seq);

/*
 * Write transactions. Replace the current entry's value with
 * val[0..len); or reserve len bytes for it and return where to write them
 * in *p (before any other write). The iterator stays on the entry (its
 * value is then the new one). 0 or the (sticky) error; JALIN_ENOTFOUND if
 * it is not on an entry (not sticky).
 */
int stdb_iter_put(struct stdb_iter *it, const void *val, size_t len);
int stdb_iter_reserve(struct stdb_iter *it, size_t len, void **p);

/*
 * Delete the current entry. The iterator is then not valid until
 * stdb_iter_next, which moves to the entry that followed it. 0 or the
 * (sticky) error; JALIN_ENOTFOUND if it is not on an entry.
 */
int stdb_iter_del(struct stdb_iter *it);

/*
 * Walk the entries whose key starts with prefix[0..len) (len 0: all):
 *	stdb_iter_foreach (&it, k, 1) { ... }
 *	if ((rc = stdb_iter_err(&it)) != 0) ...
 */
#define stdb_iter_foreach(it, prefix, len)                               \
	for (bool stdb_found_ =                                          \
	         stdb_iter_find((it), (prefix), (len), STDB_FIND_GEQ);   \
	     stdb_found_ && stdb_iter_has_prefix((it), (prefix), (len)); \
	     stdb_found_ = stdb_iter_next(it))

/*
 * Read one entry of database which by its key: *val and *vlen point into
 * the map (valid until the transaction ends or writes). 0,
 * JALIN_ENOTFOUND (also for an optional database that is absent), or the
 * mapped LMDB error.
 */
int stdb_get(MDB_txn *txn, const struct stdb *db, enum stdb_db which,
    const void *key, size_t klen, const uint8_t **val, size_t *vlen);

/*
 * The collected tombstone of coll/id (the gone database), checked like a
 * record. JALIN_ENOTFOUND if there is none, JALIN_ECORRUPT.
 */
int stdb_get_gone(MDB_txn *txn, const struct stdb *db, uint8_t coll,
    const uint8_t id[UUID_LEN], const uint8_t **state, size_t *len);

/* False for an optional database (gone, audit) a read-only open of an
 * older store did not find. */
bool stdb_has(const struct stdb *db, enum stdb_db which);

/* The store's format as found when it was opened (STDB_FORMAT_1 or _2:
 * jalind must upgrade it before use). */
unsigned stdb_format(const struct stdb *db);

/* The key of a batch (PROTOCOL.md §13): [len][origin][bno u64 BE] into k
 * (STDB_BATCH_KEY_MAX bytes); returns its length. */
#define STDB_BATCH_KEY_MAX (1 + JALIN_NAME_MAX + 8)
size_t stdb_batch_key(
    uint8_t *k, const char *origin, size_t olen, uint64_t bno);

/* Key helpers. */
void stdb_key(uint8_t key[STDB_KEY_LEN], uint8_t coll, const uint8_t *id);
void stdb_put_u64(uint8_t *p, uint64_t v); /* big-endian */
uint64_t stdb_get_u64(const uint8_t *p);
void stdb_put_u32(uint8_t *p, uint32_t v);
uint32_t stdb_get_u32(const uint8_t *p);

/*
 * Look up a record. On success *state and *len point into the map (valid until
 * the transaction ends) and *seq is its feed seq. JALIN_ENOTFOUND if the id
 * was never stored (or its tombstone was collected); JALIN_ECORRUPT if the
 * stored value is too short or fails its checksum (corrupt on disk).
 */
int stdb_get_record(MDB_txn *txn, const struct stdb *db, uint8_t coll,
    const uint8_t id[UUID_LEN], const uint8_t **state, size_t *len,
    uint64_t *seq);

/*
 * The state and seq of a records value read by a cursor; JALIN_ECORRUPT if
 * it is too short or fails its checksum.
 */
int stdb_val_state(
    const MDB_val *v, const uint8_t **state, size_t *len, uint64_t *seq);

/* The same without the checksum: for a cheap look at the state. */
int stdb_val_split(
    const MDB_val *v, const uint8_t **state, size_t *len, uint64_t *seq);

/* The same two on a value given as bytes (from stdb_get or stdb_iter_val). */
/*
 * All parts of a records value, unchecked: seq, the proof (NULL and 0 when
 * the state has none) and the state. JALIN_ECORRUPT if it does not split.
 */
int stdb_value_parts(const void *val, size_t vlen, uint64_t *seq,
    const uint8_t **proof, size_t *plen, const uint8_t **state, size_t *len);

/* stdb_get_record with the proof (see stdb_value_parts). */
int stdb_get_record_parts(MDB_txn *txn, const struct stdb *db, uint8_t coll,
    const uint8_t id[UUID_LEN], uint64_t *seq, const uint8_t **proof,
    size_t *plen, const uint8_t **state, size_t *len);

int stdb_value_state(const void *val, size_t vlen, const uint8_t **state,
    size_t *len, uint64_t *seq);
int stdb_value_split(const void *val, size_t vlen, const uint8_t **state,
    size_t *len, uint64_t *seq);

/* A value of a format-1 store ([seq u64 BE][crc32c of the state u32 BE]
 * [state]): for the upgrade only. */
int stdb_val_state_v1(
    const MDB_val *v, const uint8_t **state, size_t *len, uint64_t *seq);

/* Fill the header of a records value for proof[0..plen) (plen 0: none)
 * and state (checksum, seq, proof mark and length): returns its length, at
 * most STDB_VAL_HDR_MAX. The value is the header, the proof, the state. */
size_t stdb_val_header(uint8_t hdr[STDB_VAL_HDR_MAX], uint64_t seq,
    const void *proof, size_t plen, const void *state, size_t len);

/* Metadata readers: 0, JALIN_ENOTFOUND, or JALIN_ECORRUPT (bad size). */
int stdb_meta_get(MDB_txn *txn, const struct stdb *db, const char *name,
    const void **val, size_t *len);
int stdb_meta_u64(
    MDB_txn *txn, const struct stdb *db, const char *name, uint64_t *v);

/* Summary of a store (status): from meta, one read. */
struct stdb_info {
	char node[JALIN_NAME_MAX + 1];
	uint8_t epoch[16];
	uint64_t seq;
	uint64_t hlc;
	uint64_t created_ms;
	uint64_t gcseq;
	uint64_t count[COLL_COUNT + 1]; /* indexed by coll id, [0] unused */
	uint64_t nconflicts;
	uint64_t map_size; /* bytes mapped now */
	uint64_t map_used; /* bytes in use (last page * page size) */
	uint64_t entries;  /* records stored, including tombstones */
};
int stdb_info(MDB_txn *txn, const struct stdb *db, struct stdb_info *info,
    struct jalin_err *err);

/*
 * The per-collection digests and "all" (32 bytes each) computed from the
 * digest database and live counts. digests[coll] for coll 1..5, [0] = all.
 */
int stdb_digests(MDB_txn *txn, const struct stdb *db,
    uint8_t digests[COLL_COUNT + 1][32], struct jalin_err *err);

/*
 * Hash of one record for the digest: SHA-256([coll][id][state]). ctx and md
 * are the caller's, reused across calls (no allocation per record on the
 * write path); md from EVP_MD_fetch(NULL, "SHA256", NULL).
 */
int stdb_record_hash(EVP_MD_CTX *ctx, const EVP_MD *md, uint8_t coll,
    const uint8_t id[UUID_LEN], const void *state, size_t len, uint8_t out[32]);

/* 256-bit little-endian sum arithmetic: acc += h, acc -= h. */
void stdb_sum_add(uint8_t acc[32], const uint8_t h[32]);
void stdb_sum_sub(uint8_t acc[32], const uint8_t h[32]);

/* Map an LMDB return code to JALIN_E* and a message naming what. */
int stdb_mdb_err(int rc, struct jalin_err *err, const char *what);

#endif
