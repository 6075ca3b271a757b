/*
 * cmd_write.c - put, delete, purge: one record, one request, one durable
 * commit on the node before it answers.
 *
 * The record of a put is a JSON object read from stdin or --file, bounded
 * by JALIN_CTL_PUT_INPUT_MAX. Its "id" and "collection" keys, if present, are
 * about the command line, not fields: they must agree with the arguments
 * and are taken out before the fields go to the node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "json.h"
#include "msg.h"
#include "uuid.h"

int
ctl_read_all(FILE *fp, const char *name, size_t max, char **out, size_t *len)
{
	size_t n = 0, cap = 4096, got;
	char *p = malloc(cap), *np;

	while (p != NULL && (got = fread(p + n, 1, cap - n - 1, fp)) > 0) {
		n += got;
		if (n > max) {
			free(p);
			return ctl_err(EXIT_FAILED,
			    "%s: input is larger than %zu bytes", name, max);
		}
		if (n + 1 == cap) {
			cap = cap * 2 > max + 2 ? max + 2 : cap * 2;
			if ((np = realloc(p, cap)) == NULL)
				free(p);
			p = np;
		}
	}
	if (p == NULL)
		return ctl_err(EXIT_FAILED, "%s: out of memory", name);
	if (ferror(fp)) {
		free(p);
		return ctl_err(
		    EXIT_FAILED, "cannot read %s: %s", name, strerror(errno));
	}
	p[n] = '\0';
	*out = p;
	*len = n;
	return EXIT_OK;
}

/* Same id? Both are UUID texts; compare the bytes, not the spelling. */
static bool
same_id(const char *a, const char *b)
{
	uint8_t x[UUID_LEN], y[UUID_LEN];

	return uuid_parse(a, strlen(a), x) == 0 &&
	    uuid_parse(b, strlen(b), y) == 0 && memcmp(x, y, UUID_LEN) == 0;
}

/*
 * Take "collection" and "id" out of the object; they must agree with the
 * arguments. Without an ID argument the object's "id" names the record.
 * *id gets a copy of the id to send (NULL: a new record); caller frees.
 */
static int
take_keys(struct ctx *x, json_t *obj, const char *arg, char **id)
{
	json_t *c = json_object_get(obj, "collection");
	json_t *i = json_object_get(obj, "id");
	const char *use = arg;

	*id = NULL;
	if (c != NULL &&
	    (!json_is_string(c) ||
	        strcmp(json_string_value(c), x->argv[0]) != 0))
		return ctl_err(EXIT_USAGE,
		    "the record's \"collection\" does not match the "
		    "argument '%s'",
		    x->argv[0]);
	if (i != NULL && !json_is_null(i) &&
	    (!json_is_string(i) ||
	        (arg != NULL && !same_id(json_string_value(i), arg))))
		return ctl_err(EXIT_USAGE,
		    "the record's \"id\" does not match the argument '%s'",
		    arg != NULL ? arg : "(none)");
	if (use == NULL && json_is_string(i))
		use = json_string_value(i);
	if (use != NULL && (*id = strdup(use)) == NULL)
		return ctl_err(EXIT_FAILED, "out of memory");
	json_object_del(obj, "collection");
	json_object_del(obj, "id");
	return EXIT_OK;
}

static int
read_record(struct ctx *x, json_t **obj)
{
	const char *name = x->file != NULL ? x->file : "standard input";
	struct jalin_err err;
	FILE *fp = stdin;
	size_t len;
	char *text;
	int rc;

	if (x->file != NULL && strcmp(x->file, "-") != 0 &&
	    (fp = fopen(x->file, "r")) == NULL)
		return ctl_err(EXIT_FAILED, "cannot open '%s': %s", x->file,
		    strerror(errno));
	rc = ctl_read_all(fp, name, JALIN_CTL_PUT_INPUT_MAX, &text, &len);
	if (fp != stdin)
		fclose(fp);
	if (rc != EXIT_OK)
		return rc;
	jalin_err_clear(&err);
	*obj = js_parse(text, len, &err);
	free(text);
	if (*obj == NULL)
		return ctl_err(EXIT_FAILED, "%s is not valid JSON: %s", name,
		    jalin_err_msg(&err, JALIN_EINVAL));
	if (!json_is_object(*obj)) {
		json_decref(*obj);
		return ctl_err(EXIT_FAILED,
		    "%s: the record must be a JSON object ({\"field\": "
		    "value, ...})",
		    name);
	}
	return EXIT_OK;
}

static int
send_put(struct ctx *x, json_t *obj, const char *id)
{
	struct jalin_err err;
	struct creq r;
	json_t *res;
	int rc;

	jalin_err_clear(&err);
	creq_init(&r, x->cl, MSG_PUT);
	creq_str(&r, MK_COLL, x->argv[0]);
	if (id != NULL)
		creq_str(&r, MK_ID, id);
	if (js_pack_mp(obj, creq_key(&r, MK_FIELDS), &err) != 0)
		rc = ctl_err(EXIT_FAILED, "the record: %s",
		    jalin_err_msg(&err, JALIN_EINVAL));
	else
		rc = ctl_call(x, &r, &res);
	creq_free(&r);
	if (rc == EXIT_OK) {
		x->out->written(res);
		json_decref(res);
	}
	return rc;
}

int
cmd_put(struct ctx *x)
{
	char *id = NULL;
	json_t *obj;
	int rc;

	if ((rc = read_record(x, &obj)) != EXIT_OK)
		return rc;
	rc = take_keys(x, obj, x->argc > 1 ? x->argv[1] : NULL, &id);
	if (rc == EXIT_OK)
		rc = send_put(x, obj, id);
	free(id);
	json_decref(obj);
	return rc;
}

static int
tombstone(struct ctx *x, uint64_t type)
{
	struct creq r;
	json_t *res;
	int rc;

	creq_init(&r, x->cl, type);
	creq_str(&r, MK_COLL, x->argv[0]);
	creq_str(&r, MK_ID, x->argv[1]);
	if (x->reason != NULL)
		creq_str(&r, MK_REASON, x->reason);
	if (x->hash != NULL)
		creq_str(&r, MK_HASH, x->hash);
	rc = ctl_call(x, &r, &res);
	creq_free(&r);
	if (rc == EXIT_OK) {
		x->out->written(res);
		json_decref(res);
	}
	return rc;
}

int
cmd_delete(struct ctx *x)
{
	return tombstone(x, MSG_DELETE);
}

int
cmd_purge(struct ctx *x)
{
	return tombstone(x, MSG_PURGE);
}
