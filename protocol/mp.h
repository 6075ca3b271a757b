/*
 * mp.h - bounded msgpack reading.
 *
 * Two tools, both safe on bytes from anywhere:
 *
 *  mp_check()  walks one msgpack object and checks every declared count and
 *              length against the bytes that are actually left, and nesting
 *              against a depth limit, BEFORE anything is allocated. Debian's
 *              msgpack-c 4.0.0 allocates from declared counts (an array32
 *              header of 5 bytes makes it request 128 GiB), so every buffer
 *              goes through mp_check before msgpack_unpack_next() sees it.
 *
 *  struct mpr  a zero-allocation cursor for the hot paths (record states,
 *              batches). Every read checks the bytes left; the first error
 *              is sticky: later reads fail too, so a caller may read a whole
 *              structure and test mpr_error() once at the end.
 *
 * Also mp_canonical(): is an object in jalin's canonical form (smallest
 * encodings, map keys sorted, no floats or ext)? Equal values must be equal
 * bytes, or converged nodes would not have equal digests.
 */
#ifndef JALIN_MP_H
#define JALIN_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum mp_type {
	MP_INVALID = 0, /* bad byte, truncated, or cursor in error */
	MP_END,         /* no bytes left */
	MP_NIL,
	MP_BOOL,
	MP_UINT, /* non-negative integer (any int encoding with value >= 0) */
	MP_INT,  /* negative integer */
	MP_FLOAT,
	MP_STR,
	MP_BIN,
	MP_ARRAY,
	MP_MAP,
	MP_EXT
};

struct mp_limits {
	unsigned depth_max; /* arrays/maps nested deeper than this: error */
	uint32_t str_max;   /* longest str accepted */
	uint32_t bin_max;   /* longest bin accepted */
	bool allow_float;
	bool allow_ext;
};

/* depth JALIN_MP_DEPTH_MAX, str/bin up to JALIN_FRAME_MAX, floats and ext
 * allowed: the generic guard in front of msgpack-c. */
extern const struct mp_limits mp_limits_default;

/*
 * Check that buf[0..len) starts with one complete, well-formed msgpack object
 * within lim (NULL: mp_limits_default). On success *used (if not NULL) gets
 * its size in bytes; trailing bytes are allowed only if used != NULL.
 * Returns 0 or JALIN_EPROTO with err saying what and where, e.g.
 * "msgpack: array of 4294967295 elements at offset 0 exceeds the 0 bytes
 * left", "msgpack: nesting deeper than 16 at offset 16", "msgpack: truncated
 * str at offset 3 (needs 10 bytes, 2 left)", "msgpack: reserved byte 0xc1 at
 * offset 0", "msgpack: 3 trailing bytes after the object".
 * Never allocates; recursion depth is bounded by lim->depth_max.
 */
int mp_check(const void *buf, size_t len, const struct mp_limits *lim,
    size_t *used, struct jalin_err *err);

/*
 * 0 if buf[0..len) is exactly one object in canonical form: integers,
 * str, bin, array and map headers in their smallest encoding; non-negative
 * integers in a positive encoding; map keys strictly increasing by their
 * encoded bytes (memcmp, shorter first on a common prefix); no float, no ext;
 * depth within JALIN_MP_DEPTH_MAX. Else JALIN_EPROTO with a message.
 */
int mp_canonical(const void *buf, size_t len, struct jalin_err *err);

/*
 * The same, except that ext objects of types 1 to type are allowed at
 * exactly this depth (0: buf itself; 2: the elements of an array inside
 * buf's array), in their smallest header: the coded strings, sealed values
 * and data keys of a record state's entry values (record.h). What is
 * inside them is the caller's to check.
 */
int mp_canonical_ext(const void *buf, size_t len, unsigned depth, int8_t type,
    struct jalin_err *err);

/* Cursor. Treat the members as private. */
struct mpr {
	const uint8_t *p;
	const uint8_t *end;
	int err; /* 0 or the first JALIN_E* code */
};

void mpr_init(struct mpr *r, const void *buf, size_t len);

/* Type of the next object without consuming it (MP_END at the end). */
enum mp_type mpr_peek(const struct mpr *r);

/* Bytes not yet consumed. */
size_t mpr_left(const struct mpr *r);

/* Current position (for slicing raw spans). */
const uint8_t *mpr_pos(const struct mpr *r);

/* 0 if no read has failed, else the sticky error code. */
int mpr_error(const struct mpr *r);

/*
 * Readers: each consumes one object of the given kind and returns 0, or sets
 * the sticky error and returns JALIN_EPROTO (wrong type, truncated, out of
 * range). Array and map headers check that the count could fit in the bytes
 * left (n elements need at least n bytes, a map 2n) before returning it.
 * On failure the outputs and the position are left as they were; on a cursor
 * that has already failed, a reader reads nothing and returns the sticky code.
 */
int mpr_nil(struct mpr *r);
int mpr_bool(struct mpr *r, bool *v);
int mpr_u64(struct mpr *r, uint64_t *v); /* any int encoding, value >= 0 */
int mpr_i64(struct mpr *r, int64_t *v);  /* any int encoding in int64 */
int mpr_str(struct mpr *r, const char **s, uint32_t *len);
int mpr_bin(struct mpr *r, const uint8_t **b, uint32_t *len);
int mpr_ext(struct mpr *r, int8_t *type, const uint8_t **d, uint32_t *len);
int mpr_array(struct mpr *r, uint32_t *n);
int mpr_map(struct mpr *r, uint32_t *n);

/* Skip one whole object (depth-bounded by JALIN_MP_DEPTH_MAX). */
int mpr_skip(struct mpr *r);

/* Consume one whole object and return the span of its bytes. */
int mpr_raw(struct mpr *r, const uint8_t **p, size_t *len);

/* Mark the cursor failed (e.g. a semantic check by the caller failed). */
void mpr_fail(struct mpr *r, int code);

#endif
