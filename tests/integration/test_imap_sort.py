"""SORT (RFC 5256, RFC 5957 DISPLAYFROM/DISPLAYTO), ESORT (RFC 5267) and
THREAD=ORDEREDSUBJECT/REFERENCES over imaplib and raw sockets. A generated
corpus of a few hundred messages with tricky subjects (Re:, Fwd:, [list]
tags, (fwd) trailers, [fwd: ...] wrappers, encoded words), encoded display
names, missing and broken Date headers is sorted by the server and by an
independent Python implementation of the RFC, which must agree exactly.
Threading is checked on hand-made threads with missing parents, looping
and duplicate References."""
import email.header
import email.utils
import imaplib
import random
import re
import unicodedata

import pytest

import imaplib_util
from imaplib_util import add_accounts
from test_imap import PASSWORD, USER, login
from test_imap_sync import Session, untagged


@pytest.fixture
def imap(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"imap": {"idle_timeout": "60s", "max_bad_commands": "20"}})
    add_accounts(d, PASSWORD, USER)
    return d


# ---- an independent implementation of RFC 5256 2.1 and the SORT keys ----

LEADER = re.compile(r"(?:\[[^\[\]]*\] *)*(?:re|fwd?) *(?:\[[^\[\]]*\] *)?:", re.I | re.A)
BLOB = re.compile(r"\[[^\[\]]*\] *")


def base_subject(s):
    s = re.sub(r"[ \t\r\n]+", " ", s)
    while True:
        while True:  # (2) trailers
            if s.endswith(" "):
                s = s[:-1]
            elif s[-5:].lower() == "(fwd)":
                s = s[:-5]
            else:
                break
        changed = True
        while changed:  # (3)-(5)
            changed = False
            while True:
                if s.startswith(" "):
                    s = s[1:]
                    changed = True
                    continue
                m = LEADER.match(s)
                if not m:
                    break
                s = s[m.end():]
                changed = True
            m = BLOB.match(s)
            if m and s[m.end():]:
                s = s[m.end():]
                changed = True
        if s[:5].lower() == "[fwd:" and s.endswith("]"):  # (6)
            s = s[5:-1]
            continue
        return s


def casemap(s):
    """i;unicode-casemap (RFC 5051): simple titlecase, then NFD."""
    out = []
    for ch in s:
        t = ch.title()
        out.append(unicodedata.normalize("NFD", t if len(t) == 1 else ch))
    return "".join(out).encode("utf-8")


def decode(value):
    return str(email.header.make_header(email.header.decode_header(value)))


def first_addr(value):
    if value is None:
        return "", ""
    name, addr = email.utils.getaddresses([value])[0]
    return decode(name) if name else "", addr


# ---- the corpus ----

SUBJECTS = [
    "hello world", "Re: hello world", "RE: re: Hello World", "Fwd: hello world",
    "[list] Re: hello world", "Re: [list] hello world", "hello world (fwd)",
    "[Fwd: hello world]", "[fwd: Re: [x] hello world] (fwd)", "Re[2]: meeting",
    "Re [3] : meeting", "meeting", "FW: Meeting", "fwd : MEETING", "Rex: meeting",
    "[list]", "Re: [list]", "[a][b] Re: [c] Fwd: budget", "budget", "  budget   \t q3 ",
    "=?UTF-8?Q?Re=3A_Caf=C3=A9?=", "=?UTF-8?Q?Caf=C3=A9?=", "=?ISO-8859-1?Q?na=EFve?= plan",
    "=?UTF-8?B?W2xpc3RdIFJlOiBoZWxsbyB3b3JsZA==?=", "R\u00e9: accents", "zeta", "Alpha",
    "alpha", "", None, "(fwd)", "Re:", "[]", "=?UTF-8?Q?=C3=A9t=C3=A9?=", "=?UTF-8?Q?=C3=89T=C3=89?=",
    "=?UTF-8?Q?Re=3A_=C3=89t=C3=A9_2?=", "Ezra", "=?UTF-8?B?7ZWc6rWt?=", "\u0434\u043e\u043c",
    "\u0414\u043e\u043c",
]
NAMES = [None, "Ann Example", "\"Zed, Z.\"", "=?UTF-8?Q?J=C3=B6rg?=", "bob", "Amy", "",
         "=?ISO-8859-1?Q?=C9mile?=", "\"\"", "=?UTF-8?Q?=C3=A9mile?=", "Ezra", "=?UTF-8?Q?j=C3=B6rg?="]
LOCALS = ["ann", "Zed", "joerg", "bob", "amy", "emile", "Carol", "dave", "eve"]


def addr(rng):
    name = rng.choice(NAMES)
    a = f"{rng.choice(LOCALS)}@{rng.choice(['a.test', 'B.test', 'c.test'])}"
    return f"{name} <{a}>" if name is not None else a


def corpus(n, seed=5256):
    rng = random.Random(seed)
    msgs = []
    for i in range(n):
        hdr = {}
        subj = rng.choice(SUBJECTS)
        if subj is not None:
            hdr["Subject"] = subj
        if rng.random() < 0.9:
            hdr["From"] = addr(rng)
        if rng.random() < 0.8:
            hdr["To"] = ", ".join(addr(rng) for _ in range(rng.randint(1, 2)))
        if rng.random() < 0.4:
            hdr["Cc"] = addr(rng)
        r = rng.random()
        sent = 1600000000 + rng.randint(0, 40) * 3600  # many equal dates
        if r < 0.8:
            hdr["Date"] = email.utils.formatdate(sent, localtime=False) if rng.random() < 0.5 \
                else email.utils.format_datetime(
                    __import__("datetime").datetime.fromtimestamp(
                        sent, __import__("datetime").timezone(
                            __import__("datetime").timedelta(hours=rng.randint(-9, 9)))))
        elif r < 0.9:
            hdr["Date"] = "not a date at all"
            sent = None
        else:
            sent = None
        hdr["Message-ID"] = f"<c{i}@corpus.test>"
        body = "x" * rng.randint(0, 400) + "\r\n"
        raw = "".join(f"{k}: {v}\r\n" for k, v in hdr.items()) + "\r\n" + body
        internal = 1500000000 + rng.randint(0, 30) * 86400
        msgs.append({"raw": raw.encode(), "hdr": hdr, "sent": sent, "internal": internal})
    return msgs


def append_corpus(d, msgs, box="INBOX"):
    m = login(d)
    if box != "INBOX":
        m.create(box)
    for x in msgs:
        date = imaplib.Time2Internaldate(x["internal"])
        typ, _ = m.append(box, None, date, x["raw"])
        assert typ == "OK"
    m.logout()


def keys(msgs):
    """The RFC 5256/5957 sort keys of every message, in sequence order."""
    out = []
    for seq, x in enumerate(msgs, 1):
        h = x["hdr"]
        subj = decode(h["Subject"]) if "Subject" in h else ""
        fname, faddr = first_addr(h.get("From"))
        tname, taddr = first_addr(h.get("To"))
        _, caddr = first_addr(h.get("Cc"))
        out.append({
            "seq": seq, "uid": seq,
            "ARRIVAL": x["internal"],
            "DATE": x["sent"] if x["sent"] is not None else x["internal"],
            "SIZE": len(x["raw"]),
            "SUBJECT": casemap(base_subject(subj)),
            "FROM": casemap(faddr.split("@")[0]),
            "TO": casemap(taddr.split("@")[0]),
            "CC": casemap(caddr.split("@")[0]),
            "DISPLAYFROM": casemap(fname.strip() or faddr),
            "DISPLAYTO": casemap(tname.strip() or taddr),
        })
    return out


def py_sort(ks, criteria):
    import functools

    def cmp(a, b):
        for rev, key in criteria:
            x, y = a[key], b[key]
            c = (x > y) - (x < y)
            if c:
                return -c if rev else c
        return a["seq"] - b["seq"]
    return [k["seq"] for k in sorted(ks, key=functools.cmp_to_key(cmp))]


def parse_criteria(text):
    words = text.split()
    out, rev = [], False
    for w in words:
        if w == "REVERSE":
            rev = True
            continue
        out.append((rev, w))
        rev = False
    return out


N = 300


def test_sort_matches_independent_implementation(imap):
    msgs = corpus(N)
    append_corpus(imap, msgs)
    ks = keys(msgs)
    m = login(imap)
    m.select("INBOX")
    assert "SORT" in m.capabilities and "SORT=DISPLAY" in m.capabilities
    for crit in ["DATE", "ARRIVAL", "SIZE", "SUBJECT", "FROM", "TO", "CC", "DISPLAYFROM",
                 "DISPLAYTO", "REVERSE DATE", "SUBJECT DATE", "REVERSE SUBJECT REVERSE ARRIVAL",
                 "FROM REVERSE SIZE", "CC TO DISPLAYFROM", "REVERSE DISPLAYTO SUBJECT"]:
        typ, data = m.sort(f"({crit})", "UTF-8", "ALL")
        assert typ == "OK"
        got = [int(x) for x in data[0].split()]
        want = py_sort(ks, parse_criteria(crit))
        if got != want:
            diff = next(i for i in range(len(want)) if got[i] != want[i])
            a, b = ks[got[diff] - 1], ks[want[diff] - 1]
            pytest.fail(f"SORT ({crit}) differs at {diff}: server {got[diff]} {a} "
                        f"python {want[diff]} {b} ({msgs[got[diff] - 1]['hdr']} / "
                        f"{msgs[want[diff] - 1]['hdr']})")
    # the keys were computed at append (0009), one row per message content
    count_keys = "SELECT count(*) FROM message_sort_keys"
    assert imap.pg.psql("cairn", count_keys).strip() == str(N)
    # blobs stored before 0009 have none: the next SORT computes and keeps them
    imap.pg.psql("cairn", "DELETE FROM message_sort_keys WHERE blob_id % 3 <> 0")
    for crit in ["SUBJECT DATE", "DISPLAYFROM", "REVERSE CC TO"]:
        typ, data = m.sort(f"({crit})", "UTF-8", "ALL")
        assert [int(x) for x in data[0].split()] == py_sort(ks, parse_criteria(crit)), crit
    assert imap.pg.psql("cairn", count_keys).strip() == str(N)
    # with a search program and UID SORT: only the matches, as uids
    typ, data = m.uid("SORT", "(REVERSE SIZE)", "UTF-8", "LARGER", "200")
    want = [s for s in py_sort(ks, [(True, "SIZE")]) if ks[s - 1]["SIZE"] > 200]
    assert [int(x) for x in data[0].split()] == want
    m.logout()


def test_esort_and_errors(imap):
    msgs = corpus(40, seed=7)
    append_corpus(imap, msgs)
    ks = keys(msgs)
    order = py_sort(ks, [(False, "SUBJECT"), (False, "DATE")])
    s = Session(imap)
    s.cmd("SELECT INBOX")
    out = s.cmd("SORT RETURN (MIN MAX COUNT) (SUBJECT DATE) UTF-8 ALL")
    assert out[0] == (b'* ESEARCH (TAG "t3") MIN %d MAX %d COUNT 40\r\n'
                      % (order[0], order[-1]))
    out = s.cmd("SORT RETURN (ALL) (SUBJECT DATE) US-ASCII ALL")
    got = []
    for part in out[0].split(b" ALL ")[1].strip().split(b","):
        lo, _, hi = part.partition(b":")
        got += list(range(int(lo), int(hi or lo) + 1))
    assert got == order
    out = s.cmd("SORT RETURN () (SUBJECT DATE) UTF-8 ALL")
    assert b" ALL " in out[0]
    out = s.cmd("UID SORT RETURN (COUNT) (DATE) UTF-8 UID 1:10")
    assert out[0] == b'* ESEARCH (TAG "t6") UID COUNT 10\r\n'
    # SAVE: "$" holds the matches; an empty result is an empty answer
    s.cmd("SORT RETURN (SAVE) (DATE) UTF-8 UID 3:5")
    out = s.cmd("UID SEARCH UID $")
    assert out[0] == b"* SEARCH 3 4 5\r\n"
    out = s.cmd("SORT (DATE) UTF-8 UID 1000")
    assert out[0] == b"* SORT\r\n"
    out = s.cmd("SORT (DATE) UTF-8 $")
    assert out[0] == b"* SORT %s\r\n" % b" ".join(
        b"%d" % x for x in py_sort(ks, [(False, "DATE")]) if x in (3, 4, 5))
    # keys go with their blob: expunge everything, no key is left
    s.cmd("EXAMINE INBOX")
    m = login(imap)
    m.select("INBOX")
    m.store("1:*", "+FLAGS", "(\\Deleted)")
    m.expunge()
    m.logout()
    assert imap.pg.psql("cairn", "SELECT count(*) FROM message_sort_keys").strip() == "0"
    out = s.cmd("SORT (DATE) KOI8-R ALL", ok=False)
    assert b"NO [BADCHARSET" in out[-1]
    for bad in ["SORT () UTF-8 ALL", "SORT (BOGUS) UTF-8 ALL", "SORT (REVERSE) UTF-8 ALL",
                "SORT (DATE) UTF-8", "SORT DATE UTF-8 ALL", "SORT (DATE) UTF-8 FROB",
                "SORT RETURN (PARTIAL) (DATE) UTF-8 ALL", "THREAD BOGUS UTF-8 ALL",
                "THREAD REFERENCES UTF-8", "SORT (DATE) UTF-8 CHARSET UTF-8 ALL"]:
        out = s.cmd(bad, ok=False)
        assert b" BAD " in out[-1], (bad, out)
    s.close()


def thread_msg(i, subject, msgid=None, refs=None, irt=None, date=0):
    h = f"From: t{i}@a.test\r\nSubject: {subject}\r\n"
    h += f"Date: {email.utils.formatdate(1600000000 + date * 60)}\r\n"
    if msgid:
        h += f"Message-ID: {msgid}\r\n"
    if refs:
        h += f"References: {refs}\r\n"
    if irt:
        h += f"In-Reply-To: {irt}\r\n"
    return {"raw": (h + f"\r\nbody {i}\r\n").encode(), "internal": 1600000000}


THREADS = [
    # 1..3: a chain with a folded References header
    ("Design", "<a@t>", None, None, 1),
    ("Re: Design", "<b@t>", "<a@t>", None, 2),
    ("Re: Re: Design", "<c@t>", "<a@t>\r\n <b@t>", None, 3),
    # 4: In-Reply-To only, a reply to 1 (a second branch)
    ("Re: Design", "<d@t>", None, "<a@t>", 4),
    # 5, 6: children of a message we never got (a dummy at the root)
    ("Lost", "<e@t>", "<gone@t>", None, 5),
    ("Re: Lost", "<f@t>", "<gone@t>", None, 6),
    # 7, 8: references that loop
    ("Loop one", "<g@t>", "<h@t>", None, 7),
    ("Loop two", "<h@t>", "<g@t>", None, 8),
    # 9: a duplicate Message-ID of 1
    ("Duplicate", "<a@t>", None, None, 9),
    # 10, 11: no references, subject merging ([list] tag, encoded word)
    ("=?UTF-8?Q?Caf=C3=A9?=", "<k@t>", None, None, 10),
    ("[list] Re: =?UTF-8?Q?Caf=C3=A9?=", "<l@t>", None, None, 11),
    # 12: no Message-ID at all
    ("Alone", None, None, None, 0),
]


def test_thread(imap):
    msgs = [thread_msg(i + 1, *t) for i, t in enumerate(THREADS)]
    append_corpus(imap, msgs)
    s = Session(imap)
    s.cmd("SELECT INBOX")
    caps = b"".join(s.cmd("CAPABILITY"))
    assert b"THREAD=REFERENCES" in caps and b"THREAD=ORDEREDSUBJECT" in caps
    out = s.cmd("THREAD REFERENCES UTF-8 ALL")
    assert out[0] == b"* THREAD (12)(1 (2 3)(4))((5)(6))(8 7)(9)(10 11)\r\n"
    out = s.cmd("UID THREAD REFERENCES UTF-8 NOT UID 2")
    assert out[0] == b"* THREAD (12)(1 (3)(4))((5)(6))(8 7)(9)(10 11)\r\n"
    out = s.cmd("THREAD ORDEREDSUBJECT UTF-8 ALL")
    assert out[0] == (b"* THREAD (12)(1 (2)(3)(4))(5 6)(7)(8)(9)(10 11)\r\n")
    out = s.cmd("THREAD ORDEREDSUBJECT UTF-8 SUBJECT nothing-matches")
    assert out[0] == b"* THREAD\r\n"
    s.close()


def test_thread_corpus_covers_every_message(imap):
    msgs = corpus(200, seed=11)
    rng = random.Random(3)
    for i, x in enumerate(msgs):  # random, partly looping references
        refs = " ".join(f"<c{rng.randrange(200)}@corpus.test>" for _ in range(rng.randint(0, 3)))
        if refs:
            x["raw"] = b"References: " + refs.encode() + b"\r\n" + x["raw"]
    append_corpus(imap, msgs)
    m = login(imap)
    m.select("INBOX")
    for alg in ("REFERENCES", "ORDEREDSUBJECT"):
        typ, data = m.thread(alg, "UTF-8", "ALL")
        assert typ == "OK"
        text = data[0].decode()
        assert text.count("(") == text.count(")")
        assert sorted(int(x) for x in re.findall(r"\d+", text)) == list(range(1, 201))
    m.logout()


# ---- CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267) ----

def sized(i, size, date=0):
    h = (f"From: s{i}@a.test\r\nSubject: context {i}\r\n"
         f"Date: {email.utils.formatdate(1600000000 + date * 60)}\r\n"
         f"Message-ID: <ctx{i}@t>\r\n\r\n")
    return {"raw": (h + "x" * size + "\r\n").encode(), "internal": 1600000000}


def expand(text):
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition(":")
        lo, hi = int(lo), int(hi or lo)
        out += list(range(min(lo, hi), max(lo, hi) + 1))
    return out


def esearch_items(lines, tag):
    """(name, payload) of the ESEARCH responses of tag, in order."""
    items = []
    for ln in lines:
        m = re.match(rb'\* ESEARCH \(TAG "' + tag + rb'"\)( UID)?(.*)\r\n', ln)
        if m:
            items += re.findall(rb" (ADDTO|REMOVEFROM) \(([^)]*)\)", m.group(2))
    return items


def apply_updates(lst, items):
    """Apply ADDTO/REMOVEFROM (RFC 5267 4.3.3/4.3.4) to a result list."""
    for name, payload in items:
        words = payload.decode().split()
        for pos, nums in zip(words[0::2], words[1::2]):
            pos, nums = int(pos), expand(nums)
            if name == b"ADDTO":
                if pos == 0:
                    lst = sorted(set(lst) | set(nums))
                else:
                    lst[pos - 1:pos - 1] = nums
            elif pos == 0:
                lst = [x for x in lst if x not in nums]
            else:
                assert lst[pos - 1:pos - 1 + len(nums)] == nums, (lst, pos, nums)
                del lst[pos - 1:pos - 1 + len(nums)]
    return lst


def test_context_partial(imap):
    append_corpus(imap, [sized(i, 10 * i) for i in range(1, 11)])
    s = Session(imap)
    s.cmd("SELECT INBOX")
    caps = b"".join(s.cmd("CAPABILITY"))
    assert b"CONTEXT=SEARCH" in caps and b"CONTEXT=SORT" in caps and b"ESORT" in caps
    cases = [
        ("SEARCH RETURN (PARTIAL 2:4) ALL", b"PARTIAL (2:4 2:4)"),
        ("UID SEARCH RETURN (PARTIAL 9:20) ALL", b"UID PARTIAL (9:20 9:10)"),
        ("SEARCH RETURN (PARTIAL 20:30) ALL", b"PARTIAL (20:30 NIL)"),
        ("SEARCH RETURN (PARTIAL 4:2 COUNT) NOT 3", b"COUNT 9 PARTIAL (2:4 2,4:5)"),
        ("SEARCH RETURN (CONTEXT COUNT) ALL", b"COUNT 10"),
        ("SORT RETURN (PARTIAL 1:3) (REVERSE SIZE) UTF-8 ALL", b"PARTIAL (1:3 10,9,8)"),
        ("UID SORT RETURN (PARTIAL 2:5 MIN) (SIZE) US-ASCII ALL", b"UID MIN 1 PARTIAL (2:5 2:5)"),
    ]
    for cmd, want in cases:
        out = s.cmd(cmd)
        assert out[0].startswith(b"* ESEARCH (TAG ") and out[0].endswith(b") " + want + b"\r\n"), \
            (cmd, out)
    for bad in ("SEARCH RETURN (PARTIAL 1:2 ALL) ALL", "SEARCH RETURN (PARTIAL 0:3) ALL",
                "SEARCH RETURN (PARTIAL 1:*) ALL", "SEARCH RETURN (PARTIAL) ALL",
                "SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL",
                "SORT RETURN (ALL PARTIAL 1:2) (DATE) UTF-8 ALL", "CANCELUPDATE"):
        assert b" BAD " in s.cmd(bad, ok=False)[-1], bad
    s.close()


def test_context_update_search(imap):
    append_corpus(imap, [sized(i, 10 * i) for i in range(1, 9)])
    a = Session(imap)
    a.cmd("SELECT INBOX")
    b = Session(imap)
    b.cmd("SELECT INBOX")
    out = a.cmd("UID SEARCH RETURN (UPDATE COUNT) FLAGGED")
    tag = b"t%d" % a.n
    assert out[0] == b'* ESEARCH (TAG "' + tag + b'") UID COUNT 0\r\n'
    assert b"will notify" in out[-1]
    out = a.cmd("SEARCH RETURN (UPDATE) FLAGGED")  # sequence numbers
    stag = b"t%d" % a.n
    # the same tag again is refused
    a.n -= 1
    assert b"BAD" in a.cmd("SEARCH RETURN (UPDATE) ALL", ok=False)[-1]
    a.n += 1
    b.cmd("UID STORE 3,5 +FLAGS.SILENT (\\Flagged)")
    out = a.cmd("NOOP")
    assert esearch_items(out, tag) == [(b"ADDTO", b"0 3,5")]
    assert esearch_items(out, stag) == [(b"ADDTO", b"0 3,5")]
    assert out.index(next(ln for ln in out if tag in ln)) > out.index(
        next(ln for ln in out if b" FETCH " in ln))
    b.cmd("UID STORE 3 -FLAGS.SILENT (\\Flagged)")
    out = a.cmd("NOOP")
    assert esearch_items(out, tag) == [(b"REMOVEFROM", b"0 3")]
    # an expunge: REMOVEFROM (old numbers) before the EXPUNGE
    b.cmd("UID STORE 4,5 +FLAGS.SILENT (\\Deleted)")
    b.cmd("UID EXPUNGE 4,5")
    out = a.cmd("NOOP")
    assert esearch_items(out, tag) == [(b"REMOVEFROM", b"0 5")]
    assert esearch_items(out, stag) == [(b"REMOVEFROM", b"0 5")]
    rm = next(i for i, ln in enumerate(out) if b"REMOVEFROM" in ln)
    assert rm < out.index(b"* 4 EXPUNGE\r\n")
    # a new flagged message: ADDTO after EXISTS, with its new number
    m = login(imap)
    m.append("INBOX", "(\\Flagged)", None, sized(9, 5)["raw"])
    m.logout()
    out = a.cmd("NOOP")
    assert esearch_items(out, tag) == [(b"ADDTO", b"0 9")]
    assert esearch_items(out, stag) == [(b"ADDTO", b"0 7")]
    add = next(i for i, ln in enumerate(out) if b"ADDTO" in ln)
    assert add > out.index(b"* 7 EXISTS\r\n")
    # our own STORE changes the result too
    out = a.cmd("UID STORE 1 +FLAGS (\\Flagged)")
    assert esearch_items(out, tag) == [(b"ADDTO", b"0 1")]
    # CANCELUPDATE stops one context
    a.cmd(f'CANCELUPDATE "{tag.decode()}"')
    b.cmd("UID STORE 2 +FLAGS.SILENT (\\Flagged)")
    out = a.cmd("NOOP")
    assert esearch_items(out, tag) == []
    assert esearch_items(out, stag) == [(b"ADDTO", b"0 2")]
    # during IDLE the update comes at once
    a.send(b"i1 IDLE\r\n")
    assert a.line().startswith(b"+ ")
    b.cmd("UID STORE 2 -FLAGS.SILENT (\\Flagged)")
    ln = a.line()
    while b"ESEARCH" not in ln:
        ln = a.line()
    assert ln == b'* ESEARCH (TAG "' + stag + b'") REMOVEFROM (0 2)\r\n'
    a.send(b"DONE\r\n")
    a.until(b"i1")
    # a new SELECT ends every context
    a.cmd("SELECT INBOX")
    b.cmd("UID STORE 2 +FLAGS.SILENT (\\Flagged)")
    assert b"ESEARCH" not in b"".join(a.cmd("NOOP"))
    a.close()
    b.close()


def test_context_update_sort(imap):
    """A sorted context kept up to date by ADDTO/REMOVEFROM positions must
    always equal a fresh SORT."""
    rng = random.Random(9)
    sizes = rng.sample(range(10, 5000), 60)
    append_corpus(imap, [sized(i, sizes[i]) for i in range(20)])
    a = Session(imap)
    a.cmd("SELECT INBOX")
    b = Session(imap)
    b.cmd("SELECT INBOX")
    out = a.cmd("UID SORT RETURN (UPDATE ALL) (REVERSE SIZE) UTF-8 UNDELETED")
    tag = b"t%d" % a.n
    lst = expand(out[0].split(b" ALL ")[1].strip().decode())
    out = a.cmd("SORT RETURN (UPDATE COUNT) (SIZE) UTF-8 UNFLAGGED")
    stag = b"t%d" % a.n
    slist = [int(x) for x in a.cmd("SORT (SIZE) UTF-8 UNFLAGGED")[0].split()[2:]]
    m = login(imap)
    for step in range(12):
        op = step % 3
        if op == 0:
            m.append("INBOX", None, None, sized(100 + step, sizes[20 + step])["raw"])
        elif op == 1:
            uid = rng.choice(lst)
            b.cmd(f"UID STORE {uid} +FLAGS.SILENT (\\Deleted \\Flagged)")
        else:
            victims = rng.sample(lst, 2)
            b.cmd(f"UID STORE {victims[0]},{victims[1]} +FLAGS.SILENT (\\Deleted)")
            b.cmd("EXPUNGE")
            m.append("INBOX", None, None, sized(200 + step, sizes[40 + step])["raw"])
        out = a.cmd("NOOP")
        lst = apply_updates(lst, esearch_items(out, tag))
        # sequence numbers: in the order of the responses, renumbering at
        # each EXPUNGE as the client would
        for ln in out:
            slist = apply_updates(slist, esearch_items([ln], stag))
            em = re.match(rb"\* (\d+) EXPUNGE", ln)
            if em:
                gone = int(em.group(1))
                slist = [x - 1 if x > gone else x for x in slist if x != gone]
        fresh = a.cmd("UID SORT RETURN (ALL) (REVERSE SIZE) UTF-8 UNDELETED")[0]
        want = expand(fresh.split(b" ALL ")[1].strip().decode()) if b" ALL " in fresh else []
        assert lst == want, (step, lst, want)
        want_s = [int(x) for x in a.cmd("SORT (SIZE) UTF-8 UNFLAGGED")[0].split()[2:]]
        assert slist == want_s, (step, slist, want_s)
    m.logout()
    # limits: eight contexts per session, then NOUPDATE (the rest is answered)
    for i in range(6):
        a.cmd("SEARCH RETURN (UPDATE) ALL")
    out = a.cmd("SEARCH RETURN (UPDATE COUNT) ALL")
    assert out[0].startswith(b"* ESEARCH") and b"COUNT" in out[0]
    assert out[1] == b'* NO [NOUPDATE "t%d"] Too many update contexts\r\n' % a.n
    a.close()
    b.close()


# Group syntax (RFC 5322 3.4): the first address of a field may be a group
# start marker, whose addr-mailbox is the group name (RFC 3501 7.4.2). SORT
# uses it as the first address (RFC 5256 3), as Dovecot 2.3 does: these
# orders are the ones Debian's Dovecot gave for the same messages.
GROUP_MSGS = [
    "From: zed <zz@x.test>\r\nTo: zz@x.test\r\nCc: zz@x.test\r\nSubject: 1\r\n\r\nb\r\n",
    "From: team: Bob <bb@x.test>, aa@y.test;\r\nTo: undisclosed-recipients:;\r\n"
    "Cc: grp: ;, cc@x.test\r\nSubject: 2\r\n\r\nb\r\n",
    "From: mm@x.test\r\nTo: Alpha: ;\r\nCc: qq@x.test\r\nSubject: 3\r\n\r\nb\r\n",
    "From: yy: ;\r\nTo: Zteam: Adam <dd@x.test>;\r\nSubject: 4\r\n\r\nb\r\n",
    "From: \r\nTo: ee@x.test\r\nSubject: 5\r\n\r\nb\r\n",
    "From: aaa: ;\r\nTo: ccc: ;\r\nSubject: 6\r\n\r\nb\r\n",
    "From: mm!x@y.test\r\nSubject: 7\r\n\r\nb\r\n",
]
GROUP_ORDERS = {
    "FROM": [5, 6, 3, 7, 2, 4, 1], "TO": [7, 3, 6, 5, 2, 4, 1], "CC": [4, 5, 6, 7, 2, 3, 1],
    "DISPLAYFROM": [5, 6, 7, 3, 2, 4, 1], "DISPLAYTO": [7, 3, 6, 5, 2, 4, 1],
    "REVERSE FROM": [1, 4, 2, 7, 3, 6, 5], "REVERSE DISPLAYTO": [1, 4, 2, 5, 6, 3, 7],
}


def test_sort_group_syntax_and_stale_keys(imap):
    m = login(imap)
    for raw in GROUP_MSGS:
        assert m.append("INBOX", None, None, raw.encode())[0] == "OK"
    m.select("INBOX")

    def check():
        for crit, want in GROUP_ORDERS.items():
            typ, data = m.sort(f"({crit})", "UTF-8", "ALL")
            assert [int(x) for x in data[0].split()] == want, crit
    check()
    pg = imap.pg
    version = "SELECT count(*) FROM message_sort_keys WHERE key_version = 2"
    assert pg.psql("cairn", version).strip() == str(len(GROUP_MSGS))
    # Keys of the old scheme (0032 marks every existing row version 1): a
    # SORT that meets them computes them again and keeps the new ones.
    stale = ("UPDATE message_sort_keys SET key_version = 1, from_key = 'zzzz',"
             " to_key = '', cc_key = '', displayfrom_key = '', displayto_key = ''")
    pg.psql("cairn", stale)
    check()
    assert pg.psql("cairn", version).strip() == str(len(GROUP_MSGS))
    # `cairnctl mail reindex-sort` does it ahead, with progress lines.
    pg.psql("cairn", stale)
    out = imaplib_util.ctl(imap, "mail", "reindex-sort", timeout=120)
    n = len(GROUP_MSGS)
    assert f"reindex-sort: 0 of {n} messages" in out and \
        f"reindex-sort: {n} of {n} messages" in out and f"done, {n} messages" in out, out
    assert pg.psql("cairn", version).strip() == str(n)
    assert pg.psql("cairn", "SELECT count(*) FROM message_sort_keys WHERE from_key = 'zzzz'"
                   ).strip() == "0"
    out = imaplib_util.ctl(imap, "mail", "reindex-sort", timeout=120)
    assert "done, 0 messages" in out, out
    check()
    m.logout()
