"""Helpers of the scan stage tests: a programmable DNS server on loopback
(python3-dnslib for the wire format) holding SPF, DKIM and DMARC records,
with names that never get an answer; DKIM keys and signatures made by the
independent signer python3-dkim (rsa-sha256 and ed25519-sha256)."""
import base64
import socket
import subprocess
import threading

import dkim
import nacl.signing
from dnslib import A, AAAA, MX, PTR, QTYPE, RCODE, RR, TXT, DNSRecord


class DNSServer:
    """UDP DNS on 127.0.0.1: add(name, type, value); names in hang get no
    answer at all (a server that never replies)."""

    def __init__(self):
        self.records = {}
        self.hang = set()
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def add(self, name, rtype, value):
        self.records.setdefault((name.lower().rstrip("."), rtype), []).append(value)

    def txt(self, name, text):
        """A TXT record, split into 255-octet character-strings."""
        data = text.encode()
        self.add(name, "TXT", [data[i:i + 255] for i in range(0, len(data), 255)] or [b""])

    def _answer(self, q):
        name = str(q.q.qname).lower().rstrip(".")
        rtype = QTYPE[q.q.qtype]
        self.queries.append((name, rtype))
        for h in self.hang:
            if name == h or name.endswith("." + h):
                return None
        reply = q.reply()
        values = self.records.get((name, rtype), [])
        for v in values:
            if rtype == "TXT":
                rdata = TXT(v)
            elif rtype == "A":
                rdata = A(v)
            elif rtype == "AAAA":
                rdata = AAAA(v)
            elif rtype == "MX":
                rdata = MX(v[1], v[0])
            elif rtype == "PTR":
                rdata = PTR(v)
            else:
                continue
            reply.add_answer(RR(q.q.qname, q.q.qtype, rdata=rdata, ttl=60))
        if not values and not any(k[0] == name for k in self.records):
            reply.header.rcode = RCODE.NXDOMAIN
        return reply

    def _serve(self):
        while not self.stopped:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                q = DNSRecord.parse(data)
                reply = self._answer(q)
            except Exception:  # a broken query: no answer
                continue
            if reply is not None:
                packed = reply.pack()
                if len(packed) > 512:
                    reply = q.reply()
                    reply.header.tc = 1
                    packed = reply.pack()
                self.sock.sendto(packed, peer)

    def stop(self):
        self.stopped = True
        self.sock.close()


def rsa_key(bits=2048):
    """(private PEM, DNS TXT value) of a new RSA key."""
    pem = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                          f"rsa_keygen_bits:{bits}"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=pem,
                         check=True, capture_output=True).stdout
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def ed25519_key():
    """(private key as python3-dkim takes it, DNS TXT value) of a new Ed25519 key."""
    sk = nacl.signing.SigningKey.generate()
    return (base64.b64encode(bytes(sk)),
            "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(sk.verify_key)).decode())


def sign(message, domain, selector, key, ed25519=False, **kw):
    """message with a DKIM-Signature prepended by python3-dkim."""
    algo = b"ed25519-sha256" if ed25519 else b"rsa-sha256"
    sig = dkim.sign(message, selector.encode(), domain.encode(), key,
                    signature_algorithm=algo,
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"], **kw)
    return sig + message


def message(sender, subject="hello", body=b"Hello there.\r\n", extra=b"", to="ann@local.test"):
    return (b"From: Sender <" + sender.encode() + b">\r\n"
            b"To: " + to.encode() + b"\r\n"
            b"Subject: " + subject.encode() + b"\r\n"
            b"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n"
            b"Message-ID: <" + subject.replace(" ", ".").encode() + b"@test>\r\n"
            + extra + b"\r\n" + body)


def header_values(raw, name):
    """Unfolded values of every header field name in raw (bytes)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    out, cur = [], None
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and cur is not None:
            cur[1] += " " + line.strip()
            continue
        if ":" in line:
            cur = [line.split(":", 1)[0], line.split(":", 1)[1].strip()]
            out.append(cur)
    return [v for n, v in out if n.lower() == name.lower()]
