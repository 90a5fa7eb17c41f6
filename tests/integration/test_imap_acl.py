"""Shared and public folders (issue 7 item 1): RFC 4314 ACL, RFC 8440
LIST-MYRIGHTS, the "Other Users/" and "Shared/" namespaces, per-user \\Seen.

Two users' sessions run at once over raw sockets (and imaplib): for every
right a command that must succeed with it and fail without it, checked
against what the owner sees afterwards, so a reader can never exceed the
rights he was given in any command; groups through the directory,
anyone/authenticated, negative rights, public folders from cairnctl, quota
charged to the owner, IDLE of a reader hearing the owner's changes."""
import imaplib
import re
import select
import socket
import subprocess
import time

import pytest

from conftest import CAIRNCTL

PASSWORD = "acl-secret-1"
OWNER = "owner@acl.test"
READER = "reader@acl.test"
THIRD = "third@acl.test"
SHARED = f"Other Users/{OWNER}/Proj"


def ctl(d, *args, rc=0):
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == rc, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


@pytest.fixture
def env(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"server": {"loopback_is_secure": "yes"},
                        "imap": {"idle_timeout": "60s", "max_bad_commands": "50"}})
    ctl(d, "domain", "add", "acl.test")
    for u in (OWNER, READER, THIRD):
        ctl(d, "user", "add", u, "--password", PASSWORD)
    d.pg = pg
    return d


def msg(i, subject=None):
    return (f"From: Sender {i} <s{i}@remote.test>\r\nTo: {OWNER}\r\n"
            f"Subject: {subject or f'message {i}'}\r\nMessage-ID: <acl{i}@remote.test>\r\n"
            f"\r\nBody {i}\r\n").encode()


class Client:
    """A raw IMAP session: cmd() returns (status, tagged line, untagged lines)."""

    def __init__(self, d, user):
        self.s = socket.create_connection(("127.0.0.1", d.imap_port), timeout=10)
        self.f = self.s.makefile("rb")
        self.greeting = self.f.readline()
        self.n = 0
        self.user = user
        self.ok(f'LOGIN "{user}" "{PASSWORD}"')

    def _read(self, tag):
        out = []
        while True:
            ln = self.f.readline()
            if not ln:
                raise EOFError(b"".join(out))
            m = re.search(rb"\{(\d+)\}\r\n$", ln)
            if m:
                ln += self.f.read(int(m.group(1)))
                ln += self.f.readline()
            if ln.startswith(tag + b" "):
                return ln.decode(errors="replace").rstrip("\r\n"), \
                    [x.decode(errors="replace").rstrip("\r\n") for x in out]
            out.append(ln)

    def cmd(self, text, literal=None):
        self.n += 1
        tag = f"t{self.n}".encode()
        if literal is not None:
            self.s.sendall(tag + b" " + text.encode() + f" {{{len(literal)}+}}\r\n".encode()
                           + literal + b"\r\n")
        else:
            self.s.sendall(tag + b" " + text.encode() + b"\r\n")
        line, untagged = self._read(tag)
        status = line.split(" ")[1]
        return status, line, untagged

    def ok(self, text, literal=None):
        st, line, u = self.cmd(text, literal)
        assert st == "OK", f"{self.user}: {text!r} -> {line} {u}"
        return u

    def no(self, text, code=None, literal=None):
        st, line, u = self.cmd(text, literal)
        assert st == "NO", f"{self.user}: {text!r} should fail -> {line} {u}"
        if code is not None:
            assert f"[{code}]" in line, f"{self.user}: {text!r} -> {line}"
        return line

    def append(self, mbox, data, flags=""):
        return self.cmd(f'APPEND "{mbox}" ({flags})', literal=data)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def flags_of(client, spec="1:*"):
    """{uid: set(flags)} of the selected mailbox."""
    out = {}
    for ln in client.ok(f"UID FETCH {spec} (UID FLAGS)"):
        m = re.search(r"UID (\d+) FLAGS \(([^)]*)\)", ln) or \
            re.search(r"FLAGS \(([^)]*)\) UID (\d+)", ln)
        if m is None:
            continue
        if m.re.pattern.startswith("UID"):
            uid, fl = m.group(1), m.group(2)
        else:
            uid, fl = m.group(2), m.group(1)
        out[int(uid)] = set(fl.split()) - {"\\Recent"}
    return out


def names(lines):
    """Mailbox names of LIST/LSUB responses (quoted or atoms)."""
    out = []
    for ln in lines:
        m = re.match(r'\* (?:LIST|LSUB) \([^)]*\) (?:"/"|NIL) (?:"((?:[^"\\]|\\.)*)"|(\S+))$', ln)
        if m:
            out.append(m.group(1) if m.group(1) is not None else m.group(2))
    return out


def search(client, key):
    for ln in client.ok(f"UID SEARCH {key}"):
        if ln.startswith("* SEARCH"):
            return [int(x) for x in ln.split()[2:]]
    return []


@pytest.fixture
def two(env):
    """The owner with Proj (3 messages) and a reader; Proj shared by tests."""
    o = Client(env, OWNER)
    r = Client(env, READER)
    o.ok('CREATE "Proj"')
    for i in (1, 2, 3):
        st, line, _ = o.append("Proj", msg(i))
        assert st == "OK", line
    yield env, o, r
    o.close()
    r.close()


def grant(o, rights, who=READER, mbox="Proj"):
    o.ok(f'SETACL "{mbox}" "{who}" "{rights}"')


# ---- namespaces and capabilities ----

def test_capabilities_and_namespace(env):
    c = Client(env, READER)
    caps = c.ok("CAPABILITY")[0]
    for cap in ("ACL", "RIGHTS=texk", "LIST-MYRIGHTS", "NAMESPACE"):
        assert f" {cap}" in caps
    u = c.ok("NAMESPACE")
    assert u == ['* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared/" "/"))']
    # imaplib agrees with the syntax
    m = imaplib.IMAP4("127.0.0.1", env.imap_port, timeout=10)
    m.login(READER, PASSWORD)
    typ, data = m.namespace()
    assert typ == "OK" and b'"Other Users/"' in data[0] and b'"Shared/"' in data[0]
    m.logout()
    c.close()


def test_nothing_shared_nothing_listed(two):
    env, o, r = two
    lines = r.ok('LIST "" "*"')
    assert not any("Other Users" in ln or "Shared" in ln for ln in lines)
    # and the owner's mailbox is invisible: it "does not exist" for the reader
    r.no(f'SELECT "{SHARED}"', "NONEXISTENT")
    r.no(f'STATUS "{SHARED}" (MESSAGES)', "NONEXISTENT")
    r.no(f'GETACL "{SHARED}"', "NONEXISTENT")
    r.no(f'MYRIGHTS "{SHARED}"', "NONEXISTENT")
    st, line, _ = r.append(SHARED, msg(9))
    assert st == "NO" and "TRYCREATE" in line
    r.no(f'DELETE "{SHARED}"', "NONEXISTENT")
    # the reader cannot squat the namespaces in his own account either
    r.no('CREATE "Shared"')
    r.no('CREATE "Other Users/x"')


# ---- one right at a time ----

def test_right_l_lookup(two):
    env, o, r = two
    grant(o, "l")
    lines = r.ok('LIST "" "*"')
    assert any(ln.endswith(f'"{SHARED}"') for ln in lines), lines
    assert any('\\Noselect' in ln and ln.endswith('"Other Users"') for ln in lines), lines
    assert any(ln.endswith(f'"Other Users/{OWNER}"') for ln in lines), lines
    assert r.ok('LIST "" "%"')[-1].endswith('"Other Users"')
    # l without r: it exists, but reading it is refused with NOPERM
    r.no(f'SELECT "{SHARED}"', "NOPERM")
    r.no(f'EXAMINE "{SHARED}"', "NOPERM")
    r.no(f'STATUS "{SHARED}" (MESSAGES)', "NOPERM")
    grant(o, "r")
    lines = r.ok('LIST "" "*"')
    assert not any(SHARED in ln for ln in lines), "listed without l"


def test_right_r_read(two):
    env, o, r = two
    grant(o, "lr")
    u = r.ok(f'SELECT "{SHARED}"')
    assert "* 3 EXISTS" in u
    st, line, _ = r.cmd("NOOP")
    u = r.ok(f'EXAMINE "{SHARED}"')
    u = r.ok(f'STATUS "{SHARED}" (MESSAGES UNSEEN)')
    assert "MESSAGES 3" in u[0] and "UNSEEN 3" in u[0]
    r.ok(f'SELECT "{SHARED}"')
    u = r.ok("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert sum("message" in ln for ln in u) == 3
    assert search(r, "ALL") == [1, 2, 3]
    # COPY from it into his own INBOX needs only r here (and i on INBOX)
    u = r.ok('UID COPY 1 INBOX')
    r.ok("UNSELECT")
    assert "MESSAGES 1" in r.ok('STATUS INBOX (MESSAGES)')[0]


def test_select_without_write_rights_is_read_only(two):
    env, o, r = two
    grant(o, "lr")
    st, line, u = r.cmd(f'SELECT "{SHARED}"')
    assert st == "OK" and "[READ-ONLY]" in line
    assert "* OK [PERMANENTFLAGS ()] No permanent flags permitted" in u
    grant(o, "lrs")
    st, line, u = r.cmd(f'SELECT "{SHARED}"')
    assert "[READ-WRITE]" in line
    assert any(ln.startswith("* OK [PERMANENTFLAGS (\\Seen)]") for ln in u), u
    grant(o, "lrswt")
    st, line, u = r.cmd(f'SELECT "{SHARED}"')
    pf = [ln for ln in u if "PERMANENTFLAGS" in ln][0]
    for f in ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "\\*"):
        assert f in pf


def test_fetch_without_s_does_not_set_seen(two):
    env, o, r = two
    grant(o, "lrw")
    r.ok(f'SELECT "{SHARED}"')
    u = r.ok("FETCH 1 (BODY[])")
    assert "Body 1" in "".join(u)
    assert "\\Seen" not in flags_of(r)[1]
    o.ok('SELECT "Proj"')
    assert "\\Seen" not in flags_of(o)[1]


def test_right_s_seen(two):
    env, o, r = two
    grant(o, "lrwt")
    r.ok(f'SELECT "{SHARED}"')
    r.no("STORE 1 +FLAGS (\\Seen)", "NOPERM")
    r.no("UID STORE 1 FLAGS (\\Seen \\Flagged \\Deleted)", "NOPERM")
    assert "\\Seen" not in flags_of(r)[1]
    grant(o, "lrs")
    r.ok(f'SELECT "{SHARED}"')
    u = r.ok("STORE 1 +FLAGS (\\Seen)")
    assert any("\\Seen" in ln for ln in u)
    assert "\\Seen" in flags_of(r)[1]
    u = r.ok("FETCH 2 (BODY[])")
    assert "\\Seen" in flags_of(r)[2]
    # his \Seen is his own: the owner has still read nothing
    o.ok('SELECT "Proj"')
    assert all("\\Seen" not in f for f in flags_of(o).values())


def test_right_w_write(two):
    env, o, r = two
    grant(o, "lrst")
    r.ok(f'SELECT "{SHARED}"')
    r.no("STORE 1 +FLAGS (\\Flagged)", "NOPERM")
    r.no("STORE 1 +FLAGS (\\Answered)", "NOPERM")
    r.no("STORE 1 +FLAGS ($Label1)", "NOPERM")
    r.no("STORE 1 -FLAGS (\\Draft)", "NOPERM")
    grant(o, "lrw")
    r.ok(f'SELECT "{SHARED}"')
    r.ok("STORE 1 +FLAGS (\\Flagged $Label1)")
    o.ok('SELECT "Proj"')
    assert {"\\Flagged", "$Label1"} <= flags_of(o)[1]
    assert flags_of(o)[2] == set()


def test_right_t_deleted_and_e_expunge(two):
    env, o, r = two
    grant(o, "lrsw")
    r.ok(f'SELECT "{SHARED}"')
    r.no("STORE 1 +FLAGS (\\Deleted)", "NOPERM")
    grant(o, "lrt")
    r.ok(f'SELECT "{SHARED}"')
    r.ok("STORE 1 +FLAGS (\\Deleted)")
    # t without e: EXPUNGE is refused, CLOSE expunges nothing
    r.no("EXPUNGE", "NOPERM")
    r.no("UID EXPUNGE 1", "NOPERM")
    r.ok("CLOSE")
    o.ok('SELECT "Proj"')
    assert sorted(flags_of(o)) == [1, 2, 3] and "\\Deleted" in flags_of(o)[1]
    grant(o, "lrte")
    r.ok(f'SELECT "{SHARED}"')
    u = r.ok("EXPUNGE")
    assert "* 1 EXPUNGE" in u
    r.ok("STORE 1 +FLAGS (\\Deleted)")
    r.ok("CLOSE")
    o.ok("NOOP")
    assert sorted(flags_of(o)) == [3]


def test_right_i_insert(two):
    env, o, r = two
    grant(o, "lr")
    st, line, _ = r.append(SHARED, msg(7))
    assert st == "NO" and "[NOPERM]" in line
    st, line, _ = r.append("INBOX", msg(8))
    assert st == "OK"
    r.ok("SELECT INBOX")
    r.no(f'COPY 1 "{SHARED}"', "NOPERM")
    r.no(f'MOVE 1 "{SHARED}"', "NOPERM")
    o.ok('SELECT "Proj"')
    assert len(flags_of(o)) == 3
    # i alone is a drop box: append yes, read no
    grant(o, "i")
    st, line, _ = r.append(SHARED, msg(7), "\\Seen \\Flagged")
    assert st == "OK" and "APPENDUID" in line, line
    r.no(f'SELECT "{SHARED}"', "NONEXISTENT")
    grant(o, "lri")
    r.ok("SELECT INBOX")
    r.ok("STORE 1 +FLAGS (\\Seen \\Flagged \\Deleted $Label1)")
    u = r.ok(f'COPY 1 "{SHARED}"')
    r.ok(f'MOVE 1 "{SHARED}"')
    o.ok("NOOP")
    f = flags_of(o)
    assert len(f) == 6
    # flags and keywords he had no right to set (s, w, t) were dropped
    assert all(not x for x in f.values()), f


def test_move_out_needs_t_and_e(two):
    env, o, r = two
    grant(o, "lrt")
    r.ok(f'SELECT "{SHARED}"')
    r.no("MOVE 1 INBOX", "NOPERM")
    grant(o, "lre")
    r.ok(f'SELECT "{SHARED}"')
    r.no("UID MOVE 1 INBOX", "NOPERM")
    o.ok('SELECT "Proj"')
    assert len(flags_of(o)) == 3
    grant(o, "lrte")
    r.ok(f'SELECT "{SHARED}"')
    r.ok("MOVE 1 INBOX")
    o.ok("NOOP")
    assert len(flags_of(o)) == 2
    assert "MESSAGES 1" in r.ok('STATUS INBOX (MESSAGES)')[0]


def test_right_k_create_and_x_delete(two):
    env, o, r = two
    grant(o, "lr")
    r.no(f'CREATE "{SHARED}/sub"', "NOPERM")
    grant(o, "lrk")
    r.ok(f'CREATE "{SHARED}/sub"')
    # the new mailbox inherits Proj's ACL, is the owner's, and is listed
    assert "Proj/sub" in names(o.ok('LIST "" "Proj/*"'))
    assert any(ln.endswith(f'"{SHARED}/sub"') for ln in r.ok('LIST "" "Other Users/*"'))
    # nobody creates at the top of another's namespace
    r.no(f'CREATE "Other Users/{OWNER}/Top"', "NOPERM")
    # DELETE needs x on the mailbox itself
    r.no(f'DELETE "{SHARED}/sub"', "NOPERM")
    grant(o, "lrx", mbox="Proj/sub")
    r.ok(f'DELETE "{SHARED}/sub"')
    assert "Proj/sub" not in names(o.ok('LIST "" "*"'))


def test_rename_needs_x_on_source_and_k_on_parent(two):
    env, o, r = two
    o.ok('CREATE "Proj/a"')
    grant(o, "lr", mbox="Proj")
    grant(o, "lrx", mbox="Proj/a")
    r.no(f'RENAME "{SHARED}/a" "{SHARED}/b"', "NOPERM")    # no k on Proj
    grant(o, "lrx")                                          # x on Proj, still no k
    grant(o, "lr", mbox="Proj/a")
    r.no(f'RENAME "{SHARED}/a" "{SHARED}/b"', "NOPERM")    # no x on Proj/a
    grant(o, "lrk")
    grant(o, "lrx", mbox="Proj/a")
    r.ok(f'RENAME "{SHARED}/a" "{SHARED}/b"')
    got = names(o.ok('LIST "" "Proj/*"'))
    assert "Proj/b" in got and "Proj/a" not in got
    # and never out of the owner's account
    grant(o, "lrx", mbox="Proj/b")
    st, line, _ = r.cmd(f'RENAME "{SHARED}/b" "Mine"')
    assert st == "NO"


def test_right_a_admin(two):
    env, o, r = two
    grant(o, "lr")
    r.no(f'GETACL "{SHARED}"', "NOPERM")
    r.no(f'SETACL "{SHARED}" "{THIRD}" "lr"', "NOPERM")
    r.no(f'DELETEACL "{SHARED}" "{READER}"', "NOPERM")
    r.no(f'LISTRIGHTS "{SHARED}" "{THIRD}"', "NOPERM")
    u = r.ok(f'MYRIGHTS "{SHARED}"')
    assert u == [f'* MYRIGHTS "{SHARED}" lr']
    t = Client(env, THIRD)
    t.no(f'SELECT "{SHARED}"', "NONEXISTENT")
    grant(o, "lra")
    u = r.ok(f'GETACL "{SHARED}"')
    assert u[0].startswith(f'* ACL "{SHARED}" {OWNER} lrswipkxteacd')
    assert f"{READER} lra" in u[0]
    r.ok(f'SETACL "{SHARED}" "{THIRD}" "lr"')
    t.ok(f'SELECT "{SHARED}"')
    u = r.ok(f'LISTRIGHTS "{SHARED}" "{THIRD}"')
    assert u == [f'* LISTRIGHTS "{SHARED}" {THIRD} "" l r s w i p k x t e a']
    u = r.ok(f'LISTRIGHTS "{SHARED}" "{OWNER}"')
    assert u == [f'* LISTRIGHTS "{SHARED}" {OWNER} lrswipkxtea']
    # the owner's rights cannot be taken away
    r.no(f'SETACL "{SHARED}" "{OWNER}" "l"', "CANNOT")
    r.no(f'SETACL "{SHARED}" "-{OWNER}" "lr"', "CANNOT")
    r.ok(f'DELETEACL "{SHARED}" "{THIRD}"')
    t.no(f'SELECT "{SHARED}"', "NONEXISTENT")
    t.close()


def test_setacl_syntax_and_modifiers(two):
    env, o, r = two
    o.ok(f'SETACL Proj {READER} lr')
    o.ok(f'SETACL Proj {READER} +sw')
    o.ok(f'SETACL Proj {READER} -r')
    assert f"{READER} lsw " in o.ok("GETACL Proj")[0] + " "
    # obsolete c and d (RFC 4314 2.1.1): c = kx, d = et
    o.ok(f'SETACL Proj {READER} lrcd')
    assert f"{READER} lrkxtecd" in o.ok("GETACL Proj")[0]
    st, line, _ = o.cmd(f'SETACL Proj {READER} lrz')
    assert st == "BAD"
    o.no('SETACL Proj "bad identifier" lr')
    o.no('SETACL Proj nobody lr')
    o.no('SETACL Nope anyone lr', "NONEXISTENT")
    o.ok(f'SETACL Proj {READER} ""')
    assert READER not in o.ok("GETACL Proj")[0]
    u = o.ok("MYRIGHTS Proj")
    assert u == ["* MYRIGHTS Proj lrswipkxteacd"]


# ---- identifiers ----

def test_anyone_authenticated_and_negative_rights(two):
    env, o, r = two
    t = Client(env, THIRD)
    o.ok('SETACL Proj anyone lr')
    t.ok(f'EXAMINE "{SHARED}"')
    r.ok(f'EXAMINE "{SHARED}"')
    o.ok(f'SETACL Proj -{READER} r')
    r.no(f'EXAMINE "{SHARED}"', "NOPERM")        # still l: it is visible
    t.ok(f'EXAMINE "{SHARED}"')
    o.ok(f'SETACL Proj -{READER} lr')
    r.no(f'EXAMINE "{SHARED}"', "NONEXISTENT")
    assert not any(SHARED in ln for ln in r.ok('LIST "" "*"'))
    o.ok('DELETEACL Proj anyone')
    o.ok('SETACL Proj authenticated lrs')
    t.ok(f'SELECT "{SHARED}"')
    r.no(f'SELECT "{SHARED}"', "NONEXISTENT")
    # a negative right beats a positive one given to the user himself too
    o.ok(f'SETACL Proj {READER} lrswi')
    r.no(f'SELECT "{SHARED}"', "NONEXISTENT")
    st, line, _ = r.append(SHARED, msg(5))
    assert st == "OK"            # i was not taken away
    t.close()


def test_group_rights_through_directory(two):
    env, o, r = two
    ctl(env, "group", "add", "team@acl.test")
    ctl(env, "group", "member", "add", "team@acl.test", READER)
    o.ok('SETACL Proj $team@acl.test lrs')
    t = Client(env, THIRD)
    r.ok(f'SELECT "{SHARED}"')
    r.ok("STORE 1 +FLAGS (\\Seen)")
    r.no("STORE 1 +FLAGS (\\Flagged)", "NOPERM")
    t.no(f'SELECT "{SHARED}"', "NONEXISTENT")
    assert "$team@acl.test lrs" in o.ok("GETACL Proj")[0]
    # a negative group entry takes rights away from its members
    o.ok('SETACL Proj anyone lr')
    o.ok('SETACL Proj -$team@acl.test r')
    t2 = Client(env, THIRD)
    t2.ok(f'EXAMINE "{SHARED}"')
    r2 = Client(env, READER)      # a new session asks the directory again
    r2.no(f'EXAMINE "{SHARED}"', "NOPERM")
    for c in (t, t2, r2):
        c.close()


# ---- per-user \Seen ----

def test_per_user_seen(two):
    env, o, r = two
    grant(o, "lrs")
    t = Client(env, THIRD)
    grant(o, "lrsw", who=THIRD)
    o.ok('SELECT "Proj"')
    o.ok("UID STORE 1 +FLAGS (\\Seen)")
    r.ok(f'SELECT "{SHARED}"')
    t.ok(f'SELECT "{SHARED}"')
    assert flags_of(r) == {1: set(), 2: set(), 3: set()}
    r.ok("UID STORE 2 +FLAGS (\\Seen)")
    t.ok("UID STORE 3 FLAGS (\\Seen \\Flagged)")
    assert flags_of(o) == {1: {"\\Seen"}, 2: set(), 3: {"\\Flagged"}}
    assert flags_of(r) == {1: set(), 2: {"\\Seen"}, 3: {"\\Flagged"}}
    assert flags_of(t) == {1: set(), 2: set(), 3: {"\\Seen", "\\Flagged"}}
    assert search(o, "SEEN") == [1] and search(o, "UNSEEN") == [2, 3]
    assert search(r, "SEEN") == [2] and search(r, "UNSEEN") == [1, 3]
    assert search(r, "OR SEEN FLAGGED") == [2, 3]
    assert search(r, "NOT SEEN") == [1, 3]
    assert search(t, "SEEN") == [3]
    # SORT and THREAD search with his own \Seen too
    assert "* SORT 2" in r.ok("UID SORT (ARRIVAL) UTF-8 SEEN")
    assert "* SORT 1 3" in r.ok("UID SORT (ARRIVAL) UTF-8 UNSEEN")
    assert "* SORT 1" in o.ok("UID SORT (ARRIVAL) UTF-8 SEEN")
    assert "UNSEEN 2" in o.ok('STATUS "Proj" (UNSEEN)')[0]
    assert "UNSEEN 2" in r.ok(f'STATUS "{SHARED}" (UNSEEN)')[0]
    r.ok("UNSELECT")
    assert "UNSEEN 2" in r.ok(f'STATUS "{SHARED}" (UNSEEN)')[0]
    u = r.ok('LIST "" "Other Users/*" RETURN (STATUS (UNSEEN))')
    assert any("UNSEEN 2" in ln and SHARED in ln for ln in u), u
    t.ok("UID STORE 3 -FLAGS (\\Seen)")
    assert search(t, "UNSEEN") == [1, 2, 3]
    # FLAGS replace by a reader leaves the owner's \Seen alone
    t.ok("UID STORE 1 FLAGS (\\Answered)")
    assert flags_of(o)[1] == {"\\Seen", "\\Answered"}
    assert flags_of(t)[1] == {"\\Answered"}
    # FETCH BODY[] sets only his own \Seen
    t.ok("FETCH 2 (BODY[TEXT])")
    assert "\\Seen" in flags_of(t)[2] and "\\Seen" not in flags_of(o)[2]
    # APPEND with \Seen by a reader: seen for him, unseen for the owner
    grant(o, "lrsi")
    st, line, _ = r.append(SHARED, msg(4), "\\Seen")
    uid = int(re.search(r"APPENDUID \d+ (\d+)", line).group(1))
    r.ok(f'SELECT "{SHARED}"')
    assert "\\Seen" in flags_of(r)[uid]
    o.ok("NOOP")
    assert "\\Seen" not in flags_of(o)[uid]
    t.close()


def test_copy_keeps_the_readers_own_seen(two):
    env, o, r = two
    grant(o, "lrs")
    o.ok('SELECT "Proj"')
    o.ok("UID STORE 1 +FLAGS (\\Seen)")
    r.ok(f'SELECT "{SHARED}"')
    r.ok("UID STORE 2 +FLAGS (\\Seen)")
    r.ok("UID COPY 1:3 INBOX")
    r.ok("SELECT INBOX")
    f = flags_of(r)
    assert [("\\Seen" in x) for _, x in sorted(f.items())] == [False, True, False]


def test_seen_right_is_checked_for_each_reader(two):
    """Cannot exceed: a reader with lr (no s) cannot mark anything read in any
    way, for himself or the owner."""
    env, o, r = two
    grant(o, "lr")
    r.ok(f'SELECT "{SHARED}"')
    r.cmd("FETCH 1:* (BODY[] RFC822 RFC822.TEXT BINARY[1])")
    r.no("STORE 1:* +FLAGS (\\Seen)")
    r.no("STORE 1:* FLAGS ()")
    r.no("UID STORE 1:* -FLAGS.SILENT (\\Seen)")
    assert all(not x for x in flags_of(r).values())
    o.ok('SELECT "Proj"')
    assert all(not x for x in flags_of(o).values())
    st, line, _ = r.cmd("EXPUNGE")
    assert st == "NO"
    st, line, _ = r.cmd("MOVE 1 INBOX")
    assert st == "NO"
    assert len(flags_of(o)) == 3


# ---- two sessions at once ----

def test_idle_reader_sees_owner_changes(two):
    env, o, r = two
    grant(o, "lrs")
    r.ok(f'SELECT "{SHARED}"')
    r.n += 1
    tag = f"t{r.n}".encode()
    r.s.sendall(tag + b" IDLE\r\n")
    assert r.f.readline().startswith(b"+ ")
    st, line, _ = o.append("Proj", msg(10))
    assert st == "OK"
    ready, _, _ = select.select([r.s], [], [], 5)
    assert ready, "no untagged response during IDLE"
    assert r.f.readline() == b"* 4 EXISTS\r\n"
    o.ok('SELECT "Proj"')
    o.ok("STORE 1 +FLAGS (\\Flagged)")
    got = b""
    deadline = time.time() + 5
    while b"FETCH" not in got and time.time() < deadline:
        if select.select([r.s], [], [], 1)[0]:
            got += r.f.readline()
    assert b"\\Flagged" in got
    r.s.sendall(b"DONE\r\n")
    while not r.f.readline().startswith(tag + b" OK"):
        pass
    # NOOP of the reader after the owner expunged
    o.ok("STORE 1 +FLAGS (\\Deleted)")
    o.ok("EXPUNGE")
    assert "* 1 EXPUNGE" in r.ok("NOOP")


def test_rights_taken_away_while_selected(two):
    """The owner changes the ACL while the reader has the mailbox selected:
    the next command already runs with the new rights."""
    env, o, r = two
    grant(o, "lrswte")
    r.ok(f'SELECT "{SHARED}"')
    r.ok("STORE 1 +FLAGS (\\Flagged)")
    grant(o, "lrs")
    r.no("STORE 2 +FLAGS (\\Flagged)", "NOPERM")
    r.no("STORE 2 +FLAGS (\\Deleted)", "NOPERM")
    r.no("EXPUNGE", "NOPERM")
    r.ok("STORE 2 +FLAGS (\\Seen)")
    o.ok(f"DELETEACL Proj {READER}")
    for c in ("FETCH 1 (FLAGS)", "UID FETCH 1:* (BODY.PEEK[])", "SEARCH ALL", "UID SEARCH ALL",
              "COPY 1 INBOX", "MOVE 1 INBOX", "STORE 1 +FLAGS (\\Seen)", "UID EXPUNGE 1",
              "SORT (ARRIVAL) UTF-8 ALL", "UID THREAD REFERENCES UTF-8 ALL"):
        r.no(c, "NOPERM")
    # and no news of the mailbox either
    o.append("Proj", msg(12))
    assert not any("EXISTS" in ln for ln in r.ok("NOOP"))
    r.ok("CLOSE")
    r.no(f'SELECT "{SHARED}"', "NONEXISTENT")
    o.ok('SELECT "Proj"')
    assert flags_of(o)[2] == set() and flags_of(o)[1] == {"\\Flagged"}
    assert "MESSAGES 0" in r.ok('STATUS INBOX (MESSAGES)')[0]


# ---- LIST-MYRIGHTS, subscriptions ----

def test_list_myrights_and_lsub(two):
    env, o, r = two
    grant(o, "lrsk")
    u = r.ok('LIST "" "*" RETURN (MYRIGHTS)')
    assert '* MYRIGHTS INBOX lrswipkxteacd' in u
    i = u.index(next(ln for ln in u if ln.endswith(f'"{SHARED}"')))
    assert u[i + 1] == f'* MYRIGHTS "{SHARED}" lrsk'
    # no MYRIGHTS for the \Noselect namespace parents
    assert not any(ln.startswith('* MYRIGHTS "Other Users"') for ln in u)
    r.ok(f'SUBSCRIBE "{SHARED}"')
    assert any(ln.endswith(f'"{SHARED}"') for ln in r.ok('LSUB "" "*"'))
    # his subscription is not the owner's
    assert "Proj" not in names(o.ok('LSUB "" "*"'))
    u = r.ok('LIST (SUBSCRIBED) "" "Other Users/*"')
    assert len(u) == 1 and "\\Subscribed" in u[0]
    o.ok(f'DELETEACL Proj {READER}')
    assert not any(SHARED in ln for ln in r.ok('LSUB "" "*"'))
    r.ok(f'UNSUBSCRIBE "INBOX"')


# ---- public folders ----

def test_public_folders_with_cairnctl(env):
    ctl(env, "public", "create", "News")
    ctl(env, "public", "create", "News/Archive")
    assert "Shared/News" in ctl(env, "public", "list")
    ctl(env, "acl", "set", "Shared/News", "anyone", "lrs")
    ctl(env, "acl", "set", "Shared/News", READER, "lrswi")
    ctl(env, "mailbox", "create", "--user", OWNER, "Team")
    ctl(env, "acl", "set", f"{OWNER}:Team", THIRD, "lr")
    out = ctl(env, "acl", "list")
    assert f"Shared/News\tanyone\tlrs" in out and f"Shared/News\t{READER}\tlrswi" in out
    assert f"Other Users/{OWNER}/Team\t{THIRD}\tlr" in out
    ctl(env, "acl", "set", "--", f"{OWNER}:Team", f"-{READER}", "lr")
    ctl(env, "acl", "set", "--", f"{OWNER}:Team", THIRD, "-r")
    ctl(env, "acl", "set", f"{OWNER}:Team", THIRD, "+i")
    out = ctl(env, "acl", "list", f"{OWNER}:Team")
    assert out == (f"Other Users/{OWNER}/Team\t-{READER}\tlr\n"
                   f"Other Users/{OWNER}/Team\t{THIRD}\tli\n"), out
    ctl(env, "acl", "set", f"{OWNER}:Team", THIRD, "lr")
    ctl(env, "acl", "set", f"{OWNER}:Team", OWNER, "l", rc=1)
    ctl(env, "acl", "set", "Shared/Nope", "anyone", "lr", rc=1)
    ctl(env, "acl", "set", "Shared/News", "anyone", "lrz", rc=2)
    ctl(env, "acl", "set", "Shared/News", "not an id", "lr", rc=2)
    # the organisation cannot log in and is no user
    assert "public@" not in ctl(env, "user", "list")
    m = imaplib.IMAP4("127.0.0.1", env.imap_port, timeout=10)
    with pytest.raises(imaplib.IMAP4.error):
        m.login("public@", "")
    m.logout()

    r = Client(env, READER)
    t = Client(env, THIRD)
    st, line, _ = r.append("Shared/News", msg(1, "hello all"))
    assert st == "OK", line
    st, line, _ = t.append("Shared/News", msg(2))
    assert st == "NO" and "[NOPERM]" in line
    lines = t.ok('LIST "" "*"')
    assert "Shared/News" in names(lines)
    assert any('\\Noselect' in ln and names([ln]) == ["Shared"] for ln in lines), lines
    assert "Shared/News/Archive" not in names(lines)
    t.ok('SELECT "Shared/News"')
    t.ok("STORE 1 +FLAGS (\\Seen)")
    r.ok('SELECT "Shared/News"')
    assert flags_of(r)[1] == set() and flags_of(t)[1] == {"\\Seen"}
    t.no('CREATE "Shared/Mine"', "NOPERM")
    r.no('CREATE "Shared/Mine"', "NOPERM")
    t.no('DELETE "Shared/News"', "NOPERM")
    t.no('GETACL "Shared/News"', "NOPERM")
    # the owner's mailbox shared read-only with the third user
    t.ok(f'EXAMINE "Other Users/{OWNER}/Team"')
    st, line, _ = t.cmd(f'SELECT "Other Users/{OWNER}/Team"')
    assert st == "OK" and "READ-ONLY" in line
    ctl(env, "acl", "delete", "Shared/News", READER)
    assert READER not in ctl(env, "acl", "list", "Shared/News")
    ctl(env, "public", "delete", "News/Archive")
    assert "Archive" not in ctl(env, "public", "list")
    r.close()
    t.close()


def test_quota_of_shared_folder_is_the_owners(two):
    env, o, r = two
    grant(o, "lri")
    db = "cairn"

    def usage(addr):
        return int(env.pg.psql(db, "SELECT u.bytes FROM mail_usage u JOIN accounts a"
                                   f" ON a.id = u.account_id WHERE a.address = '{addr}'"))
    before_o, before_r = usage(OWNER), usage(READER)
    data = msg(11) + b"x" * 5000 + b"\r\n"
    st, line, _ = r.append(SHARED, data)
    assert st == "OK"
    assert usage(OWNER) == before_o + len(data)
    assert usage(READER) == before_r


def test_protocol_abuse(two):
    env, o, r = two
    st, _, _ = r.cmd("SETACL")
    assert st == "BAD"
    st, _, _ = r.cmd("GETACL a b")
    assert st == "BAD"
    st, _, _ = r.cmd('MYRIGHTS "Other Users/"')
    assert st == "NO"
    st, _, _ = r.cmd('MYRIGHTS "Other Users"')
    assert st == "NO"
    st, _, _ = r.cmd('SELECT "Other Users/nobody@acl.test/INBOX"')
    assert st == "NO"
    st, _, _ = r.cmd('SELECT "Other Users/public@/News"')
    assert st == "NO"
    st, _, _ = r.cmd('SETACL "Other Users/' + "x" * 400 + '/a" anyone lr')
    assert st == "NO"
    st, _, _ = r.cmd('LIST "" "*" RETURN (MYRIGHTS MYRIGHTS)')
    assert st == "OK"
    assert r.ok("NOOP") is not None


def test_rights_of_a_deleted_account_do_not_pass_to_a_new_one(env):
    """Issue 18: ACL entries name their grantee by address. Deleting the
    account (or group) must take its entries along, or whoever gets the
    address next inherits its rights."""
    o = Client(env, OWNER)          # the first login provisions the INBOX
    o.close()
    ctl(env, "acl", "set", f"{OWNER}:INBOX", READER, "lrs")
    ctl(env, "acl", "set", "--", f"{OWNER}:INBOX", f"-{READER}", "w")
    ctl(env, "acl", "set", f"{OWNER}:INBOX", THIRD, "lr")
    ctl(env, "group", "add", "team@acl.test")
    ctl(env, "acl", "set", f"{OWNER}:INBOX", "$team@acl.test", "lr")
    before = ctl(env, "acl", "list", f"{OWNER}:INBOX")
    assert READER in before and "$team@acl.test" in before
    ctl(env, "user", "del", READER)
    ctl(env, "group", "del", "team@acl.test")
    after = ctl(env, "acl", "list", f"{OWNER}:INBOX")
    assert READER not in after and "team@acl.test" not in after, after
    assert THIRD in after           # other grantees keep theirs
    # The new holder of the address starts with nothing.
    ctl(env, "user", "add", READER, "--password", PASSWORD)
    ctl(env, "group", "add", "team@acl.test")
    assert READER not in ctl(env, "acl", "list", f"{OWNER}:INBOX")
    r = Client(env, READER)
    st, _, lines = r.cmd('LIST "" "*"')
    assert st == "OK" and not any(OWNER in ln for ln in lines), lines
    r.close()
