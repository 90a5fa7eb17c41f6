"""Free TCP ports on 127.0.0.1 for the servers the tests start.

A port is chosen below the kernel's ephemeral range (net.ipv4.ip_local_port_range,
32768-60999 by default), so the outgoing connections of clients and servers
running meanwhile cannot take it between the choice and the server's bind
(bind(port 0) picks from that very range, and a test once failed that way).
A port handed out is not handed out again while newer ones are (a test may
choose several before it starts anything); each is checked by binding it."""
import collections
import random
import socket

LOW, HIGH = 10000, 32000
_recent = collections.deque(maxlen=4096)
_rng = random.Random()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_ports(n):
    """n distinct ports that were free when chosen: each stays bound until
    all are chosen."""
    eph_lo, eph_hi = _ephemeral_range()
    socks, ports = [], []
    try:
        attempts = 0
        while len(ports) < n:
            attempts += 1
            if attempts > 20000:
                raise RuntimeError("no free TCP port below the ephemeral range")
            port = _rng.randint(LOW, HIGH)
            if eph_lo <= port <= eph_hi or port in _recent or port in ports:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            socks.append(s)
            ports.append(port)
        _recent.extend(ports)
        return ports
    finally:
        for s in socks:
            s.close()


def free_port():
    return free_ports(1)[0]
