/*
 * ops.h - local writes (put, delete, purge, import), group-committed.
 *
 * A write request is parsed and every field validated against its schema
 * as soon as it arrives (schema_coerce), without touching the store. Valid
 * requests are queued; once per event-loop round (a low-priority event, so
 * it runs after all pending I/O) every queued request is applied in ONE
 * store transaction with one durable sync, and only then answered: a write
 * reported as stored survives kill -9 and power loss. Record-level rules
 * that need the current state (required fields on create, purged ids)
 * are checked inside the transaction, per record.
 *
 * Responses are complete MSG_RESP bodies handed to the submitter's
 * callback after the commit (or after the failure of the whole group).
 */
#ifndef JALIN_OPS_H
#define JALIN_OPS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "msg.h"
#include "authz.h"
#include "crypt.h"
#include "store.h"

struct ops;

/* resp[0..len) is the whole response message; valid during the call. */
typedef void (*ops_done_fn)(void *ctx, const uint8_t *resp, size_t len);

/* New write queue on base for store. NULL on out of memory. */
struct ops *ops_new(struct event_base *base, struct store *store);

/* Apply what is queued, then free; NULL is a no-op. */
void ops_free(struct ops *o);

/*
 * Validate and queue a put/delete/purge/import request. On success done
 * will be called once with the response. On a validation error of a
 * single-record request, the error response is produced at once through
 * done (nothing is queued) and 0 is returned; JALIN_ENOMEM otherwise.
 */
int ops_submit(
    struct ops *o, const struct msg_req *req, ops_done_fn done, void *ctx);

/*
 * A unit of work for the same group commit (replicated changes, tombstone
 * collection). apply runs inside the transaction and may run more than once
 * (after the map grew): it must start from scratch each time. It returns 0
 * or a store error, which fails the whole group. done runs once, after the
 * commit (rc 0) or the failure (rc and err).
 */
struct ops_task {
	int (*apply)(struct store_txn *t, void *arg);
	void (*done)(void *arg, int rc, const struct jalin_err *err);
	void *arg;
};

/* Queue a task. 0 or JALIN_ENOMEM (done is then not called). */
int ops_submit_task(struct ops *o, const struct ops_task *task);

/*
 * Who the all_cases nodes are, for write authority (authz.h): a local
 * write that peers would refuse (a field of another office's lks, a case's
 * share_with by a node that is not its origin, ...) is refused at once
 * with JALIN_EPERM and the rule. Until this is called no node is
 * all_cases. nodes is copied.
 */
void ops_set_authz(struct ops *o, const struct authz_nodes *nodes);

/* Seal the S! values of local puts with crypt (crypt.h; held, not owned).
 * Until this is called they are stored as given. */
void ops_set_crypt(struct ops *o, struct crypt *crypt);

/* Called after every successful commit (e.g. to wake live senders). */
void ops_set_hook(struct ops *o, void (*committed)(void *arg), void *arg);

/* The submitter is gone: its pending requests still run, unanswered. */
void ops_cancel(struct ops *o, void *ctx);

/* Run everything queued now (shutdown). */
void ops_flush(struct ops *o);

/* Requests waiting in the queue. */
size_t ops_pending(const struct ops *o);

#endif
