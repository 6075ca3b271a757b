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

/* Name of a message type for logs ("put", "batch"), "unknown" otherwise. */
const char *msg_type_name(uint64_t type);

#endif
