"""Origin signatures at rest (PROTOCOL.md section 13): a node signs what
it writes, in batches, with its TLS key, and keeps with each record the
proof of every event in its state. Checked from the outside: the store is
read with mdb_dump, leaves and batch digests are recomputed by the
independent client's code (jalin_client.py, from PROTOCOL.md alone), and
the signatures verified with the node's certificate.

No timing assertions.
"""

import json
import subprocess

import msgpack
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from conftest import jsonl, lks_record
from jalin_client import (sig_batch_digest, sig_element, sig_leaf,
                          split_elements, state_entries)

COLL_LKS = 3


def dump(data_dir, db):
    """{key: value} of one named database, read with mdb_dump."""
    p = subprocess.run(["mdb_dump", "-s", db, str(data_dir)],
                       capture_output=True, text=True, check=True)
    lines = p.stdout.split("HEADER=END\n", 1)[1].splitlines()
    lines = [ln.strip() for ln in lines if ln.strip() != "DATA=END"]
    return {bytes.fromhex(lines[i]): bytes.fromhex(lines[i + 1])
            for i in range(0, len(lines) - 1, 2)}


def leb(b, i):
    x, shift = 0, 0
    while True:
        x |= (b[i] & 0x7F) << shift
        i += 1
        if not b[i - 1] & 0x80:
            return x, i
        shift += 7


def value_parts(v):
    """(proof or None, state) of a records value (storedb.h)."""
    _, i = leb(v, 4)
    proof = None
    if v[i] == 0xC1:
        n, i = leb(v, i + 1)
        proof, i = msgpack.unpackb(v[i:i + n]), i + n
    return proof, v[i:]


def batches(data_dir):
    out = {}
    for k, v in dump(data_dir, "batch").items():
        origin = k[1:1 + k[0]].decode()
        bno = int.from_bytes(k[1 + k[0]:], "big")
        kid, slen = v[:8], v[8]
        out[(origin, bno)] = (kid, v[9:9 + slen], v[9 + slen:])
    return out


def check_record(key, value, bat, pub):
    """Every signed event of the record recomputes its batch's leaf and
    every batch verifies; returns the number of signed events."""
    proof, state = value_parts(value)
    flags, origins, ctx, dots, entries = state_entries(state)
    coll, rid = key[0], key[1:]
    if proof is None:
        return 0
    dproofs, wits = proof[0], proof[1] if len(proof) > 1 else []
    assert len(dproofs) == len(dots)
    n = 0
    for di, (oi, hlc) in enumerate(dots):
        if dproofs[di] is None:
            continue
        back, idx = dproofs[di][:2]
        bno = hlc - back  # a batch is named by its first event's HLC
        missing = dproofs[di][2] if len(dproofs[di]) > 2 else b""
        els = [sig_element(t, v) for t, d, v in entries if d == di]
        els += split_elements(missing)
        tags = {e[:2] for e in els}
        kind = 2 if flags & 1 else 1 if b"\0\0" in tags else 0
        leaf = sig_leaf(coll, rid, origins[oi], hlc, kind, els)
        kid, sig, leaves = bat[(origins[oi], bno)]
        assert leaves[16 * idx:16 * idx + 16] == leaf, (origins[oi], bno)
        pub.verify(sig, sig_batch_digest(origins[oi], bno, kid, leaves),
                   ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        n += 1
    for oi, back, idx, el in wits:
        bno = ctx[oi] - back
        els = split_elements(el)
        kind = 1 if any(e[:2] == b"\0\0" for e in els) else 0
        leaf = sig_leaf(coll, rid, origins[oi], ctx[oi], kind, els)
        kid, sig, leaves = bat[(origins[oi], bno)]
        assert leaves[16 * idx:16 * idx + 16] == leaf
        n += 1
    return n


def test_writes_are_signed_in_batches(node, ca):
    recs = [{"collection": "lks", **lks_record(i)} for i in range(300)]
    node.ctl("import", "-", input=jsonl(recs))
    ids = [r["id"] for r in node.ctl_json("list", "lks", "--limit", "1000")]
    assert len(ids) == 300
    # a later write of one field: the first event keeps its proof through
    # the element of the value it lost
    rid = ids[0]
    node.ctl("put", "lks", rid, input=json.dumps({"status": "inactive"}))
    node.stop()

    cert = x509.load_pem_x509_certificate(ca.node("jabar")[0].read_bytes())
    pub = cert.public_key()
    spki = pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
    import hashlib
    kid = hashlib.sha256(spki).digest()[:8]
    bat = batches(node.data_dir)
    assert bat, "no signed batch stored"
    assert all(b[0] == kid for b in bat.values())
    # 300 imported events need at least two batches of at most 256
    assert max(len(b[2]) // 16 for b in bat.values()) <= 256
    assert len(bat) >= 2
    signed = 0
    partial = 0
    for k, v in dump(node.data_dir, "records").items():
        signed += check_record(k, v, bat, pub)
        proof, _ = value_parts(v)
        partial += any(d is not None and len(d) > 2 for d in proof[0])
    assert signed >= 301
    assert partial == 1  # the record whose status was written again


def test_altered_value_does_not_verify(node, ca):
    node.ctl("put", "lks", input=json.dumps(lks_record(1)))
    node.stop()
    cert = x509.load_pem_x509_certificate(ca.node("jabar")[0].read_bytes())
    bat = batches(node.data_dir)
    (k, v), = dump(node.data_dir, "records").items()
    assert check_record(k, v, bat, cert.public_key()) == 1
    # the same record with one byte of one value changed: the leaf differs
    i = v.rfind(b"Ketua")
    assert i > 0
    bad = v[:i] + b"k" + v[i + 1:]
    with pytest.raises(AssertionError):
        check_record(k, bad, bat, cert.public_key())
    # and a batch whose leaves changed does not verify
    (_, bno), (kid, sig, leaves) = next(iter(bat.items()))
    with pytest.raises(InvalidSignature):
        cert.public_key().verify(
            sig, sig_batch_digest("jabar", bno, kid, bytes(16) + leaves[16:]),
            ec.ECDSA(utils.Prehashed(hashes.SHA256())))
