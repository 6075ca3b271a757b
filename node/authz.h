/*
 * authz.h - write authority and schema checks on a peer's record state
 * (PROTOCOL.md "Write authority", README security model).
 *
 * Every node judges every state it is about to apply, whoever relayed it:
 * authz_check() looks at what the state CHANGES, the merge of the stored
 * state (old) with the peer's (rem), and says accept (0) or refuse with
 * one rule. It is pure: no store, no config, no logging; the caller gives
 * the federation's all_cases nodes through struct authz_nodes.
 *
 * The author of a write event (dot) is the origin it claims. Until origin
 * signatures prove that claim, a relay can still speak for the office it
 * names; the signature check is meant to run in front of this one.
 *
 *  - New write events (dots of the result that old did not hold): their
 *    author must be allowed to write every field (tag) they write, and to
 *    delete or purge (tag 0). origin_node is written once, by the author
 *    of the record's first write, with its own name, and never changed.
 *  - Entries old held that the result lost must have been seen by a later
 *    write still in the result (a higher HLC): on the same field, a
 *    delete, or a purge; any other loss is an erasure and refused, and so
 *    is a context (ctx) raised above every write the state holds.
 *  - Values of known fields written by new events pass the schema as local
 *    writes do (schema_check_value); a record seen for the first time also
 *    carries its required fields (schema_check_record). Fields unknown to
 *    this node's schema (a newer version) pass untouched.
 */
#ifndef JALIN_AUTHZ_H
#define JALIN_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "record.h"
#include "schema.h"

/* Why a state is refused; 0 is not a rule (accepted). */
enum authz_rule {
	AUTHZ_AUTHOR = 1, /* a write its author may not make */
	AUTHZ_ORIGIN,     /* origin_node claimed for another node, or changed */
	AUTHZ_ERASE,      /* a value or a write lost without a write that saw
	                     it */
	AUTHZ_SCHEMA,     /* a value or a new record that breaks the schema */
	AUTHZ_SIGNATURE,  /* an event its origin did not sign (trust.h) */
};
#define AUTHZ_RULES 6 /* size of a table indexed by enum authz_rule */

/* The nodes that keep every case and referral (national nodes). */
struct authz_nodes {
	/* true if name[0..len) is an all_cases node; NULL: none is */
	bool (*all_cases)(void *arg, const char *name, size_t len);
	/* ms from which write events are judged by authority (those before
	 * were written under older rules: legacy); NULL: 0, all are */
	uint64_t (*authority_from)(void *arg);
	void *arg;
};

/*
 * Judge a peer's state rem of collection c: old is what this node holds
 * (empty if nothing, or a collected tombstone), out = merge_join(old, rem).
 * nodes may be NULL (no all_cases node). 0: accept. Otherwise *rule (may
 * be NULL) gets the rule and err a message naming the collection, the
 * field, the author and the rule, e.g.
 *   "authority: lks.name written by sulsel, not by its origin banten"
 *   "erasure: case.status of jabar lost without a write that saw it"
 * and the return is JALIN_EPERM (AUTHZ_AUTHOR, AUTHZ_ORIGIN, AUTHZ_ERASE)
 * or JALIN_ESCHEMA (AUTHZ_SCHEMA). JALIN_ENOMEM if a value could not be
 * checked for lack of memory.
 */
int authz_check(const struct schema_coll *c, const struct record *old,
    const struct record *out, const struct record *rem,
    const struct authz_nodes *nodes, enum authz_rule *rule,
    struct jalin_err *err);

/*
 * struct authz_nodes's all_cases for a running node (arg: its struct node
 * *, whose config may be reloaded): the node itself if [node] all_cases is
 * set, its peers configured all_cases = yes, and the names in [node]
 * all_cases_nodes.
 */
bool authz_node_all_cases(void *node, const char *name, size_t len);

/* struct authz_nodes's authority_from for a running node: [node]
 * write_authority_from, in ms. */
uint64_t authz_node_authority_from(void *node);

/* "authority", "origin", "erasure", "schema" ("?" for anything else). */
const char *authz_rule_name(enum authz_rule r);

#endif
