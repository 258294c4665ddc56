#!/usr/bin/env python3
"""Make a prepared copy of std's sources build offline: every dependency on a crate that was
vendored beside them becomes a path dependency.

    scripts/std-src/pathdeps.py RUST_SRC VENDOR

RUST_SRC holds `library/` (std's sources); VENDOR is `cargo vendor --versioned-dirs` of std's
pinned Cargo.lock, outside RUST_SRC (path dependencies inside a workspace's folder would join it
as members, and two versions of one crate cannot). Each Cargo.toml under both gets `path = ...` on its registry dependencies
whose crate is vendored in a version the requirement accepts. cargo then builds std without any
registry, whatever source the user's crate reads crates.io from (Debian's directory source for
the offline examples). The rustc-std-workspace-* crates stay as they are: cargo's build-std
patches them to library/ itself. Edits are textual (the manifests keep their comments and order),
and each rewritten manifest is parsed again to check that every vendored dependency got its path.
"""
import os
import re
import sys
import tomllib

DEP_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")
PATCHED = ("rustc-std-workspace-core", "rustc-std-workspace-alloc", "rustc-std-workspace-std")
HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_\-\"']+)(\s*=\s*)(.*)$")


def version_tuple(text):
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:3])


def accepts(requirement, version):
    """Cargo's default (caret) requirement, the only kind std's manifests use."""
    req = requirement.strip().lstrip("^").lstrip("=").strip()
    want, have = version_tuple(req), version_tuple(version)
    if have < want + (0,) * (3 - len(want)):
        return False
    # The left-most non-zero component must match (0.0.x matches exactly x).
    for i, part in enumerate(want):
        if part != 0 or i == len(want) - 1:
            return have[: i + 1] == want[: i + 1]
    return True


def vendored(vendor_dir):
    """{crate name: [(version, folder)]} of the vendored crates."""
    found = {}
    for entry in sorted(os.listdir(vendor_dir)):
        manifest = os.path.join(vendor_dir, entry, "Cargo.toml")
        if not os.path.isfile(manifest):
            continue
        with open(manifest, "rb") as f:
            package = tomllib.load(f)["package"]
        found.setdefault(package["name"], []).append((package["version"], os.path.join(vendor_dir, entry)))
    return found


def dep_section(name):
    """(is a dependency table, dependency named by the header or None) for a [header]."""
    parts = [p.strip().strip("'\"") for p in re.split(r"\.(?=(?:[^'\"]*['\"][^'\"]*['\"])*[^'\"]*$)", name)]
    if parts and parts[0] == "target":
        parts = parts[2:]
    if len(parts) == 1 and parts[0] in DEP_TABLES:
        return True, None
    if len(parts) == 2 and parts[0] in DEP_TABLES:
        return False, parts[1]
    return False, None


def resolve(crates, package, requirement, manifest_dir):
    if package in PATCHED:
        return None
    matches = [folder for version, folder in crates.get(package, []) if accepts(requirement, version)]
    if not matches:
        return None
    best = max(matches, key=lambda folder: version_tuple(folder.rsplit("-", 1)[-1]))
    return os.path.relpath(best, manifest_dir)


def rewrite(text, crates, manifest_dir):
    """The manifest text with path dependencies; and the number of dependencies changed."""
    out, changed = [], 0
    lines = text.splitlines(keepends=True)
    in_table, single = False, None
    i = 0
    while i < len(lines):
        line = lines[i]
        header = HEADER.match(line)
        if header:
            in_table, single = dep_section(header.group(1))
            out.append(line)
            if single:
                # [dependencies.NAME]: read the whole section, add a path line after the header.
                j = i + 1
                while j < len(lines) and not HEADER.match(lines[j]):
                    j += 1
                body = "".join(lines[i + 1:j])
                spec = tomllib.loads(body)
                if "path" not in spec and "git" not in spec and "version" in spec:
                    rel = resolve(crates, spec.get("package", single), spec["version"], manifest_dir)
                    if rel:
                        out.append(f'path = "{rel}"\n')
                        changed += 1
                out.extend(lines[i + 1:j])
                i = j
                continue
            i += 1
            continue
        key = KEY_LINE.match(line) if in_table else None
        if key:
            indent, name, eq, value = key.groups()
            spec = tomllib.loads(f"x = {value.strip()}")["x"] if value.strip() else None
            if isinstance(spec, str):
                spec = {"version": spec}
                value = None
            if isinstance(spec, dict) and "path" not in spec and "git" not in spec and "version" in spec:
                rel = resolve(crates, spec.get("package", name.strip("'\"")), spec["version"], manifest_dir)
                if rel:
                    if value is None:
                        line = f'{indent}{name}{eq}{{ version = "{spec["version"]}", path = "{rel}" }}\n'
                    else:
                        inline = value.replace("{", f'{{ path = "{rel}",', 1)
                        line = f"{indent}{name}{eq}{inline}\n"
                    changed += 1
        out.append(line)
        i += 1
    return "".join(out), changed


def missing_paths(manifest, crates, manifest_dir):
    """Dependencies that still name a vendored crate without a path (a rewrite this script missed)."""
    with open(manifest, "rb") as f:
        data = tomllib.load(f)
    tables = [data.get(t, {}) for t in DEP_TABLES]
    for spec in data.get("target", {}).values():
        tables += [spec.get(t, {}) for t in DEP_TABLES]
    missed = []
    for table in tables:
        for name, spec in table.items():
            spec = {"version": spec} if isinstance(spec, str) else spec
            if "path" in spec or "git" in spec or "version" not in spec:
                continue
            if resolve(crates, spec.get("package", name), spec["version"], manifest_dir):
                missed.append(name)
    return missed


def main(rust_src, vendor):
    crates = vendored(vendor)
    total, problems = 0, []
    for top in (os.path.join(rust_src, "library"), vendor):
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            if "Cargo.toml" not in files:
                continue
            manifest = os.path.join(folder, "Cargo.toml")
            with open(manifest) as f:
                text = f.read()
            new, changed = rewrite(text, crates, folder)
            if changed:
                with open(manifest, "w") as f:
                    f.write(new)
                total += changed
            problems += [f"{manifest}: {name}" for name in missing_paths(manifest, crates, folder)]
    if problems:
        sys.exit("pathdeps: dependencies left without a path:\n  " + "\n  ".join(problems))
    print(f"pathdeps: {total} dependencies now read from {vendor}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
