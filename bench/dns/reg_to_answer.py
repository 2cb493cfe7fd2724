#!/usr/bin/env python3
"""Registration-to-answer latency: registers services one at a time through one agent's HTTP API and, after
each, polls another agent's DNS server (UDP, in this process: no process start-up per poll) until the new
name's A record appears.

  reg_to_answer.py --http 127.0.0.1:8501 --dns 127.0.0.1:8602 [--count 200] [--api catalog|agent]
                   [--poll-ms 1] [--timeout 10] [--tsv out.tsv]

Per registration i (service r2a-<i>, address 10.50.x.y):
  1. one DNS query for r2a-<i>.service.<domain> before registering: must be NXDOMAIN (a resolver that caches
     the negative answer and never invalidates it shows up as timeouts below);
  2. t0; PUT /v1/catalog/register {"Node": <node>, "Address": ..., "Service": {...}} (--api catalog, default)
     or PUT /v1/agent/service/register {"ID", "Name", "Address", "Port"} (--api agent); t_ack when the 200
     arrives;
  3. poll the A record every --poll-ms ms (0: back to back, one query in flight) until it answers NOERROR with
     the address: t_answer.
Prints p50/p90/p99/max of t_ack - t0 and t_answer - t0 (and how many answers were visible right at t_ack),
and the result line "RESULT n=.. ack_p50_ms=.. ... answer_p99_ms=.. timeouts=.." for the shell script.
"""
import argparse
import http.client
import json
import socket
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from dnsprobe import Resolver  # noqa: E402


def pct(values, p):
    """Nearest-rank percentile of a list (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--http", required=True)
    ap.add_argument("--dns", required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--api", choices=("catalog", "agent"), default="catalog")
    ap.add_argument("--node", default="r2a-node")
    ap.add_argument("--domain", default="weft.")
    ap.add_argument("--poll-ms", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for one answer")
    ap.add_argument("--prefix", default="r2a")
    ap.add_argument("--tsv", help="write one line per registration: i, ack_ms, answer_ms, polls")
    o = ap.parse_args()

    hhost, _, hport = o.http.rpartition(":")
    dhost, _, dport = o.dns.rpartition(":")
    def connect():
        c = http.client.HTTPConnection(hhost, int(hport), timeout=30)
        c.connect()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return c

    conn = connect()
    dns = Resolver(dhost, int(dport), timeout=0.5)
    dom = o.domain.rstrip(".") + "."
    ack, answer, polls_all, at_ack = [], [], [], 0
    timeouts, pre_not_nx, http_errors = 0, 0, 0
    rows = []
    for i in range(o.count):
        name = "%s-%04d" % (o.prefix, i)
        ip = "10.50.%d.%d" % (((i + 1) >> 8) & 255, (i + 1) & 255)
        qname = "%s.service.%s" % (name, dom)
        pre = dns.query(qname, "A")
        if pre is None or pre[0] != "NXDOMAIN":
            pre_not_nx += 1
        if o.api == "catalog":
            path = "/v1/catalog/register"
            body = {"Node": o.node, "Address": "127.0.0.1",
                    "Service": {"ID": name, "Service": name, "Address": ip, "Port": 7000 + i}}
        else:
            path = "/v1/agent/service/register"
            body = {"ID": name, "Name": name, "Address": ip, "Port": 7000 + i}
        payload = json.dumps(body).encode()
        t0 = time.perf_counter()
        try:
            conn.request("PUT", path, payload, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            text = resp.read()
        except (OSError, http.client.HTTPException) as e:
            print("registration %s: %s" % (name, e), file=sys.stderr)
            http_errors += 1
            conn.close()
            conn = connect()
            continue
        t_ack = time.perf_counter()
        if resp.status != 200:
            print("registration %s: HTTP %d %s" % (name, resp.status, text[:200]), file=sys.stderr)
            http_errors += 1
            if http_errors > 5:
                break
            continue
        polls = 0
        t_answer = None
        deadline = t_ack + o.timeout
        while True:
            polls += 1
            r = dns.query(qname, "A")
            now = time.perf_counter()
            if r is not None and r[0] == "NOERROR" and any(t == "A" and d == ip for (_n, t, d) in r[1]):
                t_answer = now
                break
            if now > deadline:
                break
            if o.poll_ms > 0:
                time.sleep(o.poll_ms / 1000.0)
        ack.append((t_ack - t0) * 1000)
        polls_all.append(polls)
        if t_answer is None:
            timeouts += 1
            rows.append((i, ack[-1], None, polls))
            print("  %s: no answer %.0f s after the registration was acknowledged" % (name, o.timeout),
                  file=sys.stderr)
            continue
        if polls == 1:
            at_ack += 1
        answer.append((t_answer - t0) * 1000)
        rows.append((i, ack[-1], answer[-1], polls))
        if (i + 1) % 25 == 0:
            print("  %d/%d registered; answer p50 so far %.1f ms" % (i + 1, o.count, pct(answer, 50)),
                  file=sys.stderr, flush=True)
    if o.tsv:
        with open(o.tsv, "w") as f:
            f.write("i\tack_ms\tanswer_ms\tpolls\n")
            for i, a, b, p in rows:
                f.write("%d\t%.3f\t%s\t%d\n" % (i, a, "-" if b is None else "%.3f" % b, p))
    n = len(answer)
    print("RESULT n=%d ack_p50_ms=%.2f ack_p99_ms=%.2f ack_max_ms=%.2f answer_p50_ms=%.2f answer_p90_ms=%.2f "
          "answer_p99_ms=%.2f answer_max_ms=%.2f answer_min_ms=%.2f at_ack=%d timeouts=%d http_errors=%d "
          "pre_not_nxdomain=%d polls_p50=%d"
          % (n, pct(ack, 50), pct(ack, 99), max(ack) if ack else float("nan"), pct(answer, 50), pct(answer, 90),
             pct(answer, 99), max(answer) if answer else float("nan"), min(answer) if answer else float("nan"),
             at_ack, timeouts, http_errors, pre_not_nx, pct(polls_all, 50) if polls_all else 0))
    return 0 if n == o.count and not timeouts and not http_errors else 1


if __name__ == "__main__":
    sys.exit(main())
