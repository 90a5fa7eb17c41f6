#!/usr/bin/env python3
"""Write the seed corpora of the session fuzz targets
(tests/fuzz/seeds/fuzz-session-*/): realistic scripted sessions, each behind
the 4-byte harness header described in tests/fuzz/session-harness.h.
Run from anywhere; it rewrites the seed directories it owns."""
import base64
import os
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# h0 bits: 0 login prelude, 1 no reading, 2 small buffers, 3-5 end, 6 held
# auth failures, 7 time jumps; h1: chunks-1 (0-2), steps (3-4), notify (5),
# store failure (6); h2, h3: split seed, h3 % variants picks the variant.
END_HALF, END_CLOSE, END_IDLE, END_SHUTDOWN, END_RDWR = 0, 1, 2, 3, 4


def hdr(login=False, noread=False, small=False, end=END_HALF, held=False, jump=False,
        chunks=1, steps=0, notify=False, fail=False, seed=0, variant=0):
    h0 = (login and 1) | (noread and 2) | (small and 4) | (end << 3) | (held and 0x40) | (jump and 0x80)
    h1 = (chunks - 1) | (steps << 3) | (notify and 0x20) | (fail and 0x40)
    return bytes([h0, h1, seed & 0xff, variant & 0xff])


def crlf(lines):
    return "".join(l + "\r\n" for l in lines).encode()


def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


PLAIN = base64.b64encode(b"\0u@fuzz.test\0p").decode()
BADPLAIN = base64.b64encode(b"\0u@fuzz.test\0wrong").decode()
MSG = ["From: u@fuzz.test", "To: o@fuzz.test", "Subject: test", "",
       "body line", "..dot-stuffed", ""]


def smtp():
    t = "fuzz-session-smtp"
    # variant 0 MX, 1 submission, 2 LMTP
    write(t, "mx-data", hdr(variant=0) + crlf(
        ["EHLO client.example.test", "MAIL FROM:<a@example.test> SIZE=100 BODY=8BITMIME",
         "RCPT TO:<u@fuzz.test>", "RCPT TO:<unknown@fuzz.test>", "RCPT TO:<x@elsewhere.test>",
         "RCPT TO:<team@fuzz.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;team@fuzz.test",
         "DATA"] + MSG + [".", "RSET", "NOOP", "HELP", "VRFY u@fuzz.test", "QUIT"]))
    write(t, "mx-pipelined", hdr(variant=0, chunks=4, seed=7) + crlf(
        ["EHLO c", "MAIL FROM:<>", "RCPT TO:<u@fuzz.test>", "RCPT TO:<full@fuzz.test>",
         "RCPT TO:<tempfail@fuzz.test>", "DATA", "Subject: x", "", "y", ".",
         "MAIL FROM:<b@example.test>", "RCPT TO:<alias@fuzz.test>", "DATA", "x", ".", "QUIT"]))
    write(t, "mx-bdat", hdr(variant=0, steps=1, chunks=3, seed=3) +
          b"EHLO c\r\nMAIL FROM:<a@example.test> BODY=BINARYMIME\r\nRCPT TO:<u@fuzz.test>\r\n"
          b"BDAT 12\r\nSubject: x\r\nBDAT 6 LAST\r\n\r\nbody\r\nQUIT\r\n")
    write(t, "submission-auth", hdr(variant=1) + crlf(
        ["EHLO c", "AUTH PLAIN " + BADPLAIN, "AUTH LOGIN", base64.b64encode(b"u@fuzz.test").decode(),
         base64.b64encode(b"p").decode(), "MAIL FROM:<u@fuzz.test>", "RCPT TO:<o@fuzz.test>",
         "RCPT TO:<x@remote.test>", "DATA", "From: u@fuzz.test", "From: ceo@fuzz.test", "", "two froms",
         ".", "MAIL FROM:<ceo@fuzz.test>", "QUIT"]))
    write(t, "submission-login-data", hdr(login=True, variant=1, chunks=2, seed=9) + crlf(
        ["MAIL FROM:<u@fuzz.test> RET=HDRS ENVID=abc", "RCPT TO:<o@fuzz.test> NOTIFY=NEVER",
         "DATA"] + MSG + [".", "BURL imap://u@mx.fuzz.test/INBOX;uid=1;urlauth=submit+u@fuzz.test:internal:00 LAST",
                          "QUIT"]))
    write(t, "submission-held-fail-reset", hdr(variant=1, held=True, end=END_CLOSE) + crlf(
        ["EHLO c", "AUTH PLAIN " + BADPLAIN]))
    write(t, "lmtp", hdr(variant=2) + crlf(
        ["LHLO c", "MAIL FROM:<a@example.test>", "RCPT TO:<u@fuzz.test>", "RCPT TO:<o@fuzz.test>",
         "RCPT TO:<full@fuzz.test>", "DATA"] + MSG + [".", "QUIT"]))
    write(t, "mx-data-reset-midbody", hdr(variant=0, end=END_CLOSE, steps=1, chunks=2) + crlf(
        ["EHLO c", "MAIL FROM:<a@example.test>", "RCPT TO:<u@fuzz.test>", "DATA", "Subject: cut"]))
    write(t, "mx-slow-timeout", hdr(variant=0, end=END_IDLE, jump=True, chunks=3, seed=5) +
          b"EHLO c\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<u@fuzz.test>\r\nDATA\r\nSubject: slow")
    write(t, "mx-shutdown-inflight", hdr(variant=0, end=END_SHUTDOWN, steps=1) + crlf(
        ["EHLO c", "MAIL FROM:<a@example.test>", "RCPT TO:<u@fuzz.test>"]))
    write(t, "mx-smuggle", hdr(variant=0) +
          b"EHLO c\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<u@fuzz.test>\r\nDATA\r\nx\n.\nMAIL FROM:<e@vil>\r\n.\r\nQUIT\r\n")
    write(t, "mx-scan-verdicts", hdr(variant=0, chunks=2, seed=13) + crlf(
        ["EHLO c", "VRFY u@fuzz.test", "VRFY <nobody@fuzz.test>", "VRFY tempfail@fuzz.test",
         "MAIL FROM:<a@example.test>", "RCPT TO:<u@fuzz.test>", "DATA", "X-Fuzz-Reject: yes", "", "spam", ".",
         "MAIL FROM:<a@example.test>", "RCPT TO:<u@fuzz.test>", "DATA", "X-Fuzz-Tempfail: yes", "", "x", ".",
         "MAIL FROM:<a@example.test>", "RCPT TO:<u@fuzz.test>", "DATA", "Subject: ok", "", "x", ".",
         "MAIL FROM:<a@example.test>", "RCPT TO:<a1@fuzz.test>", "QUIT"]))
    write(t, "submission-check-from", hdr(variant=1, login=True) + crlf(
        ["MAIL FROM:<u@fuzz.test>", "RCPT TO:<o@fuzz.test>", "DATA", "From: Someone <o@fuzz.test>", "", "x", ".",
         "MAIL FROM:<u@fuzz.test>", "RCPT TO:<o@fuzz.test>", "DATA", "From: u@fuzz.test", "", "x", ".",
         "MAIL FROM:<alias@fuzz.test>", "QUIT"]))
    write(t, "lmtp-many-rcpts", hdr(variant=2) + crlf(
        ["LHLO c", "MAIL FROM:<a@example.test>"] + ["RCPT TO:<u@fuzz.test>"] * 7 + ["DATA", "x", ".", "QUIT"]))
    write(t, "submission-noread", hdr(variant=1, login=True, noread=True, small=True) +
          crlf(["NOOP"] * 400 + ["QUIT"]))


def pop3():
    t = "fuzz-session-pop3"
    write(t, "transaction", hdr(login=True) + crlf(
        ["STAT", "LIST", "LIST 2", "UIDL", "UIDL 3", "RETR 1", "TOP 2 3", "DELE 1", "RETR 1",
         "RSET", "DELE 4", "NOOP", "CAPA", "LAST", "QUIT"]))
    write(t, "auth-user-pass", hdr() + crlf(
        ["CAPA", "USER nobody@fuzz.test", "PASS bad", "USER u@fuzz.test", "PASS p", "STAT",
         "RETR 2", "RETR 3", "QUIT"]))
    write(t, "auth-plain", hdr() + crlf(
        ["AUTH PLAIN " + PLAIN, "LIST", "QUIT"]))
    write(t, "auth-plain-continuation", hdr(chunks=3, seed=2) + crlf(
        ["AUTH PLAIN", PLAIN, "UIDL", "TOP 1 0", "QUIT"]))
    write(t, "held-fail-close", hdr(held=True, end=END_CLOSE) + crlf(
        ["USER u@fuzz.test", "PASS nope"]))
    write(t, "retr-reset-inflight", hdr(login=True, steps=1, chunks=2, end=END_CLOSE) + crlf(
        ["RETR 1", "RETR 2", "RETR 3"]))
    write(t, "idle-timeout", hdr(login=True, end=END_IDLE) + crlf(["DELE 2", "STAT"]))
    write(t, "shutdown", hdr(login=True, end=END_SHUTDOWN, steps=1) + crlf(["RETR 2"]))
    write(t, "noread-pipeline", hdr(login=True, noread=True, small=True) +
          crlf(["RETR 2"] * 60 + ["QUIT"]))
    write(t, "store-failing", hdr(login=True, fail=True, chunks=2, seed=11) + crlf(
        ["STAT", "RETR 1", "DELE 1", "QUIT"]))
    write(t, "stls-bad", hdr() + crlf(["STLS", "APOP u@fuzz.test 0123456789abcdef0123456789abcdef",
                                      "USER " + "x" * 300, "QUIT"]))


def imap():
    t = "fuzz-session-imap"
    # variant 0: INBOX selected; 1: logged in
    write(t, "fetch", hdr(login=True, variant=0) + crlf(
        ["c1 FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE)",
         "c2 FETCH 2 (BODY.PEEK[HEADER.FIELDS (From Subject)] BODY[1] BODY[2.MIME] BINARY[1] BINARY.SIZE[1])",
         "c3 UID FETCH 1:* (BODY[TEXT]<0.10> PREVIEW MODSEQ) (CHANGEDSINCE 1)",
         "c4 FETCH 1:4 FAST", "c5 FETCH 3 RFC822", "c6 LOGOUT"]))
    write(t, "store-search", hdr(login=True, variant=0, notify=True) + crlf(
        ["s1 STORE 1:2 +FLAGS (\\Deleted $Junk)", "s2 UID STORE 3 FLAGS.SILENT (\\Seen)",
         "s3 STORE 1 (UNCHANGEDSINCE 1) -FLAGS (\\Seen)",
         "s4 SEARCH UNSEEN", "s5 UID SEARCH RETURN (MIN MAX COUNT SAVE) FROM ann SINCE 1-Jan-2020",
         "s6 SEARCH $", "s7 SORT (REVERSE DATE SUBJECT) UTF-8 ALL", "s8 THREAD REFERENCES UTF-8 ALL",
         "s9 EXPUNGE", "s10 UID EXPUNGE 1:3", "s11 CLOSE", "s12 LOGOUT"]))
    write(t, "append-literals", hdr(login=True, variant=1, chunks=4, seed=21) +
          b"a1 APPEND INBOX (\\Seen) {21}\r\nSubject: hi\r\n\r\nbody\r\n\r\n"
          b"a2 APPEND Drafts {11+}\r\nhello world\r\n"
          b"a3 APPEND INBOX (\\Draft) \"17-Dec-2026 10:00:00 +0000\" CATENATE (TEXT {5+}\r\nhead\n"
          b" URL \"/INBOX;UID=1\")\r\n"
          b"a4 APPEND Nope {3}\r\nabc\r\n"
          b"a5 SELECT INBOX (CONDSTORE)\r\na6 FETCH * (UID FLAGS)\r\na7 LOGOUT\r\n")
    write(t, "mailboxes", hdr(login=True, variant=1) + crlf(
        ["m1 LIST \"\" \"*\"", "m2 LIST (SUBSCRIBED) \"\" \"%\" RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))",
         "m3 CREATE Work/2026", "m4 RENAME Work Job", "m5 SUBSCRIBE Job/2026", "m6 LSUB \"\" \"*\"",
         "m7 STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE DELETED)",
         "m8 DELETE Job", "m9 DELETE Job/2026", "m10 NAMESPACE", "m11 EXAMINE Sent",
         "m12 SELECT \"Other Users/o@fuzz.test/INBOX\"", "m13 STORE 1 +FLAGS (\\Seen)",
         "m14 FETCH 1 FLAGS", "m15 GETACL INBOX", "m16 MYRIGHTS INBOX", "m17 LISTRIGHTS INBOX o@fuzz.test",
         "m18 SETACL \"Shared/News\" o@fuzz.test +lr", "m19 DELETEACL \"Shared/News\" o@fuzz.test",
         "m20 GETQUOTAROOT INBOX", "m21 SETQUOTA \"\" (STORAGE 2048)", "m22 GETQUOTA \"\"",
         "m23 LOGOUT"]))
    write(t, "idle", hdr(login=True, variant=0, chunks=3, seed=4, notify=True, jump=True) + crlf(
        ["i1 IDLE", "DONE", "i2 NOOP", "i3 IDLE", "DONE", "i4 CHECK", "i5 LOGOUT"]))
    write(t, "idle-reset", hdr(login=True, variant=0, notify=True, end=END_CLOSE, steps=1) + crlf(
        ["i1 IDLE"]))
    write(t, "copy-move", hdr(login=True, variant=0) + crlf(
        ["c1 COPY 1:2 Trash", "c2 UID MOVE 3 Archive", "c3 MOVE 1 \"Shared/News\"", "c4 UID COPY 1:* Nope",
         "c5 ENABLE QRESYNC", "c6 SELECT INBOX (QRESYNC (1001 1 1:10))", "c7 UNSELECT", "c8 LOGOUT"]))
    write(t, "metadata-urlauth", hdr(login=True, variant=1) + crlf(
        ["d1 SETMETADATA INBOX (/private/comment \"hello\" /shared/vendor/x NIL)",
         "d2 GETMETADATA (DEPTH infinity MAXSIZE 100) INBOX (/private /shared)",
         "d3 GETMETADATA \"\" /shared/admin", "d4 SETMETADATA \"\" (/shared/comment {3}", "abc)",
         "d5 GENURLAUTH \"imap://u@mx.fuzz.test/INBOX;uid=1;urlauth=submit+u@fuzz.test\" INTERNAL",
         "d6 RESETKEY INBOX", "d7 URLFETCH \"imap://u@mx.fuzz.test/INBOX;uid=1;urlauth=anonymous:internal:0123\"",
         "d8 ID (\"name\" \"fuzz\")", "d9 LOGOUT"]))
    write(t, "notify", hdr(login=True, variant=0, notify=True, chunks=2, seed=8) + crlf(
        ["n1 NOTIFY SET STATUS (SELECTED (MessageNew (UID FLAGS) MessageExpunge FlagChange)) (PERSONAL (MailboxName SubscriptionChange MessageNew MessageExpunge))",
         "n2 NOOP", "n3 NOTIFY NONE", "n4 LOGOUT"]))
    write(t, "notify-idle-changes", hdr(login=True, variant=0, notify=True, chunks=4, seed=1) + crlf(
        ["n1 NOTIFY SET (SELECTED-DELAYED (MessageNew (UID FLAGS ENVELOPE) MessageExpunge FlagChange AnnotationChange)) (SUBSCRIBED (MessageNew MessageExpunge MailboxName)) (MAILBOXES \"Other Users/o@fuzz.test/INBOX\" (MessageNew MessageExpunge))",
         "n2 IDLE", "DONE", "n3 FETCH 1:* (FLAGS)", "n4 NOTIFY SET STATUS (INBOXES (MessageNew MessageExpunge))",
         "n5 SELECT Sent", "n6 NOOP", "n7 LOGOUT"]))
    write(t, "external-changes", hdr(login=True, variant=0, notify=True, chunks=8, seed=2) + crlf(
        ["e1 NOOP", "e2 FETCH 1:* (UID FLAGS)", "e3 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
         "e4 SEARCH ALL", "e5 STORE 1:* +FLAGS (\\Seen)", "e6 EXPUNGE", "e7 CHECK", "e8 LIST \"\" *",
         "e9 LOGOUT"]))
    write(t, "sort-thread-esort", hdr(login=True, variant=0) + crlf(
        ["o1 SORT (FROM TO CC DISPLAYFROM DISPLAYTO SIZE ARRIVAL) UTF-8 ALL",
         "o2 UID SORT RETURN (MIN MAX COUNT PARTIAL 1:2 SAVE) (REVERSE SUBJECT) UTF-8 UNDELETED",
         "o3 SEARCH RETURN (PARTIAL 1:10) $", "o4 THREAD ORDEREDSUBJECT UTF-8 ALL",
         "o5 UID THREAD REFERENCES US-ASCII OR SEEN FLAGGED", "o6 SORT (DATE) UTF-8 OLDER 100 YOUNGER 99999999",
         "o7 LOGOUT"]))
    write(t, "login-authenticate", hdr(variant=1) + crlf(
        ["x0 CAPABILITY", "x1 LOGIN u@fuzz.test wrong", "x2 AUTHENTICATE PLAIN", BADPLAIN,
         "x3 AUTHENTICATE PLAIN " + PLAIN, "x4 SELECT INBOX", "x5 FETCH 1 FLAGS", "x6 LOGOUT"]))
    write(t, "held-fail-reset", hdr(variant=1, held=True, end=END_CLOSE) + crlf(
        ["x1 LOGIN u@fuzz.test wrong"]))
    write(t, "compress", hdr(login=True, variant=0) + b"z1 COMPRESS DEFLATE\r\n" +
          (lambda c: c.compress(b"z2 NOOP\r\nz3 FETCH 1 FLAGS\r\n") + c.flush(zlib.Z_SYNC_FLUSH))(
              zlib.compressobj(6, zlib.DEFLATED, -15)))
    write(t, "literal-abuse", hdr(login=True, variant=1) +
          b"l1 APPEND INBOX {99999999}\r\nl2 LOGIN {5}\r\nl3 NOOP {3+}\r\nabc\r\nl4 BAD-CMD\r\n"
          b"l5 FETCH 1:* (BODY[]<0.5>)\r\nl6 SEARCH CHARSET X-UNKNOWN TEXT foo\r\nl7 LOGOUT\r\n")
    write(t, "noread-flood", hdr(login=True, variant=0, noread=True, small=True) +
          crlf(["f%d FETCH 1:* (BODY.PEEK[])" % i for i in range(40)] + ["fz LOGOUT"]))
    write(t, "store-failing", hdr(login=True, variant=0, fail=True, chunks=2, seed=12) + crlf(
        ["e1 FETCH 1 ENVELOPE", "e2 STORE 1 +FLAGS (\\Flagged)", "e3 SELECT Trash", "e4 LOGOUT"]))
    write(t, "shutdown-idle", hdr(login=True, variant=0, end=END_SHUTDOWN) + crlf(["i1 IDLE"]))
    write(t, "timeout-midliteral", hdr(login=True, variant=1, end=END_IDLE, jump=True) +
          b"a1 APPEND INBOX {200}\r\nSubject: never finished\r\n")


def http():
    t = "fuzz-session-http"
    # DAV (server/http/http-dav.c with the dav-double): OPTIONS, redirects,
    # Basic auth good and bad, a body, a feed, over one keep-alive connection
    auth = base64.b64encode(b"u@fuzz.test:p").decode()
    bad = base64.b64encode(b"u@fuzz.test:wrong").decode()
    write(t, "dav-session", hdr(held=True) +
          b"OPTIONS /dav/ HTTP/1.1\r\nHost: x\r\n\r\n"
          b"PROPFIND /.well-known/caldav HTTP/1.1\r\nHost: x\r\n\r\n"
          b"PROPFIND /dav/ HTTP/1.1\r\nHost: x\r\nDepth: 0\r\n\r\n"
          b"PROPFIND /dav/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + bad.encode() +
          b"\r\n\r\n"
          b"PROPFIND /dav/ HTTP/1.1\r\nHost: x\r\nDepth: 0\r\nAuthorization: Basic " +
          auth.encode() + b"\r\nContent-Length: 62\r\n\r\n"
          b"<D:propfind xmlns:D=\"DAV:\"><D:prop><D:getetag/></D:prop></D:propfind>"
          b"PUT /dav/calendars/u@fuzz.test/c/e.ics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " +
          auth.encode() + b"\r\nIf-None-Match: *\r\nContent-Length: 5\r\n\r\nhello"
          b"GET /feeds/" + b"a" * 64 + b".ics HTTP/1.1\r\nHost: x\r\n\r\n"
          b"DELETE /dav/x HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!\r\n\r\n")
    write(t, "healthz", hdr() + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    write(t, "metrics", hdr() + b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    write(t, "pipelined", hdr(chunks=3, seed=6) +
          b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
          b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /healthz HTTP/1.0\r\n\r\n")
    write(t, "post-length", hdr() +
          b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    write(t, "chunked", hdr(chunks=2, seed=1) +
          b"POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
          b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    write(t, "smuggle", hdr() +
          b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    write(t, "healthz-failing-reset", hdr(fail=True, chunks=2, steps=1, end=END_CLOSE) +
          b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    write(t, "slow-head-timeout", hdr(end=END_IDLE, jump=True, chunks=3, seed=2) +
          b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: yes")
    write(t, "noread", hdr(noread=True, small=True) +
          b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 50)
    write(t, "expect-continue", hdr(chunks=2, seed=3) +
          b"POST /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"
          b"GET /" + b"a" * 300 + b" HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 1500 + b"\r\n\r\n")
    write(t, "shutdown-inflight", hdr(login=True, end=END_SHUTDOWN, steps=1) +
          b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")


if __name__ == "__main__":
    smtp()
    pop3()
    imap()
    http()
