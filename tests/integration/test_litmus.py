"""The litmus WebDAV compliance suite (Debian package litmus) against cairnd's
plain "files" home, over HTTPS and over plain HTTP (with plaintext_auth):
the basic, copymove, props and http suites must pass without a failure.
The locks suite runs only when OPTIONS announces DAV class 2."""
import os
import re
import shutil
import subprocess

import pytest

from dav_util import PASSWORD, Dav, setup_users

ANN = "ann@dav.test"
LITMUS = shutil.which("litmus")

pytestmark = pytest.mark.skipif(LITMUS is None and os.environ.get("CI") != "true",
                                reason="litmus is not installed (./bootstrap installs it)")


@pytest.fixture
def dav(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"http": {"plaintext_auth": "yes"}})
    setup_users(d, "ann")
    return d


def suites(d):
    c = Dav(d, ANN)
    st, h, _ = c.request("OPTIONS", f"/dav/files/{ANN}/", auth=False)
    c.close()
    assert st == 200
    classes = [x.strip() for x in h["dav"].split(",")]
    return "basic copymove props http" + (" locks" if "2" in classes else "")


def run_litmus(d, url, tmp_path):
    assert LITMUS is not None, "litmus is missing"
    env = dict(os.environ, TESTS=suites(d))
    r = subprocess.run([LITMUS, "-k", url, ANN, PASSWORD], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=300)
    out = r.stdout + r.stderr
    # "<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%"
    summaries = re.findall(r"summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed",
                           out)
    names = {s[0] for s in summaries}
    assert set(env["TESTS"].split()) <= names, out
    failed = [s for s in summaries if s[3] != "0"]
    assert not failed, out
    assert r.returncode == 0, out
    print(out)
    return out


def test_litmus_https(dav, tmp_path):
    run_litmus(dav, f"https://127.0.0.1:{dav.https_port}/dav/files/{ANN}/", tmp_path)


def test_litmus_http(dav, tmp_path):
    run_litmus(dav, f"http://127.0.0.1:{dav.http_port}/dav/files/{ANN}/", tmp_path)
