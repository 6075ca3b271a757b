/*
 * proof.h - the proofs of a record state's write events (PROTOCOL.md §13).
 *
 * A state's proof says, for each of its dots, which signed batch of the
 * dot's origin holds the event's leaf (bno, idx) and the elements of the
 * event's entries the state no longer holds (sig.h), or that the event is
 * unsigned; and, for each origin whose context is above its last dot in the
 * state, a witness: the event that set the context, all its entries
 * missing. Encoding (msgpack; nothing at all for a state whose events are
 * all unsigned and that needs no witness):
 *
 *   [[nil | [back, idx] | [back, idx, missing bin], ...one per dot],
 *    [[oidx, back, idx, elements bin], ...oidx increasing]]
 *
 * A batch is named by the HLC of its origin's first event in it (bno); a
 * proof writes it as back = the event's HLC - bno (a witness's event: the
 * origin's context), an int of one byte in the common case.
 *
 * the list of witnesses only when there is one; missing only when not
 * empty (the common case: one event, nothing lost, ~6 bytes).
 *
 * struct proof points into the buffer it was decoded from, like struct
 * record; it is large (one entry per possible dot): keep it off the stack.
 */
#ifndef JALIN_PROOF_H
#define JALIN_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "limits.h"
#include "record.h"
#include "sig.h"

struct proof_dot {
	bool is_signed;
	uint16_t idx;
	uint32_t mlen;
	uint64_t bno;
	const uint8_t *missing;
};

struct proof_wit {
	uint16_t oidx;
	uint16_t idx;
	uint32_t elen;
	uint64_t bno;
	const uint8_t *el;
};

struct proof {
	uint16_t ndots;
	uint16_t nwit;
	struct proof_dot dot[JALIN_RECORD_DOTS_MAX];
	struct proof_wit wit[JALIN_RECORD_ORIGINS_MAX];
};

/* A new event of this node, not in any source of a join. */
struct proof_new {
	const char *origin;
	uint8_t olen;
	uint16_t idx;
	uint64_t hlc;
	uint64_t bno;
};

/* One side of a join: a state and its proof. */
struct proof_src {
	const struct record *r;
	const struct proof *p;
};

/* p: the proof of r when nothing is signed. */
void proof_init(struct proof *p, const struct record *r);

/*
 * Decode the proof of r from buf[0..len) (len 0: nothing signed). Every
 * count, index and type is checked against r and the limits; the elements
 * themselves are checked when a leaf is computed (sig_leaf). 0 or
 * JALIN_EPROTO with err ("proof: ...").
 */
int proof_decode(struct proof *p, const struct record *r, const void *buf,
    size_t len, struct jalin_err *err);

/* Append the encoding of p, r's proof, to out (nothing if nothing is
 * signed). 0, JALIN_ETOOBIG or JALIN_ENOMEM. */
int proof_encode(
    const struct proof *p, const struct record *r, struct buf *out);

/*
 * The proof of out, a state made of the sources' events (a merge, or a
 * local write over a stored state) and of the fresh events, into *res: for
 * each dot of out, the proof its source had, with the elements of the
 * entries out no longer holds added to its missing; for each origin that
 * needs one, a witness from a source. An event of out found signed in no
 * source and not fresh is unsigned. res's elements live in tmp (reset
 * first) and in the sources' buffers. 0, JALIN_ETOOBIG or JALIN_ENOMEM.
 */
int proof_join(struct sig_ctx *x, const struct record *out,
    const struct proof_src *src, size_t nsrc, const struct proof_new *fresh,
    size_t nfresh, struct proof *res, struct buf *tmp);

/*
 * The leaf of witness w of r (origin r->origin[w->oidx], HLC
 * r->ctx[w->oidx], every element missing). 0, or as sig_leaf.
 */
int proof_wit_leaf(struct sig_ctx *x, uint8_t coll, const uint8_t id[16],
    const struct record *r, const struct proof_wit *w,
    uint8_t leaf[SIG_LEAF_LEN], struct jalin_err *err);

#endif
