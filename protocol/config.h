/*
 * config.h - jalind's INI configuration (DESIGN.md §6).
 *
 * Every section and key is one row of a table in config.c with its type,
 * default and bounds; unknown sections or keys and out-of-range values are
 * errors. The file is read by us (size cap JALIN_CONFIG_FILE_MAX, lines over
 * JALIN_CONFIG_LINE_MAX refused: Debian's inih r55 would silently split
 * them) and then parsed with ini_parse_string. Errors read
 * "PATH:LINE: [section] key: what is wrong".
 */
#ifndef JALIN_CONFIG_H
#define JALIN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "limits.h"

enum log_level_cfg {
	CFG_LOG_ERR = 0,
	CFG_LOG_WARNING,
	CFG_LOG_NOTICE,
	CFG_LOG_INFO,
	CFG_LOG_DEBUG,
};

/* "host:port" split; host may be a name, IPv4, or [IPv6]. */
struct cfg_addr {
	char host[JALIN_HOST_MAX + 1];
	uint16_t port;
	bool set;
};

struct cfg_peer {
	char name[JALIN_NAME_MAX + 1]; /* section name, must equal peer CN */
	struct cfg_addr address;       /* optional: without it we only accept */
	uint32_t collections;          /* bit (1 << coll_id) per collection */
	bool all_cases;                /* receives every case/referral */
	bool relay;                    /* passes cases on; reads none */
	int line;                      /* line of the [peer NAME] header */
};

struct cfg {
	char path[JALIN_PATH_MAX];

	/* [node] */
	char name[JALIN_NAME_MAX + 1]; /* required; [a-z0-9][a-z0-9_-]* */
	unsigned region;               /* province code, required
	                                  (JALIN_REGION_MIN..MAX) */
	char data_dir[JALIN_PATH_MAX]; /* required, absolute */
	struct cfg_addr listen;        /* default 0.0.0.0:7420 */
	char admin_socket[108];        /* default DATA_DIR/jalind.sock */
	unsigned max_clock_skew;       /* seconds (JALIN_CLOCK_SKEW_*) */
	bool all_cases; /* this node receives every case (national node) */
	bool relay;     /* this node keeps every case to pass on, sealed */
	bool seal;      /* seal personal fields it writes (PROTOCOL.md §14) */
	/* the federation's all_cases nodes, "a, b" (may write every case;
	 * write authority, node/authz.h); the peers with all_cases = yes
	 * count as listed too */
	char all_cases_nodes[JALIN_CONFIG_LINE_MAX + 1];
	bool require_signatures;       /* refuse unsigned events of other nodes
	                                  (PROTOCOL.md §13.5) */
	unsigned write_authority_from; /* Unix seconds: write events before
	                                  it are not judged by write
	                                  authority (written under 0.3) */
	unsigned stall_timeout;        /* seconds without progress: stalled
	                                  (JALIN_STALL_TIMEOUT*) */
	unsigned max_connections;      /* TLS connections at once
	                                  (JALIN_CONN_MIN..JALIN_CONN_MAX) */
	unsigned handshake_timeout;    /* seconds from accept until useful
	                                  (JALIN_HANDSHAKE_TIMEOUT*) */
	unsigned admin_idle_timeout;   /* seconds a remote admin may idle
	                                  (JALIN_ADMIN_IDLE_TIMEOUT*) */
	unsigned verify_interval;      /* seconds between digest checks, 0: off
	                                  (JALIN_VERIFY_INTERVAL*) */
	unsigned offline_hold;    /* seconds offline after which records are
	                             not served until a peer is caught up
	                             with, 0: off (JALIN_OFFLINE_HOLD*) */
	unsigned retention_check; /* seconds between purges of records past
	                             retention_until, 0: off
	                             (JALIN_RETENTION_CHECK*) */
	uint64_t map_size_max;    /* bytes, "512M", "64G"
	                             (JALIN_MAP_DEFAULT_MAX, JALIN_MAP_MIN) */
	int log_level;            /* enum log_level_cfg, default notice */
	struct cfg_addr metrics_listen; /* optional, loopback only */

	/* [tls]: all four paths required by jalind, optional for -n checks
	 * of issue-2-era configs (empty string = not set). */
	char tls_ca[JALIN_PATH_MAX];
	char tls_cert[JALIN_PATH_MAX];
	char tls_key[JALIN_PATH_MAX];
	char tls_crl[JALIN_PATH_MAX];
	/* issue 14: the node's encryption key and certificate (defaults
	 * derived from key and cert: NAME.enc.key, NAME.enc.pem beside them,
	 * as certs/jalin-ca writes them) and an optional roster of the
	 * federation's encryption certificates */
	char tls_enc_key[JALIN_PATH_MAX];
	char tls_enc_cert[JALIN_PATH_MAX];
	char tls_roster[JALIN_PATH_MAX];

	/* [peer NAME] sections in file order */
	struct cfg_peer *peers;
	unsigned npeers;
};

/*
 * Read and validate the file at path. On success *out is a new config
 * (free with cfg_free). On error returns JALIN_ECONFIG (or JALIN_EIO when
 * the file cannot be read: "cannot read config 'PATH': Permission denied")
 * and err holds the first problem, "PATH:LINE: [section] key: reason".
 * Relative paths inside the file are resolved against the file's directory.
 */
int cfg_load(const char *path, struct cfg **out, struct jalin_err *err);

/* Free a config; NULL is a no-op. */
void cfg_free(struct cfg *c);

/*
 * Checks on the files a config names, done at startup and by jalind -n:
 * TLS files readable, the private key not readable or writable by group or
 * others ("private key 'PATH' is readable by group or others (mode 0644);
 * run chmod 600 'PATH'"), data_dir creatable. JALIN_ECONFIG / JALIN_EPERM.
 */
int cfg_check_files(const struct cfg *c, struct jalin_err *err);

/*
 * Print the config normalized: every section and key in table order, with
 * defaults filled in, one "key = value" per line, sizes in bytes,
 * collections in id order. Golden tests diff this output.
 */
void cfg_print(const struct cfg *c, FILE *fp);

/*
 * True if name[0..len) is listed in c's all_cases_nodes.
 */
bool cfg_all_cases_listed(const struct cfg *c, const char *name, size_t len);

/* Peer by name, NULL if not configured. */
const struct cfg_peer *cfg_peer_find(const struct cfg *c, const char *name);

/* Parse "host:port" / "[v6]:port". 0 or JALIN_EINVAL. */
int cfg_parse_addr(const char *s, struct cfg_addr *a);

#endif
