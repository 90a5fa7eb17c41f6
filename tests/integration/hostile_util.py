"""Helpers for the hostile-client suite (test_hostile.py), not a test module:
a raw client connection that can speak plain, TLS and deflate (IMAP
COMPRESS), reset (SO_LINGER 0) or half-close (SHUT_WR) itself at any point,
and watchers of the daemon under attack: its RSS, its /metrics gauges, its
log, and a PostgreSQL lock that holds every store job in flight."""
import ctypes
import os
import re
import select
import socket
import ssl
import struct
import subprocess
import time
import urllib.request
import zlib


def tls_ctx():
    """A client context for the throwaway test certificate."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def client_hello():
    """The bytes of a TLS ClientHello, to send whole or in pieces."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = tls_ctx().wrap_bio(inc, out, server_side=False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    assert len(hello) > 100, hello
    return hello


class Closed(Exception):
    """The server closed (or reset) the connection."""


class Peer:
    """One raw client connection. Reads are buffered; with compress() both
    directions become raw deflate (RFC 4978) inside TLS, if any."""

    def __init__(self, port, tls=False, src=None, timeout=20, rcvbuf=None, sndbuf=None,
                 connect=True):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        if src:
            s.bind((src, 0))
        s.settimeout(timeout)
        self.raw = s
        self.sock = s
        self.port = port
        self.buf = b""
        self.zout = self.zin = None
        if connect:
            s.connect(("127.0.0.1", port))
            if tls:
                self.start_tls()

    # -- TLS and compression --
    def start_tls(self):
        # wrap_socket takes the fd over: from now on the TLS socket is the
        # one to reset or shut down (at TCP level, without close_notify).
        self.sock = tls_ctx().wrap_socket(self.raw, server_hostname="localhost")
        self.raw = self.sock
        self.buf = b""

    def compress(self):
        self.zout = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.zin = zlib.decompressobj(-15)
        # Anything already read past the OK line was compressed.
        pending, self.buf = self.buf, b""
        if pending:
            self.buf = self.zin.decompress(pending)

    def encode(self, data):
        if self.zout is not None:
            return self.zout.compress(data) + self.zout.flush(zlib.Z_SYNC_FLUSH)
        return data

    # -- writing --
    def send(self, data):
        self.sock.sendall(self.encode(data))

    def send_wire(self, data):
        """Bytes as they are (already encoded): no compression applied."""
        self.sock.sendall(data)

    def send_raw_socket(self, data):
        """Bytes straight onto TCP, under any TLS layer (a ClientHello)."""
        self.raw.sendall(data)

    # -- reading --
    def _more(self):
        try:
            d = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError,
                ssl.SSLZeroReturnError) as e:
            raise Closed(repr(e))
        except ssl.SSLError as e:
            raise Closed(repr(e))
        if not d:
            raise Closed("EOF")
        if self.zin is not None:
            d = self.zin.decompress(d)
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self._more()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln + b"\r\n"

    def read(self, n):
        while len(self.buf) < n:
            self._more()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def expect_line(self, prefix):
        ln = self.line()
        assert ln.startswith(prefix), f"expected {prefix!r}, got {ln!r}"
        return ln

    def tagged(self, tag, status=b"OK"):
        """IMAP: lines (and literals) up to the tagged reply of tag."""
        out = []
        while True:
            ln = self.line()
            out.append(ln)
            m = re.search(rb"\{(\d+)\}\r\n$", ln)
            if m:
                out.append(self.read(int(m.group(1))))
            if ln.startswith(tag + b" "):
                if status is not None:
                    assert ln.startswith(tag + b" " + status), f"{tag!r}: {b''.join(out)!r}"
                return out

    def smtp(self, code=None):
        """SMTP/LMTP: one (multi-line) reply; returns (code, text)."""
        lines = []
        while True:
            ln = self.line()
            lines.append(ln)
            if len(ln) < 4 or ln[3:4] != b"-":
                break
        c = int(lines[-1][:3])
        if code is not None:
            want = code if isinstance(code, (tuple, list)) else (code,)
            assert c in want, f"expected {code}, got {b''.join(lines)!r}"
        return c, b"".join(lines)

    def pop_multi(self):
        """POP3: a +OK line and its dot-terminated body."""
        first = self.expect_line(b"+OK")
        body = []
        while True:
            ln = self.line()
            if ln == b".\r\n":
                return first, body
            body.append(ln)

    def http(self):
        """HTTP/1.1: (status, head, body) of one response with Content-Length."""
        head = b""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ", 2)[1])
        m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        body = self.read(int(m.group(1))) if m else b""
        return status, head, body

    # -- hostile endings --
    def reset(self):
        """Close with an RST (SO_LINGER 0): no FIN, queued data dropped."""
        self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.raw.close()

    def half_close(self):
        """SHUT_WR: the server reads EOF but may still write to us. No TLS
        close_notify is sent (a TLS socket is shut down at TCP level)."""
        self.raw.shutdown(socket.SHUT_WR)

    def wait_closed(self, timeout=30):
        """Read and discard until the server closes; a timeout fails."""
        self.raw.settimeout(1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                d = self.raw.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not d:
                return
        raise AssertionError(f"server did not close port {self.port} connection within "
                             f"{timeout}s after the client half-closed")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            self.raw.close()
        except OSError:
            pass

    def end(self, mode):
        """End the connection the hostile way: 'reset' or 'halfclose' (then
        wait for the server to close its side)."""
        if mode == "reset":
            self.reset()
        elif mode == "halfclose":
            self.half_close()
            self.wait_closed()
            self.close()
        else:
            raise ValueError(mode)


# ---- the daemon under attack ----

def rss_kib(pid):
    """Resident set size in KiB, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
    except FileNotFoundError:
        pass
    return None


def metrics(d, timeout=10):
    """The daemon's /metrics as {name or name{labels}: value}."""
    with urllib.request.urlopen(d.url("/metrics"), timeout=timeout) as r:
        text = r.read().decode()
    out = {}
    for ln in text.splitlines():
        if ln and not ln.startswith("#"):
            k, v = ln.rsplit(" ", 1)
            out[k] = float(v)
    return out


def conn_gauge(m, proto):
    return m.get(f'cairn_connections{{protocol="{proto}"}}', 0)


def wait_quiet(d, timeout=30, allow=None):
    """Poll /metrics until no client connection is open besides this
    request (and allow={proto: n}) and no job is queued or running. A
    timeout fails: the server kept a connection or a job of a dead client."""
    allow = dict(allow or {})
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        m = metrics(d)
        busy = {p: conn_gauge(m, p) for p in ("imap", "pop3", "smtp", "submission", "managesieve")
                if conn_gauge(m, p) > allow.get(p, 0)}
        if conn_gauge(m, "http") > 1 + allow.get("http", 0):
            busy["http"] = conn_gauge(m, "http")
        jobs = m.get("cairn_jobs_queued", 0) + m.get("cairn_jobs_running", 0)
        if not busy and jobs == 0:
            return m
        last = (busy, jobs)
        time.sleep(0.02)
    raise AssertionError(f"server not quiet after {timeout}s: open={last[0]} jobs={last[1]}")


def wait_jobs(d, at_least=1, timeout=15):
    """Poll until at least that many jobs are queued or running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = metrics(d)
        if m.get("cairn_jobs_queued", 0) + m.get("cairn_jobs_running", 0) >= at_least:
            return
        time.sleep(0.01)
    raise AssertionError(f"no store job in flight after {timeout}s")


def server_side_gone(local_port, server_port):
    """True once the kernel no longer lists the server's end of the
    connection (it processed our RST)."""
    want = f":{server_port:04X} "
    peer = f":{local_port:04X} "
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                for ln in f:
                    parts = ln.split()
                    if len(parts) > 3 and parts[1].endswith(want.strip()) and \
                            parts[2].endswith(peer.strip()):
                        return False
        except FileNotFoundError:
            pass
    return True


class StoreBlock:
    """Hold an ACCESS EXCLUSIVE lock on every table of the store so that
    every store job blocks on it: a job stays in flight until release."""

    def __init__(self, pg):
        self.pg = pg
        self.proc = None

    def __enter__(self):
        tables = self.pg.psql("cairn", "SELECT string_agg(quote_ident(tablename), ', ') "
                                       "FROM pg_tables WHERE schemaname = 'public'").strip()
        self.proc = subprocess.Popen(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.pg.sock),
             "-p", str(self.pg.port), "-U", "postgres", "-d", "cairn"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.proc.stdin.write(f"BEGIN;\nLOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE;\n"
                              "SELECT 'locked';\n")
        self.proc.stdin.flush()
        ln = self.proc.stdout.readline()
        assert ln.strip() == "locked", f"cannot lock the store: {ln}"
        return self

    def release(self):
        if self.proc is not None:
            self.proc.stdin.write("COMMIT;\n")
            self.proc.stdin.close()
            self.proc.wait(30)
            self.proc = None

    def __exit__(self, *exc):
        self.release()


def cheap_hash(password):
    """A yescrypt hash of the lowest cost: thousands of logins in this suite
    are about connection handling, not about the hash."""
    lc = ctypes.CDLL("libcrypt.so.1")
    lc.crypt_gensalt.restype = ctypes.c_char_p
    lc.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lc.crypt.restype = ctypes.c_char_p
    lc.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = lc.crypt_gensalt(b"$y$", 1, None, 0)
    h = lc.crypt(password.encode(), salt)
    assert h and h.startswith(b"$y$"), h
    return h.decode()


def nonblocking_flood(sock, chunk, budget, stalled_after=2.0, on_progress=None):
    """Send chunk (bytes, or a function returning the next bytes) again and
    again without ever reading, until budget bytes are sent or the socket
    stays unwritable for stalled_after seconds (the server stopped reading:
    back-pressure). on_progress(sent) may return True to stop early.
    Returns (bytes sent, stalled); the server closing raises OSError."""
    more = chunk if callable(chunk) else (lambda: chunk)
    sock.setblocking(False)
    sent = 0
    pending = memoryview(more())
    next_check = 0
    while sent < budget:
        try:
            n = sock.send(pending)
        except (BlockingIOError, ssl.SSLWantWriteError):
            _, w, _ = select.select([], [sock], [], stalled_after)
            if not w:
                return sent, True
            continue
        except ssl.SSLWantReadError:
            # Never read: a TLS renegotiation or key update would wait forever.
            _, w, _ = select.select([], [sock], [], stalled_after)
            if not w:
                return sent, True
            continue
        sent += n
        pending = pending[n:]
        if not pending:
            pending = memoryview(more())
        if on_progress is not None and sent >= next_check:
            next_check = sent + (1 << 20)
            if on_progress(sent):
                return sent, False
    return sent, False


ASAN_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "double free",
                "free(): ", "malloc(): ", "corrupted", "Segmentation fault", "panic")


def sanitizer_excerpt(text):
    """The first sanitizer/abort report in text, a few dozen lines of it."""
    for marker in ASAN_MARKERS:
        i = text.find(marker)
        if i >= 0:
            start = text.rfind("\n", 0, max(0, i - 200)) + 1
            return text[start:start + 4000]
    return None
