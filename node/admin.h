/*
 * admin.h - the local admin socket: a Unix domain socket, mode 0600; and
 * the requests of remote admins (admin:NAME certificates, conn.h), which
 * take the same path: reads only, case and referral records left out.
 *
 * jalinctl sends framed msgpack requests (msg.h) and gets one response per
 * request, in order. Reads (status, get, list, export, feed, conflicts,
 * digest) are answered at once from a read transaction; writes go through
 * ops (validated, group-committed, answered after the durable commit).
 * A connection has one request in progress at a time; the next frame is
 * read when it is answered. A frame that is too large or does not decode
 * is answered with an error and the connection is closed; the node goes on.
 */
#ifndef JALIN_ADMIN_H
#define JALIN_ADMIN_H

#include <msgpack.h>

#include "err.h"
#include "node.h"

struct admin;

/*
 * Listen on n->cfg->admin_socket. A stale socket file is replaced; one a
 * live jalind answers on is refused ("admin socket 'P' is in use").
 */
int admin_open(struct node *n, struct admin **out, struct jalin_err *err);

/* Close every connection and remove the socket file. NULL is a no-op. */
void admin_close(struct admin *a);

struct buf;
struct conn;

/*
 * One request from a remote admin on c (a conn_admin_fn: main.c passes it
 * to conn_set_admin with the struct admin * as ctx). body[0..len) passed
 * mp_check. A read is answered on c at once, with QUERY_PUBLIC; any other
 * request gets an error answer ("remote admins may only read"); a
 * replication message or a request that does not parse closes c. The
 * request is logged (notice). Returns 0.
 */
int admin_remote(void *ctx, struct conn *c, const uint8_t *body, uint32_t len);

/*
 * The keys a running node adds to the store's status (version, uptime_s,
 * map_max, tombstones_held_by, enc_keys: the key ring, peers), for the
 * local socket and for remote admins alike; pk writes into b. Returns the
 * number of pairs written.
 */
uint32_t admin_status_extra(
    const struct node *n, msgpack_packer *pk, struct buf *b);

/*
 * While the node is held after a long outage (node.h held_since_ms),
 * requests that show records (get, list, export, feed, conflicts) are
 * refused: JALIN_ESTATE and err says why and until when. Else 0.
 */
int admin_check_held(
    const struct node *n, uint64_t type, struct jalin_err *err);

#endif
