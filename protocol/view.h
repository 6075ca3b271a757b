/*
 * view.h - a record as clients see it.
 *
 * Turns a record state into the JSON-shaped msgpack of msg.h's MK_RESULT:
 * field names instead of tags, the winning value of each field, uuid as
 * text and hashes as hex (schema_display). With VIEW_VERSIONS also each
 * field's version, the values in conflict, deletes and the causal context.
 * Maps and arrays whose size is only known at the end are written with a
 * 32-bit header that is patched afterwards (view_map_begin/end).
 */
#ifndef JALIN_VIEW_H
#define JALIN_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "buf.h"
#include "record.h"
#include "schema.h"
#include "uuid.h"

#define VIEW_COLL     0x1 /* include "collection" */
#define VIEW_VERSIONS 0x2 /* versions, conflicts, deletes, context */

/* "live", "deleted" (tombstone) or "purged". */
const char *view_state(const struct record *r);

/* Name of tag in c, or "_tagN" for a tag this build does not know. */
const char *view_field_name(
    const struct schema_coll *c, uint16_t tag, char *buf, size_t n);

/*
 * Opens a sealed S! value (seal.h) for the reader: the plaintext (the
 * value's state form, record.h: a string may be coded) appended to plain,
 * 0; anything else shows "(encrypted)". v is
 * the whole ext object of field tag of record id (state r). NULL, or a
 * NULL open: every sealed value shows "(encrypted)". A record's data keys
 * (TAG_KEYS) are never shown as a field; with VIEW_VERSIONS their
 * versions show "(data keys)".
 */
struct view_open {
	int (*open)(void *arg, const struct schema_coll *c,
	    const uint8_t id[UUID_LEN], const struct record *r, uint16_t tag,
	    const uint8_t *v, uint32_t vlen, struct buf *plain);
	void *arg;
};

/* Write the record (see above) to pk, which writes into b. 0 or the
 * buffer's error (JALIN_ETOOBIG / JALIN_ENOMEM). */
int view_record(msgpack_packer *pk, struct buf *b, const struct schema_coll *c,
    const uint8_t id[UUID_LEN], const struct record *r, unsigned flags,
    const struct view_open *op);

/*
 * Append one item per conflict of the record to an array being written:
 * {"collection","id","field","value","origin","at","others":[{...}]} for a
 * field; for an edit concurrent with a delete, field "(deleted)" with the
 * deletes in "others". Returns the number of items written.
 */
unsigned view_conflicts(msgpack_packer *pk, const struct schema_coll *c,
    const uint8_t id[UUID_LEN], const struct record *r,
    const struct view_open *op);

/* Write a string / an ISO time of an HLC. */
void view_str(msgpack_packer *pk, const char *s);
void view_time(msgpack_packer *pk, uint64_t hlc);

/* Open a map/array of unknown size at the end of b; close with its count. */
size_t view_map_begin(struct buf *b);
size_t view_array_begin(struct buf *b);
void view_patch(struct buf *b, size_t mark, uint32_t n);

#endif
