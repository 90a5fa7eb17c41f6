"""QRESYNC (RFC 7162) and SEARCHRES (RFC 5182) over raw sockets and imaplib:
a client resynchronises after another session changed flags, expunged and
appended, and gets exactly those changes (VANISHED (EARLIER) + FETCH); live
VANISHED instead of EXPUNGE; UID FETCH (CHANGEDSINCE VANISHED); [CLOSED];
a 100,000-message mailbox resynchronised in a few lines; "$" in every
command that takes a set."""
import re
import time

import pytest

from imaplib_util import add_accounts
from test_imap import PASSWORD, USER, Raw, login, msg


@pytest.fixture
def imap(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"imap": {"idle_timeout": "60s", "max_bad_commands": "20"}})
    add_accounts(d, PASSWORD, USER)
    return d


class Session(Raw):
    """A logged-in raw session over implicit TLS; cmd() returns the lines."""

    def __init__(self, d):
        super().__init__(d.imaps_port, tls=True)
        self.n = 0
        self.cmd(f"LOGIN {USER} {PASSWORD}")

    def cmd(self, text, ok=True):
        self.n += 1
        tag = b"t%d" % self.n
        self.send(tag + b" " + text.encode() + b"\r\n")
        out = self.until(tag)
        if ok:
            assert out[-1].startswith(tag + b" OK"), out
        return out


def fill(d, n):
    m = login(d)
    for i in range(1, n + 1):
        m.append("INBOX", None, None, msg(i))
    m.logout()


def select_state(s, box="INBOX"):
    out = s.cmd(f"SELECT {box}")
    text = b"".join(out)
    uv = int(re.search(rb"UIDVALIDITY (\d+)", text).group(1))
    ms = int(re.search(rb"HIGHESTMODSEQ (\d+)", text).group(1))
    return uv, ms


def untagged(out):
    return [ln for ln in out[:-1] if ln.startswith(b"* ")]


def resync_lines(out):
    """The VANISHED and FETCH lines of a SELECT (QRESYNC ...) answer."""
    return [ln for ln in untagged(out) if b"VANISHED" in ln or b" FETCH " in ln]


def other_session_changes(d):
    """Flags on uids 2 and 5, uids 3 and 7 expunged, uid 11 appended."""
    o = Session(d)
    o.cmd("SELECT INBOX")
    o.cmd("UID STORE 2,5 +FLAGS (\\Flagged)")
    o.cmd("UID STORE 3,7 +FLAGS (\\Deleted)")
    o.cmd("UID EXPUNGE 3,7")
    o.cmd("LOGOUT", ok=False)
    o.close()
    m = login(d)
    m.append("INBOX", "(\\Seen)", None, msg(11))
    m.logout()


def test_enable_qresync(imap):
    fill(imap, 2)
    s = Session(imap)
    out = s.cmd("SELECT INBOX (QRESYNC (1 1))", ok=False)
    assert out[-1].startswith(b"t1 BAD") or out[-1].split()[1] == b"BAD"
    out = s.cmd("ENABLE QRESYNC")
    assert out[0] == b"* ENABLED QRESYNC\r\n"
    caps = b"".join(s.cmd("CAPABILITY"))
    for c in (b" QRESYNC", b" CONDSTORE", b" SEARCHRES"):
        assert c in caps
    # QRESYNC implies CONDSTORE: FETCH carries MODSEQ
    s.cmd("SELECT INBOX")
    out = s.cmd("FETCH 1 (FLAGS)")
    assert b"MODSEQ (" in out[0] and b"UID 1" in out[0]
    # bad parameters
    for bad in ("(QRESYNC)", "(QRESYNC (1))", "(QRESYNC (0 1))", "(QRESYNC (1 x))",
                "(QRESYNC (1 1 1:x))", "(QRESYNC (1 1 1:2 (1)))", "(QRESYNC (1 1) QRESYNC (1 1))",
                "(FOO)"):
        out = s.cmd(f"SELECT INBOX {bad}", ok=False)
        assert b" BAD " in out[-1], (bad, out)
    s.close()


def test_select_qresync_exact_changes(imap):
    fill(imap, 10)
    s = Session(imap)
    uv, ms = select_state(s)
    s.cmd("LOGOUT", ok=False)
    s.close()
    other_session_changes(imap)

    s = Session(imap)
    s.cmd("ENABLE QRESYNC")
    out = s.cmd(f"SELECT INBOX (QRESYNC ({uv} {ms}))")
    lines = resync_lines(out)
    assert lines[0] == b"* VANISHED (EARLIER) 3,7\r\n"
    fetches = {int(re.search(rb"UID (\d+)", ln).group(1)): ln for ln in lines[1:]}
    assert sorted(fetches) == [2, 5, 11], lines
    assert b"\\Flagged" in fetches[2] and b"\\Flagged" in fetches[5]
    assert b"\\Seen" in fetches[11]
    for ln in fetches.values():
        assert int(re.search(rb"MODSEQ \((\d+)\)", ln).group(1)) > ms
    # sequence numbers are those of the new view: uid 11 is the 9th message
    assert fetches[11].startswith(b"* 9 FETCH")
    assert b"* 9 EXISTS\r\n" in out
    # VANISHED (EARLIER) comes before the FETCHes, after the SELECT data
    assert out.index(lines[0]) > out.index(b"* 9 EXISTS\r\n")
    new_ms = int(re.search(rb"HIGHESTMODSEQ (\d+)", b"".join(out)).group(1))

    # known-uids restrict VANISHED (not the FETCHes)
    out = s.cmd(f"EXAMINE INBOX (QRESYNC ({uv} {ms} 1:5))")
    assert b"* OK [CLOSED]" in out[0]
    lines = resync_lines(out)
    assert lines[0] == b"* VANISHED (EARLIER) 3\r\n"
    assert len(lines) == 4
    # seq-match-data is accepted
    out = s.cmd(f"EXAMINE INBOX (QRESYNC ({uv} {ms} 1:10 (1:3 1,2,4)))")
    assert resync_lines(out)[0] == b"* VANISHED (EARLIER) 3,7\r\n"
    # up to date: nothing at all
    out = s.cmd(f"SELECT INBOX (QRESYNC ({uv} {new_ms}))")
    assert resync_lines(out) == []
    # another UIDVALIDITY: the parameter is ignored
    out = s.cmd(f"SELECT INBOX (QRESYNC ({uv + 1} {ms}))")
    assert resync_lines(out) == []
    # modseq 0: everything that exists plus every tombstone
    out = s.cmd(f"SELECT INBOX (QRESYNC ({uv} 0))")
    lines = resync_lines(out)
    assert lines[0] == b"* VANISHED (EARLIER) 3,7\r\n"
    assert len(lines) == 1 + 9
    # CONDSTORE together with QRESYNC
    out = s.cmd(f"SELECT INBOX (CONDSTORE QRESYNC ({uv} {ms} 7:*))")
    assert resync_lines(out)[0] == b"* VANISHED (EARLIER) 7\r\n"
    s.close()


def test_vanished_instead_of_expunge(imap):
    fill(imap, 8)
    a = Session(imap)
    a.cmd("ENABLE QRESYNC")
    a.cmd("SELECT INBOX")
    b = Session(imap)
    b.cmd("SELECT INBOX")
    b.cmd("UID STORE 2,4,5 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    b.cmd("UID STORE 1 +FLAGS.SILENT (\\Answered)")
    out = a.cmd("NOOP")
    text = b"".join(out)
    assert b"EXPUNGE" not in text
    assert b"* VANISHED 2,4:5\r\n" in out
    fetch = [ln for ln in out if b" FETCH " in ln]
    assert len(fetch) == 1 and b"UID 1 " in fetch[0] and b"\\Answered" in fetch[0]
    assert b"MODSEQ (" in fetch[0]
    # our own EXPUNGE and MOVE answer with VANISHED too
    a.cmd("UID STORE 6 +FLAGS (\\Deleted)")
    out = a.cmd("EXPUNGE")
    assert b"* VANISHED 6\r\n" in out and b"EXPUNGE\r\n" not in b"".join(out[:-1])
    a.cmd("CREATE Other")
    out = a.cmd("UID MOVE 7 Other")
    assert b"* VANISHED 7\r\n" in out
    # a session without QRESYNC still gets EXPUNGE
    out = b.cmd("NOOP")
    assert out.count(b"* 3 EXPUNGE\r\n") == 2 and b"VANISHED" not in b"".join(out)
    # no VANISHED during a sequence-number FETCH (RFC 3501 7.4.1 applies)
    b.cmd("UID STORE 8 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    out = a.cmd("FETCH 1 (FLAGS)")
    assert b"VANISHED" not in b"".join(out)
    out = a.cmd("NOOP")
    assert b"* VANISHED 8\r\n" in out
    a.close()
    b.close()


def test_uid_fetch_vanished(imap):
    fill(imap, 10)
    s = Session(imap)
    uv, ms = select_state(s)
    out = s.cmd(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {ms} VANISHED)", ok=False)
    assert b" BAD " in out[-1]
    s.close()
    other_session_changes(imap)
    s = Session(imap)
    s.cmd("ENABLE QRESYNC")
    s.cmd("SELECT INBOX")
    out = s.cmd(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {ms} VANISHED)")
    lines = untagged(out)
    assert lines[0] == b"* VANISHED (EARLIER) 3,7\r\n"
    assert sorted(int(re.search(rb"UID (\d+)", ln).group(1)) for ln in lines[1:]) == [2, 5, 11]
    out = s.cmd(f"UID FETCH 4:6 (FLAGS) (CHANGEDSINCE {ms} VANISHED)")
    lines = untagged(out)
    assert b"VANISHED" not in b"".join(lines)
    assert len(lines) == 1 and b"UID 5 " in lines[0]
    out = s.cmd(f"UID FETCH 6:8 (FLAGS) (CHANGEDSINCE {ms} VANISHED)")
    assert untagged(out) == [b"* VANISHED (EARLIER) 7\r\n"]
    # VANISHED needs CHANGEDSINCE and UID FETCH
    for bad in ("UID FETCH 1:* (FLAGS) (VANISHED)", f"FETCH 1:* (FLAGS) (CHANGEDSINCE {ms} VANISHED)"):
        assert b" BAD " in s.cmd(bad, ok=False)[-1]
    s.close()


def test_closed_on_reselect(imap):
    fill(imap, 1)
    s = Session(imap)
    s.cmd("ENABLE QRESYNC")
    s.cmd("SELECT INBOX")
    out = s.cmd("EXAMINE INBOX")
    assert out[0].startswith(b"* OK [CLOSED]")
    # a failed SELECT leaves the client unselected, with [CLOSED] first
    out = s.cmd("SELECT Nope", ok=False)
    assert out[0].startswith(b"* OK [CLOSED]") and b" NO " in out[-1]
    assert b" BAD " in s.cmd("FETCH 1 FLAGS", ok=False)[-1]
    s.close()


def test_qresync_100000_messages(imap):
    """A phone that was away resynchronises a 100,000-message mailbox:
    three flag changes and two expunges cost a few short lines."""
    from test_imap_large import fill_mailbox
    fill_mailbox(imap, 100000, unseen_uid=1)
    # the rows were made in SQL: account for them as appends would
    imap.pg.psql("cairn", """
        UPDATE mail_usage u SET messages = s.n, bytes = s.b
        FROM (SELECT mb.account_id, count(*) AS n, sum(mm.size) AS b
              FROM mailbox_messages mm JOIN mailboxes mb ON mb.id = mm.mailbox_id
              GROUP BY mb.account_id) s WHERE s.account_id = u.account_id;""")
    s = Session(imap)
    uv, ms = select_state(s)
    s.close()
    o = Session(imap)
    o.cmd("SELECT INBOX")
    o.cmd("UID STORE 10,50000,99999 +FLAGS.SILENT (\\Flagged)")
    o.cmd("UID STORE 20,70000 +FLAGS.SILENT (\\Deleted)")
    o.cmd("UID EXPUNGE 20,70000")
    o.close()
    s = Session(imap)
    s.cmd("ENABLE QRESYNC")
    t0 = time.monotonic()
    out = s.cmd(f"SELECT INBOX (QRESYNC ({uv} {ms} 1:100000))")
    elapsed = time.monotonic() - t0
    lines = resync_lines(out)
    assert lines[0] == b"* VANISHED (EARLIER) 20,70000\r\n"
    assert [int(re.search(rb"UID (\d+)", ln).group(1)) for ln in lines[1:]] == [10, 50000, 99999]
    total = sum(len(ln) for ln in out)
    assert len(out) < 20 and total < 1500, out
    print(f"QRESYNC SELECT of 100,000 known UIDs: {elapsed * 1000:.0f} ms")
    s.close()


def test_searchres(imap):
    fill(imap, 6)
    s = Session(imap)
    s.cmd("SELECT INBOX")
    # "$" before any SAVE is empty
    out = s.cmd("FETCH $ (FLAGS)")
    assert untagged(out) == []
    s.cmd("STORE 2,4,5 +FLAGS.SILENT (\\Flagged)")
    out = s.cmd("SEARCH RETURN (SAVE) FLAGGED")
    assert untagged(out) == []  # SAVE alone: no ESEARCH
    out = s.cmd("FETCH $ (UID)")
    assert sorted(int(re.search(rb"UID (\d+)", ln).group(1)) for ln in untagged(out)) == [2, 4, 5]
    out = s.cmd("SEARCH $ SINCE 1-Jan-2000")
    assert out[0] == b"* SEARCH 2 4 5\r\n"
    out = s.cmd("UID SEARCH UID $ NOT 4")
    assert out[0] == b"* SEARCH 2 5\r\n"
    out = s.cmd("SEARCH OR $ 1")
    assert out[0] == b"* SEARCH 1 2 4 5\r\n"
    s.cmd("STORE $ +FLAGS.SILENT (\\Answered)")
    out = s.cmd("SEARCH ANSWERED")
    assert out[0] == b"* SEARCH 2 4 5\r\n"
    s.cmd("CREATE Saved")
    out = s.cmd("COPY $ Saved")
    assert b"COPYUID" in out[-1]
    # SAVE with other options: ESEARCH for those, MIN/MAX saved alone
    out = s.cmd("SEARCH RETURN (SAVE COUNT) ANSWERED")
    assert out[0].startswith(b"* ESEARCH (TAG ") and out[0].endswith(b") COUNT 3\r\n")
    out = s.cmd("SEARCH RETURN (SAVE MIN MAX) ANSWERED")
    assert b"MIN 2 MAX 5" in out[0]
    out = s.cmd("UID FETCH $ (UID)")
    assert sorted(int(re.search(rb"UID (\d+)", ln).group(1)) for ln in untagged(out)) == [2, 5]
    out = s.cmd("SEARCH RETURN (SAVE MIN) ANSWERED")
    out = s.cmd("SEARCH $")
    assert out[0] == b"* SEARCH 2\r\n"
    # an expunged saved message drops out of "$"
    s.cmd("SEARCH RETURN (SAVE) ANSWERED")
    s.cmd("UID STORE 4 +FLAGS.SILENT (\\Deleted)")
    s.cmd("UID EXPUNGE 4")
    out = s.cmd("UID SEARCH $")
    assert out[0] == b"* SEARCH 2 5\r\n"
    # MOVE and UID EXPUNGE with "$"
    s.cmd("SEARCH RETURN (SAVE) UID 5")
    out = s.cmd("MOVE $ Saved")
    assert b"* 4 EXPUNGE\r\n" in out
    s.cmd("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
    s.cmd("SEARCH RETURN (SAVE) DELETED")
    out = s.cmd("UID EXPUNGE $")
    assert b"* 2 EXPUNGE\r\n" in out
    # a failed SEARCH RETURN (SAVE) empties "$"
    s.cmd("SEARCH RETURN (SAVE) ALL")
    assert len(untagged(s.cmd("FETCH $ (UID)"))) == 3
    assert b" BAD " in s.cmd("SEARCH RETURN (SAVE) FROB", ok=False)[-1]
    assert untagged(s.cmd("FETCH $ (UID)")) == []
    # reselecting empties it too
    s.cmd("SEARCH RETURN (SAVE) ALL")
    s.cmd("SELECT INBOX")
    assert untagged(s.cmd("FETCH $ (UID)")) == []
    s.close()
    # and imaplib can drive it
    m = login(imap)
    m.select("Saved")
    typ, data = m._simple_command("SEARCH", "RETURN", "(SAVE)", "ALL")
    assert typ == "OK"
    typ, data = m.fetch("$", "(UID)")
    assert typ == "OK" and len([x for x in data if x]) == 4
    m.logout()
