#!/usr/bin/python3
"""SORT, THREAD and QRESYNC benchmark: Cairn against Debian's Dovecot in its
default configuration, on the same --messages (50,000) generated messages.
Prints figures and ratios; asserts nothing.

The mail: threads of 1 to 30 messages (Message-ID, References chains with
some missing or broken links, In-Reply-To only on some), subjects with
"Re:", "Fwd:", "[list]" tags and encoded words, display names, Date headers
with time zones (a few missing). Cairn gets it with `cairnctl import`,
Dovecot as a Maildir (uids in the same order on both).

Measured, first run and best of --runs, on both servers:
  - SORT (DATE), SORT (SUBJECT), SORT (FROM), SORT (REVERSE SIZE) and
    THREAD=REFERENCES/ORDEREDSUBJECT over all messages (and whether both
    servers give the same answer). The first SORT on each server builds
    what it keeps: Cairn computes and stores the sort keys of every
    imported message (message_sort_keys), Dovecot its index caches;
  - QRESYNC resynchronisation after N flag changes and N/10 expunges made by
    another session: bytes and time of `SELECT INBOX (QRESYNC (...))`,
    against what a client without QRESYNC downloads (UID FETCH 1:* (FLAGS)).

Needs the Debian package dovecot-imapd and a built tree (a plain, not a
sanitizer, build). Run as root (Dovecot's mail belongs to "mail").

    tests/bench/bench-imap-sort.py [--builddir build] [--messages 50000] [--runs 3]
"""
import argparse
import email.utils
import os
import pathlib
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.path.insert(0, str(REPO / "tests" / "bench"))
import conftest  # noqa: E402
from conftest import Cairnd, Postgres, make_cert  # noqa: E402
from dovecot_ref import DovecotRef  # noqa: E402

PASSWORD = "bench-pw-1"
CAIRN_USER = "bench@bench.test"
DOVECOT_USER = "bench"

TOPICS = ("budget review", "quarterly report", "server outage", "lunch on friday",
          "release planning", "customer complaint", "=?UTF-8?Q?Caf=C3=A9_meeting?=",
          "holiday schedule", "invoice 2231", "new hire onboarding", "build broken",
          "=?ISO-8859-1?Q?Z=FCrich_office?=", "security audit", "printer")
NAMES = ("Ann Example", "Bob Builder", "=?UTF-8?Q?J=C3=B6rg_M=C3=BCller?=", "Carol",
         "\"Dave, D.\"", None, "Eve")
LOCALS = ("ann", "bob", "joerg", "carol", "dave", "eve", "frank", "grace")


def progress(msg):
    print(f"bench-imap-sort: {msg}", flush=True)


def corpus(n, seed=5256):
    """n messages in threads, in arrival order."""
    rng = random.Random(seed)
    out = []
    t = 1700000000
    tid = 0
    while len(out) < n:
        tid += 1
        size = min(rng.randint(1, 30), n - len(out))
        topic = rng.choice(TOPICS)
        tag = rng.choice(("", "", "[dev] ", "[ops] "))
        ids = []
        for k in range(size):
            t += rng.randint(1, 600)
            mid = f"<t{tid}.{k}@bench.test>"
            h = []
            name = rng.choice(NAMES)
            a = f"{rng.choice(LOCALS)}@{rng.choice(('a.test', 'b.test'))}"
            h.append(f"From: {name} <{a}>" if name else f"From: {a}")
            h.append(f"To: {rng.choice(LOCALS)}@bench.test")
            subj = tag + topic if k == 0 else tag + rng.choice(("Re: ", "RE: ", "Fwd: ",
                                                                 "Re: Re: ")) + topic
            h.append(f"Subject: {subj}")
            if rng.random() > 0.02:
                h.append(f"Date: {email.utils.formatdate(t - rng.randint(0, 300))}")
            h.append(f"Message-ID: {mid}")
            if k > 0:
                parent = rng.choice(ids)
                chain = ids[:ids.index(parent) + 1]
                if rng.random() < 0.05:
                    chain = [f"<lost{tid}@bench.test>"] + chain[1:]
                if rng.random() < 0.1:
                    h.append(f"In-Reply-To: {parent}")
                else:
                    h.append("References: " + "\r\n ".join(chain[-10:]))
            ids.append(mid)
            body = f"message {len(out)} of thread {tid}\r\n" + "text " * rng.randint(10, 200)
            out.append(("\r\n".join(h) + "\r\n\r\n" + body + "\r\n").encode())
    return out


def write_corpus(base, msgs, ref):
    mbox = base / "in.mbox"
    with open(mbox, "wb") as f:
        for m in msgs:
            ref.add(m)
            f.write(b"From bench Thu Jan  1 00:00:00 2026\n")
            for line in m.splitlines(keepends=True):
                if line.lstrip(b">").startswith(b"From "):
                    line = b">" + line
                f.write(line)
            f.write(b"\n")
    return mbox


def setup_cairn(base, mbox, n):
    pg = Postgres(base / "pg")
    cert, key = make_cert(base / "tls")
    d = Cairnd(base / "cairnd", pg, cert, key,
               extra={"server": {"log_level": "info", "workers": "4"},
                      "imap": {"plaintext_auth": "yes"}})
    run = lambda *a: subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *a], check=True,
                                    capture_output=True)
    run("migrate")
    run("domain", "add", "bench.test")
    run("user", "add", CAIRN_USER, "--password", PASSWORD)
    progress(f"importing {n} messages into Cairn")
    t0 = time.monotonic()
    run("import", "--user", CAIRN_USER, "--mailbox", "INBOX", str(mbox))
    progress(f"import took {time.monotonic() - t0:.0f} s")
    for table in ("mailbox_messages", "message_blobs", "mailbox_expunged"):
        pg.psql("cairn", f"VACUUM ANALYZE {table}")
    d.start()
    return pg, d


class Conn:
    """A plain IMAP connection counting the bytes it receives."""

    def __init__(self, port, user):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=1800)
        self.f = self.s.makefile("rb")
        self.f.readline()
        self.n = 0
        self.received = 0
        self.cmd(f"LOGIN {user} {PASSWORD}")

    def cmd(self, text):
        self.n += 1
        tag = b"b%d" % self.n
        self.s.sendall(tag + b" " + text.encode() + b"\r\n")
        out = []
        while True:
            ln = self.f.readline()
            if not ln:
                raise EOFError(text)
            self.received += len(ln)
            out.append(ln)
            m = re.search(rb"\{(\d+)\}\r\n$", ln)
            if m:
                data = self.f.read(int(m.group(1)))
                self.received += len(data)
                out.append(data)
            if ln.startswith(tag + b" "):
                if not ln.startswith(tag + b" OK"):
                    raise RuntimeError(f"{text}: {ln!r}")
                return out

    def close(self):
        try:
            self.cmd("LOGOUT")
        except (EOFError, RuntimeError, OSError):
            pass
        self.s.close()


def timed(port, user, command, runs):
    c = Conn(port, user)
    c.cmd("EXAMINE INBOX")
    times, answer = [], None
    for _ in range(runs):
        t0 = time.monotonic()
        out = c.cmd(command)
        times.append(time.monotonic() - t0)
        answer = b"".join(ln for ln in out if ln.startswith(b"* SORT") or ln.startswith(b"* THREAD"))
    c.close()
    return times[0], min(times), answer


def qresync_round(port, user, changes, rng_seed, total):
    """Another session flags `changes` messages and expunges changes/10;
    returns (bytes, seconds) of the QRESYNC SELECT and of a full flag
    download, and the number of VANISHED/FETCH lines."""
    rng = random.Random(rng_seed)
    a = Conn(port, user)
    a.cmd("ENABLE CONDSTORE")
    out = a.cmd("SELECT INBOX")
    text = b"".join(out)
    uv = int(re.search(rb"UIDVALIDITY (\d+)", text).group(1))
    ms = int(re.search(rb"HIGHESTMODSEQ (\d+)", text).group(1))
    top = int(re.search(rb"UIDNEXT (\d+)", text).group(1)) - 1
    a.close()
    b = Conn(port, user)
    b.cmd("SELECT INBOX")
    uids = rng.sample(range(1, top + 1), min(changes + changes // 10, top // 2))
    flag, gone = uids[:changes], uids[changes:]
    for i in range(0, len(flag), 500):
        b.cmd("UID STORE " + ",".join(map(str, flag[i:i + 500])) + " +FLAGS.SILENT (\\Flagged)")
    if gone:
        b.cmd("UID STORE " + ",".join(map(str, gone)) + " +FLAGS.SILENT (\\Deleted)")
        b.cmd("UID EXPUNGE " + ",".join(map(str, gone)))
    b.close()
    c = Conn(port, user)
    c.cmd("ENABLE QRESYNC")
    before = c.received
    t0 = time.monotonic()
    out = c.cmd(f"SELECT INBOX (QRESYNC ({uv} {ms}))")
    q_time = time.monotonic() - t0
    q_bytes = c.received - before
    lines = sum(1 for ln in out if b"VANISHED" in ln or b" FETCH " in ln)
    before = c.received
    t0 = time.monotonic()
    c.cmd("UID FETCH 1:* (FLAGS)")
    f_time = time.monotonic() - t0
    f_bytes = c.received - before
    c.close()
    return q_bytes, q_time, lines, f_bytes, f_time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=str(REPO / "build"))
    ap.add_argument("--messages", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    conftest.CAIRND = str(pathlib.Path(args.builddir) / "cairnd")
    conftest.CAIRNCTL = str(pathlib.Path(args.builddir) / "cairnctl")
    if shutil.which("dovecot") is None:
        raise SystemExit("bench-imap-sort: dovecot not found (apt-get install dovecot-imapd)")
    base = pathlib.Path(tempfile.mkdtemp(prefix="bench-sort-"))
    os.chmod(base, 0o755)
    pg = d = ref = None
    try:
        ref = DovecotRef(base / "dovecot", user=DOVECOT_USER, password=PASSWORD)
        progress(f"generating {args.messages} messages")
        msgs = corpus(args.messages)
        mbox = write_corpus(base, msgs, ref)
        total = sum(len(m) for m in msgs)
        del msgs
        pg, d = setup_cairn(base, mbox, args.messages)
        try:
            ref.start()
        except FileNotFoundError:
            # dovecot_ref reads master.pid as soon as the port accepts; on
            # a loaded machine Dovecot writes it a moment later.
            for _ in range(50):
                time.sleep(0.1)
                pidfile = ref.root / "run" / "master.pid"
                if pidfile.exists():
                    ref.pid = int(pidfile.read_text())
                    break
        t0 = time.monotonic()
        c = Conn(ref.port, DOVECOT_USER)
        c.cmd("EXAMINE INBOX")
        c.close()
        progress(f"Dovecot's first SELECT (indexing): {time.monotonic() - t0:.1f} s")
        servers = (("cairn", d.imap_port, CAIRN_USER), ("dovecot", ref.port, DOVECOT_USER))
        print(f"\n{args.messages} messages ({total / 1e6:.0f} MB); seconds, first and best of "
              f"{args.runs}; ratio = Dovecot best / Cairn best (higher: Cairn faster)")
        print(f"{'command':34} {'cairn first':>11} {'best':>7} {'dovecot first':>13} {'best':>7}"
              f" {'ratio':>6}  same answer")
        for command in ("SORT (DATE) UTF-8 ALL", "SORT (SUBJECT) UTF-8 ALL",
                        "SORT (FROM) UTF-8 ALL", "SORT (REVERSE SIZE) UTF-8 ALL",
                        "THREAD REFERENCES UTF-8 ALL", "THREAD ORDEREDSUBJECT UTF-8 ALL"):
            res = {name: timed(port, user, command, args.runs) for name, port, user in servers}
            cf, cb, ca = res["cairn"]
            df, db, da = res["dovecot"]
            print(f"{command:34} {cf:11.3f} {cb:7.3f} {df:13.3f} {db:7.3f} {db / max(cb, 1e-6):6.2f}"
                  f"  {'yes' if ca == da else 'no'}", flush=True)
        print("\nQRESYNC: SELECT (QRESYNC) after N flag changes and N/10 expunges by another"
              " session, against UID FETCH 1:* (FLAGS) (what a client without QRESYNC needs)")
        print(f"{'N':>6} {'server':8} {'lines':>6} {'bytes':>8} {'seconds':>8}"
              f" {'full bytes':>11} {'seconds':>8}")
        for k, n in enumerate((10, 100, 1000)):
            row = {}
            for name, port, user in servers:
                row[name] = qresync_round(port, user, n, 100 + k, args.messages)
                qb, qt, lines, fb, ft = row[name]
                print(f"{n:6} {name:8} {lines:6} {qb:8} {qt:8.3f} {fb:11} {ft:8.3f}", flush=True)
            print(f"{'':6} ratio    bytes {row['dovecot'][0] / max(row['cairn'][0], 1):.2f},"
                  f" time {row['dovecot'][1] / max(row['cairn'][1], 1e-6):.2f}"
                  " (Dovecot / Cairn)")
    finally:
        if d is not None:
            d.stop()
        if ref is not None:
            ref.stop()
        if pg is not None:
            pg.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
