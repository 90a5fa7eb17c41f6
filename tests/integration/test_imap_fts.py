"""Full-text SEARCH BODY/TEXT (RFC 9051 6.4.4: substring, case-insensitive)
and FETCH PREVIEW (RFC 8970) against a plain substring scan in Python over
the same generated corpus: quoted-printable and base64 bodies, ISO-8859-1,
UTF-8 and Windows-1252, HTML-only and multipart/alternative messages,
attachments (only text/ ones are text), encoded-word subjects; needles of
one, two and more characters, non-ASCII ones, LIKE metacharacters; BODY
against TEXT; combinations with other keys; messages stored before the text
was kept (lazy extraction, `cairnctl mail reindex`); a text past the 1 MiB
that is indexed."""
import base64
import email.header
import email.utils
import imaplib
import quopri
import random
import re
import subprocess

import pytest

import imaplib_util
from conftest import CAIRNCTL
from imaplib_util import tls_ctx

PASSWORD = "fts-secret-1"
USER = "fts@fts.test"

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee "
         "zulu report budget meeting tomorrow please").split()
LATIN1 = ["café", "naïve", "Zürich", "Ärger", "façade", "Óscar", "mañana", "über"]
CP1252 = ["“quoted”", "€uro", "‘single’", "dash–en", "Œuvre"]
CYRILLIC = ["Москва", "привет", "Жёлтый", "журнал"]
# Markers whose presence in an answer would be wrong (not text) or right.
BINARY_ONLY = "binonlymarker"          # inside a base64 application/octet-stream
HTML_HIDDEN = "hiddenhtmlmarker"        # in an HTML comment and a <style>
TEXT_ATTACH = "textattachmarker"        # in a text/plain attachment: is text


def ctl(d, *args):
    return imaplib_util.ctl(d, *args, timeout=300)


def login(d):
    m = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=60)
    m.starttls(tls_ctx())
    m.login(USER, PASSWORD)
    return m


# ---- the corpus: each message with the text a reader sees ----

def words(rng, n, pool):
    return " ".join(rng.choice(pool) for _ in range(n))


def cte_encode(text, charset, cte):
    data = text.encode(charset)
    if cte == "base64":
        return base64.encodebytes(data).decode().replace("\n", "\r\n")
    if cte == "quoted-printable":
        return quopri.encodestring(data).decode().replace("\n", "\r\n")
    return data.decode(charset)


def html_of(rng, plain_words):
    """HTML whose visible text is exactly plain_words separated by spaces and
    line breaks; the returned text is what a reader sees."""
    html, text = ["<html><head><style>.x{color:red} /* " + HTML_HIDDEN + " */</style></head><body>"], []
    for i, w in enumerate(plain_words):
        if i % 7 == 0:
            html.append("<p>")
            text.append("\n")
        enc = (w.replace("&", "&amp;").replace("é", "&eacute;").replace("<", "&lt;")
               .replace("€", "&#x20AC;"))
        if rng.random() < 0.2:
            enc = f"<b class=\"w\">{enc}</b>"
        html.append(enc + " ")
        text.append(w + " ")
        if i == 3:
            html.append(f"<!-- {HTML_HIDDEN} -->")
    html.append("</body></html>")
    return "".join(html), "".join(text)


def make_corpus(n, seed=5):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = ["plain", "latin1", "cp1252", "cyrillic", "html", "alternative",
                "attachments"][i % 7]
        pool = WORDS + (LATIN1 if kind in ("latin1", "html", "alternative") else []) + \
            (CP1252 if kind == "cp1252" else []) + (CYRILLIC if kind == "cyrillic" else [])
        body_words = [rng.choice(pool) for _ in range(rng.randrange(10, 60))]
        if rng.random() < 0.05:
            body_words.append(f"rare{i}word")
        if rng.random() < 0.1:
            body_words.append("50%off_today")
        subject_words = [rng.choice(WORDS + LATIN1 + CYRILLIC) for _ in range(3)] + [f"subj{i}"]
        subject = " ".join(subject_words)
        if all(ord(c) < 128 for c in subject) and rng.random() < 0.5:
            enc_subject = subject
        elif kind == "latin1" and all(ord(c) < 256 for c in subject):
            enc_subject = email.header.Header(subject, "iso-8859-1").encode(linesep="\r\n")
        else:
            enc_subject = email.header.Header(subject, "utf-8").encode(linesep="\r\n")
        headers = [("From", f"Sender {i % 9} <s{i % 9}@example.org>"), ("To", USER),
                   ("Subject", subject), ("Date", email.utils.formatdate(1700000000 + i * 3600)),
                   ("Message-ID", f"<m{i}@fts.test>")]
        raw_headers = [(k, enc_subject if k == "Subject" else v) for k, v in headers]
        btext = " ".join(body_words)
        parts_text = []
        if kind in ("plain", "latin1", "cp1252", "cyrillic"):
            charset = {"plain": "utf-8", "latin1": "iso-8859-1", "cp1252": "windows-1252",
                       "cyrillic": "utf-8"}[kind]
            cte = rng.choice(["8bit", "quoted-printable", "base64"])
            ctype = f"text/plain; charset={charset}"
            body = cte_encode(btext, charset, cte)
            mime = [("MIME-Version", "1.0"), ("Content-Type", ctype),
                    ("Content-Transfer-Encoding", cte)]
            parts_text.append(btext)
        elif kind == "html":
            html, text = html_of(rng, body_words)
            body = cte_encode(html, "utf-8", "base64")
            mime = [("MIME-Version", "1.0"), ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Transfer-Encoding", "base64")]
            parts_text.append(text)
        elif kind == "alternative":
            html, text = html_of(rng, body_words)
            b = f"alt{i}"
            body = (f"--{b}\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                    f"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                    f"{cte_encode(btext, 'iso-8859-1', 'quoted-printable')}\r\n"
                    f"--{b}\r\nContent-Type: text/html; charset=utf-8\r\n"
                    f"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                    f"{cte_encode(html, 'utf-8', 'quoted-printable')}\r\n--{b}--\r\n")
            mime = [("MIME-Version", "1.0"),
                    ("Content-Type", f"multipart/alternative; boundary=\"{b}\"")]
            parts_text += [btext, text]
        else:
            b = f"mix{i}"
            binary = bytes(rng.randrange(256) for _ in range(300)) + BINARY_ONLY.encode()
            attach_text = f"attached notes {TEXT_ATTACH} {words(rng, 5, WORDS)}"
            body = (f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{btext}\r\n"
                    f"--{b}\r\nContent-Type: application/octet-stream; name=data.bin\r\n"
                    f"Content-Disposition: attachment; filename=data.bin\r\n"
                    f"Content-Transfer-Encoding: base64\r\n\r\n"
                    f"{cte_encode(binary.decode('latin-1'), 'latin-1', 'base64')}\r\n"
                    f"--{b}\r\nContent-Type: text/plain; charset=us-ascii; name=notes.txt\r\n"
                    f"Content-Disposition: attachment; filename=notes.txt\r\n\r\n"
                    f"{attach_text}\r\n--{b}--\r\n")
            mime = [("MIME-Version", "1.0"),
                    ("Content-Type", f"multipart/mixed; boundary=\"{b}\"")]
            parts_text += [btext, attach_text]
        all_headers = raw_headers + mime
        raw = "".join(f"{k}: {v}\r\n" for k, v in all_headers) + "\r\n" + body
        raw_bytes = raw.encode("utf-8")
        if kind in ("latin1", "cp1252") and "Content-Transfer-Encoding: 8bit" in raw:
            # 8bit bodies in their own charset, headers ASCII.
            head, _, _ = raw.partition("\r\n\r\n")
            raw_bytes = head.encode() + b"\r\n\r\n" + btext.encode(
                "iso-8859-1" if kind == "latin1" else "windows-1252")
        decoded_headers = "".join(f"{k}: {v}\n" for k, v in headers + mime)
        out.append({"raw": raw_bytes, "body": "\n".join(parts_text),
                    "headers": decoded_headers, "kind": kind, "subject": subject})
    return out


def fold(s):
    return s.lower()


def expected(corpus, needle, text):
    n = fold(needle)
    return {uid for uid, m in enumerate(corpus, 1)
            if n in fold(m["body"]) or (text and n in fold(m["headers"]))}


def uid_search(m, *criteria, literal=None):
    if literal is not None:
        m.literal = literal.encode("utf-8")
    typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", *criteria)
    assert typ == "OK", data
    return {int(x) for x in data[0].split()}


@pytest.fixture
def fts(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"imap": {"max_append": "30M"}})
    ctl(d, "domain", "add", "fts.test")
    ctl(d, "user", "add", USER, "--password", PASSWORD)
    return d


def append_all(m, corpus):
    for msg in corpus:
        typ, data = m.append("INBOX", None, None, msg["raw"])
        assert typ == "OK", data


def needles_of(corpus):
    rng = random.Random(11)
    some = [w for msg in rng.sample(corpus, 20) for w in msg["body"].split()[:2]]
    return (["q", "é", "ж", "€", "z", "%", "_", "ür", "мо", "xq", "éa", "ZU",
             "café", "CAFÉ", "zürich", "ÄRGER", "москва", "МОСКВА", "“quoted”", "€uro",
             "50%off", "%off_", "off_t", "rare7word", "rare", "report budget", "nosuchword",
             BINARY_ONLY, HTML_HIDDEN, TEXT_ATTACH, "Subject", "subj12", "s3@example",
             "Sender 4", "alt15", "Content-Type", "charset=iso", "attachment"] + some)


def check_needles(m, corpus, needles):
    for needle in needles:
        for key, text in (("BODY", False), ("TEXT", True)):
            got = uid_search(m, key, literal=needle)
            want = expected(corpus, needle, text)
            assert got == want, (f"{key} {needle!r}: extra {sorted(got - want)[:10]}, "
                                 f"missing {sorted(want - got)[:10]}")


def test_search_matches_substring_scan(fts):
    corpus = make_corpus(280)
    m = login(fts)
    append_all(m, corpus)
    m.select("INBOX")
    check_needles(m, corpus, needles_of(corpus))
    # What must hold whatever the corpus happens to contain.
    assert uid_search(m, "BODY", literal=BINARY_ONLY) == set()
    assert uid_search(m, "BODY", literal=HTML_HIDDEN) == set()
    assert len(uid_search(m, "BODY", literal=TEXT_ATTACH)) == 40
    assert uid_search(m, "BODY", literal="subj277") == set()
    assert uid_search(m, "TEXT", literal="subj277") == {278}
    m.logout()


def test_search_combinations(fts):
    corpus = make_corpus(140, seed=8)
    m = login(fts)
    append_all(m, corpus)
    m.select("INBOX")
    m.uid("STORE", "1:50", "+FLAGS", "(\\Seen)")
    n = len(corpus)
    everything = set(range(1, n + 1))
    a, b = expected(corpus, "kilo", False), expected(corpus, "tango", False)
    assert a and b and a != b
    assert uid_search(m, "NOT", "BODY", literal="café") == everything - expected(corpus, "café", False)
    m.literal = "tango".encode()
    typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", "OR", "BODY", "kilo", "BODY")
    assert {int(x) for x in data[0].split()} == a | b
    assert uid_search(m, "UNSEEN", "BODY", literal="tango") == b - set(range(1, 51))
    assert uid_search(m, "SUBJECT", "alpha", "TEXT", literal="bravo") == \
        {u for u in expected(corpus, "bravo", True) if "alpha" in corpus[u - 1]["subject"]}
    assert uid_search(m, "UID", "20:40", "TEXT", literal="ö") == \
        expected(corpus, "ö", True) & set(range(20, 41))
    # The empty string matches every message.
    assert uid_search(m, "BODY", literal="") == everything
    # Sequence numbers after an expunge still map to the right messages.
    m.uid("STORE", "1:10", "+FLAGS", "(\\Deleted)")
    m.expunge()
    typ, data = m.search("UTF-8", "BODY", "bravo")
    seqs = {int(x) for x in data[0].split()}
    assert seqs == {u - 10 for u in expected(corpus, "bravo", False) if u > 10}
    m.logout()


def pg_sql(pg, sql):
    return pg.psql("cairn", sql).strip()


def test_pending_text_lazy_and_reindex(fts, pg):
    """Blobs stored before migration 0010 have no text: SEARCH extracts it
    before answering; `cairnctl mail reindex` does it ahead with progress;
    a message appended afterwards is found at once."""
    corpus = make_corpus(120, seed=9)
    m = login(fts)
    append_all(m, corpus)
    m.logout()
    forget = ("DELETE FROM message_text; UPDATE message_blobs SET text_pending = true;")
    pg_sql(pg, forget)
    assert pg_sql(pg, "SELECT count(*) FROM message_blobs WHERE text_pending") == "120"
    m = login(fts)
    m.select("INBOX")
    check_needles(m, corpus, ["bravo", "é", "café", "москва"])
    assert pg_sql(pg, "SELECT count(*) FROM message_blobs WHERE text_pending") == "0"
    m.logout()

    pg_sql(pg, forget)
    out = ctl(fts, "mail", "reindex")
    assert "reindex: 0 of 120 messages" in out and "reindex: 120 of 120 messages" in out, out
    assert "done, 120 messages indexed" in out
    assert pg_sql(pg, "SELECT count(*) FROM message_text") == "120"
    out = ctl(fts, "mail", "reindex")
    assert "done, 0 messages indexed" in out
    out = ctl(fts, "mail", "reindex", "all")
    assert "done, 120 messages indexed" in out
    r = subprocess.run([CAIRNCTL, "-c", str(fts.conf), "mail", "reindex", "bogus"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "bogus" in r.stderr

    m = login(fts)
    m.select("INBOX")
    new = {"raw": b"Subject: later\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                  b"appended after the reindex: Gr\xc3\xbc\xc3\x9fe\r\n",
           "body": "appended after the reindex: Grüße\r\n", "headers": "Subject: later\n"}
    append_all(m, [new])
    corpus.append(new)
    check_needles(m, corpus, ["grüße", "GRÜSSE", "after the", "later", "ß"])
    m.logout()


def test_text_past_the_limit(fts):
    """Text past the 1 MiB kept per message is still found: such messages
    are decoded in full at SEARCH time."""
    filler = ("lorem ipsum dolor sit amet " * 45000)        # ~1.2 MB
    raw = ("Subject: big\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n").encode() + \
        base64.encodebytes((filler + " tailneedle Ünïcödé end").encode()).replace(b"\n", b"\r\n")
    m = login(fts)
    m.append("INBOX", None, None, raw)
    m.append("INBOX", None, None, b"Subject: small\r\n\r\nlorem ipsum\r\n")
    m.select("INBOX")
    assert uid_search(m, "BODY", literal="tailneedle") == {1}
    assert uid_search(m, "TEXT", literal="ÜNÏCÖDÉ") == {1}
    assert uid_search(m, "BODY", literal="lorem") == {1, 2}
    assert uid_search(m, "BODY", literal="nowhere") == set()
    m.logout()


# ---- PREVIEW (RFC 8970) ----

def previews(m, uids, modifiers=""):
    """uid -> preview (None for NIL) from a raw UID FETCH."""
    tag = m._new_tag().decode()
    m.send(f"{tag} UID FETCH {uids} (UID PREVIEW{modifiers})\r\n".encode())
    out, raw = {}, b""
    while True:
        line = m.readline()
        lit = re.search(rb"\{(\d+)\}\r\n$", line)
        raw += line
        if lit:
            raw += m.file.read(int(lit.group(1)))
            continue
        if line.startswith(tag.encode()):
            assert b" OK " in line, line
            break
    for mm in re.finditer(rb"\* \d+ FETCH \(UID (\d+) PREVIEW (NIL|\"((?:[^\"\\]|\\.)*)\"|"
                          rb"\{(\d+)\}\r\n)", raw):
        uid = int(mm.group(1))
        if mm.group(2) == b"NIL":
            out[uid] = None
        elif mm.group(4) is not None:
            start = mm.end()
            out[uid] = raw[start:start + int(mm.group(4))].decode()
        else:
            out[uid] = re.sub(rb"\\(.)", rb"\1", mm.group(3)).decode()
    return out


def preview_of(text):
    return " ".join(text.split())[:256].rstrip()


def test_preview(fts, pg):
    corpus = make_corpus(70, seed=3)
    m = login(fts)
    typ, caps = m.capability()
    assert b"PREVIEW" in caps[0].split()
    append_all(m, corpus)
    m.select("INBOX")
    got = previews(m, "1:*")
    assert len(got) == len(corpus)
    for uid, msg in enumerate(corpus, 1):
        want = preview_of(msg["body"])
        assert got[uid] == want, (uid, msg["kind"], got[uid], want)
        assert BINARY_ONLY not in got[uid] and HTML_HIDDEN not in got[uid]
        assert len(got[uid]) <= 256
    # LAZY: NIL while the text is not extracted, the preview once it is.
    pg_sql(pg, "DELETE FROM message_text WHERE blob_id IN (SELECT blob_id FROM mailbox_messages"
               " WHERE uid IN (2, 3)); UPDATE message_blobs SET text_pending = true"
               " WHERE NOT EXISTS (SELECT 1 FROM message_text t WHERE t.blob_id = id)")
    lazy = previews(m, "1:4", " (LAZY)")
    assert lazy[2] is None and lazy[3] is None
    assert lazy[1] == preview_of(corpus[0]["body"]) and lazy[4] == preview_of(corpus[3]["body"])
    now = previews(m, "2:3")
    assert now[2] == preview_of(corpus[1]["body"]) and now[3] == preview_of(corpus[2]["body"])
    assert previews(m, "2", " (LAZY)")[2] == preview_of(corpus[1]["body"])
    # An empty body gives an empty preview, not NIL; bad modifiers are BAD.
    m.append("INBOX", None, None, b"Subject: empty\r\n\r\n")
    m.select("INBOX")
    assert previews(m, str(len(corpus) + 1)) == {len(corpus) + 1: ""}
    for bad in ("PREVIEW (FUZZY)", "PREVIEW ()", "PREVIEW (LAZY", "PREVIEW LAZY"):
        tag = m._new_tag().decode()
        m.send(f"{tag} UID FETCH 1 ({bad})\r\n".encode())
        while True:
            line = m.readline()
            if line.startswith(tag.encode()):
                break
        assert line.split()[1] == b"BAD", (bad, line)
    m.logout()
