/*
 * repl.c - the two change feeds of a peer connection (DESIGN.md §4).
 *
 * Sender: the peer subscribes from a checkpoint (epoch, seq). We stream
 * CHANGES frames of at most JALIN_BATCH_RECORDS_MAX records or
 * JALIN_BATCH_BYTES, read from LMDB only while the connection's output is
 * below SEND_HIGH, so memory is O(batch) however far behind the peer is.
 * Records the peer may not have (collection not shared, case not shared
 * with it) are skipped, but the seq range still advances. At the head we
 * say LIVE and from then on push each commit as it happens.
 *
 * Receiver: each CHANGES frame is applied in one group-commit transaction
 * together with the new checkpoint, so a crash anywhere resends at most
 * that frame and the merge makes the resend harmless. Only then is it
 * acknowledged. Input from that peer waits meanwhile (back-pressure).
 * Every record is checked again: a collection we do not accept from this
 * peer, or a case not shared with us, is refused and logged; a record
 * written more than max_clock_skew in the future is held back.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "hlc.h"
#include "log.h"
#include "mp.h"
#include "ops.h"
#include "peer_impl.h"
#include "schema.h"
#include "scope.h"
#include "store.h"
#include "view.h"

#define SEND_HIGH   (2 * JALIN_BATCH_BYTES)
#define GC_BATCH    10000
#define GC_SCAN_MAX 100000 /* feed entries looked at per collection run */
#define CKPT_IN     "in:"
#define CKPT_ACK    "ack:"

/* One CHANGES frame being applied. */
struct rtask {
	struct peers *ps;
	struct conn *conn; /* NULL once the connection is gone */
	char peer[JALIN_NAME_MAX + 1];
	uint32_t colls;
	uint8_t epoch[16];
	uint64_t from, upto;
	uint64_t ckseq; /* checkpoint reached (upto, or less if held) */
	bool held;
	bool repair;      /* REPAIR records: outside the feed, no checkpoint */
	uint64_t held_ms; /* how far ahead the held record was */
	uint32_t applied, changed, refused, bad, withdrawn;
	uint64_t newest_ms;
	char first_refusal[160];
	/* REPAIR: records the peer sent that it was withdrawn from, to be
	 * answered with withdrawals (a verification it started) */
	uint8_t (*owed)[STDB_KEY_LEN];
	uint32_t nowed;
	struct buf frame;    /* the whole frame, taken over from ps->in */
	const uint8_t *recs; /* the MK_RECS array inside it */
	size_t len;
};

static void task_free(struct rtask *t);
static void note_skew(struct peer *p, uint64_t their_ms);

static uint64_t
now_ms(void)
{
	return hlc_wall_ms();
}

static void
ckpt_key(char *k, size_t n, const char *prefix, const char *peer)
{
	snprintf(k, n, "%s%s", prefix, peer);
}

/* [epoch bin16, seq] */
static int
ckpt_parse(const void *v, size_t len, uint8_t epoch[16], uint64_t *seq)
{
	struct mpr m;
	const uint8_t *e;
	uint32_t n, elen;

	mpr_init(&m, v, len);
	if (mpr_array(&m, &n) != 0 || n != 2 || mpr_bin(&m, &e, &elen) != 0 ||
	    elen != 16 || mpr_u64(&m, seq) != 0)
		return JALIN_ECORRUPT;
	memcpy(epoch, e, 16);
	return 0;
}

static size_t
ckpt_pack(uint8_t *out, const uint8_t epoch[16], uint64_t seq)
{
	out[0] = 0x92;
	out[1] = 0xc4;
	out[2] = 16;
	memcpy(out + 3, epoch, 16);
	out[19] = 0xcf;
	for (int i = 0; i < 8; i++)
		out[20 + i] = (uint8_t)(seq >> (56 - 8 * i));
	return 28;
}

static bool
ckpt_get(MDB_txn *txn, const struct stdb *db, const char *key,
    uint8_t epoch[16], uint64_t *seq)
{
	MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v;

	return mdb_get(txn, stdb_dbi(db, STDB_CKPT), &k, &v) == 0 &&
	    ckpt_parse(v.mv_data, v.mv_size, epoch, seq) == 0;
}

/*
 * DOMAIN.md (privacy 6): a node offline for longer than offline_hold must
 * apply the purges it missed before it serves records again. "contact" is
 * when a peer was last live (saved every ten seconds while one is); after
 * a longer gap, reads of records are refused until a peer has been caught
 * up with (repl_caught_up).
 */
static void
check_outage(struct peers *ps, MDB_txn *txn)
{
	struct node *n = ps->n;
	uint64_t contact = 0, now = now_ms();

	n->held_since_ms = 0;
	if (n->cfg->offline_hold == 0 || TAILQ_EMPTY(&ps->list) ||
	    stdb_meta_u64(txn, store_db(n->store), "contact", &contact) != 0 ||
	    contact == 0 || now < contact ||
	    now - contact <= n->cfg->offline_hold * 1000ull)
		return;
	n->held_since_ms = contact;
	log_warnx("node %s: no peer for %llu s (offline_hold %u s): records "
	          "are not served until a peer is caught up with, so that "
	          "purges made meanwhile apply first",
	    n->cfg->name, (unsigned long long)((now - contact) / 1000),
	    n->cfg->offline_hold);
}

void
repl_load(struct peers *ps)
{
	const struct stdb *db = store_db(ps->n->store);
	char key[JALIN_NAME_MAX + 8];
	struct peer *p;
	MDB_txn *txn;

	if (stdb_begin_read(store_db(ps->n->store), &txn, NULL) != 0)
		return;
	TAILQ_FOREACH (p, &ps->list, link) {
		ckpt_key(key, sizeof(key), CKPT_IN, p->cfg.name);
		p->ck_valid = ckpt_get(txn, db, key, p->ck_epoch, &p->ck_seq);
		ckpt_key(key, sizeof(key), CKPT_ACK, p->cfg.name);
		p->acked_valid =
		    ckpt_get(txn, db, key, p->acked_epoch, &p->acked_seq);
	}
	check_outage(ps, txn);
	mdb_txn_abort(txn);
}

static void
msg_begin(struct buf *b, msgpack_packer *pk, uint32_t n, uint8_t type)
{
	buf_reset(b);
	msgpack_packer_init(pk, b, buf_pk_write);
	msgpack_pack_map(pk, n);
	msgpack_pack_uint8(pk, MK_TYPE);
	msgpack_pack_uint8(pk, type);
}

/* Subscribe to the peer's feed from our checkpoint. */
void
repl_open(struct conn *c)
{
	struct peer *p = c->peer;
	struct buf *b = &c->ps->out;
	msgpack_packer pk;

	msg_begin(b, &pk, p->ck_valid ? 3 : 1, MSG_SUB);
	if (p->ck_valid) {
		msgpack_pack_uint8(&pk, MK_EPOCH);
		msgpack_pack_bin_with_body(&pk, p->ck_epoch, 16);
		msgpack_pack_uint8(&pk, MK_SEQ);
		msgpack_pack_uint64(&pk, p->ck_seq);
		memcpy(c->repoch, p->ck_epoch, 16);
		c->rpos = p->ck_seq;
	} else {
		/* no checkpoint: we start at 0 in the epoch HELLO named */
		memcpy(c->repoch, c->hello_epoch, 16);
		c->rpos = 0;
	}
	c->rsub = true;
	p->in_live = false;
	p->cu_from = c->rpos;
	p->cu_ms = hlc_wall_ms();
	/* A peer we meet for the first time, or in another epoch than our
	 * checkpoint, may not hold what it once sent us. */
	if (!p->trust_valid || !p->ck_valid ||
	    memcmp(p->ck_epoch, c->hello_epoch, 16) != 0) {
		p->trust_from = store_seq(c->ps->n->store);
		p->trust_valid = true;
	}
	conn_send(c, b);
}

/* --- sender ------------------------------------------------------------ */

/* May p have this record (decoded in r)? Sender, verify and repair ask. */
bool
repl_may_send(struct peers *ps, const struct peer *p, uint8_t coll,
    const struct record *r)
{
	const struct schema_coll *c = schema_coll_by_id(coll);

	(void)ps;
	if (c == NULL || !(p->cfg.collections & (1u << coll)))
		return false;
	if (c->scope != SCOPE_SCOPED || p->cfg.all_cases)
		return true;
	return scope_allows(c, r, p->cfg.name, strlen(p->cfg.name));
}

enum send_what {
	SEND_NOTHING = 0,
	SEND_RECORD,
	SEND_WITHDRAWAL
};

/*
 * The same from stored bytes, decoding only when the scope needs it; and
 * whether the peer is owed a withdrawal instead (scope.h).
 */
static enum send_what
send_what(struct peers *ps, const struct peer *p, uint8_t coll,
    const uint8_t *state, size_t len)
{
	const struct schema_coll *c = schema_coll_by_id(coll);
	const char *name = p->cfg.name;

	if (c == NULL || !(p->cfg.collections & (1u << coll)))
		return SEND_NOTHING;
	if (c->scope != SCOPE_SCOPED || p->cfg.all_cases)
		return SEND_RECORD;
	if (rec_decode(ps->sws, state, len, REC_TRUSTED, NULL) != 0)
		return SEND_NOTHING;
	if (scope_allows(c, ps->sws, name, strlen(name)))
		return SEND_RECORD;
	return scope_withdrawn(c, ps->sws, name, strlen(name)) ? SEND_WITHDRAWAL
	                                                       : SEND_NOTHING;
}

bool
repl_owes_withdrawal(
    struct peers *ps, MDB_txn *txn, const struct peer *p, const uint8_t *key)
{
	const uint8_t *state;
	size_t len;
	uint64_t seq;

	return stdb_get_record(txn, store_db(ps->n->store), key[0], key + 1,
	           &state, &len, &seq) == 0 &&
	    send_what(ps, p, key[0], state, len) == SEND_WITHDRAWAL;
}

/* Write a uint64 in 9 bytes so that it can be patched afterwards. */
static size_t
u64_slot(struct buf *b)
{
	static const uint8_t z[9] = {0xcf};
	size_t at = b->len;

	buf_append(b, z, sizeof(z));
	return at + 1;
}

static void
u64_patch(struct buf *b, size_t at, uint64_t v)
{
	if (b->err != 0 || at + 8 > b->len)
		return;
	for (int i = 0; i < 8; i++)
		b->p[at + i] = (uint8_t)(v >> (56 - 8 * i));
}

struct frame {
	size_t upto_at, recs_at;
	uint64_t upto;
	uint32_t n;
};

static void
changes_head(struct conn *c, msgpack_packer *pk, struct frame *f)
{
	struct store *st = c->ps->n->store;
	struct buf *b = &c->ps->out;

	msg_begin(b, pk, 7, MSG_CHANGES);
	msgpack_pack_uint8(pk, MK_EPOCH);
	msgpack_pack_bin_with_body(pk, store_epoch(st), 16);
	msgpack_pack_uint8(pk, MK_FROM);
	msgpack_pack_uint64(pk, c->spos);
	msgpack_pack_uint8(pk, MK_UPTO);
	f->upto_at = u64_slot(b);
	msgpack_pack_uint8(pk, MK_HEAD);
	msgpack_pack_uint64(pk, store_seq(st));
	msgpack_pack_uint8(pk, MK_TIME);
	msgpack_pack_uint64(pk, now_ms());
	msgpack_pack_uint8(pk, MK_RECS);
	f->recs_at = view_array_begin(b);
}

/* [seq, coll, id, state]; a withdrawal has nil for the state. */
static void
add_record(struct buf *b, msgpack_packer *pk, uint64_t seq, const uint8_t *key,
    const uint8_t *state, size_t len)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint64(pk, seq);
	msgpack_pack_uint8(pk, key[0]);
	msgpack_pack_bin_with_body(pk, key + 1, UUID_LEN);
	if (state != NULL)
		buf_append(b, state, len);
	else
		msgpack_pack_nil(pk);
}

/* The feed entry holds exactly what this peer sent us (storedb.h). */
static bool
is_echo(const struct conn *c, const MDB_val *v)
{
	const char *name = c->peer->cfg.name;
	size_t n = v->mv_size - STDB_KEY_LEN;

	return n == strlen(name) &&
	    memcmp((const uint8_t *)v->mv_data + STDB_KEY_LEN, name, n) == 0;
}

/* Fill one CHANGES frame from the feed after c->spos. */
static int
changes_body(struct conn *c, MDB_txn *txn, msgpack_packer *pk, struct frame *f)
{
	const struct stdb *db = store_db(c->ps->n->store);
	struct buf *b = &c->ps->out;
	uint8_t sk[8];
	MDB_val k = {8, sk}, v;
	MDB_cursor *cur;
	int rc;

	if ((rc = mdb_cursor_open(txn, stdb_dbi(db, STDB_FEED), &cur)) != 0)
		return rc;
	stdb_put_u64(sk, c->spos + 1);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && f->n < JALIN_BATCH_RECORDS_MAX &&
	    b->len < JALIN_BATCH_BYTES) {
		const uint8_t *key = v.mv_data, *state;
		size_t len;
		uint64_t seq = stdb_get_u64(k.mv_data), rseq;
		enum send_what w = SEND_NOTHING;
		if (v.mv_size >= STDB_KEY_LEN &&
		    !(seq > c->peer->trust_from && is_echo(c, &v)) &&
		    stdb_get_record(
		        txn, db, key[0], key + 1, &state, &len, &rseq) == 0)
			w = send_what(c->ps, c->peer, key[0], state, len);
		if (w != SEND_NOTHING) {
			add_record(b, pk, seq, key,
			    w == SEND_RECORD ? state : NULL, len);
			f->n++;
		}
		f->upto = seq;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Build and send one CHANGES frame; false if nothing could be read. */
static bool
send_changes(struct conn *c, uint64_t head)
{
	struct frame f = {0, 0, c->spos, 0};
	msgpack_packer pk;
	MDB_txn *txn;
	int rc;

	if (stdb_begin_read(store_db(c->ps->n->store), &txn, NULL) != 0)
		return false;
	changes_head(c, &pk, &f);
	rc = changes_body(c, txn, &pk, &f);
	mdb_txn_abort(txn);
	if (rc != 0) {
		log_errx("peer %s: cannot read the feed after seq %llu",
		    c->peer->cfg.name, (unsigned long long)c->spos);
		return false;
	}
	if (f.upto == c->spos) /* feed entries moved past head: covered */
		f.upto = head;
	u64_patch(&c->ps->out, f.upto_at, f.upto);
	view_patch(&c->ps->out, f.recs_at, f.n);
	conn_send(c, &c->ps->out);
	c->spos = f.upto;
	if (c->spos > c->smax)
		c->smax = c->spos;
	c->peer->recs_out += f.n;
	c->peer->batches_out++;
	return true;
}

static void
send_live(struct conn *c)
{
	struct buf *b = &c->ps->out;
	msgpack_packer pk;

	msg_begin(b, &pk, 3, MSG_LIVE);
	msgpack_pack_uint8(&pk, MK_EPOCH);
	msgpack_pack_bin_with_body(&pk, store_epoch(c->ps->n->store), 16);
	msgpack_pack_uint8(&pk, MK_UPTO);
	msgpack_pack_uint64(&pk, c->spos);
	conn_send(c, b);
	c->caught_up = true;
	c->peer->out_resync = false;
}

void
repl_pump(struct conn *c)
{
	struct evbuffer *out;

	if (!c->subscribed || c->closing || c->dead)
		return;
	out = bufferevent_get_output(c->bev);
	while (evbuffer_get_length(out) < SEND_HIGH) {
		uint64_t head = store_seq(c->ps->n->store);
		if (c->spos >= head) {
			if (!c->caught_up)
				send_live(c);
			return;
		}
		if (!send_changes(c, head))
			return;
	}
	/* Full: write_cb calls us again once half of it is written. */
	bufferevent_setwatermark(c->bev, EV_WRITE, SEND_HIGH / 2, 0);
}

static void
send_resync(struct conn *c, const char *why)
{
	struct buf *b = &c->ps->out;
	msgpack_packer pk;

	log_notice("peer %s: resync from seq 0: %s", c->peer->cfg.name, why);
	msg_begin(b, &pk, 3, MSG_RESYNC);
	msgpack_pack_uint8(&pk, MK_EPOCH);
	msgpack_pack_bin_with_body(&pk, store_epoch(c->ps->n->store), 16);
	msgpack_pack_uint8(&pk, MK_ERROR);
	view_str(&pk, why);
	conn_send(c, b);
	c->peer->out_resync = true;
}

static uint64_t
gcseq(struct peers *ps)
{
	uint64_t v = 0;
	MDB_txn *txn;

	if (stdb_begin_read(store_db(ps->n->store), &txn, NULL) == 0) {
		stdb_meta_u64(txn, store_db(ps->n->store), "gcseq", &v);
		mdb_txn_abort(txn);
	}
	return v;
}

/*
 * A SUB from a checkpoint says the peer holds our feed up to there, as an
 * ACK does: an ACK made just before we stopped may never have been saved
 * (acknowledgements are stored with the next collection run), and without
 * this the peer would look behind until something new was sent to it.
 */
static void
note_acked(struct peer *p, const uint8_t epoch[16], uint64_t seq)
{
	if (p->acked_valid && memcmp(p->acked_epoch, epoch, 16) == 0 &&
	    p->acked_seq >= seq)
		return;
	memcpy(p->acked_epoch, epoch, 16);
	p->acked_seq = seq;
	p->acked_valid = true;
}

/* Where to start streaming for a SUB, or why we must start over. */
static const char *
sub_start(struct conn *c, const struct msg_peer *m, uint64_t *start)
{
	struct store *st = c->ps->n->store;
	struct jalin_err err;

	*start = 0;
	if (!m->has_epoch)
		return NULL; /* a first subscription: everything, no resync */
	if (memcmp(m->epoch, store_epoch(st), 16) != 0)
		return "the checkpoint is for another epoch of this store";
	if (m->seq > store_seq(st)) {
		jalin_err_clear(&err);
		if (store_new_epoch(st, &err) != 0)
			log_errx("store: %s", err.msg);
		log_warnx("store: peer %s has seq %llu of this node but the "
		          "feed ends at %llu: this store was restored from an "
		          "older copy; new epoch drawn",
		    c->peer->cfg.name, (unsigned long long)m->seq,
		    (unsigned long long)store_seq(st));
		return "the checkpoint is ahead of this node's feed (its store "
		       "was restored from an older copy)";
	}
	if (m->seq < gcseq(c->ps))
		return "tombstones after the checkpoint have been collected";
	*start = m->seq;
	return NULL;
}

static int
handle_sub(struct conn *c, const struct msg_peer *m)
{
	uint64_t start;
	const char *why = sub_start(c, m, &start);

	if (m->has_epoch && !m->has_seq) {
		conn_error(c, JALIN_EPROTO, "SUB has an epoch but no seq");
		return -1;
	}
	if (why != NULL)
		send_resync(c, why);
	else if (m->has_epoch && start > 0)
		note_acked(c->peer, m->epoch, start);
	c->subscribed = true;
	c->spos = start;
	c->caught_up = false;
	repl_pump(c);
	return 0;
}

/* --- receiver ---------------------------------------------------------- */

static void
refuse(struct rtask *t, const char *why, const struct schema_coll *c,
    const uint8_t *id)
{
	char ids[UUID_STR_LEN + 1];

	t->refused++;
	if (t->first_refusal[0] != '\0')
		return;
	uuid_format(id, ids);
	snprintf(t->first_refusal, sizeof(t->first_refusal), "%s %s: %.100s",
	    c ? c->name : "?", ids, why);
}

/*
 * A withdrawal (nil state): the sender holds a version of the record that
 * takes this node out of its share_with, so our copy is erased (scope.h).
 * We cannot see that version; we check what we can: a SCOPED collection
 * we take from this peer, not a node that keeps every case, not the
 * record's origin.
 */
static int
withdraw_one(struct store_txn *st, struct rtask *t, const struct schema_coll *c,
    const uint8_t *id)
{
	struct peers *ps = t->ps;
	const struct cfg *cfg = ps->n->cfg;
	struct store_cur cur;
	bool erased;
	int rc;

	if (c == NULL || !(t->colls & (1u << c->id))) {
		refuse(t, "collection not accepted from this peer", c, id);
		return 0;
	}
	if (c->scope != SCOPE_SCOPED || cfg->all_cases) {
		refuse(t,
		    c->scope != SCOPE_SCOPED
		        ? "withdrawal of a record shared with every node"
		        : "withdrawal sent to a node that keeps every case",
		    c, id);
		return 0;
	}
	if ((rc = store_txn_get(st, c->id, id, &cur)) != 0)
		return rc;
	if (cur.exists && !cur.corrupt &&
	    rec_decode(ps->rws, cur.raw, cur.rawlen, REC_TRUSTED, NULL) != 0)
		return 0; /* checked on every read: cannot happen */
	if (cur.exists && !cur.corrupt &&
	    scope_is_origin(ps->rws, cfg->name, strlen(cfg->name))) {
		refuse(t, "withdrawal of a record this node created", c, id);
		return 0;
	}
	if ((rc = store_txn_erase(st, &cur, ps->rws, &erased)) != 0)
		return rc;
	if (erased) {
		char ids[UUID_STR_LEN + 1];
		uuid_format(id, ids);
		log_notice("peer %s: %s %s is no longer shared with this node: "
		           "erased here",
		    t->peer, c->name, ids);
		t->withdrawn++;
	}
	return 0;
}

/*
 * A REPAIR of a record we withdrew from its sender: the sender still
 * holds a copy it should not (it started a verification that found it);
 * answer with a withdrawal once this task is done.
 */
static void
note_owed(
    struct store_txn *st, struct rtask *t, uint8_t coll, const uint8_t *id)
{
	uint8_t key[STDB_KEY_LEN];

	stdb_key(key, coll, id);
	if (t->conn == NULL || t->nowed >= JALIN_BATCH_RECORDS_MAX ||
	    !repl_owes_withdrawal(t->ps, store_txn_mdb(st), t->conn->peer, key))
		return;
	if (t->owed == NULL &&
	    (t->owed = malloc(JALIN_BATCH_RECORDS_MAX * sizeof(*t->owed))) ==
	        NULL)
		return;
	memcpy(t->owed[t->nowed++], key, STDB_KEY_LEN);
}

/* Send the withdrawals note_owed collected, as one REPAIR frame. */
static void
send_owed(struct conn *c, const struct rtask *t)
{
	struct buf *b = &c->ps->out;
	msgpack_packer pk;

	msg_begin(b, &pk, 2, MSG_REPAIR);
	msgpack_pack_uint8(&pk, MK_RECS);
	msgpack_pack_array(&pk, t->nowed);
	for (uint32_t i = 0; i < t->nowed; i++)
		add_record(b, &pk, 0, t->owed[i], NULL, 0);
	conn_send(c, b);
}

/* One [seq, coll, id, state] of a CHANGES frame. 1: stop here (held). */
static int
apply_one(struct store_txn *st, struct rtask *t, struct mpr *m, uint64_t *prev)
{
	struct peers *ps = t->ps;
	const struct cfg *cfg = ps->n->cfg;
	const uint8_t *id, *state;
	struct jalin_err derr;
	uint64_t seq, coll;
	uint32_t n, idlen;
	size_t len;
	bool changed;
	int rc;

	if (mpr_array(m, &n) != 0 || n != 4 || mpr_u64(m, &seq) != 0 ||
	    mpr_u64(m, &coll) != 0 || mpr_bin(m, &id, &idlen) != 0 ||
	    idlen != UUID_LEN ||
	    (!t->repair && (seq <= *prev || seq > t->upto))) {
		t->bad++;
		return -1;
	}
	/* the state is decoded where it lies: one pass over its bytes */
	const struct schema_coll *c = schema_coll_by_id((unsigned)coll);
	if (mpr_peek(m) == MP_NIL) {
		(void)mpr_nil(m);
		if ((rc = withdraw_one(st, t, c, id)) != 0)
			return rc;
		goto next;
	}
	state = mpr_pos(m);
	jalin_err_clear(&derr);
	if (rec_decode_prefix(ps->rws, state, mpr_left(m), 0, &len, &derr) !=
	    0) {
		/* well-formed msgpack that breaks a record rule: refuse it
		 * alone; bytes that are not even msgpack end the frame */
		if (mpr_skip(m) != 0) {
			t->bad++;
			return -1;
		}
		char why[104];
		snprintf(why, sizeof(why), "does not decode (%.80s)", derr.msg);
		refuse(t, why, c, id);
		goto next;
	}
	mpr_init(m, state + len, mpr_left(m) - len);
	if (c == NULL || !(t->colls & (1u << coll))) {
		refuse(t, "collection not accepted from this peer", c, id);
		goto next;
	}
	uint64_t ms = HLC_MS(rec_max_hlc(ps->rws)), now = now_ms();
	if (ms > now + cfg->max_clock_skew * 1000ull) {
		t->held = true;
		t->held_ms = ms - now;
		return 1;
	}
	if (c->scope == SCOPE_SCOPED && !cfg->all_cases &&
	    !scope_allows(c, ps->rws, cfg->name, strlen(cfg->name))) {
		refuse(t, "not shared with this node", c, id);
		goto next;
	}
	rc = store_txn_apply_decoded(st, (uint8_t)coll, id, state, len, ps->rws,
	    t->peer, &changed, NULL);
	if (rc == JALIN_ESPACE || rc == JALIN_EIO || rc == JALIN_ENOMEM)
		return rc;
	if (rc != 0) {
		refuse(t, "cannot be merged", c, id);
		goto next;
	}
	t->applied++;
	t->changed += changed;
	if (ms > t->newest_ms)
		t->newest_ms = ms;
	if (t->repair && c->scope == SCOPE_SCOPED)
		note_owed(st, t, c->id, id);
next:
	*prev = seq;
	t->ckseq = seq;
	return 0;
}

static void
task_reset(struct rtask *t)
{
	t->ckseq = t->from;
	t->held = false;
	t->applied = t->changed = t->refused = t->bad = t->withdrawn = 0;
	t->nowed = 0;
	t->newest_ms = 0;
	t->first_refusal[0] = '\0';
}

static int
task_apply(struct store_txn *st, void *arg)
{
	struct rtask *t = arg;
	uint8_t ck[32];
	char key[JALIN_NAME_MAX + 8];
	uint64_t prev = t->from;
	struct mpr m;
	uint32_t n;
	int rc = 0;

	task_reset(t); /* may run again after the map grew */
	mpr_init(&m, t->recs, t->len);
	if (mpr_array(&m, &n) != 0)
		t->bad++;
	for (uint32_t i = 0; i < n && t->bad == 0 && rc == 0; i++)
		rc = apply_one(st, t, &m, &prev);
	if (rc == 0 && t->bad == 0 && mpr_left(&m) != 0)
		t->bad++; /* bytes after the records */
	if (rc > 0)
		rc = 0; /* held: stop at the record before */
	if (rc != 0)
		return rc == -1 ? 0 : rc;
	if (t->repair)
		return 0; /* repairs move no checkpoint */
	if (t->bad == 0 && !t->held)
		t->ckseq = t->upto;
	ckpt_key(key, sizeof(key), CKPT_IN, t->peer);
	return store_txn_put(st, STDB_CKPT, key, strlen(key), ck,
	    ckpt_pack(ck, t->epoch, t->ckseq));
}

static void
send_ack(struct conn *c, const uint8_t epoch[16], uint64_t seq)
{
	struct buf *b = &c->ps->out;
	msgpack_packer pk;

	msg_begin(b, &pk, 3, MSG_ACK);
	msgpack_pack_uint8(&pk, MK_EPOCH);
	msgpack_pack_bin_with_body(&pk, epoch, 16);
	msgpack_pack_uint8(&pk, MK_UPTO);
	msgpack_pack_uint64(&pk, seq);
	conn_send(c, b);
}

static void
task_account(struct peer *p, const struct rtask *t)
{
	memcpy(p->ck_epoch, t->epoch, 16);
	p->ck_valid = true;
	p->ck_seq = t->ckseq;
	p->recs_in += t->applied;
	p->refused_recs += t->refused;
	p->batches_in++;
	if (t->newest_ms > p->newest_ms)
		p->newest_ms = t->newest_ms;
	if (t->refused > 0)
		log_warnx("peer %s: refused %u record(s), e.g. %s", p->cfg.name,
		    t->refused, t->first_refusal);
}

static void
task_done(void *arg, int rc, const struct jalin_err *err)
{
	struct rtask *t = arg;
	struct conn *c = t->conn;

	if (c == NULL || c->dead) {
		task_free(t);
		return;
	}
	c->task = NULL;
	if (rc != 0) {
		conn_error(
		    c, rc, "cannot store changes: %s", jalin_err_msg(err, rc));
	} else if (t->bad != 0) {
		conn_error(c, JALIN_EPROTO, "malformed record in CHANGES");
	} else if (t->repair) {
		c->peer->recs_in += t->applied;
		c->peer->refused_recs += t->refused;
		if (t->nowed > 0)
			send_owed(c, t);
		log_info("peer %s: repair: %u record(s) merged, %u changed",
		    c->peer->cfg.name, t->applied, t->changed);
	} else {
		log_debug("peer %s: applied %u, changed %u, refused %u, "
		          "checkpoint %llu",
		    c->peer->cfg.name, t->applied, t->changed, t->refused,
		    (unsigned long long)t->ckseq);
		task_account(c->peer, t);
		c->rpos = t->ckseq;
		send_ack(c, t->epoch, t->ckseq);
		if (t->held) {
			peer_set_error(c->peer,
			    "clock is %llu s ahead (max_clock_skew %u s): its "
			    "changes are held back",
			    (unsigned long long)(t->held_ms / 1000),
			    c->ps->n->cfg->max_clock_skew);
			conn_error(c, JALIN_ESKEW, "%s", c->peer->last_error);
		}
	}
	task_free(t);
	/* at shutdown the stream stops here: nothing more is queued */
	if (!c->dead && !c->closing && !c->ps->n->stopping)
		conn_resume(c);
}

/* The task takes the frame buffer (no copy); ps->in gets a pooled one. */
static void
take_frame(struct peers *ps, struct rtask *t)
{
	t->frame = ps->in;
	for (int i = 0; i < 2; i++) {
		if (ps->pool[i].p != NULL) {
			ps->in = ps->pool[i];
			buf_init(&ps->pool[i], JALIN_FRAME_MAX);
			return;
		}
	}
	buf_init(&ps->in, JALIN_FRAME_MAX);
}

static void
task_free(struct rtask *t)
{
	peers_give_back(t->ps, &t->frame);
	free(t->owed);
	free(t);
}

/* A task for the records of m, which it takes with the frame (no copy). */
static struct rtask *
task_new(struct conn *c, const struct msg_peer *m)
{
	struct rtask *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		conn_error(c, JALIN_ENOMEM, "out of memory");
		return NULL;
	}
	take_frame(c->ps, t);
	t->ps = c->ps;
	t->conn = c;
	snprintf(t->peer, sizeof(t->peer), "%s", c->peer->cfg.name);
	t->colls = c->peer->cfg.collections;
	t->recs = m->recs; /* points into t->frame now */
	t->len = m->recs_len;
	return t;
}

/* Queue t for the next group commit; input from c waits until it is done. */
static int
task_submit(struct conn *c, struct rtask *t)
{
	struct ops_task ot = {task_apply, task_done, t};

	if (ops_submit_task(c->ps->n->ops, &ot) != 0) {
		task_free(t);
		conn_error(c, JALIN_ENOMEM, "out of memory");
		return -1;
	}
	c->task = t;
	return 0;
}

static int
check_changes(struct conn *c, const struct msg_peer *m)
{
	if (!c->rsub || !m->has_epoch || !m->has_from || !m->has_upto ||
	    m->recs == NULL) {
		conn_error(c, JALIN_EPROTO,
		    "CHANGES without subscription, "
		    "epoch, range or records");
		return -1;
	}
	if (memcmp(m->epoch, c->repoch, 16) != 0) {
		conn_error(c, JALIN_ESTATE,
		    "CHANGES for another epoch than the subscription");
		return -1;
	}
	if (m->from != c->rpos || m->upto < m->from) {
		conn_error(c, JALIN_ESTATE,
		    "CHANGES out of order: from %llu, expected %llu",
		    (unsigned long long)m->from, (unsigned long long)c->rpos);
		return -1;
	}
	return 0;
}

/* REPAIR: records a verification found different, merged like CHANGES
 * but outside the feed order and without a checkpoint. */
int
repl_apply_repair(struct conn *c, const struct msg_peer *m)
{
	struct rtask *t;

	if (m->recs == NULL) {
		conn_error(c, JALIN_EPROTO, "REPAIR without records");
		return -1;
	}
	if ((t = task_new(c, m)) == NULL)
		return -1;
	t->repair = true;
	t->upto = UINT64_MAX;
	return task_submit(c, t);
}

static int
handle_changes(struct conn *c, const struct msg_peer *m)
{
	struct rtask *t;

	if (check_changes(c, m) != 0)
		return -1;
	log_debug("peer %s: changes (%llu, %llu], head %llu", c->peer->cfg.name,
	    (unsigned long long)m->from, (unsigned long long)m->upto,
	    (unsigned long long)m->head);
	if (m->head > c->peer->their_head)
		c->peer->their_head = m->head;
	note_skew(c->peer, m->time);
	if ((t = task_new(c, m)) == NULL)
		return -1;
	memcpy(t->epoch, m->epoch, 16);
	t->from = m->from;
	t->upto = m->upto;
	if (task_submit(c, t) != 0)
		return -1;
	c->rpos = m->upto; /* the next frame continues from here */
	return 0;
}

static int
handle_ack(struct conn *c, const struct msg_peer *m)
{
	struct peer *p = c->peer;

	/* Against smax, not spos: after we restarted the stream (RESYNC)
	 * ACKs of frames sent before it may still be on their way. */
	if (!m->has_epoch || !m->has_upto || m->upto > c->smax) {
		conn_error(c, JALIN_EPROTO, "ACK beyond what was sent");
		return -1;
	}
	memcpy(p->acked_epoch, m->epoch, 16);
	p->acked_seq = m->upto;
	p->acked_valid = true;
	return 0;
}

static int
handle_live(struct conn *c, const struct msg_peer *m)
{
	struct peer *p = c->peer;

	if (!m->has_upto || m->upto != c->rpos) {
		conn_error(c, JALIN_ESTATE, "LIVE at %llu, expected %llu",
		    (unsigned long long)m->upto, (unsigned long long)c->rpos);
		return -1;
	}
	/* every frame before LIVE is applied: input waits for each task */
	if (c->ps->n->held_since_ms != 0) {
		log_notice("node %s: caught up with peer %s after %llu s "
		           "offline: serving records again",
		    c->ps->n->cfg->name, p->cfg.name,
		    (unsigned long long)((now_ms() - c->ps->n->held_since_ms) /
		        1000));
		c->ps->n->held_since_ms = 0;
	}
	if (!p->in_live) {
		log_info("peer %s: caught up at seq %llu", p->cfg.name,
		    (unsigned long long)m->upto);
		p->in_live = true;
		repl_gc(c->ps); /* saves "contact" now */
	}
	p->in_resync = false;
	verify_soon(p);
	if (m->upto > p->their_head)
		p->their_head = m->upto;
	return 0;
}

static int
handle_resync(struct conn *c, const struct msg_peer *m)
{
	if (!m->has_epoch) {
		conn_error(c, JALIN_EPROTO, "RESYNC without epoch");
		return -1;
	}
	log_notice("peer %s: resyncing its feed from seq 0: %.*s",
	    c->peer->cfg.name, (int)m->error_len, m->error ? m->error : "");
	memcpy(c->repoch, m->epoch, 16);
	c->rpos = 0;
	c->peer->in_resync = true;
	c->peer->in_live = false;
	/* Same epoch as the connection began with: its store is the one we
	 * have been sending to (the RESYNC is about our checkpoint, or it is
	 * sending us everything again); what we send stands. */
	if (memcmp(m->epoch, c->hello_epoch, 16) == 0)
		return 0;
	/* Its store took a new epoch since HELLO (it found it was restored
	 * from an older copy): it may lack records it once sent us, which we
	 * did not send back. Send everything again, once per new epoch. */
	memcpy(c->hello_epoch, m->epoch, 16);
	c->peer->trust_from = store_seq(c->ps->n->store);
	c->peer->trust_valid = true;
	if (c->subscribed) {
		send_resync(c, "the peer's store was restored; sending all");
		c->spos = 0;
		c->caught_up = false;
		repl_pump(c);
	}
	return 0;
}

/* Their clock against ours, from a TIME they sent just now. */
static void
note_skew(struct peer *p, uint64_t their_ms)
{
	if (their_ms == 0)
		return;
	p->skew_ms = (int64_t)their_ms - (int64_t)hlc_wall_ms();
	p->skew_seen = true;
}

static void
send_pong(struct conn *c, const struct msg_peer *m)
{
	struct buf *b = &c->ps->out;
	msgpack_packer pk;

	msg_begin(b, &pk, 2, MSG_PONG);
	msgpack_pack_uint8(&pk, MK_TIME);
	msgpack_pack_uint64(&pk, m->time);
	conn_send(c, b);
}

int
repl_handle(struct conn *c, const struct msg_peer *m)
{
	switch (m->type) {
	case MSG_SUB:
		return handle_sub(c, m);
	case MSG_CHANGES:
		return handle_changes(c, m);
	case MSG_ACK:
		return handle_ack(c, m);
	case MSG_LIVE:
		return handle_live(c, m);
	case MSG_RESYNC:
		return handle_resync(c, m);
	case MSG_PING:
		note_skew(c->peer, m->time);
		send_pong(c, m);
		return 0;
	case MSG_PONG:
		return 0;
	case MSG_REPAIR:
		return repl_apply_repair(c, m);
	}
	int rc = verify_handle(c, m);
	if (rc <= 0)
		return rc;
	conn_error(c, JALIN_ESTATE, "unexpected %s message after HELLO",
	    msg_type_name(m->type));
	return -1;
}

void
repl_closed(struct conn *c)
{
	if (c->task != NULL)
		c->task->conn = NULL; /* it still commits, unanswered */
	c->task = NULL;
	c->subscribed = false;
	c->rsub = false;
	if (c->peer != NULL && c->peer->conn == c)
		c->peer->in_live = false;
}

/* Age of the oldest change the peer has not acknowledged, in ms. */
uint64_t
repl_lag_ms(struct peers *ps, const struct peer *p)
{
	struct store *st = ps->n->store;
	const struct stdb *db = store_db(st);
	uint64_t from = 0, ms = 0, seq;
	uint8_t sk[8];
	MDB_val k = {8, sk}, v;
	MDB_cursor *cur;
	MDB_txn *txn;

	if (p->acked_valid && memcmp(p->acked_epoch, store_epoch(st), 16) == 0)
		from = p->acked_seq;
	if (from >= store_seq(st) || stdb_begin_read(store_db(st), &txn, NULL))
		return 0;
	stdb_put_u64(sk, from + 1);
	if (mdb_cursor_open(txn, stdb_dbi(db, STDB_FEED), &cur) == 0) {
		const uint8_t *key, *state;
		size_t len;
		if (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0 &&
		    v.mv_size >= STDB_KEY_LEN && (key = v.mv_data) &&
		    stdb_get_record(
		        txn, db, key[0], key + 1, &state, &len, &seq) == 0 &&
		    rec_decode(ps->sws, state, len, REC_TRUSTED, NULL) == 0)
			ms = HLC_MS(rec_max_hlc(ps->sws));
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return ms && now_ms() > ms ? now_ms() - ms : 0;
}

/* --- tombstone collection ---------------------------------------------- */

struct gc_cand {
	uint64_t seq;
	uint8_t key[STDB_KEY_LEN];
};

struct gctask {
	struct peers *ps;
	uint64_t upto; /* every peer acknowledged our feed up to here */
	uint64_t dropped;
	uint64_t contact; /* a peer is live: now, saved as "contact" */
	size_t nacks;
	struct {
		char name[JALIN_NAME_MAX + 1];
		uint8_t epoch[16];
		uint64_t seq;
	} acks[JALIN_PEERS_MAX];
	size_t ncand;
	struct gc_cand cand[GC_BATCH];
};

static bool
collectable(struct store_txn *st, struct peers *ps, const uint8_t *key)
{
	const struct stdb *db = store_db(ps->n->store);
	const uint8_t *state;
	MDB_val k = {STDB_KEY_LEN, (void *)(uintptr_t)key}, v;
	size_t len;
	uint64_t seq;

	/* most of the feed is live records: a look at the first entry's tag
	 * tells without a checksum or a decode */
	if (mdb_get(store_txn_mdb(st), stdb_dbi(db, STDB_RECORDS), &k, &v) !=
	        0 ||
	    stdb_val_split(&v, &state, &len, &seq) != 0 ||
	    !rec_peek_deleted(state, len))
		return false;
	if (stdb_val_state(&v, &state, &len, &seq) != 0 ||
	    rec_decode(ps->rws, state, len, REC_TRUSTED, NULL) != 0)
		return false;
	/* purge markers stay: they keep an erased id from coming back */
	return !rec_is_live(ps->rws) && !rec_is_purged(ps->rws) &&
	    rec_conflicts(ps->rws) == 0;
}

/* Feed entries in (gcscan, upto] that are plain tombstones. */
static int
gc_scan(
    struct store_txn *st, struct gctask *g, uint64_t from, uint64_t *scanned)
{
	const struct stdb *db = store_db(g->ps->n->store);
	uint8_t sk[8];
	MDB_val k = {8, sk}, v;
	MDB_cursor *cur;
	int rc;

	*scanned = from;
	if ((rc = mdb_cursor_open(
	         store_txn_mdb(st), stdb_dbi(db, STDB_FEED), &cur)) != 0)
		return rc;
	stdb_put_u64(sk, from + 1);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	/* bounded: a large import is scanned over several runs, so the
	 * event loop never waits long for one */
	for (size_t looked = 0;
	     rc == 0 && g->ncand < GC_BATCH && looked < GC_SCAN_MAX; looked++) {
		uint64_t seq = stdb_get_u64(k.mv_data);
		if (seq > g->upto)
			break;
		*scanned = seq;
		if (v.mv_size >= STDB_KEY_LEN &&
		    collectable(st, g->ps, v.mv_data)) {
			g->cand[g->ncand].seq = seq;
			memcpy(
			    g->cand[g->ncand++].key, v.mv_data, STDB_KEY_LEN);
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
gc_acks(struct store_txn *st, const struct gctask *g)
{
	char key[JALIN_NAME_MAX + 8];
	uint8_t v[32];
	int rc = 0;

	for (size_t i = 0; i < g->nacks && rc == 0; i++) {
		ckpt_key(key, sizeof(key), CKPT_ACK, g->acks[i].name);
		rc = store_txn_put(st, STDB_CKPT, key, strlen(key), v,
		    ckpt_pack(v, g->acks[i].epoch, g->acks[i].seq));
	}
	return rc;
}

static int
gc_apply(struct store_txn *st, void *arg)
{
	struct gctask *g = arg;
	const struct stdb *db = store_db(g->ps->n->store);
	uint64_t scan = 0, old = 0, scanned, top = 0;
	uint8_t b[8];
	int rc;

	g->ncand = 0;
	g->dropped = 0;
	stdb_meta_u64(store_txn_mdb(st), db, "gcscan", &scan);
	stdb_meta_u64(store_txn_mdb(st), db, "gcseq", &old);
	if (g->contact != 0) {
		stdb_put_u64(b, g->contact);
		if ((rc = store_txn_put(st, STDB_META, "contact", 7, b, 8)) !=
		    0)
			return rc;
	}
	if ((rc = gc_acks(st, g)) != 0 || scan >= g->upto)
		return rc;
	if ((rc = gc_scan(st, g, scan, &scanned)) != 0)
		return rc;
	for (size_t i = 0; i < g->ncand; i++) {
		struct store_cur cur;
		if ((rc = store_txn_get(
		         st, g->cand[i].key[0], g->cand[i].key + 1, &cur)) != 0)
			return rc;
		if (!cur.exists || cur.seq != g->cand[i].seq)
			continue;
		if ((rc = store_txn_bury(st, &cur)) != 0)
			return rc;
		g->dropped++;
		top = g->cand[i].seq;
	}
	stdb_put_u64(b, scanned);
	if ((rc = store_txn_put(st, STDB_META, "gcscan", 6, b, 8)) != 0)
		return rc;
	stdb_put_u64(b, top > old ? top : old);
	return store_txn_put(st, STDB_META, "gcseq", 5, b, 8);
}

static void
gc_done(void *arg, int rc, const struct jalin_err *err)
{
	struct gctask *g = arg;

	g->ps->gc_running = false;
	if (rc != 0)
		log_warnx("store: tombstone collection failed: %s",
		    jalin_err_msg(err, rc));
	else if (g->dropped > 0)
		log_info("store: collected %llu tombstone(s) acknowledged by "
		         "every peer",
		    (unsigned long long)g->dropped);
	free(g);
}

void
repl_gc(struct peers *ps)
{
	const uint8_t *mine = store_epoch(ps->n->store);
	uint64_t upto = store_seq(ps->n->store);
	struct ops_task ot;
	struct gctask *g;
	struct peer *p;

	if (ps->gc_running || (g = calloc(1, sizeof(*g))) == NULL)
		return;
	g->ps = ps;
	ps->gc_holder[0] = '\0';
	TAILQ_FOREACH (p, &ps->list, link) {
		if (p->conn != NULL && p->in_live && ps->n->held_since_ms == 0)
			g->contact = now_ms();
		if (p->removed)
			continue;
		bool same =
		    p->acked_valid && memcmp(p->acked_epoch, mine, 16) == 0;
		uint64_t a = same ? p->acked_seq : 0;
		if (a < upto) {
			upto = a;
			snprintf(ps->gc_holder, sizeof(ps->gc_holder), "%s",
			    p->cfg.name);
		}
		if (p->acked_valid && g->nacks < JALIN_PEERS_MAX) {
			snprintf(g->acks[g->nacks].name, JALIN_NAME_MAX + 1,
			    "%s", p->cfg.name);
			memcpy(g->acks[g->nacks].epoch, p->acked_epoch, 16);
			g->acks[g->nacks++].seq = p->acked_seq;
		}
	}
	g->upto = upto;
	ot = (struct ops_task){gc_apply, gc_done, g};
	if (ops_submit_task(ps->n->ops, &ot) != 0) {
		free(g);
		return;
	}
	ps->gc_running = true;
}
