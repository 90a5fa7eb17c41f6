"""cairn-admin.cgi run as CGI (environment and stdin, as a web server runs it)
against a real PostgreSQL: security headers and cookies, login with a new
session id, server-side logout and expiry, CSRF and origin checks, request
bounds, roles (admin, domain admin, user) and every page's changes as seen
in the database, escaping of hostile input, and paging.
"""
import re
import urllib.parse
import shutil

import pytest

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


def test_security_headers_and_cookies(site):
    r = cgi(site, path="/login")
    assert r.status == 200
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert "default-src 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    pre = r.cookies[0]
    assert "HttpOnly" in pre and "SameSite=Strict" in pre and "Secure" not in pre
    # Over HTTPS: the __Host- prefix, Secure, and HSTS.
    r = cgi(site, path="/login", env_extra={"HTTPS": "on"})
    assert r.cookies[0].startswith("__Host-cairn_pre=")
    assert "Secure" in r.cookies[0] and "Path=/" in r.cookies[0]
    assert "strict-transport-security" in r.headers


def test_login_failure_is_audited_and_gives_no_session(site):
    r = cgi(site, path="/login")
    tok = re.search(r'name="login_token" value="([0-9a-f]+)"', r.body).group(1)
    pre = r.cookie("cairn_pre")
    r = cgi(site, "POST", "/login", form={"login_token": tok, "user": USER[0],
                                          "password": "wrong"}, cookies={"cairn_pre": pre})
    assert r.status == 403 and "Wrong address or password" in r.body
    assert r.cookie("cairn_sid") is None
    assert site.sql("SELECT count(*) FROM web_sessions") == "0"
    assert site.sql("SELECT action FROM audit_log") == "login-failed"
    # The shared throttle counted it, as for IMAP or POP3.
    assert int(site.sql("SELECT coalesce(sum(failures), 0) FROM auth_failures")) >= 1
    # Without the pre-login cookie (a login CSRF): refused.
    r = cgi(site, "POST", "/login", form={"login_token": tok, "user": USER[0],
                                          "password": USER[1]})
    assert r.status == 403


def test_session_id_is_new_at_login_and_hashed(site):
    attacker = "a" * 32
    r = cgi(site, path="/login", cookies={"cairn_sid": attacker})
    tok = re.search(r'name="login_token" value="([0-9a-f]+)"', r.body).group(1)
    r = cgi(site, "POST", "/login", form={"login_token": tok, "user": USER[0],
                                          "password": USER[1]},
            cookies={"cairn_sid": attacker, "cairn_pre": r.cookie("cairn_pre")})
    assert r.status == 303
    sid = r.cookie("cairn_sid")
    assert sid != attacker and re.fullmatch("[0-9a-f]{32}", sid)
    # Only the hash is stored.
    stored = site.sql("SELECT id_hash FROM web_sessions")
    assert sid not in stored and len(stored) == 64
    assert cgi(site, path="/self", cookies={"cairn_sid": attacker}).status == 303
    assert cgi(site, path="/self", cookies={"cairn_sid": sid}).status == 200


def test_logout_is_server_side_and_expiry_ends_sessions(site):
    c = login(site, USER)
    r = post(site, c, "/logout", {})
    assert r.status == 303 and r.headers["location"].endswith("/login")
    assert site.sql("SELECT count(*) FROM web_sessions") == "0"
    # The old cookie, replayed, is worthless.
    r = cgi(site, path="/self", cookies=c)
    assert r.status == 303 and r.headers["location"].endswith("/login")
    c = login(site, USER)
    site.sql("UPDATE web_sessions SET expires_at = now() - interval '1 second'")
    assert cgi(site, path="/self", cookies=c).status == 303
    # A disabled account's session ends at once.
    c = login(site, USER)
    site.ctl("user", "set", USER[0], "--enabled", "no")
    assert cgi(site, path="/self", cookies=c).status == 303


def test_csrf_and_origin_checks(site):
    c = login(site, ADMIN)
    form = {"action": "add", "name": "csrf.test"}
    # No token, a wrong token, another origin, no origin at all: all refused.
    assert cgi(site, "POST", "/domains", form=form, cookies=c).status == 403
    assert cgi(site, "POST", "/domains", form=dict(form, csrf="0" * 32), cookies=c).status == 403
    tok = cgi(site, path="/domains", cookies=c).csrf()
    r = cgi(site, "POST", "/domains", form=dict(form, csrf=tok), cookies=c,
            headers={"Origin": "http://evil.test"})
    assert r.status == 403
    r = cgi(site, "POST", "/domains", form=dict(form, csrf=tok), cookies=c,
            env_extra={"HTTP_ORIGIN": None})
    assert r.status == 403
    r = cgi(site, "POST", "/domains", form=dict(form, csrf=tok), cookies=c,
            env_extra={"HTTP_ORIGIN": None, "HTTP_REFERER": "http://admin.test.evil.test/x"})
    assert r.status == 403
    assert site.sql("SELECT count(*) FROM domains WHERE name = 'csrf.test'") == "0"
    # Same origin by Referer (no Origin header) with the token: accepted.
    r = cgi(site, "POST", "/domains", form=dict(form, csrf=tok), cookies=c,
            env_extra={"HTTP_ORIGIN": None, "HTTP_REFERER": "http://admin.test/domains"})
    assert r.status == 200, r.body
    assert site.sql("SELECT count(*) FROM domains WHERE name = 'csrf.test'") == "1"
    # Another user's token does not work with this session.
    other = login(site, USER)
    tok_other = cgi(site, path="/self", cookies=other).csrf()
    assert tok_other != tok
    r = cgi(site, "POST", "/domains", form=dict(form, name="x.test", csrf=tok_other), cookies=c)
    assert r.status == 403


def test_request_bounds(site):
    c = login(site, ADMIN)
    tok = cgi(site, path="/self", cookies=c).csrf()
    big = b"csrf=" + tok.encode() + b"&x=" + b"a" * (2 * 1024 * 1024)
    assert cgi(site, "POST", "/domains", body=big, cookies=c).status == 413
    r = cgi(site, "POST", "/domains", body=b"csrf=" + tok.encode(), cookies=c,
            env_extra={"CONTENT_LENGTH": None})
    assert r.status == 411
    r = cgi(site, "POST", "/domains", body=b"{}", cookies=c, content_type="application/json")
    assert r.status == 415
    r = cgi(site, "POST", "/domains", body=b"csrf=" + tok.encode() + b"&name=%ff", cookies=c)
    assert r.status == 400
    # A body shorter than its Content-Length.
    r = cgi(site, "POST", "/domains", body=b"csrf=" + tok.encode(), cookies=c,
            env_extra={"CONTENT_LENGTH": "500"})
    assert r.status == 400
    assert cgi(site, path="/users", query="q=%zz", cookies=c).status == 400
    assert cgi(site, "DELETE", "/users", cookies=c).status == 405
    assert cgi(site, path="/../etc/passwd", cookies=c).status == 404
    assert cgi(site, path="/nosuch", cookies=c).status == 404
    # httpoxy: a Proxy header is ignored (the page works; nothing is proxied).
    assert cgi(site, path="/users", cookies=c, headers={"Proxy": "http://127.0.0.1:9"}).status == 200
    # multipart/form-data is accepted like a urlencoded form.
    body = (f"--b0\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{tok}\r\n"
            "--b0\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nadd\r\n"
            "--b0\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nmulti.test\r\n"
            "--b0--\r\n").encode()
    r = cgi(site, "POST", "/domains", body=body, cookies=c,
            content_type="multipart/form-data; boundary=b0")
    assert r.status == 200, r.body
    assert site.sql("SELECT count(*) FROM domains WHERE name = 'multi.test'") == "1"


def test_roles(site):
    user = login(site, USER)
    for path in ("/users", "/domains", "/queue", "/dkim", "/audit", "/folders", "/aliases"):
        assert cgi(site, path=path, cookies=user).status == 403, path
    assert cgi(site, path="/", cookies=user).headers["location"].endswith("/self")
    r = post(site, user, "/users", {"action": "create", "address": "x@corp.test",
                                    "password": "password-x"})
    assert r.status == 403
    # A domain admin: his domain only.
    boss = login(site, DOMADMIN)
    r = cgi(site, path="/users", cookies=boss)
    assert USER[0] in r.body and ADMIN[0] not in r.body and OTHER[0] not in r.body
    assert cgi(site, path="/user", query="a=" + ADMIN[0], cookies=boss).status == 403
    assert cgi(site, path="/user", query="a=" + USER[0], cookies=boss).status == 200
    for form in ({"action": "create", "address": "evil@example.test", "password": "password-x"},
                 {"action": "admin", "address": DOMADMIN[0]},
                 {"action": "password", "address": ADMIN[0], "password": "hijacked-1"},
                 {"action": "domain-admin", "address": DOMADMIN[0], "domain": "example.test"}):
        r = post(site, boss, "/user", form)
        assert r.status == 403, (form, r.body)
    assert post(site, boss, "/domains", {"action": "add", "name": "mine.test"}).status == 403
    assert post(site, boss, "/aliases", {"action": "add", "alias": "x@example.test",
                                         "target": USER[0]}).status == 403
    assert post(site, boss, "/groups", {"action": "add", "group": "g@example.test"}).status == 403
    for path in ("/queue", "/dkim", "/audit", "/folders"):
        assert cgi(site, path=path, cookies=boss).status == 403
    assert site.sql("SELECT count(*) FROM accounts WHERE address = 'evil@example.test'") == "0"
    assert site.sql(f"SELECT is_admin FROM accounts WHERE address = '{DOMADMIN[0]}'") == "f"
    r = post(site, boss, "/users", {"action": "create", "address": "new@corp.test",
                                    "password": "password-new", "name": "New"})
    assert r.status == 200, r.body
    assert site.sql("SELECT source FROM accounts WHERE address = 'new@corp.test'") == "local"
    # The menu shows what the role may use.
    assert "/queue" not in r.body and "/users" in r.body


def test_domain_admin_cannot_escalate(site):
    site.ctl("user", "add", "root@corp.test", "--password", "root-password-1")
    site.ctl("user", "set", "root@corp.test", "--admin", "yes")
    site.ctl("user", "add", "peer@corp.test", "--password", "peer-password-1")
    site.sql("INSERT INTO domain_admins SELECT a.id, d.id FROM accounts a, domains d"
             " WHERE a.address = 'peer@corp.test' AND d.name IN ('corp.test', 'other.test')")
    boss = login(site, DOMADMIN)
    # Accounts in his domain that hold more rights than he does are out of reach.
    for target in ("root@corp.test", "peer@corp.test"):
        for form in ({"action": "password", "password": "taken-over-1"},
                     {"action": "disable"}, {"action": "delete"}, {"action": "quota", "quota": "1"}):
            r = post(site, boss, "/user", dict(form, address=target))
            assert r.status == 403, (target, form)
    assert site.sql("SELECT count(*) FROM accounts WHERE address IN ('root@corp.test',"
                    " 'peer@corp.test') AND enabled") == "2"
    # The administrators' group (cairn-admins@ his domain) is not his to make.
    r = post(site, boss, "/groups", {"action": "add", "group": "cairn-admins@corp.test"})
    assert r.status == 403
    r = post(site, boss, "/aliases", {"action": "add", "alias": "cairn-admins@corp.test",
                                      "target": DOMADMIN[0]})
    assert r.status == 403
    assert site.sql("SELECT count(*) FROM groups") == "0"
    assert site.sql("SELECT count(*) FROM aliases") == "0"
    # Made by an administrator, it does make administrators.
    admin = login(site, ADMIN)
    post(site, admin, "/groups", {"action": "add", "group": "cairn-admins@corp.test"})
    post(site, admin, "/groups", {"action": "member-add", "group": "cairn-admins@corp.test",
                                  "member": USER[0]})
    user = login(site, USER)
    r = cgi(site, path="/queue", cookies=user)
    assert r.status == 200 and "(administrator)" in r.body


def test_admin_changes_reach_the_store(site):
    c = login(site, ADMIN)
    r = post(site, c, "/domains", {"action": "add", "name": "New.Test"})
    assert r.status == 200 and "new.test" in r.body
    r = post(site, c, "/users", {"action": "create", "address": "bob@new.test",
                                 "password": "bob-password", "name": "Bob", "quota": "10M"})
    assert r.status == 200, r.body
    assert site.sql("SELECT quota_bytes, password_hash LIKE '$y$%' FROM accounts"
                    " WHERE address = 'bob@new.test'") == "10485760|t"
    post(site, c, "/user", {"action": "quota", "address": "bob@new.test", "quota": "1G"})
    assert site.sql("SELECT quota_bytes FROM accounts WHERE address = 'bob@new.test'") == \
        str(1 << 30)
    post(site, c, "/user", {"action": "disable", "address": "bob@new.test"})
    assert site.sql("SELECT enabled FROM accounts WHERE address = 'bob@new.test'") == "f"
    post(site, c, "/user", {"action": "enable", "address": "bob@new.test"})
    old = site.sql("SELECT password_hash FROM accounts WHERE address = 'bob@new.test'")
    post(site, c, "/user", {"action": "password", "address": "bob@new.test",
                            "password": "new-bob-password"})
    assert site.sql("SELECT password_hash FROM accounts WHERE address = 'bob@new.test'") != old
    login(site, ("bob@new.test", "new-bob-password"))
    r = post(site, c, "/aliases", {"action": "add", "alias": "info@new.test",
                                   "target": "bob@new.test"})
    assert r.status == 200 and "info@new.test" in r.body
    assert site.sql("SELECT t.target FROM aliases a JOIN alias_targets t ON t.alias_id = a.id"
                    " WHERE a.address = 'info@new.test'") == "bob@new.test"
    post(site, c, "/groups", {"action": "add", "group": "team@new.test", "name": "Team"})
    post(site, c, "/groups", {"action": "member-add", "group": "team@new.test",
                              "member": "bob@new.test"})
    r = cgi(site, path="/group", query="a=team%40new.test", cookies=c)
    assert "bob@new.test" in r.body
    post(site, c, "/user", {"action": "domain-admin", "address": "bob@new.test",
                            "domain": "new.test"})
    assert site.sql("SELECT count(*) FROM domain_admins da JOIN accounts a"
                    " ON a.id = da.account_id WHERE a.address = 'bob@new.test'") == "1"
    r = post(site, c, "/aliases", {"action": "delete", "alias": "info@new.test",
                                   "target": "bob@new.test"})
    assert site.sql("SELECT count(*) FROM aliases WHERE address = 'info@new.test'") == "0"
    r = post(site, c, "/user", {"action": "delete", "address": "bob@new.test"})
    assert site.sql("SELECT count(*) FROM accounts WHERE address = 'bob@new.test'") == "0"
    # Who did what, when and from where.
    r = cgi(site, path="/audit", query="q=bob", cookies=c)
    assert "user-delete" in r.body and "127.0.0.1" in r.body and 'rel="next"' in r.body
    r = cgi(site, path="/audit", query="q=user-add", cookies=c)
    assert "bob@new.test" in r.body
    actions = site.sql("SELECT string_agg(action, ',' ORDER BY id) FROM audit_log"
                       " WHERE actor = 'admin@example.test'")
    for a in ("domain-add", "user-add", "user-quota", "user-disable", "user-password-reset",
              "alias-add", "group-add", "group-member-add", "domain-admin-add", "user-delete"):
        assert a in actions, a


def test_dkim_and_folders(site):
    c = login(site, ADMIN)
    r = post(site, c, "/dkim", {"action": "generate", "domain": "example.test",
                                "selector": "s1", "algorithm": "ed25519"})
    assert r.status == 200, r.body
    assert re.search(r"s1\._domainkey\.example\.test\. IN TXT \( &quot;v=DKIM1; k=ed25519; p=[A-Za-z0-9+/=]+&quot; \)", r.body), r.body
    post(site, c, "/dkim", {"action": "deactivate", "domain": "example.test", "selector": "s1"})
    assert site.sql("SELECT active FROM dkim_keys") == "f"
    post(site, c, "/dkim", {"action": "delete", "domain": "example.test", "selector": "s1"})
    assert site.sql("SELECT count(*) FROM dkim_keys") == "0"
    r = post(site, c, "/folders", {"action": "create", "name": "Sales"})
    assert "Shared/Sales" in r.body
    r = post(site, c, "/folders", {"action": "set", "mailbox": "Shared/Sales",
                                   "identifier": USER[0], "rights": "lrs"})
    assert r.status == 200, r.body
    assert site.sql("SELECT identifier || ' ' || rights FROM mailbox_acl") == USER[0] + " lrs"
    r = post(site, c, "/folders", {"action": "set", "mailbox": "Shared/Sales",
                                   "identifier": USER[0], "rights": "+w"})
    assert site.sql("SELECT rights FROM mailbox_acl") == "lrsw"
    r = post(site, c, "/folders", {"action": "set", "mailbox": "Shared/Nope",
                                   "identifier": USER[0], "rights": "lr"})
    assert r.status == 404
    r = post(site, c, "/folders", {"action": "set", "mailbox": "Shared/Sales",
                                   "identifier": "bad id!", "rights": "lr"})
    assert r.status == 400
    post(site, c, "/folders", {"action": "delete", "mailbox": "Shared/Sales",
                               "identifier": USER[0]})
    assert site.sql("SELECT count(*) FROM mailbox_acl") == "0"


def queue_message(site, rcpt="far@remote.test"):
    raw = "From: ann@corp.test\r\nTo: " + rcpt + "\r\nSubject: <b>queued</b>\r\n\r\nbody\r\n"
    blob = site.sql(
        "INSERT INTO message_blobs (sha256, size, lines, raw, envelope, bodystructure, body, fts)"
        f" VALUES (sha256(convert_to('{raw}' || random()::text, 'UTF8')), {len(raw)}, 4,"
        f" convert_to(E'{raw.replace(chr(13), chr(92) + 'r').replace(chr(10), chr(92) + 'n')}',"
        " 'UTF8'), '', '', '', ''::tsvector) RETURNING id").splitlines()[0]
    mid = site.sql(f"INSERT INTO queue_messages (blob_id, envelope_from, size) VALUES ({blob},"
                   f" 'ann@corp.test', {len(raw)}) RETURNING id").splitlines()[0]
    site.sql(f"INSERT INTO queue_recipients (message_id, address, state, next_attempt)"
             f" VALUES ({mid}, '{rcpt}', 'deferred', now() + interval '1 hour')")
    return mid


def test_queue_and_dashboard(site):
    c = login(site, ADMIN)
    mid = queue_message(site)
    r = cgi(site, path="/", cookies=c)
    assert r.status == 200
    assert '<dd id="queue-messages">1</dd>' in r.body
    assert "<svg" in r.body and "1 in</title>" in r.body and "1 out</title>" in r.body
    assert '<dd id="logins">1</dd>' in r.body
    # The web admin's own connection at least (cairnd nodes when they run).
    assert re.search(r'<tbody id="nodes">\s*<tr><td>local socket</td><td>\d+</td>', r.body)
    r = cgi(site, path="/queue", cookies=c)
    assert "far@remote.test (deferred)" in r.body
    r = cgi(site, path="/queue/message", query="id=" + mid, cookies=c)
    pre = re.search(r'<pre class="headers">(.*?)</pre>', r.body, re.S).group(1)
    assert "Subject: &lt;b&gt;queued&lt;/b&gt;" in pre and "body" not in pre
    post(site, c, "/queue", {"action": "retry", "id": mid})
    assert site.sql(f"SELECT next_attempt <= now() FROM queue_recipients WHERE message_id = {mid}") == "t"
    post(site, c, "/queue", {"action": "drop", "id": mid})
    assert site.sql("SELECT count(*) FROM queue_messages") == "0"
    assert cgi(site, path="/queue/message", query="id=" + mid, cookies=c).status == 404


def test_self_service_password_and_app_passwords(site):
    c = login(site, USER)
    other = login(site, USER)
    r = post(site, c, "/self/password", {"current": "wrong", "new": "new-pass-1",
                                         "again": "new-pass-1"})
    assert r.status == 403
    r = post(site, c, "/self/password", {"current": USER[1], "new": "new-pass-1",
                                         "again": "new-pass-2"})
    assert r.status == 400
    r = post(site, c, "/self/password", {"current": USER[1], "new": "new-pass-1",
                                         "again": "new-pass-1"})
    assert r.status == 200 and "Password changed" in r.body
    # The other session ended; this one lives on.
    assert cgi(site, path="/self", cookies=other).status == 303
    assert cgi(site, path="/self", cookies=c).status == 200
    login(site, (USER[0], "new-pass-1"))
    r = post(site, c, "/self/apps", {"action": "create", "name": "phone"})
    pw = re.search(r'id="new-app-password">([a-z0-9-]+)<', r.body).group(1)
    assert len(pw) == 23
    stored = site.sql("SELECT password_hash FROM app_passwords")
    assert stored.startswith("$y$") and pw not in stored
    # Shown once: not on the next visit.
    assert pw not in cgi(site, path="/self", cookies=c).body
    assert post(site, c, "/self/apps", {"action": "create", "name": "phone"}).status == 409
    app_id = site.sql("SELECT id FROM app_passwords")
    # Another user cannot revoke it.
    z = login(site, OTHER)
    assert post(site, z, "/self/apps", {"action": "revoke", "id": app_id}).status == 404
    post(site, c, "/self/apps", {"action": "revoke", "id": app_id})
    assert site.sql("SELECT count(*) FROM app_passwords") == "0"


ATTACKS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>',
           "'><svg onload=alert(1)>", "javascript:alert(1)", "{{csrf}}"]


def test_stored_and_reflected_xss_is_escaped(site):
    c = login(site, ADMIN)
    for i, a in enumerate(ATTACKS):
        post(site, c, "/users", {"action": "create", "address": f"x{i}@example.test",
                                 "password": "password-x", "name": a})
        post(site, c, "/groups", {"action": "add", "group": f"g{i}@example.test", "name": a})
    post(site, c, "/self/apps", {"action": "create", "name": ATTACKS[1]})
    pages = [cgi(site, path=p, cookies=c).body for p in ("/users", "/groups", "/self", "/audit")]
    pages.append(cgi(site, path="/user", query="a=x1%40example.test", cookies=c).body)
    for a in ATTACKS:
        q = "q=" + __import__("urllib.parse").parse.quote(a)
        pages.append(cgi(site, path="/users", query=q, cookies=c).body)
        pages.append(cgi(site, path="/audit", query=q, cookies=c).body)
    for body in pages:
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "<svg onload" not in body and 'href="javascript:' not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    # Template syntax in data stays text: values are never templates.
    assert "<td>{{csrf}}</td>" in pages[1]
    # Reflected in an attribute and a URL: escaped for each.
    r = cgi(site, path="/users", query="q=%22%3E%3Cb%3E", cookies=c)
    assert 'value="&quot;&gt;&lt;b&gt;"' in r.body


def test_lists_are_paged_searchable_and_sorted(site):
    for i in range(12):
        site.ctl("user", "add", f"p{i:02d}@other.test", "--password", "password-p",
                 "--name", f"Name {11 - i:02d}")
    c = login(site, ADMIN)
    r = cgi(site, path="/users", query="q=other.test", cookies=c)
    rows = re.findall(r'/user\?a=(p\d\d)%40other.test', r.body)
    assert rows == ["p00", "p01", "p02", "p03", "p04"] and 'rel="next"' in r.body
    r = cgi(site, path="/users", query="q=other.test&page=3", cookies=c)
    assert re.findall(r'/user\?a=(p\d\d)%40other.test', r.body) == ["p10", "p11"]
    assert 'rel="next"' not in r.body and 'rel="prev"' in r.body
    r = cgi(site, path="/users", query="q=other.test&sort=name", cookies=c)
    assert re.findall(r'/user\?a=(p\d\d)%40other.test', r.body)[:2] == ["p11", "p10"]
    r = cgi(site, path="/users", query="q=other.test&dir=desc", cookies=c)
    assert re.findall(r'/user\?a=(p\d\d)%40other.test', r.body)[0] == "p11"
    # LIKE wildcards are literal.
    r = cgi(site, path="/users", query="q=p_1", cookies=c)
    assert "p01@other.test" not in r.body


def test_app_password_logs_in_over_imap_but_not_on_the_web(pg, cairnd_factory):
    import imaplib
    import types
    from conftest import CAIRNCTL
    from webadmin_util import TEMPLATES
    import subprocess
    pg.reset_db()
    d = cairnd_factory()
    for args in (("domain", "add", "corp.test"),
                 ("user", "add", USER[0], "--password", USER[1])):
        subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], check=True, capture_output=True,
                       input="", text=True)
    site = types.SimpleNamespace(conf=d.conf)
    env = {"CAIRN_WEBADMIN_TEMPLATES": str(TEMPLATES)}

    def call(*a, **kw):
        return cgi(site, *a, env_extra=env, **kw)

    r = call(path="/login")
    tok = re.search(r'name="login_token" value="([0-9a-f]+)"', r.body).group(1)
    pre = {"cairn_pre": r.cookie("cairn_pre")}
    r = call("POST", "/login", form={"login_token": tok, "user": USER[0], "password": USER[1]},
             cookies=pre)
    c = {"cairn_sid": r.cookie("cairn_sid")}
    tok2 = call(path="/self", cookies=c).csrf()
    r = call("POST", "/self/apps", form={"csrf": tok2, "action": "create", "name": "mail"},
             cookies=c)
    pw = re.search(r'id="new-app-password">([a-z0-9-]+)<', r.body).group(1)

    imap = imaplib.IMAP4("127.0.0.1", d.imap_port)
    imap.starttls()
    assert imap.login(USER[0], pw)[0] == "OK"
    imap.logout()
    # The account's own password still works too.
    imap = imaplib.IMAP4("127.0.0.1", d.imap_port)
    imap.starttls()
    assert imap.login(USER[0], USER[1])[0] == "OK"
    imap.logout()
    r = call("POST", "/login", form={"login_token": tok, "user": USER[0], "password": pw},
             cookies=pre)
    assert r.status == 403 and "App passwords work in mail" in r.body
    app_id = re.search(r'name="id" value="(\d+)"', call(path="/self", cookies=c).body).group(1)
    call("POST", "/self/apps", form={"csrf": tok2, "action": "revoke", "id": app_id}, cookies=c)
    imap = imaplib.IMAP4("127.0.0.1", d.imap_port)
    imap.starttls()
    with pytest.raises(imaplib.IMAP4.error):
        imap.login(USER[0], pw)


def test_fastcgi_under_lighttpd(site):
    """The same binary as a FastCGI responder: one process serves a login
    and several pages, with a session that carries across requests."""
    import http.cookiejar
    import os
    import urllib.request
    from webadmin_util import Lighttpd
    import pathlib
    import tempfile
    # Not under pytest's 0700 tmp_path: lighttpd runs as the cairn user.
    d = pathlib.Path(tempfile.mkdtemp(prefix="cairn-fcgi-"))
    os.chmod(d, 0o755)
    httpd = Lighttpd(site, d, fastcgi=True)
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        body = opener.open(httpd.url + "/login").read().decode()
        tok = re.search(r'name="login_token" value="([0-9a-f]+)"', body).group(1)
        data = urllib.parse.urlencode({"login_token": tok, "user": ADMIN[0],
                                       "password": ADMIN[1]}).encode()
        req = urllib.request.Request(httpd.url + "/login", data=data,
                                     headers={"Origin": httpd.url})
        page = opener.open(req).read().decode()
        assert "<h1>Dashboard</h1>" in page
        for path in ("/users", "/queue", "/audit"):
            r = opener.open(httpd.url + path)
            assert r.status == 200 and r.headers["X-Frame-Options"] == "DENY"
        # One FastCGI process answered them all, keeping its connection.
        assert site.sql("SELECT count(DISTINCT pid) FROM pg_stat_activity"
                        f" WHERE datname = '{site.db}' AND pid <> pg_backend_pid()") == "1"
    finally:
        httpd.stop()
        shutil.rmtree(d, ignore_errors=True)


def totp(secret, step):
    """RFC 6238 / RFC 4226 with HMAC-SHA-1 and 6 digits."""
    import base64
    import hashlib
    import hmac
    import struct
    key = base64.b32decode(secret)
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7fffffff) % 1000000)


def test_totp_two_factor_login(site):
    import time
    c = login(site, USER)
    r = post(site, c, "/self/totp", {"action": "begin"})
    secret = re.search(r'id="totp-secret">([A-Z2-7]{32})<', r.body).group(1)
    assert '<svg class="qr"' in r.body
    assert site.sql("SELECT enabled FROM totp_secrets") == "f"
    # Not on until a code is entered; the login needs none yet.
    login(site, USER)
    assert post(site, c, "/self/totp", {"action": "confirm", "code": "000000"}).status == 403
    step = int(time.time()) // 30
    r = post(site, c, "/self/totp", {"action": "confirm", "code": totp(secret, step)})
    assert r.status == 200 and 'id="totp-state">On' in r.body
    assert secret not in r.body
    # Now the password alone is not enough.
    def try_login(code):
        p = cgi(site, path="/login")
        tok = re.search(r'name="login_token" value="([0-9a-f]+)"', p.body).group(1)
        return cgi(site, "POST", "/login", form={"login_token": tok, "user": USER[0],
                                                 "password": USER[1], "code": code},
                   cookies={"cairn_pre": p.cookie("cairn_pre")})
    assert try_login("").status == 403
    assert try_login("123456" if totp(secret, step + 1) != "123456" else "654321").status == 403
    # The code already used to confirm is refused (replay); the next one works once.
    assert try_login(totp(secret, step)).status == 403
    r = try_login(totp(secret, step + 1))
    assert r.status == 303 and r.cookie("cairn_sid")
    assert try_login(totp(secret, step + 1)).status == 403
    assert site.sql("SELECT count(*) FROM audit_log WHERE action = 'login-failed'") == "4"
    # Turning it off needs a valid code too.
    site.sql("UPDATE totp_secrets SET last_step = 0")
    assert post(site, c, "/self/totp", {"action": "disable", "code": "000000"}).status == 403
    r = post(site, c, "/self/totp", {"action": "disable", "code": totp(secret, step)})
    assert "Two-factor login is off" in r.body
    assert site.sql("SELECT count(*) FROM totp_secrets") == "0"
