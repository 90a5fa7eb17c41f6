"""iMIP (RFC 6047, issue 15) against a real cairnd with the scan stage on
(SPF/DKIM/DMARC against a local DNS server this test controls), the queue
sending to Postfix's smtp-sink on loopback, and CalDAV scheduling:

- an organizer's PUT with an external attendee sends a DKIM-signed
  multipart message whose text/calendar (method=REQUEST) carries the event;
- the attendee's REPLY injected over SMTP updates the organizer's copy, and
  only when it is genuine: a From: that is not the attendee, an attendee who
  was never invited, a DMARC failure and a REPLY for an unknown UID change
  nothing (the mail still lands in INBOX);
- an invitation from outside reaches the local user's scheduling inbox and
  INBOX; malformed calendar data is plain mail;
- a room answers a mailed invitation automatically, but never an
  auto-submitted or list message, and only once per UID/SEQUENCE."""
import email
import email.policy
import re
import smtplib
import time

import dkim
import pytest

from dav_util import Dav, ctl
from scan_util import DNSServer
from sieve_util import mailbox_messages, wait_for
from test_queue import Sink

PASSWORD = "dav-secret-1"
HOST = "mx.corp.test"
ORG = "ann@corp.test"
BOB = "bob@corp.test"
ROOM = "room1@corp.test"
EXT = "ext@remote.test"


@pytest.fixture(scope="module")
def dns():
    z = DNSServer()
    # remote.test: mail from 127.0.0.1 passes SPF, DMARC asks for nothing
    # but is evaluated (so pass and fail are both delivered)
    z.txt("remote.test", "v=spf1 ip4:127.0.0.0/8 -all")
    z.txt("_dmarc.remote.test", "v=DMARC1; p=none")
    # other.test: SPF passes but is not aligned with remote.test
    z.txt("other.test", "v=spf1 ip4:127.0.0.0/8 -all")
    # nodmarc.test: no DMARC record at all
    z.txt("nodmarc.test", "v=spf1 ip4:127.0.0.0/8 -all")
    yield z
    z.stop()


@pytest.fixture(scope="module")
def sink():
    s = Sink()
    yield s
    s.close()


@pytest.fixture(scope="module")
def mx(dns, sink, pg, tls_files, tmp_path_factory):
    from conftest import Cairnd, _migrate
    pg.reset_db()
    routes = {d: f"127.0.0.1:{sink.port}" for d in ("remote.test", "other.test", "nodmarc.test")}
    d = Cairnd(tmp_path_factory.mktemp("cairnd-imip"), pg, *tls_files, {
        "server": {"hostname": HOST},
        "queue": {"resolver": dns.address, "runners": "1", "poll_interval": "200ms",
                  "retry_min": "1s"},
        "routes": routes,
        "scan": {"smtp": "yes", "authserv_id": HOST, "timeout": "3s", "dns_timeout": "1s",
                 "on_timeout": "accept"},
    })
    _migrate(pg, d.conf)
    d.start()
    ctl(d, "domain", "add", "corp.test")
    for u in (ORG, BOB):
        add_calendar_user(d, u)
    out = ctl(d, "dkim", "keygen", "corp.test", "--selector", "s1", "--algorithm",
              "ed25519-sha256").stdout
    d.dkim_txt = "".join(re.findall(r'"([^"]*)"', out))
    yield d
    d.stop()
    log = d.log_text()
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "panic"):
        assert marker not in log, f"cairnd log contains {marker}"


def add_calendar_user(d, user):
    """An account with its calendar home: the default calendar and the
    scheduling inbox and outbox."""
    ctl(d, "user", "add", user, "--password", PASSWORD)
    c = Dav(d, user)
    try:
        assert c.request("MKCALENDAR", f"/dav/calendars/{user}/calendar/")[0] == 201
        assert c.request("PROPFIND", f"/dav/calendars/{user}/", None, {"Depth": "1"})[0] == 207
    finally:
        c.close()


def inbox(d, user):
    return [raw for _, _, raw in mailbox_messages(d, user, "INBOX")]


def smtp(d, mail_from, rcpts, data):
    with smtplib.SMTP("127.0.0.1", d.smtp_port, local_hostname="client.remote.test",
                      timeout=30) as s:
        s.ehlo("client.remote.test")
        return s.sendmail(mail_from, rcpts, data)


def vcal(method, body):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Remote//EN\r\n"
            f"METHOD:{method}\r\n{body}END:VCALENDAR\r\n")


def imip_mail(frm, to, method, cal, subject="iMIP", extra=""):
    """A minimal RFC 6047 message as another server would send it."""
    return ("From: <" + frm + ">\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\n"
            "Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n"
            f"Message-ID: <{time.time_ns()}@remote.test>\r\n{extra}"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nA calendar message.\r\n"
            f"--b\r\nContent-Type: text/calendar; method={method}; charset=utf-8\r\n\r\n"
            + cal + "--b--\r\n").encode()


def event_path(user, uid):
    return f"/dav/calendars/{user}/calendar/{uid}.ics"


def get_event(d, user, uid):
    c = Dav(d, user)
    try:
        status, _, data = c.request("GET", event_path(user, uid))
    finally:
        c.close()
    return status, data.decode("utf-8", "replace")


def partstat(ics_text, address):
    unfolded = re.sub(r"\r?\n[ \t]", "", ics_text)
    for line in unfolded.splitlines():
        if line.upper().startswith("ATTENDEE") and line.lower().endswith("mailto:" + address):
            m = re.search(r";PARTSTAT=([A-Z-]+)", line, re.I)
            return m.group(1).upper() if m else "NEEDS-ACTION"
    return None


def sink_with(sink, needle):
    return [m for m in sink.messages() if needle in m]


def invite(d, uid, summary="Quarterly review \u00e9t\u00e9", attendees=(EXT,), seq=0):
    att = "".join(f"ATTENDEE;CN=Guest;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{a}\r\n"
                  for a in attendees)
    body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn test//EN\r\n"
            "BEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20261201T090000Z\r\nSEQUENCE:{seq}\r\n"
            "DTSTART:20261215T100000Z\r\nDTEND:20261215T110000Z\r\n"
            f"SUMMARY:{summary}\r\nLOCATION:Room 1\r\n"
            f"ORGANIZER;CN=Ann Organizer:mailto:{ORG}\r\n"
            f"ATTENDEE;CN=Ann Organizer;PARTSTAT=ACCEPTED:mailto:{ORG}\r\n{att}"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")
    c = Dav(d, ORG)
    try:
        status, _, data = c.request("PUT", event_path(ORG, uid), body,
                                    {"Content-Type": "text/calendar; charset=utf-8"})
    finally:
        c.close()
    assert status in (201, 204), (status, data)


def reply_cal(uid, attendee, partstat_value, seq=0, extra=""):
    return vcal("REPLY", "BEGIN:VEVENT\r\n"
                f"UID:{uid}\r\nDTSTAMP:20261202T090000Z\r\nSEQUENCE:{seq}\r\n"
                "DTSTART:20261215T100000Z\r\nDTEND:20261215T110000Z\r\n"
                f"ORGANIZER:mailto:{ORG}\r\n"
                f"ATTENDEE;PARTSTAT={partstat_value}:mailto:{attendee}\r\n{extra}"
                "END:VEVENT\r\n")


def test_invitation_out_signed_and_reply_in(mx, sink):
    uid = "imip-out-1@corp.test"
    invite(mx, uid)
    [raw] = wait_for(lambda: sink_with(sink, uid.encode()), 30, "the iMIP invitation")
    assert b"X-Rcpt-Args: <ext@remote.test>" in raw
    # DKIM-signed by the queue with corp.test's key
    signed = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    signed = signed[signed.index(b"DKIM-Signature:"):]
    assert dkim.DKIM(signed).verify(dnsfunc=lambda name, timeout=5: mx.dkim_txt.encode()
                                    if (name.decode() if isinstance(name, bytes) else name)
                                    .rstrip(".") == "s1._domainkey.corp.test" else b"")
    msg = email.message_from_bytes(signed, policy=email.policy.default)
    assert msg["From"].addresses[0].addr_spec == ORG
    assert msg["To"].addresses[0].addr_spec == EXT
    assert str(msg["Subject"]) == "Invitation: Quarterly review \u00e9t\u00e9"
    assert msg["Auto-Submitted"] is None
    assert msg.get_content_type() == "multipart/mixed"
    parts = {p.get_content_type(): p for p in msg.walk()}
    assert "multipart/alternative" in parts and "application/ics" in parts
    text = parts["text/plain"].get_content()
    assert "Quarterly review \u00e9t\u00e9" in text and "2026-12-15 10:00 UTC" in text
    assert "Room 1" in text
    cal = parts["text/calendar"]
    assert cal.get_param("method") == "REQUEST"
    assert cal.get_param("charset").lower() == "utf-8"
    body = cal.get_content()
    assert "METHOD:REQUEST" in body and f"UID:{uid}" in body
    assert "mailto:ext@remote.test" in body.lower()
    assert body.count("BEGIN:VEVENT") == 1
    assert parts["application/ics"].get_content().decode() == body.replace("\n", "\r\n") or \
        b"METHOD:REQUEST" in parts["application/ics"].get_content()
    for line in raw.split(b"\n"):
        assert len(line.rstrip(b"\r")) <= 998

    # the attendee accepts by mail: MAIL FROM and From: aligned, DMARC pass
    smtp(mx, EXT, [ORG], imip_mail(EXT, ORG, "REPLY", reply_cal(uid, EXT, "ACCEPTED"),
                                   "Accepted: Quarterly review"))
    status, text = get_event(mx, ORG, uid)
    assert status == 200 and partstat(text, EXT) == "ACCEPTED", text
    assert any(b"Accepted: Quarterly review" in m for m in inbox(mx, ORG))


def test_forged_and_unverified_replies_change_nothing(mx, sink):
    uid = "imip-forged-1@corp.test"
    invite(mx, uid)
    wait_for(lambda: sink_with(sink, uid.encode()), 30, "the iMIP invitation")
    before = len(inbox(mx, ORG))
    # From: is somebody else than the replying attendee
    smtp(mx, "mallory@remote.test", [ORG],
         imip_mail("mallory@remote.test", ORG, "REPLY", reply_cal(uid, EXT, "DECLINED")))
    # an attendee who was never invited answers for himself
    smtp(mx, "mallory@remote.test", [ORG],
         imip_mail("mallory@remote.test", ORG, "REPLY",
                   reply_cal(uid, "mallory@remote.test", "ACCEPTED")))
    # the right From:, but DMARC fails (the envelope's domain is not aligned)
    smtp(mx, "bounce@other.test", [ORG],
         imip_mail(EXT, ORG, "REPLY", reply_cal(uid, EXT, "DECLINED")))
    # the Content-Type method contradicts the METHOD inside
    smtp(mx, EXT, [ORG], imip_mail(EXT, ORG, "CANCEL", reply_cal(uid, EXT, "DECLINED")))
    status, text = get_event(mx, ORG, uid)
    assert status == 200
    assert partstat(text, EXT) == "NEEDS-ACTION", text
    assert partstat(text, "mallory@remote.test") is None, text
    # every one of them is still delivered as mail
    assert len(inbox(mx, ORG)) == before + 4
    log = mx.log_text()
    assert "event=refused" in log and "DMARC does not pass" in log
    # a REPLY for an event the organizer never had changes nothing
    smtp(mx, EXT, [ORG], imip_mail(EXT, ORG, "REPLY",
                                   reply_cal("never-had@corp.test", EXT, "ACCEPTED")))
    assert get_event(mx, ORG, "never-had@corp.test")[0] == 404
    # and the genuine one still works afterwards
    smtp(mx, EXT, [ORG], imip_mail(EXT, ORG, "REPLY", reply_cal(uid, EXT, "TENTATIVE")))
    assert partstat(get_event(mx, ORG, uid)[1], EXT) == "TENTATIVE"


def test_invitation_from_outside_reaches_inbox_and_scheduling_inbox(mx):
    uid = "imip-in-1@remote.test"
    cal = vcal("REQUEST", "BEGIN:VEVENT\r\n"
               f"UID:{uid}\r\nDTSTAMP:20261202T090000Z\r\nSEQUENCE:0\r\n"
               "DTSTART:20261216T140000Z\r\nDTEND:20261216T150000Z\r\nSUMMARY:Partner call\r\n"
               "ORGANIZER;CN=Boss:mailto:boss@remote.test\r\n"
               "ATTENDEE;PARTSTAT=ACCEPTED:mailto:boss@remote.test\r\n"
               f"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{BOB}\r\n"
               "END:VEVENT\r\n")
    smtp(mx, "boss@remote.test", [BOB], imip_mail("boss@remote.test", BOB, "REQUEST", cal,
                                                  "Invitation: Partner call"))
    assert any(b"Invitation: Partner call" in m for m in inbox(mx, BOB))
    c = Dav(mx, BOB)
    try:
        status, _, data = c.request(
            "PROPFIND", f"/dav/calendars/{BOB}/inbox/",
            '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/>'
            '</D:prop></D:propfind>', {"Depth": "1"})
        assert status == 207
        hrefs = re.findall(rb"<D:href>([^<]*)</D:href>", data, re.I)
        items = [h for h in hrefs if not h.endswith(b"/inbox/")]
        assert items, data
        found = False
        for h in items:
            st, _, body = c.request("GET", h.decode())
            found = found or (st == 200 and uid.encode() in body)
        assert found, "the invitation is not in the scheduling inbox"
    finally:
        c.close()
    # the invitation is in Bob's calendar, waiting for his answer
    status, text = get_event(mx, BOB, uid)
    assert status == 200 and partstat(text, BOB) == "NEEDS-ACTION", text


def test_malformed_calendar_is_plain_mail(mx):
    before = len(inbox(mx, BOB))
    bad = [
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:x\r\n",  # truncated
        "this is not iCalendar at all\r\n",
        vcal("REQUEST", "BEGIN:VEVENT\r\nDTSTART:nonsense\r\nEND:VEVENT\r\n"),  # no UID
        vcal("REPLY", "BEGIN:VEVENT\r\nUID:two-attendees\r\nDTSTAMP:20261202T090000Z\r\n"
             "ORGANIZER:mailto:boss@remote.test\r\n"
             "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@remote.test\r\n"
             "ATTENDEE;PARTSTAT=ACCEPTED:mailto:b@remote.test\r\nEND:VEVENT\r\n"),
        # one property value over every limit, folded into short lines
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nX-LONG:" + "\r\n ".join(["a" * 70] * 3000)
        + "\r\nEND:VCALENDAR\r\n",
    ]
    for i, cal in enumerate(bad):
        smtp(mx, "boss@remote.test", [BOB],
             imip_mail("boss@remote.test", BOB, "REQUEST", cal, f"broken {i}"))
    msgs = inbox(mx, BOB)
    assert len(msgs) == before + len(bad)
    assert "event=malformed" in mx.log_text()
    # the daemon is fine: one more good delivery
    smtp(mx, "boss@remote.test", [BOB], b"From: boss@remote.test\r\nSubject: ok\r\n\r\nok\r\n")
    assert len(inbox(mx, BOB)) == before + len(bad) + 1


def room_request(uid, seq=0):
    return vcal("REQUEST", "BEGIN:VEVENT\r\n"
                f"UID:{uid}\r\nDTSTAMP:20261202T090000Z\r\nSEQUENCE:{seq}\r\n"
                "DTSTART:20261217T090000Z\r\nDTEND:20261217T093000Z\r\n"
                f"SUMMARY:Booking {uid}\r\nORGANIZER:mailto:boss@remote.test\r\n"
                "ATTENDEE;PARTSTAT=ACCEPTED:mailto:boss@remote.test\r\n"
                f"ATTENDEE;CUTYPE=ROOM;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ROOM}\r\n"
                "END:VEVENT\r\n")


def test_room_answers_once_and_never_to_automatic_mail(mx, sink):
    add_calendar_user(mx, ROOM)
    mx.pg.psql("cairn", "INSERT INTO resources (account_id) SELECT id FROM accounts"
                        f" WHERE address = '{ROOM}'")
    boss = "boss@remote.test"

    def replies(uid):
        return [m for m in sink_with(sink, uid.encode()) if b"METHOD:REPLY" in m]

    # a room accepts a mailed invitation automatically: a REPLY from <>
    # marked auto-generated
    smtp(mx, boss, [ROOM], imip_mail(boss, ROOM, "REQUEST", room_request("room-a")))
    try:
        [r] = wait_for(lambda: replies("room-a"), 30, "the room's REPLY")
    except AssertionError:
        print("\n".join(l for l in mx.log_text().splitlines() if "imip" in l or "sched" in l))
        raise
    assert b"X-Mail-Args: <>" in r and b"Auto-Submitted: auto-generated" in r
    assert b"X-Rcpt-Args: <boss@remote.test>" in r
    assert b"Accepted: Booking room-a" in r
    # the same invitation again (the same UID and SEQUENCE): no second answer
    smtp(mx, boss, [ROOM], imip_mail(boss, ROOM, "REQUEST", room_request("room-a")))
    assert "event=auto-reply-capped" in mx.log_text()
    # auto-submitted, list and bulk mail is applied but never answered
    smtp(mx, boss, [ROOM], imip_mail(boss, ROOM, "REQUEST", room_request("room-b"),
                                     extra="Auto-Submitted: auto-replied\r\n"))
    smtp(mx, boss, [ROOM], imip_mail(boss, ROOM, "REQUEST", room_request("room-c"),
                                     extra="List-Id: <team.remote.test>\r\n"))
    smtp(mx, boss, [ROOM], imip_mail(boss, ROOM, "REQUEST", room_request("room-d"),
                                     extra="Precedence: bulk\r\n"))
    assert mx.log_text().count("event=auto-reply-suppressed") >= 3
    for uid in ("room-b", "room-c", "room-d"):
        assert get_event(mx, ROOM, uid)[0] == 200
    # a later, ordinary invitation is answered: by the time its answer has
    # arrived, the queue would have sent any earlier one
    smtp(mx, boss, [ROOM], imip_mail(boss, ROOM, "REQUEST", room_request("room-e")))
    wait_for(lambda: replies("room-e"), 30, "the room's REPLY to room-e")
    assert len(replies("room-a")) == 1
    for uid in ("room-b", "room-c", "room-d"):
        assert replies(uid) == []
    # an update (a higher SEQUENCE) is answered again
    smtp(mx, boss, [ROOM], imip_mail(boss, ROOM, "REQUEST", room_request("room-a", seq=1)))
    wait_for(lambda: len(replies("room-a")) == 2, 30, "the room's answer to the update")


def test_sieve_filed_invitation_still_reaches_the_calendar(mx):
    """The iTIP part is applied in the Sieve stage's transaction too: a
    script that files invitations away does not lose them for the calendar."""
    ctl(mx, "sieve", "put", "--user", BOB, "--activate", "yes", "main", "-",
        input='require ["fileinto", "mailbox"];\r\n'
              'if header :contains "Content-Type" "multipart" '
              '{ fileinto :create "Invitations"; }\r\n')
    try:
        uid = "imip-sieve-1@remote.test"
        cal = vcal("REQUEST", "BEGIN:VEVENT\r\n"
                   f"UID:{uid}\r\nDTSTAMP:20261202T090000Z\r\nSEQUENCE:0\r\n"
                   "DTSTART:20261218T140000Z\r\nDTEND:20261218T150000Z\r\n"
                   "SUMMARY:Filed call\r\nORGANIZER:mailto:boss@remote.test\r\n"
                   f"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{BOB}\r\n"
                   "END:VEVENT\r\n")
        smtp(mx, "boss@remote.test", [BOB],
             imip_mail("boss@remote.test", BOB, "REQUEST", cal, "Invitation: Filed call"))
        filed = [raw for _, _, raw in mailbox_messages(mx, BOB, "Invitations")]
        assert any(b"Invitation: Filed call" in m for m in filed)
        status, text = get_event(mx, BOB, uid)
        assert status == 200 and partstat(text, BOB) == "NEEDS-ACTION", text
    finally:
        ctl(mx, "sieve", "deactivate", "--user", BOB)


def test_domain_without_dmarc_is_applied_unverified(mx, sink):
    """No DMARC record: nothing to hold the From: against, so the reply is
    applied as unverified (the default of [imip] require_dmarc_pass)."""
    uid = "imip-nodmarc-1@corp.test"
    guest = "guest@nodmarc.test"
    invite(mx, uid, attendees=(guest,))
    wait_for(lambda: sink_with(sink, uid.encode()), 30, "the iMIP invitation")
    smtp(mx, guest, [ORG], imip_mail(guest, ORG, "REPLY", reply_cal(uid, guest, "DECLINED")))
    assert partstat(get_event(mx, ORG, uid)[1], guest) == "DECLINED"
    assert re.search(rf'imip event=sender-check from=<{guest}> method=REPLY uid="{uid}" '
                     r'dmarc=none verified=no', mx.log_text())


def test_organizer_in_sender_field_of_the_same_domain(mx):
    """An invitation sent on the organizer's behalf names it in Sender:;
    accepted when Sender: and From: share the domain DMARC checked."""
    def request(uid):
        return vcal("REQUEST", "BEGIN:VEVENT\r\n"
                    f"UID:{uid}\r\nDTSTAMP:20261202T090000Z\r\nSEQUENCE:0\r\n"
                    "DTSTART:20261219T140000Z\r\nDTEND:20261219T150000Z\r\n"
                    "SUMMARY:On behalf\r\nORGANIZER:mailto:boss@remote.test\r\n"
                    f"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{BOB}\r\n"
                    "END:VEVENT\r\n")
    smtp(mx, "assistant@remote.test", [BOB],
         imip_mail("assistant@remote.test", BOB, "REQUEST", request("behalf-1"),
                   extra="Sender: <boss@remote.test>\r\n"))
    st1 = get_event(mx, BOB, "behalf-1")[0]
    assert st1 == 200, "\n".join(l for l in mx.log_text().splitlines() if "behalf" in l or "sched" in l)
    # a Sender: of another domain than From: vouches for nothing
    smtp(mx, "assistant@remote.test", [BOB],
         imip_mail("assistant@remote.test", BOB, "REQUEST", request("behalf-2"),
                   extra="Sender: <boss@other.test>\r\n").replace(
                       b"mailto:boss@remote.test", b"mailto:boss@other.test"))
    assert get_event(mx, BOB, "behalf-2")[0] == 404


def test_lmtp_delivery_applies_per_recipient(mx):
    """LMTP (per-recipient results, savepoints per mailbox) applies the
    invitation for each recipient that got the mail."""
    uid = "imip-lmtp-1@remote.test"
    cal = vcal("REQUEST", "BEGIN:VEVENT\r\n"
               f"UID:{uid}\r\nDTSTAMP:20261202T090000Z\r\nSEQUENCE:0\r\n"
               "DTSTART:20261220T140000Z\r\nDTEND:20261220T150000Z\r\n"
               "SUMMARY:Over LMTP\r\nORGANIZER:mailto:boss@remote.test\r\n"
               f"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{BOB}\r\n"
               f"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ORG}\r\n"
               "END:VEVENT\r\n")
    s = smtplib.LMTP("127.0.0.1", mx.lmtp_port, timeout=30)
    try:
        s.ehlo("client.remote.test")
        refused = s.sendmail("boss@remote.test", [BOB, ORG],
                             imip_mail("boss@remote.test", BOB, "REQUEST", cal, "Over LMTP"))
        assert refused == {}
    finally:
        s.close()
    for user in (BOB, ORG):
        status, text = get_event(mx, user, uid)
        assert status == 200 and partstat(text, user) == "NEEDS-ACTION", (user, text)
