"""IMAP NOTIFY (RFC 5465) over raw sockets: one watching session and one
session (or several) making changes. The watcher gets STATUS for new mail,
expunges and (with CONDSTORE) flag changes in mailboxes it does not have
selected, EXISTS/FETCH/EXPUNGE for the selected one, also between commands
and not only in IDLE; LIST responses for mailboxes created, renamed (with
OLDNAME) and deleted and for (un)subscriptions; the filters SELECTED,
SELECTED-DELAYED, PERSONAL, INBOXES, SUBSCRIBED, SUBTREE and MAILBOXES; the
grammar errors (BAD) and unsupported events (NO [BADEVENT (...)]); NOTIFY
NONE; and [NOTIFICATIONOVERFLOW] when the watcher stops reading."""
import re
import select
import socket
import time

import pytest

from imaplib_util import add_accounts

PASSWORD = "notify-secret-1"
USER = "nuser@notify.test"
OTHER = "nother@notify.test"
SUPPORTED = b"[BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)]"


@pytest.fixture
def imap(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"imap": {"idle_timeout": "60s", "plaintext_auth": "yes",
                                 "max_bad_commands": "50", "notify_max_queued": "4k"}})
    add_accounts(d, PASSWORD, USER, OTHER)
    return d


class Raw:
    """A line-oriented raw IMAP client."""

    def __init__(self, port, rcvbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(20)
        s.connect(("127.0.0.1", port))
        self.s = s
        self.buf = b""
        self.n = 0
        self.greeting = self.line()

    def send(self, data):
        self.s.sendall(data)

    def _more(self, timeout=20):
        self.s.settimeout(timeout)
        raw = self.s.recv(65536)
        if not raw:
            raise EOFError(self.buf)
        self.buf += raw

    def line(self, timeout=20):
        while b"\r\n" not in self.buf:
            self._more(timeout)
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def cmd(self, text):
        """Send a command; return (untagged lines, tagged line)."""
        self.n += 1
        tag = f"c{self.n}".encode()
        self.send(tag + b" " + text.encode() + b"\r\n")
        out = []
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                return out, ln
            out.append(ln)

    def ok(self, text):
        out, tagged = self.cmd(text)
        assert b" OK" in tagged, (text, out, tagged)
        return out

    def login(self, user=USER):
        self.ok(f"LOGIN {user} {PASSWORD}")

    def wait_for(self, pattern, timeout=10):
        """Read unsolicited lines until one matches; return all read."""
        seen = []
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            assert left > 0, f"no line matching {pattern!r}; got {seen!r}"
            try:
                ln = self.line(timeout=left)
            except socket.timeout:
                continue
            seen.append(ln)
            if re.search(pattern, ln):
                return seen

    def quiet(self, wait=1.5):
        """Nothing arrives for wait seconds (buffered lines count too)."""
        if self.buf:
            return False
        r, _, _ = select.select([self.s], [], [], wait)
        return not r

    def close(self):
        self.s.close()


def append(c, mailbox, subject="hello", flags=""):
    msg = (f"From: a@notify.test\r\nTo: {USER}\r\nSubject: {subject}\r\n\r\nbody\r\n").encode()
    c.n += 1
    tag = f"c{c.n}".encode()
    c.send(tag + f" APPEND {mailbox} ({flags}) {{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
    while True:
        ln = c.line()
        if ln.startswith(tag + b" "):
            assert b" OK" in ln, ln
            return


def test_capability_and_errors(imap):
    c = Raw(imap.imap_port)
    out, tagged = c.cmd("NOTIFY NONE")
    assert b"BAD" in tagged             # not before login
    c.login()
    caps = c.ok("CAPABILITY")
    assert b" NOTIFY" in caps[0]
    bad = [
        "NOTIFY",
        "NOTIFY SET",
        "NOTIFY SET (selected (MessageNew))",
        "NOTIFY SET (personal (MessageExpunge))",
        "NOTIFY SET (personal (FlagChange))",
        "NOTIFY SET (personal (MessageNew (UID) MessageExpunge))",
        "NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))",
        "NOTIFY SET (subtree (MessageNew MessageExpunge))",
        "NOTIFY SET (nosuch (MessageNew MessageExpunge))",
        "NOTIFY SET (selected (MessageNew (BODY.PEEK[]) MessageExpunge))",
        "NOTIFY SET (selected (MessageNew (RFC822) MessageExpunge))",
        "NOTIFY FOO",
    ]
    for text in bad:
        out, tagged = c.cmd(text)
        assert b" BAD " in tagged, (text, tagged)
    for events in ("(MessageNew MessageExpunge AnnotationChange)", "(ServerMetadataChange)",
                   "(MailboxMetadataChange)", "(FooBar)"):
        out, tagged = c.cmd(f"NOTIFY SET (personal {events})")
        assert b" NO " in tagged and SUPPORTED in tagged, (events, tagged)
    # Still usable: a good NOTIFY after all of that.
    c.ok("NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange))"
         " (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))")
    c.ok("NOTIFY NONE")
    c.close()


def test_status_for_other_mailboxes(imap):
    w = Raw(imap.imap_port)
    w.login()
    o = Raw(imap.imap_port)
    o.login()
    out = w.ok("NOTIFY SET STATUS (personal (MessageNew MessageExpunge))")
    # The STATUS indicator: one STATUS per watched mailbox before the OK.
    names = {re.match(rb'\* STATUS "?([^" ]+)"? \(', ln).group(1) for ln in out}
    assert {b"INBOX", b"Drafts", b"Sent", b"Trash", b"Junk", b"Archive"} <= names, out
    assert all(re.search(rb"\(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+\)$", ln) for ln in out), out
    # Between commands, no IDLE: a new message in Archive is pushed.
    append(o, "Archive")
    seen = w.wait_for(rb"^\* STATUS Archive ")
    assert re.search(rb"^\* STATUS Archive \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+\)$", seen[-1])
    # A flag change is not asked for: nothing comes.
    o.ok("SELECT Archive")
    o.ok("STORE 1 +FLAGS (\\Flagged)")
    assert w.quiet()
    # An expunge is.
    o.ok("STORE 1 +FLAGS (\\Deleted)")
    o.ok("EXPUNGE")
    seen = w.wait_for(rb"^\* STATUS Archive ")
    assert re.search(rb"\(MESSAGES 0 UIDNEXT 2 ", seen[-1]), seen
    # Commands still work and are answered in order.
    w.ok("NOOP")
    append(o, "Drafts", "second")
    w.wait_for(rb"^\* STATUS Drafts \(MESSAGES 1 UIDNEXT 2 ")
    # Also in IDLE.
    w.send(b"i IDLE\r\n")
    assert w.line().startswith(b"+ ")
    append(o, "Sent")
    w.wait_for(rb"^\* STATUS Sent \(MESSAGES 1 UIDNEXT 2 ")
    w.send(b"DONE\r\n")
    assert w.line().startswith(b"i OK")
    # NOTIFY NONE stops them.
    w.ok("NOTIFY NONE")
    append(o, "Sent")
    assert w.quiet()
    out = w.ok("STATUS Sent (MESSAGES)")
    assert b"MESSAGES 2" in out[0]
    w.close()
    o.close()


def test_flag_change_with_condstore(imap):
    w = Raw(imap.imap_port)
    w.login()
    w.ok("ENABLE CONDSTORE")
    o = Raw(imap.imap_port)
    o.login()
    append(o, "Trash")
    w.ok("NOTIFY SET (personal (MessageNew MessageExpunge FlagChange))")
    o.ok("SELECT Trash")
    o.ok("STORE 1 +FLAGS (\\Seen)")
    seen = w.wait_for(rb"^\* STATUS Trash ")
    assert re.search(rb"\(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ HIGHESTMODSEQ \d+\)$", seen[-1])
    w.close()
    o.close()


def test_selected_mailbox_between_commands(imap):
    w = Raw(imap.imap_port)
    w.login()
    o = Raw(imap.imap_port)
    o.login()
    w.ok("SELECT INBOX")
    out = w.ok("NOTIFY SET STATUS (selected (MessageNew (UID FLAGS ENVELOPE) MessageExpunge"
               " FlagChange)) (personal (MessageNew MessageExpunge))")
    # The STATUS indicator leaves the selected mailbox out.
    assert any(ln.startswith(b"* STATUS Drafts ") for ln in out), out
    assert not any(ln.startswith(b"* STATUS INBOX ") for ln in out), out
    append(o, "INBOX", "first news")
    seen = w.wait_for(rb"^\* 1 FETCH ")
    assert b"* 1 EXISTS" in seen, seen
    assert re.search(rb"^\* 1 FETCH \(UID 1 FLAGS \([^)]*\) ENVELOPE \(.*\"first news\"", seen[-1])
    # The selected mailbox gets no STATUS.
    assert not any(ln.startswith(b"* STATUS INBOX") for ln in seen)
    append(o, "INBOX", "second")
    seen = w.wait_for(rb"^\* 2 FETCH ")
    assert b"* 2 EXISTS" in seen
    # Flags changed by the other session.
    o.ok("SELECT INBOX")
    o.ok("STORE 1 +FLAGS (\\Flagged)")
    seen = w.wait_for(rb"^\* 1 FETCH \(.*FLAGS")
    assert b"\\Flagged" in seen[-1]
    # An expunge is sent at once (SELECTED, not SELECTED-DELAYED).
    o.ok("STORE 1 +FLAGS (\\Deleted)")
    o.ok("EXPUNGE")
    w.wait_for(rb"^\* 1 EXPUNGE$")
    out = w.ok("FETCH 1:* (UID)")
    assert out == [b"* 1 FETCH (UID 2)"], out
    # Other mailboxes still come as STATUS.
    append(o, "Junk")
    w.wait_for(rb"^\* STATUS Junk \(MESSAGES 1 ")
    # In IDLE the same, with MessageNew's FETCH.
    w.send(b"i IDLE\r\n")
    assert w.line().startswith(b"+ ")
    append(o, "INBOX", "third")
    seen = w.wait_for(rb"^\* 2 FETCH \(UID 3 ")
    assert b"* 2 EXISTS" in seen and b'"third"' in seen[-1], seen
    w.send(b"DONE\r\n")
    assert w.line().startswith(b"i OK")
    w.close()
    o.close()


def test_selected_delayed_holds_expunges(imap):
    w = Raw(imap.imap_port)
    w.login()
    o = Raw(imap.imap_port)
    o.login()
    append(o, "INBOX")
    w.ok("SELECT INBOX")
    w.ok("NOTIFY SET (selected-delayed (MessageNew MessageExpunge))")
    append(o, "INBOX")
    w.wait_for(rb"^\* 2 EXISTS$")
    o.ok("SELECT INBOX")
    o.ok("STORE 1 +FLAGS (\\Deleted)")
    # Unsolicited FETCH FLAGS may come (RFC 3501 7.4.2), the EXPUNGE not.
    w.wait_for(rb"^\* 1 FETCH \(.*FLAGS \(\\Deleted")
    o.ok("EXPUNGE")
    assert w.quiet()
    out = w.ok("NOOP")           # a command that allows EXPUNGE
    assert b"* 1 EXPUNGE" in out, out
    w.close()
    o.close()


def test_without_selected_filter(imap):
    """No SELECTED filter: changes of the selected mailbox wait for a command."""
    w = Raw(imap.imap_port)
    w.login()
    o = Raw(imap.imap_port)
    o.login()
    w.ok("SELECT INBOX")
    w.ok("NOTIFY SET (personal (MessageNew MessageExpunge))")
    append(o, "INBOX")
    assert w.quiet()
    out = w.ok("NOOP")
    assert b"* 1 EXISTS" in out
    w.close()
    o.close()


def test_mailbox_name_and_subscription_events(imap):
    w = Raw(imap.imap_port)
    w.login()
    o = Raw(imap.imap_port)
    o.login()
    w.ok("NOTIFY SET (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))")
    o.ok("CREATE Projects")
    w.wait_for(rb'^\* LIST \(\) "/" Projects$')
    o.ok("CREATE &AMk-t&AOk-")                 # modified UTF-7
    w.wait_for(rb'^\* LIST \(\) "/" &AMk-t&AOk-$')
    # A new mailbox is watched for messages too.
    append(o, "Projects")
    w.wait_for(rb"^\* STATUS Projects \(MESSAGES 1 UIDNEXT 2 ")
    o.ok("CREATE Projects/Alpha")
    w.wait_for(rb'^\* LIST \(\) "/" Projects/Alpha$')
    o.ok("RENAME Projects Work")
    # One LIST per renamed mailbox, the children too (in mailbox id order).
    w.wait_for(rb'^\* LIST \(\) "/" Work \("OLDNAME" \(Projects\)\)$')
    assert w.line() == b'* LIST () "/" Work/Alpha ("OLDNAME" (Projects/Alpha))'
    o.ok("SUBSCRIBE Work")
    w.wait_for(rb'^\* LIST \(\\Subscribed\) "/" Work$')
    o.ok("UNSUBSCRIBE Work")
    w.wait_for(rb'^\* LIST \(\) "/" Work$')
    o.ok("DELETE Work/Alpha")
    w.wait_for(rb'^\* LIST \(\\NonExistent\) "/" Work/Alpha$')
    o.ok("DELETE Work")
    w.wait_for(rb'^\* LIST \(\\NonExistent\) "/" Work$')
    # The renamed mailbox keeps being watched under its new name... and
    # after it is gone nothing is said about it.
    w.ok("NOOP")
    assert w.quiet(1.0)
    w.close()
    o.close()


def test_filters(imap):
    w = Raw(imap.imap_port)
    w.login()
    o = Raw(imap.imap_port)
    o.login()
    o.ok("CREATE Work/Deep/Er")
    o.ok("CREATE Workshop")
    w.ok("NOTIFY SET (mailboxes (Drafts Nosuch) (MessageNew MessageExpunge))"
         " (subtree Work (MessageNew MessageExpunge)) (inboxes (MessageNew MessageExpunge))")
    for box in ("Sent", "Workshop"):
        append(o, box)
    assert w.quiet()
    append(o, "Drafts")
    w.wait_for(rb"^\* STATUS Drafts ")
    append(o, "Work/Deep/Er")
    w.wait_for(rb"^\* STATUS Work/Deep/Er ")
    append(o, "INBOX")
    w.wait_for(rb"^\* STATUS INBOX ")
    append(o, "Junk")                      # INBOXES: where delivery puts mail
    w.wait_for(rb"^\* STATUS Junk ")
    # MailboxName was not asked for: creating a mailbox says nothing.
    o.ok("CREATE Work/New")
    assert w.quiet()
    # ...but the new one is in the subtree and watched.
    append(o, "Work/New")
    w.wait_for(rb"^\* STATUS Work/New ")
    # SUBSCRIBED follows subscriptions as they change. SubscriptionChange on
    # the personal mailboxes tells when the watcher has seen the change (its
    # LIST comes from the same refresh of the mailbox list).
    w.ok("NOTIFY SET (subscribed (MessageNew MessageExpunge)) (personal (SubscriptionChange))")
    append(o, "Workshop")
    assert w.quiet()
    o.ok("SUBSCRIBE Workshop")
    w.wait_for(rb'^\* LIST \([^)]*\\Subscribed[^)]*\) "[^"]*" "?Workshop"?$')
    append(o, "Workshop")
    w.wait_for(rb"^\* STATUS Workshop \(MESSAGES 3 ")
    w.close()
    o.close()


def test_overflow(imap):
    """A watcher that stops reading gets [NOTIFICATIONOVERFLOW] and no more."""
    w = Raw(imap.imap_port, rcvbuf=4096)
    w.login()
    o = Raw(imap.imap_port)
    o.login()
    w.ok("SELECT INBOX")
    w.ok("NOTIFY SET (selected (MessageNew (ENVELOPE) MessageExpunge))")
    # The watcher reads nothing while MULTIAPPENDs pile up megabytes of
    # FETCH ENVELOPE (more than the kernel's socket buffers hold).
    subject = "\r\n ".join(["x" * 900] * 4)
    for batch in range(3):
        parts = []
        for i in range(500):
            msg = (f"From: a@notify.test\r\nSubject: {subject} {batch} {i}\r\n\r\nbody\r\n").encode()
            parts.append(b" () {%d+}\r\n" % len(msg) + msg)
        o.send(b"m APPEND INBOX" + b"".join(parts) + b"\r\n")
        while True:
            ln = o.line(timeout=60)
            if ln.startswith(b"m "):
                assert b" OK" in ln, ln
                break
    append(o, "INBOX", "one more")
    deadline = time.monotonic() + 60
    lines = []
    while not any(b"NOTIFICATIONOVERFLOW" in ln for ln in lines):
        assert time.monotonic() < deadline, lines[-5:]
        lines.append(w.line())
    assert re.match(rb"^\* OK \[NOTIFICATIONOVERFLOW\]", lines[-1]), lines[-1]
    # Drain what was queued before the overflow line, then: nothing more.
    while not w.quiet(1.0):
        w.line()
    append(o, "INBOX", "after")
    assert w.quiet()
    out = w.ok("NOOP")
    assert any(re.match(rb"^\* \d+ EXISTS$", ln) for ln in out), out[-3:]
    w.close()
    o.close()
