"""The outbound queue (issue 9), entirely on loopback: cairnd's runners send
to Postfix's smtp-sink, to a second cairnd and to small Python SMTP servers
written here (4xx then 2xx, 5xx, no STARTTLS, no SMTPUTF8), route by MX
through dnsmasq, bounce with RFC 3464 DSNs read back over IMAP, survive a
kill -9 in the middle of a run with every message delivered exactly once,
and sign with DKIM keys that python3-dkim verifies at the receiving side."""
import email
import email.policy
import imaplib
import os
import pathlib
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import CAIRNCTL, free_port, free_ports

PASSWORD = "queue-secret-1"
HOST = "mx.local.test"
SINK = "/usr/sbin/smtp-sink"


def ctl(d, *args, check=True):
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], capture_output=True, text=True,
                       timeout=120)
    if check:
        assert r.returncode == 0, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r


def sql(d, query, db="cairn"):
    return d.pg.psql(db, query).strip()


def base_config(routes, **queue):
    q = {"runners": "2", "retry_min": "1s", "retry_max": "2s", "poll_interval": "200ms",
         "command_timeout": "5s", "connect_timeout": "2s", "data_init_timeout": "5s",
         "data_block_timeout": "5s", "data_done_timeout": "5s", "lease": "30s"}
    q.update(queue)
    return {"server": {"hostname": HOST}, "queue": q, "routes": routes}


def start(cairnd_factory, pg, routes, extra=None, **queue):
    pg.reset_db()
    config = base_config(routes, **queue)
    for section, values in (extra or {}).items():
        config.setdefault(section, {}).update(values)
    d = cairnd_factory(config, start=False, migrate=False)
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), "migrate"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"migrate: {r.stdout}{r.stderr}"
    d.start()
    ctl(d, "domain", "add", "local.test")
    ctl(d, "user", "add", "ann@local.test", "--password", PASSWORD)
    return d


def submit(d, rcpts, msg, sender="ann@local.test", **kw):
    s = smtplib.SMTP("127.0.0.1", d.submission_port, timeout=20)
    s.starttls(context=insecure_tls())
    s.login("ann@local.test", PASSWORD)
    s.sendmail(sender, rcpts, msg, **kw)
    s.quit()


def insecure_tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def message(subject, msgid, body=b"Hello from the queue.\r\n", sender=b"ann@local.test",
            to=b"someone@remote.test"):
    return (b"From: Ann <" + sender + b">\r\nTo: <" + to + b">\r\nSubject: " +
            subject.encode() + b"\r\nMessage-ID: <" + msgid.encode() +
            b">\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n\r\n" + body)


def wait_for(cond, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def queue_empty(d):
    return sql(d, "SELECT count(*) FROM queue_messages") == "0"


def runners_asleep(d, n):
    """True when n runners sit idle on the database with the queue claim as
    their last statement, and nothing is queued: each has looked at the
    queue, found nothing, and waits for a wake-up or its poll interval."""
    idle = sql(d, "SELECT count(*) FROM pg_stat_activity WHERE datname = 'cairn'"
                  " AND application_name = 'cairnd' AND state = 'idle'"
                  " AND query LIKE 'WITH c AS (SELECT r.id FROM queue_recipients r%'")
    return int(idle) == n and queue_empty(d)


def inbox(port, user=b"ann@local.test"):
    """Every message of user's INBOX over IMAP, parsed."""
    m = imaplib.IMAP4("127.0.0.1", port)
    m.starttls(ssl_context=insecure_tls())
    m.login(user.decode(), PASSWORD)
    m.select("INBOX")
    typ, data = m.search(None, "ALL")
    out = []
    for num in data[0].split():
        typ, parts = m.fetch(num, "(RFC822)")
        out.append(email.message_from_bytes(parts[0][1], policy=email.policy.default))
    m.logout()
    return out


def dsn_fields(msg):
    """The per-message and per-recipient field blocks of a DSN's
    message/delivery-status part, as lists of dicts (lower-case names)."""
    assert msg.get_content_type() == "multipart/report"
    # RFC 6533: global-delivery-status for an SMTPUTF8 original.
    assert msg.get_param("report-type") in ("delivery-status", "global-delivery-status")
    parts = list(msg.iter_parts())
    assert parts[0].get_content_type() == "text/plain"
    status = [p for p in parts if p.get_content_type() in ("message/delivery-status",
                                                           "message/global-delivery-status")]
    assert len(status) == 1, [p.get_content_type() for p in parts]
    raw = status[0].get_payload()
    if isinstance(raw, list) and status[0].get_content_type() == "message/global-delivery-status":
        # Parsed as one message: the first block is its header, the rest its body.
        raw = raw[0].as_string()
    if isinstance(raw, list):      # the email package parses it as header blocks
        blocks = [{k.lower(): str(v) for k, v in b.items()} for b in raw]
    else:
        text = raw if isinstance(raw, str) else raw.decode()
        blocks = []
        for chunk in re.split(r"\r?\n\r?\n", text.strip()):
            fields = {}
            for line in re.sub(r"\r?\n[ \t]+", " ", chunk).splitlines():
                k, _, v = line.partition(":")
                fields[k.strip().lower()] = v.strip()
            blocks.append(fields)
    for b in blocks:     # "rfc822;x" and "rfc822; x" are the same
        for k in ("final-recipient", "original-recipient"):
            if k in b:
                t, _, a = b[k].partition(";")
                b[k] = f"{t.strip().lower()};{a.strip()}"
    return blocks, parts


# ---- remote servers ----

class Sink:
    """Postfix's smtp-sink dumping every message to a file of its own."""

    def __init__(self, extra=()):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-sink-"))
        os.chmod(self.dir, 0o777)
        self.port = free_port()
        args = [SINK]
        if os.geteuid() == 0:
            args += ["-u", "postfix"]
        args += [*extra, "-d", f"{self.dir}/%M.", f"127.0.0.1:{self.port}", "256"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(self.listening, 10, "smtp-sink")

    def listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def files(self):
        return sorted(p for p in self.dir.iterdir() if p.is_file())

    def messages(self):
        return [p.read_bytes() for p in self.files()]

    def message_ids(self):
        ids = []
        for raw in self.messages():
            m = re.search(rb"^Message-ID: <([^>]*)>", raw, re.M | re.I)
            if m:
                ids.append(m.group(1).decode())
        return ids

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.close()


class FakeSMTP:
    """A scriptable SMTP server: ext lists the EHLO keywords; rcpt(addr, n)
    and data(n) give the replies (n counts transactions). It records every
    command line and every message."""

    def __init__(self, ext=("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"), rcpt=None,
                 data=None, greeting=b"220 fake.test ESMTP\r\n"):
        self.ext = ext
        self.rcpt_reply = rcpt or (lambda addr, n: b"250 2.1.5 Ok\r\n")
        self.data_reply = data or (lambda n: b"250 2.0.0 Ok: queued\r\n")
        self.greeting = greeting
        self.lines = []
        self.messages = []
        self.transactions = 0
        self.active = 0         # transactions between MAIL and the reply to the dot
        self.max_active = 0
        self.data_delay = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.session, args=(c,), daemon=True).start()

    def session(self, c):
        c.settimeout(10)
        f = c.makefile("rb")
        try:
            c.sendall(self.greeting)
            rcpts = []
            while True:
                line = f.readline()
                if not line:
                    return
                with self.lock:
                    self.lines.append(line)
                cmd = line.strip().upper()
                if cmd.startswith(b"EHLO"):
                    ext = [b"fake.test"] + [e.encode() for e in self.ext]
                    c.sendall(b"".join(b"250-" + e + b"\r\n" for e in ext[:-1]) +
                              b"250 " + ext[-1] + b"\r\n")
                elif cmd.startswith(b"HELO"):
                    c.sendall(b"250 fake.test\r\n")
                elif cmd.startswith(b"MAIL FROM:"):
                    rcpts = []
                    with self.lock:
                        self.active += 1
                        self.max_active = max(self.max_active, self.active)
                    c.sendall(b"250 2.1.0 Ok\r\n")
                elif cmd.startswith(b"RCPT TO:"):
                    addr = line.split(b"<", 1)[1].split(b">", 1)[0].decode()
                    reply = self.rcpt_reply(addr, self.transactions)
                    if reply.startswith(b"2"):
                        rcpts.append(addr)
                    c.sendall(reply)
                elif cmd == b"DATA":
                    if not rcpts:
                        c.sendall(b"554 5.5.1 No valid recipients\r\n")
                        continue
                    c.sendall(b"354 go ahead\r\n")
                    data = b""
                    while True:
                        l = f.readline()
                        if not l:
                            return
                        if l == b".\r\n":
                            break
                        data += l[1:] if l.startswith(b"..") else l
                    time.sleep(self.data_delay)
                    with self.lock:
                        n = self.transactions
                        self.transactions += 1
                        self.active -= 1
                    reply = self.data_reply(n)
                    if reply.startswith(b"2"):
                        with self.lock:
                            self.messages.append((rcpts, data))
                    c.sendall(reply)
                elif cmd == b"RSET":
                    rcpts = []
                    c.sendall(b"250 2.0.0 Ok\r\n")
                elif cmd == b"QUIT":
                    c.sendall(b"221 2.0.0 Bye\r\n")
                    return
                elif cmd == b"STARTTLS":
                    c.sendall(b"454 4.7.0 TLS not available\r\n")
                else:
                    c.sendall(b"502 5.5.2 Command not recognized\r\n")
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()


# ---- tests ----

def test_delivery_to_smtp_sink_one_connection(cairnd_factory, pg, sink):
    # One runner: every message to the host goes over the one connection it
    # keeps open between batches (docs/queue.md: a connection is reused).
    d = start(cairnd_factory, pg, {"remote.test": f"127.0.0.1:{sink.port} tls=none"},
              runners="1")
    s = smtplib.SMTP("127.0.0.1", d.submission_port, timeout=20)
    s.starttls(context=insecure_tls())
    s.login("ann@local.test", PASSWORD)
    for i in range(5):
        s.sendmail("ann@local.test", ["x@remote.test", "y@remote.test"],
                   message(f"m{i}", f"sink-{i}@local.test"))
    s.quit()
    wait_for(lambda: queue_empty(d), 30, "the queue to drain")
    files = sink.messages()
    # One message per transaction, with both recipients in it.
    assert sorted(sink.message_ids()) == sorted(f"sink-{i}@local.test" for i in range(5))
    for raw in files:
        assert b"X-Mail-Args: <ann@local.test>" in raw
        assert raw.count(b"X-Rcpt-Args: ") == 2
        assert b"X-Helo-Args: " + HOST.encode() in raw
        assert b"\r\nHello from the queue." in raw.replace(b"\n", b"\r\n").replace(b"\r\r", b"\r")
    # The runner logs its deliveries; /metrics counts them.
    status, _, body = d.get("/metrics")
    assert status == 200
    delivered = re.search(rb"^cairn_queue_delivered_total (\d+)", body, re.M)
    assert delivered and int(delivered.group(1)) == 10
    # Five messages, two recipients each, and one connection for them all.
    conns = re.search(rb"^cairn_queue_connections_total (\d+)", body, re.M)
    log = d.log_text()
    assert conns and int(conns.group(1)) == 1, conns and conns.group(0)
    assert log.count("queue event=connected ") == 1
    assert "queue event=delivered" in log
    out = ctl(d, "queue", "list").stdout
    assert out.strip().endswith("0 messages queued")


def test_temporary_failure_then_success(cairnd_factory, pg):
    tries = []

    def rcpt(addr, n):
        tries.append(addr)
        return b"451 4.3.0 Try again later\r\n" if len(tries) == 1 else b"250 2.1.5 Ok\r\n"
    srv = FakeSMTP(rcpt=rcpt)
    try:
        d = start(cairnd_factory, pg, {"retry.test": f"127.0.0.1:{srv.port}"})
        submit(d, ["bob@retry.test"], message("retry", "retry-1@local.test"))
        wait_for(lambda: sql(d, "SELECT attempts || state || coalesce(last_error, '')"
                                " FROM queue_recipients").startswith("1deferred451 4.3.0"),
                 20, "a deferral")
        assert ctl(d, "queue", "show", sql(d, "SELECT id FROM queue_messages")).stdout.count(
            "451 4.3.0 Try again later") == 1
        wait_for(lambda: queue_empty(d), 30, "the retry")
        assert len(srv.messages) == 1
        assert srv.messages[0][0] == ["bob@retry.test"]
        assert b"Message-ID: <retry-1@local.test>" in srv.messages[0][1]
        # No DSN for a temporary failure that recovered.
        assert all(m["Subject"] != "retry" and "report" not in m.get_content_type()
                   for m in inbox(d.imap_port))
    finally:
        srv.close()


def test_permanent_failure_bounces_to_local_sender(cairnd_factory, pg):
    srv = FakeSMTP(ext=("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"),
                   rcpt=lambda addr, n: b"550 5.1.1 <%s>: no such user\r\n" % addr.encode()
                   if addr.startswith("nobody") else b"250 2.1.5 Ok\r\n")
    try:
        d = start(cairnd_factory, pg, {"bounce.test": f"127.0.0.1:{srv.port}"})
        submit(d, ["nobody@bounce.test", "real@bounce.test"],
               message("will bounce", "bounce-1@local.test"),
               mail_options=["RET=HDRS", "ENVID=env-42"],
               rcpt_options=["NOTIFY=FAILURE", "ORCPT=rfc822;nobody@bounce.test"])
        wait_for(lambda: queue_empty(d), 30, "the bounce")
        assert [m[0] for m in srv.messages] == [["real@bounce.test"]]
        msgs = inbox(d.imap_port)
        assert len(msgs) == 1, [m["Subject"] for m in msgs]
        dsn = msgs[0]
        assert dsn["From"].addresses[0].username.upper() == "MAILER-DAEMON"
        assert dsn["To"].addresses[0].addr_spec == "ann@local.test"
        raw = inbox_raw(d.imap_port)[0]
        assert raw.startswith(b"Return-Path: <>\r\n")
        blocks, parts = dsn_fields(dsn)
        per_msg, rcpts = blocks[0], blocks[1:]
        assert per_msg["reporting-mta"] == f"dns; {HOST}"
        assert per_msg["original-envelope-id"] == "env-42"
        assert len(rcpts) == 1
        r = rcpts[0]
        assert r["final-recipient"].lower() == "rfc822;nobody@bounce.test"
        assert r["original-recipient"].lower() == "rfc822;nobody@bounce.test"
        assert r["action"] == "failed"
        assert r["status"] == "5.1.1"
        assert r["diagnostic-code"].startswith("smtp; 550 5.1.1")
        assert "remote-mta" in r
        # RET=HDRS: the headers only, as text/rfc822-headers.
        assert parts[-1].get_content_type() == "text/rfc822-headers"
        assert "bounce-1@local.test" in parts[-1].get_content()
        assert sql(d, "SELECT count(*) FROM queue_recipients") == "0"
    finally:
        srv.close()


def inbox_raw(port, user=b"ann@local.test"):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.starttls(ssl_context=insecure_tls())
    m.login(user.decode(), PASSWORD)
    m.select("INBOX")
    typ, data = m.search(None, "ALL")
    out = [m.fetch(n, "(BODY.PEEK[])")[1][0][1] for n in data[0].split()]
    m.logout()
    return out


def test_down_server_retries_then_expires_with_delay_warning(cairnd_factory, pg):
    port = free_port()      # nobody listens there
    d = start(cairnd_factory, pg, {"down.test": f"127.0.0.1:{port}"}, lifetime="4s",
              delay_warning="1500ms")
    submit(d, ["x@down.test"], message("never arrives", "down-1@local.test"))
    wait_for(lambda: queue_empty(d), 30, "expiry")
    attempts_seen = len(re.findall(r"queue event=deferred id=\d+ rcpt=<x@down.test>", d.log_text()))
    assert attempts_seen >= 2
    msgs = inbox(d.imap_port)
    actions = []
    for m in msgs:
        blocks, _ = dsn_fields(m)
        actions += [b["action"] for b in blocks[1:]]
        for b in blocks[1:]:
            assert b["final-recipient"].lower() == "rfc822;x@down.test"
            assert b["status"].startswith("4.")
    # One delay warning, then one failure: each exactly once.
    assert sorted(actions) == ["delayed", "failed"]
    failed = [m for m in msgs if "failed" in str(m)]
    assert failed


def test_require_tls_never_sends_in_clear(cairnd_factory, pg):
    srv = FakeSMTP(ext=("PIPELINING", "8BITMIME"))     # no STARTTLS offered
    try:
        d = start(cairnd_factory, pg, {"secure.test": f"127.0.0.1:{srv.port} tls=require"})
        submit(d, ["x@secure.test"], message("secret", "tls-1@local.test"))
        wait_for(lambda: "deferred" in sql(d, "SELECT state FROM queue_recipients"), 20,
                 "a deferral")
        err = sql(d, "SELECT last_error FROM queue_recipients")
        assert "TLS is required" in err
        time.sleep(1.5)
        assert srv.messages == []
        assert not any(l.upper().startswith((b"MAIL", b"RCPT", b"DATA")) for l in srv.lines)
    finally:
        srv.close()


def test_smtputf8_message_to_server_without_it_bounces_567(cairnd_factory, pg):
    srv = FakeSMTP(ext=("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"))
    try:
        d = start(cairnd_factory, pg, {"ascii.test": f"127.0.0.1:{srv.port}"})
        msg = ("From: ann@local.test\r\nTo: jörg@ascii.test\r\nSubject: Grüße\r\n"
               "Message-ID: <utf8-1@local.test>\r\n\r\nÜmlaut body\r\n").encode()
        submit(d, ["jörg@ascii.test"], msg, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        wait_for(lambda: queue_empty(d), 30, "the bounce")
        assert srv.messages == []
        assert not any(l.upper().startswith(b"MAIL") for l in srv.lines)
        msgs = inbox(d.imap_port)
        assert len(msgs) == 1
        blocks, _ = dsn_fields(msgs[0])
        assert blocks[1]["status"] == "5.6.7"
        assert blocks[1]["action"] == "failed"
    finally:
        srv.close()


def test_success_dsn_when_remote_lacks_dsn(cairnd_factory, pg):
    srv = FakeSMTP(ext=("PIPELINING", "8BITMIME"))     # no DSN: we report "relayed"
    try:
        d = start(cairnd_factory, pg, {"plain.test": f"127.0.0.1:{srv.port}"})
        submit(d, ["x@plain.test"], message("notify", "notify-1@local.test"),
               rcpt_options=["NOTIFY=SUCCESS"])
        wait_for(lambda: queue_empty(d), 30, "delivery")
        assert len(srv.messages) == 1
        assert not any(b"NOTIFY=" in l for l in srv.lines)    # not offered, not sent
        msgs = wait_for(lambda: inbox(d.imap_port), 10, "the success DSN")
        blocks, _ = dsn_fields(msgs[0])
        assert blocks[1]["action"] == "relayed"
        assert blocks[1]["status"].startswith("2.")
    finally:
        srv.close()


def test_dsn_parameters_passed_on_and_no_bounce_for_null_sender(cairnd_factory, pg, sink):
    d = start(cairnd_factory, pg, {"remote.test": f"127.0.0.1:{sink.port}",
                                   "dead.test": f"127.0.0.1:{free_port()}"},
              lifetime="2s")
    submit(d, ["x@remote.test"], message("dsn", "dsn-1@local.test"),
           mail_options=["RET=FULL", "ENVID=a+2Bb"],
           rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;x@remote.test"])
    wait_for(lambda: queue_empty(d), 30, "delivery")
    raw = sink.messages()[0]
    assert b"X-Mail-Args: <ann@local.test> RET=FULL ENVID=a+2Bb" in raw
    assert b"X-Rcpt-Args: <x@remote.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@remote.test" in raw
    # smtp-sink offers DSN, so the success report is the remote's job.
    assert inbox(d.imap_port) == []
    # A bounce (null sender) that cannot be delivered is dropped, never bounced.
    s = smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=20)
    s.starttls(context=insecure_tls())
    s.login("ann@local.test", PASSWORD)
    assert s.docmd("MAIL", "FROM:<>")[0] == 250
    assert s.docmd("RCPT", "TO:<y@dead.test>")[0] == 250
    assert s.data(message("null", "null-1@local.test"))[0] == 250
    s.quit()
    wait_for(lambda: queue_empty(d), 30, "expiry")
    assert re.search(r"queue event=failed id=\d+ rcpt=<y@dead.test>", d.log_text())
    assert inbox(d.imap_port) == []
    assert "queue event=dsn " not in d.log_text()


def test_cairnctl_queue_commands(cairnd_factory, pg):
    d = start(cairnd_factory, pg, {"hold.test": f"127.0.0.1:{free_port()}"}, retry_min="1h",
              retry_max="1h")
    submit(d, ["x@hold.test"], message("held", "held-1@local.test"))
    wait_for(lambda: sql(d, "SELECT state FROM queue_recipients") == "deferred", 20, "deferral")
    qid = sql(d, "SELECT id FROM queue_messages")
    out = ctl(d, "queue", "list").stdout
    assert f"{qid}  " in out and "<x@hold.test> deferred attempts=1" in out
    assert "1 message queued" in out
    show = ctl(d, "queue", "show", qid).stdout
    assert "recipient: <x@hold.test>" in show and "last error: " in show
    assert ctl(d, "queue", "retry", qid).stdout.startswith("1 recipient due now")
    wait_for(lambda: sql(d, "SELECT attempts FROM queue_recipients") == "2", 20, "the retry")
    assert ctl(d, "queue", "flush").returncode == 0
    assert ctl(d, "queue", "show", "999999", check=False).returncode == 1
    assert ctl(d, "queue", "drop", "abc", check=False).returncode == 2
    wait_for(lambda: ctl(d, "queue", "drop", qid, check=False).returncode == 0, 20, "drop")
    assert queue_empty(d)
    assert inbox(d.imap_port) == []     # dropped: no bounce


def test_second_cairnd_receives_with_verified_tls(cairnd_factory, pg, tls_files):
    pg.psql("postgres", "DROP DATABASE IF EXISTS cairn2 WITH (FORCE)")
    pg.psql("postgres", "CREATE DATABASE cairn2")
    conninfo2 = pg.conninfo.replace("dbname=cairn", "dbname=cairn2")
    remote = cairnd_factory({"store": {"conninfo": conninfo2}, "queue": {"runners": "0"},
                             "server": {"hostname": "mx.remote2.test"}})
    ctl(remote, "domain", "add", "remote2.test")
    ctl(remote, "user", "add", "bob@remote2.test", "--password", PASSWORD)
    cert = str(remote.cert)     # a copy the unprivileged daemon can read
    d = start(cairnd_factory, pg, {
        "remote2.test": f"127.0.0.1:{remote.smtp_port} tls=verify",
        "unverified.test": f"127.0.0.1:{remote.smtp_port} tls=verify",
    }, tls_ca_file=cert)
    submit(d, ["bob@remote2.test"], message("hello bob", "cairn2-1@local.test",
                                            to=b"bob@remote2.test"))
    wait_for(lambda: queue_empty(d), 30, "delivery to the second cairnd")
    got = pg.psql("cairn2", "SELECT encode(b.raw, 'escape') FROM mailbox_messages mm"
                            " JOIN message_blobs b ON b.id = mm.blob_id")
    assert "cairn2-1@local.test" in got
    assert "Return-Path: <ann@local.test>" in got
    # Over TLS: the receiving side's Received: says ESMTPS.
    assert "with ESMTPS" in got
    assert f"from {HOST}" in got


def test_verify_fails_without_the_ca(cairnd_factory, pg):
    pg.psql("postgres", "DROP DATABASE IF EXISTS cairn2 WITH (FORCE)")
    pg.psql("postgres", "CREATE DATABASE cairn2")
    conninfo2 = pg.conninfo.replace("dbname=cairn", "dbname=cairn2")
    remote = cairnd_factory({"store": {"conninfo": conninfo2}, "queue": {"runners": "0"}})
    d = start(cairnd_factory, pg, {"remote2.test": f"127.0.0.1:{remote.smtp_port} tls=verify"})
    submit(d, ["bob@remote2.test"], message("unverified", "unv-1@local.test"))
    wait_for(lambda: "certificate verification failed" in
             sql(d, "SELECT coalesce(last_error, '') FROM queue_recipients"), 20, "a TLS failure")
    assert sql(d, "SELECT state FROM queue_recipients") == "deferred"


@pytest.fixture
def dnsmasq(sink):
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.path.exists(exe):
        pytest.skip("dnsmasq not installed (Debian package dnsmasq-base)")
    port = free_port()
    args = [exe, "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1",
            "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
            "--pid-file", "--log-facility=-",
            "--auth-zone=test", "--auth-server=ns.test,127.0.0.1", "--auth-sec-servers=ns.test",
            # mx.test: a dead preferred exchanger, then a live one.
            "--mx-host=mx.test,dead.mx.test,5",
            "--mx-host=mx.test,live.mx.test,10",
            "--host-record=dead.mx.test,127.0.0.2",
            "--host-record=live.mx.test,127.0.0.1",
            # implicit.test: no MX, an A record (RFC 5321 5.1 fallback).
            "--host-record=implicit.test,127.0.0.1",
            # nullmx.test: "MX 0 ." (RFC 7505), raw RDATA 0000 00.
            "--dns-rr=nullmx.test,15,000000",
            ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def up():
            try:
                from dnslib import DNSRecord
                q = DNSRecord.question("live.mx.test", "A")
                r = DNSRecord.parse(q.send("127.0.0.1", port, timeout=0.3))
                return len(r.rr) > 0
            except Exception:
                return False
        wait_for(up, 10, "dnsmasq")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_mx_routing_and_null_mx(cairnd_factory, pg, sink, dnsmasq):
    # Every MX host is reached on the sink's port (mx:PORT); 127.0.0.2 has
    # nobody listening there, so the runner falls over to the next MX.
    d = start(cairnd_factory, pg, {"*": f"mx:{sink.port}"}, resolver=dnsmasq)
    submit(d, ["a@mx.test"], message("via mx", "mx-1@local.test"))
    submit(d, ["b@implicit.test"], message("implicit", "mx-2@local.test"))
    submit(d, ["c@nullmx.test"], message("null mx", "mx-3@local.test"))
    submit(d, ["d@nxdomain.test"], message("no such domain", "mx-4@local.test"))
    # An address literal needs no DNS (RFC 5321 4.1.3).
    submit(d, ["e@[127.0.0.1]"], message("literal", "mx-5@local.test"))
    wait_for(lambda: queue_empty(d), 30, "the queue to drain")
    assert sorted(sink.message_ids()) == ["mx-1@local.test", "mx-2@local.test", "mx-5@local.test"]
    statuses = {}
    for m in inbox(d.imap_port):
        blocks, _ = dsn_fields(m)
        for b in blocks[1:]:
            statuses[b["final-recipient"].split(";")[1].strip()] = b["status"]
    assert statuses == {"c@nullmx.test": "5.1.10", "d@nxdomain.test": "5.1.2"}


def test_kill_9_in_the_middle_of_a_run(cairnd_factory, pg, sink):
    count = 300
    # Fill the queue with the runners off, then let a node run and kill it.
    domains = [f"d{k}.test" for k in range(7)]
    routes = {dom: f"127.0.0.1:{sink.port}" for dom in domains}
    filler = start(cairnd_factory, pg, routes, runners="0")
    s = None
    for i in range(count):
        if i % 50 == 0:
            if s is not None:
                s.quit()
            s = smtplib.SMTP("127.0.0.1", filler.submission_port, timeout=20)
            s.starttls(context=insecure_tls())
            s.login("ann@local.test", PASSWORD)
        s.sendmail("ann@local.test", [f"r{i}@{domains[i % 7]}"],
                   message(f"k{i}", f"kill-{i}@local.test"))
    s.quit()
    filler.stop()
    assert sql(filler, "SELECT count(*) FROM queue_messages") == str(count)
    # Small batches, several runners, and a rate limit so that the kill
    # lands in the middle: many transactions in flight at any moment.
    cfg = base_config(routes, runners="4", batch="5", rate_per_destination="1200")
    runner = cairnd_factory(cfg, migrate=False)
    wait_for(lambda: len(sink.files()) >= count // 4, 60, "part of the run")
    runner.signal(signal.SIGKILL)
    runner.proc.wait()
    runner.logf.close()
    partial = len(sink.files())
    assert partial < count, "the run finished before the kill; nothing was tested"
    again = cairnd_factory(cfg, migrate=False)
    wait_for(lambda: queue_empty(again), 90, "the queue to drain after the restart")
    ids = sink.message_ids()
    missing = set(f"kill-{i}@local.test" for i in range(count)) - set(ids)
    dups = sorted(x for x in set(ids) if ids.count(x) > 1)
    settled = re.findall(r"queue event=reclaimed .*", again.log_text())
    assert not missing and not dups, (f"missing={sorted(missing)[:10]} duplicates={dups[:10]} "
                                      f"settled={settled}")
    assert len(ids) == count


def test_dkim_signatures_verify(cairnd_factory, pg, sink):
    dkim = pytest.importorskip("dkim")
    d = start(cairnd_factory, pg, {"remote.test": f"127.0.0.1:{sink.port}"})
    records = {}
    for algo, sel in (("rsa-sha256", "rsa1"), ("ed25519-sha256", "ed1")):
        out = ctl(d, "dkim", "keygen", "local.test", "--selector", sel, "--algorithm", algo).stdout
        txt = "".join(re.findall(r'"([^"]*)"', out))
        assert txt.startswith("v=DKIM1"), out
        records[f"{sel}._domainkey.local.test."] = txt
    submit(d, ["x@remote.test"], message("signed", "dkim-1@local.test",
                                         body=b"Signed body.\r\n.leading dot\r\n"))
    submit(d, ["x@remote.test"], message("signed twice", "dkim-2@local.test"))
    wait_for(lambda: queue_empty(d), 30, "delivery")
    assert len(sink.files()) == 2

    def dnsfunc(name, timeout=5):
        n = name.decode() if isinstance(name, bytes) else name
        return records.get(n if n.endswith(".") else n + ".", "").encode()

    for raw in sink.messages():
        # smtp-sink prepends its X- fields and a Received: header.
        msg = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        start_at = msg.index(b"DKIM-Signature:")
        signed = msg[start_at:]
        assert signed.count(b"DKIM-Signature:") == 2
        d1 = dkim.DKIM(signed)
        for i in range(2):
            assert d1.verify(idx=i, dnsfunc=dnsfunc), f"signature {i} does not verify"


def test_smarthost_auth_over_starttls(cairnd_factory, pg):
    pg.psql("postgres", "DROP DATABASE IF EXISTS cairn2 WITH (FORCE)")
    pg.psql("postgres", "CREATE DATABASE cairn2")
    conninfo2 = pg.conninfo.replace("dbname=cairn", "dbname=cairn2")
    # The second cairnd is the smarthost: submission with AUTH, relaying.
    smart = cairnd_factory({"store": {"conninfo": conninfo2}, "queue": {"runners": "0"},
                            "submission": {"check_sender": "no"}})
    ctl(smart, "domain", "add", "smart.test")
    ctl(smart, "user", "add", "relay@smart.test", "--password", "relay-pw-1")
    secrets = pathlib.Path(tempfile.mkdtemp(prefix="cairn-pw-"))
    os.chmod(secrets, 0o755)
    (secrets / "good").write_text("relay-pw-1\n")
    (secrets / "bad").write_text("wrong-password\n")
    for f in ("good", "bad"):
        os.chmod(secrets / f, 0o644)
    try:
        # auth= implies tls=verify: the smarthost's certificate must be trusted.
        d = start(cairnd_factory, pg, {
            "far.test": f"127.0.0.1:{smart.submission_port} auth=relay@smart.test:{secrets}/good",
            "denied.test": f"127.0.0.1:{smart.submission_port} auth=relay@smart.test:{secrets}/bad",
        }, tls_ca_file=str(smart.cert))
        submit(d, ["x@far.test"], message("via smarthost", "smart-1@local.test"))
        submit(d, ["y@denied.test"], message("bad password", "smart-2@local.test"))
        wait_for(lambda: sql(d, "SELECT count(*) FROM queue_messages") == "1", 30,
                 "delivery to the smarthost")
        # The smarthost queued it as relay@smart.test's submission.
        row = pg.psql("cairn2", "SELECT q.envelope_from || ' ' || q.auth_user || ' ' || r.address"
                                " FROM queue_messages q JOIN queue_recipients r"
                                " ON r.message_id = q.id").strip()
        assert row == "ann@local.test relay@smart.test x@far.test"
        # A refused login is a temporary failure: never a bounce.
        wait_for(lambda: "authentication failed" in
                 sql(d, "SELECT coalesce(last_error, '') FROM queue_recipients"), 20, "deferral")
        assert sql(d, "SELECT state FROM queue_recipients") == "deferred"
        assert "wrong-password" not in d.log_text() and "relay-pw-1" not in d.log_text()
        assert inbox(d.imap_port) == []
    finally:
        shutil.rmtree(secrets, ignore_errors=True)


def test_rate_and_gauges(cairnd_factory, pg, sink):
    # 120 messages a minute to one destination: 2 a second (the bucket holds
    # one second's worth), so 8 messages take at least 3 seconds.
    d = start(cairnd_factory, pg, {"slow.test": f"127.0.0.1:{sink.port}"},
              rate_per_destination="120")
    t0 = time.time()
    for i in range(8):
        submit(d, ["x@slow.test"], message(f"r{i}", f"rate-{i}@local.test"))
    wait_for(lambda: queue_empty(d), 60, "the queue to drain")
    assert time.time() - t0 >= 2.5
    assert sorted(sink.message_ids()) == sorted(f"rate-{i}@local.test" for i in range(8))
    # The gauges follow the queue (refreshed every 5 seconds).
    assert d.stop() == 0
    port = free_port()
    d2 = start(cairnd_factory, pg, {"held.test": f"127.0.0.1:{port}"}, retry_min="1h",
               retry_max="1h")
    submit(d2, ["x@held.test"], message("held", "gauge-1@local.test"))

    def gauge():
        body = d2.get("/metrics")[2]
        m = re.search(rb"^cairn_queue_messages (\d+)", body, re.M)
        return m and int(m.group(1)) == 1 and body
    body = wait_for(gauge, 15, "the queue gauge")
    assert re.search(rb"^cairn_queue_deferred_total 1$", body, re.M)
    assert re.search(rb"^cairn_queue_oldest_seconds \d+$", body, re.M)


def test_bounce_for_remote_sender_goes_out_with_null_sender(cairnd_factory, pg, sink):
    srv = FakeSMTP(rcpt=lambda addr, n: b"550 5.1.1 no such user\r\n")
    try:
        # An authenticated client relaying for a sender of another domain:
        # only where the admin turned the sender check off (by default an
        # authenticated session may only use its own addresses, on the MX
        # port as on submission).
        d = start(cairnd_factory, pg, {"bounce.test": f"127.0.0.1:{srv.port}",
                                       "elsewhere.test": f"127.0.0.1:{sink.port}"},
                  extra={"submission": {"check_sender": "no"}})
        s = smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=20)
        s.starttls(context=insecure_tls())
        s.login("ann@local.test", PASSWORD)
        s.sendmail("someone@elsewhere.test", ["nobody@bounce.test"],
                   message("remote sender", "remote-sender-1@local.test",
                           sender=b"someone@elsewhere.test"))
        s.quit()
        wait_for(lambda: queue_empty(d) and len(sink.files()) == 1, 30, "the DSN at the sink")
        raw = sink.messages()[0]
        assert b"X-Mail-Args: <>" in raw
        assert b"X-Rcpt-Args: <someone@elsewhere.test>" in raw
        body = raw[raw.index(b"Received: "):]
        msg = email.message_from_bytes(body, policy=email.policy.default)
        blocks, _ = dsn_fields(msg)
        assert blocks[1]["action"] == "failed" and blocks[1]["status"] == "5.1.1"
        # That DSN itself was never a candidate for a bounce (null sender).
        assert "action=failed to=<>" not in d.log_text()
    finally:
        srv.close()


def test_per_destination_concurrency(cairnd_factory, pg):
    srv = FakeSMTP()
    srv.data_delay = 0.05
    try:
        d = start(cairnd_factory, pg, {"one.test": f"127.0.0.1:{srv.port}"}, runners="4",
                  max_per_destination="1", batch="1")
        s = smtplib.SMTP("127.0.0.1", d.submission_port, timeout=20)
        s.starttls(context=insecure_tls())
        s.login("ann@local.test", PASSWORD)
        for i in range(12):
            s.sendmail("ann@local.test", [f"u{i}@one.test"],
                       message(f"c{i}", f"conc-{i}@local.test"))
        s.quit()
        wait_for(lambda: queue_empty(d), 60, "the queue to drain")
        assert len(srv.messages) == 12
        assert srv.max_active == 1
    finally:
        srv.close()


def test_8bit_message_to_7bit_server_bounces_563(cairnd_factory, pg):
    srv = FakeSMTP(ext=("PIPELINING", "ENHANCEDSTATUSCODES"))      # no 8BITMIME
    try:
        d = start(cairnd_factory, pg, {"seven.test": f"127.0.0.1:{srv.port}"})
        msg = ("From: ann@local.test\r\nTo: x@seven.test\r\nSubject: 8bit\r\n"
               "Message-ID: <8bit-1@local.test>\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n").encode()
        submit(d, ["x@seven.test"], msg, mail_options=["BODY=8BITMIME"])
        wait_for(lambda: queue_empty(d), 30, "the bounce")
        assert not any(l.upper().startswith(b"MAIL") for l in srv.lines)
        blocks, _ = dsn_fields(inbox(d.imap_port)[0])
        assert blocks[1]["status"] == "5.6.3" and blocks[1]["action"] == "failed"
    finally:
        srv.close()


def test_dkim_signature_kept_for_retries(cairnd_factory, pg):
    tries = []

    def rcpt(addr, n):
        tries.append(addr)
        return b"451 4.3.0 later\r\n" if len(tries) == 1 else b"250 2.1.5 Ok\r\n"
    srv = FakeSMTP(rcpt=rcpt)
    try:
        d = start(cairnd_factory, pg, {"retry.test": f"127.0.0.1:{srv.port}"},
                  retry_min="2s", retry_max="2s")
        ctl(d, "dkim", "keygen", "local.test", "--selector", "k1", "--algorithm", "ed25519-sha256")
        submit(d, ["x@retry.test"], message("signed once", "dkim-retry@local.test"))
        sig = wait_for(lambda: sql(d, "SELECT r.state || '|' || coalesce(m.dkim_signature, '')"
                                      " FROM queue_messages m JOIN queue_recipients r"
                                      " ON r.message_id = m.id").startswith("deferred|DKIM-Sig")
                       and sql(d, "SELECT m.dkim_signature FROM queue_messages m"), 20,
                       "the signature saved with the deferral")
        wait_for(lambda: queue_empty(d), 30, "the retry")
        data = srv.messages[0][1]
        # The retry sent the very signature made at the first attempt.
        assert data.startswith(sig.replace("\n", "\r\n").encode().rstrip(b"\r\n") + b"\r\n")
        assert data.count(b"DKIM-Signature:") == 1
    finally:
        srv.close()


def test_queued_blob_gets_search_text_when_a_mailbox_shares_it(cairnd_factory, pg):
    # A blob stored only for the queue gets no search text and no SORT keys
    # (relaying never reads them); an IMAP APPEND of the same bytes
    # deduplicates to that blob, and SEARCH BODY and SORT must still see it.
    d = start(cairnd_factory, pg, {"remote.test": "127.0.0.1:9"}, runners="0")
    raw = message("Zebra shared", "shared-1@local.test",
                  body=b"The quokkaword is in this body.\r\n")
    submit(d, ["x@remote.test"], raw)
    blob = sql(d, "SELECT blob_id FROM queue_messages")
    assert blob
    assert sql(d, f"SELECT count(*) FROM message_text WHERE blob_id = {blob}") == "0"
    assert sql(d, f"SELECT count(*) FROM message_sort_keys WHERE blob_id = {blob}") == "0"
    # The queued bytes (the gateway added its Received: field).
    raw = bytes.fromhex(sql(d, f"SELECT encode(raw, 'hex') FROM message_blobs WHERE id = {blob}"))
    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    m.starttls(ssl_context=insecure_tls())
    m.login("ann@local.test", PASSWORD)
    m.append("INBOX", None, None, message("Apple first", "other-1@local.test"))
    typ, _ = m.append("INBOX", None, None, raw)
    assert typ == "OK"
    # The same blob, and now with its text.
    assert sql(d, "SELECT count(*) FROM mailbox_messages WHERE blob_id = " + blob) == "1"
    assert sql(d, f"SELECT count(*) FROM message_text WHERE blob_id = {blob}") == "1"
    m.select("INBOX")
    typ, data = m.uid("SEARCH", None, "BODY", "quokkaword")
    assert typ == "OK" and data[0].split() == [b"2"], data
    typ, data = m.uid("SEARCH", None, "TEXT", "Zebra")
    assert typ == "OK" and data[0].split() == [b"2"], data
    typ, data = m.uid("SORT", "(REVERSE SUBJECT)", "UTF-8", "ALL")
    assert typ == "OK" and data[0].split() == [b"2", b"1"], data
    m.logout()
    # One blob, referenced by the queue and by the mailbox.
    assert sql(d, f"SELECT refcount FROM message_blobs WHERE id = {blob}") == "2"


def test_new_mail_wakes_the_runners_without_polling(cairnd_factory, pg, sink):
    # Runners that poll once a minute: only a wake-up sends within the test.
    # The accepting node wakes its own runners in the process; a node
    # without runners tells the others with a NOTIFY after its commit.
    routes = {"remote.test": f"127.0.0.1:{sink.port} tls=none"}
    d = start(cairnd_factory, pg, routes, poll_interval="60s")
    wait_for(lambda: runners_asleep(d, 2), 15, "the runners' first look at the queue")
    submit(d, ["x@remote.test"], message("woken", "wake-1@local.test"))
    wait_for(lambda: "wake-1@local.test" in sink.message_ids(), 15, "the in-process wake-up")
    gw = cairnd_factory(base_config(routes, runners="0"), migrate=False)
    wait_for(lambda: runners_asleep(d, 2), 15, "d's runners to be idle again")
    submit(gw, ["x@remote.test"], message("notified", "wake-2@local.test"))
    wait_for(lambda: "wake-2@local.test" in sink.message_ids(), 15, "the NOTIFY wake-up")
    wait_for(lambda: queue_empty(d), 15, "the outcome")
    assert sorted(sink.message_ids()) == ["wake-1@local.test", "wake-2@local.test"]


def test_recipients_queued_in_order_with_array_syntax_in_them(cairnd_factory, pg):
    # Every remote recipient is queued in RCPT order with its own DSN
    # options, whatever characters they hold (the ORCPT is xtext-decoded).
    d = start(cairnd_factory, pg, {"remote.test": "127.0.0.1:9"}, runners="0")
    rcpts = ["{x}@remote.test", "plain@remote.test", "a{b}c@remote.test"]
    s = smtplib.SMTP("127.0.0.1", d.submission_port, timeout=20)
    s.starttls(context=insecure_tls())
    s.login("ann@local.test", PASSWORD)
    s.ehlo()
    s.mail("ann@local.test")
    opts = [[], ["NOTIFY=FAILURE", "ORCPT=rfc822;x+2Cy+22z+5C@remote.test"], ["NOTIFY=NEVER"]]
    for r, o in zip(rcpts, opts):
        code, msg = s.rcpt(f"<{r}>", o)
        assert code == 250, (r, code, msg)
    code, _ = s.data(message("arrays", "arrays-1@local.test"))
    assert code == 250
    s.quit()
    rows = sql(d, "SELECT address || '|' || coalesce(dsn_notify, '-') || '|'"
                  " || coalesce(dsn_orcpt, '-') FROM queue_recipients ORDER BY id").splitlines()
    assert rows == ["{x}@remote.test|-|-", 'plain@remote.test|FAILURE|rfc822;x,y"z\\@remote.test',
                    "a{b}c@remote.test|NEVER|-"], rows


def test_sweep_removes_a_message_whose_recipients_are_all_final(cairnd_factory, pg):
    """Two runners finishing different recipients of one message at once
    each see the other's rows unfinished, so neither deletes the message;
    the housekeeping sweep must remove it (and free its blob)."""
    port = free_port()      # nobody listens there: the recipients stay deferred
    d = start(cairnd_factory, pg, {"down.test": f"127.0.0.1:{port}"},
              retry_min="1h", retry_max="1h")
    submit(d, ["x@down.test", "y@down.test"], message("orphan", "orphan-1@local.test"))
    wait_for(lambda: sql(d, "SELECT count(*) FROM queue_recipients WHERE state = 'deferred'") == "2",
             30, "both recipients deferred")
    blob = sql(d, "SELECT blob_id FROM queue_messages")
    # What the race leaves behind: every recipient final, the message still there.
    sql(d, "UPDATE queue_recipients SET state = 'delivered';"
           " UPDATE queue_messages SET created = now() - interval '1 minute'")
    wait_for(lambda: sql(d, "SELECT count(*) FROM queue_messages") == "0", 30, "the sweep")
    assert "queue event=swept messages=1" in d.log_text()
    assert sql(d, f"SELECT count(*) FROM message_blobs WHERE id = {blob}") == "0"
    # A message with an unfinished recipient is never swept.
    submit(d, ["z@down.test"], message("kept", "kept-1@local.test"))
    wait_for(lambda: sql(d, "SELECT count(*) FROM queue_recipients WHERE state = 'deferred'") == "1",
             30, "the recipient deferred")
    sql(d, "UPDATE queue_messages SET created = now() - interval '1 minute'")
    time.sleep(7)           # longer than one housekeeping round (5 s)
    assert sql(d, "SELECT count(*) FROM queue_messages") == "1"
