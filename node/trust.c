/*
 * trust.c - origin signatures on the wire (see trust.h, PROTOCOL.md §13).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "conn.h"
#include "keyring.h"
#include "log.h"
#include "peer_impl.h"
#include "sig.h"
#include "storedb.h"
#include "tls.h"
#include "trust.h"

/* A batch: [len][origin][bno u64 BE] in the batch database. */
struct ref {
	uint8_t olen;
	char origin[JALIN_NAME_MAX];
	uint64_t bno;
};

/* A stored batch value: [kid 8][siglen][sig][leaves]. */
struct bval {
	const uint8_t *kid, *sig, *leaves;
	size_t slen, n;
};

static int
bval_split(const uint8_t *v, size_t len, struct bval *b)
{
	if (len < SIG_KID_LEN + 1 ||
	    len < SIG_KID_LEN + 1 + (size_t)v[SIG_KID_LEN])
		return JALIN_ECORRUPT;
	b->kid = v;
	b->slen = v[SIG_KID_LEN];
	b->sig = v + SIG_KID_LEN + 1;
	b->leaves = b->sig + b->slen;
	size_t lb = len - SIG_KID_LEN - 1 - b->slen;
	if (lb % SIG_LEAF_LEN != 0 || lb == 0)
		return JALIN_ECORRUPT;
	b->n = lb / SIG_LEAF_LEN;
	return 0;
}

static uint64_t
ref_hash(const char *origin, size_t olen, uint64_t bno)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < olen; i++)
		h = (h ^ (uint8_t)origin[i]) * 1099511628211ull;
	for (int i = 0; i < 8; i++)
		h = (h ^ (uint8_t)(bno >> (8 * i))) * 1099511628211ull;
	return h != 0 ? h : 1;
}

/* ---- sender ------------------------------------------------------------ */

struct trust_out {
	struct ref refs[JALIN_TRUST_REFS_MAX];
	unsigned nrefs;
	uint64_t sent[JALIN_TRUST_SENT_MAX]; /* ref_hash, open addressing */
	unsigned nsent;
	uint8_t kids[JALIN_TRUST_KEYS_MAX][SIG_KID_LEN]; /* certs sent */
	unsigned nkids;
	struct proof pw;
	struct buf side;
};

struct trust_out *
trust_out_new(void)
{
	struct trust_out *o = calloc(1, sizeof(*o));

	if (o != NULL)
		buf_init(&o->side, JALIN_FRAME_MAX);
	return o;
}

void
trust_out_free(struct trust_out *o)
{
	if (o == NULL)
		return;
	buf_free(&o->side);
	free(o);
}

/* True if h is in the set; else adds it when add (clearing a full set:
 * forgetting only means sending a batch again). */
static bool
sent_has(struct trust_out *o, uint64_t h, bool add)
{
	unsigned i = (unsigned)(h % JALIN_TRUST_SENT_MAX);

	while (o->sent[i] != 0) {
		if (o->sent[i] == h)
			return true;
		i = (i + 1) % JALIN_TRUST_SENT_MAX;
	}
	if (!add)
		return false;
	if (o->nsent >= JALIN_TRUST_SENT_MAX / 2) {
		memset(o->sent, 0, sizeof(o->sent));
		o->nsent = 0;
		i = (unsigned)(h % JALIN_TRUST_SENT_MAX);
	}
	o->sent[i] = h;
	o->nsent++;
	return false;
}

/* Note one batch; false if the frame's notes are full. */
static bool
note(struct trust_out *o, const struct rec_origin *org, uint64_t bno)
{
	if (sent_has(o, ref_hash(org->name, org->len, bno), false))
		return true;
	for (unsigned i = 0; i < o->nrefs; i++)
		if (o->refs[i].bno == bno && o->refs[i].olen == org->len &&
		    memcmp(o->refs[i].origin, org->name, org->len) == 0)
			return true;
	if (o->nrefs == JALIN_TRUST_REFS_MAX)
		return false;
	struct ref *r = &o->refs[o->nrefs++];
	r->olen = org->len;
	memcpy(r->origin, org->name, org->len);
	r->bno = bno;
	return true;
}

bool
trust_out_note(struct trust_out *o, const struct record *r,
    const uint8_t *proof, size_t plen)
{
	unsigned before = o->nrefs;

	if (plen == 0 || proof_decode(&o->pw, r, proof, plen, NULL) != 0)
		return true; /* sent without its proof: unsigned */
	for (uint16_t d = 0; d < o->pw.ndots; d++)
		if (o->pw.dot[d].is_signed &&
		    !note(o, &r->origin[r->dot[d].origin], o->pw.dot[d].bno))
			goto full;
	for (uint16_t w = 0; w < o->pw.nwit; w++)
		if (!note(o, &r->origin[o->pw.wit[w].oidx], o->pw.wit[w].bno))
			goto full;
	return true;
full:
	if (before == 0)
		return true; /* alone in its frame: what did not fit is not sent
		              */
	o->nrefs = before;   /* r goes in the next frame, with all its notes */
	return false;
}

static bool
kid_sent(struct trust_out *o, const uint8_t *kid)
{
	for (unsigned i = 0; i < o->nkids; i++)
		if (memcmp(o->kids[i], kid, SIG_KID_LEN) == 0)
			return true;
	return false;
}

static void
kid_note(struct trust_out *o, const uint8_t *kid)
{
	if (o->nkids == JALIN_TRUST_KEYS_MAX)
		o->nkids = 0; /* forget: they are sent again */
	memcpy(o->kids[o->nkids++], kid, SIG_KID_LEN);
}

/* Send the certificate of kid: ours, or one a peer gave us. False if we
 * hold none (then its batches cannot be checked: not sent either). */
static bool
send_cert(struct trust_out *o, struct conn *c, MDB_txn *txn, const uint8_t *kid)
{
	const struct stdb *db = store_db(c->ps->n->store);
	X509 *own = c->ps->tls != NULL ? tls_own_cert(c->ps->tls) : NULL;
	uint8_t okid[SIG_KID_LEN];
	const uint8_t *der;
	unsigned char *mine = NULL;
	size_t len;
	int n;

	if (own != NULL && sig_kid(X509_get0_pubkey(own), okid) == 0 &&
	    memcmp(okid, kid, SIG_KID_LEN) == 0 &&
	    (n = i2d_X509(own, &mine)) > 0) {
		msg_enc_cert(&o->side, mine, (size_t)n);
		OPENSSL_free(mine);
	} else if (stdb_get(txn, db, STDB_CERTS, kid, SIG_KID_LEN, &der,
	               &len) == 0) {
		msg_enc_cert(&o->side, der, len);
	} else {
		return false;
	}
	conn_send(c, &o->side);
	kid_note(o, kid);
	return true;
}

void
trust_out_flush(struct trust_out *o, struct conn *c, MDB_txn *txn)
{
	const struct stdb *db = store_db(c->ps->n->store);
	uint8_t k[STDB_BATCH_KEY_MAX];
	const uint8_t *v;
	struct bval b;
	size_t vlen;

	for (unsigned i = 0; i < o->nrefs; i++) {
		const struct ref *r = &o->refs[i];
		size_t kl = stdb_batch_key(k, r->origin, r->olen, r->bno);
		if (stdb_get(txn, db, STDB_BATCH, k, kl, &v, &vlen) != 0 ||
		    bval_split(v, vlen, &b) != 0)
			continue; /* not held: its events go unsigned */
		if (!kid_sent(o, b.kid) && !send_cert(o, c, txn, b.kid))
			continue; /* its events arrive unprovable */
		msg_enc_batch(&o->side, r->origin, r->olen, r->bno, b.kid,
		    SIG_KID_LEN, b.sig, b.slen, b.leaves, b.n * SIG_LEAF_LEN);
		conn_send(c, &o->side);
		sent_has(o, ref_hash(r->origin, r->olen, r->bno), true);
	}
	o->nrefs = 0;
}

/* ---- receiver ---------------------------------------------------------- */

struct tkey {
	uint8_t kid[SIG_KID_LEN];
	char name[JALIN_NAME_MAX + 1];
	EVP_PKEY *key;
	uint8_t *der;
	size_t derlen;
	bool stored;
	bool refused; /* failed tls_check_cert: its batches are refused */
};

/* A batch received and not yet stored: it is stored when a record that
 * refers to it is (trust_in_keep), and dropped when the set is full. */
struct tbatch {
	uint8_t olen;
	char origin[JALIN_NAME_MAX];
	uint64_t bno;
	bool put;        /* stored in the last task's transaction */
	const char *bad; /* refused: why its events are refused */
	size_t vlen;
	uint8_t val[SIG_KID_LEN + 1 + SIG_MAX_LEN +
	    JALIN_SIG_BATCH_MAX * SIG_LEAF_LEN];
};

/* What a signing certificate (by kid) may sign, under the CRL of one
 * reload (tls_gen): for origin name, or why not. */
struct kverdict {
	uint8_t kid[SIG_KID_LEN];
	char name[JALIN_NAME_MAX + 1];
	char why[96]; /* empty: usable */
};

struct trust_in {
	struct tkey keys[JALIN_TRUST_KEYS_MAX];
	unsigned nkeys;
	unsigned nenc;    /* encryption certificates taken on the connection */
	unsigned nencbad; /* and refused (the first few are logged) */
	struct tbatch *pend[JALIN_TRUST_PENDING_MAX];
	unsigned npend;
	uint64_t dropped; /* batches dropped from a full set */
	struct kverdict kv[JALIN_TRUST_KEYS_MAX];
	unsigned nkv;
	uint64_t kv_gen; /* the reload the verdicts were made under */
	struct sig_ctx *x;
	struct proof pw;
};

struct trust_in *
trust_in_new(void)
{
	struct trust_in *in = calloc(1, sizeof(*in));

	if (in != NULL && (in->x = sig_ctx_new()) == NULL) {
		free(in);
		return NULL;
	}
	return in;
}

void
trust_in_free(struct trust_in *in)
{
	if (in == NULL)
		return;
	for (unsigned i = 0; i < in->nkeys; i++) {
		EVP_PKEY_free(in->keys[i].key);
		free(in->keys[i].der);
	}
	for (unsigned i = 0; i < in->npend; i++)
		free(in->pend[i]);
	sig_ctx_free(in->x);
	free(in);
}

static struct tkey *
key_by_kid(struct trust_in *in, const uint8_t *kid)
{
	for (unsigned i = 0; i < in->nkeys; i++)
		if (memcmp(in->keys[i].kid, kid, SIG_KID_LEN) == 0)
			return &in->keys[i];
	return NULL;
}

/* Parse the CERT's certificate and its key. 0 or JALIN_EPROTO/ETLS. */
static int
cert_parse(
    const struct msg_peer *m, X509 **x, struct tkey *k, struct jalin_err *err)
{
	const unsigned char *p = m->cert;

	if (m->cert_len > JALIN_CERT_MAX)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "CERT: %u bytes (the limit is %d)", m->cert_len,
		    JALIN_CERT_MAX);
	if ((*x = d2i_X509(NULL, &p, m->cert_len)) == NULL ||
	    p != m->cert + m->cert_len) {
		X509_free(*x);
		*x = NULL;
		return jalin_err_set(
		    err, JALIN_EPROTO, "CERT: not one DER certificate");
	}
	if ((k->key = X509_get_pubkey(*x)) == NULL ||
	    sig_kid(k->key, k->kid) != 0) {
		X509_free(*x);
		*x = NULL;
		EVP_PKEY_free(k->key);
		return jalin_err_set(
		    err, JALIN_ETLS, "CERT: no usable public key");
	}
	return 0;
}

int
trust_in_cert(struct tls *tls, struct trust_in *in, const struct msg_peer *m,
    struct jalin_err *err)
{
	struct tkey k = {0};
	X509 *x = NULL;
	int rc;

	if ((rc = cert_parse(m, &x, &k, err)) != 0)
		return rc;
	/* A certificate that fails (revoked since an honest relay stored
	 * its batches, PROTOCOL.md §13.6) is no reason to close the link:
	 * it is kept as refused, and so are its batches' events. */
	k.refused = tls == NULL
	    ? jalin_err_set(err, JALIN_ETLS,
	          "certificate refused: no CA to check it against") != 0
	    : tls_check_cert(tls, x, k.name, sizeof(k.name), err) != 0;
	X509_free(x);
	if (key_by_kid(in, k.kid) != NULL ||
	    in->nkeys == JALIN_TRUST_KEYS_MAX ||
	    (k.der = malloc(m->cert_len)) == NULL) {
		EVP_PKEY_free(k.key);
		return in->nkeys == JALIN_TRUST_KEYS_MAX
		    ? jalin_err_set(err, JALIN_ETOOBIG,
		          "CERT: more than %d on one connection",
		          JALIN_TRUST_KEYS_MAX)
		    : k.refused ? 1
		                : 0;
	}
	memcpy(k.der, m->cert, m->cert_len);
	k.derlen = m->cert_len;
	k.stored = k.refused; /* a refused certificate is not passed on */
	in->keys[in->nkeys++] = k;
	return k.refused ? 1 : 0;
}

static int
batch_check(const struct msg_peer *m, struct jalin_err *err)
{
	if (m->origin_len == 0 || m->origin_len > JALIN_NAME_MAX ||
	    m->kid_len != SIG_KID_LEN || m->sig_len == 0 ||
	    m->sig_len > SIG_MAX_LEN || m->leaves_len == 0 ||
	    m->leaves_len % SIG_LEAF_LEN != 0 ||
	    m->leaves_len > JALIN_SIG_BATCH_MAX * SIG_LEAF_LEN || m->bno == 0)
		return jalin_err_set(err, JALIN_EPROTO,
		    "BATCH: a key has the wrong size (origin, kid 8, sig up "
		    "to %d, leaves 16 x 1..%d)",
		    SIG_MAX_LEN, JALIN_SIG_BATCH_MAX);
	return 0;
}

/* Verify a relayed batch; NULL if it verifies, else the reason its events
 * are refused (set *rc for a protocol violation that ends the link). */
static const char *
batch_verify(struct trust_in *in, const struct msg_peer *m, int *rc,
    struct jalin_err *err)
{
	uint8_t d[SIG_DIGEST_LEN];
	struct tkey *k;

	if ((k = key_by_kid(in, m->kid)) == NULL) {
		*rc = jalin_err_set(err, JALIN_EPERM,
		    "BATCH of %.*s: no CERT for its key was sent",
		    (int)m->origin_len, m->origin);
		return NULL;
	}
	if (k->refused)
		return "an event signed with a refused (revoked) certificate";
	if (strlen(k->name) != m->origin_len ||
	    memcmp(k->name, m->origin, m->origin_len) != 0) {
		*rc = jalin_err_set(err, JALIN_EPERM,
		    "BATCH of %.*s is signed by %s's key", (int)m->origin_len,
		    m->origin, k->name);
		return NULL;
	}
	if (sig_batch_digest(in->x, m->origin, m->origin_len, m->bno, m->kid,
	        m->leaves, m->leaves_len / SIG_LEAF_LEN, d) != 0 ||
	    sig_verify(k->key, d, m->sig, m->sig_len, err) != 0)
		*rc = jalin_err_set(err, JALIN_EPERM,
		    "BATCH of %.*s: the signature does not verify",
		    (int)m->origin_len, m->origin);
	return NULL;
}

static struct tbatch *
pend_find(struct trust_in *in, const char *origin, size_t olen, uint64_t bno)
{
	for (unsigned i = 0; i < in->npend; i++)
		if (in->pend[i]->bno == bno && in->pend[i]->olen == olen &&
		    memcmp(in->pend[i]->origin, origin, olen) == 0)
			return in->pend[i];
	return NULL;
}

/* Room for one more batch: drop one stored already, else the oldest
 * (its events, if a record still refers to it, arrive unprovable and
 * are refused). 1 the first time one is dropped on the connection. */
static int
pend_room(struct trust_in *in, struct jalin_err *err)
{
	unsigned v = 0;

	if (in->npend < JALIN_TRUST_PENDING_MAX)
		return 0;
	for (unsigned i = 0; i < in->npend; i++)
		if (in->pend[i]->put) {
			v = i;
			break;
		}
	free(in->pend[v]);
	memmove(&in->pend[v], &in->pend[v + 1],
	    (in->npend - v - 1) * sizeof(in->pend[0]));
	in->npend--;
	if (in->dropped++ > 0)
		return 0;
	return jalin_err_set(err, 1,
	    "more than %d BATCH frames that no stored record refers to: the "
	    "oldest are dropped, not stored",
	    JALIN_TRUST_PENDING_MAX);
}

int
trust_in_batch(struct trust_in *in, const struct msg_peer *m,
    const char *sender, struct jalin_err *err)
{
	const char *bad = NULL;
	struct tbatch *b;
	int rc = 0, note;

	if ((rc = batch_check(m, err)) != 0)
		return rc;
	bool own = strlen(sender) == m->origin_len &&
	    memcmp(sender, m->origin, m->origin_len) == 0;
	/* own: a live write's batch: no ECDSA on its path (the next hop
	 * verifies it); stored only if a record of the sender refers to it */
	if (!own && ((bad = batch_verify(in, m, &rc, err)), rc != 0))
		return rc;
	if (pend_find(in, m->origin, m->origin_len, m->bno) != NULL)
		return 0; /* sent again: the first stands */
	note = pend_room(in, err);
	if ((b = malloc(sizeof(*b))) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	b->olen = (uint8_t)m->origin_len;
	memcpy(b->origin, m->origin, m->origin_len);
	b->bno = m->bno;
	b->put = false;
	b->bad = bad;
	memcpy(b->val, m->kid, SIG_KID_LEN);
	b->val[SIG_KID_LEN] = (uint8_t)m->sig_len;
	memcpy(b->val + SIG_KID_LEN + 1, m->sig, m->sig_len);
	memcpy(b->val + SIG_KID_LEN + 1 + m->sig_len, m->leaves, m->leaves_len);
	b->vlen = SIG_KID_LEN + 1 + m->sig_len + m->leaves_len;
	in->pend[in->npend++] = b;
	return note;
}

uint64_t
trust_in_dropped(const struct trust_in *in)
{
	return in != NULL ? in->dropped : 0;
}

/*
 * Note that the origin of batch key k signs its writes (storedb.h, bref):
 * a batch of it verified (or one of the sender itself, which speaks for
 * itself) is proof enough, stored or not; from now on its unsigned events
 * are refused (PROTOCOL.md §13.5). One small entry per origin.
 */
static int
mark_signer(struct store_txn *st, const uint8_t *k)
{
	const uint8_t *v;
	size_t vlen;

	if (stdb_get(store_txn_mdb(st), store_db(store_txn_store(st)),
	        STDB_BREF, k, 1 + (size_t)k[0], &v, &vlen) == 0)
		return 0;
	return store_txn_put(st, STDB_BREF, k, 1 + (size_t)k[0], "", 0);
}

int
trust_in_store(struct trust_in *in, struct store_txn *st)
{
	const struct stdb *db = store_db(store_txn_store(st));
	uint8_t k[STDB_BATCH_KEY_MAX];
	const uint8_t *v;
	size_t vlen;
	unsigned j = 0;
	int rc = 0;

	for (unsigned i = 0; i < in->nkeys && rc == 0; i++) {
		struct tkey *t = &in->keys[i];
		if (!t->stored)
			rc = store_txn_put(st, STDB_CERTS, t->kid, SIG_KID_LEN,
			    t->der, t->derlen);
		t->stored = rc == 0;
	}
	/* stored by the last task and committed: no longer pending (a
	 * rolled-back one is not there, and stays) */
	for (unsigned i = 0; i < in->npend; i++) {
		struct tbatch *b = in->pend[i];
		size_t kl = stdb_batch_key(k, b->origin, b->olen, b->bno);
		if (rc == 0 && b->bad == NULL)
			rc = mark_signer(st, k);
		if (b->put &&
		    stdb_get(store_txn_mdb(st), db, STDB_BATCH, k, kl, &v,
		        &vlen) == 0) {
			free(b);
			continue;
		}
		b->put = false;
		in->pend[j++] = b;
	}
	in->npend = j;
	return rc;
}

int
trust_in_keep(struct trust_in *in, struct store_txn *st)
{
	const struct stdb *db = store_db(store_txn_store(st));
	uint8_t k[STDB_BATCH_KEY_MAX];
	const uint8_t *v;
	size_t vlen;
	uint32_t refs;
	int rc;

	for (unsigned i = 0; i < in->npend; i++) {
		struct tbatch *b = in->pend[i];
		size_t kl = stdb_batch_key(k, b->origin, b->olen, b->bno);
		if (b->bad != NULL || b->put)
			continue;
		if ((rc = store_txn_batch_refs(st, k, kl, &refs)) != 0)
			return rc;
		if (refs == 0)
			continue; /* nothing stored refers to it (yet) */
		if (stdb_get(store_txn_mdb(st), db, STDB_BATCH, k, kl, &v,
		        &vlen) != 0 &&
		    (rc = store_txn_put_batch(st, k, kl, b->val, b->vlen)) != 0)
			return rc;
		b->put = true;
	}
	return 0;
}

/* ---- checks ------------------------------------------------------------ */

static bool
name_is(const struct rec_origin *o, const char *name)
{
	return name != NULL && strlen(name) == o->len &&
	    memcmp(o->name, name, o->len) == 0;
}

/* ctx of origin o in r (0: r never saw it). */
static uint64_t
ctx_of(const struct record *r, const struct rec_origin *o)
{
	int i = rec_origin_find(r, o->name, o->len);

	return i >= 0 ? r->ctx[i] : 0;
}

/* True if a batch of origin o was ever stored: o signs its writes (the
 * mark in bref outlives its batches, which go when nothing refers to
 * them any more; storedb.h). */
static bool
origin_signs(struct store_txn *st, const struct rec_origin *o)
{
	const struct stdb *db = store_db(store_txn_store(st));
	uint8_t k[1 + JALIN_NAME_MAX];
	const uint8_t *v;
	struct stdb_iter it;
	size_t vlen;
	bool found;

	k[0] = o->len;
	memcpy(k + 1, o->name, o->len);
	if (stdb_get(store_txn_mdb(st), db, STDB_BREF, k, 1 + o->len, &v,
	        &vlen) == 0)
		return true;
	stdb_iter_open(&it, store_txn_mdb(st), db, STDB_BATCH);
	found = stdb_iter_find(&it, k, 1 + o->len, STDB_FIND_GEQ) &&
	    stdb_iter_has_prefix(&it, k, 1 + o->len);
	stdb_iter_close(&it);
	return found;
}

/* The certificate (DER) of kid: sent on this connection, stored, or
 * this node's own. */
static X509 *
kid_cert(struct trust_in *in, struct store_txn *st, struct tls *tls,
    const uint8_t *kid)
{
	const struct tkey *k = key_by_kid(in, kid);
	const unsigned char *p;
	uint8_t okid[SIG_KID_LEN];
	size_t len;
	X509 *own = tls_own_cert(tls);

	if (k != NULL) {
		p = k->der;
		len = k->derlen;
	} else if (stdb_get(store_txn_mdb(st), store_db(store_txn_store(st)),
	               STDB_CERTS, kid, SIG_KID_LEN, &p, &len) != 0) {
		if (own != NULL && sig_kid(X509_get0_pubkey(own), okid) == 0 &&
		    memcmp(okid, kid, SIG_KID_LEN) == 0 &&
		    X509_up_ref(own) == 1)
			return own;
		return NULL;
	}
	return d2i_X509(NULL, &p, (long)len);
}

/* The verdict on kid under the CRL loaded now, made once per reload. */
static const struct kverdict *
kid_verdict(struct trust_in *in, struct store_txn *st,
    const struct trust_state *s, const uint8_t *kid)
{
	struct jalin_err e;
	struct kverdict *v;
	X509 *x;

	if (in->kv_gen != s->tls_gen) { /* a reload: judge again */
		in->nkv = 0;
		in->kv_gen = s->tls_gen;
	}
	for (unsigned i = 0; i < in->nkv; i++)
		if (memcmp(in->kv[i].kid, kid, SIG_KID_LEN) == 0)
			return &in->kv[i];
	if (in->nkv == JALIN_TRUST_KEYS_MAX)
		in->nkv = 0; /* forget: judged again when used */
	v = &in->kv[in->nkv];
	memset(v, 0, sizeof(*v));
	memcpy(v->kid, kid, SIG_KID_LEN);
	jalin_err_clear(&e);
	if ((x = kid_cert(in, st, s->tls, kid)) == NULL)
		snprintf(v->why, sizeof(v->why),
		    "an event signed with a certificate never sent");
	else if (tls_check_cert(s->tls, x, v->name, sizeof(v->name), &e) != 0)
		snprintf(v->why, sizeof(v->why), "an event signed with a %.60s",
		    e.msg);
	X509_free(x);
	in->nkv++;
	return v;
}

/* The batch's signing certificate is o's and still good (§13.6): NULL,
 * or why not. Without a TLS context (a unit test), not checked. */
static const char *
kid_ok(struct trust_in *in, struct store_txn *st, const struct trust_state *s,
    const struct rec_origin *o, const uint8_t *kid)
{
	const struct kverdict *v;

	if (s->tls == NULL)
		return NULL;
	v = kid_verdict(in, st, s, kid);
	if (v->why[0] != '\0')
		return v->why;
	if (!name_is(o, v->name))
		return "an event signed with another node's certificate";
	return NULL;
}

/* The leaf idx of batch bno of origin o: received on this connection, or
 * stored; NULL, or why its events cannot be taken. */
static const char *
batch_leaf(struct trust_in *in, struct store_txn *st,
    const struct trust_state *s, const struct rec_origin *o, uint64_t bno,
    uint16_t idx, const uint8_t **leaf)
{
	const struct tbatch *p = pend_find(in, o->name, o->len, bno);
	uint8_t k[STDB_BATCH_KEY_MAX];
	const uint8_t *v;
	struct bval b;
	size_t vlen;

	if (p != NULL && p->bad != NULL)
		return p->bad;
	if (p != NULL) {
		v = p->val;
		vlen = p->vlen;
	} else if (stdb_get(store_txn_mdb(st), store_db(store_txn_store(st)),
	               STDB_BATCH, k, stdb_batch_key(k, o->name, o->len, bno),
	               &v, &vlen) != 0) {
		return "an event whose signed batch was not sent";
	}
	if (bval_split(v, vlen, &b) != 0 || idx >= b.n)
		return "an event whose signed batch was not sent";
	*leaf = b.leaves + (size_t)idx * SIG_LEAF_LEN;
	return kid_ok(in, st, s, o, b.kid);
}

/* An event without a proof: acceptable from its maker, or while its
 * origin has never been seen signing and signatures are not required. */
static const char *
unsigned_ok(struct store_txn *st, const struct trust_state *s,
    const struct rec_origin *o)
{
	if (name_is(o, s->sender))
		return NULL;
	if (s->require)
		return "an unsigned event of another node (require_signatures)";
	if (origin_signs(st, o))
		return "an unsigned event of a node that signs its writes";
	return NULL;
}

static const char *
check_leaf(struct trust_in *in, struct store_txn *st,
    const struct trust_state *s, const struct rec_origin *o, uint64_t bno,
    uint16_t idx, const uint8_t leaf[SIG_LEAF_LEN])
{
	const uint8_t *want;
	const char *why;

	if ((why = batch_leaf(in, st, s, o, bno, idx, &want)) != NULL)
		return why;
	if (memcmp(want, leaf, SIG_LEAF_LEN) != 0)
		return "an event that is not what its origin signed";
	return NULL;
}

/* True if the receiver holds event d of r already (or one that
 * supersedes it). A purge wins over a live state whatever its HLC
 * (merge.c), so a purge event below the origin's context is new all the
 * same: held only if old is that very purge. */
static bool
held(const struct trust_state *s, const struct record *r, uint16_t d,
    const struct rec_origin *o)
{
	if (rec_is_purged(r))
		return rec_is_purged(s->old) &&
		    rec_dot_find(s->old, o->name, o->len, r->dot[d].hlc) >= 0;
	return r->dot[d].hlc <= ctx_of(s->old, o);
}

static const char *
check_dots(
    struct trust_in *in, struct store_txn *st, const struct trust_state *s)
{
	const struct record *r = s->rem;
	uint8_t leaf[SIG_LEAF_LEN];
	const char *why;

	for (uint16_t d = 0; d < r->ndots; d++) {
		const struct rec_origin *o = &r->origin[r->dot[d].origin];
		const struct proof_dot *p = &in->pw.dot[d];
		if (held(s, r, d, o))
			continue; /* held, or seen and superseded: no change */
		if (name_is(o, s->sender))
			continue; /* its maker: the TLS identity says so */
		if (!p->is_signed) {
			if ((why = unsigned_ok(st, s, o)) != NULL)
				return why;
			continue;
		}
		if (sig_leaf(in->x, s->coll, s->id, r, d, p->missing, p->mlen,
		        leaf, NULL) != 0)
			return "a proof that does not fit its event";
		if ((why = check_leaf(in, st, s, o, p->bno, p->idx, leaf)) !=
		    NULL)
			return why;
	}
	return NULL;
}

/* A context raised above the origin's last event in the state needs the
 * witness of the event that raised it. */
static const char *
check_ctx(
    struct trust_in *in, struct store_txn *st, const struct trust_state *s)
{
	const struct record *r = s->rem;
	uint8_t leaf[SIG_LEAF_LEN];
	const char *why;

	for (uint16_t oi = 0; oi < r->norigins; oi++) {
		const struct rec_origin *o = &r->origin[oi];
		bool has_dot = false;
		if (r->ctx[oi] <= ctx_of(s->old, o))
			continue;
		for (uint16_t d = 0; d < r->ndots && !has_dot; d++)
			has_dot = r->dot[d].origin == oi &&
			    r->dot[d].hlc == r->ctx[oi];
		if (has_dot || name_is(o, s->sender))
			continue; /* checked as an event, or its maker's */
		const struct proof_wit *w = NULL;
		for (uint16_t i = 0; i < in->pw.nwit; i++)
			if (in->pw.wit[i].oidx == oi)
				w = &in->pw.wit[i];
		if (w == NULL) {
			if ((why = unsigned_ok(st, s, o)) != NULL)
				return why;
			continue;
		}
		if (proof_wit_leaf(in->x, s->coll, s->id, r, w, leaf, NULL) !=
		    0)
			return "a witness that does not fit its event";
		if ((why = check_leaf(in, st, s, o, w->bno, w->idx, leaf)) !=
		    NULL)
			return why;
	}
	return NULL;
}

const char *
trust_check(
    struct trust_in *in, struct store_txn *st, const struct trust_state *s)
{
	const char *why;

	if (!s->has_proof)
		proof_init(&in->pw, s->rem); /* every event unsigned */
	if ((why = check_dots(in, st, s)) != NULL ||
	    (why = check_ctx(in, st, s)) != NULL)
		return why;
	return NULL;
}

int
trust_decode(struct trust_in *in, const struct record *rem,
    const uint8_t *proof, size_t plen)
{
	return proof_decode(&in->pw, rem, proof, plen, NULL);
}

const struct proof *
trust_proof(const struct trust_in *in)
{
	return &in->pw;
}

/* ---- encryption certificates (keyring.h, PROTOCOL.md §13.3.1) ---------- */

/* Send c one CERT per encryption certificate in kr, but its own. */
static void
enc_send(struct conn *c, struct keyring *kr, const char *only)
{
	struct buf *b = &c->ps->out;
	size_t n = kr_count(kr);

	for (size_t i = 0; i < n && i < JALIN_ENC_CERTS_MAX; i++) {
		const struct kr_info *k = kr_at(kr, i);
		if (strcmp(k->name, c->peer->cfg.name) == 0 ||
		    (only != NULL && strcmp(k->name, only) != 0))
			continue;
		msg_enc_cert(b, k->der, k->derlen);
		conn_send(c, b);
	}
}

void
trust_enc_send(struct conn *c)
{
	struct keyring *kr = c->ps->n->keyring;

	if (c->pv >= 4 && kr != NULL && !c->closing && !c->dead)
		enc_send(c, kr, NULL);
}

/* A certificate new to us goes on to the other open protocol 4 peers, so
 * that it reaches a node that connected before we learned it. */
static void
enc_forward(struct conn *from, struct keyring *kr, const char *name)
{
	struct conn *c;

	TAILQ_FOREACH (c, &from->ps->conns, link) {
		if (c != from && c->open && !c->admin && c->peer != NULL &&
		    c->pv >= 4 && !c->closing && !c->dead)
			enc_send(c, kr, name);
	}
}

int
trust_enc_in(struct conn *c, struct trust_in *in, const struct msg_peer *m,
    struct jalin_err *err)
{
	struct keyring *kr = c->ps->n->keyring;
	struct jalin_err why;
	int rc;

	if (++in->nenc > JALIN_ENC_CERTS_MAX)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "CERT: more than %d encryption certificates on one "
		    "connection",
		    JALIN_ENC_CERTS_MAX);
	if (kr == NULL)
		return 0;
	jalin_err_clear(&why);
	rc = kr_learn(kr, m->cert, m->cert_len, &why);
	if (rc < 0) {
		/* a few lines per connection: a peer repeating itself must
		 * not flood the log */
		if (++in->nencbad <= JALIN_REFUSAL_LOG_MAX)
			log_warnx("peer %s: encryption %s%s", c->peer->cfg.name,
			    jalin_err_msg(&why, rc),
			    in->nencbad == JALIN_REFUSAL_LOG_MAX
			        ? " (further refusals on this connection are "
			          "not logged)"
			        : "");
		return 0; /* it may relay what a newer CRL revoked */
	}
	if (rc > 0) {
		const struct kr_info *k = NULL;
		for (size_t i = 0; i < kr_count(kr); i++)
			if (kr_at(kr, i)->derlen == m->cert_len &&
			    memcmp(kr_at(kr, i)->der, m->cert, m->cert_len) ==
			        0)
				k = kr_at(kr, i);
		if (k != NULL) {
			log_info("peer %s: learned the encryption key of %s",
			    c->peer->cfg.name, k->name);
			enc_forward(c, kr, k->name);
		}
	}
	return 0;
}
