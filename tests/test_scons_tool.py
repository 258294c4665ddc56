"""The SCons tool without building anything (quick): loading, SizeMatrix's nodes and aliases,
output= and shard=, the content record of cargo's sources, and the import rules.

SCons is used in-process (its Python API); the plan gets made-up toolchains, so no cargo runs.
"""
import ast
import os
import time

import pytest

try:
    import SCons.Environment
    import SCons.Node.Alias
except ImportError:
    pytest.skip("tool scons is not on PATH; scripts/install installs it", allow_module_level=True)

import sizekit.scons
from sizekit.drivers.scons import deciders, tool as scons_tool
from sizekit.plan.cells import make_plan
from sizekit.plan.layout import Layout
from sizekit.plan.records import BuildMeta
from sizekit.plan.toolchains import ToolchainInfo
from sizekit.utils.errors import UsageError

from conftest import ROOT, copy_tiny, write

HOST = "x86_64-unknown-linux-gnu"


def made_up_toolchains():
    facts = dict(cargo="/tc/bin/cargo", rustc="/tc/bin/rustc", rustc_version="rustc 1.95.0",
                 cargo_version="cargo 1.95.0", host=HOST, release=(1, 95, 0), targets=[HOST])
    return {None: ToolchainInfo(name=None, **facts)}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A matrix of two crates (one smoked) whose plan is made without probing any toolchain."""
    monkeypatch.setattr(scons_tool, "make_plan",
                        lambda matrix, cache_dir=None: make_plan(matrix, toolchains=made_up_toolchains()))
    name = f"t{time.monotonic_ns()}"   # SCons aliases are process-wide: a crate name of its own
    copy_tiny(tmp_path / "tiny")
    write(tmp_path / "matrix.yaml", f"""
        version: 1
        crates:
          {name}: {{path: tiny, artifact: bin:tiny, smoke: {{args: [--version]}}}}
          {name}b: {{path: tiny, artifact: bin:tiny}}
        variants:
          - {{name: release}}
          - {{name: release-stripped, from: release, post: [strip]}}
    """)
    return tmp_path, name


def test_tool_is_a_regular_scons_tool():
    tool = sizekit.scons.tool
    assert callable(tool) and callable(tool.generate) and callable(tool.exists)
    env = SCons.Environment.Environment(tools=[])
    assert tool.exists(env)
    env = SCons.Environment.Environment(tools=[tool])
    assert "sizematrix" in env["TOOLS"] and hasattr(env, "SizeMatrix")
    assert os.path.isfile(os.path.join(sizekit.scons.TOOLPATH, "sizematrix.py"))


def test_size_matrix_declares_every_node_and_the_aliases(project):
    folder, name = project
    env = SCons.Environment.Environment(tools=[sizekit.scons.tool])
    nodes = env.SizeMatrix(str(folder / "matrix.yaml"))
    layout = Layout(str(folder / "out"))
    paths = {n.abspath for n in nodes}
    assert layout.results_json in paths
    assert len([p for p in paths if "/.sizekit/cells/" in p]) == 4
    assert len([p for p in paths if "/.sizekit/smoke/" in p]) == 2      # only the smoked crate
    assert len([p for p in paths if "/.sizekit/stages/" in p]) == 4     # 2 builds, 2 strips
    assert len([p for p in paths if "/.sizekit/builds/" in p]) == 2
    lookup = SCons.Node.Alias.default_ans.lookup
    crate = {s.abspath for s in lookup(name).sources}
    assert len(crate) == 4 and all(f"{name}__" in p for p in crate)    # 2 cells, 2 smoke checks
    assert layout.results_json in {s.abspath for s in lookup("sizes").sources}
    assert lookup("size-report").always_build


def test_markers_start_out_of_date_and_settle(project, tmp_path):
    folder, _ = project
    env = SCons.Environment.Environment(tools=[sizekit.scons.tool])
    nodes = env.SizeMatrix(str(folder / "matrix.yaml"), output=str(folder / "elsewhere"))
    build = [n for n in nodes if "/.sizekit/stages/" in n.abspath][0]
    assert build.abspath.startswith(str(folder / "elsewhere"))
    marker = [s for s in build.sources if "cargo's sources" in str(s)][0]
    assert marker.get_csig() == deciders.RERUN        # no record yet
    deciders.settle([marker])
    assert marker.get_csig() == deciders.FAILED       # still no record: retried next time


def test_output_may_not_hold_a_crate_and_shards_are_checked(project):
    folder, _ = project
    with pytest.raises(UsageError, match="may not be the matrix's own folder"):
        scons_tool.load_plan(str(folder / "matrix.yaml"), output=str(folder))
    with pytest.raises(UsageError, match="would contain the crate"):
        scons_tool.load_plan(str(folder / "matrix.yaml"), output=str(folder / "tiny"))
    with pytest.raises(UsageError, match=r"^shard=0/2: not a shard"):
        scons_tool.load_plan(str(folder / "matrix.yaml"), shard="0/2")
    whole = scons_tool.load_plan(str(folder / "matrix.yaml"))
    parts = [scons_tool.load_plan(str(folder / "matrix.yaml"), shard=f"{k}/2") for k in (1, 2)]
    assert sorted(c.name for p in parts for c in p.cells) == sorted(c.name for c in whole.cells)


def test_sources_are_decided_by_content(tmp_path):
    layout = Layout(str(tmp_path / "out"))
    source = write(tmp_path / "src" / "main.rs", "fn main() {}\n")
    key = "0123abcd"
    assert deciders.sources_now(layout, key) == (deciders.CHANGED, [])
    os.makedirs(os.path.dirname(layout.build_meta(key)), exist_ok=True)
    BuildMeta(key=key, name="app", toolchain="stable").write(layout.build_meta(key))
    assert deciders.record_sources(layout, key) == deciders.CHANGED    # no dep-info: cargo decides
    st = os.stat(source)
    BuildMeta(key=key, name="app", toolchain="stable",
              deps={str(source): [st.st_mtime_ns, st.st_size]}).write(layout.build_meta(key))
    digest = deciders.record_sources(layout, key)
    assert digest.startswith("sources ")
    assert deciders.sources_now(layout, key) == (digest, [])
    os.utime(source, (time.time() + 5, time.time() + 5))            # touched, same bytes
    assert deciders.sources_now(layout, key) == (digest, [])
    with open(source, "w") as f:
        f.write("fn main() { }\n")                                   # same size, other bytes
    assert deciders.sources_now(layout, key) == (deciders.CHANGED, [source])
    os.unlink(source)
    assert deciders.sources_now(layout, key) == (deciders.CHANGED, [source])


def _imports(path):
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_only_the_driver_imports_scons_and_its_modules_stay_small():
    package = os.path.join(ROOT, "sizekit")
    driver = os.path.join(package, "drivers", "scons")
    for folder, _, files in os.walk(package):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            ours = path.startswith(driver + os.sep) or path == os.path.join(package, "scons.py")
            if not ours:
                assert not [m for m in _imports(path) if m == "SCons" or m.startswith("SCons.")], path
            elif name != "sizekit.py":
                assert len(open(path).read().splitlines()) < 300, path
