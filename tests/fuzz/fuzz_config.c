/*
 * fuzz_config.c - libFuzzer harness for the config loader: any file either
 * loads, or fails with a message; a file that loads prints a normalized
 * config that loads again and prints the same.
 */
#define _GNU_SOURCE /* open_memstream */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static char path[64];

static void
write_file(const void *d, size_t n)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		abort();
	fwrite(d, 1, n, fp);
	fclose(fp);
}

static char *
print(const struct cfg *c, size_t *n)
{
	char *s = NULL;
	FILE *m = open_memstream(&s, n);

	cfg_print(c, m);
	fclose(m);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct jalin_err e = {0};
	struct cfg *c = NULL, *c2 = NULL;
	size_t n1, n2;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/jalin-fuzz-%d.conf",
		    (int)getpid());
	write_file(d, n);
	if (cfg_load(path, &c, &e) != 0) {
		if (e.msg[0] == '\0')
			abort(); /* every failure says why */
		return 0;
	}
	char *s1 = print(c, &n1);
	write_file(s1, n1);
	if (cfg_load(path, &c2, &e) != 0)
		abort();
	char *s2 = print(c2, &n2);
	if (n1 != n2 || memcmp(s1, s2, n1) != 0)
		abort();
	free(s1);
	free(s2);
	cfg_free(c);
	cfg_free(c2);
	return 0;
}
