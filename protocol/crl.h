/*
 * crl.h - the federation CA's certificate revocation list, loaded the same
 * way by jalind (for every peer and admin) and by jalinctl (--crl, for the
 * node it asks).
 */
#ifndef JALIN_CRL_H
#define JALIN_CRL_H

#include <openssl/x509.h>

#include "err.h"

/*
 * Add every CRL in the PEM file at path to store and turn on the check of
 * the leaf certificate (a chain from a ministry PKI may lack CRLs for its
 * intermediates, which we do not demand). JALIN_ETLS with err "cannot read
 * CRL 'PATH': WHY" or "CRL 'PATH' holds no certificate revocation list".
 */
int crl_load(X509_STORE *store, const char *path, struct jalin_err *err);

#endif
