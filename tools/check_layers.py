#!/usr/bin/env python3
"""Check that node/ modules include only the headers of lower layers.

The layers are the numbered list in the opening comment of node/node.h
("  3. tls  ..."), lowest first. A file belongs to a module by its name:
x.c, x.h and x_impl.h are module x. Each #include "y.h" of a node/ file
must name a header of the same module or of one listed before it; a
header that exists in node/ but whose module is not listed is an error
too. Headers from elsewhere (protocol/, system) are not checked.

Usage: check_layers.py [NODE_DIR]   (default: node). Exit 0 when every
include goes down the list, 1 otherwise (each offending line printed as
path:line: message).
"""
import os
import re
import sys

LAYER_RE = re.compile(r"^\s*\*\s+(\d+)\.\s+([a-z_][a-z0-9_]*)\b")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def module_of(filename):
    """Module name of a node/ file or header name (x.c, x.h, x_impl.h)."""
    base = os.path.basename(filename)
    stem = base.rsplit(".", 1)[0]
    if stem.endswith("_impl"):
        stem = stem[: -len("_impl")]
    return stem


def read_layers(node_h):
    """{module: rank} from the numbered list in node.h's first comment."""
    with open(node_h, encoding="utf-8") as f:
        text = f.read()
    end = text.find("*/")
    layers = {}
    for line in text[: end if end >= 0 else len(text)].splitlines():
        m = LAYER_RE.match(line)
        if m:
            name = m.group(2)
            if name in layers:
                sys.exit("%s: module '%s' listed twice" % (node_h, name))
            layers[name] = len(layers)
    if not layers:
        sys.exit("%s: no layer list found in the opening comment" % node_h)
    return layers


def check(node_dir):
    layers = read_layers(os.path.join(node_dir, "node.h"))
    local = {f for f in os.listdir(node_dir) if f.endswith(".h")}
    errors = []
    for f in sorted(os.listdir(node_dir)):
        if not f.endswith((".c", ".h")):
            continue
        path = os.path.join(node_dir, f)
        mod = module_of(f)
        if mod not in layers:
            errors.append("%s:1: module '%s' is not in node.h's layer list"
                          % (path, mod))
            continue
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE_RE.match(line)
                if not m or m.group(1) not in local:
                    continue
                dep = module_of(m.group(1))
                if dep not in layers:
                    errors.append("%s:%d: includes \"%s\": module '%s' is "
                                  "not in node.h's layer list"
                                  % (path, n, m.group(1), dep))
                elif layers[dep] > layers[mod]:
                    errors.append("%s:%d: includes \"%s\": %s (layer %d) "
                                  "may not depend on %s (layer %d)"
                                  % (path, n, m.group(1), mod,
                                     layers[mod] + 1, dep, layers[dep] + 1))
    return errors


def main():
    node_dir = sys.argv[1] if len(sys.argv) > 1 else "node"
    errors = check(node_dir)
    for e in errors:
        print(e)
    if errors:
        print("check-layers: %d include(s) against the order in %s/node.h"
              % (len(errors), node_dir))
        return 1
    print("check-layers: node/ includes follow the layers in node.h")
    return 0


if __name__ == "__main__":
    sys.exit(main())
