"""jalinctl --remote: a node's TLS port with an admin certificate.

Real jalind processes, real certificates from certs/jalin-ca. Reads work
and say whom they reached; writes, verify and case records are refused;
wrong certificates and unreachable addresses end in exit 3 with the reason
in words. Nothing is timed: a hang fails through the subprocess timeout.
"""

import json
import random

import pytest

from conftest import CA, case_record, ctl, lks_record
from jalin_client import K_ERROR, K_STATUS, K_TYPE, Peer

HANG_TIMEOUT = 60  # a bound on a command that must give up by itself


def remote(node, ca, *args, cert=None, key=None, cacert=None,
           timeout=HANG_TIMEOUT, extra=()):
    if cert is None:
        cert, key = ca.admin("budi")
    return ctl("--remote", f"127.0.0.1:{node.port}", "--cert", cert,
               "--key", key, "--ca", cacert or ca.ca_pem, *extra, *args,
               timeout=timeout)


def put(node, coll, rec):
    return node.ctl("put", coll, input=json.dumps(rec)).stdout.strip()


def test_remote_reads_answer_like_the_socket(make_node, ca):
    n = make_node("jabar").start()
    rng = random.Random(3)
    rid = put(n, "lks", lks_record(1, rng))
    put(n, "case", case_record(1, rng))

    p = remote(n, ca, "status")
    assert p.returncode == 0, p.stderr
    assert "node         jabar" in p.stdout
    assert "CN jabar" in p.stdout  # the node's certificate, verified
    st = json.loads(remote(n, ca, "--json", "status").stdout)
    assert st["node"] == "jabar" and st["records"]["lks"] == 1
    assert st["epoch"] == n.ctl_json("status")["epoch"]

    d = remote(n, ca, "--json", "digest")
    assert d.returncode == 0 and json.loads(d.stdout) == \
        n.ctl_json("digest")
    g = remote(n, ca, "--json", "get", "lks", rid)
    assert g.returncode == 0, g.stderr
    assert json.loads(g.stdout) == n.ctl_json("get", "lks", rid)
    for args in (["list", "lks"], ["feed"], ["conflicts"],
                 ["export", "lks"]):
        p = remote(n, ca, *args)
        assert p.returncode == 0, (args, p.stderr)
    assert remote(n, ca, "export", "lks").stdout == \
        n.ctl("export", "lks").stdout
    n.wait_log("admin budi: status request")


def test_remote_refuses_writes_verify_and_cases(make_node, ca):
    n = make_node("jabar").start()
    rng = random.Random(4)
    cid = put(n, "case", case_record(2, rng))
    before = n.ctl("digest").stdout

    # jalinctl does not send what the node would refuse ...
    for args in (["put", "lks"], ["delete", "lks", cid],
                 ["purge", "case", cid], ["import", "-"],
                 ["verify", "banten"]):
        p = remote(n, ca, *args)
        assert p.returncode == 2, (args, p.stderr)
        assert "not allowed over --remote" in p.stderr
    # ... and the node refuses it anyway (a client of our own)
    cert, key = ca.admin("budi")
    c = Peer("127.0.0.1", n.port, ca.ca_pem, cert, key, "jabar",
             "admin:budi")
    try:
        c.send({K_TYPE: 33, 1: 7, 16: "lks",
                18: dict(lks_record(3, rng))})
        m = c.recv()
        assert m[K_TYPE] == 64 and m[1] == 7 and m[K_STATUS] < 0
        assert "remote admins may only read" in m[K_ERROR]
    finally:
        c.close()
    # a case record is not shown to a remote admin
    p = remote(n, ca, "get", "case", cid)
    assert p.returncode == 1
    assert "not shown to remote admins" in p.stderr
    assert n.ctl("digest").stdout == before


def test_remote_reads_leave_cases_out(make_node, ca):
    n = make_node("jabar").start()
    rng = random.Random(5)
    cid = put(n, "case", case_record(5, rng))
    lid = put(n, "lks", lks_record(6, rng))
    cid2 = put(n, "case", case_record(7, rng))
    for coll in ("case", "referral"):
        for cmd in (["list", coll], ["export", coll], ["conflicts", coll]):
            p = remote(n, ca, *cmd)
            assert p.returncode == 1, (cmd, p.stdout)
            assert f"{coll} records are not shown to remote admins" \
                in p.stderr
    # whole-store pages skip them but keep the rest
    exp = remote(n, ca, "export").stdout
    assert lid in exp and cid not in exp and cid2 not in exp
    assert '"case"' not in exp
    feed = json.loads(remote(n, ca, "--json", "feed").stdout)
    assert [e["id"] for e in feed["entries"]] == [lid]
    assert feed["last_seq"] == 3
    # locally everything is there
    assert cid in n.ctl("export").stdout
    assert len(json.loads(n.ctl("--json", "feed").stdout)["entries"]) == 3


def test_node_certificates_are_not_admin_certificates(make_node, ca):
    n = make_node("jabar")
    n.write_config(peers=[{"name": "banten"}])
    n.start()
    # banten is a configured peer: the node takes it for one (HELLO)
    cert, key = ca.node("banten")
    p = remote(n, ca, "status", cert=cert, key=key)
    assert p.returncode == 3, p.stderr
    assert "certificate refused" in p.stderr
    assert "not an admin certificate" in p.stderr
    # sulsel is nobody to this node
    cert, key = ca.node("sulsel")
    p = remote(n, ca, "status", cert=cert, key=key)
    assert p.returncode == 3, p.stderr
    assert "refused by the node: node 'sulsel' is not a configured peer" \
        in p.stderr
    assert n.ctl("status").returncode == 0


def test_certificates_of_another_ca_are_refused(make_node, ca, tmp_path):
    n = make_node("jabar").start()
    other = CA(tmp_path / "other-ca")
    cert, key = other.admin("mallory")
    p = remote(n, ca, "status", cert=cert, key=key)
    assert p.returncode == 3, p.stderr
    assert p.stderr.startswith(
        f"jalinctl: cannot reach the node at 127.0.0.1:{n.port}: "
        "certificate refused by the node (")
    assert "alert" in p.stderr  # the TLS alert the node sent, named
    # and the other way round: the node's certificate is not of our CA
    p = remote(n, ca, "status", cacert=other.ca_pem)
    assert p.returncode == 3, p.stderr
    assert "certificate refused: the node's certificate does not verify " \
           f"against CA '{other.ca_pem}'" in p.stderr


def test_unreachable_addresses_exit_3_with_the_reason(make_node, ca,
                                                      hanging):
    n = make_node("jabar")  # configured, never started: nothing listens
    p = remote(n, ca, "status")
    assert p.returncode == 3
    assert f"cannot reach the node at 127.0.0.1:{n.port}: " \
           "Connection refused" in p.stderr
    # accepts TCP, then silence: the handshake wait ends it
    p = ctl("--remote", f"127.0.0.1:{hanging}", "--timeout", "1",
            "--cert", ca.admin("budi")[0], "--key", ca.admin("budi")[1],
            "--ca", ca.ca_pem, "status", timeout=HANG_TIMEOUT)
    assert p.returncode == 3, p.stderr
    assert "timed out in the TLS handshake (no answer within 1 s)" \
        in p.stderr
    p = ctl("--remote", "no-such-node.invalid:7420", "--cert",
            ca.admin("budi")[0], "--key", ca.admin("budi")[1], "--ca",
            ca.ca_pem, "status", timeout=HANG_TIMEOUT)
    assert p.returncode == 3 and "cannot resolve" in p.stderr


@pytest.mark.parametrize("args,words", [
    (["--remote", "jabar", "--cert", "a", "--key", "b", "--ca", "c",
      "status"], "is not HOST:PORT"),
    (["--remote", "127.0.0.1:7420", "status"],
     "--remote needs --cert, --key and --ca"),
    (["--remote", "127.0.0.1:7420", "-s", "/x", "status"],
     "only one of -c, -s and --db"),
    (["--cert", "a.pem", "status"], "go with --remote or federation"),
    (["--timeout", "0", "status"], "--timeout: 0 is out of range"),
    (["--db", "/x", "verify", "banten"], "verify needs the running node"),
    (["--db", "/x", "watch"], "watch needs the running node"),
    (["--remote", "127.0.0.1:7420", "--cert", "a", "--key", "b", "--ca",
      "c", "federation"], "not --remote"),
])
def test_remote_usage_errors_exit_2(args, words):
    p = ctl(*args)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("jalinctl: ") and words in p.stderr


def test_missing_admin_files_exit_3(make_node, ca, tmp_path):
    n = make_node("jabar").start()
    p = remote(n, ca, "status", cert=tmp_path / "none.pem",
               key=tmp_path / "none.key")
    assert p.returncode == 3
    assert f"cannot load admin certificate '{tmp_path / 'none.pem'}'" \
        in p.stderr


def test_crl_refuses_a_node_with_a_revoked_certificate(make_node, ca,
                                                       tmp_path):
    local = CA(tmp_path / "ca2")
    n = make_node("jabar")
    n.ca = local
    n.write_config()
    n.start()
    cert, key = local.admin("budi")
    crl = ("--crl", local.crl_pem)
    p = remote(n, local, "status", cert=cert, key=key,
               extra=("--json", *crl))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["node"] == "jabar"
    # the node's certificate is revoked; the node itself runs on
    local.run("revoke", "node:jabar")
    p = remote(n, local, "status", cert=cert, key=key, extra=crl)
    assert p.returncode == 3, p.stderr
    assert p.stderr.startswith(
        f"jalinctl: cannot reach the node at 127.0.0.1:{n.port}: "
        "certificate refused: the node's certificate does not verify "
        f"against CA '{local.ca_pem}' (certificate revoked)"), p.stderr
    # without --crl nothing tells jalinctl: that is what --crl is for
    p = remote(n, local, "status", cert=cert, key=key)
    assert p.returncode == 0, p.stderr
    # federation -c takes the config's [tls] crl by default
    p = ctl("-c", n.conf, "--cert", cert, "--key", key, "--json",
            "federation", f"127.0.0.1:{n.port}", timeout=HANG_TIMEOUT)
    assert "certificate revoked" in p.stdout + p.stderr, (p.stdout,
                                                          p.stderr)
    # a file that is not a CRL is a clear error, before any connection
    p = remote(n, local, "status", cert=cert, key=key,
               extra=("--crl", cert))
    assert p.returncode == 3, p.stderr
    assert f"CRL '{cert}' holds no certificate revocation list" \
        in p.stderr
    assert n.ctl("status").returncode == 0
