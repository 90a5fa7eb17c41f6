"""CardDAV (issue 20 item 3) with raw exchanges: discovery and the default
book, PUT preconditions answered 403 with the named element (nothing
stored), GET and address-data negotiated between vCard 3.0 and 4.0,
addressbook-query filters (collations, match types, param-filter,
is-not-defined, anyof/allof, negate, limit), multiget with hrefs that are
not the user's, and cairnctl addressbook import/export/list."""
import re

import pytest

from carddav_util import (CR, NS_ALL, address_data, book, multiget, names, put, query, vcard3,
                          vcard4)
from dav_util import Dav, ctl, propfind, responses, setup_users, xml

ANN = "ann@dav.test"
BOB = "bob@dav.test"
APPLE = (open(__file__.rsplit("/", 2)[0] + "/unit/data/vcard/apple-contact.vcf", "rb").read()
         .decode())


@pytest.fixture
def dav(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"http": {"dav_max_resource_size": "8k"}})
    setup_users(d, "ann", "bob")
    return d


def test_discovery_and_default_book(dav):
    c = Dav(dav, ANN)
    st, h, _ = c.request("OPTIONS", "/dav/", auth=False)
    assert "addressbook" in [x.strip() for x in h["dav"].split(",")]
    st, _, body = propfind(c, f"/dav/principals/{ANN}/",
                           f'<CR:addressbook-home-set xmlns:CR="{CR}"/>')
    r = responses(body)[f"/dav/principals/{ANN}/"]
    assert r[f"{{{CR}}}addressbook-home-set"][1].find("D:href", NS_ALL).text == \
        "/dav/addressbooks/ann@dav.test/"
    # the home lists the default book (made at first use) and the GAL
    st, _, body = propfind(c, f"/dav/addressbooks/{ANN}/",
                           f'<D:resourcetype/><D:displayname/><D:current-user-privilege-set/>'
                           f'<CR:supported-address-data xmlns:CR="{CR}"/>'
                           f'<CR:max-resource-size xmlns:CR="{CR}"/>', depth="1")
    assert st == 207
    r = responses(body)
    default, gal = r[book(ANN)], r[book(ANN, "gal")]
    for coll in (default, gal):
        assert coll["{DAV:}resourcetype"][1].find("CR:addressbook", NS_ALL) is not None
    assert default["{DAV:}displayname"][1].text == "Contacts"
    types = [(e.get("content-type"), e.get("version"))
             for e in default[f"{{{CR}}}supported-address-data"][1]]
    assert types == [("text/vcard", "3.0"), ("text/vcard", "4.0")]
    assert default[f"{{{CR}}}max-resource-size"][1].text == "8192"
    privs = [p[0].tag for p in gal["{DAV:}current-user-privilege-set"][1]]
    assert privs == ["{DAV:}read", "{DAV:}read-current-user-privilege-set"]
    assert "{DAV:}write" in [p[0].tag for p in default["{DAV:}current-user-privilege-set"][1]]
    # extended MKCOL makes another address book
    body = ('<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:CR="' + CR + '"><D:set><D:prop>'
            '<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>'
            '<D:displayname>Work</D:displayname>'
            '<CR:addressbook-description>Colleagues</CR:addressbook-description>'
            '</D:prop></D:set></D:mkcol>')
    assert c.request("MKCOL", book(ANN, "work"), body)[0] == 201
    st, _, body = propfind(c, book(ANN, "work"),
                           f'<D:resourcetype/><CR:addressbook-description xmlns:CR="{CR}"/>')
    r = responses(body)[book(ANN, "work")]
    assert r["{DAV:}resourcetype"][1].find("CR:addressbook", NS_ALL) is not None
    assert r[f"{{{CR}}}addressbook-description"][1].text == "Colleagues"
    c.close()


def test_put_get_and_negotiation(dav):
    c = Dav(dav, ANN)
    path = book(ANN) + "apple.vcf"
    st, h, _ = put(c, path, APPLE)
    assert st == 201 and h["etag"].startswith('"')
    etag = h["etag"]
    # as stored, byte for byte
    st, h, data = c.request("GET", path)
    assert st == 200 and data.decode() == APPLE and h["etag"] == etag
    assert h["content-type"].startswith("text/vcard")
    # 4.0 on request
    st, h, data = c.request("GET", path, headers={"Accept": "text/vcard; version=4.0"})
    text = data.decode()
    assert st == 200 and "version=4.0" in h["content-type"] and "accept" in h["vary"].lower()
    assert text.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n")
    assert "item1.EMAIL;type=INTERNET;PREF=1:johnny@example.com" in text
    assert "BDAY:--0412" in text and "PHOTO:data:image/jpeg;base64,/9j/" in text
    assert "X-ABUID:12345678-ABCD-4EF0-1234-567890ABCDEF:ABPerson" in text  # kept
    # a 4.0 card, read back as 3.0
    p4 = book(ANN) + "group.vcf"
    card = vcard4("grp-1", "Friends", extra="KIND:group\r\nMEMBER:urn:uuid:"
                  "0E5C5A0C-2D7C-4B55-8E5C-0123456789AB\r\n")
    assert put(c, p4, card)[0] == 201
    st, h, data = c.request("GET", p4, headers={"Accept": "text/vcard;version=3.0"})
    text = data.decode()
    assert "VERSION:3.0" in text and "X-ADDRESSBOOKSERVER-KIND:group" in text
    assert "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:0E5C5A0C" in text and "\r\nN:;;;;\r\n" in text
    # address-data in a multiget: a version and a property subset
    st, _, body = multiget(c, book(ANN), [path, p4],
                           '<CR:address-data version="4.0"><CR:prop name="FN"/>'
                           '<CR:prop name="EMAIL" novalue="yes"/></CR:address-data>')
    ad = address_data(body)
    assert ad["apple.vcf"] == ("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Johnny Appleseed\r\n"
                               "item1.EMAIL;type=INTERNET;PREF=1:\r\n"
                               "EMAIL;type=INTERNET;type=WORK:\r\nEND:VCARD\r\n")
    assert ad["group.vcf"].startswith("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Friends")
    # an unsupported conversion is refused for that property only
    st, _, body = multiget(c, book(ANN), [path], '<D:getetag/><CR:address-data version="2.1"/>')
    r = responses(body)[path]
    assert "403" in r[f"{{{CR}}}address-data"][0] and "200" in r["{DAV:}getetag"][0]
    # If-Match on a replacement, then the new ETag
    st, h, _ = put(c, path, APPLE.replace("Johnny Appleseed", "John Appleseed"),
                   headers={"If-Match": etag})
    assert st == 204 and h["etag"] != etag
    assert put(c, path, APPLE, headers={"If-Match": etag})[0] == 412
    c.close()


def count(c, user, name="default"):
    st, _, body = propfind(c, book(user, name), "<D:getetag/>", depth="1")
    return len(responses(body)) - 1


def precondition(resp, name):
    st, _, body = resp
    assert st == 403, body
    return xml(body).find(f"CR:{name}", NS_ALL) is not None or \
        xml(body).find(f"D:{name}", NS_ALL) is not None


def test_put_preconditions(dav):
    c = Dav(dav, ANN)
    base = book(ANN)
    assert precondition(put(c, base + "x.vcf", vcard3("u1", "A B"), ctype="text/calendar"),
                        "supported-address-data")
    assert precondition(put(c, base + "x.vcf", "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:x\r\n"
                            "END:VCARD\r\n"), "supported-address-data")
    assert precondition(put(c, base + "x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\n"),
                        "valid-address-data")
    assert precondition(put(c, base + "x.vcf", vcard4("", "No Uid").replace("UID:\r\n", "")),
                        "valid-address-data")
    assert precondition(put(c, base + "x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:n\r\n"
                            "FN:No N\r\nEND:VCARD\r\n"), "valid-address-data")
    assert precondition(put(c, base + "x.vcf", vcard3("u1", "A B") + vcard3("u2", "C D")),
                        "valid-address-data")
    assert precondition(put(c, base + "x.vcf", vcard3("u1", "A B").replace("FN:A B",
                            "FN:A\x01B")), "valid-address-data")
    big = vcard3("big", "Big Card", extra="NOTE:" + "x" * 9000 + "\r\n")
    assert precondition(put(c, base + "x.vcf", big), "max-resource-size")
    assert count(c, ANN) == 0
    # UID clash names the resource holding the UID
    assert put(c, base + "one.vcf", vcard3("same", "One Person"))[0] == 201
    st, _, body = put(c, base + "two.vcf", vcard3("same", "Two Person"))
    assert st == 403
    href = xml(body).find("CR:no-uid-conflict/D:href", NS_ALL)
    assert href is not None and href.text.endswith("/default/one.vcf")
    # replacing the same resource with the same UID is fine
    assert put(c, base + "one.vcf", vcard3("same", "One Person Again"))[0] == 204
    assert count(c, ANN) == 1
    # another user's book: refused, and bob's hrefs are not readable
    assert precondition(put(c, book(BOB) + "x.vcf", vcard3("u9", "Evil Eve")), "need-privileges")
    b = Dav(dav, BOB)
    assert put(b, book(BOB) + "bob.vcf", vcard3("bob-1", "Bob Own"))[0] == 201
    st, _, body = multiget(c, book(ANN), [book(BOB) + "bob.vcf", base + "one.vcf",
                                          base + "../../x.vcf"])
    r = responses(body)
    assert "403" in r[book(BOB) + "bob.vcf"]["__status__"]
    assert "200" in r[base + "one.vcf"][f"{{{CR}}}address-data"][0]
    assert c.request("GET", book(BOB) + "bob.vcf")[0] == 403
    b.close()
    c.close()


CARDS = {
    "elodie": vcard3("elodie", "\u00c9lodie Dupont", "elodie@Example.COM",
                     "TEL;TYPE=CELL:+33 6 12 34 56 78\r\nEMAIL;TYPE=HOME:elo@home.example\r\n"),
    "ann": vcard4("ann", "Ann Smith", "ann@example.test", "NICKNAME:Annie\r\n"),
    "bob": vcard4("bob", "Bob Jones", extra="TEL;TYPE=work:+1 555 0102\r\n"),
    "zoe": vcard3("zoe", "Zo\u00eb Lane", "zoe@other.test", "ORG:Acme\\, Inc.\r\n"),
}


def tm(prop, text, match="contains", coll=None, negate=False, test=None, params=""):
    c = f' collation="{coll}"' if coll else ""
    n = ' negate-condition="yes"' if negate else ""
    t = f' test="{test}"' if test else ""
    return (f'<CR:prop-filter name="{prop}"{t}>{params}<CR:text-match match-type="{match}"{c}{n}>'
            f'{text}</CR:text-match></CR:prop-filter>')


def filt(*pfs, test=None):
    t = f' test="{test}"' if test else ""
    return f"<CR:filter{t}>{''.join(pfs)}</CR:filter>"


def test_addressbook_query(dav):
    c = Dav(dav, ANN)
    for name, card in CARDS.items():
        assert put(c, book(ANN) + f"{name}.vcf", card)[0] == 201

    def q(f, **kw):
        st, _, body = query(c, book(ANN), f, **kw)
        assert st == 207, body
        return [n[:-4] for n in names(body)]

    assert q(filt(tm("EMAIL", "example.com"))) == ["elodie"]
    assert q(filt(tm("FN", "\u00e9lodie", "starts-with"))) == ["elodie"]
    assert q(filt(tm("FN", "E\u0301LODIE", "starts-with"))) == ["elodie"]   # decomposed
    assert q(filt(tm("FN", "\u00e9lodie", "starts-with", "i;ascii-casemap"))) == []
    assert q(filt(tm("FN", "smith", "ends-with", "i;octet"))) == []
    assert q(filt(tm("FN", "Smith", "ends-with", "i;octet"))) == ["ann"]
    assert q(filt(tm("EMAIL", "ANN@EXAMPLE.TEST", "equals"))) == ["ann"]
    assert q(filt(tm("NICKNAME", "nni"))) == ["ann"]
    assert q(filt(tm("ORG", "acme, inc.", "equals"))) == ["zoe"]
    assert q(filt(tm("TEL", "555"))) == ["bob"]
    # negate: every card whose FN does not contain "o"
    assert q(filt(tm("FN", "o", negate=True))) == ["ann"]
    # anyof (the default) and allof over prop-filters
    assert q(filt(tm("FN", "bob"), tm("EMAIL", "other.test"))) == ["bob", "zoe"]
    assert q(filt(tm("FN", "bob"), tm("EMAIL", "other.test"), test="allof")) == []
    assert q(filt(tm("FN", "o"), tm("EMAIL", "other.test"), test="allof")) == ["zoe"]
    # param-filter: the HOME email of elodie, within the same property
    home = '<CR:param-filter name="TYPE"><CR:text-match match-type="equals">home' \
           '</CR:text-match></CR:param-filter>'
    assert q(filt(tm("EMAIL", "home.example", test="allof", params=home))) == ["elodie"]
    assert q(filt(tm("EMAIL", "Example.COM", test="allof", params=home))) == []
    # is-not-defined, and existence alone
    assert q(filt('<CR:prop-filter name="EMAIL"><CR:is-not-defined/></CR:prop-filter>')) == \
        ["bob"]
    assert q(filt('<CR:prop-filter name="TEL"/>')) == ["bob", "elodie"]
    assert q(filt()) == ["ann", "bob", "elodie", "zoe"]
    # address-data in the result, converted
    st, _, body = query(c, book(ANN), filt(tm("UID", "zoe", "equals")),
                        props='<CR:address-data version="4.0"/>')
    assert "VERSION:4.0" in address_data(body)["zoe.vcf"]
    # limit: two results, then the 507 response for the request-URI
    st, _, body = query(c, book(ANN), filt(), extra="<CR:limit><CR:nresults>2</CR:nresults>"
                        "</CR:limit>")
    r = responses(body)
    assert len([h for h in r if "__status__" not in r[h]]) == 2
    assert "507" in r[book(ANN)]["__status__"]
    assert xml(body).find(".//D:number-of-matches-within-limits", NS_ALL) is not None
    # errors
    st, _, body = query(c, book(ANN), filt(tm("FN", "x", coll="i;ascii-numeric")))
    assert st == 403 and xml(body).find("CR:supported-collation", NS_ALL) is not None
    st, _, body = query(c, book(ANN), filt(tm("FN", "x", match="regex")))
    assert st == 403 and xml(body).find("CR:supported-filter", NS_ALL) is not None
    st, _, body = query(c, book(ANN), "")
    assert st == 403 and xml(body).find("CR:supported-filter", NS_ALL) is not None
    # a query on one resource
    st, _, body = query(c, book(ANN) + "ann.vcf", filt(), depth="0")
    assert st == 207 and names(body) == ["ann.vcf"]
    c.close()


def test_ctl_import_export_list(dav, tmp_path):
    data_dir = __file__.rsplit("/", 2)[0] + "/unit/data/vcard/"
    vcf = b"".join(open(data_dir + f, "rb").read() for f in
                   ("apple-contact.vcf", "google.vcf", "davx5.vcf", "group-v4.vcf"))
    f = tmp_path / "in.vcf"
    f.write_bytes(vcf)
    r = ctl(dav, "addressbook", "import", "--user", ANN, str(f))
    assert "imported 4 cards into default: 4 added, 0 replaced" in r.stdout
    # google.vcf has no UID: it got one; a second import replaces by UID
    r = ctl(dav, "addressbook", "import", "--user", ANN, str(f))
    assert "1 added, 3 replaced" in r.stdout   # the UID-less card is new again
    r = ctl(dav, "addressbook", "list", "--user", ANN)
    rows = [line.split("\t") for line in r.stdout.splitlines()[1:]]
    assert [x[:3] for x in rows] == [["default", "addressbook", "5"]]
    out = ctl(dav, "addressbook", "export", "--user", ANN).stdout
    assert out.count("BEGIN:VCARD") == 5 and "Johnny Appleseed" in out
    # the exported apple card is the imported one, line for line
    apple = open(data_dir + "apple-contact.vcf", "rb").read().decode()
    assert apple.replace("\r\n", "\n") in out.replace("\r\n", "\n")
    # one bad card refuses the whole file
    f.write_bytes(vcf + b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad\r\nN:x;;;;\r\nEND:VCARD\r\n")
    r = ctl(dav, "addressbook", "import", "--user", ANN, str(f), check=False)
    assert r.returncode == 1 and "card 5: FN is required" in r.stderr
    assert "nothing imported" in r.stderr
    r = ctl(dav, "addressbook", "list", "--user", ANN)
    assert "\t5\t" in r.stdout
    # the cards count against the account's quota: a small one refuses more
    ctl(dav, "user", "set", ANN, "--quota", "1000")
    f.write_bytes(vcard3("q1", "Quota Person", extra="NOTE:" + "q" * 2000 + "\r\n").encode())
    r = ctl(dav, "addressbook", "import", "--user", ANN, str(f), check=False)
    assert r.returncode == 1 and "\t5\t" in ctl(dav, "addressbook", "list", "--user", ANN).stdout
    ctl(dav, "user", "set", ANN, "--quota", "0")
    # the imported cards are served over CardDAV
    c = Dav(dav, ANN)
    st, _, body = query(c, book(ANN), filt(tm("FN", "grace", "starts-with")))
    assert len(names(body)) == 2
    c.close()
