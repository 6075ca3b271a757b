/*
 * crl.c - load the CA's CRL into an OpenSSL certificate store (crl.h).
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "crl.h"

int
crl_load(X509_STORE *store, const char *path, struct jalin_err *err)
{
	X509_CRL *crl;
	int n = 0;
	BIO *bio;

	errno = 0;
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		return jalin_err_set(err, JALIN_ETLS,
		    "cannot read CRL '%s': %s", path,
		    errno != 0 ? strerror(errno) : "cannot open it");
	}
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		X509_STORE_add_crl(store, crl);
		X509_CRL_free(crl);
		n++;
	}
	BIO_free(bio);
	ERR_clear_error(); /* the read that ended the loop */
	if (n == 0)
		return jalin_err_set(err, JALIN_ETLS,
		    "CRL '%s' holds no certificate revocation list", path);
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	return 0;
}
