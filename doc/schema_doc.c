/*
 * schema_doc.c - print doc/schema.md from the schema tables (protocol/
 * schema.c), so the documentation of the records cannot drift from the
 * code: `make doc` regenerates it, `make test` checks it is current.
 */
#include <stdio.h>
#include <string.h>

#include "schema.h"

static const char *const scope_names[] = {"ALL: every peer sharing the "
                                          "collection",
    "SCOPED: origin, share_with, all_cases nodes"};

static void
enums(const char *const *e, char *out, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; e != NULL && e[i] != NULL && len < n; i++)
		len += (size_t)snprintf(
		    out + len, n - len, "%s%s", i ? ", " : "", e[i]);
}

static void
sub_fields(const struct schema_field *f)
{
	char tb[64], eb[600];

	for (uint16_t i = 0; i < f->nobj; i++) {
		const struct schema_field *s = &f->obj[i];
		enums(s->enums, eb, sizeof(eb));
		printf("| | `.%s` | %s | %s | | %s%s%s |\n", s->name,
		    schema_type_name(s, tb, sizeof(tb)),
		    schema_cls_name(s->cls), s->doc ? s->doc : "",
		    eb[0] ? " — one of: " : "", eb);
	}
}

static void
field(const struct schema_field *f)
{
	char tb[64], eb[600];

	enums(f->enums, eb, sizeof(eb));
	if (!eb[0] && f->item != NULL)
		enums(f->item->enums, eb, sizeof(eb));
	printf("| %u | `%s` | %s | %s | %s | %s%s%s |\n", f->tag, f->name,
	    schema_type_name(f, tb, sizeof(tb)), schema_cls_name(f->cls),
	    (f->flags & SF_REQUIRED)     ? "required"
	        : (f->flags & SF_SYSTEM) ? "set by the node"
	                                 : "",
	    f->doc ? f->doc : "", eb[0] ? " — one of: " : "", eb);
	if (f->item != NULL && f->item->type == ST_OBJECT)
		sub_fields(f->item);
}

int
main(void)
{
	printf(
	    "# Record schemas\n\n"
	    "Generated from `protocol/schema.c` by `make doc`; do not edit.\n"
	    "Tags are stable field numbers (never reused). Classes: N not "
	    "personal, U general personal data, S specific personal data, "
	    "S! specific data that needs field-level encryption (see the "
	    "README's limits). Nested blocks are flattened into dotted "
	    "field names.\n");
	for (unsigned c = COLL_MIN; c <= COLL_MAX; c++) {
		const struct schema_coll *sc = schema_coll_by_id(c);
		printf("\n## `%s` (schema version %u)\n\n%s\n\nScope: %s.\n\n",
		    sc->name, sc->version, sc->doc ? sc->doc : "",
		    scope_names[sc->scope]);
		printf("| tag | field | type | class | | meaning |\n"
		       "|---:|---|---|---|---|---|\n");
		for (uint16_t i = 0; i < sc->nfields; i++)
			field(&sc->fields[i]);
	}
	return 0;
}
