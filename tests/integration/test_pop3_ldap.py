"""POP3 against an LDAP directory: users log in with their directory
passwords (checked by binding as the user), are provisioned on first login,
and a slapd outage gives temporary failures, never crashes or permanent
refusals, with full service once it is back."""
import poplib
import ssl
import subprocess
import time

import pytest

from conftest import CAIRNCTL
from slapd_fixture import slapd  # noqa: F401  (fixture)

ANN_PW = "Ann-Secret-1"


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def pop_login(d, user, password):
    p = poplib.POP3("127.0.0.1", d.pop3_port, timeout=15)
    p.stls(tls_ctx())
    p.user(user)
    p.pass_(password)
    return p


@pytest.fixture
def ldap_cairnd(cairnd_factory, pg, slapd):  # noqa: F811
    pg.reset_db()
    return cairnd_factory({"directory": slapd.directory_config(),
                           "store": {"reconnect_interval": "200ms"}})


def test_directory_password_and_first_login_provisioning(ldap_cairnd, pg):
    d = ldap_cairnd
    # Nothing synced yet: the first login creates the account and its mailboxes.
    assert pg.psql("cairn", "SELECT count(*) FROM accounts WHERE address='ann@example.test'") == "0\n"
    p = pop_login(d, "ann@example.test", ANN_PW)
    assert p.stat() == (0, 0)
    p.quit()
    boxes = pg.psql("cairn", "SELECT m.name FROM mailboxes m JOIN accounts a ON a.id = m.account_id"
                             " WHERE a.address = 'ann@example.test' ORDER BY 1").split()
    assert "INBOX" in boxes and "Sent" in boxes and "Trash" in boxes
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        pop_login(d, "ann@example.test", "wrong-password")
    # An injection attempt as a user name matches nobody.
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        pop_login(d, "*)(uid=*", ANN_PW)


def test_slapd_outage_is_temporary(ldap_cairnd, slapd):  # noqa: F811
    d = ldap_cairnd
    pop_login(d, "ann@example.test", ANN_PW).quit()
    slapd.kill()
    try:
        with pytest.raises(poplib.error_proto, match=r"\[SYS/TEMP\]"):
            pop_login(d, "ann@example.test", ANN_PW)
        assert d.proc.poll() is None
    finally:
        slapd.start()
    deadline = time.monotonic() + 20
    while True:
        try:
            pop_login(d, "ann@example.test", ANN_PW).quit()
            break
        except poplib.error_proto as e:
            assert b"SYS/TEMP" in e.args[0], e
            assert time.monotonic() < deadline, "no service 20 s after slapd came back"
            time.sleep(0.5)
