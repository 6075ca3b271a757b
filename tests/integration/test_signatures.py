"""Origin signatures on the wire (PROTOCOL.md section 13, protocol 4):
a hostile office in the middle of a chain.

jabar and sulsel are real nodes that sign what they write. banten holds a
real federation certificate and is a configured peer of both, but here it
is the independent client of jalin_client.py (written from PROTOCOL.md
alone): it pulls jabar's signed records, with their proofs, batches and
certificate, and relays them to sulsel as a hostile relay would: altered,
stripped of their signature, under a forged origin, replayed, and signed by
a revoked certificate. Each is refused and logged with its rule and
nothing stored changes; the genuine relayed record is accepted; afterwards
the honest link jabar-sulsel replicates and `jalinctl verify` says in sync.
No timing assertions.
"""

import json
import time
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from conftest import lks_record
from fed import (export, federation, get, peer_status, put, wait_live,
                 wait_until)
from jalin_client import (ACK, BATCH, CERT, CHANGES, ERROR, K_BNO, K_CERT,
                          K_EPOCH, K_ERROR, K_FROM, K_HEAD, K_KID, K_LEAVES,
                          K_ORIGIN, K_RECS, K_SIG, K_TIME, K_TYPE, K_UPTO,
                          SUB, Peer, ProtocolError, make_state,
                          sig_batch_digest)

LKS = 3


def pair(make_node, origin="jabar"):
    """origin and sulsel, not linked to each other; banten (the hostile
    client) is a configured peer of both."""
    nodes = federation(make_node, {origin: 32, "sulsel": 73}, [],
                       start=False)
    for n in nodes.values():
        n.write_config(peers=[{"name": "banten"}], stall_timeout=3)
        n.start()
    return nodes[origin], nodes["sulsel"]


@pytest.fixture
def fed(make_node):
    return pair(make_node)


def connect(node, ca):
    cert, key = ca.node("banten")
    c = Peer("127.0.0.1", node.port, str(ca.ca_pem), str(cert), str(key),
             node.name, "banten")
    c.hello(versions=(3, 4))
    return c


def pull_from(node, ca):
    """Everything node's feed offers banten, with the protocol-4 extras."""
    c = connect(node, ca)
    recs = c.pull()
    c.close()
    return c, {rid: (coll, state) for _, coll, rid, state in recs}


class Relay:
    """banten's connection to sulsel: CERT, BATCH and CHANGES of its
    choosing; each push waits for the ACK (a refused record is still
    acknowledged) or raises the node's ERROR."""

    def __init__(self, node, ca):
        self.c = connect(node, ca)
        self.seq = 0
        while True:
            m = self.c.recv()
            if m[K_TYPE] == SUB:
                break
            self.c.answer(m)

    def send(self, msg):
        self.c.send(msg)

    def push(self, recs):
        frm, upto = self.seq, self.seq + len(recs)
        self.c.send({K_TYPE: CHANGES, K_EPOCH: self.c.epoch, K_FROM: frm,
                     K_UPTO: upto, K_HEAD: upto,
                     K_TIME: int(time.time() * 1000),
                     K_RECS: [[frm + i + 1, LKS, rid, st, proof]
                              for i, (rid, st, proof) in enumerate(recs)]})
        while True:
            m = self.c.recv()
            if m[K_TYPE] == ERROR:
                raise ProtocolError(m.get(K_ERROR))
            if m[K_TYPE] == ACK and m[K_UPTO] == upto:
                break
            if m[K_TYPE] != SUB:
                self.c.answer(m)
        self.seq = upto

    def close(self):
        self.c.close()


def refused(node, rid, why):
    node.wait_log(f"peer banten: lks {uuid.UUID(bytes=rid)} refused: "
                  f"signature: {why}")


def altered(state, old, new):
    """The state with one value's text changed (a coded string re-coded)."""
    from jalin_client import decode_value, encode_value
    fmt, flags, origins, ctx, dots, entries = state
    entries = list(entries)
    for i in range(1, len(entries), 2):
        if decode_value(entries[i]) == old:
            entries[i] = encode_value(new)
            return [fmt, flags, origins, ctx, dots, entries]
    raise AssertionError(f"no value {old!r}")


def test_a_hostile_relay_cannot_alter_strip_forge_or_replay(fed, ca):
    j, s = fed
    name = "Yayasan Sahabat Lansia Makassar 00042"
    rid = put(j, "lks", lks_record(42, name=name))
    rb = uuid.UUID(rid).bytes
    src, recs = pull_from(j, ca)
    coll, state = recs[rb]
    proof = src.proofs[rb]
    assert proof is not None, "jabar's own record carries no proof"
    assert len(src.certs) == 1 and len(src.batches) == 1
    (origin, bno), batch = next(iter(src.batches.items()))
    assert origin == "jabar"
    before = export(s)

    relay = Relay(s, ca)
    relay.send({K_TYPE: CERT, K_CERT: src.certs[0]})
    relay.send(batch)
    # altered: one value changed, the proof kept
    relay.push([(rb, altered(state, name, name + " (palsu)"), proof)])
    refused(s, rb, "an event that is not what its origin signed")
    # stripped: the genuine state without its proof (jabar is known to
    # sign: sulsel holds its batch now)
    relay.push([(rb, state, None)])
    refused(s, rb, "an unsigned event of a node that signs its writes")
    # forged: a new lks record claiming origin jabar, unsigned
    fid = bytes.fromhex("0190a1b2c3d47e5f8a9b0c1d2e3f4a5b")
    forged = make_state([("jabar", int(time.time() * 1000) << 16, {
        1: "jabar", 16: "Yayasan Palsu", 18: "yayasan", 47: "active"})])
    relay.push([(fid, forged, None)])
    refused(s, fid, "an unsigned event of a node that signs its writes")
    assert export(s) == before, "a refused state changed sulsel's store"
    st = peer_status(s, "banten")
    assert st["refused_signature"] == 3, st
    # the genuine record, relayed by banten with its proof: accepted, as
    # jabar wrote it, and replayed: nothing changes
    relay.push([(rb, state, proof)])
    wait_until("sulsel to hold jabar's record",
               lambda: get(s, "lks", rid, check=False))
    assert get(s, "lks", rid) == get(j, "lks", rid)
    after = export(s)
    relay.push([(rb, state, proof)])
    assert export(s) == after
    relay.close()


def test_a_batch_signed_with_another_nodes_key_closes_the_link(fed, ca):
    j, s = fed
    relay = Relay(s, ca)
    cert, key = ca.node("banten")
    der = __import__("cryptography.x509", fromlist=["x"]) \
        .load_pem_x509_certificate(cert.read_bytes()) \
        .public_bytes(serialization.Encoding.DER)
    relay.send({K_TYPE: CERT, K_CERT: der})
    pk = serialization.load_pem_private_key(key.read_bytes(), None)
    import hashlib
    kid = hashlib.sha256(pk.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)).digest()[:8]
    leaves = bytes(16)
    sig = pk.sign(sig_batch_digest("jabar", 7, kid, leaves),
                  ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    relay.send({K_TYPE: BATCH, K_ORIGIN: "jabar", K_BNO: 7, K_KID: kid,
                K_SIG: sig, K_LEAVES: leaves})
    with pytest.raises((ProtocolError, ConnectionError)):
        relay.push([])
    s.wait_log("BATCH of jabar is signed by banten's key")
    relay.close()


def test_events_of_a_revoked_node_are_refused(make_node, ca):
    # an origin of its own: the CA is shared by every test of the session
    j, s = pair(make_node, "kaltara")
    rid = put(j, "lks", lks_record(7))
    src, recs = pull_from(j, ca)
    assert uuid.UUID(rid).bytes in recs
    ca.run("revoke", "kaltara")
    ca.run("crl")
    s.signal(__import__("signal").SIGHUP)
    s.wait_log("reload")
    relay = Relay(s, ca)
    # a revoked certificate does not close the link (an honest relay may
    # still hold batches it signed, PROTOCOL.md 13.6): it is logged, and
    # the events of its batches are refused
    relay.send({K_TYPE: CERT, K_CERT: src.certs[0]})
    relay.send(next(iter(src.batches.values())))
    rb = uuid.UUID(rid).bytes
    relay.push([(rb, recs[rb][1], src.proofs[rb])])
    s.wait_log("peer banten: certificate refused: certificate revoked")
    refused(s, rb, "an event signed with a refused (revoked) certificate")
    assert get(s, "lks", rid, check=False) is None
    relay.close()


def test_the_honest_link_replicates_signed_records(make_node, ca):
    """jabar - sulsel over protocol 4: records arrive with their proofs,
    sulsel passes them on signed (a third node gets them through it), and
    verify says in sync."""
    nodes = federation(make_node, {"jabar": 32, "sulsel": 73, "jatim": 35},
                       [("sulsel", "jabar"), ("jatim", "sulsel")])
    j, s, t = nodes["jabar"], nodes["sulsel"], nodes["jatim"]
    wait_live(s, "jabar", "jatim")
    rid = put(j, "lks", lks_record(3))
    wait_until("jatim to hold jabar's record through sulsel",
               lambda: get(t, "lks", rid, check=False))
    assert "protocol 4" in s.log()
    assert peer_status(t, "sulsel")["refused_records"] == 0
    assert peer_status(t, "sulsel")["refused_signature"] == 0

    def verified():
        p = t.ctl("--json", "verify", "sulsel", check=False)
        return json.loads(p.stdout) if p.returncode in (0, 1) else None
    v = wait_until("jatim to verify sulsel", verified, interval=1)
    assert v["in_sync"] is True, v


def test_verify_repairs_a_relayed_record_with_its_proof(make_node, ca):
    """A record of jabar's reaches jatim through sulsel; jatim's copy is
    damaged on disk; sulsel's verification repairs it with REPAIR, which
    over protocol 4 carries the record's proof and batch: jatim takes it,
    though sulsel did not write it."""
    from jalin_client import encode_value, verify
    from test_status import corrupt_on_disk
    nodes = federation(make_node, {"jabar": 32, "sulsel": 73, "jatim": 35},
                       [("sulsel", "jabar"), ("jatim", "sulsel")])
    j, s, t = nodes["jabar"], nodes["sulsel"], nodes["jatim"]
    name = "Yayasan Rusak Di Disk Jatim 77"
    rid = put(j, "lks", lks_record(77, name=name))
    wait_until("jatim to hold jabar's record",
               lambda: get(t, "lks", rid, check=False))
    t.stop()
    assert corrupt_on_disk(t, encode_value(name).data) >= 1
    t.start()
    assert t.ctl("get", "lks", rid, check=False).returncode == 1
    wait_live(s, "jatim")
    r = verify(s.socket, "jatim")
    assert r["differing"] >= 1 and r["in_sync"] is True, r
    assert get(t, "lks", rid)["name"] == name
    assert peer_status(t, "sulsel")["refused_signature"] == 0
