"""Delegation (issue 15 item 5): the CalendarServer calendar-proxy extension.
An owner names write and read delegates with PROPPATCH of DAV:group-member-set
on its calendar-proxy-write/-read principals; a delegate finds the owner through
CS:calendar-proxy-*-for (PROPFIND and the expand-property REPORT Apple uses)
and reads, or reads and writes, the owner's calendars; strangers get nothing;
groups as delegates; removal revokes; cairnctl calendar delegate/list; a
delegate answering an invitation for the owner (REPLY with SENT-BY) and
sending from the owner's outbox."""
import re

import pytest

from dav_util import NS, PASSWORD, Dav, ctl, ics, propfind, responses, setup_users, xml
from sched_util import attendee_param, calendar_objects, inbox_items, meeting, unfold

ANN = "ann@dav.test"
BOB = "bob@dav.test"
CARL = "carl@dav.test"
DAN = "dan@dav.test"
CAL = f"/dav/calendars/{ANN}/calendar/"
HOME = f"/dav/calendars/{ANN}/"
PWRITE = f"/dav/principals/{ANN}/calendar-proxy-write/"
PREAD = f"/dav/principals/{ANN}/calendar-proxy-read/"
TEXT_CAL = {"Content-Type": "text/calendar"}
CS = "{http://calendarserver.org/ns/}"


def norm(href):
    """An href as the tests name it: '@' whether or not the server encodes it."""
    return href.replace("%40", "@")


@pytest.fixture
def proxy(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann", "bob", "carl", "dan")
    a = Dav(d, ANN)
    # the owner's calendar (provisioned once scheduling is in: then 405) with an event
    assert a.request("MKCALENDAR", CAL)[0] in (201, 405)
    st, _, data = propfind(a, HOME, "<D:resourcetype/>", depth="1")
    assert st == 207 and CAL in responses(data), data
    assert a.request("PUT", CAL + "e.ics", ics("e-1", "Board meeting"), TEXT_CAL)[0] == 201
    yield d, a, Dav(d, BOB), Dav(d, CARL), Dav(d, DAN)


def members_body(*hrefs, prop="<D:group-member-set>{}</D:group-member-set>"):
    inner = "".join(f"<D:href>{h}</D:href>" for h in hrefs)
    return ('<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
            + prop.format(inner) + '</D:prop></D:set></D:propertyupdate>')


def set_members(c, path, *hrefs):
    st, _, data = c.request("PROPPATCH", path, members_body(*hrefs))
    assert st == 207, data
    return responses(data)[path.replace("%40", "@")]


def member_set(c, path):
    st, _, data = propfind(c, path, "<D:group-member-set/>")
    assert st == 207, data
    status, el = responses(data)[path]["{DAV:}group-member-set"]
    assert "200" in status, data
    return [norm(h.text) for h in el.findall("D:href", NS)]


def href_list(c, path, prop):
    st, _, data = propfind(c, path, prop)
    assert st == 207, data
    (status, el), = [v for k, v in responses(data)[path].items() if k != "__status__"]
    return status, [norm(h.text) for h in el.findall("D:href", NS)]


def privileges(c, path):
    st, _, data = propfind(c, path, "<D:current-user-privilege-set/>")
    assert st == 207, data
    r = list(responses(data).values())[0]["{DAV:}current-user-privilege-set"][1]
    return {p[0].tag.split("}")[1] for p in r.findall("D:privilege", NS)}


def principal(u, proxy=""):
    return f"/dav/principals/{u}/" + (f"{proxy}/" if proxy else "")


def test_proxy_principals(proxy):
    d, a, b, c, _ = proxy
    st, headers, _ = a.request("OPTIONS", "/dav/")
    assert "calendar-proxy" in headers["dav"]
    st, _, data = propfind(a, f"/dav/principals/{ANN}/",
                           "<D:resourcetype/><D:principal-URL/><D:group-member-set/>", depth="1")
    assert st == 207, data
    r = responses(data)
    assert set(r) == {f"/dav/principals/{ANN}/", PREAD, PWRITE}
    for path, kind in ((PREAD, "calendar-proxy-read"), (PWRITE, "calendar-proxy-write")):
        rt = r[path]["{DAV:}resourcetype"][1]
        assert rt.find("D:principal", NS) is not None
        assert rt.find(f"CS:{kind}", NS) is not None
        assert rt.find("D:collection", NS) is None
        assert norm(r[path]["{DAV:}principal-URL"][1].find("D:href", NS).text) == path
        assert r[path]["{DAV:}group-member-set"][1].findall("D:href", NS) == []
    # the user principal is a collection holding them; no group-member-set there
    rt = r[f"/dav/principals/{ANN}/"]["{DAV:}resourcetype"][1]
    assert rt.find("D:collection", NS) is not None
    assert "404" in r[f"/dav/principals/{ANN}/"]["{DAV:}group-member-set"][0]
    # principal-collection-set and the report the principals support
    st, _, data = propfind(a, PWRITE, "<D:principal-collection-set/><D:supported-report-set/>")
    p = responses(data)[PWRITE]
    assert p["{DAV:}principal-collection-set"][1].find("D:href", NS).text == "/dav/principals/"
    assert p["{DAV:}supported-report-set"][1].find(".//D:expand-property", NS) is not None
    # only the two names exist below a principal
    assert a.request("PROPFIND", f"/dav/principals/{ANN}/other/", None, {"Depth": "0"})[0] == 404
    # a stranger neither lists nor reads them
    st, _, data = propfind(c, f"/dav/principals/{ANN}/", "<D:resourcetype/>", depth="1")
    assert st == 207 and set(responses(data)) == {f"/dav/principals/{ANN}/"}
    assert propfind(c, PWRITE, "<D:group-member-set/>")[0] == 403


def test_write_delegate(proxy):
    d, a, b, c, _ = proxy
    # nothing delegated yet
    assert b.request("GET", CAL + "e.ics")[0] == 403
    assert b.request("PROPFIND", HOME, None, {"Depth": "1"})[0] == 403
    # ann makes bob a write delegate
    r = set_members(a, PWRITE, principal(BOB))
    assert "200" in r["{DAV:}group-member-set"][0]
    assert member_set(a, PWRITE) == [principal(BOB)]
    assert member_set(a, PREAD) == []
    # bob sees it on his principal
    assert href_list(b, f"/dav/principals/{BOB}/", "<CS:calendar-proxy-write-for/>") == \
        ("HTTP/1.1 200 OK", [principal(ANN)])
    assert href_list(b, f"/dav/principals/{BOB}/", "<CS:calendar-proxy-read-for/>") == \
        ("HTTP/1.1 200 OK", [])
    assert href_list(b, f"/dav/principals/{BOB}/", "<D:group-membership/>") == \
        ("HTTP/1.1 200 OK", [principal(ANN, "calendar-proxy-write")])
    # ... and nobody else reads whose delegate bob is
    st, _ = href_list(c, f"/dav/principals/{BOB}/", "<CS:calendar-proxy-write-for/>")
    assert "403" in st
    # the delegate may read the owner's proxy principal
    assert member_set(b, PWRITE) == [principal(BOB)]
    # bob lists ann's calendar home, with write rights on the calendar
    st, _, data = propfind(b, HOME, "<D:resourcetype/><D:current-user-privilege-set/>",
                           depth="1")
    assert st == 207, data
    r = responses(data)
    assert CAL in r
    privs = {p[0].tag.split("}")[1] for p in
             r[CAL]["{DAV:}current-user-privilege-set"][1].findall("D:privilege", NS)}
    assert {"read", "write", "write-content", "bind", "unbind"} <= privs
    assert "all" not in privs and "write-acl" not in privs
    # bob reads and writes events in ann's calendar
    st, _, data = b.request("GET", CAL + "e.ics")
    assert st == 200 and b"Board meeting" in data
    assert b.request("PUT", CAL + "by-bob.ics", ics("b-1", "Lunch"), TEXT_CAL)[0] == 201
    st, _, data = a.request("GET", CAL + "by-bob.ics")
    assert st == 200 and b"Lunch" in data
    assert b.request("PUT", CAL + "by-bob.ics", ics("b-1", "Lunch moved"), TEXT_CAL)[0] == 204
    body = ('<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR">'
            '<C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>')
    st, _, data = b.request("REPORT", CAL, body, {"Depth": "1"})
    assert st == 207 and set(responses(data)) == {CAL + "e.ics", CAL + "by-bob.ics"}
    assert b.request("DELETE", CAL + "by-bob.ics")[0] == 204
    # but not the collections themselves, nor the delegation
    assert b.request("MKCALENDAR", HOME + "bobs/")[0] == 403
    assert b.request("DELETE", CAL)[0] == 403
    st, _, _ = b.request("PROPPATCH", PWRITE, members_body(principal(CARL)))
    assert st == 403
    assert member_set(a, PWRITE) == [principal(BOB)]
    # bob's own home does not list ann's calendars (clients find them
    # through calendar-proxy-write-for)
    st, _, data = propfind(b, f"/dav/calendars/{BOB}/", "<D:resourcetype/>", depth="1")
    assert st == 207 and CAL not in responses(data)
    # a stranger gets nothing
    assert c.request("GET", CAL + "e.ics")[0] == 403
    assert c.request("PUT", CAL + "c.ics", ics("c-1"), TEXT_CAL)[0] == 403
    assert c.request("PROPFIND", HOME, None, {"Depth": "1"})[0] == 403
    # removal revokes at once
    r = set_members(a, PWRITE)
    assert "200" in r["{DAV:}group-member-set"][0]
    assert member_set(a, PWRITE) == []
    assert b.request("GET", CAL + "e.ics")[0] == 403
    assert b.request("PUT", CAL + "late.ics", ics("l-1"), TEXT_CAL)[0] == 403
    assert b.request("PROPFIND", HOME, None, {"Depth": "1"})[0] == 403
    assert href_list(b, f"/dav/principals/{BOB}/", "<CS:calendar-proxy-write-for/>")[1] == []


def test_read_delegate(proxy):
    d, a, b, c, _ = proxy
    set_members(a, PREAD, f"mailto:{BOB}")
    assert member_set(a, PREAD) == [principal(BOB)]
    assert href_list(b, f"/dav/principals/{BOB}/", "<CS:calendar-proxy-read-for/>")[1] == \
        [principal(ANN)]
    assert href_list(b, f"/dav/principals/{BOB}/", "<CS:calendar-proxy-write-for/>")[1] == []
    st, _, data = b.request("GET", CAL + "e.ics")
    assert st == 200 and b"Board meeting" in data
    assert privileges(b, CAL) == {"read", "read-current-user-privilege-set"}
    for method, path, body in (("PUT", CAL + "x.ics", ics("x-1")), ("PUT", CAL + "e.ics", ics("e-1")),
                               ("DELETE", CAL + "e.ics", None)):
        st, _, data = b.request(method, path, body, TEXT_CAL)
        assert st == 403, (method, path)
        assert xml(data).find("D:need-privileges", NS) is not None
    assert a.request("GET", CAL + "x.ics")[0] == 404
    # moving bob to the write set replaces his read delegation
    set_members(a, PWRITE, principal(BOB))
    assert member_set(a, PREAD) == []
    assert b.request("PUT", CAL + "x.ics", ics("x-1"), TEXT_CAL)[0] == 201


def test_group_delegate(proxy):
    d, a, b, c, dan = proxy
    ctl(d, "group", "add", "assistants@dav.test")
    ctl(d, "group", "member", "add", "assistants@dav.test", CARL)
    set_members(a, PWRITE, "/dav/principals/assistants@dav.test/")
    assert member_set(a, PWRITE) == ["/dav/principals/assistants@dav.test/"]
    # carl, a member, writes; dan, not one, does not
    assert c.request("PUT", CAL + "g.ics", ics("g-1", "From the group"), TEXT_CAL)[0] == 201
    assert dan.request("GET", CAL + "g.ics")[0] == 403
    assert href_list(c, f"/dav/principals/{CARL}/", "<CS:calendar-proxy-write-for/>")[1] == \
        [principal(ANN)]
    ctl(d, "group", "member", "del", "assistants@dav.test", CARL)
    assert c.request("GET", CAL + "g.ics")[0] == 403


def test_expand_property(proxy):
    d, a, b, c, _ = proxy
    set_members(a, PWRITE, principal(BOB))
    body = ('<?xml version="1.0"?><D:expand-property xmlns:D="DAV:">'
            '<D:property name="calendar-proxy-write-for" namespace="http://calendarserver.org/ns/">'
            '<D:property name="displayname"/>'
            '<D:property name="calendar-user-address-set" namespace="urn:ietf:params:xml:ns:caldav"/>'
            '<D:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav"/>'
            '</D:property>'
            '<D:property name="calendar-proxy-read-for" namespace="http://calendarserver.org/ns/">'
            '<D:property name="displayname"/></D:property>'
            '<D:property name="no-such-thing"/>'
            '</D:expand-property>')
    st, _, data = b.request("REPORT", f"/dav/principals/{BOB}/", body, {"Depth": "0"})
    assert st == 207, data
    root = xml(data)
    top = root.findall("D:response", NS)
    assert len(top) == 1 and norm(top[0].find("D:href", NS).text) == principal(BOB)
    props = {}
    for ps in top[0].findall("D:propstat", NS):
        for p in ps.find("D:prop", NS):
            props[p.tag] = (ps.find("D:status", NS).text, p)
    assert "404" in props["{DAV:}no-such-thing"][0]
    status, wfor = props[CS + "calendar-proxy-write-for"]
    assert "200" in status
    inner = wfor.findall("D:response", NS)
    assert len(inner) == 1 and norm(inner[0].find("D:href", NS).text) == principal(ANN)
    got = {}
    for ps in inner[0].findall("D:propstat", NS):
        for p in ps.find("D:prop", NS):
            got[p.tag] = (ps.find("D:status", NS).text, p)
    assert got["{DAV:}displayname"][1].text == ANN
    cuas = got["{urn:ietf:params:xml:ns:caldav}calendar-user-address-set"][1]
    assert f"mailto:{ANN}" in [h.text for h in cuas.findall("D:href", NS)]
    home = got["{urn:ietf:params:xml:ns:caldav}calendar-home-set"][1]
    assert norm(home.find("D:href", NS).text) == f"/dav/calendars/{ANN}/"
    assert props[CS + "calendar-proxy-read-for"][1].findall("D:response", NS) == []
    # on the owner's proxy principal: the members expanded
    body = ('<D:expand-property xmlns:D="DAV:"><D:property name="group-member-set">'
            '<D:property name="displayname"/></D:property></D:expand-property>')
    st, _, data = a.request("REPORT", PWRITE, body)
    assert st == 207, data
    inner = xml(data).findall(".//D:group-member-set/D:response", NS)
    assert [norm(r.find("D:href", NS).text) for r in inner] == [principal(BOB)]
    assert inner[0].find(".//D:displayname", NS).text == BOB
    # a stranger's view of bob: no -for properties
    body = ('<D:expand-property xmlns:D="DAV:"><D:property name="calendar-proxy-write-for" '
            'namespace="http://calendarserver.org/ns/"><D:property name="displayname"/>'
            '</D:property></D:expand-property>')
    st, _, data = c.request("REPORT", f"/dav/principals/{BOB}/", body)
    assert st == 207 and "403" in xml(data).find(".//D:propstat/D:status", NS).text
    assert c.request("REPORT", "/dav/principals/nobody@dav.test/", body)[0] == 404
    bad = '<D:expand-property xmlns:D="DAV:"><D:property/></D:expand-property>'
    assert b.request("REPORT", f"/dav/principals/{BOB}/", bad)[0] == 400


def test_proppatch_refusals(proxy):
    d, a, b, c, _ = proxy
    for hrefs in (["/dav/principals/nobody@dav.test/"], [principal(ANN)], ["mailto:"],
                  [principal(BOB), "/dav/calendars/bob@dav.test/"],
                  [principal(BOB, "calendar-proxy-read")]):
        r = set_members(a, PWRITE, *hrefs)
        assert "409" in r["{DAV:}group-member-set"][0], hrefs
    assert member_set(a, PWRITE) == []
    # another property: refused, and the group-member-set with it (424)
    body = members_body(principal(BOB), prop="<D:group-member-set>{}</D:group-member-set>"
                        "<D:displayname>x</D:displayname>")
    st, _, data = a.request("PROPPATCH", PWRITE, body)
    r = responses(data)[PWRITE]
    assert "424" in r["{DAV:}group-member-set"][0] and "403" in r["{DAV:}displayname"][0]
    assert member_set(a, PWRITE) == []
    # removing the property clears the set
    set_members(a, PWRITE, principal(BOB))
    rm = ('<D:propertyupdate xmlns:D="DAV:"><D:remove><D:prop><D:group-member-set/></D:prop>'
          '</D:remove></D:propertyupdate>')
    assert a.request("PROPPATCH", PWRITE, rm)[0] == 207
    assert member_set(a, PWRITE) == []
    # only the owner changes them
    st, _, data = c.request("PROPPATCH", PWRITE, members_body(principal(CARL)))
    assert st == 403 and member_set(a, PWRITE) == []


def test_cairnctl_delegate(proxy):
    d, a, b, c, _ = proxy
    ctl(d, "calendar", "delegate", ANN, BOB, "write")
    ctl(d, "calendar", "delegate", ANN, CARL, "read")
    out = ctl(d, "calendar", "list", "--user", ANN).stdout
    assert f"delegate {BOB} (write)" in out and f"delegate {CARL} (read)" in out
    assert f"delegate of {ANN} (write)" in ctl(d, "calendar", "list", "--user", BOB).stdout
    assert member_set(a, PWRITE) == [principal(BOB)]
    assert member_set(a, PREAD) == [principal(CARL)]
    assert b.request("PUT", CAL + "ctl.ics", ics("ctl-1"), TEXT_CAL)[0] == 201
    assert c.request("PUT", CAL + "ctl2.ics", ics("ctl-2"), TEXT_CAL)[0] == 403
    ctl(d, "calendar", "delegate", ANN, BOB, "none")
    assert b.request("GET", CAL + "ctl.ics")[0] == 403
    assert f"delegate {BOB}" not in ctl(d, "calendar", "list", "--user", ANN).stdout
    for args in ((ANN, "nobody@dav.test", "read"), (ANN, ANN, "write"),
                 ("nobody@dav.test", BOB, "read")):
        r = ctl(d, "calendar", "delegate", *args, check=False)
        assert r.returncode != 0 and r.stderr, args
    r = ctl(d, "calendar", "delegate", ANN, BOB, "admin", check=False)
    assert r.returncode != 0
    # delegation goes with the delegate's account and group: a new account
    # with the same address inherits nothing
    ctl(d, "calendar", "delegate", ANN, DAN, "write")
    ctl(d, "group", "add", "helpers@dav.test")
    ctl(d, "calendar", "delegate", ANN, "helpers@dav.test", "read")
    assert member_set(a, PREAD) == [principal(CARL), "/dav/principals/helpers@dav.test/"]
    ctl(d, "user", "del", DAN)
    ctl(d, "group", "del", "helpers@dav.test")
    assert member_set(a, PWRITE) == [] and member_set(a, PREAD) == [principal(CARL)]
    ctl(d, "user", "add", DAN, "--password", PASSWORD)
    assert Dav(d, DAN).request("GET", CAL + "e.ics")[0] == 403


def copy_of(c, user, uid):
    """(href, text) of user's copy of uid in its default calendar."""
    for href in calendar_objects(c, user):
        st, _, data = c.request("GET", href)
        if st == 200 and f"UID:{uid}" in unfold(data):
            return href, unfold(data)
    return None, None


def answer(text, address, partstat):
    return re.sub(r"(ATTENDEE[^\r\n]*)PARTSTAT=NEEDS-ACTION([^\r\n]*:mailto:" + re.escape(address)
                  + r")", r"\1PARTSTAT=" + partstat + r"\2", text)


def test_delegate_answers_invitation(proxy):
    d, a, b, c, dan = proxy
    assert c.request("MKCALENDAR", f"/dav/calendars/{CARL}/calendar/")[0] in (201, 405)
    # bob is a write delegate through a group, dan a read delegate
    ctl(d, "group", "add", "assistants@dav.test")
    ctl(d, "group", "member", "add", "assistants@dav.test", BOB)
    set_members(a, PWRITE, "/dav/principals/assistants@dav.test/")
    set_members(a, PREAD, f"mailto:{DAN}")
    # carl invites ann
    st, _, data = c.request("PUT", f"/dav/calendars/{CARL}/calendar/m.ics",
                            meeting("m-1", CARL, [ANN], summary="Budget"), TEXT_CAL)
    assert st == 201, data
    # both delegates see the invitation in ann's scheduling inbox and calendar
    for who in (b, dan):
        assert any("METHOD:REQUEST" in t and "UID:m-1" in unfold(t)
                   for _, t in inbox_items(who, ANN))
    href, text = copy_of(b, ANN, "m-1")
    assert href is not None and attendee_param(text, ANN, "PARTSTAT") == ["NEEDS-ACTION"]
    # the read delegate cannot answer: nothing changes, nothing is sent
    declined = answer(text, ANN, "DECLINED")
    assert "PARTSTAT=DECLINED" in declined
    st, _, data = dan.request("PUT", href, declined, TEXT_CAL)
    assert st == 403 and xml(data).find("D:need-privileges", NS) is not None
    st, _, org = c.request("GET", f"/dav/calendars/{CARL}/calendar/m.ics")
    assert attendee_param(org, ANN, "PARTSTAT") == ["NEEDS-ACTION"]
    assert not [t for _, t in inbox_items(c, CARL) if "METHOD:REPLY" in t]
    # the write delegate declines for ann: a REPLY from ann, SENT-BY bob
    st, _, data = b.request("PUT", href, declined, TEXT_CAL)
    assert st == 204, data
    st, _, org = c.request("GET", f"/dav/calendars/{CARL}/calendar/m.ics")
    assert attendee_param(org, ANN, "PARTSTAT") == ["DECLINED"]
    replies = [t for _, t in inbox_items(c, CARL) if "METHOD:REPLY" in t]
    assert len(replies) == 1
    assert attendee_param(replies[0], ANN, "PARTSTAT") == ["DECLINED"]
    assert [v.strip('"').lower() for v in attendee_param(replies[0], ANN, "SENT-BY")] == \
        [f"mailto:{BOB}"]
    # ann's copy keeps who answered for her
    st, _, mine = a.request("GET", href)
    assert [v.strip('"').lower() for v in attendee_param(mine, ANN, "SENT-BY")] == \
        [f"mailto:{BOB}"]


def test_delegate_outbox_freebusy(proxy):
    d, a, b, c, dan = proxy
    set_members(a, PWRITE, principal(BOB))
    set_members(a, PREAD, principal(DAN))
    body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn proxy test//EN\r\n"
            "METHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:fb-1\r\nDTSTAMP:20260101T000000Z\r\n"
            "DTSTART:20260105T000000Z\r\nDTEND:20260106T000000Z\r\n"
            f"ORGANIZER:mailto:{ANN}\r\nATTENDEE:mailto:{ANN}\r\n"
            "END:VFREEBUSY\r\nEND:VCALENDAR\r\n")
    outbox = f"/dav/calendars/{ANN}/outbox/"
    # the write delegate asks as ann (schedule-send), the read one may not
    st, _, data = b.request("POST", outbox, body, TEXT_CAL)
    assert st == 200, data
    r = xml(data)
    assert r.tag == "{urn:ietf:params:xml:ns:caldav}schedule-response"
    fb = r.find(".//{urn:ietf:params:xml:ns:caldav}calendar-data").text
    assert "FREEBUSY" in unfold(fb) and "20260105T100000Z" in unfold(fb)
    st, _, data = dan.request("POST", outbox, body, TEXT_CAL)
    assert st == 403
    st, _, data = c.request("POST", outbox, body, TEXT_CAL)
    assert st == 403
