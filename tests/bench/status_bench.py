#!/usr/bin/env python3
"""How fast does `jalinctl status` answer on a big node?

A node with 50 configured peers (none reachable: every one shows its
state, lag and last error) and N records (default 1,000,000 small lks
records, loaded with jalinctl import). Measures:
  - status over one persistent admin-socket connection (the node's own
    time plus one round trip), median and p99 over many requests;
  - `jalinctl status --json` as a user runs it (process start included).
Prints a report, then BENCH lines. Target (issue 4): under 100 ms.
"""

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgpack

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("JALIN_BUILD") or REPO / "build")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_config(d, peers):
    ca = d / "ca"
    subprocess.run([str(REPO / "certs" / "jalin-ca"), str(ca), "init"],
                   check=True, capture_output=True)
    subprocess.run([str(REPO / "certs" / "jalin-ca"), str(ca), "node",
                    "jabar"], check=True, capture_output=True)
    lines = ["[node]", "name = jabar", "region = 32",
             f"data_dir = {d / 'data'}", f"listen = 127.0.0.1:{closed_port()}",
             f"admin_socket = {d / 'jabar.sock'}", "verify_interval = 0",
             "", "[tls]", f"ca = {ca / 'ca.pem'}",
             f"cert = {ca / 'nodes' / 'jabar.pem'}",
             f"key = {ca / 'nodes' / 'jabar.key'}",
             f"crl = {ca / 'crl.pem'}"]
    for i in range(peers):
        lines += ["", f"[peer p{i:02d}]",
                  f"address = 127.0.0.1:{closed_port()}"]
    conf = d / "jabar.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


def records(n, path):
    rng = random.Random(7)
    codes = ["32.73", "36.71", "73.71", "32.03"]
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({
                "collection": "lks", "name": f"LKS Sejahtera {i:07d}",
                "legal_form": "yayasan", "status": "active",
                "region_code": rng.choice(codes)}) + "\n")


class Admin:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(str(path))

    def status(self):
        body = msgpack.packb({0: 32, 1: 1})
        self.s.sendall(struct.pack(">I", len(body)) + body)
        n = struct.unpack(">I", self.s.recv(4, socket.MSG_WAITALL))[0]
        data = b""
        while len(data) < n:
            data += self.s.recv(n - len(data))
        return msgpack.unpackb(data, strict_map_key=False)[4]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--peers", type=int, default=50)
    ap.add_argument("--reps", type=int, default=200)
    args = ap.parse_args()
    d = Path(tempfile.mkdtemp(prefix="jalin-status-"))
    proc = None
    try:
        conf = write_config(d, args.peers)
        t0 = time.time()
        records(args.n, d / "data.jsonl")
        proc = subprocess.Popen([str(BUILD / "jalind"), "-f", "-c",
                                 str(conf)], stdout=subprocess.DEVNULL,
                                stderr=open(d / "jalind.log", "w"))
        for _ in range(100):
            if (d / "jabar.sock").exists():
                break
            time.sleep(0.05)
        subprocess.run([str(BUILD / "jalinctl"), "-c", str(conf), "import",
                        str(d / "data.jsonl")], check=True,
                       capture_output=True)
        load = time.time() - t0
        a = Admin(d / "jabar.sock")
        st = a.status()
        assert st["records"]["lks"] == args.n, st["records"]
        assert len(st["peers"]) == args.peers
        sock = []
        for _ in range(args.reps):
            t = time.perf_counter()
            a.status()
            sock.append((time.perf_counter() - t) * 1000)
        cli = []
        for _ in range(max(20, args.reps // 10)):
            t = time.perf_counter()
            subprocess.run([str(BUILD / "jalinctl"), "-c", str(conf),
                            "--json", "status"], check=True,
                           capture_output=True)
            cli.append((time.perf_counter() - t) * 1000)
        print(f"node with {args.peers} peers and {args.n} records "
              f"(loaded in {load:.1f} s)")
        print(f"status over one connection: median "
              f"{statistics.median(sock):.2f} ms, p99 {pct(sock, .99):.2f} ms")
        print(f"jalinctl --json status (a new process each): median "
              f"{statistics.median(cli):.2f} ms, p99 {pct(cli, .99):.2f} ms")
        print("target: under 100 ms")
        print(f"BENCH status_ms {statistics.median(sock):.3f} ms")
        print(f"BENCH status_p99_ms {pct(sock, .99):.3f} ms")
        print(f"BENCH status_cli_ms {statistics.median(cli):.3f} ms")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=60)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
