/*
 * sig.c - origin signatures (see sig.h and PROTOCOL.md §13).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "sig.h"

#define ELEM_HASHED 255 /* L of an element whose V is a hash */

struct sig_ctx {
	EVP_MD *md;
	EVP_MD_CTX *h;
	EVP_MD_CTX *v; /* for a value's own hash, inside a leaf */
};

struct sig_ctx *
sig_ctx_new(void)
{
	struct sig_ctx *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	x->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	x->h = EVP_MD_CTX_new();
	x->v = EVP_MD_CTX_new();
	if (x->md == NULL || x->h == NULL || x->v == NULL) {
		sig_ctx_free(x);
		return NULL;
	}
	return x;
}

void
sig_ctx_free(struct sig_ctx *x)
{
	if (x == NULL)
		return;
	EVP_MD_CTX_free(x->h);
	EVP_MD_CTX_free(x->v);
	EVP_MD_free(x->md);
	free(x);
}

/* SHA-256 of p[0..n) into out (32 bytes) with hash state h. */
static int
sha(struct sig_ctx *x, EVP_MD_CTX *h, const void *p, size_t n,
    uint8_t out[SIG_DIGEST_LEN])
{
	return EVP_DigestInit_ex(h, x->md, NULL) == 1 &&
	        EVP_DigestUpdate(h, p, n) == 1 &&
	        EVP_DigestFinal_ex(h, out, NULL) == 1
	    ? 0
	    : JALIN_ENOMEM;
}

size_t
sig_element(struct sig_ctx *x, uint16_t tag, const uint8_t *val, uint32_t vlen,
    uint8_t *out)
{
	uint8_t d[SIG_DIGEST_LEN];

	out[0] = (uint8_t)(tag >> 8);
	out[1] = (uint8_t)tag;
	if (vlen <= SIG_INLINE_MAX) {
		out[2] = (uint8_t)vlen;
		memcpy(out + 3, val, vlen);
		return 3 + vlen;
	}
	if (sha(x, x->v, val, vlen, d) != 0)
		return 0;
	out[2] = ELEM_HASHED;
	memcpy(out + 3, d, SIG_LEAF_LEN);
	return 3 + SIG_LEAF_LEN;
}

/* Length of the element at p (n bytes left), 0 if it is cut or bad. */
static size_t
elem_len(const uint8_t *p, size_t n)
{
	size_t len;

	if (n < 3)
		return 0;
	if (p[2] == ELEM_HASHED)
		len = 3 + SIG_LEAF_LEN;
	else if (p[2] <= SIG_INLINE_MAX)
		len = 3 + (size_t)p[2];
	else
		return 0;
	return len <= n ? len : 0;
}

static uint16_t
elem_tag(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Check missing: whole elements, tags strictly increasing, none of a tag
 * that dot d holds in r; *n gets their number, *has0 whether tag 0 is
 * among them. */
static int
check_missing(const struct record *r, uint16_t d, const uint8_t *m, size_t mlen,
    size_t *n, bool *has0, struct jalin_err *err)
{
	size_t off = 0, len;
	int prev = -1;

	*n = 0;
	*has0 = false;
	while (off < mlen) {
		if ((len = elem_len(m + off, mlen - off)) == 0)
			return jalin_err_set(err, JALIN_EPROTO,
			    "proof: missing element %zu is cut or bad", *n);
		uint16_t tag = elem_tag(m + off);
		if ((int)tag <= prev)
			return jalin_err_set(err, JALIN_EPROTO,
			    "proof: missing tags not in order");
		for (uint16_t i = 0; r != NULL && i < r->nentries; i++)
			if (r->entry[i].dot == d && r->entry[i].tag == tag)
				return jalin_err_set(err, JALIN_EPROTO,
				    "proof: tag %u both held and missing", tag);
		*has0 |= tag == 0;
		prev = tag;
		off += len;
		(*n)++;
	}
	return 0;
}

/* The header of a leaf: "jalin-ev1", coll, id, origin, hlc, kind, n. */
static int
leaf_head(struct sig_ctx *x, uint8_t coll, const uint8_t id[16],
    const struct rec_origin *o, uint64_t hlc, enum sig_kind kind, size_t n)
{
	uint8_t h[1 + 16 + 1 + JALIN_NAME_MAX + 8 + 1 + 2], *p = h;

	*p++ = coll;
	memcpy(p, id, 16);
	p += 16;
	*p++ = o->len;
	memcpy(p, o->name, o->len);
	p += o->len;
	for (int i = 7; i >= 0; i--)
		*p++ = (uint8_t)(hlc >> (8 * i));
	*p++ = (uint8_t)kind;
	*p++ = (uint8_t)(n >> 8);
	*p++ = (uint8_t)n;
	return EVP_DigestInit_ex(x->h, x->md, NULL) == 1 &&
	        EVP_DigestUpdate(x->h, "jalin-ev1", 9) == 1 &&
	        EVP_DigestUpdate(x->h, h, (size_t)(p - h)) == 1
	    ? 0
	    : JALIN_ENOMEM;
}

/* Feed the held entries of d with tag below lim (all: lim > 0xffff) from
 * entry *i on, and the missing elements, merged by tag. */
static int
leaf_body(struct sig_ctx *x, const struct record *r, uint16_t d,
    const uint8_t *m, size_t mlen)
{
	uint8_t el[SIG_ELEM_MAX];
	size_t off = 0, i = 0, len;

	for (;;) {
		while (r != NULL && i < r->nentries && r->entry[i].dot != d)
			i++;
		bool have_e = r != NULL && i < r->nentries, have_m = off < mlen;
		if (!have_e && !have_m)
			return 0;
		if (have_e &&
		    (!have_m || r->entry[i].tag < elem_tag(m + off))) {
			const struct rec_entry *e = &r->entry[i++];
			if ((len = sig_element(
			         x, e->tag, e->val, e->vlen, el)) == 0 ||
			    EVP_DigestUpdate(x->h, el, len) != 1)
				return JALIN_ENOMEM;
		} else {
			len = elem_len(m + off, mlen - off);
			if (EVP_DigestUpdate(x->h, m + off, len) != 1)
				return JALIN_ENOMEM;
			off += len;
		}
	}
}

int
sig_leaf(struct sig_ctx *x, uint8_t coll, const uint8_t id[16],
    const struct record *r, uint16_t d, const uint8_t *missing, size_t mlen,
    uint8_t leaf[SIG_LEAF_LEN], struct jalin_err *err)
{
	uint8_t out[SIG_DIGEST_LEN];
	size_t n = 0;
	bool has0;
	int rc;

	if (d >= r->ndots)
		return jalin_err_set(err, JALIN_EINVAL, "proof: no dot %u", d);
	if ((rc = check_missing(r, d, missing, mlen, &n, &has0, err)) != 0)
		return rc;
	for (uint16_t i = 0; i < r->nentries; i++) {
		n += r->entry[i].dot == d;
		has0 |= r->entry[i].dot == d && r->entry[i].tag == 0;
	}
	enum sig_kind kind = rec_is_purged(r) ? SIG_PURGE
	    : has0                            ? SIG_DELETE
	                                      : SIG_WRITE;
	const struct rec_dot *dt = &r->dot[d];
	if (leaf_head(x, coll, id, &r->origin[dt->origin], dt->hlc, kind, n) !=
	        0 ||
	    leaf_body(x, r, d, missing, mlen) != 0 ||
	    EVP_DigestFinal_ex(x->h, out, NULL) != 1)
		return jalin_err_set(
		    err, JALIN_ENOMEM, "proof: SHA-256 failed");
	memcpy(leaf, out, SIG_LEAF_LEN);
	return 0;
}

int
sig_leaf_ghost(struct sig_ctx *x, uint8_t coll, const uint8_t id[16],
    const struct rec_origin *o, uint64_t hlc, const uint8_t *el, size_t elen,
    uint8_t leaf[SIG_LEAF_LEN], struct jalin_err *err)
{
	uint8_t out[SIG_DIGEST_LEN];
	size_t n = 0;
	bool has0;
	int rc;

	if ((rc = check_missing(NULL, 0, el, elen, &n, &has0, err)) != 0)
		return rc;
	if (n == 0)
		return jalin_err_set(
		    err, JALIN_EPROTO, "proof: witness without elements");
	if (leaf_head(x, coll, id, o, hlc, has0 ? SIG_DELETE : SIG_WRITE, n) !=
	        0 ||
	    leaf_body(x, NULL, 0, el, elen) != 0 ||
	    EVP_DigestFinal_ex(x->h, out, NULL) != 1)
		return jalin_err_set(
		    err, JALIN_ENOMEM, "proof: SHA-256 failed");
	memcpy(leaf, out, SIG_LEAF_LEN);
	return 0;
}

int
sig_batch_digest(struct sig_ctx *x, const char *origin, size_t olen,
    uint64_t bno, const uint8_t kid[SIG_KID_LEN], const uint8_t *leaves,
    size_t n, uint8_t out[SIG_DIGEST_LEN])
{
	uint8_t h[1 + JALIN_NAME_MAX + 8 + SIG_KID_LEN + 2], *p = h;

	if (olen == 0 || olen > JALIN_NAME_MAX || n == 0 ||
	    n > JALIN_SIG_BATCH_MAX)
		return JALIN_EINVAL;
	*p++ = (uint8_t)olen;
	memcpy(p, origin, olen);
	p += olen;
	for (int i = 7; i >= 0; i--)
		*p++ = (uint8_t)(bno >> (8 * i));
	memcpy(p, kid, SIG_KID_LEN);
	p += SIG_KID_LEN;
	*p++ = (uint8_t)(n >> 8);
	*p++ = (uint8_t)n;
	return EVP_DigestInit_ex(x->h, x->md, NULL) == 1 &&
	        EVP_DigestUpdate(x->h, "jalin-batch1", 12) == 1 &&
	        EVP_DigestUpdate(x->h, h, (size_t)(p - h)) == 1 &&
	        EVP_DigestUpdate(x->h, leaves, n * SIG_LEAF_LEN) == 1 &&
	        EVP_DigestFinal_ex(x->h, out, NULL) == 1
	    ? 0
	    : JALIN_ENOMEM;
}

int
sig_kid(const EVP_PKEY *key, uint8_t kid[SIG_KID_LEN])
{
	unsigned char *der = NULL;
	uint8_t d[SIG_DIGEST_LEN];
	int n = i2d_PUBKEY(key, &der);

	if (n <= 0)
		return JALIN_EINVAL;
	int ok = EVP_Digest(der, (size_t)n, d, NULL, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (ok != 1)
		return JALIN_ENOMEM;
	memcpy(kid, d, SIG_KID_LEN);
	return 0;
}

int
sig_sign(EVP_PKEY *key, const uint8_t digest[SIG_DIGEST_LEN],
    uint8_t sig[SIG_MAX_LEN], size_t *len, struct jalin_err *err)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	size_t n = SIG_MAX_LEN;
	int ok;

	ok = c != NULL && EVP_PKEY_sign_init(c) == 1 &&
	    EVP_PKEY_sign(c, sig, &n, digest, SIG_DIGEST_LEN) == 1;
	EVP_PKEY_CTX_free(c);
	if (!ok)
		return jalin_err_set(err, JALIN_ETLS,
		    "cannot sign with the node's key (an EC P-256 key is "
		    "needed)");
	*len = n;
	return 0;
}

int
sig_verify(EVP_PKEY *key, const uint8_t digest[SIG_DIGEST_LEN],
    const uint8_t *sig, size_t len, struct jalin_err *err)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	int ok;

	ok = c != NULL && EVP_PKEY_verify_init(c) == 1 &&
	    EVP_PKEY_verify(c, sig, len, digest, SIG_DIGEST_LEN) == 1;
	EVP_PKEY_CTX_free(c);
	if (!ok)
		return jalin_err_set(
		    err, JALIN_EPERM, "batch signature does not verify");
	return 0;
}
