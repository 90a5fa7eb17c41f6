"""A test milter on libmilter (python3-milter), run as its own process by
test_scan_content_milter.py: `scanc_milter.py SOCKET LOGFILE`. It records
what it was given (macros, connect, helo, envelope, headers, body) as one
JSON line per message, and answers by markers in the body:
MILTER-REJECT (550 with text), MILTER-TEMPFAIL, MILTER-QUARANTINE,
MILTER-DISCARD, MILTER-HANG (never answers end of message), MILTER-CHANGE
(changes Subject, deletes the second X-Remove-Me field, adds X-Added by
change past the last one, replaces the body in two chunks),
MILTER-CHANGE-HANG (the same changes, then never answers); otherwise it
adds the header X-Test-Milter and accepts."""
import json
import sys
import time

import Milter


class TestMilter(Milter.Base):
    def __init__(self):
        self.seen = {"headers": [], "rcpts": [], "body": b""}

    @Milter.noreply
    def connect(self, hostname, family, hostaddr):
        self.seen["connect"] = [hostname, hostaddr[0] if hostaddr else None]
        self.seen["j"] = self.getsymval("j")
        return Milter.CONTINUE

    def hello(self, helo):
        self.seen["helo"] = helo
        return Milter.CONTINUE

    def envfrom(self, f, *args):
        self.seen["from"] = f
        self.seen["mail_addr"] = self.getsymval("{mail_addr}")
        return Milter.CONTINUE

    def envrcpt(self, r, *args):
        self.seen["rcpts"].append(r)
        return Milter.CONTINUE

    @Milter.noreply
    def header(self, name, value):
        self.seen["headers"].append([name, value])
        return Milter.CONTINUE

    def eoh(self):
        return Milter.CONTINUE

    def body(self, chunk):
        self.seen["body"] += chunk
        return Milter.CONTINUE

    def eom(self):
        body = self.seen["body"]
        rec = dict(self.seen)
        rec["body"] = body.decode(errors="replace")
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps(rec) + "\n")
        if b"MILTER-REJECT" in body:
            self.setreply("550", "5.7.1", "rejected by the test milter")
            return Milter.REJECT
        if b"MILTER-TEMPFAIL" in body:
            return Milter.TEMPFAIL
        if b"MILTER-QUARANTINE" in body:
            self.quarantine("test milter quarantine")
            return Milter.ACCEPT
        if b"MILTER-DISCARD" in body:
            return Milter.DISCARD
        if b"MILTER-CHANGE" in body:
            self.chgheader("Subject", 1, "changed by the milter")
            self.chgheader("X-Remove-Me", 2, None)
            self.chgheader("X-Added", 1, "by chgheader")
            self.replacebody(b"replaced body line 1\r\n")
            self.replacebody(b"second chunk\nbare LF line\r\n")
            if b"MILTER-CHANGE-HANG" in body:
                time.sleep(30)
            return Milter.ACCEPT
        if b"MILTER-HANG" in body:
            time.sleep(30)
        self.addheader("X-Test-Milter", "seen %d headers" % len(self.seen["headers"]))
        return Milter.ACCEPT


if __name__ == "__main__":
    Milter.factory = TestMilter
    Milter.set_flags(Milter.ADDHDRS | Milter.CHGHDRS | Milter.MODBODY | Milter.QUARANTINE)
    Milter.runmilter("cairn-test", sys.argv[1], 60)
