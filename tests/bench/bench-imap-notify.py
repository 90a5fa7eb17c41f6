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
import time

import benchlib
from benchlib import PASSWORD, rss_kb

USER = "nbench@bench.test"
NOTIFY = ("NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange))"
          " (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])    # utime + stime


def connect(port):
    return benchlib.ImapConn(port, USER, PASSWORD, select=True, timeout=60)


def measure(d, n, mode, mail):
    base = rss_kb(d.pid)
    conns = []
    for _ in range(n):
        c = connect(d.imap_port)
        if mode == "IDLE":
            c.send(b"i IDLE\r\n")
            assert c.line().startswith(b"+")
        else:
            c.cmd(NOTIFY)
        conns.append(c)
    time.sleep(2)
    settled = rss_kb(d.pid)
    ticks = cpu_ticks(d.pid)
    time.sleep(5)
    idle_ticks = cpu_ticks(d.pid) - ticks
    # One message in Archive (not selected): NOTIFY sessions get a STATUS,
    # IDLE sessions nothing; then one in INBOX wakes everybody.
    w = connect(d.imap_port)
    woke = None
    if mode == "NOTIFY":
        t0 = time.monotonic()
        w.append("Archive", mail)
        for c in conns:
            while not c.line().startswith(b"* STATUS Archive"):
                pass
        woke = time.monotonic() - t0
    w.append("INBOX", mail)
    for c in conns:
        while b"EXISTS" not in c.line():
            pass
    time.sleep(1)
    woken = rss_kb(d.pid)
    for c in conns + [w]:
        c.close(logout=False)
    time.sleep(2)
    per = lambda kb: (kb - base) * 1024 / n
    return per(settled), per(woken), idle_ticks, woke


def main():
    ap = benchlib.argparser(ctl=True)
    ap.add_argument("--conns", type=int, default=500)
    args = benchlib.parse_args(ap)
    benchlib.raise_fd_limit()
    with benchlib.Run("bench-inotify-") as run:
        pg = run.postgres()
        benchlib.conditions("bench-imap-notify",
                            cairn=f"Cairn alone, PostgreSQL {benchlib.pg_settings(pg)}")
        print(f"{args.conns} sessions of one user (6 mailboxes), SELECT INBOX; cairnd RSS growth"
              " per session (bytes), CPU while idle 5 s (clock ticks):")
        print(f"  {'':8} {'settled':>9} {'woken':>9} {'idle CPU':>9} {'STATUS to all':>14}")
        # A fresh daemon per mode, so that one mode does not reuse the
        # heap the other freed.
        for i, mode in enumerate(("IDLE", "NOTIFY")):
            d = run.cairnd(pg, benchlib.MANY_IDLE, name=f"cairnd{i}")
            if i == 0:
                benchlib.create_account(d, USER)
            d.start()
            try:
                mail = (f"From: a@remote.test\r\nTo: {USER}\r\nSubject: wake up\r\n\r\n"
                        "hello\r\n").encode()
                settled, woken, ticks, woke = measure(d, args.conns, mode, mail)
            finally:
                d.stop()
            w = f"{woke * 1000:.0f} ms" if woke is not None else "-"
            print(f"  {mode:8} {settled:9.0f} {woken:9.0f} {ticks:9d} {w:>14}")


if __name__ == "__main__":
    main()
