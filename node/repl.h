/*
 * repl.h - replication between the configured peers: starts the
 * connection layer (conn.h) with the hooks that route each message after
 * HELLO to the feed (feed.h), the applier (apply.h), verification
 * (verify.h) and tombstone collection (gc.h).
 */
#ifndef JALIN_REPL_H
#define JALIN_REPL_H

#include "err.h"
#include "node.h"

struct peers;
struct peer;

/*
 * conn_start with replication's hooks, then load each peer's checkpoints,
 * check for an outage hold (apply_check_outage) and set n->gc (gc_new).
 * On success *out is running and conn_stop frees it, gc_free n->gc; on
 * error *out is NULL, n->gc unset and err says why.
 */
int repl_start(struct node *n, struct peers **out, struct jalin_err *err);

/* p's state for status and the metrics (peer.h enum peer_state): the
 * connection's (conn_state), refined by both feeds once it is open. */
int repl_state(const struct peers *ps, const struct peer *p);

/* ---- test seam: tests/unit/fx_repl.c, never jalind ---------------------
 * The hooks repl_start gives conn_start, for conn_start_test. */
struct conn_hooks;
const struct conn_hooks *repl_hooks_test(void);

#endif
