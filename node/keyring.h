/*
 * keyring.h - the nodes' encryption keys (issue 14: S! fields are sealed
 * to the nodes that may read them, protocol/seal.h).
 *
 * Each node has an X25519 key pair of its own, apart from its TLS key,
 * with a certificate from the federation CA (certs/jalin-ca writes
 * NAME.enc.key and NAME.enc.pem): subject CN = the node's name, an X25519
 * public key, keyUsage keyAgreement and extendedKeyUsage KR_ENC_OID alone
 * (the marker: no TLS stack takes it for serverAuth or clientAuth).
 *
 * The ring holds this node's key pair ([tls] enc_key, enc_cert), and the
 * encryption certificates of other nodes: from the roster ([tls] roster,
 * jalin-ca roster: a PEM bundle, each certificate trusted through the
 * CA's signature on it) and from peers (CERT messages, PROTOCOL.md
 * §13.3.1), these kept in the store (database enccerts: name -> DER) so
 * they survive a restart. Every certificate is checked against the CA and
 * the CRL ([tls] ca, crl) when it comes in and again on SIGHUP
 * (kr_recheck). One certificate per node name: of two, the one with the
 * later notBefore (a rotated key) wins; this node's own always wins for
 * its own name.
 *
 * A key id (kid) is the first 8 bytes of SHA-256 of the raw 32-byte X25519
 * public key.
 */
#ifndef JALIN_KEYRING_H
#define JALIN_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "config.h"
#include "err.h"
#include "limits.h"
#include "store.h"

/* The marker of an encryption certificate (certs/jalin-ca ENC_OID): an
 * OID made from a UUID (ITU-T X.667). */
#define KR_ENC_OID "2.25.313918279293791988697213161871281793685"
#define KR_KID_LEN 8

struct keyring;

/* Where the ring got a certificate. */
enum kr_source {
	KR_OWN = 0, /* [tls] enc_cert */
	KR_ROSTER,  /* [tls] roster */
	KR_PEER,    /* a CERT message, or the store where one was kept */
};

/* One known certificate (kr_at). Owned by the ring: valid until the next
 * kr_learn, kr_recheck or kr_free. */
struct kr_info {
	char name[JALIN_NAME_MAX + 1]; /* its CN: the node's name */
	uint8_t kid[KR_KID_LEN];
	enum kr_source source;
	int64_t not_before, not_after; /* Unix seconds */
	const uint8_t *der;            /* the certificate, DER */
	size_t derlen;
};

/*
 * The first collection with S! fields (protocol/schema.h CLS_SX) this
 * node holds ("case"), or NULL: a collection is held when a [peer] shares
 * it, or when no peer is configured (local writes of every collection).
 */
const char *kr_needed(const struct cfg *c);

/*
 * Load the ring: this node's key and certificate, the roster, and what
 * the store s kept (s may be NULL: nothing kept, nothing persisted).
 * Needs [tls] ca. This node's key pair must be usable (a readable X25519
 * key; its certificate signed by the CA, not revoked, CN = [node] name,
 * the marker, the key's public half) when kr_needed(c) is not NULL:
 * else JALIN_ECONFIG (a missing file) or JALIN_ETLS with err naming the
 * file and why, and nothing is returned. When it is not needed, a
 * missing or bad key pair is logged (if files were named) and the ring
 * goes on without one. A bad roster entry or kept certificate is skipped
 * with one log line, never fatal. On success *out is the ring (kr_free).
 * err must not be NULL (here and in kr_learn, kr_recheck).
 */
int kr_open(const struct cfg *c, struct store *s, struct keyring **out,
    struct jalin_err *err);

/* Free; NULL is a no-op. The private key is freed (OpenSSL clears it). */
void kr_free(struct keyring *kr);

/* This node's private key, NULL without one. Owned by the ring. */
EVP_PKEY *kr_self(const struct keyring *kr);

/*
 * The public key of node name[0..len) (this node's own included), NULL
 * when unknown or revoked. Owned by the ring: valid until the next
 * kr_learn, kr_recheck or kr_free.
 */
EVP_PKEY *kr_pub(const struct keyring *kr, const char *name, size_t len);

/*
 * A certificate from a peer, der[0..len): checked as kr_open checks the
 * roster (the CA, the CRL, an X25519 key, the marker, a node name as CN),
 * then kept and written to the store when it is new for its name or has a
 * later notBefore than the one held (else nothing changes). A certificate
 * for this node's own name is ignored (its own key pair wins). 1: kept
 * (new: to be passed on); 0: nothing changed (known, older, or our own
 * name); JALIN_EPROTO (not one DER certificate), JALIN_ETLS (it fails a
 * check), JALIN_ETOOBIG (the ring holds JALIN_ENC_CERTS_MAX names), or the
 * store's error, with err saying why ("certificate of 'CN' refused:
 * certificate revoked": CN as it claims, "?" when it is no name).
 */
int kr_learn(
    struct keyring *kr, const uint8_t *der, size_t len, struct jalin_err *err);

/* Number of known certificates, and the i-th of them in name order
 * (i < kr_count; NULL past the end): the iterator for sending and
 * listing. */
size_t kr_count(const struct keyring *kr);
const struct kr_info *kr_at(const struct keyring *kr, size_t i);

/*
 * After a reload (SIGHUP): take c's CA and CRL, check every certificate
 * again and drop (one log line each) those that no longer pass, this
 * node's own included (logged as an error: it can no longer be sent new
 * keys). The roster file is read again. 0, or the error loading the CA or
 * CRL (the ring is then unchanged).
 */
int kr_recheck(struct keyring *kr, const struct cfg *c, struct jalin_err *err);

/*
 * True if der[0..len) is a certificate of an X25519 key: an encryption
 * certificate, for kr_learn, not a signing one (how a CERT message is
 * routed, PROTOCOL.md §13.3.1).
 */
bool kr_is_enc_der(const uint8_t *der, size_t len);

#endif
