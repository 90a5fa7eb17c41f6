"""Helpers for the CardDAV integration tests: vCards in the shapes clients
send, REPORT bodies, and reading address-data out of a multistatus."""
from dav_util import NS, responses

CR = "urn:ietf:params:xml:ns:carddav"
NS_ALL = dict(NS, CR=CR)


def book(user, name="default"):
    return f"/dav/addressbooks/{user}/{name}/"


def vcard3(uid, fn, email=None, extra=""):
    first, _, last = fn.partition(" ")
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{fn}", f"N:{last};{first};;;"]
    if email:
        lines.append(f"EMAIL;TYPE=INTERNET;TYPE=WORK;TYPE=pref:{email}")
    return "\r\n".join(lines) + "\r\n" + extra + "END:VCARD\r\n"


def vcard4(uid, fn, email=None, extra=""):
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"UID:{uid}", f"FN:{fn}"]
    if email:
        lines.append(f"EMAIL;TYPE=work;PREF=1:{email}")
    return "\r\n".join(lines) + "\r\n" + extra + "END:VCARD\r\n"


def put(c, path, card, ctype="text/vcard; charset=utf-8", headers=None):
    h = {"Content-Type": ctype}
    h.update(headers or {})
    return c.request("PUT", path, card, h)


def query(c, path, filt, props="<D:getetag/>", extra="", depth="1"):
    body = ('<?xml version="1.0" encoding="utf-8"?>'
            f'<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="{CR}">'
            f'<D:prop>{props}</D:prop>{filt}{extra}</CR:addressbook-query>')
    return c.request("REPORT", path, body, {"Depth": depth})


def multiget(c, path, hrefs, props="<D:getetag/><CR:address-data/>"):
    h = "".join(f"<D:href>{x}</D:href>" for x in hrefs)
    body = ('<?xml version="1.0" encoding="utf-8"?>'
            f'<CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="{CR}">'
            f'<D:prop>{props}</D:prop>{h}</CR:addressbook-multiget>')
    return c.request("REPORT", path, body, {"Depth": "1"})


def names(body):
    """Object names of the responses with a 200 propstat, sorted."""
    out = []
    for href, props in responses(body).items():
        if "__status__" not in props:
            out.append(href.rstrip("/").rsplit("/", 1)[1])
    return sorted(out)


def address_data(body):
    """{object name: address-data text} of a multistatus."""
    out = {}
    for href, props in responses(body).items():
        p = props.get(f"{{{CR}}}address-data")
        if p is not None:
            out[href.rsplit("/", 1)[1]] = p[1].text or ""
    return out
