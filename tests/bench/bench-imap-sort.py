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
import email.utils
import os
import random
import re
import time

import benchlib
from benchlib import CAIRN_USER, DOVECOT_USER, PASSWORD
from dovecot_ref import DovecotRef

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


def setup_cairn(run, mbox, n):
    pg = run.postgres()
    d = run.cairnd(pg, {"server": {"log_level": "info", "workers": "4"},
                        "imap": {"plaintext_auth": "yes"}})
    benchlib.create_account(d, CAIRN_USER)
    progress(f"importing {n} messages into Cairn")
    progress(f"import took {benchlib.import_mbox(d, CAIRN_USER, mbox):.0f} s")
    for table in ("mailbox_messages", "message_blobs", "mailbox_expunged"):
        pg.psql("cairn", f"VACUUM ANALYZE {table}")
    d.start()
    return d


def connect(port, user):
    return benchlib.ImapConn(port, user, PASSWORD, timeout=1800)


def timed(port, user, command, runs):
    c = connect(port, user)
    c.cmd("EXAMINE INBOX")
    first, best, out = benchlib.first_and_best(runs, lambda: c.cmd(command))
    c.close()
    answer = b"\r\n".join(ln for ln in out if ln.startswith(b"* SORT") or ln.startswith(b"* THREAD"))
    return first, best, answer


def qresync_round(port, user, changes, rng_seed, total):
    """Another session flags `changes` messages and expunges changes/10;
    returns (bytes, seconds) of the QRESYNC SELECT and of a full flag
    download, and the number of VANISHED/FETCH lines."""
    rng = random.Random(rng_seed)
    a = connect(port, user)
    a.cmd("ENABLE CONDSTORE")
    out = a.cmd("SELECT INBOX")
    text = b"".join(out)
    uv = int(re.search(rb"UIDVALIDITY (\d+)", text).group(1))
    ms = int(re.search(rb"HIGHESTMODSEQ (\d+)", text).group(1))
    top = int(re.search(rb"UIDNEXT (\d+)", text).group(1)) - 1
    a.close()
    b = connect(port, user)
    b.cmd("SELECT INBOX")
    uids = rng.sample(range(1, top + 1), min(changes + changes // 10, top // 2))
    flag, gone = uids[:changes], uids[changes:]
    for i in range(0, len(flag), 500):
        b.cmd("UID STORE " + ",".join(map(str, flag[i:i + 500])) + " +FLAGS.SILENT (\\Flagged)")
    if gone:
        b.cmd("UID STORE " + ",".join(map(str, gone)) + " +FLAGS.SILENT (\\Deleted)")
        b.cmd("UID EXPUNGE " + ",".join(map(str, gone)))
    b.close()
    c = connect(port, user)
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
    ap = benchlib.argparser()
    ap.add_argument("--messages", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=3)
    args = benchlib.parse_args(ap)
    benchlib.require("bench-imap-sort", ["dovecot"], "dovecot-imapd")
    with benchlib.Run("bench-sort-") as run:
        ref = run.track(DovecotRef(run.base / "dovecot", user=DOVECOT_USER, password=PASSWORD))
        progress(f"generating {args.messages} messages")
        msgs = corpus(args.messages)
        ref.load(msgs)
        mbox = run.base / "in.mbox"
        total = benchlib.write_mbox(mbox, msgs)
        del msgs
        d = setup_cairn(run, mbox, args.messages)
        ref.start()
        t0 = time.monotonic()
        c = connect(ref.port, DOVECOT_USER)
        c.cmd("EXAMINE INBOX")
        c.close()
        progress(f"Dovecot's first SELECT (indexing): {time.monotonic() - t0:.1f} s")
        servers = (("cairn", d.imap_port, CAIRN_USER), ("dovecot", ref.port, DOVECOT_USER))
        benchlib.conditions(
            "bench-imap-sort", cairn=f"cairnd, PostgreSQL {benchlib.pg_settings(d.pg)}",
            dovecot=ref.describe(),
            machine=f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
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


if __name__ == "__main__":
    main()
