"""Logs and terminals: what a peer sends is escaped before it is shown.

The independent client (jalin_client.py) is a hostile configured peer: its
ERROR text holds a newline and a forged-looking log line, terminal escape
sequences and other controls, beside Indonesian text that must stay
readable. jalind's log (its stderr, with -f) must hold it on one line,
escaped; jalinctl's text output must show it escaped too, and its JSON
output must carry it intact, by JSON's rules.
"""

import json
import struct

import msgpack
import pytest

from conftest import lks_record
from fed import peer_status, put, wait_until
from jalin_client import ERROR, K_ERROR, K_STATUS, K_TYPE, Peer

FORGED = "2026-12-07T10:00:00.000Z jalind[1] notice: peer banten: up"
HOSTILE = ("bye\n" + FORGED + "\r\x1b[2J\x1b]0;owned\x07\tdel\x7f "
           "c1\u009b bidi\u202e Dinas Sosial Kabupaten Mamasa – ꦗꦮ")
ESCAPED = ("bye\\n" + FORGED + "\\r\\x1b[2J\\x1b]0;owned\\x07\\tdel\\x7f "
           "c1\\xc2\\x9b bidi\\xe2\\x80\\xae Dinas Sosial Kabupaten Mamasa "
           "– ꦗꦮ")
CONTROLS = [b"\x1b", b"\x07", b"\r", b"\x7f", b"\xc2\x9b", b"\xe2\x80\xae"]


@pytest.fixture
def jabar(make_node):
    """jabar, with sulsel configured as a peer that dials in."""
    j = make_node("jabar", 32)
    j.write_config(peers=[{"name": "sulsel"}])
    return j.start()


def hostile(j, ca):
    cert, key = ca.node("sulsel")
    p = Peer("127.0.0.1", j.port, str(ca.ca_pem), str(cert), str(key),
             "jabar", "sulsel")
    p.hello()
    return p


def send_error_frame(p, text):
    """ERROR with a str of these raw bytes (UTF-8 or not)."""
    n = len(text)
    head = (bytes([0xa0 | n]) if n < 32 else bytes([0xd9, n]) if n < 256
            else b"\xda" + struct.pack(">H", n))
    body = (b"\x83" + msgpack.packb(K_TYPE) + msgpack.packb(ERROR) +
            msgpack.packb(K_STATUS) + msgpack.packb(-8) +
            msgpack.packb(K_ERROR) + head + text)
    p.send_raw(struct.pack(">I", len(body)) + body)


def log_bytes(j):
    return j.logfile.read_bytes()


def wait_logged(j, needle):
    return wait_until(f"{j.name} to log {needle!r}",
                      lambda: needle.encode() in log_bytes(j))


def test_peer_error_text_is_one_escaped_log_line(jabar, ca):
    p = hostile(jabar, ca)
    p.send({K_TYPE: ERROR, K_STATUS: -8, K_ERROR: HOSTILE})
    p.close()
    wait_logged(jabar, "error from peer: bye")
    lines = log_bytes(jabar).split(b"\n")
    hit = [ln for ln in lines if b"error from peer: bye" in ln]
    assert len(hit) == 1, hit
    assert hit[0].decode().endswith(
        "warning: peer sulsel: error from peer: " + ESCAPED), hit[0]
    # the forged line is not a line of its own, and no control is left
    assert not any(ln.startswith(FORGED.encode()) for ln in lines)
    for c in CONTROLS:
        assert c not in log_bytes(jabar), c
    # the node keeps serving its admins
    assert jabar.ctl_json("status")["node"] == "jabar"


def test_peer_error_that_is_not_utf8_is_escaped(jabar, ca):
    p = hostile(jabar, ca)
    send_error_frame(p, b"bad \xff\xfe\xc3( end\nnext")
    p.close()
    wait_logged(jabar, "error from peer: bad")
    hit = [ln for ln in log_bytes(jabar).split(b"\n")
           if b"error from peer: bad" in ln]
    assert len(hit) == 1, hit
    assert hit[0].endswith(
        b"error from peer: bad \\xff\\xfe\\xc3( end\\nnext"), hit[0]
    assert jabar.ctl_json("status")["node"] == "jabar"


def test_jalinctl_shows_a_peers_error_escaped(jabar, ca):
    p = hostile(jabar, ca)
    p.send({K_TYPE: ERROR, K_STATUS: -8, K_ERROR: HOSTILE})
    p.close()
    wait_until("sulsel's last error",
               lambda: peer_status(jabar, "sulsel").get("last_error"))
    # JSON: the text as it came (or escaped once by the node), by JSON's
    # rules: the raw output holds no control character
    raw = jabar.ctl("--json", "status").stdout
    for c in CONTROLS:
        assert c.decode() not in raw, c
    err = json.loads(raw)["peers"][0]["last_error"]
    assert "\n" not in err and "\x1b" not in err
    assert "Dinas Sosial Kabupaten Mamasa – ꦗꦮ" in err
    # text: escaped, on its labelled lines
    for args in (("status",), ("peers",)):
        out = jabar.ctl(*args).stdout
        for c in CONTROLS:
            assert c.decode() not in out, (args, c)
        assert FORGED not in out.splitlines()
        assert "\\x1b[2J" in out, out
        assert "ꦗꦮ" in out, out


def test_jalinctl_shows_record_values_escaped(node):
    # a value anyone may have typed (or a peer relayed): text output
    # escapes it, JSON output keeps it exactly, by JSON's rules
    name = "Yayasan\x1b[31m Kasih\x7f Bunda\u009b\u202e\nPanti – ꦗꦮ"
    rid = put(node, "lks", lks_record(1, name=name))
    for args in (("get", "lks", rid), ("--json", "get", "lks", rid),
                 ("list", "lks"), ("--json", "list", "lks")):
        out = node.ctl(*args).stdout
        for c in CONTROLS:
            assert c.decode() not in out, (args, c)
        assert "ꦗꦮ" in out, (args, out)
    for args in (("get", "lks", rid), ("--json", "get", "lks", rid)):
        assert json.loads(node.ctl(*args).stdout)["name"] == name, args
    assert ("Yayasan\\x1b[31m Kasih\\x7f Bunda\\xc2\\x9b\\xe2\\x80\\xae"
            "\\nPanti – ꦗꦮ") in node.ctl("list", "lks").stdout


def test_jalinctl_diagnostics_are_escaped(node):
    # a node's error text quotes what it was sent; jalinctl's stderr
    # shows it escaped
    p = node.ctl("verify", "sul\x1b[2Jsel\u202e", check=False)
    assert p.returncode == 1, p
    assert "\x1b" not in p.stderr and "\u202e" not in p.stderr, p.stderr
    assert "sul\\x1b[2Jsel\\xe2\\x80\\xae" in p.stderr, p.stderr
