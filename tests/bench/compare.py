#!/usr/bin/python3
"""compare.py - jalin against PostgreSQL 15 logical replication and
OpenLDAP 2.5 syncrepl, on the same records, in one run (`make
bench-compare`).

    compare.py [--quick] [--runs R] [--n N] [--m M] [--only jalin,pg,ldap]
               [--keep]

Everything runs on 127.0.0.1, in temporary directories, started and
stopped by this script (the system's own slapd and PostgreSQL clusters are
never touched). Each system gets an origin (provider, publisher) and a
replica (consumer, subscriber); replication runs over TLS 1.3 with
certificates on both sides, and every commit is durable on the origin.

Figures, for jalin, PostgreSQL (the subscription's synchronous_commit off,
its default, and on) and slapd, each with jalin's ratio to the better
reference (> 1: jalin is better):

  - initial sync of N (100,000) bulk records into an empty replica;
  - live: one writer on one connection at ~2,000 writes/s, M (10,000)
    records; lag = the write answered -> the record found on the replica by
    a watcher that looks up each record in order over one persistent
    connection (p50/p95, and the tail: last write answered -> replica has
    everything);
  - idle: one write, then lookups on the replica until it is there, over
    one persistent connection each; >= 200 samples;
  - catch-up of 10,000 records written while the replica was stopped, from
    its start command;
  - replica memory, bytes on disk per record, CPU per record (initial sync
    and live; /proc utime+stime of the replica's processes).

Medians of R runs (3; 1 with --quick, which also shrinks N and M).
See tests/bench/README.md for how each system is set up and measured.
"""

import argparse
import json
import multiprocessing as mp
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402
import fed as F  # noqa: E402

PG_BIN = "/usr/lib/postgresql/15/bin"
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
TIMEOUT = 900  # a bound on waiting, never a measurement

# the 13 fields of a bulk (lks) record, and their column / attribute names
FIELDS = ["name", "legal_form", "ahu_no", "npwp", "address", "region_code",
          "contact.phone", "contact.email", "head.name", "head.position",
          "siks_id", "status", "mode"]
COLS = [f.replace(".", "_") for f in FIELDS]
ATTRS = ["jl" + "".join(p.capitalize() for p in c.split("_")) for c in COLS]

log = B.log
now_ns = F.now_ns


def sh(cmd, user=None, check=True, **kw):
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, **kw)
    if check and p.returncode != 0:
        raise B.BenchError(f"{' '.join(cmd)}: exit {p.returncode}: "
                           f"{p.stderr.strip()[-2000:]}")
    return p


def proc_mem(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0])
    return out


def proc_pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[1] is ppid; 11, 12 utime, stime; 13, 14 cutime, cstime
    return int(fields[1]), [int(x) for x in fields[11:15]]


def tree_cpu(root):
    """CPU seconds of root and its live children, plus what root reaped
    (children that exited: PostgreSQL's table sync workers)."""
    tck = os.sysconf("SC_CLK_TCK")
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ppid, t = proc_stat(int(d))
        except OSError:
            continue
        if int(d) == root:
            total += sum(t)
        elif ppid == root:
            total += t[0] + t[1]
    return total / tck


def children(root):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if proc_stat(int(d))[0] == root:
                    out.append(int(d))
            except OSError:
                pass
    return out


def dir_bytes(d):
    n = 0
    for dp, _, fs in os.walk(d):
        for f in fs:
            try:
                n += os.lstat(os.path.join(dp, f)).st_size
            except OSError:
                pass
    return n


# ---- certificates (plain openssl) ---------------------------------------------

def make_certs(d):
    """CA, a server certificate for localhost / 127.0.0.1, a client
    certificate CN=repl (PostgreSQL's cert auth maps CN to the user)."""
    os.makedirs(d, exist_ok=True)

    def o(*a):
        sh(["openssl", *a], cwd=d)
    o("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
      "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
      "-subj", "/CN=bench reference CA")
    for name, cn, ext in (
            ("server", "localhost",
             "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
             "extendedKeyUsage=serverAuth,clientAuth\n"),
            ("client", "repl", "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(ext)
        o("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
          "-subj", f"/CN={cn}")
        o("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey",
          "ca.key", "-CAcreateserial", "-out", f"{name}.pem", "-days", "30",
          "-extfile", f"{name}.ext")
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o600 if f.endswith(".key") else 0o644)
    return d


# ---- generic measurements (same code for every system) -----------------------

def _child():
    B._die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _writer(system, idxs, rate, go, q):
    _child()
    try:
        c = system.origin_client()
        sends, commits = [], []
        go.wait()
        t0 = now_ns()
        step = 1e9 / rate if rate else 0
        for k, i in enumerate(idxs):
            if rate:
                w = (t0 + k * step - now_ns()) / 1e9
                if w > 0:
                    time.sleep(w)
            ts = now_ns()
            c.write(i)
            commits.append(now_ns())
            sends.append(ts)
        c.close()
        q.put(("ok", sends, commits))
    except Exception as e:
        q.put(("error", repr(e), None))


def _watcher(system, idxs, ready, q, poll_s, timeout):
    """Look up each record in order on the replica; note when it shows."""
    _child()
    try:
        c = system.replica_client()
        seen, probes, p = [], 0, 0
        ready.set()
        deadline = time.monotonic() + timeout
        while p < len(idxs) and time.monotonic() < deadline:
            probes += 1
            if c.exists(idxs[p]):
                seen.append(now_ns())
                p += 1
            else:
                time.sleep(poll_s)
        c.close()
        q.put(("ok", seen, probes))
    except Exception as e:
        ready.set()
        q.put(("error", repr(e), None))


def live_run(system, idxs, rate, poll_s):
    ctx = mp.get_context("fork")
    qw, qp = ctx.Queue(), ctx.Queue()
    ready, go = ctx.Event(), ctx.Event()
    w = ctx.Process(target=_watcher, args=(system, idxs, ready, qw, poll_s,
                                           TIMEOUT))
    p = ctx.Process(target=_writer, args=(system, idxs, rate, go, qp))
    w.start()
    p.start()
    ready.wait(60)
    cpu0 = system.replica_cpu()
    go.set()
    sends, commits = F._get(qp, f"{system.name} writer", TIMEOUT)
    seen, probes = F._get(qw, f"{system.name} watcher", TIMEOUT)
    cpu = system.replica_cpu() - cpu0
    p.join(5)
    w.join(5)
    if len(seen) != len(idxs):
        raise B.BenchError(f"{system.name}: replica showed {len(seen)} of "
                           f"{len(idxs)} records within {TIMEOUT} s")
    lags = [(s - c) / 1e6 for s, c in zip(seen, commits)]
    return {"lags": lags, "tail_ms": (max(seen) - commits[-1]) / 1e6,
            "write_rate": len(idxs) / ((commits[-1] - sends[0]) / 1e9),
            "cpu_us": cpu * 1e6 / len(idxs), "probes": probes}


def idle_run(system, idxs, gap_s=0.01):
    oc, rc = system.origin_client(), system.replica_client()
    lat = []
    try:
        for i in idxs:
            time.sleep(gap_s)
            oc.write(i)
            tc = now_ns()
            deadline = time.monotonic() + 30
            while not rc.exists(i):
                if time.monotonic() > deadline:
                    raise B.BenchError(f"{system.name}: record {i} not on "
                                       "the replica after 30 s")
            lat.append((now_ns() - tc) / 1e6)
    finally:
        oc.close()
        rc.close()
    return lat


class Records:
    """The bulk workload from gen.py: JSON dicts and import items."""

    def __init__(self, wl):
        self.wl = wl
        self.recs = [json.loads(line) for line in wl.lines]
        self.ids = [r["id"] for r in self.recs]
        fl = F.FedLoad("bulk", wl, 0, 0, 0, 0, 0, 1)
        self.items = fl.items


# ---- jalin ------------------------------------------------------------------

class JalinOrigin:
    def __init__(self, sock, recs):
        self.c = B.Conn(sock)
        self.recs = recs

    def write(self, i):
        self.c.s.sendall(F.put_frame(self.recs.items[i], 1))
        r = self.c.recv()
        if r.get(B.MK_STATUS) != 0:
            raise B.BenchError(f"put failed: {r.get(B.MK_ERROR)}")

    def close(self):
        self.c.close()


class JalinReplica:
    def __init__(self, sock, recs):
        self.c = B.Conn(sock)
        self.recs = recs

    def exists(self, i):
        self.c.s.sendall(F.get_frame("lks", self.recs.ids[i]))
        return self.c.recv().get(B.MK_STATUS) == 0

    def close(self):
        self.c.close()


class Jalin:
    name = "jalin"
    variants = [None]

    def __init__(self, reaper, top, recs, a):
        self.reaper, self.top, self.recs, self.a = reaper, top, recs, a
        self.ca = B.the_ca(top)
        self.o, self.r = F.make_pair(reaper, top, self.ca, "cmp-jalin")
        self.nrep = 0

    def describe(self):
        return ("jalind origin and replica (the replica dials), TLS 1.3 with "
                "client certificates, durable LMDB commits; clients on the "
                "admin Unix socket")

    def setup(self, n):
        self.n = n
        self.o.start()
        path = os.path.join(self.top, "cmp-jalin.jsonl")
        with open(path, "wb") as f:
            f.writelines(self.recs.wl.lines[:n])
        B.import_jalinctl(self.o, path)
        os.unlink(path)
        # each initial sync starts the origin from this copy, taken before
        # any replica connected (an origin that met an earlier store named
        # banten first goes through a RESYNC exchange: see the README)
        self.o.stop()
        self.pristine = os.path.join(self.top, "cmp-jalin-pristine")
        shutil.copytree(self.o.data, self.pristine)
        self.o.start()
        self.oc = self.o.connect()

    def set_variant(self, v):
        pass

    def initial_sync(self, last):
        self.oc.close()
        self.o.stop()
        shutil.rmtree(self.o.data)
        shutil.copytree(self.pristine, self.o.data)
        self.o.start()
        self.oc = self.o.connect()
        want = F.digest(self.oc)
        self.nrep += 1
        rep = F.new_replica(self.reaper, self.top, self.ca, self.o,
                            f"cmp-jalin-replica{self.nrep}")
        rep.start(wait=False)
        secs, sock_s, _, c = F.wait_synced(rep, "lks", self.n, want, (),
                                           poll=0.001)
        c.close()
        res = {"secs": secs, "cpu_us": rep.cpu_s() * 1e6 / self.n,
               "mem": rep.mem(), "after_start": secs - sock_s}
        if last:
            self.r = rep
            res["disk"] = self.disk()
        else:
            rep.stop()
            if not self.a.keep:
                shutil.rmtree(rep.dir, ignore_errors=True)
        return res

    def disk(self):
        st = B.lmdb_stat(self.a.ceiling_bin, self.r.data)
        return {"file": st["file_bytes"] / self.n,
                "used": st["used_bytes"] / self.n}

    def origin_client(self):
        return JalinOrigin(self.o.sock, self.recs)

    def replica_client(self):
        return JalinReplica(self.r.sock, self.recs)

    def replica_cpu(self):
        return self.r.cpu_s()

    def replica_mem(self):
        m = self.r.mem()
        return {"anon": m["RssAnon"], "hwm": m["VmHWM"],
                "pss": proc_pss(self.r.p.pid), "what": "jalind RssAnon"}

    def catchup(self, idxs):
        self.r.stop()
        frames, _ = F.import_batches([self.recs.items[i] for i in idxs])
        F.import_socket_all(self.o, frames)
        st = F.status(self.oc)
        want = F.digest(self.oc)
        self.r.start(wait=False)
        secs, _, _, c = F.wait_synced(self.r, "lks", st["records"]["lks"],
                                      want, poll=0.0005)
        c.close()
        return secs

    def stop(self):
        self.oc.close()
        for nd in (self.r, self.o):
            if nd.p is not None and nd.p.poll() is None:
                nd.stop()


# ---- PostgreSQL 15 logical replication --------------------------------------

def pg_row(r):
    return [r["id"]] + [r[f] for f in FIELDS]


PG_TABLE = ("CREATE TABLE lks (id uuid PRIMARY KEY, "
            + ", ".join(f"{c} text" for c in COLS) + ")")
PG_INSERT = ("INSERT INTO lks VALUES (" + ", ".join(["%s"] * 14) + ")")


class PgCluster:
    def __init__(self, top, name, certs):
        self.dir = os.path.join(top, name)
        self.data = os.path.join(self.dir, "data")
        self.sockdir = self.dir
        self.port = B.free_port()
        self.log = os.path.join(self.dir, "pg.log")
        os.makedirs(self.dir)
        pw = pwd.getpwnam("postgres")
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        sh([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
           user="postgres")
        # certificates owned by postgres, keys 0600 (PostgreSQL checks)
        cd = os.path.join(self.dir, "certs")
        shutil.copytree(certs, cd)
        for f in os.listdir(cd):
            os.chown(os.path.join(cd, f), pw.pw_uid, pw.pw_gid)
        os.chown(cd, pw.pw_uid, pw.pw_gid)
        self.certs = cd
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"""
listen_addresses = '127.0.0.1'
port = {self.port}
unix_socket_directories = '{self.sockdir}'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
max_logical_replication_workers = 4
ssl = on
ssl_cert_file = '{cd}/server.pem'
ssl_key_file = '{cd}/server.key'
ssl_ca_file = '{cd}/ca.pem'
ssl_min_protocol_version = 'TLSv1.3'
fsync = on
synchronous_commit = on
full_page_writes = on
# the logical replication launcher starts workers at most once per
# wal_retrieve_retry_interval (5 s by default): back-to-back runs would
# measure that wait, not the copy
wal_retrieve_retry_interval = '100ms'
""")
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("# the bench's own clients: the Unix socket (as jalin's "
                    "admin socket)\nlocal all all trust\n"
                    "# the network: TLS with a client certificate only\n"
                    "hostssl all all 127.0.0.1/32 cert\n")
        os.chown(os.path.join(self.data, "pg_hba.conf"), pw.pw_uid,
                 pw.pw_gid)
        self.running = False

    def start(self, wait=True):
        """pg_ctl start; without wait, return at once (the caller polls
        the socket itself: pg_ctl -w checks only every 100 ms)."""
        sh([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", self.log,
            "-w" if wait else "-W", "start"], user="postgres")
        self.running = True

    def connect_retry(self, timeout=60):
        import psycopg2
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.connect()
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise B.BenchError(f"postgres in {self.dir} does not "
                                       "answer")
                time.sleep(0.001)

    def stop(self):
        if self.running:
            sh([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "fast", "-w",
                "stop"], user="postgres", check=False)
            self.running = False

    def pid(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return int(f.readline())

    def connect(self):
        import psycopg2
        c = psycopg2.connect(host=self.sockdir, port=self.port,
                             user="postgres", dbname="postgres")
        c.autocommit = True
        return c

    def conninfo(self, certs):
        return (f"host=localhost hostaddr=127.0.0.1 port={self.port} "
                f"dbname=postgres user=repl sslmode=verify-full "
                f"sslrootcert={certs}/ca.pem sslcert={certs}/client.pem "
                f"sslkey={certs}/client.key")


class PgOrigin:
    def __init__(self, cl, recs):
        self.c = cl.connect()
        self.cur = self.c.cursor()
        self.recs = recs

    def write(self, i):
        self.cur.execute(PG_INSERT, pg_row(self.recs.recs[i]))

    def close(self):
        self.c.close()


class PgReplica:
    def __init__(self, cl, recs):
        self.c = cl.connect()
        self.cur = self.c.cursor()
        self.recs = recs

    def exists(self, i):
        self.cur.execute("SELECT 1 FROM lks WHERE id = %s",
                         (self.recs.ids[i],))
        return self.cur.fetchone() is not None

    def close(self):
        self.c.close()


class Pg:
    name = "pg"
    variants = ["off", "on"]

    def __init__(self, reaper, top, recs, a):
        self.top, self.recs, self.a = top, recs, a
        self.certs = make_certs(os.path.join(top, "pg-certs"))
        self.o = PgCluster(top, "pg-origin", self.certs)
        self.r = PgCluster(top, "pg-replica", self.certs)
        reaper.pg = [self.o, self.r]
        self.sc = "off"
        self.done_variant = False

    def describe(self):
        return ("PostgreSQL 15: two clusters (initdb in the temp dir), "
                "wal_level=logical, ssl_min_protocol_version=TLSv1.3, "
                "pg_hba hostssl ... cert only (the bench's clients use the "
                "Unix socket, trust), subscription sslmode=verify-full with "
                "a client certificate, copy_data = true; origin "
                "synchronous_commit=on, fsync=on; table lks(id uuid primary "
                "key, 13 text columns); wal_retrieve_retry_interval=100ms so that "
                "back-to-back runs do not wait out the launcher's 5 s "
                "throttle; initial sync timed from CREATE SUBSCRIPTION on "
                "the running, empty replica")

    def setup(self, n):
        self.n = n
        self.o.start()
        self.r.start()
        c = self.o.connect()
        cur = c.cursor()
        cur.execute(PG_TABLE)
        cur.execute("CREATE ROLE repl LOGIN REPLICATION")
        cur.execute("GRANT SELECT ON lks TO repl")
        cur.execute("CREATE PUBLICATION pub FOR TABLE lks")
        self._bulk(cur, range(n))
        cur.execute("CHECKPOINT")
        c.close()
        self.rc = self.r.connect()

    def _bulk(self, cur, idxs):
        """COPY in batches of 1000 rows, one transaction each."""
        import io
        idxs = list(idxs)
        for k in range(0, len(idxs), 1000):
            buf = io.StringIO()
            for i in idxs[k:k + 1000]:
                buf.write("\t".join(
                    v.replace("\\", "\\\\").replace("\t", "\\t")
                    .replace("\n", "\\n") for v in pg_row(self.recs.recs[i]))
                    + "\n")
            buf.seek(0)
            cur.copy_expert("COPY lks FROM STDIN", buf)

    def set_variant(self, v):
        """The next variant starts from the same N rows on the origin:
        what the previous one wrote (ids above the N-th: UUIDv7, time
        ordered) is deleted first, with the old subscription."""
        if self.done_variant:
            cur = self.rc.cursor()
            cur.execute("DROP SUBSCRIPTION IF EXISTS sub")
            c = self.o.connect()
            oc = c.cursor()
            oc.execute("DELETE FROM lks WHERE id > %s",
                       (self.recs.ids[self.n - 1],))
            oc.execute("VACUUM lks")
            oc.execute("CHECKPOINT")
            c.close()
        self.done_variant = True
        self.sc = v

    def initial_sync(self, last):
        cur = self.rc.cursor()
        cur.execute("DROP SUBSCRIPTION IF EXISTS sub")
        cur.execute("DROP TABLE IF EXISTS lks")
        cur.execute(PG_TABLE)
        cur.execute("CHECKPOINT")
        time.sleep(0.2)
        cpu0 = tree_cpu(self.r.pid())
        last_id = self.recs.ids[self.n - 1]
        t0 = now_ns()
        cur.execute(f"CREATE SUBSCRIPTION sub CONNECTION "
                    f"'{self.o.conninfo(self.r.certs)}' PUBLICATION pub WITH "
                    f"(copy_data = true, synchronous_commit = '{self.sc}')")
        deadline = time.monotonic() + TIMEOUT
        while True:
            cur.execute("SELECT 1 FROM lks WHERE id = %s", (last_id,))
            if cur.fetchone() is not None:
                t = now_ns()
                break
            if time.monotonic() > deadline:
                raise B.BenchError("pg: initial sync did not finish")
            time.sleep(0.001)
        cur.execute("SELECT count(*) FROM lks")
        cnt = cur.fetchone()[0]
        if cnt != self.n:
            raise B.BenchError(f"pg: replica holds {cnt} rows, not {self.n}")
        # wait for the table to be 'ready' before the next figure
        for _ in range(3000):
            cur.execute("SELECT bool_and(srsubstate = 'r') FROM "
                        "pg_subscription_rel")
            if cur.fetchone()[0]:
                break
            time.sleep(0.01)
        res = {"secs": (t - t0) / 1e9,
               "cpu_us": (tree_cpu(self.r.pid()) - cpu0) * 1e6 / self.n,
               "mem": self.replica_mem()}
        if last:
            res["disk"] = self.disk()
        return res

    def disk(self):
        cur = self.rc.cursor()
        cur.execute("SELECT pg_total_relation_size('lks'), "
                    "pg_relation_size('lks')")
        tot, heap = cur.fetchone()
        return {"file": tot / self.n, "used": tot / self.n,
                "heap": heap / self.n}

    def origin_client(self):
        return PgOrigin(self.o, self.recs)

    def replica_client(self):
        return PgReplica(self.r, self.recs)

    def replica_cpu(self):
        return tree_cpu(self.r.pid())

    def apply_pid(self):
        cur = self.rc.cursor()
        cur.execute("SELECT pid FROM pg_stat_subscription WHERE relid IS "
                    "NULL AND pid IS NOT NULL")
        row = cur.fetchone()
        return row[0] if row else None

    def replica_mem(self):
        pid = self.apply_pid()
        root = self.r.pid()
        pss = proc_pss(root) + sum(proc_pss(p) for p in children(root))
        m = proc_mem(pid) if pid else {"RssAnon": 0, "VmHWM": 0}
        return {"anon": m["RssAnon"], "hwm": m["VmHWM"], "pss": pss,
                "nproc": 1 + len(children(root)),
                "what": "apply worker RssAnon"}

    def catchup(self, idxs):
        self.rc.close()
        self.r.stop()
        c = self.o.connect()
        self._bulk(c.cursor(), idxs)
        c.close()
        last_id = self.recs.ids[idxs[-1]]
        t0 = now_ns()
        self.r.start(wait=False)
        self.rc = self.r.connect_retry()
        cur = self.rc.cursor()
        deadline = time.monotonic() + TIMEOUT
        while True:
            cur.execute("SELECT 1 FROM lks WHERE id = %s", (last_id,))
            if cur.fetchone() is not None:
                return (now_ns() - t0) / 1e9
            if time.monotonic() > deadline:
                raise B.BenchError("pg: catch-up did not finish")
            time.sleep(0.0005)

    def stop(self):
        try:
            self.rc.close()
        except Exception:
            pass
        self.r.stop()
        self.o.stop()


# ---- OpenLDAP 2.5 syncrepl --------------------------------------------------

OID = "2.25.178203921770812434751617452396012345"  # a UUID-derived arc
SUFFIX = "dc=bench"
ROOTDN = "cn=admin,dc=bench"
ROOTPW = "bench-secret"


def ldap_schema():
    out = []
    for k, a in enumerate(["jlId"] + ATTRS):
        out.append(f"attributetype ( {OID}.1.{k + 1} NAME '{a}' EQUALITY "
                   "caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX "
                   "1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )")
    out.append(f"objectclass ( {OID}.2.1 NAME 'jalinLks' SUP top STRUCTURAL "
               f"MUST jlId MAY ( {' $ '.join(ATTRS)} ) )")
    return "\n".join(out) + "\n"


def ldap_dn(rid):
    return f"jlId={rid},{SUFFIX}"


def ldap_attrs(r):
    attrs = [("objectClass", [b"jalinLks"]), ("jlId", [r["id"].encode()])]
    for f, a in zip(FIELDS, ATTRS):
        if r.get(f):
            attrs.append((a, [r[f].encode()]))
    return attrs


def ldif(r):
    import base64
    lines = [f"dn: {ldap_dn(r['id'])}"]
    for a, vs in ldap_attrs(r):
        for v in vs:
            try:
                s = v.decode("ascii")
                safe = s and s[0] not in " :<" and s[-1] != " "
            except UnicodeDecodeError:
                safe = False
            lines.append(f"{a}: {s}" if safe else
                         f"{a}:: {base64.b64encode(v).decode()}")
    return "\n".join(lines) + "\n\n"


class Slapd:
    def __init__(self, reaper, top, name, certs, consumer_of=None):
        self.reaper = reaper
        self.dir = os.path.join(top, name)
        self.db = os.path.join(self.dir, "db")
        os.makedirs(self.db)
        self.port = B.free_port()
        self.sock = os.path.join(self.dir, "ldapi")
        self.url = "ldapi://" + urllib.parse.quote(self.sock, safe="")
        self.conf = os.path.join(self.dir, "slapd.conf")
        self.log = os.path.join(self.dir, "slapd.log")
        schema = os.path.join(top, "jalin.schema")
        if not os.path.exists(schema):
            with open(schema, "w") as f:
                f.write(ldap_schema())
        c = certs
        conf = f"""include /etc/ldap/schema/core.schema
include {schema}
pidfile {self.dir}/slapd.pid
argsfile {self.dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
{'moduleload syncprov' if consumer_of is None else ''}
TLSCACertificateFile {c}/ca.pem
TLSCertificateFile {c}/server.pem
TLSCertificateKeyFile {c}/server.key
TLSVerifyClient demand
TLSProtocolMin 3.4
loglevel none
sizelimit unlimited

database mdb
suffix "{SUFFIX}"
rootdn "{ROOTDN}"
rootpw {ROOTPW}
directory {self.db}
maxsize 17179869184
index objectClass eq
index entryCSN,entryUUID eq
"""
        if consumer_of is None:
            conf += ("overlay syncprov\nsyncprov-checkpoint 1000 1\n"
                     "syncprov-sessionlog 50000\n")
        else:
            conf += (f'syncrepl rid=001 provider=ldaps://127.0.0.1:'
                     f'{consumer_of.port} type=refreshAndPersist '
                     f'retry="1 +" searchbase="{SUFFIX}" scope=sub '
                     f'bindmethod=simple binddn="{ROOTDN}" '
                     f'credentials={ROOTPW} tls_cert={c}/client.pem '
                     f'tls_key={c}/client.key tls_cacert={c}/ca.pem '
                     f'tls_reqcert=demand tls_protocol_min=3.4 '
                     f'schemachecking=off\n')
        with open(self.conf, "w") as f:
            f.write(conf)
        self.p = None
        self.owner = os.getpid()

    def slapadd(self, path):
        sh([SLAPADD, "-q", "-w", "-f", self.conf, "-l", path])

    def start(self):
        t0 = now_ns()
        self.logf = open(self.log, "ab")
        self.p = self.reaper.proc(subprocess.Popen(
            [SLAPD, "-d", "0", "-h",
             f"ldaps://127.0.0.1:{self.port}/ {self.url}", "-f", self.conf],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf,
            preexec_fn=B._die_with_parent))
        return t0

    def connect(self, timeout=30):
        import ldap
        deadline = time.monotonic() + timeout
        mine = os.getpid() == self.owner  # a forked writer cannot wait
        while True:
            if mine and self.p.poll() is not None:
                raise B.BenchError(f"slapd exited with {self.p.returncode}: "
                                   f"{open(self.log).read()[-2000:]}")
            try:
                c = ldap.initialize(self.url)
                c.simple_bind_s(ROOTDN, ROOTPW)
                return c
            except ldap.SERVER_DOWN:
                if time.monotonic() > deadline:
                    raise B.BenchError("slapd does not answer")
                time.sleep(0.001)

    def stop(self):
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p = None

    def context_csn(self, c):
        import ldap
        try:
            r = c.search_s(SUFFIX, ldap.SCOPE_BASE, "(objectClass=*)",
                           ["contextCSN"])
        except ldap.NO_SUCH_OBJECT:
            return None
        return sorted(r[0][1].get("contextCSN", []))


class LdapOrigin:
    def __init__(self, sl, recs):
        self.c = sl.connect()
        self.recs = recs

    def write(self, i):
        r = self.recs.recs[i]
        self.c.add_s(ldap_dn(r["id"]), ldap_attrs(r))

    def close(self):
        self.c.unbind_s()


class LdapReplica:
    def __init__(self, sl, recs):
        import ldap
        self.ldap = ldap
        self.c = sl.connect()
        self.recs = recs

    def exists(self, i):
        try:
            self.c.search_s(ldap_dn(self.recs.ids[i]), self.ldap.SCOPE_BASE,
                            "(objectClass=*)", ["1.1"])
            return True
        except self.ldap.NO_SUCH_OBJECT:
            return False

    def close(self):
        self.c.unbind_s()


class Ldap:
    name = "slapd"
    variants = [None]

    def __init__(self, reaper, top, recs, a):
        self.reaper, self.top, self.recs, self.a = reaper, top, recs, a
        self.certs = make_certs(os.path.join(top, "ldap-certs"))
        self.o = Slapd(reaper, top, "ldap-provider", self.certs)
        self.r = None
        self.nrep = 0

    def describe(self):
        return ("OpenLDAP 2.5 (Debian slapd): provider with back-mdb and "
                "syncprov, consumer with syncrepl refreshAndPersist over "
                "ldaps (TLS 1.3, TLSVerifyClient demand, client "
                "certificate), durable back-mdb (no dbnosync); entries "
                "jlId=ID,dc=bench of objectClass jalinLks (a small schema: "
                "jlId and 13 Directory String attributes); the bench's "
                "clients use ldapi://")

    def setup(self, n):
        self.n = n
        path = os.path.join(self.top, "ldap-load.ldif")
        with open(path, "w") as f:
            f.write(f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: "
                    "organization\no: bench\ndc: bench\n\n")
            for r in self.recs.recs[:n]:
                f.write(ldif(r))
        self.o.slapadd(path)
        os.unlink(path)
        self.o.start()
        self.oc = self.o.connect()

    def set_variant(self, v):
        pass

    def wait_synced(self, c, last_id, want_csn, t0):
        import ldap
        deadline = time.monotonic() + TIMEOUT
        dn = ldap_dn(last_id)
        found = False
        while True:
            if not found:
                try:
                    c.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"])
                    found = True
                except ldap.NO_SUCH_OBJECT:
                    pass
            if found and self.r.context_csn(c) == want_csn:
                return (now_ns() - t0) / 1e9
            if time.monotonic() > deadline:
                raise B.BenchError("slapd: consumer did not catch up")
            time.sleep(0.002)

    def count(self, c):
        import ldap
        r = c.search_s(SUFFIX, ldap.SCOPE_ONELEVEL, "(objectClass=jalinLks)",
                       ["1.1"])
        return len(r)

    def initial_sync(self, last):
        if self.r is not None:
            self.r.stop()
            if not self.a.keep:
                shutil.rmtree(self.r.dir, ignore_errors=True)
        self.nrep += 1
        self.r = Slapd(self.reaper, self.top, f"ldap-consumer{self.nrep}",
                       self.certs, consumer_of=self.o)
        want = self.o.context_csn(self.oc)
        t0 = self.r.start()
        c = self.r.connect()
        secs = self.wait_synced(c, self.recs.ids[self.n - 1], want, t0)
        cnt = self.count(c)
        c.unbind_s()
        if cnt != self.n:
            raise B.BenchError(f"slapd: consumer holds {cnt} entries")
        res = {"secs": secs, "cpu_us": self.replica_cpu() * 1e6 / self.n,
               "mem": self.replica_mem()}
        if last:
            res["disk"] = self.disk()
        return res

    def disk(self):
        st = B.lmdb_stat(self.a.ceiling_bin, self.r.db)
        return {"file": st["file_bytes"] / self.n,
                "used": st["used_bytes"] / self.n}

    def origin_client(self):
        return LdapOrigin(self.o, self.recs)

    def replica_client(self):
        return LdapReplica(self.r, self.recs)

    def replica_cpu(self):
        tck = os.sysconf("SC_CLK_TCK")
        _, t = proc_stat(self.r.p.pid)
        return (t[0] + t[1]) / tck

    def replica_mem(self):
        m = proc_mem(self.r.p.pid)
        return {"anon": m["RssAnon"], "hwm": m["VmHWM"],
                "pss": proc_pss(self.r.p.pid), "what": "slapd RssAnon"}

    def catchup(self, idxs):
        self.r.stop()
        oc = self.origin_client()
        for i in idxs:
            oc.write(i)
        oc.close()
        want = self.o.context_csn(self.oc)
        t0 = self.r.start()
        c = self.r.connect()
        secs = self.wait_synced(c, self.recs.ids[idxs[-1]], want, t0)
        c.unbind_s()
        return secs

    def stop(self):
        if self.r is not None:
            self.r.stop()
        self.o.stop()


# ---- installing the references -------------------------------------------------

def ensure_packages():
    need = []
    if not os.access(SLAPD, os.X_OK):
        need += ["slapd", "ldap-utils"]
    try:
        import ldap  # noqa: F401
    except ImportError:
        need.append("python3-ldap")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        need.append("python3-psycopg2")
    if not os.access(f"{PG_BIN}/initdb", os.X_OK):
        need.append("postgresql-15")
    if not need:
        return
    if os.geteuid() != 0:
        raise B.BenchError(f"missing packages {need}: apt-get install -y "
                           f"{' '.join(need)} (as root)")
    log(f"installing {' '.join(need)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # keep the packages' own services from starting (policy-rc.d 101)
    prc = "/usr/sbin/policy-rc.d"
    made = False
    if not os.path.exists(prc):
        with open(prc, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(prc, 0o755)
        made = True
    try:
        p = subprocess.run(["apt-get", "install", "-y", "-q", *need],
                           env=env, capture_output=True, text=True)
        if p.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env,
                           capture_output=True)
            p = subprocess.run(["apt-get", "install", "-y", "-q", *need],
                               env=env, capture_output=True, text=True)
        if p.returncode != 0:
            raise B.BenchError(f"apt-get install {need}: {p.stderr[-2000:]}")
    finally:
        if made:
            os.unlink(prc)
    # if a system slapd got started anyway, stop and disable it (by its
    # own init script, never by a process name)
    if os.path.exists("/var/run/slapd/slapd.pid"):
        subprocess.run(["service", "slapd", "stop"], capture_output=True)
    subprocess.run(["update-rc.d", "slapd", "disable"], capture_output=True)
    import importlib
    importlib.invalidate_caches()


# ---- report -------------------------------------------------------------------

HIGHER = "higher"
LOWER = "lower"


def fmt(v, unit):
    if v is None:
        return "-"
    if unit in ("records/s", "writes/s"):
        return f"{v:,.0f}"
    if unit == "s":
        return f"{v:.3f}"
    if unit == "ms":
        return f"{v:.2f}"
    if unit in ("KiB", "B/record"):
        return f"{v:,.0f}"
    if unit == "us/record":
        return f"{v:.1f}"
    return f"{v}"


def report(rep, cols, figs):
    """figs: [(key, label, unit, better, {col: value})]."""
    w = max(len(f[1]) for f in figs) + 2
    head = f"  {'figure':<{w}}" + "".join(f"{c:>14}" for c in cols) + \
        f"{'jalin vs best':>16}"
    rep.say(head)
    for key, label, unit, better, vals in figs:
        line = f"  {label:<{w}}" + "".join(
            f"{fmt(vals.get(c), unit):>14}" for c in cols)
        refs = [v for c, v in vals.items() if c != "jalin" and v is not None]
        j = vals.get("jalin")
        ratio = None
        if refs and j is not None:
            if better == HIGHER:
                best = max(refs)
                ratio = j / best if best else None
            else:
                best = min(refs)
                ratio = best / j if j else None
        line += f"{'-' if ratio is None else f'{ratio:.2f}x':>16}"
        rep.say(line)
        for c, v in vals.items():
            if v is not None:
                rep.fig(f"cmp_{key}_{c}", v, unit)
        if ratio is not None:
            rep.fig(f"cmp_{key}_jalin_vs_best_ratio", ratio, "ratio")


def med(xs):
    xs = [x for x in xs if x is not None]
    return B.med(xs) if xs else None


def run_system(sysobj, recs, a, plan, out, ph):
    """Every figure for one system, each variant."""
    name = sysobj.name
    ph.run(f"{name}: setup and load {a.n}", sysobj.setup, a.n)
    for v in sysobj.variants:
        col = name if v is None else f"{name}-sc-{v}"
        sysobj.set_variant(v)
        res = {}
        syncs = []
        for i in range(a.runs):
            log(f"{col}: initial sync run {i + 1}")
            syncs.append(ph.run(f"{col}: initial sync {i + 1}",
                                sysobj.initial_sync, i == a.runs - 1))
        res["sync_s"] = med([s["secs"] for s in syncs])
        res["sync_rps"] = med([a.n / s["secs"] for s in syncs])
        res["sync_cpu"] = med([s["cpu_us"] for s in syncs])
        res["disk"] = syncs[-1]["disk"]
        time.sleep(0.5)
        lives = []
        for i in range(a.runs):
            idxs = plan[v]["live"][i]
            log(f"{col}: live run {i + 1} ({len(idxs)} writes at "
                f"{a.rate}/s)")
            lives.append(ph.run(f"{col}: live {i + 1}", live_run, sysobj,
                                idxs, a.rate, a.poll))
            time.sleep(0.3)
        res["live"] = lives
        log(f"{col}: idle latency")
        res["idle"] = ph.run(f"{col}: idle", idle_run, sysobj,
                             plan[v]["idle"])
        res["mem"] = sysobj.replica_mem()
        cs = []
        for i in range(a.runs):
            log(f"{col}: catch-up run {i + 1}")
            cs.append(ph.run(f"{col}: catch-up {i + 1}", sysobj.catchup,
                             plan[v]["catch"][i]))
        res["catch"] = cs
        res["syncs"] = syncs
        out[col] = res
    sysobj.stop()


def make_plan(a, variants_total):
    """Record indices for every phase of every system variant: each gets
    its own records after the first N (ids never repeat on a system)."""
    pos = a.n
    plans = {}

    def take(k):
        nonlocal pos
        r = list(range(pos, pos + k))
        pos += k
        return r
    for name, vs in variants_total:
        plans[name] = {}
        for v in vs:
            plans[name][v] = {"live": [take(a.m) for _ in range(a.runs)],
                              "idle": take(a.idle),
                              "catch": [take(a.catch)
                                        for _ in range(a.runs)]}
    return plans, pos


def main():
    ap = argparse.ArgumentParser(description="jalin vs PostgreSQL logical "
                                 "replication vs OpenLDAP syncrepl")
    ap.add_argument("--quick", action="store_true",
                    help="N=5000, M=1000, one run: checks the script")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--n", type=int)
    ap.add_argument("--m", type=int, help="live writes per run (10000)")
    ap.add_argument("--catch", type=int, help="catch-up records (10000)")
    ap.add_argument("--idle", type=int, help="idle samples (200)")
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--poll", type=float, default=0.0002)
    ap.add_argument("--only", default="jalin,pg,ldap")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    a, _ = ap.parse_known_args()  # make passes BENCH_ARGS through
    q = a.quick
    a.runs = a.runs or (1 if q else 3)
    a.n = a.n or (5000 if q else 100_000)
    a.m = a.m or (1000 if q else 10_000)
    a.catch = a.catch or (1000 if q else 10_000)
    a.idle = a.idle or (50 if q else 200)
    a.ceiling_bin = os.path.join(B.BUILD, "tests", "lmdb_ceiling")
    only = a.only.split(",")
    reaper = B.Reaper()
    reaper.pg = []
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, B._raise_exit)
    signal.signal(signal.SIGHUP, B._raise_exit)
    rep, ph = B.Report(), B.Phases()
    t_all = time.perf_counter()
    try:
        ensure_packages()
        top = reaper.tmpdir(keep=a.keep)
        os.chmod(top, 0o755)  # the postgres user works in here
        if a.keep:
            log(f"keeping {top}")
        fs = B.run_ceiling([a.ceiling_bin, "fsync", top,
                            "0.5" if q else "2"])
        rep.say("jalin vs PostgreSQL 15 logical replication vs OpenLDAP "
                "2.5 syncrepl, on 127.0.0.1")
        rep.say(f"  fsync rate: {fs['fsync_writes_per_s']:,.0f} writes/s "
                f"({fs['fsync_write_us']:.0f} us per 4 KiB O_DSYNC write); "
                f"{os.cpu_count()} CPUs, load average "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        rep.fig("fsync_writes_per_s", fs["fsync_writes_per_s"], "writes/s")
        systems = [("jalin", Jalin), ("pg", Pg), ("ldap", Ldap)]
        systems = [(k, c) for k, c in systems if k in only]
        plan, total = make_plan(a, [(k, c.variants) for k, c in systems])
        rep.say(f"  N = {a.n} bulk lks records (13 text fields, ~405 B of "
                f"field values); live {a.m} writes at ~{a.rate}/s; "
                f"catch-up {a.catch}; idle {a.idle} samples; {a.runs} "
                "run(s) each, medians")
        wl = ph.run("generate", B.generate, "bulk", total, a.seed, top)
        recs = Records(wl)
        out, descr = {}, {}
        for k, cls in systems:
            s = cls(reaper, top, recs, a)
            descr[s.name] = s.describe()
            try:
                run_system(s, recs, a, plan[k], out, ph)
            finally:
                s.stop()
        emit(rep, a, out, descr)
        fs2 = B.run_ceiling([a.ceiling_bin, "fsync", top, "0.5"])
        rep.say()
        rep.say(f"[machine at the end] fsync rate "
                f"{fs2['fsync_writes_per_s']:,.0f} writes/s; load average "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        rep.fig("fsync_writes_per_s_end", fs2["fsync_writes_per_s"],
                "writes/s")
        rep.say()
        rep.say("[phases] seconds")
        for name, s in ph.t:
            rep.say(f"  {s:8.2f}  {name}")
        rep.say(f"  {time.perf_counter() - t_all:8.2f}  total")
        rep.emit_bench()
    except (B.BenchError, OSError, subprocess.CalledProcessError) as e:
        log(f"error: {e}")
        pm = reaper.post_mortem()
        if pm:
            log(pm)
        sys.exit(1)
    finally:
        for cl in getattr(reaper, "pg", []):
            cl.stop()
        reaper.cleanup()


def emit(rep, a, out, descr):
    cols = list(out)
    rep.say()
    rep.say("[setups]")
    for k, d in descr.items():
        rep.say(f"  {k}: {d}")
    rep.say()
    rep.say("[per run]")
    for c, r in out.items():
        rep.say(f"  {c}: initial sync "
                + ", ".join(f"{s['secs']:.3f} s" for s in r["syncs"])
                + "; live lag p95 "
                + ", ".join(f"{B.pct(x['lags'], 95):.2f}" for x in r["live"])
                + " ms, tail "
                + ", ".join(f"{x['tail_ms']:.1f}" for x in r["live"])
                + " ms, writes/s "
                + ", ".join(f"{x['write_rate']:,.0f}" for x in r["live"])
                + "; catch-up "
                + ", ".join(f"{x:.3f} s" for x in r["catch"]))
    rep.say()
    rep.say("[figures] medians; the last column: how many times better "
            "jalin is than the better reference (> 1: jalin better)")
    L = {c: r["live"] for c, r in out.items()}
    figs = [
        ("initial_sync_records_per_s", f"initial sync of {a.n}, records/s",
         "records/s", HIGHER, {c: r["sync_rps"] for c, r in out.items()}),
        ("initial_sync_seconds", "initial sync, seconds", "s", LOWER,
         {c: r["sync_s"] for c, r in out.items()}),
        ("live_writes_per_s", f"live: writes/s reached (asked ~{a.rate})",
         "writes/s", HIGHER,
         {c: med([x["write_rate"] for x in v]) for c, v in L.items()}),
        ("live_lag_p50_ms", "live: lag p50, ms", "ms", LOWER,
         {c: med([B.pct(x["lags"], 50) for x in v]) for c, v in L.items()}),
        ("live_lag_p95_ms", "live: lag p95, ms", "ms", LOWER,
         {c: med([B.pct(x["lags"], 95) for x in v]) for c, v in L.items()}),
        ("live_tail_ms", "live: tail lag, ms", "ms", LOWER,
         {c: med([x["tail_ms"] for x in v]) for c, v in L.items()}),
        ("idle_p50_ms", "idle: write -> on the replica, p50 ms", "ms", LOWER,
         {c: B.pct(r["idle"], 50) for c, r in out.items()}),
        ("idle_p99_ms", "idle: p99, ms", "ms", LOWER,
         {c: B.pct(r["idle"], 99) for c, r in out.items()}),
        ("catchup_seconds", f"catch-up of {a.catch} with restart, s", "s",
         LOWER, {c: med(r["catch"]) for c, r in out.items()}),
        ("replica_rss_anon_kib", "replica memory: RssAnon, KiB (*)", "KiB",
         LOWER, {c: r["mem"]["anon"] for c, r in out.items()}),
        ("replica_vmhwm_kib", "replica memory: VmHWM, KiB (*)", "KiB",
         LOWER, {c: r["mem"]["hwm"] for c, r in out.items()}),
        ("replica_pss_kib", "replica: PSS of all its processes, KiB",
         "KiB", LOWER, {c: r["mem"]["pss"] for c, r in out.items()}),
        ("replica_bytes_per_record", "replica bytes on disk per record (**)",
         "B/record", LOWER, {c: r["disk"]["used"] for c, r in out.items()}),
        ("replica_cpu_sync_us", "replica CPU per record, initial sync, us",
         "us/record", LOWER, {c: r["sync_cpu"] for c, r in out.items()}),
        ("replica_cpu_live_us", "replica CPU per record, live, us",
         "us/record", LOWER,
         {c: med([x["cpu_us"] for x in v]) for c, v in L.items()}),
    ]
    report(rep, cols, figs)
    rep.say("  (*) jalin and slapd: the replica process; PostgreSQL: the "
            "apply worker; the PSS row is every process of the replica ("
            + ", ".join(f"{c}: {r['mem'].get('nproc', 1)}"
                        for c, r in out.items())
            + "), read after the live runs")
    rep.say("  (**) jalin and slapd: LMDB pages in use / N (data.mdb file: "
            + ", ".join(f"{c} {r['disk']['file']:.0f} B"
                        for c, r in out.items() if "heap" not in r["disk"])
            + "); PostgreSQL: pg_total_relation_size (heap + index + "
            "toast) / N, WAL not counted (heap alone: "
            + ", ".join(f"{c} {r['disk']['heap']:.0f} B"
                        for c, r in out.items() if "heap" in r["disk"])
            + ")")
    for c, r in out.items():
        xs = [x["after_start"] for x in r["syncs"] if "after_start" in x]
        if xs:
            m = B.med(xs)
            rep.say(f"  {c}: initial sync timed from its admin socket "
                    f"answering (process start left out, as PostgreSQL's "
                    f"figure leaves out its server's start): {m:.3f} s = "
                    f"{a.n / m:,.0f} records/s")
            rep.fig(f"cmp_initial_sync_after_start_records_per_s_{c}",
                    a.n / m, "records/s")
    rep.say("  live lag and idle: the write's answer on the origin -> the "
            "record found by a lookup on the replica (one persistent "
            "connection polling in write order); for PostgreSQL the CPU "
            "counts every process of the replica cluster (the polling "
            "backend included)")


if __name__ == "__main__":
    sys.modules.setdefault("compare", sys.modules[__name__])
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted; processes stopped and temporary files removed")
        sys.exit(130)
