/*
 * conn.h - TLS connections between nodes, and from remote admins
 * (DESIGN.md §4): the listener, one dialler per configured peer with an
 * address (exponential backoff with jitter), the TLS handshake and the
 * identity check, HELLO, the liveness timers (PING/PONG, stall), the
 * connection limits (a deadline until a connection is useful, the admin
 * idle timeout, the shares of the slots per CN and per source address:
 * README "Limits"), and the framing of everything sent and received.
 *
 * What the open connection carries is the business of the layers above,
 * which conn.c calls through struct conn_hooks (repl.c fills them in): it
 * never calls up into them by name. Two connections between one pair are
 * collapsed into one: the one dialled by the node with the smaller name
 * stays.
 */
#ifndef JALIN_CONN_H
#define JALIN_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "msg.h"
#include "node.h"

struct peers;
struct peer;
struct conn;
struct buf;

/*
 * What the layers above do with an open connection. Every hook is
 * required. conn.c calls them from its libevent callbacks.
 */
struct conn_hooks {
	/* HELLO is done both ways: c is the peer's session now; hello is
	 * the peer's HELLO (valid during the call). */
	void (*opened)(struct conn *c, const struct msg_peer *hello);
	/* A decoded message after HELLO. 0: go on reading; nonzero: c was
	 * closed or paused by the handler (conn_error / a pending task). */
	int (*message)(struct conn *c, const struct msg_peer *m);
	/* c's output drained below its write watermark. */
	void (*writable)(struct conn *c);
	/* c is closing: drop whatever refers to it (c is freed later). */
	void (*closed)(struct conn *c);
	/* Once a second, after the connections were checked; ticks counts
	 * the calls from 1. */
	void (*tick)(struct peers *ps, uint64_t now_ms, unsigned ticks);
	/* p was added to the table (at start or reload): set up what the
	 * layers above keep for it. 0, or an error: p is not added. */
	int (*peer_added)(struct peer *p);
	/* p is about to be freed (at stop, or when peer_added failed). */
	void (*peer_freed)(struct peer *p);
};

/*
 * Remote admin requests (an admin:NAME certificate): ctx as given to
 * conn_set_admin, c the connection (conn_send answers on it, conn_error
 * closes it), body[0..len) one frame that passed mp_check. Returns 0.
 */
typedef int conn_admin_fn(
    void *ctx, struct conn *c, const uint8_t *body, uint32_t len);

/*
 * Load TLS (tls_new), listen on n->cfg->listen, start dialling every
 * configured peer. hooks must outlive the connections. On success *out
 * owns everything (conn_stop frees it); on error *out is NULL, nothing is
 * left running and err names the file or address and the reason.
 */
int conn_start(struct node *n, const struct conn_hooks *hooks,
    struct peers **out, struct jalin_err *err);

/* Where remote admin requests go; until set they are refused. */
void conn_set_admin(struct peers *ps, conn_admin_fn *fn, void *ctx);

/* Close every connection (with a TLS close_notify: an orderly close, not
 * an error for the other side) and free ps and its peers. NULL is a
 * no-op. */
void conn_stop(struct peers *ps);

/*
 * Take a reloaded config: a new TLS context (certificate, key, CRL) for new
 * connections, existing ones re-verified against it (a revoked peer is
 * dropped), peers added, removed or changed. Healthy connections stay.
 * 0, or an error from tls_new (err says why) and nothing changes. c is
 * only read.
 */
int conn_reload(struct peers *ps, const struct cfg *c, struct jalin_err *err);

/*
 * Frame and queue body on c. A body that failed to build, is empty or is
 * larger than JALIN_FRAME_MAX is not sent (logged). body stays the
 * caller's.
 */
void conn_send(struct conn *c, const struct buf *body);

/*
 * Send ERROR (code, the formatted reason) and close c once it is written;
 * the reason is logged, counted against the peer and shown in status.
 * Does nothing on a connection already closing. c may be freed by the
 * time this returns: do not use it afterwards except through conn_dead.
 */
void conn_error(struct conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Hold c's input (hold true: no frame is read, e.g. while a CHANGES frame
 * is being committed) or let it go again (then conn_resume reads on).
 */
void conn_hold(struct conn *c, bool hold);

/* Read the frames waiting on c (after a CHANGES task finished). */
void conn_resume(struct conn *c);

/* Who is on the other end, for log lines: the peer's name, else the
 * certificate's CN, else the address. Valid while c is. */
const char *conn_who(const struct conn *c);

/* The table c belongs to, and its peer (NULL for a remote admin, or
 * before an inbound connection is identified). Owned by the table. */
struct peers *conn_peers(const struct conn *c);
struct peer *conn_peer(const struct conn *c);

/* The certificate's CN (e.g. "admin:alice") and the remote address; valid
 * while c is. */
const char *conn_cn(const struct conn *c);
const char *conn_addr(const struct conn *c);

/*
 * p's state as far as its connections tell (peer.h enum peer_state):
 * PEER_STALLED or PEER_CATCHING_UP (open; the feeds decide whether it is
 * live or resyncing, repl_state) when its session is up, else
 * PEER_HANDSHAKING, PEER_CONNECTING, PEER_REFUSED or PEER_DOWN.
 */
int conn_state(const struct peers *ps, const struct peer *p);

/* Last time anything was received from p in ms (now while connected;
 * 0: never). */
uint64_t conn_last_contact_ms(const struct peer *p);

/* p's session is up (HELLO done, not yet closed). */
bool conn_is_up(const struct peer *p);

/* When p's session came up, in ms; 0 while it is not connected. */
uint64_t conn_connected_ms(const struct peer *p);

/* ---- test seam ---------------------------------------------------------
 * For the in-process unit tests only (tests/unit/fx_repl.c); jalind never
 * calls these. Connections run over any bufferevent (a libevent
 * bufferevent_pair): no socket, no TLS, no listener, no DNS.
 */
struct bufferevent;

/*
 * conn_start without TLS, listener or DNS: peers are added (configured
 * peers must have no address: nothing is dialled) and the once-a-second
 * tick is NOT armed (conn_tick_test runs one). conn_stop frees *out.
 */
int conn_start_test(struct node *n, const struct conn_hooks *hooks,
    struct peers **out, struct jalin_err *err);

/*
 * A connection over bev (taken over: freed with the connection) whose TLS
 * handshake is done and whose certificate named peer_name; outbound: we
 * dialled it. HELLO is sent at once and the usual rules follow (a name
 * that is not a configured peer is refused with ERROR, as identify does).
 * 0, or JALIN_ENOMEM (bev then stays the caller's).
 */
int conn_attach_test(struct peers *ps, struct bufferevent *bev,
    const char *peer_name, bool outbound);

/* One tick now, as the once-a-second timer runs it (liveness, hooks). */
void conn_tick_test(struct peers *ps);

#endif
