"""The web admin's resources page (issue 17, "resources (rooms)";
webadmin/wa-page-res.c): as CGI against a real PostgreSQL (create, edit,
delete, paging, search and sort, CSRF, escaping, roles and domain scope, as
seen in the database), and in a real browser (browser/resources.cjs, the
same chromium and playwright-core set-up as test_webadmin_browser.py)."""
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from test_webadmin_browser import BROWSER_DIR, PW_CORE
from webadmin_util import ADMIN, DOMADMIN, USER, Lighttpd, cgi, login, make_site


@pytest.fixture
def site(pg):
    s, base = make_site(pg)
    yield s
    s.drop()
    shutil.rmtree(base, ignore_errors=True)


def post(site, cookies, path, form, **kw):
    page = cgi(site, path="/resources", cookies=cookies)
    form = dict(form)
    form.setdefault("csrf", page.csrf())
    return cgi(site, "POST", path, form=form, cookies=cookies, **kw)


def res_row(site, address):
    return site.sql("SELECT r.kind, r.capacity, r.location, r.policy, r.window_days,"
                    " r.bookers_everyone, r.delegate, a.display_name, a.enabled"
                    " FROM resources r JOIN accounts a ON a.id = r.account_id"
                    f" WHERE a.address = '{address}'")


def test_resources_page_cgi(site):
    c = login(site, ADMIN)
    # CSRF: no token, no change
    r = cgi(site, "POST", "/resources", form={"action": "add", "resource": "x@example.test"},
            cookies=c)
    assert r.status == 403
    r = post(site, c, "/resources", {"action": "add", "resource": "board@example.test",
                                     "name": "Board Room", "kind": "room", "capacity": "8",
                                     "location": "Floor 2", "policy": "auto"})
    assert r.status == 200 and "Resource board@example.test created" in r.body, r.body
    assert res_row(site, "board@example.test") == "room|8|Floor 2|auto|0|t||Board Room|t"
    assert site.sql("SELECT action, target FROM audit_log WHERE action LIKE 'resource%'") == \
        "resource-add|board@example.test"
    # errors name the field and change nothing
    r = post(site, c, "/resources", {"action": "add", "resource": "bad@example.test",
                                     "capacity": "lots", "kind": "room", "policy": "auto"})
    assert "capacity" in r.body and "lots" in r.body
    assert site.sql("SELECT count(*) FROM accounts WHERE address = 'bad@example.test'") == "0"
    # edit
    r = post(site, c, "/resource", {"resource": "board@example.test", "name": "Board Room",
                                    "kind": "room", "capacity": "10", "location": "Floor 3",
                                    "policy": "manual", "window": "30",
                                    "bookers": "zed@example.test, ann@corp.test",
                                    "delegate": "zed@example.test", "enabled": "1"})
    assert r.status == 200 and "saved" in r.body, r.body
    assert res_row(site, "board@example.test") == \
        "room|10|Floor 3|manual|30|f|zed@example.test|Board Room|t"
    assert site.sql("SELECT string_agg(booker, ',' ORDER BY booker) FROM resource_bookers") == \
        "ann@corp.test,zed@example.test"
    # the delegate got write access to the resource's calendars (calendar-proxy-write)
    assert 'value="zed@example.test"' in r.body and 'value="manual" selected' in r.body
    assert site.sql("SELECT count(*) FROM dav_proxies") == "1"
    # hostile values are escaped in every context
    xss = '"><script>alert(1)</script>'
    post(site, c, "/resources", {"action": "add", "resource": "evil@example.test", "name": xss,
                                 "location": xss, "kind": "room", "policy": "auto"})
    for body in (cgi(site, path="/resources", cookies=c).body,
                 cgi(site, path="/resource", query="a=evil%40example.test", cookies=c).body,
                 cgi(site, path="/resources", query="q=%22%3E%3Cscript%3E", cookies=c).body):
        assert "<script>alert" not in body
    # paging (page_size 5), search and sort
    for i in range(7):
        site.ctl("resource", "add", f"r{i}@other.test", "--capacity", str(20 - i),
                 "--name", f"Room {i}")
    r = cgi(site, path="/resources", query="q=other.test", cookies=c)
    rows = re.findall(r'/resource\?a=(r\d)%40other.test', r.body)
    assert rows == ["r0", "r1", "r2", "r3", "r4"] and 'rel="next"' in r.body
    assert "7 resources." in r.body
    r = cgi(site, path="/resources", query="q=other.test&page=2", cookies=c)
    assert re.findall(r'/resource\?a=(r\d)%40other.test', r.body) == ["r5", "r6"]
    r = cgi(site, path="/resources", query="q=other.test&sort=capacity", cookies=c)
    assert re.findall(r'/resource\?a=(r\d)%40other.test', r.body)[0] == "r6"
    r = cgi(site, path="/resources", query="q=other.test&sort=capacity&dir=desc", cookies=c)
    assert re.findall(r'/resource\?a=(r\d)%40other.test', r.body)[0] == "r0"
    # delete
    r = post(site, c, "/resources", {"action": "delete", "resource": "evil@example.test"})
    assert "deleted" in r.body
    assert site.sql("SELECT count(*) FROM accounts WHERE address = 'evil@example.test'") == "0"


def test_resources_page_roles(site):
    site.ctl("resource", "add", "board@example.test")
    site.ctl("resource", "add", "desk@corp.test", "--kind", "equipment")
    # a user: no page
    u = login(site, USER)
    assert cgi(site, path="/resources", cookies=u).status == 403
    # a domain administrator: his domain only, everywhere
    d = login(site, DOMADMIN)
    r = cgi(site, path="/resources", cookies=d)
    assert "desk@corp.test" in r.body and "board@example.test" not in r.body
    assert cgi(site, path="/resource", query="a=board%40example.test", cookies=d).status == 403
    tok = cgi(site, path="/resources", cookies=d).csrf()
    for path, form in [("/resources", {"action": "delete", "resource": "board@example.test"}),
                       ("/resources", {"action": "add", "resource": "sneak@example.test"}),
                       ("/resource", {"resource": "board@example.test", "capacity": "1"}),
                       ("/resource", {"resource": "desk@corp.test", "kind": "equipment",
                                      "policy": "manual", "delegate": "admin@example.test"})]:
        r = cgi(site, "POST", path, form=dict(form, csrf=tok), cookies=d)
        assert r.status == 403, (path, form, r.status)
    assert res_row(site, "board@example.test") == "room|0||auto|0|t|||t"
    assert site.sql("SELECT count(*) FROM accounts WHERE address = 'sneak@example.test'") == "0"
    assert site.sql("SELECT policy FROM resources r JOIN accounts a ON a.id = r.account_id"
                    " WHERE a.address = 'desk@corp.test'") == "auto"
    # but may change his own
    r = cgi(site, "POST", "/resource", form={"resource": "desk@corp.test", "kind": "equipment",
                                             "policy": "manual", "capacity": "", "csrf": tok,
                                             "delegate": "ann@corp.test", "enabled": "1"},
            cookies=d)
    assert r.status == 200 and "saved" in r.body, r.body
    assert site.sql("SELECT policy || ' ' || delegate FROM resources r JOIN accounts a"
                    " ON a.id = r.account_id WHERE a.address = 'desk@corp.test'") == \
        "manual ann@corp.test"


def test_resources_in_chromium(pg, tmp_path):
    assert PW_CORE.is_dir(), (f"playwright-core is not installed in {PW_CORE.parent}: run "
                              "`npm ci --no-audit --no-fund` there (./bootstrap test does)")
    site, base = make_site(pg)
    httpd = None
    out = tmp_path / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    try:
        httpd = Lighttpd(site, pathlib.Path(base) / "httpd")
        env = dict(os.environ, BASE=httpd.url, OUT=str(out), PLAYWRIGHT_CORE=str(PW_CORE),
                   ADMIN=json.dumps(ADMIN), DOMADMIN=json.dumps(DOMADMIN),
                   USER_ACCOUNT=json.dumps(USER), CHROMIUM="/usr/bin/chromium",
                   HOME=str(tmp_path))
        r = subprocess.run(["node", str(BROWSER_DIR / "resources.cjs")], env=env,
                           capture_output=True, text=True, timeout=120)
        results = json.loads((out / "results.json").read_text())
        assert r.returncode == 0 and "error" not in results, \
            (results.get("error"), r.stderr[-3000:], httpd.log.read_text()[-3000:])
        assert "xss" not in results and "pageerror" not in results, results
        assert results["checks"] >= 15 and len(results["shots"]) >= 5
        # what the browser did is in the store
        assert res_row(site, "board@example.test") == \
            "room|10|Floor 2|manual|30|f|zed@example.test|Board Room|t"
        assert res_row(site, "beamer@corp.test").startswith("equipment|0|Cupboard|auto|")
        assert site.sql("SELECT count(*) FROM accounts WHERE address IN"
                        " ('evil@example.test', 'bad@example.test', 'sneak@example.test')") == "0"
    finally:
        if httpd is not None:
            httpd.stop()
        site.drop()
        shutil.rmtree(base, ignore_errors=True)
