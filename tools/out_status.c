/*
 * out_status.c - the node's sync state for people: status, peers, verify
 * and the federation table.
 *
 * Written for an office without IT staff: each peer gets a verdict line
 * first ("in sync, verified 12s ago", "down 3h, 200 changes to send"),
 * then the facts behind it in words, each on its own labelled line,
 * wrapped to 80 columns. Whether "in sync" was verified (digests compared)
 * or is only the replication state is always said.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"
#include "json.h"
#include "limits.h"
#include "out_text.h"

#define LABEL_W 13 /* label column of status lines */
#define LINE_W  80

/* lead, then text escaped (esc.h: a peer's error may be in it) and
 * wrapped at 80 columns, continued at column hang. */
static void
emit(const char *lead, int hang, const char *text)
{
	int col = printf("%s", lead);
	char *e = esc_dup(text);
	const char *p = e != NULL ? e : "?";
	bool first = true;

	while (*p != '\0') {
		int w = (int)strcspn(p, " ");
		if (!first && col > hang && col + 1 + w > LINE_W - 1) {
			printf("\n%*s", hang, "");
			col = hang;
		} else if (!first) {
			col += printf(" ");
		}
		col += printf("%.*s", w, p);
		first = false;
		p += w;
		p += strspn(p, " ");
	}
	printf("\n");
	free(e);
}

static void kv(int indent, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "label        value": the value wrapped at 80 columns under itself. */
static void
kv(int indent, const char *label, const char *fmt, ...)
{
	char buf[1024], lead[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(
	    lead, sizeof(lead), "%*s%-*s ", indent, "", LABEL_W - 1, label);
	emit(lead, indent + LABEL_W, buf);
}

static json_int_t
num(json_t *o, const char *key)
{
	return js_int(o, key, 0);
}

static double
real(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static void
status_records(json_t *rec)
{
	static const char *const colls[] = {
	    "case", "partnership", "lks", "resource", "referral"};
	char line[256];
	json_int_t all = 0;
	int n = 0;

	for (size_t i = 0; i < 5; i++) {
		json_int_t c = num(rec, colls[i]);
		n += snprintf(line + n, sizeof(line) - (size_t)n,
		    "%s%s %" JSON_INTEGER_FORMAT, i ? ", " : "", colls[i], c);
		all += c;
	}
	kv(0, "records", "%s (%" JSON_INTEGER_FORMAT " in all)", line, all);
}

static void
status_store(json_t *st)
{
	json_t *store = json_object_get(st, "store");
	json_t *max = json_object_get(st, "map_max");
	char used[32], size[32], cap[32] = "";

	ot_human_size(num(store, "map_used"), used, sizeof(used));
	ot_human_size(num(store, "map_size"), size, sizeof(size));
	kv(0, "store", "%s", ot_sv(store, "path"));
	if (json_is_integer(max))
		ot_human_size(json_integer_value(max), cap, sizeof(cap));
	kv(0, "map", "%s used of %s%s%s%s", used, size,
	    *cap ? " (may grow to " : "", cap, *cap ? ")" : "");
}

static void
status_uptime(json_t *st)
{
	json_t *up = json_object_get(st, "uptime_s");
	json_int_t s = json_integer_value(up);
	char d[32] = "";

	if (json_is_false(json_object_get(st, "running"))) {
		kv(0, "running", "no (read from the store with --db)");
		return;
	}
	if (!json_is_integer(up))
		return;
	if (s >= 86400)
		snprintf(d, sizeof(d), "%" JSON_INTEGER_FORMAT "d ", s / 86400);
	kv(0, "uptime", "%s%02d:%02d:%02d", d, (int)(s % 86400 / 3600),
	    (int)(s % 3600 / 60), (int)(s % 60));
}

static void
status_node(json_t *st, const char *via)
{
	json_int_t conflicts = num(st, "conflicts");
	const char *holder = js_str(st, "tombstones_held_by");

	kv(0, "node", "%s", ot_sv(st, "node"));
	if (via != NULL)
		kv(0, "via", "%s", via);
	kv(0, "epoch", "%s", ot_sv(st, "epoch"));
	kv(0, "seq", "%" JSON_INTEGER_FORMAT, num(st, "seq"));
	status_records(json_object_get(st, "records"));
	kv(0, "conflicts", "%" JSON_INTEGER_FORMAT "%s", conflicts,
	    conflicts > 0 ? " (jalinctl conflicts lists them; resolve one "
	                    "by writing the field again)"
	                  : "");
	if (holder != NULL)
		kv(0, "tombstones",
		    "%" JSON_INTEGER_FORMAT ", kept until %s acknowledges "
		    "them (it holds their collection back)",
		    num(st, "tombstones"), holder);
	else
		kv(0, "tombstones", "%" JSON_INTEGER_FORMAT,
		    num(st, "tombstones"));
	const char *held = js_str(st, "offline_hold_since");
	if (held != NULL) {
		char t[64], ago[64];
		ot_time(held, t, sizeof(t));
		ot_ago(held, "", ago, sizeof(ago));
		kv(0, "held",
		    "no peer since %s (%s, more than offline_hold): records "
		    "are not shown until a peer is caught up with",
		    t, ago);
	}
	status_store(st);
	if (json_is_string(json_object_get(st, "version")))
		kv(0, "version", "%s", ot_sv(st, "version"));
	status_uptime(st);
}

/* The state in words. */
static void
peer_state(json_t *p)
{
	const char *s = ot_sv(p, "state");
	char t[32], ago[32];

	ot_time(js_str(p, "connected_since"), t, sizeof(t));
	ot_ago(js_str(p, "last_contact"), "never", ago, sizeof(ago));
	if (strcmp(s, "live") == 0)
		kv(2, "state", "live: connected since %s", t);
	else if (strcmp(s, "catching_up") == 0)
		kv(2, "state", "catching up: connected since %s", t);
	else if (strcmp(s, "stalled") == 0)
		kv(2, "state",
		    "stalled: connected, but the stream has not "
		    "moved for a while");
	else if (strcmp(s, "resyncing") == 0)
		kv(2, "state",
		    "resyncing: a checkpoint could not be used; "
		    "replicating again from the start");
	else if (strcmp(s, "refused") == 0)
		kv(2, "state",
		    "refused: its certificate or name was not "
		    "accepted (see last error)");
	else if (strcmp(s, "down") == 0)
		kv(2, "state", "down: last contact %s", ago);
	else
		kv(2, "state", "%s", s);
}

/* What crossed the link while catching up, and how fast it comes now. */
static void
peer_catch_up_link(json_t *cu)
{
	char got[32], rate[32];

	if (!json_is_number(json_object_get(cu, "bytes_received")))
		return;
	ot_human_size(num(cu, "bytes_received"), got, sizeof(got));
	ot_human_size(
	    (json_int_t)real(cu, "link_bytes_per_second"), rate, sizeof(rate));
	kv(2, "received", "%s so far, arriving at %s/s", got, rate);
}

/* What the link carries each way, and sessions that failed meanwhile. */
static void
peer_link(json_t *p)
{
	char in[32], out[32], batch[32], ago[32];
	const char *why = js_str(p, "last_failure");
	const char *problem = js_str(p, "link_problem");

	if (!json_is_number(json_object_get(p, "batch_bytes")))
		return; /* an older node */
	ot_human_size(
	    (json_int_t)real(p, "link_in_bytes_per_second"), in, sizeof(in));
	ot_human_size(
	    (json_int_t)real(p, "link_out_bytes_per_second"), out, sizeof(out));
	ot_human_size(num(p, "batch_bytes"), batch, sizeof(batch));
	kv(2, "link", "in %s/s; out %s/s acknowledged; batches of %s to it", in,
	    out, batch);
	ot_ago(js_str(p, "last_failure_at"), "never", ago, sizeof(ago));
	if (num(p, "failed_attempts") > 0)
		kv(2, "attempts",
		    "%" JSON_INTEGER_FORMAT " sessions ended before we caught "
		    "up; the last %s: %s",
		    num(p, "failed_attempts"), ago, why ? why : "unknown");
	if (problem != NULL)
		kv(2, "PROBLEM", "%s", problem);
}

static void
peer_lag(json_t *p)
{
	json_int_t out = num(p, "lag_records"), in = num(p, "in_lag_records");
	json_t *cu = json_object_get(p, "catch_up");
	char eta[32] = "unknown";

	if (out == 0)
		kv(2, "to it",
		    "nothing waiting: it has acknowledged all our "
		    "changes");
	else
		kv(2, "to it",
		    "%" JSON_INTEGER_FORMAT " changes not yet acknowledged "
		    "(the oldest is %.1f s old)",
		    out, real(p, "lag_seconds"));
	if (in == 0)
		kv(2, "from it",
		    "nothing waiting: we have applied all of "
		    "its changes we know of");
	else
		kv(2, "from it",
		    "%" JSON_INTEGER_FORMAT " changes of its feed not yet "
		    "applied here",
		    in);
	if (!json_is_object(cu))
		return;
	if (json_is_number(json_object_get(cu, "eta_seconds")))
		ot_duration(real(cu, "eta_seconds"), eta, sizeof(eta));
	kv(2, "catching up",
	    "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
	    " (%.0f/s, %s left)",
	    num(cu, "done"), num(cu, "total"), real(cu, "rate"), eta);
	peer_catch_up_link(cu);
}

static void
peer_verified(json_t *p)
{
	const char *at = js_str(p, "verified_at");
	const char *res = js_str(p, "verify_result");
	char t[32], ago[32];

	ot_time(at, t, sizeof(t));
	ot_ago(at, "never", ago, sizeof(ago));
	if (at != NULL)
		kv(2, "verified", "shared records found equal at %s (%s)", t,
		    ago);
	else
		kv(2, "verified",
		    "never: no check has found the shared "
		    "records equal yet");
	kv(2, "last check", "%s", res != NULL ? res : "none yet");
}

static void
peer_cert(json_t *p)
{
	const char *exp = js_str(p, "cert_expires");
	json_int_t days = num(p, "cert_expires_in_days");
	char t[32];

	ot_time(exp, t, sizeof(t));
	if (exp == NULL)
		kv(2, "certificate",
		    "not seen yet (it has not connected since "
		    "jalind started)");
	else if (json_is_true(json_object_get(p, "cert_warning")))
		kv(2, "certificate",
		    "WARNING: expires in %" JSON_INTEGER_FORMAT
		    " days (%s): renew it before then, or this link stops",
		    days, t);
	else
		kv(2, "certificate",
		    "expires %s (in %" JSON_INTEGER_FORMAT " days)", t, days);
}

static void
peer_counters(json_t *p)
{
	char in[32], out[32], got[32];

	ot_human_size(num(p, "bytes_in"), in, sizeof(in));
	ot_human_size(num(p, "bytes_out"), out, sizeof(out));
	kv(2, "traffic",
	    "in %" JSON_INTEGER_FORMAT
	    " records (%s), out %" JSON_INTEGER_FORMAT
	    " (%s), %" JSON_INTEGER_FORMAT " refused, %" JSON_INTEGER_FORMAT
	    " errors",
	    num(p, "records_in"), in, num(p, "records_out"), out,
	    num(p, "refused_records"), num(p, "errors"));
	if (!json_is_number(json_object_get(p, "bytes_delivered")))
		return;
	ot_human_size(num(p, "bytes_delivered"), got, sizeof(got));
	kv(2, "delivered",
	    "%" JSON_INTEGER_FORMAT " of the records sent (%s) acknowledged "
	    "by it",
	    num(p, "records_delivered"), got);
}

/* One line that answers "is it in sync, and do we know for sure?" */
static void
peer_verdict(json_t *p)
{
	const char *s = ot_sv(p, "state"), *addr = js_str(p, "address");
	json_int_t out = num(p, "lag_records"), in = num(p, "in_lag_records");
	char v[64], where[320], a[OT_ESC_SHORT], name[OT_ESC_SHORT];
	char state[OT_ESC_SHORT];

	ot_ago(js_str(p, "verified_at"), "", v, sizeof(v));
	snprintf(where, sizeof(where), "%s%s%s", addr ? " (" : "",
	    addr ? ot_esc(addr, a, sizeof(a)) : "",
	    addr ? ")" : " (it dials us)");
	ot_esc(ot_sv(p, "name"), name, sizeof(name));
	if (strcmp(s, "live") == 0 && out == 0 && in == 0)
		printf("peer %s%s: in sync, %s%s\n", name, where,
		    *v ? "verified " : "not verified yet", v);
	else
		printf("peer %s%s: %s, %" JSON_INTEGER_FORMAT
		       " changes to send, %" JSON_INTEGER_FORMAT
		       " to receive\n",
		    name, where, ot_esc(s, state, sizeof(state)), out, in);
}

static void
peer_block(json_t *p)
{
	const char *err = js_str(p, "last_error");

	peer_verdict(p);
	peer_state(p);
	peer_lag(p);
	peer_link(p);
	peer_verified(p);
	kv(2, "last error", "%s", err != NULL ? err : "none");
	peer_cert(p);
	peer_counters(p);
}

/* After the table or the blocks: what needs doing about certificates. */
static void
cert_warnings(json_t *peers, const char *first, const char *lead)
{
	char t[32], name[OT_ESC_SHORT];
	size_t i, n = 0;
	json_t *p;

	json_array_foreach(peers, i, p)
	{
		if (!json_is_true(json_object_get(p, "cert_warning")))
			continue;
		ot_time(js_str(p, "cert_expires"), t, sizeof(t));
		printf("%s%sthe certificate of peer %s expires in "
		       "%" JSON_INTEGER_FORMAT " days (%s)\n",
		    n++ == 0 ? first : "", lead,
		    ot_esc(ot_sv(p, "name"), name, sizeof(name)),
		    num(p, "cert_expires_in_days"), t);
	}
}

void
out_text_status(json_t *st, const char *via)
{
	json_t *peers = json_object_get(st, "peers");
	size_t i;
	json_t *p;

	status_node(st, via);
	printf("\n");
	if (!json_is_array(peers)) {
		printf("peers: not reported by the node\n");
		return;
	}
	if (json_is_false(json_object_get(st, "running")))
		printf("peers: known only to the running node\n");
	else if (json_array_size(peers) == 0)
		printf("peers: none configured\n");
	json_array_foreach(peers, i, p)
	{
		if (i > 0)
			printf("\n");
		peer_block(p);
	}
	cert_warnings(peers, "\n", "WARNING: ");
}

void
out_text_peers(json_t *peers)
{
	static const char *const head[] = {"", "NAME", "STATE", "LAG_RECORDS",
	    "LAG_SECONDS", "IN_LAG", "LAST_CONTACT", "VERIFIED_AT",
	    "LAST_ERROR"};
	char lag[32], out[32], in[32], contact[32], ver[32];
	struct table t;
	size_t i;
	json_t *p;

	ot_table_init(&t, 9, head);
	json_array_foreach(peers, i, p)
	{
		snprintf(out, sizeof(out), "%" JSON_INTEGER_FORMAT,
		    num(p, "lag_records"));
		snprintf(lag, sizeof(lag), "%.1f", real(p, "lag_seconds"));
		snprintf(in, sizeof(in), "%" JSON_INTEGER_FORMAT,
		    num(p, "in_lag_records"));
		ot_ago(js_str(p, "last_contact"), "never", contact,
		    sizeof(contact));
		ot_ago(js_str(p, "verified_at"), "never", ver, sizeof(ver));
		const char *row[] = {
		    json_is_true(json_object_get(p, "cert_warning")) ? "!" : "",
		    ot_sv(p, "name"), ot_sv(p, "state"), out, lag, in, contact,
		    ver, js_str(p, "last_error")};
		ot_table_add(&t, row);
	}
	ot_table_print(&t);
	cert_warnings(peers, "", "! ");
}

/* jalinctl keys: one line per encryption key the node knows. */
void
out_text_keys(json_t *keys)
{
	static const char *const head[] = {
	    "NAME", "KEY_ID", "SOURCE", "NOT_AFTER"};
	static const char *const cols[] = {
	    "name", "kid", "source", "not_after"};
	struct table t;
	size_t i;
	json_t *k;

	ot_table_init(&t, 4, head);
	json_array_foreach(keys, i, k)
	{
		ot_table_row(&t, k, cols);
	}
	ot_table_print(&t);
}

void
out_text_verify(json_t *r)
{
	const char *at = js_str(r, "verified_at"), *where = js_str(r, "where");
	bool ok = json_is_true(json_object_get(r, "in_sync"));
	char t[32], peer[OT_ESC_SHORT], res[OT_ESC_LONG];

	ot_time(at, t, sizeof(t));
	printf("%s: %s (%s%s)\n", ot_esc(ot_sv(r, "peer"), peer, sizeof(peer)),
	    ot_esc(ot_sv(r, "result"), res, sizeof(res)),
	    at == NULL ? "never verified"
	        : ok   ? "verified "
	               : "last verified ",
	    at == NULL ? "" : t);
	if (num(r, "differing") > 0)
		kv(2, "differing", "%" JSON_INTEGER_FORMAT "%s%s%s",
		    num(r, "differing"), where ? " (" : "", where ? where : "",
		    where ? ")" : "");
	if (num(r, "repaired") > 0)
		kv(2, "repaired", "%" JSON_INTEGER_FORMAT, num(r, "repaired"));
	if (num(r, "corrupt") > 0)
		kv(2, "corrupt",
		    "%" JSON_INTEGER_FORMAT " (replaced from the "
		    "other side)",
		    num(r, "corrupt"));
}

/* "live 0", "down 200", "-" (not a peer), "?" (peers not reported). */
static void
fed_cell(json_t *row, const char *node, const char *peer, char *out, size_t n)
{
	json_t *c = json_object_get(row, peer);

	if (strcmp(node, peer) == 0)
		snprintf(out, n, "-");
	else if (!json_is_object(row))
		snprintf(out, n, "?");
	else if (c == NULL)
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%s %" JSON_INTEGER_FORMAT, ot_sv(c, "state"),
		    num(c, "lag_records"));
}

/* The table: a row per node that answered, a column per node known. */
static void
fed_matrix(json_t *nodes, json_t *matrix)
{
	size_t ncols = json_object_size(nodes) + 1, k = 1;
	const char **head = calloc(ncols, sizeof(*head));
	char **cells = calloc(ncols, sizeof(*cells));
	const char *name, *peer;
	struct table t;
	json_t *st, *v;

	if (head == NULL || cells == NULL)
		goto out;
	head[0] = "NODE";
	json_object_foreach(nodes, name, v) head[k++] = name;
	ot_table_init(&t, (unsigned)ncols, head);
	json_object_foreach(nodes, name, st)
	{
		if (json_is_null(st))
			continue;
		cells[0] = (char *)(uintptr_t)name;
		for (k = 1; k < ncols; k++) {
			peer = head[k];
			cells[k] = malloc(96);
			if (cells[k] != NULL)
				fed_cell(json_object_get(matrix, name), name,
				    peer, cells[k], 96);
		}
		ot_table_add(&t, (const char *const *)cells);
		for (k = 1; k < ncols; k++)
			free(cells[k]);
	}
	ot_table_print(&t);
out:
	free(head);
	free(cells);
}

void
out_text_federation(json_t *fed)
{
	json_t *nodes = json_object_get(fed, "nodes");
	json_t *matrix = json_object_get(fed, "matrix");
	json_t *un = json_object_get(fed, "unreachable");
	const char *name;
	size_t i;
	json_t *u;

	fed_matrix(nodes, matrix);
	printf("\nA row is a node that answered, a column one of its peers; "
	       "a cell is the state\nof that link and how many changes of "
	       "the row's node that peer has not\nacknowledged.\n");
	json_object_foreach(matrix, name, u)
	{
		if (json_is_null(u))
			printf("? %s answered, but did not report its peers\n",
			    name);
	}
	if (json_array_size(un) > 0)
		printf("\nnot reached:\n");
	json_array_foreach(un, i, u)
	{
		const char *addr = js_str(u, "address");
		const char *nm = js_str(u, "name");
		char who[2 * OT_ESC_LONG + 16], a[OT_ESC_LONG], n[OT_ESC_SHORT];
		snprintf(who, sizeof(who),
		    "  %s%s%s%s: ", addr ? ot_esc(addr, a, sizeof(a)) : "",
		    nm && addr ? " (" : "", nm ? ot_esc(nm, n, sizeof(n)) : "",
		    nm && addr ? ")" : "");
		emit(who, 4, ot_sv(u, "error"));
	}
}
