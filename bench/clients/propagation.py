#!/usr/bin/env python3
"""Write-to-visibility on every client agent: how long after a KV write to the leader each client's local read
view (fed by its server's change feed) answers a ?stale blocking query with the new value.

  propagation.py --leader 127.0.0.1:26001 --clients 127.0.0.1:27001,… [--groups weft1,weft2,…] [--trials 200]
                 [--warmup 10] [--key bench/prop] [--timeout 10] [--tsv trials.tsv]

One keep-alive connection per client, all driven by one thread and one epoll loop (no thread wake-ups or GIL
hand-offs between an answer's arrival and its timestamp). Per trial:
  1. GET /v1/kv/<key>?stale&index=<i>&wait=30s is sent on each connection, <i> being the X-Consul-Index of the
     client's answer in the previous trial (first read with GET /v1/kv/<key>?stale; a 404 carries it too);
  2. 100 ms later: t0, PUT /v1/kv/<key> with a new value on the leader, sent from the same loop (t_ack at its 200);
  3. each answer is timestamped when its last byte is read and checked: the body's "Value" (base64) must be the
     new value; an answer without it (another write woke the query) is re-asked with the answer's index.
Per trial: the last client's time - t0 (all clients see the value) and the median client's. Prints p50/p99/max of
both over the trials (after --warmup trials, not reported), the same per group of clients (--groups: one label per
client, e.g. the server it follows) and
"RESULT trials=.. last_p50_ms=.. last_p99_ms=.. last_max_ms=.. med_p50_ms=.. … ack_p50_ms=.. timeouts=..".
A client that does not see the value within --timeout s counts as a timeout, one whose connection failed as an
error; a trial with either is left out of the percentiles.
"""
import argparse
import base64
import json
import os
import selectors
import socket
import statistics
import sys
import time


def pct(values, p):
    """Nearest-rank percentile of a list (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def value_of(body):
    """The decoded Value of the first entry of a KV answer, or None."""
    try:
        entries = json.loads(body)
        v = entries[0].get("Value") if entries else None
        return base64.b64decode(v).decode("utf-8", "replace") if v is not None else None
    except (ValueError, TypeError, IndexError, AttributeError):
        return None


class Conn:
    """One keep-alive HTTP/1.1 connection; requests are written whole, answers parsed as bytes arrive."""

    def __init__(self, hostport, label):
        host, _, port = hostport.rpartition(":")
        self.addr = (host, int(port))
        self.hostport = hostport
        self.label = label
        self.sock = None
        self.buf = b""
        self.index = None   # X-Consul-Index of the last answer: the next trial's blocking query starts there

    def open(self):
        self.close()
        s = socket.create_connection(self.addr, timeout=30)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buf = s, b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def send(self, method, path, body=b""):
        if self.sock is None:
            self.open()
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n" % (method, path, self.hostport, len(body))
        self.sock.setblocking(True)
        self.sock.sendall(head.encode() + body)

    def parse(self):
        """A complete answer from the buffer as (status, headers, body), or None when more bytes are needed."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = self.buf[:end].decode("iso-8859-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        rest = self.buf[end + 4:]
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body, pos = b"", 0
            while True:
                nl = rest.find(b"\r\n", pos)
                if nl < 0:
                    return None
                size = int(rest[pos:nl].split(b";")[0], 16)
                if len(rest) < nl + 2 + size + 2:
                    return None
                body += rest[nl + 2:nl + 2 + size]
                pos = nl + 2 + size + 2
                if size == 0:
                    break
            self.buf = rest[pos:]
            return status, headers, body
        n = int(headers.get("content-length", "0"))
        if len(rest) < n:
            return None
        self.buf = rest[n:]
        return status, headers, rest[:n]

    def read_blocking(self):
        self.sock.setblocking(True)
        while True:
            a = self.parse()
            if a is not None:
                return a
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("connection closed by " + self.hostport)
            self.buf += data


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--leader", required=True, help="host:port of the leader's HTTP API")
    ap.add_argument("--clients", required=True, help="comma-separated host:port of the clients' HTTP APIs")
    ap.add_argument("--groups", help="comma-separated label per client (e.g. the server it follows)")
    ap.add_argument("--servers", help="comma-separated label=host:port of servers to time as well (reported per "
                    "server, not in the clients' figures)")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--key", default="bench/prop")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds for every client to see a value")
    ap.add_argument("--settle-ms", type=float, default=100.0, help="pause between sending the queries and the PUT")
    ap.add_argument("--tsv", help="one line per measured trial: trial, ack_ms, median_ms, last_ms, early, missing")
    o = ap.parse_args()
    hosts = [c for c in o.clients.split(",") if c]
    n = len(hosts)
    labels = [g for g in o.groups.split(",")] if o.groups else ["all"] * n
    if len(labels) < n:
        print("--groups names %d clients, --clients %d" % (len(labels), n), file=sys.stderr)
        return 2
    path = "/v1/kv/" + o.key
    labels = labels[:n]
    for spec in (o.servers.split(",") if o.servers else []):
        if spec:
            name, _, hp = spec.partition("=")
            hosts.append(hp)
            labels.append("server-" + name)
    clients = [Conn(h, labels[i]) for i, h in enumerate(hosts)]
    nall = len(hosts)
    leader = Conn(o.leader, "leader")
    sel = selectors.DefaultSelector()
    tag = os.urandom(4).hex()

    last, med, ack, rows = [], [], [], []
    per_group = {g: [] for g in labels}
    timeouts = errors = early_total = 0
    total = o.warmup + o.trials
    for k in range(total):
        measured = k >= o.warmup
        value = "v-%s-%d" % (tag, k)
        seen = [None] * nall
        errs = [None] * nall
        early = 0
        # 1. one blocking query per client, from the index each one serves now
        for i, c in enumerate(clients):
            for attempt in range(2):   # a second try on a new connection (the old one may have been closed idle)
                try:
                    if c.index is None or c.sock is None:
                        c.send("GET", path + "?stale")
                        status, h, _ = c.read_blocking()
                        if "x-consul-index" not in h or status not in (200, 404):
                            raise RuntimeError("HTTP %d, X-Consul-Index %s" % (status, h.get("x-consul-index")))
                        c.index = h["x-consul-index"]
                    c.send("GET", path + "?stale&index=%s&wait=30s" % c.index)
                    c.sock.setblocking(False)
                    sel.register(c.sock, selectors.EVENT_READ, i)
                    errs[i] = None
                    break
                except (OSError, RuntimeError, ValueError) as e:
                    errs[i] = "%s: %s" % (type(e).__name__, e)
                    c.close()
                    c.index = None
        time.sleep(o.settle_ms / 1000.0)
        # 2. the write, from the same loop
        try:
            if leader.sock is None:
                leader.open()
            t0 = time.perf_counter()
            leader.send("PUT", path, value.encode())
        except OSError:
            leader.open()
            t0 = time.perf_counter()
            leader.send("PUT", path, value.encode())
        leader.sock.setblocking(False)
        sel.register(leader.sock, selectors.EVENT_READ, -1)
        t_ack, put_answer = None, None
        deadline = t0 + o.timeout
        waiting = sum(1 for i in range(nall) if errs[i] is None)
        # 3. answers as they arrive
        while (waiting > 0 or t_ack is None) and time.perf_counter() < deadline:
            for key, _ in sel.select(timeout=max(0.0, deadline - time.perf_counter())):
                i = key.data
                c = leader if i < 0 else clients[i]
                try:
                    data = c.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError as e:
                    data, err = b"", e
                t = time.perf_counter()
                if not data:
                    sel.unregister(c.sock)
                    if i < 0:
                        print("trial %d: the leader closed the connection" % k, file=sys.stderr)
                        return 1
                    errs[i] = "connection closed"
                    c.close()
                    waiting -= 1
                    continue
                c.buf += data
                a = c.parse()
                if a is None:
                    continue
                status, h, body = a
                if i < 0:
                    t_ack, put_answer = t, (status, body.decode("utf-8", "replace").strip())
                    sel.unregister(c.sock)
                    continue
                if status == 200 and value_of(body) == value:
                    seen[i] = t
                    c.index = h.get("x-consul-index")
                    sel.unregister(c.sock)
                    waiting -= 1
                    continue
                early += 1
                if "x-consul-index" not in h:
                    errs[i] = "HTTP %d without X-Consul-Index" % status
                    sel.unregister(c.sock)
                    c.close()
                    waiting -= 1
                    continue
                c.send("GET", path + "?stale&index=%s&wait=30s" % h["x-consul-index"])
                c.sock.setblocking(False)
        # whatever still waits: its query stays open; drop the connection so the next trial starts clean
        for i, c in enumerate(clients):
            if seen[i] is None and c.sock is not None:
                try:
                    sel.unregister(c.sock)
                except (KeyError, ValueError):
                    pass
                c.close()
        if t_ack is None:
            print("trial %d: the leader did not answer the PUT within %.0f s" % (k, o.timeout), file=sys.stderr)
            return 1
        if put_answer[0] != 200 or put_answer[1] != "true":
            print("trial %d: PUT on the leader answered HTTP %d %s" % (k, put_answer[0], put_answer[1][:200]),
                  file=sys.stderr)
            return 1
        lat = [(s - t0) * 1000 if s is not None else None for s in seen]
        got = [x for x in lat[:n] if x is not None]
        missing = n - len(got)
        for e in [e for e in errs if e][:3]:
            print("trial %d: %s" % (k, e), file=sys.stderr)
        if not measured:
            continue
        early_total += early
        errors += sum(1 for e in errs[:n] if e)
        ack_ms = (t_ack - t0) * 1000
        ack.append(ack_ms)
        if missing:
            timeouts += sum(1 for j in range(n) if seen[j] is None and not errs[j])
            rows.append((k - o.warmup, ack_ms, float("nan"), float("nan"), early, missing))
            if timeouts + errors > 5 * n:
                print("too many clients never saw their value; giving up", file=sys.stderr)
                break
        else:
            last.append(max(got))
            med.append(statistics.median(got))
            rows.append((k - o.warmup, ack_ms, med[-1], last[-1], early, 0))
            for i in range(nall):
                if lat[i] is not None:
                    per_group[labels[i]].append(lat[i])
        m = k - o.warmup + 1
        if m % 20 == 0 or m == o.trials:
            print("  trial %d/%d: last client %.1f ms, median client %.1f ms (so far p99 of the last: %.1f ms)"
                  % (m, o.trials, rows[-1][3], rows[-1][2], pct(last, 99)), file=sys.stderr, flush=True)

    if o.tsv:
        with open(o.tsv, "w") as f:
            f.write("trial\tack_ms\tmedian_client_ms\tlast_client_ms\tearly_answers\tmissing\n")
            for r in rows:
                f.write("%d\t%.3f\t%.3f\t%.3f\t%d\t%d\n" % r)
    print("%d trials, %d clients: last client p50 %.1f / p99 %.1f / max %.1f ms; median client p50 %.1f / p99 %.1f"
          " / max %.1f ms; leader PUT ack p50 %.1f ms; %d timeouts, %d errors, %d early answers"
          % (len(rows), n, pct(last, 50), pct(last, 99), max(last, default=float("nan")), pct(med, 50),
             pct(med, 99), max(med, default=float("nan")), pct(ack, 50), timeouts, errors, early_total),
          file=sys.stderr)
    for g in sorted(per_group):
        v = per_group[g]
        print("GROUP %s answers=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f" % (g, len(v), pct(v, 50), pct(v, 99),
                                                                           max(v, default=float("nan"))))
    print("RESULT trials=%d clients=%d last_p50_ms=%.1f last_p99_ms=%.1f last_max_ms=%.1f med_p50_ms=%.1f "
          "med_p99_ms=%.1f med_max_ms=%.1f ack_p50_ms=%.1f ack_p99_ms=%.1f timeouts=%d errors=%d early=%d"
          % (len(last), n, pct(last, 50), pct(last, 99), max(last, default=float("nan")), pct(med, 50),
             pct(med, 99), max(med, default=float("nan")), pct(ack, 50), pct(ack, 99), timeouts, errors,
             early_total))
    return 1 if timeouts or errors else 0


if __name__ == "__main__":
    sys.exit(main())
