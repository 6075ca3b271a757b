/*
 * crypt.c - S! values sealed where they are written (crypt.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypt.h"
#include "limits.h"
#include "mp.h"
#include "scope.h"

/* A set of node names, sorted (memcmp, shorter first), unique. */
struct readers {
	char s[SEAL_WRAPS_MAX][JALIN_NAME_MAX];
	uint8_t len[SEAL_WRAPS_MAX];
	size_t n;
	bool overflow;
};

struct crypt {
	char node[JALIN_NAME_MAX + 1];
	size_t nlen;
	EVP_PKEY *priv;
	struct crypt_keys k;
	struct seal_ctx *x;
	struct srec *reader;
	struct buf out;   /* sealed values and the keys value of one put */
	struct buf plain; /* one value opened or decoded */
	struct readers now, before;
	struct seal_key
	    keys[1 + SEAL_CHAIN_MAX]; /* the record's, newest first */
	size_t nkeys;
	uint32_t off[CRYPT_UPDATES_MAX]; /* of u[i] in out, or NO_OFF */
	uint32_t len[CRYPT_UPDATES_MAX];
	uint32_t keys_len;
};

#define NO_OFF UINT32_MAX

struct crypt *
crypt_new(const char *node, EVP_PKEY *priv, const struct crypt_keys *k)
{
	struct crypt *x;
	size_t n = strlen(node);

	if (n > JALIN_NAME_MAX || (x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	memcpy(x->node, node, n);
	x->nlen = n;
	x->priv = priv;
	x->k = *k;
	buf_init(&x->out, JALIN_FRAME_MAX);
	buf_init(&x->plain, JALIN_VALUE_MAX + 16);
	x->x = seal_ctx_new();
	x->reader = srec_new(node, priv);
	if (x->x == NULL || x->reader == NULL) {
		crypt_free(x);
		return NULL;
	}
	/* a bulk import keys many records: one X25519 agreement per reader
	 * for up to JALIN_SEAL_EPH_USES of them (seal.h) */
	seal_ctx_eph_reuse(x->x, JALIN_SEAL_EPH_USES);
	return x;
}

static void
wipe_keys(struct crypt *x)
{
	for (size_t i = 0; i < x->nkeys; i++)
		seal_key_wipe(&x->keys[i]);
	x->nkeys = 0;
}

void
crypt_free(struct crypt *x)
{
	if (x == NULL)
		return;
	wipe_keys(x);
	seal_ctx_free(x->x);
	srec_free(x->reader);
	OPENSSL_cleanse(x->plain.p, x->plain.cap);
	buf_free(&x->out);
	buf_free(&x->plain);
	free(x);
}

struct srec *
crypt_reader(struct crypt *x)
{
	return x->reader;
}

/* ---- readers ------------------------------------------------------------ */

static void
readers_add(struct readers *r, const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > JALIN_NAME_MAX)
		return;
	while (i < r->n && rec_name_cmp(r->s[i], r->len[i], s, len) < 0)
		i++;
	if (i < r->n && rec_name_cmp(r->s[i], r->len[i], s, len) == 0)
		return;
	if (r->n == SEAL_WRAPS_MAX) {
		r->overflow = true;
		return;
	}
	memmove(r->s + i + 1, r->s + i, (r->n - i) * sizeof(r->s[0]));
	memmove(r->len + i + 1, r->len + i, (r->n - i) * sizeof(r->len[0]));
	memcpy(r->s[i], s, len);
	r->len[i] = (uint8_t)len;
	r->n++;
}

static bool
readers_has(const struct readers *r, const char *s, size_t len)
{
	for (size_t i = 0; i < r->n; i++)
		if (rec_name_cmp(r->s[i], r->len[i], s, len) == 0)
			return true;
	return false;
}

/* The names of a list of strings (share_with), plain msgpack. */
static void
readers_from_list(struct readers *r, const uint8_t *v, size_t vlen)
{
	struct mpr m;
	const char *s;
	uint32_t n, len;

	mpr_init(&m, v, vlen);
	if (mpr_peek(&m) != MP_ARRAY || mpr_array(&m, &n) != 0)
		return;
	for (uint32_t i = 0; i < n; i++) {
		if (mpr_str(&m, &s, &len) != 0)
			return;
		readers_add(r, s, len);
	}
}

/* The winning value of tag in r (NULL when none or nil). */
static const struct rec_entry *
winner(const struct record *r, uint16_t tag)
{
	size_t a, b;

	if (rec_field(r, tag, &a, &b) == 0)
		return NULL;
	const struct rec_entry *e = &r->entry[rec_winner(r, a, b)];
	return e->vlen == 1 && e->val[0] == 0xc0 ? NULL : e;
}

static const struct merge_update *
update_of(const struct merge_update *u, size_t n, uint16_t tag)
{
	for (size_t i = 0; i < n; i++)
		if (u[i].tag == tag)
			return &u[i];
	return NULL;
}

/*
 * Who reads the record: its origin (origin, olen), share_with (from the
 * put when it gives it, else from r), the all_cases nodes.
 */
static void
readers_of(struct crypt *x, struct readers *rd, const char *origin, size_t olen,
    const struct record *r, const struct merge_update *share)
{
	struct crypt_name ac[SEAL_WRAPS_MAX];
	const struct rec_entry *e;

	memset(rd, 0, sizeof(*rd));
	readers_add(rd, origin, olen);
	if (share != NULL && share->val != NULL)
		readers_from_list(rd, share->val, share->vlen);
	else if (share == NULL && r != NULL &&
	    (e = winner(r, TAG_SHARE_WITH)) != NULL)
		readers_from_list(rd, e->val, e->vlen);
	size_t n = x->k.all_cases != NULL
	    ? x->k.all_cases(x->k.arg, ac, SEAL_WRAPS_MAX)
	    : 0;
	for (size_t i = 0; i < n && i < SEAL_WRAPS_MAX; i++)
		readers_add(rd, ac[i].name, ac[i].len);
}

/* ---- the keys ------------------------------------------------------------ */

/* The record's data keys this node holds (x->keys), from old. */
static int
open_keys(struct crypt *x, const struct schema_coll *c, const uint8_t id[16],
    const struct record *old, bool *has_field, struct jalin_err *err)
{
	const struct seal_key *k;
	size_t n;
	int rc;

	wipe_keys(x);
	*has_field = winner(old, TAG_KEYS) != NULL;
	if (!*has_field)
		return 0;
	if ((rc = srec_keys(x->reader, c, id, old, &k, &n, err)) != 0)
		return rc;
	memcpy(x->keys, k, n * sizeof(*k));
	x->nkeys = n;
	return 0;
}

/* True if a node that could read before is no reader any more. */
static bool
lost_reader(const struct crypt *x, const struct record *old)
{
	const struct rec_entry *e = winner(old, TAG_KEYS);
	const uint8_t *body;
	uint32_t blen;

	if (e == NULL || !srec_keys_body(e->val, e->vlen, &body, &blen))
		return false;
	for (size_t i = 0; i < x->before.n; i++) {
		if (!readers_has(&x->now, x->before.s[i], x->before.len[i]) &&
		    seal_keys_has(body, blen, x->before.s[i], x->before.len[i]))
			return true;
	}
	return false;
}

/* True if a reader whose key we know has no wrap in the stored keys. */
static bool
new_reader(struct crypt *x, const struct record *old)
{
	const struct rec_entry *e = winner(old, TAG_KEYS);
	const uint8_t *body;
	uint32_t blen;

	if (e == NULL || !srec_keys_body(e->val, e->vlen, &body, &blen))
		return true;
	for (size_t i = 0; i < x->now.n; i++) {
		if (!seal_keys_has(body, blen, x->now.s[i], x->now.len[i]) &&
		    x->k.pub(x->k.arg, x->now.s[i], x->now.len[i]) != NULL)
			return true;
	}
	return false;
}

/* Append the keys value for the readers in x->now: cur wrapped, the
 * older keys in its chain. */
static int
write_keys(struct crypt *x, const struct schema_coll *c, const uint8_t id[16],
    const struct seal_key *cur, const struct seal_key *older, size_t nolder,
    unsigned *missing, struct jalin_err *err)
{
	struct seal_recipient r[SEAL_WRAPS_MAX];
	size_t nr = 0;

	for (size_t i = 0; i < x->now.n; i++) {
		EVP_PKEY *p = x->k.pub(x->k.arg, x->now.s[i], x->now.len[i]);
		if (p == NULL) {
			(*missing)++;
			continue;
		}
		r[nr++] =
		    (struct seal_recipient){x->now.s[i], x->now.len[i], p};
	}
	if (nolder > SEAL_CHAIN_MAX)
		nolder = SEAL_CHAIN_MAX; /* the oldest are closed for good */
	const struct seal_where w = {c->id, id, 0};
	return seal_keys_build(
	    x->x, &w, cur, older, nolder, r, nr, &x->out, err);
}

/* ---- the values -----------------------------------------------------------
 */

/* The sealed form of u (x->off[i]): the stored one when the plaintext is
 * the same and under the current key, else sealed anew. */
static int
seal_one(struct crypt *x, const struct schema_coll *c, const uint8_t id[16],
    const struct record *old, const struct merge_update *u, size_t i,
    const struct seal_key *cur, struct jalin_err *err)
{
	const struct rec_entry *e = winner(old, u->tag);
	/* what is sealed is the value's state form (a string coded when
	 * that is shorter, record.h): canonical, so the same value seals
	 * the same plaintext */
	const uint8_t *pv = u->val, *body;
	uint32_t plen = u->vlen, blen;
	uint8_t kid[SEAL_KID_LEN];
	int rc;

	buf_reset(&x->plain);
	if (e != NULL && srec_sealed_body(e->val, e->vlen, &body, &blen) &&
	    seal_value_check(body, blen, NULL) == 0) {
		seal_value_kid(body, kid);
		const struct seal_where w = {c->id, id, u->tag};
		if (memcmp(kid, cur->kid, SEAL_KID_LEN) == 0 &&
		    seal_open(x->x, cur, 1, &w, body, blen, &x->plain, NULL) ==
		        0 &&
		    x->plain.len == plen && memcmp(x->plain.p, pv, plen) == 0) {
			x->off[i] = (uint32_t)x->out.len;
			rc = buf_append(&x->out, e->val, e->vlen);
			x->len[i] = (uint32_t)(x->out.len - x->off[i]);
			goto out;
		}
	}
	const struct seal_where w = {c->id, id, u->tag};
	x->off[i] = (uint32_t)x->out.len;
	rc = seal_value(x->x, cur, &w, pv, plen, &x->out, err);
	x->len[i] = (uint32_t)(x->out.len - x->off[i]);
out:
	OPENSSL_cleanse(x->plain.p, x->plain.len);
	if (rc != 0)
		jalin_err_set(err, rc, "%s: cannot seal a value: %s", c->name,
		    jalin_strerror(rc));
	return rc;
}

static bool
is_sealed_field(const struct schema_coll *c, const struct merge_update *u)
{
	return u->val != NULL &&
	    srec_field_sealed(c, schema_field_by_tag(c, u->tag));
}

static int
cmp_tag(const void *a, const void *b)
{
	const struct merge_update *x = a, *y = b;

	return (x->tag > y->tag) - (x->tag < y->tag);
}

/* ---- a put ----------------------------------------------------------------
 */

struct put {
	const struct schema_coll *c;
	const uint8_t *id;
	const struct record *old;
	struct merge_update *u;
	size_t *n;
	size_t max;
	unsigned *missing;
	struct jalin_err *err;
	bool is_origin;
	bool writes; /* an S! value or share_with */
};

/* True if a sealed value of old is sealed under kid. */
static bool
kid_in_use(const struct record *old, const uint8_t kid[SEAL_KID_LEN])
{
	uint8_t k[SEAL_KID_LEN];
	const uint8_t *body;
	uint32_t blen;

	for (uint16_t i = 0; i < old->nentries; i++) {
		const struct rec_entry *e = &old->entry[i];
		if (!srec_sealed_body(e->val, e->vlen, &body, &blen) ||
		    seal_value_check(body, blen, NULL) != 0)
			continue;
		seal_value_kid(body, k);
		if (memcmp(k, kid, SEAL_KID_LEN) == 0)
			return true;
	}
	return false;
}

/*
 * Room for one more key in a full chain: drop the oldest keys no value
 * of the record is sealed under (a key still in use is never dropped:
 * its values would no longer open). JALIN_ETOOBIG if every one is in use.
 */
static int
drop_unused(struct crypt *x, struct put *p)
{
	for (size_t i = x->nkeys; i-- > 0 && x->nkeys > SEAL_CHAIN_MAX;) {
		if (kid_in_use(p->old, x->keys[i].kid))
			continue;
		memmove(x->keys + i, x->keys + i + 1,
		    (x->nkeys - i - 1) * sizeof(x->keys[0]));
		seal_key_wipe(&x->keys[--x->nkeys]);
	}
	if (x->nkeys <= SEAL_CHAIN_MAX)
		return 0;
	return jalin_err_set(p->err, JALIN_ETOOBIG,
	    "%s: its values are sealed under %d keys; write its sealed fields "
	    "again before taking another reader out",
	    p->c->name, SEAL_CHAIN_MAX + 1);
}

/* Decide the key (x->keys[0] after this) and write the keys value when
 * the readers change and this node may say who reads. keys_at: its offset
 * in x->out, or NO_OFF. */
static int
settle_keys(struct crypt *x, struct put *p, bool has_field, bool rekey,
    uint32_t *keys_at)
{
	struct seal_key fresh;
	int rc;

	*keys_at = NO_OFF;
	if (has_field && x->nkeys == 0)
		return jalin_err_set(p->err, JALIN_EPERM,
		    "%s: this node holds no key of the record's sealed "
		    "fields (it is not its origin, in share_with or an "
		    "all_cases node)",
		    p->c->name);
	bool lost = rekey && has_field && lost_reader(x, p->old);
	bool fresh_key = !has_field || lost;
	if (!fresh_key && !(rekey && new_reader(x, p->old)))
		return 0; /* same key, same readers */
	if (!rekey || (!has_field && !p->is_origin))
		return x->nkeys > 0
		    ? 0
		    : jalin_err_set(p->err, JALIN_EPERM,
		          "%s: its S! fields are not sealed yet; "
		          "only its origin gives a record its "
		          "first key",
		          p->c->name);
	if (fresh_key) {
		if ((rc = seal_key_new(&fresh)) != 0)
			return jalin_err_set(
			    p->err, rc, "%s: no random data key", p->c->name);
		if (x->nkeys >= SEAL_CHAIN_MAX + 1 &&
		    (rc = drop_unused(x, p)) != 0) {
			seal_key_wipe(&fresh);
			return rc;
		}
		size_t keep = x->nkeys;
		memmove(x->keys + 1, x->keys, keep * sizeof(x->keys[0]));
		x->keys[0] = fresh;
		x->nkeys = keep + 1;
		seal_key_wipe(&fresh);
	}
	*keys_at = (uint32_t)x->out.len;
	rc = write_keys(x, p->c, p->id, &x->keys[0], x->keys + 1, x->nkeys - 1,
	    p->missing, p->err);
	x->keys_len = (uint32_t)(x->out.len - *keys_at);
	/* the reads that follow (record rules, ops.c) need not open them */
	if (rc == 0)
		srec_prime(x->reader, p->c, p->id, x->out.p + *keys_at,
		    x->keys_len, x->keys, x->nkeys);
	return rc;
}

/* True if this node is one of the all_cases nodes. */
static bool
self_all_cases(const struct crypt *x)
{
	struct crypt_name ac[SEAL_WRAPS_MAX];
	size_t n = x->k.all_cases != NULL
	    ? x->k.all_cases(x->k.arg, ac, SEAL_WRAPS_MAX)
	    : 0;

	for (size_t i = 0; i < n && i < SEAL_WRAPS_MAX; i++)
		if (rec_name_cmp(ac[i].name, ac[i].len, x->node, x->nlen) == 0)
			return true;
	return false;
}

/* Point the sealed values and the keys value into x->out (which does not
 * move any more), and add the keys update. */
static int
point_values(struct crypt *x, struct put *p, uint32_t keys_at)
{
	for (size_t i = 0; i < *p->n; i++) {
		if (x->off[i] == NO_OFF)
			continue;
		p->u[i].val = x->out.p + x->off[i];
		p->u[i].vlen = x->len[i];
	}
	if (keys_at == NO_OFF)
		return 0;
	struct merge_update *k = NULL;
	for (size_t i = 0; i < *p->n; i++)
		if (p->u[i].tag == TAG_KEYS)
			k = &p->u[i];
	if (k == NULL) {
		if (*p->n >= p->max)
			return jalin_err_set(p->err, JALIN_ETOOBIG,
			    "%s: too many fields", p->c->name);
		k = &p->u[(*p->n)++];
	}
	*k = (struct merge_update){TAG_KEYS, x->keys_len, x->out.p + keys_at};
	qsort(p->u, *p->n, sizeof(*p->u), cmp_tag);
	return 0;
}

static int
seal_put(struct crypt *x, struct put *p)
{
	char origin[JALIN_NAME_MAX + 1];
	const struct merge_update *share =
	    update_of(p->u, *p->n, TAG_SHARE_WITH);
	bool has_field;
	uint32_t keys_at;
	int olen, rc;

	if ((olen = scope_origin(p->old, origin, sizeof(origin))) == 0) {
		memcpy(origin, x->node, x->nlen); /* a new record: ours */
		olen = (int)x->nlen;
	}
	readers_of(x, &x->now, origin, (size_t)olen, p->old, share);
	readers_of(x, &x->before, origin, (size_t)olen, p->old, NULL);
	if (x->now.overflow)
		return jalin_err_set(p->err, JALIN_ETOOBIG,
		    "%s: more than %d nodes would read it", p->c->name,
		    SEAL_WRAPS_MAX);
	/* who may write share_with says who reads (authz.h) */
	p->is_origin =
	    rec_name_cmp(origin, (size_t)olen, x->node, x->nlen) == 0;
	bool rekey = p->is_origin || self_all_cases(x);
	if ((rc = open_keys(x, p->c, p->id, p->old, &has_field, p->err)) != 0)
		return rc;
	if (!has_field && !p->is_origin)
		return 0; /* not sealed yet (a 0.3 origin's): its origin seals
		             it; until then what others write stays in clear */
	if ((rc = settle_keys(x, p, has_field, rekey, &keys_at)) != 0)
		return rc;
	for (size_t i = 0; i < *p->n; i++) {
		x->off[i] = NO_OFF;
		if (is_sealed_field(p->c, &p->u[i]) &&
		    (rc = seal_one(x, p->c, p->id, p->old, &p->u[i], i,
		         &x->keys[0], p->err)) != 0)
			return rc;
	}
	if (x->out.err != 0)
		return jalin_err_set(p->err, JALIN_ETOOBIG,
		    "%s: sealed values too large", p->c->name);
	return point_values(x, p, keys_at);
}

static bool
writes_sealed(
    const struct schema_coll *c, const struct merge_update *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_sealed_field(c, &u[i]) || u[i].tag == TAG_SHARE_WITH)
			return true;
	return false;
}

int
crypt_put(struct crypt *x, const struct schema_coll *c, const uint8_t id[16],
    const struct record *old, struct merge_update *u, size_t *n, size_t max,
    unsigned *missing, struct jalin_err *err)
{
	unsigned miss = 0;
	int rc;

	if (missing == NULL)
		missing = &miss;
	*missing = 0;
	if (!srec_coll_sealed(c))
		return 0;
	if (*n > CRYPT_UPDATES_MAX || max > CRYPT_UPDATES_MAX)
		return jalin_err_set(
		    err, JALIN_ETOOBIG, "%s: too many fields to seal", c->name);
	/* a put that touches no S! field and not who reads leaves the
	 * record's keys as they are */
	bool writes = writes_sealed(c, u, *n);
	if (!writes && winner(old, TAG_KEYS) != NULL)
		return 0;
	if (x->priv == NULL && !writes)
		return 0;
	if (x->priv == NULL)
		return jalin_err_set(err, JALIN_EPERM,
		    "%s: this node has no encryption key ([tls] enc_key): it "
		    "cannot write S! fields",
		    c->name);
	buf_reset(&x->out);
	struct put p = {c, id, old, u, n, max, missing, err, false, writes};
	rc = seal_put(x, &p);
	wipe_keys(x);
	return rc;
}
