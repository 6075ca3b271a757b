/*
 * test_frame.c - the length prefix and blocking frame I/O.
 *
 * Headers at and over the limit, and real sockets: a frame far larger than
 * the socket buffer (the writer in a thread), a peer that hangs up mid-frame,
 * a transport that moves three bytes at a time, and signals that interrupt
 * blocked reads and writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "frame.h"
#include "limits.h"

/* A connected socket pair: side 0 is ours, side 1 plays the peer. */
struct pair {
	int fd[2];
	struct frame_io io[2];
	struct buf out;
};

static int
pair_setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));

	if (p == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd) != 0) {
		free(p);
		return -1;
	}
	frame_io_fd(&p->io[0], &p->fd[0]);
	frame_io_fd(&p->io[1], &p->fd[1]);
	buf_init(&p->out, JALIN_FRAME_MAX);
	*state = p;
	return 0;
}

static int
pair_teardown(void **state)
{
	struct pair *p = *state;

	if (p->fd[0] >= 0)
		close(p->fd[0]);
	if (p->fd[1] >= 0)
		close(p->fd[1]);
	buf_free(&p->out);
	free(p);
	return 0;
}

static void
peer_close(struct pair *p)
{
	close(p->fd[1]);
	p->fd[1] = -1;
}

static void
raw_write(int fd, const void *b, size_t n)
{
	assert_int_equal(write(fd, b, n), (ssize_t)n);
}

static void
expect_read_fails(struct pair *p, uint32_t max, int code, const char *msg)
{
	struct jalin_err err;

	jalin_err_clear(&err);
	assert_int_equal(frame_read(&p->io[0], max, &p->out, &err), code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
	assert_int_equal(p->out.len, 0);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* Headers.                                                             */

static void
test_hdr_encode(void **state)
{
	uint8_t h[4];
	uint32_t len = 0;

	(void)state;
	frame_put_hdr(h, 0x01020304);
	assert_int_equal(h[0], 0x01);
	assert_int_equal(h[1], 0x02);
	assert_int_equal(h[2], 0x03);
	assert_int_equal(h[3], 0x04);
	assert_int_equal(frame_check_hdr(h, 0x01020304, &len, NULL), 0);
	assert_int_equal(len, 0x01020304);
}

static void
expect_hdr(uint32_t n, uint32_t max, int code, const char *msg)
{
	struct jalin_err err;
	uint32_t len = 12345;
	uint8_t h[4];

	jalin_err_clear(&err);
	frame_put_hdr(h, n);
	assert_int_equal(frame_check_hdr(h, max, &len, &err), code);
	if (code == 0) {
		assert_int_equal(len, n);
		return;
	}
	assert_int_equal(len, 12345);
	assert_string_equal(err.msg, msg);
}

static void
test_hdr_limits(void **state)
{
	(void)state;
	expect_hdr(1024, 1024, 0, NULL);
	expect_hdr(1, 1024, 0, NULL);
	expect_hdr(1025, 1024, JALIN_ETOOBIG,
	    "frame of 1025 bytes exceeds limit 1024");
	expect_hdr(0, 1024, JALIN_EPROTO, "empty frame");
	expect_hdr(JALIN_FRAME_MAX, JALIN_FRAME_MAX, 0, NULL);
	expect_hdr(JALIN_FRAME_MAX + 1, JALIN_FRAME_MAX, JALIN_ETOOBIG,
	    "frame of 8388609 bytes exceeds limit 8388608");
	expect_hdr(JALIN_HELLO_FRAME_MAX + 1, JALIN_HELLO_FRAME_MAX,
	    JALIN_ETOOBIG, "frame of 65537 bytes exceeds limit 65536");
	expect_hdr(UINT32_MAX, JALIN_FRAME_MAX, JALIN_ETOOBIG,
	    "frame of 4294967295 bytes exceeds limit 8388608");
}

/* ------------------------------------------------------------------ */
/* Round trips over a socket pair.                                      */

static void
test_roundtrip_small(void **state)
{
	struct pair *p = *state;
	static const char *const msgs[] = {"a", "hello", "third frame"};
	size_t i;

	for (i = 0; i < 3; i++)
		assert_int_equal(frame_write(&p->io[1], 1024, msgs[i],
		                     strlen(msgs[i]), NULL),
		    0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(frame_read(&p->io[0], 1024, &p->out, NULL), 0);
		assert_int_equal(p->out.len, strlen(msgs[i]));
		assert_memory_equal(p->out.p, msgs[i], p->out.len);
	}
}

struct writer {
	const struct frame_io *io;
	const uint8_t *body;
	size_t len;
	int rc;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	w->rc = frame_write(w->io, JALIN_FRAME_MAX, w->body, w->len, NULL);
	return NULL;
}

/* 8 MiB, far over the socket buffer: only works if both sides loop. */
static void
test_roundtrip_large(void **state)
{
	struct pair *p = *state;
	struct writer w = {&p->io[1], NULL, JALIN_FRAME_MAX, -1};
	uint8_t *body = malloc(JALIN_FRAME_MAX);
	pthread_t t;
	size_t i;

	assert_non_null(body);
	for (i = 0; i < JALIN_FRAME_MAX; i++)
		body[i] = (uint8_t)(i * 7 + (i >> 13));
	w.body = body;
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	assert_int_equal(
	    frame_read(&p->io[0], JALIN_FRAME_MAX, &p->out, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_int_equal(p->out.len, JALIN_FRAME_MAX);
	assert_memory_equal(p->out.p, body, JALIN_FRAME_MAX);
	free(body);
}

/* Refused after the 4 header bytes: the body is still unread. */
static void
test_oversize_refused_early(void **state)
{
	struct pair *p = *state;
	uint8_t hdr[4], rest[32];

	frame_put_hdr(hdr, 1025);
	raw_write(p->fd[1], hdr, sizeof(hdr));
	raw_write(p->fd[1], "0123456789abcdef", 16);
	expect_read_fails(
	    p, 1024, JALIN_ETOOBIG, "frame of 1025 bytes exceeds limit 1024");
	assert_int_equal(p->out.cap, 0);
	assert_int_equal(read(p->fd[0], rest, sizeof(rest)), 16);
	assert_memory_equal(rest, "0123456789abcdef", 16);
}

static void
test_empty_frame_refused(void **state)
{
	struct pair *p = *state;
	uint8_t hdr[4] = {0, 0, 0, 0};

	raw_write(p->fd[1], hdr, sizeof(hdr));
	expect_read_fails(p, 1024, JALIN_EPROTO, "empty frame");
}

/* The caller's buffer cap is a limit too. */
static void
test_buffer_cap(void **state)
{
	struct pair *p = *state;
	uint8_t body[200] = {0};

	p->out.max = 100;
	assert_int_equal(
	    frame_write(&p->io[1], 1024, body, sizeof(body), NULL), 0);
	expect_read_fails(
	    p, 1024, JALIN_ETOOBIG, "frame of 200 bytes exceeds limit 100");
}

/* ------------------------------------------------------------------ */
/* The peer goes away.                                                  */

static void
test_eof_before_frame(void **state)
{
	struct pair *p = *state;

	peer_close(p);
	expect_read_fails(p, 1024, JALIN_EUNREACH, "connection closed by peer");
}

static void
test_eof_mid_header(void **state)
{
	struct pair *p = *state;

	raw_write(p->fd[1], "\0\0", 2);
	peer_close(p);
	expect_read_fails(p, 1024, JALIN_EUNREACH,
	    "connection closed mid-frame (got 2 of 4 bytes)");
}

static void
test_eof_mid_body(void **state)
{
	struct pair *p = *state;
	uint8_t hdr[4];

	frame_put_hdr(hdr, 100);
	raw_write(p->fd[1], hdr, sizeof(hdr));
	raw_write(p->fd[1], "0123456789", 10);
	peer_close(p);
	expect_read_fails(p, 1024, JALIN_EUNREACH,
	    "connection closed mid-frame (got 14 of 104 bytes)");
}

static void
test_read_error(void **state)
{
	struct pair *p = *state;

	close(p->fd[0]);
	p->fd[0] = -1;
	expect_read_fails(
	    p, 1024, JALIN_EIO, "frame read failed: Bad file descriptor");
}

/* No SIGPIPE: a vanished peer is an error message, not a dead jalinctl. */
static void
test_write_to_closed_peer(void **state)
{
	struct pair *p = *state;
	struct jalin_err err;
	uint8_t *big = calloc(1, 100000);

	assert_non_null(big);
	peer_close(p);
	jalin_err_clear(&err);
	assert_int_equal(frame_write(&p->io[0], 1024, "x", 1, &err), JALIN_EIO);
	assert_string_equal(err.msg, "frame write failed: Broken pipe");
	jalin_err_clear(&err);
	assert_int_equal(
	    frame_write(&p->io[0], JALIN_FRAME_MAX, big, 100000, &err),
	    JALIN_EIO);
	assert_string_equal(err.msg, "frame write failed: Broken pipe");
	free(big);
}

static void
test_write_limits(void **state)
{
	struct pair *p = *state;
	struct jalin_err err;
	uint8_t body[1025] = {0};
	uint8_t probe;

	jalin_err_clear(&err);
	assert_int_equal(
	    frame_write(&p->io[0], 1024, body, 1025, &err), JALIN_ETOOBIG);
	assert_string_equal(err.msg, "frame of 1025 bytes exceeds limit 1024");
	jalin_err_clear(&err);
	assert_int_equal(
	    frame_write(&p->io[0], 1024, body, 0, &err), JALIN_EPROTO);
	assert_string_equal(err.msg, "empty frame");
	assert_int_equal(frame_write(&p->io[0], 1024, body, 1024, NULL), 0);
	/* Only the frame at the limit went out. */
	assert_int_equal(frame_read(&p->io[1], 1024, &p->out, NULL), 0);
	assert_int_equal(p->out.len, 1024);
	assert_int_equal(recv(p->fd[1], &probe, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/* frame_io_fd falls back to write(2) where send(2) does not apply. */
static void
test_pipe(void **state)
{
	struct buf out;
	struct frame_io rio, wio;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	frame_io_fd(&rio, &fds[0]);
	frame_io_fd(&wio, &fds[1]);
	buf_init(&out, 1024);
	assert_int_equal(frame_write(&wio, 1024, "over a pipe", 11, NULL), 0);
	assert_int_equal(frame_read(&rio, 1024, &out, NULL), 0);
	assert_int_equal(out.len, 11);
	assert_memory_equal(out.p, "over a pipe", 11);
	buf_free(&out);
	close(fds[0]);
	close(fds[1]);
}

/* ------------------------------------------------------------------ */
/* A transport that moves at most three bytes per call.                 */

struct trickle {
	uint8_t data[20000];
	size_t len, pos, calls;
};

static ssize_t
trickle_read(void *ctx, void *b, size_t n)
{
	struct trickle *t = ctx;

	n = n < 3 ? n : 3;
	n = n < t->len - t->pos ? n : t->len - t->pos;
	memcpy(b, t->data + t->pos, n);
	t->pos += n;
	t->calls++;
	return (ssize_t)n;
}

static ssize_t
trickle_write(void *ctx, const void *b, size_t n)
{
	struct trickle *t = ctx;

	n = 1 + t->calls % 3 < n ? 1 + t->calls % 3 : n;
	assert_true(t->len + n <= sizeof(t->data));
	memcpy(t->data + t->len, b, n);
	t->len += n;
	t->calls++;
	return (ssize_t)n;
}

static void
trickle_roundtrip(size_t n)
{
	struct trickle *t = calloc(1, sizeof(*t));
	struct frame_io io = {trickle_read, trickle_write, t};
	uint8_t *body = malloc(n);
	struct buf out;
	size_t i;

	assert_non_null(t);
	assert_non_null(body);
	for (i = 0; i < n; i++)
		body[i] = (uint8_t)(i ^ (i >> 8));
	buf_init(&out, 1 << 20);
	assert_int_equal(frame_write(&io, 1 << 20, body, n, NULL), 0);
	assert_int_equal(t->len, 4 + n);
	assert_true(t->calls >= (4 + n) / 3);
	assert_int_equal(frame_read(&io, 1 << 20, &out, NULL), 0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.p, body, n);
	buf_free(&out);
	free(body);
	free(t);
}

static void
test_short_reads_writes(void **state)
{
	(void)state;
	trickle_roundtrip(100);   /* header and body in one write */
	trickle_roundtrip(10000); /* header, then body */
}

/* ------------------------------------------------------------------ */
/* Signals interrupt blocked I/O; frame_io_fd retries.                  */

/* A signal handler gets no context: the count has to live here. */
static volatile sig_atomic_t sig_count;

static void
on_sigusr1(int sig)
{
	(void)sig;
	sig_count++;
}

static int
sig_setup(void **state)
{
	struct sigaction sa;

	if (pair_setup(state) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1; /* no SA_RESTART: read/send see EINTR */
	sigemptyset(&sa.sa_mask);
	sig_count = 0;
	return sigaction(SIGUSR1, &sa, NULL) == 0 ? 0 : -1;
}

static int
sig_teardown(void **state)
{
	signal(SIGUSR1, SIG_DFL);
	return pair_teardown(state);
}

struct pester {
	pthread_t target;
	struct pair *p;
	size_t len; /* > 0: then read a frame of this size */
	int rc;
};

static void *
pester_main(void *arg)
{
	struct pester *ps = arg;
	struct buf out;
	int i;

	for (i = 0; i < 5; i++) {
		sleep_ms(20);
		pthread_kill(ps->target, SIGUSR1);
	}
	if (ps->len == 0) {
		ps->rc = frame_write(&ps->p->io[1], 1024, "late", 4, NULL);
		return NULL;
	}
	buf_init(&out, JALIN_FRAME_MAX);
	ps->rc = frame_read(&ps->p->io[1], JALIN_FRAME_MAX, &out, NULL);
	ps->rc = ps->rc == 0 && out.len != ps->len ? -1 : ps->rc;
	buf_free(&out);
	return NULL;
}

static void
test_eintr_read(void **state)
{
	struct pester ps = {pthread_self(), *state, 0, -1};
	struct pair *p = *state;
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, pester_main, &ps), 0);
	assert_int_equal(frame_read(&p->io[0], 1024, &p->out, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(sig_count, 5);
	assert_memory_equal(p->out.p, "late", 4);
}

static void
test_eintr_write(void **state)
{
	struct pester ps = {pthread_self(), *state, 4 << 20, -1};
	struct pair *p = *state;
	uint8_t *body = calloc(1, ps.len);
	pthread_t t;

	assert_non_null(body);
	assert_int_equal(pthread_create(&t, NULL, pester_main, &ps), 0);
	assert_int_equal(
	    frame_write(&p->io[0], JALIN_FRAME_MAX, body, ps.len, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(sig_count, 5);
	free(body);
}

#define PAIR_TEST(f) \
	cmocka_unit_test_setup_teardown(f, pair_setup, pair_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hdr_encode),
	    cmocka_unit_test(test_hdr_limits),
	    PAIR_TEST(test_roundtrip_small),
	    PAIR_TEST(test_roundtrip_large),
	    PAIR_TEST(test_oversize_refused_early),
	    PAIR_TEST(test_empty_frame_refused),
	    PAIR_TEST(test_buffer_cap),
	    PAIR_TEST(test_eof_before_frame),
	    PAIR_TEST(test_eof_mid_header),
	    PAIR_TEST(test_eof_mid_body),
	    PAIR_TEST(test_read_error),
	    PAIR_TEST(test_write_to_closed_peer),
	    PAIR_TEST(test_write_limits),
	    cmocka_unit_test(test_pipe),
	    cmocka_unit_test(test_short_reads_writes),
	    cmocka_unit_test_setup_teardown(
	        test_eintr_read, sig_setup, sig_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_eintr_write, sig_setup, sig_teardown),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
