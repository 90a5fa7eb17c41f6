"""Shared folders under attack (issue 7, RFC 4314): a reader to whom the
owner gave a limited set of rights tries every command and extension that
could read or change the folder or its messages, and the owner's own
session checks afterwards that nothing was read or changed beyond those
rights.

The rights come directly, through a directory group, through "anyone" and
with a negative entry that takes rights away again. Extensions the server
does not announce in CAPABILITY are skipped, so the test stays valid while
the tree grows. Besides the matrix: unshared mailboxes must be invisible
however their names are spelled (LIST patterns, STATUS answering like a
nonexistent mailbox, INBOX case, "..", mUTF-7, UTF-8, trailing
separators), and a reader whose rights are taken away while he has the
folder selected (IDLE, NOTIFY, SEARCH contexts) hears nothing more."""
import base64
import re
import select
import socket
import ssl
import subprocess
import time

import pytest

from conftest import CAIRNCTL

PASSWORD = "attack-secret-1"
HOST = "mail.attack.test"
OWNER = "owner@attack.test"
READER = "reader@attack.test"
THIRD = "third@attack.test"
OPREFIX = f"Other Users/{OWNER}"
SHARED = f"{OPREFIX}/Proj"
SUB = f"{SHARED}/Sub"
ALL_RIGHTS = "lrswipkxtea"


def ctl(d, *args, rc=0):
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == rc, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


@pytest.fixture
def env(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"server": {"loopback_is_secure": "yes", "hostname": HOST},
                        "imap": {"idle_timeout": "60s", "max_bad_commands": "500",
                                 "plaintext_auth": "yes"}})
    ctl(d, "domain", "add", "attack.test")
    for u in (OWNER, READER, THIRD):
        ctl(d, "user", "add", u, "--password", PASSWORD)
    return d


def msg(i, subject=None):
    return (f"From: Sender {i} <s{i}@remote.test>\r\nTo: {OWNER}\r\n"
            f"Subject: {subject or f'secret subject {i}'}\r\n"
            f"Message-ID: <attack{i}@remote.test>\r\n"
            f"Date: Mon, 2 Nov 2026 10:0{i % 10}:00 +0000\r\n"
            f"\r\nsecret body {i} zebracorn\r\n").encode()


class Client:
    """A raw IMAP session: cmd() returns (status, tagged line, untagged lines)."""

    def __init__(self, d, user):
        self.s = socket.create_connection(("127.0.0.1", d.imap_port), timeout=10)
        self.f = self.s.makefile("rb")
        self.greeting = self.f.readline()
        self.n = 0
        self.user = user
        self.ok(f'LOGIN "{user}" "{PASSWORD}"')
        self.caps = set(self.ok("CAPABILITY")[0].split()[2:])

    def has(self, cap):
        return cap.upper() in {c.upper() for c in self.caps}

    def readline(self):
        ln = self.f.readline()
        if not ln:
            raise EOFError("connection closed")
        m = re.search(rb"\{(\d+)\+?\}\r\n$", ln)
        while m:
            ln += self.f.read(int(m.group(1)))
            more = self.f.readline()
            ln += more
            m = re.search(rb"\{(\d+)\+?\}\r\n$", more)
        return ln

    def _read(self, tag):
        out = []
        while True:
            ln = self.readline()
            if ln.startswith(tag + b" "):
                return ln.decode(errors="replace").rstrip("\r\n"), \
                    [x.decode(errors="replace").rstrip("\r\n") for x in out]
            out.append(ln)

    def send(self, text):
        self.n += 1
        tag = f"t{self.n}".encode()
        self.s.sendall(tag + b" " + (text if isinstance(text, bytes) else text.encode()) + b"\r\n")
        return tag

    def cmd(self, text, literal=None, after=b""):
        self.n += 1
        tag = f"t{self.n}".encode()
        data = text if isinstance(text, bytes) else text.encode()
        if literal is not None:
            self.s.sendall(tag + b" " + data + f" {{{len(literal)}+}}\r\n".encode()
                           + literal + after + b"\r\n")
        else:
            self.s.sendall(tag + b" " + data + b"\r\n")
        line, untagged = self._read(tag)
        status = line.split(" ")[1]
        return status, line, untagged

    def ok(self, text, literal=None):
        st, line, u = self.cmd(text, literal)
        assert st == "OK", f"{self.user}: {text!r} -> {line} {u}"
        return u

    def refused(self, text, literal=None):
        """NO or BAD, never OK."""
        st, line, u = self.cmd(text, literal)
        assert st in ("NO", "BAD"), f"{self.user}: {text!r} must be refused -> {line} {u}"
        return line, u

    def drain(self, seconds, until=None):
        """Whatever the server pushes within seconds; with until, stop half
        a second after that text arrived (a loaded machine may be slow)."""
        got = b""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if select.select([self.s], [], [], max(0.0, deadline - time.time()))[0]:
                ln = self.f.readline()
                if not ln:
                    break
                got += ln
                if until is not None and until.encode() in got:
                    deadline = min(deadline, time.time() + 0.5)
        return got.decode(errors="replace")

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def flags_of(client, spec="1:*"):
    """{uid: set(flags)} of the selected mailbox (without \\Recent)."""
    out = {}
    for ln in client.ok(f"UID FETCH {spec} (UID FLAGS)"):
        m = re.search(r"FLAGS \(([^)]*)\)", ln)
        u = re.search(r"UID (\d+)", ln)
        if m and u:
            out[int(u.group(1))] = set(m.group(1).split()) - {"\\Recent"}
    return out


def names(lines):
    """Mailbox names of LIST/LSUB responses (quoted or atoms)."""
    out = []
    for ln in lines:
        m = re.match(r'\* (?:LIST|LSUB) \([^)]*\) (?:"/"|NIL) (?:"((?:[^"\\]|\\.)*)"|(\S+))', ln)
        if m:
            out.append(m.group(1) if m.group(1) is not None else m.group(2))
    return out


def strip_name(line, name):
    """A tagged reply without its tag and with name taken out."""
    return line.split(" ", 1)[1].replace(name, "<name>")


def owner_state(o):
    """Everything the owner can see of his mailboxes: the comparison base."""
    st = {}
    st["list"] = sorted(names(o.ok('LIST "" "*"')))
    o.ok('SELECT "Proj"')
    st["flags"] = flags_of(o)
    st["bodies"] = {}
    for ln in o.ok("UID FETCH 1:* (UID BODY.PEEK[])"):
        u = re.search(r"UID (\d+)", ln)
        if u:
            st["bodies"][int(u.group(1))] = ln.split("}", 1)[-1]
    st["acl"] = sorted(o.ok("GETACL Proj")[0].split()[3:])
    o.ok("UNSELECT")
    o.ok('SELECT "Secret"')
    st["secret"] = flags_of(o)
    o.ok("UNSELECT")
    return st


@pytest.fixture
def world(env):
    """The owner has Proj (3 messages: uid 1 \\Seen, uid 2 \\Flagged, uid 3
    plain), Proj/Sub (1 message) and an unshared Secret (1 message); the
    reader has a message in his INBOX and his own Mine mailbox."""
    o = Client(env, OWNER)
    r = Client(env, READER)
    for box in ("Proj", "Proj/Sub", "Proj/Hidden", "Secret"):
        o.ok(f'CREATE "{box}"')
    for i in (1, 2, 3):
        assert o.cmd('APPEND "Proj" ()', msg(i))[0] == "OK"
    assert o.cmd('APPEND "Proj/Sub" ()', msg(4))[0] == "OK"
    assert o.cmd('APPEND "Secret" ()', msg(5, "top secret subject"))[0] == "OK"
    o.ok('SELECT "Proj"')
    o.ok("UID STORE 1 +FLAGS (\\Seen)")
    o.ok("UID STORE 2 +FLAGS (\\Flagged)")
    o.ok("UNSELECT")
    r.ok('CREATE "Mine"')
    assert r.cmd("APPEND INBOX (\\Flagged \\Deleted $Mine)",
                 b"From: r@x\r\nSubject: readers own\r\n\r\nmine\r\n")[0] == "OK"
    yield env, o, r
    o.close()
    r.close()


def share(env, o, mode, rights):
    """Give READER the effective rights on Proj and Proj/Sub the way mode
    says: direct, through a group, through anyone, or anyone with every
    right minus a negative entry for him."""
    for box in ("Proj", "Proj/Sub"):
        if mode == "direct":
            if rights:
                o.ok(f'SETACL "{box}" "{READER}" "{rights}"')
        elif mode == "group":
            o.ok(f'SETACL "{box}" "$team@attack.test" "{rights}"')
        elif mode in ("anyone", "authenticated"):
            o.ok(f'SETACL "{box}" "{mode}" "{rights}"')
        elif mode == "negative":
            o.ok(f'SETACL "{box}" "anyone" "{ALL_RIGHTS}"')
            take = "".join(c for c in ALL_RIGHTS if c not in rights)
            o.ok(f'SETACL "{box}" "-{READER}" "{take}"')
    if mode == "group":
        ctl(env, "group", "add", "team@attack.test")
        ctl(env, "group", "member", "add", "team@attack.test", READER)


def attack(env, o, r, rights):
    """The reader tries everything; returns what the owner's state must be
    compared with (rights-dependent expectations are checked here)."""
    has = lambda c: c in rights  # noqa: E731
    visible = has("l") or has("r")
    before = owner_state(o)

    # Compare answers for the shared folder with those for one that does
    # not exist when the reader may not know it exists.
    ghost = f"{OPREFIX}/NoSuchBox"

    # ---- LIST / LSUB / LIST-EXTENDED ----
    listed = names(r.ok('LIST "" "*"'))
    assert (SHARED in listed) == has("l"), listed
    if not has("l"):
        # not even the owner's namespace parent
        assert not any(n.startswith(OPREFIX) for n in listed), listed
    assert not any("Secret" in n or "Hidden" in n for n in listed), listed
    for ref, pat in (("", "Other Users/%"), ("", f"{OPREFIX}/%"), ("", f"{OPREFIX}/*"),
                     (f"{OPREFIX}/", "*"), ("", "%/%/%"), ("", "*Secret*"), ("", "*/Sec*")):
        got = names(r.ok(f'LIST "{ref}" "{pat}"'))
        assert not any("Secret" in n or "Hidden" in n for n in got), (pat, got)
        assert (SHARED in got) <= has("l"), (pat, got)
    if r.has("LIST-STATUS") or r.has("LIST-MYRIGHTS"):
        ret = []
        if r.has("LIST-STATUS"):
            ret.append("STATUS (MESSAGES UNSEEN UIDNEXT)")
        if r.has("LIST-MYRIGHTS"):
            ret.append("MYRIGHTS")
        u = r.ok(f'LIST "" "*" RETURN ({" ".join(ret)})')
        stat = [ln for ln in u if ln.startswith("* STATUS") and "Proj" in ln]
        if not has("r"):
            assert stat == [], u
        mr = [ln for ln in u if ln.startswith("* MYRIGHTS") and "Proj" in ln and "Sub" not in ln]
        if mr:
            assert has("l")
            shown = mr[0].rsplit(" ", 1)[1].strip('"')
            assert set(shown) - set("cd") == set(rights), mr
        assert not any("Secret" in ln for ln in u), u

    # ---- STATUS with every item the server knows ----
    items = ["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "RECENT"]
    if r.has("STATUS=SIZE") or r.has("IMAP4rev2"):
        items.append("SIZE")
    if r.has("IMAP4rev2"):
        items.append("DELETED")
    if r.has("CONDSTORE"):
        items.append("HIGHESTMODSEQ")
    if r.has("OBJECTID"):
        items.append("MAILBOXID")
    st_cmd = f'STATUS "{{}}" ({" ".join(items)})'
    st, line, u = r.cmd(st_cmd.format(SHARED))
    if has("r"):
        assert st == "OK", line
        # his own \Seen: the owner's read message is unseen for him
        m = re.search(r"MESSAGES (\d+).*UNSEEN (\d+)", u[0])
        assert m and m.group(1) == m.group(2), u
    else:
        assert st == "NO", line
        assert not any(x.startswith("* STATUS") for x in u), u
        if not visible:
            _, gl, gu = r.cmd(st_cmd.format(ghost))
            assert strip_name(line, SHARED) == strip_name(gl, ghost)
            assert len(u) == len(gu)

    # ---- MYRIGHTS / GETACL / LISTRIGHTS / SETACL / DELETEACL ----
    st, line, u = r.cmd(f'MYRIGHTS "{SHARED}"')
    if rights:
        assert st == "OK", line
        shown = u[0].rsplit(" ", 1)[1].strip('"')
        assert set(shown) - set("cd") == set(rights), u
    else:
        assert st == "NO" and not u, (line, u)
        assert strip_name(line, SHARED) == strip_name(r.cmd(f'MYRIGHTS "{ghost}"')[1], ghost)
    for c in (f'GETACL "{SHARED}"', f'LISTRIGHTS "{SHARED}" "{THIRD}"'):
        st, line, u = r.cmd(c)
        assert (st == "OK") == has("a"), (c, line, u)
    # giving himself everything, giving a friend rights, taking the owner's
    for box, c in ((SHARED, f'"{READER}" "+{ALL_RIGHTS}"'),
                   (SHARED, f'"{THIRD}" "lr"'),
                   (SHARED, f'"{OWNER}" "l"'),
                   (SHARED, f'"-{OWNER}" "l"'),
                   (SHARED, '"anyone" "+lr"'),
                   (f"{OPREFIX}/Secret", f'"{READER}" "lr"'),
                   (f"{OPREFIX}/INBOX", f'"{READER}" "lr"')):
        st, line, u = r.cmd(f'SETACL "{box}" {c}')
        if not has("a") or OWNER in c or box != SHARED:
            assert st in ("NO", "BAD"), (box, c, line)
    for ident in (f"-{READER}", READER, OWNER):
        st, line, u = r.cmd(f'DELETEACL "{SHARED}" "{ident}"')
        if not has("a") or ident == OWNER:
            assert st in ("NO", "BAD"), (ident, line)
    # what he may do with a: restore the ACL for the rest of the attack
    if has("a"):
        o.ok(f'DELETEACL "Proj" "{THIRD}"')
        o.ok('DELETEACL "Proj" "anyone"')
        o.ok(f'DELETEACL "Proj" "-{READER}"')
        o.ok(f'SETACL "Proj" "{READER}" "{rights}"')
        before["acl"] = sorted(o.ok("GETACL Proj")[0].split()[3:])

    # ---- SUBSCRIBE ----
    st, line, _ = r.cmd(f'SUBSCRIBE "{SHARED}"')
    assert (st == "OK") == visible, line
    if not visible:
        assert strip_name(line, SHARED) == strip_name(r.cmd(f'SUBSCRIBE "{ghost}"')[1], ghost)
    r.refused(f'SUBSCRIBE "{OPREFIX}/Secret"')
    lsub = names(r.ok('LSUB "" "*"'))
    assert not any("Secret" in n for n in lsub), lsub
    assert (SHARED in lsub) <= has("l"), lsub
    r.cmd(f'UNSUBSCRIBE "{SHARED}"')

    # ---- NOTIFY on the owner's mailboxes (nothing shared is watched) ----
    if r.has("NOTIFY"):
        r.cmd(f'NOTIFY SET STATUS (MAILBOXES ("{SHARED}" "{OPREFIX}/Secret") '
              f'(MessageNew MessageExpunge FlagChange)) (SUBTREE "Other Users" '
              f'(MessageNew MessageExpunge))')
        assert o.cmd('APPEND "Secret" ()', msg(9))[0] == "OK"
        assert o.cmd('APPEND "Proj" ()', msg(9))[0] == "OK"
        pushed = r.drain(1.0) + "\n".join(r.ok("NOOP"))
        assert "Secret" not in pushed, pushed
        if not has("r"):
            assert "Proj" not in pushed, pushed
        r.cmd("NOTIFY NONE")
        before = owner_state(o)     # the owner's own changes

    # ---- quota, metadata ----
    if r.has("QUOTA"):
        st, line, u = r.cmd(f'GETQUOTAROOT "{SHARED}"')
        assert (st == "OK") <= has("l"), line
        r.refused(f'GETQUOTAROOT "{OPREFIX}/Secret"')
        r.refused(f'GETQUOTA "{OWNER}"')
        r.refused(f'SETQUOTA "{OWNER}" (STORAGE 1)')
        r.refused('SETQUOTA "" (STORAGE 100000000)')
    if r.has("METADATA"):
        st, line, u = r.cmd(f'GETMETADATA "{SHARED}" (/shared/comment /private/comment)')
        assert (st == "OK") == (has("l") and has("r")), line
        st, line, _ = r.cmd(f'SETMETADATA "{SHARED}" (/shared/comment "pwned")')
        assert (st == "OK") <= (has("l") and has("r") and has("w")), line
        st, line, _ = r.cmd(f'SETMETADATA "{SHARED}" (/private/specialuse "\\\\Junk")')
        assert (st == "OK") <= has("a"), line
        r.refused(f'GETMETADATA "{OPREFIX}/Secret" (/shared/comment)')
        r.refused(f'SETMETADATA "{OPREFIX}/Secret" (/shared/comment "x")')

    # ---- CREATE / RENAME / DELETE ----
    st, line, _ = r.cmd(f'CREATE "{SHARED}/Evil"')
    assert (st == "OK") == has("k"), line
    r.refused(f'CREATE "{OPREFIX}/Evil"')
    r.refused(f'CREATE "{OPREFIX}/Secret/Evil"')
    r.refused('CREATE "Other Users"')
    r.refused(f'CREATE "{OPREFIX}"')
    # renaming across owners is never allowed
    r.refused(f'RENAME "{SHARED}" "Stolen"')
    r.refused(f'RENAME "{OPREFIX}/Secret" "Stolen"')
    r.refused(f'RENAME "Mine" "{SHARED}/Mine"')
    r.refused(f'RENAME "{OPREFIX}/INBOX" "Stolen"')
    r.refused(f'RENAME "INBOX" "{SHARED}/In"')
    r.refused(f'RENAME "Mine" "{OPREFIX}/Mine"')
    r.refused(f'DELETE "{OPREFIX}/Secret"')
    r.refused(f'DELETE "{OPREFIX}/INBOX"')
    for c in (f'CREATE "{SHARED}/../Evil2"', f'CREATE "{SHARED}//Evil3"',
              f'CREATE "{SHARED}/Evil4/"', f'CREATE "{OPREFIX}/Proj/Sub/../../Evil5"',
              f'CREATE "{SHARED}/Hidden/Evil6"', f'RENAME "{SUB}" "{OPREFIX}/Moved"',
              f'RENAME "{SUB}" "{SHARED}/Hidden/Moved"', f'RENAME "{SUB}" "{OPREFIX}/Secret/M"',
              f'DELETE "{SHARED}/Hidden"', f'RENAME "{SHARED}/Hidden" "{SHARED}/Found"',
              f'SETACL "{SHARED}/Hidden" "{READER}" "lr"'):
        st, line, _ = r.cmd(c)
        if not has("k") or "Moved" in c or "Hidden" in c or "Secret" in c:
            assert st != "OK", (c, line)
    st, line, _ = r.cmd(f'RENAME "{SUB}" "{SHARED}/Sub2"')
    assert (st == "OK") <= (has("x") and has("k")), line
    if st == "OK":
        r.ok(f'RENAME "{SHARED}/Sub2" "{SUB}"')

    # ---- APPEND / CATENATE / COPY / MOVE into the folder ----
    inserted = 0
    st, line, _ = r.cmd(f'APPEND "{SHARED}" (\\Seen \\Flagged \\Deleted $Evil)', msg(7))
    assert (st == "OK") == has("i"), line
    inserted += st == "OK"
    if not visible:
        _, gl, _ = r.cmd(f'APPEND "{ghost}" ()', msg(7))
        assert strip_name(line, SHARED) == strip_name(gl, ghost)
    if r.has("CATENATE"):
        st, line, _ = r.cmd(f'APPEND "{SHARED}" CATENATE (TEXT', msg(8), after=b")")
        assert (st == "OK") == has("i"), line
        inserted += st == "OK"
        # URLs naming the owner's messages: without URLAUTH never his
        for url in (f"imap://{OWNER.replace('@', '%40')}@{HOST}/Proj/;UID=1",
                    f"/Other%20Users/{OWNER.replace('@', '%40')}/Secret/;UID=1",
                    f"/Other%20Users/{OWNER.replace('@', '%40')}/Proj/;UID=1",
                    f"imap://{OWNER.replace('@', '%40')}@{HOST}/Secret/;UID=1"):
            st, line, _ = r.cmd(f'APPEND "Mine" CATENATE (URL "{url}")')
            if "Secret" in url or not has("r"):
                assert st != "OK", (url, line)
    r.ok('SELECT INBOX')
    for c in (f'COPY 1 "{SHARED}"', f'UID COPY 1:* "{SHARED}"'):
        st, line, _ = r.cmd(c)
        assert (st == "OK") == has("i"), (c, line)
        inserted += st == "OK"
    st, line, _ = r.cmd(f'MOVE 1 "{SHARED}"')
    assert (st == "OK") == has("i"), line
    inserted += st == "OK"
    r.refused(f'COPY 1:* "{OPREFIX}/Secret"')
    if st == "OK":   # his own message went over; put another one back
        r.ok("UNSELECT")
        r.ok("APPEND INBOX (\\Flagged \\Deleted $Mine)",
             b"From: r@x\r\nSubject: readers own\r\n\r\nmine\r\n")
    else:
        r.ok("UNSELECT")

    # ---- URLAUTH: only his own mailboxes can be signed ----
    if r.has("URLAUTH"):
        for rump in (f"imap://{OWNER.replace('@', '%40')}@{HOST}/Proj/;UID=1;URLAUTH=anonymous",
                     f"imap://{READER.replace('@', '%40')}@{HOST}/Other%20Users/"
                     f"{OWNER.replace('@', '%40')}/Proj/;UID=1;URLAUTH=anonymous",
                     f"imap://{OWNER.replace('@', '%40')}@{HOST}/Secret/;UID=1;URLAUTH=authuser"):
            r.refused(f'GENURLAUTH "{rump}" INTERNAL')
        forged = (f"imap://{OWNER.replace('@', '%40')}@{HOST}/Proj/;UID=1;URLAUTH=anonymous"
                  f":INTERNAL:{'0' * 64}")
        u = r.ok(f'URLFETCH "{forged}"')
        assert u and u[0].endswith(" NIL"), u
        assert "zebracorn" not in "".join(u)

    # ---- the selected folder ----
    st, line, _ = r.cmd(f'SELECT "{SHARED}"')
    assert (st == "OK") == has("r"), line
    st2, line2, _ = r.cmd(f'EXAMINE "{SHARED}"')
    assert st2 == st, line2
    if not visible:
        assert strip_name(line, SHARED) == strip_name(r.cmd(f'SELECT "{ghost}"')[1], ghost)
    seen_by_owner = {u for u, f in before["flags"].items() if "\\Seen" in f}
    if has("r"):
        r.ok(f'EXAMINE "{SHARED}"')
        r.ok("UID FETCH 1:* (BODY[])")
        for c in ("UID STORE 1:* +FLAGS (\\Seen)", "UID STORE 1:* +FLAGS (\\Flagged)",
                  "UID STORE 1:* +FLAGS (\\Deleted)", "EXPUNGE", "UID EXPUNGE 1:*",
                  'UID MOVE 1 "Mine"'):
            r.refused(c)
        # EXAMINE is read-only: reading sets no \Seen (his own came with APPEND)
        assert all("\\Seen" not in f for u, f in flags_of(r).items() if u in before["bodies"])
        r.ok("CLOSE")
        r.ok(f'SELECT "{SHARED}"')
        if r.has("ENABLE") and r.has("CONDSTORE"):
            r.cmd("ENABLE CONDSTORE QRESYNC")
        # the owner's \Seen does not show through any search
        orig = set(before["bodies"])
        for c in ("UID SEARCH SEEN", "UID SEARCH OR SEEN SEEN", "UID SEARCH NOT UNSEEN",
                  "UID SEARCH NOT NOT SEEN", "UID SEARCH (SEEN)"):
            got = set()
            for ln in r.ok(c):
                if ln.startswith("* SEARCH"):
                    got |= {int(x) for x in ln.split()[2:]}
            assert not got & orig, (c, got)
        if r.has("SORT"):
            for ln in r.ok("UID SORT (ARRIVAL) UTF-8 SEEN"):
                if ln.startswith("* SORT"):
                    assert not {int(x) for x in ln.split()[2:]} & orig, ln
        if r.has("THREAD=REFERENCES"):
            for ln in r.ok("UID THREAD REFERENCES UTF-8 SEEN"):
                if ln.startswith("* THREAD"):
                    assert not {int(x) for x in re.findall(r"\d+", ln)} & orig, ln
        assert all("\\Seen" not in f for u, f in flags_of(r).items() if u in orig)
        fetch = ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY[]",
                 "BODYSTRUCTURE", "BINARY[1]"]
        for cap, att in (("CONDSTORE", "MODSEQ"), ("OBJECTID", "EMAILID"),
                         ("OBJECTID", "THREADID"), ("SAVEDATE", "SAVEDATE"),
                         ("PREVIEW", "PREVIEW")):
            if r.has(cap):
                fetch.append(att)
        u = r.ok(f"UID FETCH 1:* ({' '.join(fetch)})")
        assert "zebracorn" in "".join(u)
        r.ok("FETCH 1:* (RFC822 RFC822.TEXT BODY[TEXT] BODY[HEADER])")
        mine = flags_of(r)
        for uid, f in ((u, f) for u, f in mine.items() if u in before["bodies"]):
            # his own \Seen: set by his reads only when he has s
            assert ("\\Seen" in f) == has("s"), (uid, f)
        if not has("s"):
            r.refused("UID STORE 1:* +FLAGS (\\Seen)")
        # out of it: COPY needs r here and i there, MOVE t and e as well
        r.ok('UID COPY 3 "Mine"')
        st, line, _ = r.cmd('UID MOVE 3 "Mine"')
        assert (st == "OK") == (has("t") and has("e")), line
        r.refused(f'UID COPY 3 "{OPREFIX}/Secret"')
        r.refused(f'UID COPY 3 "{SHARED}/Hidden"')
        st, line, _ = r.cmd(f'UID COPY 1 "{SHARED}"')
        assert (st == "OK") == has("i"), line
        inserted += st == "OK"
        for flag, right in (("\\Flagged", "w"), ("$Evil", "w"), ("\\Answered", "w"),
                            ("\\Draft", "w"), ("\\Deleted", "t")):
            for c in (f"UID STORE 1:* +FLAGS ({flag})", f"STORE 1 -FLAGS.SILENT ({flag})",
                      f"UID STORE 2 -FLAGS ({flag})"):
                st, line, _ = r.cmd(c)
                assert (st == "OK") == has(right), (c, line)
        if r.has("CONDSTORE"):
            for c in ("UID STORE 1:* (UNCHANGEDSINCE 18446744073709551615) +FLAGS ($Evil2)",
                      "STORE 1:* (UNCHANGEDSINCE 1) -FLAGS (\\Flagged)"):
                st, line, _ = r.cmd(c)
                assert (st == "OK") <= has("w"), (c, line)
        # A FLAGS replace touches every flag but \Seen and \Deleted: it
        # needs w (and leaves those two alone without s / t).
        st, line, _ = r.cmd("UID STORE 1:* FLAGS ()")
        assert (st == "OK") == has("w"), line
        # searches and sorts read what r allows: fine; SAVE and $
        r.ok("UID SEARCH ALL")
        r.ok("SEARCH BODY zebracorn")
        if r.has("ESEARCH") and r.has("SEARCHRES"):
            r.ok("SEARCH RETURN (SAVE) ALL")
            for c, right in (("UID STORE $ +FLAGS ($Evil3)", "w"),
                             ("STORE $ +FLAGS (\\Deleted)", "t")):
                st, line, _ = r.cmd(c)
                assert (st == "OK") == has(right), (c, line)
            r.ok("UID FETCH $ (FLAGS)")
            r.ok("UID SEARCH RETURN (SAVE) UID 3")
            st, line, _ = r.cmd('UID MOVE $ "Mine"')
            assert (st == "OK") == (has("t") and has("e")), line
        if r.has("SORT"):
            r.ok("UID SORT (SUBJECT) UTF-8 ALL")
            if r.has("ESORT"):
                r.ok("SORT RETURN (ALL COUNT) (DATE) UTF-8 ALL")
        for cap in ("THREAD=REFERENCES", "THREAD=ORDEREDSUBJECT"):
            if r.has(cap):
                r.ok(f"UID THREAD {cap.split('=')[1]} UTF-8 ALL")
        # expunging
        for c in ("EXPUNGE", "UID EXPUNGE 1:*"):
            st, line, _ = r.cmd(c)
            assert (st == "OK") == has("e"), (c, line)
        r.ok("CLOSE")
        r.ok('SELECT "Mine"')
        got = r.ok("UID FETCH 1:* (BODY.PEEK[])")
        assert "zebracorn" in "".join(got)
        r.ok("CLOSE")
    else:
        # nothing that needs a selected folder leaked into his own
        r.ok('SELECT "Mine"')
        assert "zebracorn" not in "".join(r.ok("UID FETCH 1:* (BODY.PEEK[])"))
        r.ok("CLOSE")

    # ---- DELETE last ----
    st, line, _ = r.cmd(f'DELETE "{SUB}"')
    assert (st == "OK") == has("x"), line
    sub_deleted = st == "OK"
    if has("k"):
        # a mailbox he created below the folder gives him no more rights
        st, line, u = r.cmd(f'MYRIGHTS "{SHARED}/Evil"')
        assert st == "OK", line
        assert set(u[0].rsplit(" ", 1)[1].strip('"')) - set("cd") <= set(rights), u

    # ---- the owner's view ----
    after = owner_state(o)
    o.ok('SELECT "Proj/Hidden"')
    assert len(flags_of(o)) == 0
    o.ok("UNSELECT")
    before_uids = set(before["bodies"])
    after_uids = set(after["bodies"])
    for uid in before_uids & after_uids:
        assert after["bodies"][uid] == before["bodies"][uid]
    if not has("i"):
        assert after_uids <= before_uids, (before_uids, after_uids)
    else:
        if has("e"):
            assert len(after_uids - before_uids) <= inserted, (after_uids, before_uids, inserted)
        else:
            assert len(after_uids - before_uids) == inserted, (after_uids, before_uids, inserted)
        for uid in after_uids - before_uids:
            f = after["flags"][uid]
            assert "\\Seen" not in f, f           # the owner has not seen them
            if not has("w"):
                assert not f & {"\\Flagged", "$Evil", "$Mine", "\\Answered", "\\Draft"}, f
            if not has("t"):
                assert "\\Deleted" not in f, f
    if not (has("e") or (has("t") and has("e"))):
        assert before_uids <= after_uids, (before_uids, after_uids)
    for uid in before_uids & after_uids:
        b, a = before["flags"][uid], after["flags"][uid]
        # the owner's \Seen is his alone
        assert ("\\Seen" in a) == (uid in seen_by_owner), (uid, b, a)
        if not has("w"):
            assert (a - {"\\Seen", "\\Deleted"}) == (b - {"\\Seen", "\\Deleted"}), (uid, b, a)
        if not has("t"):
            assert ("\\Deleted" in a) == ("\\Deleted" in b), (uid, b, a)
    if not has("a"):
        assert after["acl"] == before["acl"], (before["acl"], after["acl"])
    expect_list = set(before["list"])
    if sub_deleted:
        expect_list.discard("Proj/Sub")
    new_boxes = set(after["list"]) - expect_list
    assert expect_list <= set(after["list"]), (before["list"], after["list"])
    if has("k"):
        assert "Proj/Evil" in new_boxes
        # whatever the spelling, only below the folder he may create in
        assert all(n.startswith("Proj/") and not n.startswith("Proj/Hidden")
                   for n in new_boxes), new_boxes
    else:
        assert new_boxes == set(), new_boxes
    assert after["secret"] == before["secret"]
    if r.has("METADATA") and not has("w"):
        u = o.ok('GETMETADATA "Proj" (/shared/comment)')
        assert "pwned" not in "".join(u), u
    if r.has("METADATA") and not has("a"):
        u = o.ok('GETMETADATA "Proj" (/private/specialuse)')
        assert "Junk" not in "".join(u), u
    if has("x"):
        # deleting the folder itself leaves what is below it that he
        # has no right on (RFC 3501 6.3.4: inferiors stay)
        assert o.cmd('APPEND "Proj/Hidden" ()', msg(11, "hidden child"))[0] == "OK"
        st, line, _ = r.cmd(f'DELETE "{SHARED}"')
        lst = names(o.ok('LIST "" "*"'))
        assert "Proj/Hidden" in lst and "Secret" in lst, (line, lst)
        o.ok('SELECT "Proj/Hidden"')
        assert len(flags_of(o)) == 1
        o.ok("UNSELECT")


RIGHT_SETS = ["", "l", "lr", "lrs", "lrw", "lri", "lrt", "lrte", "lrk", "lrx", "lra",
              "r", "lrkx", "lrswite", "lrswipkxte"]


@pytest.mark.parametrize("rights", RIGHT_SETS, ids=lambda x: x or "none")
def test_reader_cannot_exceed_direct_rights(world, rights):
    env, o, r = world
    share(env, o, "direct", rights)
    attack(env, o, r, rights)


@pytest.mark.parametrize("mode,rights", [
    ("group", "lrs"),
    ("group", "l"),
    ("anyone", "lr"),
    ("anyone", "lrw"),
    ("authenticated", "lrst"),
    ("negative", "lrsi"),     # anyone everything, -reader "wpkxtea"
    ("negative", "l"),        # -reader "rswipkxtea": knows the name only
    ("negative", ""),         # -reader everything
])
def test_reader_cannot_exceed_indirect_rights(world, mode, rights):
    env, o, r = world
    share(env, o, mode, rights)
    r.close()
    r = Client(env, READER)   # group membership is asked once per session
    try:
        attack(env, o, r, rights)
    finally:
        r.close()


def test_rename_does_not_move_inferiors_without_x(world):
    """RENAME moves the inferiors along (RFC 3501 6.3.5): with x on a
    folder but not on a (hidden) mailbox below it, the reader may not
    rename it; with x on all of them he may."""
    env, o, r = world
    o.ok('CREATE "Proj/Sub/Deep"')
    assert o.cmd('APPEND "Proj/Sub/Deep" ()', msg(12))[0] == "OK"
    for b in ("Proj", "Proj/Sub"):
        o.ok(f'SETACL "{b}" "{READER}" "lrkx"')
    before = sorted(names(o.ok('LIST "" "*"')))
    line, _ = r.refused(f'RENAME "{SUB}" "{SHARED}/Sub2"')
    assert "Deep" not in line, line
    assert sorted(names(o.ok('LIST "" "*"'))) == before
    assert "Deep" not in "".join(r.ok('LIST "" "*"'))
    # x on the inferior too: allowed, and everything moves
    o.ok(f'SETACL "Proj/Sub/Deep" "{READER}" "x"')
    r.ok(f'RENAME "{SUB}" "{SHARED}/Sub2"')
    after = names(o.ok('LIST "" "*"'))
    assert "Proj/Sub2/Deep" in after and "Proj/Sub/Deep" not in after, after
    o.ok('SELECT "Proj/Sub2/Deep"')
    assert len(flags_of(o)) == 1


# ---- unshared mailboxes cannot be seen or guessed ----

def test_unshared_mailboxes_are_invisible_under_any_spelling(world):
    env, o, r = world
    o.ok('CREATE "Gehe&AOQ-m"')           # "Geheimä" in mUTF-7
    o.ok(f'SETACL "Proj" "{READER}" "lr"')
    ghost = f"{OPREFIX}/NoSuchBox"
    nobody = "Other Users/nobody@attack.test/Secret"
    _, ref, ru = r.cmd(f'STATUS "{ghost}" (MESSAGES)')
    spellings = [
        f"{OPREFIX}/Secret", f"{OPREFIX}/secret", f"{OPREFIX}/SECRET", f"{OPREFIX}/Secret/",
        f"{OPREFIX}//Secret", f"{OPREFIX}/./Secret", f"{OPREFIX}/Proj/../Secret",
        f"{OPREFIX}/../{OWNER}/Secret", f"Other Users/../Other Users/{OWNER}/Secret",
        f"Other Users/{OWNER.upper()}/Secret", f"other users/{OWNER}/Secret",
        f"OTHER USERS/{OWNER}/Secret", f"{OPREFIX}/INBOX", f"{OPREFIX}/inbox",
        f"{OPREFIX}/InBoX", f"{OPREFIX}/INBOX/", f"{OPREFIX}/Gehe&AOQ-m",
        f"{OPREFIX}/Gehe&AOQ-m/", f"{OPREFIX}/&AFM-ecret", f"{OPREFIX}/Secre&AHQ-",
        f"{OPREFIX}/Secret\\", f"{OPREFIX} /Secret", f"Other Users//{OWNER}/Secret",
        f"Other Users/{OWNER}/", f"Other Users/{OWNER}", "Other Users/owner@ATTACK.test/Secret",
        f"Other Users/{OWNER}/Proj/Sub/../../Secret", f"Shared/../{OPREFIX}/Secret",
        f"Shared/{OPREFIX}/Secret", f"Shared/{OWNER}/Secret", f"{OWNER}/Secret",
        f"{OWNER}:Secret", nobody, f"{SHARED}/Hidden", f"{SHARED}/hidden",
        f"{SHARED}/Sub/../Hidden", "Other Users/public@/Secret", "Other Users/public@/News",
        f"Other Users/{READER}/../{OWNER}/Secret",
        "Other Users/" + "o" * 400 + "@attack.test/Secret", f"{OPREFIX}/" + "S" * 1200,
        "Other Users/" + "/" * 300 + "Secret", "Other Users/&AG8-wner@attack.test/Secret",
        f"{OPREFIX}/Secret&-", f"{OPREFIX}/*", f"{OPREFIX}/%", "Other Users/*/Secret",
    ]
    def check(client, name):
        q = name.replace("\\", "\\\\").replace('"', '\\"')
        st, line, u = client.cmd(f'STATUS "{q}" (MESSAGES UNSEEN)')
        assert st != "OK", (name, line, u)
        assert not any(x.startswith("* STATUS") for x in u), (name, u)
        assert "[NOPERM]" not in line, (name, line)
        for c in (f'SELECT "{q}"', f'EXAMINE "{q}"', f'MYRIGHTS "{q}"', f'GETACL "{q}"',
                  f'DELETE "{q}"', f'RENAME "{q}" "Stolen"', f'SUBSCRIBE "{q}"'):
            st, line, u = client.cmd(c)
            assert st != "OK", (c, line, u)
            assert "[NOPERM]" not in line, (c, line)
            assert not any("secret" in x.lower() for x in u if x.startswith("*")), (c, u)
        st, line, _ = client.cmd(f'APPEND "{q}" ()', msg(6))
        assert st != "OK", (name, line)
        if client.has("QUOTA"):
            assert client.cmd(f'GETQUOTAROOT "{q}"')[0] != "OK", name
        if client.has("METADATA"):
            assert client.cmd(f'GETMETADATA "{q}" (/shared/comment)')[0] != "OK", name
    for name in spellings:
        check(r, name)
    # the reply for a hidden mailbox is the one for a missing one
    for name in (f"{OPREFIX}/Secret", f"{OPREFIX}/INBOX", nobody):
        _, line, u = r.cmd(f'STATUS "{name}" (MESSAGES)')
        assert strip_name(line, name) == strip_name(ref, ghost), (line, ref)
        assert len(u) == len(ru)
    # LIST never names them, whatever the pattern
    for ref_, pat in (("", "*"), ("", "%"), ("", "Other Users/*"), ("", "Other Users/%/%"),
                      ("Other Users/", "*"), (f"{OPREFIX}/", "%"), ("", f"{OPREFIX}/*"),
                      ("", "*Secret"), ("", "*INBOX*"), ("", "Other Users/*/INBOX"),
                      ("", "other users/*"), ("", "*Gehe*"), (f"{OPREFIX}/Proj/../", "*"),
                      ("", f"{OPREFIX}/Proj/../*"), ("", "Shared/*")):
        u = r.ok(f'LIST "{ref_}" "{pat}"')
        got = names(u)
        assert not any(n.startswith(OPREFIX) and n not in (OPREFIX, SHARED) for n in got), \
            (ref_, pat, got)
        assert not any("INBOX" in n and n.startswith("Other") for n in got), got
        assert not any(n in ("Other Users/nobody@attack.test",) for n in got), got
    # a user with nothing shared does not even learn that the owner exists
    t = Client(env, THIRD)
    assert OPREFIX not in "\n".join(t.ok('LIST "" "*"'))
    _, l1, _ = t.cmd(f'STATUS "{OPREFIX}/Proj" (MESSAGES)')
    _, l2, _ = t.cmd('STATUS "Other Users/nobody@attack.test/Proj" (MESSAGES)')
    assert strip_name(l1, f"{OPREFIX}/Proj") == \
        strip_name(l2, "Other Users/nobody@attack.test/Proj")
    # UTF-8 names after ENABLE UTF8=ACCEPT
    if r.has("UTF8=ACCEPT"):
        r.ok("ENABLE UTF8=ACCEPT")
        for name in (f"{OPREFIX}/Geheimä", f"{OPREFIX}/Geheimä/", f"{OPREFIX}/Gehe&AOQ-m",
                     f"{OPREFIX}/Secret", f"{OPREFIX}/Proj/../Secret"):
            check(r, name)
        got = names(r.ok('LIST "" "*"'))
        assert not any("Geheim" in n or "Secret" in n for n in got), got
    t.close()


# ---- rights taken away while the reader has the folder selected ----

def test_no_news_in_idle_after_revocation(world):
    env, o, r = world
    o.ok(f'SETACL "Proj" "{READER}" "lrs"')
    r.ok(f'SELECT "{SHARED}"')
    o.ok(f'DELETEACL "Proj" "{READER}"')
    r.ok("NOOP")        # the new rights are picked up
    tag = r.send("IDLE")
    assert r.f.readline().startswith(b"+ ")
    assert o.cmd('APPEND "Proj" ()', msg(8, "after revocation"))[0] == "OK"
    o.ok('SELECT "Proj"')
    o.ok("UID STORE 2 -FLAGS (\\Flagged)")
    o.ok("UID STORE 3 +FLAGS (\\Deleted)")
    o.ok("EXPUNGE")
    pushed = r.drain(2.0)
    r.s.sendall(b"DONE\r\n")
    rest = r._read(tag)
    assert rest[0].startswith(tag.decode() + " OK"), rest
    pushed += "\n".join(rest[1])
    for word in ("EXISTS", "EXPUNGE", "FETCH", "VANISHED", "after revocation"):
        assert word not in pushed, pushed
    cmds = ["FETCH 1:* (FLAGS)", "UID FETCH 1:* (BODY.PEEK[])", "UID SEARCH ALL",
            "FETCH 1 (UID)", "UID FETCH 1:* (UID)", "UID FETCH 1:* (FLAGS)",
            "UID SEARCH UID 1:*", "SEARCH UNSEEN", "FETCH 1:* (INTERNALDATE RFC822.SIZE)",
            "UID FETCH 4 (ENVELOPE)", "UID COPY 1:* Mine", "UID STORE 1:* +FLAGS (\\Seen)"]
    if r.has("ESEARCH"):
        cmds += ["SEARCH RETURN (COUNT) ALL", "UID SEARCH RETURN (MIN MAX ALL) ALL"]
    if r.has("SEARCHRES"):
        cmds += ["UID FETCH $ (UID)"]
    if r.has("ESORT"):
        cmds += ["SORT RETURN (COUNT) (ARRIVAL) UTF-8 ALL"]
    if r.has("CONDSTORE"):
        cmds += ["UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)", "UID SEARCH MODSEQ 1"]
    if r.has("PREVIEW"):
        cmds += ["UID FETCH 1:* (PREVIEW)"]
    for c in cmds:
        st, line, u = r.cmd(c)
        assert st == "NO" and "[NOPERM]" in line, (c, line)
        assert not any(x.startswith(("* SEARCH", "* ESEARCH", "* SORT")) or " FETCH " in x
                       for x in u), (c, u)
        assert "revocation" not in "".join(u)


def test_no_news_when_revoked_during_idle(world):
    """The owner takes r away while the reader is in IDLE on the folder."""
    env, o, r = world
    o.ok(f'SETACL "Proj" "{READER}" "lrs"')
    r.ok(f'SELECT "{SHARED}"')
    tag = r.send("IDLE")
    assert r.f.readline().startswith(b"+ ")
    assert o.cmd('APPEND "Proj" ()', msg(7, "before revocation"))[0] == "OK"
    pushed = r.drain(15.0, until="EXISTS")
    assert "EXISTS" in pushed, pushed       # the control: IDLE works
    o.ok(f'SETACL "Proj" "{READER}" "l"')
    assert o.cmd('APPEND "Proj" ()', msg(8, "after revocation"))[0] == "OK"
    o.ok('SELECT "Proj"')
    o.ok("UID STORE 1 +FLAGS (\\Flagged)")
    o.ok("UID STORE 2 +FLAGS (\\Deleted)")
    o.ok("EXPUNGE")
    pushed = r.drain(2.0)
    r.s.sendall(b"DONE\r\n")
    line, rest = r._read(tag)
    pushed += "\n".join(rest)
    for word in ("EXISTS", "EXPUNGE", "FETCH", "VANISHED", "revocation"):
        assert word not in pushed, pushed
    st, line, _ = r.cmd("UID FETCH 1:* (ENVELOPE)")
    assert st == "NO" and "[NOPERM]" in line, line


def test_owners_seen_never_reaches_the_reader(world):
    """The owner reads while the reader watches (NOOP, IDLE, CONDSTORE):
    the owner's \\Seen never shows up in the reader's view."""
    env, o, r = world
    o.ok(f'SETACL "Proj" "{READER}" "lrs"')
    r.ok(f'SELECT "{SHARED}"')
    if r.has("CONDSTORE"):
        r.ok("ENABLE CONDSTORE")
    o.ok('SELECT "Proj"')
    o.ok("UID STORE 3 +FLAGS (\\Seen)")
    o.ok("UID FETCH 2 (BODY[])")
    pushed = "\n".join(r.ok("NOOP"))
    tag = r.send("IDLE")
    assert r.f.readline().startswith(b"+ ")
    o.ok("UID STORE 2:3 -FLAGS (\\Seen)")
    o.ok("UID STORE 2:3 +FLAGS (\\Seen \\Answered)")
    pushed += r.drain(15.0, until="Answered")
    r.s.sendall(b"DONE\r\n")
    pushed += "\n".join(r._read(tag)[1])
    assert "Answered" in pushed, pushed       # the control: changes are heard
    assert "\\Seen" not in pushed, pushed
    fl = flags_of(r)
    assert all("\\Seen" not in f for f in fl.values()), fl
    if r.has("CONDSTORE"):
        for ln in r.ok("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)"):
            assert "\\Seen" not in ln, ln
    for c in ("UID SEARCH SEEN", "UID SEARCH NOT UNSEEN"):
        assert r.ok(c)[0].split()[2:] == [], c
    _, line, u = r.cmd(f'STATUS "{SHARED}" (MESSAGES UNSEEN)')
    assert "UNSEEN 3" in u[0], u
    if r.has("LIST-STATUS"):
        u = r.ok(f'LIST "" "{SHARED}" RETURN (STATUS (UNSEEN))')
        assert any("UNSEEN 3" in ln for ln in u), u


def test_notify_pushes_nothing_after_revocation(world):
    """NOTIFY SELECTED pushes between commands; once r is taken away it
    must push nothing more (no EXISTS, FLAGS, EXPUNGE, nor MessageNew's
    ENVELOPE of the owner's new mail)."""
    env, o, r = world
    if not r.has("NOTIFY"):
        pytest.skip("NOTIFY not announced")
    o.ok(f'SETACL "Proj" "{READER}" "lrs"')
    r.ok(f'SELECT "{SHARED}"')
    r.ok("NOTIFY SET (SELECTED (MessageNew (UID FLAGS ENVELOPE) MessageExpunge FlagChange))")
    assert o.cmd('APPEND "Proj" ()', msg(8, "while allowed"))[0] == "OK"
    pushed = r.drain(15.0, until="EXISTS")
    assert "EXISTS" in pushed, pushed   # the control: pushes arrive
    o.ok(f'DELETEACL "Proj" "{READER}"')
    r.ok("NOOP")        # the new rights are picked up
    assert o.cmd('APPEND "Proj" ()', msg(9, "after revocation"))[0] == "OK"
    o.ok('SELECT "Proj"')
    o.ok("UID STORE 1 +FLAGS (\\Flagged)")
    o.ok("UID STORE 3 +FLAGS (\\Deleted)")
    o.ok("EXPUNGE")
    pushed = r.drain(2.0) + "\n".join(r.ok("NOOP"))
    for word in ("after revocation", "EXISTS", "EXPUNGE", "VANISHED", "FETCH"):
        assert word not in pushed, pushed


def test_search_context_updates_stop_after_revocation(world):
    env, o, r = world
    if not r.has("CONTEXT=SEARCH"):
        pytest.skip("CONTEXT=SEARCH not announced")
    o.ok(f'SETACL "Proj" "{READER}" "lrs"')
    r.ok(f'SELECT "{SHARED}"')
    r.ok("SEARCH RETURN (UPDATE COUNT) ALL")
    o.ok(f'DELETEACL "Proj" "{READER}"')
    r.ok("NOOP")
    assert o.cmd('APPEND "Proj" ()', msg(9, "after revocation"))[0] == "OK"
    pushed = r.drain(1.5) + "\n".join(r.ok("NOOP"))
    assert "ESEARCH" not in pushed and "EXISTS" not in pushed, pushed


def test_rights_reduced_while_selected(world):
    env, o, r = world
    o.ok(f'SETACL "Proj" "{READER}" "lrswite"')
    r.ok(f'SELECT "{SHARED}"')
    r.ok("UID STORE 3 +FLAGS (\\Deleted)")
    o.ok(f'SETACL "Proj" "{READER}" "lrs"')
    for c in ("EXPUNGE", "UID EXPUNGE 3", "UID STORE 1 +FLAGS (\\Flagged)",
              "UID STORE 3 -FLAGS (\\Deleted)", 'UID MOVE 1 "Mine"'):
        st, line, _ = r.cmd(c)
        assert st == "NO", (c, line)
    if r.has("CONDSTORE"):
        r.refused("UID STORE 1 (UNCHANGEDSINCE 18446744073709551615) +FLAGS ($Evil)")
    r.ok("CLOSE")       # without e, CLOSE does not expunge
    o.ok('SELECT "Proj"')
    assert set(flags_of(o)) == {1, 2, 3}
    assert flags_of(o)[1] == {"\\Seen"}
    # with r gone too, EXAMINE and STATUS answer as for a missing mailbox
    o.ok(f'SETACL "Proj" "{READER}" "l"')
    st, line, _ = r.cmd(f'EXAMINE "{SHARED}"')
    assert st == "NO" and "[NOPERM]" in line, line


# ---- SMTP BURL with the owner's messages ----

class Smtp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.f = self.s.makefile("rb")
        assert self.reply()[0] == 220

    def reply(self):
        lines = []
        while True:
            ln = self.f.readline()
            assert ln, "connection closed"
            lines.append(ln)
            if ln[3:4] != b"-":
                return int(ln[:3]), b"".join(lines)

    def cmd(self, line):
        self.s.sendall(line + b"\r\n")
        return self.reply()


def test_burl_cannot_fetch_the_owners_messages(world):
    env, o, r = world
    o.ok(f'SETACL "Proj" "{READER}" "lr"')
    if not o.has("URLAUTH"):
        pytest.skip("URLAUTH not announced")
    enc = lambda a: a.replace("@", "%40")  # noqa: E731
    u = o.ok(f'GENURLAUTH "imap://{enc(OWNER)}@{HOST}/Secret/;UID=1;'
             f'URLAUTH=submit+{enc(OWNER)}" INTERNAL')
    own_url = re.search(r'"([^"]+)"', u[0]).group(1)
    m = Smtp(env.submission_port)
    code, text = m.cmd(b"EHLO client.test")
    if b"BURL" not in text:
        pytest.skip("BURL not announced")
    if b"STARTTLS" in text and b"AUTH" not in text:
        m.s.sendall(b"STARTTLS\r\n")
        assert m.reply()[0] == 220
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        m.s = ctx.wrap_socket(m.s)
        m.f = m.s.makefile("rb")
        m.cmd(b"EHLO client.test")
    code, _ = m.cmd(b"AUTH PLAIN " + base64.b64encode(f"\0{READER}\0{PASSWORD}".encode()))
    assert code == 235
    assert m.cmd(f"MAIL FROM:<{READER}>".encode())[0] == 250
    assert m.cmd(f"RCPT TO:<{READER}>".encode())[0] == 250
    for url in (own_url,
                own_url.replace(f"submit+{enc(OWNER)}", f"submit+{enc(READER)}"),
                f"imap://{enc(OWNER)}@{HOST}/Proj/;UID=1;URLAUTH=submit+{enc(READER)}"
                f":INTERNAL:{'0' * 64}",
                f"imap://{enc(READER)}@{HOST}/Other%20Users/{enc(OWNER)}/Proj/;UID=1"
                f";URLAUTH=submit+{enc(READER)}:INTERNAL:{'0' * 64}",
                f"imap://{enc(OWNER)}@{HOST}/Proj/;UID=1"):
        code, text = m.cmd(b"BURL " + url.encode() + b" LAST")
        assert code >= 400, (url, text)
    m.cmd(b"RSET")
    m.cmd(b"QUIT")
    r.ok("SELECT INBOX")
    got = "".join(r.ok("FETCH 1:* (BODY.PEEK[])"))
    assert "zebracorn" not in got


# ---- public folders ----

def test_public_folder_reader_cannot_exceed_lr(world):
    """Shared/News: everybody reads, the owner user edits (lrswite), the
    reader tries to change it in every way and the editor checks."""
    env, o, r = world
    ctl(env, "public", "create", "News")
    ctl(env, "public", "create", "News/Archive")
    ctl(env, "acl", "set", "Shared/News", "anyone", "lr")
    ctl(env, "acl", "set", "Shared/News", OWNER, "lrswitea")
    for i in (1, 2):
        assert o.cmd('APPEND "Shared/News" ()', msg(20 + i))[0] == "OK"
    o.ok('SELECT "Shared/News"')
    before = flags_of(o)
    o.ok("CLOSE")
    r.close()
    r = Client(env, READER)
    listed = names(r.ok('LIST "" "Shared/*"'))
    assert "Shared/News" in listed and "Shared/News/Archive" not in listed, listed
    for name in ("Shared/News/Archive", "Other Users/public@/News/Archive",
                 "Other Users/public@/News", "Shared/News/../News/Archive", "shared/News/Archive"):
        line, u = r.refused(f'STATUS "{name}" (MESSAGES)')
        assert "[NOPERM]" not in line, (name, line)
        r.refused(f'SELECT "{name}"')
    r.refused('SELECT "Shared/News/Archive"')
    for c in ('CREATE "Shared/Evil"', 'CREATE "Shared/News/Evil"', 'DELETE "Shared/News"',
              'RENAME "Shared/News" "Shared/Olds"', 'RENAME "Shared/News" "Mine/News"',
              'RENAME "Mine" "Shared/Mine"', f'SETACL "Shared/News" "{READER}" "+{ALL_RIGHTS}"',
              'SETACL "Shared/News" "anyone" "lrswipkxtea"', 'DELETEACL "Shared/News" "anyone"',
              'GETACL "Shared/News"', 'SETACL "Shared/News/Archive" "anyone" "lr"',
              'DELETE "Shared/News/Archive"', 'CREATE "Shared"'):
        r.refused(c)
    r.refused('APPEND "Shared/News" ()', msg(30))
    r.ok('SELECT INBOX')
    r.refused('COPY 1 "Shared/News"')
    r.refused('MOVE 1 "Shared/News"')
    r.ok('SELECT "Shared/News"')
    r.ok("UID FETCH 1:* (BODY[])")
    for c in ("UID STORE 1:* +FLAGS (\\Flagged)", "UID STORE 1:* +FLAGS (\\Deleted)",
              "UID STORE 1:* +FLAGS ($Evil)", "EXPUNGE", "UID EXPUNGE 1:*",
              'UID MOVE 1 "Mine"', "UID STORE 1:* +FLAGS (\\Seen)"):
        r.refused(c)
    r.ok("CLOSE")
    o.ok('SELECT "Shared/News"')
    assert flags_of(o) == before
    assert "Shared/Evil" not in names(o.ok('LIST "" "*"'))


def test_negative_rights_hold_for_every_spelling_of_the_login(world):
    """A negative entry for the reader applies whichever way he logs in."""
    env, o, r = world
    o.ok('SETACL "Proj" "anyone" "lrw"')
    o.ok(f'SETACL "Proj" "-{READER}" "rw"')
    for login in (READER.upper(), READER.capitalize()):
        c = socket.create_connection(("127.0.0.1", env.imap_port), timeout=10)
        f = c.makefile("rb")
        f.readline()
        c.sendall(f'a LOGIN "{login}" "{PASSWORD}"\r\n'.encode())
        ln = f.readline()
        while not ln.startswith(b"a "):
            ln = f.readline()
        # Logins are case-insensitive: each spelling must get in, or the
        # loop would check nothing.
        assert ln.startswith(b"a OK"), (login, ln)
        c.sendall(f'b SELECT "{SHARED}"\r\n'.encode())
        ln = f.readline()
        while not ln.startswith(b"b "):
            ln = f.readline()
        assert ln.startswith(b"b NO"), (login, ln)
        c.close()
    t = Client(env, THIRD)
    t.ok(f'SELECT "{SHARED}"')
    t.ok("UID STORE 3 +FLAGS ($ThirdWasHere)")
    t.close()


def test_private_metadata_stays_private(world):
    """/private entries of a shared mailbox are each user's own (RFC 5464
    3.2): the reader neither sees nor overwrites the owner's."""
    env, o, r = world
    if not r.has("METADATA"):
        pytest.skip("METADATA not announced")
    o.ok('SETMETADATA "Proj" (/private/comment "owner private note")')
    o.ok('SETMETADATA "Secret" (/private/comment "secret note" /shared/comment "secret shared")')
    o.ok(f'SETACL "Proj" "{READER}" "lr"')
    got = "".join(r.ok(f'GETMETADATA "{SHARED}" (/private/comment)'))
    assert "owner private note" not in got, got
    got = "".join(r.ok(f'GETMETADATA (DEPTH infinity) "{SHARED}" (/private /shared)'))
    assert "owner private note" not in got, got
    r.ok(f'SETMETADATA "{SHARED}" (/private/comment "reader note")')
    r.ok(f'SETMETADATA "{SHARED}" (/private/comment NIL)')
    got = "".join(o.ok('GETMETADATA "Proj" (/private/comment)'))
    assert "owner private note" in got, got
    for c in (f'GETMETADATA "{OPREFIX}/Secret" (/private/comment)',
              f'GETMETADATA (DEPTH infinity) "{OPREFIX}/Secret" (/shared)'):
        line, u = r.refused(c)
        assert "secret" not in "".join(u), u
    # server entries of another user are not his either
    got = "".join(r.ok('GETMETADATA (DEPTH infinity) "" (/private)'))
    assert "owner" not in got, got


def test_urlauth_keys_are_the_owners(world):
    """URLs the owner signed for himself stay his; the reader can neither
    use them nor reset the owner's keys (RFC 4467)."""
    env, o, r = world
    if not o.has("URLAUTH"):
        pytest.skip("URLAUTH not announced")
    o.ok(f'SETACL "Proj" "{READER}" "lrswipkxtea"')
    enc = lambda a: a.replace("@", "%40")  # noqa: E731
    base = f"imap://{enc(OWNER)}@{HOST}/Secret/;UID=1"
    mine = re.search(r'"([^"]+)"', o.ok(
        f'GENURLAUTH "{base};URLAUTH=user+{enc(OWNER)}" INTERNAL')[0]).group(1)
    anyone = re.search(r'"([^"]+)"', o.ok(
        f'GENURLAUTH "{base};URLAUTH=authuser" INTERNAL')[0]).group(1)
    u = r.ok(f'URLFETCH "{mine}"')
    assert u[0].endswith(" NIL") and "top secret" not in "".join(u), u
    # the reader tampers with the access part of a URL he was given
    for forged in (anyone.replace("authuser", f"user+{enc(READER)}"),
                   mine.replace(f"user+{enc(OWNER)}", f"user+{enc(READER)}"),
                   anyone.replace("/Secret/", "/Proj/"),
                   anyone.replace(";UID=1", ";UID=2")):
        u = r.ok(f'URLFETCH "{forged}"')
        assert u[0].endswith(" NIL"), (forged, u)
    for c in (f'RESETKEY "{OPREFIX}/Secret"', f'RESETKEY "{SHARED}"', 'RESETKEY "Secret"'):
        r.cmd(c)
    r.ok("RESETKEY")
    u = o.ok(f'URLFETCH "{mine}"')
    assert "top secret" in "".join(u), u
    assert "top secret" in "".join(r.ok(f'URLFETCH "{anyone}"'))
