/*
 * buf.h - a growable byte buffer with a hard size cap.
 *
 * Used wherever we build an encoding whose size we do not know in advance
 * (record states, responses). The cap turns "grow without bound" into a
 * JALIN_ETOOBIG error. buf_pk_write lets msgpack-c's packer write into one:
 *
 *	msgpack_packer pk;
 *	msgpack_packer_init(&pk, &b, buf_pk_write);
 *
 * A packer write that fails (cap or memory) marks the buffer failed
 * (b->err); check it once after packing.
 */
#ifndef JALIN_BUF_H
#define JALIN_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max; /* never grow beyond this many bytes */
	int err;    /* first error of a buf_pk_write, 0 if none */
	bool owned; /* p is ours to realloc/free (not caller memory) */
};

/* Empty buffer that may grow to max bytes; allocates nothing yet. */
void buf_init(struct buf *b, size_t max);

/*
 * Empty buffer that starts in the caller's memory (cap bytes, e.g. on the
 * stack) and moves to the heap only if it must grow: no allocation for the
 * common small case. The caller's memory must outlive b.
 */
void buf_init_mem(struct buf *b, void *mem, size_t cap, size_t max);

/* Release the memory; b is empty afterwards and may be reused. */
void buf_free(struct buf *b);

/* Forget the contents and any error, keep the allocation. */
void buf_reset(struct buf *b);

/* Make room for n more bytes. 0, JALIN_ETOOBIG or JALIN_ENOMEM. */
int buf_reserve(struct buf *b, size_t n);

/* Append n bytes. 0, JALIN_ETOOBIG or JALIN_ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t n);

/* msgpack_packer write callback; data is a struct buf *. */
int buf_pk_write(void *data, const char *p, size_t n);

#endif
