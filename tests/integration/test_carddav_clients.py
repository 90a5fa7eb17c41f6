"""CardDAV with a real client from Debian: vdirsyncer discovers the address
books (the default one and the read-only GAL), syncs both ways, then meets
a conflict that If-Match keeps from losing the server's edit; a deletion on
the server reaches the local side."""
import os
import subprocess
import textwrap

import pytest

from carddav_util import book, put, vcard3
from dav_util import PASSWORD, Dav, ctl, setup_users

ANN = "ann@dav.test"


@pytest.fixture
def server(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann", "bob")
    ctl(d, "user", "set", "bob@dav.test", "--name", "Bob Jones")
    ctl(d, "addressbook", "gal-sync")
    return d


def run(cmd, cwd, env, input=None, ok=True):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                       input=input)
    if ok:
        assert r.returncode == 0, f"{' '.join(cmd)}:\n{r.stdout}\n{r.stderr}"
    return r


def test_vdirsyncer_two_way_and_conflict(server, tmp_path):
    c = Dav(server, ANN)
    assert put(c, book(ANN) + "remote-1.vcf", vcard3("remote-1", "Remote Person",
                                                     "remote@example.test"))[0] == 201
    local = tmp_path / "local"
    local.mkdir()
    fp = subprocess.run(["openssl", "x509", "-in", str(server.cert), "-noout", "-fingerprint",
                         "-sha256"], capture_output=True, text=True, check=True).stdout
    fp = fp.strip().split("=", 1)[1]
    conf = tmp_path / "vdirsyncer.conf"
    conf.write_text(textwrap.dedent(f"""\
        [general]
        status_path = "{tmp_path / 'status'}"

        [pair contacts]
        a = "contacts_local"
        b = "contacts_remote"
        collections = ["from b"]
        conflict_resolution = null

        [storage contacts_local]
        type = "filesystem"
        path = "{local}"
        fileext = ".vcf"

        [storage contacts_remote]
        type = "carddav"
        url = "https://127.0.0.1:{server.https_port}/"
        username = "{ANN}"
        password = "{PASSWORD}"
        verify_fingerprint = "{fp}"
        """))
    env = dict(os.environ, VDIRSYNCER_CONFIG=str(conf), HOME=str(tmp_path))
    run(["vdirsyncer", "discover"], tmp_path, env, input="y\n" * 5)
    run(["vdirsyncer", "sync"], tmp_path, env)
    # both books arrive: the default one and the GAL (read-only)
    files = list((local / "default").glob("*.vcf"))
    assert len(files) == 1 and "UID:remote-1" in files[0].read_text()
    gal = [f.read_text() for f in (local / "gal").glob("*.vcf")]
    assert any("FN:Bob Jones" in g for g in gal) and len(gal) == 2
    # local -> remote
    (local / "default" / "local-1.vcf").write_text(
        vcard3("local-1", "Local Person", "local@example.test"))
    run(["vdirsyncer", "sync"], tmp_path, env)
    st, h, data = c.request("GET", book(ANN) + "local-1.vcf")
    assert st == 200 and b"UID:local-1" in data
    # a conflict: both sides change the same card
    st, h, data = c.request("GET", book(ANN) + "remote-1.vcf")
    remote = data.decode().replace("FN:Remote Person", "FN:Remote Edit")
    assert put(c, book(ANN) + "remote-1.vcf", remote, headers={"If-Match": h["etag"]})[0] == 204
    files[0].write_text(files[0].read_text().replace("FN:Remote Person", "FN:Local Edit"))
    r = run(["vdirsyncer", "sync"], tmp_path, env, ok=False)
    assert r.returncode != 0 and "conflict" in (r.stdout + r.stderr).lower()
    assert b"FN:Remote Edit" in c.request("GET", book(ANN) + "remote-1.vcf")[2]
    # resolve in favour of the server: both sides agree
    conf.write_text(conf.read_text().replace("conflict_resolution = null",
                                             'conflict_resolution = "b wins"'))
    run(["vdirsyncer", "sync"], tmp_path, env)
    assert "FN:Remote Edit" in files[0].read_text()
    # a deletion on the server reaches the local side
    assert c.request("DELETE", book(ANN) + "remote-1.vcf")[0] == 204
    run(["vdirsyncer", "sync"], tmp_path, env)
    assert not files[0].exists()
    c.close()
