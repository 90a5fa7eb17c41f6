#!/usr/bin/python3
"""Import benchmark for the mail store: starts a private PostgreSQL (the test
fixture's Postgres class), generates N varied messages (2 KB to 2 MB, mostly
small: 80% 2-10 KB, 15% 10-100 KB, 4% 100 KB-1 MB, 1% 1-2 MB; text bodies,
base64 attachments in the big ones), imports them as an mbox with cairnctl,
and prints messages/s, MB/s and storage overhead (database growth / raw
bytes); then a no-op rerun, an mbox export (and whether it is identical), and
one message delivered to 1,000 mailboxes (dedup) in msg/s. Prints figures;
asserts nothing.

    tests/bench/bench-import.py [--messages 10000] [--builddir build]
"""
import argparse
import base64
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from conftest import Postgres  # noqa: E402

WORDS = ("the of and to in is that for it as with was on be by this are from or have "
         "mail store server message quota mailbox import export postgres blob index "
         "meeting project report budget tomorrow please attached review thanks").split()


def message(rng, i):
    r = rng.random()
    if r < 0.80:
        size = rng.randrange(2_000, 10_000)
    elif r < 0.95:
        size = rng.randrange(10_000, 100_000)
    elif r < 0.99:
        size = rng.randrange(100_000, 1_000_000)
    else:
        size = rng.randrange(1_000_000, 2_000_000)
    head = (f"From: Sender {i % 97} <s{i % 97}@example.org>\n"
            f"To: user@bench.test\nSubject: report {i} {' '.join(rng.sample(WORDS, 4))}\n"
            f"Date: Tue, 1 Jul 2003 10:52:37 +0200\nMessage-ID: <{i}.bench@example.org>\n"
            "MIME-Version: 1.0\n")
    text_size = size if size < 50_000 else 20_000
    lines, n = [], 0
    while n < text_size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 14)))
        if rng.random() < 0.02:
            line = "From " + line
        lines.append(line)
        n += len(line) + 1
    text = "\n".join(lines) + "\n"
    if size < 50_000:
        return (head + "Content-Type: text/plain; charset=us-ascii\n\n" + text).encode()
    blob = base64.encodebytes(rng.randbytes((size - text_size) * 3 // 4)).decode()
    return (head + 'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
            "Content-Type: text/plain\n\n" + text + "--b\nContent-Type: application/pdf\n"
            "Content-Transfer-Encoding: base64\n\n" + blob + "--b--\n").encode()


def write_mbox(path, count, seed=7):
    rng = random.Random(seed)
    raw = 0
    with open(path, "wb") as f:
        for i in range(count):
            m = message(rng, i)
            raw += len(m)
            f.write(b"From MAILER-DAEMON Tue Jul  1 08:52:37 2003\n")
            f.write(re.sub(rb"(?m)^(>*From )", rb">\1", m))
            f.write(b"\n")
    return raw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--mailboxes", type=int, default=1000, help="for the dedup figure")
    ap.add_argument("--builddir", default=os.environ.get("CAIRN_BUILDDIR", str(REPO / "build")))
    args = ap.parse_args()
    build = Path(args.builddir).resolve()
    cairnctl = os.environ.get("CAIRNCTL", str(build / "cairnctl"))
    store_test = build / "tests" / "integration" / "store-mail-test"

    base = Path(tempfile.mkdtemp(prefix="cairn-bench-"))
    os.chmod(base, 0o755)
    pg = Postgres(base / "pg", fsync=True)     # fsync on, as in production
    print("bench-import: conditions: Cairn alone; PostgreSQL " + ", ".join(
        pg.psql("postgres", "SELECT name || '=' || setting FROM pg_settings WHERE name IN"
                            " ('fsync', 'synchronous_commit') ORDER BY name").split()) +
          f"; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    try:
        conf = base / "cairn.conf"
        conf.write_text(f"[store]\nconninfo = {pg.conninfo}\n"
                        f"migrations_dir = {REPO / 'migrations'}\n[http]\nlisten_tls =\n")

        def ctl(*a):
            r = subprocess.run([cairnctl, "-c", str(conf), *map(str, a)], capture_output=True,
                               text=True, input="")
            if r.returncode != 0:
                sys.exit(f"cairnctl {' '.join(map(str, a))} failed:\n{r.stdout}{r.stderr}")
            return r

        ctl("migrate")
        ctl("domain", "add", "bench.test")
        ctl("user", "add", "user@bench.test", "--password", "x")
        dbsize = lambda: int(pg.psql("cairn", "SELECT pg_database_size('cairn')"))
        size0 = dbsize()

        mbox = base / "in.mbox"
        t = time.monotonic()
        raw = write_mbox(mbox, args.messages)
        print(f"generated {args.messages} messages, {raw / 1e6:.1f} MB raw "
              f"(mbox {mbox.stat().st_size / 1e6:.1f} MB) in {time.monotonic() - t:.1f} s")

        t = time.monotonic()
        r = ctl("import", "--user", "user@bench.test", mbox)
        secs = time.monotonic() - t
        print(r.stdout.strip().splitlines()[-1])
        pg.psql("cairn", "CHECKPOINT")
        size1 = dbsize()
        blobs = int(pg.psql("cairn", "SELECT pg_total_relation_size('message_blobs')"))
        print(f"import: {args.messages / secs:.0f} msg/s, {raw / 1e6 / secs:.1f} MB/s "
              f"({secs:.1f} s wall)")
        print(f"storage: database grew {(size1 - size0) / 1e6:.1f} MB for {raw / 1e6:.1f} MB "
              f"of messages: overhead {(size1 - size0) / raw:.2f}x "
              f"(message_blobs with TOAST and indexes {blobs / 1e6:.1f} MB = {blobs / raw:.2f}x)")

        t = time.monotonic()
        r = ctl("import", "--user", "user@bench.test", mbox)
        secs = time.monotonic() - t
        print(f"rerun (nothing new): {args.messages / secs:.0f} msg/s; "
              + r.stdout.strip().splitlines()[-1])

        out = base / "out.mbox"
        t = time.monotonic()
        ctl("export", "--user", "user@bench.test", "--format", "mbox", out)
        secs = time.monotonic() - t
        same = out.read_bytes() == mbox.read_bytes()
        print(f"export mbox: {args.messages / secs:.0f} msg/s, {raw / 1e6 / secs:.1f} MB/s; "
              f"identical to the input: {'yes' if same else 'NO'}")
        for p in (mbox, out):
            p.unlink()

        if store_test.exists():
            r = subprocess.run([str(store_test), "--bench-dedup", str(args.mailboxes)],
                               capture_output=True, text=True,
                               env={**os.environ, "CAIRN_TEST_CONNINFO": pg.conninfo})
            print((r.stdout + r.stderr).strip())
        else:
            print(f"dedup: {store_test} not built (make check builds it)")
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
