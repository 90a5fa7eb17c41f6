"""CalDAV scheduling (RFC 6638, issue 15) between three local users with
raw DAV requests: the inbox and outbox, principal properties, implicit
scheduling on PUT/DELETE (REQUEST, REPLY, CANCEL), SCHEDULE-STATUS,
schedule tags with If-Schedule-Tag-Match, recurring meetings with one
instance moved and one cancelled, and the refusals (forged organizer, an
attendee changing others' answers, the attendee cap, a UID in two
calendars)."""
import re

import pytest

from dav_util import NS, Dav, ctl, propfind, responses, setup_users, xml
from sched_util import (C, TEXT_CAL, attendee_param, find_uid, inbox_items, meeting,
                        prop_values, unfold)

ANN = "ann@sched.test"
BOB = "bob@sched.test"
CAT = "cat@sched.test"


@pytest.fixture
def s(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"sched": {"max_attendees": "20"}})
    setup_users(d, "ann", "bob", "cat", domain="sched.test")
    ctl(d, "alias", "add", "anna@sched.test", ANN)
    return d


def conns(d):
    return Dav(d, ANN), Dav(d, BOB), Dav(d, CAT)


def put(c, user, name, data, headers=None, coll="calendar"):
    h = dict(TEXT_CAL)
    h.update(headers or {})
    return c.request("PUT", f"/dav/calendars/{user}/{coll}/{name}", data, h)


def home(c, user):
    """Create the user's default calendar (as clients do at first use)."""
    st, _, _ = c.request("MKCALENDAR", f"/dav/calendars/{user}/calendar/")
    assert st in (201, 405)


def test_discovery(s):
    a, b, _ = conns(s)
    st, h, _ = a.request("OPTIONS", "/dav/", auth=False)
    assert "calendar-auto-schedule" in h["dav"]
    st, _, data = propfind(a, f"/dav/principals/{ANN}/",
                           "<C:calendar-user-address-set/><C:schedule-inbox-URL/>"
                           "<C:schedule-outbox-URL/><C:calendar-user-type/>")
    r = responses(data)[f"/dav/principals/{ANN}/"]
    addrs = sorted(e.text for e in r[C + "calendar-user-address-set"][1].findall("D:href", NS))
    assert addrs == ["mailto:ann@sched.test", "mailto:anna@sched.test"]
    assert r[C + "schedule-inbox-URL"][1].find("D:href", NS).text.replace("%40", "@") == \
        f"/dav/calendars/{ANN}/inbox/"
    assert r[C + "schedule-outbox-URL"][1].find("D:href", NS).text.replace("%40", "@") == \
        f"/dav/calendars/{ANN}/outbox/"
    assert r[C + "calendar-user-type"][1].text == "INDIVIDUAL"
    # the home lists the inbox and outbox with their resource types
    st, _, data = propfind(a, f"/dav/calendars/{ANN}/", "<D:resourcetype/>", depth="1")
    rs = responses(data)
    assert rs[f"/dav/calendars/{ANN}/inbox/"]["{DAV:}resourcetype"][1] \
        .find("C:schedule-inbox", NS) is not None
    assert rs[f"/dav/calendars/{ANN}/outbox/"]["{DAV:}resourcetype"][1] \
        .find("C:schedule-outbox", NS) is not None
    # nothing is PUT into an inbox
    st, _, _ = put(a, ANN, "x.ics", meeting("x", ANN, [BOB]), coll="inbox")
    assert st == 403
    home(a, ANN)
    st, _, data = propfind(a, f"/dav/calendars/{ANN}/inbox/",
                           "<C:schedule-default-calendar-URL/>")
    r = responses(data)[f"/dav/calendars/{ANN}/inbox/"]
    assert r[C + "schedule-default-calendar-URL"][1].find("D:href", NS).text \
        .replace("%40", "@") == f"/dav/calendars/{ANN}/calendar/"
    st, _, data = propfind(a, f"/dav/calendars/{ANN}/calendar/", "<C:schedule-calendar-transp/>")
    r = responses(data)[f"/dav/calendars/{ANN}/calendar/"]
    assert r[C + "schedule-calendar-transp"][1].find("C:opaque", NS) is not None


def test_invite_reply_cancel(s):
    a, b, c = conns(s)
    home(a, ANN)
    ev = meeting("m1", ANN, [BOB, CAT], summary="Planning")
    st, h, data = put(a, ANN, "m1.ics", ev)
    assert st == 201, data
    tag1 = h["schedule-tag"]
    assert "etag" not in h     # stored with SCHEDULE-STATUS: not the bytes sent
    # both invitees have it in their inbox and in their calendar
    for conn, user in ((b, BOB), (c, CAT)):
        items = inbox_items(conn, user)
        assert len(items) == 1 and "METHOD:REQUEST" in items[0][1]
        copy = find_uid(conn, user, "m1")
        assert copy is not None and "Planning" in copy
    st, _, org = a.request("GET", f"/dav/calendars/{ANN}/calendar/m1.ics")
    assert attendee_param(org, BOB, "SCHEDULE-STATUS") == ["1.2"]
    assert attendee_param(org, CAT, "SCHEDULE-STATUS") == ["1.2"]
    # bob accepts: the organizer's copy shows it, its schedule tag stays
    bob_copy = find_uid(b, BOB, "m1")
    href = [hh for hh in __import__("sched_util").calendar_objects(b, BOB)][0]
    accepted = bob_copy.replace(f"PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{BOB}",
                                f"PARTSTAT=ACCEPTED:mailto:{BOB}")
    accepted = unfold(accepted).replace(f"RSVP=TRUE;PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED")
    assert "ACCEPTED:mailto:" + BOB in unfold(accepted) or \
        attendee_param(accepted, BOB, "PARTSTAT") == ["ACCEPTED"]
    st, _, _ = b.request("PUT", href, accepted, TEXT_CAL)
    assert st in (201, 204)
    st, h, org = a.request("GET", f"/dav/calendars/{ANN}/calendar/m1.ics")
    assert attendee_param(org, BOB, "PARTSTAT") == ["ACCEPTED"]
    assert "Planning" in org.decode()
    st, _, data = propfind(a, f"/dav/calendars/{ANN}/calendar/m1.ics", "<C:schedule-tag/>")
    assert responses(data)[f"/dav/calendars/{ANN}/calendar/m1.ics"][C + "schedule-tag"][1] \
        .text == tag1
    inbox = inbox_items(a, ANN)
    assert any("METHOD:REPLY" in d for _, d in inbox)
    # the inbox item can be deleted by the client
    st, _, _ = a.request("DELETE", inbox[0][0])
    assert st == 204
    assert len(inbox_items(a, ANN)) == len(inbox) - 1
    # If-Schedule-Tag-Match: a stale tag is refused, the current one works
    st, _, _ = put(a, ANN, "m1.ics", org.decode(), {"If-Schedule-Tag-Match": '"stale"'})
    assert st == 412
    moved = unfold(org).replace("DTSTART:20260302T100000Z", "DTSTART:20260302T120000Z") \
        .replace("DTEND:20260302T110000Z", "DTEND:20260302T130000Z")
    st, h, _ = put(a, ANN, "m1.ics", moved, {"If-Schedule-Tag-Match": tag1})
    assert st == 204 and h["schedule-tag"] != tag1
    # the attendees' copies follow, with a raised SEQUENCE
    for conn, user in ((b, BOB), (c, CAT)):
        copy = find_uid(conn, user, "m1")
        assert "DTSTART:20260302T120000Z" in unfold(copy)
        assert int(prop_values(copy, "SEQUENCE")[0]) >= 1
    # the organizer deletes: CANCEL, the copies go
    st, _, _ = a.request("DELETE", f"/dav/calendars/{ANN}/calendar/m1.ics")
    assert st == 204
    for conn, user in ((b, BOB), (c, CAT)):
        assert any("METHOD:CANCEL" in d for _, d in inbox_items(conn, user))
        copy = find_uid(conn, user, "m1")
        assert copy is None or "STATUS:CANCELLED" in unfold(copy)


def test_refusals(s):
    a, b, c = conns(s)
    home(a, ANN)
    home(b, BOB)
    # bob claims ann organizes a meeting bob is not in: forged
    st, _, data = put(b, BOB, "f.ics", meeting("forged", ANN, [CAT]))
    assert st == 403 and xml(data).find("C:valid-organizer", NS) is not None
    assert find_uid(c, CAT, "forged") is None
    # an external organizer's event is just stored
    st, _, _ = put(b, BOB, "ext.ics", meeting("ext", "someone@example.org", [CAT]))
    assert st == 201
    # the attendee cap (20 here)
    many = [f"u{i}@example.org" for i in range(25)]
    st, _, data = put(a, ANN, "big.ics", meeting("big", ANN, many))
    assert st == 403 and xml(data).find("C:max-attendees-per-instance", NS) is not None
    # an attendee changing another attendee's answer
    st, _, _ = put(a, ANN, "m2.ics", meeting("m2", ANN, [BOB, CAT]))
    assert st == 201
    copy = find_uid(b, BOB, "m2")
    href = f"/dav/calendars/{BOB}/calendar/m2.ics"
    assert b.request("GET", href)[0] == 200
    bad = unfold(copy).replace(f"PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{CAT}",
                               f"PARTSTAT=DECLINED:mailto:{CAT}")
    assert bad != unfold(copy)
    st, _, data = b.request("PUT", href, bad, TEXT_CAL)
    assert st == 403 and \
        xml(data).find("C:allowed-attendee-scheduling-object-change", NS) is not None
    # the same UID in a second calendar of the owner
    assert a.request("MKCALENDAR", f"/dav/calendars/{ANN}/other/")[0] == 201
    st, _, data = put(a, ANN, "m2.ics", meeting("m2", ANN, [BOB]), coll="other")
    assert st == 403 and xml(data).find("C:unique-scheduling-object-resource", NS) is not None
    # different organizers in two components
    two = meeting("m3", ANN, [BOB], comps=(
        "BEGIN:VEVENT\r\nUID:m3\r\nDTSTAMP:20260101T000000Z\r\n"
        "RECURRENCE-ID:20260302T100000Z\r\nDTSTART:20260302T100000Z\r\n"
        f"DTEND:20260302T110000Z\r\nORGANIZER:mailto:{CAT}\r\nATTENDEE:mailto:{BOB}\r\n"
        "END:VEVENT\r\n"), extra="RRULE:FREQ=DAILY;COUNT=3\r\n")
    st, _, data = put(a, ANN, "m3.ics", two)
    assert st == 403 and xml(data).find("C:same-organizer-in-all-components", NS) is not None
    # a REPLY for a meeting the organizer never had: refused, nothing stored
    home(c, CAT)
    never = meeting("never", ANN, [CAT], att_params={CAT: "PARTSTAT=ACCEPTED"})
    st, _, data = put(c, CAT, "never.ics", never)
    assert st == 201, data
    st, _, mine = c.request("GET", f"/dav/calendars/{CAT}/calendar/never.ics")
    org_status = [line for line in unfold(mine).splitlines() if line.startswith("ORGANIZER")]
    assert org_status and re.search(r"SCHEDULE-STATUS=\"?[35]\.", org_status[0]), org_status
    assert find_uid(a, ANN, "never") is None
    assert not any("never" in d for _, d in inbox_items(a, ANN))
    # SCHEDULE-AGENT=CLIENT: the server sends nothing
    ev = meeting("m4", ANN, [CAT]).replace(f"RSVP=TRUE:mailto:{CAT}",
                                           f"RSVP=TRUE;SCHEDULE-AGENT=CLIENT:mailto:{CAT}")
    before = len(inbox_items(c, CAT))
    assert put(a, ANN, "m4.ics", ev)[0] == 201
    assert len(inbox_items(c, CAT)) == before and find_uid(c, CAT, "m4") is None


WEEKLY = dict(start="20260302T090000Z", end="20260302T100000Z",
              extra="RRULE:FREQ=WEEKLY;COUNT=6\r\n")


def test_recurring(s):
    a, b, c = conns(s)
    home(a, ANN)
    ev = meeting("w1", ANN, [BOB, CAT], summary="Weekly", **WEEKLY)
    assert put(a, ANN, "w1.ics", ev)[0] == 201
    # organizer moves the 2nd instance and cancels the 3rd
    st, _, org = a.request("GET", f"/dav/calendars/{ANN}/calendar/w1.ics")
    text = unfold(org)
    master_end = text.rindex("END:VEVENT")
    atts = "".join(f"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{x}\r\n" for x in (BOB, CAT))
    override = ("BEGIN:VEVENT\r\nUID:w1\r\nDTSTAMP:20260102T000000Z\r\n"
                "RECURRENCE-ID:20260309T090000Z\r\nDTSTART:20260310T140000Z\r\n"
                "DTEND:20260310T150000Z\r\nSEQUENCE:1\r\nSUMMARY:Weekly (moved)\r\n"
                f"ORGANIZER:mailto:{ANN}\r\n{atts}END:VEVENT\r\n")
    text = text[:master_end] + "EXDATE:20260316T090000Z\r\n" + text[master_end:]
    text = text.replace("END:VCALENDAR", override + "END:VCALENDAR")
    st, _, data = put(a, ANN, "w1.ics", text)
    assert st == 204, data
    for conn, user in ((b, BOB), (c, CAT)):
        copy = unfold(find_uid(conn, user, "w1"))
        assert "RECURRENCE-ID:20260309T090000Z" in copy and "DTSTART:20260310T140000Z" in copy
        assert "20260316T090000Z" in copy   # EXDATE (or a cancelled instance)
    # cat declines one instance only
    copy = unfold(find_uid(c, CAT, "w1"))
    href = f"/dav/calendars/{CAT}/calendar/w1.ics"
    assert c.request("GET", href)[0] == 200
    i = copy.index("RECURRENCE-ID:20260309T090000Z")
    start = copy.rindex("BEGIN:VEVENT", 0, i)
    end = copy.index("END:VEVENT", i)
    block = copy[start:end]
    import re
    newblock = re.sub(r"ATTENDEE([^\r\n]*)PARTSTAT=[A-Z-]+([^\r\n]*):mailto:" + CAT,
                      r"ATTENDEE\1PARTSTAT=DECLINED\2:mailto:" + CAT, block)
    assert newblock != block
    st, _, data = c.request("PUT", href, copy[:start] + newblock + copy[end:], TEXT_CAL)
    assert st in (201, 204), data
    st, _, org = a.request("GET", f"/dav/calendars/{ANN}/calendar/w1.ics")
    org = unfold(org)
    i = org.index("RECURRENCE-ID:20260309T090000Z")
    block = org[org.rindex("BEGIN:VEVENT", 0, i):org.index("END:VEVENT", i)]
    assert attendee_param(block, CAT, "PARTSTAT") == ["DECLINED"]
    # the master keeps cat's answer as it was
    master = org[:org.index("END:VEVENT")]
    assert attendee_param(master, CAT, "PARTSTAT") == ["NEEDS-ACTION"]


def test_attendee_delete_declines(s):
    a, b, _ = conns(s)
    home(a, ANN)
    assert put(a, ANN, "d1.ics", meeting("d1", ANN, [BOB]))[0] == 201
    st, _, _ = b.request("DELETE", f"/dav/calendars/{BOB}/calendar/d1.ics")
    assert st == 204
    st, _, org = a.request("GET", f"/dav/calendars/{ANN}/calendar/d1.ics")
    assert attendee_param(org, BOB, "PARTSTAT") == ["DECLINED"]


def test_delegate_answers_with_sent_by(s):
    a, b, c = conns(s)
    home(c, CAT)
    home(a, ANN)
    ctl(s, "calendar", "delegate", ANN, BOB, "write")
    assert put(c, CAT, "dl.ics", meeting("dl", CAT, [ANN]))[0] == 201
    href = f"/dav/calendars/{ANN}/calendar/dl.ics"
    st, _, copy = b.request("GET", href)      # bob reads ann's calendar as her delegate
    assert st == 200, copy
    text = unfold(copy)
    assert attendee_param(text, ANN, "PARTSTAT") == ["NEEDS-ACTION"]
    import re
    answered = re.sub(r"ATTENDEE([^\r\n]*)PARTSTAT=NEEDS-ACTION([^\r\n]*):mailto:" + ANN,
                      r"ATTENDEE\1PARTSTAT=ACCEPTED\2:mailto:" + ANN, text)
    st, _, data = b.request("PUT", href, answered, TEXT_CAL)
    assert st == 204, data
    st, _, org = c.request("GET", f"/dav/calendars/{CAT}/calendar/dl.ics")
    assert attendee_param(org, ANN, "PARTSTAT") == ["ACCEPTED"]
    # the REPLY in cat's inbox names bob as the one who answered
    reply = [d for _, d in inbox_items(c, CAT) if "METHOD:REPLY" in d]
    assert reply
    assert attendee_param(reply[0], ANN, "SENT-BY")[0].strip('"').lower() == f"mailto:{BOB}"
    # and ann's own copy records who answered
    st, _, mine = a.request("GET", href)
    assert attendee_param(mine, ANN, "SENT-BY")[0].strip('"').lower() == f"mailto:{BOB}"
    # without delegation bob cannot answer for ann
    ctl(s, "calendar", "delegate", ANN, BOB, "none")
    st, _, _ = b.request("PUT", href, answered, TEXT_CAL)
    assert st == 403


def test_move_and_inbox_sync(s):
    a, b, _ = conns(s)
    home(a, ANN)
    st, h, _ = put(a, ANN, "mv.ics", meeting("mv", ANN, [BOB]))
    assert st == 201
    tag = h["schedule-tag"]
    bob_inbox = len(inbox_items(b, BOB))
    # a MOVE to another calendar of the owner keeps the tag and sends nothing
    assert a.request("MKCALENDAR", f"/dav/calendars/{ANN}/work/")[0] == 201
    st, h, _ = a.request("MOVE", f"/dav/calendars/{ANN}/calendar/mv.ics",
                         headers={"Destination": f"/dav/calendars/{ANN}/work/mv.ics"})
    assert st == 201 and h["schedule-tag"] == tag
    assert len(inbox_items(b, BOB)) == bob_inbox
    st, _, data = propfind(a, f"/dav/calendars/{ANN}/work/mv.ics", "<C:schedule-tag/>")
    assert responses(data)[f"/dav/calendars/{ANN}/work/mv.ics"][C + "schedule-tag"][1].text == tag
    # If-Schedule-Tag-Match on DELETE
    st, _, _ = a.request("DELETE", f"/dav/calendars/{ANN}/work/mv.ics",
                         headers={"If-Schedule-Tag-Match": '"nope"'})
    assert st == 412
    # the inbox with sync-collection: a token, then only what is new
    sync = ('<D:sync-collection xmlns:D="DAV:"><D:sync-token>{}</D:sync-token>'
            '<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>')
    st, _, data = b.request("REPORT", f"/dav/calendars/{BOB}/inbox/", sync.format(""))
    assert st == 207
    token = xml(data).find("D:sync-token", NS).text
    n0 = len(responses(data))
    assert n0 == len(inbox_items(b, BOB)) >= 1
    st, _, _ = a.request("DELETE", f"/dav/calendars/{ANN}/work/mv.ics",
                         headers={"If-Schedule-Tag-Match": tag})
    assert st == 204
    st, _, data = b.request("REPORT", f"/dav/calendars/{BOB}/inbox/", sync.format(token))
    assert st == 207
    new = responses(data)
    assert len(new) == 1   # the CANCEL
    [href] = new
    st, _, body = b.request("GET", href)
    assert st == 200 and b"METHOD:CANCEL" in body
