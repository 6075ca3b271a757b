/*
 * import.c - load JSON Lines into the node in batches.
 *
 * Each batch is one MSG_IMPORT request, which the node commits as one
 * transaction before it answers: a record counts as stored only once the
 * answer for its batch has arrived, and only then is the batch reported
 * (--json prints it at once, flushed). While the node commits batch k we
 * read and encode batch k+1, but we never send it before k is answered,
 * so a crash of the node loses at most the batches nobody was told about.
 *
 * Lines are read with a hard cap (JALIN_IMPORT_LINE_MAX); a batch is also
 * cut before its request passes JALIN_IMPORT_BATCH_BYTES, which bounds the
 * node's memory per request (a single larger record still goes alone). Bad
 * lines are found here (JSON syntax, not an object, no collection) or by the
 * node (schema), by index in the batch; both are reported by real line number.
 * With --on-error stop (the default) the import ends at the first bad
 * line with every line before it stored: the node is asked to stop at the
 * first bad record of a batch too (MK_STOP).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "json.h"
#include "msg.h"
#include "query.h"
#include "view.h"

/* Bytes of the request around its records (type, reqid, stop, array). */
#define IMP_ENVELOPE 64

struct batch {
	struct creq req;
	size_t mark;   /* the MK_RECORDS array header */
	uint32_t nrec; /* records in req */
	long *line;    /* line number of each record */
	long first;    /* first and last line consumed (0: none) */
	long last;
	json_t *errors; /* [{"line", "message"}] */
	bool halt;      /* stop mode: a bad line ends the import here */
	bool sent;
};

struct imp {
	struct ctx *x;
	FILE *fp;
	const char *name;
	char *line; /* JALIN_IMPORT_LINE_MAX bytes */
	size_t len; /* of the current line */
	bool toolong;
	long lineno;
	bool eof;
	int read_errno;
	struct buf rec; /* the record being added */
	struct js_fast fast;
	bool carry; /* rec did not fit the last batch */
	long carry_line;
	uint64_t nbatch, stored, changed, nerr;
	long done_line; /* last line whose fate is known */
	long stop_line; /* stop mode: the bad line (0: none) */
	bool tty, progress;
	struct timespec t0;
};

/* Read one line into im->line: 1, or 0 at the end / on a read error. */
static int
read_line(struct imp *im)
{
	int ch;

	im->len = 0;
	im->toolong = false;
	while ((ch = getc_unlocked(im->fp)) != EOF && ch != '\n') {
		if (im->len < JALIN_IMPORT_LINE_MAX)
			im->line[im->len++] = (char)ch;
		else
			im->toolong = true;
	}
	if (ch == EOF && ferror(im->fp)) {
		im->read_errno = errno != 0 ? errno : EIO;
		return 0;
	}
	if (ch == EOF && im->len == 0 && !im->toolong)
		return 0;
	im->lineno++;
	return 1;
}

static bool
blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	}
	return true;
}

/* Where the line's collection comes from, checked. NULL: msg says why. */
static const char *
line_coll(struct imp *im, json_t *o, char *msg, size_t n)
{
	json_t *c = json_object_get(o, "collection");
	json_t *id = json_object_get(o, "id");

	if (id != NULL && !json_is_string(id) && !json_is_null(id)) {
		snprintf(msg, n, "\"id\" must be a string (a UUID)");
		return NULL;
	}
	if (c == NULL && im->x->collection != NULL)
		return im->x->collection;
	if (c == NULL)
		snprintf(msg, n,
		    "no \"collection\" (add it to the line or "
		    "use --collection)");
	else if (!json_is_string(c))
		snprintf(msg, n, "\"collection\" must be a string");
	return json_string_value(c);
}

/* Encode a parsed line as [coll, id or nil, fields] into im->rec. */
static int
pack_rec(struct imp *im, json_t *o, const char *coll, char *msg, size_t n)
{
	json_t *id = json_object_get(o, "id");
	struct jalin_err err;
	msgpack_packer pk;

	buf_reset(&im->rec);
	msgpack_packer_init(&pk, &im->rec, buf_pk_write);
	msgpack_pack_array(&pk, 3);
	view_str(&pk, coll);
	if (json_is_string(id))
		view_str(&pk, json_string_value(id));
	else
		msgpack_pack_nil(&pk);
	json_object_del(o, "collection"); /* coll is not used after this */
	json_object_del(o, "id");
	jalin_err_clear(&err);
	if (js_pack_mp(o, &pk, &err) != 0) {
		snprintf(msg, n, "%s", jalin_err_msg(&err, JALIN_EINVAL));
		return -1;
	}
	if (im->rec.err != 0) {
		snprintf(msg, n, "record too large");
		return -1;
	}
	return 0;
}

static int
encode_line(struct imp *im, char *msg, size_t n)
{
	struct jalin_err err;
	json_error_t je;
	json_t *o;
	const char *coll;
	size_t clen;
	int rc = -1;

	/* Most lines: straight to msgpack. Anything else, and every error,
	 * through jansson. */
	if (js_fast_line(&im->fast, im->line, im->len, im->x->collection,
	        &im->rec, &coll, &clen) == 0 &&
	    query_coll(coll, clen, &err) != NULL)
		return 0;
	o = json_loadb(im->line, im->len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL)
		snprintf(msg, n, "not valid JSON (column %d: %s)", je.column,
		    je.text);
	else if (!json_is_object(o))
		snprintf(msg, n, "not a JSON object");
	else if ((coll = line_coll(im, o, msg, n)) != NULL) {
		jalin_err_clear(&err);
		if (query_coll(coll, strlen(coll), &err) == NULL)
			snprintf(
			    msg, n, "%s", jalin_err_msg(&err, JALIN_EINVAL));
		else
			rc = pack_rec(im, o, coll, msg, n);
	}
	json_decref(o);
	return rc;
}

static double
elapsed(const struct imp *im)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - im->t0.tv_sec) +
	    (double)(t.tv_nsec - im->t0.tv_nsec) / 1e9;
}

/* Messages go below the progress line, not over it. */
static void
end_progress(struct imp *im)
{
	if (im->progress)
		fputc('\n', stderr);
	im->progress = false;
}

static void
show_progress(struct imp *im)
{
	double t = elapsed(im);

	if (!im->tty)
		return;
	fprintf(stderr,
	    "\r%ld lines read, %llu stored, %llu errors, %.0f records/s ",
	    im->lineno, (unsigned long long)im->stored,
	    (unsigned long long)im->nerr, t > 0 ? (double)im->stored / t : 0);
	im->progress = true;
}

static void
local_err(struct imp *im, struct batch *b, long line, const char *msg)
{
	json_t *e =
	    json_pack("{sIss}", "line", (json_int_t)line, "message", msg);

	if (e == NULL || json_array_append_new(b->errors, e) != 0)
		ctl_err(EXIT_FAILED, "line %ld: %s", line, msg);
	if (im->x->stop_on_error)
		b->halt = true;
}

static void
batch_reset(struct imp *im, struct batch *b)
{
	creq_reuse(&b->req, im->x->cl, MSG_IMPORT);
	creq_bool(&b->req, MK_STOP, im->x->stop_on_error);
	b->mark = creq_array_begin(&b->req, MK_RECORDS);
	b->nrec = 0;
	b->first = b->last = 0;
	json_array_clear(b->errors);
	b->halt = b->sent = false;
}

/* Add im->rec; false if it would not fit the request (carry it over). */
static bool
add_rec(struct imp *im, struct batch *b, long line)
{
	if (b->nrec > 0 &&
	    creq_len(&b->req) + im->rec.len + IMP_ENVELOPE >
	        JALIN_IMPORT_BATCH_BYTES)
		return false;
	if (creq_append(&b->req, im->rec.p, im->rec.len) != 0) {
		local_err(im, b, line, "record too large for one request");
		return true;
	}
	b->line[b->nrec++] = line;
	return true;
}

/* One line into b. */
static void
take_line(struct imp *im, struct batch *b)
{
	char msg[JALIN_ERRMSG_MAX];
	long ln = im->lineno;

	if (b->first == 0)
		b->first = ln;
	b->last = ln;
	if (im->toolong) {
		snprintf(msg, sizeof(msg), "line is longer than %u bytes",
		    JALIN_IMPORT_LINE_MAX);
		local_err(im, b, ln, msg);
	} else if (blank(im->line, im->len)) {
		return;
	} else if (encode_line(im, msg, sizeof(msg)) != 0) {
		local_err(im, b, ln, msg);
	} else if (!add_rec(im, b, ln)) {
		im->carry = true;
		im->carry_line = ln;
		b->last = ln - 1;
	}
}

/* Read lines into b until it is full, the input ends, or it must halt. */
static void
fill(struct imp *im, struct batch *b)
{
	batch_reset(im, b);
	if (im->carry) {
		im->carry = false;
		b->first = b->last = im->carry_line;
		add_rec(im, b, im->carry_line);
	}
	while (!im->eof && !b->halt && !im->carry && b->nrec < im->x->batch) {
		if (read_line(im) == 0) {
			im->eof = true;
			break;
		}
		take_line(im, b);
	}
}

static int
batch_send(struct imp *im, struct batch *b)
{
	struct jalin_err err;
	int rc;

	if (b->nrec == 0)
		return EXIT_OK;
	creq_patch(&b->req, b->mark, b->nrec);
	jalin_err_clear(&err);
	if ((rc = client_send(im->x->cl, &b->req, &err)) != 0) {
		end_progress(im);
		return ctl_err(
		    rc == JALIN_EUNREACH ? EXIT_UNREACH : EXIT_FAILED,
		    "lines %ld-%ld: %s", b->first, b->last,
		    jalin_err_msg(&err, rc));
	}
	b->sent = true;
	return EXIT_OK;
}

/* The node's answer to b: its result, or the exit status of a failure. */
static int
batch_recv(struct imp *im, struct batch *b, json_t **res)
{
	struct jalin_err err;
	int rc, status = 0;

	jalin_err_clear(&err);
	rc = client_recv(im->x->cl, b->req.reqid, &status, res, &err);
	if (rc == 0 && status == 0)
		return EXIT_OK;
	end_progress(im);
	if (rc == JALIN_EUNREACH)
		return ctl_err(EXIT_UNREACH,
		    "lines %ld-%ld: %s; that batch may or may not have been "
		    "stored, every batch before it was",
		    b->first, b->last, jalin_err_msg(&err, rc));
	return ctl_err(EXIT_FAILED,
	    "lines %ld-%ld: %s; nothing of them was "
	    "stored",
	    b->first, b->last, jalin_err_msg(&err, rc ? rc : status));
}

/* The node's [[index, message], ...] as {"line", "message"} items. */
static void
node_errors(struct batch *b, json_t *res)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(res, "errors"), i, e)
	{
		json_int_t idx = json_integer_value(json_array_get(e, 0));
		const char *msg = json_string_value(json_array_get(e, 1));
		if (idx < 0 || (size_t)idx >= b->nrec || msg == NULL)
			continue;
		json_array_append_new(b->errors,
		    json_pack("{sIss}", "line", (json_int_t)b->line[idx],
		        "message", msg));
	}
	/* Records after the one the node stopped at were not stored: say so
	 * (in stop mode only the first error is shown anyway). */
	json_int_t stop = js_int(res, "stopped_at", -1);
	for (json_int_t k = stop + 1; stop >= 0 && k < (json_int_t)b->nrec; k++)
		json_array_append_new(b->errors,
		    json_pack("{sIss}", "line", (json_int_t)b->line[k],
		        "message",
		        "not stored: the node stopped the batch at "
		        "an earlier bad record"));
}

static int
by_line(const void *a, const void *b)
{
	json_int_t x = js_int(*(json_t *const *)a, "line", 0);
	json_int_t y = js_int(*(json_t *const *)b, "line", 0);

	return (x > y) - (x < y);
}

/* Errors in line order; in stop mode only the first one counts. */
static void
sort_errors(struct imp *im, struct batch *b)
{
	size_t n = json_array_size(b->errors);
	size_t keep = im->x->stop_on_error && n > 1 ? 1 : n;
	json_t **v = calloc(n ? n : 1, sizeof(*v));

	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(b->errors, i));
	qsort(v, n, sizeof(*v), by_line);
	json_array_clear(b->errors);
	for (size_t i = 0; i < keep; i++)
		json_array_append(b->errors, v[i]);
	for (size_t i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
}

/* Tell what happened to b: stderr always, stdout with --json. */
static void
report(struct imp *im, struct batch *b, json_int_t stored, json_int_t changed)
{
	json_t *e, *r;
	size_t i;

	end_progress(im);
	json_array_foreach(b->errors, i, e)
	{
		ctl_err(EXIT_FAILED, "line %" JSON_INTEGER_FORMAT ": %s",
		    js_int(e, "line", 0), js_str(e, "message"));
	}
	im->nerr += json_array_size(b->errors);
	im->stored += (uint64_t)stored;
	im->changed += (uint64_t)changed;
	if (b->nrec == 0 && json_array_size(b->errors) == 0)
		return;
	r = json_pack("{sIsIsIsIsIsO}", "batch", (json_int_t)++im->nbatch,
	    "first_line", (json_int_t)b->first, "last_line",
	    (json_int_t)b->last, "stored", stored, "changed", changed, "errors",
	    b->errors);
	if (r != NULL)
		im->x->out->import_batch(r);
	json_decref(r);
	show_progress(im);
}

static int
batch_finish(struct imp *im, struct batch *b)
{
	json_t *res = NULL;
	int rc;

	if (b->sent && (rc = batch_recv(im, b, &res)) != EXIT_OK)
		return rc;
	if (res != NULL)
		node_errors(b, res);
	sort_errors(im, b);
	report(im, b, js_int(res, "stored", 0), js_int(res, "changed", 0));
	im->done_line = b->last;
	if (im->x->stop_on_error && json_array_size(b->errors) > 0)
		im->done_line = im->stop_line =
		    (long)js_int(json_array_get(b->errors, 0), "line", 0);
	json_decref(res);
	return EXIT_OK;
}

/* Send batch k, read batch k+1 while the node commits k, then answer k. */
static int
imp_loop(struct imp *im, struct batch *b)
{
	struct batch *cur = &b[0], *nxt = &b[1], *t;
	int rc = EXIT_OK;

	fill(im, cur);
	while (cur->first != 0 && im->stop_line == 0) {
		if ((rc = batch_send(im, cur)) != EXIT_OK)
			break;
		if (!cur->halt && !im->eof)
			fill(im, nxt);
		else
			batch_reset(im, nxt);
		if ((rc = batch_finish(im, cur)) != EXIT_OK)
			break;
		t = cur;
		cur = nxt;
		nxt = t;
	}
	return rc;
}

static void
summary(struct imp *im)
{
	end_progress(im);
	fprintf(stderr,
	    "imported %llu records (%llu changed) from %ld lines in %.1f s; "
	    "%llu error%s",
	    (unsigned long long)im->stored, (unsigned long long)im->changed,
	    im->done_line, elapsed(im), (unsigned long long)im->nerr,
	    im->nerr == 1 ? "" : "s");
	if (im->stop_line != 0)
		fprintf(stderr, "; stopped at line %ld (--on-error stop)",
		    im->stop_line);
	fputc('\n', stderr);
}

static int
imp_open(struct imp *im, struct batch *b, const char *path)
{
	bool ok;

	im->name = strcmp(path, "-") == 0 ? "standard input" : path;
	im->fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (im->fp == NULL)
		return ctl_err(
		    EXIT_FAILED, "cannot open '%s': %s", path, strerror(errno));
	buf_init(&im->rec, JALIN_ADMIN_FRAME_MAX - IMP_ENVELOPE);
	js_fast_init(&im->fast, JALIN_ADMIN_FRAME_MAX - IMP_ENVELOPE);
	im->line = malloc(JALIN_IMPORT_LINE_MAX);
	ok = im->line != NULL;
	for (int i = 0; i < 2; i++) {
		creq_init(&b[i].req, im->x->cl, MSG_IMPORT);
		b[i].line = calloc(im->x->batch, sizeof(*b[i].line));
		b[i].errors = json_array();
		ok = ok && b[i].line != NULL && b[i].errors != NULL;
	}
	if (!ok)
		return ctl_err(EXIT_FAILED, "out of memory");
	im->tty = isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &im->t0);
	return EXIT_OK;
}

static void
imp_close(struct imp *im, struct batch *b)
{
	if (im->fp != NULL && im->fp != stdin)
		fclose(im->fp);
	buf_free(&im->rec);
	js_fast_free(&im->fast);
	free(im->line);
	for (int i = 0; i < 2; i++) {
		creq_free(&b[i].req);
		free(b[i].line);
		json_decref(b[i].errors);
	}
}

int
cmd_import(struct ctx *x)
{
	struct imp im = {.x = x};
	struct batch b[2] = {{.line = NULL}};
	int rc;

	if ((rc = imp_open(&im, b, x->argv[0])) == EXIT_OK) {
		rc = imp_loop(&im, b);
		if (rc == EXIT_OK && im.read_errno != 0)
			rc = ctl_err(EXIT_FAILED,
			    "cannot read %s after line %ld: "
			    "%s",
			    im.name, im.lineno, strerror(im.read_errno));
		summary(&im);
	}
	imp_close(&im, b);
	if (rc == EXIT_OK && im.nerr > 0)
		rc = EXIT_FAILED;
	return rc;
}
