/*
 * reseal.h - seal what was written in clear before (PROTOCOL.md §14.7).
 *
 * A store from before sealing (0.3, or a node that ran without an
 * encryption key) holds the personal fields of its cases and referrals in
 * clear. At start the node walks its store in slices between other work
 * and, for each live case or referral it is the origin of that has a
 * field in clear or no data keys, writes those fields again, unchanged,
 * through ops: crypt.h seals them and gives the record its keys, and the
 * write travels like any other. The walk keeps no state: a node stopped
 * half way walks again at its next start and finds only what is left.
 * Records of other origins are sealed by their origin.
 */
#ifndef JALIN_RESEAL_H
#define JALIN_RESEAL_H

#include "err.h"
#include "node.h"

struct reseal;

/* Start the walk when the node seals (n->crypt); *out stays NULL if not. */
int reseal_start(struct node *n, struct reseal **out, struct jalin_err *err);

/* Stop; writes already queued are answered by ops. NULL is a no-op. */
void reseal_stop(struct reseal *r);

#endif
