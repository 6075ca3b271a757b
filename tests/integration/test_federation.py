"""Federation: real jalind processes with real certificates replicate over
TLS on 127.0.0.1 and converge (equal digests, byte-identical exports), in a
chain, a star and a ring; concurrent edits, deletes, purges and the
sharing scope of cases behave as DESIGN.md §2 and §4 say."""

import random
import time

from conftest import case_record, lks_record, jsonl
from fed import (export, federation, get, put, status,
                 wait_converged, wait_live, wait_until)

REGIONS3 = {"jabar": 32, "banten": 36, "sulsel": 73}


def import_lks(node, n, seed, start=0):
    rng = random.Random(seed)
    data = jsonl({"collection": "lks", **lks_record(start + i, rng)}
                 for i in range(n))
    node.ctl("import", "-", input=data)


def test_chain_of_three_converges(make_node):
    nodes = federation(make_node, REGIONS3,
                       [("jabar", "banten"), ("banten", "sulsel")])
    for i, n in enumerate(nodes.values()):
        import_lks(n, 200, seed=i, start=1000 * i)
    wait_converged(nodes.values())
    counts = status(nodes["sulsel"])["records"]
    assert counts["lks"] == 600


def test_concurrent_edits_different_fields_both_survive(make_node):
    """Two offices edit a case they share (an lks is its origin's alone:
    PROTOCOL.md 8.2)."""
    nodes = federation(make_node, REGIONS3,
                       [("jabar", "banten"), ("banten", "sulsel")])
    j, b, s = nodes["jabar"], nodes["banten"], nodes["sulsel"]
    rid = put(j, "case", case_record(1, share_with=["banten", "sulsel"]))
    wait_until("the record at sulsel", lambda: get(s, "case", rid, False))
    b.stop()  # jabar and sulsel cannot see each other now
    put(j, "case", {"status": "assessment"}, rid)
    put(s, "case", {"address": "Jl. Urip Sumoharjo No. 3, Makassar"}, rid)
    b.start()
    wait_converged(nodes.values())
    for n in nodes.values():
        r = get(n, "case", rid)
        assert r["status"] == "assessment"
        assert r["address"] == "Jl. Urip Sumoharjo No. 3, Makassar"
        assert n.ctl_json("conflicts") == []


def test_concurrent_edits_same_field_make_one_conflict(make_node):
    nodes = federation(make_node, REGIONS3,
                       [("jabar", "banten"), ("banten", "sulsel")])
    j, b, s = nodes["jabar"], nodes["banten"], nodes["sulsel"]
    rid = put(j, "case", case_record(2, share_with=["banten", "sulsel"]))
    wait_until("the record at sulsel", lambda: get(s, "case", rid, False))
    b.stop()
    put(j, "case", {"address": "Jl. Asia Afrika No. 8, Kota Bandung"}, rid)
    put(s, "case", {"address": "Jl. Urip Sumoharjo No. 3, Kota Makassar"},
        rid)
    b.start()
    wait_converged(nodes.values())
    winner = get(j, "case", rid)["address"]
    for n in nodes.values():
        cs = n.ctl_json("conflicts")
        assert len(cs) == 1, cs
        c = cs[0]
        assert c["id"] == rid and c["field"] == "address"
        values = {c["value"]} | {o["value"] for o in c["others"]}
        # nothing anyone typed is lost: both values are listed
        assert values == {"Jl. Asia Afrika No. 8, Kota Bandung",
                          "Jl. Urip Sumoharjo No. 3, Kota Makassar"}
        assert get(n, "case", rid)["address"] == winner
    # writing the field again resolves it everywhere
    put(b, "case", {"address": winner}, rid)
    wait_converged(nodes.values())
    for n in nodes.values():
        assert n.ctl_json("conflicts") == []


def test_deletes_and_purges_reach_every_node(make_node):
    nodes = federation(make_node, REGIONS3,
                       [("jabar", "banten"), ("banten", "sulsel")])
    j, s = nodes["jabar"], nodes["sulsel"]
    gone = put(j, "lks", lks_record(3))
    erased = put(s, "lks", lks_record(4, name="Yayasan Rahasia Bersama"))
    wait_converged(nodes.values())
    # each by its origin (PROTOCOL.md 8.2)
    j.ctl("delete", "lks", gone, "--reason", "duplicate")
    s.ctl("purge", "lks", erased)
    wait_converged(nodes.values())
    for n in nodes.values():
        assert n.ctl("get", "lks", gone, check=False).returncode == 1
        p = n.ctl("get", "lks", erased, check=False)
        assert p.returncode == 1 and "purged" in p.stderr
        raw = n.ctl("get", "--versions", "lks", erased).stdout
        assert "Rahasia" not in raw
        assert "Rahasia" not in export(n)
        # a later put to the purged id is refused on every node
        p = n.ctl("put", "lks", erased, input='{"status": "active"}',
                  check=False)
        assert p.returncode == 1 and "purged" in p.stderr


def test_star_of_five_converges(make_node):
    regions = {"pusat": 31, "jabar": 32, "banten": 36, "sulsel": 73,
               "jatim": 35}
    edges = [(leaf, "pusat") for leaf in regions if leaf != "pusat"]
    nodes = federation(make_node, regions, edges,
                       node_keys={"pusat": {"all_cases": "yes"}},
                       peer_keys={("pusat", leaf): {"all_cases": "yes"}
                                  for leaf in regions})
    for i, n in enumerate(nodes.values()):
        import_lks(n, 100, seed=10 + i, start=1000 * i)
        put(n, "partnership", {"agreement_type": "pks",
                               "title": f"PKS rehabilitasi sosial {n.name}",
                               "status": "active"})
    wait_converged(nodes.values())
    assert status(nodes["jatim"])["records"]["lks"] == 500


def test_ring_of_four_converges_without_loops(make_node):
    regions = {"jabar": 32, "banten": 36, "sulsel": 73, "jatim": 35}
    names = list(regions)
    edges = [(names[i], names[(i + 1) % 4]) for i in range(4)]
    nodes = federation(make_node, regions, edges)
    for i, n in enumerate(nodes.values()):
        import_lks(n, 150, seed=20 + i, start=1000 * i)
    wait_converged(nodes.values())
    seqs = {n.name: status(n)["seq"] for n in nodes.values()}
    # every record is in every feed once; nothing circulates
    for n in nodes.values():
        assert seqs[n.name] == 600, seqs
    wait_until("the ring to stay quiet",
               lambda: {n.name: status(n)["seq"]
                        for n in nodes.values()} == seqs, timeout=5)


def test_case_goes_only_where_it_is_shared(make_node):
    regions = {"pusat": 31, "jabar": 32, "banten": 36, "sulsel": 73}
    edges = [("jabar", "pusat"), ("banten", "pusat"), ("sulsel", "pusat"),
             ("jabar", "sulsel")]
    nodes = federation(make_node, regions, edges,
                       node_keys={"pusat": {"all_cases": "yes"}},
                       peer_keys={(n, "pusat"): {"all_cases": "yes"}
                                  for n in regions})
    j, b, s, p = (nodes[n] for n in ("jabar", "banten", "sulsel", "pusat"))
    rid = put(j, "case", case_record(1, share_with=["banten"]))
    wait_until("the case at banten", lambda: get(b, "case", rid, False))
    wait_until("the case at pusat", lambda: get(p, "case", rid, False))
    # an lks written after the case has passed every hop
    marker = put(j, "lks", lks_record(99))
    wait_until("the marker at sulsel", lambda: get(s, "lks", marker, False))
    assert get(s, "case", rid, check=False) is None
    assert '"case"' not in export(s)
    assert all(e["collection"] != "case"
               for e in s.ctl_json("feed")["entries"])
    # the deletion follows the record to exactly where it was
    j.ctl("delete", "case", rid)
    wait_until("the delete at banten",
               lambda: b.ctl("get", "case", rid, check=False).stderr.find(
                   "deleted") >= 0)
    assert s.ctl("get", "case", rid, check=False).stderr.find(
        "no such record") >= 0


def test_case_taken_out_of_share_with_is_erased_there(make_node):
    """DOMAIN.md privacy 2: removing a node from share_with means the data
    must be deleted there, not left to go stale, whether the node is
    online, offline (it learns from its feed), or misses the change until
    the case is deleted."""
    regions = {"pusat": 31, "jabar": 32, "banten": 36, "sulsel": 73}
    edges = [("jabar", "pusat"), ("banten", "pusat"), ("sulsel", "pusat"),
             ("jabar", "banten")]
    nodes = federation(make_node, regions, edges,
                       node_keys={"pusat": {"all_cases": "yes"}},
                       peer_keys={(n, "pusat"): {"all_cases": "yes"}
                                  for n in regions})
    j, b, s, p = (nodes[n] for n in ("jabar", "banten", "sulsel", "pusat"))
    name = "Wa Ode Sitti Rahmawati"
    rid = put(j, "case", case_record(1, full_name=name,
                                     share_with=["banten", "sulsel"]))
    for n in (b, s, p):
        wait_until(f"the case at {n.name}",
                   lambda n=n: get(n, "case", rid, False))

    # online: banten is taken out; it erases its copy, the others keep it
    put(j, "case", {"share_with": ["sulsel"]}, rid)
    wait_until("the case gone from banten",
               lambda: get(b, "case", rid, False) is None)
    gone = b.ctl("get", "case", rid, check=False)
    assert gone.returncode == 1 and "no such record" in gone.stderr
    assert name not in export(b)
    assert name not in b.ctl("get", "--versions", "case", rid,
                             check=False).stdout
    assert status(b)["records"]["case"] == 0
    for n in (j, s, p):
        wait_until(f"unshared_from at {n.name}",
                   lambda n=n: (get(n, "case", rid) or {}).get(
                       "unshared_from") == ["banten"])
        assert get(n, "case", rid)["full_name"] == name
    assert "no longer shared with this node" in b.log()
    # later edits do not reach banten, through either of its peers
    put(j, "case", {"status": "outreach"}, rid)
    wait_until("the edit at sulsel",
               lambda: get(s, "case", rid)["status"] == "outreach")
    marker = put(j, "lks", lks_record(98))
    wait_until("the marker at banten", lambda: get(b, "lks", marker, False))
    assert get(b, "case", rid, False) is None
    assert all(e["collection"] != "case"
               for e in b.ctl_json("feed")["entries"])

    # the node never sets unshared_from by hand
    bad = j.ctl("put", "case", rid, input='{"unshared_from": []}',
                check=False)
    assert bad.returncode != 0 and "unshared_from" in bad.stderr

    # put back: banten gets the case again, unshared_from is cleared
    put(j, "case", {"share_with": ["sulsel", "banten"]}, rid)
    wait_until("the case back at banten",
               lambda: (get(b, "case", rid, False) or {}).get(
                   "status") == "outreach")
    assert "unshared_from" not in get(b, "case", rid)
    wait_converged([j, b, s, p], coll="case")

    # offline: sulsel misses the change while it is stopped, and learns it
    # from pusat's feed when it comes back
    s.stop()
    put(j, "case", {"share_with": ["banten"]}, rid)
    wait_until("unshared_from at pusat",
               lambda: get(p, "case", rid).get("unshared_from") == [
                   "sulsel"])
    s.start()
    wait_until("the case gone from sulsel",
               lambda: get(s, "case", rid, False) is None)
    assert name not in export(s)

    # missed until deleted: the tombstone reaches a node withdrawn from
    put(j, "case", {"share_with": ["banten", "sulsel"]}, rid)
    wait_until("the case back at sulsel",
               lambda: get(s, "case", rid, False) is not None)
    s.stop()
    put(j, "case", {"share_with": ["banten"]}, rid)
    j.ctl("delete", "case", rid, "--reason", "duplicate")
    wait_until("the delete at pusat",
               lambda: "deleted" in p.ctl("get", "case", rid,
                                          check=False).stderr)
    s.start()
    wait_until("the delete at sulsel",
               lambda: "deleted" in s.ctl("get", "case", rid,
                                          check=False).stderr)
    assert name not in export(s)


def test_verification_withdraws_a_copy_that_came_back(make_node):
    """A node taken out of share_with gets an old copy again from a peer
    that never saw the change; the feed of the node that made the change
    has nothing new for it, so verification must find the copy and
    withdraw it."""
    regions = {"jabar": 32, "banten": 36, "sulsel": 73}
    nodes = federation(make_node, regions,
                       [("banten", "jabar"), ("sulsel", "jabar")])
    j, b, s = nodes["jabar"], nodes["banten"], nodes["sulsel"]
    rid = put(j, "case", case_record(2, full_name="La Ode Salinan Lama",
                                     share_with=["banten", "sulsel"]))
    for n in (b, s):
        wait_until(f"the case at {n.name}",
                   lambda n=n: get(n, "case", rid, False))
    s.stop()
    put(j, "case", {"share_with": ["sulsel"]}, rid)
    wait_until("the case gone from banten",
               lambda: get(b, "case", rid, False) is None)
    j.stop()
    b.stop()
    # banten and sulsel now peer with each other too
    jab = {"name": "jabar", "address": f"127.0.0.1:{j.port}"}
    b.write_config(peers=[jab, {"name": "sulsel"}], stall_timeout=3)
    s.write_config(peers=[jab, {"name": "banten",
                                "address": f"127.0.0.1:{b.port}"}],
                   stall_timeout=3)
    b.start()
    s.start()
    wait_until("sulsel's old copy at banten",
               lambda: get(b, "case", rid, False) is not None)
    s.stop()
    # jabar checks only when asked: banten's check must do it alone
    j.write_config(peers=[{"name": "banten"}, {"name": "sulsel"}],
                   stall_timeout=3, verify_interval=0)
    j.start()
    wait_live(j, "banten")
    # whichever side starts it, the check ends with the copy withdrawn:
    # banten's repair of its copy is answered with a withdrawal
    r = b.ctl_json("verify", "jabar")
    assert r["differing"] >= 1, r
    wait_until("the copy withdrawn again",
               lambda: get(b, "case", rid, False) is None)
    assert b.log().count("no longer shared with this node") >= 2
    assert j.ctl_json("verify", "banten")["in_sync"] is True


def test_node_back_from_a_long_outage_applies_purges_before_serving(
        make_node):
    """DOMAIN.md privacy 6: a node offline for longer than offline_hold
    (72 h by default; 2 s here) shows no records until it has caught up
    with a peer, so a purge made meanwhile is applied before anyone can
    read the erased values there."""
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")],
                       node_keys={"banten": {"offline_hold": "2"}})
    j, b = nodes["jabar"], nodes["banten"]
    kept = put(j, "lks", lks_record(5))
    erased = put(j, "lks", lks_record(6, name="Yayasan Dihapus Permanen"))
    wait_until("both at banten", lambda: get(b, "lks", erased, False))
    wait_live(b, "jabar")
    b.stop()
    time.sleep(2.5)
    j.ctl("purge", "lks", erased)
    j.stop()
    # banten starts with no peer reachable: it holds its records back
    b.start()
    for args in (("get", "lks", erased), ("list", "lks"), ("export",),
                 ("feed",), ("conflicts",)):
        p = b.ctl(*args, check=False)
        assert p.returncode == 1, (args, p.stdout)
        assert "offline_hold" in p.stderr and "purges" in p.stderr, p.stderr
        assert "Dihapus" not in p.stdout
    st = status(b)
    assert st["offline_hold_since"] is not None
    assert "not shown until a peer is caught up" in b.ctl("status").stdout
    assert st["records"]["lks"] == 2  # counts and digests stay available
    b.wait_log("records are not served")
    # jabar back: banten applies the purge, then serves again
    j.start()
    wait_until("banten serving again",
               lambda: status(b)["offline_hold_since"] is None)
    p = b.ctl("get", "lks", erased, check=False)
    assert p.returncode == 1 and "purged" in p.stderr
    assert get(b, "lks", kept)["status"]
    assert "Dihapus" not in export(b)
    b.wait_log("serving records again")


def test_records_past_retention_are_purged_by_their_origin(make_node):
    """DOMAIN.md privacy 10: a record whose retention_until has passed is
    purged automatically, by the node that created it, and the purge
    reaches its peers; records still within retention, and records other
    nodes created, are left alone."""
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")],
                       node_keys={"jabar": {"retention_check": "1"},
                                  "banten": {"retention_check": "0"}})
    j, b = nodes["jabar"], nodes["banten"]
    old = put(j, "lks", lks_record(1, name="Yayasan Arsip Lama",
                                   retention_until="2020-12-31"))
    keep = put(j, "lks", lks_record(2, retention_until="2999-12-31"))
    plain = put(j, "lks", lks_record(3))
    theirs = put(b, "lks", lks_record(4, retention_until="2020-12-31"))
    for n in (j, b):
        wait_until(f"the purge at {n.name}",
                   lambda n=n: "purged" in n.ctl("get", "lks", old,
                                                 check=False).stderr)
        assert "Arsip Lama" not in export(n)
        for rid in (keep, plain, theirs):
            assert get(n, "lks", rid)["status"]
    raw = j.ctl("get", "--versions", "lks", old, check=False)
    assert "retention_expired" in raw.stdout + raw.stderr
    j.wait_log("retention: purged lks")
    # the next passes find nothing more to do
    time.sleep(2.5)
    assert j.log().count("retention: purged lks") == 1
    assert get(j, "lks", theirs)["status"]


def test_stopped_node_catches_up(make_node):
    nodes = federation(make_node, REGIONS3,
                       [("jabar", "banten"), ("banten", "sulsel")])
    j, s = nodes["jabar"], nodes["sulsel"]
    import_lks(j, 100, seed=30)
    wait_converged(nodes.values())
    s.stop()
    import_lks(j, 300, seed=31, start=5000)
    s.start()
    wait_converged(nodes.values())
    assert status(s)["records"]["lks"] == 400
    wait_live(s, "banten")
