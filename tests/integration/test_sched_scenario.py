"""The meetings scenario of issue 15 end to end, on the merged scheduling
branches: three users (ann organizes, bob and cat attend), one room with the
automatic booking policy, one delegate (cat answers for bob), and an external
attendee reached through the outbound queue and Postfix's smtp-sink, whose
REPLY comes back over SMTP. Raw DAV and python3-caldav side by side."""
import re
import smtplib
import time

import pytest

from dav_util import PASSWORD, Dav, ctl
from sched_util import (TEXT_CAL, attendee_param, find_uid, inbox_items, prop_values, unfold,
                        wait_for)
from test_queue import Sink

caldav = pytest.importorskip("caldav")

ANN = "ann@corp.test"
BOB = "bob@corp.test"
CAT = "cat@corp.test"
ROOM = "room1@corp.test"
EXT = "ext@remote.test"


@pytest.fixture(scope="module")
def sink():
    s = Sink()
    yield s
    s.close()


@pytest.fixture(scope="module")
def corp(sink, pg, tls_files, tmp_path_factory):
    from conftest import Cairnd, _migrate
    pg.reset_db()
    d = Cairnd(tmp_path_factory.mktemp("cairnd-sched"), pg, *tls_files, {
        "server": {"hostname": "mx.corp.test"},
        "queue": {"runners": "1", "poll_interval": "200ms", "retry_min": "1s"},
        "routes": {"remote.test": f"127.0.0.1:{sink.port}"},
    })
    _migrate(pg, d.conf)
    d.start()
    ctl(d, "domain", "add", "corp.test")
    for u in (ANN, BOB, CAT):
        ctl(d, "user", "add", u, "--password", PASSWORD)
    ctl(d, "resource", "add", ROOM, "--name", "Board Room", "--capacity", "10")
    ctl(d, "calendar", "delegate", BOB, CAT, "write")
    yield d
    d.stop()
    log = d.log_text()
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in log, f"cairnd log contains {marker}"


def event(uid, attendees, start="20261215T100000Z", end="20261215T110000Z", summary="Review",
          seq=0, extra=""):
    att = "".join(f"ATTENDEE;CN={a.split('@')[0]};PARTSTAT=NEEDS-ACTION;RSVP=TRUE"
                  f"{';CUTYPE=ROOM' if a == ROOM else ''}:mailto:{a}\r\n" for a in attendees)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn scenario//EN\r\n"
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261201T090000Z\r\nSEQUENCE:{seq}\r\n"
            f"DTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:{summary}\r\n"
            f"ORGANIZER;CN=Ann:mailto:{ANN}\r\nATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:{ANN}\r\n"
            f"{att}{extra}END:VEVENT\r\nEND:VCALENDAR\r\n")


def sink_with(sink, needle):
    return [m for m in sink.messages() if needle in m]


def smtp_reply(d, uid, partstat, seq=0):
    cal = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Remote//EN\r\nMETHOD:REPLY\r\n"
           f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261202T090000Z\r\nSEQUENCE:{seq}\r\n"
           "DTSTART:20261215T100000Z\r\nDTEND:20261215T110000Z\r\n"
           f"ORGANIZER:mailto:{ANN}\r\nATTENDEE;PARTSTAT={partstat}:mailto:{EXT}\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n")
    msg = (f"From: <{EXT}>\r\nTo: <{ANN}>\r\nSubject: Accepted: Review\r\n"
           "Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n"
           f"Message-ID: <{time.time_ns()}@remote.test>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
           "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI will come.\r\n"
           "--b\r\nContent-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n"
           + cal + "--b--\r\n")
    with smtplib.SMTP("127.0.0.1", d.smtp_port, local_hostname="mail.remote.test",
                      timeout=30) as s:
        s.ehlo("mail.remote.test")
        s.sendmail(EXT, [ANN], msg.encode())


def org_copy(a, uid):
    st, _, data = a.request("GET", f"/dav/calendars/{ANN}/calendar/{uid}.ics")
    assert st == 200, data
    return unfold(data)


def test_meeting_scenario(corp, sink):
    a, b, c = Dav(corp, ANN), Dav(corp, BOB), Dav(corp, CAT)
    assert a.request("MKCALENDAR", f"/dav/calendars/{ANN}/calendar/")[0] == 201
    uid = "review-1"
    st, _, data = a.request("PUT", f"/dav/calendars/{ANN}/calendar/{uid}.ics",
                            event(uid, [BOB, CAT, ROOM, EXT]), TEXT_CAL)
    assert st == 201, data
    org = org_copy(a, uid)
    # local users and the room: delivered; the outsider: sent by mail
    assert attendee_param(org, BOB, "SCHEDULE-STATUS") == ["1.2"]
    assert attendee_param(org, CAT, "SCHEDULE-STATUS") == ["1.2"]
    assert attendee_param(org, EXT, "SCHEDULE-STATUS") == ["1.1"]
    # the room accepted by itself (it was free), and its answer is merged
    assert attendee_param(org, ROOM, "PARTSTAT") == ["ACCEPTED"]
    for conn, user in ((b, BOB), (c, CAT)):
        assert any("METHOD:REQUEST" in d for _, d in inbox_items(conn, user))
        assert "SUMMARY:Review" in unfold(find_uid(conn, user, uid))
    [mail] = wait_for(lambda: sink_with(sink, uid.encode()), 30)
    assert b"METHOD:REQUEST" in mail and b"text/calendar" in mail
    # the room is taken: another meeting at the same time is declined
    st, _, data = a.request("PUT", f"/dav/calendars/{ANN}/calendar/clash.ics",
                            event("clash", [ROOM], start="20261215T103000Z",
                                  end="20261215T113000Z", summary="Clash"), TEXT_CAL)
    assert st == 201, data
    assert attendee_param(org_copy(a, "clash"), ROOM, "PARTSTAT") == ["DECLINED"]
    # cat, bob's delegate, accepts for bob (python3-caldav, in bob's calendar)
    cl = caldav.DAVClient(url=f"https://127.0.0.1:{corp.https_port}/dav/", username=CAT,
                          password=PASSWORD, ssl_verify_cert=False)
    bob_cal = cl.calendar(url=f"https://127.0.0.1:{corp.https_port}/dav/calendars/{BOB}/calendar/")
    ev = bob_cal.event_by_uid(uid)
    ev.change_attendee_status(attendee=f"mailto:{BOB}", partstat="ACCEPTED")
    ev.save()
    org = org_copy(a, uid)
    assert attendee_param(org, BOB, "PARTSTAT") == ["ACCEPTED"]
    replies = [d for _, d in inbox_items(a, ANN) if "METHOD:REPLY" in d and BOB in d]
    assert replies and attendee_param(replies[-1], BOB, "SENT-BY")[0].strip('"').lower() == \
        f"mailto:{CAT}"
    # the outsider answers by mail
    smtp_reply(corp, uid, "TENTATIVE")
    wait_for(lambda: attendee_param(org_copy(a, uid), EXT, "PARTSTAT") == ["TENTATIVE"], 30)
    org = org_copy(a, uid)
    assert attendee_param(org, BOB, "PARTSTAT") == ["ACCEPTED"]   # kept
    # a forged REPLY by mail in bob's name changes nothing
    before = org_copy(a, uid)
    cal = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nMETHOD:REPLY\r\n"
           f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261203T090000Z\r\n"
           f"ORGANIZER:mailto:{ANN}\r\nATTENDEE;PARTSTAT=DECLINED:mailto:{BOB}\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n")
    with smtplib.SMTP("127.0.0.1", corp.smtp_port, timeout=30) as s:
        s.sendmail(BOB, [ANN], (f"From: <{BOB}>\r\nTo: <{ANN}>\r\nSubject: x\r\n"
                                "MIME-Version: 1.0\r\n"
                                "Content-Type: text/calendar; method=REPLY\r\n\r\n" + cal)
                   .encode())
    wait_for(lambda: f"sched: refused REPLY for {ANN} from {BOB} (unauthenticated mail from a "
             "local address)" in corp.log_text(), 30)
    assert attendee_param(org_copy(a, uid), BOB, "PARTSTAT") == ["ACCEPTED"]
    assert before.count("ATTENDEE") == org_copy(a, uid).count("ATTENDEE")
    # ann moves the meeting: everybody follows, the outsider by mail
    moved = org_copy(a, uid).replace("DTSTART:20261215T100000Z", "DTSTART:20261216T100000Z") \
        .replace("DTEND:20261215T110000Z", "DTEND:20261216T110000Z")
    st, h, _ = a.request("PUT", f"/dav/calendars/{ANN}/calendar/{uid}.ics", moved, TEXT_CAL)
    assert st == 204
    for conn, user in ((b, BOB), (c, CAT)):
        copy = unfold(find_uid(conn, user, uid))
        assert "DTSTART:20261216T100000Z" in copy
        assert int(prop_values(copy, "SEQUENCE")[0]) >= 1
    wait_for(lambda: [m for m in sink_with(sink, uid.encode()) if b"20261216T100000Z" in m], 30)
    # the outsider lost the invitation and asks again (REFRESH): it gets the
    # current event by mail
    requests = len([m for m in sink_with(sink, uid.encode()) if b"METHOD:REQUEST" in m])
    refresh = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Remote//EN\r\nMETHOD:REFRESH\r\n"
               f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261204T090000Z\r\n"
               f"ORGANIZER:mailto:{ANN}\r\nATTENDEE:mailto:{EXT}\r\nEND:VEVENT\r\n"
               "END:VCALENDAR\r\n")
    with smtplib.SMTP("127.0.0.1", corp.smtp_port, timeout=30) as s:
        s.sendmail(EXT, [ANN], (f"From: <{EXT}>\r\nTo: <{ANN}>\r\nSubject: refresh\r\n"
                                "MIME-Version: 1.0\r\n"
                                "Content-Type: text/calendar; method=REFRESH\r\n\r\n" + refresh)
                   .encode())
    wait_for(lambda: len([m for m in sink_with(sink, uid.encode()) if b"METHOD:REQUEST" in m and
                          b"20261216T100000Z" in m]) >= 2 and
             len([m for m in sink_with(sink, uid.encode()) if b"METHOD:REQUEST" in m]) >
             requests, 30)
    # ann cancels: CANCEL everywhere
    assert a.request("DELETE", f"/dav/calendars/{ANN}/calendar/{uid}.ics")[0] == 204
    for conn, user in ((b, BOB), (c, CAT)):
        assert any("METHOD:CANCEL" in d for _, d in inbox_items(conn, user))
    wait_for(lambda: [m for m in sink_with(sink, uid.encode()) if b"METHOD:CANCEL" in m], 30)
    for x in (a, b, c):
        x.close()
