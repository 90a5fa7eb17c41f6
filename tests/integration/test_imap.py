"""The IMAP gateway (issue 6) with Python's imaplib and raw sockets: TLS and
capabilities, mailbox management, APPEND/FETCH byte for byte, sections,
flags with UNCHANGEDSINCE, COPY/MOVE, EXPUNGE renumbering, SEARCH, two
sessions seeing each other's changes at NOOP and during IDLE, pipelining and
protocol abuse."""
import email.utils
import imaplib
import re
import socket
import subprocess
import time

import pytest

from imaplib_util import Raw, add_accounts, tls_ctx

PASSWORD = "imap-secret-1"
USER = "user@imap.test"


@pytest.fixture
def imap(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"imap": {"idle_timeout": "60s", "max_bad_commands": "5",
                                 "max_append": "30M"}})
    add_accounts(d, PASSWORD, USER, "other@imap.test")
    return d


def login(d, user=USER):
    m = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=10)
    m.starttls(tls_ctx())
    m.login(user, PASSWORD)
    return m


def msg(i, extra_headers="", body=None):
    body = body if body is not None else f"Body of message {i}\r\nsecond line\r\n"
    return (f"From: Sender {i} <sender{i}@remote.test>\r\n"
            f"To: {USER}\r\n"
            f"Subject: message {i}\r\n"
            f"Date: {email.utils.formatdate(1700000000 + i * 86400)}\r\n"
            f"Message-ID: <m{i}@remote.test>\r\n{extra_headers}"
            f"\r\n{body}").encode()


MULTIPART = (b"From: A <a@remote.test>\r\nTo: user@imap.test\r\nSubject: parts\r\n"
             b"MIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
             b"preamble\r\n--outer\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
             b"first part text\r\n--outer\r\n"
             b"Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
             b"--inner\r\nContent-Type: text/plain\r\n\r\nalt plain\r\n"
             b"--inner\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             b"PGI+YWx0IGh0bWw8L2I+\r\n--inner--\r\n\r\n--outer--\r\n")


def test_greeting_capabilities_and_tls(imap):
    m = imaplib.IMAP4("127.0.0.1", imap.imap_port, timeout=10)
    assert b"Cairn ready" in m.welcome and b"[CAPABILITY IMAP4rev1 IMAP4rev2" in m.welcome
    caps = m.capabilities
    assert "STARTTLS" in caps and "LOGINDISABLED" in caps
    assert not any(c.startswith("AUTH=") for c in caps)
    with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED"):
        m.login(USER, PASSWORD)
    m.starttls(tls_ctx())
    caps = m.capabilities
    assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps
    assert "AUTH=PLAIN" in caps and "AUTH=LOGIN" in caps
    for c in ("IDLE", "UIDPLUS", "MOVE", "LIST-EXTENDED", "ESEARCH", "CONDSTORE",
              "APPENDLIMIT=31457280", "UTF8=ACCEPT", "SPECIAL-USE", "LITERAL+"):
        assert c in caps
    typ, data = m.login(USER, PASSWORD)
    assert typ == "OK" and b"CAPABILITY" in data[0]
    m.logout()


def test_imaps_and_authenticate(imap):
    m = imaplib.IMAP4_SSL("127.0.0.1", imap.imaps_port, ssl_context=tls_ctx(), timeout=10)
    typ, _ = m.authenticate("PLAIN", lambda _: f"\0{USER}\0{PASSWORD}".encode())
    assert typ == "OK"
    m.logout()
    # SASL-IR in one line, and a wrong password.
    import base64
    r = Raw(imap.imaps_port, tls=True)
    ir = base64.b64encode(f"\0{USER}\0wrong".encode())
    r.send(b"a1 AUTHENTICATE PLAIN " + ir + b"\r\n")
    assert b"a1 NO [AUTHENTICATIONFAILED]" in r.until(b"a1")[-1]
    ir = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode())
    r.send(b"a2 AUTHENTICATE PLAIN " + ir + b"\r\n")
    assert r.until(b"a2")[-1].startswith(b"a2 OK")
    r.send(b"a3 AUTHENTICATE LOGIN\r\n")
    assert r.until(b"a3")[-1].startswith(b"a3 BAD")
    r.close()
    # AUTHENTICATE LOGIN with continuations
    r = Raw(imap.imaps_port, tls=True)
    r.send(b"b1 AUTHENTICATE LOGIN\r\n")
    assert r.line().startswith(b"+ ")
    r.send(base64.b64encode(USER.encode()) + b"\r\n")
    assert r.line().startswith(b"+ ")
    r.send(base64.b64encode(PASSWORD.encode()) + b"\r\n")
    assert r.until(b"b1")[-1].startswith(b"b1 OK")
    r.close()


def names(m, *args):
    typ, data = m.list(*args)
    assert typ == "OK"
    out = {}
    for line in data:
        mm = re.match(rb'\(([^)]*)\) "/" (.*)$', line)
        name = mm.group(2).decode()
        out[name.strip('"')] = set(mm.group(1).decode().split())
    return out


def test_list_create_rename_delete(imap):
    m = login(imap)
    boxes = names(m)
    # dir_provision created the defaults on first login.
    assert {"INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive"} <= set(boxes)
    assert "\\Sent" in boxes["Sent"] and "\\HasNoChildren" in boxes["Sent"]
    typ, data = m.list('""', '""')
    assert data == [b'(\\Noselect) "/" ""']
    assert m.create("Work/Projects/Alpha")[0] == "OK"
    assert m.create("Work")[0] == "NO"          # exists
    boxes = names(m)
    assert "\\HasChildren" in boxes["Work"] and "\\HasNoChildren" in boxes["Work/Projects/Alpha"]
    assert set(names(m, '""', "Work/%")) == {"Work/Projects"}
    assert set(names(m, '""', "Work/*")) == {"Work/Projects", "Work/Projects/Alpha"}
    # Non-ASCII names travel in modified UTF-7.
    assert m.create("&AOQ-rger")[0] == "OK"
    assert "&AOQ-rger" in names(m)
    assert m.rename("Work/Projects", "Old/Projects")[0] == "OK"
    boxes = names(m)
    assert "Old/Projects/Alpha" in boxes and "Work/Projects" not in boxes
    assert m.delete("Old")[0] == "OK"            # has children: becomes \Noselect
    assert "\\Noselect" in names(m)["Old"]
    assert m.delete("INBOX")[0] == "NO"
    # Invalid modified UTF-7 is refused before the store is asked.
    typ, data = m.create("&Jjo")
    assert typ == "NO" and b"[CANNOT]" in data[0]
    typ, data = m.rename("Junk", "bad&name")
    assert typ == "NO" and b"[CANNOT]" in data[0]
    assert m.delete("Nope")[0] == "NO"
    # subscriptions and LIST-EXTENDED
    assert m.subscribe("Old/Projects/Alpha")[0] == "OK"
    typ, data = m.lsub('""', "Old/*")
    assert data == [b'() "/" Old/Projects/Alpha']
    typ, data = m._simple_command("LIST", "(SUBSCRIBED)", '""', "*", "RETURN", "(CHILDREN)")
    _, data = m._untagged_response(typ, data, "LIST")
    text = b"\n".join(data)
    assert b"Old/Projects/Alpha" in text and b"\\Subscribed" in text and b"Work" not in text
    typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', "*")
    _, data = m._untagged_response(typ, data, "LIST")
    assert len(data) == 5 and all(b"\\HasNoChildren" in x for x in data)
    typ, data = m._simple_command("LIST", '""', "%", "RETURN", "(STATUS (MESSAGES UIDNEXT SIZE))")
    typ, st = m._untagged_response(typ, data, "STATUS")
    assert any(b"INBOX (MESSAGES 0 UIDNEXT 1 SIZE 0)" in x for x in st)
    m.logout()


def test_append_fetch_byte_for_byte(imap):
    m = login(imap)
    messages = [msg(i) for i in range(3)] + [MULTIPART, b"Subject: lf only\n\nbody\n"]
    for i, data in enumerate(messages):
        typ, resp = m.append("INBOX", "(\\Flagged $Work)", '"17-Jul-1996 02:44:25 -0700"', data)
        assert typ == "OK"
        assert re.match(rb"\[APPENDUID \d+ %d\]" % (i + 1), resp[0])
    assert m.append("NoSuch", None, None, b"Subject: x\r\n\r\nx\r\n")[0] == "NO"
    typ, data = m.select("INBOX")
    assert data == [b"5"]
    assert m.untagged_responses.get("UIDNEXT") == [b"6"]
    for i, data in enumerate(messages, 1):
        typ, resp = m.fetch(str(i), "(BODY.PEEK[] RFC822.SIZE FLAGS INTERNALDATE)")
        data = re.sub(rb"\r?\n", b"\r\n", data)    # imaplib's append sends CRLF
        assert resp[0][1] == data
        assert b"RFC822.SIZE %d" % len(data) in resp[0][0]
        assert b"\\Flagged" in resp[0][0] and b"$Work" in resp[0][0]
        assert b"\\Seen" not in resp[0][0]
        assert b'INTERNALDATE "17-Jul-1996 09:44:25 +0000"' in resp[0][0]
    # sections of the multipart
    typ, resp = m.fetch("4", "(BODY.PEEK[1] BODY.PEEK[2.1] BODY.PEEK[2.2] BINARY.PEEK[2.2] "
                             "BINARY.SIZE[2.2] BODY.PEEK[2.2.MIME])")
    flat = b"".join(x if isinstance(x, bytes) else x[0] + x[1] for x in resp)
    assert b"first part text" in flat and b"alt plain" in flat
    assert b"PGI+YWx0IGh0bWw8L2I+" in flat and b"<b>alt html</b>" in flat
    assert b"BINARY.SIZE[2.2] 15" in flat
    assert b"Content-Transfer-Encoding: base64" in flat
    typ, resp = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (Subject From)] BODY.PEEK[]<5.10> BODY.PEEK[TEXT])")
    assert resp[0][1] == b"From: Sender 0 <sender0@remote.test>\r\nSubject: message 0\r\n\r\n"
    assert resp[1][1] == messages[0][5:15]
    assert b"<5>" in resp[1][0]
    assert resp[2][1] == b"Body of message 0\r\nsecond line\r\n"
    # ENVELOPE/BODYSTRUCTURE are the stored strings
    typ, resp = m.fetch("1", "(ENVELOPE BODYSTRUCTURE UID)")
    line = resp[0]
    assert b'"message 0"' in line and b'(("Sender 0" NIL "sender0" "remote.test"))' in line
    assert b'("TEXT" "PLAIN"' in line.upper()
    stored = imap.pg.psql("cairn", "SELECT b.envelope FROM message_blobs b JOIN mailbox_messages m"
                                   " ON m.blob_id = b.id WHERE m.uid = 1 LIMIT 1")
    assert stored.strip().encode() in line
    # A non-PEEK fetch sets \Seen and says so.
    typ, resp = m.fetch("2", "(BODY[TEXT])")
    assert b"\\Seen" in resp[0][0]
    typ, resp = m.fetch("2", "(FLAGS)")
    assert b"\\Seen" in resp[0]
    m.logout()


def test_store_unchangedsince_copy_move_expunge(imap):
    m = login(imap)
    for i in range(6):
        m.append("INBOX", None, None, msg(i))
    m.select("INBOX")
    typ, data = m.store("1:3", "+FLAGS", "(\\Deleted)")
    assert typ == "OK" and len(data) == 3 and all(b"\\Deleted" in x for x in data)
    typ, data = m.store("4", "+FLAGS.SILENT", "(\\Answered)")
    assert typ == "OK" and data == [None]
    typ, data = m.fetch("4", "(MODSEQ)")
    modseq = int(re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1))
    typ, data = m._simple_command("STORE", "4,5", "(UNCHANGEDSINCE %d)" % (modseq - 1),
                                  "+FLAGS", "(\\Flagged)")
    assert typ == "OK" and b"[MODIFIED 4]" in data[0]
    typ, data = m.fetch("4:5", "(FLAGS)")
    assert b"\\Flagged" not in data[0] and b"\\Flagged" in data[1]
    typ, data = m.copy("5:6", "Archive")
    assert typ == "OK" and re.search(rb"\[COPYUID \d+ 5:6 1:2\]", data[0])
    typ, data = m._simple_command("UID", "MOVE", "4", "Trash")
    assert typ == "OK"
    assert re.search(rb"COPYUID \d+ 4 1", b" ".join(m.untagged_responses.get("OK", [])))
    assert m.untagged_responses.pop("EXPUNGE") == [b"4"]
    # 1:3 are \Deleted; expunging them renumbers: each reported as 1.
    typ, data = m.expunge()
    assert typ == "OK" and data == [b"1", b"1", b"1"]
    typ, data = m.fetch("1:*", "(UID)")
    assert [re.sub(rb" MODSEQ \(\d+\)", b"", x) for x in data] == [b"1 (UID 5)", b"2 (UID 6)"]
    assert m.status("Archive", "(MESSAGES UIDNEXT)")[1][0].endswith(b"(MESSAGES 2 UIDNEXT 3)")
    assert m.status("Trash", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 1)")
    with pytest.raises(imaplib.IMAP4.error, match="Invalid message sequence number"):
        m.fetch("3", "(UID)")
    m.logout()


def test_search(imap):
    m = login(imap)
    m.append("INBOX", "(\\Seen)", '"01-Jan-2024 10:00:00 +0000"', msg(1, body="apples and pears\r\n"))
    m.append("INBOX", None, '"05-Jan-2024 10:00:00 +0000"',
             msg(2, "X-Tracking: blue-42\r\n", body="bananas " + "x" * 3000 + "\r\n"))
    m.append("INBOX", "(\\Flagged)", '"10-Jan-2024 10:00:00 +0000"',
             msg(3, body="cherries and apples\r\n"))
    m.select("INBOX")

    def search(*crit):
        typ, data = m.search(None, *crit)
        assert typ == "OK", data
        return [int(x) for x in data[0].split()]

    def uid_search(*crit):
        typ, data = m.uid("SEARCH", *crit)
        assert typ == "OK", data
        return [int(x) for x in data[0].split()]

    assert search("ALL") == [1, 2, 3]
    assert search("SEEN") == [1] and search("UNSEEN") == [2, 3]
    assert search("FLAGGED") == [3]
    assert search("BODY", "apples") == [1, 3]
    assert search("BODY", "message") == []        # a header word, not in a body
    assert search("TEXT", "bananas") == [2]
    assert search("SUBJECT", "message 2") == [2]
    assert search("FROM", "sender3") == [3]
    assert search("HEADER", "X-Tracking", "BLUE") == [2]
    assert search("SINCE", "05-Jan-2024") == [2, 3]
    assert search("BEFORE", "05-Jan-2024") == [1]
    assert search("ON", "10-Jan-2024") == [3]
    assert search("LARGER", "2000") == [2]
    assert search("SMALLER", "2000") == [1, 3]
    assert search("NOT", "SEEN", "NOT", "FLAGGED") == [2]
    assert search("OR", "SEEN", "FLAGGED") == [1, 3]
    assert search("2:3", "BODY", "apples") == [3]
    assert uid_search("UID", "2:*") == [2, 3]
    assert search("CHARSET", "UTF-8", "SUBJECT", "message") == [1, 2, 3]
    typ, data = m.search("KOI8-R", "ALL")
    assert typ == "NO" and b"BADCHARSET" in data[0]
    typ, data = m._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT)", "UNSEEN")
    typ, data = m._untagged_response(typ, data, "ESEARCH")
    assert data[0].endswith(b"MIN 2 MAX 3 COUNT 2")
    typ, data = m._simple_command("UID", "SEARCH", "RETURN", "()", "ALL")
    typ, data = m._untagged_response(typ, data, "ESEARCH")
    assert data[0].endswith(b"UID ALL 1:3")
    m.logout()


def test_two_sessions_noop_and_idle(imap, tmp_path):
    a = login(imap)
    b = login(imap)
    for i in range(3):
        a.append("INBOX", None, None, msg(i))
    a.select("INBOX")
    b.select("INBOX")
    assert b.untagged_responses.get("RECENT") == [b"0"]   # a claimed them
    a.untagged_responses.clear()
    # b appends and flags; a sees EXISTS/RECENT and FETCH FLAGS at NOOP.
    b.append("INBOX", None, None, msg(9))
    b.store("1", "+FLAGS", "(\\Flagged)")
    a.noop()
    assert a.untagged_responses.pop("EXISTS") == [b"4"]
    # b had INBOX selected when it appended: \Recent went to b (RFC 3501 2.3.2).
    assert a.untagged_responses.pop("RECENT") == [b"3"]
    fetches = a.untagged_responses.pop("FETCH")
    assert any(b"\\Flagged" in x for x in fetches)
    # b expunges message 2; a, in a FETCH (no EXPUNGE allowed), keeps the old
    # numbers; at NOOP it gets the EXPUNGE.
    b.store("2", "+FLAGS", "(\\Deleted)")
    b.expunge()
    typ, data = a.fetch("4", "(UID)")
    assert data[-1] == b"4 (UID 4)" and "EXPUNGE" not in a.untagged_responses
    a.noop()
    assert a.untagged_responses.pop("EXPUNGE") == [b"2"]
    typ, data = a.fetch("3", "(UID)")
    assert data[-1] == b"3 (UID 4)"
    # IDLE: changes arrive without a command (latency: bench-imap-notify.py).
    r = Raw(imap.imaps_port, tls=True)
    r.send(f"l LOGIN {USER} {PASSWORD}\r\ns SELECT INBOX\r\ni IDLE\r\n".encode())
    r.until(b"s")
    assert r.line().startswith(b"+ ")
    t0 = time.monotonic()
    b.append("INBOX", None, None, msg(10))
    got = [r.line(), r.line()]
    # \Recent goes to whichever session with INBOX selected claims it first.
    assert got[0] == b"* 4 EXISTS\r\n" and got[1] in (b"* 0 RECENT\r\n", b"* 1 RECENT\r\n")
    print(f"IDLE: EXISTS after {(time.monotonic() - t0) * 1000:.0f} ms")
    t0 = time.monotonic()
    b.store("1", "+FLAGS", "(\\Deleted)")
    b.expunge()
    ln = r.line()
    assert ln == b"* 1 EXPUNGE\r\n" or b"FETCH" in ln
    while ln != b"* 1 EXPUNGE\r\n":
        ln = r.line()
    print(f"IDLE: EXPUNGE after {(time.monotonic() - t0) * 1000:.0f} ms")
    r.send(b"DONE\r\n")
    assert r.line() == b"i OK IDLE terminated\r\n"
    r.send(b"n NOOP\r\n")
    assert r.until(b"n") == [b"n OK NOOP completed\r\n"]
    r.close()
    a.logout()
    b.logout()


def test_pipelining_and_bad_commands(imap):
    r = Raw(imap.imaps_port, tls=True)
    r.send(f"1 LOGIN {USER} {PASSWORD}\r\n2 SELECT INBOX\r\n3 NOOP\r\n"
           f"4 FETCH\r\n5 FOO\r\n6 NOOP\r\n".encode())
    out = r.until(b"6")
    tagged = [x for x in out if re.match(rb"^\d ", x)]
    assert [x[:4] for x in tagged] == [b"1 OK", b"2 OK", b"3 OK", b"4 BA", b"5 BA", b"6 OK"]
    assert b"Unknown command" in tagged[4]
    # max_bad_commands (5) consecutive BADs end the session
    r.send(b"a\r\nb FOO\r\nc FETCH x\r\nd ((\r\ne \"unterminated\r\n")
    lines = []
    while True:
        ln = r.line()
        if not ln:
            break
        lines.append(ln)
    assert sum(1 for x in lines if b" BAD " in x) == 5
    assert lines[-1].startswith(b"* BYE")
    r.close()


def test_literal_smuggling_disconnects(imap):
    r = Raw(imap.imaps_port, tls=True)
    r.send(f"1 LOGIN {USER} {PASSWORD}\r\n".encode())
    r.until(b"1")
    # A bad line ending in a non-synchronising literal: its bytes must not be
    # read as commands, the connection is dropped.
    payload = b"2 DELETE Trash\r\n"
    r.send(b"x NOSUCHCMD ((( {%d+}\r\n" % len(payload) + payload)
    lines = []
    while True:
        ln = r.line()
        if not ln:
            break
        lines.append(ln)
    assert any(b"BYE" in x for x in lines)
    assert not any(x.startswith(b"2 ") for x in lines)
    m = login(imap)
    assert "Trash" in names(m)
    m.logout()


def test_starttls_injection_discarded(imap):
    s = socket.create_connection(("127.0.0.1", imap.imap_port), timeout=10)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"1 STARTTLS\r\n2 CAPABILITY\r\n")
    assert f.readline() == b"1 OK Begin TLS negotiation now\r\n"
    t = tls_ctx().wrap_socket(s)
    t.sendall(b"3 NOOP\r\n")
    tf = t.makefile("rb")
    assert tf.readline() == b"3 OK NOOP completed\r\n"   # nothing for the injected "2"
    t.close()


def test_large_append_streamed(imap):
    big = b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * (20 * 1024 * 1024 // 1000)
    m = login(imap)
    t0 = time.monotonic()
    typ, data = m.append("INBOX", None, None, big)
    elapsed = time.monotonic() - t0
    assert typ == "OK"
    m.select("INBOX")
    typ, resp = m.fetch("1", "(BODY.PEEK[] RFC822.SIZE)")
    assert resp[0][1] == big
    print(f"20 MB APPEND {elapsed:.2f}s")
    # Over APPENDLIMIT: [TOOBIG] and the session survives.
    r = Raw(imap.imaps_port, tls=True)
    r.send(f"1 LOGIN {USER} {PASSWORD}\r\n".encode())
    r.until(b"1")
    r.send(b"2 APPEND INBOX {40000000}\r\n")
    assert b"TOOBIG" in r.line()
    r.send(b"3 NOOP\r\n")
    assert r.line() == b"3 OK NOOP completed\r\n"
    r.close()
    m.logout()


def test_pop3_dele_seen_as_expunge(imap):
    import poplib
    m = login(imap)
    for i in range(3):
        m.append("INBOX", None, None, msg(i))
    m.select("INBOX")
    p = poplib.POP3_SSL("127.0.0.1", imap.pop3s_port, context=tls_ctx(), timeout=10)
    p.user(USER)
    p.pass_(PASSWORD)
    p.dele(2)
    p.quit()
    m.noop()
    assert m.untagged_responses.pop("EXPUNGE") == [b"2"]
    typ, data = m.fetch("1:*", "(UID)")
    assert data == [b"1 (UID 1)", b"2 (UID 3)"]
    m.logout()


def test_enable_utf8_and_id_namespace(imap):
    m = login(imap)
    imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))
    typ, data = m._simple_command("ID", '("name" "pytest")')
    assert typ == "OK" and b'"name" "Cairn"' in m.untagged_responses.pop("ID")[0]
    typ, data = m.namespace()
    assert data == [b'(("" "/")) (("Other Users/" "/")) (("Shared/" "/"))']
    m.create("&AOQ-rger")
    typ, data = m._simple_command("ENABLE", "UTF8=ACCEPT", "IMAP4rev2")
    assert m.untagged_responses.pop("ENABLED") == [b"UTF8=ACCEPT IMAP4rev2"]
    r = Raw(imap.imaps_port, tls=True)
    r.send(f"1 LOGIN {USER} {PASSWORD}\r\n2 ENABLE UTF8=ACCEPT\r\n3 LIST \"\" \"*rger\"\r\n".encode())
    out = r.until(b"3")
    assert '* LIST (\\HasNoChildren) "/" "ärger"\r\n'.encode() in out
    r.close()
    m.logout()


def test_multiappend_examine_close(imap):
    r = Raw(imap.imaps_port, tls=True)
    # Before login: APPEND literals are refused without reading them as commands.
    r.send(b"0 APPEND INBOX {5}\r\n")
    assert r.line().startswith(b"0 BAD")
    r.send(f"1 LOGIN {USER} {PASSWORD}\r\n".encode())
    r.until(b"1")
    m1, m2 = msg(1), msg(2)
    r.send(b"2 APPEND INBOX (\\Deleted) {%d+}\r\n" % len(m1) + m1 +
           b" (\\Seen) \"01-Feb-2024 00:00:00 +0100\" {%d+}\r\n" % len(m2) + m2 + b"\r\n")
    out = r.until(b"2")
    assert re.match(rb"2 OK \[APPENDUID \d+ 1:2\]", out[-1])
    r.send(b"3 EXAMINE INBOX\r\n")
    out = r.until(b"3")
    assert b"* 2 EXISTS\r\n" in out and out[-1].startswith(b"3 OK [READ-ONLY]")
    assert b"* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n" in out
    r.send(b"4 STORE 1 +FLAGS (\\Flagged)\r\n5 EXPUNGE\r\n6 FETCH 1 BODY[]\r\n")
    assert r.until(b"4")[-1].startswith(b"4 NO [READ-ONLY]")
    assert r.until(b"5")[-1].startswith(b"5 NO [READ-ONLY]")
    out = r.until(b"6")
    assert b"\\Seen" not in out[0]                        # EXAMINE never sets \Seen
    r.send(b"7 SELECT INBOX\r\n")
    out = r.until(b"7")
    assert out[-1].startswith(b"7 OK [READ-WRITE]") and b"* OK [UNSEEN 1] First unseen\r\n" in out
    # CLOSE expunges \Deleted silently.
    r.send(b"8 CLOSE\r\n9 STATUS INBOX (MESSAGES UNSEEN DELETED)\r\n")
    out = r.until(b"8")
    assert out == [b"8 OK CLOSE completed\r\n"]
    out = r.until(b"9")
    assert out[0] == b"* STATUS INBOX (MESSAGES 1 UNSEEN 0 DELETED 0)\r\n"
    r.send(b"10 FETCH 1 FLAGS\r\n11 LOGOUT\r\n")
    assert r.until(b"10")[-1].startswith(b"10 BAD")
    out = r.until(b"11")
    assert out[0].startswith(b"* BYE") and out[-1] == b"11 OK LOGOUT completed\r\n"
    r.close()


def test_fetchmail_over_imap(imap, tmp_path):
    """A real client: fetchmail over IMAP with STARTTLS, fetching and then
    deleting (STORE \\Deleted + EXPUNGE) every message."""
    import os
    m = login(imap)
    sent = [msg(i) for i in range(4)]
    for data in sent:
        m.append("INBOX", None, None, data)
    m.logout()
    outdir = tmp_path / "out"
    outdir.mkdir()
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        f'poll 127.0.0.1 service {imap.imap_port} protocol imap\n'
        f'  user "{USER}" there with password "{PASSWORD}" is root here\n'
        f'  options fetchall nokeep sslproto "tls1.2+" no sslcertck\n'
        f'  mda "/bin/sh -c \'cat > {outdir}/msg.$$\'"\n')
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(tmp_path), FETCHMAILHOME=str(tmp_path))
    r = subprocess.run(["fetchmail", "-f", str(rc), "--nosyslog", "--nodetach", "-v",
                        "--idfile", str(tmp_path / "fetchids")],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "STARTTLS" in r.stdout + r.stderr
    got = sorted(p.read_bytes().replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
                 for p in outdir.iterdir())
    assert got == sorted(x.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1] for x in sent)
    m = login(imap)
    assert m.select("INBOX")[1] == [b"0"]
    m.logout()


def test_big_inline_literal(imap):
    r = Raw(imap.imaps_port, tls=True)
    r.send(f"1 LOGIN {USER} {PASSWORD}\r\n2 SELECT INBOX\r\n".encode())
    r.until(b"2")
    word = b"z" * 300000
    r.send(b"3 SEARCH TEXT {%d}\r\n" % len(word))
    assert r.line().startswith(b"+ ")
    t0 = time.monotonic()
    r.send(word + b"\r\n")
    out = r.until(b"3")
    print(f"300 KB literal: {time.monotonic() - t0:.2f}s")
    assert out == [b"* SEARCH\r\n", b"3 OK SEARCH completed\r\n"]
    r.close()


def test_multiappend_total_limit(imap):
    r = Raw(imap.imaps_port, tls=True)
    r.send(f"1 LOGIN {USER} {PASSWORD}\r\n".encode())
    r.until(b"1")
    part = b"Subject: x\r\n\r\n" + b"a" * (20 * 1024 * 1024)
    r.send(b"2 APPEND INBOX {%d}\r\n" % len(part))
    assert r.line().startswith(b"+ ")
    r.send(part + b" {%d}\r\n" % len(part))
    assert r.line().startswith(b"2 NO [TOOBIG]")    # 40 MB in all > APPENDLIMIT (30 MB)
    r.send(b"3 NOOP\r\n")
    assert r.line() == b"3 OK NOOP completed\r\n"
    r.send(b"4 STATUS INBOX (MESSAGES)\r\n")
    assert r.until(b"4")[0] == b"* STATUS INBOX (MESSAGES 0)\r\n"
    r.close()


# ---- curl's IMAP client (a third implementation besides imaplib and raw) ----

def curl(d, path, *args, user=USER):
    r = subprocess.run(["curl", "-sS", "--ssl-reqd", "-k", "--max-time", "20",
                        "--user", f"{user}:{PASSWORD}", *args,
                        f"imap://127.0.0.1:{d.imap_port}/{path}"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, f"curl {path} {args}: {r.stderr.decode(errors='replace')}"
    return r.stdout


def test_curl_list_examine_fetch_append(imap, tmp_path):
    m = login(imap)
    m.create("Projects/Cairn")
    first = msg(1)
    m.append("INBOX", None, None, first)
    m.append("INBOX", None, None, msg(2, body="second body\r\n"))
    m.logout()
    # LIST: curl sends LIST "" * for a URL without a mailbox.
    out = curl(imap, "")
    names = re.findall(rb'^\* LIST \([^)]*\) "/" "?([^"\r\n]+)"?\r$', out, re.M)
    assert {b"INBOX", b"Projects", b"Projects/Cairn", b"Sent", b"Trash"} <= set(names), out
    assert re.search(rb'^\* LIST \([^)]*\\Sent[^)]*\) "/" "?Sent', out, re.M), out
    # EXAMINE as a custom request: read-only, with the right counts.
    out = curl(imap, "INBOX", "-X", "EXAMINE INBOX")
    assert b"* 2 EXISTS" in out and b"[UIDVALIDITY " in out, out
    # FETCH of one message by UID and by index: the exact bytes come back.
    assert curl(imap, "INBOX/;UID=1") == first
    assert curl(imap, "INBOX/;MAILINDEX=2") == msg(2, body="second body\r\n")
    assert curl(imap, "INBOX/;UID=1/;SECTION=TEXT") == b"Body of message 1\r\nsecond line\r\n"
    # A custom FETCH shows the flags that curl's body fetch set.
    out = curl(imap, "INBOX", "-X", "FETCH 1:2 (UID FLAGS)")
    assert re.search(rb"\* 1 FETCH \(UID 1 FLAGS \([^)]*\\Seen", out), out
    # APPEND by upload; the file's bytes become the message.
    up = tmp_path / "up.eml"
    body = (b"From: Curl <curl@remote.test>\r\nTo: user@imap.test\r\nSubject: uploaded\r\n"
            b"\r\n" + b"line of an uploaded message\r\n" * 1000)
    up.write_bytes(body)
    curl(imap, "Projects/Cairn", "-T", str(up))
    m = login(imap)
    typ, data = m.select("Projects/Cairn")
    assert data == [b"1"]
    typ, resp = m.fetch("1", "(BODY.PEEK[] RFC822.SIZE)")
    assert resp[0][1] == body and b"RFC822.SIZE %d" % len(body) in resp[0][0]
    m.logout()
    # A wrong password is refused, and so is a mailbox that does not exist.
    r = subprocess.run(["curl", "-sS", "--ssl-reqd", "-k", "--user", f"{USER}:wrong",
                        f"imap://127.0.0.1:{imap.imap_port}/"], capture_output=True, timeout=60)
    assert r.returncode == 67    # CURLE_LOGIN_DENIED
    r = subprocess.run(["curl", "-sS", "--ssl-reqd", "-k", "--user", f"{USER}:{PASSWORD}",
                        f"imap://127.0.0.1:{imap.imap_port}/NoSuch/;UID=1"],
                       capture_output=True, timeout=60)
    assert r.returncode != 0


def test_utf8_append(imap):
    """RFC 6855 4: after ENABLE UTF8=ACCEPT, APPEND takes UTF8 (literal8) and
    stores the message, UTF-8 headers and all, byte for byte; before ENABLE it
    is refused."""
    msg = ("From: Jörg <jörg@example.test>\r\nTo: ann@example.test\r\n"
           "Subject: Grüße aus Köln\r\n\r\nÄrger über Umlaute.\r\n").encode()
    r = Raw(imap.imaps_port, tls=True)
    r.send(f"1 LOGIN {USER} {PASSWORD}\r\n".encode())
    r.until(b"1")
    r.send(b"2 APPEND INBOX UTF8 (~{%d+}\r\n" % len(msg) + msg + b")\r\n")
    assert r.until(b"2")[-1].startswith(b"2 BAD")
    r.send(b"3 ENABLE UTF8=ACCEPT\r\n")
    r.until(b"3")
    r.send(b"4 APPEND INBOX (\\Seen) UTF8 (~{%d+}\r\n" % len(msg) + msg + b")\r\n")
    reply = r.until(b"4")[-1]
    assert reply.startswith(b"4 OK [APPENDUID "), reply
    uid = int(reply.split()[4].rstrip(b"]"))
    r.send(b"5 SELECT INBOX\r\n")
    r.until(b"5")
    r.send(b"6 UID FETCH %d (BODY.PEEK[] FLAGS)\r\n" % uid)
    out = b"".join(r.until(b"6"))
    assert msg in out
    assert b"\\Seen" in out
    r.close()
