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
import os
import poplib
import subprocess
import time

import benchlib
from benchlib import CAIRN_USER, DOVECOT_USER, PASSWORD
from dovecot_ref import DovecotRef


def messages(n, seed=42):
    return benchlib.plain_messages(n, seed, (2_000, 4_000, 8_000, 16_000, 40_000), 1000,
                                   lambda i, rng: f"message {i}", dot_lines=0.01)


def progress(msg):
    print(f"bench-pop3: {msg}", flush=True)


def setup_cairn(run, msgs, pg_out):
    pg_out.append(run.postgres())
    d = run.cairnd(pg_out[0], {"server": {"log_level": "info", "workers": "4"},
                                    "pop3": {"plaintext_auth": "yes"}})
    benchlib.create_account(d, CAIRN_USER)
    mbox = run.base / "in.mbox"
    benchlib.write_mbox(mbox, msgs)
    progress(f"importing {len(msgs)} messages into Cairn")
    benchlib.import_mbox(d, CAIRN_USER, mbox)
    d.start()
    return d.pop3_port


def setup_dovecot(run, msgs):
    ref = run.track(DovecotRef(run.base / "dovecot", user=DOVECOT_USER, password=PASSWORD,
                               protocols=("pop3",),
                               settings={"pop3_uidl_format": "%08Xu%08Xv"}))
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
    ap = benchlib.argparser()
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    args = benchlib.parse_args(ap)
    benchlib.require("bench-pop3", ["fetchmail", "dovecot"], "fetchmail dovecot-pop3d")

    msgs = messages(args.messages)
    mb = sum(len(m) for m in msgs) / 1e6
    progress(f"{len(msgs)} messages, {mb:.1f} MB")
    with benchlib.Run("bench-pop3-") as run:
        base = run.base
        cpg = []
        cport = setup_cairn(run, msgs, cpg)
        progress("writing the same messages as a Maildir for Dovecot")
        ref = setup_dovecot(run, msgs)
        dport = ref.port
        benchlib.conditions(
            "bench-pop3", cairn=f"cairnd (4 workers), PostgreSQL {benchlib.pg_settings(cpg[0])}, "
            "yescrypt password", dovecot=ref.describe(),
            client="fetchmail (keep, no TLS) and poplib, one connection, same messages",
            machine=f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
        results = {}
        for name, port, user in (("cairn", cport, CAIRN_USER),
                                 ("dovecot", dport, DOVECOT_USER)):
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


if __name__ == "__main__":
    main()
