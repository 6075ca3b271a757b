"""Upgrade: a store written by the previous jalin (store format 1, record
format 1; tests/vectors/store-format1, made by its make_fixture.py) is
upgraded in place when jalind opens it, with nothing changed but the
encoding, and then replicates like any other store."""

import json
import pathlib
import shutil

from conftest import ctl
from fed import export, federation, get, wait_converged

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "vectors" \
    / "store-format1"


def fixture(name):
    return json.loads((FIXTURE / name).read_text())


def install_fixture(node):
    node.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE / "data.mdb", node.data_dir / "data.mdb")
    (node.data_dir / "data.mdb").chmod(0o600)


def test_a_format_1_store_is_upgraded_and_nothing_else_changes(make_node):
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")], start=False)
    j, b = nodes["jabar"], nodes["banten"]
    install_fixture(j)
    # read-only opens say what to do rather than misread it
    p = ctl("--db", j.data_dir, "digest", check=False)
    assert p.returncode != 0
    assert "has format 1, from an older jalind; start this version of " \
        "jalind on it once to upgrade it to format 2" in p.stderr, p.stderr
    j.start()
    j.wait_log("upgraded to format 2 (41 record states written again in "
               "record format 2)")
    # the same records, values, versions and conflicts as before
    assert export(j) == (FIXTURE / "export.jsonl").read_text()
    for rid, want in fixture("versions.json").items():
        got = json.loads(j.ctl("--json", "get", "--versions", "lks",
                               rid).stdout)
        assert got == want
    assert j.ctl_json("conflicts") == fixture("conflicts.json")
    # a replica made from it holds the same bytes: the upgraded states are
    # the canonical format 2 (equal digests of everything shared)
    b.start()
    wait_converged([j, b])
    assert export(b) == export(j)
    ids = fixture("ids.json")
    assert get(b, "case", ids[-1])["share_with"] == ["banten"]
    assert get(b, "lks", ids[4], check=False) is None  # purged
    # once is enough: a restart finds format 2 and writes nothing
    j.stop()
    j.start()
    assert j.log().count("upgraded to format 2") == 1
    assert ctl("--db", j.data_dir, "digest", check=False).returncode == 0
