#!/usr/bin/python3
"""CalDAV side by side: Cairn vs Radicale (Debian's radicale), same data,
same machine, same client (one keep-alive HTTP/1.1 connection each).

  1. calendar-query with a one-week time-range over a calendar of 10,000
     events, 20% of them recurring (weekly with COUNT, daily with UNTIL,
     monthly without end), asking for getetag; then a one-month range asking
     for calendar-data;
  2. sync-collection after 100 changes (80 updates, 20 deletions).

Both sides answer over plain HTTP on loopback (Cairn with [http]
plaintext_auth, Radicale without authentication) so that TLS is not
measured; Cairn's PostgreSQL keeps fsync on. Each query runs --runs times;
first and best are printed, and the ratio Radicale/Cairn of the best (above
1: Cairn is faster). Nothing is asserted.

    tests/bench/bench-dav.py --builddir build [--events 10000] [--runs 5]
"""
import base64
import http.client
import json
import random
import re
import subprocess
import sys
import time

import benchlib

CAL_PATH_CAIRN = f"/dav/calendars/{benchlib.CAIRN_USER}/bench/"
CAL_PATH_RADICALE = "/bench/cal/"


def event(i, rnd):
    day = rnd.randrange(0, 365)
    hour = rnd.randrange(7, 19)
    t = time.gmtime(1767225600 + day * 86400 + hour * 3600)    # 2026-01-01 + ...
    start = time.strftime("%Y%m%dT%H%M%SZ", t)
    end = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.mktime(t) - time.timezone + 3600))
    rrule = ""
    if i % 5 == 0:
        kind = (i // 5) % 4
        if kind in (0, 1):
            rrule = "RRULE:FREQ=WEEKLY;COUNT=10\r\n"
        elif kind == 2:
            until = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.mktime(t) - time.timezone
                                                                  + 30 * 86400))
            rrule = f"RRULE:FREQ=DAILY;UNTIL={until}\r\n"
        else:
            rrule = "RRULE:FREQ=MONTHLY\r\n"
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn bench//EN\r\n"
            f"BEGIN:VEVENT\r\nUID:ev-{i}\r\nDTSTAMP:20260101T000000Z\r\n"
            f"DTSTART:{start}\r\nDTEND:{end}\r\n{rrule}SUMMARY:Event {i} "
            f"{rnd.choice(benchlib.WORDS)}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


class Client:
    def __init__(self, port, auth=None):
        self.port = port
        self.auth = auth
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
            # the server closed an idle keep-alive connection: open another
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
        return r.status, r.read()


def query(start, end, props):
    return ('<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
            f'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>{props}</D:prop>'
            '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            f'<C:time-range start="{start}" end="{end}"/></C:comp-filter></C:comp-filter>'
            '</C:filter></C:calendar-query>')


def sync_body(token):
    return ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>'
            f'{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/>'
            '</D:prop></D:sync-collection>')


def token_of(data):
    m = re.search(rb"<(?:\w+:)?sync-token>([^<]*)</", data)
    return m.group(1).decode() if m else ""


def count(data):
    return len(re.findall(rb"<(?:\w+:)?response>", data))


def start_radicale(run, events):
    base = run.base / "radicale"
    coll = base / "collections" / "collection-root" / "bench" / "cal"
    coll.mkdir(parents=True)
    (coll / ".Radicale.props").write_text(json.dumps({"tag": "VCALENDAR"}))
    for i, ev in enumerate(events):
        (coll / f"ev-{i}.ics").write_text(ev)
    port = benchlib.conftest.free_port()
    conf = base / "config"
    conf.write_text(f"[server]\nhosts = 127.0.0.1:{port}\n"
                    "[auth]\ntype = none\n"
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
    raise SystemExit("bench-dav: radicale did not start")


def measure(name, client, path, runs, results):
    week = query("20260601T000000Z", "20260608T000000Z", "<D:getetag/>")
    month = query("20260901T000000Z", "20261001T000000Z", "<D:getetag/><C:calendar-data/>")

    def step(body):
        st, data = client.request("REPORT", path, body, {"Depth": "1"})
        assert st == 207, (name, st, data[:300])
        return count(data)

    client.request("REPORT", path, week, {"Depth": "1"})    # warm-up (caches, login)
    for label, body in (("query-week-getetag", week), ("query-month-calendar-data", month)):
        first, best, n = benchlib.first_and_best(runs, lambda: step(body))
        results.setdefault(label, {})[name] = (first, best, n)
        print(f"  {name:9} {label:28} first {first * 1000:9.1f} ms  best {best * 1000:9.1f} ms"
              f"  ({n} results)", flush=True)


def measure_sync(name, client, path, events, put_headers, runs, results):
    st, data = client.request("REPORT", path, sync_body(""), {"Depth": "0"})
    assert st == 207, (name, st)
    token = token_of(data)
    rnd = random.Random(7)
    changed = rnd.sample(range(len(events)), 100)
    for k, i in enumerate(changed):
        if k < 80:
            st, _ = client.request("PUT", f"{path}ev-{i}.ics",
                                   events[i].replace("SUMMARY:", "SUMMARY:changed "), put_headers)
            assert st in (201, 204), (name, st)
        else:
            st, _ = client.request("DELETE", f"{path}ev-{i}.ics")
            assert st in (200, 204), (name, st)

    def step():
        st, data = client.request("REPORT", path, sync_body(token), {"Depth": "0"})
        assert st == 207, (name, st, data[:300])
        return count(data)

    first, best, n = benchlib.first_and_best(runs, step)
    results.setdefault("sync-after-100-changes", {})[name] = (first, best, n)
    print(f"  {name:9} {'sync-after-100-changes':28} first {first * 1000:9.1f} ms  best "
          f"{best * 1000:9.1f} ms  ({n} results)", flush=True)


def main():
    ap = benchlib.argparser(ctl=True)
    ap.add_argument("--events", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    args = benchlib.parse_args(ap)
    benchlib.require("bench-dav", ["radicale"], "radicale")
    rnd = random.Random(42)
    events = [event(i, rnd) for i in range(args.events)]
    results = {}
    with benchlib.Run("bench-dav-") as run:
        pg = run.postgres()
        d = run.cairnd(pg, {"http": {"plaintext_auth": "yes"},
                            "server": {"log_level": "info"}})
        benchlib.create_account(d, benchlib.CAIRN_USER)
        ics = run.base / "all.ics"
        with open(ics, "w") as f:
            f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n")
            for ev in events:
                f.write(ev.split("BEGIN:VEVENT", 1)[1].join(["BEGIN:VEVENT", ""])
                        .split("END:VCALENDAR")[0])
            f.write("END:VCALENDAR\r\n")
        t0 = time.monotonic()
        benchlib.cairnctl(d, "calendar", "import", "--user", benchlib.CAIRN_USER, "--calendar",
                          "bench", str(ics))
        import_s = time.monotonic() - t0
        d.start()
        rad = start_radicale(run, events)
        benchlib.conditions("bench-dav", events=args.events, recurring="20%",
                            runs=args.runs, cairn_postgres=benchlib.pg_settings(pg),
                            transport="plain HTTP/1.1 keep-alive on loopback, one connection",
                            cairn_import=f"{import_s:.1f} s (cairnctl calendar import)",
                            radicale="3.x, filesystem storage, auth none, warmed cache")
        auth = "Basic " + base64.b64encode(
            f"{benchlib.CAIRN_USER}:{benchlib.PASSWORD}".encode()).decode()
        cairn = Client(d.http_port, auth)
        radicale = Client(rad.port)
        # Cairn stores objects under the names cairnctl import gives them
        # (UID + .ics): the same names as Radicale's files.
        measure("cairn", cairn, CAL_PATH_CAIRN, args.runs, results)
        measure("radicale", radicale, CAL_PATH_RADICALE, args.runs, results)
        ct = {"Content-Type": "text/calendar; charset=utf-8"}
        measure_sync("cairn", cairn, CAL_PATH_CAIRN, events, ct, args.runs, results)
        measure_sync("radicale", radicale, CAL_PATH_RADICALE, events, ct, args.runs, results)
    print("bench-dav: ratios (Radicale best / Cairn best; above 1 = Cairn faster)")
    for label, r in results.items():
        c, rr = r["cairn"], r["radicale"]
        same = "same result count" if c[2] == rr[2] else f"results differ: {c[2]} vs {rr[2]}"
        print(f"  {label:28} {rr[1] / c[1]:7.2f}x   ({same})")


if __name__ == "__main__":
    main()
