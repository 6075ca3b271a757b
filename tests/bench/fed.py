#!/usr/bin/python3
"""fed.py - jalind's federation figures: two real jalind processes on
127.0.0.1 with certificates from certs/jalin-ca, an origin (jabar) and a
replica (banten) that dials it. Part of `make bench` (bench.py calls
run_fed); also runnable alone:

    fed.py [--quick] [--n N] [--cases-n N] [--runs R] [--keep]

Per workload (bulk lks records, realistic case records), on one origin:

  A. the origin is loaded with N records by `jalinctl import` (timed, for
     reference);
  B. initial sync, R runs: a fresh, empty replica is started; the clock runs
     from its start command until its digest equals the origin's, polled
     over ONE persistent admin connection (status, then digest once the
     count is reached). Replica memory is read from /proc when it holds 10%,
     50% and 100% of N; its store is measured after it stops;
  C. live, one writer as fast as it can: M puts, one record per request on
     one admin connection to the origin (a separate process); a watcher
     process polls the replica's feed (`feed` since the last seq) on one
     connection and notes when each id appears; lag = seen on the replica -
     the put's response received (both CLOCK_MONOTONIC);
  D. the same at a fixed ~2,000 writes/s;
  E. idle: one put, then `get` of its id on the replica until it succeeds,
     one request at a time on one persistent connection each; >= 200
     samples 10 ms apart;
  F. continuous import on the origin: K records in batches of 1000 (two
     requests in flight, so the origin never waits for the client), lag per
     record from its batch's response to its appearance in the replica's
     feed;
  G. catch-up, R runs: the replica stops (SIGTERM), 10,000 records are
     imported on the origin, the replica is started; the clock runs from
     its start command until its digest equals the origin's.

Nothing here asserts a figure; only a misbehaving node (an error answer, a
replica that never converges) stops the run.
"""

import argparse
import multiprocessing as mp
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402

MSG_PUT, MSG_FEED, MSG_DIGEST = 33, 40, 42
MK_FIELDS, MK_LIMIT, MK_SINCE = 18, 22, 24
SYNC_TIMEOUT = 600   # bounds on waiting, not measurements
LIVE_TIMEOUT = 120

ORIGIN, REPLICA = "jabar", "banten"


def now_ns():
    return time.monotonic_ns()


free_port = B.free_port
CA = B.CA


# ---- a jalind with TLS and peers ----------------------------------------------

class FedNode(B.Node):
    """One jalind of a federation: config with [tls] and [peer] sections,
    started, stopped and restarted on demand (bench.Node's helpers for
    memory, CPU and the log)."""

    def __init__(self, reaper, top, name, label, ca, peers):
        self.reaper = reaper
        self.name = name
        self.dir = os.path.join(top, label)
        os.makedirs(self.dir)
        self.data = os.path.join(self.dir, "data")
        # sun_path holds 108 bytes: the socket in a short directory
        self.sock = os.path.join(self.dir, "admin.sock")
        if len(self.sock) > 100:
            raise B.BenchError(f"socket path too long: {self.sock}")
        self.conf = os.path.join(self.dir, "jalind.conf")
        self.logpath = os.path.join(self.dir, "jalind.log")
        self.port = free_port()
        self.ca = ca
        self.peers = peers
        self.p = None
        self.logf = None
        self.stopped = True
        self.t_start = None
        reaper.nodes.append(self)

    def write_config(self):
        cert, key = self.ca.node(self.name)
        lines = ["[node]", f"name = {self.name}", "region = 32",
                 f"data_dir = {self.data}",
                 f"listen = 127.0.0.1:{self.port}",
                 f"admin_socket = {self.sock}", "all_cases = yes", "",
                 "[tls]", f"ca = {self.ca.ca_pem}", f"cert = {cert}",
                 f"key = {key}", f"crl = {self.ca.crl_pem}",
                 f"roster = {self.ca.roster_pem}"]
        for p in self.peers:
            lines += ["", f"[peer {p['name']}]", "all_cases = yes"]
            if p.get("node") is not None:
                lines.append(f"address = 127.0.0.1:{p['node'].port}")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, wait=True):
        """Start jalind; t_start is taken right before the fork."""
        if self.p is not None and self.p.poll() is None:
            raise B.BenchError(f"{self.name} already runs")
        self.write_config()
        self.logf = open(self.logpath, "ab")
        self.stopped = False
        self.t_start = now_ns()
        self.p = self.reaper.proc(subprocess.Popen(
            [os.path.join(B.BUILD, "jalind"), "-f", "-c", self.conf],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf,
            preexec_fn=B._die_with_parent))
        if wait:
            # a request answered, not just a connect: the kernel accepts
            # on the admin socket before jalind's event loop runs, and
            # jalind installs its SIGTERM handler only then (node/main.c)
            c = self.connect()
            status(c)
            c.close()
        return self

    def connect(self, timeout=15):
        """A persistent admin connection, as soon as the socket answers."""
        deadline = time.monotonic() + timeout
        while True:
            if self.p.poll() is not None:
                raise B.BenchError(f"jalind {self.name} exited with "
                                   f"{self.p.returncode}:\n{self.log_tail()}")
            try:
                return B.Conn(self.sock, timeout=300)
            except OSError:
                if time.monotonic() > deadline:
                    raise B.BenchError(f"jalind {self.name} did not open its "
                                       f"admin socket in {timeout} s:\n"
                                       f"{self.log_tail()}")
                time.sleep(0.0005)

    def stop(self):
        w = super().stop()
        self.p = None
        return w


def make_pair(reaper, top, ca, label):
    """origin jabar (no address for its peer) and replica banten, which
    dials it. Neither is started."""
    o = FedNode(reaper, top, ORIGIN, f"{label}-origin", ca, [])
    r = FedNode(reaper, top, REPLICA, f"{label}-replica", ca,
                [{"name": ORIGIN, "node": o}])
    o.peers = [{"name": REPLICA}]
    return o, r


def new_replica(reaper, top, ca, origin, label):
    return FedNode(reaper, top, REPLICA, label, ca,
                   [{"name": ORIGIN, "node": origin}])


# ---- admin requests -----------------------------------------------------------

def digest(c):
    return c.rpc({B.MK_TYPE: MSG_DIGEST})["all"]


def status(c):
    return c.rpc({B.MK_TYPE: B.MSG_STATUS})


def put_frame(item, reqid):
    coll, rid, fields = msgpack.unpackb(item, raw=False)
    return B.frame({B.MK_TYPE: MSG_PUT, B.MK_REQID: reqid, B.MK_COLL: coll,
                    B.MK_ID: rid, MK_FIELDS: fields})


def get_frame(coll, rid):
    return B.frame({B.MK_TYPE: B.MSG_GET, B.MK_REQID: 1, B.MK_COLL: coll,
                    B.MK_ID: rid})


def wait_synced(node, coll, n, want, mem_at=(), poll=0.001,
                timeout=SYNC_TIMEOUT):
    """Poll node (just started, maybe still starting) on one persistent
    admin connection until it counts n records of coll and its digest
    equals want. Returns (seconds since node.t_start, seconds until its
    socket answered, [(cut, mem)], the connection)."""
    c = node.connect()
    t_sock = now_ns()
    cuts = sorted(x for x in mem_at if x <= n)
    mems = []
    deadline = time.monotonic() + timeout
    count = 0
    while True:
        st = status(c)
        count = st["records"][coll]
        while cuts and count >= cuts[0]:
            mems.append((cuts.pop(0), node.mem()))
        if count >= n:
            if digest(c) == want:
                t = now_ns()
                break
        if time.monotonic() > deadline:
            raise B.BenchError(f"{node.name} holds {count} of {n} {coll} "
                               f"records after {timeout} s (digest "
                               f"{'differs' if count >= n else 'not checked'})"
                               f":\n{node.log_tail()}")
        if node.p.poll() is not None:
            raise B.BenchError(f"{node.name} exited:\n{node.log_tail()}")
        time.sleep(poll)
    return ((t - node.t_start) / 1e9, (t_sock - node.t_start) / 1e9, mems, c)


# ---- processes: writers and the watcher -----------------------------------

def _child_init():
    B._die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _watcher(sock, since, want, ready, q, poll_s, timeout):
    """Poll the replica's feed; note when each wanted id first appears."""
    _child_init()
    try:
        c = B.Conn(sock)
        want = set(want)
        seen = {}
        polls = 0
        req = {B.MK_TYPE: MSG_FEED, MK_SINCE: since, MK_LIMIT: 10000}
        ready.set()
        deadline = time.monotonic() + timeout
        while len(seen) < len(want) and time.monotonic() < deadline:
            req[MK_SINCE] = since
            r = c.rpc(req)
            t = now_ns()
            polls += 1
            ents = r["entries"]
            for e in ents:
                i = e["id"]
                if i in want and i not in seen:
                    seen[i] = t
            since = r["next"]
            if not ents:
                time.sleep(poll_s)
        q.put(("ok", seen, polls))
    except Exception as e:  # reported by the parent
        ready.set()
        q.put(("error", repr(e), 0))


def _count_watcher(sock, coll, base, n, ready, q, poll_s, timeout):
    """Poll the replica's record count (status: O(1) on the node) and
    note when it passes each record. Exact when the records are new and
    applied in the order they were written, which holds for one origin's
    import: the replica applies the origin's feed in seq order."""
    _child_init()
    try:
        c = B.Conn(sock)
        seen = [0] * n
        got, polls = 0, 0
        req = {B.MK_TYPE: B.MSG_STATUS}
        ready.set()
        deadline = time.monotonic() + timeout
        while got < n and time.monotonic() < deadline:
            cnt = c.rpc(req)["records"][coll] - base
            t = now_ns()
            polls += 1
            if cnt > got:
                for k in range(got, min(cnt, n)):
                    seen[k] = t
                got = min(cnt, n)
            else:
                time.sleep(poll_s)
        q.put(("ok", seen[:got], polls))
    except Exception as e:
        ready.set()
        q.put(("error", repr(e), 0))


def _put_writer(sock, frames, rate, go, q):
    """One put per request on one connection; rate None = flat out."""
    _child_init()
    try:
        c = B.Conn(sock)
        sends, commits = [], []
        go.wait()
        t0 = now_ns()
        step = 1e9 / rate if rate else 0
        for i, fr in enumerate(frames):
            if rate:
                wait = (t0 + i * step - now_ns()) / 1e9
                if wait > 0:
                    time.sleep(wait)
            ts = now_ns()
            c.s.sendall(fr)
            r = c.recv()
            tc = now_ns()
            if r.get(B.MK_STATUS) != 0:
                raise B.BenchError(f"put failed: {r.get(B.MK_ERROR)}")
            sends.append(ts)
            commits.append(tc)
        q.put(("ok", sends, commits))
    except Exception as e:
        q.put(("error", repr(e), None))


def _importer(sock, frames, go, q):
    """Import frames with two requests in flight; commit time per frame.
    A sender thread keeps the window full, so that the answers are read
    (and timed) as they arrive, not after the next multi-MB frame has
    been pushed into the socket."""
    import threading
    _child_init()
    try:
        c = B.Conn(sock)
        go.wait()
        window = threading.Semaphore(B.WINDOW)
        failed = []

        def sender():
            try:
                for fr in frames:
                    window.acquire()
                    c.s.sendall(fr)
            except OSError as e:
                failed.append(e)
        commits, stored = [], 0
        t0 = now_ns()
        th = threading.Thread(target=sender, daemon=True)
        th.start()
        for _ in range(len(frames)):
            r = c.recv()
            commits.append(now_ns())
            window.release()
            if r.get(B.MK_STATUS) != 0:
                raise B.BenchError(f"import failed: {r.get(B.MK_ERROR)}")
            res = r[B.MK_RESULT]
            if res["errors"]:
                raise B.BenchError(f"import errors: {res['errors'][:3]}")
            stored += res["stored"]
        th.join(5)
        if failed:
            raise B.BenchError(f"sending import frames: {failed[0]}")
        q.put(("ok", (t0, commits, stored), None))
    except Exception as e:
        q.put(("error", repr(e), None))


def _get(q, what, timeout=SYNC_TIMEOUT):
    try:
        kind, a, b = q.get(timeout=timeout)
    except Exception:
        raise B.BenchError(f"{what}: no result in {timeout} s")
    if kind != "ok":
        raise B.BenchError(f"{what}: {a}")
    return a, b


def feed_head(c):
    return status(c)["seq"]


def live_run(origin, replica, ids, frames, rate, poll_s):
    """One writer (puts) and the watcher. Returns a dict of figures."""
    ctx = mp.get_context("fork")
    rc = replica.connect()
    since = feed_head(rc)
    rc.close()
    q_w, q_p = ctx.Queue(), ctx.Queue()
    ready, go = ctx.Event(), ctx.Event()
    want = [i for _, i in ids]
    w = ctx.Process(target=_watcher, args=(replica.sock, since, want, ready,
                                           q_w, poll_s, LIVE_TIMEOUT + 60))
    p = ctx.Process(target=_put_writer, args=(origin.sock, frames, rate, go,
                                              q_p))
    w.start()
    p.start()
    ready.wait(30)
    cpu_o, cpu_r = origin.cpu_s(), replica.cpu_s()
    go.set()
    sends, commits = _get(q_p, "writer", LIVE_TIMEOUT + 120)
    seen, polls = _get(q_w, "watcher", LIVE_TIMEOUT + 120)
    cpu_o, cpu_r = origin.cpu_s() - cpu_o, replica.cpu_s() - cpu_r
    p.join(5)
    w.join(5)
    if len(seen) != len(want):
        raise B.BenchError(f"replica showed {len(seen)} of {len(want)} "
                           f"records within {LIVE_TIMEOUT} s")
    lags = [(seen[i] - tc) / 1e6 for i, tc in zip(want, commits)]
    t_first, t_last_commit = sends[0], commits[-1]
    t_all = max(seen.values())
    span = (commits[-1] - sends[0]) / 1e9
    return {"lags": lags, "n": len(want),
            "tail_ms": (t_all - t_last_commit) / 1e6,
            "write_rate": len(want) / span,
            "repl_rate": len(want) / ((t_all - t_first) / 1e9),
            "put_us": [(c - s) / 1e3 for s, c in zip(sends, commits)],
            "polls": polls, "cpu_o": cpu_o, "cpu_r": cpu_r}


def import_run(origin, replica, coll, ids, frames, per_frame, poll_s,
               watch="count"):
    """Continuous import on the origin, a watcher on the replica: its
    record count (default) or its feed."""
    ctx = mp.get_context("fork")
    rc = replica.connect()
    st = status(rc)
    since, base = st["seq"], st["records"][coll]
    rc.close()
    q_w, q_i = ctx.Queue(), ctx.Queue()
    ready, go = ctx.Event(), ctx.Event()
    want = [i for _, i in ids]
    if watch == "count":
        w = ctx.Process(target=_count_watcher, args=(
            replica.sock, coll, base, len(want), ready, q_w, poll_s,
            LIVE_TIMEOUT + 60))
    else:
        w = ctx.Process(target=_watcher, args=(
            replica.sock, since, want, ready, q_w, poll_s,
            LIVE_TIMEOUT + 60))
    p = ctx.Process(target=_importer, args=(origin.sock, frames, go, q_i))
    w.start()
    p.start()
    ready.wait(30)
    cpu_o, cpu_r = origin.cpu_s(), replica.cpu_s()
    go.set()
    (t0, commits, stored), _ = _get(q_i, "importer", LIVE_TIMEOUT + 120)
    seen, polls = _get(q_w, "watcher", LIVE_TIMEOUT + 120)
    cpu_o, cpu_r = origin.cpu_s() - cpu_o, replica.cpu_s() - cpu_r
    p.join(5)
    w.join(5)
    if stored != len(want):
        raise B.BenchError(f"import stored {stored} of {len(want)}")
    if len(seen) != len(want):
        raise B.BenchError(f"replica showed {len(seen)} of {len(want)} "
                           f"records within {LIVE_TIMEOUT} s")
    if watch == "count":
        seen = dict(zip(want, seen))
    # the replica must hold exactly what the origin holds
    oc, rc = origin.connect(), replica.connect()
    deadline = time.monotonic() + 30
    while digest(oc) != digest(rc):
        if time.monotonic() > deadline:
            raise B.BenchError("replica's digest differs from the origin's "
                               "after the import")
        time.sleep(0.01)
    oc.close()
    rc.close()
    lags = []
    k = 0
    for fi, n in enumerate(per_frame):
        for i in want[k:k + n]:
            lags.append((seen[i] - commits[fi]) / 1e6)
        k += n
    t_all = max(seen.values())
    return {"lags": lags, "n": len(want),
            "tail_ms": (t_all - commits[-1]) / 1e6,
            "import_rate": len(want) / ((commits[-1] - t0) / 1e9),
            "repl_rate": len(want) / ((t_all - t0) / 1e9),
            "polls": polls, "cpu_o": cpu_o, "cpu_r": cpu_r}


def idle_run(origin, replica, items, gap_s=0.01):
    """One put at a time; then get on the replica until it succeeds."""
    oc, rc = origin.connect(), replica.connect()
    lat, put_us, probes = [], [], []
    try:
        for k, item in enumerate(items):
            coll, rid, _ = msgpack.unpackb(item, raw=False)
            pf, gf = put_frame(item, k + 1), get_frame(coll, rid)
            time.sleep(gap_s)
            ts = now_ns()
            oc.s.sendall(pf)
            r = oc.recv()
            tc = now_ns()
            if r.get(B.MK_STATUS) != 0:
                raise B.BenchError(f"put failed: {r.get(B.MK_ERROR)}")
            n = 0
            deadline = tc + 10 * 10**9
            while True:
                rc.s.sendall(gf)
                r = rc.recv()
                n += 1
                if r.get(B.MK_STATUS) == 0:
                    tv = now_ns()
                    break
                if now_ns() > deadline:
                    raise B.BenchError(f"{rid} not on the replica after 10 s")
            lat.append((tv - tc) / 1e6)
            put_us.append((tc - ts) / 1e3)
            probes.append(n)
    finally:
        oc.close()
        rc.close()
    return {"lags": lat, "put_us": put_us, "probes": probes}


def import_socket_all(node, frames):
    dt, stored, errors = B.import_socket(node, frames)
    if errors:
        raise B.BenchError(f"import errors: {errors[:3]}")
    return dt, stored


# ---- the workload, split into its phases --------------------------------------

class FedLoad:
    """gen.py output of N + everything the live phases write, as slices."""

    def __init__(self, kind, wl, n, m, k, idle, catch, runs):
        self.kind = kind
        self.coll = "lks" if kind == "bulk" else "case"
        self.wl = wl
        self.n, self.m, self.k, self.idle, self.catch = n, m, k, idle, catch
        with open(wl.path + ".mp", "rb") as f:
            data = f.read()
        items, pos = [], 0
        while pos < len(data):
            (ln,) = struct.unpack_from(">I", data, pos)
            items.append(data[pos + 4:pos + 4 + ln])
            pos += 4 + ln
        self.items = items
        self.ids = [B.head_ids(line) for line in wl.lines]
        self.pos = n
        self.runs = runs

    def take(self, count):
        lo, hi = self.pos, self.pos + count
        if hi > len(self.items):
            raise B.BenchError(f"{self.kind}: generated too few records")
        self.pos = hi
        return self.items[lo:hi], self.ids[lo:hi]

    @staticmethod
    def total(n, m, k, idle, catch, runs):
        return n + runs * (2 * m + k + catch) + idle


def import_batches(items):
    frames, per = [], []
    for i in range(0, len(items), B.BATCH):
        part = items[i:i + B.BATCH]
        fr = B.import_frames(part)
        frames.extend(fr)
        if len(fr) == 1:
            per.append(len(part))
        else:  # split in two by import_frames: sizes as it split them
            per.extend(_split_sizes(len(part), len(fr)))
    return frames, per


def _split_sizes(n, parts):
    # import_frames halves recursively; only reached for huge records
    raise B.BenchError(f"import frame of {n} records was split in {parts}")


def bench_fed_workload(reaper, top, ca, fl, a, ceiling_bin, mem_cuts, log):
    """All phases for one workload. Returns a dict of raw results."""
    res = {"kind": fl.kind, "n": fl.n}
    o, r = make_pair(reaper, top, ca, f"fed-{fl.kind}")
    o.start()
    # A: load the origin with jalinctl import, as an operator would
    path = os.path.join(top, f"fed-{fl.kind}-origin.jsonl")
    with open(path, "wb") as f:
        f.writelines(fl.wl.lines[:fl.n])
    log(f"{fl.kind}: loading the origin with {fl.n} records")
    dt, _, _ = B.import_jalinctl(o, path)
    os.unlink(path)
    res["origin_import_s"] = dt
    oc = o.connect()
    if status(oc)["records"][fl.coll] != fl.n:
        raise B.BenchError(f"origin holds {status(oc)['records'][fl.coll]} "
                           f"records, not {fl.n}")
    want = digest(oc)
    oc.close()
    # B: initial sync into fresh replicas. Each run starts the origin from
    # a copy of its store taken before any replica connected: an origin
    # that has met an earlier store of the same replica name goes through
    # a RESYNC exchange first (see the README: "ACK beyond what was
    # sent"), measured once more below as the "re-created replica" case.
    o.stop()
    pristine = os.path.join(top, f"fed-{fl.kind}-origin-pristine")
    shutil.copytree(o.data, pristine)
    syncs = []
    for i in range(a.runs):
        if o.p is not None:
            o.stop()
        shutil.rmtree(o.data)
        shutil.copytree(pristine, o.data)
        o.start()
        rep = r if i == a.runs - 1 else new_replica(
            reaper, top, ca, o, f"fed-{fl.kind}-replica-init{i + 1}")
        log(f"{fl.kind}: initial sync run {i + 1}")
        rep.start(wait=False)
        secs, sock_s, mems, c = wait_synced(rep, fl.coll, fl.n, want,
                                            mem_cuts)
        c.close()
        cpu = rep.cpu_s()
        mem_end = rep.mem()
        warn = rep.stop()
        disk = B.lmdb_stat(ceiling_bin, rep.data)
        syncs.append({"secs": secs, "sock_s": sock_s, "mems": mems,
                      "mem_end": mem_end, "cpu": cpu, "disk": disk,
                      "warn": warn})
        if rep is not r and not a.keep:
            shutil.rmtree(rep.dir, ignore_errors=True)
    shutil.rmtree(pristine, ignore_errors=True)
    res["syncs"] = syncs
    oc = o.connect()
    # restart the last replica: it catches up nothing, then stays live
    r.start(wait=False)
    _, _, _, c = wait_synced(r, fl.coll, fl.n, want)
    c.close()
    time.sleep(0.2)
    # C, D: live writers
    for key, rate in (("live_fast", None), ("live_2k", a.rate)):
        out = []
        for i in range(a.runs):
            items, ids = fl.take(fl.m)
            frames = [put_frame(it, j + 1) for j, it in enumerate(items)]
            log(f"{fl.kind}: {key} run {i + 1} ({fl.m} puts)")
            out.append(live_run(o, r, ids, frames, rate, a.poll))
            time.sleep(0.2)
        res[key] = out
    # E: idle latency
    items, _ = fl.take(fl.idle)
    log(f"{fl.kind}: idle latency, {fl.idle} samples")
    res["idle"] = idle_run(o, r, items)
    # F: continuous import
    out = []
    for i in range(a.runs):
        items, ids = fl.take(fl.k)
        frames, per = import_batches(items)
        log(f"{fl.kind}: continuous import run {i + 1} ({fl.k} records)")
        out.append(import_run(o, r, fl.coll, ids, frames, per, a.poll,
                              a.import_watch))
        time.sleep(0.2)
    res["import"] = out
    res["mem_after_live"] = r.mem()
    # G: catch-up after a restart
    out = []
    for i in range(a.runs):
        r.stop()
        items, _ = fl.take(fl.catch)
        frames, _ = import_batches(items)
        import_socket_all(o, frames)
        st = status(oc)
        want = digest(oc)
        log(f"{fl.kind}: catch-up run {i + 1} ({fl.catch} records)")
        r.start(wait=False)
        secs, sock_s, _, c = wait_synced(r, fl.coll, st["records"][fl.coll],
                                         want, poll=0.0005)
        c.close()
        out.append({"secs": secs, "sock_s": sock_s})
        time.sleep(0.2)
    res["catchup"] = out
    res["mem_end"] = r.mem()
    res["warn"] = r.stop()
    # last: a fresh, empty replica against this origin, which has met an
    # earlier store named banten (the RESYNC exchange, see the README)
    want = digest(oc)
    rr = new_replica(reaper, top, ca, o, f"fed-{fl.kind}-replica-recreated")
    log(f"{fl.kind}: initial sync into a re-created replica")
    rr.start(wait=False)
    secs, _, _, c = wait_synced(rr, fl.coll, st["records"][fl.coll], want)
    c.close()
    res["sync_recreated"] = {"secs": secs, "n": st["records"][fl.coll]}
    res["warn"] += rr.stop() + o.stop()
    if not a.keep:
        shutil.rmtree(rr.dir, ignore_errors=True)
    oc.close()
    res["origin_n_end"] = st["records"][fl.coll]
    if not a.keep:
        shutil.rmtree(o.dir, ignore_errors=True)
        shutil.rmtree(r.dir, ignore_errors=True)
    return res


# ---- report -------------------------------------------------------------------

def pcts(xs):
    return {q: B.pct(xs, q) for q in (50, 95, 99)}


def med_of(runs, fn):
    return B.med([fn(x) for x in runs])


def report_fed(rep, res, fl, targets):
    """Human-readable lines and BENCH figures of one workload."""
    k, n, coll = fl.kind, fl.n, fl.coll
    st = fl.wl.stats
    p = f"fed_{k}"
    syncs = res["syncs"]
    rps = [n / s["secs"] for s in syncs]
    m = B.med(rps)
    secs = B.med([s["secs"] for s in syncs])
    rep.say(f"[federation, {k}] origin jabar -> replica banten, TLS 1.3 "
            f"with client certificates on 127.0.0.1; N = {n} {coll} records "
            f"(field values {st['field_mean']:.0f} B, JSON "
            f"{st['json_mean']:.0f} B per record)")
    rep.say(f"  origin loaded by jalinctl import in "
            f"{res['origin_import_s']:.2f} s ({n / res['origin_import_s']:,.0f}"
            " records/s)")
    rep.say("  initial sync into an empty replica (its start command -> its "
            "digest equals the origin's; durable):")
    for i, s in enumerate(syncs):
        rep.say(f"    run {i + 1}: {s['secs']:.3f} s = {n / s['secs']:,.0f} "
                f"records/s (admin socket up after {s['sock_s'] * 1e3:.0f} ms);"
                f" replica CPU {s['cpu']:.2f} s = "
                f"{s['cpu'] * 1e6 / n:.1f} us/record")
    fmb = m * st["field_mean"] / 1e6
    jmb = m * st["json_mean"] / 1e6
    cpu_us = B.med([s["cpu"] * 1e6 / n for s in syncs])
    rep.say(f"    median {secs:.3f} s, {m:,.0f} records/s, {fmb:.1f} MB/s of "
            f"field values, {jmb:.1f} MB/s as JSON")
    rep.fig(f"{p}_initial_sync_records_per_s", m, "records/s")
    rep.fig(f"{p}_initial_sync_seconds", secs, "s")
    rep.fig(f"{p}_initial_sync_field_MB_per_s", fmb, "MB/s")
    rep.fig(f"{p}_initial_sync_json_MB_per_s", jmb, "MB/s")
    rep.fig(f"{p}_initial_sync_replica_cpu_us_per_record", cpu_us,
            "us/record")
    rc_ = res["sync_recreated"]
    rep.say(f"    at the end, into a re-created replica (the origin had met an"
            f" earlier store named {REPLICA}), {rc_['n']} records: "
            f"{rc_['secs']:.3f} s = {rc_['n'] / rc_['secs']:,.0f} records/s "
            "(one run; see the README: the RESYNC exchange)")
    rep.fig(f"{p}_initial_sync_recreated_replica_records_per_s",
            rc_["n"] / rc_["secs"], "records/s")
    rep.fig(f"{p}_replica_start_to_socket_ms",
            B.med([s["sock_s"] for s in syncs]) * 1e3, "ms")
    if k == "bulk":
        targets.append((f"{k}: initial sync of {n}, durable", f"{m:,.0f}/s",
                        ">= 300,000/s", m >= 300_000))
    # memory during the initial sync
    rep.say("  replica memory during the initial sync (KiB, max over runs): "
            "records held: VmHWM / RssAnon")
    anons = []
    for j, (cut, _) in enumerate(syncs[0]["mems"]):
        hwm = max(s["mems"][j][1]["VmHWM"] for s in syncs)
        anon = max(s["mems"][j][1]["RssAnon"] for s in syncs)
        rep.say(f"    {cut:>7}: {hwm:>7} / {anon:>7}")
        rep.fig(f"{p}_replica_vmhwm_{B.nlabel(cut)}", hwm, "KiB")
        rep.fig(f"{p}_replica_rss_anon_{B.nlabel(cut)}", anon, "KiB")
        anons.append((cut, anon))
    hwm_end = max(s["mem_end"]["VmHWM"] for s in syncs)
    anon_end = max(s["mem_end"]["RssAnon"] for s in syncs)
    rep.say(f"    at the end: {hwm_end} / {anon_end}; after the live phases "
            f"{res['mem_after_live']['VmHWM']} / "
            f"{res['mem_after_live']['RssAnon']}; after the catch-ups "
            f"{res['mem_end']['VmHWM']} / {res['mem_end']['RssAnon']} "
            f"(origin then holds {res['origin_n_end']} records)")
    rep.fig(f"{p}_replica_vmhwm_end", hwm_end, "KiB")
    rep.fig(f"{p}_replica_rss_anon_end", anon_end, "KiB")
    rep.fig(f"{p}_replica_rss_anon_after_live", res["mem_after_live"]["RssAnon"],
            "KiB")
    rep.fig(f"{p}_replica_vmhwm_after_live", res["mem_after_live"]["VmHWM"],
            "KiB")
    amax = max([a for _, a in anons] + [anon_end,
                                        res["mem_after_live"]["RssAnon"]])
    half = anons[len(anons) // 2]
    flat = anons[-1][1] - half[1]
    targets.append((f"{k}: replica RssAnon, max seen", f"{amax / 1024:.1f} MiB",
                    "< 16 MiB", amax < 16 * 1024))
    if len(anons) > 1:
        targets.append((f"{k}: replica RssAnon flat in N ({half[0]} -> "
                        f"{anons[-1][0]})", f"{flat / 1024:+.2f} MiB",
                        "flat (< +1 MiB)", flat < 1024))
    # disk
    d = syncs[-1]["disk"]
    fpr, upr = d["file_bytes"] / n, d["used_bytes"] / n
    rep.say(f"  replica store after the initial sync: data.mdb "
            f"{d['file_bytes'] / 1e6:.1f} MB = {fpr:.0f} B/record; pages in "
            f"use {upr:.0f} B/record (records db "
            f"{d['db_records_bytes'] / n:.0f}, feed "
            f"{d.get('db_feed_bytes', 0) / n:.0f})")
    rep.fig(f"{p}_replica_file_bytes_per_record", fpr, "B/record")
    rep.fig(f"{p}_replica_used_bytes_per_record", upr, "B/record")
    if k == "bulk":
        targets.append((f"{k}: replica bytes on disk per record (in use; "
                        "file)", f"{upr:.0f} B; {fpr:.0f} B", "<= 500 B",
                        upr <= 500))
    # live
    for key, what in (("live_fast", "one writer, flat out"),
                      ("live_2k", "one writer at a fixed ~"
                       f"{fl.rate:,} writes/s")):
        runs = res[key]
        rep.say(f"  live, {what}: {fl.m} puts per run, one per request on "
                "one connection; lag = put answered -> id in the replica's "
                "feed (polled on one connection)")
        for i, x in enumerate(runs):
            q = pcts(x["lags"])
            rep.say(f"    run {i + 1}: {x['write_rate']:,.0f} writes/s (put "
                    f"p50 {B.pct(x['put_us'], 50):.0f} us), replicated "
                    f"{x['repl_rate']:,.0f} records/s; lag p50 {q[50]:.2f} "
                    f"p95 {q[95]:.2f} p99 {q[99]:.2f} max "
                    f"{max(x['lags']):.2f} ms; tail {x['tail_ms']:.2f} ms; "
                    f"replica CPU {x['cpu_r'] * 1e6 / x['n']:.0f} us/record;"
                    f" {x['polls']} feed polls")
        pre = f"{p}_{key}"
        figs = {
            "lag_p50_ms": med_of(runs, lambda x: B.pct(x["lags"], 50)),
            "lag_p95_ms": med_of(runs, lambda x: B.pct(x["lags"], 95)),
            "lag_p99_ms": med_of(runs, lambda x: B.pct(x["lags"], 99)),
            "lag_max_ms": med_of(runs, lambda x: max(x["lags"])),
            "tail_ms": med_of(runs, lambda x: x["tail_ms"]),
        }
        wr = med_of(runs, lambda x: x["write_rate"])
        rr = med_of(runs, lambda x: x["repl_rate"])
        cpu = med_of(runs, lambda x: x["cpu_r"] * 1e6 / x["n"])
        put = med_of(runs, lambda x: B.pct(x["put_us"], 50))
        rep.say(f"    median: lag p50 {figs['lag_p50_ms']:.2f} p95 "
                f"{figs['lag_p95_ms']:.2f} p99 {figs['lag_p99_ms']:.2f} ms, "
                f"tail {figs['tail_ms']:.2f} ms; {wr:,.0f} writes/s, "
                f"replicated {rr:,.0f} records/s")
        for name, v in figs.items():
            rep.fig(f"{pre}_{name}", v, "ms")
        rep.fig(f"{pre}_writes_per_s", wr, "writes/s")
        rep.fig(f"{pre}_replicated_records_per_s", rr, "records/s")
        rep.fig(f"{pre}_put_p50_us", put, "us")
        rep.fig(f"{pre}_replica_cpu_us_per_record", cpu, "us/record")
        if k == "bulk":
            worst = max(figs["lag_p95_ms"], figs["tail_ms"])
            targets.append((f"{k}: live, {what}: lag p95 / tail",
                            f"{figs['lag_p95_ms']:.2f} / "
                            f"{figs['tail_ms']:.2f} ms", "< 2 ms",
                            worst < 2))
    # idle
    x = res["idle"]
    q = pcts(x["lags"])
    rep.say(f"  idle: {len(x['lags'])} single puts 10 ms apart, then get on "
            "the replica until found (one connection each): put answered -> "
            f"found p50 {q[50]:.3f} p95 {q[95]:.3f} p99 {q[99]:.3f} ms (put "
            f"itself p50 {B.pct(x['put_us'], 50):.0f} us; gets per sample "
            f"p50 {B.pct(x['probes'], 50)})")
    rep.fig(f"{p}_idle_lag_p50_ms", q[50], "ms")
    rep.fig(f"{p}_idle_lag_p99_ms", q[99], "ms")
    rep.fig(f"{p}_idle_put_p50_us", B.pct(x["put_us"], 50), "us")
    if k == "bulk":
        targets.append((f"{k}: idle, origin commit -> durable on the "
                        "replica, median", f"{q[50]:.3f} ms", "< 0.7 ms",
                        q[50] < 0.7))
    # continuous import
    runs = res["import"]
    rep.say(f"  continuous import on the origin: {fl.k} records per run in "
            f"batches of {B.BATCH}, two requests in flight; lag = batch "
            "answered -> the record on the replica ("
            + ("its record count passing it, polled with status"
               if fl.watch == "count" else "its id in the replica's feed")
            + "); digests compared after each run")
    for i, x in enumerate(runs):
        q = pcts(x["lags"])
        rep.say(f"    run {i + 1}: import {x['import_rate']:,.0f} records/s, "
                f"replicated {x['repl_rate']:,.0f} records/s; lag p50 "
                f"{q[50]:.1f} p95 {q[95]:.1f} p99 {q[99]:.1f} ms, tail "
                f"{x['tail_ms']:.1f} ms; replica CPU "
                f"{x['cpu_r'] * 1e6 / x['n']:.1f} us/record")
    rr = med_of(runs, lambda x: x["repl_rate"])
    ir = med_of(runs, lambda x: x["import_rate"])
    l95 = med_of(runs, lambda x: B.pct(x["lags"], 95))
    rep.say(f"    median: replicated {rr:,.0f} records/s (import "
            f"{ir:,.0f}/s), lag p95 {l95:.1f} ms")
    pre = f"{p}_import"
    rep.fig(f"{pre}_replicated_records_per_s", rr, "records/s")
    rep.fig(f"{pre}_origin_records_per_s", ir, "records/s")
    rep.fig(f"{pre}_lag_p50_ms", med_of(runs, lambda x: B.pct(x["lags"], 50)),
            "ms")
    rep.fig(f"{pre}_lag_p95_ms", l95, "ms")
    rep.fig(f"{pre}_lag_p99_ms", med_of(runs, lambda x: B.pct(x["lags"], 99)),
            "ms")
    rep.fig(f"{pre}_tail_ms", med_of(runs, lambda x: x["tail_ms"]), "ms")
    rep.fig(f"{pre}_replica_cpu_us_per_record",
            med_of(runs, lambda x: x["cpu_r"] * 1e6 / x["n"]), "us/record")
    if k == "bulk":
        targets.append((f"{k}: continuous import: replicated, lag p95",
                        f"{rr:,.0f}/s, {l95:.1f} ms", ">= 50,000/s, < 50 ms",
                        rr >= 50_000 and l95 < 50))
    # catch-up
    runs = res["catchup"]
    cs = B.med([x["secs"] for x in runs])
    rep.say(f"  catch-up of {fl.catch} records missed while stopped (its "
            "start command -> digest equal): "
            + ", ".join(f"{x['secs']:.3f} s" for x in runs)
            + f"; median {cs:.3f} s (admin socket up after "
            f"{B.med([x['sock_s'] for x in runs]) * 1e3:.0f} ms)")
    rep.fig(f"{p}_catchup_{B.nlabel(fl.catch)}_seconds", cs, "s")
    if k == "bulk":
        targets.append((f"{k}: catch-up of {fl.catch}, with the restart",
                        f"{cs:.3f} s", "< 0.3 s", cs < 0.3))
    # a replica stopped by us logs "closing: node stopping": not news
    warns = sorted(w for w in set(res["warn"]) |
                   {w for s in syncs for w in s["warn"]}
                   if "node stopping" not in w)
    if warns:
        rep.say(f"  jalind logged {len(warns)} distinct warning/error "
                "line(s), e.g.:")
        for w in warns[:5]:
            rep.say(f"    {w}")


def fed_params(a):
    """Sizes of each workload's phases."""
    q = a.quick
    bulk = dict(n=a.fed_n or (5000 if q else 100_000),
                m=a.fed_m or (1000 if q else 10_000),
                k=a.fed_k or (5000 if q else 100_000),
                idle=a.idle or (50 if q else 200),
                catch=2000 if q else 10_000)
    cases = dict(n=a.fed_cases_n or (1000 if q else 20_000),
                 m=max(100, (a.fed_m or (1000 if q else 10_000)) // 2),
                 k=1000 if q else 10_000,
                 idle=a.idle or (50 if q else 200),
                 catch=1000 if q else 5_000)
    return {"bulk": bulk, "cases": cases}


def gen_fed(top, params, seed, runs, ph):
    """Generate both workloads in parallel (two cores)."""
    procs = {}
    for kind, pr in params.items():
        total = FedLoad.total(pr["n"], pr["m"], pr["k"], pr["idle"],
                              pr["catch"], runs)
        d = os.path.join(top, f"fed-gen-{kind}")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, f"{kind}.jsonl")
        procs[kind] = (path, total, subprocess.Popen(
            [sys.executable, os.path.join(HERE, "gen.py"), kind, "--n",
             str(total), "--seed", str(seed + 100), "--out", path,
             "--msgpack"], stdin=subprocess.DEVNULL,
            preexec_fn=B._die_with_parent))
    out = {}
    for kind, (path, total, p) in procs.items():
        if p.wait() != 0:
            raise B.BenchError(f"gen.py {kind} failed")
        import json
        with open(path + ".stats.json") as f:
            stats = json.load(f)
        with open(path, "rb") as f:
            lines = f.readlines()
        out[kind] = B.Workload(kind, path, stats, lines)
    return out


def run_fed(rep, ph, reaper, top, a, ceiling_bin, targets):
    """The federation part of make bench: both workloads."""
    params = fed_params(a)
    ca = ph.run("fed: CA and certificates", B.the_ca, top)
    ca.node(ORIGIN)
    ca.node(REPLICA)
    wls = ph.run("fed: generate", gen_fed, top, params, a.seed, a.runs, ph)
    for kind in ("bulk", "cases"):
        pr = params[kind]
        fl = FedLoad(kind, wls[kind], pr["n"], pr["m"], pr["k"], pr["idle"],
                     pr["catch"], a.runs)
        fl.rate = a.rate
        fl.watch = a.import_watch
        n = pr["n"]
        cuts = sorted({max(1, n // 10), max(1, n // 2), n})
        res = ph.run(f"fed: {kind}", bench_fed_workload, reaper, top, ca, fl,
                     a, ceiling_bin, cuts, B.log)
        rep.say()
        report_fed(rep, res, fl, targets)
        wls[kind].lines = None
        fl.items = None


def add_args(ap):
    ap.add_argument("--fed-n", type=int, help="federation: bulk records "
                    "initially synced (100000)")
    ap.add_argument("--fed-cases-n", type=int, help="federation: case "
                    "records initially synced (20000)")
    ap.add_argument("--fed-m", type=int, help="live puts per run (10000; "
                    "half for cases)")
    ap.add_argument("--fed-k", type=int, help="records per continuous "
                    "import run, bulk (100000)")
    ap.add_argument("--idle", type=int, help="idle latency samples (200)")
    ap.add_argument("--rate", type=int, default=2000,
                    help="fixed write rate of the paced live run (2000/s)")
    ap.add_argument("--import-watch", choices=["count", "feed"],
                    default="count", help="continuous import: the watcher "
                    "polls the replica's record count (status, default) or "
                    "its feed (each entry decoded by the replica)")
    ap.add_argument("--poll", type=float, default=0.0002,
                    help="watcher: seconds to sleep after a feed poll that "
                    "found nothing (0.0002)")


def main():
    ap = argparse.ArgumentParser(description="jalind federation benchmark")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    add_args(ap)
    a = ap.parse_args()
    a.runs = a.runs or (1 if a.quick else 3)
    ceiling_bin = os.path.join(B.BUILD, "tests", "lmdb_ceiling")
    for b in ("jalind", "jalinctl", os.path.join("tests", "lmdb_ceiling")):
        if not os.access(os.path.join(B.BUILD, b), os.X_OK):
            raise B.BenchError(f"{os.path.join(B.BUILD, b)} missing")
    reaper = B.Reaper()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, B._raise_exit)
    signal.signal(signal.SIGHUP, B._raise_exit)
    rep, ph = B.Report(), B.Phases()
    targets = []
    try:
        top = reaper.tmpdir(keep=a.keep)
        if a.keep:
            B.log(f"keeping {top}")
        fs = B.run_ceiling([ceiling_bin, "fsync", top,
                            "0.5" if a.quick else "2"])
        rep.say("jalind federation benchmark")
        rep.say(f"  fsync rate: {fs['fsync_writes_per_s']:,.0f} writes/s "
                f"({fs['fsync_write_us']:.0f} us per 4 KiB O_DSYNC write); "
                f"{os.cpu_count()} CPUs, load average "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        rep.fig("fsync_writes_per_s", fs["fsync_writes_per_s"], "writes/s")
        run_fed(rep, ph, reaper, top, a, ceiling_bin, targets)
        fs2 = B.run_ceiling([ceiling_bin, "fsync", top, "0.5"])
        rep.say()
        rep.say(f"[machine at the end] fsync rate "
                f"{fs2['fsync_writes_per_s']:,.0f} writes/s; load average "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        rep.fig("fsync_writes_per_s_end", fs2["fsync_writes_per_s"],
                "writes/s")
        rep.targets = targets
        rep.say()
        rep.emit_targets()
        rep.say()
        for name, s in ph.t:
            rep.say(f"  {s:8.2f}  {name}")
        rep.emit_bench()
    except (B.BenchError, OSError, subprocess.CalledProcessError) as e:
        B.log(f"error: {e}")
        pm = reaper.post_mortem()
        if pm:
            B.log(pm)
        sys.exit(1)
    finally:
        reaper.cleanup()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        B.log("interrupted; processes stopped and temporary files removed")
        sys.exit(130)
