/*
 * repl.c - replication over the open connections: routes each message
 * after HELLO to the module that owns it (feed.c, apply.c, verify.c),
 * and fills in conn.c's hooks, so that conn.c never calls up by name.
 */
#include <stdlib.h>

#include "peer.h"
#include "conn.h"
#include "feed.h"
#include "apply.h"
#include "verify.h"
#include "trust.h"
#include "gc.h"
#include "repl.h"

static int
live(struct conn *c, const struct msg_peer *m)
{
	struct node *n = peers_node(conn_peers(c));
	int rc = apply_live(c, m);

	if (rc < 0)
		return -1;
	if (rc > 0)
		gc_run(n->gc); /* saves "contact" now */
	verify_soon(conn_peer(c));
	return 0;
}

/*
 * A message without a key the grammar requires (msg.h) is refused (-1),
 * except a verification answer or a FETCH, ignored (1) as verify.c always
 * did: it may answer a round already given up. 0: complete.
 */
static int
check_keys(struct conn *c, const struct msg_peer *m)
{
	struct jalin_err err;
	int rc;

	jalin_err_clear(&err);
	if ((rc = msg_check_peer(m, &err)) == 0)
		return 0;
	if (m->type == MSG_VDIGEST || m->type == MSG_VIDS ||
	    m->type == MSG_FETCH)
		return 1;
	conn_error(c, rc, "%s", jalin_err_msg(&err, rc));
	return -1;
}

static int
message(struct conn *c, const struct msg_peer *m)
{
	int rc = check_keys(c, m);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	switch (m->type) {
	case MSG_SUB:
		return feed_subscribe(c, m);
	case MSG_CHANGES:
		return apply_changes(c, m);
	case MSG_ACK:
		return feed_ack(c, m);
	case MSG_LIVE:
		return live(c, m);
	case MSG_RESYNC:
		return apply_resync(c, m);
	case MSG_REPAIR:
		return apply_repair(c, m);
	case MSG_CERT:
	case MSG_SIGBATCH:
		return apply_signed(c, m);
	}
	rc = verify_handle(c, m);
	if (rc <= 0)
		return rc;
	conn_error(c, JALIN_ESTATE, "unexpected %s message after HELLO",
	    msg_type_name(m->type));
	return -1;
}

static void
closed(struct conn *c)
{
	verify_closed(c);
	feed_closed(c);
	apply_closed(c);
}

static void
tick(struct peers *ps, uint64_t now_ms, unsigned ticks)
{
	verify_tick(ps, now_ms);
	if (ticks % JALIN_GC_TICKS == 0)
		gc_run(peers_node(ps)->gc);
}

static void
peer_freed(struct peer *p)
{
	verify_free(p);
	apply_peer_free(p);
	feed_peer_free(p);
}

static int
peer_added(struct peer *p)
{
	if (feed_peer_new(p) != 0 || apply_peer_new(p) != 0) {
		peer_freed(p);
		return JALIN_ENOMEM;
	}
	return 0;
}

/* HELLO done: subscribe, then our encryption certificates (protocol 4). */
static void
opened(struct conn *c, const struct msg_peer *hello)
{
	apply_open(c, hello);
	trust_enc_send(c);
}

static const struct conn_hooks hooks = {
    .opened = opened,
    .message = message,
    .writable = feed_pump,
    .closed = closed,
    .tick = tick,
    .peer_added = peer_added,
    .peer_freed = peer_freed,
};

int
repl_start(struct node *n, struct peers **out, struct jalin_err *err)
{
	int rc;

	if ((rc = conn_start(n, &hooks, out, err)) != 0)
		return rc;
	feed_load(*out);
	apply_load(*out);
	apply_check_outage(*out);
	if ((n->gc = gc_new(n, *out)) == NULL) {
		conn_stop(*out);
		*out = NULL;
		return jalin_err_set(err, JALIN_ENOMEM, "peers: out of memory");
	}
	return 0;
}

int
repl_state(const struct peers *ps, const struct peer *p)
{
	int st = conn_state(ps, p);

	if (st != PEER_CATCHING_UP)
		return st;
	if (apply_resyncing(p) || feed_resyncing(p))
		return PEER_RESYNCING;
	return apply_is_live(p) && feed_caught_up(p) ? PEER_LIVE
	                                             : PEER_CATCHING_UP;
}

/* ---- test seam (repl.h): tests/unit/fx_repl.c, never jalind ----------- */

const struct conn_hooks *
repl_hooks_test(void)
{
	return &hooks;
}
