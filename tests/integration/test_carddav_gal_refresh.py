"""The global address list kept current by cairnd itself (issue 20): with
the sql directory every change (migration 0034's triggers NOTIFY
cairn_gal) refreshes it, debounced by [directory] gal_refresh_delay; with
LDAP it is reread every [directory] gal_refresh_interval. Nobody runs
`cairnctl addressbook gal-sync` here: the tests wait (with a timeout) for
the change to show up in a CardDAV sync-collection."""
import re
import time

import pytest

from carddav_util import CR, NS_ALL, book
from dav_util import Dav, ctl, responses, setup_users, xml
from slapd_fixture import slapd  # noqa: F401

ANN = "ann@dav.test"
TIMEOUT = 30


def wait_for(cond, what, timeout=TIMEOUT):
    """Poll cond() until it returns something true; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def sync(c, path, token):
    """sync-collection from token: ({href: (etag, card) or None if gone}, new token)."""
    body = ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:" '
            'xmlns:CR="urn:ietf:params:xml:ns:carddav">'
            f'<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>'
            '<D:prop><D:getetag/><CR:address-data/></D:prop></D:sync-collection>')
    st, _, data = c.request("REPORT", path, body)
    assert st == 207, data
    out = {}
    for href, props in responses(data).items():
        if "404" in props.get("__status__", ""):
            out[href] = None
        elif "{DAV:}getetag" in props:
            out[href] = (props["{DAV:}getetag"][1].text,
                         props[f"{{{CR}}}address-data"][1].text or "")
    return out, xml(data).find("D:sync-token", NS_ALL).text


def fn_of(card):
    return re.search(r"FN:(.*)\r\n", card).group(1)


class GalWatch:
    """A client that follows the GAL through sync-collection."""

    def __init__(self, c, path):
        self.c, self.path, self.token = c, path, ""
        self.cards = {}

    def changes(self):
        """Apply one sync; return what changed ({href: (etag, card) or None})."""
        got, self.token = sync(self.c, self.path, self.token)
        for href, v in got.items():
            if v is None:
                self.cards.pop(href, None)
            else:
                self.cards[href] = v
        return got

    def wait(self, cond, what):
        """Sync until cond(changes) holds; return those changes."""
        def step():
            ch = self.changes()
            return ch if ch and cond(ch) else None
        return wait_for(step, what)

    def href_of(self, fn):
        return next((h for h, (_, card) in self.cards.items() if fn_of(card) == fn), None)


@pytest.fixture
def sqlgal(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"directory": {"gal_refresh_delay": "200ms"}})
    setup_users(d, "ann", "bob")
    return d


def test_sql_changes_refresh_gal(sqlgal):
    d = sqlgal
    c = Dav(d, ANN)
    w = GalWatch(c, book(ANN, "gal"))
    # the accounts made after startup show up without gal-sync
    wait_for(lambda: (w.changes(), len(w.cards) == 2)[1], "ann and bob in the GAL")
    etags = {h: v[0] for h, v in w.cards.items()}

    # a new user
    ctl(d, "user", "add", "dan@dav.test", "--password", "Dan-Secret-1", "--name", "Dan Lee")
    ch = w.wait(lambda ch: any(v and fn_of(v[1]) == "Dan Lee" for v in ch.values()),
                "dan in the GAL")
    assert len(ch) == 1                      # only dan: the others kept their ETags
    dan = w.href_of("Dan Lee")
    assert "EMAIL;TYPE=work;PREF=1:dan@dav.test" in w.cards[dan][1]
    assert {h: v[0] for h, v in w.cards.items() if h != dan} == etags

    # a rename changes that card only
    ctl(d, "user", "set", "dan@dav.test", "--name", "Daniel Lee")
    ch = w.wait(lambda ch: dan in ch, "dan's card renamed")
    assert list(ch) == [dan] and fn_of(ch[dan][1]) == "Daniel Lee"

    # a group, then a member
    ctl(d, "group", "add", "team@dav.test", "--name", "The Team")
    w.wait(lambda ch: any(v and fn_of(v[1]) == "The Team" for v in ch.values()),
           "the group in the GAL")
    team = w.href_of("The Team")
    assert "MEMBER:" not in w.cards[team][1]
    ctl(d, "group", "member", "add", "team@dav.test", "dan@dav.test")
    ch = w.wait(lambda ch: team in ch, "the group's new member")
    assert "MEMBER:urn:uuid:" in ch[team][1]

    # a deleted user disappears
    ctl(d, "user", "del", "dan@dav.test")
    ch = w.wait(lambda ch: dan in ch, "dan removed from the GAL")
    assert ch[dan] is None and dan not in w.cards
    c.close()


def test_directory_sync_sql_refreshes_gal(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"directory": {"gal_refresh_delay": "1h"}})
    setup_users(d, "ann", "bob")
    r = ctl(d, "directory", "sync")
    assert "nothing to sync" in r.stdout
    assert "gal: 2 entries: 2 added, 0 changed, 0 removed" in r.stdout, r.stdout
    r = ctl(d, "directory", "sync")
    assert "gal: 2 entries: 0 added, 0 changed, 0 removed" in r.stdout, r.stdout


NEW_DN = "uid=gwen,ou=People,dc=example,dc=test"


@pytest.fixture
def ldapgal(cairnd_factory, pg, slapd):  # noqa: F811
    pg.reset_db()
    d = cairnd_factory({"directory": slapd.directory_config(gal_refresh_interval="300ms")})
    ctl(d, "directory", "sync")              # the accounts, so that ann can log in
    yield d
    try:
        slapd.delete(NEW_DN)
    except RuntimeError:                     # the test failed before adding it
        pass


def test_ldap_periodic_refresh(ldapgal, slapd):  # noqa: F811
    d = ldapgal
    c = Dav(d, "ann@example.test", password="Ann-Secret-1")
    w = GalWatch(c, book("ann@example.test", "gal"))
    wait_for(lambda: (w.changes(), w.href_of("Ann Smith"))[1], "ann in the GAL")
    before = {h: v[0] for h, v in w.cards.items()}
    slapd.modify(f"dn: {NEW_DN}\nchangetype: add\nobjectClass: inetOrgPerson\n"
                 "objectClass: cairnMailUser\nuid: gwen\ncn: Gwen Stone\nsn: Stone\n"
                 "mail: gwen@example.test\n")
    ch = w.wait(lambda ch: any(v and fn_of(v[1]) == "Gwen Stone" for v in ch.values()),
                "gwen in the GAL")
    assert len(ch) == 1
    assert {h: v[0] for h, v in w.cards.items() if h in before} == before
    slapd.modify(f"dn: {NEW_DN}\nchangetype: modify\nreplace: cn\ncn: Gwen Stone-Hill\n")
    gwen = w.href_of("Gwen Stone")
    ch = w.wait(lambda ch: gwen in ch, "gwen renamed")
    assert fn_of(ch[gwen][1]) == "Gwen Stone-Hill"
    c.close()
