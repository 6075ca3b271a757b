"""Black-box tests of certs/jalin-ca, the federation CA tool (DESIGN.md §5).

Every test works in its own tmp_path and checks the results with the openssl
command-line tool and Python's ssl module only, never with jalin-ca itself, so
a bug in the tool cannot hide in its own output. The TLS tests run a real
`openssl s_server` on 127.0.0.1 and prove that the certificates work for
mutual TLS 1.3 the way jalind uses them (CA + CRL, server name = node name).
"""

import datetime
import json
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import time
from pathlib import Path

import pytest

# jalin-ca is a shell script: the sanitizer and valgrind passes of
# `make test` run no code of ours here, so it is tested once, in the plain
# pass.
pytestmark = pytest.mark.skipif(
    os.environ.get("JALIN_SANITIZE") == "1" or
    os.environ.get("JALIN_VALGRIND") == "1",
    reason="jalin-ca runs no C code: tested in the plain pass")

SCRIPT = (Path(__file__).resolve().parent / ".." / ".." / "certs" /
          "jalin-ca").resolve()
NAME_RULE = "[a-z0-9][a-z0-9_-]{0,63}"


def run(*args, cwd=None, check=None):
    """Run jalin-ca; check=N asserts the exit status (stderr in the message)."""
    p = subprocess.run([str(SCRIPT), *map(str, args)], cwd=cwd,
                       capture_output=True, text=True, timeout=120)
    if check is not None:
        assert p.returncode == check, (
            f"jalin-ca {' '.join(map(str, args))}: exit {p.returncode}, "
            f"expected {check}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def ossl(*args, cwd=None, check=True):
    p = subprocess.run(["openssl", *map(str, args)], cwd=cwd,
                       capture_output=True, text=True, timeout=60)
    if check:
        assert p.returncode == 0, (
            f"openssl {' '.join(map(str, args))}: exit {p.returncode}\n"
            f"{p.stdout}{p.stderr}")
    return p


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def text(cert):
    return ossl("x509", "-noout", "-text", "-in", cert).stdout


def serial(cert):
    return ossl("x509", "-noout", "-serial", "-in",
                cert).stdout.strip().split("=", 1)[1]


def not_after(cert):
    out = ossl("x509", "-noout", "-enddate", "-in", cert).stdout.strip()
    return datetime.datetime.strptime(
        out.split("=", 1)[1], "%b %d %H:%M:%S %Y GMT").replace(
            tzinfo=datetime.timezone.utc)


def verify(ca, cert, *extra):
    """openssl verify against DIR/ca.pem; returns (ok, output)."""
    p = ossl("verify", "-CAfile", ca / "ca.pem", *extra, cert, check=False)
    return p.returncode == 0, p.stdout + p.stderr


def verify_crl(ca, cert):
    return verify(ca, cert, "-crl_check", "-CRLfile", ca / "crl.pem")


def ext_block(txt, name):
    """The value lines of one X509v3 extension in `openssl x509 -text`."""
    m = re.search(r"X509v3 " + re.escape(name) + r":( critical)? *\n"
                  r"\s+(.*)\n", txt)
    return (m.group(2).strip(), bool(m.group(1))) if m else (None, False)


def subject_cn(txt):
    m = re.search(r"Subject: CN\s*=\s*(.*)\n", txt)
    return m.group(1).strip() if m else None


def days_from_now(when):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (when - now).total_seconds() / 86400


@pytest.fixture
def ca(tmp_path):
    """A fresh CA in a directory whose path contains a space."""
    d = tmp_path / "fed ca"
    p = run(d, "init", check=0)
    assert p.stdout.strip() == f"{d}/ca.pem"
    return d


def issue(ca, kind, name, *opts):
    p = run(*opts, ca, kind, name, check=0)
    sub = "nodes" if kind == "node" else "admins"
    crt, key = ca / sub / f"{name}.pem", ca / sub / f"{name}.key"
    want = [str(crt), str(key)]
    if kind == "node":
        want += [str(ca / sub / f"{name}.enc.pem"),
                 str(ca / sub / f"{name}.enc.key")]
    assert p.stdout.splitlines() == want
    return crt, key


# --- help and usage ---------------------------------------------------------


def test_help_reads_like_a_man_page():
    for flag in ("--help", "-h"):
        p = run(flag, check=0)
        for section in ("NAME", "SYNOPSIS", "COMMANDS", "OPTIONS", "FILES",
                        "EXIT STATUS", "EXAMPLES"):
            assert re.search(rf"^{section}$", p.stdout, re.M), section
        assert "revoke NAME | node:NAME | admin:NAME" in p.stdout
        assert "--days N" in p.stdout and "3650" in p.stdout
        assert "825" in p.stdout and "30 days" in p.stdout
        assert p.stderr == ""


@pytest.mark.parametrize("args,needle", [
    ([], "missing DIR and COMMAND"),
    (["d"], "missing COMMAND after DIR 'd'"),
    (["d", "bogus"], "unknown command 'bogus' (one of: init, node, enc, admin, "
     "revoke, crl, roster, list)"),
    (["--frobnicate", "d", "list"], "unknown option '--frobnicate'"),
    (["d", "node"], "node: expected: jalin-ca DIR node NAME"),
    (["d", "node", "a", "b"], "node: expected: jalin-ca DIR node NAME"),
    (["d", "init", "x"], "init: expected: jalin-ca DIR init"),
    (["--json", "d", "node", "a"], "option --json does not apply to 'node'"),
    (["--cn", "X", "d", "node", "a"], "option --cn does not apply to 'node'"),
    (["--days", "3", "d", "list"], "option --days does not apply to 'list'"),
    (["--days", "0", "d", "node", "a"], "invalid --days '0'"),
    (["--days", "ten", "d", "node", "a"], "invalid --days 'ten'"),
    (["--days", "36501", "d", "init"], "invalid --days '36501'"),
    (["d", "node", "--days"], "option --days needs a number of days"),
    (["", "init"], "DIR must not be empty"),
])
def test_usage_errors_exit_2(tmp_path, args, needle):
    p = run(*args, cwd=tmp_path, check=2)
    assert p.stderr.startswith("jalin-ca: ")
    assert needle in p.stderr
    assert "Try 'jalin-ca --help'" in p.stderr
    assert p.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_commands_on_a_missing_ca_say_how_to_create_one(tmp_path):
    for cmd in (["node", "a"], ["admin", "a"], ["revoke", "a"], ["crl"],
                ["list"]):
        p = run(tmp_path / "nope", *cmd, check=1)
        assert f"CA '{tmp_path}/nope'" in p.stderr
        assert "no such directory" in p.stderr
    (tmp_path / "empty").mkdir()
    p = run(tmp_path / "empty", "node", "a", check=1)
    assert f"{tmp_path}/empty/ca.pem is missing" in p.stderr
    assert "init" in p.stderr


# --- init -------------------------------------------------------------------


def test_init_creates_files_with_safe_modes(ca):
    assert mode(ca) == 0o700
    assert mode(ca / "ca.key") == 0o600
    for f in ("ca.pem", "ca.key", "crl.pem", "index.txt", "serial",
              "crlnumber", "openssl.cnf"):
        assert (ca / f).is_file(), f
    for d in ("nodes", "admins", "newcerts"):
        assert (ca / d).is_dir() and mode(ca / d) == 0o700, d
    assert (ca / "index.txt").read_text() == ""

    txt = text(ca / "ca.pem")
    assert subject_cn(txt) == "jalin federation CA"
    assert "Issuer: CN = jalin federation CA" in txt
    assert "NIST CURVE: P-256" in txt
    assert "ecdsa-with-SHA256" in txt
    assert ext_block(txt, "Basic Constraints") == ("CA:TRUE, pathlen:0", True)
    assert ext_block(txt, "Key Usage") == ("Certificate Sign, CRL Sign", True)
    # Default CA validity: 3650 days.
    assert 3649 < days_from_now(not_after(ca / "ca.pem")) <= 3650
    # The key is a P-256 key and belongs to the certificate.
    assert "NIST CURVE: P-256" in ossl("pkey", "-in", ca / "ca.key",
                                       "-noout", "-text").stdout
    assert (ossl("pkey", "-in", ca / "ca.key", "-pubout").stdout ==
            ossl("x509", "-in", ca / "ca.pem", "-noout",
                 "-pubkey").stdout)


def test_initial_crl_is_empty_signed_and_valid_30_days(ca):
    p = ossl("crl", "-in", ca / "crl.pem", "-CAfile", ca / "ca.pem",
             "-noout", "-text")
    assert "verify OK" in p.stderr + p.stdout
    assert "No Revoked Certificates" in p.stdout
    nxt = ossl("crl", "-in", ca / "crl.pem", "-noout",
               "-nextupdate").stdout.strip().split("=", 1)[1]
    nxt = datetime.datetime.strptime(nxt, "%b %d %H:%M:%S %Y GMT").replace(
        tzinfo=datetime.timezone.utc)
    assert 29.9 < days_from_now(nxt) <= 30


def test_second_init_refused_and_force_replaces_but_keeps_old(ca):
    old_ca = (ca / "ca.pem").read_bytes()
    old_key = (ca / "ca.key").read_bytes()
    crt, _ = issue(ca, "node", "banten")

    p = run(ca, "init", check=1)
    assert p.stderr == (
        f"jalin-ca: init: CA file {ca}/ca.key already exists (use --force "
        "to replace the whole CA; certificates it issued will no longer be "
        "trusted)\n")
    assert (ca / "ca.pem").read_bytes() == old_ca
    assert (ca / "ca.key").read_bytes() == old_key

    p = run("--force", ca, "init", check=0)
    assert "previous CA moved to" in p.stderr
    assert (ca / "ca.pem").read_bytes() != old_ca
    assert mode(ca / "ca.key") == 0o600 and mode(ca) == 0o700
    # Nothing is lost: the old CA and what it issued sit in retired/.
    retired = list((ca / "retired").iterdir())
    assert len(retired) == 1
    assert (retired[0] / "ca.pem").read_bytes() == old_ca
    assert (retired[0] / "ca.key").read_bytes() == old_key
    assert (retired[0] / "nodes" / "banten.pem").is_file()
    assert not crt.exists()
    assert (ca / "index.txt").read_text() == ""
    # Certificates of the old CA are not trusted by the new one.
    ok, out = verify(ca, retired[0] / "nodes" / "banten.pem")
    assert not ok, out
    issue(ca, "node", "banten")


def test_init_refuses_a_non_empty_directory(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "laporan.txt").write_text("data\n")
    p = run(d, "init", check=1)
    assert f"directory '{d}' is not empty and holds no jalin CA" in p.stderr
    assert sorted(x.name for x in d.iterdir()) == ["laporan.txt"]
    # An existing empty directory is fine and gets mode 0700.
    e = tmp_path / "empty"
    e.mkdir(mode=0o755)
    run(e, "init", check=0)
    assert mode(e) == 0o700
    # A file in the way is named.
    (tmp_path / "file").write_text("")
    p = run(tmp_path / "file", "init", check=1)
    assert f"'{tmp_path}/file' exists and is not a directory" in p.stderr


def test_init_with_cn_and_days(tmp_path):
    d = tmp_path / "ca"
    run("--cn", "Kemensos Pusat CA", "--days", "400", d, "init", check=0)
    txt = text(d / "ca.pem")
    assert subject_cn(txt) == "Kemensos Pusat CA"
    assert 399 < days_from_now(not_after(d / "ca.pem")) <= 400
    p = run("--cn", "a/b", tmp_path / "x", "init", check=2)
    assert "invalid --cn 'a/b'" in p.stderr
    assert not (tmp_path / "x").exists()


def test_relative_dir_with_spaces(tmp_path):
    (tmp_path / "kantor lks").mkdir()
    rel = "kantor lks/ca dir"
    p = run(rel, "init", cwd=tmp_path, check=0)
    assert p.stdout == f"{rel}/ca.pem\n"
    p = run(rel, "node", "jabar", cwd=tmp_path, check=0)
    assert p.stdout == (f"{rel}/nodes/jabar.pem\n{rel}/nodes/jabar.key\n"
                        f"{rel}/nodes/jabar.enc.pem\n"
                        f"{rel}/nodes/jabar.enc.key\n")
    d = tmp_path / rel
    assert mode(d) == 0o700
    ok, out = verify(d, d / "nodes" / "jabar.pem")
    assert ok, out
    # Trailing slash and "./" prefix name the same CA.
    run(f"./{rel}/", "revoke", "jabar", cwd=tmp_path, check=0)
    p = run(f"{rel}/", "list", cwd=tmp_path, check=0)
    assert p.stdout.split()[3] == "revoked"
    # A DIR starting with '-' works after '--'.
    run("--", "-ca", "init", cwd=tmp_path, check=0)
    assert (tmp_path / "-ca" / "ca.pem").is_file()


# --- node and admin ---------------------------------------------------------


def test_node_certificate(ca):
    crt, key = issue(ca, "node", "banten")
    assert mode(key) == 0o600
    assert mode(crt) == 0o644
    for purpose in ("sslserver", "sslclient"):
        ok, out = verify(ca, crt, "-purpose", purpose)
        assert ok, out
    ok, out = verify_crl(ca, crt)
    assert ok, out

    txt = text(crt)
    assert subject_cn(txt) == "banten"
    assert "Issuer: CN = jalin federation CA" in txt
    assert "NIST CURVE: P-256" in txt
    assert ext_block(txt, "Subject Alternative Name") == ("DNS:banten", False)
    assert ext_block(txt, "Extended Key Usage")[0] == (
        "TLS Web Server Authentication, TLS Web Client Authentication")
    assert ext_block(txt, "Key Usage") == ("Digital Signature", True)
    assert ext_block(txt, "Basic Constraints") == ("CA:FALSE", True)
    # The key belongs to the certificate.
    assert (ossl("pkey", "-in", key, "-pubout").stdout ==
            ossl("x509", "-in", crt, "-noout", "-pubkey").stdout)
    # Default validity 825 days (starting an hour early for clock skew).
    assert 824.9 < days_from_now(not_after(crt)) <= 825
    nb = ossl("x509", "-noout", "-startdate", "-in",
              crt).stdout.strip().split("=", 1)[1]
    nb = datetime.datetime.strptime(nb, "%b %d %H:%M:%S %Y GMT").replace(
        tzinfo=datetime.timezone.utc)
    assert -0.05 < days_from_now(nb) < -0.04


def test_admin_certificate_is_client_only(ca):
    crt, key = issue(ca, "admin", "siti")
    assert mode(key) == 0o600
    txt = text(crt)
    assert subject_cn(txt) == "admin:siti"
    eku, _ = ext_block(txt, "Extended Key Usage")
    assert eku == "TLS Web Client Authentication"
    assert "Server Authentication" not in txt
    assert "Subject Alternative Name" not in txt
    ok, out = verify(ca, crt, "-purpose", "sslclient")
    assert ok, out
    ok, out = verify(ca, crt, "-purpose", "sslserver")
    assert not ok and "unsuitable certificate purpose" in out, out
    # Node and admin names are separate name spaces.
    issue(ca, "node", "siti")


def test_existing_node_refused_without_force(ca):
    crt, key = issue(ca, "node", "banten")
    before = crt.read_bytes(), key.read_bytes()
    p = run(ca, "node", "banten", check=1)
    assert p.stderr == (f"jalin-ca: node 'banten': certificate {ca}/nodes/"
                        "banten.pem already exists (use --force to "
                        "re-issue)\n")
    assert p.stdout == ""
    assert (crt.read_bytes(), key.read_bytes()) == before

    # A lone key is protected too, and named.
    crt.unlink()
    p = run(ca, "node", "banten", check=1)
    assert (f"node 'banten': key {ca}/nodes/banten.key already exists"
            in p.stderr)
    # With both files gone, the still-valid certificate in the database
    # still blocks a silent second issue.
    key.unlink()
    p = run(ca, "node", "banten", check=1)
    assert "still records an unrevoked certificate" in p.stderr
    assert "--force" in p.stderr

    crt, key = issue(ca, "admin", "siti")
    p = run(ca, "admin", "siti", check=1)
    assert p.stderr == (f"jalin-ca: admin 'siti': certificate {ca}/admins/"
                        "siti.pem already exists (use --force to "
                        "re-issue)\n")


def test_force_reissue_revokes_the_old_certificate(ca, tmp_path):
    crt, key = issue(ca, "node", "banten")
    old = tmp_path / "old.pem"
    shutil.copy(crt, old)
    old_key = key.read_bytes()
    old_serial = serial(old)

    old_enc = serial(ca / "nodes" / "banten.enc.pem")
    p = run("--force", ca, "node", "banten", check=0)
    assert p.stdout.splitlines()[:2] == [str(crt), str(key)]
    assert (f"previous certificate (serial {old_serial}\n{old_enc}) "
            "revoked" in p.stderr
            or f"previous certificate (serial {old_serial} {old_enc}) "
            "revoked" in p.stderr), p.stderr
    assert key.read_bytes() != old_key
    assert mode(key) == 0o600
    ok, out = verify_crl(ca, crt)
    assert ok, out
    ok, out = verify_crl(ca, old)
    assert not ok and "certificate revoked" in out, out
    crl = ossl("crl", "-in", ca / "crl.pem", "-noout", "-text").stdout
    assert old_serial in crl and "Superseded" in crl

    rows = [ln.split() for ln in run(ca, "list", check=0).stdout.splitlines()]
    enc = ca / "nodes" / "banten.enc.pem"
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("node", "banten", old_serial, "revoked"),
        ("enc", "banten", old_enc, "revoked"),
        ("node", "banten", serial(crt), "valid"),
        ("enc", "banten", serial(enc), "valid")]


ENC_OID = "2.25.313918279293791988697213161871281793685"


def test_node_gets_an_x25519_encryption_certificate(ca):
    crt, _ = issue(ca, "node", "banten")
    enc, ekey = ca / "nodes" / "banten.enc.pem", ca / "nodes" / "banten.enc.key"
    assert mode(ekey) == 0o600
    assert mode(enc) == 0o644
    ok, out = verify_crl(ca, enc)
    assert ok, out
    txt = text(enc)
    assert "Subject: CN = banten, OU = jalin-enc" in txt
    assert "Public Key Algorithm: X25519" in txt
    assert ext_block(txt, "Key Usage") == ("Key Agreement", True)
    assert ext_block(txt, "Extended Key Usage")[0] == ENC_OID
    assert ext_block(txt, "Basic Constraints") == ("CA:FALSE", True)
    # never a TLS certificate
    for purpose in ("sslserver", "sslclient"):
        ok, out = verify(ca, enc, "-purpose", purpose)
        assert not ok and "unsuitable certificate purpose" in out, out
    assert (ossl("pkey", "-in", ekey, "-pubout").stdout ==
            ossl("x509", "-in", enc, "-noout", "-pubkey").stdout)
    assert serial(enc) != serial(crt)
    # listed, and in the CA database like any certificate
    rows = [ln.split() for ln in run(ca, "list", check=0).stdout.splitlines()]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("node", "banten", serial(crt)), ("enc", "banten", serial(enc))]


def test_enc_rotates_only_the_encryption_key(ca, tmp_path):
    crt, key = issue(ca, "node", "banten")
    enc, ekey = ca / "nodes" / "banten.enc.pem", ca / "nodes" / "banten.enc.key"
    old = tmp_path / "old.enc.pem"
    shutil.copy(enc, old)
    before = ekey.read_bytes(), crt.read_bytes()

    p = run(ca, "enc", "banten", check=1)
    assert p.stderr == (f"jalin-ca: node 'banten': encryption certificate "
                        f"{ca}/nodes/banten.enc.pem already exists (use "
                        "--force to re-issue)\n")
    assert (ekey.read_bytes(), crt.read_bytes()) == before

    p = run("--force", ca, "enc", "banten", check=0)
    assert p.stdout.splitlines() == [str(enc), str(ekey)]
    assert (f"previous encryption certificate (serial {serial(old)}) "
            "revoked" in p.stderr)
    assert ekey.read_bytes() != before[0]
    assert crt.read_bytes() == before[1]
    assert mode(ekey) == 0o600
    ok, out = verify_crl(ca, old)
    assert not ok and "certificate revoked" in out, out
    ok, out = verify_crl(ca, enc)
    assert ok, out
    ok, out = verify_crl(ca, crt)
    assert ok, out

    # only for an existing node
    p = run(ca, "enc", "nobody", check=1)
    assert ("jalin-ca: node 'nobody': no valid certificate for node "
            f"'nobody' in {ca}/index.txt") in p.stderr
    run("--", ca, "enc", "Bad", check=2)


def test_roster_holds_every_current_encryption_certificate(ca):
    issue(ca, "node", "banten")
    issue(ca, "node", "jabar")
    issue(ca, "node", "papua")
    issue(ca, "admin", "siti")
    run(ca, "revoke", "papua", check=0)
    run("--force", ca, "enc", "jabar", check=0)
    p = run(ca, "roster", check=0)
    assert p.stdout == f"{ca}/roster.pem\n"
    assert "holds 2 encryption certificate(s)" in p.stderr
    roster = (ca / "roster.pem").read_text()
    assert mode(ca / "roster.pem") == 0o644
    pems = ["-----BEGIN CERTIFICATE-----" + b
            for b in roster.split("-----BEGIN CERTIFICATE-----")[1:]]
    got = sorted(pems)
    want = sorted((ca / "nodes" / f"{n}.enc.pem").read_text()
                  for n in ("banten", "jabar"))
    assert got == want


@pytest.mark.parametrize("bad", [
    "../x", "A", "", "a" * 65, "-x", "_x", "a/b", "a b", ".", "..",
    "banten.", "x\ny", "ümit",
])
@pytest.mark.parametrize("kind", ["node", "admin"])
def test_bad_names_refused(ca, kind, bad):
    p = run("--", ca, kind, bad, check=2)
    assert p.stderr.startswith(f"jalin-ca: {kind} '{bad}': invalid name "
                               f"(must match {NAME_RULE}")
    assert p.stdout == ""
    assert list((ca / "nodes").iterdir()) == []
    assert list((ca / "admins").iterdir()) == []
    assert not (ca / "x.pem").exists() and not (ca / "x.key").exists()
    assert (ca / "index.txt").read_text() == ""


def test_name_limits(ca):
    issue(ca, "node", "a" * 64)
    issue(ca, "node", "0")
    issue(ca, "node", "lks-bandung_2")


def test_days_option(ca):
    crt, _ = issue(ca, "node", "short", "--days", "10")
    assert 9.9 < days_from_now(not_after(crt)) <= 10
    crt, _ = issue(ca, "admin", "temp", "--days=1")
    assert 0.9 < days_from_now(not_after(crt)) <= 1
    # A leaf may not outlive its CA.
    p = run("--days", "4000", ca, "node", "long", check=1)
    assert "node 'long': 4000 days would outlive the CA certificate" in \
        p.stderr
    assert "use a smaller --days" in p.stderr
    assert not (ca / "nodes" / "long.key").exists()


# --- revoke, crl, list ------------------------------------------------------


def test_revoke_and_crl(ca):
    a, _ = issue(ca, "node", "aceh")
    b, _ = issue(ca, "node", "bali")
    adm, _ = issue(ca, "admin", "siti")
    for c in (a, b, adm):
        ok, out = verify_crl(ca, c)
        assert ok, out

    p = run(ca, "revoke", "aceh", check=0)
    assert p.stdout == (f"node aceh {serial(a)}\n"
                        f"enc aceh {serial(ca / 'nodes' / 'aceh.enc.pem')}\n")
    ok, out = verify_crl(ca, a)
    assert not ok and "certificate revoked" in out, out
    ok, out = verify_crl(ca, b)
    assert ok, out
    # Without the CRL check the revoked certificate still chains: the CRL
    # is what carries the revocation.
    ok, out = verify(ca, a)
    assert ok, out
    # The files stay (a re-issue needs --force).
    assert a.exists()

    # An admin is named admin:NAME; a plain NAME means a node, and the
    # error says so.
    p = run(ca, "revoke", "siti", check=1)
    assert ("no certificate for node 'siti'" in p.stderr and
            "did you mean 'admin:siti'" in p.stderr)
    p = run(ca, "revoke", "admin:siti", check=0)
    assert p.stdout == f"admin siti {serial(adm)}\n"
    ok, out = verify_crl(ca, adm)
    assert not ok and "certificate revoked" in out, out
    # node:NAME is the explicit form.
    run(ca, "revoke", "node:bali", check=0)
    ok, _ = verify_crl(ca, b)
    assert not ok

    p = run(ca, "revoke", "aceh", check=1)
    assert "node 'aceh': already revoked" in p.stderr
    p = run(ca, "revoke", "nobody", check=1)
    assert p.stderr == (f"jalin-ca: revoke: no certificate for node 'nobody' "
                        f"in {ca}/index.txt\n")
    p = run(ca, "revoke", "admin:../x", check=2)
    assert "admin '../x': invalid name" in p.stderr

    # After a revoke, the same name gets a fresh certificate with --force.
    crt, _ = issue(ca, "node", "aceh", "--force")
    ok, out = verify_crl(ca, crt)
    assert ok, out


def test_crl_command(ca):
    def crl_number():
        t = ossl("crl", "-in", ca / "crl.pem", "-noout", "-crlnumber").stdout
        return int(t.strip().split("=", 1)[1], 16)

    n0 = crl_number()
    a, _ = issue(ca, "node", "aceh")
    run(ca, "revoke", "aceh", check=0)
    n1 = crl_number()
    assert n1 > n0
    p = run(ca, "crl", check=0)
    assert p.stdout == f"{ca}/crl.pem\n"
    assert "valid until" in p.stderr and "re-run" in p.stderr
    assert crl_number() > n1
    assert mode(ca / "crl.pem") == 0o644
    ok, _ = verify_crl(ca, a)
    assert not ok
    p = ossl("crl", "-in", ca / "crl.pem", "-CAfile", ca / "ca.pem", "-noout")
    assert "verify OK" in p.stdout + p.stderr


def test_list_statuses_text_and_json(ca, tmp_path):
    assert run(ca, "list", check=0).stdout == ""
    assert json.loads(run("--json", ca, "list", check=0).stdout) == []

    n, _ = issue(ca, "node", "banten")
    r, _ = issue(ca, "node", "papua")
    adm, _ = issue(ca, "admin", "siti")
    run(ca, "revoke", "papua", check=0)
    # An expired certificate, made with plain `openssl ca` from the
    # generated openssl.cnf (which must therefore work on its own).
    ossl("req", "-new", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout", tmp_path / "old.key",
         "-subj", "/CN=lama", "-out", tmp_path / "old.csr")
    ossl("ca", "-batch", "-config", "openssl.cnf", "-notext", "-startdate",
         "20200101000000Z", "-enddate", "20210101000000Z", "-in",
         tmp_path / "old.csr", "-out", tmp_path / "old.pem", cwd=ca)

    lines = run(ca, "list", check=0).stdout.splitlines()
    rows = [ln.split() for ln in lines]
    assert all(len(r_) == 5 for r_ in rows), lines
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    assert all(iso.match(r_[4]) for r_ in rows), lines
    got = [(r_[0], r_[1], r_[2], r_[3]) for r_ in rows]
    nodes = ca / "nodes"
    assert got == [
        ("node", "banten", serial(n), "valid"),
        ("enc", "banten", serial(nodes / "banten.enc.pem"), "valid"),
        ("node", "papua", serial(r), "revoked"),
        ("enc", "papua", serial(nodes / "papua.enc.pem"), "revoked"),
        ("admin", "siti", serial(adm), "valid"),
        ("node", "lama", serial(tmp_path / "old.pem"), "expired"),
    ]
    assert rows[5][4] == "2021-01-01T00:00:00Z"
    assert rows[0][4] == not_after(n).strftime("%Y-%m-%dT%H:%M:%SZ")

    data = json.loads(run(ca, "list", "--json", check=0).stdout)
    assert [(d["kind"], d["name"], d["serial"], d["status"], d["not_after"])
            for d in data] == [tuple(r_) for r_ in rows]
    assert data[2]["revoked_at"] is not None
    assert iso.match(data[2]["revoked_at"])
    assert data[0]["revoked_at"] is None


# --- standard X.509 ---------------------------------------------------------


def plain_openssl_cert(ca, tmp_path, name):
    """A node certificate made with plain openssl commands and the CA key."""
    key, csr, crt = (tmp_path / f"{name}.key", tmp_path / f"{name}.csr",
                     tmp_path / f"{name}.pem")
    ext = tmp_path / f"{name}.ext"
    ext.write_text("basicConstraints = critical, CA:FALSE\n"
                   "keyUsage = critical, digitalSignature\n"
                   "extendedKeyUsage = serverAuth, clientAuth\n"
                   f"subjectAltName = DNS:{name}\n")
    ossl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    ossl("req", "-new", "-key", key, "-subj", f"/CN={name}", "-out", csr)
    ossl("x509", "-req", "-in", csr, "-CA", ca / "ca.pem", "-CAkey",
         ca / "ca.key", "-CAcreateserial", "-CAserial", tmp_path / "ser",
         "-days", "30", "-sha256", "-extfile", ext, "-out", crt)
    return crt, key


def test_certificate_made_by_plain_openssl_verifies(ca, tmp_path):
    crt, _ = plain_openssl_cert(ca, tmp_path, "manual")
    for purpose in ("sslserver", "sslclient"):
        ok, out = verify(ca, crt, "-purpose", purpose)
        assert ok, out
    ok, out = verify_crl(ca, crt)
    assert ok, out


# --- mutual TLS 1.3 ---------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """openssl s_server as a node would be: TLS 1.3 only, client certificate
    required and checked against the CA and the CRL; echoes lines
    reversed."""

    def __init__(self, ca, cert, key, logdir):
        self.log = logdir / f"s_server-{cert.stem}.log"
        for _ in range(5):
            self.port = free_port()
            with open(self.log, "w") as f:
                self.proc = subprocess.Popen(
                    ["openssl", "s_server", "-tls1_3", "-Verify", "1",
                     "-verify_return_error", "-CAfile", str(ca / "ca.pem"),
                     "-crl_check", "-CRL", str(ca / "crl.pem"),
                     "-cert", str(cert), "-key", str(key), "-rev",
                     "-accept", f"127.0.0.1:{self.port}"],
                    stdin=subprocess.DEVNULL, stdout=f, stderr=f)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if "ACCEPT" in self.log.read_text():
                    return
                time.sleep(0.05)
            self.stop()  # port taken meanwhile, or slow: try another
        pytest.fail(f"s_server did not start:\n{self.log.read_text()}")

    def output(self):
        return self.log.read_text()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def servers(tmp_path):
    started = []

    def start(ca, cert, key):
        s = Server(ca, cert, key, tmp_path)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def client_ctx(ca, cert=None, key=None, crl=True):
    """A client as a node dials a peer: TLS 1.3, server name checked against
    the certificate, CA and CRL loaded, leaf revocation checked."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(cafile=str(ca / "ca.pem"))
    if crl:
        ctx.load_verify_locations(cafile=str(ca / "crl.pem"))
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    if cert:
        ctx.load_cert_chain(str(cert), str(key))
    return ctx


def exchange(server, ctx, hostname, check_hostname=True):
    """Handshake and one round trip; returns (tls version, peer cert, reply)."""
    ctx.check_hostname = check_hostname
    with socket.create_connection(("127.0.0.1", server.port),
                                  timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=hostname) as tls:
            version, peer = tls.version(), tls.getpeercert()
            tls.sendall(b"selamat pagi\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = tls.recv(100)
                if not chunk:
                    break
                reply += chunk
            return version, peer, reply


def test_mutual_tls13_between_two_nodes(ca, servers):
    s_crt, s_key = issue(ca, "node", "jabar")
    c_crt, c_key = issue(ca, "node", "banten")
    srv = servers(ca, s_crt, s_key)
    version, peer, reply = exchange(srv, client_ctx(ca, c_crt, c_key),
                                    "jabar")
    assert version == "TLSv1.3"
    assert peer["subject"] == ((("commonName", "jabar"),),)
    assert peer["subjectAltName"] == (("DNS", "jabar"),)
    assert reply == b"igap tamales\n", srv.output()
    # The server verified the client's certificate.
    out = srv.output()
    assert "Peer certificate: CN = banten" in out, out
    assert "Verification: OK" in out, out
    assert "Protocol version: TLSv1.3" in out, out


def test_mutual_tls13_with_openssl_s_client(ca, servers):
    s_crt, s_key = issue(ca, "node", "jabar")
    c_crt, c_key = issue(ca, "node", "banten")
    srv = servers(ca, s_crt, s_key)
    p = subprocess.run(
        ["openssl", "s_client", "-brief", "-tls1_3", "-connect",
         f"127.0.0.1:{srv.port}", "-CAfile", str(ca / "ca.pem"),
         "-cert", str(c_crt), "-key", str(c_key), "-verify_return_error",
         "-verify_hostname", "jabar"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "Protocol version: TLSv1.3" in out, out
    assert "Verification: OK" in out, out
    assert "Verified peername: jabar" in out, out


def test_tls_server_name_must_match_node_name(ca, servers):
    s_crt, s_key = issue(ca, "node", "jabar")
    c_crt, c_key = issue(ca, "node", "banten")
    srv = servers(ca, s_crt, s_key)
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        exchange(srv, client_ctx(ca, c_crt, c_key), "banten")


def test_tls_plain_openssl_client_certificate_accepted(ca, servers,
                                                      tmp_path):
    s_crt, s_key = issue(ca, "node", "jabar")
    c_crt, c_key = plain_openssl_cert(ca, tmp_path, "manual")
    srv = servers(ca, s_crt, s_key)
    version, _, reply = exchange(srv, client_ctx(ca, c_crt, c_key), "jabar")
    assert (version, reply) == ("TLSv1.3", b"igap tamales\n")
    assert "Peer certificate: CN = manual" in srv.output()


def rejected(srv, ctx, hostname):
    """True if the server refused the client. In TLS 1.3 the client's
    handshake finishes before the server has checked the client certificate,
    so the refusal shows up as an alert (or EOF) on the first read."""
    try:
        _, _, reply = exchange(srv, ctx, hostname)
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return True
    return reply == b""


def test_tls_revoked_client_refused(ca, servers):
    s_crt, s_key = issue(ca, "node", "jabar")
    c_crt, c_key = issue(ca, "node", "banten")
    run(ca, "revoke", "banten", check=0)
    srv = servers(ca, s_crt, s_key)  # loads the new CRL
    assert rejected(srv, client_ctx(ca, c_crt, c_key), "jabar")
    assert "certificate revoked" in srv.output(), srv.output()


def test_tls_client_without_certificate_or_foreign_ca_refused(
        ca, servers, tmp_path):
    s_crt, s_key = issue(ca, "node", "jabar")
    srv = servers(ca, s_crt, s_key)
    assert rejected(srv, client_ctx(ca), "jabar")
    other = tmp_path / "other ca"
    run(other, "init", check=0)
    f_crt, f_key = issue(other, "node", "banten")
    assert rejected(srv, client_ctx(ca, f_crt, f_key), "jabar")


def test_tls_revoked_server_refused_by_client(ca, servers):
    s_crt, s_key = issue(ca, "node", "jabar")
    c_crt, c_key = issue(ca, "node", "banten")
    run(ca, "revoke", "jabar", check=0)
    srv = servers(ca, s_crt, s_key)
    with pytest.raises(ssl.SSLCertVerificationError, match="revoked"):
        exchange(srv, client_ctx(ca, c_crt, c_key), "jabar")


def test_tls_admin_is_a_client_but_never_a_server(ca, servers):
    s_crt, s_key = issue(ca, "node", "jabar")
    a_crt, a_key = issue(ca, "admin", "siti")
    srv = servers(ca, s_crt, s_key)
    version, _, reply = exchange(srv, client_ctx(ca, a_crt, a_key), "jabar")
    assert (version, reply) == ("TLSv1.3", b"igap tamales\n")
    assert "Peer certificate: CN = admin:siti" in srv.output()

    # A server presenting the admin certificate fails the client's purpose
    # check (serverAuth missing), even with host name checking off.
    bad = servers(ca, a_crt, a_key)
    c_crt, c_key = issue(ca, "node", "banten")
    with pytest.raises(ssl.SSLCertVerificationError,
                       match="unsuitable certificate purpose"):
        exchange(bad, client_ctx(ca, c_crt, c_key), "siti",
                 check_hostname=False)


# --- ownership --------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to switch to 'nobody'")
def test_works_as_an_unprivileged_user(tmp_path):
    import pwd
    nobody = pwd.getpwnam("nobody")
    # tmp_path's parents are root-only: use a world-writable directory.
    base = Path(subprocess.check_output(
        ["mktemp", "-d", "/tmp/jalin-ca-test.XXXXXX"], text=True).strip())
    try:
        os.chmod(base, 0o777)
        d = base / "ca of nobody"
        # The checkout may sit where nobody cannot enter (CI clones under
        # /root, mode 0700): run a copy of the script from the open base.
        script = base / "jalin-ca"
        shutil.copy(SCRIPT, script)
        os.chmod(script, 0o755)
        cmd = ["setpriv", f"--reuid={nobody.pw_uid}",
               f"--regid={nobody.pw_gid}", "--clear-groups",
               "env", "HOME=/nonexistent", str(script)]
        for args in (["init"], ["node", "toraja"], ["admin", "ani"],
                     ["revoke", "admin:ani"], ["crl"], ["list"]):
            p = subprocess.run(cmd + [str(d)] + args, cwd=base,
                               capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, (args, p.stderr)
        for f in (d, d / "ca.key", d / "nodes" / "toraja.key"):
            assert os.stat(f).st_uid == nobody.pw_uid
        assert mode(d / "ca.key") == 0o600
        assert mode(d / "nodes" / "toraja.key") == 0o600
        ok, out = verify_crl(d, d / "nodes" / "toraja.pem")
        assert ok, out
        # A CA owned by someone else: one clear line naming the owner.
        root_ca = base / "root ca"
        run(root_ca, "init", check=0)
        p = subprocess.run(cmd + [str(root_ca), "node", "x"], cwd=base,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 1, p.stderr
        assert p.stderr == (
            f"jalin-ca: CA '{root_ca}': cannot enter directory '{root_ca}' "
            "(Permission denied; it belongs to 'root': run jalin-ca as that "
            "user)\n")
        p = subprocess.run(cmd + [str(root_ca / "sub"), "init"], cwd=base,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 1, p.stderr
        assert p.stderr == (f"jalin-ca: init: cannot create directory "
                            f"'{root_ca}/sub' (Permission denied)\n")
    finally:
        shutil.rmtree(base)
