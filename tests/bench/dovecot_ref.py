"""A private Dovecot (Debian's dovecot-imapd / dovecot-pop3d) used as the
reference server by the benchmarks and comparison scripts in tests/bench/.

Each instance lives in its own directory (config, Maildir, passwd file, run
and state dirs, log), listens on free loopback ports, and is stopped with
doveadm. The mail is a Maildir owned by the user "mail" (Dovecot refuses
mail access as root), so the scripts that use it run as root.

    ref = DovecotRef(base / "dovecot", user="bench", password="pw")
    ref.load(messages)                       # INBOX
    ref.load(more, folder="Big", flags="S")  # another folder
    ref.start()
    ... imaplib.IMAP4(ref.host, ref.port); login(ref.user, ref.password) ...
    ref.stop()

It is also a context manager (start on enter, stop on exit). Default
settings only, apart from what is needed to run unprivileged on loopback:
no FTS plugin unless fts="xapian" (Debian's dovecot-fts-xapian), no tuning
unless many_clients=True asks for the process and client limits a load test
needs. The password is checked as Cairn checks its own: a {CRYPT} yescrypt
hash at libxcrypt's default cost (pwhash, or one made here), never {PLAIN}.
Dovecot keeps its defaults for durability (fsync_mode = always, Maildir
files written and renamed), as Cairn's PostgreSQL keeps fsync on.
describe() says all that in one line for the benchmark's conditions.
"""
import pathlib
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "integration"))
from conftest import free_port  # noqa: E402
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchlib import yescrypt_hash  # noqa: E402


class DovecotRef:
    """One private Dovecot instance: root is its directory (created), user and
    password the one account; pwhash, if given, is a crypt(3) hash used
    instead of the password in the passwd file (so logins cost what Cairn's
    cost); protocols is a tuple of "imap"/"pop3"; settings are extra
    top-level "key = value" lines."""

    host = "127.0.0.1"

    def __init__(self, root, user="bench", password="bench-pw-1", pwhash=None,
                 protocols=("imap",), settings=None, many_clients=False, fts=None):
        self.root = pathlib.Path(root)
        self.user = user
        self.password = password
        self.pwhash = pwhash or yescrypt_hash(password)
        self.fts = fts
        self.protocols = tuple(protocols)
        self.settings = dict(settings or {})
        self.many_clients = many_clients
        self.conf = self.root / "dovecot.conf"
        self.log_path = self.root / "dovecot.log"
        self.ports = {}
        self.port = None
        self.pid = None
        self._started = False
        self._count = {}
        for sub in ("cur", "new", "tmp"):
            (self.maildir() / sub).mkdir(parents=True, exist_ok=True)

    def maildir(self, folder=""):
        """The Maildir++ directory of folder ("" or "INBOX" is the inbox)."""
        base = self.root / "mail" / self.user
        if folder in ("", "INBOX"):
            return base
        return base / ("." + folder)

    def _next_name(self, folder, flags):
        # Names sort in the order of loading (same-width numbers), which is
        # the order Dovecot gives UIDs in; "S" etc. are Maildir flag letters.
        d = self.maildir(folder)
        if not (d / "cur").is_dir():
            for sub in ("cur", "new", "tmp"):
                (d / sub).mkdir(parents=True, exist_ok=True)
        i = self._count.get(folder, 0)
        self._count[folder] = i + 1
        return d / "cur" / f"{1700000000 + i}.M{i}P1.ref:2,{flags}"

    def add(self, data, folder="", flags=""):
        """Write one message (bytes) into folder with the given flag letters."""
        self._next_name(folder, flags).write_bytes(data)

    def load(self, messages, folder="", flags=""):
        """Write a list of messages (bytes); flags is a string of Maildir flag
        letters or a function of the message's index returning one."""
        for i, m in enumerate(messages):
            self.add(m, folder, flags(i) if callable(flags) else flags)

    def load_files(self, paths, folder="", flags=""):
        """Copy message files, in the given order, into folder."""
        for p in paths:
            shutil.copy(p, self._next_name(folder, flags))

    def subscribe(self, *folders):
        (self.maildir() / "subscriptions").write_text("".join(f + "\n" for f in folders))

    def _config(self):
        root = self.root
        lines = [f"protocols = {' '.join(self.protocols)}",
                 "listen = 127.0.0.1",
                 f"base_dir = {root}/run",
                 f"state_dir = {root}/state",
                 f"log_path = {self.log_path}",
                 "ssl = no",
                 "first_valid_uid = 1",
                 "disable_plaintext_auth = no",
                 "auth_mechanisms = plain login",
                 f"mail_location = maildir:{root}/mail/%u"]
        if self.many_clients:
            lines += ["default_process_limit = 20000", "default_client_limit = 30000",
                      "default_vsz_limit = 0"]
        if self.fts == "xapian":
            lines += ["mail_plugins = $mail_plugins fts fts_xapian"]
        elif self.fts is not None:
            raise ValueError(f"unknown fts {self.fts!r}")
        lines += [f"{k} = {v}" for k, v in self.settings.items()]
        text = "\n".join(lines) + f"""
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={root}/mail/%u
}}
"""
        if self.fts == "xapian":
            # As fts-xapian's README configures it; the index is built by
            # index_fts() before a measurement (or on the first SEARCH).
            text += ("plugin {\n  fts = xapian\n  fts_xapian = partial=3 full=20\n"
                     "  fts_autoindex = yes\n  fts_enforced = yes\n}\n")
        for proto in self.protocols:
            secure = {"imap": "imaps", "pop3": "pop3s"}[proto]
            tuning = ""
            if self.many_clients:
                tuning = "  service_count = 0\n  process_min_avail = 2\n  client_limit = 20000\n"
            text += f"""service {proto}-login {{
  inet_listener {proto} {{
    port = {self.ports[proto]}
  }}
  inet_listener {secure} {{
    port = 0
  }}
{tuning}}}
"""
            if self.many_clients:
                text += f"service {proto} {{\n  process_limit = 20000\n}}\n"
                if proto == "imap":
                    text += "protocol imap {\n  mail_max_userip_connections = 30000\n}\n"
        if self.many_clients:
            text += ("service anvil {\n  client_limit = 50000\n}\n"
                     "service auth {\n  client_limit = 50000\n}\n")
        return text

    def start(self):
        """Write the config and passwd file, start Dovecot, wait until every
        listener accepts. Sets port (the first protocol's), ports, pid, conf."""
        if shutil.which("dovecot") is None:
            raise SystemExit("dovecot not found (apt-get install dovecot-imapd dovecot-pop3d)")
        self.ports = {p: free_port() for p in self.protocols}
        self.port = self.ports[self.protocols[0]]
        subprocess.run(["chown", "-R", "mail:mail", str(self.root / "mail")], check=True)
        secret = f"{{CRYPT}}{self.pwhash}"
        (self.root / "passwd").write_text(f"{self.user}:{secret}::::::\n")
        self.conf.write_text(self._config())
        subprocess.run(["dovecot", "-c", str(self.conf)], check=True)
        self._started = True
        pidfile = self.root / "run" / "master.pid"
        deadline = time.monotonic() + 60
        waiting = list(self.ports.values())
        while waiting or not pidfile.exists() or not pidfile.read_text().strip().isdigit():
            if time.monotonic() > deadline:
                log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
                raise RuntimeError(f"dovecot did not start within 60 s:\n{log[-3000:]}")
            try:
                if waiting:
                    socket.create_connection((self.host, waiting[0]), timeout=1).close()
                    waiting.pop(0)
                    continue
            except OSError:
                pass
            time.sleep(0.1)
        self.pid = int(pidfile.read_text())
        return self

    def describe(self):
        """The conditions of this instance, for a benchmark's printout."""
        scheme = self.pwhash.split("$")[1] if self.pwhash.startswith("$") else "?"
        fts = {"xapian": "fts_xapian (partial=3 full=20)"}.get(self.fts, "no FTS plugin")
        return (f"Dovecot {self.version()}, Maildir, default fsync_mode (always), "
                f"passwd-file {{CRYPT}} ${scheme}$ hashes, {fts}")

    @staticmethod
    def version():
        r = subprocess.run(["dovecot", "--version"], capture_output=True, text=True)
        return r.stdout.strip() or "?"

    def index_fts(self, folder="INBOX"):
        """Build the FTS index of folder now (doveadm index), so that a
        measurement does not include it; returns the seconds it took."""
        t0 = time.monotonic()
        subprocess.run(["doveadm", "-c", str(self.conf), "index", "-u", self.user, folder],
                       check=True, capture_output=True)
        return time.monotonic() - t0

    def stop(self):
        """Stop the instance (idempotent); the directory stays for the caller to remove."""
        if self._started:
            subprocess.run(["doveadm", "-c", str(self.conf), "stop"], capture_output=True)
            self._started = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
