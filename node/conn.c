/*
 * conn.c - TLS connections between nodes, and from remote admins.
 *
 * A connection goes: TCP connect (or accept) -> TLS 1.3 handshake with
 * both certificates verified -> identity checked (the CN is the configured
 * peer's name, or admin:NAME) -> HELLO both ways -> open: the hooks
 * (repl.c) drive the two feeds. Until HELLO is done only HELLO-sized
 * frames are read. Anything a peer sends that breaks the rules gets an
 * ERROR message and the connection is closed; the node goes on serving
 * everyone else. PING and PONG, the liveness of a connection, are handled
 * here too. So are the limits a flood meets (README "Limits"): a deadline
 * from accept until a connection is useful, the admin idle timeout
 * (check_deadline), and the shares of the slots (make_room).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "frame.h"
#include "hlc.h"
#include "log.h"
#include "mp.h"
#include "peer.h"
#include "peer_impl.h"
#include "conn.h"
#include "schema.h"
#include "store.h"
#include "view.h"

#define FEATURES 0u

static void conn_free(struct conn *c);
static void process_input(struct conn *c);
static void dial_later(struct peer *p);
static void conn_close(struct conn *c, int code, bool flood, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static uint64_t
now_ms(void)
{
	return hlc_wall_ms();
}

const char *
conn_who(const struct conn *c)
{
	return c->peer ? c->peer->cfg.name : c->cn[0] ? c->cn : c->addr;
}

struct peers *
conn_peers(const struct conn *c)
{
	return c->ps;
}

struct peer *
conn_peer(const struct conn *c)
{
	return c->peer;
}

const char *
conn_cn(const struct conn *c)
{
	return c->cn;
}

const char *
conn_addr(const struct conn *c)
{
	return c->addr;
}

void
conn_send(struct conn *c, const struct buf *body)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t hdr[4];

	if (body->err != 0 || body->len == 0 || body->len > JALIN_FRAME_MAX) {
		log_errx("peer %s: cannot send a %zu-byte message", conn_who(c),
		    body->len);
		return;
	}
	frame_put_hdr(hdr, (uint32_t)body->len);
	evbuffer_add(out, hdr, 4);
	evbuffer_add(out, body->p, body->len);
	c->last_tx_ms = now_ms();
	if (c->peer)
		c->peer->count.bytes_out += 4 + body->len;
}

static int
kind_of(int code)
{
	switch (code) {
	case JALIN_ETLS:
		return EK_TLS;
	case JALIN_EPERM:
		return EK_AUTH;
	case JALIN_EPROTO:
	case JALIN_ESTATE:
	case JALIN_ETOOBIG:
		return EK_PROTOCOL;
	case JALIN_ETIMEOUT:
		return EK_TIMEOUT;
	case JALIN_ESKEW:
		return EK_SKEW;
	case JALIN_ESPACE:
	case JALIN_EIO:
	case JALIN_ENOMEM:
	case JALIN_ECORRUPT:
		return EK_STORE;
	case JALIN_EEXIST:
		return EK_DUPLICATE;
	}
	return EK_OTHER;
}

/* Useful: it did what it came for (a peer's HELLO, an admin's first
 * request). Until then handshake_timeout runs from accept, and it is the
 * first to give its slot up to a newcomer. */
static bool
useful(const struct conn *c)
{
	return c->open || c->useful;
}

/* At the end of a window (or at stop: force), one line for what
 * log_flood left out of it. */
static void
flood_flush(struct peers *ps, uint64_t now, bool force)
{
	uint64_t secs = (now - ps->flood_start_ms) / 1000;

	if (!force && secs < JALIN_CONN_LOG_WINDOW)
		return;
	if (ps->flood_dropped > 0)
		log_warnx("connections: %u more refused or closed before they "
		          "were useful in %llu s, not logged one by one (the "
		          "last: %s)",
		    ps->flood_dropped, (unsigned long long)secs,
		    ps->flood_last);
	ps->flood_start_ms = now;
	ps->flood_logged = ps->flood_dropped = 0;
}

/*
 * A line about a connection refused or closed before it was useful: what
 * a flood is made of. The first JALIN_CONN_LOG_BURST of a window are
 * logged, the rest counted into one summary line (flood_flush).
 */
static void
log_flood(struct peers *ps, const char *line)
{
	flood_flush(ps, now_ms(), false);
	if (ps->flood_logged < JALIN_CONN_LOG_BURST) {
		ps->flood_logged++;
		log_warnx("%s", line);
		return;
	}
	ps->flood_dropped++;
	snprintf(ps->flood_last, sizeof(ps->flood_last), "%s", line);
}

/* The subject of c's log lines: "peer banten", "admin alice", or the
 * address of a connection not yet identified. */
static void
conn_subject(const struct conn *c, char *out, size_t n)
{
	if (c->admin)
		snprintf(out, n, "admin %s", c->cn + 6);
	else
		snprintf(out, n, "peer %s", conn_who(c));
}

void
conn_error(struct conn *c, int code, const char *fmt, ...)
{
	char msg[JALIN_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_close(c, code, !useful(c), "%s", msg);
}

/* Send ERROR and close once it is written; flood: log through log_flood
 * (a close a flood can cause over and over). */
static void
conn_close(struct conn *c, int code, bool flood, const char *fmt, ...)
{
	struct buf *b = &c->ps->out;
	char msg[JALIN_ERRMSG_MAX], who[JALIN_ADMIN_NAME_MAX + 16];
	char line[JALIN_ERRMSG_MAX + sizeof(who) + 16];
	va_list ap;

	if (c->closing)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_subject(c, who, sizeof(who));
	snprintf(line, sizeof(line), "%s: closing: %s", who, msg);
	if (flood)
		log_flood(c->ps, line);
	else
		log_warnx("%s", line);
	/* the reason shows in status unless another connection to the
	 * peer is up (a refused duplicate says nothing about that one) */
	if (c->peer && (c->peer->conn == c || c->peer->conn == NULL))
		peer_set_error(c->peer, "%s", msg);
	if (c->peer)
		peer_count_error(c->peer, kind_of(code));
	msg_enc_error(b, code, msg);
	if (c->tls_done)
		conn_send(c, b);
	c->closing = true;
	c->closing_ms = now_ms();
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

static void
send_hello(struct conn *c)
{
	struct store *st = c->ps->n->store;
	struct buf *b = &c->ps->out;

	msg_enc_hello(b,
	    &(struct msg_hello){JALIN_PROTO_VERSION_MIN,
	        JALIN_PROTO_VERSION_MAX, store_node(st), store_epoch(st),
	        store_seq(st), FEATURES, NULL, 0});
	conn_send(c, b);
}

/*
 * Of two sessions with one peer, keep the one the smaller name dialled.
 * Both dialled by the same side: the new one, since a node dials again
 * only once it has given the old session up (a link that dropped without
 * a word, as satellite links do, leaves the old one open here until it
 * times out, and the peer must not be refused meanwhile).
 */
static bool
keep_existing(const struct conn *old, const struct conn *nw)
{
	const char *me = store_node(old->ps->n->store);
	const char *them = old->peer->cfg.name;
	const char *d_old = old->outbound ? me : them;
	const char *d_new = nw->outbound ? me : them;
	int c = strcmp(d_old, d_new);

	return c == 0 ? false : c < 0;
}

static int
check_hello(struct conn *c, const struct msg_peer *m)
{
	uint64_t lo = m->pv_min > JALIN_PROTO_VERSION_MIN
	    ? m->pv_min
	    : JALIN_PROTO_VERSION_MIN;
	uint64_t hi = m->pv_max < JALIN_PROTO_VERSION_MAX
	    ? m->pv_max
	    : JALIN_PROTO_VERSION_MAX;

	if (m->pv_min > m->pv_max || lo > hi) {
		if (c->peer->conn == NULL)
			c->peer->refused = true; /* until one side upgrades */
		conn_error(c, JALIN_EPROTO,
		    "no common protocol version (we speak %d-%d, you "
		    "%llu-%llu)",
		    JALIN_PROTO_VERSION_MIN, JALIN_PROTO_VERSION_MAX,
		    (unsigned long long)m->pv_min,
		    (unsigned long long)m->pv_max);
		return -1;
	}
	if (m->name_len != strlen(c->peer->cfg.name) ||
	    memcmp(m->name, c->peer->cfg.name, m->name_len) != 0) {
		conn_error(c, JALIN_EPERM,
		    "HELLO names another node than the certificate (%s)",
		    c->peer->cfg.name);
		return -1;
	}
	return 0;
}

/* A message without a key the grammar requires (msg.h): ERROR, close. */
static int
check_keys(struct conn *c, const struct msg_peer *m)
{
	struct jalin_err err;
	int rc;

	jalin_err_clear(&err);
	if ((rc = msg_check_peer(m, &err)) != 0)
		conn_error(c, rc, "%s", jalin_err_msg(&err, rc));
	return rc;
}

static void
handle_hello(struct conn *c, const struct msg_peer *m)
{
	struct peer *p = c->peer;

	/* versions and name first: their errors say what an operator must
	 * fix (and mark the peer refused) even when keys are missing */
	if (check_hello(c, m) != 0 || check_keys(c, m) != 0)
		return;
	if (p->conn != NULL && p->conn != c) {
		if (keep_existing(p->conn, c)) {
			conn_error(c, JALIN_EEXIST, "duplicate connection");
			return;
		}
		conn_error(p->conn, JALIN_EEXIST, "duplicate connection");
	}
	if (p->dial == c)
		p->dial = NULL;
	p->conn = c;
	p->connected_ms = now_ms();
	c->open = true;
	c->pv = m->pv_max < JALIN_PROTO_VERSION_MAX ? m->pv_max
	                                            : JALIN_PROTO_VERSION_MAX;
	p->refused = false;
	p->last_error[0] = '\0';
	p->backoff_ms = JALIN_DIAL_BACKOFF_MIN_MS;
	log_notice("peer %s: up (%s, %s, protocol %u)", p->cfg.name,
	    c->outbound ? "dialled" : "accepted", c->addr, c->pv);
	bufferevent_setwatermark(
	    c->bev, EV_READ, 0, 2 * (JALIN_FRAME_MAX + JALIN_FRAME_HDR));
	c->ps->hooks->opened(c, m);
}

static void
send_pong(struct conn *c, const struct msg_peer *m)
{
	struct buf *b = &c->ps->out;

	msg_enc_pong(b, m->time);
	conn_send(c, b);
}

/* ERROR from the other side: note why, and close. */
static void
handle_error(struct conn *c, const struct msg_peer *m)
{
	log_warnx("peer %s: error from peer: %.*s", conn_who(c),
	    (int)m->error_len, m->error ? m->error : "");
	if (c->peer && (c->peer->conn == c || c->peer->conn == NULL))
		peer_set_error(c->peer, "peer said: %.*s", (int)m->error_len,
		    m->error ? m->error : "");
	/* refused before HELLO completed (not a configured peer
	 * there, no common protocol version): an operator must act.
	 * Not a peer that is stopping or closing a duplicate. */
	if (c->peer && c->peer->conn == NULL && !c->open &&
	    (m->code == JALIN_EPERM || m->code == JALIN_EPROTO))
		c->peer->refused = true;
	conn_free(c);
}

static void
handle_frame(struct conn *c, const uint8_t *body, uint32_t len)
{
	struct jalin_err err;
	struct msg_peer m;
	int rc;

	jalin_err_clear(&err);
	/* Handshake and admin frames get the full msgpack guard; after HELLO
	 * a peer's frames are read by the bounds-checked cursor alone (no
	 * msgpack-c behind it), which spares a pass over every batch. */
	if ((!c->open || c->admin) &&
	    (rc = mp_check(body, len, NULL, NULL, &err)) != 0) {
		conn_error(c, rc, "%s", jalin_err_msg(&err, rc));
		return;
	}
	if (c->admin) {
		c->useful = true;
		c->last_req_ms = now_ms();
		if (c->ps->admin_fn == NULL)
			conn_error(
			    c, JALIN_EUNREACH, "node starting or stopping");
		else
			c->ps->admin_fn(c->ps->admin_ctx, c, body, len);
		return;
	}
	if ((rc = msg_parse_peer(body, len, &m, &err)) != 0) {
		conn_error(c, rc, "%s", jalin_err_msg(&err, rc));
		return;
	}
	if (m.type == MSG_ERROR) {
		handle_error(c, &m);
		return;
	}
	if (!c->open) {
		if (m.type != MSG_HELLO)
			conn_error(c, JALIN_ESTATE, "expected HELLO, got %s",
			    msg_type_name(m.type));
		else
			handle_hello(c, &m);
		return;
	}
	log_debug(
	    "peer %s: %s (%u bytes)", conn_who(c), msg_type_name(m.type), len);
	if (m.type == MSG_PING) {
		peer_note_skew(c->peer, m.time);
		send_pong(c, &m);
		return;
	}
	if (m.type != MSG_PONG)
		c->ps->hooks->message(c, &m); /* may close or pause c */
}

/* Handle one frame if complete: its size in *len, 1 handled, 0 wait. */
static int
next_frame(struct conn *c, uint32_t *len)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint32_t max = c->open ? JALIN_FRAME_MAX
	    : c->admin         ? JALIN_ADMIN_FRAME_MAX
	                       : JALIN_HELLO_FRAME_MAX;
	struct jalin_err err;
	uint8_t hdr[4];
	int rc;

	if (evbuffer_get_length(in) < 4)
		return 0;
	evbuffer_copyout(in, hdr, 4);
	jalin_err_clear(&err);
	if ((rc = frame_check_hdr(hdr, max, len, &err)) != 0) {
		conn_error(c, rc, "%s", jalin_err_msg(&err, rc));
		return 0;
	}
	if (evbuffer_get_length(in) < 4 + (size_t)*len)
		return 0;
	/* One copy into a reused buffer, no pullup into fresh memory. */
	struct buf *b = &c->ps->in;
	buf_reset(b);
	if (buf_reserve(b, *len) != 0) {
		conn_error(c, JALIN_ENOMEM, "out of memory");
		return 0;
	}
	evbuffer_drain(in, 4);
	b->len = (size_t)evbuffer_remove(in, b->p, *len);
	if (c->peer)
		c->peer->count.bytes_in += 4 + (uint64_t)*len;
	handle_frame(c, b->p, *len);
	return 1;
}

/* Frames are handled one at a time; a CHANGES message pauses the rest
 * until it is committed (conn_hold), which bounds what we hold in memory. */
static void
process_input(struct conn *c)
{
	uint32_t len;

	while (!c->dead && c->tls_done && !c->closing && !c->held) {
		if (next_frame(c, &len) <= 0)
			return;
	}
}

void
conn_resume(struct conn *c)
{
	process_input(c);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process_input(arg);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c);
		return;
	}
	if (c->open)
		c->ps->hooks->writable(c);
}

static void
drain_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	(void)buf;
	if (info->n_deleted > 0)
		c->last_drain_ms = now_ms();
}

/*
 * Bytes arrived: the connection is alive, however slowly a frame comes
 * in (a 1 MiB batch takes two minutes at 64 kbit/s). Liveness and the
 * link's measured rate go by bytes, not whole frames.
 */
static void
input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	(void)buf;
	if (info->n_added == 0)
		return;
	c->last_rx_ms = now_ms();
	c->rx_bytes += info->n_added;
	if (c->peer != NULL && c->open)
		peer_note_rx(c->peer, c->last_rx_ms, info->n_added);
}

static void
conn_detach(struct conn *c)
{
	struct peer *p = c->peer;

	c->ps->hooks->closed(c);
	if (p == NULL)
		return;
	if (p->conn == c) {
		log_notice("peer %s: down", p->cfg.name);
		p->conn = NULL;
		p->last_contact_ms = c->last_rx_ms;
		if (p->cfg.address.set)
			dial_later(p);
	}
	if (p->dial == c) {
		p->dial = NULL;
		if (p->conn == NULL && p->cfg.address.set)
			dial_later(p);
	}
}

/* Close now, free later: handlers up the stack may still hold c. */
static void
conn_free(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	conn_detach(c);
	event_active(c->ps->reap, 0, 0);
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peers *ps = arg;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&ps->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (!c->dead)
			continue;
		TAILQ_REMOVE(&ps->conns, c, link);
		ps->nconns--;
		bufferevent_free(c->bev); /* frees the SSL and the socket */
		free(c);
	}
}

/* ---- slots (README "Limits", limits.h JALIN_CONN_*) -------------------
 * A group of connections shares a cap: all of them (max_connections), one
 * source address (1/JALIN_CONN_ADDR_SHARE of it, inbound only), one
 * certificate CN (1/JALIN_CONN_ID_SHARE). A newcomer to a full group
 * closes the group's oldest connection that is not yet useful, else its
 * remote admin idle longest: never a peer session nor our own dial, so a
 * configured peer always gets in, and a flood only churns itself.
 */
struct group {
	const char *addr; /* the host of this "host:port", or NULL: any */
	const char *cn;   /* this CN (identified connections), or NULL */
};

static size_t
host_len(const char *addr)
{
	const char *colon = strrchr(addr, ':');

	return colon ? (size_t)(colon - addr) : strlen(addr);
}

static bool
in_group(const struct conn *c, const struct group *g)
{
	size_t n;

	if (c->dead || c->closing)
		return false;
	if (g->addr != NULL) {
		n = host_len(g->addr);
		if (c->outbound || host_len(c->addr) != n ||
		    memcmp(c->addr, g->addr, n) != 0)
			return false;
	}
	return g->cn == NULL || (c->tls_done && strcmp(c->cn, g->cn) == 0);
}

/* When a remote admin was last busy: its last request, or its answer
 * still draining. */
static uint64_t
admin_active_ms(const struct conn *c)
{
	bool out = evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;

	return out && c->last_drain_ms > c->last_req_ms ? c->last_drain_ms
	                                                : c->last_req_ms;
}

/* The member of g to close for a newcomer (not self), or NULL. */
static struct conn *
group_victim(struct peers *ps, const struct group *g, const struct conn *self,
    unsigned *count)
{
	struct conn *c, *fresh = NULL, *idle = NULL;

	*count = 0;
	TAILQ_FOREACH (c, &ps->conns, link) {
		if (c == self || !in_group(c, g))
			continue;
		++*count;
		if (c->outbound)
			continue;
		if (!useful(c) && (!fresh || c->started_ms < fresh->started_ms))
			fresh = c;
		else if (useful(c) && c->admin &&
		    (!idle || admin_active_ms(c) < admin_active_ms(idle)))
			idle = c;
	}
	return fresh ? fresh : idle;
}

/* Room in g for one more (self, if given, is the newcomer): close members
 * while g holds cap or more. false: all are peer sessions or dials. */
static bool
make_room(struct peers *ps, const struct group *g, unsigned cap,
    const struct conn *self, const char *what)
{
	unsigned count;
	struct conn *v;

	while ((v = group_victim(ps, g, self, &count)) != NULL && count >= cap)
		conn_close(v, JALIN_ETOOBIG, true,
		    "closed for a newer connection: %s holds %u connections "
		    "(limit %u)",
		    what, count, cap);
	return count < cap;
}

/* Who is on the other side, from the certificate; false: refused. */
static bool
identify(struct conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	struct jalin_err err;
	int rc;

	jalin_err_clear(&err);
	if ((rc = tls_identity(ssl, c->cn, sizeof(c->cn), &err)) != 0) {
		conn_error(c, rc, "%s", jalin_err_msg(&err, rc));
		return false;
	}
	unsigned cap = c->ps->n->cfg->max_connections / JALIN_CONN_ID_SHARE;
	if (!c->outbound &&
	    !make_room(c->ps, &(struct group){.cn = c->cn}, cap, c, c->cn)) {
		conn_error(c, JALIN_ETOOBIG,
		    "%s already holds %u connections (limit %u)", c->cn, cap,
		    cap);
		return false;
	}
	if (strncmp(c->cn, "admin:", 6) == 0 && !c->outbound) {
		c->admin = true;
		return true;
	}
	if (c->outbound && strcmp(c->cn, c->peer->cfg.name) != 0) {
		peer_set_error(c->peer,
		    "certificate at %s is for '%s', not '%s'", c->addr, c->cn,
		    c->peer->cfg.name);
		c->peer->refused = true;
		conn_error(c, JALIN_EPERM, "%s", c->peer->last_error);
		return false;
	}
	if (!c->outbound && (c->peer = peer_find(c->ps, c->cn)) == NULL) {
		conn_error(c, JALIN_EPERM, "node '%s' is not a configured peer",
		    c->cn);
		return false;
	}
	c->peer->cert_expiry_ms = tls_peer_expiry_ms(ssl);
	return true;
}

static void
tls_done(struct conn *c)
{
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	c->tls_done = true;
	c->last_rx_ms = c->last_drain_ms = now_ms();
	if (!identify(c))
		return;
	if (!c->admin)
		send_hello(c);
	process_input(c);
}

/* A failed handshake: say why, and blame the peer if we know who. */
static void
tls_failed(struct conn *c, short what)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	unsigned long e = bufferevent_get_openssl_error(c->bev);
	int serr = EVUTIL_SOCKET_ERROR();
	char why[256], cn[JALIN_NAME_MAX + 1];
	X509 *x;

	/* libevent queues SSL_get_error() codes (library 0) for I/O errors */
	bool io = e == 0 || ERR_GET_LIB(e) == 0;
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "TLS handshake timed out");
	else if (io && serr != 0)
		snprintf(why, sizeof(why), "%s",
		    evutil_socket_error_to_string(serr));
	else if (io)
		tls_failure(ssl, 0, why, sizeof(why));
	else
		tls_failure(ssl, e, why, sizeof(why));
	struct peer *p = c->peer;
	/* a refused client still showed us its certificate */
	if (p == NULL && ssl && (x = SSL_get0_peer_certificate(ssl)) &&
	    X509_NAME_get_text_by_NID(
	        X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) > 0)
		p = peer_find(c->ps, cn);
	/* a retry that fails the same way is not news; nor is one more
	 * stranger of a flood */
	char line[sizeof(why) + sizeof(c->addr) + 8];
	snprintf(
	    line, sizeof(line), "peer %s: %s", p ? p->cfg.name : c->addr, why);
	if (p == NULL)
		log_flood(c->ps, line);
	else if (strcmp(p->last_error, why) != 0)
		log_warnx("%s", line);
	if (p != NULL)
		peer_count_error(p,
		    strncmp(why, "certificate", 11) == 0 ||
		            strncmp(why, "TLS", 3) == 0
		        ? EK_TLS
		        : EK_DISCONNECT);
	if (p != NULL && p->conn == NULL) {
		peer_set_error(p, "%s", why);
		p->refused = strncmp(why, "certificate", 11) == 0;
	}
	conn_free(c);
}

/*
 * The other side closed with a TLS close_notify (conn_stop there): it
 * stopped in order. Said at notice level and in status (why it is down),
 * not counted as an error nor as a failed attempt (apply.c).
 */
static bool
closed_in_order(struct conn *c, short what)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	if (!(what & BEV_EVENT_EOF) || ssl == NULL ||
	    !(SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN))
		return false;
	c->orderly = true;
	if (c->peer != NULL && c->peer->conn == c) {
		log_notice("peer %s: closed by peer", c->peer->cfg.name);
		peer_set_error(c->peer, "closed by peer (it stopped)");
	}
	return true;
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		tls_done(c);
		return;
	}
	if (!c->tls_done) {
		tls_failed(c, what);
		return;
	}
	if (closed_in_order(c, what)) {
		conn_free(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		if (c->peer && c->peer->conn == c && !c->closing) {
			peer_set_error(c->peer, "connection lost");
			peer_count_error(c->peer, EK_DISCONNECT);
		}
		conn_free(c);
	}
}

/* The callbacks of every connection, whatever carries it. */
static void
conn_set_callbacks(struct conn *c)
{
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	evbuffer_add_cb(bufferevent_get_output(c->bev), drain_cb, c);
	evbuffer_add_cb(bufferevent_get_input(c->bev), input_cb, c);
}

static struct conn *
conn_new(struct peers *ps, evutil_socket_t fd, bool outbound, struct peer *p,
    const char *addr)
{
	struct timeval hs = {(time_t)ps->n->cfg->handshake_timeout, 0};
	struct conn *c = calloc(1, sizeof(*c));
	SSL *ssl;

	if (c == NULL)
		return NULL;
	if ((ssl = tls_ssl(ps->tls, outbound)) == NULL) {
		free(c);
		return NULL;
	}
	/* with BEV_OPT_CLOSE_ON_FREE libevent frees ssl even on failure */
	c->bev = bufferevent_openssl_socket_new(ps->n->base, fd, ssl,
	    outbound ? BUFFEREVENT_SSL_CONNECTING : BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		free(c);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	c->ps = ps;
	c->peer = p;
	c->outbound = outbound;
	c->started_ms = now_ms();
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	conn_set_callbacks(c);
	bufferevent_set_timeouts(c->bev, &hs, &hs);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&ps->conns, c, link);
	ps->nconns++;
	return c;
}

static void
addr_text(const struct sockaddr *sa, char *buf, size_t n)
{
	char host[JALIN_HOST_MAX + 1] = "?";
	uint16_t port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, n, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, n, "[%s]:%u", host, port);
	} else {
		snprintf(buf, n, "?");
	}
}

static void
set_nodelay(evutil_socket_t fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Room for a connection from addr, closing others if need be (make_room);
 * false: refused, and logged. */
static bool
room_for(struct peers *ps, const char *addr)
{
	unsigned cap = ps->n->cfg->max_connections;
	char host[JALIN_HOSTPORT_MAX + 16], line[JALIN_ERRMSG_MAX];

	snprintf(host, sizeof(host), "address %.*s", (int)host_len(addr), addr);
	/* the connections closed to make room are still being freed */
	if (ps->nconns >= 2 * cap)
		snprintf(line, sizeof(line),
		    "peer %s: refused: %u connections still open or closing "
		    "(max_connections %u)",
		    addr, ps->nconns, cap);
	else if (!make_room(ps, &(struct group){.addr = addr},
	             cap / JALIN_CONN_ADDR_SHARE, NULL, host + 8) ||
	    !make_room(ps, &(struct group){0}, cap, NULL, "this node"))
		snprintf(line, sizeof(line),
		    "peer %s: refused: every slot holds a peer session "
		    "(max_connections %u)",
		    addr, cap);
	else
		return true;
	log_flood(ps, line);
	return false;
}

static void
accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct peers *ps = arg;
	char addr[JALIN_HOSTPORT_MAX + 1];

	(void)lis;
	(void)salen;
	addr_text(sa, addr, sizeof(addr));
	if (ps->n->stopping || !room_for(ps, addr)) {
		evutil_closesocket(fd);
		return;
	}
	set_nodelay(fd);
	if (conn_new(ps, fd, false, NULL, addr) == NULL) {
		log_warnx("peer %s: refused: out of memory", addr);
		evutil_closesocket(fd);
	}
}

/* Connect to one resolved address. */
static void
dial_addr(struct peer *p, const struct sockaddr *sa, int salen)
{
	struct peers *ps = p->ps;
	char addr[JALIN_HOSTPORT_MAX + 1];
	struct conn *c;

	addr_text(sa, addr, sizeof(addr));
	if ((c = conn_new(ps, -1, true, p, addr)) == NULL) {
		dial_later(p);
		return;
	}
	p->dial = c;
	if (bufferevent_socket_connect(c->bev, sa, salen) != 0) {
		peer_set_error(p, "cannot connect to %s: %s", addr,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		conn_free(c);
		return;
	}
	set_nodelay(bufferevent_getfd(c->bev));
}

static void
resolved_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct peer *p = arg;

	if (p->removed || p->conn != NULL || p->ps->n->stopping) {
		if (res)
			evutil_freeaddrinfo(res);
		return;
	}
	if (result != 0 || res == NULL) {
		peer_set_error(p, "cannot resolve '%s': %s",
		    p->cfg.address.host, evutil_gai_strerror(result));
		dial_later(p);
	} else {
		dial_addr(p, res->ai_addr, (int)res->ai_addrlen);
	}
	if (res)
		evutil_freeaddrinfo(res);
}

static void
dial_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;
	struct evutil_addrinfo hints = {0};
	char port[8];

	(void)fd;
	(void)what;
	if (p->removed || p->conn != NULL || p->dial != NULL ||
	    p->ps->n->stopping || !p->cfg.address.set)
		return;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", p->cfg.address.port);
	evdns_getaddrinfo(
	    p->ps->dns, p->cfg.address.host, port, &hints, resolved_cb, p);
}

/* Next attempt after the backoff, with +-50 % jitter so that offices that
 * lost their link together do not all come back in the same second. */
static void
dial_later(struct peer *p)
{
	uint32_t r = 0;
	struct timeval tv;
	uint64_t ms;

	if (p->removed || p->ps->n->stopping)
		return;
	RAND_bytes((unsigned char *)&r, sizeof(r));
	ms = p->backoff_ms / 2 + r % (p->backoff_ms + 1);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(p->dial_ev, &tv);
	p->backoff_ms = p->backoff_ms * 2 > JALIN_DIAL_BACKOFF_MAX_MS
	    ? JALIN_DIAL_BACKOFF_MAX_MS
	    : p->backoff_ms * 2;
}

static void
send_ping(struct conn *c)
{
	struct buf *b = &c->ps->out;

	msg_enc_ping(b, now_ms());
	conn_send(c, b);
}

/*
 * The deadlines of a connection other than a peer session (check_conn):
 * until it is useful, handshake_timeout from accept, however slowly bytes
 * trickle in (slowloris); a remote admin, admin_idle_timeout between
 * requests; a closing one whose ERROR is not read, handshake_timeout (a
 * session: stall_timeout) without its output draining.
 */
static void
check_deadline(struct conn *c, uint64_t now, const struct cfg *cfg)
{
	uint64_t hs = cfg->handshake_timeout * 1000ull;
	uint64_t idle = cfg->admin_idle_timeout * 1000ull;

	if (c->closing) {
		uint64_t t = c->last_drain_ms > c->closing_ms ? c->last_drain_ms
		                                              : c->closing_ms;
		if (now - t >= (c->open ? cfg->stall_timeout * 1000ull : hs))
			conn_free(c);
		return;
	}
	if (!useful(c)) {
		if (now - c->started_ms >= hs)
			conn_error(c, JALIN_ETIMEOUT,
			    "%s within %u s of connecting (handshake_timeout)",
			    !c->tls_done   ? "TLS handshake not done"
			        : c->admin ? "no request"
			                   : "no HELLO",
			    cfg->handshake_timeout);
		return;
	}
	if (c->admin && now - admin_active_ms(c) >= idle)
		conn_error(c, JALIN_ETIMEOUT,
		    "idle for %u s since its last request (admin_idle_timeout)",
		    cfg->admin_idle_timeout);
}

/*
 * Liveness of one open connection. Stalled: no byte received, or our
 * output not draining, for stall_timeout (a peer that accepts but stops
 * reading, e.g. SIGSTOP). Closed after JALIN_IDLE_STALLS times that.
 */
static void
check_conn(struct conn *c, uint64_t now, uint64_t stall_ms)
{
	bool out_stuck =
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0 &&
	    now - c->last_drain_ms > stall_ms;
	bool quiet = now - c->last_rx_ms > stall_ms;

	if ((out_stuck || quiet) && !c->stalled) {
		c->stalled = true;
		log_warnx("peer %s: stalled: %s for %llu s", conn_who(c),
		    out_stuck ? "it does not read what we send"
		              : "nothing received",
		    (unsigned long long)(stall_ms / 1000));
		if (c->peer)
			peer_set_error(c->peer, "stalled: %s",
			    out_stuck ? "it does not read what we send"
			              : "nothing received");
	} else if (!out_stuck && !quiet && c->stalled) {
		c->stalled = false;
		log_notice("peer %s: recovered", conn_who(c));
		if (c->peer)
			c->peer->last_error[0] = '\0';
	}
	if (now - c->last_rx_ms > JALIN_IDLE_STALLS * stall_ms) {
		conn_error(c, JALIN_ETIMEOUT, "nothing received for %llu s",
		    (unsigned long long)((now - c->last_rx_ms) / 1000));
		return;
	}
	if (now - c->last_tx_ms >= stall_ms / JALIN_PING_PER_STALL)
		send_ping(c);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peers *ps = arg;
	uint64_t now = now_ms(), stall = ps->n->cfg->stall_timeout * 1000ull;
	struct conn *c;

	(void)fd;
	(void)what;
	flood_flush(ps, now, false);
	TAILQ_FOREACH (c, &ps->conns, link) {
		if (!c->dead)
			check_deadline(c, now, ps->n->cfg);
		if (!c->dead && !c->closing && c->open && c->peer)
			check_conn(c, now, stall);
		if (!c->dead && c->open && c->peer)
			c->peer->last_contact_ms = c->last_rx_ms;
	}
	ps->hooks->tick(ps, now, ++ps->ticks);
}

static struct peer *
peer_add(struct peers *ps, const struct cfg_peer *cp)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->ps = ps;
	p->cfg = *cp;
	p->backoff_ms = JALIN_DIAL_BACKOFF_MIN_MS;
	if ((p->dial_ev = evtimer_new(ps->n->base, dial_cb, p)) == NULL) {
		free(p);
		return NULL;
	}
	if (ps->hooks->peer_added(p) != 0) {
		ps->hooks->peer_freed(p);
		event_free(p->dial_ev);
		free(p);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&ps->list, p, link);
	if (p->cfg.address.set)
		event_active(p->dial_ev, 0, 0);
	return p;
}

static void
peer_remove(struct peer *p)
{
	struct conn *c;

	p->removed = true;
	evtimer_del(p->dial_ev);
	TAILQ_FOREACH (c, &p->ps->conns, link) {
		if (c->peer == p && !c->dead)
			conn_error(c, JALIN_EPERM,
			    "peer removed from the "
			    "configuration");
	}
}

static int
listen_tcp(struct peers *ps, struct jalin_err *err)
{
	const struct cfg_addr *a = &ps->n->cfg->listen;
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	char spec[JALIN_HOSTPORT_MAX + 1];

	snprintf(spec, sizeof(spec), strchr(a->host, ':') ? "[%s]:%u" : "%s:%u",
	    a->host, a->port);
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen))
		return jalin_err_set(err, JALIN_ECONFIG,
		    "listen address '%s' must be numeric (an IP and a port)",
		    spec);
	ps->lis = evconnlistener_new_bind(ps->n->base, accept_cb, ps,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    JALIN_LISTEN_BACKLOG, (struct sockaddr *)&ss, sslen);
	if (ps->lis == NULL)
		return jalin_err_set(err, JALIN_EIO, "cannot listen on %s: %s",
		    spec, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	return 0;
}

/* The node signs its writes with its TLS key (PROTOCOL.md §13). */
static void
use_key(struct peers *ps)
{
	struct jalin_err err;

	jalin_err_clear(&err);
	if (store_set_signer(ps->n->store, tls_key(ps->tls), &err) != 0)
		log_warnx("%s: this node's writes are not signed", err.msg);
}

static int
start_parts(struct peers *ps, struct jalin_err *err)
{
	struct timeval tick = {
	    JALIN_TICK_MS / 1000, (JALIN_TICK_MS % 1000) * 1000};
	int rc;

	if ((rc = tls_new(ps->n->cfg, &ps->tls, err)) != 0)
		return rc;
	use_key(ps);
	ps->dns =
	    evdns_base_new(ps->n->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (ps->dns == NULL)
		ps->dns = evdns_base_new(ps->n->base, 0);
	ps->tick = event_new(ps->n->base, -1, EV_PERSIST, tick_cb, ps);
	ps->reap = event_new(ps->n->base, -1, 0, reap_cb, ps);
	ps->sws = malloc(sizeof(struct record));
	ps->rws = malloc(sizeof(struct record));
	if (ps->dns == NULL || ps->tick == NULL || ps->reap == NULL ||
	    ps->sws == NULL || ps->rws == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "peers: out of memory");
	evtimer_add(ps->tick, &tick);
	return listen_tcp(ps, err);
}

int
conn_start(struct node *n, const struct conn_hooks *hooks, struct peers **out,
    struct jalin_err *err)
{
	struct peers *ps = calloc(1, sizeof(*ps));
	int rc;

	*out = NULL;
	if (ps == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "peers: out of memory");
	ps->n = n;
	ps->hooks = hooks;
	TAILQ_INIT(&ps->list);
	TAILQ_INIT(&ps->conns);
	buf_init(&ps->out, JALIN_FRAME_MAX);
	buf_init(&ps->in, JALIN_FRAME_MAX);
	buf_init(&ps->pool[0], JALIN_FRAME_MAX);
	buf_init(&ps->pool[1], JALIN_FRAME_MAX);
	if ((rc = start_parts(ps, err)) != 0) {
		conn_stop(ps);
		return rc;
	}
	for (unsigned i = 0; i < n->cfg->npeers; i++) {
		if (peer_add(ps, &n->cfg->peers[i]) == NULL) {
			conn_stop(ps);
			return jalin_err_set(
			    err, JALIN_ENOMEM, "out of memory");
		}
	}
	*out = ps;
	return 0;
}

/*
 * At stop: a TLS close_notify instead of an ERROR, so the other side
 * knows we stopped in order (closed_in_order there). Best effort on a
 * non-blocking socket; what was still queued is lost with the process.
 */
static void
conn_shutdown(struct conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	if (ssl == NULL)
		return;
	if (c->peer != NULL && c->peer->conn == c)
		log_notice(
		    "peer %s: closing: node stopping", c->peer->cfg.name);
	SSL_shutdown(ssl);
}

void
conn_stop(struct peers *ps)
{
	struct conn *c;
	struct peer *p;

	if (ps == NULL)
		return;
	flood_flush(ps, now_ms(), true); /* what the last window left out */
	TAILQ_FOREACH (c, &ps->conns, link) {
		if (!c->dead && c->tls_done)
			conn_shutdown(c);
		conn_free(c);
	}
	reap_cb(-1, 0, ps);
	while ((p = TAILQ_FIRST(&ps->list)) != NULL) {
		TAILQ_REMOVE(&ps->list, p, link);
		ps->hooks->peer_freed(p);
		event_free(p->dial_ev);
		free(p);
	}
	if (ps->lis)
		evconnlistener_free(ps->lis);
	if (ps->dns)
		evdns_base_free(ps->dns, 0);
	if (ps->tick)
		event_free(ps->tick);
	if (ps->reap)
		event_free(ps->reap);
	tls_free(ps->tls);
	buf_free(&ps->out);
	buf_free(&ps->in);
	buf_free(&ps->pool[0]);
	buf_free(&ps->pool[1]);
	free(ps->sws);
	free(ps->rws);
	free(ps);
}

/* After a reload, drop connections whose certificate no longer passes. */
static void
recheck_conns(struct peers *ps)
{
	struct jalin_err err;
	struct conn *c;

	TAILQ_FOREACH (c, &ps->conns, link) {
		if (c->dead || !c->tls_done)
			continue;
		jalin_err_clear(&err);
		if (tls_recheck(ps->tls, bufferevent_openssl_get_ssl(c->bev),
		        &err) == 0)
			continue;
		if (c->peer) {
			c->peer->refused = true;
			peer_set_error(c->peer, "%s", err.msg);
		}
		conn_error(c, JALIN_ETLS, "%s", err.msg);
	}
}

static void
reload_peers(struct peers *ps, const struct cfg *c)
{
	struct peer *p;

	TAILQ_FOREACH (p, &ps->list, link) {
		if (!p->removed && cfg_peer_find(c, p->cfg.name) == NULL)
			peer_remove(p);
	}
	for (unsigned i = 0; i < c->npeers; i++) {
		if ((p = peer_find(ps, c->peers[i].name)) == NULL) {
			peer_add(ps, &c->peers[i]);
			continue;
		}
		bool redial = !p->cfg.address.set && c->peers[i].address.set;
		p->cfg = c->peers[i];
		if (redial && p->conn == NULL && p->dial == NULL)
			event_active(p->dial_ev, 0, 0);
	}
}

int
conn_reload(struct peers *ps, const struct cfg *c, struct jalin_err *err)
{
	struct tls *t;
	int rc;

	if ((rc = tls_new(c, &t, err)) != 0)
		return rc;
	tls_free(ps->tls);
	ps->tls = t;
	ps->tls_gen++;
	use_key(ps); /* a renewed certificate may bring a new key */
	recheck_conns(ps);
	reload_peers(ps, c);
	return 0;
}

void
conn_set_admin(struct peers *ps, conn_admin_fn *fn, void *ctx)
{
	if (ps == NULL)
		return;
	ps->admin_fn = fn;
	ps->admin_ctx = ctx;
}

int
conn_state(const struct peers *ps, const struct peer *p)
{
	const struct conn *x;

	if (p->conn != NULL)
		return p->conn->stalled ? PEER_STALLED : PEER_CATCHING_UP;
	TAILQ_FOREACH (x, &ps->conns, link) {
		if (!x->dead && x->peer == p)
			return x->tls_done ? PEER_HANDSHAKING : PEER_CONNECTING;
	}
	return p->refused ? PEER_REFUSED : PEER_DOWN;
}

uint64_t
conn_last_contact_ms(const struct peer *p)
{
	return p->conn ? now_ms() : p->last_contact_ms;
}

uint64_t
conn_connected_ms(const struct peer *p)
{
	return p->conn ? p->connected_ms : 0;
}

bool
conn_is_up(const struct peer *p)
{
	return p->conn != NULL;
}

void
conn_hold(struct conn *c, bool hold)
{
	c->held = hold;
}

/* ---- test seam (conn.h): tests/unit/fx_repl.c, never jalind ----------- */

int
conn_start_test(struct node *n, const struct conn_hooks *hooks,
    struct peers **out, struct jalin_err *err)
{
	struct peers *ps = calloc(1, sizeof(*ps));

	*out = NULL;
	if (ps == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "peers: out of memory");
	ps->n = n;
	ps->hooks = hooks;
	TAILQ_INIT(&ps->list);
	TAILQ_INIT(&ps->conns);
	buf_init(&ps->out, JALIN_FRAME_MAX);
	buf_init(&ps->in, JALIN_FRAME_MAX);
	buf_init(&ps->pool[0], JALIN_FRAME_MAX);
	buf_init(&ps->pool[1], JALIN_FRAME_MAX);
	ps->tick = event_new(n->base, -1, EV_PERSIST, tick_cb, ps);
	ps->reap = event_new(n->base, -1, 0, reap_cb, ps);
	ps->sws = malloc(sizeof(struct record));
	ps->rws = malloc(sizeof(struct record));
	if (ps->tick == NULL || ps->reap == NULL || ps->sws == NULL ||
	    ps->rws == NULL) {
		conn_stop(ps);
		return jalin_err_set(err, JALIN_ENOMEM, "peers: out of memory");
	}
	for (unsigned i = 0; i < n->cfg->npeers; i++) {
		if (peer_add(ps, &n->cfg->peers[i]) == NULL) {
			conn_stop(ps);
			return jalin_err_set(
			    err, JALIN_ENOMEM, "out of memory");
		}
	}
	*out = ps;
	return 0;
}

int
conn_attach_test(struct peers *ps, struct bufferevent *bev,
    const char *peer_name, bool outbound)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return JALIN_ENOMEM;
	c->bev = bev;
	c->ps = ps;
	c->outbound = outbound;
	c->started_ms = now_ms();
	snprintf(c->addr, sizeof(c->addr), "test:%s", peer_name);
	snprintf(c->cn, sizeof(c->cn), "%s", peer_name);
	conn_set_callbacks(c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&ps->conns, c, link);
	ps->nconns++;
	/* as tls_done and identify, the certificate being peer_name's */
	c->tls_done = true;
	c->last_rx_ms = c->last_drain_ms = now_ms();
	if ((c->peer = peer_find(ps, peer_name)) == NULL) {
		conn_error(c, JALIN_EPERM, "node '%s' is not a configured peer",
		    peer_name);
		return 0;
	}
	send_hello(c);
	process_input(c);
	return 0;
}

void
conn_tick_test(struct peers *ps)
{
	tick_cb(-1, 0, ps);
}
