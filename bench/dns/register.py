#!/usr/bin/env python3
"""Registers the services of a services.tsv (from gen.py) in weft's catalog, one HTTP request per service:
PUT /v1/catalog/register {"Node", "Address", "Service": {"ID", "Service", "Address", "Port"}}, from
--concurrency threads, each on its own keep-alive connection. Progress every 2 s on stderr; exits 1 if any
registration failed (after --retries retries of a connection error or a 5xx answer).

  register.py --http 127.0.0.1:8500 services.tsv [--concurrency 16]
"""
import argparse
import http.client
import json
import socket
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--http", required=True, help="host:port of the weft HTTP API")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--retries", type=int, default=3)
    o = ap.parse_args()
    host, _, port = o.http.rpartition(":")

    rows = [line.rstrip("\n").split("\t") for line in open(o.file) if line.strip()]
    total = len(rows)
    lock = threading.Lock()
    state = {"next": 0, "done": 0, "failed": 0, "errors": []}

    def body(row):
        node, node_addr, name, addr, port_ = row
        return json.dumps({"Node": node, "Address": node_addr,
                           "Service": {"ID": name, "Service": name, "Address": addr, "Port": int(port_)}}).encode()

    def worker():
        conn = None
        while True:
            with lock:
                i = state["next"]
                if i >= total or state["failed"] > 20:
                    break
                state["next"] = i + 1
            payload = body(rows[i])
            err = None
            for attempt in range(o.retries + 1):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(host, int(port), timeout=30)
                        conn.connect()
                        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    conn.request("PUT", "/v1/catalog/register", payload, {"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    text = resp.read().decode("utf-8", "replace")
                    if resp.status == 200:
                        err = None
                        break
                    err = "HTTP %d: %s" % (resp.status, text.strip()[:200])
                    if resp.status < 500:
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
                    state["errors"].append("%s: %s" % (rows[i][2], err))
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
            print("  registered %d/%d (%.0f/s)" % (d, total, d / (now - start)), file=sys.stderr, flush=True)
    took = time.monotonic() - start
    print("registered %d of %d services in %.1f s (%.0f/s, %d connections)%s"
          % (state["done"], total, took, state["done"] / took if took > 0 else 0, o.concurrency,
             ", %d FAILED" % state["failed"] if state["failed"] else ""), file=sys.stderr)
    for e in state["errors"][:5]:
        print("  " + e, file=sys.stderr)
    return 1 if state["failed"] or state["done"] != total else 0


if __name__ == "__main__":
    sys.exit(main())
