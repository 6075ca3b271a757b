/*
 * err.h - jalin error codes and the bounded error report.
 *
 * Fallible functions return 0 or a negative JALIN_E* code. Where the caller
 * needs to know why (config, validation, TLS, store open) they also fill a
 * struct jalin_err with a message that names the object and the reason.
 * Lower layers never print; the layer that decides logs or prints once.
 */
#ifndef JALIN_ERR_H
#define JALIN_ERR_H

#include "limits.h"

enum {
	JALIN_OK = 0,
	JALIN_EINVAL = -1,    /* bad input: names the field and the rule */
	JALIN_ENOMEM = -2,    /* allocation failed */
	JALIN_EIO = -3,       /* operating system I/O error */
	JALIN_ESPACE = -4,    /* store reached its configured size cap */
	JALIN_ENOTFOUND = -5, /* no such record / peer / key */
	JALIN_EPURGED = -6,   /* record was purged; the id is closed */
	JALIN_ETOOBIG = -7,   /* a size limit from limits.h was exceeded */
	JALIN_EPROTO = -8,    /* message does not decode or breaks the rules */
	JALIN_ESCHEMA = -9,   /* record breaks its collection's schema */
	JALIN_ECONFIG = -10,  /* configuration file error */
	JALIN_EEXIST = -11,   /* already exists */
	JALIN_EPERM = -12,    /* not allowed (scope, permissions, admin cert) */
	JALIN_ESKEW = -13,    /* remote clock too far ahead */
	JALIN_ETLS = -14,     /* TLS setup or handshake failure */
	JALIN_ETIMEOUT = -15, /* operation timed out */
	JALIN_ECORRUPT = -16, /* stored data does not decode */
	JALIN_ERESYNC = -17,  /* checkpoint cannot be served; resync needed */
	JALIN_ESTATE = -18,   /* message not valid in the current state */
	JALIN_EUNREACH = -19, /* cannot reach the node */
	JALIN_ERR_MIN = -19
};

struct jalin_err {
	int code;
	char msg[JALIN_ERRMSG_MAX];
};

/* Short English name of a code ("store is full", ...). Never NULL. */
const char *jalin_strerror(int code);

/*
 * Record code and a printf-style message in err (may be NULL). Keeps the
 * first message: a later call on an err that already holds one changes
 * nothing, so the innermost, most precise cause wins. A message that does
 * not fit is cut with "..." at the end. Returns code.
 */
int jalin_err_set(struct jalin_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reset err to "no error". */
void jalin_err_clear(struct jalin_err *err);

/*
 * Message of err, or jalin_strerror(code) when err is NULL or holds no
 * message.
 */
const char *jalin_err_msg(const struct jalin_err *err, int code);

#endif
