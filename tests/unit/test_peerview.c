/*
 * test_peerview.c - the read-only views of the peers (node/peerview.c):
 * the "peers" value of status, a verification result as a map, the
 * per-peer Prometheus families and their sample format. Two nodes in one
 * process (tests/unit/fx_repl.h) linked and replicating, a configured peer
 * that never connects, and fake peers to catch up with, stall and drop;
 * the msgpack written is decoded and every value asserted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <msgpack.h>

#include "err.h"
#include "hlc.h"
#include "peer.h"
#include "peer_impl.h"
#include "conn.h"
#include "store.h"
#include "feed.h"
#include "apply.h"
#include "verify.h"
#include "repl.h"
#include "peerview.h"
#include "fx_repl.h"

#define ME    "jabar"
#define THEM  "banten"
#define OTHER "sulsel" /* configured with an address, never connected */

static const uint8_t EPOCH_A[16] = {
    0xa1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

struct t {
	struct fx *f;
	struct fx_node *a, *b;
	struct fx_fake *fk;
	struct buf st, out;
	struct msg_batch bt;
	msgpack_unpacked u;
	bool unpacked;
	struct evbuffer *eb;
	char *text; /* the metrics as a string */
	int vdone;
	struct verify_result vr;
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->f = fx_new();
	t->a = fx_node_add(t->f, ME);
	fx_node_peer(t->a, THEM, FX_COLLS_ALL, false);
	fx_node_peer(t->a, OTHER, FX_COLLS_ALL, false);
	buf_init(&t->st, JALIN_RECORD_MAX);
	buf_init(&t->out, 4096);
	msgpack_unpacked_init(&t->u);
	t->eb = evbuffer_new();
	fx_log_capture(t->f);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	fx_free(t->f);
	buf_free(&t->st);
	buf_free(&t->out);
	msgpack_unpacked_destroy(&t->u);
	evbuffer_free(t->eb);
	free(t->text);
	free(t);
	return 0;
}

/* Start a; its OTHER peer gets an address (set after start: the harness
 * dials nobody, and the view only reads it). */
static void
start_a(struct t *t)
{
	struct peer *o;

	fx_node_start(t->a);
	o = fx_peer(t->a, OTHER);
	snprintf(o->cfg.address.host, sizeof(o->cfg.address.host),
	    "sulsel.example.id");
	o->cfg.address.port = 7420;
	o->cfg.address.set = true;
}

/* ---- decoding ---------------------------------------------------------- */

/* Pack status of nd's peers into t->out and decode it: the array. */
static const msgpack_object *
status(struct t *t, struct fx_node *nd)
{
	msgpack_packer pk;
	size_t off = 0;

	buf_reset(&t->out);
	msgpack_packer_init(&pk, &t->out, buf_pk_write);
	peerview_status(nd ? nd->n.peers : NULL, &pk, &t->out);
	assert_int_equal(msgpack_unpack_next(
	                     &t->u, (const char *)t->out.p, t->out.len, &off),
	    MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, t->out.len);
	assert_int_equal(t->u.data.type, MSGPACK_OBJECT_ARRAY);
	return &t->u.data;
}

static bool
str_is(const msgpack_object *o, const char *s)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
	    memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* The value of key k in map m (fails if absent). */
static const msgpack_object *
get(const msgpack_object *m, const char *k)
{
	assert_int_equal(m->type, MSGPACK_OBJECT_MAP);
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (str_is(&m->via.map.ptr[i].key, k))
			return &m->via.map.ptr[i].val;
	fail_msg("no key %s", k);
	return NULL;
}

/* The map of the peer called name in a status array. */
static const msgpack_object *
peer_map(const msgpack_object *arr, const char *name)
{
	for (uint32_t i = 0; i < arr->via.array.size; i++)
		if (str_is(get(&arr->via.array.ptr[i], "name"), name))
			return &arr->via.array.ptr[i];
	fail_msg("no peer %s", name);
	return NULL;
}

static void
assert_str(const msgpack_object *m, const char *k, const char *want)
{
	const msgpack_object *o = get(m, k);

	if (!str_is(o, want)) {
		if (o->type == MSGPACK_OBJECT_STR)
			fail_msg("%s: \"%.*s\", want \"%s\"", k,
			    (int)o->via.str.size, o->via.str.ptr, want);
		fail_msg("%s: type %d, want \"%s\"", k, o->type, want);
	}
}

static void
assert_nil(const msgpack_object *m, const char *k)
{
	if (get(m, k)->type != MSGPACK_OBJECT_NIL)
		fail_msg("%s: type %d, want nil", k, get(m, k)->type);
}

static uint64_t
u64(const msgpack_object *m, const char *k)
{
	const msgpack_object *o = get(m, k);

	assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	return o->via.u64;
}

/* Any integer (negative ones too). */
static int64_t
i64(const msgpack_object *m, const char *k)
{
	const msgpack_object *o = get(m, k);

	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (int64_t)o->via.u64;
	assert_int_equal(o->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
	return o->via.i64;
}

static double
dbl(const msgpack_object *m, const char *k)
{
	const msgpack_object *o = get(m, k);

	assert_true(o->type == MSGPACK_OBJECT_FLOAT64 ||
	    o->type == MSGPACK_OBJECT_FLOAT32);
	return o->via.f64;
}

static bool
boolean(const msgpack_object *m, const char *k)
{
	const msgpack_object *o = get(m, k);

	assert_int_equal(o->type, MSGPACK_OBJECT_BOOLEAN);
	return o->via.boolean;
}

/* A peer's map of status: exactly these keys, in this order. */
static void
assert_keys(const msgpack_object *m)
{
	static const char *keys[] = {"name", "address", "state", "lag_records",
	    "lag_seconds", "in_lag_records", "last_contact", "last_error",
	    "connected_since", "catch_up", "cert_expires",
	    "cert_expires_in_days", "cert_warning", "verified_at",
	    "verify_result", "records_in", "records_out", "refused_records",
	    "refused_authority", "refused_origin", "refused_erasure",
	    "refused_schema", "refused_signature", "last_refusal",
	    "last_refusal_at", "bytes_in", "bytes_out", "errors",
	    "bytes_delivered", "records_delivered", "link_in_bytes_per_second",
	    "link_out_bytes_per_second", "batch_bytes", "failed_attempts",
	    "last_failure", "last_failure_at", "link_problem"};
	size_t n = sizeof(keys) / sizeof(keys[0]);

	assert_int_equal(m->type, MSGPACK_OBJECT_MAP);
	assert_int_equal(m->via.map.size, n);
	for (size_t i = 0; i < n; i++)
		if (!str_is(&m->via.map.ptr[i].key, keys[i]))
			fail_msg("key %zu is not %s", i, keys[i]);
}

/* m[k] is ms formatted as hlc_format_ms does. */
static void
assert_time(const msgpack_object *m, const char *k, uint64_t ms)
{
	char want[32];

	assert_true(ms != 0);
	assert_int_equal(hlc_format_ms(ms, want, sizeof(want)), 0);
	assert_str(m, k, want);
}

/* Key k of m is a time from lo to hi (ms): a connected peer's last
 * contact is "now", read while status was packed. */
static void
assert_time_within(
    const msgpack_object *m, const char *k, uint64_t lo, uint64_t hi)
{
	const msgpack_object *o = get(m, k);
	char a[32], b[32], got[32];

	assert_int_equal(hlc_format_ms(lo, a, sizeof(a)), 0);
	assert_int_equal(hlc_format_ms(hi, b, sizeof(b)), 0);
	assert_int_equal(o->type, MSGPACK_OBJECT_STR);
	assert_true(
	    o->via.str.size == strlen(a) && o->via.str.size < sizeof(got));
	memcpy(got, o->via.str.ptr, o->via.str.size);
	got[o->via.str.size] = '\0';
	/* fixed-width ISO 8601 in UTC: text order is time order */
	if (strcmp(got, a) < 0 || strcmp(got, b) > 0)
		fail_msg("%s: \"%s\", want from %s to %s", k, got, a, b);
}

/* The metrics of nd as a string (t->text). */
static const char *
metrics(struct t *t, struct fx_node *nd)
{
	size_t n;

	evbuffer_drain(t->eb, evbuffer_get_length(t->eb));
	peerview_metrics(nd ? nd->n.peers : NULL, t->eb);
	n = evbuffer_get_length(t->eb);
	free(t->text);
	t->text = malloc(n + 1);
	evbuffer_remove(t->eb, t->text, n);
	t->text[n] = '\0';
	return t->text;
}

/* The metrics hold this exact line. */
static void
assert_line(struct t *t, const char *fmt, ...)
{
	char want[512], *at;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	n = strlen(want);
	for (at = t->text; (at = strstr(at, want)) != NULL; at += n)
		if ((at == t->text || at[-1] == '\n') && at[n] == '\n')
			return;
	fail_msg("no line \"%s\" in the metrics", want);
}

/* ---- records and nodes ------------------------------------------------- */

/* An lks record idn written on nd by itself. */
static void
put_local(struct t *t, struct fx_node *nd, unsigned idn, const char *origin)
{
	fx_state_coll(
	    &t->st, COLL_LKS, origin, fx_hlc(-1000 + (int)idn), NULL, 0);
	fx_put(nd, COLL_LKS, idn, &t->st);
}

static bool
idle2(void *arg)
{
	struct t *t = arg;
	struct peer *pa = fx_peer(t->a, THEM), *pb = fx_peer(t->b, ME);

	return apply_idle(pa) && feed_idle(t->a->n.peers, pa) &&
	    apply_idle(pb) && feed_idle(t->b->n.peers, pb);
}

/* a holds 3 records, b 1; linked and idle both ways. */
static void
two_nodes(struct t *t)
{
	t->b = fx_node_add(t->f, THEM);
	fx_node_peer(t->b, ME, FX_COLLS_ALL, false);
	start_a(t);
	fx_node_start(t->b);
	for (unsigned i = 1; i <= 3; i++)
		put_local(t, t->a, i, ME);
	put_local(t, t->b, 0x100, THEM);
	fx_link(t->a, t->b);
	assert_true(fx_run(t->f, idle2, t));
}

static void
on_done(void *ctx, const struct verify_result *r)
{
	struct t *t = ctx;

	t->vdone++;
	t->vr = *r;
}

static void
verify(struct t *t)
{
	struct jalin_err err;

	jalin_err_clear(&err);
	t->vdone = 0;
	assert_int_equal(
	    verify_request(t->a->n.peers, THEM, strlen(THEM), on_done, t, &err),
	    0);
	for (int i = 0; i < 1000 && t->vdone == 0; i++) {
		fx_settle(t->f);
		if (t->vdone == 0 && idle2(t))
			verify_tick(t->a->n.peers, hlc_wall_ms() + 1500);
	}
	assert_int_equal(t->vdone, 1);
}

/* A fake THEM connected to a (started), HELLO at head in EPOCH_A, the
 * node's SUB read. */
static void
fake_at(struct t *t, uint64_t head)
{
	if (!t->a->started)
		start_a(t);
	t->fk = fx_fake_new(t->a, THEM, false);
	fx_fake_expect(t->fk, MSG_HELLO, NULL);
	fx_fake_hello(t->fk, EPOCH_A, head);
	fx_fake_expect(t->fk, MSG_SUB, NULL);
}

/* The fake sends CHANGES (from, upto] with records from+1..upto. */
static void
fake_changes(struct t *t, uint64_t from, uint64_t upto)
{
	uint8_t id[16];

	fx_state_coll(&t->st, COLL_LKS, THEM, fx_hlc(-1000), NULL, 0);
	msg_changes_begin(
	    &t->bt, fx_fake_buf(t->fk), EPOCH_A, from, 0, hlc_wall_ms());
	for (uint64_t s = from + 1; s <= upto; s++) {
		fx_id(id, 0x200 + (unsigned)s);
		msg_batch_rec(&t->bt, s, COLL_LKS, id, t->st.p, t->st.len);
	}
	msg_changes_end(&t->bt, upto);
	fx_fake_send(t->fk, fx_fake_buf(t->fk));
	fx_fake_expect(t->fk, MSG_ACK, NULL);
}

/* ---- without peers ----------------------------------------------------- */

static void
test_no_peers(void **state)
{
	struct t *t = *state;

	assert_int_equal(status(t, NULL)->via.array.size, 0);
	assert_int_equal(t->out.len, 1); /* fixarray 0 */
	assert_string_equal(metrics(t, NULL), "");
}

static void
test_sample(void **state)
{
	struct t *t = *state;
	static const struct {
		double v;
		const char *want;
	} c[] = {
	    {0, "0\n"},
	    {7, "7\n"},
	    {-3, "-3\n"},
	    {1.5, "1.500\n"},
	    {0.1234, "0.123\n"},
	    {1733580000.25, "1733580000.250\n"},
	    {12345678901.0, "12345678901\n"},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		evbuffer_drain(t->eb, evbuffer_get_length(t->eb));
		peerview_sample(t->eb, c[i].v);
		char got[64] = {0};
		evbuffer_copyout(t->eb, got, sizeof(got) - 1);
		assert_string_equal(got, c[i].want);
	}
}

/* ---- a verification result --------------------------------------------- */

static const msgpack_object *
pack_verify(struct t *t, const struct verify_result *r)
{
	msgpack_packer pk;
	size_t off = 0;

	buf_reset(&t->out);
	msgpack_packer_init(&pk, &t->out, buf_pk_write);
	peerview_pack_verify(r, &pk);
	assert_int_equal(msgpack_unpack_next(
	                     &t->u, (const char *)t->out.p, t->out.len, &off),
	    MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, t->out.len);
	assert_int_equal(t->u.data.via.map.size, 9);
	return &t->u.data;
}

static void
test_pack_verify(void **state)
{
	struct t *t = *state;
	struct verify_result r = {0};
	const msgpack_object *m;
	uint64_t at = 1733580000123ull;

	snprintf(r.peer, sizeof(r.peer), THEM);
	snprintf(r.text, sizeof(r.text), "in sync: 4 records compared");
	r.equal = true;
	r.at_ms = r.verified_ms = at;
	r.compared = 4;
	m = pack_verify(t, &r);
	assert_str(m, "peer", THEM);
	assert_str(m, "result", "in sync: 4 records compared");
	assert_true(boolean(m, "in_sync"));
	assert_time(m, "verified_at", at);
	assert_int_equal(u64(m, "compared"), 4);
	assert_int_equal(u64(m, "differing"), 0);
	assert_int_equal(u64(m, "repaired"), 0);
	assert_int_equal(u64(m, "corrupt"), 0);
	assert_nil(m, "where");

	/* differences found, never verified equal */
	r.equal = false;
	r.verified_ms = 0;
	r.compared = 10;
	r.differing = 2;
	r.repaired = 1;
	r.corrupt = 1;
	snprintf(r.text, sizeof(r.text), "2 differ");
	snprintf(r.where, sizeof(r.where), "lks 1, lks 2");
	m = pack_verify(t, &r);
	assert_false(boolean(m, "in_sync"));
	assert_nil(m, "verified_at");
	assert_int_equal(u64(m, "compared"), 10);
	assert_int_equal(u64(m, "differing"), 2);
	assert_int_equal(u64(m, "repaired"), 1);
	assert_int_equal(u64(m, "corrupt"), 1);
	assert_str(m, "where", "lks 1, lks 2");

	/* equal digests but the round failed: not in sync */
	r.equal = true;
	r.rc = JALIN_EPROTO;
	m = pack_verify(t, &r);
	assert_false(boolean(m, "in_sync"));
}

/* ---- status ------------------------------------------------------------ */

/* A configured peer that never connected: down, everything nil or 0. */
static void
test_status_down(void **state)
{
	struct t *t = *state;
	const msgpack_object *arr, *m;

	start_a(t);
	arr = status(t, t->a);
	assert_int_equal(arr->via.array.size, 2);
	m = peer_map(arr, OTHER);
	assert_keys(m);
	assert_str(m, "address", "sulsel.example.id:7420");
	assert_str(m, "state", "down");
	assert_int_equal(u64(m, "lag_records"), 0);
	assert_true(dbl(m, "lag_seconds") == 0.0);
	assert_int_equal(u64(m, "in_lag_records"), 0);
	assert_nil(m, "last_contact");
	assert_nil(m, "last_error");
	assert_nil(m, "connected_since");
	assert_nil(m, "catch_up");
	assert_nil(m, "cert_expires");
	assert_nil(m, "cert_expires_in_days");
	assert_false(boolean(m, "cert_warning"));
	assert_nil(m, "verified_at");
	assert_nil(m, "verify_result");
	static const char *zero[] = {"records_in", "records_out",
	    "refused_records", "bytes_in", "bytes_out", "errors",
	    "bytes_delivered", "records_delivered", "failed_attempts"};
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		assert_int_equal(u64(m, zero[i]), 0);
	assert_true(dbl(m, "link_in_bytes_per_second") == 0.0);
	assert_true(dbl(m, "link_out_bytes_per_second") == 0.0);
	assert_int_equal(
	    u64(m, "batch_bytes"), feed_batch(fx_peer(t->a, OTHER)));
	assert_true(u64(m, "batch_bytes") > 0);
	assert_nil(m, "last_failure");
	assert_nil(m, "last_failure_at");
	assert_nil(m, "link_problem");
	/* the other one has no address: only accepted */
	m = peer_map(arr, THEM);
	assert_nil(m, "address");
	assert_str(m, "state", "down");
}

/* Linked, replicated, idle: live, nothing lagging, the counters as the
 * peer's own; after a verification its result. */
static void
test_status_live(void **state)
{
	struct t *t = *state;
	const msgpack_object *m;
	struct peer *p;
	const struct peer_counters *k;
	uint64_t before;

	two_nodes(t);
	p = fx_peer(t->a, THEM);
	k = peer_counters(p);
	before = conn_last_contact_ms(p);
	m = peer_map(status(t, t->a), THEM);
	assert_keys(m);
	assert_str(m, "state", "live");
	assert_int_equal(u64(m, "lag_records"), 0);
	assert_true(dbl(m, "lag_seconds") == 0.0);
	assert_int_equal(u64(m, "in_lag_records"), 0);
	assert_time_within(m, "last_contact", before, conn_last_contact_ms(p));
	assert_time(m, "connected_since", conn_connected_ms(p));
	assert_nil(m, "last_error");
	assert_nil(m, "catch_up");
	assert_int_equal(u64(m, "records_in"), 1);
	assert_int_equal(u64(m, "records_out"), 3);
	assert_int_equal(u64(m, "records_delivered"), 3);
	assert_int_equal(u64(m, "refused_records"), 0);
	assert_int_equal(u64(m, "errors"), 0);
	assert_true(k->bytes_in > 0 && k->bytes_out > 0);
	assert_int_equal(u64(m, "bytes_in"), k->bytes_in);
	assert_int_equal(u64(m, "bytes_out"), k->bytes_out);
	assert_true(k->bytes_acked > 0);
	assert_int_equal(u64(m, "bytes_delivered"), k->bytes_acked);
	assert_true(dbl(m, "link_in_bytes_per_second") > 0);
	assert_true(dbl(m, "link_out_bytes_per_second") == feed_rate(p));
	assert_int_equal(u64(m, "failed_attempts"), 0);
	assert_nil(m, "verified_at");
	assert_nil(m, "verify_result");
	/* b's view of a: its one record out, our three in */
	m = peer_map(status(t, t->b), ME);
	assert_str(m, "state", "live");
	assert_int_equal(u64(m, "records_in"), 3);
	assert_int_equal(u64(m, "records_out"), 1);
	assert_int_equal(u64(m, "records_delivered"), 1);

	verify(t);
	assert_string_equal(t->vr.text, "in sync: 4 records compared");
	m = peer_map(status(t, t->a), THEM);
	assert_time(m, "verified_at", verify_last(p)->verified_ms);
	assert_str(m, "verify_result", "in sync: 4 records compared");
}

/* A write not yet sent: one record of lag, its age in seconds. */
static void
test_status_lag(void **state)
{
	struct t *t = *state;
	const msgpack_object *m;
	struct peer *p;
	uint64_t lo, hi;
	double lag;

	two_nodes(t);
	p = fx_peer(t->a, THEM);
	put_local(t, t->a, 9, ME); /* written 991 ms ago by its HLC */
	lo = feed_lag_ms(t->a->n.peers, p);
	m = peer_map(status(t, t->a), THEM);
	hi = feed_lag_ms(t->a->n.peers, p);
	assert_true(lo >= 991 && lo <= hi);
	assert_int_equal(u64(m, "lag_records"), 1);
	lag = dbl(m, "lag_seconds");
	assert_true(lag >= (double)lo / 1000.0 && lag <= (double)hi / 1000.0);
	metrics(t, t->a);
	assert_line(t, "jalin_peer_lag_records{peer=\"" THEM "\"} 1");
	assert_true(fx_run(t->f, idle2, t));
	m = peer_map(status(t, t->a), THEM);
	assert_int_equal(u64(m, "lag_records"), 0);
	assert_int_equal(u64(m, "records_out"), 4);
}

/* A certificate that expires in 10 days: its time, the days, a warning;
 * in 100 days: no warning. */
static void
test_status_cert(void **state)
{
	struct t *t = *state;
	const msgpack_object *m;
	struct peer *p;

	start_a(t);
	p = fx_peer(t->a, THEM);
	p->cert_expiry_ms = hlc_wall_ms() + 10ull * 86400000 + 3600000;
	m = peer_map(status(t, t->a), THEM);
	assert_time(m, "cert_expires", p->cert_expiry_ms);
	assert_int_equal(i64(m, "cert_expires_in_days"), 10);
	assert_true(boolean(m, "cert_warning"));
	p->cert_expiry_ms = hlc_wall_ms() + 100ull * 86400000 + 3600000;
	m = peer_map(status(t, t->a), THEM);
	assert_int_equal(i64(m, "cert_expires_in_days"), 100);
	assert_false(boolean(m, "cert_warning"));
	/* expired two days ago */
	p->cert_expiry_ms = hlc_wall_ms() - 2ull * 86400000 - 3600000;
	m = peer_map(status(t, t->a), THEM);
	assert_int_equal(i64(m, "cert_expires_in_days"), -2);
	assert_true(boolean(m, "cert_warning"));
	metrics(t, t->a);
	assert_line(t,
	    "jalin_peer_cert_expiry_timestamp_seconds{peer=\"" THEM "\"} "
	    "%.3f",
	    p->cert_expiry_ms / 1000.0);
}

/* Catching up with a peer 5 entries ahead: progress, then its rate and
 * an estimate once entries arrive. */
static void
test_status_catching_up(void **state)
{
	struct t *t = *state;
	const msgpack_object *m, *cu;
	struct apply_progress pr;
	struct peer *p;

	fake_at(t, 5);
	p = fx_peer(t->a, THEM);
	m = peer_map(status(t, t->a), THEM);
	assert_str(m, "state", "catching_up");
	assert_int_equal(u64(m, "in_lag_records"), 5);
	cu = get(m, "catch_up");
	assert_int_equal(cu->type, MSGPACK_OBJECT_MAP);
	assert_int_equal(cu->via.map.size, 6);
	assert_int_equal(u64(cu, "done"), 0);
	assert_int_equal(u64(cu, "total"), 5);
	assert_true(dbl(cu, "rate") == 0.0);
	assert_nil(cu, "eta_seconds");

	fake_changes(t, 0, 2);
	assert_true(apply_catch_up(p, &pr));
	m = peer_map(status(t, t->a), THEM);
	assert_str(m, "state", "catching_up");
	assert_int_equal(u64(m, "in_lag_records"), 3);
	assert_int_equal(u64(m, "records_in"), 2);
	cu = get(m, "catch_up");
	assert_int_equal(u64(cu, "done"), 2);
	assert_int_equal(u64(cu, "total"), 5);
	assert_int_equal(u64(cu, "bytes_received"), pr.bytes);
	assert_true(pr.bytes > 0);
	assert_true(dbl(cu, "rate") > 0);
	assert_true(dbl(cu, "link_bytes_per_second") > 0);
	/* 3 entries left at the bytes each took so far, at the link's rate */
	double link = dbl(cu, "link_bytes_per_second");
	double want = 3.0 * (double)pr.bytes / 2.0 / link;
	double eta = dbl(cu, "eta_seconds");
	assert_true(eta > want * 0.5 && eta < want * 2);

	/* nothing arrived for 10 s (the link's window is 8 s): the estimate
	 * falls back to the entries left at the rate entries came so far */
	for (unsigned i = 0; i < JALIN_RATE_WINDOW; i++)
		if (p->rx_sec[i] != 0)
			p->rx_sec[i] -= 10;
	m = peer_map(status(t, t->a), THEM);
	assert_true(dbl(m, "link_in_bytes_per_second") == 0.0);
	cu = get(m, "catch_up");
	assert_true(dbl(cu, "link_bytes_per_second") == 0.0);
	assert_true(dbl(cu, "rate") > 0);
	assert_true(dbl(cu, "eta_seconds") == 3.0 / dbl(cu, "rate"));

	metrics(t, t->a);
	assert_line(t, "jalin_peer_in_lag_records{peer=\"" THEM "\"} 3");
	assert_line(
	    t, "jalin_peer_state{peer=\"" THEM "\",state=\"catching_up\"} 1");
	assert_line(t, "jalin_peer_state{peer=\"" THEM "\",state=\"live\"} 0");
	assert_line(t,
	    "jalin_peer_records_total{peer=\"" THEM "\",direction=\"in\"} 2");
	assert_line(t,
	    "jalin_peer_batches_total{peer=\"" THEM "\",direction=\"in\"} 1");
}

/* Nothing received for the stall timeout: stalled, with its error. */
static void
test_status_stalled(void **state)
{
	struct t *t = *state;
	uint64_t stall;
	const msgpack_object *m;
	struct conn *c;

	fake_at(t, 0);
	stall = t->a->n.cfg->stall_timeout * 1000ull;
	c = fx_peer(t->a, THEM)->conn;
	c->last_rx_ms = hlc_wall_ms() - 2 * stall;
	c->last_tx_ms = hlc_wall_ms() - stall;
	fx_tick(t->a);
	m = peer_map(status(t, t->a), THEM);
	assert_str(m, "state", "stalled");
	assert_str(m, "last_error", "stalled: nothing received");
	metrics(t, t->a);
	assert_line(
	    t, "jalin_peer_state{peer=\"" THEM "\",state=\"stalled\"} 1");
	assert_line(
	    t, "jalin_peer_state{peer=\"" THEM "\",state=\"catching_up\"} 0");
	assert_line(t, "jalin_peer_state{peer=\"" OTHER "\",state=\"down\"} 1");
}

/* Connections that drop before we caught up: failed attempts, why and
 * when; three before any batch arrived: the link problem in words. */
static void
test_status_drops(void **state)
{
	struct t *t = *state;
	const msgpack_object *m;
	const char *why;
	uint64_t at, rx;
	char want[400];

	fake_at(t, 4);
	fake_changes(t, 0, 1);
	fx_fake_hangup(t->fk);
	fx_settle(t->f);
	m = peer_map(status(t, t->a), THEM);
	assert_str(m, "state", "down");
	assert_int_equal(u64(m, "failed_attempts"), 1);
	assert_int_equal(apply_failures(fx_peer(t->a, THEM), &why, &at), 1);
	assert_non_null(why);
	assert_str(m, "last_failure", why);
	assert_true(strlen(why) > 0);
	assert_time(m, "last_failure_at", at);
	assert_nil(m, "link_problem");
	assert_int_equal(
	    u64(m, "errors"), peer_counters(fx_peer(t->a, THEM))->errors);
	/* three more that end before any batch */
	for (int i = 0; i < JALIN_STUCK_ATTEMPTS; i++) {
		fake_at(t, 4);
		fx_fake_hangup(t->fk);
		fx_settle(t->f);
	}
	m = peer_map(status(t, t->a), THEM);
	assert_int_equal(u64(m, "failed_attempts"), 1 + JALIN_STUCK_ATTEMPTS);
	assert_int_equal(
	    apply_stuck(fx_peer(t->a, THEM), &rx), JALIN_STUCK_ATTEMPTS);
	snprintf(want, sizeof(want),
	    "%u connections in a row ended before one batch of its changes "
	    "arrived (the last after %llu KB): the link drops before a batch "
	    "gets through; it sends smaller batches after each drop",
	    JALIN_STUCK_ATTEMPTS, (unsigned long long)(rx >> 10));
	assert_str(m, "link_problem", want);
	metrics(t, t->a);
	assert_line(t, "jalin_peer_failed_attempts{peer=\"" THEM "\"} %d",
	    1 + JALIN_STUCK_ATTEMPTS);
	assert_line(t, "jalin_peer_failed_attempts{peer=\"" OTHER "\"} 0");
}

/* Batches of ours that never get acknowledged: the other link problem. */
static void
test_status_feed_stuck(void **state)
{
	struct t *t = *state;
	const msgpack_object *m;
	uint64_t batch;
	char want[400];

	start_a(t);
	for (unsigned i = 1; i <= 3; i++)
		put_local(t, t->a, i, ME);
	for (int i = 0; i < JALIN_STUCK_ATTEMPTS; i++) {
		fake_at(t, 0);
		msg_enc_live(fx_fake_buf(t->fk), EPOCH_A, 0);
		fx_fake_send(t->fk, fx_fake_buf(t->fk));
		msg_enc_sub(fx_fake_buf(t->fk), NULL, 0);
		fx_fake_send(t->fk, fx_fake_buf(t->fk));
		fx_fake_expect(t->fk, MSG_CHANGES, NULL);
		fx_fake_hangup(t->fk);
		fx_settle(t->f);
	}
	assert_int_equal(
	    feed_stuck(fx_peer(t->a, THEM), &batch), JALIN_STUCK_ATTEMPTS);
	m = peer_map(status(t, t->a), THEM);
	snprintf(want, sizeof(want),
	    "%u connections in a row ended before it acknowledged one batch "
	    "of our changes (the last was %llu KB): the link drops before a "
	    "batch gets through; batches now aim at %llu KB",
	    JALIN_STUCK_ATTEMPTS, (unsigned long long)(batch >> 10),
	    (unsigned long long)(feed_batch(fx_peer(t->a, THEM)) >> 10));
	assert_str(m, "link_problem", want);
	assert_int_equal(u64(m, "records_out"), 3 * JALIN_STUCK_ATTEMPTS);
	assert_int_equal(u64(m, "records_delivered"), 0);
}

/* ---- metrics ----------------------------------------------------------- */

static void
test_metrics_live(void **state)
{
	struct t *t = *state;
	const struct peer_counters *k;
	struct peer *p;
	const char *s;

	two_nodes(t);
	p = fx_peer(t->a, THEM);
	k = peer_counters(p);
	verify(t);
	s = metrics(t, t->a);
	/* the families in order, each with its HELP and TYPE first */
	assert_non_null(strstr(s,
	    "# HELP jalin_peer_state 1 for the peer's current state, 0 for the "
	    "others.\n# TYPE jalin_peer_state gauge\n"
	    "jalin_peer_state{peer=\"" THEM "\",state=\"down\"} 0\n"));
	static const char *states[] = {"down", "connecting", "handshaking",
	    "catching_up", "live", "stalled", "resyncing", "refused"};
	for (int i = 0; i < 8; i++) {
		assert_line(t,
		    "jalin_peer_state{peer=\"" THEM "\",state=\"%s\"} %d",
		    states[i], i == PEER_LIVE);
		assert_line(t,
		    "jalin_peer_state{peer=\"" OTHER "\",state=\"%s\"} %d",
		    states[i], i == PEER_DOWN);
	}
	assert_line(t, "# TYPE jalin_peer_lag_records gauge");
	assert_line(t,
	    "# HELP jalin_peer_lag_records Our changes the peer has not "
	    "acknowledged.");
	assert_line(t, "jalin_peer_lag_records{peer=\"" THEM "\"} 0");
	assert_line(t, "jalin_peer_lag_seconds{peer=\"" THEM "\"} 0");
	assert_line(t, "jalin_peer_in_lag_records{peer=\"" THEM "\"} 0");
	assert_line(t, "# TYPE jalin_peer_refused_records_total counter");
	assert_line(t, "jalin_peer_refused_records_total{peer=\"" THEM "\"} 0");
	assert_line(t, "jalin_peer_clock_skew_seconds{peer=\"" OTHER "\"} 0");
	assert_line(
	    t, "jalin_peer_cert_expiry_timestamp_seconds{peer=\"" THEM "\"} 0");
	assert_line(t,
	    "jalin_peer_verified_timestamp_seconds{peer=\"" THEM "\"} %.3f",
	    verify_last(p)->verified_ms / 1000.0);
	assert_line(
	    t, "jalin_peer_verified_timestamp_seconds{peer=\"" OTHER "\"} 0");
	assert_line(t,
	    "jalin_peer_last_contact_timestamp_seconds{peer=\"" OTHER "\"} 0");
	assert_line(
	    t, "jalin_peer_link_in_bytes_per_second{peer=\"" OTHER "\"} 0");
	assert_line(
	    t, "jalin_peer_link_out_bytes_per_second{peer=\"" OTHER "\"} 0");
	assert_line(t, "jalin_peer_batch_bytes{peer=\"" THEM "\"} %llu",
	    (unsigned long long)feed_batch(p));
	assert_line(t, "jalin_peer_failed_attempts{peer=\"" THEM "\"} 0");
	assert_line(t, "# TYPE jalin_peer_bytes_total counter");
	assert_line(t,
	    "jalin_peer_bytes_total{peer=\"" THEM "\",direction=\"in\"} %llu",
	    (unsigned long long)k->bytes_in);
	assert_line(t,
	    "jalin_peer_bytes_total{peer=\"" THEM "\",direction=\"out\"} %llu",
	    (unsigned long long)k->bytes_out);
	assert_line(t,
	    "jalin_peer_records_total{peer=\"" THEM "\",direction=\"in\"} 1");
	assert_line(t,
	    "jalin_peer_records_total{peer=\"" THEM "\",direction=\"out\"} 3");
	assert_line(t,
	    "jalin_peer_delivered_bytes_total{peer=\"" THEM
	    "\",direction=\"in\"} %llu",
	    (unsigned long long)k->wire_in);
	assert_line(t,
	    "jalin_peer_delivered_bytes_total{peer=\"" THEM
	    "\",direction=\"out\"} %llu",
	    (unsigned long long)k->bytes_acked);
	assert_line(t,
	    "jalin_peer_delivered_records_total{peer=\"" THEM
	    "\",direction=\"in\"} 1");
	assert_line(t,
	    "jalin_peer_delivered_records_total{peer=\"" THEM
	    "\",direction=\"out\"} 3");
	assert_line(t,
	    "jalin_peer_batches_total{peer=\"" THEM
	    "\",direction=\"out\"} %llu",
	    (unsigned long long)k->batches_out);
	assert_true(k->batches_out >= 1);
	assert_line(t,
	    "jalin_peer_records_total{peer=\"" OTHER "\",direction=\"out\"} 0");
	assert_line(
	    t, "# HELP jalin_peer_errors_total Connection errors by kind.");
	for (int e = 0; e < EK_COUNT; e++)
		assert_line(t,
		    "jalin_peer_errors_total{peer=\"" THEM "\",kind=\"%s\"} 0",
		    peer_err_kind_name(e));
}

/* Errors counted by kind; the clock skew and last contact as seconds. */
static void
test_metrics_errors(void **state)
{
	struct t *t = *state;
	struct peer *p;

	start_a(t);
	p = fx_peer(t->a, THEM);
	peer_count_error(p, EK_TIMEOUT);
	peer_count_error(p, EK_TIMEOUT);
	peer_count_error(p, EK_SKEW);
	p->skew_ms = -2500;
	p->skew_seen = true;
	p->last_contact_ms = 1733580000123ull;
	metrics(t, t->a);
	assert_line(t,
	    "jalin_peer_errors_total{peer=\"" THEM "\",kind=\"%s\"} 2",
	    peer_err_kind_name(EK_TIMEOUT));
	assert_line(t,
	    "jalin_peer_errors_total{peer=\"" THEM "\",kind=\"%s\"} 1",
	    peer_err_kind_name(EK_SKEW));
	assert_line(t,
	    "jalin_peer_errors_total{peer=\"" OTHER "\",kind=\"%s\"} 0",
	    peer_err_kind_name(EK_SKEW));
	assert_line(
	    t, "jalin_peer_clock_skew_seconds{peer=\"" THEM "\"} -2.500");
	assert_line(t,
	    "jalin_peer_last_contact_timestamp_seconds{peer=\"" THEM
	    "\"} 1733580000.123");
	const msgpack_object *m = peer_map(status(t, t->a), THEM);
	assert_int_equal(u64(m, "errors"), 3);
	assert_time(m, "last_contact", 1733580000123ull);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_no_peers),
	    T(test_sample),
	    T(test_pack_verify),
	    T(test_status_down),
	    T(test_status_live),
	    T(test_status_lag),
	    T(test_status_cert),
	    T(test_status_catching_up),
	    T(test_status_stalled),
	    T(test_status_drops),
	    T(test_status_feed_stuck),
	    T(test_metrics_live),
	    T(test_metrics_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
