"""The whole path with an OpenLDAP directory, as a company runs it: mail
arrives over SMTP for users, an alias and a nested group; users log in with
their directory passwords over IMAP, POP3 and SMTP AUTH; an IMAP client in
IDLE hears about new mail at once; a slapd outage gives temporary failures
only, and full service after it returns."""
import imaplib
import poplib
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import CAIRNCTL
from slapd_fixture import slapd  # noqa: F401  (fixture)

PW = {u: f"{u.capitalize()}-Secret-1" for u in ("ann", "bob", "carol", "dave", "erin")}


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def message(subject, to):
    return (f"From: Outside <someone@remote.test>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@remote.test>\r\n\r\nHello {to}.\r\n").encode()


def imap_login(d, user):
    m = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=15)
    m.starttls(tls_ctx())
    m.login(f"{user}@example.test", PW[user])
    return m


def inbox_subjects(d, user):
    m = imap_login(d, user)
    m.select("INBOX", readonly=True)
    typ, data = m.search(None, "ALL")
    subjects = []
    for num in data[0].split():
        typ, parts = m.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subjects.append(parts[0][1].decode().strip().removeprefix("Subject: "))
    m.logout()
    return sorted(subjects)


@pytest.fixture
def company(cairnd_factory, pg, slapd):  # noqa: F811
    pg.reset_db()
    d = cairnd_factory({"directory": slapd.directory_config()})
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), "directory", "sync"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    d.slapd = slapd
    return d


def test_mail_to_user_alias_and_nested_group(company):
    d = company
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=15) as s:
        s.sendmail("someone@remote.test", ["ann@example.test"], message("direct", "ann"))
        s.sendmail("someone@remote.test", ["a.smith@example.test"], message("alias", "a.smith"))
        # ann is in "all" twice (directly and through sales): one copy each.
        s.sendmail("someone@remote.test", ["all@example.test"], message("everyone", "all"))
        with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
            s.sendmail("someone@remote.test", ["nobody@example.test"], message("x", "nobody"))
        assert e.value.recipients["nobody@example.test"][0] == 550
        # LDAP filter injection: quoted local parts are valid RFC 5321
        # syntax, so these reach the directory's filter; escaped (RFC 4515)
        # they match nobody. Unescaped, (mail=*@example.test) would match
        # every user, and *)(uid=* would turn the filter into a match-all.
        for inj in ('"*"@example.test', '"*)(uid=*"@example.test', '"a*"@example.test',
                    '"*)(|(mail=*"@example.test'):
            code, text = s.docmd("RSET")
            assert code == 250
            assert s.docmd("MAIL", "FROM:<someone@remote.test>")[0] == 250
            code, text = s.docmd("RCPT", f"TO:<{inj}>")
            assert code == 550, (inj, code, text)
        # The positive control: a quoted local part does reach the directory.
        assert s.docmd("RCPT", 'TO:<"ann"@example.test>')[0] == 250
        s.rset()
    assert inbox_subjects(d, "ann") == ["alias", "direct", "everyone"]
    for user in ("bob", "carol", "erin"):
        assert inbox_subjects(d, user) == ["everyone"]


def test_directory_passwords_on_every_protocol(company):
    d = company
    imap_login(d, "carol").logout()
    with pytest.raises(imaplib.IMAP4.error):
        m = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=15)
        m.starttls(tls_ctx())
        m.login("carol@example.test", PW["bob"])
    p = poplib.POP3_SSL("127.0.0.1", d.pop3s_port, context=tls_ctx(), timeout=15)
    p.user("erin@example.test")
    p.pass_(PW["erin"])
    p.quit()
    with smtplib.SMTP("127.0.0.1", d.submission_port, timeout=15) as s:
        s.starttls(context=tls_ctx())
        s.login("bob@example.test", PW["bob"])
        s.sendmail("bob@example.test", ["carol@example.test"], message("from bob", "carol"))
    assert inbox_subjects(d, "carol") == ["from bob"]
    # A disabled directory user can neither log in nor receive mail.
    with pytest.raises(smtplib.SMTPAuthenticationError):
        with smtplib.SMTP("127.0.0.1", d.submission_port, timeout=15) as s:
            s.starttls(context=tls_ctx())
            s.login("dave@example.test", PW["dave"])


def test_idle_sees_delivery_at_once(company):
    d = company
    m = imap_login(d, "erin")
    m.select("INBOX")
    tag = m._new_tag().decode()
    m.send(f"{tag} IDLE\r\n".encode())
    assert m.readline().startswith(b"+")
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=15) as s:
        start = time.monotonic()
        s.sendmail("someone@remote.test", ["info@example.test"], message("idle", "info"))
    m.sock.settimeout(5)
    line = m.readline()
    elapsed = time.monotonic() - start
    assert line == b"* 1 EXISTS\r\n", line
    print(f"IDLE heard of the delivery {elapsed * 1000:.0f} ms after DATA")
    m.send(b"DONE\r\n")
    while not m.readline().startswith(tag.encode()):
        pass
    m.logout()


def test_slapd_outage_gives_temporary_failures(company):
    d = company
    d.slapd.kill()
    try:
        with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=15) as s:
            s.ehlo()
            s.mail("someone@remote.test")
            code, _ = s.rcpt("ann@example.test")
            assert 400 <= code < 500
        m = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=15)
        m.starttls(tls_ctx())
        with pytest.raises(imaplib.IMAP4.error, match="UNAVAILABLE"):
            m.login("ann@example.test", PW["ann"])
        assert d.proc.poll() is None
    finally:
        d.slapd.start()
    deadline = time.monotonic() + 20
    while True:
        try:
            imap_login(d, "ann").logout()
            break
        except (imaplib.IMAP4.error, OSError):
            assert time.monotonic() < deadline, "no IMAP service 20 s after slapd returned"
            time.sleep(0.5)
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=15) as s:
        s.sendmail("someone@remote.test", ["ann@example.test"], message("after", "ann"))
    assert inbox_subjects(d, "ann") == ["after"]
