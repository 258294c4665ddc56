"""`sizekit check --file PATH --budget SIZE`: an image or a root file system folder against a flash
budget, with the cells' table, lines and exit codes (0 within, 1 over, 2 for bad input)."""
import os
import subprocess
import sys

from conftest import ROOT


def check(*args, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "sizekit", "check", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_file_within_and_over_its_budget(tmp_path):
    (tmp_path / "rootfs.img").write_bytes(b"\0" * 5000)
    ok = check("--file", "rootfs.img", "--budget", "8KiB", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "rootfs.img  (file)" in ok.stdout and "OK" in ok.stdout
    assert ok.stdout.rstrip().endswith("1 within budget, 0 over (--budget 8KiB against rootfs.img)")
    over = check("--file", "rootfs.img", "--budget", "4000", "--name", "image", cwd=tmp_path)
    assert over.returncode == 1 and "image  (file)" in over.stdout and "OVER" in over.stdout


def test_a_folder_counts_each_file_once_and_no_symlink(tmp_path):
    root = tmp_path / "rootfs"
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "server").write_bytes(b"x" * 3000)
    os.link(root / "usr" / "bin" / "server", root / "usr" / "bin" / "server-again")   # one inode
    os.symlink("server", root / "usr" / "bin" / "link")
    (tmp_path / "outside").write_bytes(b"y" * 100000)
    os.symlink(str(tmp_path / "outside"), root / "outside-link")                       # not followed
    (root / "etc").mkdir()
    (root / "etc" / "config").write_bytes(b"z" * 1000)
    run = check("--file", "rootfs", "--budget", "4000", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4,000" in run.stdout and "(folder)" in run.stdout
    assert check("--file", "rootfs", "--budget", "3999", cwd=tmp_path).returncode == 1


def test_bad_input_is_exit_2_with_one_line(tmp_path):
    for args, message in ((["--file", "nope", "--budget", "1MB"], "sizekit: nope: not found"),
                          (["--file", ".", "--budget", "lots"], "sizekit: --budget lots: not a size"),
                          (["--file", "."], "sizekit: --file and --budget go together")):
        run = check(*args, cwd=tmp_path)
        assert run.returncode == 2 and run.stderr.startswith(message) and run.stderr.count("\n") == 1, run.stderr
