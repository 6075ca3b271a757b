/*
 * cmdtab.c - the tables of cmdtab.h: commands, options and the prose of
 * jalinctl(8). Change the command line here, then run `make man`; a test
 * fails while man/jalinctl.8 and `jalinctl --man` differ.
 */
#include "cmdtab.h"
#include "audit.h"
#include "limits.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

const struct opt ctl_gopts[] = {
    {'c', "config", "CONFIG",
        "read the admin socket's path from this jalind config (default: "
        "$JALIN_CONFIG if set, else " DEFAULT_CONFIG ")"},
    {'s', "socket", "SOCKET", "talk to the admin socket at this path"},
    {O_DB, "db", "DIR",
        "open the store in DIR read-only instead of asking the node; "
        "works for status, peers, get, list, export, feed, conflicts, "
        "digest, whether jalind runs or not"},
    {O_ENC_KEY, "enc-key", "FILE",
        "with --db: the node's encryption key (NAME.enc.key): the sealed "
        "fields of the cases and referrals it reads are shown; without it "
        "they show \"(encrypted)\""},
    {O_REMOTE, "remote", "HOST:PORT",
        "ask the node at HOST:PORT (its [node] listen address) over TLS "
        "as a remote admin, with --cert, --key and --ca; for status, "
        "peers, watch, get, list, export, feed, conflicts and digest (the "
        "node refuses writes, and get of case and referral records)"},
    {O_CERT, "cert", "FILE",
        "admin certificate (CN admin:NAME, made with 'jalin-ca DIR admin "
        "NAME') for --remote and federation"},
    {O_KEY, "key", "FILE", "the admin certificate's private key"},
    {O_CA, "ca", "FILE",
        "federation CA certificate: the node's certificate must chain to "
        "it (for federation -c, default: the config's [tls] ca)"},
    {O_CRL, "crl", "FILE",
        "the CA's revocation list (PEM, as 'jalin-ca DIR crl' writes it): "
        "a node whose certificate is revoked is refused (for federation "
        "-c, default: the config's [tls] crl)"},
    {O_TIMEOUT, "timeout", "SECONDS",
        "give up on a node that does not take the connection, finish the "
        "TLS handshake or answer within this many seconds (default " STR(JALIN_CTL_TIMEOUT) "; 1.." STR(
            JALIN_CTL_TIMEOUT_MAX) "): --remote, watch and federation; other commands on the "
                                   "local socket wait as long as the node needs"},
    {O_PURPOSE, "purpose", "TEXT",
        "why you read the records (at most " STR(
            AUDIT_PURPOSE_MAX) " bytes); the node keeps it "
                               "in its audit log with your user name for reads of case and "
                               "referral records"},
    {O_JSON, "json", NULL,
        "print JSON for scripts: one compact value per line, keys "
        "sorted"},
    {'h', "help", NULL, "this help; after a command, that command's help"},
    {'V', "version", NULL, "print the version"},
};

const struct opt ctl_copts[] = {
    {O_LIMIT, "limit", "N",
        "show at most N items (default " STR(JALIN_CTL_LIST_LIMIT) "; 1.." STR(
            JALIN_CTL_LIST_LIMIT_MAX) ")"},
    {O_VERSIONS, "versions", NULL,
        "show each field's version (hlc, time, origin node), the "
        "values in conflict, deletes and the causal context; also shows "
        "deleted and purged records"},
    {O_REASON, "reason", "R",
        "why: erasure_request, retention_expired, unlawful, duplicate or "
        "error (delete: none recorded by default; purge: "
        "erasure_request)"},
    {O_HASH, "request-hash", "HEX",
        "SHA-256 (64 hex digits) of the erasure request, kept in the "
        "tombstone"},
    {O_FILE, "file", "FILE",
        "read the JSON object from FILE (default: standard input)"},
    {O_SINCE, "since", "SEQ",
        "changes after this local sequence number (default 0: from the "
        "start)"},
    {O_COLLECTION, "collection", "C",
        "collection of the lines that have no \"collection\" key"},
    {O_BATCH, "batch", "N",
        "records per request, each committed as one transaction (default " STR(
            JALIN_IMPORT_BATCH) "; 1.." STR(JALIN_BATCH_RECORDS_MAX) ")"},
    {O_ON_ERROR, "on-error", "continue|stop",
        "at a bad line: stop there, with every line before it stored "
        "(default), or report it and go on"},
    {O_INTERVAL, "interval", "SECONDS",
        "seconds between refreshes (default " STR(
            JALIN_CTL_WATCH_INTERVAL) "; "
                                      "1.." STR(
                                          JALIN_CTL_WATCH_INTERVAL_MAX) ")"},
    {O_COUNT, "count", "N",
        "stop after N refreshes (default 0: until interrupted; 0.." STR(
            JALIN_CTL_WATCH_COUNT_MAX) ")"},
};

const struct cmd ctl_cmds[] = {
    {"status", "", 0, 0, 0, CMD_REMOTE, cmd_status,
        "the node: sequence, records, store, and each peer's sync state",
        "Shows the node's name and epoch, its change sequence number, the "
        "live records per collection, conflicts, tombstones (and the peer "
        "that holds their collection back), the store (path, map in use, "
        "map_size_max), version and uptime. Then one block per peer: its "
        "state ('live' only once it has acknowledged all our changes "
        "up to where we said so, 'stalled' only when no byte has arrived "
        "for stall_timeout); our changes it has not acknowledged "
        "(records, and the age of the oldest); how far we are behind its "
        "feed; catch-up progress, with the bytes received, the rate they "
        "arrive at and the time left; the link: bytes per second each "
        "way and the size of our batches to it (sized to a few seconds "
        "of the link); sessions that ended before we caught up, and why "
        "the last did (kept across reconnects); a plain PROBLEM line when "
        "batches repeatedly cannot get through; what it acknowledged "
        "(delivered) beside what we sent; when the records shared with "
        "it were last verified "
        "equal, and the last check's result; its last error; and when its "
        "certificate expires, with a warning under " STR(
            JALIN_CERT_WARN_DAYS) " days. Over --remote "
                                  "it also names the node's certificate CN. --json prints the "
                                  "node's status object as it is."},
    {"peers", "", 0, 0, 0, CMD_REMOTE, cmd_peers, "one line per peer",
        "A table: NAME, STATE, LAG_RECORDS (our changes the peer has not "
        "acknowledged), LAG_SECONDS (the age of the oldest of them), "
        "IN_LAG (records of its feed we have not applied yet), "
        "LAST_CONTACT and VERIFIED_AT (how long ago) and LAST_ERROR. A '!' "
        "before a name marks a certificate that expires within " STR(
            JALIN_CERT_WARN_DAYS) " days; "
                                  "the lines after the table say when. --json prints the status's "
                                  "array of peers."},
    {"keys", "", 0, 0, 0, CMD_REMOTE, cmd_keys,
        "the encryption keys the node knows",
        "A table: NAME (the node the key belongs to), KEY_ID (the first 8 "
        "bytes of SHA-256 of its X25519 public key, hex), SOURCE (own: "
        "this node's [tls] enc_cert; roster: [tls] roster; peer: passed "
        "on by a peer, kept in the store) and NOT_AFTER (when its "
        "certificate expires). A revoked or unknown key is not listed: "
        "S! fields are not sealed to that node. --json prints the "
        "status's array enc_keys."},
    {"watch", "", 0, 0, OPT_BIT(O_INTERVAL) | OPT_BIT(O_COUNT),
        CMD_REMOTE | CMD_LIVE | CMD_OWN, cmd_watch,
        "the status, refreshed until interrupted",
        "On a terminal, redraws the status every --interval seconds until "
        "Ctrl-C, which ends it with exit status 0. When standard output "
        "is not a terminal it prints one status per interval, separated "
        "by a blank line (with --json, one status object per line), so "
        "that it can be logged or read by a script. When the node stops "
        "answering, watch says why and tries again at the next interval. "
        "With --count N it stops after N refreshes, with the exit status "
        "of the last one."},
    {"verify", "PEER", 1, 1, 0, CMD_LIVE, cmd_verify,
        "check now that this node and PEER hold the same shared records",
        "The node compares the digests of the records it shares with PEER, "
        "locates the records that differ and repairs them, then answers "
        "(in seconds; longer for a large store). Prints, for example, "
        "'banten: in sync: 3000 records compared (verified "
        "2026-11-23T16:21:01Z)', and how many records differed, were "
        "repaired or were found corrupt. Exit status 0 when in sync; 1 "
        "when different or not verified (the peer is not connected, or "
        "changes were in flight: try again). Local socket only. --json "
        "prints the result object."},
    {"federation", "[NODE ...]", 0, JALIN_PEERS_MAX, 0, CMD_OWN, cmd_federation,
        "every node's view of its peers, in one table",
        "Asks every node of the federation for its status at once and "
        "prints one table: nodes down the side, peers across, each cell "
        "the state of that link and its lag (changes of the node the peer "
        "has not acknowledged): 'live 0', 'down 200', 'stalled 12'; '-' "
        "where the two are not peers, '?' where a node did not report its "
        "peers. Then the nodes that could not be reached, and why "
        "(refused, timed out, certificate refused). With -c CONFIG (or "
        "the default config, when no NODE is given) the node of that "
        "config is asked over its admin socket and each of its [peer] "
        "sections with an address over TLS. Each NODE is another node to "
        "ask: HOST:PORT (its listen address) over TLS, or the path of an "
        "admin socket on this machine (it contains a '/'). TLS needs "
        "--cert and --key of an admin certificate, and --ca (with a "
        "config, its [tls] ca by default). No node is waited for longer "
        "than --timeout. Exit status 0 when every node asked answered, 1 "
        "when some did not, 3 when none did. --json prints {\"nodes\", "
        "\"matrix\", \"unreachable\"}."},
    {"put", "COLLECTION [ID]", 1, 2, OPT_BIT(O_FILE),
        CMD_WRITE | CMD_COLL | CMD_ID, cmd_put,
        "write a record from a JSON object; prints its id",
        "Reads one JSON object ({\"field\": value, ...}) from standard "
        "input or --file. Without ID it creates a record and prints the "
        "new id. With the ID of an existing record it sets only the fields "
        "given (null removes one); a field whose value does not change "
        "keeps its version, so a full-record put that changes one field "
        "is an edit of that field alone. \"id\" and \"collection\" keys in "
        "the object must match the arguments (an \"id\" names the record "
        "when ID is not given); they are not fields. --json prints "
        "{\"changed\": BOOL, \"id\": ID}."},
    {"get", "COLLECTION ID", 2, 2, OPT_BIT(O_VERSIONS),
        CMD_COLL | CMD_ID | CMD_REMOTE, cmd_get, "print a record as JSON",
        "Prints the record as one flat JSON object: \"id\" and its fields "
        "(dotted names for flattened blocks, e.g. \"pasung.status\"); "
        "pretty with sorted keys, or one compact line with --json."},
    {"delete", "COLLECTION ID", 2, 2, OPT_BIT(O_REASON),
        CMD_WRITE | CMD_COLL | CMD_ID, cmd_delete, "delete a record",
        "Writes a tombstone that removes the field values it has seen. An "
        "edit made concurrently on another node survives and is listed "
        "as a conflict. Prints the id."},
    {"purge", "COLLECTION ID", 2, 2, OPT_BIT(O_REASON) | OPT_BIT(O_HASH),
        CMD_WRITE | CMD_COLL | CMD_ID, cmd_purge,
        "erase a record for good (right to erasure)",
        "Replaces the record by a tombstone that holds no field values, "
        "on this node and on every node it reaches; the id can never be "
        "written again. Prints the id. This cannot be undone."},
    {"list", "COLLECTION", 1, 1, OPT_BIT(O_LIMIT), CMD_COLL | CMD_REMOTE,
        cmd_list, "a table of the records of a collection",
        "A table of id and summary fields: case: case_no, status, "
        "cluster; lks: name, status, region_code; partnership: "
        "agreement_no, title, status; resource: kind, capacity_available, "
        "owner_unit; referral: referral_no, status, to_kind. In id order. "
        "--json prints an array of the records."},
    {"export", "[COLLECTION]", 0, 1, 0, CMD_OPTCOLL | CMD_REMOTE, cmd_export,
        "all records as JSON Lines",
        "One record per line, keys sorted, compact, with \"collection\", "
        "sorted by collection then id: byte-identical on nodes that hold "
        "the same records. The output is what import reads."},
    {"import", "FILE", 1, 1,
        OPT_BIT(O_COLLECTION) | OPT_BIT(O_BATCH) | OPT_BIT(O_ON_ERROR),
        CMD_WRITE, cmd_import, "load JSON Lines (FILE, or - for stdin)",
        "Each line is one JSON object with \"collection\" (or "
        "--collection) and, optionally, \"id\"; blank lines are skipped, "
        "lines over 1 MiB refused. Lines go to the node in batches; each "
        "batch is one transaction, so a record is stored only when its "
        "batch is confirmed. Bad lines are reported on stderr as "
        "'jalinctl: line N: why'. Progress shows on stderr when it is a "
        "terminal, and a summary at the end. --json prints, as each batch "
        "is committed, {\"batch\", \"first_line\", \"last_line\", "
        "\"stored\", \"changed\", \"errors\": [{\"line\", \"message\"}]}. "
        "Exit status 1 if any line failed."},
    {"feed", "", 0, 0, OPT_BIT(O_SINCE) | OPT_BIT(O_LIMIT), CMD_REMOTE,
        cmd_feed, "the change feed: what changed, in order",
        "A table of seq, time, collection, id and state (live, deleted, "
        "purged) of the latest change of each record. --json prints "
        "{\"entries\": [...], \"last_seq\": N}."},
    {"conflicts", "[COLLECTION]", 0, 1, 0, CMD_OPTCOLL | CMD_REMOTE,
        cmd_conflicts,
        "unresolved conflicts; resolve by writing the field again",
        "For each field edited concurrently on two nodes: the winning "
        "value (origin node, time) and the other values. The values may "
        "be personal data. Resolve a conflict by putting the field's "
        "right value. --json prints an array."},
    {"audit", "", 0, 0, OPT_BIT(O_SINCE) | OPT_BIT(O_LIMIT), 0, cmd_audit,
        "who read case and referral records, and whether the log is whole",
        "The node logs every read on its admin socket that shows case or "
        "referral contents (get, list, export, conflicts) before it "
        "answers: seq, time, the Unix user, the action, collection, id "
        "and --purpose. Each entry carries the SHA-256 of the one before, "
        "so an edited, removed or reordered entry breaks the chain: the "
        "last line says whether it is whole, and the exit status is 1 if "
        "it is not. Reading the store with --db is not logged. --json "
        "prints {\"entries\": [...], \"next\", \"total\", \"chain\", "
        "\"broken_at\"}."},
    {"digest", "", 0, 0, 0, CMD_REMOTE, cmd_digest,
        "a hash of the live records per collection and of all",
        "Two nodes that hold the same records print the same digest for "
        "a collection: equal digests mean converged."},
};

_Static_assert(sizeof(ctl_gopts) / sizeof(ctl_gopts[0]) + 2 <= CTL_OPTS_MAX,
    "CTL_OPTS_MAX is too small for the global options");
_Static_assert(sizeof(ctl_copts) / sizeof(ctl_copts[0]) +
                sizeof(ctl_gopts) / sizeof(ctl_gopts[0]) + 1 <=
            CTL_OPTS_MAX &&
        O_COUNT - O_LIMIT < 32,
    "the command options no longer fit");

const size_t ctl_ngopts = sizeof(ctl_gopts) / sizeof(ctl_gopts[0]);
const size_t ctl_ncopts = sizeof(ctl_copts) / sizeof(ctl_copts[0]);
const size_t ctl_ncmds = sizeof(ctl_cmds) / sizeof(ctl_cmds[0]);

const char ctl_name_line[] = "jalinctl - administer a jalin node";

const char *const ctl_synopsis[] = {
    "jalinctl [-c CONFIG | -s SOCKET | --db DIR] [--json] COMMAND "
    "[ARGUMENTS] [OPTIONS]",
    "jalinctl --remote HOST:PORT --cert FILE --key FILE --ca FILE "
    "[--timeout SECONDS] [--json] COMMAND [ARGUMENTS] [OPTIONS]",
    "jalinctl [-c CONFIG | -s SOCKET] [--cert FILE --key FILE --ca FILE] "
    "[--timeout SECONDS] [--json] federation [NODE ...]",
    "jalinctl COMMAND --help",
    "jalinctl --help | --version",
    NULL,
};

const char *const ctl_description[] = {
    "jalinctl talks to a running jalind over its admin socket, to a node "
    "on another machine over TLS with an admin certificate (--remote), or "
    "reads a node's store directly with --db. Data goes to standard "
    "output, messages to standard error. Options may come before or "
    "after the command (-c, -s, -h and -V in their short forms only "
    "before it).",
    "Is this node in sync with each peer? 'jalinctl status' (or peers, "
    "or watch) shows each peer's state and lag as the node sees it now; "
    "'jalinctl verify PEER' checks it for certain by comparing digests; "
    "'jalinctl federation' shows every node's view at once.",
    NULL,
};

const struct item ctl_exit[] = {
    {"0", "success (verify: in sync; federation: every node answered)"},
    {"1",
        "the request failed (the message says what and why); verify: not "
        "in sync or not verified; federation: some node could not be "
        "reached"},
    {"2",
        "usage error, or a command that --remote or --db does not "
        "allow"},
    {"3",
        "cannot reach the node: config unreadable, socket missing or "
        "refusing, connection refused or timed out, TLS handshake failed, "
        "certificate refused, connection lost; or the store cannot be "
        "opened (--db); federation: no node could be reached"},
};

const struct item ctl_env[] = {
    {"JALIN_CONFIG",
        "config file used when neither -c, -s, --db nor "
        "--remote is given"},
};

const struct item ctl_files[] = {
    {DEFAULT_CONFIG,
        "default config; its [node] admin_socket names the socket "
        "(default DATA_DIR/jalind.sock)"},
};

const size_t ctl_nexit = sizeof(ctl_exit) / sizeof(ctl_exit[0]);
const size_t ctl_nenv = sizeof(ctl_env) / sizeof(ctl_env[0]);
const size_t ctl_nfiles = sizeof(ctl_files) / sizeof(ctl_files[0]);

/* Each a command line; "\n" continues it on the next line. */
const char *const ctl_examples[] = {
    "jalinctl status",
    "jalinctl peers",
    "jalinctl watch --interval 5",
    "jalinctl verify banten",
    "echo '{\"name\": \"Yayasan Peduli Kasih\", \"legal_form\": "
    "\"yayasan\",\n"
    "       \"status\": \"active\", \"region_code\": \"73.71\"}' "
    "| jalinctl put lks",
    "jalinctl get case 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b --versions",
    "jalinctl -c /etc/jalin/jabar.conf export > jabar.jsonl",
    "jalinctl -s /run/jalin/banten.sock import --on-error continue \\\n"
    "         jabar.jsonl",
    "jalinctl --db /var/lib/jalin/jabar digest",
    "jalinctl purge case 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b \\\n"
    "         --reason erasure_request",
    "jalinctl --remote banten.example:7420 --cert alice.pem \\\n"
    "         --key alice.key --ca ca.pem status",
    "jalinctl -c /etc/jalin/jabar.conf --cert alice.pem \\\n"
    "         --key alice.key federation",
    NULL,
};

const char ctl_see_also[] =
    "jalind(8), jalin.conf(5), jalin-ca (certs/jalin-ca in the source "
    "tree). The JSON that --json prints is described field by field in "
    "doc/json.md of the source tree.";
