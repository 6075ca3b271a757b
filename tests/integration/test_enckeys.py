"""Encryption keys (issue 14): each node's X25519 key pair certified by the
federation CA, and how nodes learn the keys of nodes they never peer with
(PROTOCOL.md section 13.3.1, node/keyring.c).

Real jalind processes, real certificates from certs/jalin-ca, real TLS on
127.0.0.1, real LMDB. The hostile peer is the independent client of
jalin_client.py, holding a real federation certificate (banten), sending
CERT messages of its choosing. No timing assertions: waits poll for a
state.
"""

import hashlib
import subprocess

import pytest

from conftest import JALIN_CA
from fed import federation, wait_until
from jalin_client import CERT, K_CERT, K_TYPE, PING, PONG, Peer

ENC_OID = "2.25.313918279293791988697213161871281793685"


def ossl(*args, cwd=None):
    p = subprocess.run(["openssl", *map(str, args)], capture_output=True,
                       cwd=cwd, timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout


def der(pem):
    return ossl("x509", "-in", pem, "-outform", "DER")


def kid_of(pem):
    """The key id jalinctl keys shows: SHA-256 of the raw X25519 public
    key (the last 32 bytes of its SubjectPublicKeyInfo), first 8 bytes."""
    spki = ossl("x509", "-in", pem, "-noout", "-pubkey")
    p = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                       input=spki, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return hashlib.sha256(p.stdout[-32:]).hexdigest()[:16]


def keys(node):
    return {k["name"]: k for k in node.ctl_json("keys")}


def enc_cert(ca, tmp_path, name, subj, signer=None, marker=True):
    """An X25519 certificate made with plain openssl: signed by signer
    (cert, key) or by the federation CA, with or without the jalin
    encryption marker."""
    key, pub = tmp_path / f"{name}.x.key", tmp_path / f"{name}.x.pub"
    ext, crt = tmp_path / f"{name}.ext", tmp_path / f"{name}.x.pem"
    ossl("genpkey", "-algorithm", "X25519", "-out", key)
    ossl("pkey", "-in", key, "-pubout", "-out", pub)
    lines = ["[ enc ]", "basicConstraints = critical, CA:FALSE",
             "keyUsage = critical, keyAgreement"]
    if marker:
        lines.append(f"extendedKeyUsage = {ENC_OID}")
    ext.write_text("\n".join(lines) + "\n")
    ca_crt, ca_key = signer or (ca.ca_pem, ca.path / "ca.key")
    ossl("x509", "-new", "-force_pubkey", pub, "-subj", subj, "-CA", ca_crt,
         "-CAkey", ca_key, "-days", "30", "-extfile", ext, "-extensions",
         "enc", "-out", crt)
    return crt



@pytest.fixture(autouse=True)
def learn_from_peers(ca):
    """These tests say where each key came from: no roster unless a test
    names one."""
    ca.use_roster = False
    yield
    ca.use_roster = True


# --- the chain: sulsel learns jabar's key through banten --------------------


def test_chain_learns_a_key_through_a_relay_and_keeps_it(make_node, ca):
    nodes = federation(make_node, {"jabar": 32, "banten": 36, "sulsel": 73},
                       [("jabar", "banten"), ("banten", "sulsel")])
    jabar, sulsel = nodes["jabar"], nodes["sulsel"]
    own = keys(jabar)["jabar"]
    assert own["source"] == "own"
    assert own["kid"] == kid_of(ca.path / "nodes" / "jabar.enc.pem")

    got = wait_until("sulsel to learn jabar's encryption key",
                     lambda: keys(sulsel).get("jabar"))
    assert got["source"] == "peer"
    assert got["kid"] == own["kid"]
    assert got["not_after"] == own["not_after"]
    assert keys(sulsel)["sulsel"]["source"] == "own"
    assert keys(sulsel)["banten"]["source"] == "peer"

    text = sulsel.ctl("keys").stdout.splitlines()
    assert text[0].split() == ["NAME", "KEY_ID", "SOURCE", "NOT_AFTER"]
    assert any(ln.split()[:3] == ["jabar", own["kid"], "peer"]
               for ln in text[1:]), text

    # Kept in the store: after a restart without any peer it still knows.
    sulsel.stop()
    sulsel.write_config(peers=[])
    sulsel.start()
    again = keys(sulsel)
    assert again["jabar"]["kid"] == own["kid"]
    assert again["jabar"]["source"] == "peer"


def test_roster_gives_keys_of_nodes_never_met(make_node, ca):
    ca.node("maluku")
    ca.node("papua")
    roster = ca.path / "roster.pem"
    ca.run("roster")
    n = make_node("jabar", 32)
    text = n.config_text().replace(
        f"crl = {ca.crl_pem}\n", f"crl = {ca.crl_pem}\nroster = {roster}\n")
    n.conf.write_text(text)
    n.start()
    k = keys(n)
    for name in ("maluku", "papua"):
        assert k[name]["source"] == "roster"
        assert k[name]["kid"] == kid_of(ca.path / "nodes" /
                                        f"{name}.enc.pem")
    assert k["jabar"]["source"] == "own"


# --- a node without a usable key of its own does not start -----------------


def start_fails(node, want):
    p = node.run_once("-f", "-c", node.conf)
    assert p.returncode == 1, p.stderr
    assert want in p.stderr, p.stderr
    assert "has no usable encryption key" in p.stderr, p.stderr
    return p.stderr


def with_tls(node, **keys):
    text = node.config_text()
    add = "".join(f"{k} = {v}\n" for k, v in keys.items())
    node.conf.write_text(text.replace(
        f"crl = {node.ca.crl_pem}\n", f"crl = {node.ca.crl_pem}\n{add}"))


def test_node_refuses_to_start_without_its_encryption_key(make_node, ca,
                                                          tmp_path):
    n = make_node("jabar", 32)
    missing = tmp_path / "nowhere.enc.key"
    with_tls(n, enc_key=missing)
    err = start_fails(n, f"cannot read '{missing}': No such file")
    assert "node jabar holds case records" in err
    assert "jalin-ca DIR enc jabar" in err
    # jalind -n says so before a restart would fail
    p = n.run_once("-n", "-c", n.conf)
    assert p.returncode == 1
    assert f"cannot read '{missing}': No such file" in p.stderr
    assert f"enc_key = {missing}" in p.stdout

    # another node's certificate: CN is not ours
    bk = ca.path / "nodes" / "banten.enc.pem"
    ca.node("banten")
    with_tls(n, enc_cert=bk)
    start_fails(n, f"encryption certificate '{bk}' is for 'banten', but "
                "[node] name is 'jabar'")

    # a TLS certificate is not an encryption certificate
    cert, key = ca.node("jabar")
    with_tls(n, enc_cert=cert)
    start_fails(n, f"encryption certificate '{cert}' refused: not an "
                "X25519 key")

    # a key that is not the certificate's
    with_tls(n, enc_key=ca.path / "nodes" / "banten.enc.key")
    start_fails(n, "does not match its certificate")

    # signed by another CA
    other = enc_cert(ca, tmp_path, "rogue", "/CN=jabar/OU=jalin-enc",
                     signer=(cert, key))
    with_tls(n, enc_cert=other)
    start_fails(n, "refused: unable to get local issuer certificate")

    # a node that holds no case or referral needs no key
    with_tls(n, enc_key=missing)
    text = n.conf.read_text() + "\n[peer banten]\ncollections = lks\n"
    n.conf.write_text(text)
    n.start()
    assert "jabar" not in keys(n)


# --- a hostile peer ------------------------------------------------------------


def read_until_pong(c):
    """Send PING; the messages before its PONG (what the node had queued
    for us before it read the PING)."""
    c.send({K_TYPE: PING, 47: 1})
    seen = []
    while True:
        m = c.recv()
        if m[K_TYPE] == PONG:
            return seen
        seen.append(m)


def hostile(node, ca, versions=(3, 4)):
    cert, key = ca.node("banten")
    c = Peer("127.0.0.1", node.port, str(ca.ca_pem), str(cert), str(key),
             node.name, "banten")
    c.hello(versions=versions)
    return c


def test_hostile_peer_certificates_refused(make_node, ca, tmp_path):
    # revoked before the node starts, so its CRL has it
    ca.node("gorontalo")
    revoked = ca.path / "nodes" / "gorontalo.enc.pem"
    ca.run("revoke", "gorontalo")
    ca.node("maluku")
    n = make_node("jabar", 32)
    n.write_config(peers=[{"name": "banten"}])
    n.start()

    c = hostile(n, ca)
    first = read_until_pong(c)
    sent = [m[K_CERT] for m in first if m[K_TYPE] == CERT]
    assert der(ca.path / "nodes" / "jabar.enc.pem") in sent

    rogue_ca = (ca.path / "nodes" / "banten.pem",
                ca.path / "nodes" / "banten.key")
    # a CA of its own under the federation CA's very name
    twin = tmp_path / "twin"
    subprocess.run([str(JALIN_CA), str(twin), "init"], check=True,
                   capture_output=True, timeout=60)
    bad = {
        "non-CA": enc_cert(ca, tmp_path, "a", "/CN=sulsel/OU=jalin-enc",
                           signer=rogue_ca),
        "twin CA": enc_cert(ca, tmp_path, "e", "/CN=sulbar/OU=jalin-enc",
                            signer=(twin / "ca.pem", twin / "ca.key")),
        "admin CN": enc_cert(ca, tmp_path, "b", "/CN=admin:siti"),
        "not a name": enc_cert(ca, tmp_path, "c", "/CN=Kantor Pusat"),
        "no marker": enc_cert(ca, tmp_path, "d", "/CN=papua", marker=False),
        "revoked": revoked,
    }
    for crt in bad.values():
        c.send({K_TYPE: CERT, K_CERT: der(crt)})
    c.send({K_TYPE: CERT, K_CERT: der(ca.path / "nodes" / "maluku.enc.pem")})
    read_until_pong(c)  # every CERT before the PING was handled

    log = n.log()
    for why in ["certificate of 'sulsel' refused: unable to get local "
                "issuer certificate",
                "certificate of 'sulbar' refused: unable to get local "
                "issuer certificate",
                "certificate of 'admin:siti' refused: its CN is not a node "
                "name",
                "certificate of '?' refused: its CN is not a node name",
                "certificate of 'papua' refused: no jalin encryption marker",
                "certificate of 'gorontalo' refused: certificate revoked"]:
        assert f"peer banten: encryption {why}" in log, log
    k = keys(n)
    assert set(k) == {"jabar", "maluku"}, k
    assert k["maluku"]["source"] == "peer"

    # a peer repeating itself: 16 lines (JALIN_REFUSAL_LOG_MAX) per
    # connection, no more
    for _ in range(20):
        c.send({K_TYPE: CERT, K_CERT: der(revoked)})
    read_until_pong(c)
    lines = [ln for ln in n.log().splitlines()
             if "peer banten: encryption certificate of" in ln]
    assert len(lines) == 16, lines
    assert lines[-1].endswith("(further refusals on this connection are "
                              "not logged)")

    # a signing certificate still takes the old path; the connection lives
    c.send({K_TYPE: CERT, K_CERT: der(ca.path / "nodes" / "banten.pem")})
    read_until_pong(c)
    assert n.running()
    c.close()


def test_protocol_3_peer_gets_no_encryption_certificates(make_node, ca):
    n = make_node("jabar", 32)
    n.write_config(peers=[{"name": "banten"}])
    n.start()
    c = hostile(n, ca, versions=(3, 3))
    assert [m for m in read_until_pong(c) if m[K_TYPE] == CERT] == []
    c.close()


def test_too_many_certificates_on_one_connection_close_it(make_node, ca):
    n = make_node("jabar", 32)
    n.write_config(peers=[{"name": "banten"}])
    n.start()
    c = hostile(n, ca)
    read_until_pong(c)
    one = der(ca.path / "nodes" / "jabar.enc.pem")
    for _ in range(256):  # JALIN_ENC_CERTS_MAX: ours, ignored
        c.send({K_TYPE: CERT, K_CERT: one})
    read_until_pong(c)
    c.send({K_TYPE: CERT, K_CERT: one})
    with pytest.raises(Exception):
        while True:
            m = c.recv()
            if m[K_TYPE] == 2:  # ERROR
                assert "more than 256 encryption certificates" in \
                    str(m), m
                raise RuntimeError("closed")
    n.wait_log("more than 256 encryption certificates")
    assert n.running()


def test_sighup_drops_a_key_revoked_since(make_node, ca):
    ca.node("kalteng")
    ca.node("kaltim")
    ca.run("roster")
    n = make_node("jabar", 32)
    with_tls(n, roster=ca.path / "roster.pem")
    n.start()
    assert keys(n)["kalteng"]["source"] == "roster"
    ca.run("revoke", "kalteng")
    n.signal(__import__("signal").SIGHUP)
    n.wait_log("keyring: encryption certificate of kalteng dropped: "
               "certificate revoked")
    wait_until("the reload to finish", lambda: "config: reloaded" in n.log())
    k = keys(n)
    assert "kalteng" not in k
    assert k["kaltim"]["source"] == "roster"
    assert k["jabar"]["source"] == "own"
