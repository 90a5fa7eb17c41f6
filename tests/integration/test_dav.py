"""The WebDAV core (issue 20 item 1) with raw exchanges: authentication
over TLS only, discovery, every method on the plain "files" home, dead
properties byte for byte, PROPPATCH atomicity, COPY/MOVE, sync-collection
(also across a restart), quota, and hostile input (XXE, billion laughs, deep
trees, huge bodies, path traversal, another user's namespace)."""
import base64
import socket
import ssl

import pytest

from dav_util import (NS, PASSWORD, Dav, ctl, propfind, responses, setup_users, tls_ctx, xml)

ANN = "ann@dav.test"
BOB = "bob@dav.test"
FILES = f"/dav/files/{ANN}/"


@pytest.fixture
def dav(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann", "bob")
    return d


def test_auth_and_discovery(dav):
    c = Dav(dav, ANN)
    # OPTIONS needs no credentials and announces the classes.
    st, h, _ = c.request("OPTIONS", "/dav/", auth=False)
    assert st == 200
    for cls in ("1", "3", "calendar-access", "extended-mkcol"):
        assert cls in [x.strip() for x in h["dav"].split(",")]
    assert "PROPFIND" in h["allow"] and "REPORT" in h["allow"]
    # No credentials: 401 with a Basic challenge.
    st, h, _ = c.request("PROPFIND", "/dav/", auth=False, headers={"Depth": "0"})
    assert st == 401 and h["www-authenticate"].startswith("Basic realm=")
    # Wrong password: 401 (held back by the throttle).
    bad = Dav(dav, ANN, password="wrong")
    st, h, _ = propfind(bad, "/dav/", "<D:current-user-principal/>")
    assert st == 401
    # Malformed Basic.
    st, _, _ = c.request("PROPFIND", "/dav/", headers={"Authorization": "Basic !!!",
                                                       "Depth": "0"}, auth=False)
    assert st == 401
    # RFC 6764 redirects.
    for svc in ("caldav", "carddav"):
        st, h, _ = c.request("GET", f"/.well-known/{svc}", auth=False)
        assert st == 301 and h["location"] == "/dav/"
    # current-user-principal, then the homes.
    st, _, body = propfind(c, "/dav/", "<D:current-user-principal/>")
    assert st == 207
    cup = responses(body)["/dav/"]["{DAV:}current-user-principal"]
    assert cup[1].find("D:href", NS).text == "/dav/principals/ann@dav.test/"
    st, _, body = propfind(c, f"/dav/principals/{ANN}/",
                           "<C:calendar-home-set/><D:resourcetype/><D:principal-URL/>"
                           "<C:calendar-user-address-set/><D:nonexistent/>")
    r = responses(body)[f"/dav/principals/{ANN}/"]
    assert r["{urn:ietf:params:xml:ns:caldav}calendar-home-set"][1].find("D:href", NS).text == \
        "/dav/calendars/ann@dav.test/"
    assert r["{DAV:}resourcetype"][1].find("D:principal", NS) is not None
    assert r["{urn:ietf:params:xml:ns:caldav}calendar-user-address-set"][1] \
        .find("D:href", NS).text == f"mailto:{ANN}"
    assert "404" in r["{DAV:}nonexistent"][0]
    # Depth: infinity is refused with its precondition.
    st, _, body = propfind(c, f"/dav/calendars/{ANN}/", "<D:resourcetype/>", depth="infinity")
    assert st == 403 and xml(body).find("D:propfind-finite-depth", NS) is not None
    c.close()


def test_plaintext_refuses_credentials(dav, cairnd_factory):
    c = Dav(dav, ANN, tls=False)
    st, h, _ = propfind(c, "/dav/", "<D:current-user-principal/>")
    assert st == 403 and "www-authenticate" not in h
    # OPTIONS and the health check stay available over plain HTTP.
    assert c.request("OPTIONS", "/dav/", auth=False)[0] == 200
    c.close()
    d2 = cairnd_factory({"http": {"plaintext_auth": "yes"}}, migrate=False)
    c2 = Dav(d2, ANN, tls=False)
    assert propfind(c2, "/dav/", "<D:current-user-principal/>")[0] == 207
    c2.close()


def test_methods_on_files(dav):
    c = Dav(dav, ANN)
    assert c.request("MKCOL", FILES + "docs/")[0] == 201
    assert c.request("MKCOL", FILES + "docs/")[0] == 405
    # MKCOL with a body that is not extended MKCOL: 415.
    assert c.request("MKCOL", FILES + "odd/", "hello", {"Content-Type": "text/plain"})[0] == 415
    # PUT into a missing collection, or MKCOL below a missing one: 409.
    assert c.request("PUT", FILES + "none/a.txt", b"x", {"Content-Type": "text/plain"})[0] == 409
    assert c.request("PUT", FILES + "none/deeper/a.txt", b"x",
                     {"Content-Type": "text/plain"})[0] == 409
    assert c.request("MKCOL", FILES + "none/deeper/")[0] == 409
    assert c.request("GET", FILES + "none/deeper/a.txt")[0] == 404
    body = b"\x00binary\xffdata\r\n" * 100
    st, h, _ = c.request("PUT", FILES + "docs/a.bin", body,
                         {"Content-Type": "application/octet-stream", "If-None-Match": "*"})
    assert st == 201
    etag = h["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    # If-None-Match: * on an existing resource: 412.
    st, _, _ = c.request("PUT", FILES + "docs/a.bin", b"y",
                         {"Content-Type": "text/plain", "If-None-Match": "*"})
    assert st == 412
    st, h, data = c.request("GET", FILES + "docs/a.bin")
    assert st == 200 and data == body and h["etag"] == etag
    assert h["content-type"] == "application/octet-stream"
    st, h, data = c.request("HEAD", FILES + "docs/a.bin")
    assert st == 200 and data == b"" and int(h["content-length"]) == len(body)
    # Conditional GET.
    assert c.request("GET", FILES + "docs/a.bin", headers={"If-None-Match": etag})[0] == 304
    # If-None-Match compares weakly, If-Match strongly (RFC 9110 13.1)
    assert c.request("GET", FILES + "docs/a.bin", headers={"If-None-Match": "W/" + etag})[0] == 304
    assert c.request("GET", FILES + "docs/a.bin", headers={"If-Match": "W/" + etag})[0] == 412
    # If-Match with a stale tag: 412; with the right one: 204 and a new tag.
    assert c.request("PUT", FILES + "docs/a.bin", b"new", {"If-Match": '"stale"',
                                                           "Content-Type": "text/plain"})[0] == 412
    st, h, _ = c.request("PUT", FILES + "docs/a.bin", b"new", {"If-Match": etag,
                                                               "Content-Type": "text/plain"})
    assert st == 204 and h["etag"] != etag
    # PROPFIND depth 1 lists the member with its properties.
    st, _, data = propfind(c, FILES + "docs/", "<D:getetag/><D:getcontentlength/><D:resourcetype/>",
                           depth="1")
    r = responses(data)
    assert r[FILES + "docs/a.bin"]["{DAV:}getcontentlength"][1].text == "3"
    assert r[FILES + "docs/a.bin"]["{DAV:}getetag"][1].text == h["etag"]
    st, h2, _ = c.request("HEAD", FILES + "docs/a.bin")
    st, _, data = propfind(c, FILES + "docs/a.bin", "<D:getlastmodified/>")
    assert responses(data)[FILES + "docs/a.bin"]["{DAV:}getlastmodified"][1].text == \
        h2["last-modified"]
    assert h2["last-modified"].endswith(" GMT")
    assert r[FILES + "docs/"]["{DAV:}resourcetype"][1].find("D:collection", NS) is not None
    # DELETE with a wrong If-Match, then for real, then again.
    assert c.request("DELETE", FILES + "docs/a.bin", headers={"If-Match": '"x"'})[0] == 412
    assert c.request("DELETE", FILES + "docs/a.bin")[0] == 204
    assert c.request("DELETE", FILES + "docs/a.bin")[0] == 404
    assert c.request("GET", FILES + "docs/a.bin")[0] == 404
    # LOCK (class 2, test_dav_lock.py) refuses a lockinfo without scope and type.
    st, h, _ = c.request("LOCK", FILES + "docs/a.bin", "<D:lockinfo xmlns:D='DAV:'/>")
    assert st == 400
    # Unicode names round-trip percent-encoded.
    name = "r%C3%A9sum%C3%A9%20v1.txt"
    assert c.request("PUT", FILES + "docs/" + name, b"cv", {"Content-Type": "text/plain"})[0] == 201
    st, _, data = propfind(c, FILES + "docs/", "<D:getetag/>", depth="1")
    assert FILES + "docs/" + name in responses(data)
    assert c.request("DELETE", FILES + "docs/")[0] == 204
    assert c.request("GET", FILES + "docs/" + name)[0] == 404
    c.close()


def test_dead_properties(dav):
    c = Dav(dav, ANN)
    assert c.request("MKCOL", FILES + "p/")[0] == 201
    assert c.request("PUT", FILES + "p/x", b"x", {"Content-Type": "text/plain"})[0] == 201
    value = ('<Z:Authors xmlns:Z="http://ns.example.com/z/"><Z:Author>Jim &amp; '
             'R\u00f6y</Z:Author><Z:Author>  spaced  </Z:Author></Z:Authors>')
    body = ('<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" '
            'xmlns:Z="http://ns.example.com/z/"><D:set><D:prop>'
            '<Z:Authors><Z:Author>Jim &amp; R\u00f6y</Z:Author><Z:Author>  spaced  </Z:Author>'
            '</Z:Authors></D:prop></D:set></D:propertyupdate>')
    st, _, data = c.request("PROPPATCH", FILES + "p/x", body)
    assert st == 207
    assert "200" in responses(data)[FILES + "p/x"]["{http://ns.example.com/z/}Authors"][0]
    st, _, data = c.request("PROPFIND", FILES + "p/x",
                            '<D:propfind xmlns:D="DAV:"><D:prop><Z:Authors '
                            'xmlns:Z="http://ns.example.com/z/"/></D:prop></D:propfind>',
                            {"Depth": "0"})
    assert st == 207
    assert value.encode() in data      # byte for byte, namespace declared on it
    # allprop returns it too; propname names it.
    st, _, data = c.request("PROPFIND", FILES + "p/x",
                            '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>', {"Depth": "0"})
    assert value.encode() in data and b"getetag" in data
    st, _, data = c.request("PROPFIND", FILES + "p/x",
                            '<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>', {"Depth": "0"})
    assert b"Authors" in data and b"Jim" not in data
    # Atomic: a protected property fails (403), the other gets 424, and
    # nothing is changed.
    body = ('<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://ns.example.com/z/"><D:set><D:prop>'
            '<Z:Other>1</Z:Other><D:getetag>"forged"</D:getetag></D:prop></D:set>'
            '<D:remove><D:prop><Z:Authors/></D:prop></D:remove></D:propertyupdate>')
    st, _, data = c.request("PROPPATCH", FILES + "p/x", body)
    r = responses(data)[FILES + "p/x"]
    assert "403" in r["{DAV:}getetag"][0]
    assert "424" in r["{http://ns.example.com/z/}Other"][0]
    assert "424" in r["{http://ns.example.com/z/}Authors"][0]
    st, _, data = c.request("PROPFIND", FILES + "p/x",
                            '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>', {"Depth": "0"})
    assert value.encode() in data and b"Other" not in data
    # Remove for real.
    body = ('<D:propertyupdate xmlns:D="DAV:"><D:remove><D:prop><Z:Authors '
            'xmlns:Z="http://ns.example.com/z/"/></D:prop></D:remove></D:propertyupdate>')
    assert c.request("PROPPATCH", FILES + "p/x", body)[0] == 207
    st, _, data = c.request("PROPFIND", FILES + "p/x",
                            '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>', {"Depth": "0"})
    assert b"Authors" not in data
    c.close()


def test_copy_move(dav):
    c = Dav(dav, ANN)
    base = f"https://127.0.0.1:{dav.https_port}"
    assert c.request("MKCOL", FILES + "a/")[0] == 201
    assert c.request("MKCOL", FILES + "b/")[0] == 201
    assert c.request("PUT", FILES + "a/f", b"one", {"Content-Type": "text/plain"})[0] == 201
    prop = ('<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><Z:k xmlns:Z="urn:z">v</Z:k>'
            '</D:prop></D:set></D:propertyupdate>')
    assert c.request("PROPPATCH", FILES + "a/f", prop)[0] == 207
    # COPY to an absolute URL in another collection: 201, properties copied.
    assert c.request("COPY", FILES + "a/f", headers={"Destination": base + FILES + "b/g"})[0] == 201
    assert c.request("GET", FILES + "b/g")[2] == b"one"
    st, _, data = propfind(c, FILES + "b/g", '<Z:k xmlns:Z="urn:z"/>')
    assert b">v</Z:k>" in data
    # Overwrite: F onto an existing resource: 412; T: 204.
    assert c.request("COPY", FILES + "a/f", headers={"Destination": FILES + "b/g",
                                                      "Overwrite": "F"})[0] == 412
    assert c.request("COPY", FILES + "a/f", headers={"Destination": FILES + "b/g"})[0] == 204
    # MOVE: the source is gone.
    assert c.request("MOVE", FILES + "a/f", headers={"Destination": FILES + "b/h"})[0] == 201
    assert c.request("GET", FILES + "a/f")[0] == 404
    assert c.request("GET", FILES + "b/h")[2] == b"one"
    # A collection MOVE renames it.
    assert c.request("MOVE", FILES + "b/", headers={"Destination": FILES + "c/"})[0] == 201
    assert c.request("GET", FILES + "c/h")[2] == b"one"
    # A collection COPY copies its members, counted against the quota, with
    # a sync token of its own.
    def used():
        st, _, data = propfind(c, FILES, "<D:quota-used-bytes/>")
        return int(responses(data)[FILES]["{DAV:}quota-used-bytes"][1].text)
    before = used()
    assert c.request("COPY", FILES + "c/", headers={"Destination": FILES + "d/"})[0] == 201
    assert c.request("GET", FILES + "d/g")[2] == b"one"
    assert used() == before + 6
    st, data = sync(c, FILES + "d/", "")
    assert set(responses(data)) == {FILES + "d/g", FILES + "d/h"}
    assert xml(data).find("D:sync-token", NS).text.endswith(":1")
    # Destination elsewhere, missing, or in another user's namespace.
    assert c.request("COPY", FILES + "c/h",
                     headers={"Destination": "https://elsewhere.example/x"})[0] == 502
    assert c.request("COPY", FILES + "c/h")[0] == 400
    assert c.request("COPY", FILES + "c/h",
                     headers={"Destination": f"/dav/files/{BOB}/x/y"})[0] == 403
    assert c.request("COPY", FILES + "c/h", headers={"Destination": FILES + "zz/h"})[0] == 409
    c.close()


def sync(c, path, token, props="<D:getetag/>"):
    body = ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:">'
            f'<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>'
            f'<D:prop>{props}</D:prop></D:sync-collection>')
    st, _, data = c.request("REPORT", path, body, {"Depth": "0"})
    return st, data


def test_sync_collection(dav):
    c = Dav(dav, ANN)
    col = FILES + "s/"
    assert c.request("MKCOL", col)[0] == 201
    for i in range(3):
        assert c.request("PUT", f"{col}r{i}", f"v{i}".encode(), {"Content-Type": "text/plain"})[0] == 201
    st, data = sync(c, col, "")
    assert st == 207
    root = xml(data)
    t1 = root.find("D:sync-token", NS).text
    assert set(responses(data)) == {f"{col}r{i}" for i in range(3)}
    # No change: nothing, same token.
    st, data = sync(c, col, t1)
    assert responses(data) == {} and xml(data).find("D:sync-token", NS).text == t1
    # A change and a deletion.
    assert c.request("PUT", f"{col}r0", b"changed", {"Content-Type": "text/plain"})[0] == 204
    assert c.request("DELETE", f"{col}r1")[0] == 204
    st, data = sync(c, col, t1)
    r = responses(data)
    assert set(r) == {f"{col}r0", f"{col}r1"}
    assert "404" in r[f"{col}r1"]["__status__"]
    assert "200" in r[f"{col}r0"]["{DAV:}getetag"][0]
    t2 = xml(data).find("D:sync-token", NS).text
    assert t2 != t1
    # getctag / sync-token properties agree.
    st, _, data = propfind(c, col, "<D:sync-token/><CS:getctag/>")
    r = responses(data)[col]
    assert r["{DAV:}sync-token"][1].text == t2
    # DAV:limit (RFC 6578 3.6): a truncated result marks the collection 507
    # and its token goes on from there.
    def limited(n, tok=t1):
        return ('<D:sync-collection xmlns:D="DAV:"><D:sync-token>' + tok + '</D:sync-token>'
                '<D:sync-level>1</D:sync-level><D:limit><D:nresults>' + str(n) +
                '</D:nresults></D:limit><D:prop><D:getetag/></D:prop></D:sync-collection>')
    st, _, data = c.request("REPORT", col, limited(1), {"Depth": "0"})
    assert st == 207
    r = responses(data)
    assert len(r) == 2 and "507" in r[col]["__status__"]
    assert xml(data).find("D:response/D:error/D:number-of-matches-within-limits", NS) is not None
    first = (set(r) - {col}).pop()
    cont = xml(data).find("D:sync-token", NS).text
    st, _, data = c.request("REPORT", col, limited(5, cont), {"Depth": "0"})
    assert st == 207
    assert set(responses(data)) == {f"{col}r0", f"{col}r1"} - {first}
    assert xml(data).find("D:sync-token", NS).text == t2
    st, _, data = c.request("REPORT", col, limited(2), {"Depth": "0"})
    assert st == 207 and len(responses(data)) == 2
    assert xml(data).find("D:sync-token", NS).text == t2
    # Initial sync in pages of 1: every member once (a removal after the
    # first page may show as a 404), then the full token.
    tok, seen, pages = "", [], 0
    while pages < 10:
        pages += 1
        st, _, data = c.request("REPORT", col, limited(1, tok), {"Depth": "0"})
        r = responses(data)
        assert len(r) <= 2
        seen += [h for h, p in r.items() if h != col and "__status__" not in p]
        tok = xml(data).find("D:sync-token", NS).text
        if col not in r:
            break
    assert sorted(seen) == [f"{col}r0", f"{col}r2"] and tok == t2 and pages >= 2
    # sync-collection is Depth 0; a continuation token of garbage is refused.
    st, _, data = c.request("REPORT", col, limited(2), {"Depth": "1"})
    assert st == 400
    st, data = sync(c, col, cont + "zz")
    assert st == 403
    # Invalid tokens.
    for bad in ("urn:cairn:sync:999:1", t2 + "9", "garbage"):
        st, data = sync(c, col, bad)
        assert st == 403 and xml(data).find("D:valid-sync-token", NS) is not None
    c.close()
    # The token survives a restart (it lives in PostgreSQL).
    assert dav.stop() == 0
    dav.start()
    c = Dav(dav, ANN)
    st, data = sync(c, col, t2)
    assert st == 207 and responses(data) == {}
    c.close()


def test_quota(dav):
    ctl(dav, "user", "set", ANN, "--quota", "10000")
    c = Dav(dav, ANN)
    assert c.request("MKCOL", FILES + "q/")[0] == 201
    assert c.request("PUT", FILES + "q/a", b"a" * 4000, {"Content-Type": "text/plain"})[0] == 201
    st, _, data = propfind(c, FILES + "q/", "<D:quota-used-bytes/><D:quota-available-bytes/>")
    r = responses(data)[FILES + "q/"]
    assert int(r["{DAV:}quota-used-bytes"][1].text) == 4000
    assert int(r["{DAV:}quota-available-bytes"][1].text) == 6000
    # Over quota: 507 with the precondition, nothing stored.
    st, _, data = c.request("PUT", FILES + "q/b", b"b" * 7000, {"Content-Type": "text/plain"})
    assert st == 507 and xml(data).find("D:quota-not-exceeded", NS) is not None
    assert c.request("GET", FILES + "q/b")[0] == 404
    # Deleting gives the bytes back.
    assert c.request("DELETE", FILES + "q/a")[0] == 204
    st, _, data = propfind(c, FILES + "q/", "<D:quota-used-bytes/>")
    assert int(responses(data)[FILES + "q/"]["{DAV:}quota-used-bytes"][1].text) == 0
    c.close()


XXE = ('<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag>&x;</D:getetag></D:prop></D:propfind>')
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
          + ']><D:propfind xmlns:D="DAV:"><D:prop><D:getetag>&j;</D:getetag></D:prop></D:propfind>')


def test_hostile(dav):
    c = Dav(dav, ANN)
    assert c.request("MKCOL", FILES + "h/")[0] == 201
    for body in (XXE, LAUGHS, "<D:propfind xmlns:D='DAV:'>" + "<a>" * 5000 + "</a>" * 5000
                 + "</D:propfind>", "<not-closed>"):
        st, _, data = c.request("PROPFIND", FILES + "h/", body, {"Depth": "0"})
        assert st in (400, 413), (st, data)
        assert b"root:" not in data
        st, _, data = c.request("PROPPATCH", FILES + "h/", body)
        assert st in (400, 413)
    # Nothing got stored by the refused PROPPATCHes.
    st, _, data = c.request("PROPFIND", FILES + "h/",
                            '<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>', {"Depth": "0"})
    assert st == 207
    names = {tag for tag in responses(data)[FILES + "h/"]}
    assert names and all(t.startswith(("{DAV:}", "{http://calendarserver.org/ns/}"))
                         for t in names), names
    # A 1 MiB+ XML body: 413.
    big = '<D:propfind xmlns:D="DAV:"><D:prop>' + "<D:getetag/>" * 100000 + "</D:prop></D:propfind>"
    assert c.request("PROPFIND", FILES + "h/", big, {"Depth": "0"})[0] == 413
    # Path traversal and malformed paths.
    for path in (FILES + "h/%2e%2e/x", FILES + "h/..%2f..%2fetc", FILES + "h/a%00b",
                 FILES + "%2E%2E/", f"/dav/files/{ANN}/h/%2Fetc%2Fpasswd", FILES + "h/%zz"):
        st, _, _ = c.request("GET", path)
        assert st == 400, path
    # Another user's namespace, directly and through a Destination.
    for method in ("GET", "PROPFIND", "PUT", "DELETE", "MKCOL"):
        st, _, data = c.request(method, f"/dav/files/{BOB}/x/", b"x" if method == "PUT" else None,
                                {"Depth": "0", "Content-Type": "text/plain"})
        assert st == 403, method
    # Other principals can be looked up (sharing needs it), their homes not.
    st, _, _ = propfind(c, f"/dav/principals/{BOB}/", "<D:displayname/>")
    assert st == 207
    st, _, _ = propfind(c, "/dav/principals/nobody@dav.test/", "<D:displayname/>")
    assert st == 404
    st, _, _ = propfind(c, f"/dav/calendars/{BOB}/", "<D:resourcetype/>", depth="1")
    assert st == 403
    assert c.request("PROPPATCH", f"/dav/principals/{BOB}/", '<D:propertyupdate xmlns:D="DAV:">'
                     '<D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set>'
                     '</D:propertyupdate>')[0] == 403
    c.close()


def test_huge_body_refused(dav):
    """A 100 MB body is refused with 413 before it is read in full."""
    auth = base64.b64encode(f"{ANN}:{PASSWORD}".encode()).decode()
    s = tls_ctx().wrap_socket(socket.create_connection(("127.0.0.1", dav.https_port), timeout=30))
    s.sendall((f"PUT {FILES}h/big HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
               f"Content-Type: text/plain\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n").encode())
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, ssl.SSLError):
        pass
    s.close()
    assert data.startswith(b"HTTP/1.1 413")


def test_calendar_collections(dav):
    c = Dav(dav, ANN)
    home = f"/dav/calendars/{ANN}/"
    body = ('<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            '<D:displayname>Work</D:displayname>'
            '<C:calendar-description>My work</C:calendar-description>'
            '<C:supported-calendar-component-set><C:comp name="VTODO"/>'
            '</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>')
    assert c.request("MKCALENDAR", home + "work/", body)[0] == 201
    assert c.request("MKCALENDAR", home + "work/", body)[0] == 405
    # MKCALENDAR in the files home or nested in a calendar: refused.
    assert c.request("MKCALENDAR", FILES + "cal/")[0] == 403
    st, _, data = c.request("MKCALENDAR", home + "work/inner/")
    assert st == 403
    # Extended MKCOL (RFC 5689) makes a calendar too.
    body = ('<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            '<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>'
            '<D:displayname>Home</D:displayname></D:prop></D:set></D:mkcol>')
    assert c.request("MKCOL", home + "home/", body)[0] == 201
    # An unknown resourcetype is refused and nothing is created.
    body = ('<D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:resourcetype><D:collection/>'
            '<X:weird xmlns:X="urn:x"/></D:resourcetype></D:prop></D:set></D:mkcol>')
    st, _, data = c.request("MKCOL", home + "weird/", body)
    assert st == 403 and xml(data).find("D:valid-resourcetype", NS) is not None
    # A protected property in MKCALENDAR: 403 and nothing is created.
    body = ('<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set>'
            '<D:prop><D:displayname>x</D:displayname><D:getetag>"1"</D:getetag></D:prop>'
            '</D:set></C:mkcalendar>')
    assert c.request("MKCALENDAR", home + "bad/", body)[0] == 403
    st, _, data = propfind(c, home, "<D:resourcetype/><D:displayname/>"
                           "<C:supported-calendar-component-set/><C:calendar-description/>"
                           "<D:supported-report-set/><C:max-resource-size/>", depth="1")
    r = responses(data)
    # the scheduling inbox and outbox (RFC 6638) come with every calendar home
    assert set(r) == {home, home + "work/", home + "home/", home + "inbox/", home + "outbox/"}
    w = r[home + "work/"]
    assert w["{DAV:}displayname"][1].text == "Work"
    assert w["{urn:ietf:params:xml:ns:caldav}calendar-description"][1].text == "My work"
    comps = [x.get("name") for x in
             w["{urn:ietf:params:xml:ns:caldav}supported-calendar-component-set"][1]]
    assert comps == ["VTODO"]
    assert w["{DAV:}resourcetype"][1].find("C:calendar", NS) is not None
    assert int(w["{urn:ietf:params:xml:ns:caldav}max-resource-size"][1].text) > 0
    reports = ET_tags(w["{DAV:}supported-report-set"][1])
    assert "{urn:ietf:params:xml:ns:caldav}calendar-query" in reports
    assert "{DAV:}sync-collection" in reports
    # supported-calendar-component-set cannot be changed afterwards.
    body = ('<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set>'
            '<D:prop><C:supported-calendar-component-set><C:comp name="VEVENT"/>'
            '</C:supported-calendar-component-set></D:prop></D:set></D:propertyupdate>')
    st, _, data = c.request("PROPPATCH", home + "work/", body)
    assert "403" in responses(data)[home + "work/"][
        "{urn:ietf:params:xml:ns:caldav}supported-calendar-component-set"][0]
    assert c.request("DELETE", home + "home/")[0] == 204
    c.close()


def ET_tags(elem):
    return {e.tag for e in elem.iter()}
