/*
 * log.c - jalind's log: syslog (LOG_DAEMON) or, in the foreground, stderr.
 *
 * A stderr line reads "2026-11-22T10:42:01.123Z jalind[4711] notice: peer
 * banten: up" (UTC). Every line is built in a fixed buffer and written
 * with one call, so lines from one process never interleave; a message
 * that does not fit ends in "...". Every message is escaped (esc.h) before
 * it reaches either output: a newline or terminal escape sequence in a
 * peer's ERROR text is shown as "\n" or "\x1b", so it cannot forge a line
 * or reach an operator's terminal. The level filter applies to both
 * outputs. The settings live in file-scope statics, as in bgpd's log.c:
 * logging must work from anywhere, before and after the config exists.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "esc.h"
#include "log.h"

#define LOG_LINE_MAX  1024 /* one stderr line, with timestamp and '\n' */
#define LOG_IDENT_MAX 32

static int log_foreground = 1;
static int log_level = CFG_LOG_NOTICE;
static char log_ident[LOG_IDENT_MAX] = "jalind";

static const struct {
	const char *name;
	int prio;
} log_levels[] = {
    [CFG_LOG_ERR] = {"err", LOG_ERR},
    [CFG_LOG_WARNING] = {"warning", LOG_WARNING},
    [CFG_LOG_NOTICE] = {"notice", LOG_NOTICE},
    [CFG_LOG_INFO] = {"info", LOG_INFO},
    [CFG_LOG_DEBUG] = {"debug", LOG_DEBUG},
};

static int
clamp_level(int level)
{
	if (level < CFG_LOG_ERR)
		return CFG_LOG_ERR;
	if (level > CFG_LOG_DEBUG)
		return CFG_LOG_DEBUG;
	return level;
}

void
log_init(int foreground, int level, const char *ident)
{
	int n;

	/* openlog keeps the pointer, so ident is copied; too long: ours */
	n = snprintf(log_ident, sizeof(log_ident), "%s",
	    ident != NULL ? ident : "jalind");
	if (n < 0 || (size_t)n >= sizeof(log_ident))
		snprintf(log_ident, sizeof(log_ident), "jalind");
	log_foreground = foreground;
	log_level = clamp_level(level);
	if (!foreground)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(int level)
{
	log_level = clamp_level(level);
}

int
log_get_level(void)
{
	return log_level;
}

/* Append to buf of size bytes at *n; on overflow end it with "...". */
static void log_append(char *buf, size_t size, size_t *n, const char *fmt,
    va_list ap) __attribute__((format(printf, 4, 0)));

static void
log_append(char *buf, size_t size, size_t *n, const char *fmt, va_list ap)
{
	int r;

	if (*n >= size - 1)
		return;
	r = vsnprintf(buf + *n, size - *n, fmt, ap);
	if (r < 0) {
		buf[*n] = '\0'; /* an encoding error: drop this part */
		return;
	}
	if ((size_t)r >= size - *n) {
		memcpy(buf + size - 4, "...", 4);
		*n = size - 1;
		return;
	}
	*n += (size_t)r;
}

static void log_appendf(char *buf, size_t size, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
log_appendf(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_append(buf, size, n, fmt, ap);
	va_end(ap);
}

/* "2026-11-22T10:42:01.123Z jalind[4711] notice: " */
static void
log_prefix(char *buf, size_t size, size_t *n, int level)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	log_appendf(buf, size, n, "%s.%03ldZ %s[%ld] %s: ", when,
	    ts.tv_nsec / 1000000, log_ident, (long)getpid(),
	    log_levels[level].name);
}

static void log_vlog(int level, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * errnum >= 0 appends ": strerror(errnum)". The message is formatted
 * first, then escaped into the line (esc.h): whatever a peer or client
 * sent and a caller passed on, no call site can forget to escape it.
 */
static void
log_vlog(int level, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], raw[LOG_LINE_MAX];
	size_t n = 0, msg, len = 0, used;

	if (level > log_level)
		return;
	if (log_foreground)
		log_prefix(line, sizeof(line) - 1, &n, level);
	msg = n;
	raw[0] = '\0';
	log_append(raw, sizeof(raw), &len, fmt, ap);
	if (errnum >= 0)
		log_appendf(raw, sizeof(raw), &len, ": %s", strerror(errnum));
	/* room kept for "..." and the '\n' */
	n += esc_text(line + n, sizeof(line) - n - 4, raw, len, &used);
	if (used < len) {
		memcpy(line + n, "...", 4);
		n += 3;
	}
	if (!log_foreground) {
		syslog(log_levels[level].prio, "%s", line + msg);
		return;
	}
	line[n++] = '\n'; /* sizeof(line) - 4 above kept room for it */
	fwrite(line, 1, n, stderr);
	fflush(stderr);
}

/* errno is saved first and restored: logging never changes it. */
void
log_err(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vlog(CFG_LOG_ERR, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_errx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vlog(CFG_LOG_ERR, -1, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vlog(CFG_LOG_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vlog(CFG_LOG_WARNING, -1, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_notice(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vlog(CFG_LOG_NOTICE, -1, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vlog(CFG_LOG_INFO, -1, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_debug(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vlog(CFG_LOG_DEBUG, -1, fmt, ap);
	va_end(ap);
	errno = saved;
}
