"""Mixed federation: the current jalind replicates with the real jalin
0.3.0, and an office moves from 0.3.0 to the current build on its own.

jalin 0.3.0 is commit ae87eb0 (there is no tag). The test builds it from
this clone's history (git archive + make) into build/jalin-0.3.0-<commit>/,
once: later runs reuse it. It skips only when git or that commit is not
there (a shallow clone); a build that fails is a failure.

Three real jalind processes with certificates from certs/jalin-ca, real
TLS on 127.0.0.1, in a chain with 0.3.0 in the middle, so everything the
two current nodes exchange passes through it:

    jabar (current) -> banten (0.3.0) -> sulsel (current)

Every office writes records of every collection and deletes and purges
some of its own; every node ends with the same records, `jalinctl verify`
says in sync on every link, and each side's status shows the other live.
Then banten is upgraded in place, as an operator would: stop 0.3.0, start
the current jalind on the same data directory; it rejoins with nothing
lost and replicates on.

The protocol of each link is the highest version both ends offer in HELLO
(PROTOCOL.md). What each build offers is read from its own HELLO with the
independent client (jalin_client.py): 0.3.0 offers 3-3, and the current
build must still offer 3 (the rolling upgrade depends on it). While the
current build offers 3 only, the chain is a same-protocol federation; once
it offers more, this same test is the mixed case. Writes, deletes and
purges are made by each record's origin, as write authority allows.

No time is measured: waits poll for a state with generous limits.
"""

import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import BUILD, REPO, case_record, ctl, jsonl, lks_record
from fed import (federation, get, peer_status, put, status, wait_live,
                 wait_until)
from jalin_client import K_PV_MAX, K_PV_MIN, Peer

RELEASE = "0.3.0"
RELEASE_COMMIT = "ae87eb0"  # "Review: values canonical where they enter"
RELEASE_PROTO = 3
REGIONS = {"jabar": 32, "banten": 36, "sulsel": 73}
CHAIN = [("jabar", "banten"), ("banten", "sulsel")]
SECRET = "Rahasia"  # only in purged records

# The build of an older release must not inherit this run's make
# (SANITIZE=1, BUILD=build/san, a jobserver) or compiler flags.
MAKE_ENV_DROP = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                 "SANITIZE", "BUILD", "CFLAGS", "CPPFLAGS", "LDFLAGS")


# -- the 0.3.0 build ----------------------------------------------------

def git(*args):
    return subprocess.run(["git", "-C", str(REPO), *args],
                          capture_output=True, text=True, timeout=120)


def release_commit():
    """The full hash of RELEASE_COMMIT, or a skip saying why there is
    none."""
    if shutil.which("git") is None:
        pytest.skip(f"git is not installed: cannot build jalin {RELEASE} "
                    f"(commit {RELEASE_COMMIT}) for the mixed federation")
    if git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip(f"{REPO} is not a git clone: cannot build jalin "
                    f"{RELEASE} (commit {RELEASE_COMMIT})")
    p = git("rev-parse", "--verify", "--quiet",
            f"{RELEASE_COMMIT}^{{commit}}")
    if p.returncode != 0:
        pytest.skip(f"commit {RELEASE_COMMIT} (jalin {RELEASE}) is not in "
                    f"this clone's history (a shallow clone? "
                    f"'git fetch --unshallow' brings it)")
    return p.stdout.strip()


def build_release(commit):
    """Build the release's jalind and jalinctl in a directory of their
    own under build/, named by commit; moved into place only once built,
    so an interrupted or concurrent build is never taken for a done one."""
    top = REPO / "build" / f"jalin-{RELEASE}-{commit[:12]}"
    if (top / "built").exists():
        return top / "build"
    top.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{top.name}-", dir=top.parent)
    try:
        archive = subprocess.Popen(
            ["git", "-C", str(REPO), "archive", "--format=tar", commit],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        untar = subprocess.run(["tar", "-x", "-C", tmp], stdin=archive.stdout,
                               capture_output=True, timeout=300)
        archive.stdout.close()
        err = archive.stderr.read().decode(errors="replace")
        if archive.wait() != 0 or untar.returncode != 0:
            pytest.fail(f"git archive {commit} | tar -x failed: {err}"
                        f"{untar.stderr.decode(errors='replace')}")
        env = {k: v for k, v in os.environ.items() if k not in MAKE_ENV_DROP}
        p = subprocess.run(["make", "-C", tmp, "-j2", "build/jalind",
                            "build/jalinctl"], capture_output=True,
                           text=True, env=env, timeout=1800)
        if p.returncode != 0:
            pytest.fail(f"building jalin {RELEASE} (commit {commit[:12]}) "
                        f"in {tmp} failed (exit {p.returncode}):\n"
                        f"{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        with open(os.path.join(tmp, "built"), "w") as f:
            f.write(commit + "\n")
        try:
            os.rename(tmp, top)
        except OSError:
            if not (top / "built").exists():  # not a concurrent build
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return top / "build"


@pytest.fixture(scope="module")
def release():
    """The build directory of jalin 0.3.0 (jalind, jalinctl)."""
    build = build_release(release_commit())
    p = subprocess.run([str(build / "jalind"), "-V"], capture_output=True,
                       text=True, timeout=30)
    assert p.stdout.strip() == f"jalind {RELEASE}", p.stdout + p.stderr
    return build


# -- what a build speaks -------------------------------------------------

def offered(make_node, ca, build, name):
    """(min, max): the protocol versions a build's jalind offers in its
    HELLO, answering a peer that offers protocol 3 only (which it must
    accept: the independent client raises the node's ERROR otherwise)."""
    n = make_node(name, 31)
    n.build = build
    n.write_config(peers=[{"name": f"{name}-peer"}])
    n.start()
    cert, key = ca.node(f"{name}-peer")
    c = Peer("127.0.0.1", n.port, str(ca.ca_pem), str(cert), str(key), name,
             f"{name}-peer")
    try:
        m = c.hello((RELEASE_PROTO, RELEASE_PROTO))
    finally:
        c.close()
    n.stop()
    return m[K_PV_MIN], m[K_PV_MAX]


def check_link_protocol(node, peer, want):
    """Where status or the log names a link's protocol version, it is
    want. (Today neither does; a build that shows it is checked.)"""
    st = peer_status(node, peer)
    shown = {k: v for k, v in st.items() if "proto" in k}
    for k, v in shown.items():
        assert v == want, f"{node.name}'s status of {peer}: {k} = {v!r}, " \
            f"expected protocol {want}"
    logged = re.findall(rf"peer {peer}: up\b.*\bprotocol (\d+)",
                        node.log())
    if logged:
        assert int(logged[-1]) == want, f"{node.name} logs protocol " \
            f"{logged[-1]} with {peer}, expected {want}"


# -- records -------------------------------------------------------------

def write_everything(node, others, seed, n_lks=60):
    """Records of every collection written at node; cases and referrals
    shared with the others. Returns {collection: [ids]} and the ids of an
    lks to delete and one to purge."""
    rng = random.Random(seed)
    base = 1000 * seed

    def own_lks():
        return {r["id"] for r in records(node)
                if r["collection"] == "lks" and r["origin_node"] == node.name}
    before = own_lks()
    node.ctl("import", "-", input=jsonl(
        {"collection": "lks", **lks_record(base + i, rng)}
        for i in range(n_lks)))
    ids = {"lks": sorted(own_lks() - before)}
    assert len(ids["lks"]) == n_lks
    ids["partnership"] = [put(node, "partnership", {
        "agreement_type": "pks", "status": "active",
        "title": f"PKS rehabilitasi sosial {node.name} {seed}"})]
    ids["resource"] = [put(node, "resource", {
        "owner_unit": str(uuid.UUID(int=rng.getrandbits(128))),
        "kind": "bed", "subtype": "PDM laki-laki dewasa",
        "capacity_total": 40, "capacity_available": 12})]
    cid = put(node, "case", case_record(base, rng, share_with=others))
    ids["case"] = [cid]
    ids["referral"] = [put(node, "referral", {
        "legal_basis": "vital_interest", "case_id": cid,
        "from_unit": str(uuid.UUID(int=rng.getrandbits(128))),
        "to_unit": str(uuid.UUID(int=rng.getrandbits(128))),
        "to_kind": "rsj", "urgency": "urgent", "status": "sent",
        "share_with": others})]
    gone = put(node, "lks", lks_record(base + 900, rng))
    erased = put(node, "lks", lks_record(
        base + 901, rng, name=f"Yayasan {SECRET} {node.name}"))
    return ids, gone, erased


def records(node):
    """Every record the node shows, parsed, in export order. Compared as
    values, not bytes: each node is read with its own jalinctl."""
    out = node.ctl("--purpose", "mixed federation test", "export").stdout
    return [json.loads(line) for line in out.splitlines()]


def wait_same_records(nodes):
    nodes = list(nodes)

    def same():
        got = [records(n) for n in nodes]
        return got[0] if all(g == got[0] for g in got[1:]) else None
    return wait_until(f"{[n.name for n in nodes]} to hold the same records",
                      same)


def held(recs, ids):
    have = {(r["collection"], r["id"]) for r in recs}
    return [(c, i) for c, lst in ids.items() for i in lst
            if (c, i) not in have]


def verified(node, peer):
    """verify until it has a verdict on a quiet link; it must be in
    sync."""
    def once():
        p = node.ctl("verify", peer, check=False)
        return p if p.returncode == 0 else None
    p = wait_until(f"{node.name} to verify {peer}", once, interval=1)
    assert re.match(rf"{peer}: in sync: [1-9]\d* records compared",
                    p.stdout), p.stdout
    return p


def check_links(nodes, want_proto):
    """Both ends of every link: live, in sync, nothing refused, the link's
    protocol."""
    for a, b in CHAIN:
        for x, y in ((a, b), (b, a)):
            wait_live(nodes[x], y)
            verified(nodes[x], y)
            st = peer_status(nodes[x], y)
            assert st["state"] == "live", st
            assert st["refused_records"] == 0, st  # nothing held back
            check_link_protocol(nodes[x], y, want_proto[frozenset((x, y))])


def check_deleted(node, coll, rid):
    """A record that was there is gone: deleted, or no such record once
    every peer has acknowledged the tombstone and it was collected."""
    p = node.ctl("get", coll, rid, check=False)
    assert p.returncode == 1 and ("deleted" in p.stderr
                                  or "no such record" in p.stderr), \
        f"{node.name}: get {coll} {rid}: {p.returncode} {p.stderr}"


def check_purged(node, rid):
    p = node.ctl("get", "lks", rid, check=False)
    assert p.returncode == 1 and "purged" in p.stderr, \
        f"{node.name}: get lks {rid}: {p.returncode} {p.stderr}"
    p = node.ctl("put", "lks", rid, input='{"status": "active"}',
                 check=False)
    assert p.returncode == 1 and "purged" in p.stderr, p.stderr


def test_a_030_office_relays_for_current_ones_and_upgrades_in_place(
        make_node, ca, release):
    new_pv = offered(make_node, ca, BUILD, "probe-current")
    old_pv = offered(make_node, ca, release, "probe-release")
    assert old_pv == (RELEASE_PROTO, RELEASE_PROTO), old_pv
    assert new_pv[0] <= RELEASE_PROTO <= new_pv[1], \
        f"the current build offers protocol {new_pv[0]}-{new_pv[1]}: it " \
        f"must still speak {RELEASE_PROTO} with {RELEASE} nodes"
    print(f"current build offers protocol {new_pv[0]}-{new_pv[1]}, "
          f"{RELEASE} offers {old_pv[0]}-{old_pv[1]}: the chain is "
          f"{'mixed' if new_pv[1] > RELEASE_PROTO else 'one protocol'}")

    # the upgrade as the README says it: an office on 0.4 seals nothing
    # while another still runs 0.3 (which cannot store a sealed value)
    nodes = federation(make_node, REGIONS, CHAIN, start=False,
                       node_keys={"jabar": {"seal": "no"},
                                  "sulsel": {"seal": "no"}})
    j, b, s = nodes["jabar"], nodes["banten"], nodes["sulsel"]
    b.build = release
    # 0.3.0 knows no [tls] roster; once upgraded, banten learns the
    # encryption keys from its peers
    conf04 = b.conf.read_text()
    b.conf.write_text("".join(ln for ln in conf04.splitlines(True)
                              if not ln.startswith("roster = ")))
    for n in nodes.values():
        n.start()
    assert status(b)["version"] == RELEASE
    mixed = {frozenset(e): RELEASE_PROTO for e in CHAIN}

    # every office writes every collection; all of it crosses banten
    ids, gone, erased, referral = {}, {}, {}, {}
    for seed, n in enumerate(nodes.values(), 1):
        others = sorted(set(REGIONS) - {n.name})
        ids[n.name], gone[n.name], erased[n.name] = write_everything(
            n, others, seed)
    recs = wait_same_records(nodes.values())
    for name in REGIONS:
        assert held(recs, ids[name]) == [], f"{name}'s records missing"
    assert {r["collection"] for r in recs} == {
        "case", "partnership", "lks", "resource", "referral"}
    assert sum(r["collection"] == "lks" for r in recs) == 3 * 62

    # each origin deletes and purges its own records, through banten
    for name, n in nodes.items():
        n.ctl("delete", "lks", gone[name], "--reason", "duplicate")
        n.ctl("purge", "lks", erased[name], "--reason", "error")
        n.ctl("delete", "referral", ids[name]["referral"][0])
        referral[name] = ids[name].pop("referral")[0]
    recs = wait_same_records(nodes.values())
    assert sum(r["collection"] == "lks" for r in recs) == 3 * 60
    assert not any(r["collection"] == "referral" for r in recs)
    for n in nodes.values():
        for name in REGIONS:
            check_deleted(n, "lks", gone[name])
            check_deleted(n, "referral", referral[name])
            check_purged(n, erased[name])
        assert SECRET not in n.ctl("--purpose", "mixed federation test",
                                   "export").stdout
    check_links(nodes, mixed)
    # what an operator of a current office sees of the 0.3.0 one
    text = j.ctl("status").stdout
    assert re.search(r"peer banten \(127\.0\.0\.1:\d+\): in sync", text), \
        text

    # banten's upgrade: stop 0.3.0, start the current build on its data
    before = records(b)
    b.stop()
    # meanwhile its neighbours write on; what they wait for is counted
    waiting = {n.name: put(n, "lks", lks_record(700, name=f"Yayasan "
                                                f"Sabar {n.name}"))
               for n in (j, s)}
    for n in (j, s):
        wait_until(f"{n.name} to see banten gone",
                   lambda n=n: peer_status(n, "banten")["state"] != "live")
        assert peer_status(n, "banten")["lag_records"] >= 1
    b.build = BUILD
    b.conf.write_text(conf04)  # the upgrade installs the roster too
    b.start()
    after = records(b)
    lost = [r for r in before if r not in after]
    assert lost == [], f"banten lost records in the upgrade: {lost}"
    assert ctl("--db", b.data_dir, "digest").returncode == 0, \
        "the current jalinctl cannot read the upgraded store"
    current = {frozenset(e): new_pv[1] for e in CHAIN}
    for name in REGIONS:
        check_deleted(b, "lks", gone[name])
        check_deleted(b, "referral", referral[name])
        check_purged(b, erased[name])
    # it replicates on: new records and edits from every office, banten's
    # older ones edited by their origin
    for seed, n in enumerate(nodes.values(), 10):
        others = sorted(set(REGIONS) - {n.name})
        more, _, _ = write_everything(n, others, seed, n_lks=20)
        ids[n.name] = {c: ids[n.name].get(c, []) + more[c] for c in more}
    put(b, "lks", {"status": "inactive"}, ids["banten"]["lks"][0])
    recs = wait_same_records(nodes.values())
    for name in REGIONS:
        assert held(recs, ids[name]) == [], f"{name}'s records missing"
    assert held(recs, {"lks": list(waiting.values())}) == []
    assert get(s, "lks", ids["banten"]["lks"][0])["status"] == "inactive"
    check_links(nodes, current)
    for n in nodes.values():
        assert n.ctl_json("conflicts") == []
