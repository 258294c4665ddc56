"""sizekit.bloat / sizekit.demangle / `sizekit bloat`: attribution of real rustc-built binaries."""
import glob
import json
import os
import shutil
import subprocess

import pytest

from conftest import DODO, ROOT, copy_tiny, doit, require_tool, skip_no_tool, write
from sizekit.elf import bloat
from sizekit.elf import demangle as dm
from sizekit.elf import engine
from sizekit.cli.main import main
from sizekit.utils.errors import ElfError, UsageError

BACKENDS = ["pyderust", "c++filt"]

HELPER_RS = """
    // A second crate, so attribution has a non-std crate to find.
    pub static TABLE: [u64; 64] = {
        let mut t = [0u64; 64];
        let mut i = 0;
        while i < 64 { t[i] = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15); i += 1; }
        t
    };

    #[inline(never)]
    pub fn checksum(data: &[u8]) -> u64 {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for (i, b) in data.iter().enumerate() {
            h = (h ^ *b as u64).wrapping_mul(0x100_0000_01b3) ^ TABLE[i % 64];
        }
        h
    }
"""

MAIN_RS = """
    use std::collections::HashMap;

    fn main() {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for a in std::env::args() {
            *counts.entry(a.clone()).or_insert(0) += helper::checksum(a.as_bytes());
        }
        println!("{:?}", counts);
    }
"""


def _build(folder, mangling):
    """helper (rlib) + app, opt-level 1, with the given symbol mangling."""
    require_tool("rustc")
    flags = ["--edition", "2021", "-C", "opt-level=1"]
    if mangling != "legacy":    # stable's default; naming it needs -Z unstable-options
        flags += ["-C", f"symbol-mangling-version={mangling}"]
    helper = write(os.path.join(folder, "helper.rs"), HELPER_RS)
    app = write(os.path.join(folder, "main.rs"), MAIN_RS)
    rlib = os.path.join(folder, "libhelper.rlib")
    exe = os.path.join(folder, "app")
    subprocess.run(["rustc", *flags, "--crate-type", "rlib", "--crate-name", "helper", helper, "-o", rlib],
                   check=True, capture_output=True)
    subprocess.run(["rustc", *flags, "--crate-name", "app", app, "--extern", f"helper={rlib}", "-o", exe], check=True,
                   capture_output=True)
    return exe


@pytest.fixture(scope="module")
def binaries(tmp_path_factory):
    base = tmp_path_factory.mktemp("bloat")
    out = {}
    for mangling in ("legacy", "v0"):
        folder = base / mangling
        folder.mkdir()
        out[mangling] = _build(str(folder), mangling)
    stripped = str(base / "app-stripped")
    subprocess.run(["strip", "-o", stripped, out["legacy"]], check=True)
    out["stripped"] = stripped
    return out


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    if request.param == "c++filt" and shutil.which("c++filt") is None:
        skip_no_tool("c++filt", "apt-get install binutils")
    if request.param == "pyderust":
        pytest.importorskip("pyderust")
    monkeypatch.setenv("SIZEKIT_DEMANGLER", request.param)
    return request.param


# -- demangling ---------------------------------------------------------------------------------

KNOWN = [
    ("_ZN4core3fmt5write17h0123456789abcdefE", "core::fmt::write"),
    ("_ZN100_$LT$core..iter..adapters..skip..Skip$LT$I$GT$$u20$as$u20$core..iter..traits..iterator"
     "..Iterator$GT$4next17h7fed3e318b079423E",
     "<core::iter::adapters::skip::Skip<I> as core::iter::traits::iterator::Iterator>::next"),
    ("_ZN5alloc7raw_vec19RawVec$LT$T$C$A$GT$7reserve21do_reserve_and_handle17h1b2c3d4e5f601234E",
     "alloc::raw_vec::RawVec<T,A>::reserve::do_reserve_and_handle"),
    ("_ZN4core3fmt5write17h0123456789abcdefE.llvm.123456", "core::fmt::write"),
    ("_RNvC6_123foo3bar", "123foo::bar"),
    ("_RNvNtNtCsjrHSEGnQ3l9_3std2io5stdio19OUTPUT_CAPTURE_USED", "std::io::stdio::OUTPUT_CAPTURE_USED"),
    ("_RNvXNtCs8NwYtU1Mohg_4core3anyNtNtCsbEht8wFNRx7_5alloc6string6StringNtB2_3Any7type_idCsi4IsKQVxMg0_3std",
     "<alloc::string::String as core::any::Any>::type_id"),
    ("_RNvXNtCs8NwYtU1Mohg_4core3anyReNtB2_3Any7type_idCsi4IsKQVxMg0_3std",
     "<&str as core::any::Any>::type_id"),
    ("_RINvMNtCs8NwYtU1Mohg_4core3stre18trim_start_matchesReECscYsbIx0cOGh_14rustc_demangle",
     "<str>::trim_start_matches::<&str>"),
    ("_RNvMs0_NtNtNtNtCsi4IsKQVxMg0_3std3sys4sync4once5futexNtB5_4Once4call",
     "<std::sys::sync::once::futex::Once>::call"),
]


@pytest.mark.parametrize("mangled,expected", KNOWN)
def test_demangle_known_symbols(backend, mangled, expected):
    assert dm.demangle(mangled) == expected


@pytest.mark.parametrize("name", ["main", "_rjem_mallocx", "_ZNSt6vectorIiSaIiEE9push_backERKi", "_ZN3foo3barE", "_R", ""])
def test_non_rust_names_are_not_demangled(backend, name):
    assert dm.demangle(name) is None


def test_unknown_demangler_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("SIZEKIT_DEMANGLER", "llvm-cxxfilt")
    with pytest.raises(UsageError) as e:
        dm.backend_name()
    assert str(e.value) == "SIZEKIT_DEMANGLER must be one of pyderust, c++filt, not 'llvm-cxxfilt'"


@pytest.mark.parametrize("name,crate", [
    ("core::fmt::write", "core"),
    ("hyper::proto::h1::role::Server::encode", "hyper"),
    ("core::ptr::drop_in_place<hyper::body::Body>", "core"),
    ("core::ptr::drop_in_place::<hyper::body::Body>", "core"),
    ("<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop", "alloc"),
    ("<hyper::Error as core::fmt::Debug>::fmt", "hyper"),
    ("<&T as core::fmt::Debug>::fmt", "core"),
    ("<&mut bytes::BytesMut as core::fmt::Write>::write_str", "bytes"),
    ("<[T] as core::fmt::Debug>::fmt", "core"),
    ("<(A, B) as tokio::Foo>::bar", "tokio"),
    ("<dyn core::any::Any + core::marker::Send as core::fmt::Debug>::fmt", "core"),
    ("<fn(u8) -> http::Method as core::ops::Fn<(u8,)>>::call", "core"),
    ("<str>::trim_start_matches::<&str>", "core"),
    ("<std::sys::sync::once::futex::Once>::call", "std"),
    ("<<tokio::A as tokio::B>::C as core::clone::Clone>::clone", "tokio"),
    ("<&'a mio::net::TcpStream as std::io::Read>::read", "mio"),
    ("123foo::bar", "123foo"),
])
def test_crate_rule(name, crate):
    assert dm.crate_of(name) == crate


def test_std_grouping():
    assert [dm.group(c) for c in ("core", "alloc", "std", "gimli", "__rustc", "hashbrown", "hyper")] == \
        ["std", "std", "std", "std", "std", "hashbrown", "hyper"]
    assert [dm.group(c, split_std=True) for c in ("core", "alloc", "__rustc", "hyper")] == \
        ["core", "alloc", "std", "hyper"]
    assert dm.unmangled_crate("__rust_alloc") == "std"
    assert dm.unmangled_crate("_rjem_mallocx") == dm.NON_RUST


# -- attribution on real binaries ---------------------------------------------------------------

def _check_exact(att):
    sizes = {s.name: s.size for s in engine.read_sections(att.path).sections}
    assert set(att.sections) == set(att.section_sizes)
    for sec, crates in att.sections.items():
        assert att.section_sizes[sec] == sizes[sec]
        assert sum(crates.values()) == sizes[sec], sec
        assert all(b > 0 for b in crates.values())
    assert att.total == sum(att.section_sizes.values()) == sum(att.crates.values())
    assert list(att.crates.values()) == sorted(att.crates.values(), reverse=True)
    unknown = att.crates.get(dm.UNKNOWN, 0)
    assert sum(f[2] for f in att.functions) + unknown == att.total


@pytest.mark.parametrize("mangling", ["legacy", "v0"])
def test_totals_add_up_exactly(binaries, backend, mangling):
    att = bloat.attribute(binaries[mangling])
    assert att.demangler == backend
    assert {".text", ".rodata", ".data"} <= set(att.sections)
    assert ".bss" not in att.sections        # not file-backed: not covered by default
    _check_exact(att)


@pytest.mark.parametrize("mangling", ["legacy", "v0"])
def test_extra_crate_and_std(binaries, backend, mangling):
    att = bloat.attribute(binaries[mangling])
    assert att.crates["helper"] > 0
    assert att.sections[".text"]["helper"] > 0
    assert next(iter(att.crates)) == "std"
    assert "core" not in att.crates and "alloc" not in att.crates
    assert att.crates["app"] > 0       # main.rs, built as --crate-name app
    names = {f[0]: f for f in att.functions}
    assert names["helper::checksum"][1:] == ("helper", names["helper::checksum"][2], ".text")
    assert names["helper::TABLE"][1] == "helper"
    assert names["helper::TABLE"][2] == 64 * 8


def test_backends_agree(binaries, monkeypatch):
    pytest.importorskip("pyderust")
    got = {}
    for b in BACKENDS:
        monkeypatch.setenv("SIZEKIT_DEMANGLER", b)
        got[b] = bloat.attribute(binaries["legacy"]).sections
    assert got["pyderust"] == got["c++filt"]


def test_split_std(binaries):
    grouped = bloat.attribute(binaries["legacy"])
    split = bloat.attribute(binaries["legacy"], split_std=True)
    _check_exact(split)
    assert split.split_std and {"std", "core", "alloc"} <= set(split.crates)
    std_parts = sum(b for c, b in split.crates.items() if dm.group(c) == "std")
    assert std_parts == grouped.crates["std"]
    assert split.crates["helper"] == grouped.crates["helper"]


def test_crates_summary(binaries):
    assert bloat.crates_summary(binaries["legacy"]) == bloat.attribute(binaries["legacy"]).crates


def test_explicit_sections(binaries):
    att = bloat.attribute(binaries["legacy"], sections=[".text", ".bss"])
    assert list(att.sections) == [".text", ".bss"]
    _check_exact(att)
    with pytest.raises(ElfError) as e:
        bloat.attribute(binaries["legacy"], sections=[".nope"])
    assert str(e.value).startswith(f"{binaries['legacy']}: no section .nope (it has: .interp, ")


C_SRC = """
    #include <stdio.h>
    static const char table[300] = "x";
    __thread int tls_counter = 3;
    int counts[50];
    int work(int x) { counts[x % 50]++; return table[x % 300] + tls_counter; }
    int main(int argc, char **argv) { printf("%d\\n", work(argc)); return 0; }
"""


def test_elf32_c_program(tmp_path):
    """ELF32 (armv7) parsing, TLS symbols placed in .tdata, C symbols in [C/C++], .bss on request."""
    require_tool("arm-linux-gnueabihf-gcc")
    src = write(tmp_path / "c.c", C_SRC)
    exe = str(tmp_path / "c")
    subprocess.run(["arm-linux-gnueabihf-gcc", "-O1", src, "-o", exe], check=True)
    att = bloat.attribute(exe, sections=[".text", ".rodata", ".tdata", ".bss"])
    _check_exact(att)
    syms = {f[0]: f for f in att.functions}
    assert syms["table"] == ("table", dm.NON_RUST, 300, ".rodata")
    assert syms["tls_counter"] == ("tls_counter", dm.NON_RUST, 4, ".tdata")
    assert syms["counts"] == ("counts", dm.NON_RUST, 200, ".bss")
    assert syms["work"][1:] == (dm.NON_RUST, syms["work"][2], ".text")
    assert set(att.crates) == {dm.NON_RUST, dm.UNKNOWN}


# -- bad input ----------------------------------------------------------------------------------

def test_stripped_input(binaries):
    with pytest.raises(bloat.NoSymbolsError) as e:
        bloat.attribute(binaries["stripped"])
    assert isinstance(e.value, UsageError)
    assert str(e.value) == (f"{binaries['stripped']}: no symbol table (the file is stripped); "
                            f"attribute the unstripped build artifact")


@pytest.mark.parametrize("content,reason", [
    (b"", "empty file"),
    (b"#!/bin/sh\necho hi\n", "not an ELF file (bad magic)"),
])
def test_not_elf(tmp_path, content, reason):
    p = tmp_path / "f"
    p.write_bytes(content)
    with pytest.raises(ElfError) as e:
        bloat.attribute(p)
    assert str(e.value) == f"{p}: {reason}"


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ElfError, match="no such file"):
        bloat.attribute(tmp_path / "nope")
    with pytest.raises(ElfError, match="is a directory"):
        bloat.attribute(tmp_path)


def test_truncated_inputs_raise_elf_error(binaries, tmp_path):
    data = open(binaries["legacy"], "rb").read()
    for cut in (16, 63, 64, 200, len(data) // 2, len(data) - 1):
        p = tmp_path / f"cut{cut}"
        p.write_bytes(data[:cut])
        with pytest.raises(ElfError) as e:
            bloat.attribute(p)
        assert str(e.value).startswith(f"{p}: ")


# -- command line ---------------------------------------------------------------------------------

def test_cli_crates(binaries, capsys):
    assert main(["bloat", binaries["legacy"], "-n", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{binaries['legacy']}: ") and " bytes in " in out[0]
    assert out[1].split() == ["Share", ".text%", "Bytes", "Size", "Crate"]
    assert out[2].split()[-1] == "std"
    assert out[5].endswith("more crates. Use -n N to show more.")
    assert out[6].split()[:2] == ["100.0%", "100.0%"] and "total (std grouped;" in out[6]
    assert len(out) == 7


def test_cli_functions(binaries, capsys):
    assert main(["bloat", binaries["legacy"], "--functions", "-n", "5", "--split-std"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["Share", "Bytes", "Size", "Section", "Crate", "Name"]
    assert len(out) == 2 + 5 + 2


def test_cli_json(binaries, capsys):
    assert main(["bloat", binaries["v0"], "--json", "--functions", "-n", "4"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"file", "total", "split_std", "demangler", "crates", "sections", "functions"}
    assert doc["file"] == binaries["v0"] and doc["split_std"] is False
    assert sum(doc["crates"].values()) == doc["total"]
    assert set(doc["sections"][".text"]) == {"size", "crates"}
    assert sum(doc["sections"][".text"]["crates"].values()) == doc["sections"][".text"]["size"]
    assert len(doc["functions"]) == 4
    assert set(doc["functions"][0]) == {"name", "crate", "size", "section"}
    assert main(["bloat", binaries["v0"], "--json", "--split-std"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "functions" not in doc and doc["split_std"] is True and "core" in doc["crates"]


def test_cli_errors(binaries, tmp_path, capsys):
    assert main(["bloat", binaries["stripped"]]) == 2
    assert capsys.readouterr().err == (f"sizekit: {binaries['stripped']}: no symbol table (the file is "
                                       f"stripped); attribute the unstripped build artifact\n")
    junk = tmp_path / "junk"
    junk.write_text("hello")
    assert main(["bloat", str(junk)]) == 2
    assert capsys.readouterr().err == f"sizekit: {junk}: not an ELF file (bad magic)\n"
    assert main(["bloat", binaries["legacy"], "-n", "0"]) == 2
    assert capsys.readouterr().err == "sizekit: -n must be at least 1, not 0\n"
    with pytest.raises(SystemExit) as e:
        main(["bloat", binaries["legacy"], "--crates", "--functions"])
    assert e.value.code == 2


def test_cli_module_entry_point(binaries):
    r = subprocess.run(["python", "-m", "sizekit", "bloat", binaries["stripped"]], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("sizekit: ") and "no symbol table" in r.stderr


# -- a real, big artifact -------------------------------------------------------------------------

def _example_dev_binary(tmp_path):
    """The example's unstripped dev build: from a demo run's out/ if there is one, else built here."""
    found = glob.glob(os.path.join(ROOT, "out", "build", "hello-hyper", "x86_64-unknown-linux-gnu", "*",
                                   "hello-hyper"))
    if found:
        return max(found, key=os.path.getsize)
    require_tool("cargo")
    write(tmp_path / "matrix.yaml", f"""
        version: 1
        crates:
          hello-hyper: {{path: {os.path.join(ROOT, "examples", "hello-hyper")}, artifact: bin:hello-hyper}}
        variants: [{{name: dev, profile: dev}}]
    """)
    write(tmp_path / "dodo.py", DODO)
    doit(tmp_path)
    cell = json.load(open(tmp_path / "out" / "results.json"))["cells"][0]
    assert cell["status"] == "ok", cell
    return str(tmp_path / cell["stages"][0]["path"])


def _tiny_dev_binary(tmp_path):
    """A real cargo dev build of the tiny fixture crate (about a second)."""
    require_tool("cargo")
    crate = copy_tiny(tmp_path / "tiny")
    subprocess.run(["cargo", "build", "--target-dir", str(tmp_path / "t")], cwd=crate, check=True,
                   capture_output=True)
    return str(tmp_path / "t" / "debug" / "tiny")


@pytest.mark.slow
def test_real_cargo_artifact(tmp_path):
    att = bloat.attribute(_tiny_dev_binary(tmp_path))
    _check_exact(att)
    assert att.crates["tiny"] > 0 and att.crates["std"] > att.crates["tiny"]


@pytest.mark.slow
def test_real_example_artifact(tmp_path):
    # The example matrix's dev build (21 MB): hyper, tokio and http must all be found in it.
    att = bloat.attribute(_example_dev_binary(tmp_path))
    _check_exact(att)
    for crate in ("std", "hyper", "tokio", "http"):
        assert att.crates[crate] > 0, crate
    assert att.crates["hyper"] > att.crates["http"]
