/*
 * fuzz_peer.c - stateful libFuzzer harness: one node (jabar) with a real
 * store, fed sequences of frames by a configured peer (hostile) through
 * the in-process harness of the unit tests (tests/unit/fx_repl.h: the real
 * node/ code, a bufferevent pair instead of TLS). tests/fuzz/README says
 * how to run it and what each input byte means.
 *
 * Each input is decoded into a session: a connection from hostile, its
 * HELLO (unless the input says not), then up to FRAMES_MAX frames built
 * from the input, structure-aware where that reaches deeper: CHANGES and
 * REPAIR hold record states made by merge.h's writes from fuzz bytes
 * (schema-typed values, several origins, deletes, purges, conflicts), in
 * the epoch and from the seq the node subscribed at, so that most of them
 * reach apply; any peer message from msg.h's table with fuzz keys; raw
 * bytes. The loop runs until the node is idle after each frame; then
 * hostile hangs up and the node must let the connection go.
 *
 * After each input: nothing crashed (ASan, UBSan); the node let the
 * connection go when hostile hung up; every stored record passes its CRC
 * and the full decoder a peer's state gets; the records hostile cannot
 * write (collections it is not configured for) are byte for byte those
 * of the honest twin they were replicated from, and their digests agree
 * (what `verify` compares), and so are the records of the collections
 * it shares that name jabar or the twin among their writers (write
 * authority and origin signatures: both nodes sign with keys of the
 * harness's CA, fx_node_tls; FUZZ_PEER_AUTHORITY=0 leaves that check
 * out). Memory: libFuzzer's -rss_limit_mb and -malloc_limit_mb.
 *
 * The node is reused across inputs (opening a store costs more than
 * most sessions): every FUZZ_PEER_RESET inputs (default RESET_EVERY) it
 * is stopped, the store the inputs left must open and read, and the node
 * starts again from a snapshot of its store taken after setup.
 * FUZZ_PEER_RESET=1 starts every input from the snapshot: the way to
 * replay a crash input on its own.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "feed.h"
#include "frame.h"
#include "hlc.h"
#include "log.h"
#include "merge.h"
#include "msg.h"
#include "ops.h"
#include "peer_impl.h"
#include "record.h"
#include "schema.h"
#include "sig.h"
#include "store.h"
#include "storedb.h"
#include "verify.h"
#include "fx_repl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define SELF    "jabar"
#define HOSTILE "hostile"
#define TWIN    "honest"
/* What jabar takes from hostile; partnership and resource it does not. */
#define HOSTILE_COLLS \
	((1u << COLL_CASE) | (1u << COLL_LKS) | (1u << COLL_REFERRAL))
#define GUARDED_COLLS ((1u << COLL_PARTNERSHIP) | (1u << COLL_RESOURCE))

#define NIDS        24   /* record ids the input picks from: 1..NIDS */
#define FRAMES_MAX  48   /* frames of one session */
#define RECS_MAX    12   /* records of one CHANGES / REPAIR */
#define WRITES_MAX  4    /* writes that make one record state */
#define FIELDS_MAX  6    /* fields of one write */
#define ROUNDS_MAX  4000 /* loop rounds waiting for the node */
#define RESET_EVERY 256  /* FUZZ_PEER_RESET's default */
#define VALS_MAX    (256u << 10)

/* What the input reads from: bytes, then zeros once it is used up. */
struct in {
	const uint8_t *p;
	size_t n;
};

/* The session with the node, as hostile sees it. */
struct sess {
	struct fx_fake *fk;
	uint8_t epoch[16];     /* hostile's epoch, as its HELLO said */
	uint8_t sub_epoch[16]; /* the feed jabar subscribed to ... */
	uint64_t rpos;         /* ... and the seq it continues from */
	uint64_t a_upto;       /* the last CHANGES jabar sent us ended here */
	uint8_t bucket;        /* the last bucket jabar asked the ids of */
	bool split;            /* the next frame arrives in two parts */
	bool nowait; /* the next frame: no waiting for the node after it */
	bool again;  /* hostile reconnects */
	uint8_t again_flags; /* ... how (op 15) */
};

/* The harness: file scope, since libFuzzer calls in without context. */
static struct {
	struct fx *f;
	struct fx_node *a, *b; /* jabar; the honest twin */
	char snap[96];         /* jabar's data.mdb after setup */
	unsigned long runs, reset_every;
	bool authority;       /* unless FUZZ_PEER_AUTHORITY=0 */
	struct buf body, tmp; /* a frame to send; the node's, or a value */
	struct buf vals;   /* record values: never moves (entries point in) */
	struct buf st;     /* a state with a proof (enc_signed) */
	uint64_t sign_bno; /* enc_signed: hostile's batch, 0: none */
	uint16_t sign_n;   /* ... and its leaves */
	struct record *r[2];
	uint8_t sums[JALIN_DIGEST_BUCKETS * 32];
	char names[4][JALIN_NAME_MAX + 2];
} z;

static uint8_t valmem[VALS_MAX];
static const uint8_t zeros[32];

static const uint8_t EPOCH_H[16] = {0x40, 0x55, 0x11, 0x1e};
static const uint8_t EPOCH_H2[16] = {0x40, 0x55, 0x11, 0x1e, 2};

/* ---- reading the input ------------------------------------------------ */

static uint8_t
in_u8(struct in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t
in_uint(struct in *in, unsigned bytes)
{
	uint64_t v = 0;

	while (bytes-- > 0)
		v = v << 8 | in_u8(in);
	return v;
}

/* Up to max bytes (the first says how many) at *p; fewer at the end. */
static size_t
in_bytes(struct in *in, size_t max, const uint8_t **p)
{
	size_t want = max == 0 ? 0 : in_u8(in) % (max + 1);

	if (want > in->n)
		want = in->n;
	*p = in->p;
	in->p += want;
	in->n -= want;
	return want;
}

/* A uint as a peer might send one: mostly small, sometimes anything. */
static uint64_t
in_num(struct in *in)
{
	uint8_t k = in_u8(in);

	switch (k % 8) {
	case 0:
		return in_uint(in, 8);
	case 1:
		return UINT64_MAX - (k >> 3);
	case 2:
		return in_uint(in, 4);
	default:
		return in_uint(in, 1);
	}
}

/* ---- failing ------------------------------------------------------------ */

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_peer: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* ---- msgpack values ----------------------------------------------------- */

/* Any msgpack value (nested to depth), canonical or not. */
static void
pack_any(msgpack_packer *pk, struct in *in, int depth)
{
	const uint8_t *p;
	size_t n;
	uint8_t k = in_u8(in);

	switch (depth > 2 ? k % 6 : k % 9) {
	case 0:
		msgpack_pack_nil(pk);
		break;
	case 1:
		(k & 0x80) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
		break;
	case 2:
		msgpack_pack_uint64(pk, in_num(in));
		break;
	case 3:
		msgpack_pack_int64(pk, -(int64_t)(in_num(in) >> 1) - 1);
		break;
	case 4:
		n = in_bytes(in, 40, &p);
		msgpack_pack_str_with_body(pk, p, n);
		break;
	case 5:
		n = in_bytes(in, 33, &p);
		msgpack_pack_bin_with_body(pk, p, n);
		break;
	case 6:
		n = k >> 5;
		msgpack_pack_array(pk, n);
		while (n-- > 0)
			pack_any(pk, in, depth + 1);
		break;
	case 7:
		n = k >> 6;
		msgpack_pack_map(pk, n);
		while (n-- > 0) {
			pack_any(pk, in, depth + 1);
			pack_any(pk, in, depth + 1);
		}
		break;
	default:
		msgpack_pack_double(pk, (double)in_num(in));
	}
}

/* A node name: one of the federation's, or bytes from the input. */
static const char *
pick_name(struct in *in, size_t *len)
{
	static const char *const known[] = {HOSTILE, SELF, TWIN, "banten"};
	uint8_t k = in_u8(in);
	const uint8_t *p;

	if (k % 8 < 6) {
		*len = strlen(known[k % 4]);
		return known[k % 4];
	}
	*len = in_bytes(in, JALIN_NAME_MAX + 1, &p);
	memcpy(z.names[k % 4], p, *len);
	z.names[k % 4][*len] = '\0';
	return z.names[k % 4];
}

/* A value for field f as a peer's state would carry it (usually of the
 * right type, so that the state gets past the decoder to the checks). */
static void
pack_field(msgpack_packer *pk, struct in *in, const struct schema_field *f)
{
	static const char *const dates[] = {"2024-02-29", "2023-02-29", "x"};
	uint8_t k = in_u8(in);
	const char *s;
	size_t n;

	if (f == NULL || k % 8 == 0) {
		pack_any(pk, in, 0);
		return;
	}
	switch (f->type) {
	case ST_INT:
	case ST_TS:
	case ST_MONEY:
		msgpack_pack_int64(
		    pk, (int64_t)(in_num(in) - (k & 1 ? 1000 : 0)));
		break;
	case ST_BOOL:
		(k & 0x10) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
		break;
	case ST_DATE:
		s = dates[k % 3];
		msgpack_pack_str_with_body(pk, s, strlen(s));
		break;
	case ST_ENUM:
		for (n = 0; f->enums != NULL && f->enums[n] != NULL; n++)
			;
		if (n == 0) {
			pack_any(pk, in, 0);
			break;
		}
		s = f->enums[in_u8(in) % n];
		msgpack_pack_str_with_body(pk, s, strlen(s));
		break;
	case ST_UUID:
	case ST_HASH:
		msgpack_pack_bin(pk, f->type == ST_UUID ? 16 : 32);
		msgpack_pack_bin_body(pk, zeros, f->type == ST_UUID ? 16 : 32);
		break;
	case ST_LIST: /* share_with, unshared_from: node names */
		n = k >> 6;
		msgpack_pack_array(pk, n);
		while (n-- > 0) {
			size_t len;
			s = pick_name(in, &len);
			msgpack_pack_str_with_body(pk, s, len);
		}
		break;
	default:
		pack_any(pk, in, 1);
	}
}

/* A value for f packed into z.tmp, then its state form (rec_val_canon)
 * appended to z.vals: *v, *vlen. */
static int
value(struct in *in, const struct schema_field *f, const uint8_t **v,
    uint32_t *vlen)
{
	msgpack_packer pk;
	size_t at = z.vals.len;

	buf_reset(&z.tmp);
	msgpack_packer_init(&pk, &z.tmp, buf_pk_write);
	pack_field(&pk, in, f);
	if (z.tmp.err != 0 || rec_val_canon(z.tmp.p, z.tmp.len, &z.vals) != 0)
		return -1;
	*v = z.vals.p + at;
	*vlen = (uint32_t)(z.vals.len - at);
	return 0;
}

/* ---- record states ------------------------------------------------------ */

static int
cmp_update(const void *a, const void *b)
{
	const struct merge_update *x = a, *y = b;

	return (int)x->tag - (int)y->tag;
}

/* The fields of one write: tags of the collection, sorted and unique. */
static size_t
updates(struct in *in, const struct schema_coll *c, const char *origin,
    size_t olen, bool first, struct merge_update *u)
{
	size_t n = in_u8(in) % (FIELDS_MAX + 1), m = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t k = in_u8(in);
		const struct schema_field *f = NULL;
		if (c != NULL && k % 4 != 0)
			f = &c->fields[in_u8(in) % c->nfields];
		u[i].tag = f != NULL ? f->tag : (uint16_t)(1 + k % 40);
		if (value(in, f, &u[i].val, &u[i].vlen) != 0)
			return 0;
	}
	if (first) { /* a record is created with its origin_node */
		uint32_t at = (uint32_t)z.vals.len;
		msgpack_packer pk;
		msgpack_packer_init(&pk, &z.vals, buf_pk_write);
		msgpack_pack_str_with_body(&pk, origin, olen);
		u[n++] = (struct merge_update){TAG_ORIGIN_NODE,
		    (uint32_t)(z.vals.len - at), z.vals.p + at};
	}
	qsort(u, n, sizeof(*u), cmp_update);
	for (size_t i = 0; i < n; i++) /* keep the first of equal tags */
		if (m == 0 || u[m - 1].tag != u[i].tag)
			u[m++] = u[i];
	return m;
}

/* A tombstone's value: [reason, scope] or [reason, hash, scope]. */
static size_t
tomb(struct in *in, bool purge, const uint8_t **v)
{
	size_t at = z.vals.len, n;
	msgpack_packer pk;
	uint8_t k = in_u8(in);

	msgpack_packer_init(&pk, &z.vals, buf_pk_write);
	msgpack_pack_array(&pk, purge ? 3 : 2);
	if (k & 1)
		msgpack_pack_nil(&pk);
	else
		msgpack_pack_str_with_body(&pk, "duplicate", 9);
	if (purge && (k & 2))
		msgpack_pack_bin_with_body(&pk, zeros, 32);
	else if (purge)
		msgpack_pack_nil(&pk);
	n = k >> 6;
	if (n == 0) {
		msgpack_pack_nil(&pk);
	} else {
		msgpack_pack_array(&pk, n);
		while (n-- > 0) {
			size_t len;
			const char *s = pick_name(in, &len);
			msgpack_pack_str_with_body(&pk, s, len);
		}
	}
	*v = z.vals.p + at;
	return z.vals.len - at;
}

/* The HLC ctx of origin in r, 0 if it never wrote. */
static uint64_t
ctx_of(const struct record *r, const char *o, size_t olen)
{
	for (uint16_t i = 0; i < r->norigins; i++)
		if (r->origin[i].len == olen &&
		    memcmp(r->origin[i].name, o, olen) == 0)
			return r->ctx[i];
	return 0;
}

/* One write (put, delete or purge) on *cur by a node the input names. */
static void
one_write(struct in *in, const struct schema_coll *c, uint64_t hlc,
    struct record **cur, struct record **nx)
{
	struct merge_update u[FIELDS_MAX + 1];
	const uint8_t *v;
	size_t olen, n;
	const char *o = pick_name(in, &olen);
	uint8_t k = in_u8(in);
	bool changed = false;
	int rc;

	if (hlc <= ctx_of(*cur, o, olen))
		hlc = ctx_of(*cur, o, olen) + 1;
	if (k % 8 == 6) {
		n = tomb(in, false, &v);
		rc = merge_delete(*cur, v, n, o, olen, hlc, *nx, &changed);
	} else if (k % 8 == 7) {
		n = tomb(in, true, &v);
		rc = merge_purge(*cur, v, n, o, olen, hlc, *nx, &changed);
	} else {
		n = updates(in, c, o, olen, rec_is_empty(*cur), u);
		rc = merge_put(*cur, u, n, o, olen, hlc, *nx, &changed);
	}
	if (rc == 0 && changed) {
		struct record *t = *cur;
		*cur = *nx;
		*nx = t;
	}
}

/* A state for a record of coll built by WRITES_MAX writes at most, at
 * times around now (or far ahead: held back), appended to out. */
static int
build_state(struct in *in, uint8_t coll, struct buf *out)
{
	struct record *cur = z.r[0], *nx = z.r[1];
	const struct schema_coll *c = schema_coll_by_id(coll);
	uint8_t k = in_u8(in);
	uint64_t ms = hlc_wall_ms(), step = 1 + in_u8(in);
	uint64_t hlc;

	if (k & 0x80)
		ms += in_uint(in, 2) * 1000; /* ahead: up to 18 hours */
	else
		ms -= in_uint(in, 2) * 16; /* behind: up to 17 minutes */
	hlc = HLC_MAKE(ms, k & 3);
	buf_reset(&z.vals);
	rec_init(cur);
	for (unsigned i = 0; i <= (k >> 2) % WRITES_MAX; i++) {
		one_write(in, c, hlc, &cur, &nx);
		hlc += (k & 0x40) ? step : step << 16;
	}
	if (rec_is_empty(cur) || rec_encode(cur, out) != 0)
		return -1;
	return 0;
}

/* ---- frames to the node ------------------------------------------------- */

static void run_round(struct sess *s);
static void run_idle(struct sess *s);
static void enc_changes(struct in *in, struct sess *s, struct buf *out);

/* Write body to the node as one frame (split in two when asked). */
static void
send_frame(struct sess *s, const uint8_t *body, size_t len)
{
	uint8_t hdr[4];
	struct bufferevent *bev = s->fk->bev;

	frame_put_hdr(hdr, (uint32_t)len);
	bufferevent_write(bev, hdr, 4);
	if (s->split && len > 1) {
		bufferevent_write(bev, body, len / 2);
		for (int i = 0; i < 4; i++)
			run_round(s);
		body += len / 2;
		len -= len / 2;
	}
	s->split = false;
	bufferevent_write(bev, body, len);
}

static const uint8_t *
pick_epoch(struct in *in, const struct sess *s)
{
	static uint8_t raw[16];
	uint8_t k = in_u8(in);
	const uint8_t *p;
	size_t n;

	switch (k % 8) {
	case 0:
		return s->epoch;
	case 1:
		return store_epoch(z.a->n.store);
	case 2:
		memset(raw, 0, 16);
		n = in_bytes(in, 16, &p);
		memcpy(raw, p, n);
		return raw;
	default:
		return s->sub_epoch;
	}
}

static void
enc_hello(struct in *in, struct sess *s, struct buf *out)
{
	uint8_t k = in_u8(in);
	size_t nlen = strlen(HOSTILE);
	const char *name = (k & 0x8) ? pick_name(in, &nlen) : HOSTILE;
	const uint8_t *ep = (k & 0x10) ? EPOCH_H2 : EPOCH_H;
	struct msg_hello h = {JALIN_PROTO_VERSION_MIN, JALIN_PROTO_VERSION_MAX,
	    name, ep, in_uint(in, 2), k >> 5, NULL, 0};
	char nb[JALIN_NAME_MAX + 2];

	if (k & 0x1) {
		h.pv_min = in_u8(in) % 6;
		h.pv_max = in_u8(in) % 6;
	}
	snprintf(nb, sizeof(nb), "%.*s", (int)nlen, name);
	h.name = nb;
	memcpy(s->epoch, ep, 16);
	memcpy(s->sub_epoch, ep, 16); /* until the node's SUB says */
	msg_enc_hello(out, &h);
}

/* A record whose state carries a proof (protocol 4) that refers to
 * hostile's batch z.sign_bno for each of hostile's events: [back, idx],
 * idx from the input (nil for the others'). */
static void
add_signed(struct in *in, struct msg_batch *bt, uint64_t seq, uint8_t coll,
    const uint8_t id[16])
{
	uint8_t pb[8 + JALIN_RECORD_DOTS_MAX * 16];
	struct buf proof;
	msgpack_packer pk;
	const struct record *r = z.r[0];

	buf_reset(&z.st);
	if (build_state(in, coll, &z.st) != 0 ||
	    rec_decode(z.r[0], z.st.p, z.st.len, REC_TRUSTED, NULL) != 0) {
		msg_batch_rec(bt, seq, coll, id, NULL, 0);
		return;
	}
	buf_init_mem(&proof, pb, sizeof(pb), sizeof(pb));
	msgpack_packer_init(&pk, &proof, buf_pk_write);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, r->ndots);
	for (uint16_t d = 0; d < r->ndots; d++) {
		const struct rec_origin *o = &r->origin[r->dot[d].origin];
		if (o->len != strlen(HOSTILE) ||
		    memcmp(o->name, HOSTILE, o->len) != 0 ||
		    r->dot[d].hlc < z.sign_bno) {
			msgpack_pack_nil(&pk);
			continue;
		}
		msgpack_pack_array(&pk, 2);
		msgpack_pack_uint64(&pk, r->dot[d].hlc - z.sign_bno);
		msgpack_pack_uint16(&pk, in_u8(in) % (z.sign_n + 1));
	}
	msg_batch_rec4(bt, seq, coll, id, z.st.p, z.st.len,
	    proof.err == 0 ? proof.p : NULL, proof.err == 0 ? proof.len : 0);
}

/* Op 14, bit 6: hostile signs (PROTOCOL.md §13). A BATCH of its own (1 to
 * 256 leaves; kid, signature and leaves from the input: a batch of the
 * sender's own is not verified), then CHANGES whose states carry proofs
 * that refer to it (add_signed). jabar stores the batch only while a
 * record it stores refers to it (trust_in_keep, the store's bref). */
static void
enc_signed(struct in *in, struct sess *s, struct buf *out)
{
	static uint8_t leaves[JALIN_SIG_BATCH_MAX * SIG_LEAF_LEN];
	uint8_t kid[SIG_KID_LEN], sig[SIG_MAX_LEN] = {0x30};
	const uint8_t *p;
	size_t slen;

	/* before every state build_state makes (at most ~17.5 min back) */
	z.sign_bno = HLC_MAKE(hlc_wall_ms() - 1100000 - in_uint(in, 2), 0);
	z.sign_n = (uint16_t)(in_u8(in) % JALIN_SIG_BATCH_MAX);
	memset(leaves, in_u8(in), sizeof(leaves));
	memset(kid, in_u8(in), sizeof(kid));
	slen = in_bytes(in, SIG_MAX_LEN, &p);
	memcpy(sig, p, slen);
	msg_enc_batch(out, HOSTILE, strlen(HOSTILE), z.sign_bno, kid,
	    sizeof(kid), sig, slen > 0 ? slen : 1, leaves,
	    ((size_t)z.sign_n + 1) * SIG_LEAF_LEN);
	if (out->err == 0)
		send_frame(s, out->p, out->len);
	run_idle(s);
	buf_reset(out);
	enc_changes(in, s, out);
	z.sign_bno = 0;
}

/* The [seq, coll, id, state] items of CHANGES (seqs after from) or
 * REPAIR (seq 0). Returns the last seq. */
static uint64_t
add_recs(
    struct in *in, struct msg_batch *bt, uint64_t from, bool repair, unsigned n)
{
	uint64_t seq = from;

	for (unsigned i = 0; i < n && bt->out->err == 0; i++) {
		uint8_t k = in_u8(in), id[16];
		uint8_t coll = in_u8(in) % 7; /* 0 and 6: no such collection */
		size_t at = bt->out->len, len;
		const uint8_t *p;

		fx_id(id, 1 + in_u8(in) % NIDS);
		if (repair)
			seq = 0;
		else if ((k >> 3) == 31) /* one in 32: any seq */
			seq = in_num(in);
		else
			seq += 1 + ((k >> 3) == 30); /* a gap: 1 in 32 */
		switch (k % 8) {
		case 0: /* withdrawal */
			msg_batch_rec(bt, seq, coll, id, NULL, 0);
			break;
		case 1: /* bytes */
			len = in_bytes(in, 200, &p);
			msg_batch_rec(bt, seq, coll, id, p, len);
			break;
		default: /* a state; 7: with bytes flipped */
			if (z.sign_bno != 0) {
				add_signed(in, bt, seq, coll, id);
				break;
			}
			/* the item with a nil state, the nil then replaced
			 * by a state built in place (or put back) */
			msg_batch_rec(bt, seq, coll, id, NULL, 0);
			len = --bt->out->len;
			if (build_state(in, coll, bt->out) != 0) {
				bt->out->len = len;
				msgpack_pack_nil(&bt->pk);
			}
			len = bt->out->len - at;
			for (int j = 0; k % 8 == 7 && j < 3; j++)
				bt->out->p[at + in_u8(in) % len] ^= in_u8(in);
		}
	}
	return seq;
}

/* CHANGES: in the subscribed epoch from where the node expects them,
 * unless the input says otherwise (one time in eight for each). */
static void
enc_changes(struct in *in, struct sess *s, struct buf *out)
{
	uint8_t k = in_u8(in), k2 = in_u8(in);
	const uint8_t *ep = (k & 7) == 1 ? pick_epoch(in, s) : s->sub_epoch;
	uint64_t from = (k & 7) == 2 ? in_num(in) : s->rpos;
	unsigned n = in_u8(in) % (RECS_MAX + 1);
	/* HEAD is written first: the UPTO the records will end at, unless
	 * one of them has another seq (then the node is not caught up) */
	uint64_t head = (k2 & 7) == 1 ? in_num(in) : from + n;
	uint64_t now = hlc_wall_ms(), upto;
	struct msg_batch bt;

	msg_changes_begin(&bt, out, ep, from, head,
	    (k2 & 6) == 6 ? now + in_uint(in, 4) * 1000 : now);
	upto = add_recs(in, &bt, from, false, n);
	if ((k >> 3 & 7) == 0)
		upto = (k & 0x40) ? in_num(in) : upto + in_u8(in);
	msg_changes_end(&bt, upto);
	/* the node takes the next CHANGES from upto, if it took this one */
	if (memcmp(ep, s->sub_epoch, 16) == 0 && from == s->rpos &&
	    upto >= from)
		s->rpos = upto;
}

static void
enc_repair(struct in *in, struct buf *out)
{
	struct msg_batch bt;

	msg_repair_begin(&bt, out, MSG_COUNT_LATER);
	add_recs(in, &bt, 0, true, in_u8(in) % (RECS_MAX + 1));
	msg_batch_end(&bt);
}

/* FETCH, VIDS, VDIGEST, VDIGEST_REQ, VIDS_REQ: a verification's frames. */
static void
enc_verify(struct in *in, struct sess *s, struct buf *out)
{
	uint8_t k = in_u8(in), id[16], items[1024], bucket;
	struct msg_vdigest vd;
	unsigned n = k >> 5;
	struct msg_batch bt;
	struct buf ib;
	msgpack_packer pk;

	switch (k & 7) {
	case 0:
		msg_enc_vdigest_req(out);
		break;
	case 1:
		msg_enc_vids_req(out, in_u8(in));
		break;
	case 2:
		/* bit 3: any seqs; else those of a peer holding still */
		memset(z.sums, in_u8(in), sizeof(z.sums));
		vd = (struct msg_vdigest){s->rpos, s->rpos, s->a_upto, z.sums,
		    in_num(in), in_num(in)};
		if (k & 8) {
			vd.seq = in_num(in);
			vd.head = in_num(in);
			vd.upto = in_num(in);
		}
		msg_enc_vdigest(out, &vd);
		break;
	case 3:
		buf_init_mem(&ib, items, sizeof(items), sizeof(items));
		msgpack_packer_init(&pk, &ib, buf_pk_write);
		for (unsigned i = 0; i < n; i++) {
			fx_id(id, 1 + in_u8(in) % NIDS);
			msg_ids_item(&pk, in_u8(in) % 7, id,
			    (in_u8(in) & 1) ? NULL : zeros);
		}
		bucket = in_u8(in);
		msg_enc_vids(
		    out, (bucket & 1) ? bucket : s->bucket, n, ib.p, ib.len);
		buf_free(&ib);
		break;
	default:
		msg_fetch_begin(&bt, out);
		for (unsigned i = 0; i < n; i++) {
			fx_id(id, 1 + in_u8(in) % NIDS);
			msg_batch_id(&bt, in_u8(in) % 7, id);
		}
		msg_batch_end(&bt);
	}
}

/* Any peer message of msg.h's table, each of its keys present or not,
 * with a value of the key's type (or, sometimes, of any type). */
static void
enc_table(struct in *in, struct sess *s, struct buf *out)
{
	size_t ndefs, nk = 0;
	const struct msg_def *d = &msg_defs(&ndefs)[in_u8(in) % ndefs];
	uint16_t has = (uint16_t)in_uint(in, 2);
	msgpack_packer pk;

	for (uint8_t i = 0; i < d->nslots; i++)
		nk += (has >> i) & 1;
	buf_reset(out);
	msgpack_packer_init(&pk, out, buf_pk_write);
	msgpack_pack_map(&pk, nk + 1);
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint8(&pk, d->type);
	for (uint8_t i = 0; i < d->nslots; i++) {
		const struct msg_keydef *kd = msg_key(d->slots[i].key);
		uint8_t k = in_u8(in);
		if (!((has >> i) & 1))
			continue;
		msgpack_pack_uint8(&pk, d->slots[i].key);
		if (k % 16 == 0) {
			pack_any(&pk, in, 0);
			continue;
		}
		switch (kd->vtype) {
		case MV_UINT:
			msgpack_pack_uint64(&pk, in_num(in));
			break;
		case MV_INT:
			msgpack_pack_int64(&pk, (int64_t)in_num(in));
			break;
		case MV_BIN16:
			msgpack_pack_bin_with_body(&pk, pick_epoch(in, s), 16);
			break;
		case MV_SUMS:
			msgpack_pack_bin_with_body(&pk, z.sums, sizeof(z.sums));
			break;
		default: /* str, map, array */
			pack_any(&pk, in, 0);
		}
	}
}

/* Any bytes as a frame body; or, k odd, any 4 bytes as its header. */
static void
send_raw(struct in *in, struct sess *s)
{
	const uint8_t *p;
	uint8_t k = in_u8(in);
	size_t n = in_bytes(in, 255, &p);

	if (k & 1) {
		uint8_t hdr[4];
		frame_put_hdr(hdr, (uint32_t)in_uint(in, 4));
		bufferevent_write(s->fk->bev, hdr, 4);
		bufferevent_write(s->fk->bev, p, n);
	} else {
		send_frame(s, p, n);
	}
}

/* ---- the node's side ---------------------------------------------------- */

/* Read what the node sent: where its SUB wants our feed from, and how far
 * its own CHANGES went (for an ACK). Everything else is dropped. */
static void
node_says(struct sess *s)
{
	struct evbuffer *ib = bufferevent_get_input(s->fk->bev);
	struct msg_peer m;
	uint8_t hdr[4];
	uint32_t len;

	while (evbuffer_get_length(ib) >= 4) {
		evbuffer_copyout(ib, hdr, 4);
		len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		    (uint32_t)hdr[2] << 8 | hdr[3];
		if (len > JALIN_FRAME_MAX)
			die("node sent a frame of %u bytes", len);
		if (evbuffer_get_length(ib) < 4 + (size_t)len)
			return;
		evbuffer_drain(ib, 4);
		buf_reset(&z.tmp);
		if (buf_reserve(&z.tmp, len) != 0)
			die("out of memory");
		z.tmp.len = (size_t)evbuffer_remove(ib, z.tmp.p, len);
		memset(&m, 0, sizeof(m));
		if (msg_decode_peer(z.tmp.p, z.tmp.len, &m, NULL) != 0)
			die("node sent a frame that does not decode");
		if (m.type == MSG_SUB) {
			memcpy(
			    s->sub_epoch, m.has_epoch ? m.epoch : s->epoch, 16);
			s->rpos = m.has_epoch ? m.seq : 0;
		} else if (m.type == MSG_CHANGES) {
			s->a_upto = m.upto;
		} else if (m.type == MSG_VIDS_REQ) {
			s->bucket = (uint8_t)m.bucket;
		}
	}
}

/* Nothing queued to commit, no connection being closed or with bytes to
 * write. */
static bool
node_idle(void)
{
	struct peers *ps = z.a->n.peers;
	struct conn *c;

	if (ops_pending(z.a->n.ops) != 0)
		return false;
	TAILQ_FOREACH (c, &ps->conns, link) {
		if (c->dead ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
			return false;
	}
	return true;
}

static void
run_round(struct sess *s)
{
	event_base_loop(fx_base(z.f), EVLOOP_NONBLOCK);
	node_says(s);
}

/* Run until the node is idle two rounds in a row (a deferred callback
 * may still be due after the first). */
static void
run_idle(struct sess *s)
{
	int idle = 0;

	for (int i = 0; i < ROUNDS_MAX && idle < 2; i++) {
		run_round(s);
		idle = node_idle() ? idle + 1 : 0;
	}
}

/* The node still reads from hostile. */
static bool
session_open(void)
{
	struct conn *c;

	TAILQ_FOREACH (c, &z.a->n.peers->conns, link) {
		if (!c->dead && !c->closing)
			return true;
	}
	return false;
}

/* One frame (or action) from the input. */
static void
one_op(struct in *in, struct sess *s)
{
	struct buf *out = &z.body;
	uint8_t op = in_u8(in);

	buf_reset(out);
	switch (op % 16) {
	case 0:
		enc_hello(in, s, out);
		break;
	case 1:
	case 2:
	case 3:
	case 4:
		enc_changes(in, s, out);
		break;
	case 5:
		enc_repair(in, out);
		break;
	case 6:
		msg_enc_ack(out, pick_epoch(in, s),
		    (op & 0x80) ? in_num(in) : s->a_upto);
		break;
	case 7:
		msg_enc_live(
		    out, pick_epoch(in, s), (op & 0x80) ? in_num(in) : s->rpos);
		break;
	case 8:
		msg_enc_sub(out, (op & 0x80) ? NULL : pick_epoch(in, s),
		    (op & 0x40) ? in_num(in) : s->a_upto);
		break;
	case 9:
		msg_enc_resync(out, pick_epoch(in, s), "fuzz");
		break;
	case 10:
		(op & 0x80) ? msg_enc_ping(out, in_num(in))
		            : msg_enc_pong(out, in_num(in));
		break;
	case 11:
		enc_verify(in, s, out);
		break;
	case 12:
		enc_table(in, s, out);
		break;
	case 13:
		send_raw(in, s);
		return;
	case 14:
		if (op & 0x80) { /* as `jalinctl verify hostile` */
			(void)verify_request(z.a->n.peers, HOSTILE,
			    strlen(HOSTILE), NULL, NULL, NULL);
			return;
		}
		if (op & 0x40) {
			enc_signed(in, s, out);
			break;
		}
		msg_enc_error(out, -(int)(in_u8(in) % 24), "fuzz");
		break;
	default: /* 15: not a frame */
		switch (op >> 4 & 3) {
		case 0:
			s->split = true;
			break;
		case 1:
			fx_tick(z.a);
			break;
		case 2:
			s->nowait = true;
			break;
		default:
			s->again = true;
			s->again_flags = op;
		}
		return;
	}
	if (out->err == 0)
		send_frame(s, out->p, out->len);
}

/* ---- checks ------------------------------------------------------------- */

/* Every record of nd passes its CRC and a peer state's decoding. */
static void
check_records(struct fx_node *nd)
{
	struct stdb *db = store_db(nd->n.store);
	struct stdb_iter it;
	const uint8_t *state;
	struct jalin_err err;
	MDB_txn *txn;
	size_t len, nrec = 0;
	uint64_t seq;
	int rc;

	if (stdb_begin_read(db, &txn, NULL) != 0)
		die("cannot read the store");
	stdb_iter_open(&it, txn, db, STDB_RECORDS);
	for (stdb_iter_first(&it); stdb_iter_valid(&it); stdb_iter_next(&it)) {
		const uint8_t *key = stdb_iter_key(&it, &len);
		nrec++;
		if ((rc = stdb_iter_record(&it, &state, &len, &seq)) != 0)
			die("record %u/..%02x: bad CRC or value (%d)", key[0],
			    key[16], rc);
		jalin_err_clear(&err);
		if ((rc = rec_decode(z.r[0], state, len, 0, &err)) != 0)
			die("record %u/..%02x does not decode: %s", key[0],
			    key[16], jalin_err_msg(&err, rc));
	}
	if ((rc = stdb_iter_err(&it)) != 0)
		die("walking the records failed (%d)", rc);
	stdb_iter_close(&it);
	stdb_end_read(txn);
	if (nrec == 0)
		die("the store lost its records");
}

/* The next record of coll at it, or false at the end of coll. */
static bool
guarded_next(struct stdb_iter *it, uint8_t coll, bool first,
    const uint8_t **key, const uint8_t **state, size_t *len)
{
	uint64_t seq;
	size_t kl;

	if (first)
		stdb_iter_find(it, &coll, 1, STDB_FIND_GEQ);
	else
		stdb_iter_next(it);
	if (!stdb_iter_valid(it) || !stdb_iter_has_prefix(it, &coll, 1))
		return false;
	*key = stdb_iter_key(it, &kl);
	if (stdb_iter_record(it, state, len, &seq) != 0)
		die("guarded record unreadable");
	return true;
}

/* jabar's records of coll are the twin's, byte for byte. */
static void
check_coll(MDB_txn *ta, MDB_txn *tb, uint8_t coll)
{
	struct stdb_iter ia, ib;
	const uint8_t *ka, *kb, *sa, *sb;
	size_t la, lb;
	bool ha, hb, first = true;

	stdb_iter_open(&ia, ta, store_db(z.a->n.store), STDB_RECORDS);
	stdb_iter_open(&ib, tb, store_db(z.b->n.store), STDB_RECORDS);
	for (;; first = false) {
		ha = guarded_next(&ia, coll, first, &ka, &sa, &la);
		hb = guarded_next(&ib, coll, first, &kb, &sb, &lb);
		if (!ha && !hb)
			break;
		if (ha != hb || memcmp(ka, kb, STDB_KEY_LEN) != 0)
			die("%s: %s holds another set of records than %s",
			    schema_coll_by_id(coll)->name, SELF, TWIN);
		if (la != lb || memcmp(sa, sb, la) != 0)
			die("%s ..%02x: %s's state differs from %s's",
			    schema_coll_by_id(coll)->name, ka[16], SELF, TWIN);
	}
	stdb_iter_close(&ia);
	stdb_iter_close(&ib);
}

/* r names jabar or the twin among its writers. */
static bool
written_by_us(const struct record *r)
{
	for (uint16_t i = 0; i < r->norigins; i++)
		if ((r->origin[i].len == strlen(SELF) &&
		        memcmp(r->origin[i].name, SELF, strlen(SELF)) == 0) ||
		    (r->origin[i].len == strlen(TWIN) &&
		        memcmp(r->origin[i].name, TWIN, strlen(TWIN)) == 0))
			return true;
	return false;
}

/* Drop hostile's context from r when no event of it is left: what a
 * state of hostile's may add to any record it sends (an origin that has
 * seen the record), which changes no event of anyone else's. */
static void
strip_hostile_ctx(struct record *r)
{
	for (uint16_t i = 0; i < r->norigins; i++) {
		if (r->origin[i].len != strlen(HOSTILE) ||
		    memcmp(r->origin[i].name, HOSTILE, r->origin[i].len) != 0)
			continue;
		for (uint16_t d = 0; d < r->ndots; d++)
			if (r->dot[d].origin == i)
				return;
		for (uint16_t j = i; j + 1 < r->norigins; j++) {
			r->origin[j] = r->origin[j + 1];
			r->ctx[j] = r->ctx[j + 1];
		}
		r->norigins--;
		for (uint16_t d = 0; d < r->ndots; d++)
			if (r->dot[d].origin > i)
				r->dot[d].origin--;
		return;
	}
}

/* x and y hold the same events: byte for byte, or but for hostile's
 * context (strip_hostile_ctx). */
static bool
same_events(const uint8_t *x, size_t lx, const uint8_t *y, size_t ly)
{
	if (lx == ly && memcmp(x, y, lx) == 0)
		return true;
	if (rec_decode(z.r[0], x, lx, REC_TRUSTED, NULL) != 0 ||
	    rec_decode(z.r[1], y, ly, REC_TRUSTED, NULL) != 0)
		return false;
	strip_hostile_ctx(z.r[0]);
	strip_hostile_ctx(z.r[1]);
	buf_reset(&z.tmp);
	buf_reset(&z.st);
	return rec_encode(z.r[0], &z.tmp) == 0 &&
	    rec_encode(z.r[1], &z.st) == 0 && z.tmp.len == z.st.len &&
	    memcmp(z.tmp.p, z.st.p, z.tmp.len) == 0;
}

/* Every record of coll in tx that from (jabar or the twin) holds, and
 * that jabar or the twin wrote, holds in ty the same events (same_events):
 * hostile changed none of them and made none up in their names. Case 6
 * is shared with hostile, which may write its fields: it is not
 * compared. */
static void
check_ours(MDB_txn *tx, struct fx_node *from, MDB_txn *ty,
    struct fx_node *other, uint8_t coll)
{
	struct stdb_iter it;
	const uint8_t *key, *sx, *sy;
	size_t lx, ly;
	uint64_t seq;
	uint8_t case6[16];
	bool first = true;

	fx_id(case6, 6);
	stdb_iter_open(&it, tx, store_db(from->n.store), STDB_RECORDS);
	for (; guarded_next(&it, coll, first, &key, &sx, &lx); first = false) {
		if ((coll == COLL_CASE && memcmp(key + 1, case6, 16) == 0) ||
		    rec_decode(z.r[0], sx, lx, REC_TRUSTED, NULL) != 0 ||
		    !written_by_us(z.r[0]))
			continue;
		if (stdb_get_record(ty, store_db(other->n.store), coll, key + 1,
		        &sy, &ly, &seq) != 0 ||
		    !same_events(sx, lx, sy, ly))
			die("%s ..%02x, written by %s or %s: %s's copy differs "
			    "from %s's (write authority)",
			    schema_coll_by_id(coll)->name, key[16], SELF, TWIN,
			    SELF, TWIN);
	}
	stdb_iter_close(&it);
}

/* What hostile may not write is as the twin has it; `verify`'s digests
 * of those collections agree. Unless FUZZ_PEER_AUTHORITY=0, also the
 * records of the collections hostile shares that only jabar and the twin
 * may write (issue 13's write authority). */
static void
check_guarded(void)
{
	uint8_t da[COLL_COUNT + 1][32], db[COLL_COUNT + 1][32];
	MDB_txn *ta, *tb;

	if (stdb_begin_read(store_db(z.a->n.store), &ta, NULL) != 0 ||
	    stdb_begin_read(store_db(z.b->n.store), &tb, NULL) != 0)
		die("cannot read the stores");
	if (stdb_digests(ta, store_db(z.a->n.store), da, NULL) != 0 ||
	    stdb_digests(tb, store_db(z.b->n.store), db, NULL) != 0)
		die("cannot compute the digests");
	for (uint8_t c = COLL_MIN; c <= COLL_MAX; c++) {
		if (!(GUARDED_COLLS & (1u << c)))
			continue;
		check_coll(ta, tb, c);
		if (memcmp(da[c], db[c], 32) != 0)
			die("%s: digest differs from %s's",
			    schema_coll_by_id(c)->name, TWIN);
	}
	for (uint8_t c = COLL_MIN; z.authority && c <= COLL_MAX; c++) {
		if (!(HOSTILE_COLLS & (1u << c)))
			continue;
		check_ours(ta, z.a, tb, z.b, c);
		check_ours(tb, z.b, ta, z.a, c);
	}
	stdb_end_read(ta);
	stdb_end_read(tb);
}

/* ---- setup -------------------------------------------------------------- */

/* A local write, as ops.c makes one: the node signs its new events
 * (store_txn_set over what it holds; applying the state as a peer's
 * would store it unsigned). */
static int
put_fn(struct store_txn *tx, void *arg)
{
	const uint8_t *k = arg; /* coll, id, then the state in z.body */
	struct store_cur cur;
	int rc;

	if ((rc = rec_decode(z.r[0], z.body.p, z.body.len, 0, NULL)) != 0 ||
	    (rc = store_txn_get(tx, k[0], k + 1, &cur)) != 0)
		return rc;
	if (cur.exists)
		return JALIN_EEXIST;
	rec_init(z.r[1]);
	store_txn_observe(tx, rec_max_hlc(z.r[0]));
	return store_txn_set(tx, &cur, z.r[1], z.r[0]);
}

/* nd writes the state in z.body as coll/id n. */
static void
put_local_state(struct fx_node *nd, uint8_t coll, unsigned n)
{
	uint8_t key[17];
	struct jalin_err err;
	int rc;

	key[0] = coll;
	fx_id(key + 1, n);
	jalin_err_clear(&err);
	if ((rc = store_write(nd->n.store, put_fn, key, &err)) != 0)
		die("cannot write the reference records: %s",
		    jalin_err_msg(&err, rc));
	feed_notify(nd->n.peers);
}

/* A record nd writes: coll/id n with its collection's required fields
 * (valid under the schema and write authority, as peers check). */
static void
put_local(struct fx_node *nd, uint8_t coll, unsigned n)
{
	fx_state_coll(
	    &z.body, coll, nd->n.cfg->name, fx_hlc(-60000) + n, NULL, 0);
	put_local_state(nd, coll, n);
}

/* jabar and the twin hold the same records of every collection both
 * take from each other (cases go by share_with). */
static bool
twin_synced(void *arg)
{
	uint8_t da[COLL_COUNT + 1][32], db[COLL_COUNT + 1][32];
	MDB_txn *ta, *tb;
	int rc;

	(void)arg;
	if (stdb_begin_read(store_db(z.a->n.store), &ta, NULL) != 0 ||
	    stdb_begin_read(store_db(z.b->n.store), &tb, NULL) != 0)
		die("cannot read the stores");
	rc = stdb_digests(ta, store_db(z.a->n.store), da, NULL) |
	    stdb_digests(tb, store_db(z.b->n.store), db, NULL);
	stdb_end_read(ta);
	stdb_end_read(tb);
	return rc == 0 &&
	    memcmp(da[COLL_PARTNERSHIP], db[COLL_PARTNERSHIP], 32) == 0 &&
	    memcmp(da[COLL_RESOURCE], db[COLL_RESOURCE], 32) == 0 &&
	    memcmp(da[COLL_LKS], db[COLL_LKS], 32) == 0;
}

static void
copy_file(const char *from, const char *to)
{
	char b[1 << 16];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (in < 0 || out < 0)
		die("cannot copy %s to %s", from, to);
	while ((n = read(in, b, sizeof(b))) > 0)
		if (write(out, b, (size_t)n) != n)
			die("cannot write %s", to);
	if (n < 0)
		die("cannot read %s", from);
	close(in);
	close(out);
}

/* A referral of origin shared with one node, into z.body: valid for the
 * schema, as a peer's state must be. */
static void
shared_referral(const char *origin, const char *with, uint64_t hlc)
{
	uint8_t v[JALIN_NAME_MAX + 8];
	struct buf val;
	msgpack_packer pk;
	struct merge_update u;

	buf_init_mem(&val, v, sizeof(v), sizeof(v));
	msgpack_packer_init(&pk, &val, buf_pk_write);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_str_with_body(&pk, with, strlen(with));
	u = (struct merge_update){TAG_SHARE_WITH, (uint32_t)val.len, val.p};
	buf_reset(&z.body);
	fx_state_coll(&z.body, COLL_REFERRAL, origin, hlc, &u, 1);
}

/* The records each side writes before replication; hostile may write
 * lks, case and referral, not partnership and resource. */
static void
write_references(void)
{
	put_local(z.a, COLL_PARTNERSHIP, 1);
	put_local(z.a, COLL_PARTNERSHIP, 2);
	put_local(z.a, COLL_RESOURCE, 3);
	put_local(z.a, COLL_RESOURCE, 4);
	put_local(z.a, COLL_LKS, 5);
	fx_state_shared(&z.body, SELF, HOSTILE, fx_hlc(-60000));
	put_local_state(z.a, COLL_CASE, 6);
	shared_referral(SELF, TWIN, fx_hlc(-60000));
	put_local_state(z.a, COLL_REFERRAL, 7);
	put_local(z.b, COLL_PARTNERSHIP, 8);
	put_local(z.b, COLL_RESOURCE, 9);
	put_local(z.b, COLL_RESOURCE, 10);
	put_local(z.b, COLL_LKS, 11);
}

static void
snapshot_path(char *p, size_t n, const char *dir)
{
	if ((size_t)snprintf(p, n, "%s/data.mdb", dir) >= n)
		die("path too long");
}

/* Both nodes, their records replicated once over an honest link, then
 * the twin on its own; jabar's store saved as every input's start. */
static void
setup(void)
{
	const char *lv = getenv("FUZZ_PEER_LOG");
	const char *re = getenv("FUZZ_PEER_RESET");
	const char *au = getenv("FUZZ_PEER_AUTHORITY");
	char db[128];

	setenv("CMOCKA_TEST_ABORT", "1", 0); /* a failed fx assert aborts */
	if (getenv("FX_TMPDIR") == NULL && access("/dev/shm", W_OK) == 0)
		setenv("FX_TMPDIR", "/dev/shm", 0);
	z.authority = au == NULL || strcmp(au, "0") != 0;
	z.reset_every =
	    re != NULL && atoi(re) > 0 ? (unsigned)atoi(re) : RESET_EVERY;
	buf_init(&z.body, JALIN_FRAME_MAX);
	buf_init(&z.tmp, JALIN_FRAME_MAX);
	buf_init_mem(&z.vals, valmem, sizeof(valmem), sizeof(valmem));
	buf_init(&z.st, JALIN_RECORD_MAX);
	if ((z.r[0] = malloc(sizeof(struct record))) == NULL ||
	    (z.r[1] = malloc(sizeof(struct record))) == NULL)
		die("out of memory");
	z.f = fx_new();
	log_set_level(lv != NULL ? atoi(lv) : CFG_LOG_ERR);
	z.a = fx_node_add(z.f, SELF);
	fx_node_peer(z.a, HOSTILE, HOSTILE_COLLS, false);
	fx_node_peer(z.a, TWIN, FX_COLLS_ALL, false);
	z.b = fx_node_add(z.f, TWIN);
	fx_node_peer(z.b, SELF, FX_COLLS_ALL, false);
	/* both sign their writes and check CERTs (hostile has no certificate
	 * of the harness's CA: it can sign nothing but its own batches) */
	fx_node_tls(z.a);
	fx_node_tls(z.b);
	fx_node_start(z.a);
	fx_node_start(z.b);
	write_references();
	fx_link(z.a, z.b);
	if (!fx_run(z.f, twin_synced, NULL))
		die("%s and %s did not sync", SELF, TWIN);
	fx_node_stop(z.b);
	fx_settle(z.f);
	fx_node_start(z.b); /* on its own from now on */
	fx_node_stop(z.a);
	snprintf(z.snap, sizeof(z.snap), "%s.snap", z.a->dir);
	snapshot_path(db, sizeof(db), z.a->dir);
	copy_file(db, z.snap);
	fx_node_start(z.a);
	check_records(z.a);
	check_guarded();
}

static void
teardown(void)
{
	unlink(z.snap);
	fx_free(z.f);
	buf_free(&z.body);
	buf_free(&z.tmp);
	buf_free(&z.st);
	free(z.r[0]);
	free(z.r[1]);
}

/* Every reset_every inputs: the store the last inputs left must open
 * and read; then jabar starts again from its snapshot. */
static void
reset_node(void)
{
	char db[128];

	if (z.runs % z.reset_every != 0)
		return;
	fx_node_stop(z.a);
	fx_node_start(z.a);
	check_records(z.a);
	fx_node_stop(z.a);
	snapshot_path(db, sizeof(db), z.a->dir);
	copy_file(z.snap, db);
	fx_node_start(z.a);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup();
	atexit(teardown);
	return 0;
}

/* Hostile hangs up fk: the node must let that connection go (keep: how
 * many others may stay). */
static void
hang_up(struct sess *s, struct fx_fake *fk, unsigned keep)
{
	struct peers *ps = z.a->n.peers;

	fx_fake_hangup(fk);
	for (int i = 0; i < ROUNDS_MAX && ps->nconns > keep; i++)
		run_round(s);
	if (ps->nconns > keep)
		die("%s kept %s's connection after it hung up", SELF, HOSTILE);
	fx_fake_free(fk);
}

/* A connection of hostile's (flags bit 0: jabar dialled, bit 1: no
 * HELLO from us), its HELLO, and the node's SUB read. */
static void
session_start(struct sess *s, uint8_t flags)
{
	memcpy(s->epoch, EPOCH_H, 16);
	memcpy(s->sub_epoch, EPOCH_H, 16);
	s->rpos = s->a_upto = 0;
	s->fk = fx_fake_new(z.a, HOSTILE, flags & 1);
	run_idle(s); /* the node's HELLO */
	if (flags & 2)
		return;
	msg_enc_hello(&z.body,
	    &(struct msg_hello){JALIN_PROTO_VERSION_MIN,
	        JALIN_PROTO_VERSION_MAX, HOSTILE, EPOCH_H, 0, 0, NULL, 0});
	send_frame(s, z.body.p, z.body.len);
	run_idle(s);
}

/* Hostile connects again, at once (a commit may be under way): hanging
 * up first, or (bit 6) opening the new session before it hangs up the
 * old, a duplicate the node must resolve. */
static void
session_again(struct sess *s)
{
	struct fx_fake *old = s->fk;
	uint8_t flags = s->again_flags >> 7;

	s->again = false;
	if (s->again_flags & 0x40) {
		session_start(s, flags);
		hang_up(s, old, 1);
		run_idle(s);
	} else {
		hang_up(s, old, 0);
		session_start(s, flags);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct in in = {d, n};
	struct sess s;

	if (z.runs++ > 0)
		reset_node();
	memset(&s, 0, sizeof(s));
	session_start(&s, in_u8(&in));
	for (int i = 0; i < FRAMES_MAX && in.n > 0; i++) {
		if (s.again)
			session_again(&s);
		if (!session_open())
			break;
		bool wait = !s.nowait;
		s.nowait = false;
		one_op(&in, &s);
		if (wait && !s.again)
			run_idle(&s);
	}
	hang_up(&s, s.fk, 0);
	check_records(z.a);
	check_guarded();
	return 0;
}
