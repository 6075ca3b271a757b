#!/usr/bin/env python3
"""Check that every limit in protocol/limits.h is used.

STYLE.md §6: every bound lives in protocol/limits.h, nowhere else. The
other half of that rule is that each JALIN_ constant defined there bounds
something: a constant no code reads is a limit that is not enforced (or a
site that still has its own literal). Each #define JALIN_X of limits.h
(not the include guard) must appear, as a whole word outside comments and
string literals, in a .c or .h file other than limits.h under one of the
source directories.

Usage: check_limits.py [LIMITS_H [DIR...]]   (default: protocol/limits.h
node protocol tools tests doc). Exit 0 when every constant is used, 1
otherwise (each unused one printed as path:line: message).
"""
import os
import re
import sys

DEFINE_RE = re.compile(r"^\s*#\s*define\s+(JALIN_[A-Z0-9_]+)\b")
GUARD = "JALIN_LIMITS_H"
# Comments and string/char literals, so that a name only mentioned in
# prose or quoted in a message does not count as a use.
NOISE_RE = re.compile(
    r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
    re.S)


def defined(limits_h):
    """[(name, line)] of the constants limits_h defines."""
    out = []
    with open(limits_h, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = DEFINE_RE.match(line)
            if m and m.group(1) != GUARD:
                out.append((m.group(1), n))
    return out


def sources(dirs, skip):
    """Paths of the .c and .h files under dirs, but skip."""
    for d in dirs:
        for root, _, files in os.walk(d):
            for name in sorted(files):
                path = os.path.join(root, name)
                if name.endswith((".c", ".h")) and \
                        os.path.realpath(path) != skip:
                    yield path


def used_names(dirs, skip):
    """Every JALIN_ word in the code (not comments, not strings)."""
    words = set()
    for path in sources(dirs, skip):
        with open(path, encoding="utf-8", errors="replace") as f:
            code = NOISE_RE.sub(" ", f.read())
        words.update(re.findall(r"\bJALIN_[A-Z0-9_]+\b", code))
    return words


def main(argv):
    limits_h = argv[1] if len(argv) > 1 else "protocol/limits.h"
    dirs = argv[2:] or ["node", "protocol", "tools", "tests", "doc"]
    used = used_names(dirs, os.path.realpath(limits_h))
    bad = 0
    for name, line in defined(limits_h):
        if name not in used:
            print(f"{limits_h}:{line}: {name} is defined but used nowhere "
                  f"outside limits.h (a bound nothing enforces, or a site "
                  f"that still has its own literal)")
            bad += 1
    if bad:
        return 1
    print("check-limits: every constant of protocol/limits.h is used")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
