#!/usr/bin/python3
"""What an idle IMAP session watching with NOTIFY (RFC 5465) costs, next to a
plain IDLE session. Prints figures; asserts nothing.

Opens --conns sessions of one user (6 mailboxes) that LOGIN and SELECT INBOX,
then either IDLE, or send
  NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange))
             (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))
and wait between commands. Reports cairnd's RSS growth per session once they
settled, and after one APPEND to Archive woke every NOTIFY session (each
gets a STATUS, computed by one job per session) with the time until the
last one had it. Also the CPU time cairnd used while the sessions sat idle
(it should be zero: nothing polls).

Use a plain (not a sanitizer) build: ASan keeps freed memory in quarantine.

    tests/bench/bench-imap-notify.py [--builddir build] [--conns 500]
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

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import conftest  # noqa: E402
from conftest import Cairnd, Postgres, make_cert  # noqa: E402

PASSWORD = "bench-pw-1"
USER = "nbench@bench.test"
NOTIFY = (b"n NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange))"
          b" (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))\r\n")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])    # utime + stime


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""
        self.line()
        self.cmd(b"a", f"a LOGIN {USER} {PASSWORD}\r\n".encode())
        self.cmd(b"b", b"b SELECT INBOX\r\n")

    def line(self):
        while b"\r\n" not in self.buf:
            raw = self.s.recv(65536)
            if not raw:
                raise EOFError
            self.buf += raw
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def cmd(self, tag, data):
        self.s.sendall(data)
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                assert b" OK" in ln, ln
                return


def measure(d, n, mode, mail):
    base = rss_kb(d.pid)
    conns = []
    for _ in range(n):
        c = Conn(d.imap_port)
        if mode == "IDLE":
            c.s.sendall(b"i IDLE\r\n")
            assert c.line().startswith(b"+")
        else:
            c.cmd(b"n", NOTIFY)
        conns.append(c)
    time.sleep(2)
    settled = rss_kb(d.pid)
    ticks = cpu_ticks(d.pid)
    time.sleep(5)
    idle_ticks = cpu_ticks(d.pid) - ticks
    # One message in Archive (not selected): NOTIFY sessions get a STATUS,
    # IDLE sessions nothing; then one in INBOX wakes everybody.
    w = Conn(d.imap_port)
    woke = None
    if mode == "NOTIFY":
        t0 = time.monotonic()
        w.cmd(b"x", f"x APPEND Archive {{{len(mail)}+}}\r\n".encode() + mail + b"\r\n")
        for c in conns:
            while not c.line().startswith(b"* STATUS Archive"):
                pass
        woke = time.monotonic() - t0
    w.cmd(b"y", f"y APPEND INBOX {{{len(mail)}+}}\r\n".encode() + mail + b"\r\n")
    for c in conns:
        while b"EXISTS" not in c.line():
            pass
    time.sleep(1)
    woken = rss_kb(d.pid)
    for c in conns + [w]:
        c.s.close()
    time.sleep(2)
    per = lambda kb: (kb - base) * 1024 / n
    return per(settled), per(woken), idle_ticks, woke


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
    base = pathlib.Path(tempfile.mkdtemp(prefix="bench-inotify-"))
    os.chmod(base, 0o755)
    pg = Postgres(base / "pg")
    cert, key = make_cert(base / "tls")
    try:
        print(f"{args.conns} sessions of one user (6 mailboxes), SELECT INBOX; cairnd RSS growth"
              " per session (bytes), CPU while idle 5 s (clock ticks):")
        print(f"  {'':8} {'settled':>9} {'woken':>9} {'idle CPU':>9} {'STATUS to all':>14}")
        # A fresh daemon per mode, so that one mode does not reuse the
        # heap the other freed.
        for i, mode in enumerate(("IDLE", "NOTIFY")):
            d = Cairnd(base / f"cairnd{i}", pg, cert, key,
                       extra={"server": {"log_level": "info", "max_connections": "30000",
                                         "max_connections_per_ip": "0"},
                              "imap": {"plaintext_auth": "yes", "idle_timeout": "30m"}})
            run = lambda *a: subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *a],
                                            check=True, capture_output=True)
            if i == 0:
                run("migrate")
                run("domain", "add", "bench.test")
                run("user", "add", USER, "--password", PASSWORD)
            d.start()
            try:
                mail = (f"From: a@remote.test\r\nTo: {USER}\r\nSubject: wake up\r\n\r\n"
                        "hello\r\n").encode()
                settled, woken, ticks, woke = measure(d, args.conns, mode, mail)
            finally:
                d.stop()
            w = f"{woke * 1000:.0f} ms" if woke is not None else "-"
            print(f"  {mode:8} {settled:9.0f} {woken:9.0f} {ticks:9d} {w:>14}")
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
