"""Sync state an admin can trust (issue 4): a stopped peer shown down with
its lag, live again with a recent verification; a peer that stops reading
shown stalled; a record corrupted on disk found by verify, reported and
repaired; /metrics in the Prometheus text format with the promised series.
Real processes, real certificates; waits poll with bounds, nothing is
timed."""

import re
import signal
import time
import urllib.request

from conftest import free_port, jsonl, lks_record
from fed import (federation, get, peer_status, put, wait_converged,
                 wait_live, wait_until)
from jalin_client import encode_value, verify


def pair(make_node, **jabar_keys):
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")],
                       node_keys={"jabar": jabar_keys})
    wait_live(nodes["jabar"], "banten")
    return nodes["jabar"], nodes["banten"]


def test_down_with_lag_then_live_and_verified(make_node):
    j, b = pair(make_node)
    b.stop()
    wait_until("banten shown down", lambda: peer_status(j, "banten")[
        "state"] in ("down", "connecting"))
    j.ctl("import", "-", input=jsonl(
        {"collection": "lks", **lks_record(i)} for i in range(200)))
    p = peer_status(j, "banten")
    assert p["state"] in ("down", "connecting"), p
    assert p["lag_records"] >= 200, p
    assert p["lag_seconds"] > 0, p
    assert p["last_error"], p  # says in words what went wrong
    restarted = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    b.start()
    wait_live(j, "banten")
    wait_until("lag 0 at jabar",
               lambda: peer_status(j, "banten")["lag_records"] == 0)
    p = wait_until("a verification after the restart",
                   lambda: (lambda q: q if q["verified_at"] and
                            q["verified_at"] >= restarted else None)(
                       peer_status(j, "banten")))
    assert p["lag_seconds"] == 0
    assert "in sync" in p["verify_result"]


def test_peer_that_stops_reading_is_stalled(make_node):
    j, b = pair(make_node)
    b.signal(signal.SIGSTOP)
    try:
        wait_until("banten stalled at jabar",
                   lambda: peer_status(j, "banten")["state"] == "stalled",
                   timeout=60)
        assert "stalled" in peer_status(j, "banten")["last_error"]
    finally:
        b.signal(signal.SIGCONT)
    wait_until("banten live again",
               lambda: peer_status(j, "banten")["state"] == "live",
               timeout=60)


def test_lag_is_right_after_a_restart_with_nothing_new_to_send(make_node):
    """Acknowledgements are saved with the periodic collection run, so a
    node stopped soon after its peer acknowledged may come back with an
    older one. The peer's SUB names how far it holds our feed: the lag
    must be 0 at once, not wait for the next change."""
    j, b = pair(make_node)
    for i in range(5):
        put(j, "lks", lks_record(i))
    wait_converged([j, b])
    wait_until("banten's acknowledgement",
               lambda: peer_status(j, "banten")["lag_records"] == 0)
    j.stop()
    j.start()
    wait_live(j, "banten")
    wait_until("lag 0 after the restart",
               lambda: peer_status(j, "banten")["lag_records"] == 0,
               timeout=5)


def corrupt_on_disk(node, needle):
    """Flip one byte of a record's value directly in LMDB's data file, as
    a failing disk would: LMDB does not notice, jalin's checksum does."""
    path = node.data_dir / "data.mdb"
    data = bytearray(path.read_bytes())
    at = data.find(needle)
    assert at >= 0, "the record is not in the data file"
    n = 0
    while at >= 0:
        data[at + 1] ^= 0x20
        n += 1
        at = data.find(needle, at + 1)
    path.write_bytes(bytes(data))
    return n


def test_verify_finds_and_repairs_a_corrupt_record(make_node):
    j, b = pair(make_node)
    rid = put(j, "lks", lks_record(1, name="Yayasan Korupsi Disk 42"))
    j.ctl("import", "-", input=jsonl(
        {"collection": "lks", **lks_record(i)} for i in range(100, 400)))
    wait_converged([j, b])
    b.stop()
    # the name is stored coded (PROTOCOL.md 8.1): look for its code
    code = encode_value("Yayasan Korupsi Disk 42").data
    assert corrupt_on_disk(b, code) >= 1
    b.start()
    # the damaged copy is refused rather than shown
    assert b.ctl("get", "lks", rid, check=False).returncode == 1
    wait_live(j, "banten")
    r = verify(j.socket, "banten")
    assert r["differing"] >= 1 and r["corrupt"] >= 1, r
    assert rid in (r["where"] or ""), r
    assert r["in_sync"] is True, r
    assert get(b, "lks", rid)["name"] == "Yayasan Korupsi Disk 42"
    assert "differ" in j.log()  # reported, not only repaired
    wait_converged([j, b])


# --- /metrics ----------------------------------------------------------

METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_prometheus(text):
    """A parser of the text exposition format 0.0.4, from its rules: HELP
    and TYPE lines, then samples `name{label="value",...} number`; every
    sample belongs to the family declared before it; values are floats."""
    families, types, current = {}, {}, None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("# HELP "):
            current = line.split()[2]
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            assert kind in ("counter", "gauge", "histogram", "summary",
                            "untyped"), line
            assert name == current, f"TYPE without HELP: {line}"
            types[name] = kind
            continue
        assert not line.startswith("#"), line
        m = METRIC.match(line)
        assert m, f"not a sample: {line!r}"
        name, labels = m.group(1), {}
        assert name == current, f"{name} outside its family {current}"
        rest = m.group(3) or ""
        while rest:
            lm = LABEL.match(rest)
            assert lm, f"bad labels in {line!r}"
            labels[lm.group(1)] = lm.group(2)
            rest = rest[lm.end():]
        value = float(m.group(4))
        families.setdefault(name, []).append((labels, value))
    return families, types


def test_metrics_are_prometheus_text(make_node):
    port = free_port()
    j, b = pair(make_node, metrics_listen=f"127.0.0.1:{port}")
    put(j, "lks", lks_record(5))
    wait_converged([j, b])
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        text = r.read().decode()
    fams, types = parse_prometheus(text)
    for name in ("jalin_peer_state", "jalin_peer_lag_records",
                 "jalin_peer_lag_seconds", "jalin_peer_bytes_total",
                 "jalin_peer_records_total", "jalin_peer_batches_total",
                 "jalin_peer_errors_total", "jalin_conflicts",
                 "jalin_tombstones", "jalin_store_map_size_bytes",
                 "jalin_store_map_used_bytes", "jalin_peer_clock_skew_seconds",
                 "jalin_records"):
        assert name in fams, f"{name} missing"
    live = [v for l, v in fams["jalin_peer_state"]
            if l == {"peer": "banten", "state": "live"}]
    assert live == [1.0]
    assert types["jalin_peer_bytes_total"] == "counter"
    kinds = {l["kind"] for l, _ in fams["jalin_peer_errors_total"]}
    assert {"tls", "protocol", "timeout", "clock_skew"} <= kinds
    recs = {l["collection"]: v for l, v in fams["jalin_records"]}
    assert recs["lks"] == 1.0
    out = [v for l, v in fams["jalin_peer_records_total"]
           if l == {"peer": "banten", "direction": "out"}]
    assert out and out[0] >= 1
    # only /metrics is served
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
        raise AssertionError("/ answered")
    except urllib.error.HTTPError as e:
        assert e.code == 404
