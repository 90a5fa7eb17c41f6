"""DKIM end to end: `cairnctl dkim keygen` stores keys in a real PostgreSQL
and prints the DNS record; the queue's signer (server/queue/dkim.c, driven by
tests/integration/dkim-sign-test.c) signs a varied corpus with the stored
keys; python3-dkim (an independent implementation) verifies every signature
with the printed record as its DNS answer, for rsa-sha256 (2048 bits) and
ed25519-sha256. Tampering with the body, a signed header or adding a second
From must break the signature; relaxed-canonicalisation-safe changes must not.
"""

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import CAIRNCTL  # noqa: E402

dkim = pytest.importorskip("dkim")
pytest.importorskip("nacl")  # ed25519 verification in python3-dkim

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "migrations"
DOMAIN = "example.test"


def sign_binary():
    builddir = os.environ.get("CAIRN_BUILDDIR")
    base = Path(builddir) if builddir else Path(CAIRNCTL).resolve().parent
    path = base / "tests" / "integration" / "dkim-sign-test"
    if not path.exists():
        pytest.skip(f"{path} not built (make check builds it)")
    return str(path)


def psql(conninfo, sql):
    r = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                        "-c", sql], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.rstrip("\n")


class Ctl:
    def __init__(self, config, conninfo):
        self.config = config
        self.conninfo = conninfo

    def run(self, *args):
        return subprocess.run([CAIRNCTL, "-c", str(self.config), *args], input="",
                              capture_output=True, text=True, timeout=120)

    def ok(self, *args):
        r = self.run(*args)
        assert r.returncode == 0, f"cairnctl {' '.join(args)}: rc={r.returncode}\n{r.stdout}{r.stderr}"
        return r

    def fails(self, *args, rc=1):
        r = self.run(*args)
        assert r.returncode == rc, f"cairnctl {' '.join(args)}: rc={r.returncode}\n{r.stdout}{r.stderr}"
        return r


@pytest.fixture(scope="module")
def ctl(pg, tmp_path_factory):
    name = "cairn_dkim_" + uuid.uuid4().hex[:12]
    psql(pg.conninfo, f'CREATE DATABASE "{name}"')
    conninfo = f"{pg.conninfo} dbname={name}"
    conf = tmp_path_factory.mktemp("dkim") / "cairn.conf"
    conf.write_text("[store]\n"
                    f"conninfo = {conninfo}\n"
                    f"migrations_dir = {MIGRATIONS}\n"
                    "connect_timeout = 3s\n"
                    "[http]\n"
                    "listen_tls =\n")
    c = Ctl(conf, conninfo)
    c.ok("migrate")
    yield c
    psql(pg.conninfo, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


ZONE_LINE = re.compile(r'^(\S+)\. IN TXT \(((?: "[^"]*")+) \)$')


def parse_record(stdout):
    """The owner name and TXT value of the zone line keygen/show print."""
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, stdout
    m = ZONE_LINE.match(lines[0])
    assert m, lines[0]
    chunks = re.findall(r'"([^"]*)"', m.group(2))
    assert all(len(c) <= 255 for c in chunks)
    return m.group(1), "".join(chunks)


@pytest.fixture(scope="module")
def keys(ctl, tmp_path_factory):
    """selector -> (TXT value, PEM file) for an RSA 2048 and an Ed25519 key."""
    out = {}
    d = tmp_path_factory.mktemp("keys")
    for selector, args in (("s2048", ["--algorithm", "rsa", "--bits", "2048"]),
                           ("ed1", ["--algorithm", "ed25519"])):
        r = ctl.ok("dkim", "keygen", DOMAIN.upper(), "--selector", selector, *args)
        name, txt = parse_record(r.stdout)
        assert name == f"{selector}._domainkey.{DOMAIN}"
        pem = psql(ctl.conninfo, "SELECT private_pem FROM dkim_keys WHERE domain = "
                   f"'{DOMAIN}' AND selector = '{selector}'")
        assert pem.startswith("-----BEGIN PRIVATE KEY-----")
        path = d / f"{selector}.pem"
        path.write_text(pem + "\n")
        out[selector] = (txt, path)
    return out


def dnsfunc_for(keys):
    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        for selector, (txt, _) in keys.items():
            if name.rstrip(".") == f"{selector}._domainkey.{DOMAIN}":
                return txt.encode()
        return None
    return dnsfunc


def sign(key_path, selector, msg):
    path = key_path.parent / f"msg-{uuid.uuid4().hex}.eml"
    path.write_bytes(msg)
    r = subprocess.run([sign_binary(), DOMAIN, selector, str(key_path), str(path)],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    sig = r.stdout
    assert sig.startswith(b"DKIM-Signature: ") and sig.endswith(b"\r\n")
    for line in sig.split(b"\r\n")[:-1]:
        assert len(line) <= 78, line
    return sig


def crlf(text):
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


CORPUS = {
    "simple": b"From: Ann <ann@example.test>\nTo: bob@remote.test\nSubject: hello\n"
              b"Date: Sun, 29 Nov 2026 10:00:00 +0000\nMessage-ID: <1@example.test>\n\nHi Bob.\n",
    "folded": b"From: Ann\n  <ann@example.test>\nTo: bob@remote.test,\n\tcarol@remote.test,\n"
              b"   dave@remote.test\nSubject:   lots\t of   \n  white\t\tspace   \n"
              b"Date: Sun, 29 Nov 2026 10:00:00 +0000\n\nbody  with \t runs   \n \t\n",
    "long-lines": b"From: ann@example.test\nTo: " + b", ".join(
        b"user%d@remote.test" % i for i in range(60)) + b"\nSubject: long\n\n"
        + b"x" * 5000 + b"\n" + b"word " * 2000 + b"\n",
    "utf8": "From: Jörg <jörg@example.test>\nTo: bücher@remote.test\nSubject: Grüße aus Köln ☕\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n\nDas ist ein Text mit Umlauten: äöüß.\n"
            "日本語のテキスト\n".encode(),
    "empty-body": b"From: ann@example.test\nTo: bob@remote.test\nSubject: nothing\n\n",
    "header-only": b"From: ann@example.test\nSubject: no separator line\n",
    "trailing-empty-lines": b"From: ann@example.test\nSubject: t\n\nline\n\n\n   \n\n",
    "many-headers": b"".join(b"Received: from hop%d.test by hop%d.test; Sun, 29 Nov 2026\n"
                             % (i, i + 1) for i in range(150))
    + b"From: ann@example.test\n" + b"".join(b"X-Extra-%d: value %d\n" % (i, i)
                                             for i in range(100))
    + b"Subject: many\nTo: bob@remote.test\n\nbody\n",
    "duplicates": b"From: ann@example.test\nTo: a@remote.test\nTo: b@remote.test\n"
                  b"Cc: c@remote.test\nCc: d@remote.test\nCc: e@remote.test\n"
                  b"References: <1@x>\nReferences: <2@x>\nSubject: one\nSubject: two\n\nbody\n",
    "multipart": b"From: ann@example.test\nTo: bob@remote.test\nSubject: parts\n"
                 b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
                 b"--b1\nContent-Type: text/plain\n\ntext part\n--b1\n"
                 b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
                 b"AAECAwQFBgcICQ==\n--b1--\n",
}


@pytest.mark.parametrize("selector", ["s2048", "ed1"])
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_sign_verify(keys, selector, name):
    msg = crlf(CORPUS[name])
    sig = sign(keys[selector][1], selector, msg)
    expected_a = b"a=rsa-sha256" if selector == "s2048" else b"a=ed25519-sha256"
    assert expected_a in sig and b"c=relaxed/relaxed" in sig
    assert b"d=example.test" in sig and b"s=" + selector.encode() in sig
    signed = sig + msg
    assert dkim.verify(signed, dnsfunc=dnsfunc_for(keys)), f"{name} with {selector}"
    # The h= list: From once more than present, every present signed field.
    h = re.search(rb"h=([^;]+);", sig.replace(b"\r\n\t", b"")).group(1).replace(b" ", b"")
    fields = [f.lower() for f in h.split(b":")]
    assert fields.count(b"from") == 2
    nto = len(re.findall(rb"(?im)^to:", msg.split(b"\r\n\r\n")[0]))
    assert fields.count(b"to") == nto


@pytest.mark.parametrize("selector", ["s2048", "ed1"])
def test_tampering_breaks_signature(ctl, keys, selector):
    msg = crlf(CORPUS["simple"])
    sig = sign(keys[selector][1], selector, msg)
    dns = dnsfunc_for(keys)
    assert dkim.verify(sig + msg, dnsfunc=dns)
    # Body changed.
    assert not dkim.verify(sig + msg.replace(b"Hi Bob.", b"Hi Eve."), dnsfunc=dns)
    # A signed header changed.
    assert not dkim.verify(sig + msg.replace(b"Subject: hello", b"Subject: hellO"), dnsfunc=dns)
    # A second From added (oversigning).
    assert not dkim.verify(sig + b"From: mallory@evil.test\r\n" + msg, dnsfunc=dns)
    # A body line appended.
    assert not dkim.verify(sig + msg + b"P.S. wire money\r\n", dnsfunc=dns)
    # The signature's own tags changed (t= is signed too).
    forged = re.sub(rb"t=(\d)", lambda m: b"t=" + bytes([ord("1") if m.group(1) != b"1" else ord("2")]), sig)
    assert forged != sig
    assert not dkim.verify(forged + msg, dnsfunc=dns)
    # Changes relaxed canonicalisation ignores: case of names, whitespace, refolding,
    # trailing empty lines, an unsigned header added.
    relaxed = (msg.replace(b"Subject: hello", b"SUBJECT:   hello  ")
               .replace(b"To: bob@remote.test", b"To:\r\n\tbob@remote.test")
               .replace(b"Hi Bob.", b"Hi    Bob.  ") + b"\r\n\r\n")
    assert dkim.verify(sig + b"X-Spam-Score: 0.1\r\n" + relaxed, dnsfunc=dns)
    # Another key of the same algorithm in DNS.
    algo = "rsa" if selector == "s2048" else "ed25519"
    r = ctl.ok("dkim", "keygen", "wrong.test", "--selector", "w" + selector, "--algorithm", algo)
    wrong = {selector: (parse_record(r.stdout)[1], None)}
    assert not dkim.verify(sig + msg, dnsfunc=dnsfunc_for(wrong))


def test_ctl_show_list_rotate_delete(ctl, keys):
    r = ctl.ok("dkim", "show", DOMAIN, "s2048")
    assert parse_record(r.stdout) == (f"s2048._domainkey.{DOMAIN}", keys["s2048"][0])
    r = ctl.ok("dkim", "show", "Example.TEST", "ED1")
    assert parse_record(r.stdout)[1] == keys["ed1"][0]
    assert keys["ed1"][0].startswith("v=DKIM1; k=ed25519; p=")
    assert keys["s2048"][0].startswith("v=DKIM1; k=rsa; p=")

    lines = ctl.ok("dkim", "list", DOMAIN).stdout.splitlines()
    assert [line.split()[:3] + line.split()[4:] for line in lines] == [
        [DOMAIN, "ed1", "ed25519-sha256", "active"],
        [DOMAIN, "s2048", "rsa-sha256", "active"]]

    # Rotation: a new key, inactive until its record is published.
    r = ctl.ok("dkim", "keygen", DOMAIN, "--selector", "s2027", "--active", "no")
    assert parse_record(r.stdout)[0] == f"s2027._domainkey.{DOMAIN}"
    assert "s2027 rsa-sha256" in ctl.ok("dkim", "list", DOMAIN).stdout
    assert psql(ctl.conninfo, "SELECT active FROM dkim_keys WHERE selector = 's2027'") == "f"
    ctl.ok("dkim", "activate", DOMAIN, "s2027")
    ctl.ok("dkim", "deactivate", DOMAIN, "s2048")
    states = dict(line.split()[1::3] for line in ctl.ok("dkim", "list", DOMAIN).stdout.splitlines())
    assert states == {"ed1": "active", "s2027": "active", "s2048": "inactive"}
    ctl.ok("dkim", "activate", DOMAIN, "s2048")

    # The default selector names the algorithm and the date.
    r = ctl.ok("dkim", "keygen", "other.test", "--algorithm", "ed25519")
    name, txt = parse_record(r.stdout)
    assert re.fullmatch(r"ed25519-\d{8}\._domainkey\.other\.test", name)
    assert ctl.ok("dkim", "list", "other.test").stdout.count("\n") == 1

    # Errors an admin sees.
    r = ctl.fails("dkim", "keygen", DOMAIN, "--selector", "s2048")
    assert "s2048._domainkey.example.test exists already" in r.stderr
    ctl.fails("dkim", "keygen", DOMAIN, "--algorithm", "dsa", rc=2)
    ctl.fails("dkim", "keygen", DOMAIN, "--bits", "512", rc=2)
    ctl.fails("dkim", "keygen", DOMAIN, "--algorithm", "ed25519", "--bits", "2048", rc=2)
    r = ctl.fails("dkim", "keygen", "bad_domain!", "--selector", "x")
    assert "bad_domain!" in r.stderr
    r = ctl.fails("dkim", "keygen", DOMAIN, "--selector", "a;b=c")
    assert "selector" in r.stderr
    r = ctl.fails("dkim", "show", DOMAIN, "nosuch")
    assert "no DKIM key nosuch._domainkey.example.test" in r.stderr

    ctl.ok("dkim", "delete", DOMAIN, "s2027")
    ctl.fails("dkim", "delete", DOMAIN, "s2027")
    assert "s2027" not in ctl.ok("dkim", "list").stdout
    # Without a domain, list shows every domain's keys.
    listed = ctl.ok("dkim", "list").stdout
    assert "other.test" in listed and f"{DOMAIN} ed1" in listed, listed


def test_signer_refusals(keys, tmp_path):
    """What the signer refuses, with a message naming the problem."""
    def run(domain, selector, key, msg):
        path = tmp_path / "m.eml"
        path.write_bytes(msg)
        return subprocess.run([sign_binary(), domain, selector, str(key), str(path)],
                              capture_output=True, text=True, timeout=60)
    rsa = keys["s2048"][1]
    r = run(DOMAIN, "s2048", rsa, b"To: bob@remote.test\r\nSubject: no from\r\n\r\nbody\r\n")
    assert r.returncode == 1 and "no From field" in r.stderr
    r = run(DOMAIN, "s2048", rsa, b"From: a@b.test\r\nBad Name: x\r\n\r\nbody\r\n")
    assert r.returncode == 1 and "field name" in r.stderr
    r = run("exa mple.test", "s2048", rsa, crlf(CORPUS["simple"]))
    assert r.returncode == 1 and "exa mple.test" in r.stderr
    r = run(DOMAIN, "s;x=1", rsa, crlf(CORPUS["simple"]))
    assert r.returncode == 1 and "selector" in r.stderr
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    r = run(DOMAIN, "s2048", junk, crlf(CORPUS["simple"]))
    assert r.returncode == 1 and "not a PEM private key" in r.stderr
    # RFC 8301: RSA keys under 1024 bits must not sign.
    small = tmp_path / "small.pem"
    g = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:768", "-out", str(small)], capture_output=True)
    if g.returncode == 0:
        r = run(DOMAIN, "s2048", small, crlf(CORPUS["simple"]))
        assert r.returncode == 1 and "768 bits" in r.stderr
