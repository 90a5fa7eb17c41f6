"""IMAP METADATA (RFC 5464), OBJECTID (RFC 8474) and SAVEDATE (RFC 8514)
against a real cairnd, over raw sockets and imaplib: private entries per
user and shared ones for everybody (two users at once), server entries
(/shared set by administrators only, /shared/admin from the config), the
limits (MAXSIZE, TOOMANY, LONGENTRIES), DEPTH, literal, literal8 and NIL
values, /private/specialuse as the special-use attribute, entries carried
over by RENAME and gone with DELETE; MAILBOXID stable across RENAME,
EMAILID across COPY and MOVE, THREADID NIL; SAVEDATE fetched and searched."""
import imaplib
import re

import pytest

from imaplib_util import add_accounts, ctl
from test_imap import msg, PASSWORD
from test_imap_quota import Session, untagged

USER = "ann@meta.test"
OTHER = "bob@meta.test"
ADMIN = "root@meta.test"
ADMIN_URI = "mailto:postmaster@meta.test"


@pytest.fixture
def md(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"imap": {"plaintext_auth": "yes", "metadata_max_value": "1k",
                                 "metadata_max_entries": "5", "metadata_admin": ADMIN_URI}})
    add_accounts(d, PASSWORD, USER, OTHER, ADMIN)
    ctl(d, "user", "set", ADMIN, "--admin", "yes")
    return d


def metadata(lines):
    """The METADATA responses of a command as one bytes string."""
    return b"".join(ln for ln in lines if not re.match(rb"^q\d+ ", ln))


def test_capabilities_and_server_entries(md):
    ann, bob, boss = Session(md, USER), Session(md, OTHER), Session(md, ADMIN)
    caps = ann.ok("CAPABILITY")[0].split()
    for c in (b"METADATA", b"METADATA-SERVER", b"OBJECTID", b"SAVEDATE"):
        assert c in caps
    # /shared/admin comes from the configuration and cannot be set.
    lines = ann.ok('GETMETADATA "" /shared/admin')
    assert untagged(lines, "METADATA") == [b'* METADATA "" (/shared/admin "%s")\r\n'
                                           % ADMIN_URI.encode()]
    assert b"NO [NOPERM]" in boss.cmd('SETMETADATA "" (/shared/admin "x")')[-1]
    # Server /shared entries: administrators only; everybody reads them.
    assert b"NO [NOPERM]" in ann.cmd('SETMETADATA "" (/shared/comment "hi")')[-1]
    boss.ok('SETMETADATA "" (/shared/comment "Server of the month")')
    lines = bob.ok('GETMETADATA "" /shared/comment')
    assert untagged(lines, "METADATA") == [b'* METADATA "" (/shared/comment "Server of the month")\r\n']
    # Server /private entries: one per user, invisible to the others.
    ann.ok('SETMETADATA "" (/private/vendor/cairn/x "ann")')
    bob.ok('SETMETADATA "" (/private/vendor/cairn/x "bob")')
    assert b'(/private/vendor/cairn/x "ann")' in metadata(ann.ok('GETMETADATA "" /private/vendor/cairn/x'))
    assert b'(/private/vendor/cairn/x "bob")' in metadata(bob.ok('GETMETADATA "" /private/vendor/cairn/x'))
    lines = boss.ok('GETMETADATA "" /private/vendor/cairn/x')
    assert untagged(lines, "METADATA") == [b'* METADATA "" (/private/vendor/cairn/x NIL)\r\n']
    # Names are case-insensitive (stored lower-case); NIL removes.
    bob.ok('SETMETADATA "" (/PRIVATE/Vendor/Cairn/X NIL)')
    assert b"(/private/vendor/cairn/x NIL)" in metadata(bob.ok('GETMETADATA "" /private/vendor/cairn/x'))
    assert b'"ann"' in metadata(ann.ok('GETMETADATA "" /private/vendor/cairn/x'))


def test_mailbox_entries_values_and_depth(md):
    ann = Session(md, USER)
    ann.ok("CREATE Work")
    ann.ok('SETMETADATA Work (/private/comment "mine" /shared/comment "for all")')
    lines = ann.ok("GETMETADATA Work (/shared/comment /private/comment)")
    got = metadata(lines)
    assert b'/private/comment "mine"' in got and b'/shared/comment "for all"' in got
    assert len(untagged(lines, "METADATA")) == 1
    # A literal with CRLF, an 8-bit value and a literal8 with NUL come back intact.
    ann.n += 1
    tag = b"q%d" % ann.n
    ann.send(tag + b" SETMETADATA Work (/private/vendor/a {6+}\r\nl1\r\nl2"
             b" /private/vendor/a/b ~{3+}\r\nx\x00y /private/vendor/a/b/c {5+}\r\ncaf\xc3\xa9)\r\n")
    lines = ann.until(tag)
    assert lines[-1].startswith(tag + b" OK"), lines
    got = metadata(ann.ok("GETMETADATA (DEPTH infinity) Work /private/vendor"))
    assert b"/private/vendor/a {6}\r\n" in got and b"l1\r\nl2" in got
    assert b"/private/vendor/a/b ~{3}\r\n" in got and b"x\x00y" in got
    assert b"/private/vendor/a/b/c {5}\r\n" in got and "café".encode() in got
    # DEPTH 0: the entry itself (NIL: it has no value); 1: its children.
    got = metadata(ann.ok("GETMETADATA Work /private/vendor"))
    assert got == b"* METADATA Work (/private/vendor NIL)\r\n"
    got = metadata(ann.ok("GETMETADATA (DEPTH 1) Work /private/vendor/a"))
    assert b"/private/vendor/a/b " in got and b"/private/vendor/a/b/c" not in got
    # A name that is no atom goes back quoted.
    ann.ok('SETMETADATA INBOX ("/shared/vendor/a(b)\\"c" "odd")')
    got = metadata(ann.ok('GETMETADATA INBOX "/shared/vendor/a(b)\\"c"'))
    assert got == b'* METADATA INBOX ("/shared/vendor/a(b)\\"c" "odd")\r\n'
    # Overlapping requests show each entry once.
    got = metadata(ann.ok("GETMETADATA (DEPTH infinity) Work (/private /private/vendor/a)"))
    assert got.count(b"/private/vendor/a/b ") == 1 and got.count(b"/private/comment ") == 1
    # MAXSIZE leaves long values out and says how long the longest was.
    lines = ann.ok("GETMETADATA (MAXSIZE 4 DEPTH infinity) Work /private/vendor")
    assert b"[METADATA LONGENTRIES 6]" in lines[-1]
    got = metadata(lines)
    assert b"/private/vendor/a/b ~{3}" in got and b"/private/vendor/a {6}" not in got
    # Errors.
    assert b"NO [NONEXISTENT]" in ann.cmd("GETMETADATA Nowhere /shared/comment")[-1]
    assert b"NO [NONEXISTENT]" in ann.cmd('SETMETADATA Nowhere (/shared/comment "x")')[-1]
    for bad in ("GETMETADATA Work /other/x", "GETMETADATA Work /shared/a*",
                "GETMETADATA (DEPTH 2) Work /shared/comment", "GETMETADATA Work",
                'SETMETADATA Work (/shared "x")', "SETMETADATA Work (/shared/x)",
                "SETMETADATA Work /shared/x", "SETMETADATA Work (/shared/x y)"):
        assert b" BAD " in ann.cmd(bad)[-1], bad


def test_private_shared_two_users(md):
    """Each user's /private entries are his own; /shared ones are common.
    Both sessions are open at once and see each other's shared changes."""
    ann, ann2 = Session(md, USER), Session(md, USER)
    ann.ok('SETMETADATA INBOX (/shared/comment "one" /private/comment "p1")')
    got = metadata(ann2.ok("GETMETADATA INBOX (/shared/comment /private/comment)"))
    assert b'"one"' in got and b'"p1"' in got
    ann2.ok('SETMETADATA INBOX (/shared/comment "two")')
    assert b'"two"' in metadata(ann.ok("GETMETADATA INBOX /shared/comment"))
    # Another user's INBOX is his own: nothing of ann's shows.
    bob = Session(md, OTHER)
    got = metadata(bob.ok("GETMETADATA INBOX (/shared/comment /private/comment)"))
    assert got == b"* METADATA INBOX (/shared/comment NIL /private/comment NIL)\r\n"
    bob.ok('SETMETADATA INBOX (/private/comment "bob")')
    assert b'"p1"' in metadata(ann.ok("GETMETADATA INBOX /private/comment"))
    rows = md.pg.psql("cairn", "SELECT count(*) FROM metadata_entries WHERE account_id IS NULL")
    assert rows.strip() == "1"


def test_limits(md):
    ann = Session(md, USER)
    big = b"x" * 1025
    ann.n += 1
    tag = b"q%d" % ann.n
    ann.send(tag + b" SETMETADATA INBOX (/private/big {1025+}\r\n" + big + b")\r\n")
    lines = ann.until(tag)
    assert b"NO [METADATA MAXSIZE 1024]" in lines[-1], lines
    # At most 5 entries per user on the mailbox; a command passing that
    # limit changes nothing.
    ann.ok('SETMETADATA INBOX (/private/e1 "1" /private/e2 "2" /shared/e3 "3" /private/e4 "4")')
    lines = ann.cmd('SETMETADATA INBOX (/private/e5 "5" /private/e6 "6")')
    assert b"NO [METADATA TOOMANY]" in lines[-1]
    assert b"/private/e5 NIL" in metadata(ann.ok("GETMETADATA INBOX /private/e5"))
    ann.ok('SETMETADATA INBOX (/private/e5 "5")')
    # Replacing or removing is fine at the limit.
    ann.ok('SETMETADATA INBOX (/private/e5 "five" /private/e1 NIL)')
    # More pairs in one command than the limit: refused as such.
    lines = ann.cmd('SETMETADATA INBOX (/private/f1 "1" /private/f2 "2" /private/f3 "3"'
                    ' /private/f4 "4" /private/f5 "5" /private/f6 "6")')
    assert b"NO [METADATA TOOMANY]" in lines[-1]
    # Another user's private entries do not count against ann.
    bob = Session(md, OTHER)
    bob.ok('SETMETADATA "" (/private/b1 "1" /private/b2 "2" /private/b3 "3" /private/b4 "4")')
    ann.ok('SETMETADATA "" (/private/a1 "1" /private/a2 "2" /private/a3 "3")')


def test_specialuse_entry(md):
    ann = Session(md, USER)
    lines = ann.ok("GETMETADATA Sent /private/specialuse")
    assert untagged(lines, "METADATA") == [b'* METADATA Sent (/private/specialuse "\\\\Sent")\r\n']
    ann.ok("CREATE Stuff")
    assert b"/private/specialuse NIL" in metadata(ann.ok("GETMETADATA Stuff /private/specialuse"))
    ann.ok('SETMETADATA Stuff (/private/specialuse "\\\\flagged")')
    lines = ann.ok('LIST "" Stuff')
    assert b"\\Flagged" in untagged(lines, "LIST")[0]
    got = metadata(ann.ok("GETMETADATA (DEPTH 1) Stuff /private"))
    assert b'/private/specialuse "\\\\Flagged"' in got
    assert b"NO [USEATTR]" in ann.cmd('SETMETADATA Stuff (/private/specialuse "\\\\Bogus")')[-1]
    assert b"NO [USEATTR]" in ann.cmd(
        'SETMETADATA Stuff (/private/specialuse "\\\\Sent \\\\Junk")')[-1]
    ann.ok("SETMETADATA Stuff (/private/specialuse NIL)")
    assert b"\\Flagged" not in untagged(ann.ok('LIST "" Stuff'), "LIST")[0]


def test_rename_and_delete(md):
    ann = Session(md, USER)
    ann.ok("CREATE Work")
    ann.ok('SETMETADATA Work (/shared/comment "kept" /private/comment "mine")')
    ann.ok("RENAME Work Job")
    got = metadata(ann.ok("GETMETADATA Job (/shared/comment /private/comment)"))
    assert b'"kept"' in got and b'"mine"' in got
    ann.ok("DELETE Job")
    ann.ok("CREATE Job")
    got = metadata(ann.ok("GETMETADATA Job (/shared/comment /private/comment)"))
    assert got == b"* METADATA Job (/shared/comment NIL /private/comment NIL)\r\n"
    # A mailbox with children stays as \Noselect: its entries go all the same.
    ann.ok("CREATE P/child")
    ann.ok('SETMETADATA P (/shared/comment "parent")')
    ann.ok("DELETE P")
    assert md.pg.psql("cairn", "SELECT count(*) FROM metadata_entries"
                      " WHERE value = 'parent'::bytea").strip() == "0"
    ann.ok("CREATE P")
    assert b"/shared/comment NIL" in metadata(ann.ok("GETMETADATA P /shared/comment"))


def test_objectid(md):
    ann = Session(md, USER)
    lines = ann.ok("CREATE Work")
    m = re.search(rb"\[MAILBOXID \((F\d+)\)\]", lines[-1])
    assert m, lines
    work_id = m.group(1)
    lines = ann.ok("SELECT Work")
    assert b"* OK [MAILBOXID (%s)]" % work_id in b"".join(lines)
    ann.ok("RENAME Work Job")
    lines = ann.ok("STATUS Job (MAILBOXID MESSAGES)")
    assert untagged(lines, "STATUS")[0].endswith(b"(MESSAGES 0 MAILBOXID (%s))\r\n" % work_id)
    inbox = re.search(rb"MAILBOXID \((\w+)\)", untagged(ann.ok("STATUS INBOX (MAILBOXID)"),
                                                       "STATUS")[0]).group(1)
    assert inbox != work_id
    # A new mailbox of an old name gets a new id.
    ann.ok("UNSELECT")
    ann.ok("DELETE Job")
    lines = ann.ok("CREATE Job")
    assert b"(%s)" % work_id not in lines[-1]

    ann.ok("APPEND INBOX", msg(1))
    ann.ok("APPEND INBOX", msg(2))
    ann.ok("APPEND INBOX", msg(1))	# the same content again
    ann.ok("SELECT INBOX")
    lines = ann.ok("FETCH 1:3 (EMAILID THREADID)")
    ids = [re.search(rb"EMAILID \((M\d+)\)", ln).group(1) for ln in untagged(lines, "1") +
           untagged(lines, "2") + untagged(lines, "3")]
    assert all(b"THREADID NIL" in ln for ln in lines[:-1])
    assert ids[0] != ids[1] and ids[0] == ids[2]
    # COPY and MOVE keep the EMAILID.
    ann.ok("COPY 2 Job")
    ann.ok("MOVE 1 Job")
    ann.ok("SELECT Job")
    lines = ann.ok("UID FETCH 1:* (EMAILID)")
    got = sorted(re.findall(rb"EMAILID \((M\d+)\)", b"".join(lines)))
    assert got == sorted([ids[0], ids[1]])
    lines = ann.ok(f"UID SEARCH EMAILID {ids[1].decode()}")
    assert untagged(lines, "SEARCH") == [b"* SEARCH 1\r\n"]
    assert ann.ok("SEARCH THREADID T1")[0] == b"* SEARCH\r\n"
    assert b" BAD " in ann.cmd("SEARCH EMAILID M/1")[-1]
    # imaplib sees the same through its own parser.
    im = imaplib.IMAP4("127.0.0.1", md.imap_port, timeout=10)
    im.login(USER, PASSWORD)
    im.select("Job")
    typ, data = im.fetch("1:*", "(EMAILID)")
    assert typ == "OK" and len(data) == 2
    im.logout()


def test_savedate(md):
    ann = Session(md, USER)
    for i in (1, 2, 3):
        ann.ok("APPEND INBOX", msg(i))
    # Pretend message 1 was saved long ago.
    md.pg.psql("cairn", "UPDATE mailbox_messages SET savedate = '2020-01-02 12:00:00+00'"
               " WHERE uid = 1 AND mailbox_id = (SELECT m.id FROM mailboxes m JOIN accounts a"
               f" ON a.id = m.account_id WHERE a.address = '{USER}' AND m.name = 'INBOX')")
    ann.ok("SELECT INBOX")
    lines = ann.ok("FETCH 1 (SAVEDATE)")
    assert b'SAVEDATE " 2-Jan-2020 12:00:00 +0000"' in lines[0]
    assert untagged(ann.ok("SEARCH SAVEDBEFORE 1-Jan-2021"), "SEARCH") == [b"* SEARCH 1\r\n"]
    assert untagged(ann.ok("SEARCH SAVEDON 2-Jan-2020"), "SEARCH") == [b"* SEARCH 1\r\n"]
    assert untagged(ann.ok("SEARCH SAVEDSINCE 1-Jan-2021"), "SEARCH") == [b"* SEARCH 2 3\r\n"]
    assert untagged(ann.ok("SEARCH SAVEDATESUPPORTED"), "SEARCH") == [b"* SEARCH 1 2 3\r\n"]
    assert ann.ok("SEARCH NOT SAVEDATESUPPORTED")[0] == b"* SEARCH\r\n"
    # A copy is saved now, whatever the original's save date.
    ann.ok("CREATE Copies")
    ann.ok("COPY 1 Copies")
    ann.ok("SELECT Copies")
    assert untagged(ann.ok("SEARCH SAVEDSINCE 1-Jan-2021"), "SEARCH") == [b"* SEARCH 1\r\n"]
    lines = ann.ok("FETCH 1 (SAVEDATE INTERNALDATE)")
    assert b"SAVEDATE" in lines[0] and b"2020" not in lines[0].split(b"SAVEDATE")[1][:30]


def test_shared_folder_rights_and_quota_root(md):
    """A mailbox another user shares: its quota root is the owner's, its
    /private entries are the reader's own, and /shared entries need the w
    right (RFC 5464 3.3); without l and r it does not exist for him."""
    ctl(md, "user", "set", USER, "--quota-messages", "10")
    ann, bob = Session(md, USER), Session(md, OTHER)
    ann.ok("CREATE Team")
    ann.ok('SETMETADATA Team (/shared/comment "team box" /private/comment "ann only")')
    name = f'"Other Users/{USER}/Team"'
    assert b"NO [NONEXISTENT]" in bob.cmd(f"GETMETADATA {name} /shared/comment")[-1]
    assert b"NO [NONEXISTENT]" in bob.cmd(f"GETQUOTAROOT {name}")[-1]
    ann.ok(f"SETACL Team {OTHER} lr")
    lines = bob.ok(f"GETQUOTAROOT {name}")
    assert untagged(lines, "QUOTAROOT") == [b"* QUOTAROOT %s %s\r\n" % (name.encode(), USER.encode())]
    assert untagged(lines, "QUOTA") == [b"* QUOTA %s (MESSAGE 0 10)\r\n" % USER.encode()]
    got = metadata(bob.ok(f"GETMETADATA {name} (/shared/comment /private/comment)"))
    assert b'/shared/comment "team box"' in got and b"/private/comment NIL" in got
    bob.ok(f'SETMETADATA {name} (/private/comment "bob only")')
    assert b"NO [NOPERM]" in bob.cmd(f'SETMETADATA {name} (/shared/comment "mine now")')[-1]
    ann.ok(f"SETACL Team {OTHER} lrw")
    bob.ok(f'SETMETADATA {name} (/shared/comment "edited by bob")')
    got = metadata(ann.ok("GETMETADATA Team (/shared/comment /private/comment)"))
    assert b'"edited by bob"' in got and b'"ann only"' in got
