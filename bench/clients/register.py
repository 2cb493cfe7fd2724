#!/usr/bin/env python3
"""Registers --services services svc-1 … svc-N, spread evenly over the client agents, each through its own
client's agent API: PUT /v1/agent/service/register {"ID", "Name", "Address", "Port": 8080}, no checks.
Service n goes to client (n - 1) % len(clients) and has the address 127.0.(n >> 8 & 255).(n & 255).

The work is cut into chunks of --chunk services of one client, taken round-robin over the clients, and done by
--concurrency threads, each chunk on one keep-alive connection (so at most --concurrency connections at a
time). Progress every 2 s on stderr; prints "RESULT n=.. failed=.. seconds=.. rate=.." on stdout; exits 1 if
any registration failed (after --retries retries of a connection error or a 5xx answer).

  register.py --clients 127.0.0.1:27001,127.0.0.1:27002,… --services 10000 [--concurrency 16]
"""
import argparse
import http.client
import json
import socket
import sys
import threading
import time


def address(n):
    return "127.0.%d.%d" % ((n >> 8) & 255, n & 255)


def connect(hostport):
    host, _, port = hostport.rpartition(":")
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    c.connect()
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", required=True, help="comma-separated host:port of the clients' HTTP APIs")
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--prefix", default="svc")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--chunk", type=int, default=25)
    ap.add_argument("--retries", type=int, default=3)
    o = ap.parse_args()
    clients = [c for c in o.clients.split(",") if c]

    per_client = [[] for _ in clients]
    for n in range(1, o.services + 1):
        per_client[(n - 1) % len(clients)].append(n)
    chunks = []   # (client index, [n, …]), round-robin over the clients
    for k in range(0, max(len(s) for s in per_client), o.chunk):
        for ci, svcs in enumerate(per_client):
            if svcs[k:k + o.chunk]:
                chunks.append((ci, svcs[k:k + o.chunk]))

    lock = threading.Lock()
    state = {"next": 0, "done": 0, "failed": 0, "errors": []}

    def register(conn, n):
        name = "%s-%d" % (o.prefix, n)
        body = json.dumps({"ID": name, "Name": name, "Address": address(n), "Port": 8080}).encode()
        conn.request("PUT", "/v1/agent/service/register", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        return resp.status, text

    def worker():
        while True:
            with lock:
                i = state["next"]
                if i >= len(chunks) or state["failed"] > 20:
                    return
                state["next"] = i + 1
            ci, svcs = chunks[i]
            conn = None
            for n in svcs:
                err = None
                for attempt in range(o.retries + 1):
                    try:
                        if conn is None:
                            conn = connect(clients[ci])
                        status, text = register(conn, n)
                        if status == 200:
                            err = None
                            break
                        err = "HTTP %d: %s" % (status, text.strip()[:200])
                        if status < 500:
                            break
                    except (OSError, http.client.HTTPException) as e:
                        err = "%s: %s" % (type(e).__name__, e)
                        if conn is not None:
                            conn.close()
                        conn = None
                    time.sleep(0.2 * (attempt + 1))
                with lock:
                    if err is None:
                        state["done"] += 1
                    else:
                        state["failed"] += 1
                        state["errors"].append("%s-%d on %s: %s" % (o.prefix, n, clients[ci], err))
            if conn is not None:
                conn.close()

    start = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(o.concurrency)]
    for t in threads:
        t.start()
    last = start
    while any(t.is_alive() for t in threads):
        time.sleep(0.1)
        now = time.monotonic()
        if now - last >= 2:
            last = now
            with lock:
                d = state["done"]
            print("  registered %d/%d (%.0f/s)" % (d, o.services, d / (now - start)), file=sys.stderr, flush=True)
    took = time.monotonic() - start
    rate = state["done"] / took if took > 0 else 0
    print("registered %d of %d services through %d clients in %.1f s (%.0f/s, %d connections)%s"
          % (state["done"], o.services, len(clients), took, rate, o.concurrency,
             ", %d FAILED" % state["failed"] if state["failed"] else ""), file=sys.stderr)
    for e in state["errors"][:5]:
        print("  " + e, file=sys.stderr)
    print("RESULT n=%d failed=%d seconds=%.1f rate=%.0f" % (state["done"], state["failed"], took, rate))
    return 1 if state["failed"] or state["done"] != o.services else 0


if __name__ == "__main__":
    sys.exit(main())
