"""The examples of protocol/PROTOCOL.md section 11 are what the protocol
says: every frame's length is right and its msgpack decodes to the end,
HELLO offers the version this build speaks, and the record state (alone
and inside CHANGES) decodes, with the independent client's decoder, to
the fields the text names. So the document cannot drift from the code
without a test failing.

The grammar of peer messages is one table in protocol/msg.c, printed by
build/doc/msg_grammar: it must be PROTOCOL.md's key and message tables,
its encoders must write the section 11 examples, and what the independent
client (jalin_client.py, written from the document) sends must pass the
C decoder's required-key check.

Against a running jalind: the CHANGES example is encoded as a node really
sends it (UPTO as cf, RECS as dd), and the RESULT keys section 7 lists for
each admin request are the keys a node answers."""

import os
import pathlib
import re
import struct
import subprocess

import msgpack

import jalin_client
from jalin_client import (CHANGES, HELLO, K_PV_MAX, K_PV_MIN, K_RECS,
                          K_TIME, K_TYPE, PING, SUB, CODE_LEN, Peer,
                          encode_value, record_fields)
from conftest import BUILD

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = (ROOT / "protocol" / "PROTOCOL.md").read_text()
LIMITS = (ROOT / "protocol" / "limits.h").read_text()


def examples():
    section = DOC[DOC.index("## 11. Examples"):DOC.index("## 12.")]
    blocks = re.findall(r"```\n([0-9a-f \n]+?)\n```", section)
    assert len(blocks) >= 8, "the examples are missing"
    return [bytes.fromhex(b.replace("\n", " ")) for b in blocks]


def frames(data):
    out = []
    while data:
        (n,) = struct.unpack(">I", data[:4])
        body = data[4:4 + n]
        assert len(body) == n, "frame length beyond the example"
        u = msgpack.Unpacker(raw=False, strict_map_key=False)
        u.feed(body)
        out.append(u.unpack())
        assert u.tell() == n, "bytes after the message in its frame"
        data = data[4 + n:]
    return out


def version(name):
    return int(re.search(r"#define %s\s+(\d+)" % name, LIMITS).group(1))


WANT = {1: "jabar", 16: "Yayasan Cahaya", 47: "active"}


def test_every_example_frame_decodes_and_hello_offers_our_version():
    states = [b for b in examples() if b[0] == 0x96]
    msgs = [m for b in examples() if b[0] != 0x96 for m in frames(b)]
    assert len(states) == 1 and len(msgs) >= 10
    hello = [m for m in msgs if m[K_TYPE] == HELLO]
    assert hello and hello[0][K_PV_MIN] == version("JALIN_PROTO_VERSION_MIN")
    assert hello[0][K_PV_MAX] == version("JALIN_PROTO_VERSION_MAX")


def test_the_record_state_example_is_format_3_and_says_what_the_text_says():
    (state,) = [b for b in examples() if b[0] == 0x96]
    decoded = msgpack.unpackb(state, raw=False)
    assert decoded[0] == 3
    assert record_fields(decoded) == WANT
    # the name is coded, as section 8.1 says, and the other two are not
    entries = dict(zip(decoded[5][::2], decoded[5][1::2]))
    assert isinstance(entries[16], msgpack.ExtType)
    assert entries[16] == encode_value(WANT[16])
    assert entries[1] == "jabar" and entries[47] == "active"
    # canonical: packing it again gives the same bytes
    assert msgpack.packb(decoded, use_bin_type=True) == state
    (changes,) = [m for b in examples() if b[0] != 0x96
                  for m in frames(b) if m[K_TYPE] == CHANGES]
    ((seq, coll, rid, inner),) = changes[K_RECS]
    assert (seq, coll) == (1201, 3)
    assert inner == decoded


def test_the_code_table_in_the_document_is_the_one_the_code_uses():
    table = (ROOT / "protocol" / "huff_table.h").read_text()
    body = table[table.index("hf_len[256] = {"):]
    body = body[body.index("{") + 1:body.index("}")]
    assert [int(x) for x in re.findall(r"\d+", body)] == CODE_LEN


# --- the grammar table -----------------------------------------------------

GRAMMAR = BUILD / "doc" / "msg_grammar"


def grammar(mode, data=None):
    out = subprocess.run([str(GRAMMAR), mode], input=data,
                         capture_output=True, check=True)
    return out.stdout.decode().splitlines()


def c_table():
    """keys {number: (name, type)}, msgs {number: name},
    slots {msg name: {key name: "required" | "optional" | "with KEY"}}"""
    keys, msgs, slots = {}, {}, {}
    for line in grammar("table"):
        kind, rest = line.split(" ", 1)
        if kind == "key":
            num, name, typ = rest.split(" ", 2)
            keys[int(num)] = (name, typ)
        elif kind == "msg":
            num, name = rest.split(" ")
            msgs[int(num)] = name
            slots[name] = {}
        else:
            msg, key, need = rest.split(" ", 2)
            slots[msg][key] = need
    return keys, msgs, slots


def doc_rows(heading):
    """The rows of the first table after a '### heading' line."""
    sec = DOC[DOC.index("### " + heading + "\n"):]
    rows = []
    for line in sec.splitlines()[1:]:
        if line.startswith("### ") or line.startswith("## "):
            break
        if line.startswith("|") and not line.startswith("|--") and \
                not re.match(r"\|\s*-+:?\s*\|", line):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows and not line.startswith("|"):
            break
    return rows[1:]  # without the header row


def names(cell):
    return [] if cell == "—" else [n.strip() for n in cell.split(",")]


def test_the_key_table_in_the_document_is_the_codes():
    keys, _, _ = c_table()
    doc = {int(r[0]): (r[1], r[2]) for r in doc_rows("Keys")}
    assert doc == keys


def test_the_keys_of_each_type_in_the_document_are_the_codes():
    _, msgs, slots = c_table()
    types = {int(r[0]): r[1] for r in doc_rows("Types between peers")}
    assert types == msgs
    doc = {}
    for num, name, required, optional in doc_rows("Keys of each type"):
        assert msgs.get(int(num)) == name, (num, name)
        need = {k: "optional" for k in names(optional)}
        for k in names(required):
            m = re.fullmatch(r"(\w+) with (\w+)", k)
            need[m.group(1) if m else k] = (
                "with " + m.group(2) if m else "required")
        doc[name] = need
    assert doc == slots


def raw_frames(block):
    out = []
    while block:
        (n,) = struct.unpack(">I", block[:4])
        out.append(block[:4 + n])
        block = block[4 + n:]
    return out


def test_the_encoders_write_the_examples_of_the_document():
    doc = [f for b in examples() if b[0] != 0x96 for f in raw_frames(b)]
    written = [bytes.fromhex(h) for h in grammar("examples")]
    assert len(written) == 9
    for f in written:
        assert f in doc, f.hex()


class _Wire:
    """A socket for jalin_client.Peer: keeps what it sends, answers from
    a script."""

    def __init__(self, incoming):
        self.sent, self.incoming = b"", incoming

    def sendall(self, data):
        self.sent += data

    def recv(self, n):
        chunk, self.incoming = self.incoming[:n], self.incoming[n:]
        return chunk


def test_the_python_client_view_is_the_codes():
    _, msgs, slots = c_table()
    keys = {name: num for num, (name, _) in c_table()[0].items()}
    # its constants are the table's numbers
    for num, name in msgs.items():
        if hasattr(jalin_client, name):
            assert getattr(jalin_client, name) == num, name
    consts = [n for n in dir(jalin_client) if re.fullmatch(r"K_[A-Z_]+", n)]
    assert len(consts) >= 14
    for n in consts:
        assert getattr(jalin_client, n) == keys[n[2:]], n
    # every message it sends passes the C decoder, required keys included
    doc = [f for b in examples() if b[0] != 0x96 for f in raw_frames(b)]
    by_type = {frames(f)[0][K_TYPE]: f for f in doc}
    c = Peer.__new__(Peer)
    c.name, c.epoch, c.seen = "banten", os.urandom(16), []
    c.sock = _Wire(by_type[HELLO] + by_type[CHANGES] + by_type[7])
    c.hello()
    c.subscribe(os.urandom(16), 5)
    c.answer({K_TYPE: PING, K_TIME: 5})
    c.answer({K_TYPE: SUB})
    c.pull()  # SUB, then ACK of the CHANGES, until LIVE
    got = grammar("decode", c.sock.sent)
    assert got == ["ok HELLO", "ok SUB", "ok PONG", "ok LIVE", "ok SUB",
                   "ok ACK"]
    # and a message without a required key does not
    bad = msgpack.packb({K_TYPE: 6, 43: c.epoch}, use_bin_type=True)
    assert grammar("decode", struct.pack(">I", len(bad)) + bad) == [
        "error: ACK: required key 49 (UPTO) is missing"]


# --- what jalind really sends and answers --------------------------------

def top_level(body):
    """[(key, the first byte of its value)] of a frame body's map: the
    byte that says how the value is encoded (cf: uint 64, dd: array 32)."""
    u = msgpack.Unpacker(raw=False, strict_map_key=False)
    u.feed(body)
    out = []
    for _ in range(u.read_map_header()):
        key = u.unpack()
        out.append((key, body[u.tell():u.tell() + 1]))
        u.skip()
    return out


def test_the_changes_example_is_encoded_as_jalind_sends_it(make_node, ca):
    # section 11's note says UPTO is a cf integer and RECS a dd array:
    # the example must show it, and a real node must send it so
    from conftest import lks_record
    from fed import put
    j = make_node("jabar", 32)
    j.write_config(peers=[{"name": "banten"}])
    j.start()
    put(j, "lks", lks_record(1))
    cert, key = ca.node("banten")
    p = Peer("127.0.0.1", j.port, str(ca.ca_pem), str(cert), str(key),
             "jabar", "banten")
    try:
        p.hello()
        assert len(p.pull()) == 1
    finally:
        p.close()
    real = [f for f in p.seen if msgpack.unpackb(
        f, raw=False, strict_map_key=False)[K_TYPE] == CHANGES]
    (example,) = [f[4:] for b in examples() if b[0] != 0x96
                  for f in raw_frames(b) if frames(f)[0][K_TYPE] == CHANGES]
    want = top_level(example)
    assert [k for k, _ in top_level(real[0])] == [k for k, _ in want]
    shape = dict(want)
    assert shape[49] == b"\xcf" and shape[K_RECS] == b"\xdd"
    for f in real:
        got = dict(top_level(f))
        assert got[49] == shape[49] and got[K_RECS] == shape[K_RECS]


def doc_result_keys():
    sec = DOC[DOC.index("| request | RESULT keys |"):]
    out = {}
    for line in sec.splitlines()[2:]:
        if not line.startswith("|"):
            break
        req, keys = [c.strip() for c in line.strip("|").split("|")]
        out[req] = keys
    return out


def test_the_result_keys_in_the_document_are_what_the_node_answers(node):
    from conftest import lks_record
    from fed import put
    from jalin_client import admin_request
    rid = put(node, "lks", lks_record(1))
    doc = doc_result_keys()

    def keys(req):
        cell = doc[req]
        if "with VERSIONS" in cell:
            cell = cell.split("VERSIONS:")[-1]
        return set(re.findall(r"`(\w+)`", cell)) - {"index", "message"}

    def answer(msg):
        r = admin_request(node.socket, msg)
        assert r[2] == 0 and 3 not in r, r
        return set(r[4])

    assert answer({0: 32}) == keys("status")
    assert answer({0: 33, 16: "lks", 17: rid,
                   18: {"staff.total": 7}}) == keys("put, delete, purge")
    assert answer({0: 34, 16: "lks", 17: rid, 19: True}) == keys("get")
    assert answer({0: 37, 16: "lks"}) == keys("list, export")
    assert answer({0: 38}) == keys("list, export")
    assert answer({0: 39, 25: [["lks", None, lks_record(2)]]}) == keys(
        "import")
    assert answer({0: 40}) == keys("feed")
    assert answer({0: 41}) == keys("conflicts")
    assert answer({0: 42}) == keys("digest")
    assert answer({0: 45}) == keys("audit")
    assert answer({0: 35, 16: "lks", 17: rid, 20: "error"}) == keys(
        "put, delete, purge")
    # an error: ERROR, no RESULT
    r = admin_request(node.socket, {0: 44, 27: "nobody"})
    assert r[2] != 0 and 3 in r and 4 not in r, r
