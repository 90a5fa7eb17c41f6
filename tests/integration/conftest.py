"""Fixtures for Cairn's integration tests: a private PostgreSQL cluster and a
cairnd on free loopback ports with a generated config and certificate.

Everything runs for real: PostgreSQL from Debian (as the postgres user, since
initdb refuses root), cairnd and cairnctl from the build tree (CAIRND and
CAIRNCTL, set by ./bootstrap test). When a test fails, the daemon's log is
printed with the failure report.
"""
import fnmatch
import os
import pathlib
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import pytest

from ports import free_port, free_ports  # noqa: F401 (the tests import them from here)

TOP = pathlib.Path(os.environ.get("CAIRN_TOP", pathlib.Path(__file__).resolve().parents[2]))
BUILD = TOP / "build"
CAIRND = os.environ.get("CAIRND", str(BUILD / "cairnd"))
CAIRNCTL = os.environ.get("CAIRNCTL", str(BUILD / "cairnctl"))
DAEMON_USER = "cairn"


def pg_bindir():
    versions = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name))
    if not versions:
        pytest.exit("PostgreSQL server binaries not found under /usr/lib/postgresql", 1)
    return versions[-1]


# free_port/free_ports: ports.py (below the ephemeral range).


def as_postgres(args, **kw):
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--"] + [str(a) for a in args]
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


class Postgres:
    """A throwaway cluster reachable on a unix socket in its own directory."""

    def __init__(self, base, fsync=False):
        """fsync off by default: tests need no durability across a power
        cut and run faster; benchmarks ask for fsync=True (PostgreSQL's
        default), as the servers they are compared with fsync."""
        self.base = pathlib.Path(base)
        self.fsync = fsync
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.port = free_port()
        self.log = self.base / "postgresql.log"
        self.bindir = pg_bindir()
        for d in (self.base, self.sock):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)
            if os.geteuid() == 0:
                shutil.chown(d, "postgres", "postgres")
        as_postgres([self.bindir / "initdb", "-D", self.data, "-U", "postgres",
                     "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"])
        with open(self.data / "postgresql.conf", "a") as f:
            f.write(f"listen_addresses = ''\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.sock}'\n"
                    f"fsync = {'on' if fsync else 'off'}\nsynchronous_commit = on\n")
        self.start()
        self.psql("postgres", "CREATE DATABASE cairn")

    @property
    def conninfo(self):
        return f"host={self.sock} port={self.port} dbname=cairn user=postgres"

    def start(self):
        as_postgres([self.bindir / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60",
                     "start"])

    def stop(self):
        as_postgres([self.bindir / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"])

    def psql(self, db, sql):
        return subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                               "-h", str(self.sock), "-p", str(self.port), "-U", "postgres",
                               "-d", db, "-c", sql],
                              check=True, capture_output=True, text=True).stdout

    def reset_db(self):
        # A daemon of the previous test may still be closing its connections
        # (FORCE ends them, but a reconnect can race): retry briefly.
        for attempt in range(20):
            try:
                self.psql("postgres", "DROP DATABASE IF EXISTS cairn WITH (FORCE)")
                self.psql("postgres", "CREATE DATABASE cairn")
                return
            except subprocess.CalledProcessError as e:
                if attempt == 19:
                    raise AssertionError(f"cannot reset the test database: {e.stderr}")
                time.sleep(0.25)


@pytest.fixture(scope="session")
def pg(tmp_path_factory):
    base = tempfile.mkdtemp(prefix="cairn-pg-")
    cluster = Postgres(base)
    yield cluster
    try:
        cluster.stop()
    except subprocess.CalledProcessError:
        pass
    shutil.rmtree(base, ignore_errors=True)


def make_cert(directory, cn="localhost"):
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={cn}", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    return make_cert(tmp_path_factory.mktemp("tls"))


class Cairnd:
    """A running cairnd with its own config file and log."""

    def __init__(self, workdir, pg, cert, key, extra=None):
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.pg = pg
        (self.http_port, self.https_port, self.pop3_port, self.pop3s_port, self.imap_port,
         self.imaps_port, self.smtp_port, self.lmtp_port, self.submission_port,
         self.submissions_port, self.managesieve_port) = free_ports(11)
        self.conf = self.dir / "cairn.conf"
        self.log = self.dir / "cairnd.log"
        self.pid_file = self.dir / "cairnd.pid"
        # The daemon re-reads the certificate on SIGHUP after dropping root.
        self.cert = self.dir / "cert.pem"
        self.key = self.dir / "key.pem"
        shutil.copy(cert, self.cert)
        shutil.copy(key, self.key)
        user = DAEMON_USER if os.geteuid() == 0 else ""
        if user:
            for p in (self.cert, self.key, self.dir):
                shutil.chown(p, user)
        sections = {
            "server": {"user": user, "pid_file": str(self.pid_file), "workers": "2",
                       "log_level": "debug", "shutdown_timeout": "5s"},
            "tls": {"cert_file": str(self.cert), "key_file": str(self.key)},
            "store": {"conninfo": pg.conninfo, "migrations_dir": str(TOP / "migrations"),
                      "reconnect_interval": "200ms", "connect_timeout": "2s"},
            "http": {"listen": f"127.0.0.1:{self.http_port}",
                     "listen_tls": f"127.0.0.1:{self.https_port}"},
            "pop3": {"listen": f"127.0.0.1:{self.pop3_port}",
                     "listen_tls": f"127.0.0.1:{self.pop3s_port}"},
            "imap": {"listen": f"127.0.0.1:{self.imap_port}",
                     "listen_tls": f"127.0.0.1:{self.imaps_port}"},
            "smtp": {"listen": f"127.0.0.1:{self.smtp_port}",
                     "lmtp_listen": f"127.0.0.1:{self.lmtp_port}"},
            "submission": {"listen": f"127.0.0.1:{self.submission_port}",
                           "listen_tls": f"127.0.0.1:{self.submissions_port}"},
            "managesieve": {"listen": f"127.0.0.1:{self.managesieve_port}"},
            # No outbound delivery unless a test asks for it (test_queue.py):
            # queued rows stay as the gateway wrote them, and no test daemon
            # looks up MX records of test domains in the real DNS.
            "queue": {"runners": "0"},
            # The scan stage adds headers and looks up DNS: off unless a
            # test (test_scan*.py) turns it on.
            "scan": {"smtp": "no", "lmtp": "no"},
        }
        for section, values in (extra or {}).items():
            sections.setdefault(section, {}).update(values)
        with open(self.conf, "w") as f:
            for section, values in sections.items():
                f.write(f"[{section}]\n")
                for k, v in values.items():
                    f.write(f"{k} = {v}\n")
        self.proc = None

    def start(self, wait=True):
        self.logf = open(self.log, "ab")
        # Readiness is judged on what this run logs, not an earlier run's lines.
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        self.proc = subprocess.Popen([CAIRND, "-c", str(self.conf)], stdout=self.logf,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"cairnd exited with {self.proc.returncode}:\n{self.log_text()}")
            if "event=ready" in self.log_text()[self.log_offset:]:
                return
            time.sleep(0.05)
        raise AssertionError(f"cairnd not ready after {timeout}s:\n{self.log_text()}")

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def pid(self):
        return self.proc.pid

    def url(self, path):
        return f"http://127.0.0.1:{self.http_port}{path}"

    def get(self, path, timeout=10):
        """GET path; returns (status, headers, body bytes) without raising on 4xx/5xx."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"cairnd did not exit {timeout}s after SIGTERM")
        finally:
            self.logf.close()


# ---- skips that hide ----
# With CAIRN_STRICT_SKIPS=<allow-list> (./bootstrap test sets it), every skip
# and xfail must match an entry of the allow-list: "nodeid-glob | reason-glob
# | why this skip is acceptable". Anything else fails the run: a test that
# silently skips proves nothing.

def _load_allowed_skips(path):
    entries = []
    for n, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [x.strip() for x in line.split(" | ")]
        if len(parts) != 3 or not all(parts):
            raise pytest.UsageError(f"{path}:{n}: want 'nodeid-glob | reason-glob | why'")
        entries.append(tuple(parts))
    return entries


_strict_skips = {"entries": None, "unlisted": []}


def _skip_reason(report):
    if hasattr(report, "wasxfail"):
        return f"xfail: {report.wasxfail}"
    lr = report.longrepr
    if isinstance(lr, tuple) and len(lr) == 3:
        return str(lr[2]).removeprefix("Skipped: ")
    return str(lr)


def _check_skip(report):
    path = os.environ.get("CAIRN_STRICT_SKIPS")
    if not path or not report.skipped:
        return
    if _strict_skips["entries"] is None:
        _strict_skips["entries"] = _load_allowed_skips(path)
    reason = _skip_reason(report)
    for node_glob, reason_glob, _why in _strict_skips["entries"]:
        if fnmatch.fnmatchcase(report.nodeid, node_glob) and \
                fnmatch.fnmatchcase(reason, reason_glob):
            return
    _strict_skips["unlisted"].append((report.nodeid, reason))


def pytest_runtest_logreport(report):
    _check_skip(report)


def pytest_collectreport(report):
    _check_skip(report)


def pytest_terminal_summary(terminalreporter):
    for nodeid, reason in _strict_skips["unlisted"]:
        terminalreporter.write_line(f"UNLISTED SKIP {nodeid}: {reason}")
    if _strict_skips["unlisted"]:
        terminalreporter.write_line(
            f"{len(_strict_skips['unlisted'])} skip(s) not in "
            f"{os.environ.get('CAIRN_STRICT_SKIPS')}: fix the cause or list it with its reason")


def pytest_sessionfinish(session, exitstatus):
    if _strict_skips["unlisted"] and session.exitstatus == 0:
        session.exitstatus = 1


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _migrate(pg, conf):
    subprocess.run([CAIRNCTL, "-c", str(conf), "migrate"], check=True, capture_output=True,
                   text=True)


@pytest.fixture
def cairnd_factory(pg, tls_files, request):
    """Start cairnd instances with extra config: cairnd_factory({"http": {...}})."""
    started = []
    # Not under pytest's 0700 tmp_path: the daemon reads its certificate
    # again on SIGHUP after dropping to the unprivileged user.
    base = pathlib.Path(tempfile.mkdtemp(prefix="cairnd-"))
    os.chmod(base, 0o755)

    def make(extra=None, start=True, migrate=True):
        d = Cairnd(base / f"cairnd{len(started)}", pg, *tls_files, extra=extra)
        if migrate:
            _migrate(pg, d.conf)
        started.append(d)
        if start:
            d.start()
        return d

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    problems = []
    for d in started:
        if d.proc is not None and d.proc.poll() is None:
            code = d.stop()
            if code != 0:
                problems.append(f"cairnd exited with {code} after SIGTERM")
        log = d.log_text()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "panic"):
            if marker in log:
                problems.append(f"cairnd log contains {marker!r}")
        if failed or problems:
            print(f"\n----- cairnd log ({d.log}) -----\n{log[-20000:]}")
    shutil.rmtree(base, ignore_errors=True)
    assert not problems, "; ".join(problems)


@pytest.fixture
def cairnd(cairnd_factory):
    return cairnd_factory()


def daemon_uid():
    try:
        return pwd.getpwnam(DAEMON_USER).pw_uid
    except KeyError:
        return None
