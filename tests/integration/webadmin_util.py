"""Helpers for the web admin tests: a database of their own with users in
three roles, cairn-admin.cgi run directly as CGI (environment and stdin,
RFC 3875), and lighttpd serving it on a free loopback port.

CAIRN_ADMIN_CGI names the binary; by default it sits next to $CAIRND.
"""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import uuid

from conftest import CAIRNCTL, CAIRND, TOP, free_port

CGI = os.environ.get("CAIRN_ADMIN_CGI",
                     str(pathlib.Path(CAIRND).resolve().parent / "cairn-admin.cgi"))
TEMPLATES = TOP / "webadmin" / "templates"
LIGHTTPD = "/usr/sbin/lighttpd"

ADMIN = ("admin@example.test", "admin-password-1")
DOMADMIN = ("boss@corp.test", "boss-password-1")
USER = ("ann@corp.test", "ann-password-1")
OTHER = ("zed@example.test", "zed-password-1")


_templates = {}


class Site:
    """One database, config and set of accounts for the web admin."""

    def __init__(self, pg, workdir):
        self.pg = pg
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.db = "wa_" + uuid.uuid4().hex[:12]
        # The first site of a session is set up for real (migrate, accounts);
        # later ones are copies of it (CREATE DATABASE ... TEMPLATE), which
        # takes a fraction of the time.
        template = _templates.get(id(pg))
        pg.psql("postgres", f"CREATE DATABASE {self.db}"
                + (f" TEMPLATE {template}" if template else ""))
        self.conninfo = f"host={pg.sock} port={pg.port} dbname={self.db} user=postgres"
        self.conf = self.dir / "cairn.conf"
        self.conf.write_text(
            "[store]\n"
            f"conninfo = {self.conninfo}\n"
            f"migrations_dir = {TOP / 'migrations'}\n"
            "[webadmin]\n"
            f"templates = {TEMPLATES}\n"
            "page_size = 5\n")
        os.chmod(self.conf, 0o644)
        if template:
            return
        self.ctl("migrate")
        for d in ("example.test", "corp.test", "other.test"):
            self.ctl("domain", "add", d)
        for addr, pw in (ADMIN, DOMADMIN, USER, OTHER):
            self.ctl("user", "add", addr, "--password", pw, "--name", addr.split("@")[0].title())
        self.ctl("user", "set", ADMIN[0], "--admin", "yes")
        self.sql(f"INSERT INTO domain_admins SELECT a.id, d.id FROM accounts a, domains d"
                 f" WHERE a.address = '{DOMADMIN[0]}' AND d.name = 'corp.test'")
        template = "wa_template_" + uuid.uuid4().hex[:8]
        pg.psql("postgres", f"CREATE DATABASE {template} TEMPLATE {self.db}")
        _templates[id(pg)] = template

    def ctl(self, *args):
        r = subprocess.run([CAIRNCTL, "-c", str(self.conf), *args], capture_output=True,
                           text=True, input="", timeout=60)
        assert r.returncode == 0, (args, r.stderr)
        return r.stdout

    def sql(self, query):
        r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d",
                               self.conninfo, "-c", query],
                              capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def drop(self):
        self.pg.psql("postgres", f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")


class Response:
    def __init__(self, raw):
        head, _, body = raw.partition(b"\r\n\r\n")
        self.headers = {}
        self.cookies = []
        for line in head.decode("latin-1").split("\r\n"):
            k, _, v = line.partition(":")
            k, v = k.strip().lower(), v.strip()
            if k == "set-cookie":
                self.cookies.append(v)
            self.headers[k] = v
        self.status = int(self.headers.get("status", "200").split()[0])
        self.body = body.decode("utf-8")

    def cookie(self, name):
        for c in self.cookies:
            k, _, rest = c.partition("=")
            if k == name:
                return rest.split(";")[0]
        return None

    def csrf(self):
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', self.body)
        return m.group(1) if m else None


def cgi(site, method="GET", path="/", query="", form=None, cookies=None, headers=None,
        body=None, content_type="application/x-www-form-urlencoded", env_extra=None):
    """Run cairn-admin.cgi once as a web server would."""
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
    env = {
        "PATH": "/usr/bin:/bin",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "/cairn-admin.cgi",
        "PATH_INFO": path,
        "REQUEST_URI": "/cairn-admin.cgi" + path + ("?" + query if query else ""),
        "QUERY_STRING": query,
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "admin.test",
        "CAIRN_CONF": str(site.conf),
        "ASAN_OPTIONS": "detect_leaks=1",
    }
    if body is not None:
        env["CONTENT_LENGTH"] = str(len(body))
        env["CONTENT_TYPE"] = content_type
    if method == "POST":
        env.setdefault("HTTP_ORIGIN", "http://admin.test")
    if cookies:
        env["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    for k, v in (headers or {}).items():
        env["HTTP_" + k.upper().replace("-", "_")] = v
    env.update(env_extra or {})
    for k in [k for k, v in env.items() if v is None]:
        del env[k]
    r = subprocess.run([CGI], input=body or b"", env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    for marker in (b"AddressSanitizer", b"LeakSanitizer", b"runtime error:"):
        assert marker not in r.stderr, r.stderr.decode(errors="replace")
    return Response(r.stdout)


def login(site, who):
    """Log in through the form; returns the session cookies."""
    r = cgi(site, path="/login")
    pre = r.cookie("cairn_pre")
    tok = re.search(r'name="login_token" value="([0-9a-f]+)"', r.body).group(1)
    r = cgi(site, "POST", "/login", form={"login_token": tok, "user": who[0], "password": who[1]},
            cookies={"cairn_pre": pre})
    assert r.status == 303, r.body
    sid = r.cookie("cairn_sid")
    assert sid and len(sid) == 32
    return {"cairn_sid": sid}


class Lighttpd:
    """lighttpd on a free loopback port running cairn-admin.cgi for every path:
    as CGI (mod_cgi), or with fastcgi=True as one long-lived FastCGI process
    that lighttpd spawns (mod_fastcgi, the libfcgi path of the binary)."""

    def __init__(self, site, workdir, fastcgi=False):
        self.dir = pathlib.Path(workdir)
        root = self.dir / "root"
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy(CGI, root / "cairn-admin.cgi")
        self.port = free_port()
        self.conf = self.dir / "lighttpd.conf"
        self.log = self.dir / "error.log"
        user = "server.username = \"cairn\"\nserver.groupname = \"cairn\"\n" \
            if os.geteuid() == 0 else ""
        if fastcgi:
            sockdir = self.dir / "sock"
            sockdir.mkdir(exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(sockdir, "cairn", "cairn")
            handler = f"""fastcgi.server = ("/cairn-admin.cgi" => ((
    "socket" => "{sockdir}/fcgi.sock", "bin-path" => "{root}/cairn-admin.cgi",
    "max-procs" => 1, "check-local" => "disable",
    "bin-environment" => ("CAIRN_CONF" => "{site.conf}", "ASAN_OPTIONS" => "detect_leaks=0"))))
"""
        else:
            handler = 'cgi.assign = (".cgi" => "")\n'
        self.conf.write_text(f"""
server.modules = ("mod_cgi", "mod_fastcgi", "mod_rewrite", "mod_setenv")
server.bind = "127.0.0.1"
server.port = {self.port}
server.document-root = "{root}"
server.errorlog = "{self.log}"
{user}{handler}url.rewrite-once = ("^/cairn-admin\\.cgi(/.*)?$" => "$0", "^(/[^?]*)(\\?.*)?$" => "/cairn-admin.cgi$1$2")
setenv.add-environment = ("CAIRN_CONF" => "{site.conf}", "ASAN_OPTIONS" => "detect_leaks=0")
""")
        for p in (self.dir, root, root / "cairn-admin.cgi"):
            os.chmod(p, 0o755)
        self.log.touch()
        os.chmod(self.log, 0o666)
        self.proc = subprocess.Popen([LIGHTTPD, "-D", "-f", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 15
        import urllib.request
        while True:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=2).read()
                break
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("lighttpd did not serve the admin: "
                                         + self.log.read_text()[-3000:])
                time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def make_site(pg):
    base = tempfile.mkdtemp(prefix="cairn-webadmin-")
    os.chmod(base, 0o755)
    return Site(pg, base), base
