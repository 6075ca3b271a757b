/*
 * sig_bench.c - the cost of origin signatures per record (PROTOCOL.md
 * §13.7): the leaf of a bulk-workload record (13 text fields, 408 bytes of
 * values, as TARGETS.md's bulk workload), one ECDSA P-256 signature and one
 * verification per batch of JALIN_SIG_BATCH_MAX events. Medians of 5 runs of
 * N records; prints a report and BENCH lines (DESIGN.md §7).
 *
 * usage: sig_bench [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "record.h"
#include "sig.h"

#define RUNS    5
#define NFIELDS 13

static const unsigned sizes[NFIELDS] = {
    8, 10, 12, 14, 16, 20, 24, 30, 36, 44, 52, 64, 78}; /* 408 B */

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

/* values[i]: msgpack str of sizes[i] bytes (str8 header). */
static uint8_t values[NFIELDS][2 + 80];

static void
make_record(struct record *r, uint64_t hlc)
{
	rec_init(r);
	r->norigins = 1;
	r->origin[0] = (struct rec_origin){"sulsel", 6};
	r->ctx[0] = hlc;
	r->ndots = 1;
	r->dot[0] = (struct rec_dot){0, hlc};
	r->nentries = NFIELDS;
	for (unsigned i = 0; i < NFIELDS; i++)
		r->entry[i] = (struct rec_entry){
		    (uint16_t)(i + 1), 0, sizes[i] + 2, values[i]};
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	size_t nb = (n + JALIN_SIG_BATCH_MAX - 1) / JALIN_SIG_BATCH_MAX;
	struct sig_ctx *x = sig_ctx_new();
	struct record *r = malloc(sizeof(*r));
	uint8_t *leaves = malloc(n * SIG_LEAF_LEN), id[16] = {0};
	uint8_t kid[SIG_KID_LEN], d[SIG_DIGEST_LEN];
	uint8_t(*sigs)[SIG_MAX_LEN] = malloc(nb * SIG_MAX_LEN);
	size_t *slen = malloc(nb * sizeof(*slen));
	double tl[RUNS], ts[RUNS], tv[RUNS];
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct jalin_err err;

	if (n == 0 || x == NULL || r == NULL || leaves == NULL ||
	    sigs == NULL || slen == NULL || key == NULL ||
	    sig_kid(key, kid) != 0) {
		fprintf(stderr, "sig_bench: setup failed\n");
		return 1;
	}
	for (unsigned i = 0; i < NFIELDS; i++) {
		values[i][0] = 0xd9;
		values[i][1] = (uint8_t)sizes[i];
		for (unsigned j = 0; j < sizes[i]; j++)
			values[i][2 + j] = (uint8_t)('a' + (i + j) % 26);
	}
	for (int run = 0; run < RUNS; run++) {
		double t0 = now_s();
		for (size_t i = 0; i < n; i++) {
			memcpy(id, &i, sizeof(i));
			values[0][2] = (uint8_t)i; /* records differ */
			make_record(r, 0x10000 + i);
			jalin_err_clear(&err);
			if (sig_leaf(x, 1, id, r, 0, NULL, 0,
			        leaves + i * SIG_LEAF_LEN, &err) != 0)
				return 1;
		}
		double t1 = now_s();
		for (size_t b = 0; b < nb; b++) {
			size_t k = b + 1 < nb ? JALIN_SIG_BATCH_MAX
			                      : n - b * JALIN_SIG_BATCH_MAX;
			if (sig_batch_digest(x, "sulsel", 6, b, kid,
			        leaves + b * JALIN_SIG_BATCH_MAX * SIG_LEAF_LEN,
			        k, d) != 0 ||
			    sig_sign(key, d, sigs[b], &slen[b], &err) != 0)
				return 1;
		}
		double t2 = now_s();
		for (size_t b = 0; b < nb; b++) {
			size_t k = b + 1 < nb ? JALIN_SIG_BATCH_MAX
			                      : n - b * JALIN_SIG_BATCH_MAX;
			if (sig_batch_digest(x, "sulsel", 6, b, kid,
			        leaves + b * JALIN_SIG_BATCH_MAX * SIG_LEAF_LEN,
			        k, d) != 0 ||
			    sig_verify(key, d, sigs[b], slen[b], &err) != 0)
				return 1;
		}
		double t3 = now_s();
		tl[run] = (t1 - t0) * 1e6 / (double)n;
		ts[run] = (t2 - t1) * 1e6 / (double)n;
		tv[run] = (t3 - t2) * 1e6 / (double)n;
	}
	double l = median(tl), s = median(ts), v = median(tv);
	printf("origin signatures, %zu records of 13 fields (408 B), batches "
	       "of %d, median of %d runs:\n",
	    n, JALIN_SIG_BATCH_MAX, RUNS);
	printf(
	    "  leaf per record:           %.3f us (origin and verifier)\n", l);
	printf("  signing per record:        %.3f us (one per batch)\n", s);
	printf("  verifying per record:      %.3f us (one per batch)\n", v);
	printf("  origin total: %.3f us; relay-verifier total: %.3f us\n",
	    l + s, l + v);
	printf("BENCH sig_leaf_us_per_record %.3f us\n", l);
	printf("BENCH sig_sign_us_per_record %.3f us\n", s);
	printf("BENCH sig_verify_us_per_record %.3f us\n", v);
	printf("BENCH sig_origin_us_per_record %.3f us\n", l + s);
	printf("BENCH sig_verifier_us_per_record %.3f us\n", l + v);
	EVP_PKEY_free(key);
	sig_ctx_free(x);
	free(r);
	free(leaves);
	free(sigs);
	free(slen);
	return 0;
}
