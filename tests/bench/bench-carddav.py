#!/usr/bin/python3
"""CardDAV benchmark: PROPFIND Depth 1 on an address book of --contacts
(10,000) vCards, Cairn against Debian's Radicale on the same cards, plus an
addressbook-query REPORT (FN contains a rare string, address-data asked for)
and a full addressbook-multiget of 100 cards. Prints figures and the ratio
Radicale/Cairn (above 1: Cairn is faster); asserts nothing.

The cards: vCard 3.0 in the shapes Apple and DAVx5 write (N, FN, ORG, 1-3
EMAIL and TEL with TYPE parameters, ADR, NOTE, a few with a small inline
PHOTO), generated with a fixed seed. Cairn gets them with `cairnctl
addressbook import`, Radicale as files in its filesystem storage (what it
would have written itself: one .vcf per card, the collection's .Radicale.props).

Both answer over plain HTTP on loopback with one keep-alive connection:
Cairn with Basic auth checked against its yescrypt hash (the DAV session
keeps the login, as for any client), Radicale with auth type "none"
(cheaper for Radicale). The first request on each server also builds what
it caches (Radicale its item cache and ETags); "best" is the best of --runs.

Needs the Debian package radicale and a built tree (a plain build).

    tests/bench/bench-carddav.py [--builddir build] [--contacts 10000] [--runs 5] [--only multiget]
"""
import base64
import http.client
import os
import random
import socket
import subprocess
import sys
import time

import benchlib
from benchlib import PASSWORD

USER = "bench@bench.test"
FIRST = ("Ann Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert "
         "Sybil Trent Victor Walter \u00c9lodie Zo\u00eb J\u00fcrgen").split()
LAST = ("Smith Jones Brown Taylor Wilson Davies Evans Thomas Johnson Roberts Walker Wright "
        "Robinson Thompson White Hughes Edwards Green Hall Wood M\u00fcller Dupont").split()
PROPFIND = ('<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>'
            '<D:getetag/><D:getcontenttype/><D:resourcetype/></D:prop></D:propfind>')
CR = "urn:ietf:params:xml:ns:carddav"


def cards(n, seed=20):
    rnd = random.Random(seed)
    photo = base64.b64encode(bytes(rnd.randrange(256) for _ in range(600))).decode()
    out = []
    for i in range(n):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        uid = f"bench-{i:06d}-{rnd.randrange(1 << 32):08x}"
        lines = ["BEGIN:VCARD", "VERSION:3.0", "PRODID:-//Apple Inc.//iPhone OS 17.2//EN",
                 f"N:{last};{first};;;", f"FN:{first} {last}", f"ORG:Company {i % 97};Dept {i % 7}"]
        for k in range(rnd.randint(1, 3)):
            t = ("WORK", "HOME", "OTHER")[k]
            pref = ";type=pref" if k == 0 else ""
            lines.append(f"item{k + 1}.EMAIL;type=INTERNET;type={t}{pref}:"
                         f"{first.lower()}.{last.lower()}{i}@example{k}.test")
        for k in range(rnd.randint(1, 3)):
            t = ("CELL", "WORK", "HOME")[k]
            lines.append(f"TEL;type={t};type=VOICE:+1 555 {rnd.randrange(10000):04d}")
        lines.append(f"ADR;type=WORK:;;{i} Main Street;Springfield;IL;{60000 + i % 999};USA")
        lines.append(f"NOTE:Contact {i}\\, met at conference {i % 13}")
        if i % 10 == 0:
            body = f"PHOTO;ENCODING=b;TYPE=JPEG:{photo}"
            folded = [body[:75]] + [" " + body[k:k + 74] for k in range(75, len(body), 74)]
            lines.extend(folded)
        if i == n // 2:
            lines.append("NICKNAME:needle-in-haystack")
        lines.append(f"UID:{uid}")
        lines.append("END:VCARD")
        out.append((uid, "\r\n".join(lines) + "\r\n"))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Radicale:
    def __init__(self, base, data):
        self.base = base
        self.port = free_port()
        root = base / "collections" / "collection-root" / "bench" / "contacts"
        root.mkdir(parents=True)
        (root / ".Radicale.props").write_text('{"D:displayname": "Contacts", "tag": "VADDRESSBOOK"}')
        for uid, card in data:
            (root / f"{uid}.vcf").write_bytes(card.encode())
        self.conf = base / "radicale.conf"
        self.conf.write_text(f"[server]\nhosts = 127.0.0.1:{self.port}\nmax_content_length = 100000000\n"
                             f"[auth]\ntype = none\n[rights]\ntype = owner_only\n"
                             f"[storage]\nfilesystem_folder = {base / 'collections'}\n"
                             f"[logging]\nlevel = warning\n")
        self.proc = None
        self.path = "/bench/contacts/"

    def start(self):
        self.proc = subprocess.Popen(["radicale", "--config", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise SystemExit("radicale did not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


class Client:
    def __init__(self, port, user, password):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def request(self, method, path, body, depth="1"):
        headers = {"Authorization": self.auth, "Depth": depth,
                   "Content-Type": "application/xml; charset=utf-8"}
        try:
            self.conn.request(method, path, body=body.encode(), headers=headers)
            r = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # the server closed the idle connection while the other one worked
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1800)
            self.conn.request(method, path, body=body.encode(), headers=headers)
            r = self.conn.getresponse()
        data = r.read()
        if r.status != 207:
            raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
        return data


def measure(client, path, runs, method, body):
    first, best, data = benchlib.first_and_best(runs, lambda: client.request(method, path, body))
    return first, best, data


def main():
    ap = benchlib.argparser()
    ap.add_argument("--contacts", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="",
                    help="run only the requests whose label contains this (e.g. multiget)")
    args = benchlib.parse_args(ap)
    benchlib.require("bench-carddav", ["radicale"], "radicale")
    data = cards(args.contacts)
    query = (f'<?xml version="1.0"?><CR:addressbook-query xmlns:D="DAV:" xmlns:CR="{CR}">'
             '<D:prop><D:getetag/><CR:address-data/></D:prop><CR:filter>'
             '<CR:prop-filter name="NICKNAME"><CR:text-match>needle</CR:text-match>'
             '</CR:prop-filter></CR:filter></CR:addressbook-query>')
    with benchlib.Run("bench-carddav-") as run:
        pg = run.postgres()
        d = run.cairnd(pg, {"http": {"plaintext_auth": "yes",
                                     "dav_max_resource_size": "1M"},
                            "server": {"log_level": "info"}})
        benchlib.create_account(d, USER)
        vcf = run.base / "contacts.vcf"
        vcf.write_bytes("".join(c for _, c in data).encode())
        t0 = time.monotonic()
        benchlib.cairnctl(d, "addressbook", "import", "--user", USER, str(vcf))
        import_s = time.monotonic() - t0
        d.start()
        rad = run.track(Radicale(run.base / "radicale", data)).start()
        benchlib.conditions("bench-carddav", contacts=args.contacts, runs=args.runs,
                            bytes=sum(len(c) for _, c in data),
                            cairn="plain HTTP, Basic auth (yescrypt), keep-alive, "
                                  f"PostgreSQL {benchlib.pg_settings(pg)}",
                            radicale="plain HTTP, auth none, filesystem storage, keep-alive",
                            cairn_import=f"{import_s:.1f}s for {args.contacts} cards")
        cairn_path = f"/dav/addressbooks/{USER}/default/"
        c = Client(d.http_port, USER, PASSWORD)
        r = Client(rad.port, "bench", "x")
        hrefs_c = "".join(f"<D:href>{cairn_path}{uid}.vcf</D:href>" for uid, _ in data[:100])
        hrefs_r = "".join(f"<D:href>{rad.path}{uid}.vcf</D:href>" for uid, _ in data[:100])
        mg = ('<?xml version="1.0"?><CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="' + CR +
              '"><D:prop><D:getetag/><CR:address-data/></D:prop>{}</CR:addressbook-multiget>')
        tests = [("PROPFIND depth 1", "PROPFIND", PROPFIND, PROPFIND),
                 ("addressbook-query (1 match)", "REPORT", query, query),
                 ("addressbook-multiget (100)", "REPORT", mg.format(hrefs_c), mg.format(hrefs_r))]
        for label, method, body_c, body_r in tests:
            if args.only not in label:
                continue
            cf, cb, cdata = measure(c, cairn_path, args.runs, method, body_c)
            rf, rb, rdata = measure(r, rad.path, args.runs, method, body_r)
            nc = cdata.count(b"<D:response>") + cdata.count(b"<response>")
            nr = rdata.count(b"<D:response>") + rdata.count(b"<response>") + \
                rdata.count(b"<ns0:response>")
            print(f"{label}: cairn first {cf * 1000:.0f} ms best {cb * 1000:.0f} ms "
                  f"({len(cdata)} bytes, {nc} responses); radicale first {rf * 1000:.0f} ms "
                  f"best {rb * 1000:.0f} ms ({len(rdata)} bytes, {nr} responses); "
                  f"ratio best {rb / cb:.1f}x, first {rf / cf:.1f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
