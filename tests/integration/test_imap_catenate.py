"""IMAP CATENATE (RFC 4469) over raw sockets (imaplib cannot send it): APPEND
of TEXT literals and IMAP URLs (RFC 5092) of whole messages, sections and
partial ranges in the user's own mailboxes, absolute, same-server and
relative to the selected mailbox; MULTIAPPEND mixing plain and CATENATE
messages; [BADURL url] for every kind of bad URL and [TOOBIG] past the
APPEND limit, with nothing stored in either case."""
import re
import socket

import pytest

import imaplib_util
from imaplib_util import add_accounts

PASSWORD = "catenate-secret-1"
USER = "cat@cat.test"
OTHER = "other@cat.test"
HOST = "mail.cat.test"


@pytest.fixture
def imap(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"server": {"hostname": HOST},
                        "imap": {"idle_timeout": "60s", "max_bad_commands": "20",
                                 "max_append": "200k", "plaintext_auth": "yes"}})
    add_accounts(d, PASSWORD, USER, OTHER)
    return d


class Raw(imaplib_util.Raw):
    """A raw connection logged in as user."""

    def __init__(self, port, user=USER):
        super().__init__(port, timeout=15)
        self.send(f"l LOGIN {user} {PASSWORD}\r\n".encode())
        assert self.until(b"l")[-1].startswith(b"l OK")

    def line(self):
        ln = super().line()
        if not ln:
            raise EOFError
        return ln

    def cmd(self, tag, text):
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def sync_literal(self, head, data):
        """Send head ending in {n}, wait for "+", then the data."""
        self.send(head)
        assert self.line().startswith(b"+ ")
        self.send(data)

    def fetch_body(self, uid, mailbox=b"INBOX"):
        self.cmd(b"s", b"SELECT " + mailbox)
        out = self.cmd(b"f", f"UID FETCH {uid} BODY.PEEK[]".encode())
        assert out[-1].startswith(b"f OK"), out
        return out[1]



MULTIPART = (b"From: A <a@remote.test>\r\nTo: cat@cat.test\r\nSubject: parts\r\n"
             b"MIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
             b"--b1\r\nContent-Type: text/plain\r\n\r\nfirst part text\r\n"
             b"--b1\r\nContent-Type: application/octet-stream\r\n"
             b"Content-Transfer-Encoding: base64\r\n\r\n"
             b"QVRUQUNITUVOVC1CWVRFUw==\r\n--b1--\r\n")


def append_plain(r, data, mailbox=b"INBOX"):
    out = r.cmd(b"a", b"APPEND " + mailbox + b" {" + str(len(data)).encode() + b"+}\r\n" + data)
    assert out[-1].startswith(b"a OK"), out
    m = re.search(rb"APPENDUID (\d+) (\d+)", out[-1])
    return int(m.group(1)), int(m.group(2))


def status_messages(r, mailbox=b"INBOX"):
    out = r.cmd(b"st", b"STATUS " + mailbox + b" (MESSAGES)")
    return int(re.search(rb"MESSAGES (\d+)", out[0]).group(1))


def test_capability(imap):
    r = Raw(imap.imap_port)
    out = r.cmd(b"c", b"CAPABILITY")
    assert b" CATENATE" in out[0]
    r.close()


def test_catenate_text_and_urls(imap):
    r = Raw(imap.imap_port)
    uidv, uid = append_plain(r, MULTIPART)
    header = b"From: me <cat@cat.test>\r\nTo: x@remote.test\r\nSubject: forwarded\r\n\r\n"
    tail = b"\r\n-- \r\nsent from a phone\r\n"
    url1 = f"imap://{HOST}/INBOX;UIDVALIDITY={uidv}/;UID={uid}/;SECTION=1".encode()
    url2 = f"/INBOX/;UID={uid}/;SECTION=2.MIME".encode()
    url3 = f"imap://{USER.replace('@', '%40')}@{HOST}/INBOX/;UID={uid}/;PARTIAL=0.4".encode()
    # A synchronising TEXT literal, URLs as quoted and atom strings, a LITERAL+ TEXT.
    r.sync_literal(b"c APPEND Drafts (\\Draft) CATENATE (TEXT {" + str(len(header)).encode()
                   + b"}\r\n", header)
    r.send(b" URL \"" + url1 + b"\" URL " + url2 + b" URL \"" + url3 + b"\" TEXT {"
           + str(len(tail)).encode() + b"+}\r\n" + tail + b")\r\n")
    out = r.until(b"c")
    assert out[-1].startswith(b"c OK [APPENDUID"), out
    new_uid = int(re.search(rb"APPENDUID \d+ (\d+)", out[-1]).group(1))
    want = (header + b"first part text" +
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + MULTIPART[:4] + tail)
    assert r.fetch_body(new_uid, b"Drafts") == want
    out = r.cmd(b"g", f"UID FETCH {new_uid} FLAGS".encode())
    assert b"\\Draft" in out[0]
    # The source message was not marked \Seen by being read through a URL.
    out = r.cmd(b"h", b"SELECT INBOX")
    out = r.cmd(b"h2", f"UID FETCH {uid} FLAGS".encode())
    assert b"\\Seen" not in out[0]
    r.close()


def test_relative_url_and_multiappend(imap):
    r = Raw(imap.imap_port)
    _, uid = append_plain(r, MULTIPART)
    r.cmd(b"s", b"SELECT INBOX")
    plain = b"Subject: plain one\r\n\r\nplain body\r\n"
    hdr = b"Subject: relative\r\n\r\n"
    # MULTIAPPEND: a plain message, then a CATENATE one with a relative URL.
    out = r.cmd(b"m", b"APPEND Drafts {" + str(len(plain)).encode() + b"+}\r\n" + plain +
                b" CATENATE (TEXT {" + str(len(hdr)).encode() + b"+}\r\n" + hdr +
                f" URL \";UID={uid}/;SECTION=1\")".encode())
    assert out[-1].startswith(b"m OK [APPENDUID"), out
    m = re.search(rb"APPENDUID \d+ (\d+):(\d+)", out[-1])
    first, second = int(m.group(1)), int(m.group(2))
    assert r.fetch_body(first, b"Drafts") == plain
    assert r.fetch_body(second, b"Drafts") == hdr + b"first part text"
    # A CATENATE of URLs only: a copy of the whole message.
    out = r.cmd(b"u", f"APPEND Drafts CATENATE (URL \"/INBOX/;UID={uid}\")".encode())
    assert out[-1].startswith(b"u OK"), out
    third = int(re.search(rb"APPENDUID \d+ (\d+)", out[-1]).group(1))
    assert r.fetch_body(third, b"Drafts") == MULTIPART
    r.close()


@pytest.mark.parametrize("url,why", [
    ("/INBOX/;UID=999", b"No such message"),
    ("/INBOX;UIDVALIDITY=1/;UID={uid}", b"UIDVALIDITY"),
    ("/NoSuchBox/;UID=1", b"No such mailbox"),
    ("imap://elsewhere.test/INBOX/;UID={uid}", b"another server"),
    ("imap://other%40cat.test@" + HOST + "/INBOX/;UID={uid}", b"another user"),
    ("/INBOX/;UID={uid}/;SECTION=7", b"No such section"),
    ("/INBOX/;UID={uid}/;SECTION=1.BOGUS", b"Invalid section"),
    ("/INBOX", b"does not name a message"),
    ("/INBOX?ALL", b"does not name a message"),
    ("http://example.com/", b"Not an IMAP URL"),
    ("/INBOX/;UID=0", b"Invalid UID"),
    ("Sent/;UID=1", b"Relative mailbox"),
    ("/INBOX/;UID={uid};URLAUTH=anonymous", b"URLAUTH rump"),
])
def test_badurl(imap, url, why):
    r = Raw(imap.imap_port)
    _, uid = append_plain(r, MULTIPART)
    url = url.replace("{uid}", str(uid)).encode()
    before = status_messages(r, b"Drafts")
    out = r.cmd(b"b", b"APPEND Drafts CATENATE (TEXT {3+}\r\nabc URL \"" + url + b"\")")
    assert out[-1].startswith(b"b NO [BADURL " + url + b"] "), out
    assert why in out[-1]
    assert status_messages(r, b"Drafts") == before
    r.close()


def test_relative_without_selected_mailbox(imap):
    r = Raw(imap.imap_port)
    out = r.cmd(b"b", b"APPEND Drafts CATENATE (URL \";UID=1\")")
    assert out[-1].startswith(b"b NO [BADURL ;UID=1]"), out
    r.close()


def test_another_users_mailbox_is_not_reachable(imap):
    o = Raw(imap.imap_port, user=OTHER)
    _, uid = append_plain(o, b"Subject: secret\r\n\r\nhis secret\r\n")
    o.close()
    r = Raw(imap.imap_port)
    url = f"imap://{OTHER.replace('@', '%40')}@{HOST}/INBOX/;UID={uid}".encode()
    out = r.cmd(b"b", b"APPEND Drafts CATENATE (URL \"" + url + b"\")")
    assert out[-1].startswith(b"b NO [BADURL"), out
    r.close()


def test_toobig(imap):
    r = Raw(imap.imap_port)
    big = b"Subject: big\r\n\r\n" + b"x" * (120 * 1024) + b"\r\n"
    _, uid = append_plain(r, big)
    before = status_messages(r, b"Drafts")
    url = f"/INBOX/;UID={uid}".encode()
    # Two copies pass the 200k APPEND limit.
    out = r.cmd(b"t", b"APPEND Drafts CATENATE (URL \"" + url + b"\" URL \"" + url + b"\")")
    assert out[-1].startswith(b"t NO [TOOBIG]"), out
    assert status_messages(r, b"Drafts") == before
    # One copy is fine.
    out = r.cmd(b"t2", b"APPEND Drafts CATENATE (URL \"" + url + b"\")")
    assert out[-1].startswith(b"t2 OK"), out
    r.close()


def test_malformed_catenate(imap):
    r = Raw(imap.imap_port)
    for bad in (b"APPEND Drafts CATENATE ()",
                b"APPEND Drafts CATENATE (TEXT)",
                b"APPEND Drafts CATENATE (URL)",
                b"APPEND Drafts CATENATE (FOO \"x\")",
                b"APPEND Drafts CATENATE (TEXT \"quoted is not a literal\")",
                b"APPEND Drafts CATENATE"):
        out = r.cmd(b"x", bad)
        assert out[-1].startswith(b"x BAD"), (bad, out)
    # The session is still fine.
    out = r.cmd(b"n", b"NOOP")
    assert out[-1].startswith(b"n OK")
    r.close()


# ---- URLAUTH (RFC 4467) ----

def enc(user):
    return user.replace("@", "%40")


def genurlauth(r, rump, tag=b"g"):
    out = r.cmd(tag, b"GENURLAUTH \"" + rump + b"\" INTERNAL")
    assert out[-1].startswith(tag + b" OK"), out
    m = re.match(rb'\* GENURLAUTH "([^"]+)"\r\n$', out[0])
    assert m, out
    return m.group(1)


def urlfetch(r, url, tag=b"u"):
    out = r.cmd(tag, b"URLFETCH \"" + url + b"\"")
    assert out[-1].startswith(tag + b" OK"), out
    assert out[0].startswith(b"* URLFETCH \"" + url + b"\" "), out
    if out[0].endswith(b" NIL\r\n"):
        return None
    return out[1]


def test_genurlauth_urlfetch_resetkey(imap):
    r = Raw(imap.imap_port)
    uidv, uid = append_plain(r, MULTIPART)
    base = f"imap://{enc(USER)}@{HOST}/INBOX;UIDVALIDITY={uidv}/;UID={uid}".encode()
    out = r.cmd(b"c", b"CAPABILITY")
    assert b" URLAUTH" in out[0]
    # authuser: any logged-in user; the part as BODY[1] would return it.
    url = genurlauth(r, base + b"/;SECTION=1;URLAUTH=authuser")
    assert re.fullmatch(rb".*;URLAUTH=authuser:INTERNAL:[0-9a-f]{64}", url)
    assert urlfetch(r, url) == b"first part text"
    o = Raw(imap.imap_port, user=OTHER)
    assert urlfetch(o, url) == b"first part text"
    # user+other: only that user.
    url_o = genurlauth(r, base + b";URLAUTH=user+" + enc(OTHER).encode())
    assert urlfetch(o, url_o) == MULTIPART
    assert urlfetch(r, url_o) is None
    # submit+: only the submission server (BURL), never IMAP.
    url_s = genurlauth(r, base + b";URLAUTH=submit+" + enc(USER).encode())
    assert urlfetch(r, url_s) is None
    # anonymous, with a partial range, several URLs in one URLFETCH.
    url_a = genurlauth(r, base + b"/;PARTIAL=0.4;URLAUTH=anonymous")
    out = o.cmd(b"m", b"URLFETCH \"" + url_a + b"\" \"" + url + b"\"")
    assert out[0] == b"* URLFETCH \"" + url_a + b"\" {4}\r\n" and out[1] == b"From"
    assert out[2].startswith(b" \"" + url + b"\" {15}") and out[3] == b"first part text"
    # Tampering: another verifier, another uid with the same verifier, upper case hex is fine.
    bad = url[:-1] + (b"0" if url[-1:] != b"0" else b"1")
    assert urlfetch(r, bad) is None
    assert urlfetch(r, url.replace(f";UID={uid}".encode(), f";UID={uid + 1}".encode())) is None
    head, tok = url.rsplit(b":", 1)
    assert urlfetch(r, head + b":" + tok.upper()) == b"first part text"
    # Expiry.
    past = genurlauth(r, base + b";EXPIRE=2020-01-01T00:00:00Z;URLAUTH=authuser")
    assert urlfetch(r, past) is None
    future = genurlauth(r, base + b";EXPIRE=2099-01-01T00:00:00+01:00;URLAUTH=authuser")
    assert urlfetch(r, future) == MULTIPART
    # RESETKEY of the mailbox: every URL made before stops working.
    out = r.cmd(b"k", b"RESETKEY INBOX INTERNAL")
    assert out[-1].startswith(b"k OK"), out
    assert urlfetch(r, url) is None and urlfetch(o, url_o) is None
    url2 = genurlauth(r, base + b"/;SECTION=1;URLAUTH=authuser")
    assert url2 != url and urlfetch(r, url2) == b"first part text"
    # RESETKEY without a mailbox resets them all.
    out = r.cmd(b"k2", b"RESETKEY")
    assert out[-1].startswith(b"k2 OK"), out
    assert urlfetch(r, url2) is None
    o.close()
    r.close()


@pytest.mark.parametrize("rump,why", [
    ("imap://{other}@" + HOST + "/INBOX/;UID={uid};URLAUTH=authuser", b"another user"),
    ("imap://{user}@elsewhere.test/INBOX/;UID={uid};URLAUTH=authuser", b"another server"),
    ("imap://{user}@" + HOST + "/INBOX/;UID={uid}", b"URLAUTH"),
    ("imap://{user}@" + HOST + "/INBOX/;UID={uid};URLAUTH=authuser:INTERNAL:"
     "0123456789abcdef0123456789abcdef", b"no verifier"),
    ("imap://" + HOST + "/INBOX/;UID={uid};URLAUTH=authuser", b"with a user"),
    ("/INBOX/;UID={uid};URLAUTH=authuser", b"absolute"),
    ("imap://{user}@" + HOST + "/NoSuch/;UID=1;URLAUTH=authuser", b"No such mailbox"),
    ("imap://{user}@" + HOST + "/INBOX;UIDVALIDITY=1/;UID={uid};URLAUTH=authuser",
     b"UIDVALIDITY"),
    ("imap://{user}@" + HOST + "/INBOX/;UID={uid};URLAUTH=everyone", b"access identifier"),
])
def test_genurlauth_refusals(imap, rump, why):
    r = Raw(imap.imap_port)
    _, uid = append_plain(r, MULTIPART)
    rump = rump.replace("{user}", enc(USER)).replace("{other}", enc(OTHER))
    rump = rump.replace("{uid}", str(uid)).encode()
    out = r.cmd(b"g", b"GENURLAUTH \"" + rump + b"\" INTERNAL")
    assert out[-1].startswith(b"g NO [BADURL "), out
    assert why in out[-1], out
    r.close()


def test_catenate_with_urlauth_url_of_another_user(imap):
    """RFC 4469 5: CATENATE takes a URLAUTH-authorized URL, e.g. another
    user's message he granted to this user."""
    o = Raw(imap.imap_port, user=OTHER)
    _, uid = append_plain(o, b"Subject: shared\r\n\r\nhis text\r\n")
    rump = (f"imap://{enc(OTHER)}@{HOST}/INBOX/;UID={uid}/;SECTION=TEXT"
            f";URLAUTH=user+{enc(USER)}").encode()
    url = genurlauth(o, rump)
    o.close()
    r = Raw(imap.imap_port)
    out = r.cmd(b"c", b"APPEND Drafts CATENATE (TEXT {16+}\r\nSubject: got\r\n\r\n URL \"" + url
                + b"\")")
    assert out[-1].startswith(b"c OK"), out
    new_uid = int(re.search(rb"APPENDUID \d+ (\d+)", out[-1]).group(1))
    assert r.fetch_body(new_uid, b"Drafts") == b"Subject: got\r\n\r\nhis text\r\n"
    # With a broken verifier it is a BADURL.
    bad = url[:-1] + (b"0" if url[-1:] != b"0" else b"1")
    out = r.cmd(b"d", b"APPEND Drafts CATENATE (URL \"" + bad + b"\")")
    assert out[-1].startswith(b"d NO [BADURL "), out
    r.close()


def test_catenate_urlauth_refusals_look_alike(imap):
    """Issue 18: a URLAUTH URL naming another user's mailbox answers the same
    whether the mailbox is missing or the verifier is wrong (URLFETCH gives
    NIL for both): the answer must not tell which mailboxes exist."""
    o = Raw(imap.imap_port, user=OTHER)
    _, uid = append_plain(o, b"Subject: shared\r\n\r\nhis text\r\n")
    rump = (f"imap://{enc(OTHER)}@{HOST}/INBOX/;UID={uid}"
            f";URLAUTH=user+{enc(USER)}").encode()
    url = genurlauth(o, rump)
    o.close()
    token = url.rsplit(b":", 1)[1]
    flipped = token[:-1] + (b"0" if token[-1:] != b"0" else b"1")
    cases = [
        url[:-len(token)] + flipped,                          # wrong verifier
        url.replace(b"/INBOX/", b"/NoSuchBox/"),              # no such mailbox
        url.replace(b"/INBOX/", b"/Trash/"),                  # exists, other key
        url.replace(enc(OTHER).encode(), b"nobody%40cat.test"),  # no such user
    ]
    r = Raw(imap.imap_port)
    texts = set()
    for i, bad in enumerate(cases):
        out = r.cmd(b"d%d" % i, b"APPEND Drafts CATENATE (URL \"" + bad + b"\")")
        prefix = b"d%d NO [BADURL " % i + bad + b"] "
        assert out[-1].startswith(prefix), out
        texts.add(out[-1][len(prefix):])
    assert len(texts) == 1, texts
    r.close()


def test_urlauth_syntax_errors(imap):
    r = Raw(imap.imap_port)
    for bad in (b"GENURLAUTH", b"GENURLAUTH \"imap://x\"", b"URLFETCH", b"RESETKEY (x)"):
        out = r.cmd(b"x", bad)
        assert out[-1].startswith(b"x BAD"), (bad, out)
    out = r.cmd(b"y", b"GENURLAUTH \"imap://a@b/INBOX/;UID=1;URLAUTH=anonymous\" HMAC-MD5")
    assert out[-1].startswith(b"y NO"), out
    out = r.cmd(b"y2", b"RESETKEY INBOX XYZ")
    assert out[-1].startswith(b"y2 NO"), out
    out = r.cmd(b"y3", b"RESETKEY NoSuchBox")
    assert out[-1].startswith(b"y3 NO [NONEXISTENT]"), out
    # Junk URLs fetch NIL, never an error.
    out = r.cmd(b"z", b"URLFETCH \"not a url\" \"imap://\" \"/INBOX/;UID=1\"")
    # (URLs made only of ASTRING-CHARs come back as atoms.)
    assert out[0] == b"* URLFETCH \"not a url\" NIL imap:// NIL /INBOX/;UID=1 NIL\r\n", out
    assert out[-1].startswith(b"z OK")
    r.close()


# ---- BURL (RFC 4468) on the submission port ----

import base64  # noqa: E402
import ssl  # noqa: E402


class Smtp:
    """A raw SMTP client on implicit TLS (submissions)."""

    def __init__(self, port, tls=True):
        s = socket.create_connection(("127.0.0.1", port), timeout=15)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        self.s = s
        self.f = s.makefile("rb")
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

    def login(self, user=USER):
        code, text = self.cmd(b"EHLO client.test")
        assert code == 250
        code, _ = self.cmd(b"AUTH PLAIN " + base64.b64encode(f"\0{user}\0{PASSWORD}".encode()))
        assert code == 235
        return text


def test_burl_forwards_a_part_without_downloading(imap):
    r = Raw(imap.imap_port)
    uidv, uid = append_plain(r, MULTIPART)
    rump = (f"imap://{enc(USER)}@{HOST}/INBOX;UIDVALIDITY={uidv}/;UID={uid}/;SECTION=1"
            f";URLAUTH=submit+{enc(USER)}").encode()
    url = genurlauth(r, rump)
    r.close()
    m = Smtp(imap.submissions_port)
    ehlo = m.login()
    assert b"250-BURL imap" in ehlo or b"250 BURL imap" in ehlo
    assert m.cmd(f"MAIL FROM:<{USER}>".encode())[0] == 250
    assert m.cmd(f"RCPT TO:<{OTHER}>".encode())[0] == 250
    head = (f"From: {USER}\r\nTo: {OTHER}\r\nSubject: forwarded part\r\n"
            f"Message-ID: <burl1@cat.test>\r\n\r\n").encode()
    m.s.sendall(b"BDAT " + str(len(head)).encode() + b"\r\n" + head)
    assert m.reply()[0] == 250
    code, text = m.cmd(b"BURL " + url + b" LAST")
    assert code == 250, text
    m.cmd(b"QUIT")
    # The recipient sees header + the part, fetched by the server itself.
    o = Raw(imap.imap_port, user=OTHER)
    o.cmd(b"s", b"SELECT INBOX")
    out = o.cmd(b"f", b"FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])")
    assert out[-1].startswith(b"f OK"), out
    assert b"Subject: forwarded part" in out[1]
    assert out[3] == b"first part text"
    o.close()


def test_burl_refusals(imap):
    r = Raw(imap.imap_port)
    uidv, uid = append_plain(r, MULTIPART)
    base = f"imap://{enc(USER)}@{HOST}/INBOX/;UID={uid}".encode()
    url_user = genurlauth(r, base + b";URLAUTH=user+" + enc(USER).encode())
    url_other = genurlauth(r, base + b";URLAUTH=submit+" + enc(OTHER).encode())
    url_ok = genurlauth(r, base + b";URLAUTH=submit+" + enc(USER).encode())
    r.close()
    # Before AUTH.
    m = Smtp(imap.submissions_port)
    assert m.cmd(b"EHLO client.test")[0] == 250
    assert m.cmd(b"BURL " + url_ok + b" LAST")[0] == 530
    m.cmd(b"QUIT")
    m = Smtp(imap.submissions_port)
    m.login()
    assert m.cmd(b"BURL " + url_ok)[0] == 503          # no MAIL yet
    assert m.cmd(f"MAIL FROM:<{USER}>".encode())[0] == 250
    assert m.cmd(f"RCPT TO:<{OTHER}>".encode())[0] == 250
    for bad in (url_user, url_other, url_ok[:-1] + (b"0" if url_ok[-1:] != b"0" else b"1"),
                base + b";URLAUTH=submit+" + enc(USER).encode()):
        code, text = m.cmd(b"BURL " + bad + b" LAST")
        assert code == 554 and b"5.6.6" in text, (bad, text)
        # The transaction is gone: start again.
        assert m.cmd(f"MAIL FROM:<{USER}>".encode())[0] == 250
        assert m.cmd(f"RCPT TO:<{OTHER}>".encode())[0] == 250
    assert m.cmd(b"BURL http://example.com/x LAST")[0] == 554
    assert m.cmd(b"BURL " + url_ok + b" NOTLAST")[0] == 501
    # (Those two leave the transaction open.)
    assert m.cmd(b"RSET")[0] == 250
    # Two BURLs make one message: the whole original twice.
    assert m.cmd(f"MAIL FROM:<{USER}>".encode())[0] == 250
    assert m.cmd(f"RCPT TO:<{OTHER}>".encode())[0] == 250
    assert m.cmd(b"BURL " + url_ok)[0] == 250
    assert m.cmd(b"BURL " + url_ok + b" LAST")[0] == 250
    m.cmd(b"QUIT")
    o = Raw(imap.imap_port, user=OTHER)
    o.cmd(b"s", b"SELECT INBOX")
    out = o.cmd(b"f", b"FETCH 1 BODY.PEEK[TEXT]")
    assert out[-1].startswith(b"f OK"), out
    assert out[1].count(b"first part text") == 2
    o.close()
    # Not on the MX port.
    mx = Smtp(imap.smtp_port, tls=False)
    assert mx.cmd(b"EHLO client.test")[0] == 250
    assert mx.cmd(b"BURL " + url_ok + b" LAST")[0] >= 500
    mx.cmd(b"QUIT")
