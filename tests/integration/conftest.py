"""Harness for black-box tests of jalind, driven through jalinctl.

Reusable by every integration test (and the federation tests to come):

- binaries from $JALIN_BUILD (default <repo>/build); JALIN_SANITIZE=1 means
  they were built with ASan/UBSan, JALIN_VALGRIND=1 runs jalind under
  valgrind; a Node's `build` names another build directory for that node
  (an older release, test_mixed.py);
- a session-scoped federation CA made with certs/jalin-ca, node
  certificates on demand;
- Node: one jalind with its own directory, config, free TCP port and admin
  socket; start/stop/kill, jalinctl through its config, its log;
- the `node` fixture and the `make_node` factory: teardown stops what was
  started and fails the test if a log shows a sanitizer or valgrind error;
  the logs are printed when a test fails;
- DOMAIN.md-shaped record generators (lks, case) with Indonesian data.

No test here measures time: waits poll for a state, with generous limits.
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("JALIN_BUILD") or REPO / "build")
JALIND = BUILD / "jalind"
JALINCTL = BUILD / "jalinctl"
JALIN_CA = REPO / "certs" / "jalin-ca"
SANITIZE = os.environ.get("JALIN_SANITIZE") == "1"
VALGRIND = os.environ.get("JALIN_VALGRIND") == "1"
VALGRIND_ERROR = 99
SAN_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
# Slow under valgrind and sanitizers; these bound waits, they time nothing.
START_TIMEOUT = 120 if VALGRIND else 30
CMD_TIMEOUT = 600 if VALGRIND else 180

ENV = dict(os.environ)
ENV.pop("JALIN_CONFIG", None)
ENV.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
ENV.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
ENV["LC_ALL"] = "C.UTF-8"


def sanitizer_report(text):
    """The first sanitizer marker found in text, or None."""
    for m in SAN_MARKERS:
        if m in text:
            return m
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ctl(*args, input=None, check=False, env=None, timeout=CMD_TIMEOUT,
        jalinctl=JALINCTL):
    """Run jalinctl with exactly these arguments (no -c added)."""
    p = subprocess.run([str(jalinctl), *map(str, args)], input=input,
                       capture_output=True, text=True, timeout=timeout,
                       env=env or ENV)
    assert sanitizer_report(p.stderr) is None, p.stderr
    if check:
        assert p.returncode == 0, (
            f"jalinctl {' '.join(map(str, args))}: exit {p.returncode}\n"
            f"stderr: {p.stderr}")
    return p


class CA:
    """A federation CA in a directory, driven by certs/jalin-ca."""

    def __init__(self, path):
        self.path = Path(path)
        # configs name the roster ([tls] roster): nodes know every other
        # node's encryption key from their start, as an operator
        # distributes it with the CRL; False: they learn them from peers
        self.use_roster = True
        self.run("init")
        self.run("crl")

    def run(self, *args):
        p = subprocess.run([str(JALIN_CA), str(self.path), *args],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"jalin-ca {args}: {p.stderr}"
        return p

    @property
    def ca_pem(self):
        return self.path / "ca.pem"

    @property
    def crl_pem(self):
        return self.path / "crl.pem"

    def node(self, name):
        """(cert, key) of node NAME, issued on first use (with its
        encryption key pair, NAME.enc.key and NAME.enc.pem beside them);
        the roster is written again so every node learns the new one's
        encryption key at its next start, as an operator distributes it."""
        cert = self.path / "nodes" / f"{name}.pem"
        key = self.path / "nodes" / f"{name}.key"
        if not cert.exists():
            self.run("node", name)
            self.run("roster")
        return cert, key

    @property
    def roster_pem(self):
        return self.path / "roster.pem"

    def admin(self, name):
        """(cert, key) of admin NAME (CN admin:NAME), issued on first
        use."""
        cert = self.path / "admins" / f"{name}.pem"
        key = self.path / "admins" / f"{name}.key"
        if not cert.exists():
            self.run("admin", name)
        return cert, key


class Node:
    """One jalind: its directory, config, port, socket and process."""

    def __init__(self, base, name, region=32, ca=None):
        self.name = name
        self.region = region
        self.ca = ca
        self.dir = Path(base) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.dir / "data"
        self.conf = self.dir / "jalin.conf"
        self.logfile = self.dir / "jalind.log"
        # sun_path holds 108 bytes: keep the socket out of pytest's long
        # tmp paths.
        self.sockdir = Path(tempfile.mkdtemp(prefix="jl-"))
        self.socket = self.sockdir / f"{name}.sock"
        self.port = free_port()
        self.proc = None
        self.exit_codes = []
        # the build directory whose jalind and jalinctl run this node; set
        # it to another one (an older release) before start()
        self.build = BUILD
        self.write_config()

    # -- config --------------------------------------------------------
    def config_text(self, tls=True, peers=(), **extra):
        node = {"name": self.name, "region": self.region,
                "data_dir": self.data_dir,
                "listen": f"127.0.0.1:{self.port}",
                "admin_socket": self.socket}
        node.update(extra)
        lines = ["[node]"] + [f"{k} = {v}" for k, v in node.items()]
        if tls and self.ca is not None:
            cert, key = self.ca.node(self.name)
            lines += ["", "[tls]", f"ca = {self.ca.ca_pem}",
                      f"cert = {cert}", f"key = {key}",
                      f"crl = {self.ca.crl_pem}"]
            if self.ca.use_roster and self.build == BUILD:
                lines.append(f"roster = {self.ca.roster_pem}")
        for peer in peers:
            peer = dict(peer)
            lines += ["", f"[peer {peer.pop('name')}]"]
            lines += [f"{k} = {v}" for k, v in peer.items()]
        return "\n".join(lines) + "\n"

    def write_config(self, tls=True, peers=(), **extra):
        """Write the config: extra [node] keys, [tls], [peer ...]."""
        self.conf.write_text(self.config_text(tls, peers, **extra))

    # -- process -------------------------------------------------------
    def command(self, *args):
        cmd = [str(self.build / "jalind"), *map(str, args)]
        if VALGRIND:
            cmd = ["valgrind", "-q", f"--error-exitcode={VALGRIND_ERROR}",
                   "--leak-check=full", "--errors-for-leak-kinds=definite",
                   *cmd]
        return cmd

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        """Start jalind -f; return once the admin socket answers status."""
        assert not self.running(), f"{self.name} is already running"
        log = open(self.logfile, "a")
        self.proc = subprocess.Popen(self.command("-f", "-c", self.conf),
                                     stdout=log, stderr=subprocess.STDOUT,
                                     env=ENV)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._reap(self.proc.returncode)
                pytest.fail(f"jalind {self.name} exited with "
                            f"{self.proc.returncode} while starting:\n"
                            f"{self.log()}")
            if self.socket.exists() and self.ctl(
                    "status", check=False).returncode == 0:
                return self
            time.sleep(0.05)
        self.kill()
        pytest.fail(f"jalind {self.name} did not answer within "
                    f"{START_TIMEOUT} s:\n{self.log()}")

    def _reap(self, rc):
        self.exit_codes.append(rc)

    def signal(self, sig):
        assert self.running(), f"{self.name} is not running"
        self.proc.send_signal(sig)

    def wait(self, timeout=START_TIMEOUT):
        rc = self.proc.wait(timeout=timeout)
        self._reap(rc)
        self.proc = None
        return rc

    def stop(self):
        """SIGTERM, wait, and assert a clean exit (0)."""
        self.signal(signal.SIGTERM)
        rc = self.wait()
        assert rc == 0, f"jalind {self.name} exited {rc}:\n{self.log()}"
        return rc

    def kill(self):
        """SIGKILL: a crash, as far as the store can tell."""
        if self.running():
            self.proc.kill()
            self.proc.wait(timeout=START_TIMEOUT)
        self.proc = None

    def run_once(self, *args, timeout=START_TIMEOUT):
        """Run jalind ARGS to completion (-n, or a start that must fail)."""
        p = subprocess.run(self.command(*args), capture_output=True,
                           text=True, timeout=timeout, env=ENV)
        self._reap(p.returncode)
        return p

    def log(self):
        try:
            return self.logfile.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, text, timeout=START_TIMEOUT):
        """Wait until the log contains text; fail with the log if not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            time.sleep(0.05)
        pytest.fail(f"{self.name}: '{text}' not logged:\n{self.log()}")

    # -- jalinctl ------------------------------------------------------
    def ctl(self, *args, input=None, check=True, timeout=CMD_TIMEOUT):
        """jalinctl -c CONF ARGS; check asserts exit 0 (stderr shown)."""
        return ctl("-c", self.conf, *args, input=input, check=check,
                   timeout=timeout, jalinctl=self.build / "jalinctl")

    def ctl_json(self, *args, input=None):
        p = self.ctl("--json", *args, input=input)
        return json.loads(p.stdout)

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.sockdir, ignore_errors=True)

    def problems(self):
        """Sanitizer or valgrind findings in this node's runs."""
        found = []
        m = sanitizer_report(self.log())
        if m:
            found.append(f"{self.name}: {m} in the log")
        if VALGRIND_ERROR in self.exit_codes:
            found.append(f"{self.name}: valgrind reported errors "
                         f"(exit {VALGRIND_ERROR})")
        return found


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(scope="session")
def ca(tmp_path_factory):
    return CA(tmp_path_factory.mktemp("federation") / "ca")


@pytest.fixture
def make_node(tmp_path, ca, request):
    """Factory: make_node(name, region=32, tls=True, **node_keys)."""
    nodes = []

    def make(name="jabar", region=32, tls=True, **extra):
        n = Node(tmp_path, name, region, ca)
        n.write_config(tls=tls, **extra)
        nodes.append(n)
        return n

    yield make
    problems = []
    for n in nodes:
        if n.running():
            try:
                n.stop()
            except AssertionError as e:
                problems.append(str(e))
        n.cleanup()
        problems += n.problems()
    rep = getattr(request.node, "rep_call", None)
    if problems or (rep is not None and rep.failed):
        for n in nodes:
            print(f"==== jalind {n.name} log ({n.logfile})\n{n.log()}")
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def node(make_node):
    """A started node named jabar (Jawa Barat)."""
    return make_node("jabar", 32).start()


# -- DOMAIN.md-shaped data ----------------------------------------------

FIRST = ["Siti", "Ahmad", "Dewi", "Budi", "Nurhayati", "Andi", "Rahmat",
         "Sri", "Yusuf", "Wahyuni", "La Ode", "Made", "Ketut", "Asep",
         "Ujang", "Euis", "Daeng", "Fitri"]
LAST = ["Rahayu", "Hidayat", "Saputra", "Lestari", "Baharuddin",
        "Kurniawan", "Wulandari", "Syamsuddin", "Setiawan", "Mulyani",
        "Nugroho", "Pratama", "Hasanuddin", "Sulastri"]
CITIES = [("32.73", "Kota Bandung", "Jl. Cihampelas"),
          ("32.03", "Kabupaten Cianjur", "Jl. Raya Cugenang"),
          ("36.71", "Kota Tangerang", "Jl. Daan Mogot"),
          ("36.04", "Kabupaten Serang", "Jl. Raya Pandeglang"),
          ("73.71", "Kota Makassar", "Jl. Perintis Kemerdekaan"),
          ("73.16", "Kabupaten Mamasa", "Jl. Poros Mamasa")]
LKS_KIND = ["Yayasan Kasih Bunda", "Yayasan Peduli Disabilitas",
            "Panti Sosial Tresna Werdha", "LKSA Harapan Bangsa",
            "Perkumpulan Rehabilitasi Jiwa", "Yayasan Sahabat Lansia"]


def uuid7(rng=random):
    """A UUIDv7-shaped id (48-bit ms time, version 7, variant 10)."""
    ms = int(time.time() * 1000)
    b = bytearray(ms.to_bytes(6, "big") + rng.randbytes(10))
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    return str(uuid.UUID(bytes=bytes(b)))


def person(rng):
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def lks_record(i, rng=random, **over):
    code, city, street = rng.choice(CITIES)
    rec = {
        "name": f"{rng.choice(LKS_KIND)} {city.split()[-1]} {i:05d}",
        "legal_form": rng.choice(["yayasan", "perkumpulan"]),
        "status": "active",
        "region_code": code,
        "address": f"{street} No. {rng.randint(1, 250)}, {city}",
        "head.name": person(rng),
        "head.position": "Ketua",
        "contact.phone": f"0{rng.randint(21, 411)}-{rng.randint(1000000, 9999999)}",
        "clusters": rng.sample(["child", "disability", "elderly"], 2),
        "services": ["social_care", "family_support"],
        "staff.total": rng.randint(3, 40),
        "accreditation.grade": rng.choice(["A", "B", "C"]),
    }
    rec.update(over)
    return rec


def case_record(i, rng=random, controller=None, **over):
    code, city, street = rng.choice(CITIES)
    rec = {
        "controller": controller or "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "legal_basis": "vital_interest",
        "case_no": f"PSM-{code.replace('.', '')}-{i:06d}",
        "status": rng.choice(["reported", "outreach", "intake"]),
        "cluster": "disability",
        "ppks_type": "penyandang disabilitas mental",
        "region_code": f"{code}.{rng.randint(1, 20):02d}.1{rng.randint(1, 20):03d}",
        "report_source": rng.choice(["tksk", "family", "puskesmas"]),
        "reported_at": 1795400000000 + i * 1000,
        "full_name": person(rng),
        "sex": rng.choice(["m", "f"]),
        "birth_date": f"{rng.randint(1960, 2000)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        "is_child": False,
        "address": f"{street} Gg. Melati {rng.randint(1, 40)}, {city}",
        "pasung.status": "restrained",
        "pasung.method": rng.choice(["chain", "wooden_stocks", "locked_room"]),
        "pasung.setting": rng.choice(["house", "hut", "shed"]),
        "pasung.start_date": "2022-03-01",
        "pasung.start_precision": "month",
        "pasung.conditions": ["no_clean_water", "malnutrition"],
        "pasung.family_consent": "yes",
    }
    rec.update(over)
    return rec


def jsonl(records):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


@pytest.fixture
def hanging():
    """A TCP listener that accepts and never says a word: its port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    conns, stop = [], threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(timeout=10)
    for c in conns:
        c.close()
    srv.close()
