"""ManageSieve (RFC 5804, issue 16) against a real cairnd: the capability
greeting, STARTTLS with the capabilities sent again, AUTHENTICATE through
the directory, every script command and its response codes, literals and
bad input on a raw socket, cairnctl sieve, and sieve-connect from Debian as
the real client."""
import os
import subprocess

import pytest

from sieve_util import PASSWORD, ManageSieve, ctl, literal, quote

SCRIPT = 'require ["fileinto"];\r\nif header :contains "subject" "list" {\r\n  fileinto "Lists";\r\n}\r\n'


@pytest.fixture
def ms(cairnd_factory, pg):
    pg.reset_db()
    d = cairnd_factory({"sieve": {"max_scripts": "3", "max_script_size": "4k",
                                  "max_total_size": "10k"}})
    ctl(d, "domain", "add", "sieve.test")
    ctl(d, "user", "add", "ann@sieve.test", "--password", PASSWORD)
    ctl(d, "user", "add", "bob@sieve.test", "--password", PASSWORD)
    return d


def authed(d, user="ann@sieve.test"):
    c = ManageSieve(d.managesieve_port)
    c.starttls()
    lines, status = c.login(user)
    assert status.startswith("OK"), status
    return c


def test_greeting_and_starttls(ms):
    c = ManageSieve(ms.managesieve_port)
    caps = c.capabilities()
    assert c.greeting_status.startswith("OK")
    assert caps["IMPLEMENTATION"] == "Cairn"
    assert caps["VERSION"] == "1.0"
    assert "STARTTLS" in caps
    assert "fileinto" in caps["SIEVE"].split() and "vacation" in caps["SIEVE"].split()
    assert caps["MAXREDIRECTS"] == "4"
    # Plaintext before TLS is not offered and refused.
    assert caps["SASL"] == ""
    lines, status = c.login("ann@sieve.test")
    assert status.startswith("NO (ENCRYPT-NEEDED)"), status
    # Pipelined plaintext after STARTTLS must not be executed after TLS.
    c.send("STARTTLS\r\nLOGOUT\r\n")
    lines, status = c.read_response()
    assert status.startswith("OK")
    import ssl
    from sieve_util import tls_ctx
    c.sock = tls_ctx().wrap_socket(c.sock)
    c.buf = b""
    lines, status = c.read_response()
    caps = c.capabilities(lines)
    assert status.startswith("OK")
    assert "STARTTLS" not in caps and caps["SASL"] == "PLAIN LOGIN"
    lines, status = c.login("ann@sieve.test", "wrong")
    assert status.startswith("NO"), status
    lines, status = c.login("ann@sieve.test")
    assert status.startswith("OK"), status
    lines, status = c.cmd("CAPABILITY")
    assert c.capabilities(lines)["OWNER"] == "ann@sieve.test"
    assert c.cmd("LOGOUT")[1].startswith("OK")
    c.close()


def test_script_commands(ms):
    c = authed(ms)
    assert c.cmd("LISTSCRIPTS") == ([], 'OK "Listscripts completed"')
    assert c.putscript("rules", SCRIPT)[1].startswith("OK")
    # Replacing keeps one script of that name.
    assert c.putscript("rules", SCRIPT)[1].startswith("OK")
    lines, status = c.cmd("LISTSCRIPTS")
    assert lines == ['"rules"']
    assert c.cmd('SETACTIVE "rules"')[1].startswith("OK")
    assert c.cmd("LISTSCRIPTS")[0] == ['"rules" ACTIVE']
    lines, status = c.cmd('GETSCRIPT "rules"')
    assert status.startswith("OK")
    assert lines == [f"{{{len(SCRIPT)}}}\r\n{SCRIPT}"]
    assert c.cmd('DELETESCRIPT "rules"')[1].startswith("NO (ACTIVE)")
    assert c.cmd('GETSCRIPT "nope"')[1].startswith("NO (NONEXISTENT)")
    assert c.cmd('SETACTIVE "nope"')[1].startswith("NO (NONEXISTENT)")
    assert c.putscript("other", "keep;\r\n")[1].startswith("OK")
    assert c.cmd('RENAMESCRIPT "other" "rules"')[1].startswith("NO (ALREADYEXISTS)")
    assert c.cmd('RENAMESCRIPT "rules" "main"')[1].startswith("OK")
    assert c.cmd("LISTSCRIPTS")[0] == ['"main" ACTIVE', '"other"']
    # Deactivate with the empty name, then delete.
    assert c.cmd('SETACTIVE ""')[1].startswith("OK")
    assert c.cmd('DELETESCRIPT "main"')[1].startswith("OK")
    assert c.cmd("LISTSCRIPTS")[0] == ['"other"']
    # Syntax errors come back with line and column, nothing stored.
    lines, status = c.putscript("bad", 'keep;\r\nfileinto "x";\r\n')
    assert status.startswith("NO") and "line 2" in status, status
    assert c.cmd("LISTSCRIPTS")[0] == ['"other"']
    lines, status = c.cmd(b"CHECKSCRIPT " + literal("if true {\r\n") + b"\r\n")
    assert status.startswith("NO") and "line" in status, status
    assert c.cmd(b"CHECKSCRIPT " + literal(SCRIPT) + b"\r\n")[1].startswith("OK")
    # NOOP echoes its tag; HAVESPACE checks the limits.
    assert c.cmd('NOOP "t42"')[1] == 'OK (TAG "t42") "Done"'
    assert c.cmd('HAVESPACE "x" 100')[1].startswith("OK")
    assert c.cmd('HAVESPACE "x" 5000')[1].startswith("NO (QUOTA/MAXSIZE)")
    # Quota on the number of scripts (3).
    assert c.putscript("two", "keep;")[1].startswith("OK")
    assert c.putscript("three", "keep;")[1].startswith("OK")
    assert c.putscript("four", "keep;")[1].startswith("NO (QUOTA")
    assert c.cmd('HAVESPACE "four" 10')[1].startswith("NO (QUOTA")
    # Bad names (RFC 5804 1.6).
    assert c.putscript("a\tb", "keep;")[1].startswith("NO")
    # Another user sees none of these.
    c2 = authed(ms, "bob@sieve.test")
    assert c2.cmd("LISTSCRIPTS")[0] == []
    assert c2.cmd('GETSCRIPT "other"')[1].startswith("NO (NONEXISTENT)")
    c2.close()
    # UNAUTHENTICATE goes back to the non-authenticated state.
    assert c.cmd("UNAUTHENTICATE")[1].startswith("OK")
    assert c.cmd("LISTSCRIPTS")[1].startswith("NO")
    c.close()
    out = ctl(ms, "sieve", "list", "--user", "ann@sieve.test").stdout
    assert "other" in out and "three" in out


def test_literals_and_bad_input(ms):
    c = authed(ms)
    # A script as a synchronising-style literal and a name as a literal.
    assert c.cmd(b"PUTSCRIPT {3+}\r\nabc {5}\r\nkeep;\r\n")[1].startswith("OK")
    assert c.cmd("LISTSCRIPTS")[0] == ['"abc"']
    # Too large: refused before reading, the literal is skipped, and the
    # session goes on.
    big = "# " + "x" * 5000 + "\r\nkeep;\r\n"
    lines, status = c.putscript("big", big)
    assert status.startswith("NO (QUOTA/MAXSIZE)"), status
    assert c.cmd("NOOP")[1].startswith("OK")
    # Garbage and unknown commands get NO.
    assert c.cmd("FOO")[1].startswith("NO")
    assert c.cmd('GETSCRIPT "unterminated')[1].startswith("NO")
    assert c.cmd("GETSCRIPT 12")[1].startswith("NO")
    assert c.cmd("PUTSCRIPT \"x\" {zz+}")[1].startswith(("NO", "BYE"))
    c.close()
    # A literal far beyond the limit drops the client.
    c = authed(ms)
    c.send(b'PUTSCRIPT "huge" {999999999+}\r\n')
    lines, status = c.read_response()
    assert status.startswith("BYE"), status
    c.close()
    # Before login, literals are small and commands limited.
    c = ManageSieve(ms.managesieve_port)
    assert c.cmd("LISTSCRIPTS")[1].startswith("NO")
    c.send(b'AUTHENTICATE "PLAIN" {100000+}\r\n')
    assert c.read_response()[1].startswith("BYE")
    c.close()
    # Too many bad commands: BYE.
    c = ManageSieve(ms.managesieve_port)
    for i in range(9):
        assert c.cmd(f"BAD{i}")[1].startswith("NO")
    lines, status = c.cmd("BAD9")
    assert status.startswith("NO")
    assert c.read_response()[1].startswith("BYE")
    c.close()
    # SASL exchange with continuation, and cancel.
    c = ManageSieve(ms.managesieve_port)
    c.starttls()
    c.send('AUTHENTICATE "PLAIN"\r\n')
    assert c.read_line() == b'""'
    assert c.cmd("*")[1].startswith("NO")
    import base64
    c.send('AUTHENTICATE "PLAIN"\r\n')
    assert c.read_line() == b'""'
    token = base64.b64encode(f"\0ann@sieve.test\0{PASSWORD}".encode())
    assert c.cmd(b"{%d+}\r\n%s\r\n" % (len(token), token))[1].startswith("OK")
    c.close()


def test_cairnctl_sieve(ms, tmp_path):
    f = tmp_path / "s.sieve"
    f.write_bytes(SCRIPT.encode())
    ctl(ms, "sieve", "put", "--user", "ann@sieve.test", "--activate", "yes", "main", str(f))
    out = ctl(ms, "sieve", "list", "--user", "ann@sieve.test").stdout
    assert "main  ACTIVE" in out
    # (text mode turns the script's CRLFs into LFs)
    assert ctl(ms, "sieve", "get", "--user", "ann@sieve.test", "main").stdout == \
        SCRIPT.replace("\r\n", "\n")
    assert ctl(ms, "sieve", "check", str(f)).returncode == 0
    bad = tmp_path / "bad.sieve"
    bad.write_text('if header :is "a" {\n')
    r = ctl(ms, "sieve", "check", str(bad), check=False)
    assert r.returncode != 0 and "line" in r.stderr
    r = ctl(ms, "sieve", "put", "--user", "ann@sieve.test", "bad", str(bad), check=False)
    assert r.returncode != 0
    r = ctl(ms, "sieve", "delete", "--user", "ann@sieve.test", "main", check=False)
    assert r.returncode != 0
    ctl(ms, "sieve", "deactivate", "--user", "ann@sieve.test")
    ctl(ms, "sieve", "delete", "--user", "ann@sieve.test", "main")
    assert "0 scripts" in ctl(ms, "sieve", "list", "--user", "ann@sieve.test").stdout


def test_sieve_connect(ms, tmp_path):
    """Debian's sieve-connect as the real client, over STARTTLS."""
    local = tmp_path / "up.sieve"
    local.write_bytes(SCRIPT.encode())

    def run(*args):
        r, w = os.pipe()
        os.write(w, (PASSWORD + "\n").encode())
        os.close(w)
        try:
            p = subprocess.run(["sieve-connect", "--server", "127.0.0.1", "--port",
                                str(ms.managesieve_port), "--user", "ann@sieve.test",
                                "--passwordfd", str(r), "--notlsverify", "--noclearauth",
                                "--authmech", "PLAIN", *args],
                               capture_output=True, text=True, timeout=60, pass_fds=(r,),
                               cwd=tmp_path)
        finally:
            os.close(r)
        assert p.returncode == 0, f"sieve-connect {args}: {p.stdout}{p.stderr}"
        return p.stdout + p.stderr

    run("--upload", "--localsieve", str(local), "--remotesieve", "fromclient")
    assert "fromclient" in run("--list")
    run("--activate", "--remotesieve", "fromclient")
    out = ctl(ms, "sieve", "list", "--user", "ann@sieve.test").stdout
    assert "fromclient  ACTIVE" in out
    down = tmp_path / "down.sieve"
    run("--download", "--remotesieve", "fromclient", "--localsieve", str(down))
    assert down.read_bytes() == SCRIPT.encode()
    run("--deactivate")
    run("--delete", "--remotesieve", "fromclient")
    assert "0 scripts" in ctl(ms, "sieve", "list", "--user", "ann@sieve.test").stdout


def test_includes_checked_on_upload(cairnd_factory, pg, tmp_path):
    """PUTSCRIPT/CHECKSCRIPT and cairnctl resolve includes as delivery does:
    :global ones from [sieve] global_dir must exist and compile, loops are
    refused; a missing :personal one is a warning at upload (it may be
    uploaded later, RFC 6609 3.2) and an error at activation."""
    import pathlib
    import shutil
    import tempfile
    pg.reset_db()
    # (readable by cairnd once it has dropped its privileges)
    gdir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-ms-global-"))
    os.chmod(gdir, 0o755)
    (gdir / "spam.sieve").write_text('require ["fileinto"];\r\nfileinto "Junk";\r\n')
    (gdir / "broken.sieve").write_text('keep;\r\nfileinto "x";\r\n')
    for f in gdir.iterdir():
        os.chmod(f, 0o644)
    try:
        includes_checks(cairnd_factory, gdir, tmp_path)
    finally:
        shutil.rmtree(gdir)


def includes_checks(cairnd_factory, gdir, tmp_path):
    d = cairnd_factory({"sieve": {"global_dir": str(gdir)}})
    ctl(d, "domain", "add", "sieve.test")
    ctl(d, "user", "add", "ann@sieve.test", "--password", PASSWORD)
    c = authed(d)
    inc = 'require ["include"];\r\n'
    assert c.putscript("g", inc + 'include :global "spam";\r\n')[1] == 'OK "Script stored"'
    # A missing :global script: refused with its position, nothing stored.
    status = c.putscript("gm", inc + 'include :global "nope";\r\n')[1]
    assert status.startswith('NO "line 2 column ') and "nope" in status \
        and "not found" in status, status
    status = c.cmd(b"CHECKSCRIPT " + literal(inc + 'include :global "nope";\r\n') + b"\r\n")[1]
    assert status.startswith('NO "line 2 column ') and "not found" in status, status
    # An included script that does not compile.
    status = c.putscript("gb", inc + 'include :global "broken";\r\n')[1]
    assert status.startswith('NO "line 2 column ') and "broken" in status \
        and "line 2" in status, status
    assert c.cmd("LISTSCRIPTS")[0] == ['"g"']
    # :optional tolerates a missing script.
    assert c.putscript("opt", inc + 'include :optional :global "nope";\r\n'
                       'include :optional "nope";\r\n')[1] == 'OK "Script stored"'
    # A missing :personal script: stored with a warning, not activated.
    status = c.putscript("main", inc + 'include :personal "later";\r\n')[1]
    assert status.startswith('OK (WARNINGS) "line 2 column ') and "later" in status, status
    status = c.cmd('SETACTIVE "main"')[1]
    assert status.startswith('NO "line 2 column ') and "later" in status \
        and "not found" in status, status
    assert c.cmd("LISTSCRIPTS")[0] == ['"g"', '"main"', '"opt"']
    assert c.putscript("later", "keep;\r\n")[1] == 'OK "Script stored"'
    assert c.cmd('SETACTIVE "main"')[1].startswith("OK")
    # Loops: through a stored script, and a script including itself.
    status = c.putscript("later", inc + 'include "main";\r\n')[1]
    assert status.startswith('NO "line 2 column ') and "loop" in status, status
    status = c.putscript("self", inc + 'include "self";\r\n')[1]
    assert status.startswith('NO "line 2 column ') and "loop" in status, status
    # :once breaks the cycle (RFC 6609 3.2).
    assert c.putscript("once", inc + 'include :once "main";\r\n')[1].startswith("OK")
    c.close()
    # cairnctl resolves the same way.
    f = tmp_path / "m.sieve"
    f.write_text(inc + 'include :global "nope";\r\n')
    r = ctl(d, "sieve", "put", "--user", "ann@sieve.test", "x", str(f), check=False)
    assert r.returncode != 0 and "not found" in r.stderr, r.stderr
    r = ctl(d, "sieve", "check", str(f), check=False)
    assert r.returncode != 0 and "not found" in r.stderr, r.stderr
    f.write_text(inc + 'include "later2";\r\n')
    r = ctl(d, "sieve", "put", "--user", "ann@sieve.test", "x", str(f))
    assert "warning" in r.stderr and "later2" in r.stderr, r.stderr
    r = ctl(d, "sieve", "activate", "--user", "ann@sieve.test", "x", check=False)
    assert r.returncode != 0 and "not found" in r.stderr, r.stderr
    r = ctl(d, "sieve", "check", "--user", "ann@sieve.test", "x", check=False)
    assert r.returncode != 0 and "later2" in r.stderr, r.stderr
    f.write_text(inc + 'include "x";\r\n')
    r = ctl(d, "sieve", "put", "--user", "ann@sieve.test", "--activate", "yes", "y", str(f),
            check=False)
    assert r.returncode != 0 and "x" in r.stderr, r.stderr
