/*
 * lmdb_ceiling.c - what raw LMDB does on this machine, for `make bench`.
 *
 *   lmdb_ceiling fsync DIR [SECONDS]
 *	4 KiB O_DSYNC writes over one block of DIR/fsync.probe for SECONDS
 *	(default 2): the disk's durable write rate, which bounds every
 *	durable figure (TARGETS.md asks for it at the start of a run).
 *   lmdb_ceiling put [--append] (--store SRC | --jsonl FILE) OUT [BATCH]
 *	Load the records to put, then time putting them into a new LMDB
 *	environment OUT, BATCH records (default 1000) per transaction, each
 *	commit durable (LMDB's default sync). --store SRC copies the exact
 *	keys and values of jalind's "records" database in SRC (17-byte key,
 *	[seq][record state] value), in key order; --jsonl FILE puts for each
 *	line the same 17-byte key and the JSON line itself as the value.
 *	--append puts with MDB_APPEND (keys must come sorted): LMDB then
 *	fills pages completely instead of splitting them in the middle,
 *	which shows what sorted appends would save on disk.
 *   lmdb_ceiling stat DIR
 *	Space used by the LMDB environment in DIR: file size, pages in use,
 *	free pages, and pages and entries of each named database.
 *
 * Output is one "name value" pair per line, read by bench.py. Loading is
 * not timed; only the transactions (puts and durable commits) are.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#define KEY_LEN     17 /* collection byte + 16-byte id, as in storedb.h */
#define PROBE_BLOCK 4096
#define MAP_SLACK   (256ull << 20)
#define LINE_MAX_   (1u << 20)

/* The records to put: keys and values back to back in one arena. */
struct recs {
	uint8_t *arena;
	size_t used, cap;
	size_t *off; /* offset of record i's key; its value follows */
	uint32_t *vlen;
	size_t n, ncap;
	uint64_t vbytes;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: lmdb_ceiling fsync DIR [SECONDS]\n"
	    "       lmdb_ceiling put [--append] (--store SRC | --jsonl FILE) "
	    "OUT [BATCH]\n"
	    "       lmdb_ceiling stat DIR\n");
}

/* ---- fsync probe ------------------------------------------------------- */

static int
cmd_fsync(const char *dir, double secs)
{
	static uint8_t block[PROBE_BLOCK];
	char path[4096];
	double t0, t;
	long n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/fsync.probe", dir);
	fd = open(
	    path, O_WRONLY | O_CREAT | O_TRUNC | O_DSYNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "lmdb_ceiling: cannot create '%s': %s\n", path,
		    strerror(errno));
		return 1;
	}
	memset(block, 'j', sizeof(block));
	/* The first write allocates the block; only overwrites are timed. */
	if (pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block))
		goto fail;
	t0 = now_s();
	do {
		if (pwrite(fd, block, sizeof(block), 0) !=
		    (ssize_t)sizeof(block))
			goto fail;
		n++;
		t = now_s();
	} while (t - t0 < secs);
	close(fd);
	unlink(path);
	printf("fsync_writes %ld\nfsync_seconds %.6f\n", n, t - t0);
	printf("fsync_writes_per_s %.1f\nfsync_write_us %.1f\n", n / (t - t0),
	    (t - t0) * 1e6 / n);
	return 0;
fail:
	fprintf(stderr, "lmdb_ceiling: write to '%s' failed: %s\n", path,
	    strerror(errno));
	close(fd);
	unlink(path);
	return 1;
}

/* ---- loading the records ----------------------------------------------- */

static int
recs_add(
    struct recs *r, const uint8_t key[KEY_LEN], const void *val, size_t vlen)
{
	if (r->n == r->ncap) {
		size_t nc = r->ncap ? r->ncap * 2 : 4096;
		size_t *o = realloc(r->off, nc * sizeof(*o));
		if (o != NULL)
			r->off = o;
		uint32_t *l = realloc(r->vlen, nc * sizeof(*l));
		if (o == NULL || l == NULL)
			return -1;
		r->vlen = l;
		r->ncap = nc;
	}
	if (r->used + KEY_LEN + vlen > r->cap) {
		size_t nc = r->cap ? r->cap * 2 : (64u << 20);
		while (nc < r->used + KEY_LEN + vlen)
			nc *= 2;
		uint8_t *a = realloc(r->arena, nc);
		if (a == NULL)
			return -1;
		r->arena = a;
		r->cap = nc;
	}
	r->off[r->n] = r->used;
	r->vlen[r->n] = (uint32_t)vlen;
	memcpy(r->arena + r->used, key, KEY_LEN);
	memcpy(r->arena + r->used + KEY_LEN, val, vlen);
	r->used += KEY_LEN + vlen;
	r->vbytes += vlen;
	r->n++;
	return 0;
}

static void
recs_free(struct recs *r)
{
	free(r->arena);
	free(r->off);
	free(r->vlen);
}

static int
mdb_fail(const char *what, const char *obj, int rc)
{
	fprintf(
	    stderr, "lmdb_ceiling: %s '%s': %s\n", what, obj, mdb_strerror(rc));
	return 1;
}

/* Every key and value of jalind's "records" database in SRC. */
static int
load_store(const char *src, struct recs *r)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_dbi dbi;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 16)) != 0 ||
	    (rc = mdb_env_open(env, src, MDB_RDONLY | MDB_NOTLS, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "records", 0, &dbi)) != 0 ||
	    (rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		goto out;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != KEY_LEN) {
			fprintf(stderr,
			    "lmdb_ceiling: store '%s': key of %zu "
			    "bytes, expected %d\n",
			    src, k.mv_size, KEY_LEN);
			rc = MDB_CORRUPTED;
			goto out;
		}
		if (recs_add(r, k.mv_data, v.mv_data, v.mv_size) != 0) {
			rc = ENOMEM;
			goto out;
		}
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc == 0 ? 0 : mdb_fail("cannot read records of store", src, rc);
}

static int
coll_id(const char *name, size_t len)
{
	static const char *const names[] = {
	    "case", "partnership", "lks", "resource", "referral"};

	for (int i = 0; i < 5; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return i + 1;
	return -1;
}

static int
hexnib(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "id":"8-4-4-4-12" into 16 bytes. */
static int
parse_id(const char *s, uint8_t out[16])
{
	int o = 0;

	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			continue;
		}
		int hi = hexnib((unsigned char)s[i]);
		int lo = hexnib((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[o++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return 0;
}

/* The key of one line of gen.py output (compact JSON, our own format). */
static int
line_key(const char *line, uint8_t key[KEY_LEN])
{
	const char *c = strstr(line, "\"collection\":\"");
	const char *id = strstr(line, "\"id\":\"");
	const char *end;
	int cid;

	if (c == NULL || id == NULL)
		return -1;
	c += strlen("\"collection\":\"");
	if ((end = strchr(c, '"')) == NULL ||
	    (cid = coll_id(c, (size_t)(end - c))) < 0)
		return -1;
	key[0] = (uint8_t)cid;
	return parse_id(id + strlen("\"id\":\""), key + 1);
}

static int
load_jsonl(const char *path, struct recs *r)
{
	FILE *fp = fopen(path, "r");
	uint8_t key[KEY_LEN];
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = 0;

	if (fp == NULL) {
		fprintf(stderr, "lmdb_ceiling: cannot open '%s': %s\n", path,
		    strerror(errno));
		return 1;
	}
	while ((len = getline(&line, &cap, fp)) > 0) {
		lineno++;
		while (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > LINE_MAX_ || line_key(line, key) != 0) {
			fprintf(stderr,
			    "lmdb_ceiling: %s:%zu: no \"collection\" and "
			    "\"id\" of a known collection, or too long\n",
			    path, lineno);
			rc = 1;
			break;
		}
		if (recs_add(r, key, line, (size_t)len) != 0) {
			fprintf(stderr, "lmdb_ceiling: out of memory\n");
			rc = 1;
			break;
		}
	}
	free(line);
	fclose(fp);
	return rc;
}

/* ---- the timed puts ---------------------------------------------------- */

static int
open_out(const char *out, uint64_t bytes, MDB_env **env, MDB_dbi *dbi)
{
	MDB_txn *txn;
	int rc;

	if (mkdir(out, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "lmdb_ceiling: cannot create '%s': %s\n", out,
		    strerror(errno));
		return 1;
	}
	/* Big enough from the start: the ceiling never grows its map. */
	if ((rc = mdb_env_create(env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(*env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(*env, bytes * 3 + MAP_SLACK)) != 0 ||
	    (rc = mdb_env_open(*env, out, MDB_NOTLS, 0600)) != 0 ||
	    (rc = mdb_txn_begin(*env, NULL, 0, &txn)) != 0)
		return mdb_fail("cannot open environment", out, rc);
	if ((rc = mdb_dbi_open(txn, "records", MDB_CREATE, dbi)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0)
		return mdb_fail("cannot create database in", out, rc);
	return 0;
}

/* Records [first, end) in one durable transaction. */
static int
put_batch(MDB_env *env, MDB_dbi dbi, const struct recs *r, size_t first,
    size_t end, unsigned flags)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		return rc;
	for (size_t i = first; i < end; i++) {
		MDB_val k = {KEY_LEN, r->arena + r->off[i]};
		MDB_val v = {r->vlen[i], r->arena + r->off[i] + KEY_LEN};
		if ((rc = mdb_put(txn, dbi, &k, &v, flags)) != 0) {
			mdb_txn_abort(txn);
			return rc;
		}
	}
	return mdb_txn_commit(txn);
}

static int stat_env(const char *dir, uint64_t nrec);

static int
cmd_put(const char *mode, const char *src, const char *out, size_t batch,
    unsigned flags)
{
	struct recs r = {0};
	MDB_env *env = NULL;
	MDB_dbi dbi;
	double t0, t;
	int rc;

	if (strcmp(mode, "--store") == 0)
		rc = load_store(src, &r);
	else
		rc = load_jsonl(src, &r);
	if (rc == 0 && r.n == 0) {
		fprintf(stderr, "lmdb_ceiling: no records in '%s'\n", src);
		rc = 1;
	}
	if (rc != 0 || (rc = open_out(out, r.used, &env, &dbi)) != 0)
		goto done;
	t0 = now_s();
	for (size_t i = 0; i < r.n && rc == 0; i += batch)
		rc = put_batch(
		    env, dbi, &r, i, i + batch < r.n ? i + batch : r.n, flags);
	t = now_s() - t0;
	if (rc != 0) {
		rc = mdb_fail("put failed in", out, rc);
		goto done;
	}
	printf("records %zu\nbatch %zu\ntransactions %zu\nappend %d\n", r.n,
	    batch, (r.n + batch - 1) / batch, flags == MDB_APPEND);
	printf("key_bytes %zu\nvalue_bytes %llu\nseconds %.6f\n", r.n * KEY_LEN,
	    (unsigned long long)r.vbytes, t);
	printf("records_per_s %.1f\nMB_per_s %.3f\n", r.n / t,
	    (double)r.used / 1e6 / t);
	mdb_env_close(env);
	env = NULL;
	rc = stat_env(out, r.n);
done:
	if (env != NULL)
		mdb_env_close(env);
	recs_free(&r);
	return rc;
}

/* ---- space ------------------------------------------------------------- */

/* Pages on the free list (as mdb_stat -f counts them). */
static int
free_pages(MDB_txn *txn, uint64_t *n)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, 0, &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		const size_t *ids = v.mv_data; /* MDB_IDL: count, then ids */
		*n += ids[0];
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static void
print_db(const char *name, const MDB_stat *st, unsigned psize)
{
	uint64_t pages =
	    st->ms_branch_pages + st->ms_leaf_pages + st->ms_overflow_pages;

	printf("db_%s_entries %zu\ndb_%s_pages %llu\ndb_%s_bytes %llu\n", name,
	    st->ms_entries, name, (unsigned long long)pages, name,
	    (unsigned long long)pages * psize);
	printf("db_%s_depth %u\ndb_%s_overflow_pages %zu\n", name, st->ms_depth,
	    name, st->ms_overflow_pages);
}

/* Each named database: the main database's keys are their names. */
static int
stat_dbs(MDB_txn *txn, unsigned psize)
{
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_dbi dbi;
	MDB_stat st;
	char name[64];
	int rc;

	if ((rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0 ||
	    (rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) == 0) {
		MDB_dbi sub;
		if (k.mv_size == 0 || k.mv_size >= sizeof(name) ||
		    memchr(k.mv_data, '\0', k.mv_size) != NULL)
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if (mdb_dbi_open(txn, name, 0, &sub) != 0)
			continue; /* a plain key, not a database */
		if ((rc = mdb_stat(txn, sub, &st)) != 0)
			break;
		print_db(name, &st, psize);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
stat_env(const char *dir, uint64_t nrec)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_envinfo ei;
	MDB_stat st;
	uint64_t nfree = 0, used;
	char path[4096];
	struct stat sb;
	int rc;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) != 0) {
		fprintf(stderr, "lmdb_ceiling: cannot stat '%s': %s\n", path,
		    strerror(errno));
		return 1;
	}
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 16)) != 0 ||
	    (rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) != 0 ||
	    (rc = mdb_env_info(env, &ei)) != 0 ||
	    (rc = mdb_env_stat(env, &st)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = free_pages(txn, &nfree)) != 0) {
		rc = mdb_fail("cannot read environment", dir, rc);
		goto out;
	}
	used = (ei.me_last_pgno + 1 - nfree) * (uint64_t)st.ms_psize;
	printf("file_bytes %lld\npage_size %u\n", (long long)sb.st_size,
	    st.ms_psize);
	printf("last_pgno %zu\nfree_pages %llu\nused_bytes %llu\n",
	    ei.me_last_pgno, (unsigned long long)nfree,
	    (unsigned long long)used);
	if (nrec > 0)
		printf("file_bytes_per_record %.1f\nused_bytes_per_record "
		       "%.1f\n",
		    (double)sb.st_size / nrec, (double)used / nrec);
	if ((rc = stat_dbs(txn, st.ms_psize)) != 0)
		rc = mdb_fail("cannot list databases of", dir, rc);
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc;
}

/* put [--append] (--store SRC | --jsonl FILE) OUT [BATCH] */
static int
put_main(int argc, char **argv)
{
	unsigned flags = 0;
	long batch = 1000;

	if (argc > 0 && strcmp(argv[0], "--append") == 0) {
		flags = MDB_APPEND;
		argc--;
		argv++;
	}
	if (argc < 3 || argc > 4 ||
	    (strcmp(argv[0], "--store") != 0 &&
	        strcmp(argv[0], "--jsonl") != 0)) {
		usage();
		return 2;
	}
	if (argc == 4)
		batch = strtol(argv[3], NULL, 10);
	if (batch < 1 || batch > 1000000) {
		usage();
		return 2;
	}
	return cmd_put(argv[0], argv[1], argv[2], (size_t)batch, flags);
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && argc <= 4 && strcmp(argv[1], "fsync") == 0) {
		double secs = argc == 4 ? strtod(argv[3], NULL) : 2.0;
		if (secs <= 0 || secs > 600) {
			usage();
			return 2;
		}
		return cmd_fsync(argv[2], secs);
	}
	if (argc >= 2 && strcmp(argv[1], "put") == 0)
		return put_main(argc - 2, argv + 2);
	if (argc == 3 && strcmp(argv[1], "stat") == 0)
		return stat_env(argv[2], 0);
	usage();
	return 2;
}
