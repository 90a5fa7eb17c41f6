"""Helpers of the content-check tests (test_scan_content*.py): clamd and
spamd from Debian started on loopback with what the tests need, scanners
that hang or are down, SMTP sending that reports the reply, and the test
files (EICAR plain, zipped, base64 inside multipart; GTUBE)."""
import base64
import hashlib
import io
import os
import pathlib
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
import zipfile

from conftest import CAIRNCTL, free_port

# The EICAR anti-virus test file (https://www.eicar.org/download-anti-malware-testfile/),
# assembled so that this source file is not itself the test file.
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
# A body pattern the test's .ndb signature matches (no real virus has it).
BODY_PATTERN = b"CAIRN-TEST-VIRUS-BODY-PATTERN-5d1f"
PASSWORD = "scan-secret-1"


def wait_for(cond, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def can_connect(addr):
    try:
        if isinstance(addr, str):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(0.5)
        s.connect(addr)
        s.close()
        return True
    except OSError:
        return False


def chown_to_daemon(path):
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("cairn")
        except KeyError:
            return
        os.chown(path, pw.pw_uid, pw.pw_gid)


class Clamd:
    """clamd with a database the test writes: the MD5 of EICAR (.hdb) and a
    body pattern (.ndb), on a unix socket and a loopback TCP port."""

    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="clamd-"))
        os.chmod(self.dir, 0o755)
        db = self.dir / "db"
        db.mkdir()
        md5 = hashlib.md5(EICAR).hexdigest()
        (db / "cairn-test.hdb").write_text(f"{md5}:{len(EICAR)}:Cairn.Test.EICAR\n")
        # body patterns (any file type, any offset): the EICAR string as a
        # line of text inside a message (with its CRLF, so the exact file in
        # a zip or an attachment is left to the MD5 signature), and a
        # pattern no real file has
        eicar_line = (EICAR + b"\r\n").hex()
        (db / "cairn-test.ndb").write_text(
            f"Cairn.Test.EICAR-Text:0:*:{eicar_line}\n"
            f"Cairn.Test.BodyPattern:0:*:{BODY_PATTERN.hex()}\n")
        self.socket = str(self.dir / "clamd.sock")
        self.port = free_port()
        conf = self.dir / "clamd.conf"
        user = "root" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        conf.write_text(
            f"LocalSocket {self.socket}\nLocalSocketMode 666\nTCPSocket {self.port}\n"
            f"TCPAddr 127.0.0.1\nDatabaseDirectory {db}\nForeground yes\nUser {user}\n"
            f"LogFile {self.dir}/clamd.log\nLogTime yes\nMaxThreads 4\n"
            f"TemporaryDirectory {self.dir}\nStreamMaxLength 10M\n")
        self.proc = subprocess.Popen(["/usr/sbin/clamd", "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: self.proc.poll() is not None or (
                can_connect(self.socket) and can_connect(("127.0.0.1", self.port))),
                timeout=60, what="clamd to listen")
        except AssertionError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            log = (self.dir / "clamd.log").read_text(errors="replace")
            self.stop()
            raise AssertionError(f"clamd exited: {log[-2000:]}")

    @property
    def tcp(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Spamd:
    """spamd on a loopback port with Debian's installed rules and plugins,
    no network tests (-L), no Bayes or auto-learning, no user configs."""

    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="spamd-"))
        os.chmod(self.dir, 0o755)
        site = self.dir / "site"
        site.mkdir()
        for pre in pathlib.Path("/etc/spamassassin").glob("*.pre"):
            shutil.copy(pre, site / pre.name)
        (site / "local.cf").write_text("use_bayes 0\nbayes_auto_learn 0\nrequired_score 5.0\n"
                                       "use_auto_whitelist 0\n")
        self.port = free_port()
        args = ["/usr/sbin/spamd", "-L", "--listen", f"127.0.0.1:{self.port}",
                "--allowed-ips", "127.0.0.1", "--siteconfigpath", str(site), "-x",
                "--max-children", "2", "--min-children", "1", "--syslog", "stderr",
                "--pidfile", str(self.dir / "spamd.pid")]
        if os.geteuid() == 0:
            args += ["--username", "nobody", "--helper-home-dir", str(self.dir)]
        self.log = self.dir / "spamd.log"
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: self.proc.poll() is not None or self.ready(), timeout=120,
                     what="spamd to answer PING")
        except AssertionError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            log = self.log.read_text(errors="replace")
            self.stop()
            raise AssertionError(f"spamd exited: {log[-2000:]}")

    def ready(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(b"PING SPAMC/1.5\r\n\r\n")
                return s.recv(100).startswith(b"SPAMD/")
        except OSError:
            return False

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def score(self, raw):
        """spamd's own score for raw (through spamc), for comparisons."""
        r = subprocess.run(["spamc", "-d", "127.0.0.1", "-p", str(self.port), "-c"],
                           input=raw, capture_output=True, timeout=60)
        return float(r.stdout.decode().split("/")[0])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class HangingServer:
    """Accepts connections, reads what it is sent, and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.accepted = 0
        self.stopping = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(c)
            threading.Thread(target=self.drain, args=(c,), daemon=True).start()

    def drain(self, c):
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass

    def stop(self):
        self.stopping = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def down_addr():
    """A loopback port where nothing listens."""
    return f"127.0.0.1:{free_port()}"


def ctl(d, *args):
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


def start(cairnd_factory, pg, extra):
    """A fresh database, a started cairnd and the users ann and bob."""
    pg.reset_db()
    d = cairnd_factory(extra, start=False, migrate=False)
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), "migrate"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"migrate: {r.stdout}{r.stderr}"
    d.start()
    ctl(d, "domain", "add", "local.test")
    for u in ("ann", "bob"):
        ctl(d, "user", "add", f"{u}@local.test", "--password", PASSWORD)
    return d


def send(d, raw, rcpt="ann@local.test", sender="sender@remote.test"):
    """Send raw over SMTP to d's MX listener. Returns (code, message) of the
    reply to the end of data (250 when accepted)."""
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=120) as s:
        s.ehlo("client.remote.test")
        code, msg = s.mail(sender)
        assert code == 250, (code, msg)
        code, msg = s.rcpt(rcpt)
        assert code == 250, (code, msg)
        code, msg = s.data(raw)
        return code, msg.decode(errors="replace")


def mailbox(d, user, name="INBOX"):
    """Raw stored messages of user's mailbox, in uid order."""
    out = d.pg.psql("cairn", "SELECT encode(b.raw, 'hex') FROM mailbox_messages mm"
                             " JOIN mailboxes m ON m.id = mm.mailbox_id"
                             " JOIN accounts a ON a.id = m.account_id"
                             " JOIN domains dm ON dm.id = a.domain_id"
                             " JOIN message_blobs b ON b.id = mm.blob_id"
                             f" WHERE a.localpart || '@' || dm.name = '{user}'"
                             f" AND m.name = '{name}' ORDER BY mm.uid")
    return [bytes.fromhex(x) for x in out.split()]


def message(subject, body, extra_headers=b"", msgid=None):
    msgid = msgid or f"<{time.monotonic_ns()}@remote.test>".encode()
    return (b"From: Sender <sender@remote.test>\r\nTo: ann@local.test\r\n"
            b"Subject: " + subject.encode() + b"\r\n"
            b"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-Id: " + msgid + b"\r\n" +
            extra_headers + b"\r\n" + body)


def eicar_plain():
    return message("plain attachment", EICAR + b"\r\n")


def eicar_zip():
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("eicar.com", EICAR)
    return multipart_with(z.getvalue(), "application/zip", "eicar.zip")


def eicar_base64_multipart():
    return multipart_with(EICAR, "application/octet-stream", "eicar.com")


def multipart_with(data, ctype, filename):
    b64 = base64.encodebytes(data).replace(b"\n", b"\r\n")
    body = (b"--bnd\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n"
            b"--bnd\r\nContent-Type: " + ctype.encode() + b"\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=\"" + filename.encode() + b"\"\r\n\r\n" +
            b64 + b"--bnd--\r\n")
    return message("attachment " + filename, body,
                   b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"bnd\"\r\n")


def ham(n=0):
    return message(f"minutes of meeting {n}",
                   f"Hello Ann,\r\n\r\nhere are the notes of meeting {n}; the next one is on "
                   f"Thursday.\r\n\r\nRegards,\r\nSam\r\n".encode())


def log_has(d, text):
    return text in d.log_text()


def rules_dir_config(local_dir):
    """[rules] pointing at the source tree's rules/ and a local directory."""
    from conftest import TOP
    return {"dir": str(TOP / "rules"), "local_dir": str(local_dir)}


# ---- a generated ham/spam corpus (deterministic) ----

SPAM_WORDS = ("viagra pharmacy discount offer winner prize cash bonus casino lottery credit "
              "refinance mortgage guaranteed investment crypto profit unclaimed inheritance "
              "urgent beneficiary bitcoin exclusive deal unsubscribe limited click million "
              "replica watches weight loss pills enlargement singles dating").split()
HAM_WORDS = ("meeting agenda minutes project schedule report review budget quarter team "
             "deadline draft attached document thanks regards lunch tomorrow thursday "
             "release build test branch merge issue customer invoice contract office "
             "kernel database migration backup server holiday family weekend").split()
COMMON = "the and for with this that you your have are will from about please".split()


def corpus_message(rng, spam, i):
    words = SPAM_WORDS if spam else HAM_WORDS
    body = []
    for _ in range(6):
        line = [rng.choice(words if rng.random() < 0.6 else COMMON) for _ in range(12)]
        body.append(" ".join(line))
    subj = " ".join(rng.choice(words) for _ in range(4))
    sender = (f"promo{i}@deals{rng.randint(1, 9)}.example" if spam
              else f"colleague{i % 7}@partner.example")
    return (f"From: {sender}\r\nTo: ann@local.test\r\nSubject: {subj}\r\n"
            f"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n"
            f"Message-Id: <{'s' if spam else 'h'}{i}.{rng.random()}@corpus.example>\r\n\r\n" +
            "\r\n".join(body) + "\r\n").encode()


def corpus(n, seed=14):
    """n spam and n ham messages."""
    import random
    rng = random.Random(seed)
    return ([corpus_message(rng, True, i) for i in range(n)],
            [corpus_message(rng, False, i) for i in range(n)])


def write_mbox(path, messages):
    with open(path, "wb") as f:
        for m in messages:
            f.write(b"From corpus@example Mon Dec  7 10:00:00 2026\n")
            for line in m.replace(b"\r\n", b"\n").split(b"\n")[:-1]:
                if line.lstrip(b">").startswith(b"From "):
                    line = b">" + line
                f.write(line + b"\n")
            f.write(b"\n")


def write_maildir(path, messages):
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    for i, m in enumerate(messages):
        (path / "cur" / f"{i}.corpus:2,S").write_bytes(m)
