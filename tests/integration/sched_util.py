"""Helpers for the scheduling tests (RFC 6638): iCalendar builders for
meetings, reading properties out of stored objects, and waiting for an
inbox to fill."""
import re
import time
import xml.etree.ElementTree as ET

from dav_util import NS, propfind

C = "{urn:ietf:params:xml:ns:caldav}"
TEXT_CAL = {"Content-Type": "text/calendar; charset=utf-8"}


def meeting(uid, organizer, attendees, summary="Meeting", start="20260302T100000Z",
            end="20260302T110000Z", extra="", seq=0, att_params=None, comps=""):
    """A VEVENT organized by organizer with attendees (addresses);
    att_params: {address: "PARTSTAT=ACCEPTED;..."}."""
    att_params = att_params or {}
    lines = [f"ATTENDEE;CN={a.split('@')[0]};{att_params.get(a, 'PARTSTAT=NEEDS-ACTION;RSVP=TRUE')}"
             f":mailto:{a}\r\n" for a in attendees]
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn sched test//EN\r\n"
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
            f"DTSTART:{start}\r\nDTEND:{end}\r\nSEQUENCE:{seq}\r\nSUMMARY:{summary}\r\n"
            f"ORGANIZER;CN=org:mailto:{organizer}\r\n"
            f"ATTENDEE;CN=org;PARTSTAT=ACCEPTED:mailto:{organizer}\r\n"
            + "".join(lines) + extra + "END:VEVENT\r\n" + comps + "END:VCALENDAR\r\n")


def unfold(text):
    if isinstance(text, bytes):
        text = text.decode()
    return re.sub(r"\r?\n[ \t]", "", text)


def attendee_param(text, address, param):
    """The value of param on address's ATTENDEE lines (a list, one per
    component)."""
    out = []
    for line in unfold(text).splitlines():
        if line.upper().startswith("ATTENDEE") and line.lower().endswith(address.lower()):
            m = re.search(r";" + param + r"=(\"[^\"]*\"|[^;:]*)", line, re.I)
            out.append(m.group(1) if m else None)
    return out


def prop_values(text, name):
    return [line.split(":", 1)[1] for line in unfold(text).splitlines()
            if line.upper().split(";")[0].split(":")[0] == name]


def inbox_items(c, user):
    """[(href, calendar-data)] of user's scheduling inbox."""
    st, _, data = propfind(c, f"/dav/calendars/{user}/inbox/",
                           "<D:getetag/><C:calendar-data/>", depth="1")
    assert st == 207, data
    out = []
    for r in ET.fromstring(data).findall("D:response", NS):
        href = r.find("D:href", NS).text
        cd = r.find(".//C:calendar-data", NS)
        if cd is not None and cd.text:
            out.append((href, cd.text))
    return out


def calendar_objects(c, user, coll="calendar"):
    st, _, data = propfind(c, f"/dav/calendars/{user}/{coll}/", "<D:getetag/>", depth="1")
    if st != 207:
        return []
    return [r.find("D:href", NS).text for r in ET.fromstring(data).findall("D:response", NS)
            if not r.find("D:href", NS).text.endswith("/")]


def find_uid(c, user, uid, coll="calendar"):
    """The text of user's copy of uid in coll, or None."""
    for href in calendar_objects(c, user, coll):
        st, _, data = c.request("GET", href)
        if st == 200 and f"UID:{uid}" in unfold(data):
            return data.decode()
    return None


def wait_for(cond, timeout=10.0, step=0.05):
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(step)
