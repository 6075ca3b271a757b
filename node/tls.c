/*
 * tls.c - OpenSSL context for peer and remote-admin connections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "limits.h"
#include "tls.h"

/* ALPN's wire form: a length byte, then the name. */
#define ALPN_LEN (sizeof(JALIN_ALPN) - 1)
_Static_assert(ALPN_LEN == 7, "the length byte of alpn_wire");
static const unsigned char alpn_wire[] = "\x07" JALIN_ALPN;
#define ALPN_WIRE_LEN (sizeof(alpn_wire) - 1)

struct tls {
	SSL_CTX *ctx;
};

static const char *
ossl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, n, "unknown reason");
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

static int
fail(struct jalin_err *err, const char *what, const char *path)
{
	char why[256];

	return jalin_err_set(err, JALIN_ETLS, "%s '%s': %s", what, path,
	    ossl_reason(why, sizeof(why)));
}

/* Server side of ALPN: JALIN_ALPN or a fatal no_application_protocol. */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	for (unsigned int i = 0; i < inlen; i += 1u + in[i]) {
		if (in[i] == ALPN_LEN && i + 1 + ALPN_LEN <= inlen &&
		    memcmp(in + i + 1, JALIN_ALPN, ALPN_LEN) == 0) {
			*out = in + i + 1;
			*outlen = ALPN_LEN;
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* The node's own certificate must carry its name. */
static int
check_own_cn(SSL_CTX *ctx, const struct cfg *c, struct jalin_err *err)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	char cn[JALIN_ADMIN_NAME_MAX + 1] = "";

	if (x == NULL ||
	    X509_NAME_get_text_by_NID(
	        X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) < 0)
		return jalin_err_set(err, JALIN_ETLS,
		    "certificate '%s' has no subject CN", c->tls_cert);
	if (strcmp(cn, c->name) != 0)
		return jalin_err_set(err, JALIN_ETLS,
		    "certificate '%s' is for '%s', but [node] name is '%s'",
		    c->tls_cert, cn, c->name);
	return 0;
}

static int
load_files(SSL_CTX *ctx, const struct cfg *c, struct jalin_err *err)
{
	int rc;

	if (SSL_CTX_load_verify_locations(ctx, c->tls_ca, NULL) != 1)
		return fail(err, "cannot load CA", c->tls_ca);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1)
		return fail(err, "cannot load certificate", c->tls_cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM) != 1)
		return fail(err, "cannot load private key", c->tls_key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return fail(
		    err, "private key does not match certificate", c->tls_key);
	if ((rc = check_own_cn(ctx, c, err)) != 0)
		return rc;
	if (c->tls_crl[0] != '\0')
		return crl_load(SSL_CTX_get_cert_store(ctx), c->tls_crl, err);
	return 0;
}

static void
set_policy(SSL_CTX *ctx)
{
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(
	    ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
}

int
tls_new(const struct cfg *c, struct tls **out, struct jalin_err *err)
{
	struct tls *t;
	int rc;

	*out = NULL;
	if (c->tls_ca[0] == '\0' || c->tls_cert[0] == '\0' ||
	    c->tls_key[0] == '\0')
		return jalin_err_set(err, JALIN_ECONFIG,
		    "%s: [tls] ca, cert and key must be set to run a node",
		    c->path);
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->ctx = SSL_CTX_new(TLS_method())) == NULL) {
		free(t);
		return jalin_err_set(err, JALIN_ENOMEM, "TLS: out of memory");
	}
	set_policy(t->ctx);
	if ((rc = load_files(t->ctx, c, err)) != 0) {
		tls_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int
tls_check_cert(
    struct tls *t, X509 *x, char *cn, size_t n, struct jalin_err *err)
{
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	int ok = 0, len;

	if (sc != NULL &&
	    X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(t->ctx), x, NULL))
		ok = X509_verify_cert(sc) == 1;
	if (!ok)
		jalin_err_set(err, JALIN_ETLS, "certificate refused: %s",
		    sc != NULL ? X509_verify_cert_error_string(
		                     X509_STORE_CTX_get_error(sc))
		               : "out of memory");
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	if (!ok)
		return JALIN_ETLS;
	len = X509_NAME_get_text_by_NID(
	    X509_get_subject_name(x), NID_commonName, cn, (int)n);
	if (len <= 0 || (size_t)len >= n || memchr(cn, '\0', (size_t)len) ||
	    strncmp(cn, "admin:", 6) == 0)
		return jalin_err_set(err, JALIN_ETLS,
		    "certificate is not a node's (no usable CN, or admin:)");
	return 0;
}

X509 *
tls_own_cert(struct tls *t)
{
	return SSL_CTX_get0_certificate(t->ctx);
}

EVP_PKEY *
tls_key(struct tls *t)
{
	return SSL_CTX_get0_privatekey(t->ctx);
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

SSL *
tls_ssl(struct tls *t, bool client)
{
	SSL *ssl = SSL_new(t->ctx);

	if (ssl == NULL)
		return NULL;
	if (client && SSL_set_alpn_protos(ssl, alpn_wire, ALPN_WIRE_LEN) != 0) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

int
tls_identity(SSL *ssl, char *cn, size_t n, struct jalin_err *err)
{
	const unsigned char *proto;
	unsigned int plen;
	X509 *x;
	long vr = SSL_get_verify_result(ssl);
	int len;

	if (vr != X509_V_OK)
		return jalin_err_set(err, JALIN_ETLS, "certificate refused: %s",
		    X509_verify_cert_error_string(vr));
	SSL_get0_alpn_selected(ssl, &proto, &plen);
	if (plen != ALPN_LEN || memcmp(proto, JALIN_ALPN, ALPN_LEN) != 0)
		return jalin_err_set(
		    err, JALIN_ETLS, "no ALPN protocol " JALIN_ALPN " agreed");
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL)
		return jalin_err_set(err, JALIN_ETLS, "no peer certificate");
	len = X509_NAME_get_text_by_NID(
	    X509_get_subject_name(x), NID_commonName, cn, (int)n);
	if (len <= 0 || (size_t)len >= n || memchr(cn, '\0', (size_t)len))
		return jalin_err_set(err, JALIN_ETLS,
		    "peer certificate has no usable subject CN");
	return 0;
}

int
tls_recheck(struct tls *t, SSL *ssl, struct jalin_err *err)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	int ok = 0;

	if (x == NULL || sc == NULL) {
		X509_STORE_CTX_free(sc);
		return jalin_err_set(err, JALIN_ETLS, "no peer certificate");
	}
	if (X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(t->ctx), x, chain))
		ok = X509_verify_cert(sc) == 1;
	if (!ok)
		jalin_err_set(err, JALIN_ETLS, "certificate refused: %s",
		    X509_verify_cert_error_string(
		        X509_STORE_CTX_get_error(sc)));
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	return ok ? 0 : JALIN_ETLS;
}

uint64_t
tls_peer_expiry_ms(SSL *ssl)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	struct tm tm;

	if (x == NULL || ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return 0;
	return (uint64_t)timegm(&tm) * 1000;
}

const char *
tls_failure(SSL *ssl, unsigned long sslerr, char *buf, size_t n)
{
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (vr != X509_V_OK) {
		snprintf(buf, n, "certificate refused: %s",
		    X509_verify_cert_error_string(vr));
	} else if (sslerr != 0 && ERR_GET_LIB(sslerr) == ERR_LIB_SYS) {
		snprintf(buf, n, "%s", strerror(ERR_GET_REASON(sslerr)));
	} else if (sslerr != 0) {
		char e[200];
		ERR_error_string_n(sslerr, e, sizeof(e));
		snprintf(buf, n, "TLS handshake failed: %s", e);
	} else {
		snprintf(buf, n, "connection closed during the TLS handshake");
	}
	ERR_clear_error();
	return buf;
}
