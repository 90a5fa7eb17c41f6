"""The HTTP gateway skeleton against a real cairnd and PostgreSQL: /healthz,
/metrics, keep-alive and pipelining, malformed requests, TLS."""
import http.client
import json
import re
import socket
import ssl
import time

import pytest


def raw(port, data, timeout=5, shut=False):
    """Send bytes and read until the server closes the connection (EOF or a
    reset). A server that merely goes silent fails the test: every caller
    expects the server to close."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    chunks = []
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError(f"the server did not close the connection within {timeout}s; "
                             f"read so far: {b''.join(chunks)[:300]!r}")
    finally:
        s.close()
    return b"".join(chunks)


def test_healthz_ok(cairnd):
    status, headers, body = cairnd.get("/healthz")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "ok", "store": "ok"}


def test_head_healthz_has_no_body(cairnd):
    c = http.client.HTTPConnection("127.0.0.1", cairnd.http_port, timeout=5)
    c.request("HEAD", "/healthz")
    r = c.getresponse()
    assert r.status == 200
    assert int(r.headers["Content-Length"]) > 0
    assert r.read() == b""


def test_metrics_prometheus_format(cairnd):
    cairnd.get("/healthz")
    status, headers, body = cairnd.get("/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)     # counters and gauges; histogram sums are decimals
    # This very connection is open while /metrics renders.
    assert values['cairn_connections{protocol="http"}'] >= 1
    assert values['cairn_connections_total{protocol="http"}'] >= 2
    assert values["cairn_store_pool_size"] == 2
    assert values["cairn_jobs_total"] >= 1
    assert values["cairn_store_pool_connected"] >= 1
    assert "cairn_messages_accepted_total" in values
    assert "# TYPE cairn_jobs_queued gauge" in text


def test_unknown_path_and_method(cairnd):
    assert cairnd.get("/nope")[0] == 404
    c = http.client.HTTPConnection("127.0.0.1", cairnd.http_port, timeout=5)
    c.request("POST", "/healthz", body=b"x")
    r = c.getresponse()
    assert r.status == 405
    assert r.headers["Allow"] == "GET, HEAD"


def test_keep_alive_reuses_connection(cairnd):
    c = http.client.HTTPConnection("127.0.0.1", cairnd.http_port, timeout=5)
    for _ in range(5):
        c.request("GET", "/healthz")
        r = c.getresponse()
        assert r.status == 200
        assert r.headers["Connection"] == "keep-alive"
        r.read()
    sock_before = c.sock
    c.request("GET", "/metrics")
    c.getresponse().read()
    assert c.sock is sock_before


def test_pipelined_requests_answered_in_order(cairnd):
    req = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
           b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
           b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    out = raw(cairnd.http_port, req)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", out)
    assert statuses == [b"200", b"404", b"200"]
    assert out.count(b'{"status":"ok"') == 2


def test_request_then_half_close_still_answered(cairnd):
    out = raw(cairnd.http_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", shut=True)
    assert out.startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize("request_bytes,status", [
    (b"GARBAGE\r\n\r\n", b"400"),
    (b"GET /healthz HTTP/1.1\r\n\r\n", b"400"),  # no Host
    (b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", b"505"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", b"400"),
    # RFC 9112 6.3: chunked must be the final coding, else 400; unknown codings 501.
    (b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", b"400"),
    (b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", b"501"),
    (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"b" * 20000 + b"\r\n\r\n", b"431"),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", b"413"),
])
def test_malformed_requests_get_4xx_and_close(cairnd, request_bytes, status):
    out = raw(cairnd.http_port, request_bytes)
    assert out.split(b"\r\n")[0].split(b" ")[1] == status, out[:200]
    assert b"Connection: close" in out
    # The daemon is unharmed.
    assert cairnd.get("/healthz")[0] == 200


def test_trickled_request(cairnd):
    s = socket.create_connection(("127.0.0.1", cairnd.http_port), timeout=5)
    for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n":
        s.send(bytes([b]))
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"HTTP/1.1 200 ")


def test_expect_100_continue(cairnd):
    s = socket.create_connection(("127.0.0.1", cairnd.http_port), timeout=5)
    s.sendall(b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    first = s.recv(4096)
    assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    s.sendall(b"hello")
    rest = first[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    while b"\r\n\r\n" not in rest:
        rest += s.recv(4096)
    assert rest.startswith(b"HTTP/1.1 404 ")


def tls_client(min_version=ssl.TLSVersion.TLSv1_2, max_version=ssl.TLSVersion.TLSv1_3):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = min_version
    ctx.maximum_version = max_version
    return ctx


def test_https_tls13_healthz(cairnd):
    ctx = tls_client(min_version=ssl.TLSVersion.TLSv1_3)
    with socket.create_connection(("127.0.0.1", cairnd.https_port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            assert t.version() == "TLSv1.3"
            t.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = t.recv(4096)
                if not chunk:
                    break
                data += chunk
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b'"store":"ok"' in data


def test_https_tls12_accepted_tls11_refused(cairnd):
    ctx = tls_client(max_version=ssl.TLSVersion.TLSv1_2)
    with socket.create_connection(("127.0.0.1", cairnd.https_port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            assert t.version() == "TLSv1.2"
    ctx = tls_client(min_version=ssl.TLSVersion.MINIMUM_SUPPORTED,
                     max_version=ssl.TLSVersion.TLSv1_1)
    try:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    # The client really offers TLS 1.1 (its own library would otherwise
    # refuse before a byte is sent), and the refusal is the server's:
    # a protocol_version alert (RFC 8446 4.2.1, RFC 5246 E.1).
    with socket.create_connection(("127.0.0.1", cairnd.https_port), timeout=5) as s:
        with pytest.raises(ssl.SSLError) as e:
            ctx.wrap_socket(s, server_hostname="localhost")
    assert "TLSV1_ALERT_PROTOCOL_VERSION" in str(e.value), e.value


def test_tls_min_version_13(cairnd_factory):
    d = cairnd_factory({"tls": {"min_version": "1.3"}})
    ctx = tls_client(max_version=ssl.TLSVersion.TLSv1_2)
    with socket.create_connection(("127.0.0.1", d.https_port), timeout=5) as s:
        with pytest.raises(ssl.SSLError) as e:
            ctx.wrap_socket(s, server_hostname="localhost")
    assert "TLSV1_ALERT_PROTOCOL_VERSION" in str(e.value), e.value


def test_plaintext_on_tls_port_is_dropped(cairnd):
    out = raw(cairnd.https_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"HTTP/1.1 200" not in out
    assert cairnd.get("/healthz")[0] == 200
    assert "event=tls-failed" in cairnd.log_text()


def test_idle_timeout_closes_connection(cairnd_factory):
    d = cairnd_factory({"http": {"idle_timeout": "1s"}})
    s = socket.create_connection(("127.0.0.1", d.http_port), timeout=10)
    start = time.monotonic()
    assert s.recv(100) == b""
    assert 0.8 <= time.monotonic() - start      # not before the 1 s timeout


def test_max_requests_per_connection(cairnd_factory):
    d = cairnd_factory({"http": {"max_requests": "2"}})
    c = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=5)
    c.request("GET", "/nope")
    r = c.getresponse()
    r.read()
    assert r.headers["Connection"] == "keep-alive"
    c.request("GET", "/nope")
    r = c.getresponse()
    r.read()
    assert r.headers["Connection"] == "close"
