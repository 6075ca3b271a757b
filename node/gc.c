/*
 * gc.c - tombstone collection (DESIGN.md §4).
 *
 * A deleted record's tombstone is kept until every peer has acknowledged
 * our feed past it; then it is buried (store.c), a bounded batch per run,
 * inside the group commit; a buried tombstone keeps no proof, so the
 * signed batches only it referred to go in the same transaction (store.c,
 * batch reference counts). The same run saves the peers' acknowledgements
 * ("ack:" checkpoints) and, while a peer is live, the contact time that
 * the outage hold is measured from (apply.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "limits.h"
#include "log.h"
#include "ops.h"
#include "peer.h"
#include "conn.h"
#include "feed.h"
#include "apply.h"
#include "gc.h"
#include "store.h"
#include "record.h"
#include "node.h"

static uint64_t
now_ms(void)
{
	return hlc_wall_ms();
}

struct gc_cand {
	uint64_t seq;
	uint8_t key[STDB_KEY_LEN];
};

/* Collection state of the node (opaque outside this file). */
struct gc {
	struct node *n;
	struct peers *ps;
	struct record *ws; /* decode workspace, used inside the commit */
	bool running;      /* a run is queued or being applied */
	char holder[JALIN_NAME_MAX + 1]; /* held tombstones back last run */
};

struct gctask {
	struct gc *gc;
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
	struct gc_cand cand[JALIN_GC_BATCH];
};

static bool
collectable(struct store_txn *st, struct gc *gc, const uint8_t *key)
{
	const struct stdb *db = store_db(gc->n->store);
	const uint8_t *v, *state;
	size_t vlen, len;
	uint64_t seq;

	/* most of the feed is live records: a look at the first entry's tag
	 * tells without a checksum or a decode */
	if (stdb_get(store_txn_mdb(st), db, STDB_RECORDS, key, STDB_KEY_LEN, &v,
	        &vlen) != 0 ||
	    stdb_value_split(v, vlen, &state, &len, &seq) != 0 ||
	    !rec_peek_deleted(state, len))
		return false;
	if (stdb_value_state(v, vlen, &state, &len, &seq) != 0 ||
	    rec_decode(gc->ws, state, len, REC_TRUSTED, NULL) != 0)
		return false;
	/* purge markers stay: they keep an erased id from coming back */
	return !rec_is_live(gc->ws) && !rec_is_purged(gc->ws) &&
	    rec_conflicts(gc->ws) == 0;
}

/* Feed entries in (gcscan, upto] that are plain tombstones. 0 or a
 * JALIN_E* code (the iterator maps LMDB's). */
static int
gc_scan(
    struct store_txn *st, struct gctask *g, uint64_t from, uint64_t *scanned)
{
	const struct stdb *db = store_db(g->gc->n->store);
	struct stdb_iter it;
	int rc;

	*scanned = from;
	stdb_iter_open(&it, store_txn_mdb(st), db, STDB_FEED);
	stdb_iter_find_seq(&it, from + 1);
	/* bounded: a large import is scanned over several runs, so the
	 * event loop never waits long for one */
	for (size_t looked = 0; stdb_iter_valid(&it) &&
	     g->ncand < JALIN_GC_BATCH && looked < JALIN_GC_SCAN_MAX;
	     looked++) {
		uint64_t seq = stdb_iter_seq(&it);
		size_t vlen;
		const uint8_t *v = stdb_iter_val(&it, &vlen);
		if (seq > g->upto)
			break;
		*scanned = seq;
		if (vlen >= STDB_KEY_LEN && collectable(st, g->gc, v)) {
			g->cand[g->ncand].seq = seq;
			memcpy(g->cand[g->ncand++].key, v, STDB_KEY_LEN);
		}
		stdb_iter_next(&it);
	}
	rc = stdb_iter_err(&it);
	stdb_iter_close(&it);
	return rc;
}

static int
gc_acks(struct store_txn *st, const struct gctask *g)
{
	char key[JALIN_NAME_MAX + 8];
	uint8_t v[32];
	int rc = 0;

	for (size_t i = 0; i < g->nacks && rc == 0; i++) {
		peer_ckpt_key(key, sizeof(key), PEER_CKPT_ACK, g->acks[i].name);
		rc = store_txn_put(st, STDB_CKPT, key, strlen(key), v,
		    peer_ckpt_pack(v, g->acks[i].epoch, g->acks[i].seq));
	}
	return rc;
}

static int
gc_apply(struct store_txn *st, void *arg)
{
	struct gctask *g = arg;
	const struct stdb *db = store_db(g->gc->n->store);
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

	g->gc->running = false;
	if (rc != 0)
		log_warnx("store: tombstone collection failed: %s",
		    jalin_err_msg(err, rc));
	else if (g->dropped > 0)
		log_info("store: collected %llu tombstone(s) acknowledged by "
		         "every peer",
		    (unsigned long long)g->dropped);
	free(g);
}

/* Note what p acknowledged into g, and lower *upto to it. */
static void
note_acks(struct gc *gc, struct gctask *g, struct peer *p, uint64_t *upto)
{
	const uint8_t *mine = store_epoch(gc->n->store);
	uint8_t epoch[16];
	uint64_t seq = 0;
	bool valid = feed_acked(p, epoch, &seq);
	uint64_t a = valid && memcmp(epoch, mine, 16) == 0 ? seq : 0;

	if (a < *upto) {
		*upto = a;
		snprintf(gc->holder, sizeof(gc->holder), "%s", peer_name(p));
	}
	if (valid && g->nacks < JALIN_PEERS_MAX) {
		snprintf(g->acks[g->nacks].name, JALIN_NAME_MAX + 1, "%s",
		    peer_name(p));
		memcpy(g->acks[g->nacks].epoch, epoch, 16);
		g->acks[g->nacks++].seq = seq;
	}
}

void
gc_run(struct gc *gc)
{
	uint64_t upto = store_seq(gc->n->store);
	struct ops_task ot;
	struct gctask *g;
	struct peer *p = NULL;

	if (gc->running || (g = calloc(1, sizeof(*g))) == NULL)
		return;
	g->gc = gc;
	gc->holder[0] = '\0';
	while ((p = peers_next_all(gc->ps, p)) != NULL) {
		if (conn_is_up(p) && apply_is_live(p) &&
		    gc->n->held_since_ms == 0)
			g->contact = now_ms();
		if (!peer_removed(p))
			note_acks(gc, g, p, &upto);
	}
	g->upto = upto;
	ot = (struct ops_task){gc_apply, gc_done, g};
	if (ops_submit_task(gc->n->ops, &ot) != 0) {
		free(g);
		return;
	}
	gc->running = true;
}

const char *
gc_holder(const struct gc *gc)
{
	return gc != NULL && gc->holder[0] ? gc->holder : NULL;
}

struct gc *
gc_new(struct node *n, struct peers *ps)
{
	struct gc *gc = calloc(1, sizeof(*gc));

	if (gc == NULL || (gc->ws = malloc(sizeof(*gc->ws))) == NULL) {
		free(gc);
		return NULL;
	}
	gc->n = n;
	gc->ps = ps;
	return gc;
}

void
gc_free(struct gc *gc)
{
	if (gc == NULL)
		return;
	free(gc->ws);
	free(gc);
}
