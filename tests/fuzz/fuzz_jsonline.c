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

#include "../../tools/json.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* The jansson path of import.c: 0 and out, or -1. */
static int
slow_line(const char *s, size_t len, const char *defcoll, struct buf *out)
{
	json_error_t je;
	json_t *o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je), *c, *id;
	struct jalin_err err;
	msgpack_packer pk;
	const char *coll;
	int rc = -1;

	if (o == NULL)
		return -1;
	c = json_object_get(o, "collection");
	id = json_object_get(o, "id");
	if (!json_is_object(o) ||
	    (id != NULL && !json_is_string(id) && !json_is_null(id)))
		goto out;
	coll = c == NULL        ? defcoll
	    : json_is_string(c) ? json_string_value(c)
	                        : NULL;
	if (coll == NULL)
		goto out;
	msgpack_packer_init(&pk, out, buf_pk_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_str_with_body(&pk, coll, strlen(coll));
	if (json_is_string(id))
		msgpack_pack_str_with_body(
		    &pk, json_string_value(id), strlen(json_string_value(id)));
	else
		msgpack_pack_nil(&pk);
	json_object_del(o, "collection");
	json_object_del(o, "id");
	jalin_err_clear(&err);
	if (js_pack_mp(o, &pk, &err) == 0 && out->err == 0)
		rc = 0;
out:
	json_decref(o);
	return rc;
}

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
