/*
 * node.h - the running daemon's state, owned by main.c and passed down.
 *
 * Nothing else in jalind is global except the log settings (log.c): each
 * module gets the struct node * it needs (STYLE.md §5).
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

struct node {
	struct event_base *base;
	struct cfg *cfg; /* replaced on SIGHUP */
	struct store *store;
	struct ops *ops;
	struct admin *admin;
	struct peers *peers;         /* NULL until started */
	struct metrics *metrics;     /* NULL unless metrics_listen is set */
	struct retention *retention; /* NULL when retention_check is 0 */
	uint64_t started_ms;
	uint64_t held_since_ms; /* last contact before an outage longer than
	                           offline_hold: records are not served until
	                           a peer is caught up with (0: serving) */
	bool stopping;
};

#endif
