"""Resources (issue 15 item 4): rooms and equipment as directory entries.
cairnctl resource add|set|list|show|del in the sql directory (errors name
the option), an LDAP room from the test slapd brought in by `cairnctl
directory sync`, both listed in the global address list as KIND:location /
KIND:device with capacity and location, and the booking policy seen through
scheduling when it is there."""
import re

import pytest

from carddav_util import address_data, book, query
from dav_util import Dav, ctl, setup_users
from slapd_fixture import slapd  # noqa: F401

ROOM = "room1@dav.test"


@pytest.fixture
def sqldir(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann", "bob", "carol")
    return d


def show(d, address):
    r = ctl(d, "resource", "show", address)
    return dict(line.split(": ", 1) for line in r.stdout.splitlines())


def test_resource_commands(sqldir):
    d = sqldir
    ctl(d, "resource", "add", ROOM, "--name", "Board Room", "--capacity", "8",
        "--location", "Building A, 2nd floor", "--window", "30")
    s = show(d, ROOM)
    assert s == {"address": ROOM, "name": "Board Room", "kind": "room", "capacity": "8",
                 "location": "Building A, 2nd floor", "policy": "auto", "window": "30",
                 "bookers": "everyone", "delegate": "", "enabled": "yes", "source": "local"}
    ctl(d, "resource", "add", "Beamer@DAV.test", "--kind", "equipment", "--policy", "manual",
        "--delegate", "carol@dav.test", "--bookers", "ann@dav.test, sales@dav.test")
    s = show(d, "beamer@dav.test")
    assert s["kind"] == "equipment" and s["policy"] == "manual"
    assert s["bookers"] == "ann@dav.test,sales@dav.test" and s["delegate"] == "carol@dav.test"
    # set changes only what it is given
    ctl(d, "resource", "set", ROOM, "--capacity", "0", "--bookers", "bob@dav.test",
        "--enabled", "no")
    s = show(d, ROOM)
    assert s["capacity"] == "0" and s["bookers"] == "bob@dav.test" and s["enabled"] == "no"
    assert s["location"] == "Building A, 2nd floor" and s["window"] == "30"
    ctl(d, "resource", "set", ROOM, "--bookers", "everyone", "--enabled", "yes")
    assert show(d, ROOM)["bookers"] == "everyone"
    # list, searchable
    lines = ctl(d, "resource", "list").stdout.splitlines()
    assert [l.split("\t")[0] for l in lines] == ["beamer@dav.test", ROOM]
    assert lines[1].split("\t")[1:5] == ["room", "0", "auto", "Building A, 2nd floor"]
    assert ctl(d, "resource", "list", "--search", "building a").stdout.startswith(ROOM)
    assert ctl(d, "resource", "list", "other.test").stdout == ""
    # a resource is an account that never logs in
    assert ROOM in ctl(d, "user", "list").stdout
    # errors name the option
    for args, want in [(["--capacity", "many"], "--capacity \"many\""),
                       (["--capacity", "100001"], "--capacity"),
                       (["--kind", "car"], "--kind \"car\": must be room or equipment"),
                       (["--policy", "maybe"], "--policy \"maybe\""),
                       (["--window", "-1"], "--window \"-1\""),
                       (["--bookers", "ann@dav.test,not-an-address"], "--bookers"),
                       (["--delegate", "x@"], "--delegate \"x@\""),
                       (["--location", "a\x01b"], "--location"),
                       (["--enabled", "perhaps"], "--enabled")]:
        r = ctl(d, "resource", "set", ROOM, *args, check=False)
        assert r.returncode != 0 and want in r.stderr, (args, r.stderr)
    r = ctl(d, "resource", "add", "ann@dav.test", check=False)
    assert r.returncode == 1 and "already exists" in r.stderr
    r = ctl(d, "resource", "add", "x@nodomain.test", check=False)
    assert r.returncode == 1
    r = ctl(d, "resource", "set", "ann@dav.test", "--capacity", "3", check=False)
    assert r.returncode == 1 and "not a resource" in r.stderr
    r = ctl(d, "resource", "set", ROOM, check=False)
    assert r.returncode == 2 and "nothing to change" in r.stderr
    # del takes the account with it; users are not resources
    r = ctl(d, "resource", "del", "ann@dav.test", check=False)
    assert r.returncode == 1 and "not a resource" in r.stderr
    ctl(d, "resource", "del", ROOM)
    assert ROOM not in ctl(d, "user", "list").stdout
    assert ctl(d, "resource", "show", ROOM, check=False).returncode == 1


def gal_cards(d, user="ann@dav.test"):
    c = Dav(d, user)
    st, _, body = query(c, book(user, "gal"), "<CR:filter/>", props="<CR:address-data/>")
    assert st == 207, body
    c.close()
    return {re.search(r"FN:(.*)\r\n", v).group(1): v for v in address_data(body).values()}


def test_gal_lists_sql_resources(sqldir):
    d = sqldir
    ctl(d, "resource", "add", ROOM, "--name", "Board Room", "--capacity", "8",
        "--location", "Building A; 2nd floor")
    ctl(d, "resource", "add", "beamer@dav.test", "--name", "Beamer", "--kind", "equipment")
    ctl(d, "resource", "add", "old@dav.test", "--name", "Old Room", "--enabled", "no")
    r = ctl(d, "addressbook", "gal-sync")
    assert "gal: 5 entries: 5 added" in r.stdout, r.stdout
    cards = gal_cards(d)
    room = cards["Board Room"]
    assert "KIND:location" in room and f"EMAIL;TYPE=work;PREF=1:{ROOM}" in room
    assert "ADR;TYPE=work:;Building A\\; 2nd floor;;;;;" in room
    assert "X-CAIRN-CAPACITY:8" in room and "NOTE:Capacity: 8" in room
    beamer = cards["Beamer"]
    assert "KIND:device" in beamer and "CAPACITY" not in beamer and "ADR" not in beamer
    assert "Old Room" not in cards                    # disabled: not listed
    assert "KIND:individual" in cards["ann@dav.test"]
    # a change shows at the next sync
    ctl(d, "resource", "set", ROOM, "--capacity", "12")
    r = ctl(d, "addressbook", "gal-sync")
    assert "0 added, 1 changed" in r.stdout, r.stdout
    assert "X-CAIRN-CAPACITY:12" in gal_cards(d)["Board Room"]
