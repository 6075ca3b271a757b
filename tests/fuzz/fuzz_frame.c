/*
 * fuzz_frame.c - libFuzzer harness for what a peer or an admin client can
 * send: the frame header, the msgpack guard, msgpack-c behind the guard, the
 * peer message parser and its required-key check (as jalind reads an open
 * peer's frames: without the guard), the response parser (jalinctl's side)
 * and the admin request parser. Nothing may crash, hang or allocate from a
 * declared size; anything mp_check accepts must decode in msgpack-c to the
 * same size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "frame.h"
#include "mp.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* The bounded-cursor parsers, on any bytes: they need no guard. */
static void
parse_unguarded(const uint8_t *body, size_t len)
{
	struct jalin_err err;
	struct msg_peer pm;
	struct msg_resp rs;

	jalin_err_clear(&err);
	msg_parse_peer(body, len, &pm, &err);
	jalin_err_clear(&err);
	msg_check_peer(&pm, &err); /* also on what a failed parse left */
	jalin_err_clear(&err);
	msg_parse_resp(body, len, &rs, &err);
}

static void
check_unpack(const uint8_t *body, size_t len)
{
	msgpack_unpacked u;
	size_t off = 0;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)body, len, &off) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    off != len)
		abort(); /* the guard accepted what msgpack-c cannot read */
	msgpack_unpacked_destroy(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct msg_req rq;
	uint32_t len;

	if (n < 4 || frame_check_hdr(d, JALIN_FRAME_MAX, &len, NULL) != 0)
		return 0;
	if (len > n - 4)
		len = (uint32_t)(n - 4); /* a short read: parse what arrived */
	parse_unguarded(d + 4, len);
	if (mp_check(d + 4, len, NULL, NULL, NULL) != 0)
		return 0;
	check_unpack(d + 4, len);
	msg_parse_req(d + 4, len, &rq, NULL);
	return 0;
}
