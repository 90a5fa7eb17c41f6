"""The web admin's quarantine, scan policy and mail rules pages in a real
browser (Debian's chromium with playwright-core, browser/webadmin-pages2.cjs)
against lighttpd running cairn-admin.cgi on the configuration of a real
cairnd, so that what the pages do is checked where it matters: the released
message is in the user's INBOX over IMAP, a test mail gets the out-of-office
reply (sent by the queue to an SMTP sink), a message matching the filter rule
lands in its folder, and the app password logs in over IMAP. Screenshots of
every new page go to the test's output directory (kept under
$CAIRN_WEBADMIN_SHOTS when set), as in test_webadmin_browser.py.
"""
import imaplib
import json
import os
import pathlib
import shutil
import smtplib
import subprocess
import tempfile
import types

from conftest import CAIRNCTL
from sieve_util import wait_for
from test_queue import Sink
from test_webadmin_browser import BROWSER_DIR, PW_CORE, PW_DIR
from test_webadmin_cgi2 import hold
from webadmin_util import ADMIN, TEMPLATES, USER, Lighttpd

SENDER = "friend@remote.test"


def imap(d, user, password):
    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    m.starttls()
    m.login(user, password)
    return m


def subjects(m, mailbox):
    typ, _ = m.select(mailbox, readonly=True)
    assert typ == "OK", mailbox
    _, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    return [part[1].decode().strip() for part in data if isinstance(part, tuple)]


def test_webadmin_pages2_in_chromium(pg, cairnd_factory, tmp_path):
    assert PW_CORE.is_dir(), (f"playwright-core is not installed in {PW_DIR}: run "
                              "`npm ci --no-audit --no-fund` there (./bootstrap test does)")
    pg.reset_db()
    sink = Sink()
    httpd = None
    base = pathlib.Path(tempfile.mkdtemp(prefix="cairn-webadmin2-"))
    os.chmod(base, 0o755)
    out = pathlib.Path(os.environ.get("CAIRN_WEBADMIN_SHOTS") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    try:
        d = cairnd_factory({"webadmin": {"templates": str(TEMPLATES)},
                            "queue": {"runners": "1", "poll_interval": "200ms",
                                      "retry_min": "1s"},
                            "routes": {"remote.test": f"127.0.0.1:{sink.port}"}})
        # The CGI runs as lighttpd's user: give it a readable copy of the
        # daemon's configuration (pytest's tmp_path is 0700).
        conf = base / "cairn.conf"
        shutil.copy(d.conf, conf)
        os.chmod(conf, 0o644)
        site = types.SimpleNamespace(conf=conf)

        def ctl(*args):
            subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], check=True,
                           capture_output=True, input="", text=True)
        for dom in ("example.test", "corp.test"):
            ctl("domain", "add", dom)
        for addr, pw in (ADMIN, USER):
            ctl("user", "add", addr, "--password", pw)
        ctl("user", "set", ADMIN[0], "--admin", "yes")
        site.sql = lambda q: pg.psql("cairn", q).strip()
        qid = hold(site, USER[0], subject="Cheap watches", sender="promo@shop.test",
                   html="<p>Real <b>bargains</b></p><img src=\"http://track.test/t.gif\">")
        uqid = hold(site, USER[0], subject="Still held", sender="other@shop.test")
        httpd = Lighttpd(site, base / "httpd")
        env = dict(os.environ, BASE=httpd.url, OUT=str(out), PLAYWRIGHT_CORE=str(PW_CORE),
                   ADMIN=json.dumps(ADMIN), USER_ACCOUNT=json.dumps(USER), QID=qid, UQID=uqid,
                   CHROMIUM="/usr/bin/chromium", HOME=str(tmp_path))
        r = subprocess.run(["node", str(BROWSER_DIR / "webadmin-pages2.cjs")], env=env,
                           capture_output=True, text=True, timeout=150)
        results = json.loads((out / "results.json").read_text())
        print(f"screenshots in {out}: {len(results['shots'])}")
        assert r.returncode == 0 and "error" not in results, \
            (results.get("error"), r.stderr[-3000:], httpd.log.read_text()[-3000:])
        assert "xss" not in results and "pageerror" not in results, results
        assert "external" not in results, results
        assert len(results["shots"]) >= 9

        # The released message is in the INBOX, over IMAP; the other is held.
        m = imap(d, *USER)
        assert subjects(m, "INBOX") == ["Subject: Cheap watches"]
        m.logout()
        assert pg.psql("cairn", "SELECT id FROM scan_quarantine").strip() == uqid
        assert pg.psql("cairn", "SELECT junk_threshold, virus_action FROM scan_policy"
                                " WHERE target = 'corp.test'").strip() == "3.5|quarantine"

        # Out of office: a test mail gets the reply, through the queue to the sink.
        with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=20) as s:
            s.sendmail(SENDER, [USER[0]],
                       f"From: {SENDER}\r\nTo: {USER[0]}\r\nSubject: are you there?\r\n"
                       "Message-ID: <q1@remote.test>\r\n\r\nHello.\r\n")
            # The filter rule: subject contains [list] -> Lists.
            s.sendmail("list@remote.test", [USER[0]],
                       f"From: list@remote.test\r\nTo: {USER[0]}\r\n"
                       "Subject: [list] weekly digest\r\nPrecedence: list\r\n"
                       "List-Id: <dev.remote.test>\r\n\r\nNews.\r\n")
        wait_for(lambda: len(sink.files()) >= 1, 30, "the out-of-office reply at the sink")
        reply = sink.messages()[0]
        head = reply.split(b"\r\n\r\n", 1)[0]
        assert b"X-Rcpt-Args: <" + SENDER.encode() + b">" in reply
        assert b"Subject: Out until Monday" in head and b"Auto-Submitted: auto-replied" in head
        assert b"In-Reply-To: <q1@remote.test>" in head
        assert b"I am away; I will answer on Monday." in reply
        # The list mail (never answered by vacation) is filed; the other kept.
        m = imap(d, *USER)
        assert subjects(m, "Lists") == ["Subject: [list] weekly digest"]
        assert subjects(m, "INBOX") == ["Subject: Cheap watches", "Subject: are you there?"]
        m.logout()
        assert len(sink.files()) == 1

        # The app password made in the browser logs in over IMAP.
        m = imap(d, USER[0], results["app_password"])
        assert m.select("INBOX")[0] == "OK"
        m.logout()
    finally:
        if httpd is not None:
            httpd.stop()
        sink.close()
        shutil.rmtree(base, ignore_errors=True)
