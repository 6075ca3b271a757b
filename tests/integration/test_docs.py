"""doc/architecture.md stays true to the code.

Every path it names (node/x.c, protocol/y.h, tests/unit, ...) exists;
every `name()` in backticks is a function defined in protocol/, node/ or
tools/ (the code style puts a definition's name at the start of a line,
after its return type); every .c file of those three directories has its
line; and its node/ layer list is node/node.h's, in the same order. The
node/ row of README.md's layout table names the modules of node/ too. So a
module or function renamed or removed without the document fails here.
No build and no jalind needed."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "doc" / "architecture.md"
SRC_DIRS = ("protocol", "node", "tools")

# node/feed.c, protocol/limits.h, tests/unit, tools/check_layers.py; not a
# bare directory ("node/"), not the tail of a longer path (build/...).
PATH_RE = re.compile(r"(?<![\w./-])((?:protocol|node|tools|tests|doc)"
                     r"/[\w./-]*\w)")
FUNC_RE = re.compile(r"`([A-Za-z_]\w*)\(\)`")


def sources():
    return {p: p.read_text(errors="replace")
            for d in SRC_DIRS for p in sorted((ROOT / d).glob("*.c"))}


def defined(name, srcs):
    """Files whose text has `name(` at the start of a line: a definition
    (a prototype or a call is indented or follows a return type)."""
    pat = re.compile(r"^%s\(" % re.escape(name), re.M)
    return [p for p, text in srcs.items() if pat.search(text)]


def missing_paths(text):
    return sorted({p for p in PATH_RE.findall(text)
                   if not (ROOT / p).exists()})


def missing_functions(text, srcs):
    return sorted({f for f in FUNC_RE.findall(text) if not defined(f, srcs)})


@pytest.fixture(scope="module")
def doc():
    return DOC.read_text()


@pytest.fixture(scope="module")
def srcs():
    return sources()


def test_every_named_path_exists(doc):
    named = PATH_RE.findall(doc)
    assert len(named) > 50, "the document names too few files: parser?"
    assert missing_paths(doc) == []


def test_every_named_function_is_defined(doc, srcs):
    named = set(FUNC_RE.findall(doc))
    assert len(named) > 50, "the document names too few functions: parser?"
    assert missing_functions(doc, srcs) == []


def test_every_source_file_has_its_line(doc):
    """A new module gets its line in the document too."""
    named = set(PATH_RE.findall(doc))
    files = [f"{d}/{p.name}" for d in SRC_DIRS
             for p in sorted((ROOT / d).glob("*.c"))]
    assert files
    assert [f for f in files if f not in named] == []


def test_node_layers_are_node_h(doc):
    header = (ROOT / "node" / "node.h").read_text()
    want = re.findall(r"^ \*\s+(\d+)\. (\w+)\s", header, re.M)
    section = doc[doc.index("## node/"):]
    section = section[:section.index("\n## ")]
    got = re.findall(r"^(\d+)\. node/(\w+)\.[ch]:", section, re.M)
    assert len(want) >= 15, "node/node.h's layer list not found"
    assert got == want


def test_readme_layout_names_node_modules():
    """README.md's layout row of node/ names each module that exists."""
    readme = (ROOT / "README.md").read_text()
    row = re.search(r"^\| `node/` \|(.*)\|$", readme, re.M)
    assert row, "README.md's layout table has no node/ row"
    named = re.findall(r"`(\w+\.c)`", row.group(1))
    files = sorted(p.name for p in (ROOT / "node").glob("*.c"))
    assert sorted(named) == files


def test_the_checks_catch_a_rename(srcs):
    """The checks themselves: a renamed module or function is reported,
    and neither a call nor a prototype counts as a definition."""
    text = ("node/feed.c node/fede.c `feed_pump()` `feed_pmup()` "
            "tests/unit tests/unti")
    assert missing_paths(text) == ["node/fede.c", "tests/unti"]
    assert missing_functions(text, srcs) == ["feed_pmup"]
    # feed_notify is called in node/main.c but defined in node/feed.c only
    assert [p.name for p in defined("feed_notify", srcs)] == ["feed.c"]
