"""The DAV:expand-property REPORT (RFC 3253 3.8) on any resource: principals,
homes, collections; each DAV:href of a property with nested DAV:property
elements is replaced by a DAV:response describing the resource it names,
recursively; what the requester may not read is a 404 response."""
import pytest

from dav_util import NS, Dav, ctl, responses, setup_users, xml

ANN = "ann@dav.test"
BOB = "bob@dav.test"
C = "urn:ietf:params:xml:ns:caldav"
HOME = f"/dav/calendars/{ANN}/"
CAL = HOME + "work/"


@pytest.fixture
def dav(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann", "bob")
    a = Dav(d, ANN)
    st, _, data = a.request(
        "MKCALENDAR", CAL,
        '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        "<D:set><D:prop><D:displayname>Work</D:displayname></D:prop></D:set></C:mkcalendar>")
    assert st == 201, data
    yield d, a, Dav(d, BOB)
    a.close()


def expand(c, path, inner):
    body = f'<?xml version="1.0"?><D:expand-property xmlns:D="DAV:">{inner}</D:expand-property>'
    return c.request("REPORT", path, body, {"Depth": "0"})


def props_of(resp):
    """{tag: (status, element)} of one D:response element."""
    out = {}
    for ps in resp.findall("D:propstat", NS):
        for p in ps.find("D:prop", NS):
            out[p.tag] = (ps.find("D:status", NS).text, p)
    return out


def href(resp):
    return resp.find("D:href", NS).text.replace("%40", "@")


def top(data):
    rs = xml(data).findall("D:response", NS)
    assert len(rs) == 1, data
    return rs[0]


def test_expand_on_collection_and_home(dav):
    _, a, _ = dav
    # on a collection: its owner described with the principal's properties
    st, _, data = expand(a, CAL, '<D:property name="displayname"/>'
                                 '<D:property name="owner"><D:property name="displayname"/>'
                                 f'<D:property name="calendar-user-address-set" namespace="{C}"/>'
                                 '</D:property>')
    assert st == 207, data
    r = top(data)
    assert href(r) == CAL
    p = props_of(r)
    assert p["{DAV:}displayname"][1].text == "Work"
    owner = p["{DAV:}owner"]
    assert "200" in owner[0]
    inner = owner[1].findall("D:response", NS)
    assert [href(x) for x in inner] == [f"/dav/principals/{ANN}/"]
    ip = props_of(inner[0])
    assert ip["{DAV:}displayname"][1].text == ANN
    cuas = [h.text for h in ip[f"{{{C}}}calendar-user-address-set"][1].findall("D:href", NS)]
    assert f"mailto:{ANN}" in cuas
    # without nested properties a value stays as it is (a DAV:href)
    st, _, data = expand(a, HOME, '<D:property name="owner"/>')
    assert st == 207
    p = props_of(top(data))
    assert href(p["{DAV:}owner"][1]) == f"/dav/principals/{ANN}/"
    assert p["{DAV:}owner"][1].find("D:response", NS) is None


def test_expand_recursive_principal_home_collection(dav):
    _, a, _ = dav
    # principal -> principal-URL -> calendar-home-set -> the home, described
    st, _, data = expand(
        a, f"/dav/principals/{ANN}/",
        '<D:property name="principal-URL">'
        f'<D:property name="calendar-home-set" namespace="{C}">'
        '<D:property name="resourcetype"/><D:property name="owner"/></D:property>'
        '</D:property><D:property name="no-such-prop"/>')
    assert st == 207, data
    p = props_of(top(data))
    assert "404" in p["{DAV:}no-such-prop"][0]
    lvl1 = p["{DAV:}principal-URL"][1].findall("D:response", NS)
    assert [href(x) for x in lvl1] == [f"/dav/principals/{ANN}/"]
    hs = props_of(lvl1[0])[f"{{{C}}}calendar-home-set"]
    lvl2 = hs[1].findall("D:response", NS)
    assert [href(x) for x in lvl2] == [HOME]
    hp = props_of(lvl2[0])
    assert hp["{DAV:}resourcetype"][1].find("D:collection", NS) is not None
    assert href(hp["{DAV:}owner"][1]) == f"/dav/principals/{ANN}/"


def test_expand_access_and_errors(dav):
    _, a, b = dav
    # bob reads ann's principal, but her calendar home is not his to describe
    st, _, data = expand(b, f"/dav/principals/{ANN}/",
                         f'<D:property name="calendar-home-set" namespace="{C}">'
                         '<D:property name="displayname"/></D:property>')
    assert st == 207, data
    hs = props_of(top(data))[f"{{{C}}}calendar-home-set"][1]
    (r,) = hs.findall("D:response", NS)
    assert href(r) == HOME and "404" in r.find("D:status", NS).text
    assert r.find("D:propstat", NS) is None
    # nor her collection itself
    assert expand(b, CAL, '<D:property name="displayname"/>')[0] == 403
    # a property element without a name; something that is not a property
    assert expand(a, CAL, '<D:property/>')[0] == 400
    assert expand(a, CAL, '<D:prop/>')[0] == 400
    # missing collection; objects have no expand-property
    assert expand(a, HOME + "nope/", '<D:property name="displayname"/>')[0] == 404
    ev = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:x1\r\n"
          "DTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nSUMMARY:s\r\n"
          "END:VEVENT\r\nEND:VCALENDAR\r\n")
    assert a.request("PUT", CAL + "x.ics", ev, {"Content-Type": "text/calendar"})[0] == 201
    assert expand(a, CAL + "x.ics", '<D:property name="getetag"/>')[0] == 403
    # supported-report-set advertises it on the collection
    body = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:supported-report-set/>'
            '</D:prop></D:propfind>')
    st, _, data = a.request("PROPFIND", CAL, body, {"Depth": "0"})
    srs = responses(data)[CAL]["{DAV:}supported-report-set"][1]
    assert srs.find(".//D:expand-property", NS) is not None
    b.close()


def test_expand_limits(dav):
    _, a, _ = dav
    # nesting deeper than 4 levels: the deepest values come back unexpanded
    inner = '<D:property name="displayname"/>'
    for _ in range(6):
        inner = f'<D:property name="principal-URL">{inner}</D:property>'
    st, _, data = expand(a, f"/dav/principals/{ANN}/", inner)
    assert st == 207, data
    depth = 0
    node = top(data)
    while True:
        pu = props_of(node).get("{DAV:}principal-URL")
        if pu is None:
            break
        nxt = pu[1].find("D:response", NS)
        if nxt is None:
            assert pu[1].find("D:href", NS) is not None
            break
        depth += 1
        node = nxt
    assert depth == 3


CR = "urn:ietf:params:xml:ns:carddav"


def test_principal_address_from_gal(dav):
    d, a, _ = dav
    body = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">'
            '<D:prop><CR:principal-address/></D:prop></D:propfind>')
    # no GAL yet: no card, no property
    st, _, data = a.request("PROPFIND", f"/dav/principals/{BOB}/", body, {"Depth": "0"})
    assert st == 207
    assert "404" in responses(data)[f"/dav/principals/{BOB}/"][f"{{{CR}}}principal-address"][0]
    ctl(d, "user", "set", BOB, "--name", "Bob Jones")
    ctl(d, "addressbook", "gal-sync")
    st, _, data = a.request("PROPFIND", f"/dav/principals/{BOB}/", body, {"Depth": "0"})
    pa = responses(data)[f"/dav/principals/{BOB}/"][f"{{{CR}}}principal-address"]
    assert "200" in pa[0], data
    card = pa[1].find("D:href", NS).text
    # in the requester's view of the GAL, and it is bob's card
    assert card.replace("%40", "@").startswith(f"/dav/addressbooks/{ANN}/gal/")
    st, _, vcf = a.request("GET", card)
    assert st == 200 and b"FN:Bob Jones" in vcf and BOB.encode() in vcf
    # through expand-property too: the card described
    st, _, data = expand(a, f"/dav/principals/{BOB}/",
                         f'<D:property name="principal-address" namespace="{CR}">'
                         '<D:property name="getetag"/></D:property>')
    assert st == 207, data
    # a card is an object: not described, a 404 response for it
    (r,) = props_of(top(data))[f"{{{CR}}}principal-address"][1].findall("D:response", NS)
    assert r.find("D:href", NS).text == card and "404" in r.find("D:status", NS).text


def search(c, prop, match, test=None):
    body = (f'<?xml version="1.0"?><D:principal-property-search xmlns:D="DAV:" xmlns:C="{C}"'
            + (f' test="{test}"' if test else "") + ">"
            f"<D:property-search><D:prop>{prop}</D:prop><D:match>{match}</D:match>"
            "</D:property-search><D:prop><D:displayname/><C:calendar-user-type/></D:prop>"
            "</D:principal-property-search>")
    st, _, data = c.request("REPORT", "/dav/principals/", body, {"Depth": "0"})
    assert st == 207, data
    return {h: p[f"{{{C}}}calendar-user-type"][1].text for h, p in responses(data).items()}


def test_principal_search_groups_and_resources(dav):
    d, a, _ = dav
    ctl(d, "group", "add", "boardies@dav.test", "--name", "Board Members")
    ctl(d, "resource", "add", "boardroom@dav.test", "--name", "Board Room")
    ctl(d, "resource", "add", "beamer@dav.test", "--kind", "equipment", "--name", "Board Beamer")
    # by name: the group, the room and the equipment, each with its type
    assert search(a, "<D:displayname/>", "board") == {
        "/dav/principals/boardies@dav.test/": "GROUP",
        "/dav/principals/boardroom@dav.test/": "ROOM",
        "/dav/principals/beamer@dav.test/": "RESOURCE",
    }
    # by address a group too; people stay INDIVIDUAL
    assert search(a, "<C:calendar-user-address-set/>", "mailto:boardies@") == {
        "/dav/principals/boardies@dav.test/": "GROUP"}
    assert search(a, "<D:displayname/>", "ann@") == {f"/dav/principals/{ANN}/": "INDIVIDUAL"}
    # by calendar-user-type (case-insensitive), alone or with a name
    assert set(search(a, "<C:calendar-user-type/>", "room")) == {
        "/dav/principals/boardroom@dav.test/"}
    assert set(search(a, "<C:calendar-user-type/>", "INDIVIDUAL")) == {
        f"/dav/principals/{ANN}/", f"/dav/principals/{BOB}/"}
    assert search(a, "<C:calendar-user-type/>", "KIOSK") == {}
    # a group member-set names principals that expand-property describes
    st, _, data = expand(a, "/dav/principals/boardies@dav.test/",
                         '<D:property name="displayname"/>'
                         f'<D:property name="calendar-user-type" namespace="{C}"/>')
    assert st == 207, data
    p = props_of(top(data))
    assert p[f"{{{C}}}calendar-user-type"][1].text == "GROUP"


def test_expand_proxy_members_with_groups(dav):
    """Apple reads a proxy principal's group-member-set with expand-property:
    accounts and groups among the members are described."""
    d, a, b = dav
    ctl(d, "group", "add", "assistants@dav.test", "--name", "Assistants")
    pw = f"/dav/principals/{ANN}/calendar-proxy-write/"
    body = ('<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
            f'<D:group-member-set><D:href>/dav/principals/{BOB}/</D:href>'
            '<D:href>/dav/principals/assistants@dav.test/</D:href>'
            '</D:group-member-set></D:prop></D:set></D:propertyupdate>')
    st, _, data = a.request("PROPPATCH", pw, body)
    assert st == 207 and "200" in responses(data)[pw]["{DAV:}group-member-set"][0], data
    st, _, data = expand(a, pw, '<D:property name="group-member-set">'
                                '<D:property name="displayname"/>'
                                f'<D:property name="calendar-user-type" namespace="{C}"/>'
                                '</D:property>')
    assert st == 207, data
    gms = props_of(top(data)).get("{DAV:}group-member-set")
    assert gms is not None and "200" in gms[0], data
    got = {}
    for r in gms[1].findall("D:response", NS):
        p = props_of(r)
        got[href(r)] = p[f"{{{C}}}calendar-user-type"][1].text if p else \
            r.find("D:status", NS).text
    assert got[f"/dav/principals/{BOB}/"] == "INDIVIDUAL"
    assert got["/dav/principals/assistants@dav.test/"] == "GROUP"
    assert len(got) == 2
    # bob, a delegate, expands his calendar-proxy-write-for to ann
    st, _, data = expand(b, f"/dav/principals/{BOB}/",
                         '<D:property name="calendar-proxy-write-for" '
                         'namespace="http://calendarserver.org/ns/">'
                         '<D:property name="displayname"/></D:property>')
    assert st == 207, data
    pwf = props_of(top(data))["{http://calendarserver.org/ns/}calendar-proxy-write-for"][1]
    assert [href(r) for r in pwf.findall("D:response", NS)] == [f"/dav/principals/{ANN}/"]
