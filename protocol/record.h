/*
 * record.h - the state of one record, and its canonical encoding.
 *
 * A record state is a causal CRDT (a "dot kernel", as in Almeida et al.,
 * delta-state CRDTs, and Riak's dotted version vectors):
 *
 *   origins  the nodes that ever wrote the record, sorted by name;
 *   ctx      per origin, the highest HLC of its writes this state has seen
 *            (a version vector: everything at or below it is known);
 *   dots     write events (origin, hlc) that still hold a value; one write
 *            of several fields is one dot, so fields written together share
 *            one version;
 *   entries  (tag, dot, value): the value a write gave a field. A field with
 *            one entry is settled; several entries are concurrent writes, a
 *            conflict: the winner is the highest (hlc, origin name), the
 *            others are kept and listed until someone writes the field again.
 *            Tag 0 (TAG_DELETED) entries are deletes (value: [reason or
 *            nil, scope or nil], see struct rec_tomb).
 *            A nil value is a write that removed the field.
 *
 * A purged record (REC_PURGED) holds one dot and one tag-0 entry whose value
 * is [reason, request hash or nil, scope or nil]: no field values at all.
 * The scope of a tombstone is the list of nodes the record was shared with
 * when it was deleted (share_with and origin_node of a SCOPED record), so
 * the tombstone can follow the record to exactly those nodes.
 *
 * Encoding (msgpack, every integer and header in its smallest form):
 *
 *   [3, flags, [origin...], [ctx...], [oidx, back, ...], [key, value, ...]]
 *
 * where a dot's HLC is ctx[oidx] - back (the latest write of an origin has
 * back 0: one byte instead of nine) and an entry's key is
 * tag * ndots + didx (one integer instead of two; keys increase exactly as
 * (tag, didx) do). Origins strictly increasing (memcmp, shorter first),
 * dots strictly increasing by (oidx, hlc), entries strictly increasing by
 * (tag, didx), every dot used by an entry, every dot covered by ctx, every
 * value a canonical msgpack object. A value that is a string of at least
 * REC_CODED_MIN bytes is written coded (huff.h) when that is shorter: as
 * msgpack ext type REC_CODED_EXT holding [byte length, LEB128][code]; it
 * is written plain otherwise, and only entry values themselves are coded
 * (never strings inside lists or maps). Format 2 (protocol version 2) was
 * the same without coded strings; format 1 (protocol version 1) wrote
 * [1, flags, origins, ctx, [oidx, hlc, ...], [tag, didx, value, ...]].
 * Both are decoded only with REC_LEGACY, to upgrade an old store. So two
 * nodes holding the same state hold the same bytes, which is what digests
 * and `export` compare.
 *
 * struct record is not opaque: it is decoded on the replication hot path
 * into a caller-owned workspace (no allocation per record). Its strings and
 * values point into the buffers it was decoded from (or, after a merge, into
 * the inputs of the merge): keep those alive until the record is encoded.
 */
#ifndef JALIN_RECORD_H
#define JALIN_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "limits.h"

#define REC_FORMAT     3
#define REC_FORMAT_2   2 /* read only, with REC_LEGACY */
#define REC_FORMAT_1   1 /* read only, with REC_LEGACY */
#define REC_CODED_EXT  1 /* msgpack ext type of a coded string */
#define REC_SEALED_EXT 2 /* an S! value sealed to its recipients (seal.h) */
#define REC_KEYS_EXT   3 /* a record's wrapped data keys (seal.h) */
#define REC_CODED_MIN  8 /* shorter strings are never coded */
#define REC_PURGED     0x1u

struct rec_origin {
	const char *name;
	uint8_t len;
};

struct rec_dot {
	uint16_t origin; /* index into origin[] */
	uint64_t hlc;
};

struct rec_entry {
	uint16_t tag;
	uint16_t dot; /* index into dot[] */
	uint32_t vlen;
	const uint8_t *val; /* canonical msgpack, vlen bytes */
};

struct record {
	uint32_t flags;
	uint16_t norigins;
	uint16_t ndots;
	uint16_t nentries;
	struct rec_origin origin[JALIN_RECORD_ORIGINS_MAX];
	uint64_t ctx[JALIN_RECORD_ORIGINS_MAX];
	struct rec_dot dot[JALIN_RECORD_DOTS_MAX];
	struct rec_entry entry[JALIN_RECORD_ENTRIES_MAX];
};

/* The msgpack nil byte, for entries that remove a field. */
extern const uint8_t rec_nil[1];

/* Make r the empty state (no origins, no entries): "no such record". */
void rec_init(struct record *r);

/* Decode flags. */
#define REC_TRUSTED                                                        \
	0x1            /* from our own store: skip the per-value canonical \
	                * check (structure is still fully bounds-checked) */
#define REC_LEGACY 0x2 /* also accept formats 1, 2 (store upgrade only) */

/*
 * Decode and validate buf[0..len) into r. Every rule of the encoding above
 * is checked, including the canonical form of every integer, header and
 * value (unless REC_TRUSTED), so the bytes of a state that decodes are
 * exactly what rec_encode writes for it. (The code inside a coded string
 * is checked when it is read, by rec_val_plain; see record.c.) A state from a
 * peer that breaks a rule is refused with JALIN_EPROTO and a message ("record:
 * dots not in order", ...); JALIN_ETOOBIG when a table exceeds its limit.
 */
int rec_decode(struct record *r, const void *buf, size_t len, unsigned flags,
    struct jalin_err *err);

/*
 * The same for a state at the start of buf that may be followed by other
 * data (a state inside a CHANGES frame): *used gets its size.
 */
int rec_decode_prefix(struct record *r, const void *buf, size_t len,
    unsigned flags, size_t *used, struct jalin_err *err);

/* Append the canonical encoding of r to out. 0, JALIN_ETOOBIG (over
 * JALIN_RECORD_MAX or out's cap) or JALIN_ENOMEM. */
int rec_encode(const struct record *r, struct buf *out);

/*
 * Entry values in a state are canonical msgpack, strings possibly coded.
 * rec_val_canon appends the state form of a canonical value v (coded if it
 * is a string that codes shorter, else v itself): 0, JALIN_ETOOBIG or
 * JALIN_ENOMEM (nothing appended then). Values a client gives go through it
 * before they are compared with stored ones.
 */
int rec_val_canon(const uint8_t *v, uint32_t vlen, struct buf *out);

/*
 * Put every entry value of r in its state form (rec_val_canon), copied
 * into scratch (reset first; it must then live as long as r's values):
 * for a record decoded with REC_LEGACY, whose strings are plain. 0,
 * JALIN_ETOOBIG or JALIN_ENOMEM.
 */
int rec_code_values(struct record *r, struct buf *scratch);

/* True if v is a coded string. */
bool rec_val_coded(const uint8_t *v, uint32_t vlen);

/*
 * The plain form of an entry value, for whoever reads what it says: v
 * itself, or for a coded string the msgpack str it stands for, appended to
 * tmp (*pv points there until tmp grows again; let tmp reach
 * JALIN_VALUE_MAX to decode any value).
 * 0, JALIN_ECORRUPT if a coded value does not decode, JALIN_ETOOBIG or
 * JALIN_ENOMEM from tmp.
 */
int rec_val_plain(const uint8_t *v, uint32_t vlen, struct buf *tmp,
    const uint8_t **pv, uint32_t *plen);

/* True if no origin and no entry: the record does not exist. */
bool rec_is_empty(const struct record *r);

/* True if purged. */
bool rec_is_purged(const struct record *r);

/*
 * True if the record has at least one field whose winning value is not nil.
 * A deleted record (tombstone) and a purged one are not live.
 */
bool rec_is_live(const struct record *r);

/* True if the record holds tag-0 (delete) entries. */
bool rec_has_delete(const struct record *r);

/*
 * Compare two dots of r by (hlc, origin name): <0, 0, >0. The winner of a
 * field is its entry with the greatest dot in this order.
 */
int rec_dot_cmp(const struct record *r, uint16_t a, uint16_t b);

/*
 * Index range [*first, *end) of the entries of tag (entries are sorted by
 * tag). Returns the number of entries (0: field never written or removed
 * by a delete).
 */
size_t rec_field(
    const struct record *r, uint16_t tag, size_t *first, size_t *end);

/* Index of the winning entry among [first, end). */
size_t rec_winner(const struct record *r, size_t first, size_t end);

/* Highest HLC in ctx (0 for an empty record): the latest write seen. */
uint64_t rec_max_hlc(const struct record *r);

/*
 * A cheap look at stored, trusted bytes: false if the state is certainly
 * not a plain deletion (a purge marker, or a first entry that is a field),
 * true if it may be one (decode it to know). Reads no further than the
 * first entry's tag.
 */
bool rec_peek_deleted(const void *buf, size_t len);

/*
 * Number of conflicts: fields (tag >= 1) with more than one entry, plus one
 * if the record is live and also holds a delete (an edit concurrent with a
 * delete).
 */
unsigned rec_conflicts(const struct record *r);

/* Order of origin names: memcmp, the shorter first on a common prefix. */
int rec_name_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* A tombstone value (tag-0 entry), parsed; pointers into the entry. */
struct rec_tomb {
	const char *reason; /* NULL when nil */
	uint32_t reason_len;
	const uint8_t *hash;  /* 32 bytes, purge only; NULL when nil */
	const uint8_t *scope; /* msgpack array of node names; NULL when nil */
	size_t scope_len;
};

/* Parse a tag-0 value of a deleted (purged false) or purged record.
 * 0 or JALIN_EPROTO. */
int rec_tomb_parse(const struct rec_entry *e, bool purged, struct rec_tomb *t);

/* Index of origin name in r, or -1. */
int rec_origin_find(const struct record *r, const char *name, size_t len);

/* Index of r's dot (write event) of origin name at hlc, or -1. */
int rec_dot_find(
    const struct record *r, const char *name, size_t len, uint64_t hlc);

#endif
