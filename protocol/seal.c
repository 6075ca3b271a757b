/*
 * seal.c - envelope encryption of S! field values (see seal.h and
 * PROTOCOL.md §14).
 *
 * Every body here comes from a peer or a store that may be hostile: each
 * length is checked against the bytes left before it is read, and a body
 * is parsed whole (keys_parse) before anything in it is used. Keys and
 * derived secrets live on the stack only as long as they are needed and
 * are wiped with OPENSSL_cleanse on every path out; only the secrets of a
 * shared ephemeral key (seal_ctx_eph_reuse) stay in struct seal_ctx, and
 * the cipher contexts keep the last key schedule until the next call.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "record.h"
#include "seal.h"

/* Domain strings: the associated data of a value and of a chain, the HKDF
 * info of a wrap. Each names what it protects, so no ciphertext of one kind
 * opens as another. */
#define AD_VALUE    "jalin seal 1"
#define AD_CHAIN    "jalin chain 1"
#define INFO_WRAP   "jalin wrap 1"
#define LIT_LEN(s)  (sizeof(s) - 1)
#define ENTRY_LEN   (SEAL_KID_LEN + SEAL_DK_LEN) /* one key of the chain */
#define KEYS_HEAD   (1 + SEAL_KID_LEN + SEAL_PUB_LEN + 1)   /* up to n */
#define KEYS_MIN    (KEYS_HEAD + 1 + 1 + SEAL_WRAP_LEN + 1) /* 1 wrap */
#define SECRET_LEN  32                                      /* X25519, KEK */
#define EXT_HDR_MAX 6
#define NONCE_POOL  (340 * SEAL_NONCE_LEN) /* struct nonces: one page */

/* Nonce of a wrap: its key (the KEK) seals one data key only (its HKDF
 * info binds the record, the kid and the recipient's name, and the
 * ephemeral key is fresh), so one fixed nonce is safe. */
static const uint8_t zero_nonce[SEAL_NONCE_LEN];

struct seal_ctx {
	EVP_CIPHER *gcm;
	EVP_CIPHER_CTX *enc; /* AES-256-GCM set up once; re-keyed per call */
	EVP_CIPHER_CTX *dec;
	EVP_KDF_CTX *kdf;    /* HKDF-SHA256; its key zeroed after each use */
	struct nonces *pool; /* NULL: RAND_bytes for each nonce */
	/* seal_ctx_eph_reuse: the ephemeral key shared by the next eph_left
	 * keys values, and the X25519 secrets with it of up to
	 * SEAL_WRAPS_MAX recipient keys */
	unsigned eph_uses;
	unsigned eph_left;
	EVP_PKEY *eph;
	unsigned nsec;
	struct {
		uint8_t pub[SEAL_PUB_LEN];
		uint8_t s[SECRET_LEN];
	} sec[SEAL_WRAPS_MAX];
};

/*
 * Nonces: RAND_bytes costs ~2 us a call whatever its size, five times a
 * value's AES-GCM, so nonces are drawn 340 at once. They are public, so
 * the pool is no secret; but no nonce may be used twice under a key, and
 * a forked child would share its parent's pool: the pool lives in a page
 * the kernel zeroes in the child (MADV_WIPEONFORK, Linux 4.14), where
 * filled then reads 0. Checking getpid() instead costs a system call per
 * value, as much as the RAND_bytes it saves.
 */
struct nonces {
	uint8_t bytes[NONCE_POOL];
	uint32_t used;
	uint32_t filled;
};
_Static_assert(sizeof(struct nonces) <= 4096, "the pool fits a page");

/* A keys body, parsed and checked (keys_parse); pointers into it. */
struct keys_view {
	const uint8_t *kid;   /* SEAL_KID_LEN */
	const uint8_t *eph;   /* SEAL_PUB_LEN */
	const uint8_t *wraps; /* n x ([1 len][name][48 wrap]) */
	size_t wlen;
	unsigned n;
	unsigned m;
	const uint8_t *chain; /* nonce, entries, tag; NULL when m == 0 */
};

/* HKDF-SHA256, set once: wrap_key passes the rest at each call. */
static int
kdf_init(EVP_KDF_CTX *kdf)
{
	char md[] = "SHA256";
	OSSL_PARAM pa[2];

	pa[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md, 0);
	pa[1] = OSSL_PARAM_construct_end();
	return EVP_KDF_CTX_set_params(kdf, pa) == 1 ? 0 : -1;
}

/* Forget the shared ephemeral key and the secrets made with it. */
static void
eph_drop(struct seal_ctx *x)
{
	EVP_PKEY_free(x->eph); /* the provider clears the private key */
	x->eph = NULL;
	x->eph_left = 0;
	OPENSSL_cleanse(x->sec, sizeof(x->sec));
	x->nsec = 0;
}

/* A pool in a page of its own, wiped in a forked child; NULL where the
 * kernel cannot do that. */
static struct nonces *
pool_new(void)
{
#ifdef MADV_WIPEONFORK
	void *p = mmap(NULL, sizeof(struct nonces), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, sizeof(struct nonces), MADV_WIPEONFORK) != 0) {
		munmap(p, sizeof(struct nonces));
		return NULL;
	}
	return p;
#else
	return NULL;
#endif
}

struct seal_ctx *
seal_ctx_new(void)
{
	struct seal_ctx *x = calloc(1, sizeof(*x));
	EVP_KDF *kdf;

	if (x == NULL)
		return NULL;
	x->pool = pool_new();
	x->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	x->enc = EVP_CIPHER_CTX_new();
	x->dec = EVP_CIPHER_CTX_new();
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	x->kdf = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (x->gcm == NULL || x->enc == NULL || x->dec == NULL ||
	    x->kdf == NULL ||
	    EVP_EncryptInit_ex2(x->enc, x->gcm, NULL, NULL, NULL) != 1 ||
	    EVP_DecryptInit_ex2(x->dec, x->gcm, NULL, NULL, NULL) != 1 ||
	    kdf_init(x->kdf) != 0) {
		seal_ctx_free(x);
		return NULL;
	}
	return x;
}

void
seal_ctx_free(struct seal_ctx *x)
{
	if (x == NULL)
		return;
	/* the cipher contexts hold the last key schedule: freeing them
	 * clears it */
	EVP_CIPHER_CTX_free(x->enc);
	EVP_CIPHER_CTX_free(x->dec);
	EVP_KDF_CTX_free(x->kdf);
	EVP_CIPHER_free(x->gcm);
	eph_drop(x);
	if (x->pool != NULL)
		munmap(x->pool, sizeof(*x->pool));
	free(x);
}

int
seal_key_new(struct seal_key *k)
{
	if (RAND_bytes(k->kid, SEAL_KID_LEN) != 1 ||
	    RAND_bytes(k->dk, SEAL_DK_LEN) != 1) {
		seal_key_wipe(k);
		return JALIN_ENOMEM;
	}
	return 0;
}

void
seal_key_wipe(struct seal_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* A fresh random nonce; -1 when there is no randomness. */
static int
nonce_new(struct seal_ctx *x, uint8_t out[SEAL_NONCE_LEN])
{
	struct nonces *p = x->pool;

	if (p == NULL)
		return RAND_bytes(out, SEAL_NONCE_LEN) == 1 ? 0 : -1;
	if (!p->filled || p->used + SEAL_NONCE_LEN > NONCE_POOL) {
		if (RAND_bytes(p->bytes, NONCE_POOL) != 1)
			return -1;
		p->used = 0;
		p->filled = 1;
	}
	memcpy(out, p->bytes + p->used, SEAL_NONCE_LEN);
	p->used += SEAL_NONCE_LEN;
	return 0;
}

/* Smallest msgpack ext header for dlen body bytes. Bodies here are never
 * 1, 2, 4, 8 or 16 bytes (the fixext sizes): the shortest is a sealed
 * value, SEAL_OVERHEAD + 1 = 38 bytes. */
static size_t
ext_hdr(uint8_t h[EXT_HDR_MAX], size_t dlen, int8_t type)
{
	size_t n;

	if (dlen <= 0xff) {
		h[0] = 0xc7;
		h[1] = (uint8_t)dlen;
		n = 2;
	} else if (dlen <= 0xffff) {
		h[0] = 0xc8;
		h[1] = (uint8_t)(dlen >> 8);
		h[2] = (uint8_t)dlen;
		n = 3;
	} else {
		h[0] = 0xc9;
		for (int i = 0; i < 4; i++)
			h[1 + i] = (uint8_t)(dlen >> (24 - 8 * i));
		n = 5;
	}
	h[n] = (uint8_t)type;
	return n + 1;
}

/* AES-256-GCM: n bytes of in sealed into out and tag. */
static int
gcm_seal(EVP_CIPHER_CTX *c, const uint8_t key[SEAL_DK_LEN],
    const uint8_t nonce[SEAL_NONCE_LEN], const uint8_t *ad, size_t alen,
    const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[SEAL_TAG_LEN])
{
	int l;

	return EVP_EncryptInit_ex2(c, NULL, key, nonce, NULL) == 1 &&
	        EVP_EncryptUpdate(c, NULL, &l, ad, (int)alen) == 1 &&
	        EVP_EncryptUpdate(c, out, &l, in, (int)n) == 1 &&
	        EVP_EncryptFinal_ex(c, out + l, &l) == 1 &&
	        EVP_CIPHER_CTX_ctrl(
	            c, EVP_CTRL_AEAD_GET_TAG, SEAL_TAG_LEN, tag) == 1
	    ? 0
	    : JALIN_ENOMEM;
}

/* AES-256-GCM open: 0, or -1 when the tag does not check (out may hold
 * unauthenticated bytes then: the caller wipes them). */
static int
gcm_open(EVP_CIPHER_CTX *c, const uint8_t key[SEAL_DK_LEN],
    const uint8_t nonce[SEAL_NONCE_LEN], const uint8_t *ad, size_t alen,
    const uint8_t *in, size_t n, const uint8_t tag[SEAL_TAG_LEN], uint8_t *out)
{
	uint8_t t[SEAL_TAG_LEN];
	int l;

	memcpy(t, tag, SEAL_TAG_LEN); /* the ctrl takes a non-const pointer */
	return EVP_DecryptInit_ex2(c, NULL, key, nonce, NULL) == 1 &&
	        EVP_DecryptUpdate(c, NULL, &l, ad, (int)alen) == 1 &&
	        EVP_DecryptUpdate(c, out, &l, in, (int)n) == 1 &&
	        EVP_CIPHER_CTX_ctrl(
	            c, EVP_CTRL_AEAD_SET_TAG, SEAL_TAG_LEN, t) == 1 &&
	        EVP_DecryptFinal_ex(c, out + l, &l) == 1
	    ? 0
	    : -1;
}

/* --- sealed values --------------------------------------------------- */

#define VALUE_AD_LEN (LIT_LEN(AD_VALUE) + 1 + 16 + 2 + 1 + SEAL_KID_LEN)

/* Associated data of a value: AD_VALUE, coll, id, tag (big-endian), then
 * the body's version and kid. */
static void
value_ad(
    uint8_t ad[VALUE_AD_LEN], const struct seal_where *w, const uint8_t *body)
{
	uint8_t *p = ad;

	memcpy(p, AD_VALUE, LIT_LEN(AD_VALUE));
	p += LIT_LEN(AD_VALUE);
	*p++ = w->coll;
	memcpy(p, w->id, 16);
	p += 16;
	*p++ = (uint8_t)(w->tag >> 8);
	*p++ = (uint8_t)w->tag;
	memcpy(p, body, 1 + SEAL_KID_LEN);
}

int
seal_value(struct seal_ctx *x, const struct seal_key *k,
    const struct seal_where *w, const uint8_t *plain, size_t plen,
    struct buf *out, struct jalin_err *err)
{
	uint8_t hdr[EXT_HDR_MAX], ad[VALUE_AD_LEN], *b;
	size_t blen = SEAL_OVERHEAD + plen, hlen;
	int rc;

	if (plen == 0)
		return jalin_err_set(err, JALIN_EINVAL,
		    "seal: field %u: empty value (a msgpack object is needed)",
		    w->tag);
	hlen = ext_hdr(hdr, blen, REC_SEALED_EXT);
	if (plen > JALIN_VALUE_MAX || hlen + blen > JALIN_VALUE_MAX)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "seal: field %u: sealed value of %zu bytes exceeds limit "
		    "%u",
		    w->tag, hlen + blen, JALIN_VALUE_MAX);
	if ((rc = buf_reserve(out, hlen + blen)) != 0)
		return jalin_err_set(err, rc,
		    "seal: field %u: no room for a sealed value of %zu bytes",
		    w->tag, hlen + blen);
	memcpy(out->p + out->len, hdr, hlen);
	b = out->p + out->len + hlen;
	b[0] = SEAL_VERSION;
	memcpy(b + 1, k->kid, SEAL_KID_LEN);
	if (nonce_new(x, b + 1 + SEAL_KID_LEN) != 0)
		return jalin_err_set(err, JALIN_ENOMEM, "seal: no randomness");
	value_ad(ad, w, b);
	if (gcm_seal(x->enc, k->dk, b + 1 + SEAL_KID_LEN, ad, sizeof(ad), plain,
	        plen, b + SEAL_OVERHEAD - SEAL_TAG_LEN,
	        b + blen - SEAL_TAG_LEN) != 0)
		return jalin_err_set(
		    err, JALIN_ENOMEM, "seal: AES-256-GCM failed");
	out->len += hlen + blen;
	return 0;
}

int
seal_value_check(const uint8_t *body, size_t len, struct jalin_err *err)
{
	if (len <= SEAL_OVERHEAD)
		return jalin_err_set(err, JALIN_EPROTO,
		    "sealed value: body of %zu bytes is cut (at least %d)", len,
		    SEAL_OVERHEAD + 1);
	if (len > JALIN_VALUE_MAX)
		return jalin_err_set(err, JALIN_EPROTO,
		    "sealed value: body of %zu bytes exceeds limit %u", len,
		    JALIN_VALUE_MAX);
	if (body[0] != SEAL_VERSION)
		return jalin_err_set(err, JALIN_EPROTO,
		    "sealed value: version %u (expected %d)", body[0],
		    SEAL_VERSION);
	return 0;
}

void
seal_value_kid(const uint8_t *body, uint8_t kid[SEAL_KID_LEN])
{
	memcpy(kid, body + 1, SEAL_KID_LEN);
}

static const struct seal_key *
key_of(const struct seal_key *keys, size_t n, const uint8_t *kid)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(keys[i].kid, kid, SEAL_KID_LEN) == 0)
			return &keys[i];
	return NULL;
}

int
seal_open(struct seal_ctx *x, const struct seal_key *keys, size_t n,
    const struct seal_where *w, const uint8_t *body, size_t len,
    struct buf *plain, struct jalin_err *err)
{
	const struct seal_key *k;
	uint8_t ad[VALUE_AD_LEN];
	size_t clen, start = plain->len;
	int rc;

	if ((rc = seal_value_check(body, len, err)) != 0)
		return rc;
	if ((k = key_of(keys, n, body + 1)) == NULL)
		return jalin_err_set(err, JALIN_ENOTFOUND,
		    "sealed value of field %u: no key with its key id (this "
		    "node is not a recipient)",
		    w->tag);
	clen = len - SEAL_OVERHEAD;
	if ((rc = buf_reserve(plain, clen)) != 0)
		return jalin_err_set(err, rc,
		    "sealed value of field %u: no room for %zu bytes", w->tag,
		    clen);
	value_ad(ad, w, body);
	if (gcm_open(x->dec, k->dk, body + 1 + SEAL_KID_LEN, ad, sizeof(ad),
	        body + SEAL_OVERHEAD - SEAL_TAG_LEN, clen,
	        body + len - SEAL_TAG_LEN, plain->p + start) != 0) {
		OPENSSL_cleanse(plain->p + start, clen);
		return jalin_err_set(err, JALIN_EPERM,
		    "sealed value of field %u does not open (tampered, moved "
		    "from another field or record, or a wrong key)",
		    w->tag);
	}
	plain->len = start + clen;
	return 0;
}

/* --- keys values: parsing -------------------------------------------- */

/* Order of recipient names: bytes, a prefix before the longer name. */
static int
name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

/* The n wraps from *off on: names 1..SEAL_NAME_MAX long, strictly
 * increasing, each with its whole wrap within len. */
static int
parse_wraps(const uint8_t *b, size_t len, size_t *off, unsigned n,
    struct jalin_err *err)
{
	const uint8_t *prev = NULL;
	size_t plen = 0, o = *off;

	for (unsigned i = 0; i < n; i++) {
		if (o >= len)
			return jalin_err_set(err, JALIN_EPROTO,
			    "keys: cut in recipient %u of %u", i + 1, n);
		size_t nl = b[o];
		if (nl == 0 || nl > SEAL_NAME_MAX)
			return jalin_err_set(err, JALIN_EPROTO,
			    "keys: recipient %u: name of %zu bytes (1 to %d)",
			    i + 1, nl, SEAL_NAME_MAX);
		if (len - o - 1 < nl + SEAL_WRAP_LEN)
			return jalin_err_set(err, JALIN_EPROTO,
			    "keys: cut in recipient %u of %u", i + 1, n);
		if (prev != NULL && name_cmp(prev, plen, b + o + 1, nl) >= 0)
			return jalin_err_set(err, JALIN_EPROTO,
			    "keys: recipient %u: names not sorted or not "
			    "unique",
			    i + 1);
		prev = b + o + 1;
		plen = nl;
		o += 1 + nl + SEAL_WRAP_LEN;
	}
	*off = o;
	return 0;
}

/* The chain from off on: [1 m] then nothing, or nonce, m entries, tag,
 * and no byte after. */
static int
parse_chain(const uint8_t *b, size_t len, size_t off, struct keys_view *v,
    struct jalin_err *err)
{
	size_t want;

	if (off >= len)
		return jalin_err_set(
		    err, JALIN_EPROTO, "keys: cut before the chain");
	v->m = b[off++];
	if (v->m > SEAL_CHAIN_MAX)
		return jalin_err_set(err, JALIN_EPROTO,
		    "keys: chain of %u keys exceeds limit %d", v->m,
		    SEAL_CHAIN_MAX);
	want = v->m == 0 ? 0 : SEAL_NONCE_LEN + v->m * ENTRY_LEN + SEAL_TAG_LEN;
	if (len - off < want)
		return jalin_err_set(err, JALIN_EPROTO,
		    "keys: chain of %u keys cut (%zu bytes, needs %zu)", v->m,
		    len - off, want);
	if (len - off > want)
		return jalin_err_set(err, JALIN_EPROTO,
		    "keys: %zu trailing bytes after the chain",
		    len - off - want);
	v->chain = v->m == 0 ? NULL : b + off;
	return 0;
}

static int
keys_parse(
    const uint8_t *b, size_t len, struct keys_view *v, struct jalin_err *err)
{
	size_t off = KEYS_HEAD;
	int rc;

	if (len < KEYS_MIN)
		return jalin_err_set(err, JALIN_EPROTO,
		    "keys: body of %zu bytes is cut (at least %d)", len,
		    KEYS_MIN);
	if (b[0] != SEAL_VERSION)
		return jalin_err_set(err, JALIN_EPROTO,
		    "keys: version %u (expected %d)", b[0], SEAL_VERSION);
	v->kid = b + 1;
	v->eph = b + 1 + SEAL_KID_LEN;
	v->n = b[KEYS_HEAD - 1];
	if (v->n == 0 || v->n > SEAL_WRAPS_MAX)
		return jalin_err_set(err, JALIN_EPROTO,
		    "keys: %u recipients (1 to %d)", v->n, SEAL_WRAPS_MAX);
	v->wraps = b + off;
	if ((rc = parse_wraps(b, len, &off, v->n, err)) != 0)
		return rc;
	v->wlen = (size_t)(b + off - v->wraps);
	return parse_chain(b, len, off, v, err);
}

int
seal_keys_check(const uint8_t *body, size_t len, struct jalin_err *err)
{
	struct keys_view v;

	return keys_parse(body, len, &v, err);
}

void
seal_keys_kid(const uint8_t *body, uint8_t kid[SEAL_KID_LEN])
{
	memcpy(kid, body + 1, SEAL_KID_LEN);
}

/* The wrap of name in a parsed body, or NULL. */
static const uint8_t *
wrap_of(const struct keys_view *v, const uint8_t *name, size_t nlen)
{
	for (size_t o = 0; o < v->wlen; o += 1 + v->wraps[o] + SEAL_WRAP_LEN)
		if (v->wraps[o] == nlen &&
		    memcmp(v->wraps + o + 1, name, nlen) == 0)
			return v->wraps + o + 1 + nlen;
	return NULL;
}

bool
seal_keys_has(const uint8_t *body, size_t len, const char *name, size_t nlen)
{
	struct keys_view v;

	return keys_parse(body, len, &v, NULL) == 0 &&
	    wrap_of(&v, (const uint8_t *)name, nlen) != NULL;
}

/* --- keys values: wraps and the chain -------------------------------- */

/* X25519(priv, pub) into out; -1 if it fails (e.g. a low-order point). */
static int
x25519(EVP_PKEY *priv, EVP_PKEY *pub, uint8_t out[SECRET_LEN])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(priv, NULL);
	size_t n = SECRET_LEN;
	int ok;

	ok = c != NULL && EVP_PKEY_derive_init(c) == 1 &&
	    EVP_PKEY_derive_set_peer(c, pub) == 1 &&
	    EVP_PKEY_derive(c, out, &n) == 1 && n == SECRET_LEN;
	EVP_PKEY_CTX_free(c);
	return ok ? 0 : -1;
}

static int
raw_pub(const EVP_PKEY *k, uint8_t out[SEAL_PUB_LEN])
{
	size_t n = SEAL_PUB_LEN;

	return EVP_PKEY_is_a(k, "X25519") &&
	        EVP_PKEY_get_raw_public_key(k, out, &n) == 1 &&
	        n == SEAL_PUB_LEN
	    ? 0
	    : -1;
}

#define WRAP_INFO_MAX \
	(LIT_LEN(INFO_WRAP) + 1 + 16 + SEAL_KID_LEN + SEAL_NAME_MAX)

/* The key that seals name's wrap: HKDF-SHA256 of the shared secret with
 * salt eph || pub and info INFO_WRAP, coll, id, kid, name. */
static int
wrap_key(struct seal_ctx *x, const uint8_t secret[SECRET_LEN],
    const uint8_t eph[SEAL_PUB_LEN], const uint8_t pub[SEAL_PUB_LEN],
    const struct seal_where *w, const uint8_t kid[SEAL_KID_LEN],
    const uint8_t *name, size_t nlen, uint8_t kek[SECRET_LEN])
{
	uint8_t salt[2 * SEAL_PUB_LEN], info[WRAP_INFO_MAX], *p = info;
	OSSL_PARAM pa[4];
	int ok;

	memcpy(salt, eph, SEAL_PUB_LEN);
	memcpy(salt + SEAL_PUB_LEN, pub, SEAL_PUB_LEN);
	memcpy(p, INFO_WRAP, LIT_LEN(INFO_WRAP));
	p += LIT_LEN(INFO_WRAP);
	*p++ = w->coll;
	memcpy(p, w->id, 16);
	p += 16;
	memcpy(p, kid, SEAL_KID_LEN);
	p += SEAL_KID_LEN;
	memcpy(p, name, nlen);
	p += nlen;
	pa[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)secret, SECRET_LEN);
	pa[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_SALT, salt, sizeof(salt));
	pa[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_INFO, info, (size_t)(p - info));
	pa[3] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(x->kdf, kek, SECRET_LEN, pa) == 1;
	/* the context kept a copy of the secret: overwrite it with zeros
	 * (the salt's bytes, done with); a reset would also drop the
	 * digest, whose fetch by name costs more than the derivation */
	memset(salt, 0, SECRET_LEN);
	pa[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, salt, SECRET_LEN);
	pa[1] = OSSL_PARAM_construct_end();
	ok &= EVP_KDF_CTX_set_params(x->kdf, pa) == 1;
	return ok ? 0 : -1;
}

#define CHAIN_AD_LEN (LIT_LEN(AD_CHAIN) + 1 + 16 + 1 + SEAL_KID_LEN + 1)

/* Associated data of a chain: AD_CHAIN, coll, id, version, current kid,
 * m. */
static void
chain_ad(uint8_t ad[CHAIN_AD_LEN], const struct seal_where *w,
    const uint8_t kid[SEAL_KID_LEN], unsigned m)
{
	uint8_t *p = ad;

	memcpy(p, AD_CHAIN, LIT_LEN(AD_CHAIN));
	p += LIT_LEN(AD_CHAIN);
	*p++ = w->coll;
	memcpy(p, w->id, 16);
	p += 16;
	*p++ = SEAL_VERSION;
	memcpy(p, kid, SEAL_KID_LEN);
	p += SEAL_KID_LEN;
	*p = (uint8_t)m;
}

/* --- keys values: building ------------------------------------------- */

static int
check_recipients(
    const struct seal_recipient *r, size_t nr, struct jalin_err *err)
{
	uint8_t pub[SEAL_PUB_LEN];

	if (nr == 0 || nr > SEAL_WRAPS_MAX)
		return jalin_err_set(err, JALIN_EINVAL,
		    "keys: %zu recipients (1 to %d)", nr, SEAL_WRAPS_MAX);
	for (size_t i = 0; i < nr; i++) {
		if (r[i].len == 0 || r[i].len > SEAL_NAME_MAX)
			return jalin_err_set(err, JALIN_EINVAL,
			    "keys: recipient %zu: name of %u bytes (1 to %d)",
			    i + 1, r[i].len, SEAL_NAME_MAX);
		if (i > 0 &&
		    name_cmp((const uint8_t *)r[i - 1].name, r[i - 1].len,
		        (const uint8_t *)r[i].name, r[i].len) >= 0)
			return jalin_err_set(err, JALIN_EINVAL,
			    "keys: recipient %.*s: names not sorted or not "
			    "unique",
			    (int)r[i].len, r[i].name);
		if (r[i].pub == NULL || raw_pub(r[i].pub, pub) != 0)
			return jalin_err_set(err, JALIN_EINVAL,
			    "keys: recipient %.*s: not an X25519 key",
			    (int)r[i].len, r[i].name);
	}
	return 0;
}

static int
check_older(const struct seal_key *cur, const struct seal_key *older,
    size_t nolder, struct jalin_err *err)
{
	if (nolder > SEAL_CHAIN_MAX)
		return jalin_err_set(err, JALIN_EINVAL,
		    "keys: chain of %zu keys exceeds limit %d", nolder,
		    SEAL_CHAIN_MAX);
	for (size_t i = 0; i < nolder; i++)
		if (memcmp(older[i].kid, cur->kid, SEAL_KID_LEN) == 0 ||
		    key_of(older, i, older[i].kid) != NULL)
			return jalin_err_set(err, JALIN_EINVAL,
			    "keys: chain key %zu repeats a key id", i + 1);
	return 0;
}

void
seal_ctx_eph_reuse(struct seal_ctx *x, unsigned uses)
{
	eph_drop(x);
	x->eph_uses = uses;
}

/* The ephemeral key of the next keys value into *eph (*own: the caller
 * frees it), its public key into epub. */
static int
eph_get(
    struct seal_ctx *x, EVP_PKEY **eph, bool *own, uint8_t epub[SEAL_PUB_LEN])
{
	if (x->eph != NULL && x->eph_left > 0) {
		x->eph_left--;
		*eph = x->eph;
		*own = false;
		return raw_pub(*eph, epub);
	}
	eph_drop(x);
	if ((*eph = EVP_PKEY_Q_keygen(NULL, NULL, "X25519")) == NULL)
		return -1;
	*own = x->eph_uses <= 1;
	if (!*own) {
		x->eph = *eph;
		x->eph_left = x->eph_uses - 1;
	}
	return raw_pub(*eph, epub);
}

/* X25519(eph, the recipient key pub, whose raw form is raw) into s: from
 * the secrets kept with a shared ephemeral key if it is there. */
static int
secret_of(struct seal_ctx *x, EVP_PKEY *eph, EVP_PKEY *pub,
    const uint8_t raw[SEAL_PUB_LEN], uint8_t s[SECRET_LEN])
{
	bool keep = eph == x->eph;

	for (unsigned i = 0; keep && i < x->nsec; i++)
		if (memcmp(x->sec[i].pub, raw, SEAL_PUB_LEN) == 0) {
			memcpy(s, x->sec[i].s, SECRET_LEN);
			return 0;
		}
	if (x25519(eph, pub, s) != 0)
		return -1;
	if (keep && x->nsec < SEAL_WRAPS_MAX) {
		memcpy(x->sec[x->nsec].pub, raw, SEAL_PUB_LEN);
		memcpy(x->sec[x->nsec++].s, s, SECRET_LEN);
	}
	return 0;
}

/* One wrap of cur for r at p ([1 len][name][48 wrap]); eph: the
 * ephemeral key, epub its public key. Returns the bytes written, 0 on
 * failure. */
static size_t
put_wrap(struct seal_ctx *x, const struct seal_where *w,
    const struct seal_key *cur, EVP_PKEY *eph, const uint8_t epub[SEAL_PUB_LEN],
    const struct seal_recipient *r, uint8_t *p)
{
	uint8_t pub[SEAL_PUB_LEN], s[SECRET_LEN], kek[SECRET_LEN];
	uint8_t *wr = p + 1 + r->len;
	int rc;

	p[0] = r->len;
	memcpy(p + 1, r->name, r->len);
	rc = raw_pub(r->pub, pub) != 0 ||
	    secret_of(x, eph, r->pub, pub, s) != 0 ||
	    wrap_key(x, s, epub, pub, w, cur->kid, p + 1, r->len, kek) != 0 ||
	    gcm_seal(x->enc, kek, zero_nonce, NULL, 0, cur->dk, SEAL_DK_LEN, wr,
	        wr + SEAL_DK_LEN) != 0;
	OPENSSL_cleanse(s, sizeof(s));
	OPENSSL_cleanse(kek, sizeof(kek));
	return rc ? 0 : 1 + (size_t)r->len + SEAL_WRAP_LEN;
}

/* [1 m] and, if m > 0, the chain sealed under cur at p. Returns the bytes
 * written, 0 on failure. */
static size_t
put_chain(struct seal_ctx *x, const struct seal_where *w,
    const struct seal_key *cur, const struct seal_key *older, size_t m,
    uint8_t *p)
{
	uint8_t plain[SEAL_CHAIN_MAX * ENTRY_LEN], ad[CHAIN_AD_LEN];
	uint8_t *nonce = p + 1, *ct = nonce + SEAL_NONCE_LEN;
	int rc;

	p[0] = (uint8_t)m;
	if (m == 0)
		return 1;
	for (size_t i = 0; i < m; i++) {
		memcpy(plain + i * ENTRY_LEN, older[i].kid, SEAL_KID_LEN);
		memcpy(plain + i * ENTRY_LEN + SEAL_KID_LEN, older[i].dk,
		    SEAL_DK_LEN);
	}
	chain_ad(ad, w, cur->kid, (unsigned)m);
	rc = nonce_new(x, nonce) != 0 ||
	    gcm_seal(x->enc, cur->dk, nonce, ad, sizeof(ad), plain,
	        m * ENTRY_LEN, ct, ct + m * ENTRY_LEN) != 0;
	OPENSSL_cleanse(plain, sizeof(plain));
	return rc ? 0 : 1 + SEAL_NONCE_LEN + m * ENTRY_LEN + SEAL_TAG_LEN;
}

/* The body at b (blen bytes, reserved): head, wraps, chain. */
static int
put_keys(struct seal_ctx *x, const struct seal_where *w,
    const struct seal_key *cur, const struct seal_key *older, size_t nolder,
    const struct seal_recipient *r, size_t nr, uint8_t *b)
{
	EVP_PKEY *eph = NULL;
	size_t off = KEYS_HEAD, k;
	int rc = JALIN_ENOMEM;
	bool own = true;

	if (eph_get(x, &eph, &own, b + 1 + SEAL_KID_LEN) != 0)
		goto out;
	b[0] = SEAL_VERSION;
	memcpy(b + 1, cur->kid, SEAL_KID_LEN);
	b[KEYS_HEAD - 1] = (uint8_t)nr;
	for (size_t i = 0; i < nr; i++, off += k)
		if ((k = put_wrap(x, w, cur, eph, b + 1 + SEAL_KID_LEN, &r[i],
		         b + off)) == 0)
			goto out;
	if (put_chain(x, w, cur, older, nolder, b + off) == 0)
		goto out;
	rc = 0;
out:
	if (own)
		EVP_PKEY_free(eph); /* the provider clears the private key */
	return rc;
}

int
seal_keys_build(struct seal_ctx *x, const struct seal_where *w,
    const struct seal_key *cur, const struct seal_key *older, size_t nolder,
    const struct seal_recipient *r, size_t nr, struct buf *out,
    struct jalin_err *err)
{
	uint8_t hdr[EXT_HDR_MAX];
	size_t blen = KEYS_HEAD + 1, hlen;
	int rc;

	if ((rc = check_recipients(r, nr, err)) != 0 ||
	    (rc = check_older(cur, older, nolder, err)) != 0)
		return rc;
	for (size_t i = 0; i < nr; i++)
		blen += 1 + (size_t)r[i].len + SEAL_WRAP_LEN;
	if (nolder > 0)
		blen += SEAL_NONCE_LEN + nolder * ENTRY_LEN + SEAL_TAG_LEN;
	hlen = ext_hdr(hdr, blen, REC_KEYS_EXT);
	if ((rc = buf_reserve(out, hlen + blen)) != 0)
		return jalin_err_set(err, rc,
		    "keys: no room for a keys value of %zu bytes", hlen + blen);
	memcpy(out->p + out->len, hdr, hlen);
	if (put_keys(
	        x, w, cur, older, nolder, r, nr, out->p + out->len + hlen) != 0)
		return jalin_err_set(err, JALIN_ENOMEM,
		    "keys: X25519, HKDF or AES-256-GCM failed");
	out->len += hlen + blen;
	return 0;
}

/* --- keys values: opening -------------------------------------------- */

/* The current data key from me's wrap (w at wr) into k. */
static int
open_wrap(struct seal_ctx *x, const struct seal_where *w,
    const struct keys_view *v, const uint8_t *wr, const uint8_t *me,
    size_t melen, EVP_PKEY *priv, struct seal_key *k)
{
	uint8_t pub[SEAL_PUB_LEN], s[SECRET_LEN], kek[SECRET_LEN];
	EVP_PKEY *eph;
	int rc;

	eph = EVP_PKEY_new_raw_public_key(
	    EVP_PKEY_X25519, NULL, v->eph, SEAL_PUB_LEN);
	rc = eph == NULL || raw_pub(priv, pub) != 0 ||
	    x25519(priv, eph, s) != 0 ||
	    wrap_key(x, s, v->eph, pub, w, v->kid, me, melen, kek) != 0 ||
	    gcm_open(x->dec, kek, zero_nonce, NULL, 0, wr, SEAL_DK_LEN,
	        wr + SEAL_DK_LEN, k->dk) != 0;
	EVP_PKEY_free(eph);
	OPENSSL_cleanse(s, sizeof(s));
	OPENSSL_cleanse(kek, sizeof(kek));
	memcpy(k->kid, v->kid, SEAL_KID_LEN);
	return rc ? -1 : 0;
}

/* Whether entry i of a chain has the current kid or that of an entry
 * before it. */
static bool
kid_repeats(const uint8_t *cur, const uint8_t *entries, size_t i)
{
	const uint8_t *kid = entries + i * ENTRY_LEN;

	if (memcmp(kid, cur, SEAL_KID_LEN) == 0)
		return true;
	for (size_t j = 0; j < i; j++)
		if (memcmp(kid, entries + j * ENTRY_LEN, SEAL_KID_LEN) == 0)
			return true;
	return false;
}

/* The chain of v opened under out[0] into out[1..): at most max - 1 keys
 * kept, all checked. */
static int
open_chain(struct seal_ctx *x, const struct seal_where *w,
    const struct keys_view *v, struct seal_key *out, size_t max, size_t *n,
    struct jalin_err *err)
{
	uint8_t plain[SEAL_CHAIN_MAX * ENTRY_LEN], ad[CHAIN_AD_LEN];
	const uint8_t *ct = v->chain + SEAL_NONCE_LEN;
	size_t clen = v->m * ENTRY_LEN;
	int rc = 0;

	chain_ad(ad, w, v->kid, v->m);
	if (gcm_open(x->dec, out[0].dk, v->chain, ad, sizeof(ad), ct, clen,
	        ct + clen, plain) != 0) {
		rc = jalin_err_set(err, JALIN_EPERM,
		    "keys: chain of older keys does not open (tampered)");
		goto out;
	}
	for (size_t i = 0; i < v->m; i++)
		if (kid_repeats(v->kid, plain, i)) {
			rc = jalin_err_set(err, JALIN_EPROTO,
			    "keys: chain key %zu repeats a key id", i + 1);
			goto out;
		}
	for (*n = 1; *n < max && *n <= v->m; (*n)++)
		memcpy(&out[*n], plain + (*n - 1) * ENTRY_LEN, ENTRY_LEN);
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	return rc;
}

int
seal_keys_open(struct seal_ctx *x, const struct seal_where *w,
    const uint8_t *body, size_t len, const char *me, size_t melen,
    EVP_PKEY *priv, struct seal_key *out, size_t max, size_t *n,
    struct jalin_err *err)
{
	const uint8_t *wr;
	struct keys_view v;
	int rc;

	if (max == 0)
		return jalin_err_set(err, JALIN_EINVAL, "keys: no room");
	if ((rc = keys_parse(body, len, &v, err)) != 0)
		return rc;
	if ((wr = wrap_of(&v, (const uint8_t *)me, melen)) == NULL)
		return jalin_err_set(err, JALIN_ENOTFOUND,
		    "keys: no wrap for %.*s (not a recipient)", (int)melen, me);
	if (priv == NULL || !EVP_PKEY_is_a(priv, "X25519"))
		return jalin_err_set(
		    err, JALIN_EINVAL, "keys: not an X25519 private key");
	if (open_wrap(
	        x, w, &v, wr, (const uint8_t *)me, melen, priv, &out[0]) != 0) {
		seal_key_wipe(&out[0]);
		return jalin_err_set(err, JALIN_EPERM,
		    "keys: the wrap for %.*s does not open (tampered or "
		    "another key)",
		    (int)melen, me);
	}
	*n = 1;
	if (v.m > 0 && (rc = open_chain(x, w, &v, out, max, n, err)) != 0) {
		seal_key_wipe(&out[0]); /* out[1..) written on success only */
		*n = 0;
		return rc;
	}
	return 0;
}
