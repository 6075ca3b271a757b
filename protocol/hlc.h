/*
 * hlc.h - hybrid logical clock: 48 bits of milliseconds since the Unix
 * epoch, 16 bits of counter, in one uint64_t that orders like the time.
 *
 * A node never issues a timestamp below one it has issued or seen: local
 * events take max(last + 1, wall clock); a remote timestamp is folded in with
 * hlc_observe(), unless it is more than max_skew ahead of our wall clock, in
 * which case it is refused (JALIN_ESKEW) and the caller holds the data back.
 * Wall time is passed in so tests control it; hlc_wall_ms() reads it.
 */
#ifndef JALIN_HLC_H
#define JALIN_HLC_H

#include <stddef.h>
#include <stdint.h>

#define HLC_MS(h)         ((uint64_t)(h) >> 16)
#define HLC_CTR(h)        ((uint16_t)((h)&0xffffu))
#define HLC_MAKE(ms, ctr) (((uint64_t)(ms) << 16) | (uint16_t)(ctr))

struct hlc {
	uint64_t last; /* highest timestamp issued or observed */
};

/* Start from a persisted value (0 for a new node). */
void hlc_init(struct hlc *c, uint64_t last);

/*
 * A new timestamp, strictly greater than every one issued or observed:
 * HLC_MAKE(wall_ms, 0) when the wall clock is ahead, else last + 1 (a
 * counter overflow carries into the milliseconds, which stays monotonic).
 */
uint64_t hlc_now(struct hlc *c, uint64_t wall_ms);

/*
 * Fold in a timestamp seen from elsewhere. If HLC_MS(remote) is more than
 * max_skew_ms ahead of wall_ms, change nothing and return JALIN_ESKEW;
 * otherwise last = max(last, remote) and return 0.
 */
int hlc_observe(
    struct hlc *c, uint64_t remote, uint64_t wall_ms, uint64_t max_skew_ms);

/* Milliseconds since the Unix epoch from CLOCK_REALTIME. */
uint64_t hlc_wall_ms(void);

/*
 * "2026-11-22T10:42:01.123Z" (UTC, millisecond precision) of the time part.
 * Needs 25 bytes; returns 0, JALIN_ETOOBIG if n is too small, or
 * JALIN_EINVAL past 9999-12-31T23:59:59.999Z (a 48-bit time part reaches
 * year 10889, which needs a fifth year digit). out is untouched on error.
 */
int hlc_format(uint64_t h, char *out, size_t n);

/* Same for plain milliseconds since the epoch. */
int hlc_format_ms(uint64_t ms, char *out, size_t n);

#endif
