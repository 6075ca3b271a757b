/*
 * verify.h - compare the scope we share with a peer, locate differences
 * and repair them (DESIGN.md §4 "Verification"): periodically, after a
 * peer goes live, and on request (jalinctl verify).
 *
 * Each peer's verification state is private to verify.c (struct verify,
 * made on first use); others read the last result through verify_last.
 */
#ifndef JALIN_VERIFY_H
#define JALIN_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "limits.h"
#include "msg.h"

struct peers;
struct peer;
struct conn;

/* Outcome of a verification, for status and `jalinctl verify`. */
struct verify_result {
	char peer[JALIN_NAME_MAX + 1];
	int rc;               /* 0: compared (equal or repaired) */
	bool equal;           /* digests equal at the end */
	uint64_t at_ms;       /* when it finished (0: never ran) */
	uint64_t verified_ms; /* last time found equal (0: never) */
	uint64_t compared;    /* records in the shared scope */
	uint64_t differing;   /* records found different */
	uint64_t repaired;    /* records sent or fetched to repair them */
	uint64_t corrupt;     /* records found corrupt (both sides) */
	char text[JALIN_ERRMSG_MAX];
	char where[JALIN_ERRMSG_MAX]; /* which records differed */
};

/* Called once when a requested verification ends; r is valid during the
 * call only. */
typedef void verify_done_fn(void *ctx, const struct verify_result *r);

/*
 * Verify the shared scope with the peer name[0..len) now, or join the
 * check under way: fn(ctx, result) is called once when it ends (possibly
 * before this returns, e.g. "not connected"). fn NULL: just start.
 * 0; JALIN_ENOTFOUND for an unknown peer (ps NULL too); JALIN_EEXIST when
 * too many requests wait on that peer; JALIN_ENOMEM. err says why; fn is
 * not called on error.
 */
int verify_request(struct peers *ps, const char *name, size_t len,
    verify_done_fn *fn, void *ctx, struct jalin_err *err);

/* ctx (an admin connection) is gone: forget its pending requests. ps
 * NULL is a no-op. */
void verify_cancel_waiter(struct peers *ps, void *ctx);

/*
 * A verification message on c (VDIGEST_REQ, VIDS_REQ, VDIGEST, VIDS,
 * FETCH). 0 handled; -1 c was closed (malformed); 1 not a verification
 * message (the caller decides).
 */
int verify_handle(struct conn *c, const struct msg_peer *m);

/* Once a second: time out stuck rounds, start the periodic ones and the
 * rechecks after a repair. now is the wall clock in ms. */
void verify_tick(struct peers *ps, uint64_t now);

/* The peer went live: check it soon (status then shows a recent
 * verified_at). */
void verify_soon(struct peer *p);

/* c is closing: drop our answer in progress; a round with its peer ends
 * as "connection lost". */
void verify_closed(struct conn *c);

/* Free p's verification state (at stop); p itself stays. */
void verify_free(struct peer *p);

/* The last finished verification of p, or NULL if none ran yet. Owned
 * by p, valid until the next one ends. */
const struct verify_result *verify_last(const struct peer *p);

#endif
