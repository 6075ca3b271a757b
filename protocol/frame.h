/*
 * frame.h - the 4-byte big-endian length prefix in front of every message.
 *
 * The header is checked before the body is waited for: a zero length or one
 * above the limit in force is an error, so a peer can never make us buffer
 * more than the limit. Used by jalind (with libevent's evbuffers: it peeks
 * the 4 bytes and calls frame_check_hdr) and by jalinctl (blocking I/O through
 * struct frame_io, over a Unix socket or a TLS stream).
 */
#ifndef JALIN_FRAME_H
#define JALIN_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/* Write the header for a body of len bytes. */
void frame_put_hdr(uint8_t hdr[4], uint32_t len);

/*
 * Decode a header. 0 and *len, or JALIN_ETOOBIG "frame of N bytes exceeds
 * limit M" / JALIN_EPROTO "empty frame" in err.
 */
int frame_check_hdr(
    const uint8_t hdr[4], uint32_t max, uint32_t *len, struct jalin_err *err);

/* Blocking transport: read/write like read(2)/write(2) (retry on EINTR is
 * the callee's job; return <0 on error, 0 on EOF for read). */
struct frame_io {
	ssize_t (*read)(void *ctx, void *buf, size_t n);
	ssize_t (*write)(void *ctx, const void *buf, size_t n);
	void *ctx;
};

/* frame_io over a plain file descriptor. */
void frame_io_fd(struct frame_io *io, int *fd);

/*
 * Read one frame into out (reset first; body only, no header).
 * 0; JALIN_EUNREACH "connection closed" on EOF before a full frame (0 bytes
 * read: "connection closed by peer"); JALIN_EIO on read errors (with
 * strerror); JALIN_ETOOBIG / JALIN_EPROTO from frame_check_hdr.
 */
int frame_read(const struct frame_io *io, uint32_t max, struct buf *out,
    struct jalin_err *err);

/*
 * Write header + body. 0, or JALIN_EIO / JALIN_ETOOBIG (len > max) /
 * JALIN_EPROTO (len == 0: the peer would refuse an empty frame).
 */
int frame_write(const struct frame_io *io, uint32_t max, const void *body,
    size_t len, struct jalin_err *err);

#endif
