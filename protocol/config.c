/*
 * config.c - read, validate and print jalind's INI configuration.
 *
 * cfg_keys[] is the whole grammar: every section and key with its type,
 * default and bounds. We read the file ourselves and scan it line by line
 * before inih sees it, because Debian 12's inih (r55) has four traps:
 * it splits lines over 199 bytes (a silently cut value), it cuts section
 * names at 49 bytes (two long peer names would merge), it never reports a
 * section without keys, and it reads an indented line as the continuation
 * of the previous value. The scan refuses long lines, NUL bytes, syntax
 * errors and bad section headers, registers every section, and hands
 * ini_parse_string a copy that stops before the first bad line, with
 * leading blanks and comments removed. The key handler then walks that
 * copy in step with inih, so it knows each key's line and section; inih's
 * own line count drifts after a line of exactly 199 bytes. Errors read
 * "PATH:LINE: [section] key: what is wrong (why)" and the first one wins.
 */
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "schema.h"

enum sect_kind {
	S_NODE,
	S_TLS,
	S_PEER,
};

enum cfg_type {
	T_NAME,  /* [a-z0-9][a-z0-9_-]{0,63} */
	T_PATH,  /* resolved against the config file's directory */
	T_UINT,  /* decimal, min..max */
	T_SIZE,  /* bytes, with an optional K, M, G or T */
	T_BOOL,  /* yes/no/true/false/1/0 */
	T_ADDR,  /* host:port or [v6]:port */
	T_LADDR, /* T_ADDR on a loopback address */
	T_COLLS, /* list of collection names */
	T_NAMES, /* list of T_NAME, stored "a, b" */
	T_LEVEL, /* log level name */
};

struct cfg_key {
	enum sect_kind sect;
	const char *name;
	enum cfg_type type;
	const char *def;   /* default, parsed like a value; NULL: none */
	bool required;     /* [node] keys the file must set */
	bool optional;     /* may stay unset: an empty value means unset */
	bool secret;       /* a private key: group and others keep out */
	bool may_lack;     /* a file that may be absent: whether it is needed
	                      is decided when jalind starts (node/keyring.c) */
	uint64_t min, max; /* T_UINT, T_SIZE */
	size_t off, size;  /* field in struct cfg or struct cfg_peer */
	const char *what;  /* shown when the key is missing or empty */
	const char *note;  /* why a length limit exists */
};

#define FIELD(type, m) .off = offsetof(type, m), .size = sizeof(((type *)0)->m)
#define NODE(m)        FIELD(struct cfg, m)
#define PEER(m)        FIELD(struct cfg_peer, m)
#define STR_(x)        #x
#define STR(x)         STR_(x)

#define COLL_NAMES "case, partnership, lks, resource, referral"
#define NAME_RULE                                                          \
	"1 to " STR(JALIN_NAME_MAX) " characters: a-z, 0-9, '_' and '-', " \
	                            "not starting with '_' or '-'"
#define SOCKET_NOTE "a Unix socket path must fit in sun_path"

/* Every key jalind knows, in the order cfg_print writes them. */
static const struct cfg_key cfg_keys[] = {
    {S_NODE, "name", T_NAME, .required = true, NODE(name),
        .what = "this node's name; it must equal the CN of its certificate"},
    {S_NODE, "region", T_UINT, .required = true, .min = JALIN_REGION_MIN,
        .max = JALIN_REGION_MAX, NODE(region),
        .what = "the province code, e.g. 32 for Jawa Barat"},
    {S_NODE, "data_dir", T_PATH, .required = true, NODE(data_dir),
        .what = "the directory that holds this node's store"},
    {S_NODE, "listen", T_ADDR, .def = "0.0.0.0:7420", NODE(listen)},
    {S_NODE, "admin_socket", T_PATH, NODE(admin_socket), .note = SOCKET_NOTE},
    {S_NODE, "max_clock_skew", T_UINT, .def = STR(JALIN_CLOCK_SKEW_DEFAULT),
        .min = 1, .max = JALIN_CLOCK_SKEW_MAX, NODE(max_clock_skew)},
    {S_NODE, "all_cases", T_BOOL, .def = "no", NODE(all_cases)},
    {S_NODE, "seal", T_BOOL, .def = "yes", NODE(seal),
        .what = "seal personal fields of the cases this node writes"},
    {S_NODE, "relay", T_BOOL, .def = "no", NODE(relay),
        .what = "keep every case and referral to pass on, sealed"},
    {S_NODE, "all_cases_nodes", T_NAMES, .optional = true,
        NODE(all_cases_nodes),
        .what = "the federation's all_cases nodes, for write authority"},
    {S_NODE, "require_signatures", T_BOOL, .def = "no",
        NODE(require_signatures)},
    {S_NODE, "write_authority_from", T_UINT, .def = "0", .min = 0,
        .max = JALIN_AUTHZ_FROM_MAX, NODE(write_authority_from)},
    {S_NODE, "stall_timeout", T_UINT, .def = STR(JALIN_STALL_TIMEOUT), .min = 1,
        .max = JALIN_STALL_TIMEOUT_MAX, NODE(stall_timeout)},
    {S_NODE, "max_connections", T_UINT, .def = STR(JALIN_CONN_MAX),
        .min = JALIN_CONN_MIN, .max = JALIN_CONN_MAX, NODE(max_connections)},
    {S_NODE, "handshake_timeout", T_UINT, .def = STR(JALIN_HANDSHAKE_TIMEOUT),
        .min = 1, .max = JALIN_HANDSHAKE_TIMEOUT_MAX, NODE(handshake_timeout)},
    {S_NODE, "admin_idle_timeout", T_UINT, .def = STR(JALIN_ADMIN_IDLE_TIMEOUT),
        .min = 1, .max = JALIN_ADMIN_IDLE_TIMEOUT_MAX,
        NODE(admin_idle_timeout)},
    {S_NODE, "verify_interval", T_UINT, .def = STR(JALIN_VERIFY_INTERVAL),
        .min = 0, .max = JALIN_VERIFY_INTERVAL_MAX, NODE(verify_interval)},
    {S_NODE, "offline_hold", T_UINT, .def = STR(JALIN_OFFLINE_HOLD), .min = 0,
        .max = JALIN_OFFLINE_HOLD_MAX, NODE(offline_hold)},
    {S_NODE, "retention_check", T_UINT, .def = STR(JALIN_RETENTION_CHECK),
        .min = 0, .max = JALIN_RETENTION_CHECK_MAX, NODE(retention_check)},
    {S_NODE, "map_size_max", T_SIZE, .def = STR(JALIN_MAP_DEFAULT_MAX_GIB) "G",
        .min = JALIN_MAP_MIN, .max = UINT64_MAX, NODE(map_size_max)},
    {S_NODE, "log_level", T_LEVEL, .def = "notice", NODE(log_level)},
    {S_NODE, "metrics_listen", T_LADDR, .optional = true, NODE(metrics_listen)},
    {S_TLS, "ca", T_PATH, .optional = true, NODE(tls_ca)},
    {S_TLS, "cert", T_PATH, .optional = true, NODE(tls_cert)},
    {S_TLS, "key", T_PATH, .optional = true, .secret = true, NODE(tls_key)},
    {S_TLS, "crl", T_PATH, .optional = true, NODE(tls_crl)},
    {S_TLS, "enc_key", T_PATH, .optional = true, .secret = true,
        .may_lack = true, NODE(tls_enc_key)},
    {S_TLS, "enc_cert", T_PATH, .optional = true, .may_lack = true,
        NODE(tls_enc_cert)},
    {S_TLS, "roster", T_PATH, .optional = true, NODE(tls_roster)},
    {S_PEER, "address", T_ADDR, .optional = true, PEER(address)},
    {S_PEER, "collections", T_COLLS, .def = COLL_NAMES, PEER(collections),
        .what = "the collections shared with this peer: " COLL_NAMES},
    {S_PEER, "all_cases", T_BOOL, .def = "no", PEER(all_cases)},
    {S_PEER, "relay", T_BOOL, .def = "no", PEER(relay)},
};

#define NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

_Static_assert(sizeof(((struct cfg *)0)->admin_socket) <=
        sizeof(((struct sockaddr_un *)0)->sun_path),
    "admin_socket must fit in sun_path");

static const char *const sect_names[] = {
    [S_NODE] = "node",
    [S_TLS] = "tls",
    [S_PEER] = "peer",
};

static const char *const level_names[] = {
    [CFG_LOG_ERR] = "err",
    [CFG_LOG_WARNING] = "warning",
    [CFG_LOG_NOTICE] = "notice",
    [CFG_LOG_INFO] = "info",
    [CFG_LOG_DEBUG] = "debug",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* One section header of the file. */
struct sect {
	enum sect_kind kind;
	int line;
	unsigned peer;       /* index in cfg->peers for S_PEER */
	int key_line[NKEYS]; /* line that set each key, 0: unset */
};

/* State of one cfg_load. */
struct load {
	struct cfg *c;
	char dir[JALIN_PATH_MAX];       /* absolute directory of the file */
	struct jalin_err err;           /* first error, reported */
	struct jalin_err pending;       /* first scan error, after err */
	char *text;                     /* what ini_parse_string reads */
	char *tw;                       /* scan: write position in text */
	const char *walk;               /* handler: next line of text */
	int line;                       /* line being handled */
	int cur;                        /* index in sect[] being handled */
	int nsect, node_sect, tls_sect; /* -1: no such header */
	struct sect sect[2 + JALIN_PEERS_MAX];
};

/* Value parsers and printers per type. */
struct cfg_type_ops {
	int (*parse)(
	    struct load *, const struct cfg_key *, const char *, void *);
	void (*print)(const void *, char *, size_t);
};

static int ld_verr(struct load *ld, struct jalin_err *e, int line,
    const char *subject, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static int
ld_verr(struct load *ld, struct jalin_err *e, int line, const char *subject,
    const char *fmt, va_list ap)
{
	char msg[JALIN_ERRMSG_MAX];
	const char *path = ld->c->path;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0 && subject != NULL)
		return jalin_err_set(e, JALIN_ECONFIG, "%s:%d: %s: %s", path,
		    line, subject, msg);
	if (line > 0)
		return jalin_err_set(
		    e, JALIN_ECONFIG, "%s:%d: %s", path, line, msg);
	return jalin_err_set(
	    e, JALIN_ECONFIG, "%s: %s: %s", path, subject, msg);
}

/* An error at line of the file about subject ("[node] region"). */
static int ld_err(struct load *ld, int line, const char *subject,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
ld_err(struct load *ld, int line, const char *subject, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ld_verr(ld, &ld->err, line, subject, fmt, ap);
	va_end(ap);
	return rc;
}

/* A scan error: reported only if no key before it failed. */
static int scan_err(struct load *ld, int line, const char *subject,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
scan_err(struct load *ld, int line, const char *subject, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ld_verr(ld, &ld->pending, line, subject, fmt, ap);
	va_end(ap);
	return rc;
}

/* "[node]", "[peer banten]" for sect[i]. */
static void
sect_label(const struct load *ld, int i, char *buf, size_t size)
{
	const struct sect *s = &ld->sect[i];

	if (s->kind == S_PEER)
		snprintf(buf, size, "[peer %s]", ld->c->peers[s->peer].name);
	else
		snprintf(buf, size, "[%s]", sect_names[s->kind]);
}

/* An error about key k of the section being handled, at its line. */
static int key_err(struct load *ld, const struct cfg_key *k, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static int
key_err(struct load *ld, const struct cfg_key *k, const char *fmt, ...)
{
	char label[JALIN_NAME_MAX + 8], subject[JALIN_NAME_MAX + 64];
	va_list ap;
	int rc;

	sect_label(ld, ld->cur, label, sizeof(label));
	snprintf(subject, sizeof(subject), "%s %s", label, k->name);
	va_start(ap, fmt);
	rc = ld_verr(ld, &ld->err, ld->line, subject, fmt, ap);
	va_end(ap);
	return rc;
}

static bool
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > JALIN_NAME_MAX || s[0] == '_' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* Decimal digits only: 0, -1 not a number, -2 too large. */
static int
parse_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t r = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (r > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -2;
		r = r * 10 + (uint64_t)(s[i] - '0');
	}
	*v = r;
	return 0;
}

static int
parse_name(struct load *ld, const struct cfg_key *k, const char *v, void *f)
{
	if (!name_ok(v, strlen(v)))
		return key_err(
		    ld, k, "'%s' is not a valid name (" NAME_RULE ")", v);
	snprintf(f, k->size, "%s", v);
	return 0;
}

static void
print_str(const void *f, char *buf, size_t size)
{
	snprintf(buf, size, "%s", (const char *)f);
}

/* Drop "." components, repeated and trailing slashes, in place. */
static void
path_clean(char *p)
{
	char *r = p, *w = p;

	while (*r != '\0') {
		if (r[0] == '/' && (r[1] == '/' || r[1] == '\0') && w > p) {
			r++;
		} else if (r[0] == '/' && r[1] == '.' &&
		    (r[2] == '/' || r[2] == '\0')) {
			r += 2;
		} else {
			*w++ = *r++;
		}
	}
	if (w == p)
		*w++ = '/';
	*w = '\0';
}

static int
parse_path(struct load *ld, const struct cfg_key *k, const char *v, void *f)
{
	char buf[2 * JALIN_PATH_MAX];
	size_t n;

	if (v[0] == '/')
		snprintf(buf, sizeof(buf), "%s", v);
	else
		snprintf(buf, sizeof(buf), "%s/%s", ld->dir, v);
	path_clean(buf);
	n = strlen(buf);
	if (isspace((unsigned char)buf[n - 1])) /* "dir /": cfg_print-safe */
		return key_err(ld, k, "'%s' ends in a blank before '/'", v);
	if (n >= k->size && k->note != NULL)
		return key_err(ld, k,
		    "the absolute path is %zu bytes long; the limit is %zu (%s)",
		    n, k->size - 1, k->note);
	if (n >= k->size)
		return key_err(ld, k,
		    "the absolute path is %zu bytes long; the limit is %zu", n,
		    k->size - 1);
	memcpy(f, buf, n + 1);
	return 0;
}

static int
parse_uint(struct load *ld, const struct cfg_key *k, const char *v, void *f)
{
	uint64_t n;
	int rc = parse_u64(v, strlen(v), &n);

	if (rc == -1)
		return key_err(ld, k, "'%s' is not a number", v);
	if (rc == 0 && n < k->min)
		return key_err(
		    ld, k, "%s is below the minimum %" PRIu64, v, k->min);
	if (rc != 0 || n > k->max)
		return key_err(
		    ld, k, "%s is above the maximum %" PRIu64, v, k->max);
	*(unsigned *)f = (unsigned)n;
	return 0;
}

static void
print_uint(const void *f, char *buf, size_t size)
{
	snprintf(buf, size, "%u", *(const unsigned *)f);
}

/* Shift for a size unit letter, -1 if it is none. */
static int
size_shift(char u)
{
	static const char units[] = "KMGT";
	const char *p = strchr(units, toupper((unsigned char)u));

	return u != '\0' && p != NULL ? 10 * (int)(p - units + 1) : -1;
}

/* "1M" for 1048576: the largest unit that divides n. */
static void
size_human(uint64_t n, char *buf, size_t size)
{
	static const char units[] = "TGMK";
	int i;

	for (i = 0; i < 4; i++) {
		unsigned sh = 10u * (unsigned)(4 - i);
		if (n != 0 && n % (1ull << sh) == 0) {
			snprintf(buf, size, "%" PRIu64 "%c", n >> sh, units[i]);
			return;
		}
	}
	snprintf(buf, size, "%" PRIu64, n);
}

static int
parse_size(struct load *ld, const struct cfg_key *k, const char *v, void *f)
{
	size_t n = strlen(v);
	int sh = n > 0 ? size_shift(v[n - 1]) : -1;
	char min[32];
	uint64_t x;
	int rc;

	rc = parse_u64(v, sh >= 0 ? n - 1 : n, &x);
	if (rc == -1)
		return key_err(ld, k,
		    "'%s' is not a size (use a number of bytes, or a number "
		    "followed by K, M, G or T)",
		    v);
	if (rc == -2 || (sh > 0 && x > (UINT64_MAX >> sh)))
		return key_err(ld, k, "%s is too large", v);
	x = sh > 0 ? x << sh : x;
	size_human(k->min, min, sizeof(min));
	if (x < k->min)
		return key_err(ld, k, "%s is below the minimum %s", v, min);
	if (x > k->max)
		return key_err(ld, k, "%s is too large", v);
	*(uint64_t *)f = x;
	return 0;
}

static void
print_size(const void *f, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64, *(const uint64_t *)f);
}

static int
parse_bool(struct load *ld, const struct cfg_key *k, const char *v, void *f)
{
	static const char *const yes[] = {"yes", "true", "1"};
	static const char *const no[] = {"no", "false", "0"};
	size_t i;

	for (i = 0; i < NELEM(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*(bool *)f = strcasecmp(v, yes[i]) == 0;
			return 0;
		}
	}
	return key_err(ld, k,
	    "'%s' is not yes or no (use yes, no, true, false, 1 or 0)", v);
}

static void
print_bool(const void *f, char *buf, size_t size)
{
	snprintf(buf, size, "%s", *(const bool *)f ? "yes" : "no");
}

static bool
host_name_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr(".-_", s[i]) == NULL)
			return false;
	return n > 0;
}

/* Split "[v6]:port" into host and the ":port" tail; NULL on error. */
static const char *
addr_split_v6(const char *s, struct cfg_addr *a, const char **why)
{
	const char *close = strchr(s, ']');
	unsigned char bin[16];
	size_t n;

	if (close == NULL) {
		*why = "has '[' without a matching ']'";
		return NULL;
	}
	n = (size_t)(close - s - 1);
	if (n >= sizeof(a->host)) {
		*why = "has a host longer than " STR(JALIN_HOST_MAX) " bytes";
		return NULL;
	}
	memcpy(a->host, s + 1, n);
	a->host[n] = '\0';
	if (inet_pton(AF_INET6, a->host, bin) != 1) {
		*why = "has no valid IPv6 address between the brackets";
		return NULL;
	}
	return close + 1;
}

/* Split "host:port" into host and the ":port" tail; NULL on error. */
static const char *
addr_split_host(const char *s, struct cfg_addr *a, const char **why)
{
	const char *colon = strchr(s, ':');
	size_t n;

	if (colon == NULL) {
		*why = "has no port (use host:port, e.g. banten.example:7420)";
		return NULL;
	}
	if (strchr(colon + 1, ':') != NULL) {
		*why = "needs brackets around an IPv6 address, as in "
		       "[::1]:7420";
		return NULL;
	}
	n = (size_t)(colon - s);
	if (n >= sizeof(a->host)) {
		*why = "has a host longer than " STR(JALIN_HOST_MAX) " bytes";
		return NULL;
	}
	if (!host_name_ok(s, n)) {
		*why = n == 0 ? "has no host (use host:port, e.g. "
		                "banten.example:7420)"
		              : "has a bad host name (use letters, digits, "
		                "'.', '-' and '_')";
		return NULL;
	}
	memcpy(a->host, s, n);
	a->host[n] = '\0';
	return colon;
}

/* cfg_parse_addr with the reason of a failure. */
static int
addr_parse(const char *s, struct cfg_addr *out, const char **why)
{
	struct cfg_addr a;
	const char *tail;
	uint64_t port;

	memset(&a, 0, sizeof(a));
	if (s[0] == '[')
		tail = addr_split_v6(s, &a, why);
	else
		tail = addr_split_host(s, &a, why);
	if (tail == NULL)
		return JALIN_EINVAL;
	if (*tail != ':') {
		*why = "has no port (use [address]:port, e.g. [::1]:7420)";
		return JALIN_EINVAL;
	}
	if (parse_u64(tail + 1, strlen(tail + 1), &port) != 0 || port < 1 ||
	    port > 65535) {
		*why = "has a bad port (use a number from 1 to 65535)";
		return JALIN_EINVAL;
	}
	a.port = (uint16_t)port;
	a.set = true;
	*out = a;
	return 0;
}

int
cfg_parse_addr(const char *s, struct cfg_addr *a)
{
	const char *why;

	if (s == NULL || a == NULL)
		return JALIN_EINVAL;
	return addr_parse(s, a, &why);
}

static int
parse_addr(struct load *ld, const struct cfg_key *k, const char *v, void *f)
{
	const char *why = NULL;

	if (addr_parse(v, f, &why) != 0)
		return key_err(ld, k, "'%s' %s", v, why);
	return 0;
}

static bool
addr_is_loopback(const struct cfg_addr *a)
{
	unsigned char bin[16];

	if (strcmp(a->host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, a->host, bin) == 1)
		return bin[0] == 127;
	return inet_pton(AF_INET6, a->host, bin) == 1 &&
	    memcmp(bin, &in6addr_loopback, sizeof(bin)) == 0;
}

static int
parse_laddr(struct load *ld, const struct cfg_key *k, const char *v, void *f)
{
	struct cfg_addr a;

	if (parse_addr(ld, k, v, &a) != 0)
		return JALIN_ECONFIG;
	if (!addr_is_loopback(&a))
		return key_err(ld, k,
		    "'%s' is not a loopback address (metrics have no TLS and "
		    "no login; use 127.0.0.1, [::1] or localhost)",
		    v);
	*(struct cfg_addr *)f = a;
	return 0;
}

static void
print_addr(const void *f, char *buf, size_t size)
{
	const struct cfg_addr *a = f;

	if (!a->set)
		buf[0] = '\0';
	else if (strchr(a->host, ':') != NULL)
		snprintf(buf, size, "[%s]:%u", a->host, a->port);
	else
		snprintf(buf, size, "%s:%u", a->host, a->port);
}

static int
coll_find(const char *s, size_t n)
{
	const struct schema_coll *c = schema_coll_by_name(s, n);

	return c != NULL ? (int)c->id : -1;
}

/* Names separated by commas and/or blanks; an empty name is an error. */
static int
parse_colls(struct load *ld, const struct cfg_key *k, const char *v, void *f)
{
	uint32_t bits = 0;
	const char *p = v;
	size_t n;
	int id;

	for (;;) {
		p += strspn(p, " \t");
		n = strcspn(p, ", \t");
		if (n == 0)
			return key_err(ld, k,
			    "'%s' has an empty name (separate names with "
			    "commas or spaces)",
			    v);
		if ((id = coll_find(p, n)) < 0)
			return key_err(ld, k,
			    "'%.*s' is not a collection (use " COLL_NAMES ")",
			    (int)n, p);
		bits |= 1u << id;
		p += n;
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		if (*p == ',')
			p++;
	}
	*(uint32_t *)f = bits;
	return 0;
}

/* Node names separated by commas or spaces, kept as "a, b". */
static int
parse_names(struct load *ld, const struct cfg_key *k, const char *v, void *f)
{
	char *out = f;
	const char *p = v;
	size_t n, used = 0;

	out[0] = '\0';
	for (;;) {
		p += strspn(p, " \t");
		n = strcspn(p, ", \t");
		if (n == 0)
			return key_err(ld, k,
			    "'%s' has an empty name (separate names with "
			    "commas or spaces)",
			    v);
		if (!name_ok(p, n))
			return key_err(ld, k,
			    "'%.*s' is not a valid name (" NAME_RULE ")",
			    (int)n, p);
		int w = snprintf(out + used, k->size - used, "%s%.*s",
		    used > 0 ? ", " : "", (int)n, p);
		if (w < 0 || (size_t)w >= k->size - used)
			return key_err(ld, k, "too many names");
		used += (size_t)w;
		p += n;
		p += strspn(p, " \t");
		if (*p == '\0')
			return 0;
		if (*p == ',')
			p++;
	}
}

bool
cfg_all_cases_listed(const struct cfg *c, const char *name, size_t len)
{
	const char *p = c->all_cases_nodes;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		if (n == len && memcmp(p, name, len) == 0)
			return true;
		p += n;
		p += strspn(p, ", ");
	}
	return false;
}

static void
print_colls(const void *f, char *buf, size_t size)
{
	uint32_t bits = *(const uint32_t *)f;
	size_t i, n = 0;

	/* in id order, the order the output promises */
	buf[0] = '\0';
	for (i = COLL_MIN; i <= COLL_MAX && n < size; i++)
		if (bits & (1u << i))
			n += (size_t)snprintf(buf + n, size - n, "%s%s",
			    n > 0 ? ", " : "",
			    schema_coll_by_id((unsigned)i)->name);
}

static int
parse_level(struct load *ld, const struct cfg_key *k, const char *v, void *f)
{
	size_t i;

	for (i = 0; i < NELEM(level_names); i++) {
		if (strcasecmp(v, level_names[i]) == 0) {
			*(int *)f = (int)i;
			return 0;
		}
	}
	return key_err(ld, k,
	    "'%s' is not a log level (use err, warning, notice, info or "
	    "debug)",
	    v);
}

static void
print_level(const void *f, char *buf, size_t size)
{
	int l = *(const int *)f;

	snprintf(buf, size, "%s",
	    l >= 0 && (size_t)l < NELEM(level_names) ? level_names[l] : "");
}

static const struct cfg_type_ops type_ops[] = {
    [T_NAME] = {parse_name, print_str},
    [T_PATH] = {parse_path, print_str},
    [T_UINT] = {parse_uint, print_uint},
    [T_SIZE] = {parse_size, print_size},
    [T_BOOL] = {parse_bool, print_bool},
    [T_ADDR] = {parse_addr, print_addr},
    [T_LADDR] = {parse_laddr, print_addr},
    [T_COLLS] = {parse_colls, print_colls},
    [T_NAMES] = {parse_names, print_str},
    [T_LEVEL] = {parse_level, print_level},
};

/* Where the fields of sect[i] live. */
static char *
sect_base(struct load *ld, int i)
{
	const struct sect *s = &ld->sect[i];

	if (s->kind == S_PEER)
		return (char *)&ld->c->peers[s->peer];
	return (char *)ld->c;
}

static const struct cfg_key *
key_find(enum sect_kind kind, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (cfg_keys[i].sect == kind &&
		    strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	return NULL;
}

/* "name, region, ..." for a section kind. */
static void
key_list(enum sect_kind kind, char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < NKEYS && n < size; i++)
		if (cfg_keys[i].sect == kind)
			n += (size_t)snprintf(buf + n, size - n, "%s%s",
			    n > 0 ? ", " : "", cfg_keys[i].name);
}

/* Parse value v of key k in sect[i] (ld->cur, ld->line set). */
static int
key_set(struct load *ld, int i, const struct cfg_key *k, const char *v)
{
	void *f = sect_base(ld, i) + k->off;

	if (v[0] == '\0' && k->optional)
		return 0;
	if (v[0] == '\0' && k->what != NULL)
		return key_err(ld, k, "value is empty (%s)", k->what);
	if (v[0] == '\0')
		return key_err(ld, k, "value is empty");
	return type_ops[k->type].parse(ld, k, v, f);
}

/*
 * Move ld->walk to the next key line of ld->text, counting lines and
 * section headers, and check that it is the key inih reports.
 */
static int
walk_next_key(struct load *ld, const char *name)
{
	const char *p, *nl;

	while (*ld->walk != '\0') {
		p = ld->walk;
		nl = strchr(p, '\n');
		ld->walk = nl + 1;
		ld->line++;
		if (*p == '[')
			ld->cur++;
		else if (p != nl)
			return strncmp(p, name, strlen(name)) == 0 &&
			        ld->cur >= 0
			    ? 0
			    : -1;
	}
	return -1;
}

/* inih's handler: 1 to go on, 0 on error. */
static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	char label[JALIN_NAME_MAX + 8], subject[JALIN_NAME_MAX + 128];
	char keys[384]; /* every key of a section, listed */
	struct load *ld = user;
	const struct cfg_key *k;
	struct sect *s;

	(void)section; /* cut at 49 bytes by inih; we track our own */
	if (ld->err.code != 0)
		return 0;
	if (walk_next_key(ld, name) != 0) {
		ld_err(ld, ld->line, NULL, "cannot parse this line");
		return 0;
	}
	s = &ld->sect[ld->cur];
	sect_label(ld, ld->cur, label, sizeof(label));
	snprintf(subject, sizeof(subject), "%s %s", label, name);
	if ((k = key_find(s->kind, name)) == NULL) {
		key_list(s->kind, keys, sizeof(keys));
		ld_err(ld, ld->line, subject, "unknown key (known keys: %s)",
		    keys);
		return 0;
	}
	if (s->key_line[k - cfg_keys] != 0) {
		ld_err(ld, ld->line, subject, "set twice (first on line %d)",
		    s->key_line[k - cfg_keys]);
		return 0;
	}
	s->key_line[k - cfg_keys] = ld->line;
	return key_set(ld, ld->cur, k, value) == 0;
}

/* inih's rule: ';' starts a comment only after whitespace. */
static size_t
find_chars_or_comment(const char *s, size_t n, const char *chars)
{
	bool was_space = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (strchr(chars, s[i]) != NULL || (was_space && s[i] == ';'))
			break;
		was_space = isspace((unsigned char)s[i]);
	}
	return i;
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Register [node] or [tls]; *idx is ld->node_sect or ld->tls_sect. */
static int
sect_add_fixed(struct load *ld, enum sect_kind kind, int *idx, int line)
{
	char label[16];

	snprintf(label, sizeof(label), "[%s]", sect_names[kind]);
	if (*idx >= 0)
		return scan_err(ld, line, label,
		    "section appears twice (first on line %d)",
		    ld->sect[*idx].line);
	*idx = ld->nsect;
	ld->sect[ld->nsect].kind = kind;
	ld->sect[ld->nsect++].line = line;
	return 0;
}

/* One more slot; at most JALIN_PEERS_MAX reallocs of a small array. */
static int
peer_grow(struct cfg *c)
{
	struct cfg_peer *p = realloc(c->peers, (c->npeers + 1) * sizeof(*p));

	if (p == NULL)
		return JALIN_ENOMEM;
	c->peers = p;
	return 0;
}

/* Register [peer NAME]; name is not NUL-terminated. */
static int
sect_add_peer(struct load *ld, const char *name, size_t n, int line)
{
	char label[JALIN_CONFIG_LINE_MAX + 8];
	struct cfg *c = ld->c;
	struct cfg_peer *p;
	unsigned i;

	snprintf(label, sizeof(label), "[peer %.*s]", (int)n, name);
	if (!name_ok(name, n))
		return scan_err(
		    ld, line, label, "not a valid peer name (" NAME_RULE ")");
	for (i = 0; i < c->npeers; i++)
		if (strlen(c->peers[i].name) == n &&
		    memcmp(c->peers[i].name, name, n) == 0)
			return scan_err(ld, line, label,
			    "section appears twice (first on line %d)",
			    c->peers[i].line);
	if (c->npeers >= JALIN_PEERS_MAX)
		return scan_err(ld, line, label,
		    "too many peers (the limit is %d)", JALIN_PEERS_MAX);
	if (peer_grow(c) != 0)
		return JALIN_ENOMEM;
	p = &c->peers[c->npeers];
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name, n);
	p->line = line;
	ld->sect[ld->nsect].kind = S_PEER;
	ld->sect[ld->nsect].peer = c->npeers++;
	ld->sect[ld->nsect++].line = line;
	return 0;
}

/* inner: the trimmed text between '[' and ']'. */
static int
sect_add(struct load *ld, const char *inner, size_t n, int line)
{
	char label[JALIN_CONFIG_LINE_MAX + 8];
	const char *name;
	size_t nn;

	if (n == 4 && memcmp(inner, "node", 4) == 0)
		return sect_add_fixed(ld, S_NODE, &ld->node_sect, line);
	if (n == 3 && memcmp(inner, "tls", 3) == 0)
		return sect_add_fixed(ld, S_TLS, &ld->tls_sect, line);
	snprintf(label, sizeof(label), "[%.*s]", (int)n, inner);
	if (n == 4 && memcmp(inner, "peer", 4) == 0)
		return scan_err(ld, line, label,
		    "a peer section needs the peer's name, as in [peer banten]");
	if (n < 5 || memcmp(inner, "peer", 4) != 0 ||
	    !isspace((unsigned char)inner[4]))
		return scan_err(ld, line, label,
		    "unknown section (use [node], [tls] or [peer NAME])");
	name = inner + 4;
	nn = n - 4;
	trim(&name, &nn);
	return sect_add_peer(ld, name, nn, line);
}

/* t: a trimmed line starting with '['; *keep: its length up to ']'. */
static int
scan_section(struct load *ld, const char *t, size_t n, int line, size_t *keep)
{
	const char *inner = t + 1, *rest;
	size_t close = 1 + find_chars_or_comment(t + 1, n - 1, "]");
	size_t in = close - 1, rn;

	if (close >= n || t[close] != ']')
		return scan_err(
		    ld, line, NULL, "section header has no closing ']'");
	rest = t + close + 1;
	rn = n - close - 1;
	trim(&rest, &rn);
	if (rn > 0 && *rest != ';' && *rest != '#')
		return scan_err(ld, line, NULL,
		    "unexpected text after ']' of a section header");
	trim(&inner, &in);
	*keep = close + 1;
	return sect_add(ld, inner, in, line);
}

/* t: a trimmed line that is neither blank, comment nor section. */
static int
scan_key(struct load *ld, const char *t, size_t n, int line)
{
	size_t e = find_chars_or_comment(t, n, "=:"), kn = e;
	const char *key = t;

	if (e == n || (t[e] != '=' && t[e] != ':'))
		return scan_err(ld, line, NULL,
		    "expected 'key = value' or a [section] header");
	trim(&key, &kn);
	if (kn == 0)
		return scan_err(
		    ld, line, NULL, "no key name before '%c'", t[e]);
	if (ld->nsect == 0)
		return scan_err(ld, line, NULL,
		    "%.*s: key outside any section (put it under [node], "
		    "[tls] or [peer NAME])",
		    (int)kn, key);
	return 0;
}

static void
emit(struct load *ld, const char *s, size_t n)
{
	memcpy(ld->tw, s, n);
	ld->tw += n;
	*ld->tw++ = '\n';
}

/* Check one line (n bytes without '\n') and append it to ld->text. */
static int
scan_line(struct load *ld, const char *p, size_t n, int line)
{
	size_t len = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
	const char *t = p;
	size_t tn = n, keep;
	int rc;

	if (memchr(p, '\0', n) != NULL)
		return scan_err(ld, line, NULL, "line contains a NUL byte");
	if (len > JALIN_CONFIG_LINE_MAX)
		return scan_err(ld, line, NULL,
		    "line is %zu bytes long; the limit is %d", len,
		    JALIN_CONFIG_LINE_MAX);
	trim(&t, &tn);
	if (tn == 0 || *t == ';' || *t == '#') {
		emit(ld, t, 0);
		return 0;
	}
	keep = tn;
	if (*t == '[')
		rc = scan_section(ld, t, tn, line, &keep);
	else
		rc = scan_key(ld, t, tn, line);
	if (rc == 0)
		emit(ld, t, keep);
	return rc;
}

/* Fill ld->text with the lines before the first bad one. */
static int
scan(struct load *ld, const char *buf, size_t len)
{
	size_t pos = 0, n;
	const char *p, *nl;
	int line = 0, rc = 0;

	ld->text = malloc(len + 2);
	if (ld->text == NULL)
		return JALIN_ENOMEM;
	ld->tw = ld->text;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* a UTF-8 byte order mark, as Notepad writes */
	while (pos < len && rc == 0) {
		p = buf + pos;
		nl = memchr(p, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - p) : len - pos;
		pos += n + 1;
		rc = scan_line(ld, p, n, ++line);
	}
	*ld->tw = '\0';
	return rc == JALIN_ENOMEM ? rc : 0;
}

static int
io_err(struct load *ld, const char *path, int errnum)
{
	return jalin_err_set(&ld->err, JALIN_EIO, "cannot read config '%s': %s",
	    path, strerror(errnum));
}

/* Read all of path into *out (NUL-terminated), refusing big files. */
static int
read_file(struct load *ld, const char *path, char **out, size_t *len)
{
	struct stat st;
	ssize_t r;
	size_t n = 0;
	char *buf = NULL;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return io_err(ld, path, errno);
	if (fstat(fd, &st) != 0)
		rc = io_err(ld, path, errno);
	else if (S_ISDIR(st.st_mode))
		rc = io_err(ld, path, EISDIR);
	else if (!S_ISREG(st.st_mode))
		rc = jalin_err_set(&ld->err, JALIN_EIO,
		    "cannot read config '%s': not a regular file", path);
	else if (st.st_size > (off_t)JALIN_CONFIG_FILE_MAX)
		rc = jalin_err_set(&ld->err, JALIN_ECONFIG,
		    "%s: file is %jd bytes long; the limit is %u", path,
		    (intmax_t)st.st_size, JALIN_CONFIG_FILE_MAX);
	else if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		rc = JALIN_ENOMEM;
	while (rc == 0 && n < (size_t)st.st_size) {
		r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno != EINTR)
			rc = io_err(ld, path, errno);
		else if (r == 0)
			break; /* the file shrank: use what is there */
		else if (r > 0)
			n += (size_t)r;
	}
	close(fd);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* The absolute directory of path, for relative paths inside it. */
static int
config_dir(struct load *ld, const char *path)
{
	const char *slash = strrchr(path, '/');
	char cwd[JALIN_PATH_MAX];
	int n;

	if (slash != NULL && path[0] == '/')
		n = snprintf(ld->dir, sizeof(ld->dir), "%.*s",
		    (int)(slash - path), path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return jalin_err_set(&ld->err, JALIN_EIO,
		    "cannot read config '%s': cannot find the current "
		    "directory: %s",
		    path, strerror(errno));
	else if (slash != NULL)
		n = snprintf(ld->dir, sizeof(ld->dir), "%s/%.*s", cwd,
		    (int)(slash - path), path);
	else
		n = snprintf(ld->dir, sizeof(ld->dir), "%s", cwd);
	if (n < 0 || (size_t)n >= sizeof(ld->dir))
		return io_err(ld, path, ENAMETOOLONG);
	path_clean(ld->dir);
	return 0;
}

static int
check_required(struct load *ld)
{
	char subject[64];
	size_t i;

	if (ld->node_sect < 0)
		return ld_err(ld, 0, "[node]",
		    "section is missing (it must set name, region and "
		    "data_dir)");
	for (i = 0; i < NKEYS; i++) {
		if (!cfg_keys[i].required ||
		    ld->sect[ld->node_sect].key_line[i] != 0)
			continue;
		snprintf(
		    subject, sizeof(subject), "[node] %s", cfg_keys[i].name);
		return ld_err(ld, ld->sect[ld->node_sect].line, subject,
		    "required key is missing (%s)", cfg_keys[i].what);
	}
	return 0;
}

/* Parse the default of every key that sect[i] leaves unset. */
static int
fill_sect(struct load *ld, int i)
{
	size_t k;

	ld->cur = i;
	ld->line = ld->sect[i].line;
	for (k = 0; k < NKEYS; k++) {
		if (cfg_keys[k].sect != ld->sect[i].kind ||
		    cfg_keys[k].def == NULL || ld->sect[i].key_line[k] != 0)
			continue;
		if (key_set(ld, i, &cfg_keys[k], cfg_keys[k].def) != 0)
			return JALIN_ECONFIG;
	}
	return 0;
}

static int
fill_defaults(struct load *ld)
{
	int i;

	for (i = 0; i < ld->nsect; i++)
		if (fill_sect(ld, i) != 0)
			return JALIN_ECONFIG;
	return 0;
}

static int
fill_admin_socket(struct load *ld)
{
	struct cfg *c = ld->c;
	const struct sect *s = &ld->sect[ld->node_sect];
	const struct cfg_key *sock = key_find(S_NODE, "admin_socket");
	const struct cfg_key *dd = key_find(S_NODE, "data_dir");
	int n;

	if (s->key_line[sock - cfg_keys] != 0)
		return 0;
	n = snprintf(c->admin_socket, sizeof(c->admin_socket), "%s/jalind.sock",
	    c->data_dir);
	if (n >= 0 && (size_t)n < sizeof(c->admin_socket))
		return 0;
	return ld_err(ld, s->key_line[dd - cfg_keys], "[node] admin_socket",
	    "the default DATA_DIR/jalind.sock is %d bytes long; the limit is "
	    "%zu (" SOCKET_NOTE "; set admin_socket to a shorter path)",
	    n, sizeof(c->admin_socket) - 1);
}

/*
 * Default of an encryption file: the TLS file's path with its suffix
 * (".key", ".pem") replaced by enc_suffix (".enc.key", ".enc.pem"), or
 * enc_suffix appended when it has another one: what certs/jalin-ca writes
 * beside NAME.key and NAME.pem.
 */
static int
derive_enc(struct load *ld, char *dst, size_t n, const char *from,
    const char *suffix, const char *enc_suffix, const char *key)
{
	size_t len = strlen(from), sl = strlen(suffix);
	int w;

	if (dst[0] != '\0' || from[0] == '\0')
		return 0;
	if (len >= sl && strcmp(from + len - sl, suffix) == 0)
		len -= sl;
	w = snprintf(dst, n, "%.*s%s", (int)len, from, enc_suffix);
	if (w >= 0 && (size_t)w < n)
		return 0;
	dst[0] = '\0';
	return ld_err(ld, 0, key,
	    "the default path derived from '%s' is too "
	    "long (set it)",
	    from);
}

static int
fill_enc_paths(struct load *ld)
{
	struct cfg *c = ld->c;

	if (derive_enc(ld, c->tls_enc_key, sizeof(c->tls_enc_key), c->tls_key,
	        ".key", ".enc.key", "[tls] enc_key") != 0)
		return JALIN_ECONFIG;
	return derive_enc(ld, c->tls_enc_cert, sizeof(c->tls_enc_cert),
	    c->tls_cert, ".pem", ".enc.pem", "[tls] enc_cert");
}

static int
check_peer_names(struct load *ld)
{
	char label[JALIN_NAME_MAX + 8];
	unsigned i;

	for (i = 0; i < ld->c->npeers; i++) {
		if (strcmp(ld->c->peers[i].name, ld->c->name) != 0)
			continue;
		snprintf(
		    label, sizeof(label), "[peer %s]", ld->c->peers[i].name);
		return ld_err(ld, ld->c->peers[i].line, label,
		    "a peer cannot have this node's own name");
	}
	return 0;
}

/* Checks on the whole file, in order, after every key was read. */
static int (*const finish_steps[])(struct load *) = {
    check_required,
    fill_defaults,
    fill_admin_socket,
    fill_enc_paths,
    check_peer_names,
};

/* Scan, parse and finish; errors land in ld->err. */
static int
load_text(struct load *ld, const char *buf, size_t len)
{
	size_t i;
	int rc;

	if ((rc = scan(ld, buf, len)) != 0)
		return rc;
	ld->walk = ld->text;
	rc = ini_parse_string(ld->text, on_key, ld);
	if (rc < 0)
		return JALIN_ENOMEM;
	if (rc > 0 && ld->err.code == 0)
		ld_err(ld, rc, NULL, "cannot parse this line");
	if (ld->err.code == 0 && ld->pending.code != 0)
		ld->err = ld->pending;
	for (i = 0; i < NELEM(finish_steps) && ld->err.code == 0; i++)
		finish_steps[i](ld);
	return ld->err.code;
}

static struct load *
load_new(const char *path)
{
	struct load *ld = calloc(1, sizeof(*ld));

	if (ld == NULL)
		return NULL;
	if ((ld->c = calloc(1, sizeof(*ld->c))) == NULL) {
		free(ld);
		return NULL;
	}
	ld->node_sect = ld->tls_sect = ld->cur = -1;
	snprintf(ld->c->path, sizeof(ld->c->path), "%s", path);
	return ld;
}

int
cfg_load(const char *path, struct cfg **out, struct jalin_err *err)
{
	struct load *ld;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (path == NULL || out == NULL)
		return jalin_err_set(err, JALIN_EINVAL, "no config path");
	if ((ld = load_new(path)) == NULL)
		return jalin_err_set(err, JALIN_ENOMEM, "out of memory");
	if (strlen(path) >= sizeof(ld->c->path))
		rc = io_err(ld, path, ENAMETOOLONG);
	else if ((rc = config_dir(ld, path)) == 0 &&
	    (rc = read_file(ld, path, &buf, &len)) == 0)
		rc = load_text(ld, buf, len);
	if (rc != 0 && ld->err.code == 0) /* out of memory */
		jalin_err_set(&ld->err, rc, "cannot load config '%s': %s", path,
		    jalin_strerror(rc));
	if ((rc = ld->err.code) == 0) {
		*out = ld->c;
	} else {
		cfg_free(ld->c);
		jalin_err_set(err, rc, "%s", ld->err.msg);
	}
	free(buf);
	free(ld->text);
	free(ld);
	return rc;
}

void
cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	free(c->peers);
	free(c);
}

/* A TLS file named by key k: a readable regular file; a key kept private. */
static int
check_tls_file(const struct cfg_key *k, const char *path, struct jalin_err *err)
{
	struct stat st;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) <
	        0 &&
	    errno == ENOENT && k->may_lack)
		return 0;
	if (fd < 0)
		return jalin_err_set(err, JALIN_ECONFIG,
		    "[tls] %s: cannot read '%s': %s", k->name, path,
		    strerror(errno));
	if (fstat(fd, &st) != 0)
		rc = jalin_err_set(err, JALIN_ECONFIG,
		    "[tls] %s: cannot read '%s': %s", k->name, path,
		    strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = jalin_err_set(err, JALIN_ECONFIG,
		    "[tls] %s: '%s' is not a regular file", k->name, path);
	else if (k->secret && (st.st_mode & 077) != 0)
		rc = jalin_err_set(err, JALIN_EPERM,
		    "private key '%s' is %s by group or others (mode %04o); "
		    "run chmod 600 '%s'",
		    path, (st.st_mode & 044) != 0 ? "readable" : "accessible",
		    (unsigned)(st.st_mode & 07777), path);
	close(fd);
	return rc;
}

/*
 * 0 when dir is a directory we may create entries in, -1 when it exists
 * but is something else, else an errno.
 */
static int
dir_usable(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return errno;
	if (!S_ISDIR(st.st_mode))
		return -1;
	return access(dir, W_OK | X_OK) == 0 ? 0 : errno;
}

/*
 * data_dir exists as a directory we can write, or can be created: its
 * parent is one. jalind creates it; this check only predicts that.
 */
static int
check_data_dir(const char *dir, struct jalin_err *err)
{
	char parent[JALIN_PATH_MAX];
	const char *slash = strrchr(dir, '/');
	int e = dir_usable(dir);

	if (e == -1)
		return jalin_err_set(err, JALIN_ECONFIG,
		    "[node] data_dir: '%s' exists but is not a directory", dir);
	if (e != ENOENT && e != 0)
		return jalin_err_set(err, JALIN_ECONFIG,
		    "[node] data_dir: cannot use '%s': %s", dir, strerror(e));
	if (e == 0 || slash == NULL)
		return 0;
	snprintf(parent, sizeof(parent), "%.*s",
	    slash == dir ? 1 : (int)(slash - dir), dir);
	if ((e = dir_usable(parent)) == 0)
		return 0;
	if (e == -1)
		e = ENOTDIR;
	return jalin_err_set(err, JALIN_ECONFIG,
	    "[node] data_dir: '%s' does not exist and cannot be created "
	    "('%s': %s)",
	    dir, parent, strerror(e));
}

int
cfg_check_files(const struct cfg *c, struct jalin_err *err)
{
	const char *path;
	size_t i;
	int rc;

	for (i = 0; i < NKEYS; i++) {
		if (cfg_keys[i].sect != S_TLS)
			continue;
		path = (const char *)c + cfg_keys[i].off;
		if (path[0] != '\0' &&
		    (rc = check_tls_file(&cfg_keys[i], path, err)) != 0)
			return rc;
	}
	return check_data_dir(c->data_dir, err);
}

/* "key = value" for every key of a section; "key =" when unset. */
static void
print_sect(enum sect_kind kind, const void *base, FILE *fp)
{
	char val[JALIN_PATH_MAX + 64];
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (cfg_keys[i].sect != kind)
			continue;
		type_ops[cfg_keys[i].type].print(
		    (const char *)base + cfg_keys[i].off, val, sizeof(val));
		fprintf(fp, "%s =%s%s\n", cfg_keys[i].name,
		    val[0] != '\0' ? " " : "", val);
	}
}

void
cfg_print(const struct cfg *c, FILE *fp)
{
	unsigned i;

	fputs("[node]\n", fp);
	print_sect(S_NODE, c, fp);
	fputs("\n[tls]\n", fp);
	print_sect(S_TLS, c, fp);
	for (i = 0; i < c->npeers; i++) {
		fprintf(fp, "\n[peer %s]\n", c->peers[i].name);
		print_sect(S_PEER, &c->peers[i], fp);
	}
}

const struct cfg_peer *
cfg_peer_find(const struct cfg *c, const char *name)
{
	unsigned i;

	for (i = 0; c != NULL && i < c->npeers; i++)
		if (strcmp(c->peers[i].name, name) == 0)
			return &c->peers[i];
	return NULL;
}
