/*
 * admin.c - serve jalinctl on the local Unix socket, and remote admins
 * (admin:NAME certificates) over the peer listener (conn.c).
 *
 * Both take one path, serve(): it dispatches the request and answers reads
 * through answer_read, the one place where reads are audited. A remote
 * admin may only read, and reads with QUERY_PUBLIC (case and referral
 * records stay on the node), so it never reaches the audit.
 *
 * Input is framed (frame.h): the 4-byte length is checked before we wait
 * for the body, the body goes through mp_check before anything decodes it.
 * Output is bounded too: while a client does not read its answers (say a
 * large export) we stop reading its requests.
 */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "admin.h"
#include "audit.h"
#include "crypt.h"
#include "frame.h"
#include "hlc.h"
#include "keyring.h"
#include "log.h"
#include "mp.h"
#include "msg.h"
#include "ops.h"
#include "conn.h"
#include "gc.h"
#include "peerview.h"
#include "verify.h"
#include "query.h"
#include "store.h"
#include "storedb.h"
#include "uuid.h"
#include "view.h"

struct aconn {
	TAILQ_ENTRY(aconn) link;
	struct admin *a;
	struct bufferevent *bev;
	bool busy;                /* a write request awaits its commit */
	bool closing;             /* close once the output is written */
	bool in_process;          /* inside process_input (no recursion) */
	uint64_t vreqid;          /* a verify request waiting for its result */
	struct audit_task *audit; /* a read waiting for its audit entry */
	char actor[JALIN_AUDIT_ACTOR_MAX]; /* the Unix user (SO_PEERCRED) */
};

/* A read of case or referral records, answered once it is logged. */
struct audit_task {
	struct aconn *c; /* NULL once the connection is gone */
	struct admin *a;
	uint64_t reqid;
	uint8_t *resp;
	size_t len;
	struct audit_entry e;
	char actor[JALIN_AUDIT_ACTOR_MAX], coll[JALIN_COLL_NAME_MAX + 1];
	char purpose[JALIN_AUDIT_PURPOSE_MAX + 1];
	uint8_t id[UUID_LEN];
	struct buf enc;
};

/* Who asked, and so how the answer goes back: exactly one is set. */
struct client {
	struct aconn *local; /* the local socket */
	struct conn *remote; /* a remote admin over TLS (conn.h) */
};

struct admin {
	struct node *n;
	struct evconnlistener *lis;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	TAILQ_HEAD(, aconn) conns;
	unsigned nconns;
	struct buf resp;
	struct buf in; /* the request being handled */
	struct record *ws;
	struct audit_entry auditing; /* what the read being answered shows */
	uint8_t auditing_id[UUID_LEN];
};

static void process_input(struct aconn *c);

static void
conn_free(struct aconn *c)
{
	struct admin *a = c->a;

	ops_cancel(a->n->ops, c);
	verify_cancel_waiter(a->n->peers, c);
	if (c->audit != NULL)
		c->audit->c = NULL;
	TAILQ_REMOVE(&a->conns, c, link);
	a->nconns--;
	bufferevent_free(c->bev);
	free(c);
}

static void
send_resp(struct aconn *c, const uint8_t *body, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t hdr[4];

	frame_put_hdr(hdr, (uint32_t)len);
	evbuffer_add(out, hdr, 4);
	evbuffer_add(out, body, len);
}

/* Answer with an error and close: the stream can no longer be trusted. */
static void
fail_conn(struct aconn *c, int code, const char *msg)
{
	log_warnx("admin: closing connection: %s", msg);
	msg_resp_error(&c->a->resp, 0, code, msg);
	send_resp(c, c->a->resp.p, c->a->resp.len);
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

static void
write_done(void *ctx, const uint8_t *resp, size_t len)
{
	struct aconn *c = ctx;

	send_resp(c, resp, len);
	c->busy = false;
	if (!c->in_process)
		process_input(c);
}

/* "enc_keys": the key ring (keyring.h), for jalinctl keys. */
static void
pack_enc_keys(const struct keyring *kr, msgpack_packer *pk)
{
	static const char *const src[] = {
	    [KR_OWN] = "own", [KR_ROSTER] = "roster", [KR_PEER] = "peer"};
	size_t n = kr != NULL ? kr_count(kr) : 0;
	char kid[2 * KR_KID_LEN + 1], t[32];

	view_str(pk, "enc_keys");
	msgpack_pack_array(pk, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct kr_info *k = kr_at(kr, i);
		for (int j = 0; j < KR_KID_LEN; j++)
			snprintf(kid + 2 * j, 3, "%02x", k->kid[j]);
		msgpack_pack_map(pk, 4);
		view_str(pk, "name");
		view_str(pk, k->name);
		view_str(pk, "kid");
		view_str(pk, kid);
		view_str(pk, "source");
		view_str(pk, src[k->source]);
		view_str(pk, "not_after");
		if (k->not_after > 0 &&
		    hlc_format_ms(
		        (uint64_t)k->not_after * 1000, t, sizeof(t)) == 0)
			view_str(pk, t);
		else
			msgpack_pack_nil(pk);
	}
}

uint32_t
admin_status_extra(const struct node *n, msgpack_packer *pk, struct buf *b)
{
	view_str(pk, "version");
	view_str(pk, JALIN_VERSION);
	view_str(pk, "uptime_s");
	msgpack_pack_uint64(pk, (hlc_wall_ms() - n->started_ms) / 1000);
	view_str(pk, "map_max");
	msgpack_pack_uint64(pk, store_map_max(n->store));
	view_str(pk, "offline_hold_since");
	char t[32];
	if (n->held_since_ms != 0 &&
	    hlc_format_ms(n->held_since_ms, t, sizeof(t)) == 0)
		view_str(pk, t);
	else
		msgpack_pack_nil(pk);
	view_str(pk, "tombstones_held_by");
	if (gc_holder(n->gc) != NULL)
		view_str(pk, gc_holder(n->gc));
	else
		msgpack_pack_nil(pk);
	pack_enc_keys(n->keyring, pk);
	view_str(pk, "peers");
	peerview_status(n->peers, pk, b);
	return 7;
}

int
admin_check_held(const struct node *n, uint64_t type, struct jalin_err *err)
{
	if (n->held_since_ms == 0 ||
	    (type != MSG_GET && type != MSG_LIST && type != MSG_EXPORT &&
	        type != MSG_FEED && type != MSG_CONFLICTS))
		return 0;
	return jalin_err_set(err, JALIN_ESTATE,
	    "the node was offline for %llu h (more than offline_hold): records "
	    "are not shown until it has caught up with a peer, so that purges "
	    "made meanwhile apply first (see jalinctl status)",
	    (unsigned long long)((hlc_wall_ms() - n->held_since_ms) / 3600000));
}

static uint32_t
status_extra(void *ctx, msgpack_packer *pk)
{
	struct admin *a = ctx;

	return admin_status_extra(a->n, pk, &a->resp);
}

/*
 * Does q show case or referral contents (audit.h)? Fills what the entry
 * records: the action, the collection (NULL: all) and the id (into id).
 */
static bool
audited(const struct msg_req *q, struct audit_entry *e, uint8_t id[UUID_LEN])
{
	const struct schema_coll *c = NULL;

	if (q->coll != NULL &&
	    (c = schema_coll_by_name(q->coll, q->coll_len)) == NULL)
		return false;
	*e = (struct audit_entry){0};
	e->coll = c ? c->name : NULL;
	switch (q->type) {
	case MSG_GET:
		if (c == NULL || c->scope != SCOPE_SCOPED ||
		    query_id(q->id, q->id_len, id, NULL) != 0)
			return false;
		e->action = "get";
		e->id = id;
		return true;
	case MSG_LIST:
		e->action = "list";
		return c != NULL && c->scope == SCOPE_SCOPED;
	case MSG_EXPORT:
	case MSG_CONFLICTS:
		e->action = q->type == MSG_EXPORT ? "export" : "conflicts";
		return c == NULL || c->scope == SCOPE_SCOPED;
	}
	return false;
}

static void
audit_free(struct audit_task *t)
{
	buf_free(&t->enc);
	free(t->resp);
	free(t);
}

static int
audit_apply(struct store_txn *st, void *arg)
{
	struct audit_task *t = arg;
	const struct stdb *db = store_db(t->a->n->store);
	uint8_t prev[32], h[32], key[8];
	struct jalin_err err;
	uint64_t seq;
	int rc;

	if ((rc = audit_last(store_txn_mdb(st), db, &seq, prev, &err)) != 0 ||
	    (rc = audit_encode(&t->e, prev, &t->enc, h)) != 0)
		return rc;
	stdb_put_u64(key, seq + 1);
	return store_txn_put(st, STDB_AUDIT, key, 8, t->enc.p, t->enc.len);
}

static void
audit_done(void *arg, int rc, const struct jalin_err *err)
{
	struct audit_task *t = arg;
	struct aconn *c = t->c;

	if (c == NULL) {
		audit_free(t);
		return;
	}
	c->audit = NULL;
	if (rc == JALIN_ESPACE) {
		/* at map_size_max reads go on (DESIGN.md): the entry goes to
		 * the node's log instead */
		char ids[UUID_STR_LEN + 1] = "-";
		if (t->e.id != NULL)
			uuid_format(t->e.id, ids);
		log_warnx("audit: the store is full, so this read is logged "
		          "here only: %s %s %s %s purpose '%s'",
		    t->e.actor, t->e.action, t->e.coll ? t->e.coll : "(all)",
		    ids, t->e.purpose ? t->e.purpose : "");
	}
	if (rc == 0 || rc == JALIN_ESPACE) {
		send_resp(c, t->resp, t->len);
	} else {
		char m[JALIN_ERRMSG_MAX];
		snprintf(m, sizeof(m),
		    "not answered: the read could not be written to the "
		    "audit log (%s)",
		    jalin_err_msg(err, rc));
		log_warnx("admin: %s", m);
		msg_resp_error(&t->a->resp, t->reqid, rc, m);
		send_resp(c, t->a->resp.p, t->a->resp.len);
	}
	audit_free(t);
	c->busy = false;
	if (!c->in_process)
		process_input(c);
}

/* Hold the answer in a->resp until the read is logged. */
static int
start_audit(struct aconn *c, const struct msg_req *q, struct jalin_err *err)
{
	struct admin *a = c->a;
	struct audit_task *t;
	struct ops_task ot;

	if (q->purpose_len > JALIN_AUDIT_PURPOSE_MAX)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "purpose: %u bytes exceeds the limit of %d", q->purpose_len,
		    JALIN_AUDIT_PURPOSE_MAX);
	/* it is shown in logs and tables: one line of text */
	for (uint32_t i = 0; i < q->purpose_len; i++) {
		unsigned char ch = (unsigned char)q->purpose[i];
		if (ch < 0x20 || ch == 0x7f)
			return jalin_err_set(err, JALIN_EINVAL,
			    "purpose: control character at byte %u (one line "
			    "of text, please)",
			    i + 1);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->resp = malloc(a->resp.len)) == NULL) {
		free(t);
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	}
	t->c = c;
	t->a = a;
	t->reqid = q->reqid;
	memcpy(t->resp, a->resp.p, a->resp.len);
	t->len = a->resp.len;
	t->e = a->auditing;
	t->e.at_ms = hlc_wall_ms();
	snprintf(t->actor, sizeof(t->actor), "%s", c->actor);
	t->e.actor = t->actor;
	if (t->e.coll != NULL) {
		snprintf(t->coll, sizeof(t->coll), "%s", t->e.coll);
		t->e.coll = t->coll;
	}
	if (t->e.id != NULL) {
		memcpy(t->id, t->e.id, UUID_LEN);
		t->e.id = t->id;
	}
	if (q->purpose != NULL) {
		memcpy(t->purpose, q->purpose, q->purpose_len);
		t->e.purpose = t->purpose;
	}
	buf_init(&t->enc, JALIN_AUDIT_ENTRY_MAX);
	ot = (struct ops_task){audit_apply, audit_done, t};
	if (ops_submit_task(a->n->ops, &ot) != 0) {
		audit_free(t);
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	}
	c->audit = t;
	c->busy = true;
	return 0;
}

/* a->resp to whoever asked. */
static void
reply(struct admin *a, const struct client *cl)
{
	if (cl->local != NULL)
		send_resp(cl->local, a->resp.p, a->resp.len);
	else
		conn_send(cl->remote, &a->resp);
}

/*
 * A read, local or remote. Remote admins read with QUERY_PUBLIC: case and
 * referral records are refused by name and left out of pages, so nothing
 * they are shown is audited; a local read of those is answered only once
 * it is in the audit log (start_audit).
 */
static void
answer_read(struct admin *a, const struct client *cl, const struct msg_req *q)
{
	unsigned flags = cl->remote != NULL ? QUERY_PUBLIC : 0;
	struct jalin_err err;
	msgpack_packer pk;
	MDB_txn *txn;
	int rc;

	jalin_err_clear(&err);
	buf_reset(&a->resp);
	msgpack_packer_init(&pk, &a->resp, buf_pk_write);
	msg_resp_begin(&pk, q->reqid);
	rc = admin_check_held(a->n, q->type, &err);
	if (rc == 0)
		rc = stdb_begin_read(store_db(a->n->store), &txn, &err);
	if (rc == 0) {
		struct view_open vo = {NULL, NULL};
		if (a->n->crypt != NULL && !(flags & QUERY_PUBLIC))
			srec_view(crypt_reader(a->n->crypt), &vo);
		rc = query_dispatch(txn, store_db(a->n->store), q, flags,
		    status_extra, a, a->ws, &vo, &pk, &a->resp, &err);
		stdb_end_read(txn);
	}
	if (rc == 0 && a->resp.err != 0)
		rc = jalin_err_set(&err, a->resp.err, "response too large");
	if (rc == 0 && cl->local != NULL &&
	    audited(q, &a->auditing, a->auditing_id) &&
	    (rc = start_audit(cl->local, q, &err)) == 0)
		return; /* answered once the read is in the audit log */
	if (rc != 0)
		msg_resp_error(&a->resp, q->reqid, rc, jalin_err_msg(&err, rc));
	reply(a, cl);
}

static void
verify_done(void *ctx, const struct verify_result *r)
{
	struct aconn *c = ctx;
	struct admin *a = c->a;
	msgpack_packer pk;

	buf_reset(&a->resp);
	msgpack_packer_init(&pk, &a->resp, buf_pk_write);
	msg_resp_begin(&pk, c->vreqid);
	peerview_pack_verify(r, &pk);
	send_resp(c, a->resp.p, a->resp.len);
	c->busy = false;
	if (!c->in_process)
		process_input(c);
}

/* verify PEER: answered when the check ends (it may take a while). */
static void
start_verify(struct aconn *c, const struct msg_req *q)
{
	struct jalin_err err;
	int rc;

	jalin_err_clear(&err);
	c->busy = true;
	c->vreqid = q->reqid;
	if (q->peer == NULL)
		rc = jalin_err_set(&err, JALIN_EINVAL, "verify needs a peer");
	else
		rc = verify_request(
		    c->a->n->peers, q->peer, q->peer_len, verify_done, c, &err);
	if (rc != 0) {
		c->busy = false;
		msg_resp_error(
		    &c->a->resp, q->reqid, rc, jalin_err_msg(&err, rc));
		send_resp(c, c->a->resp.p, c->a->resp.len);
	}
}

/*
 * The one path of every admin request, local or remote: writes and verify
 * from the local socket only, reads for both (answer_read), the rest
 * refused.
 */
static void
serve(struct admin *a, const struct client *cl, const struct msg_req *q)
{
	struct aconn *c = cl->local;

	if (query_is_read(q->type)) {
		answer_read(a, cl, q);
		return;
	}
	if (c == NULL) {
		msg_resp_error(&a->resp, q->reqid, JALIN_EPERM,
		    "remote admins may only read; write through the node's "
		    "local admin socket");
		reply(a, cl);
		return;
	}
	switch (q->type) {
	case MSG_PUT:
	case MSG_DELETE:
	case MSG_PURGE:
	case MSG_IMPORT:
		c->busy = true;
		if (ops_submit(a->n->ops, q, write_done, c) != 0)
			fail_conn(c, JALIN_ENOMEM, "out of memory");
		return;
	case MSG_VERIFY:
		start_verify(c, q);
		return;
	}
	msg_resp_error(
	    &a->resp, q->reqid, JALIN_EINVAL, "unknown request type");
	reply(a, cl);
}

static void
handle_frame(struct aconn *c, const uint8_t *body, uint32_t len)
{
	struct client cl = {.local = c};
	struct jalin_err err;
	struct msg_req q;
	int rc;

	jalin_err_clear(&err);
	if ((rc = mp_check(body, len, NULL, NULL, &err)) != 0 ||
	    (rc = msg_parse_req(body, len, &q, &err)) != 0) {
		fail_conn(c, rc, jalin_err_msg(&err, rc));
		return;
	}
	log_debug("admin: %s request", msg_type_name(q.type));
	serve(c->a, &cl, &q);
}

/* A request from an admin:NAME certificate: reads only, never cases. */
int
admin_remote(void *ctx, struct conn *c, const uint8_t *body, uint32_t len)
{
	struct client cl = {.remote = c};
	struct jalin_err err;
	struct msg_req q;
	int rc;

	jalin_err_clear(&err);
	if ((rc = msg_parse_req(body, len, &q, &err)) != 0) {
		conn_error(c, rc, "%s", jalin_err_msg(&err, rc));
		return 0;
	}
	if (q.type < MSG_STATUS) {
		conn_error(c, JALIN_EPERM,
		    "admin certificate '%s' may not replicate", conn_cn(c));
		return 0;
	}
	log_notice("admin %s: %s request from %s", conn_cn(c) + 6,
	    msg_type_name(q.type), conn_addr(c));
	serve(ctx, &cl, &q);
	return 0;
}

/* One frame if complete: 1 handled, 0 need more bytes, -1 closed. */
static int
next_frame(struct aconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct jalin_err err;
	uint8_t hdr[4];
	uint32_t len;
	int rc;

	if (evbuffer_get_length(in) < 4)
		return 0;
	evbuffer_copyout(in, hdr, 4);
	jalin_err_clear(&err);
	if ((rc = frame_check_hdr(hdr, JALIN_ADMIN_FRAME_MAX, &len, &err))) {
		fail_conn(c, rc, jalin_err_msg(&err, rc));
		return -1;
	}
	if (evbuffer_get_length(in) < 4 + (size_t)len)
		return 0;
	/* Copy the frame out once into a reused buffer (a pullup would
	 * linearize it inside the evbuffer, in fresh memory each time). */
	struct buf *b = &c->a->in;
	buf_reset(b);
	if (buf_reserve(b, len) != 0) {
		fail_conn(c, JALIN_ENOMEM, "out of memory");
		return -1;
	}
	evbuffer_drain(in, 4);
	b->len = (size_t)evbuffer_remove(in, b->p, len);
	handle_frame(c, b->p, len);
	if (b->cap > JALIN_BATCH_BYTES * 2)
		buf_free(b); /* do not keep a rare large request's memory */
	return 1;
}

static void
process_input(struct aconn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	c->in_process = true;
	while (!c->busy && !c->closing &&
	    evbuffer_get_length(out) < JALIN_ADMIN_OUT_MAX) {
		if (next_frame(c) <= 0)
			break;
	}
	c->in_process = false;
	if (evbuffer_get_length(out) >= JALIN_ADMIN_OUT_MAX)
		bufferevent_setwatermark(
		    c->bev, EV_WRITE, JALIN_ADMIN_OUT_MAX / 2, 0);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process_input(arg);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct aconn *c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c);
		return;
	}
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	process_input(c);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

/* "alice (uid 1000)": who is on the other end of the socket. */
static void
peer_actor(int fd, char *out, size_t n)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct passwd pw, *res = NULL;
	char pwbuf[1024];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
		snprintf(out, n, "unknown");
		return;
	}
	if (getpwuid_r(cr.uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
	    res != NULL)
		snprintf(
		    out, n, "%.64s (uid %u)", pw.pw_name, (unsigned)cr.uid);
	else
		snprintf(out, n, "uid %u", (unsigned)cr.uid);
}

static void
accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct admin *a = arg;
	struct aconn *c;

	(void)lis;
	(void)sa;
	(void)salen;
	if (a->nconns >= JALIN_ADMIN_CONN_MAX || a->n->stopping ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("admin: refusing connection (%u open, limit %d)",
		    a->nconns, JALIN_ADMIN_CONN_MAX);
		evutil_closesocket(fd);
		return;
	}
	c->a = a;
	peer_actor(fd, c->actor, sizeof(c->actor));
	c->bev = bufferevent_socket_new(a->n->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&a->conns, c, link);
	a->nconns++;
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* Remove a socket file nobody answers on; refuse one that is alive. */
static int
clear_stale(const struct sockaddr_un *sun, struct jalin_err *err)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), alive;

	if (fd < 0)
		return jalin_err_set(
		    err, JALIN_EIO, "admin socket: %s", strerror(errno));
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	if (alive)
		return jalin_err_set(err, JALIN_EEXIST,
		    "admin socket '%s' is in use by a running jalind",
		    sun->sun_path);
	if (unlink(sun->sun_path) != 0 && errno != ENOENT)
		return jalin_err_set(err, JALIN_EIO,
		    "cannot remove stale admin socket '%s': %s", sun->sun_path,
		    strerror(errno));
	return 0;
}

static int
listen_unix(struct admin *a, struct jalin_err *err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, rc;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", a->path);
	if ((rc = clear_stale(&sun, err)) != 0)
		return rc;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return jalin_err_set(
		    err, JALIN_EIO, "admin socket: %s", strerror(errno));
	/* Created 0600 from the start: no window where others can connect. */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(fd, JALIN_ADMIN_BACKLOG) != 0) {
		rc = errno;
		close(fd);
		return jalin_err_set(err, JALIN_EIO,
		    "cannot listen on admin socket '%s': %s", a->path,
		    strerror(rc));
	}
	evutil_make_socket_nonblocking(fd);
	a->lis = evconnlistener_new(
	    a->n->base, accept_cb, a, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (a->lis == NULL) {
		close(fd);
		return jalin_err_set(
		    err, JALIN_ENOMEM, "admin socket: no memory");
	}
	return 0;
}

int
admin_open(struct node *n, struct admin **out, struct jalin_err *err)
{
	struct admin *a = calloc(1, sizeof(*a));
	int rc;

	*out = NULL;
	if (a == NULL || (a->ws = malloc(sizeof(*a->ws))) == NULL) {
		free(a);
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	}
	a->n = n;
	TAILQ_INIT(&a->conns);
	buf_init(&a->resp, JALIN_ADMIN_FRAME_MAX);
	buf_init(&a->in, JALIN_ADMIN_FRAME_MAX);
	snprintf(a->path, sizeof(a->path), "%s", n->cfg->admin_socket);
	if ((rc = listen_unix(a, err)) != 0) {
		admin_close(a);
		return rc;
	}
	*out = a;
	return 0;
}

void
admin_close(struct admin *a)
{
	struct aconn *c;

	if (a == NULL)
		return;
	while ((c = TAILQ_FIRST(&a->conns)) != NULL)
		conn_free(c);
	if (a->lis != NULL) {
		evconnlistener_free(a->lis);
		unlink(a->path);
	}
	buf_free(&a->resp);
	buf_free(&a->in);
	free(a->ws);
	free(a);
}
