"""doc/json.md against what jalinctl --json really prints.

Each documented command runs against real nodes (a chain of three, with a
conflict, a verified link and a node that cannot be reached), and the
field paths it prints are compared with the tables of doc/json.md in both
directions: an undocumented field fails, and so does a documented one that
never appears (unless the doc marks it optional, or it sits under an
object the doc says may be null).
"""

import json
import random
import re

import pytest

from conftest import REPO, case_record, ctl, lks_record
from fed import (federation, get, put, wait_converged, wait_live,
                 wait_until)

DOC = REPO / "doc" / "json.md"
CHAIN = {"jabar": 32, "banten": 36, "sulsel": 73}


def doc_tables():
    """{command: {path: type}} from the '## `jalinctl X --json`'
    sections."""
    tables, cmd = {}, None
    for line in DOC.read_text().splitlines():
        m = re.match(r"## `jalinctl (\w+)[^`]*--json`", line)
        if m:
            cmd = m.group(1)
            tables[cmd] = {}
            continue
        if line.startswith("## "):
            cmd = None
        m = re.match(r"\| `([^`]+)` \| ([^|]+) \|", line)
        if cmd and m:
            tables[cmd][m.group(1)] = m.group(2).strip()
    return tables


def optional(table, path, text=None):
    """True when the doc does not promise path in every answer."""
    if "(optional)" in (text or DOC_ROWS.get(path, "")):
        return True
    parts = re.split(r"(?=\.)|(?=\[\])", path)
    for i in range(1, len(parts)):
        parent = "".join(parts[:i])
        if parent in table and "or null" in table[parent]:
            return True
        if parent in table and optional(table, parent):
            return True
    return False


def rows_text():
    out = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"\| `([^`]+)` \|(.*)$", line)
        if m:
            out.setdefault(m.group(1), "")
            out[m.group(1)] += m.group(2)
    return out


DOC_ROWS = rows_text()


def paths(value, table, path="", element=False):
    """The paths of value that the doc would name, guided by the doc: we
    descend only where the doc lists fields below; {NAME} keys match any
    name; an array's elements are named by their members only."""
    found = set()
    if path and not element:
        found.add(path)
    below = [p for p in table if p.startswith(path + "[]" if isinstance(
        value, list) else (path + "." if path else ""))]
    if isinstance(value, dict) and below:
        for k, v in value.items():
            p = f"{path}.{k}" if path else k
            if p not in table and not any(x.startswith(p + ".") or
                                          x.startswith(p + "[]")
                                          for x in table):
                name = f"{path}.{{NAME}}" if path else "{NAME}"
                if name in table:
                    p = name
            found |= paths(v, table, p)
    elif isinstance(value, list) and below:
        for v in value:
            found |= paths(v, table, path + "[]", element=True)
    return found


@pytest.fixture
def chain(make_node):
    nodes = federation(make_node, CHAIN,
                       [("jabar", "banten"), ("banten", "sulsel")])
    j, b, s = nodes["jabar"], nodes["banten"], nodes["sulsel"]
    put(j, "lks", lks_record(1, random.Random(1)))
    # a case the three share: any of them may edit it (an lks only its
    # origin: PROTOCOL.md 8.2)
    rid = put(j, "case", case_record(1, random.Random(1),
                                     share_with=["banten", "sulsel"]))
    wait_until("the record at sulsel", lambda: get(s, "case", rid, False))
    b.stop()  # jabar and sulsel edit the same field, unseen by each other
    put(j, "case", {"address": "Jl. Asia Afrika No. 8, Kota Bandung"}, rid)
    put(s, "case", {"address": "Jl. Urip Sumoharjo No. 3, Makassar"}, rid)
    b.start()
    wait_converged(nodes.values())
    wait_live(b, "jabar", "sulsel")

    def verified():
        p = b.ctl("--json", "verify", "jabar", check=False)
        return p.stdout if p.returncode == 0 else None
    nodes["verify"] = json.loads(wait_until("banten to verify jabar",
                                            verified, interval=1))
    return nodes


def outputs(nodes, ca):
    b = nodes["banten"]
    socks = [str(nodes[n].socket) for n in CHAIN]
    cert, key = ca.admin("budi")
    fed = ctl("--json", "federation", *socks, "127.0.0.1:1", "--cert", cert,
              "--key", key, "--ca", ca.ca_pem)
    assert fed.returncode == 1, fed.stderr  # 127.0.0.1:1 answers nothing
    cid = put(b, "case", case_record(1, random.Random(2)))
    b.ctl("--purpose", "cek rujukan", "get", "case", cid)
    b.ctl("export", "case")
    return {
        "audit": b.ctl_json("audit"),
        "status": b.ctl_json("status"),
        "peers": b.ctl_json("peers"),
        "verify": nodes["verify"],
        "digest": b.ctl_json("digest"),
        "feed": b.ctl_json("feed"),
        "conflicts": b.ctl_json("conflicts"),
        "federation": json.loads(fed.stdout),
    }


def test_every_field_is_documented_and_every_documented_field_printed(
        chain, ca):
    tables = doc_tables()
    got = outputs(chain, ca)
    assert set(tables) == set(got), "a command's section is missing"
    assert got["conflicts"], "the fixture made no conflict"
    problems = []
    for cmd, value in got.items():
        table = tables[cmd]
        seen = paths(value, table)
        for p in sorted(seen - set(table)):
            problems.append(f"{cmd}: '{p}' is printed but not in "
                            f"doc/json.md")
        for p in sorted(set(table) - seen):
            if not optional(table, p):
                problems.append(f"{cmd}: '{p}' is documented but was not "
                                f"printed")
    assert not problems, "\n".join(problems)


def test_doc_types_match_values(chain, ca):
    """The type column is right for what was printed."""
    kinds = {str: "string", bool: "boolean", int: "integer",
             float: "number", dict: "object", list: "array",
             type(None): "null"}
    tables = doc_tables()
    got = outputs(chain, ca)

    def walk(cmd, table, value, path=""):
        if path in table:
            t = table[path]
            k = kinds[type(value)]
            ok = (t.startswith("any") or k in t or
                  (k == "integer" and "number" in t))
            assert ok, f"{cmd} {path}: {k} is not '{t}'"
        if isinstance(value, dict):
            for key, v in value.items():
                p = f"{path}.{key}" if path else key
                if p not in table and (f"{path}.{{NAME}}" if path
                                       else "{NAME}") in table:
                    p = f"{path}.{{NAME}}" if path else "{NAME}"
                walk(cmd, table, v, p)
        elif isinstance(value, list):
            for v in value:
                walk(cmd, table, v, path + "[]")

    for cmd, value in got.items():
        walk(cmd, tables[cmd], value)
