"""jalinctl federation: every node's view of its peers in one table.

A star of five real nodes (four regional offices dialling the national
node). The command must print the whole matrix, name the nodes it could
not reach and why, and finish by itself even when an address accepts TCP
and never answers: the subprocess timeout below turns a hang into a
failure; no test measures time.
"""

import json
import random
import re

import pytest

from conftest import ctl, lks_record, jsonl
from fed import (federation, peer_state, wait_converged, wait_live,
                 wait_until)

HUB = "nasional"
LEAVES = {"jabar": 32, "banten": 36, "jatim": 35, "sulsel": 73}
STAR = {HUB: 31, **LEAVES}
EDGES = [(leaf, HUB) for leaf in LEAVES]
HANG_TIMEOUT = 90  # a bound on a command that must end by itself


@pytest.fixture
def star(make_node):
    nodes = federation(make_node, STAR, EDGES)
    wait_live(nodes[HUB], *LEAVES)
    for leaf in LEAVES:
        wait_live(nodes[leaf], HUB)
    rng = random.Random(11)
    nodes["jabar"].ctl("import", "-", input=jsonl(
        {"collection": "lks", **lks_record(i, rng)} for i in range(20)))
    wait_converged(nodes.values())
    return nodes


def admin(ca):
    cert, key = ca.admin("budi")
    return ["--cert", cert, "--key", key, "--ca", ca.ca_pem]


def fed(*args, ok=(0,)):
    p = ctl(*args, timeout=HANG_TIMEOUT)
    assert p.returncode in ok, p.stderr
    return p


def expected_link(row, col):
    return (row == HUB) != (col == HUB)  # the star's edges, both ways


def check_matrix(m, nodes):
    assert set(m["nodes"]) == set(STAR)
    assert all(m["nodes"][n]["node"] == n for n in STAR)
    assert set(m["matrix"]) == set(STAR)
    for row in STAR:
        peers = m["matrix"][row]
        assert set(peers) == {c for c in STAR if expected_link(row, c)}
        for cell in peers.values():
            assert cell["state"] == "live"
            assert set(cell) == {"state", "lag_records", "lag_seconds"}


def check_table(text):
    lines = text.splitlines()
    head = lines[0].split()
    assert head[0] == "NODE" and set(head[1:]) == set(STAR), lines[0]
    rows = {ln.split()[0]: ln for ln in lines[1:len(STAR) + 1]}
    assert set(rows) == set(STAR), text
    for row, line in rows.items():
        cells = re.split(r"\s{2,}", line.strip())[1:]
        assert len(cells) == len(STAR), line
        for col, cell in zip(head[1:], cells):
            if expected_link(row, col):
                assert re.fullmatch(r"live \d+", cell), (row, col, cell)
            else:
                assert cell == "-", (row, col, cell)


def test_star_of_five_full_matrix_over_admin_sockets(star):
    socks = [str(star[n].socket) for n in STAR]
    m = json.loads(fed("--json", "federation", *socks).stdout)
    check_matrix(m, star)
    assert m["unreachable"] == []
    check_table(fed("federation", *socks).stdout)


def test_star_of_five_full_matrix_over_tls(star, ca):
    addrs = [f"127.0.0.1:{star[n].port}" for n in STAR]
    p = fed(*admin(ca), "--json", "federation", *addrs)
    m = json.loads(p.stdout)
    assert m["unreachable"] == [] and set(m["nodes"]) == set(STAR)
    assert all(m["nodes"][n] is not None for n in STAR)
    check_matrix(m, star)
    check_table(fed(*admin(ca), "federation", *addrs).stdout)


def test_federation_from_a_config(star, ca):
    # a leaf's config: itself over its socket, the hub over TLS (the CA
    # from the config's [tls] ca)
    cert, key = ca.admin("budi")
    m = json.loads(fed("-c", star["jabar"].conf, "--cert", cert, "--key",
                       key, "--json", "federation").stdout)
    assert m["nodes"]["jabar"]["node"] == "jabar"
    assert m["nodes"][HUB]["node"] == HUB
    assert m["matrix"]["jabar"] == {HUB: m["matrix"]["jabar"][HUB]}
    assert m["matrix"]["jabar"][HUB]["state"] == "live"
    # the hub's config names its leaves without addresses (they dial in):
    # it is asked, they are listed as not asked, with the reason
    p = fed("-c", star[HUB].conf, "--json", "federation")
    m = json.loads(p.stdout)
    assert set(m["matrix"]) == {HUB}
    assert {u["name"] for u in m["unreachable"]} == set(LEAVES)
    for u in m["unreachable"]:
        assert u["address"] is None
        assert u["error"].startswith("not asked: its [peer] section has "
                                     "no address")
    text = fed("-c", star[HUB].conf, "federation").stdout
    assert "not reached:" in text and "  jatim: not asked" in text


def test_stopped_and_hanging_nodes_are_named(star, ca, hanging):
    star["sulsel"].stop()
    wait_until("the hub to see sulsel go", lambda: peer_state(
        star[HUB], "sulsel") in ("down", "connecting"))
    socks = [str(star[n].socket) for n in STAR]
    hang = f"127.0.0.1:{hanging}"
    p = fed(*admin(ca), "--timeout", "2", "--json", "federation", *socks,
            hang, ok=(1,))
    m = json.loads(p.stdout)
    assert set(m["matrix"]) == set(STAR) - {"sulsel"}
    assert m["nodes"]["sulsel"] is None  # known: a peer of the hub
    why = {u["address"]: u["error"] for u in m["unreachable"]}
    # the socket that failed, the hanging address, and sulsel by name: a
    # peer of the hub that nothing tells us how to ask
    assert set(why) == {str(star["sulsel"].socket), hang, None}
    assert [u["name"] for u in m["unreachable"] if u["address"] is None] \
        == ["sulsel"]
    assert why[hang] == ("timed out in the TLS handshake (no answer "
                         "within 2 s)")
    assert "No such file or directory" in why[str(star["sulsel"].socket)] \
        or "Connection refused" in why[str(star["sulsel"].socket)]
    assert m["matrix"][HUB]["sulsel"]["state"] in ("down", "connecting")
    p = fed(*admin(ca), "--timeout", "2", "federation", *socks, hang,
            ok=(1,))
    assert f"  {hang}: timed out in the TLS handshake" in p.stdout
    assert f"  {star['sulsel'].socket}: " in p.stdout
    assert re.search(r"\nnasional .*(down|connecting) \d+", p.stdout)
    # nothing answers at all: exit 3
    p = fed(*admin(ca), "--timeout", "1", "federation", hang, ok=(3,))
    assert "timed out" in p.stdout
