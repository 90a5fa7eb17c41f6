"""The IMAP gateway on big mailboxes (issue 6): a 50,000-message mailbox is
filled with SQL (one appended message, then rows sharing its blob), SELECT
reports the right EXISTS/UNSEEN, and FETCH 1:* streams: while the client
reads nothing, cairnd's memory stays bounded instead of queueing the whole
answer; windows of the batched FETCH meet exactly at their edges."""
import fcntl
import imaplib
import os
import re
import socket
import ssl
import termios
import time

import pytest

from imaplib_util import ctl
from test_imap import PASSWORD, USER, login

N = 50000
SUBJECT = "a long subject to make every envelope several hundred bytes " * 6


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def fill_mailbox(d, n, unseen_uid):
    """INBOX of USER gets uids 1..n sharing the blob of one appended message;
    all \\Seen except unseen_uid."""
    m = login(d)
    m.append("INBOX", "(\\Seen)", None,
             (f"From: Big Sender <big@remote.test>\r\nTo: {USER}\r\nSubject: {SUBJECT}\r\n"
              "Message-ID: <big@remote.test>\r\n\r\nbody\r\n").encode())
    m.logout()
    d.pg.psql("cairn", f"""
        INSERT INTO mailbox_messages (mailbox_id, uid, modseq, internaldate, flags, blob_id, size)
        SELECT mm.mailbox_id, g, mb.highestmodseq + g, mm.internaldate,
               CASE WHEN g = {unseen_uid} THEN 0 ELSE 1 END, mm.blob_id, mm.size
        FROM mailbox_messages mm JOIN mailboxes mb ON mb.id = mm.mailbox_id
        JOIN accounts a ON a.id = mb.account_id, generate_series(2, {n}) g
        WHERE a.address = '{USER}' AND mb.name = 'INBOX' AND mm.uid = 1;
        UPDATE mailboxes mb SET uidnext = {n} + 1, highestmodseq = highestmodseq + {n} + 1,
               first_recent_uid = {n} + 1
        FROM accounts a WHERE a.id = mb.account_id AND a.address = '{USER}'
          AND mb.name = 'INBOX';""")


@pytest.fixture
def big(cairnd_factory, pg, monkeypatch):
    pg.reset_db()
    # Under AddressSanitizer freed memory sits in a quarantine that would
    # hide whether the daemon's memory is bounded: measure without it.
    monkeypatch.setenv("ASAN_OPTIONS", ":".join(filter(None, [
        os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=0"])))
    d = cairnd_factory({"imap": {"idle_timeout": "120s"}}, start=False)
    d.start()
    ctl(d, "domain", "add", "imap.test")
    ctl(d, "user", "add", USER, "--password", PASSWORD)
    fill_mailbox(d, N, unseen_uid=40000)
    return d


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def jobs_busy(d):
    """cairn_jobs_running + cairn_jobs_queued from /metrics."""
    status, _, body = d.get("/metrics")
    assert status == 200
    got = dict(re.findall(rb"^cairn_jobs_(running|queued) (\d+)$", body, re.M))
    return int(got[b"running"]) + int(got[b"queued"])


def wait_stalled(d, c, timeout=60):
    """Until the answer has started arriving in c's socket and the daemon
    has had no job running or queued in three readings in a row."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 3:
        assert time.monotonic() < deadline, "the daemon never went idle"
        waiting = fcntl.ioctl(c.s.fileno(), termios.FIONREAD, b"\0\0\0\0")
        started = int.from_bytes(waiting, "little") > 0
        quiet = quiet + 1 if started and jobs_busy(d) == 0 else 0
        time.sleep(0.1)


class Client:
    def __init__(self, port, rcvbuf=None):
        s = socket.socket()
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(60)
        s.connect(("127.0.0.1", port))
        self.s = tls_ctx().wrap_socket(s)
        self.f = self.s.makefile("rb")
        self.f.readline()

    def cmd(self, tag, text):
        self.s.sendall(f"{tag} {text}\r\n".encode())

    def until(self, tag):
        out = []
        while True:
            ln = self.f.readline()
            if not ln:
                raise EOFError(b"".join(out[-3:]))
            out.append(ln)
            m = re.search(rb"\{(\d+)\}\r\n$", ln)
            if m:
                out.append(self.f.read(int(m.group(1))))
            if ln.startswith(tag.encode() + b" "):
                return out


def test_select_and_streamed_fetch(big):
    c = Client(big.imaps_port, rcvbuf=32768)
    c.cmd("1", f"LOGIN {USER} {PASSWORD}")
    c.until("1")
    t0 = time.monotonic()
    c.cmd("2", "SELECT INBOX")
    out = b"".join(c.until("2"))
    print(f"SELECT of {N} messages: {(time.monotonic() - t0) * 1000:.0f} ms")
    assert b"* %d EXISTS" % N in out and b"[UNSEEN 40000]" in out, out
    assert b"2 OK [READ-WRITE]" in out
    before = rss_kb(big.pid)
    c.cmd("3", "FETCH 1:* (FLAGS ENVELOPE)")
    # The client reads nothing: wait until the server has done all it will
    # do without the client reading (answer bytes wait in the client's
    # socket, no job running or queued), then measure.
    wait_stalled(big, c)
    stalled = rss_kb(big.pid)
    total = 0
    seqs = []
    for ln in c.until("3"):
        total += len(ln)
        m = re.match(rb"\* (\d+) FETCH \(FLAGS \(([^)]*)\) ENVELOPE \(", ln)
        if m:
            seqs.append(int(m.group(1)))
            assert (m.group(2) == b"") == (int(m.group(1)) == 40000), ln
            assert SUBJECT.strip().encode() in ln
        else:
            assert ln == b"3 OK FETCH completed\r\n", ln
    assert seqs == list(range(1, N + 1))
    growth = stalled - before
    print(f"FETCH 1:* (FLAGS ENVELOPE): {total / 1e6:.1f} MB answer, daemon RSS "
          f"{before // 1024} MB before, +{growth / 1024:.1f} MB while the client did not read")
    # Queueing the whole answer would take more than the answer's size; a
    # sanitizer build's allocator keeps ~12 MB of its own, a plain one ~2 MB.
    assert total > 25e6
    assert growth * 1024 < 16e6, f"RSS grew by {growth} kB"
    c.cmd("4", "LOGOUT")
    c.until("4")


def test_batched_fetch_edges(big):
    m = login(big)
    m.select("INBOX", readonly=True)
    typ, resp = m.uid("FETCH", "1,500:502,1000,40000,49999:*", "(FLAGS)")
    uids = [int(re.search(rb"UID (\d+)", r).group(1)) for r in resp]
    assert uids == [1, 500, 501, 502, 1000, 40000, 49999, 50000]
    # Raw sections come in smaller windows: 30..70 crosses two edges.
    typ, resp = m.fetch("30:70", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    got = [int(r[0].split()[0]) for r in resp if isinstance(r, tuple)]
    assert got == list(range(30, 71))
    assert all(r[1] == b"Message-ID: <big@remote.test>\r\n\r\n" for r in resp if isinstance(r, tuple))
    # A set given out of order and overlapping still answers each message once.
    typ, resp = m.fetch("600,3,1:4,599:601", "(UID)")
    assert [int(r.split()[0]) for r in resp] == [1, 2, 3, 4, 599, 600, 601]
    m.logout()


def test_client_gone_during_fetch(big):
    c = Client(big.imaps_port, rcvbuf=16384)
    c.cmd("1", f"LOGIN {USER} {PASSWORD}")
    c.until("1")
    c.cmd("2", "SELECT INBOX")
    c.until("2")
    c.cmd("3", "FETCH 1:* (FLAGS ENVELOPE)")
    assert c.f.readline().startswith(b"* 1 FETCH")
    time.sleep(0.5)
    c.s.close()
    time.sleep(0.5)
    m = login(big)                    # the daemon carries on
    assert m.noop()[0] == "OK"
    assert m.select("INBOX")[1] == [b"%d" % N]
    m.logout()
