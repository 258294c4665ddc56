"""The cffi module itself built with SIZEKIT_SANITIZE=address, driven from Python on hostile bytes.

Every input goes through every exported function (also read as a string table of names), the estimate through sizekit's own
wrapper (sizekit.elf.backends.CBackend: estimate_packed, estimate_pieces, upx_check) as
the measure stage calls it. Inputs: truncations and header mutations of /bin/true and
/usr/bin/ls (150 KB, so matches reach far offsets), and every 50th input /usr/bin/gpg-agent
with bytes flipped (a 270 KB code piece: the branch-filter shortcut's quarter parse).
"""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import skip_no_tool, skip_no_package

# Builds with sanitizers or fuzzes many inputs: deselect with -m "not slow".
pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DRIVER = textwrap.dedent("""
    import glob, importlib.util, random, sys
    path = glob.glob(sys.argv[1] + "/sizekit/elf/_native*.so")[0]
    spec = importlib.util.spec_from_file_location("sizekit.elf._native", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ffi, lib = mod.ffi, mod.lib
    sys.path.insert(0, sys.argv[2])
    from sizekit.elf.backends import CBackend
    backend = CBackend(mod)
    rng = random.Random(5)
    bases = [open("/bin/true", "rb").read(), open("/usr/bin/ls", "rb").read()]
    big = open("/usr/bin/gpg-agent", "rb").read()
    count = 0
    for i in range(3000):
        if i % 50 == 0:  # whole (a truncated program is not UPX's), bytes flipped anywhere
            data = bytearray(big)
            for _ in range(200):
                data[rng.randrange(64, len(data))] = rng.randrange(256)
        else:
            base = bases[i % 2]
            data = bytearray(base[:rng.randrange(len(base) + 1)])
        for _ in range(rng.randint(0, 6)):
            if data:
                data[rng.randrange(min(64, len(data)))] = rng.randrange(256)
        buf = ffi.new("uint8_t[]", bytes(data)) if data else ffi.NULL
        info = ffi.new("sk_elf_info *")
        rc = lib.sk_elf_info_read(buf, len(data), info)
        cap = min(info.shnum, 70000) if rc == 0 else 0
        out = ffi.new("sk_section[]", max(cap, 1))
        cnt = ffi.new("size_t *")
        lib.sk_elf_sections(buf, len(data), out, cap, cnt)
        lib.sk_hash64(buf, len(data), 1)
        rc, est, _, _ = backend.estimate_packed(bytes(data), 1 + (i >> 1) % 2)
        assert (rc == 0 and est > 0) or (rc == -2 and not data), (rc, est)
        rc, pieces, total, _ = backend.estimate_pieces(bytes(data), 2 - (i >> 1) % 2)
        assert rc == (0 if data else -2) and (total > 0) == bool(data)
        assert backend.upx_check(bytes(data))[0] == 0
        # The bytes as a string table: names at any offset, the last one without a NUL.
        import numpy as np
        offs = np.array([rng.randrange(len(data) + 1) for _ in range(rng.randrange(40))], np.uint64)
        sizes = np.array([rng.randrange(3) for _ in range(len(offs))], np.uint64)
        rc, hashes, lens, _ = backend.name_hashes(bytes(data), offs, i)
        assert rc == 0 and all(int(o) + int(n) <= len(data) for o, n in zip(offs, lens))
        rc, order, _ = backend.name_order(bytes(data), offs, sizes)
        assert rc == 0 and sorted(order.tolist()) == list(range(len(offs)))
        if len(offs):
            bad = offs.copy()
            bad[-1] = len(data) + 1
            assert backend.name_hashes(bytes(data), bad, 0)[0] == -12
            assert backend.name_order(bytes(data), bad, sizes)[0] == -12
        cap = 1 << rng.randrange(1, 8)
        keys, vals = np.zeros(cap, np.uint64), np.zeros(cap, np.uint32)
        k = hashes[:cap // 4 * 3]
        rc, used = backend.index_put(keys, vals, cap, 0, k, np.arange(len(k), dtype=np.uint32))
        assert rc == 0 and used == len(set(k.tolist()))
        rc, got = backend.index_get(keys, vals, cap, hashes)
        assert rc == 0 and all(g >= 0 for g in got[:len(k)].tolist())
        count += 1
    print(count)
""")


def test_asan_build_of_the_module_survives_hostile_input(tmp_path):
    gcc = shutil.which("gcc")
    if gcc is None:
        skip_no_tool("gcc")
    libasan = subprocess.run([gcc, "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    if not os.path.isabs(libasan):
        skip_no_package("libasan8", "apt-get install libasan8")
    build = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {os.path.join(ROOT, 'sizekit', 'elf')!r}); "
                              f"import _build as b; b.ffibuilder.compile(tmpdir={str(tmp_path)!r})"],
        env=dict(os.environ, SIZEKIT_SANITIZE="address"), capture_output=True, text=True, cwd=ROOT)
    assert build.returncode == 0, build.stderr[-2000:]
    built = list((tmp_path / "sizekit" / "elf").glob("_native*.so"))
    assert len(built) == 1 and b"__asan_init" in built[0].read_bytes()  # really instrumented
    (tmp_path / "driver.py").write_text(DRIVER)
    run = subprocess.run([sys.executable, str(tmp_path / "driver.py"), str(tmp_path), ROOT], capture_output=True, text=True,
                         env=dict(os.environ, LD_PRELOAD=libasan, ASAN_OPTIONS="detect_leaks=0"), timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "AddressSanitizer" not in run.stderr and "runtime error" not in run.stderr
    assert run.stdout.strip() == "3000"
