/*
 * fx_repl.c - the in-process replication harness (fx_repl.h): nodes on one
 * event_base, joined by bufferevent pairs with deferred callbacks (so one
 * side's write never runs the other side's handler inside its own, as
 * with a real socket).
 */
#define _GNU_SOURCE /* mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "frame.h"
#include "hlc.h"
#include "log.h"
#include "ops.h"
#include "store.h"
#include "conn.h"
#include "feed.h"
#include "apply.h"
#include "gc.h"
#include "repl.h"
#include "peer_impl.h"
#include "tls.h"
#include "fx_repl.h"

struct fx {
	struct event_base *base;
	struct fx_node *nodes[FX_NODES_MAX];
	unsigned nnodes;
	struct fx_fake *fakes[FX_FAKES_MAX];
	unsigned nfakes;
	char logpath[64];
	int saved_stderr; /* -1: not capturing */
	EVP_PKEY *ca_key; /* fx_node_tls's CA, made on first use */
	X509 *ca;
};

struct fx *
fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *dbg = getenv("FX_DEBUG");

	assert_non_null(f);
	f->saved_stderr = -1;
	assert_non_null(f->base = event_base_new());
	/* as main.c: the group commit runs at the lower priority */
	assert_int_equal(event_base_priority_init(f->base, 2), 0);
	log_init(1, dbg && *dbg == '1' ? CFG_LOG_DEBUG : CFG_LOG_INFO, "fx");
	return f;
}

struct event_base *
fx_base(struct fx *f)
{
	return f->base;
}

void
fx_free(struct fx *f)
{
	char cmd[128];

	for (unsigned i = 0; i < f->nnodes; i++) {
		struct fx_node *nd = f->nodes[i];
		if (nd->started)
			fx_node_stop(nd);
		cfg_free(nd->n.cfg);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", nd->dir);
		assert_int_equal(system(cmd), 0);
		free(nd);
	}
	for (unsigned i = 0; i < f->nfakes; i++) {
		bufferevent_free(f->fakes[i]->bev);
		buf_free(&f->fakes[i]->frame);
		buf_free(&f->fakes[i]->out);
		free(f->fakes[i]);
	}
	/* let pending deferred callbacks drop their references, or the
	 * bufferevents they hold are never freed */
	fx_settle(f);
	fx_log_end(f);
	event_base_free(f->base);
	EVP_PKEY_free(f->ca_key);
	X509_free(f->ca);
	free(f);
}

/* ---- nodes ------------------------------------------------------------ */

/* Where stores go: FX_TMPDIR (e.g. /dev/shm, where a commit's sync costs
 * nothing: the fuzz harness commits thousands a second), else /tmp. */
static const char *
tmp_root(void)
{
	const char *d = getenv("FX_TMPDIR");

	return d != NULL && *d == '/' && strlen(d) < 40 ? d : "/tmp";
}

struct fx_node *
fx_node_add(struct fx *f, const char *name)
{
	struct fx_node *nd = calloc(1, sizeof(*nd));
	struct cfg *c = calloc(1, sizeof(*c));

	assert_non_null(nd);
	assert_non_null(c);
	assert_true(f->nnodes < FX_NODES_MAX);
	snprintf(nd->dir, sizeof(nd->dir), "%s/jalin-fx-XXXXXX", tmp_root());
	assert_non_null(mkdtemp(nd->dir));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->data_dir, sizeof(c->data_dir), "%s", nd->dir);
	snprintf(c->path, sizeof(c->path), "%s/fx.conf", nd->dir);
	c->region = 31;
	c->max_clock_skew = JALIN_CLOCK_SKEW_DEFAULT;
	c->stall_timeout = JALIN_STALL_TIMEOUT;
	c->max_connections = JALIN_CONN_MAX;
	c->handshake_timeout = JALIN_HANDSHAKE_TIMEOUT;
	c->admin_idle_timeout = JALIN_ADMIN_IDLE_TIMEOUT;
	c->map_size_max = 256ull << 20;
	c->log_level = CFG_LOG_NOTICE;
	nd->n.cfg = c;
	nd->n.base = f->base;
	nd->f = f;
	f->nodes[f->nnodes++] = nd;
	return nd;
}

struct cfg_peer *
fx_node_peer(
    struct fx_node *nd, const char *name, uint32_t colls, bool all_cases)
{
	struct cfg *c = nd->n.cfg;
	struct cfg_peer *p;

	assert_false(nd->started);
	p = realloc(c->peers, (c->npeers + 1) * sizeof(*p));
	assert_non_null(p);
	c->peers = p;
	p = &c->peers[c->npeers++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->collections = colls;
	p->all_cases = all_cases;
	return p;
}

/* ---- certificates (fx_node_tls) ------------------------------------------ */

/* A certificate for key, named cn, issued by ca (NULL: itself). */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *ca, EVP_PKEY *ca_key)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	assert_non_null(x);
	assert_non_null(nm);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), ca == NULL ? 1 : 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_NAME_add_entry_by_txt(
	    nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, nm);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : nm);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, ca ? ca : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    ca == NULL ? "critical,CA:TRUE" : "critical,CA:FALSE");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (ca == NULL) {
		ext = X509V3_EXT_conf_nid(
		    NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
		assert_non_null(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, ca_key ? ca_key : key, EVP_sha256()) > 0);
	X509_NAME_free(nm);
	return x;
}

static void
write_pem(const char *path, X509 *x, EVP_PKEY *key)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fchmod(fileno(fp), 0600), 0);
	if (x != NULL)
		assert_int_equal(PEM_write_X509(fp, x), 1);
	else
		assert_int_equal(
		    PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL),
		    1);
	assert_int_equal(fclose(fp), 0);
}

void
fx_node_tls(struct fx_node *nd)
{
	struct fx *f = nd->f;
	struct cfg *c = nd->n.cfg;
	EVP_PKEY *key;
	X509 *x;

	assert_false(nd->started);
	if (f->ca == NULL) {
		assert_non_null(f->ca_key = EVP_EC_gen("P-256"));
		f->ca = make_cert(f->ca_key, "jalin fx CA", NULL, NULL);
	}
	assert_non_null(key = EVP_EC_gen("P-256"));
	x = make_cert(key, c->name, f->ca, f->ca_key);
	snprintf(c->tls_ca, sizeof(c->tls_ca), "%s/ca.pem", nd->dir);
	snprintf(c->tls_cert, sizeof(c->tls_cert), "%s/cert.pem", nd->dir);
	snprintf(c->tls_key, sizeof(c->tls_key), "%s/key.pem", nd->dir);
	write_pem(c->tls_ca, f->ca, NULL);
	write_pem(c->tls_cert, x, NULL);
	write_pem(c->tls_key, NULL, key);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* A node with fx_node_tls: its TLS context and signing key, as
 * conn_start has them. */
static void
node_tls_start(struct fx_node *nd)
{
	struct node *n = &nd->n;
	struct jalin_err err;
	int rc;

	if (n->cfg->tls_cert[0] == '\0')
		return;
	jalin_err_clear(&err);
	if ((rc = tls_new(n->cfg, &n->peers->tls, &err)) != 0)
		fail_msg("tls_new: %s", jalin_err_msg(&err, rc));
	if ((rc = store_set_signer(n->store, tls_key(n->peers->tls), &err)) !=
	    0)
		fail_msg("store_set_signer: %s", jalin_err_msg(&err, rc));
}

void
fx_node_start(struct fx_node *nd)
{
	struct node *n = &nd->n;
	uint64_t initial = n->cfg->map_size_max < (4ull << 20)
	    ? n->cfg->map_size_max
	    : 4ull << 20;
	struct store_opts so = {
	    n->cfg->data_dir, n->cfg->name, n->cfg->map_size_max, initial};
	struct jalin_err err;
	int rc;

	assert_false(nd->started);
	jalin_err_clear(&err);
	n->stopping = false;
	if ((rc = store_open(&so, &n->store, &err)) != 0)
		fail_msg("store_open: %s", jalin_err_msg(&err, rc));
	assert_non_null(n->ops = ops_new(n->base, n->store));
	/* repl_start's steps, with conn_start_test for conn_start */
	if ((rc = conn_start_test(n, repl_hooks_test(), &n->peers, &err)) != 0)
		fail_msg("conn_start_test: %s", jalin_err_msg(&err, rc));
	node_tls_start(nd);
	feed_load(n->peers);
	apply_load(n->peers);
	apply_check_outage(n->peers);
	assert_non_null(n->gc = gc_new(n, n->peers));
	ops_set_hook(n->ops, (void (*)(void *))feed_notify, n->peers);
	n->started_ms = hlc_wall_ms();
	nd->started = true;
}

void
fx_node_stop(struct fx_node *nd)
{
	struct node *n = &nd->n;

	assert_true(nd->started);
	n->stopping = true;
	ops_flush(n->ops);
	conn_stop(n->peers);
	ops_free(n->ops);
	gc_free(n->gc);
	store_close(n->store);
	n->peers = NULL;
	n->ops = NULL;
	n->gc = NULL;
	n->store = NULL;
	nd->started = false;
}

void
fx_node_restart(struct fx_node *nd)
{
	fx_node_stop(nd);
	fx_node_start(nd);
}

struct peer *
fx_peer(struct fx_node *nd, const char *name)
{
	struct peer *p = peer_find(nd->n.peers, name);

	if (p == NULL)
		fail_msg("%s has no peer '%s'", nd->n.cfg->name, name);
	return p;
}

/* A pair whose callbacks run from the loop, never inside a write. */
static void
new_pair(struct fx *f, struct bufferevent *pair[2])
{
	assert_int_equal(
	    bufferevent_pair_new(
	        f->base, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, pair),
	    0);
}

void
fx_link(struct fx_node *a, struct fx_node *b)
{
	struct bufferevent *pair[2];

	assert_true(a->started && b->started);
	new_pair(a->f, pair);
	assert_int_equal(
	    conn_attach_test(a->n.peers, pair[0], b->n.cfg->name, true), 0);
	assert_int_equal(
	    conn_attach_test(b->n.peers, pair[1], a->n.cfg->name, false), 0);
}

/* ---- fake peers -------------------------------------------------------- */

struct fx_fake *
fx_fake_new(struct fx_node *nd, const char *name, bool outbound)
{
	struct fx *f = nd->f;
	struct fx_fake *fk = calloc(1, sizeof(*fk));
	struct bufferevent *pair[2];

	assert_non_null(fk);
	assert_true(nd->started);
	assert_true(f->nfakes < FX_FAKES_MAX);
	fk->f = f;
	fk->nd = nd;
	snprintf(fk->name, sizeof(fk->name), "%s", name);
	buf_init(&fk->frame, JALIN_FRAME_MAX);
	buf_init(&fk->out, JALIN_FRAME_MAX);
	new_pair(f, pair);
	fk->bev = pair[1];
	/* no callbacks: the test reads the input buffer itself */
	bufferevent_enable(fk->bev, EV_READ | EV_WRITE);
	f->fakes[f->nfakes++] = fk;
	assert_int_equal(
	    conn_attach_test(nd->n.peers, pair[0], name, outbound), 0);
	return fk;
}

void
fx_fake_free(struct fx_fake *fk)
{
	struct fx *f = fk->f;
	unsigned i;

	for (i = 0; i < f->nfakes && f->fakes[i] != fk; i++)
		;
	assert_true(i < f->nfakes);
	f->fakes[i] = f->fakes[--f->nfakes];
	bufferevent_free(fk->bev);
	buf_free(&fk->frame);
	buf_free(&fk->out);
	free(fk);
}

struct buf *
fx_fake_buf(struct fx_fake *fk)
{
	return &fk->out;
}

void
fx_fake_send(struct fx_fake *fk, const struct buf *body)
{
	uint8_t hdr[4];

	assert_int_equal(body->err, 0);
	frame_put_hdr(hdr, (uint32_t)body->len);
	assert_int_equal(bufferevent_write(fk->bev, hdr, 4), 0);
	assert_int_equal(bufferevent_write(fk->bev, body->p, body->len), 0);
}

void
fx_fake_hello(struct fx_fake *fk, const uint8_t epoch[16], uint64_t seq)
{
	struct msg_hello h = {JALIN_PROTO_VERSION_MIN, JALIN_PROTO_VERSION_MAX,
	    fk->name, epoch, seq, 0, NULL, 0};

	memcpy(fk->epoch, epoch, 16);
	msg_enc_hello(&fk->out, &h);
	fx_fake_send(fk, &fk->out);
}

/* A whole frame waits in the fake's input. */
static bool
frame_ready(void *arg)
{
	struct fx_fake *fk = arg;
	struct evbuffer *in = bufferevent_get_input(fk->bev);
	uint8_t hdr[4];

	if (evbuffer_get_length(in) < 4)
		return false;
	evbuffer_copyout(in, hdr, 4);
	uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	return evbuffer_get_length(in) >= 4 + (size_t)len;
}

int
fx_fake_recv(struct fx_fake *fk, struct msg_peer *m)
{
	struct evbuffer *in = bufferevent_get_input(fk->bev);
	struct jalin_err err;
	uint8_t hdr[4];
	uint32_t len;

	if (!fx_run(fk->f, frame_ready, fk))
		return -1;
	evbuffer_remove(in, hdr, 4);
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	buf_reset(&fk->frame);
	assert_int_equal(buf_reserve(&fk->frame, len), 0);
	fk->frame.len = (size_t)evbuffer_remove(in, fk->frame.p, len);
	assert_int_equal(fk->frame.len, len);
	jalin_err_clear(&err);
	memset(m, 0, sizeof(*m));
	return msg_decode_peer(fk->frame.p, fk->frame.len, m, &err);
}

void
fx_fake_expect(struct fx_fake *fk, uint64_t type, struct msg_peer *m)
{
	struct msg_peer tmp;
	int rc;

	if (m == NULL)
		m = &tmp;
	if ((rc = fx_fake_recv(fk, m)) != 0)
		fail_msg("%s: expected %s from %s, got %s", fk->name,
		    msg_type_name(type), fk->nd->n.cfg->name,
		    rc == -1 ? "nothing" : "a frame that does not decode");
	if (m->type != type)
		fail_msg("%s: expected %s from %s, got %s%s%.*s", fk->name,
		    msg_type_name(type), fk->nd->n.cfg->name,
		    msg_type_name(m->type), m->type == MSG_ERROR ? ": " : "",
		    m->type == MSG_ERROR ? (int)m->error_len : 0,
		    m->error ? m->error : "");
}

void
fx_fake_expect_error(struct fx_fake *fk, int code, const char *text)
{
	struct msg_peer m;

	fx_fake_expect(fk, MSG_ERROR, &m);
	assert_int_equal(m.code, code);
	assert_int_equal(m.error_len, strlen(text));
	if (memcmp(m.error, text, m.error_len) != 0)
		fail_msg("ERROR '%.*s', expected '%s'", (int)m.error_len,
		    m.error, text);
}

void
fx_fake_hangup(struct fx_fake *fk)
{
	/* a pair's partner sees EOF (BEV_EVENT_EOF) */
	bufferevent_flush(fk->bev, EV_WRITE, BEV_FINISHED);
}

bool
fx_fake_quiet(struct fx_fake *fk)
{
	return evbuffer_get_length(bufferevent_get_input(fk->bev)) == 0;
}

/* ---- the loop ---------------------------------------------------------- */

bool
fx_run(struct fx *f, bool (*cond)(void *arg), void *arg)
{
	for (int i = 0; i < FX_ROUNDS_MAX; i++) {
		if (cond(arg))
			return true;
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	return cond(arg);
}

void
fx_settle(struct fx *f)
{
	for (int i = 0; i < FX_SETTLE_ROUNDS; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
}

void
fx_tick(struct fx_node *nd)
{
	conn_tick_test(nd->n.peers);
}

/* ---- record states ----------------------------------------------------- */

void
fx_state(struct buf *out, const char *origin, uint64_t hlc,
    const struct merge_update *u, size_t n)
{
	struct merge_update all[32];
	struct record *empty = malloc(sizeof(*empty));
	struct record *r = malloc(sizeof(*r));
	struct buf val;
	msgpack_packer pk;
	bool changed;

	assert_non_null(empty);
	assert_non_null(r);
	assert_true(n < 32);
	buf_init(&val, 4096);
	msgpack_packer_init(&pk, &val, buf_pk_write);
	msgpack_pack_str_with_body(&pk, origin, strlen(origin));
	all[0] =
	    (struct merge_update){TAG_ORIGIN_NODE, (uint32_t)val.len, val.p};
	if (n > 0)
		memcpy(all + 1, u, n * sizeof(*u));
	rec_init(empty);
	assert_int_equal(merge_put(empty, all, n + 1, origin, strlen(origin),
	                     hlc, r, &changed),
	    0);
	buf_reset(out);
	assert_int_equal(rec_encode(r, out), 0);
	buf_free(&val);
	free(r);
	free(empty);
}

/* prev decoded into r (empty when prev is NULL). */
static void
decode_prev(struct record *r, const struct buf *prev)
{
	if (prev == NULL)
		rec_init(r);
	else
		assert_int_equal(
		    rec_decode(r, prev->p, prev->len, REC_TRUSTED, NULL), 0);
}

void
fx_state_on(struct buf *out, const struct buf *prev, const char *self,
    uint64_t hlc, const struct merge_update *u, size_t n)
{
	struct record *old = malloc(sizeof(*old));
	struct record *r = malloc(sizeof(*r));
	bool changed;

	assert_non_null(old);
	assert_non_null(r);
	assert_ptr_not_equal(out, prev);
	decode_prev(old, prev);
	assert_int_equal(
	    merge_put(old, u, n, self, strlen(self), hlc, r, &changed), 0);
	assert_true(changed);
	buf_reset(out);
	assert_int_equal(rec_encode(r, out), 0);
	free(r);
	free(old);
}

void
fx_state_purged(
    struct buf *out, const struct buf *prev, const char *self, uint64_t hlc)
{
	struct record *old = malloc(sizeof(*old));
	struct record *r = malloc(sizeof(*r));
	uint8_t val[16];
	struct buf v;
	msgpack_packer pk;
	bool changed;

	assert_non_null(old);
	assert_non_null(r);
	decode_prev(old, prev);
	buf_init_mem(&v, val, sizeof(val), sizeof(val));
	msgpack_packer_init(&pk, &v, buf_pk_write);
	msgpack_pack_array(&pk, 3); /* [reason, hash, scope]: no hash, */
	msgpack_pack_str_with_body(&pk, "test", 4);
	msgpack_pack_nil(&pk);
	msgpack_pack_nil(&pk); /* unknown scope: goes everywhere */
	assert_int_equal(
	    merge_purge(old, v.p, v.len, self, strlen(self), hlc, r, &changed),
	    0);
	buf_reset(out);
	assert_int_equal(rec_encode(r, out), 0);
	buf_free(&v);
	free(r);
	free(old);
}

/* A valid value of a required field f (uuid, enum, str, int). */
static void
pack_required(msgpack_packer *pk, const struct schema_field *f)
{
	static const uint8_t zero[16] = {1};

	switch (f->type) {
	case ST_UUID:
		msgpack_pack_bin_with_body(pk, zero, 16);
		break;
	case ST_ENUM:
		/* legal_basis: one that needs no consent_ref (referral) */
		if (f->tag == TAG_LEGAL_BASIS)
			msgpack_pack_str_with_body(pk, "vital_interest", 14);
		else
			msgpack_pack_str_with_body(
			    pk, f->enums[0], strlen(f->enums[0]));
		break;
	case ST_INT:
		msgpack_pack_int64(pk, f->min_i > 0 ? f->min_i : 0);
		break;
	default:
		msgpack_pack_str_with_body(pk, "x", 1);
		break;
	}
}

static int
cmp_upd(const void *a, const void *b)
{
	const struct merge_update *x = a, *y = b;

	return (int)x->tag - (int)y->tag;
}

void
fx_state_coll(struct buf *out, uint8_t coll, const char *origin, uint64_t hlc,
    const struct merge_update *u, size_t n)
{
	const struct schema_coll *c = schema_coll_by_id(coll);
	struct merge_update all[64];
	size_t k = n, at[64];
	struct buf val;

	assert_non_null(c);
	buf_init(&val, 4096);
	if (n > 0)
		memcpy(all, u, n * sizeof(*u));
	for (uint16_t i = 0; i < c->nfields; i++) {
		const struct schema_field *f = &c->fields[i];
		bool given = false;
		for (size_t j = 0; j < n; j++)
			given |= u[j].tag == f->tag;
		if (!(f->flags & SF_REQUIRED) || given)
			continue;
		assert_true(k < 64);
		/* in its state form: a long enough string is coded */
		uint8_t raw[64];
		struct buf rb;
		msgpack_packer rp;
		buf_init_mem(&rb, raw, sizeof(raw), sizeof(raw));
		msgpack_packer_init(&rp, &rb, buf_pk_write);
		pack_required(&rp, f);
		at[k] = val.len;
		assert_int_equal(
		    rec_val_canon(rb.p, (uint32_t)rb.len, &val), 0);
		all[k++] = (struct merge_update){f->tag, 0, NULL};
	}
	/* val no longer moves: point the values into it */
	for (size_t j = n; j < k; j++) {
		size_t end = j + 1 < k ? at[j + 1] : val.len;
		all[j].val = val.p + at[j];
		all[j].vlen = (uint32_t)(end - at[j]);
	}
	qsort(all, k, sizeof(*all), cmp_upd);
	fx_state(out, origin, hlc, all, k);
	buf_free(&val);
}

void
fx_state_shared(
    struct buf *out, const char *origin, const char *with, uint64_t hlc)
{
	struct merge_update u;
	struct buf val;
	msgpack_packer pk;

	if (with == NULL) {
		fx_state_coll(out, COLL_CASE, origin, hlc, NULL, 0);
		return;
	}
	buf_init(&val, 256);
	msgpack_packer_init(&pk, &val, buf_pk_write);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_str_with_body(&pk, with, strlen(with));
	u = (struct merge_update){TAG_SHARE_WITH, (uint32_t)val.len, val.p};
	fx_state_coll(out, COLL_CASE, origin, hlc, &u, 1);
	buf_free(&val);
}

struct fx_put {
	uint8_t coll;
	uint8_t id[16];
	const struct buf *st; /* NULL: bury */
};

static int
put_fn(struct store_txn *tx, void *arg)
{
	const struct fx_put *p = arg;
	struct store_cur cur;
	bool changed;
	int rc;

	if (p->st != NULL)
		return store_txn_apply(
		    tx, p->coll, p->id, p->st->p, p->st->len, &changed, NULL);
	if ((rc = store_txn_get(tx, p->coll, p->id, &cur)) != 0)
		return rc;
	assert_true(cur.exists);
	return store_txn_bury(tx, &cur);
}

void
fx_put(struct fx_node *nd, uint8_t coll, unsigned idn, const struct buf *st)
{
	struct fx_put p = {coll, {0}, st};

	assert_non_null(st);
	fx_id(p.id, idn);
	assert_int_equal(store_write(nd->n.store, put_fn, &p, NULL), 0);
	feed_notify(nd->n.peers);
}

void
fx_bury(struct fx_node *nd, uint8_t coll, unsigned idn)
{
	struct fx_put p = {coll, {0}, NULL};

	fx_id(p.id, idn);
	assert_int_equal(store_write(nd->n.store, put_fn, &p, NULL), 0);
}

void
fx_state_deleted(
    struct buf *out, const struct buf *prev, const char *self, uint64_t hlc)
{
	static const uint8_t tomb[] = {0x92, 0xc0, 0xc0}; /* [nil, nil] */
	struct record *old = malloc(sizeof(*old)), *r = malloc(sizeof(*r));
	bool changed;

	assert_non_null(old);
	assert_non_null(r);
	assert_int_equal(
	    rec_decode(old, prev->p, prev->len, REC_TRUSTED, NULL), 0);
	assert_int_equal(merge_delete(old, tomb, sizeof(tomb), self,
	                     strlen(self), hlc, r, &changed),
	    0);
	buf_reset(out);
	assert_int_equal(rec_encode(r, out), 0);
	free(old);
	free(r);
}

void
fx_raw_begin(struct buf *b, msgpack_packer *pk, uint32_t n, uint8_t type)
{
	buf_reset(b);
	msgpack_packer_init(pk, b, buf_pk_write);
	msgpack_pack_map(pk, n);
	msgpack_pack_uint8(pk, MK_TYPE);
	msgpack_pack_uint8(pk, type);
}

uint64_t
fx_hlc(int64_t ms_from_now)
{
	return HLC_MAKE((uint64_t)((int64_t)hlc_wall_ms() + ms_from_now), 0);
}

void
fx_id(uint8_t id[16], unsigned n)
{
	/* a version-7-shaped uuid: fixed time, n in the random part */
	static const uint8_t base[16] = {0x01, 0x90, 0x00, 0x00, 0x00, 0x00,
	    0x70, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

	memcpy(id, base, 16);
	id[12] = (uint8_t)(n >> 24);
	id[13] = (uint8_t)(n >> 16);
	id[14] = (uint8_t)(n >> 8);
	id[15] = (uint8_t)n;
}

/* ---- reading back ------------------------------------------------------ */

int
fx_get(struct fx_node *nd, uint8_t coll, const uint8_t id[16],
    struct buf *state, uint64_t *seq)
{
	const struct stdb *db = store_db(nd->n.store);
	const uint8_t *raw;
	size_t len;
	uint64_t s;
	MDB_txn *txn;
	int rc;

	assert_int_equal(stdb_begin_read(store_db(nd->n.store), &txn, NULL), 0);
	rc = stdb_get_record(txn, db, coll, id, &raw, &len, &s);
	if (rc == 0 && state != NULL) {
		buf_reset(state);
		assert_int_equal(buf_reserve(state, len), 0);
		memcpy(state->p, raw, len);
		state->len = len;
	}
	if (rc == 0 && seq != NULL)
		*seq = s;
	stdb_end_read(txn);
	return rc;
}

bool
fx_ckpt(struct fx_node *nd, const char *prefix, const char *peer,
    uint8_t epoch[16], uint64_t *seq)
{
	char key[JALIN_NAME_MAX + 8];
	MDB_txn *txn;
	bool ok;

	peer_ckpt_key(key, sizeof(key), prefix, peer);
	assert_int_equal(stdb_begin_read(store_db(nd->n.store), &txn, NULL), 0);
	ok = peer_ckpt_get(txn, store_db(nd->n.store), key, epoch, seq);
	stdb_end_read(txn);
	return ok;
}

/* ---- log lines --------------------------------------------------------- */

/* While capturing: the capture file and the real stderr, for a test that
 * dies (a sanitizer's report, an abort) to show what it logged. */
static volatile int cap_fd = -1, real_stderr = -1;

static void
on_fatal(int sig)
{
	char b[4096];
	ssize_t n;

	if (cap_fd >= 0 && real_stderr >= 0 && lseek(cap_fd, 0, SEEK_SET) == 0)
		while ((n = read(cap_fd, b, sizeof(b))) > 0)
			if (write(real_stderr, b, (size_t)n) != n)
				break;
	signal(sig, SIG_DFL);
	raise(sig);
}

void
fx_log_capture(struct fx *f)
{
	int fd;

	if (f->saved_stderr >= 0)
		return;
	snprintf(f->logpath, sizeof(f->logpath), "/tmp/jalin-fx-log-XXXXXX");
	assert_true((fd = mkstemp(f->logpath)) >= 0);
	fflush(stderr);
	f->saved_stderr = dup(2);
	assert_true(f->saved_stderr >= 0);
	assert_true(dup2(fd, 2) >= 0);
	cap_fd = fd;
	real_stderr = f->saved_stderr;
	signal(SIGABRT, on_fatal);
	signal(SIGSEGV, on_fatal);
}

bool
fx_log_has(struct fx *f, const char *needle)
{
	char line[2048];
	bool found = false;
	FILE *fp;

	fflush(stderr);
	if (f->saved_stderr < 0 || (fp = fopen(f->logpath, "r")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(fp);
	return found;
}

void
fx_log_end(struct fx *f)
{
	char line[2048];
	FILE *fp;

	if (f->saved_stderr < 0)
		return;
	fflush(stderr);
	signal(SIGABRT, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	if (cap_fd >= 0)
		close(cap_fd);
	cap_fd = real_stderr = -1;
	dup2(f->saved_stderr, 2);
	close(f->saved_stderr);
	f->saved_stderr = -1;
	if ((fp = fopen(f->logpath, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL)
			fputs(line, stderr);
		fclose(fp);
	}
	unlink(f->logpath);
}
