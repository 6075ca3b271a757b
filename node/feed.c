/*
 * feed.c - our change feed to a peer (DESIGN.md §4), and what of it the
 * peer may have.
 *
 * The peer subscribes from a checkpoint (epoch, seq). We stream CHANGES
 * frames of at most JALIN_BATCH_RECORDS_MAX records or JALIN_BATCH_BYTES,
 * read from LMDB only while the connection's output is below JALIN_SEND_HIGH,
 * so memory is O(batch) however far behind the peer is. Records the peer
 * may not have (collection not shared, case not shared with it) are
 * skipped, but the seq range still advances. At the head we say LIVE and
 * from then on push each commit as it happens. The peer's ACKs say how far
 * it holds our feed (lag, tombstone collection).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "hlc.h"
#include "limits.h"
#include "log.h"
#include "mp.h"
#include "peer.h"
#include "peer_impl.h"
#include "conn.h"
#include "feed.h"
#include "schema.h"
#include "scope.h"
#include "sealrec.h"
#include "store.h"
#include "trust.h"
#include "view.h"

/* Our feed as the peer acknowledges it, per peer (struct peer's feed). */
struct feed_peer {
	bool acked_valid;
	uint8_t acked_epoch[16];
	uint64_t acked_seq;
	bool out_resync;
	/* Feed entries after this seq whose source is this peer hold what it
	 * sent us and still has: not sent back. Reset to our head whenever
	 * its store may have changed (first contact, new epoch, RESYNC). */
	bool trust_valid;
	uint64_t trust_from;
	/* The link as our feed meets it, kept across connections: bytes per
	 * second the peer acknowledges (0: not measured yet), the bound on a
	 * batch learned from connections that died with one unacknowledged
	 * (0: none), and how many sessions in a row got nothing through. */
	double rate;
	uint64_t drop_cap;
	uint32_t stuck;
	uint64_t stuck_batch; /* bytes of the batch that did not get through */
};

/* One CHANGES frame sent and not yet acknowledged. */
struct feed_sent {
	uint64_t upto, bytes, ms;
	uint32_t recs;
};

/* Our feed to the peer on one connection, from its SUB until it closes. */
struct feed_conn {
	bool caught_up;     /* LIVE sent */
	uint64_t spos;      /* last seq covered by what we sent */
	uint64_t smax;      /* the highest spos ever sent on this connection */
	uint64_t live_upto; /* where LIVE was said: live once acknowledged */
	uint64_t batch;     /* bytes the next frame aims at (feed_batch) */
	struct feed_sent sent[JALIN_BATCH_TRACK_MAX]; /* ring, oldest first */
	unsigned s_first, s_n;
	uint64_t unacked;       /* bytes of the frames in sent[] */
	uint64_t acked_bytes;   /* acknowledged on this connection */
	struct trust_out *tout; /* protocol 4: proofs' batches to send */
};

static uint64_t
now_ms(void)
{
	return hlc_wall_ms();
}

/* --- batches sized to the link ------------------------------------------ */

uint64_t
feed_batch(const struct peer *p)
{
	const struct feed_peer *fp = p->feed;
	double t = fp->rate > 0 ? fp->rate * JALIN_BATCH_SECONDS
	                        : (double)JALIN_BATCH_BYTES_START;

	if (fp->drop_cap != 0 && t > (double)fp->drop_cap)
		t = (double)fp->drop_cap;
	if (t < JALIN_BATCH_BYTES_MIN)
		t = JALIN_BATCH_BYTES_MIN;
	return t > JALIN_BATCH_BYTES ? JALIN_BATCH_BYTES : (uint64_t)t;
}

/*
 * Another frame may go: below the full batch size at most
 * JALIN_BATCH_INFLIGHT of them unacknowledged (enough to keep a slow link
 * busy while the previous one is acknowledged, little to lose when it
 * drops); a link fast enough for full batches is bounded only by the
 * output buffer, as it always was.
 */
static bool
feed_window_open(const struct conn *c)
{
	uint64_t t = feed_batch(c->peer);

	if (c->feed->s_n >= JALIN_BATCH_TRACK_MAX)
		return false;
	return t >= JALIN_BATCH_BYTES ||
	    c->feed->unacked < JALIN_BATCH_INFLIGHT * t;
}

static void
feed_track(struct conn *c, uint64_t upto, uint64_t bytes, uint32_t recs)
{
	struct feed_conn *f = c->feed;
	struct feed_sent *s;

	if (f->s_n >= JALIN_BATCH_TRACK_MAX)
		return; /* feed_window_open keeps this from happening */
	s = &f->sent[(f->s_first + f->s_n++) % JALIN_BATCH_TRACK_MAX];
	s->upto = upto;
	s->bytes = bytes;
	s->recs = recs;
	s->ms = now_ms();
	f->unacked += bytes;
}

static void
feed_untrack(struct conn *c)
{
	c->feed->s_first = c->feed->s_n = 0;
	c->feed->unacked = 0;
}

/*
 * The peer acknowledged our feed up to upto on c: the frames up to there
 * are delivered. Their bytes over the time since the first of them was
 * sent are one sample of the link's rate. It can only be too low (the
 * bytes crossed the link within that time), never too high, so a higher
 * sample is believed at once and a lower one a quarter (a frame that
 * waited behind another is not a slower link). Timing from the previous
 * acknowledgement instead would divide by almost nothing when two ACKs
 * are read in one go, and a 64 kbit/s link would get 1 MiB batches.
 */
static void
feed_delivered(struct conn *c, uint64_t upto)
{
	struct feed_conn *f = c->feed;
	struct feed_peer *fp = c->peer->feed;
	uint64_t now = now_ms(), bytes = 0, start = 0;

	while (f->s_n > 0 && f->sent[f->s_first].upto <= upto) {
		struct feed_sent *s = &f->sent[f->s_first];
		if (bytes == 0)
			start = s->ms;
		bytes += s->bytes;
		c->peer->count.bytes_acked += s->bytes;
		c->peer->count.recs_acked += s->recs;
		f->unacked -= s->bytes;
		f->s_first = (f->s_first + 1) % JALIN_BATCH_TRACK_MAX;
		f->s_n--;
	}
	if (bytes == 0)
		return;
	double sample =
	    (double)bytes * 1000.0 / (double)(now > start ? now - start : 1);
	fp->rate = sample > fp->rate ? sample : (3 * fp->rate + sample) / 4;
	f->acked_bytes += bytes;
	fp->stuck = 0;
	/* a connection that lasts longer than the ones that dropped earns
	 * back larger batches */
	if (fp->drop_cap != 0 &&
	    f->acked_bytes / JALIN_BATCH_DROP_DIV > fp->drop_cap)
		fp->drop_cap = f->acked_bytes / JALIN_BATCH_DROP_DIV;
	if (fp->drop_cap >= JALIN_BATCH_BYTES)
		fp->drop_cap = 0;
}

/*
 * c closes with frames unacknowledged: the link may drop before a batch
 * gets through, so batches stay below a part of what this connection
 * delivered (or a quarter of what they were, if it delivered nothing).
 */
static void
feed_dropped(struct conn *c)
{
	struct feed_conn *f = c->feed;
	struct feed_peer *fp = c->peer->feed;
	uint64_t cap;

	if (f->s_n == 0)
		return;
	if (f->acked_bytes > 0)
		cap = f->acked_bytes / JALIN_BATCH_DROP_DIV;
	else
		cap = feed_batch(c->peer) / 4;
	if (cap < JALIN_BATCH_BYTES_MIN)
		cap = JALIN_BATCH_BYTES_MIN;
	if (fp->drop_cap == 0 || cap < fp->drop_cap)
		fp->drop_cap = cap;
	if (f->acked_bytes == 0) {
		fp->stuck++;
		fp->stuck_batch = f->sent[f->s_first].bytes;
	}
	log_info("peer %s: connection closed with %llu bytes unacknowledged; "
	         "batches now aim at %llu bytes",
	    c->peer->cfg.name, (unsigned long long)f->unacked,
	    (unsigned long long)feed_batch(c->peer));
}

double
feed_rate(const struct peer *p)
{
	return p->feed->rate;
}

uint32_t
feed_stuck(const struct peer *p, uint64_t *batch)
{
	if (batch != NULL)
		*batch = p->feed->stuck_batch;
	return p->feed->stuck;
}

/*
 * The one scope rule of what a peer gets: collections it is configured
 * for; in a SCOPED collection, unless it keeps every case, only the
 * records shared with it (and a withdrawal of those it was taken out of).
 */
enum feed_what
feed_what(const struct peer *p, uint8_t coll, const struct record *r)
{
	const struct schema_coll *c = schema_coll_by_id(coll);
	const char *name = p->cfg.name;

	if (c == NULL || !(p->cfg.collections & (1u << coll)))
		return FEED_NOTHING;
	/* a protocol 3 node (0.3) cannot store a sealed value: such records
	 * wait until it upgrades (PROTOCOL.md §14.8) */
	bool old =
	    c->scope == SCOPE_SCOPED && p->conn != NULL && p->conn->pv < 4;
	if (old && r == NULL)
		return FEED_NEEDS_RECORD;
	if (old && srec_rec_sealed(r))
		return FEED_NOTHING;
	if (c->scope != SCOPE_SCOPED || p->cfg.all_cases || p->cfg.relay)
		return FEED_RECORD;
	if (r == NULL)
		return FEED_NEEDS_RECORD;
	if (scope_allows(c, r, name, strlen(name)))
		return FEED_RECORD;
	return scope_withdrawn(c, r, name, strlen(name)) ? FEED_WITHDRAWAL
	                                                 : FEED_NOTHING;
}

/* The same from stored bytes, decoding only when the scope needs it. */
static enum feed_what
send_what(struct peers *ps, const struct peer *p, uint8_t coll,
    const uint8_t *state, size_t len)
{
	enum feed_what w = feed_what(p, coll, NULL);

	if (w != FEED_NEEDS_RECORD)
		return w;
	if (rec_decode(ps->sws, state, len, REC_TRUSTED, NULL) != 0)
		return FEED_NOTHING;
	return feed_what(p, coll, ps->sws);
}

bool
feed_owes_withdrawal(
    struct peers *ps, MDB_txn *txn, const struct peer *p, const uint8_t *key)
{
	const uint8_t *state;
	size_t len;
	uint64_t seq;

	return stdb_get_record(txn, store_db(ps->n->store), key[0], key + 1,
	           &state, &len, &seq) == 0 &&
	    send_what(ps, p, key[0], state, len) == FEED_WITHDRAWAL;
}

/* One CHANGES frame under construction: its items and how far it covers. */
struct frame {
	struct msg_batch bt;
	uint64_t upto;
};

static void
changes_head(struct conn *c, struct frame *f)
{
	struct store *st = c->ps->n->store;

	msg_changes_begin(&f->bt, &c->ps->out, store_epoch(st), c->feed->spos,
	    store_seq(st), now_ms());
}

/* The feed entry holds exactly what this peer sent us (storedb.h). */
static bool
is_echo(const struct conn *c, const uint8_t *v, size_t vlen)
{
	const char *name = c->peer->cfg.name;
	size_t n = vlen - STDB_KEY_LEN;

	return n == strlen(name) && memcmp(v + STDB_KEY_LEN, name, n) == 0;
}

/* Protocol 4: the batches of a record's proof go before its frame. False
 * when the frame can refer to no more batches. */
static bool
note_proof(struct conn *c, const uint8_t *state, size_t len,
    const uint8_t *proof, size_t plen)
{
	if (plen == 0)
		return true;
	if (rec_decode(c->ps->sws, state, len, REC_TRUSTED, NULL) != 0)
		return true; /* damaged: verification repairs it */
	return trust_out_note(c->feed->tout, c->ps->sws, proof, plen);
}

/* Fill one CHANGES frame from the feed after c->feed->spos. */
static int
changes_body(struct conn *c, MDB_txn *txn, struct frame *f)
{
	const struct stdb *db = store_db(c->ps->n->store);
	struct buf *b = &c->ps->out;
	struct stdb_iter it;
	int rc;

	stdb_iter_open(&it, txn, db, STDB_FEED);
	stdb_iter_find_seq(&it, c->feed->spos + 1);
	while (stdb_iter_valid(&it) && f->bt.n < JALIN_BATCH_RECORDS_MAX &&
	    b->len < c->feed->batch) {
		const uint8_t *state, *proof = NULL;
		size_t vlen, len, plen = 0;
		const uint8_t *key = stdb_iter_val(&it, &vlen);
		uint64_t seq = stdb_iter_seq(&it), rseq;
		enum feed_what w = FEED_NOTHING;
		if (vlen >= STDB_KEY_LEN &&
		    !(seq > c->peer->feed->trust_from &&
		        is_echo(c, key, vlen)) &&
		    stdb_get_record_parts(txn, db, key[0], key + 1, &rseq,
		        &proof, &plen, &state, &len) == 0)
			w = send_what(c->ps, c->peer, key[0], state, len);
		if (w == FEED_RECORD && c->feed->tout != NULL &&
		    !note_proof(c, state, len, proof, plen))
			break; /* its batches go before the next frame */
		if (w != FEED_NOTHING && c->feed->tout != NULL)
			msg_batch_rec4(&f->bt, seq, key[0], key + 1,
			    w == FEED_RECORD ? state : NULL, len, proof,
			    w == FEED_RECORD ? plen : 0);
		else if (w != FEED_NOTHING)
			msg_batch_rec(&f->bt, seq, key[0], key + 1,
			    w == FEED_RECORD ? state : NULL, len);
		f->upto = seq;
		stdb_iter_next(&it);
	}
	rc = stdb_iter_err(&it);
	stdb_iter_close(&it);
	return rc;
}

/* Build and send one CHANGES frame; false if nothing could be read. */
static bool
send_changes(struct conn *c, uint64_t head)
{
	struct frame f = {.upto = c->feed->spos};
	MDB_txn *txn;
	int rc;

	if (stdb_begin_read(store_db(c->ps->n->store), &txn, NULL) != 0)
		return false;
	changes_head(c, &f);
	rc = changes_body(c, txn, &f);
	if (rc == 0 && c->feed->tout != NULL)
		trust_out_flush(c->feed->tout, c, txn); /* before CHANGES */
	stdb_end_read(txn);
	if (rc != 0) {
		log_errx("peer %s: cannot read the feed after seq %llu",
		    c->peer->cfg.name, (unsigned long long)c->feed->spos);
		return false;
	}
	if (f.upto == c->feed->spos) /* feed entries moved past head: covered */
		f.upto = head;
	msg_changes_end(&f.bt, f.upto);
	conn_send(c, &c->ps->out);
	feed_track(c, f.upto, JALIN_FRAME_HDR + c->ps->out.len, f.bt.n);
	c->feed->spos = f.upto;
	if (c->feed->spos > c->feed->smax)
		c->feed->smax = c->feed->spos;
	c->peer->count.recs_out += f.bt.n;
	c->peer->count.batches_out++;
	return true;
}

static void
send_live(struct conn *c)
{
	struct buf *b = &c->ps->out;

	msg_enc_live(b, store_epoch(c->ps->n->store), c->feed->spos);
	conn_send(c, b);
	c->feed->caught_up = true;
	c->feed->live_upto = c->feed->spos;
	c->peer->feed->out_resync = false;
}

void
feed_pump(struct conn *c)
{
	struct evbuffer *out;

	if (c->feed == NULL || c->closing || c->dead)
		return;
	out = bufferevent_get_output(c->bev);
	while (evbuffer_get_length(out) < JALIN_SEND_HIGH) {
		uint64_t head = store_seq(c->ps->n->store);
		if (c->feed->spos >= head) {
			if (!c->feed->caught_up)
				send_live(c);
			return;
		}
		if (!feed_window_open(c))
			return; /* feed_ack pumps again */
		c->feed->batch = feed_batch(c->peer);
		if (!send_changes(c, head))
			return;
	}
	/* Full: write_cb calls us again once half of it is written. */
	bufferevent_setwatermark(c->bev, EV_WRITE, JALIN_SEND_HIGH / 2, 0);
}

static void
send_resync(struct conn *c, const char *why)
{
	struct buf *b = &c->ps->out;

	log_notice("peer %s: resync from seq 0: %s", c->peer->cfg.name, why);
	msg_enc_resync(b, store_epoch(c->ps->n->store), why);
	conn_send(c, b);
	c->peer->feed->out_resync = true;
}

static uint64_t
gcseq(struct peers *ps)
{
	uint64_t v = 0;
	MDB_txn *txn;

	if (stdb_begin_read(store_db(ps->n->store), &txn, NULL) == 0) {
		stdb_meta_u64(txn, store_db(ps->n->store), "gcseq", &v);
		stdb_end_read(txn);
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
	if (p->feed->acked_valid &&
	    memcmp(p->feed->acked_epoch, epoch, 16) == 0 &&
	    p->feed->acked_seq >= seq)
		return;
	memcpy(p->feed->acked_epoch, epoch, 16);
	p->feed->acked_seq = seq;
	p->feed->acked_valid = true;
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

int
feed_subscribe(struct conn *c, const struct msg_peer *m)
{
	uint64_t start;
	const char *why = sub_start(c, m, &start);

	if (c->feed == NULL &&
	    ((c->feed = calloc(1, sizeof(*c->feed))) == NULL ||
	        (c->pv >= 4 && (c->feed->tout = trust_out_new()) == NULL))) {
		conn_error(c, JALIN_ENOMEM, "out of memory");
		return -1;
	}
	if (why != NULL)
		send_resync(c, why);
	else if (m->has_epoch && start > 0)
		note_acked(c->peer, m->epoch, start);
	c->feed->spos = start;
	c->feed->caught_up = false;
	feed_untrack(c);
	feed_pump(c);
	return 0;
}

int
feed_ack(struct conn *c, const struct msg_peer *m)
{
	struct peer *p = c->peer;

	/* Against smax, not spos: after we restarted the stream (RESYNC)
	 * ACKs of frames sent before it may still be on their way. */
	if (m->upto > (c->feed != NULL ? c->feed->smax : 0)) {
		conn_error(c, JALIN_EPROTO, "ACK beyond what was sent");
		return -1;
	}
	memcpy(p->feed->acked_epoch, m->epoch, 16);
	p->feed->acked_seq = m->upto;
	p->feed->acked_valid = true;
	if (c->feed != NULL) {
		feed_delivered(c, m->upto);
		feed_pump(c); /* the window may have opened */
	}
	return 0;
}

/* Age of the oldest change the peer has not acknowledged, in ms. */
uint64_t
feed_lag_ms(struct peers *ps, const struct peer *p)
{
	struct store *st = ps->n->store;
	const struct stdb *db = store_db(st);
	uint64_t from = 0, ms = 0, seq;
	struct stdb_iter it;
	MDB_txn *txn;
	const uint8_t *key, *state;
	size_t vlen, len;

	if (p->feed->acked_valid &&
	    memcmp(p->feed->acked_epoch, store_epoch(st), 16) == 0)
		from = p->feed->acked_seq;
	if (from >= store_seq(st) || stdb_begin_read(store_db(st), &txn, NULL))
		return 0;
	stdb_iter_open(&it, txn, db, STDB_FEED);
	if (stdb_iter_find_seq(&it, from + 1) &&
	    (key = stdb_iter_val(&it, &vlen)) != NULL && vlen >= STDB_KEY_LEN &&
	    stdb_get_record(txn, db, key[0], key + 1, &state, &len, &seq) ==
	        0 &&
	    rec_decode(ps->sws, state, len, REC_TRUSTED, NULL) == 0)
		ms = HLC_MS(rec_max_hlc(ps->sws));
	stdb_iter_close(&it);
	stdb_end_read(txn);
	return ms && now_ms() > ms ? now_ms() - ms : 0;
}

/* Our changes p has not acknowledged (all of them after a new epoch). */
uint64_t
feed_lag_records(struct peers *ps, const struct peer *p)
{
	uint64_t head = store_seq(ps->n->store);
	bool same = p->feed->acked_valid &&
	    memcmp(p->feed->acked_epoch, store_epoch(ps->n->store), 16) == 0;

	return same && p->feed->acked_seq <= head ? head - p->feed->acked_seq
	                                          : head;
}

void
feed_restart(struct conn *c, const char *why)
{
	if (c->feed == NULL)
		return;
	send_resync(c, why);
	c->feed->spos = 0;
	c->feed->caught_up = false;
	feed_untrack(c);
	feed_pump(c);
}

void
feed_notify(struct peers *ps)
{
	struct conn *c;

	if (ps == NULL)
		return;
	TAILQ_FOREACH (c, &ps->conns, link) {
		if (!c->dead && c->open && c->feed != NULL)
			feed_pump(c);
	}
}

void
feed_closed(struct conn *c)
{
	if (c->feed != NULL && c->peer != NULL)
		feed_dropped(c);
	if (c->feed != NULL)
		trust_out_free(c->feed->tout);
	free(c->feed);
	c->feed = NULL;
}

bool
feed_caught_up(const struct peer *p)
{
	const struct feed_conn *f;

	if (p->conn == NULL || (f = p->conn->feed) == NULL || !f->caught_up)
		return false;
	/* said LIVE, and the peer acknowledged everything up to there */
	return f->live_upto == 0 ||
	    (p->feed->acked_valid &&
	        memcmp(p->feed->acked_epoch, store_epoch(p->ps->n->store),
	            16) == 0 &&
	        p->feed->acked_seq >= f->live_upto);
}

bool
feed_resyncing(const struct peer *p)
{
	return p->feed->out_resync;
}

bool
feed_acked(const struct peer *p, uint8_t epoch[16], uint64_t *seq)
{
	if (!p->feed->acked_valid)
		return false;
	memcpy(epoch, p->feed->acked_epoch, 16);
	*seq = p->feed->acked_seq;
	return true;
}

bool
feed_idle(struct peers *ps, const struct peer *p)
{
	uint64_t head = store_seq(ps->n->store);

	/* An empty feed has nothing to acknowledge: a peer only ACKs
	 * CHANGES, so with head 0 acked_valid may never be set. */
	return feed_caught_up(p) &&
	    (head == 0 ||
	        (p->feed->acked_valid &&
	            memcmp(p->feed->acked_epoch, store_epoch(ps->n->store),
	                16) == 0 &&
	            p->feed->acked_seq == head));
}

bool
feed_trusts(const struct peer *p)
{
	return p->feed->trust_valid;
}

void
feed_trust_from(struct peer *p, uint64_t seq)
{
	p->feed->trust_from = seq;
	p->feed->trust_valid = true;
}

int
feed_peer_new(struct peer *p)
{
	return (p->feed = calloc(1, sizeof(*p->feed))) != NULL ? 0
	                                                       : JALIN_ENOMEM;
}

void
feed_peer_free(struct peer *p)
{
	free(p->feed);
	p->feed = NULL;
}

void
feed_load(struct peers *ps)
{
	const struct stdb *db = store_db(ps->n->store);
	char key[JALIN_NAME_MAX + 8];
	struct peer *p;
	MDB_txn *txn;

	if (stdb_begin_read(store_db(ps->n->store), &txn, NULL) != 0)
		return;
	TAILQ_FOREACH (p, &ps->list, link) {
		struct feed_peer *f = p->feed;
		peer_ckpt_key(key, sizeof(key), PEER_CKPT_ACK, p->cfg.name);
		f->acked_valid =
		    peer_ckpt_get(txn, db, key, f->acked_epoch, &f->acked_seq);
	}
	stdb_end_read(txn);
}
