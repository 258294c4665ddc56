"""The output folder's layout: every path under a matrix's `output:`, in one place.

    out/results.json, out/reports/      what users read
    out/build/, out/post/, out/reference/  artifacts (copies; cargo's own stay in out/target/)
    out/logs/                           cargo, strip, upx, smoke and make logs
    out/target/<toolchain>/             cargo's target folder
    out/.sizekit/                       sizekit's state: stage records, doit's state, locks

No other module spells a path under the output folder; they ask a Layout.
"""
import os

from ..utils.fsutil import safe_join

STATE = ".sizekit"
REPORT_NAMES = ("sizes.csv", "index.html")


class Layout:
    def __init__(self, output, root=None):
        self.output = output
        self.root = root if root is not None else os.path.dirname(os.path.abspath(output))

    @classmethod
    def of(cls, matrix):
        return cls(matrix.output, matrix.root)

    def __repr__(self):
        return f"Layout({self.output!r})"

    # --- paths recorded in results are relative to the matrix's folder ---
    def rel(self, path):
        return os.path.relpath(path, self.root) if path else None

    def absolute(self, relpath):
        return os.path.join(self.root, relpath)

    # --- what users read ---
    @property
    def results_json(self):
        return os.path.join(self.output, "results.json")

    @property
    def snapshot(self):
        """Sizes and every symbol of the run, zstd-compressed (results/snapshot.py)."""
        return os.path.join(self.output, "snapshot.sksnap.zst")

    @property
    def reports_dir(self):
        return os.path.join(self.output, "reports")

    def report(self, name):
        return safe_join(self.reports_dir, name)

    def report_files(self, crates, fleets=False):
        """Every report the report stage writes for these crate names (crates.md also holds the
        fleets' table, when the matrix has fleets)."""
        names = [f"{c}.md" for c in crates] + list(REPORT_NAMES)
        if len(crates) > 1 or fleets:
            names.append("crates.md")
        return [self.report(n) for n in names]

    # --- artifacts and logs ---
    def build_artifact(self, build, filename):
        return safe_join(self.output, "build", build.crate.name, build.target, build.key, filename)

    def step_artifact(self, step, filename):
        return safe_join(self.output, "post", step.build.crate.name, step.build.target, step.key, filename)

    def shipped(self, cell, filename):
        """A copy of the cell's final artifact for a firmware build to depend on: rewritten only when
        its bytes change, so make's and SCons's timestamps agree with sizekit's content rules."""
        return safe_join(self.output, "ship", cell.crate.name, cell.target, cell.variant.name, filename)

    def reference_dir(self, crate, target):
        return safe_join(self.output, "reference", crate.name, target)

    def log(self, kind, key):
        return safe_join(self.output, "logs", f"{kind}-{key}.log")

    def cargo_target(self, toolchain):
        return os.path.join(self.output, "target", toolchain or "default")

    # --- sizekit's state ---
    @property
    def state_dir(self):
        return os.path.join(self.output, STATE)

    def state(self, *parts):
        return safe_join(self.state_dir, *parts)

    # Keys are hex digests, so these skip safe_join's realpath (the no-op run asks often).
    def stage_record(self, key):
        return os.path.join(self.state_dir, "stages", f"{key}.json")

    def build_meta(self, key):
        return os.path.join(self.state_dir, "builds", f"{key}.json")

    def cell_record(self, cell):
        return self.state("cells", cell.id + ".json")

    def smoke_record(self, cell):
        return self.state("smoke", cell.id + ".json")

    def reference_record(self, crate, target):
        return self.state("reference", f"{crate.name}__{target}.json")

    def overlay(self, crate, toolchain):
        """The private view of a crate's folder that cargo builds (see stages/overlay.py)."""
        return self.state("overlay", crate.name, toolchain or "default")

    def lockfile(self, crate, toolchain):
        return self.state("lockfiles", crate.name, f"{toolchain or 'default'}.lock")

    def crate_lock(self, folder_key):
        return os.path.join(self.state_dir, "locks", f"crate-{folder_key}.lock")

    def profile_lock(self, folder_key):
        return os.path.join(self.state_dir, "locks", f"profile-{folder_key}.lock")

    @property
    def toolchain_cache(self):
        return self.state_dir

    @property
    def doit_db(self):
        return os.path.join(self.state_dir, "doit-db")

    OWN_FOLDERS = ("build", "post", "reference", "logs", "reports", "target", STATE)

    def placement(self):
        """Where the output folder is, when that is not inside the matrix's folder (None when it is):
        allowed (CI writes to /tmp), but said, since clean removes what sizekit wrote there."""
        real, root = os.path.realpath(self.output), os.path.realpath(self.root)
        if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
            return None
        link = f" (through a symlink to {real})" if real != os.path.abspath(self.output) else ""
        return f"the output folder {os.path.abspath(self.output)}{link} is outside the matrix's folder {root}"

    def linked_folders(self):
        """The output's own folders that are symlinks: clean must not go through them."""
        return [p for p in (os.path.join(self.output, n) for n in self.OWN_FOLDERS) if os.path.islink(p)]

    @property
    def run_lock(self):
        return os.path.join(self.state_dir, "run.lock")
