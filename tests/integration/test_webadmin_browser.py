"""The web admin in a real browser: Debian's chromium driven by playwright-core
(browser/webadmin.cjs) against lighttpd running cairn-admin.cgi on loopback.
The script walks every page and form as an administrator, a domain
administrator and a user, and tries CSRF, XSS, session fixation, framing and
privilege escalation; this test starts everything, runs it, and checks what
changed in the store. Screenshots of every page go to the test's output
directory (printed, and kept under $CAIRN_WEBADMIN_SHOTS when set).

playwright-core comes from npm (pinned in browser/package-lock.json);
./bootstrap test installs it and sets CAIRN_PLAYWRIGHT_DIR.
"""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

from conftest import TOP
from test_webadmin_cgi import queue_message
from webadmin_util import ADMIN, DOMADMIN, USER, Lighttpd, make_site

BROWSER_DIR = TOP / "tests" / "integration" / "browser"
PW_DIR = pathlib.Path(os.environ.get("CAIRN_PLAYWRIGHT_DIR", TOP / "build-asan" / "browser"))
PW_CORE = PW_DIR / "node_modules" / "playwright-core"


def test_webadmin_in_chromium(pg, tmp_path):
    assert PW_CORE.is_dir(), (f"playwright-core is not installed in {PW_DIR}: run "
                              "`npm ci --no-audit --no-fund` there (./bootstrap test does)")
    site, base = make_site(pg)
    httpd = None
    out = pathlib.Path(os.environ.get("CAIRN_WEBADMIN_SHOTS") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    try:
        queue_message(site)
        httpd = Lighttpd(site, pathlib.Path(base) / "httpd")
        env = dict(os.environ, BASE=httpd.url, OUT=str(out), PLAYWRIGHT_CORE=str(PW_CORE),
                   ADMIN=json.dumps(ADMIN), DOMADMIN=json.dumps(DOMADMIN),
                   USER_ACCOUNT=json.dumps(USER), CHROMIUM="/usr/bin/chromium",
                   HOME=str(tmp_path))
        r = subprocess.run(["node", str(BROWSER_DIR / "webadmin.cjs")], env=env,
                           capture_output=True, text=True, timeout=150)
        results = json.loads((out / "results.json").read_text())
        print(f"screenshots in {out}: {len(results['shots'])}")
        assert r.returncode == 0 and "error" not in results, \
            (results.get("error"), r.stderr[-3000:], httpd.log.read_text()[-3000:])
        assert results["checks"] > 60
        assert "xss" not in results and "pageerror" not in results, results
        assert len(results["shots"]) >= 20
        # What the browser did is in the store.
        assert site.sql("SELECT count(*) FROM domains WHERE name = 'browser.test'") == "1"
        assert site.sql("SELECT quota_bytes, enabled FROM accounts"
                        " WHERE address = 'web@browser.test'") == f"{1 << 30}|t"
        assert site.sql("SELECT display_name FROM accounts WHERE address = 'x0@browser.test'") \
            == "<script>alert(1)</script>"
        assert site.sql("SELECT count(*) FROM group_members") == "1"
        assert site.sql("SELECT identifier || ' ' || rights FROM mailbox_acl") == \
            "web@browser.test lrswi"
        assert site.sql("SELECT selector || ' ' || algorithm FROM dkim_keys") == \
            "web1 ed25519-sha256"
        assert site.sql("SELECT count(*) FROM domain_admins da JOIN accounts a"
                        " ON a.id = da.account_id WHERE a.address = 'web@browser.test'") == "1"
        assert site.sql("SELECT count(*) FROM domains WHERE name = 'csrf.test'") == "0"
        assert site.sql("SELECT count(*) FROM accounts WHERE address = 'hire@corp.test'") == "1"
        assert site.sql("SELECT count(*) FROM accounts WHERE address = 'sneak@example.test'") == "0"
        assert site.sql("SELECT name FROM app_passwords") == \
            '"><img src=x onerror=alert(2)>'
        # The app password the browser saw is the one stored (hashed).
        pw = results["app_password"]
        h = site.sql("SELECT password_hash FROM app_passwords")
        import ctypes
        libcrypt = ctypes.CDLL("libcrypt.so.1")
        libcrypt.crypt.restype = ctypes.c_char_p
        assert libcrypt.crypt(pw.encode(), h.encode()).decode() == h
        assert site.sql("SELECT count(*) FROM audit_log WHERE action = 'login'") == "3"
        assert site.sql("SELECT secret, enabled FROM totp_secrets") == \
            results["totp_secret"] + "|t"
    finally:
        if httpd is not None:
            httpd.stop()
        site.drop()
        shutil.rmtree(base, ignore_errors=True)
