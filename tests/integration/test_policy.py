"""Policy holes of the hardening issue, each from the outside: SMTP AUTH is
never offered in plaintext (whatever loopback_is_secure says), an
authenticated session on the MX port gets submission's sender checks, POP3
enforces the LOGIN-DELAY it announces, IMAP announces WITHIN, and one
protocol's connection room does not take another's."""
import base64
import imaplib
import poplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import CAIRNCTL

PASSWORD = "policy-secret-1"


def ctl(d, *args):
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


def users(d):
    ctl(d, "domain", "add", "policy.test")
    for u in ("ann", "bob"):
        ctl(d, "user", "add", f"{u}@policy.test", "--password", PASSWORD)


def tls_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Smtp:
    """A line-at-a-time SMTP client that can STARTTLS."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.s.makefile("rb")
        self.reply()

    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            assert line, "server closed the connection"
            lines.append(line.decode().rstrip("\r\n"))
            if line[3:4] != b"-":
                return lines

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.reply()

    def starttls(self):
        assert self.cmd("STARTTLS")[0].startswith("220")
        self.s = tls_ctx().wrap_socket(self.s)
        self.f = self.s.makefile("rb")

    def close(self):
        self.s.close()


def wait_for(cond, timeout=10):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def conns(d):
    """Open POP3 connections as /metrics counts them."""
    body = d.get("/metrics")[2].decode()
    for line in body.splitlines():
        if line.startswith('cairn_connections{protocol="pop3"}'):
            return int(line.split()[1])
    raise AssertionError("no pop3 gauge in /metrics")


def auth_plain(user):
    return base64.b64encode(f"\0{user}\0{PASSWORD}".encode()).decode()


@pytest.fixture
def d(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"server": {"loopback_is_secure": "yes", "hostname": "mx.policy.test"},
                        "pop3": {"login_delay": "3s"}})
    users(d)
    return d


def test_smtp_auth_never_in_plaintext_even_with_loopback_is_secure(d):
    # RFC 4954 4 / docs/security.md: loopback_is_secure is for IMAP and POP3.
    for port in (d.submission_port, d.smtp_port):
        c = Smtp(port)
        ehlo = c.cmd("EHLO client.test")
        assert not any(l[4:].startswith("AUTH") for l in ehlo), ehlo
        r = c.cmd("AUTH PLAIN " + auth_plain("ann@policy.test"))
        assert r[0].startswith("538 5.7.11"), r
        c.starttls()
        ehlo = c.cmd("EHLO client.test")
        assert any(l[4:].startswith("AUTH PLAIN") for l in ehlo), ehlo
        assert c.cmd("AUTH PLAIN " + auth_plain("ann@policy.test"))[0].startswith("235")
        c.close()


def test_authenticated_mx_session_gets_submission_sender_checks(d):
    c = Smtp(d.smtp_port)
    c.cmd("EHLO client.test")
    c.starttls()
    c.cmd("EHLO client.test")
    assert c.cmd("AUTH PLAIN " + auth_plain("ann@policy.test"))[0].startswith("235")
    # Someone else's address, to a remote recipient (a relay): refused.
    r = c.cmd("MAIL FROM:<bob@policy.test>")
    assert r[0].startswith("553 5.7.1"), r
    r = c.cmd("MAIL FROM:<ceo@example.test>")
    assert r[0].startswith("553 5.7.1"), r
    # Her own address is fine, and she may relay with it.
    assert c.cmd("MAIL FROM:<ann@policy.test>")[0].startswith("250")
    assert c.cmd("RCPT TO:<someone@remote.test>")[0].startswith("250")
    c.close()
    # Unauthenticated MX mail from anyone to a local user still works.
    c = Smtp(d.smtp_port)
    c.cmd("EHLO client.test")
    assert c.cmd("MAIL FROM:<ceo@example.test>")[0].startswith("250")
    assert c.cmd("RCPT TO:<ann@policy.test>")[0].startswith("250")
    r = c.cmd("RCPT TO:<someone@remote.test>")
    assert r[0].startswith("554 5.7.1"), r
    c.close()


def test_pop3_login_delay_is_enforced(d):
    p = poplib.POP3("127.0.0.1", d.pop3_port, timeout=10)
    assert p.capa()["LOGIN-DELAY"] == ["3"]
    p.user("ann@policy.test")
    p.pass_(PASSWORD)
    p.quit()
    first = time.monotonic()
    p = poplib.POP3("127.0.0.1", d.pop3_port, timeout=10)
    p.user("ann@policy.test")
    with pytest.raises(poplib.error_proto) as e:
        p.pass_(PASSWORD)
    assert b"[LOGIN-DELAY]" in e.value.args[0], e.value.args
    p.quit()
    # Another user is not held back by ann's login.
    p = poplib.POP3("127.0.0.1", d.pop3_port, timeout=10)
    p.user("bob@policy.test")
    p.pass_(PASSWORD)
    p.quit()
    # Once the delay has passed, ann logs in again.
    while time.monotonic() - first < 3.2:
        time.sleep(0.1)
    p = poplib.POP3("127.0.0.1", d.pop3_port, timeout=10)
    p.user("ann@policy.test")
    assert p.pass_(PASSWORD).startswith(b"+OK")
    p.quit()


def test_pop3_lock_released_when_the_client_vanishes(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    users(d)
    # "reset-during-login": the client is gone before the login job (which
    # takes the lock) comes back: the orphaned job must release it. A psql
    # transaction holding the lock row keeps the job in flight for as long
    # as the test needs.
    for how in ("reset", "close", "reset-during-login"):
        s = socket.create_connection(("127.0.0.1", d.pop3s_port), timeout=10)
        t = tls_ctx().wrap_socket(s)
        f = t.makefile("rb")
        assert f.readline().startswith(b"+OK")
        t.sendall(b"USER ann@policy.test\r\n")
        f.readline()
        blocker = None
        if how == "reset-during-login":
            blocker = subprocess.Popen(
                ["psql", "-X", "-q", "-h", str(pg.sock), "-p", str(pg.port), "-U", "postgres",
                 "-d", "cairn"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
            blocker.stdin.write("BEGIN; SELECT 1 FROM pop3_locks FOR UPDATE;\n")
            blocker.stdin.flush()
            wait_for(lambda: pg.psql("cairn", "SELECT count(*) FROM pg_locks l JOIN pg_class c"
                                     " ON c.oid = l.relation WHERE c.relname = 'pop3_locks'"
                                     " AND l.mode = 'RowShareLock'").strip() != "0")
        t.sendall(f"PASS {PASSWORD}\r\n".encode())
        if blocker is None:
            assert f.readline().startswith(b"+OK"), how
        else:
            # The login job waits on the row lock: the client leaves now.
            wait_for(lambda: pg.psql("cairn", "SELECT count(*) FROM pg_stat_activity WHERE"
                                     " wait_event_type = 'Lock' AND query LIKE"
                                     " '%pop3_locks%'").strip() != "0")
        if how.startswith("reset"):
            t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        f.close()       # the makefile holds the socket open otherwise
        t.close()
        if blocker is not None:
            wait_for(lambda: conns(d) == 0)     # the server has seen the reset
            blocker.stdin.write("COMMIT;\n")
            blocker.stdin.close()
            blocker.wait(10)
        # The next login must not find the maildrop locked: poll for the
        # unlock (it is one statement after the close), never sleep blindly.
        deadline = time.monotonic() + 5
        while True:
            p = poplib.POP3_SSL("127.0.0.1", d.pop3s_port, timeout=10, context=tls_ctx())
            p.user("ann@policy.test")
            try:
                p.pass_(PASSWORD)
                p.quit()
                break
            except poplib.error_proto as e:
                assert b"[IN-USE]" in e.args[0]
                p.quit()
                assert time.monotonic() < deadline, \
                    f"maildrop still locked after {how}:\n" + d.log_text()[:6000]
                time.sleep(0.05)


def test_imap_announces_within_and_it_works(d):
    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    assert "WITHIN" in m.capabilities
    m.login("ann@policy.test", PASSWORD)
    assert b"WITHIN" in m.capability()[1][0].split()      # asked again after login
    m.append("INBOX", None, None, b"Subject: new\r\n\r\nnew\r\n")
    m.append("INBOX", None, '"01-Jan-2020 00:00:00 +0000"', b"Subject: old\r\n\r\nold\r\n")
    m.select("INBOX")
    assert m.search(None, "YOUNGER", "3600")[1] == [b"1"]
    assert m.search(None, "OLDER", "3600")[1] == [b"2"]
    m.logout()


def test_imap_room_full_still_accepts_smtp_and_http(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"imap": {"max_connections": "5"}, "server": {"max_connections": "50"}})
    held = []
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", d.imap_port), timeout=10)
        assert s.recv(4096).startswith(b"* OK")
        held.append(s)
    # The sixth IMAP client is refused with the protocol's busy answer...
    s = socket.create_connection(("127.0.0.1", d.imap_port), timeout=10)
    assert s.recv(4096).startswith(b"* BYE [UNAVAILABLE]")
    s.close()
    # ... while SMTP and HTTP have their own room.
    c = Smtp(d.smtp_port)
    assert c.cmd("EHLO x")[0].startswith("250")
    c.close()
    assert d.get("/healthz")[0] == 200
    assert '[imap] max_connections' in d.log_text()
    for s in held:
        s.close()
