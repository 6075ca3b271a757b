/*
 * test_schema.c - the collection tables, schema_coerce/display and the
 * record rules.
 *
 * Inputs are built with msgpack-c's packer (or written byte by byte where a
 * non-minimal encoding is the point); expected canonical bytes are built
 * the same way. Every rule is tried at its limit and one past it, and every
 * error message is asserted in full: these messages reach operators, and
 * for S and S! fields they must never carry the value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "schema.h"
#include "seal.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct fx {
	msgpack_sbuffer in, out, exp;
	msgpack_packer ip, op, ep;
	struct jalin_err err;
	int rc;
};

static int
setup(void **state)
{
	struct fx *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	msgpack_sbuffer_init(&t->in);
	msgpack_sbuffer_init(&t->out);
	msgpack_sbuffer_init(&t->exp);
	msgpack_packer_init(&t->ip, &t->in, msgpack_sbuffer_write);
	msgpack_packer_init(&t->op, &t->out, msgpack_sbuffer_write);
	msgpack_packer_init(&t->ep, &t->exp, msgpack_sbuffer_write);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *t = *state;

	msgpack_sbuffer_destroy(&t->in);
	msgpack_sbuffer_destroy(&t->out);
	msgpack_sbuffer_destroy(&t->exp);
	free(t);
	return 0;
}

/* Empty the input and expected buffers before building a new case. */
static void
reset(struct fx *t)
{
	msgpack_sbuffer_clear(&t->in);
	msgpack_sbuffer_clear(&t->out);
	msgpack_sbuffer_clear(&t->exp);
	jalin_err_clear(&t->err);
}

static const struct schema_coll *
coll(const char *name)
{
	const struct schema_coll *c = schema_coll_by_name(name, strlen(name));

	assert_non_null(c);
	return c;
}

static const struct schema_field *
field(const char *cname, const char *fname)
{
	const struct schema_field *f =
	    schema_field_by_name(coll(cname), fname, strlen(fname));

	if (f == NULL)
		fail_msg("no field %s.%s", cname, fname);
	return f;
}

/* Coerce t->in for cname.fname into t->out. */
static int
co(struct fx *t, const char *cname, const char *fname)
{
	msgpack_sbuffer_clear(&t->out);
	jalin_err_clear(&t->err);
	t->rc = schema_coerce(coll(cname), field(cname, fname), t->in.data,
	    t->in.size, &t->op, &t->err);
	return t->rc;
}

/* Coerce must succeed and write exactly t->exp. */
static void
expect_canon(struct fx *t, const char *cname, const char *fname)
{
	if (co(t, cname, fname) != 0)
		fail_msg(
		    "%s.%s: unexpected error: %s", cname, fname, t->err.msg);
	assert_int_equal(t->out.size, t->exp.size);
	assert_memory_equal(t->out.data, t->exp.data, t->exp.size);
}

/* Coerce must fail with code and exactly msg, and write nothing. */
static void
expect_err(struct fx *t, const char *cname, const char *fname, int code,
    const char *msg)
{
	int rc = co(t, cname, fname);

	if (rc != code || strcmp(t->err.msg, msg) != 0)
		fail_msg("%s.%s: got %d '%s', want %d '%s'", cname, fname, rc,
		    t->err.msg, code, msg);
	assert_int_equal(t->out.size, 0);
}

static void
pk_cstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void
in_str(struct fx *t, const char *s)
{
	reset(t);
	pk_cstr(&t->ip, s);
}

static void
in_raw(struct fx *t, const void *p, size_t n)
{
	reset(t);
	msgpack_sbuffer_write(&t->in, p, n);
}

/* A string input of n bytes of c. */
static void
in_fill(struct fx *t, char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	reset(t);
	msgpack_pack_str_with_body(&t->ip, s, n);
	free(s);
}

/* A string is valid: canonical output is the same string. */
static void
ok_str(struct fx *t, const char *cname, const char *fname, const char *s)
{
	in_str(t, s);
	pk_cstr(&t->ep, s);
	expect_canon(t, cname, fname);
}

static void
bad_str(struct fx *t, const char *cname, const char *fname, const char *s,
    const char *msg)
{
	in_str(t, s);
	expect_err(t, cname, fname, JALIN_ESCHEMA, msg);
}

static void
bad_int(struct fx *t, const char *cname, const char *fname, int64_t v,
    const char *msg)
{
	reset(t);
	msgpack_pack_int64(&t->ip, v);
	expect_err(t, cname, fname, JALIN_ESCHEMA, msg);
}

static void
ok_int(struct fx *t, const char *cname, const char *fname, int64_t v)
{
	reset(t);
	msgpack_pack_int64(&t->ip, v);
	msgpack_pack_int64(&t->ep, v);
	expect_canon(t, cname, fname);
}

/* ---- tables ------------------------------------------------------------ */

static bool
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > JALIN_FIELD_NAME_MAX || s[0] == '.' ||
	    s[n - 1] == '.' || strstr(s, "..") != NULL)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		        s[i] == '.'))
			return false;
	return s[0] >= 'a' && s[0] <= 'z';
}

static void
check_enums(const char *path, const char *const *e)
{
	size_t i, j, k;

	if (e == NULL || e[0] == NULL)
		fail_msg("%s: empty enum", path);
	for (i = 0; e[i] != NULL; i++) {
		assert_true(strlen(e[i]) > 0 && strlen(e[i]) <= 64);
		for (k = 0; e[i][k] != '\0'; k++)
			if (!((e[i][k] >= 'a' && e[i][k] <= 'z') ||
			        (e[i][k] >= 'A' && e[i][k] <= 'Z') ||
			        (e[i][k] >= '0' && e[i][k] <= '9') ||
			        e[i][k] == '_'))
				fail_msg("%s: bad enum value '%s'", path, e[i]);
		for (j = 0; j < i; j++)
			if (strcmp(e[i], e[j]) == 0)
				fail_msg("%s: '%s' twice", path, e[i]);
	}
}

/* Largest canonical encoding a valid value of f can have. */
static size_t
worst(const struct schema_field *f)
{
	size_t n = 0, i, k;

	switch (f->type) {
	case ST_STR:
		return 5 + f->max;
	case ST_INT:
	case ST_TS:
	case ST_MONEY:
		return 9;
	case ST_BOOL:
		return 1;
	case ST_DATE:
		return 11;
	case ST_CODE:
		return 14;
	case ST_UUID:
		return 18;
	case ST_HASH:
		return 34;
	case ST_ENUM:
		for (i = 0; f->enums[i] != NULL; i++)
			if ((k = strlen(f->enums[i])) > n)
				n = k;
		return n + 2;
	case ST_LIST:
		return 5 + f->max * worst(f->item);
	case ST_OBJECT:
		for (i = 0; i < f->nobj; i++)
			n += 2 + strlen(f->obj[i].name) + worst(&f->obj[i]);
		return 5 + n;
	case ST_MAP:
		return 5 + f->max * (66 + worst(f->item));
	case ST_KEYS: /* seal.h: every wrap and the longest chain */
		return 6 + 42 + SEAL_WRAPS_MAX * (1 + SEAL_NAME_MAX + 48) + 1 +
		    12 + SEAL_CHAIN_MAX * 40 + 16;
	}
	fail_msg("bad type %u", f->type);
	return 0;
}

static void check_field(
    const char *cname, const struct schema_field *f, bool named);

static void
check_container(const char *path, const struct schema_field *f)
{
	size_t i, j;

	if (f->type == ST_LIST || f->type == ST_MAP) {
		if (f->item == NULL)
			fail_msg("%s: no item", path);
		assert_true(f->max >= 1 && f->max <= JALIN_LIST_ITEMS_MAX);
		check_field(path, f->item, false);
	}
	if (f->type == ST_MAP && f->enums != NULL)
		check_enums(path, f->enums);
	if (f->type != ST_OBJECT)
		return;
	if (f->obj == NULL || f->nobj == 0 || f->nobj > 64)
		fail_msg("%s: bad sub-fields", path);
	for (i = 0; i < f->nobj; i++) {
		check_field(path, &f->obj[i], true);
		if (f->cls >= CLS_S) /* specific data stays specific */
			assert_true(f->obj[i].cls >= CLS_S);
		for (j = 0; j < i; j++)
			assert_string_not_equal(f->obj[i].name, f->obj[j].name);
	}
}

static void
check_field(const char *cname, const struct schema_field *f, bool named)
{
	char path[160];

	snprintf(path, sizeof(path), "%s.%s", cname,
	    f->name != NULL ? f->name : "[]");
	assert_true(f->type >= ST_STR && f->type <= ST_KEYS);
	assert_true(f->cls <= CLS_SX);
	if (named && (f->name == NULL || !name_ok(f->name)))
		fail_msg("%s: bad name", path);
	if (f->doc == NULL || f->doc[0] == '\0')
		fail_msg("%s: no doc", path);
	if (f->type == ST_STR)
		assert_true(f->max >= 1 && f->max <= 8192);
	if (f->type == ST_INT)
		assert_true(f->min_i <= f->max_i);
	if (f->type == ST_ENUM)
		check_enums(path, f->enums);
	check_container(path, f);
	/* sealed (PROTOCOL.md 14.1), a value grows by its ext header and
	 * SEAL_OVERHEAD: it must still fit */
	if (worst(f) + 6 + SEAL_OVERHEAD > JALIN_VALUE_MAX)
		fail_msg(
		    "%s: a valid value may take %zu bytes", path, worst(f));
}

static const char *const envelope[] = {NULL, "origin_node", "controller",
    "legal_basis", "share_with", "retention_until", "created_at", "created_by",
    "updated_by"};

static void
check_coll(const struct schema_coll *c)
{
	const struct schema_field *f;
	size_t i, j;

	assert_true(strlen(c->name) <= JALIN_COLL_NAME_MAX);
	/* case and referral grew unshared_from (tag 9) */
	assert_int_equal(c->version, c->scope == SCOPE_SCOPED ? 2 : 1);
	assert_int_equal(c->scope,
	    c->id == COLL_CASE || c->id == COLL_REFERRAL ? SCOPE_SCOPED
	                                                 : SCOPE_ALL);
	assert_non_null(c->doc);
	for (i = 0; i < c->nfields; i++) {
		f = &c->fields[i];
		assert_true(f->tag >= 1 && f->tag <= JALIN_TAG_MAX);
		assert_true(f->tag <= TAG_UPDATED_BY ||
		    f->tag >= TAG_FIRST_OWN ||
		    ((f->tag == TAG_UNSHARED_FROM || f->tag == TAG_KEYS) &&
		        c->scope == SCOPE_SCOPED));
		if (i > 0)
			assert_true(f->tag > c->fields[i - 1].tag);
		check_field(c->name, f, true);
		for (j = 0; j < i; j++)
			assert_string_not_equal(f->name, c->fields[j].name);
	}
	for (i = TAG_ORIGIN_NODE; i <= TAG_UPDATED_BY; i++) {
		f = schema_field_by_tag(c, (unsigned)i);
		assert_non_null(f);
		assert_string_equal(f->name, envelope[i]);
	}
	assert_int_equal(
	    field(c->name, "origin_node")->flags & SF_SYSTEM, SF_SYSTEM);
	assert_int_equal(
	    field(c->name, "created_at")->flags & SF_SYSTEM, SF_SYSTEM);
	assert_int_equal(field(c->name, "share_with")->max, 16);
	assert_non_null(schema_field_by_tag(c, TAG_FIRST_OWN));
}

static void
test_tables(void **state)
{
	unsigned id;

	(void)state;
	for (id = COLL_MIN; id <= COLL_MAX; id++) {
		assert_non_null(schema_coll_by_id(id));
		assert_int_equal(schema_coll_by_id(id)->id, id);
		check_coll(schema_coll_by_id(id));
	}
	assert_null(schema_coll_by_id(0));
	assert_null(schema_coll_by_id(COLL_MAX + 1));
	check_enums("deletion_reasons", schema_deletion_reasons);
	assert_string_equal(schema_deletion_reasons[0], "erasure_request");
}

/* SF_REQUIRED is exactly the set the domain asks for. */
static void
test_required_sets(void **state)
{
	static const char *const want[][8] = {
	    [COLL_CASE] = {"controller", "legal_basis", "status", "cluster"},
	    [COLL_REFERRAL] = {"legal_basis", "case_id", "from_unit", "to_unit",
	        "to_kind", "urgency", "status"},
	    [COLL_PARTNERSHIP] = {"agreement_type", "title", "status"},
	    [COLL_LKS] = {"name", "legal_form", "status"},
	    [COLL_RESOURCE] = {"owner_unit", "kind", "capacity_total"},
	};
	const struct schema_coll *c;
	unsigned id;
	size_t i, k, n;

	(void)state;
	for (id = COLL_MIN; id <= COLL_MAX; id++) {
		c = schema_coll_by_id(id);
		for (n = 0; want[id][n] != NULL; n++)
			assert_true(
			    field(c->name, want[id][n])->flags & SF_REQUIRED);
		for (i = k = 0; i < c->nfields; i++)
			k += (c->fields[i].flags & SF_REQUIRED) != 0;
		assert_int_equal(k, n);
	}
}

static void
test_classes(void **state)
{
	(void)state;
	assert_int_equal(field("case", "nik")->cls, CLS_SX);
	assert_int_equal(field("case", "notes")->cls, CLS_SX);
	assert_int_equal(field("case", "full_name")->cls, CLS_U);
	assert_int_equal(field("case", "case_no")->cls, CLS_N);
	assert_int_equal(field("case", "status")->cls, CLS_S);
	assert_int_equal(field("case", "pasung.status")->cls, CLS_S);
	assert_int_equal(field("case", "guardian.contact")->cls, CLS_SX);
	assert_int_equal(field("case", "attachments")->cls, CLS_SX);
	assert_int_equal(field("referral", "reason")->cls, CLS_S);
	assert_int_equal(field("lks", "head.name")->cls, CLS_U);
	assert_int_equal(field("lks", "name")->cls, CLS_N);
	assert_int_equal(field("partnership", "signatories")->cls, CLS_U);
	assert_int_equal(field("resource", "kind")->cls, CLS_N);
}

static void
test_lookup(void **state)
{
	const struct schema_coll *c;
	const struct schema_field *f;
	char buf[80];
	unsigned id;
	size_t i;

	(void)state;
	for (id = COLL_MIN; id <= COLL_MAX; id++) {
		c = schema_coll_by_id(id);
		assert_ptr_equal(
		    schema_coll_by_name(c->name, strlen(c->name)), c);
		for (i = 0; i < c->nfields; i++) {
			f = &c->fields[i];
			/* name followed by junk: only len counts */
			snprintf(buf, sizeof(buf), "%sXYZ", f->name);
			assert_ptr_equal(
			    schema_field_by_name(c, buf, strlen(f->name)), f);
			assert_null(schema_field_by_name(c, buf, strlen(buf)));
			assert_null(
			    schema_field_by_name(c, buf, strlen(f->name) - 1));
			assert_ptr_equal(schema_field_by_tag(c, f->tag), f);
		}
		assert_null(schema_field_by_tag(c, 0));
		assert_null(schema_field_by_tag(c, TAG_KEYS + 1));
		f = schema_field_by_tag(c, TAG_KEYS);
		if (c->scope == SCOPE_SCOPED)
			assert_string_equal(f->name, "keys");
		else
			assert_null(f);
		f = schema_field_by_tag(c, TAG_UNSHARED_FROM);
		if (c->scope == SCOPE_SCOPED)
			assert_string_equal(f->name, "unshared_from");
		else
			assert_null(f);
		assert_null(schema_field_by_tag(c, JALIN_TAG_MAX));
		assert_null(schema_field_by_name(c, "", 0));
		assert_null(schema_field_by_name(c, "zzz", 3));
	}
	c = coll("case");
	assert_null(schema_field_by_name(c, "pasung", 6));
	assert_null(schema_field_by_name(c, "updated_at", 10));
	assert_null(schema_coll_by_name("cases", 5));
	assert_null(schema_coll_by_name("cas", 3));
	assert_null(schema_coll_by_name("audit", 5));
	assert_null(schema_coll_by_name(NULL, 0));
	assert_ptr_equal(schema_coll_by_name("lks!", 3), coll("lks"));
}

static void
test_names(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(
	    schema_type_name(field("lks", "name"), b, 64), "str(256)");
	assert_string_equal(
	    schema_type_name(field("lks", "status"), b, 64), "enum");
	assert_string_equal(
	    schema_type_name(field("case", "share_with"), b, 64),
	    "list<str(64)>");
	assert_string_equal(
	    schema_type_name(field("partnership", "resources"), b, 64),
	    "list<uuid>");
	assert_string_equal(
	    schema_type_name(field("case", "consent"), b, 64), "list<object>");
	assert_string_equal(
	    schema_type_name(field("case", "assessment.scores"), b, 64),
	    "map<str,int>");
	assert_string_equal(
	    schema_type_name(field("referral", "status_at"), b, 64),
	    "map<enum,ts>");
	assert_string_equal(
	    schema_type_name(field("case", "nik_token"), b, 64), "hash");
	assert_string_equal(
	    schema_type_name(field("lks", "staff.total"), b, 5), "int");
	assert_string_equal(
	    schema_type_name(field("lks", "name"), b, 4), "str");
	assert_string_equal(schema_type_name(field("lks", "name"), b, 0), "");
	assert_string_equal(schema_cls_name(CLS_N), "N");
	assert_string_equal(schema_cls_name(CLS_U), "U");
	assert_string_equal(schema_cls_name(CLS_S), "S");
	assert_string_equal(schema_cls_name(CLS_SX), "S!");
	assert_string_equal(schema_cls_name(9), "?");
}

/* ---- scalar types ------------------------------------------------------ */

static void
test_str(void **state)
{
	struct fx *t = *state;
	char *s;

	/* at the limit, and one byte past it */
	in_fill(t, 'a', 256);
	msgpack_sbuffer_write(&t->exp, t->in.data, t->in.size);
	expect_canon(t, "lks", "name");
	in_fill(t, 'a', 257);
	expect_err(t, "lks", "name", JALIN_ESCHEMA,
	    "lks.name: 257 bytes exceeds the limit of 256");
	in_fill(t, 'x', 300);
	expect_err(t, "lks", "name", JALIN_ESCHEMA,
	    "lks.name: 300 bytes exceeds the limit of 256");
	/* the limit counts bytes, not characters: 128 x "é" is 256 bytes */
	s = calloc(1, 259);
	assert_non_null(s);
	for (int i = 0; i < 129; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	reset(t);
	msgpack_pack_str_with_body(&t->ip, s, 256);
	msgpack_pack_str_with_body(&t->ep, s, 256);
	expect_canon(t, "lks", "name");
	reset(t);
	msgpack_pack_str_with_body(&t->ip, s, 258);
	expect_err(t, "lks", "name", JALIN_ESCHEMA,
	    "lks.name: 258 bytes exceeds the limit of 256");
	free(s);
	/* empty is a value */
	ok_str(t, "lks", "npwp", "");
	/* str16 / str8 for a short string become fixstr */
	in_raw(t,
	    "\xda\x00\x03"
	    "abc",
	    6);
	pk_cstr(&t->ep, "abc");
	expect_canon(t, "lks", "npwp");
	in_raw(t,
	    "\xd9\x03"
	    "abc",
	    5);
	pk_cstr(&t->ep, "abc");
	expect_canon(t, "lks", "npwp");
	/* 1-, 2-, 3- and 4-byte UTF-8 */
	ok_str(t, "lks", "deed.notary",
	    "Notaris \xc3\x89lia \xe2\x82\xac \xf0\x9f\x98\x80");
	ok_str(t, "lks", "deed.notary", "\xef\xbf\xbf\xf4\x8f\xbf\xbf");
}

static void
test_utf8(void **state)
{
	static const struct {
		const char *s;
		size_t n, at; /* at == n: valid */
	} v[] = {
	    {"\xc2\x80", 2, 2},         /* U+0080 */
	    {"\xe0\xa0\x80", 3, 3},     /* U+0800 */
	    {"\xed\x9f\xbf", 3, 3},     /* U+D7FF */
	    {"\xee\x80\x80", 3, 3},     /* U+E000 */
	    {"\xf0\x90\x80\x80", 4, 4}, /* U+10000 */
	    {"\xf4\x8f\xbf\xbf", 4, 4}, /* U+10FFFF */
	    {"ab\xc0\x80", 4, 2},       /* overlong NUL */
	    {"\xc1\xbf", 2, 0},         /* overlong */
	    {"\xe0\x80\x80", 3, 0},     /* overlong */
	    {"\xe0\x9f\xbf", 3, 0},     /* overlong U+07FF */
	    {"\xf0\x80\x80\x80", 4, 0}, /* overlong */
	    {"\xf0\x8f\xbf\xbf", 4, 0}, /* overlong U+FFFF */
	    {"x\xed\xa0\x80", 4, 1},    /* surrogate U+D800 */
	    {"\xed\xbf\xbf", 3, 0},     /* surrogate U+DFFF */
	    {"\xf4\x90\x80\x80", 4, 0}, /* U+110000 */
	    {"\xf5\x80\x80\x80", 4, 0},
	    {"\xff", 1, 0},
	    {"\x80", 1, 0},        /* lone continuation */
	    {"abc\xe2\x82", 5, 3}, /* truncated */
	    {"\xe2\x28\xa1", 3, 0},
	    {"ok\xc3", 3, 2},
	};
	struct fx *t = *state;
	char msg[128];
	size_t i;

	for (i = 0; i < ARRAY_LEN(v); i++) {
		reset(t);
		msgpack_pack_str_with_body(&t->ip, v[i].s, v[i].n);
		if (v[i].at == v[i].n) {
			msgpack_pack_str_with_body(&t->ep, v[i].s, v[i].n);
			expect_canon(t, "lks", "name");
			continue;
		}
		snprintf(msg, sizeof(msg),
		    "lks.name: value is not valid UTF-8 (at byte %zu)",
		    v[i].at);
		expect_err(t, "lks", "name", JALIN_ESCHEMA, msg);
	}
	reset(t);
	msgpack_pack_str_with_body(&t->ip, "a\0b", 3);
	expect_err(t, "lks", "name", JALIN_ESCHEMA,
	    "lks.name: value contains a NUL byte (at byte 1)");
	/* the same rules for S! text, without the value */
	reset(t);
	msgpack_pack_str_with_body(&t->ip, "Budi\xff", 5);
	expect_err(t, "case", "notes", JALIN_ESCHEMA,
	    "case.notes: value is not valid UTF-8 (at byte 4)");
}

static void
test_int(void **state)
{
	struct fx *t = *state;

	ok_int(t, "lks", "staff.total", 0);
	ok_int(t, "lks", "staff.total", 1000000);
	bad_int(t, "lks", "staff.total", 1000001,
	    "lks.staff.total: 1000001 is out of range 0..1000000");
	bad_int(t, "lks", "staff.total", -1,
	    "lks.staff.total: -1 is out of range 0..1000000");
	ok_int(t, "case", "pasung.prior_episodes", 1000);
	bad_int(t, "case", "pasung.prior_episodes", 1001,
	    "case.pasung.prior_episodes: value is out of range 0..1000");
	ok_int(t, "partnership", "target_beneficiaries", 100000000);
	bad_int(t, "partnership", "target_beneficiaries", 100000001,
	    "partnership.target_beneficiaries: 100000001 is out of range "
	    "0..100000000");
	/* non-minimal encodings come out minimal */
	in_raw(t, "\xcf\0\0\0\0\0\0\0\x05", 9);
	msgpack_sbuffer_write(&t->exp, "\x05", 1);
	expect_canon(t, "lks", "staff.total");
	in_raw(t, "\xd0\x05", 2);
	msgpack_sbuffer_write(&t->exp, "\x05", 1);
	expect_canon(t, "lks", "staff.total");
	in_raw(t, "\xd2\0\0\x01\0", 5);
	msgpack_sbuffer_write(&t->exp, "\xcd\x01\x00", 3);
	expect_canon(t, "lks", "staff.total");
	in_raw(t, "\xcd\x00\x7f", 3);
	msgpack_sbuffer_write(&t->exp, "\x7f", 1);
	expect_canon(t, "lks", "staff.total");
	in_raw(t, "\xd3\xff\xff\xff\xff\xff\xff\xff\xff", 9);
	expect_err(t, "lks", "staff.total", JALIN_ESCHEMA,
	    "lks.staff.total: -1 is out of range 0..1000000");
	in_raw(t, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9);
	expect_err(t, "lks", "staff.total", JALIN_ESCHEMA,
	    "lks.staff.total: 18446744073709551615 is out of range "
	    "0..1000000");
	/* there is no float type */
	reset(t);
	msgpack_pack_double(&t->ip, 1.0);
	expect_err(t, "lks", "staff.total", JALIN_ESCHEMA,
	    "lks.staff.total: expected an integer, got a float");
	reset(t);
	msgpack_pack_float(&t->ip, 1.0f);
	expect_err(t, "lks", "staff.total", JALIN_ESCHEMA,
	    "lks.staff.total: expected an integer, got a float");
	in_str(t, "5");
	expect_err(t, "lks", "staff.total", JALIN_ESCHEMA,
	    "lks.staff.total: expected an integer, got a string");
}

static void
test_ts_money(void **state)
{
	struct fx *t = *state;

	ok_int(t, "resource", "verified_at", 0);
	ok_int(t, "resource", "verified_at", INT64_MAX);
	ok_int(t, "resource", "cost_per_unit", 150000);
	bad_int(t, "resource", "verified_at", -1,
	    "resource.verified_at: -1 is negative");
	bad_int(t, "partnership", "funding.value", -5,
	    "partnership.funding.value: -5 is negative");
	bad_int(t, "case", "reported_at", -1,
	    "case.reported_at: value is negative");
	in_raw(t, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9);
	expect_err(t, "resource", "verified_at", JALIN_ESCHEMA,
	    "resource.verified_at: 18446744073709551615 is out of range "
	    "0..9223372036854775807");
	in_raw(t, "\xcf\x80\0\0\0\0\0\0\0", 9);
	expect_err(t, "partnership", "funding.value", JALIN_ESCHEMA,
	    "partnership.funding.value: 9223372036854775808 is out of range "
	    "0..9223372036854775807");
}

static void
test_bool(void **state)
{
	struct fx *t = *state;

	reset(t);
	msgpack_pack_true(&t->ip);
	msgpack_pack_true(&t->ep);
	expect_canon(t, "case", "is_child");
	reset(t);
	msgpack_pack_false(&t->ip);
	msgpack_pack_false(&t->ep);
	expect_canon(t, "case", "is_child");
	bad_str(t, "case", "is_child", "yes",
	    "case.is_child: expected a boolean, got a string");
	bad_int(t, "case", "is_child", 1,
	    "case.is_child: expected a boolean, got an integer");
}

static void
test_date(void **state)
{
	static const char *const good[] = {"2024-02-29", "2000-02-29",
	    "2023-12-31", "0001-01-01", "9999-12-31", "2023-01-31",
	    "2023-04-30", "2023-02-28"};
	static const char *const bad[] = {"2023-02-29", "1900-02-29",
	    "2100-02-29", "2024-02-30", "2024-04-31", "2024-06-31",
	    "2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32",
	    "0000-01-01", "2024-1-01", "2024-01-1", "20240101", "2024/01/01",
	    "2024-01-01T00", " 2024-01-01", "2024-0a-01", "", "-024-01-01"};
	struct fx *t = *state;
	char msg[128];
	size_t i;

	for (i = 0; i < ARRAY_LEN(good); i++)
		ok_str(t, "lks", "deed.date", good[i]);
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(msg, sizeof(msg),
		    "lks.deed.date: '%s' is not a valid date (YYYY-MM-DD)",
		    bad[i]);
		bad_str(t, "lks", "deed.date", bad[i], msg);
	}
	bad_str(t, "case", "birth_date", "2024-02-30",
	    "case.birth_date: '2024-02-30' is not a valid date (YYYY-MM-DD)");
	bad_str(t, "case", "pasung.start_date", "2023-02-29",
	    "case.pasung.start_date: value is not a valid date (YYYY-MM-DD)");
	bad_int(t, "lks", "deed.date", 20240101,
	    "lks.deed.date: expected a date string, got an integer");
}

static void
test_enum(void **state)
{
	static const char *const st[] = {
	    "active", "inactive", "suspended", "revoked"};
	struct fx *t = *state;
	size_t i;

	for (i = 0; i < ARRAY_LEN(st); i++)
		ok_str(t, "lks", "status", st[i]);
	bad_str(t, "lks", "status", "closed",
	    "lks.status: 'closed' is not one of active, inactive, suspended, "
	    "revoked");
	bad_str(t, "lks", "status", "Active",
	    "lks.status: 'Active' is not one of active, inactive, suspended, "
	    "revoked");
	bad_str(t, "lks", "status", "active ",
	    "lks.status: 'active ' is not one of active, inactive, suspended, "
	    "revoked");
	bad_str(t, "lks", "status", "",
	    "lks.status: '' is not one of active, inactive, suspended, "
	    "revoked");
	bad_int(t, "lks", "status", 1,
	    "lks.status: expected a string, got an integer");
	ok_str(t, "lks", "accreditation.grade", "A");
	bad_str(t, "lks", "accreditation.grade", "a",
	    "lks.accreditation.grade: 'a' is not one of A, B, C, none");
	ok_str(t, "case", "pasung.status", "re_restrained");
	bad_str(t, "case", "pasung.status", "loose",
	    "case.pasung.status: value is not one of restrained, released, "
	    "re_restrained, confined");
	ok_str(t, "case", "guardian.relation", "legal_guardian");
	ok_str(t, "case", "birth_date_precision", "month");
	ok_str(t, "referral", "to_kind", "other_ministry");
	ok_str(t, "partnership", "funding.mode", "bantuan_pemerintah");
	ok_str(t, "resource", "kind", "vocational_slot");
	ok_str(t, "case", "report_source", "call_171");
}

static void
test_code(void **state)
{
	static const char *const good[] = {"32", "99", "01", "32.01", "32.69",
	    "32.71", "32.99", "32.73.01", "32.73.01.1001", "32.04.05.2001",
	    "73.71.10.1009", "36.03.99.2999"};
	static const char *const shape[] = {"3", "320", "32.7", "32-73",
	    "32.73.1", "32.73.01.100", "32.73.01.10011", "3a", "32.73.01.1a01",
	    ".32", "32.73.", "32.73.01.", "", "32..73", "32.73.01.1001 ",
	    "+3.73"};
	static const struct {
		const char *s, *why;
	} rule[] = {
	    {"00", "province part 00 does not exist"},
	    {"00.01", "province part 00 does not exist"},
	    {"32.00",
	        "kab/kota part must be 01-69 (kabupaten) or 71-99 "
	        "(kota)"},
	    {"32.70",
	        "kab/kota part must be 01-69 (kabupaten) or 71-99 "
	        "(kota)"},
	    {"32.70.01.1001",
	        "kab/kota part must be 01-69 (kabupaten) or "
	        "71-99 (kota)"},
	    {"32.73.00", "kecamatan part 00 does not exist"},
	    {"32.73.01.3001",
	        "desa/kelurahan part must start with 2 (desa) "
	        "or 1 (kelurahan)"},
	    {"32.73.01.0001",
	        "desa/kelurahan part must start with 2 (desa) "
	        "or 1 (kelurahan)"},
	    {"32.73.01.9001",
	        "desa/kelurahan part must start with 2 (desa) "
	        "or 1 (kelurahan)"},
	};
	struct fx *t = *state;
	char msg[200];
	size_t i;

	for (i = 0; i < ARRAY_LEN(good); i++)
		ok_str(t, "lks", "region_code", good[i]);
	for (i = 0; i < ARRAY_LEN(shape); i++) {
		snprintf(msg, sizeof(msg),
		    "lks.region_code: '%s' is not a region code (PP, PP.KK, "
		    "PP.KK.CC or PP.KK.CC.DDDD digits)",
		    shape[i]);
		bad_str(t, "lks", "region_code", shape[i], msg);
	}
	for (i = 0; i < ARRAY_LEN(rule); i++) {
		snprintf(msg, sizeof(msg),
		    "lks.region_code: '%s' is not a region code: %s", rule[i].s,
		    rule[i].why);
		bad_str(t, "lks", "region_code", rule[i].s, msg);
	}
	bad_str(t, "case", "region_code", "32.70",
	    "case.region_code: '32.70' is not a region code: kab/kota part "
	    "must be 01-69 (kabupaten) or 71-99 (kota)");
}

static const uint8_t uuid_bin[16] = {0x01, 0x90, 0xf3, 0xa4, 0x5b, 0x6c, 0x7d,
    0x8e, 0x9f, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd};
#define UUID_LOWER "0190f3a4-5b6c-7d8e-9f01-23456789abcd"
#define UUID_UPPER "0190F3A4-5B6C-7D8E-9F01-23456789ABCD"

static void
pk_bin(msgpack_packer *pk, const void *p, size_t n)
{
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, p, n);
}

static void
test_uuid(void **state)
{
	static const char *const bad[] = {"0190f3a4-5b6c-7d8e-9f01-23456789abc",
	    "0190f3a4-5b6c-7d8e-9f01-23456789abcg",
	    "0190f3a4+5b6c-7d8e-9f01-23456789abcd",
	    "0190f3a45b6c-7d8e-9f01-23456789abcd-", "x", ""};
	struct fx *t = *state;
	char msg[128];
	size_t i;

	in_str(t, UUID_LOWER);
	pk_bin(&t->ep, uuid_bin, 16);
	expect_canon(t, "partnership", "parent_id");
	in_str(t, UUID_UPPER);
	pk_bin(&t->ep, uuid_bin, 16);
	expect_canon(t, "partnership", "parent_id");
	reset(t);
	pk_bin(&t->ip, uuid_bin, 16);
	pk_bin(&t->ep, uuid_bin, 16);
	expect_canon(t, "partnership", "parent_id");
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(msg, sizeof(msg),
		    "partnership.parent_id: '%s' is not a UUID", bad[i]);
		bad_str(t, "partnership", "parent_id", bad[i], msg);
	}
	bad_str(t, "partnership", "parent_id",
	    "0190f3a45b6c7d8e9f0123456789abcd0000",
	    "partnership.parent_id: '0190f3a45b6c7d8e9f0123456789abcd0000' is "
	    "not a UUID");
	reset(t);
	pk_bin(&t->ip, uuid_bin, 15);
	expect_err(t, "partnership", "parent_id", JALIN_ESCHEMA,
	    "partnership.parent_id: 15-byte bin is not a UUID (needs 16 "
	    "bytes)");
	reset(t);
	pk_bin(&t->ip, "0123456789abcdefg", 17);
	expect_err(t, "partnership", "parent_id", JALIN_ESCHEMA,
	    "partnership.parent_id: 17-byte bin is not a UUID (needs 16 "
	    "bytes)");
	bad_int(t, "partnership", "parent_id", 7,
	    "partnership.parent_id: expected a UUID, got an integer");
}

#define HASH_LOWER                         \
	"000102030405060708090a0b0c0d0e0f" \
	"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
#define HASH_UPPER                         \
	"000102030405060708090A0B0C0D0E0F" \
	"F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF"

static const uint8_t hash_bin[32] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff};

/* A one-item list input [s] for partnership.documents. */
static void
in_doc(struct fx *t, const char *s)
{
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	pk_cstr(&t->ip, s);
}

static void
test_hash(void **state)
{
	struct fx *t = *state;

	in_doc(t, HASH_LOWER);
	msgpack_pack_array(&t->ep, 1);
	pk_bin(&t->ep, hash_bin, 32);
	expect_canon(t, "partnership", "documents");
	in_doc(t, HASH_UPPER);
	msgpack_pack_array(&t->ep, 1);
	pk_bin(&t->ep, hash_bin, 32);
	expect_canon(t, "partnership", "documents");
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	pk_bin(&t->ip, hash_bin, 32);
	msgpack_sbuffer_write(&t->exp, t->in.data, t->in.size);
	expect_canon(t, "partnership", "documents");
	in_doc(t, "abc");
	expect_err(t, "partnership", "documents", JALIN_ESCHEMA,
	    "partnership.documents[0]: 'abc' is not a SHA-256 hash (64 hex "
	    "characters)");
	in_doc(t, HASH_LOWER "0");
	expect_err(t, "partnership", "documents", JALIN_ESCHEMA,
	    "partnership.documents[0]: value is not a SHA-256 hash (64 hex "
	    "characters)");
	in_doc(t,
	    "g0102030405060708090a0b0c0d0e0f"
	    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
	expect_err(t, "partnership", "documents", JALIN_ESCHEMA,
	    "partnership.documents[0]: value is not a SHA-256 hash (64 hex "
	    "characters)");
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	pk_bin(&t->ip, hash_bin, 31);
	expect_err(t, "partnership", "documents", JALIN_ESCHEMA,
	    "partnership.documents[0]: 31-byte bin is not a SHA-256 hash "
	    "(needs 32 bytes)");
	in_str(t, "zz");
	expect_err(t, "case", "nik_token", JALIN_ESCHEMA,
	    "case.nik_token: value is not a SHA-256 hash (64 hex characters)");
}

/* ---- lists, objects, maps ---------------------------------------------- */

/* share_with input of n node names "n0", "n1", ... */
static void
in_nodes(struct fx *t, size_t n)
{
	char name[24]; /* "n" and any size_t */
	size_t i;

	reset(t);
	msgpack_pack_array(&t->ip, n);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%zu", i);
		pk_cstr(&t->ip, name);
	}
}

static void
test_list(void **state)
{
	static const char *const good[] = {
	    "a", "0", "a_b-1", "sentra-31", "jabar"};
	static const char *const bad[] = {
	    "Jabar", "-x", "_x", "", "a b", "a.b", "dinsos\xc3\xa9"};
	struct fx *t = *state;
	char msg[128];
	size_t i;

	in_nodes(t, 16);
	msgpack_sbuffer_write(&t->exp, t->in.data, t->in.size);
	expect_canon(t, "case", "share_with");
	in_nodes(t, 17);
	expect_err(t, "case", "share_with", JALIN_ESCHEMA,
	    "case.share_with: 17 items exceeds the limit of 16");
	for (i = 0; i < ARRAY_LEN(good); i++) {
		reset(t);
		msgpack_pack_array(&t->ip, 1);
		pk_cstr(&t->ip, good[i]);
		msgpack_sbuffer_write(&t->exp, t->in.data, t->in.size);
		expect_canon(t, "referral", "share_with");
		ok_str(t, "lks", "origin_node", good[i]);
	}
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		reset(t);
		msgpack_pack_array(&t->ip, 2);
		pk_cstr(&t->ip, "jabar");
		pk_cstr(&t->ip, bad[i]);
		snprintf(msg, sizeof(msg),
		    "case.share_with[1]: %s%s%s is not a node name "
		    "([a-z0-9][a-z0-9_-]*)",
		    i < 6 ? "'" : "", i < 6 ? bad[i] : "value",
		    i < 6 ? "'" : "");
		expect_err(t, "case", "share_with", JALIN_ESCHEMA, msg);
	}
}

static void
test_list_shapes(void **state)
{
	struct fx *t = *state;

	bad_str(t, "lks", "origin_node", "Jabar",
	    "lks.origin_node: 'Jabar' is not a node name ([a-z0-9][a-z0-9_-]*)");
	/* nil inside a list */
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_nil(&t->ip);
	expect_err(t, "case", "share_with", JALIN_ESCHEMA,
	    "case.share_with[0]: nil is not allowed here");
	/* array16 header for one item becomes a fixarray */
	in_raw(t, "\xdc\x00\x01\xa5jabar", 9);
	msgpack_sbuffer_write(&t->exp, "\x91\xa5jabar", 7);
	expect_canon(t, "case", "share_with");
	in_raw(t, "\x90", 1);
	msgpack_sbuffer_write(&t->exp, "\x90", 1);
	expect_canon(t, "case", "share_with");
	bad_str(t, "case", "share_with", "jabar",
	    "case.share_with: expected an array, got a string");
}

static void
test_list_items(void **state)
{
	struct fx *t = *state;
	size_t i;

	reset(t);
	msgpack_pack_array(&t->ip, 2);
	pk_cstr(&t->ip, "mental");
	pk_cstr(&t->ip, "physical");
	msgpack_sbuffer_write(&t->exp, t->in.data, t->in.size);
	expect_canon(t, "case", "disability_types");
	reset(t);
	msgpack_pack_array(&t->ip, 5);
	for (i = 0; i < 5; i++)
		pk_cstr(&t->ip, "mental");
	expect_err(t, "case", "disability_types", JALIN_ESCHEMA,
	    "case.disability_types: 5 items exceeds the limit of 4");
	reset(t);
	msgpack_pack_array(&t->ip, 2);
	pk_cstr(&t->ip, "mental");
	pk_cstr(&t->ip, "deaf");
	expect_err(t, "case", "disability_types", JALIN_ESCHEMA,
	    "case.disability_types[1]: value is not one of physical, "
	    "intellectual, mental, sensory");
	reset(t);
	msgpack_pack_array(&t->ip, 2);
	pk_cstr(&t->ip, "32.73");
	pk_cstr(&t->ip, "32.70");
	expect_err(t, "partnership", "coverage", JALIN_ESCHEMA,
	    "partnership.coverage[1]: '32.70' is not a region code: kab/kota "
	    "part must be 01-69 (kabupaten) or 71-99 (kota)");
	reset(t);
	msgpack_pack_array(&t->ip, 10);
	for (i = 0; i < 10; i++)
		pk_cstr(&t->ip, i < 7 ? "therapy" : "shelter");
	msgpack_sbuffer_write(&t->exp, t->in.data, t->in.size);
	expect_canon(t, "referral", "services_requested");
}

/* {"unit": uuid text, "role": role} in that (non-canonical) order */
static void
pk_party(msgpack_packer *pk, const char *unit, const char *role)
{
	msgpack_pack_map(pk, 2);
	pk_cstr(pk, "unit");
	pk_cstr(pk, unit);
	pk_cstr(pk, "role");
	pk_cstr(pk, role);
}

static void
test_object(void **state)
{
	struct fx *t = *state;

	/* keys come out sorted by encoded bytes, uuid text as bin 16 */
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	pk_party(&t->ip, UUID_UPPER, "first");
	msgpack_pack_array(&t->ep, 1);
	msgpack_pack_map(&t->ep, 2);
	pk_cstr(&t->ep, "role");
	pk_cstr(&t->ep, "first");
	pk_cstr(&t->ep, "unit");
	pk_bin(&t->ep, uuid_bin, 16);
	expect_canon(t, "partnership", "parties");
	/* shorter keys first: no, date, hash */
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_map(&t->ip, 3);
	pk_cstr(&t->ip, "hash");
	pk_cstr(&t->ip, HASH_UPPER);
	pk_cstr(&t->ip, "date");
	pk_cstr(&t->ip, "2024-03-01");
	pk_cstr(&t->ip, "no");
	pk_cstr(&t->ip, "01/ADD/2024");
	msgpack_pack_array(&t->ep, 1);
	msgpack_pack_map(&t->ep, 3);
	pk_cstr(&t->ep, "no");
	pk_cstr(&t->ep, "01/ADD/2024");
	pk_cstr(&t->ep, "date");
	pk_cstr(&t->ep, "2024-03-01");
	pk_cstr(&t->ep, "hash");
	pk_bin(&t->ep, hash_bin, 32);
	expect_canon(t, "partnership", "amendments");
	/* a key in a non-minimal str8 encoding is written as fixstr */
	in_raw(t, "\x91\x81\xd9\x04unit\xc4\x10", 10);
	msgpack_sbuffer_write(&t->in, (const char *)uuid_bin, 16);
	msgpack_sbuffer_write(&t->exp, "\x91\x81\xa4unit\xc4\x10", 9);
	msgpack_sbuffer_write(&t->exp, (const char *)uuid_bin, 16);
	expect_canon(t, "partnership", "parties");
	/* every key may be left out */
	in_raw(t, "\x91\x80", 2);
	msgpack_sbuffer_write(&t->exp, "\x91\x80", 2);
	expect_canon(t, "partnership", "parties");
}

static void
test_object_errors(void **state)
{
	struct fx *t = *state;

	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_map(&t->ip, 1);
	pk_cstr(&t->ip, "foo");
	pk_cstr(&t->ip, "x");
	expect_err(t, "partnership", "parties", JALIN_ESCHEMA,
	    "partnership.parties[0]: key 'foo' is not a field of this item");
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_map(&t->ip, 3);
	pk_cstr(&t->ip, "unit");
	pk_cstr(&t->ip, UUID_LOWER);
	pk_cstr(&t->ip, "role");
	pk_cstr(&t->ip, "first");
	pk_cstr(&t->ip, "unit");
	pk_cstr(&t->ip, UUID_LOWER);
	expect_err(t, "partnership", "parties", JALIN_ESCHEMA,
	    "partnership.parties[0]: key 'unit' appears twice");
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_map(&t->ip, 1);
	pk_cstr(&t->ip, "unit");
	msgpack_pack_nil(&t->ip);
	expect_err(t, "partnership", "parties", JALIN_ESCHEMA,
	    "partnership.parties[0].unit: nil is not allowed here");
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_map(&t->ip, 1);
	msgpack_pack_int(&t->ip, 1);
	pk_cstr(&t->ip, "x");
	expect_err(t, "partnership", "parties", JALIN_ESCHEMA,
	    "partnership.parties[0]: key of entry 0: expected a string, got "
	    "an integer");
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_array(&t->ip, 0);
	expect_err(t, "partnership", "parties", JALIN_ESCHEMA,
	    "partnership.parties[0]: expected a map, got an array");
}

static void
test_object_items(void **state)
{
	struct fx *t = *state;
	size_t i;

	reset(t);
	msgpack_pack_array(&t->ip, 3);
	pk_party(&t->ip, UUID_LOWER, "first");
	pk_party(&t->ip, UUID_LOWER, "second");
	pk_party(&t->ip, "x", "third");
	expect_err(t, "partnership", "parties", JALIN_ESCHEMA,
	    "partnership.parties[2].unit: 'x' is not a UUID");
	reset(t);
	msgpack_pack_array(&t->ip, 2);
	pk_party(&t->ip, UUID_LOWER, "first");
	pk_party(&t->ip, UUID_LOWER, "fourth");
	expect_err(t, "partnership", "parties", JALIN_ESCHEMA,
	    "partnership.parties[1].role: 'fourth' is not one of first, "
	    "second, third");
	/* item count at the limit and past it */
	reset(t);
	msgpack_pack_array(&t->ip, 16);
	for (i = 0; i < 16; i++)
		pk_party(&t->ip, UUID_LOWER, "third");
	assert_int_equal(co(t, "partnership", "parties"), 0);
	reset(t);
	msgpack_pack_array(&t->ip, 17);
	for (i = 0; i < 17; i++)
		pk_party(&t->ip, UUID_LOWER, "third");
	expect_err(t, "partnership", "parties", JALIN_ESCHEMA,
	    "partnership.parties: 17 items exceeds the limit of 16");
}

/* case.monitoring with n items whose notes are note_len bytes */
static void
in_monitoring(struct fx *t, size_t n, size_t note_len)
{
	char note[1100];
	size_t i;

	memset(note, 'n', sizeof(note));
	reset(t);
	msgpack_pack_array(&t->ip, n);
	for (i = 0; i < n; i++) {
		msgpack_pack_map(&t->ip, 3);
		pk_cstr(&t->ip, "note");
		msgpack_pack_str_with_body(&t->ip, note, note_len);
		pk_cstr(&t->ip, "by");
		pk_cstr(&t->ip, "peksos.budi");
		pk_cstr(&t->ip, "date");
		pk_cstr(&t->ip, "2024-05-01");
	}
}

static void
test_object_limits(void **state)
{
	struct fx *t = *state;
	char long_name[129];

	memset(long_name, 'b', sizeof(long_name));

	/* the largest valid monitoring list still fits JALIN_VALUE_MAX */
	in_monitoring(t, 48, 1024);
	assert_int_equal(co(t, "case", "monitoring"), 0);
	assert_true(t->out.size <= JALIN_VALUE_MAX);
	in_monitoring(t, 49, 1);
	expect_err(t, "case", "monitoring", JALIN_ESCHEMA,
	    "case.monitoring: 49 items exceeds the limit of 48");
	in_monitoring(t, 2, 1025);
	expect_err(t, "case", "monitoring", JALIN_ESCHEMA,
	    "case.monitoring[0].note: 1025 bytes exceeds the limit of 1024");
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_map(&t->ip, 2);
	pk_cstr(&t->ip, "position");
	pk_cstr(&t->ip, "Kepala Dinas Sosial");
	pk_cstr(&t->ip, "name");
	msgpack_pack_str_with_body(&t->ip, long_name, 129);
	expect_err(t, "partnership", "signatories", JALIN_ESCHEMA,
	    "partnership.signatories[0].name: 129 bytes exceeds the limit of "
	    "128");
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_map(&t->ip, 2);
	pk_cstr(&t->ip, "component");
	pk_cstr(&t->ip, "therapy");
	pk_cstr(&t->ip, "qty");
	msgpack_pack_int(&t->ip, 1000001);
	expect_err(t, "case", "services", JALIN_ESCHEMA,
	    "case.services[0].qty: value is out of range 0..1000000");
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_map(&t->ip, 1);
	pk_cstr(&t->ip, "size");
	msgpack_pack_int64(&t->ip, INT64_MAX);
	msgpack_sbuffer_write(&t->exp, t->in.data, t->in.size);
	expect_canon(t, "case", "attachments");
}

static void
pk_score(msgpack_packer *pk, const char *k, int v)
{
	pk_cstr(pk, k);
	msgpack_pack_int(pk, v);
}

static void
test_map(void **state)
{
	struct fx *t = *state;

	reset(t);
	msgpack_pack_map(&t->ip, 3);
	pk_score(&t->ip, "housing", 3);
	pk_score(&t->ip, "food", 5);
	pk_score(&t->ip, "clothing", 1);
	msgpack_pack_map(&t->ep, 3);
	pk_score(&t->ep, "food", 5);
	pk_score(&t->ep, "housing", 3);
	pk_score(&t->ep, "clothing", 1);
	expect_canon(t, "case", "assessment.scores");
	reset(t);
	msgpack_pack_map(&t->ip, 2);
	pk_score(&t->ip, "housing", 3);
	pk_score(&t->ip, "food", 6);
	expect_err(t, "case", "assessment.scores", JALIN_ESCHEMA,
	    "case.assessment.scores[1]: value is out of range 1..5");
	reset(t);
	msgpack_pack_map(&t->ip, 1);
	pk_score(&t->ip, "food", 0);
	expect_err(t, "case", "assessment.scores", JALIN_ESCHEMA,
	    "case.assessment.scores[0]: value is out of range 1..5");
}

static void
test_map_limits(void **state)
{
	struct fx *t = *state;
	char key[80];
	size_t i;

	/* 64 keys, then 65 */
	for (size_t n = 64; n <= 65; n++) {
		reset(t);
		msgpack_pack_map(&t->ip, n);
		for (i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "aspect%02zu", i);
			pk_score(&t->ip, key, 2);
		}
		if (n == 64)
			assert_int_equal(co(t, "case", "assessment.scores"), 0);
		else
			expect_err(t, "case", "assessment.scores",
			    JALIN_ESCHEMA,
			    "case.assessment.scores: 65 keys exceeds the limit "
			    "of 64");
	}
	/* key of 64 bytes, then 65 */
	memset(key, 'k', sizeof(key));
	reset(t);
	msgpack_pack_map(&t->ip, 1);
	msgpack_pack_str_with_body(&t->ip, key, 64);
	msgpack_pack_int(&t->ip, 3);
	msgpack_sbuffer_write(&t->exp, t->in.data, t->in.size);
	expect_canon(t, "case", "assessment.scores");
	reset(t);
	msgpack_pack_map(&t->ip, 1);
	msgpack_pack_str_with_body(&t->ip, key, 65);
	msgpack_pack_int(&t->ip, 3);
	expect_err(t, "case", "assessment.scores", JALIN_ESCHEMA,
	    "case.assessment.scores: key of entry 0: 65 bytes exceeds the "
	    "limit of 64");
}

static void
test_map_errors(void **state)
{
	struct fx *t = *state;

	reset(t);
	msgpack_pack_map(&t->ip, 1);
	pk_score(&t->ip, "", 3);
	expect_err(t, "case", "assessment.scores", JALIN_ESCHEMA,
	    "case.assessment.scores: key of entry 0 is empty");
	reset(t);
	msgpack_pack_map(&t->ip, 1);
	pk_score(&t->ip, "f\xc0\x80", 3);
	expect_err(t, "case", "assessment.scores", JALIN_ESCHEMA,
	    "case.assessment.scores: key of entry 0 is not valid UTF-8");
	reset(t);
	msgpack_pack_map(&t->ip, 3);
	pk_score(&t->ip, "food", 1);
	pk_score(&t->ip, "x", 2);
	pk_score(&t->ip, "food", 3);
	expect_err(t, "case", "assessment.scores", JALIN_ESCHEMA,
	    "case.assessment.scores: key of entry 2 appears twice");
	reset(t);
	msgpack_pack_map(&t->ip, 1);
	msgpack_pack_int(&t->ip, 1);
	msgpack_pack_int(&t->ip, 1);
	expect_err(t, "case", "assessment.scores", JALIN_ESCHEMA,
	    "case.assessment.scores: key of entry 0: expected a string, got "
	    "an integer");
	bad_str(t, "case", "assessment.scores", "food=5",
	    "case.assessment.scores: expected a map, got a string");
}

static void
test_map_enum_keys(void **state)
{
	struct fx *t = *state;

	reset(t);
	msgpack_pack_map(&t->ip, 2);
	pk_score(&t->ip, "draft", 1000);
	pk_score(&t->ip, "sent", 2000);
	msgpack_pack_map(&t->ep, 2);
	pk_score(&t->ep, "sent", 2000);
	pk_score(&t->ep, "draft", 1000);
	expect_canon(t, "referral", "status_at");
	reset(t);
	msgpack_pack_map(&t->ip, 1);
	pk_score(&t->ip, "lost", 1);
	expect_err(t, "referral", "status_at", JALIN_ESCHEMA,
	    "referral.status_at: key of entry 0 is not one of draft, sent, "
	    "received, accepted, rejected, in_service, completed, returned, "
	    "cancelled");
	reset(t);
	msgpack_pack_map(&t->ip, 1);
	pk_score(&t->ip, "sent", -1);
	expect_err(t, "referral", "status_at", JALIN_ESCHEMA,
	    "referral.status_at[sent]: value is negative");
	reset(t);
	msgpack_pack_map(&t->ip, 2);
	pk_score(&t->ip, "sent", 1);
	pk_score(&t->ip, "sent", 2);
	expect_err(t, "referral", "status_at", JALIN_ESCHEMA,
	    "referral.status_at: key 'sent' appears twice");
}

/* ---- privacy of messages ----------------------------------------------- */

/* Coerce must fail with msg, and msg must not contain secret. */
static void
expect_hidden(struct fx *t, const char *cname, const char *fname,
    const char *secret, const char *msg)
{
	expect_err(t, cname, fname, JALIN_ESCHEMA, msg);
	if (strstr(t->err.msg, secret) != NULL)
		fail_msg(
		    "%s.%s echoes '%s': %s", cname, fname, secret, t->err.msg);
}

/* [{key: val}] */
static void
in_item(struct fx *t, const char *key, const char *val)
{
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_map(&t->ip, 1);
	pk_cstr(&t->ip, key);
	pk_cstr(&t->ip, val);
}

static void
test_sensitive_not_echoed(void **state)
{
	struct fx *t = *state;

	ok_str(t, "case", "nik", "3273011203850004");
	in_str(t, "32730112038500041");
	expect_hidden(t, "case", "nik", "3273",
	    "case.nik: 17 bytes exceeds the limit of 16");
	in_str(t, "Budi");
	expect_hidden(t, "case", "pasung.status", "Budi",
	    "case.pasung.status: value is not one of restrained, released, "
	    "re_restrained, confined");
	in_str(t, "Ibu Siti");
	expect_hidden(t, "case", "guardian.relation", "Siti",
	    "case.guardian.relation: value is not one of parent, spouse, "
	    "child, sibling, grandparent, other_relative, legal_guardian, "
	    "other");
	in_str(t, "Siti 1990-02-30");
	expect_hidden(t, "case", "pasung.release_date", "Siti",
	    "case.pasung.release_date: value is not a valid date (YYYY-MM-DD)");
	bad_int(t, "case", "pasung.prior_episodes", -7,
	    "case.pasung.prior_episodes: value is out of range 0..1000");
	reset(t);
	msgpack_pack_int(&t->ip, 81234567);
	expect_hidden(t, "case", "phone", "8123",
	    "case.phone: expected a string, got an integer");
	in_str(t, "Budi");
	expect_hidden(t, "case", "nik_token", "Budi",
	    "case.nik_token: value is not a SHA-256 hash (64 hex characters)");
	/* an N field of a SCOPED collection may quote it */
	bad_str(t, "referral", "case_id", "Budi",
	    "referral.case_id: 'Budi' is not a UUID");
}

static void
test_sensitive_items(void **state)
{
	struct fx *t = *state;

	in_item(t, "Budi", "x");
	expect_hidden(t, "case", "consent", "Budi",
	    "case.consent[0]: key of entry 0 is not a field of this item");
	in_item(t, "by", "Budi");
	expect_hidden(t, "case", "consent", "Budi",
	    "case.consent[0].by: value is not one of subject, guardian, both");
	in_item(t, "kind", "Budi");
	expect_hidden(t, "case", "attachments", "Budi",
	    "case.attachments[0].kind: value is not one of ktp, kk, kis, "
	    "medical_letter, cover_letter, handover, photo, other");
	reset(t);
	msgpack_pack_map(&t->ip, 1);
	pk_score(&t->ip, "Budi Santoso", 9);
	expect_hidden(t, "case", "assessment.scores", "Budi",
	    "case.assessment.scores[0]: value is out of range 1..5");
	reset(t);
	msgpack_pack_map(&t->ip, 1);
	pk_score(&t->ip, "Budi", 9);
	expect_hidden(t, "referral", "status_at", "Budi",
	    "referral.status_at: key of entry 0 is not one of draft, sent, "
	    "received, accepted, rejected, in_service, completed, returned, "
	    "cancelled");
	/* U data may be quoted when short; long values never are */
	bad_str(t, "case", "sex", "x", "case.sex: 'x' is not one of m, f");
	in_fill(t, 'z', 41);
	expect_err(t, "lks", "status", JALIN_ESCHEMA,
	    "lks.status: value is not one of active, inactive, suspended, "
	    "revoked");
	bad_str(t, "lks", "status", "it's",
	    "lks.status: value is not one of active, inactive, suspended, "
	    "revoked");
}

/* ---- wrong shapes and broken input ------------------------------------- */

static void
test_other_types(void **state)
{
	struct fx *t = *state;

	reset(t);
	msgpack_pack_double(&t->ip, 3.5);
	expect_err(t, "lks", "name", JALIN_ESCHEMA,
	    "lks.name: expected a string, got a float");
	reset(t);
	msgpack_pack_ext(&t->ip, 1, 5);
	msgpack_pack_ext_body(&t->ip, "x", 1);
	expect_err(t, "lks", "name", JALIN_ESCHEMA,
	    "lks.name: expected a string, got an extension value");
	reset(t);
	pk_bin(&t->ip, "abc", 3);
	expect_err(t, "lks", "name", JALIN_ESCHEMA,
	    "lks.name: expected a string, got binary data");
	reset(t);
	msgpack_pack_nil(&t->ip);
	expect_err(t, "case", "status", JALIN_ESCHEMA,
	    "case.status: nil is not allowed here");
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_double(&t->ip, 1.5);
	expect_err(t, "partnership", "resources", JALIN_ESCHEMA,
	    "partnership.resources[0]: expected a UUID, got a float");
}

static void
test_malformed(void **state)
{
	struct fx *t = *state;

	in_raw(t,
	    "\xa5"
	    "ab",
	    3);
	expect_err(t, "lks", "name", JALIN_EPROTO,
	    "lks.name: value is not well-formed msgpack");
	in_raw(t, "\xc1", 1);
	expect_err(t, "lks", "name", JALIN_EPROTO,
	    "lks.name: value is not well-formed msgpack");
	/* a huge declared count is refused before anything is read */
	in_raw(t, "\xdd\xff\xff\xff\xff", 5);
	expect_err(t, "case", "share_with", JALIN_EPROTO,
	    "case.share_with: value is not well-formed msgpack");
	in_raw(t,
	    "\xdf\x00\x00\x00\x02\xa1"
	    "a",
	    7);
	expect_err(t, "case", "assessment.scores", JALIN_EPROTO,
	    "case.assessment.scores: value is not well-formed msgpack");
	in_raw(t, "\x91\x81\xa4unit\xc4\x10\x01\x02", 11);
	expect_err(t, "partnership", "parties", JALIN_EPROTO,
	    "partnership.parties[0]: value is not well-formed msgpack");
	in_raw(t,
	    "\xa1"
	    "a\xa1"
	    "b",
	    4);
	expect_err(t, "lks", "name", JALIN_EPROTO,
	    "lks.name: 2 more bytes after the value");
	reset(t);
	t->rc = schema_coerce(
	    coll("lks"), field("lks", "name"), "", 0, &t->op, &t->err);
	assert_int_equal(t->rc, JALIN_EPROTO);
	assert_string_equal(
	    t->err.msg, "lks.name: value is not well-formed msgpack");
	assert_int_equal(
	    schema_coerce(NULL, field("lks", "name"), "\xa0", 1, &t->op, NULL),
	    JALIN_EINVAL);
	assert_int_equal(
	    schema_coerce(coll("lks"), NULL, "\xa0", 1, &t->op, NULL),
	    JALIN_EINVAL);
}

/* Nothing reaches the caller's packer unless the whole value is good. */
static void
test_output_on_success_only(void **state)
{
	struct fx *t = *state;
	msgpack_packer pk;
	struct buf b;
	int rc;

	reset(t);
	msgpack_sbuffer_write(&t->out, "X", 1);
	msgpack_pack_array(&t->ip, 2);
	pk_cstr(&t->ip, "jabar");
	pk_cstr(&t->ip, "Banten");
	rc = schema_coerce(coll("case"), field("case", "share_with"),
	    t->in.data, t->in.size, &t->op, &t->err);
	assert_int_equal(rc, JALIN_ESCHEMA);
	assert_int_equal(t->out.size, 1);
	/* a packer that refuses the bytes */
	buf_init(&b, 4);
	msgpack_packer_init(&pk, &b, buf_pk_write);
	in_str(t, "abcdef");
	rc = schema_coerce(coll("lks"), field("lks", "name"), t->in.data,
	    t->in.size, &pk, &t->err);
	assert_int_equal(rc, JALIN_ETOOBIG);
	assert_string_equal(
	    t->err.msg, "lks.name: the output refused a value of 7 bytes");
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* ---- schema_display ---------------------------------------------------- */

/* coerce(t->in) then display(out) must give t->in back, byte for byte */
static void
round_trip(struct fx *t, const char *cname, const char *fname)
{
	msgpack_sbuffer disp;
	msgpack_packer dp;

	if (co(t, cname, fname) != 0)
		fail_msg("%s.%s: %s", cname, fname, t->err.msg);
	msgpack_sbuffer_init(&disp);
	msgpack_packer_init(&dp, &disp, msgpack_sbuffer_write);
	assert_int_equal(
	    schema_display(field(cname, fname), t->out.data, t->out.size, &dp),
	    0);
	assert_int_equal(disp.size, t->in.size);
	assert_memory_equal(disp.data, t->in.data, t->in.size);
	msgpack_sbuffer_destroy(&disp);
}

static void
test_display_round_trip(void **state)
{
	struct fx *t = *state;

	in_str(t, UUID_LOWER);
	round_trip(t, "partnership", "parent_id");
	in_str(t, HASH_LOWER);
	round_trip(t, "case", "nik_token");
	in_str(t, "Yayasan Bina Insani");
	round_trip(t, "lks", "name");
	in_str(t, "32.73.01.1001");
	round_trip(t, "lks", "region_code");
	reset(t);
	msgpack_pack_int(&t->ip, 7);
	round_trip(t, "lks", "staff.total");
	reset(t);
	msgpack_pack_true(&t->ip);
	round_trip(t, "case", "is_child");
}

static void
test_display_round_trip_items(void **state)
{
	struct fx *t = *state;

	/* objects in canonical key order, with uuid / hash text inside */
	reset(t);
	msgpack_pack_array(&t->ip, 2);
	msgpack_pack_map(&t->ip, 2);
	pk_cstr(&t->ip, "role");
	pk_cstr(&t->ip, "first");
	pk_cstr(&t->ip, "unit");
	pk_cstr(&t->ip, UUID_LOWER);
	msgpack_pack_map(&t->ip, 0);
	round_trip(t, "partnership", "parties");
	reset(t);
	msgpack_pack_array(&t->ip, 1);
	msgpack_pack_map(&t->ip, 6);
	pk_cstr(&t->ip, "by");
	pk_cstr(&t->ip, "guardian");
	pk_cstr(&t->ip, "date");
	pk_cstr(&t->ip, "2024-01-02");
	pk_cstr(&t->ip, "scope");
	pk_cstr(&t->ip, "referral");
	pk_cstr(&t->ip, "method");
	pk_cstr(&t->ip, "recorded");
	pk_cstr(&t->ip, "evidence");
	pk_cstr(&t->ip, HASH_LOWER);
	pk_cstr(&t->ip, "withdrawn_at");
	msgpack_pack_int64(&t->ip, 1700000000000);
	round_trip(t, "case", "consent");
	reset(t);
	msgpack_pack_map(&t->ip, 2);
	pk_score(&t->ip, "food", 5);
	pk_score(&t->ip, "housing", 3);
	round_trip(t, "case", "assessment.scores");
	reset(t);
	msgpack_pack_map(&t->ip, 2);
	pk_score(&t->ip, "sent", 2);
	pk_score(&t->ip, "draft", 1);
	round_trip(t, "referral", "status_at");
	reset(t);
	msgpack_pack_array(&t->ip, 2);
	pk_cstr(&t->ip, UUID_LOWER);
	pk_cstr(&t->ip, "ffffffff-ffff-7fff-bfff-ffffffffffff");
	round_trip(t, "partnership", "resources");
}

static int
display(struct fx *t, const struct schema_field *f)
{
	msgpack_sbuffer_clear(&t->out);
	return schema_display(f, t->in.data, t->in.size, &t->op);
}

static void
test_display(void **state)
{
	struct fx *t = *state;

	/* upper-case text is stored as bytes and shown in lower case */
	in_str(t, UUID_UPPER);
	assert_int_equal(co(t, "partnership", "parent_id"), 0);
	msgpack_sbuffer_clear(&t->in);
	msgpack_sbuffer_write(&t->in, t->out.data, t->out.size);
	assert_int_equal(display(t, field("partnership", "parent_id")), 0);
	pk_cstr(&t->ep, UUID_LOWER);
	assert_int_equal(t->out.size, t->exp.size);
	assert_memory_equal(t->out.data, t->exp.data, t->exp.size);
}

static void
test_display_unknown(void **state)
{
	struct fx *t = *state;
	uint8_t big[300];
	size_t i;

	/* unknown field: copied, bin as hex, floats and ext kept */
	reset(t);
	msgpack_pack_map(&t->ip, 2);
	pk_cstr(&t->ip, "a");
	pk_bin(&t->ip, "\x01\x02\xff", 3);
	pk_cstr(&t->ip, "b");
	msgpack_pack_array(&t->ip, 7);
	msgpack_pack_int(&t->ip, 1);
	msgpack_pack_int(&t->ip, -2);
	pk_cstr(&t->ip, "x");
	msgpack_pack_true(&t->ip);
	msgpack_pack_nil(&t->ip);
	msgpack_pack_double(&t->ip, 1.5);
	msgpack_pack_ext(&t->ip, 1, 9);
	msgpack_pack_ext_body(&t->ip, "e", 1);
	msgpack_pack_map(&t->ep, 2);
	pk_cstr(&t->ep, "a");
	pk_cstr(&t->ep, "0102ff");
	pk_cstr(&t->ep, "b");
	/* the array after "a", its 3-byte bin and "b" is copied as is */
	msgpack_sbuffer_write(&t->exp, t->in.data + 10, t->in.size - 10);
	assert_int_equal(display(t, NULL), 0);
	assert_int_equal(t->out.size, t->exp.size);
	assert_memory_equal(t->out.data, t->exp.data, t->exp.size);
	/* a uuid field holding 15 bytes is shown as hex, not as a uuid */
	reset(t);
	pk_bin(&t->ip, uuid_bin, 15);
	assert_int_equal(display(t, field("case", "handling_unit")), 0);
	pk_cstr(&t->ep, "0190f3a45b6c7d8e9f0123456789ab");
	assert_int_equal(t->out.size, t->exp.size);
	assert_memory_equal(t->out.data, t->exp.data, t->exp.size);
	/* hex of a large bin, over several internal chunks */
	reset(t);
	memset(big, 0xab, sizeof(big));
	pk_bin(&t->ip, big, sizeof(big));
	assert_int_equal(display(t, NULL), 0);
	assert_int_equal(t->out.size, 3 + 600);
	for (i = 3; i < t->out.size; i++)
		assert_int_equal(t->out.data[i], i % 2 ? 'a' : 'b');
}

static void
test_display_corrupt(void **state)
{
	struct fx *t = *state;
	char deep[32];
	msgpack_packer pk;
	struct buf b;

	in_raw(t,
	    "\xa5"
	    "ab",
	    3);
	assert_int_equal(display(t, NULL), JALIN_ECORRUPT);
	assert_int_equal(t->out.size, 0);
	in_raw(t,
	    "\xa1"
	    "a\xc0",
	    3);
	assert_int_equal(display(t, NULL), JALIN_ECORRUPT);
	assert_int_equal(t->out.size, 0);
	in_raw(t,
	    "\x92\xa1"
	    "a\xc1",
	    4);
	assert_int_equal(
	    display(t, field("case", "share_with")), JALIN_ECORRUPT);
	assert_int_equal(t->out.size, 0);
	assert_int_equal(schema_display(NULL, "", 0, &t->op), JALIN_ECORRUPT);
	/* 16 nested arrays are fine, 17 are not */
	memset(deep, 0x91, sizeof(deep));
	deep[15] = (char)0x90;
	in_raw(t, deep, 16);
	assert_int_equal(display(t, NULL), 0);
	deep[15] = (char)0x91;
	deep[16] = (char)0x90;
	in_raw(t, deep, 17);
	assert_int_equal(display(t, NULL), JALIN_ECORRUPT);
	/* a packer that refuses the bytes */
	buf_init(&b, 4);
	msgpack_packer_init(&pk, &b, buf_pk_write);
	in_raw(t,
	    "\xa6"
	    "abcdef",
	    7);
	assert_int_equal(
	    schema_display(NULL, t->in.data, t->in.size, &pk), JALIN_ETOOBIG);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* ---- schema_check_record ----------------------------------------------- */

/* The live fields of one record, each value packed by msgpack-c. */
struct kvs {
	const struct schema_coll *c;
	size_t n;
	uint16_t tag[24];
	msgpack_sbuffer sb[24];
	struct schema_kv kv[24];
	struct jalin_err err;
};

static void
kvs_init(struct kvs *k, const char *cname)
{
	memset(k, 0, sizeof(*k));
	k->c = coll(cname);
}

static void
kvs_free(struct kvs *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		msgpack_sbuffer_destroy(&k->sb[i]);
	k->n = 0;
}

static msgpack_packer
kv_new(struct kvs *k, const char *fname)
{
	msgpack_packer pk;

	assert_true(k->n < ARRAY_LEN(k->sb));
	k->tag[k->n] = field(k->c->name, fname)->tag;
	msgpack_sbuffer_init(&k->sb[k->n]);
	msgpack_packer_init(&pk, &k->sb[k->n], msgpack_sbuffer_write);
	k->n++;
	return pk;
}

static void
kv_str(struct kvs *k, const char *fname, const char *s)
{
	msgpack_packer pk = kv_new(k, fname);

	pk_cstr(&pk, s);
}

static void
kv_bin(struct kvs *k, const char *fname, size_t n)
{
	msgpack_packer pk = kv_new(k, fname);

	pk_bin(&pk, hash_bin, n);
}

/* Forget the last value added for fname. */
static void
kv_drop(struct kvs *k, const char *fname)
{
	uint16_t tag = field(k->c->name, fname)->tag;
	size_t i;

	for (i = k->n; i-- > 0;)
		if (k->tag[i] == tag) {
			msgpack_sbuffer_destroy(&k->sb[i]);
			k->n--;
			memmove(&k->tag[i], &k->tag[i + 1],
			    (k->n - i) * sizeof(k->tag[0]));
			memmove(&k->sb[i], &k->sb[i + 1],
			    (k->n - i) * sizeof(k->sb[0]));
			return;
		}
	fail_msg("no %s to drop", fname);
}

static int
kv_cmp(const void *a, const void *b)
{
	const struct schema_kv *x = a, *y = b;

	return (int)x->tag - (int)y->tag;
}

/* schema_check_record on the fields, sorted by tag as the store keeps them */
static int
check(struct kvs *k, bool creating)
{
	size_t i;

	for (i = 0; i < k->n; i++) {
		k->kv[i].tag = k->tag[i];
		k->kv[i].val = (const uint8_t *)k->sb[i].data;
		k->kv[i].len = (uint32_t)k->sb[i].size;
	}
	qsort(k->kv, k->n, sizeof(k->kv[0]), kv_cmp);
	jalin_err_clear(&k->err);
	return schema_check_record(k->c, k->kv, k->n, creating, &k->err);
}

static void
check_fails(struct kvs *k, bool creating, int code, const char *msg)
{
	int rc = check(k, creating);

	if (rc != code || strcmp(k->err.msg, msg) != 0)
		fail_msg(
		    "got %d '%s', want %d '%s'", rc, k->err.msg, code, msg);
}

static void
test_required(void **state)
{
	static const char *const req[] = {
	    "controller", "legal_basis", "status", "cluster"};
	char msg[96];
	struct kvs k;
	size_t i, j;

	(void)state;
	for (i = 0; i <= ARRAY_LEN(req); i++) {
		kvs_init(&k, "case");
		kv_str(&k, "full_name", "Budi");
		for (j = 0; j < ARRAY_LEN(req); j++) {
			if (j == i)
				continue;
			if (j == 0)
				kv_bin(&k, req[j], 16);
			else
				kv_str(&k, req[j],
				    j == 1
				        ? "consent"
				        : (j == 2 ? "intake" : "disability"));
		}
		if (i == ARRAY_LEN(req)) {
			assert_int_equal(check(&k, true), 0);
		} else {
			snprintf(msg, sizeof(msg),
			    "case: required field '%s' is missing", req[i]);
			check_fails(&k, true, JALIN_ESCHEMA, msg);
			/* an update may leave it out */
			assert_int_equal(check(&k, false), 0);
		}
		kvs_free(&k);
	}
}

static void
test_required_others(void **state)
{
	struct kvs k;

	(void)state;
	kvs_init(&k, "lks");
	kv_str(&k, "name", "Yayasan Bina Insani");
	kv_str(&k, "status", "active");
	check_fails(&k, true, JALIN_ESCHEMA,
	    "lks: required field 'legal_form' is missing");
	kv_str(&k, "legal_form", "yayasan");
	assert_int_equal(check(&k, true), 0);
	kvs_free(&k);
	kvs_init(&k, "resource");
	check_fails(&k, true, JALIN_ESCHEMA,
	    "resource: required field 'owner_unit' is missing");
	assert_int_equal(check(&k, false), 0);
	kvs_free(&k);
	kvs_init(&k, "partnership");
	kv_str(&k, "agreement_type", "pks");
	kv_str(&k, "status", "draft");
	check_fails(&k, true, JALIN_ESCHEMA,
	    "partnership: required field 'title' is missing");
	kvs_free(&k);
	assert_int_equal(
	    schema_check_record(NULL, NULL, 0, true, NULL), JALIN_EINVAL);
}

static void
referral_base(struct kvs *k, const char *legal_basis)
{
	kvs_init(k, "referral");
	kv_bin(k, "case_id", 16);
	kv_bin(k, "from_unit", 16);
	kv_bin(k, "to_unit", 16);
	kv_str(k, "to_kind", "lks");
	kv_str(k, "urgency", "urgent");
	kv_str(k, "status", "sent");
	if (legal_basis != NULL)
		kv_str(k, "legal_basis", legal_basis);
}

static void
test_referral_consent(void **state)
{
	static const char *const need[] = {
	    "consent", "contract", "legal_obligation", "legitimate_interest"};
	static const char *const msg =
	    "referral.consent_ref: required unless legal_basis is "
	    "vital_interest or public_task";
	struct kvs k;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(need); i++) {
		referral_base(&k, need[i]);
		check_fails(&k, true, JALIN_ESCHEMA, msg);
		check_fails(&k, false, JALIN_ESCHEMA, msg);
		kv_bin(&k, "consent_ref", 32);
		assert_int_equal(check(&k, true), 0);
		kvs_free(&k);
	}
	referral_base(&k, "vital_interest");
	assert_int_equal(check(&k, true), 0);
	kvs_free(&k);
	referral_base(&k, "public_task");
	assert_int_equal(check(&k, true), 0);
	kvs_free(&k);
	/* on create the missing legal_basis is reported first */
	referral_base(&k, NULL);
	check_fails(&k, true, JALIN_ESCHEMA,
	    "referral: required field 'legal_basis' is missing");
	check_fails(&k, false, JALIN_ESCHEMA, msg);
	kvs_free(&k);
	/* a stored legal_basis that is not a string */
	referral_base(&k, NULL);
	kv_bin(&k, "legal_basis", 3);
	check_fails(&k, false, JALIN_ECORRUPT,
	    "referral.legal_basis: stored value does not decode as a string");
	kvs_free(&k);
}

static void
dates(struct kvs *k, const char *cname, const char *lo, const char *lov,
    const char *hi, const char *hiv)
{
	kvs_init(k, cname);
	if (lov != NULL)
		kv_str(k, lo, lov);
	if (hiv != NULL)
		kv_str(k, hi, hiv);
}

static void
test_date_ranges(void **state)
{
	static const char *const c[] = {"partnership", "resource"};
	char msg[160];
	struct kvs k;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(c); i++) {
		dates(&k, c[i], "period_start", "2024-02-01", "period_end",
		    "2024-01-31");
		snprintf(msg, sizeof(msg),
		    "%s.period_end: must not be before period_start "
		    "(2024-01-31 < 2024-02-01)",
		    c[i]);
		check_fails(&k, false, JALIN_ESCHEMA, msg);
		kvs_free(&k);
		dates(&k, c[i], "period_start", "2024-02-01", "period_end",
		    "2024-02-01");
		assert_int_equal(check(&k, false), 0);
		kvs_free(&k);
		dates(
		    &k, c[i], "period_start", NULL, "period_end", "2024-01-31");
		assert_int_equal(check(&k, false), 0);
		kvs_free(&k);
	}
	dates(&k, "lks", "registration.date", "2021-01-01",
	    "registration.valid_until", "2020-12-31");
	check_fails(&k, false, JALIN_ESCHEMA,
	    "lks.registration.valid_until: must not be before "
	    "registration.date (2020-12-31 < 2021-01-01)");
	kvs_free(&k);
	dates(&k, "lks", "accreditation.date", "2021-06-01",
	    "accreditation.valid_until", "2021-05-31");
	check_fails(&k, false, JALIN_ESCHEMA,
	    "lks.accreditation.valid_until: must not be before "
	    "accreditation.date (2021-05-31 < 2021-06-01)");
	kv_drop(&k, "accreditation.valid_until");
	kv_str(&k, "accreditation.valid_until", "2026-06-01");
	assert_int_equal(check(&k, false), 0);
	kvs_free(&k);
	/* a stored date that does not decode */
	kvs_init(&k, "partnership");
	kv_bin(&k, "period_start", 4);
	kv_str(&k, "period_end", "2024-01-01");
	check_fails(&k, false, JALIN_ECORRUPT,
	    "partnership.period_start: stored value does not decode as a date");
	kvs_free(&k);
}

/* pasung.release_date against start_date at start_precision */
static int
pasung(struct kvs *k, const char *start, const char *prec, const char *release)
{
	int rc;

	dates(k, "case", "pasung.start_date", start, "pasung.release_date",
	    release);
	if (prec != NULL)
		kv_str(k, "pasung.start_precision", prec);
	rc = check(k, false);
	if (rc != 0) {
		assert_int_equal(rc, JALIN_ESCHEMA);
		/* S data: the message carries no dates */
		assert_string_equal(k->err.msg,
		    "case.pasung.release_date: must not be before "
		    "pasung.start_date");
	}
	kvs_free(k);
	return rc;
}

static void
test_pasung_dates(void **state)
{
	struct kvs k;

	(void)state;
	assert_int_equal(pasung(&k, "2020-05-15", NULL, "2020-05-15"), 0);
	assert_int_equal(
	    pasung(&k, "2020-05-15", NULL, "2020-05-14"), JALIN_ESCHEMA);
	assert_int_equal(
	    pasung(&k, "2020-05-15", "day", "2020-05-14"), JALIN_ESCHEMA);
	assert_int_equal(pasung(&k, "2020-05-15", "month", "2020-05-01"), 0);
	assert_int_equal(
	    pasung(&k, "2020-05-15", "month", "2020-04-30"), JALIN_ESCHEMA);
	assert_int_equal(pasung(&k, "2020-05-15", "year", "2020-01-01"), 0);
	assert_int_equal(
	    pasung(&k, "2020-05-15", "year", "2019-12-31"), JALIN_ESCHEMA);
	assert_int_equal(pasung(&k, "2020-05-15", "unknown", "1990-01-01"), 0);
	assert_int_equal(pasung(&k, NULL, NULL, "1990-01-01"), 0);
	assert_int_equal(pasung(&k, "2020-05-15", NULL, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tables),
	    cmocka_unit_test(test_required_sets),
	    cmocka_unit_test(test_classes),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_str, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_utf8, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_int, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ts_money, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bool, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_date, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enum, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_code, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uuid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_shapes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_items, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_object, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_object_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_object_items, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_object_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_map_enum_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sensitive_not_echoed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sensitive_items, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_output_on_success_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_display_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_display_round_trip_items, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_display, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_display_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_display_corrupt, setup, teardown),
	    cmocka_unit_test(test_required),
	    cmocka_unit_test(test_required_others),
	    cmocka_unit_test(test_referral_consent),
	    cmocka_unit_test(test_date_ranges),
	    cmocka_unit_test(test_pasung_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
