"""Smoke checks on real programs: answers, crashes by signal name, timeouts, no leftovers."""
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time


from conftest import skip_no_tool

from sizekit.stages.smoke import free_port, run_smoke


def compile_c(tmp_path, name, source):
    if shutil.which("gcc") is None:
        skip_no_tool("gcc")
    src = tmp_path / f"{name}.c"
    src.write_text(textwrap.dedent(source))
    out = tmp_path / name
    subprocess.run(["gcc", "-O0", "-o", str(out), str(src)], check=True)
    return str(out)


def spec(**kw):
    return {"timeout": 5, "env": {}, "exit": 0, **kw}


def test_args_answer(tmp_path):
    prog = compile_c(tmp_path, "hello", 'int main(){puts("hello 1.0");return 0;}\n#include <stdio.h>\n'.replace(
        'int main', '#include <stdio.h>\nint main'))
    assert run_smoke(spec(args=["--version"], expect="hello 1.0"), prog, log_path=str(tmp_path / "l.log")) == \
        {"ok": True, "detail": "exit 0, output has 'hello 1.0'"}
    assert run_smoke(spec(args=[], expect="bye"), prog, log_path=str(tmp_path / "l.log")) == \
        {"ok": False, "detail": "output lacks 'bye': 'hello 1.0'"}


def test_crash_is_reported_by_signal_name(tmp_path):
    prog = compile_c(tmp_path, "crash", """
        int main(void) { volatile int *p = 0; return *p; }
    """)
    result = run_smoke(spec(args=[]), prog, log_path=str(tmp_path / "l.log"))
    assert result == {"ok": False, "detail": "SIGSEGV"}


def test_timeout_kills_the_whole_group(tmp_path):
    script = tmp_path / "hang.sh"
    # a duration no other process on the machine has, so pgrep finds only this group's sleeps
    nap = f"sleep 300.{os.getpid()}"
    script.write_text(f"#!/bin/sh\n{nap} &\n{nap}\n")
    script.chmod(0o755)
    start = time.monotonic()
    result = run_smoke(spec(args=[], timeout=1), str(script), log_path=str(tmp_path / "l.log"))
    assert result == {"ok": False, "detail": "timed out after 1 s"}
    assert time.monotonic() - start < 10
    # SIGKILL to the group is delivered at once, but the kernel reaps an orphan when it gets to it.
    deadline = time.monotonic() + 5
    while True:
        left = subprocess.run(["pgrep", "-f", nap], capture_output=True, text=True).stdout.split()
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert left == []


def test_http_server_and_cleanup(tmp_path):
    server = tmp_path / "serve.py"
    server.write_text(textwrap.dedent("""
        import http.server, os
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"Hello, world!"
                self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
                self.wfile.write(body)
            def log_message(self, *a): pass
        http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """))
    wrapper = tmp_path / "server"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} {server}\n")
    wrapper.chmod(0o755)
    result = run_smoke(spec(http={"path": "/", "expect": "Hello, world!", "port-env": "PORT"}), str(wrapper),
                       log_path=str(tmp_path / "l.log"))
    assert result == {"ok": True, "detail": "HTTP 200 'Hello, world!'"}
    # The server's process group was killed: nothing of ours is still running it.
    time.sleep(0.2)
    assert subprocess.run(["pgrep", "-f", str(server)], capture_output=True).returncode == 1


def test_http_server_that_dies(tmp_path):
    prog = compile_c(tmp_path, "die", "int main(void){return 3;}\n")
    result = run_smoke(spec(http={"path": "/", "expect": "x", "port-env": "PORT"}), prog,
                       log_path=str(tmp_path / "l.log"))
    assert result == {"ok": False, "detail": "exit 3 before serving HTTP"}


def test_free_port_is_loopback_and_free():
    port = free_port()
    assert 1024 <= port < 65536
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))     # raises OSError when the port is taken
        assert s.getsockname() == ("127.0.0.1", port)


def test_link_runs_the_artifact_under_another_name(tmp_path):
    """A multicall binary is one file that answers as the program it was called by."""
    prog = compile_c(tmp_path, "multi", """
        #include <stdio.h>
        #include <string.h>
        int main(int argc, char **argv) {
            const char *name = strrchr(argv[0], '/');
            printf("called as %s\\n", name ? name + 1 : argv[0]);
            return 0;
        }
    """)
    log = str(tmp_path / "l.log")
    assert run_smoke(spec(args=[], link="server", expect="called as server"), prog, log_path=log)["ok"] is True
    assert run_smoke(spec(args=[], link="client", expect="called as server"), prog, log_path=log) == \
        {"ok": False, "detail": "output lacks 'called as server': 'called as client'"}


def test_a_list_of_checks_is_one_verdict_naming_each():
    from sizekit.stages.smoke import combined, smoke_checks
    checks = smoke_checks({"args": [], "link": "a", "more": [{"args": ["-V"], "link": "b"}]})
    assert checks == [{"args": [], "link": "a"}, {"args": ["-V"], "link": "b"}]
    ok, bad = {"ok": True, "detail": "exit 0", "log": "l1"}, {"ok": False, "detail": "SIGSEGV", "log": "l2"}
    assert combined([ok, bad], ["a", "b"]) == {"ok": False, "detail": "a: exit 0; b: SIGSEGV", "log": "l2"}
    assert combined([ok, {"ok": None, "detail": "unavailable: x"}], ["a", None])["ok"] is None
    assert combined([ok], ["a"]) is ok


def test_smoke_list_and_link_in_the_matrix(tmp_path):
    import pytest
    from conftest import TINY, write
    from sizekit.config.load import load_matrix
    from sizekit.utils.errors import MatrixError
    m = load_matrix(write(tmp_path / "m.yaml", f"""
        version: 1
        crates:
          multi: {{path: {TINY}, artifact: bin:tiny,
                   smoke: [{{link: hello-hyper, http: {{path: /}}}}, {{link: http-ureq, args: [-V], expect: "0.1"}}]}}
        variants: [{{name: release}}]
    """))
    smoke = m.crates["multi"].smoke
    assert smoke["link"] == "hello-hyper" and "http" in smoke
    assert [c["link"] for c in smoke["more"]] == ["http-ureq"] and smoke["more"][0]["args"] == ["-V"]
    with pytest.raises(MatrixError) as exc:
        load_matrix(write(tmp_path / "bad.yaml", f"""
            version: 1
            crates:
              a: {{path: {TINY}, artifact: bin:tiny, smoke: []}}
              b: {{path: {TINY}, artifact: bin:tiny, smoke: {{link: ../x, args: []}}}}
              c: {{path: {TINY}, artifact: bin:tiny, smoke: [{{args: []}}, {{link: x, command: [sh]}}]}}
            variants: [{{name: release}}]
        """))
    assert [p.split(": ", 1)[1] for p in exc.value.problems] == [
        "crates.a.smoke: expected a smoke check or a list of them, got an empty list",
        "crates.b.smoke.link: link name '../x' may only use letters, digits, '.', '_', '+' and '-' (no '/', '..', "
        "spaces or shell characters); rename it",
        "crates.c.smoke[1].link: link: names the artifact as args: and http: start it; a command: names its own "
        "program (make the link in the command)",
    ]
