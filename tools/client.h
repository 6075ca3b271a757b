/*
 * client.h - how jalinctl asks a node: one interface, two backends.
 *
 *  socket  the running node's admin socket (conn.h, bounded waits);
 *  remote  a node's TLS port with an admin certificate (conn.h): the
 *          same requests and answers, reads only;
 *  db      --db DIR: the store opened read-only (STDB_RDONLY); read
 *          requests are answered here by query_dispatch, the code jalind
 *          runs, into the same response bytes a node would send.
 *
 * A command builds a request (struct creq), sends it, and decodes the
 * answer through js_decode_resp: one code path for both backends.
 */
#ifndef JALINCTL_CLIENT_H
#define JALINCTL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>

#include "buf.h"
#include "conn.h"
#include "err.h"

struct client;

/*
 * Connect to the admin socket at path (o: its timeouts; the TLS members
 * are not used). JALIN_EUNREACH with err "cannot reach the node at PATH:
 * Connection refused (is jalind running?)". *out is the caller's
 * (client_close).
 */
int client_open_socket(const char *path, const struct conn_opts *o,
    struct client **out, struct jalin_err *err);

/*
 * Connect to a node's TLS port at HOST:PORT as a remote admin (conn.h:
 * o names the admin certificate, key and CA, and the timeouts). Errors as
 * conn_tls. *out is the caller's (client_close).
 */
int client_open_remote(const char *hostport, const struct conn_opts *o,
    struct client **out, struct jalin_err *err);

/*
 * Open the store in dir read-only; version is reported by status. enc_key
 * (may be NULL): the node's encryption key (PEM, X25519), which opens the
 * sealed fields of the records it reads (PROTOCOL.md §14). JALIN_EUNREACH
 * with err (the store's own message) if it cannot be opened; JALIN_EINVAL
 * if enc_key cannot be read or is not an X25519 key.
 */
int client_open_db(const char *dir, const char *enc_key, const char *version,
    struct client **out, struct jalin_err *err);

/* Close; NULL is a no-op. */
void client_close(struct client *cl);

/* "the node at PATH" or "store 'DIR'", for messages. */
const char *client_where(const struct client *cl);

/* Send "why" (MK_PURPOSE, kept in the node's audit log) with every
 * request from now on; purpose must outlive cl. */
void client_set_purpose(struct client *cl, const char *purpose);

/* True for the --db backend. */
bool client_is_db(const struct client *cl);

/* The node's certificate CN (remote backend), else NULL. */
const char *client_peer_cn(const struct client *cl);

/*
 * A request being built: a msgpack map whose count is patched on send.
 * Members are private. creq_free releases it (also after a send).
 */
struct creq {
	struct buf b;
	msgpack_packer pk;
	size_t mark;
	uint32_t n;
	uint64_t reqid;
};

/* Start a request of type (msg.h) with a fresh request id of cl. */
void creq_init(struct creq *r, struct client *cl, uint64_t type);
void creq_free(struct creq *r);

/* Start a new request in r, keeping the memory of the previous one. */
void creq_reuse(struct creq *r, struct client *cl, uint64_t type);

void creq_str(struct creq *r, unsigned key, const char *s);
void creq_uint(struct creq *r, unsigned key, uint64_t v);
void creq_bool(struct creq *r, unsigned key, bool v);

/* Add key and return the packer for its value (exactly one object). */
msgpack_packer *creq_key(struct creq *r, unsigned key);

/*
 * Add key with an array whose count is only known at the end; it must be
 * the last key. Returns the mark for creq_patch.
 */
size_t creq_array_begin(struct creq *r, unsigned key);
void creq_patch(struct creq *r, size_t mark, uint32_t n);

/* Append bytes that are already msgpack (array items). 0 or ETOOBIG. */
int creq_append(struct creq *r, const void *p, size_t len);

/* Encoded size so far (bytes). */
size_t creq_len(const struct creq *r);

/*
 * Send r. 0; JALIN_ETOOBIG if it exceeds the admin frame limit or its
 * buffer overflowed; JALIN_EUNREACH / JALIN_EIO for transport errors.
 */
int client_send(struct client *cl, struct creq *r, struct jalin_err *err);

/*
 * Wait for the answer to reqid. Returns 0 when an answer came: *status is
 * the node's status, and *result the result (status 0; caller owns it) or
 * NULL with the node's message in err. Negative: the answer did not come
 * (JALIN_EUNREACH / JALIN_EIO: connection lost; JALIN_EPROTO: garbage).
 */
int client_recv(struct client *cl, uint64_t reqid, int *status, json_t **result,
    struct jalin_err *err);

/* client_send + client_recv. */
int client_call(struct client *cl, struct creq *r, int *status, json_t **result,
    struct jalin_err *err);

#endif
