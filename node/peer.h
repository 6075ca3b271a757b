/*
 * peer.h - federation: connections to the configured peers (DESIGN.md §4).
 *
 * One TLS listener for peers and remote admins, and one dialler per
 * configured peer with an address (exponential backoff with jitter). After
 * the TLS handshake and HELLO, each side subscribes to the other's change
 * feed from its checkpoint (repl.c), both directions over one connection.
 * Two connections between one pair are collapsed into one: the one dialled
 * by the node with the smaller name stays.
 */
#ifndef JALIN_PEER_H
#define JALIN_PEER_H

#include <stdint.h>

#include <msgpack.h>

#include "config.h"
#include "err.h"
#include "node.h"

struct peers;

/*
 * Load TLS (tls_new), listen on cfg->listen, start dialling. Errors name
 * the file or address and the reason.
 */
int peers_start(struct node *n, struct peers **out, struct jalin_err *err);

/* Close every connection (ERROR "node stopping" first) and free. */
void peers_stop(struct peers *ps);

/*
 * Take a reloaded config: a new TLS context (certificate, key, CRL) for new
 * connections, existing ones re-verified against it (a revoked peer is
 * dropped), peers added, removed or changed. Healthy connections stay. On
 * error nothing changes.
 */
int peers_reload(struct peers *ps, const struct cfg *c, struct jalin_err *err);

/* New local commits: wake the live senders. */
void peers_notify(struct peers *ps);

struct verify_result;

/*
 * Verify the shared scope with peer name now (or join the check under way):
 * fn(ctx, result) is called once when it ends. JALIN_ENOTFOUND for an
 * unknown peer (err says so).
 */
int peers_verify(struct peers *ps, const char *name, size_t len,
    void (*fn)(void *ctx, const struct verify_result *r), void *ctx,
    struct jalin_err *err);

/* ctx (an admin connection) is gone: forget its pending verifications. */
void peers_verify_cancel(struct peers *ps, void *ctx);

/* The peer whose acknowledgements hold tombstone collection back, or
 * NULL. */
const char *peers_gc_holder(const struct peers *ps);

/* Pack a verification result as a JSON-shaped map. */
void peers_pack_verify(const struct verify_result *r, msgpack_packer *pk);

struct evbuffer;
struct buf;

/* Append the per-peer Prometheus metric families to b. */
void peers_metrics(struct peers *ps, struct evbuffer *b);

/* Pack the value of status' "peers" key (an array, one map per peer);
 * pk writes into b. */
void peers_status(struct peers *ps, msgpack_packer *pk, struct buf *b);

#endif
