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
#define JALIN_COLL_NAME_MAX  16  /* collection name */
#define JALIN_ERRMSG_MAX     512 /* struct jalin_err message */
#define JALIN_PATH_MAX       1024

/* Records. */
#define JALIN_RECORD_MAX         (512u << 10) /* encoded record state */
#define JALIN_RECORD_ORIGINS_MAX 64   /* distinct writer nodes per record */
#define JALIN_RECORD_DOTS_MAX    512  /* distinct write events kept */
#define JALIN_RECORD_ENTRIES_MAX 1024 /* field values incl. conflicts */
#define JALIN_FIELD_SIBLINGS_MAX 16   /* concurrent values of one field */
#define JALIN_VALUE_MAX          (64u << 10) /* one field value, encoded */
#define JALIN_LIST_ITEMS_MAX     256         /* items of a list<> field */
#define JALIN_TAG_MAX            4095        /* highest field tag */
#define JALIN_UNSHARED_MAX       32          /* nodes in unshared_from */

/* Batches: replication and import. */
#define JALIN_BATCH_RECORDS_MAX 4096       /* records per batch frame */
#define JALIN_BATCH_BYTES       (1u << 20) /* target payload per batch */
#define JALIN_IMPORT_BATCH      1000       /* default import batch */
#define JALIN_IMPORT_LINE_MAX   (1u << 20) /* one JSON line */
/* An import request is cut at about this size even below --batch records,
 * so the node's memory per request stays near 1 MiB whatever the records. */
#define JALIN_IMPORT_BATCH_BYTES (1u << 20)
#define JALIN_LIST_PAGE_MAX      10000 /* records per list/export page */

/* Config file. inih r55 splits lines longer than 199 bytes; we refuse. */
#define JALIN_CONFIG_FILE_MAX (1u << 20)
#define JALIN_CONFIG_LINE_MAX 199

/* Peers and connections. */
#define JALIN_PEERS_MAX         256
#define JALIN_CONN_MAX          512 /* concurrent connections (peer+admin) */
#define JALIN_ADMIN_CONN_MAX    64
#define JALIN_HANDSHAKE_TIMEOUT 10  /* seconds */
#define JALIN_IDLE_TIMEOUT      120 /* seconds without a frame */
#define JALIN_STALL_TIMEOUT     30  /* seconds output does not drain */

/* Store. */
#define JALIN_MAP_INITIAL     (64ull << 20)
#define JALIN_MAP_DEFAULT_MAX (64ull << 30)
#define JALIN_MAP_MIN         (1ull << 20)
#define JALIN_DIGEST_BUCKETS  256 /* per collection; see storedb.h */

/* Clock. */
#define JALIN_CLOCK_SKEW_DEFAULT 300 /* seconds */

#endif
