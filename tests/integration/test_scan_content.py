"""The content checks of the scan stage (issue 14) against real daemons on
loopback: the built-in SpamAssassin-syntax rules (GTUBE, reload on SIGHUP
with FILE:LINE errors), ClamAV's clamd with a signature database written
here (EICAR plain, zipped and base64 in multipart; a body pattern) over
its unix and TCP sockets, SpamAssassin's spamd with Debian's rules, and
scanners that hang or are down, fail-open and fail-closed: a message is
never lost (delivered, or refused with a reply the client sees)."""
import os
import re
import pathlib
import signal
import tempfile
import time

import pytest

import scanc_util as su
from scanc_util import GTUBE, BODY_PATTERN


@pytest.fixture(scope="module")
def clamd():
    c = su.Clamd()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def spamd():
    s = su.Spamd()
    yield s
    s.stop()


@pytest.fixture
def local_rules():
    d = pathlib.Path(tempfile.mkdtemp(prefix="rules-"))
    os.chmod(d, 0o755)
    yield d
    for f in d.iterdir():
        f.unlink()
    d.rmdir()


def config(local_rules, **sections):
    c = {"server": {"hostname": "mx.local.test"},
         "rules": su.rules_dir_config(local_rules),
         "scan": {"smtp": "yes", "spf": "no", "dkim": "no", "dmarc": "no", "arc": "no",
                  "timeout": "20s"}}
    for name, values in sections.items():
        c.setdefault(name, {}).update(values)
    return c


def test_gtube_rejected_ham_delivered(cairnd_factory, pg, local_rules):
    d = su.start(cairnd_factory, pg, config(local_rules))
    code, msg = su.send(d, su.message("test", b"This is spam: " + GTUBE + b"\r\n"))
    assert code // 100 == 5, (code, msg)
    code, msg = su.send(d, su.ham(1))
    assert code == 250, (code, msg)
    inbox = su.mailbox(d, "ann@local.test")
    assert len(inbox) == 1
    assert b"minutes of meeting 1" in inbox[0]
    assert GTUBE not in b"".join(inbox)
    assert su.log_has(d, "GTUBE")


def test_gtube_base64_multipart_rejected(cairnd_factory, pg, local_rules):
    d = su.start(cairnd_factory, pg, config(local_rules))
    code, msg = su.send(d, su.multipart_with(GTUBE, "text/plain", "note.txt"))
    assert code // 100 == 5, (code, msg)
    assert su.mailbox(d, "ann@local.test") == []


def test_rules_reload(cairnd_factory, pg, local_rules):
    """A local rule file is read on SIGHUP; one that does not compile is
    named by FILE:LINE and the set in use stays."""
    d = su.start(cairnd_factory, pg, config(local_rules, scan={"reject_threshold": "10"}))
    probe = su.message("cairn probe", b"the word zanzibarflux appears here\r\n")
    code, _ = su.send(d, probe)
    assert code == 250
    (local_rules / "50_local.cf").write_text(
        "body LOCAL_ZANZIBAR /\\bzanzibarflux\\b/i\nscore LOCAL_ZANZIBAR 12\n"
        "describe LOCAL_ZANZIBAR the probe word\n")
    d.signal(signal.SIGHUP)
    su.wait_for(lambda: d.log_text().count("scan rules loaded") >= 2, what="reload")
    code, msg = su.send(d, su.message("cairn probe 2", b"the word zanzibarflux again\r\n"))
    assert code // 100 == 5, (code, msg)
    # a broken file: named by FILE:LINE, and the loaded set keeps working
    (local_rules / "60_broken.cf").write_text("# header\nbody OK_ONE /fine/\nbody BROKEN /(open/\n")
    d.signal(signal.SIGHUP)
    su.wait_for(lambda: "60_broken.cf:3: rule BROKEN" in d.log_text(), what="the error")
    code, msg = su.send(d, su.message("cairn probe 3", b"zanzibarflux a third time\r\n"))
    assert code // 100 == 5, (code, msg)
    code, msg = su.send(d, su.message("test", GTUBE + b"\r\n"))
    assert code // 100 == 5, (code, msg)
    assert len(su.mailbox(d, "ann@local.test")) == 1


@pytest.mark.parametrize("via", ["unix", "tcp"])
def test_clamd_viruses_never_delivered(cairnd_factory, pg, local_rules, clamd, via):
    sock = clamd.socket if via == "unix" else clamd.tcp
    d = su.start(cairnd_factory, pg, config(local_rules, clamd={"enabled": "yes", "socket": sock}))
    for name, raw, sig in (
            ("plain", su.eicar_plain(), "Cairn.Test.EICAR-Text"),
            ("zip", su.eicar_zip(), "Cairn.Test.EICAR.UNOFFICIAL"),
            ("base64", su.eicar_base64_multipart(), "Cairn.Test.EICAR.UNOFFICIAL"),
            ("pattern", su.message("pattern", b"xx " + BODY_PATTERN + b" yy\r\n"),
             "Cairn.Test.BodyPattern")):
        code, msg = su.send(d, raw)
        assert code // 100 == 5, (name, code, msg)
        verdict = [line for line in d.log_text().splitlines() if " virus=" in line][-1]
        assert f"virus={sig}" in verdict, (name, verdict)
    code, msg = su.send(d, su.ham(2))
    assert code == 250, (code, msg)
    stored = su.mailbox(d, "ann@local.test")
    assert len(stored) == 1 and b"meeting 2" in stored[0]


@pytest.mark.parametrize("failure", ["open", "closed"])
@pytest.mark.parametrize("kind", ["down", "hang"])
def test_clamd_unavailable(cairnd_factory, pg, local_rules, failure, kind):
    """fail-open delivers, fail-closed answers 451 (on_timeout = tempfail):
    either way the message is not lost, and a hang costs the budget only."""
    hang = su.HangingServer() if kind == "hang" else None
    try:
        addr = hang.addr if hang else su.down_addr()
        d = su.start(cairnd_factory, pg, config(
            local_rules, clamd={"enabled": "yes", "socket": addr, "timeout": "1s",
                                "failure": failure}))
        t0 = time.monotonic()
        code, msg = su.send(d, su.ham(3))
        took = time.monotonic() - t0
        if failure == "open":
            assert code == 250, (code, msg)
            assert len(su.mailbox(d, "ann@local.test")) == 1
        else:
            assert code == 451, (code, msg)
            assert su.mailbox(d, "ann@local.test") == []
        assert took < 15, took
        if hang:
            assert hang.accepted >= 1
    finally:
        if hang:
            hang.stop()


def test_spamd_gtube_and_ham(cairnd_factory, pg, local_rules, spamd):
    """With the built-in rules off, spamd's score decides."""
    d = su.start(cairnd_factory, pg, config(local_rules, rules={"enabled": "no"},
                                            spamd={"enabled": "yes", "socket": spamd.addr}))
    code, msg = su.send(d, su.message("test", GTUBE + b"\r\n"))
    assert code // 100 == 5, (code, msg)
    code, msg = su.send(d, su.ham(4))
    assert code == 250, (code, msg)
    stored = su.mailbox(d, "ann@local.test")
    assert len(stored) == 1
    log = d.log_text()
    assert re.search(r"tests=\S*SPAMD=", log)
    assert re.search(r"timings=\S*spamd:\d+ms", log)


def test_spamd_alone_and_added(cairnd_factory, pg, local_rules, spamd):
    """mode=add puts spamd's score next to the rules'; mode=alone makes it
    the whole content score."""
    (local_rules / "50_local.cf").write_text("body LOCAL_TWENTY /twentypointword/\n"
                                             "score LOCAL_TWENTY 20\n")
    raw = su.message("plain note", b"twentypointword in a plain note\r\n")
    d = su.start(cairnd_factory, pg, config(local_rules, spamd={"enabled": "yes",
                                                                 "socket": spamd.addr}))
    code, _ = su.send(d, raw)
    assert code // 100 == 5      # 20 from the local rule + spamd
    d.stop()
    d2 = su.start(cairnd_factory, pg, config(local_rules, spamd={
        "enabled": "yes", "socket": spamd.addr, "mode": "alone"}))
    code, msg = su.send(d2, raw)
    assert code == 250, (code, msg)   # spamd alone finds nothing much
    assert len(su.mailbox(d2, "ann@local.test")) == 1


@pytest.mark.parametrize("failure", ["open", "closed"])
def test_spamd_down_and_hanging(cairnd_factory, pg, local_rules, failure):
    hang = su.HangingServer()
    try:
        for addr in (su.down_addr(), hang.addr):
            d = su.start(cairnd_factory, pg, config(local_rules, spamd={
                "enabled": "yes", "socket": addr, "timeout": "1s", "failure": failure}))
            code, msg = su.send(d, su.ham(5))
            if failure == "open":
                assert code == 250, (code, msg)
                assert len(su.mailbox(d, "ann@local.test")) == 1
            else:
                assert code == 451, (code, msg)
            d.stop()
    finally:
        hang.stop()


def test_greylisting(cairnd_factory, pg, local_rules):
    """A new triplet gets 451 4.7.1 at DATA until a retry after the delay;
    a domain that is not greylisted is not delayed; nothing is lost."""
    d = su.start(cairnd_factory, pg, config(local_rules, greylist={
        "enabled": "yes", "delay": "1s", "domains": "local.test"}))
    su.ctl(d, "domain", "add", "other.test")
    su.ctl(d, "user", "add", "eve@other.test", "--password", su.PASSWORD)
    t0 = time.monotonic()
    code, msg = su.send(d, su.ham(6))
    assert code == 451 and msg.startswith("4.7.1 ") and "greylisted" in msg, (code, msg)
    assert 'action=tempfail' in d.log_text() and 'reason="greylisted' in d.log_text()
    assert su.send(d, su.ham(6))[0] == 451          # too soon
    code, msg = su.send(d, su.ham(7), rcpt="eve@other.test")
    assert code == 250, (code, msg)                 # other.test is not greylisted
    # retry as a client would, until accepted
    code = su.wait_for(lambda: su.send(d, su.ham(6))[0] == 250, timeout=20,
                       what="the retry to pass")
    assert time.monotonic() - t0 >= 1.0
    assert len(su.mailbox(d, "ann@local.test")) == 1
    # the triplet stays passed: the next message goes through at once
    assert su.send(d, su.ham(8))[0] == 250
    assert "GREYLISTED" in d.log_text()
    rows = d.pg.psql("cairn", "SELECT count(*) FROM greylist WHERE passed").strip()
    assert rows == "1", rows
