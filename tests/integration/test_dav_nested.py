"""Nested collections in the plain WebDAV "files" home (RFC 4918 9.3, 9.6,
9.8, 9.9): MKCOL at any depth (409 without a parent, 405 on an existing
resource, 415 on a body it does not understand), PROPFIND Depth 1 listing
child collections, DELETE, COPY (Depth infinity and 0) and MOVE of whole
trees with their dead properties and Overwrite, sync-collection reporting
member collections, quota; calendars and address books hold no collections
(RFC 4791 4.2, RFC 6352 5.2)."""
import pytest

from dav_util import NS, Dav, propfind, responses, setup_users, xml

ANN = "ann@dav.test"
FILES = f"/dav/files/{ANN}/"
CARD = "urn:ietf:params:xml:ns:carddav"


@pytest.fixture
def dav(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann", "bob")
    return d


def members(c, path):
    st, _, data = propfind(c, path, "<D:resourcetype/>", depth="1")
    assert st == 207, data
    out = {}
    for href, props in responses(data).items():
        rt = props["{DAV:}resourcetype"][1]
        out[href] = rt.find("D:collection", NS) is not None
    return out


def dead_prop(c, path):
    st, _, data = propfind(c, path, '<X:colour xmlns:X="urn:x"/>')
    assert st == 207
    status, el = responses(data)[path]["{urn:x}colour"]
    return el.text if "200" in status else None


def used(c):
    st, _, data = propfind(c, FILES, "<D:quota-used-bytes/>")
    return int(responses(data)[FILES]["{DAV:}quota-used-bytes"][1].text)


def test_mkcol_propfind_delete(dav):
    c = Dav(dav, ANN)
    assert c.request("MKCOL", FILES + "a/")[0] == 201
    assert c.request("MKCOL", FILES + "a/b/")[0] == 201
    # without a trailing slash, MKCOL names a collection too
    assert c.request("MKCOL", FILES + "a/b/c")[0] == 201
    assert c.request("MKCOL", FILES + "a/b/")[0] == 405
    assert c.request("MKCOL", FILES + "a/b")[0] == 405
    assert c.request("MKCOL", FILES + "x/y/")[0] == 409
    assert c.request("MKCOL", FILES + "a/x/y/")[0] == 409
    assert c.request("MKCOL", FILES + "a/n/", b"not xml at all",
                     {"Content-Type": "text/plain"})[0] == 415
    assert c.request("PUT", FILES + "a/b/f.txt", b"hello", {"Content-Type": "text/plain"})[0] == 201
    assert c.request("MKCOL", FILES + "a/b/f.txt")[0] == 405
    assert c.request("PUT", FILES + "a/b/c", b"x")[0] == 405
    assert c.request("GET", FILES + "a/b/f.txt")[2] == b"hello"
    # Depth 1 lists the immediate members only, collections marked as such.
    assert members(c, FILES) == {FILES: True, FILES + "a/": True}
    assert members(c, FILES + "a/") == {FILES + "a/": True, FILES + "a/b/": True}
    assert members(c, FILES + "a/b/") == {FILES + "a/b/": True, FILES + "a/b/c/": True,
                                          FILES + "a/b/f.txt": False}
    # A collection named without its trailing slash is found.
    st, _, data = propfind(c, FILES + "a/b", "<D:resourcetype/>")
    assert st == 207 and FILES + "a/b/" in responses(data)
    before = used(c)
    # DELETE takes the whole tree and gives its bytes back.
    assert c.request("DELETE", FILES + "a/b")[0] == 204
    assert c.request("GET", FILES + "a/b/f.txt")[0] == 404
    assert c.request("PROPFIND", FILES + "a/b/c/", headers={"Depth": "0"})[0] == 404
    assert members(c, FILES + "a/") == {FILES + "a/": True}
    assert used(c) == before - 5
    assert c.request("DELETE", FILES + "a/")[0] == 204
    assert members(c, FILES) == {FILES: True}
    c.close()


def tree(c):
    """a/ (colour red), a/f, a/b/ (colour blue), a/b/g, a/b/c/"""
    assert c.request("MKCOL", FILES + "a/")[0] == 201
    assert c.request("MKCOL", FILES + "a/b/")[0] == 201
    assert c.request("MKCOL", FILES + "a/b/c/")[0] == 201
    assert c.request("PUT", FILES + "a/f", b"one")[0] == 201
    assert c.request("PUT", FILES + "a/b/g", b"two!")[0] == 201
    for path, colour in ((FILES + "a/", "red"), (FILES + "a/b/", "blue"), (FILES + "a/b/g", "green")):
        body = ('<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x"><D:set><D:prop>'
                f'<X:colour>{colour}</X:colour></D:prop></D:set></D:propertyupdate>')
        assert c.request("PROPPATCH", path, body)[0] == 207


def test_copy_move_trees(dav):
    c = Dav(dav, ANN)
    tree(c)
    before = used(c)
    # COPY Depth infinity: every member, at every level, with dead properties.
    assert c.request("COPY", FILES + "a/", headers={"Destination": FILES + "z/"})[0] == 201
    assert c.request("GET", FILES + "z/f")[2] == b"one"
    assert c.request("GET", FILES + "z/b/g")[2] == b"two!"
    assert members(c, FILES + "z/b/") == {FILES + "z/b/": True, FILES + "z/b/c/": True,
                                          FILES + "z/b/g": False}
    assert dead_prop(c, FILES + "z/") == "red"
    assert dead_prop(c, FILES + "z/b/") == "blue"
    assert dead_prop(c, FILES + "z/b/g") == "green"
    assert used(c) == before + 7
    # The source is untouched.
    assert c.request("GET", FILES + "a/b/g")[2] == b"two!"
    # COPY Depth 0: the collection and its properties, no members.
    assert c.request("COPY", FILES + "a/", headers={"Destination": FILES + "s/",
                                                     "Depth": "0"})[0] == 201
    assert members(c, FILES + "s/") == {FILES + "s/": True}
    assert dead_prop(c, FILES + "s/") == "red"
    assert c.request("COPY", FILES + "a/", headers={"Destination": FILES + "t/",
                                                     "Depth": "1"})[0] == 400
    # Into a nested place, to a missing parent, into itself.
    assert c.request("COPY", FILES + "a/b/", headers={"Destination": FILES + "s/b2/"})[0] == 201
    assert c.request("GET", FILES + "s/b2/g")[2] == b"two!"
    assert c.request("COPY", FILES + "a/", headers={"Destination": FILES + "no/pe/"})[0] == 409
    assert c.request("COPY", FILES + "a/", headers={"Destination": FILES + "a/b/c/d/"})[0] == 403
    # Overwrite: F refuses an existing destination, T (the default) replaces it.
    assert c.request("COPY", FILES + "a/b/", headers={"Destination": FILES + "z/",
                                                       "Overwrite": "F"})[0] == 412
    assert c.request("COPY", FILES + "a/b/", headers={"Destination": FILES + "z/",
                                                       "Overwrite": "T"})[0] == 204
    assert members(c, FILES + "z/") == {FILES + "z/": True, FILES + "z/c/": True,
                                        FILES + "z/g": False}
    assert dead_prop(c, FILES + "z/") == "blue"
    # MOVE renames the whole tree; the bytes stay counted once.
    before = used(c)
    assert c.request("MOVE", FILES + "a/", headers={"Destination": FILES + "s/b2/m/"})[0] == 201
    assert c.request("PROPFIND", FILES + "a/", headers={"Depth": "0"})[0] == 404
    assert c.request("GET", FILES + "s/b2/m/b/g")[2] == b"two!"
    assert dead_prop(c, FILES + "s/b2/m/b/") == "blue"
    assert used(c) == before
    # MOVE over a resource (Overwrite T) and a resource over a collection.
    assert c.request("PUT", FILES + "z/r", b"resource")[0] == 201
    assert c.request("MOVE", FILES + "s/b2/m/", headers={"Destination": FILES + "z/r",
                                                          "Overwrite": "F"})[0] == 412
    assert c.request("MOVE", FILES + "s/b2/m/", headers={"Destination": FILES + "z/r"})[0] == 204
    assert c.request("GET", FILES + "z/r/f")[2] == b"one"
    assert c.request("PUT", FILES + "z/plain", b"plain")[0] == 201
    assert c.request("COPY", FILES + "z/plain", headers={"Destination": FILES + "z/r"})[0] == 204
    assert c.request("GET", FILES + "z/r")[2] == b"plain"
    assert c.request("GET", FILES + "z/r/f")[0] in (404, 409)
    c.close()


def sync(c, path, token):
    body = ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:">'
            f'<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>'
            '<D:prop><D:resourcetype/></D:prop></D:sync-collection>')
    st, _, data = c.request("REPORT", path, body, {"Depth": "0"})
    assert st == 207, data
    return responses(data), xml(data).find("D:sync-token", NS).text


def test_sync_reports_member_collections(dav):
    c = Dav(dav, ANN)
    assert c.request("MKCOL", FILES + "p/")[0] == 201
    assert c.request("MKCOL", FILES + "p/old/")[0] == 201
    r, tok = sync(c, FILES + "p/", "")
    assert set(r) == {FILES + "p/old/"}
    assert r[FILES + "p/old/"]["{DAV:}resourcetype"][1].find("D:collection", NS) is not None
    assert c.request("MKCOL", FILES + "p/q/")[0] == 201
    assert c.request("DELETE", FILES + "p/old/")[0] == 204
    assert c.request("PUT", FILES + "p/f", b"f")[0] == 201
    r, tok2 = sync(c, FILES + "p/", tok)
    assert set(r) == {FILES + "p/q/", FILES + "p/old/", FILES + "p/f"}
    assert "404" in r[FILES + "p/old/"]["__status__"]
    assert "{DAV:}resourcetype" in r[FILES + "p/q/"]
    # sync-level infinite would need the descendants' changes: refused here.
    body = ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:">'
            '<D:sync-token/><D:sync-level>infinite</D:sync-level>'
            '<D:prop><D:getetag/></D:prop></D:sync-collection>')
    st, _, data = c.request("REPORT", FILES + "p/", body, {"Depth": "0"})
    assert st == 403 and xml(data).find("D:sync-traversal-supported", NS) is not None
    # A change deeper down is not the parent's (sync-level 1).
    assert c.request("PUT", FILES + "p/q/deep", b"d")[0] == 201
    r, _ = sync(c, FILES + "p/", tok2)
    assert r == {}
    c.close()


def test_calendars_and_books_hold_no_collections(dav):
    c = Dav(dav, ANN)
    cal = f"/dav/calendars/{ANN}/"
    book = f"/dav/addressbooks/{ANN}/"
    assert c.request("MKCALENDAR", cal + "work/")[0] == 201
    st, _, data = c.request("MKCOL", cal + "work/inner/")
    assert st == 403
    assert xml(data).find("C:calendar-collection-location-ok", NS) is not None
    assert c.request("MKCOL", book + "friends/")[0] == 201
    st, _, data = c.request("MKCOL", book + "friends/inner/")
    assert st == 403
    assert xml(data).find("{%s}addressbook-collection-location-ok" % CARD) is not None
    # Deeper paths are conflicts, not collections.
    assert c.request("MKCOL", cal + "work/inner/deeper/")[0] == 409
    # A calendar cannot be copied into a plain collection nor nested.
    assert c.request("COPY", cal + "work/", headers={"Destination": cal + "work/x/"})[0] == 403
    c.close()
