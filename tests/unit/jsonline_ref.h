/*
 * jsonline_ref.h - the reference for js_fast_line (tools/json.c): what
 * import.c's jansson path packs for one line, without its messages. Used by
 * tests/unit/test_jsonline.c and tests/fuzz/fuzz_jsonline.c, which link
 * tools/json.c (the unit tests through build/libjalintools.a).
 */
#ifndef JALIN_JSONLINE_REF_H
#define JALIN_JSONLINE_REF_H

#include <stddef.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include "buf.h"
#include "err.h"
#include "json.h"

/* 0 and out, or -1 where import.c reports an error. */
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
	if (c == NULL)
		coll = defcoll;
	else
		coll = json_is_string(c) ? json_string_value(c) : NULL;
	if (coll == NULL)
		goto out;
	buf_reset(out);
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

#endif
