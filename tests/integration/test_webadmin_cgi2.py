"""cairn-admin.cgi's quarantine, scan policy and self-service Sieve pages, run
as CGI against a real PostgreSQL: CSRF, escaping of hostile input in every
field, who may see and act on what (a user his own messages and scripts, a
domain administrator his domains), and what each form changes in the store.
Also HEAD's Content-Length, the paged folder list and the TOTP throttle.
"""
import re
import shutil
import time
import urllib.parse

import pytest

from slapd_fixture import slapd  # noqa: F401  (fixture)
from test_webadmin_cgi import ATTACKS, totp
from webadmin_util import ADMIN, DOMADMIN, OTHER, USER, cgi, login, make_site


@pytest.fixture
def site(pg):
    s, base = make_site(pg)
    yield s
    s.drop()
    shutil.rmtree(base, ignore_errors=True)


def post(site, cookies, path, form, **kw):
    page = cgi(site, path=kw.pop("csrf_from", "/self"), cookies=cookies)
    form = dict(form)
    form.setdefault("csrf", page.csrf())
    return cgi(site, "POST", path, form=form, cookies=cookies, **kw)


def hold(site, account, subject="cheap pills", sender="spam@bad.test", body="buy now",
         reason="score 20.0 >= quarantine 10.0", html=None):
    """A quarantined message, as the scan stage stores one."""
    if html is None:
        raw = (f"Return-Path: <{sender}>\r\nFrom: {sender}\r\nTo: {account}\r\n"
               f"Subject: {subject}\r\n\r\n{body}\r\n")
    else:
        raw = (f"From: {sender}\r\nTo: {account}\r\nSubject: {subject}\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
               f"{html}\r\n")
    lit = raw.replace("\\", "\\\\").replace("'", "''").replace("\r", "\\r").replace("\n", "\\n")
    subj = subject.replace("'", "''")
    sender = sender.replace("'", "''")
    rsn = reason.replace("'", "''")
    return site.sql(
        "INSERT INTO scan_quarantine (account, envelope_from, client_ip, reason, score, tests,"
        f" subject, size, raw) VALUES ('{account}', '{sender}', '192.0.2.1', '{rsn}', 20.0,"
        f" 'BAYES_99', '{subj}', {len(raw)}, convert_to(E'{lit}', 'UTF8')) RETURNING id"
    ).splitlines()[0]


def test_head_has_the_get_length(site):
    c = login(site, USER)
    get = cgi(site, path="/self", cookies=c)
    head = cgi(site, "HEAD", "/self", cookies=c)
    assert head.status == 200 and head.body == ""
    assert int(head.headers["content-length"]) == len(get.body.encode()) > 1000


def test_quarantine_scopes(site):
    mine = hold(site, USER[0], subject="for ann")
    zed = hold(site, OTHER[0], subject="for zed")
    boss_own = hold(site, DOMADMIN[0], subject="for boss")
    user = login(site, USER)
    r = cgi(site, path="/quarantine", cookies=user)
    assert r.status == 200 and "for ann" in r.body
    assert "for zed" not in r.body and "for boss" not in r.body
    # Another user's message: as if it did not exist, for reading and acting.
    assert cgi(site, path="/quarantine/message", query="id=" + zed, cookies=user).status == 404
    for action in ("release", "delete"):
        assert post(site, user, "/quarantine", {"action": action, "id": zed}).status == 404
    assert site.sql(f"SELECT count(*) FROM scan_quarantine WHERE id = {zed}") == "1"
    # A domain administrator: his domain (corp.test) only.
    boss = login(site, DOMADMIN)
    r = cgi(site, path="/quarantine", cookies=boss)
    assert "for ann" in r.body and "for boss" in r.body and "for zed" not in r.body
    assert cgi(site, path="/quarantine/message", query="id=" + mine, cookies=boss).status == 200
    assert cgi(site, path="/quarantine/message", query="id=" + zed, cookies=boss).status == 404
    assert post(site, boss, "/quarantine", {"action": "delete", "id": zed}).status == 404
    # The administrator sees all.
    admin = login(site, ADMIN)
    r = cgi(site, path="/quarantine", cookies=admin)
    assert all(s in r.body for s in ("for ann", "for zed", "for boss"))
    # CSRF: without the token nothing happens.
    r = cgi(site, "POST", "/quarantine", form={"action": "delete", "id": boss_own}, cookies=admin)
    assert r.status == 403
    assert site.sql(f"SELECT count(*) FROM scan_quarantine WHERE id = {boss_own}") == "1"
    # The user releases his own: it is in his INBOX, out of the quarantine.
    r = post(site, user, "/quarantine", {"action": "release", "id": mine})
    assert r.status == 200 and "released into the INBOX" in r.body, r.body
    assert site.sql(f"SELECT count(*) FROM scan_quarantine WHERE id = {mine}") == "0"
    assert site.sql("SELECT count(*) FROM mailbox_messages mm JOIN mailboxes m"
                    " ON m.id = mm.mailbox_id JOIN accounts a ON a.id = m.account_id"
                    f" WHERE a.address = '{USER[0]}' AND m.name = 'INBOX'") == "1"
    # Released twice: the second finds nothing.
    assert post(site, user, "/quarantine", {"action": "release", "id": mine}).status == 404
    r = post(site, admin, "/quarantine", {"action": "delete", "id": zed})
    assert r.status == 200 and site.sql("SELECT count(*) FROM scan_quarantine"
                                        f" WHERE id = {zed}") == "0"
    actions = site.sql("SELECT string_agg(action, ',' ORDER BY id) FROM audit_log")
    assert "quarantine-release" in actions and "quarantine-delete" in actions


def test_quarantine_message_is_text_only_and_escaped(site):
    qid = hold(site, USER[0], subject=ATTACKS[0], sender="x@bad.test",
               html='<p>Hello <b>there</b></p><img src="http://track.test/p.gif">'
                    '<script>alert(3)</script><a href="javascript:alert(4)">click</a>')
    admin = login(site, ADMIN)
    r = cgi(site, path="/quarantine/message", query="id=" + qid, cookies=admin)
    assert r.status == 200
    body = re.search(r'<pre class="headers" id="body-text">(.*?)</pre>', r.body, re.S).group(1)
    assert "Hello" in body and "there" in body
    # No markup of the message reaches the page: not even escaped tags of
    # the HTML part (it is reduced to its text), and nothing is loaded.
    assert "<b>" not in body and "&lt;b&gt;" not in body
    assert "track.test" not in r.body.split('id="body-text"')[1].split("</pre>")[0] or \
        "<img" not in r.body
    assert "<script>alert" not in r.body and 'href="javascript:' not in r.body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.body
    r = cgi(site, path="/quarantine", cookies=admin)
    assert "<script>alert" not in r.body and "&lt;script&gt;alert(1)" in r.body


def test_quarantine_is_paged_searchable_and_sorted(site):
    for i in range(7):
        hold(site, USER[0], subject=f"offer {i}", sender=f"s{6 - i}@bad.test",
             reason="virus Eicar-Test" if i == 3 else "score")
    hold(site, OTHER[0], subject="zed's", sender="far@away.test")
    admin = login(site, ADMIN)
    r = cgi(site, path="/quarantine", cookies=admin)
    # Newest first, five a page.
    assert re.findall(r"<td>(offer \d|zed&#39;s|zed's)</td>", r.body)[:2] in \
        (["zed&#39;s", "offer 6"], ["zed's", "offer 6"])
    assert 'rel="next"' in r.body
    r = cgi(site, path="/quarantine", query="page=2", cookies=admin)
    assert re.findall(r"<td>(offer \d)</td>", r.body) == ["offer 2", "offer 1", "offer 0"]
    # Search: sender, recipient, subject, reason.
    for q, want in (("s0@bad", ["offer 6"]), ("eicar", ["offer 3"]), ("OFFER 5", ["offer 5"])):
        r = cgi(site, path="/quarantine", query="q=" + urllib.parse.quote(q), cookies=admin)
        assert re.findall(r"<td>(offer \d)</td>", r.body) == want, q
    r = cgi(site, path="/quarantine", query="q=" + urllib.parse.quote(OTHER[0]), cookies=admin)
    assert "far@away.test" in r.body and "offer" not in r.body
    r = cgi(site, path="/quarantine", query="q=offer&sort=from&dir=asc", cookies=admin)
    assert re.findall(r"<td>(offer \d)</td>", r.body)[:2] == ["offer 6", "offer 5"]
    r = cgi(site, path="/quarantine", query="q=offer&sort=subject&dir=asc", cookies=admin)
    assert re.findall(r"<td>(offer \d)</td>", r.body)[:2] == ["offer 0", "offer 1"]
    # An unknown sort is the default one, not an error.
    assert cgi(site, path="/quarantine", query="sort=x;drop", cookies=admin).status == 200


def test_scan_policy(site):
    admin = login(site, ADMIN)
    r = cgi(site, path="/scan", cookies=admin)
    assert r.status == 200
    # The effective cairn.conf settings, read-only.
    assert re.search(r"<code>reject_threshold</code></td><td><code>15.0</code>", r.body)
    assert re.search(r"<code>policy_db</code></td><td><code>yes</code>", r.body)
    r = post(site, admin, "/scan", {"action": "set", "target": "corp.test", "tag": "3",
                                    "junk": "4.5", "quarantine": "off", "reject": "",
                                    "virus": "quarantine", "enabled": "yes"})
    assert r.status == 200, r.body
    assert site.sql("SELECT enabled, tag_threshold, junk_threshold, quarantine_threshold,"
                    " reject_threshold IS NULL, virus_action FROM scan_policy"
                    " WHERE target = 'corp.test'") == "t|3|4.5|Infinity|t|quarantine"
    assert post(site, admin, "/scan", {"action": "set", "target": "corp.test",
                                       "tag": "lots"}).status == 400
    assert site.sql("SELECT tag_threshold FROM scan_policy") == "3"
    assert "A threshold is a score" in post(site, admin, "/scan", {
        "action": "set", "target": "corp.test", "tag": "nan"}).body
    # Domain administrators: their domains and their users only; no cairn.conf.
    boss = login(site, DOMADMIN)
    r = cgi(site, path="/scan", cookies=boss)
    assert r.status == 200 and "corp.test" in r.body and "reject_threshold" not in r.body
    r = post(site, boss, "/scan", {"action": "set", "target": "example.test", "tag": "1"})
    assert r.status == 403
    r = post(site, boss, "/scan", {"action": "set", "target": OTHER[0], "tag": "1"})
    assert r.status == 403
    r = post(site, boss, "/scan", {"action": "set", "target": USER[0], "junk": "2"})
    assert r.status == 200
    assert site.sql(f"SELECT junk_threshold FROM scan_policy WHERE target = '{USER[0]}'") == "2"
    post(site, admin, "/scan", {"action": "set", "target": "example.test", "tag": "9"})
    assert "example.test" not in cgi(site, path="/scan", cookies=boss).body.split("<tbody>")[1]
    # Users: no access.
    user = login(site, USER)
    assert cgi(site, path="/scan", cookies=user).status == 403
    assert post(site, user, "/scan", {"action": "delete", "target": USER[0]}).status == 403
    # CSRF.
    assert cgi(site, "POST", "/scan", form={"action": "delete", "target": "corp.test"},
               cookies=admin).status == 403
    r = post(site, admin, "/scan", {"action": "delete", "target": "corp.test"})
    assert site.sql("SELECT count(*) FROM scan_policy WHERE target = 'corp.test'") == "0"
    # Hostile targets are refused, never stored or echoed raw.
    for a in ATTACKS:
        r = post(site, admin, "/scan", {"action": "set", "target": a, "tag": "1"})
        assert "<script>alert" not in r.body and "<img src=x" not in r.body
    assert site.sql("SELECT count(*) FROM scan_policy") == "2"


def script_of(site, who, name="webadmin"):
    return site.sql("SELECT s.content FROM sieve_scripts s JOIN accounts a"
                    f" ON a.id = s.account_id WHERE a.address = '{who}' AND s.name = '{name}'")


def test_sieve_rules_generate_a_valid_active_script(site):
    user = login(site, USER)
    r = post(site, user, "/sieve", {"action": "vacation", "enabled": "on",
                                    "start": "2026-01-01", "end": "2099-12-31",
                                    "subject": 'Away "now"', "message": "Back soon.\nAnn",
                                    "days": "3", "addresses": "ann.other@corp.test"})
    assert r.status == 200 and "Saved" in r.body, r.body
    s = script_of(site, USER[0])
    assert 'currentdate :value "ge" "date" "2026-01-01"' in s
    assert 'currentdate :value "le" "date" "2099-12-31"' in s
    assert 'vacation :days 3 :subject "Away \\"now\\"" :addresses ["ann.other@corp.test"]' in s
    assert site.sql("SELECT s.name FROM sieve_scripts s WHERE s.active") == "webadmin"
    r = post(site, user, "/sieve", {"action": "forward", "to": "ann@elsewhere.test", "keep": "on"})
    assert 'redirect :copy "ann@elsewhere.test";' in script_of(site, USER[0])
    r = post(site, user, "/sieve", {"action": "add-rule", "field": "subject", "op": "contains",
                                    "value": "[list]", "then": "fileinto", "folder": "Lists",
                                    "stop": "on"})
    assert r.status == 200, r.body
    r = post(site, user, "/sieve", {"action": "add-rule", "field": "size", "op": "over",
                                    "value": "5M", "then": "discard"})
    s = script_of(site, USER[0])
    assert 'if header :contains "subject" "[list]" {\n  fileinto :create "Lists";\n  stop;\n}' in s
    assert "if size :over 5M {\n  discard;\n}" in s
    # The form reads back what it wrote.
    r = cgi(site, path="/sieve", cookies=user)
    assert 'value="2099-12-31"' in r.body and "Back soon.\nAnn</textarea>" in r.body
    assert 'value="ann@elsewhere.test"' in r.body and "[list]" in r.body
    # The stored script compiles as ManageSieve would check it.
    path = site.dir / "gen.sieve"
    path.write_text(s)
    site.ctl("sieve", "check", str(path))
    # Delete a rule; bad input is refused without touching the script.
    post(site, user, "/sieve", {"action": "delete-rule", "index": "0"})
    assert "[list]" not in script_of(site, USER[0])
    before = script_of(site, USER[0])
    for form in ({"action": "add-rule", "field": "size", "op": "over", "value": "5 M",
                  "then": "discard"},
                 {"action": "add-rule", "field": "body", "op": "contains", "value": "x",
                  "then": "keep"},
                 {"action": "forward", "to": "not an address"},
                 {"action": "vacation", "enabled": "on", "start": "2026-13-01", "message": "x",
                  "days": "1"}):
        assert post(site, user, "/sieve", form).status == 400, form
    assert script_of(site, USER[0]) == before


def test_sieve_generated_script_includes_the_users_own(site):
    user = login(site, USER)
    r = post(site, user, "/sieve/edit", {"action": "save", "name": "mine",
                                         "content": 'require "fileinto";\nfileinto "Old";\n'},
             csrf_from="/sieve/edit")
    assert r.status == 200 and "saved" in r.body
    post(site, user, "/sieve/edit", {"action": "activate", "name": "mine"},
         csrf_from="/sieve/edit")
    assert site.sql("SELECT name FROM sieve_scripts WHERE active") == "mine"
    post(site, user, "/sieve", {"action": "forward", "to": "x@corp.test"})
    assert site.sql("SELECT name FROM sieve_scripts WHERE active") == "webadmin"
    assert 'include :personal :optional "mine";' in script_of(site, USER[0])


def test_sieve_raw_editor_never_saves_an_invalid_script(site):
    user = login(site, USER)
    bad = 'require "fileinto";\nif header :contains "subject" "x" {\n  fileinto "A"\n}\n'
    r = post(site, user, "/sieve/edit", {"action": "save", "name": "broken", "content": bad},
             csrf_from="/sieve/edit")
    assert r.status == 422
    err = re.search(r'<pre class="error" id="compile-errors">(.*?)</pre>', r.body, re.S).group(1)
    assert re.search(r"line \d+ column \d+", err), err
    # The text typed stays in the editor; nothing was stored.
    assert "fileinto &quot;A&quot;" in r.body or 'fileinto "A"' in r.body
    assert site.sql("SELECT count(*) FROM sieve_scripts") == "0"
    r = post(site, user, "/sieve/edit", {"action": "save", "name": "good",
                                         "content": 'keep;\n'}, csrf_from="/sieve/edit")
    assert r.status == 200 and script_of(site, USER[0], "good") == "keep;"
    # Hostile names and contents: escaped on the way back.
    for a in ATTACKS:
        r = post(site, user, "/sieve/edit", {"action": "save", "name": "x", "content": a},
                 csrf_from="/sieve/edit")
        assert "<script>alert" not in r.body and "<img src=x" not in r.body
        assert "<svg onload" not in r.body
        r = post(site, user, "/sieve", {"action": "add-rule", "field": "subject",
                                        "op": "contains", "value": a, "then": "fileinto",
                                        "folder": a})
        assert r.status == 200, r.body
        assert "<script>alert" not in r.body and "<img src=x" not in r.body
        assert "<svg onload" not in r.body
    r = post(site, user, "/sieve", {"action": "vacation", "enabled": "on", "subject": ATTACKS[1],
                                    "message": ATTACKS[0], "days": "1",
                                    "addresses": ATTACKS[2]})
    for page in (r.body, cgi(site, path="/sieve", cookies=user).body,
                 cgi(site, path="/sieve/edit", query="name=webadmin", cookies=user).body):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "<svg onload" not in page
    # CSRF.
    r = cgi(site, "POST", "/sieve/edit", form={"action": "delete", "name": "good"}, cookies=user)
    assert r.status == 403
    r = cgi(site, "POST", "/sieve", form={"action": "forward", "to": "a@b.test"}, cookies=user)
    assert r.status == 403
    assert "a@b.test" not in script_of(site, USER[0])


def test_sieve_scripts_are_the_users_own(site):
    user = login(site, USER)
    post(site, user, "/sieve/edit", {"action": "save", "name": "secret",
                                     "content": 'redirect "spy@corp.test";\n'},
         csrf_from="/sieve/edit")
    other = login(site, OTHER)
    # Script names are per account: zed sees and edits only his own.
    assert cgi(site, path="/sieve/edit", query="name=secret", cookies=other).status == 404
    assert "spy@corp.test" not in cgi(site, path="/sieve", cookies=other).body
    r = post(site, other, "/sieve/edit", {"action": "delete", "name": "secret"},
             csrf_from="/sieve/edit")
    assert site.sql("SELECT count(*) FROM sieve_scripts WHERE name = 'secret'") == "1"
    r = post(site, other, "/sieve/edit", {"action": "save", "name": "secret",
                                          "content": "keep;\n"}, csrf_from="/sieve/edit")
    assert script_of(site, USER[0], "secret") == 'redirect "spy@corp.test";'
    assert script_of(site, OTHER[0], "secret") == "keep;"
    # An administrator's session edits his own scripts too, not others'.
    admin = login(site, ADMIN)
    assert cgi(site, path="/sieve/edit", query="name=secret", cookies=admin).status == 404


def test_folders_list_is_paged(site):
    admin = login(site, ADMIN)
    post(site, admin, "/folders", {"action": "create", "name": "Big"})
    for i in range(7):
        post(site, admin, "/folders", {"action": "set", "mailbox": "Shared/Big",
                                       "identifier": f"u{i}@example.test", "rights": "lr"})
    r = cgi(site, path="/folders", cookies=admin)
    assert len(re.findall(r"<td>u\d@example.test</td>", r.body)) == 5 and 'rel="next"' in r.body
    r = cgi(site, path="/folders", query="page=2", cookies=admin)
    assert len(re.findall(r"<td>u\d@example.test</td>", r.body)) == 2
    assert 'rel="next"' not in r.body and 'rel="prev"' in r.body


def test_totp_failures_are_throttled_like_passwords(site):
    c = login(site, USER)
    r = post(site, c, "/self/totp", {"action": "begin"})
    secret = re.search(r'id="totp-secret">([A-Z2-7]{32})<', r.body).group(1)
    step = int(time.time()) // 30
    post(site, c, "/self/totp", {"action": "confirm", "code": totp(secret, step)})
    site.sql("UPDATE totp_secrets SET last_step = 0")

    def try_login(code):
        p = cgi(site, path="/login")
        tok = re.search(r'name="login_token" value="([0-9a-f]+)"', p.body).group(1)
        return cgi(site, "POST", "/login", form={"login_token": tok, "user": USER[0],
                                                 "password": USER[1], "code": code},
                   cookies={"cairn_pre": p.cookie("cairn_pre")})
    wrong = "000000" if totp(secret, step) != "000000" else "111111"
    # The right password with a wrong code: a failure in the shared counter,
    # not wiped by the right password of the next attempt.
    for n in (1, 2):
        assert try_login(wrong).status == 403
        assert site.sql("SELECT coalesce(max(failures), 0) FROM auth_failures"
                        " WHERE kind = 'account'") == str(n)
    # Past [directory] auth_max_failures the account is locked for this
    # network, even with the right code (as IMAP would be).
    site.sql("UPDATE auth_failures SET locked_until = now() + interval '1 hour'"
             " WHERE kind = 'account'")
    r = try_login(totp(secret, step + 1))
    assert r.status == 429 and r.cookie("cairn_sid") is None
    site.sql("DELETE FROM auth_failures")
    r = try_login(totp(secret, step + 1))
    assert r.status == 303
    assert site.sql("SELECT count(*) FROM auth_failures WHERE kind = 'account'"
                    " AND failures > 0") == "0"


def test_app_password_of_an_ldap_user_works_over_imap(pg, cairnd_factory, slapd):  # noqa: F811
    """An LDAP account's password is the directory's (checked by binding as
    the user); an app password made in the web admin is kept hashed in
    PostgreSQL and must work over IMAP too."""
    import imaplib
    import types
    from webadmin_util import TEMPLATES
    pg.reset_db()
    d = cairnd_factory({"directory": slapd.directory_config()})
    ann, ann_pw = "ann@example.test", "Ann-Secret-1"

    def imap_login(password):
        imap = imaplib.IMAP4("127.0.0.1", d.imap_port)
        imap.starttls()
        try:
            return imap.login(ann, password)[0]
        finally:
            try:
                imap.logout()
            except Exception:
                pass

    # The first login provisions the account from the directory.
    assert imap_login(ann_pw) == "OK"
    site = types.SimpleNamespace(conf=d.conf)
    env = {"CAIRN_WEBADMIN_TEMPLATES": str(TEMPLATES)}

    def call(*a, **kw):
        return cgi(site, *a, env_extra=env, **kw)

    r = call(path="/login")
    tok = re.search(r'name="login_token" value="([0-9a-f]+)"', r.body).group(1)
    r = call("POST", "/login", form={"login_token": tok, "user": ann, "password": ann_pw},
             cookies={"cairn_pre": r.cookie("cairn_pre")})
    assert r.status == 303, r.body
    c = {"cairn_sid": r.cookie("cairn_sid")}
    page = call(path="/self", cookies=c)
    assert "kept in the company directory" in page.body
    r = call("POST", "/self/apps", form={"csrf": page.csrf(), "action": "create",
                                         "name": "phone"}, cookies=c)
    pw = re.search(r'id="new-app-password">([a-z0-9-]+)<', r.body).group(1)
    assert imap_login(pw) == "OK"
    assert pg.psql("cairn", "SELECT last_used IS NOT NULL FROM app_passwords").strip() == "t"
    # The directory password still works; a wrong one does not.
    assert imap_login(ann_pw) == "OK"
    with pytest.raises(imaplib.IMAP4.error):
        imap_login("not-" + pw)
    # Revoked: refused.
    app_id = re.search(r'name="id" value="(\d+)"', call(path="/self", cookies=c).body).group(1)
    call("POST", "/self/apps", form={"csrf": page.csrf(), "action": "revoke", "id": app_id},
         cookies=c)
    with pytest.raises(imaplib.IMAP4.error):
        imap_login(pw)


def test_reflected_input_of_the_new_pages_is_escaped(site):
    hold(site, USER[0], subject="plain")
    admin = login(site, ADMIN)
    user = login(site, USER)
    for a in ATTACKS:
        q = urllib.parse.quote(a)
        pages = [cgi(site, path="/quarantine", query=f"q={q}&sort={q}&dir={q}", cookies=c).body
                 for c in (admin, user)]
        pages.append(post(site, admin, "/scan", {"action": "set", "target": "corp.test",
                                                 "tag": a, "junk": a, "quarantine": a,
                                                 "reject": a, "virus": a, "enabled": a}).body)
        pages.append(post(site, admin, "/quarantine", {"action": a, "id": a}).body)
        pages.append(post(site, user, "/sieve/edit", {"action": a, "name": a, "content": a},
                          csrf_from="/sieve/edit").body)
        pages.append(post(site, user, "/sieve", {"action": a}).body)
        pages.append(cgi(site, path="/sieve/edit", query="name=" + q, cookies=user).body)
        for body in pages:
            assert "<script>alert" not in body and "<img src=x" not in body
            assert "<svg onload" not in body and 'href="javascript:' not in body
    r = cgi(site, path="/quarantine", query="q=%22%3E%3Cb%3E", cookies=admin)
    assert 'value="&quot;&gt;&lt;b&gt;"' in r.body
    assert site.sql("SELECT count(*) FROM scan_policy") == "0"
