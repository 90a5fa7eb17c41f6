"""Sieve at delivery (issue 16) against a real cairnd and PostgreSQL: a
user's active script (uploaded with cairnctl sieve) acting on mail that
arrives over SMTP, LMTP and submission - fileinto with :create and flags,
discard, reject (per recipient in LMTP, a 5xx or a DSN in SMTP), redirect
through the queue with SRS, loop detection and the daily cap, vacation
replies (RFC 3834 headers, once per sender, never to lists, bulk mail, <>
or the user himself, and once across two cairnd nodes on one database),
global scripts and a broken script that must not lose mail."""
import smtplib
import threading

import pytest

from sieve_util import (PASSWORD, ctl, mailbox_messages, message, queued, sql)

HOST = "mx.sieve.test"


def start(cairnd_factory, pg, extra=None, n=1):
    pg.reset_db()
    config = {"server": {"hostname": HOST},
              "sieve": {"srs_secret": "s3cret", "srs_domain": "srs.sieve.test",
                        "redirects_per_day": "3"}}
    for k, v in (extra or {}).items():
        config.setdefault(k, {}).update(v)
    nodes = [cairnd_factory(config, migrate=(i == 0)) for i in range(n)]
    d = nodes[0]
    ctl(d, "domain", "add", "sieve.test")
    for u in ("ann", "bob"):
        ctl(d, "user", "add", f"{u}@sieve.test", "--password", PASSWORD)
    return nodes if n > 1 else d


@pytest.fixture
def mx(cairnd_factory, pg):
    return start(cairnd_factory, pg)


def put(d, script, user="ann@sieve.test", name="main"):
    ctl(d, "sieve", "put", "--user", user, "--activate", "yes", name, "-", input=script)


def smtp_send(d, frm, rcpts, data, port=None):
    with smtplib.SMTP("127.0.0.1", port or d.smtp_port, timeout=20) as s:
        s.ehlo("client.remote.test")
        return s.sendmail(frm, rcpts, data)


def lmtp_send(d, frm, rcpts, data):
    s = smtplib.LMTP("127.0.0.1", d.lmtp_port, timeout=20)
    try:
        s.ehlo("client.remote.test")
        s.mail(frm)
        for r in rcpts:
            s.rcpt(r)
        s.putcmd("data")
        code, _ = s.getreply()
        assert code == 354
        s.send(smtplib.quotedata(data.decode()).encode() + b"\r\n.\r\n")
        return [s.getreply() for _ in rcpts]
    finally:
        s.close()


def test_fileinto_flags_and_create(mx):
    put(mx, 'require ["fileinto", "imap4flags", "mailbox"];\r\n'
            'if header :contains "subject" "[list]" {\r\n'
            '  fileinto :create :flags ["\\\\Seen", "$Listed"] "Lists/Dev";\r\n'
            '} elsif header :contains "subject" "nocreate" {\r\n'
            '  fileinto "Missing";\r\n'
            '} elsif header :contains "subject" "junk" {\r\n'
            '  discard;\r\n'
            '}\r\n')
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"], message("[list] weekly"))
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"], message("nocreate"))
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"], message("junk offer"))
    smtp_send(mx, "s@remote.test", ["ann@sieve.test", "bob@sieve.test"], message("plain"))
    lists = mailbox_messages(mx, "ann@sieve.test", "Lists/Dev")
    assert len(lists) == 1
    flags, kw, raw = lists[0]
    assert flags & 1 and kw == ["$Listed"]
    assert raw.startswith(b"Return-Path: <s@remote.test>\r\n")
    inbox = [r for _, _, r in mailbox_messages(mx, "ann@sieve.test", "INBOX")]
    # fileinto a missing mailbox without :create falls back to INBOX.
    assert [b"Subject: nocreate" in r for r in inbox] == [True, False]
    assert b"Subject: plain" in inbox[1]
    assert not any(b"junk offer" in r for r in inbox)
    # bob has no script: plain delivery.
    assert len(mailbox_messages(mx, "bob@sieve.test", "INBOX")) == 1


def test_reject_lmtp_smtp(mx):
    put(mx, 'require ["reject"];\r\nif header :contains "subject" "spam" {\r\n'
            '  reject "No spam here";\r\n}\r\n')
    # LMTP: per recipient (ann refuses, bob takes it).
    replies = lmtp_send(mx, "s@remote.test", ["ann@sieve.test", "bob@sieve.test"],
                        message("spam spam"))
    assert replies[0][0] // 100 == 5 and b"No spam here" in replies[0][1]
    assert replies[1][0] == 250
    assert len(mailbox_messages(mx, "bob@sieve.test", "INBOX")) == 1
    assert mailbox_messages(mx, "ann@sieve.test", "INBOX") == []
    # SMTP with only the refusing recipient: 5xx at end of data.
    with pytest.raises(smtplib.SMTPDataError) as e:
        smtp_send(mx, "s@remote.test", ["ann@sieve.test"], message("spam again"))
    assert e.value.smtp_code // 100 == 5 and b"No spam here" in e.value.smtp_error
    # SMTP with a second recipient: accepted, and a DSN goes to the sender.
    smtp_send(mx, "s@remote.test", ["ann@sieve.test", "bob@sieve.test"], message("spam 3"))
    q = queued(mx)
    assert len(q) == 1
    frm, rcpts, raw = q[0]
    assert frm == "" and rcpts == ["s@remote.test"]
    assert b"multipart/report" in raw and b"5.7.1" in raw and b"No spam here" in raw
    assert mailbox_messages(mx, "ann@sieve.test", "INBOX") == []
    assert len(mailbox_messages(mx, "bob@sieve.test", "INBOX")) == 2


def test_redirect_srs_loop_and_cap(mx):
    put(mx, 'redirect "friend@elsewhere.test";\r\n')
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"], message("fwd 1"))
    q = queued(mx)
    assert len(q) == 1
    frm, rcpts, raw = q[0]
    assert rcpts == ["friend@elsewhere.test"]
    assert frm.startswith("SRS0=") and frm.endswith("=remote.test=s@srs.sieve.test"), frm
    assert raw.startswith(b"X-Cairn-Loop: ann@sieve.test\r\n")
    assert mailbox_messages(mx, "ann@sieve.test", "INBOX") == []
    # A bounce to the SRS address goes back to the original sender.
    smtp_send(mx, "", [frm], message("bounce", frm="mailer-daemon@elsewhere.test"))
    assert queued(mx)[-1][1] == ["s@remote.test"]
    # A forged SRS address is refused at RCPT.
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp_send(mx, "", ["SRS0=AAAA=AA=remote.test=s@srs.sieve.test"], message("x"))
    # A message that already went through ann's redirect is a loop: kept.
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"],
              b"X-Cairn-Loop: ann@sieve.test\r\n" + message("looped"))
    assert len(mailbox_messages(mx, "ann@sieve.test", "INBOX")) == 1
    # The daily cap (3): the 4th redirect is dropped and the message kept.
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"], message("fwd 2"))
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"], message("fwd 3"))
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"], message("fwd 4"))
    redirected = [q for q in queued(mx) if q[1] == ["friend@elsewhere.test"]]
    assert len(redirected) == 3
    inbox = mailbox_messages(mx, "ann@sieve.test", "INBOX")
    assert len(inbox) == 2 and b"fwd 4" in inbox[1][2]
    # Redirect to self is refused and keeps.
    put(mx, 'redirect "ann@sieve.test";\r\n')
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"], message("self"))
    assert len(mailbox_messages(mx, "ann@sieve.test", "INBOX")) == 3


VACATION = ('require ["vacation"];\r\nvacation :days 1 :subject "Away"\r\n'
            ' :addresses ["ann@sieve.test"] "I am away until Monday.";\r\n')


def test_vacation(mx):
    put(mx, VACATION)
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"], message("hi", msgid="<orig1@remote.test>"))
    q = queued(mx)
    assert len(q) == 1
    frm, rcpts, raw = q[0]
    assert frm == "" and rcpts == ["s@remote.test"]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"Auto-Submitted: auto-replied" in head
    assert b"In-Reply-To: <orig1@remote.test>" in head
    assert b"Subject: Away" in head
    assert b"I am away until Monday." in raw
    # The message itself is kept.
    assert len(mailbox_messages(mx, "ann@sieve.test", "INBOX")) == 1
    # Once per sender per period.
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"], message("again"))
    assert len(queued(mx)) == 1
    # Never to <>, lists, bulk, auto-submitted mail, or ann herself.
    smtp_send(mx, "", ["ann@sieve.test"], message("bounce", frm="mailer-daemon@remote.test"))
    smtp_send(mx, "l@remote.test", ["ann@sieve.test"],
              message("list", frm="l@remote.test", extra="List-Id: <dev.remote.test>\r\n"))
    smtp_send(mx, "b@remote.test", ["ann@sieve.test"],
              message("bulk", frm="b@remote.test", extra="Precedence: bulk\r\n"))
    smtp_send(mx, "a@remote.test", ["ann@sieve.test"],
              message("auto", frm="a@remote.test", extra="Auto-Submitted: auto-replied\r\n"))
    smtp_send(mx, "ann@sieve.test", ["ann@sieve.test"], message("self", frm="ann@sieve.test"))
    assert len(queued(mx)) == 1
    # Another sender is answered.
    smtp_send(mx, "t@remote.test", ["ann@sieve.test"], message("hello", frm="t@remote.test"))
    assert [q[1] for q in queued(mx)] == [["s@remote.test"], ["t@remote.test"]]


def test_vacation_two_nodes_answer_once(cairnd_factory, pg):
    a, b = start(cairnd_factory, pg, n=2)
    put(a, VACATION)
    errors = []

    def send(node, i):
        try:
            smtp_send(node, "racer@remote.test", ["ann@sieve.test"], message(f"race {i}"))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=send, args=((a, b)[i % 2], i)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(mailbox_messages(a, "ann@sieve.test", "INBOX")) == 8
    assert [q[1] for q in queued(a)] == [["racer@remote.test"]]


def test_submission_and_lmtp_paths(mx):
    put(mx, 'require ["fileinto"];\r\nfileinto :copy "Archive";\r\n'.replace(":copy ", ""),
        user="bob@sieve.test")
    with smtplib.SMTP("127.0.0.1", mx.submission_port, timeout=20) as s:
        s.starttls(context=__import__("sieve_util").tls_ctx())
        s.login("ann@sieve.test", PASSWORD)
        s.sendmail("ann@sieve.test", ["bob@sieve.test"], message("via submission",
                                                                 frm="ann@sieve.test",
                                                                 to="bob@sieve.test"))
    assert len(mailbox_messages(mx, "bob@sieve.test", "Archive")) == 1
    lmtp_send(mx, "s@remote.test", ["bob@sieve.test"], message("via lmtp", to="bob@sieve.test"))
    assert len(mailbox_messages(mx, "bob@sieve.test", "Archive")) == 2


def test_broken_script_keeps_and_global_scripts(cairnd_factory, pg):
    # Readable by the daemon after it drops privileges (not under pytest's 0700 tmp).
    import tempfile
    import pathlib
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="cairn-sieve-"))
    before = tmp / "before.sieve"
    before.write_text('require ["fileinto", "imap4flags"];\r\n'
                      'if header :contains "subject" "GLOBAL" { addflag "\\\\Flagged"; }\r\n')
    import os
    os.chmod(tmp, 0o755)
    os.chmod(before, 0o644)
    d = start(cairnd_factory, pg, {"sieve": {"global_before": str(before)}})
    # A stored script that no longer compiles (written behind the checks).
    sql(d, "INSERT INTO sieve_scripts (account_id, name, content, size, active)"
           " SELECT id, 'broken', 'if true {', 9, true FROM accounts"
           " WHERE address = 'ann@sieve.test'")
    smtp_send(d, "s@remote.test", ["ann@sieve.test"], message("GLOBAL flag"))
    inbox = mailbox_messages(d, "ann@sieve.test", "INBOX")
    assert len(inbox) == 1 and inbox[0][0] & 4
    assert "event=compile-failed" in d.log_text()


def test_queue_sends_vacation_signed_and_redirect_srs(cairnd_factory, pg):
    """The queue really sends them: the vacation reply from <> with a DKIM
    signature of the user's domain that verifies, the redirect with the SRS
    envelope sender and X-Cairn-Loop:."""
    import re

    import dkim

    from sieve_util import wait_for
    from test_queue import Sink
    sink = Sink()
    try:
        routes = {"remote.test": f"127.0.0.1:{sink.port}",
                  "elsewhere.test": f"127.0.0.1:{sink.port}"}
        d = start(cairnd_factory, pg, {"queue": {"runners": "1", "poll_interval": "200ms",
                                                 "retry_min": "1s"},
                                       "routes": routes})
        out = ctl(d, "dkim", "keygen", "sieve.test", "--selector", "s1", "--algorithm",
                  "ed25519-sha256").stdout
        txt = "".join(re.findall(r'"([^"]*)"', out))
        put(d, 'require ["vacation", "copy"];\r\nredirect :copy "friend@elsewhere.test";\r\n'
               'vacation :days 3 "Back soon.";\r\n')
        smtp_send(d, "s@remote.test", ["ann@sieve.test"], message("ping"))
        wait_for(lambda: len(sink.files()) == 2, 30, "the vacation reply and the redirect")
        msgs = sink.messages()
        vac = next(m for m in msgs if b"X-Rcpt-Args: <s@remote.test>" in m)
        fwd = next(m for m in msgs if b"X-Rcpt-Args: <friend@elsewhere.test>" in m)
        assert b"X-Mail-Args: <>" in vac
        assert b"Auto-Submitted: auto-replied" in vac and b"Back soon." in vac
        signed = vac.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        signed = signed[signed.index(b"DKIM-Signature:"):]
        assert dkim.DKIM(signed).verify(
            dnsfunc=lambda name, timeout=5: txt.encode()
            if (name.decode() if isinstance(name, bytes) else name).rstrip(".") ==
            "s1._domainkey.sieve.test" else b"")
        assert re.search(rb"X-Mail-Args: <SRS0=[^=]{4}=[A-Z2-7]{2}=remote.test=s@srs.sieve.test>",
                         fwd), fwd[:400]
        assert b"X-Cairn-Loop: ann@sieve.test" in fwd
        assert len(mailbox_messages(d, "ann@sieve.test", "INBOX")) == 1
    finally:
        sink.close()


def test_editheader_and_duplicate(mx):
    """editheader changes are what is stored; duplicate (RFC 7352) is
    remembered in PostgreSQL across deliveries."""
    put(mx, 'require ["editheader", "duplicate", "fileinto", "mailbox"];\r\n'
            'if duplicate { fileinto :create "Dups"; stop; }\r\n'
            'addheader "X-Sorted-By" "cairn sieve";\r\n'
            'deleteheader "X-Secret";\r\n')
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"],
              message("first", msgid="<same@remote.test>", extra="X-Secret: 42\r\n"))
    smtp_send(mx, "s@remote.test", ["ann@sieve.test"],
              message("second", msgid="<same@remote.test>"))
    inbox = mailbox_messages(mx, "ann@sieve.test", "INBOX")
    assert len(inbox) == 1
    raw = inbox[0][2]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert raw.startswith(b"Return-Path: <s@remote.test>\r\n")
    assert b"X-Sorted-By: cairn sieve" in head and b"X-Secret" not in head
    assert raw.endswith(b"Hello there.\r\n")
    dups = mailbox_messages(mx, "ann@sieve.test", "Dups")
    assert len(dups) == 1 and b"Subject: second" in dups[0][2]


def test_include_personal_and_global(cairnd_factory, pg):
    """include (RFC 6609): :personal from the user's stored scripts,
    :global from [sieve] global_dir; a missing non-optional one is a
    runtime error that keeps the message."""
    import os
    import pathlib
    import tempfile
    gdir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-sieve-global-"))
    os.chmod(gdir, 0o755)
    (gdir / "lists.sieve").write_text('require ["fileinto", "mailbox"];\r\n'
                                      'if exists "list-id" { fileinto :create "Lists"; }\r\n')
    os.chmod(gdir / "lists.sieve", 0o644)
    d = start(cairnd_factory, pg, {"sieve": {"global_dir": str(gdir)}})
    put(d, 'require ["fileinto", "mailbox", "imap4flags"];\r\n'
           'if header :contains "subject" "boss" { fileinto :create :flags "\\\\Flagged" "Boss"; }\r\n',
        name="boss")
    put(d, 'require ["include"];\r\ninclude :personal "boss";\r\ninclude :global "lists";\r\n'
           'include :optional "nothere";\r\n', name="main")
    smtp_send(d, "s@remote.test", ["ann@sieve.test"], message("from the boss"))
    smtp_send(d, "s@remote.test", ["ann@sieve.test"],
              message("list mail", extra="List-Id: <dev.remote.test>\r\n"))
    smtp_send(d, "s@remote.test", ["ann@sieve.test"], message("plain"))
    boss = mailbox_messages(d, "ann@sieve.test", "Boss")
    assert len(boss) == 1 and boss[0][0] & 4
    assert len(mailbox_messages(d, "ann@sieve.test", "Lists")) == 1
    assert len(mailbox_messages(d, "ann@sieve.test", "INBOX")) == 1
    # A missing script is refused at activation; an included script
    # deleted later is a runtime error that keeps the message.
    put(d, "keep;\r\n", name="missing")
    put(d, 'require ["include"];\r\ninclude :personal "missing";\r\n', name="main")
    r = ctl(d, "sieve", "put", "--user", "ann@sieve.test", "--activate", "yes", "other", "-",
            input='require ["include"];\r\ninclude :personal "nothere";\r\n', check=False)
    assert r.returncode != 0 and 'include: script "nothere" not found' in r.stderr, r.stderr
    ctl(d, "sieve", "delete", "--user", "ann@sieve.test", "missing")
    smtp_send(d, "s@remote.test", ["ann@sieve.test"], message("kept"))
    assert len(mailbox_messages(d, "ann@sieve.test", "INBOX")) == 2
    assert "event=runtime-error" in d.log_text()


def test_spamtest_sees_the_scan_verdict(cairnd_factory, pg):
    """RFC 5235: spamtest gets the scan stage's score (1 = clean ... 10 =
    certainly spam, measured against the reject threshold), and 0 when the
    message was not scanned (submission is not scanned by default)."""
    import pathlib
    import shutil
    import tempfile
    rules = pathlib.Path(tempfile.mkdtemp(prefix="rules-"))   # cairnd's user must read it
    rules.chmod(0o755)
    (rules / "50_local.cf").write_text("header LOCAL_SPAMMY Subject =~ /spammyword/\n"
                                        "score LOCAL_SPAMMY 9.0\n")
    from conftest import TOP
    d = start(cairnd_factory, pg, {
        "rules": {"dir": str(TOP / "rules"), "local_dir": str(rules)},
        "scan": {"smtp": "yes", "spf": "no", "dkim": "no", "dmarc": "no", "arc": "no",
                 "tag_threshold": "5", "junk_threshold": "off", "reject_threshold": "10"}})
    put(d, 'require ["spamtest", "fileinto", "mailbox", "relational", "comparator-i;ascii-numeric"];\r\n'
           'if spamtest :value "ge" :comparator "i;ascii-numeric" "7" {\r\n'
           '  fileinto :create "High";\r\n'
           '} elsif spamtest :value "eq" :comparator "i;ascii-numeric" "0" {\r\n'
           '  fileinto :create "Untested";\r\n'
           '} elsif spamtest :value "le" :comparator "i;ascii-numeric" "2" {\r\n'
           '  fileinto :create "Low";\r\n'
           '}\r\n')
    smtp_send(d, "s@remote.test", ["ann@sieve.test"], message("a spammyword offer"))
    smtp_send(d, "s@remote.test", ["ann@sieve.test"], message("minutes of the meeting"))
    assert len(mailbox_messages(d, "ann@sieve.test", "High")) == 1
    assert len(mailbox_messages(d, "ann@sieve.test", "Low")) == 1
    assert mailbox_messages(d, "ann@sieve.test", "Untested") == []
    shutil.rmtree(rules)


def test_bounce_to_local_sender_runs_its_script(cairnd_factory, pg):
    """The DSN the queue writes for a local sender is a local delivery too
    (issue 16): the sender's script files it, and a redirect of it keeps
    the null sender (no loop of mail to <>)."""
    import test_queue
    from sieve_util import wait_for
    srv = test_queue.FakeSMTP(rcpt=lambda addr, n: b"550 5.1.1 <%s>: no such user\r\n"
                              % addr.encode())
    sink = test_queue.Sink()
    try:
        d = test_queue.start(cairnd_factory, pg, {"bounce.test": f"127.0.0.1:{srv.port}",
                                                  "watch.test": f"127.0.0.1:{sink.port}"})
        put(d, 'require ["fileinto", "mailbox", "copy"];\r\n'
               'if header :contains "content-type" "multipart/report" {\r\n'
               '  redirect :copy "watch@watch.test";\r\n'
               '  fileinto :create "Bounces";\r\n}\r\n', user="ann@local.test")
        test_queue.submit(d, ["nobody@bounce.test"],
                          test_queue.message("will bounce", "sb-1@local.test"))
        wait_for(lambda: mailbox_messages(d, "ann@local.test", "Bounces"), 30, "the bounce")
        [(_, _, raw)] = mailbox_messages(d, "ann@local.test", "Bounces")
        assert raw.startswith(b"Return-Path: <>\r\n"), raw[:200]
        assert b"multipart/report" in raw and b"nobody@bounce.test" in raw
        assert mailbox_messages(d, "ann@local.test", "INBOX") == []
        wait_for(lambda: len(sink.files()) == 1, 30, "the redirected bounce")
        [fwd] = sink.messages()
        assert b"X-Mail-Args: <>" in fwd and b"multipart/report" in fwd, fwd[:400]
        assert b"X-Rcpt-Args: <watch@watch.test>" in fwd
        # A script that fails keeps the DSN in INBOX (written behind the checks).
        sql(d, "UPDATE sieve_scripts SET content = 'if true {', size = 9"
               " WHERE name = 'main'")
        test_queue.submit(d, ["nobody2@bounce.test"],
                          test_queue.message("will bounce too", "sb-2@local.test"))
        wait_for(lambda: mailbox_messages(d, "ann@local.test", "INBOX"), 30, "the 2nd bounce")
        [(_, _, raw)] = mailbox_messages(d, "ann@local.test", "INBOX")
        assert raw.startswith(b"Return-Path: <>\r\n") and b"nobody2@bounce.test" in raw
        assert len(mailbox_messages(d, "ann@local.test", "Bounces")) == 1
        assert "event=compile-failed" in d.log_text()
    finally:
        srv.close()
        sink.close()
