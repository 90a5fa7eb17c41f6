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
    # gal-sync by hand below: no automatic refresh in between
    d = cairnd_factory({"directory": {"gal_refresh_delay": "1h"}})
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
    # the delegate may write the resource's calendars (calendar-proxy-write)
    assert d.pg.psql("cairn", "SELECT count(*) FROM dav_proxies").strip() == "1"
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


HARBOUR = "harbour@example.test"


def test_ldap_resource_sync_and_gal(cairnd_factory, pg, slapd):  # noqa: F811
    pg.reset_db()
    d = cairnd_factory({"directory": slapd.directory_config()})
    r = ctl(d, "directory", "sync")
    assert "sync: harbour@example.test: resource created" in r.stdout, r.stdout
    assert "sync: 1 resources in the directory: 1 created, 0 errors" in r.stdout
    s = show(d, HARBOUR)
    assert s["name"] == "Harbour Room" and s["kind"] == "room" and s["capacity"] == "10"
    assert s["location"] == "Main building, 3rd floor" and s["window"] == "90"
    assert s["policy"] == "auto" and s["source"] == "ldap"
    # the sales group's members (by DN) and erin (by address); carol by DN
    assert s["bookers"] == "ann@example.test,bob@example.test,erin@example.test"
    assert s["delegate"] == "carol@example.test"
    assert pg.psql("cairn", "SELECT count(*) FROM accounts a JOIN resources r"
                   " ON r.account_id = a.id WHERE a.source = 'ldap'").strip() == "1"
    # listed in the GAL as a location with its capacity and location
    c = Dav(d, "ann@example.test", password="Ann-Secret-1")
    st, _, body = query(c, book("ann@example.test", "gal"), "<CR:filter/>",
                        props="<CR:address-data/>")
    c.close()
    cards = {re.search(r"FN:(.*)\r\n", v).group(1): v for v in address_data(body).values()}
    room = cards["Harbour Room"]
    assert "KIND:location" in room and "X-CAIRN-CAPACITY:10" in room
    assert "ADR;TYPE=work:;Main building\\, 3rd floor;;;;;" in room
    # a change in LDAP reaches the store at the next sync; a second run creates nothing
    slapd.modify("dn: cn=Harbour Room,ou=Resources,dc=example,dc=test\nchangetype: modify\n"
                 "replace: cairnBookingPolicy\ncairnBookingPolicy: manual\n-\n"
                 "delete: cairnResourceBooker\n")
    try:
        r = ctl(d, "directory", "sync")
        assert "1 resources in the directory: 0 created, 0 errors" in r.stdout, r.stdout
        s = show(d, HARBOUR)
        assert s["policy"] == "manual" and s["bookers"] == "everyone"
        # gone from LDAP (or disabled there): the account is disabled, never deleted
        slapd.modify("dn: cn=Harbour Room,ou=Resources,dc=example,dc=test\n"
                     "changetype: modify\nadd: cairnMailEnabled\ncairnMailEnabled: FALSE\n")
        r = ctl(d, "directory", "sync")
        assert "sync: harbour@example.test: disabled (gone from the directory)" in r.stdout
        assert show(d, HARBOUR)["enabled"] == "no"
    finally:
        slapd.modify("dn: cn=Harbour Room,ou=Resources,dc=example,dc=test\n"
                     "changetype: modify\nreplace: cairnBookingPolicy\ncairnBookingPolicy: auto\n"
                     "-\nadd: cairnResourceBooker\n"
                     "cairnResourceBooker: cn=sales,ou=Groups,dc=example,dc=test\n"
                     "cairnResourceBooker: erin@example.test\n-\n"
                     "delete: cairnMailEnabled\n")
    r = ctl(d, "directory", "sync")
    assert "sync: harbour@example.test: resource enabled again" in r.stdout, r.stdout


# ---- booking through CalDAV scheduling (sched15's implicit scheduling) ----

ANN, BOB, CAROL = "ann@dav.test", "bob@dav.test", "carol@dav.test"
SMALL, BEAMER = "small@dav.test", "beamer@dav.test"


def sched_put(c, user, name, data):
    from sched_util import TEXT_CAL
    st, _, body = c.request("PUT", f"/dav/calendars/{user}/calendar/{name}", data, TEXT_CAL)
    assert st in (201, 204), body
    return st


def room_answer(c, user, name, room):
    """The room's PARTSTAT in the organizer's copy, once it is not NEEDS-ACTION."""
    from sched_util import attendee_param
    st, _, org = c.request("GET", f"/dav/calendars/{user}/calendar/{name}")
    assert st == 200, org
    return attendee_param(org, room, "PARTSTAT")


def invite(c, org, name, uid, rooms, people=(), start="20270110T100000Z",
           end="20270110T110000Z", extra=""):
    from sched_util import meeting
    params = {r: "CUTYPE=ROOM;PARTSTAT=NEEDS-ACTION;RSVP=TRUE" for r in rooms}
    sched_put(c, org, name, meeting(uid, org, list(people) + list(rooms), start=start,
                                     end=end, att_params=params, extra=extra))


@pytest.fixture
def booking(sqldir):
    d = sqldir
    ctl(d, "resource", "add", ROOM, "--name", "Board Room", "--capacity", "8", "--window", "90")
    ctl(d, "resource", "add", SMALL, "--name", "Small Room", "--capacity", "2",
        "--bookers", ANN)
    ctl(d, "resource", "add", BEAMER, "--kind", "equipment", "--policy", "manual",
        "--delegate", CAROL)
    for u in (ANN, BOB):
        st, _, _ = Dav(d, u).request("MKCALENDAR", f"/dav/calendars/{u}/calendar/")
        assert st in (201, 405)
    return d


def test_booking_through_scheduling(booking):
    from sched_util import inbox_items, prop_values, wait_for
    d = booking
    a, b = Dav(d, ANN), Dav(d, BOB)
    # free: accepted, and the room's calendar holds the booking
    invite(a, ANN, "m1.ics", "m1", [ROOM], [BOB])
    assert wait_for(lambda: room_answer(a, ANN, "m1.ics", ROOM) == ["ACCEPTED"])
    replies = [t for _, t in inbox_items(a, ANN) if "METHOD:REPLY" in t]
    assert any("is free and booked" in "".join(prop_values(t, "COMMENT")) for t in replies), \
        replies
    # the same time by someone else: declined on conflict, with the reason
    invite(b, BOB, "m2.ics", "m2", [ROOM], start="20270110T103000Z", end="20270110T113000Z")
    assert wait_for(lambda: room_answer(b, BOB, "m2.ics", ROOM) == ["DECLINED"])
    replies = [t for _, t in inbox_items(b, BOB) if "METHOD:REPLY" in t]
    assert any("already booked" in "".join(prop_values(t, "COMMENT")) for t in replies)
    # m1 moved by half an hour overlaps its old time: no conflict with itself
    from sched_util import meeting
    params = {ROOM: "CUTYPE=ROOM;PARTSTAT=NEEDS-ACTION;RSVP=TRUE"}
    sched_put(a, ANN, "m1.ics", meeting("m1", ANN, [BOB, ROOM], start="20270110T093000Z",
                                        end="20270110T103000Z", att_params=params, seq=1))
    assert wait_for(lambda: room_answer(a, ANN, "m1.ics", ROOM) == ["ACCEPTED"])
    # 10:30-11:00 is free now (m1 ends at 10:30; m2, declined, holds nothing)
    invite(b, BOB, "m3.ics", "m3", [ROOM], start="20270110T103000Z", end="20270110T110000Z")
    assert wait_for(lambda: room_answer(b, BOB, "m3.ics", ROOM) == ["ACCEPTED"])
    # beyond the 90-day window: declined (a weekly meeting for a year too)
    invite(a, ANN, "m4.ics", "m4", [ROOM], start="20271201T100000Z", end="20271201T110000Z")
    assert wait_for(lambda: room_answer(a, ANN, "m4.ics", ROOM) == ["DECLINED"])
    invite(a, ANN, "m5.ics", "m5", [ROOM], start="20270111T100000Z", end="20270111T110000Z",
           extra="RRULE:FREQ=WEEKLY;COUNT=52\r\n")
    assert wait_for(lambda: room_answer(a, ANN, "m5.ics", ROOM) == ["DECLINED"])
    # a weekly meeting within the window whose third instance hits m1: declined
    invite(b, BOB, "m6.ics", "m6", [ROOM], start="20261227T093000Z", end="20261227T100000Z",
           extra="RRULE:FREQ=WEEKLY;COUNT=3\r\n")
    assert wait_for(lambda: room_answer(b, BOB, "m6.ics", ROOM) == ["DECLINED"])
    # not a booker of the small room: declined; ann is, but brings too many people
    invite(b, BOB, "m7.ics", "m7", [SMALL], start="20270112T100000Z", end="20270112T110000Z")
    assert wait_for(lambda: room_answer(b, BOB, "m7.ics", SMALL) == ["DECLINED"])
    invite(a, ANN, "m8.ics", "m8", [SMALL], [BOB, CAROL], start="20270112T100000Z",
           end="20270112T110000Z")
    assert wait_for(lambda: room_answer(a, ANN, "m8.ics", SMALL) == ["DECLINED"])
    invite(a, ANN, "m9.ics", "m9", [SMALL], [BOB], start="20270112T100000Z",
           end="20270112T110000Z")
    assert wait_for(lambda: room_answer(a, ANN, "m9.ics", SMALL) == ["ACCEPTED"])
    # manual approval: stays NEEDS-ACTION for the delegate
    invite(a, ANN, "m10.ics", "m10", [BEAMER], start="20270113T100000Z", end="20270113T110000Z")
    from sched_util import find_uid
    c = Dav(d, CAROL)
    copy = wait_for(lambda: find_uid(c, BEAMER, "m10"))
    from sched_util import attendee_param
    assert attendee_param(copy, BEAMER, "PARTSTAT") == ["NEEDS-ACTION"]
    assert room_answer(a, ANN, "m10.ics", BEAMER) == ["NEEDS-ACTION"]
    # the delegate (calendar-proxy-write on the resource) approves it there
    from sched_util import TEXT_CAL, calendar_objects, unfold
    href = next(h for h in calendar_objects(c, BEAMER)
                if f"UID:m10" in unfold(c.request("GET", h)[2]))
    approved = unfold(copy).replace(f"PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{BEAMER}",
                                    f"PARTSTAT=ACCEPTED:mailto:{BEAMER}")
    approved = approved.replace(f"RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:{BEAMER}",
                                f"PARTSTAT=ACCEPTED:mailto:{BEAMER}")
    assert attendee_param(approved, BEAMER, "PARTSTAT") == ["ACCEPTED"], approved
    st, _, body = c.request("PUT", href, approved, TEXT_CAL)
    assert st in (201, 204), body
    assert wait_for(lambda: room_answer(a, ANN, "m10.ics", BEAMER) == ["ACCEPTED"])
