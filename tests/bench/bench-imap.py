#!/usr/bin/python3
"""IMAP benchmark: Cairn against Debian's Dovecot (dovecot-imapd) on the same
machine with the same mail. Prints figures; asserts nothing.

1. SELECT of a --big (100,000) message mailbox: milliseconds, first and best
   of 5, for each server; Cairn's mailbox is filled with SQL (rows sharing
   the imported messages' blobs), Dovecot's is a Maildir folder.
2. FETCH 1:N (FLAGS ENVELOPE) of --fetch (50,000) messages from that mailbox:
   Cairn's RSS before and its peak while the answer streams.
3. A mixed workload per client (LOGIN, SELECT, FETCH the headers of 20
   messages, FETCH one body, STORE flags, APPEND, EXPUNGE the appended
   message, LOGOUT: 8 operations), --clients 50,200 concurrent clients, one
   process each (multiprocessing), for --seconds each: operations/s for each
   server and the ratio.
4. --idle (10,000) connections in IDLE: the PSS of cairnd against the sum
   of the PSS of Dovecot's processes (master and all its children): PSS
   counts a page shared by N processes as 1/N in each, so the sum counts it
   once, as cairnd's one process does (a sum of RSS would count Dovecot's
   shared pages once per process). RSS is printed too. If they cannot all
   be opened, the largest number that was is reported.

Conditions, printed at the start: PostgreSQL with fsync on (its default) and
synchronous_commit on; Dovecot with its default fsync_mode and the same
yescrypt hash as Cairn's account ({CRYPT}), no FTS plugin.

Needs the Debian package dovecot-imapd and a built tree (a plain, not a
sanitizer, build). Run as root (Dovecot's mail belongs to "mail").

    tests/bench/bench-imap.py [--builddir build] [--messages 1000] [--big 100000]
        [--fetch 50000] [--clients 50,200] [--seconds 20] [--idle 10000]
"""
import imaplib
import multiprocessing
import os
import random
import re
import resource
import selectors
import socket
import threading
import time

import benchlib
from benchlib import CAIRN_USER, DOVECOT_USER, PASSWORD, WORDS, pss_kb, rss_kb
from dovecot_ref import DovecotRef


def progress(msg):
    print(f"bench-imap: {msg}", flush=True)


def messages(n, seed=7):
    return benchlib.plain_messages(
        n, seed, (1_500, 3_000, 6_000, 12_000), 500,
        lambda i, rng: f"message {i} about the {rng.choice(WORDS)} {rng.choice(WORDS)}")


def tree_mem_kb(root, measure=pss_kb):
    """Sum of measure(pid) (PSS by default) over root and all its
    descendants, and how many processes that is."""
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(p))
    total, count, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        total += measure(pid)
        count += 1
        todo.extend(children.get(pid, []))
    return total, count


# ---- servers ----

def setup_cairn(run, msgs, big):
    pg = run.postgres()
    d = run.cairnd(pg, benchlib.MANY_IDLE, {"server": {"workers": "4"}})
    benchlib.create_account(d, CAIRN_USER)
    mbox = run.base / "in.mbox"
    benchlib.write_mbox(mbox, msgs)
    progress(f"importing {len(msgs)} messages into Cairn")
    benchlib.import_mbox(d, CAIRN_USER, mbox)
    d.start()
    c = imaplib.IMAP4("127.0.0.1", d.imap_port)
    c.login(CAIRN_USER, PASSWORD)
    c.create("Big")
    c.logout()
    progress(f"filling Cairn's Big with {big} messages by SQL")
    n = len(msgs)
    pg.psql("cairn", f"""
        INSERT INTO mailbox_messages (mailbox_id, uid, modseq, internaldate, flags, blob_id, size)
        SELECT big.id, g, g, src.internaldate, CASE WHEN g % 7 = 0 THEN 0 ELSE 1 END,
               src.blob_id, src.size
        FROM mailboxes big JOIN accounts a ON a.id = big.account_id
        JOIN mailboxes inbox ON inbox.account_id = a.id AND inbox.name = 'INBOX',
             generate_series(1, {big}) g
        JOIN mailbox_messages src ON src.uid = (g - 1) % {n} + 1
        WHERE a.address = '{CAIRN_USER}' AND big.name = 'Big' AND src.mailbox_id = inbox.id;
        UPDATE mailboxes SET uidnext = {big} + 1, highestmodseq = {big} + 1,
               first_recent_uid = {big} + 1 WHERE name = 'Big';
        ANALYZE mailbox_messages;""")
    return pg, d


def setup_dovecot(run, msgs, big, pwhash):
    ref = run.track(DovecotRef(run.base / "dovecot", user=DOVECOT_USER, password=PASSWORD,
                               pwhash=pwhash, many_clients=True))
    ref.load(msgs)
    progress(f"writing {big} messages into Dovecot's Maildir .Big")
    n = len(msgs)
    ref.load((msgs[i % n] for i in range(big)), folder="Big",
             flags=lambda i: "" if (i + 1) % 7 == 0 else "S")
    ref.subscribe("Big")
    # The same yescrypt hash as Cairn's account: logins cost the same.
    return ref.start()


# ---- 1 and 2: SELECT and FETCH of a big mailbox ----

def time_select(port, user, runs=5):
    times = []
    for _ in range(runs):
        c = imaplib.IMAP4("127.0.0.1", port)
        c.login(user, PASSWORD)
        t0 = time.monotonic()
        typ, data = c.select("Big", readonly=True)
        times.append((time.monotonic() - t0) * 1000)
        assert typ == "OK", data
        exists = int(data[0])
        c.logout()
    return times[0], min(times), exists


def fetch_rss(port, user, pid, n):
    c = imaplib.IMAP4("127.0.0.1", port)
    c.login(user, PASSWORD)
    c.select("Big", readonly=True)
    before = rss_kb(pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.01)

    t = threading.Thread(target=sample)
    t.start()
    t0 = time.monotonic()
    typ, data = c.fetch(f"1:{n}", "(FLAGS ENVELOPE)")
    elapsed = time.monotonic() - t0
    done.set()
    t.join()
    c.logout()
    return before, peak[0], len(data), elapsed


# ---- 3: mixed workload ----

def one_session(port, user, rng, count, appendmsg):
    c = imaplib.IMAP4("127.0.0.1", port)
    c.login(user, PASSWORD)
    typ, data = c.select("INBOX")
    exists = int(data[0])
    lo = rng.randrange(1, max(2, exists - 20))
    c.fetch(f"{lo}:{lo + 19}", "(UID FLAGS BODY.PEEK[HEADER])")
    c.fetch(str(rng.randrange(1, exists + 1)), "(BODY.PEEK[])")
    c.store(str(rng.randrange(1, exists + 1)), "+FLAGS", "(\\Flagged)")
    typ, resp = c.append("INBOX", None, None, appendmsg)
    m = re.search(rb"APPENDUID \d+ (\d+)", resp[0] or b"")
    if m:
        c.uid("STORE", m.group(1).decode(), "+FLAGS.SILENT", "(\\Deleted)")
        c.uid("EXPUNGE", m.group(1).decode())
    else:
        c.expunge()
    c.logout()
    return 8


def client_proc(port, user, seconds, seed, appendmsg, start_evt, result_q):
    rng = random.Random(seed)
    ops = errors = 0
    start_evt.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            ops += one_session(port, user, rng, 0, appendmsg)
        except (imaplib.IMAP4.error, OSError):
            errors += 1
    result_q.put((ops, errors))


def mixed(port, user, clients, seconds, appendmsg):
    ctx = multiprocessing.get_context("fork")
    start_evt = ctx.Event()
    q = ctx.Queue()
    procs = [ctx.Process(target=client_proc,
                         args=(port, user, seconds, i, appendmsg, start_evt, q))
             for i in range(clients)]
    for p in procs:
        p.start()
    time.sleep(1)
    t0 = time.monotonic()
    start_evt.set()
    results = [q.get() for _ in procs]
    elapsed = time.monotonic() - t0
    for p in procs:
        p.join()
    ops = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return ops / elapsed, errors


# ---- 4: IDLE connections ----

def idle_proc(port, user, n, ready_q, stop_evt):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 100), hard))
    sel = selectors.DefaultSelector()
    socks = []
    pending = {}
    script = (f"a LOGIN {user} {PASSWORD}\r\nb SELECT INBOX\r\nc IDLE\r\n").encode()
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.setblocking(False)
            socks.append(s)
            pending[s] = b""
            sel.register(s, selectors.EVENT_READ)
            s.send(script)
            # Keep the number of half-done logins bounded.
            while len(pending) > 200:
                step(sel, pending)
    except OSError:
        pass
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        step(sel, pending)
    idling = len(socks) - len(pending)
    ready_q.put(idling)
    stop_evt.wait()
    for s in socks:
        try:
            s.send(b"DONE\r\nz LOGOUT\r\n")
        except OSError:
            pass
        s.close()


def step(sel, pending):
    for key, _ in sel.select(timeout=1):
        s = key.fileobj
        try:
            data = s.recv(65536)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            sel.unregister(s)
            pending.pop(s, None)
            continue
        buf = pending.get(s, b"") + data
        if b"\r\n+ " in b"\r\n" + buf:
            sel.unregister(s)
            pending.pop(s, None)
        elif s in pending:
            pending[s] = buf[-4096:]


def idle_memory(port, user, n, measure):
    ctx = multiprocessing.get_context("fork")
    per = 2500
    q = ctx.Queue()
    stop_evt = ctx.Event()
    procs = []
    left = n
    while left > 0:
        k = min(per, left)
        procs.append(ctx.Process(target=idle_proc, args=(port, user, k, q, stop_evt)))
        left -= k
    for p in procs:
        p.start()
    idling = sum(q.get() for _ in procs)
    time.sleep(2)
    mem = measure()
    stop_evt.set()
    for p in procs:
        p.join()
    time.sleep(2)
    return idling, mem


def main():
    ap = benchlib.argparser()
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--big", type=int, default=100000)
    ap.add_argument("--fetch", type=int, default=50000)
    ap.add_argument("--clients", default="50,200")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--idle", type=int, default=10000)
    args = benchlib.parse_args(ap)
    benchlib.require("bench-imap", ["dovecot"], "dovecot-imapd")
    benchlib.raise_fd_limit()

    msgs = messages(args.messages)
    appendmsg = messages(1, seed=99)[0]
    with benchlib.Run("bench-imap-") as run:
        pg, d = setup_cairn(run, msgs, args.big)
        pwhash = pg.psql("cairn", "SELECT password_hash FROM accounts"
                                  f" WHERE address = '{CAIRN_USER}'").strip()
        ref = setup_dovecot(run, msgs, args.big, pwhash)
        dport, dpid = ref.port, ref.pid
        benchlib.conditions(
            "bench-imap", cairn=f"cairnd (4 workers), PostgreSQL {benchlib.pg_settings(pg)}, "
            f"yescrypt ({pwhash[:7]}...)", dovecot=ref.describe(),
            machine=f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
        servers = (("cairn", d.imap_port, CAIRN_USER), ("dovecot", dport, DOVECOT_USER))

        print(f"\nSELECT of a {args.big}-message mailbox (ms):")
        for name, port, user in servers:
            first, best, exists = time_select(port, user)
            print(f"  {name:8} first {first:8.1f}  best of 5 {best:8.1f}  (EXISTS {exists})")

        before, peak, n, elapsed = fetch_rss(d.imap_port, CAIRN_USER, d.pid, args.fetch)
        print(f"\nCairn FETCH 1:{args.fetch} (FLAGS ENVELOPE): {n} responses in {elapsed:.2f} s; "
              f"cairnd RSS {before / 1024:.1f} MB before, peak {peak / 1024:.1f} MB "
              f"(+{(peak - before) / 1024:.1f} MB)")
        _, _, n, elapsed = fetch_rss(dport, DOVECOT_USER, dpid, args.fetch)
        print(f"Dovecot FETCH 1:{args.fetch} (FLAGS ENVELOPE): {n} responses in {elapsed:.2f} s")

        print(f"\nMixed workload (8 operations per session), {args.seconds:.0f} s per run:")
        for clients in (int(x) for x in args.clients.split(",")):
            rates = {}
            for name, port, user in servers:
                rate, errors = mixed(port, user, clients, args.seconds, appendmsg)
                rates[name] = rate
                print(f"  {clients:4} clients  {name:8} {rate:9.0f} ops/s"
                      f"{f'  ({errors} failed sessions)' if errors else ''}", flush=True)
            print(f"  {clients:4} clients  ratio cairn/dovecot {rates['cairn'] / rates['dovecot']:.2f}")

        print(f"\n{args.idle} connections in IDLE (PSS; RSS in brackets):")
        base_c, base_c_rss = pss_kb(d.pid), rss_kb(d.pid)
        n, (mem, mem_rss) = idle_memory(d.imap_port, CAIRN_USER, args.idle,
                                        lambda: (pss_kb(d.pid), rss_kb(d.pid)))
        print(f"  cairn    {n:6} idling: cairnd PSS {mem / 1024:8.1f} MB "
              f"(idle before {base_c / 1024:.1f} MB, {(mem - base_c) / max(n, 1):.1f} kB each) "
              f"[RSS {mem_rss / 1024:.1f} MB, {(mem_rss - base_c_rss) / max(n, 1):.1f} kB each]")
        cairn_each = (mem - base_c) / max(n, 1)
        base_d, _ = tree_mem_kb(dpid)
        base_d_rss, _ = tree_mem_kb(dpid, rss_kb)
        n, ((mem, procs), (mem_rss, _)) = idle_memory(
            dport, DOVECOT_USER, args.idle,
            lambda: (tree_mem_kb(dpid), tree_mem_kb(dpid, rss_kb)))
        print(f"  dovecot  {n:6} idling: sum of PSS of {procs} processes {mem / 1024:8.1f} MB "
              f"(before {base_d / 1024:.1f} MB, {(mem - base_d) / max(n, 1):.1f} kB each) "
              f"[sum of RSS {mem_rss / 1024:.1f} MB, "
              f"{(mem_rss - base_d_rss) / max(n, 1):.1f} kB each]")
        print(f"  ratio of PSS per connection dovecot/cairn: "
              f"{(mem - base_d) / max(n, 1) / max(cairn_each, 0.001):.1f}")


if __name__ == "__main__":
    main()
