"""IMAP COMPRESS=DEFLATE (RFC 4978) over raw sockets with Python's zlib: the
switch right after the tagged OK (pipelined bytes are compressed data), the
refusals (NO [COMPRESSIONACTIVE], BAD for unknown mechanisms and before
login), a large APPEND and FETCH through compression over plain TCP, STARTTLS
and implicit TLS, IDLE notifications arriving compressed, and corrupt
compressed input closing the connection cleanly while the server lives on
(the cairnd fixture fails the test on any sanitizer report)."""
import os
import re
import socket
import ssl
import time
import zlib

import pytest

from imaplib_util import add_accounts, tls_ctx

PASSWORD = "compress-secret-1"
USER = "zuser@comp.test"


@pytest.fixture
def imap(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"imap": {"idle_timeout": "60s", "max_bad_commands": "5",
                                 "max_append": "30M", "plaintext_auth": "yes"}})
    add_accounts(d, PASSWORD, USER)
    return d


class ZRaw:
    """A raw IMAP client that can switch to raw deflate both ways."""

    def __init__(self, port, tls=False):
        s = socket.create_connection(("127.0.0.1", port), timeout=15)
        if tls:
            s = tls_ctx().wrap_socket(s)
        self.s = s
        self.z = False
        self.comp = None
        self.decomp = None
        self.buf = b""
        self.wire_in = 0
        self.zwire = bytearray()    # raw bytes received after the switch
        self.greeting = self.line()

    def starttls(self):
        self.send(b"st STARTTLS\r\n")
        assert self.line().startswith(b"st OK")
        assert self.buf == b""
        self.s = tls_ctx().wrap_socket(self.s)

    def start_compress(self, pipelined=b""):
        """COMPRESS DEFLATE; pipelined commands go compressed in the same write."""
        self.comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        data = b"z COMPRESS DEFLATE\r\n"
        if pipelined:
            data += self.comp.compress(pipelined) + self.comp.flush(zlib.Z_SYNC_FLUSH)
        self.s.sendall(data)
        reply = self.line()
        assert reply == b"z OK DEFLATE active\r\n", reply
        # Bytes read past the OK's CRLF are already compressed.
        self.decomp = zlib.decompressobj(-15)
        rest, self.buf = self.buf, b""
        self.z = True
        self._feed(rest)

    def _feed(self, raw):
        self.wire_in += len(raw)
        if self.z:
            self.zwire += raw
            self.buf += self.decomp.decompress(raw)
        else:
            self.buf += raw

    def send(self, data):
        if self.z:
            data = self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH)
        self.s.sendall(data)

    def send_raw(self, data):
        self.s.sendall(data)

    def _more(self):
        raw = self.s.recv(65536)
        if not raw:
            raise EOFError(self.buf)
        self._feed(raw)

    def line(self):
        while b"\r\n" not in self.buf:
            self._more()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln + b"\r\n"

    def read(self, n):
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def until(self, tag):
        """Lines up to and including the tagged response (literals inline)."""
        out = []
        while True:
            ln = self.line()
            out.append(ln)
            m = re.search(rb"\{(\d+)\}\r\n$", ln)
            if m:
                out.append(self.read(int(m.group(1))))
            if ln.startswith(tag + b" "):
                return out

    def login(self):
        self.send(f"l LOGIN {USER} {PASSWORD}\r\n".encode())
        assert self.until(b"l")[-1].startswith(b"l OK")

    def eof(self, timeout=10):
        """True once the server has closed the connection."""
        self.s.settimeout(timeout)
        try:
            while True:
                if not self.s.recv(65536):
                    return True
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def mem_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(field + r":\s+(\d+)", f.read()).group(1))


def big_message(size):
    """A message of about size bytes whose body compresses but is not trivial."""
    lines = []
    n = 0
    i = 0
    while n < size:
        ln = f"line {i:07d} {'abcdefghijklmnopqrstuvwxyz'[i % 26] * (i % 60)} {i * 7919 % 104729}\r\n"
        lines.append(ln)
        n += len(ln)
        i += 1
    head = (f"From: Big <big@remote.test>\r\nTo: {USER}\r\nSubject: big one\r\n"
            f"Message-ID: <big@remote.test>\r\n\r\n")
    return head.encode() + "".join(lines).encode()


def test_refusals_and_capability(imap):
    r = ZRaw(imap.imap_port)
    assert b"COMPRESS=DEFLATE" not in r.greeting
    r.send(b"a COMPRESS DEFLATE\r\n")
    assert r.line().startswith(b"a BAD")        # not before login
    r.login()
    r.send(b"c CAPABILITY\r\n")
    caps = r.until(b"c")[0]
    assert b" COMPRESS=DEFLATE" in caps
    r.send(b"b COMPRESS LZW\r\n")
    assert r.line().startswith(b"b BAD")
    r.send(b"b2 COMPRESS\r\n")
    assert r.line().startswith(b"b2 BAD")
    r.send(b"b3 COMPRESS DEFLATE EXTRA\r\n")
    assert r.line().startswith(b"b3 BAD")
    r.start_compress()
    r.send(b"c CAPABILITY\r\n")
    out = r.until(b"c")
    assert b"COMPRESS=DEFLATE" not in out[0] and out[-1].startswith(b"c OK")
    r.send(b"d COMPRESS DEFLATE\r\n")
    assert r.line().startswith(b"d NO [COMPRESSIONACTIVE]")
    r.send(b"e compress deflate\r\n")
    assert r.line().startswith(b"e NO [COMPRESSIONACTIVE]")
    r.send(b"f LOGOUT\r\n")
    out = r.until(b"f")
    assert out[0].startswith(b"* BYE") and out[-1].startswith(b"f OK")
    assert r.eof()


def test_pipelined_after_compress_is_compressed(imap):
    r = ZRaw(imap.imap_port)
    r.login()
    # The client sends COMPRESS and, before the OK, two compressed commands.
    r.start_compress(pipelined=b"p1 NOOP\r\np2 SELECT INBOX\r\n")
    assert r.until(b"p1")[-1].startswith(b"p1 OK")
    out = r.until(b"p2")
    assert any(b"EXISTS" in ln for ln in out) and out[-1].startswith(b"p2 OK")
    # What came back really was compressed: the replies arrived after the
    # switch, and not one of them is readable on the wire.
    wire = bytes(r.zwire)
    assert len(wire) > 0
    for plain in (b"p1 OK", b"p2 OK", b"EXISTS", b"FLAGS"):
        assert plain not in wire, wire
    r.close()


def append_fetch_roundtrip(r, size):
    body = big_message(size)
    r.send(b"s SELECT INBOX\r\n")
    r.until(b"s")
    # A synchronising literal: the "+" continuation arrives compressed.
    r.send(f"a APPEND INBOX (\\Seen) {{{len(body)}}}\r\n".encode())
    assert r.line().startswith(b"+ ")
    r.send(body + b"\r\n")
    out = r.until(b"a")
    assert out[-1].startswith(b"a OK"), out
    uid = int(re.search(rb"APPENDUID \d+ (\d+)", out[-1]).group(1))
    # LITERAL+ too, for a second copy.
    r.send(f"a2 APPEND INBOX {{{len(body)}+}}\r\n".encode() + body + b"\r\n")
    assert r.until(b"a2")[-1].startswith(b"a2 OK")
    r.send(b"n NOOP\r\n")
    r.until(b"n")
    before = r.wire_in
    r.send(f"f UID FETCH {uid} BODY.PEEK[]\r\n".encode())
    out = r.until(b"f")
    assert out[-1].startswith(b"f OK")
    assert out[1] == body
    # The text compresses well: the wire carried much less than the body.
    assert r.wire_in - before < len(body) / 2
    # Many small responses in one batch.
    r.send(b"g FETCH 1:* (UID FLAGS RFC822.SIZE)\r\n")
    out = r.until(b"g")
    assert out[-1].startswith(b"g OK") and len(out) == 3
    assert all(f"RFC822.SIZE {len(body)}".encode() in ln for ln in out[:2])


def test_large_append_and_fetch_plain(imap):
    r = ZRaw(imap.imap_port)
    r.login()
    r.start_compress()
    append_fetch_roundtrip(r, 3 * 1024 * 1024)
    r.close()


def test_starttls_then_compress(imap):
    r = ZRaw(imap.imap_port)
    r.starttls()
    r.login()
    r.start_compress()
    append_fetch_roundtrip(r, 2 * 1024 * 1024)
    r.send(b"x STARTTLS\r\n")          # not after login, compressed or not
    assert r.line().startswith(b"x BAD")
    r.close()


def test_implicit_tls_compress(imap):
    r = ZRaw(imap.imaps_port, tls=True)
    r.login()
    r.start_compress()
    append_fetch_roundtrip(r, 1024 * 1024)
    r.close()


def test_idle_notifications_arrive_compressed(imap):
    r = ZRaw(imap.imaps_port, tls=True)
    r.login()
    r.start_compress()
    r.send(b"s SELECT INBOX\r\n")
    assert b"* 0 EXISTS\r\n" in r.until(b"s")
    r.send(b"i IDLE\r\n")
    assert r.line().startswith(b"+ ")
    w = ZRaw(imap.imap_port)
    w.login()
    for n in (1, 2):
        msg = f"Subject: idle {n}\r\n\r\nbody {n}\r\n".encode()
        w.send(f"a APPEND INBOX {{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
        assert w.until(b"a")[-1].startswith(b"a OK")
        # Waits for the notification (no deadline but the socket's: a
        # latency figure belongs in bench-imap-notify.py, not here).
        r.s.settimeout(30)
        ln = r.line()
        while ln.endswith(b" RECENT\r\n"):
            ln = r.line()
        assert ln == f"* {n} EXISTS\r\n".encode()
    r.send(b"DONE\r\n")
    out = r.until(b"i")
    assert out[-1] == b"i OK IDLE terminated\r\n", out
    assert all(ln.endswith(b" RECENT\r\n") for ln in out[:-1]), out
    # Still in sync afterwards.
    r.send(b"f FETCH 2 BODY[HEADER.FIELDS (SUBJECT)]\r\n")
    out = r.until(b"f")
    assert b"Subject: idle 2" in b"".join(out) and out[-1].startswith(b"f OK")
    w.close()
    r.close()


@pytest.mark.parametrize("tls", [False, True])
def test_corrupt_input_closes_cleanly(imap, tls):
    r = ZRaw(imap.imaps_port if tls else imap.imap_port, tls=tls)
    r.login()
    r.start_compress()
    r.send(b"n NOOP\r\n")
    assert r.until(b"n")[-1].startswith(b"n OK")
    # A block of reserved type 3, then junk: an inflate data error.
    r.send_raw(b"\xff\xff\xff\xff\xfe" + b"garbage that is not deflate\r\n" * 20)
    assert r.eof()
    # A compressed stream that ends (Z_FINISH): RFC 4978 cannot end either.
    r2 = ZRaw(imap.imap_port)
    r2.login()
    r2.start_compress()
    r2.send_raw(r2.comp.compress(b"n NOOP\r\n") + r2.comp.flush(zlib.Z_FINISH))
    out = r2.until(b"n")
    assert out[-1].startswith(b"n OK")
    assert r2.eof()
    # A truncated stream (the client vanishes mid-block).
    r3 = ZRaw(imap.imap_port)
    r3.login()
    r3.start_compress()
    half = r3.comp.compress(b"n NOOP\r\n" * 1000)
    r3.send_raw(half[: len(half) // 2])
    r3.close()
    # The server is fine and still serves compressed sessions.
    time.sleep(0.3)
    r4 = ZRaw(imap.imap_port)
    r4.login()
    r4.start_compress()
    r4.send(b"n NOOP\r\n")
    assert r4.until(b"n")[-1].startswith(b"n OK")
    r4.close()
    log = imap.log_text()
    assert "event=inflate-failed" in log


@pytest.fixture
def imap_noquarantine(monkeypatch, cairnd_factory, pg):
    """The imap fixture, with ASan's quarantine off so that freed slices
    return to the allocator and RSS measures what the server holds."""
    monkeypatch.setenv("ASAN_OPTIONS", ":".join(filter(None, [
        os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=0"])))
    pg.reset_db()
    d = cairnd_factory({"imap": {"idle_timeout": "60s", "max_bad_commands": "5",
                                 "max_append": "30M", "plaintext_auth": "yes"}})
    add_accounts(d, PASSWORD, USER)
    return d


def test_compression_bomb_is_bounded(imap_noquarantine):
    """64 MiB of one byte inflate from ~64 KiB: the server takes it a bounded
    slice at a time, refuses the over-long line and stays responsive."""
    imap = imap_noquarantine
    r = ZRaw(imap.imap_port)
    r.login()
    r.start_compress()
    bomb = r.comp.compress(b"x" * (64 * 1024 * 1024)) + r.comp.flush(zlib.Z_SYNC_FLUSH)
    assert len(bomb) < 200 * 1024
    # Peak RSS (VmHWM) before and after: a server that inflated the whole
    # bomb into one buffer would grow by at least its 64 MiB.
    before = mem_kb(imap.pid, "VmHWM")
    try:
        r.send_raw(bomb)
        r.send(b"\r\n")
        out = b""
        while b"BYE" not in out and b"BAD" not in out:
            out += r.line()
    except (EOFError, ConnectionResetError, BrokenPipeError):
        pass
    # Whatever the session did with it, another client is served at once.
    r2 = ZRaw(imap.imap_port)
    r2.login()
    r2.send(b"n NOOP\r\n")
    assert r2.until(b"n")[-1].startswith(b"n OK")
    r2.close()
    r.close()
    growth = mem_kb(imap.pid, "VmHWM") - before
    print(f"peak RSS growth while inflating the bomb: {growth} kB")
    # A sanitizer build's allocator keeps a few MB of its own.
    assert growth * 1024 < 24e6, f"peak RSS grew by {growth} kB"
