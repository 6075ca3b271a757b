/*
 * buf.c - growable byte buffer with a cap.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

void
buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->err = 0;
	b->owned = true;
}

void
buf_init_mem(struct buf *b, void *mem, size_t cap, size_t max)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap < max ? cap : max;
	b->max = max;
	b->err = 0;
	b->owned = false;
}

void
buf_free(struct buf *b)
{
	if (b->owned)
		free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->err = 0;
	b->owned = true;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = 0;
}

int
buf_reserve(struct buf *b, size_t n)
{
	size_t want, ncap;
	uint8_t *np;

	if (n > b->max || b->len > b->max - n)
		return JALIN_ETOOBIG;
	want = b->len + n;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < want)
		ncap = ncap > b->max / 2 ? b->max : ncap * 2;
	if (b->owned) {
		np = realloc(b->p, ncap);
	} else if ((np = malloc(ncap)) != NULL && b->len > 0) {
		memcpy(np, b->p, b->len); /* leave the caller's memory */
	}
	if (np == NULL)
		return JALIN_ENOMEM;
	b->owned = true;
	b->p = np;
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *data, size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	if ((rc = buf_reserve(b, n)) != 0)
		return rc;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

int
buf_pk_write(void *data, const char *p, size_t n)
{
	struct buf *b = data;
	int rc;

	if (b->err != 0)
		return -1;
	if ((rc = buf_append(b, p, n)) != 0) {
		b->err = rc;
		return -1;
	}
	return 0;
}
