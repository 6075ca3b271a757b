/*
 * cmd_read.c - the commands that only read: status, peers, get, list,
 * export, feed, conflicts, digest. They work the same over the admin
 * socket and over --db (client.h).
 *
 * Paged answers (list, export, conflicts, feed) are fetched page by page
 * with the node's cursor; export prints each page as it arrives, so its
 * memory stays flat however large the store is.
 */
#include <stdarg.h>
#include <string.h>

#include "cmd.h"
#include "json.h"
#include "esc.h"
#include "msg.h"
#include "storedb.h"

int
ctl_err(int code, const char *fmt, ...)
{
	char raw[4096], line[4 * sizeof(raw)];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* a node's or peer's text may be in it: escaped (esc.h) */
	n = n < 0 ? 0 : n >= (int)sizeof(raw) ? (int)sizeof(raw) - 1 : n;
	esc_text(line, sizeof(line), raw, (size_t)n, NULL);
	fprintf(stderr, "jalinctl: %s\n", line);
	return code;
}

int
ctl_call(struct ctx *x, struct creq *r, json_t **result)
{
	struct jalin_err err;
	int rc, status = 0;

	jalin_err_clear(&err);
	rc = client_call(x->cl, r, &status, result, &err);
	if (rc == JALIN_EUNREACH)
		return ctl_err(EXIT_UNREACH, "%s", jalin_err_msg(&err, rc));
	if (rc != 0)
		return ctl_err(EXIT_FAILED, "%s: %s", client_where(x->cl),
		    jalin_err_msg(&err, rc));
	if (status != 0)
		return ctl_err(EXIT_FAILED, "%s", jalin_err_msg(&err, status));
	return EXIT_OK;
}

/* A request with a collection (may be NULL) and nothing else. */
static int
simple(struct ctx *x, uint64_t type, const char *coll, json_t **res)
{
	struct creq r;
	int rc;

	creq_init(&r, x->cl, type);
	if (coll != NULL)
		creq_str(&r, MK_COLL, coll);
	rc = ctl_call(x, &r, res);
	creq_free(&r);
	return rc;
}

int
ctl_status(struct ctx *x)
{
	const char *cn = client_peer_cn(x->cl);
	char via[JALIN_PATH_MAX + 128];
	json_t *res;
	int rc;

	if ((rc = simple(x, MSG_STATUS, NULL, &res)) != EXIT_OK)
		return rc;
	if (cn != NULL)
		snprintf(via, sizeof(via),
		    "TLS to %s (its certificate: CN %s, verified against %s)",
		    x->t->remote, cn, x->t->ca);
	x->out->status(res, cn != NULL ? via : NULL);
	json_decref(res);
	return EXIT_OK;
}

int
cmd_status(struct ctx *x)
{
	return ctl_status(x);
}

int
cmd_peers(struct ctx *x)
{
	json_t *res, *peers;
	int rc;

	if ((rc = simple(x, MSG_STATUS, NULL, &res)) != EXIT_OK)
		return rc;
	peers = json_object_get(res, "peers");
	if (json_is_array(peers))
		x->out->peers(peers);
	else
		rc = ctl_err(EXIT_FAILED, "%s did not report its peers",
		    client_where(x->cl));
	json_decref(res);
	return rc;
}

int
cmd_keys(struct ctx *x)
{
	json_t *res, *keys;
	int rc;

	if ((rc = simple(x, MSG_STATUS, NULL, &res)) != EXIT_OK)
		return rc;
	keys = json_object_get(res, "enc_keys");
	if (json_is_array(keys))
		x->out->keys(keys);
	else
		rc = ctl_err(EXIT_FAILED,
		    "%s did not report its encryption keys (an older node, or "
		    "a store read with --db: ask the running node)",
		    client_where(x->cl));
	json_decref(res);
	return rc;
}

int
cmd_get(struct ctx *x)
{
	struct creq r;
	json_t *res;
	int rc;

	creq_init(&r, x->cl, MSG_GET);
	creq_str(&r, MK_COLL, x->argv[0]);
	creq_str(&r, MK_ID, x->argv[1]);
	if (x->versions)
		creq_bool(&r, MK_VERSIONS, true);
	rc = ctl_call(x, &r, &res);
	creq_free(&r);
	if (rc != EXIT_OK)
		return rc;
	x->out->record(res);
	json_decref(res);
	return EXIT_OK;
}

/* One page of a paged answer; return EXIT_* (non-zero stops paging). */
typedef int (*page_fn)(struct ctx *x, json_t *items, void *arg);

struct pager {
	uint64_t type;
	const char *coll;  /* NULL: all collections */
	const char *items; /* key of the array in the result */
	uint64_t limit;    /* items wanted in all */
	page_fn fn;
	void *arg;
};

/* Not an exit status: paging reached the end. */
#define PAGE_DONE (-1)

/* Keep the cursor for the next page: EXIT_OK, PAGE_DONE or EXIT_FAILED. */
static int
next_cursor(json_t *res, char *after, size_t n)
{
	const char *next = js_str(res, "next");

	if (next == NULL)
		return PAGE_DONE;
	if (strlen(next) >= n || strcmp(next, after) == 0)
		return ctl_err(
		    EXIT_FAILED, "the node sent a bad paging cursor; stopping");
	memcpy(after, next, strlen(next) + 1);
	return 0;
}

static int
page_all(struct ctx *x, const struct pager *p)
{
	char after[2 * STDB_KEY_LEN + 1] = "";
	uint64_t got = 0;
	json_t *res, *items;
	struct creq r;
	int rc;

	for (;;) {
		uint64_t want = p->limit - got;
		creq_init(&r, x->cl, p->type);
		if (p->coll != NULL)
			creq_str(&r, MK_COLL, p->coll);
		creq_uint(&r, MK_LIMIT,
		    want > JALIN_LIST_PAGE_MAX ? JALIN_LIST_PAGE_MAX : want);
		if (after[0] != '\0')
			creq_str(&r, MK_AFTER, after);
		rc = ctl_call(x, &r, &res);
		creq_free(&r);
		if (rc != EXIT_OK)
			return rc;
		items = json_object_get(res, p->items);
		got += json_array_size(items);
		rc = p->fn(x, json_is_array(items) ? items : NULL, p->arg);
		if (rc == EXIT_OK)
			rc = got < p->limit
			    ? next_cursor(res, after, sizeof(after))
			    : PAGE_DONE;
		json_decref(res);
		if (rc != EXIT_OK)
			return rc == PAGE_DONE ? EXIT_OK : rc;
	}
}

static int
collect(struct ctx *x, json_t *items, void *arg)
{
	(void)x;
	if (items != NULL && json_array_extend(arg, items) != 0)
		return ctl_err(EXIT_FAILED, "out of memory");
	return EXIT_OK;
}

int
cmd_list(struct ctx *x)
{
	json_t *all = json_array();
	struct pager p = {
	    MSG_LIST, x->argv[0], "records", x->limit, collect, all};
	int rc;

	if (all == NULL)
		return ctl_err(EXIT_FAILED, "out of memory");
	if ((rc = page_all(x, &p)) == EXIT_OK)
		x->out->list(x->argv[0], all);
	json_decref(all);
	return rc;
}

static int
export_page(struct ctx *x, json_t *items, void *arg)
{
	size_t i;
	json_t *rec;

	(void)arg;
	json_array_foreach(items, i, rec)
	{
		x->out->export_line(rec);
	}
	return EXIT_OK;
}

int
cmd_export(struct ctx *x)
{
	struct pager p = {MSG_EXPORT, x->argc > 0 ? x->argv[0] : NULL,
	    "records", UINT64_MAX, export_page, NULL};

	return page_all(x, &p);
}

int
cmd_conflicts(struct ctx *x)
{
	json_t *all = json_array();
	struct pager p = {MSG_CONFLICTS, x->argc > 0 ? x->argv[0] : NULL,
	    "conflicts", UINT64_MAX, collect, all};
	int rc;

	if (all == NULL)
		return ctl_err(EXIT_FAILED, "out of memory");
	if ((rc = page_all(x, &p)) == EXIT_OK)
		x->out->conflicts(all);
	json_decref(all);
	return rc;
}

/* One feed page after *since; moves *since on. PAGE_DONE at the end. */
static int
feed_page(struct ctx *x, uint64_t *since, uint64_t want, json_t *all,
    json_int_t *last)
{
	json_t *res, *entries;
	struct creq r;
	json_int_t next;
	int rc;

	creq_init(&r, x->cl, MSG_FEED);
	creq_uint(&r, MK_SINCE, *since);
	creq_uint(&r, MK_LIMIT,
	    want > JALIN_LIST_PAGE_MAX ? JALIN_LIST_PAGE_MAX : want);
	rc = ctl_call(x, &r, &res);
	creq_free(&r);
	if (rc != EXIT_OK)
		return rc;
	entries = json_object_get(res, "entries");
	*last = js_int(res, "last_seq", 0);
	next = js_int(res, "next", 0);
	rc = collect(x, json_is_array(entries) ? entries : NULL, all);
	if (rc == EXIT_OK &&
	    (json_array_size(entries) == 0 || next <= 0 ||
	        (uint64_t)next <= *since))
		rc = PAGE_DONE;
	*since = (uint64_t)next;
	json_decref(res);
	return rc;
}

int
cmd_feed(struct ctx *x)
{
	json_t *all = json_array();
	uint64_t since = x->since;
	json_int_t last = 0;
	int rc = EXIT_OK;

	if (all == NULL)
		return ctl_err(EXIT_FAILED, "out of memory");
	while (rc == EXIT_OK && json_array_size(all) < x->limit)
		rc = feed_page(
		    x, &since, x->limit - json_array_size(all), all, &last);
	if (rc == EXIT_OK || rc == PAGE_DONE)
		x->out->feed(all, last);
	json_decref(all);
	return rc == PAGE_DONE ? EXIT_OK : rc;
}

int
cmd_digest(struct ctx *x)
{
	json_t *res;
	int rc;

	if ((rc = simple(x, MSG_DIGEST, NULL, &res)) != EXIT_OK)
		return rc;
	x->out->digest(res);
	json_decref(res);
	return EXIT_OK;
}

int
cmd_audit(struct ctx *x)
{
	struct creq r;
	json_t *res;
	int rc;

	creq_init(&r, x->cl, MSG_AUDIT);
	creq_uint(&r, MK_SINCE, x->since);
	creq_uint(&r, MK_LIMIT, x->limit);
	rc = ctl_call(x, &r, &res);
	creq_free(&r);
	if (rc != EXIT_OK)
		return rc;
	x->out->audit(res);
	if (!json_is_null(json_object_get(res, "broken_at")))
		rc = ctl_err(
		    EXIT_FAILED, "the audit log's hash chain is broken");
	json_decref(res);
	return rc;
}
