/*
 * log.h - jalind's log: syslog (daemon facility) or stderr with -f.
 *
 * Levels as bgpd/knot use them: err (data or service lost), warning (a peer
 * or input misbehaved), notice (state an operator wants: peer up/down,
 * reload), info (routine), debug (-v only). Every line starts with its
 * subject ("peer banten: ", "store: ", "admin: "). log_warn/log_err append
 * ": strerror(errno)"; the *x variants do not. Never log field values:
 * they are personal data.
 *
 * Every formatted message is escaped at this sink (esc.h): control
 * characters as \n, \r, \t or \xNN, bytes that are not UTF-8 as \xNN,
 * valid UTF-8 kept. A peer's or client's text may be passed with %s as it
 * came: it stays on its one line and cannot reach a terminal as control.
 */
#ifndef JALIN_LOG_H
#define JALIN_LOG_H

#include "config.h"

/* foreground: stderr with a timestamp; else syslog with ident. */
void log_init(int foreground, int level, const char *ident);
void log_set_level(int level);
int log_get_level(void);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
