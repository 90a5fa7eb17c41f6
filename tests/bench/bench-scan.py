#!/usr/bin/python3
"""The scan stage's content checks against SpamAssassin's spamd, and the
latency the stage adds to the SMTP 250.

1. Throughput on one corpus (default 10,000 generated messages, a third of
   them spammy): the built-in checks (MIME parse, the rules, Bayes
   tokenizing) through tests/bench/scan-rules-bench, with Cairn's shipped
   rules and with Debian's SpamAssassin rules (the same rule text spamd
   runs), against spamd (Debian's rules, no network tests, no Bayes) fed by
   parallel spamc-protocol clients. Both sides use --threads workers.
   spamd is slow: it gets --spamd-messages of the corpus (default 1,000)
   and its rate is what those took.
2. Latency: N messages sent one by one over SMTP to a cairnd with the
   stage off, then on (rules + Bayes); p50 and p99 of the time from the
   end of DATA to the 250, and the difference.

Prints figures and ratios; asserts nothing about time.
    tests/bench/bench-scan.py [--builddir build] [--messages 10000] [--threads 2]
"""
import concurrent.futures
import os
import pathlib
import random
import re
import smtplib
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import benchlib  # noqa: E402

sys.path.insert(0, str(benchlib.REPO / "tests" / "integration"))
import scanc_util as su  # noqa: E402

SCRIPT = "bench-scan"


def corpus(n, seed=14):
    """n messages: a third spam-like, the rest ham-like, some with HTML."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        spam = i % 3 == 0
        m = su.corpus_message(rng, spam, i)
        if i % 5 == 0:   # an HTML alternative part now and then
            head, body = m.split(b"\r\n\r\n", 1)
            html = b"<html><body><p>" + body.replace(b"\r\n", b"<br>") + \
                b"<a href=\"http://shop" + str(i % 40).encode() + b".example/x\">link</a></p></body></html>"
            m = (head + b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
                 b"--b\r\nContent-Type: text/plain\r\n\r\n" + body +
                 b"--b\r\nContent-Type: text/html\r\n\r\n" + html + b"\r\n--b--\r\n")
        out.append(m)
    return out


def builtin(builddir, mbox, ruledirs, threads):
    exe = pathlib.Path(builddir) / "tests" / "bench" / "scan-rules-bench"
    subprocess.run(["make", "-s", "-C", str(builddir), "tests/bench/scan-rules-bench"], check=True)
    r = subprocess.run([str(exe), "-t", str(threads), str(mbox), *map(str, ruledirs)],
                       capture_output=True, text=True, check=True)
    fields = dict(kv.split("=") for kv in r.stdout.split())
    return fields


def spamd_rate(spamd, messages, threads):
    def one(m):
        with socket.create_connection(("127.0.0.1", spamd.port), timeout=120) as s:
            s.sendall(b"SYMBOLS SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(m) + m)
            s.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        m2 = re.search(rb"Spam: (\w+) ; ([-0-9.]+)", data)
        return m2 and m2.group(1) == b"True"
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        spam = sum(1 for v in ex.map(one, messages) if v)
    secs = time.monotonic() - t0
    return len(messages) / secs, secs, spam


def latency(run, pg, stage, n, rules_dir):
    extra = {"server": {"log_level": "info", "workers": "2"},
             "smtp": {"max_messages": "100000"},
             "scan": {"smtp": "yes" if stage else "no", "spf": "no", "dkim": "no",
                      "dmarc": "no", "arc": "no"},
             "rules": {"dir": str(rules_dir), "local_dir": ""},
             "bayes": {"min_spam": "1", "min_ham": "1"}}
    pg.reset_db()
    d = run.cairnd(pg, extra, name=f"cairnd-{'on' if stage else 'off'}")
    benchlib.create_account(d, "ann@local.test")
    d.start()
    msgs = corpus(n, seed=99)
    times = []
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=60) as s:
        s.ehlo("bench.example")
        for m in msgs:
            s.mail("sender@bench.example")
            s.rcpt("ann@local.test")
            # time the end of DATA: send the content, then wait for the reply
            code, _ = s.docmd("DATA")
            assert code == 354
            data = m.replace(b"\r\n.", b"\r\n..")
            s.send(data + b".\r\n")
            t0 = time.monotonic()
            code, _ = s.getreply()
            times.append(time.monotonic() - t0)
            if code != 250:
                s.rset()
    d.stop()
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000


def main():
    ap = benchlib.argparser()
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--spamd-messages", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--latency-messages", type=int, default=300)
    ap.add_argument("--parts", default="throughput,latency",
                    help="what to measure: throughput, latency or both (comma-separated)")
    args = benchlib.parse_args(ap)
    benchlib.require(SCRIPT, ["spamc", "/usr/sbin/spamd"], "spamd spamc")
    builddir = pathlib.Path(args.builddir)
    benchlib.conditions(SCRIPT, messages=args.messages, spamd_messages=args.spamd_messages,
                        threads=args.threads, cpus=os.cpu_count(),
                        spamd="Debian rules, -L (no network), no Bayes")
    parts = args.parts.split(",")
    with benchlib.Run("bench-scan-") as run:
        if "throughput" in parts:
            throughput(run, args, builddir)
        if "latency" in parts:
            pg = run.postgres(fsync=True)
            off50, off99 = latency(run, pg, False, args.latency_messages, benchlib.REPO / "rules")
            on50, on99 = latency(run, pg, True, args.latency_messages, benchlib.REPO / "rules")
            print(f"{SCRIPT}: SMTP end-of-DATA to 250, stage off: p50 {off50:.2f} ms, "
                  f"p99 {off99:.2f} ms", flush=True)
            print(f"{SCRIPT}: SMTP end-of-DATA to 250, stage on (rules, Bayes): p50 {on50:.2f} ms, "
                  f"p99 {on99:.2f} ms", flush=True)
            print(f"{SCRIPT}: added by the stage: p50 {on50 - off50:+.2f} ms, "
                  f"p99 {on99 - off99:+.2f} ms", flush=True)


def throughput(run, args, builddir):
    msgs = corpus(args.messages)
    mbox = run.base / "corpus.mbox"
    size = benchlib.write_mbox(mbox, msgs)
    print(f"{SCRIPT}: corpus {len(msgs)} messages, {size / 1e6:.1f} MB", flush=True)
    shipped = builtin(builddir, mbox, [benchlib.REPO / "rules"], args.threads)
    print(f"{SCRIPT}: built-in, shipped rules: {float(shipped['msgs_per_s']):.0f} msg/s "
          f"({shipped['rules']} rules, {shipped['spam']} over 5.0)", flush=True)
    debian = None
    if pathlib.Path("/usr/share/spamassassin").is_dir():
        debian = builtin(builddir, mbox, ["/usr/share/spamassassin"], args.threads)
        print(f"{SCRIPT}: built-in, Debian's SpamAssassin rules: "
              f"{float(debian['msgs_per_s']):.0f} msg/s ({debian['rules']} rules run, "
              f"{debian['skipped']} lines skipped)", flush=True)
    spamd = run.track(su.Spamd())
    rate, secs, spam = spamd_rate(spamd, msgs[:args.spamd_messages], args.threads)
    print(f"{SCRIPT}: spamd: {rate:.1f} msg/s ({args.spamd_messages} messages in "
          f"{secs:.1f} s, {spam} spam)", flush=True)
    print(f"{SCRIPT}: ratio built-in (shipped rules) / spamd: "
          f"{float(shipped['msgs_per_s']) / rate:.1f}x", flush=True)
    if debian:
        print(f"{SCRIPT}: ratio built-in (Debian's rules) / spamd: "
              f"{float(debian['msgs_per_s']) / rate:.1f}x", flush=True)


if __name__ == "__main__":
    main()
