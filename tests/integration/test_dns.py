"""The outbound queue's DNS resolver (server/queue/dns.c) against real DNS
servers on loopback: dnsmasq (authoritative for the zone `test`) for MX
preference order, the random order among equal preferences, implicit MX,
CNAMEs, IPv6, NXDOMAIN, MX hosts without addresses and the TCP fallback of a
truncated answer; a small dnslib server for what dnsmasq cannot say (RFC 7505
null MX, SERVFAIL, a forged answer with a wrong id) and a silent socket for
timeouts. The resolver is driven by tests/integration/dns-test.c.
"""

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import CAIRNCTL, free_port  # noqa: E402

dnslib = pytest.importorskip("dnslib")


def dns_test_binary():
    """tests/integration/dns-test.c, built by `make check`."""
    builddir = os.environ.get("CAIRN_BUILDDIR")
    base = Path(builddir) if builddir else Path(CAIRNCTL).resolve().parent
    path = base / "tests" / "integration" / "dns-test"
    if not path.exists():
        pytest.skip(f"{path} not built (make check builds it)")
    return str(path)


# 12 exchangers with long names: the MX answer passes 512 octets, so dnsmasq
# sets TC and the resolver must ask again over TCP.
MANY = [f"exchanger-with-a-rather-long-name-number-{i:02d}.many.test" for i in range(12)]


@pytest.fixture(scope="module")
def dnsmasq():
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.path.exists(exe):
        pytest.skip("dnsmasq not installed (Debian package dnsmasq-base)")
    port = free_port()
    args = [exe, "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1",
            "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
            "--pid-file", "--log-facility=-",
            # Authoritative for "test": NXDOMAIN and NODATA instead of REFUSED.
            "--auth-zone=test", "--auth-server=ns.test,127.0.0.1", "--auth-sec-servers=ns.test",
            "--mx-host=ex.test,mx1.ex.test,10",
            "--mx-host=ex.test,mx2.ex.test,20",
            "--mx-host=ex.test,mx3.ex.test,20",
            "--mx-host=ex.test,mx6.ex.test,30",
            "--mx-host=ex.test,noaddr.ex.test,40",
            "--host-record=mx1.ex.test,127.0.0.11,::11",
            "--host-record=mx2.ex.test,127.0.0.12",
            "--host-record=mx3.ex.test,127.0.0.13",
            "--host-record=mx6.ex.test,2001:db8::6",
            "--host-record=plain.test,127.0.0.20",
            "--host-record=v6only.test,2001:db8::25",
            "--cname=alias.test,plain.test",
            "--mx-host=viacname.test,alias.test,5",
            "--mx-host=deadend.test,noaddr.ex.test,10",
            ]
    for i, name in enumerate(MANY):
        args.append(f"--mx-host=many.test,{name},{10 + i}")
        args.append(f"--host-record={name},127.0.1.{i + 1}")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while True:
            r = run(f"127.0.0.1:{port}", "host", "plain.test", timeout=200)
            if "status ok" in r.stdout:
                break
            if proc.poll() is not None or time.time() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
                pytest.fail(f"dnsmasq did not come up: {out}")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class FakeDNS:
    """A UDP DNS server built on dnslib for answers dnsmasq cannot give."""

    def __init__(self, family=socket.AF_INET):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1" if family == socket.AF_INET else "::1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = []
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        from dnslib import DNSRecord, RR, QTYPE, RCODE, MX, A, AAAA
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            q = DNSRecord.parse(data)
            name = str(q.q.qname).rstrip(".").lower()
            qtype = QTYPE[q.q.qtype]
            self.queries.append((name, qtype))
            reply = q.reply()
            if name == "nullmx.test" and qtype == "MX":
                reply.add_answer(RR(q.q.qname, QTYPE.MX, rdata=MX(".", 0), ttl=60))
            elif name == "nullmx.test":
                pass    # NODATA
            elif name == "servfail.test":
                reply.header.rcode = RCODE.SERVFAIL
            elif name == "refused.test":
                reply.header.rcode = RCODE.REFUSED
            elif name == "spoof.test":
                if qtype == "MX":
                    pass
                elif qtype == "A":
                    # A forged answer with another id comes first.
                    forged = q.reply()
                    forged.header.id = (q.header.id + 1) & 0xffff
                    forged.add_answer(RR(q.q.qname, QTYPE.A, rdata=A("10.6.6.6"), ttl=60))
                    self.sock.sendto(forged.pack(), peer)
                    # So does an answer to another question with our id.
                    other = DNSRecord.question("other.test", "A")
                    other.header.id = q.header.id
                    other = other.reply()
                    other.add_answer(RR("other.test", QTYPE.A, rdata=A("10.7.7.7"), ttl=60))
                    self.sock.sendto(other.pack(), peer)
                    reply.add_answer(RR(q.q.qname, QTYPE.A, rdata=A("127.0.0.66"), ttl=60))
            elif name == "mixednull.test" and qtype == "MX":
                reply.add_answer(RR(q.q.qname, QTYPE.MX, rdata=MX(".", 0), ttl=60))
                reply.add_answer(RR(q.q.qname, QTYPE.MX, rdata=MX("real.mixednull.test", 10),
                                    ttl=60))
            elif name == "real.mixednull.test" and qtype == "A":
                reply.add_answer(RR(q.q.qname, QTYPE.A, rdata=A("127.0.0.77"), ttl=60))
            elif name == "halfdown.test" and qtype == "MX":
                reply.add_answer(RR(q.q.qname, QTYPE.MX, rdata=MX("broken.halfdown.test", 10),
                                    ttl=60))
                reply.add_answer(RR(q.q.qname, QTYPE.MX, rdata=MX("ok.halfdown.test", 20),
                                    ttl=60))
            elif name == "broken.halfdown.test":
                reply.header.rcode = RCODE.SERVFAIL
            elif name == "ok.halfdown.test" and qtype == "AAAA":
                reply.add_answer(RR(q.q.qname, QTYPE.AAAA, rdata=AAAA("::1"), ttl=60))
            elif name in ("real.mixednull.test", "ok.halfdown.test"):
                pass    # exists: NODATA for the other types
            elif name.endswith(".test"):
                reply.header.rcode = RCODE.NXDOMAIN
            self.sock.sendto(reply.pack(), peer)

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(scope="module")
def fake():
    f = FakeDNS()
    yield f
    f.close()


def run(server, kind, name, timeout=2000, repeat=1):
    return subprocess.run([dns_test_binary(), "--server", server, "--timeout", str(timeout),
                           "--repeat", str(repeat), kind, name],
                          capture_output=True, text=True, timeout=60)


def results(out):
    """Parse dns-test output into [(status, error, [(host, pref, [addrs])])]."""
    runs = []
    for block in out.strip("\n").split("\n\n"):
        status, error, hosts = None, None, []
        for line in block.splitlines():
            word, _, rest = line.partition(" ")
            if word == "status":
                status = rest
            elif word == "error":
                error = rest
            elif word == "host":
                parts = rest.split()
                hosts.append((parts[0], int(parts[1]), parts[2:]))
        runs.append((status, error, hosts))
    return runs


def one(server, kind, name, **kw):
    r = run(server, kind, name, **kw)
    assert r.returncode == 0, r.stderr
    res = results(r.stdout)
    assert len(res) == 1
    return res[0]


def test_mx_preference_order_and_addresses(dnsmasq):
    status, error, hosts = one(dnsmasq, "mail", "ex.test")
    assert status == "ok", error
    names = [h[0] for h in hosts]
    prefs = [h[1] for h in hosts]
    assert prefs == sorted(prefs) == [10, 20, 20, 30]
    assert names[0] == "mx1.ex.test"
    assert set(names[1:3]) == {"mx2.ex.test", "mx3.ex.test"}
    # The host without any address is skipped.
    assert "noaddr.ex.test" not in names
    # IPv6 and IPv4 interleaved, IPv6 first; an IPv6-only host.
    assert hosts[0][2] == ["::11", "127.0.0.11"]
    assert hosts[3] == ("mx6.ex.test", 30, ["2001:db8::6"])


def test_random_order_among_equal_preferences(dnsmasq):
    r = run(dnsmasq, "mail", "ex.test", repeat=60)
    assert r.returncode == 0, r.stderr
    orders = set()
    for status, error, hosts in results(r.stdout):
        assert status == "ok", error
        names = [h[0] for h in hosts]
        assert names[0] == "mx1.ex.test" and names[3] == "mx6.ex.test"
        orders.add(tuple(names[1:3]))
    # Each order has probability 1/2 per run: missing one in 60 runs is 2^-59.
    assert orders == {("mx2.ex.test", "mx3.ex.test"), ("mx3.ex.test", "mx2.ex.test")}


def test_implicit_mx(dnsmasq):
    assert one(dnsmasq, "mail", "plain.test") == ("ok", None, [("plain.test", 0, ["127.0.0.20"])])
    assert one(dnsmasq, "mail", "v6only.test") == ("ok", None,
                                                   [("v6only.test", 0, ["2001:db8::25"])])


def test_cname(dnsmasq):
    # A/AAAA through a CNAME, for a host and for an implicit MX.
    assert one(dnsmasq, "host", "alias.test")[2] == [("alias.test", 0, ["127.0.0.20"])]
    assert one(dnsmasq, "mail", "alias.test")[2][0][2] == ["127.0.0.20"]
    # An MX pointing at a CNAME still works.
    assert one(dnsmasq, "mail", "viacname.test")[2] == [("alias.test", 5, ["127.0.0.20"])]


def test_notfound(dnsmasq):
    status, error, hosts = one(dnsmasq, "mail", "nope.test")
    assert status == "notfound" and hosts == []
    assert "nope.test" in error and "NXDOMAIN" in error
    status, error, _ = one(dnsmasq, "mail", "deadend.test")
    assert status == "notfound"
    assert "deadend.test" in error and "noaddr.ex.test" in error
    status, error, _ = one(dnsmasq, "host", "nohost.test")
    assert status == "notfound" and "nohost.test" in error
    # Not a DNS name at all: permanent, and nothing is sent.
    assert one(dnsmasq, "mail", "bad..name")[0] == "notfound"


def test_truncated_answer_falls_back_to_tcp(dnsmasq):
    status, error, hosts = one(dnsmasq, "mail", "many.test")
    assert status == "ok", error
    assert [h[0] for h in hosts] == MANY
    assert [h[2] for h in hosts] == [[f"127.0.1.{i + 1}"] for i in range(12)]


def test_ip_literals(dnsmasq):
    assert one(dnsmasq, "host", "[IPv6:::1]")[2] == [("[IPv6:::1]", 0, ["::1"])]
    assert one(dnsmasq, "host", "192.0.2.7")[2] == [("192.0.2.7", 0, ["192.0.2.7"])]
    assert one(dnsmasq, "mail", "[127.0.0.9]")[2] == [("[127.0.0.9]", 0, ["127.0.0.9"])]
    # RFC 5321 4.1.3: an IPv6 literal needs its tag; without it, it is a name.
    assert one(dnsmasq, "host", "[::1]")[0] == "notfound"


def test_null_mx(fake):
    status, error, hosts = one(f"127.0.0.1:{fake.port}", "mail", "nullmx.test")
    assert status == "nullmx" and hosts == []
    assert "nullmx.test" in error and "7505" in error
    # A "." among real exchangers is skipped, not a null MX.
    status, error, hosts = one(f"127.0.0.1:{fake.port}", "mail", "mixednull.test")
    assert status == "ok", error
    assert hosts == [("real.mixednull.test", 10, ["127.0.0.77"])]


def test_servfail_is_tempfail(fake):
    status, error, hosts = one(f"127.0.0.1:{fake.port}", "mail", "servfail.test")
    assert status == "tempfail" and hosts == []
    assert "servfail.test" in error and "MX" in error and "SERVFAIL" in error
    status, error, _ = one(f"127.0.0.1:{fake.port}", "host", "refused.test")
    assert status == "tempfail" and "REFUSED" in error
    # One exchanger's lookup fails: the other one is used.
    status, error, hosts = one(f"127.0.0.1:{fake.port}", "mail", "halfdown.test")
    assert status == "ok", error
    assert hosts == [("ok.halfdown.test", 20, ["::1"])]


def test_forged_answers_are_ignored(fake):
    status, error, hosts = one(f"127.0.0.1:{fake.port}", "host", "spoof.test")
    assert status == "ok", error
    assert hosts == [("spoof.test", 0, ["127.0.0.66"])]


def test_timeout_is_tempfail():
    # A server that never answers: two tries of 300 ms each, then TEMPFAIL.
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    try:
        start = time.monotonic()
        status, error, hosts = one(f"127.0.0.1:{port}", "mail", "slow.test", timeout=300)
        elapsed = time.monotonic() - start
        assert status == "tempfail" and hosts == []
        assert "slow.test" in error and "timed out" in error
        assert 0.55 <= elapsed, elapsed        # two 300 ms tries, not fewer
        # Both tries reached the server.
        silent.settimeout(1)
        got = 0
        try:
            while True:
                silent.recvfrom(512)
                got += 1
        except socket.timeout:
            pass
        assert got == 2
    finally:
        silent.close()


def test_unreachable_resolver_is_tempfail():
    port = free_port()  # nothing listens: ICMP port unreachable
    # The refusal is noticed, not waited out: "refused", never "timed out",
    # even with a timeout the test would notice (30 s).
    status, error, _ = one(f"127.0.0.1:{port}", "mail", "ex.test", timeout=30000)
    assert status == "tempfail" and "refused" in error.lower(), error
    assert "timed out" not in error


def test_bad_server_spec():
    r = subprocess.run([dns_test_binary(), "--server", "not-an-ip:53", "mail", "ex.test"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "not-an-ip" in r.stderr


def test_ipv6_resolver_address():
    """The resolver itself reached over IPv6: "[::1]:PORT"."""
    try:
        f = FakeDNS(socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback")
    try:
        status, error, hosts = one(f"[::1]:{f.port}", "mail", "mixednull.test")
        assert status == "ok", error
        assert hosts == [("real.mixednull.test", 10, ["127.0.0.77"])]
        assert ("mixednull.test", "MX") in f.queries
    finally:
        f.close()
