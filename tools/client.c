/*
 * client.c - the three backends of client.h and the request builder.
 *
 * The socket and remote backends are a stream of frames (conn.h: bounded
 * waits, TLS for remote): jalinctl has one request in flight at a time
 * (import pipelines a few), and the node answers in order. The db backend runs
 * the node's own read code (query_dispatch) over a read-only LMDB
 * environment and writes the answer the way node/admin.c does, so a
 * command cannot tell the two apart. It never writes: LMDB is opened
 * MDB_RDONLY and anything but a read request is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "client.h"
#include "conn.h"
#include "frame.h"
#include "json.h"
#include "mp.h"
#include "msg.h"
#include "query.h"
#include "record.h"
#include "sealrec.h"
#include "storedb.h"
#include "view.h"

struct client {
	bool is_db;
	struct conn *conn; /* socket and remote backends */
	struct frame_io io;
	uint64_t next_reqid;
	struct buf in; /* last frame read, or the db backend's answer */
	char where[JALIN_PATH_MAX + 32];
	/* db backend */
	struct stdb *db;
	struct record *ws;
	const char *version;
	bool have_answer;
	bool answered;       /* a response came: failures now "lost" the node */
	const char *purpose; /* --purpose, sent with every request */
	EVP_PKEY *enc;       /* --enc-key */
	struct srec *reader; /* opens sealed fields with enc */
};

static struct client *
client_new(void)
{
	struct client *cl = calloc(1, sizeof(*cl));

	if (cl == NULL)
		return NULL;
	cl->next_reqid = 1;
	buf_init(&cl->in, JALIN_ADMIN_FRAME_MAX);
	return cl;
}

/* Wrap a connected stream (taken over, closed on failure too). */
static int
client_over(struct conn *c, struct client **out, struct jalin_err *err)
{
	struct client *cl;

	if ((cl = client_new()) == NULL) {
		conn_close(c);
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	}
	cl->conn = c;
	conn_frame_io(c, &cl->io);
	snprintf(cl->where, sizeof(cl->where), "%s", conn_where(c));
	*out = cl;
	return 0;
}

int
client_open_socket(const char *path, const struct conn_opts *o,
    struct client **out, struct jalin_err *err)
{
	struct conn *c;
	int rc;

	*out = NULL;
	if ((rc = conn_unix(path, o, &c, err)) != 0)
		return rc;
	return client_over(c, out, err);
}

int
client_open_remote(const char *hostport, const struct conn_opts *o,
    struct client **out, struct jalin_err *err)
{
	struct conn *c;
	int rc;

	*out = NULL;
	if ((rc = conn_tls(hostport, o, &c, err)) != 0)
		return rc;
	return client_over(c, out, err);
}

/* The reader of the store's node with the key in path (--enc-key). */
static int
open_reader(struct client *cl, const char *path, struct jalin_err *err)
{
	char node[JALIN_NAME_MAX + 1];
	const void *p;
	size_t len;
	MDB_txn *txn;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return jalin_err_set(err, JALIN_EINVAL,
		    "--enc-key: cannot read "
		    "'%s': %s",
		    path, strerror(errno));
	cl->enc = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (cl->enc == NULL || EVP_PKEY_get_id(cl->enc) != EVP_PKEY_X25519)
		return jalin_err_set(err, JALIN_EINVAL,
		    "--enc-key: '%s' is not an X25519 private key (the node's "
		    "NAME.enc.key)",
		    path);
	if (stdb_begin_read(cl->db, &txn, err) != 0)
		return JALIN_EUNREACH;
	int rc = stdb_meta_get(txn, cl->db, "node", &p, &len);
	if (rc == 0 && len <= JALIN_NAME_MAX) {
		memcpy(node, p, len);
		node[len] = '\0';
	}
	stdb_end_read(txn);
	if (rc != 0 || len > JALIN_NAME_MAX)
		return jalin_err_set(
		    err, JALIN_ECORRUPT, "the store has no node name");
	if ((cl->reader = srec_new(node, cl->enc)) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	return 0;
}

int
client_open_db(const char *dir, const char *enc_key, const char *version,
    struct client **out, struct jalin_err *err)
{
	struct client *cl;
	int rc;

	*out = NULL;
	if ((cl = client_new()) == NULL ||
	    (cl->ws = malloc(sizeof(*cl->ws))) == NULL) {
		client_close(cl);
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	}
	cl->is_db = true;
	cl->version = version;
	snprintf(cl->where, sizeof(cl->where), "store '%s'", dir);
	if ((rc = stdb_open(dir, STDB_RDONLY, 0, &cl->db, err)) != 0) {
		client_close(cl);
		return JALIN_EUNREACH;
	}
	if (enc_key != NULL && (rc = open_reader(cl, enc_key, err)) != 0) {
		client_close(cl);
		return rc;
	}
	*out = cl;
	return 0;
}

void
client_close(struct client *cl)
{
	if (cl == NULL)
		return;
	conn_close(cl->conn);
	srec_free(cl->reader);
	EVP_PKEY_free(cl->enc);
	stdb_close(cl->db);
	free(cl->ws);
	buf_free(&cl->in);
	free(cl);
}

const char *
client_where(const struct client *cl)
{
	return cl->where;
}

bool
client_is_db(const struct client *cl)
{
	return cl->is_db;
}

const char *
client_peer_cn(const struct client *cl)
{
	return cl->conn != NULL ? conn_peer_cn(cl->conn) : NULL;
}

void
creq_init(struct creq *r, struct client *cl, uint64_t type)
{
	buf_init(&r->b, JALIN_ADMIN_FRAME_MAX);
	creq_reuse(r, cl, type);
}

void
creq_reuse(struct creq *r, struct client *cl, uint64_t type)
{
	buf_reset(&r->b);
	msgpack_packer_init(&r->pk, &r->b, buf_pk_write);
	r->mark = view_map_begin(&r->b);
	r->n = 0;
	r->reqid = cl->next_reqid++;
	creq_uint(r, MK_TYPE, type);
	creq_uint(r, MK_REQID, r->reqid);
	if (cl->purpose != NULL)
		creq_str(r, MK_PURPOSE, cl->purpose);
}

void
client_set_purpose(struct client *cl, const char *purpose)
{
	cl->purpose = purpose;
}

void
creq_free(struct creq *r)
{
	buf_free(&r->b);
}

msgpack_packer *
creq_key(struct creq *r, unsigned key)
{
	msgpack_pack_unsigned_int(&r->pk, key);
	r->n++;
	return &r->pk;
}

void
creq_str(struct creq *r, unsigned key, const char *s)
{
	view_str(creq_key(r, key), s);
}

void
creq_uint(struct creq *r, unsigned key, uint64_t v)
{
	msgpack_pack_uint64(creq_key(r, key), v);
}

void
creq_bool(struct creq *r, unsigned key, bool v)
{
	msgpack_packer *pk = creq_key(r, key);

	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

size_t
creq_array_begin(struct creq *r, unsigned key)
{
	creq_key(r, key);
	return view_array_begin(&r->b);
}

void
creq_patch(struct creq *r, size_t mark, uint32_t n)
{
	view_patch(&r->b, mark, n);
}

int
creq_append(struct creq *r, const void *p, size_t len)
{
	return buf_append(&r->b, p, len);
}

size_t
creq_len(const struct creq *r)
{
	return r->b.len;
}

/* --db: the node's extra status keys, as a stopped node would say them. */
static uint32_t
db_status_extra(void *ctx, msgpack_packer *pk)
{
	const struct client *cl = ctx;

	view_str(pk, "running");
	msgpack_pack_false(pk);
	view_str(pk, "version");
	view_str(pk, cl->version);
	view_str(pk, "peers");
	msgpack_pack_array(pk, 0);
	return 3;
}

/* Answer a request from the read-only store into cl->in (admin.c). */
static void
db_answer(struct client *cl, const struct msg_req *q)
{
	struct jalin_err err;
	msgpack_packer pk;
	MDB_txn *txn;
	int rc;

	jalin_err_clear(&err);
	buf_reset(&cl->in);
	msgpack_packer_init(&pk, &cl->in, buf_pk_write);
	msg_resp_begin(&pk, q->reqid);
	if (!query_is_read(q->type))
		rc = jalin_err_set(&err, JALIN_EPERM,
		    "--db opens the store read-only; write through the "
		    "running node");
	else if ((rc = stdb_begin_read(cl->db, &txn, &err)) == 0) {
		struct view_open vo = {NULL, NULL};
		srec_view(cl->reader, &vo);
		rc = query_dispatch(txn, cl->db, q, 0, db_status_extra, cl,
		    cl->ws, &vo, &pk, &cl->in, &err);
		mdb_txn_abort(txn);
	}
	if (rc == 0 && cl->in.err != 0)
		rc = jalin_err_set(&err, cl->in.err, "response too large");
	if (rc != 0)
		msg_resp_error(&cl->in, q->reqid, rc, jalin_err_msg(&err, rc));
}

static int
db_send(struct client *cl, const struct creq *r, struct jalin_err *err)
{
	struct msg_req q;
	int rc;

	if ((rc = mp_check(r->b.p, r->b.len, NULL, NULL, err)) != 0 ||
	    (rc = msg_parse_req(r->b.p, r->b.len, &q, err)) != 0)
		return rc;
	db_answer(cl, &q);
	cl->have_answer = true;
	return 0;
}

/* Why a remote node may not take us for an admin. */
static const char *
cert_hint(const struct client *cl)
{
	const char *own = cl->conn != NULL ? conn_own_cn(cl->conn) : NULL;

	if (own == NULL || strncmp(own, "admin:", 6) == 0)
		return "";
	return " (our certificate is not an admin certificate: remote admin "
	       "needs one with CN admin:NAME, made with 'jalin-ca DIR admin "
	       "NAME')";
}

/*
 * A transport error: the node went away or would not serve us (exit 3),
 * or a limit of ours. The stream's own account (a timeout, a TLS alert)
 * beats errno's.
 */
static int
lost(const struct client *cl, int rc, const struct jalin_err *e,
    struct jalin_err *err)
{
	const char *why = cl->conn != NULL ? conn_why(cl->conn) : NULL;

	if (rc != JALIN_EUNREACH && rc != JALIN_EIO && why == NULL)
		return jalin_err_set(err, rc, "%s", jalin_err_msg(e, rc));
	return jalin_err_set(err, JALIN_EUNREACH, "%s %s: %s%s",
	    cl->answered ? "lost the connection to" : "cannot reach", cl->where,
	    why != NULL ? why : jalin_err_msg(e, rc),
	    cl->answered ? "" : cert_hint(cl));
}

int
client_send(struct client *cl, struct creq *r, struct jalin_err *err)
{
	struct jalin_err e;
	int rc;

	if (r->b.err != 0)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "request exceeds the admin frame limit of %u bytes",
		    JALIN_ADMIN_FRAME_MAX);
	view_patch(&r->b, r->mark, r->n);
	if (cl->is_db)
		return db_send(cl, r, err);
	jalin_err_clear(&e);
	rc = frame_write(&cl->io, JALIN_ADMIN_FRAME_MAX, r->b.p, r->b.len, &e);
	if (rc != 0 && cl->conn != NULL && conn_peer_cn(cl->conn) != NULL &&
	    !cl->answered) {
		/* A node that refused our certificate said why in an alert
		 * that may wait unread behind the failed write. */
		frame_read(&cl->io, JALIN_ADMIN_FRAME_MAX, &cl->in, &e);
	}
	return rc == 0 ? 0 : lost(cl, rc, &e, err);
}

int
client_recv(struct client *cl, uint64_t reqid, int *status, json_t **result,
    struct jalin_err *err)
{
	struct jalin_err e;
	json_t *res = NULL;
	int rc;

	*result = NULL;
	jalin_err_clear(&e);
	if (cl->is_db) {
		if (!cl->have_answer)
			return jalin_err_set(err, JALIN_EPROTO, "no request");
		cl->have_answer = false;
	} else if ((rc = frame_read(
	                &cl->io, JALIN_ADMIN_FRAME_MAX, &cl->in, &e)) != 0) {
		return lost(cl, rc, &e, err);
	}
	rc = js_decode_resp(cl->in.p, cl->in.len, reqid, status, &res, &e);
	if (rc == JALIN_EUNREACH)
		return jalin_err_set(err, rc, "cannot reach %s: %s%s",
		    cl->where, jalin_err_msg(&e, rc), cert_hint(cl));
	if (rc != 0 || *status != 0)
		jalin_err_set(err, rc != 0 ? rc : *status, "%s",
		    jalin_err_msg(&e, rc != 0 ? rc : *status));
	cl->answered = cl->answered || rc == 0;
	*result = res;
	return rc;
}

int
client_call(struct client *cl, struct creq *r, int *status, json_t **result,
    struct jalin_err *err)
{
	int rc;

	*result = NULL;
	if ((rc = client_send(cl, r, err)) != 0)
		return rc;
	return client_recv(cl, r->reqid, status, result, err);
}
