"""Free/busy (issue 15 item 3): POST of a VFREEBUSY request to a scheduling
outbox (RFC 6638 5.2.2.1), answered from the busy-time index, checked
against an independent computation in Python (icalendar + dateutil rrule +
zoneinfo, which knows nothing of the server's VTIMEZONE handling) for users
in Europe/Berlin and America/New_York with both DST changes inside the
range: recurrence with EXDATE and overrides, transparent, cancelled,
tentative and declined events, a private event, a transparent calendar,
working hours (VAVAILABILITY, RFC 7953), a group, unknown and external
addresses, and the organizer check."""
import datetime as dt
import re
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import icalendar
import pytest
from dateutil import rrule

from dav_util import Dav, ctl, setup_users

DOM = "dav.test"
ALICE, BOB, CAROL = f"alice@{DOM}", f"bob@{DOM}", f"carol@{DOM}"
TEXT_CAL = {"Content-Type": "text/calendar; charset=utf-8"}
NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav"}
UTC = dt.timezone.utc
# 2026-03-01 .. 2026-04-15: the US (Mar 8) and EU (Mar 29) DST changes inside
RANGE = (dt.datetime(2026, 3, 1, tzinfo=UTC), dt.datetime(2026, 4, 15, tzinfo=UTC))

BERLIN = """BEGIN:VTIMEZONE\r
TZID:Europe/Berlin\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
TZNAME:CEST\r
DTSTART:19700329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r
BEGIN:STANDARD\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
TZNAME:CET\r
DTSTART:19701025T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
END:STANDARD\r
END:VTIMEZONE\r
"""
NEW_YORK = """BEGIN:VTIMEZONE\r
TZID:America/New_York\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:-0500\r
TZOFFSETTO:-0400\r
TZNAME:EDT\r
DTSTART:19700308T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r
END:DAYLIGHT\r
BEGIN:STANDARD\r
TZOFFSETFROM:-0400\r
TZOFFSETTO:-0500\r
TZNAME:EST\r
DTSTART:19701101T020000\r
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r
END:STANDARD\r
END:VTIMEZONE\r
"""


def vcal(tz, *events):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn fb test//EN\r\n" + tz +
            "".join(events) + "END:VCALENDAR\r\n")


def vevent(uid, start, end, tzid, extra=""):
    return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
            f"DTSTART;TZID={tzid}:{start}\r\nDTEND;TZID={tzid}:{end}\r\n{extra}END:VEVENT\r\n")


B, N = "Europe/Berlin", "America/New_York"
BOB_EVENTS = {
    # weekly Monday 09:00 Berlin: one instance excluded, one moved and made
    # tentative, one declined by bob (an override)
    "weekly.ics": vcal(BERLIN,
                       vevent("weekly", "20260302T090000", "20260302T100000", B,
                              "RRULE:FREQ=WEEKLY;COUNT=7\r\nEXDATE;TZID=Europe/Berlin:20260316T090000\r\n"
                              f"ORGANIZER:mailto:{ALICE}\r\n"
                              f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{BOB}\r\n"),
                       vevent("weekly", "20260323T140000", "20260323T153000", B,
                              "RECURRENCE-ID;TZID=Europe/Berlin:20260323T090000\r\nSTATUS:TENTATIVE\r\n"
                              f"ORGANIZER:mailto:{ALICE}\r\n"
                              f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{BOB}\r\n"),
                       vevent("weekly", "20260406T090000", "20260406T100000", B,
                              "RECURRENCE-ID;TZID=Europe/Berlin:20260406T090000\r\n"
                              f"ORGANIZER:mailto:{ALICE}\r\n"
                              f"ATTENDEE;PARTSTAT=DECLINED:mailto:{BOB}\r\n")),
    # daily stand-up across the EU DST change, until a date
    "daily.ics": vcal(BERLIN, vevent("daily", "20260325T083000", "20260325T084500", B,
                                     "RRULE:FREQ=DAILY;UNTIL=20260402T063000Z\r\n")),
    "transparent.ics": vcal(BERLIN, vevent("transp", "20260304T120000", "20260304T130000", B,
                                           "TRANSP:TRANSPARENT\r\n")),
    "cancelled.ics": vcal(BERLIN, vevent("cancel", "20260305T120000", "20260305T130000", B,
                                         "STATUS:CANCELLED\r\n")),
    "tentative.ics": vcal(BERLIN, vevent("tent", "20260306T120000", "20260306T130000", B,
                                         "STATUS:TENTATIVE\r\n")),
    "declined.ics": vcal(BERLIN, vevent("decl", "20260310T150000", "20260310T160000", B,
                                        f"ORGANIZER:mailto:{CAROL}\r\n"
                                        f"ATTENDEE;PARTSTAT=DECLINED:mailto:{BOB}\r\n")),
    "private.ics": vcal(BERLIN, vevent("priv", "20260311T070000", "20260311T080000", B,
                                       "CLASS:PRIVATE\r\nSUMMARY:Secret doctor visit\r\n"
                                       "LOCATION:Hidden clinic\r\n")),
    # overlapping busy periods merge
    "overlap.ics": vcal(BERLIN, vevent("ovl", "20260302T093000", "20260302T110000", B)),
}
CAROL_EVENTS = {
    # weekly Tuesday 17:00 New York across the US DST change
    "weekly.ics": vcal(NEW_YORK, vevent("c-weekly", "20260303T170000", "20260303T180000", N,
                                        "RRULE:FREQ=WEEKLY;UNTIL=20260331T220000Z\r\n"
                                        "EXDATE;TZID=America/New_York:20260317T170000\r\n")),
    "meeting.ics": vcal(NEW_YORK, vevent("c-meet", "20260309T100000", "20260309T113000", N)),
}
# in a calendar marked transparent: no busy time
BOB_HIDDEN = {"hidden.ics": vcal(BERLIN, vevent("hidden", "20260312T090000",
                                                "20260312T170000", B))}
CAROL_AVAILABILITY = vcal(NEW_YORK,
                          "BEGIN:VAVAILABILITY\r\nUID:carol-hours\r\nDTSTAMP:20260101T000000Z\r\n"
                          "BEGIN:AVAILABLE\r\nUID:carol-hours-1\r\nDTSTAMP:20260101T000000Z\r\n"
                          "DTSTART;TZID=America/New_York:20260302T090000\r\n"
                          "DTEND;TZID=America/New_York:20260302T170000\r\n"
                          "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\n"
                          "END:AVAILABLE\r\nEND:VAVAILABILITY\r\n")


# ---- the independent computation ----

def to_utc(v):
    if isinstance(v, dt.datetime):
        return v.astimezone(UTC)
    raise AssertionError("all-day values are not used here")


def zoned(prop):
    """A DTSTART-like property as an aware datetime, its TZID read by zoneinfo."""
    v = prop.dt
    tzid = prop.params.get("TZID")
    if tzid and v.tzinfo is not None:
        v = v.replace(tzinfo=ZoneInfo(str(tzid)))
    return v


def busy_of(text, owner):
    """(type, start, end) of one object as its owner sees it, RFC 6638 rules."""
    cal = icalendar.Calendar.from_ical(text)
    comps = [c for c in cal.walk("VEVENT")]
    master = next(c for c in comps if "RECURRENCE-ID" not in c)
    overrides = {to_utc(zoned(c["RECURRENCE-ID"])): c for c in comps if "RECURRENCE-ID" in c}
    start = zoned(master["DTSTART"])
    length = zoned(master["DTEND"]) - start
    starts = [start]
    if "RRULE" in master:
        # dateutil keeps the wall-clock time in the zone (RFC 5545 3.3.10)
        rule = rrule.rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)
        starts = list(rule)
    ex = set()
    exd = master.get("EXDATE")
    for e in (exd if isinstance(exd, list) else [exd] if exd else []):
        for d in e.dts:
            v = d.dt
            tzid = e.params.get("TZID")
            if tzid:
                v = v.replace(tzinfo=ZoneInfo(str(tzid)))
            ex.add(to_utc(v))
    out = []

    def add(comp, s, e):
        if str(comp.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            return
        status = str(comp.get("STATUS", "")).upper()
        if status == "CANCELLED":
            return
        atts = comp.get("ATTENDEE", [])
        for a in (atts if isinstance(atts, list) else [atts]):
            if str(a).lower().replace("mailto:", "") == owner and \
                    str(a.params.get("PARTSTAT", "")).upper() == "DECLINED":
                return
        out.append(("BUSY-TENTATIVE" if status == "TENTATIVE" else "BUSY", s, e))

    for s in starts:
        su = to_utc(s)
        if su in ex:
            continue
        if su in overrides:
            o = overrides[su]
            os_ = zoned(o["DTSTART"])
            add(o, to_utc(os_), to_utc(zoned(o["DTEND"])))
        else:
            add(master, su, to_utc(s + length))
    return out


def availability_busy(start, end, tz, days=(0, 1, 2, 3, 4), hours=(9, 17)):
    """Unavailable time outside working hours: what CAROL_AVAILABILITY says."""
    z = ZoneInfo(tz)
    out = []
    cur = start
    day = start.astimezone(z).date() - dt.timedelta(days=1)
    while True:
        if day.weekday() in days:
            s = dt.datetime(day.year, day.month, day.day, hours[0], tzinfo=z).astimezone(UTC)
            e = dt.datetime(day.year, day.month, day.day, hours[1], tzinfo=z).astimezone(UTC)
            if s > cur:
                out.append(("BUSY-UNAVAILABLE", cur, min(s, end)))
            cur = max(cur, e)
        day += dt.timedelta(days=1)
        if dt.datetime(day.year, day.month, day.day, tzinfo=z).astimezone(UTC) >= end + dt.timedelta(days=1):
            break
    if cur < end:
        out.append(("BUSY-UNAVAILABLE", cur, end))
    return [p for p in out if p[2] > p[1] and p[1] < end]


def merged(periods, start, end):
    """Clip to [start, end), merge overlapping/touching periods per type."""
    by = {}
    for t, s, e in periods:
        s, e = max(s, start), min(e, end)
        if e > s:
            by.setdefault(t, []).append((s, e))
    out = set()
    for t, ps in by.items():
        ps.sort()
        cs, ce = ps[0]
        for s, e in ps[1:]:
            if s <= ce:
                ce = max(ce, e)
            else:
                out.add((t, cs, ce))
                cs, ce = s, e
        out.add((t, cs, ce))
    return out


# ---- the server's answer ----

def fb_request(organizer, attendees, start=RANGE[0], end=RANGE[1], uid="fbreq-1"):
    f = "%Y%m%dT%H%M%SZ"
    att = "".join(f"ATTENDEE:mailto:{a}\r\n" for a in attendees)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn fb test//EN\r\nMETHOD:REQUEST\r\n"
            f"BEGIN:VFREEBUSY\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
            f"ORGANIZER:mailto:{organizer}\r\nDTSTART:{start.strftime(f)}\r\n"
            f"DTEND:{end.strftime(f)}\r\n{att}END:VFREEBUSY\r\nEND:VCALENDAR\r\n")


def parse_utc(s):
    return dt.datetime.strptime(s, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def periods_of(caldata):
    out = set()
    cal = caldata.replace("\r\n ", "")
    for line in cal.splitlines():
        m = re.match(r"FREEBUSY(;FBTYPE=([A-Z-]+))?:(.*)$", line)
        if not m:
            continue
        for per in m.group(3).split(","):
            s, e = per.split("/")
            out.add((m.group(2) or "BUSY", parse_utc(s), parse_utc(e)))
    return out


def schedule_response(data):
    root = ET.fromstring(data)
    assert root.tag == "{urn:ietf:params:xml:ns:caldav}schedule-response", data
    out = {}
    for r in root.findall("C:response", NS):
        rcpt = r.find("C:recipient/D:href", NS).text
        status = r.find("C:request-status", NS).text
        cd = r.find("C:calendar-data", NS)
        out[rcpt] = (status, cd.text if cd is not None else None)
    return out


@pytest.fixture
def fb(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "alice", "bob", "carol", domain=DOM)
    ctl(d, "alias", "add", f"robert@{DOM}", BOB)
    ctl(d, "group", "add", f"team@{DOM}")
    ctl(d, "group", "member", "add", f"team@{DOM}", BOB)
    ctl(d, "group", "member", "add", f"team@{DOM}", CAROL)
    conns = {u: Dav(d, u) for u in (ALICE, BOB, CAROL)}
    for u, c in conns.items():
        # the home provisions the default calendar, inbox and outbox
        st, _, _ = c.request("PROPFIND", f"/dav/calendars/{u}/", None, {"Depth": "1"})
        assert st == 207
        assert c.request("MKCALENDAR", f"/dav/calendars/{u}/calendar/")[0] in (201, 405)
    for user, events in ((BOB, BOB_EVENTS), (CAROL, CAROL_EVENTS)):
        c = conns[user]
        for name, text in events.items():
            if "ORGANIZER" in text:
                # an attendee's copy arrives by scheduling, not by the
                # attendee's own PUT: store it as an import does
                path = d.dir / f"{user}-{name}"
                path.write_text(text)
                ctl(d, "calendar", "import", "--user", user, "--calendar", "calendar", str(path))
                continue
            st, _, body = c.request("PUT", f"/dav/calendars/{user}/calendar/{name}", text, TEXT_CAL)
            assert st in (201, 204), body
    c = conns[BOB]
    assert c.request("MKCALENDAR", f"/dav/calendars/{BOB}/hidden/")[0] == 201
    st, _, body = c.request("PROPPATCH", f"/dav/calendars/{BOB}/hidden/",
                            '<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                            '<D:set><D:prop><C:schedule-calendar-transp><C:transparent/>'
                            '</C:schedule-calendar-transp></D:prop></D:set></D:propertyupdate>')
    assert st == 207 and b"200" in body, body
    for name, text in BOB_HIDDEN.items():
        assert c.request("PUT", f"/dav/calendars/{BOB}/hidden/{name}", text, TEXT_CAL)[0] == 201
    yield d, conns
    for c in conns.values():
        c.close()


def expected(user):
    events = BOB_EVENTS if user == BOB else CAROL_EVENTS
    periods = []
    for text in events.values():
        periods += busy_of(text, user)
    if user == CAROL:
        periods += availability_busy(RANGE[0], RANGE[1], N)
    return merged(periods, *RANGE)


def post(conns, attendees, organizer=ALICE, sender=ALICE, body=None, ctype=TEXT_CAL):
    c = conns[sender]
    return c.request("POST", f"/dav/calendars/{sender}/outbox/",
                     body if body is not None else fb_request(organizer, attendees), ctype)


def test_freebusy_users_in_two_zones(fb):
    d, conns = fb
    st, _, data = post(conns, [BOB, CAROL])
    assert st == 200, data
    r = schedule_response(data)
    assert set(r) == {f"mailto:{BOB}", f"mailto:{CAROL}"}
    status, cd = r[f"mailto:{BOB}"]
    assert status.startswith("2.0")
    assert "METHOD:REPLY" in cd and "UID:fbreq-1" in cd and f"ATTENDEE:mailto:{BOB}" in cd
    assert periods_of(cd) == expected(BOB)
    # private events are busy time only: nothing of them shows
    assert "Secret" not in data.decode() and "Hidden clinic" not in data.decode()
    # the transparent calendar adds nothing: 2026-03-12 is free for bob
    assert not [p for p in periods_of(cd) if p[1].date() == dt.date(2026, 3, 12)]
    # carol: no working hours yet
    assert periods_of(r[f"mailto:{CAROL}"][1]) == merged(
        sum((busy_of(t, CAROL) for t in CAROL_EVENTS.values()), []), *RANGE)


def test_freebusy_working_hours(fb):
    d, conns = fb
    c = conns[CAROL]
    inbox = f"/dav/calendars/{CAROL}/inbox/"
    bad = ('<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
           '<C:calendar-availability>not icalendar</C:calendar-availability></D:prop></D:set>'
           '</D:propertyupdate>')
    st, _, body = c.request("PROPPATCH", inbox, bad)
    assert st == 207 and b"409" in body, body
    good = ('<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            '<C:calendar-availability>' + CAROL_AVAILABILITY.replace("\r\n", "&#13;\n") +
            '</C:calendar-availability></D:prop></D:set></D:propertyupdate>')
    st, _, body = c.request("PROPPATCH", inbox, good)
    assert st == 207 and b"200" in body, body
    st, _, data = post(conns, [CAROL])
    assert st == 200, data
    status, cd = schedule_response(data)[f"mailto:{CAROL}"]
    assert status.startswith("2.0")
    assert periods_of(cd) == expected(CAROL)


def test_freebusy_groups_and_unknown(fb):
    d, conns = fb
    st, _, data = post(conns, [f"team@{DOM}", f"nobody@{DOM}", "someone@example.org",
                               f"robert@{DOM}"])
    assert st == 200, data
    r = schedule_response(data)
    # the group is replaced by its members, each with its own answer
    assert r[f"mailto:{BOB}"][0].startswith("2.0")
    assert r[f"mailto:{CAROL}"][0].startswith("2.0")
    assert f"mailto:team@{DOM}" not in r
    assert r[f"mailto:nobody@{DOM}"] == ("3.7;Invalid calendar user", None)
    assert r["mailto:someone@example.org"][0].startswith("3.7")
    # an alias is the user it names
    assert periods_of(r[f"mailto:robert@{DOM}"][1]) == expected(BOB)


def test_freebusy_refusals(fb):
    d, conns = fb
    # ORGANIZER must be the outbox owner (RFC 6638 organizer-allowed)
    st, _, data = post(conns, [BOB], organizer=CAROL)
    assert st == 403 and b"organizer-allowed" in data
    # someone else's outbox
    st, _, data = conns[BOB].request("POST", f"/dav/calendars/{ALICE}/outbox/",
                                     fb_request(BOB, [CAROL]), TEXT_CAL)
    assert st in (403, 404)
    # not a free/busy request
    st, _, data = post(conns, [BOB], body=fb_request(ALICE, [BOB]).replace("METHOD:REQUEST",
                                                                          "METHOD:PUBLISH"))
    assert st == 403 and b"valid-scheduling-message" in data
    st, _, data = post(conns, [BOB], body="BEGIN:VCALENDAR\r\nbroken")
    assert st in (400, 403) and b"valid-calendar-data" in data
    # iCalendar sent as something else: refused (the core reads XML bodies)
    st, _, data = post(conns, [BOB], ctype={"Content-Type": "application/xml"})
    assert st == 400


def test_freebusy_follows_changes(fb):
    d, conns = fb
    c = conns[BOB]
    day = (dt.datetime(2026, 3, 13, tzinfo=UTC), dt.datetime(2026, 3, 14, tzinfo=UTC))
    ev = vcal(BERLIN, vevent("later", "20260313T100000", "20260313T110000", B))
    assert c.request("PUT", f"/dav/calendars/{BOB}/calendar/later.ics", ev, TEXT_CAL)[0] == 201
    st, _, data = post(conns, [BOB], body=fb_request(ALICE, [BOB], *day))
    assert periods_of(schedule_response(data)[f"mailto:{BOB}"][1]) == {
        ("BUSY", dt.datetime(2026, 3, 13, 9, tzinfo=UTC), dt.datetime(2026, 3, 13, 10, tzinfo=UTC))}
    # cancelled by a new version, then deleted: the index follows
    assert c.request("PUT", f"/dav/calendars/{BOB}/calendar/later.ics",
                     ev.replace("END:VEVENT", "STATUS:CANCELLED\r\nEND:VEVENT"), TEXT_CAL)[0] == 204
    st, _, data = post(conns, [BOB], body=fb_request(ALICE, [BOB], *day))
    assert periods_of(schedule_response(data)[f"mailto:{BOB}"][1]) == set()
    assert c.request("PUT", f"/dav/calendars/{BOB}/calendar/later.ics", ev, TEXT_CAL)[0] == 204
    assert c.request("DELETE", f"/dav/calendars/{BOB}/calendar/later.ics")[0] == 204
    st, _, data = post(conns, [BOB], body=fb_request(ALICE, [BOB], *day))
    assert periods_of(schedule_response(data)[f"mailto:{BOB}"][1]) == set()


def test_freebusy_past_the_window_and_reindex(fb):
    """Far in the future (past the index window) the recurrence is expanded
    per query; objects left unindexed are filled lazily or by cairnctl."""
    d, conns = fb
    c = conns[CAROL]
    ev = vcal(NEW_YORK, vevent("forever", "20260302T070000", "20260302T073000", N,
                               "RRULE:FREQ=WEEKLY;BYDAY=MO\r\n"))
    assert c.request("PUT", f"/dav/calendars/{CAROL}/calendar/forever.ics", ev, TEXT_CAL)[0] == 201
    far = (dt.datetime(2031, 6, 2, tzinfo=UTC), dt.datetime(2031, 6, 3, tzinfo=UTC))
    st, _, data = post(conns, [CAROL], body=fb_request(ALICE, [CAROL], *far))
    got = {p for p in periods_of(schedule_response(data)[f"mailto:{CAROL}"][1]) if p[0] == "BUSY"}
    # 2031-06-02 is a Monday, EDT: 07:00 New York = 11:00 UTC
    assert got == {("BUSY", dt.datetime(2031, 6, 2, 11, tzinfo=UTC),
                    dt.datetime(2031, 6, 2, 11, 30, tzinfo=UTC))}
    # a full reindex gives the same answers
    r = ctl(d, "calendar", "reindex-busy", "all")
    assert "objects indexed" in r.stdout
    st, _, data = post(conns, [BOB, CAROL])
    r = schedule_response(data)
    assert periods_of(r[f"mailto:{BOB}"][1]) == expected(BOB)


def test_free_busy_query_report_from_index(fb):
    """The CalDAV free-busy-query REPORT (RFC 4791 7.10) of one calendar is
    read from the same index: every event of that calendar, declined ones
    included (no owner PARTSTAT there), nothing of other calendars."""
    d, conns = fb
    f = "%Y%m%dT%H%M%SZ"
    body = ('<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
            f'<C:time-range start="{RANGE[0].strftime(f)}" end="{RANGE[1].strftime(f)}"/>'
            '</C:free-busy-query>')
    st, _, data = conns[BOB].request("REPORT", f"/dav/calendars/{BOB}/calendar/", body,
                                     {"Depth": "1"})
    assert st == 200, data
    want = merged(sum((busy_of(t, "") for t in BOB_EVENTS.values()), []), *RANGE)
    assert periods_of(data.decode()) == want
    # the declined instances are there, unlike in bob's scheduling free/busy
    assert want != expected(BOB)
    st, _, data = conns[BOB].request("REPORT", f"/dav/calendars/{BOB}/hidden/", body,
                                     {"Depth": "1"})
    assert st == 200
    assert periods_of(data.decode()) == merged(busy_of(BOB_HIDDEN["hidden.ics"], ""), *RANGE)
