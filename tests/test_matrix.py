"""Loading and validating matrix.yaml: every error text is asserted word for word."""
import os

import pytest

from sizekit.utils.errors import MatrixError
from sizekit.config.load import load_matrix
from sizekit.config.model import Strip, Upx
from sizekit.utils.units import parse_size

from conftest import TINY, write


def problems(tmp_path, text):
    path = write(tmp_path / "m.yaml", text)
    with pytest.raises(MatrixError) as exc:
        load_matrix(path)
    return [p.replace(path, "m.yaml").replace(os.path.relpath(path), "m.yaml") for p in exc.value.problems]


def good(tmp_path, text):
    return load_matrix(write(tmp_path / "m.yaml", text))


MINIMAL = f"""
version: 1
crates:
  tiny: {{path: {TINY}}}
variants:
  - {{name: release}}
"""


def test_minimal_matrix_defaults(tmp_path):
    m = good(tmp_path, MINIMAL)
    assert m.output == str(tmp_path / "out")
    assert m.baseline == "release"
    crate = m.crates["tiny"]
    assert (crate.kind, crate.artifact, crate.toolchain, crate.targets) == ("bin", "tiny", None, None)
    assert m.variants[0].settings == {"profile": "release"}
    assert m.variants[0].label == "none"


def test_relative_paths_are_relative_to_the_matrix_folder(tmp_path):
    os.symlink(TINY, tmp_path / "tinylink")
    m = good(tmp_path, """
        version: 1
        output: build/sizes
        toolchains:
          debian: {cargo: /usr/bin/cargo, rustc: /usr/bin/rustc, sysroot: .sizekit/sysroot}
        crates:
          tiny: {path: tinylink}
        variants: [{name: release}]
    """)
    assert m.crates["tiny"].path == str(tmp_path / "tinylink")
    assert m.output == str(tmp_path / "build" / "sizes")
    assert m.toolchains["debian"].sysroot == str(tmp_path / ".sizekit" / "sysroot")


def test_from_single_and_list_merge_settings(tmp_path):
    m = good(tmp_path, MINIMAL + """\
  - {name: release-abort, from: release, cargo: {panic: abort}}
  - {name: release-lto, from: release, cargo: {lto: fat, codegen-units: 1, incremental: false}}
  - {name: release-z, from: release, cargo: {opt-level: z}, rustflags: [-Cdebuginfo=0]}
  - {name: all, from: [release-abort, release-lto, release-z], post: [strip]}
  - {name: all-upx, from: all, post: [strip, {upx: {level: best, lzma: true}}]}
""")
    all_ = m.variant("all")
    assert all_.settings == {"profile": "release", "rustflags": ["-Cdebuginfo=0"],
                             "cargo": {"panic": "abort", "lto": "fat", "codegen-units": 1,
                                       "incremental": False, "opt-level": "z"}}
    assert all_.post == [Strip()]
    assert all_.label == "lto + opt-level z + panic abort + codegen-units 1 + rustflags -Cdebuginfo=0 + stripped"
    upx = m.variant("all-upx")
    assert upx.post[1] == Upx(level="best", lzma=True)
    assert upx.post[1].argv("upx", "in", "out") == ["upx", "--best", "--lzma", "-q", "--force", "-o", "out", "in"]
    assert upx.post[1].label == "upx --best --lzma"
    assert upx.label.endswith("+ stripped + upx --best --lzma")
    assert upx.settings == all_.settings


def test_post_is_inherited_unless_given(tmp_path):
    m = good(tmp_path, MINIMAL + """\
  - {name: s, from: release, post: [strip]}
  - {name: s-z, from: s, cargo: {opt-level: z}}
""")
    assert m.variant("s-z").post == [Strip()]


def test_row_can_settle_a_parent_conflict(tmp_path):
    m = good(tmp_path, MINIMAL + """\
  - {name: a, from: release, cargo: {opt-level: z}}
  - {name: b, from: release, cargo: {opt-level: s}}
  - {name: c, from: [a, b], cargo: {opt-level: 2}}
""")
    assert m.variant("c").settings["cargo"] == {"opt-level": 2}


def test_xargo_is_translated_to_build_std(tmp_path):
    m = good(tmp_path, MINIMAL + """\
  - name: x
    from: release
    toolchain: nightly
    xargo: {dependencies: {std: {features: [panic_immediate_abort]}}}
toolchains:
  nightly: {rustup: nightly}
""")
    assert m.variant("x").settings["build-std"] == {"crates": ["std"], "features": ["panic_immediate_abort"]}


def test_parent_conflict(tmp_path):
    assert problems(tmp_path, MINIMAL + """\
  - {name: a, from: release, cargo: {opt-level: z}}
  - {name: b, from: release, cargo: {opt-level: s}}
  - {name: c, from: [a, b]}
""") == ["m.yaml:8: variants[3].from: parents 'a' and 'b' disagree on cargo.opt-level ('z' vs 's'); "
         "set cargo.opt-level on this row to choose"]


def test_forward_reference(tmp_path):
    assert problems(tmp_path, MINIMAL + """\
  - {name: a, from: b}
  - {name: b, from: release}
""") == ["m.yaml:6: variants[1].from: names 'b', which is defined later (variants[2], line 7); "
         "a row may only inherit from rows above it"]


def test_cycle(tmp_path):
    assert problems(tmp_path, MINIMAL + """\
  - {name: a, from: b}
  - {name: b, from: a}
""") == ["m.yaml:6: variants[1].from: inheritance cycle a -> b -> a; remove one of these from: entries"]


def test_self_cycle(tmp_path):
    assert problems(tmp_path, MINIMAL + """\
  - {name: a, from: a}
""") == ["m.yaml:6: variants[1].from: inheritance cycle a -> a; remove one of these from: entries"]


def test_unknown_parent_suggests(tmp_path):
    assert problems(tmp_path, MINIMAL + """\
  - {name: a, from: relase}
""") == ["m.yaml:6: variants[1].from: unknown variant 'relase' (did you mean \"release\"?); "
         "from: must name a row defined above"]


def test_missing_crate_path(tmp_path):
    assert problems(tmp_path, """
        version: 1
        crates:
          app: {path: nowhere/app}
        variants: [{name: release}]
    """) == [f"m.yaml:3: crates.app.path: crate folder 'nowhere/app' does not exist "
             f"(looked in {tmp_path}/nowhere/app); fix the path"]


def test_unknown_toolchain_and_target(tmp_path):
    assert problems(tmp_path, f"""
        version: 1
        toolchains:
          stable: {{rustup: stable}}
        crates:
          tiny: {{path: {TINY}, toolchain: stabel, targets: [armv7-unknown-linux-gnueabihf]}}
        variants:
          - {{name: release, toolchain: nightly}}
    """) == [
        "m.yaml:5: crates.tiny.toolchain: unknown toolchain 'stabel' (did you mean \"stable\"?); "
        "define it under toolchains: (e.g. stabel: {rustup: stabel})",
        "m.yaml:5: crates.tiny.targets[0]: unknown target 'armv7-unknown-linux-gnueabihf'; "
        "add it under the top-level targets: map",
        "m.yaml:7: variants[0].toolchain: unknown toolchain 'nightly'; "
        "define it under toolchains: (e.g. nightly: {rustup: nightly})",
    ]


def test_host_target_needs_no_entry(tmp_path):
    m = load_matrix(write(tmp_path / "m.yaml", f"""
        version: 1
        crates:
          tiny: {{path: {TINY}, targets: [x86_64-unknown-linux-gnu]}}
        variants: [{{name: release}}]
    """), host="x86_64-unknown-linux-gnu")
    assert m.crates["tiny"].targets == ["x86_64-unknown-linux-gnu"]


def test_misspelled_keys_get_suggestions_and_all_errors_come_at_once(tmp_path):
    assert problems(tmp_path, f"""
        version: 1
        crates:
          tiny: {{path: {TINY}, artifcat: bin:tiny}}
        variants:
          - {{name: release, cargo: {{lto: fatt, opt-levle: 3, codegen-units: 0}}}}
          - {{name: s, from: release, post: [strip, {{upx: {{level: 11}}}}, strp]}}
    """) == [
        "m.yaml:3: crates.tiny.artifcat: unknown key (did you mean \"artifact\"?); allowed: path, artifact, "
        "toolchain, targets, smoke, budget, features, default-features, env, rustflags, reference, bench",
        "m.yaml:5: variants[0].cargo.opt-levle: unknown key (did you mean \"opt-level\"?); allowed: opt-level, "
        "debug, split-debuginfo, strip, debug-assertions, overflow-checks, lto, panic, incremental, "
        "codegen-units, rpath, codegen-backend, trim-paths",
        "m.yaml:5: variants[0].cargo.lto: expected true, false, \"fat\", \"thin\" or \"off\", got 'fatt'",
        "m.yaml:5: variants[0].cargo.codegen-units: expected a whole number >= 1, got 0",
        "m.yaml:6: variants[1].post[1].upx.level: expected 1-9 or \"best\", got 11 (int)",
        "m.yaml:6: variants[1].post[2]: unknown post step 'strp' (did you mean \"strip\"?); use strip or upx",
    ]


def test_yaml_syntax_error(tmp_path):
    assert problems(tmp_path, "version: 1\ncrates: {tiny: {path: x}\nvariants: []\n") == [
        "m.yaml:3: YAML syntax error: expected ',' or '}', but got '<scalar>'; fix the YAML syntax"]


def test_empty_file(tmp_path):
    assert problems(tmp_path, "\n") == [
        "m.yaml:1: (top level): the file is empty; a matrix needs at least version, crates and variants"]


def test_duplicate_variant_and_bad_names(tmp_path):
    assert problems(tmp_path, f"""
        version: 1
        crates:
          tiny: {{path: {TINY}}}
          ../evil: {{path: {TINY}}}
        variants:
          - {{name: release}}
          - {{name: release}}
          - {{name: "a;rm -rf"}}
    """) == [
        "m.yaml:4: crates.../evil: crate name '../evil' may only use letters, digits, '.', '_', '+' and '-' "
        "(no '/', '..', spaces or shell characters); rename it",
        "m.yaml:7: variants[1].name: duplicate variant name 'release' (first used by variants[0]); "
        "give each row its own name",
        "m.yaml:8: variants[2].name: variant name 'a;rm -rf' may only use letters, digits, '.', '_', '+' and '-' "
        "(no '/', '..', spaces or shell characters); rename it",
    ]


def test_budget_units(tmp_path):
    m = good(tmp_path, f"""
        version: 1
        crates:
          tiny: {{path: {TINY}, budget: {{max: 1MiB, variants: {{dev: 8MB}}}}}}
        variants: [{{name: release}}]
    """)
    assert m.crates["tiny"].budget == {"max": 1048576, "targets": {}, "variants": {"dev": 8000000}}
    assert problems(tmp_path, f"""
        version: 1
        crates:
          tiny: {{path: {TINY}, budget: 1 parsec}}
        variants: [{{name: release}}]
    """) == ["m.yaml:3: crates.tiny.budget: unknown unit 'parsec' in '1 parsec'; use B, KB, MB, GB, KiB, MiB or GiB"]


def test_parse_size():
    assert parse_size("1MiB") == 1048576
    assert parse_size("1.5 MB") == 1500000
    assert parse_size(300) == 300
    with pytest.raises(ValueError, match="unknown unit 'XB'"):
        parse_size("3XB")


def test_wrong_version_and_baseline(tmp_path):
    assert problems(tmp_path, f"""
        version: 2
        baseline: relase
        crates:
          tiny: {{path: {TINY}}}
        variants: [{{name: release}}]
    """) == [
        "m.yaml:1: version: unsupported version 2; this sizekit reads version 1",
        "m.yaml:2: baseline: baseline 'relase' is not a variant name (did you mean \"release\"?); use one of: release",
    ]


def test_missing_file(tmp_path):
    with pytest.raises(MatrixError, match="matrix file not found; create it or pass matrix=PATH"):
        load_matrix(str(tmp_path / "nope.yaml"))


def test_only_and_label(tmp_path):
    m = good(tmp_path, MINIMAL + """\
  - {name: z, from: release, cargo: {opt-level: z}, label: "tiny z", only: {crates: [tiny]}}
""")
    v = m.variant("z")
    assert (v.label, v.only) == ("tiny z", {"crates": ["tiny"]})
