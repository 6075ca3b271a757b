/*
 * peer.c - TLS connections between nodes, and from remote admins.
 *
 * A connection goes: TCP connect (or accept) -> TLS 1.3 handshake with
 * both certificates verified -> identity checked (the CN is the configured
 * peer's name, or admin:NAME) -> HELLO both ways -> open: repl.c drives the
 * two feeds. Until HELLO is done only HELLO-sized frames are read. Anything
 * a peer sends that breaks the rules gets an ERROR message and the
 * connection is closed; the node goes on serving everyone else.
 */
#include <errno.h>
#include <stddef.h>
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

#include "admin.h"
#include "frame.h"
#include "metrics.h"
#include "hlc.h"
#include "log.h"
#include "mp.h"
#include "ops.h"
#include "peer.h"
#include "peer_impl.h"
#include "query.h"
#include "schema.h"
#include "store.h"
#include "view.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define FEATURES       0u

static void conn_free(struct conn *c);
static void process_input(struct conn *c);
static void dial_later(struct peer *p);

static uint64_t
now_ms(void)
{
	return hlc_wall_ms();
}

static const char *
conn_who(const struct conn *c)
{
	return c->peer ? c->peer->cfg.name : c->cn[0] ? c->cn : c->addr;
}

const char *
peer_state_name(int state)
{
	static const char *const names[] = {"down", "connecting", "handshaking",
	    "catching_up", "live", "stalled", "resyncing", "refused"};

	return state >= 0 && state <= PEER_REFUSED ? names[state] : "down";
}

void
peer_set_error(struct peer *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->last_error, sizeof(p->last_error), fmt, ap);
	va_end(ap);
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
		c->peer->bytes_out += 4 + body->len;
}

const char *
err_kind_name(int kind)
{
	static const char *const names[] = {"tls", "auth", "protocol",
	    "timeout", "clock_skew", "store", "duplicate", "disconnect",
	    "other"};

	return kind >= 0 && kind < EK_COUNT ? names[kind] : "other";
}

void
peer_count_error(struct peer *p, int kind)
{
	p->errors++;
	p->errors_by[kind >= 0 && kind < EK_COUNT ? kind : EK_OTHER]++;
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

/* Send ERROR and close once it is written. */
void
conn_error(struct conn *c, int code, const char *fmt, ...)
{
	struct buf *b = &c->ps->out;
	msgpack_packer pk;
	char msg[JALIN_ERRMSG_MAX];
	va_list ap;

	if (c->closing)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("peer %s: closing: %s", conn_who(c), msg);
	/* the reason shows in status unless another connection to the
	 * peer is up (a refused duplicate says nothing about that one) */
	if (c->peer && (c->peer->conn == c || c->peer->conn == NULL))
		peer_set_error(c->peer, "%s", msg);
	if (c->peer)
		peer_count_error(c->peer, kind_of(code));
	buf_reset(b);
	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint8(&pk, MSG_ERROR);
	msgpack_pack_uint8(&pk, MK_STATUS);
	msgpack_pack_int(&pk, code);
	msgpack_pack_uint8(&pk, MK_ERROR);
	view_str(&pk, msg);
	if (c->tls_done)
		conn_send(c, b);
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

static void
send_hello(struct conn *c)
{
	struct peers *ps = c->ps;
	struct store *st = ps->n->store;
	struct buf *b = &ps->out;
	msgpack_packer pk;

	buf_reset(b);
	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_map(&pk, 8);
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint8(&pk, MSG_HELLO);
	msgpack_pack_uint8(&pk, MK_PV_MIN);
	msgpack_pack_uint8(&pk, JALIN_PROTO_VERSION_MIN);
	msgpack_pack_uint8(&pk, MK_PV_MAX);
	msgpack_pack_uint8(&pk, JALIN_PROTO_VERSION_MAX);
	msgpack_pack_uint8(&pk, MK_NAME);
	view_str(&pk, store_node(st));
	msgpack_pack_uint8(&pk, MK_EPOCH);
	msgpack_pack_bin_with_body(&pk, store_epoch(st), 16);
	msgpack_pack_uint8(&pk, MK_SEQ);
	msgpack_pack_uint64(&pk, store_seq(st));
	msgpack_pack_uint8(&pk, MK_FEATURES);
	msgpack_pack_uint32(&pk, FEATURES);
	msgpack_pack_uint8(&pk, MK_SCHEMA);
	msgpack_pack_map(&pk, COLL_COUNT);
	for (unsigned i = COLL_MIN; i <= COLL_MAX; i++) {
		view_str(&pk, schema_coll_by_id(i)->name);
		msgpack_pack_uint32(&pk, schema_coll_by_id(i)->version);
	}
	conn_send(c, b);
}

/* Of two sessions with one peer, keep the one the smaller name dialled. */
static bool
keep_existing(const struct conn *old, const struct conn *nw)
{
	const char *me = store_node(old->ps->n->store);
	const char *them = old->peer->cfg.name;
	const char *d_old = old->outbound ? me : them;
	const char *d_new = nw->outbound ? me : them;
	int c = strcmp(d_old, d_new);

	return c == 0 ? true : c < 0;
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
	if (!m->has_epoch) {
		conn_error(c, JALIN_EPROTO, "HELLO without an epoch");
		return -1;
	}
	if (m->name == NULL || m->name_len != strlen(c->peer->cfg.name) ||
	    memcmp(m->name, c->peer->cfg.name, m->name_len) != 0) {
		conn_error(c, JALIN_EPERM,
		    "HELLO names another node than the certificate (%s)",
		    c->peer->cfg.name);
		return -1;
	}
	return 0;
}

static void
handle_hello(struct conn *c, const struct msg_peer *m)
{
	struct peer *p = c->peer;

	if (check_hello(c, m) != 0)
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
	p->refused = false;
	p->last_error[0] = '\0';
	p->backoff_ms = BACKOFF_MIN_MS;
	p->their_head = m->seq;
	memcpy(c->hello_epoch, m->epoch, 16);
	log_notice("peer %s: up (%s, %s)", p->cfg.name,
	    c->outbound ? "dialled" : "accepted", c->addr);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * (JALIN_FRAME_MAX + 4));
	repl_open(c);
}

static uint32_t
remote_status_extra(void *ctx, msgpack_packer *pk)
{
	struct peers *ps = ctx;

	return admin_status_extra(ps->n, pk, &ps->out);
}

/* A request from an admin:NAME certificate: reads only, never cases. */
static void
handle_admin(struct conn *c, const uint8_t *body, uint32_t len)
{
	struct peers *ps = c->ps;
	struct jalin_err err;
	struct msg_req q;
	msgpack_packer pk;
	MDB_txn *txn;
	int rc;

	jalin_err_clear(&err);
	if ((rc = msg_parse_req(body, len, &q, &err)) != 0) {
		conn_error(c, rc, "%s", jalin_err_msg(&err, rc));
		return;
	}
	if (q.type < MSG_STATUS) {
		conn_error(c, JALIN_EPERM,
		    "admin certificate '%s' may not replicate", c->cn);
		return;
	}
	log_notice("admin %s: %s request from %s", c->cn + 6,
	    msg_type_name(q.type), c->addr);
	buf_reset(&ps->out);
	msgpack_packer_init(&pk, &ps->out, buf_pk_write);
	msg_resp_begin(&pk, q.reqid);
	if (!query_is_read(q.type))
		rc = jalin_err_set(&err, JALIN_EPERM,
		    "remote admins may only read; write through the node's "
		    "local admin socket");
	else if ((rc = admin_check_held(ps->n, q.type, &err)) == 0 &&
	    (rc = stdb_begin_read(store_db(ps->n->store), &txn, &err)) == 0) {
		/* Case and referral records stay on the node: QUERY_PUBLIC
		 * refuses them by name and leaves them out of pages. */
		rc = query_dispatch(txn, store_db(ps->n->store), &q,
		    QUERY_PUBLIC, remote_status_extra, ps, ps->rws, &pk,
		    &ps->out, &err);
		mdb_txn_abort(txn);
	}
	if (rc == 0 && ps->out.err != 0)
		rc = jalin_err_set(&err, ps->out.err, "response too large");
	if (rc != 0)
		msg_resp_error(&ps->out, q.reqid, rc, jalin_err_msg(&err, rc));
	conn_send(c, &ps->out);
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
		handle_admin(c, body, len);
		return;
	}
	if ((rc = msg_parse_peer(body, len, &m, &err)) != 0) {
		conn_error(c, rc, "%s", jalin_err_msg(&err, rc));
		return;
	}
	if (m.type == MSG_ERROR) {
		log_warnx("peer %s: error from peer: %.*s", conn_who(c),
		    (int)m.error_len, m.error ? m.error : "");
		if (c->peer && (c->peer->conn == c || c->peer->conn == NULL))
			peer_set_error(c->peer, "peer said: %.*s",
			    (int)m.error_len, m.error ? m.error : "");
		/* refused before HELLO completed (not a configured peer
		 * there, no common protocol version): an operator must act.
		 * Not a peer that is stopping or closing a duplicate. */
		if (c->peer && c->peer->conn == NULL && !c->open &&
		    (m.code == JALIN_EPERM || m.code == JALIN_EPROTO))
			c->peer->refused = true;
		conn_free(c);
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
	if (repl_handle(c, &m) != 0)
		return; /* repl closed or paused the connection */
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
		c->peer->bytes_in += 4 + (uint64_t)*len;
	c->last_rx_ms = now_ms();
	handle_frame(c, b->p, *len);
	return 1;
}

/* Frames are handled one at a time; a CHANGES message pauses the rest
 * until it is committed (c->task), which bounds what we hold in memory. */
static void
process_input(struct conn *c)
{
	uint32_t len;

	while (!c->dead && c->tls_done && !c->closing && c->task == NULL) {
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
		repl_pump(c);
}

static void
drain_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	(void)buf;
	if (info->n_deleted > 0)
		c->last_drain_ms = now_ms();
}

static void
conn_detach(struct conn *c)
{
	struct peer *p = c->peer;

	verify_closed(c);
	repl_closed(c);
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

static struct peer *
peer_find(struct peers *ps, const char *name)
{
	struct peer *p;

	TAILQ_FOREACH (p, &ps->list, link) {
		if (!p->removed && strcmp(p->cfg.name, name) == 0)
			return p;
	}
	return NULL;
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
	/* a retry that fails the same way is not news */
	if (p == NULL || strcmp(p->last_error, why) != 0)
		log_warnx("peer %s: %s", p ? p->cfg.name : c->addr, why);
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
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		if (c->peer && c->peer->conn == c && !c->closing) {
			peer_set_error(c->peer, "connection lost");
			peer_count_error(c->peer, EK_DISCONNECT);
		}
		conn_free(c);
	}
}

static struct conn *
conn_new(struct peers *ps, evutil_socket_t fd, bool outbound, struct peer *p,
    const char *addr)
{
	struct timeval hs = {JALIN_HANDSHAKE_TIMEOUT, 0};
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
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	evbuffer_add_cb(bufferevent_get_output(c->bev), drain_cb, c);
	bufferevent_set_timeouts(c->bev, &hs, &hs);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&ps->conns, c, link);
	ps->nconns++;
	return c;
}

static void
addr_text(const struct sockaddr *sa, char *buf, size_t n)
{
	char host[64] = "?";
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

static void
accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct peers *ps = arg;
	char addr[80];

	(void)lis;
	(void)salen;
	addr_text(sa, addr, sizeof(addr));
	if (ps->nconns >= JALIN_CONN_MAX || ps->n->stopping) {
		log_warnx("peer %s: refused: %u connections open (limit %d)",
		    addr, ps->nconns, JALIN_CONN_MAX);
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
	char addr[80];
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
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
	                                                   : p->backoff_ms * 2;
}

static void
send_ping(struct conn *c)
{
	struct buf *b = &c->ps->out;
	msgpack_packer pk;

	buf_reset(b);
	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint8(&pk, MSG_PING);
	msgpack_pack_uint8(&pk, MK_TIME);
	msgpack_pack_uint64(&pk, now_ms());
	conn_send(c, b);
}

/*
 * Liveness of one open connection. Stalled: nothing received, or our
 * output not draining, for stall_timeout (a peer that accepts but stops
 * reading, e.g. SIGSTOP). Closed after four times that.
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
	if (now - c->last_rx_ms > 4 * stall_ms) {
		conn_error(c, JALIN_ETIMEOUT, "nothing received for %llu s",
		    (unsigned long long)((now - c->last_rx_ms) / 1000));
		return;
	}
	if (now - c->last_tx_ms >= stall_ms / 3)
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
	TAILQ_FOREACH (c, &ps->conns, link) {
		if (!c->dead && !c->closing && c->open && c->peer)
			check_conn(c, now, stall);
		if (!c->dead && c->open && c->peer)
			c->peer->last_contact_ms = c->last_rx_ms;
	}
	verify_tick(ps, now);
	if (++ps->ticks % 10 == 0)
		repl_gc(ps);
}

static int
state_of(const struct peers *ps, const struct peer *p)
{
	const struct conn *c = p->conn, *x;

	if (c != NULL) {
		if (c->stalled)
			return PEER_STALLED;
		if (p->in_resync || p->out_resync)
			return PEER_RESYNCING;
		return p->in_live && c->caught_up ? PEER_LIVE
		                                  : PEER_CATCHING_UP;
	}
	TAILQ_FOREACH (x, &ps->conns, link) {
		if (!x->dead && x->peer == p)
			return x->tls_done ? PEER_HANDSHAKING : PEER_CONNECTING;
	}
	return p->refused ? PEER_REFUSED : PEER_DOWN;
}

static void
pack_time_or_nil(msgpack_packer *pk, uint64_t ms)
{
	char t[32];

	if (ms == 0 || hlc_format_ms(ms, t, sizeof(t)) != 0)
		msgpack_pack_nil(pk);
	else
		view_str(pk, t);
}

/*
 * Progress of pulling the peer's feed: {"done", "total", "rate", "eta"}
 * in feed entries, or nil when we have all of it.
 */
static void
pack_catch_up(msgpack_packer *pk, const struct peer *p)
{
	const struct conn *c = p->conn;
	uint64_t now = now_ms(), done, total, el;
	double rate;

	if (c == NULL || p->in_live || p->their_head <= c->rpos ||
	    p->their_head <= p->cu_from) {
		msgpack_pack_nil(pk);
		return;
	}
	total = p->their_head - p->cu_from;
	done = c->rpos > p->cu_from ? c->rpos - p->cu_from : 0;
	el = now > p->cu_ms ? now - p->cu_ms : 1;
	rate = (double)done * 1000.0 / (double)el;
	msgpack_pack_map(pk, 4);
	view_str(pk, "done");
	msgpack_pack_uint64(pk, done);
	view_str(pk, "total");
	msgpack_pack_uint64(pk, total);
	view_str(pk, "rate");
	msgpack_pack_double(pk, rate);
	view_str(pk, "eta_seconds");
	if (rate > 0)
		msgpack_pack_double(pk, (double)(total - done) / rate);
	else
		msgpack_pack_nil(pk);
}

/* A key of a map whose pairs are counted as they are written. */
static void
key(msgpack_packer *pk, uint32_t *n, const char *k)
{
	view_str(pk, k);
	(*n)++;
}

static void
pack_counters(msgpack_packer *pk, uint32_t *n, const struct peer *p)
{
	key(pk, n, "records_in");
	msgpack_pack_uint64(pk, p->recs_in);
	key(pk, n, "records_out");
	msgpack_pack_uint64(pk, p->recs_out);
	key(pk, n, "refused_records");
	msgpack_pack_uint64(pk, p->refused_recs);
	key(pk, n, "bytes_in");
	msgpack_pack_uint64(pk, p->bytes_in);
	key(pk, n, "bytes_out");
	msgpack_pack_uint64(pk, p->bytes_out);
	key(pk, n, "errors");
	msgpack_pack_uint64(pk, p->errors);
}

static void
pack_link(
    struct peers *ps, const struct peer *p, msgpack_packer *pk, uint32_t *n)
{
	uint64_t head = store_seq(ps->n->store), lag_ms = repl_lag_ms(ps, p);
	bool same = p->acked_valid &&
	    memcmp(p->acked_epoch, store_epoch(ps->n->store), 16) == 0;
	uint64_t lag =
	    same && p->acked_seq <= head ? head - p->acked_seq : head;

	key(pk, n, "state");
	view_str(pk, peer_state_name(state_of(ps, p)));
	key(pk, n, "lag_records");
	msgpack_pack_uint64(pk, lag);
	key(pk, n, "lag_seconds");
	msgpack_pack_double(pk, (double)lag_ms / 1000.0);
	key(pk, n, "in_lag_records");
	msgpack_pack_uint64(
	    pk, p->their_head > p->ck_seq ? p->their_head - p->ck_seq : 0);
	key(pk, n, "last_contact");
	pack_time_or_nil(pk, p->conn ? now_ms() : p->last_contact_ms);
	key(pk, n, "last_error");
	if (p->last_error[0])
		view_str(pk, p->last_error);
	else
		msgpack_pack_nil(pk);
}

static void
pack_peer(
    struct peers *ps, const struct peer *p, msgpack_packer *pk, struct buf *b)
{
	size_t mark = view_map_begin(b);
	uint32_t n = 0;
	char addr[300];

	key(pk, &n, "name");
	view_str(pk, p->cfg.name);
	key(pk, &n, "address");
	if (p->cfg.address.set) {
		snprintf(addr, sizeof(addr), "%s:%u", p->cfg.address.host,
		    p->cfg.address.port);
		view_str(pk, addr);
	} else {
		msgpack_pack_nil(pk);
	}
	pack_link(ps, p, pk, &n);
	key(pk, &n, "connected_since");
	pack_time_or_nil(pk, p->conn ? p->connected_ms : 0);
	key(pk, &n, "catch_up");
	pack_catch_up(pk, p);
	key(pk, &n, "cert_expires");
	pack_time_or_nil(pk, p->cert_expiry_ms);
	key(pk, &n, "cert_expires_in_days");
	if (p->cert_expiry_ms == 0)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_int64(pk,
		    ((int64_t)p->cert_expiry_ms - (int64_t)now_ms()) /
		        86400000);
	key(pk, &n, "cert_warning");
	if (p->cert_expiry_ms != 0 &&
	    p->cert_expiry_ms < now_ms() + 30ull * 86400000)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	key(pk, &n, "verified_at");
	pack_time_or_nil(pk, p->v.last.verified_ms);
	key(pk, &n, "verify_result");
	if (p->v.last.at_ms != 0)
		view_str(pk, p->v.last.text);
	else
		msgpack_pack_nil(pk);
	pack_counters(pk, &n, p);
	view_patch(b, mark, n);
}

void
peers_status(struct peers *ps, msgpack_packer *pk, struct buf *b)
{
	struct peer *p;
	uint32_t n = 0;

	if (ps == NULL) {
		msgpack_pack_array(pk, 0);
		return;
	}
	TAILQ_FOREACH (p, &ps->list, link)
		n += !p->removed;
	msgpack_pack_array(pk, n);
	TAILQ_FOREACH (p, &ps->list, link) {
		if (!p->removed)
			pack_peer(ps, p, pk, b);
	}
}

static struct peer *
peer_add(struct peers *ps, const struct cfg_peer *cp)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->ps = ps;
	p->cfg = *cp;
	p->backoff_ms = BACKOFF_MIN_MS;
	if ((p->dial_ev = evtimer_new(ps->n->base, dial_cb, p)) == NULL) {
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
	char spec[300];

	snprintf(spec, sizeof(spec), strchr(a->host, ':') ? "[%s]:%u" : "%s:%u",
	    a->host, a->port);
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen))
		return jalin_err_set(err, JALIN_ECONFIG,
		    "listen address '%s' must be numeric (an IP and a port)",
		    spec);
	ps->lis = evconnlistener_new_bind(ps->n->base, accept_cb, ps,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, (struct sockaddr *)&ss, sslen);
	if (ps->lis == NULL)
		return jalin_err_set(err, JALIN_EIO, "cannot listen on %s: %s",
		    spec, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	return 0;
}

static int
start_parts(struct peers *ps, struct jalin_err *err)
{
	struct timeval sec = {1, 0};
	int rc;

	if ((rc = tls_new(ps->n->cfg, &ps->tls, err)) != 0)
		return rc;
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
	evtimer_add(ps->tick, &sec);
	return listen_tcp(ps, err);
}

int
peers_start(struct node *n, struct peers **out, struct jalin_err *err)
{
	struct peers *ps = calloc(1, sizeof(*ps));
	int rc;

	*out = NULL;
	if (ps == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "peers: out of memory");
	ps->n = n;
	TAILQ_INIT(&ps->list);
	TAILQ_INIT(&ps->conns);
	buf_init(&ps->out, JALIN_FRAME_MAX);
	buf_init(&ps->in, JALIN_FRAME_MAX);
	buf_init(&ps->pool[0], JALIN_FRAME_MAX);
	buf_init(&ps->pool[1], JALIN_FRAME_MAX);
	if ((rc = start_parts(ps, err)) != 0) {
		peers_stop(ps);
		return rc;
	}
	for (unsigned i = 0; i < n->cfg->npeers; i++) {
		if (peer_add(ps, &n->cfg->peers[i]) == NULL) {
			peers_stop(ps);
			return jalin_err_set(
			    err, JALIN_ENOMEM, "out of memory");
		}
	}
	repl_load(ps);
	*out = ps;
	return 0;
}

void
peers_stop(struct peers *ps)
{
	struct conn *c;
	struct peer *p;

	if (ps == NULL)
		return;
	TAILQ_FOREACH (c, &ps->conns, link) {
		if (!c->dead && c->tls_done && !c->admin)
			conn_error(c, JALIN_EUNREACH, "node stopping");
		conn_free(c);
	}
	reap_cb(-1, 0, ps);
	while ((p = TAILQ_FIRST(&ps->list)) != NULL) {
		TAILQ_REMOVE(&ps->list, p, link);
		verify_free(p);
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
peers_reload(struct peers *ps, const struct cfg *c, struct jalin_err *err)
{
	struct tls *t;
	int rc;

	if ((rc = tls_new(c, &t, err)) != 0)
		return rc;
	tls_free(ps->tls);
	ps->tls = t;
	recheck_conns(ps);
	reload_peers(ps, c);
	return 0;
}

/* A frame buffer a task is done with: keep up to two for reuse. */
void
peers_give_back(struct peers *ps, struct buf *b)
{
	for (int i = 0; i < 2; i++) {
		if (ps->pool[i].p == NULL && b->cap <= 2 * JALIN_BATCH_BYTES) {
			ps->pool[i] = *b;
			buf_init(b, JALIN_FRAME_MAX);
			return;
		}
	}
	buf_free(b);
}

const char *
peers_gc_holder(const struct peers *ps)
{
	return ps != NULL && ps->gc_holder[0] ? ps->gc_holder : NULL;
}

int
peers_verify(struct peers *ps, const char *name, size_t len, verify_done_fn *fn,
    void *ctx, struct jalin_err *err)
{
	char nm[JALIN_NAME_MAX + 1];
	struct peer *p;

	if (ps == NULL || len == 0 || len > JALIN_NAME_MAX)
		return jalin_err_set(err, JALIN_ENOTFOUND, "no such peer");
	memcpy(nm, name, len);
	nm[len] = '\0';
	if ((p = peer_find(ps, nm)) == NULL)
		return jalin_err_set(
		    err, JALIN_ENOTFOUND, "'%s' is not a configured peer", nm);
	if (verify_start(ps, p, fn, ctx) != 0)
		return jalin_err_set(err, JALIN_EEXIST,
		    "too many verifications of '%s' waiting", nm);
	return 0;
}

void
peers_verify_cancel(struct peers *ps, void *ctx)
{
	if (ps != NULL)
		verify_cancel_waiter(ps, ctx);
}

void
peers_notify(struct peers *ps)
{
	struct conn *c;

	if (ps == NULL)
		return;
	TAILQ_FOREACH (c, &ps->conns, link) {
		if (!c->dead && c->open && c->subscribed)
			repl_pump(c);
	}
}

void
peers_pack_verify(const struct verify_result *r, msgpack_packer *pk)
{
	msgpack_pack_map(pk, 9);
	view_str(pk, "peer");
	view_str(pk, r->peer);
	view_str(pk, "result");
	view_str(pk, r->text);
	view_str(pk, "in_sync");
	if (r->rc == 0 && r->equal)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	view_str(pk, "verified_at");
	pack_time_or_nil(pk, r->verified_ms);
	view_str(pk, "compared");
	msgpack_pack_uint64(pk, r->compared);
	view_str(pk, "differing");
	msgpack_pack_uint64(pk, r->differing);
	view_str(pk, "repaired");
	msgpack_pack_uint64(pk, r->repaired);
	view_str(pk, "corrupt");
	msgpack_pack_uint64(pk, r->corrupt);
	view_str(pk, "where");
	if (r->where[0])
		view_str(pk, r->where);
	else
		msgpack_pack_nil(pk);
}

/* --- metrics ------------------------------------------------------------ */

struct pmetric {
	const char *name, *type, *help;
	double (*get)(struct peers *ps, const struct peer *p);
};

static double
m_lag(struct peers *ps, const struct peer *p)
{
	uint64_t head = store_seq(ps->n->store);
	bool same = p->acked_valid &&
	    memcmp(p->acked_epoch, store_epoch(ps->n->store), 16) == 0;

	return (
	    double)(same && p->acked_seq <= head ? head - p->acked_seq : head);
}

static double
m_lag_s(struct peers *ps, const struct peer *p)
{
	return (double)repl_lag_ms(ps, p) / 1000.0;
}

static double
m_in_lag(struct peers *ps, const struct peer *p)
{
	(void)ps;
	return (
	    double)(p->their_head > p->ck_seq ? p->their_head - p->ck_seq : 0);
}

#define M_FIELD(fn, expr)                                        \
	static double fn(struct peers *ps, const struct peer *p) \
	{                                                        \
		(void)ps;                                        \
		return (double)(expr);                           \
	}
M_FIELD(m_refused, p->refused_recs)
M_FIELD(m_skew, p->skew_ms / 1000.0)
M_FIELD(m_cert, p->cert_expiry_ms / 1000.0)
M_FIELD(m_verified, p->v.last.verified_ms / 1000.0)
M_FIELD(m_contact, (p->conn ? now_ms() : p->last_contact_ms) / 1000.0)

static const struct pmetric pmetrics[] = {
    {"jalin_peer_lag_records", "gauge",
        "Our changes the peer has not acknowledged.", m_lag},
    {"jalin_peer_lag_seconds", "gauge",
        "Age of the oldest change the peer has not acknowledged.", m_lag_s},
    {"jalin_peer_in_lag_records", "gauge",
        "Changes of the peer we have not applied yet.", m_in_lag},
    {"jalin_peer_refused_records_total", "counter",
        "Records from the peer refused (scope, collection, decoding).",
        m_refused},
    {"jalin_peer_clock_skew_seconds", "gauge",
        "The peer's clock minus ours, as last seen.", m_skew},
    {"jalin_peer_cert_expiry_timestamp_seconds", "gauge",
        "When the peer's certificate expires (0: unknown).", m_cert},
    {"jalin_peer_verified_timestamp_seconds", "gauge",
        "Last time the shared scope was verified equal (0: never).",
        m_verified},
    {"jalin_peer_last_contact_timestamp_seconds", "gauge",
        "Last time anything was received from the peer.", m_contact},
};

static void
peer_family(struct peers *ps, struct evbuffer *b, const struct pmetric *pm)
{
	struct peer *p;

	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", pm->name,
	    pm->help, pm->name, pm->type);
	TAILQ_FOREACH (p, &ps->list, link) {
		if (p->removed)
			continue;
		evbuffer_add_printf(
		    b, "%s{peer=\"%s\"} ", pm->name, p->cfg.name);
		metrics_value(b, pm->get(ps, p));
	}
}

static void
state_family(struct peers *ps, struct evbuffer *b)
{
	struct peer *p;

	evbuffer_add_printf(b,
	    "# HELP jalin_peer_state 1 for the peer's "
	    "current state, 0 for the others.\n"
	    "# TYPE jalin_peer_state gauge\n");
	TAILQ_FOREACH (p, &ps->list, link) {
		int st = p->removed ? -1 : state_of(ps, p);
		for (int s = PEER_DOWN; s <= PEER_REFUSED && !p->removed; s++)
			evbuffer_add_printf(b,
			    "jalin_peer_state{peer=\"%s\",state=\"%s\"} %d\n",
			    p->cfg.name, peer_state_name(s), s == st);
	}
}

static void
io_family(struct peers *ps, struct evbuffer *b, const char *name,
    const char *help, size_t in_off, size_t out_off)
{
	struct peer *p;

	evbuffer_add_printf(
	    b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	TAILQ_FOREACH (p, &ps->list, link) {
		if (p->removed)
			continue;
		const char *base = (const char *)p;
		uint64_t in, out;
		memcpy(&in, base + in_off, sizeof(in));
		memcpy(&out, base + out_off, sizeof(out));
		evbuffer_add_printf(b,
		    "%s{peer=\"%s\",direction=\"in\"} %llu\n"
		    "%s{peer=\"%s\",direction=\"out\"} %llu\n",
		    name, p->cfg.name, (unsigned long long)in, name,
		    p->cfg.name, (unsigned long long)out);
	}
}

static void
error_family(struct peers *ps, struct evbuffer *b)
{
	struct peer *p;

	evbuffer_add_printf(b,
	    "# HELP jalin_peer_errors_total Connection "
	    "errors by kind.\n"
	    "# TYPE jalin_peer_errors_total counter\n");
	TAILQ_FOREACH (p, &ps->list, link) {
		for (int k = 0; k < EK_COUNT && !p->removed; k++)
			evbuffer_add_printf(b,
			    "jalin_peer_errors_total{peer=\"%s\",kind=\"%s\"} "
			    "%llu\n",
			    p->cfg.name, err_kind_name(k),
			    (unsigned long long)p->errors_by[k]);
	}
}

void
peers_metrics(struct peers *ps, struct evbuffer *b)
{
	if (ps == NULL)
		return;
	state_family(ps, b);
	for (size_t i = 0; i < sizeof(pmetrics) / sizeof(pmetrics[0]); i++)
		peer_family(ps, b, &pmetrics[i]);
	io_family(ps, b, "jalin_peer_bytes_total", "Bytes of frames.",
	    offsetof(struct peer, bytes_in), offsetof(struct peer, bytes_out));
	io_family(ps, b, "jalin_peer_records_total",
	    "Records received and sent.", offsetof(struct peer, recs_in),
	    offsetof(struct peer, recs_out));
	io_family(ps, b, "jalin_peer_batches_total",
	    "CHANGES frames received and sent.",
	    offsetof(struct peer, batches_in),
	    offsetof(struct peer, batches_out));
	error_family(ps, b);
}
