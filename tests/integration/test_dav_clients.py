"""Real CalDAV clients from Debian against cairnd on loopback (issue 20 item
8): python3-caldav (discovery from /.well-known, calendars, events,
recurring with overrides and exceptions, all-day, across DST, VTODO with DUE,
time-range search), vdirsyncer two-way sync then a conflict, and khal reading
the synced result."""
import datetime
import os
import subprocess
import textwrap
from urllib.parse import unquote

import caldav
import pytest

from dav_util import PASSWORD, Dav, setup_users
from test_dav_caldav import ALLDAY, TODO, WEEKLY

ANN = "ann@dav.test"


@pytest.fixture
def server(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann")
    return d


def client(d):
    return caldav.DAVClient(url=f"https://127.0.0.1:{d.https_port}/dav/",
                            username=ANN, password=PASSWORD, ssl_verify_cert=False)


def utc(*a):
    return datetime.datetime(*a, tzinfo=datetime.timezone.utc)


def test_python_caldav(server):
    principal = client(server).principal()
    cal = principal.make_calendar(name="Team", cal_id="team")
    assert unquote(cal.url.path) == "/dav/calendars/ann@dav.test/team/"
    assert [c.name for c in principal.calendars()] == ["Team"]
    cal.save_event(WEEKLY)
    cal.save_event(ALLDAY)
    cal.save_todo(TODO)
    cal.save_event(textwrap.dedent("""\
        BEGIN:VCALENDAR
        VERSION:2.0
        PRODID:-//test//EN
        BEGIN:VEVENT
        UID:plain-1
        DTSTAMP:20260101T000000Z
        DTSTART:20260601T080000Z
        DTEND:20260601T090000Z
        SUMMARY:Dentist
        END:VEVENT
        END:VCALENDAR
        """))
    assert len(cal.events()) == 3
    assert len(cal.todos()) == 1

    def found(start, end):
        return sorted(e.vobject_instance.vevent.uid.value
                      for e in cal.date_search(start, end))

    # the moved instance (Tue 17 March 14:00 UTC), not the original Monday
    assert found(utc(2026, 3, 17, 13), utc(2026, 3, 17, 15)) == ["weekly-1"]
    assert found(utc(2026, 3, 16, 8), utc(2026, 3, 16, 10)) == []
    # the EXDATE
    assert found(utc(2026, 3, 23, 8), utc(2026, 3, 23, 10)) == []
    # across DST: 08:00 UTC after the change
    assert found(utc(2026, 3, 30, 8), utc(2026, 3, 30, 8, 30)) == ["weekly-1"]
    # all-day
    assert found(utc(2026, 4, 10, 12), utc(2026, 4, 10, 13)) == ["allday-1"]
    assert found(utc(2026, 6, 1), utc(2026, 6, 2)) == ["plain-1"]
    # update and delete through the client
    ev = cal.event_by_uid("plain-1")
    ev.vobject_instance.vevent.summary.value = "Dentist (moved)"
    ev.save()
    assert "moved" in cal.event_by_uid("plain-1").data
    ev.delete()
    assert found(utc(2026, 6, 1), utc(2026, 6, 2)) == []
    # an expanded search returns one VEVENT per instance
    res = cal.date_search(utc(2026, 3, 1), utc(2026, 3, 20), expand=True)
    starts = sorted(str(c.dtstart.value) for e in res
                    for c in e.vobject_instance.components() if c.name == "VEVENT")
    assert len(starts) == 3
    cal.delete()
    assert principal.calendars() == []


def run(cmd, cwd, env, input=None):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                       input=input)
    assert r.returncode == 0, f"{' '.join(cmd)}:\n{r.stdout}\n{r.stderr}"
    return r.stdout + r.stderr


def test_vdirsyncer_and_khal(server, tmp_path):
    c = Dav(server, ANN)
    assert c.request("MKCALENDAR", f"/dav/calendars/{ANN}/sync/")[0] == 201
    assert c.request("PUT", f"/dav/calendars/{ANN}/sync/weekly.ics", WEEKLY,
                     {"Content-Type": "text/calendar"})[0] == 201
    local = tmp_path / "local"
    local.mkdir()
    status = tmp_path / "status"
    # vdirsyncer verifies TLS: give it the test certificate's fingerprint.
    fp = subprocess.run(["openssl", "x509", "-in", str(server.cert), "-noout", "-fingerprint",
                         "-sha256"], capture_output=True, text=True, check=True).stdout
    fp = fp.strip().split("=", 1)[1]
    conf = tmp_path / "vdirsyncer.conf"
    conf.write_text(textwrap.dedent(f"""\
        [general]
        status_path = "{status}"

        [pair cal]
        a = "cal_local"
        b = "cal_remote"
        collections = ["from a", "from b"]
        conflict_resolution = null

        [storage cal_local]
        type = "filesystem"
        path = "{local}"
        fileext = ".ics"

        [storage cal_remote]
        type = "caldav"
        url = "https://127.0.0.1:{server.https_port}/"
        username = "{ANN}"
        password = "{PASSWORD}"
        verify_fingerprint = "{fp}"
        """))
    env = dict(os.environ, VDIRSYNCER_CONFIG=str(conf), HOME=str(tmp_path))
    run(["vdirsyncer", "discover"], tmp_path, env, input="y\n" * 5)
    run(["vdirsyncer", "sync"], tmp_path, env)
    files = list((local / "sync").glob("*.ics"))
    assert len(files) == 1 and "weekly-1" in files[0].read_text()
    # local -> remote
    (local / "sync" / "local-1.ics").write_text(ALLDAY.replace("allday-1", "local-1"))
    run(["vdirsyncer", "sync"], tmp_path, env)
    st, _, data = c.request("GET", f"/dav/calendars/{ANN}/sync/local-1.ics")
    assert st == 200 and b"UID:local-1" in data
    # khal reads what vdirsyncer wrote
    khal_conf = tmp_path / "khal.conf"
    khal_conf.write_text(textwrap.dedent(f"""\
        [calendars]
        [[sync]]
        path = {local}/sync
        [locale]
        timeformat = %H:%M
        dateformat = %Y-%m-%d
        longdateformat = %Y-%m-%d
        datetimeformat = %Y-%m-%d %H:%M
        longdatetimeformat = %Y-%m-%d %H:%M
        local_timezone = UTC
        default_timezone = UTC
        """))
    kenv = dict(env, TZ="UTC")
    out = run(["khal", "-c", str(khal_conf), "list", "2026-03-17", "2d"], tmp_path, kenv)
    assert "Weekly sync (moved)" in out
    out = run(["khal", "-c", str(khal_conf), "list", "2026-04-10", "1d"], tmp_path, kenv)
    assert "Holiday" in out
    # a conflict: both sides change the same event
    name = "weekly.ics"
    st, h, data = c.request("GET", f"/dav/calendars/{ANN}/sync/{name}")
    assert st == 200
    remote = data.decode().replace("SUMMARY:Weekly sync\r\n", "SUMMARY:Remote edit\r\n")
    assert c.request("PUT", f"/dav/calendars/{ANN}/sync/{name}", remote,
                     {"Content-Type": "text/calendar", "If-Match": h["etag"]})[0] == 204
    files[0].write_text(files[0].read_text().replace("SUMMARY:Weekly sync\n", "SUMMARY:Local edit\n")
                        .replace("SUMMARY:Weekly sync\r\n", "SUMMARY:Local edit\r\n"))
    r = subprocess.run(["vdirsyncer", "sync"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0 and "conflict" in (r.stdout + r.stderr).lower()
    # the server kept the remote edit (If-Match protected it)
    assert b"Remote edit" in c.request("GET", f"/dav/calendars/{ANN}/sync/{name}")[2]
    # resolve in favour of the server, sync again: both sides agree
    conf.write_text(conf.read_text().replace("conflict_resolution = null",
                                             'conflict_resolution = "b wins"'))
    run(["vdirsyncer", "sync"], tmp_path, env)
    assert "Remote edit" in files[0].read_text()
    # a deletion on the server reaches the local side
    assert c.request("DELETE", f"/dav/calendars/{ANN}/sync/local-1.ics")[0] == 204
    run(["vdirsyncer", "sync"], tmp_path, env)
    assert not (local / "sync" / "local-1.ics").exists()
    c.close()
