/*
 * msg_grammar.c - the C side of the peer message grammar, for
 * tests/integration/test_protocol_doc.py, which holds it against
 * PROTOCOL.md and against the independent Python client.
 *
 *	msg_grammar table     the key and message tables of protocol/msg.c:
 *	                      "key 43 EPOCH bin 16",
 *	                      "msg 3 SUB", "slot SUB SEQ with EPOCH"
 *	msg_grammar examples  the frames of PROTOCOL.md section 11 as the
 *	                      encoders write them, one hex line each
 *	msg_grammar decode    frames on stdin (4-byte length + body): one line
 *	                      each, "ok NAME" or "error: why", as
 *	                      msg_decode_peer reads them
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "limits.h"
#include "mp.h"
#include "msg.h"

static void
print_table(void)
{
	static const char *const need[] = {"optional", "required", "with"};
	size_t nk, nd;
	const struct msg_keydef *k = msg_keys(&nk);
	const struct msg_def *d = msg_defs(&nd);

	for (size_t i = 0; i < nk; i++)
		printf("key %u %s %s\n", k[i].key, k[i].name,
		    msg_vtype_name(k[i].vtype));
	for (size_t i = 0; i < nd; i++) {
		printf("msg %u %s\n", d[i].type, d[i].name);
		for (unsigned s = 0; s < d[i].nslots; s++) {
			const struct msg_slot *sl = &d[i].slots[s];
			printf("slot %s %s %s%s%s\n", d[i].name,
			    msg_key(sl->key)->name, need[sl->need],
			    sl->need == MSG_WITH ? " " : "",
			    sl->need == MSG_WITH ? msg_key(sl->with)->name
			                         : "");
		}
	}
}

/* The frame in b, header included, as one line of hex. */
static void
print_frame(const struct buf *b)
{
	printf("%08zx", b->len);
	for (size_t i = 0; i < b->len; i++)
		printf("%02x", b->p[i]);
	printf("\n");
}

/* The inputs are the ones PROTOCOL.md section 11 names. */
static void
print_examples(struct buf *b)
{
	static const uint8_t ep[16] = {0x9f, 0x3c, 0x51, 0xa0, 0xd4, 0xe2, 0x77,
	    0x4b, 0x8a, 0x10, 0xc3, 0xf5, 0xe6, 0xa7, 0xb8, 0xc9};
	static const uint8_t ep2[16] = {0x0b, 0x1c, 0x2d, 0x3e, 0x4f, 0x50,
	    0x61, 0x72, 0x83, 0x94, 0xa5, 0xb6, 0xc7, 0xd8, 0xe9, 0xfa};
	static const struct msg_schema_ver v1[] = {{"case", 1},
	    {"partnership", 1}, {"lks", 1}, {"resource", 1}, {"referral", 1}};
	const struct msg_hello h = {JALIN_PROTO_VERSION_MIN,
	    JALIN_PROTO_VERSION_MAX, "jabar", ep, 1234, 0, v1, 5};
	const uint64_t t = 0x1a2090c6780ull;

	msg_enc_hello(b, &h);
	print_frame(b);
	msg_enc_sub(b, NULL, 0);
	print_frame(b);
	msg_enc_sub(b, ep, 1200);
	print_frame(b);
	msg_enc_ack(b, ep, 1201);
	print_frame(b);
	msg_enc_live(b, ep, 1201);
	print_frame(b);
	msg_enc_resync(b, ep2,
	    "the checkpoint is for another epoch of this "
	    "store");
	print_frame(b);
	msg_enc_ping(b, t);
	print_frame(b);
	msg_enc_pong(b, t);
	print_frame(b);
	msg_enc_error(b, JALIN_ETOOBIG,
	    "frame of 9437184 bytes exceeds limit "
	    "8388608");
	print_frame(b);
}

/* Each frame on stdin through the guard and the decoder. */
static int
decode(struct buf *b)
{
	uint8_t hdr[4];
	uint32_t len;
	struct jalin_err err;
	struct msg_peer m;

	while (fread(hdr, 1, 4, stdin) == 4) {
		jalin_err_clear(&err);
		buf_reset(b);
		if (frame_check_hdr(hdr, JALIN_FRAME_MAX, &len, &err) != 0 ||
		    buf_reserve(b, len) != 0 ||
		    fread(b->p, 1, len, stdin) != len) {
			fprintf(stderr, "msg_grammar: bad frame on stdin\n");
			return 1;
		}
		if (mp_check(b->p, len, NULL, NULL, &err) != 0 ||
		    msg_decode_peer(b->p, len, &m, &err) != 0)
			printf("error: %s\n", err.msg);
		else
			printf("ok %s\n",
			    msg_def(m.type) != NULL ? msg_def(m.type)->name
			                            : "(unknown type)");
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct buf b;
	int rc = 0;

	buf_init(&b, JALIN_FRAME_MAX);
	if (argc == 2 && strcmp(argv[1], "table") == 0)
		print_table();
	else if (argc == 2 && strcmp(argv[1], "examples") == 0)
		print_examples(&b);
	else if (argc == 2 && strcmp(argv[1], "decode") == 0)
		rc = decode(&b);
	else {
		fprintf(stderr, "usage: msg_grammar table|examples|decode\n");
		rc = 2;
	}
	buf_free(&b);
	return rc;
}
