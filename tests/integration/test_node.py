"""One jalind, driven only through jalinctl (and, for hostile input, raw
bytes on its admin socket): the admin contract of DESIGN.md §5.

Every test runs real processes from config files in its own directory.
Data is DOMAIN.md-shaped (conftest.py). No timing assertions.
"""

import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import (ENV, JALINCTL, VALGRIND, ctl, case_record, jsonl,
                      lks_record, sanitizer_report, uuid7)

KEMENSOS_UNIT = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


def put(node, coll, rec, *args):
    return node.ctl("put", coll, *args, input=json.dumps(rec)).stdout.strip()


def state(node):
    """What must not change when a request is refused."""
    return node.ctl("digest").stdout, node.ctl("export").stdout


# -- 1. the quick path ----------------------------------------------------

def test_quick_path(node):
    rec = case_record(1, random.Random(1), full_name="Siti Rahayu")
    cid = put(node, "case", rec)
    assert len(cid) == 36 and cid[14] == "7"

    got = node.ctl_json("get", "case", cid)
    assert got["full_name"] == "Siti Rahayu"
    assert got["pasung.status"] == "restrained"
    assert got["origin_node"] == "jabar" and got["id"] == cid
    text = node.ctl("get", "case", cid).stdout
    assert json.loads(text) == got and '\n  "case_no"' in text

    before = node.ctl_json("get", "case", cid, "--versions")["versions"]
    # Full-record put changing one field: only that field's version moves.
    full = dict(got, **{"pasung.status": "released",
                        "pasung.release_date": "2026-11-20"})
    assert node.ctl_json("put", "case", cid,
                         input=json.dumps(full))["changed"] is True
    after = node.ctl_json("get", "case", cid, "--versions")["versions"]
    moved = {f for f in after["fields"]
             if before["fields"].get(f) != after["fields"][f]}
    assert moved == {"pasung.status", "pasung.release_date"}
    # The same put again changes nothing.
    assert node.ctl_json("put", "case", cid,
                         input=json.dumps(full))["changed"] is False

    lid = put(node, "lks", lks_record(7, region_code="73.71",
                                       name="Yayasan Peduli Kasih"))
    listing = node.ctl("list", "lks").stdout.splitlines()
    assert listing[0].split() == ["ID", "NAME", "STATUS", "REGION_CODE"]
    assert lid in listing[1] and "Yayasan Peduli Kasih" in listing[1]
    assert [r["id"] for r in node.ctl_json("list", "case")] == [cid]

    export = node.ctl("export").stdout.splitlines()
    assert [json.loads(x)["collection"] for x in export] == ["case", "lks"]
    assert export[0] == json.dumps(json.loads(export[0]), sort_keys=True,
                                   separators=(",", ":"), ensure_ascii=False)

    feed = node.ctl_json("feed")
    assert [e["id"] for e in feed["entries"]] == [cid, lid]
    assert feed["last_seq"] == feed["entries"][-1]["seq"]
    assert "SEQ" in node.ctl("feed").stdout

    digest = node.ctl_json("digest")
    assert set(digest) == {"case", "partnership", "lks", "resource",
                           "referral", "all"}
    st = node.ctl_json("status")
    assert st["node"] == "jabar" and st["peers"] == []
    assert st["records"] == {"case": 1, "partnership": 0, "lks": 1,
                             "resource": 0, "referral": 0}
    assert "records      case 1, partnership 0, lks 1" in \
        node.ctl("status").stdout

    assert node.ctl("delete", "lks", lid).stdout.strip() == lid
    p = node.ctl("get", "lks", lid, check=False)
    assert p.returncode == 1 and "was deleted" in p.stderr
    assert node.ctl_json("status")["records"]["lks"] == 0

    assert node.ctl("purge", "case", cid, "--reason", "erasure_request",
                    "--request-hash", "ab" * 32).stdout.strip() == cid
    p = node.ctl("get", "case", cid, check=False)
    assert p.returncode == 1 and "purged" in p.stderr
    p = node.ctl("put", "case", cid, input=json.dumps(rec), check=False)
    assert p.returncode == 1
    assert "was purged; its id cannot be used again" in p.stderr
    tomb = node.ctl("--json", "get", "case", cid, "--versions").stdout
    t = json.loads(tomb)
    assert t["state"] == "purged" and t["versions"]["fields"] == {}
    assert t["versions"]["deletes"][0]["reason"] == "erasure_request"
    for raw in (tomb, node.ctl("export").stdout,
                node.ctl("feed").stdout):
        assert "Siti Rahayu" not in raw and "wooden" not in raw


# -- 2. bad input ---------------------------------------------------------

BAD_PUTS = [
    # (collection, stdin, exit, words in the message)
    ("lks", '{"name": "Yayasan', 1, ["not valid JSON"]),
    ("lks", '["not", "an", "object"]', 1, ["must be a JSON object"]),
    ("case", None, 1, ["case.is_child", "expected a boolean"]),
    ("kasus", '{"name": "x"}', 2, ["unknown collection 'kasus'",
                                   "case, partnership, lks"]),
    ("lks", None, 1, ["lks: unknown field 'nama'"]),
    ("lks", None, 1, ["lks.name: 257 bytes exceeds the limit of 256"]),
    ("lks", '{"name": "Yayasan Tanpa Status", "legal_form": "yayasan"}',
     1, ["lks: required field 'status' is missing"]),
    ("lks", '{"name": 1.5, "legal_form": "yayasan", "status": "active"}',
     1, ["lks.name"]),
]


def bad_input(i):
    coll, text, code, words = BAD_PUTS[i]
    if i == 2:
        text = json.dumps(case_record(2, is_child="yes"))
    elif i == 4:
        text = json.dumps(dict(lks_record(3), nama="Yayasan Salah Kolom"))
    elif i == 5:
        text = json.dumps(lks_record(4, name="a" * 257))
    return coll, text, code, words


def test_bad_input_is_refused_and_harms_nothing(node):
    put(node, "lks", lks_record(1))
    put(node, "case", case_record(1))
    before = state(node)
    for i in range(len(BAD_PUTS)):
        coll, text, code, words = bad_input(i)
        p = node.ctl("put", coll, input=text, check=False)
        assert p.returncode == code, (i, p.stderr)
        assert p.stdout == ""
        for w in words:
            assert w in p.stderr, (i, p.stderr)
        assert p.stderr.startswith("jalinctl: ")
    assert state(node) == before
    # The limit itself is fine (256 bytes, multi-byte UTF-8 counted in
    # bytes).
    put(node, "lks", lks_record(5, name="a" * 256))
    put(node, "lks", lks_record(6, name="é" * 128))
    p = node.ctl("put", "lks", input=json.dumps(lks_record(6,
                 name="é" * 128 + "x")), check=False)
    assert p.returncode == 1 and "257 bytes" in p.stderr
    assert node.ctl_json("status")["records"]["lks"] == 3


def test_put_id_and_collection_keys(node):
    lid = put(node, "lks", lks_record(1))
    rec = node.ctl_json("get", "lks", lid)
    rec["staff.total"] = 41
    # get | edit | put: "id" and "collection" agree with the arguments
    assert put(node, "lks", dict(rec, collection="lks"), lid) == lid
    assert put(node, "lks", rec) == lid  # the object's id names it
    assert node.ctl_json("get", "lks", lid)["staff.total"] == 41
    p = node.ctl("put", "case", lid, input=json.dumps(rec), check=False)
    assert p.returncode == 1 and "case: unknown field" in p.stderr
    p = node.ctl("put", "lks", uuid7(), input=json.dumps(rec), check=False)
    assert p.returncode == 2 and 'record\'s "id" does not match' in p.stderr
    p = node.ctl("put", "lks", input=json.dumps(dict(rec, collection="case")),
                 check=False)
    assert p.returncode == 2 and '"collection" does not match' in p.stderr


def frame(body):
    return struct.pack(">I", len(body)) + body


def raw_exchange(path, data):
    """Write raw bytes to the admin socket; return all it answers."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(str(path))
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def test_hostile_bytes_on_the_admin_socket(node):
    import msgpack
    put(node, "lks", lks_record(1))
    before = state(node)
    # A 5-byte msgpack "bomb": array32 of 4294967295 elements.
    out = raw_exchange(node.socket, frame(b"\xdd\xff\xff\xff\xff"))
    n = struct.unpack(">I", out[:4])[0]
    resp = msgpack.unpackb(out[4:4 + n], strict_map_key=False)
    assert resp[0] == 64 and resp[1] == 0 and resp[2] < 0
    assert "exceeds" in resp[3]
    rng = random.Random(5)
    for size in (1, 7, 64, 4096):
        raw_exchange(node.socket, frame(rng.randbytes(size)))
        raw_exchange(node.socket, rng.randbytes(size))
    raw_exchange(node.socket, b"\x7f\xff\xff\xff" + b"x" * 100)  # 2 GiB hdr
    raw_exchange(node.socket, b"\x00\x00\x00\x00")  # empty frame
    raw_exchange(node.socket, frame(msgpack.packb({0: 32})))  # no reqid
    node.ctl("status")
    assert state(node) == before


def test_config_that_cannot_be_read(make_node, tmp_path):
    n = make_node("jabar")
    n.conf.unlink()
    n.conf.mkdir()
    p = n.run_once("-f", "-c", n.conf)
    assert p.returncode == 1
    assert f"jalind: cannot read config '{n.conf}'" in p.stderr
    missing = tmp_path / "nowhere.conf"
    p = n.run_once("-f", "-c", missing)
    assert p.returncode == 1
    assert f"'{missing}'" in p.stderr and "No such file" in p.stderr
    # a file the config names that does not exist
    m = make_node("banten", 36)
    text = m.conf.read_text().replace(str(m.ca.crl_pem),
                                      str(tmp_path / "no-crl.pem"))
    m.conf.write_text(text)
    p = m.run_once("-f", "-c", m.conf)
    assert p.returncode == 1
    assert "crl: cannot read" in p.stderr and "no-crl.pem" in p.stderr


def test_private_key_readable_by_others(make_node, tmp_path):
    n = make_node("jabar")
    _, key = n.ca.node("jabar")
    loose = tmp_path / "loose.key"
    loose.write_bytes(key.read_bytes())
    os.chmod(loose, 0o644)
    n.conf.write_text(n.conf.read_text().replace(str(key), str(loose)))
    p = n.run_once("-f", "-c", n.conf)
    assert p.returncode == 1
    assert f"private key '{loose}' is readable by group or others " \
        f"(mode 0644); run chmod 600 '{loose}'" in p.stderr
    assert not n.socket.exists()


def test_jalind_check_config(make_node):
    n = make_node("jabar", max_clock_skew=120)
    p = n.run_once("-n", "-c", n.conf)
    assert p.returncode == 0, p.stderr
    assert "[node]\nname = jabar\nregion = 32\n" in p.stdout
    assert "max_clock_skew = 120\n" in p.stdout
    assert "log_level = notice\n" in p.stdout  # defaults filled in
    assert "is valid" in p.stderr
    n.write_config(colour="blue")
    p = n.run_once("-n", "-c", n.conf)
    assert p.returncode == 1
    line = n.conf.read_text().splitlines().index("colour = blue") + 1
    assert p.stderr.startswith(f"jalind: {n.conf}:{line}: [node] colour: ")
    assert not n.data_dir.exists()


# -- jalinctl's own errors ------------------------------------------------

USAGE = [
    ([], "no command given"),
    (["frobnicate"], "unknown command 'frobnicate'"),
    (["get", "lks"], "get needs COLLECTION ID"),
    (["get", "lks", "not-a-uuid"], "is not a record id"),
    (["list", "lks", "--limit", "abc"], "--limit: 'abc' is not a whole"),
    (["list", "lks", "--limit", "0"], "--limit: 0 is out of range"),
    (["list", "lks", "--limit", "-3"], "--limit: '-3' is not a whole"),
    (["feed", "--since", "1x"], "--since: '1x' is not a whole number"),
    (["list", "lks", "extra"], "too many arguments for list"),
    (["list", "kasus"], "unknown collection 'kasus'"),
    (["get", "lks", KEMENSOS_UNIT, "--limit", "5"],
     "option --limit does not apply to get"),
    (["delete", "lks", KEMENSOS_UNIT, "--reason", "bosan"],
     "--reason: 'bosan' is not one of erasure_request"),
    (["purge", "lks", KEMENSOS_UNIT, "--request-hash", "abc"],
     "--request-hash: must be 64 hex digits"),
    (["import", "x.jsonl", "--on-error", "ignore"],
     "--on-error: 'ignore' is not continue or stop"),
    (["import", "x.jsonl", "--batch", "5000"],
     "--batch: 5000 is out of range (1..4096)"),
    (["--bogus", "status"], "unknown option '--bogus'"),
    (["list", "lks", "--limit"], "option --limit needs an argument"),
    (["-s", "/x", "-c", "/y", "status"], "only one of -c, -s and --db"),
    (["--remote", "banten:7420", "status"], "--remote needs --cert, --key and --ca"),
    (["--db", "/var/lib/jalin/jabar", "put", "lks"],
     "--db opens the store read-only; write through the running node"),
    (["--db", "/x", "import", "-"], "--db opens the store read-only"),
]


@pytest.mark.parametrize("args,words", USAGE)
def test_usage_errors_exit_2(args, words):
    p = ctl(*args)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("jalinctl: ") and words in p.stderr
    assert p.stdout == ""


def test_help_reads_like_a_man_page():
    p = ctl("--help", check=True)
    for section in ("NAME", "SYNOPSIS", "COMMANDS", "OPTIONS",
                    "EXIT STATUS", "FILES", "EXAMPLES"):
        assert f"\n{section}\n" in "\n" + p.stdout
    for cmd in ("status", "peers", "put COLLECTION [ID]",
                "get COLLECTION ID [--versions]", "delete", "purge",
                "list COLLECTION [--limit N]", "export [COLLECTION]",
                "import FILE", "feed", "conflicts [COLLECTION]", "digest"):
        assert f"\n    {cmd}" in p.stdout, cmd
    assert "$JALIN_CONFIG" in p.stdout and "/etc/jalin/jalin.conf" in p.stdout
    assert max(len(x) for x in p.stdout.splitlines()) <= 80
    p = ctl("import", "--help", check=True)
    assert "--on-error continue|stop" in p.stdout and "default" in p.stdout
    assert ctl("-V", check=True).stdout.startswith("jalinctl ")


def test_node_not_running(make_node, tmp_path):
    n = make_node("jabar")
    p = n.ctl("status", check=False)
    assert p.returncode == 3
    assert p.stderr == (f"jalinctl: cannot reach the node at {n.socket}: "
                        "No such file or directory (is jalind running?)\n")
    n.start()
    n.kill()  # a stale socket file, nobody listening
    p = n.ctl("list", "lks", check=False)
    assert p.returncode == 3 and "Connection refused (is jalind running?)" \
        in p.stderr
    p = ctl("-c", tmp_path / "none.conf", "status")
    assert p.returncode == 3 and "none.conf" in p.stderr
    env = dict(os.environ, JALIN_CONFIG=str(n.conf))
    p = ctl("status", env=env)
    assert p.returncode == 3 and str(n.socket) in p.stderr
    p = ctl("--db", tmp_path / "nostore", "status")
    assert p.returncode == 3 and "nostore" in p.stderr


# -- 3. import ------------------------------------------------------------

def realistic_lines(n_lks=1500, n_case=1500, seed=7):
    rng = random.Random(seed)
    lines = []
    for i in range(n_lks):
        lines.append(json.dumps(dict(lks_record(i, rng), collection="lks"),
                                ensure_ascii=False))
    for i in range(n_case):
        lines.append(json.dumps(dict(case_record(i, rng),
                                     collection="case"), ensure_ascii=False))
    rng.shuffle(lines)
    return lines


BAD_LINES = {
    # line number (1-based) -> (text, words of the message)
    17: ('{"collection": "lks", "name": "Yayasan Rusak', "not valid JSON"),
    250: ('[1, 2, 3]', "not a JSON object"),
    999: (json.dumps(lks_record(9)), 'no "collection"'),
    1500: (json.dumps(dict(case_record(3), collection="case",
                           is_child="ya")), "case.is_child"),
    2222: (json.dumps(dict(lks_record(8), collection="lks",
                           status="closed")), "lks.status: 'closed'"),
    2990: (json.dumps(dict(lks_record(8), collection="kasus")),
           "unknown collection 'kasus'"),
}


def with_bad_lines(lines):
    out = list(lines)
    for ln in sorted(BAD_LINES):
        out.insert(ln - 1, BAD_LINES[ln][0])
    out.insert(600, "")  # blank lines are skipped, but counted
    out.insert(601, "   ")
    return out


def import_file(tmp_path, lines, name="data.jsonl"):
    f = tmp_path / name
    f.write_text("\n".join(lines) + "\n")
    return f


def reported_lines(stderr):
    return [int(x.split(":")[1].split()[1]) for x in stderr.splitlines()
            if x.startswith("jalinctl: line ")]


def test_import_continue_reports_exactly_the_bad_lines(node, tmp_path):
    good = realistic_lines()
    lines = with_bad_lines(good)
    bad = {i + 1 for i, x in enumerate(lines)
           if x in [v[0] for v in BAD_LINES.values()]}
    f = import_file(tmp_path, lines)
    p = node.ctl("--json", "import", f, "--on-error", "continue",
                 "--batch", "500", check=False)
    assert p.returncode == 1
    assert set(reported_lines(p.stderr)) == bad
    for ln in bad:
        text = lines[ln - 1]
        words = [v[1] for v in BAD_LINES.values() if v[0] == text][0]
        assert f"jalinctl: line {ln}: " in p.stderr and words in p.stderr
    reports = [json.loads(x) for x in p.stdout.splitlines()]
    assert sum(r["stored"] for r in reports) == len(good)
    assert {e["line"] for r in reports for e in r["errors"]} == bad
    assert reports[0]["first_line"] == 1
    assert reports[-1]["last_line"] == len(lines)
    assert f"imported {len(good)} records ({len(good)} changed) from " \
           f"{len(lines)} lines" in p.stderr
    assert f"; {len(bad)} errors" in p.stderr
    st = node.ctl_json("status")["records"]
    assert st["lks"] + st["case"] == len(good)


def test_import_stop_stops_at_the_first_bad_line(node, tmp_path):
    lines = with_bad_lines(realistic_lines(600, 600))
    first_bad = min(BAD_LINES)
    f = import_file(tmp_path, lines)
    p = node.ctl("--json", "import", f, "--batch", "10", check=False)
    assert p.returncode == 1
    assert reported_lines(p.stderr) == [first_bad]
    assert "stopped at line 17" in p.stderr
    st = node.ctl_json("status")["records"]
    assert st["lks"] + st["case"] == first_bad - 1
    # a schema error found by the node, mid-batch: stop there too
    node2_lines = realistic_lines(40, 40, seed=9)
    node2_lines.insert(24, BAD_LINES[2222][0])
    f2 = import_file(tmp_path, node2_lines, "b.jsonl")
    p = node.ctl("import", f2, "--batch", "50", check=False)
    assert p.returncode == 1 and reported_lines(p.stderr) == [25]
    assert "lks.status" in p.stderr
    st2 = node.ctl_json("status")["records"]
    assert st2["lks"] + st2["case"] == first_bad - 1 + 24


def test_import_from_stdin_with_collection_option(node):
    rng = random.Random(3)
    data = jsonl(lks_record(i, rng) for i in range(50))
    p = node.ctl("import", "-", "--collection", "lks", input=data)
    assert "imported 50 records (50 changed) from 50 lines" in p.stderr
    assert p.stdout == ""
    # again: stored, unchanged
    p = node.ctl("import", "-", "--collection", "lks", input=data)
    assert "imported 50 records (0 changed)" in p.stderr \
        or "imported 50 records (50 changed)" in p.stderr


def test_export_import_round_trip(make_node, tmp_path):
    a = make_node("jabar", 32).start()
    b = make_node("banten", 36).start()
    f = import_file(tmp_path, realistic_lines(800, 800))
    a.ctl("import", f)
    lid = put(a, "lks", lks_record(1, name="Yayasan Harapan Ibu"))
    put(a, "lks", dict(a.ctl_json("get", "lks", lid), **{"staff.total": 9}))
    a.ctl("delete", "lks", lid)
    export_a = a.ctl("export").stdout
    assert export_a.count("\n") == 1600
    dump = tmp_path / "a.jsonl"
    dump.write_text(export_a)
    # another office cannot take jabar's records as its own writes
    # (write authority, PROTOCOL.md 8.2): its peers would refuse them
    p = b.ctl("import", dump, check=False)
    assert p.returncode == 1
    assert "a new record's origin_node must name the node that wrote it" \
        in p.stderr
    # jabar itself, restored from its export onto an empty store
    by_coll = {c: a.ctl("export", c).stdout for c in ("lks", "case")}
    a.stop()
    shutil.rmtree(a.data_dir)
    a.start()
    a.ctl("import", dump)
    export_b = a.ctl("export").stdout
    assert export_b == export_a
    # Not the digests: they cover each field's version (hlc), and the
    # import wrote these values anew. Equal digests mean replicated.
    for coll in ("lks", "case"):
        assert a.ctl("export", coll).stdout == by_coll[coll]


# -- 4. crash safety ------------------------------------------------------

def test_kill_9_during_import_loses_no_reported_batch(make_node, tmp_path):
    n = make_node("jabar").start()
    rng = random.Random(11)
    ids = [uuid7(rng) for _ in range(100000)]
    with open(tmp_path / "big.jsonl", "w") as fp:
        for i, rid in enumerate(ids):
            fp.write(json.dumps({"collection": "lks", "id": rid,
                                 "name": f"LKS Desa {i:06d}",
                                 "legal_form": "unincorporated",
                                 "status": "active"}) + "\n")
    proc = subprocess.Popen(
        [str(JALINCTL), "-c", str(n.conf), "--json", "import",
         str(tmp_path / "big.jsonl")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    reports = []
    for line in proc.stdout:
        reports.append(json.loads(line))
        if len(reports) == 5:
            n.kill()
            break
    rest, err = proc.communicate(timeout=120)
    reports += [json.loads(x) for x in rest.splitlines()]
    assert sanitizer_report(err) is None, err
    assert proc.returncode in (0, 3), err
    if proc.returncode == 3:
        assert "lost the connection to the node" in err
    assert len(reports) >= 5
    p = subprocess.run(["mdb_stat", "-a", str(n.data_dir)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr

    n.start()
    stored_lines = [ln for r in reports
                    for ln in range(r["first_line"], r["last_line"] + 1)]
    assert sum(r["stored"] for r in reports) == len(stored_lines)
    count = n.ctl_json("status")["records"]["lks"]
    assert count >= len(stored_lines)
    exported = {json.loads(x)["id"] for x in
                n.ctl("export", "lks").stdout.splitlines()}
    assert len(exported) == count
    missing = [ln for ln in stored_lines if ids[ln - 1] not in exported]
    assert missing == []
    for ln in (stored_lines[0], stored_lines[len(stored_lines) // 2],
               stored_lines[-1]):
        assert n.ctl_json("get", "lks", ids[ln - 1])["name"] == \
            f"LKS Desa {ln - 1:06d}"
    # A second import continues fine: the rest is stored, nothing twice.
    p = n.ctl("import", tmp_path / "big.jsonl")
    assert "imported 100000 records" in p.stderr
    assert n.ctl_json("status")["records"]["lks"] == 100000
    n.stop()


# -- 5. signals -----------------------------------------------------------

def test_sighup_reload_and_sigterm(make_node):
    n = make_node("jabar").start()
    put(n, "lks", lks_record(1))
    n.write_config(log_level="info")
    n.signal(signal.SIGHUP)
    n.wait_log("config: reloaded")
    n.ctl("status")
    # A broken config: logged, the old one kept, the node keeps serving.
    n.conf.write_text("[node]\nname = jabar\nwarna = biru\n")
    n.signal(signal.SIGHUP)
    n.wait_log("reload failed")
    assert "keeping the running configuration" in n.log()
    # jalinctl cannot use that config either: go by the socket
    p = n.ctl("status", check=False)
    assert p.returncode == 3 and "[node] warna: unknown key" in p.stderr
    ctl("-s", n.socket, "put", "lks", input=json.dumps(lks_record(2)),
        check=True)
    st = json.loads(ctl("-s", n.socket, "--json", "status",
                        check=True).stdout)
    assert st["records"]["lks"] == 2
    n.write_config()
    n.stop()  # SIGTERM: exit 0
    assert not n.socket.exists()
    assert "stopped" in n.log()


def sig_blocked(pid, sig):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigBlk:"):
                    return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    except FileNotFoundError:
        pass
    return False


@pytest.mark.skipif(VALGRIND, reason="valgrind keeps its own signal mask")
def test_sigterm_while_starting_stops_cleanly(make_node):
    # A SIGTERM that arrives while jalind is still opening its store and
    # sockets must wait for the loop and stop it cleanly, not kill it
    # half-started (it used to: the signal events came last).
    for i in range(3):
        n = make_node(f"jabar{i}")
        log = open(n.logfile, "a")
        p = subprocess.Popen(n.command("-f", "-c", n.conf), stdout=log,
                             stderr=subprocess.STDOUT, env=ENV)
        log.close()
        # from main()'s first lines on, the stop signals are held
        deadline = time.monotonic() + 30
        while not sig_blocked(p.pid, signal.SIGTERM):
            assert p.poll() is None, n.log()
            assert time.monotonic() < deadline, "SIGTERM never held"
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
        assert rc == 0, f"exit {rc}:\n{n.log()}"
        assert "stopped" in n.log(), n.log()
        assert not n.socket.exists()
        n.proc = None
        n.cleanup()


# -- 6. --db --------------------------------------------------------------

def test_db_reads_the_same_as_the_socket(make_node, tmp_path, ca):
    n = make_node("jabar").start()
    enc_key = ca.path / "nodes" / "jabar.enc.key"  # opens sealed fields
    f = import_file(tmp_path, realistic_lines(300, 300))
    n.ctl("import", f)
    cid = json.loads(n.ctl("export", "case").stdout.splitlines()[0])["id"]
    n.ctl("put", "case", cid, input='{"status": "assessment"}')

    def via(*prefix):
        return [ctl(*prefix, *args, check=True).stdout for args in
                (["get", "case", cid], ["get", "case", cid, "--versions"],
                 ["export"], ["digest"], ["--json", "digest"],
                 ["list", "case", "--limit", "20"], ["--json", "feed"],
                 ["conflicts"])]

    sock = via("-s", n.socket)
    assert via("--db", n.data_dir, "--enc-key", enc_key) == sock  # running
    # without the node's key the sealed fields stay closed
    assert '"(encrypted)"' in ctl("--db", n.data_dir, "get", "case", cid,
                                  check=True).stdout
    st = json.loads(ctl("--db", n.data_dir, "--json", "status",
                        check=True).stdout)
    assert st["running"] is False and st["records"]["case"] == 300
    assert "running      no" in ctl("--db", n.data_dir, "status").stdout
    n.stop()
    assert via("--db", n.data_dir, "--enc-key", enc_key) == sock  # stopped
    p = ctl("--db", n.data_dir, "delete", "case", cid)
    assert p.returncode == 2


# -- 7. map full ----------------------------------------------------------

def test_map_full_refuses_writes_and_keeps_serving(make_node, tmp_path):
    n = make_node("jabar", map_size_max="2M").start()
    rng = random.Random(13)
    lines = [json.dumps(dict(lks_record(i, rng), collection="lks"))
             for i in range(20000)]
    f = import_file(tmp_path, lines)
    p = n.ctl("--json", "import", f, "--batch", "100", check=False)
    assert p.returncode == 1
    assert "store is full" in p.stderr and "map_size_max" in p.stderr
    stored = sum(json.loads(x)["stored"] for x in p.stdout.splitlines())
    assert 0 < stored < 20000
    # fill what is left one record at a time
    rest = import_file(tmp_path, lines[stored:], "rest.jsonl")
    p = n.ctl("--json", "import", rest, "--batch", "1", check=False)
    assert p.returncode == 1 and "store is full" in p.stderr
    stored += sum(json.loads(x)["stored"] for x in p.stdout.splitlines())
    assert n.ctl_json("status")["records"]["lks"] == stored
    # lks only: an export of every collection is a read of case records,
    # and its audit entry is a write (one that may still fit)
    export = n.ctl("export", "lks").stdout.splitlines()
    assert len(export) == stored
    first = json.loads(export[0])
    assert n.ctl_json("get", "lks", first["id"]) == {
        k: v for k, v in first.items() if k != "collection"}
    p = n.ctl("put", "lks", input=json.dumps(lks_record(99999, rng)),
              check=False)
    assert p.returncode == 1
    assert "store is full: map_size_max of 2097152 bytes reached" in p.stderr
    # reads that are audited go on too: the entry is stored if it fits,
    # else it goes to the node's log
    assert len(n.ctl("export", check=True).stdout.splitlines()) == stored
    n.ctl("digest")
    n.stop()


# -- 8. one store, one jalind ----------------------------------------------

def test_second_jalind_on_the_same_data_dir_refuses(make_node):
    a = make_node("jabar").start()
    b = make_node("jabar2")
    b.write_config(name="jabar", data_dir=a.data_dir)
    p = b.run_once("-f", "-c", b.conf)
    assert p.returncode == 1
    assert f"cannot open store '{a.data_dir}' (in use by another jalind)" \
        in p.stderr
    a.ctl("status")


# -- the audit log of reads (DOMAIN.md privacy 5) -------------------------

def test_reads_of_cases_go_to_a_hash_chained_audit_log(node):
    cid = put(node, "case", case_record(3, random.Random(3),
                                        full_name="Ni Luh Putu Audit"))
    lid = put(node, "lks", lks_record(3))
    node.ctl("--purpose", "rujukan ke sentra Bali", "get", "case", cid)
    # a purpose that would forge a line in the log is refused, unanswered
    p = node.ctl("--purpose", "x\naudit: forged", "get", "case", cid,
                 check=False)
    assert p.returncode != 0 and p.stdout == ""
    assert "purpose: control character at byte 2" in p.stderr, p.stderr
    node.ctl("get", "lks", lid)  # not specific data: not logged
    node.ctl("list", "lks")
    node.ctl("export", "case")
    a = node.ctl_json("audit")
    assert a["chain"] == "ok" and a["broken_at"] is None, a
    assert a["total"] == 2, a
    get_e, exp_e = a["entries"]
    assert get_e["action"] == "get" and get_e["collection"] == "case"
    assert get_e["id"] == cid and get_e["seq"] == 1
    assert get_e["purpose"] == "rujukan ke sentra Bali"
    assert "uid %d" % os.getuid() in get_e["actor"]
    assert exp_e["action"] == "export" and exp_e["collection"] == "case"
    assert exp_e["purpose"] is None
    assert "chain: whole (2 entries" in node.ctl("audit").stdout
    # remote admins cannot read it; --db can, without the node
    node.stop()
    assert ctl("--db", node.data_dir, "--json", "audit",
               check=True).stdout == json.dumps(
        a, sort_keys=True, separators=(",", ":")) + "\n"
    # an entry edited on disk breaks the chain from there on
    path = node.data_dir / "data.mdb"
    data = bytearray(path.read_bytes())
    at = data.find(b"rujukan ke sentra Bali")
    assert at >= 0
    while at >= 0:  # LMDB may hold older copies of the page too
        data[at] ^= 0x20
        at = data.find(b"rujukan ke sentra Bali", at + 1)
    path.write_bytes(bytes(data))
    p = ctl("--db", node.data_dir, "audit")
    assert p.returncode == 1, p.stdout
    assert "chain: BROKEN at entry 1" in p.stdout
    assert "hash chain is broken" in p.stderr
