"""cairnctl import/export against a real PostgreSQL: a generated 1000-message
mbox (sizes from a few hundred bytes to ~200 KB, CRLF and LF messages, body
lines starting with "From " and ">From ") is imported with progress lines; a
rerun adds nothing; an interrupted import resumes without duplicates; the mbox
and Maildir exports give back the same bytes (the mbox export is the input
file itself, From_ lines included); a Maildir import keeps flags and dates.
"""
import email.utils
import os
import random
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
from conftest import CAIRNCTL  # noqa: E402  (the one place that knows the build dir)
MIGRATIONS = REPO / "migrations"
USER = "ann@example.test"


def psql(conninfo, sql):
    r = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                        "-c", sql], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture
def env(pg, tmp_path):
    name = "cairn_imp_" + uuid.uuid4().hex[:12]
    psql(pg.conninfo, f'CREATE DATABASE "{name}"')
    conninfo = f"{pg.conninfo} dbname={name}"
    conf = tmp_path / "cairn.conf"
    conf.write_text(f"[store]\nconninfo = {conninfo}\nmigrations_dir = {MIGRATIONS}\n"
                    "[http]\nlisten_tls =\n")

    def ctl(*args, rc=0):
        r = subprocess.run([CAIRNCTL, "-c", str(conf), *map(str, args)], capture_output=True,
                           text=True, input="", timeout=600)
        assert r.returncode == rc, \
            f"cairnctl {' '.join(map(str, args))}: rc={r.returncode}\n{r.stdout}{r.stderr}"
        return r

    ctl("migrate")
    ctl("domain", "add", "example.test")
    ctl("user", "add", USER, "--password", "pw")
    ctl.sql = lambda q: psql(conninfo, q)
    yield ctl
    psql(pg.conninfo, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_message(rng, i):
    eol = b"\r\n" if i % 7 == 0 else b"\n"
    date = 1_600_000_000 + i * 3600
    head = [b"From: Sender %d <s%d@example.org>" % (i, i),
            b"To: ann@example.test",
            b"Subject: message %d =?UTF-8?Q?caf=C3=A9?=" % i,
            email.utils.formatdate(date).encode(),
            b"Message-ID: <%d.import@example.org>" % i]
    head[3] = b"Date: " + head[3]
    size = rng.choice([200, 500, 1000, 2000, 5000, 20000]) if i % 50 else 200_000
    body = []
    n = 0
    while n < size:
        k = rng.randrange(10)
        if k == 0:
            line = b"From the desk of sender %d" % i
        elif k == 1:
            line = b">From a quoted reply"
        elif k == 2:
            line = b">>From deeper"
        elif k == 3:
            line = b""
        else:
            line = bytes(rng.choice(b"abcdefghij klmnop") for _ in range(rng.randrange(1, 76)))
        body.append(line)
        n += len(line) + len(eol)
    return eol.join(head) + eol + eol + eol.join(body) + eol, date


def mboxrd(messages):
    """Write messages the way mboxrd wants them, independently of the C code."""
    out = []
    for raw, date in messages:
        out.append(b"From MAILER-DAEMON " + time.asctime(time.gmtime(date)).encode() + b"\n")
        for line in raw.splitlines(keepends=True):
            if re.match(rb">*From ", line):
                line = b">" + line
            out.append(line)
        out.append(b"\n")
    return b"".join(out)


@pytest.fixture(scope="module")
def corpus():
    rng = random.Random(3)
    return [make_message(rng, i) for i in range(1000)]


def mailbox_count(ctl, mailbox="INBOX"):
    return int(ctl.sql("SELECT count(*) FROM mailbox_messages mm JOIN mailboxes m"
                       f" ON m.id = mm.mailbox_id WHERE m.name = '{mailbox}'"))


def test_mbox_import_rerun_export(env, corpus, tmp_path):
    ctl = env
    src = tmp_path / "in.mbox"
    data = mboxrd(corpus)
    src.write_bytes(data)
    assert sum(1 for r, _ in corpus if re.search(rb"(?m)^>*From ", r)) > 900

    r = ctl("import", "--user", USER, src)
    assert "import: 500/1000 messages" in r.stdout, r.stdout
    assert re.search(r"^import: 1000/1000 messages, [\d.]+ MB, \d+ msg/s$", r.stdout, re.M), r.stdout
    assert "import: done, 1000 imported, 0 already present" in r.stdout, r.stdout
    assert mailbox_count(ctl) == 1000
    # the default mailboxes came with the first import
    assert ctl.sql("SELECT count(*) FROM mailboxes WHERE special_use IS NOT NULL") == "5"
    total = sum(len(raw) for raw, _ in corpus)
    assert ctl.sql("SELECT bytes || ' ' || messages FROM mail_usage") == f"{total} 1000"
    # internaldate from the From_ line
    assert ctl.sql("SELECT extract(epoch FROM internaldate)::bigint FROM mailbox_messages"
                   " WHERE uid = 10") == str(corpus[9][1])

    r = ctl("import", "--user", USER, src)
    assert "import: done, 0 imported, 1000 already present" in r.stdout, r.stdout
    assert mailbox_count(ctl) == 1000

    out = tmp_path / "out.mbox"
    r = ctl("export", "--user", USER, "--format", "mbox", out)
    assert "export: 1000 messages" in r.stdout
    assert out.read_bytes() == data  # the whole file, From_ lines and quoting included

    md = tmp_path / "out.maildir"
    ctl("export", "--user", USER, "--format", "maildir", md)
    files = sorted((md / "cur").iterdir())
    assert len(files) == 1000
    assert not list((md / "new").iterdir())
    for f, (raw, date) in zip(files, corpus):
        assert f.read_bytes() == raw, f.name
        assert f.name.endswith(":2,")
        assert int(f.stat().st_mtime) == date


def test_import_resumes_without_duplicates(env, corpus, tmp_path):
    ctl = env
    full = mboxrd(corpus[:300])
    # an import stopped after 120 messages (the file as far as it went)
    part = mboxrd(corpus[:120])
    (tmp_path / "part.mbox").write_bytes(part)
    (tmp_path / "full.mbox").write_bytes(full)
    ctl("import", "--user", USER, "--mailbox", "Old/Mail", tmp_path / "part.mbox")
    assert mailbox_count(ctl, "Old/Mail") == 120
    r = ctl("import", "--user", USER, "--mailbox", "Old/Mail", tmp_path / "full.mbox")
    assert "import: done, 180 imported, 120 already present" in r.stdout, r.stdout
    assert mailbox_count(ctl, "Old/Mail") == 300
    # uids follow the source order
    ids = ctl.sql("SELECT b.hdr_message_id FROM mailbox_messages mm JOIN message_blobs b"
                  " ON b.id = mm.blob_id JOIN mailboxes m ON m.id = mm.mailbox_id"
                  " WHERE m.name = 'Old/Mail' ORDER BY mm.uid").split("\n")
    assert ids == [f"<{i}.import@example.org>" for i in range(300)]


def test_identical_messages_in_source_are_kept(env, corpus, tmp_path):
    ctl = env
    msgs = [corpus[0], corpus[1], corpus[0], corpus[0]]
    (tmp_path / "dup.mbox").write_bytes(mboxrd(msgs))
    r = ctl("import", "--user", USER, tmp_path / "dup.mbox")
    assert "4 imported" in r.stdout
    r = ctl("import", "--user", USER, tmp_path / "dup.mbox")
    assert "0 imported, 4 already present" in r.stdout
    assert mailbox_count(ctl) == 4
    assert ctl.sql("SELECT count(*) || ' ' || sum(refcount) FROM message_blobs") == "2 4"


def test_maildir_import_keeps_flags(env, corpus, tmp_path):
    ctl = env
    md = tmp_path / "Maildir"
    for d in ("cur", "new", "tmp"):
        (md / d).mkdir(parents=True)
    cases = [("cur", "1600000001.M1P1.host:2,S", 1), ("cur", "1600000002.M1P1.host:2,FRS", 7),
             ("cur", "1600000003.M1P1.host:2,DT", 24), ("new", "1600000004.M1P1.host", 0),
             ("cur", "1600000005.M1P1.host:2,Pa", 0)]
    for i, (d, name, _) in enumerate(cases):
        f = md / d / name
        f.write_bytes(corpus[i][0])
        os.utime(f, (corpus[i][1], corpus[i][1]))
    (md / "cur" / ".hidden").write_bytes(b"not a message")
    r = ctl("import", "--user", USER, "--mailbox", "Imported", md)
    assert "import: done, 5 imported" in r.stdout, r.stdout
    rows = ctl.sql("SELECT mm.flags || ' ' || extract(epoch FROM mm.internaldate)::bigint"
                   " FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id"
                   " WHERE m.name = 'Imported' ORDER BY mm.uid").split("\n")
    assert rows == [f"{flags} {corpus[i][1]}" for i, (_, _, flags) in enumerate(cases)]

    out = tmp_path / "back"
    ctl("export", "--user", USER, "--mailbox", "Imported", "--format", "maildir", out)
    files = sorted((out / "cur").iterdir())
    assert [f.name.split(":2,")[1] for f in files] == ["S", "FRS", "DT", "", ""]
    assert [f.read_bytes() for f in files] == [corpus[i][0] for i in range(5)]
    # and that export imports again unchanged
    r = ctl("import", "--user", USER, "--mailbox", "Again", out)
    assert "5 imported" in r.stdout
    again = ctl.sql("SELECT mm.flags FROM mailbox_messages mm JOIN mailboxes m"
                    " ON m.id = mm.mailbox_id WHERE m.name = 'Again' ORDER BY mm.uid")
    assert again.split("\n") == ["1", "7", "24", "0", "0"]


def test_import_errors(env, tmp_path):
    ctl = env
    bad = tmp_path / "not.mbox"
    bad.write_bytes(b"Subject: no From_ line\n\nbody\n")
    r = ctl("import", "--user", USER, bad, rc=1)
    assert "not an mbox file" in r.stderr
    r = ctl("import", "--user", USER, tmp_path / "missing", rc=1)
    assert "No such file or directory" in r.stderr
    r = ctl("import", "--user", "nobody@example.test", bad, rc=1)
    assert "unknown account nobody@example.test" in r.stderr
    r = ctl("export", "--user", USER, "--format", "tar", tmp_path / "x", rc=2)
    assert "--format mbox or --format maildir" in r.stderr
    r = ctl("export", "--user", USER, "--mailbox", "Nope", "--format", "mbox", tmp_path / "x",
            rc=1)
    assert "does not exist" in r.stderr
