#!/usr/bin/python3
"""POP3 download benchmark: fetchmail retrieves N messages (keep mode, so
every run sees the same maildrop) from Cairn and from Debian's Dovecot POP3
server on the same machine, with the same messages, and this prints
messages/s for each and the ratio Cairn/Dovecot. A second figure uses
Python's poplib (RETR of every message over one connection) to take the
client's own cost out of the picture. Prints figures; asserts nothing.

Needs the Debian packages fetchmail and dovecot-pop3d, and a built tree.

    tests/bench/bench-pop3.py [--messages 10000] [--builddir build] [--runs 3]
"""
import argparse
import os
import pathlib
import poplib
import random
import shutil
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import conftest  # noqa: E402
from conftest import Cairnd, Postgres, make_cert  # noqa: E402
sys.path.insert(0, str(REPO / "tests" / "bench"))
from dovecot_ref import DovecotRef  # noqa: E402

PASSWORD = "bench-pw-1"
WORDS = ("the of and to in is that for it as with was on be by this are from or have "
         "mail store server message quota mailbox report budget tomorrow please").split()


def messages(n, seed=42):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        size = rng.choice((2_000, 4_000, 8_000, 16_000, 40_000)) + rng.randrange(1000)
        lines = [f"From: Sender {i % 50} <s{i % 50}@example.org>", "To: bench@bench.test",
                 f"Subject: message {i}", f"Message-ID: <{i}@bench>",
                 "Date: Tue, 1 Jul 2003 10:52:37 +0200", ""]
        total = 0
        while total < size:
            line = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 14)))
            if rng.random() < 0.01:
                line = "." + line
            lines.append(line)
            total += len(line) + 2
        out.append(("\r\n".join(lines) + "\r\n").encode())
    return out


def progress(msg):
    print(f"bench-pop3: {msg}", flush=True)


def setup_cairn(base, msgs):
    pg = Postgres(base / "pg")
    cert, key = make_cert(base / "tls")
    d = Cairnd(base / "cairnd", pg, cert, key,
               extra={"server": {"log_level": "info", "workers": "4"},
                      "pop3": {"plaintext_auth": "yes"}})
    run = lambda *a: subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *a], check=True,
                                    capture_output=True)
    run("migrate")
    run("domain", "add", "bench.test")
    run("user", "add", "bench@bench.test", "--password", PASSWORD)
    mbox = base / "in.mbox"
    with open(mbox, "wb") as f:
        for m in msgs:
            f.write(b"From bench Thu Jan  1 00:00:00 2026\n")
            for line in m.splitlines(keepends=True):
                if line.lstrip(b">").startswith(b"From "):
                    line = b">" + line
                f.write(line)
            f.write(b"\n")
    progress(f"importing {len(msgs)} messages into Cairn")
    run("import", "--user", "bench@bench.test", "--mailbox", "INBOX", str(mbox))
    d.start()
    return pg, d, d.pop3_port


def setup_dovecot(base, msgs):
    ref = DovecotRef(base / "dovecot", user="bench", password=PASSWORD, protocols=("pop3",),
                     settings={"pop3_uidl_format": "%08Xu%08Xv"})
    ref.load(msgs)
    return ref.start()


def run_fetchmail(base, port, user, name):
    rc = base / f"fetchmailrc-{name}"
    rc.write_text(f'poll 127.0.0.1 service {port} protocol pop3\n'
                  f'  user "{user}" there with password "{PASSWORD}" is root here\n'
                  f'  options fetchall keep sslproto "" bsmtp /dev/null\n')
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(base), FETCHMAILHOME=str(base))
    start = time.monotonic()
    r = subprocess.run(["fetchmail", "-f", str(rc), "--nosyslog", "--nodetach",
                        "--idfile", str(base / f"ids-{name}")],
                       capture_output=True, text=True, env=env)
    elapsed = time.monotonic() - start
    if r.returncode not in (0, 1):
        log = base / "dovecot" / "dovecot.log"
        if log.exists():
            print(log.read_text()[-2000:])
        raise SystemExit(f"fetchmail against {name} failed:\n{r.stdout}{r.stderr}")
    return elapsed


def run_poplib(port, user):
    start = time.monotonic()
    p = poplib.POP3("127.0.0.1", port, timeout=60)
    p.user(user)
    p.pass_(PASSWORD)
    n, _ = p.stat()
    total = 0
    for i in range(1, n + 1):
        total += len(b"".join(p.retr(i)[1]))
    p.quit()
    return time.monotonic() - start, n, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--builddir", default=str(REPO / "build"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    conftest.CAIRND = str(pathlib.Path(args.builddir) / "cairnd")
    conftest.CAIRNCTL = str(pathlib.Path(args.builddir) / "cairnctl")
    for tool in ("fetchmail", "dovecot"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench-pop3: {tool} not found (apt-get install fetchmail dovecot-pop3d)")

    base = pathlib.Path(tempfile.mkdtemp(prefix="bench-pop3-"))
    os.chmod(base, 0o755)
    msgs = messages(args.messages)
    mb = sum(len(m) for m in msgs) / 1e6
    progress(f"{len(msgs)} messages, {mb:.1f} MB")
    pg = d = ref = None
    try:
        pg, d, cport = setup_cairn(base, msgs)
        progress("writing the same messages as a Maildir for Dovecot")
        ref = setup_dovecot(base, msgs)
        dport = ref.port
        results = {}
        for name, port, user in (("cairn", cport, "bench@bench.test"),
                                 ("dovecot", dport, "bench")):
            fm = []
            pl = []
            for r in range(args.runs):
                fm.append(run_fetchmail(base, port, user, f"{name}{r}"))
                t, n, _ = run_poplib(port, user)
                assert n == len(msgs), f"{name} has {n} messages"
                pl.append(t)
                progress(f"{name} run {r + 1}/{args.runs}: fetchmail {fm[-1]:.2f} s, poplib {t:.2f} s")
            results[name] = (min(fm), min(pl))
        n = len(msgs)
        print(f"\nPOP3 RETR of {n} messages ({mb:.1f} MB), best of {args.runs}:")
        print(f"{'':10} {'fetchmail msg/s':>16} {'poplib msg/s':>14} {'poplib MB/s':>12}")
        for name in ("cairn", "dovecot"):
            f, p = results[name]
            print(f"{name:10} {n / f:16.0f} {n / p:14.0f} {mb / p:12.1f}")
        print(f"ratio cairn/dovecot: fetchmail {results['dovecot'][0] / results['cairn'][0]:.2f}, "
              f"poplib {results['dovecot'][1] / results['cairn'][1]:.2f}")
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
