/*
 * fuzz_record.c - libFuzzer harness for record states from peers. Any
 * state rec_decode accepts must re-encode to a state that decodes to the
 * same record, and join must be idempotent and commutative with a fixed
 * second state. Nothing may crash or read out of bounds, rec_peek_deleted
 * included; a format-1 or format-2 state (REC_LEGACY, the store upgrade)
 * must re-encode to a format-3 state that a peer would accept and that
 * encodes again to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* A small valid state: jabar wrote field 16 = "x" at hlc 100. */
static const uint8_t other[] = {0x96, 0x03, 0x00, 0x91, 0xa5, 'j', 'a', 'b',
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
	/* the store upgrade's path: an older state re-encodes as format 3
	 * (its strings coded), which decodes and encodes again to the same
	 * bytes (trusted: the values of a stored state are not checked
	 * again, so garbage in them stays garbage) */
	if (rec_decode(&a, d, n, REC_TRUSTED | REC_LEGACY, NULL) == 0) {
		struct buf code;
		buf_init(&code, JALIN_RECORD_MAX);
		if (rec_code_values(&a, &code) != 0)
			abort(); /* coded values are never longer */
		encode(&a, &e1);
		buf_free(&code);
		if (rec_decode(&b, e1.p, e1.len, REC_TRUSTED, NULL) != 0)
			abort();
		encode(&b, &e2);
		if (e1.len != e2.len || memcmp(e1.p, e2.p, e1.len) != 0)
			abort();
	}
	if (rec_decode(&a, d, n, 0, NULL) != 0) {
		buf_free(&e1);
		buf_free(&e2);
		return 0;
	}
	/* every value reads back plain or says it does not decode; a coded
	 * one that decodes is the canonical form of its text */
	for (size_t i = 0; i < a.nentries; i++) {
		const uint8_t *pv;
		uint32_t plen;
		buf_reset(&e1);
		if (rec_val_plain(a.entry[i].val, a.entry[i].vlen, &e1, &pv,
		        &plen) != 0 ||
		    !rec_val_coded(a.entry[i].val, a.entry[i].vlen))
			continue;
		buf_reset(&e2);
		if (rec_val_canon(pv, plen, &e2) != 0 ||
		    e2.len != a.entry[i].vlen ||
		    memcmp(e2.p, a.entry[i].val, e2.len) != 0)
			abort();
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
