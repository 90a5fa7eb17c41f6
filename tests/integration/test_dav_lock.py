"""WebDAV locks (RFC 4918 class 2) with raw exchanges: exclusive and shared
locks, 423 without the token or for another principal, the If header
(tagged and untagged lists, ETags, Not), LOCK of an unmapped URL, refresh,
Timeout, lockdiscovery/supportedlock, UNLOCK, depth-infinity collection
locks, expiry, and locks seen by a second node on the same database."""
import time

import pytest

from dav_util import NS, Dav, propfind, responses, setup_users, xml

ANN = "ann@dav.test"
BOB = "bob@dav.test"
FILES = f"/dav/files/{ANN}/"

LOCKINFO = ('<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:">'
            '<D:lockscope><D:{scope}/></D:lockscope><D:locktype><D:write/></D:locktype>'
            '<D:owner><D:href>mailto:ann@dav.test</D:href></D:owner></D:lockinfo>')


@pytest.fixture
def dav(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann", "bob")
    return d


def lock(c, path, scope="exclusive", depth=None, timeout=None, headers=None):
    h = dict(headers or {})
    if depth is not None:
        h["Depth"] = depth
    if timeout is not None:
        h["Timeout"] = timeout
    st, hd, data = c.request("LOCK", path, LOCKINFO.format(scope=scope), h)
    token = hd.get("lock-token", "").strip("<>")
    return st, token, data


def test_options_and_exclusive_lock(dav):
    c = Dav(dav, ANN)
    st, h, _ = c.request("OPTIONS", FILES, auth=False)
    assert "2" in [x.strip() for x in h["dav"].split(",")]
    assert "LOCK" in h["allow"] and "UNLOCK" in h["allow"]
    assert c.request("MKCOL", FILES + "d/")[0] == 201
    st, hd, _ = c.request("PUT", FILES + "d/f", b"v1")
    etag = hd["etag"]
    st, token, data = lock(c, FILES + "d/f", timeout="Second-600")
    assert st == 200 and token.startswith("opaquelocktoken:")
    act = xml(data).find("D:lockdiscovery/D:activelock", NS)
    assert act.find("D:lockscope/D:exclusive", NS) is not None
    assert act.find("D:depth", NS).text == "infinity"
    assert act.find("D:locktoken/D:href", NS).text == token
    assert act.find("D:owner/D:href", NS).text == "mailto:ann@dav.test"
    assert act.find("D:lockroot/D:href", NS).text == FILES + "d/f"
    assert 0 < int(act.find("D:timeout", NS).text.split("-")[1]) <= 600
    # PROPFIND shows it, and what may be locked.
    st, _, data = propfind(c, FILES + "d/f", "<D:lockdiscovery/><D:supportedlock/>")
    r = responses(data)[FILES + "d/f"]
    assert r["{DAV:}lockdiscovery"][1].find("D:activelock/D:locktoken/D:href", NS).text == token
    assert len(r["{DAV:}supportedlock"][1].findall("D:lockentry", NS)) == 2
    # Without the token: 423 with the lock's root, for every write.
    st, _, data = c.request("PUT", FILES + "d/f", b"v2")
    assert st == 423
    assert xml(data).find("D:lock-token-submitted/D:href", NS).text == FILES + "d/f"
    assert c.request("DELETE", FILES + "d/f")[0] == 423
    assert c.request("MOVE", FILES + "d/f", headers={"Destination": FILES + "d/g"})[0] == 423
    assert c.request("COPY", FILES + "d/g2", headers={"Destination": FILES + "d/f"})[0] in (404, 423)
    assert c.request("PUT", FILES + "d/g2", b"x")[0] == 201
    assert c.request("COPY", FILES + "d/g2", headers={"Destination": FILES + "d/f"})[0] == 423
    assert c.request("PROPPATCH", FILES + "d/f",
                     '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><X:a xmlns:X="urn:x">1'
                     '</X:a></D:prop></D:set></D:propertyupdate>')[0] == 423
    # A second exclusive or shared lock conflicts.
    st, _, data = lock(c, FILES + "d/f")
    assert st == 423 and xml(data).find("D:no-conflicting-lock", NS) is not None
    assert lock(c, FILES + "d/f", scope="shared")[0] == 423
    # COPY from a locked resource is fine; the copy is not locked.
    assert c.request("COPY", FILES + "d/f", headers={"Destination": FILES + "d/copy"})[0] == 201
    assert c.request("PUT", FILES + "d/copy", b"free")[0] == 204
    # With the token (untagged, tagged, with the ETag): writes go through.
    assert c.request("PUT", FILES + "d/f", b"v2", {"If": f"(<{token}>)"})[0] == 204
    st, hd, _ = c.request("GET", FILES + "d/f")
    etag = hd["etag"]
    url = f"https://127.0.0.1:{dav.https_port}{FILES}d/f"
    assert c.request("PUT", FILES + "d/f", b"v3", {"If": f"<{url}> (<{token}> [{etag}])"})[0] == 204
    # A wrong ETag fails the list: 412; Not of a missing token holds.
    assert c.request("PUT", FILES + "d/f", b"v4", {"If": f'(<{token}> ["nope"])'})[0] == 412
    assert c.request("PUT", FILES + "d/f", b"v4",
                     {"If": f"(<{token}>) (Not <DAV:no-lock>)"})[0] == 204
    # The If holds but no lock token is submitted: still locked.
    assert c.request("PUT", FILES + "d/f", b"v5",
                     {"If": "(<opaquelocktoken:bogus>) (Not <DAV:no-lock>)"})[0] == 423
    # A malformed If header: 400.
    assert c.request("PUT", FILES + "d/f", b"v5", {"If": f"(<{token}>"})[0] == 400
    # Another principal with the token (a share would let bob write): 423
    # or 403, never a write.
    b = Dav(dav, BOB)
    assert b.request("PUT", FILES + "d/f", b"bob", {"If": f"(<{token}>)"})[0] in (403, 423)
    # Refresh: LOCK without a body and the token in If.
    st, hd, data = c.request("LOCK", FILES + "d/f", None,
                             {"If": f"(<{token}>)", "Timeout": "Second-100"})
    assert st == 200
    assert xml(data).find("D:lockdiscovery/D:activelock/D:timeout", NS).text in (
        "Second-100", "Second-99")
    assert c.request("LOCK", FILES + "d/f", None, {"If": "(<opaquelocktoken:x>)"})[0] == 412
    # UNLOCK: a wrong token 409, bob 403, the right one 204; then writable.
    st, _, data = c.request("UNLOCK", FILES + "d/f", None, {"Lock-Token": "<opaquelocktoken:x>"})
    assert st == 409 and xml(data).find("D:lock-token-matches-request-uri", NS) is not None
    assert c.request("UNLOCK", FILES + "d/f")[0] == 400
    assert c.request("UNLOCK", FILES + "d/f", None, {"Lock-Token": f"<{token}>"})[0] == 204
    assert c.request("PUT", FILES + "d/f", b"v6")[0] == 204
    # The old token no longer holds.
    assert c.request("PUT", FILES + "d/f", b"v7", {"If": f"(<{token}>)"})[0] == 412
    c.close()
    b.close()


def test_shared_collection_unmapped_and_expiry(cairnd_factory, pg, dav):
    c = Dav(dav, ANN)
    assert c.request("MKCOL", FILES + "s/")[0] == 201
    assert c.request("MKCOL", FILES + "s/sub/")[0] == 201
    assert c.request("PUT", FILES + "s/sub/x", b"x")[0] == 201
    # Two shared locks coexist; an exclusive one does not.
    st, t1, _ = lock(c, FILES + "s/sub/x", scope="shared", depth="0")
    assert st == 200
    st, t2, _ = lock(c, FILES + "s/sub/x", scope="shared", depth="0")
    assert st == 200 and t2 != t1
    assert lock(c, FILES + "s/sub/x")[0] == 423
    st, _, data = propfind(c, FILES + "s/sub/x", "<D:lockdiscovery/>")
    acts = responses(data)[FILES + "s/sub/x"]["{DAV:}lockdiscovery"][1].findall("D:activelock", NS)
    assert len(acts) == 2
    assert c.request("PUT", FILES + "s/sub/x", b"y", {"If": f"(<{t2}>)"})[0] == 204
    # A depth-infinity lock of the collection conflicts with them, and covers
    # its members once they are gone.
    assert lock(c, FILES + "s/", depth="infinity")[0] == 423
    for t in (t1, t2):
        assert c.request("UNLOCK", FILES + "s/sub/x", None, {"Lock-Token": f"<{t}>"})[0] == 204
    st, tc, _ = lock(c, FILES + "s/", depth="infinity")
    assert st == 200
    assert c.request("PUT", FILES + "s/sub/x", b"z")[0] == 423
    assert c.request("PUT", FILES + "s/new", b"n")[0] == 423
    assert c.request("MKCOL", FILES + "s/sub/c/")[0] == 423
    assert c.request("DELETE", FILES + "s/sub/")[0] == 423
    # Tagged with the collection: the member may be written.
    coll_url = f"https://127.0.0.1:{dav.https_port}{FILES}s/"
    assert c.request("PUT", FILES + "s/sub/x", b"z", {"If": f"<{coll_url}> (<{tc}>)"})[0] == 204
    assert c.request("PUT", FILES + "s/new", b"n", {"If": f"(<{tc}>)"})[0] == 201
    # The lock shows on members with the collection as its root.
    st, _, data = propfind(c, FILES + "s/new", "<D:lockdiscovery/>")
    root = responses(data)[FILES + "s/new"]["{DAV:}lockdiscovery"][1].find(
        "D:activelock/D:lockroot/D:href", NS).text
    assert root == FILES + "s/"
    # A second node sees the lock (it lives in PostgreSQL).
    d2 = cairnd_factory()
    c2 = Dav(d2, ANN)
    assert c2.request("PUT", FILES + "s/new", b"other node")[0] == 423
    c2.close()
    # Deleting with the token takes the lock away too.
    assert c.request("DELETE", FILES + "s/", headers={"If": f"(<{tc}>)"})[0] == 204
    assert c.request("MKCOL", FILES + "s/")[0] == 201
    assert c.request("PUT", FILES + "s/again", b"a")[0] == 201
    # LOCK of an unmapped URL creates an empty resource (RFC 4918 7.3).
    st, tu, _ = lock(c, FILES + "s/unmapped", timeout="Second-1")
    assert st == 201
    st, h, body = c.request("GET", FILES + "s/unmapped")
    assert st == 200 and body == b""
    assert c.request("LOCK", FILES + "none/x", LOCKINFO.format(scope="exclusive"))[0] == 409
    # Expiry: after its timeout the lock is gone.
    deadline = time.monotonic() + 10
    while c.request("PUT", FILES + "s/unmapped", b"now")[0] == 423:
        assert time.monotonic() < deadline, "the lock did not expire"
        time.sleep(0.2)
    st, _, data = propfind(c, FILES + "s/unmapped", "<D:lockdiscovery/>")
    assert responses(data)[FILES + "s/unmapped"]["{DAV:}lockdiscovery"][1].find(
        "D:activelock", NS) is None
    # Bad LOCK bodies and depth.
    assert c.request("LOCK", FILES + "s/again", '<D:lockinfo xmlns:D="DAV:"/>')[0] == 400
    assert c.request("LOCK", FILES + "s/", LOCKINFO.format(scope="exclusive"),
                     {"Depth": "1"})[0] == 400
    # Bob cannot lock ann's resources.
    b = Dav(dav, BOB)
    assert b.request("LOCK", FILES + "s/again", LOCKINFO.format(scope="exclusive"))[0] == 403
    b.close()
    c.close()


def test_lock_in_calendar(dav):
    """A calendar object can be locked too; LOCK of an unmapped URL in a
    calendar cannot make an empty (invalid) calendar object."""
    c = Dav(dav, ANN)
    cal = f"/dav/calendars/{ANN}/work/"
    assert c.request("MKCALENDAR", cal)[0] == 201
    st, _, _ = c.request("LOCK", cal + "empty.ics", LOCKINFO.format(scope="exclusive"))
    assert st in (400, 403, 415)
    assert c.request("GET", cal + "empty.ics")[0] == 404
    c.close()
