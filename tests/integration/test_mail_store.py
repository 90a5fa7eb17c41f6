"""The mail store against a real PostgreSQL.

Two halves: tests/integration/store-mail-test.c (cmocka, linked against
libcairnstore) runs the store API directly -- concurrent appends and quota,
dedup, rename/delete rules, copy/move, expunge tombstones, UNCHANGEDSINCE --
one pytest case per cmocka test; and the `cairnctl mailbox` commands an
admin uses. The C program is found in $CAIRN_BUILDDIR/tests/integration/, else
next to $CAIRNCTL (both builds put it there with `make check`).
"""
import os
import subprocess
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
from conftest import CAIRNCTL  # noqa: E402  (the one place that knows the build dir)
MIGRATIONS = REPO / "migrations"


def store_test_binary():
    builddir = os.environ.get("CAIRN_BUILDDIR")
    base = Path(builddir) if builddir else Path(CAIRNCTL).resolve().parent
    return base / "tests" / "integration" / "store-mail-test"


def psql(conninfo, sql):
    r = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                        "-c", sql], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture
def maildb(pg, tmp_path):
    """A fresh, migrated database and a cairnctl config pointing at it."""
    name = "cairn_mail_" + uuid.uuid4().hex[:12]
    psql(pg.conninfo, f'CREATE DATABASE "{name}"')
    conninfo = f"{pg.conninfo} dbname={name}"
    conf = tmp_path / "cairn.conf"
    conf.write_text(f"[store]\nconninfo = {conninfo}\nmigrations_dir = {MIGRATIONS}\n"
                    "[http]\nlisten_tls =\n")
    r = subprocess.run([CAIRNCTL, "-c", str(conf), "migrate"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    yield conninfo, conf
    psql(pg.conninfo, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


STORE_TESTS = ["test_append_fetch", "test_concurrent_appends_quota",
               "test_dedup_500_mailboxes", "test_rename_delete", "test_copy_move_expunge",
               "test_flags_unchangedsince"]


@pytest.mark.parametrize("name", STORE_TESTS)
def test_store_api(maildb, name):
    binary = store_test_binary()
    assert binary.exists(), f"{binary} not built (make check builds it)"
    conninfo, _ = maildb
    r = subprocess.run([str(binary), name], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "CAIRN_TEST_CONNINFO": conninfo})
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "[  PASSED  ] 1 test(s)." in out, out
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in out, out


def ctl(conf, *args, rc=0):
    r = subprocess.run([CAIRNCTL, "-c", str(conf), *args], capture_output=True, text=True,
                       input="", timeout=120)
    assert r.returncode == rc, f"cairnctl {' '.join(args)}: rc={r.returncode}\n{r.stdout}{r.stderr}"
    return r


def test_ctl_mailbox_commands(maildb):
    conninfo, conf = maildb
    ctl(conf, "domain", "add", "example.test")
    ctl(conf, "user", "add", "ann@example.test", "--password", "pw")
    r = ctl(conf, "mailbox", "list", "--user", "nobody@example.test", rc=1)
    assert "unknown account nobody@example.test" in r.stderr
    ctl(conf, "mailbox", "create", "--user", "ann@example.test", "Projects/2024/Q1")
    ctl(conf, "mailbox", "create", "--user", "ann@example.test", "--special-use", "\\Sent",
        "Sent Items")
    r = ctl(conf, "mailbox", "create", "--user", "ann@example.test", "Projects", rc=1)
    assert "mailbox Projects already exists" in r.stderr
    r = ctl(conf, "mailbox", "create", "--user", "ann@example.test", "a//b", rc=1)
    assert "invalid mailbox name" in r.stderr
    lines = ctl(conf, "mailbox", "list", "--user", "ann@example.test").stdout.splitlines()
    names = [line.split(" ")[0] for line in lines]
    assert names == ["Projects", "Projects/2024", "Projects/2024/Q1", "Sent"], lines
    # "Sent Items" has a space: the first word alone is "Sent"
    assert any(line.startswith("Sent Items \\Sent ") for line in lines), lines
    assert any(line.startswith("Projects \\HasChildren ") for line in lines), lines

    ctl(conf, "mailbox", "rename", "--user", "ann@example.test", "Projects", "Archive/Old")
    lines = ctl(conf, "mailbox", "list", "--user", "ann@example.test").stdout.splitlines()
    names = sorted(line.split(" ")[0] for line in lines)
    assert "Archive/Old/2024/Q1" in names and "Projects" not in names, names

    ctl(conf, "mailbox", "delete", "--user", "ann@example.test", "Archive/Old")
    out = ctl(conf, "mailbox", "list", "--user", "ann@example.test").stdout
    assert "Archive/Old \\Noselect \\HasChildren" in out, out
    r = ctl(conf, "mailbox", "delete", "--user", "ann@example.test", "INBOX", rc=1)
    assert "INBOX cannot be deleted" in r.stderr
    r = ctl(conf, "mailbox", "list", rc=2)
    assert "--user is required" in r.stderr


def test_schema_constraints(maildb):
    """The database refuses what the C code would never write."""
    conninfo, conf = maildb
    ctl(conf, "domain", "add", "example.test")
    ctl(conf, "user", "add", "bob@example.test", "--password", "pw")
    assert psql(conninfo, "SELECT count(*) FROM mail_usage") == "1"  # trigger made the row
    for bad in ("/x", "x/", "a//b", ""):
        r = subprocess.run(["psql", "-X", "-d", conninfo, "-c",
                            "INSERT INTO mailboxes (account_id, name) SELECT id, "
                            f"'{bad}' FROM accounts"], capture_output=True, text=True)
        assert "violates check constraint" in r.stderr, (bad, r.stderr)
    psql(conninfo, "INSERT INTO mailboxes (account_id, name) SELECT id, 'A' FROM accounts")
    psql(conninfo, "INSERT INTO mailboxes (account_id, name) SELECT id, 'B' FROM accounts")
    a, b = psql(conninfo, "SELECT uidvalidity FROM mailboxes ORDER BY id").split("\n")
    assert int(b) > int(a) > 1700000000  # grows, starts at the epoch time of migration
