/*
 * peer_impl.h - state shared by peer.c (connections) and repl.c (the
 * replication streams). Private to those two files: everything else sees
 * only peer.h.
 */
#ifndef JALIN_PEER_IMPL_H
#define JALIN_PEER_IMPL_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "buf.h"
#include "config.h"
#include "msg.h"
#include "node.h"
#include "record.h"
#include "tls.h"

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

struct conn;
struct rtask;
struct vscan;

/* Outcome of a verification, for status and `jalinctl verify`. */
struct verify_result {
	char peer[JALIN_NAME_MAX + 1];
	int rc;               /* 0: compared (equal or repaired) */
	bool equal;           /* digests equal at the end */
	uint64_t at_ms;       /* when it finished */
	uint64_t verified_ms; /* last time found equal (0: never) */
	uint64_t compared;    /* records in the shared scope */
	uint64_t differing;   /* records found different */
	uint64_t repaired;    /* records sent or fetched to repair them */
	uint64_t corrupt;     /* records found corrupt (both sides) */
	char text[JALIN_ERRMSG_MAX];
	char where[JALIN_ERRMSG_MAX]; /* which records differed */
};

typedef void verify_done_fn(void *ctx, const struct verify_result *r);

enum verify_state {
	V_IDLE = 0,
	V_DIGEST, /* our scan and their digest under way */
	V_IDS,    /* comparing one bucket's ids */
	V_RECHECK /* repaired: verifying again shortly */
};

/* Verification state of one peer (verify.c). */
struct verify {
	int state;
	uint64_t next_ms;    /* next periodic run */
	uint64_t started_ms; /* the current round */
	uint64_t my_head;    /* our head when our scan started */
	uint64_t my_ck;      /* our checkpoint of their feed then */
	struct vscan *scan;  /* our scan in progress */
	bool mine_done, theirs_done;
	uint8_t *mine; /* 256 x 32 bucket sums */
	uint8_t *theirs;
	uint64_t my_count, their_count, my_bad, their_bad;
	uint64_t their_head0, their_head1, their_ck;
	uint8_t diff[32];  /* bitmap of differing buckets */
	unsigned rechecks; /* repair rounds in a row, this check */
	int bucket;        /* being compared, -1 none */
	struct buf my_ids, their_ids;
	bool my_ids_done, their_ids_done;
	struct verify_result last;
	struct verify_result cur;
	struct {
		verify_done_fn *fn;
		void *ctx;
	} waiters[8];
	unsigned nwaiters;
};

/* One configured peer ([peer NAME]) and what we know of it. */
struct peer {
	TAILQ_ENTRY(peer) link;
	struct peers *ps;
	struct cfg_peer cfg;
	struct conn *conn; /* the session, once HELLO is done */
	struct conn *dial; /* our outbound attempt in progress */
	struct event *dial_ev;
	uint32_t backoff_ms;
	bool removed;
	bool refused; /* last attempt refused (certificate, config) */
	char last_error[JALIN_ERRMSG_MAX];
	uint64_t last_contact_ms;
	uint64_t cert_expiry_ms;
	/* their feed, as we receive it */
	bool ck_valid;
	uint8_t ck_epoch[16];
	uint64_t ck_seq;         /* durable checkpoint */
	uint64_t their_head;     /* their last seq, as they told us */
	uint64_t newest_ms;      /* write time of the newest record applied */
	bool in_live;            /* they said LIVE and we applied up to it */
	uint64_t cu_from, cu_ms; /* catch-up: where and when it started */
	bool in_resync;
	/* Feed entries after this seq whose source is this peer hold what it
	 * sent us and still has: not sent back. Reset to our head whenever
	 * its store may have changed (first contact, new epoch, RESYNC). */
	bool trust_valid;
	uint64_t trust_from;
	/* our feed, as they acknowledge it */
	bool acked_valid;
	uint8_t acked_epoch[16];
	uint64_t acked_seq;
	bool out_resync;
	/* counters */
	uint64_t bytes_in, bytes_out, recs_in, recs_out, refused_recs;
	uint64_t batches_in, batches_out, errors;
	uint64_t errors_by[EK_COUNT];
	int64_t skew_ms; /* their clock minus ours, as last seen */
	bool skew_seen;
	uint64_t connected_ms;
	struct verify v;
};

/* One TLS connection, to a peer or from a remote admin. */
struct conn {
	TAILQ_ENTRY(conn) link;
	struct peers *ps;
	struct bufferevent *bev;
	struct peer *peer; /* outbound: from the start; inbound: after TLS */
	bool outbound;
	bool tls_done; /* handshake finished, identity checked */
	bool admin;    /* an admin:NAME certificate */
	bool open;     /* HELLO exchanged: replicating */
	bool closing;  /* ERROR sent, closing when written */
	bool dead;     /* closed; freed by the reaper */
	bool stalled;
	char addr[80];
	char cn[JALIN_ADMIN_NAME_MAX + 1];
	uint64_t started_ms;
	uint64_t last_rx_ms, last_tx_ms, last_drain_ms;
	/* sender: our feed to them */
	bool subscribed;
	bool caught_up; /* LIVE sent */
	uint64_t spos;  /* last seq covered by what we sent */
	uint64_t smax;  /* the highest spos ever sent on this connection */
	/* receiver: their feed to us */
	uint8_t hello_epoch[16]; /* their epoch: HELLO's, or a RESYNC's */
	bool rsub;
	uint8_t repoch[16];
	uint64_t rpos;        /* last seq applied (or queued) */
	struct rtask *task;   /* CHANGES being applied */
	struct vscan *vreply; /* our scan answering the peer's verify */
};

struct peers {
	struct node *n;
	struct tls *tls;
	struct evconnlistener *lis;
	struct evdns_base *dns;
	TAILQ_HEAD(, peer) list;
	TAILQ_HEAD(, conn) conns;
	unsigned nconns;
	struct event *tick;
	struct event *reap; /* frees dead connections outside callbacks */
	unsigned ticks;
	struct buf out;     /* frame being built */
	struct buf in;      /* frame being handled (CHANGES take it over) */
	struct buf pool[2]; /* frame buffers given back by finished tasks */
	struct record *sws; /* sender's decode workspace */
	struct record *rws; /* receiver's decode workspace */
	bool gc_running;
	char gc_holder[JALIN_NAME_MAX + 1]; /* holds tombstones back */
};

/* peer.c */
const char *err_kind_name(int kind);
void peer_count_error(struct peer *p, int kind);
void peers_give_back(struct peers *ps, struct buf *b);
void conn_send(struct conn *c, const struct buf *body);
void conn_error(struct conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void conn_resume(struct conn *c);
const char *peer_state_name(int state);
void peer_set_error(struct peer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* repl.c */
void repl_load(struct peers *ps);
void repl_open(struct conn *c);
int repl_handle(struct conn *c, const struct msg_peer *m);
void repl_pump(struct conn *c);
void repl_closed(struct conn *c);
void repl_gc(struct peers *ps);
uint64_t repl_lag_ms(struct peers *ps, const struct peer *p);
bool repl_may_send(struct peers *ps, const struct peer *p, uint8_t coll,
    const struct record *r);

/*
 * True if we hold key ([coll][id]) and p is owed a withdrawal of it
 * instead of the record (scope.h): what the feed would send p.
 */
bool repl_owes_withdrawal(
    struct peers *ps, MDB_txn *txn, const struct peer *p, const uint8_t *key);
int repl_apply_repair(struct conn *c, const struct msg_peer *m);

/* verify.c */
void verify_tick(struct peers *ps, uint64_t now);
int verify_start(
    struct peers *ps, struct peer *p, verify_done_fn *fn, void *ctx);
void verify_cancel_waiter(struct peers *ps, void *ctx);
int verify_handle(struct conn *c, const struct msg_peer *m);
void verify_closed(struct conn *c);
void verify_free(struct peer *p);
void verify_soon(struct peer *p);

#endif
