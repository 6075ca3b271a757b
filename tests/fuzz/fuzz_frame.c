/*
 * fuzz_frame.c - libFuzzer harness for what a peer or an admin client can
 * send: the frame header, the msgpack guard, msgpack-c behind the guard, and
 * the peer and admin message parsers. Nothing may crash, hang or allocate
 * from a declared size; anything mp_check accepts must decode in msgpack-c
 * to the same size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "frame.h"
#include "mp.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

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
	struct msg_peer pm;
	struct msg_req rq;
	uint32_t len;

	if (n < 4 || frame_check_hdr(d, JALIN_FRAME_MAX, &len, NULL) != 0)
		return 0;
	if (len > n - 4)
		len = (uint32_t)(n - 4); /* a short read: parse what arrived */
	if (mp_check(d + 4, len, NULL, NULL, NULL) != 0)
		return 0;
	check_unpack(d + 4, len);
	msg_parse_peer(d + 4, len, &pm, NULL);
	msg_parse_req(d + 4, len, &rq, NULL);
	return 0;
}
