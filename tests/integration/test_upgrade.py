"""Upgrade: stores written by earlier jalin (0.1: store and record format
1, tests/vectors/store-format1; 0.2: store and record format 2,
tests/vectors/store-format2; each made by its make_fixture.py with that
version's jalind) are upgraded in place when jalind opens them, with
nothing changed but the encoding, and then replicate like any other
store."""

import json
import time
import pathlib
import shutil

import pytest

from conftest import ctl
from fed import export, federation, get, wait_converged

VECTORS = pathlib.Path(__file__).resolve().parents[1] / "vectors"


def fixture(fmt, name):
    return json.loads((VECTORS / f"store-format{fmt}" / name).read_text())


def install_fixture(fmt, node):
    node.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(VECTORS / f"store-format{fmt}" / "data.mdb",
                node.data_dir / "data.mdb")
    (node.data_dir / "data.mdb").chmod(0o600)


@pytest.mark.parametrize("fmt", [1, 2])
def test_an_older_store_is_upgraded_and_nothing_else_changes(make_node, fmt):
    # the fixture's writes were made under the older rules, when any
    # office could write any lks (PROTOCOL.md 8.2: write_authority_from)
    cut = {"write_authority_from": str(int(time.time()))}
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")], start=False,
                       node_keys={"jabar": cut, "banten": cut})
    j, b = nodes["jabar"], nodes["banten"]
    install_fixture(fmt, j)
    # read-only opens say what to do rather than misread it
    p = ctl("--db", j.data_dir, "digest", check=False)
    assert p.returncode != 0
    assert f"has format {fmt}, from an older jalind; start this version " \
        "of jalind on it once to upgrade it to format 3" in p.stderr, \
        p.stderr
    j.start()
    j.wait_log("upgraded to format 3 (41 record states written again in "
               "record format 3)")
    # the same records, values, versions and conflicts as before
    assert export(j) == (VECTORS / f"store-format{fmt}" /
                         "export.jsonl").read_text()
    for rid, want in fixture(fmt, "versions.json").items():
        got = json.loads(j.ctl("--json", "get", "--versions", "lks",
                               rid).stdout)
        assert got == want
    assert j.ctl_json("conflicts") == fixture(fmt, "conflicts.json")
    # a replica made from it holds the same bytes: the upgraded states are
    # the canonical format 3 (equal digests of everything shared)
    b.start()
    wait_converged([j, b])
    assert export(b) == export(j)
    ids = fixture(fmt, "ids.json")
    assert get(b, "case", ids[-1])["share_with"] == ["banten"]
    assert get(b, "lks", ids[4], check=False) is None  # purged
    # once is enough: a restart finds format 3 and writes nothing
    j.stop()
    j.start()
    assert j.log().count("upgraded to format 3") == 1
    assert ctl("--db", j.data_dir, "digest", check=False).returncode == 0
