#!/usr/bin/python3
"""SMTP receive benchmark (issue 5): Postfix's smtp-source pushes N messages of
4 KB over 20 sessions (4 processes x 5 sessions, one local recipient each) to
  - Cairn (cairnd + PostgreSQL from tests/integration/conftest.py; the 250
    after DATA means every copy is committed),
  - a private Postfix (own config and queue directories, 127.0.0.1, a free
    port) delivering the same recipients over LMTP to a private Dovecot with
    maildirs (accept rate = smtp-source done; delivered = all files in the
    maildirs),
  - smtp-sink (Postfix's test sink: the bound of smtp-source itself),
and prints messages/s for each and the ratios, plus the latency of the reply
to the end of DATA (median and p99) measured by a small Python client on one
connection. Prints figures; asserts nothing.

Same checks on both sides: Cairn looks each RCPT up in its directory (and
refuses unknown users at RCPT); the reference Postfix does the same with
local_recipient_maps listing the accounts (an unknown user gets 550 at RCPT),
not with an empty map that accepts anything. Same durability: Cairn's
PostgreSQL runs with fsync on (its default, --pg-fsync) and
synchronous_commit on; Postfix and Dovecot keep their defaults, which fsync.
The conditions are printed before the figures.

Needs the Debian packages postfix, dovecot-core and dovecot-lmtpd (Postfix
need not run as the system daemon: its binaries are used directly), root
(Postfix and Dovecot drop privileges to postfix/mail), and a built tree.

    tests/bench/bench-smtp.py [--messages 20000] [--builddir build]
        [--latency-messages 1000] [--pg-fsync on|off] [--skip-postfix] [--scan]

--scan runs Cairn with the scan stage on (issue 14): the shipped rules and
the Bayes module on every message, X-Spam-* tagging; SPF, DKIM, DMARC, ARC
and iprev are off because this machine has no DNS for the bench domains
(each would cost a DNS round trip per message). Postfix+Dovecot run without
any content filter, so the ratio is what the stage costs against a plain
reference.
"""
import argparse
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import conftest  # noqa: E402
from conftest import Cairnd, Postgres, free_port, make_cert  # noqa: E402

SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
USERS = ("u0", "u1", "u2", "u3")
SESSIONS_PER_USER = 5          # 4 x 5 = 20 concurrent sessions
PAYLOAD = 4096


def progress(msg):
    print(f"bench-smtp: {msg}", flush=True)


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench-smtp: nothing listens on port {port}")


def run_source(port, n, domain):
    """smtp-source into port: n messages split over the users, 20 sessions.
    Returns the wall time."""
    per = n // len(USERS)
    procs = []
    start = time.monotonic()
    for u in USERS:
        procs.append(subprocess.Popen(
            [SMTP_SOURCE, "-4", "-d", "-s", str(SESSIONS_PER_USER), "-m", str(per),
             "-l", str(PAYLOAD), "-M", "source.bench.org", "-f", "sender@bench.org",
             "-t", f"{u}@{domain}", f"127.0.0.1:{port}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    out = []
    for p in procs:
        o, _ = p.communicate()
        out.append(o.decode(errors="replace"))
        if p.returncode != 0:
            raise SystemExit(f"bench-smtp: smtp-source failed:\n{''.join(out)}")
    return time.monotonic() - start, per * len(USERS)


def data_latency(port, rcpt, count):
    """Seconds from the end-of-data dot to the 250, over one connection."""
    body = (b"From: sender@bench.org\r\nTo: " + rcpt.encode() + b"\r\nSubject: latency\r\n\r\n"
            + (b"x" * 78 + b"\r\n") * (PAYLOAD // 80))
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # no Nagle + delayed ACK
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line:
                raise SystemExit("bench-smtp: connection closed during the latency run")
            if line[3:4] != b"-":
                return int(line[:3])

    def cmd(line, want):
        s.sendall(line)
        code = reply()
        if code != want:
            raise SystemExit(f"bench-smtp: {line!r} -> {code}")

    reply()
    cmd(b"EHLO latency.bench.org\r\n", 250)
    times = []
    for _ in range(count):
        cmd(b"MAIL FROM:<sender@bench.org>\r\n", 250)
        cmd(b"RCPT TO:<" + rcpt.encode() + b">\r\n", 250)
        cmd(b"DATA\r\n", 354)
        t = time.perf_counter()
        s.sendall(body + b".\r\n")
        code = reply()
        times.append(time.perf_counter() - t)
        if code != 250:
            raise SystemExit(f"bench-smtp: end of data -> {code}")
    s.sendall(b"QUIT\r\n")
    s.close()
    times.sort()
    return statistics.median(times) * 1000, times[min(len(times) - 1, int(len(times) * 0.99))] * 1000


# ---- Cairn ----

def setup_cairn(base, pg_fsync, scan=False):
    # conftest turns fsync off for tests; Postfix and Dovecot fsync.
    pg = Postgres(base / "pg", fsync=pg_fsync)
    cert, key = make_cert(base / "tls")
    extra = {"server": {"log_level": "info", "workers": "4",
                        "max_connections_per_ip": "1000"},
             "smtp": {"max_messages": "100000", "max_recipients": "100"}}
    if scan:
        rules_local = base / "rules.d"
        rules_local.mkdir()
        os.chmod(rules_local, 0o755)
        extra["scan"] = {"smtp": "yes", "spf": "no", "dkim": "no", "dmarc": "no", "arc": "no",
                         "disable": "iprev", "junk_threshold": "off"}
        extra["rules"] = {"dir": str(REPO / "rules"), "local_dir": str(rules_local)}
    d = Cairnd(base / "cairnd", pg, cert, key, extra=extra)
    def run(*a):
        r = subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *a], capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise SystemExit(f"bench-smtp: cairnctl {' '.join(a)}: {r.stdout}{r.stderr}")
    run("migrate")
    run("domain", "add", "bench.test")
    for u in USERS + ("lat",):
        run("user", "add", f"{u}@bench.test", "--password", "bench-pw-1")
    d.start()
    return pg, d


def cairn_count(pg):
    return int(pg.psql("cairn", "SELECT count(*) FROM mailbox_messages").strip())


# ---- Postfix + Dovecot ----

def setup_dovecot(base):
    root = base / "dovecot"
    (root / "mail").mkdir(parents=True, exist_ok=True)
    subprocess.run(["chown", "-R", "mail:mail", str(root / "mail")], check=True)
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(f"""
protocols = lmtp
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
first_valid_uid = 1
mail_location = maildir:{root}/mail/%n
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={root}/mail/%n allow_all_users=yes
}}
service lmtp {{
  process_limit = 40
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
}}
""")
    subprocess.run(["dovecot", "-c", str(conf)], check=True)
    wait_port(port)
    return conf, port, root / "mail"


MASTER_SERVICES = ("pickup", "cleanup", "qmgr", "rewrite", "bounce", "defer", "trace",
                   "verify", "flush", "proxymap", "proxywrite", "smtp", "relay", "showq",
                   "error", "retry", "discard", "local", "virtual", "lmtp", "anvil", "scache",
                   "postlog")


def setup_postfix(base, lmtp_port):
    root = base / "postfix"
    etc, queue, data = root / "etc", root / "queue", root / "data"
    for p in (etc, queue, data):
        p.mkdir(parents=True, exist_ok=True)
    subprocess.run(["chown", "postfix", str(data)], check=True)
    port = free_port()
    (etc / "main.cf").write_text(f"""
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.bench.test
mydomain = bench.test
myorigin = bench.test
mydestination = bench.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
local_recipient_maps = texthash:{etc}/recipients
alias_maps =
alias_database =
local_transport = lmtp:inet:127.0.0.1:{lmtp_port}
lmtp_destination_concurrency_limit = 20
default_process_limit = 100
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
biff = no
smtputf8_enable = no
""")
    # The accounts, as Cairn's directory has them: Postfix refuses anyone
    # else at RCPT, as Cairn does.
    (etc / "recipients").write_text("".join(f"{u}@bench.test ok\n" for u in USERS + ("lat",)))
    lines = []
    for line in pathlib.Path("/usr/share/postfix/master.cf.dist").read_text().splitlines():
        f = line.split()
        if not f or line[0] in "# \t" or f[0] not in MASTER_SERVICES:
            continue
        if f[0] == "smtp" and f[1] == "inet":
            f[0] = f"127.0.0.1:{port}"
        f[4] = "n"              # no chroot: nothing is set up for it
        lines.append(" ".join(f))
    (etc / "master.cf").write_text("\n".join(lines) + "\n")
    for args in (["check"], ["start"]):
        r = subprocess.run(["postfix", "-c", str(etc), *args], capture_output=True, text=True)
        if r.returncode != 0:
            log = root / "postfix.log"
            raise SystemExit(f"bench-smtp: postfix {args[0]}: {r.stdout}{r.stderr}"
                             f"{log.read_text()[-3000:] if log.exists() else ''}")
    wait_port(port)
    # The check is really on: an unknown local user is refused at RCPT.
    import smtplib
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("check.bench.test")
        s.mail("check@remote.test")
        code, _ = s.rcpt("nobody-here@bench.test")
        if code != 550:
            raise SystemExit(f"bench-smtp: Postfix accepted an unknown recipient ({code})")
    return etc, port


def maildir_count(mail):
    n = 0
    for u in USERS:
        d = mail / u / "new"
        if d.is_dir():
            n += len(os.listdir(d))
    return n


def wait_delivered(count_fn, want, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count_fn() >= want:
            return True
        time.sleep(0.05)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--latency-messages", type=int, default=1000)
    ap.add_argument("--builddir", default=str(REPO / "build"))
    ap.add_argument("--pg-fsync", choices=("on", "off"), default="on")
    ap.add_argument("--skip-postfix", action="store_true")
    ap.add_argument("--scan", action="store_true",
                    help="Cairn with the scan stage on (shipped rules, Bayes; no DNS checks)")
    args = ap.parse_args()
    conftest.CAIRND = str(pathlib.Path(args.builddir) / "cairnd")
    conftest.CAIRNCTL = str(pathlib.Path(args.builddir) / "cairnctl")
    for tool in (SMTP_SOURCE, SMTP_SINK):
        if not os.access(tool, os.X_OK):
            raise SystemExit(f"bench-smtp: {tool} not found (apt-get install postfix)")
    if not args.skip_postfix and (shutil.which("dovecot") is None or
                                  not os.path.exists("/usr/lib/dovecot/lmtp")):
        raise SystemExit("bench-smtp: dovecot not found (apt-get install dovecot-core "
                         "dovecot-lmtpd) or use --skip-postfix")

    base = pathlib.Path(tempfile.mkdtemp(prefix="bench-smtp-"))
    os.chmod(base, 0o755)
    results, latency = {}, {}
    pg = d = sink = dconf = pfetc = None
    try:
        # The bound: smtp-source into smtp-sink (accepts and discards).
        sink_port = free_port()
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        sink = subprocess.Popen([SMTP_SINK, "-4", *user, f"127.0.0.1:{sink_port}", "1024"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(sink_port)
        t, n = run_source(sink_port, args.messages, "bench.test")
        results["smtp-sink"] = (n / t, None)
        latency["smtp-sink"] = data_latency(sink_port, "lat@bench.test", args.latency_messages)
        progress(f"smtp-sink: {n} messages in {t:.2f} s")

        progress(f"starting Cairn (PostgreSQL fsync={args.pg_fsync})")
        pg, d = setup_cairn(base, args.pg_fsync == "on", args.scan)
        settings = pg.psql("postgres", "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name)"
                                       " FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit')")
        conditions = [
            f"cairn: cairnd 4 workers, PostgreSQL {settings.strip()}, RCPT looked up in the "
            "sql directory, scan stage " + ("ON (shipped rules, Bayes; SPF/DKIM/DMARC/ARC/iprev "
                                             "off)" if args.scan else "off"),
            "postfix: Postfix " + subprocess.run(["postconf", "-d", "-h", "mail_version"],
                                                  capture_output=True, text=True).stdout.strip()
            + ", local_recipient_maps = the 5 accounts (550 for others), default fsync, "
            "LMTP to Dovecot (Maildir, default fsync_mode)",
            f"client: smtp-source -d, {len(USERS) * SESSIONS_PER_USER} sessions, no TLS, "
            f"{PAYLOAD} B payload, one recipient per message; load average "
            f"{os.getloadavg()[0]:.2f} at start, {os.cpu_count()} CPUs"]
        print("bench-smtp: conditions:\n  " + "\n  ".join(conditions), flush=True)
        t, n = run_source(d.smtp_port, args.messages, "bench.test")
        stored = cairn_count(pg)
        results["cairn"] = (n / t, n / t)     # the 250 comes after COMMIT
        progress(f"cairn: {n} messages in {t:.2f} s, {stored} mailbox rows")
        if stored != n:
            progress(f"WARNING: cairn stored {stored} of {n}")
        latency["cairn"] = data_latency(d.smtp_port, "lat@bench.test", args.latency_messages)
        d.stop()
        d = None
        pg.stop()
        pg = None

        if not args.skip_postfix:
            progress("starting Dovecot (LMTP, maildirs) and a private Postfix")
            dconf, lmtp_port, mail = setup_dovecot(base)
            pfetc, pf_port = setup_postfix(base, lmtp_port)
            start = time.monotonic()
            t, n = run_source(pf_port, args.messages, "bench.test")
            # Stored = the last file landed in a maildir, from the same start.
            ok = wait_delivered(lambda: maildir_count(mail), n, 600)
            t_done = time.monotonic() - start
            delivered = maildir_count(mail)
            results["postfix"] = (n / t, delivered / t_done)
            progress(f"postfix: {n} accepted in {t:.2f} s, {delivered} in maildirs "
                     f"after {t_done:.2f} s")
            if not ok:
                progress(f"WARNING: postfix+dovecot delivered {delivered} of {n}")
            latency["postfix"] = data_latency(pf_port, "lat@bench.test", args.latency_messages)

        print(f"\nSMTP: {args.messages} messages x {PAYLOAD} B payload, "
              f"{len(USERS) * SESSIONS_PER_USER} sessions (smtp-source -d), "
              f"latency over 1 connection x {args.latency_messages}")
        print(f"{'':12} {'accepted msg/s':>15} {'stored msg/s':>13} {'250 p50 ms':>11} {'250 p99 ms':>11}")
        for name, (acc, stored) in results.items():
            p50, p99 = latency.get(name, (float("nan"), float("nan")))
            st = f"{stored:13.0f}" if stored is not None else f"{'-':>13}"
            print(f"{name:12} {acc:15.0f} {st} {p50:11.2f} {p99:11.2f}")
        if "postfix" in results:
            pf_acc, pf_del = results["postfix"]
            c = results["cairn"][0]
            print(f"ratio cairn/postfix: accepted {c / pf_acc:.2f}, "
                  f"stored (cairn 250=committed vs postfix+dovecot in maildir) {c / pf_del:.2f}")
        print(f"ratio cairn/smtp-sink (bound of the client): {results['cairn'][0] / results['smtp-sink'][0]:.2f}")
    finally:
        if d is not None:
            d.stop()
        if pg is not None:
            pg.stop()
        if pfetc is not None:
            subprocess.run(["postfix", "-c", str(pfetc), "stop"], capture_output=True)
        if dconf is not None:
            subprocess.run(["doveadm", "-c", str(dconf), "stop"], capture_output=True)
        if sink is not None:
            sink.terminate()
            sink.wait()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
