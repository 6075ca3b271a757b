/*
 * test_authz.c - write authority and schema checks on a peer's state
 * (authz.h): each test builds the stored state (old) and the peer's (rem)
 * as nodes' writes would make them (merge_put, merge_delete, merge_purge),
 * or by hand for what no honest node writes, joins them as the store does
 * and asserts the verdict and its exact message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "authz.h"
#include "hlc.h"
#include "merge.h"

#define ORIGIN "banten"
#define OTHER  "sulsel"
#define NATION "pusat"

#define H(n) HLC_MAKE(1700000000000ull + (n), 0)

/* Tags used below (protocol/schema.c). */
#define LKS_NAME       16
#define LKS_LEGAL_FORM 18
#define LKS_STATUS     47
#define CASE_STATUS    17
#define CASE_CLUSTER   18
#define CASE_NOTES     200 /* unknown here: a newer schema's field */
#define REF_REASON     21
#define REF_STATUS     26

struct fx {
	struct record *old, *rem, *out, *tmp;
	uint8_t arena[65536]; /* values; records point into it */
	size_t used;
	struct jalin_err err;
	enum authz_rule rule;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->old = malloc(sizeof(*f->old));
	f->rem = malloc(sizeof(*f->rem));
	f->out = malloc(sizeof(*f->out));
	f->tmp = malloc(sizeof(*f->tmp));
	rec_init(f->old);
	rec_init(f->rem);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	free(f->old);
	free(f->rem);
	free(f->out);
	free(f->tmp);
	free(f);
	return 0;
}

/* A value in its state form (long strings coded), kept in the arena. */
static struct merge_update
upd_raw(struct fx *f, uint16_t tag, const uint8_t *v, size_t n)
{
	struct buf b;

	buf_init_mem(&b, f->arena + f->used, sizeof(f->arena) - f->used,
	    sizeof(f->arena) - f->used);
	assert_int_equal(rec_val_canon(v, (uint32_t)n, &b), 0);
	f->used += b.len;
	return (struct merge_update){tag, (uint32_t)b.len, b.p};
}

static struct merge_update
upd_str(struct fx *f, uint16_t tag, const char *s)
{
	uint8_t v[600];
	struct buf b;
	msgpack_packer pk;

	buf_init_mem(&b, v, sizeof(v), sizeof(v));
	msgpack_packer_init(&pk, &b, buf_pk_write);
	msgpack_pack_str_with_body(&pk, s, strlen(s));
	return upd_raw(f, tag, b.p, b.len);
}

static struct merge_update
upd_int(struct fx *f, uint16_t tag, int64_t i)
{
	uint8_t v[16];
	struct buf b;
	msgpack_packer pk;

	buf_init_mem(&b, v, sizeof(v), sizeof(v));
	msgpack_packer_init(&pk, &b, buf_pk_write);
	msgpack_pack_int64(&pk, i);
	return upd_raw(f, tag, b.p, b.len);
}

static struct merge_update
upd_uuid(struct fx *f, uint16_t tag)
{
	uint8_t v[18] = {0xc4, 16, 1};

	return upd_raw(f, tag, v, sizeof(v));
}

static struct merge_update
upd_names(struct fx *f, uint16_t tag, const char *a, const char *b)
{
	uint8_t v[200];
	struct buf bb;
	msgpack_packer pk;

	buf_init_mem(&bb, v, sizeof(v), sizeof(v));
	msgpack_packer_init(&pk, &bb, buf_pk_write);
	msgpack_pack_array(&pk, b ? 2 : 1);
	msgpack_pack_str_with_body(&pk, a, strlen(a));
	if (b)
		msgpack_pack_str_with_body(&pk, b, strlen(b));
	return upd_raw(f, tag, bb.p, bb.len);
}

/* r = a write by who at hlc on base (copied first: r may be base). */
static void
put(struct fx *f, struct record *r, const struct record *base, const char *who,
    uint64_t hlc, const struct merge_update *u, size_t n)
{
	bool changed;

	memcpy(f->tmp, base, sizeof(*f->tmp));
	assert_int_equal(
	    merge_put(f->tmp, u, n, who, strlen(who), hlc, r, &changed), 0);
	assert_true(changed);
}

static void
del(struct fx *f, struct record *r, const struct record *base, const char *who,
    uint64_t hlc)
{
	static const uint8_t v[] = {0x92, 0xc0, 0xc0}; /* [nil, nil] */
	bool changed;

	memcpy(f->tmp, base, sizeof(*f->tmp));
	assert_int_equal(merge_delete(f->tmp, v, sizeof(v), who, strlen(who),
	                     hlc, r, &changed),
	    0);
}

static void
purge(struct fx *f, struct record *r, const struct record *base,
    const char *who, uint64_t hlc)
{
	/* [reason, hash, scope] */
	static const uint8_t v[] = {0x93, 0xa4, 't', 'e', 's', 't', 0xc0, 0xc0};
	bool changed;

	memcpy(f->tmp, base, sizeof(*f->tmp));
	assert_int_equal(merge_purge(f->tmp, v, sizeof(v), who, strlen(who),
	                     hlc, r, &changed),
	    0);
}

/* A new lks record of origin `owner` written by `who`, into r. */
static void
new_lks(struct fx *f, struct record *r, const char *owner, const char *who,
    uint64_t hlc)
{
	struct merge_update u[] = {
	    upd_str(f, TAG_ORIGIN_NODE, owner),
	    upd_str(f, LKS_NAME, "Yayasan Bina Sejahtera"),
	    upd_str(f, LKS_LEGAL_FORM, "yayasan"),
	    upd_str(f, LKS_STATUS, "active"),
	};
	struct record *empty = malloc(sizeof(*empty));

	rec_init(empty);
	put(f, r, empty, who, hlc, u, 4);
	free(empty);
}

/* A case of ORIGIN shared with OTHER. */
static void
new_case(struct fx *f, struct record *r, uint64_t hlc)
{
	struct merge_update u[] = {
	    upd_str(f, TAG_ORIGIN_NODE, ORIGIN),
	    upd_uuid(f, TAG_CONTROLLER),
	    upd_str(f, TAG_LEGAL_BASIS, "vital_interest"),
	    upd_names(f, TAG_SHARE_WITH, OTHER, NULL),
	    upd_str(f, CASE_STATUS, "reported"),
	    upd_str(f, CASE_CLUSTER, "disability"),
	};
	struct record *empty = malloc(sizeof(*empty));

	rec_init(empty);
	put(f, r, empty, ORIGIN, hlc, u, 6);
	free(empty);
}

static bool
is_nation(void *arg, const char *name, size_t len)
{
	(void)arg;
	return len == strlen(NATION) && memcmp(name, NATION, len) == 0;
}

/* out = old joined with rem, then judged. */
static int
judge(struct fx *f, uint8_t coll)
{
	struct authz_nodes nodes = {is_nation, NULL, NULL};
	bool changed;

	assert_int_equal(merge_join(f->old, f->rem, f->out, &changed), 0);
	jalin_err_clear(&f->err);
	f->rule = 0;
	return authz_check(schema_coll_by_id(coll), f->old, f->out, f->rem,
	    &nodes, &f->rule, &f->err);
}

static void
refused(struct fx *f, uint8_t coll, enum authz_rule rule, const char *msg)
{
	int rc = judge(f, coll);

	assert_int_equal(
	    rc, rule == AUTHZ_SCHEMA ? JALIN_ESCHEMA : JALIN_EPERM);
	assert_int_equal(f->rule, rule);
	assert_string_equal(f->err.msg, msg);
}

static void
accepted(struct fx *f, uint8_t coll)
{
	int rc = judge(f, coll);

	if (rc != 0)
		fail_msg("refused: %s", f->err.msg);
}

/* ---- lks: the origin's alone ------------------------------------------ */

static void
test_new_record_by_its_origin(void **state)
{
	struct fx *f = *state;

	new_lks(f, f->rem, ORIGIN, ORIGIN, H(1));
	accepted(f, COLL_LKS);
}

static void
test_new_record_claiming_another_origin(void **state)
{
	struct fx *f = *state;

	new_lks(f, f->rem, ORIGIN, OTHER, H(1));
	refused(f, COLL_LKS, AUTHZ_ORIGIN,
	    "origin: lks.origin_node written by sulsel: a new record's "
	    "origin_node must name the node that wrote it");
}

static void
test_field_of_another_origin(void **state)
{
	struct fx *f = *state;
	struct merge_update u = upd_str(f, LKS_NAME, "Yayasan Palsu");

	new_lks(f, f->old, ORIGIN, ORIGIN, H(1));
	put(f, f->rem, f->old, OTHER, H(2), &u, 1);
	refused(f, COLL_LKS, AUTHZ_AUTHOR,
	    "authority: lks.name written by sulsel: only its origin writes a "
	    "record of this collection (origin banten)");
	/* the origin itself may, and so its later write is accepted */
	put(f, f->rem, f->old, ORIGIN, H(2), &u, 1);
	accepted(f, COLL_LKS);
}

static void
test_origin_node_never_changes(void **state)
{
	struct fx *f = *state;
	struct merge_update u = upd_str(f, TAG_ORIGIN_NODE, OTHER);

	new_lks(f, f->old, ORIGIN, ORIGIN, H(1));
	put(f, f->rem, f->old, ORIGIN, H(2), &u, 1);
	refused(f, COLL_LKS, AUTHZ_ORIGIN,
	    "origin: lks.origin_node written by banten: a record's "
	    "origin_node (banten) never changes");
}

static void
test_purge_and_delete_by_non_origin(void **state)
{
	struct fx *f = *state;

	new_lks(f, f->old, ORIGIN, ORIGIN, H(1));
	purge(f, f->rem, f->old, OTHER, H(2));
	refused(f, COLL_LKS, AUTHZ_AUTHOR,
	    "authority: lks purge by sulsel: only its origin (banten) may "
	    "delete or purge it");
	del(f, f->rem, f->old, OTHER, H(2));
	refused(f, COLL_LKS, AUTHZ_AUTHOR,
	    "authority: lks delete by sulsel: only its origin (banten) may "
	    "delete or purge it");
	/* an all_cases node has no say over an ALL record either */
	purge(f, f->rem, f->old, NATION, H(2));
	assert_int_equal(judge(f, COLL_LKS), JALIN_EPERM);
	purge(f, f->rem, f->old, ORIGIN, H(2));
	accepted(f, COLL_LKS);
	del(f, f->rem, f->old, ORIGIN, H(2));
	accepted(f, COLL_LKS);
}

/* A tombstone of a record we never held takes nothing away. */
static void
test_purge_of_an_unknown_record(void **state)
{
	struct fx *f = *state;

	purge(f, f->rem, f->old, OTHER, H(2));
	accepted(f, COLL_LKS);
}

/* ---- case: origin fields, scope fields, all_cases --------------------- */

static void
test_share_with_widened_by_non_origin(void **state)
{
	struct fx *f = *state;
	struct merge_update u = upd_names(f, TAG_SHARE_WITH, OTHER, "jatim");

	new_case(f, f->old, H(1));
	put(f, f->rem, f->old, OTHER, H(2), &u, 1);
	refused(f, COLL_CASE, AUTHZ_AUTHOR,
	    "authority: case.share_with written by sulsel: only its origin or "
	    "an all_cases node writes this field (origin banten)");
	put(f, f->rem, f->old, NATION, H(2), &u, 1);
	accepted(f, COLL_CASE);
	put(f, f->rem, f->old, ORIGIN, H(2), &u, 1);
	accepted(f, COLL_CASE);
}

static void
test_case_fields_by_nodes_in_scope(void **state)
{
	struct fx *f = *state;
	struct merge_update u = upd_str(f, CASE_STATUS, "assessment");

	new_case(f, f->old, H(1));
	put(f, f->rem, f->old, OTHER, H(2), &u, 1);
	accepted(f, COLL_CASE);
	put(f, f->rem, f->old, "jatim", H(2), &u, 1);
	refused(f, COLL_CASE, AUTHZ_AUTHOR,
	    "authority: case.status written by jatim: a node the record is not "
	    "shared with (origin banten)");
}

static void
test_case_delete(void **state)
{
	struct fx *f = *state;

	new_case(f, f->old, H(1));
	del(f, f->rem, f->old, OTHER, H(2));
	refused(f, COLL_CASE, AUTHZ_AUTHOR,
	    "authority: case delete by sulsel: only its origin (banten) or an "
	    "all_cases node may delete or purge it");
	del(f, f->rem, f->old, NATION, H(2));
	accepted(f, COLL_CASE);
	purge(f, f->rem, f->old, NATION, H(2));
	accepted(f, COLL_CASE);
}

/* An edit concurrent with a delete survives as a conflict; an edit that
 * the origin's delete saw is gone, lawfully. */
static void
test_delete_with_concurrent_edit(void **state)
{
	struct fx *f = *state;
	struct merge_update u = upd_str(f, CASE_STATUS, "assessment");
	struct record *base = malloc(sizeof(*base));

	new_case(f, base, H(1));
	put(f, f->old, base, OTHER, H(3), &u, 1); /* we hold their edit */
	del(f, f->rem, base, ORIGIN, H(2)); /* the delete did not see it */
	accepted(f, COLL_CASE);
	del(f, f->rem, f->old, ORIGIN, H(4)); /* this one did */
	accepted(f, COLL_CASE);
	free(base);
}

/* The same met by a node that never held the case: the delete took
 * origin_node, the edit survives beside it. */
static void
test_delete_with_concurrent_edit_first_seen(void **state)
{
	struct fx *f = *state;
	struct merge_update u = upd_str(f, CASE_STATUS, "assessment");
	struct record *base = malloc(sizeof(*base));
	struct record *d = malloc(sizeof(*d));
	struct record *e = malloc(sizeof(*e));
	bool changed;

	new_case(f, base, H(1));
	put(f, e, base, OTHER, H(3), &u, 1);
	del(f, d, base, ORIGIN, H(2));
	assert_int_equal(merge_join(d, e, f->rem, &changed), 0);
	assert_true(rec_has_delete(f->rem) && rec_is_live(f->rem));
	accepted(f, COLL_CASE);
	free(base);
	free(d);
	free(e);
}

/* Deleted and written again by the origin: the fields the new write
 * left out are gone with the delete it cleared. */
static void
test_delete_then_write_again(void **state)
{
	struct fx *f = *state;
	struct merge_update u = upd_str(f, LKS_NAME, "Yayasan Baru");

	new_lks(f, f->old, ORIGIN, ORIGIN, H(1));
	del(f, f->rem, f->old, ORIGIN, H(2));
	put(f, f->rem, f->rem, ORIGIN, H(3), &u, 1);
	accepted(f, COLL_LKS);
}

static void
test_referral_ends(void **state)
{
	struct fx *f = *state;
	struct merge_update mk[] = {
	    upd_str(f, TAG_ORIGIN_NODE, ORIGIN),
	    upd_str(f, TAG_LEGAL_BASIS, "vital_interest"),
	    upd_names(f, TAG_SHARE_WITH, OTHER, NULL),
	    upd_uuid(f, 17),
	    upd_uuid(f, 18),
	    upd_uuid(f, 19),
	    upd_str(f, 20, "lks"),
	    upd_str(f, 22, "urgent"),
	    upd_str(f, REF_STATUS, "sent"),
	};
	struct merge_update st = upd_str(f, REF_STATUS, "accepted");
	struct merge_update why = upd_str(f, REF_REASON, "changed");

	put(f, f->old, f->rem, ORIGIN, H(1), mk, 9);
	put(f, f->rem, f->old, OTHER, H(2), &st, 1);
	accepted(f, COLL_REFERRAL);
	put(f, f->rem, f->old, OTHER, H(2), &why, 1);
	refused(f, COLL_REFERRAL, AUTHZ_AUTHOR,
	    "authority: referral.reason written by sulsel: only its origin or "
	    "an all_cases node writes this field (origin banten)");
}

/* ---- erasure ----------------------------------------------------------- */

/* Two concurrent writes of one field are both kept; a later write that
 * saw both settles it. */
static void
test_conflict_and_its_resolution(void **state)
{
	struct fx *f = *state;
	struct merge_update a = upd_str(f, CASE_STATUS, "assessment");
	struct merge_update b = upd_str(f, CASE_STATUS, "closed");
	struct record *base = malloc(sizeof(*base));

	new_case(f, base, H(1));
	put(f, f->old, base, ORIGIN, H(2), &a, 1);
	put(f, f->rem, base, OTHER, H(3), &b, 1);
	accepted(f, COLL_CASE);
	memcpy(f->old, f->out, sizeof(*f->old)); /* the conflict */
	put(f, f->rem, f->old, OTHER, H(4), &a, 1);
	accepted(f, COLL_CASE);
	free(base);
}

/* A state that claims to have seen the origin's writes (its ctx) but holds
 * none of them, with one write of its own on another field. */
static void
test_context_raised_to_erase(void **state)
{
	struct fx *f = *state;
	struct merge_update u = upd_str(f, CASE_STATUS, "assessment");
	struct record *r = f->rem;

	new_case(f, f->old, H(1));
	rec_init(r);
	r->norigins = 2;
	r->origin[0] = (struct rec_origin){ORIGIN, 6};
	r->origin[1] = (struct rec_origin){OTHER, 6};
	r->ctx[0] = H(1);
	r->ctx[1] = H(2);
	r->ndots = 1;
	r->dot[0] = (struct rec_dot){1, H(2)};
	r->nentries = 1;
	r->entry[0] = (struct rec_entry){CASE_STATUS, 0, u.vlen, u.val};
	refused(f, COLL_CASE, AUTHZ_ERASE,
	    "erasure: case.origin_node of banten lost without a write that saw "
	    "it");
	/* no write at all: only a context above everything */
	r->norigins = 1;
	r->ctx[0] = H(5);
	r->ndots = r->nentries = 0;
	rec_init(f->old);
	new_lks(f, f->old, ORIGIN, ORIGIN, H(1));
	refused(f, COLL_LKS, AUTHZ_ERASE,
	    "erasure: lks.origin_node of banten lost without a write that saw "
	    "it");
}

/* A context raised ahead of any write: the origin's next writes would be
 * dropped here. */
static void
test_context_raised_ahead(void **state)
{
	struct fx *f = *state;
	struct merge_update u = upd_str(f, CASE_STATUS, "assessment");
	struct record *r = f->rem;

	new_case(f, f->old, H(1));
	put(f, r, f->old, OTHER, H(2), &u, 1);
	/* claims banten up to H(9), above its own write H(2) */
	int oi = rec_origin_find(r, ORIGIN, 6);
	r->ctx[oi] = H(9);
	refused(f, COLL_CASE, AUTHZ_ERASE,
	    "erasure: case: context of banten raised above every write the "
	    "state holds");
}

static uint64_t
from_h5(void *arg)
{
	(void)arg;
	return HLC_MS(H(5));
}

/* Write events from before write_authority_from (written under 0.3's
 * rules) are judged by the schema alone. */
static void
test_legacy_events_before_the_cut_over(void **state)
{
	struct fx *f = *state;
	struct authz_nodes nodes = {is_nation, from_h5, NULL};
	struct merge_update u = upd_str(f, LKS_NAME, "Yayasan Lama");
	struct merge_update bad = upd_str(f, LKS_STATUS, "closed");
	bool changed;

	new_lks(f, f->old, ORIGIN, ORIGIN, H(1));
	put(f, f->rem, f->old, OTHER, H(2), &u, 1);
	assert_int_equal(merge_join(f->old, f->rem, f->out, &changed), 0);
	assert_int_equal(authz_check(schema_coll_by_id(COLL_LKS), f->old,
	                     f->out, f->rem, &nodes, &f->rule, &f->err),
	    0);
	put(f, f->rem, f->old, OTHER, H(2), &bad, 1);
	assert_int_equal(merge_join(f->old, f->rem, f->out, &changed), 0);
	assert_int_equal(authz_check(schema_coll_by_id(COLL_LKS), f->old,
	                     f->out, f->rem, &nodes, &f->rule, &f->err),
	    JALIN_ESCHEMA);
	put(f, f->rem, f->old, OTHER, H(6), &u, 1);
	assert_int_equal(merge_join(f->old, f->rem, f->out, &changed), 0);
	assert_int_equal(authz_check(schema_coll_by_id(COLL_LKS), f->old,
	                     f->out, f->rem, &nodes, &f->rule, &f->err),
	    JALIN_EPERM);
	assert_int_equal(f->rule, AUTHZ_AUTHOR);
}

/* ---- schema ------------------------------------------------------------ */

static void
test_schema_type_enum_size(void **state)
{
	struct fx *f = *state;
	char big[300];
	struct merge_update u;

	new_lks(f, f->old, ORIGIN, ORIGIN, H(1));
	u = upd_int(f, LKS_NAME, 7);
	put(f, f->rem, f->old, ORIGIN, H(2), &u, 1);
	refused(f, COLL_LKS, AUTHZ_SCHEMA,
	    "schema: banten wrote lks.name: expected a string, got an integer");
	u = upd_str(f, LKS_STATUS, "closed");
	put(f, f->rem, f->old, ORIGIN, H(2), &u, 1);
	refused(f, COLL_LKS, AUTHZ_SCHEMA,
	    "schema: banten wrote lks.status: 'closed' is not one of active, "
	    "inactive, suspended, revoked");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	u = upd_str(f, LKS_NAME, big);
	put(f, f->rem, f->old, ORIGIN, H(2), &u, 1);
	refused(f, COLL_LKS, AUTHZ_SCHEMA,
	    "schema: banten wrote lks.name: 299 bytes exceeds the limit of "
	    "256");
}

static void
test_schema_required_on_creation(void **state)
{
	struct fx *f = *state;
	struct merge_update u[] = {
	    upd_str(f, TAG_ORIGIN_NODE, ORIGIN),
	    upd_str(f, LKS_NAME, "Yayasan"),
	};

	put(f, f->rem, f->old, ORIGIN, H(1), u, 2);
	refused(f, COLL_LKS, AUTHZ_SCHEMA,
	    "schema: new record: lks: required field 'legal_form' is missing");
}

/* A field this node's schema does not know passes untouched. */
static void
test_unknown_field_passes(void **state)
{
	struct fx *f = *state;
	struct merge_update u = upd_int(f, CASE_NOTES, 42);

	new_case(f, f->old, H(1));
	put(f, f->rem, f->old, OTHER, H(2), &u, 1);
	accepted(f, COLL_CASE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_new_record_by_its_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_new_record_claiming_another_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_field_of_another_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_origin_node_never_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_purge_and_delete_by_non_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_purge_of_an_unknown_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_share_with_widened_by_non_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_case_fields_by_nodes_in_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_case_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_delete_with_concurrent_edit, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_delete_with_concurrent_edit_first_seen, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_delete_then_write_again, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_referral_ends, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_conflict_and_its_resolution, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_context_raised_to_erase, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_context_raised_ahead, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_legacy_events_before_the_cut_over, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_schema_type_enum_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_schema_required_on_creation, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_unknown_field_passes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
