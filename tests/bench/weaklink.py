#!/usr/bin/python3
"""weaklink.py - replication over weak links (issue 17), measured: part of
`make bench`, or alone with `make bench-weak`:

    weaklink.py [--n N] [--rates 512,64,16] [--delay 0.6] [--seed S] [--keep]

For each rate (kbit/s each way, 1 kbit = 1024 bit as in
tests/integration/test_weaklink.py, whose SAT_RATE of 8192 B/s is its
"64 kbit/s"), with a one-way delay of 600 ms: two real jalind processes on
127.0.0.1 with certificates from certs/jalin-ca, the sender jabar and the
receiver banten, which dials jabar through slowlink.SlowLink (the
integration tests' throttling proxy, its buffer grown by rate x delay for
the bytes on the wire). Both run the default config
(stall_timeout 30, no all_cases). jabar is loaded with N case records of
tests/integration/conftest.py (case_record, shared with banten, as
test_weaklink.py loads it); then banten is started, empty, and the clock
runs from its start command until banten holds N case records and jabar
calls banten `live` (both polled every 50 ms over one persistent admin
connection each, jabar first).

Figures per rate: that time; the bandwidth bound of test_weaklink.py (the
frames jabar had to deliver, `bytes_delivered`, over the rate, plus four
one-way delays for the connection, HELLO and SUB) and the time's ratio to
it; the bytes that crossed the link each way (SlowLink's counters: TLS,
handshakes and every connection included) and per record. Nothing here
asserts a figure; only a node that errs or never converges stops the run.
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(ROOT, "tests", "integration"))
import bench as B  # noqa: E402
import fed as F  # noqa: E402
from conftest import case_record, jsonl  # noqa: E402  (imports pytest)
from slowlink import SlowLink  # noqa: E402

KBIT = 1024 // 8  # bytes/s per kbit/s: 64 kbit/s = 8192 B/s (SAT_RATE)
RATES = (512, 64, 16)
DELAY = 0.6  # seconds each way
DELAYS_IN_BOUND = 4  # one-way delays test_weaklink.py adds to the bound
POLL = 0.05
ROUTER_BUFFER = 16384  # SlowLink's default buffer
TIMEOUT = 900  # a bound on waiting, not a measurement
SENDER, RECEIVER = "jabar", "banten"
REGIONS = {SENDER: 32, RECEIVER: 36}


class WeakNode(F.FedNode):
    """fed.FedNode with the integration tests' config instead of fed.py's:
    no all_cases (the cases are shared with the receiver), the node's own
    region, and the receiver's peer address pointing at the link."""

    def __init__(self, reaper, top, name, label, ca, peer, address=None):
        super().__init__(reaper, top, name, label, ca, [])
        self.peer, self.address = peer, address

    def write_config(self):
        cert, key = self.ca.node(self.name)
        lines = ["[node]", f"name = {self.name}",
                 f"region = {REGIONS[self.name]}",
                 f"data_dir = {self.data}",
                 f"listen = 127.0.0.1:{self.port}",
                 f"admin_socket = {self.sock}", "",
                 "[tls]", f"ca = {self.ca.ca_pem}", f"cert = {cert}",
                 f"key = {key}", f"crl = {self.ca.crl_pem}", "",
                 f"[peer {self.peer}]"]
        if self.address:
            lines.append(f"address = {self.address}")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")


def case_lines(n, seed):
    rng = random.Random(seed)
    return jsonl(dict(case_record(i, rng, share_with=[RECEIVER]),
                      collection="case") for i in range(n))


def import_cases(node, text):
    p = subprocess.run([os.path.join(B.BUILD, "jalinctl"), "-c", node.conf,
                        "import", "-"], input=text, capture_output=True,
                       text=True, timeout=300)
    if p.returncode != 0:
        raise B.BenchError(f"jalinctl import exited {p.returncode}: "
                           f"{p.stderr[-2000:]}")


def peer_of(st, name):
    for p in st["peers"]:
        if p["name"] == name:
            return p
    raise B.BenchError(f"status has no peer {name}")


def watch(s, r, cs, n):
    """Poll jabar (s, on cs) then banten until banten holds n cases and
    jabar says live. Returns (seconds since banten's start command,
    jabar's view of banten then, states seen, early lives, seconds until
    banten held its first and its last record)."""
    cr = r.connect()
    seen, early = set(), 0
    marks = {}
    deadline = time.monotonic() + TIMEOUT
    while True:
        out = peer_of(F.status(cs), RECEIVER)
        st = F.status(cr)
        have = st["records"].get("case", 0)
        seen.add(out["state"])
        seen.add(peer_of(st, SENDER)["state"])
        if have > 0:
            marks.setdefault("first", F.now_ns())
        if have == n:
            marks.setdefault("all", F.now_ns())
        if out["state"] == "live":
            if have == n:
                t = F.now_ns()
                break
            early += 1
        if time.monotonic() > deadline:
            raise B.BenchError(f"{RECEIVER} holds {have} of {n} cases after "
                               f"{TIMEOUT} s; {SENDER} says {out['state']}:\n"
                               f"{r.log_tail()}")
        for node in (s, r):
            if node.p.poll() is not None:
                raise B.BenchError(f"{node.name} exited:\n{node.log_tail()}")
        time.sleep(POLL)
    cr.close()
    marks = {k: (v - r.t_start) / 1e9 for k, v in marks.items()}
    return (t - r.t_start) / 1e9, out, seen, early, marks


def one_rate(reaper, top, ca, kbit, n, delay, text):
    """Two fresh nodes behind a link of kbit each way: the figures."""
    rate = kbit * KBIT
    s = WeakNode(reaper, top, SENDER, f"{kbit}k-{SENDER}", ca, RECEIVER)
    # SlowLink's buffer holds the bytes in flight too (a byte leaves it
    # when it reaches the far end): its 16 KiB default is the router's
    # buffer, so add the bytes a real link has on the wire, rate x delay,
    # or the proxy and not the rate bounds fast links (512 kbit/s x 600 ms
    # = 39 KB)
    buf = ROUTER_BUFFER + int(rate * delay)
    with SlowLink(s.port, rate=rate, delay=delay, buffer=buf) as link:
        r = WeakNode(reaper, top, RECEIVER, f"{kbit}k-{RECEIVER}", ca,
                     SENDER, address=link.address)
        s.start()
        import_cases(s, text)
        cs = s.connect()
        r.start()
        took, out, seen, early, marks = watch(s, r, cs, n)
        cs.close()
        stats = link.stats()
        warns = r.stop() + s.stop()
    bound = out["bytes_delivered"] / rate + DELAYS_IN_BOUND * delay
    return dict(kbit=kbit, rate=rate, n=n, took=took, bound=bound,
                delivered=out["bytes_delivered"], bytes_out=out["bytes_out"],
                down=stats.get("bytes_down", 0), up=stats.get("bytes_up", 0),
                conns=stats.get("connections", 0),
                resets=stats.get("resets", 0), seen=seen, early=early,
                first=marks["first"], all=marks["all"],
                stalled=[w for w in warns if "stalled" in w],
                warns=len(warns))


def report(rep, res, delay):
    rep.say(f"[weak links] {res[0]['n']} case records (conftest.case_record,"
            f" ~{res[0]['json_b']} B of JSON each) from {SENDER} to an "
            f"empty {RECEIVER} through SlowLink, {delay * 1000:.0f} ms each "
            "way, default config; from the receiver's start command to "
            "all records held and the sender saying live")
    rep.say("  kbit/s   B/s   seconds  bound   ratio  frames B/rec  wire "
            "B/rec  up B/rec  conns")
    for x in res:
        rep.say(f"  {x['kbit']:6d} {x['rate']:6d} {x['took']:8.1f} "
                f"{x['bound']:6.1f} {x['took'] / x['bound']:6.2f}x "
                f"{x['delivered'] / x['n']:10.0f} {x['down'] / x['n']:11.0f} "
                f"{x['up'] / x['n']:9.1f} {x['conns']:6d}")
    rep.say(f"  bound = bytes_delivered / rate + {DELAYS_IN_BOUND} x "
            "one-way delay (test_weaklink.py); frames = what the sender "
            "had delivered (bytes_delivered); wire = what crossed toward the "
            "receiver (TLS and handshakes included); up = toward the sender")
    for x in res:
        rep.say(f"  {x['kbit']} kbit/s: first record held at {x['first']:.1f}"
                f" s, all at {x['all']:.1f} s, live at {x['took']:.1f} s; "
                f"the bytes alone take {x['down'] / x['rate']:.1f} s")
    for x in res:
        bad = []
        if x["early"]:
            bad.append(f"the sender said live {x['early']} time(s) before "
                       "the receiver held every record")
        if "stalled" in x["seen"] or x["stalled"]:
            bad.append("a side showed `stalled`")
        if x["resets"]:
            bad.append(f"{x['resets']} resets")
        if bad:
            rep.say(f"  NOTE at {x['kbit']} kbit/s: " + "; ".join(bad))
    for x in res:
        k = f"weak_{x['kbit']}kbit"
        rep.fig(f"{k}_seconds", x["took"], "s")
        rep.fig(f"{k}_bound_seconds", x["bound"], "s")
        rep.fig(f"{k}_vs_bound_ratio", x["took"] / x["bound"], "ratio")
        rep.fig(f"{k}_wire_bytes_per_record", x["down"] / x["n"], "B/record")
    n = sum(x["n"] for x in res)
    rep.fig("weak_wire_bytes_per_record", sum(x["down"] for x in res) / n,
            "B/record")
    rep.fig("weak_frame_bytes_per_record",
            sum(x["delivered"] for x in res) / n, "B/record")


def run_weak(rep, ph, reaper, top, a):
    ca = ph.run("weak: CA and certificates", B.the_ca, top)
    ca.node(SENDER)
    ca.node(RECEIVER)
    text = case_lines(a.n, a.seed)
    res = []
    for kbit in a.rates:
        B.log(f"weak link: {a.n} cases at {kbit} kbit/s, "
              f"{a.delay * 1000:.0f} ms each way")
        x = ph.run(f"weak: {kbit} kbit/s", one_rate, reaper, top, ca, kbit,
                   a.n, a.delay, text)
        x["json_b"] = round(len(text.encode()) / a.n)
        res.append(x)
    report(rep, res, a.delay)


def parse_args():
    ap = argparse.ArgumentParser(description="jalind over weak links")
    ap.add_argument("--n", type=int, default=500,
                    help="case records per rate (500; ~90 s at 16 kbit/s)")
    ap.add_argument("--rates", default=",".join(map(str, RATES)),
                    help="kbit/s each way, 1 kbit = 1024 bit (512,64,16)")
    ap.add_argument("--delay", type=float, default=DELAY,
                    help="one-way delay in seconds (0.6)")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--keep", action="store_true",
                    help="keep stores, logs and certificates")
    a = ap.parse_args()
    a.rates = [int(x) for x in a.rates.split(",") if x]
    return a


def main():
    a = parse_args()
    for b in ("jalind", "jalinctl"):
        if not os.access(os.path.join(B.BUILD, b), os.X_OK):
            raise B.BenchError(f"{os.path.join(B.BUILD, b)} missing: run "
                               "make bench-weak")
    reaper = B.Reaper()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, B._raise_exit)
    signal.signal(signal.SIGHUP, B._raise_exit)
    rep, ph = B.Report(), B.Phases()
    try:
        top = reaper.tmpdir(keep=a.keep)
        if a.keep:
            B.log(f"keeping {top}")
        rep.say("jalind over weak links (weaklink.py)")
        rep.say(f"  {os.cpu_count()} CPUs, load average "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        run_weak(rep, ph, reaper, top, a)
        rep.say()
        for name, s in ph.t:
            rep.say(f"  {s:8.2f}  {name}")
        rep.emit_bench()
    except (B.BenchError, OSError, subprocess.CalledProcessError,
            subprocess.TimeoutExpired) as e:
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
