"""RFC 3464 delivery status notifications from proto/dsn.c, parsed by
Python's email package (an independent MIME parser): the multipart/report
structure, every per-message and per-recipient field, RET=FULL vs HDRS, the
RFC 6533 types for SMTPUTF8, and the limits (CRLF, 998 octets, a boundary
that is not in the content). Driven by tests/integration/dsn-test.c.
"""

import email
import email.policy
import email.utils
import os
import subprocess
from pathlib import Path

import pytest

from conftest import CAIRNCTL  # noqa: E402

ARRIVAL = 1700000000
NOW = 1700003600

ORIGINAL = (b"From: Ann <ann@origin.test>\r\n"
            b"To: bob@remote.test, carol@remote.test\r\n"
            b"Subject: quarterly figures\r\n"
            b"Message-ID: <orig.1@origin.test>\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=us-ascii\r\n"
            b"\r\n"
            b"Body line one.\r\n"
            b"BODY-MARKER\r\n")


def dsn_binary():
    builddir = os.environ.get("CAIRN_BUILDDIR")
    base = Path(builddir) if builddir else Path(CAIRNCTL).resolve().parent
    path = base / "tests" / "integration" / "dsn-test"
    if not path.exists():
        pytest.skip(f"{path} not built (make check builds it)")
    return str(path)


def build(tmp_path, rcpts, *opts, original=ORIGINAL, ok=True):
    orig = tmp_path / "original.eml"
    orig.write_bytes(original)
    r = subprocess.run([dsn_binary(), "--arrival", str(ARRIVAL), "--now", str(NOW), *opts,
                        str(orig), *rcpts], capture_output=True, timeout=30)
    if not ok:
        assert r.returncode == 1, r.stdout
        return r.stderr.decode()
    assert r.returncode == 0, r.stderr.decode()
    raw = r.stdout
    for line in raw.split(b"\r\n")[:-1]:
        assert b"\n" not in line and b"\r" not in line, line
        assert len(line) <= 998
    assert raw.endswith(b"\r\n")
    return raw


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def status_groups(part):
    """The message/delivery-status part as a list of field dicts: the
    per-message group first, then one per recipient (RFC 3464 section 2.1)."""
    payload = part.get_payload()
    # compat32 parses message/delivery-status into a list of Message blocks.
    groups = []
    for block in payload:
        groups.append({k.lower(): " ".join(v.split()) for k, v in block.items()})
    return groups


FAILED = ("bob@remote.test|rfc822;Bob@Remote.test|failed|5.1.1|mx.remote.test|"
          "550 5.1.1 <bob@remote.test>: Recipient address rejected: User unknown|1700003000|")
DELAYED = "carol@remote.test||delayed|4.4.1|mx2.remote.test|connect to mx2: timed out|1700003500|1700400000"


def test_failure_report_fields(tmp_path):
    raw = build(tmp_path, [FAILED, DELAYED], "--envid", "ENV-77")
    msg = parse(raw)
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert email.utils.parseaddr(msg["From"])[1] == "MAILER-DAEMON@mx.cairn.test"
    assert email.utils.parseaddr(msg["To"])[1] == "sender@origin.test"
    assert email.utils.parsedate_to_datetime(msg["Date"]).timestamp() == NOW
    assert msg["Message-ID"] == "<dsn.1@mx.cairn.test>"
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    boundary = msg.get_boundary()
    assert boundary and boundary.encode() not in ORIGINAL
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/delivery-status", "text/rfc822-headers"]

    human = parts[0].get_payload(decode=True).decode()
    assert "bob@remote.test" in human and "User unknown" in human
    assert "carol@remote.test" in human and "delayed" in human

    groups = status_groups(parts[1])
    assert len(groups) == 3
    per_msg, bob, carol = groups
    assert per_msg["reporting-mta"] == "dns; mx.cairn.test"
    assert per_msg["original-envelope-id"] == "ENV-77"
    assert email.utils.parsedate_to_datetime(per_msg["arrival-date"]).timestamp() == ARRIVAL
    assert bob["original-recipient"] == "rfc822;Bob@Remote.test"
    assert bob["final-recipient"] == "rfc822; bob@remote.test"
    assert bob["action"] == "failed"
    assert bob["status"] == "5.1.1"
    assert bob["remote-mta"] == "dns; mx.remote.test"
    assert bob["diagnostic-code"] == ("smtp; 550 5.1.1 <bob@remote.test>: Recipient address "
                                      "rejected: User unknown")
    assert email.utils.parsedate_to_datetime(bob["last-attempt-date"]).timestamp() == 1700003000
    assert "will-retry-until" not in bob
    assert "original-recipient" not in carol
    assert carol["action"] == "delayed" and carol["status"] == "4.4.1"
    assert email.utils.parsedate_to_datetime(carol["will-retry-until"]).timestamp() == 1700400000

    # RET=HDRS (the default): the original header, not its body.
    returned = parts[2].get_payload()
    if isinstance(returned, list):
        returned = returned[0].as_string()
    assert "quarterly figures" in returned
    assert "BODY-MARKER" not in raw.decode()


def test_full_return(tmp_path):
    raw = build(tmp_path, [FAILED], "--full")
    parts = parse(raw).get_payload()
    assert parts[2].get_content_type() == "message/rfc822"
    inner = parts[2].get_payload()[0]
    assert inner["Subject"] == "quarterly figures"
    assert inner["Message-ID"] == "<orig.1@origin.test>"
    assert "BODY-MARKER" in inner.get_payload()
    # Over the size limit: the header only.
    raw = build(tmp_path, [FAILED], "--full", "--max", "100")
    parts = parse(raw).get_payload()
    assert parts[2].get_content_type() == "text/rfc822-headers"
    assert b"BODY-MARKER" not in raw


def test_boundary_not_in_content(tmp_path):
    # An original full of boundary-like lines cannot break the structure.
    nasty = ORIGINAL + b"".join(b"--=_cairn-dsn-%024x\r\n" % i for i in range(50)) + b"--\r\n"
    raw = build(tmp_path, [FAILED], "--full", original=nasty)
    msg = parse(raw)
    assert msg.get_boundary().encode() not in nasty
    parts = msg.get_payload()
    assert len(parts) == 3
    assert "BODY-MARKER" in parts[2].get_payload()[0].get_payload()


def test_success_and_delay_subjects(tmp_path):
    ok = "dave@remote.test||relayed|2.0.0|mx.remote.test|250 2.0.0 queued as 1234||"
    msg = parse(build(tmp_path, [ok]))
    assert msg["Subject"] == "Successful Mail Delivery Report"
    assert status_groups(msg.get_payload()[1])[1]["action"] == "relayed"
    msg = parse(build(tmp_path, [DELAYED]))
    assert msg["Subject"] == "Delayed Mail (still being retried)"


def test_utf8_report(tmp_path):
    rcpt = ("jörg@bücher.test|utf-8;jörg@bücher.test|failed|5.1.1|mx.bücher.test|"
            "550 5.1.1 Empfänger unbekannt||")
    # An ASCII report cannot carry it, a remote host name must be ASCII.
    build(tmp_path, [rcpt], "--utf8", ok=False)
    rcpt = rcpt.replace("mx.bücher.test", "mx.xn--bcher-kva.test")
    original = ORIGINAL.replace(b"Ann <ann", "Änn <änn".encode())
    raw = build(tmp_path, [rcpt], "--utf8", "--full", original=original)
    msg = email.message_from_bytes(raw, policy=email.policy.SMTPUTF8)
    assert msg.get_param("report-type") == "global-delivery-status"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/global-delivery-status", "message/global"]
    # The email package parses message/* types as containers: read the
    # part's body from the raw text between the boundaries instead.
    delim = b"\r\n--" + msg.get_boundary().encode()
    raw_parts = raw.split(delim)
    assert len(raw_parts) == 5 and raw_parts[4] == b"--\r\n"
    head, _, body = raw_parts[2].partition(b"\r\n\r\n")
    assert b"Content-Type: message/global-delivery-status" in head
    status = body.decode("utf-8")
    assert "Final-Recipient: utf-8; jörg@bücher.test" in status
    assert "Original-Recipient: utf-8;jörg@bücher.test" in status
    assert "Empfänger" in status
    assert "Änn" in raw.decode("utf-8")


def test_refusals(tmp_path):
    err = build(tmp_path, ["a@b.test\r\nBcc: x@y.test||failed|5.1.1|||"], ok=False)
    assert "recipient field" in err
    err = build(tmp_path, ["a@b.test||failed|5.1|||"], ok=False)
    assert "RFC 3463" in err
    err = build(tmp_path, ["a@b.test||bounced|5.1.1|||"], ok=False)
    assert "action" in err
    err = build(tmp_path, [FAILED], "--to", "", ok=False)
    assert "null sender" in err
