#!/usr/bin/env python3
"""A steady KV write load: --rate PUTs per second for --seconds s against one agent (the leader), from --threads
threads with one keep-alive connection each, on a fixed schedule (a thread that falls behind sends at once
until it has caught up). Keys bench/load/00 … bench/load/99, 64-byte values.
Prints "RESULT writes=.. seconds=.. rate=.. p50_ms=.. p99_ms=.. errors=.." on stdout.

  writer.py --http 127.0.0.1:26001 [--rate 200] [--seconds 30] [--threads 4]
"""
import argparse
import http.client
import socket
import sys
import threading
import time


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--http", required=True)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--threads", type=int, default=4)
    o = ap.parse_args()
    host, _, port = o.http.rpartition(":")
    lock = threading.Lock()
    lat, errors = [], [0]
    start = time.monotonic() + 0.05
    end = start + o.seconds
    step = o.threads / o.rate

    def worker(t):
        conn, k, mine = None, 0, []
        due = start + t / o.rate
        while due < end and time.monotonic() < end:
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            key = "bench/load/%02d" % ((k * o.threads + t) % 100)
            body = ("%d-%d-" % (t, k)).ljust(64, "x").encode()
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=10)
                    conn.connect()
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.request("PUT", "/v1/kv/" + key, body)
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    mine.append((time.monotonic() - t0) * 1000)
                else:
                    with lock:
                        errors[0] += 1
            except (OSError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                if conn is not None:
                    conn.close()
                conn = None
            k += 1
            due += step
        if conn is not None:
            conn.close()
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(o.threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    took = time.monotonic() - start
    print("RESULT writes=%d seconds=%.1f rate=%.0f p50_ms=%.1f p99_ms=%.1f errors=%d"
          % (len(lat), took, len(lat) / took, pct(lat, 50), pct(lat, 99), errors[0]))
    return 1 if errors[0] else 0


if __name__ == "__main__":
    sys.exit(main())
