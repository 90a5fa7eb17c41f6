"""Helpers of the Sieve tests (issue 16): cairnctl, a raw ManageSieve
client (RFC 5804) that shows every response line as sent, and message and
SMTP helpers for delivery with a script active."""
import base64
import re
import socket
import ssl
import subprocess
import time

from conftest import CAIRNCTL

PASSWORD = "sieve-secret-1"


def ctl(d, *args, input=None, check=True):
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], capture_output=True, text=True,
                       input=input, timeout=120)
    if check:
        assert r.returncode == 0, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(data):
    if isinstance(data, str):
        data = data.encode()
    return b"{%d+}\r\n" % len(data) + data


class ManageSieve:
    """A line-level ManageSieve client. read_response() returns
    (lines before the status, status line); literals are read whole."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.greeting, self.greeting_status = self.read_response()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def read_line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        m = re.search(rb"\{(\d+)\}$", line)
        if m:
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            line += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]
            rest = self.read_line()
            line += rest
        return line

    def read_response(self):
        lines = []
        while True:
            line = self.read_line()
            if re.match(rb"^(OK|NO|BYE)\b", line):
                return lines, line.decode(errors="replace")
            lines.append(line.decode(errors="replace"))

    def cmd(self, text):
        self.send(text if isinstance(text, bytes) else text.encode() + b"\r\n")
        return self.read_response()

    def capabilities(self, lines=None):
        caps = {}
        for line in (self.greeting if lines is None else lines):
            m = re.match(r'^"([^"]+)"(?: "(.*)")?$', line)
            if m:
                caps[m.group(1).upper()] = m.group(2)
        return caps

    def starttls(self):
        lines, status = self.cmd("STARTTLS")
        assert status.startswith("OK"), status
        self.sock = tls_ctx().wrap_socket(self.sock)
        self.buf = b""
        lines, status = self.read_response()
        assert status.startswith("OK"), status
        return self.capabilities(lines)

    def login(self, user, password=PASSWORD):
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        return self.cmd(f'AUTHENTICATE "PLAIN" "{token}"')

    def putscript(self, name, script):
        return self.cmd(b"PUTSCRIPT " + quote(name).encode() + b" " + literal(script) + b"\r\n")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def sql(d, query):
    return d.pg.psql("cairn", query)


def mailbox_messages(d, user, mailbox):
    """[(flags, keywords, raw)] of user's mailbox, in uid order."""
    out = sql(d, "SELECT mm.flags, array_to_string(mm.keywords, ' '), encode(b.raw, 'hex')"
                 " FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id"
                 " JOIN accounts a ON a.id = m.account_id"
                 " JOIN message_blobs b ON b.id = mm.blob_id"
                 f" WHERE a.address = '{user}' AND m.name = '{mailbox}' ORDER BY mm.uid")
    rows = []
    for line in out.splitlines():
        flags, kw, raw = line.split("|")
        rows.append((int(flags), kw.split(), bytes.fromhex(raw)))
    return rows


def queued(d):
    """[(envelope_from, [recipients], raw)] of the outbound queue, oldest first."""
    out = sql(d, "SELECT qm.envelope_from, string_agg(qr.address, ',' ORDER BY qr.id),"
                 " encode(b.raw, 'hex') FROM queue_messages qm"
                 " JOIN queue_recipients qr ON qr.message_id = qm.id"
                 " JOIN message_blobs b ON b.id = qm.blob_id"
                 " GROUP BY qm.id, b.raw ORDER BY qm.id")
    rows = []
    for line in out.splitlines():
        frm, rcpts, raw = line.split("|")
        rows.append((frm, rcpts.split(","), bytes.fromhex(raw)))
    return rows


def message(subject="hello", frm="sender@remote.test", to="ann@sieve.test", extra="",
            msgid=None, body="Hello there.\r\n"):
    msgid = msgid or f"<{abs(hash((subject, frm, time.time())))}@remote.test>"
    return (f"From: Sender <{frm}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: {msgid}\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n{extra}\r\n"
            f"{body}").encode()
