/*
 * msg.h - message types and keys (protocol/PROTOCOL.md is the spec).
 *
 * Every message, on the admin socket and between peers, is one frame
 * (frame.h) holding a msgpack map with small integer keys; key 0 is the
 * message type. Unknown keys are skipped, so a newer client can talk to an
 * older node; a missing required key is an error.
 *
 * Admin: a request carries MK_REQID; the node answers with MSG_RESP and the
 * same MK_REQID, MK_STATUS (0 or a negative JALIN_E* code), MK_ERROR (a
 * message, when MK_STATUS is not 0) and MK_RESULT: a value made only of
 * maps with string keys, arrays, strings, integers, booleans and nil, so it
 * converts to JSON as is. Requests are answered in order.
 *
 * Between peers, one table (msg_defs) says which keys each message type
 * carries, which of them it must carry and the type of each key
 * (msg_keys); PROTOCOL.md section 3 prints the same table and
 * tests/integration/test_protocol_doc.py checks that they agree. The
 * msg_enc_* encoders below write every peer message; msg_decode_peer reads
 * one and refuses a message without a key the table requires.
 */
#ifndef JALIN_MSG_H
#define JALIN_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "buf.h"
#include "err.h"

enum msg_type {
	/* between peers (PROTOCOL.md) */
	MSG_HELLO = 1,   /* versions, name, epoch, seq, features, schema */
	MSG_ERROR = 2,   /* code, message; the sender closes next */
	MSG_SUB = 3,     /* subscribe to the feed from a checkpoint */
	MSG_RESYNC = 4,  /* checkpoint unusable: streaming restarts at 0 */
	MSG_CHANGES = 5, /* feed entries (from, upto] and their records */
	MSG_ACK = 6,     /* receiver: applied and durable up to seq */
	MSG_LIVE = 7,    /* sender: caught up at seq; changes follow live */
	MSG_PING = 8,
	MSG_PONG = 9,
	MSG_VDIGEST_REQ = 10, /* verify: send your digest of our scope */
	MSG_VDIGEST = 11,     /* bucket sums of the shared scope */
	MSG_VIDS_REQ = 12,    /* verify: list your records in this bucket */
	MSG_VIDS = 13,        /* [coll, id, hash] of one bucket */
	MSG_REPAIR = 14,      /* records to merge, outside the feed */
	MSG_FETCH = 15,       /* send me these records (as REPAIR) */
	MSG_CERT = 16,        /* protocol 4: a node certificate (DER) */
	MSG_SIGBATCH = 17,    /* protocol 4: a signed batch of event leaves */
	/* admin requests */
	MSG_STATUS = 32,
	MSG_PUT = 33,
	MSG_GET = 34,
	MSG_DELETE = 35,
	MSG_PURGE = 36,
	MSG_LIST = 37,
	MSG_EXPORT = 38,
	MSG_IMPORT = 39,
	MSG_FEED = 40,
	MSG_CONFLICTS = 41,
	MSG_DIGEST = 42,
	MSG_PEERS = 43, /* reserved (jalinctl peers reads status) */
	MSG_VERIFY = 44,
	MSG_AUDIT = 45, /* the access log (audit.h); local socket only */
	/* admin response */
	MSG_RESP = 64,
};

enum msg_key {
	MK_TYPE = 0,
	MK_REQID = 1,
	/* response */
	MK_STATUS = 2,
	MK_ERROR = 3,
	MK_RESULT = 4,
	/* admin request arguments */
	MK_COLL = 16,     /* str: collection name */
	MK_ID = 17,       /* str (36-char UUID) or bin 16 */
	MK_FIELDS = 18,   /* map: field name -> value (JSON-shaped) */
	MK_VERSIONS = 19, /* bool: get with per-field versions */
	MK_REASON = 20,   /* str: deletion reason */
	MK_HASH = 21,     /* str (64 hex) or bin 32: erasure request hash */
	MK_LIMIT = 22,    /* uint */
	MK_AFTER = 23,    /* str: paging cursor from a previous "next" */
	MK_SINCE = 24,    /* uint: feed seq */
	MK_RECORDS = 25,  /* array of [coll, id or nil, fields] (import) */
	MK_STOP = 26,     /* bool: import stops at the first bad record */
	MK_PEER = 27,     /* str: peer name */
	MK_PURPOSE = 28,  /* str: why the records are read (audit log) */
	/* peer message keys */
	MK_PV_MIN = 40,   /* uint: lowest protocol version spoken */
	MK_PV_MAX = 41,   /* uint: highest protocol version spoken */
	MK_NAME = 42,     /* str: node name (= certificate CN) */
	MK_EPOCH = 43,    /* bin 16: store epoch */
	MK_SEQ = 44,      /* uint: a feed seq */
	MK_FEATURES = 45, /* uint: feature bits */
	MK_SCHEMA = 46,   /* map: collection name -> schema version */
	MK_TIME = 47,     /* uint: sender's wall clock, ms since the epoch */
	MK_FROM = 48,     /* uint: changes cover seqs after this one */
	MK_UPTO = 49,     /* uint: ... up to and including this one */
	MK_HEAD = 50,     /* uint: sender's last seq */
	MK_RECS = 51,     /* array of [seq, coll id, id bin 16, state] */
	MK_SUMS = 52,     /* bin 256 x 32: digest bucket sums */
	MK_COUNT = 53,    /* uint: records counted */
	MK_BAD = 54,      /* uint: records found corrupt */
	MK_BUCKET = 55,   /* uint: a digest bucket (0..255) */
	MK_IDS = 56,      /* array of [coll, id bin 16, hash bin 32 or nil] */
	MK_ORIGIN = 57,   /* str: the node that signed a batch */
	MK_BNO = 58,      /* uint: a batch's name (its first event's HLC) */
	MK_KID = 59,      /* bin 8: key id of the signing certificate */
	MK_SIG = 60,      /* bin: ECDSA signature (DER) */
	MK_LEAVES = 61,   /* bin: 16 bytes per event */
	MK_CERT = 62,     /* bin: a node certificate (DER) */
};

/* A parsed peer message; raw spans point into the frame. */
struct msg_peer {
	uint64_t type;
	uint64_t pv_min, pv_max, features, seq, time, from, upto, head;
	int64_t code;
	bool has_epoch, has_seq, has_upto, has_from;
	uint8_t epoch[16];
	const char *name;
	uint32_t name_len;
	const char *error;
	uint32_t error_len;
	const uint8_t *schema; /* raw msgpack map */
	size_t schema_len;
	const uint8_t *recs; /* raw msgpack array */
	size_t recs_len;
	const uint8_t *sums; /* 8192 bytes */
	uint64_t count, bad, bucket;
	bool has_bucket;
	const uint8_t *ids; /* raw msgpack array */
	size_t ids_len;
	const char *origin; /* BATCH */
	uint32_t origin_len;
	uint64_t bno;
	const uint8_t *kid, *sig, *leaves, *cert;
	uint32_t kid_len, sig_len, leaves_len, cert_len;
	uint64_t keys; /* bit k set: key k (< 64) was present */
};

/*
 * Parse a peer message that passed mp_check. JALIN_EPROTO with err naming
 * the key. Unknown keys are skipped.
 */
int msg_parse_peer(
    const void *buf, size_t len, struct msg_peer *m, struct jalin_err *err);

/* A parsed admin request: raw spans point into the frame. */
struct msg_req {
	uint64_t type;
	uint64_t reqid;
	const char *coll;
	uint32_t coll_len;
	const uint8_t *id; /* raw msgpack (str or bin) */
	size_t id_len;
	const uint8_t *fields; /* raw msgpack map */
	size_t fields_len;
	bool versions;
	const char *reason;
	uint32_t reason_len;
	const uint8_t *hash; /* raw msgpack */
	size_t hash_len;
	uint64_t limit;
	const char *after;
	uint32_t after_len;
	uint64_t since;
	const uint8_t *records; /* raw msgpack array */
	size_t records_len;
	bool stop;
	const char *peer;
	uint32_t peer_len;
	const char *purpose;
	uint32_t purpose_len;
};

/*
 * Parse a request frame that passed mp_check. JALIN_EPROTO with err
 * ("request: key 16 must be a string") for a wrong type; unknown keys are
 * skipped.
 */
int msg_parse_req(
    const void *buf, size_t len, struct msg_req *req, struct jalin_err *err);

/*
 * Start a success response for reqid in pk: the envelope map with
 * MK_STATUS 0 and the MK_RESULT key; the caller packs the result value.
 */
void msg_resp_begin(msgpack_packer *pk, uint64_t reqid);

/* A whole error response in out (reset first). */
void msg_resp_error(struct buf *out, uint64_t reqid, int code, const char *msg);

/* A parsed response: spans point into the frame. */
struct msg_resp {
	uint64_t reqid;
	int64_t status;    /* 0 or a negative JALIN_E* code */
	const char *error; /* NULL when absent */
	uint32_t error_len;
	const uint8_t *result; /* raw msgpack, NULL when absent */
	size_t result_len;
};

/*
 * Parse a response frame (msg_resp_begin / msg_resp_error wrote it). 0, or
 * JALIN_EPROTO with err ("response: key 2 must be an integer", "response:
 * not a response (type 33)"); unknown keys are skipped.
 */
int msg_parse_resp(
    const void *buf, size_t len, struct msg_resp *r, struct jalin_err *err);

/* --- the grammar of peer messages ------------------------------------- */

/* The type of a key's value, as PROTOCOL.md's key table names it. */
enum msg_vtype {
	MV_UINT,  /* "uint": non-negative integer */
	MV_INT,   /* "int" */
	MV_STR,   /* "str" */
	MV_BIN16, /* "bin 16": exactly 16 bytes */
	MV_SUMS,  /* "bin 8192": 256 x 32 bytes */
	MV_MAP,   /* "map str→uint" */
	MV_ARRAY, /* "array" */
	MV_BIN,   /* "bin": any length (checked by the receiver) */
};

struct msg_keydef {
	uint8_t key;      /* MK_* */
	uint8_t vtype;    /* enum msg_vtype */
	const char *name; /* "EPOCH", as in PROTOCOL.md */
};

/* How a message type needs one of its keys. */
enum msg_need {
	MSG_OPTIONAL, /* may be absent: reads as 0 / empty */
	MSG_REQUIRED, /* a message without it is refused */
	MSG_WITH,     /* required when the key in .with is present */
};

struct msg_slot {
	uint8_t key;  /* MK_* */
	uint8_t need; /* enum msg_need */
	uint8_t with; /* MSG_WITH: the key whose presence requires this one */
};

struct msg_def {
	uint8_t type;                 /* MSG_* */
	const char *name;             /* "HELLO", as in PROTOCOL.md */
	const struct msg_slot *slots; /* the keys besides MK_TYPE, in the
	                               * order the encoder writes them */
	uint8_t nslots;
};

/* The table: every peer message type (1..17), in type order; *n its size. */
const struct msg_def *msg_defs(size_t *n);

/* Every key a peer message may carry, in key order; *n its size. */
const struct msg_keydef *msg_keys(size_t *n);

/* The entry of a peer message type / key; NULL if there is none. */
const struct msg_def *msg_def(uint64_t type);
const struct msg_keydef *msg_key(uint64_t key);

/* "uint", "bin 16" ...: the name PROTOCOL.md gives a value type. */
const char *msg_vtype_name(unsigned vtype);

/*
 * Check a parsed peer message against the table: every required key is
 * present. 0, or JALIN_EPROTO with err naming the message and the key
 * ("HELLO: required key 43 (EPOCH) is missing"). A type not in the table
 * passes: whether it is valid is the receiver's business.
 */
int msg_check_peer(const struct msg_peer *m, struct jalin_err *err);

/* msg_parse_peer, then msg_check_peer. */
int msg_decode_peer(
    const void *buf, size_t len, struct msg_peer *m, struct jalin_err *err);

/* --- encoders of peer messages ---------------------------------------- */
/*
 * Each msg_enc_* resets out and writes one whole message (the frame body:
 * frame.h adds the length). A write that fails (out's cap, memory) leaves
 * out->err set; the sender checks it once. Integers are written in their
 * smallest msgpack form, keys in the order of the table.
 */

/* A collection and its schema version, for HELLO. */
struct msg_schema_ver {
	const char *name;
	uint32_t version;
};

struct msg_hello {
	uint64_t pv_min, pv_max; /* protocol versions spoken */
	const char *name;        /* this node's name */
	const uint8_t *epoch;    /* 16 bytes: the store's epoch */
	uint64_t seq;            /* the store's head */
	uint64_t features;
	/* NULL: this build's collections (schema.h); else nschema entries */
	const struct msg_schema_ver *schema;
	uint32_t nschema;
};

void msg_enc_hello(struct buf *out, const struct msg_hello *h);

/* ERROR with a negative JALIN_E* code and its message. */
void msg_enc_error(struct buf *out, int code, const char *msg);

/* SUB from the checkpoint (epoch, seq); epoch NULL: none, from the start. */
void msg_enc_sub(struct buf *out, const uint8_t *epoch, uint64_t seq);

/* RESYNC in the sender's current epoch, with why it is needed. */
void msg_enc_resync(struct buf *out, const uint8_t epoch[16], const char *why);

/* ACK: applied and durable up to upto. LIVE: caught up at upto. */
void msg_enc_ack(struct buf *out, const uint8_t epoch[16], uint64_t upto);
void msg_enc_live(struct buf *out, const uint8_t epoch[16], uint64_t upto);

/* PING with our clock; PONG echoing the PING's. */
void msg_enc_ping(struct buf *out, uint64_t time_ms);

/* Protocol 4 (PROTOCOL.md §13): a certificate, a signed batch. */
void msg_enc_cert(struct buf *out, const uint8_t *der, size_t len);
void msg_enc_batch(struct buf *out, const char *origin, size_t olen,
    uint64_t bno, const uint8_t *kid, size_t kidlen, const uint8_t *sig,
    size_t slen, const uint8_t *leaves, size_t lbytes);
void msg_enc_pong(struct buf *out, uint64_t time_ms);

void msg_enc_vdigest_req(struct buf *out);

struct msg_vdigest {
	uint64_t seq;        /* our head when the scan began */
	uint64_t head;       /* ... and when it ended */
	uint64_t upto;       /* how far we applied the requester's feed */
	const uint8_t *sums; /* 256 x 32 bytes */
	uint64_t count, bad;
};

void msg_enc_vdigest(struct buf *out, const struct msg_vdigest *d);

void msg_enc_vids_req(struct buf *out, uint8_t bucket);

/*
 * VIDS of bucket: n items [coll, id, hash or nil] already encoded (by
 * msg_ids_item) in items/len, copied as they are.
 */
void msg_enc_vids(struct buf *out, uint8_t bucket, uint32_t n,
    const uint8_t *items, size_t len);

/* One VIDS item [coll, id, hash]; hash NULL (a corrupt record): nil. */
void msg_ids_item(msgpack_packer *pk, uint8_t coll, const uint8_t id[16],
    const uint8_t *hash);

/*
 * Streaming messages: CHANGES, REPAIR and FETCH grow item by item while the
 * store is read, and their count (and CHANGES's UPTO) is known only at the
 * end. begin writes the header with fixed-size slots (a 9-byte UPTO, a
 * 5-byte array header), each add appends one item to out (a record state
 * is appended as it lies: no copy besides that one), end patches the slots.
 * The struct lives on the caller's stack; out must stay untouched by others
 * between begin and end. out->len tells how big the frame has grown.
 */
struct msg_batch {
	struct buf *out;
	msgpack_packer pk;
	size_t upto_at; /* CHANGES: offset of UPTO's 8 bytes */
	size_t mark;    /* offset of the items' array header */
	uint32_t n;     /* items added */
	uint32_t want;  /* count declared in begin, or MSG_COUNT_LATER */
};

#define MSG_COUNT_LATER UINT32_MAX

/* CHANGES (from, ...] in epoch; head and time (ms) as the sender's. */
void msg_changes_begin(struct msg_batch *bt, struct buf *out,
    const uint8_t epoch[16], uint64_t from, uint64_t head, uint64_t time_ms);

/* REPAIR of n records, or MSG_COUNT_LATER: counted and patched at end. */
void msg_repair_begin(struct msg_batch *bt, struct buf *out, uint32_t n);

/* FETCH: ids are added with msg_batch_id, counted and patched at end. */
void msg_fetch_begin(struct msg_batch *bt, struct buf *out);

/*
 * One record [seq, coll, id, state] of CHANGES or REPAIR (seq 0): len
 * bytes of state appended as they are; state NULL: nil, a withdrawal.
 */
void msg_batch_rec(struct msg_batch *bt, uint64_t seq, uint8_t coll,
    const uint8_t id[16], const uint8_t *state, size_t len);

/*
 * The same in protocol 4: [seq, coll, id, state, proof], proof[0..plen)
 * (a state's proof, proof.h) or nil when plen is 0.
 */
void msg_batch_rec4(struct msg_batch *bt, uint64_t seq, uint8_t coll,
    const uint8_t id[16], const uint8_t *state, size_t len,
    const uint8_t *proof, size_t plen);

/* One FETCH item [coll, id]. */
void msg_batch_id(struct msg_batch *bt, uint8_t coll, const uint8_t id[16]);

/* End CHANGES: its UPTO and count. */
void msg_changes_end(struct msg_batch *bt, uint64_t upto);

/*
 * End REPAIR or FETCH: patch the count. A REPAIR begun with a count that
 * got another number of items sets out->err (JALIN_EINVAL).
 */
void msg_batch_end(struct msg_batch *bt);

/* Name of a message type for logs ("put", "batch"), "unknown" otherwise. */
const char *msg_type_name(uint64_t type);

#endif
