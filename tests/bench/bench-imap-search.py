#!/usr/bin/python3
"""Full-text SEARCH benchmark: Cairn (message_text with its pg_trgm index)
against Debian's Dovecot twice, on the same --messages (100,000) generated
messages: in its default configuration, which has no FTS plugin (it reads
and decodes every message for a BODY/TEXT search: not an index against an
index), and with the FTS plugin Debian 12 ships, fts-xapian
(dovecot-fts-xapian; partial=3 full=20, its index built with doveadm index
before the searches, the time it took printed). Debian 12 also ships
dovecot-solr, which needs a Solr server, and no flatcurve. --no-fts skips
the xapian instance. Prints figures; asserts nothing.

The mail: sizes from 1 to 60 kB (most 2-6 kB), text/plain in UTF-8,
ISO-8859-1 and Windows-1252 (8bit, quoted-printable, base64), HTML-only and
multipart/alternative messages, some with a base64 attachment, encoded-word
subjects. Cairn gets it with `cairnctl import` (the append path that
extracts and indexes the text), Dovecot as a Maildir.

For each needle (a rare word, a common word, a two-character string, a
non-ASCII word) and each key (TEXT, BODY): the first and the best of
--runs UID SEARCH times on each server, the number of matches on each, and
the ratio Dovecot/Cairn.

Conditions, printed at the start: PostgreSQL fsync on, synchronous_commit
on; Dovecot's passwords {CRYPT} yescrypt, default fsync_mode.

Needs the Debian packages dovecot-imapd and dovecot-fts-xapian and a built
tree (a plain, not a sanitizer, build). Run as root (Dovecot's mail belongs
to "mail").

    tests/bench/bench-imap-search.py [--builddir build] [--messages 100000] [--runs 3]
        [--no-fts]
"""
import base64
import email.header
import email.utils
import imaplib
import os
import quopri
import random
import time
from pathlib import Path

import benchlib
from benchlib import CAIRN_USER, DOVECOT_USER, PASSWORD
from dovecot_ref import DovecotRef

COMMON = ("the of and to in is that for it as with was on be by this are from or have "
          "mail store server message quota mailbox report budget tomorrow please meeting "
          "project review draft agenda customer invoice delivery schedule").split()
LATIN1 = "café naïve Zürich Ärger façade mañana über déjà élève Größe".split()
CP1252 = ["“quoted”", "€uro", "‘single’", "dash–en"]
# (label, needle): the needles searched for.
NEEDLES = [("rare word", "xylophonist"), ("common word", "meeting"),
           ("2 characters", "zq"), ("non-ASCII word", "Zürich")]


def progress(msg):
    print(f"bench-imap-search: {msg}", flush=True)


def qp(data):
    return quopri.encodestring(data).replace(b"\n", b"\r\n")


def b64(data):
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def text_of(rng, size, pool):
    words, total = [], 0
    while total < size:
        w = rng.choice(pool)
        words.append(w)
        total += len(w) + 1
        if rng.random() < 0.08:
            words.append("\r\n")
    return " ".join(words).replace(" \r\n ", "\r\n")


def message(i, rng):
    m = make_message(i, rng)
    return m if m.endswith(b"\r\n") else m + b"\r\n"


def make_message(i, rng):
    size = int(min(60_000, rng.lognormvariate(8.2, 0.7)))        # median ~3.6 kB
    kind = rng.choices(["plain", "latin1", "cp1252", "html", "alternative", "attachment"],
                       [40, 15, 10, 10, 20, 5])[0]
    pool = COMMON * 4 + (LATIN1 if kind in ("latin1", "alternative", "html") else []) + \
        (CP1252 if kind == "cp1252" else [])
    body = text_of(rng, size, pool)
    if rng.random() < 0.0002:
        body += " xylophonist"
    if rng.random() < 0.3:
        body += " zq-ref"
    subject = f"{rng.choice(COMMON)} {rng.choice(COMMON + LATIN1)} #{i}"
    try:
        subject.encode("ascii")
        subj = subject
    except UnicodeEncodeError:
        subj = email.header.Header(subject, "utf-8").encode(linesep="\r\n")
    head = (f"From: Sender {i % 300} <s{i % 300}@example.org>\r\nTo: {CAIRN_USER}\r\n"
            f"Subject: {subj}\r\nDate: {email.utils.formatdate(1600000000 + i * 60)}\r\n"
            f"Message-ID: <{i}@bench.test>\r\nMIME-Version: 1.0\r\n").encode()
    if kind in ("plain", "latin1", "cp1252"):
        cs = {"plain": "utf-8", "latin1": "iso-8859-1", "cp1252": "windows-1252"}[kind]
        data = body.encode(cs)
        cte = rng.choice(["8bit", "quoted-printable", "base64"])
        enc = data if cte == "8bit" else qp(data) if cte == "quoted-printable" else b64(data)
        return head + (f"Content-Type: text/plain; charset={cs}\r\n"
                       f"Content-Transfer-Encoding: {cte}\r\n\r\n").encode() + enc
    html = ("<html><head><style>p{margin:0}</style></head><body><p>" +
            body.replace("&", "&amp;").replace("\r\n", "</p>\r\n<p>") + "</p></body></html>")
    if kind == "html":
        return head + (b"Content-Type: text/html; charset=utf-8\r\n"
                       b"Content-Transfer-Encoding: quoted-printable\r\n\r\n") + qp(html.encode())
    if kind == "alternative":
        return head + (b"Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n"
                       b"--a\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
                       qp(body.encode()) + b"\r\n--a\r\nContent-Type: text/html; charset=utf-8\r\n"
                       b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(html.encode()) +
                       b"\r\n--a--\r\n")
    blob = rng.randbytes(rng.randrange(2000, 30000))
    return head + (b"Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
                   b"--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body.encode() +
                   b"\r\n--m\r\nContent-Type: application/pdf; name=\"doc.pdf\"\r\n"
                   b"Content-Disposition: attachment; filename=\"doc.pdf\"\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(blob) + b"\r\n--m--\r\n")


def write_corpus(base, n, refs):
    """The messages as an mbox (for Cairn) and into each Dovecot's Maildir
    (refs); returns the mbox path and the total size."""
    def generate():
        rng = random.Random(2026)
        for i in range(n):
            m = message(i, rng)
            for ref in refs:
                ref.add(m)
            yield m
            if (i + 1) % 20000 == 0:
                progress(f"generated {i + 1} messages")

    mbox = base / "in.mbox"
    return mbox, benchlib.write_mbox(mbox, generate())


def setup_cairn(run, mbox, n):
    pg = run.postgres()
    d = run.cairnd(pg, {"server": {"log_level": "info", "workers": "4"},
                        "imap": {"plaintext_auth": "yes"}})
    benchlib.create_account(d, CAIRN_USER)
    progress(f"importing {n} messages into Cairn (text extracted and indexed on the way)")
    elapsed = benchlib.import_mbox(d, CAIRN_USER, mbox)
    progress(f"import took {elapsed:.0f} s ({n / elapsed:.0f} msg/s)")
    for table in ("message_text", "mailbox_messages", "message_blobs"):
        pg.psql("cairn", f"VACUUM ANALYZE {table}")
    d.start()
    sizes = pg.psql("cairn", "SELECT pg_size_pretty(pg_table_size('message_text')),"
                             " pg_size_pretty(pg_indexes_size('message_text')),"
                             " pg_size_pretty(sum(size)) FROM message_blobs").strip()
    return d, elapsed, sizes


def search(port, user, key, needle, runs):
    c = imaplib.IMAP4("127.0.0.1", port, timeout=1800)
    c.login(user, PASSWORD)
    c.select("INBOX", readonly=True)

    def once():
        c.literal = needle.encode()
        typ, data = c.uid("SEARCH", "CHARSET", "UTF-8", key)
        assert typ == "OK", data
        return len(data[0].split())

    first, best, count = benchlib.first_and_best(runs, once)
    c.logout()
    return first, best, count


def main():
    ap = benchlib.argparser()
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-fts", action="store_true", help="no fts-xapian instance")
    args = benchlib.parse_args(ap)
    benchlib.require("bench-imap-search", ["dovecot"], "dovecot-imapd")
    with_fts = not args.no_fts
    if with_fts and not any(Path(d).glob("lib21_fts_xapian_plugin.so")
                            for d in ("/usr/lib/dovecot/modules",)):
        raise SystemExit("bench-imap-search: fts-xapian not found "
                         "(apt-get install dovecot-fts-xapian) or use --no-fts")
    with benchlib.Run("bench-search-") as run:
        ref = run.track(DovecotRef(run.base / "dovecot", user=DOVECOT_USER, password=PASSWORD))
        refs = [ref]
        if with_fts:
            fts = run.track(DovecotRef(run.base / "dovecot-fts", user=DOVECOT_USER,
                                       password=PASSWORD, fts="xapian"))
            refs.append(fts)
        progress("generating the messages (an mbox for Cairn, a Maildir for each Dovecot)")
        mbox, total = write_corpus(run.base, args.messages, refs)
        progress(f"{args.messages} messages, {total / 1e6:.0f} MB")
        d, import_s, sizes = setup_cairn(run, mbox, args.messages)
        pg_settings = benchlib.pg_settings(d.pg)
        servers = [("cairn", d.imap_port, CAIRN_USER)]
        for r, name in zip(refs, ("dovecot", "dovecot-fts")):
            r.start()
            progress(f"{name}: indexes the Maildir on the first SELECT")
            t0 = time.monotonic()
            c = imaplib.IMAP4(r.host, r.port, timeout=1800)
            c.login(DOVECOT_USER, PASSWORD)
            typ, data = c.select("INBOX", readonly=True)
            c.logout()
            progress(f"{name}'s first SELECT: {time.monotonic() - t0:.1f} s, "
                     f"EXISTS {data[0].decode()}")
            servers.append((name, r.port, DOVECOT_USER))
        fts_index_s = None
        if with_fts:
            progress("dovecot-fts: building the xapian index (doveadm index)")
            fts_index_s = fts.index_fts()
            progress(f"dovecot-fts: index built in {fts_index_s:.0f} s")
        benchlib.conditions(
            "bench-imap-search",
            cairn=f"message_text with a pg_trgm GIN index, PostgreSQL {pg_settings}",
            dovecot=ref.describe() + ": reads every message for BODY/TEXT",
            dovecot_fts=(fts.describe() + f", index built before the searches in "
                         f"{fts_index_s:.0f} s") if with_fts else "skipped (--no-fts)",
            machine=f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
        print(f"\nUID SEARCH over {args.messages} messages ({total / 1e6:.0f} MB); "
              f"seconds, first and best of {args.runs}; ratio = server best / Cairn best "
              f"(higher: Cairn faster):")
        print(f"{'key':5} {'needle':28} {'server':12} {'first':>8} {'best':>8} {'hits':>7}"
              f" {'ratio':>7}")
        for label, needle in NEEDLES:
            for key in ("TEXT", "BODY"):
                res = {}
                for name, port, user in servers:
                    try:
                        res[name] = search(port, user, key, needle, args.runs)
                    except (imaplib.IMAP4.error, OSError) as e:
                        if name == "cairn":
                            tail = d.log.read_text(errors="replace")[-3000:]
                            raise SystemExit(f"{name}: {key} {needle!r} failed: {e}\n{tail}")
                        res[name] = None
                        print(f"{key:5} {label + ' ' + repr(needle):28} {name:12} failed: {e}")
                        continue
                    first, best, hits = res[name]
                    cb = res["cairn"][1]
                    print(f"{key:5} {label + ' ' + repr(needle):28} {name:12} {first:8.3f}"
                          f" {best:8.3f} {hits:7} {best / max(cb, 1e-6):6.1f}x", flush=True)
        print(f"\nCairn: import {import_s:.0f} s ({args.messages / import_s:.0f} msg/s); "
              f"message_text table, its indexes, the messages: {sizes.replace('|', ', ')}")


if __name__ == "__main__":
    main()
