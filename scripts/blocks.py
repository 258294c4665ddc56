"""What scripts/readme_figures.py and scripts/bench_figures.py share: the markdown files that may
hold rendered blocks, and checking them against their render or rewriting them."""
import argparse
import difflib
import glob
import os


def parser(doc, root, what):
    """The command line both scripts take: --check or --write, and --root."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help=f"exit 1 when a block differs from {what}")
    mode.add_argument("--write", action="store_true", help=f"rewrite the blocks from {what}")
    ap.add_argument("--root", default=root, help="the folder holding README.md and docs/ (default: the repo)")
    return ap


def documents(root):
    """README.md and docs/*.md, as paths relative to root."""
    return ["README.md"] + sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "docs", "*.md")))


def update(root, render, write, prog):
    """Render every document: render(text, name) gives (new text, [(line, what, old body, new
    body)] for the blocks that change). With write, rewrite the files that change; otherwise
    print a diff of each block that differs. Returns how many blocks differ."""
    drift = 0
    for name in documents(root):
        path = os.path.join(root, name)
        with open(path, encoding="utf-8") as f:
            text, changes = render(f.read(), name)
        drift += len(changes)
        if write and changes:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        for line, what, old, new in changes:
            if write:
                print(f"{prog}: {name}:{line}: {what} rewritten")
                continue
            diff = difflib.unified_diff(old.splitlines(), new.splitlines(), f"{name} (line {line})", what,
                                        lineterm="", n=0)
            print(f"{prog}: {name}:{line}: the block differs from {what}:\n" + "\n".join(diff))
    return drift


def outcome(prog, drift, write, same, refresh):
    """Print the summary line; the exit status: 1 when blocks differ (and were not rewritten)."""
    if write:
        print(f"{prog}: {drift} block(s) rewritten")
    elif drift:
        print(f"{prog}: {drift} block(s) differ; {refresh}")
    else:
        print(f"{prog}: {same}")
    return 1 if drift and not write else 0
