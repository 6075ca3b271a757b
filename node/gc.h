/*
 * gc.h - tombstone collection: tombstones every peer has acknowledged are
 * buried, in bounded batches, in the group commit (ops.h). The same run
 * saves the peers' acknowledgements and, while a peer is live, the
 * contact time the outage hold is measured from (apply.h).
 */
#ifndef JALIN_GC_H
#define JALIN_GC_H

struct gc;
struct node;
struct peers;

/*
 * Collection state for the node n and its peers ps (both must outlive it,
 * and n->ops must be set before gc_run). NULL on out of memory. Free with
 * gc_free after the last group commit ran (ops_free).
 */
struct gc *gc_new(struct node *n, struct peers *ps);

/* Free; NULL is a no-op. */
void gc_free(struct gc *gc);

/*
 * Queue one collection run (unless one is under way or memory is short:
 * then nothing happens and the next call tries again). It also saves the
 * peers' acknowledgements and, while a peer is live and the node is not
 * held, "contact". Failures are logged when the run ends.
 */
void gc_run(struct gc *gc);

/* The peer whose acknowledgements held the last run back, or NULL (also
 * for gc NULL). The text is owned by gc, valid until the next run. */
const char *gc_holder(const struct gc *gc);

#endif
