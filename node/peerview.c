/*
 * peerview.c - read-only views of the peers: the "peers" value of status,
 * a verification result as a map, and the per-peer Prometheus families.
 * Nothing here changes state; what other modules own is read through
 * their accessors (feed_lag_*, verify_last).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "hlc.h"
#include "peer.h"
#include "conn.h"
#include "feed.h"
#include "apply.h"
#include "verify.h"
#include "repl.h"
#include "peerview.h"
#include "store.h"
#include "view.h"
#include "config.h"

static uint64_t
now_ms(void)
{
	return hlc_wall_ms();
}

static void key(msgpack_packer *pk, uint32_t *n, const char *k);

/* Integers as integers, the rest with millisecond precision. */
void
peerview_sample(struct evbuffer *b, double v)
{
	if (v == (double)(int64_t)v)
		evbuffer_add_printf(b, "%lld\n", (long long)v);
	else
		evbuffer_add_printf(b, "%.3f\n", v);
}

static void
pack_time_or_nil(msgpack_packer *pk, uint64_t ms)
{
	char t[32];

	if (ms == 0 || hlc_format_ms(ms, t, sizeof(t)) != 0)
		msgpack_pack_nil(pk);
	else
		view_str(pk, t);
}

/*
 * Seconds left of a catch-up, from what crossed the link: the bytes an
 * entry took so far times the entries left, at the rate bytes arrive now.
 * Negative when not known yet (no entry applied, nothing arriving).
 */
static double
catch_up_eta(const struct peer *p, const struct apply_progress *pr)
{
	double link = peer_rx_rate(p, now_ms());

	if (pr->done == 0 || pr->bytes == 0 || link <= 0)
		return -1;
	return (double)(pr->total - pr->done) * (double)pr->bytes /
	    (double)pr->done / link;
}

/*
 * Progress of pulling the peer's feed: {"done", "total", "rate",
 * "eta_seconds", "bytes_received", "link_bytes_per_second"}, entries and
 * bytes, or nil when we have all of it.
 */
static void
pack_catch_up(msgpack_packer *pk, const struct peer *p)
{
	struct apply_progress pr;
	uint64_t done, total;
	double rate, eta;

	if (!apply_catch_up(p, &pr)) {
		msgpack_pack_nil(pk);
		return;
	}
	total = pr.total;
	done = pr.done;
	rate = (double)done * 1000.0 / (double)pr.elapsed_ms;
	eta = catch_up_eta(p, &pr);
	if (eta < 0 && rate > 0)
		eta = (double)(total - done) / rate;
	msgpack_pack_map(pk, 6);
	view_str(pk, "done");
	msgpack_pack_uint64(pk, done);
	view_str(pk, "total");
	msgpack_pack_uint64(pk, total);
	view_str(pk, "rate");
	msgpack_pack_double(pk, rate);
	view_str(pk, "eta_seconds");
	if (eta >= 0)
		msgpack_pack_double(pk, eta);
	else
		msgpack_pack_nil(pk);
	view_str(pk, "bytes_received");
	msgpack_pack_uint64(pk, pr.bytes);
	view_str(pk, "link_bytes_per_second");
	msgpack_pack_double(pk, peer_rx_rate(p, now_ms()));
}

static void
str_or_nil(msgpack_packer *pk, const char *s)
{
	if (s != NULL && s[0] != '\0')
		view_str(pk, s);
	else
		msgpack_pack_nil(pk);
}

/*
 * A plain sentence when batches repeatedly cannot get through the link,
 * either way, into out[0..n); false when there is none.
 */
static bool
link_problem(const struct peer *p, char *out, size_t n)
{
	uint64_t rx, batch;
	uint32_t in = apply_stuck(p, &rx), outn = feed_stuck(p, &batch);

	if (in >= JALIN_STUCK_ATTEMPTS) {
		snprintf(out, n,
		    "%u connections in a row ended before one batch of its "
		    "changes arrived (the last after %llu KB): the link drops "
		    "before a batch gets through; it sends smaller batches "
		    "after each drop",
		    in, (unsigned long long)(rx >> 10));
		return true;
	}
	if (outn >= JALIN_STUCK_ATTEMPTS) {
		snprintf(out, n,
		    "%u connections in a row ended before it acknowledged one "
		    "batch of our changes (the last was %llu KB): the link "
		    "drops before a batch gets through; batches now aim at "
		    "%llu KB",
		    outn, (unsigned long long)(batch >> 10),
		    (unsigned long long)(feed_batch(p) >> 10));
		return true;
	}
	return false;
}

/*
 * How the link carries the two feeds: what the peer acknowledged of ours
 * (delivered, beside bytes_out/records_out: queued), the rates measured
 * each way, the batch size aimed at, sessions that failed before we
 * caught up (kept across reconnects) and the plain message when batches
 * cannot get through.
 */
static void
pack_link_health(const struct peer *p, msgpack_packer *pk, uint32_t *n)
{
	const struct peer_counters *k = peer_counters(p);
	const char *why;
	uint64_t at;
	uint32_t failed = apply_failures(p, &why, &at);
	char msg[400];

	key(pk, n, "bytes_delivered");
	msgpack_pack_uint64(pk, k->bytes_acked);
	key(pk, n, "records_delivered");
	msgpack_pack_uint64(pk, k->recs_acked);
	key(pk, n, "link_in_bytes_per_second");
	msgpack_pack_double(pk, peer_rx_rate(p, now_ms()));
	key(pk, n, "link_out_bytes_per_second");
	msgpack_pack_double(pk, feed_rate(p));
	key(pk, n, "batch_bytes");
	msgpack_pack_uint64(pk, feed_batch(p));
	key(pk, n, "failed_attempts");
	msgpack_pack_uint32(pk, failed);
	key(pk, n, "last_failure");
	str_or_nil(pk, why);
	key(pk, n, "last_failure_at");
	pack_time_or_nil(pk, at);
	key(pk, n, "link_problem");
	str_or_nil(pk, link_problem(p, msg, sizeof(msg)) ? msg : NULL);
}

/* A key of a map whose pairs are counted as they are written. */
static void
key(msgpack_packer *pk, uint32_t *n, const char *k)
{
	view_str(pk, k);
	(*n)++;
}

/* Refusals by write authority and the schema (authz.h), per rule, and
 * the last one in words. */
static void
pack_refusals(msgpack_packer *pk, uint32_t *n, const struct peer *p)
{
	static const char *const keys[AUTHZ_RULES] = {
	    [AUTHZ_AUTHOR] = "refused_authority",
	    [AUTHZ_ORIGIN] = "refused_origin",
	    [AUTHZ_ERASE] = "refused_erasure",
	    [AUTHZ_SCHEMA] = "refused_schema",
	    [AUTHZ_SIGNATURE] = "refused_signature",
	};
	uint64_t at;
	const char *last = apply_last_refusal(p, &at);

	for (int r = 1; r < AUTHZ_RULES; r++) {
		key(pk, n, keys[r]);
		msgpack_pack_uint64(pk, apply_refused_by(p, r));
	}
	key(pk, n, "last_refusal");
	str_or_nil(pk, last);
	key(pk, n, "last_refusal_at");
	pack_time_or_nil(pk, at);
}

static void
pack_counters(msgpack_packer *pk, uint32_t *n, const struct peer *p)
{
	const struct peer_counters *k = peer_counters(p);

	key(pk, n, "records_in");
	msgpack_pack_uint64(pk, k->recs_in);
	key(pk, n, "records_out");
	msgpack_pack_uint64(pk, k->recs_out);
	key(pk, n, "refused_records");
	msgpack_pack_uint64(pk, k->refused_recs);
	pack_refusals(pk, n, p);
	key(pk, n, "bytes_in");
	msgpack_pack_uint64(pk, k->bytes_in);
	key(pk, n, "bytes_out");
	msgpack_pack_uint64(pk, k->bytes_out);
	key(pk, n, "errors");
	msgpack_pack_uint64(pk, k->errors);
}

static void
pack_link(
    struct peers *ps, const struct peer *p, msgpack_packer *pk, uint32_t *n)
{
	uint64_t lag_ms = feed_lag_ms(ps, p), lag = feed_lag_records(ps, p);

	key(pk, n, "state");
	view_str(pk, peer_state_name(repl_state(ps, p)));
	key(pk, n, "lag_records");
	msgpack_pack_uint64(pk, lag);
	key(pk, n, "lag_seconds");
	msgpack_pack_double(pk, (double)lag_ms / 1000.0);
	key(pk, n, "in_lag_records");
	msgpack_pack_uint64(pk, apply_in_lag(p));
	key(pk, n, "last_contact");
	pack_time_or_nil(pk, conn_last_contact_ms(p));
	key(pk, n, "last_error");
	if (peer_last_error(p) != NULL)
		view_str(pk, peer_last_error(p));
	else
		msgpack_pack_nil(pk);
}

static void
pack_peer(
    struct peers *ps, const struct peer *p, msgpack_packer *pk, struct buf *b)
{
	const struct verify_result *last = verify_last(p);
	const struct cfg_peer *cfg = peer_cfg(p);
	uint64_t expiry = peer_cert_expiry_ms(p);
	size_t mark = view_map_begin(b);
	uint32_t n = 0;
	char addr[300];

	key(pk, &n, "name");
	view_str(pk, cfg->name);
	key(pk, &n, "address");
	if (cfg->address.set) {
		snprintf(addr, sizeof(addr), "%s:%u", cfg->address.host,
		    cfg->address.port);
		view_str(pk, addr);
	} else {
		msgpack_pack_nil(pk);
	}
	pack_link(ps, p, pk, &n);
	key(pk, &n, "connected_since");
	pack_time_or_nil(pk, conn_connected_ms(p));
	key(pk, &n, "catch_up");
	pack_catch_up(pk, p);
	key(pk, &n, "cert_expires");
	pack_time_or_nil(pk, expiry);
	key(pk, &n, "cert_expires_in_days");
	if (expiry == 0)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_int64(
		    pk, ((int64_t)expiry - (int64_t)now_ms()) / 86400000);
	key(pk, &n, "cert_warning");
	if (expiry != 0 && expiry < now_ms() + 30ull * 86400000)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	key(pk, &n, "verified_at");
	pack_time_or_nil(pk, last ? last->verified_ms : 0);
	key(pk, &n, "verify_result");
	if (last != NULL && last->at_ms != 0)
		view_str(pk, last->text);
	else
		msgpack_pack_nil(pk);
	pack_counters(pk, &n, p);
	pack_link_health(p, pk, &n);
	view_patch(b, mark, n);
}

void
peerview_status(struct peers *ps, msgpack_packer *pk, struct buf *b)
{
	struct peer *p;
	uint32_t n = 0;

	if (ps == NULL) {
		msgpack_pack_array(pk, 0);
		return;
	}
	for (p = peers_next(ps, NULL); p != NULL; p = peers_next(ps, p))
		n++;
	msgpack_pack_array(pk, n);
	for (p = peers_next(ps, NULL); p != NULL; p = peers_next(ps, p))
		pack_peer(ps, p, pk, b);
}

void
peerview_pack_verify(const struct verify_result *r, msgpack_packer *pk)
{
	msgpack_pack_map(pk, 9);
	view_str(pk, "peer");
	view_str(pk, r->peer);
	view_str(pk, "result");
	view_str(pk, r->text);
	view_str(pk, "in_sync");
	if (r->rc == 0 && r->equal)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	view_str(pk, "verified_at");
	pack_time_or_nil(pk, r->verified_ms);
	view_str(pk, "compared");
	msgpack_pack_uint64(pk, r->compared);
	view_str(pk, "differing");
	msgpack_pack_uint64(pk, r->differing);
	view_str(pk, "repaired");
	msgpack_pack_uint64(pk, r->repaired);
	view_str(pk, "corrupt");
	msgpack_pack_uint64(pk, r->corrupt);
	view_str(pk, "where");
	if (r->where[0])
		view_str(pk, r->where);
	else
		msgpack_pack_nil(pk);
}

/* --- metrics ------------------------------------------------------------ */

struct pmetric {
	const char *name, *type, *help;
	double (*get)(struct peers *ps, const struct peer *p);
};

static double
m_lag(struct peers *ps, const struct peer *p)
{
	return (double)feed_lag_records(ps, p);
}

static double
m_lag_s(struct peers *ps, const struct peer *p)
{
	return (double)feed_lag_ms(ps, p) / 1000.0;
}

static double
m_in_lag(struct peers *ps, const struct peer *p)
{
	(void)ps;
	return (double)apply_in_lag(p);
}

#define M_FIELD(fn, expr)                                        \
	static double fn(struct peers *ps, const struct peer *p) \
	{                                                        \
		(void)ps;                                        \
		return (double)(expr);                           \
	}
M_FIELD(m_refused, peer_counters(p)->refused_recs)
M_FIELD(m_ref_author, apply_refused_by(p, AUTHZ_AUTHOR))
M_FIELD(m_ref_origin, apply_refused_by(p, AUTHZ_ORIGIN))
M_FIELD(m_ref_erase, apply_refused_by(p, AUTHZ_ERASE))
M_FIELD(m_ref_schema, apply_refused_by(p, AUTHZ_SCHEMA))
M_FIELD(m_ref_sig, apply_refused_by(p, AUTHZ_SIGNATURE))
M_FIELD(m_skew, peer_skew_ms(p) / 1000.0)
M_FIELD(m_cert, peer_cert_expiry_ms(p) / 1000.0)
M_FIELD(m_verified, verify_last(p) ? verify_last(p)->verified_ms / 1000.0 : 0)
M_FIELD(m_contact, conn_last_contact_ms(p) / 1000.0)
M_FIELD(m_rx_rate, peer_rx_rate(p, now_ms()))
M_FIELD(m_ack_rate, feed_rate(p))
M_FIELD(m_batch, feed_batch(p))
M_FIELD(m_failed, apply_failures(p, &(const char *){NULL}, &(uint64_t){0}))

static const struct pmetric pmetrics[] = {
    {"jalin_peer_lag_records", "gauge",
        "Our changes the peer has not acknowledged.", m_lag},
    {"jalin_peer_lag_seconds", "gauge",
        "Age of the oldest change the peer has not acknowledged.", m_lag_s},
    {"jalin_peer_in_lag_records", "gauge",
        "Changes of the peer we have not applied yet.", m_in_lag},
    {"jalin_peer_refused_records_total", "counter",
        "Records from the peer refused (scope, collection, decoding).",
        m_refused},
    {"jalin_peer_refused_authority_total", "counter",
        "States from the peer refused: a write its author may not make.",
        m_ref_author},
    {"jalin_peer_refused_origin_total", "counter",
        "States from the peer refused: origin_node claimed or changed.",
        m_ref_origin},
    {"jalin_peer_refused_erasure_total", "counter",
        "States from the peer refused: values lost without a write.",
        m_ref_erase},
    {"jalin_peer_refused_schema_total", "counter",
        "States from the peer refused: values that break the schema.",
        m_ref_schema},
    {"jalin_peer_refused_signature_total", "counter",
        "States from the peer refused: an event its origin did not sign.",
        m_ref_sig},
    {"jalin_peer_clock_skew_seconds", "gauge",
        "The peer's clock minus ours, as last seen.", m_skew},
    {"jalin_peer_cert_expiry_timestamp_seconds", "gauge",
        "When the peer's certificate expires (0: unknown).", m_cert},
    {"jalin_peer_verified_timestamp_seconds", "gauge",
        "Last time the shared scope was verified equal (0: never).",
        m_verified},
    {"jalin_peer_last_contact_timestamp_seconds", "gauge",
        "Last time anything was received from the peer.", m_contact},
    {"jalin_peer_link_in_bytes_per_second", "gauge",
        "Bytes received from the peer per second (last 8 s).", m_rx_rate},
    {"jalin_peer_link_out_bytes_per_second", "gauge",
        "Bytes of our feed the peer acknowledges per second.", m_ack_rate},
    {"jalin_peer_batch_bytes", "gauge",
        "Bytes the next batch of our feed to the peer aims at.", m_batch},
    {"jalin_peer_failed_attempts", "gauge",
        "Sessions that ended before we caught up with the peer.", m_failed},
};

static void
peer_family(struct peers *ps, struct evbuffer *b, const struct pmetric *pm)
{
	struct peer *p;

	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", pm->name,
	    pm->help, pm->name, pm->type);
	for (p = peers_next(ps, NULL); p != NULL; p = peers_next(ps, p)) {
		evbuffer_add_printf(
		    b, "%s{peer=\"%s\"} ", pm->name, peer_name(p));
		peerview_sample(b, pm->get(ps, p));
	}
}

static void
state_family(struct peers *ps, struct evbuffer *b)
{
	struct peer *p;

	evbuffer_add_printf(b,
	    "# HELP jalin_peer_state 1 for the peer's "
	    "current state, 0 for the others.\n"
	    "# TYPE jalin_peer_state gauge\n");
	for (p = peers_next(ps, NULL); p != NULL; p = peers_next(ps, p)) {
		int st = repl_state(ps, p);
		for (int s = PEER_DOWN; s <= PEER_REFUSED; s++)
			evbuffer_add_printf(b,
			    "jalin_peer_state{peer=\"%s\",state=\"%s\"} %d\n",
			    peer_name(p), peer_state_name(s), s == st);
	}
}

static void
io_family(struct peers *ps, struct evbuffer *b, const char *name,
    const char *help, size_t in_off, size_t out_off)
{
	struct peer *p;

	evbuffer_add_printf(
	    b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (p = peers_next(ps, NULL); p != NULL; p = peers_next(ps, p)) {
		const char *base = (const char *)peer_counters(p);
		uint64_t in, out;
		memcpy(&in, base + in_off, sizeof(in));
		memcpy(&out, base + out_off, sizeof(out));
		evbuffer_add_printf(b,
		    "%s{peer=\"%s\",direction=\"in\"} %llu\n"
		    "%s{peer=\"%s\",direction=\"out\"} %llu\n",
		    name, peer_name(p), (unsigned long long)in, name,
		    peer_name(p), (unsigned long long)out);
	}
}

static void
error_family(struct peers *ps, struct evbuffer *b)
{
	struct peer *p;

	evbuffer_add_printf(b,
	    "# HELP jalin_peer_errors_total Connection "
	    "errors by kind.\n"
	    "# TYPE jalin_peer_errors_total counter\n");
	for (p = peers_next(ps, NULL); p != NULL; p = peers_next(ps, p)) {
		for (int k = 0; k < EK_COUNT; k++)
			evbuffer_add_printf(b,
			    "jalin_peer_errors_total{peer=\"%s\",kind=\"%s\"} "
			    "%llu\n",
			    peer_name(p), peer_err_kind_name(k),
			    (unsigned long long)peer_counters(p)->errors_by[k]);
	}
}

void
peerview_metrics(struct peers *ps, struct evbuffer *b)
{
	if (ps == NULL)
		return;
	state_family(ps, b);
	for (size_t i = 0; i < sizeof(pmetrics) / sizeof(pmetrics[0]); i++)
		peer_family(ps, b, &pmetrics[i]);
	io_family(ps, b, "jalin_peer_bytes_total", "Bytes of frames.",
	    offsetof(struct peer_counters, bytes_in),
	    offsetof(struct peer_counters, bytes_out));
	io_family(ps, b, "jalin_peer_records_total",
	    "Records received and sent.",
	    offsetof(struct peer_counters, recs_in),
	    offsetof(struct peer_counters, recs_out));
	io_family(ps, b, "jalin_peer_delivered_bytes_total",
	    "Bytes received (partial frames too), and bytes of our feed the "
	    "peer acknowledged.",
	    offsetof(struct peer_counters, wire_in),
	    offsetof(struct peer_counters, bytes_acked));
	io_family(ps, b, "jalin_peer_delivered_records_total",
	    "Records applied here, and records of our feed the peer "
	    "acknowledged.",
	    offsetof(struct peer_counters, recs_in),
	    offsetof(struct peer_counters, recs_acked));
	io_family(ps, b, "jalin_peer_batches_total",
	    "CHANGES frames received and sent.",
	    offsetof(struct peer_counters, batches_in),
	    offsetof(struct peer_counters, batches_out));
	error_family(ps, b);
}
