/*
 * audit.c - encode, chain and check the access log (audit.h).
 */
#include <string.h>

#include <openssl/evp.h>

#include "audit.h"
#include "hlc.h"
#include "mp.h"
#include "uuid.h"
#include "view.h"

static void
str_or_nil(msgpack_packer *pk, const char *s)
{
	if (s != NULL)
		msgpack_pack_str_with_body(pk, s, strlen(s));
	else
		msgpack_pack_nil(pk);
}

/* md: a context the caller reuses over a walk of the chain. */
static int
chain_hash(EVP_MD_CTX *md, const uint8_t prev[32], const void *body, size_t len,
    uint8_t hash[32])
{
	int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(md, prev, 32) && EVP_DigestUpdate(md, body, len) &&
	    EVP_DigestFinal_ex(md, hash, NULL);

	return ok ? 0 : JALIN_ENOMEM;
}

int
audit_encode(const struct audit_entry *e, const uint8_t prev[32],
    struct buf *out, uint8_t hash[32])
{
	msgpack_packer pk;
	size_t body;
	int rc;

	buf_reset(out);
	msgpack_packer_init(&pk, out, buf_pk_write);
	msgpack_pack_array(&pk, 2);
	body = out->len;
	msgpack_pack_array(&pk, 6);
	msgpack_pack_uint64(&pk, e->at_ms);
	str_or_nil(&pk, e->actor);
	str_or_nil(&pk, e->action);
	str_or_nil(&pk, e->coll);
	if (e->id != NULL)
		msgpack_pack_bin_with_body(&pk, e->id, UUID_LEN);
	else
		msgpack_pack_nil(&pk);
	str_or_nil(&pk, e->purpose);
	if (out->err != 0)
		return JALIN_ENOMEM;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	rc = chain_hash(md, prev, out->p + body, out->len - body, hash);
	EVP_MD_CTX_free(md);
	if (rc != 0)
		return rc;
	msgpack_pack_bin_with_body(&pk, hash, 32);
	return out->err != 0 ? JALIN_ENOMEM : 0;
}

/* Split a stored value into its body and hash; -1 if it is not one. */
static int
split(const uint8_t *v, size_t vlen, const uint8_t **body, size_t *blen,
    const uint8_t **hash)
{
	struct mpr m;
	uint32_t n, hlen;

	mpr_init(&m, v, vlen);
	if (mpr_array(&m, &n) != 0 || n != 2 || mpr_raw(&m, body, blen) != 0 ||
	    mpr_bin(&m, hash, &hlen) != 0 || hlen != 32 || mpr_left(&m) != 0)
		return -1;
	return 0;
}

int
audit_last(MDB_txn *txn, const struct stdb *db, uint64_t *seq, uint8_t hash[32],
    struct jalin_err *err)
{
	struct stdb_iter it;
	const uint8_t *body, *h, *v;
	size_t blen, vlen, klen;
	int rc;

	*seq = 0;
	memset(hash, 0, 32);
	/* an older store opened read-only has no audit log: an empty walk */
	stdb_iter_open(&it, txn, db, STDB_AUDIT);
	if (stdb_iter_find(&it, NULL, 0, STDB_FIND_LAST)) {
		v = stdb_iter_val(&it, &vlen);
		stdb_iter_key(&it, &klen);
		if (klen != STDB_SEQ_LEN ||
		    split(v, vlen, &body, &blen, &h) != 0) {
			stdb_iter_fail(&it, JALIN_ECORRUPT);
		} else {
			*seq = stdb_iter_seq(&it);
			memcpy(hash, h, 32);
		}
	}
	rc = stdb_iter_report(&it, err, "cannot read the audit log");
	stdb_iter_close(&it);
	return rc;
}

static void
get_str(struct mpr *m, const char **s, uint32_t *len)
{
	*s = NULL;
	*len = 0;
	if (mpr_peek(m) == MP_NIL)
		(void)mpr_nil(m);
	else if (mpr_str(m, s, len) != 0)
		*s = NULL;
}

static void
put_str(msgpack_packer *pk, const char *key, const char *s, uint32_t len)
{
	view_str(pk, key);
	if (s != NULL)
		msgpack_pack_str_with_body(pk, s, len);
	else
		msgpack_pack_nil(pk);
}

/* One entry as the answer shows it. */
static void
pack_entry(msgpack_packer *pk, uint64_t seq, const uint8_t *body, size_t blen)
{
	const char *actor = NULL, *action = NULL, *coll = NULL, *why = NULL;
	uint32_t n, la = 0, lc = 0, lk = 0, lw = 0, idlen = 0;
	const uint8_t *id = NULL;
	char t[32] = "", ids[UUID_STR_LEN + 1];
	uint64_t at = 0;
	struct mpr m;

	mpr_init(&m, body, blen);
	if (mpr_array(&m, &n) == 0 && n == 6 && mpr_u64(&m, &at) == 0) {
		get_str(&m, &actor, &la);
		get_str(&m, &action, &lk);
		get_str(&m, &coll, &lc);
		if (mpr_peek(&m) != MP_BIN || mpr_bin(&m, &id, &idlen) != 0 ||
		    idlen != UUID_LEN) {
			id = NULL;
			(void)mpr_skip(&m);
		}
		get_str(&m, &why, &lw);
	}
	(void)hlc_format_ms(at, t, sizeof(t));
	msgpack_pack_map(pk, 7);
	view_str(pk, "seq");
	msgpack_pack_uint64(pk, seq);
	view_str(pk, "at");
	view_str(pk, t);
	put_str(pk, "actor", actor, la);
	put_str(pk, "action", action, lk);
	put_str(pk, "collection", coll, lc);
	view_str(pk, "id");
	if (id != NULL) {
		uuid_format(id, ids);
		view_str(pk, ids);
	} else {
		msgpack_pack_nil(pk);
	}
	put_str(pk, "purpose", why, lw);
}

int
audit_query(MDB_txn *txn, const struct stdb *db, uint64_t since, uint64_t limit,
    msgpack_packer *pk, struct buf *b, struct jalin_err *err)
{
	uint8_t prev[32] = {0}, h[32];
	uint64_t expect = 1, total = 0, broken = 0, next = 0;
	struct stdb_iter it;
	EVP_MD_CTX *md;
	size_t mark;
	uint32_t shown = 0;
	int rc;

	if (limit == 0 || limit > JALIN_AUDIT_PAGE_MAX)
		limit = JALIN_AUDIT_PAGE_MAX;
	msgpack_pack_map(pk, 5);
	view_str(pk, "entries");
	mark = view_array_begin(b);
	if ((md = EVP_MD_CTX_new()) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	/* an older store opened read-only has no audit log: an empty walk */
	stdb_iter_open(&it, txn, db, STDB_AUDIT);
	stdb_iter_foreach(&it, NULL, 0)
	{
		const uint8_t *body = NULL, *hash = NULL, *v;
		size_t blen = 0, vlen;
		uint64_t seq = stdb_iter_seq(&it);
		v = stdb_iter_val(&it, &vlen);
		total++;
		bool parsed = split(v, vlen, &body, &blen, &hash) == 0;
		bool ok = seq == expect && parsed &&
		    chain_hash(md, prev, body, blen, h) == 0 &&
		    memcmp(h, hash, 32) == 0;
		if (!ok && broken == 0)
			broken = seq ? seq : expect;
		if (parsed)
			memcpy(
			    prev, hash, 32); /* go on: the first break counts */
		expect = seq + 1;
		if (seq <= since || body == NULL)
			continue;
		if (shown < limit) {
			pack_entry(pk, seq, body, blen);
			shown++;
		} else if (next == 0) {
			next = seq - 1;
		}
	}
	rc = stdb_iter_report(&it, err, "cannot read the audit log");
	stdb_iter_close(&it);
	EVP_MD_CTX_free(md);
	if (rc != 0)
		return rc;
	view_patch(b, mark, shown);
	view_str(pk, "next");
	if (next != 0)
		msgpack_pack_uint64(pk, next);
	else
		msgpack_pack_nil(pk);
	view_str(pk, "total");
	msgpack_pack_uint64(pk, total);
	view_str(pk, "chain");
	view_str(pk, broken ? "broken" : "ok");
	view_str(pk, "broken_at");
	if (broken)
		msgpack_pack_uint64(pk, broken);
	else
		msgpack_pack_nil(pk);
	return b->err;
}
