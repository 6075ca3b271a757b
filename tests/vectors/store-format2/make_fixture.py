"""Make the format-2 store fixture (tests/vectors/store-format2/).

Run with the jalin that wrote store format 2 / record format 2 (jalin
0.2.0, commit 0f84620, the last one before record format 3), from
tests/integration:

    git worktree add /tmp/v02 0f84620 && make -C /tmp/v02
    cd tests/integration && JALIN_BUILD=/tmp/v02/build \\
        /usr/bin/python3 -m pytest -q ../vectors/store-format2/make_fixture.py

The writes are ../fixture_writes.py's (shared with store-format1).
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
