"""Make the format-2 store fixture (tests/vectors/store-format2/).

Run with the jalin that wrote store format 2 / record format 2 (jalin
0.2.0, commit 0f84620, the last one before record format 3), from
tests/integration:

    git worktree add /tmp/v02 0f84620 && make -C /tmp/v02
    cd tests/integration && JALIN_BUILD=/tmp/v02/build \\
        /usr/bin/python3 -m pytest -q ../vectors/store-format2/make_fixture.py

The same federation and writes as ../store-format1/make_fixture.py (three
nodes, lks and case records, several dots per record, a conflict, a delete
and a purge). jabar's data.mdb, its export, `get --versions` of each record
and its conflicts are written next to this file; test_upgrade.py upgrades a
copy and checks that nothing changed but the encoding.
"""

import json
import pathlib
import random
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]
                       / "integration"))

from conftest import (ca, case_record, jsonl, lks_record,  # noqa: E402,F401
                      make_node)
from fed import (export, federation, get, put, wait_converged,  # noqa: E402
                 wait_until)

OUT = pathlib.Path(__file__).resolve().parent
REGIONS3 = {"jabar": 32, "banten": 36, "sulsel": 73}


def test_make_fixture(make_node):
    nodes = federation(make_node, REGIONS3,
                       [("jabar", "banten"), ("banten", "sulsel")])
    j, b, s = nodes["jabar"], nodes["banten"], nodes["sulsel"]
    rng = random.Random(7)
    j.ctl("import", "-", input=jsonl(
        {"collection": "lks", **lks_record(i, rng)} for i in range(40)))
    ids = [r["id"] for r in map(json.loads, export(j, "lks").splitlines())]
    case = case_record(1, rng)
    case["share_with"] = ["banten"]
    cid = put(j, "case", case)
    wait_converged(nodes.values(), "lks")
    # later edits of some fields: several dots per record
    put(j, "lks", {"status": "inactive"}, ids[0])
    put(s, "lks", {"head.name": "Andi Baso Tenri"}, ids[0])
    put(b, "lks", {"contact.phone": "081234567890"}, ids[1])
    # the same field edited on both sides of a partition: a conflict
    wait_converged(nodes.values(), "lks")
    b.stop()
    put(j, "lks", {"address": "Jl. Asia Afrika No. 8, Kota Bandung"},
        ids[2])
    put(s, "lks", {"address": "Jl. Urip Sumoharjo No. 3, Kota Makassar"},
        ids[2])
    b.start()
    wait_converged(nodes.values(), "lks")
    j.ctl("delete", "lks", ids[3], "--reason", "duplicate")
    j.ctl("purge", "lks", ids[4], "--reason", "error")
    wait_converged(nodes.values(), "lks")
    wait_until("the case at banten", lambda: get(b, "case", cid, False))
    assert get(s, "case", cid, check=False) is None  # not shared there
    (OUT / "export.jsonl").write_text(export(j))
    versions = {rid: json.loads(j.ctl("--json", "get", "--versions", "lks",
                                      rid).stdout)
                for rid in ids[:3]}
    (OUT / "versions.json").write_text(json.dumps(versions, indent=1,
                                                  sort_keys=True) + "\n")
    (OUT / "conflicts.json").write_text(
        json.dumps(j.ctl_json("conflicts"), indent=1, sort_keys=True) + "\n")
    (OUT / "ids.json").write_text(json.dumps(ids + [cid], indent=1) + "\n")
    for n in nodes.values():
        n.stop()
    shutil.copy(j.data_dir / "data.mdb", OUT / "data.mdb")
