/*
 * test_scope.c - which nodes a record may reach: ALL collections go
 * everywhere; a case goes to its origin, its share_with nodes, and (through
 * the caller's all_cases check) the national node; a tombstone keeps the
 * scope the record had, and a purge of unknown scope goes everywhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "merge.h"
#include "scope.h"

struct fx {
	struct record *a, *b;
	struct buf enc, val, tomb;
	msgpack_packer pk;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->a = malloc(sizeof(*f->a));
	f->b = malloc(sizeof(*f->b));
	buf_init(&f->enc, JALIN_RECORD_MAX);
	buf_init(&f->val, 4096);
	buf_init(&f->tomb, 4096);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	buf_free(&f->enc);
	buf_free(&f->val);
	buf_free(&f->tomb);
	free(f->a);
	free(f->b);
	free(f);
	return 0;
}

static void
str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* A case created at sulsel, shared with banten; decoded into f->a. */
static void
make_case(struct fx *f)
{
	struct merge_update u[2];
	size_t mid;
	bool changed;

	msgpack_packer_init(&f->pk, &f->val, buf_pk_write);
	str(&f->pk, "sulsel");
	mid = f->val.len;
	msgpack_pack_array(&f->pk, 1);
	str(&f->pk, "banten");
	u[0] = (struct merge_update){TAG_ORIGIN_NODE, (uint32_t)mid, f->val.p};
	u[1] = (struct merge_update){
	    TAG_SHARE_WITH, (uint32_t)(f->val.len - mid), f->val.p + mid};
	rec_init(f->b);
	assert_int_equal(
	    merge_put(f->b, u, 2, "sulsel", 6, 100, f->a, &changed), 0);
	assert_int_equal(rec_encode(f->a, &f->enc), 0);
	assert_int_equal(
	    rec_decode(f->a, f->enc.p, f->enc.len, REC_TRUSTED, NULL), 0);
}

static void
test_case_scope(void **state)
{
	struct fx *f = *state;
	const struct schema_coll *c = schema_coll_by_id(COLL_CASE);

	make_case(f);
	assert_true(scope_allows(c, f->a, "sulsel", 6));
	assert_true(scope_allows(c, f->a, "banten", 6));
	assert_false(scope_allows(c, f->a, "jabar", 5));
	assert_false(scope_allows(c, f->a, "bante", 5));
	/* lks and the other ALL collections go everywhere */
	assert_true(
	    scope_allows(schema_coll_by_id(COLL_LKS), f->a, "jabar", 5));
}

static void
test_tombstone_keeps_scope(void **state)
{
	struct fx *f = *state;
	const struct schema_coll *c = schema_coll_by_id(COLL_CASE);
	bool changed;

	make_case(f);
	msgpack_packer_init(&f->pk, &f->tomb, buf_pk_write);
	msgpack_pack_array(&f->pk, 2);
	msgpack_pack_nil(&f->pk);
	scope_pack(c, f->a, &f->pk);
	assert_int_equal(merge_delete(f->a, f->tomb.p, f->tomb.len, "sulsel", 6,
	                     200, f->b, &changed),
	    0);
	assert_false(rec_is_live(f->b));
	assert_true(scope_allows(c, f->b, "banten", 6));
	assert_true(scope_allows(c, f->b, "sulsel", 6));
	assert_false(scope_allows(c, f->b, "jabar", 5));
}

static void
test_purge_scope(void **state)
{
	struct fx *f = *state;
	const struct schema_coll *c = schema_coll_by_id(COLL_CASE);
	bool changed;

	make_case(f);
	msgpack_packer_init(&f->pk, &f->tomb, buf_pk_write);
	msgpack_pack_array(&f->pk, 3);
	str(&f->pk, "erasure_request");
	msgpack_pack_nil(&f->pk);
	scope_pack(c, f->a, &f->pk);
	assert_int_equal(merge_purge(f->a, f->tomb.p, f->tomb.len, "sulsel", 6,
	                     200, f->b, &changed),
	    0);
	assert_true(scope_allows(c, f->b, "banten", 6));
	assert_false(scope_allows(c, f->b, "jabar", 5));
	/* a purge of an id this node never held: unknown scope, no data */
	buf_reset(&f->tomb);
	msgpack_pack_array(&f->pk, 3);
	str(&f->pk, "erasure_request");
	msgpack_pack_nil(&f->pk);
	msgpack_pack_nil(&f->pk);
	rec_init(f->a);
	assert_int_equal(merge_purge(f->a, f->tomb.p, f->tomb.len, "jabar", 5,
	                     300, f->b, &changed),
	    0);
	assert_true(scope_allows(c, f->b, "aceh", 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_case_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tombstone_keeps_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge_scope, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
