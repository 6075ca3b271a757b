"""A hostile office: write authority and the schema (PROTOCOL.md 8.2).

sulsel holds a real federation certificate and is a configured peer of
jabar, but here it is the independent client of jalin_client.py, written
from PROTOCOL.md alone, sending states no honest node would: writes to
another office's records, deletes and purges it may not make, an erasure by
a raised causal context, values that break the schema. Each is refused and
logged with its rule, nothing stored changes (jabar's and banten's exports
stay byte for byte what they were), the honest link jabar-banten keeps
replicating, and `jalinctl verify` between them still says in sync."""

import json
import os
import time
import uuid

import pytest

from conftest import case_record, lks_record
from fed import (digest, export, federation, get, peer_status, put,
                 wait_live, wait_until)
from jalin_client import (ACK, CHANGES, ERROR, K_EPOCH, K_ERROR, K_FROM,
                          K_HEAD, K_RECS, K_TIME, K_TYPE, K_UPTO, SUB, Peer,
                          ProtocolError, make_state)

LKS, CASE = 3, 1
T_ORIGIN, T_SHARE_WITH = 1, 4
LKS_NAME, LKS_LEGAL_FORM, LKS_STATUS = 16, 18, 47


@pytest.fixture
def fed(make_node):
    """jabar with peers banten (honest, live) and sulsel (the hostile
    client), each record kind jabar's own."""
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")], start=False)
    j = nodes["jabar"]
    j.write_config(peers=[{"name": "banten"}, {"name": "sulsel"}])
    j.start()
    nodes["banten"].start()
    wait_live(j, "banten")
    return j, nodes["banten"]


def uuid7():
    ms = int(time.time() * 1000)
    r = os.urandom(10)
    return (ms.to_bytes(6, "big") + bytes([0x70 | (r[0] & 0x0F), r[1],
                                           0x80 | (r[2] & 0x3F)]) + r[3:])


def now_hlc():
    return int(time.time() * 1000) << 16


class Hostile:
    """sulsel's connection to jabar: HELLO, then CHANGES of our own."""

    def __init__(self, j, ca):
        cert, key = ca.node("sulsel")
        self.c = Peer("127.0.0.1", j.port, str(ca.ca_pem), str(cert),
                      str(key), "jabar", "sulsel")
        self.c.hello()
        self.seq = 0
        while True:  # jabar subscribes to our (empty) feed
            m = self.c.recv()
            if m[K_TYPE] == SUB:
                break
            if m[K_TYPE] == ERROR:
                raise ProtocolError(m.get(K_ERROR))
            self.c.answer(m)

    def push(self, recs):
        """One CHANGES frame of (collection, id, state) and its ACK."""
        frm, upto = self.seq, self.seq + len(recs)
        self.c.send({K_TYPE: CHANGES, K_EPOCH: self.c.epoch, K_FROM: frm,
                     K_UPTO: upto, K_HEAD: upto, K_TIME: now_hlc(),
                     K_RECS: [[frm + i + 1, coll, rid, st]
                              for i, (coll, rid, st) in enumerate(recs)]})
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


def snapshot(j, b):
    return export(j), export(b)


def refused(j, rid, coll, why):
    j.wait_log(f"peer sulsel: {coll} {uuid.UUID(bytes=rid)} refused: {why}")


def honest_links_hold(j, b, before):
    """Nothing stored changed, jabar and banten still replicate, and a
    verification between them says in sync."""
    assert snapshot(j, b) == before, "a refused state changed the store"
    rid = put(j, "lks", lks_record(int(time.time() * 1000) % 100000))
    wait_until("banten to receive a new record",
               lambda: get(b, "lks", rid, check=False))
    # (the case shared with sulsel alone is not banten's to hold)
    wait_until("equal digests of lks",
               lambda: digest(j)["lks"] == digest(b)["lks"])

    def verified():
        p = j.ctl("--json", "verify", "banten", check=False)
        return json.loads(p.stdout) if p.returncode in (0, 1) else None
    v = wait_until("jabar to verify banten", verified, interval=1)
    assert v["in_sync"] is True, v


def jabar_case(j):
    """A case of jabar's, shared with sulsel; its id as bytes."""
    rid = put(j, "case", case_record(1, share_with=["sulsel"]))
    return rid, uuid.UUID(rid).bytes


def with_origin(extra):
    """jabar's origin_node and share_with as an early write (it loses to
    what jabar holds), so that jabar sees the state is shared with it,
    plus the hostile write events."""
    return [("jabar", 1 << 16, {T_ORIGIN: "jabar",
                                T_SHARE_WITH: ["sulsel"]})] + extra


def test_write_to_another_offices_lks(fed, ca):
    j, b = fed
    lid = put(j, "lks", lks_record(1))
    rid = uuid.UUID(lid).bytes
    forged = uuid7()
    wait_until("banten to hold jabar's lks",
               lambda: get(b, "lks", lid, check=False))
    before = snapshot(j, b)
    h = Hostile(j, ca)
    h.push([(LKS, rid, make_state([("sulsel", now_hlc(),
                                    {LKS_NAME: "Yayasan Palsu"})])),
            # a new lks naming banten as its origin, written by sulsel
            (LKS, forged, make_state([("sulsel", now_hlc(), {
                T_ORIGIN: "banten", LKS_NAME: "Yayasan Banten Palsu",
                LKS_LEGAL_FORM: "yayasan", LKS_STATUS: "active"})]))])
    refused(j, rid, "lks",
            "authority: lks.name written by sulsel: only its origin "
            "writes a record of this collection (origin jabar)")
    refused(j, forged, "lks",
            "origin: lks.origin_node written by sulsel: a new record's "
            "origin_node must name the node that wrote it")
    assert get(j, "lks", str(uuid.UUID(bytes=forged)), check=False) is None
    p = peer_status(j, "sulsel")
    assert p["refused_authority"] == 1 and p["refused_origin"] == 1, p
    assert p["refused_records"] == 2, p
    assert "origin: lks.origin_node written by sulsel" in p["last_refusal"]
    h.close()
    honest_links_hold(j, b, before)


def test_purge_and_delete_by_another_office(fed, ca):
    j, b = fed
    lid = put(j, "lks", lks_record(2))
    cid, crid = jabar_case(j)
    lrid = uuid.UUID(lid).bytes
    wait_until("banten to hold jabar's lks",
               lambda: get(b, "lks", lid, check=False))
    name = get(j, "lks", lid)["name"]
    before = snapshot(j, b)
    h = Hostile(j, ca)
    t = now_hlc()
    h.push([(LKS, lrid, make_state(
        [("sulsel", t, {0: ["erasure_request", None, None]})],
        purged=True))])
    refused(j, lrid, "lks", "authority: lks purge by sulsel: only its "
            "origin (jabar) may delete or purge it")
    h.push([(LKS, lrid, make_state([("sulsel", t + 1,
                                     {0: [None, None]})]))])
    h.push([(CASE, crid, make_state(with_origin(
        [("sulsel", t + 2, {0: [None, ["jabar", "sulsel"]]})])))])
    refused(j, crid, "case", "authority: case delete by sulsel: only its "
            "origin (jabar) or an all_cases node may delete or purge it")
    assert get(j, "lks", lid)["name"] == name
    assert get(j, "case", cid)["origin_node"] == "jabar"
    assert peer_status(j, "sulsel")["refused_authority"] == 3
    h.close()
    honest_links_hold(j, b, before)


def test_share_with_widened_by_another_office(fed, ca):
    j, b = fed
    cid, crid = jabar_case(j)
    before = snapshot(j, b)
    h = Hostile(j, ca)
    h.push([(CASE, crid, make_state(with_origin(
        [("sulsel", now_hlc(), {T_SHARE_WITH: ["sulsel", "jatim"]})])))])
    refused(j, crid, "case",
            "authority: case.share_with written by sulsel: only its origin "
            "or an all_cases node writes this field (origin jabar)")
    assert get(j, "case", cid)["share_with"] == ["sulsel"]
    h.close()
    honest_links_hold(j, b, before)


def test_erasure_by_a_raised_context(fed, ca):
    """The state claims to have seen jabar's writes (its context for
    jabar) but holds none of them, and writes nothing of jabar's."""
    j, b = fed
    lid = put(j, "lks", lks_record(3))
    rid = uuid.UUID(lid).bytes
    wait_until("banten to hold jabar's lks",
               lambda: get(b, "lks", lid, check=False))
    before = snapshot(j, b)
    h = Hostile(j, ca)
    t = now_hlc()
    h.push([(LKS, rid, make_state([("sulsel", t + 1, {200: "x"})],
                                  ctx={"jabar": t}))])
    refused(j, rid, "lks", "erasure: lks.origin_node of jabar lost without "
            "a write that saw it")
    assert peer_status(j, "sulsel")["refused_erasure"] == 1
    h.close()
    honest_links_hold(j, b, before)


@pytest.mark.parametrize("fields,why", [
    ({LKS_NAME: 7, LKS_LEGAL_FORM: "yayasan", LKS_STATUS: "active"},
     "schema: sulsel wrote lks.name: expected a string, got an integer"),
    ({LKS_NAME: "Yayasan", LKS_LEGAL_FORM: "yayasan", LKS_STATUS: "closed"},
     "schema: sulsel wrote lks.status: 'closed' is not one of active, "
     "inactive, suspended, revoked"),
    ({LKS_NAME: "a" * 300, LKS_LEGAL_FORM: "yayasan", LKS_STATUS: "active"},
     "schema: sulsel wrote lks.name: 300 bytes exceeds the limit of 256"),
    ({LKS_NAME: "Yayasan Tanpa Bentuk"},
     "schema: new record: lks: required field 'legal_form' is missing"),
], ids=["type", "enum", "size", "required"])
def test_schema_violation(fed, ca, fields, why):
    j, b = fed
    before = snapshot(j, b)
    h = Hostile(j, ca)
    bad, good = uuid7(), uuid7()
    ok = {LKS_NAME: "Yayasan Sulsel", LKS_LEGAL_FORM: "yayasan",
          LKS_STATUS: "active"}
    t = now_hlc()
    h.push([(LKS, bad, make_state([("sulsel", t,
                                    {**fields, T_ORIGIN: "sulsel"})])),
            # the rest of the frame is applied: a valid record of its own
            (LKS, good, make_state([("sulsel", t,
                                     {**ok, T_ORIGIN: "sulsel"})]))])
    refused(j, bad, "lks", why)
    assert get(j, "lks", str(uuid.UUID(bytes=bad)), check=False) is None
    gid = str(uuid.UUID(bytes=good))
    assert get(j, "lks", gid)["name"] == "Yayasan Sulsel"
    assert peer_status(j, "sulsel")["refused_schema"] == 1
    h.close()
    # sulsel's own record travels on to banten, as it should; the rest of
    # the store is what it was
    wait_until("banten to hold sulsel's record",
               lambda: get(b, "lks", gid, check=False))
    for node, was in zip((j, b), before):
        now = export(node).splitlines()
        assert [x for x in now if gid not in x] == was.splitlines()
    rid = put(j, "lks", lks_record(9))
    wait_until("banten to receive a new record",
               lambda: get(b, "lks", rid, check=False))
