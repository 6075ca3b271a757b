/*
 * schema.h - the five collections and their fields, as data.
 *
 * Each collection is one table of fields (schema.c): name, stable tag,
 * type, limits, sensitivity class, flags. Adding a field is one line with
 * the next free tag; a field is never removed, renamed, retyped or given
 * another tag, because stored records and peers know fields by tag (a
 * schema only grows; DESIGN.md §2). Nested blocks of DOMAIN.md are
 * flattened into dotted names ("pasung.status") so that concurrent edits
 * of different sub-fields merge without conflict.
 *
 * Values are stored as canonical msgpack (mp_canonical): uuid as bin 16,
 * hash as bin 32, date/enum/code/str as str, int/ts/money as int, bool,
 * list as array, object and map as map with sorted keys.
 * Clients (jalinctl, from JSON) may give uuid as 36-char text and hash as
 * 64 hex characters; schema_coerce() validates a client value against
 * the field and writes the canonical form. schema_display() turns a stored
 * value back into the client form (uuid text, hash hex).
 */
#ifndef JALIN_SCHEMA_H
#define JALIN_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "err.h"

/* Collection ids: stable, stored as the first byte of record keys. */
enum coll_id {
	COLL_CASE = 1,
	COLL_PARTNERSHIP = 2,
	COLL_LKS = 3,
	COLL_RESOURCE = 4,
	COLL_REFERRAL = 5,
};
#define COLL_MIN   1
#define COLL_MAX   5
#define COLL_COUNT 5

enum schema_type {
	ST_STR = 1, /* UTF-8 (validated), at most max bytes */
	ST_INT,     /* int64 within [min, max] */
	ST_BOOL,
	ST_DATE,   /* "YYYY-MM-DD", a real calendar date */
	ST_TS,     /* int milliseconds UTC, >= 0 */
	ST_ENUM,   /* one of enums[] */
	ST_CODE,   /* Kemendagri region code: PP, PP.KK, PP.KK.CC, PP.KK.CC.DDDD
	            */
	ST_MONEY,  /* int whole rupiah, >= 0 */
	ST_UUID,   /* 16 bytes */
	ST_HASH,   /* 32 bytes (SHA-256) */
	ST_LIST,   /* array of item (max = most items) */
	ST_OBJECT, /* map of sub-fields (obj[], nobj), used as list items */
	ST_MAP,  /* map: keys enums[] (or any str(JALIN_MAP_KEY_MAX)) -> item */
	ST_KEYS, /* a record's wrapped data keys (seal.h), set by the node */
};

/* Sensitivity class (DOMAIN.md). */
enum schema_cls {
	CLS_N = 0, /* not personal */
	CLS_U,     /* general personal data */
	CLS_S,     /* specific personal data */
	CLS_SX,    /* specific, needs field-level encryption ("S!") */
};

/* Field flags. */
#define SF_REQUIRED 0x01 /* must be present when a record is created */
#define SF_SYSTEM   0x02 /* set by the node (origin_node, created_at) */

struct schema_field {
	uint16_t tag;         /* stable, unique within the collection, >= 1 */
	const char *name;     /* dotted for flattened blocks; key in objects */
	uint8_t type;         /* enum schema_type */
	uint8_t cls;          /* enum schema_cls */
	uint8_t flags;        /* SF_* */
	uint32_t max;         /* ST_STR bytes, ST_LIST/ST_MAP items */
	int64_t min_i, max_i; /* ST_INT range */
	const char *const *enums;        /* ST_ENUM / ST_MAP keys, NULL-ended */
	const struct schema_field *item; /* ST_LIST / ST_MAP element */
	const struct schema_field *obj;  /* ST_OBJECT sub-fields */
	uint16_t nobj;
	const char *doc; /* one line: Indonesian term and meaning */
};

/* Replication scope of a collection. */
enum schema_scope {
	SCOPE_ALL = 0, /* every federated node */
	SCOPE_SCOPED,  /* origin, share_with nodes, all_cases nodes */
};

struct schema_coll {
	uint8_t id; /* enum coll_id */
	const char
	    *name; /* "case", "partnership", "lks", "resource", "referral" */
	uint32_t version; /* grows by one whenever a field is added */
	uint8_t scope;    /* enum schema_scope */
	const struct schema_field *fields; /* sorted by tag */
	uint16_t nfields;
	const char *doc;
};

/* Tags every collection shares (envelope, DOMAIN.md). */
enum {
	TAG_DELETED = 0, /* reserved: record-level tombstone entries */
	TAG_ORIGIN_NODE = 1,
	TAG_CONTROLLER = 2,
	TAG_LEGAL_BASIS = 3,
	TAG_SHARE_WITH = 4,
	TAG_RETENTION_UNTIL = 5,
	TAG_CREATED_AT = 6,
	TAG_CREATED_BY = 7,
	TAG_UPDATED_BY = 8,
	TAG_UNSHARED_FROM = 9, /* SCOPED collections only (scope.h) */
	TAG_KEYS = 10,         /* SCOPED: data keys of S! fields (seal.h) */
	TAG_FIRST_OWN = 16,    /* first tag of collection-specific fields */
};

/* Deletion reasons (tombstones; DOMAIN.md). NULL-terminated. */
extern const char *const schema_deletion_reasons[];

/* Collection by name / id, NULL if unknown. */
const struct schema_coll *schema_coll_by_name(const char *name, size_t len);
const struct schema_coll *schema_coll_by_id(unsigned id);

/* Field by name / tag within a collection, NULL if unknown. O(log n). */
const struct schema_field *schema_field_by_name(
    const struct schema_coll *c, const char *name, size_t len);
const struct schema_field *schema_field_by_tag(
    const struct schema_coll *c, unsigned tag);

/*
 * Validate one client value for field f of collection c and append its
 * canonical msgpack to pk. in[0..len) is one msgpack object that already
 * passed mp_check. Nil is not accepted here (the caller treats nil as
 * "remove the field"). On error returns JALIN_ESCHEMA and err names the
 * collection, the field and the rule, e.g.
 *   "lks.status: 'closed' is not one of active, inactive, suspended,
 *    revoked"
 *   "lks.name: 300 bytes exceeds the limit of 256"
 *   "case.birth_date: '2024-02-30' is not a valid date (YYYY-MM-DD)"
 *   "partnership.parties[2].unit: 'x' is not a UUID"
 *   "case.is_child: expected a boolean, got a string"
 * Values of S and S! fields are never quoted ("case.pasung.status: value
 * is not one of ..."). Object items may leave any key out; unknown and
 * repeated keys are errors. Other codes: JALIN_EPROTO if in is not exactly
 * one well-formed msgpack object, JALIN_ETOOBIG if the canonical value
 * exceeds JALIN_VALUE_MAX or pk refuses it, JALIN_ENOMEM, JALIN_EINVAL
 * for a NULL argument. Nothing is written to pk unless 0 is returned.
 */
int schema_coerce(const struct schema_coll *c, const struct schema_field *f,
    const void *in, size_t len, msgpack_packer *pk, struct jalin_err *err);

/*
 * Append the client form of a stored value of field f to pk: uuid as text,
 * hash as lowercase hex, everything else as is (recursively through lists,
 * maps and objects). f may be NULL (unknown tag from a newer peer): the value
 * is copied, bin as hex. JALIN_ECORRUPT if val does not decode (or nests
 * deeper than JALIN_MP_DEPTH_MAX), JALIN_ETOOBIG if pk refuses the result,
 * JALIN_ENOMEM. Nothing is written to pk unless 0 is returned.
 */
int schema_display(const struct schema_field *f, const void *val, size_t len,
    msgpack_packer *pk);

/*
 * Check one value a peer sent for field f of collection c (replication:
 * DESIGN.md §2): val[0..len) is the plain, canonical msgpack of an entry
 * (a coded string decoded first, record.h rec_val_plain; never nil). It
 * must pass schema_coerce unchanged: the right type, an enumerated value,
 * within its limits, and in the stored form (a UUID as bin 16, not text).
 * 0, or JALIN_ESCHEMA with err as schema_coerce words it ("lks.status:
 * 'closed' is not one of ..."); JALIN_ENOMEM; JALIN_EINVAL for a NULL
 * argument.
 */
int schema_check_value(const struct schema_coll *c,
    const struct schema_field *f, const void *val, size_t len,
    struct jalin_err *err);

/* One live field value of a record, for record-level rules. */
struct schema_kv {
	uint16_t tag;
	const uint8_t *val; /* canonical msgpack */
	uint32_t len;
};

/*
 * Record-level rules on the live fields of a record after a local write
 * (kv sorted by tag, nil-valued fields left out): required fields present
 * (SF_REQUIRED, checked only when creating is true), and cross-field rules
 * (referral: consent_ref is required unless legal_basis is vital_interest
 * or public_task; date ranges such as period_start <= period_end).
 * JALIN_ESCHEMA with err naming the field and rule, e.g.
 *   "case: required field 'status' is missing"
 *   "referral.consent_ref: required unless legal_basis is vital_interest or
 *    public_task"
 * JALIN_ECORRUPT if a value the rules read does not decode.
 */
int schema_check_record(const struct schema_coll *c, const struct schema_kv *kv,
    size_t n, bool creating, struct jalin_err *err);

/* True if a record-level rule of c (schema_check_record) reads the value
 * of field tag: the rest it reads only for presence. */
bool schema_rule_reads(const struct schema_coll *c, uint16_t tag);

/* Name of a type / class for documentation ("str(256)", "S!"). */
const char *schema_type_name(const struct schema_field *f, char *buf, size_t n);
const char *schema_cls_name(unsigned cls);

#endif
