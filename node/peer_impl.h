/*
 * peer_impl.h - the three records the federation modules share: the peer
 * table (struct peers), one configured peer (struct peer) and one TLS
 * connection (struct conn).
 *
 * Why shared and not opaque: every message handler works on a connection,
 * its peer and the table's frame buffers at once (conn.c reads frames,
 * feed.c, apply.c and verify.c answer them on c->peer through
 * c->ps->out), so these three records are the link between them. What
 * one module alone owns is not here: it hangs off them as that module's
 * opaque type (struct feed_conn and feed_peer in feed.c, apply_conn and
 * apply_peer in apply.c, verify and vscan in verify.c; struct gc in gc.c
 * hangs off struct node). Included only by node/peer.c, conn.c, feed.c,
 * apply.c and verify.c; everything else (gc.c, repl.c, peerview.c,
 * admin.c, metrics.c, main.c) sees only the modules' headers and their
 * accessors.
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
#include "peer.h"
#include "record.h"
#include "tls.h"

struct conn;
struct vscan;
struct verify;
struct conn_hooks;
struct feed_conn;
struct apply_conn;
struct feed_peer;
struct apply_peer;

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
	struct apply_peer *apply; /* apply.c's: their feed, as we receive it */
	struct feed_peer *feed;   /* feed.c's: ours, as they acknowledge it */
	struct peer_counters count;
	int64_t skew_ms; /* their clock minus ours, as last seen */
	bool skew_seen;
	uint64_t connected_ms;
	struct verify *v; /* verify.c's state, NULL until first used */
	/* bytes received per second (peer_note_rx), by the second */
	uint64_t rx_sec[JALIN_RATE_WINDOW], rx_bytes[JALIN_RATE_WINDOW];
	uint64_t rx_first_ms; /* first byte of the measured stretch */
	uint64_t rx_last_ms;  /* last byte */
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
	unsigned pv;  /* protocol version agreed in HELLO */
	bool useful;  /* a remote admin's first request arrived (conn.c) */
	bool orderly; /* the other side closed with close_notify: it stopped,
	                 no error (PROTOCOL.md §4) */
	char addr[80];
	char cn[JALIN_ADMIN_NAME_MAX + 1];
	uint64_t started_ms;
	uint64_t last_rx_ms, last_tx_ms, last_drain_ms; /* rx: any byte */
	uint64_t rx_bytes;        /* bytes received, partial frames included */
	uint64_t last_req_ms;     /* a remote admin's last complete request */
	uint64_t closing_ms;      /* when closing was set */
	struct feed_conn *feed;   /* feed.c's: our feed to them, from SUB */
	bool held;                /* input waits (conn_hold) */
	struct apply_conn *apply; /* apply.c's: their feed to us, from HELLO */
	struct vscan *vreply;     /* our scan answering the peer's verify */
};

struct peers {
	struct node *n;
	const struct conn_hooks *hooks; /* the layers above conn.c */
	struct tls *tls;
	uint64_t tls_gen; /* reloads of tls: trust.c judges kids again */
	struct evconnlistener *lis;
	struct evdns_base *dns;
	TAILQ_HEAD(, peer) list;
	TAILQ_HEAD(, conn) conns;
	unsigned nconns;
	struct event *tick;
	struct event *reap; /* frees dead connections outside callbacks */
	unsigned ticks;
	/* closes of never-useful connections logged in this window, and
	 * those left out of the log (conn.c log_flood) */
	uint64_t flood_start_ms;
	unsigned flood_logged, flood_dropped;
	char flood_last[JALIN_ERRMSG_MAX];
	struct buf out;     /* frame being built */
	struct buf in;      /* frame being handled (CHANGES take it over) */
	struct buf pool[2]; /* frame buffers given back by finished tasks */
	struct record *sws; /* sender's decode workspace */
	struct record *rws; /* receiver's decode workspace */
	/* remote admin requests go here (admin.c), set by main.c */
	int (*admin_fn)(
	    void *ctx, struct conn *c, const uint8_t *body, uint32_t len);
	void *admin_ctx;
};

#endif
