#!/usr/bin/python3
"""Conformance check against a reference IMAP server: the same messages are
put into Cairn (cairnctl import) and into Debian's Dovecot (a private
instance over a Maildir), and FETCH (ENVELOPE BODYSTRUCTURE BODY RFC822.SIZE
BODY.PEEK[1.MIME] ...) answers are compared string for string. Prints every
difference and a summary; asserts nothing (differences need a human to judge:
Dovecot has its own documented leniencies).

Needs the Debian package dovecot-imapd and a built tree.

    tests/bench/compare-imap-dovecot.py [--builddir build] [FILE.eml ...]
"""
import argparse
import imaplib
import os
import pathlib
import re
import shutil
import ssl
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import conftest  # noqa: E402
from conftest import Cairnd, Postgres, make_cert  # noqa: E402
sys.path.insert(0, str(REPO / "tests" / "bench"))
from dovecot_ref import DovecotRef  # noqa: E402

PASSWORD = "compare-pw-1"
ITEMS = "(ENVELOPE BODYSTRUCTURE BODY RFC822.SIZE)"


def setup_dovecot(base, files):
    ref = DovecotRef(base / "dovecot", user="cmp", password=PASSWORD)
    ref.load_files(files, flags="S")
    return ref.start()


def fetch_all(port, user, tls):
    m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        m.starttls(ctx)
    m.login(user, PASSWORD)
    m.select("INBOX", readonly=True)
    typ, data = m.search(None, "ALL")
    out = []
    for num in data[0].split():
        tag = m._new_tag().decode()
        m.send(f"{tag} FETCH {num.decode()} {ITEMS}\r\n".encode())
        raw = b""
        while True:
            line = m.readline()
            m_lit = re.search(rb"\{(\d+)\}\r\n$", line)
            raw += line
            if m_lit:
                raw += m.file.read(int(m_lit.group(1)))
                continue
            if line.startswith(tag.encode()):
                break
        out.append(raw)
    m.logout()
    return out


def split_items(response):
    """FETCH response -> {item: value} for the top-level items."""
    text = response.split(b"\r\n", 1)[0] if b"{" not in response else response
    body = text[text.index(b"(") + 1:]
    items, i = {}, 0
    while i < len(body):
        while i < len(body) and body[i:i + 1] == b" ":
            i += 1
        m = re.match(rb"([A-Z0-9.\[\]]+) ", body[i:])
        if not m:
            break
        name = m.group(1).decode()
        i += m.end()
        start, depth, quoted = i, 0, False
        while i < len(body):
            c = body[i:i + 1]
            if quoted:
                if c == b"\\":
                    i += 1
                elif c == b'"':
                    quoted = False
            elif c == b'"':
                quoted = True
            elif c == b"{":
                n = int(body[i + 1:body.index(b"}", i)])
                i = body.index(b"\n", i) + n
            elif c == b"(":
                depth += 1
            elif c == b")":
                if depth == 0:
                    break
                depth -= 1
                if depth == 0:
                    i += 1
                    break
            elif c == b" " and depth == 0:
                break
            i += 1
        items[name] = body[start:i]
    return items


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=str(REPO / "build"))
    ap.add_argument("--crlf", action="store_true",
                    help="convert the messages to CRLF line ends first (Dovecot counts LF files "
                         "as if they were CRLF; Cairn stores bytes as received)")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    conftest.CAIRND = str(pathlib.Path(args.builddir) / "cairnd")
    conftest.CAIRNCTL = str(pathlib.Path(args.builddir) / "cairnctl")
    files = [pathlib.Path(f) for f in args.files] or \
        sorted((REPO / "tests" / "unit" / "data" / "mime").glob("*.eml"))
    base = pathlib.Path(tempfile.mkdtemp(prefix="cmp-imap-"))
    os.chmod(base, 0o755)
    if args.crlf:
        (base / "crlf").mkdir()
        converted = []
        for f in files:
            data = f.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            (base / "crlf" / f.name).write_bytes(data)
            converted.append(base / "crlf" / f.name)
        files = converted
    pg = d = ref = None
    try:
        pg = Postgres(base / "pg")
        cert, key = make_cert(base / "tls")
        d = Cairnd(base / "cairnd", pg, cert, key, extra={"server": {"log_level": "info"}})
        run = lambda *a: subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *map(str, a)],
                                        check=True, capture_output=True)
        run("migrate")
        run("domain", "add", "cmp.test")
        run("user", "add", "cmp@cmp.test", "--password", PASSWORD)
        mdir = base / "maildir"
        for sub in ("cur", "new", "tmp"):
            (mdir / sub).mkdir(parents=True)
        for i, f in enumerate(files):
            shutil.copy(f, mdir / "cur" / f"{1700000000 + i}.M{i}P1.cmp:2,S")
        run("import", "--user", "cmp@cmp.test", "--mailbox", "INBOX", mdir)
        d.start()
        ref = setup_dovecot(base, files)
        ours = fetch_all(d.imap_port, "cmp@cmp.test", tls=True)
        theirs = fetch_all(ref.port, ref.user, tls=False)
        if len(ours) != len(theirs):
            print(f"message count differs: cairn {len(ours)}, dovecot {len(theirs)}")
        same = differ = 0
        # Both import in file-name order; pair them up by position.
        for f, a, b in zip(files, ours, theirs):
            ia, ib = split_items(a), split_items(b)
            for item in ("ENVELOPE", "BODYSTRUCTURE", "BODY", "RFC822.SIZE"):
                if ia.get(item) == ib.get(item):
                    same += 1
                else:
                    differ += 1
                    print(f"--- {f.name} {item}\n  cairn:   {ia.get(item)!r}\n  dovecot: {ib.get(item)!r}")
        print(f"\n{len(files)} messages, {same} items identical, {differ} differ")
    finally:
        if d is not None and d.proc is not None:
            d.stop()
        if ref is not None:
            ref.stop()
        if pg is not None:
            pg.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
