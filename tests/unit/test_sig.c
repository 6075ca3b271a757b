/*
 * test_sig.c - origin signatures (protocol/sig.h, PROTOCOL.md §13): the
 * leaf of a write event binds every field, the record, its origin and HLC
 * and the kind of write; a state that lost some of an event's entries
 * recomputes the same leaf from their elements and from nothing else; a
 * batch signature verifies with its key only, and not once a leaf changes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "err.h"
#include "record.h"
#include "sig.h"

#define HLC 0x0001000200030004ull

static const uint8_t ID[16] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* msgpack values: short str, long str (over SIG_INLINE_MAX), int. */
static const uint8_t V_SHORT[] = {0xa4, 'B', 'o', 'g', 'o'};
static const uint8_t V_LONG[] =
    "\xd9\x34"
    "Jl. Merdeka No. 17, RT 03/RW 05, Kel. Mamajang Dalam";
#define VLONG_LEN (sizeof(V_LONG) - 1) /* without the C string NUL */
static const uint8_t V_INT[] = {0x2a};
static const uint8_t V_DEL[] = {0x92, 0xc0, 0xc0}; /* [nil, nil] */
static const uint8_t V_PURGE[] = {0x93, 0xa1, 'x', 0xc0, 0xc0};

struct t {
	struct sig_ctx *x;
	struct record r;
	struct jalin_err err;
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->x = sig_ctx_new()) == NULL)
		return -1;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	sig_ctx_free(t->x);
	free(t);
	return 0;
}

/* r: one origin "jabar", one dot at HLC, entries tags 1..3 (short, long,
 * int). */
static void
one_event(struct record *r)
{
	rec_init(r);
	r->norigins = 1;
	r->origin[0] = (struct rec_origin){"jabar", 5};
	r->ctx[0] = HLC;
	r->ndots = 1;
	r->dot[0] = (struct rec_dot){0, HLC};
	r->nentries = 3;
	r->entry[0] = (struct rec_entry){1, 0, sizeof(V_SHORT), V_SHORT};
	r->entry[1] = (struct rec_entry){2, 0, VLONG_LEN, V_LONG};
	r->entry[2] = (struct rec_entry){3, 0, sizeof(V_INT), V_INT};
}

static void
leaf_of(struct t *t, const struct record *r, uint8_t coll,
    const uint8_t *missing, size_t mlen, uint8_t leaf[SIG_LEAF_LEN])
{
	assert_int_equal(
	    sig_leaf(t->x, coll, ID, r, 0, missing, mlen, leaf, &t->err), 0);
}

/* Every part of an event changes its leaf; the same event, the same leaf. */
static void
test_leaf_binds_everything(void **state)
{
	struct t *t = *state;
	uint8_t a[SIG_LEAF_LEN], b[SIG_LEAF_LEN];
	uint8_t long2[VLONG_LEN];

	one_event(&t->r);
	leaf_of(t, &t->r, 1, NULL, 0, a);
	leaf_of(t, &t->r, 1, NULL, 0, b);
	assert_memory_equal(a, b, SIG_LEAF_LEN);

	leaf_of(t, &t->r, 2, NULL, 0, b); /* collection */
	assert_memory_not_equal(a, b, SIG_LEAF_LEN);
	t->r.dot[0].hlc = HLC - 1; /* HLC */
	leaf_of(t, &t->r, 1, NULL, 0, b);
	assert_memory_not_equal(a, b, SIG_LEAF_LEN);
	one_event(&t->r);
	t->r.origin[0] = (struct rec_origin){"jabaR", 5}; /* origin */
	leaf_of(t, &t->r, 1, NULL, 0, b);
	assert_memory_not_equal(a, b, SIG_LEAF_LEN);
	one_event(&t->r);
	t->r.entry[2].tag = 4; /* which field */
	leaf_of(t, &t->r, 1, NULL, 0, b);
	assert_memory_not_equal(a, b, SIG_LEAF_LEN);
	one_event(&t->r); /* one byte of a long (hashed) value */
	memcpy(long2, V_LONG, sizeof(long2));
	long2[sizeof(long2) - 1] ^= 1;
	t->r.entry[1].val = long2;
	leaf_of(t, &t->r, 1, NULL, 0, b);
	assert_memory_not_equal(a, b, SIG_LEAF_LEN);
	one_event(&t->r); /* an entry left out */
	t->r.nentries = 2;
	leaf_of(t, &t->r, 1, NULL, 0, b);
	assert_memory_not_equal(a, b, SIG_LEAF_LEN);
}

/* The id is bound too (a value moved to another record). */
static void
test_leaf_binds_id(void **state)
{
	struct t *t = *state;
	uint8_t a[SIG_LEAF_LEN], b[SIG_LEAF_LEN], id2[16];

	one_event(&t->r);
	memcpy(id2, ID, 16);
	id2[15] ^= 0x80;
	assert_int_equal(
	    sig_leaf(t->x, 1, ID, &t->r, 0, NULL, 0, a, &t->err), 0);
	assert_int_equal(
	    sig_leaf(t->x, 1, id2, &t->r, 0, NULL, 0, b, &t->err), 0);
	assert_memory_not_equal(a, b, SIG_LEAF_LEN);
}

/* Entries a state lost are replaced by their elements: same leaf. */
static void
test_missing_entries_give_same_leaf(void **state)
{
	struct t *t = *state;
	uint8_t full[SIG_LEAF_LEN], part[SIG_LEAF_LEN], m[2 * SIG_ELEM_MAX];
	size_t n;

	one_event(&t->r);
	leaf_of(t, &t->r, 1, NULL, 0, full);
	n = sig_element(t->x, 1, V_SHORT, sizeof(V_SHORT), m);
	assert_int_equal(n, 3 + sizeof(V_SHORT)); /* inlined */
	n += sig_element(t->x, 2, V_LONG, VLONG_LEN, m + n);
	assert_int_equal(n, 3 + sizeof(V_SHORT) + 3 + SIG_LEAF_LEN);
	t->r.entry[0] = t->r.entry[2]; /* only tag 3 held */
	t->r.nentries = 1;
	leaf_of(t, &t->r, 1, m, n, part);
	assert_memory_equal(full, part, SIG_LEAF_LEN);
	/* the first and last held, the middle one missing */
	one_event(&t->r);
	n = sig_element(t->x, 2, V_LONG, VLONG_LEN, m);
	t->r.entry[1] = t->r.entry[2];
	t->r.nentries = 2;
	leaf_of(t, &t->r, 1, m, n, part);
	assert_memory_equal(full, part, SIG_LEAF_LEN);
	/* an altered missing element does not give the leaf */
	m[n - 1] ^= 1;
	leaf_of(t, &t->r, 1, m, n, part);
	assert_memory_not_equal(full, part, SIG_LEAF_LEN);
}

/* Missing elements that are cut, out of order or held are refused. */
static void
test_missing_refused(void **state)
{
	struct t *t = *state;
	uint8_t leaf[SIG_LEAF_LEN], m[3 * SIG_ELEM_MAX];
	size_t n;

	one_event(&t->r);
	t->r.nentries = 1; /* tag 1 held */
	n = sig_element(t->x, 3, V_INT, sizeof(V_INT), m);
	n += sig_element(t->x, 2, V_LONG, VLONG_LEN, m + n);
	assert_int_equal(
	    sig_leaf(t->x, 1, ID, &t->r, 0, m, n, leaf, &t->err), JALIN_EPROTO);
	assert_string_equal(t->err.msg, "proof: missing tags not in order");
	n = sig_element(t->x, 1, V_INT, sizeof(V_INT), m);
	jalin_err_clear(&t->err);
	assert_int_equal(
	    sig_leaf(t->x, 1, ID, &t->r, 0, m, n, leaf, &t->err), JALIN_EPROTO);
	assert_string_equal(t->err.msg, "proof: tag 1 both held and missing");
	n = sig_element(t->x, 2, V_LONG, VLONG_LEN, m);
	jalin_err_clear(&t->err);
	assert_int_equal(
	    sig_leaf(t->x, 1, ID, &t->r, 0, m, n - 1, leaf, &t->err),
	    JALIN_EPROTO);
	assert_string_equal(
	    t->err.msg, "proof: missing element 0 is cut or bad");
	m[2] = SIG_INLINE_MAX + 1; /* neither inline nor hashed */
	jalin_err_clear(&t->err);
	assert_int_equal(
	    sig_leaf(t->x, 1, ID, &t->r, 0, m, n, leaf, &t->err), JALIN_EPROTO);
	assert_int_equal(
	    sig_leaf(t->x, 1, ID, &t->r, 1, NULL, 0, leaf, &t->err),
	    JALIN_EINVAL); /* no such dot */
}

/* Two dots: each leaf covers its own entries only. */
static void
test_two_dots(void **state)
{
	struct t *t = *state;
	uint8_t a[SIG_LEAF_LEN], b[SIG_LEAF_LEN], c[SIG_LEAF_LEN];

	one_event(&t->r);
	leaf_of(t, &t->r, 1, NULL, 0, a);
	/* a second dot (banten) that wrote tag 2: entries (1,d0) (2,d0)
	 * (2,d1) (3,d0) -- a conflict on tag 2 */
	t->r.norigins = 2;
	t->r.origin[1] = (struct rec_origin){"jabar2", 6};
	t->r.ctx[1] = HLC + 5;
	t->r.ndots = 2;
	t->r.dot[1] = (struct rec_dot){1, HLC + 5};
	t->r.nentries = 4;
	t->r.entry[3] = t->r.entry[2];
	t->r.entry[2] = (struct rec_entry){2, 1, sizeof(V_INT), V_INT};
	leaf_of(t, &t->r, 1, NULL, 0, b);
	assert_memory_equal(a, b, SIG_LEAF_LEN);
	assert_int_equal(
	    sig_leaf(t->x, 1, ID, &t->r, 1, NULL, 0, c, &t->err), 0);
	assert_memory_not_equal(a, c, SIG_LEAF_LEN);
}

/* Write, delete and purge are different kinds, even when the delete's
 * tag-0 entry is missing from the state. */
static void
test_kinds(void **state)
{
	struct t *t = *state;
	uint8_t del[SIG_LEAF_LEN], del2[SIG_LEAF_LEN], purge[SIG_LEAF_LEN];
	uint8_t m[SIG_ELEM_MAX];
	size_t n;

	one_event(&t->r);
	t->r.nentries = 1;
	t->r.entry[0] = (struct rec_entry){0, 0, sizeof(V_DEL), V_DEL};
	leaf_of(t, &t->r, 1, NULL, 0, del);
	t->r.nentries = 0;
	n = sig_element(t->x, 0, V_DEL, sizeof(V_DEL), m);
	leaf_of(t, &t->r, 1, m, n, del2);
	assert_memory_equal(del, del2, SIG_LEAF_LEN);
	t->r.nentries = 1;
	t->r.entry[0] = (struct rec_entry){0, 0, sizeof(V_PURGE), V_PURGE};
	t->r.flags = REC_PURGED;
	leaf_of(t, &t->r, 1, NULL, 0, purge);
	t->r.flags = 0;
	leaf_of(t, &t->r, 1, NULL, 0, del2);
	assert_memory_not_equal(purge, del2, SIG_LEAF_LEN);
	assert_memory_not_equal(del, del2, SIG_LEAF_LEN);
}

static EVP_PKEY *
p256(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	assert_non_null(k);
	return k;
}

/* A batch signature verifies with its key, not with another, and not
 * after any leaf, the origin, bno or kid changed. */
static void
test_batch_sign_verify(void **state)
{
	struct t *t = *state;
	uint8_t leaves[4 * SIG_LEAF_LEN], kid[SIG_KID_LEN], kid2[SIG_KID_LEN];
	uint8_t d[SIG_DIGEST_LEN], d2[SIG_DIGEST_LEN], sig[SIG_MAX_LEN];
	EVP_PKEY *k = p256(), *k2 = p256();
	size_t len;

	for (size_t i = 0; i < sizeof(leaves); i++)
		leaves[i] = (uint8_t)(i * 7);
	assert_int_equal(sig_kid(k, kid), 0);
	assert_int_equal(sig_kid(k, kid2), 0);
	assert_memory_equal(kid, kid2, SIG_KID_LEN);
	assert_int_equal(sig_kid(k2, kid2), 0);
	jalin_err_clear(&t->err);
	assert_memory_not_equal(kid, kid2, SIG_KID_LEN);
	assert_int_equal(
	    sig_batch_digest(t->x, "jabar", 5, 7, kid, leaves, 4, d), 0);
	assert_int_equal(sig_sign(k, d, sig, &len, &t->err), 0);
	assert_true(len > 8 && len <= SIG_MAX_LEN);
	assert_int_equal(sig_verify(k, d, sig, len, &t->err), 0);
	jalin_err_clear(&t->err);
	assert_int_equal(sig_verify(k2, d, sig, len, &t->err), JALIN_EPERM);
	assert_string_equal(t->err.msg, "batch signature does not verify");
	sig[len - 1] ^= 1;
	assert_int_equal(sig_verify(k, d, sig, len, &t->err), JALIN_EPERM);
	sig[len - 1] ^= 1;

	leaves[3 * SIG_LEAF_LEN] ^= 1;
	assert_int_equal(
	    sig_batch_digest(t->x, "jabar", 5, 7, kid, leaves, 4, d2), 0);
	assert_int_equal(sig_verify(k, d2, sig, len, &t->err), JALIN_EPERM);
	leaves[3 * SIG_LEAF_LEN] ^= 1;
	assert_int_equal(
	    sig_batch_digest(t->x, "jabaR", 5, 7, kid, leaves, 4, d2), 0);
	assert_int_equal(sig_verify(k, d2, sig, len, &t->err), JALIN_EPERM);
	assert_int_equal(
	    sig_batch_digest(t->x, "jabar", 5, 8, kid, leaves, 4, d2), 0);
	assert_int_equal(sig_verify(k, d2, sig, len, &t->err), JALIN_EPERM);
	assert_int_equal(
	    sig_batch_digest(t->x, "jabar", 5, 7, kid2, leaves, 4, d2), 0);
	assert_int_equal(sig_verify(k, d2, sig, len, &t->err), JALIN_EPERM);
	assert_int_equal(
	    sig_batch_digest(t->x, "jabar", 5, 7, kid, leaves, 3, d2), 0);
	assert_int_equal(sig_verify(k, d2, sig, len, &t->err), JALIN_EPERM);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* Batch bounds: no empty batch, none over JALIN_SIG_BATCH_MAX. */
static void
test_batch_bounds(void **state)
{
	struct t *t = *state;
	static uint8_t leaves[(JALIN_SIG_BATCH_MAX + 1) * SIG_LEAF_LEN];
	uint8_t kid[SIG_KID_LEN] = {0}, d[SIG_DIGEST_LEN];

	assert_int_equal(
	    sig_batch_digest(t->x, "jabar", 5, 1, kid, leaves, 0, d),
	    JALIN_EINVAL);
	assert_int_equal(sig_batch_digest(t->x, "jabar", 5, 1, kid, leaves,
	                     JALIN_SIG_BATCH_MAX, d),
	    0);
	assert_int_equal(sig_batch_digest(t->x, "jabar", 5, 1, kid, leaves,
	                     JALIN_SIG_BATCH_MAX + 1, d),
	    JALIN_EINVAL);
	assert_int_equal(
	    sig_batch_digest(t->x, "", 0, 1, kid, leaves, 1, d), JALIN_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_leaf_binds_everything, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_leaf_binds_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_missing_entries_give_same_leaf, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_missing_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_dots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_batch_sign_verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_bounds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
