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
import time

import benchlib
from benchlib import PASSWORD, rss_kb

USER = "zbench@bench.test"


def connect(port, compress):
    return benchlib.ImapConn(port, USER, PASSWORD, select=True, compress=compress, timeout=30)


def settle(seconds):
    time.sleep(seconds)


def measure(d, n, compress, mail):
    base = rss_kb(d.pid)
    conns = []
    for _ in range(n):
        c = connect(d.imap_port, compress)
        c.send(b"i IDLE\r\n")
        assert c.line().startswith(b"+")
        conns.append(c)
    settle(1)
    live = rss_kb(d.pid)
    settle(7)
    quiet = rss_kb(d.pid)
    # A delivery wakes every IDLE session.
    w = connect(d.imap_port, False)
    w.append("INBOX", mail)
    for c in conns:
        while b"EXISTS" not in c.line():
            pass
    settle(1)
    woken = rss_kb(d.pid)
    settle(7)
    quiet2 = rss_kb(d.pid)
    for c in conns + [w]:
        c.close(logout=False)
    settle(2)
    per = lambda kb: (kb - base) * 1024 / n
    return per(live), per(quiet), per(woken), per(quiet2)


def main():
    ap = benchlib.argparser(ctl=True)
    ap.add_argument("--conns", type=int, default=500)
    args = benchlib.parse_args(ap)
    benchlib.raise_fd_limit()
    with benchlib.Run("bench-icomp-") as run:
        pg = run.postgres()
        d = run.cairnd(pg, benchlib.MANY_IDLE)
        benchlib.create_account(d, USER)
        d.start()
        benchlib.conditions("bench-imap-compress",
                            cairn=f"Cairn alone, PostgreSQL {benchlib.pg_settings(pg)}")
        mail = (f"From: a@remote.test\r\nTo: {USER}\r\nSubject: wake up\r\n\r\n"
                "hello\r\n").encode()
        # Some mail so FETCH has something to say.
        w = connect(d.imap_port, False)
        for i in range(300):
            m = (f"From: Sender {i} <s{i}@remote.test>\r\nTo: {USER}\r\n"
                 f"Subject: report {i} on the budget\r\nMessage-ID: <m{i}@remote.test>\r\n"
                 f"Date: Mon, 1 Jun 2026 10:{i % 60:02d}:00 +0000\r\n\r\nbody {i}\r\n").encode()
            w.append("INBOX", m)
        w.close(logout=False)
        for compress in (False, True):
            c = connect(d.imap_port, compress)
            before = c.wire
            c.cmd("FETCH 1:* (FLAGS ENVELOPE BODY.PEEK[HEADER])")
            print(f"FETCH 1:300 (FLAGS ENVELOPE BODY.PEEK[HEADER]) {'compressed' if compress else 'plain     '}:"
                  f" {c.wire - before} bytes on the wire")
            c.close(logout=False)
        print(f"\n{args.conns} IDLE connections, cairnd RSS growth per connection (bytes):")
        print(f"  {'':12} {'settled':>9} {'quiet 8s':>9} {'woken':>9} {'quiet again':>12}")
        for compress in (False, True):
            live, quiet, woken, quiet2 = measure(d, args.conns, compress, mail)
            name = "COMPRESS" if compress else "plain"
            print(f"  {name:12} {live:9.0f} {quiet:9.0f} {woken:9.0f} {quiet2:12.0f}")


if __name__ == "__main__":
    main()
