/*
 * keyring.c - the nodes' encryption keys (see keyring.h).
 *
 * A sorted array of entries, one per node name, at most
 * JALIN_ENC_CERTS_MAX: the federation has some 70 offices, and only
 * certificates the CA signed for a node name get in, so the bound is
 * never near for an honest federation and caps what a hostile one costs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "keyring.h"
#include "sealrec.h"
#include "log.h"
#include "schema.h"

struct kr_entry {
	struct kr_info info;
	X509 *x;
	EVP_PKEY *pub;
	uint8_t *der;
};

struct keyring {
	X509_STORE *xs; /* the CA and CRL every certificate is checked with */
	struct store *store;
	char name[JALIN_NAME_MAX + 1]; /* this node's */
	EVP_PKEY *self;                /* its private key, NULL without */
	struct kr_entry *e;            /* sorted by name */
	size_t n;
};

/* ---- checks ------------------------------------------------------------ */

/* [a-z0-9][a-z0-9_-]{0,63}: a node name (config.c's rule). */
static bool
node_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > JALIN_NAME_MAX || s[0] == '-' || s[0] == '_')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		        s[i] == '_'))
			return false;
	return true;
}

/* A certificate jalin-ca issued a minute ago starts then (x509 -new has
 * no -startdate): a node whose clock is behind still takes it. */
static int
verify_cb(int ok, X509_STORE_CTX *sc)
{
	X509 *x = X509_STORE_CTX_get_current_cert(sc);
	time_t t = time(NULL) + JALIN_ENC_SKEW;

	if (!ok &&
	    X509_STORE_CTX_get_error(sc) == X509_V_ERR_CERT_NOT_YET_VALID &&
	    X509_STORE_CTX_get_error_depth(sc) == 0 && x != NULL &&
	    X509_cmp_time(X509_get0_notBefore(x), &t) < 0)
		return 1;
	return ok;
}

static bool
has_marker(X509 *x)
{
	EXTENDED_KEY_USAGE *eku =
	    X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	char oid[80];
	bool found = false;

	for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
		ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
		if (OBJ_obj2txt(oid, sizeof(oid), o, 1) > 0 &&
		    strcmp(oid, KR_ENC_OID) == 0)
			found = true;
	}
	EXTENDED_KEY_USAGE_free(eku);
	return found;
}

/* The chain to the CA and the CRL. */
static int
check_chain(X509_STORE *xs, X509 *x, struct jalin_err *err)
{
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	int ok = 0;

	if (sc != NULL && X509_STORE_CTX_init(sc, xs, x, NULL))
		ok = X509_verify_cert(sc) == 1;
	if (!ok)
		jalin_err_set(err, JALIN_ETLS, "%s",
		    sc != NULL ? X509_verify_cert_error_string(
		                     X509_STORE_CTX_get_error(sc))
		               : "out of memory");
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	return ok ? 0 : JALIN_ETLS;
}

/* Everything an encryption certificate must be; its CN copied to cn. */
static int
check_cert(X509_STORE *xs, X509 *x, char *cn, size_t n, struct jalin_err *err)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	int len;

	if (k == NULL || EVP_PKEY_id(k) != EVP_PKEY_X25519)
		return jalin_err_set(err, JALIN_ETLS, "not an X25519 key");
	if (!has_marker(x))
		return jalin_err_set(err, JALIN_ETLS,
		    "no jalin encryption marker (extendedKeyUsage " KR_ENC_OID
		    ")");
	if ((X509_get_key_usage(x) & KU_KEY_AGREEMENT) == 0)
		return jalin_err_set(
		    err, JALIN_ETLS, "keyUsage does not allow keyAgreement");
	len = X509_NAME_get_text_by_NID(
	    X509_get_subject_name(x), NID_commonName, cn, (int)n);
	if (len <= 0 || (size_t)len >= n || !node_name_ok(cn, (size_t)len))
		return jalin_err_set(
		    err, JALIN_ETLS, "its CN is not a node name");
	return check_chain(xs, x, err);
}

static int64_t
asn1_secs(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static int
raw_kid(EVP_PKEY *k, uint8_t kid[KR_KID_LEN])
{
	uint8_t raw[32], d[32];
	size_t rl = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(k, raw, &rl) != 1 ||
	    EVP_Digest(raw, rl, d, NULL, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		return JALIN_ETLS;
	}
	memcpy(kid, d, KR_KID_LEN);
	return 0;
}

/* ---- entries ----------------------------------------------------------- */

static void
entry_clear(struct kr_entry *e)
{
	X509_free(e->x);
	EVP_PKEY_free(e->pub);
	free(e->der);
	memset(e, 0, sizeof(*e));
}

/* A checked certificate into e (x is taken over, on failure too). */
static int
entry_make(struct kr_entry *e, X509 *x, const char *cn, enum kr_source src)
{
	unsigned char *der = NULL;
	int n;

	memset(e, 0, sizeof(*e));
	e->x = x;
	if ((e->pub = X509_get_pubkey(x)) == NULL ||
	    raw_kid(e->pub, e->info.kid) != 0 || (n = i2d_X509(x, &der)) <= 0 ||
	    (e->der = malloc((size_t)n)) == NULL) {
		OPENSSL_free(der);
		entry_clear(e);
		return JALIN_ENOMEM;
	}
	memcpy(e->der, der, (size_t)n);
	OPENSSL_free(der);
	snprintf(e->info.name, sizeof(e->info.name), "%s", cn);
	e->info.source = src;
	e->info.not_before = asn1_secs(X509_get0_notBefore(x));
	e->info.not_after = asn1_secs(X509_get0_notAfter(x));
	e->info.der = e->der;
	e->info.derlen = (size_t)n;
	return 0;
}

/* Index of name, or where it would go (*found false). */
static size_t
find(const struct keyring *kr, const char *name, size_t len, bool *found)
{
	size_t lo = 0, hi = kr->n;

	*found = false;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *m = kr->e[mid].info.name;
		int c = strncmp(m, name, len);
		if (c == 0 && m[len] != '\0')
			c = 1;
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Put e in the ring (taken over in every case). 1: kept; 0: an entry for
 * its name wins (the same or a later notBefore, or this node's own).
 */
static int
put(struct keyring *kr, struct kr_entry *e, struct jalin_err *err)
{
	bool found;
	size_t i = find(kr, e->info.name, strlen(e->info.name), &found);

	if (found &&
	    (kr->e[i].info.source == KR_OWN ||
	        kr->e[i].info.not_before >= e->info.not_before)) {
		entry_clear(e);
		return 0;
	}
	if (found) {
		entry_clear(&kr->e[i]);
		kr->e[i] = *e;
		return 1;
	}
	if (kr->n == JALIN_ENC_CERTS_MAX) {
		entry_clear(e);
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "the key ring holds %d names already", JALIN_ENC_CERTS_MAX);
	}
	memmove(&kr->e[i + 1], &kr->e[i], (kr->n - i) * sizeof(kr->e[0]));
	kr->e[i] = *e;
	kr->n++;
	return 1;
}

/* Check x (taken over) and put it in the ring; its CN to cn. 1 kept, 0
 * not needed. */
static int
admit(struct keyring *kr, X509 *x, enum kr_source src,
    char cn[JALIN_NAME_MAX + 2], struct jalin_err *err)
{
	struct kr_entry e;
	int rc;

	if ((rc = check_cert(kr->xs, x, cn, JALIN_NAME_MAX + 2, err)) != 0) {
		X509_free(x);
		return rc;
	}
	if (strcmp(cn, kr->name) == 0 && src != KR_OWN) {
		X509_free(x);
		return 0; /* our own key pair decides for our name */
	}
	if ((rc = entry_make(&e, x, cn, src)) != 0)
		return jalin_err_set(err, rc, "out of memory");
	return put(kr, &e, err);
}

/* ---- loading ----------------------------------------------------------- */

static int
load_xs(const struct cfg *c, X509_STORE **out, struct jalin_err *err)
{
	X509_STORE *xs = X509_STORE_new();
	int rc;

	*out = NULL;
	if (xs == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	if (c->tls_ca[0] == '\0') {
		X509_STORE_free(xs);
		return jalin_err_set(err, JALIN_ECONFIG,
		    "%s: [tls] ca, cert and key must be set to run a node",
		    c->path);
	}
	if (X509_STORE_load_file(xs, c->tls_ca) != 1) {
		X509_STORE_free(xs);
		ERR_clear_error();
		return jalin_err_set(err, JALIN_ETLS,
		    "[tls] ca: cannot load the federation CA '%s'", c->tls_ca);
	}
	if (c->tls_crl[0] != '\0' &&
	    (rc = crl_load(xs, c->tls_crl, err)) != 0) {
		X509_STORE_free(xs);
		return rc;
	}
	X509_STORE_set_verify_cb(xs, verify_cb);
	*out = xs;
	return 0;
}

static X509 *
read_cert(const char *path, struct jalin_err *err)
{
	BIO *b;
	X509 *x;

	errno = 0;
	if ((b = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		jalin_err_set(err, JALIN_ECONFIG, "cannot read '%s': %s", path,
		    errno != 0 ? strerror(errno) : "cannot open it");
		return NULL;
	}
	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		jalin_err_set(
		    err, JALIN_ETLS, "'%s' holds no PEM certificate", path);
	BIO_free(b);
	ERR_clear_error();
	return x;
}

static EVP_PKEY *
read_key(const char *path, struct jalin_err *err)
{
	BIO *b;
	EVP_PKEY *k;

	errno = 0;
	if ((b = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		jalin_err_set(err, JALIN_ECONFIG, "cannot read '%s': %s", path,
		    errno != 0 ? strerror(errno) : "cannot open it");
		return NULL;
	}
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (k == NULL)
		jalin_err_set(
		    err, JALIN_ETLS, "'%s' holds no PEM private key", path);
	else if (EVP_PKEY_id(k) != EVP_PKEY_X25519) {
		jalin_err_set(err, JALIN_ETLS,
		    "'%s' is not an X25519 key (make one with jalin-ca DIR enc "
		    "NAME)",
		    path);
		EVP_PKEY_free(k);
		k = NULL;
	}
	return k;
}

/* The certificate of c's enc_cert, checked as ours; *x on success. */
static int
own_cert(
    struct keyring *kr, const struct cfg *c, X509 **out, struct jalin_err *err)
{
	char cn[JALIN_NAME_MAX + 2], why[JALIN_ERRMSG_MAX];
	X509 *x;
	int rc;

	if ((x = read_cert(c->tls_enc_cert, err)) == NULL)
		return err->code;
	if ((rc = check_cert(kr->xs, x, cn, sizeof(cn), err)) != 0) {
		snprintf(why, sizeof(why), "%s", err->msg);
		X509_free(x);
		jalin_err_clear(err);
		return jalin_err_set(err, rc,
		    "encryption certificate '%s' refused: %s", c->tls_enc_cert,
		    why);
	}
	if (strcmp(cn, c->name) != 0) {
		X509_free(x);
		return jalin_err_set(err, JALIN_ETLS,
		    "encryption certificate '%s' is for '%s', but [node] name is "
		    "'%s'",
		    c->tls_enc_cert, cn, c->name);
	}
	*out = x;
	return 0;
}

/* This node's key pair: both files, matching, the certificate ours. */
static int
load_own(struct keyring *kr, const struct cfg *c, struct jalin_err *err)
{
	struct kr_entry e;
	EVP_PKEY *k;
	X509 *x = NULL;
	int rc;

	if (c->tls_enc_key[0] == '\0' || c->tls_enc_cert[0] == '\0')
		return jalin_err_set(err, JALIN_ECONFIG,
		    "[tls] enc_key and enc_cert are not set (nor key and cert "
		    "they default from)");
	if ((k = read_key(c->tls_enc_key, err)) == NULL)
		return err->code;
	if ((rc = own_cert(kr, c, &x, err)) != 0) {
		EVP_PKEY_free(k);
		return rc;
	}
	if (EVP_PKEY_eq(k, X509_get0_pubkey(x)) != 1) {
		ERR_clear_error();
		EVP_PKEY_free(k);
		X509_free(x);
		return jalin_err_set(err, JALIN_ETLS,
		    "encryption key '%s' does not match its certificate '%s'",
		    c->tls_enc_key, c->tls_enc_cert);
	}
	if ((rc = entry_make(&e, x, c->name, KR_OWN)) != 0 ||
	    (rc = put(kr, &e, err)) < 0) {
		EVP_PKEY_free(k);
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	}
	kr->self = k;
	return 0;
}

/* Each certificate of the roster file, skipped with a log line if bad. */
static void
load_roster(struct keyring *kr, const char *path)
{
	char cn[JALIN_NAME_MAX + 2];
	struct jalin_err err;
	struct stat st;
	unsigned i = 0;
	BIO *b;
	X509 *x;

	if (path[0] == '\0')
		return;
	errno = 0;
	if (stat(path, &st) != 0 || (b = BIO_new_file(path, "r")) == NULL) {
		log_warnx("keyring: roster '%s' not read: %s", path,
		    errno != 0 ? strerror(errno) : "cannot open it");
		ERR_clear_error();
		return;
	}
	if (st.st_size > JALIN_ROSTER_MAX)
		log_warnx("keyring: roster '%s' is %lld bytes, over the limit "
		          "%d: only its start is read",
		    path, (long long)st.st_size, JALIN_ROSTER_MAX);
	while (i < JALIN_ENC_CERTS_MAX && BIO_tell(b) < JALIN_ROSTER_MAX &&
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		i++;
		jalin_err_clear(&err);
		if (admit(kr, x, KR_ROSTER, cn, &err) < 0)
			log_warnx("keyring: roster '%s': certificate %u "
			          "skipped: %s",
			    path, i, err.msg);
	}
	ERR_clear_error();
	BIO_free(b);
	log_info("keyring: roster '%s': %u certificate(s) read", path, i);
}

/* What the store kept from peers; bad ones skipped with a log line. */
static void
load_kept(struct keyring *kr)
{
	char cn[JALIN_NAME_MAX + 2];
	struct stdb *db = store_db(kr->store);
	struct jalin_err err;
	struct stdb_iter it;
	MDB_txn *txn;

	jalin_err_clear(&err);
	if (stdb_begin_read(db, &txn, &err) != 0) {
		log_warnx("keyring: kept certificates not read: %s", err.msg);
		return;
	}
	stdb_iter_open(&it, txn, db, STDB_ENCCERTS);
	for (stdb_iter_first(&it); stdb_iter_valid(&it); stdb_iter_next(&it)) {
		size_t kl, vl;
		const uint8_t *k = stdb_iter_key(&it, &kl);
		const unsigned char *v = stdb_iter_val(&it, &vl);
		X509 *x = d2i_X509(NULL, &v, (long)vl);
		jalin_err_clear(&err);
		if (x == NULL)
			jalin_err_set(
			    &err, JALIN_ECORRUPT, "not a certificate");
		if (x == NULL || admit(kr, x, KR_PEER, cn, &err) < 0)
			log_warnx(
			    "keyring: kept certificate of %.*s skipped: %s",
			    (int)(kl < JALIN_NAME_MAX ? kl : JALIN_NAME_MAX),
			    (const char *)k, err.msg);
	}
	ERR_clear_error();
	stdb_iter_close(&it);
	stdb_end_read(txn);
}

const char *
kr_needed(const struct cfg *c)
{
	for (unsigned id = COLL_MIN; id <= COLL_MAX; id++) {
		const struct schema_coll *sc = schema_coll_by_id(id);
		bool held = c->npeers == 0;
		for (unsigned p = 0; p < c->npeers; p++)
			held = held || (c->peers[p].collections & (1u << id));
		/* its personal fields are sealed (sealrec.h) */
		if (held && srec_coll_sealed(sc))
			return sc->name;
	}
	return NULL;
}

/* Our key pair, or the refusal to start when it is needed. */
static int
open_own(struct keyring *kr, const struct cfg *c, struct jalin_err *err)
{
	const char *need = kr_needed(c);
	char why[JALIN_ERRMSG_MAX];
	int rc;

	if ((rc = load_own(kr, c, err)) == 0)
		return 0;
	snprintf(why, sizeof(why), "%s", err->msg);
	jalin_err_clear(err);
	if (need == NULL) {
		if (rc != JALIN_ECONFIG || access(c->tls_enc_cert, F_OK) == 0)
			log_warnx(
			    "keyring: no encryption key of our own: %s", why);
		return 0;
	}
	return jalin_err_set(err, rc,
	    "node %s holds %s records, whose S! fields are sealed to their "
	    "readers, but has no usable encryption key: %s (issue one with "
	    "'jalin-ca DIR enc %s')",
	    c->name, need, why, c->name);
}

int
kr_open(const struct cfg *c, struct store *s, struct keyring **out,
    struct jalin_err *err)
{
	struct keyring *kr;
	int rc;

	*out = NULL;
	if ((kr = calloc(1, sizeof(*kr))) == NULL ||
	    (kr->e = calloc(JALIN_ENC_CERTS_MAX, sizeof(kr->e[0]))) == NULL) {
		free(kr);
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	}
	kr->store = s;
	snprintf(kr->name, sizeof(kr->name), "%s", c->name);
	if ((rc = load_xs(c, &kr->xs, err)) != 0 ||
	    (rc = open_own(kr, c, err)) != 0) {
		kr_free(kr);
		return rc;
	}
	load_roster(kr, c->tls_roster);
	if (s != NULL)
		load_kept(kr);
	*out = kr;
	return 0;
}

void
kr_free(struct keyring *kr)
{
	if (kr == NULL)
		return;
	for (size_t i = 0; i < kr->n; i++)
		entry_clear(&kr->e[i]);
	free(kr->e);
	EVP_PKEY_free(kr->self);
	X509_STORE_free(kr->xs);
	free(kr);
}

EVP_PKEY *
kr_self(const struct keyring *kr)
{
	return kr->self;
}

EVP_PKEY *
kr_pub(const struct keyring *kr, const char *name, size_t len)
{
	bool found;
	size_t i;

	if (len == 0 || len > JALIN_NAME_MAX || memchr(name, '\0', len))
		return NULL;
	i = find(kr, name, len, &found);
	return found ? kr->e[i].pub : NULL;
}

size_t
kr_count(const struct keyring *kr)
{
	return kr->n;
}

const struct kr_info *
kr_at(const struct keyring *kr, size_t i)
{
	return i < kr->n ? &kr->e[i].info : NULL;
}

/* ---- learning ---------------------------------------------------------- */

struct keep {
	const char *name;
	const uint8_t *der;
	size_t len;
};

static int
keep_fn(struct store_txn *t, void *arg)
{
	const struct keep *k = arg;

	return store_txn_put(
	    t, STDB_ENCCERTS, k->name, strlen(k->name), k->der, k->len);
}

/* The CN x claims, for a message: a node name, or "?" (nothing a peer
 * sends reaches the log unchecked). */
static void
claimed_cn(X509 *x, char *cn, size_t n)
{
	int len = X509_NAME_get_text_by_NID(
	    X509_get_subject_name(x), NID_commonName, cn, (int)n);

	if (len <= 0 || (size_t)len >= n ||
	    (!node_name_ok(cn, (size_t)len) && strncmp(cn, "admin:", 6) != 0) ||
	    (strncmp(cn, "admin:", 6) == 0 &&
	        !node_name_ok(cn + 6, (size_t)len - 6)))
		snprintf(cn, n, "?");
	ERR_clear_error();
}

int
kr_learn(
    struct keyring *kr, const uint8_t *der, size_t len, struct jalin_err *err)
{
	const unsigned char *p = der;
	char cn[JALIN_NAME_MAX + 2], claimed[JALIN_NAME_MAX + 2];
	char why[JALIN_ERRMSG_MAX];
	struct keep k;
	X509 *x;
	int rc;

	if (len > JALIN_CERT_MAX ||
	    (x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		if (len <= JALIN_CERT_MAX)
			X509_free(x);
		ERR_clear_error();
		return jalin_err_set(
		    err, JALIN_EPROTO, "not one DER certificate");
	}
	claimed_cn(x, claimed, sizeof(claimed));
	if ((rc = admit(kr, x, KR_PEER, cn, err)) < 0) {
		snprintf(why, sizeof(why), "%s", err->msg);
		jalin_err_clear(err);
		return jalin_err_set(
		    err, rc, "certificate of '%s' refused: %s", claimed, why);
	}
	if (rc == 0 || kr->store == NULL)
		return rc;
	k.name = cn;
	k.der = der;
	k.len = len;
	if ((rc = store_write(kr->store, keep_fn, &k, err)) != 0)
		return rc;
	return 1;
}

/* ---- reload ------------------------------------------------------------ */

int
kr_recheck(struct keyring *kr, const struct cfg *c, struct jalin_err *err)
{
	X509_STORE *xs;
	struct jalin_err why;
	size_t j = 0;
	int rc;

	if ((rc = load_xs(c, &xs, err)) != 0)
		return rc;
	X509_STORE_free(kr->xs);
	kr->xs = xs;
	for (size_t i = 0; i < kr->n; i++) {
		struct kr_entry *e = &kr->e[i];
		char cn[JALIN_NAME_MAX + 2];
		jalin_err_clear(&why);
		if (check_cert(kr->xs, e->x, cn, sizeof(cn), &why) == 0) {
			kr->e[j++] = *e;
			continue;
		}
		if (e->info.source == KR_OWN)
			log_errx("keyring: our own encryption certificate no "
			         "longer passes: %s; nodes will stop sealing "
			         "keys to us: issue a new one (jalin-ca DIR "
			         "enc --force %s)",
			    why.msg, kr->name);
		else
			log_warnx("keyring: encryption certificate of %s "
			          "dropped: %s",
			    e->info.name, why.msg);
		entry_clear(e);
	}
	kr->n = j;
	load_roster(kr, c->tls_roster);
	return 0;
}

bool
kr_is_enc_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = len <= JALIN_CERT_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
	EVP_PKEY *k = x != NULL ? X509_get0_pubkey(x) : NULL;
	bool enc = k != NULL && EVP_PKEY_id(k) == EVP_PKEY_X25519;

	X509_free(x);
	ERR_clear_error();
	return enc;
}
