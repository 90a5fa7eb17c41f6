"""principal-property-search and principal-search-property-set (RFC 3744
9.4, 9.5) over the accounts: clients find attendees by name or address."""
import pytest

from dav_util import NS, Dav, responses, setup_users, xml

ANN = "ann@dav.test"
C = "urn:ietf:params:xml:ns:caldav"


@pytest.fixture
def dav(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory()
    setup_users(d, "ann", "bob", "bobby", "carol")
    return d


def search(c, searches, test=None, path="/dav/principals/"):
    body = (f'<?xml version="1.0"?><D:principal-property-search xmlns:D="DAV:" xmlns:C="{C}"'
            + (f' test="{test}"' if test else "") + ">")
    for prop, match in searches:
        body += (f"<D:property-search><D:prop>{prop}</D:prop><D:match>{match}</D:match>"
                 "</D:property-search>")
    body += ("<D:prop><D:displayname/><C:calendar-user-address-set/></D:prop>"
             "</D:principal-property-search>")
    st, _, data = c.request("REPORT", path, body, {"Depth": "0"})
    return st, data


def test_principal_property_search(dav):
    c = Dav(dav, ANN)
    st, data = search(c, [("<D:displayname/>", "BOB")])
    assert st == 207
    r = responses(data)
    assert set(r) == {"/dav/principals/bob@dav.test/", "/dav/principals/bobby@dav.test/"}
    cuas = r["/dav/principals/bob@dav.test/"][f"{{{C}}}calendar-user-address-set"][1]
    assert "mailto:bob@dav.test" in [h.text for h in cuas.findall("D:href", NS)]
    # By calendar user address (mailto: stripped), from a principal URL too.
    st, data = search(c, [("<C:calendar-user-address-set/>", "mailto:carol@")],
                      path=f"/dav/principals/{ANN}/")
    assert st == 207 and set(responses(data)) == {"/dav/principals/carol@dav.test/"}
    # allof (default) needs both; anyof either.
    both = [("<D:displayname/>", "bob"), ("<C:calendar-user-address-set/>", "bobby")]
    st, data = search(c, both)
    assert set(responses(data)) == {"/dav/principals/bobby@dav.test/"}
    st, data = search(c, [("<D:displayname/>", "carol"), ("<C:calendar-user-address-set/>", "ann@")],
                      test="anyof")
    assert set(responses(data)) == {"/dav/principals/carol@dav.test/",
                                    "/dav/principals/ann@dav.test/"}
    # Nothing matches; an unsearchable property finds nothing; bad test.
    assert responses(search(c, [("<D:displayname/>", "zzz")])[1]) == {}
    assert responses(search(c, [("<D:getetag/>", "bob")])[1]) == {}
    assert search(c, [("<D:displayname/>", "bob")], test="some")[0] == 400
    # LIKE wildcards are plain characters.
    assert responses(search(c, [("<D:displayname/>", "%")])[1]) == {}
    c.close()


def test_principal_search_property_set(dav):
    c = Dav(dav, ANN)
    st, _, data = c.request("REPORT", "/dav/principals/",
                            '<D:principal-search-property-set xmlns:D="DAV:"/>', {"Depth": "0"})
    assert st == 200
    props = [p[0].tag for p in xml(data).findall("D:principal-search-property/D:prop", NS)]
    assert props == ["{DAV:}displayname", f"{{{C}}}calendar-user-address-set",
                     f"{{{C}}}calendar-user-type"]
    c.close()
