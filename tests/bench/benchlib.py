"""The Cairn side of the benchmarks in tests/bench/ (dovecot_ref.py is the
Dovecot side): which build to run, a run directory whose servers are all
stopped and removed at the end, a cairnd with an account and imported mail,
generated mail, an mbox writer, a raw IMAP connection that counts the bytes
it receives, first-and-best timing and RSS readings.

    benchlib.use_build(args.builddir)
    with benchlib.Run("bench-x-") as run:
        pg = run.postgres()
        d = run.cairnd(pg, {"imap": {"plaintext_auth": "yes"}})
        benchlib.create_account(d, benchlib.CAIRN_USER)
        benchlib.import_mbox(d, benchlib.CAIRN_USER, mbox)
        d.start()
        ref = run.track(DovecotRef(run.base / "dovecot", ...))

The scripts print figures; nothing here asserts a time.
"""
import argparse
import os
import pathlib
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zlib

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import conftest  # noqa: E402
from conftest import Cairnd, Postgres, make_cert  # noqa: E402

PASSWORD = "bench-pw-1"
CAIRN_USER = "bench@bench.test"
# The account of the same mail on the reference Dovecot.
DOVECOT_USER = "bench"
# cairnd settings for thousands of idle IMAP sessions from one address.
MANY_IDLE = {"server": {"log_level": "info", "max_connections": "30000",
                        "max_connections_per_ip": "0"},
             "imap": {"plaintext_auth": "yes", "idle_timeout": "30m"}}
WORDS = ("the of and to in is that for it as with was on be by this are from or have "
         "mail store server message quota mailbox report budget tomorrow please").split()


def argparser(ctl=False):
    """An argument parser with --builddir (and with ctl, --ctl); the
    script adds its own options and calls parse_args."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=str(REPO / "build"))
    if ctl:
        ap.add_argument("--ctl", default=None, help="cairnctl (default: BUILDDIR/cairnctl)")
    return ap


def parse_args(ap):
    """Parse the command line and use the build it names."""
    args = ap.parse_args()
    use_build(args.builddir, getattr(args, "ctl", None))
    return args


def use_build(builddir, ctl=None):
    """Run cairnd and cairnctl of builddir (ctl: another cairnctl)."""
    conftest.CAIRND = str(pathlib.Path(builddir) / "cairnd")
    conftest.CAIRNCTL = ctl or str(pathlib.Path(builddir) / "cairnctl")


def require(script, tools, packages):
    """Exit with a message naming the Debian packages when a tool is missing."""
    for tool in tools:
        if shutil.which(tool) is None:
            raise SystemExit(f"{script}: {tool} not found (apt-get install {packages})")


def raise_fd_limit():
    """Allow as many open files as the hard limit (servers started after
    this inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Run:
    """A temporary directory (base) and what runs in it: on exit every
    tracked server is stopped, the last started first, and the directory is
    removed, also when the benchmark failed half-way."""

    def __init__(self, prefix):
        self.base = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
        os.chmod(self.base, 0o755)    # the daemons' users must reach their dirs
        self._tracked = []
        self._cert = None

    def track(self, server):
        """Stop server (anything with stop()) at the end; returns it."""
        self._tracked.append(server)
        return server

    def postgres(self, fsync=True):
        """A throwaway PostgreSQL cluster with an empty database "cairn";
        fsync on (PostgreSQL's default) unless asked otherwise: the
        reference servers fsync too."""
        return self.track(Postgres(self.base / "pg", fsync=fsync))

    def cairnd(self, pg, *extra, name="cairnd"):
        """A configured (not started) cairnd on pg in base/name; extra are
        config sections ({section: {key: value}}) set over the test
        defaults, later ones over earlier ones."""
        if self._cert is None:
            self._cert = make_cert(self.base / "tls")
        config = {}
        for sections in extra:
            for section, values in sections.items():
                config.setdefault(section, {}).update(values)
        return self.track(Cairnd(self.base / name, pg, *self._cert, extra=config))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for server in reversed(self._tracked):
            try:
                server.stop()
            except Exception as e:  # noqa: BLE001 - the rest must still stop
                print(f"benchlib: stopping {type(server).__name__}: {e}", file=sys.stderr)
        shutil.rmtree(self.base, ignore_errors=True)


def cairnctl(d, *args):
    """Run cairnctl on d's config; raises on failure."""
    return subprocess.run([conftest.CAIRNCTL, "-c", str(d.conf), *args], check=True,
                          capture_output=True)


def create_account(d, *users, password=PASSWORD, migrate=True):
    """Migrate d's database (unless migrate is False) and add the users
    (addresses) with password, their domains first."""
    if migrate:
        cairnctl(d, "migrate")
    for domain in dict.fromkeys(u.split("@", 1)[1] for u in users):
        cairnctl(d, "domain", "add", domain)
    for user in users:
        cairnctl(d, "user", "add", user, "--password", password)


def import_mbox(d, user, mbox, mailbox="INBOX"):
    """`cairnctl import` of mbox into user's mailbox; returns the seconds it took."""
    t0 = time.monotonic()
    cairnctl(d, "import", "--user", user, "--mailbox", mailbox, str(mbox))
    return time.monotonic() - t0


def write_mbox(path, messages):
    """Write messages (bytes, CRLF or LF) as an mbox with ">From " quoting;
    returns the total size of the messages."""
    total = 0
    with open(path, "wb") as f:
        for m in messages:
            total += len(m)
            f.write(b"From bench Thu Jan  1 00:00:00 2026\n")
            for line in m.splitlines(keepends=True):
                if line.lstrip(b">").startswith(b"From "):
                    line = b">" + line
                f.write(line)
            f.write(b"\n")
    return total


def plain_messages(n, seed, sizes, jitter, subject, to=CAIRN_USER, dot_lines=0.0):
    """n text/plain messages of WORDS, each of about a size drawn from sizes
    plus up to jitter bytes, from one of 50 senders; subject(i, rng) gives
    the Subject; a dot_lines share of the lines starts with "." (to exercise
    POP3 dot-stuffing). The same seed gives the same messages."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        size = rng.choice(sizes) + rng.randrange(jitter)
        lines = [f"From: Sender {i % 50} <s{i % 50}@example.org>", f"To: {to}",
                 f"Subject: {subject(i, rng)}", f"Message-ID: <{i}@bench>",
                 "Date: Tue, 1 Jul 2003 10:52:37 +0200", ""]
        total = 0
        while total < size:
            line = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 14)))
            if dot_lines and rng.random() < dot_lines:
                line = "." + line
            lines.append(line)
            total += len(line) + 2
        out.append(("\r\n".join(lines) + "\r\n").encode())
    return out


def first_and_best(runs, step):
    """Call step() runs times; returns the seconds of the first call, the
    fewest seconds of any, and what the last call returned."""
    times, result = [], None
    for _ in range(runs):
        t0 = time.monotonic()
        result = step()
        times.append(time.monotonic() - t0)
    return times[0], min(times), result


def conditions(script, **items):
    """Print the conditions of a run, one "conditions:" line per item, so
    that every published figure carries them."""
    print(f"{script}: conditions:", flush=True)
    for k, v in items.items():
        print(f"  {k.replace('_', ' ')}: {v}", flush=True)


def pg_settings(pg):
    """fsync and synchronous_commit of a running Postgres, as it reports them."""
    out = pg.psql("postgres", "SELECT name || '=' || setting FROM pg_settings"
                              " WHERE name IN ('fsync', 'synchronous_commit') ORDER BY name")
    return ", ".join(out.split())


def yescrypt_hash(password):
    """A yescrypt crypt(3) hash of password at libxcrypt's default cost,
    the same setting cairnctl uses ($y$j9T$...), made through libcrypt with
    ctypes (Python's crypt module is gone in 3.13). For the reference
    Dovecot's passwd file as {CRYPT}, so its logins cost what Cairn's cost."""
    import ctypes
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = (ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int)
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
    setting = lib.crypt_gensalt(b"$y$", 0, None, 0)
    out = lib.crypt(password.encode(), setting)
    if not out or not out.startswith(b"$y$"):
        raise RuntimeError("libcrypt could not make a yescrypt hash")
    return out.decode()


def pss_kb(pid):
    """Pss of pid in kB (0 when it has gone): its private memory plus its
    share of what it shares with other processes. Summed over Dovecot's
    processes it counts shared pages once, where a sum of RSS counts them
    once per process."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            m = re.search(r"^Pss:\s+(\d+)", f.read(), re.M)
            return int(m.group(1)) if m else 0
    except OSError:
        return 0


def rss_kb(pid):
    """VmRSS of pid in kB (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(r"VmRSS:\s+(\d+)", f.read())
            return int(m.group(1)) if m else 0
    except OSError:
        return 0


class ImapError(RuntimeError):
    """A tagged NO or BAD."""


class ImapConn:
    """A raw IMAP connection that logs in as user, optionally selects INBOX
    and turns on COMPRESS=DEFLATE (RFC 4978), reads literals, and counts the
    bytes it receives: wire (as sent, compressed or not) and received (after
    decompression)."""

    def __init__(self, port, user, password=PASSWORD, select=False, compress=False, timeout=60):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = bytearray()
        self.pos = 0
        self.z = None
        self.wire = 0
        self.received = 0
        self.n = 0
        self.line()
        self.cmd(f"LOGIN {user} {password}")
        if select:
            self.cmd("SELECT INBOX")
        if compress:
            self.cmd("COMPRESS DEFLATE")
            self.comp = zlib.compressobj(6, zlib.DEFLATED, -15)
            self.z = zlib.decompressobj(-15)
            rest = bytes(self.buf[self.pos:])
            self.buf, self.pos = bytearray(self.z.decompress(rest)), 0

    def send(self, data):
        """Send data as it is (compressed after COMPRESS)."""
        if self.z is not None:
            data = self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH)
        self.s.sendall(data)

    def _fill(self):
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0
        raw = self.s.recv(65536)
        if not raw:
            raise EOFError("connection closed by the server")
        self.wire += len(raw)
        data = self.z.decompress(raw) if self.z is not None else raw
        self.received += len(data)
        self.buf += data

    def line(self):
        """The next line, without its CRLF."""
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                break
            self._fill()
        ln = bytes(self.buf[self.pos:i])
        self.pos = i + 2
        return ln

    def read(self, n):
        """The next n bytes (a literal's contents)."""
        while len(self.buf) - self.pos < n:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return data

    def cmd(self, command):
        """Send command (str or bytes, without tag and final CRLF) and read
        up to its tagged OK; returns the lines and literals before it.
        Raises ImapError on NO or BAD."""
        self.n += 1
        tag = b"b%d" % self.n
        if isinstance(command, str):
            command = command.encode()
        self.send(tag + b" " + command + b"\r\n")
        out = []
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                if not ln.startswith(tag + b" OK"):
                    raise ImapError(f"{command[:80]!r}: {ln!r}")
                return out
            out.append(ln)
            m = re.search(rb"\{(\d+)\}$", ln)
            if m:
                out.append(self.read(int(m.group(1))))

    def append(self, mailbox, message):
        """APPEND message to mailbox with a non-synchronising literal."""
        return self.cmd(f"APPEND {mailbox} {{{len(message)}+}}\r\n".encode() + message)

    def close(self, logout=True):
        """LOGOUT (unless logout is False) and close."""
        if logout:
            try:
                self.cmd("LOGOUT")
            except (EOFError, ImapError, OSError):
                pass
        self.s.close()
