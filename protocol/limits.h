/*
 * limits.h - every bound jalin puts on input, in one place.
 *
 * Anything that arrives from a peer, the admin socket, a file or the command
 * line is checked against one of these before it is used or allocated for.
 * Changing a wire-visible limit (frame, batch, record sizes) is a protocol
 * change: bump JALIN_PROTO_VERSION_MAX and say so in PROTOCOL.md.
 */
#ifndef JALIN_LIMITS_H
#define JALIN_LIMITS_H

/* Release of this source tree (jalind -V, jalinctl -V, status). */
#define JALIN_VERSION "0.3.0"

/* Protocol versions this build speaks (HELLO picks the highest common). */
#define JALIN_PROTO_VERSION_MIN 3
#define JALIN_PROTO_VERSION_MAX 3
#define JALIN_ALPN              "jalin/1"

/* Framing: 4-byte big-endian length, then one msgpack message. */
#define JALIN_FRAME_HDR 4
#define JALIN_FRAME_MAX (8u << 20) /* any frame after HELLO */
#define JALIN_HELLO_FRAME_MAX                                               \
	(64u << 10)                      /* frames before HELLO is accepted \
	                                  */
#define JALIN_ADMIN_FRAME_MAX (8u << 20) /* admin socket requests */

/* Generic msgpack guard (mp_check): nesting depth of arrays/maps. */
#define JALIN_MP_DEPTH_MAX 16

/* Names and identifiers. */
#define JALIN_NAME_MAX       64  /* node name = certificate CN */
#define JALIN_ADMIN_NAME_MAX 96  /* "admin:" + name */
#define JALIN_FIELD_NAME_MAX 64  /* schema field name incl. dots */
#define JALIN_HOST_MAX       255 /* host of a config address; DNS: 253 */
#define JALIN_COLL_NAME_MAX  16  /* collection name */
#define JALIN_ERRMSG_MAX     512 /* struct jalin_err message */
#define JALIN_PATH_MAX       1024

/* Records. */
#define JALIN_RECORD_MAX         (512u << 10) /* encoded record state */
#define JALIN_RECORD_ORIGINS_MAX 64   /* distinct writer nodes per record */
#define JALIN_RECORD_DOTS_MAX    512  /* distinct write events kept */
#define JALIN_RECORD_ENTRIES_MAX 1024 /* field values incl. conflicts */
#define JALIN_VALUE_MAX          (64u << 10) /* one field value, encoded */
#define JALIN_LIST_ITEMS_MAX     256         /* items of a list<> field */
#define JALIN_TAG_MAX            4095        /* highest field tag */
#define JALIN_UNSHARED_MAX       32          /* nodes in unshared_from */
/* A key of a map field that has no enum of keys (schema.h ST_MAP). */
#define JALIN_MAP_KEY_MAX 64
/* A client's value is quoted in a validation error only up to this many
 * bytes: enough to recognise it, short enough for one log line. */
#define JALIN_ECHO_MAX 40
/* The cross-field rules (schema.c) read only short strings, dates and enum
 * words: a stored value longer than this is reported corrupt to them. */
#define JALIN_RULE_STR_MAX 64

/* Batches: replication and import. */
#define JALIN_BATCH_RECORDS_MAX 4096       /* records per batch frame */
#define JALIN_BATCH_BYTES       (1u << 20) /* target payload per batch */
#define JALIN_IMPORT_BATCH      1000       /* default import batch */
#define JALIN_IMPORT_LINE_MAX   (1u << 20) /* one JSON line */
/* An import request is cut at about this size even below --batch records,
 * so the node's memory per request stays near 1 MiB whatever the records. */
#define JALIN_IMPORT_BATCH_BYTES (1u << 20)
#define JALIN_LIST_PAGE_MAX      10000 /* records per list/export page */
/*
 * Batches sized to the link (feed.c). The sender measures what the peer
 * acknowledges per second and aims each CHANGES frame at this many
 * seconds of the link, between JALIN_BATCH_BYTES_MIN (a frame always
 * carries at least one record) and JALIN_BATCH_BYTES. Below that cap at
 * most two batches are unacknowledged at a time, so a connection that
 * drops loses little; at the cap (a fast link) only the output buffer
 * bounds what is in flight, as before. Before anything was measured the
 * first batches aim at JALIN_BATCH_BYTES_START. After a connection died
 * with a batch unacknowledged, batches stay below 1/JALIN_BATCH_DROP_DIV
 * of what the connections that dropped delivered, so that what a drop
 * throws away stays a small part of what crosses.
 */
#define JALIN_BATCH_SECONDS     2
#define JALIN_BATCH_BYTES_MIN   (1u << 10)
#define JALIN_BATCH_BYTES_START (16u << 10)
#define JALIN_BATCH_INFLIGHT    2
#define JALIN_BATCH_DROP_DIV    32
/* Batches remembered until acknowledged (a fast link's output buffer and
 * socket buffers hold far fewer of 1 MiB); the feed waits when full. */
#define JALIN_BATCH_TRACK_MAX 64
/* The link's receive rate is averaged over this many seconds. */
#define JALIN_RATE_WINDOW 8
/* Sessions in a row that ended without one batch getting through before
 * status says plainly that the link drops before a batch can arrive. */
#define JALIN_STUCK_ATTEMPTS 3

/* Config file. inih r55 splits lines longer than 199 bytes; we refuse. */
#define JALIN_CONFIG_FILE_MAX (1u << 20)
#define JALIN_CONFIG_LINE_MAX 199

/* Peers and connections. */
#define JALIN_PEERS_MAX         256
#define JALIN_CONN_MAX          512 /* concurrent connections (peer+admin) */
#define JALIN_ADMIN_CONN_MAX    64
#define JALIN_HANDSHAKE_TIMEOUT 10 /* seconds */
/* status warns of a peer certificate that expires within this many days:
 * time to issue and install the next one. */
#define JALIN_CERT_WARN_DAYS 30
/* [node] stall_timeout (jalin.conf(5)): seconds without progress (nothing
 * received, or output not draining) before a peer is shown as stalled;
 * default and largest value (the smallest is 1). */
#define JALIN_STALL_TIMEOUT     30
#define JALIN_STALL_TIMEOUT_MAX 3600
/* A connection that receives nothing for this many stall timeouts (2 min by
 * default) is closed; we ping after a third of one without sending, so a
 * live peer always has something to answer. */
#define JALIN_IDLE_STALLS 4

/* [node] region: the two-digit province code (11 Aceh .. 9x Papua). */
#define JALIN_REGION_MIN 11
#define JALIN_REGION_MAX 99
/* [node] verify_interval: seconds between digest checks with each peer
 * (0: only when asked); default and largest value (a day). */
#define JALIN_VERIFY_INTERVAL     600
#define JALIN_VERIFY_INTERVAL_MAX 86400
/* [node] offline_hold: seconds without a live peer after which a starting
 * node serves no records until it has caught up with one, so purges made
 * meanwhile apply first (0: off); default 72 h, at most a year. */
#define JALIN_OFFLINE_HOLD     259200
#define JALIN_OFFLINE_HOLD_MAX 31536000
/* [node] retention_check: seconds between purges of records past their
 * retention_until (0: off); default a day, at most a year. */
#define JALIN_RETENTION_CHECK     86400
#define JALIN_RETENTION_CHECK_MAX 31536000

/* Store. [node] map_size_max: the LMDB map may grow to this many bytes,
 * 64 GiB by default (the config default is written "64G"), 1 MiB at least. */
#define JALIN_MAP_INITIAL         (64ull << 20)
#define JALIN_MAP_DEFAULT_MAX_GIB 64
#define JALIN_MAP_DEFAULT_MAX \
	((unsigned long long)JALIN_MAP_DEFAULT_MAX_GIB << 30)
#define JALIN_MAP_MIN        (1ull << 20)
#define JALIN_DIGEST_BUCKETS 256 /* per collection; see storedb.h */

/* Clock. [node] max_clock_skew: seconds a peer's change may lie ahead of
 * our clock before it is held back; default 5 min, at most a day (the
 * smallest is 1). */
#define JALIN_CLOCK_SKEW_DEFAULT 300
#define JALIN_CLOCK_SKEW_MAX     86400

/* jalinctl. --timeout: seconds to wait for a remote node (connect, TLS
 * handshake, answer); 5 s by default, an hour at most. */
#define JALIN_CTL_TIMEOUT     5
#define JALIN_CTL_TIMEOUT_MAX 3600
/* watch --interval (seconds between refreshes) and --count. */
#define JALIN_CTL_WATCH_INTERVAL     2
#define JALIN_CTL_WATCH_INTERVAL_MAX 3600
#define JALIN_CTL_WATCH_COUNT_MAX    1000000
/* list/feed --limit: items shown; the node pages them JALIN_LIST_PAGE_MAX
 * at a time, so the bound only keeps a typo from meaning "everything". */
#define JALIN_CTL_LIST_LIMIT     100
#define JALIN_CTL_LIST_LIMIT_MAX 10000000
/* put reads at most this much JSON: the request must fit one frame. */
#define JALIN_CTL_PUT_INPUT_MAX JALIN_ADMIN_FRAME_MAX
/* federation: milliseconds the answers of slow nodes are still waited for
 * after --timeout, before they are reported as not answering. */
#define JALIN_FED_GRACE_MS 2000

#endif
