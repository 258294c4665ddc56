#!/usr/bin/env python3
"""Keep the measured size tables in README.md and docs/*.md equal to a demo run's results.

The tables need the example matrix built (cargo, qemu, UPX, GStreamer), which the quick test
suite cannot do. So the results.json of the demo run they quote is stored in
docs/figures/results.json, and every table is rendered from it by sizekit's own reports:

    <!-- figures: out/reports/hello-hyper.md#x86_64-unknown-linux-gnu -->
    | build | ... |
    <!-- /figures -->

names a report (as `sizekit report` writes it from that results.json) and one of its `## `
sections (the text up to the next `## `). The source `results.json#toolchains` is the line
that names the toolchains the figures were measured with.

    python3 scripts/readme_figures.py --check     # against docs/figures/results.json (the test suite)
    python3 scripts/readme_figures.py --check --results out/results.json    # against this run (scripts/demo)
    python3 scripts/readme_figures.py --write --results out/results.json    # take this run's figures
    python3 scripts/readme_figures.py --write     # render the blocks again from the stored results

--write with --results stores that results.json as docs/figures/results.json first.

The seeds' matrix (seeds/matrix.yaml, scripts/seeds) has its own stored run,
docs/figures/seeds.json: a block whose source lies under seeds/out/ (or names
docs/figures/seeds.json#toolchains) is rendered from it, and `--results seeds/out/results.json`
checks or takes that run's figures, leaving the other blocks to their stored run.
"""
import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sizekit import api  # noqa: E402

import blocks  # noqa: E402

STORED = os.path.join("docs", "figures", "results.json")
# Each matrix's output folder with the stored run its blocks are rendered from.
RUNS = {"out": STORED, os.path.join("seeds", "out"): os.path.join("docs", "figures", "seeds.json")}


def run_of(src):
    """The output folder whose run a block's source names (the longest that matches)."""
    for folder in sorted(RUNS, key=len, reverse=True):
        if src.startswith(folder + "/") or src == RUNS[folder]:
            return folder
    return "out"
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


def toolchains(results):
    """The toolchains section: each rustc that built a cell, with the crates it built."""
    seen = {}
    for c in results["cells"]:
        tc = c.get("toolchain") or {}
        if tc.get("rustc") and c["status"] == "ok":
            key = (tc["rustc"], tc.get("name") or "the default")
            seen.setdefault(key, []).append(c["crate"])
    return "".join(f"- {rustc}, toolchain `{name}`: {', '.join(dict.fromkeys(crates))}\n"
                   for (rustc, name), crates in seen.items())


def reports(results_path):
    """{report file name: text} of the reports sizekit writes from a results.json."""
    if not os.path.isfile(results_path):
        raise FiguresError(f"{results_path}: not found; scripts/demo writes out/results.json")
    try:
        results = api.load_results(results_path)
    except api.SizekitError as exc:
        raise FiguresError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="sk-figures-") as out:
        written = api.publish(out, results, html=False)
        texts = {}
        for path in written:
            with open(path, encoding="utf-8") as f:
                texts[os.path.basename(path)] = f.read()
    texts["results.json"] = "## toolchains\n" + toolchains(results)
    return texts


def render(text, texts_of, sources):
    """(text with its blocks filled from each run's reports, [(line, what, old body, new body)] that
    change); texts_of(folder) gives a run's {report name: text}, sources[folder] its file."""
    changes = []

    def fill(m):
        src, section = m.group("src"), m.group("section")
        folder = run_of(src)
        name = "results.json" if src == RUNS[folder] else os.path.basename(src)
        texts, source = texts_of(folder), sources[folder]
        if name not in texts:
            raise FiguresError(f"{src}: {source} has no such report (it gives {', '.join(sorted(texts))})")
        body = section_of(texts[name], section, src)
        if body != m.group("body"):
            changes.append((text.count("\n", 0, m.start()) + 1, f"{src}#{section} from {source}", m.group("body"),
                            body))
        return m.group(1) + body + m.group(5)

    return BLOCK.sub(fill, text), changes


def main(argv=None):
    ap = blocks.parser(__doc__, ROOT, "the results")
    ap.add_argument("--results", help=f"a run's results.json (default: the stored {STORED}); with --write it "
                                      f"becomes the stored one")
    args = ap.parse_args(argv)
    sources = dict(RUNS)
    run = None
    if args.results:
        run = os.path.relpath(os.path.dirname(os.path.abspath(args.results)), args.root)
        if run not in RUNS:
            run = "out"     # a run's results.json copied elsewhere: the example matrix's
        sources[run] = args.results
    stored = os.path.join(args.root, RUNS[run or "out"])
    cache: dict = {}

    def texts_of(folder):
        if folder not in cache:
            path = sources[folder]
            cache[folder] = reports(path if os.path.isabs(path) or path == args.results else os.path.join(args.root, path))
        return cache[folder]

    try:
        if args.write and args.results and os.path.abspath(args.results) != os.path.abspath(stored):
            texts_of(run)   # refuse a run that does not load before storing it
            os.makedirs(os.path.dirname(stored), exist_ok=True)
            shutil.copyfile(args.results, stored)
            print(f"readme_figures: {args.results} stored as {RUNS[run]}")
        drift = blocks.update(args.root, lambda text, name: render(text, texts_of, sources),
                              args.write, "readme_figures")
    except FiguresError as exc:
        print(f"readme_figures: {exc}", file=sys.stderr)
        return 2
    if args.results:
        refresh = (f"this run's figures are not the ones stored (another toolchain or machine may give other "
                   f"bytes). To take this run's figures: python3 scripts/readme_figures.py --write --results "
                   f"{args.results}")
    else:
        refresh = f"they are not the stored runs' ({', '.join(RUNS.values())}); render them: " \
                  "python3 scripts/readme_figures.py --write"
    return blocks.outcome("readme_figures", drift, args.write,
                          f"every table equals {args.results or ' and '.join(RUNS.values())}", refresh)

if __name__ == "__main__":
    sys.exit(main())
