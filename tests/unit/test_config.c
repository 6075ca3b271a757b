/*
 * test_config.c - the config loader, printer and file checks
 * (protocol/config.c), and the log (node/log.c).
 *
 * Operators without IT staff read these error messages, so every one is
 * asserted word for word. Golden files in tests/unit/config/ hold what
 * cfg_print writes; they are found under $JALIN_SRCDIR when it is set,
 * else relative to the current directory (make runs tests from the top).
 * Each test gets its own temporary directory.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"

#define BIG (4 * JALIN_PATH_MAX)

#define STR_(x) #x
#define STR(x)  STR_(x)

/* Lines 1-4 of most test configs; what follows starts on line 5. */
#define NODE \
	"[node]\nname = jabar\nregion = 32\ndata_dir = /var/lib/jalin/jabar\n"
#define NAME_RULE                                                            \
	"(1 to 64 characters: a-z, 0-9, '_' and '-', not starting with '_' " \
	"or '-')"
#define KEYS_NODE                                                        \
	"name, region, data_dir, listen, admin_socket, max_clock_skew, " \
	"all_cases, seal, relay, all_cases_nodes, require_signatures, "  \
	"write_authority_from, "                                         \
	"stall_timeout, max_connections, handshake_timeout, "            \
	"admin_idle_timeout, verify_interval, offline_hold, "            \
	"retention_check, map_size_max, log_level, metrics_listen"
#define COLLS   "case, partnership, lks, resource, referral"
#define A8      "aaaaaaaa"
#define A64     A8 A8 A8 A8 A8 A8 A8 A8
#define NOSIZE  "(use a number of bytes, or a number followed by K, M, G or T)"
#define NOPORT  "has no port (use host:port, e.g. banten.example:7420)"
#define BADPORT "has a bad port (use a number from 1 to 65535)"
#define NOLOOP                                                              \
	"is not a loopback address (metrics have no TLS and no login; use " \
	"127.0.0.1, [::1] or localhost)"

struct fx {
	char dir[JALIN_PATH_MAX];  /* the test's temporary directory */
	char conf[JALIN_PATH_MAX]; /* DIR/jalin.conf */
	struct cfg *c;
	struct jalin_err err;
};

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[JALIN_PATH_MAX], *real;
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(tmpl, sizeof(tmpl), "%s/jalin-test-config-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(tmpl) == NULL || (real = realpath(tmpl, NULL)) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s", real);
	snprintf(f->conf, sizeof(f->conf), "%s/jalin.conf", real);
	free(real);
	*state = f;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		chmod(path, 0700);
	return remove(path);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cfg_free(f->c);
	chmod(f->conf, 0600);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
put_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_true(write(fd, data, len) == (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* "DIR/name" in buf. */
static char *
in_dir(const struct fx *f, const char *name, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/%s", f->dir, name) >= size)
		fail_msg("path too long");
	return buf;
}

static int
load_len(struct fx *f, const char *text, size_t len)
{
	cfg_free(f->c);
	f->c = NULL;
	jalin_err_clear(&f->err);
	put_file(f->conf, text, len, 0600);
	return cfg_load(f->conf, &f->c, &f->err);
}

static int
load(struct fx *f, const char *text)
{
	return load_len(f, text, strlen(text));
}

static void
expect_ok(struct fx *f, const char *text)
{
	if (load(f, text) != 0)
		fail_msg("config:\n%s\nrefused: %s", text, f->err.msg);
	assert_non_null(f->c);
}

/* want: the message after "PATH" (":7: [node] ..."). */
static void
expect_error(struct fx *f, const char *text, const char *want)
{
	char full[BIG];
	int rc = load(f, text);

	snprintf(full, sizeof(full), "%s%s", f->conf, want);
	if (rc != JALIN_ECONFIG || strcmp(f->err.msg, full) != 0)
		fail_msg("config:\n%s\ngot  %d '%s'\nwant %d '%s'", text, rc,
		    f->err.msg, JALIN_ECONFIG, full);
	assert_null(f->c);
}

/* cfg_print to a string (free it). */
static char *
print_str(const struct cfg *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&s, &n);

	assert_non_null(fp);
	cfg_print(c, fp);
	assert_int_equal(fclose(fp), 0);
	return s;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s;
	long n;

	if (fp == NULL)
		fail_msg("cannot open '%s': %s (set JALIN_SRCDIR to the source "
		         "tree)",
		    path, strerror(errno));
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, fp), n);
	s[n] = '\0';
	fclose(fp);
	return s;
}

static void
data_path(const char *name, char *buf, size_t size)
{
	const char *src = getenv("JALIN_SRCDIR");

	if (src != NULL && src[0] != '\0')
		snprintf(buf, size, "%s/tests/unit/config/%s", src, name);
	else
		snprintf(buf, size, "tests/unit/config/%s", name);
}

/* Load tests/unit/config/NAME.conf (free it). */
static struct cfg *
load_data(const char *name)
{
	char conf[JALIN_PATH_MAX], file[64];
	struct jalin_err err = {0};
	struct cfg *c = NULL;

	snprintf(file, sizeof(file), "%s.conf", name);
	data_path(file, conf, sizeof(conf));
	if (cfg_load(conf, &c, &err) != 0)
		fail_msg("%s (set JALIN_SRCDIR to the source tree)", err.msg);
	return c;
}

/* Load tests/unit/config/NAME.conf and compare cfg_print to NAME.golden. */
static void
check_golden(const char *name)
{
	char golden[JALIN_PATH_MAX], file[64];
	struct cfg *c = load_data(name);
	char *want, *got;

	snprintf(file, sizeof(file), "%s.golden", name);
	data_path(file, golden, sizeof(golden));
	got = print_str(c);
	want = slurp(golden);
	assert_string_equal(got, want);
	free(got);
	free(want);
	cfg_free(c);
}

static void
test_golden_full(void **state)
{
	(void)state;
	check_golden("full");
}

static void
test_golden_minimal(void **state)
{
	(void)state;
	check_golden("minimal");
}

/* What cfg_print writes is a config that loads to the same output. */
static void
test_print_round_trip(void **state)
{
	struct fx *f = *state;
	struct cfg *c = load_data("full");
	char *first, *second;

	first = print_str(c);
	cfg_free(c);
	expect_ok(f, first);
	second = print_str(f->c);
	assert_string_equal(first, second);
	free(first);
	free(second);
}

static void
test_defaults(void **state)
{
	struct fx *f = *state;
	const struct cfg_peer *p;

	expect_ok(f, NODE "[peer banten]\n");
	assert_string_equal(f->c->listen.host, "0.0.0.0");
	assert_int_equal(f->c->listen.port, 7420);
	assert_true(f->c->listen.set);
	assert_string_equal(
	    f->c->admin_socket, "/var/lib/jalin/jabar/jalind.sock");
	assert_int_equal(f->c->max_clock_skew, JALIN_CLOCK_SKEW_DEFAULT);
	assert_int_equal(f->c->stall_timeout, JALIN_STALL_TIMEOUT);
	assert_int_equal(f->c->verify_interval, JALIN_VERIFY_INTERVAL);
	assert_int_equal(f->c->offline_hold, JALIN_OFFLINE_HOLD);
	assert_int_equal(f->c->retention_check, JALIN_RETENTION_CHECK);
	assert_true(f->c->map_size_max == JALIN_MAP_DEFAULT_MAX);
	assert_true(JALIN_MAP_DEFAULT_MAX == 64ull << 30); /* "64G" */
	assert_int_equal(f->c->log_level, CFG_LOG_NOTICE);
	assert_false(f->c->metrics_listen.set);
	assert_string_equal(f->c->tls_ca, "");
	assert_string_equal(f->c->tls_key, "");
	assert_int_equal(f->c->npeers, 1);
	p = cfg_peer_find(f->c, "banten");
	assert_non_null(p);
	assert_false(p->address.set);
	assert_int_equal(p->collections, 0x3e); /* ids 1..5 */
	assert_false(p->all_cases);
	assert_int_equal(p->line, 5);
	assert_null(cfg_peer_find(f->c, "sulsel"));
}

/* A [node] number key: its default and range are limits.h's constants. */
struct num_key {
	const char *name;
	size_t off; /* unsigned field in struct cfg */
	unsigned def, min, max;
};

static const struct num_key num_keys[] = {
    {"max_clock_skew", offsetof(struct cfg, max_clock_skew),
        JALIN_CLOCK_SKEW_DEFAULT, 1, JALIN_CLOCK_SKEW_MAX},
    {"stall_timeout", offsetof(struct cfg, stall_timeout), JALIN_STALL_TIMEOUT,
        1, JALIN_STALL_TIMEOUT_MAX},
    {"max_connections", offsetof(struct cfg, max_connections), JALIN_CONN_MAX,
        JALIN_CONN_MIN, JALIN_CONN_MAX},
    {"handshake_timeout", offsetof(struct cfg, handshake_timeout),
        JALIN_HANDSHAKE_TIMEOUT, 1, JALIN_HANDSHAKE_TIMEOUT_MAX},
    {"admin_idle_timeout", offsetof(struct cfg, admin_idle_timeout),
        JALIN_ADMIN_IDLE_TIMEOUT, 1, JALIN_ADMIN_IDLE_TIMEOUT_MAX},
    {"verify_interval", offsetof(struct cfg, verify_interval),
        JALIN_VERIFY_INTERVAL, 0, JALIN_VERIFY_INTERVAL_MAX},
    {"offline_hold", offsetof(struct cfg, offline_hold), JALIN_OFFLINE_HOLD, 0,
        JALIN_OFFLINE_HOLD_MAX},
    {"retention_check", offsetof(struct cfg, retention_check),
        JALIN_RETENTION_CHECK, 0, JALIN_RETENTION_CHECK_MAX},
};

static unsigned
num_field(const struct cfg *c, const struct num_key *k)
{
	return *(const unsigned *)((const char *)c + k->off);
}

/* NODE with "name = value"; the value is expected to load. */
static void
expect_num(struct fx *f, const struct num_key *k, unsigned v)
{
	char text[256];

	snprintf(text, sizeof(text), NODE "%s = %u\n", k->name, v);
	expect_ok(f, text);
	assert_int_equal(num_field(f->c, k), v);
	cfg_free(f->c);
	f->c = NULL;
}

/* NODE with "name = v", refused as "below"/"above" the bound. */
static void
expect_num_err(struct fx *f, const struct num_key *k, unsigned v,
    const char *side, unsigned bound)
{
	char text[256], want[256];

	snprintf(text, sizeof(text), NODE "%s = %u\n", k->name, v);
	snprintf(want, sizeof(want), ":5: [node] %s: %u is %s the %s %u",
	    k->name, v, side, side[0] == 'b' ? "minimum" : "maximum", bound);
	expect_error(f, text, want);
}

static void
test_defaults_and_ranges_are_limits(void **state)
{
	struct fx *f = *state;
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(num_keys) / sizeof(num_keys[0]); i++) {
		const struct num_key *k = &num_keys[i];

		expect_ok(f, NODE);
		assert_int_equal(num_field(f->c, k), k->def);
		cfg_free(f->c);
		f->c = NULL;
		expect_num(f, k, k->min);
		expect_num(f, k, k->max);
		expect_num_err(f, k, k->max + 1, "above", k->max);
		if (k->min > 0)
			expect_num_err(f, k, k->min - 1, "below", k->min);
	}
	expect_ok(f,
	    "[node]\nname = jabar\nregion = " STR(
	        JALIN_REGION_MIN) "\ndata_dir = /var/lib/jalin/jabar\n");
	assert_int_equal(f->c->region, JALIN_REGION_MIN);
	cfg_free(f->c);
	f->c = NULL;
	expect_ok(f,
	    "[node]\nname = jabar\nregion = " STR(
	        JALIN_REGION_MAX) "\ndata_dir = /var/lib/jalin/jabar\n");
	assert_int_equal(f->c->region, JALIN_REGION_MAX);
	cfg_free(f->c);
	f->c = NULL;
	snprintf(text, sizeof(text), NODE "map_size_max = %llu\n",
	    (unsigned long long)JALIN_MAP_MIN);
	expect_ok(f, text);
	assert_true(f->c->map_size_max == JALIN_MAP_MIN);
}

struct err_case {
	const char *text;
	const char *want; /* after the config's path */
};

static const struct err_case sect_cases[] = {
    {NODE "[nodes]\n",
        ":5: [nodes]: unknown section (use [node], [tls] or [peer NAME])"},
    {NODE "[ Peer banten ]\n",
        ":5: [Peer banten]: unknown section (use [node], [tls] or [peer "
        "NAME])"},
    {NODE "[node]\n", ":5: [node]: section appears twice (first on line 1)"},
    {NODE "[tls]\n[tls]\n",
        ":6: [tls]: section appears twice (first on line 5)"},
    {NODE "[peer banten]\n[peer  banten ]\n",
        ":6: [peer banten]: section appears twice (first on line 5)"},
    {NODE "[peer Banten]\n",
        ":5: [peer Banten]: not a valid peer name " NAME_RULE},
    {NODE "[peer -x]\n", ":5: [peer -x]: not a valid peer name " NAME_RULE},
    {NODE "[peer " A64 "a]\n",
        ":5: [peer " A64 "a]: not a valid peer name " NAME_RULE},
    {NODE "[peer]\n",
        ":5: [peer]: a peer section needs the peer's name, as in [peer "
        "banten]"},
    {NODE "[peer jabar]\n",
        ":5: [peer jabar]: a peer cannot have this node's own name"},
    {"",
        ": [node]: section is missing (it must set name, region and "
        "data_dir)"},
    {"[tls]\nca = /x\n",
        ": [node]: section is missing (it must set name, region and "
        "data_dir)"},
};

static const struct err_case key_cases[] = {
    {NODE "nmae = x\n",
        ":5: [node] nmae: unknown key (known keys: " KEYS_NODE ")"},
    {NODE "[tls]\ncafile = x\n",
        ":6: [tls] cafile: unknown key (known keys: ca, cert, key, crl, enc_key, enc_cert, roster)"},
    {NODE "[peer banten]\nadress = x:1\n",
        ":6: [peer banten] adress: unknown key (known keys: address, "
        "collections, all_cases, relay)"},
    {NODE "region = 33\n", ":5: [node] region: set twice (first on line 3)"},
    {NODE "[peer a]\nall_cases = no\nall_cases = yes\n",
        ":7: [peer a] all_cases: set twice (first on line 6)"},
    {"[node]\nname = jabar\nregion = 32\n",
        ":1: [node] data_dir: required key is missing (the directory that "
        "holds this node's store)"},
    {"[node]\nregion = 32\ndata_dir = /x\n",
        ":1: [node] name: required key is missing (this node's name; it must "
        "equal the CN of its certificate)"},
    {"[node]\nname = jabar\ndata_dir = /x\n",
        ":1: [node] region: required key is missing (the province code, e.g. "
        "32 for Jawa Barat)"},
    {"[node]\nname =\n",
        ":2: [node] name: value is empty (this node's name; it must equal the "
        "CN of its certificate)"},
    {NODE "listen =\n", ":5: [node] listen: value is empty"},
    {"[node]\ndata_dir = /srv/jalin /\n",
        ":2: [node] data_dir: '/srv/jalin /' ends in a blank before '/'"},
    {"[node]\nname = Jabar\n",
        ":2: [node] name: 'Jabar' is not a valid name " NAME_RULE},
    {"[node]\nname = _jabar\n",
        ":2: [node] name: '_jabar' is not a valid name " NAME_RULE},
    {"[node]\nname = jawa barat\n",
        ":2: [node] name: 'jawa barat' is not a valid name " NAME_RULE},
};

static const struct err_case number_cases[] = {
    {NODE "max_clock_skew = 0\n",
        ":5: [node] max_clock_skew: 0 is below the minimum 1"},
    {NODE "max_clock_skew = 86401\n",
        ":5: [node] max_clock_skew: 86401 is above the maximum 86400"},
    {NODE "max_clock_skew = 18446744073709551616\n",
        ":5: [node] max_clock_skew: 18446744073709551616 is above the "
        "maximum 86400"},
    {NODE "max_clock_skew = 5m\n",
        ":5: [node] max_clock_skew: '5m' is not a number"},
    {NODE "max_clock_skew = -1\n",
        ":5: [node] max_clock_skew: '-1' is not a number"},
    {"[node]\nregion = 10\n", ":2: [node] region: 10 is below the minimum 11"},
    {"[node]\nregion = 100\n",
        ":2: [node] region: 100 is above the maximum 99"},
    {NODE "map_size_max = 64X\n",
        ":5: [node] map_size_max: '64X' is not a size " NOSIZE},
    {NODE "map_size_max = G\n",
        ":5: [node] map_size_max: 'G' is not a size " NOSIZE},
    {NODE "map_size_max = 1.5G\n",
        ":5: [node] map_size_max: '1.5G' is not a size " NOSIZE},
    {NODE "map_size_max = 64GB\n",
        ":5: [node] map_size_max: '64GB' is not a size " NOSIZE},
    {NODE "map_size_max = 512K\n",
        ":5: [node] map_size_max: 512K is below the minimum 1M"},
    {NODE "map_size_max = 1048575\n",
        ":5: [node] map_size_max: 1048575 is below the minimum 1M"},
    {NODE "map_size_max = 16777216T\n",
        ":5: [node] map_size_max: 16777216T is too large"},
    {NODE "map_size_max = 18446744073709551616\n",
        ":5: [node] map_size_max: 18446744073709551616 is too large"},
    {NODE "[peer banten]\nall_cases = maybe\n",
        ":6: [peer banten] all_cases: 'maybe' is not yes or no (use yes, no, "
        "true, false, 1 or 0)"},
    {NODE "log_level = warn\n",
        ":5: [node] log_level: 'warn' is not a log level (use err, warning, "
        "notice, info or debug)"},
};

static const struct err_case addr_cases[] = {
    {NODE "listen = 0.0.0.0\n", ":5: [node] listen: '0.0.0.0' " NOPORT},
    {NODE "listen = :7420\n",
        ":5: [node] listen: ':7420' has no host (use host:port, e.g. "
        "banten.example:7420)"},
    {NODE "listen = 0.0.0.0:0\n", ":5: [node] listen: '0.0.0.0:0' " BADPORT},
    {NODE "listen = 0.0.0.0:65536\n",
        ":5: [node] listen: '0.0.0.0:65536' " BADPORT},
    {NODE "listen = 0.0.0.0:http\n",
        ":5: [node] listen: '0.0.0.0:http' " BADPORT},
    {NODE "listen = 0.0.0.0:\n", ":5: [node] listen: '0.0.0.0:' " BADPORT},
    {NODE "listen = ::1:7420\n",
        ":5: [node] listen: '::1:7420' needs brackets around an IPv6 address, "
        "as in [::1]:7420"},
    {NODE "listen = [::1:7420\n",
        ":5: [node] listen: '[::1:7420' has '[' without a matching ']'"},
    {NODE "listen = [jabar]:7420\n",
        ":5: [node] listen: '[jabar]:7420' has no valid IPv6 address between "
        "the brackets"},
    {NODE "listen = [::1]\n",
        ":5: [node] listen: '[::1]' has no port (use [address]:port, e.g. "
        "[::1]:7420)"},
    {NODE "listen = ban ten:7420\n",
        ":5: [node] listen: 'ban ten:7420' has a bad host name (use letters, "
        "digits, '.', '-' and '_')"},
    {NODE "[peer banten]\naddress = banten.example\n",
        ":6: [peer banten] address: 'banten.example' " NOPORT},
    {NODE "metrics_listen = 10.0.0.1:9100\n",
        ":5: [node] metrics_listen: '10.0.0.1:9100' " NOLOOP},
    {NODE "metrics_listen = 0.0.0.0:9100\n",
        ":5: [node] metrics_listen: '0.0.0.0:9100' " NOLOOP},
    {NODE "metrics_listen = [::]:9100\n",
        ":5: [node] metrics_listen: '[::]:9100' " NOLOOP},
    {NODE "metrics_listen = jabar.example:9100\n",
        ":5: [node] metrics_listen: 'jabar.example:9100' " NOLOOP},
    {NODE "metrics_listen = 127.0.0.1\n",
        ":5: [node] metrics_listen: '127.0.0.1' " NOPORT},
};

static const struct err_case coll_cases[] = {
    {NODE "[peer banten]\ncollections = cases\n",
        ":6: [peer banten] collections: 'cases' is not a collection (use " COLLS
        ")"},
    {NODE "[peer banten]\ncollections = case, Lks\n",
        ":6: [peer banten] collections: 'Lks' is not a collection (use " COLLS
        ")"},
    {NODE "[peer banten]\ncollections =\n",
        ":6: [peer banten] collections: value is empty (the collections "
        "shared with this peer: " COLLS ")"},
    {NODE "[peer banten]\ncollections = case,,lks\n",
        ":6: [peer banten] collections: 'case,,lks' has an empty name "
        "(separate names with commas or spaces)"},
    {NODE "[peer banten]\ncollections = case,\n",
        ":6: [peer banten] collections: 'case,' has an empty name (separate "
        "names with commas or spaces)"},
};

static const struct err_case syntax_cases[] = {
    {NODE "garbage\n", ":5: expected 'key = value' or a [section] header"},
    {NODE "name ; = x\n", ":5: expected 'key = value' or a [section] header"},
    {NODE "[tls\n", ":5: section header has no closing ']'"},
    {NODE "[tls ;]\n", ":5: section header has no closing ']'"},
    {NODE "[tls] ca = /x\n",
        ":5: unexpected text after ']' of a section header"},
    {"name = jabar\n[node]\n",
        ":1: name: key outside any section (put it under [node], [tls] or "
        "[peer NAME])"},
    {NODE "= x\n", ":5: no key name before '='"},
    {NODE ": x\n", ":5: no key name before ':'"},
};

/* The first error in file order wins, whoever finds it. */
static const struct err_case order_cases[] = {
    {"[node]\nregion = 0\nmax_clock_skew = 0\n",
        ":2: [node] region: 0 is below the minimum 11"},
    {"[node]\nregion = 0\ngarbage\n",
        ":2: [node] region: 0 is below the minimum 11"},
    {"[node]\ngarbage\nregion = 0\n",
        ":2: expected 'key = value' or a [section] header"},
    {"[node]\nregion = 0\n[nodes]\n",
        ":2: [node] region: 0 is below the minimum 11"},
    {"[nodes]\n[node]\nregion = 0\n",
        ":1: [nodes]: unknown section (use [node], [tls] or [peer NAME])"},
    {"[node]\nregion = 0\n", ":2: [node] region: 0 is below the minimum 11"},
    {"[peer jabar]\n[node]\nname = jabar\nregion = 0\n",
        ":4: [node] region: 0 is below the minimum 11"},
};

static void
run_cases(struct fx *f, const struct err_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		expect_error(f, cases[i].text, cases[i].want);
}

#define RUN(f, cases) run_cases(f, cases, sizeof(cases) / sizeof(cases[0]))

static void
test_errors_sections(void **state)
{
	RUN(*state, sect_cases);
}

static void
test_errors_keys(void **state)
{
	RUN(*state, key_cases);
}

static void
test_errors_numbers(void **state)
{
	RUN(*state, number_cases);
}

static void
test_errors_addresses(void **state)
{
	RUN(*state, addr_cases);
}

static void
test_errors_collections(void **state)
{
	RUN(*state, coll_cases);
}

static void
test_errors_syntax(void **state)
{
	RUN(*state, syntax_cases);
}

static void
test_errors_first_wins(void **state)
{
	RUN(*state, order_cases);
}

/* Values every type accepts, in the forms operators write them. */
static void
test_accepted_values(void **state)
{
	struct fx *f = *state;

	expect_ok(f,
	    NODE "map_size_max = 1M\nlog_level = DEBUG\n"
	         "metrics_listen = [::1]:9100\n[peer a]\nall_cases = 1\n"
	         "collections = lks\n[peer b]\nall_cases = TRUE\n");
	assert_true(f->c->map_size_max == JALIN_MAP_MIN);
	assert_int_equal(f->c->log_level, CFG_LOG_DEBUG);
	assert_string_equal(f->c->metrics_listen.host, "::1");
	assert_true(cfg_peer_find(f->c, "a")->all_cases);
	assert_int_equal(cfg_peer_find(f->c, "a")->collections, 1u << 3);
	assert_true(cfg_peer_find(f->c, "b")->all_cases);
	expect_ok(f, NODE "map_size_max = 2g\nmetrics_listen = localhost:1\n");
	assert_true(f->c->map_size_max == 2ull << 30);
	expect_ok(f,
	    NODE "map_size_max = 16777215T\n"
	         "metrics_listen = 127.1.2.3:65535\n");
	assert_true(f->c->map_size_max == 16777215ull << 40);
	assert_int_equal(f->c->metrics_listen.port, 65535);
	expect_ok(f, NODE "map_size_max = 1048576\n");
	assert_true(f->c->map_size_max == 1048576);
	expect_ok(f,
	    NODE "[peer a]\nall_cases = false\n[peer b]\n"
	         "all_cases = 0\n[peer c]\ncollections = referral\n");
	assert_false(cfg_peer_find(f->c, "b")->all_cases);
	assert_int_equal(cfg_peer_find(f->c, "c")->collections, 1u << 5);
}

/*
 * inih r55 traps: indented lines (continuations), CRLF, a byte order
 * mark, inline comments, ':' as separator, empty sections and section
 * names cut at 49 bytes. None may change what we read.
 */
static void
test_inih_traps(void **state)
{
	struct fx *f = *state;

	expect_ok(f,
	    "\xef\xbb\xbf[node]\r\n  name = jabar ; the CN\r\n"
	    "  region: 32\r\n\tdata_dir = /srv/jalin ;x\r\n");
	assert_string_equal(f->c->name, "jabar");
	assert_int_equal(f->c->region, 32);
	assert_string_equal(f->c->data_dir, "/srv/jalin");
	expect_error(f, NODE "  listen = 127.0.0.1:7000;not a comment\n",
	    ":5: [node] listen: '127.0.0.1:7000;not a comment' " BADPORT);
	expect_ok(f,
	    NODE "[peer " A64 "]\ncollections = case\n"
	         "[peer " A8 A8 A8 A8 A8 A8 A8 "aaaaaaab]\n[peer empty]\n");
	assert_int_equal(f->c->npeers, 3);
	assert_string_equal(f->c->peers[0].name, A64);
	assert_int_equal(f->c->peers[0].collections, 1u << 1);
	assert_int_equal(f->c->peers[1].collections, 0x3e);
	assert_string_equal(f->c->peers[2].name, "empty");
	assert_int_equal(f->c->peers[2].line, 8);
}

/* Lines of 199 bytes pass (not counting "\n" or "\r\n"), 200 do not. */
static void
test_line_limit(void **state)
{
	struct fx *f = *state;
	char text[1024], line[256];

	/* "data_dir = /" is 12 bytes: 187 more make 199 */
	snprintf(line, sizeof(line), "data_dir = /%0187d", 0);
	assert_int_equal(strlen(line), 199);
	snprintf(
	    text, sizeof(text), "[node]\nname = jabar\n%s\nregion = 0\n", line);
	/* and the line count after it must not drift (inih's does) */
	expect_error(f, text, ":4: [node] region: 0 is below the minimum 11");
	snprintf(text, sizeof(text),
	    "[node]\nname = jabar\n%s\r\nregion = 32\nadmin_socket = /j.sock\n",
	    line);
	expect_ok(f, text);
	assert_int_equal(strlen(f->c->data_dir), 188);
	snprintf(text, sizeof(text), "[node]\nname = jabar\n%s0\nregion = 0\n",
	    line);
	expect_error(f, text, ":3: line is 200 bytes long; the limit is 199");
	snprintf(text, sizeof(text), NODE ";%0198d\n", 0);
	expect_ok(f, text);
	snprintf(text, sizeof(text), NODE ";%0199d\n", 0);
	expect_error(f, text, ":5: line is 200 bytes long; the limit is 199");
}

static void
test_nul_byte(void **state)
{
	struct fx *f = *state;
	static const char text[] = "[node]\nname = ja\0bar\nregion = 32\n";
	char want[BIG];

	assert_int_equal(load_len(f, text, sizeof(text) - 1), JALIN_ECONFIG);
	snprintf(want, sizeof(want), "%s:2: line contains a NUL byte", f->conf);
	assert_string_equal(f->err.msg, want);
	assert_null(f->c);
}

/* A file of JALIN_CONFIG_FILE_MAX bytes loads; one byte more does not. */
static void
test_file_limit(void **state)
{
	struct fx *f = *state;
	size_t n = JALIN_CONFIG_FILE_MAX, used = strlen(NODE);
	char *text = malloc(n + 2), want[BIG];

	assert_non_null(text);
	memcpy(text, NODE, used);
	while (used < n) {
		size_t line = n - used > 80 ? 80 : n - used;
		memset(text + used, '#', line - 1);
		text[used + line - 1] = '\n';
		used += line;
	}
	assert_int_equal(load_len(f, text, n), 0);
	text[n] = '\n';
	assert_int_equal(load_len(f, text, n + 1), JALIN_ECONFIG);
	snprintf(want, sizeof(want),
	    "%s: file is %u bytes long; the limit is %u", f->conf,
	    JALIN_CONFIG_FILE_MAX + 1, JALIN_CONFIG_FILE_MAX);
	assert_string_equal(f->err.msg, want);
	assert_null(f->c);
	free(text);
}

static void
test_unreadable(void **state)
{
	struct fx *f = *state;
	char want[BIG], path[JALIN_PATH_MAX];

	assert_int_equal(cfg_load(f->dir, &f->c, &f->err), JALIN_EIO);
	snprintf(want, sizeof(want), "cannot read config '%s': Is a directory",
	    f->dir);
	assert_string_equal(f->err.msg, want);
	jalin_err_clear(&f->err);
	in_dir(f, "missing.conf", path, sizeof(path));
	assert_int_equal(cfg_load(path, &f->c, &f->err), JALIN_EIO);
	snprintf(want, sizeof(want),
	    "cannot read config '%s': No such file or directory", path);
	assert_string_equal(f->err.msg, want);
	assert_null(f->c);
	jalin_err_clear(&f->err);
	put_file(f->conf, NODE, strlen(NODE), 0);
	if (geteuid() == 0) {
		print_message(
		    "[ SKIPPED  ] chmod 000 subcase: running as root, "
		    "which reads any file\n");
		return;
	}
	assert_int_equal(cfg_load(f->conf, &f->c, &f->err), JALIN_EIO);
	snprintf(want, sizeof(want),
	    "cannot read config '%s': Permission denied", f->conf);
	assert_string_equal(f->err.msg, want);
}

static void
test_too_many_peers(void **state)
{
	struct fx *f = *state;
	size_t size = strlen(NODE) + 16 * (JALIN_PEERS_MAX + 1) + 1, n;
	char *text = malloc(size);
	char want[64];
	int i;

	assert_non_null(text);
	n = (size_t)snprintf(text, size, "%s", NODE);
	for (i = 0; i < JALIN_PEERS_MAX; i++)
		n += (size_t)snprintf(text + n, size - n, "[peer p%d]\n", i);
	expect_ok(f, text);
	assert_int_equal(f->c->npeers, JALIN_PEERS_MAX);
	assert_non_null(cfg_peer_find(f->c, "p255"));
	snprintf(text + n, size - n, "[peer p%d]\n", i);
	snprintf(want, sizeof(want),
	    ":%d: [peer p256]: too many peers (the limit is %d)",
	    5 + JALIN_PEERS_MAX, JALIN_PEERS_MAX);
	expect_error(f, text, want);
	free(text);
}

/* Relative paths are taken from the config file's directory. */
static void
test_relative_paths(void **state)
{
	struct fx *f = *state;
	char want[BIG], cwd[JALIN_PATH_MAX];

	expect_ok(f,
	    "[node]\nname = jabar\nregion = 32\ndata_dir = data/\n"
	    "[tls]\nca = ./ca.pem\ncert = certs//jabar.pem\n"
	    "key = ../keys/jabar.key\ncrl = .\n");
	snprintf(want, sizeof(want), "%s/data", f->dir);
	assert_string_equal(f->c->data_dir, want);
	snprintf(want, sizeof(want), "%s/data/jalind.sock", f->dir);
	assert_string_equal(f->c->admin_socket, want);
	snprintf(want, sizeof(want), "%s/ca.pem", f->dir);
	assert_string_equal(f->c->tls_ca, want);
	snprintf(want, sizeof(want), "%s/certs/jabar.pem", f->dir);
	assert_string_equal(f->c->tls_cert, want);
	snprintf(want, sizeof(want), "%s/../keys/jabar.key", f->dir);
	assert_string_equal(f->c->tls_key, want);
	assert_string_equal(f->c->tls_crl, f->dir);
	/* a relative config path: still absolute results */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	cfg_free(f->c);
	f->c = NULL;
	assert_int_equal(cfg_load("./jalin.conf", &f->c, &f->err), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(want, sizeof(want), "%s/data", f->dir);
	assert_string_equal(f->c->data_dir, want);
	assert_string_equal(f->c->path, "./jalin.conf");
}

static void
test_admin_socket_length(void **state)
{
	struct fx *f = *state;
	char text[1024], want[BIG];

	/* 107 bytes fit in sun_path (108 with the NUL), 108 do not */
	snprintf(text, sizeof(text), NODE "admin_socket = /%0106d\n", 0);
	expect_ok(f, text);
	assert_int_equal(strlen(f->c->admin_socket), 107);
	snprintf(text, sizeof(text), NODE "admin_socket = /%0107d\n", 0);
	expect_error(f, text,
	    ":5: [node] admin_socket: the absolute path is 108 bytes long; the "
	    "limit is 107 (a Unix socket path must fit in sun_path)");
	/* the default, DATA_DIR/jalind.sock, is checked too */
	snprintf(text, sizeof(text),
	    "[node]\nname = jabar\nregion = 32\ndata_dir = /%094d\n", 0);
	expect_ok(f, text);
	assert_int_equal(strlen(f->c->admin_socket), 107);
	snprintf(text, sizeof(text),
	    "[node]\nname = jabar\nregion = 32\ndata_dir = /%095d\n", 0);
	snprintf(want, sizeof(want),
	    ":4: [node] admin_socket: the default DATA_DIR/jalind.sock is 108 "
	    "bytes long; the limit is 107 (a Unix socket path must fit in "
	    "sun_path; set admin_socket to a shorter path)");
	expect_error(f, text, want);
	/* set explicitly, a long data_dir is fine */
	snprintf(text, sizeof(text),
	    "[node]\nname = jabar\nregion = 32\ndata_dir = /%096d\n"
	    "admin_socket = /run/jalin/jabar.sock\n",
	    0);
	expect_ok(f, text);
}

static void
test_parse_addr(void **state)
{
	struct cfg_addr a;

	(void)state;
	assert_int_equal(cfg_parse_addr("banten.example:7420", &a), 0);
	assert_string_equal(a.host, "banten.example");
	assert_int_equal(a.port, 7420);
	assert_true(a.set);
	assert_int_equal(cfg_parse_addr("[2001:db8::1]:1", &a), 0);
	assert_string_equal(a.host, "2001:db8::1");
	assert_int_equal(a.port, 1);
	assert_int_equal(cfg_parse_addr("10.1.2.3:65535", &a), 0);
	assert_int_equal(a.port, 65535);
	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(cfg_parse_addr("banten.example", &a), JALIN_EINVAL);
	assert_int_equal(a.port, 0x5a5a); /* untouched on error */
	assert_int_equal(cfg_parse_addr("h:0", &a), JALIN_EINVAL);
	assert_int_equal(cfg_parse_addr("h:65536", &a), JALIN_EINVAL);
	assert_int_equal(cfg_parse_addr("h:+1", &a), JALIN_EINVAL);
	assert_int_equal(cfg_parse_addr("", &a), JALIN_EINVAL);
	assert_int_equal(cfg_parse_addr("[::1]7420", &a), JALIN_EINVAL);
	assert_int_equal(cfg_parse_addr(NULL, &a), JALIN_EINVAL);
	cfg_free(NULL);
}

/* A config whose TLS files and data_dir live in the test directory. */
static void
load_with_files(struct fx *f, const char *data_dir)
{
	char text[BIG];

	snprintf(text, sizeof(text),
	    "[node]\nname = jabar\nregion = 32\ndata_dir = %s\n"
	    "[tls]\nca = ca.pem\ncert = jabar.pem\nkey = jabar.key\n"
	    "crl = crl.pem\n",
	    data_dir);
	expect_ok(f, text);
}

static void
make_tls_files(struct fx *f, mode_t key_mode)
{
	static const char *const names[] = {"ca.pem", "jabar.pem", "crl.pem"};
	char path[JALIN_PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		put_file(in_dir(f, names[i], path, sizeof(path)), "x", 1, 0644);
	put_file(in_dir(f, "jabar.key", path, sizeof(path)), "k", 1, key_mode);
}

static void
expect_files(struct fx *f, int code, const char *want)
{
	struct jalin_err err = {0};

	assert_int_equal(cfg_check_files(f->c, &err), code);
	assert_string_equal(err.msg, want);
}

static void
test_check_files_ok(void **state)
{
	struct fx *f = *state;
	char path[JALIN_PATH_MAX];

	make_tls_files(f, 0600);
	load_with_files(f, "data");
	expect_files(f, 0, ""); /* no data_dir yet, but its parent is there */
	assert_int_equal(mkdir(in_dir(f, "data", path, sizeof(path)), 0700), 0);
	expect_files(f, 0, "");
	/* no TLS files named: only data_dir is checked */
	expect_ok(f, "[node]\nname = jabar\nregion = 32\ndata_dir = data\n");
	expect_files(f, 0, "");
}

/* enc_key, enc_cert default to NAME.enc.key, NAME.enc.pem beside key and
 * cert (what certs/jalin-ca writes); may be absent (node/keyring.c decides
 * if they are needed); an enc_key group or others may read is refused. */
static void
test_enc_paths(void **state)
{
	struct fx *f = *state;
	char key[JALIN_PATH_MAX], want[BIG], ek[JALIN_PATH_MAX];

	make_tls_files(f, 0600);
	load_with_files(f, "data");
	in_dir(f, "jabar.enc.key", ek, sizeof(ek));
	assert_string_equal(f->c->tls_enc_key, ek);
	in_dir(f, "jabar.enc.pem", key, sizeof(key));
	assert_string_equal(f->c->tls_enc_cert, key);
	assert_string_equal(f->c->tls_roster, "");
	expect_files(f, 0, ""); /* absent: not checked here */
	put_file(ek, "k", 1, 0644);
	snprintf(want, sizeof(want),
	    "private key '%s' is readable by group or others (mode 0644); run "
	    "chmod 600 '%s'",
	    ek, ek);
	expect_files(f, JALIN_EPERM, want);

	/* another suffix: appended; set explicitly: kept */
	expect_ok(f,
	    "[node]\nname = jabar\nregion = 32\ndata_dir = d\n"
	    "[tls]\ncert = /x/jabar.crt\nkey = /x/jabar\n"
	    "enc_key = /y/e.key\nroster = /y/roster.pem\n");
	assert_string_equal(f->c->tls_enc_key, "/y/e.key");
	assert_string_equal(f->c->tls_enc_cert, "/x/jabar.crt.enc.pem");
	assert_string_equal(f->c->tls_roster, "/y/roster.pem");
	expect_ok(f,
	    "[node]\nname = jabar\nregion = 32\ndata_dir = d\n"
	    "[tls]\ncert = /x/jabar.pem\nkey = /x/jabar.key.old\n");
	assert_string_equal(f->c->tls_enc_key, "/x/jabar.key.old.enc.key");
	assert_string_equal(f->c->tls_enc_cert, "/x/jabar.enc.pem");
}

static void
test_check_files_key_mode(void **state)
{
	static const mode_t modes[] = {0640, 0644, 0604, 0620};
	static const char *const what[] = {
	    "readable", "readable", "readable", "accessible"};
	struct fx *f = *state;
	char key[JALIN_PATH_MAX], want[BIG];
	size_t i;

	make_tls_files(f, 0600);
	load_with_files(f, "data");
	in_dir(f, "jabar.key", key, sizeof(key));
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(key, modes[i]), 0);
		snprintf(want, sizeof(want),
		    "private key '%s' is %s by group or others (mode %04o); run "
		    "chmod 600 '%s'",
		    key, what[i], (unsigned)modes[i], key);
		expect_files(f, JALIN_EPERM, want);
	}
	assert_int_equal(chmod(key, 0400), 0);
	expect_files(f, 0, "");
}

static void
test_check_files_missing(void **state)
{
	struct fx *f = *state;
	char path[JALIN_PATH_MAX], want[BIG];

	make_tls_files(f, 0600);
	load_with_files(f, "data");
	assert_int_equal(unlink(in_dir(f, "jabar.pem", path, sizeof(path))), 0);
	snprintf(want, sizeof(want),
	    "[tls] cert: cannot read '%s': No such file or directory", path);
	expect_files(f, JALIN_ECONFIG, want);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(
	    want, sizeof(want), "[tls] cert: '%s' is not a regular file", path);
	expect_files(f, JALIN_ECONFIG, want);
}

static void
test_check_files_data_dir(void **state)
{
	struct fx *f = *state;
	char path[JALIN_PATH_MAX], want[BIG];

	make_tls_files(f, 0600);
	load_with_files(f, "no/data");
	snprintf(want, sizeof(want),
	    "[node] data_dir: '%s/no/data' does not exist and cannot be "
	    "created ('%s/no': No such file or directory)",
	    f->dir, f->dir);
	expect_files(f, JALIN_ECONFIG, want);
	load_with_files(f, "ca.pem");
	snprintf(want, sizeof(want),
	    "[node] data_dir: '%s' exists but is not a directory",
	    in_dir(f, "ca.pem", path, sizeof(path)));
	expect_files(f, JALIN_ECONFIG, want);
	load_with_files(f, "ca.pem/data");
	snprintf(want, sizeof(want),
	    "[node] data_dir: cannot use '%s/data': Not a directory", path);
	expect_files(f, JALIN_ECONFIG, want);
}

/* Run fn with stderr going to a pipe; returns what it wrote (free it). */
static char *
capture_stderr(void (*fn)(void))
{
	int fds[2], saved;
	char *buf = calloc(1, 65536);
	ssize_t n;

	assert_non_null(buf);
	assert_int_equal(pipe(fds), 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
	close(fds[1]);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = read(fds[0], buf, 65535);
	assert_true(n >= 0);
	close(fds[0]);
	return buf;
}

/* "2026-11-22T10:42:01.123Z jalind[PID] LEVEL: MSG" */
static void
check_log_line(const char *line, size_t len, const char *level, const char *msg)
{
	static const char shape[] = "0000-00-00T00:00:00.000Z";
	char want[BIG];
	size_t i;

	assert_true(len > sizeof(shape));
	for (i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == '0')
			assert_true(line[i] >= '0' && line[i] <= '9');
		else
			assert_int_equal(line[i], shape[i]);
	}
	snprintf(want, sizeof(want), " jalind[%ld] %s: %s", (long)getpid(),
	    level, msg);
	assert_int_equal(len - (sizeof(shape) - 1), strlen(want));
	assert_memory_equal(line + sizeof(shape) - 1, want, strlen(want));
}

static void
log_some(void)
{
	log_init(1, CFG_LOG_NOTICE, "jalind");
	log_notice("peer banten: up");
	log_info("peer banten: hidden");
	log_debug("peer banten: hidden");
	errno = ENOENT;
	log_warn("store: cannot open '%s'", "/var/lib/jalin/jabar");
	assert_int_equal(errno, ENOENT);
	errno = EACCES;
	log_warnx("peer banten: frame of %u bytes", 9437184u);
	log_err("store: sync");
	log_errx("store: full");
	log_set_level(CFG_LOG_WARNING);
	log_notice("peer banten: hidden");
	log_set_level(CFG_LOG_DEBUG + 7);
	assert_int_equal(log_get_level(), CFG_LOG_DEBUG);
	log_debug("admin: connected");
	log_set_level(CFG_LOG_NOTICE);
}

static void
test_log_lines(void **state)
{
	static const char *const want[][2] = {
	    {"notice", "peer banten: up"},
	    {"warning",
	        "store: cannot open '/var/lib/jalin/jabar': No such file or "
	        "directory"},
	    {"warning", "peer banten: frame of 9437184 bytes"},
	    {"err", "store: sync: Permission denied"},
	    {"err", "store: full"},
	    {"debug", "admin: connected"},
	};
	char *out = capture_stderr(log_some), *p = out, *nl;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		check_log_line(p, (size_t)(nl - p), want[i][0], want[i][1]);
		p = nl + 1;
	}
	assert_string_equal(p, "");
	free(out);
}

static void
log_long(void)
{
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_init(1, CFG_LOG_NOTICE, "jalind");
	log_notice("peer banten: %s", big);
	errno = EIO;
	log_warn("store: %s", big);
}

/* A message too long for one line is cut and marked, still one line. */
static void
test_log_truncated(void **state)
{
	char *out = capture_stderr(log_long), *nl, *nl2;

	(void)state;
	nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_int_equal(nl + 1 - out, 1023);
	assert_memory_equal(nl - 3, "...", 3);
	assert_non_null(strstr(out, " notice: peer banten: xxx"));
	nl2 = strchr(nl + 1, '\n');
	assert_non_null(nl2);
	assert_int_equal(nl2 - nl, 1023);
	assert_memory_equal(nl2 - 3, "...", 3);
	assert_non_null(strstr(nl + 1, " warning: store: xxx"));
	assert_string_equal(nl2 + 1, "");
	free(out);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_golden_full),
	    T(test_golden_minimal),
	    T(test_print_round_trip),
	    T(test_defaults),
	    T(test_defaults_and_ranges_are_limits),
	    T(test_errors_sections),
	    T(test_errors_keys),
	    T(test_errors_numbers),
	    T(test_errors_addresses),
	    T(test_errors_collections),
	    T(test_errors_syntax),
	    T(test_errors_first_wins),
	    T(test_accepted_values),
	    T(test_inih_traps),
	    T(test_line_limit),
	    T(test_nul_byte),
	    T(test_file_limit),
	    T(test_unreadable),
	    T(test_too_many_peers),
	    T(test_relative_paths),
	    T(test_admin_socket_length),
	    T(test_parse_addr),
	    T(test_check_files_ok),
	    T(test_check_files_key_mode),
	    T(test_enc_paths),
	    T(test_check_files_missing),
	    T(test_check_files_data_dir),
	    T(test_log_lines),
	    T(test_log_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
