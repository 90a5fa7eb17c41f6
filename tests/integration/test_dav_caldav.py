"""CalDAV (issue 20 item 2) with raw exchanges: PUT validation with the
RFC 4791 5.3.2.1 preconditions, calendar-query (time-range over recurrences
with overrides and exceptions, all-day, across DST, text-match), multiget,
free-busy, expand and limit-recurrence-set, and hostile calendars (recurrence
bomb, huge VTIMEZONE)."""
import time

import pytest

from dav_util import NS, Dav, ics, propfind, responses, setup_users, xml

ANN = "ann@dav.test"
BOB = "bob@dav.test"
HOME = f"/dav/calendars/{ANN}/"
CAL = HOME + "cal/"
C = "{urn:ietf:params:xml:ns:caldav}"
TEXT_CAL = {"Content-Type": "text/calendar; charset=utf-8"}

TZ_BERLIN = """BEGIN:VTIMEZONE\r
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


def vcal(body):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn test//EN\r\n" + body +
            "END:VCALENDAR\r\n")


# Weekly on Mondays 10:00 Berlin time from 2026-03-02, 8 times; the 3rd is
# moved to Tuesday, the 4th is cancelled (EXDATE). Crosses the DST change
# of 2026-03-29.
WEEKLY = vcal(TZ_BERLIN + """BEGIN:VEVENT\r
UID:weekly-1\r
DTSTAMP:20260101T000000Z\r
DTSTART;TZID=Europe/Berlin:20260302T100000\r
DTEND;TZID=Europe/Berlin:20260302T110000\r
RRULE:FREQ=WEEKLY;COUNT=8\r
EXDATE;TZID=Europe/Berlin:20260323T100000\r
SUMMARY:Weekly sync\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly-1\r
DTSTAMP:20260101T000000Z\r
RECURRENCE-ID;TZID=Europe/Berlin:20260316T100000\r
DTSTART;TZID=Europe/Berlin:20260317T150000\r
DTEND;TZID=Europe/Berlin:20260317T160000\r
SUMMARY:Weekly sync (moved)\r
END:VEVENT\r
""")

ALLDAY = vcal("""BEGIN:VEVENT\r
UID:allday-1\r
DTSTAMP:20260101T000000Z\r
DTSTART;VALUE=DATE:20260410\r
DTEND;VALUE=DATE:20260411\r
SUMMARY:Holiday\r
END:VEVENT\r
""")

TODO = vcal("""BEGIN:VTODO\r
UID:todo-1\r
DTSTAMP:20260101T000000Z\r
DUE:20260215T170000Z\r
SUMMARY:File the report\r
END:VTODO\r
""")


def query(c, path, filt, props="<D:getetag/>", depth="1"):
    body = ('<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
            f'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>{props}</D:prop>'
            f'<C:filter>{filt}</C:filter></C:calendar-query>')
    return c.request("REPORT", path, body, {"Depth": depth})


def tr_filter(start, end, comp="VEVENT"):
    return (f'<C:comp-filter name="VCALENDAR"><C:comp-filter name="{comp}">'
            f'<C:time-range start="{start}" end="{end}"/></C:comp-filter></C:comp-filter>')


@pytest.fixture
def cal(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann", "bob")
    c = Dav(d, ANN)
    assert c.request("MKCALENDAR", CAL)[0] == 201
    yield d, c
    c.close()


def put(c, name, data, headers=None):
    h = dict(TEXT_CAL)
    h.update(headers or {})
    return c.request("PUT", CAL + name, data, h)


def precondition(data):
    root = xml(data)
    assert root.tag == "{DAV:}error", data
    return [e.tag for e in root]


def test_put_preconditions(cal):
    d, c = cal
    st, h, _ = put(c, "a.ics", ics("a-1"))
    assert st == 201 and h["etag"]
    st, h2, data = c.request("GET", CAL + "a.ics")
    assert st == 200 and data == ics("a-1").encode() and h2["etag"] == h["etag"]
    assert h2["content-type"].startswith("text/calendar")
    # invalid iCalendar
    st, _, data = put(c, "bad.ics", "BEGIN:VCALENDAR\r\nthis is not ical\r\n")
    assert st == 403 and precondition(data) == [C + "valid-calendar-data"]
    # two different UIDs in one resource
    two = vcal("BEGIN:VEVENT\r\nUID:x1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\n"
               "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:x2\r\nDTSTAMP:20260101T000000Z\r\n"
               "DTSTART:20260101T100000Z\r\nEND:VEVENT\r\n")
    st, _, data = put(c, "two.ics", two)
    assert st == 403 and precondition(data) == [C + "valid-calendar-object-resource"]
    # the same UID as another resource: no-uid-conflict naming it
    st, _, data = put(c, "dup.ics", ics("a-1", "other"))
    assert st == 403
    err = xml(data)
    assert err.find("C:no-uid-conflict/D:href", NS).text.replace("%40", "@") == CAL + "a.ics"
    # replacing the resource itself with the same UID is fine
    assert put(c, "a.ics", ics("a-1", "renamed"))[0] == 204
    # not text/calendar
    st, _, data = c.request("PUT", CAL + "t.ics", ics("t-1"), {"Content-Type": "text/plain"})
    assert st == 403 and precondition(data) == [C + "supported-calendar-data"]
    # too large
    big = ics("big-1", extra="DESCRIPTION:" + "x" * 70 + "\r\n" + (" " + "y" * 70 + "\r\n") * 16000)
    st, _, data = put(c, "big.ics", big)
    assert st == 403 and precondition(data) == [C + "max-resource-size"]
    # a component the calendar does not take
    body = ('<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            '<C:supported-calendar-component-set><C:comp name="VEVENT"/>'
            '</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>')
    assert c.request("MKCALENDAR", HOME + "events/", body)[0] == 201
    st, _, data = c.request("PUT", HOME + "events/todo.ics", TODO, TEXT_CAL)
    assert st == 403 and precondition(data) == [C + "supported-calendar-component"]
    # nothing half-written: the refused names do not exist
    for name in ("bad.ics", "two.ics", "dup.ics", "t.ics", "big.ics"):
        assert c.request("GET", CAL + name)[0] == 404
    # METHOD is not allowed in a stored resource
    st, _, data = put(c, "m.ics", ics("m-1").replace("VERSION:2.0\r\n",
                                                     "VERSION:2.0\r\nMETHOD:REQUEST\r\n"))
    assert st == 403


def test_hostile_calendars(cal):
    d, c = cal
    bomb = ics("bomb-1", extra="RRULE:FREQ=SECONDLY\r\n")
    t0 = time.time()
    st, _, data = put(c, "bomb.ics", bomb)
    # Either refused, or stored with an open end and every query bounded.
    if st == 201:
        st2, _, data2 = query(c, CAL, tr_filter("20260101T000000Z", "20270101T000000Z"))
        assert st2 in (207, 403)
    else:
        assert st == 403
    assert time.time() - t0 < 20
    # A VTIMEZONE with an absurd number of parts.
    parts = "".join(f"BEGIN:STANDARD\r\nDTSTART:{1900 + i % 100}0101T000000\r\n"
                    "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
                    for i in range(3000))
    huge = vcal(f"BEGIN:VTIMEZONE\r\nTZID:Huge\r\n{parts}END:VTIMEZONE\r\n"
                "BEGIN:VEVENT\r\nUID:huge-1\r\nDTSTAMP:20260101T000000Z\r\n"
                "DTSTART;TZID=Huge:20260101T100000\r\nEND:VEVENT\r\n")
    st, _, data = put(c, "huge.ics", huge)
    assert st == 403
    assert c.request("GET", CAL + "huge.ics")[0] == 404
    # the daemon is still fine
    assert put(c, "ok.ics", ics("ok-1"))[0] == 201


def test_calendar_query(cal):
    d, c = cal
    assert put(c, "weekly.ics", WEEKLY)[0] == 201
    assert put(c, "allday.ics", ALLDAY)[0] == 201
    assert put(c, "todo.ics", TODO)[0] == 201
    assert put(c, "one.ics", ics("one-1", "Dentist", "20260601T080000Z", "20260601T090000Z"))[0] == 201

    def hits(filt, **kw):
        st, _, data = query(c, CAL, filt, **kw)
        assert st == 207, data
        return {h.rsplit("/", 1)[1] for h in responses(data)}

    # The override moved the 3rd instance to Tuesday 17 March 15:00 CET.
    assert hits(tr_filter("20260317T130000Z", "20260317T150000Z")) == {"weekly.ics"}
    assert hits(tr_filter("20260316T080000Z", "20260316T100000Z")) == set()
    # The EXDATE'd 23 March instance is gone.
    assert hits(tr_filter("20260323T080000Z", "20260323T100000Z")) == set()
    # After the DST change 10:00 Berlin is 08:00 UTC (30 March).
    assert hits(tr_filter("20260330T080000Z", "20260330T083000Z")) == {"weekly.ics"}
    assert hits(tr_filter("20260330T090000Z", "20260330T093000Z")) == set()
    # Before it, 09:00 UTC (9 March).
    assert hits(tr_filter("20260309T090000Z", "20260309T093000Z")) == {"weekly.ics"}
    # Past the COUNT: nothing.
    assert hits(tr_filter("20260501T000000Z", "20260530T000000Z")) == set()
    # All-day events match their day.
    assert hits(tr_filter("20260410T120000Z", "20260410T130000Z")) == {"allday.ics"}
    # VTODO with DUE.
    assert hits(tr_filter("20260215T000000Z", "20260216T000000Z", "VTODO")) == {"todo.ics"}
    # Depth: 0 on the calendar asks about the collection itself: no objects.
    st, _, data = query(c, CAL, tr_filter("20260317T130000Z", "20260317T150000Z"), depth="0")
    assert st == 207 and responses(data) == {}
    # A query on one object evaluates just that object.
    st, _, data = query(c, CAL + "weekly.ics", tr_filter("20260317T130000Z", "20260317T150000Z"),
                        depth="0")
    assert set(responses(data)) == {CAL + "weekly.ics"}
    # Every VEVENT; every VTODO.
    assert hits('<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter>') \
        == {"weekly.ics", "allday.ics", "one.ics"}
    assert hits('<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"/></C:comp-filter>') \
        == {"todo.ics"}
    # text-match on SUMMARY, case-insensitive; negated.
    tm = ('<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter '
          'name="SUMMARY"><C:text-match collation="i;ascii-casemap"{neg}>dentist</C:text-match>'
          '</C:prop-filter></C:comp-filter></C:comp-filter>')
    assert hits(tm.format(neg="")) == {"one.ics"}
    assert hits(tm.format(neg=' negate-condition="yes"')) == {"weekly.ics", "allday.ics"}
    # unicode-casemap is supported; an unknown collation is refused.
    st, _, data = query(c, CAL, tm.format(neg="").replace("i;ascii-casemap", "i;unicode-casemap"))
    assert st == 207
    st, _, data = query(c, CAL, tm.format(neg="").replace("i;ascii-casemap", "x-unknown"))
    assert st == 403 and precondition(data) == [C + "supported-collation"]
    # A malformed filter.
    st, _, data = query(c, CAL, '<C:comp-filter name="VEVENT"/>')
    assert st == 403 and precondition(data) == [C + "valid-filter"]
    # calendar-data comes back whole.
    st, _, data = query(c, CAL, tm.format(neg=""), props="<D:getetag/><C:calendar-data/>")
    r = responses(data)[CAL + "one.ics"]
    # byte for byte: the CRs travel as &#13;
    assert r[C + "calendar-data"][1].text == \
        ics("one-1", "Dentist", "20260601T080000Z", "20260601T090000Z")


def test_expand_and_limit(cal):
    d, c = cal
    assert put(c, "weekly.ics", WEEKLY)[0] == 201
    cd = ('<C:calendar-data><C:expand start="20260301T000000Z" end="20260320T000000Z"/>'
          '</C:calendar-data>')
    st, _, data = query(c, CAL, tr_filter("20260301T000000Z", "20260320T000000Z"), props=cd)
    assert st == 207
    text = responses(data)[CAL + "weekly.ics"][C + "calendar-data"][1].text
    assert "RRULE" not in text and "VTIMEZONE" not in text
    # 2, 9, 17 (moved) March in UTC
    assert text.count("BEGIN:VEVENT") == 3
    assert "DTSTART:20260302T090000Z" in text and "DTSTART:20260317T140000Z" in text
    # limit-recurrence-set keeps the master and only the overrides in range
    cd = ('<C:calendar-data><C:limit-recurrence-set start="20260401T000000Z" '
          'end="20260501T000000Z"/></C:calendar-data>')
    st, _, data = query(c, CAL, tr_filter("20260301T000000Z", "20260501T000000Z"), props=cd)
    text = responses(data)[CAL + "weekly.ics"][C + "calendar-data"][1].text
    assert "RRULE" in text and "RECURRENCE-ID" not in text


def test_multiget_and_freebusy(cal):
    d, c = cal
    assert put(c, "a.ics", ics("a-1", start="20260105T100000Z", end="20260105T110000Z"))[0] == 201
    assert put(c, "b.ics", ics("b-1", start="20260105T140000Z", end="20260105T150000Z"))[0] == 201
    body = ('<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<D:prop><D:getetag/><C:calendar-data/></D:prop>'
            f'<D:href>{CAL}a.ics</D:href><D:href>{CAL}missing.ics</D:href>'
            f'<D:href>/dav/calendars/{BOB}/cal/x.ics</D:href>'
            f'<D:href>{CAL}../../../etc/passwd</D:href></C:calendar-multiget>')
    st, _, data = c.request("REPORT", CAL, body, {"Depth": "1"})
    assert st == 207
    r = responses(data)
    assert "BEGIN:VCALENDAR" in r[CAL + "a.ics"][C + "calendar-data"][1].text
    assert "404" in r[CAL + "missing.ics"]["__status__"]
    assert "403" in r[f"/dav/calendars/{BOB}/cal/x.ics"]["__status__"]
    assert CAL + "b.ics" not in r
    body = ('<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<C:time-range start="20260105T000000Z" end="20260106T000000Z"/></C:free-busy-query>')
    st, h, data = c.request("REPORT", CAL, body, {"Depth": "1"})
    assert st == 200 and h["content-type"].startswith("text/calendar")
    text = data.decode()
    assert "BEGIN:VFREEBUSY" in text
    assert "20260105T100000Z/20260105T110000Z" in text.replace("PT1H", "20260105T110000Z")
    # sync-collection on a calendar with calendar-data
    body = ('<D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/><C:calendar-data/>'
            '</D:prop></D:sync-collection>')
    st, _, data = c.request("REPORT", CAL, body, {"Depth": "0"})
    r = responses(data)
    assert set(r) == {CAL + "a.ics", CAL + "b.ics"}
    assert "UID:b-1" in r[CAL + "b.ics"][C + "calendar-data"][1].text
