/*
 * frame.c - the 4-byte big-endian length prefix, and blocking frame I/O for
 * jalinctl over any struct frame_io (a Unix socket, or a TLS stream).
 *
 * The header is always judged before a byte of the body is read or any
 * memory is reserved for it, so the limit in force is also the most a peer
 * can make us buffer.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"

void
frame_put_hdr(uint8_t hdr[4], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

int
frame_check_hdr(
    const uint8_t hdr[4], uint32_t max, uint32_t *len, struct jalin_err *err)
{
	uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];

	if (n == 0)
		return jalin_err_set(err, JALIN_EPROTO, "empty frame");
	if (n > max)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "frame of %u bytes exceeds limit %u", n, max);
	*len = n;
	return 0;
}

static ssize_t
fd_read(void *ctx, void *buf, size_t n)
{
	int fd = *(int *)ctx;
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/*
 * send(MSG_NOSIGNAL) so that a peer that went away gives EPIPE instead of a
 * SIGPIPE that would kill jalinctl; plain write for pipes and files.
 */
static ssize_t
fd_write(void *ctx, const void *buf, size_t n)
{
	int fd = *(int *)ctx;
	ssize_t w;

	do
		w = send(fd, buf, n, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w >= 0 || errno != ENOTSOCK)
		return w;
	do
		w = write(fd, buf, n);
	while (w < 0 && errno == EINTR);
	return w;
}

void
frame_io_fd(struct frame_io *io, int *fd)
{
	io->read = fd_read;
	io->write = fd_write;
	io->ctx = fd;
}

/*
 * Read exactly n bytes. 0; 1 on EOF with *got bytes read; -1 on an error
 * with errno set (or 0 if the transport did not set it).
 */
static int
read_full(const struct frame_io *io, uint8_t *p, size_t n, size_t *got)
{
	ssize_t r;

	*got = 0;
	while (*got < n) {
		errno = 0;
		r = io->read(io->ctx, p + *got, n - *got);
		if (r < 0 || (size_t)r > n - *got)
			return -1;
		if (r == 0)
			return 1;
		*got += (size_t)r;
	}
	return 0;
}

static int
read_error(int rc, size_t got, size_t total, struct jalin_err *err)
{
	if (rc < 0)
		return jalin_err_set(err, JALIN_EIO, "frame read failed: %s",
		    errno != 0 ? strerror(errno) : "transport error");
	if (got == 0 && total == JALIN_FRAME_HDR)
		return jalin_err_set(
		    err, JALIN_EUNREACH, "connection closed by peer");
	return jalin_err_set(err, JALIN_EUNREACH,
	    "connection closed mid-frame (got %zu of %zu bytes)", got, total);
}

int
frame_read(const struct frame_io *io, uint32_t max, struct buf *out,
    struct jalin_err *err)
{
	uint8_t hdr[JALIN_FRAME_HDR];
	uint32_t len;
	size_t got;
	int rc;

	buf_reset(out);
	if ((rc = read_full(io, hdr, sizeof(hdr), &got)) != 0)
		return read_error(rc, got, sizeof(hdr), err);
	if ((rc = frame_check_hdr(hdr, max, &len, err)) != 0)
		return rc;
	if ((rc = buf_reserve(out, len)) == JALIN_ETOOBIG)
		return jalin_err_set(err, rc,
		    "frame of %u bytes exceeds limit %zu", len, out->max);
	if (rc != 0)
		return jalin_err_set(
		    err, rc, "no memory for a frame of %u bytes", len);
	if ((rc = read_full(io, out->p, len, &got)) != 0)
		return read_error(
		    rc, sizeof(hdr) + got, sizeof(hdr) + (size_t)len, err);
	out->len = len;
	return 0;
}

static int
write_full(const struct frame_io *io, const uint8_t *p, size_t n,
    struct jalin_err *err)
{
	ssize_t w;

	while (n > 0) {
		errno = 0;
		w = io->write(io->ctx, p, n);
		/* 0 bytes for a non-empty write would loop forever. */
		if (w <= 0 || (size_t)w > n)
			return jalin_err_set(err, JALIN_EIO,
			    "frame write failed: %s",
			    errno != 0 ? strerror(errno) : "transport error");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
frame_write(const struct frame_io *io, uint32_t max, const void *body,
    size_t len, struct jalin_err *err)
{
	uint8_t small[JALIN_FRAME_HDR + JALIN_FRAME_COALESCE];
	int rc;

	if (len > max)
		return jalin_err_set(err, JALIN_ETOOBIG,
		    "frame of %zu bytes exceeds limit %u", len, max);
	if (len == 0)
		return jalin_err_set(err, JALIN_EPROTO, "empty frame");
	frame_put_hdr(small, (uint32_t)len);
	if (len <= JALIN_FRAME_COALESCE) {
		memcpy(small + JALIN_FRAME_HDR, body, len);
		return write_full(io, small, JALIN_FRAME_HDR + len, err);
	}
	if ((rc = write_full(io, small, JALIN_FRAME_HDR, err)) != 0)
		return rc;
	return write_full(io, body, len, err);
}
