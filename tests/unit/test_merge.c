/*
 * test_merge.c - the merge against a reference model, on random histories.
 *
 * Each history: a few nodes write one record concurrently (puts of random
 * fields, field removals, deletes, now and then a purge) while snapshots of
 * their states travel between them in random order, late, and duplicated.
 * At the end every node receives every other node's final state, shuffled
 * and twice. Then:
 *  - all replicas hold byte-identical encodings;
 *  - the reference model, which knows for every event which events its
 *    writer had seen, says which values must survive: a value survives
 *    unless a later put of the same field or a delete had seen it; a delete
 *    survives unless a later put or delete had seen it; any purge wins.
 *    The replicas must hold exactly those, with the winner being the
 *    greatest (hlc, origin) and the rest listed as conflicts;
 *  - join is commutative, associative and idempotent on the states seen.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <msgpack.h>

#include "hlc.h"
#include "merge.h"
#include "record.h"
#include "schema.h"

#define NODES_MAX  5
#define EVENTS_MAX 64
#define MSGS_MAX   256
#define NTAGS      5
#define HISTORIES  10000

enum ev_kind {
	EV_PUT,
	EV_DEL,
	EV_PURGE
};

struct event {
	int kind;
	int node;
	uint64_t hlc;
	uint64_t seen;       /* events the writer had seen (bit i = event i) */
	uint32_t tags;       /* fields a put changed (bit = tag - 16) */
	char val[NTAGS][16]; /* value per changed field ("" = nil) */
};

struct replica {
	struct buf state;
	uint64_t seen;
	struct hlc clock;
	int64_t offset;
	const char *name;
};

struct msg {
	uint8_t *bytes;
	size_t len;
	uint64_t seen;
};

struct sim {
	int nnodes;
	struct replica rep[NODES_MAX];
	struct event ev[EVENTS_MAX];
	int nev;
	struct msg msg[MSGS_MAX];
	int nmsg;
	uint64_t now;
	struct record *cur, *other, *out;
	uint64_t *rng;
};

/* Is e's value the string want (plain or coded, record.h)? */
static bool
val_is(const struct rec_entry *e, const char *want)
{
	uint8_t mem[256];
	const uint8_t *v;
	uint32_t vlen;
	struct buf t;
	size_t n = strlen(want);
	bool ok;

	buf_init_mem(&t, mem, sizeof(mem), sizeof(mem));
	ok = rec_val_plain(e->val, e->vlen, &t, &v, &vlen) == 0 && n < 32 &&
	    vlen == n + 1 && v[0] == (0xa0 | n) && memcmp(v + 1, want, n) == 0;
	buf_free(&t);
	return ok;
}

static const char *const node_names[] = {
    "jabar", "banten", "sulsel", "aceh", "bali"};

static uint64_t
rnd(uint64_t *s)
{
	/* xorshift64*: fixed seeds, so a failure reproduces. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static int
rndn(struct sim *s, int n)
{
	return (int)(rnd(s->rng) % (uint64_t)n);
}

static void
decode_state(const struct buf *b, struct record *r)
{
	if (b->len == 0) {
		rec_init(r);
		return;
	}
	assert_int_equal(rec_decode(r, b->p, b->len, 0, NULL), 0);
}

static void
set_state(struct replica *rp, const struct record *r)
{
	struct buf nb;

	buf_init(&nb, JALIN_RECORD_MAX);
	assert_int_equal(rec_encode(r, &nb), 0);
	buf_free(&rp->state);
	rp->state = nb;
}

static uint64_t
tick(struct sim *s, struct replica *rp)
{
	s->now += (uint64_t)rndn(s, 3);
	return hlc_now(&rp->clock, (uint64_t)((int64_t)s->now + rp->offset));
}

static int
pack_str(char *out, size_t n, const char *s, uint8_t *mp, size_t mpn)
{
	size_t len = strlen(s);

	snprintf(out, n, "%s", s);
	assert_true(len < 32 && len + 1 <= mpn);
	mp[0] = (uint8_t)(0xa0 | len);
	memcpy(mp + 1, s, len);
	return (int)len + 1;
}

static bool
origin_is(const struct record *r, uint16_t o, const char *name)
{
	return r->origin[o].len == strlen(name) &&
	    memcmp(r->origin[o].name, name, r->origin[o].len) == 0;
}

/* A put of 1..3 random fields; about one in eight is a removal. */
static void
do_put(struct sim *s, int node)
{
	struct replica *rp = &s->rep[node];
	struct merge_update u[NTAGS];
	uint8_t mp[NTAGS][16];
	char txt[NTAGS][16];
	int n = 0, e = s->nev;
	bool changed;
	uint64_t hlc;

	for (int t = 0; t < NTAGS; t++) {
		if (rndn(s, 3) != 0)
			continue;
		u[n].tag = (uint16_t)(16 + t);
		if (rndn(s, 8) == 0) {
			u[n].val = NULL;
			u[n].vlen = 0;
			txt[n][0] = '\0';
		} else {
			char v[16];
			snprintf(v, sizeof(v), "e%d.%d", e, t);
			u[n].vlen = (uint32_t)pack_str(
			    txt[n], sizeof(txt[n]), v, mp[n], sizeof(mp[n]));
			u[n].val = mp[n];
		}
		n++;
	}
	decode_state(&rp->state, s->cur);
	hlc = tick(s, rp);
	int rc = merge_put(s->cur, u, (size_t)n, rp->name, strlen(rp->name),
	    hlc, s->out, &changed);
	if (rc == JALIN_EPURGED || !changed)
		return;
	assert_int_equal(rc, 0);
	struct event *ev = &s->ev[e];
	memset(ev, 0, sizeof(*ev));
	ev->kind = EV_PUT;
	ev->node = node;
	ev->hlc = hlc;
	ev->seen = rp->seen;
	for (int i = 0; i < n; i++) {
		size_t f, end;
		rec_field(s->out, u[i].tag, &f, &end);
		for (size_t k = f; k < end; k++) {
			const struct rec_dot *d =
			    &s->out->dot[s->out->entry[k].dot];
			if (d->hlc != hlc ||
			    !origin_is(s->out, d->origin, rp->name))
				continue;
			ev->tags |= 1u << (u[i].tag - 16);
			snprintf(ev->val[u[i].tag - 16], sizeof(ev->val[0]),
			    "%s", txt[i]);
		}
	}
	set_state(rp, s->out);
	rp->seen |= 1ull << e;
	s->nev++;
}

static void
do_tomb(struct sim *s, int node, int kind)
{
	struct replica *rp = &s->rep[node];
	/* [reason, scope] and [reason, hash, scope] */
	static const uint8_t reason[] = {
	    0x92, 0xa5, 'e', 'r', 'r', 'o', 'r', 0xc0};
	static const uint8_t pval[] = {
	    0x93, 0xa5, 'e', 'r', 'r', 'o', 'r', 0xc0, 0xc0};
	bool changed;
	uint64_t hlc;
	int rc;

	decode_state(&rp->state, s->cur);
	hlc = tick(s, rp);
	if (kind == EV_DEL)
		rc = merge_delete(s->cur, reason, sizeof(reason), rp->name,
		    strlen(rp->name), hlc, s->out, &changed);
	else
		rc = merge_purge(s->cur, pval, sizeof(pval), rp->name,
		    strlen(rp->name), hlc, s->out, &changed);
	if (rc == JALIN_EPURGED || rc == JALIN_ENOTFOUND || !changed)
		return;
	assert_int_equal(rc, 0);
	struct event *ev = &s->ev[s->nev];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->node = node;
	ev->hlc = hlc;
	ev->seen = rp->seen;
	set_state(rp, s->out);
	rp->seen |= 1ull << s->nev;
	s->nev++;
}

static void
send_msg(struct sim *s, int node)
{
	struct replica *rp = &s->rep[node];
	struct msg *m;

	if (s->nmsg == MSGS_MAX || rp->state.len == 0)
		return;
	m = &s->msg[s->nmsg++];
	m->bytes = malloc(rp->state.len);
	assert_non_null(m->bytes);
	memcpy(m->bytes, rp->state.p, rp->state.len);
	m->len = rp->state.len;
	m->seen = rp->seen;
}

static void
deliver(struct sim *s, const struct msg *m, int node)
{
	struct replica *rp = &s->rep[node];
	bool changed;

	decode_state(&rp->state, s->cur);
	assert_int_equal(rec_decode(s->other, m->bytes, m->len, 0, NULL), 0);
	assert_int_equal(merge_join(s->cur, s->other, s->out, &changed), 0);
	hlc_observe(&rp->clock, rec_max_hlc(s->other), UINT64_MAX >> 16,
	    UINT64_MAX >> 17);
	if (changed)
		set_state(rp, s->out);
	else
		assert_true(merge_equal(s->cur, s->out));
	rp->seen |= m->seen;
}

static void
sim_init(struct sim *s, uint64_t *rng)
{
	memset(s, 0, sizeof(*s));
	s->rng = rng;
	s->nnodes = 2 + rndn(s, NODES_MAX - 1);
	s->now = 1700000000000ull;
	for (int i = 0; i < s->nnodes; i++) {
		buf_init(&s->rep[i].state, JALIN_RECORD_MAX);
		hlc_init(&s->rep[i].clock, 0);
		s->rep[i].offset = rndn(s, 11) - 5;
		s->rep[i].name = node_names[i];
	}
}

static void
sim_free(struct sim *s)
{
	for (int i = 0; i < s->nnodes; i++)
		buf_free(&s->rep[i].state);
	for (int i = 0; i < s->nmsg; i++)
		free(s->msg[i].bytes);
}

static void
run_history(struct sim *s, bool purges)
{
	int steps = 10 + rndn(s, 40);

	for (int i = 0; i < steps && s->nev < EVENTS_MAX - 1; i++) {
		int node = rndn(s, s->nnodes), r = rndn(s, 100);
		if (r < 40)
			do_put(s, node);
		else if (r < 47)
			do_tomb(s, node, EV_DEL);
		else if (r < 49 && purges)
			do_tomb(s, node, EV_PURGE);
		else if (r < 70)
			send_msg(s, node);
		else if (s->nmsg > 0)
			deliver(s, &s->msg[rndn(s, s->nmsg)], node);
	}
}

/* Every node gets every final state, shuffled, twice, plus stale ones. */
static void
converge(struct sim *s)
{
	int first = s->nmsg, order[2 * NODES_MAX * NODES_MAX], n = 0;

	for (int i = 0; i < s->nnodes; i++) {
		if (s->nmsg < MSGS_MAX && s->rep[i].state.len > 0)
			send_msg(s, i);
	}
	for (int r = 0; r < 2; r++)
		for (int m = first; m < s->nmsg; m++)
			for (int i = 0; i < s->nnodes; i++)
				order[n++] = (m << 4) | i;
	for (int i = n - 1; i > 0; i--) {
		int j = rndn(s, i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int i = 0; i < n; i++)
		deliver(s, &s->msg[order[i] >> 4], order[i] & 15);
	for (int i = 0; i < 20 && s->nmsg > 0; i++)
		deliver(s, &s->msg[rndn(s, s->nmsg)], rndn(s, s->nnodes));
}

static bool
superseded(const struct sim *s, int e, int tag)
{
	for (int j = 0; j < s->nev; j++) {
		const struct event *o = &s->ev[j];
		if (j == e || !(o->seen & (1ull << e)))
			continue;
		if (o->kind == EV_DEL)
			return true;
		if (o->kind == EV_PUT &&
		    (tag < 0 || (o->tags & (1u << (tag - 16)))))
			return true;
	}
	return false;
}

static bool
has_entry(const struct record *r, uint16_t tag, const struct event *ev,
    const char *name)
{
	size_t f, end;

	rec_field(r, tag, &f, &end);
	for (size_t k = f; k < end; k++) {
		const struct rec_entry *en = &r->entry[k];
		const struct rec_dot *d = &r->dot[en->dot];
		const struct rec_origin *o = &r->origin[d->origin];
		if (d->hlc != ev->hlc || o->len != strlen(name) ||
		    memcmp(o->name, name, o->len) != 0)
			continue;
		if (tag == TAG_DELETED)
			return true;
		const char *want = ev->val[tag - 16];
		if (want[0] == '\0')
			return en->vlen == 1 && en->val[0] == 0xc0;
		return val_is(en, want);
	}
	return false;
}

/* The reference model's verdict against the converged state. */
static void
check_reference(struct sim *s, const struct record *r)
{
	int purge = -1;

	for (int e = 0; e < s->nev; e++) {
		const struct event *ev = &s->ev[e];
		if (ev->kind == EV_PURGE &&
		    (purge < 0 || ev->hlc > s->ev[purge].hlc ||
		        (ev->hlc == s->ev[purge].hlc &&
		            strcmp(s->rep[ev->node].name,
		                s->rep[s->ev[purge].node].name) > 0)))
			purge = e;
	}
	if (purge >= 0) {
		assert_true(rec_is_purged(r));
		assert_true(has_entry(
		    r, 0, &s->ev[purge], s->rep[s->ev[purge].node].name));
		return;
	}
	size_t expect = 0;
	for (int e = 0; e < s->nev; e++) {
		const struct event *ev = &s->ev[e];
		const char *name = s->rep[ev->node].name;
		if (ev->kind == EV_DEL && !superseded(s, e, -1)) {
			assert_true(has_entry(r, 0, ev, name));
			expect++;
		}
		for (int t = 0; ev->kind == EV_PUT && t < NTAGS; t++) {
			if (!(ev->tags & (1u << t)) || superseded(s, e, 16 + t))
				continue;
			assert_true(has_entry(r, (uint16_t)(16 + t), ev, name));
			expect++;
		}
	}
	/* ... and nothing else: no value survives that should not. */
	assert_int_equal(r->nentries, expect);
}

static void
check_converged(struct sim *s)
{
	for (int i = 1; i < s->nnodes; i++) {
		assert_int_equal(s->rep[i].state.len, s->rep[0].state.len);
		assert_memory_equal(
		    s->rep[i].state.p, s->rep[0].state.p, s->rep[0].state.len);
	}
	if (s->rep[0].state.len == 0)
		return;
	decode_state(&s->rep[0].state, s->cur);
	check_reference(s, s->cur);
}

static void
alloc_work(struct sim *s)
{
	s->cur = malloc(sizeof(struct record));
	s->other = malloc(sizeof(struct record));
	s->out = malloc(sizeof(struct record));
	assert_true(s->cur && s->other && s->out);
}

static void
free_work(struct sim *s)
{
	free(s->cur);
	free(s->other);
	free(s->out);
}

static void
test_random_histories(void **state)
{
	uint64_t seed = 0x6a616c696eull;
	struct sim *s = malloc(sizeof(*s));
	int events = 0, conflicts = 0, deletes = 0, purged = 0;

	(void)state;
	assert_non_null(s);
	for (int h = 0; h < HISTORIES; h++) {
		sim_init(s, &seed);
		alloc_work(s);
		run_history(s, rndn(s, 5) == 0);
		converge(s);
		check_converged(s);
		events += s->nev;
		if (s->rep[0].state.len > 0) {
			conflicts += rec_conflicts(s->cur) > 0;
			deletes += rec_has_delete(s->cur);
			purged += rec_is_purged(s->cur);
		}
		free_work(s);
		sim_free(s);
	}
	/* The generator must actually exercise the interesting cases. */
	printf("histories %d, events %d, with conflicts %d, deletes %d, "
	       "purged %d\n",
	    HISTORIES, events, conflicts, deletes, purged);
	assert_true(conflicts > HISTORIES / 10);
	assert_true(deletes > HISTORIES / 50);
	assert_true(purged > HISTORIES / 100);
	free(s);
}

/* Decode every snapshot of a history and check the algebra on triples. */
static void
join_enc(const struct msg *a, const struct msg *b, struct buf *out)
{
	struct record *x = malloc(sizeof(*x)), *y = malloc(sizeof(*y)),
	              *z = malloc(sizeof(*z));

	assert_true(x && y && z);
	assert_int_equal(rec_decode(x, a->bytes, a->len, 0, NULL), 0);
	assert_int_equal(rec_decode(y, b->bytes, b->len, 0, NULL), 0);
	assert_int_equal(merge_join(x, y, z, NULL), 0);
	buf_reset(out);
	assert_int_equal(rec_encode(z, out), 0);
	free(x);
	free(y);
	free(z);
}

static struct msg
as_msg(struct buf *b)
{
	return (struct msg){b->p, b->len, 0};
}

static void
assert_buf_eq(const struct buf *a, const struct buf *b)
{
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->p, b->p, a->len);
}

static void
check_algebra(struct sim *s)
{
	struct buf ab, ba, abc, bc, a_bc, aa;
	const struct msg *a = &s->msg[rndn(s, s->nmsg)],
	                 *b = &s->msg[rndn(s, s->nmsg)],
	                 *c = &s->msg[rndn(s, s->nmsg)];

	buf_init(&ab, JALIN_RECORD_MAX);
	buf_init(&ba, JALIN_RECORD_MAX);
	buf_init(&abc, JALIN_RECORD_MAX);
	buf_init(&bc, JALIN_RECORD_MAX);
	buf_init(&a_bc, JALIN_RECORD_MAX);
	buf_init(&aa, JALIN_RECORD_MAX);
	join_enc(a, b, &ab);
	join_enc(b, a, &ba);
	assert_buf_eq(&ab, &ba); /* commutative */
	struct msg mab = as_msg(&ab), mbc;
	join_enc(&mab, c, &abc);
	join_enc(b, c, &bc);
	mbc = as_msg(&bc);
	join_enc(a, &mbc, &a_bc);
	assert_buf_eq(&abc, &a_bc); /* associative */
	join_enc(a, a, &aa);
	assert_int_equal(aa.len, a->len); /* idempotent */
	assert_memory_equal(aa.p, a->bytes, a->len);
	buf_free(&ab);
	buf_free(&ba);
	buf_free(&abc);
	buf_free(&bc);
	buf_free(&a_bc);
	buf_free(&aa);
}

static void
test_join_algebra(void **state)
{
	uint64_t seed = 0x70617375ull;
	struct sim *s = malloc(sizeof(*s));

	(void)state;
	for (int h = 0; h < 2000; h++) {
		sim_init(s, &seed);
		alloc_work(s);
		run_history(s, rndn(s, 5) == 0);
		for (int i = 0; i < 10 && s->nmsg > 0; i++)
			check_algebra(s);
		free_work(s);
		sim_free(s);
	}
	free(s);
}

/* Examples that a reader can follow, with exact outcomes. */
struct ex {
	struct record *a, *b, *out;
	struct buf ba, bb;
};

static void
put1(struct ex *x, struct buf *state, const char *self, uint64_t hlc,
    uint16_t tag, const char *val)
{
	uint8_t plain[32], mp[32];
	char txt[32];
	struct merge_update u = {tag, 0, NULL};
	struct buf cb;
	bool changed;

	if (val != NULL) {
		/* in its state form, as ops writes it (record.h) */
		size_t n =
		    pack_str(txt, sizeof(txt), val, plain, sizeof(plain));
		buf_init_mem(&cb, mp, sizeof(mp), sizeof(mp));
		assert_int_equal(rec_val_canon(plain, (uint32_t)n, &cb), 0);
		u.vlen = (uint32_t)cb.len;
		u.val = mp;
	}
	decode_state(state, x->a);
	assert_int_equal(
	    merge_put(x->a, &u, 1, self, strlen(self), hlc, x->out, &changed),
	    0);
	if (changed) {
		struct buf nb;
		buf_init(&nb, JALIN_RECORD_MAX);
		assert_int_equal(rec_encode(x->out, &nb), 0);
		buf_free(state);
		*state = nb;
	}
}

static void
sync2(struct ex *x)
{
	struct buf nb;

	decode_state(&x->ba, x->a);
	decode_state(&x->bb, x->b);
	assert_int_equal(merge_join(x->a, x->b, x->out, NULL), 0);
	buf_init(&nb, JALIN_RECORD_MAX);
	assert_int_equal(rec_encode(x->out, &nb), 0);
	buf_free(&x->ba);
	buf_free(&x->bb);
	x->ba = nb;
	buf_init(&x->bb, JALIN_RECORD_MAX);
	assert_int_equal(buf_append(&x->bb, nb.p, nb.len), 0);
}

static int
ex_setup(void **state)
{
	struct ex *x = calloc(1, sizeof(*x));

	x->a = malloc(sizeof(struct record));
	x->b = malloc(sizeof(struct record));
	x->out = malloc(sizeof(struct record));
	buf_init(&x->ba, JALIN_RECORD_MAX);
	buf_init(&x->bb, JALIN_RECORD_MAX);
	*state = x;
	return 0;
}

static int
ex_teardown(void **state)
{
	struct ex *x = *state;

	buf_free(&x->ba);
	buf_free(&x->bb);
	free(x->a);
	free(x->b);
	free(x->out);
	free(x);
	return 0;
}

static void
test_different_fields_both_survive(void **state)
{
	struct ex *x = *state;

	put1(x, &x->ba, "jabar", 100, 16, "base");
	sync2(x);
	put1(x, &x->ba, "jabar", 200, 16, "status-by-jabar");
	put1(x, &x->bb, "sulsel", 150, 17, "notes-by-sulsel");
	sync2(x);
	decode_state(&x->ba, x->a);
	assert_int_equal(rec_conflicts(x->a), 0);
	size_t f, e;
	assert_int_equal(rec_field(x->a, 16, &f, &e), 1);
	assert_true(val_is(&x->a->entry[f], "status-by-jabar"));
	assert_int_equal(rec_field(x->a, 17, &f, &e), 1);
	assert_true(val_is(&x->a->entry[f], "notes-by-sulsel"));
}

static void
test_same_field_conflict_and_resolve(void **state)
{
	struct ex *x = *state;
	size_t f, e;

	put1(x, &x->ba, "jabar", 100, 16, "base");
	sync2(x);
	put1(x, &x->ba, "jabar", 200, 16, "from-jabar");
	put1(x, &x->bb, "sulsel", 300, 16, "from-sulsel");
	sync2(x);
	decode_state(&x->ba, x->a);
	assert_int_equal(rec_conflicts(x->a), 1);
	assert_int_equal(rec_field(x->a, 16, &f, &e), 2);
	size_t w = rec_winner(x->a, f, e);
	assert_true(val_is(&x->a->entry[w], "from-sulsel"));
	/* Writing the field again (even the winner's value) resolves it. */
	put1(x, &x->ba, "jabar", 400, 16, "from-sulsel");
	sync2(x);
	decode_state(&x->bb, x->b);
	assert_int_equal(rec_conflicts(x->b), 0);
	assert_int_equal(rec_field(x->b, 16, &f, &e), 1);
}

static void
test_unchanged_value_keeps_version(void **state)
{
	struct ex *x = *state;
	size_t f, e;

	put1(x, &x->ba, "jabar", 100, 16, "same");
	put1(x, &x->ba, "jabar", 200, 16, "same");
	decode_state(&x->ba, x->a);
	assert_int_equal(rec_field(x->a, 16, &f, &e), 1);
	assert_int_equal(x->a->dot[x->a->entry[f].dot].hlc, 100);
}

static void
test_delete_concurrent_edit_survives(void **state)
{
	struct ex *x = *state;
	static const uint8_t reason[] = {0x92, 0xc0, 0xc0};
	bool changed;
	size_t f, e;

	put1(x, &x->ba, "jabar", 100, 16, "a");
	put1(x, &x->ba, "jabar", 110, 17, "b");
	sync2(x);
	decode_state(&x->ba, x->a);
	assert_int_equal(merge_delete(x->a, reason, sizeof(reason), "jabar", 5,
	                     200, x->out, &changed),
	    0);
	assert_true(changed);
	buf_reset(&x->ba);
	assert_int_equal(rec_encode(x->out, &x->ba), 0);
	put1(x, &x->bb, "sulsel", 150, 17, "edited");
	sync2(x);
	decode_state(&x->ba, x->a);
	assert_true(rec_is_live(x->a));
	assert_true(rec_has_delete(x->a));
	assert_int_equal(rec_conflicts(x->a), 1);
	assert_int_equal(rec_field(x->a, 16, &f, &e), 0); /* seen: gone */
	assert_int_equal(rec_field(x->a, 17, &f, &e), 1); /* unseen: kept */
}

static void
test_purge_absorbs_and_refuses_put(void **state)
{
	struct ex *x = *state;
	static const uint8_t pv[] = {
	    0x93, 0xa5, 'e', 'r', 'r', 'o', 'r', 0xc0, 0xc0};
	uint8_t mp[8] = {0xa1, 'x'};
	struct merge_update u = {16, 2, mp};
	bool changed;

	put1(x, &x->ba, "jabar", 100, 16, "secret");
	sync2(x);
	decode_state(&x->ba, x->a);
	assert_int_equal(merge_purge(x->a, pv, sizeof(pv), "jabar", 5, 200,
	                     x->out, &changed),
	    0);
	buf_reset(&x->ba);
	assert_int_equal(rec_encode(x->out, &x->ba), 0);
	put1(x, &x->bb, "sulsel", 300, 17, "later-edit");
	sync2(x);
	decode_state(&x->bb, x->b);
	assert_true(rec_is_purged(x->b));
	assert_int_equal(x->b->nentries, 1);
	assert_false(rec_is_live(x->b));
	/* nothing of the record's values is left in the bytes */
	assert_null(memmem(x->bb.p, x->bb.len, "secret", 6));
	assert_null(memmem(x->bb.p, x->bb.len, "later-edit", 10));
	assert_int_equal(
	    merge_put(x->b, &u, 1, "jabar", 5, 400, x->out, &changed),
	    JALIN_EPURGED);
}

static void
test_put_args_checked(void **state)
{
	struct ex *x = *state;
	uint8_t mp[2] = {0xa1, 'x'};
	struct merge_update u[2] = {{17, 2, mp}, {16, 2, mp}};
	bool changed;

	rec_init(x->a);
	assert_int_equal(merge_put(x->a, u, 2, "jabar", 5, 1, x->out, &changed),
	    JALIN_EINVAL); /* not sorted */
	u[0].tag = 0;
	assert_int_equal(merge_put(x->a, u, 1, "jabar", 5, 1, x->out, &changed),
	    JALIN_EINVAL); /* tag 0 is reserved */
	put1(x, &x->ba, "jabar", 100, 16, "v");
	decode_state(&x->ba, x->a);
	u[0].tag = 17;
	assert_int_equal(
	    merge_put(x->a, u, 1, "jabar", 5, 100, x->out, &changed),
	    JALIN_EINVAL); /* clock not ahead of our own last write */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_different_fields_both_survive, ex_setup, ex_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_same_field_conflict_and_resolve, ex_setup, ex_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_unchanged_value_keeps_version, ex_setup, ex_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_delete_concurrent_edit_survives, ex_setup, ex_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_purge_absorbs_and_refuses_put, ex_setup, ex_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_put_args_checked, ex_setup, ex_teardown),
	    cmocka_unit_test(test_random_histories),
	    cmocka_unit_test(test_join_algebra),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
