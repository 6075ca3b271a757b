"""The writes behind the store fixtures (store-format*/make_fixture.py).

Three nodes (jabar, banten, sulsel in a chain) write lks and case records:
edits of different fields at different times (records with several dots,
some behind the origin's context), concurrent edits of one field while
banten is down (a conflict, two origins), a delete and a purge. jabar's
data.mdb, its export, `get --versions` of each record and its conflicts
are written to the fixture's directory; test_upgrade.py upgrades a copy
and checks that nothing changed but the encoding.
"""

import json
import pathlib
import random
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]
                       / "integration"))

from conftest import case_record, jsonl, lks_record  # noqa: E402
from fed import (export, federation, get, put, wait_converged,  # noqa: E402
                 wait_until)

REGIONS3 = {"jabar": 32, "banten": 36, "sulsel": 73}


def write_fixture(make_node, out):
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
    (out / "export.jsonl").write_text(export(j))
    versions = {rid: json.loads(j.ctl("--json", "get", "--versions", "lks",
                                      rid).stdout)
                for rid in ids[:3]}
    (out / "versions.json").write_text(json.dumps(versions, indent=1,
                                                  sort_keys=True) + "\n")
    (out / "conflicts.json").write_text(
        json.dumps(j.ctl_json("conflicts"), indent=1, sort_keys=True) + "\n")
    (out / "ids.json").write_text(json.dumps(ids + [cid], indent=1) + "\n")
    for n in nodes.values():
        n.stop()
    shutil.copy(j.data_dir / "data.mdb", out / "data.mdb")
