/*
 * peerview.h - read-only views of the peers for status, `jalinctl verify`
 * and the Prometheus metrics. Nothing here changes any state.
 */
#ifndef JALIN_PEERVIEW_H
#define JALIN_PEERVIEW_H

#include <msgpack.h>

struct peers;
struct buf;
struct evbuffer;
struct verify_result;

/*
 * Pack the value of status' "peers" key: an array, one map per configured
 * peer (name, address, state, lags, last contact and error, connection,
 * catch-up progress, certificate, last verification, counters). pk writes
 * into b (the maps' sizes are patched in b). ps NULL packs [].
 */
void peerview_status(struct peers *ps, msgpack_packer *pk, struct buf *b);

/* Pack a verification result (verify.h) as a JSON-shaped map of 9 keys. */
void peerview_pack_verify(const struct verify_result *r, msgpack_packer *pk);

/* Append the per-peer Prometheus metric families to b; ps NULL adds
 * nothing. */
void peerview_metrics(struct peers *ps, struct evbuffer *b);

/*
 * Append one Prometheus sample value and the newline to b: an integer as
 * one, anything else with millisecond precision (metrics.c uses it too).
 */
void peerview_sample(struct evbuffer *b, double v);

#endif
