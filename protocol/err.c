/*
 * err.c - names of error codes and the bounded error report.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static const char *const err_names[] = {
    "success",
    "invalid input",
    "out of memory",
    "input/output error",
    "store size limit reached",
    "not found",
    "record was purged",
    "size limit exceeded",
    "protocol error",
    "schema violation",
    "configuration error",
    "already exists",
    "not permitted",
    "clock skew too large",
    "TLS error",
    "timed out",
    "stored data is corrupt",
    "resync required",
    "message not valid in this state",
    "cannot reach the node",
};

const char *
jalin_strerror(int code)
{
	if (code > 0 || code < JALIN_ERR_MIN)
		return "unknown error";
	return err_names[-code];
}

int
jalin_err_set(struct jalin_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || err->code != 0)
		return code;
	err->code = code;
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		err->msg[0] = '\0';
	else if ((size_t)n >= sizeof(err->msg))
		memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
	return code;
}

void
jalin_err_clear(struct jalin_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

const char *
jalin_err_msg(const struct jalin_err *err, int code)
{
	if (err != NULL && err->msg[0] != '\0')
		return err->msg;
	return jalin_strerror(code);
}
