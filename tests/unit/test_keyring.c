/*
 * test_keyring.c - the key ring (node/keyring.h): this node's encryption
 * key pair and the certificates of the others, each checked against the
 * CA and the CRL, with real certificates made by certs/jalin-ca in a
 * temporary directory (once for the group), and a real store for what is
 * learned from peers.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/sha.h>

#include "keyring.h"
#include "store.h"

#define BIG 1024

static char dir[64];   /* the group's temporary directory */
static char cadir[96]; /* its CA */

/* Run a shell command built from fmt; assert it succeeded. */
static void
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static const char *
ca_tool(void)
{
	static char path[512];
	const char *src = getenv("JALIN_SRCDIR");
	char cwd[256];

	if (src == NULL || src[0] == '\0')
		src = getcwd(cwd, sizeof(cwd));
	snprintf(path, sizeof(path), "%s/certs/jalin-ca", src ? src : ".");
	return path;
}

/* DIR/ca/nodes/NAME.SUFFIX */
static const char *
node_file(const char *name, const char *suffix, char *buf, size_t n)
{
	snprintf(buf, n, "%s/nodes/%s.%s", cadir, name, suffix);
	return buf;
}

static int
group_setup(void **state)
{
	const char *t = ca_tool();

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/jalin-keyring-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cadir, sizeof(cadir), "%s/ca", dir);
	sh("'%s' '%s' init >/dev/null", t, cadir);
	sh("cd '%s' && for n in jabar banten maluku gone papua sulsel; do "
	   "'%s' '%s' node $n >/dev/null || exit 1; done",
	    dir, t, cadir);
	/* sulsel's first key kept aside, then rotated one second later (a
	 * later notBefore); the CRL from before the rotation and the revoke
	 * lists both keys as valid */
	sh("cp '%s/nodes/sulsel.enc.pem' '%s/sulsel.old.pem' && cp '%s/crl.pem' "
	   "'%s/crl.before.pem' && sleep 1 && '%s' --force '%s' enc sulsel "
	   ">/dev/null 2>&1",
	    cadir, dir, cadir, dir, t, cadir);
	sh("'%s' '%s' revoke gone >/dev/null && '%s' '%s' roster >/dev/null "
	   "2>&1",
	    t, cadir, t, cadir);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	sh("rm -rf '%s'", dir);
	return 0;
}

struct fx {
	struct cfg c;
	struct keyring *kr;
	struct jalin_err err;
};

static void
set(char *dst, const char *src)
{
	snprintf(dst, JALIN_PATH_MAX, "%s", src);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[BIG];

	set(f->c.name, "jabar");
	snprintf(p, sizeof(p), "%s/ca.pem", cadir);
	set(f->c.tls_ca, p);
	snprintf(p, sizeof(p), "%s/crl.pem", cadir);
	set(f->c.tls_crl, p);
	set(f->c.tls_enc_key, node_file("jabar", "enc.key", p, sizeof(p)));
	set(f->c.tls_enc_cert, node_file("jabar", "enc.pem", p, sizeof(p)));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	kr_free(f->kr);
	free(f->c.peers);
	free(f);
	return 0;
}

/* The DER of a PEM certificate file (free it). */
static uint8_t *
der_of(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	X509 *x;
	unsigned char *der = NULL;
	int n;

	assert_non_null(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	n = i2d_X509(x, &der);
	X509_free(x);
	assert_true(n > 0);
	*len = (size_t)n;
	return der;
}

static int
learn_file(struct fx *f, const char *path)
{
	size_t len;
	uint8_t *der = der_of(path, &len);
	int rc;

	jalin_err_clear(&f->err);
	rc = kr_learn(f->kr, der, len, &f->err);
	OPENSSL_free(der);
	return rc;
}

static void
open_ok(struct fx *f)
{
	jalin_err_clear(&f->err);
	if (kr_open(&f->c, NULL, &f->kr, &f->err) != 0)
		fail_msg("kr_open: %s", f->err.msg);
}

static void
expect_refused(struct fx *f, int code, const char *why)
{
	char want[BIG];

	snprintf(want, sizeof(want),
	    "node jabar holds case records, whose S! fields are sealed to "
	    "their readers, but has no usable encryption key: %s (issue one "
	    "with 'jalin-ca DIR enc jabar')",
	    why);
	jalin_err_clear(&f->err);
	assert_int_equal(kr_open(&f->c, NULL, &f->kr, &f->err), code);
	assert_null(f->kr);
	assert_string_equal(f->err.msg, want);
}

/* ---- this node's key pair ---------------------------------------------- */

static void
test_own_key(void **state)
{
	struct fx *f = *state;
	uint8_t raw[32], d[32];
	size_t rl = sizeof(raw);

	open_ok(f);
	assert_non_null(kr_self(f->kr));
	assert_int_equal(EVP_PKEY_id(kr_self(f->kr)), EVP_PKEY_X25519);
	assert_int_equal(kr_count(f->kr), 1);
	const struct kr_info *k = kr_at(f->kr, 0);
	assert_string_equal(k->name, "jabar");
	assert_int_equal(k->source, KR_OWN);
	assert_true(k->not_after > k->not_before);
	assert_null(kr_at(f->kr, 1));
	/* kr_pub of our own name is our public half; the kid is SHA-256 of
	 * the raw public key */
	EVP_PKEY *pub = kr_pub(f->kr, "jabar", 5);
	assert_non_null(pub);
	assert_int_equal(EVP_PKEY_eq(pub, kr_self(f->kr)), 1);
	assert_int_equal(EVP_PKEY_get_raw_public_key(pub, raw, &rl), 1);
	SHA256(raw, rl, d);
	assert_memory_equal(k->kid, d, KR_KID_LEN);
	assert_null(kr_pub(f->kr, "jaba", 4));
	assert_null(kr_pub(f->kr, "banten", 6));
}

static void
test_own_key_refused(void **state)
{
	struct fx *f = *state;
	char p[BIG / 4], q[BIG / 4], why[BIG];

	set(f->c.tls_enc_key, "/nonexistent/jabar.enc.key");
	expect_refused(f, JALIN_ECONFIG,
	    "cannot read '/nonexistent/jabar.enc.key': No such file or "
	    "directory");

	set(f->c.tls_enc_key, node_file("jabar", "enc.key", p, sizeof(p)));
	set(f->c.tls_enc_cert, node_file("banten", "enc.pem", q, sizeof(q)));
	snprintf(why, sizeof(why),
	    "encryption certificate '%s' is for 'banten', but [node] name is "
	    "'jabar'",
	    q);
	expect_refused(f, JALIN_ETLS, why);

	set(f->c.tls_enc_cert, node_file("jabar", "pem", q, sizeof(q)));
	snprintf(why, sizeof(why),
	    "encryption certificate '%s' refused: not an X25519 key", q);
	expect_refused(f, JALIN_ETLS, why);

	set(f->c.tls_enc_cert, node_file("jabar", "enc.pem", q, sizeof(q)));
	set(f->c.tls_enc_key, node_file("banten", "enc.key", p, sizeof(p)));
	snprintf(why, sizeof(why),
	    "encryption key '%s' does not match its certificate '%s'", p, q);
	expect_refused(f, JALIN_ETLS, why);

	set(f->c.tls_enc_key, node_file("jabar", "key", p, sizeof(p)));
	snprintf(why, sizeof(why),
	    "'%s' is not an X25519 key (make one with jalin-ca DIR enc NAME)",
	    p);
	expect_refused(f, JALIN_ETLS, why);

	/* revoked: gone's own pair */
	set(f->c.name, "gone");
	set(f->c.tls_enc_key, node_file("gone", "enc.key", p, sizeof(p)));
	set(f->c.tls_enc_cert, node_file("gone", "enc.pem", q, sizeof(q)));
	jalin_err_clear(&f->err);
	assert_int_equal(kr_open(&f->c, NULL, &f->kr, &f->err), JALIN_ETLS);
	snprintf(why, sizeof(why),
	    "encryption certificate '%s' refused: certificate revoked", q);
	assert_non_null(strstr(f->err.msg, why));
}

static void
test_needed(void **state)
{
	struct fx *f = *state;

	assert_string_equal(kr_needed(&f->c), "case");
	f->c.peers = calloc(2, sizeof(*f->c.peers));
	f->c.npeers = 2;
	f->c.peers[0].collections = 1u << COLL_LKS;
	f->c.peers[1].collections = 1u << COLL_RESOURCE;
	assert_null(kr_needed(&f->c));
	/* a referral's personal fields are sealed too (sealrec.h) */
	f->c.peers[1].collections |= 1u << COLL_REFERRAL;
	assert_string_equal(kr_needed(&f->c), "referral");
	f->c.peers[0].collections |= 1u << COLL_CASE;
	assert_string_equal(kr_needed(&f->c), "case");
	f->c.peers[0].collections = 1u << COLL_LKS;

	/* not needed: no key is no refusal */
	f->c.peers[1].collections = 1u << COLL_RESOURCE;
	set(f->c.tls_enc_key, "/nonexistent/jabar.enc.key");
	open_ok(f);
	assert_null(kr_self(f->kr));
	assert_int_equal(kr_count(f->kr), 0);
}

/* ---- certificates of other nodes --------------------------------------- */

static void
test_learn(void **state)
{
	struct fx *f = *state;
	char p[BIG];
	static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};

	open_ok(f);
	assert_int_equal(
	    learn_file(f, node_file("banten", "enc.pem", p, sizeof(p))), 1);
	assert_int_equal(
	    learn_file(f, node_file("banten", "enc.pem", p, sizeof(p))), 0);
	assert_non_null(kr_pub(f->kr, "banten", 6));
	assert_int_equal(kr_count(f->kr), 2);
	assert_string_equal(kr_at(f->kr, 0)->name, "banten");
	assert_int_equal(kr_at(f->kr, 0)->source, KR_PEER);

	assert_int_equal(
	    learn_file(f, node_file("banten", "pem", p, sizeof(p))),
	    JALIN_ETLS);
	assert_string_equal(
	    f->err.msg, "certificate of 'banten' refused: not an X25519 key");
	assert_int_equal(
	    learn_file(f, node_file("gone", "enc.pem", p, sizeof(p))),
	    JALIN_ETLS);
	assert_string_equal(
	    f->err.msg, "certificate of 'gone' refused: certificate revoked");
	assert_null(kr_pub(f->kr, "gone", 4));

	/* our own name: our key pair decides */
	assert_int_equal(
	    learn_file(f, node_file("jabar", "enc.pem", p, sizeof(p))), 0);
	assert_int_equal(kr_at(f->kr, 1)->source, KR_OWN);

	jalin_err_clear(&f->err);
	assert_int_equal(
	    kr_learn(f->kr, junk, sizeof(junk), &f->err), JALIN_EPROTO);
	assert_string_equal(f->err.msg, "not one DER certificate");
	assert_int_equal(kr_count(f->kr), 2);

	size_t len;
	uint8_t *der =
	    der_of(node_file("maluku", "enc.pem", p, sizeof(p)), &len);
	assert_true(kr_is_enc_der(der, len));
	assert_int_equal(kr_learn(f->kr, der, len - 1, &f->err), JALIN_EPROTO);
	OPENSSL_free(der);
	der = der_of(node_file("maluku", "pem", p, sizeof(p)), &len);
	assert_false(kr_is_enc_der(der, len));
	OPENSSL_free(der);
	assert_false(kr_is_enc_der(junk, sizeof(junk)));
}

/* Of two valid certificates for one name, the later notBefore wins. */
static void
test_later_wins(void **state)
{
	struct fx *f = *state;
	char old[BIG], cur[BIG], crl[BIG];

	snprintf(crl, sizeof(crl), "%s/crl.before.pem", dir);
	set(f->c.tls_crl, crl); /* the old key not revoked yet */
	snprintf(old, sizeof(old), "%s/sulsel.old.pem", dir);
	node_file("sulsel", "enc.pem", cur, sizeof(cur));
	open_ok(f);
	assert_int_equal(learn_file(f, cur), 1);
	EVP_PKEY *k = kr_pub(f->kr, "sulsel", 6);
	assert_int_equal(learn_file(f, old), 0);
	assert_ptr_equal(kr_pub(f->kr, "sulsel", 6), k);
	kr_free(f->kr);

	open_ok(f);
	assert_int_equal(learn_file(f, old), 1);
	int64_t nb = kr_at(f->kr, 1)->not_before;
	assert_int_equal(learn_file(f, cur), 1);
	assert_string_equal(kr_at(f->kr, 1)->name, "sulsel");
	assert_true(kr_at(f->kr, 1)->not_before > nb);

	/* with the current CRL the old one is revoked */
	snprintf(crl, sizeof(crl), "%s/crl.pem", cadir);
	set(f->c.tls_crl, crl);
	kr_free(f->kr);
	open_ok(f);
	assert_int_equal(learn_file(f, old), JALIN_ETLS);
	assert_string_equal(
	    f->err.msg, "certificate of 'sulsel' refused: certificate revoked");
}

static void
test_roster(void **state)
{
	struct fx *f = *state;
	char p[BIG], r[BIG];

	/* the CA's roster, then a TLS certificate and garbage after it */
	snprintf(r, sizeof(r), "%s/roster.bad.pem", dir);
	sh("cat '%s/roster.pem' '%s' > '%s'", cadir,
	    node_file("banten", "pem", p, sizeof(p)), r);
	set(f->c.tls_roster, r);
	open_ok(f);
	/* jabar own; banten, maluku, papua, sulsel from the roster (gone is
	 * revoked: not in it) */
	assert_int_equal(kr_count(f->kr), 5);
	for (size_t i = 0; i < kr_count(f->kr); i++) {
		const struct kr_info *k = kr_at(f->kr, i);
		assert_int_equal(k->source,
		    strcmp(k->name, "jabar") == 0 ? KR_OWN : KR_ROSTER);
	}
	assert_non_null(kr_pub(f->kr, "papua", 5));
	assert_null(kr_pub(f->kr, "gone", 4));

	/* a missing roster is no refusal */
	set(f->c.tls_roster, "/nonexistent/roster.pem");
	kr_free(f->kr);
	open_ok(f);
	assert_int_equal(kr_count(f->kr), 1);
}

/* SIGHUP: a certificate revoked since is dropped. */
static void
test_recheck(void **state)
{
	struct fx *f = *state;
	char p[BIG], crl[BIG];

	snprintf(crl, sizeof(crl), "%s/crl.pre.pem", dir);
	sh("cp '%s/crl.pem' '%s'", cadir, crl);
	set(f->c.tls_crl, crl);
	open_ok(f);
	assert_int_equal(
	    learn_file(f, node_file("papua", "enc.pem", p, sizeof(p))), 1);
	assert_int_equal(
	    learn_file(f, node_file("maluku", "enc.pem", p, sizeof(p))), 1);
	sh("'%s' '%s' revoke papua >/dev/null && cp '%s/crl.pem' '%s'",
	    ca_tool(), cadir, cadir, crl);
	assert_non_null(kr_pub(f->kr, "papua", 5));
	jalin_err_clear(&f->err);
	assert_int_equal(kr_recheck(f->kr, &f->c, &f->err), 0);
	assert_null(kr_pub(f->kr, "papua", 5));
	assert_non_null(kr_pub(f->kr, "maluku", 6));
	assert_non_null(kr_self(f->kr));

	/* a CA that cannot be loaded: the ring stays as it was */
	set(f->c.tls_ca, "/nonexistent/ca.pem");
	assert_int_equal(kr_recheck(f->kr, &f->c, &f->err), JALIN_ETLS);
	assert_string_equal(f->err.msg,
	    "[tls] ca: cannot load the federation "
	    "CA '/nonexistent/ca.pem'");
	assert_non_null(kr_pub(f->kr, "maluku", 6));
}

/* What peers gave is kept in the store across a restart. */
static void
test_kept_in_store(void **state)
{
	struct fx *f = *state;
	char p[BIG], sdir[BIG];
	struct store_opts o;
	struct store *s;

	snprintf(sdir, sizeof(sdir), "%s/store", dir);
	o = (struct store_opts){sdir, "jabar", 64ull << 20, 0};
	assert_int_equal(store_open(&o, &s, NULL), 0);
	jalin_err_clear(&f->err);
	assert_int_equal(kr_open(&f->c, s, &f->kr, &f->err), 0);
	assert_int_equal(
	    learn_file(f, node_file("maluku", "enc.pem", p, sizeof(p))), 1);
	kr_free(f->kr);
	f->kr = NULL;
	store_close(s);

	assert_int_equal(store_open(&o, &s, NULL), 0);
	assert_int_equal(kr_open(&f->c, s, &f->kr, &f->err), 0);
	assert_non_null(kr_pub(f->kr, "maluku", 6));
	assert_int_equal(kr_at(f->kr, 1)->source, KR_PEER);
	assert_string_equal(kr_at(f->kr, 1)->name, "maluku");
	kr_free(f->kr);
	f->kr = NULL;
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_own_key),
	    T(test_own_key_refused),
	    T(test_needed),
	    T(test_learn),
	    T(test_later_wins),
	    T(test_roster),
	    T(test_kept_in_store),
	    T(test_recheck),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
