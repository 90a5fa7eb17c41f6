"""The scan stage (issue 14): sender authentication and actions through real
SMTP sessions against a cairnd whose DNS is a local server (scan_util.DNSServer)
holding SPF, DKIM and DMARC records. Messages are signed by the independent
signer python3-dkim. Each case checks the SMTP reply and the stored
Authentication-Results / X-Spam-* headers; rejects are 5xx at DATA with
nothing stored; quarantine and release go through cairnctl."""
import pathlib
import smtplib
import subprocess
import time

import dkim
import pytest

from conftest import CAIRNCTL
from scan_util import (DNSServer, ed25519_key, header_values, message, rsa_key, sign)

PASSWORD = "scan-secret-1"
AUTHSERV = "mx.local.test"


def ctl(d, *args, check=True):
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), *args], capture_output=True, text=True,
                       timeout=60)
    if check:
        assert r.returncode == 0, f"cairnctl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r


def sql(d, query):
    return d.pg.psql("cairn", query)


def mailbox(d, user, name="INBOX"):
    out = sql(d, "SELECT encode(b.raw, 'hex') FROM mailbox_messages mm"
                 " JOIN mailboxes m ON m.id = mm.mailbox_id"
                 " JOIN accounts a ON a.id = m.account_id"
                 " JOIN message_blobs b ON b.id = mm.blob_id"
                 f" WHERE a.address = '{user}' AND m.name = '{name}' ORDER BY mm.uid")
    return [bytes.fromhex(x) for x in out.split()]


@pytest.fixture(scope="module")
def dns():
    server = DNSServer()
    z = server
    # SPF
    z.txt("spf-pass.test", "v=spf1 ip4:127.0.0.0/8 -all")
    z.txt("spf-fail.test", "v=spf1 ip4:192.0.2.1 -all")
    z.txt("spf-soft.test", "v=spf1 ip4:192.0.2.1 ~all")
    z.txt("spf-neutral.test", "v=spf1 ?all")
    z.add("spf-none.test", "A", "192.0.2.7")
    z.txt("spf-include.test", "v=spf1 include:spf-pass.test -all")
    z.txt("spf-mx.test", "v=spf1 mx -all")
    z.add("spf-mx.test", "MX", (10, "mail.spf-mx.test"))
    z.add("mail.spf-mx.test", "A", "127.0.0.1")
    z.txt("spf-macro.test", "v=spf1 exists:%{i}._ip.%{d} -all")
    z.add("127.0.0.1._ip.spf-macro.test", "A", "127.0.0.2")
    z.txt("spf-loop.test", "v=spf1 redirect=spf-loop.test")
    z.txt("spf-exp.test", "v=spf1 include:spf-inc-exp.test -all exp=why.%{d}")
    z.txt("why.spf-exp.test", "%{i} is not one of %{d}'s servers")
    z.txt("spf-inc-exp.test", "v=spf1 -ip4:127.0.0.1 exp=never.spf-exp.test")
    z.txt("never.spf-exp.test", "an included exp= must not be used")
    z.txt("spf-two.test", "v=spf1 -all")
    z.txt("spf-two.test", "v=spf1 +all")
    z.txt("spf-syntax.test", "v=spf1 ip4:300.1.1.1 -all")
    z.txt("spf-void.test", "v=spf1 a:n1.spf-void.test a:n2.spf-void.test a:n3.spf-void.test -all")
    # DKIM keys of signer.test and a DMARC policy that asks for rejection
    rsa_pem, rsa_txt = rsa_key()
    ed_key, ed_txt = ed25519_key()
    z.txt("rsa1._domainkey.signer.test", rsa_txt)
    z.txt("ed1._domainkey.signer.test", ed_txt)
    z.txt("revoked._domainkey.signer.test", "v=DKIM1; k=rsa; p=")
    z.txt("signer.test", "v=spf1 -all")
    z.txt("_dmarc.signer.test", "v=DMARC1; p=reject; adkim=r; aspf=r")
    # a sub-domain signer: relaxed alignment through the organizational domain
    z.txt("rsa1._domainkey.mail.signer.test", rsa_txt)
    # DMARC quarantine (to Junk) and none
    z.txt("quar.test", "v=spf1 -all")
    z.txt("_dmarc.quar.test", "v=DMARC1; p=quarantine")
    z.txt("monitor.test", "v=spf1 -all")
    z.txt("_dmarc.monitor.test", "v=DMARC1; p=none; rua=mailto:d@monitor.test")
    # the client's reverse name, forward-confirmed (iprev)
    z.add("1.0.0.127.in-addr.arpa", "PTR", "client.loop.test")
    z.add("client.loop.test", "A", "127.0.0.1")
    server.hang.add("hang.test")
    server.keys = {"rsa": rsa_pem, "ed": ed_key}
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mx(dns, pg, tls_files, tmp_path_factory):
    from conftest import Cairnd, _migrate
    pg.reset_db()
    d = Cairnd(tmp_path_factory.mktemp("cairnd-scan"), pg, *tls_files, {
        "server": {"hostname": AUTHSERV},
        "queue": {"resolver": dns.address},
        "scan": {"smtp": "yes", "lmtp": "yes", "authserv_id": AUTHSERV, "timeout": "1500ms",
                 "dns_timeout": "400ms", "step_timeout": "1200ms", "on_timeout": "tempfail"},
    })
    _migrate(pg, d.conf)
    d.start()
    ctl(d, "domain", "add", "local.test")
    for u in ("ann", "bob", "quinn", "rita"):
        ctl(d, "user", "add", f"{u}@local.test", "--password", PASSWORD)
    yield d
    d.stop()


def send(d, sender, data, rcpts=("ann@local.test",), helo="client.example"):
    """Send over the MX port; (code, text) of the reply to the end of DATA."""
    with smtplib.SMTP("127.0.0.1", d.smtp_port, local_hostname=helo, timeout=30) as s:
        s.ehlo(helo)
        code, _ = s.mail(sender)
        assert code == 250
        for r in rcpts:
            code, _ = s.rcpt(r)
            assert code == 250
        code, text = s.data(data)
        return code, text.decode()


def last(d, user="ann@local.test", name="INBOX"):
    msgs = mailbox(d, user, name)
    assert msgs, f"nothing in {user} {name}"
    return msgs[-1]


def authres(raw):
    ours = [v for v in header_values(raw, "Authentication-Results") if v.startswith(AUTHSERV)]
    assert len(ours) == 1, ours
    return ours[0]


@pytest.mark.parametrize("domain,result", [
    ("spf-pass.test", "pass"), ("spf-fail.test", "fail"), ("spf-soft.test", "softfail"),
    ("spf-neutral.test", "neutral"), ("spf-none.test", "none"), ("nxdomain.test", "none"),
    ("spf-include.test", "pass"), ("spf-mx.test", "pass"), ("spf-macro.test", "pass"),
    ("spf-loop.test", "permerror"), ("spf-two.test", "permerror"),
    ("spf-syntax.test", "permerror"), ("spf-void.test", "permerror"),
])
def test_spf(mx, domain, result):
    sender = f"someone@{domain}"
    code, text = send(mx, sender, message(sender, subject=f"spf {domain}"))
    assert code == 250, text
    raw = last(mx)
    ar = authres(raw)
    assert f"spf={result} " in ar, ar
    assert f"smtp.mailfrom={sender}" in ar, ar
    assert "iprev=pass (client.loop.test) policy.iprev=127.0.0.1" in ar, ar


def test_spf_explanation(mx):
    sender = "e@spf-exp.test"
    assert send(mx, sender, message(sender, subject="exp"))[0] == 250
    ar = authres(last(mx))
    assert "spf=fail" in ar and "127.0.0.1 is not one of spf-exp.test's servers" in ar, ar
    assert "included" not in ar


def test_spf_null_sender_uses_helo(mx):
    code, text = send(mx, "<>", message("mailer-daemon@spf-pass.test", subject="bounce"),
                      helo="spf-pass.test")
    assert code == 250, text
    ar = authres(last(mx))
    assert "spf=pass " in ar and "smtp.helo=spf-pass.test" in ar, ar


@pytest.mark.parametrize("selector,ed", [("rsa1", False), ("ed1", True)])
def test_dkim_pass_and_dmarc_pass(mx, dns, selector, ed):
    sender = "news@signer.test"
    msg = message(sender, subject=f"dkim {selector}")
    key = dns.keys["ed" if ed else "rsa"]
    signed = sign(msg, "signer.test", selector, key, ed25519=ed)
    code, text = send(mx, sender, signed)
    assert code == 250, text
    ar = authres(last(mx))
    assert f"dkim=pass" in ar and "header.d=signer.test" in ar and f"header.s={selector}" in ar, ar
    # SPF fails (-all) but DKIM is aligned: DMARC passes
    assert "spf=fail" in ar and "dmarc=pass" in ar and "header.from=signer.test" in ar, ar


@pytest.mark.parametrize("canon", [(b"simple", b"simple"), (b"relaxed", b"simple"),
                                   (b"simple", b"relaxed")])
def test_dkim_canonicalizations(mx, dns, canon):
    sender = "news@signer.test"
    msg = message(sender, subject="canon " + "/".join(c.decode() for c in canon),
                  body=b"Line  with   spaces \r\n\r\n\r\n")
    signed = sign(msg, "signer.test", "rsa1", dns.keys["rsa"], canonicalize=canon)
    assert send(mx, sender, signed)[0] == 250
    ar = authres(last(mx))
    assert "dkim=pass" in ar and "dmarc=pass" in ar, ar


def test_dkim_relaxed_canonicalization_and_subdomain_alignment(mx, dns):
    sender = "news@signer.test"
    msg = message(sender, subject="relaxed sub")
    signed = sign(msg, "mail.signer.test", "rsa1", dns.keys["rsa"],
                  canonicalize=(b"relaxed", b"relaxed"))
    code, text = send(mx, sender, signed)
    assert code == 250, text
    ar = authres(last(mx))
    assert "dkim=pass" in ar and "header.d=mail.signer.test" in ar and "dmarc=pass" in ar, ar


def test_dkim_body_modified_fails_and_dmarc_reject_is_5xx(mx, dns):
    sender = "news@signer.test"
    signed = sign(message(sender, subject="tampered"), "signer.test", "rsa1", dns.keys["rsa"])
    tampered = signed.replace(b"Hello there.", b"Hello THERE.")
    before = len(mailbox(mx, "ann@local.test"))
    code, text = send(mx, sender, tampered)
    # dkim=fail (body hash), spf=fail: DMARC p=reject -> refused at DATA
    assert code == 554 and "DMARC" in text, (code, text)
    assert len(mailbox(mx, "ann@local.test")) == before
    assert "dkim=fail" not in "".join(str(m) for m in mailbox(mx, "ann@local.test")[before:])


def test_dkim_header_modified_fails(mx, dns):
    sender = "news@spf-pass.test"
    msg = message(sender, subject="header change")
    signed = sign(msg, "signer.test", "rsa1", dns.keys["rsa"])
    changed = signed.replace(b"Subject: header change", b"Subject: header CHANGE")
    code, text = send(mx, sender, changed)
    assert code == 250, text
    ar = authres(last(mx))
    assert "dkim=fail" in ar and "header.d=signer.test" in ar, ar


def test_dkim_revoked_key_and_unsigned(mx, dns):
    sender = "a@spf-pass.test"
    signed = sign(message(sender, subject="revoked"), "signer.test", "revoked", dns.keys["rsa"])
    assert send(mx, sender, signed)[0] == 250
    ar = authres(last(mx))
    assert "dkim=permerror" in ar and "key revoked" in ar, ar
    assert send(mx, sender, message(sender, subject="unsigned"))[0] == 250
    assert "dkim=none" in authres(last(mx))


def test_dkim_body_length_tag(mx, dns):
    sender = "a@spf-pass.test"
    msg = message(sender, subject="length tag")
    signed = sign(msg, "signer.test", "rsa1", dns.keys["rsa"], length=True)
    # a mailing list appends a footer: l= still covers the signed part
    assert send(mx, sender, signed + b"Appended by a list.\r\n")[0] == 250
    ar = authres(last(mx))
    assert "dkim=pass" in ar, ar


def test_dmarc_quarantine_goes_to_junk_and_none_is_delivered(mx):
    sender = "x@quar.test"
    code, text = send(mx, sender, message(sender, subject="dmarc quarantine"))
    assert code == 250, text
    junk = last(mx, "ann@local.test", "Junk")
    ar = authres(junk)
    assert "dmarc=fail" in ar and "header.from=quar.test" in ar, ar
    assert b"$Junk" not in junk  # the keyword is a flag, not content
    sender = "x@monitor.test"
    assert send(mx, sender, message(sender, subject="dmarc none"))[0] == 250
    ar = authres(last(mx))
    assert "dmarc=fail" in ar and "header.from=monitor.test" in ar, ar


def test_forged_authentication_results_removed(mx):
    sender = "f@spf-fail.test"
    forged = (f"Authentication-Results: {AUTHSERV}; spf=pass smtp.mailfrom=f@spf-fail.test\r\n"
              f"Authentication-Results: {AUTHSERV.upper()} (comment); dkim=pass\r\n"
              "Authentication-Results: other.example; spf=pass\r\n"
              "X-Spam-Status: No, score=-100\r\n").encode()
    code, _ = send(mx, sender, message(sender, subject="forged", extra=forged))
    assert code == 250
    raw = last(mx)
    values = header_values(raw, "Authentication-Results")
    assert [v for v in values if v.lower().startswith(AUTHSERV)] == [authres(raw)]
    assert "spf=fail" in authres(raw)
    assert any(v.startswith("other.example") for v in values)
    assert header_values(raw, "X-Spam-Status")[0].startswith("No, score=0.9")


def test_policy_reject_threshold_is_5xx_and_stores_nothing(mx):
    ctl(mx, "scan", "policy-set", "bob@local.test", "reject=0.5")
    try:
        before = len(mailbox(mx, "bob@local.test"))
        sender = "r@spf-fail.test"
        code, text = send(mx, sender, message(sender, subject="score reject"),
                          rcpts=("bob@local.test",))
        assert code == 554 and "spam score" in text, (code, text)
        assert len(mailbox(mx, "bob@local.test")) == before
        # the domain default still accepts the same message for ann
        assert send(mx, sender, message(sender, subject="score ok"))[0] == 250
    finally:
        ctl(mx, "scan", "policy-delete", "bob@local.test")


def test_quarantine_list_show_release_delete(mx):
    ctl(mx, "scan", "policy-set", "quinn@local.test", "quarantine=0.5")
    sender = "q@spf-fail.test"
    for subject in ("held one", "held two"):
        code, text = send(mx, sender, message(sender, subject=subject, to="quinn@local.test"),
                          rcpts=("quinn@local.test",))
        assert code == 250, text
    assert mailbox(mx, "quinn@local.test") == []
    rows = [l.split("\t") for l in ctl(mx, "quarantine", "list", "quinn@local.test")
            .stdout.splitlines()]
    assert [r[8] for r in rows] == ["held one", "held two"], rows
    assert all(r[2] == "quinn@local.test" and r[3] == f"<{sender}>" for r in rows)
    shown = ctl(mx, "quarantine", "show", rows[0][0]).stdout
    assert "Reason: spam score 0.9" in shown and "SPF_FAIL" in shown and "Subject: held one" in shown
    out = ctl(mx, "quarantine", "release", rows[0][0]).stdout
    assert "quinn@local.test" in out
    inbox = mailbox(mx, "quinn@local.test")
    assert len(inbox) == 1 and b"Subject: held one" in inbox[0]
    assert inbox[0].startswith(b"Return-Path: <q@spf-fail.test>\r\n")
    assert "spf=fail" in authres(inbox[0])
    # released once only
    assert ctl(mx, "quarantine", "release", rows[0][0], check=False).returncode != 0
    ctl(mx, "quarantine", "delete", rows[1][0])
    assert ctl(mx, "quarantine", "list", "quinn@local.test").stdout == ""
    ctl(mx, "scan", "policy-delete", "quinn@local.test")


def test_dns_that_never_answers_gets_the_timeout_answer(mx):
    sender = "slow@hang.test"
    t0 = time.monotonic()
    code, text = send(mx, sender, message(sender, subject="slow"))
    elapsed = time.monotonic() - t0
    assert code == 451 and text.startswith("4.7.1 "), (code, text)
    assert elapsed < 6, elapsed
    assert not any(b"Subject: slow" in m for m in mailbox(mx, "ann@local.test"))
    assert "unscannable=yes" in mx.log_text()


def test_malformed_messages_never_crash(mx):
    sender = "m@spf-pass.test"
    broken_mime = (b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\r\n")
    huge = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"y" * 900) for i in range(60))
    parts = b"".join(b"--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i
                     for i in range(1000)) + b"--p--\r\n"
    many = (b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=p\r\n")
    folded = b"Subject: " + b"\r\n\t".join([b"fold"] * 2000) + b"\r\n"
    bad_sig = b"DKIM-Signature: v=1; a=rsa-sha256; d=; b=;; ===\r\n"
    cases = [
        message(sender, subject="broken mime", extra=broken_mime, body=b"--b\r\nxx\r\n"),
        message(sender, subject="huge headers", extra=huge),
        message(sender, subject="many parts", extra=many, body=parts),
        b"From: m@spf-pass.test\r\n" + folded + b"\r\nbody\r\n",
        message(sender, subject="bad sig", extra=bad_sig),
        b"no header at all\r\n",
    ]
    for data in cases:
        code, text = send(mx, sender, data)
        assert code == 250, (code, text, data[:60])
    metrics = mx.get("/metrics")[2].decode()
    counts = {l.split("\"")[1]: int(l.split()[-1]) for l in metrics.splitlines()
              if l.startswith("cairn_scan_verdicts_total{")}
    assert counts["accept"] >= len(cases) and counts["reject"] >= 1, counts
    assert "cairn_scan_duration_seconds_count" in metrics


def arc_sealed(dns, sender, subject):
    """A message sealed once (i=1) by a forwarder 'lists.example' signing as signer.test."""
    msg = (b"Authentication-Results: lists.example; spf=pass smtp.mailfrom=" + sender.encode()
           + b"\r\n" + message(sender, subject=subject))
    headers = dkim.arc_sign(msg, b"rsa1", b"signer.test", dns.keys["rsa"], b"lists.example",
                            include_headers=[b"from", b"to", b"subject", b"date"],
                            timestamp=int(time.time()))
    return b"".join(headers) + msg


def test_arc_chain_pass_and_fail(mx, dns):
    sender = "list@spf-pass.test"
    sealed = arc_sealed(dns, sender, "arc ok")
    assert sealed.startswith(b"ARC-Seal: ") or b"ARC-Seal: " in sealed
    assert send(mx, sender, sealed)[0] == 250
    ar = authres(last(mx))
    assert "arc=pass" in ar, ar
    # the body changed after sealing: the ARC-Message-Signature breaks
    sealed = arc_sealed(dns, sender, "arc broken").replace(b"Hello there.", b"Hello again.")
    assert send(mx, sender, sealed)[0] == 250
    ar = authres(last(mx))
    assert "arc=fail" in ar, ar
    assert send(mx, sender, message(sender, subject="no arc"))[0] == 250
    assert "arc=none" in authres(last(mx))


def test_lmtp_scanned_and_submission_not(mx):
    sender = "l@spf-fail.test"
    with smtplib.LMTP("127.0.0.1", mx.lmtp_port, timeout=30) as s:
        s.ehlo("lmtp.client")
        s.mail(sender)
        s.rcpt("ann@local.test")
        code, _ = s.data(message(sender, subject="over lmtp"))
        assert code == 250
    assert "spf=fail" in authres(last(mx))
    # submission: authenticated users are not scanned by default
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP_SSL("127.0.0.1", mx.submissions_port, context=ctx, timeout=30) as s:
        s.login("rita@local.test", PASSWORD)
        s.sendmail("rita@local.test", ["ann@local.test"],
                   message("rita@local.test", subject="submitted"))
    raw = last(mx)
    assert b"Subject: submitted" in raw
    assert header_values(raw, "X-Spam-Status") == []


def test_domain_policy_then_user_override(mx):
    sender = "d@spf-fail.test"
    ctl(mx, "scan", "policy-set", "local.test", "junk=0.5")
    try:
        assert send(mx, sender, message(sender, subject="domain junk"),
                    rcpts=("rita@local.test",))[0] == 250
        assert b"Subject: domain junk" in last(mx, "rita@local.test", "Junk")
        ctl(mx, "scan", "policy-set", "rita@local.test", "junk=off")
        assert send(mx, sender, message(sender, subject="user inbox"),
                    rcpts=("rita@local.test",))[0] == 250
        assert b"Subject: user inbox" in last(mx, "rita@local.test")
        listing = ctl(mx, "scan", "policy").stdout
        assert "local.test junk=0.5" in listing and "rita@local.test junk=off" in listing
        # two recipients, two policies, one transaction: each gets its own
        assert send(mx, sender, message(sender, subject="split"),
                    rcpts=("rita@local.test", "bob@local.test"))[0] == 250
        assert b"Subject: split" in last(mx, "rita@local.test")
        assert b"Subject: split" in last(mx, "bob@local.test", "Junk")
    finally:
        ctl(mx, "scan", "policy-delete", "rita@local.test", check=False)
        ctl(mx, "scan", "policy-delete", "local.test")


def test_sighup_reloads_modules(mx):
    import signal
    before = mx.log_text().count("scan event=reloaded module=spf")
    mx.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while mx.log_text().count("scan event=reloaded module=spf") == before:
        assert time.monotonic() < deadline, "no reload logged"
        time.sleep(0.05)
    sender = "h@spf-pass.test"
    assert send(mx, sender, message(sender, subject="after hup"))[0] == 250
    assert "spf=pass" in authres(last(mx))


def test_on_timeout_accept_delivers_unscanned(dns, pg, tls_files, tmp_path_factory, mx):
    """A second cairnd on the same database with on_timeout = accept."""
    from conftest import Cairnd
    d = Cairnd(tmp_path_factory.mktemp("cairnd-scan-accept"), pg, *tls_files, {
        "server": {"hostname": AUTHSERV},
        "queue": {"resolver": dns.address},
        "scan": {"smtp": "yes", "authserv_id": AUTHSERV, "timeout": "600ms",
                 "dns_timeout": "200ms", "on_timeout": "accept"},
    })
    d.start()
    try:
        sender = "slow@hang.test"
        code, text = send(d, sender, message(sender, subject="slow but accepted"))
        assert code == 250, (code, text)
        raw = last(d)
        assert b"Subject: slow but accepted" in raw
        assert header_values(raw, "X-Spam-Status") == ["Unscanned (the scan did not complete)"]
        metrics = d.get("/metrics")[2].decode()
        assert "cairn_scan_unscannable_total 1" in metrics
    finally:
        d.stop()


@pytest.mark.parametrize("option,value,why", [
    ("tag_threshold", "lots", "tag_threshold = lots: not a score"),
    ("budgets", "spf=2s", "[scan] budgets"),
])
def test_bad_scan_options_stop_cairnd(pg, tls_files, tmp_path_factory, option, value, why):
    from conftest import Cairnd
    d = Cairnd(tmp_path_factory.mktemp("cairnd-scan-bad"), pg, *tls_files,
               {"scan": {"smtp": "yes", option: value}})
    d.start(wait=False)
    assert d.proc.wait(timeout=30) != 0
    assert why in d.log_text(), d.log_text()


def test_cairn_signer_verifies(mx, dns, tmp_path):
    """A message signed by Cairn's own outbound signer (server/queue/dkim.c,
    ed25519 and rsa) passes Cairn's verifier."""
    import os
    from conftest import BUILD
    tool = pathlib.Path(os.environ.get("CAIRND", str(BUILD / "cairnd"))).parent / \
        "tests" / "integration" / "dkim-sign-test"
    if not tool.exists():
        pytest.fail(f"{tool} not built (make check builds it)")
    sender = "news@signer.test"
    msg = message(sender, subject="cairn signed")
    (tmp_path / "msg").write_bytes(msg)
    (tmp_path / "key.pem").write_bytes(dns.keys["rsa"])
    field = subprocess.run([str(tool), "signer.test", "rsa1", str(tmp_path / "key.pem"),
                            str(tmp_path / "msg")], check=True, capture_output=True).stdout
    assert send(mx, sender, field + msg)[0] == 250
    ar = authres(last(mx))
    assert "dkim=pass" in ar and "header.s=rsa1" in ar, ar
