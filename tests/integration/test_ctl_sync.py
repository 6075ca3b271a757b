"""jalinctl's view of sync: verify, status and peers in words, watch.

Two real nodes replicating over TLS. Waits poll for a state with generous
limits; nothing is timed.
"""

import json
import random
import re
import signal
import subprocess

from conftest import ENV, JALINCTL, ctl, lks_record, jsonl, sanitizer_report
from fed import federation, wait_converged, wait_live, wait_until

PAIR = {"jabar": 32, "banten": 36}


def import_lks(node, n, seed):
    rng = random.Random(seed)
    node.ctl("import", "-", input=jsonl(
        {"collection": "lks", **lks_record(i, rng)} for i in range(n)))


def verified(node, peer):
    """Run verify until it has a verdict on a quiet link (a check that
    meets changes in flight says so and is tried again)."""
    def once():
        p = node.ctl("verify", peer, check=False)
        return p if p.returncode == 0 else None
    return wait_until(f"{node.name} to verify {peer}", once, interval=1)


def test_verify_between_two_live_nodes(make_node):
    nodes = federation(make_node, PAIR, [("jabar", "banten")])
    j, b = nodes["jabar"], nodes["banten"]
    import_lks(j, 40, seed=1)
    import_lks(b, 30, seed=2)
    wait_converged(nodes.values())
    p = verified(j, "banten")
    assert re.fullmatch(r"banten: in sync: 70 records compared \(verified "
                        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\n", p.stdout), \
        p.stdout
    r = json.loads(j.ctl("--json", "verify", "banten").stdout)
    assert r["in_sync"] is True and r["peer"] == "banten"
    assert r["compared"] == 70 and r["differing"] == 0
    assert r["result"].startswith("in sync")
    # status and peers now say it was verified, not only replicated
    st = j.ctl("status").stdout
    assert re.search(r"peer banten \(127\.0\.0\.1:\d+\): in sync, "
                     r"verified (now|\d+s ago)", st), st
    assert "shared records found equal at" in st
    row = [x for x in j.ctl("peers").stdout.splitlines()
           if " banten " in x][0]
    assert "never" not in row and " live " in row


def test_verify_refusals(make_node):
    nodes = federation(make_node, PAIR, [("jabar", "banten")])
    j, b = nodes["jabar"], nodes["banten"]
    p = j.ctl("verify", "nobody", check=False)
    assert p.returncode == 1
    assert p.stderr == "jalinctl: 'nobody' is not a configured peer\n"
    b.stop()
    wait_until("banten down at jabar", lambda: j.ctl_json("status")[
        "peers"][0]["state"] in ("down", "connecting"))
    p = j.ctl("verify", "banten", check=False)
    assert p.returncode == 1
    assert p.stdout.startswith("banten: not verified: not connected")
    r = json.loads(j.ctl("--json", "verify", "banten", check=False).stdout)
    assert r["in_sync"] is False
    p = ctl("--db", j.data_dir, "verify", "banten")
    assert p.returncode == 2


def test_status_and_peers_say_what_is_behind_and_why(make_node):
    nodes = federation(make_node, PAIR, [("jabar", "banten")])
    j, b = nodes["jabar"], nodes["banten"]
    wait_live(j, "banten")
    b.stop()
    wait_until("banten down", lambda: j.ctl_json("status")["peers"][0][
        "state"] in ("down", "connecting"))
    import_lks(j, 25, seed=3)
    st = j.ctl_json("status")
    p = st["peers"][0]
    assert p["lag_records"] == 25 and p["last_error"]
    text = j.ctl("status").stdout
    assert re.search(r"peer banten \(127\.0\.0\.1:\d+\): (down|connecting)"
                     r", 25 changes to send, 0 to receive", text), text
    assert "25 changes not yet acknowledged" in text
    # the error itself may change between two looks (a redial fails)
    assert re.search(r"\n  last error   (?!none\n)\S", text), text
    assert "certificate  expires " in text
    for line in text.splitlines():  # 80 columns, but for a long path
        assert len(line) <= 80 or str(j.data_dir) in line, line
    table = j.ctl("peers").stdout.splitlines()
    assert table[0].split() == ["NAME", "STATE", "LAG_RECORDS",
                                "LAG_SECONDS", "IN_LAG", "LAST_CONTACT",
                                "VERIFIED_AT", "LAST_ERROR"]
    cells = table[1].split()
    assert cells[0] == "banten" and cells[2] == "25"
    assert [x["name"] for x in j.ctl_json("peers")] == ["banten"]
    b.start()
    wait_until("the lag to drain", lambda: j.ctl_json("status")["peers"][0][
        "lag_records"] == 0)
    assert "nothing waiting" in j.ctl("status").stdout


def test_certificate_expiring_soon_is_a_warning(make_node, ca):
    ca.run("--days", "10", "node", "sulbar")  # before make_node issues it
    nodes = federation(make_node, {"jabar": 32, "sulbar": 76},
                       [("sulbar", "jabar")])
    j = nodes["jabar"]
    wait_live(j, "sulbar")
    p = j.ctl_json("status")["peers"][0]
    assert p["cert_warning"] is True and p["cert_expires_in_days"] in (9, 10)
    text = j.ctl("status").stdout
    assert "WARNING: expires in" in text
    assert re.search(r"\nWARNING: the certificate of peer sulbar expires in "
                     r"(9|10) days", text), text
    peers = j.ctl("peers").stdout.splitlines()
    assert re.match(r"!\s+sulbar\s+live\s", peers[1]), peers[1]
    assert peers[-1].startswith("! the certificate of peer sulbar expires")


def test_watch_without_a_terminal_prints_status_blocks(node):
    p = node.ctl("watch", "--interval", "1", "--count", "2")
    blocks = p.stdout.split("\n\n" + "watch: ")
    assert len(blocks) == 2, p.stdout
    for b in blocks:
        assert "node         jabar" in b and "seq          " in b
    assert re.match(r"watch: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n", p.stdout)
    assert "\033" not in p.stdout  # no terminal codes into a file
    lines = node.ctl("--json", "watch", "--interval", "1", "--count",
                     "3").stdout.splitlines()
    assert len(lines) == 3
    assert all(json.loads(x)["node"] == "jabar" for x in lines)


def test_watch_ends_cleanly_on_sigint(node):
    proc = subprocess.Popen(
        [str(JALINCTL), "-c", str(node.conf), "watch", "--interval", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    first = proc.stdout.readline()
    assert first.startswith("watch: ")
    while "node         jabar" not in proc.stdout.readline():
        pass
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert sanitizer_report(err) is None, err


def test_watch_keeps_trying_when_the_node_goes_away(node):
    node.stop()
    p = node.ctl("watch", "--interval", "1", "--count", "2", check=False)
    assert p.returncode == 3
    assert p.stdout.count("the node did not answer") == 2
    assert p.stderr.count("cannot reach the node at") == 2
