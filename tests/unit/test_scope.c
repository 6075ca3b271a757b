/*
 * test_scope.c - which nodes a record may reach: ALL collections go
 * everywhere; a case goes to its origin, its share_with nodes, and (through
 * the caller's all_cases check) the national node; a tombstone keeps the
 * scope the record had, and a purge of unknown scope goes everywhere; a
 * node taken out of share_with is owed a withdrawal, not the record.
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

/* A node name long enough is stored coded (record.h): the origin is still
 * in the record's scope. */
static void
test_long_origin_name(void **state)
{
	struct fx *f = *state;
	const struct schema_coll *c = schema_coll_by_id(COLL_CASE);
	static const char origin[] = "sentra-wirajaya-makassar";
	struct merge_update u[1];
	size_t first, end;
	bool changed;

	struct buf plain;
	buf_init(&plain, 256);
	msgpack_packer_init(&f->pk, &plain, buf_pk_write);
	str(&f->pk, origin);
	/* in its state form, as ops writes it */
	assert_int_equal(
	    rec_val_canon(plain.p, (uint32_t)plain.len, &f->val), 0);
	buf_free(&plain);
	u[0] = (struct merge_update){
	    TAG_ORIGIN_NODE, (uint32_t)f->val.len, f->val.p};
	rec_init(f->b);
	assert_int_equal(
	    merge_put(f->b, u, 1, origin, strlen(origin), 100, f->a, &changed),
	    0);
	assert_int_equal(rec_encode(f->a, &f->enc), 0);
	assert_int_equal(rec_decode(f->a, f->enc.p, f->enc.len, 0, NULL), 0);
	assert_int_equal(rec_field(f->a, TAG_ORIGIN_NODE, &first, &end), 1);
	assert_true(
	    rec_val_coded(f->a->entry[first].val, f->a->entry[first].vlen));
	assert_true(scope_allows(c, f->a, origin, strlen(origin)));
	assert_false(scope_allows(c, f->a, "sentra-wirajaya", 15));
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

/* Pack a list of node names into b; returns its start. */
static const uint8_t *
names(struct buf *b, msgpack_packer *pk, size_t *len, int n, ...)
{
	size_t at = b->len;
	va_list ap;

	msgpack_packer_init(pk, b, buf_pk_write);
	msgpack_pack_array(pk, (uint32_t)n);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		str(pk, va_arg(ap, const char *));
	va_end(ap);
	*len = b->len - at;
	return b->p + at;
}

/*
 * sulsel takes banten out of share_with and adds jabar: banten is owed a
 * withdrawal, never the record; putting it back clears unshared_from; a
 * tombstone still reaches banten.
 */
static void
test_unshare_withdraws(void **state)
{
	struct fx *f = *state;
	const struct schema_coll *c = schema_coll_by_id(COLL_CASE);
	struct merge_update u[2];
	struct buf out;
	msgpack_packer opk;
	const uint8_t *v;
	size_t vlen;
	bool changed;

	make_case(f);
	buf_init(&out, 4096);
	msgpack_packer_init(&opk, &out, buf_pk_write);
	/* the records point into the values: tomb must not move */
	buf_reset(&f->tomb);
	assert_int_equal(buf_reserve(&f->tomb, 1024), 0);
	v = names(&f->tomb, &f->pk, &vlen, 1, "jabar");
	assert_int_equal(scope_unshared(c, f->a, v, vlen, &opk), 1);
	assert_int_equal(out.len, 8); /* ["banten"] */
	assert_memory_equal(out.p,
	    "\x91\xa6"
	    "banten",
	    8);
	/* no change of share_with: nothing to write */
	size_t l2;
	const uint8_t *same = names(&f->tomb, &f->pk, &l2, 1, "banten");
	assert_int_equal(scope_unshared(c, f->a, same, l2, &opk), 0);
	assert_int_equal(out.len, 8);
	/* ALL collections have no unshared_from */
	assert_int_equal(
	    scope_unshared(schema_coll_by_id(COLL_LKS), f->a, v, vlen, &opk),
	    0);

	u[0] = (struct merge_update){TAG_SHARE_WITH, (uint32_t)vlen, v};
	u[1] = (struct merge_update){TAG_UNSHARED_FROM, 8, out.p};
	assert_int_equal(
	    merge_put(f->a, u, 2, "sulsel", 6, 200, f->b, &changed), 0);
	assert_false(scope_allows(c, f->b, "banten", 6));
	assert_true(scope_withdrawn(c, f->b, "banten", 6));
	assert_true(scope_allows(c, f->b, "jabar", 5));
	assert_false(scope_withdrawn(c, f->b, "jabar", 5));
	assert_true(scope_allows(c, f->b, "sulsel", 6));
	assert_false(scope_withdrawn(c, f->b, "sulsel", 6));
	assert_false(scope_withdrawn(c, f->b, "aceh", 4));
	assert_true(scope_is_origin(f->b, "sulsel", 6));
	assert_false(scope_is_origin(f->b, "jabar", 5));

	/* banten back in share_with: unshared_from becomes nil (out2: f->b
	 * points into out) */
	struct buf out2;
	buf_init(&out2, 4096);
	msgpack_packer_init(&opk, &out2, buf_pk_write);
	v = names(&f->tomb, &f->pk, &vlen, 2, "jabar", "banten");
	assert_int_equal(scope_unshared(c, f->b, v, vlen, &opk), 1);
	assert_int_equal(out2.len, 1);
	assert_int_equal(out2.p[0], 0xc0);
	/* share_with removed altogether: both are withdrawn, sorted */
	buf_reset(&out2);
	assert_int_equal(scope_unshared(c, f->b, NULL, 0, &opk), 1);
	assert_memory_equal(out2.p,
	    "\x92\xa6"
	    "banten"
	    "\xa5"
	    "jabar",
	    14);

	/* a tombstone of the withdrawn record still reaches banten */
	buf_reset(&out2);
	msgpack_pack_array(&opk, 2);
	msgpack_pack_nil(&opk);
	scope_pack(c, f->b, &opk);
	assert_int_equal(merge_delete(f->b, out2.p, out2.len, "sulsel", 6, 300,
	                     f->a, &changed),
	    0);
	assert_false(rec_is_live(f->a));
	assert_true(scope_allows(c, f->a, "banten", 6));
	assert_false(scope_withdrawn(c, f->a, "banten", 6));
	buf_free(&out);
	buf_free(&out2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_case_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_long_origin_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tombstone_keeps_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_unshare_withdraws, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
