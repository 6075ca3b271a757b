/*
 * apply.c - the peer's change feed to us, applied (DESIGN.md §4).
 *
 * After HELLO we subscribe from our checkpoint. Each CHANGES frame is
 * applied in one group-commit transaction together with the new
 * checkpoint, so a crash anywhere resends at most that frame and the merge
 * makes the resend harmless. Only then is it acknowledged. Input from that
 * peer waits meanwhile (back-pressure). Every record is checked again: a
 * collection we do not accept from this peer, or a case not shared with
 * us, is refused and logged; a record written more than max_clock_skew in
 * the future is held back. REPAIR frames (from a verification) are merged
 * the same way, outside the feed order and without a checkpoint.
 */
#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "keyring.h"
#include "log.h"
#include "mp.h"
#include "ops.h"
#include "peer.h"
#include "peer_impl.h"
#include "conn.h"
#include "feed.h"
#include "apply.h"
#include "authz.h"
#include "trust.h"
#include "schema.h"
#include "scope.h"
#include "store.h"
#include "view.h"

/* Their feed to us as we know it, per peer (struct peer's apply). */
struct apply_peer {
	bool ck_valid;
	uint8_t ck_epoch[16];
	uint64_t ck_seq;         /* durable checkpoint */
	uint64_t their_head;     /* their last seq, as they told us */
	uint64_t newest_ms;      /* write time of the newest record applied */
	bool in_live;            /* they said LIVE and we applied up to it */
	uint64_t cu_from, cu_ms; /* catch-up: where and when it started */
	uint64_t cu_wire;        /* count.wire_in when it started */
	bool in_resync;
	/* Sessions that ended before we caught up, kept across reconnects
	 * until we do: how many, why the last one ended and when; and how
	 * many in a row ended before one batch arrived. */
	uint32_t failed, stuck;
	char last_failure[JALIN_ERRMSG_MAX];
	uint64_t failure_ms, stuck_rx;
	/* states refused by write authority or schema (authz.h), per rule,
	 * and the last refusal: collection, id and rule */
	uint64_t refused_by[AUTHZ_RULES];
	char last_refusal[JALIN_REFUSAL_TEXT_MAX];
	uint64_t refusal_ms;
};

/* Their feed to us on one connection, from HELLO until it closes. */
struct apply_conn {
	uint8_t hello_epoch[16]; /* their epoch: HELLO's, or a RESYNC's */
	uint8_t repoch[16];      /* the epoch we subscribed to */
	uint64_t rpos;           /* last seq applied (or queued) */
	struct rtask *task;      /* CHANGES being applied */
	uint32_t batches;        /* CHANGES applied on this connection */
	struct trust_in *tin;    /* certificates and batches it sent */
};

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
	uint32_t refused_by[AUTHZ_RULES]; /* authz refusals in this task */
	uint32_t logged;                  /* refusals logged one by one */
	enum authz_rule rule;             /* of the last authz refusal */
	char last_refusal[JALIN_REFUSAL_TEXT_MAX];
	/* REPAIR: records the peer sent that it was withdrawn from, to be
	 * answered with withdrawals (a verification it started) */
	uint8_t (*owed)[STDB_KEY_LEN];
	uint32_t nowed;
	struct trust_in *tin; /* the connection's, while the task runs */
	struct store_txn *st; /* the record being applied: its txn, */
	uint8_t cur_coll;     /* collection, id and proof (trust.h) */
	const uint8_t *cur_id;
	const uint8_t *proof;
	size_t plen;
	uint16_t nitem;      /* elements of a record: 4, or 5 (protocol 4) */
	struct buf frame;    /* the whole frame, taken over from ps->in */
	const uint8_t *recs; /* the MK_RECS array inside it */
	size_t len;
};

static void task_free(struct rtask *t);
static void apply_note_failure(struct conn *c);

static uint64_t
now_ms(void)
{
	return hlc_wall_ms();
}

/*
 * DOMAIN.md (privacy 6): a node offline for longer than offline_hold must
 * apply the purges it missed before it serves records again. "contact" is
 * when a peer was last live (saved every ten seconds while one is); after
 * a longer gap, reads of records are refused until a peer has been caught
 * up with (apply_live).
 */
void
apply_check_outage(struct peers *ps)
{
	struct node *n = ps->n;
	uint64_t contact = 0, now = now_ms();
	MDB_txn *txn;
	int rc;

	n->held_since_ms = 0;
	if (stdb_begin_read(store_db(n->store), &txn, NULL) != 0)
		return;
	rc = stdb_meta_u64(txn, store_db(n->store), "contact", &contact);
	stdb_end_read(txn);
	if (n->cfg->offline_hold == 0 || TAILQ_EMPTY(&ps->list) || rc != 0 ||
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

/* Subscribe to the peer's feed from our checkpoint. */
void
apply_open(struct conn *c, const struct msg_peer *hello)
{
	struct peer *p = c->peer;
	struct buf *b = &c->ps->out;

	p->apply->their_head = hello->seq;
	if (c->apply == NULL &&
	    ((c->apply = calloc(1, sizeof(*c->apply))) == NULL ||
	        (c->apply->tin = trust_in_new()) == NULL)) {
		conn_error(c, JALIN_ENOMEM, "out of memory");
		return;
	}
	memcpy(c->apply->hello_epoch, hello->epoch, 16);
	msg_enc_sub(b, p->apply->ck_valid ? p->apply->ck_epoch : NULL,
	    p->apply->ck_seq);
	if (p->apply->ck_valid) {
		memcpy(c->apply->repoch, p->apply->ck_epoch, 16);
		c->apply->rpos = p->apply->ck_seq;
	} else {
		/* no checkpoint: we start at 0 in the epoch HELLO named */
		memcpy(c->apply->repoch, c->apply->hello_epoch, 16);
		c->apply->rpos = 0;
	}
	p->apply->in_live = false;
	p->apply->cu_from = c->apply->rpos;
	p->apply->cu_ms = hlc_wall_ms();
	p->apply->cu_wire = p->count.wire_in;
	/* A peer we meet for the first time, or in another epoch than our
	 * checkpoint, may not hold what it once sent us. */
	if (!feed_trusts(p) || !p->apply->ck_valid ||
	    memcmp(p->apply->ck_epoch, c->apply->hello_epoch, 16) != 0)
		feed_trust_from(p, store_seq(c->ps->n->store));
	conn_send(c, b);
}

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
 * A state refused by write authority or the schema: counted per rule and
 * logged with peer, collection, id and rule, one line per record up to
 * JALIN_REFUSAL_LOG_MAX a batch (the batch's summary line counts the
 * rest), so a hostile peer cannot flood the log.
 */
static void
refuse_authz(struct rtask *t, const struct jalin_err *why,
    const struct schema_coll *c, const uint8_t *id)
{
	char ids[UUID_STR_LEN + 1];

	refuse(t, why->msg, c, id);
	uuid_format(id, ids);
	t->refused_by[t->rule < AUTHZ_RULES ? t->rule : 0]++;
	snprintf(t->last_refusal, sizeof(t->last_refusal), "%s %s: %.200s",
	    c->name, ids, why->msg);
	if (t->logged++ < JALIN_REFUSAL_LOG_MAX)
		log_warnx("peer %s: %s %s refused: %s", t->peer, c->name, ids,
		    why->msg);
}

/* store_check_fn: write authority and schema on a peer's state. */
static int
check_state(void *arg, uint8_t coll, const struct record *old,
    const struct record *out, const struct record *rem, struct jalin_err *err)
{
	struct rtask *t = arg;
	struct authz_nodes nodes = {
	    authz_node_all_cases, authz_node_authority_from, t->ps->n};
	struct trust_state ts = {coll, t->cur_id, old, rem, t->plen > 0,
	    t->peer, t->ps->n->cfg->require_signatures, t->ps->tls,
	    t->ps->tls_gen};
	const char *why;
	int rc;

	/* what the events say first, then whether their origins said it */
	if ((rc = authz_check(schema_coll_by_id(coll), old, out, rem, &nodes,
	         &t->rule, err)) != 0)
		return rc;
	if (t->tin != NULL && (why = trust_check(t->tin, t->st, &ts)) != NULL) {
		t->rule = AUTHZ_SIGNATURE;
		return jalin_err_set(err, JALIN_EPERM, "signature: %s", why);
	}
	return 0;
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
	if (c->scope != SCOPE_SCOPED || cfg->all_cases || cfg->relay) {
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
	    !feed_owes_withdrawal(t->ps, store_txn_mdb(st), t->conn->peer, key))
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
	struct msg_batch bt;

	msg_repair_begin(&bt, b, t->nowed);
	for (uint32_t i = 0; i < t->nowed; i++)
		msg_batch_rec(&bt, 0, t->owed[i][0], t->owed[i] + 1, NULL, 0);
	msg_batch_end(&bt);
	conn_send(c, b);
}

/* The proof after a state (protocol 4): raw msgpack, or nil (none). */
static int
read_proof(struct mpr *m, uint32_t n, const uint8_t **p, size_t *plen)
{
	*p = NULL;
	*plen = 0;
	if (n != 5)
		return 0;
	if (mpr_peek(m) == MP_NIL)
		return mpr_nil(m);
	return mpr_raw(m, p, plen);
}

/* A state whose events fail their signatures, counted as AUTHZ_SIGNATURE. */
static void
refuse_sig(struct rtask *t, const char *why, const struct schema_coll *c,
    const uint8_t *id)
{
	struct jalin_err e;

	jalin_err_clear(&e);
	jalin_err_set(&e, JALIN_EPERM, "signature: %s", why);
	t->rule = AUTHZ_SIGNATURE;
	refuse_authz(t, &e, c, id);
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

	/* protocol 4 sends [seq, coll, id, state, proof]; its REPAIR, and
	 * protocol 3, the first four */
	if (mpr_array(m, &n) != 0 || (n != 4 && n != t->nitem) ||
	    mpr_u64(m, &seq) != 0 || mpr_u64(m, &coll) != 0 ||
	    mpr_bin(m, &id, &idlen) != 0 || idlen != UUID_LEN ||
	    (!t->repair && (seq <= *prev || seq > t->upto))) {
		t->bad++;
		return -1;
	}
	/* the state is decoded where it lies: one pass over its bytes */
	const struct schema_coll *c = schema_coll_by_id((unsigned)coll);
	if (mpr_peek(m) == MP_NIL) {
		(void)mpr_nil(m);
		if (n == 5 && mpr_skip(m) != 0) {
			t->bad++;
			return -1;
		}
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
		if (mpr_skip(m) != 0 || (n == 5 && mpr_skip(m) != 0)) {
			t->bad++;
			return -1;
		}
		char why[104];
		snprintf(why, sizeof(why), "does not decode (%.80s)", derr.msg);
		refuse(t, why, c, id);
		goto next;
	}
	mpr_init(m, state + len, mpr_left(m) - len);
	if (read_proof(m, n, &t->proof, &t->plen) != 0) {
		t->bad++;
		return -1;
	}
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
	if (c->scope == SCOPE_SCOPED && !cfg->all_cases && !cfg->relay &&
	    !scope_allows(c, ps->rws, cfg->name, strlen(cfg->name))) {
		refuse(t, "not shared with this node", c, id);
		goto next;
	}
	struct store_check chk = {check_state, t};
	if (t->plen > 0 &&
	    trust_decode(t->tin, ps->rws, t->proof, t->plen) != 0) {
		refuse_sig(t, "a proof that does not decode", c, id);
		goto next;
	}
	store_txn_rem_proof(
	    st, t->plen > 0 ? trust_proof(t->tin) : NULL, t->proof, t->plen);
	t->cur_coll = (uint8_t)coll;
	t->cur_id = id;
	jalin_err_clear(&derr);
	rc = store_txn_apply_decoded(st, (uint8_t)coll, id, state, len, ps->rws,
	    t->peer, &chk, &changed, &derr);
	if (rc == JALIN_ESPACE || rc == JALIN_EIO || rc == JALIN_ENOMEM)
		return rc;
	if (rc == JALIN_EPERM || rc == JALIN_ESCHEMA) {
		refuse_authz(t, &derr, c, id);
		goto next;
	}
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
	memset(t->refused_by, 0, sizeof(t->refused_by));
	t->logged = 0;
	t->last_refusal[0] = '\0';
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
	t->st = st;
	if (t->tin != NULL && (rc = trust_in_store(t->tin, st)) != 0)
		return rc;
	mpr_init(&m, t->recs, t->len);
	if (mpr_array(&m, &n) != 0)
		t->bad++;
	for (uint32_t i = 0; i < n && t->bad == 0 && rc == 0; i++)
		rc = apply_one(st, t, &m, &prev);
	if (rc == 0 && t->bad == 0 && mpr_left(&m) != 0)
		t->bad++; /* bytes after the records */
	/* the batches the records stored refer to (the rest stay out) */
	if ((rc >= 0 || rc == -1) && t->tin != NULL) {
		int krc = trust_in_keep(t->tin, st);
		rc = krc != 0 ? krc : rc; /* -1 (a bad record) keeps what came
		                             before it */
	}
	if (rc > 0)
		rc = 0; /* held: stop at the record before */
	if (rc != 0)
		return rc == -1 ? 0 : rc;
	if (t->repair)
		return 0; /* repairs move no checkpoint */
	if (t->bad == 0 && !t->held)
		t->ckseq = t->upto;
	peer_ckpt_key(key, sizeof(key), PEER_CKPT_IN, t->peer);
	return store_txn_put(st, STDB_CKPT, key, strlen(key), ck,
	    peer_ckpt_pack(ck, t->epoch, t->ckseq));
}

static void
send_ack(struct conn *c, const uint8_t epoch[16], uint64_t seq)
{
	struct buf *b = &c->ps->out;

	msg_enc_ack(b, epoch, seq);
	conn_send(c, b);
}

/* The task's authz refusals into p's counts (CHANGES and REPAIR). */
static void
account_refusals(struct peer *p, const struct rtask *t)
{
	for (int i = 0; i < AUTHZ_RULES; i++)
		p->apply->refused_by[i] += t->refused_by[i];
	if (t->last_refusal[0] == '\0')
		return;
	memcpy(p->apply->last_refusal, t->last_refusal,
	    sizeof(p->apply->last_refusal));
	p->apply->refusal_ms = now_ms();
}

static void
task_account(struct peer *p, const struct rtask *t)
{
	account_refusals(p, t);
	memcpy(p->apply->ck_epoch, t->epoch, 16);
	p->apply->ck_valid = true;
	p->apply->ck_seq = t->ckseq;
	p->count.recs_in += t->applied;
	p->count.refused_recs += t->refused;
	p->count.batches_in++;
	if (t->newest_ms > p->apply->newest_ms)
		p->apply->newest_ms = t->newest_ms;
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
	c->apply->task = NULL;
	c->apply->tin = t->tin; /* back to the connection */
	t->tin = NULL;
	conn_hold(c, false);
	if (rc != 0) {
		conn_error(
		    c, rc, "cannot store changes: %s", jalin_err_msg(err, rc));
	} else if (t->bad != 0) {
		conn_error(c, JALIN_EPROTO, "malformed record in CHANGES");
	} else if (t->repair) {
		c->peer->count.recs_in += t->applied;
		c->peer->count.refused_recs += t->refused;
		account_refusals(c->peer, t);
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
		c->apply->batches++;
		c->peer->apply->stuck = 0;
		c->apply->rpos = t->ckseq;
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

static void
task_free(struct rtask *t)
{
	trust_in_free(t->tin);
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
	peers_take_frame(c->ps, &t->frame);
	t->ps = c->ps;
	t->conn = c;
	snprintf(t->peer, sizeof(t->peer), "%s", c->peer->cfg.name);
	t->colls = c->peer->cfg.collections;
	t->nitem = c->pv >= 4 ? 5 : 4;
	t->tin = c->apply->tin; /* input waits while the task runs */
	c->apply->tin = NULL;
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
	c->apply->task = t;
	conn_hold(c, true);
	return 0;
}

static int
check_changes(struct conn *c, const struct msg_peer *m)
{
	if (c->apply == NULL) {
		conn_error(c, JALIN_EPROTO, "CHANGES without subscription");
		return -1;
	}
	if (memcmp(m->epoch, c->apply->repoch, 16) != 0) {
		conn_error(c, JALIN_ESTATE,
		    "CHANGES for another epoch than the subscription");
		return -1;
	}
	if (m->from != c->apply->rpos || m->upto < m->from) {
		conn_error(c, JALIN_ESTATE,
		    "CHANGES out of order: from %llu, expected %llu",
		    (unsigned long long)m->from,
		    (unsigned long long)c->apply->rpos);
		return -1;
	}
	return 0;
}

/* REPAIR: records a verification found different, merged like CHANGES
 * but outside the feed order and without a checkpoint. */
int
apply_repair(struct conn *c, const struct msg_peer *m)
{
	struct rtask *t;

	if ((t = task_new(c, m)) == NULL)
		return -1;
	t->repair = true;
	t->upto = UINT64_MAX;
	return task_submit(c, t);
}

int
apply_signed(struct conn *c, const struct msg_peer *m)
{
	struct jalin_err err;
	int rc;

	jalin_err_clear(&err);
	if (c->pv < 4 || c->apply == NULL || c->apply->tin == NULL)
		rc = jalin_err_set(&err, JALIN_ESTATE,
		    "%s before protocol 4 was agreed", msg_type_name(m->type));
	else if (m->type == MSG_CERT && kr_is_enc_der(m->cert, m->cert_len))
		rc = trust_enc_in(c, c->apply->tin, m, &err);
	else if (m->type == MSG_CERT)
		rc = trust_in_cert(c->ps->tls, c->apply->tin, m, &err);
	else
		rc = trust_in_batch(c->apply->tin, m, c->peer->cfg.name, &err);
	if (rc == 1) /* refused certificate, or batches dropped: logged */
		log_warnx("peer %s: %s", c->peer->cfg.name, err.msg);
	if (rc >= 0)
		return 0;
	conn_error(c, rc, "%s", jalin_err_msg(&err, rc));
	return -1;
}

int
apply_changes(struct conn *c, const struct msg_peer *m)
{
	struct rtask *t;

	if (check_changes(c, m) != 0)
		return -1;
	log_debug("peer %s: changes (%llu, %llu], head %llu", c->peer->cfg.name,
	    (unsigned long long)m->from, (unsigned long long)m->upto,
	    (unsigned long long)m->head);
	if (m->head > c->peer->apply->their_head)
		c->peer->apply->their_head = m->head;
	peer_note_skew(c->peer, m->time);
	if ((t = task_new(c, m)) == NULL)
		return -1;
	memcpy(t->epoch, m->epoch, 16);
	t->from = m->from;
	t->upto = m->upto;
	if (task_submit(c, t) != 0)
		return -1;
	c->apply->rpos = m->upto; /* the next frame continues from here */
	return 0;
}

int
apply_live(struct conn *c, const struct msg_peer *m)
{
	struct peer *p = c->peer;
	int newly = 0;

	if (m->upto != c->apply->rpos) {
		conn_error(c, JALIN_ESTATE, "LIVE at %llu, expected %llu",
		    (unsigned long long)m->upto,
		    (unsigned long long)c->apply->rpos);
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
	if (!p->apply->in_live) {
		log_info("peer %s: caught up at seq %llu", p->cfg.name,
		    (unsigned long long)m->upto);
		p->apply->in_live = true;
		p->apply->failed = 0;
		newly = 1; /* the caller saves "contact" now (gc.h) */
	}
	p->apply->in_resync = false;
	if (m->upto > p->apply->their_head)
		p->apply->their_head = m->upto;
	return newly;
}

int
apply_resync(struct conn *c, const struct msg_peer *m)
{
	log_notice("peer %s: resyncing its feed from seq 0: %.*s",
	    c->peer->cfg.name, (int)m->error_len, m->error ? m->error : "");
	memcpy(c->apply->repoch, m->epoch, 16);
	c->apply->rpos = 0;
	c->peer->apply->in_resync = true;
	c->peer->apply->in_live = false;
	/* Same epoch as the connection began with: its store is the one we
	 * have been sending to (the RESYNC is about our checkpoint, or it is
	 * sending us everything again); what we send stands. */
	if (memcmp(m->epoch, c->apply->hello_epoch, 16) == 0)
		return 0;
	/* Its store took a new epoch since HELLO (it found it was restored
	 * from an older copy): it may lack records it once sent us, which we
	 * did not send back. Send everything again, once per new epoch. */
	memcpy(c->apply->hello_epoch, m->epoch, 16);
	feed_trust_from(c->peer, store_seq(c->ps->n->store));
	feed_restart(c, "the peer's store was restored; sending all");
	return 0;
}

void
apply_closed(struct conn *c)
{
	apply_note_failure(c);
	if (c->apply != NULL && c->apply->task != NULL)
		c->apply->task->conn = NULL; /* it still commits, unanswered */
	if (c->apply != NULL)
		trust_in_free(c->apply->tin);
	free(c->apply);
	c->apply = NULL;
	if (c->peer != NULL && c->peer->conn == c)
		c->peer->apply->in_live = false;
}

/*
 * c's session ends: if we had not caught up with its peer yet, count a
 * failed attempt and keep why (the error is set before a connection is
 * freed), across reconnects until we catch up.
 */
static void
apply_note_failure(struct conn *c)
{
	struct peer *p = c->peer;
	struct apply_peer *a;

	if (p == NULL || p->conn != c || c->apply == NULL ||
	    (a = p->apply)->in_live || p->ps->n->stopping || c->orderly)
		return;
	a->failed++;
	a->failure_ms = now_ms();
	snprintf(a->last_failure, sizeof(a->last_failure), "%s",
	    p->last_error[0] ? p->last_error : "connection closed");
	if (c->apply->batches == 0) {
		a->stuck++;
		a->stuck_rx = c->rx_bytes;
	}
	if (a->stuck == JALIN_STUCK_ATTEMPTS)
		log_warnx("peer %s: %u connections in a row ended before one "
		          "batch of its changes arrived (the last after %llu "
		          "bytes): the link drops before a batch gets through",
		    p->cfg.name, a->stuck, (unsigned long long)a->stuck_rx);
}

uint32_t
apply_failures(const struct peer *p, const char **why, uint64_t *at_ms)
{
	*why = p->apply->failed > 0 || p->apply->failure_ms != 0
	    ? p->apply->last_failure
	    : NULL;
	*at_ms = p->apply->failure_ms;
	return p->apply->failed;
}

uint32_t
apply_stuck(const struct peer *p, uint64_t *rx_bytes)
{
	*rx_bytes = p->apply->stuck_rx;
	return p->apply->stuck;
}

bool
apply_is_live(const struct peer *p)
{
	return p->apply->in_live;
}

bool
apply_resyncing(const struct peer *p)
{
	return p->apply->in_resync;
}

uint64_t
apply_in_lag(const struct peer *p)
{
	return p->apply->their_head > p->apply->ck_seq
	    ? p->apply->their_head - p->apply->ck_seq
	    : 0;
}

bool
apply_catch_up(const struct peer *p, struct apply_progress *out)
{
	const struct conn *c = p->conn;
	uint64_t now = now_ms();

	if (c == NULL || c->apply == NULL || p->apply->in_live ||
	    p->apply->their_head <= c->apply->rpos ||
	    p->apply->their_head <= p->apply->cu_from)
		return false;
	out->total = p->apply->their_head - p->apply->cu_from;
	out->done = c->apply->rpos > p->apply->cu_from
	    ? c->apply->rpos - p->apply->cu_from
	    : 0;
	out->elapsed_ms = now > p->apply->cu_ms ? now - p->apply->cu_ms : 1;
	out->bytes = p->count.wire_in - p->apply->cu_wire;
	return true;
}

bool
apply_idle(const struct peer *p)
{
	const struct conn *c = p->conn;

	return c != NULL && c->apply != NULL && c->apply->task == NULL &&
	    p->apply->in_live && c->apply->rpos == p->apply->their_head;
}

uint64_t
apply_pos(const struct conn *c)
{
	return c->apply != NULL ? c->apply->rpos : 0;
}

int
apply_peer_new(struct peer *p)
{
	return (p->apply = calloc(1, sizeof(*p->apply))) != NULL ? 0
	                                                         : JALIN_ENOMEM;
}

void
apply_peer_free(struct peer *p)
{
	free(p->apply);
	p->apply = NULL;
}

void
apply_load(struct peers *ps)
{
	const struct stdb *db = store_db(ps->n->store);
	char key[JALIN_NAME_MAX + 8];
	struct peer *p;
	MDB_txn *txn;

	if (stdb_begin_read(store_db(ps->n->store), &txn, NULL) != 0)
		return;
	TAILQ_FOREACH (p, &ps->list, link) {
		struct apply_peer *a = p->apply;
		peer_ckpt_key(key, sizeof(key), PEER_CKPT_IN, p->cfg.name);
		a->ck_valid =
		    peer_ckpt_get(txn, db, key, a->ck_epoch, &a->ck_seq);
	}
	stdb_end_read(txn);
}

uint64_t
apply_refused_by(const struct peer *p, enum authz_rule rule)
{
	if (p->apply == NULL || (unsigned)rule >= AUTHZ_RULES)
		return 0;
	return p->apply->refused_by[rule];
}

const char *
apply_last_refusal(const struct peer *p, uint64_t *at_ms)
{
	if (p->apply == NULL || p->apply->last_refusal[0] == '\0') {
		*at_ms = 0;
		return NULL;
	}
	*at_ms = p->apply->refusal_ms;
	return p->apply->last_refusal;
}
