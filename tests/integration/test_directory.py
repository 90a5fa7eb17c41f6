"""The directory against both backends with one suite: the sql backend in a
private PostgreSQL (data entered with cairnctl) and the ldap backend against a
real slapd loaded with directory/schema/sample-company.ldif. Both hold the
same company, so the same assertions must hold for both.

Driven through cairnctl (no gateway exists yet): `directory lookup|expand|
auth|user|search|sync|provision` exit 0 found/ok, 1 not found/bad password,
75 temporary failure; `directory batch` keeps ONE directory handle across
commands, as a cairnd worker does, so a slapd restart between two commands
tests reconnection. Covers routing (users, aliases, catch-all, nested and
looping groups, dynamic groups), passwords, disabled users, LDAP injection,
failed-login throttling in PostgreSQL, temporary failures, failover, sync.
"""
import os
import select
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from slapd_fixture import slapd  # noqa: F401  (a fixture)

REPO = Path(__file__).resolve().parents[2]
from conftest import CAIRNCTL  # noqa: E402  (the one place that knows the build dir)
MIGRATIONS = REPO / "migrations"
EX_TEMPFAIL = 75

PASSWORDS = {u: f"{u.capitalize()}-Secret-1" for u in ("ann", "bob", "carol", "dave", "erin")}
ENABLED_USERS = ["ann", "bob", "carol", "erin"]


def worker_test_binary():
    """tests/integration/dir-worker-test.c, built by `make check`."""
    builddir = os.environ.get("CAIRN_BUILDDIR")
    base = Path(builddir) if builddir else Path(CAIRNCTL).resolve().parent
    return base / "tests" / "integration" / "dir-worker-test"


def addr(user, domain="example.test"):
    return f"{user}@{domain}"


def psql(conninfo, sql):
    r = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                        "-c", sql], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class Env:
    """cairnctl with a config for one backend and one fresh database."""

    def __init__(self, backend, conninfo, tmp, directory):
        self.backend = backend
        self.conninfo = conninfo
        self.tmp = tmp
        self.directory = dict(directory)
        self.config = self.write_config()

    def write_config(self, **extra):
        d = dict(self.directory)
        d.update(extra)
        path = self.tmp / f"cairn-{uuid.uuid4().hex[:8]}.conf"
        text = (f"[store]\nconninfo = {self.conninfo}\nmigrations_dir = {MIGRATIONS}\n"
                "connect_timeout = 2s\nreconnect_interval = 100ms\n"
                "[directory]\n" + "".join(f"{k} = {v}\n" for k, v in d.items()) +
                "[http]\nlisten_tls =\n")
        path.write_text(text)
        return path

    def run(self, *args, input="", config=None):
        return subprocess.run([CAIRNCTL, "-c", str(config or self.config), *args], input=input,
                              capture_output=True, text=True, timeout=120)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, f"cairnctl {' '.join(args)}: rc={r.returncode}\n{r.stdout}{r.stderr}"
        return r

    def rc(self, want, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == want, \
            f"cairnctl {' '.join(args)}: rc={r.returncode}, want {want}\n{r.stdout}{r.stderr}"
        return r

    def lookup(self, address, **kw):
        return self.run("directory", "lookup", address, **kw)

    def auth(self, user, password, ip=None, config=None):
        args = ["directory", "auth", user, "--password", password]
        if ip:
            args += ["--ip", ip]
        return self.run(*args, config=config)

    def sql(self, query):
        return psql(self.conninfo, query)


def route(result):
    """(kind, address, sorted targets) from `directory lookup` output."""
    lines = result.stdout.splitlines()
    kind, address = lines[0].split(" ", 1)
    return kind, address, sorted(lines[1:])


def local(*users):
    return sorted(f"local {addr(u)}" for u in users)


def populate_sql(env):
    """The company of sample-company.ldif, entered through cairnctl."""
    env.ok("domain", "add", "example.test")
    env.ok("domain", "add", "catch.test")
    people = {
        "ann": ("Ann Smith", "Sales", "Sales Manager", "+1 555 0101"),
        "bob": ("Bob Jones", "Sales", "Sales Representative", "+1 555 0102"),
        "carol": ("Carol White", "Engineering", "Engineering Manager", "+1 555 0201"),
        "dave": ("Dave Brown", "Engineering", "Engineer", ""),
        "erin": ("Erin Green", "Support", "Support Engineer", "+1 555 0301"),
    }
    for user, (name, dept, title, phone) in people.items():
        args = ["user", "add", addr(user), "--password", PASSWORDS[user], "--name", name,
                "--department", dept, "--title", title]
        if phone:
            args += ["--phone", phone]
        env.ok(*args)
    env.ok("user", "set", addr("ann"), "--quota", "1073741824", "--admin", "yes")
    env.ok("user", "set", addr("dave"), "--enabled", "no")
    env.ok("alias", "add", "a.smith@example.test", addr("ann"))
    env.ok("alias", "add", "info@example.test", addr("erin"))
    env.ok("alias", "add", "@catch.test", addr("carol"))
    groups = {
        "sales": [addr("ann"), addr("bob")],
        "engineering": [addr("carol"), addr("dave")],
        "all": ["sales@example.test", "engineering@example.test", addr("erin"), addr("ann")],
        "loop-a": [addr("ann")],
        "loop-b": [addr("bob"), "loop-a@example.test"],
    }
    for g in groups:
        env.ok("group", "add", f"{g}@example.test")
    for g, members in groups.items():
        for m in members:
            env.ok("group", "member", "add", f"{g}@example.test", m)
    env.ok("group", "member", "add", "loop-a@example.test", "loop-b@example.test")


@pytest.fixture(scope="module")
def sql_template(pg, tmp_path_factory):
    """A database with the sql backend's company, cloned for each test."""
    name = "cairn_dir_tmpl_" + uuid.uuid4().hex[:8]
    psql(pg.conninfo, f'CREATE DATABASE "{name}"')
    conninfo = f"{pg.conninfo} dbname={name}"
    env = Env("sql", conninfo, tmp_path_factory.mktemp("sqltmpl"), {"backend": "sql"})
    env.ok("migrate")
    populate_sql(env)
    yield name
    psql(pg.conninfo, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_env(backend, request, pg, tmp_path):
    name = "cairn_dir_" + uuid.uuid4().hex[:12]
    if backend == "sql":
        template = request.getfixturevalue("sql_template")
        psql(pg.conninfo, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        directory = {"backend": "sql"}
    else:
        server = request.getfixturevalue("slapd")
        psql(pg.conninfo, f'CREATE DATABASE "{name}"')
        directory = server.directory_config()
    directory.update({"auth_delay": "100ms", "auth_max_delay": "400ms",
                      "auth_max_failures": "3", "auth_max_failures_net": "6"})
    e = Env(backend, f"{pg.conninfo} dbname={name}", tmp_path, directory)
    request.addfinalizer(lambda: psql(pg.conninfo, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if backend == "ldap":
        e.slapd = server
        e.ok("migrate")
        # Accounts and domains come from the directory.
        e.ok("directory", "sync")
    return e


@pytest.fixture(params=["sql", "ldap"])
def env(request, pg, tmp_path):
    """The same company in either backend: every test using it runs twice."""
    return make_env(request.param, request, pg, tmp_path)


@pytest.fixture
def ldap_env(request, pg, tmp_path):
    return make_env("ldap", request, pg, tmp_path)


@pytest.fixture
def sql_env(request, pg, tmp_path):
    return make_env("sql", request, pg, tmp_path)


# ------------------------------------------------------------------ routing

def test_lookup_user(env):
    r = env.ok("directory", "lookup", addr("ann"))
    assert r.stdout == "user ann@example.test\nlocal ann@example.test\n"
    r = env.ok("directory", "lookup", "Ann@Example.TEST")
    assert r.stdout == "user ann@example.test\nlocal ann@example.test\n"


def test_lookup_alias(env):
    assert route(env.ok("directory", "lookup", "a.smith@example.test")) == \
        ("alias", "a.smith@example.test", local("ann"))
    assert route(env.ok("directory", "lookup", "INFO@example.test")) == \
        ("alias", "info@example.test", local("erin"))


def test_lookup_catchall(env):
    assert route(env.ok("directory", "lookup", "whoever@catch.test")) == \
        ("catch-all", "whoever@catch.test", local("carol"))
    # The catch-all covers its own domain only.
    r = env.rc(1, "directory", "lookup", "whoever@example.test")
    assert r.stdout == "not found: whoever@example.test\n"


def test_lookup_not_found_and_not_ours(env):
    r = env.rc(1, "directory", "lookup", "nobody@example.test")
    assert r.stdout == "not found: nobody@example.test\n"
    r = env.rc(1, "directory", "lookup", "ann@elsewhere.test")
    assert r.stdout == "not ours: ann@elsewhere.test\n"
    for bad in ("", "no-at-sign", "@", "ann@", "sp ace@example.test"):
        r = env.rc(1, "directory", "lookup", bad)
        assert r.stdout.startswith("not found"), r.stdout


def test_disabled_user_gets_no_mail(env):
    r = env.rc(1, "directory", "lookup", addr("dave"))
    assert r.stdout == "not found: dave@example.test\n"


def test_nested_group_each_member_once(env):
    kind, address, targets = route(env.ok("directory", "lookup", "all@example.test"))
    assert (kind, address) == ("group", "all@example.test")
    # ann is in "all" twice (directly and through sales); dave is disabled.
    assert targets == local(*ENABLED_USERS)
    assert route(env.ok("directory", "lookup", "engineering@example.test"))[2] == local("carol")


def test_looping_groups(env):
    for g in ("loop-a", "loop-b"):
        r = env.ok("directory", "lookup", f"{g}@example.test")
        assert route(r) == ("group", f"{g}@example.test", local("ann", "bob"))


def test_expand(env):
    r = env.ok("directory", "expand", "sales@example.test")
    assert route(r) == ("group", "sales@example.test", local("ann", "bob"))
    r = env.rc(1, "directory", "expand", addr("ann"))
    assert r.stdout == "not found: ann@example.test\n"


def test_max_group_depth(env):
    # all -> sales -> users needs depth 2; with 1 only direct members count.
    conf = env.write_config(max_group_depth="1")
    r = env.ok("directory", "lookup", "all@example.test", config=conf)
    assert route(r)[2] == local("ann", "erin")
    assert "status=too-deep" in r.stderr


def test_max_expansion_is_a_temporary_failure(env):
    conf = env.write_config(max_expansion="2")
    r = env.rc(EX_TEMPFAIL, "directory", "lookup", "all@example.test", config=conf)
    assert "max_expansion" in r.stderr


# ------------------------------------------------------------ authentication

def test_auth_ok(env):
    r = env.ok("directory", "auth", addr("ann"), "--password", PASSWORDS["ann"])
    assert r.stdout == "ok ann@example.test\n"
    r = env.ok("directory", "auth", "ERIN@example.test", "--password", PASSWORDS["erin"])
    assert r.stdout == "ok erin@example.test\n"
    # Read from stdin like a password prompt.
    r = env.ok("directory", "auth", addr("bob"), input=PASSWORDS["bob"] + "\n")
    assert r.stdout == "ok bob@example.test\n"


@pytest.mark.parametrize("user,password", [
    ("ann", "Ann-Secret-2"),          # wrong
    ("ann", "ann-secret-1"),          # wrong case
    ("ann", PASSWORDS["bob"]),        # someone else's
    ("dave", PASSWORDS["dave"]),      # right, but disabled
    ("nobody", "Ann-Secret-1"),       # unknown user
])
def test_auth_refused(env, user, password):
    r = env.rc(1, "directory", "auth", addr(user), "--password", password)
    assert r.stdout.startswith("failed: bad credentials"), r.stdout
    assert password not in r.stdout + r.stderr


def test_auth_empty_password_is_not_an_anonymous_bind(env):
    r = env.rc(1, "directory", "auth", addr("ann"), input="\n")
    assert r.stdout.startswith("failed") or "empty" in r.stderr


# ----------------------------------------------------------------- injection

INJECTIONS = [
    "*)(uid=*@example.test",
    "x)(|(mail=*@example.test",
    "a\\2a@example.test",
    "an*@example.test",             # would match ann@ if '*' were a wildcard
    "*@example.test",
    "ann@example.test)(mail=*",
    "*)(mail=ann@example.test",
    "ann@example.test\\00",
    "(ann@example.test)",
]


@pytest.mark.parametrize("address", INJECTIONS)
def test_injection_resolves_to_nothing(env, address):
    r = env.run("directory", "lookup", address)
    assert r.returncode == 1, f"{address!r}: rc={r.returncode}\n{r.stdout}{r.stderr}"
    assert r.stdout.startswith(("not found", "not ours")), r.stdout
    r = env.run("directory", "auth", address, "--password", PASSWORDS["ann"])
    assert r.returncode == 1 and r.stdout.startswith("failed"), r.stdout + r.stderr


def test_nul_byte_resolves_to_nothing(env):
    r = env.ok("directory", "lookup", "--stdin", "yes", input="ann@example.test\n")
    assert r.stdout.startswith("user ann@example.test")
    r = env.rc(1, "directory", "lookup", "--stdin", "yes", input="ann@example.test\0.evil\n")
    assert r.stdout.startswith("not found")


def test_search_query_is_text(env):
    for query in ("*", "*)(mail=*", "%", "_"):
        r = env.ok("directory", "search", query)
        assert r.stdout == "", f"{query!r}: {r.stdout}"


# ------------------------------------------------------------ throttling

def test_lockout_after_max_failures(env):
    delays = []
    for i in range(3):
        r = env.rc(1, "directory", "auth", addr("ann"), "--password", "wrong-pw-123",
                   "--ip", "192.0.2.1")
        assert r.stdout.startswith(f"failed: bad credentials (failures={i + 1} ")
        delays.append(int(r.stdout.split("delay_ms=")[1].rstrip(")\n")))
        # Logged with user, account, ip, network and count; never the password.
        assert (f"user=ann@example.test account=ann@example.test ip=192.0.2.1 net=192.0.2.1 "
                f"status=failed check={'hash' if env.backend == 'sql' else 'bind'} "
                f"failures={i + 1} net_failures={i + 1}") in r.stderr, r.stderr
        assert "wrong-pw-123" not in r.stderr
    assert delays == [100, 200, 400]
    # Locked now from that network: even the right password is refused.
    r = env.rc(1, "directory", "auth", addr("ann"), "--password", PASSWORDS["ann"],
               "--ip", "192.0.2.1")
    assert r.stdout.startswith("locked: too many failed logins (retry_after="), r.stdout
    assert "locked=account" in r.stderr
    assert env.sql("SELECT failures, locked_until > now() FROM auth_failures "
                   "WHERE kind = 'account' AND key = 'ann@example.test 192.0.2.1'") == "3|t"
    assert env.sql("SELECT failures FROM auth_failures WHERE kind = 'net' "
                   "AND key = '192.0.2.1'") == "3"
    # Issue 18: never locked for everyone. Ann logs in from anywhere else.
    env.ok("directory", "auth", addr("ann"), "--password", PASSWORDS["ann"], "--ip", "192.0.2.2")
    env.ok("directory", "auth", addr("ann"), "--password", PASSWORDS["ann"])
    # Other users are not affected.
    env.ok("directory", "auth", addr("bob"), "--password", PASSWORDS["bob"])
    # The client address goes into the log and the counters: numeric only.
    r = env.rc(1, "directory", "auth", addr("bob"), "--password", PASSWORDS["bob"],
               "--ip", "192.0.2.1 status=ok\nforged")
    assert "not numeric" in r.stderr


def test_lockout_expires(env):
    conf = env.write_config(auth_lockout="1s")
    for _ in range(3):
        env.rc(1, "directory", "auth", addr("bob"), "--password", "nope", config=conf)
    r = env.rc(1, "directory", "auth", addr("bob"), "--password", PASSWORDS["bob"], config=conf)
    assert r.stdout.startswith("locked")
    time.sleep(1.3)
    env.ok("directory", "auth", addr("bob"), "--password", PASSWORDS["bob"], config=conf)
    # A success clears the account's counter for that network.
    assert env.sql("SELECT count(*) FROM auth_failures WHERE kind = 'account'") == "0"


def test_success_resets_user_counter(env):
    for _ in range(2):
        env.rc(1, "directory", "auth", addr("carol"), "--password", "nope")
    env.ok("directory", "auth", addr("carol"), "--password", PASSWORDS["carol"])
    for _ in range(2):
        env.rc(1, "directory", "auth", addr("carol"), "--password", "nope")
    env.ok("directory", "auth", addr("carol"), "--password", PASSWORDS["carol"])


def test_net_lockout(env):
    # Six failures from one address, spread over users (two each, below the
    # per-account limit), lock the network for everyone in it.
    for user in ("ann", "bob", "carol"):
        for _ in range(2):
            env.rc(1, "directory", "auth", addr(user), "--password", "guess",
                   "--ip", "198.51.100.9")
    r = env.rc(1, "directory", "auth", addr("erin"), "--password", PASSWORDS["erin"],
               "--ip", "198.51.100.9")
    assert r.stdout.startswith("locked")
    assert "locked=net" in r.stderr
    env.ok("directory", "auth", addr("erin"), "--password", PASSWORDS["erin"],
           "--ip", "198.51.100.10")


def test_ipv6_counts_per_64(env):
    """Issue 18: a fresh IPv6 address per attempt, all in one /64, used to
    get a fresh allowance each time. The network is the /64 by default."""
    for i in range(3):
        env.rc(1, "directory", "auth", addr("ann"), "--password", "guess",
               "--ip", f"2001:db8:1:2::{i + 1:x}")
    r = env.rc(1, "directory", "auth", addr("ann"), "--password", PASSWORDS["ann"],
               "--ip", "2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert r.stdout.startswith("locked"), r.stdout
    assert "net=2001:db8:1:2::/64" in r.stderr
    for i in range(3, 6):
        env.rc(1, "directory", "auth", addr("bob"), "--password", "guess",
               "--ip", f"2001:db8:1:2::{i + 1:x}")
    r = env.rc(1, "directory", "auth", addr("erin"), "--password", PASSWORDS["erin"],
               "--ip", "2001:db8:1:2::99")
    assert r.stdout.startswith("locked") and "locked=net" in r.stderr
    # The next /64 is another network; v4-mapped addresses count as IPv4.
    env.ok("directory", "auth", addr("ann"), "--password", PASSWORDS["ann"],
           "--ip", "2001:db8:1:3::1")
    r = env.rc(1, "directory", "auth", addr("carol"), "--password", "guess",
               "--ip", "::ffff:192.0.2.77")
    assert "net=192.0.2.77 " in r.stderr
    # [server] ipv6_prefix = 128 counts each address again.
    conf = env.write_config()
    text = conf.read_text().replace("[store]\n", "[server]\nipv6_prefix = 128\nipv4_prefix = 24\n[store]\n")
    conf.write_text(text)
    env.ok("directory", "auth", addr("ann"), "--password", PASSWORDS["ann"],
           "--ip", "2001:db8:1:2::7", config=conf)
    r = env.rc(1, "directory", "auth", addr("carol"), "--password", "guess",
               "--ip", "192.0.2.77", config=conf)
    assert "net=192.0.2.0/24 " in r.stderr


def test_alias_shares_the_account_allowance(ldap_env):
    """Issue 18: failures counted per name typed gave every address of an
    account an allowance of its own. They count against the account."""
    env = ldap_env
    for name in ("a.smith@example.test", "ANN@example.test", "a.smith@example.test"):
        r = env.rc(1, "directory", "auth", name, "--password", "guess", "--ip", "192.0.2.5")
        assert "account=ann@example.test " in r.stderr
    assert r.stdout.startswith("failed: bad credentials (failures=3 "), r.stdout
    for name in ("ann@example.test", "a.smith@example.test"):
        r = env.rc(1, "directory", "auth", name, "--password", PASSWORDS["ann"],
                   "--ip", "192.0.2.5")
        assert r.stdout.startswith("locked"), r.stdout
    env.ok("directory", "auth", "a.smith@example.test", "--password", PASSWORDS["ann"],
           "--ip", "192.0.2.6")


def test_unknown_disabled_and_passwordless_look_alike(env):
    """Issue 18: same answer, and the same work (a hash or a bind), for an
    unknown name, a disabled account, an account without a password and a
    wrong password; the log line says which check ran."""
    real, dummy = ("hash", "dummy-hash") if env.backend == "sql" else ("bind", "dummy-bind")
    cases = [(addr("ann"), "wrong-pw-1", real),
             (addr("nobody"), PASSWORDS["ann"], dummy),
             (addr("dave"), PASSWORDS["dave"], dummy)]
    if env.backend == "sql":
        env.sql("UPDATE accounts SET password_hash = NULL WHERE address = 'erin@example.test'")
        cases.append((addr("erin"), PASSWORDS["erin"], dummy))
        env.sql("UPDATE accounts SET password_hash = '!' WHERE address = 'bob@example.test'")
        cases.append((addr("bob"), PASSWORDS["bob"], dummy))
    answers = set()
    for i, (user, password, check) in enumerate(cases):
        r = env.rc(1, "directory", "auth", user, "--password", password,
                   "--ip", f"203.0.113.{i + 1}")
        answers.add(r.stdout)
        assert f" status=failed check={check} " in r.stderr, (user, r.stderr)
    assert answers == {"failed: bad credentials (failures=1 delay_ms=100)\n"}, answers


# -------------------------------------------------------- users, address book

def test_user_info(env):
    r = env.ok("directory", "user", addr("ann"))
    assert r.stdout == ("address: ann@example.test\nname: Ann Smith\nphone: +1 555 0101\n"
                        "department: Sales\ntitle: Sales Manager\nquota: 1073741824\n"
                        "enabled: yes\nadmin: yes\n")
    r = env.ok("directory", "user", "a.smith@example.test")
    assert r.stdout.startswith("address: ann@example.test\n")
    r = env.ok("directory", "user", addr("dave"))
    assert "enabled: no\n" in r.stdout and "admin: no\n" in r.stdout
    env.rc(1, "directory", "user", addr("nobody"))


def test_address_book_search(env):
    def names(query):
        out = env.ok("directory", "search", query).stdout
        return [line.split("\t")[0] for line in out.splitlines()]
    assert names("") == [addr(u) for u in ENABLED_USERS]
    assert names("sales") == [addr("ann"), addr("bob")]
    assert names("MANAGER") == [addr("ann"), addr("carol")]
    assert names("green") == [addr("erin")]
    assert names("nothing-like-this") == []
    # "erin" is also in "Engineering".
    assert names("erin") == [addr("carol"), addr("erin")]
    line = env.ok("directory", "search", "Green").stdout
    assert line == "erin@example.test\tErin Green\t+1 555 0301\tSupport\tSupport Engineer\n"
    assert len(env.ok("directory", "search", "", "--limit", "2").stdout.splitlines()) == 2


# ---------------------------------------------------- temporary failures

def test_backend_down_is_a_temporary_failure(env, pg):
    env.ok("directory", "lookup", addr("ann"))
    if env.backend == "ldap":
        env.slapd.kill()
    else:
        pg.stop()
    try:
        for address in (addr("ann"), "nobody@example.test", "all@example.test"):
            r = env.rc(EX_TEMPFAIL, "directory", "lookup", address)
            assert "not found" not in r.stdout
            assert "temporary failure" in r.stderr
        r = env.rc(EX_TEMPFAIL, "directory", "auth", addr("ann"), "--password", PASSWORDS["ann"])
        assert "temporary failure" in r.stderr
        env.rc(EX_TEMPFAIL, "directory", "search", "ann")
    finally:
        if env.backend == "ldap":
            env.slapd.start()
        else:
            pg.start()
    env.ok("directory", "lookup", addr("ann"))
    env.ok("directory", "auth", addr("ann"), "--password", PASSWORDS["ann"])


def batch(env, config=None):
    return subprocess.Popen([CAIRNCTL, "-c", str(config or env.config), "directory", "batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)


def ask(proc, line):
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    return proc.stdout.readline().strip()


def test_one_handle_survives_a_restart(env, pg):
    """One long-lived handle (as in a cairnd worker): the backend is killed
    and restarted under it; it answers tempfail meanwhile, then reconnects."""
    conf = env.write_config(cache_ttl="0")
    p = batch(env, conf)
    try:
        assert ask(p, "lookup ann@example.test") == "ok user local:ann@example.test"
        assert ask(p, f"auth bob@example.test {PASSWORDS['bob']}") == "ok"
        if env.backend == "ldap":
            env.slapd.kill()
        else:
            pg.stop()
        try:
            assert ask(p, "lookup ann@example.test") == "tempfail"
            assert ask(p, "lookup nobody@example.test") == "tempfail"
            assert ask(p, f"auth bob@example.test {PASSWORDS['bob']}") == "tempfail"
        finally:
            if env.backend == "ldap":
                env.slapd.start()
            else:
                pg.start()
        time.sleep(0.3)  # past the store's reconnect_interval
        assert ask(p, "lookup ann@example.test") == "ok user local:ann@example.test"
        assert ask(p, "lookup nobody@example.test") == "notfound"
        assert ask(p, f"auth bob@example.test {PASSWORDS['bob']}") == "ok"
        assert sorted(ask(p, "expand loop-a@example.test").split()[2:]) == \
            ["local:ann@example.test", "local:bob@example.test"]
    finally:
        p.stdin.close()
        p.wait(30)
    assert p.returncode == 0, p.stderr.read()


def test_cache_serves_lookups_never_auth(ldap_env):
    # With the sql backend the cache is just as used, but the database being
    # down also stops the domain check; LDAP shows the cache on its own.
    env = ldap_env
    p = batch(env, env.write_config(cache_ttl="1m"))
    try:
        assert ask(p, "lookup ann@example.test") == "ok user local:ann@example.test"
        assert ask(p, "lookup nobody@example.test") == "notfound"
        assert ask(p, f"auth ann@example.test {PASSWORDS['ann']}") == "ok"
        env.slapd.kill()
        try:
            # Cached answers, positive and negative, stay available...
            assert ask(p, "lookup ann@example.test") == "ok user local:ann@example.test"
            assert ask(p, "lookup nobody@example.test") == "notfound"
            # ...but nothing else, and never a password check.
            assert ask(p, "lookup bob@example.test") == "tempfail"
            assert ask(p, f"auth ann@example.test {PASSWORDS['ann']}") == "tempfail"
        finally:
            env.slapd.start()
    finally:
        p.stdin.close()
        p.wait(30)


# ------------------------------------------------------------------ ldap only

def test_dynamic_group(ldap_env):
    env = ldap_env
    assert route(env.ok("directory", "lookup", "managers@example.test")) == \
        ("group", "managers@example.test", local("ann", "carol"))
    env.slapd.modify("dn: uid=bob,ou=People,dc=example,dc=test\nchangetype: modify\n"
                     "replace: title\ntitle: Sales Manager\n")
    try:
        assert route(env.ok("directory", "lookup", "managers@example.test"))[2] == \
            local("ann", "bob", "carol")
    finally:
        env.slapd.modify("dn: uid=bob,ou=People,dc=example,dc=test\nchangetype: modify\n"
                         "replace: title\ntitle: Sales Representative\n")


def test_failover_to_next_uri(ldap_env):
    env = ldap_env
    from slapd_fixture import free_port
    dead = f"ldap://127.0.0.1:{free_port()}"
    conf = env.write_config(uri=f"{dead} {env.slapd.uri}")
    r = env.ok("directory", "lookup", addr("ann"), config=conf)
    assert r.stdout.startswith("user ann@example.test")
    env.ok("directory", "auth", addr("ann"), "--password", PASSWORDS["ann"], config=conf)
    conf = env.write_config(uri=dead)
    r = env.rc(EX_TEMPFAIL, "directory", "lookup", addr("ann"), config=conf)
    assert "no LDAP server reachable" in r.stderr
    # '#' does not start a comment after a value: the words would become
    # URIs (issue 18; docs/directory.md had this example). Refused, clearly.
    conf = env.write_config(uri=f"{env.slapd.uri} {dead}   # tried in order")
    r = env.run("directory", "lookup", addr("ann"), config=conf)
    assert r.returncode != 0 and not r.stdout.startswith("user"), r.stdout + r.stderr
    assert "'#' is not an ldap://, ldaps:// or ldapi:// URI (only ';' starts a comment" \
        in r.stderr, r.stderr
    conf = env.write_config(uri=f"{env.slapd.uri} {dead}   ; tried in order")
    env.ok("directory", "lookup", addr("ann"), config=conf)


def test_wrong_service_password_is_a_temporary_failure(ldap_env):
    env = ldap_env
    conf = env.write_config(bind_password="not-the-password")
    r = env.rc(EX_TEMPFAIL, "directory", "lookup", addr("ann"), config=conf)
    assert "service bind refused" in r.stderr
    assert "not-the-password" not in r.stderr


def test_anonymous_cannot_see_users(ldap_env):
    # The sample ACLs hide everything from anonymous binds: a lookup without
    # the service account finds nothing. This proves the service bind is used.
    env = ldap_env
    conf = env.write_config(bind_dn="", bind_password="")
    env.rc(1, "directory", "lookup", addr("ann"), config=conf)


def test_sync_creates_disables_and_enables(ldap_env):
    env = ldap_env
    r = env.ok("user", "list", "--long", "yes")
    rows = [line.split("\t") for line in r.stdout.splitlines()[1:]]
    rows = [x for x in rows if x[0] != "harbour@example.test"]   # the room (test_resources.py)
    assert [(x[0], x[1], x[3]) for x in rows] == \
        [(addr(u), "enabled", "ldap") for u in ENABLED_USERS]
    ann = next(x for x in rows if x[0] == addr("ann"))
    assert ann[2] == "admin" and ann[4] == "1073741824" and ann[5] == "Ann Smith"
    # Domains of alternate addresses (the catch-all's) became ours.
    assert env.ok("domain", "list").stdout == "catch.test\nexample.test\n"
    # A second run changes nothing.
    r = env.ok("directory", "sync")
    assert "5 users in the directory: 0 created, 0 enabled again, 4 updated, 0 disabled, " \
           "1 skipped, 0 errors" in r.stdout

    bob_ldif = env.slapd.search("(uid=bob)", "*")
    env.slapd.delete("uid=bob,ou=People,dc=example,dc=test")
    try:
        r = env.ok("directory", "sync")
        assert "sync: bob@example.test: disabled (gone from the directory)" in r.stdout
        assert "1 disabled" in r.stdout
        assert env.sql("SELECT enabled FROM accounts WHERE address = 'bob@example.test'") == "f"
        env.rc(1, "directory", "lookup", addr("bob"))
    finally:
        dn_line, rest = bob_ldif.split("\n", 1)
        env.slapd.modify(f"{dn_line}\nchangetype: add\n{rest}")
    r = env.ok("directory", "sync")
    assert "sync: bob@example.test: enabled again" in r.stdout
    assert env.sql("SELECT enabled FROM accounts WHERE address = 'bob@example.test'") == "t"


def test_sync_refuses_to_disable_everyone(ldap_env):
    env = ldap_env
    conf = env.write_config(user_list_filter="(uid=nobody-at-all)")
    r = env.rc(1, "directory", "sync", config=conf)
    assert "refusing to disable 4 accounts" in r.stderr
    assert env.sql("SELECT count(*) FROM accounts WHERE enabled"
                   " AND id NOT IN (SELECT account_id FROM resources)") == "4"


def test_provision_on_first_use(ldap_env):
    env = ldap_env
    env.sql("DELETE FROM accounts WHERE address = 'erin@example.test'")
    env.ok("directory", "provision", addr("erin"))
    assert env.sql("SELECT source, display_name FROM accounts "
                   "WHERE address = 'erin@example.test'") == "ldap|Erin Green"
    boxes = env.sql("SELECT m.name FROM mailboxes m JOIN accounts a ON a.id = m.account_id "
                    "WHERE a.address = 'erin@example.test' ORDER BY m.name").split("\n")
    assert "INBOX" in boxes and "Sent" in boxes
    # Again: a no-op.
    env.ok("directory", "provision", addr("erin"))
    r = env.rc(1, "directory", "provision", addr("dave"))
    assert r.returncode == 1


# ------------------------------------------------------------------- sql only

def test_alias_admin(sql_env):
    env = sql_env
    assert env.ok("alias", "list").stdout == (
        "@catch.test\tcarol@example.test\n"
        "a.smith@example.test\tann@example.test\n"
        "info@example.test\terin@example.test\n")
    r = env.rc(1, "alias", "add", "a.smith@example.test", addr("ann"))
    assert "alias a.smith@example.test already routes to ann@example.test" in r.stderr
    r = env.rc(1, "alias", "add", "x@example.test", "nobody@example.test")
    assert "unknown target nobody@example.test" in r.stderr
    r = env.rc(1, "alias", "add", "x@nowhere.test", addr("ann"))
    assert "unknown domain nowhere.test" in r.stderr
    r = env.rc(1, "alias", "add", addr("bob"), addr("ann"))
    assert "already in use" in r.stderr
    r = env.rc(1, "alias", "add", "bad address@example.test", addr("ann"))
    assert "invalid alias address" in r.stderr
    # Several targets, one of them remote.
    env.ok("alias", "add", "team@example.test", addr("bob"))
    env.ok("alias", "add", "team@example.test", "partner@remote.test")
    assert route(env.ok("directory", "lookup", "team@example.test")) == \
        ("alias", "team@example.test", sorted(["local bob@example.test",
                                               "remote partner@remote.test"]))
    env.ok("alias", "del", "team@example.test", "partner@remote.test")
    env.ok("alias", "del", "team@example.test", addr("bob"))
    env.rc(1, "directory", "lookup", "team@example.test")
    r = env.rc(1, "alias", "del", "team@example.test")
    assert "unknown alias team@example.test" in r.stderr
    # An account cannot take an alias's address either.
    r = env.rc(1, "user", "add", "info@example.test", "--password", "pw-long-enough")
    assert "already" in r.stderr


def test_group_admin(sql_env):
    env = sql_env
    r = env.ok("group", "list", "example.test")
    assert "all@example.test\t4 members\n" in r.stdout
    assert env.ok("group", "member", "list", "sales@example.test").stdout == \
        "ann@example.test\nbob@example.test\n"
    r = env.rc(1, "group", "add", "sales@example.test")
    assert "address sales@example.test is already in use" in r.stderr
    r = env.rc(1, "group", "add", addr("ann"))
    assert "already in use" in r.stderr
    r = env.rc(1, "group", "member", "add", "sales@example.test", addr("ann"))
    assert "ann@example.test is already a member of sales@example.test" in r.stderr
    r = env.rc(1, "group", "member", "add", "nogroup@example.test", addr("ann"))
    assert "unknown group nogroup@example.test" in r.stderr
    r = env.rc(1, "group", "member", "add", "sales@example.test", "ghost@example.test")
    assert "unknown member ghost@example.test" in r.stderr
    env.ok("group", "member", "del", "sales@example.test", addr("bob"))
    assert route(env.ok("directory", "lookup", "sales@example.test"))[2] == local("ann")
    r = env.rc(1, "group", "member", "del", "sales@example.test", addr("bob"))
    assert "bob@example.test is not a member of sales@example.test" in r.stderr
    env.ok("group", "del", "loop-b@example.test")
    assert route(env.ok("directory", "lookup", "loop-a@example.test"))[2] == local("ann")
    env.rc(2, "group", "member", "frob", "sales@example.test", addr("ann"))


def test_sync_sql_refreshes_gal(sql_env):
    # Nothing to copy from the sql backend; the GAL is refreshed.
    r = sql_env.ok("directory", "sync")
    assert "nothing to sync" in r.stdout
    assert "gal: " in r.stdout


def stop_process(pid, timeout=30):
    """SIGSTOP pid and return once every one of its threads has stopped.
    kill() returns before that: the signal wakes one thread, which then
    stops the others, and until they have stopped a multi-threaded server
    (slapd) can still read and answer a request sent after kill()."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + timeout
    while True:
        states = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                stat = (task / "stat").read_text()
            except FileNotFoundError:
                continue
            states.append(stat[stat.rindex(")") + 2])
        if states and all(st in "Tt" for st in states):
            return
        assert time.monotonic() < deadline, f"pid {pid} not stopped: {states}"
        time.sleep(0.01)


def ask_within(proc, line, timeout):
    """ask(), but a caller that hangs fails instead of blocking the suite."""
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"no answer to {line!r} within {timeout}s: the call hangs"
    return proc.stdout.readline().strip()


def test_hung_server_times_out(ldap_env):
    """A server that accepts but never answers (stopped, not dead) must not
    hang the caller: every call has a timeout and ends in tempfail."""
    env = ldap_env
    conf = env.write_config(timeout="1s", cache_ttl="0")
    p = batch(env, conf)
    try:
        assert ask(p, "lookup ann@example.test") == "ok user local:ann@example.test"
        stop_process(env.slapd.proc.pid)
        try:
            # With a 1 s timeout a call ends in a few seconds; 60 s only
            # tells a hang from a slow machine.
            assert ask_within(p, "lookup bob@example.test", 60) == "tempfail"
            assert ask_within(p, f"auth ann@example.test {PASSWORDS['ann']}", 60) == "tempfail"
            r = env.rc(EX_TEMPFAIL, "directory", "lookup", addr("carol"), config=conf)
        finally:
            os.kill(env.slapd.proc.pid, signal.SIGCONT)
        assert ask(p, "lookup bob@example.test") == "ok user local:bob@example.test"
    finally:
        p.stdin.close()
        p.wait(30)


def test_worker_pool_handles(env):
    """Through the real worker pool: one handle per worker thread, all of
    them used concurrently (LDAP connections, stores and the shared cache),
    every answer for an address the same."""
    binary = worker_test_binary()
    assert binary.exists(), f"{binary} missing: run make check (or make {binary.name})"
    for cache in ("0", "1m"):
        conf = env.write_config(cache_ttl=cache)
        r = subprocess.run([str(binary), str(conf), "4", "40", "all@example.test",
                            "loop-a@example.test", "a.smith@example.test",
                            "nobody@example.test", "x@catch.test", "y@elsewhere.test"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        lines = r.stdout.splitlines()
        # Kinds: 0 user, 1 alias, 2 group, 3 catch-all.
        assert lines[:6] == [
            "all@example.test ok 2 ann@example.test bob@example.test carol@example.test "
            "erin@example.test",
            "loop-a@example.test ok 2 ann@example.test bob@example.test",
            "a.smith@example.test ok 1 ann@example.test",
            "nobody@example.test not found ",
            "x@catch.test ok 3 carol@example.test",
            "y@elsewhere.test not ours ",
        ]
        handles = int(lines[6].split("=")[1])
        assert 2 <= handles <= 4, lines[6]


def test_tls(ldap_env):
    """StartTLS and ldaps:// with the server's certificate verified."""
    env = ldap_env
    ca = env.slapd.ca_file
    for extra in ({"start_tls": "yes", "ca_file": ca},
                  {"uri": env.slapd.ldaps_uri, "ca_file": ca}):
        conf = env.write_config(**extra)
        env.ok("directory", "lookup", addr("ann"), config=conf)
        env.ok("directory", "auth", addr("ann"), "--password", PASSWORDS["ann"], config=conf)
    # A certificate nobody vouches for is refused: no silent plaintext fallback.
    conf = env.write_config(start_tls="yes")
    r = env.rc(EX_TEMPFAIL, "directory", "lookup", addr("ann"), config=conf)
    assert "StartTLS failed" in r.stderr
    conf = env.write_config(uri=env.slapd.ldaps_uri)
    env.rc(EX_TEMPFAIL, "directory", "lookup", addr("ann"), config=conf)
