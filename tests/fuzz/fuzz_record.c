/*
 * fuzz_record.c - libFuzzer harness for record states from peers. Any
 * state rec_decode accepts must re-encode to a state that decodes to the
 * same record, and join must be idempotent and commutative with a fixed
 * second state. Nothing may crash or read out of bounds, rec_peek_deleted
 * included; a format-1 state (REC_LEGACY, the store upgrade) must
 * re-encode to a format-2 state that decodes to the same record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* A small valid state: jabar wrote field 16 = "x" at hlc 100. */
static const uint8_t other[] = {0x96, 0x02, 0x00, 0x91, 0xa5, 'j', 'a', 'b',
    'a', 'r', 0x91, 0x64, 0x92, 0x00, 0x00, 0x92, 0x10, 0xa1, 'x'};

static struct record a, b, o, x, y;

static void
encode(const struct record *r, struct buf *out)
{
	buf_reset(out);
	if (rec_encode(r, out) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct buf e1, e2;

	(void)rec_peek_deleted(d, n); /* any bytes: no crash */
	buf_init(&e1, JALIN_RECORD_MAX);
	buf_init(&e2, JALIN_RECORD_MAX);
	/* the store upgrade's path: a format-1 state re-encodes as format 2,
	 * which decodes to the same record */
	if (rec_decode(&a, d, n, REC_TRUSTED | REC_LEGACY, NULL) == 0) {
		encode(&a, &e1);
		if (rec_decode(&b, e1.p, e1.len, REC_TRUSTED, NULL) != 0 ||
		    !merge_equal(&a, &b))
			abort();
	}
	if (rec_decode(&a, d, n, 0, NULL) != 0) {
		buf_free(&e1);
		buf_free(&e2);
		return 0;
	}
	encode(&a, &e1);
	if (rec_decode(&b, e1.p, e1.len, 0, NULL) != 0 || !merge_equal(&a, &b))
		abort();
	if (merge_join(&a, &a, &x, NULL) == 0 && !merge_equal(&a, &x))
		abort(); /* idempotent */
	if (rec_decode(&o, other, sizeof(other), 0, NULL) != 0)
		abort();
	if (merge_join(&a, &o, &x, NULL) == 0 &&
	    merge_join(&o, &a, &y, NULL) == 0) {
		encode(&x, &e1);
		encode(&y, &e2);
		if (e1.len != e2.len || memcmp(e1.p, e2.p, e1.len) != 0)
			abort(); /* commutative */
	}
	buf_free(&e1);
	buf_free(&e2);
	return 0;
}
