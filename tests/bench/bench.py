#!/usr/bin/python3
"""bench.py - jalind's single-node figures, measured honestly (`make bench`).

Runs, in one go and on the same machine:

  1. the disk's fsync rate (4 KiB O_DSYNC writes), first, since every
     durable figure follows it;
  2. the generated workloads (gen.py): bulk `lks` records (~408 B of field
     values in 13 text fields) and realistic `case` records (1-8 KB);
  3. for each workload, R runs (default 3), each into a fresh jalind: a
     durable import of N records in batches of 1000 (one transaction each),
     with jalind's memory read after 10%, 50% and 100% of N, then its store's
     size on disk;
  4. the raw LMDB ceiling (lmdb_ceiling.c) putting the same keys and values
     (the exact bytes jalind stored) in batches of 1000 durable transactions,
     R runs, and jalind's ratio to it;
  5. point `get` latency over one persistent admin connection on the N-record
     bulk store.

Prints a human-readable report, then one `BENCH name value unit` line per
figure (medians over the runs). See tests/bench/README.md.

Import path (--via): `jalinctl` runs `jalinctl -c CONF import --batch 1000
FILE`, the user's path and the honest figure; `socket` speaks the admin
protocol directly from here, with the frames encoded before the clock starts
and two requests in flight, so it shows the node's own ceiling. The default
is jalinctl when BUILD/jalinctl exists.
"""

import argparse
import ctypes
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("JALIN_BUILD", os.path.join(ROOT, "build"))

MSG_STATUS, MSG_GET, MSG_IMPORT, MSG_RESP = 32, 34, 39, 64
MK_TYPE, MK_REQID, MK_STATUS, MK_ERROR, MK_RESULT = 0, 1, 2, 3, 4
MK_COLL, MK_ID, MK_RECORDS, MK_STOP = 16, 17, 25, 26
FRAME_MAX = 8 << 20  # JALIN_ADMIN_FRAME_MAX (protocol/limits.h)
BATCH = 1000         # JALIN_IMPORT_BATCH: one request = one transaction
WINDOW = 2           # socket path: requests in flight


class BenchError(Exception):
    pass


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---- processes and temporary files, cleaned up whatever happens ---------------

class Reaper:
    """Everything this run started; cleaned up on exit, error or signal."""

    def __init__(self):
        self.procs = []
        self.dirs = []
        self.nodes = []

    def post_mortem(self):
        """What each node still running or just dead says, for an error."""
        out = []
        for n in self.nodes:
            if n.p is None:
                continue
            rc = n.p.poll()
            if rc is None and n.stopped:
                continue
            out.append(f"jalind {n.dir}: "
                       + ("running" if rc is None else f"exited with {rc}")
                       + f"; log tail:\n{n.log_tail()}")
        return "\n".join(out)

    def proc(self, p):
        self.procs.append(p)
        return p

    def tmpdir(self, keep=False):
        d = tempfile.mkdtemp(prefix="jalin-bench-")
        if not keep:
            self.dirs.append(d)
        return d

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        self.dirs = []


def _die_with_parent():
    """In the child: get SIGTERM if bench.py dies (even by SIGKILL)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _raise_exit(sig, frame):
    raise SystemExit(128 + sig)


# ---- the admin protocol ---------------------------------------------------

def frame(msg):
    body = msgpack.packb(msg, use_bin_type=True)
    if len(body) > FRAME_MAX:
        raise BenchError(f"frame of {len(body)} bytes exceeds {FRAME_MAX}")
    return struct.pack(">I", len(body)) + body


class Conn:
    """One persistent admin connection."""

    def __init__(self, path, timeout=300):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.reqid = 0
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        self.s.close()

    def _fill(self, n):
        """Read until the buffer holds n bytes (one recv usually does)."""
        while len(self.buf) - self.pos < n:
            if self.pos:
                del self.buf[:self.pos]
                self.pos = 0
            chunk = self.s.recv(max(65536, n))
            if not chunk:
                raise BenchError("jalind closed the admin connection")
            self.buf += chunk

    def recv(self):
        self._fill(4)
        (n,) = struct.unpack_from(">I", self.buf, self.pos)
        self._fill(4 + n)
        body = bytes(self.buf[self.pos + 4:self.pos + 4 + n])
        self.pos += 4 + n
        return msgpack.unpackb(body, raw=False, strict_map_key=False)

    def rpc(self, msg):
        self.reqid += 1
        msg[MK_REQID] = self.reqid
        self.s.sendall(frame(msg))
        r = self.recv()
        if r.get(MK_STATUS) != 0:
            raise BenchError(f"request {msg[MK_TYPE]} failed: {r.get(MK_ERROR)}")
        return r.get(MK_RESULT)


# ---- certificates and ports ---------------------------------------------------

JALIN_CA = os.path.join(ROOT, "certs", "jalin-ca")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CA:
    """A federation CA in a directory, made with certs/jalin-ca."""

    def __init__(self, path):
        self.path = path
        self.run("init")
        self.run("crl")

    def run(self, *args):
        p = subprocess.run([JALIN_CA, self.path, *args], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise BenchError(f"jalin-ca {' '.join(args)}: {p.stderr}")

    @property
    def ca_pem(self):
        return os.path.join(self.path, "ca.pem")

    @property
    def crl_pem(self):
        return os.path.join(self.path, "crl.pem")

    def node(self, name):
        """(certificate, key) of node NAME, issued on first use."""
        cert = os.path.join(self.path, "nodes", f"{name}.pem")
        key = os.path.join(self.path, "nodes", f"{name}.key")
        if not os.path.exists(cert):
            self.run("node", name)
            self.run("roster")  # every node's encryption key, for [tls]
        return cert, key

    @property
    def roster_pem(self):
        return os.path.join(self.path, "roster.pem")


_CAS = {}


def the_ca(top):
    """The run's CA, in TOP/ca, made on first use."""
    if top not in _CAS:
        _CAS[top] = CA(os.path.join(top, "ca"))
    return _CAS[top]


# ---- jalind ---------------------------------------------------------------

class Node:
    def __init__(self, reaper, top, name, label):
        self.dir = os.path.join(top, label)
        os.makedirs(self.dir)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "admin.sock")
        self.conf = os.path.join(self.dir, "jalind.conf")
        self.logpath = os.path.join(self.dir, "jalind.log")
        # jalind needs [tls] to run (node/tls.c) and listens on 7420 by
        # default: a certificate from this run's CA and a free port
        cert, key = the_ca(top).node(name)
        ca = the_ca(top)
        with open(self.conf, "w") as f:
            f.write(f"[node]\nname = {name}\nregion = 32\n"
                    f"data_dir = {self.data}\nadmin_socket = {self.sock}\n"
                    f"listen = 127.0.0.1:{free_port()}\n\n[tls]\n"
                    f"ca = {ca.ca_pem}\ncert = {cert}\nkey = {key}\n"
                    f"crl = {ca.crl_pem}\n")
        self.logf = open(self.logpath, "wb")
        self.stopped = False
        reaper.nodes.append(self)
        self.p = reaper.proc(subprocess.Popen(
            [os.path.join(BUILD, "jalind"), "-f", "-c", self.conf],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf,
            preexec_fn=_die_with_parent))
        deadline = time.monotonic() + 15
        while True:
            if self.p.poll() is not None:
                raise BenchError(f"jalind exited with {self.p.returncode} at "
                                 f"start:\n{self.log_tail()}")
            try:
                Conn(self.sock, timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError("jalind did not open its admin socket "
                                     f"in 15 s:\n{self.log_tail()}")
                time.sleep(0.02)

    def log_tail(self, n=20):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def mem(self):
        """VmHWM, VmRSS, RssAnon, RssFile in KiB from /proc/PID/status."""
        out = {}
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                    out[k] = int(v.split()[0])
        return out

    def cpu_s(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        """SIGTERM; jalind must exit 0. Returns warnings/errors it logged."""
        self.stopped = True
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise BenchError("jalind did not stop within 60 s of SIGTERM")
        self.logf.close()
        if rc != 0:
            raise BenchError(f"jalind exited with {rc}:\n{self.log_tail()}")
        with open(self.logpath, errors="replace") as f:
            return [l.rstrip() for l in f if " warning: " in l or " err: " in l]


# ---- workloads ------------------------------------------------------------

class Workload:
    """A generated JSON Lines file, its stats, and what the import needs."""

    def __init__(self, kind, path, stats, lines):
        self.kind, self.path, self.stats = kind, path, stats
        self.n = stats["n"]
        self.lines = lines          # raw JSON lines (bytes)
        self.cuts = sorted({max(1, self.n // 10), max(1, self.n // 2), self.n})
        self.frames = None          # socket path: [[frame, ...] per segment]
        self.seg_files = None       # jalinctl path: a file per segment
        self.ids = None

    def segments(self):
        lo = 0
        for hi in self.cuts:
            yield lo, hi
            lo = hi

    def prepare_socket(self):
        """Import frames from gen.py's FILE.mp items (not timed)."""
        items = []
        with open(self.path + ".mp", "rb") as f:
            data = f.read()
        pos = 0
        while pos < len(data):
            (k,) = struct.unpack_from(">I", data, pos)
            items.append(data[pos + 4:pos + 4 + k])
            pos += 4 + k
        if len(items) != self.n:
            raise BenchError(f"{self.path}.mp holds {len(items)} records, "
                             f"not {self.n}")
        self.frames = []
        for lo, hi in self.segments():
            fr = []
            for i in range(lo, hi, BATCH):
                fr.extend(import_frames(items[i:min(i + BATCH, hi)]))
            self.frames.append(fr)
        self.ids = [head_ids(line) for line in self.lines]

    def prepare_files(self, top):
        self.seg_files = []
        for k, (lo, hi) in enumerate(self.segments()):
            p = os.path.join(top, f"{self.kind}.seg{k}.jsonl")
            with open(p, "wb") as f:
                f.writelines(self.lines[lo:hi])
            self.seg_files.append(p)
        self.ids = [head_ids(line) for line in self.lines]


def import_frames(items):
    """IMPORT request frames for pre-encoded record items: {0: 39, 1: 0,
    25: [item, ...], 26: false}, split in two while over the frame limit."""
    n = len(items)
    arr = (bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
           if n < 65536 else b"\xdd" + struct.pack(">I", n))
    body = (bytes([0x84, MK_TYPE, MSG_IMPORT, MK_REQID, 0, MK_RECORDS]) + arr
            + b"".join(items) + bytes([MK_STOP, 0xC2]))
    if len(body) <= FRAME_MAX:
        return [struct.pack(">I", len(body)) + body]
    if n == 1:
        raise BenchError(f"one record makes a frame of {len(body)} bytes")
    return import_frames(items[:n // 2]) + import_frames(items[n // 2:])


HEAD_RE = re.compile(rb'^\{"collection":"([a-z]+)","id":"([0-9a-f-]{36})"')


def head_ids(line):
    """(collection, id) from the start of a gen.py line."""
    m = HEAD_RE.match(line)
    if m is None:
        raise BenchError(f"not a gen.py line: {line[:80]!r}")
    return m.group(1).decode(), m.group(2).decode()


def generate(kind, n, seed, top):
    path = os.path.join(top, f"{kind}.jsonl")
    subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), kind,
                    "--n", str(n), "--seed", str(seed), "--out", path,
                    "--msgpack"],
                   check=True, stdin=subprocess.DEVNULL,
                   preexec_fn=_die_with_parent)
    with open(path + ".stats.json") as f:
        stats = json.load(f)
    with open(path, "rb") as f:
        lines = f.readlines()
    return Workload(kind, path, stats, lines)


# ---- one import run -----------------------------------------------------------

def import_socket(node, frames):
    """Send frames on one connection, WINDOW in flight. (seconds, stored, errors)."""
    c = Conn(node.sock)
    window = threading.Semaphore(WINDOW)
    failed = []

    def writer():
        try:
            for fr in frames:  # jalind answers in order: ids may repeat
                window.acquire()
                c.s.sendall(fr)
        except OSError as e:
            failed.append(e)

    stored, errors = 0, []
    t0 = time.perf_counter()
    th = threading.Thread(target=writer, daemon=True)
    th.start()
    try:
        for i in range(len(frames)):
            r = c.recv()
            window.release()
            if r.get(MK_STATUS) != 0:
                raise BenchError(f"import request failed: {r.get(MK_ERROR)}")
            res = r[MK_RESULT]
            stored += res["stored"]
            errors.extend(res["errors"][:5])
        dt = time.perf_counter() - t0
    finally:
        c.close()
        th.join(timeout=5)
    if failed:
        raise BenchError(f"sending import frames failed: {failed[0]}")
    return dt, stored, errors


def import_jalinctl(node, path):
    cmd = [os.path.join(BUILD, "jalinctl"), "-c", node.conf, "import",
           "--batch", str(BATCH), path]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       preexec_fn=_die_with_parent)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited with {p.returncode}: "
                         f"{p.stderr.decode(errors='replace')[-2000:]}")
    return dt, None, []


def status_count(node, coll):
    c = Conn(node.sock)
    try:
        return c.rpc({MK_TYPE: MSG_STATUS})["records"][coll]
    finally:
        c.close()


def one_run(reaper, top, wl, via, run):
    """A fresh node, the whole workload imported, memory and disk measured."""
    node = Node(reaper, top, "jabar", f"{wl.kind}-run{run}")
    coll = "lks" if wl.kind == "bulk" else "case"
    secs, mem, stored, errors = 0.0, [], 0, []
    cpu0 = node.cpu_s()
    for k, (lo, hi) in enumerate(wl.segments()):
        try:
            if via == "socket":
                dt, st, err = import_socket(node, wl.frames[k])
            else:
                dt, st, err = import_jalinctl(node, wl.seg_files[k])
        except (OSError, BenchError) as e:
            time.sleep(0.5)
            rc = node.p.poll()
            raise BenchError(
                f"{wl.kind} run {run}: import of records {lo}..{hi} failed: "
                f"{e}; jalind {'exited with ' + str(rc) if rc is not None else 'still runs'}"
                f"; its log ({node.logpath}):\n{node.log_tail()}") from e
        secs += dt
        stored += st if st is not None else 0
        errors += err
        mem.append((hi, node.mem()))
    cpu = node.cpu_s() - cpu0
    count = status_count(node, coll)
    if errors:
        raise BenchError(f"{wl.kind}: import reported errors, e.g. {errors[:3]}")
    if count != wl.n or (via == "socket" and stored != wl.n):
        raise BenchError(f"{wl.kind}: {wl.n} records imported, node stored "
                         f"{stored}, status counts {count}")
    res = {"secs": secs, "cpu": cpu, "mem": mem, "node": node}
    return res


def finish_run(res, ceiling_bin):
    node = res["node"]
    res["mem_end"] = node.mem()
    res["log_warnings"] = node.stop()
    res["disk"] = lmdb_stat(ceiling_bin, node.data)
    return res


# ---- lmdb_ceiling -------------------------------------------------------------

def kv_lines(out):
    d = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        try:
            d[k] = float(v)
        except ValueError:
            d[k] = v
    return d


def run_ceiling(args):
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, preexec_fn=_die_with_parent)
    if p.returncode != 0:
        raise BenchError(f"{' '.join(args)} exited with {p.returncode}: "
                         f"{p.stderr.strip()}")
    return kv_lines(p.stdout)


def lmdb_stat(ceiling_bin, d):
    return run_ceiling([ceiling_bin, "stat", d])


# ---- get latency ----------------------------------------------------------

def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def get_latency(node, ids, count, seed):
    """count point gets of random ids, one request at a time, one socket."""
    rnd = random.Random(seed)
    c = Conn(node.sock)
    reqs = []
    for i in range(count):
        coll, rid = ids[rnd.randrange(len(ids))]
        reqs.append(frame({MK_TYPE: MSG_GET, MK_REQID: i + 1, MK_COLL: coll,
                           MK_ID: rid}))
    floor = [frame({MK_TYPE: MSG_GET, MK_REQID: i + 1, MK_COLL: "nosuch",
                    MK_ID: ids[0][1]}) for i in range(min(count, 5000))]
    try:
        for fr in reqs[:min(1000, count)]:  # warm up
            c.s.sendall(fr)
            c.recv()
        lat, flat = [], []
        for fr in reqs:
            t0 = time.perf_counter_ns()
            c.s.sendall(fr)
            r = c.recv()
            lat.append((time.perf_counter_ns() - t0) / 1000)
            if r.get(MK_STATUS) != 0:
                raise BenchError(f"get failed: {r.get(MK_ERROR)}")
        for fr in floor:
            t0 = time.perf_counter_ns()
            c.s.sendall(fr)
            c.recv()
            flat.append((time.perf_counter_ns() - t0) / 1000)
    finally:
        c.close()
    return lat, flat


# ---- report ---------------------------------------------------------------

class Report:
    def __init__(self):
        self.lines = []
        self.bench = []
        self.targets = []  # (what, measured, target, met)

    def say(self, s=""):
        self.lines.append(s)
        print(s, flush=True)

    def fig(self, name, value, unit):
        self.bench.append((name, value, unit))

    def emit_targets(self):
        self.say("[targets] (TARGETS.md; measured here, side by side; no "
                 "figure fails the run)")
        for what, got, want, met in self.targets:
            self.say(f"  {'met   ' if met else 'MISSED'}  {what}: {got} "
                     f"(target {want})")

    def emit_bench(self):
        print()
        for name, value, unit in self.bench:
            if isinstance(value, float):
                v = f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
            else:
                v = str(value)
            print(f"BENCH {name} {v} {unit}", flush=True)


def med(xs):
    return statistics.median(xs)


def nlabel(n):
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def report_imports(rep, wl, runs, ceil, append, via):
    kind = wl.kind
    st = wl.stats
    rps = [wl.n / r["secs"] for r in runs]
    rep.say(f"[{kind}] {wl.n} records, JSON {st['json_bytes'] / 1e6:.1f} MB "
            f"({st['json_mean']:.0f} B/record, {st['json_min']}-"
            f"{st['json_max']}), field values {st['field_bytes'] / 1e6:.1f} MB "
            f"({st['field_mean']:.0f} B/record), {st['fields_min']}-"
            f"{st['fields_max']} fields")
    for i, r in enumerate(runs):
        rep.say(f"  run {i + 1}: import {r['secs']:.3f} s = "
                f"{wl.n / r['secs']:,.0f} records/s; jalind CPU "
                f"{r['cpu']:.2f} s ({r['cpu'] * 1e6 / wl.n:.1f} us/record)")
    m = med(rps)
    json_mbs = m * st["json_mean"] / 1e6
    field_mbs = m * st["field_mean"] / 1e6
    cpu_us = med([r["cpu"] * 1e6 / wl.n for r in runs])
    rep.say(f"  median: {m:,.0f} records/s, {json_mbs:.1f} MB/s of JSON input, "
            f"{field_mbs:.1f} MB/s of field values (via {via})")
    crps = [c["records_per_s"] for c in ceil]
    cm = med(crps)
    ratio = m / cm
    rep.say(f"  LMDB ceiling, same keys and values ({ceil[0]['value_bytes'] / wl.n:.0f}"
            f" B/value = jalind's stored bytes), {BATCH}/txn durable: "
            + ", ".join(f"{x:,.0f}" for x in crps)
            + f" records/s; median {cm:,.0f} records/s, "
            f"{med([c['MB_per_s'] for c in ceil]):.1f} MB/s of keys+values")
    rep.say(f"  jalind / ceiling: {ratio:.3f} ({1 / ratio:.1f}x slower)")
    p = f"import_{kind}"
    rep.fig(f"{p}_records_per_s", m, "records/s")
    rep.fig(f"{p}_json_MB_per_s", json_mbs, "MB/s")
    rep.fig(f"{p}_field_MB_per_s", field_mbs, "MB/s")
    rep.fig(f"{p}_jalind_cpu_us_per_record", cpu_us, "us/record")
    rep.fig(f"lmdb_ceiling_{kind}_records_per_s", cm, "records/s")
    rep.fig(f"lmdb_ceiling_{kind}_MB_per_s",
            med([c["MB_per_s"] for c in ceil]), "MB/s")
    rep.fig(f"jalind_vs_ceiling_{kind}_ratio", ratio, "ratio")
    if kind == "bulk":
        rep.targets.append((
            "bulk: durable import, records/s (TARGETS.md's initial-sync "
            "target, the nearest single-node analogue)",
            f"{m:,.0f}", ">= 300,000", m >= 300_000))
    report_disk(rep, wl, runs[-1], ceil[-1], append)
    report_mem(rep, wl, runs)


def report_disk(rep, wl, run, ceil, append):
    kind, n, st, d = wl.kind, wl.n, wl.stats, run["disk"]
    fb, jb = st["field_mean"], st["json_mean"]
    file_pr = d["file_bytes"] / n
    used_pr = d["used_bytes"] / n
    rec_pr = d["db_records_bytes"] / n
    val_pr = ceil["value_bytes"] / n
    rep.say(f"  store on disk: data.mdb {d['file_bytes'] / 1e6:.1f} MB = "
            f"{file_pr:.0f} B/record; pages in use {used_pr:.0f} B/record "
            f"(records db {rec_pr:.0f}, feed {d.get('db_feed_bytes', 0) / n:.0f},"
            f" free pages {d['free_pages']:.0f})")
    rep.say(f"  raw record: field values {fb:.0f} B, JSON {jb:.0f} B; jalind's "
            f"stored value {val_pr:.0f} B (+17 B key); in use / field values "
            f"{used_pr / fb:.2f}x, / JSON {used_pr / jb:.2f}x")
    rep.say(f"  the ceiling's LMDB, same keys and values: "
            f"{ceil['used_bytes'] / n:.0f} B/record in use"
            + (f"; with MDB_APPEND (full pages): "
               f"{append['used_bytes'] / n:.0f} B/record" if append else ""))
    if kind == "bulk":
        rep.targets.append(("bulk: store bytes on disk per record (in use)",
                            f"{used_pr:.0f} B", "<= 500 B", used_pr <= 500))
        rep.targets.append(("bulk: store / raw field values (in use)",
                            f"{used_pr / fb:.2f}x", "<= 1.5x",
                            used_pr / fb <= 1.5))
    p = f"store_{kind}"
    rep.fig(f"{p}_file_bytes_per_record", file_pr, "B/record")
    rep.fig(f"{p}_used_bytes_per_record", used_pr, "B/record")
    rep.fig(f"{p}_records_db_bytes_per_record", rec_pr, "B/record")
    rep.fig(f"{p}_value_bytes_per_record", val_pr, "B/record")
    rep.fig(f"raw_{kind}_field_bytes_per_record", fb, "B/record")
    rep.fig(f"raw_{kind}_json_bytes_per_record", jb, "B/record")
    rep.fig(f"{p}_used_vs_field_ratio", used_pr / fb, "ratio")
    rep.fig(f"{p}_file_vs_field_ratio", file_pr / fb, "ratio")
    rep.fig(f"lmdb_ceiling_{kind}_used_bytes_per_record",
            ceil["used_bytes"] / n, "B/record")
    if append:
        rep.fig(f"lmdb_append_{kind}_used_bytes_per_record",
                append["used_bytes"] / n, "B/record")


def report_mem(rep, wl, runs):
    rep.say("  jalind memory after loading (KiB, max over runs): "
            "records: VmHWM / RssAnon / RssFile")
    anons = []
    for i, (cut, _) in enumerate(runs[0]["mem"]):
        hwm = max(r["mem"][i][1]["VmHWM"] for r in runs)
        anon = max(r["mem"][i][1]["RssAnon"] for r in runs)
        rfile = max(r["mem"][i][1]["RssFile"] for r in runs)
        rep.say(f"    {cut:>7}: {hwm:>7} / {anon:>7} / {rfile:>7}")
        lab = nlabel(cut)
        rep.fig(f"jalind_{wl.kind}_vmhwm_{lab}", hwm, "KiB")
        rep.fig(f"jalind_{wl.kind}_rss_anon_{lab}", anon, "KiB")
        anons.append((cut, anon))
    (c0, a0), (cm, am), (c1, a1) = anons[0], anons[len(anons) // 2], anons[-1]
    g_all = (a1 - a0) * 1024 / (c1 - c0) if c1 > c0 else 0.0
    g_half = (a1 - am) * 1024 / (c1 - cm) if c1 > cm else 0.0
    rep.say(f"    RssAnon growth: {g_all:.1f} B/record from {c0} to {c1} "
            f"records, {g_half:.1f} B/record from {cm} to {c1} (VmHWM "
            "counts the mapped store file too: RssFile)")
    rep.fig(f"jalind_{wl.kind}_rss_anon_growth_bytes_per_record", g_half,
            "B/record")
    rep.targets.append((f"{wl.kind}: jalind RssAnon after {c1} records",
                        f"{a1 / 1024:.1f} MiB", "< 16 MiB", a1 < 16 * 1024))
    rep.targets.append((f"{wl.kind}: RssAnon flat in N ({cm} -> {c1} "
                        "records)", f"{(a1 - am) / 1024:+.2f} MiB",
                        "< +1 MiB, allocator noise", a1 - am < 1024))
    warns = sorted({w for r in runs for w in r["log_warnings"]})
    if warns:
        rep.say(f"  jalind logged {len(warns)} warning/error line(s):")
        for w in warns[:5]:
            rep.say(f"    {w}")


# ---- main -----------------------------------------------------------------

def parse_args():
    ap = argparse.ArgumentParser(description="jalind single-node benchmark")
    ap.add_argument("--quick", action="store_true",
                    help="small N, one run: checks that the script works")
    ap.add_argument("--n", type=int, help="records per workload (100000)")
    ap.add_argument("--cases-n", type=int, help="case records (default: --n)")
    ap.add_argument("--runs", type=int, help="runs per figure (3)")
    ap.add_argument("--via", choices=["jalinctl", "socket"],
                    help="import path (default jalinctl if BUILD/jalinctl "
                         "exists, else socket)")
    ap.add_argument("--gets", type=int, help="point gets timed (20000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (stores, logs)")
    ap.add_argument("--part", choices=["all", "single", "fed"],
                    default="all", help="single-node figures, federation "
                    "figures (fed.py), or both (default)")
    import fed
    fed.add_args(ap)
    a = ap.parse_args()
    a.n = a.n or (2000 if a.quick else 100_000)
    a.cases_n = a.cases_n or (min(a.n, 1000) if a.quick else a.n)
    a.runs = a.runs or (1 if a.quick else 3)
    a.gets = a.gets or (2000 if a.quick else 20_000)
    if a.n < 10 or a.cases_n < 10 or a.runs < 1 or a.gets < 1:
        ap.error("--n and --cases-n must be >= 10, --runs and --gets >= 1")
    a.via_why = ""
    if a.via is None:
        have = os.access(os.path.join(BUILD, "jalinctl"), os.X_OK)
        a.via = "jalinctl" if have else "socket"
        a.via_why = "" if have else " (no BUILD/jalinctl yet: the node's " \
            "own ceiling, not the user's path)"
    return a


class Phases:
    def __init__(self):
        self.t = []

    def run(self, name, fn, *args):
        t0 = time.perf_counter()
        r = fn(*args)
        self.t.append((name, time.perf_counter() - t0))
        return r


def bench_workload(rep, ph, reaper, top, wl, a, ceiling_bin):
    if a.via == "socket":
        ph.run(f"{wl.kind}: build import frames", wl.prepare_socket)
    else:
        ph.run(f"{wl.kind}: split input", wl.prepare_files, top)
    runs = []
    for r in range(a.runs):
        res = ph.run(f"{wl.kind}: import run {r + 1}", one_run, reaper, top,
                     wl, a.via, r + 1)
        if wl.kind == "bulk" and r == a.runs - 1:
            lat, floor = ph.run("bulk: point gets", get_latency, res["node"],
                                wl.ids, a.gets, a.seed)
            res["gets"] = (lat, floor)
        runs.append(finish_run(res, ceiling_bin))
    last = runs[-1]["node"].data
    ceil = []
    for r in range(a.runs):
        out = os.path.join(top, f"ceiling-{wl.kind}-{r + 1}")
        ceil.append(ph.run(f"{wl.kind}: LMDB ceiling run {r + 1}", run_ceiling,
                           [ceiling_bin, "put", "--store", last, out,
                            str(BATCH)]))
        shutil.rmtree(out, ignore_errors=True)
    out = os.path.join(top, f"ceiling-{wl.kind}-append")
    append = ph.run(f"{wl.kind}: LMDB MDB_APPEND run", run_ceiling,
                    [ceiling_bin, "put", "--append", "--store", last, out,
                     str(BATCH)])
    shutil.rmtree(out, ignore_errors=True)
    report_imports(rep, wl, runs, ceil, append, a.via)
    if not a.keep:
        for r in runs:
            shutil.rmtree(r["node"].dir, ignore_errors=True)
    return runs


def report_gets(rep, lat, floor, n):
    rep.say(f"[get] {len(lat)} point gets of random ids on the {n}-record bulk "
            "store, one request at a time on one admin connection "
            "(Python client: its encode/decode is included)")
    rep.say(f"  p50 {pct(lat, 50):.1f} us, p90 {pct(lat, 90):.1f} us, p99 "
            f"{pct(lat, 99):.1f} us, p99.9 {pct(lat, 99.9):.1f} us, max "
            f"{max(lat):.1f} us")
    rep.say(f"  floor (a request refused right after parsing): p50 "
            f"{pct(floor, 50):.1f} us, p99 {pct(floor, 99):.1f} us")
    rep.fig("get_p50_us", pct(lat, 50), "us")
    rep.fig("get_p99_us", pct(lat, 99), "us")
    rep.fig("get_floor_p50_us", pct(floor, 50), "us")


def main():
    a = parse_args()
    for b in ("jalind", os.path.join("tests", "lmdb_ceiling")):
        if not os.access(os.path.join(BUILD, b), os.X_OK):
            raise BenchError(f"{os.path.join(BUILD, b)} missing: run make bench")
    ceiling_bin = os.path.join(BUILD, "tests", "lmdb_ceiling")
    reaper = Reaper()
    # Ctrl-C must reach us even when started with SIGINT ignored (nohup, &)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    try:
        run_all(a, reaper, ceiling_bin)
    except (BenchError, OSError, subprocess.CalledProcessError) as e:
        log(f"error: {e}")
        pm = reaper.post_mortem()
        if pm:
            log(pm)
        sys.exit(1)
    finally:
        reaper.cleanup()


def run_all(a, reaper, ceiling_bin):
    rep, ph = Report(), Phases()
    t_all = time.perf_counter()
    top = reaper.tmpdir(keep=a.keep)
    if a.keep:
        log(f"keeping {top}")
    fs = ph.run("fsync probe", run_ceiling,
                [ceiling_bin, "fsync", top, "0.5" if a.quick else "2"])
    rep.say("jalind benchmark: single node (bench.py) and federation (fed.py)")
    rep.say(f"  machine: {os.cpu_count()} CPUs, load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, temp dir "
            f"{top}")
    rep.say(f"  fsync rate: {fs['fsync_writes_per_s']:,.0f} writes/s "
            f"({fs['fsync_write_us']:.0f} us per 4 KiB O_DSYNC write)")
    rep.fig("fsync_writes_per_s", fs["fsync_writes_per_s"], "writes/s")
    if a.part != "fed":
        run_single(a, rep, ph, reaper, top, ceiling_bin)
    if a.part != "single":
        import fed
        for b in ("jalinctl",):
            if not os.access(os.path.join(BUILD, b), os.X_OK):
                raise BenchError(f"{os.path.join(BUILD, b)} missing")
        fed.run_fed(rep, ph, reaper, top, a, ceiling_bin, rep.targets)
    fs2 = ph.run("fsync probe (end)", run_ceiling,
                 [ceiling_bin, "fsync", top, "0.5" if a.quick else "1"])
    rep.say()
    rep.say(f"[machine at the end] fsync rate {fs2['fsync_writes_per_s']:,.0f}"
            f" writes/s (start: {fs['fsync_writes_per_s']:,.0f}); load "
            f"average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            " (other work on the machine skews every figure)")
    rep.fig("fsync_writes_per_s_end", fs2["fsync_writes_per_s"], "writes/s")
    rep.say()
    rep.emit_targets()
    rep.say()
    rep.say("[phases] seconds")
    for name, s in ph.t:
        rep.say(f"  {s:8.2f}  {name}")
        rep.fig("phase_" + "".join(ch if ch.isalnum() else "_"
                                   for ch in name).strip("_")
                .replace("__", "_"), s, "s")
    total = time.perf_counter() - t_all
    rep.say(f"  {total:8.2f}  total")
    rep.fig("phase_total", total, "s")
    rep.emit_bench()


def run_single(a, rep, ph, reaper, top, ceiling_bin):
    """The single-node figures: imports, LMDB ceiling, store, gets."""
    rep.say(f"  N = {a.n} bulk, {a.cases_n} cases; {a.runs} run(s) each; "
            f"import via {a.via}{a.via_why}, {BATCH} records per "
            "request = per transaction")
    bulk = ph.run("generate bulk", generate, "bulk", a.n, a.seed, top)
    cases = ph.run("generate cases", generate, "cases", a.cases_n, a.seed,
                   top)
    rep.say()
    runs = bench_workload(rep, ph, reaper, top, bulk, a, ceiling_bin)
    lat, floor = runs[-1]["gets"]
    rep.say()
    report_gets(rep, lat, floor, a.n)
    bulk.lines = bulk.frames = None
    rep.say()
    bench_workload(rep, ph, reaper, top, cases, a, ceiling_bin)


if __name__ == "__main__":
    # fed.py imports this file as "bench": let it find this very module
    # (one BenchError class, one set of helpers)
    sys.modules.setdefault("bench", sys.modules[__name__])
    try:
        main()
    except BenchError as e:
        log(f"error: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        log("interrupted; processes stopped and temporary files removed")
        sys.exit(130)
