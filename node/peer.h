/*
 * peer.h - the configured peers ([peer NAME]) and what we know of each.
 *
 * The table of struct peer records lives in struct peers (peer_impl.h),
 * which the federation modules share; this header names the small helpers
 * every one of them uses on a record: lookup, error bookkeeping, state
 * names, clock skew, the pool of frame buffers, and the checkpoints kept
 * for each peer in the store (STDB_CKPT: "in:NAME" how far we applied its
 * feed, "ack:NAME" how far it acknowledged ours).
 */
#ifndef JALIN_PEER_H
#define JALIN_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

struct peers;
struct peer;
struct buf;
struct stdb;

/* What went wrong on a connection, for the metrics. */
enum err_kind {
	EK_TLS = 0,    /* handshake or certificate */
	EK_AUTH,       /* not a peer, admin replicating, revoked on reload */
	EK_PROTOCOL,   /* does not decode, out of order, wrong state */
	EK_TIMEOUT,    /* nothing received, handshake too slow */
	EK_SKEW,       /* clock too far ahead: changes held back */
	EK_STORE,      /* could not store what it sent */
	EK_DUPLICATE,  /* second connection of the pair */
	EK_DISCONNECT, /* the connection dropped */
	EK_OTHER,
	EK_COUNT
};

/* What status and the metrics call a peer's state. */
enum peer_state {
	PEER_DOWN = 0,
	PEER_CONNECTING,
	PEER_HANDSHAKING,
	PEER_CATCHING_UP,
	PEER_LIVE,
	PEER_STALLED,
	PEER_RESYNCING,
	PEER_REFUSED,
};

/* What passed between us and a peer since we started. */
struct peer_counters {
	uint64_t bytes_in, bytes_out;     /* frames, headers included */
	uint64_t recs_in, recs_out;       /* records applied / sent */
	uint64_t refused_recs;            /* records of theirs refused */
	uint64_t batches_in, batches_out; /* CHANGES frames */
	uint64_t errors;                  /* connection errors, all kinds */
	/* of what we sent (bytes_out, recs_out: queued), what the peer
	 * acknowledged having stored: delivered */
	uint64_t bytes_acked, recs_acked;
	uint64_t wire_in; /* bytes received, partial frames included */
	uint64_t errors_by[EK_COUNT]; /* the same by err_kind */
};

struct cfg_peer;
struct node;

/* The node ps serves (owned by main.c). */
struct node *peers_node(const struct peers *ps);

/*
 * The next configured peer after p (p NULL: the first), skipping removed
 * ones; NULL at the end. For read-only walks of the table.
 */
struct peer *peers_next(struct peers *ps, struct peer *p);

/* The same, removed peers included (they stay until stop). */
struct peer *peers_next_all(struct peers *ps, struct peer *p);

/* p was taken out of the configuration by a reload. */
bool peer_removed(const struct peer *p);

/* p's [peer NAME] section as configured (owned by p). */
const struct cfg_peer *peer_cfg(const struct peer *p);

/* The error status shows for p, or NULL if none (owned by p). */
const char *peer_last_error(const struct peer *p);

/* When p's certificate expires, in ms since the epoch (0: unknown). */
uint64_t peer_cert_expiry_ms(const struct peer *p);

/* p's clock minus ours in ms, as last seen (0 before any). */
int64_t peer_skew_ms(const struct peer *p);

/* p's counters (owned by p, updated as traffic passes). */
const struct peer_counters *peer_counters(const struct peer *p);

/*
 * The configured peer called name, or NULL (removed peers are not found).
 * ps and name are only read; the record stays owned by ps.
 */
struct peer *peer_find(struct peers *ps, const char *name);

/* The peer's configured name (owned by p, valid while p is). */
const char *peer_name(const struct peer *p);

/* The name of a peer_state ("down" for an unknown value); static text. */
const char *peer_state_name(int state);

/* The name of an err_kind ("other" for an unknown value); static text. */
const char *peer_err_kind_name(int kind);

/* Set the error status shows for p (printf format, escaped as esc.h says,
 * truncated to fit). */
void peer_set_error(struct peer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Count one connection error of kind (an err_kind) against p. */
void peer_count_error(struct peer *p, int kind);

/*
 * n bytes arrived from p at now_ms (partial frames count): kept for the
 * link's receive rate, averaged over JALIN_RATE_WINDOW seconds.
 */
void peer_note_rx(struct peer *p, uint64_t now_ms, uint64_t n);

/* Bytes per second received from p over the last JALIN_RATE_WINDOW
 * seconds (0: nothing received in that time). */
double peer_rx_rate(const struct peer *p, uint64_t now_ms);

/* Their clock against ours, from a TIME (ms) they sent just now; 0 is
 * ignored. */
void peer_note_skew(struct peer *p, uint64_t their_ms);

/*
 * A frame buffer a task is done with: ps keeps up to two for reuse, else
 * it is freed. b is empty afterwards (ownership of its memory moves).
 */
void peers_give_back(struct peers *ps, struct buf *b);

/*
 * Hand the frame being handled (ps->in) to *out without a copy and give
 * ps->in a pooled (or new, empty) buffer. *out is the caller's to free
 * (peers_give_back).
 */
void peers_take_frame(struct peers *ps, struct buf *out);

/* Prefixes of the checkpoint keys. */
#define PEER_CKPT_IN  "in:"
#define PEER_CKPT_ACK "ack:"

/* The checkpoint key prefix + peer into k[0..n) (truncated to fit). */
void peer_ckpt_key(char *k, size_t n, const char *prefix, const char *peer);

/*
 * A checkpoint value, msgpack [epoch bin16, seq], into out (at least 28
 * bytes). Returns its length, always 28.
 */
size_t peer_ckpt_pack(uint8_t *out, const uint8_t epoch[16], uint64_t seq);

/*
 * Read the checkpoint saved under key (NUL-terminated) in db's STDB_CKPT
 * through txn: true and epoch/seq set, or false when there is none or it
 * does not parse (outputs then undefined).
 */
bool peer_ckpt_get(MDB_txn *txn, const struct stdb *db, const char *key,
    uint8_t epoch[16], uint64_t *seq);

#endif
