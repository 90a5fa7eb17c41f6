"""The global address list (issue 20 item 4): the directory's users, groups
(with members) and resources as one read-only address book in every user's
home, from the sql directory (`cairnctl addressbook gal-sync`) and from the
test slapd through the [directory] gal_* mapping (`cairnctl directory
sync`), searchable with addressbook-query, synced incrementally, and
refusing every write with 403 DAV:need-privileges."""
import re

import pytest

from carddav_util import CR, NS_ALL, address_data, book, multiget, names, put, query, vcard3
from dav_util import Dav, ctl, propfind, responses, setup_users, xml
from slapd_fixture import slapd  # noqa: F401

ANN = "ann@dav.test"
BOB = "bob@dav.test"


@pytest.fixture
def sqldir(cairnd_factory, pg):
    pg.reset_db()
    # gal-sync by hand below: no automatic refresh in between
    d = cairnd_factory({"directory": {"gal_refresh_delay": "1h"}})
    setup_users(d, "ann", "bob", "carol")
    ctl(d, "user", "set", ANN, "--name", "Ann Smith", "--phone", "+1 555 0101",
        "--title", "Sales Manager", "--department", "Sales")
    ctl(d, "user", "set", BOB, "--name", "Bob Jones")
    ctl(d, "group", "add", "sales@dav.test", "--name", "Sales Team")
    ctl(d, "group", "member", "add", "sales@dav.test", ANN)
    ctl(d, "group", "member", "add", "sales@dav.test", "partner@remote.test")
    return d


def gal(user):
    return book(user, "gal")


def sync_report(c, path, token):
    body = ('<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:">'
            f'<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>'
            '<D:prop><D:getetag/></D:prop></D:sync-collection>')
    st, _, data = c.request("REPORT", path, body)
    assert st == 207, data
    return data, xml(data).find("D:sync-token", NS_ALL).text


def test_gal_from_sql_directory(sqldir):
    d = sqldir
    r = ctl(d, "addressbook", "gal-sync")
    assert "gal: 4 entries: 4 added, 0 changed, 0 removed" in r.stdout
    c = Dav(d, ANN)
    st, _, body = propfind(c, gal(ANN), "<D:getetag/><D:displayname/>", depth="1")
    r = responses(body)
    assert r[gal(ANN)]["{DAV:}displayname"][1].text == "Global Address List"
    objs = sorted(h for h in r if h != gal(ANN))
    assert len(objs) == 4
    # every user sees the same list
    b = Dav(d, BOB)
    st, _, body2 = propfind(b, gal(BOB), "<D:getetag/>", depth="1")
    assert len(responses(body2)) == 5
    # search it
    st, _, body = query(c, gal(ANN), '<CR:filter><CR:prop-filter name="EMAIL">'
                        '<CR:text-match match-type="starts-with">bob@</CR:text-match>'
                        '</CR:prop-filter></CR:filter>', props="<CR:address-data/>")
    cards = address_data(body)
    assert len(cards) == 1
    bob = next(iter(cards.values()))
    assert "FN:Bob Jones" in bob and "EMAIL;TYPE=work;PREF=1:bob@dav.test" in bob
    st, _, body = query(c, gal(ANN), '<CR:filter><CR:prop-filter name="FN">'
                        '<CR:text-match>ann smith</CR:text-match></CR:prop-filter></CR:filter>',
                        props="<CR:address-data/>")
    ann = next(iter(address_data(body).values()))
    assert "TEL;TYPE=work,voice:+1 555 0101" in ann and "TITLE:Sales Manager" in ann
    assert "ORG:;Sales" in ann
    ann_uid = re.search(r"UID:(\S+)", ann).group(1)
    # the group, with its members (a local one by UID, a remote one by address)
    st, _, body = query(c, gal(ANN), '<CR:filter><CR:prop-filter name="KIND">'
                        '<CR:text-match match-type="equals">group</CR:text-match>'
                        '</CR:prop-filter></CR:filter>', props="<CR:address-data/>")
    group = next(iter(address_data(body).values()))
    assert "FN:Sales Team" in group
    assert f"MEMBER:urn:uuid:{ann_uid}" in group and "MEMBER:mailto:partner@remote.test" in group
    # Apple's 3.0 form of the group
    st, _, body = query(c, gal(ANN), '<CR:filter><CR:prop-filter name="KIND">'
                        '<CR:text-match match-type="equals">group</CR:text-match>'
                        '</CR:prop-filter></CR:filter>',
                        props='<CR:address-data version="3.0"/>')
    assert "X-ADDRESSBOOKSERVER-KIND:group" in next(iter(address_data(body).values()))

    # read-only: every write is refused, nothing changes
    obj = objs[0]
    for resp in (put(c, gal(ANN) + "new.vcf", vcard3("n1", "New Person")),
                 put(c, obj, vcard3("n2", "Over Write")),
                 c.request("DELETE", obj), c.request("DELETE", gal(ANN)),
                 c.request("PROPPATCH", gal(ANN), '<?xml version="1.0"?><D:propertyupdate '
                           'xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname>'
                           '</D:prop></D:set></D:propertyupdate>'),
                 c.request("MOVE", obj, headers={"Destination": book(ANN) + "moved.vcf"})):
        st, _, data = resp
        assert st == 403 and xml(data).find("D:need-privileges", NS_ALL) is not None, data
    # copying an entry into one's own book is fine; into the GAL is not
    assert c.request("COPY", obj, headers={"Destination": book(ANN) + "copy.vcf"})[0] == 201
    assert c.request("COPY", book(ANN) + "copy.vcf",
                     headers={"Destination": gal(ANN) + "copy.vcf"})[0] == 403
    st, _, body = propfind(c, gal(ANN), "<D:getetag/>", depth="1")
    before = {h: p["{DAV:}getetag"][1].text for h, p in responses(body).items() if h != gal(ANN)}
    assert len(before) == 4

    # a change in the directory: one entry changes, the others keep their ETags
    _, token = sync_report(c, gal(ANN), "")
    ctl(d, "user", "set", BOB, "--name", "Robert Jones")
    r = ctl(d, "addressbook", "gal-sync")
    assert "1 changed, 0 removed" in r.stdout
    data, token2 = sync_report(c, gal(ANN), token)
    changed = [h for h in responses(data)]
    assert len(changed) == 1 and token2 != token
    st, _, body = propfind(c, gal(ANN), "<D:getetag/>", depth="1")
    after = {h: p["{DAV:}getetag"][1].text for h, p in responses(body).items() if h != gal(ANN)}
    assert [h for h in before if before[h] != after[h]] == changed
    # a removal shows up as a 404 in the sync
    ctl(d, "user", "del", "carol@dav.test")
    assert "1 removed" in ctl(d, "addressbook", "gal-sync").stdout
    data, _ = sync_report(c, gal(ANN), token2)
    assert ["404" in p["__status__"] for p in responses(data).values()] == [True]
    # unchanged directory: nothing changes
    assert "0 added, 0 changed, 0 removed" in ctl(d, "addressbook", "gal-sync").stdout
    # cairnctl sees it too
    r = ctl(d, "addressbook", "list", "--user", ANN)
    assert "gal\tgal\t3\t" in r.stdout
    assert ctl(d, "addressbook", "export", "--user", ANN, "--book", "gal").stdout \
        .count("BEGIN:VCARD") == 3
    b.close()
    c.close()


JPEG = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8M"


@pytest.fixture
def ldapdir(cairnd_factory, pg, slapd):  # noqa: F811
    pg.reset_db()
    slapd.modify("dn: uid=ann,ou=People,dc=example,dc=test\nchangetype: modify\n"
                 f"add: jpegPhoto\njpegPhoto:: {JPEG}\n-\nadd: mobile\nmobile: +1 555 9999\n\n"
                 "dn: cn=Board Room,ou=Groups,dc=example,dc=test\nchangetype: add\n"
                 "objectClass: room\ncn: Board Room\nroomNumber: 4.12\n"
                 "telephoneNumber: +1 555 0400\n")
    d = cairnd_factory({"directory": slapd.directory_config()})
    yield d
    slapd.modify("dn: uid=ann,ou=People,dc=example,dc=test\nchangetype: modify\n"
                 "delete: jpegPhoto\n-\ndelete: mobile\n")
    slapd.delete("cn=Board Room,ou=Groups,dc=example,dc=test")


def ldap_cards(d, user="ann@example.test", pw="Ann-Secret-1"):
    c = Dav(d, user, password=pw)
    st, _, body = query(c, gal(user), "<CR:filter/>", props="<CR:address-data/>")
    assert st == 207, body
    c.close()
    return {re.search(r"FN:(.*)\r\n", v).group(1): v for v in address_data(body).values()}


def test_gal_from_ldap(ldapdir):
    d = ldapdir
    r = ctl(d, "directory", "sync")
    assert re.search(r"gal: \d+ entries: \d+ added", r.stdout), r.stdout
    cards = ldap_cards(d)
    # users (dave is disabled: not listed), groups, the room
    assert "Dave Brown" not in cards
    ann = cards["Ann Smith"]
    assert "N:Smith;Ann;;;" in ann and "TITLE:Sales Manager" in ann
    assert "TEL;TYPE=work,voice:+1 555 0101" in ann and "TEL;TYPE=cell:+1 555 9999" in ann
    assert "PHOTO:data:image/jpeg;base64,/9j/4AAQ" in ann.replace("\r\n ", "")
    ann_uid = re.search(r"UID:(\S+)", ann).group(1)
    assert re.fullmatch(r"[0-9a-f-]{36}", ann_uid)    # the entryUUID
    sales = cards["sales"]
    assert "KIND:group" in sales and f"MEMBER:urn:uuid:{ann_uid}" in sales
    assert sales.count("MEMBER:") == 2
    eng = cards["engineering"]                         # groupOfUniqueNames
    assert eng.count("MEMBER:") == 1                   # carol; dave is not listed
    room = cards["Board Room"]
    assert "KIND:location" in room and "TEL;TYPE=work,voice:+1 555 0400" in room
    # searchable by the mapped fields
    c = Dav(d, "bob@example.test", password="Bob-Secret-1")
    st, _, body = query(c, gal("bob@example.test"),
                        '<CR:filter><CR:prop-filter name="TEL"><CR:text-match>555 9999'
                        '</CR:text-match></CR:prop-filter></CR:filter>')
    assert len(names(body)) == 1
    c.close()
    # another mapping in cairn.conf: FN from the surname, no photos
    conf = d.conf.read_text().replace("[directory]\n", "[directory]\ngal_attr_fn = sn\n"
                                      "gal_attr_photo =\n", 1)
    d.conf.write_text(conf)
    r = ctl(d, "directory", "sync")
    assert re.search(r"gal: \d+ entries: 0 added, \d+ changed", r.stdout), r.stdout
    cards = ldap_cards(d)
    assert "Smith" in cards and "PHOTO" not in cards["Smith"]
