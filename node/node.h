/*
 * node.h - the running daemon's state, owned by main.c and passed down.
 *
 * Nothing else in jalind is global except the log settings (log.c): each
 * module gets the struct node * it needs (STYLE.md §5).
 *
 * The modules of node/ in layers, lowest first. A module (x.c, x.h and a
 * private x_impl.h) includes the headers of the modules listed before it,
 * never of those after it, so no two files depend on each other in a
 * circle; a lower layer that must reach up does it through hooks the
 * upper one fills in (conn.h struct conn_hooks, conn_set_admin,
 * ops_set_hook). tools/check_layers.py (make check-layers) holds the
 * #include lines of node/ to this list.
 *
 *   1. node      this file: the daemon's state
 *   2. log       log lines (syslog or stderr)
 *   3. tls       TLS contexts, identities, CRLs
 *   4. merge     merging two versions of a record
 *   5. scope     which node a record is shared with
 *   6. authz     who may write what: checks on a peer's state
 *   7. crypt     S! values sealed where they are written
 *   8. store     the LMDB store
 *   9. keyring   the nodes' encryption keys (issue 14)
 *  10. ops       local writes, the group commit
 *  11. retention retention purges
 *  12. reseal    fields written in clear before, sealed
 *  13. peer      the configured-peer table (peer_impl.h: shared records)
 *  14. conn      connections, TLS identity, HELLO, timers
 *  15. trust     origin signatures on the wire: certificates, batches
 *  16. feed      our feed to a peer, the scope rule of what it gets
 *  17. apply     the peer's feed applied, checkpoints, REPAIR
 *  18. verify    verification and repair
 *  19. gc        tombstone collection
 *  20. repl      routes peer messages, fills conn's hooks
 *  21. peerview  status and metrics views of the peers (read-only)
 *  22. admin     the admin requests, local socket and remote
 *  23. metrics   the /metrics endpoint
 *  24. main      options, config, wiring, the event loop
 */
#ifndef JALIN_NODE_H
#define JALIN_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"

struct store;
struct ops;
struct admin;
struct peers;
struct metrics;
struct retention;
struct gc;
struct crypt;
struct reseal;
struct keyring;

struct node {
	struct event_base *base;
	struct cfg *cfg; /* replaced on SIGHUP */
	struct store *store;
	struct ops *ops;
	struct admin *admin;
	struct peers *peers;         /* NULL until started */
	struct metrics *metrics;     /* NULL unless metrics_listen is set */
	struct retention *retention; /* NULL when retention_check is 0 */
	struct gc *gc;               /* tombstone collection (gc.h) */
	struct crypt *crypt;         /* S! sealing (crypt.h); NULL: none */
	struct reseal *reseal;       /* sealing what was in clear (reseal.h) */
	struct keyring *keyring;     /* encryption keys (keyring.h) */
	uint64_t started_ms;
	uint64_t held_since_ms; /* last contact before an outage longer than
	                           offline_hold: records are not served until
	                           a peer is caught up with (0: serving) */
	bool stopping;
};

#endif
