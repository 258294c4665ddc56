"""results.json is never seen half-written: not by a reader polling it while runs rewrite it,
and not after a run is killed with SIGKILL while it writes."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import TWO_ROWS, doit, tiny_project

pytestmark = pytest.mark.slow

MATRIX = TWO_ROWS


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("atomic")
    tiny_project(folder, MATRIX)
    doit(folder)
    return folder


def forget_report(folder):
    """Forget the report task, so the next doit rewrites results.json and nothing else."""
    doit(folder, "forget", "report")


def check_results(path):
    with open(path, "rb") as f:
        data = json.loads(f.read())
    assert data["version"] == 1 and len(data["cells"]) == 2
    return data


def test_a_reader_polling_results_json_never_sees_a_partial_file(built):
    path = built / "out" / "results.json"
    stop = threading.Event()
    seen = {"reads": 0, "inodes": set(), "versions": set(), "bad": []}

    def reader():
        while not stop.is_set():
            try:
                with open(path, "rb") as f:
                    st = os.fstat(f.fileno())
                    seen["inodes"].add(st.st_ino)
                    seen["versions"].add((st.st_ino, st.st_mtime_ns, st.st_size))
                    raw = f.read()
                json.loads(raw)
                seen["reads"] += 1
            except FileNotFoundError:
                seen["bad"].append("missing")
            except ValueError as exc:
                seen["bad"].append(f"{exc}: {raw[-80:]!r}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(6):
            forget_report(built)
            doit(built)
    finally:
        stop.set()
        thread.join()
    assert seen["bad"] == []
    # The report leaves a results.json that already holds its text alone (make and SCons see no
    # change), and replaces one that differs by a rename: never an edit in place, so each inode
    # the reader saw had one version only.
    assert len(seen["versions"]) == len(seen["inodes"]), seen["versions"]
    assert seen["reads"] > 100
    check_results(path)


def test_kill_9_while_the_report_is_written_leaves_a_valid_results_json(built):
    path = built / "out" / "results.json"
    forget_report(built)
    start = time.monotonic()
    doit(built)
    span = time.monotonic() - start
    # Kill at twelve points spread over a whole report run (interpreter start, plan, the write).
    for i in range(12):
        forget_report(built)
        proc = subprocess.Popen([sys.executable, "-m", "doit"], cwd=built, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(span * (i + 1) / 12)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        check_results(path)
    doit(built)
    check_results(path)
