/*
 * hlc.c - hybrid logical clock: version stamps that never go backwards, even
 * when the wall clock does, and that absorb what peers have seen without
 * letting a peer with a clock far in the future drag ours along.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "hlc.h"

/* Largest millisecond value the 48-bit time part can hold. */
#define HLC_MS_MAX ((UINT64_C(1) << 48) - 1)

/* 9999-12-31T23:59:59.999Z: beyond it the text would need a 5-digit year. */
#define HLC_FORMAT_MS_MAX UINT64_C(253402300799999)

#define HLC_FORMAT_LEN 25 /* "2026-11-22T10:42:01.123Z" + NUL */

void
hlc_init(struct hlc *c, uint64_t last)
{
	c->last = last;
}

uint64_t
hlc_now(struct hlc *c, uint64_t wall_ms)
{
	uint64_t t;

	/* HLC_MAKE would drop the high bits and jump backwards. */
	if (wall_ms > HLC_MS_MAX)
		wall_ms = HLC_MS_MAX;
	t = HLC_MAKE(wall_ms, 0);
	c->last = t > c->last ? t : c->last + 1;
	return c->last;
}

int
hlc_observe(
    struct hlc *c, uint64_t remote, uint64_t wall_ms, uint64_t max_skew_ms)
{
	uint64_t ms = HLC_MS(remote);

	/* Subtract, not add: wall_ms + max_skew_ms may wrap. */
	if (ms > wall_ms && ms - wall_ms > max_skew_ms)
		return JALIN_ESKEW;
	if (remote > c->last)
		c->last = remote;
	return 0;
}

uint64_t
hlc_wall_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
hlc_format(uint64_t h, char *out, size_t n)
{
	return hlc_format_ms(HLC_MS(h), out, n);
}

int
hlc_format_ms(uint64_t ms, char *out, size_t n)
{
	time_t secs = (time_t)(ms / 1000);
	char tmp[32];
	struct tm tm;
	int len;

	if (n < HLC_FORMAT_LEN)
		return JALIN_ETOOBIG;
	if (ms > HLC_FORMAT_MS_MAX || gmtime_r(&secs, &tm) == NULL)
		return JALIN_EINVAL;
	len = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (unsigned)(ms % 1000));
	if (len != HLC_FORMAT_LEN - 1)
		return JALIN_EINVAL;
	memcpy(out, tmp, HLC_FORMAT_LEN);
	return 0;
}
