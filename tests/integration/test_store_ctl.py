"""cairnctl against a real PostgreSQL: migrations (apply, idempotence, refusing
edited or missing files), domains and users (normalisation, duplicates, syntax
errors, the messages an admin sees), password hashes stored as yescrypt, the
config checker, and behaviour while the database is down.

Uses the `pg` fixture from conftest.py (.conninfo for a superuser-capable
database, .stop(), .start()). Every test gets a fresh database of its own, so
tests do not depend on each other or on what else ran against `pg`.
The binary is $CAIRNCTL, else build/cairnctl (see conftest.py).
"""

import hashlib
import os
import re
import shutil
import subprocess
import urllib.parse
import uuid
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
from conftest import CAIRNCTL  # noqa: E402  (the one place that knows the build dir)
MIGRATIONS = REPO / "migrations"
MIGRATION_FILES = sorted(p.name for p in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def with_dbname(conninfo, dbname):
    """The same libpq connection string pointed at another database."""
    if conninfo.startswith(("postgresql://", "postgres://")):
        parts = urllib.parse.urlsplit(conninfo)
        return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))
    return f"{conninfo} dbname={dbname}"  # the last keyword wins in libpq


def psql(conninfo, sql):
    """Run one SQL command with the psql binary; returns unaligned output."""
    r = subprocess.run(
        ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class Ctl:
    """Runs cairnctl with a config file pointing at one test database."""

    def __init__(self, config, conninfo):
        self.config = config
        self.conninfo = conninfo

    def run(self, *args, input="", config=None):
        # input="" makes stdin a pipe, never the developer's terminal.
        return subprocess.run(
            [CAIRNCTL, "-c", str(config or self.config), *args],
            input=input, capture_output=True, text=True, timeout=120)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, f"cairnctl {' '.join(args)}: rc={r.returncode}\n{r.stdout}{r.stderr}"
        return r

    def fails(self, *args, rc=1, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == rc, f"cairnctl {' '.join(args)}: rc={r.returncode}, want {rc}\n{r.stdout}{r.stderr}"
        return r

    def sql(self, query):
        return psql(self.conninfo, query)


def write_config(path, conninfo, migrations_dir=MIGRATIONS, extra=""):
    # [http] listen_tls is emptied because the default wants a certificate.
    path.write_text(
        "[store]\n"
        f"conninfo = {conninfo}\n"
        f"migrations_dir = {migrations_dir}\n"
        "connect_timeout = 3s\n"
        "reconnect_interval = 1s\n"
        f"{extra}"
        "[http]\n"
        "listen_tls =\n")
    return path


@pytest.fixture
def db(pg):
    name = "cairn_ctl_" + uuid.uuid4().hex[:12]
    psql(pg.conninfo, f'CREATE DATABASE "{name}"')
    yield with_dbname(pg.conninfo, name)
    psql(pg.conninfo, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def ctl(db, tmp_path):
    return Ctl(write_config(tmp_path / "cairn.conf", db), db)


@pytest.fixture
def migrated(ctl):
    ctl.ok("migrate")
    return ctl


# ---------------------------------------------------------------- migrations

def test_migrate_applies_then_is_current(ctl):
    assert "0001_domains_accounts.sql" in MIGRATION_FILES
    r = ctl.ok("migrate")
    assert re.search(r"^migrate: applying 0001_domains_accounts\.sql \.\.\. ok \(\d+ ms\)$",
                     r.stdout, re.M), r.stdout
    n = len(MIGRATION_FILES)
    assert f"migrate: {n} applied, 0 already current" in r.stdout
    sha = hashlib.sha256((MIGRATIONS / "0001_domains_accounts.sql").read_bytes()).hexdigest()
    assert ctl.sql("SELECT version, name, sha256 FROM cairn_migrations WHERE version = 1") == \
        f"1|0001_domains_accounts.sql|{sha}"
    assert ctl.sql("SELECT to_regclass('accounts') IS NOT NULL") == "t"

    r = ctl.ok("migrate")
    assert "applying" not in r.stdout
    assert f"migrate: 0 applied, {n} already current" in r.stdout
    assert ctl.sql("SELECT count(*) FROM cairn_migrations") == str(n)


def test_migrate_refuses_edited_migration(ctl, tmp_path):
    mig = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, mig)
    ctl.ok("migrate", "--dir", str(mig))
    f = mig / "0001_domains_accounts.sql"
    before = hashlib.sha256(f.read_bytes()).hexdigest()
    f.write_text(f.read_text() + "-- a harmless-looking edit\n")
    after = hashlib.sha256(f.read_bytes()).hexdigest()
    r = ctl.fails("migrate", "--dir", str(mig))
    assert ("0001_domains_accounts.sql: changed after it was applied "
            f"(sha256 {before} in the database, {after} on disk)") in r.stderr
    assert "applying" not in r.stdout


def test_migrate_refuses_missing_and_misnamed_files(ctl, tmp_path):
    mig = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, mig)
    ctl.ok("migrate", "--dir", str(mig))

    (mig / "12_short.sql").write_text("SELECT 1;\n")
    r = ctl.fails("migrate", "--dir", str(mig))
    assert "12_short.sql: bad migration file name" in r.stderr
    (mig / "12_short.sql").unlink()

    (mig / "0001_domains_accounts.sql").unlink()
    r = ctl.fails("migrate", "--dir", str(mig))
    assert "0001_domains_accounts.sql: applied to the database but missing" in r.stderr


def test_failed_migration_rolls_back(ctl, tmp_path):
    mig = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, mig)
    (mig / "9000_broken.sql").write_text(
        "CREATE TABLE half_done (a int);\n"
        "\n"
        "CREATE TABLE never (a int;\n")
    r = ctl.fails("migrate", "--dir", str(mig))
    assert "migrate: applying 9000_broken.sql ... failed" in r.stdout
    assert "9000_broken.sql:3:" in r.stderr
    # The earlier files went in; the broken one left nothing behind.
    assert ctl.sql("SELECT max(version) FROM cairn_migrations") != "9000"
    assert ctl.sql("SELECT to_regclass('half_done') IS NULL") == "t"

    (mig / "9000_broken.sql").write_text("CREATE TABLE half_done (a int);\n")
    r = ctl.ok("migrate", "--dir", str(mig))
    assert "migrate: 1 applied" in r.stdout
    assert ctl.sql("SELECT to_regclass('half_done') IS NOT NULL") == "t"


# ------------------------------------------------------------------- domains

def test_domain_add_list_del(migrated):
    ctl = migrated
    ctl.ok("domain", "add", "Example.TEST")
    ctl.ok("domain", "add", "b.example.test")
    assert ctl.ok("domain", "list").stdout == "b.example.test\nexample.test\n"
    assert ctl.sql("SELECT name FROM domains ORDER BY name") == "b.example.test\nexample.test"

    r = ctl.fails("domain", "add", "example.test")
    assert "cairnctl: domain example.test already exists" in r.stderr
    r = ctl.fails("domain", "add", "EXAMPLE.test")
    assert "cairnctl: domain example.test already exists" in r.stderr

    ctl.ok("domain", "del", "b.EXAMPLE.test")
    assert ctl.ok("domain", "list").stdout == "example.test\n"
    r = ctl.fails("domain", "del", "b.example.test")
    assert "cairnctl: unknown domain b.example.test" in r.stderr


@pytest.mark.parametrize("name", [
    "under_score.test", "a..b", ".lead.test", "trail.test.", "-dash.test", "dash-.test",
    "sp ace.test", "x" * 64 + ".test", ".".join(["abcdefghij"] * 24), "",
])
def test_domain_bad_names(migrated, name):
    r = migrated.fails("domain", "add", "--", name)
    assert "cairnctl: invalid domain name" in r.stderr
    assert migrated.sql("SELECT count(*) FROM domains") == "0"


def test_domain_del_with_accounts_refused(migrated):
    ctl = migrated
    ctl.ok("domain", "add", "example.test")
    ctl.ok("user", "add", "ann@example.test", "--password", "pw1")
    r = ctl.fails("domain", "del", "example.test")
    assert "cairnctl: domain example.test still has 1 account; delete it first" in r.stderr
    ctl.ok("user", "del", "ann@example.test")
    ctl.ok("domain", "del", "example.test")


# --------------------------------------------------------------------- users

def test_user_lifecycle(migrated):
    ctl = migrated
    ctl.ok("domain", "add", "example.test")
    ctl.ok("domain", "add", "other.test")
    ctl.ok("user", "add", "Ann@Example.TEST", "--password", "s3cret", "--name", "Ann Example")
    ctl.ok("user", "add", "bob@example.test", "--password=hunter2")
    ctl.ok("user", "add", "cy@other.test", "--password", "x")

    assert ctl.ok("user", "list").stdout == \
        "ann@example.test\tAnn Example\nbob@example.test\ncy@other.test\n"
    assert ctl.ok("user", "list", "Example.test").stdout == \
        "ann@example.test\tAnn Example\nbob@example.test\n"
    ctl.ok("domain", "add", "empty.test")
    assert ctl.ok("user", "list", "empty.test").stdout == ""
    r = ctl.fails("user", "list", "nowhere.test")
    assert "cairnctl: unknown domain nowhere.test" in r.stderr
    assert ctl.sql("SELECT localpart, address FROM accounts WHERE address LIKE 'ann%'") == \
        "ann|ann@example.test"

    r = ctl.fails("user", "add", "ANN@example.test", "--password", "other")
    assert "cairnctl: account ann@example.test already exists" in r.stderr
    r = ctl.fails("user", "add", "ann@nowhere.test", "--password", "pw")
    assert "cairnctl: unknown domain nowhere.test for ann@nowhere.test" in r.stderr

    old = ctl.sql("SELECT password_hash FROM accounts WHERE address = 'bob@example.test'")
    ctl.ok("user", "passwd", "bob@example.test", "--password", "new-pw")
    new = ctl.sql("SELECT password_hash FROM accounts WHERE address = 'bob@example.test'")
    assert new != old and new.startswith("$y$")
    r = ctl.fails("user", "passwd", "zed@example.test", "--password", "pw")
    assert "cairnctl: unknown account zed@example.test" in r.stderr

    ctl.ok("user", "del", "BOB@example.test")
    r = ctl.fails("user", "del", "bob@example.test")
    assert "cairnctl: unknown account bob@example.test" in r.stderr
    assert ctl.ok("user", "list", "example.test").stdout == "ann@example.test\tAnn Example\n"


@pytest.mark.parametrize("address", [
    "ann", "@example.test", "ann@", "ann@@example.test", "a@b@example.test", ".ann@example.test",
    "ann.@example.test", "a..nn@example.test", "an n@example.test", "ann@exa_mple.test",
    "a(nn)@example.test", "x" * 65 + "@example.test",
])
def test_user_bad_address(migrated, address):
    migrated.ok("domain", "add", "example.test")
    # "--" ends the options, so the password comes first.
    r = migrated.fails("user", "add", "--password", "pw", "--", address)
    assert "cairnctl: invalid address" in r.stderr
    assert migrated.sql("SELECT count(*) FROM accounts") == "0"


def test_user_good_unusual_addresses(migrated):
    migrated.ok("domain", "add", "example.test")
    for address in ["o'brien@example.test", "first.last+tag@example.test", "x" * 64 + "@example.test"]:
        migrated.ok("user", "add", "--password", "pw", "--", address)
    assert migrated.sql("SELECT count(*) FROM accounts") == "3"


def _crypt():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            return None
    return crypt


def test_password_stored_as_yescrypt(migrated):
    ctl = migrated
    ctl.ok("domain", "add", "example.test")
    ctl.ok("user", "add", "ann@example.test", "--password", "plain-text-pw")
    # Not a terminal: one line of stdin is the password.
    ctl.ok("user", "add", "bob@example.test", input="piped pw\n")
    ctl.ok("user", "add", "cy@example.test", "--password", "plain-text-pw")

    rows = dict(line.split("|", 1) for line in ctl.sql(
        "SELECT address, password_hash FROM accounts ORDER BY address").splitlines())
    for address, h in rows.items():
        assert h.startswith("$y$"), (address, h)
        assert "plain-text-pw" not in h and "piped" not in h
    # Same password, different salt.
    assert rows["ann@example.test"] != rows["cy@example.test"]
    assert "plain-text-pw" not in ctl.sql("SELECT string_agg(accounts::text, ' ') FROM accounts")

    crypt = _crypt()
    if crypt is not None and crypt.crypt("x", rows["ann@example.test"]) is not None:
        h = rows["ann@example.test"]
        assert crypt.crypt("plain-text-pw", h) == h
        assert crypt.crypt("piped pw", rows["bob@example.test"]) == rows["bob@example.test"]
        assert crypt.crypt("piped pw\n", rows["bob@example.test"]) != rows["bob@example.test"]

    r = ctl.fails("user", "add", "dan@example.test", input="")
    assert "cairnctl: no password on standard input" in r.stderr
    r = ctl.fails("user", "add", "dan@example.test", "--password", "")
    assert "empty password" in r.stderr
    assert ctl.sql("SELECT count(*) FROM accounts WHERE address = 'dan@example.test'") == "0"


def test_database_refuses_plaintext_hash(migrated):
    """The schema itself refuses a password_hash that is not crypt(3) output."""
    migrated.ok("domain", "add", "example.test")
    r = subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", migrated.conninfo, "-c",
         "INSERT INTO accounts (domain_id, localpart, address, password_hash) "
         "SELECT id, 'ann', 'ann@example.test', 'hunter2' FROM domains"],
        capture_output=True, text=True)
    assert r.returncode != 0 and "accounts_password_hash_crypt" in r.stderr


# -------------------------------------------------------- config and the CLI

def test_check_config(ctl, db, tmp_path):
    r = ctl.ok("check-config")
    assert r.stdout == f"{ctl.config}: ok\n"

    bad = tmp_path / "typo.conf"
    bad.write_text(
        "# a comment\n"
        "[store]\n"
        f"conninfo = {db}\n"
        "migrations_dri = /tmp\n"
        "[http]\n"
        "listen_tls =\n")
    r = ctl.fails("check-config", config=bad)
    out = r.stdout + r.stderr
    assert f"{bad}:4" in out and "migrations_dri" in out, out
    assert ": ok" not in r.stdout

    # Commands that need the config refuse a broken one the same way.
    r = ctl.fails("domain", "list", config=bad)
    assert f"{bad}:4" in r.stderr


def test_usage_and_version():
    def run(*args):
        return subprocess.run([CAIRNCTL, *args], capture_output=True, text=True, input="")
    assert run().returncode == 2
    assert run("frobnicate").returncode == 2
    assert run("domain").returncode == 2
    assert run("domain", "frob").returncode == 2
    assert run("-c", "/nonexistent.conf", "domain", "add").returncode == 2
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("cairnctl ")
    r = run("--help")
    assert r.returncode == 0 and "user add ADDRESS" in r.stdout
    r = run("-c", "/nonexistent/cairn.conf", "domain", "list")
    assert r.returncode == 1 and "/nonexistent/cairn.conf" in r.stderr
    r = run("config-doc")
    assert r.returncode == 0 and "conninfo" in r.stdout


def test_database_down(migrated, pg):
    ctl = migrated
    ctl.ok("domain", "add", "example.test")
    pg.stop()
    try:
        r = ctl.fails("domain", "list")
        assert "cairnctl: database unavailable" in r.stderr
        r = ctl.fails("migrate")
        assert "database unavailable" in r.stderr
    finally:
        pg.start()
    assert ctl.ok("domain", "list").stdout == "example.test\n"
