"""The README's dev setup, as a new user runs it: ./bootstrap start brings up
PostgreSQL under ./var and cairnd on the fixed dev ports, survives a database
restart, and ./bootstrap stop leaves nothing running. Both are idempotent."""
import json
import os
import pathlib
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import TOP

BOOTSTRAP = TOP / "bootstrap"
VAR = TOP / "var"


def port_busy(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def healthz():
    try:
        with urllib.request.urlopen("http://127.0.0.1:8080/healthz", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def processes_under(path):
    """pids whose command line mentions path (cairnd -c var/..., postgres -D var/pg)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmd = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if str(path).encode() in cmd and b"pytest" not in cmd:
            found.append((int(pid), cmd.decode(errors="replace")))
    return found


def run(*args, timeout=600):
    r = subprocess.run([str(BOOTSTRAP), *args], cwd=TOP, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, f"./bootstrap {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture
def dev_tree():
    if (VAR / "run" / "cairnd.pid").exists() or port_busy(8080) or port_busy(8443):
        pytest.skip("a dev cairnd (or something else) already uses 8080/8443 on this machine")
    yield
    subprocess.run([str(BOOTSTRAP), "stop"], cwd=TOP, capture_output=True, timeout=120)


def test_start_serves_and_stop_cleans_up(dev_tree):
    r = run("start")
    assert "demo@example.test" in r.stdout
    assert healthz() == (200, {"status": "ok", "store": "ok"})

    # Running it again is harmless and keeps the same daemon.
    pid = int((VAR / "run" / "cairnd.pid").read_text())
    run("start")
    assert int((VAR / "run" / "cairnd.pid").read_text()) == pid

    # HTTPS with TLS 1.3 on the dev port.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(VAR / "tls" / "cert.pem")
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with socket.create_connection(("127.0.0.1", 8443), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            assert t.version() == "TLSv1.3"

    # The demo user exists, with a yescrypt hash.
    users = subprocess.run([str(TOP / "build" / "cairnctl"), "-c", str(VAR / "cairn.conf"),
                            "user", "list", "example.test"], capture_output=True, text=True)
    assert "demo@example.test" in users.stdout

    # PostgreSQL down: 503, daemon alive; back up: 200 within 10 s.
    pgbin = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    pg_ctl = ["runuser", "-u", "postgres", "--", str(pgbin / "pg_ctl"), "-D", str(VAR / "pg")]
    subprocess.run(pg_ctl + ["-m", "fast", "-w", "stop"], check=True, capture_output=True)
    assert healthz()[0] == 503
    subprocess.run(pg_ctl + ["-l", str(VAR / "log" / "postgresql.log"), "-w", "start"],
                   check=True, capture_output=True)
    deadline = time.monotonic() + 10
    while healthz()[0] != 200:
        assert time.monotonic() < deadline, "healthz not back to 200 within 10 s"
        time.sleep(0.2)
    os.kill(pid, 0)

    # Edits to var/cairn.conf survive stop/start.
    conf = VAR / "cairn.conf"
    conf.write_text(conf.read_text().replace("log_level = info", "log_level = debug"))
    run("stop")
    assert processes_under(VAR) == []
    assert not port_busy(8080)
    run("stop")
    run("start")
    assert "log_level = debug" in conf.read_text()
    assert healthz()[0] == 200
    run("stop")
    assert processes_under(VAR) == []
