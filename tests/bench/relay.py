#!/usr/bin/env python3
"""relay.py - initial sync through a relay, every event verified (issue 13).

jabar imports N bulk records (each signed in batches of 256); banten syncs
them from jabar (first hop: events of the sender itself, nothing to
verify); then an empty sulsel that peers only with banten syncs all N from
banten: every event is jabar's, relayed, so sulsel checks each against
jabar's signed batch (PROTOCOL.md §13.4). Timed from sulsel's start command
until it holds N records with jabar's digest, medians of --runs; the direct
sync is timed the same way beside it. Prints a report and BENCH lines.

usage: relay.py [--n 100000] [--runs 3] [--quick] [--keep]
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402
import fed as F    # noqa: E402


def node(reaper, top, name, label, ca, peers):
    return F.FedNode(reaper, top, name, label, ca, peers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.n, a.runs = 5000, 1
    reaper = B.Reaper()
    signal.signal(signal.SIGTERM, B._raise_exit)
    rep = B.Report()
    try:
        top = reaper.tmpdir(keep=a.keep)
        ca = B.the_ca(top)
        for n in ("jabar", "banten", "sulsel"):
            ca.node(n)
        path = os.path.join(top, "bulk.jsonl")
        if subprocess.run([sys.executable, os.path.join(HERE, "gen.py"),
                           "bulk", "--n", str(a.n), "--seed", "7", "--out",
                           path]).returncode != 0:
            raise B.BenchError("gen.py failed")
        o = node(reaper, top, "jabar", "origin", ca, [{"name": "banten"}])
        r = node(reaper, top, "banten", "relay", ca,
                 [{"name": "jabar", "node": o}, {"name": "sulsel"}])
        o.start()
        B.import_jalinctl(o, path)
        oc = o.connect()
        want = F.digest(oc)
        oc.close()
        r.start(wait=False)
        direct, _, _, c = F.wait_synced(r, "lks", a.n, want)
        c.close()
        o.stop()  # sulsel gets everything from banten alone
        times, cpus = [], []
        for i in range(a.runs):
            s = node(reaper, top, "sulsel", f"sink{i}", ca,
                     [{"name": "banten", "node": r}])
            s.start(wait=False)
            secs, _, _, c = F.wait_synced(s, "lks", a.n, want)
            c.close()
            cpus.append(s.cpu_s())
            st = F.status(s.connect())
            refused = sum(p.get("refused_records", 0) for p in st["peers"])
            s.stop()
            if refused:
                raise B.BenchError(f"sulsel refused {refused} records")
            times.append(secs)
            if not a.keep:
                shutil.rmtree(s.dir, ignore_errors=True)
        t = statistics.median(times)
        cpu = statistics.median(cpus)
        rep.say(f"initial sync through a relay, {a.n} lks records, every "
                f"event verified (median of {a.runs}):")
        rep.say(f"  {a.n / t:,.0f} records/s ({t:.2f} s), sink CPU "
                f"{cpu * 1e6 / a.n:.2f} us/record; first hop (one run): "
                f"{a.n / direct:,.0f} records/s ({direct:.2f} s)")
        rep.fig("relay_sync_records_per_s", a.n / t, "records/s")
        rep.fig("relay_sync_sink_cpu_us_per_record", cpu * 1e6 / a.n,
                "us/record")
        rep.fig("relay_first_hop_records_per_s", a.n / direct, "records/s")
        rep.emit_bench()
    finally:
        reaper.cleanup()


if __name__ == "__main__":
    main()
