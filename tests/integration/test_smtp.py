"""The SMTP gateway (issue 5): MX, submission (STARTTLS and implicit TLS) and
LMTP with Python's smtplib, swaks and raw sockets. Delivery is checked in
PostgreSQL byte for byte (the stored message minus the Return-Path: and
Received: headers we prepend); relay, smuggling, pipelining, STARTTLS injection, limits,
timeouts and a database outage in the middle of DATA."""
import base64
import os
import pathlib
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import CAIRNCTL

PASSWORD = "smtp-secret-1"
HOST = "mx.local.test"


def ctl(d, *args):
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


def setup_directory(d):
    ctl(d, "domain", "add", "local.test")
    for u in ("ann", "bob", "carol", "dave"):
        ctl(d, "user", "add", f"{u}@local.test", "--password", PASSWORD)
    ctl(d, "alias", "add", "a.smith@local.test", "ann@local.test")
    ctl(d, "group", "add", "team@local.test")
    ctl(d, "group", "add", "all@local.test")
    ctl(d, "group", "member", "add", "team@local.test", "ann@local.test")
    ctl(d, "group", "member", "add", "team@local.test", "bob@local.test")
    # all = team (nested) + bob again + carol: every member exactly once.
    ctl(d, "group", "member", "add", "all@local.test", "team@local.test")
    ctl(d, "group", "member", "add", "all@local.test", "bob@local.test")
    ctl(d, "group", "member", "add", "all@local.test", "carol@local.test")


CONFIG = {
    "server": {"hostname": HOST},
    "smtp": {"max_recipients": "4", "max_message_size": "64k", "max_bad_commands": "4",
             "max_messages": "3", "command_timeout": "30s", "data_timeout": "30s"},
}


def start(cairnd_factory, pg, extra):
    """A fresh database and a started cairnd (migrating here, to see why if it fails)."""
    pg.reset_db()
    d = cairnd_factory(extra, start=False, migrate=False)
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), "migrate"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"migrate: {r.stdout}{r.stderr}"
    d.start()
    return d


@pytest.fixture
def mx(cairnd_factory, pg):
    d = start(cairnd_factory, pg, CONFIG)
    setup_directory(d)
    return d


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def sql(d, query):
    return d.pg.psql("cairn", query)


def inbox(d, user):
    """Raw stored messages of user's INBOX, in uid order."""
    out = sql(d, "SELECT encode(b.raw, 'hex') FROM mailbox_messages mm"
                 " JOIN mailboxes m ON m.id = mm.mailbox_id"
                 " JOIN accounts a ON a.id = m.account_id"
                 " JOIN domains dm ON dm.id = a.domain_id"
                 " JOIN message_blobs b ON b.id = mm.blob_id"
                 f" WHERE a.localpart || '@' || dm.name = '{user}' AND m.name = 'INBOX'"
                 " ORDER BY mm.uid")
    return [bytes.fromhex(x) for x in out.split()]


def return_path(raw):
    """The Return-Path: value of a stored local copy (always the first line)."""
    assert raw.startswith(b"Return-Path: <"), raw[:200]
    return raw.split(b"\r\n", 1)[0][len(b"Return-Path: "):]


def strip_received(raw, queued=False):
    """The message as the client sent it: drop our Return-Path: (local copies
    only) and Received: headers."""
    if not queued:
        return_path(raw)
        raw = raw.split(b"\r\n", 1)[1]
    assert raw.startswith(b"Received: from "), raw[:200]
    lines = raw.split(b"\r\n")
    i = 1
    while lines[i].startswith(b"\t"):
        i += 1
    return b"\r\n".join(lines[i:])


def message(subject="hello", body=b"Hello there.\r\n", extra=b""):
    return (b"From: Sender <sender@remote.test>\r\nTo: ann@local.test\r\n"
            b"Subject: " + subject.encode() + b"\r\n" + extra + b"\r\n" + body)


class Raw:
    """A raw SMTP conversation."""

    def __init__(self, port, tls=False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if tls:
            self.sock = tls_ctx().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")
        self.greeting = self.reply()

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """One (possibly multi-line) reply: (code, text of every line)."""
        lines = []
        while True:
            line = self.f.readline()
            assert line, "connection closed"
            lines.append(line.rstrip(b"\r\n").decode())
            if line[3:4] != b"-":
                return int(line[:3]), "\n".join(l[4:] for l in lines)

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def closed(self):
        """True if the server has closed the connection (EOF or a reset);
        False if it sent more. A server that merely goes silent is not one
        that closed: the read timeout propagates and fails the test."""
        try:
            return self.f.readline() == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


# ---- MX delivery ----

def test_greeting_and_ehlo(mx):
    r = Raw(mx.smtp_port)
    assert r.greeting[0] == 220 and HOST in r.greeting[1]
    code, text = r.cmd("EHLO client.remote.test")
    assert code == 250
    kw = text.split("\n")
    assert kw[0] == HOST
    for k in ("PIPELINING", "SIZE 65536", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES",
              "STARTTLS", "CHUNKING", "DSN"):
        assert k in kw, (k, kw)
    # No AUTH over plaintext on a non-secure connection.
    assert not any(k.startswith("AUTH") for k in kw)
    assert r.cmd("VRFY ann@local.test")[0] == 252
    assert r.cmd("HELP")[0] == 214
    assert r.cmd("NOOP") == (250, "2.0.0 Ok")
    assert r.cmd("QUIT")[0] == 221
    # After STARTTLS: AUTH offered, STARTTLS no longer.
    s = smtplib.SMTP("127.0.0.1", mx.smtp_port, timeout=10)
    s.starttls(context=tls_ctx())
    s.ehlo("client.remote.test")
    assert s.has_extn("auth") and not s.has_extn("starttls")
    assert "PLAIN" in s.esmtp_features["auth"] and "LOGIN" in s.esmtp_features["auth"]
    s.quit()


def test_deliver_user_alias_nested_group_once(mx):
    msg = message("group test")
    s = smtplib.SMTP("127.0.0.1", mx.smtp_port, timeout=10)
    refused = s.sendmail("sender@remote.test",
                         ["a.smith@local.test", "all@local.test", "bob@local.test"], msg)
    assert refused == {}
    s.quit()
    # ann via the alias and the nested group, bob three ways, carol via all:
    # each exactly once; dave nothing.
    for u in ("ann", "bob", "carol"):
        got = inbox(mx, f"{u}@local.test")
        assert len(got) == 1, (u, len(got))
        assert strip_received(got[0]) == msg
    assert inbox(mx, "dave@local.test") == []
    # The blob is stored once for all three.
    assert sql(mx, "SELECT count(*) FROM message_blobs").strip() == "1"
    # Received: with the helo, the client address and ESMTP.
    hdr = inbox(mx, "ann@local.test")[0].split(b"\r\n\r\n")[0]
    assert b"by " + HOST.encode() + b" (Cairn) with ESMTP id " in hdr
    assert b"[127.0.0.1]" in hdr
    log = mx.log_text()
    assert "status=sent" in log and "from=<sender@remote.test>" in log
    status, _, metrics = mx.get("/metrics")
    assert status == 200 and b"cairn_messages_accepted_total 1\n" in metrics


def test_unknown_user_550_at_rcpt(mx):
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    assert r.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    code, text = r.cmd("RCPT TO:<nobody@local.test>")
    assert code == 550 and text.startswith("5.1.1")
    assert r.cmd("RCPT TO:<ann@local.test>")[0] == 250
    # Source route ignored (RFC 5321 Appendix C): delivered locally.
    assert r.cmd("RCPT TO:<@relay.remote.test:bob@local.test>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(message() + b".\r\n")
    code, text = r.reply()
    assert code == 250 and text.startswith("2.0.0")
    assert len(inbox(mx, "ann@local.test")) == 1 and len(inbox(mx, "bob@local.test")) == 1


@pytest.mark.parametrize("rcpt", [
    "<victim@remote.test>",
    "<@local.test:victim@remote.test>",
    '<"victim@remote.test"@local.test>',
    '<"victim%remote.test"@local.test>',
    '<"remote.test!victim"@local.test>',
    "<victim@[192.0.2.1]>",
    "<victim@[127.0.0.1]>",
    "<victim%remote.test@local.test>",
    "<victim@remote.test@local.test>",
    "<victim@local.test@remote.test>",
    "<victim@remote.test.>",
])
def test_no_open_relay(mx, rcpt):
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    assert r.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    code, text = r.cmd(f"RCPT TO:{rcpt}")
    assert code >= 500, (rcpt, code, text)
    assert code in (550, 553, 554, 501), (rcpt, code, text)
    # Nothing can be sent for it.
    assert r.cmd("DATA")[0] == 554
    assert sql(mx, "SELECT count(*) FROM queue_recipients").strip() == "0"


def test_relay_denied_code(mx):
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    r.cmd("MAIL FROM:<s@remote.test>")
    assert r.cmd("RCPT TO:<victim@remote.test>") == (554, "5.7.1 <victim@remote.test>: Relay access denied")


def test_swaks_delivery(mx):
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{mx.smtp_port}", "--to", "dave@local.test",
                        "--from", "someone@remote.test", "--helo", "swaks.remote.test",
                        "--header", "Subject: via swaks", "--body", "swaks body"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    got = inbox(mx, "dave@local.test")
    assert len(got) == 1 and b"Subject: via swaks" in got[0] and b"swaks body" in got[0]
    # swaks with STARTTLS too.
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{mx.smtp_port}", "--to", "dave@local.test",
                        "--from", "someone@remote.test", "--tls", "--header", "Subject: tls"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    got = inbox(mx, "dave@local.test")
    assert len(got) == 2 and b"with ESMTPS id" in got[1] and b"(using TLS)" in got[1]


def test_dot_stuffing_round_trip(mx):
    body = (b".leading dot\r\n..two dots\r\n.\tdot tab\r\n. \r\nend . \r\n"
            b"x" * 0 + b"...\r\n")
    msg = message("dots", body)
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    r.cmd("MAIL FROM:<s@remote.test>")
    r.cmd("RCPT TO:<carol@local.test>")
    assert r.cmd("DATA")[0] == 354
    stuffed = b"".join((b"." + l if l.startswith(b".") else l)
                       for l in msg.splitlines(keepends=True))
    r.send(stuffed + b".\r\n")
    assert r.reply()[0] == 250
    assert [strip_received(m) for m in inbox(mx, "carol@local.test")] == [msg]
    # smtplib stuffs on its own: same result.
    s = smtplib.SMTP("127.0.0.1", mx.smtp_port, timeout=10)
    s.sendmail("s@remote.test", ["carol@local.test"], msg)
    s.quit()
    got = inbox(mx, "carol@local.test")
    assert len(got) == 2 and strip_received(got[1]) == msg


@pytest.mark.parametrize("payload", [
    b"\n.\r\n",          # bare LF before the dot
    b"\r\n.\n",          # bare LF after the dot
    b"\n.\n",
    b"\r.\r\n",          # bare CR
    b"\r\n.\r",
])
def test_smtp_smuggling_refused(mx, payload):
    """A smuggled second message never becomes a message of its own: the
    whole DATA ends at the real CRLF.CRLF and is refused with 5xx."""
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    r.cmd("MAIL FROM:<s@remote.test>")
    r.cmd("RCPT TO:<ann@local.test>")
    assert r.cmd("DATA")[0] == 354
    smuggled = (b"Subject: first\r\n\r\nfirst" + payload +
                b"MAIL FROM:<admin@local.test>\r\nRCPT TO:<bob@local.test>\r\nDATA\r\n"
                b"Subject: smuggled\r\n\r\nevil\r\n.\r\n")
    r.send(smuggled)
    code, text = r.reply()
    assert code == 554 and text.startswith("5.6.0"), (code, text)
    # The connection is in a clean state: nothing else answers.
    assert r.cmd("NOOP")[0] == 250
    assert inbox(mx, "ann@local.test") == [] and inbox(mx, "bob@local.test") == []


def test_size_limits(mx):
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    code, text = r.cmd("MAIL FROM:<s@remote.test> SIZE=1000000")
    assert code == 552 and text.startswith("5.3.4")
    # Declared small, actually big: refused at the end of data.
    assert r.cmd("MAIL FROM:<s@remote.test> SIZE=100")[0] == 250
    r.cmd("RCPT TO:<ann@local.test>")
    assert r.cmd("DATA")[0] == 354
    r.send(message(body=(b"y" * 70 + b"\r\n") * 1200) + b".\r\n")
    code, text = r.reply()
    assert code == 552 and text.startswith("5.3.4")
    # Long line (> 998 octets) refused.
    r.cmd("MAIL FROM:<s@remote.test>")
    r.cmd("RCPT TO:<ann@local.test>")
    r.cmd("DATA")
    r.send(message(body=b"z" * 1200 + b"\r\n") + b".\r\n")
    code, text = r.reply()
    assert code == 554 and text.startswith("5.6.0")
    # NUL refused; 8-bit without BODY=8BITMIME refused, with it accepted.
    r.cmd("MAIL FROM:<s@remote.test>")
    r.cmd("RCPT TO:<ann@local.test>")
    r.cmd("DATA")
    r.send(message(body=b"nul\x00here\r\n") + b".\r\n")
    assert r.reply()[0] == 554
    r.cmd("MAIL FROM:<s@remote.test>")
    r.cmd("RCPT TO:<ann@local.test>")
    r.cmd("DATA")
    r.send(message(body="caf\u00e9\r\n".encode()) + b".\r\n")
    code, text = r.reply()
    assert code == 554 and text.startswith("5.6.1")
    r.cmd("MAIL FROM:<s@remote.test> BODY=8BITMIME")
    r.cmd("RCPT TO:<ann@local.test>")
    r.cmd("DATA")
    eight = message(body="caf\u00e9\r\n".encode())
    r.send(eight + b".\r\n")
    assert r.reply()[0] == 250
    assert [strip_received(m) for m in inbox(mx, "ann@local.test")] == [eight]


def test_too_many_recipients(mx):
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    r.cmd("MAIL FROM:<s@remote.test>")
    for u in ("ann", "bob", "carol", "dave"):
        assert r.cmd(f"RCPT TO:<{u}@local.test>")[0] == 250
    code, text = r.cmd("RCPT TO:<ann@local.test>")
    assert code == 452 and text.startswith("4.5.3")


def test_max_messages_per_connection(mx):
    s = smtplib.SMTP("127.0.0.1", mx.smtp_port, timeout=10)
    for i in range(3):
        s.sendmail("s@remote.test", ["bob@local.test"], message(f"m{i}"))
    code, text = s.docmd("MAIL", "FROM:<s@remote.test>")
    assert code == 421 and text.startswith(b"4.7.0")
    assert len(inbox(mx, "bob@local.test")) == 3


def test_bdat_chunking(mx):
    msg = message("bdat", b"chunk one\r\n.not stuffed\r\n" + b"w" * 100 + b"\r\n")
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    r.cmd("MAIL FROM:<s@remote.test>")
    r.cmd("RCPT TO:<dave@local.test>")
    a, b = msg[:37], msg[37:]
    r.send(b"BDAT %d\r\n" % len(a) + a)
    code, text = r.reply()
    assert code == 250 and text == f"2.0.0 {len(a)} octets received"
    r.send(b"BDAT %d LAST\r\n" % len(b) + b)
    assert r.reply()[0] == 250
    assert [strip_received(m) for m in inbox(mx, "dave@local.test")] == [msg]
    # BDAT 0 LAST ends a message too; DATA after BDAT is refused.
    r.cmd("MAIL FROM:<s@remote.test>")
    r.cmd("RCPT TO:<dave@local.test>")
    r.send(b"BDAT 5\r\nab\r\n\r")
    assert r.reply()[0] == 250
    assert r.cmd("DATA")[0] == 503
    r.send(b"BDAT 4 LAST\r\n\nx\r\n")
    code, text = r.reply()
    # "ab\r\n\r" + "\nx\r\n" = "ab\r\n\r\nx\r\n": CRLFs across chunks are fine.
    assert code == 250, text
    assert strip_received(inbox(mx, "dave@local.test")[1]) == b"ab\r\n\r\nx\r\n"
    # A refused BDAT still consumes its chunk: the bytes are never commands.
    r.cmd("RSET")
    payload = b"QUIT\r\nQUIT\r\n"
    r.send(b"BDAT %d LAST\r\n" % len(payload) + payload)
    code, _ = r.reply()
    assert code == 503
    assert r.cmd("NOOP")[0] == 250
    # Too big across chunks.
    r.cmd("MAIL FROM:<s@remote.test>")
    r.cmd("RCPT TO:<dave@local.test>")
    big = b"v" * 998 + b"\r\n"
    r.send(b"BDAT %d\r\n" % (len(big) * 70) + big * 70)
    code, text = r.reply()
    assert code == 552 and text.startswith("5.3.4")


def test_pipelining_replies_in_order(mx):
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    batch = (b"MAIL FROM:<s@remote.test>\r\nRCPT TO:<ann@local.test>\r\n"
             b"RCPT TO:<nobody@local.test>\r\nRCPT TO:<victim@remote.test>\r\n"
             b"RCPT TO:<team@local.test>\r\nDATA\r\n")
    r.send(batch)
    codes = [r.reply()[0] for _ in range(6)]
    assert codes == [250, 250, 550, 554, 250, 354]
    r.send(message("pipelined") + b".\r\nMAIL FROM:<t@remote.test>\r\nRCPT TO:<bob@local.test>\r\n"
           b"BDAT 3 LAST\r\nabcNOOP\r\nQUIT\r\n")
    codes = [r.reply()[0] for _ in range(6)]
    assert codes == [250, 250, 250, 250, 250, 221]
    assert len(inbox(mx, "ann@local.test")) == 1
    assert len(inbox(mx, "bob@local.test")) == 2


def test_starttls_injection_discarded(mx):
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    # Commands pipelined after STARTTLS in plaintext must be dropped.
    r.send(b"STARTTLS\r\nMAIL FROM:<evil@remote.test>\r\nRCPT TO:<ann@local.test>\r\n")
    code, _ = r.reply()
    assert code == 220
    r.sock = tls_ctx().wrap_socket(r.sock)
    r.f = r.sock.makefile("rb")
    # The injected MAIL did not count: RCPT without MAIL is refused, and
    # the session needs EHLO again.
    assert r.cmd("RCPT TO:<ann@local.test>")[0] == 503
    code, text = r.cmd("EHLO c.remote.test")
    assert code == 250 and "STARTTLS" not in text and "AUTH PLAIN LOGIN" in text
    assert r.cmd("RCPT TO:<ann@local.test>")[0] == 503
    assert r.cmd("STARTTLS")[0] == 503


def test_bad_command_limit(mx):
    r = Raw(mx.smtp_port)
    for i in range(3):
        assert r.cmd(f"BOGUS{i}")[0] == 500
    code, text = r.cmd("BOGUS3")
    assert code == 500
    code, text = r.reply()
    assert code == 421
    assert r.closed()
    # Bare LF command lines and too-long lines count too.
    r = Raw(mx.smtp_port)
    r.send(b"NOOP\n")
    assert r.reply()[0] == 500
    r.send(b"NOOP " + b"a" * 3000 + b"\r\n")
    assert r.reply()[0] == 500
    assert r.cmd("MAIL FROM:<a@b.test>")[0] == 503


def test_commands_need_ehlo_and_sequence(mx):
    r = Raw(mx.smtp_port)
    assert r.cmd("MAIL FROM:<s@remote.test>")[0] == 503
    r.cmd("EHLO c.remote.test")
    assert r.cmd("RCPT TO:<ann@local.test>")[0] == 503
    assert r.cmd("DATA")[0] == 503
    assert r.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert r.cmd("MAIL FROM:<s@remote.test>")[0] == 503
    # Four errors: [smtp] max_bad_commands is 4 here.
    assert r.reply()[0] == 421 and r.closed()
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    assert r.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert r.cmd("DATA")[0] == 554          # no valid recipients
    assert r.cmd("RSET")[0] == 250
    assert r.cmd("MAIL FROM:<s@remote.test> FOO=BAR")[0] == 555
    assert r.cmd("LHLO c.remote.test")[0] == 500


def test_auth_refused_before_tls_on_submission(mx):
    r = Raw(mx.submission_port)
    code, text = r.cmd("EHLO c.remote.test")
    assert "STARTTLS" in text and "AUTH" not in text
    cred = base64.b64encode(f"\0ann@local.test\0{PASSWORD}".encode()).decode()
    code, text = r.cmd(f"AUTH PLAIN {cred}")
    assert code == 538 and text.startswith("5.7.11")
    code, text = r.cmd("MAIL FROM:<ann@local.test>")
    assert code == 530 and text.startswith("5.7.0")


def submit(d, user="ann@local.test", password=PASSWORD, implicit=False):
    if implicit:
        s = smtplib.SMTP_SSL("127.0.0.1", d.submissions_port, timeout=10, context=tls_ctx())
    else:
        s = smtplib.SMTP("127.0.0.1", d.submission_port, timeout=10)
        s.starttls(context=tls_ctx())
    s.login(user, password)
    return s


def test_submission_relay_creates_queue_rows(mx):
    s = submit(mx)
    msg = message("outbound")
    s.sendmail("ann@local.test", ["friend@remote.test", "bob@local.test", "other@remote.test"],
               msg, mail_options=["RET=HDRS", "ENVID=abc+2Bdef"],
               rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;friend@remote.test"])
    s.quit()
    assert [strip_received(m) for m in inbox(mx, "bob@local.test")] == [msg]
    rows = sql(mx, "SELECT q.envelope_from, q.dsn_ret, q.dsn_envid, q.auth_user, r.address,"
                   " r.dsn_notify, coalesce(r.dsn_orcpt, '-'), r.state, q.size = octet_length(b.raw)"
                   " FROM queue_messages q JOIN queue_recipients r ON r.message_id = q.id"
                   " JOIN message_blobs b ON b.id = q.blob_id ORDER BY r.address").split()
    assert rows == [
        "ann@local.test|HDRS|abc+def|ann@local.test|friend@remote.test|SUCCESS,FAILURE|rfc822;friend@remote.test|queued|t",
        "ann@local.test|HDRS|abc+def|ann@local.test|other@remote.test|SUCCESS,FAILURE|rfc822;friend@remote.test|queued|t",
    ]
    # Two blobs: the local copy starts with Return-Path: (final delivery,
    # RFC 5321 4.4), the queued one must not (the next hop adds its own).
    assert sql(mx, "SELECT count(*), max(refcount) FROM message_blobs").strip() == "2|1"
    assert return_path(inbox(mx, "bob@local.test")[0]) == b"<ann@local.test>"
    queued = bytes.fromhex(sql(mx, "SELECT encode(b.raw, 'hex') FROM queue_messages q"
                                   " JOIN message_blobs b ON b.id = q.blob_id").strip())
    assert strip_received(queued, queued=True) == msg
    hdr = inbox(mx, "bob@local.test")[0].split(b"\r\n\r\n")[0]
    assert b"with ESMTPSA id" in hdr


def test_submission_implicit_tls_and_login(mx):
    s = submit(mx, implicit=True)
    s.sendmail("a.smith@local.test", ["x@remote.test"], message("implicit"))
    s.quit()
    assert sql(mx, "SELECT count(*) FROM queue_recipients").strip() == "1"
    # AUTH LOGIN over STARTTLS with swaks.
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{mx.submission_port}", "--tls",
                        "--auth", "LOGIN", "--auth-user", "bob@local.test",
                        "--auth-password", PASSWORD, "--from", "bob@local.test",
                        "--to", "y@remote.test"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert sql(mx, "SELECT count(*) FROM queue_recipients").strip() == "2"


def test_submission_sender_mismatch_refused(mx):
    s = submit(mx)
    code, text = s.docmd("MAIL", "FROM:<bob@local.test>")
    assert code == 553 and text.startswith(b"5.7.1")
    code, text = s.docmd("MAIL", "FROM:<someone@remote.test>")
    assert code == 553
    code, text = s.docmd("MAIL", "FROM:<team@local.test>")    # a group is not ann's
    assert code == 553
    assert s.docmd("MAIL", "FROM:<a.smith@local.test>")[0] == 250   # her alias
    s.quit()
    assert sql(mx, "SELECT count(*) FROM queue_messages").strip() == "0"


def test_auth_failure(mx):
    s = smtplib.SMTP("127.0.0.1", mx.submission_port, timeout=20)
    s.starttls(context=tls_ctx())
    s.ehlo()
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        s.login("ann@local.test", "wrong")
    assert e.value.smtp_code == 535 and e.value.smtp_error.startswith(b"5.7.8")
    code, _ = s.docmd("MAIL", "FROM:<ann@local.test>")
    assert code == 530
    # Cancelled exchange.
    assert s.docmd("AUTH", "LOGIN")[0] == 334
    assert s.docmd("*")[0] == 501
    assert s.docmd("AUTH", "CRAM-MD5")[0] == 504
    s.quit()
    log = mx.log_text()
    assert "user=ann@local.test event=auth status=failed" in log
    # Never a password, nor the base64 that carries it.
    assert "wrong" not in log and PASSWORD not in log
    # smtplib chose AUTH PLAIN (the first of CRAM-MD5, PLAIN, LOGIN that the
    # server offers): this exact blob went over the wire, in the AUTH line.
    blob = base64.b64encode(b"\0ann@local.test\0wrong").decode()
    assert blob not in log
    for part in (blob[:12], blob[-12:]):     # nor a piece of it
        assert part not in log


def test_authenticated_mx_may_relay(mx):
    s = smtplib.SMTP("127.0.0.1", mx.smtp_port, timeout=10)
    s.starttls(context=tls_ctx())
    s.login("dave@local.test", PASSWORD)
    s.sendmail("dave@local.test", ["z@remote.test"], message("mx relay"))
    s.quit()
    assert sql(mx, "SELECT address FROM queue_recipients").strip() == "z@remote.test"


def test_lmtp_per_recipient_replies(mx):
    sql(mx, "UPDATE accounts SET quota_bytes = 10 WHERE localpart = 'carol'")
    l = smtplib.LMTP("127.0.0.1", mx.lmtp_port, timeout=10)
    code, _ = l.docmd("LHLO", "mta.local.test")
    assert code == 250
    assert l.docmd("MAIL", "FROM:<s@remote.test>")[0] == 250
    assert l.docmd("RCPT", "TO:<ann@local.test>")[0] == 250
    assert l.docmd("RCPT", "TO:<carol@local.test>")[0] == 250
    assert l.docmd("RCPT", "TO:<nobody@local.test>")[0] == 550
    assert l.docmd("RCPT", "TO:<x@remote.test>")[0] == 554
    assert l.docmd("RCPT", "TO:<team@local.test>")[0] == 250
    assert l.docmd("DATA")[0] == 354
    l.send(message("lmtp") + b".\r\n")
    replies = [l.getreply() for _ in range(3)]
    # carol's quota is not used up at RCPT, but this message would pass it.
    assert [c for c, _ in replies] == [250, 552, 250]
    assert replies[1][1].startswith(b"5.2.2")
    assert len(inbox(mx, "ann@local.test")) == 1     # ann + team: once
    assert len(inbox(mx, "bob@local.test")) == 1
    assert inbox(mx, "carol@local.test") == []
    hdr = inbox(mx, "ann@local.test")[0].split(b"\r\n\r\n")[0]
    assert b"with LMTP id" in hdr
    assert l.docmd("EHLO", "x")[0] == 500
    l.quit()


def test_timeouts(cairnd_factory, pg):
    d = start(cairnd_factory, pg, {"smtp": {"command_timeout": "1s", "data_timeout": "2s"}})
    setup_directory(d)
    r = Raw(d.smtp_port)
    t0 = time.time()
    code, text = r.reply()
    # No EHLO yet: no enhanced code (RFC 2034).
    assert code == 421 and "timeout exceeded" in text
    assert 0.8 < time.time() - t0       # not before the 1 s timeout
    assert r.closed()
    r = Raw(d.smtp_port)
    r.cmd("EHLO c.remote.test")
    r.cmd("MAIL FROM:<s@remote.test>")
    r.cmd("RCPT TO:<ann@local.test>")
    r.cmd("DATA")
    r.send(b"Subject: half\r\n\r\nunfinished")
    t0 = time.time()
    code, text = r.reply()
    assert code == 421 and "4.4.2" in text
    assert 1.5 < time.time() - t0       # not before the 2 s timeout
    assert inbox(d, "ann@local.test") == []


def test_database_down_during_data(mx):
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    r.cmd("MAIL FROM:<s@remote.test>")
    assert r.cmd("RCPT TO:<bob@local.test>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(message("outage"))
    mx.pg.stop()
    try:
        r.send(b".\r\n")
        code, text = r.reply()
        assert code == 451 and text.startswith("4.3.0"), (code, text)
    finally:
        mx.pg.start()
    assert inbox(mx, "bob@local.test") == []
    # The same session works again once the database is back (451 meant
    # "try again": a worker may need its reconnect interval first).
    deadline = time.time() + 15
    while True:
        r.cmd("RSET")
        r.cmd("MAIL FROM:<s@remote.test>")
        if r.cmd("RCPT TO:<bob@local.test>")[0] == 250:
            r.cmd("DATA")
            r.send(message("after outage") + b".\r\n")
            code, text = r.reply()
            if code == 250:
                break
            assert code == 451, (code, text)
        assert time.time() < deadline
        time.sleep(0.3)
    got = inbox(mx, "bob@local.test")
    assert len(got) == 1 and b"after outage" in got[0]


def test_submission_check_from(cairnd_factory, pg):
    d = start(cairnd_factory, pg, {"submission": {"check_from": "yes"}})
    setup_directory(d)
    s = submit(d)
    ok = (b'From: "Smith, Ann <boss@local.test>" (not <bob@local.test>) <A.Smith@local.test>\r\n'
          b"Subject: mine\r\n\r\nok\r\n")
    assert s.sendmail("ann@local.test", ["bob@local.test"], ok) == {}
    for bad in (b"From: Bob <bob@local.test>\r\nSubject: forged\r\n\r\nx\r\n",
                b"From: ann@local.test, bob@local.test\r\nSubject: two\r\n\r\nx\r\n",
                # Issue 18: a second From: header used to go unchecked.
                b"From: ann@local.test\r\nFrom: bob@local.test\r\nSubject: two\r\n\r\nx\r\n",
                b"From: ann@local.test\r\nSubject: two\r\nFROM: bob@local.test\r\n\r\nx\r\n",
                b"Subject: no from\r\n\r\nx\r\n"):
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("ann@local.test", ["bob@local.test"], bad)
        assert e.value.smtp_code == 554 and e.value.smtp_error.startswith(b"5.7.1")
    s.quit()
    got = inbox(d, "bob@local.test")
    assert [strip_received(m) for m in got] == [ok]


def check_from_binary():
    """tests/integration/check-from-test.c, built by `make check`."""
    builddir = os.environ.get("CAIRN_BUILDDIR")
    base = pathlib.Path(builddir) if builddir else pathlib.Path(CAIRNCTL).resolve().parent
    return base / "tests" / "integration" / "check-from-test"


def test_check_from_every_author(cairnd_factory, pg):
    """Issue 18, deliver_check_from(): every From: mailbox must be the
    user's, several authors need a Sender: that is the user's too, and one
    From: field only. (The session still uses the single-author check, which
    refuses every several-author message; this drives the full rule.)"""
    binary = check_from_binary()
    assert binary.exists(), f"{binary} missing: run make check (or make {binary.name})"
    d = start(cairnd_factory, pg, {})
    setup_directory(d)

    def verdict(msg, account="ann@local.test"):
        r = subprocess.run([str(binary), str(d.conf), account], input=msg,
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout.decode().strip()

    cases = [
        (b"From: Ann <ann@local.test>\r\n\r\nx\r\n", "ok"),
        (b"From: A.Smith@local.test\r\n\r\nx\r\n", "ok"),           # her alias
        (b"From: ann@local.test, a.smith@local.test\r\nSender: ann@local.test\r\n\r\nx\r\n",
         "ok"),
        # A co-author who is someone else, whatever the Sender: says.
        (b"From: ann@local.test, bob@local.test\r\nSender: ann@local.test\r\n\r\nx\r\n",
         "rejected"),
        (b"From: bob@local.test, ann@local.test\r\nSender: ann@local.test\r\n\r\nx\r\n",
         "rejected"),
        # Several authors without a Sender:, or with someone else's.
        (b"From: ann@local.test, a.smith@local.test\r\n\r\nx\r\n", "rejected"),
        (b"From: ann@local.test, a.smith@local.test\r\nSender: bob@local.test\r\n\r\nx\r\n",
         "rejected"),
        (b"From: ann@local.test\r\nSender: ceo@local.test\r\n\r\nx\r\n", "rejected"),
        # A second From: field, either order.
        (b"From: ann@local.test\r\nFrom: bob@local.test\r\n\r\nx\r\n", "rejected"),
        (b"From: bob@local.test\r\nFrom: ann@local.test\r\n\r\nx\r\n", "rejected"),
        # A group address, a remote address, no From: at all.
        (b"From: team@local.test\r\n\r\nx\r\n", "rejected"),
        (b"From: ann@remote.test\r\n\r\nx\r\n", "rejected"),
        (b"Subject: none\r\n\r\nx\r\n", "rejected"),
    ]
    got = [(m, verdict(m)) for m, _ in cases]
    assert got == [(m, want) for m, want in cases]


def test_helo_without_extensions(mx):
    r = Raw(mx.smtp_port)
    assert r.cmd("HELO old.remote.test") == (250, HOST)
    # No ESMTP: parameters refused, replies without enhanced codes.
    assert r.cmd("MAIL FROM:<s@remote.test> SIZE=10")[0] == 555
    assert r.cmd("MAIL FROM:<s@remote.test>") == (250, "Ok")
    assert r.cmd("RCPT TO:<nobody@local.test>")[1].startswith("<nobody@local.test>")
    assert r.cmd("RCPT TO:<ann@local.test>")[0] == 250
    r.cmd("DATA")
    r.send(b"Subject: old\r\n\r\nhi\r\n.\r\n")
    assert r.reply()[0] == 250
    assert b"with SMTP id" in inbox(mx, "ann@local.test")[0]


def test_connections_per_ip_busy_reply(cairnd_factory, pg):
    d = start(cairnd_factory, pg, {"server": {"max_connections_per_ip": "2"}})
    a, b = Raw(d.smtp_port), Raw(d.smtp_port)
    s = socket.create_connection(("127.0.0.1", d.smtp_port), timeout=10)
    line = s.makefile("rb").readline()
    assert line.startswith(b"421 4.7.0"), line
    a.close()
    b.close()
    s.close()


def test_null_sender_and_postmaster(mx):
    ctl(mx, "alias", "add", f"postmaster@local.test", "dave@local.test")
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    assert r.cmd("MAIL FROM:<>")[0] == 250
    assert r.cmd("RCPT TO:<postmaster@local.test>")[0] == 250
    r.cmd("DATA")
    r.send(b"Subject: bounce\r\n\r\nbounce\r\n.\r\n")
    assert r.reply()[0] == 250
    assert len(inbox(mx, "dave@local.test")) == 1


def test_concurrent_deliveries(mx):
    """Parallel sessions delivering to overlapping mailboxes: no deadlock,
    no lost or duplicated message, uids unique per mailbox."""
    import threading
    errors = []

    def worker(i):
        try:
            s = smtplib.SMTP("127.0.0.1", mx.smtp_port, timeout=30)
            for k in range(3):
                rcpts = ["all@local.test", "dave@local.test"] if (i + k) % 2 else \
                        ["dave@local.test", "team@local.test", "carol@local.test"]
                s.sendmail("s@remote.test", rcpts, message(f"c{i}-{k}"))
            s.quit()
        except Exception as e:      # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for u in ("ann", "bob", "carol", "dave"):
        assert len(inbox(mx, f"{u}@local.test")) == 24, u
    dup = sql(mx, "SELECT count(*) FROM (SELECT mailbox_id, uid FROM mailbox_messages"
                  " GROUP BY 1, 2 HAVING count(*) > 1) x").strip()
    assert dup == "0"


def test_delivery_sends_notify(mx):
    """IMAP IDLE on any node learns of the delivery through NOTIFY at COMMIT."""
    listener = subprocess.Popen(
        ["psql", "-X", "-q", "-At", "-h", str(mx.pg.sock), "-p", str(mx.pg.port), "-U", "postgres",
         "-d", "cairn"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    listener.stdin.write("LISTEN cairn_mailbox;\n")
    listener.stdin.flush()
    # Wait until the LISTEN has run (its session sits idle after it), so a
    # NOTIFY sent at the delivery's COMMIT cannot be missed.
    deadline = time.monotonic() + 20
    while sql(mx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'psql'"
                  " AND state = 'idle' AND query = 'LISTEN cairn_mailbox;'").strip() != "1":
        assert time.monotonic() < deadline and listener.poll() is None, "LISTEN did not run"
        time.sleep(0.05)
    s = smtplib.SMTP("127.0.0.1", mx.smtp_port, timeout=10)
    s.sendmail("s@remote.test", ["bob@local.test"], message("notify"))
    s.quit()
    out, _ = listener.communicate("SELECT 1;\n", timeout=20)
    inbox_id = sql(mx, "SELECT m.id FROM mailboxes m JOIN accounts a ON a.id = m.account_id"
                       " WHERE a.localpart = 'bob' AND m.name = 'INBOX'").strip()
    assert f'"cairn_mailbox" with payload "{inbox_id}:' in out, out


def test_return_path(mx):
    """RFC 5321 4.4: final delivery prepends Return-Path: with the envelope
    sender, <> for a bounce, before our Received:; SMTP and LMTP."""
    msg = message("rp")
    s = smtplib.SMTP("127.0.0.1", mx.smtp_port, timeout=10)
    s.sendmail("Bounce.Me@Remote.test", ["ann@local.test"], msg)
    s.sendmail("", ["ann@local.test", "bob@local.test"], msg)
    s.quit()
    got = inbox(mx, "ann@local.test")
    assert len(got) == 2
    # The reverse-path as given (only the domain is case-insensitive).
    assert got[0].startswith(b"Return-Path: <Bounce.Me@Remote.test>\r\nReceived: from ")
    assert got[1].startswith(b"Return-Path: <>\r\nReceived: from ")
    assert [strip_received(m) for m in got] == [msg, msg]
    assert inbox(mx, "bob@local.test") == [got[1]]
    # Exactly one Return-Path: (a client-supplied one stays below ours).
    assert got[0].count(b"Return-Path:") == 1
    l = smtplib.LMTP("127.0.0.1", mx.lmtp_port, timeout=10)
    l.sendmail("lmtp@remote.test", ["carol@local.test"], message("rp2", extra=b"Return-Path: <x@y>\r\n"))
    l.quit()
    c = inbox(mx, "carol@local.test")[0]
    assert return_path(c) == b"<lmtp@remote.test>"
    assert c.split(b"\r\n")[1].startswith(b"Received: from ")
    assert c.count(b"Return-Path:") == 2


def test_smtputf8_and_8bitmime_end_to_end(mx):
    """UTF-8 envelope addresses (RFC 6531) and 8-bit bodies (RFC 6152)
    are delivered and stored byte for byte."""
    s = smtplib.SMTP("127.0.0.1", mx.smtp_port, timeout=10)
    s.ehlo("c.remote.test")
    assert s.has_extn("smtputf8") and s.has_extn("8bitmime")
    body = "Grüße, naïve café — 日本語 テキスト\r\n".encode() + bytes(range(0x80, 0x100)) + b"\r\n"
    msg = ("From: José <josé@exämple.test>\r\nTo: ann@local.test\r\n"
           "Subject: Ünïcödé 件名\r\n").encode() + b"\r\n" + body
    refused = s.sendmail("josé@exämple.test", ["ann@local.test"], msg,
                         mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    assert refused == {}
    # 8BITMIME alone (ASCII envelope) also keeps every byte.
    s.sendmail("plain@remote.test", ["bob@local.test"], message("8bit", body=body),
               mail_options=["BODY=8BITMIME"])
    # Without either, 8-bit data is refused, and a UTF-8 address needs SMTPUTF8.
    code, _ = s.docmd("MAIL", "FROM:<josé@exämple.test>".encode().decode("latin-1"))
    assert code >= 500
    s.rset()
    s.quit()
    got = inbox(mx, "ann@local.test")
    assert len(got) == 1
    assert strip_received(got[0]) == msg
    assert return_path(got[0]) == "<josé@exämple.test>".encode()
    assert b"with UTF8SMTP id" in got[0].split(b"\r\n\r\n")[0]
    assert [strip_received(m) for m in inbox(mx, "bob@local.test")] == [message("8bit", body=body)]
    r = Raw(mx.smtp_port)
    r.cmd("EHLO c.remote.test")
    assert r.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert r.cmd("RCPT TO:<carol@local.test>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(message("no8bit", body=body) + b".\r\n")
    assert r.reply()[0] == 554
    r.close()
    assert inbox(mx, "carol@local.test") == []


def test_quota_rcpt_and_data(mx):
    """An account already full: 452 4.2.2 at RCPT (others still accepted);
    a message that would pass the quota: 552 5.2.2 after DATA, nothing
    stored for anybody (SMTP is all or nothing)."""
    ctl(mx, "user", "set", "dave@local.test", "--quota", "3000")
    assert sql(mx, "SELECT quota_bytes FROM accounts WHERE localpart = 'dave'").strip() == "3000"
    s = smtplib.SMTP("127.0.0.1", mx.smtp_port, timeout=10)
    s.ehlo("c.remote.test")
    small = message("small", body=(b"x" * 98 + b"\r\n") * 10)
    assert s.sendmail("s@remote.test", ["dave@local.test"], small) == {}
    # 1000 + headers used of 3000: a 2500-octet message would pass it.
    big = message("big", body=(b"y" * 98 + b"\r\n") * 25)
    assert s.mail("s@remote.test")[0] == 250
    assert s.rcpt("dave@local.test")[0] == 250
    assert s.rcpt("ann@local.test")[0] == 250
    code, text = s.data(big)
    assert code == 552 and text.startswith(b"5.2.2"), (code, text)
    assert len(inbox(mx, "dave@local.test")) == 1
    assert inbox(mx, "ann@local.test") == []
    # Fill dave up exactly, then he is over at RCPT.
    used = int(sql(mx, "SELECT u.bytes FROM mail_usage u JOIN accounts a ON a.id = u.account_id"
                       " WHERE a.localpart = 'dave'").strip())
    ctl(mx, "user", "set", "dave@local.test", "--quota", str(used))
    assert s.mail("s@remote.test")[0] == 250
    code, text = s.rcpt("dave@local.test")
    assert code == 452 and text.startswith(b"4.2.2"), (code, text)
    # A group with dave in it is refused the same way; ann still works.
    ctl(mx, "group", "member", "add", "team@local.test", "dave@local.test")
    assert s.rcpt("team@local.test")[0] == 452
    assert s.rcpt("ann@local.test")[0] == 250
    assert s.data(small)[0] == 250
    s.quit()
    assert len(inbox(mx, "dave@local.test")) == 1
    assert len(inbox(mx, "ann@local.test")) == 1
    assert "reason=overquota" in mx.log_text()
