"""Helpers for federation tests: build topologies of real jalind processes
with real certificates on 127.0.0.1, and wait for them to converge.

Waits poll for a state with generous limits; nothing here times anything.
"""

import json
import time

import pytest

WAIT = 120  # seconds; a bound on waiting, not a measurement


def wait_until(what, fn, timeout=WAIT, interval=0.1):
    """Poll fn until it returns a true value; fail naming what we waited
    for."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {what} (last: {last!r})")


def federation(make_node, regions, edges, node_keys=None, peer_keys=None,
               start=True):
    """Nodes {name: region}; edges [(a, b)]: a dials b, both list each
    other as peers. node_keys: {name: {key: value}} extra [node] keys;
    peer_keys: {(a, b): {key: value}} extra keys of a's [peer b]."""
    node_keys = node_keys or {}
    peer_keys = peer_keys or {}
    nodes = {n: make_node(n, r) for n, r in regions.items()}
    peers = {n: [] for n in regions}
    for a, b in edges:
        pa = {"name": b, "address": f"127.0.0.1:{nodes[b].port}"}
        pa.update(peer_keys.get((a, b), {}))
        pb = {"name": a}
        pb.update(peer_keys.get((b, a), {}))
        peers[a].append(pa)
        peers[b].append(pb)
    for n, node in nodes.items():
        keys = {"stall_timeout": 3}
        keys.update(node_keys.get(n, {}))
        node.write_config(peers=peers[n], **keys)
    if start:
        for node in nodes.values():
            node.start()
    return nodes


def digest(node):
    return node.ctl_json("digest")


def export(node, coll=None):
    args = ["export"] + ([coll] if coll else [])
    return node.ctl(*args).stdout


def converged(nodes, coll="all"):
    ds = [digest(n)[coll] for n in nodes]
    return len(set(ds)) == 1


def wait_converged(nodes, coll="all", timeout=WAIT):
    """Equal digests, then byte-identical exports."""
    nodes = list(nodes)
    wait_until(f"{[n.name for n in nodes]} to converge on {coll}",
               lambda: converged(nodes, coll), timeout)
    if coll == "all":
        first = export(nodes[0])
        for n in nodes[1:]:
            assert export(n) == first, f"export of {n.name} differs"


def put(node, coll, record, rid=None):
    args = ["put", coll] + ([rid] if rid else [])
    return node.ctl(*args, input=json.dumps(record)).stdout.strip()


def get(node, coll, rid, check=True):
    p = node.ctl("--json", "get", coll, rid, check=check)
    return json.loads(p.stdout) if p.returncode == 0 else None


def status(node):
    return node.ctl_json("status")


def peer_status(node, name):
    for p in status(node)["peers"]:
        if p["name"] == name:
            return p
    raise AssertionError(f"{node.name} has no peer {name}")


def peer_state(node, name):
    return peer_status(node, name)["state"]


def wait_live(node, *names, timeout=WAIT):
    for name in names:
        wait_until(f"{node.name} to see {name} live",
                   lambda: peer_state(node, name) == "live", timeout)
