#!/usr/bin/python3
"""Outbound queue benchmark (issue 9): N messages (default 10,000) to 100
remote domains, all routed to one Postfix smtp-sink, measured end to end:
from the first submission until the sink holds every message, through
  - Cairn: submission with AUTH into cairnd, which commits each message to
    PostgreSQL and relays it with its queue runners ([routes] * = the sink),
  - a private Postfix (own config_directory and queue_directory in a temp
    dir, 127.0.0.1 on a free port) relaying the same load with a transport
    map to its own smtp-sink,
and prints messages/s for both and the ratio cairn/postfix (the issue's bar
is >= 1.0). Every message id is counted at the sink: a message missing or
delivered twice is reported. Prints figures and progress; asserts nothing.
Not run by make check.

Both sides get the same conditions, printed before the figures:
  - the same client: --clients (8) connections from one Python process,
    each STARTTLS then AUTH PLAIN as sender@bench.test, whose password both
    check against the same kind of yescrypt hash (Postfix through Dovecot's
    auth service, passwd-file {CRYPT}; relaying only after AUTH);
  - the same outbound concurrency: --runners (8) connections in all (Cairn's
    queue runners; Postfix's smtp service maxproc) and at most 4 per
    destination (Cairn's max_per_destination; Postfix's
    default_destination_concurrency_limit), no TLS to the sink;
  - durability: Cairn's PostgreSQL with fsync on (--pg-fsync) and
    synchronous_commit on; Postfix's queue with its default fsync.

Needs the Debian packages postfix and dovecot-core (their binaries are used
directly, the system instances need not run), root (Postfix drops
privileges to postfix), and a built tree.

    tests/bench/bench-queue.py [--messages 10000] [--domains 100] [--builddir build]
        [--runners 8] [--clients 8] [--pg-fsync on|off] [--skip-postfix]
"""
import argparse
import os
import pathlib
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import conftest  # noqa: E402
from conftest import Cairnd, Postgres, free_port, make_cert  # noqa: E402

SMTP_SINK = "/usr/sbin/smtp-sink"
PASSWORD = "bench-pw-1"
MASTER_SERVICES = {"smtp", "pickup", "cleanup", "qmgr", "tlsmgr", "rewrite", "bounce", "defer",
                   "trace", "verify", "flush", "proxymap", "proxywrite", "relay", "showq",
                   "error", "retry", "discard", "local", "virtual", "lmtp", "anvil", "scache",
                   "postlog"}


def progress(msg):
    print(f"bench-queue: {msg}", flush=True)


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench-queue: nothing listens on port {port}")


class Sink:
    """smtp-sink dumping each message to a file, so arrivals can be counted
    and message ids checked."""

    def __init__(self, base, name):
        self.dir = base / f"sink-{name}"
        self.dir.mkdir(parents=True)
        os.chmod(self.dir, 0o777)
        self.port = free_port()
        args = [SMTP_SINK]
        if os.geteuid() == 0:
            args += ["-u", "postfix"]
        self.proc = subprocess.Popen(args + ["-d", f"{self.dir}/%M.", f"127.0.0.1:{self.port}",
                                             "1024"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def count(self):
        return sum(1 for e in os.scandir(self.dir) if e.is_file())

    def check(self, n, prefix):
        seen = {}
        for e in os.scandir(self.dir):
            with open(e.path, "rb") as f:
                m = re.search(rb"^Message-ID: <([^>]*)>", f.read(), re.M | re.I)
            if m:
                seen[m.group(1)] = seen.get(m.group(1), 0) + 1
        want = {f"{prefix}-{i}@bench.test".encode() for i in range(n)}
        missing = len(want - set(seen))
        dups = sum(1 for v in seen.values() if v > 1)
        return missing, dups

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def body(prefix, i, domains):
    to = f"user{i}@dom{i % domains}.test"
    return to, (f"From: sender@bench.test\r\nTo: <{to}>\r\nSubject: bench {i}\r\n"
                f"Message-ID: <{prefix}-{i}@bench.test>\r\n\r\n" +
                ("x" * 78 + "\r\n") * 40).encode()


def submit_all(port, n, domains, clients, prefix, auth, counter):
    """Send n messages over clients parallel connections; returns when all
    are accepted."""
    errors = []

    def worker(k):
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=120)
            if auth:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                s.starttls(context=ctx)
                s.login("sender@bench.test", PASSWORD)
            for i in range(k, n, clients):
                to, data = body(prefix, i, domains)
                s.sendmail("sender@bench.test", [to], data)
                with counter["lock"]:
                    counter["n"] += 1
            s.quit()
        except Exception as e:     # reported after the run
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"bench-queue: submission failed: {errors[:3]}")


def run(name, port, sink, n, domains, clients, prefix, auth):
    """Submit and wait for the sink; returns seconds end to end."""
    counter = {"n": 0, "lock": threading.Lock()}
    start = time.monotonic()
    t = threading.Thread(target=submit_all,
                         args=(port, n, domains, clients, prefix, auth, counter))
    t.start()
    last = 0
    deadline = start + max(600, n / 10)
    while True:
        got = sink.count()
        now = time.monotonic()
        if got >= n:
            break
        if now > deadline:
            progress(f"{name}: giving up with {got} of {n} at the sink")
            break
        if now - last >= 2:
            progress(f"{name}: {now - start:6.1f} s  submitted {counter['n']:6d}  "
                     f"at sink {got:6d}")
            last = now
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    t.join()
    return elapsed


def setup_cairn(base, pg_fsync, sink, runners):
    # conftest turns fsync off for tests; Postfix and Dovecot fsync.
    pg = Postgres(base / "pg", fsync=pg_fsync)
    cert, key = make_cert(base / "tls")
    d = Cairnd(base / "cairnd", pg, cert, key,
               extra={"server": {"log_level": "info", "workers": "4",
                                 "max_connections_per_ip": "1000", "hostname": "cairn.bench.test"},
                      "smtp": {"max_messages": "100000"},
                      "queue": {"runners": str(runners), "batch": "100",
                                "max_per_destination": "4", "dkim": "no"},
                      "routes": {"*": f"127.0.0.1:{sink.port} tls=none"}})

    def ctl(*a):
        r = subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *a], capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise SystemExit(f"bench-queue: cairnctl {' '.join(a)}: {r.stdout}{r.stderr}")
    ctl("migrate")
    ctl("domain", "add", "bench.test")
    ctl("user", "add", "sender@bench.test", "--password", PASSWORD)
    d.start()
    return pg, d


def setup_dovecot_auth(base):
    """Dovecot's auth service alone, for Postfix's SASL (smtpd_sasl_type =
    dovecot): sender@bench.test with a yescrypt hash in a passwd-file."""
    sys.path.insert(0, str(REPO / "tests" / "bench"))
    from benchlib import yescrypt_hash
    root = base / "dovecot-auth"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (root / "passwd").write_text(f"sender@bench.test:{{CRYPT}}{yescrypt_hash(PASSWORD)}::::::\n")
    conf = root / "dovecot.conf"
    conf.write_text(f"""
protocols =
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
auth_mechanisms = plain login
disable_plaintext_auth = no
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home=/nonexistent
}}
service auth {{
  inet_listener {{
    address = 127.0.0.1
    port = {port}
  }}
}}
""")
    subprocess.run(["dovecot", "-c", str(conf)], check=True)
    wait_port(port)
    return conf, port


def setup_postfix(base, sink, domains, runners, auth_port):
    root = base / "postfix"
    etc, queue, data = root / "etc", root / "queue", root / "data"
    for p in (etc, queue, data):
        p.mkdir(parents=True, exist_ok=True)
    subprocess.run(["chown", "postfix", str(data)], check=True)
    cert, key = make_cert(root / "tls")
    port = free_port()
    transport = etc / "transport"
    transport.write_text("".join(f"dom{i}.test smtp:[127.0.0.1]:{sink.port}\n"
                                 for i in range(domains)))
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
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
relay_domains =
# Relay only after STARTTLS + AUTH, as Cairn's submission port.
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{auth_port}
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
# The same outbound concurrency as Cairn's runners.
default_destination_concurrency_limit = 4
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
transport_maps = texthash:{transport}
local_recipient_maps =
alias_maps =
alias_database =
default_process_limit = 100
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
biff = no
smtputf8_enable = no
smtp_tls_security_level = none
""")
    lines = []
    for line in pathlib.Path("/usr/share/postfix/master.cf.dist").read_text().splitlines():
        f = line.split()
        if not f or line[0] in "# \t" or f[0] not in MASTER_SERVICES:
            continue
        if f[0] == "smtp" and f[1] == "inet":
            f[0] = f"127.0.0.1:{port}"
        if f[0] == "smtp" and f[1] == "unix":
            f[6] = str(runners)     # outbound connections in all
        f[4] = "n"              # no chroot: nothing is set up for it
        lines.append(" ".join(f))
    (etc / "master.cf").write_text("\n".join(lines) + "\n")
    for args in (["check"], ["start"]):
        r = subprocess.run(["postfix", "-c", str(etc), *args], capture_output=True, text=True)
        if r.returncode != 0:
            log = root / "postfix.log"
            raise SystemExit(f"bench-queue: postfix {args[0]}: {r.stdout}{r.stderr}"
                             f"{log.read_text()[-3000:] if log.exists() else ''}")
    wait_port(port)
    return etc, port


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--domains", type=int, default=100)
    ap.add_argument("--builddir", default=str(REPO / "build"))
    ap.add_argument("--runners", type=int, default=8)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--pg-fsync", choices=("on", "off"), default="on")
    ap.add_argument("--skip-postfix", action="store_true")
    args = ap.parse_args()
    for tool in (SMTP_SINK,) + (() if args.skip_postfix else ("/usr/sbin/postfix",)):
        if not os.path.exists(tool):
            raise SystemExit(f"bench-queue: {tool} not found (apt-get install postfix)")
    build = pathlib.Path(args.builddir).resolve()
    conftest.CAIRND = os.environ.get("CAIRND", str(build / "cairnd"))
    conftest.CAIRNCTL = os.environ.get("CAIRNCTL", str(build / "cairnctl"))
    conftest.TOP = REPO
    base = pathlib.Path(tempfile.mkdtemp(prefix="cairn-bench-queue-"))
    os.chmod(base, 0o755)
    n, results = args.messages, {}
    pg = d = pfetc = dconf = None
    sinks = []
    try:
        sink = Sink(base, "cairn")
        sinks.append(sink)
        pg, d = setup_cairn(base, args.pg_fsync == "on", sink, args.runners)
        settings = pg.psql("postgres", "SELECT string_agg(name || '=' || setting, ', ' ORDER BY"
                                       " name) FROM pg_settings WHERE name IN ('fsync',"
                                       " 'synchronous_commit')").strip()
        print("bench-queue: conditions:\n"
              f"  client: {args.clients} connections, STARTTLS + AUTH PLAIN (yescrypt hash on "
              f"both sides), {n} messages of 3.3 KB to {args.domains} domains\n"
              f"  cairn: submission port, {args.runners} queue runners, max_per_destination 4, "
              f"PostgreSQL {settings}\n"
              f"  postfix: smtpd with STARTTLS + SASL through Dovecot auth, smtp maxproc "
              f"{args.runners}, default_destination_concurrency_limit 4, default queue fsync\n"
              f"  sink: smtp-sink, one per side, no TLS; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.2f} at start", flush=True)
        progress(f"cairn: {n} messages to {args.domains} domains, {args.runners} runners, "
                 f"PostgreSQL fsync {args.pg_fsync}")
        t = run("cairn", d.submission_port, sink, n, args.domains, args.clients, "cairn", True)
        missing, dups = sink.check(n, "cairn")
        results["cairn"] = n / t
        progress(f"cairn: {n} in {t:.2f} s = {n / t:.0f} messages/s "
                 f"(missing {missing}, duplicated {dups}; load average "
                 f"{os.getloadavg()[0]:.2f})")
        if not args.skip_postfix:
            psink = Sink(base, "postfix")
            sinks.append(psink)
            dconf, auth_port = setup_dovecot_auth(base)
            pfetc, pport = setup_postfix(base, psink, args.domains, args.runners, auth_port)
            progress(f"postfix: {n} messages to {args.domains} domains")
            t = run("postfix", pport, psink, n, args.domains, args.clients, "postfix", True)
            missing, dups = psink.check(n, "postfix")
            results["postfix"] = n / t
            progress(f"postfix: {n} in {t:.2f} s = {n / t:.0f} messages/s "
                     f"(missing {missing}, duplicated {dups}; load average "
                     f"{os.getloadavg()[0]:.2f})")
        print()
        for k, v in results.items():
            print(f"{k:8s} {v:8.0f} messages/s end to end")
        if "postfix" in results:
            print(f"ratio cairn/postfix: {results['cairn'] / results['postfix']:.2f} "
                  f"(the issue asks for >= 1.0)")
    finally:
        if pfetc is not None:
            subprocess.run(["postfix", "-c", str(pfetc), "stop"], capture_output=True)
        if dconf is not None:
            subprocess.run(["doveadm", "-c", str(dconf), "stop"], capture_output=True)
        if d is not None and d.proc is not None:
            d.stop()
        if pg is not None:
            pg.stop()
        for s in sinks:
            s.close()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
