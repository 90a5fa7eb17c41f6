"""Hostile clients (issue 18 item 6): on every listener (IMAP, SMTP MX,
submission, LMTP, POP3, HTTP; plain, STARTTLS and implicit TLS) a client
resets (SO_LINGER 0) or half-closes (SHUT_WR) its connection at every step of
a scripted session: before and after each command, with half a command line
sent, while a failed login's reply is held back by auth_delay, while a store
job is in flight (held there by a PostgreSQL lock), mid-literal, mid-DATA and
mid-BDAT, mid-TLS handshake, right after STARTTLS, during IDLE and under
COMPRESS. Then clients that never read, read one byte a second, pipeline
10,000+ commands (cairnd's RSS must stay bounded), trickle a command line,
body, literal or TLS handshake (slow-loris: cut within a bound), connection
floods (10,000 IMAP connections, some in IDLE, must not stop SMTP) and the
policy probes of issue 18's table.

After each case cairnd must be alive with no sanitizer report in its log, its
RSS within RSS_GROWTH_MAX of what it was before the case, every connection
and job of the dead client released (polled on /metrics), and a fresh client
of the same protocol served. A crashed daemon is restarted so that one crash
fails one case, not the rest of the file.
"""
import base64
import os
import pathlib
import resource
import select
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import conftest
from hostile_util import (Closed, Peer, StoreBlock, cheap_hash, client_hello, metrics,
                          conn_gauge, nonblocking_flood, rss_kib, sanitizer_excerpt,
                          server_side_gone, wait_jobs, wait_quiet)

DOMAIN = "hostile.test"
USER = f"eve@{DOMAIN}"
OTHER = f"boss@{DOMAIN}"
PASSWORD = "hostile-pw-1"
BAD_PASSWORD = "wrong-pw"
RSS_GROWTH_MAX = 64 * 1024          # KiB, per case
# Short timeouts so that slow-loris cases end quickly. A command line, a
# literal, a DATA/BDAT body and a TLS handshake trickled one byte every
# TRICKLE_INTERVAL (shorter than every timeout: an idle timer restarted by
# each byte never fires) must be cut within SLOWLORIS_BOUND.
TIMEOUT_S = 3
TRICKLE_INTERVAL = 1.2
SLOWLORIS_BOUND = TIMEOUT_S + 12    # configured timeout plus a generous margin

CONFIG = {
    "server": {"hostname": "mx.hostile.test", "loopback_is_secure": "yes"},
    # cache_ttl 0: every RCPT lookup is a store job (held by StoreBlock).
    "directory": {"cache_ttl": "0", "auth_delay": "250ms", "auth_max_delay": "1s",
                  "auth_max_failures": "1000", "auth_max_failures_ip": "100000"},
    "imap": {"idle_timeout": f"{TIMEOUT_S}s"},
    "pop3": {"idle_timeout": f"{TIMEOUT_S}s"},
    "http": {"idle_timeout": f"{TIMEOUT_S}s", "max_requests": "1000000"},
    "smtp": {"command_timeout": f"{TIMEOUT_S}s", "data_timeout": f"{TIMEOUT_S}s",
             "max_messages": "100000"},
}

HELLO = client_hello()


def b64(s):
    return base64.b64encode(s.encode()).decode()


AUTH_GOOD = f"AUTH PLAIN {b64(chr(0) + USER + chr(0) + PASSWORD)}\r\n".encode()
AUTH_BAD = f"AUTH PLAIN {b64(chr(0) + USER + chr(0) + BAD_PASSWORD)}\r\n".encode()


def ctl(d, *args):
    r = subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *args], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


def asan_env():
    # A small quarantine: freed memory ASan holds back would otherwise look
    # like RSS growth of the daemon.
    env = os.environ.get("ASAN_OPTIONS", "")
    return ":".join(filter(None, [env, "quarantine_size_mb=16"]))


class Target:
    """The daemon under attack, shared by the module; restarted after a crash."""

    def __init__(self, pg, tls_files, extra=CONFIG, users=(USER, OTHER)):
        self.base = pathlib.Path(tempfile.mkdtemp(prefix="cairnd-hostile-"))
        os.chmod(self.base, 0o755)
        pg.reset_db()
        self.pg = pg
        self.d = conftest.Cairnd(self.base / "cairnd", pg, *tls_files, extra=extra)
        conftest._migrate(pg, self.d.conf)
        self.start()
        ctl(self.d, "domain", "add", DOMAIN)
        for u in users:
            ctl(self.d, "user", "add", u, "--password", PASSWORD)
        h = cheap_hash(PASSWORD)
        pg.psql("cairn", f"UPDATE accounts SET password_hash = '{h}'")
        self.crashes = []
        self.log_offset = 0

    def start(self):
        old = os.environ.get("ASAN_OPTIONS")
        os.environ["ASAN_OPTIONS"] = asan_env()
        try:
            self.d.start()
        finally:
            if old is None:
                del os.environ["ASAN_OPTIONS"]
            else:
                os.environ["ASAN_OPTIONS"] = old

    def ensure_up(self):
        if self.d.proc.poll() is not None:
            self.crashes.append(self.d.proc.returncode)
            self.d.logf.close()
            self.start()

    @property
    def pid(self):
        return self.d.pid

    def begin(self):
        """Before a case: a live daemon and its RSS and log position."""
        self.ensure_up()
        self.log_offset = len(self.d.log_text())
        rss = rss_kib(self.pid)
        assert rss is not None, "cairnd is not running"
        return rss

    def check(self, family, rss0, held=False, quiet_allow=None):
        """After a case: alive, no sanitizer report, dead client's
        connection and jobs released, RSS bounded, a fresh client served."""
        problems = []
        try:
            if held:
                sync_auth(self.d, family)
            wait_quiet(self.d, allow=quiet_allow)
            served(self.d, family)
        except Exception as e:   # noqa: BLE001 (the reason goes into the report)
            problems.append(f"fresh {family} client not served: {e!r}")
        rss = rss_kib(self.pid)
        alive = self.d.proc.poll() is None and rss is not None
        if not alive:
            self.d.proc.wait(10)
            problems.append(f"cairnd died (exit status {self.d.proc.returncode})")
        elif rss - rss0 > RSS_GROWTH_MAX:
            problems.append(f"cairnd RSS grew by {rss - rss0} KiB (bound {RSS_GROWTH_MAX})")
        report = sanitizer_excerpt(self.d.log_text()[self.log_offset:])
        if report:
            problems.append("sanitizer/abort report in the log:\n" + report)
        if problems:
            self.ensure_up()
            pytest.fail("\n".join(problems), pytrace=False)

    def stop(self):
        """Stop the daemon; returns (exit status or None if it was already
        dead, log since the last case began)."""
        if self.d.proc.poll() is not None:
            self.d.logf.close()
            return None, self.d.log_text()[self.log_offset:]
        code = self.d.stop()
        log = self.d.log_text()[self.log_offset:]
        shutil.rmtree(self.base, ignore_errors=True)
        return code, log


@pytest.fixture(scope="module")
def target(pg, tls_files):
    t = Target(pg, tls_files)
    # One message for FETCH/RETR/TOP.
    p = Peer(t.d.lmtp_port)
    p.smtp(220)
    p.send(f"LHLO c\r\nMAIL FROM:<a@remote.example>\r\nRCPT TO:<{USER}>\r\nDATA\r\n".encode())
    p.smtp(250), p.smtp(250), p.smtp(250), p.smtp(354)
    p.send(b"Subject: seed\r\n\r\nseed body\r\n.\r\nQUIT\r\n")
    p.smtp(250)
    p.close()
    yield t
    code, log = t.stop()
    assert code in (0, None), f"cairnd exited with {code} after SIGTERM"
    report = sanitizer_excerpt(log)
    assert report is None, report


# ---- a fresh client per protocol ----

def port_of(d, family, tls=False):
    return {
        ("imap", False): d.imap_port, ("imap", True): d.imaps_port,
        ("pop3", False): d.pop3_port, ("pop3", True): d.pop3s_port,
        ("smtp", False): d.smtp_port, ("lmtp", False): d.lmtp_port,
        ("submission", False): d.submission_port, ("submission", True): d.submissions_port,
        ("http", False): d.http_port, ("http", True): d.https_port,
    }[(family, tls)]


def served(d, family):
    """A well-behaved client of family gets a full, correct exchange."""
    if family == "imap":
        p = Peer(d.imap_port)
        p.expect_line(b"* OK")
        p.send(f"h1 LOGIN {USER} {PASSWORD}\r\nh2 NOOP\r\nh3 LOGOUT\r\n".encode())
        p.tagged(b"h1"), p.tagged(b"h2"), p.tagged(b"h3")
    elif family == "pop3":
        p = Peer(d.pop3_port)
        p.expect_line(b"+OK")
        p.send(f"USER {USER}\r\n".encode())
        p.expect_line(b"+OK")
        p.send(f"PASS {PASSWORD}\r\n".encode())
        p.expect_line(b"+OK")      # -ERR [IN-USE]: a dead session kept the lock
        p.send(b"STAT\r\nQUIT\r\n")
        p.expect_line(b"+OK"), p.expect_line(b"+OK")
    elif family in ("smtp", "submission", "lmtp"):
        p = Peer(port_of(d, family))
        p.smtp(220)
        p.send(b"LHLO c\r\n" if family == "lmtp" else b"EHLO c\r\n")
        p.smtp(250)
        p.send(b"NOOP\r\nQUIT\r\n")
        p.smtp(250), p.smtp(221)
    elif family == "http":
        p = Peer(d.http_port)
        p.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        status, _, body = p.http()
        assert status == 200, body
    else:
        raise ValueError(family)
    p.close()


def sync_auth(d, family):
    """Fail one login on family and wait for the (held) reply: its delay is
    at least that of any earlier failure, so every earlier held reply's
    timer has fired by then."""
    if family == "imap":
        p = Peer(d.imap_port)
        p.expect_line(b"* OK")
        p.send(f"s LOGIN {USER} {BAD_PASSWORD}\r\n".encode())
        p.tagged(b"s", b"NO")
    elif family == "pop3":
        p = Peer(d.pop3_port)
        p.expect_line(b"+OK")
        p.send(f"USER {USER}\r\nPASS {BAD_PASSWORD}\r\n".encode())
        p.expect_line(b"+OK"), p.expect_line(b"-ERR")
    elif family == "submission":
        p = Peer(d.submissions_port, tls=True)
        p.smtp(220)
        p.send(b"EHLO c\r\n")
        p.smtp(250)
        p.send(AUTH_BAD)
        p.smtp(535)
    else:
        return
    p.close()


# ---- scripted sessions ----

class Step:
    """One step of a scripted session. full() runs it and reads its reply;
    sent() only sends it; mid() sends part of it (a line, a literal, a body,
    a compressed block or a ClientHello cut in half)."""

    def __init__(self, name, data=None, expect=None, after=None, job=False, held=False,
                 replay=True, tls=False, mid=True):
        self.name, self.data, self.expect, self.after = name, data, expect, after
        self.job, self.held, self.replay, self.tls = job, held, replay, tls
        self.has_mid = tls or (mid and data is not None and len(data) > 2)
        self.has_sent = tls or data is not None

    def full(self, peer):
        if self.tls:
            peer.start_tls()
            return
        if self.data is not None:
            peer.send(self.data)
        if self.expect is not None:
            self.expect(peer)
        if self.after is not None:
            self.after(peer)

    def sent(self, peer):
        if self.tls:
            peer.send_raw_socket(HELLO)
        else:
            peer.send(self.data)

    def mid(self, peer):
        if self.tls:
            peer.send_raw_socket(HELLO[:len(HELLO) // 2])
        else:
            wire = peer.encode(self.data)
            peer.send_wire(wire[:max(1, len(wire) // 2)])


def tagged(tag, status=b"OK"):
    return lambda p: p.tagged(tag, status)


def line(prefix):
    return lambda p: p.expect_line(prefix)


def smtp(*codes):
    return lambda p: p.smtp(codes)


def pop_multi(p):
    p.pop_multi()


def http_status(code):
    def check(p):
        status, _, body = p.http()
        assert status == code, (status, body)
    return check


MESSAGE = (b"From: eve@hostile.test\r\nTo: boss@hostile.test\r\nSubject: hostile\r\n\r\n"
           + b"line of a hostile message body\r\n" * 40)


def imap_script(tls, starttls):
    steps = [Step("connect")]
    if tls:
        steps.append(Step("tls-handshake", tls=True))
    steps.append(Step("greeting", expect=line(b"* OK")))
    steps.append(Step("capability", b"a1 CAPABILITY\r\n", tagged(b"a1")))
    if starttls:
        steps.append(Step("starttls", b"a2 STARTTLS\r\n", tagged(b"a2")))
        steps.append(Step("tls-handshake", tls=True))
    steps += [
        Step("login-fail-held", f"a3 LOGIN {USER} {BAD_PASSWORD}\r\n".encode(),
             tagged(b"a3", b"NO"), held=True, replay=False),
        Step("login", f"a4 LOGIN {USER} {PASSWORD}\r\n".encode(), tagged(b"a4"), job=True),
        Step("select", b"a5 SELECT INBOX\r\n", tagged(b"a5"), job=True),
        Step("append", b"a6 APPEND INBOX {%d}\r\n" % len(MESSAGE), line(b"+")),
        Step("literal", MESSAGE + b"\r\n", tagged(b"a6"), job=True),
        Step("fetch", b"a7 FETCH 1 (FLAGS BODY.PEEK[HEADER])\r\n", tagged(b"a7"), job=True),
        Step("idle", b"a8 IDLE\r\n", line(b"+")),
        Step("done", b"DONE\r\n", tagged(b"a8")),
        Step("compress", b"a9 COMPRESS DEFLATE\r\n", tagged(b"a9"), after=lambda p: p.compress()),
        Step("noop-deflated", b"b1 NOOP\r\n", tagged(b"b1")),
        Step("fetch-deflated", b"b2 FETCH 1:3 BODY.PEEK[]\r\n", tagged(b"b2"), job=True),
        Step("idle-deflated", b"b3 IDLE\r\n", line(b"+")),
        Step("done-deflated", b"DONE\r\n", tagged(b"b3")),
        Step("logout", b"b4 LOGOUT\r\n", tagged(b"b4")),
    ]
    return steps


def smtp_body_steps(lmtp=False, sender="a@remote.example", rcpt=USER, tag=""):
    final = smtp(250)
    return [
        Step("mail" + tag, f"MAIL FROM:<{sender}>\r\n".encode(), smtp(250)),
        Step("rcpt" + tag, f"RCPT TO:<{rcpt}>\r\n".encode(), smtp(250), job=True),
        Step("data" + tag, b"DATA\r\n", smtp(354)),
        Step("body" + tag, MESSAGE + b".\r\n", final, job=True),
        Step("mail-bdat" + tag, f"MAIL FROM:<{sender}>\r\n".encode(), smtp(250)),
        Step("rcpt-bdat" + tag, f"RCPT TO:<{rcpt}>\r\n".encode(), smtp(250), job=True),
        Step("bdat" + tag, b"BDAT %d\r\n" % len(MESSAGE) + MESSAGE, smtp(250)),
        Step("bdat-last" + tag, b"BDAT %d LAST\r\n" % len(MESSAGE) + MESSAGE, final, job=True),
    ]


def smtp_script(kind, tls=False, starttls=False):
    hello = b"LHLO c\r\n" if kind == "lmtp" else b"EHLO c\r\n"
    steps = [Step("connect")]
    if tls:
        steps.append(Step("tls-handshake", tls=True))
    steps += [Step("greeting", expect=smtp(220)), Step("ehlo", hello, smtp(250))]
    if starttls:
        steps += [Step("starttls", b"STARTTLS\r\n", smtp(220)),
                  Step("tls-handshake", tls=True),
                  Step("ehlo-tls", hello, smtp(250))]
    if kind == "submission":
        steps += [Step("auth-fail-held", AUTH_BAD, smtp(535), held=True, replay=False),
                  Step("auth", AUTH_GOOD, smtp(235), job=True)]
        steps += smtp_body_steps(sender=USER, rcpt=OTHER)
    else:
        steps += smtp_body_steps(lmtp=kind == "lmtp")
    steps += [Step("rset", b"RSET\r\n", smtp(250)), Step("noop", b"NOOP\r\n", smtp(250)),
              Step("quit", b"QUIT\r\n", smtp(221))]
    return steps


def pop3_script(tls, stls):
    steps = [Step("connect")]
    if tls:
        steps.append(Step("tls-handshake", tls=True))
    steps += [Step("greeting", expect=line(b"+OK")), Step("capa", b"CAPA\r\n", pop_multi)]
    if stls:
        steps += [Step("stls", b"STLS\r\n", line(b"+OK")), Step("tls-handshake", tls=True)]
    steps += [
        Step("user", f"USER {USER}\r\n".encode(), line(b"+OK")),
        Step("pass-fail-held", f"PASS {BAD_PASSWORD}\r\n".encode(), line(b"-ERR"), held=True,
             replay=False),
        Step("pass", f"PASS {PASSWORD}\r\n".encode(), line(b"+OK"), job=True),
        Step("stat", b"STAT\r\n", line(b"+OK")),
        Step("list", b"LIST\r\n", pop_multi),
        Step("uidl", b"UIDL\r\n", pop_multi),
        Step("retr", b"RETR 1\r\n", pop_multi, job=True),
        Step("top", b"TOP 1 0\r\n", pop_multi, job=True),
        Step("dele", b"DELE 1\r\n", line(b"+OK")),
        Step("rset", b"RSET\r\n", line(b"+OK")),
        Step("noop", b"NOOP\r\n", line(b"+OK")),
        Step("quit", b"QUIT\r\n", line(b"+OK")),
    ]
    return steps


def http_script(tls):
    steps = [Step("connect")]
    if tls:
        steps.append(Step("tls-handshake", tls=True))
    post_body = b"x" * 4000
    steps += [
        Step("healthz", b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", http_status(200)),
        Step("metrics", b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", http_status(200)),
        Step("post-body", b"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
             % len(post_body) + post_body, http_status(405)),
        Step("not-found", b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", http_status(404)),
        Step("healthz-close", b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
             http_status(200)),
    ]
    return steps


# variant -> (family, port key tls, script factory)
VARIANTS = {
    "imap": ("imap", False, lambda: imap_script(False, False)),
    "imap-starttls": ("imap", False, lambda: imap_script(False, True)),
    "imaps": ("imap", True, lambda: imap_script(True, False)),
    "smtp": ("smtp", False, lambda: smtp_script("smtp")),
    "smtp-starttls": ("smtp", False, lambda: smtp_script("smtp", starttls=True)),
    "submission-starttls": ("submission", False,
                            lambda: smtp_script("submission", starttls=True)),
    "submissions": ("submission", True, lambda: smtp_script("submission", tls=True)),
    "lmtp": ("lmtp", False, lambda: smtp_script("lmtp")),
    "pop3": ("pop3", False, lambda: pop3_script(False, False)),
    "pop3-stls": ("pop3", False, lambda: pop3_script(False, True)),
    "pop3s": ("pop3", True, lambda: pop3_script(True, False)),
    "http": ("http", False, lambda: http_script(False)),
    "https": ("http", True, lambda: http_script(True)),
}


def kill_points():
    out = []
    for variant, (_, _, script) in VARIANTS.items():
        for i, step in enumerate(script()):
            points = []
            if step.has_mid:
                points.append("mid")
            if step.has_sent:
                points.append("sent")
            if step.job:
                points.append("job")
            if not step.held:
                points.append("done")
            for point in points:
                for mode in ("reset", "halfclose"):
                    out.append(pytest.param(variant, i, point, mode,
                                            id=f"{variant}-{i:02d}-{step.name}-{point}-{mode}"))
    return out


@pytest.mark.parametrize("variant,index,point,mode", kill_points())
def test_drop_at_every_step(target, variant, index, point, mode):
    """Replay the session up to the step, then end the connection there:
    mid = part of the step sent, sent = the whole step sent and its reply
    never read, job = sent and its store job held in flight by a lock,
    done = its reply read."""
    family, tls, script = VARIANTS[variant]
    steps = script()
    step = steps[index]
    d = target.d
    rss0 = target.begin()
    peer = Peer(port_of(d, family, tls), connect=True)
    try:
        for s in steps[:index]:
            if s.replay:
                s.full(peer)
        if point == "mid":
            step.mid(peer)
        elif point == "sent":
            step.sent(peer)
        elif point == "done":
            step.full(peer)
        if point != "job":
            peer.end(mode)
        else:
            with StoreBlock(d.pg) as lock:
                step.sent(peer)
                wait_jobs(d)
                local = peer.raw.getsockname()[1]
                if mode == "reset":
                    peer.reset()
                    deadline = time.monotonic() + 10
                    while not server_side_gone(local, port_of(d, family, tls)):
                        assert time.monotonic() < deadline, "RST not processed by the kernel"
                        time.sleep(0.01)
                else:
                    peer.half_close()
                lock.release()
            if mode == "halfclose":
                peer.wait_closed()
                peer.close()
    except Closed as e:
        pytest.fail(f"server closed the connection during the replay: {e}", pytrace=False)
    target.check(family, rss0, held=step.held)
