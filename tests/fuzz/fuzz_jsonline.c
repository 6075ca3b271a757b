/*
 * fuzz_jsonline.c - differential libFuzzer harness for jalinctl import's
 * fast path (tools/json.c, js_fast_line) against jansson: a line the fast
 * path takes must be one jansson takes, packed to the same bytes. The
 * first input byte picks --collection (odd: "lks", even: none); the rest
 * is the line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "../unit/jsonline_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct js_fast f;
	struct buf a, b;
	const char *coll, *defcoll;
	size_t clen;

	if (n == 0)
		return 0;
	defcoll = (d[0] & 1) ? "lks" : NULL;
	js_fast_init(&f, 1u << 20);
	buf_init(&a, 1u << 20);
	buf_init(&b, 1u << 20);
	if (js_fast_line(&f, (const char *)d + 1, n - 1, defcoll, &a, &coll,
	        &clen) == 0) {
		if (slow_line((const char *)d + 1, n - 1, defcoll, &b) != 0 ||
		    a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
			abort(); /* the fast path took what jansson would not */
	}
	js_fast_free(&f);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
