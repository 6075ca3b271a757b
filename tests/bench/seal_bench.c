/*
 * seal_bench.c - the cost of S! envelope encryption (PROTOCOL.md §14):
 * sealing and opening one field value (a 48-byte msgpack str, as a name or
 * an address of the case workload), building a keys value for R
 * recipients (one X25519 key agreement, HKDF and AES-GCM wrap each, plus
 * one ephemeral key and the chain; and with seal_ctx_eph_reuse, as a bulk
 * import would), opening one as a recipient. Medians of
 * 5 runs; prints a report and BENCH lines (DESIGN.md §7).
 *
 * usage: seal_bench [N values] [R recipients]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "seal.h"

#define RUNS  5
#define VLEN  48
#define NKEYS 2000 /* keys values built and opened per run */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_d);
	return v[RUNS / 2];
}

struct bench {
	struct seal_ctx *x;
	struct seal_key k, old;
	EVP_PKEY *priv[SEAL_WRAPS_MAX];
	struct seal_recipient r[SEAL_WRAPS_MAX];
	char names[SEAL_WRAPS_MAX][8];
	size_t nr;
	struct buf out, plain;
	struct jalin_err err;
};

/* Seal then open n values; per value times in *ts, *to. */
static int
values(struct bench *b, size_t n, double *ts, double *to)
{
	uint8_t v[2 + VLEN], id[16] = {0}, *sealed;
	size_t each;

	v[0] = 0xd9;
	v[1] = VLEN;
	for (int i = 0; i < VLEN; i++)
		v[2 + i] = (uint8_t)('a' + i % 26);
	buf_reset(&b->out);
	double t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		struct seal_where w = {1, id, (uint16_t)(16 + i % 8)};
		memcpy(id, &i, sizeof(i));
		if (seal_value(
		        b->x, &b->k, &w, v, sizeof(v), &b->out, &b->err) != 0)
			return -1;
	}
	double t1 = now_s();
	each = b->out.len / n;
	sealed = b->out.p;
	for (size_t i = 0; i < n; i++) {
		struct seal_where w = {1, id, (uint16_t)(16 + i % 8)};
		memcpy(id, &i, sizeof(i));
		buf_reset(&b->plain);
		/* skip the 3-byte ext8 header */
		if (seal_open(b->x, &b->k, 1, &w, sealed + i * each + 3,
		        each - 3, &b->plain, &b->err) != 0)
			return -1;
	}
	*ts = (t1 - t0) * 1e6 / (double)n;
	*to = (now_s() - t1) * 1e6 / (double)n;
	return 0;
}

/* Build then open NKEYS keys values for b->nr recipients with a chain of
 * one; per value times in *tb, *to. */
static int
keys(struct bench *b, double *tb, double *to)
{
	uint8_t id[16] = {0};
	struct seal_where w = {1, id, 0};
	struct seal_key out[2];
	size_t hdr, n;

	double t0 = now_s(), t1 = 0, topen = 0;
	for (int i = 0; i < NKEYS; i++) {
		memcpy(id, &i, sizeof(i));
		buf_reset(&b->out);
		if (seal_keys_build(b->x, &w, &b->k, &b->old, 1, b->r, b->nr,
		        &b->out, &b->err) != 0)
			return -1;
		hdr = b->out.p[0] == 0xc7 ? 3 : 4;
		t1 = now_s();
		if (seal_keys_open(b->x, &w, b->out.p + hdr, b->out.len - hdr,
		        b->r[0].name, b->r[0].len, b->priv[0], out, 2, &n,
		        &b->err) != 0 ||
		    n != 2)
			return -1;
		topen += now_s() - t1;
	}
	*tb = (now_s() - t0 - topen) * 1e6 / NKEYS;
	*to = topen * 1e6 / NKEYS;
	return 0;
}

static int
setup(struct bench *b, size_t n)
{
	if ((b->x = seal_ctx_new()) == NULL || seal_key_new(&b->k) != 0 ||
	    seal_key_new(&b->old) != 0)
		return -1;
	for (size_t i = 0; i < b->nr; i++) {
		if ((b->priv[i] = EVP_PKEY_Q_keygen(NULL, NULL, "X25519")) ==
		    NULL)
			return -1;
		snprintf(b->names[i], sizeof(b->names[i]), "node%02zu", i);
		b->r[i] = (struct seal_recipient){
		    b->names[i], (uint8_t)strlen(b->names[i]), b->priv[i]};
	}
	buf_init(&b->out, n * (3 + SEAL_OVERHEAD + 2 + VLEN) + 4096);
	buf_init(&b->plain, JALIN_VALUE_MAX);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	static struct bench b;
	double ts[RUNS], to[RUNS], kb[RUNS], ko[RUNS], kr[RUNS], kro[RUNS];

	b.nr = argc > 2 ? strtoul(argv[2], NULL, 10) : 3;
	if (n == 0 || b.nr == 0 || b.nr > SEAL_WRAPS_MAX || setup(&b, n) != 0) {
		fprintf(stderr, "seal_bench: setup failed\n");
		return 1;
	}
	for (int run = 0; run < RUNS; run++)
		if (values(&b, n, &ts[run], &to[run]) != 0 ||
		    keys(&b, &kb[run], &ko[run]) != 0) {
			fprintf(stderr, "seal_bench: %s\n",
			    jalin_err_msg(&b.err, JALIN_EINVAL));
			return 1;
		}
	/* a bulk import: one ephemeral key for many keys values */
	seal_ctx_eph_reuse(b.x, NKEYS);
	for (int run = 0; run < RUNS; run++)
		if (keys(&b, &kr[run], &kro[run]) != 0)
			return 1;
	double r = median(kr);
	double s = median(ts), o = median(to), k = median(kb), ok = median(ko);
	printf("S! envelopes: %zu values of %d bytes, %d keys values for %zu "
	       "recipients (chain of 1), median of %d runs:\n",
	    n, 2 + VLEN, NKEYS, b.nr, RUNS);
	printf("  seal one value:           %.3f us\n", s);
	printf("  open one value:           %.3f us\n", o);
	printf("  build one keys value:     %.3f us (%.3f us per recipient)\n",
	    k, k / (double)b.nr);
	printf("  open one keys value:      %.3f us (one recipient)\n", ok);
	printf("  build one keys value:     %.3f us (%.3f us per recipient) "
	       "sharing one ephemeral key (seal_ctx_eph_reuse)\n",
	    r, r / (double)b.nr);
	printf("BENCH seal_value_us %.3f us\n", s);
	printf("BENCH open_value_us %.3f us\n", o);
	printf("BENCH keys_build_us_per_recipient %.3f us\n", k / (double)b.nr);
	printf("BENCH keys_open_us %.3f us\n", ok);
	printf("BENCH keys_build_reuse_us_per_recipient %.3f us\n",
	    r / (double)b.nr);
	for (size_t i = 0; i < b.nr; i++)
		EVP_PKEY_free(b.priv[i]);
	seal_ctx_free(b.x);
	buf_free(&b.out);
	buf_free(&b.plain);
	return 0;
}
