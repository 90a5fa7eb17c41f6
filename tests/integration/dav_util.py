"""Helpers for the DAV integration tests: a small raw HTTP/1.1 client over
TLS with Basic auth (keep-alive, every method), XML helpers, and the setup of
a cairnd with a domain and users."""
import base64
import http.client
import ssl
import subprocess
import xml.etree.ElementTree as ET

from conftest import CAIRNCTL

PASSWORD = "dav-secret-1"
NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav", "CS": "http://calendarserver.org/ns/"}


def ctl(d, *args, input=None, check=True):
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], capture_output=True, text=True,
                       input=input, timeout=120)
    if check:
        assert r.returncode == 0, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r


def setup_users(d, *users, domain="dav.test"):
    ctl(d, "domain", "add", domain)
    for u in users:
        ctl(d, "user", "add", f"{u}@{domain}", "--password", PASSWORD)


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Dav:
    """One keep-alive HTTPS connection authenticating as user."""

    def __init__(self, d, user, password=PASSWORD, tls=True):
        self.d = d
        self.user = user
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.tls = tls
        self.conn = None

    def connect(self):
        if self.tls:
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.d.https_port,
                                                    context=tls_ctx(), timeout=30)
        else:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.d.http_port, timeout=30)

    def request(self, method, path, body=None, headers=None, auth=True):
        if self.conn is None:
            self.connect()
        h = {}
        if auth:
            h["Authorization"] = self.auth
        if body is not None and not isinstance(body, bytes):
            body = body.encode()
        if body is not None and "Content-Type" not in (headers or {}):
            h["Content-Type"] = "application/xml; charset=utf-8"
        h.update(headers or {})
        try:
            self.conn.request(method, path, body=body, headers=h)
            r = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.connect()
            self.conn.request(method, path, body=body, headers=h)
            r = self.conn.getresponse()
        data = r.read()
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def close(self):
        if self.conn is not None:
            self.conn.close()


def xml(data):
    return ET.fromstring(data)


def responses(data):
    """{href: {propname-with-ns: (status, element)}} of a multistatus body,
    plus '__status__' for a response with a bare status."""
    out = {}
    root = ET.fromstring(data)
    for resp in root.findall("D:response", NS):
        # hrefs come percent-encoded ('@' as %40); the tests name users with '@'
        href = resp.find("D:href", NS).text.replace("%40", "@")
        props = {}
        st = resp.find("D:status", NS)
        if st is not None:
            props["__status__"] = st.text
        for ps in resp.findall("D:propstat", NS):
            status = ps.find("D:status", NS).text
            for p in ps.find("D:prop", NS):
                props[p.tag] = (status, p)
        out[href] = props
    return out


def propfind(c, path, props, depth="0"):
    body = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" ' \
           'xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/">' \
           f'<D:prop>{props}</D:prop></D:propfind>'
    return c.request("PROPFIND", path, body, {"Depth": depth})


def ics(uid, summary="event", start="20260105T100000Z", end="20260105T110000Z", extra="",
        comp="VEVENT"):
    times = f"DTSTART:{start}\r\nDTEND:{end}\r\n" if comp == "VEVENT" else ""
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn test//EN\r\n"
            f"BEGIN:{comp}\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n{times}"
            f"SUMMARY:{summary}\r\n{extra}END:{comp}\r\nEND:VCALENDAR\r\n")
