#!/usr/bin/env python3
"""Keep the benchmark figures in README.md and docs/*.md equal to the benchmarks' JSON.

Every benchmark writes its figures with `--json` (bench_estimate.py: `--figures`) into
benchmarks/results/<name>.json, which is committed: bench_matrix.py writes matrix.json,
bench_scale.py scale.json, and so on. A block in the markdown holds a template and, below it,
the template filled from those files:

    <!-- bench:
    no-op doit {noop.doit.median:.2f} s (median of {noop.settings.runs})
    -->
    no-op doit 0.21 s (median of 7)
    <!-- /bench -->

A field is a file's name, then keys and list indexes: `{scale.cache.ratio.median:.2f}`,
`{hash.files[0].gbps.sizekit:.1f}`. The format spec is Python's (`.2f`, `.1%`, `,`), plus
`KB` and `MB` for byte counts (704 KB), `ms` for seconds (19 ms), `join` for a list
(`release, release-lto`) and `A/B` for a yes-or-no figure (`{matrix.met:met/missed}`).

    python3 scripts/bench_figures.py --check   # exit 1 and name each block that differs
    python3 scripts/bench_figures.py --write   # fill every block from benchmarks/results/

tests/test_readme_figures.py runs the check, so a figure that drifts from its JSON fails the
test suite (and CI).
"""
import glob
import json
import os
import re
import string
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blocks  # noqa: E402

RESULTS = os.path.join("benchmarks", "results")
BLOCK = re.compile(r"<!-- bench:\n(?P<template>.*?)\n-->\n(?P<body>.*?)<!-- /bench -->\n", re.S)
REFRESH = "python3 scripts/bench_figures.py --write"
UNITS = {"KB": 1e-3, "MB": 1e-6, "ms": 1e3}   # format specs: bytes in KB or MB, seconds in ms


class FiguresError(Exception):
    pass


def load(root):
    """{name: figures} of every benchmarks/results/<name>.json."""
    data = {}
    for path in sorted(glob.glob(os.path.join(root, RESULTS, "*.json"))):
        with open(path, encoding="utf-8") as f:
            data[os.path.basename(path)[:-5]] = json.load(f)
    return data


class Filler(string.Formatter):
    """str.format over the benchmarks' figures, with keys looked up by item, never by attribute."""

    def __init__(self, data):
        self.data = data

    def get_field(self, field_name, args, kwargs):
        value, where = self.data, RESULTS
        for key in re.findall(r"[^.\[\]]+", field_name):
            if isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            elif isinstance(value, dict) and key in value:
                value = value[key]
            else:
                have = ", ".join(map(str, value)) if isinstance(value, dict) else type(value).__name__
                raise FiguresError(f"{{{field_name}}}: {where} has no {key!r} (it has: {have})")
            where = f"{where}/{key}" if where == RESULTS else f"{where}.{key}"
        return value, field_name

    def format_field(self, value, spec):
        if isinstance(value, bool) and "/" in spec:
            yes, no = spec.split("/", 1)
            return yes if value else no
        if isinstance(value, list) and spec == "join":
            return ", ".join(map(str, value))
        if spec in UNITS and isinstance(value, (int, float)):
            return f"{value * UNITS[spec]:.0f} {spec}"
        if value is None:
            raise FiguresError(f"a figure is null (not measured in that run), format spec {spec!r}")
        return super().format_field(value, spec)


def fill(template, data):
    try:
        return Filler(data).format(template)
    except (ValueError, TypeError, IndexError) as exc:
        raise FiguresError(f"cannot fill the template: {exc}") from None


def render(text, data, name="README.md"):
    """(text with every block filled, [(line, what, old body, new body)] for the blocks that change)."""
    changes = []

    def one(m):
        line = text.count("\n", 0, m.start()) + 1
        try:
            body = fill(m.group("template"), data) + "\n"
        except FiguresError as exc:
            raise FiguresError(f"{name}:{line}: {exc}") from None
        if body != m.group("body"):
            changes.append((line, f"its figures in {RESULTS}/", m.group("body"), body))
        return f"<!-- bench:\n{m.group('template')}\n-->\n{body}<!-- /bench -->\n"

    return BLOCK.sub(one, text), changes


def main(argv=None):
    args = blocks.parser(__doc__, ROOT, f"the figures in {RESULTS}/").parse_args(argv)
    data = load(args.root)
    try:
        drift = blocks.update(args.root, lambda text, name: render(text, data, name), args.write, "bench_figures")
    except FiguresError as exc:
        print(f"bench_figures: {exc}", file=sys.stderr)
        return 2
    return blocks.outcome("bench_figures", drift, args.write, "every block equals its figures",
                          f"refresh them with {REFRESH} (after re-running the benchmark whose JSON changed)")

if __name__ == "__main__":
    sys.exit(main())
