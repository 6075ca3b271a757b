/*
 * verify.c - compare the shared scope with a peer, locate differences,
 * repair them (DESIGN.md §4 "Verification").
 *
 * Both sides compute a digest of what they would send each other:
 * JALIN_DIGEST_BUCKETS (256) buckets (by the random last byte of the record
 * id) each holding the sum of SHA-256([coll][id][state]) of the live
 * records in it. The scans run in slices between other work, so a large
 * store stays responsive. Digests are compared only when they describe the
 * same changes: neither feed moved while scanning and each side had applied
 * everything of the other's. Otherwise the answer is "not verified yet",
 * never a false difference.
 *
 * A differing bucket is narrowed down by listing [coll, id, hash] on both
 * sides (tombstones included, corrupt records with a nil hash); each
 * differing record is sent to the peer (REPAIR) and asked of it (FETCH),
 * and the merge, which makes resends harmless, does the rest. A corrupt
 * copy is replaced by the peer's (store.c). Then the peer is verified again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/evp.h>

#include "hlc.h"
#include "limits.h"
#include "log.h"
#include "mp.h"
#include "peer.h"
#include "peer_impl.h"
#include "conn.h"
#include "feed.h"
#include "apply.h"
#include "verify.h"
#include "store.h"
#include "trust.h"
#include "view.h"

/* A record's bucket is the last byte of its id (key[UUID_LEN]). */
_Static_assert(JALIN_DIGEST_BUCKETS == UINT8_MAX + 1, "one bucket per byte");

/* A sliced scan of our records for one peer: digest, or one bucket's ids. */
struct vscan {
	struct peers *ps;
	char peer[JALIN_NAME_MAX + 1];
	int bucket; /* -1: digest of every bucket */
	uint8_t last[STDB_KEY_LEN];
	bool started;
	bool cancelled;
	uint64_t head0;
	uint8_t sums[JALIN_DIGEST_BUCKETS * 32];
	uint64_t count, bad;
	struct buf ids; /* bucket mode: msgpack [coll, id, hash|nil] items */
	uint32_t nids;
	struct event *ev;
	EVP_MD_CTX *md;
	EVP_MD *sha;
	void (*done)(struct vscan *v, void *arg);
	void *arg;
};

enum verify_state {
	V_IDLE = 0,
	V_DIGEST, /* our scan and their digest under way */
	V_IDS,    /* comparing one bucket's ids */
	V_RECHECK /* repaired: verifying again shortly */
};

/* Verification state of one peer (opaque to the other modules). */
struct verify {
	int state;
	uint64_t next_ms;    /* next periodic run */
	uint64_t started_ms; /* the current round */
	uint64_t my_head;    /* our head when our scan started */
	uint64_t my_ck;      /* our checkpoint of their feed then */
	struct vscan *scan;  /* our scan in progress */
	bool mine_done, theirs_done;
	uint8_t *mine; /* JALIN_DIGEST_BUCKETS x 32 bucket sums */
	uint8_t *theirs;
	uint64_t my_count, their_count, my_bad, their_bad;
	uint64_t their_head0, their_head1, their_ck;
	uint8_t diff[JALIN_DIGEST_BUCKETS / 8]; /* differing buckets */
	unsigned rechecks; /* repair rounds in a row, this check */
	int bucket;        /* being compared, -1 none */
	struct buf my_ids, their_ids;
	bool my_ids_done, their_ids_done;
	struct verify_result last;
	struct verify_result cur;
	struct {
		verify_done_fn *fn;
		void *ctx;
	} waiters[JALIN_VERIFY_WAITERS_MAX];
	unsigned nwaiters;
};

static uint64_t
now_ms(void)
{
	return hlc_wall_ms();
}

static void slice_cb(evutil_socket_t fd, short what, void *arg);

static void
vscan_free(struct vscan *v)
{
	if (v == NULL)
		return;
	if (v->ev)
		event_free(v->ev);
	EVP_MD_CTX_free(v->md);
	EVP_MD_free(v->sha);
	buf_free(&v->ids);
	free(v);
}

static struct vscan *
vscan_new(struct peers *ps, const char *peer, int bucket,
    void (*done)(struct vscan *, void *), void *arg)
{
	struct vscan *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	v->ps = ps;
	snprintf(v->peer, sizeof(v->peer), "%s", peer);
	v->bucket = bucket;
	v->done = done;
	v->arg = arg;
	v->head0 = store_seq(ps->n->store);
	buf_init(&v->ids, JALIN_VERIFY_IDS_BYTES);
	v->md = EVP_MD_CTX_new();
	v->sha = EVP_MD_fetch(NULL, "SHA256", NULL);
	v->ev = event_new(ps->n->base, -1, 0, slice_cb, v);
	if (v->md == NULL || v->sha == NULL || v->ev == NULL) {
		vscan_free(v);
		return NULL;
	}
	event_priority_set(v->ev, 1); /* after I/O, like the group commit */
	event_active(v->ev, 0, 0);
	return v;
}

static void
pack_item(struct vscan *v, const uint8_t *key, const uint8_t *hash)
{
	msgpack_packer pk;

	if (v->nids >= JALIN_VERIFY_IDS_MAX)
		return;
	msgpack_packer_init(&pk, &v->ids, buf_pk_write);
	msg_ids_item(&pk, key[0], key + 1, hash);
	v->nids++;
}

/* One record of the scan. */
static void
scan_one(struct vscan *v, const struct peer *p, const struct stdb_iter *it)
{
	struct record *r = v->ps->sws;
	const uint8_t *key, *state;
	uint8_t h[32];
	size_t klen, len;
	uint64_t seq;

	key = stdb_iter_key(it, &klen);
	if (klen != STDB_KEY_LEN ||
	    (v->bucket >= 0 && key[UUID_LEN] != (uint8_t)v->bucket))
		return;
	if (stdb_iter_record(it, &state, &len, &seq) != 0 ||
	    rec_decode(r, state, len, REC_TRUSTED, NULL) != 0) {
		v->bad++; /* corrupt: listed without a hash, repaired */
		if (v->bucket >= 0)
			pack_item(v, key, NULL);
		return;
	}
	if (feed_what(p, key[0], r) != FEED_RECORD)
		return;
	if (stdb_record_hash(v->md, v->sha, key[0], key + 1, state, len, h))
		return;
	if (v->bucket >= 0) {
		pack_item(v, key, h);
	} else if (rec_is_live(r)) {
		stdb_sum_add(v->sums + 32 * key[UUID_LEN], h);
		v->count++;
	}
}

/* One slice of the scan: up to JALIN_VERIFY_SLICE records after v->last. */
static void
slice_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vscan *v = arg;
	struct peer *p = peer_find(v->ps, v->peer);
	const struct stdb *db = store_db(v->ps->n->store);
	struct stdb_iter it;
	const uint8_t *key;
	MDB_txn *txn;
	size_t klen;
	bool more;

	(void)fd;
	(void)what;
	if (v->cancelled || p == NULL ||
	    stdb_begin_read(store_db(v->ps->n->store), &txn, NULL) != 0) {
		v->cancelled = true;
		v->done(v, v->arg);
		return;
	}
	stdb_iter_open(&it, txn, db, STDB_RECORDS);
	stdb_iter_find(
	    &it, v->last, v->started ? STDB_KEY_LEN : 0, STDB_FIND_GT);
	v->started = true;
	for (int n = 0; stdb_iter_valid(&it) && n < JALIN_VERIFY_SLICE; n++) {
		scan_one(v, p, &it);
		key = stdb_iter_key(&it, &klen);
		if (klen == STDB_KEY_LEN)
			memcpy(v->last, key, STDB_KEY_LEN);
		stdb_iter_next(&it);
	}
	more = stdb_iter_valid(&it);
	/* a store we cannot read (the cursor not opened, a failed step) ends
	 * the scan as if it were cancelled: a partial digest is no answer */
	if (stdb_iter_err(&it) != 0)
		v->cancelled = true;
	stdb_iter_close(&it);
	stdb_end_read(txn);
	if (more)
		event_active(v->ev, 0, 0); /* more: after pending I/O */
	else
		v->done(v, v->arg);
}

/* --- the requesting side ------------------------------------------------ */

static void finish(struct peers *ps, struct peer *p, int rc, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
notify(struct peer *p)
{
	unsigned n = p->v->nwaiters;

	p->v->nwaiters = 0;
	for (unsigned i = 0; i < n; i++)
		p->v->waiters[i].fn(p->v->waiters[i].ctx, &p->v->last);
}

static void
reset_round(struct peer *p)
{
	struct verify *v = p->v;

	if (v->scan != NULL)
		v->scan->cancelled = true; /* it frees itself when done */
	v->scan = NULL;
	v->mine_done = v->theirs_done = false;
	v->my_ids_done = v->their_ids_done = false;
	buf_reset(&v->my_ids);
	buf_reset(&v->their_ids);
	v->bucket = -1;
}

static void
finish(struct peers *ps, struct peer *p, int rc, const char *fmt, ...)
{
	struct verify *v = p->v;
	uint64_t now = now_ms();
	va_list ap;

	(void)ps;
	reset_round(p);
	v->cur.rc = rc;
	v->cur.at_ms = now;
	va_start(ap, fmt);
	vsnprintf(v->cur.text, sizeof(v->cur.text), fmt, ap);
	va_end(ap);
	if (rc == 0 && v->cur.equal)
		v->cur.verified_ms = now;
	else
		v->cur.verified_ms = v->last.verified_ms;
	v->last = v->cur;
	v->state = V_IDLE;
	v->next_ms = now +
	    (rc == 0 ? 1000ull * ps->n->cfg->verify_interval
	             : JALIN_VERIFY_RETRY_MS);
	if (rc == 0 && !v->cur.equal)
		log_warnx("peer %s: verify: %s", p->cfg.name, v->cur.text);
	else
		log_info("peer %s: verify: %s", p->cfg.name, v->cur.text);
	notify(p);
}

/* Both sides have applied all of each other's changes and hold still. */
static bool
idle_both_ways(struct peers *ps, const struct peer *p)
{
	const struct conn *c = p->conn;

	return c != NULL && c->open && !c->closing && apply_idle(p) &&
	    feed_idle(ps, p);
}

static void verify_compare(struct peer *p);

static void
my_digest_done(struct vscan *s, void *arg)
{
	struct peer *p = arg;
	struct verify *v = p->v;

	if (v->scan != s) { /* a cancelled, stale scan */
		vscan_free(s);
		return;
	}
	v->scan = NULL;
	if (s->cancelled) {
		vscan_free(s);
		finish(p->ps, p, JALIN_EUNREACH,
		    "not verified: the connection was lost");
		return;
	}
	memcpy(v->mine, s->sums, sizeof(s->sums));
	v->my_count = s->count;
	v->my_bad = s->bad;
	v->mine_done = true;
	vscan_free(s);
	if (v->theirs_done)
		verify_compare(p);
}

static bool
bit(const uint8_t *m, int b)
{
	return (m[b / 8] >> (b % 8)) & 1;
}

/* Digests of the same changes? (see the top of this file) */
static bool
comparable(struct peers *ps, const struct peer *p)
{
	const struct verify *v = p->v;

	return store_seq(ps->n->store) == v->my_head &&
	    v->their_ck == v->my_head && v->their_head0 == v->my_ck &&
	    v->their_head1 == v->my_ck && p->conn != NULL &&
	    apply_pos(p->conn) == v->my_ck;
}

static void my_ids_done(struct vscan *s, void *arg);
static void compare_ids(struct peer *p);

/* Narrow down the next differing bucket, or verify again after repairs. */
static void
next_bucket(struct peer *p)
{
	struct verify *v = p->v;
	struct buf *b = &p->ps->out;

	for (v->bucket++;
	     v->bucket < JALIN_DIGEST_BUCKETS && !bit(v->diff, v->bucket);
	     v->bucket++)
		;
	if (v->bucket >= JALIN_DIGEST_BUCKETS) {
		reset_round(p);
		if (++v->rechecks > JALIN_VERIFY_RECHECK_MAX) {
			/* what our repairs cannot settle: say so, do not spin
			 */
			finish(p->ps, p, 0,
			    "differences remain after %d repairs (%s)",
			    JALIN_VERIFY_RECHECK_MAX, v->cur.where);
			return;
		}
		v->state = V_RECHECK;
		v->next_ms = now_ms() + JALIN_VERIFY_RECHECK_MS;
		return;
	}
	v->my_ids_done = v->their_ids_done = false;
	buf_reset(&v->my_ids);
	buf_reset(&v->their_ids);
	v->scan = vscan_new(p->ps, p->cfg.name, v->bucket, my_ids_done, p);
	msg_enc_vids_req(b, (uint8_t)v->bucket);
	conn_send(p->conn, b);
}

static void
verify_compare(struct peer *p)
{
	struct verify *v = p->v;
	int ndiff = 0;

	if (!comparable(p->ps, p)) {
		finish(p->ps, p, JALIN_ESTATE,
		    "not verified: changes were in flight; retrying");
		return;
	}
	v->cur.compared = v->my_count;
	v->cur.corrupt += v->my_bad + v->their_bad;
	memset(v->diff, 0, sizeof(v->diff));
	for (int b = 0; b < JALIN_DIGEST_BUCKETS; b++) {
		if (memcmp(v->mine + 32 * b, v->theirs + 32 * b, 32) != 0) {
			v->diff[b / 8] |= (uint8_t)(1u << (b % 8));
			ndiff++;
		}
	}
	if (ndiff == 0 && v->my_bad == 0 && v->their_bad == 0) {
		v->cur.equal = true;
		if (v->cur.differing > 0)
			finish(p->ps, p, 0,
			    "in sync: %llu records compared; %llu differed and "
			    "were repaired",
			    (unsigned long long)v->cur.compared,
			    (unsigned long long)v->cur.differing);
		else
			finish(p->ps, p, 0, "in sync: %llu records compared",
			    (unsigned long long)v->cur.compared);
		return;
	}
	if (ndiff == 0) /* only corrupt records: look at every bucket */
		memset(v->diff, 0xff, sizeof(v->diff));
	v->state = V_IDS;
	v->bucket = -1;
	next_bucket(p);
}

static void
my_ids_done(struct vscan *s, void *arg)
{
	struct peer *p = arg;
	struct verify *v = p->v;

	if (v->scan != s) {
		vscan_free(s);
		return;
	}
	v->scan = NULL;
	if (s->cancelled) {
		vscan_free(s);
		finish(p->ps, p, JALIN_EUNREACH,
		    "not verified: the connection was lost");
		return;
	}
	buf_reset(&v->my_ids);
	buf_append(&v->my_ids, s->ids.p, s->ids.len);
	vscan_free(s);
	v->my_ids_done = true;
	if (v->their_ids_done)
		compare_ids(p);
}

/* Next [coll, id, hash|nil] of a listing; false at the end. */
static bool
next_item(struct mpr *m, uint8_t key[STDB_KEY_LEN], const uint8_t **hash)
{
	const uint8_t *id, *h;
	uint32_t n, idlen, hlen;
	uint64_t coll;

	if (mpr_left(m) == 0 || mpr_array(m, &n) != 0 || n != 3 ||
	    mpr_u64(m, &coll) != 0 || coll > UINT8_MAX ||
	    mpr_bin(m, &id, &idlen) != 0 || idlen != UUID_LEN)
		return false;
	key[0] = (uint8_t)coll;
	memcpy(key + 1, id, UUID_LEN);
	*hash = NULL;
	if (mpr_peek(m) == MP_NIL)
		return mpr_nil(m) == 0;
	if (mpr_bin(m, &h, &hlen) != 0 || hlen != 32)
		return false;
	*hash = h;
	return true;
}

/* Records to send (REPAIR) and to ask for (FETCH), in bounded frames. */
struct repairs {
	struct peer *p;
	struct buf rep, fetch;
	struct msg_batch rbt, fbt; /* into rep, fetch; .n: items added */
	MDB_txn *txn;
	struct trust_out *tout; /* protocol 4: the proofs' batches */
};

/* Buffers, and for a protocol-4 peer the proofs' bookkeeping. */
static void
rep_init(struct repairs *r)
{
	buf_init(&r->rep, JALIN_FRAME_MAX);
	buf_init(&r->fetch, JALIN_FRAME_MAX);
	r->tout =
	    r->p->conn != NULL && r->p->conn->pv >= 4 ? trust_out_new() : NULL;
}

static void
rep_free(struct repairs *r)
{
	buf_free(&r->rep);
	buf_free(&r->fetch);
	trust_out_free(r->tout);
}

static void
rep_open(struct repairs *r)
{
	msg_repair_begin(&r->rbt, &r->rep, MSG_COUNT_LATER);
}

static void
fetch_open(struct repairs *r)
{
	msg_fetch_begin(&r->fbt, &r->fetch);
}

static void
rep_flush(struct repairs *r, bool reopen)
{
	if (r->rbt.n > 0) {
		msg_batch_end(&r->rbt);
		if (r->tout != NULL) /* the batches first */
			trust_out_flush(r->tout, r->p->conn, r->txn);
		conn_send(r->p->conn, &r->rep);
	}
	if (r->fbt.n > 0) {
		msg_batch_end(&r->fbt);
		conn_send(r->p->conn, &r->fetch);
	}
	if (reopen) {
		rep_open(r);
		fetch_open(r);
	}
}

/* Note the batches of a record's proof for the frame (flushing the frame
 * first when it can refer to no more); false: send it without its proof. */
static bool
rep_note(struct repairs *r, const uint8_t *state, size_t len,
    const uint8_t *proof, size_t plen)
{
	struct record *ws = r->p->ps->sws;

	if (plen == 0 || rec_decode(ws, state, len, REC_TRUSTED, NULL) != 0)
		return false;
	if (!trust_out_note(r->tout, ws, proof, plen)) {
		rep_flush(r, true); /* its batches go before the next frame */
		(void)trust_out_note(r->tout, ws, proof, plen);
	}
	return true;
}

/* One REPAIR item [0, coll, id, state(, proof)]; a nil state is a
 * withdrawal; proof[0..plen) the record's as stored (plen 0: none). */
static void
rep_item(struct repairs *r, const uint8_t *key, const uint8_t *state,
    size_t len, const uint8_t *proof, size_t plen)
{
	if (r->tout == NULL) {
		msg_batch_rec(&r->rbt, 0, key[0], key + 1, state, len);
		return;
	}
	if (state == NULL || !rep_note(r, state, len, proof, plen))
		plen = 0;
	msg_batch_rec4(&r->rbt, 0, key[0], key + 1, state, len, proof, plen);
}

static void
add_repair(struct repairs *r, const uint8_t *key)
{
	const uint8_t *state, *proof;
	size_t len, plen;
	uint64_t seq;

	if (stdb_get_record_parts(r->txn, store_db(r->p->ps->n->store), key[0],
	        key + 1, &seq, &proof, &plen, &state, &len) != 0)
		return;
	rep_item(r, key, state, len, proof, plen);
	r->p->v->cur.repaired++;
}

/*
 * A record the peer lists and we do not. If the peer was taken out of its
 * share_with, send a withdrawal rather than ask for its stale copy; if we
 * collected it as a tombstone (the peer is a restored backup), send the
 * tombstone, which deletes its copy. False: neither, fetch it.
 */
static bool
add_answer(struct repairs *r, const uint8_t *key)
{
	const uint8_t *state;
	size_t len;

	if (feed_owes_withdrawal(r->p->ps, r->txn, r->p, key))
		rep_item(r, key, NULL, 0, NULL, 0);
	else if (stdb_get_gone(r->txn, store_db(r->p->ps->n->store), key[0],
	             key + 1, &state, &len) == 0)
		rep_item(r, key, state, len, NULL, 0); /* its proof is gone */
	else
		return false;
	r->p->v->cur.repaired++;
	return true;
}

static void
add_fetch(struct repairs *r, const uint8_t *key)
{
	msg_batch_id(&r->fbt, key[0], key + 1);
	r->p->v->cur.repaired++;
}

/* Note one differing record for the report ("lks 0190…, case …"). */
static void
note_where(struct verify *v, const uint8_t *key)
{
	const struct schema_coll *c = schema_coll_by_id(key[0]);
	size_t len = strlen(v->cur.where);
	char ids[UUID_STR_LEN + 1];

	v->cur.differing++;
	if (v->cur.differing > 3 || c == NULL)
		return;
	uuid_format(key + 1, ids);
	if (strstr(v->cur.where, ids) != NULL)
		return; /* the same record again, a round later */
	snprintf(v->cur.where + len, sizeof(v->cur.where) - len, "%s%s %s",
	    len ? ", " : "", c->name, ids);
}

static void
one_diff(struct repairs *r, const uint8_t *key, const uint8_t *mine,
    const uint8_t *theirs)
{
	if (mine != NULL && theirs != NULL && memcmp(mine, theirs, 32) == 0)
		return;
	note_where(r->p->v, key);
	if (mine != NULL)
		add_repair(r, key);
	if (theirs != NULL && (mine != NULL || !add_answer(r, key)))
		add_fetch(r, key);
	if (r->rep.len > JALIN_BATCH_BYTES ||
	    r->rbt.n >= JALIN_BATCH_RECORDS_MAX ||
	    r->fbt.n >= JALIN_BATCH_RECORDS_MAX)
		rep_flush(r, true);
}

/* Walk both sorted listings of one bucket and repair what differs. */
static void
walk_lists(struct repairs *r, struct mpr *a, struct mpr *b)
{
	uint8_t ka[STDB_KEY_LEN], kb[STDB_KEY_LEN];
	const uint8_t *ha = NULL, *hb = NULL;
	bool more_a = next_item(a, ka, &ha), more_b = next_item(b, kb, &hb);

	while (more_a || more_b) {
		int c = !more_a ? 1
		    : !more_b   ? -1
		                : memcmp(ka, kb, STDB_KEY_LEN);
		if (c == 0) {
			one_diff(r, ka, ha, hb);
			more_a = next_item(a, ka, &ha);
			more_b = next_item(b, kb, &hb);
		} else if (c < 0) {
			one_diff(r, ka, ha, NULL);
			more_a = next_item(a, ka, &ha);
		} else {
			one_diff(r, kb, NULL, hb);
			more_b = next_item(b, kb, &hb);
		}
	}
}

static void
compare_ids(struct peer *p)
{
	struct verify *v = p->v;
	struct repairs r = {.p = p};
	struct mpr a, b;
	uint32_t n;

	if (p->conn == NULL ||
	    stdb_begin_read(store_db(p->ps->n->store), &r.txn, NULL) != 0) {
		finish(p->ps, p, JALIN_EUNREACH,
		    "not verified: the connection was lost");
		return;
	}
	rep_init(&r);
	rep_open(&r);
	fetch_open(&r);
	mpr_init(&a, v->my_ids.p, v->my_ids.len);
	mpr_init(&b, v->their_ids.p, v->their_ids.len);
	uint64_t before = v->cur.differing;
	if (mpr_array(&b, &n) == 0)
		walk_lists(&r, &a, &b);
	rep_flush(&r, false);
	if (v->cur.differing > before)
		log_warnx("peer %s: verify: %llu record(s) differ in bucket %d "
		          "(%s; %llu corrupt so far); repairing",
		    p->cfg.name,
		    (unsigned long long)(v->cur.differing - before), v->bucket,
		    v->cur.where, (unsigned long long)v->cur.corrupt);
	stdb_end_read(r.txn);
	rep_free(&r);
	next_bucket(p);
}

/* --- the answering side ------------------------------------------------- */

/* A finished scan whose answer c still waits for (then c no longer holds
 * it); otherwise the scan is freed and nothing is sent. */
static bool
reply_wanted(struct vscan *s, struct conn *c)
{
	if (c != NULL && c->vreply == s)
		c->vreply = NULL;
	else
		c = NULL;
	if (c == NULL || s->cancelled) {
		vscan_free(s);
		return false;
	}
	return true;
}

static void
reply_digest_done(struct vscan *s, void *arg)
{
	struct conn *c = arg;
	struct buf *b = &s->ps->out;

	if (!reply_wanted(s, c))
		return;
	msg_enc_vdigest(b,
	    &(struct msg_vdigest){s->head0, store_seq(s->ps->n->store),
	        apply_pos(c), s->sums, s->count, s->bad});
	conn_send(c, b);
	vscan_free(s);
}

static void
reply_ids_done(struct vscan *s, void *arg)
{
	struct conn *c = arg;
	struct buf *b = &s->ps->out;

	if (!reply_wanted(s, c))
		return;
	msg_enc_vids(b, (uint8_t)s->bucket, s->nids, s->ids.p, s->ids.len);
	conn_send(c, b);
	vscan_free(s);
}

static void
start_reply(struct conn *c, int bucket)
{
	if (c->vreply != NULL)
		vscan_free(c->vreply); /* a newer request replaces it */
	c->vreply = vscan_new(c->ps, c->peer->cfg.name, bucket,
	    bucket < 0 ? reply_digest_done : reply_ids_done, c);
}

/* One asked-for record, if we hold it readable and the peer may have it. */
static void
fetch_one(struct repairs *r, const uint8_t *key)
{
	struct peers *ps = r->p->ps;
	const uint8_t *state, *proof;
	size_t len, plen;
	uint64_t seq;

	if (stdb_get_record_parts(r->txn, store_db(ps->n->store), key[0],
	        key + 1, &seq, &proof, &plen, &state, &len) != 0 ||
	    rec_decode(ps->sws, state, len, REC_TRUSTED, NULL) != 0 ||
	    feed_what(r->p, key[0], ps->sws) != FEED_RECORD)
		return;
	rep_item(r, key, state, len, proof, plen);
	if (r->rbt.n >= JALIN_BATCH_RECORDS_MAX ||
	    r->rep.len > JALIN_BATCH_BYTES)
		rep_flush(r, true);
}

/* FETCH: send the asked records the peer may have, as REPAIR. */
static void
answer_fetch(struct conn *c, const struct msg_peer *m)
{
	struct repairs r = {.p = c->peer};
	uint8_t key[STDB_KEY_LEN];
	const uint8_t *id;
	uint32_t n, k, idlen;
	uint64_t coll;
	struct mpr a;

	if (stdb_begin_read(store_db(c->ps->n->store), &r.txn, NULL) != 0)
		return;
	rep_init(&r);
	rep_open(&r);
	fetch_open(&r);
	mpr_init(&a, m->ids, m->ids_len);
	if (mpr_array(&a, &n) == 0) {
		for (uint32_t i = 0; i < n; i++) {
			if (mpr_array(&a, &k) != 0 || k != 2 ||
			    mpr_u64(&a, &coll) != 0 || coll > UINT8_MAX ||
			    mpr_bin(&a, &id, &idlen) != 0 || idlen != UUID_LEN)
				break;
			key[0] = (uint8_t)coll;
			memcpy(key + 1, id, UUID_LEN);
			fetch_one(&r, key);
		}
	}
	rep_flush(&r, false);
	stdb_end_read(r.txn);
	rep_free(&r);
}

static void
their_digest(struct peer *p, const struct msg_peer *m)
{
	struct verify *v = p->v;

	if (v == NULL || v->state != V_DIGEST)
		return; /* late answer to a round we gave up */
	memcpy(v->theirs, m->sums, JALIN_DIGEST_BUCKETS * 32);
	v->their_count = m->count;
	v->their_bad = m->bad;
	v->their_head0 = m->seq;
	v->their_head1 = m->head;
	v->their_ck = m->upto;
	v->theirs_done = true;
	if (v->mine_done)
		verify_compare(p);
}

static void
their_ids(struct peer *p, const struct msg_peer *m)
{
	struct verify *v = p->v;

	if (v == NULL || v->state != V_IDS || (int)m->bucket != v->bucket)
		return;
	buf_reset(&v->their_ids);
	if (buf_append(&v->their_ids, m->ids, m->ids_len) != 0) {
		finish(p->ps, p, JALIN_ENOMEM, "not verified: out of memory");
		return;
	}
	v->their_ids_done = true;
	if (v->my_ids_done)
		compare_ids(p);
}

int
verify_handle(struct conn *c, const struct msg_peer *m)
{
	switch (m->type) {
	case MSG_VDIGEST_REQ:
		start_reply(c, -1);
		return 0;
	case MSG_VIDS_REQ:
		if (m->bucket >= JALIN_DIGEST_BUCKETS) {
			conn_error(
			    c, JALIN_EPROTO, "VIDS_REQ without a bucket");
			return -1;
		}
		start_reply(c, (int)m->bucket);
		return 0;
	case MSG_VDIGEST:
		their_digest(c->peer, m);
		return 0;
	case MSG_VIDS:
		their_ids(c->peer, m);
		return 0;
	case MSG_FETCH:
		answer_fetch(c, m);
		return 0;
	}
	return 1; /* not ours */
}

static bool
add_waiter(struct verify *v, verify_done_fn *fn, void *ctx)
{
	if (fn == NULL)
		return true;
	if (v->nwaiters == sizeof(v->waiters) / sizeof(v->waiters[0]))
		return false;
	v->waiters[v->nwaiters].fn = fn;
	v->waiters[v->nwaiters++].ctx = ctx;
	return true;
}

static int
ensure_mem(struct verify *v)
{
	if (v->mine == NULL)
		v->mine = malloc(JALIN_DIGEST_BUCKETS * 32);
	if (v->theirs == NULL)
		v->theirs = malloc(JALIN_DIGEST_BUCKETS * 32);
	if (v->mine == NULL || v->theirs == NULL)
		return JALIN_ENOMEM;
	if (v->my_ids.max == 0) {
		buf_init(&v->my_ids, JALIN_FRAME_MAX);
		buf_init(&v->their_ids, JALIN_FRAME_MAX);
	}
	return 0;
}

/* p's state, made on first use (idle, never verified); NULL: no memory. */
static struct verify *
state_of(struct peer *p)
{
	if (p->v == NULL)
		p->v = calloc(1, sizeof(*p->v));
	return p->v;
}

/* Start a round (or join the one under way). */
static int
verify_start(struct peers *ps, struct peer *p, verify_done_fn *fn, void *ctx)
{
	struct verify *v = state_of(p);
	struct buf *b = &ps->out;

	if (v == NULL)
		return JALIN_ENOMEM;
	if (!add_waiter(v, fn, ctx))
		return JALIN_EEXIST;
	if (v->state == V_DIGEST || v->state == V_IDS)
		return 0;
	if (v->state != V_RECHECK) {
		v->rechecks = 0;
		memset(&v->cur, 0, sizeof(v->cur));
		snprintf(v->cur.peer, sizeof(v->cur.peer), "%s", p->cfg.name);
	}
	v->cur.equal = false;
	v->started_ms = now_ms();
	if (ensure_mem(v) != 0) {
		finish(ps, p, JALIN_ENOMEM, "not verified: out of memory");
		return 0;
	}
	if (p->conn == NULL) {
		finish(ps, p, JALIN_EUNREACH, "not verified: not connected");
		return 0;
	}
	if (!idle_both_ways(ps, p)) {
		finish(ps, p, JALIN_ESTATE,
		    "not verified: changes in flight; retrying");
		return 0;
	}
	reset_round(p);
	v->state = V_DIGEST;
	v->my_head = store_seq(ps->n->store);
	v->my_ck = apply_pos(p->conn);
	v->scan = vscan_new(ps, p->cfg.name, -1, my_digest_done, p);
	msg_enc_vdigest_req(b);
	conn_send(p->conn, b);
	return 0;
}

void
verify_tick(struct peers *ps, uint64_t now)
{
	struct peer *p;

	TAILQ_FOREACH (p, &ps->list, link) {
		struct verify *v = p->v;
		if (p->removed || p->conn == NULL || v == NULL)
			continue;
		if ((v->state == V_DIGEST || v->state == V_IDS) &&
		    now - v->started_ms > JALIN_VERIFY_ROUND_MAX_MS)
			finish(ps, p, JALIN_ETIMEOUT,
			    "not verified: the peer did not answer");
		else if (v->state == V_RECHECK && now >= v->next_ms)
			verify_start(ps, p, NULL, NULL);
		else if (v->state == V_IDLE && v->next_ms != 0 &&
		    now >= v->next_ms &&
		    (ps->n->cfg->verify_interval > 0 || v->nwaiters > 0))
			verify_start(ps, p, NULL, NULL);
	}
}

/* A peer went live: check soon (status shows a recent verified_at). */
void
verify_soon(struct peer *p)
{
	struct verify *v = state_of(p);

	if (v != NULL && v->state == V_IDLE)
		v->next_ms = now_ms() + JALIN_VERIFY_AFTER_LIVE_MS;
}

void
verify_closed(struct conn *c)
{
	if (c->vreply != NULL) {
		vscan_free(c->vreply);
		c->vreply = NULL;
	}
	if (c->peer != NULL && c->peer->conn == c && c->peer->v != NULL &&
	    c->peer->v->state != V_IDLE)
		finish(c->ps, c->peer, JALIN_EUNREACH,
		    "not verified: the connection was lost");
}

void
verify_cancel_waiter(struct peers *ps, void *ctx)
{
	struct peer *p;

	if (ps == NULL)
		return;
	TAILQ_FOREACH (p, &ps->list, link) {
		struct verify *v = p->v;
		unsigned k = 0;
		if (v == NULL)
			continue;
		for (unsigned i = 0; i < v->nwaiters; i++)
			if (v->waiters[i].ctx != ctx)
				v->waiters[k++] = v->waiters[i];
		v->nwaiters = k;
	}
}

void
verify_free(struct peer *p)
{
	struct verify *v = p->v;

	if (v == NULL)
		return;
	vscan_free(v->scan);
	free(v->mine);
	free(v->theirs);
	buf_free(&v->my_ids);
	buf_free(&v->their_ids);
	free(v);
	p->v = NULL;
}

int
verify_request(struct peers *ps, const char *name, size_t len,
    verify_done_fn *fn, void *ctx, struct jalin_err *err)
{
	char nm[JALIN_NAME_MAX + 1];
	struct peer *p;
	int rc;

	if (ps == NULL || len == 0 || len > JALIN_NAME_MAX)
		return jalin_err_set(err, JALIN_ENOTFOUND, "no such peer");
	memcpy(nm, name, len);
	nm[len] = '\0';
	if ((p = peer_find(ps, nm)) == NULL)
		return jalin_err_set(
		    err, JALIN_ENOTFOUND, "'%s' is not a configured peer", nm);
	if ((rc = verify_start(ps, p, fn, ctx)) == JALIN_ENOMEM)
		return jalin_err_set(err, rc, "out of memory");
	if (rc != 0)
		return jalin_err_set(err, JALIN_EEXIST,
		    "too many verifications of '%s' waiting", nm);
	return 0;
}

const struct verify_result *
verify_last(const struct peer *p)
{
	return p->v != NULL ? &p->v->last : NULL;
}
