#!/usr/bin/python3
"""Scheduling benchmark (issue 15 item 8): implicit scheduling of a meeting
with --attendees (50) local attendees. The organizer PUTs the event into
its calendar; Cairn delivers the REQUEST to every attendee's scheduling
inbox and calendar inside the PUT's transaction, so "every inbox has it" is
reached when the PUT answers; the script confirms it by reading each inbox
afterwards (not timed) and also times the PUT plus those reads. For scale,
the same PUT with a single attendee. Prints figures and the ratio; asserts
only that every inbox got every invitation.

Plain HTTP on loopback with one keep-alive connection per user, Basic auth.

    tests/bench/bench-sched.py [--builddir build] [--attendees 50] [--runs 5]
"""
import base64
import http.client
import time

import benchlib
from benchlib import PASSWORD

DOMAIN = "bench.test"
ORG = f"org@{DOMAIN}"
SOLO = f"solo@{DOMAIN}"
PROPFIND = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/>'
            '</D:prop></D:propfind>')


class Client:
    def __init__(self, port, user):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.auth = "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()

    def request(self, method, path, body=None, headers=None):
        h = {"Authorization": self.auth}
        h.update(headers or {})
        self.conn.request(method, path, body=body.encode() if isinstance(body, str) else body,
                          headers=h)
        r = self.conn.getresponse()
        return r.status, r.read()


def meeting(uid, attendees):
    att = "".join(f"ATTENDEE;CN=User {i};PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{a}\r\n"
                  for i, a in enumerate(attendees))
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn bench//EN\r\n"
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
            "DTSTART:20260601T090000Z\r\nDTEND:20260601T100000Z\r\n"
            "RRULE:FREQ=WEEKLY;COUNT=10\r\nSUMMARY:All hands\r\nLOCATION:Hall\r\n"
            f"ORGANIZER;CN=Organizer:mailto:{ORG}\r\n"
            f"ATTENDEE;CN=Organizer;PARTSTAT=ACCEPTED:mailto:{ORG}\r\n{att}"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")


def inbox_count(client, user):
    st, data = client.request("PROPFIND", f"/dav/calendars/{user}/inbox/", PROPFIND,
                              {"Depth": "1", "Content-Type": "application/xml"})
    assert st == 207, (st, data[:200])
    return data.count(b"<D:response>") - 1


def main():
    ap = benchlib.argparser()
    ap.add_argument("--attendees", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    args = benchlib.parse_args(ap)
    users = [f"u{i:03d}@{DOMAIN}" for i in range(args.attendees)]
    with benchlib.Run("bench-sched-") as run:
        pg = run.postgres()
        d = run.cairnd(pg, {"http": {"plaintext_auth": "yes"}, "server": {"log_level": "info"}})
        benchlib.create_account(d, ORG, SOLO, *users)
        d.start()
        org = Client(d.http_port, ORG)
        st, _ = org.request("MKCALENDAR", f"/dav/calendars/{ORG}/calendar/")
        assert st == 201, st
        clients = {u: Client(d.http_port, u) for u in users}
        for u, c in clients.items():   # homes (inbox, outbox) exist before timing
            inbox_count(c, u)
        inbox_count(Client(d.http_port, SOLO), SOLO)
        benchlib.conditions("bench-sched", attendees=args.attendees, runs=args.runs,
                            cairn="plain HTTP, Basic auth, keep-alive, "
                                  f"PostgreSQL {benchlib.pg_settings(pg)}",
                            event="weekly x10, one VEVENT, organizer + attendees")
        many, until_all, single = [], [], []
        for r in range(args.runs):
            t0 = time.monotonic()
            st, body = org.request("PUT", f"/dav/calendars/{ORG}/calendar/big-{r}.ics",
                                   meeting(f"big-{r}", users),
                                   {"Content-Type": "text/calendar; charset=utf-8"})
            t1 = time.monotonic()
            assert st == 201, (st, body[:300])
            missing = [u for u, c in clients.items() if inbox_count(c, u) != r + 1]
            t2 = time.monotonic()
            assert not missing, f"inboxes without invitation {r}: {missing[:5]}"
            many.append(t1 - t0)
            until_all.append(t2 - t0)
            t0 = time.monotonic()
            st, body = org.request("PUT", f"/dav/calendars/{ORG}/calendar/one-{r}.ics",
                                   meeting(f"one-{r}", [SOLO]),
                                   {"Content-Type": "text/calendar; charset=utf-8"})
            single.append(time.monotonic() - t0)
            assert st == 201, (st, body[:300])
        best_many, best_single = min(many), min(single)
        print(f"PUT with {args.attendees} local attendees (every inbox has it on answer): "
              f"first {many[0] * 1000:.0f} ms best {best_many * 1000:.0f} ms "
              f"({best_many * 1000 / args.attendees:.1f} ms per attendee)", flush=True)
        print(f"PUT + reading all {args.attendees} inboxes back: best "
              f"{min(until_all) * 1000:.0f} ms", flush=True)
        print(f"PUT with 1 local attendee: first {single[0] * 1000:.0f} ms best "
              f"{best_single * 1000:.0f} ms; ratio {best_many / best_single:.1f}x for "
              f"{args.attendees}x the attendees", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
