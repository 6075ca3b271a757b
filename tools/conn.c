/*
 * conn.c - byte streams to a node (conn.h): a Unix socket, or TLS 1.3 over
 * TCP with an admin certificate.
 *
 * The socket is non-blocking and every wait goes through poll() with the
 * time left, so connect, the handshake and each read are bounded even
 * when the node (or something pretending to be one) stops talking. OpenSSL
 * drives the non-blocking socket itself; we only wait for what it wants
 * (SSL_ERROR_WANT_READ / WANT_WRITE).
 *
 * With TLS 1.3 the client finishes its side of the handshake before the
 * node has judged the client's certificate: a refusal arrives as an alert
 * on the first read. read_fail() turns such alerts into "certificate
 * refused by the node (...)", so the user hears the reason, not "EOF".
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "crl.h"
#include "limits.h"
#include "conn.h"

/* ALPN's wire form: a length byte, then the name. */
#define ALPN_LEN (sizeof(JALIN_ALPN) - 1)
_Static_assert(ALPN_LEN == 7, "the length byte of alpn_wire");
static const unsigned char alpn_wire[] = "\x07" JALIN_ALPN;

struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	unsigned timeout_ms;
	uint64_t deadline_ms;
	const char *ca; /* for messages */
	char why[JALIN_ERRMSG_MAX];
	char cn[JALIN_ADMIN_NAME_MAX + 1];     /* the node's */
	char own_cn[JALIN_ADMIN_NAME_MAX + 1]; /* ours */
	char where[JALIN_PATH_MAX + 32];
};

uint64_t
conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct conn *
conn_new(const struct conn_opts *o, const char *what)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = -1;
	c->timeout_ms = o->timeout_ms;
	c->deadline_ms = o->deadline_ms;
	c->ca = o->ca;
	snprintf(c->where, sizeof(c->where), "the node at %s", what);
	return c;
}

void
conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* Seconds as people say them: "5 s", "0.5 s". */
static void
secs(unsigned ms, char *buf, size_t n)
{
	if (ms % 1000 == 0)
		snprintf(buf, n, "%u s", ms / 1000);
	else
		snprintf(buf, n, "%.1f s", ms / 1000.0);
}

/*
 * Wait until fd is ready for events. 0; JALIN_ETIMEOUT with c->why "no
 * answer within N s"; JALIN_EIO (errno) if poll fails.
 */
static int
wait_fd(struct conn *c, short events, const char *doing)
{
	struct pollfd p = {.fd = c->fd, .events = events};
	char t[32];
	int r, wait;

	for (;;) {
		uint64_t now = conn_now_ms(), left = UINT64_MAX;
		if (c->timeout_ms != 0)
			left = c->timeout_ms;
		if (c->deadline_ms != 0)
			left = c->deadline_ms > now
			    ? (c->deadline_ms - now < left
			              ? c->deadline_ms - now
			              : left)
			    : 0;
		wait = left == UINT64_MAX ? -1 : (int)left;
		if (left != UINT64_MAX && left > INT32_MAX)
			wait = INT32_MAX;
		r = poll(&p, 1, wait);
		if (r > 0)
			return 0;
		if (r == 0) {
			secs(c->timeout_ms, t, sizeof(t));
			snprintf(c->why, sizeof(c->why),
			    "timed out %s (no answer within %s)", doing,
			    c->timeout_ms ? t : "the time given");
			return JALIN_ETIMEOUT;
		}
		if (errno != EINTR)
			return JALIN_EIO;
	}
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* An unreachable node: "cannot reach the node at X: WHY" (+ hint). */
static int
unreach(
    struct conn *c, struct jalin_err *err, const char *why, const char *hint)
{
	return jalin_err_set(
	    err, JALIN_EUNREACH, "cannot reach %s: %s%s", c->where, why, hint);
}

static const char *
unix_hint(int e)
{
	switch (e) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is jalind running?)";
	case EACCES:
		return " (run jalinctl as the user jalind runs as)";
	}
	return "";
}

int
conn_unix(const char *path, const struct conn_opts *o, struct conn **out,
    struct jalin_err *err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct conn *c;
	int e;

	*out = NULL;
	if ((c = conn_new(o, path)) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	if (strlen(path) >= sizeof(sun.sun_path)) {
		unreach(c, err, "socket path too long", "");
		conn_close(c);
		return JALIN_EUNREACH;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    set_nonblock(c->fd) != 0) {
		e = errno;
		unreach(c, err, strerror(e), unix_hint(e));
		conn_close(c);
		return JALIN_EUNREACH;
	}
	*out = c;
	return 0;
}

/* Finish a non-blocking connect: 0, or errno / -1 for a timeout. */
static int
connect_wait(struct conn *c)
{
	socklen_t len = sizeof(int);
	int e = 0;

	if (wait_fd(c, POLLOUT, "connecting") != 0)
		return c->why[0] ? -1 : errno;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
		return errno;
	return e;
}

/* Try one address: 0, errno, or -1 (timed out; c->why says so). */
static int
try_addr(struct conn *c, const struct addrinfo *ai)
{
	int e;

	c->fd = socket(
	    ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (c->fd < 0)
		return errno;
	if (set_nonblock(c->fd) != 0)
		e = errno;
	else if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	else
		e = errno == EINPROGRESS ? connect_wait(c) : errno;
	if (e != 0) {
		close(c->fd);
		c->fd = -1;
	}
	return e;
}

static const char *
tcp_hint(int e)
{
	if (e == ECONNREFUSED)
		return " (is jalind running and listening there?)";
	return "";
}

static int
dial_tcp(struct conn *c, const struct cfg_addr *a, struct jalin_err *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG};
	struct addrinfo *res, *ai;
	char port[8];
	int rc, e = 0;

	snprintf(port, sizeof(port), "%u", a->port);
	if ((rc = getaddrinfo(a->host, port, &hints, &res)) != 0)
		return jalin_err_set(err, JALIN_EUNREACH,
		    "cannot reach %s: cannot resolve '%s': %s", c->where,
		    a->host, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((e = try_addr(c, ai)) == 0)
			break;
		if (e < 0)
			break; /* out of time: do not try the next one */
	}
	freeaddrinfo(res);
	if (e == 0)
		return 0;
	if (e < 0)
		return unreach(c, err, c->why, "");
	return unreach(c, err, strerror(e), tcp_hint(e));
}

/* The last OpenSSL error as text; clears the queue. */
static const char *
ossl_text(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, n, "unknown reason");
	else if (ERR_reason_error_string(e) != NULL)
		snprintf(buf, n, "%s", ERR_reason_error_string(e));
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

/* CN of a certificate into cn (empty if none). */
static void
subject_cn(X509 *x, char *cn, size_t n)
{
	cn[0] = '\0';
	if (x == NULL ||
	    X509_NAME_get_text_by_NID(
	        X509_get_subject_name(x), NID_commonName, cn, (int)n) <= 0)
		cn[0] = '\0';
}

static int
load_fail(const char *what, const char *path, struct jalin_err *err)
{
	char why[200];

	return jalin_err_set(err, JALIN_ETLS, "cannot load %s '%s': %s", what,
	    path, ossl_text(why, sizeof(why)));
}

/* The client context: TLS 1.3, ALPN jalin/1, our cert, the CA. */
static int
make_ctx(struct conn *c, const struct conn_opts *o, struct jalin_err *err)
{
	int rc;

	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "TLS: out of memory");
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(c->ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(c->ctx, 4);
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
	/* The node may close without close_notify: that is an EOF here. */
	SSL_CTX_set_options(
	    c->ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_set_alpn_protos(c->ctx, alpn_wire, sizeof(alpn_wire) - 1))
		return jalin_err_set(err, JALIN_ENOMEM, "TLS: out of memory");
	if (SSL_CTX_load_verify_locations(c->ctx, o->ca, NULL) != 1)
		return load_fail("CA", o->ca, err);
	if (o->crl != NULL &&
	    (rc = crl_load(SSL_CTX_get_cert_store(c->ctx), o->crl, err)) != 0)
		return rc;
	if (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert) != 1)
		return load_fail("admin certificate", o->cert, err);
	if (SSL_CTX_use_PrivateKey_file(c->ctx, o->key, SSL_FILETYPE_PEM) != 1)
		return load_fail("admin private key", o->key, err);
	if (SSL_CTX_check_private_key(c->ctx) != 1)
		return load_fail("admin private key (it does not match the "
		                 "certificate)",
		    o->key, err);
	subject_cn(
	    SSL_CTX_get0_certificate(c->ctx), c->own_cn, sizeof(c->own_cn));
	return 0;
}

/* Alerts about our certificate, by their TLS alert number. */
static bool
cert_alert(int alert)
{
	switch (alert) {
	case 42:  /* bad_certificate */
	case 43:  /* unsupported_certificate */
	case 44:  /* certificate_revoked */
	case 45:  /* certificate_expired */
	case 46:  /* certificate_unknown */
	case 48:  /* unknown_ca */
	case 49:  /* access_denied */
	case 116: /* certificate_required */
		return true;
	}
	return false;
}

/*
 * Why an SSL call failed, in words, into c->why. r is its return value.
 * EOF yields an empty why (the caller decides what EOF means).
 */
static void
ssl_why(struct conn *c, int r, bool handshake)
{
	int se = SSL_get_error(c->ssl, r), e = errno;
	unsigned long oe = ERR_peek_last_error();
	long vr = SSL_get_verify_result(c->ssl);
	int reason = ERR_GET_REASON(oe);
	char t[200];

	c->why[0] = '\0';
	if (handshake && vr != X509_V_OK) {
		snprintf(c->why, sizeof(c->why),
		    "certificate refused: the node's certificate does not "
		    "verify against CA '%s' (%s)",
		    c->ca, X509_verify_cert_error_string(vr));
	} else if (se == SSL_ERROR_SSL && ERR_GET_LIB(oe) == ERR_LIB_SSL &&
	    reason >= SSL_AD_REASON_OFFSET &&
	    cert_alert(reason - SSL_AD_REASON_OFFSET)) {
		snprintf(c->why, sizeof(c->why),
		    "certificate refused by the node (%s)",
		    ossl_text(t, sizeof(t)));
	} else if (se == SSL_ERROR_SSL && ERR_GET_LIB(oe) == ERR_LIB_SSL &&
	    reason == SSL_AD_REASON_OFFSET + 120) {
		snprintf(c->why, sizeof(c->why),
		    "TLS handshake failed: the node does not speak jalin/1 "
		    "(ALPN refused)");
	} else if (se == SSL_ERROR_SSL) {
		snprintf(c->why, sizeof(c->why), "%s%s",
		    handshake ? "TLS handshake failed: " : "TLS error: ",
		    ossl_text(t, sizeof(t)));
	} else if (se == SSL_ERROR_SYSCALL && e != 0) {
		snprintf(c->why, sizeof(c->why), "%s%s",
		    handshake ? "TLS handshake failed: " : "", strerror(e));
	}
	ERR_clear_error();
}

static int
op_read(struct conn *c, void *buf, size_t n)
{
	return SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
}

static int
op_write(struct conn *c, void *buf, size_t n)
{
	return SSL_write(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
}

static int
op_connect(struct conn *c, void *buf, size_t n)
{
	(void)buf;
	(void)n;
	return SSL_connect(c->ssl);
}

/*
 * Drive one SSL operation until it is done: op returns like SSL_read.
 * >0 done; 0 EOF; <0 failed (c->why set, or a timeout).
 */
static int
ssl_loop(struct conn *c, int (*op)(struct conn *, void *, size_t), void *buf,
    size_t n, const char *doing)
{
	int r, se;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = op(c, buf, n)) > 0)
			return r;
		se = SSL_get_error(c->ssl, r);
		if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
			if (wait_fd(c,
			        se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			        doing) != 0)
				return -1;
			continue;
		}
		if (se == SSL_ERROR_ZERO_RETURN ||
		    (se == SSL_ERROR_SYSCALL && errno == 0 &&
		        ERR_peek_last_error() == 0))
			return 0;
		ssl_why(c, r, op == op_connect);
		return -1;
	}
}

static int
handshake(struct conn *c, struct jalin_err *err)
{
	const unsigned char *proto;
	unsigned int plen;
	int r;

	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		return jalin_err_set(err, JALIN_ENOMEM, "TLS: out of memory");
	r = ssl_loop(c, op_connect, NULL, 0, "in the TLS handshake");
	if (r == 0)
		return unreach(c, err,
		    "TLS handshake failed: the connection was closed", "");
	if (r < 0)
		return unreach(
		    c, err, c->why[0] ? c->why : "TLS handshake failed", "");
	SSL_get0_alpn_selected(c->ssl, &proto, &plen);
	if (plen != ALPN_LEN || memcmp(proto, JALIN_ALPN, ALPN_LEN) != 0)
		return unreach(c, err,
		    "TLS handshake failed: the node did not agree to ALPN "
		    "" JALIN_ALPN,
		    "");
	subject_cn(SSL_get0_peer_certificate(c->ssl), c->cn, sizeof(c->cn));
	return 0;
}

int
conn_tls(const char *hostport, const struct conn_opts *o, struct conn **out,
    struct jalin_err *err)
{
	struct cfg_addr a;
	struct conn *c;
	int rc;

	*out = NULL;
	if (cfg_parse_addr(hostport, &a) != 0)
		return jalin_err_set(err, JALIN_EINVAL,
		    "'%.300s' is not HOST:PORT (or [IPv6]:PORT)", hostport);
	if ((c = conn_new(o, hostport)) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	if ((rc = make_ctx(c, o, err)) == 0 && (rc = dial_tcp(c, &a, err)) == 0)
		rc = handshake(c, err);
	if (rc != 0) {
		conn_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* frame_io callbacks: like read(2)/write(2), errno set on failure. */
static ssize_t
io_read(void *ctx, void *buf, size_t n)
{
	struct conn *c = ctx;
	ssize_t r;

	c->why[0] = '\0';
	if (c->ssl != NULL) {
		r = ssl_loop(c, op_read, buf, n, "waiting for the node");
		return r < 0 ? -1 : r;
	}
	for (;;) {
		if ((r = read(c->fd, buf, n)) >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN ||
		    wait_fd(c, POLLIN, "waiting for the node") != 0)
			return -1;
	}
}

static ssize_t
io_write(void *ctx, const void *buf, size_t n)
{
	struct conn *c = ctx;
	ssize_t w;

	c->why[0] = '\0';
	if (c->ssl != NULL) {
		w = ssl_loop(c, op_write, (void *)(uintptr_t)buf, n,
		    "sending to the node");
		return w <= 0 ? -1 : w;
	}
	for (;;) {
		if ((w = send(c->fd, buf, n, MSG_NOSIGNAL)) >= 0)
			return w;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN ||
		    wait_fd(c, POLLOUT, "sending to the node") != 0)
			return -1;
	}
}

void
conn_frame_io(struct conn *c, struct frame_io *io)
{
	io->read = io_read;
	io->write = io_write;
	io->ctx = c;
}

const char *
conn_why(const struct conn *c)
{
	return c->why[0] ? c->why : NULL;
}

const char *
conn_peer_cn(const struct conn *c)
{
	return c->ssl != NULL ? c->cn : NULL;
}

const char *
conn_own_cn(const struct conn *c)
{
	return c->ssl != NULL ? c->own_cn : NULL;
}

const char *
conn_where(const struct conn *c)
{
	return c->where;
}
