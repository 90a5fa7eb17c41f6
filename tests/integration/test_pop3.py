"""The POP3 gateway (issue 8) with real clients: Python's poplib, curl and
fetchmail, plus raw-protocol abuse: pipelining, STLS injection, dropped
connections, concurrent sessions and large messages byte for byte."""
import email.utils
import os
import poplib
import random
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import CAIRNCTL

PASSWORD = "pop-secret-1"


def ctl(d, *args, input=None):
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], capture_output=True, text=True,
                       input=input, timeout=120)
    assert r.returncode == 0, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


def make_message(i, size=2000, lf=False):
    body_line = f"line of message {i} " + "x" * 50
    lines = [f"From: Sender {i} <sender{i}@remote.test>",
             "To: user@pop.test",
             f"Subject: message {i}",
             f"Date: {email.utils.formatdate(1700000000 + i)}",
             f"Message-ID: <m{i}@remote.test>",
             "",
             ".a line starting with a dot",
             "..two dots"]
    while sum(len(x) + 2 for x in lines) < size:
        lines.append(body_line)
    eol = "\n" if lf else "\r\n"
    return (eol.join(lines) + eol).encode()


def import_messages(d, tmp_path, user, messages, name="in.mbox"):
    """Put messages into user's INBOX through cairnctl import (mbox)."""
    path = tmp_path / name
    with open(path, "wb") as f:
        for m in messages:
            f.write(b"From sender@remote.test Thu Jan  1 00:00:00 2026\n")
            # mboxrd quoting of From_ lines inside the body.
            for line in m.splitlines(keepends=True):
                stripped = line.lstrip(b">")
                if stripped.startswith(b"From "):
                    line = b">" + line
                f.write(line)
            f.write(b"\n")
    ctl(d, "import", "--user", user, "--mailbox", "INBOX", str(path))


@pytest.fixture
def pop(cairnd_factory, pg, tmp_path):
    pg.reset_db()
    d = cairnd_factory({"pop3": {"idle_timeout": "30s"}})
    ctl(d, "domain", "add", "pop.test")
    ctl(d, "user", "add", "user@pop.test", "--password", PASSWORD)
    ctl(d, "user", "add", "other@pop.test", "--password", PASSWORD)
    d.messages = [make_message(i, size=1500 + 300 * i) for i in range(5)]
    import_messages(d, tmp_path, "user@pop.test", d.messages)
    return d


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def login(d, user="user@pop.test", password=PASSWORD):
    p = poplib.POP3("127.0.0.1", d.pop3_port, timeout=10)
    p.stls(tls_ctx())
    p.user(user)
    p.pass_(password)
    return p


def raw_session(d):
    s = socket.create_connection(("127.0.0.1", d.pop3_port), timeout=10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"+OK")
    return s, f


def test_capa_before_and_after_tls(pop):
    p = poplib.POP3("127.0.0.1", pop.pop3_port, timeout=10)
    caps = p.capa()
    assert "STLS" in caps and "UIDL" in caps and "TOP" in caps and "RESP-CODES" in caps
    assert "PIPELINING" in caps and "AUTH-RESP-CODE" in caps and "EXPIRE" in caps
    # No plaintext login offered before TLS (not loopback-secure by default).
    assert "USER" not in caps and "SASL" not in caps
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        p.user("user@pop.test")
    p.stls(tls_ctx())
    caps = p.capa()
    assert "USER" in caps and caps["SASL"] == ["PLAIN", "LOGIN"] and "STLS" not in caps
    p.quit()


def test_retr_byte_for_byte_and_stat(pop):
    p = login(pop)
    count, octets = p.stat()
    assert count == 5
    assert octets == sum(len(m) for m in pop.messages)
    for i, m in enumerate(pop.messages, 1):
        resp, lines, size = p.retr(i)
        assert resp.startswith(b"+OK")
        # poplib undoes dot-stuffing and splits on CRLF.
        assert b"\r\n".join(lines) + b"\r\n" == m
    listing = p.list()[1]
    assert listing == [f"{i} {len(m)}".encode() for i, m in enumerate(pop.messages, 1)]
    p.quit()


def test_top(pop):
    p = login(pop)
    resp, lines, _ = p.top(1, 1)
    header, _, body = b"\r\n".join(pop.messages[0].split(b"\r\n")).partition(b"\r\n\r\n")
    assert lines[:len(header.split(b"\r\n"))] == header.split(b"\r\n")
    assert lines[-1] == b".a line starting with a dot"
    assert len(lines) == len(header.split(b"\r\n")) + 2
    p.quit()


def test_uidl_stable_across_sessions(pop):
    p = login(pop)
    first = p.uidl()[1]
    assert len(first) == 5
    uids = [line.split()[1] for line in first]
    assert len(set(uids)) == 5
    for u in uids:
        assert 1 <= len(u) <= 70 and all(0x21 <= c <= 0x7e for c in u)
    p.dele(2)
    p.quit()
    p = login(pop)
    second = [line.split()[1] for line in p.uidl()[1]]
    assert second == uids[:1] + uids[2:]
    assert p.uidl(1).split()[2] == uids[0]
    p.quit()


def test_dele_only_at_quit(pop):
    p = login(pop)
    p.dele(1)
    p.dele(3)
    with pytest.raises(poplib.error_proto):
        p.retr(1)
    assert p.stat()[0] == 3
    p.rset()
    assert p.stat()[0] == 5
    p.dele(1)
    p.quit()
    p = login(pop)
    assert p.stat()[0] == 4
    assert b"\r\n".join(p.retr(1)[1]) + b"\r\n" == pop.messages[1]
    p.quit()


def test_dropped_connection_deletes_nothing_and_unlocks(pop):
    p = login(pop)
    p.dele(1)
    p.dele(2)
    p.close()  # no QUIT
    deadline = time.monotonic() + 10
    while True:
        try:
            p = login(pop)
            break
        except poplib.error_proto as e:
            assert b"IN-USE" in e.args[0]
            assert time.monotonic() < deadline, "maildrop still locked"
            time.sleep(0.1)
    assert p.stat()[0] == 5
    p.quit()


def test_concurrent_login_in_use(pop):
    p1 = login(pop)
    with pytest.raises(poplib.error_proto, match=r"\[IN-USE\]"):
        login(pop)
    # Another user is not affected.
    p2 = login(pop, "other@pop.test")
    assert p2.stat()[0] == 0
    p2.quit()
    p1.quit()
    login(pop).quit()


def test_wrong_password_and_unknown_user(pop):
    for user, pw in (("user@pop.test", "wrong"), ("nobody@pop.test", PASSWORD)):
        p = poplib.POP3("127.0.0.1", pop.pop3_port, timeout=15)
        p.stls(tls_ctx())
        p.user(user)
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\] Authentication failed"):
            p.pass_(pw)
        p.quit()
    assert "wrong" not in pop.log_text()


def test_auth_plain_and_login(pop):
    import base64
    p = poplib.POP3("127.0.0.1", pop.pop3_port, timeout=10)
    p.stls(tls_ctx())
    cred = base64.b64encode(b"\0user@pop.test\0" + PASSWORD.encode()).decode()
    assert p._shortcmd(f"AUTH PLAIN {cred}").startswith(b"+OK")
    assert p.stat()[0] == 5
    p.quit()
    p = poplib.POP3("127.0.0.1", pop.pop3_port, timeout=10)
    p.stls(tls_ctx())
    p._putcmd("AUTH LOGIN")
    assert p._getline()[0] == b"+ " + base64.b64encode(b"Username:")
    p._putcmd(base64.b64encode(b"user@pop.test").decode())
    assert p._getline()[0] == b"+ " + base64.b64encode(b"Password:")
    p._putcmd(base64.b64encode(PASSWORD.encode()).decode())
    assert p._getline()[0].startswith(b"+OK")
    p.quit()


def test_pop3s_implicit_tls(pop):
    p = poplib.POP3_SSL("127.0.0.1", pop.pop3s_port, context=tls_ctx(), timeout=10)
    assert "USER" in p.capa()
    p.user("user@pop.test")
    p.pass_(PASSWORD)
    assert p.stat()[0] == 5
    p.quit()


def test_pipelining(pop):
    p = login(pop)
    p.sock.sendall(b"STAT\r\nLIST 2\r\nUIDL 3\r\nRETR 1\r\nNOOP\r\nDELE 9\r\nQUIT\r\n")
    f = p.file
    assert f.readline().startswith(b"+OK 5 ")
    assert f.readline() == f"+OK 2 {len(pop.messages[1])}\r\n".encode()
    assert f.readline().startswith(b"+OK 3 ")
    assert f.readline().startswith(b"+OK")
    body = b""
    while True:
        line = f.readline()
        if line == b".\r\n":
            break
        body += line[1:] if line.startswith(b"..") else line
    assert body == pop.messages[0]
    assert f.readline() == b"+OK\r\n"
    assert f.readline().startswith(b"-ERR")
    assert f.readline().startswith(b"+OK")


def test_stls_injection_is_discarded(pop):
    s, f = raw_session(pop)
    # The USER command rides in the same packet as STLS: it must not count.
    s.sendall(b"STLS\r\nUSER user@pop.test\r\n")
    assert f.readline().startswith(b"+OK")
    t = tls_ctx().wrap_socket(s, server_hostname="localhost")
    tf = t.makefile("rb")
    t.sendall(b"PASS " + PASSWORD.encode() + b"\r\n")
    assert tf.readline().startswith(b"-ERR")
    t.sendall(b"QUIT\r\n")
    assert tf.readline().startswith(b"+OK")


def test_bad_commands_disconnect(pop):
    s, f = raw_session(pop)
    s.sendall(b"".join(b"XYZZY %d\r\n" % i for i in range(20)))
    errors = 0
    while True:
        line = f.readline()
        if not line:
            break
        assert line.startswith(b"-ERR")
        errors += 1
    assert errors <= 11


def test_long_line_refused(pop):
    s, f = raw_session(pop)
    s.sendall(b"USER " + b"a" * 20000 + b"\r\nCAPA\r\n")
    assert f.readline().startswith(b"-ERR")
    assert f.readline().startswith(b"+OK")


def test_large_message_20mb(pop, tmp_path):
    rnd = random.Random(7)
    lines = [b"From: big@remote.test", b"To: other@pop.test", b"Subject: big", b""]
    size = 0
    while size < 20 * 1024 * 1024:
        line = bytes(rnd.choice(b"abcdefghij.") for _ in range(76))
        lines.append(line)
        size += 78
    big = b"\r\n".join(lines) + b"\r\n"
    import_messages(pop, tmp_path, "other@pop.test", [big], name="big.mbox")
    p = login(pop, "other@pop.test")
    p.sock.settimeout(60)
    resp, got, octets = p.retr(1)
    assert b"\r\n".join(got) + b"\r\n" == big
    p.quit()


def test_retr_sets_seen(pop):
    p = login(pop)
    p.retr(2)
    p.quit()
    flags = pop.pg.psql("cairn", "SELECT mm.uid, mm.flags FROM mailbox_messages mm"
                        " JOIN mailboxes m ON m.id = mm.mailbox_id"
                        " JOIN accounts a ON a.id = m.account_id"
                        " WHERE a.address = 'user@pop.test' ORDER BY mm.uid")
    rows = [tuple(int(x) for x in line.split("|")) for line in flags.split()]
    assert [r[1] & 1 for r in rows] == [0, 1, 0, 0, 0]


def test_curl_list_and_retr(pop):
    out = subprocess.run(["curl", "-sS", "--ssl-reqd", "-k",
                          f"pop3://127.0.0.1:{pop.pop3_port}/",
                          "-u", f"user@pop.test:{PASSWORD}"],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().split("\r\n")[0] == f"1 {len(pop.messages[0])}"
    out = subprocess.run(["curl", "-sS", "--ssl-reqd", "-k",
                          f"pop3://127.0.0.1:{pop.pop3_port}/3",
                          "-u", f"user@pop.test:{PASSWORD}"],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == pop.messages[2]


def fetchmail(pop, tmp_path, keep):
    outdir = tmp_path / ("keep" if keep else "nokeep")
    outdir.mkdir()
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        f'poll 127.0.0.1 service {pop.pop3_port} protocol pop3\n'
        f'  user "user@pop.test" there with password "{PASSWORD}" is root here\n'
        f'  options fetchall {"keep" if keep else "nokeep"} sslproto "tls1.2+" no sslcertck\n'
        f'  mda "/bin/sh -c \'cat > {outdir}/msg.$$\'"\n')
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(tmp_path), FETCHMAILHOME=str(tmp_path))
    r = subprocess.run(["fetchmail", "-f", str(rc), "--nosyslog", "--nodetach", "-v",
                        "--idfile", str(tmp_path / "fetchids")],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode in (0, 1), r.stdout + r.stderr   # 1 = no mail
    return sorted(p.read_bytes() for p in outdir.iterdir())


def test_fetchmail_keep_then_nokeep(pop, tmp_path):
    def bodies(outputs):
        return sorted(o.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1] for o in outputs)

    expected = sorted(m.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1] for m in pop.messages)
    got = fetchmail(pop, tmp_path, keep=True)
    assert bodies(got) == expected
    p = login(pop)
    assert p.stat()[0] == 5
    p.quit()
    got = fetchmail(pop, tmp_path, keep=False)
    assert bodies(got) == expected
    p = login(pop)
    assert p.stat()[0] == 0
    p.quit()


def test_idle_timeout(cairnd_factory):
    d = cairnd_factory({"pop3": {"idle_timeout": "1s"}})
    s, f = raw_session(d)
    start = time.monotonic()
    line = f.readline()
    assert line.startswith(b"-ERR") and b"idle" in line.lower()
    assert f.readline() == b""
    assert time.monotonic() - start >= 0.8       # not before the 1 s timeout


def test_loopback_secure_allows_plaintext(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"server": {"loopback_is_secure": "yes"}})
    ctl(d, "domain", "add", "pop.test")
    ctl(d, "user", "add", "user@pop.test", "--password", PASSWORD)
    p = poplib.POP3("127.0.0.1", d.pop3_port, timeout=10)
    assert "USER" in p.capa()
    p.user("user@pop.test")
    p.pass_(PASSWORD)
    assert p.stat() == (0, 0)
    p.quit()
