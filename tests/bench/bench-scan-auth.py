#!/usr/bin/python3
"""Latency the scan stage's sender authentication adds to the SMTP 250
(issue 14 item 9, the part of the built-in stage): one cairnd with the stage
off and one with it on ([scan] with SPF, DKIM, ARC, DMARC; the content
modules as configured by default), the same DKIM-signed messages (python3-dkim,
rsa-sha256 2048) from a domain whose SPF, DKIM key and DMARC records a local
DNS server (scan_util.DNSServer) holds. Prints the median and p99 of the
reply to the end of DATA for each, the difference, and the stage's own
figures from the log (ms per message) and from /metrics. Prints figures;
asserts nothing.

    tests/bench/bench-scan-auth.py [--messages 500] [--builddir build]
"""
import argparse
import os
import pathlib
import re
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import conftest  # noqa: E402
from conftest import Cairnd, Postgres, make_cert  # noqa: E402
from scan_util import DNSServer, message, rsa_key, sign  # noqa: E402


def run(d, msgs, per_connection=50):
    """Send msgs, a new connection every per_connection ([smtp] max_messages)."""
    lat = []
    for start in range(0, len(msgs), per_connection):
        with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=60) as s:
            s.ehlo("bench.client")
            for m in msgs[start:start + per_connection]:
                s.mail("news@bench.test")
                s.rcpt("u0@local.test")
                t0 = time.perf_counter()
                code, _ = s.data(m)
                lat.append(time.perf_counter() - t0)
                if code != 250:
                    raise SystemExit(f"unexpected reply {code}")
    lat.sort()
    return lat


def pct(lat, p):
    return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--builddir", default="build")
    args = ap.parse_args()
    build = (REPO / args.builddir).resolve()
    conftest.CAIRND = os.environ.get("CAIRND", str(build / "cairnd"))
    conftest.CAIRNCTL = os.environ.get("CAIRNCTL", str(build / "cairnctl"))
    base = pathlib.Path(tempfile.mkdtemp(prefix="bench-scan-"))
    os.chmod(base, 0o755)
    dns = DNSServer()
    pem, txt = rsa_key()
    dns.txt("bench.test", "v=spf1 ip4:127.0.0.0/8 -all")
    dns.txt("s1._domainkey.bench.test", txt)
    dns.txt("_dmarc.bench.test", "v=DMARC1; p=reject")
    msgs = [sign(message("news@bench.test", subject=f"bench {i}", to="u0@local.test",
                         body=b"Hello there.\r\n" * 60), "bench.test", "s1", pem)
            for i in range(args.messages)]
    pg = Postgres(base / "pg")
    cert, key = make_cert(base / "tls")
    results = {}
    try:
        for label, on in (("stage off", "no"), ("stage on", "yes")):
            pg.reset_db()
            d = Cairnd(base / label.replace(" ", "-"), pg, cert, key, {
                "server": {"log_level": "info", "hostname": "mx.local.test"},
                "queue": {"resolver": dns.address},
                "scan": {"smtp": on},
            })
            subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), "migrate"], check=True,
                           capture_output=True)
            d.start()
            for c in (["domain", "add", "local.test"],
                      ["user", "add", "u0@local.test", "--password", "bench-pass-1"]):
                subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *c], check=True,
                               capture_output=True)
            run(d, msgs[:20])   # warm up: connections, prepared statements
            t0 = time.perf_counter()
            lat = run(d, msgs)
            elapsed = time.perf_counter() - t0
            stage_ms = [int(x) for x in re.findall(r"scan ip=.* ms=(\d+) timings", d.log_text())]
            results[label] = (lat, elapsed, stage_ms)
            d.stop()
    finally:
        dns.stop()
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)
    print(f"bench-scan-auth: {args.messages} DKIM-signed messages of ~1 KB, 50 per connection, "
          "SPF pass + DKIM rsa-sha256 pass + DMARC pass, local DNS")
    for label, (lat, elapsed, stage_ms) in results.items():
        line = (f"{label:10} 250 latency median {pct(lat, 0.5):.2f} ms  p99 {pct(lat, 0.99):.2f} ms"
                f"  {args.messages / elapsed:.0f} msg/s")
        if stage_ms:
            line += f"  stage median {statistics.median(stage_ms):.0f} ms (log, whole ms)"
        print(line)
    off, on = results["stage off"][0], results["stage on"][0]
    print(f"added by the stage: median {pct(on, 0.5) - pct(off, 0.5):.2f} ms, "
          f"p99 {pct(on, 0.99) - pct(off, 0.99):.2f} ms")


if __name__ == "__main__":
    main()
