"""Signed batches at rest (PROTOCOL.md 13.2, 13.6): what a node keeps.

A node stores a batch only while a stored record's proof refers to it, and
deletes it in the transaction that drops the last reference; so a hostile
office (banten, the independent client of jalin_client.py, with its own
valid certificate) that floods BATCH frames, or sends them with records
that are refused, makes nobody's disk grow, and the honest link goes on.
A certificate revoked while a node runs (a new CRL, SIGHUP) signs nothing
more from then on, even for a batch the node already holds.

The store is read with mdb_dump (test_signing.py). No timing assertions.
"""

import json
import os
import signal
import time
import uuid

import pytest

from fed import (get, peer_status, put, status, wait_converged, wait_live,
                 wait_until)
from conftest import jsonl, lks_record
from jalin_client import BATCH, CERT, K_BNO, K_CERT, K_KID, K_LEAVES, \
    K_ORIGIN, K_SIG, K_TYPE, make_state
from test_signatures import Relay, pair, pull_from, refused
from test_signing import batches, dump

LEAVES = 256 * 16  # the largest batch: JALIN_SIG_BATCH_MAX leaves


@pytest.fixture
def fed(make_node):
    """jabar and sulsel, not linked; banten a configured peer of both."""
    return pair(make_node)


def linked_with_banten(make_node):
    """jabar and sulsel replicate with each other; banten (the hostile
    client) is a configured peer of sulsel."""
    j, s = make_node("jabar", 32), make_node("sulsel", 73)
    j.write_config(peers=[{"name": "sulsel",
                           "address": f"127.0.0.1:{s.port}"}],
                   stall_timeout=3)
    s.write_config(peers=[{"name": "jabar"}, {"name": "banten"}],
                   stall_timeout=3)
    s.start()
    j.start()
    wait_live(s, "jabar")
    return j, s


def garbage_batch(bno):
    """A BATCH of banten's own: 256 random leaves, a signature that is not
    one. The receiver does not verify a batch of the sender's own events
    (its TLS identity vouches for them)."""
    return {K_TYPE: BATCH, K_ORIGIN: "banten", K_BNO: bno,
            K_KID: os.urandom(8), K_SIG: os.urandom(70),
            K_LEAVES: os.urandom(LEAVES)}


def bad_lks(hlc):
    """banten's own lks with a name only: the schema refuses it."""
    return make_state([("banten", hlc, {1: "banten", 16: "Yayasan Banjir"})])


def used(node):
    return status(node)["store"]["map_used"]


def test_a_flood_of_batches_is_not_stored(make_node, ca):
    j, s = linked_with_banten(make_node)
    rid = put(j, "lks", lks_record(1))
    wait_until("sulsel to hold jabar's record",
               lambda: get(s, "lks", rid, check=False))
    before_used, before = used(s), batches(s.data_dir)
    relay = Relay(s, ca)
    # batches with records that refer to them and are refused: 5 x 100
    # (2 MiB of leaves)
    hlc, sent = int(time.time() * 1000) << 16, 0
    for _ in range(5):
        recs = []
        for _ in range(100):
            hlc += 1
            relay.send(garbage_batch(hlc))
            recs.append((uuid.uuid7().bytes if hasattr(uuid, "uuid7")
                         else os.urandom(16), bad_lks(hlc), [[[0, 0]]]))
        relay.push(recs)
        sent += len(recs)
    # and batches alone, more than a connection may hold before their
    # records: the oldest are dropped
    for _ in range(300):
        hlc += 1
        relay.send(garbage_batch(hlc))
    relay.push([])
    s.wait_log("BATCH frames that no stored record refers to: the oldest "
               "are dropped, not stored")
    assert peer_status(s, "banten")["refused_records"] == sent
    held = batches(s.data_dir)
    assert not [k for k in held if k[0] == "banten"], \
        "a batch no stored record refers to was stored"
    assert held == before
    # 2.4 MiB were sent; what the refusals wrote is far less
    assert used(s) - before_used < 512 << 10, (before_used, used(s))
    relay.close()
    # the honest link goes on, and verify says in sync
    rid2 = put(j, "lks", lks_record(2))
    wait_until("sulsel to hold jabar's next record",
               lambda: get(s, "lks", rid2, check=False))
    p = s.ctl("--json", "verify", "jabar")
    assert json.loads(p.stdout)["in_sync"] is True, p.stdout


def test_batches_of_purged_records_are_collected(make_node, ca):
    j, s = linked_with_banten(make_node)
    a = put(j, "lks", lks_record(1))
    b = put(j, "lks", lks_record(2))
    wait_until("sulsel to hold both records",
               lambda: get(s, "lks", b, check=False) and
               get(s, "lks", a, check=False))
    first, second = sorted(batches(j.data_dir))
    assert set(batches(s.data_dir)) == {first, second}
    # a's only event was in the first batch; its purge leaves none of it
    j.ctl("purge", "lks", a, "--reason", "duplicate")
    wait_converged([j, s])
    for n in (j, s):
        held = set(batches(n.data_dir))
        assert first not in held, (n.name, "the batch of a purged record "
                                   "was kept")
        assert second in held and len(held) == 2, (n.name, held)
        refs = dump(n.data_dir, "bref")
        counts = {k: int.from_bytes(v, "big") for k, v in refs.items()
                  if len(k) > 1 + k[0]}
        assert sorted(counts.values()) == [1, 1], (n.name, counts)
        # jabar stays known to sign: its mark outlives its batches
        assert bytes([5]) + b"jabar" in refs


def test_a_revocation_at_sighup_refuses_events_of_a_batch_held(make_node,
                                                              ca):
    """kalbar's two records are in one batch. banten relays the first to
    sulsel with the batch and certificate (accepted: stored). kalbar's
    certificate is revoked and sulsel reloads: the second record, from the
    batch sulsel holds and on the connection that sent the certificate, is
    refused, and again on a new connection."""
    k, s = pair(make_node, "kalbar")
    recs = [{"collection": "lks", **lks_record(i)} for i in (1, 2)]
    k.ctl("import", "-", input=jsonl(recs))
    src, got = pull_from(k, ca)
    assert len(got) == 2 and len(src.batches) == 1 and len(src.certs) == 1
    (r1, (_, st1)), (r2, (_, st2)) = sorted(got.items())
    relay = Relay(s, ca)
    relay.send({K_TYPE: CERT, K_CERT: src.certs[0]})
    relay.send(next(iter(src.batches.values())))
    relay.push([(r1, st1, src.proofs[r1])])
    wait_until("sulsel to hold kalbar's first record",
               lambda: get(s, "lks", str(uuid.UUID(bytes=r1)), check=False))
    assert ("kalbar", next(iter(src.batches))[1]) in batches(s.data_dir)
    ca.run("revoke", "kalbar")
    ca.run("crl")
    s.signal(signal.SIGHUP)
    s.wait_log("reload")
    why = "an event signed with a certificate refused: certificate revoked"
    relay.push([(r2, st2, src.proofs[r2])])
    refused(s, r2, why)
    relay.close()
    # a new connection: sulsel subscribes from its checkpoint, in the
    # epoch of the first
    epoch, seq = relay.c.epoch, relay.seq
    relay = Relay(s, ca)
    relay.c.epoch, relay.seq = epoch, seq
    relay.push([(r2, st2, src.proofs[r2])])
    wait_until("the refusal on a new connection",
               lambda: peer_status(s, "banten")["refused_signature"] == 2)
    assert get(s, "lks", str(uuid.UUID(bytes=r2)), check=False) is None
    # what sulsel held before stays (PROTOCOL.md 13.6)
    assert get(s, "lks", str(uuid.UUID(bytes=r1)), check=False)
    relay.close()


def test_a_forged_purge_below_the_origins_context_is_refused(fed, ca):
    """A purge wins over a live state whatever its HLC: banten relays a
    purge of jabar's lks claiming origin jabar, unsigned, with an HLC
    below jabar's context on the record (so it is no newer event than
    what sulsel holds). It is refused, and the record stays."""
    j, s = fed
    rid = put(j, "lks", lks_record(5))
    rb = uuid.UUID(rid).bytes
    src, recs = pull_from(j, ca)
    relay = Relay(s, ca)
    relay.send({K_TYPE: CERT, K_CERT: src.certs[0]})
    relay.send(next(iter(src.batches.values())))
    relay.push([(rb, recs[rb][1], src.proofs[rb])])
    wait_until("sulsel to hold jabar's record",
               lambda: get(s, "lks", rid, check=False))
    held = get(s, "lks", rid)
    hlc = recs[rb][1][3][0]  # jabar's context: its one write
    purge = make_state([("jabar", hlc - 1, {0: [None, None, ["banten"]]})],
                       purged=True)
    relay.push([(rb, purge, None)])
    refused(s, rb, "an unsigned event of a node that signs its writes")
    assert get(s, "lks", rid) == held
    relay.close()
