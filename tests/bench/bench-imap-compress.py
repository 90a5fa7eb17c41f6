#!/usr/bin/python3
"""What an idle IMAP connection costs with COMPRESS=DEFLATE (RFC 4978).
Prints figures; asserts nothing.

Opens --conns connections that LOGIN, SELECT INBOX and IDLE, first without
and then with COMPRESS DEFLATE, and reports cairnd's RSS growth per
connection: right after they settle (zlib streams live) and after the quiet
time (5 s) in which conn.c releases both streams; then once more after a
delivery woke every IDLE session (each sends its EXISTS through a fresh
deflater) and after they were quiet again. Also the bytes on the wire for a
FETCH of a few hundred headers, plain and compressed.

Use a plain (not a sanitizer) build: ASan keeps freed memory in quarantine.

    tests/bench/bench-imap-compress.py [--builddir build] [--conns 500]
"""
import argparse
import os
import pathlib
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import zlib

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import conftest  # noqa: E402
from conftest import Cairnd, Postgres, make_cert  # noqa: E402

PASSWORD = "bench-pw-1"
USER = "zbench@bench.test"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


class Conn:
    def __init__(self, port, compress):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.z = None
        self.wire = 0
        self.line()
        self.cmd(b"a", f"a LOGIN {USER} {PASSWORD}\r\n".encode())
        self.cmd(b"b", b"b SELECT INBOX\r\n")
        if compress:
            self.cmd(b"z", b"z COMPRESS DEFLATE\r\n")
            self.comp = zlib.compressobj(6, zlib.DEFLATED, -15)
            self.z = zlib.decompressobj(-15)
            rest, self.buf = self.buf, b""
            self.buf = self.z.decompress(rest)

    def send(self, data):
        if self.z is not None:
            data = self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH)
        self.s.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            raw = self.s.recv(65536)
            if not raw:
                raise EOFError
            self.wire += len(raw)
            self.buf += self.z.decompress(raw) if self.z is not None else raw
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def cmd(self, tag, data):
        self.send(data)
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                assert b" OK" in ln, ln
                return


def settle(seconds):
    time.sleep(seconds)


def measure(d, n, compress, mail):
    base = rss_kb(d.pid)
    conns = []
    for _ in range(n):
        c = Conn(d.imap_port, compress)
        c.send(b"i IDLE\r\n")
        assert c.line().startswith(b"+")
        conns.append(c)
    settle(1)
    live = rss_kb(d.pid)
    settle(7)
    quiet = rss_kb(d.pid)
    # A delivery wakes every IDLE session.
    w = Conn(d.imap_port, False)
    w.send(f"x APPEND INBOX {{{len(mail)}+}}\r\n".encode() + mail + b"\r\n")
    while not w.line().startswith(b"x "):
        pass
    for c in conns:
        while b"EXISTS" not in c.line():
            pass
    settle(1)
    woken = rss_kb(d.pid)
    settle(7)
    quiet2 = rss_kb(d.pid)
    for c in conns + [w]:
        c.s.close()
    settle(2)
    per = lambda kb: (kb - base) * 1024 / n
    return per(live), per(quiet), per(woken), per(quiet2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=str(REPO / "build"))
    ap.add_argument("--ctl", default=None, help="cairnctl (default: BUILDDIR/cairnctl)")
    ap.add_argument("--conns", type=int, default=500)
    args = ap.parse_args()
    conftest.CAIRND = str(pathlib.Path(args.builddir) / "cairnd")
    conftest.CAIRNCTL = args.ctl or str(pathlib.Path(args.builddir) / "cairnctl")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    base = pathlib.Path(tempfile.mkdtemp(prefix="bench-icomp-"))
    os.chmod(base, 0o755)
    pg = Postgres(base / "pg")
    cert, key = make_cert(base / "tls")
    d = Cairnd(base / "cairnd", pg, cert, key,
               extra={"server": {"log_level": "info", "max_connections": "30000",
                                 "max_connections_per_ip": "0"},
                      "imap": {"plaintext_auth": "yes", "idle_timeout": "30m"}})
    run = lambda *a: subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *a], check=True,
                                    capture_output=True)
    try:
        run("migrate")
        run("domain", "add", "bench.test")
        run("user", "add", USER, "--password", PASSWORD)
        d.start()
        mail = (f"From: a@remote.test\r\nTo: {USER}\r\nSubject: wake up\r\n\r\n"
                "hello\r\n").encode()
        # Some mail so FETCH has something to say.
        w = Conn(d.imap_port, False)
        for i in range(300):
            m = (f"From: Sender {i} <s{i}@remote.test>\r\nTo: {USER}\r\n"
                 f"Subject: report {i} on the budget\r\nMessage-ID: <m{i}@remote.test>\r\n"
                 f"Date: Mon, 1 Jun 2026 10:{i % 60:02d}:00 +0000\r\n\r\nbody {i}\r\n").encode()
            w.send(f"x APPEND INBOX {{{len(m)}+}}\r\n".encode() + m + b"\r\n")
            while not w.line().startswith(b"x "):
                pass
        w.s.close()
        for compress in (False, True):
            c = Conn(d.imap_port, compress)
            before = c.wire
            c.cmd(b"f", b"f FETCH 1:* (FLAGS ENVELOPE BODY.PEEK[HEADER])\r\n")
            print(f"FETCH 1:300 (FLAGS ENVELOPE BODY.PEEK[HEADER]) {'compressed' if compress else 'plain     '}:"
                  f" {c.wire - before} bytes on the wire")
            c.s.close()
        print(f"\n{args.conns} IDLE connections, cairnd RSS growth per connection (bytes):")
        print(f"  {'':12} {'settled':>9} {'quiet 8s':>9} {'woken':>9} {'quiet again':>12}")
        for compress in (False, True):
            live, quiet, woken, quiet2 = measure(d, args.conns, compress, mail)
            name = "COMPRESS" if compress else "plain"
            print(f"  {name:12} {live:9.0f} {quiet:9.0f} {woken:9.0f} {quiet2:12.0f}")
    finally:
        d.stop()
        pg.stop()


if __name__ == "__main__":
    main()
