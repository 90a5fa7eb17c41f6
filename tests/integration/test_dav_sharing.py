"""Sharing (issue 20 item 5): WebDAV ACL (RFC 3744 subset), CalendarServer
sharing, a group as grantee, shared calendars in the sharee's home, rights on
every method, the secret .ics feed; and cairnctl calendar list/import/export."""
import hashlib
import urllib.request

import pytest

from dav_util import NS, Dav, ctl, ics, propfind, responses, setup_users, xml

ANN = "ann@dav.test"
BOB = "bob@dav.test"
CARL = "carl@dav.test"
CAL = f"/dav/calendars/{ANN}/team/"
ANN_ENC = "ann@dav.test"
TEXT_CAL = {"Content-Type": "text/calendar"}


@pytest.fixture
def share(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann", "bob", "carl")
    a = Dav(d, ANN)
    assert a.request("MKCALENDAR", CAL)[0] == 201
    assert a.request("PUT", CAL + "e.ics", ics("e-1", "Team meeting"), TEXT_CAL)[0] == 201
    yield d, a, Dav(d, BOB), Dav(d, CARL)


def acl_body(*aces):
    inner = "".join(
        f'<D:ace><D:principal><D:href>{href}</D:href></D:principal><D:grant>'
        + "".join(f"<D:privilege><D:{p}/></D:privilege>" for p in privs)
        + "</D:grant></D:ace>" for href, privs in aces)
    return f'<?xml version="1.0"?><D:acl xmlns:D="DAV:">{inner}</D:acl>'


def privileges(c, path):
    st, _, data = propfind(c, path, "<D:current-user-privilege-set/>")
    assert st == 207, data
    r = list(responses(data).values())[0]["{DAV:}current-user-privilege-set"][1]
    return {p[0].tag.split("}")[1] for p in r.findall("D:privilege", NS)}


def test_acl_read_then_write(share):
    d, a, b, c = share
    # nothing shared yet: bob is refused everywhere
    for method in ("GET", "PROPFIND", "REPORT", "PUT", "DELETE"):
        st, _, _ = b.request(method, CAL + "e.ics", ics("x") if method == "PUT" else None,
                             {"Depth": "0", "Content-Type": "text/calendar"})
        assert st == 403, method
    # read for bob
    st, _, data = a.request("ACL", CAL, acl_body((f"/dav/principals/{BOB}/", ["read"])))
    assert st == 200, data
    st, _, data = b.request("GET", CAL + "e.ics")
    assert st == 200 and b"Team meeting" in data
    assert privileges(b, CAL) == {"read", "read-current-user-privilege-set"}
    assert "all" in privileges(a, CAL)
    assert b.request("PUT", CAL + "x.ics", ics("x-1"), TEXT_CAL)[0] == 403
    assert b.request("DELETE", CAL + "e.ics")[0] == 403
    assert b.request("DELETE", CAL)[0] == 403
    assert b.request("ACL", CAL, acl_body((f"/dav/principals/{BOB}/", ["all"])))[0] == 403
    # the shared calendar shows up in bob's home
    st, _, data = propfind(b, f"/dav/calendars/{BOB}/", "<D:resourcetype/><D:owner/>", depth="1")
    r = responses(data)
    assert CAL in r
    assert r[CAL]["{DAV:}owner"][1].find("D:href", NS).text == f"/dav/principals/{ANN_ENC}/"
    # reports work for bob: query and multiget with ann's hrefs
    body = ('<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            f'<D:prop><D:getetag/></D:prop><D:href>{CAL}e.ics</D:href></C:calendar-multiget>')
    st, _, data = b.request("REPORT", CAL, body, {"Depth": "1"})
    assert st == 207 and "200" in responses(data)[CAL + "e.ics"]["{DAV:}getetag"][0]
    # DAV:acl: the owner sees the entries, bob may not read them
    st, _, data = propfind(a, CAL, "<D:acl/>")
    acl = responses(data)[CAL]["{DAV:}acl"][1]
    hrefs = [h.text for h in acl.iter("{DAV:}href")]
    assert f"/dav/principals/{BOB}/" in hrefs
    st, _, data = propfind(b, CAL, "<D:acl/>")
    assert "403" in responses(data)[CAL]["{DAV:}acl"][0]
    # write for bob
    st, _, _ = a.request("ACL", CAL, acl_body((f"mailto:{BOB}", ["read", "write"])))
    assert st == 200
    assert b.request("PUT", CAL + "x.ics", ics("x-1"), TEXT_CAL)[0] == 201
    assert "write" in privileges(b, CAL)
    assert b.request("DELETE", CAL + "x.ics")[0] == 204
    # still no collection-level rights
    assert b.request("MKCALENDAR", f"/dav/calendars/{ANN}/other/")[0] == 403
    assert b.request("PROPPATCH", CAL, '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
                     '<D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>')[0] == 403
    # carl still has nothing
    assert c.request("GET", CAL + "e.ics")[0] == 403
    # an empty ACL revokes
    assert a.request("ACL", CAL, acl_body())[0] == 200
    assert b.request("GET", CAL + "e.ics")[0] == 403
    st, _, data = propfind(b, f"/dav/calendars/{BOB}/", "<D:resourcetype/>", depth="1")
    assert CAL not in responses(data)


def test_acl_refusals(share):
    d, a, b, c = share
    st, _, data = a.request("ACL", CAL, acl_body(("/dav/principals/nobody@dav.test/", ["read"])))
    assert st == 403 and xml(data).find("D:recognized-principal", NS) is not None
    deny = ('<D:acl xmlns:D="DAV:"><D:ace><D:principal><D:href>mailto:bob@dav.test</D:href>'
            '</D:principal><D:deny><D:privilege><D:read/></D:privilege></D:deny></D:ace></D:acl>')
    st, _, data = a.request("ACL", CAL, deny)
    assert st == 403 and xml(data).find("D:grant-only", NS) is not None
    st, _, data = a.request("ACL", CAL, acl_body((f"mailto:{BOB}", ["write-acl"])))
    assert st == 403 and xml(data).find("D:not-supported-privilege", NS) is not None
    # nothing was granted by the refused requests
    assert b.request("GET", CAL + "e.ics")[0] == 403


def test_group_share(share):
    d, a, b, c = share
    ctl(d, "group", "add", "team@dav.test")
    ctl(d, "group", "member", "add", "team@dav.test", CARL)
    st, _, _ = a.request("ACL", CAL, acl_body(("mailto:team@dav.test", ["read"])))
    assert st == 200
    assert c.request("GET", CAL + "e.ics")[0] == 200
    assert b.request("GET", CAL + "e.ics")[0] == 403
    st, _, data = propfind(c, f"/dav/calendars/{CARL}/", "<D:resourcetype/>", depth="1")
    assert CAL in responses(data)


def test_calendarserver_sharing(share):
    d, a, b, c = share
    st, h, _ = a.request("OPTIONS", CAL, auth=False)
    assert "calendarserver-sharing" in h["dav"]
    body = ('<?xml version="1.0"?><CS:share xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">'
            f'<CS:set><D:href>mailto:{BOB}</D:href><CS:summary>Team</CS:summary><CS:read-write/>'
            '</CS:set></CS:share>')
    st, _, data = a.request("POST", CAL, body)
    assert st == 200, data
    st, _, data = propfind(a, CAL, "<CS:invite/><CS:allowed-sharing-modes/>")
    r = responses(data)[CAL]
    inv = r["{http://calendarserver.org/ns/}invite"][1]
    user = inv.find("CS:user", NS)
    assert user.find("D:href", NS).text == f"mailto:{BOB}"
    assert user.find("CS:invite-accepted", NS) is not None
    assert user.find("CS:access/CS:read-write", NS) is not None
    assert b.request("PUT", CAL + "b.ics", ics("b-1"), TEXT_CAL)[0] == 201
    # bob declines: the calendar leaves his home and his access ends
    reply = ('<CS:invite-reply xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">'
             f'<D:href>mailto:{ANN}</D:href><CS:invite-declined/>'
             f'<CS:hosturl><D:href>{CAL}</D:href></CS:hosturl></CS:invite-reply>')
    assert b.request("POST", f"/dav/calendars/{BOB}/", reply)[0] == 200
    st, _, data = propfind(b, f"/dav/calendars/{BOB}/", "<D:resourcetype/>", depth="1")
    assert CAL not in responses(data)
    assert b.request("GET", CAL + "e.ics")[0] == 403
    # a sharee cannot share further; carl cannot reply to what he never got
    assert b.request("POST", CAL, body)[0] == 403
    assert c.request("POST", f"/dav/calendars/{CARL}/", reply)[0] == 403
    # remove
    body = ('<CS:share xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">'
            f'<CS:remove><D:href>mailto:{BOB}</D:href></CS:remove></CS:share>')
    assert a.request("POST", CAL, body)[0] == 200
    st, _, data = propfind(a, CAL, "<CS:invite/>")
    assert responses(data)[CAL]["{http://calendarserver.org/ns/}invite"][1] \
        .find("CS:user", NS) is None


def test_feed_and_ctl(share, tmp_path):
    d, a, b, c = share
    url = ctl(d, "calendar", "feed", "--user", ANN, "--calendar", "team").stdout.strip()
    assert url.startswith("/feeds/") and url.endswith(".ics")
    token = url[len("/feeds/"):-4]
    # the feed needs no account, works over plain HTTP too, and is read-only
    with urllib.request.urlopen(d.url(url), timeout=10) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/calendar")
        text = r.read().decode()
    assert "Team meeting" in text and text.count("BEGIN:VCALENDAR") == 1
    # only the hash is stored, and its use is recorded
    rows = d.pg.psql("cairn", "SELECT encode(token_sha256, 'hex') || ' ' ||"
                     " (last_used IS NOT NULL)::text FROM dav_feeds").split()
    assert token not in rows and hashlib.sha256(token.encode()).hexdigest() in rows
    assert rows[-1] == "true"
    listing = ctl(d, "calendar", "list", "--user", ANN).stdout
    assert "calendars/team" in listing and "feed 1" in listing and "never" not in listing
    st = urllib_status(d.url(url), method="PUT")
    assert st == 405
    assert urllib_status(d.url("/feeds/" + "0" * 64 + ".ics")) == 404
    assert urllib_status(d.url("/feeds/../../etc/passwd")) == 404
    ctl(d, "calendar", "feed-revoke", "--user", ANN, "--calendar", "team")
    assert urllib_status(d.url(url)) == 404
    # import / export round trip
    src = tmp_path / "in.ics"
    src.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n"
                   + "".join(f"BEGIN:VEVENT\r\nUID:imp-{i}\r\nDTSTAMP:20260101T000000Z\r\n"
                             f"DTSTART:2026020{i}T100000Z\r\nSUMMARY:Imported {i}\r\nEND:VEVENT\r\n"
                             for i in range(1, 4))
                   + "END:VCALENDAR\r\n")
    out = ctl(d, "calendar", "import", "--user", ANN, "--calendar", "imported", str(src)).stdout
    assert "imported 3 new" in out
    st, _, data = propfind(a, f"/dav/calendars/{ANN}/imported/", "<D:getetag/>", depth="1")
    assert len(responses(data)) == 4
    dst = tmp_path / "out.ics"
    ctl(d, "calendar", "export", "--user", ANN, "--calendar", "imported", str(dst))
    text = dst.read_text()
    assert all(f"UID:imp-{i}" in text for i in range(1, 4))
    # a bad file imports nothing
    bad = tmp_path / "bad.ics"
    bad.write_text(src.read_text().replace("UID:imp-3", "UID:imp-3\r\nRRULE:FREQ=BOGUS"))
    r = ctl(d, "calendar", "import", "--user", ANN, "--calendar", "other", str(bad), check=False)
    assert r.returncode != 0
    assert "calendars/other" not in ctl(d, "calendar", "list", "--user", ANN).stdout
    # a UID already in the calendar under another name: refused, nothing stored
    clash = tmp_path / "clash.ics"
    clash.write_text(src.read_text().replace("UID:imp-2", "UID:e-1"))
    r = ctl(d, "calendar", "import", "--user", ANN, "--calendar", "team", str(clash), check=False)
    assert r.returncode != 0 and "e-1" in r.stderr
    st, _, data = propfind(a, CAL, "<D:getetag/>", depth="1")
    assert set(responses(data)) == {CAL, CAL + "e.ics"}


def urllib_status(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
