"""A real OpenLDAP slapd for Cairn's directory tests.

`slapd` (module scope) starts Debian's /usr/sbin/slapd on a free loopback port
with a generated slapd.conf: an mdb database in a temporary directory, the
core/cosine/inetorgperson/nis schemas from /etc/ldap/schema plus Cairn's own
(directory/schema/cairn.schema), loaded with directory/schema/
sample-company.ldif through slapadd. ACLs are the ones a real deployment would
use: anonymous users may only bind, the service account may read everything
but password hashes, so the tests prove that cairnd searches with its service
bind and checks passwords by binding as the user.

Use it with `from slapd_fixture import slapd` in a test module. The object has
.uri, .port, .base_dn, .bind_dn, .bind_password, .stop(), .start(), .kill()
(SIGKILL, as in a crash), .modify(ldif) and .delete(dn) (as the rootdn). It
also serves StartTLS and ldaps:// (.ldaps_uri) with a self-signed
certificate, .ca_file.
"""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from ports import free_port

TOP = pathlib.Path(os.environ.get("CAIRN_TOP", pathlib.Path(__file__).resolve().parents[2]))
SCHEMA_DIR = pathlib.Path("/etc/ldap/schema")
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"

BASE_DN = "dc=example,dc=test"
ROOT_DN = "cn=admin,dc=example,dc=test"
ROOT_PW = "slapd-root-pw"
SERVICE_DN = "cn=cairn,ou=Services,dc=example,dc=test"
SERVICE_PW = "cairn-service-pw"


class Slapd:
    def __init__(self, base, ldif=TOP / "directory" / "schema" / "sample-company.ldif"):
        self.base = pathlib.Path(base)
        self.db = self.base / "db"
        self.db.mkdir(parents=True)
        self.port = free_port()
        self.tls_port = free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_uri = f"ldaps://127.0.0.1:{self.tls_port}"
        # A self-signed certificate for StartTLS and ldaps://; it is its own CA.
        self.ca_file = self.base / "cert.pem"
        key = self.base / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(self.ca_file)],
                       check=True, capture_output=True)
        self.base_dn = BASE_DN
        self.bind_dn = SERVICE_DN
        self.bind_password = SERVICE_PW
        self.conf = self.base / "slapd.conf"
        self.log = self.base / "slapd.log"
        self.proc = None
        schemas = [SCHEMA_DIR / f"{n}.schema" for n in ("core", "cosine", "inetorgperson", "nis")]
        schemas.append(TOP / "directory" / "schema" / "cairn.schema")
        lines = [f"include {s}" for s in schemas]
        lines += [
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            f"pidfile {self.base}/slapd.pid",
            f"argsfile {self.base}/slapd.args",
            f"TLSCertificateFile {self.ca_file}",
            f"TLSCertificateKeyFile {key}",
            "sizelimit 500",
            "database mdb",
            "maxsize 104857600",
            f'suffix "{BASE_DN}"',
            f'rootdn "{ROOT_DN}"',
            f"rootpw {ROOT_PW}",
            f"directory {self.db}",
            "index objectClass eq",
            "index mail,mailAlternateAddress eq,sub",
            "access to attrs=userPassword",
            "  by anonymous auth",
            "  by * none",
            "access to *",
            f'  by dn.exact="{SERVICE_DN}" read',
            "  by self read",
            "  by * none",
        ]
        self.conf.write_text("\n".join(lines) + "\n")
        r = subprocess.run([SLAPADD, "-f", str(self.conf), "-l", str(ldif)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"slapadd failed:\n{r.stdout}{r.stderr}")

    def start(self, timeout=15):
        self.logf = open(self.log, "ab")
        # -d 0: stay in the foreground (so we own the process) and log nothing.
        self.proc = subprocess.Popen([SLAPD, "-d", "0", "-f", str(self.conf),
                                      "-h", f"{self.uri}/ {self.ldaps_uri}/"],
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"slapd exited with {self.proc.returncode}:\n"
                                   f"{self.log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"slapd not listening on {self.port} after {timeout}s")

    def _end(self, sig):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.logf.close()

    def stop(self):
        """Orderly shutdown (SIGTERM)."""
        self._end(signal.SIGTERM)

    def kill(self):
        """A crash: SIGKILL, no goodbye to connected clients."""
        self._end(signal.SIGKILL)

    def _ldap(self, tool, args, data=None):
        r = subprocess.run([tool, "-x", "-H", self.uri, "-D", ROOT_DN, "-w", ROOT_PW, *args],
                           input=data, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"{tool} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r.stdout

    def modify(self, ldif):
        """Apply LDIF change records (changetype: add/modify/delete)."""
        return self._ldap("ldapmodify", [], data=ldif)

    def delete(self, dn):
        return self._ldap("ldapdelete", [dn])

    def search(self, filt, *attrs, base=BASE_DN):
        return self._ldap("ldapsearch", ["-LLL", "-b", base, filt, *attrs])

    def directory_config(self, **extra):
        """The [directory] section that points cairnd/cairnctl at this server."""
        section = {"backend": "ldap", "uri": self.uri, "base_dn": self.base_dn,
                   "bind_dn": self.bind_dn, "bind_password": self.bind_password,
                   "timeout": "2s"}
        section.update(extra)
        return section


@pytest.fixture(scope="module")
def slapd():
    if not os.path.exists(SLAPD):
        pytest.fail("slapd not found: apt-get install slapd ldap-utils")
    base = tempfile.mkdtemp(prefix="cairn-slapd-")
    server = Slapd(base).start()
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)
