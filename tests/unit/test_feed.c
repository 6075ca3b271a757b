/*
 * test_feed.c - the scope rule of what a peer gets (feed_what, feed.h),
 * the one rule the feed, verification and repairs share: collections the
 * peer is not configured for give nothing; a collection shared with every
 * node gives the record; a SCOPED one (case) gives it to a node that keeps
 * every case, and otherwise only when the record's scope names the peer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "merge.h"
#include "schema.h"
#include "scope.h"
#include "peer_impl.h"
#include "feed.h"

struct fx {
	struct peer p;
	struct record *a, *b;
	struct buf enc, val;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->p.cfg.name, sizeof(f->p.cfg.name), "banten");
	f->p.cfg.collections = 1u << COLL_CASE | 1u << COLL_LKS;
	f->a = malloc(sizeof(*f->a));
	f->b = malloc(sizeof(*f->b));
	buf_init(&f->enc, JALIN_RECORD_MAX);
	buf_init(&f->val, 4096);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	buf_free(&f->enc);
	buf_free(&f->val);
	free(f->a);
	free(f->b);
	free(f);
	return 0;
}

/* A case created at sulsel and shared with `with`, decoded into f->a. */
static void
make_case(struct fx *f, const char *with)
{
	struct merge_update u[2];
	msgpack_packer pk;
	size_t mid;
	bool changed;

	msgpack_packer_init(&pk, &f->val, buf_pk_write);
	msgpack_pack_str_with_body(&pk, "sulsel", 6);
	mid = f->val.len;
	msgpack_pack_array(&pk, 1);
	msgpack_pack_str_with_body(&pk, with, strlen(with));
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
test_collection_decides(void **state)
{
	struct fx *f = *state;

	/* not configured for the peer: nothing, whatever the record */
	assert_int_equal(
	    feed_what(&f->p, COLL_PARTNERSHIP, NULL), FEED_NOTHING);
	assert_int_equal(feed_what(&f->p, 0, NULL), FEED_NOTHING);
	/* shared with every node: the record, without decoding it */
	assert_int_equal(feed_what(&f->p, COLL_LKS, NULL), FEED_RECORD);
	/* SCOPED: the record's contents decide */
	assert_int_equal(feed_what(&f->p, COLL_CASE, NULL), FEED_NEEDS_RECORD);
	/* unless the peer keeps every case */
	f->p.cfg.all_cases = true;
	assert_int_equal(feed_what(&f->p, COLL_CASE, NULL), FEED_RECORD);
}

static void
test_case_scope(void **state)
{
	struct fx *f = *state;

	make_case(f, "banten");
	assert_int_equal(feed_what(&f->p, COLL_CASE, f->a), FEED_RECORD);
	snprintf(f->p.cfg.name, sizeof(f->p.cfg.name), "jabar");
	assert_int_equal(feed_what(&f->p, COLL_CASE, f->a), FEED_NOTHING);
	f->p.cfg.all_cases = true;
	assert_int_equal(feed_what(&f->p, COLL_CASE, f->a), FEED_RECORD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_collection_decides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_case_scope, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
