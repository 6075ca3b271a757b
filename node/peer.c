/*
 * peer.c - helpers on the configured-peer table (peer.h): lookup, the
 * error and skew bookkeeping of one peer, and the frame buffer pool.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "esc.h"
#include "hlc.h"
#include "mp.h"
#include "store.h"
#include "peer.h"
#include "peer_impl.h"

struct peer *
peer_find(struct peers *ps, const char *name)
{
	struct peer *p;

	TAILQ_FOREACH (p, &ps->list, link) {
		if (!p->removed && strcmp(p->cfg.name, name) == 0)
			return p;
	}
	return NULL;
}

const char *
peer_state_name(int state)
{
	static const char *const names[] = {"down", "connecting", "handshaking",
	    "catching_up", "live", "stalled", "resyncing", "refused"};

	return state >= 0 && state <= PEER_REFUSED ? names[state] : "down";
}

void
peer_set_error(struct peer *p, const char *fmt, ...)
{
	char raw[JALIN_ERRMSG_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* a peer's text, escaped (esc.h): status must stay valid UTF-8 */
	n = n < 0 ? 0 : n >= (int)sizeof(raw) ? (int)sizeof(raw) - 1 : n;
	esc_text(p->last_error, sizeof(p->last_error), raw, (size_t)n, NULL);
}

const char *
peer_err_kind_name(int kind)
{
	static const char *const names[] = {"tls", "auth", "protocol",
	    "timeout", "clock_skew", "store", "duplicate", "disconnect",
	    "other"};

	return kind >= 0 && kind < EK_COUNT ? names[kind] : "other";
}

void
peer_count_error(struct peer *p, int kind)
{
	p->count.errors++;
	p->count.errors_by[kind >= 0 && kind < EK_COUNT ? kind : EK_OTHER]++;
}

/* A frame buffer a task is done with: keep up to two for reuse. */
void
peers_give_back(struct peers *ps, struct buf *b)
{
	for (int i = 0; i < 2; i++) {
		if (ps->pool[i].p == NULL && b->cap <= 2 * JALIN_BATCH_BYTES) {
			ps->pool[i] = *b;
			buf_init(b, JALIN_FRAME_MAX);
			return;
		}
	}
	buf_free(b);
}

const char *
peer_name(const struct peer *p)
{
	return p->cfg.name;
}

struct peer *
peers_next(struct peers *ps, struct peer *p)
{
	p = p == NULL ? TAILQ_FIRST(&ps->list) : TAILQ_NEXT(p, link);
	while (p != NULL && p->removed)
		p = TAILQ_NEXT(p, link);
	return p;
}

struct node *
peers_node(const struct peers *ps)
{
	return ps->n;
}

struct peer *
peers_next_all(struct peers *ps, struct peer *p)
{
	return p == NULL ? TAILQ_FIRST(&ps->list) : TAILQ_NEXT(p, link);
}

bool
peer_removed(const struct peer *p)
{
	return p->removed;
}

const struct cfg_peer *
peer_cfg(const struct peer *p)
{
	return &p->cfg;
}

const char *
peer_last_error(const struct peer *p)
{
	return p->last_error[0] ? p->last_error : NULL;
}

uint64_t
peer_cert_expiry_ms(const struct peer *p)
{
	return p->cert_expiry_ms;
}

int64_t
peer_skew_ms(const struct peer *p)
{
	return p->skew_ms;
}

const struct peer_counters *
peer_counters(const struct peer *p)
{
	return &p->count;
}

void
peer_note_skew(struct peer *p, uint64_t their_ms)
{
	if (their_ms == 0)
		return;
	p->skew_ms = (int64_t)their_ms - (int64_t)hlc_wall_ms();
	p->skew_seen = true;
}

void
peer_note_rx(struct peer *p, uint64_t now_ms, uint64_t n)
{
	uint64_t sec = now_ms / 1000;
	unsigned i = (unsigned)(sec % JALIN_RATE_WINDOW);

	p->count.wire_in += n;
	/* a quiet stretch longer than the window starts a new measure */
	if (p->rx_first_ms == 0 ||
	    now_ms > p->rx_last_ms + JALIN_RATE_WINDOW * 1000ull)
		p->rx_first_ms = now_ms;
	p->rx_last_ms = now_ms;
	if (p->rx_sec[i] != sec) {
		p->rx_sec[i] = sec;
		p->rx_bytes[i] = 0;
	}
	p->rx_bytes[i] += n;
}

double
peer_rx_rate(const struct peer *p, uint64_t now_ms)
{
	uint64_t sec = now_ms / 1000, sum = 0, span;

	if (p->rx_first_ms == 0)
		return 0;
	for (unsigned i = 0; i < JALIN_RATE_WINDOW; i++) {
		if (p->rx_sec[i] + JALIN_RATE_WINDOW > sec &&
		    p->rx_sec[i] <= sec)
			sum += p->rx_bytes[i];
	}
	/* the whole window, or since the stretch began if that is shorter
	 * (at least a second, so the first bytes do not read as a flood) */
	span = now_ms - p->rx_first_ms;
	if (span > JALIN_RATE_WINDOW * 1000ull)
		span = JALIN_RATE_WINDOW * 1000ull;
	if (span < 1000)
		span = 1000;
	return (double)sum * 1000.0 / (double)span;
}

void
peers_take_frame(struct peers *ps, struct buf *out)
{
	*out = ps->in;
	for (int i = 0; i < 2; i++) {
		if (ps->pool[i].p != NULL) {
			ps->in = ps->pool[i];
			buf_init(&ps->pool[i], JALIN_FRAME_MAX);
			return;
		}
	}
	buf_init(&ps->in, JALIN_FRAME_MAX);
}

void
peer_ckpt_key(char *k, size_t n, const char *prefix, const char *peer)
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

size_t
peer_ckpt_pack(uint8_t *out, const uint8_t epoch[16], uint64_t seq)
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

bool
peer_ckpt_get(MDB_txn *txn, const struct stdb *db, const char *key,
    uint8_t epoch[16], uint64_t *seq)
{
	const uint8_t *v;
	size_t vlen;

	return stdb_get(txn, db, STDB_CKPT, key, strlen(key), &v, &vlen) == 0 &&
	    ckpt_parse(v, vlen, epoch, seq) == 0;
}
