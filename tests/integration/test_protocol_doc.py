"""The examples of protocol/PROTOCOL.md section 11 are what the protocol
says: every frame's length is right and its msgpack decodes to the end,
HELLO offers the version this build speaks, and the record state (alone
and inside CHANGES) decodes, with the independent client's decoder, to
the fields the text names. So the document cannot drift from the code
without a test failing."""

import pathlib
import re
import struct

import msgpack

from jalin_client import (CHANGES, HELLO, K_PV_MAX, K_PV_MIN, K_RECS,
                          K_TYPE, CODE_LEN, encode_value, record_fields)

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
