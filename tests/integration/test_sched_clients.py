"""CalDAV scheduling with python3-caldav's own scheduling helpers
(save_with_invites, the scheduling inbox, accept_invite / decline_invite):
what a real client does against Cairn's implicit scheduling."""
import textwrap

import pytest

caldav = pytest.importorskip("caldav")

from dav_util import PASSWORD, setup_users  # noqa: E402
from sched_util import attendee_param, unfold  # noqa: E402

ANN = "ann@cl.test"
BOB = "bob@cl.test"
CAT = "cat@cl.test"


@pytest.fixture
def server(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann", "bob", "cat", domain="cl.test")
    return d


def client(d, user):
    return caldav.DAVClient(url=f"https://127.0.0.1:{d.https_port}/dav/", username=user,
                            password=PASSWORD, ssl_verify_cert=False)


EVENT = textwrap.dedent("""\
    BEGIN:VCALENDAR
    VERSION:2.0
    PRODID:-//test//EN
    BEGIN:VEVENT
    UID:cl-1
    DTSTAMP:20260101T000000Z
    DTSTART:20260410T090000Z
    DTEND:20260410T100000Z
    SUMMARY:Budget review
    END:VEVENT
    END:VCALENDAR
    """)


def test_invite_and_answer(server):
    ann = client(server, ANN).principal()
    assert [str(a) for a in ann.calendar_user_address_set()] == [f"mailto:{ANN}"]
    cal = ann.make_calendar(name="Calendar", cal_id="calendar")
    cal.save_with_invites(EVENT, [f"mailto:{BOB}", f"mailto:{CAT}"], partstat="NEEDS-ACTION",
                          rsvp="TRUE")
    bob = client(server, BOB).principal()
    items = bob.schedule_inbox().get_items()
    invites = [i for i in items if i.is_invite_request()]
    assert len(invites) == 1
    # bob's client accepts: the answer goes to his copy, the server replies
    bob_cal = bob.calendars()[0]
    invites[0].accept_invite(calendar=bob_cal)
    cat = client(server, CAT).principal()
    cinv = [i for i in cat.schedule_inbox().get_items() if i.is_invite_request()]
    cinv[0].decline_invite(calendar=cat.calendars()[0])
    org = unfold(cal.event_by_uid("cl-1").data)
    assert attendee_param(org, BOB, "PARTSTAT") == ["ACCEPTED"]
    assert attendee_param(org, CAT, "PARTSTAT") == ["DECLINED"]
    # delivered (1.2), or the status the reply carried (2.0)
    assert attendee_param(org, BOB, "SCHEDULE-STATUS")[0] in ("1.2", "2.0")
    # the replies are in ann's inbox
    methods = sorted("METHOD:REPLY" in unfold(i.data) for i in ann.schedule_inbox().get_items())
    assert methods.count(True) == 2
