"""Bayes in the scan stage (issue 14): a generated ham/spam corpus trained
with `cairnctl spam train` (mbox and Maildir) and by IMAP (MOVE into Junk,
$Junk/$NotJunk keywords, moved back out of Junk), then new messages
classified as BAYES_9x / BAYES_0x in the verdict log line."""
import imaplib
import os
import pathlib
import re
import ssl
import subprocess
import tempfile

import pytest

import scanc_util as su
from conftest import CAIRNCTL


def config(**bayes):
    b = {"min_spam": "20", "min_ham": "20", "train_interval": "100ms"}
    b.update(bayes)
    return {"server": {"hostname": "mx.local.test"}, "bayes": b,
            "rules": {"enabled": "no"},
            "scan": {"smtp": "yes", "spf": "no", "dkim": "no", "dmarc": "no", "arc": "no"}}


def status(d, user="ann@local.test"):
    out = su.ctl(d, "spam", "status", "--user", user)
    m = re.search(r": (\d+) spam, (\d+) ham\nglobal: (\d+) spam, (\d+) ham", out)
    return tuple(int(x) for x in m.groups())


def verdict(d, subject_marker):
    """The Bayes test of the last verdict line for a message id marker."""
    lines = [l for l in d.log_text().splitlines() if " scan ip=" in l and subject_marker in l]
    assert lines, subject_marker
    m = re.search(r"(BAYES_\d+)=", lines[-1])
    return m.group(1) if m else None


@pytest.fixture
def tmpdir_():
    d = pathlib.Path(tempfile.mkdtemp(prefix="corpus-"))
    yield d
    subprocess.run(["rm", "-rf", str(d)])


def test_cairnctl_train_then_classify(cairnd_factory, pg, tmpdir_):
    spam, ham = su.corpus(40)
    d = su.start(cairnd_factory, pg, config())
    su.write_mbox(tmpdir_ / "spam.mbox", spam[:30])
    su.write_maildir(tmpdir_ / "ham", ham[:30])
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), "spam", "train", "--spam", "--user",
                        "ann@local.test", str(tmpdir_ / "spam.mbox")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "30 messages trained as spam" in r.stdout
    assert "trained 30/30" in r.stderr            # progress
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), "spam", "train", "--ham", "--user",
                        "ann@local.test", str(tmpdir_ / "ham")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert status(d) == (30, 30, 30, 30)
    # training the same mbox again changes nothing
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), "spam", "train", "--spam", "--user",
                        "ann@local.test", str(tmpdir_ / "spam.mbox")],
                       capture_output=True, text=True, timeout=300)
    assert "30 already known" in r.stdout
    assert status(d) == (30, 30, 30, 30)
    # held-out messages: spam high, ham low
    for i, m in enumerate(spam[30:35]):
        code, _ = su.send(d, m)
        assert code == 250
    for i, m in enumerate(ham[30:35]):
        code, _ = su.send(d, m)
        assert code == 250
    log = d.log_text()
    spam_tests = re.findall(r"msgid=<s\d+\.[0-9.]+@corpus\.example>.*?(BAYES_\d+)=", log)
    ham_tests = re.findall(r"msgid=<h\d+\.[0-9.]+@corpus\.example>.*?(BAYES_\d+)=", log)
    assert len(spam_tests) == 5 and len(ham_tests) == 5, (spam_tests, ham_tests)
    assert all(t in ("BAYES_95", "BAYES_99", "BAYES_999") for t in spam_tests), spam_tests
    assert all(t in ("BAYES_00", "BAYES_05") for t in ham_tests), ham_tests
    # the wrong class: relearned, counts move
    r = subprocess.run([CAIRNCTL, "-c", str(d.conf), "spam", "train", "--ham", "--user",
                        "ann@local.test", str(tmpdir_ / "spam.mbox")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0
    assert status(d) == (0, 60, 0, 60)


def test_untrained_adds_nothing(cairnd_factory, pg):
    d = su.start(cairnd_factory, pg, config())
    code, _ = su.send(d, su.ham(1))
    assert code == 250
    assert "BAYES_" not in d.log_text()


def imap_login(d):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    m = imaplib.IMAP4_SSL("127.0.0.1", d.imaps_port, ssl_context=ctx)
    m.login("ann@local.test", su.PASSWORD)
    return m


def test_imap_training(cairnd_factory, pg):
    """MOVE into Junk trains spam; $NotJunk and MOVE out of Junk train ham;
    delivery into Junk by the stage itself trains nothing."""
    spam, ham = su.corpus(12, seed=7)
    d = su.start(cairnd_factory, pg, config())
    for m in spam[:6] + ham[:6]:
        assert su.send(d, m)[0] == 250
    m = imap_login(d)
    m.select("INBOX")
    typ, data = m.uid("SEARCH", None, "ALL")
    uids = data[0].split()
    assert len(uids) == 12
    # the first 6 are spam: MOVE them to Junk
    typ, _ = m.uid("MOVE", b",".join(uids[:6]).decode(), "Junk")
    assert typ == "OK"
    su.wait_for(lambda: status(d)[0] == 6, what="6 spam learned")
    # two hams flagged $NotJunk
    typ, _ = m.uid("STORE", b",".join(uids[6:8]).decode(), "+FLAGS", "($NotJunk)")
    assert typ == "OK"
    su.wait_for(lambda: status(d)[1] == 2, what="2 ham learned")
    # one spam moved back out of Junk (a mistake corrected): relearned as ham
    m.select("Junk")
    typ, data = m.uid("SEARCH", None, "ALL")
    juids = data[0].split()
    typ, _ = m.uid("MOVE", juids[0].decode(), "INBOX")
    assert typ == "OK"
    su.wait_for(lambda: status(d)[:2] == (5, 3), what="relearned as ham")
    # $Junk on an INBOX message
    m.select("INBOX")
    typ, _ = m.uid("STORE", uids[8].decode(), "+FLAGS", "($Junk)")
    su.wait_for(lambda: status(d)[:2] == (6, 2) or status(d)[:2] == (6, 3),
                what="$Junk learned")
    m.logout()
    assert status(d)[2:] == status(d)[:2]   # the global database follows
    assert "bayes train taken=" in d.log_text()
