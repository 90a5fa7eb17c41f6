#!/usr/bin/python3
"""Sieve at delivery benchmark (issue 16 item 7): Postfix's smtp-source
pushes N messages of 4 KB over 20 sessions (4 recipients x 5 sessions, one
local recipient per message) into
  - Cairn over SMTP with no script,
  - Cairn over SMTP with a 50-rule script active on every recipient,
  - a private Dovecot LMTP (Maildir) with no script,
  - the same Dovecot LMTP with Pigeonhole (dovecot-sieve) running the same
    50-rule script for every recipient,
and prints messages/s for each and the ratios: what the script costs Cairn
(the issue's goal is under 10% of ingest throughput), what it costs Dovecot,
and Cairn against Dovecot with the script. Prints figures; asserts nothing.

The script has 50 rules the way users write them (header, address, envelope
and size tests with :contains/:is/:matches, each with fileinto :create and a
flag); smtp-source's messages match only the last one, so every rule is
evaluated for every message on both sides before it is filed.

Needs the Debian packages postfix (smtp-source), dovecot-core,
dovecot-lmtpd and dovecot-sieve, root (Dovecot drops privileges to mail),
and a built tree.

    tests/bench/bench-sieve.py [--messages 4000] [--builddir build]
        [--pg-fsync on|off] [--skip-dovecot] [--rounds 3]
"""
import argparse
import importlib.util
import os
import pathlib
import shutil
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
USERS = ("u0", "u1", "u2", "u3")
SESSIONS_PER_USER = 5
PAYLOAD = 4096

_spec = importlib.util.spec_from_file_location("bench_smtp", REPO / "tests/bench/bench-smtp.py")
bench_smtp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_smtp)


def progress(msg):
    print(f"bench-sieve: {msg}", flush=True)


def script_50():
    """50 rules; smtp-source's messages (all with Subject: bench, -S) match
    none of the first 49 and the last one, so every rule is evaluated and
    every message is filed (fileinto :create with a flag)."""
    rules = ['require ["fileinto", "imap4flags", "mailbox", "envelope", "relational",'
             ' "comparator-i;ascii-numeric"];']
    for i in range(50):
        kind = i % 5
        if i == 49:
            test = 'header :matches "subject" "bench*"'
        elif kind == 0:
            test = f'header :contains "subject" "[topic-{i}]"'
        elif kind == 1:
            test = f'address :is :domain "from" "list{i}.example.org"'
        elif kind == 2:
            test = f'envelope :is "from" "robot{i}@example.org"'
        elif kind == 3:
            test = f'header :contains ["list-id", "x-mailing-list"] "list-{i}"'
        else:
            test = f'allof (header :is "x-priority" "{i}", size :over 1M)'
        rules.append(f'if {test} {{\r\n  fileinto :create :flags ["\\\\Flagged"] "Rule{i}";\r\n'
                     f'  stop;\r\n}}')
    return "\r\n".join(rules) + "\r\n"


def run_source(port, n, domain, lmtp=False):
    """smtp-source: n messages over the users, 20 sessions. Returns (seconds, n)."""
    per = n // len(USERS)
    procs = []
    start = time.monotonic()
    for u in USERS:
        procs.append(subprocess.Popen(
            [SMTP_SOURCE, "-4", "-d", *(["-L"] if lmtp else []), "-s", str(SESSIONS_PER_USER),
             "-m", str(per), "-l", str(PAYLOAD), "-S", "bench", "-M", "source.bench.org",
             "-f", "sender@bench.org", "-t", f"{u}@{domain}", f"127.0.0.1:{port}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    out = []
    for p in procs:
        o, _ = p.communicate()
        out.append(o.decode(errors="replace"))
        if p.returncode != 0:
            raise SystemExit(f"bench-sieve: smtp-source failed:\n{''.join(out)}")
    return time.monotonic() - start, per * len(USERS)


def setup_cairn(base, pg_fsync):
    pg = Postgres(base / "pg", fsync=pg_fsync)
    cert, key = make_cert(base / "tls")
    d = Cairnd(base / "cairnd", pg, cert, key,
               extra={"server": {"log_level": "info", "workers": "4",
                                 "max_connections_per_ip": "1000"},
                      "smtp": {"max_messages": "100000", "max_recipients": "100"}})

    def run(*a, input=None):
        r = subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *a], capture_output=True,
                           text=True, input=input)
        if r.returncode != 0:
            raise SystemExit(f"bench-sieve: cairnctl {' '.join(a)}: {r.stdout}{r.stderr}")
    run("migrate")
    run("domain", "add", "bench.test")
    for u in USERS:
        run("user", "add", f"{u}@bench.test", "--password", "bench-pw-1")
    d.run = run
    d.start()
    return pg, d


def measure_cairn(base, n, pg_fsync, with_script):
    pg, d = setup_cairn(base / ("cairn-script" if with_script else "cairn-plain"), pg_fsync)
    try:
        if with_script:
            for u in USERS:
                d.run("sieve", "put", "--user", f"{u}@bench.test", "--activate", "yes",
                      "rules", "-", input=script_50())
        t, sent = run_source(d.smtp_port, n, "bench.test")
        stored = int(pg.psql("cairn", "SELECT count(*) FROM mailbox_messages").strip())
        filed = int(pg.psql("cairn", "SELECT count(*) FROM mailbox_messages mm JOIN mailboxes m"
                                     " ON m.id = mm.mailbox_id WHERE m.name = 'Rule49'").strip())
        progress(f"cairn {'50-rule script' if with_script else 'no script'}: {sent} messages "
                 f"in {t:.2f} s, {stored} stored, {filed} filed into Rule49")
        return sent / t
    finally:
        d.stop()
        pg.stop()


def setup_dovecot(root, with_script):
    (root / "mail").mkdir(parents=True, exist_ok=True)
    if with_script:
        for u in USERS:
            home = root / "mail" / u
            home.mkdir(parents=True, exist_ok=True)
            (home / ".dovecot.sieve").write_text(script_50())
    subprocess.run(["chown", "-R", "mail:mail", str(root / "mail")], check=True)
    port = free_port()
    conf = root / "dovecot.conf"
    sieve = ""
    if with_script:
        sieve = ("protocol lmtp {\n  mail_plugins = $mail_plugins sieve\n}\n"
                 "plugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n}\n")
    conf.write_text(f"""
protocols = lmtp
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
first_valid_uid = 1
mail_location = maildir:{root}/mail/%n
lmtp_save_to_detail_mailbox = no
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
{sieve}""")
    subprocess.run(["dovecot", "-c", str(conf)], check=True)
    bench_smtp.wait_port(port)
    return conf, port


def measure_dovecot(base, n, with_script):
    root = base / ("dovecot-script" if with_script else "dovecot-plain")
    conf, port = setup_dovecot(root, with_script)
    try:
        t, sent = run_source(port, n, "bench.test", lmtp=True)
        filed = sum(len(list((root / "mail" / u / ".Rule49" / sub).glob("*")))
                    for u in USERS for sub in ("new", "cur")
                    if (root / "mail" / u / ".Rule49" / sub).is_dir())
        progress(f"dovecot lmtp {'+ pigeonhole 50-rule script' if with_script else 'no script'}:"
                 f" {sent} messages in {t:.2f} s, {filed} filed into Rule49")
        return sent / t
    finally:
        subprocess.run(["doveadm", "-c", str(conf), "stop"], capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=4000)
    ap.add_argument("--builddir", default=str(REPO / "build"))
    ap.add_argument("--pg-fsync", choices=("on", "off"), default="on")
    ap.add_argument("--skip-dovecot", action="store_true")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run every configuration this many times, interleaved; medians are printed")
    args = ap.parse_args()
    conftest.CAIRND = str(pathlib.Path(args.builddir) / "cairnd")
    conftest.CAIRNCTL = str(pathlib.Path(args.builddir) / "cairnctl")
    if not os.access(SMTP_SOURCE, os.X_OK):
        raise SystemExit(f"bench-sieve: {SMTP_SOURCE} not found (apt-get install postfix)")
    if not args.skip_dovecot and (shutil.which("dovecot") is None or
                                  not os.path.exists("/usr/lib/dovecot/lmtp") or
                                  not os.path.exists("/usr/lib/dovecot/modules/lib90_sieve_plugin.so")):
        raise SystemExit("bench-sieve: needs dovecot-lmtpd and dovecot-sieve, or --skip-dovecot")
    base = pathlib.Path(tempfile.mkdtemp(prefix="bench-sieve-"))
    os.chmod(base, 0o755)
    print("bench-sieve: conditions:\n"
          f"  client: smtp-source -d, {len(USERS) * SESSIONS_PER_USER} sessions, {PAYLOAD} B "
          f"payload, one recipient per message, {args.messages} messages per run\n"
          f"  cairn: cairnd 4 workers, PostgreSQL fsync={args.pg_fsync}, script cached by hash\n"
          f"  dovecot: LMTP, Maildir, default fsync_mode; Pigeonhole compiles to .svbin once\n"
          f"  load average {os.getloadavg()[0]:.2f} at start, {os.cpu_count()} CPUs", flush=True)
    try:
        runs = {}
        for i in range(args.rounds):
            rb = base / f"round{i}"
            rb.mkdir()
            os.chmod(rb, 0o755)
            runs.setdefault("cairn", []).append(
                measure_cairn(rb, args.messages, args.pg_fsync == "on", False))
            runs.setdefault("cairn+sieve", []).append(
                measure_cairn(rb, args.messages, args.pg_fsync == "on", True))
            if not args.skip_dovecot:
                runs.setdefault("dovecot", []).append(measure_dovecot(rb, args.messages, False))
                runs.setdefault("dovecot+sieve", []).append(
                    measure_dovecot(rb, args.messages, True))
        r = {k: statistics.median(v) for k, v in runs.items()}
        print(f"\nbench-sieve: messages/s (median of {args.rounds} round(s); each round)")
        for k, v in r.items():
            print(f"  {k:15s} {v:9.1f}   " + " ".join(f"{x:.1f}" for x in runs[k]))
        print("bench-sieve: ratios")
        print(f"  cairn+sieve / cairn           {r['cairn+sieve'] / r['cairn']:.3f}"
              f"  (script cost {100 * (1 - r['cairn+sieve'] / r['cairn']):.1f}%, goal < 10%)")
        if "dovecot" in r:
            print(f"  dovecot+sieve / dovecot       {r['dovecot+sieve'] / r['dovecot']:.3f}")
            print(f"  cairn+sieve / dovecot+sieve   {r['cairn+sieve'] / r['dovecot+sieve']:.3f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
