/*
 * metrics.h - Prometheus text metrics on a loopback HTTP listener.
 *
 * Off unless [node] metrics_listen is set (config.c only accepts a
 * loopback address: the metrics have no TLS and no login). GET /metrics
 * answers in the Prometheus text exposition format 0.0.4: per peer its
 * state, lag in records and seconds, bytes/records/batches in and out,
 * errors by kind, refused records, clock skew seen, certificate expiry,
 * last verification; for the node its records per collection, conflicts,
 * tombstones, feed seq and store size and map use.
 */
#ifndef JALIN_METRICS_H
#define JALIN_METRICS_H

#include "err.h"
#include "node.h"

struct metrics;

/* Listen on n->cfg->metrics_listen (if set; *out stays NULL if not). */
int metrics_start(struct node *n, struct metrics **out, struct jalin_err *err);

/* Stop listening; NULL is a no-op. */
void metrics_stop(struct metrics *m);

#endif
