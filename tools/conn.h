/*
 * conn.h - jalinctl's byte streams to a node, with bounded waits.
 *
 *  unix  the node's local admin socket;
 *  tls   a node's peer port (its [node] listen) with an admin certificate
 *        (CN admin:NAME): TLS 1.3 only, ALPN jalin/1, the node's chain
 *        verified against the federation CA. The node's name is not known
 *        in advance, so no host name is checked: the chain is, and the
 *        node's CN is reported (conn_peer_cn) for the user to see.
 *
 * Every wait (connect, handshake, each read or write) gives up after
 * timeout_ms without progress, and all of them at deadline_ms if set, so
 * a node that accepts TCP and then says nothing cannot hang jalinctl.
 * Failures come back as JALIN_EUNREACH with a message that says why in
 * words: "connection refused", "no answer within 5 s", "certificate
 * refused by the node (tlsv1 alert unknown ca)".
 */
#ifndef JALINCTL_CONN_H
#define JALINCTL_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "frame.h"
#include "limits.h"

struct conn;

struct conn_opts {
	const char *cert;     /* admin certificate (PEM), tls only */
	const char *key;      /* its private key (PEM) */
	const char *ca;       /* federation CA (PEM) the node must chain to */
	const char *crl;      /* the CA's CRL (PEM): check the node's cert */
	unsigned timeout_ms;  /* each wait; 0: wait as long as it takes */
	uint64_t deadline_ms; /* CLOCK_MONOTONIC ms for all waits; 0: none */
};

/* Milliseconds of CLOCK_MONOTONIC (for conn_opts.deadline_ms). */
uint64_t conn_now_ms(void);

/*
 * Connect to the Unix socket at path. 0 and *out (conn_close), or
 * JALIN_EUNREACH with err "cannot reach the node at PATH: WHY".
 */
int conn_unix(const char *path, const struct conn_opts *o, struct conn **out,
    struct jalin_err *err);

/*
 * Connect to HOST:PORT (or [V6]:PORT) and complete the TLS handshake.
 * 0 and *out; JALIN_EUNREACH with err "cannot reach the node at
 * HOST:PORT: WHY" (refused, timed out, TLS handshake failed, certificate
 * refused); JALIN_EINVAL for an address that does not parse; JALIN_ETLS
 * when our own certificate, key or CA cannot be loaded.
 */
int conn_tls(const char *hostport, const struct conn_opts *o, struct conn **out,
    struct jalin_err *err);

/* Close (and free); NULL is a no-op. */
void conn_close(struct conn *c);

/* A frame_io reading and writing c (valid while c is). */
void conn_frame_io(struct conn *c, struct frame_io *io);

/*
 * Why the last read or write failed, in words ("no answer within 5 s",
 * "certificate refused by the node (tlsv13 alert certificate
 * required)"), or NULL if it did not fail or errno says it all.
 */
const char *conn_why(const struct conn *c);

/* Subject CN of the node's certificate (tls), or NULL (unix). */
const char *conn_peer_cn(const struct conn *c);

/* Subject CN of our own certificate (tls), or NULL (unix). */
const char *conn_own_cn(const struct conn *c);

/* "the node at PATH" or "the node at HOST:PORT", for messages. */
const char *conn_where(const struct conn *c);

#endif
