/*
 * retention.h - purge records whose retention period has ended.
 *
 * DOMAIN.md (privacy 10): every record carries retention_until, set by
 * record type from the archive retention schedule, and records are
 * expired automatically with a purge. Every [node] retention_check
 * seconds (default a day; 0: off) the node walks its store in slices of a
 * few thousand records between other work and purges, with the reason
 * retention_expired, each live record it created (origin_node) whose
 * retention_until is a date before today (UTC). Only the origin purges,
 * so a record is purged once; the purge replicates like any other. A
 * record whose origin is no longer in the federation is not expired
 * automatically (jalinctl purge does it).
 */
#ifndef JALIN_RETENTION_H
#define JALIN_RETENTION_H

#include "err.h"
#include "node.h"

struct retention;

/* Start the periodic check (*out stays NULL when retention_check is 0). */
int retention_start(
    struct node *n, struct retention **out, struct jalin_err *err);

/* Stop; purges already queued are answered by ops. NULL is a no-op. */
void retention_stop(struct retention *r);

#endif
