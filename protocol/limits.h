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
#define JALIN_PROTO_VERSION_MAX 4
#define JALIN_ALPN              "jalin/1"

/* Framing: 4-byte big-endian length, then one msgpack message. */
#define JALIN_FRAME_HDR 4
#define JALIN_FRAME_MAX (8u << 20) /* any frame after HELLO */
#define JALIN_HELLO_FRAME_MAX                                               \
	(64u << 10)                      /* frames before HELLO is accepted \
	                                  */
#define JALIN_ADMIN_FRAME_MAX (8u << 20) /* admin socket requests */
/* A frame body up to this size (copied through a stack buffer) goes out in
 * one write with its header: two small writes would cost two TLS records,
 * and on TCP the second one can wait for a delayed ACK (Nagle). */
#define JALIN_FRAME_COALESCE 4096

/* Generic msgpack guard (mp_check): nesting depth of arrays/maps. */
#define JALIN_MP_DEPTH_MAX 16

/* Names and identifiers. */
#define JALIN_NAME_MAX       64  /* node name = certificate CN */
#define JALIN_ADMIN_NAME_MAX 96  /* "admin:" + name */
#define JALIN_FIELD_NAME_MAX 64  /* schema field name incl. dots */
#define JALIN_HOST_MAX       255 /* host of a config address; DNS: 253 */
/* "[host]:port" as text: a host, two brackets, a colon, five digits. */
#define JALIN_HOSTPORT_MAX  (JALIN_HOST_MAX + 8)
#define JALIN_COLL_NAME_MAX 16  /* collection name */
#define JALIN_ERRMSG_MAX    512 /* struct jalin_err message */
#define JALIN_PATH_MAX      1024

/* Records. */
#define JALIN_RECORD_MAX         (512u << 10) /* encoded record state */
#define JALIN_RECORD_ORIGINS_MAX 64   /* distinct writer nodes per record */
#define JALIN_RECORD_DOTS_MAX    512  /* distinct write events kept */
#define JALIN_RECORD_ENTRIES_MAX 1024 /* field values incl. conflicts */
#define JALIN_VALUE_MAX          (64u << 10) /* one field value, encoded */
#define JALIN_LIST_ITEMS_MAX     256         /* items of a list<> field */
#define JALIN_TAG_MAX            4095        /* highest field tag */
#define JALIN_UNSHARED_MAX       32          /* nodes in unshared_from */
/* Write events an origin signs at once (PROTOCOL.md §13.2). */
#define JALIN_SIG_BATCH_MAX 256
/* Protocol 4 on one connection (node/trust.c): batches one CHANGES frame
 * may refer to, batches a sender remembers having sent, certificates it
 * remembers sending or a receiver keeps, batches a receiver holds before
 * a stored record refers to them (the oldest dropped first: one that none
 * does is never stored), and a certificate's size. */
#define JALIN_TRUST_REFS_MAX    64
#define JALIN_TRUST_SENT_MAX    1024
#define JALIN_TRUST_KEYS_MAX    128
#define JALIN_TRUST_PENDING_MAX 128
#define JALIN_CERT_MAX          8192
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
/* A list/feed/conflicts page also stops at this many bytes of result:
 * half a frame, so the record that crosses the mark still fits. */
#define JALIN_QUERY_PAGE_BYTES (4u << 20)
/* An unknown collection name is quoted in the error up to this many bytes:
 * longer than any real one, short enough for one line. */
#define JALIN_COLL_ECHO_MAX 32
/* Our feed is read from LMDB only while a peer's output buffer holds less
 * than this (two batches: one being sent, one ready), and again once it
 * drains below half: back-pressure, not a bound (STYLE.md §6). */
#define JALIN_SEND_HIGH (2 * JALIN_BATCH_BYTES)
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
#define JALIN_PEERS_MAX      256
#define JALIN_ADMIN_CONN_MAX 64 /* on the local admin socket */
/*
 * TLS connections (node/conn.c, README "Limits"). [node] max_connections:
 * connections at once, peers and remote admins (default and largest; the
 * smallest is CONN_MIN). One certificate CN holds at most 1/ID_SHARE of
 * them, one source address at most 1/ADDR_SHARE: a newcomer over a share
 * (or over the whole) closes the oldest connection of that group that is
 * not yet useful, else the remote admin idle longest; never a peer
 * session, so a configured peer always gets in.
 * [node] handshake_timeout: seconds from accept (or connect) until a
 * connection is useful (TLS done, then HELLO or a first admin request),
 * not reset by bytes trickling in; default and largest value.
 * [node] admin_idle_timeout: seconds a remote admin connection may sit
 * between requests; default and largest value.
 * Closes of connections that were never useful are logged CONN_LOG_BURST
 * at most per CONN_LOG_WINDOW seconds, then counted in one summary line.
 */
#define JALIN_CONN_MAX               512
#define JALIN_CONN_MIN               16
#define JALIN_CONN_ID_SHARE          8
#define JALIN_CONN_ADDR_SHARE        4
#define JALIN_HANDSHAKE_TIMEOUT      10
#define JALIN_HANDSHAKE_TIMEOUT_MAX  300
#define JALIN_ADMIN_IDLE_TIMEOUT     60
#define JALIN_ADMIN_IDLE_TIMEOUT_MAX 3600
#define JALIN_CONN_LOG_BURST         10
#define JALIN_CONN_LOG_WINDOW        10
/* Redial backoff of an outbound peer, milliseconds: starts at MIN after a
 * connection came up, doubles per failure up to MAX (each wait jittered
 * to 0.5-1.5 times), so a node that is down is not hammered. */
#define JALIN_DIAL_BACKOFF_MIN_MS 500
#define JALIN_DIAL_BACKOFF_MAX_MS 30000
/* Pending connections the peer port's listen() queues: bursts of redials
 * after an outage; JALIN_CONN_MAX still bounds what is accepted. */
#define JALIN_LISTEN_BACKLOG 128
/* The admin socket queues no more than the connections it serves. */
#define JALIN_ADMIN_BACKLOG JALIN_ADMIN_CONN_MAX
/* An admin connection stops reading requests while this much of its
 * answers waits to be sent (a client that does not read), and resumes
 * below half: a list of big pages must not pile up in memory. */
#define JALIN_ADMIN_OUT_MAX (16u << 20)
/* The peer timers (liveness, verify, GC) run every this many ms. */
#define JALIN_TICK_MS 1000
/* status warns of a peer certificate that expires within this many days:
 * time to issue and install the next one. */
#define JALIN_CERT_WARN_DAYS 30
/* [node] stall_timeout (jalin.conf(5)): seconds without progress (nothing
 * received, or output not draining) before a peer is shown as stalled;
 * default and largest value (the smallest is 1). */
#define JALIN_STALL_TIMEOUT     30
#define JALIN_STALL_TIMEOUT_MAX 3600
/* A connection that receives nothing for this many stall timeouts (2 min by
 * default) is closed; we ping after 1/PING_PER_STALL of one without sending,
 * so a live peer always has something to answer. */
#define JALIN_IDLE_STALLS    4
#define JALIN_PING_PER_STALL 3

/* [node] region: the two-digit province code (11 Aceh .. 9x Papua). */
#define JALIN_REGION_MIN 11
#define JALIN_REGION_MAX 99
/* [node] verify_interval: seconds between digest checks with each peer
 * (0: only when asked); default and largest value (a day). */
#define JALIN_VERIFY_INTERVAL     600
#define JALIN_VERIFY_INTERVAL_MAX 86400
/* Verification (node/verify.c). A scan looks at SLICE records per step,
 * between other work, so a large store stays responsive. */
#define JALIN_VERIFY_SLICE 5000
/* ms before the next try after "changes were in flight", and after a
 * repair (the repaired records need a moment to be applied both ways);
 * RECHECK_MAX repair rounds in a row before reporting what remains. */
#define JALIN_VERIFY_RETRY_MS    10000
#define JALIN_VERIFY_RECHECK_MS  1000
#define JALIN_VERIFY_RECHECK_MAX 3
/* ms after a peer goes live before its first check: let the first
 * batches of catch-up arrive, or the check would only say "in flight". */
#define JALIN_VERIFY_AFTER_LIVE_MS 2000
/* Our listing of one bucket holds at most IDS_MAX [coll, id, hash] items
 * and IDS_BYTES of them: half a frame, so the VIDS that carries it fits. */
#define JALIN_VERIFY_IDS_MAX   100000
#define JALIN_VERIFY_IDS_BYTES (JALIN_FRAME_MAX / 2)
/* A round that takes longer (peer gone quiet mid-round) is abandoned. */
#define JALIN_VERIFY_ROUND_MAX_MS 120000
/* Admin requests (jalinctl verify) waiting for one peer's round; more are
 * refused "already exists" rather than queued without bound. */
#define JALIN_VERIFY_WAITERS_MAX 8
/* Tombstone collection (node/gc.c) runs every GC_TICKS timer ticks; one
 * run looks at up to GC_SCAN_MAX feed entries and buries up to GC_BATCH
 * tombstones, so the event loop never waits long for a large import. */
#define JALIN_GC_TICKS    10
#define JALIN_GC_BATCH    10000
#define JALIN_GC_SCAN_MAX 100000
/* [node] offline_hold: seconds without a live peer after which a starting
 * node serves no records until it has caught up with one, so purges made
 * meanwhile apply first (0: off); default 72 h, at most a year. */
#define JALIN_OFFLINE_HOLD     259200
#define JALIN_OFFLINE_HOLD_MAX 31536000
/* [node] retention_check: seconds between purges of records past their
 * retention_until (0: off); default a day, at most a year. */
#define JALIN_RETENTION_CHECK     86400
#define JALIN_RETENTION_CHECK_MAX 31536000
/* The first purge after start comes after retention_check or this many
 * seconds, whichever is less: a restarted node catches up soon. A pass
 * looks at SLICE records per step and queues at most QUEUE_MAX purges. */
#define JALIN_RETENTION_FIRST_PASS 600
#define JALIN_RETENTION_SLICE      5000
#define JALIN_RETENTION_QUEUE_MAX  1000
#define JALIN_RESEAL_SLICE         5000 /* records looked at per step */
#define JALIN_RESEAL_QUEUE_MAX     1000 /* writes queued per step */

/* Sealed fields (PROTOCOL.md §14): keys values built one after another
 * share one ephemeral X25519 key for at most this many records. */
#define JALIN_SEAL_EPH_USES 256

/* Store. [node] map_size_max: the LMDB map may grow to this many bytes,
 * 64 GiB by default (the config default is written "64G"), 1 MiB at least. */
#define JALIN_MAP_INITIAL         (64ull << 20)
#define JALIN_MAP_DEFAULT_MAX_GIB 64
#define JALIN_MAP_DEFAULT_MAX \
	((unsigned long long)JALIN_MAP_DEFAULT_MAX_GIB << 30)
#define JALIN_MAP_MIN        (1ull << 20)
#define JALIN_DIGEST_BUCKETS 256 /* per collection; see storedb.h */

/* Audit log (protocol/audit.h). Actor: "admin:" name or a Unix user
 * "alice (uid 1000)"; purpose: the jalinctl --purpose text; ENTRY_MAX:
 * one encoded entry (those two, a collection, an id, a time and a hash:
 * well under it); a page of the log shows at most PAGE_MAX entries, also
 * the default. */
#define JALIN_AUDIT_ACTOR_MAX   96
#define JALIN_AUDIT_PURPOSE_MAX 256
#define JALIN_AUDIT_ENTRY_MAX   4096
#define JALIN_AUDIT_PAGE_MAX    1000

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

/* Write authority (node/authz.h): states from a peer refused per batch
 * that get a log line each (the batch's summary counts the rest), and the
 * bytes kept of the last refusal's text for status. */
#define JALIN_REFUSAL_LOG_MAX 16
/* [node] write_authority_from: Unix seconds from which write authority
 * applies to write events (earlier ones were written under 0.3's rules);
 * 0 (always) up to 2100-01-01. */
#define JALIN_AUTHZ_FROM_MAX   4102444800u
#define JALIN_REFUSAL_TEXT_MAX 256

/* Encryption keys (node/keyring.h, issue 14): certificates the key ring
 * holds (one per node name) and that a node sends or takes on one
 * connection (PROTOCOL.md §13.3.1); a roster file's bytes; the seconds a
 * certificate's notBefore may lie ahead of our clock (jalin-ca cannot
 * backdate them as it does TLS certificates). */
#define JALIN_ENC_CERTS_MAX 256
#define JALIN_ROSTER_MAX    (1 << 20)
#define JALIN_ENC_SKEW      3600

#endif
