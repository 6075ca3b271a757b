/*
 * test_proof.c - the proofs of a state's events (protocol/proof.h): a
 * proof survives its encoding; after a write takes fields of a signed
 * event over, the joined proof still recomputes the event's leaf; an event
 * whose every entry is gone is kept as a witness of its origin's context;
 * a proof that does not fit its state is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "err.h"
#include "proof.h"
#include "record.h"
#include "sig.h"

#define HA 0x0001000000000010ull /* jabar's event */
#define HB 0x0001000000000020ull /* sulsel's event, later */

static const uint8_t ID[16] = {7};
static const uint8_t V1[] = {0xa3, 'o', 'n', 'e'};
static const uint8_t V2[] = "\xd9\x3a"
                            "a note long enough to be hashed, not inlined, ok"
                            "0123456789";
#define V2_LEN (sizeof(V2) - 1)
static const uint8_t V3[] = {0x03};
static const uint8_t VB[] = {0xa3, 't', 'w', 'o'};

struct t {
	struct sig_ctx *x;
	struct record a, out;
	struct proof pa, res, dec;
	struct buf tmp, enc;
	struct jalin_err err;
	uint8_t leaf_a[SIG_LEAF_LEN];
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->x = sig_ctx_new()) == NULL)
		return -1;
	buf_init(&t->tmp, 1u << 20);
	buf_init(&t->enc, 1u << 20);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	buf_free(&t->tmp);
	buf_free(&t->enc);
	sig_ctx_free(t->x);
	free(t);
	return 0;
}

/* a: jabar's one event (tags 1, 2, 3), signed as batch 5, leaf 2. */
static void
event_a(struct t *t)
{
	struct record *r = &t->a;

	rec_init(r);
	r->norigins = 1;
	r->origin[0] = (struct rec_origin){"jabar", 5};
	r->ctx[0] = HA;
	r->ndots = 1;
	r->dot[0] = (struct rec_dot){0, HA};
	r->nentries = 3;
	r->entry[0] = (struct rec_entry){1, 0, sizeof(V1), V1};
	r->entry[1] = (struct rec_entry){2, 0, V2_LEN, V2};
	r->entry[2] = (struct rec_entry){3, 0, sizeof(V3), V3};
	proof_init(&t->pa, r);
	t->pa.dot[0] = (struct proof_dot){true, 2, 0, 5, NULL};
	assert_int_equal(
	    sig_leaf(t->x, 1, ID, r, 0, NULL, 0, t->leaf_a, &t->err), 0);
}

/* out: a after sulsel wrote tags in tags[0..n) (value VB) at HB. */
static void
overwrite(struct t *t, const uint16_t *tags, size_t n)
{
	struct record *o = &t->out;
	uint16_t ne = 0;

	rec_init(o);
	o->norigins = 2;
	o->origin[0] = (struct rec_origin){"jabar", 5};
	o->origin[1] = (struct rec_origin){"sulsel", 6};
	o->ctx[0] = HA;
	o->ctx[1] = HB;
	bool a_left = false;
	for (uint16_t tag = 1; tag <= 3; tag++) {
		bool over = false;
		for (size_t k = 0; k < n; k++)
			over |= tags[k] == tag;
		a_left |= !over;
	}
	o->ndots = a_left ? 2 : 1;
	uint16_t db = a_left ? 1 : 0;
	if (a_left)
		o->dot[0] = (struct rec_dot){0, HA};
	o->dot[db] = (struct rec_dot){1, HB};
	for (uint16_t tag = 1; tag <= 3; tag++) {
		bool over = false;
		for (size_t k = 0; k < n; k++)
			over |= tags[k] == tag;
		if (over)
			o->entry[ne++] =
			    (struct rec_entry){tag, db, sizeof(VB), VB};
		else
			o->entry[ne++] = t->a.entry[tag - 1];
	}
	o->nentries = ne;
}

static int
join(struct t *t)
{
	struct proof_src src = {&t->a, &t->pa};
	struct proof_new fresh = {"sulsel", 6, 9, HB, 77};

	return proof_join(t->x, &t->out, &src, 1, &fresh, 1, &t->res, &t->tmp);
}

/* A field taken over: the event keeps its leaf through missing. */
static void
test_join_keeps_leaf(void **state)
{
	struct t *t = *state;
	const uint16_t tags[] = {2};
	uint8_t leaf[SIG_LEAF_LEN];

	event_a(t);
	overwrite(t, tags, 1);
	assert_int_equal(join(t), 0);
	assert_int_equal(t->res.ndots, 2);
	assert_true(t->res.dot[0].is_signed);
	assert_int_equal(t->res.dot[0].bno, 5);
	assert_int_equal(t->res.dot[0].idx, 2);
	assert_int_equal(t->res.dot[0].mlen, 3 + SIG_LEAF_LEN); /* V2 hashed */
	assert_true(t->res.dot[1].is_signed); /* the fresh one */
	assert_int_equal(t->res.dot[1].bno, 77);
	assert_int_equal(t->res.dot[1].idx, 9);
	assert_int_equal(t->res.nwit, 0);
	assert_int_equal(
	    sig_leaf(t->x, 1, ID, &t->out, 0, t->res.dot[0].missing,
	        t->res.dot[0].mlen, leaf, &t->err),
	    0);
	assert_memory_equal(leaf, t->leaf_a, SIG_LEAF_LEN);
}

/* Every field taken over: the event is a witness of jabar's context. */
static void
test_join_witness(void **state)
{
	struct t *t = *state;
	const uint16_t tags[] = {1, 2, 3};
	uint8_t leaf[SIG_LEAF_LEN];

	event_a(t);
	overwrite(t, tags, 3);
	assert_int_equal(join(t), 0);
	assert_int_equal(t->res.ndots, 1);
	assert_int_equal(t->res.nwit, 1);
	assert_int_equal(t->res.wit[0].oidx, 0);
	assert_int_equal(t->res.wit[0].bno, 5);
	assert_int_equal(t->res.wit[0].idx, 2);
	assert_int_equal(
	    proof_wit_leaf(t->x, 1, ID, &t->out, &t->res.wit[0], leaf, &t->err),
	    0);
	assert_memory_equal(leaf, t->leaf_a, SIG_LEAF_LEN);
}

/* Encode, decode, encode: the same bytes; the join's witness and missing
 * survive a second join from the decoded proof. */
static void
test_roundtrip_and_rejoin(void **state)
{
	struct t *t = *state;
	const uint16_t tags[] = {1, 3};
	uint8_t leaf[SIG_LEAF_LEN];
	struct buf again;

	event_a(t);
	overwrite(t, tags, 2);
	assert_int_equal(join(t), 0);
	assert_int_equal(proof_encode(&t->res, &t->out, &t->enc), 0);
	assert_true(t->enc.len > 0);
	assert_int_equal(
	    proof_decode(&t->dec, &t->out, t->enc.p, t->enc.len, &t->err), 0);
	buf_init(&again, 1u << 20);
	assert_int_equal(proof_encode(&t->dec, &t->out, &again), 0);
	assert_int_equal(again.len, t->enc.len);
	assert_memory_equal(again.p, t->enc.p, again.len);
	buf_free(&again);
	assert_int_equal(
	    sig_leaf(t->x, 1, ID, &t->out, 0, t->dec.dot[0].missing,
	        t->dec.dot[0].mlen, leaf, &t->err),
	    0);
	assert_memory_equal(leaf, t->leaf_a, SIG_LEAF_LEN);
	/* nothing signed: nothing encoded, and it decodes as unsigned */
	proof_init(&t->res, &t->out);
	buf_reset(&t->enc);
	assert_int_equal(proof_encode(&t->res, &t->out, &t->enc), 0);
	assert_int_equal(t->enc.len, 0);
	assert_int_equal(proof_decode(&t->dec, &t->out, NULL, 0, &t->err), 0);
	assert_false(t->dec.dot[0].is_signed);
}

/* An unsigned event stays unsigned; a fresh one is signed. */
static void
test_join_unsigned_source(void **state)
{
	struct t *t = *state;
	const uint16_t tags[] = {2};

	event_a(t);
	t->pa.dot[0].is_signed = false;
	overwrite(t, tags, 1);
	assert_int_equal(join(t), 0);
	assert_false(t->res.dot[0].is_signed);
	assert_true(t->res.dot[1].is_signed);
}

static void
refused(struct t *t, const uint8_t *b, size_t n, const char *msg)
{
	jalin_err_clear(&t->err);
	assert_int_equal(
	    proof_decode(&t->dec, &t->a, b, n, &t->err), JALIN_EPROTO);
	assert_string_equal(t->err.msg, msg);
}

/* Proofs that do not fit the state are refused. */
static void
test_decode_refuses(void **state)
{
	struct t *t = *state;
	static const uint8_t two_dots[] = {0x92, 0x92, 0xc0, 0xc0, 0x90};
	static const uint8_t idx_big[] = {
	    0x92, 0x91, 0x93, 0x05, 0xcd, 0x01, 0x00, 0xc4, 0x00, 0x90};
	static const uint8_t wit_bad[] = {
	    0x92, 0x91, 0xc0, 0x91, 0x94, 0x01, 0x05, 0x02, 0xc4, 0x00};
	static const uint8_t trailing[] = {0x91, 0x91, 0xc0, 0xc0};
	static const uint8_t no_wits[] = {0x92, 0x91, 0xc0, 0x90};
	static const uint8_t empty_missing[] = {
	    0x91, 0x91, 0x93, 0x05, 0x01, 0xc4, 0x00};
	static const uint8_t ok[] = {0x91, 0x91, 0x92, 0x05, 0xcc, 0xff};

	event_a(t);
	refused(t, two_dots, sizeof(two_dots), "proof: not one entry per dot");
	refused(t, idx_big, sizeof(idx_big),
	    "proof: a dot's proof is not [bno, idx, bin]");
	refused(t, wit_bad, sizeof(wit_bad),
	    "proof: a witness is not [oidx, bno, idx, bin] in order");
	refused(t, trailing, sizeof(trailing), "proof: bytes after the proof");
	refused(
	    t, no_wits, sizeof(no_wits), "proof: an empty list of witnesses");
	refused(t, empty_missing, sizeof(empty_missing),
	    "proof: a dot's proof is not [bno, idx, bin]");
	assert_int_equal(
	    proof_decode(&t->dec, &t->a, ok, sizeof(ok), &t->err), 0);
	assert_int_equal(t->dec.dot[0].idx, 255);
	assert_true(t->dec.dot[0].bno == HA - 5); /* named by back from HLC */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_join_keeps_leaf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_join_witness, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_roundtrip_and_rejoin, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_join_unsigned_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_decode_refuses, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
