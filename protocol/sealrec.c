/*
 * sealrec.c - a node reading the sealed S! fields of records (sealrec.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "limits.h"
#include "mp.h"
#include "sealrec.h"

struct srec {
	char node[JALIN_NAME_MAX + 1];
	size_t nlen;
	EVP_PKEY *priv;
	struct seal_ctx *x;
	EVP_MD_CTX *md;
	/* the last record whose keys were asked for */
	bool cached;
	uint8_t coll;
	uint8_t id[16];
	uint8_t keys_hash[SHA256_DIGEST_LENGTH];
	struct seal_key keys[1 + SEAL_CHAIN_MAX];
	size_t nkeys;
};

struct srec *
srec_new(const char *node, EVP_PKEY *priv)
{
	struct srec *s;
	size_t n = strlen(node);

	if (n > JALIN_NAME_MAX || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->x = seal_ctx_new();
	s->md = EVP_MD_CTX_new();
	if (s->x == NULL || s->md == NULL) {
		seal_ctx_free(s->x);
		EVP_MD_CTX_free(s->md);
		free(s);
		return NULL;
	}
	memcpy(s->node, node, n);
	s->nlen = n;
	s->priv = priv;
	return s;
}

static void
forget(struct srec *s)
{
	for (size_t i = 0; i < s->nkeys; i++)
		seal_key_wipe(&s->keys[i]);
	s->nkeys = 0;
	s->cached = false;
}

void
srec_free(struct srec *s)
{
	if (s == NULL)
		return;
	forget(s);
	seal_ctx_free(s->x);
	EVP_MD_CTX_free(s->md);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

static bool
ext_body(const uint8_t *v, uint32_t vlen, int8_t want, const uint8_t **body,
    uint32_t *blen)
{
	struct mpr m;
	int8_t type;

	mpr_init(&m, v, vlen);
	return vlen > 0 && mpr_peek(&m) == MP_EXT &&
	    mpr_ext(&m, &type, body, blen) == 0 && type == want &&
	    mpr_left(&m) == 0;
}

bool
srec_sealed_body(
    const uint8_t *v, uint32_t vlen, const uint8_t **body, uint32_t *blen)
{
	return ext_body(v, vlen, REC_SEALED_EXT, body, blen);
}

bool
srec_keys_body(
    const uint8_t *v, uint32_t vlen, const uint8_t **body, uint32_t *blen)
{
	return ext_body(v, vlen, REC_KEYS_EXT, body, blen);
}

bool
srec_rec_sealed(const struct record *r)
{
	const uint8_t *body;
	uint32_t blen;

	for (uint16_t i = 0; i < r->nentries; i++) {
		const struct rec_entry *e = &r->entry[i];
		if (srec_sealed_body(e->val, e->vlen, &body, &blen) ||
		    srec_keys_body(e->val, e->vlen, &body, &blen))
			return true;
	}
	return false;
}

bool
srec_coll_sealed(const struct schema_coll *c)
{
	return c != NULL && c->scope == SCOPE_SCOPED;
}

bool
srec_field_sealed(const struct schema_coll *c, const struct schema_field *f)
{
	return srec_coll_sealed(c) && f != NULL && f->cls >= CLS_U &&
	    !(f->flags & SF_SYSTEM);
}

/* The hash of every keys value of r (the winner first): what the cache is
 * keyed by. false if r has none. */
static bool
keys_hash(EVP_MD_CTX *md, const struct record *r, size_t *a, size_t *b,
    size_t *w, uint8_t h[SHA256_DIGEST_LENGTH])
{
	if (rec_field(r, TAG_KEYS, a, b) == 0)
		return false;
	*w = rec_winner(r, *a, *b);
	const struct rec_entry *e = &r->entry[*w];
	if (e->vlen == 1 && e->val[0] == 0xc0)
		return false;
	bool ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, e->val, e->vlen) == 1;
	for (size_t i = *a; ok && i < *b; i++)
		if (i != *w)
			ok = EVP_DigestUpdate(
			         md, r->entry[i].val, r->entry[i].vlen) == 1;
	return ok && EVP_DigestFinal_ex(md, h, NULL) == 1;
}

static bool
have_kid(const struct srec *s, const uint8_t kid[SEAL_KID_LEN])
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (memcmp(s->keys[i].kid, kid, SEAL_KID_LEN) == 0)
			return true;
	return false;
}

/*
 * Add the keys of one keys value (its current key first, then its chain)
 * that s does not hold yet. A value without a wrap for s adds nothing.
 */
static int
add_keys(struct srec *s, const struct seal_where *w, const struct rec_entry *e,
    struct jalin_err *err)
{
	struct seal_key got[1 + SEAL_CHAIN_MAX];
	const uint8_t *body;
	uint32_t blen;
	size_t n = 0;
	int rc;

	if (e->vlen == 1 && e->val[0] == 0xc0)
		return 0;
	if (!srec_keys_body(e->val, e->vlen, &body, &blen))
		return jalin_err_set(
		    err, JALIN_EPROTO, "keys: not a keys value");
	rc = seal_keys_open(s->x, w, body, blen, s->node, s->nlen, s->priv, got,
	    1 + SEAL_CHAIN_MAX, &n, err);
	if (rc == JALIN_ENOTFOUND)
		return 0; /* not a reader of this one */
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!have_kid(s, got[i].kid) && s->nkeys < 1 + SEAL_CHAIN_MAX)
			s->keys[s->nkeys++] = got[i];
	}
	for (size_t i = 0; i < n; i++)
		seal_key_wipe(&got[i]);
	return rc;
}

int
srec_keys(struct srec *s, const struct schema_coll *c, const uint8_t id[16],
    const struct record *r, const struct seal_key **keys, size_t *n,
    struct jalin_err *err)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	size_t a, b, w;
	int rc = 0;

	*keys = s->keys;
	*n = 0;
	if (s->priv == NULL || !keys_hash(s->md, r, &a, &b, &w, h))
		return 0;
	if (s->cached && s->coll == c->id && memcmp(s->id, id, 16) == 0 &&
	    memcmp(s->keys_hash, h, sizeof(h)) == 0) {
		*n = s->nkeys;
		return 0;
	}
	forget(s);
	/* the winner's keys first; those of values written concurrently
	 * (a conflict on keys) after them, so no key is ever lost */
	const struct seal_where wh = {c->id, id, 0};
	rc = add_keys(s, &wh, &r->entry[w], err);
	for (size_t i = a; rc == 0 && i < b; i++)
		if (i != w)
			rc = add_keys(s, &wh, &r->entry[i], err);
	if (rc != 0) {
		forget(s);
		return rc;
	}
	s->cached = true;
	s->coll = c->id;
	memcpy(s->id, id, 16);
	memcpy(s->keys_hash, h, sizeof(h));
	*n = s->nkeys;
	return 0;
}

void
srec_prime(struct srec *s, const struct schema_coll *c, const uint8_t id[16],
    const uint8_t *kv, uint32_t kvlen, const struct seal_key *keys, size_t n)
{
	forget(s);
	if (n > 1 + SEAL_CHAIN_MAX ||
	    EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(s->md, kv, kvlen) != 1 ||
	    EVP_DigestFinal_ex(s->md, s->keys_hash, NULL) != 1)
		return;
	memcpy(s->keys, keys, n * sizeof(*keys));
	s->nkeys = n;
	s->cached = true;
	s->coll = c->id;
	memcpy(s->id, id, 16);
}

int
srec_open(struct srec *s, const struct schema_coll *c, const uint8_t id[16],
    const struct record *r, uint16_t tag, const uint8_t *v, uint32_t vlen,
    struct buf *plain, struct jalin_err *err)
{
	const struct seal_key *keys;
	const uint8_t *body;
	uint32_t blen;
	size_t n;
	int rc;

	if (!srec_sealed_body(v, vlen, &body, &blen))
		return jalin_err_set(
		    err, JALIN_EPROTO, "%s: not a sealed value", c->name);
	if ((rc = srec_keys(s, c, id, r, &keys, &n, err)) != 0)
		return rc;
	if (n == 0)
		return jalin_err_set(err, JALIN_ENOTFOUND,
		    "%s: this node holds no key of the record", c->name);
	const struct seal_where w = {c->id, id, tag};
	return seal_open(s->x, keys, n, &w, body, blen, plain, err);
}

static int
view_open_fn(void *arg, const struct schema_coll *c, const uint8_t id[16],
    const struct record *r, uint16_t tag, const uint8_t *v, uint32_t vlen,
    struct buf *plain)
{
	return srec_open(arg, c, id, r, tag, v, vlen, plain, NULL);
}

void
srec_view(struct srec *s, struct view_open *op)
{
	op->open = s != NULL ? view_open_fn : NULL;
	op->arg = s;
}
