"""The /metrics endpoint of a running sidecar under hostile clients: slow
requests and piles of idle connections must not delay a scrape, and without a
host it listens on loopback only."""

import resource
import socket
import threading
import time
import urllib.request

from conftest import unique
from pg_server import free_port


def scrape(port, timeout=30):
    start = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as resp:
        body = resp.read().decode()
    return time.monotonic() - start, body


def test_slow_and_idle_clients_do_not_delay_a_scrape(pg, sidecar):
    # 2000 client sockets on top of what pytest holds.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096 and hard >= 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    port = free_port()
    s = sidecar(metrics__address=f"127.0.0.1:{port}").start()
    assert scrape(port)[0] < 5

    stop = threading.Event()
    slow, idle = [], []
    try:
        # Slowloris: a request that never ends, one byte a second.
        for _ in range(5):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            slow.append(c)

        def trickle():
            while not stop.wait(1):
                for c in slow:
                    try:
                        c.send(b"X")
                    except OSError:
                        pass

        threading.Thread(target=trickle, daemon=True).start()
        # 2000 connections that send nothing (non-blocking: a full backlog must not stall us).
        for _ in range(2000):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            idle.append(c)
        time.sleep(1)
        for _ in range(3):
            elapsed, body = scrape(port)
            print(f"scrape with 5 slow and 2000 idle clients: {elapsed:.3f}s")
            assert elapsed < 3, f"scrape took {elapsed:.1f}s"
            assert "walcast_ack_lsn" in body
            time.sleep(1)
        s.assert_alive()
    finally:
        stop.set()
        for c in slow + idle:
            c.close()


def non_loopback_ipv4():
    """An IPv4 address of this machine other than 127.x (None if there is none)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.connect(("192.0.2.1", 9))  # no packet is sent; picks the outgoing interface
            addr = u.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


def test_bare_port_listens_on_loopback_only(pg, sidecar):
    port = free_port()
    s = sidecar(slot=unique("mloop"), metrics__address=str(port)).start()
    assert scrape(port)[0] < 5
    assert f"metrics: serving http://127.0.0.1:{port}/metrics" in s.log_tail(200)
    other = non_loopback_ipv4()
    if other is not None:
        with socket.socket() as c:
            c.settimeout(5)
            assert c.connect_ex((other, port)) != 0, f"/metrics reachable on {other}"
