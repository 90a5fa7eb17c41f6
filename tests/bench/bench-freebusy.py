#!/usr/bin/python3
"""Free/busy (issue 15 item 8): one POST of a VFREEBUSY request to a
scheduling outbox (RFC 6638) asking for 100 users over one month, each user
with 2,000 events (20% recurring: weekly with COUNT, daily with UNTIL,
monthly without end), answered from the busy-time index. Goal: under 100 ms.

The users' calendars are filled with `cairnctl calendar import` (one .ics
per user), which writes the busy rows with the events. The 100-user POST
runs --runs times; the median and best are printed. As a reference in the
same run, the same month is asked of one user's calendar with the CalDAV
free-busy-query REPORT, from Cairn (the POST for that one user, and the
REPORT), and from Radicale (Debian's radicale 3.1, same events, filesystem
storage), which has no free-busy-query: there the reference is the
calendar-query of the month with calendar-data that a client needs to
compute free/busy itself. The ratio Radicale/Cairn is printed (above 1:
Cairn is faster).
Both answer plain HTTP/1.1 on loopback, one keep-alive connection each.
Nothing is asserted except that the answers are complete.

    tests/bench/bench-freebusy.py --builddir build [--users 100] [--events 2000] [--runs 9]
"""
import base64
import http.client
import json
import random
import re
import statistics
import subprocess
import sys
import time

import benchlib

DOMAIN = "fb.bench"
MONTH = ("20260901T000000Z", "20261001T000000Z")


def event(uid, rnd):
    day = rnd.randrange(0, 365)
    hour = rnd.randrange(7, 19)
    t0 = 1767225600 + day * 86400 + hour * 3600          # 2026-01-01 + ...
    fmt = "%Y%m%dT%H%M%SZ"
    start = time.strftime(fmt, time.gmtime(t0))
    end = time.strftime(fmt, time.gmtime(t0 + 3600))
    rrule = ""
    if uid % 5 == 0:
        kind = (uid // 5) % 4
        if kind in (0, 1):
            rrule = "RRULE:FREQ=WEEKLY;COUNT=10\r\n"
        elif kind == 2:
            rrule = f"RRULE:FREQ=DAILY;UNTIL={time.strftime(fmt, time.gmtime(t0 + 30 * 86400))}\r\n"
        else:
            rrule = "RRULE:FREQ=MONTHLY\r\n"
    return (f"BEGIN:VEVENT\r\nUID:ev-{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
            f"DTSTART:{start}\r\nDTEND:{end}\r\n{rrule}SUMMARY:Event {uid}\r\nEND:VEVENT\r\n")


def wrap(ev):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn bench//EN\r\n" + ev +
            "END:VCALENDAR\r\n")


class Client:
    def __init__(self, port, auth=None):
        self.port, self.auth = port, auth
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def request(self, method, path, body=None, headers=None):
        h = {"Content-Type": "application/xml; charset=utf-8"}
        if self.auth:
            h["Authorization"] = self.auth
        h.update(headers or {})
        data = body.encode() if isinstance(body, str) else body
        try:
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
        return r.status, r.read()


def fb_post(organizer, attendees):
    att = "".join(f"ATTENDEE:mailto:{a}\r\n" for a in attendees)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn bench//EN\r\nMETHOD:REQUEST\r\n"
            "BEGIN:VFREEBUSY\r\nUID:bench-fb\r\nDTSTAMP:20260101T000000Z\r\n"
            f"ORGANIZER:mailto:{organizer}\r\nDTSTART:{MONTH[0]}\r\nDTEND:{MONTH[1]}\r\n"
            f"{att}END:VFREEBUSY\r\nEND:VCALENDAR\r\n")


FB_REPORT = ('<?xml version="1.0"?><C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
             f'<C:time-range start="{MONTH[0]}" end="{MONTH[1]}"/></C:free-busy-query>')


def periods(text):
    """The FREEBUSY periods of a VFREEBUSY, as a set of (type, start, end)."""
    out = set()
    for m in re.finditer(r"FREEBUSY(?:;FBTYPE=([A-Z-]+))?:([^\r\n]+)", text):
        for p in m.group(2).split(","):
            out.add((m.group(1) or "BUSY", p.replace("&#13;", "").strip()))
    return out


def timed(runs, step):
    times, result = [], None
    for _ in range(runs):
        t0 = time.monotonic()
        result = step()
        times.append(time.monotonic() - t0)
    return statistics.median(times), min(times), result


def clone(pg, src, dst):
    """Give dst a copy of src's calendar: objects and busy rows (the trigger
    that marks written objects pending is off meanwhile)."""
    pg.psql("cairn", f"""
BEGIN;
ALTER TABLE dav_objects DISABLE TRIGGER dav_busy_mark;
CREATE TEMP TABLE src ON COMMIT DROP AS SELECT c.id FROM dav_collections c
  JOIN accounts a ON a.id = c.account_id WHERE a.address = '{src}' AND c.name = 'calendar';
CREATE TEMP TABLE dst ON COMMIT DROP AS SELECT id FROM accounts WHERE address = '{dst}';
INSERT INTO dav_collections (account_id, home, name, kind, synctoken)
  SELECT dst.id, 'calendars', 'calendar', 'calendar', 1 FROM dst;
CREATE TEMP TABLE nc ON COMMIT DROP AS SELECT c.id, c.account_id FROM dav_collections c
  JOIN dst ON dst.id = c.account_id WHERE c.name = 'calendar';
INSERT INTO dav_objects (collection_id, name, content_type, etag, data, size, uid, comp,
  dtstart, dtend, rstart, rend, summary, modseq)
  SELECT nc.id, o.name, o.content_type, o.etag, o.data, o.size, o.uid, o.comp, o.dtstart,
  o.dtend, o.rstart, o.rend, o.summary, o.modseq FROM dav_objects o, nc
  WHERE o.collection_id = (SELECT id FROM src);
CREATE TEMP TABLE m ON COMMIT DROP AS SELECT o.id AS old, n.id AS new FROM dav_objects o
  JOIN dav_objects n ON n.name = o.name AND n.collection_id = (SELECT id FROM nc)
  WHERE o.collection_id = (SELECT id FROM src);
INSERT INTO dav_busy (object_id, collection_id, account_id, start_at, end_at, fbtype)
  SELECT m.new, nc.id, nc.account_id, b.start_at, b.end_at, b.fbtype FROM dav_busy b
  JOIN m ON m.old = b.object_id, nc;
INSERT INTO dav_busy_objects (object_id, collection_id, account_id, win_from, win_until,
  before, after)
  SELECT m.new, nc.id, nc.account_id, b.win_from, b.win_until, b.before, b.after
  FROM dav_busy_objects b JOIN m ON m.old = b.object_id, nc;
ALTER TABLE dav_objects ENABLE TRIGGER dav_busy_mark;
COMMIT;""")


def start_radicale(run, events):
    base = run.base / "radicale"
    coll = base / "collections" / "collection-root" / "bench" / "cal"
    coll.mkdir(parents=True)
    (coll / ".Radicale.props").write_text(json.dumps({"tag": "VCALENDAR"}))
    for i, ev in enumerate(events):
        (coll / f"ev-{i}.ics").write_text(wrap(ev))
    port = benchlib.conftest.free_port()
    conf = base / "config"
    conf.write_text(f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = none\n"
                    f"[storage]\nfilesystem_folder = {base / 'collections'}\n"
                    "[logging]\nlevel = warning\n")

    class Radicale:
        def __init__(self):
            self.proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(conf)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.port = port

        def stop(self):
            self.proc.terminate()
            self.proc.wait(20)

    r = run.track(Radicale())
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            Client(port).request("OPTIONS", "/")
            return r
        except OSError:
            time.sleep(0.1)
    raise SystemExit("bench-freebusy: radicale did not start")


def main():
    ap = benchlib.argparser(ctl=True)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--distinct", type=int, default=2,
                    help="users whose events are imported (the rest get copies)")
    ap.add_argument("--no-radicale", action="store_true")
    args = benchlib.parse_args(ap)
    if not args.no_radicale:
        benchlib.require("bench-freebusy", ["radicale"], "radicale")
    users = [f"u{i:03d}@{DOMAIN}" for i in range(args.users)]
    organizer = f"organizer@{DOMAIN}"
    with benchlib.Run("bench-freebusy-") as run:
        pg = run.postgres()
        d = run.cairnd(pg, {"http": {"plaintext_auth": "yes"}, "server": {"log_level": "info"}})
        benchlib.create_account(d, organizer, *users)
        # The first --distinct users get their own events through cairnctl
        # calendar import (busy rows computed with them: the real path,
        # timed); the others get a copy of one of those calendars, objects
        # and busy rows, in SQL (the index holds the same number of rows per
        # user either way; importing 100 x 2,000 events one by one takes
        # half an hour on a shared 2-core machine).
        t0 = time.monotonic()
        first_events = None
        for n, u in enumerate(users[:args.distinct]):
            rnd = random.Random(1000 + n)
            events = [event(i, rnd) for i in range(args.events)]
            if first_events is None:
                first_events = events
            ics = run.base / f"{n}.ics"
            ics.write_text(wrap("".join(events)))
            benchlib.cairnctl(d, "calendar", "import", "--user", u, "--calendar", "calendar",
                              str(ics))
            ics.unlink()
        import_s = (time.monotonic() - t0) / min(args.distinct, len(users))
        t0 = time.monotonic()
        for n, u in enumerate(users[args.distinct:]):
            clone(pg, users[n % args.distinct], u)
        pg.psql("cairn", "ANALYZE")
        clone_s = time.monotonic() - t0
        d.start()
        rad = None if args.no_radicale else start_radicale(run, first_events)
        benchlib.conditions("bench-freebusy", users=args.users, events_per_user=args.events,
                            recurring="20% (weekly COUNT=10, daily 30 days, monthly open)",
                            range="one month (2026-09)", runs=args.runs,
                            cairn_postgres=benchlib.pg_settings(pg),
                            transport="plain HTTP/1.1 keep-alive on loopback, one connection",
                            cairn_import=f"{import_s:.1f} s per user of {args.events} events"
                                         f" (cairnctl calendar import, busy rows included;"
                                         f" {args.distinct} users imported, the other"
                                         f" {args.users - args.distinct} cloned in SQL in"
                                         f" {clone_s:.1f} s)",
                            radicale="3.x, filesystem storage, auth none, warmed cache")
        auth = "Basic " + base64.b64encode(f"{organizer}:{benchlib.PASSWORD}".encode()).decode()
        cairn = Client(d.http_port, auth)
        outbox = f"/dav/calendars/{organizer}/outbox/"
        ical = {"Content-Type": "text/calendar; charset=utf-8"}
        # provision the organizer's inbox and outbox
        cairn.request("PROPFIND", f"/dav/calendars/{organizer}/", None, {"Depth": "1"})
        body = fb_post(organizer, users)

        def post_all():
            st, data = cairn.request("POST", outbox, body, ical)
            assert st == 200, (st, data[:300])
            n = data.count(b"<C:calendar-data>")
            assert n == args.users, (n, data[:300])
            return data

        post_all()     # warm-up (login, plans)
        med, best, data = timed(args.runs, post_all)
        print(f"  cairn     POST {args.users} users x 1 month    median {med * 1000:8.1f} ms"
              f"  best {best * 1000:8.1f} ms  ({len(data)} bytes)  goal < 100 ms: "
              f"{'met' if med < 0.1 else 'NOT met'}", flush=True)

        # one user: Cairn POST, Cairn REPORT, Radicale REPORT
        one = fb_post(organizer, users[:1])

        def post_one():
            st, data = cairn.request("POST", outbox, one, ical)
            assert st == 200, (st, data[:300])
            return data.decode()

        c1 = Client(d.http_port, "Basic " + base64.b64encode(
            f"{users[0]}:{benchlib.PASSWORD}".encode()).decode())

        def rep_cairn():
            st, data = c1.request("REPORT", f"/dav/calendars/{users[0]}/calendar/", FB_REPORT,
                                  {"Depth": "1"})
            assert st == 200, (st, data[:300])
            return data.decode()

        rep_cairn()
        post_one()
        m1, b1, one_text = timed(args.runs, post_one)
        m2, b2, rep_text = timed(args.runs, rep_cairn)
        print(f"  cairn     POST 1 user x 1 month          median {m1 * 1000:8.1f} ms  best "
              f"{b1 * 1000:8.1f} ms", flush=True)
        print(f"  cairn     free-busy-query REPORT 1 user  median {m2 * 1000:8.1f} ms  best "
              f"{b2 * 1000:8.1f} ms", flush=True)
        if periods(one_text) != periods(rep_text):
            print(f"  differ: only POST {sorted(periods(one_text) - periods(rep_text))[:3]}"
                  f" only REPORT {sorted(periods(rep_text) - periods(one_text))[:3]}")
        if rad is not None:
            # Radicale 3.1 has no free-busy-query: a client computes free/busy
            # from a calendar-query of the month with calendar-data, the
            # least it must fetch. That is the reference.
            rc = Client(rad.port)
            cq = ('<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
                  'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop>'
                  '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
                  f'<C:time-range start="{MONTH[0]}" end="{MONTH[1]}"/></C:comp-filter>'
                  '</C:comp-filter></C:filter></C:calendar-query>')

            def rep_rad():
                st, data = rc.request("REPORT", "/bench/cal/", cq, {"Depth": "1"})
                assert st == 207, (st, data[:300])
                return data.count(b"<response>") + data.count(b"<D:response>")

            rep_rad()
            m3, b3, nrad = timed(args.runs, rep_rad)
            print(f"  radicale  calendar-query month, 1 user   median {m3 * 1000:8.1f} ms  best "
                  f"{b3 * 1000:8.1f} ms  ({nrad} events)", flush=True)
            print("bench-freebusy: ratios (Radicale median / Cairn median; above 1 = Cairn faster)")
            print(f"  free/busy of 1 user, Cairn POST (index)     {m3 / m1:7.2f}x")
            print(f"  free/busy of 1 user, Cairn REPORT           {m3 / m2:7.2f}x")
            print(f"  Cairn {args.users} users vs Radicale 1 user          {m3 / med:7.2f}x")

if __name__ == "__main__":
    main()
