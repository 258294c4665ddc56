#!/usr/bin/env python3
"""Keep the README's measured tables equal to the reports a demo run wrote.

Every measured table in README.md sits between two markers that name its source:

    <!-- figures: out/reports/hello-hyper.md#x86_64-unknown-linux-gnu -->
    | build | ... |
    <!-- /figures -->

The source is a report file and one of its `## ` sections (the text up to the next `## `).

    python3 scripts/readme_figures.py --check   # exit 1 and name each block that differs
    python3 scripts/readme_figures.py --write   # copy the reports' sections into README.md

scripts/demo runs --check after building, so a run on another machine says whether its
figures are the README's.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLOCK = re.compile(r"(<!-- figures: (?P<src>[^#\s]+)#(?P<section>[^>]+?) -->\n)(?P<body>.*?)(<!-- /figures -->)",
                   re.S)


class FiguresError(Exception):
    pass


def section_of(text, heading, source):
    """The body of `## heading` in a markdown text, without leading and trailing blank lines."""
    lines = text.splitlines()
    try:
        start = lines.index(f"## {heading}") + 1
    except ValueError:
        raise FiguresError(f"{source}: no section '## {heading}'") from None
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end]).strip("\n") + "\n"


def render(readme, root):
    """(new README text, [(source#section, old body, new body)] for the blocks that change)."""
    changes = []

    def fill(m):
        src, section = m.group("src"), m.group("section")
        path = os.path.join(root, src)
        try:
            with open(path, encoding="utf-8") as f:
                body = section_of(f.read(), section, src)
        except FileNotFoundError:
            raise FiguresError(f"{src}: not found; run scripts/demo first") from None
        if body != m.group("body"):
            changes.append((f"{src}#{section}", m.group("body"), body))
        return m.group(1) + body + m.group(5)

    text = BLOCK.sub(fill, readme)
    if not BLOCK.search(readme):
        raise FiguresError("README.md has no <!-- figures: ... --> blocks")
    return text, changes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 when a block differs from its report")
    mode.add_argument("--write", action="store_true", help="rewrite the blocks from the reports")
    ap.add_argument("--root", default=ROOT, help="the folder holding README.md and out/ (default: the repo)")
    args = ap.parse_args(argv)
    readme_path = os.path.join(args.root, "README.md")
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    try:
        text, changes = render(readme, args.root)
    except FiguresError as exc:
        print(f"readme_figures: {exc}", file=sys.stderr)
        return 2
    if args.write:
        if changes:
            with open(readme_path, "w", encoding="utf-8") as f:
                f.write(text)
        print(f"readme_figures: {len(changes)} block(s) rewritten")
        return 0
    for name, old, new in changes:
        print(f"readme_figures: README.md differs from {name}:\n--- README\n{old}--- this run\n{new}")
    if not changes:
        print("readme_figures: every README table equals this run's reports")
    return 1 if changes else 0


if __name__ == "__main__":
    sys.exit(main())
