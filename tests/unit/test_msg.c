/*
 * test_msg.c - the peer message layer: grammar table, encoders, decoder.
 *
 * The encoders must write the bytes of PROTOCOL.md section 11 (the wire
 * does not change when node/ moves to them); every message must come back
 * from msg_decode_peer as it went in, carrying exactly the keys the table
 * lists for it; a message without a required key is refused with a message
 * naming the message and the key; and each key's type in the table is the
 * one the parser accepts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "limits.h"
#include "msg.h"

#define EPOCH_HEX "9f 3c 51 a0 d4 e2 77 4b 8a 10 c3 f5 e6 a7 b8 c9 "
#define TIME_MS   0x1a2090c6780ull /* 2026-11-23T15:35:37.579Z */
#define STATE_HEX                                                            \
	"96 03 00 91 a5 6a 61 62 61 72 91 cf 01 a2 09 0c 67 6b 00 00 92 00 " \
	"00 96 01 a5 6a 61 62 61 72 10 c7 0a 01 ee 23 58 80 42 e6 86 a1 ac " \
	"7f 2f a6 61 63 74 69 76 65"
#define ID_HEX "01 a2 09 0c 67 6b 71 96 87 8c f6 29 95 7c 40 34"

static const uint8_t epoch[16] = {0x9f, 0x3c, 0x51, 0xa0, 0xd4, 0xe2, 0x77,
    0x4b, 0x8a, 0x10, 0xc3, 0xf5, 0xe6, 0xa7, 0xb8, 0xc9};

/* Bytes from "9f 3c ..." (spaces ignored) into out; their number. */
static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		assert_true(n < max);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void
assert_bytes(const struct buf *b, const char *hex)
{
	uint8_t want[512];
	size_t n = unhex(hex, want, sizeof(want));

	assert_int_equal(b->err, 0);
	assert_int_equal(b->len, n);
	assert_memory_equal(b->p, want, n);
}

static int
setup(void **state)
{
	struct buf *b = malloc(sizeof(*b));

	if (b == NULL)
		return -1;
	buf_init(b, JALIN_FRAME_MAX);
	*state = b;
	return 0;
}

static int
teardown(void **state)
{
	buf_free(*state);
	free(*state);
	return 0;
}

/* --- the table ---------------------------------------------------------- */

static void
test_table_is_in_type_order_and_names_known_keys(void **state)
{
	size_t n, nk;
	const struct msg_def *d = msg_defs(&n);
	const struct msg_keydef *k = msg_keys(&nk);

	(void)state;
	assert_int_equal(n, MSG_SIGBATCH);
	for (size_t i = 0; i < n; i++) {
		char lower[32];
		size_t j;
		assert_int_equal(d[i].type, i + 1);
		assert_ptr_equal(msg_def(d[i].type), &d[i]);
		/* the log name is the table name in lower case */
		for (j = 0; d[i].name[j] != '\0' && j + 1 < sizeof(lower); j++)
			lower[j] = d[i].name[j] == '_'
			    ? '-'
			    : (char)(d[i].name[j] | 0x20);
		lower[j] = '\0';
		assert_string_equal(msg_type_name(d[i].type), lower);
		for (unsigned s = 0; s < d[i].nslots; s++) {
			assert_non_null(msg_key(d[i].slots[s].key));
			assert_int_not_equal(d[i].slots[s].key, MK_TYPE);
			if (d[i].slots[s].need == MSG_WITH)
				assert_non_null(msg_key(d[i].slots[s].with));
		}
	}
	for (size_t i = 0; i < nk; i++) {
		assert_ptr_equal(msg_key(k[i].key), &k[i]);
		assert_true(k[i].key < 64); /* fits msg_peer.keys */
		assert_string_not_equal(msg_vtype_name(k[i].vtype), "?");
		if (i > 0)
			assert_true(k[i].key > k[i - 1].key);
	}
	assert_null(msg_def(0));
	assert_null(msg_def(MSG_SIGBATCH + 1));
	assert_null(msg_key(MK_REQID));
}

/* --- the examples of PROTOCOL.md section 11 ----------------------------- */

static void
test_encoders_write_the_examples(void **state)
{
	struct buf *b = *state;
	static const struct msg_schema_ver v1[] = {{"case", 1},
	    {"partnership", 1}, {"lks", 1}, {"resource", 1}, {"referral", 1}};
	struct msg_hello h = {3, 3, "jabar", epoch, 1234, 0, v1, 5};
	static const uint8_t ep2[16] = {0x0b, 0x1c, 0x2d, 0x3e, 0x4f, 0x50,
	    0x61, 0x72, 0x83, 0x94, 0xa5, 0xb6, 0xc7, 0xd8, 0xe9, 0xfa};

	msg_enc_hello(b, &h);
	assert_bytes(b,
	    "88 00 01 28 03 29 03 2a a5 6a 61 62 61 72 2b c4 10 "
	    "" EPOCH_HEX "2c cd 04 d2 2d 00 2e 85 a4 63 61 73 65 "
	    "01 ab 70 61 72 74 6e 65 72 73 68 69 70 01 a3 6c 6b "
	    "73 01 a8 72 65 73 6f 75 72 63 65 01 a8 72 65 66 65 "
	    "72 72 61 6c 01");
	msg_enc_sub(b, NULL, 0);
	assert_bytes(b, "81 00 03");
	msg_enc_sub(b, epoch, 1200);
	assert_bytes(b, "83 00 03 2b c4 10 " EPOCH_HEX "2c cd 04 b0");
	msg_enc_ack(b, epoch, 1201);
	assert_bytes(b, "83 00 06 2b c4 10 " EPOCH_HEX "31 cd 04 b1");
	msg_enc_live(b, epoch, 1201);
	assert_bytes(b, "83 00 07 2b c4 10 " EPOCH_HEX "31 cd 04 b1");
	msg_enc_resync(b, ep2,
	    "the checkpoint is for another epoch of this "
	    "store");
	assert_bytes(b,
	    "83 00 04 2b c4 10 0b 1c 2d 3e 4f 50 61 72 83 94 a5 b6 "
	    "c7 d8 e9 fa 03 d9 31 74 68 65 20 63 68 65 63 6b 70 6f "
	    "69 6e 74 20 69 73 20 66 6f 72 20 61 6e 6f 74 68 65 72 "
	    "20 65 70 6f 63 68 20 6f 66 20 74 68 69 73 20 73 74 6f "
	    "72 65");
	msg_enc_ping(b, TIME_MS);
	assert_bytes(b, "82 00 08 2f cf 00 00 01 a2 09 0c 67 80");
	msg_enc_pong(b, TIME_MS);
	assert_bytes(b, "82 00 09 2f cf 00 00 01 a2 09 0c 67 80");
	msg_enc_error(b, JALIN_ETOOBIG,
	    "frame of 9437184 bytes exceeds limit "
	    "8388608");
	assert_bytes(b,
	    "83 00 02 02 f9 03 d9 2c 66 72 61 6d 65 20 6f 66 20 39 "
	    "34 33 37 31 38 34 20 62 79 74 65 73 20 65 78 63 65 65 "
	    "64 73 20 6c 69 6d 69 74 20 38 33 38 38 36 30 38");
}

/*
 * The CHANGES example with UPTO and the RECS header in the patchable forms
 * jalind writes (section 11 says so under the example).
 */
static void
test_changes_batch_writes_the_example(void **state)
{
	struct buf *b = *state;
	struct msg_batch bt;
	uint8_t st[64], id[16];
	size_t n = unhex(STATE_HEX, st, sizeof(st));

	unhex(ID_HEX, id, sizeof(id));
	msg_changes_begin(&bt, b, epoch, 1200, 1201, TIME_MS);
	msg_batch_rec(&bt, 1201, 3, id, st, n);
	msg_changes_end(&bt, 1201);
	assert_bytes(b,
	    "87 00 05 2b c4 10 " EPOCH_HEX "30 cd 04 b0 "
	    "31 cf 00 00 00 00 00 00 04 b1 32 cd 04 b1 2f cf 00 00 "
	    "01 a2 09 0c 67 80 33 dd 00 00 00 01 94 cd 04 b1 03 c4 "
	    "10 " ID_HEX " " STATE_HEX);
}

/* --- round trips -------------------------------------------------------- */

/* Decode b; it must be type and carry exactly the keys its table lists. */
static void
decode_all_keys(const struct buf *b, uint8_t type, struct msg_peer *m)
{
	const struct msg_def *d = msg_def(type);
	struct jalin_err err;
	uint64_t want = 1;

	jalin_err_clear(&err);
	assert_int_equal(b->err, 0);
	assert_int_equal(msg_decode_peer(b->p, b->len, m, &err), 0);
	assert_int_equal(m->type, type);
	for (unsigned i = 0; i < d->nslots; i++)
		want |= 1ull << d->slots[i].key;
	assert_int_equal(m->keys, want);
}

static void
test_round_trip_handshake_and_feed(void **state)
{
	struct buf *b = *state;
	struct msg_hello h = {2, 3, "banten", epoch, 77, 5, NULL, 0};
	struct msg_peer m;

	msg_enc_hello(b, &h);
	decode_all_keys(b, MSG_HELLO, &m);
	assert_int_equal(m.pv_min, 2);
	assert_int_equal(m.pv_max, 3);
	assert_int_equal(m.name_len, 6);
	assert_memory_equal(m.name, "banten", 6);
	assert_memory_equal(m.epoch, epoch, 16);
	assert_int_equal(m.seq, 77);
	assert_int_equal(m.features, 5);
	assert_int_equal(m.schema[0], 0x80 | 5); /* this build's collections */
	msg_enc_error(b, JALIN_ESTATE, "no");
	decode_all_keys(b, MSG_ERROR, &m);
	assert_int_equal(m.code, JALIN_ESTATE);
	assert_int_equal(m.error_len, 2);
	msg_enc_sub(b, epoch, 9);
	decode_all_keys(b, MSG_SUB, &m);
	assert_true(m.has_epoch && m.has_seq && m.seq == 9);
	msg_enc_resync(b, epoch, "why");
	decode_all_keys(b, MSG_RESYNC, &m);
	assert_memory_equal(m.error, "why", 3);
	msg_enc_ack(b, epoch, 11);
	decode_all_keys(b, MSG_ACK, &m);
	assert_true(m.has_upto && m.upto == 11);
	msg_enc_live(b, epoch, 12);
	decode_all_keys(b, MSG_LIVE, &m);
	assert_int_equal(m.upto, 12);
	msg_enc_ping(b, 13);
	decode_all_keys(b, MSG_PING, &m);
	assert_int_equal(m.time, 13);
	msg_enc_pong(b, 14);
	decode_all_keys(b, MSG_PONG, &m);
	assert_int_equal(m.time, 14);
}

static void
test_round_trip_changes(void **state)
{
	struct buf *b = *state;
	struct msg_batch bt;
	struct msg_peer m;
	uint8_t id[16] = {1, 2, 3}, st[] = {0x91, 0x01};

	msg_changes_begin(&bt, b, epoch, 100, 500, 42);
	for (unsigned i = 0; i < 1000; i++) {
		id[15] = (uint8_t)i;
		msg_batch_rec(
		    &bt, 101 + i, 1 + i % 5, id, i % 7 ? st : NULL, sizeof(st));
	}
	msg_changes_end(&bt, 1100);
	decode_all_keys(b, MSG_CHANGES, &m);
	assert_true(m.has_epoch && m.has_from && m.has_upto);
	assert_int_equal(m.from, 100);
	assert_int_equal(m.upto, 1100);
	assert_int_equal(m.head, 500);
	assert_int_equal(m.time, 42);
	assert_int_equal(m.recs[0], 0xdd);
	assert_int_equal((m.recs[1] << 24) | (m.recs[2] << 16) |
	        (m.recs[3] << 8) | m.recs[4],
	    1000);
	/* the last item: [1100, 5, id, nil] (999 % 7 != 0: a state) */
	assert_memory_equal(m.recs + m.recs_len - 2, st, 2);
	/* an empty frame (the range held nothing for this peer) */
	msg_changes_begin(&bt, b, epoch, 5, 9, 1);
	msg_changes_end(&bt, 9);
	decode_all_keys(b, MSG_CHANGES, &m);
	assert_int_equal(m.recs_len, 5);
	assert_int_equal(m.upto, 9);
}

static void
test_round_trip_verification(void **state)
{
	struct buf *b = *state;
	static uint8_t sums[256 * 32], hash[32];
	struct msg_vdigest d = {1, 2, 3, sums, 4, 5};
	struct msg_batch bt;
	struct msg_peer m;
	struct buf items;
	msgpack_packer pk;
	uint8_t id[16] = {9};

	sums[8191] = 0x5a;
	msg_enc_vdigest_req(b);
	decode_all_keys(b, MSG_VDIGEST_REQ, &m);
	msg_enc_vdigest(b, &d);
	decode_all_keys(b, MSG_VDIGEST, &m);
	assert_true(m.seq == 1 && m.head == 2 && m.upto == 3);
	assert_true(m.count == 4 && m.bad == 5 && m.sums[8191] == 0x5a);
	msg_enc_vids_req(b, 255);
	decode_all_keys(b, MSG_VIDS_REQ, &m);
	assert_true(m.has_bucket && m.bucket == 255);
	buf_init(&items, 1024);
	msgpack_packer_init(&pk, &items, buf_pk_write);
	msg_ids_item(&pk, 1, id, hash);
	msg_ids_item(&pk, 2, id, NULL);
	msg_enc_vids(b, 7, 2, items.p, items.len);
	decode_all_keys(b, MSG_VIDS, &m);
	assert_int_equal(m.bucket, 7);
	assert_int_equal(m.ids_len, 1 + items.len);
	assert_memory_equal(m.ids + 1, items.p, items.len);
	buf_free(&items);
	msg_repair_begin(&bt, b, MSG_COUNT_LATER);
	msg_batch_rec(&bt, 0, 1, id, hash, 1);
	msg_batch_end(&bt);
	decode_all_keys(b, MSG_REPAIR, &m);
	assert_int_equal(m.recs[4], 1);
	msg_repair_begin(&bt, b, 2);
	msg_batch_rec(&bt, 0, 1, id, NULL, 0);
	msg_batch_rec(&bt, 0, 2, id, NULL, 0);
	msg_batch_end(&bt);
	decode_all_keys(b, MSG_REPAIR, &m);
	assert_int_equal(m.recs[0], 0x92); /* a known count: smallest header */
	msg_fetch_begin(&bt, b);
	msg_batch_id(&bt, 3, id);
	msg_batch_end(&bt);
	decode_all_keys(b, MSG_FETCH, &m);
	assert_int_equal(m.ids[4], 1);
}

static void
test_a_failed_write_marks_the_buffer(void **state)
{
	struct buf *b = *state, small;
	struct msg_batch bt;
	uint8_t id[16] = {0}, st[64] = {0x90};

	msg_repair_begin(&bt, b, 2);
	msg_batch_rec(&bt, 0, 1, id, NULL, 0);
	msg_batch_end(&bt);
	assert_int_equal(b->err, JALIN_EINVAL); /* one item, two declared */
	/* a state beyond the cap: the frame is marked, not cut short */
	buf_init(&small, 80);
	msg_changes_begin(&bt, &small, epoch, 0, 1, 1);
	assert_int_equal(small.err, 0);
	msg_batch_rec(&bt, 1, 1, id, st, sizeof(st));
	msg_changes_end(&bt, 1);
	assert_int_equal(small.err, JALIN_ETOOBIG);
	buf_free(&small);
}

/* --- the admin response envelope ---------------------------------------- */

static void
test_response_envelope(void **state)
{
	struct buf *b = *state;
	struct msg_resp r;
	struct jalin_err err;
	msgpack_packer pk;
	static const char id[] = "01a2090c-676b-7196-878c-f629957c4034";

	/* the get response of PROTOCOL.md section 11 */
	buf_reset(b);
	msgpack_packer_init(&pk, b, buf_pk_write);
	msg_resp_begin(&pk, 7);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "id", 2);
	msgpack_pack_str_with_body(&pk, id, strlen(id));
	msgpack_pack_str_with_body(&pk, "name", 4);
	msgpack_pack_str_with_body(&pk, "Yayasan Cahaya", 14);
	assert_bytes(b,
	    "84 00 40 01 07 02 00 04 82 a2 69 64 d9 24 30 31 61 32 "
	    "30 39 30 63 2d 36 37 36 62 2d 37 31 39 36 2d 38 37 38 "
	    "63 2d 66 36 32 39 39 35 37 63 34 30 33 34 a4 6e 61 6d "
	    "65 ae 59 61 79 61 73 61 6e 20 43 61 68 61 79 61");
	jalin_err_clear(&err);
	assert_int_equal(msg_parse_resp(b->p, b->len, &r, &err), 0);
	assert_int_equal(r.reqid, 7);
	assert_int_equal(r.status, 0);
	assert_null(r.error);
	assert_int_equal(r.result_len, b->len - 8);
	msg_resp_error(b, 9, JALIN_ENOTFOUND, "no such record");
	assert_int_equal(msg_parse_resp(b->p, b->len, &r, &err), 0);
	assert_int_equal(r.reqid, 9);
	assert_int_equal(r.status, JALIN_ENOTFOUND);
	assert_int_equal(r.error_len, 14);
	assert_null(r.result);
	/* a peer message is not a response */
	msg_enc_ping(b, 1);
	assert_int_equal(msg_parse_resp(b->p, b->len, &r, &err), JALIN_EPROTO);
	assert_string_equal(err.msg, "response: not a response (type 8)");
	msg_resp_error(b, 9, JALIN_ENOTFOUND, "x");
	b->p[b->len - 2] = 0x01; /* ERROR a number */
	b->len--;
	jalin_err_clear(&err);
	assert_int_equal(msg_parse_resp(b->p, b->len, &r, &err), JALIN_EPROTO);
	assert_string_equal(err.msg, "response: key 3 must be a string");
}

/* --- required keys ------------------------------------------------------ */

/* A value of the type vtype (good) or of another type (!good). */
static void
pack_value(msgpack_packer *pk, unsigned vtype, bool good)
{
	static const uint8_t z[256 * 32];

	switch (vtype) {
	case MV_UINT:
	case MV_INT:
		if (good)
			msgpack_pack_int(pk, vtype == MV_INT ? -3 : 7);
		else
			msgpack_pack_str_with_body(pk, "7", 1);
		return;
	case MV_STR:
		if (good)
			msgpack_pack_str_with_body(pk, "x", 1);
		else
			msgpack_pack_uint8(pk, 1);
		return;
	case MV_BIN16:
	case MV_SUMS:
		msgpack_pack_bin_with_body(
		    pk, z, (vtype == MV_BIN16 ? 16 : sizeof(z)) - !good);
		return;
	case MV_BIN:
		if (good)
			msgpack_pack_bin_with_body(pk, z, 8);
		else
			msgpack_pack_str_with_body(pk, "x", 1);
		return;
	case MV_MAP:
		(void)(good ? msgpack_pack_map(pk, 0)
		            : msgpack_pack_array(pk, 0));
		return;
	default:
		(void)(good ? msgpack_pack_array(pk, 0)
		            : msgpack_pack_map(pk, 0));
	}
}

/* The message of type d with every key of its table but skip. */
static void
pack_without(struct buf *b, const struct msg_def *d, unsigned skip)
{
	msgpack_packer pk;

	buf_reset(b);
	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_map(&pk, d->nslots + (skip < d->nslots ? 0 : 1));
	msgpack_pack_uint8(&pk, MK_TYPE);
	msgpack_pack_uint8(&pk, d->type);
	for (unsigned i = 0; i < d->nslots; i++) {
		if (i == skip)
			continue;
		msgpack_pack_uint8(&pk, d->slots[i].key);
		pack_value(&pk, msg_key(d->slots[i].key)->vtype, true);
	}
}

static void
test_every_required_key_is_refused_when_missing(void **state)
{
	struct buf *b = *state;
	size_t n;
	const struct msg_def *d = msg_defs(&n);
	unsigned refused = 0;

	for (size_t i = 0; i < n; i++) {
		struct msg_peer m;
		struct jalin_err err;
		char want[128];
		pack_without(b, &d[i], UINT32_MAX);
		jalin_err_clear(&err);
		assert_int_equal(msg_decode_peer(b->p, b->len, &m, &err), 0);
		for (unsigned s = 0; s < d[i].nslots; s++) {
			const struct msg_slot *sl = &d[i].slots[s];
			pack_without(b, &d[i], s);
			jalin_err_clear(&err);
			int rc = msg_decode_peer(b->p, b->len, &m, &err);
			if (sl->need == MSG_OPTIONAL) {
				assert_int_equal(rc, 0);
				continue;
			}
			if (sl->need == MSG_REQUIRED)
				snprintf(want, sizeof(want),
				    "%s: required key %u (%s) is missing",
				    d[i].name, sl->key, msg_key(sl->key)->name);
			else
				snprintf(want, sizeof(want),
				    "%s: key %u (%s) is required with key %u "
				    "(%s)",
				    d[i].name, sl->key, msg_key(sl->key)->name,
				    sl->with, msg_key(sl->with)->name);
			assert_int_equal(rc, JALIN_EPROTO);
			assert_string_equal(err.msg, want);
			refused++;
		}
	}
	assert_int_equal(refused, 24); /* the required slots of the table */
}

static void
test_required_key_messages_read_well(void **state)
{
	struct buf *b = *state;
	struct msg_peer m;
	struct jalin_err err;
	msgpack_packer pk;

	/* the two shapes of error, as an operator reads them */
	jalin_err_clear(&err);
	msg_enc_sub(b, NULL, 0);
	b->p[0] = 0x82; /* SUB with EPOCH and no SEQ */
	msgpack_packer_init(&pk, b, buf_pk_write);
	msgpack_pack_uint8(&pk, MK_EPOCH);
	msgpack_pack_bin_with_body(&pk, epoch, 16);
	assert_int_equal(msg_decode_peer(b->p, b->len, &m, &err), JALIN_EPROTO);
	assert_string_equal(
	    err.msg, "SUB: key 44 (SEQ) is required with key 43 (EPOCH)");
	msg_enc_ack(b, epoch, 1);
	b->p[0] = 0x82; /* the map ends before UPTO */
	b->len -= 2;
	jalin_err_clear(&err);
	assert_int_equal(msg_decode_peer(b->p, b->len, &m, &err), JALIN_EPROTO);
	assert_string_equal(err.msg, "ACK: required key 49 (UPTO) is missing");
	/* a type the table does not know is the receiver's business */
	msg_enc_vdigest_req(b);
	b->p[2] = 99;
	assert_int_equal(msg_decode_peer(b->p, b->len, &m, &err), 0);
}

/* The parser takes each key's value of the type the table gives, only. */
static void
test_key_types_are_the_parsers(void **state)
{
	struct buf *b = *state;
	size_t n;
	const struct msg_keydef *k = msg_keys(&n);

	for (size_t i = 1; i < n; i++) { /* TYPE (key 0) selects the message */
		for (int good = 1; good >= 0; good--) {
			struct msg_peer m;
			struct jalin_err err;
			msgpack_packer pk;
			jalin_err_clear(&err);
			buf_reset(b);
			msgpack_packer_init(&pk, b, buf_pk_write);
			msgpack_pack_map(&pk, 2);
			msgpack_pack_uint8(&pk, MK_TYPE);
			msgpack_pack_uint8(&pk, 99);
			msgpack_pack_uint8(&pk, k[i].key);
			pack_value(&pk, k[i].vtype, good);
			int rc = msg_decode_peer(b->p, b->len, &m, &err);
			if (rc != (good ? 0 : JALIN_EPROTO))
				fail_msg("key %u (%s) as %s: %d", k[i].key,
				    k[i].name, good ? "its type" : "another",
				    rc);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_is_in_type_order_and_names_known_keys),
	    cmocka_unit_test_setup_teardown(
	        test_encoders_write_the_examples, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_changes_batch_writes_the_example, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_round_trip_handshake_and_feed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_round_trip_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_round_trip_verification, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_a_failed_write_marks_the_buffer, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_response_envelope, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_every_required_key_is_refused_when_missing, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_required_key_messages_read_well, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_key_types_are_the_parsers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
