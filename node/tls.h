/*
 * tls.h - the node's TLS context (DESIGN.md §4).
 *
 * TLS 1.3 only; both sides present a certificate that must chain to the
 * configured federation CA and not be revoked by the configured CRL; the
 * ALPN protocol must be "jalin/1"; no session resumption (a revoked peer
 * must do a full handshake). Any standard X.509 chain to the CA works: made
 * by certs/jalin-ca, by plain openssl, or by a ministry's own PKI.
 *
 * A reload (SIGHUP) builds a new context; connections keep the one they
 * were made with (OpenSSL reference-counts it).
 */
#ifndef JALIN_TLS_H
#define JALIN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "config.h"
#include "err.h"

struct tls;

/*
 * Load CA, certificate, key and CRL named in c. The certificate's CN must
 * be the node's name. Errors name the file and the reason.
 */
int tls_new(const struct cfg *c, struct tls **out, struct jalin_err *err);

/*
 * Check certificate x as a node's (PROTOCOL.md §13: the CERT of an origin):
 * chained to the federation CA, not revoked, a node name as CN (not
 * admin:NAME), copied to cn (n bytes). 0 or JALIN_ETLS with err.
 */
int tls_check_cert(
    struct tls *t, X509 *x, char *cn, size_t n, struct jalin_err *err);

/* The node's own certificate (owned by t). */
X509 *tls_own_cert(struct tls *t);

/* The node's private key (owned by t). */
EVP_PKEY *tls_key(struct tls *t);

/* Free; NULL is a no-op. Connections made from it keep working. */
void tls_free(struct tls *t);

/* A new SSL object for one connection; NULL when out of memory. */
SSL *tls_ssl(struct tls *t, bool client);

/*
 * After the handshake: the peer's certificate verified, ALPN is jalin/1;
 * copy the certificate's subject CN to cn. JALIN_ETLS with err otherwise.
 */
int tls_identity(SSL *ssl, char *cn, size_t n, struct jalin_err *err);

/*
 * Verify the peer certificate of an established connection again, against
 * t's CA and CRL (after a reload). JALIN_ETLS with the reason if it no
 * longer passes (e.g. "certificate revoked").
 */
int tls_recheck(struct tls *t, SSL *ssl, struct jalin_err *err);

/* notAfter of the peer's certificate, ms since the epoch (0: unknown). */
uint64_t tls_peer_expiry_ms(SSL *ssl);

/*
 * Why a handshake failed, from the OpenSSL error queue and the SSL's verify
 * result ("certificate revoked", "unsupported protocol", ...). Clears the
 * error queue.
 */
const char *tls_failure(SSL *ssl, unsigned long sslerr, char *buf, size_t n);

#endif
