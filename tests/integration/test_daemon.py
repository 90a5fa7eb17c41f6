"""cairnd as a process: configuration errors, privilege drop, PostgreSQL
outages, certificate reload, connection limits, idle memory and clean
shutdown."""
import json
import os
import pathlib
import resource
import shutil
import signal
import socket
import ssl
import tempfile
import subprocess
import time

import pytest

from conftest import CAIRND, CAIRNCTL, daemon_uid, make_cert


def read_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()
    return fields


def test_bad_config_names_file_and_line(tmp_path):
    conf = tmp_path / "cairn.conf"
    conf.write_text("[server]\nworkers = 4\n\n[http]\nlsten = 127.0.0.1:8080\n")
    r = subprocess.run([CAIRND, "-c", str(conf)], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert f"{conf}:5:" in r.stderr
    assert "lsten" in r.stderr
    r = subprocess.run([CAIRNCTL, "-c", str(conf), "check-config"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1
    assert f"{conf}:5:" in r.stderr + r.stdout
    assert "did you mean 'listen'" in r.stderr + r.stdout


def test_missing_config_file(tmp_path):
    r = subprocess.run([CAIRND, "-c", str(tmp_path / "nope.conf")], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1
    assert "nope.conf" in r.stderr


def test_unreadable_certificate_is_named(cairnd_factory):
    d = cairnd_factory(start=False)
    text = d.conf.read_text().replace(str(d.cert), str(d.dir / "missing.pem"))
    d.conf.write_text(text)
    d.start(wait=False)
    assert d.proc.wait(10) == 1
    assert "missing.pem" in d.log_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop needs root")
def test_drops_privileges_after_binding(cairnd):
    st = read_status(cairnd.pid)
    uid = daemon_uid()
    assert uid is not None and uid != 0
    assert st["Uid"] == [str(uid)] * 4
    assert st["Gid"][0] != "0"
    # Its listeners were bound before the drop and still work.
    assert cairnd.get("/healthz")[0] == 200
    for tid in os.listdir(f"/proc/{cairnd.pid}/task"):
        assert read_status(f"{cairnd.pid}/task/{tid}")["Uid"][0] == str(uid)


def test_pid_file_written_and_removed(cairnd):
    assert int(cairnd.pid_file.read_text()) == cairnd.pid
    assert cairnd.stop() == 0
    assert not cairnd.pid_file.exists()


def test_postgres_outage_gives_503_then_recovers(cairnd, pg):
    assert cairnd.get("/healthz")[0] == 200
    pg.stop()
    try:
        status, _, body = cairnd.get("/healthz")
        assert status == 503
        assert json.loads(body)["status"] == "unavailable"
        # Still alive and still serving other paths.
        assert cairnd.proc.poll() is None
        assert cairnd.get("/metrics")[0] == 200
    finally:
        pg.start()
    deadline = time.monotonic() + 10
    while True:
        status = cairnd.get("/healthz")[0]
        if status == 200:
            break
        assert time.monotonic() < deadline, "healthz did not recover within 10 s"
        time.sleep(0.2)
    assert cairnd.proc.poll() is None


def test_starts_while_postgres_is_down(cairnd_factory, pg):
    pg.stop()
    try:
        d = cairnd_factory(migrate=False)
        assert d.get("/healthz")[0] == 503
    finally:
        pg.start()
    deadline = time.monotonic() + 10
    while d.get("/healthz")[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def peer_cert_der(port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            return t.getpeercert(binary_form=True)


def test_sighup_reloads_certificate(cairnd, tmp_path):
    before = peer_cert_der(cairnd.https_port)
    # An established TLS connection survives the reload.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    old = ctx.wrap_socket(socket.create_connection(("127.0.0.1", cairnd.https_port), timeout=5),
                          server_hostname="localhost")
    cert, key = make_cert(tmp_path / "new", cn="reloaded.test")
    cairnd.cert.write_bytes(cert.read_bytes())
    cairnd.key.write_bytes(key.read_bytes())
    cairnd.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "event=reload status=ok" not in cairnd.log_text():
        assert time.monotonic() < deadline, cairnd.log_text()
        time.sleep(0.05)
    after = peer_cert_der(cairnd.https_port)
    assert after != before
    assert after == ssl.PEM_cert_to_DER_cert(cert.read_text())
    old.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert old.recv(100).startswith(b"HTTP/1.1 200")
    old.close()


def test_sighup_with_broken_certificate_keeps_old(cairnd):
    before = peer_cert_der(cairnd.https_port)
    cairnd.cert.write_text("not a certificate\n")
    cairnd.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "event=reload status=failed" not in cairnd.log_text():
        assert time.monotonic() < deadline, cairnd.log_text()
        time.sleep(0.05)
    assert str(cairnd.cert) in cairnd.log_text().split("event=reload status=failed")[1]
    assert peer_cert_der(cairnd.https_port) == before


def http_connections(d):
    """The cairn_connections{protocol="http"} gauge, read from 127.0.0.2 so
    that the reading does not count against 127.0.0.1's per-IP limit (it
    counts its own connection)."""
    s = socket.create_connection(("127.0.0.1", d.http_port), timeout=5,
                                 source_address=("127.0.0.2", 0))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 200 "), data[:100]
    for line in data.decode().splitlines():
        if line.startswith('cairn_connections{protocol="http"} '):
            return int(line.split()[-1])
    raise AssertionError("no http connections gauge in /metrics")


def wait_http_connections(d, n, timeout=15):
    deadline = time.monotonic() + timeout
    while (got := http_connections(d)) != n:
        assert time.monotonic() < deadline, f"{got} http connections, expected {n}"
        time.sleep(0.05)


def test_per_ip_connection_limit(cairnd_factory):
    d = cairnd_factory({"server": {"max_connections_per_ip": "3"}})
    held = [socket.create_connection(("127.0.0.1", d.http_port), timeout=5) for _ in range(3)]
    wait_http_connections(d, 3 + 1)       # the three held, and the reading's own
    s = socket.create_connection(("127.0.0.1", d.http_port), timeout=5)
    data = s.recv(4096)
    assert data.startswith(b"HTTP/1.1 503 ")
    assert s.recv(10) == b""
    # Releasing one slot lets a new connection in, once the server has seen
    # it close.
    held.pop().close()
    wait_http_connections(d, 2 + 1)
    c = socket.create_connection(("127.0.0.1", d.http_port), timeout=5)
    c.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert c.recv(100).startswith(b"HTTP/1.1 404")
    for h in held:
        h.close()
    status, _, body = d.get("/metrics")
    assert "cairn_connections_refused_total 1" in body.decode()


def test_global_connection_limit(cairnd_factory):
    d = cairnd_factory({"server": {"max_connections": "2"}})
    held = [socket.create_connection(("127.0.0.1", d.http_port), timeout=5) for _ in range(2)]
    time.sleep(0.2)
    s = socket.create_connection(("127.0.0.1", d.http_port), timeout=5)
    assert s.recv(4096).startswith(b"HTTP/1.1 503 ")
    for h in held:
        h.close()


def rss_kib(pid):
    return int(read_status(pid)["VmRSS"][0])


def test_idle_connections_are_cheap(cairnd_factory):
    """ARCHITECTURE.md: an idle connection costs only its buffers, under 16 KiB."""
    n = 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < n + 100:
        pytest.skip("RLIMIT_NOFILE too low for the test")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, n + 100), hard))
    d = cairnd_factory({"server": {"max_connections_per_ip": "0", "max_connections": "100000"}})
    # Warm up allocator arenas with a few requests first.
    for _ in range(20):
        d.get("/healthz")
    before = rss_kib(d.pid)
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", d.http_port), timeout=5)
        socks.append(s)
    # One request on each, so every connection has been read from and parsed.
    for s in socks:
        s.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
    for s in socks:
        assert s.recv(4096).startswith(b"HTTP/1.1 404")
    time.sleep(0.3)
    after = rss_kib(d.pid)
    per_conn = (after - before) * 1024 / n
    print(f"idle HTTP connection: {per_conn:.0f} bytes of RSS each ({n} connections)")
    assert per_conn < 16 * 1024
    for s in socks:
        s.close()


def test_sigterm_drains_and_exits_cleanly(cairnd):
    idle = socket.create_connection(("127.0.0.1", cairnd.http_port), timeout=5)
    idle.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
    assert idle.recv(4096).startswith(b"HTTP/1.1 404")
    # stop() fails the test if cairnd is still up 20 s after SIGTERM.
    assert cairnd.stop() == 0
    assert idle.recv(10) == b""
    log = cairnd.log_text()
    assert "event=shutdown signal=TERM" in log
    assert "event=exit status=0" in log
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", cairnd.http_port), timeout=2)


def test_pid_file_in_a_root_owned_directory(cairnd_factory):
    """Issue 18: the pid file is written as root before the privilege drop;
    in a root-owned directory (/run style) the run user cannot remove it at
    exit. It must not be left naming a process that is gone: cairnd empties
    it through the descriptor it kept, and says so at start."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop privileges")
    rundir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-run-"))
    try:
        os.chmod(rundir, 0o755)         # root's, not writable by the run user
        pid_file = rundir / "cairnd.pid"
        d = cairnd_factory({"server": {"pid_file": str(pid_file)}})
        assert int(pid_file.read_text()) == d.pid
        assert "is not writable after the privilege drop" in d.log_text()
        assert d.stop() == 0
        assert not pid_file.exists() or pid_file.read_text() == "", pid_file.read_text()
        assert "event=pid-file" in d.log_text() and "status=emptied" in d.log_text()
        # A symlink planted where the pid file goes is not followed.
        pid_file.unlink()
        target = rundir / "target"
        target.write_text("precious\n")
        os.symlink(target, pid_file)
        d2 = cairnd_factory({"server": {"pid_file": str(pid_file)}}, start=False)
        r = subprocess.run([CAIRND, "-c", str(d2.conf)], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode != 0
        assert target.read_text() == "precious\n"
    finally:
        shutil.rmtree(rundir, ignore_errors=True)
