"""Helpers the IMAP integration tests share (not a test module itself):
cairnctl on a running daemon's config, a TLS context that accepts the
throwaway test certificate, the accounts a test's fixture creates, and a raw
IMAP connection for what imaplib cannot send."""
import re
import socket
import ssl
import subprocess

import conftest


def ctl(d, *args, timeout=120):
    """Run cairnctl with d's config; the test fails when it does not exit 0.
    Returns its standard output."""
    r = subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *args], capture_output=True,
                       text=True, timeout=timeout)
    assert r.returncode == 0, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


def tls_ctx():
    """A client context for the self-signed test certificate."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def add_accounts(d, password, *users):
    """Add the users (addresses) with password, their domains first."""
    for domain in dict.fromkeys(u.split("@", 1)[1] for u in users):
        ctl(d, "domain", "add", domain)
    for user in users:
        ctl(d, "user", "add", user, "--password", password)


class Raw:
    """A raw IMAP connection (plain or implicit TLS) that reads lines and
    literals; the greeting is in greeting. line() returns b"" at EOF."""

    def __init__(self, port, tls=False, timeout=10):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            s = tls_ctx().wrap_socket(s)
        self.s = s
        self.f = s.makefile("rb")
        self.greeting = self.f.readline()

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        return self.f.readline()

    def until(self, tag):
        """Lines up to and including the tagged response for tag, each
        literal after the line that announces it."""
        out = []
        while True:
            ln = self.f.readline()
            if not ln:
                raise EOFError(b"".join(out))
            out.append(ln)
            m = re.search(rb"\{(\d+)\}\r\n$", ln)
            if m:
                out.append(self.f.read(int(m.group(1))))
            if ln.startswith(tag + b" "):
                return out

    def close(self):
        self.s.close()
