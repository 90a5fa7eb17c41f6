"""DNS lists in the scan stage (issue 14) against dnsmasq on loopback:
DNSBL and DNSWL on the client IP (the tests connect from 127.0.0.1), URIBL
on the registrable domains (Public Suffix List) of the URLs in the text,
each with its configured weight; a resolver that is down costs nothing but
the budget (fail-open)."""
import os
import re
import shutil
import subprocess
import time

import pytest

import scanc_util as su
from conftest import free_port


@pytest.fixture(scope="module")
def dnsmasq():
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.path.exists(exe):
        pytest.skip("dnsmasq not installed (Debian package dnsmasq-base)")
    port = free_port()
    args = [exe, "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1",
            "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
            "--pid-file", "--log-facility=-",
            "--auth-zone=test", "--auth-server=ns.test,127.0.0.1", "--auth-sec-servers=ns.test",
            # 127.0.0.1 is listed in bl.test and whitelisted in wl.test
            "--host-record=1.0.0.127.bl.test,127.0.0.2",
            "--host-record=1.0.0.127.wl.test,127.0.0.5",
            # only answer 127.0.0.4 counts for coded.test: .2 is ignored
            "--host-record=1.0.0.127.coded.test,127.0.0.2",
            # URIBL entries: registrable domains
            "--host-record=spamsite.example.uribl.test,127.0.0.2",
            "--host-record=spam.co.uk.uribl.test,127.0.0.2",
            "--host-record=probe.test,127.0.0.9"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        su.wait_for(lambda: dig(port, "probe.test") == "127.0.0.9", timeout=10,
                    what="dnsmasq")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def dig(port, name):
    """A records of name via a raw UDP query (no dig needed)."""
    import socket
    import struct
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    try:
        s.sendto(q, ("127.0.0.1", port))
        r = s.recv(512)
    except OSError:
        return None
    finally:
        s.close()
    if struct.unpack(">H", r[6:8])[0] == 0:
        return None
    a = len(q) + 12      # the first answer: name pointer, type, class, ttl, rdlength
    return ".".join(str(b) for b in r[a:a + 4])


def config(resolver, **dnsbl):
    d = {"enabled": "yes", "lists": "bl.test=6, wl.test=-3, coded.test/127.0.0.4=50",
         "uribl": "uribl.test=7", "budget": "3s"}
    d.update(dnsbl)
    return {"server": {"hostname": "mx.local.test"}, "queue": {"resolver": resolver},
            "dnsbl": d, "rules": {"enabled": "no"}, "bayes": {"enabled": "no"},
            "scan": {"smtp": "yes", "spf": "no", "dkim": "no", "dmarc": "no", "arc": "no",
                     "dns_timeout": "500ms", "reject_threshold": "off",
                     "junk_threshold": "off"}}


def list_score(v):
    """The sum of the DNS list tests of a verdict line (other modules, such
    as iprev, add tests of their own)."""
    tests = re.search(r" tests=(\S*)", v).group(1)
    return sum(float(t.split("=")[1]) for t in tests.split(",")
               if t.startswith(("DNSBL_", "URIBL_")))


def verdict(d, msgid):
    lines = [l for l in d.log_text().splitlines() if " scan ip=" in l and msgid in l]
    assert lines, msgid
    return lines[-1]


def test_dnsbl_dnswl_uribl(cairnd_factory, pg, dnsmasq):
    d = su.start(cairnd_factory, pg, config(dnsmasq))
    spam = su.message("offer", b"Visit http://www.spamsite.example/buy and "
                      b"<http://a.b.spam.co.uk/x> or http://clean.example/\r\n",
                      msgid=b"<uribl-1@remote.test>")
    code, msg = su.send(d, spam)
    assert code == 250, (code, msg)
    v = verdict(d, "uribl-1@remote.test")
    assert "DNSBL_BL_TEST=6" in v, v
    assert "DNSBL_WL_TEST=-3" in v, v
    assert "DNSBL_CODED_TEST" not in v, v        # 127.0.0.2 is not its code
    assert "URIBL_URIBL_TEST=7" in v, v
    assert list_score(v) == 10, v                # 6 - 3 + 7 (URIBL once per list)
    ham = su.message("notes", b"see http://clean.example/notes\r\n",
                     msgid=b"<uribl-2@remote.test>")
    assert su.send(d, ham)[0] == 250
    v = verdict(d, "uribl-2@remote.test")
    assert "URIBL_" not in v and list_score(v) == 3, v


def test_resolver_down_fail_open(cairnd_factory, pg):
    dead = f"127.0.0.1:{free_port()}"
    d = su.start(cairnd_factory, pg, config(dead, budget="2s"))
    t0 = time.monotonic()
    code, msg = su.send(d, su.message("x", b"http://www.spamsite.example/\r\n",
                                      msgid=b"<down-1@remote.test>"))
    assert code == 250, (code, msg)
    assert time.monotonic() - t0 < 10
    assert len(su.mailbox(d, "ann@local.test")) == 1
    v = verdict(d, "down-1@remote.test")
    assert "DNSBL_" not in v and "URIBL_" not in v, v
    assert re.search(r"timings=\S*dnsbl:", v), v
    assert re.search(r"scan dnsbl query=1\.0\.0\.127\.bl\.test status=tempfail", d.log_text())
