/*
 * test_crypt.c - S! values sealed by the writer (node/crypt.c) and opened
 * by the readers (protocol/sealrec.c), on real records made by merge_put:
 * who can read, re-puts that change nothing, a reader added, a reader
 * taken out (a new key), a node that is not a reader, the keys field kept
 * away from clients' views.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <msgpack.h>
#include <openssl/evp.h>

#include "crypt.h"
#include "merge.h"
#include "record.h"
#include "schema.h"
#include "sealrec.h"
#include "view.h"

enum {
	JABAR,
	BANTEN,
	SULSEL,
	PUSAT,
	NNODES
};
static const char *const names[NNODES] = {"jabar", "banten", "sulsel", "pusat"};

struct fx {
	EVP_PKEY *key[NNODES];
	struct crypt *cr[NNODES];
	struct srec *rd[NNODES];
	struct record *old, *out;
	struct buf state; /* the record, encoded */
	struct buf vals;  /* the put's values */
	uint64_t hlc;
	uint8_t id[16];
	const struct schema_coll *c;
};

static EVP_PKEY *
pub_of(void *arg, const char *name, size_t len)
{
	struct fx *f = arg;

	for (int i = 0; i < NNODES; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return f->key[i];
	return NULL;
}

static size_t
all_cases(void *arg, struct crypt_name *out, size_t max)
{
	(void)arg;
	if (max < 1)
		return 0;
	out[0] = (struct crypt_name){"pusat", 5};
	return 1;
}

static EVP_PKEY *
x25519(void)
{
	EVP_PKEY_CTX *k = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
	EVP_PKEY *p = NULL;

	assert_non_null(k);
	assert_int_equal(EVP_PKEY_keygen_init(k), 1);
	assert_int_equal(EVP_PKEY_keygen(k, &p), 1);
	EVP_PKEY_CTX_free(k);
	return p;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const struct crypt_keys k = {pub_of, all_cases, f};

	assert_non_null(f);
	for (int i = 0; i < NNODES; i++) {
		f->key[i] = x25519();
		f->cr[i] = crypt_new(names[i], f->key[i], &k);
		f->rd[i] = srec_new(names[i], f->key[i]);
		assert_non_null(f->cr[i]);
		assert_non_null(f->rd[i]);
	}
	f->old = malloc(sizeof(*f->old));
	f->out = malloc(sizeof(*f->out));
	rec_init(f->old);
	buf_init(&f->state, JALIN_RECORD_MAX);
	buf_init(&f->vals, JALIN_RECORD_MAX);
	f->hlc = 1000;
	memset(f->id, 0x42, sizeof(f->id));
	f->c = schema_coll_by_id(COLL_CASE);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < NNODES; i++) {
		crypt_free(f->cr[i]);
		srec_free(f->rd[i]);
		EVP_PKEY_free(f->key[i]);
	}
	free(f->old);
	free(f->out);
	buf_free(&f->state);
	buf_free(&f->vals);
	free(f);
	return 0;
}

/* One field of a put: name and a msgpack value built by the caller. */
struct fv {
	const char *name;
	const char *str;   /* a string value, or */
	const char **list; /* a list of strings (NULL-terminated) */
};

/* Put fields as node `who` on the current record (f->old): returns the
 * crypt_put code; on 0 the record is merged, encoded and decoded again. */
static int
put(struct fx *f, int who, const struct fv *fv, size_t nfv, bool *changed)
{
	struct merge_update u[CRYPT_UPDATES_MAX];
	uint32_t off[16];
	msgpack_packer pk;
	size_t n = 0;
	int rc;

	buf_reset(&f->vals);
	msgpack_packer_init(&pk, &f->vals, buf_pk_write);
	for (size_t i = 0; i < nfv; i++) {
		off[i] = (uint32_t)f->vals.len;
		if (fv[i].list != NULL) {
			size_t k = 0;
			while (fv[i].list[k] != NULL)
				k++;
			msgpack_pack_array(&pk, (uint32_t)k);
			for (size_t j = 0; j < k; j++)
				msgpack_pack_str_with_body(
				    &pk, fv[i].list[j], strlen(fv[i].list[j]));
		} else {
			msgpack_pack_str_with_body(
			    &pk, fv[i].str, strlen(fv[i].str));
		}
	}
	/* in their state form, as ops.c stores them: strings coded */
	struct buf canon;
	uint32_t coff[16], clen[16];
	buf_init(&canon, JALIN_RECORD_MAX);
	for (size_t i = 0; i < nfv; i++) {
		uint32_t end = i + 1 < nfv ? off[i + 1] : (uint32_t)f->vals.len;
		coff[i] = (uint32_t)canon.len;
		assert_int_equal(
		    rec_val_canon(f->vals.p + off[i], end - off[i], &canon), 0);
		clen[i] = (uint32_t)canon.len - coff[i];
	}
	for (size_t i = 0; i < nfv; i++) {
		const struct schema_field *sf =
		    schema_field_by_name(f->c, fv[i].name, strlen(fv[i].name));
		assert_non_null(sf);
		u[n++] =
		    (struct merge_update){sf->tag, clen[i], canon.p + coff[i]};
	}
	for (size_t i = 1; i < n; i++) /* sort by tag */
		for (size_t j = i; j > 0 && u[j].tag < u[j - 1].tag; j--) {
			struct merge_update t = u[j];
			u[j] = u[j - 1];
			u[j - 1] = t;
		}
	struct jalin_err err;
	jalin_err_clear(&err);
	rc = crypt_put(f->cr[who], f->c, f->id, f->old, u, &n,
	    CRYPT_UPDATES_MAX, NULL, &err);
	if (rc != 0) {
		buf_free(&canon);
		return rc;
	}
	bool ch = false;
	assert_int_equal(merge_put(f->old, u, n, names[who], strlen(names[who]),
	                     ++f->hlc, f->out, &ch),
	    0);
	if (changed != NULL)
		*changed = ch;
	if (!ch) {
		buf_free(&canon);
		return 0;
	}
	struct buf enc;
	buf_init(&enc, JALIN_RECORD_MAX);
	assert_int_equal(rec_encode(f->out, &enc), 0);
	buf_reset(&f->state);
	assert_int_equal(buf_append(&f->state, enc.p, enc.len), 0);
	buf_free(&enc);
	/* the stored form must decode as a peer's state would */
	rc = rec_decode(f->old, f->state.p, f->state.len, 0, &err);
	buf_free(&canon);
	if (rc != 0)
		fail_msg("the sealed state does not decode: %s", err.msg);
	return 0;
}

/* The plaintext of field name as node who reads it: rc of srec_open, the
 * string (msgpack str) copied into out. */
static int
read_as(struct fx *f, int who, const char *name, char *out, size_t outlen)
{
	const struct schema_field *sf =
	    schema_field_by_name(f->c, name, strlen(name));
	size_t a, b;
	struct buf plain;
	int rc;

	assert_true(rec_field(f->old, sf->tag, &a, &b) > 0);
	const struct rec_entry *e = &f->old->entry[rec_winner(f->old, a, b)];
	buf_init(&plain, JALIN_VALUE_MAX);
	rc = srec_open(f->rd[who], f->c, f->id, f->old, sf->tag, e->val,
	    e->vlen, &plain, NULL);
	if (rc == 0) {
		/* the state form: a string may be coded (record.h) */
		struct buf t;
		const uint8_t *pv;
		uint32_t plen;
		buf_init(&t, JALIN_VALUE_MAX);
		assert_int_equal(
		    rec_val_plain(plain.p, (uint32_t)plain.len, &t, &pv, &plen),
		    0);
		assert_true(plen >= 1);
		/* fixstr or str8: the test values are short */
		size_t h = (pv[0] & 0xe0) == 0xa0 ? 1 : 2;
		snprintf(
		    out, outlen, "%.*s", (int)(plen - h), (const char *)pv + h);
		buf_free(&t);
	}
	buf_free(&plain);
	return rc;
}

static bool
state_has(const struct fx *f, const char *s)
{
	return memmem(f->state.p, f->state.len, s, strlen(s)) != NULL;
}

static const char *share_banten[] = {"banten", NULL};

static void
create(struct fx *f)
{
	const struct fv fv[] = {
	    {"nik", "3201234567890123", NULL},
	    {"diagnosis", "skizofrenia paranoid", NULL},
	    {"share_with", NULL, share_banten},
	    {"status", "reported", NULL},
	};
	assert_int_equal(put(f, JABAR, fv, 4, NULL), 0);
}

static void
test_readers(void **state)
{
	struct fx *f = *state;
	char v[64];

	create(f);
	assert_false(state_has(f, "3201234567890123"));
	assert_false(state_has(f, "skizofrenia"));
	assert_true(state_has(f, "banten")); /* not S!: plain */
	for (int who = JABAR; who < NNODES; who++) {
		int rc = read_as(f, who, "nik", v, sizeof(v));
		if (who == SULSEL) {
			assert_int_equal(rc, JALIN_ENOTFOUND);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(v, "3201234567890123");
	}
	assert_int_equal(read_as(f, PUSAT, "diagnosis", v, sizeof(v)), 0);
	assert_string_equal(v, "skizofrenia paranoid");
}

static void
test_same_value_changes_nothing(void **state)
{
	struct fx *f = *state;
	const struct fv fv[] = {{"nik", "3201234567890123", NULL}};
	bool changed = true;

	create(f);
	assert_int_equal(put(f, JABAR, fv, 1, &changed), 0);
	assert_false(changed);
	/* a reader that is not the origin: the same */
	assert_int_equal(put(f, BANTEN, fv, 1, &changed), 0);
	assert_false(changed);
}

static void
test_reader_writes(void **state)
{
	struct fx *f = *state;
	const struct fv fv[] = {{"notes", "dikunjungi, keluarga setuju", NULL}};
	char v[64];

	create(f);
	assert_int_equal(put(f, BANTEN, fv, 1, NULL), 0);
	assert_false(state_has(f, "keluarga"));
	assert_int_equal(read_as(f, JABAR, "notes", v, sizeof(v)), 0);
	assert_string_equal(v, "dikunjungi, keluarga setuju");
	assert_int_equal(
	    read_as(f, SULSEL, "notes", v, sizeof(v)), JALIN_ENOTFOUND);
}

static void
test_not_a_reader(void **state)
{
	struct fx *f = *state;
	const struct fv fv[] = {{"nik", "9999999999999999", NULL}};

	create(f);
	assert_int_equal(put(f, SULSEL, fv, 1, NULL), JALIN_EPERM);
}

static void
test_reader_added(void **state)
{
	struct fx *f = *state;
	static const char *both[] = {"banten", "sulsel", NULL};
	const struct fv fv[] = {{"share_with", NULL, both}};
	char v[64];

	create(f);
	assert_int_equal(
	    read_as(f, SULSEL, "nik", v, sizeof(v)), JALIN_ENOTFOUND);
	assert_int_equal(put(f, JABAR, fv, 1, NULL), 0);
	/* the past values, under the same key */
	assert_int_equal(read_as(f, SULSEL, "nik", v, sizeof(v)), 0);
	assert_string_equal(v, "3201234567890123");
	assert_int_equal(read_as(f, BANTEN, "nik", v, sizeof(v)), 0);
}

static void
test_reader_taken_out(void **state)
{
	struct fx *f = *state;
	static const char *none[] = {NULL};
	const struct fv out[] = {{"share_with", NULL, none}};
	const struct fv later[] = {{"notes", "ditulis sesudah ditarik", NULL}};
	char v[64];

	create(f);
	assert_int_equal(put(f, JABAR, out, 1, NULL), 0);
	assert_int_equal(put(f, JABAR, later, 1, NULL), 0);
	/* banten kept its old wrap in no value: the new key is not its */
	assert_int_equal(
	    read_as(f, BANTEN, "notes", v, sizeof(v)), JALIN_ENOTFOUND);
	/* the readers left read old and new values (the chain) */
	assert_int_equal(read_as(f, JABAR, "notes", v, sizeof(v)), 0);
	assert_string_equal(v, "ditulis sesudah ditarik");
	assert_int_equal(read_as(f, PUSAT, "nik", v, sizeof(v)), 0);
	assert_string_equal(v, "3201234567890123");
	assert_int_equal(read_as(f, JABAR, "diagnosis", v, sizeof(v)), 0);
	assert_string_equal(v, "skizofrenia paranoid");
}

/* More withdrawals than a keys value carries keys: the keys no value is
 * sealed under go first, so every value still opens. */
static void
test_many_rotations(void **state)
{
	struct fx *f = *state;
	static const char *none[] = {NULL};
	char v[64], note[32];

	create(f);
	for (int i = 0; i < 2 * SEAL_CHAIN_MAX; i++) {
		const struct fv back[] = {{"share_with", NULL, share_banten}};
		const struct fv out[] = {{"share_with", NULL, none}};
		snprintf(note, sizeof(note), "catatan %d", i);
		const struct fv w[] = {{"notes", note, NULL}};
		assert_int_equal(put(f, JABAR, back, 1, NULL), 0);
		assert_int_equal(put(f, JABAR, out, 1, NULL), 0);
		assert_int_equal(put(f, JABAR, w, 1, NULL), 0);
	}
	/* nik was sealed under the first key of all */
	assert_int_equal(read_as(f, JABAR, "nik", v, sizeof(v)), 0);
	assert_string_equal(v, "3201234567890123");
	assert_int_equal(read_as(f, PUSAT, "notes", v, sizeof(v)), 0);
	snprintf(note, sizeof(note), "catatan %d", 2 * SEAL_CHAIN_MAX - 1);
	assert_string_equal(v, note);
	assert_int_equal(
	    read_as(f, BANTEN, "notes", v, sizeof(v)), JALIN_ENOTFOUND);
}

static void
test_view_hides_keys(void **state)
{
	struct fx *f = *state;
	struct view_open op;
	msgpack_packer pk;
	struct buf b;

	create(f);
	buf_init(&b, JALIN_FRAME_MAX);
	msgpack_packer_init(&pk, &b, buf_pk_write);
	srec_view(f->rd[SULSEL], &op);
	assert_int_equal(view_record(&pk, &b, f->c, f->id, f->old, 0, &op), 0);
	assert_non_null(memmem(b.p, b.len, "(encrypted)", 11));
	assert_null(memmem(b.p, b.len, "keys", 4));
	buf_reset(&b);
	srec_view(f->rd[BANTEN], &op);
	assert_int_equal(view_record(&pk, &b, f->c, f->id, f->old, 0, &op), 0);
	assert_null(memmem(b.p, b.len, "(encrypted)", 11));
	assert_non_null(memmem(b.p, b.len, "3201234567890123", 16));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_readers, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_same_value_changes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reader_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_reader, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reader_added, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reader_taken_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_many_rotations, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_view_hides_keys, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
