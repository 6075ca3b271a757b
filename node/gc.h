/*
 * gc.h - tombstone collection: tombstones every peer has acknowledged are
 * buried, in bounded batches, in the group commit.
 */
#ifndef JALIN_GC_H
#define JALIN_GC_H

struct peers;

/*
 * Queue one collection run (unless one is under way or memory is short:
 * then nothing happens and the next call tries again). It also saves the
 * peers' acknowledgements and, while a peer is live and the node is not
 * held, "contact". Failures are logged when the run ends.
 */
void gc_run(struct peers *ps);

/* The peer whose acknowledgements held the last run back, or NULL (also
 * for ps NULL). The text is owned by ps, valid until the next run. */
const char *gc_holder(const struct peers *ps);

#endif
