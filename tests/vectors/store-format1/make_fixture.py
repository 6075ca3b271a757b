"""Make the format-1 store fixture (tests/vectors/store-format1/).

Run with the jalin that wrote store format 1 / record format 1 (commit
b162b05, the last one before record format 2), from tests/integration:

    git worktree add /tmp/old b162b05 && make -C /tmp/old
    cd tests/integration && JALIN_BUILD=/tmp/old/build \\
        /usr/bin/python3 -m pytest -q ../vectors/store-format1/make_fixture.py

The writes are ../fixture_writes.py's (shared with store-format2).
"""

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "integration"))
sys.path.insert(0, str(HERE.parent))

from conftest import ca, make_node  # noqa: E402,F401
from fixture_writes import write_fixture  # noqa: E402


def test_make_fixture(make_node):
    write_fixture(make_node, HERE)
