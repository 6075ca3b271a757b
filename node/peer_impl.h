/*
 * peer_impl.h - state shared by peer.c (connections) and repl.c (the
 * replication streams). Private to those two files: everything else sees
 * only peer.h.
 */
#ifndef JALIN_PEER_IMPL_H
#define JALIN_PEER_IMPL_H

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
	uint64_t ck_seq;     /* durable checkpoint */
	uint64_t their_head; /* their last seq, as they told us */
	uint64_t newest_ms;  /* write time of the newest record applied */
	bool in_live;        /* they said LIVE and we applied up to it */
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
	/* receiver: their feed to us */
	uint8_t hello_epoch[16]; /* their epoch, as HELLO said */
	bool rsub;
	uint8_t repoch[16];
	uint64_t rpos;      /* last seq applied (or queued) */
	struct rtask *task; /* CHANGES being applied */
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
};

/* peer.c */
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

#endif
