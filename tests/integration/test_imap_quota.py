"""IMAP QUOTA (RFC 9208) against a real cairnd: capabilities, GETQUOTAROOT
and GETQUOTA with the STORAGE and MESSAGE resources, limits set with
cairnctl and by an administrator's SETQUOTA (NO [NOPERM] for everybody
else), APPEND/COPY/MOVE refused with [OVERQUOTA] and nothing stored, MOVE
inside one account not counted twice, and STATUS DELETED-STORAGE."""
import re
import subprocess

import pytest

from imaplib_util import add_accounts, ctl
from test_imap import Raw, login, msg, PASSWORD
from conftest import CAIRNCTL

USER = "user@quota.test"
OTHER = "other@quota.test"
ADMIN = "boss@quota.test"


@pytest.fixture
def qd(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"imap": {"plaintext_auth": "yes", "max_append": "7M"}})
    add_accounts(d, PASSWORD, USER, OTHER, ADMIN)
    ctl(d, "user", "set", ADMIN, "--admin", "yes")
    return d


class Session(Raw):
    """A logged-in raw session with numbered tags."""

    def __init__(self, d, user):
        super().__init__(d.imap_port)
        self.n = 0
        lines = self.cmd(f'LOGIN {user} "{PASSWORD}"')
        assert lines[-1].split()[1] == b"OK", lines

    def cmd(self, text, literal=None):
        self.n += 1
        tag = b"q%d" % self.n
        if literal is None:
            self.send(tag + b" " + text.encode() + b"\r\n")
        else:
            self.send(tag + b" " + text.encode() + b" {%d+}\r\n" % len(literal) + literal + b"\r\n")
        return self.until(tag)

    def ok(self, text, literal=None):
        lines = self.cmd(text, literal)
        assert lines[-1].split()[1] == b"OK", lines
        return lines


def untagged(lines, word):
    return [ln for ln in lines if ln.startswith(b"* " + word.encode() + b" ")]


def usage(d, address):
    out = d.pg.psql("cairn", "SELECT u.bytes, u.messages FROM mail_usage u JOIN accounts a"
                    f" ON a.id = u.account_id WHERE a.address = '{address}'")
    b, m = out.strip().split("|")
    return int(b), int(m)


def test_capabilities_and_no_limit(qd):
    s = Session(qd, USER)
    caps = s.ok("CAPABILITY")[0]
    for c in (b"QUOTA", b"QUOTA=RES-STORAGE", b"QUOTA=RES-MESSAGE", b"QUOTASET"):
        assert c in caps.split()
    # No limit: the mailbox has no quota root and "" does not exist.
    lines = s.ok("GETQUOTAROOT INBOX")
    assert untagged(lines, "QUOTAROOT") == [b"* QUOTAROOT INBOX\r\n"]
    assert untagged(lines, "QUOTA") == []
    lines = s.cmd('GETQUOTA ""')
    assert b"NO [NONEXISTENT]" in lines[-1]
    lines = s.cmd("GETQUOTAROOT Nowhere")
    assert b"NO [NONEXISTENT]" in lines[-1]
    assert b"BAD" in s.cmd("GETQUOTAROOT")[-1]
    assert b"BAD" in s.cmd("GETQUOTA")[-1]


def test_limits_usage_and_overquota(qd):
    ctl(qd, "user", "set", USER, "--quota", str(4 * 1024), "--quota-messages", "3")
    s = Session(qd, USER)
    lines = s.ok("GETQUOTAROOT INBOX")
    assert untagged(lines, "QUOTAROOT") == [b'* QUOTAROOT INBOX ""\r\n']
    assert untagged(lines, "QUOTA") == [b'* QUOTA "" (STORAGE 0 4 MESSAGE 0 3)\r\n']

    m1 = msg(1)
    s.ok("APPEND INBOX", m1)
    s.ok("APPEND INBOX", msg(2))
    lines = s.ok('GETQUOTA ""')
    kib = (len(m1) + len(msg(2)) + 1023) // 1024
    assert untagged(lines, "QUOTA") == [b'* QUOTA "" (STORAGE %d 4 MESSAGE 2 3)\r\n' % kib]
    # MULTIAPPEND of two would pass the message limit: all or nothing.
    s.n += 1
    s.send(b"q%d APPEND INBOX {%d+}\r\n" % (s.n, len(msg(3))) + msg(3) +
           b" {%d+}\r\n" % len(msg(4)) + msg(4) + b"\r\n")
    lines = s.until(b"q%d" % s.n)
    assert b"NO [OVERQUOTA]" in lines[-1], lines
    assert usage(qd, USER)[1] == 2
    # Bytes: a message bigger than what is left of 4 KiB.
    big = msg(5, body="x" * 5000 + "\r\n")
    assert b"NO [OVERQUOTA]" in s.cmd("APPEND INBOX", big)[-1]
    assert usage(qd, USER)[1] == 2

    # COPY of two when one more fits: refused, nothing copied.
    s.ok("CREATE Archive2")
    s.ok("SELECT INBOX")
    assert b"NO [OVERQUOTA]" in s.cmd("COPY 1:2 Archive2")[-1]
    st = s.ok("STATUS Archive2 (MESSAGES)")
    assert untagged(st, "STATUS")[0].endswith(b"(MESSAGES 0)\r\n")
    s.ok("COPY 1 Archive2")
    assert usage(qd, USER)[1] == 3
    # At the limit: another COPY fails, MOVE inside the account does not
    # count the messages twice.
    assert b"NO [OVERQUOTA]" in s.cmd("COPY 2 Archive2")[-1]
    before = usage(qd, USER)
    lines = s.ok("MOVE 2 Archive2")
    assert usage(qd, USER) == before
    st = s.ok("STATUS Archive2 (MESSAGES)")
    assert untagged(st, "STATUS")[0].endswith(b"(MESSAGES 2)\r\n")
    # UID MOVE back, still no change.
    s.ok("SELECT Archive2")
    s.ok("UID MOVE 1:* INBOX")
    assert usage(qd, USER) == before
    # Expunging frees the quota again.
    s.ok("SELECT INBOX")
    s.ok("STORE 1 +FLAGS (\\Deleted)")
    s.ok("EXPUNGE")
    assert usage(qd, USER)[1] == 2
    s.ok("APPEND INBOX", msg(6))


def test_message_limit_alone_and_removed(qd):
    """Only a MESSAGE limit: the QUOTA response lists just that resource;
    cairnctl --quota-messages 0 removes it and with it the root."""
    ctl(qd, "user", "set", OTHER, "--quota-messages", "1")
    s = Session(qd, OTHER)
    s.ok("APPEND INBOX", msg(1))
    assert b"NO [OVERQUOTA]" in s.cmd("APPEND INBOX", msg(2))[-1]
    lines = s.ok("GETQUOTAROOT INBOX")
    assert untagged(lines, "QUOTA") == [b'* QUOTA "" (MESSAGE 1 1)\r\n']
    # Removing the limit (0 = none) removes the root.
    ctl(qd, "user", "set", OTHER, "--quota-messages", "0")
    assert untagged(s.ok("GETQUOTAROOT INBOX"), "QUOTAROOT") == [b"* QUOTAROOT INBOX\r\n"]


def test_status_deleted_storage(qd):
    s = Session(qd, USER)
    bodies = [msg(1, body="a" * 3000 + "\r\n"), msg(2), msg(3, body="b" * 1500 + "\r\n")]
    for b in bodies:
        s.ok("APPEND INBOX", b)
    lines = s.ok("STATUS INBOX (DELETED DELETED-STORAGE)")
    assert untagged(lines, "STATUS")[0].endswith(b"(DELETED 0 DELETED-STORAGE 0)\r\n")
    s.ok("SELECT INBOX")
    s.ok("STORE 1,3 +FLAGS (\\Deleted)")
    lines = s.ok("STATUS INBOX (DELETED-STORAGE DELETED MESSAGES)")
    kib = (len(bodies[0]) + len(bodies[2]) + 1023) // 1024
    assert untagged(lines, "STATUS")[0].endswith(
        b"(MESSAGES 3 DELETED 2 DELETED-STORAGE %d)\r\n" % kib)
    # STATUS=SIZE (RFC 8438) and APPENDLIMIT (RFC 7889) next to it.
    caps = s.ok("CAPABILITY")[0].split()
    assert b"STATUS=SIZE" in caps and b"APPENDLIMIT=7340032" in caps
    lines = s.ok("STATUS INBOX (SIZE APPENDLIMIT)")
    assert untagged(lines, "STATUS")[0].endswith(
        b"(SIZE %d APPENDLIMIT 7340032)\r\n" % sum(len(b) for b in bodies))
    # LIST-STATUS goes through the same code.
    lines = s.ok('LIST "" INBOX RETURN (STATUS (DELETED-STORAGE))')
    assert untagged(lines, "STATUS")[0].endswith(b"(DELETED-STORAGE %d)\r\n" % kib)


def test_setquota_admin_only(qd):
    s = Session(qd, USER)
    lines = s.cmd('SETQUOTA "" (STORAGE 100)')
    assert b"NO [NOPERM]" in lines[-1]
    lines = s.cmd(f'GETQUOTA "{OTHER}"')
    assert b"NO [NOPERM]" in lines[-1]
    assert usage(qd, USER) == (0, 0)

    a = Session(qd, ADMIN)
    # Set another account's limits: the list replaces every earlier limit.
    lines = a.ok(f'SETQUOTA "{USER}" (STORAGE 100 MESSAGE 7)')
    assert untagged(lines, "QUOTA") == [b'* QUOTA %s (STORAGE 0 100 MESSAGE 0 7)\r\n' % USER.encode()]
    lines = a.ok(f'SETQUOTA "{USER}" (MESSAGE 9)')
    assert untagged(lines, "QUOTA") == [b'* QUOTA %s (MESSAGE 0 9)\r\n' % USER.encode()]
    out = qd.pg.psql("cairn", f"SELECT quota_bytes IS NULL, quota_messages FROM accounts"
                     f" WHERE address = '{USER}'")
    assert out.strip() == "t|9"
    # The user sees his root as "".
    lines = s.ok('GETQUOTA ""')
    assert untagged(lines, "QUOTA") == [b'* QUOTA "" (MESSAGE 0 9)\r\n']
    # An empty list removes every limit; "" is the admin's own root.
    a.ok('SETQUOTA "" (STORAGE 1)')
    assert untagged(a.ok('GETQUOTA ""'), "QUOTA") == [b'* QUOTA "" (STORAGE 0 1)\r\n']
    a.ok(f'SETQUOTA "{USER}" ()')
    assert b"NO [NONEXISTENT]" in s.cmd('GETQUOTA ""')[-1]
    # Unknown roots, resources and syntax.
    assert b"NO [NONEXISTENT]" in a.cmd('SETQUOTA "nobody@quota.test" (STORAGE 1)')[-1]
    assert b"NO [CANNOT]" in a.cmd('SETQUOTA "" (MAILBOX 3)')[-1]
    for bad in ('SETQUOTA "" (STORAGE)', 'SETQUOTA "" (STORAGE x)',
                'SETQUOTA "" (STORAGE 1 STORAGE 2)', 'SETQUOTA ""',
                'SETQUOTA "" STORAGE 1', 'SETQUOTA "" (STORAGE 99999999999999999999)'):
        assert b"BAD" in a.cmd(bad)[-1], bad


def test_cairnctl_quota_options(qd):
    r = subprocess.run([CAIRNCTL, "-c", str(qd.conf), "user", "set", USER,
                        "--quota-messages", "lots"], capture_output=True, text=True)
    assert r.returncode != 0 and "quota-messages" in r.stderr
    ctl(qd, "user", "add", "new@quota.test", "--password", PASSWORD, "--quota", "2048",
        "--quota-messages", "5")
    out = qd.pg.psql("cairn", "SELECT quota_bytes, quota_messages FROM accounts"
                     " WHERE address = 'new@quota.test'")
    assert out.strip() == "2048|5"
    # --quota alone leaves the message limit alone.
    ctl(qd, "user", "set", "new@quota.test", "--quota", "4096")
    out = qd.pg.psql("cairn", "SELECT quota_bytes, quota_messages FROM accounts"
                     " WHERE address = 'new@quota.test'")
    assert out.strip() == "4096|5"


def test_concurrent_appends_stop_exactly_at_limit(qd):
    """Four sessions append at once past a 5-message limit: the usage row
    lock lets exactly five through, the rest get [OVERQUOTA]."""
    import threading
    ctl(qd, "user", "set", USER, "--quota-messages", "5")
    sessions = [Session(qd, USER) for _ in range(4)]
    results = []
    lock = threading.Lock()

    def worker(s, k):
        for i in range(3):
            last = s.cmd("APPEND INBOX", msg(k * 10 + i))[-1]
            with lock:
                results.append(last.split()[1])

    threads = [threading.Thread(target=worker, args=(s, k)) for k, s in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count(b"OK") == 5 and results.count(b"NO") == 7, results
    assert usage(qd, USER)[1] == 5
    st = sessions[0].ok("STATUS INBOX (MESSAGES)")
    assert untagged(st, "STATUS")[0].endswith(b"(MESSAGES 5)\r\n")
