"""The milter client of the scan stage (issue 14) against a milter built on
libmilter (python3-milter, tests/integration/scanc_milter.py): what the
milter is told (connect, helo, envelope, headers, body, macros) and what
its answers do (add header, change and delete header, replace body,
reject with its text, tempfail, quarantine, discard kept in the
quarantine, a hanging milter fail-open/closed with its changes dropped)."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import pytest

import scanc_util as su
from conftest import free_port


@pytest.fixture(scope="module")
def milter():
    d = pathlib.Path(tempfile.mkdtemp(prefix="milter-"))
    port = free_port()
    log = d / "seen.jsonl"
    log.touch()
    proc = subprocess.Popen([sys.executable, str(pathlib.Path(__file__).parent / "scanc_milter.py"),
                             f"inet:{port}@127.0.0.1", str(log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    su.wait_for(lambda: proc.poll() is not None or su.can_connect(("127.0.0.1", port)),
                what="the test milter")
    assert proc.poll() is None, "the test milter exited"
    yield {"socket": f"inet:127.0.0.1:{port}", "log": log}
    proc.terminate()
    proc.wait(10)
    subprocess.run(["rm", "-rf", str(d)])


def config(milter, **m):
    c = {"enabled": "yes", "socket": milter["socket"], "timeout": "5s"}
    c.update(m)
    return {"server": {"hostname": "mx.local.test"}, "milter": c,
            "rules": {"enabled": "no"}, "bayes": {"enabled": "no"},
            "scan": {"smtp": "yes", "spf": "no", "dkim": "no", "dmarc": "no", "arc": "no"}}


def seen(milter, marker):
    for line in milter["log"].read_text().splitlines():
        rec = json.loads(line)
        if marker in rec["body"]:
            return rec
    return None


def test_milter_sees_the_message_and_adds_header(cairnd_factory, pg, milter):
    d = su.start(cairnd_factory, pg, config(milter))
    raw = su.message("milter probe", b"body line one\r\nmarker-accept-1\r\n",
                     b"X-Folded: a\r\n\tb\r\n")
    code, msg = su.send(d, raw)
    assert code == 250, (code, msg)
    rec = seen(milter, "marker-accept-1")
    assert rec["helo"] == "client.remote.test"
    assert rec["from"] == "<sender@remote.test>"
    assert rec["mail_addr"] == "sender@remote.test"
    assert rec["rcpts"] == ["<ann@local.test>"]
    assert rec["connect"][1] == "127.0.0.1"
    assert rec["j"] == "mx.local.test"
    names = [h[0] for h in rec["headers"]]
    assert names[0] == "Received"            # the gateway's own trace field first
    assert "Subject" in names and "X-Folded" in names
    assert ["Subject", "milter probe"] in rec["headers"]
    assert ["X-Folded", "a\n\tb"] in rec["headers"]
    assert rec["body"] == "body line one\r\nmarker-accept-1\r\n"
    stored = su.mailbox(d, "ann@local.test")
    assert len(stored) == 1
    assert b"X-Test-Milter: seen %d headers" % len(names) in stored[0]


@pytest.mark.parametrize("marker,code,where", [
    ("MILTER-REJECT", 5, None), ("MILTER-TEMPFAIL", 4, None),
    ("MILTER-QUARANTINE", 2, "quarantine"), ("MILTER-DISCARD", 2, "quarantine")])
def test_milter_answers(cairnd_factory, pg, milter, marker, code, where):
    d = su.start(cairnd_factory, pg, config(milter))
    c, msg = su.send(d, su.message("x", marker.encode() + b"\r\n"))
    assert c // 100 == code, (c, msg)
    assert su.mailbox(d, "ann@local.test") == []
    if marker == "MILTER-REJECT":
        assert "rejected by the test milter" in d.log_text()
    if where == "quarantine":
        n = d.pg.psql("cairn", "SELECT count(*) FROM scan_quarantine").strip()
        assert n == "1", n


@pytest.mark.parametrize("failure", ["open", "closed"])
def test_milter_hangs(cairnd_factory, pg, milter, failure):
    d = su.start(cairnd_factory, pg, config(milter, timeout="1s", failure=failure))
    t0 = time.monotonic()
    c, msg = su.send(d, su.message("x", b"MILTER-HANG\r\n"))
    assert time.monotonic() - t0 < 10
    if failure == "open":
        assert c == 250, (c, msg)
        assert len(su.mailbox(d, "ann@local.test")) == 1
    else:
        assert c == 451, (c, msg)


def test_milter_down(cairnd_factory, pg):
    d = su.start(cairnd_factory, pg, config({"socket": f"inet:127.0.0.1:{free_port()}"},
                                            failure="closed"))
    c, msg = su.send(d, su.ham(9))
    assert c == 451, (c, msg)


def split_stored(raw):
    head, body = raw.split(b"\r\n\r\n", 1)
    return head + b"\r\n", body


def test_milter_changes_headers_and_body(cairnd_factory, pg, milter):
    d = su.start(cairnd_factory, pg, config(milter))
    raw = su.message("original subject", b"original body\r\nMILTER-CHANGE marker-change-1\r\n",
                     b"X-Remove-Me: first\r\nX-Keep: yes\r\nX-Remove-Me: second\r\n"
                     b"\tfolded part\r\n")
    code, msg = su.send(d, raw)
    assert code == 250, (code, msg)
    stored = su.mailbox(d, "ann@local.test")
    assert len(stored) == 1
    head, body = split_stored(stored[0])
    # the body is exactly the milter's two chunks, line ends as CRLF
    assert body == b"replaced body line 1\r\nsecond chunk\r\nbare LF line\r\n"
    fields = [f.split(b":", 1)[0] for f in head.split(b"\r\n") if f and f[:1] not in b" \t"]
    # Subject changed in place (one Subject field, where it was)
    assert b"Subject: changed by the milter\r\n" in head
    assert b"original subject" not in head
    assert fields.count(b"Subject") == 1
    assert fields.index(b"Subject") < fields.index(b"Date")
    # the second X-Remove-Me (with its continuation line) deleted, the first kept
    assert b"X-Remove-Me: first\r\nX-Keep: yes\r\n" in head
    assert b"second" not in head and b"folded part" not in head
    assert fields.count(b"X-Remove-Me") == 1
    # a change past the last field of a name adds it at the end of the header
    assert head.endswith(b"X-Added: by chgheader\r\n")
    assert b"\n" not in head.replace(b"\r\n", b"")      # no bare LF anywhere
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert "event=modified headers_added=0 headers_changed=3 body=replaced" in d.log_text()


def test_milter_changes_dropped_on_failure(cairnd_factory, pg, milter):
    """A milter that times out after sending its changes (fail-open): the
    message is delivered as received, none of the changes made."""
    d = su.start(cairnd_factory, pg, config(milter, timeout="1s", failure="open"))
    body = b"kept body\r\nMILTER-CHANGE-HANG marker-change-2\r\n"
    raw = su.message("kept subject", body, b"X-Remove-Me: a\r\nX-Remove-Me: b\r\n")
    code, msg = su.send(d, raw)
    assert code == 250, (code, msg)
    stored = su.mailbox(d, "ann@local.test")
    assert len(stored) == 1
    head, got = split_stored(stored[0])
    assert got == body
    assert b"Subject: kept subject\r\n" in head
    assert b"X-Remove-Me: a\r\nX-Remove-Me: b\r\n" in head
    assert b"X-Added" not in head and b"changed by the milter" not in head
