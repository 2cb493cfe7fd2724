#!/usr/bin/env python3
"""Write-to-visibility on every client agent: how long after a KV write to the leader each client's local read
view (fed by its server's change feed) answers a ?stale blocking query with the new value.

  propagation.py --leader 127.0.0.1:26001 --clients 127.0.0.1:27001,… [--trials 200] [--warmup 10]
                 [--key bench/prop] [--timeout 10] [--tsv trials.tsv]

One thread and one keep-alive connection per client. Per trial:
  1. every thread reads the key's X-Consul-Index (GET /v1/kv/<key>?stale; a 404 carries it too) and sends
     GET /v1/kv/<key>?stale&index=<that>&wait=30s;
  2. when all are sent, 100 ms later: t0, PUT /v1/kv/<key> with a new value on the leader (t_ack at its 200);
  3. each thread takes the time its answer arrives and checks that the body ("Value", base64) is the new value;
     an answer without it (another write woke the query) is re-asked with the answer's index.
Per trial: the last client's time - t0 (all clients see the value) and the median client's. Prints
p50/p99/max of both over the trials (after --warmup trials, not reported) and
"RESULT trials=.. last_p50_ms=.. last_p99_ms=.. last_max_ms=.. med_p50_ms=.. … ack_p50_ms=.. timeouts=..".
A client that does not see the value within --timeout s (checked when an answer arrives: a query that never
answers ends after its 30 s wait) counts as a timeout, one whose connection failed as an error; a trial with
either is left out of the percentiles. Times include the driver's own thread wake-ups (one thread per client,
all behind Python's GIL when the answers arrive together).
"""
import argparse
import base64
import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time


def pct(values, p):
    """Nearest-rank percentile of a list (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def connect(hostport, timeout):
    host, _, port = hostport.rpartition(":")
    c = http.client.HTTPConnection(host, int(port), timeout=timeout)
    c.connect()
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def value_of(body):
    """The decoded Value of the first entry of a KV answer, or None."""
    try:
        entries = json.loads(body)
        v = entries[0].get("Value") if entries else None
        return base64.b64decode(v).decode("utf-8", "replace") if v is not None else None
    except (ValueError, TypeError, IndexError, AttributeError):
        return None


class Trial:
    def __init__(self, n, value, timeout):
        self.value = value
        self.deadline = None          # set by the main thread at t0
        self.timeout = timeout
        self.sent = threading.Barrier(n + 1)
        self.done = threading.Barrier(n + 1)
        self.seen = [None] * n        # perf_counter() when the value arrived
        self.early = [0] * n          # answers without the new value
        self.errors = [None] * n


class Client(threading.Thread):
    def __init__(self, i, hostport, path):
        super().__init__(daemon=True)
        self.i, self.hostport, self.path = i, hostport, path
        self.conn = None
        self.jobs = []
        self.cv = threading.Condition()

    def submit(self, trial):
        with self.cv:
            self.jobs.append(trial)
            self.cv.notify()

    def get(self, query):
        if self.conn is None:
            self.conn = connect(self.hostport, 45)
        self.conn.request("GET", self.path + query)

    def answer(self):
        r = self.conn.getresponse()
        t = time.perf_counter()
        body = r.read()
        return t, r.status, r.getheader("X-Consul-Index"), body

    def drop(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def run(self):
        while True:
            with self.cv:
                while not self.jobs:
                    self.cv.wait()
                trial = self.jobs.pop(0)
            if trial is None:
                return
            self.one(trial)

    def one(self, tr):
        i, ok = self.i, False
        for attempt in range(2):   # a second try on a new connection (the old one may have been closed idle)
            try:
                self.get("?stale")
                _, status, index, _ = self.answer()
                if index is None or status not in (200, 404):
                    raise RuntimeError("HTTP %d, X-Consul-Index %s" % (status, index))
                self.get("?stale&index=%s&wait=30s" % index)
                ok, tr.errors[i] = True, None
                break
            except (OSError, http.client.HTTPException, RuntimeError) as e:
                tr.errors[i] = "%s: %s" % (type(e).__name__, e)
                self.drop()
        tr.sent.wait()
        while ok:
            try:
                t, status, index, body = self.answer()
                if status == 200 and value_of(body) == tr.value:
                    tr.seen[i] = t
                    break
                tr.early[i] += 1
                if tr.deadline is not None and time.perf_counter() > tr.deadline:
                    break
                if index is None:
                    raise RuntimeError("HTTP %d without X-Consul-Index" % status)
                self.get("?stale&index=%s&wait=30s" % index)
            except (OSError, http.client.HTTPException, RuntimeError) as e:
                tr.errors[i] = "%s: %s" % (type(e).__name__, e)
                self.drop()
                break
        tr.done.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--leader", required=True, help="host:port of the leader's HTTP API")
    ap.add_argument("--clients", required=True, help="comma-separated host:port of the clients' HTTP APIs")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--key", default="bench/prop")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds for every client to see a value")
    ap.add_argument("--settle-ms", type=float, default=100.0, help="pause between sending the queries and the PUT")
    ap.add_argument("--tsv", help="one line per measured trial: trial, ack_ms, median_ms, last_ms, early, missing")
    o = ap.parse_args()
    hosts = [c for c in o.clients.split(",") if c]
    n = len(hosts)
    path = "/v1/kv/" + o.key
    clients = [Client(i, h, path) for i, h in enumerate(hosts)]
    for c in clients:
        c.start()
    leader = [connect(o.leader, 30)]

    def put(value):
        """PUT on the leader; one retry on a new connection. Returns (status, text, t0, t_ack)."""
        for attempt in range(2):
            t0 = time.perf_counter()
            try:
                leader[0].request("PUT", path, value.encode(), {"Content-Type": "application/octet-stream"})
                r = leader[0].getresponse()
                t_ack = time.perf_counter()
                return r.status, r.read().decode("utf-8", "replace").strip(), t0, t_ack
            except (OSError, http.client.HTTPException):
                leader[0].close()
                if attempt:
                    raise
                leader[0] = connect(o.leader, 30)
    tag = os.urandom(4).hex()

    last, med, ack, rows = [], [], [], []
    timeouts = errors = early_total = 0
    total = o.warmup + o.trials
    for k in range(total):
        measured = k >= o.warmup
        tr = Trial(n, "v-%s-%d" % (tag, k), o.timeout)
        for c in clients:
            c.submit(tr)
        try:
            tr.sent.wait(timeout=60)
        except threading.BrokenBarrierError:
            print("trial %d: the clients' queries were not all sent within 60 s" % k, file=sys.stderr)
            return 1
        time.sleep(o.settle_ms / 1000.0)
        tr.deadline = time.perf_counter() + o.timeout
        status, text, t0, t_ack = put(tr.value)
        if status != 200 or text != "true":
            print("trial %d: PUT on the leader answered HTTP %d %s" % (k, status, text[:200]), file=sys.stderr)
            return 1
        try:
            tr.done.wait(timeout=o.timeout + 40)
        except threading.BrokenBarrierError:
            print("trial %d: clients did not finish within %.0f s" % (k, o.timeout + 40), file=sys.stderr)
            return 1
        lat = [(s - t0) * 1000 for s in tr.seen if s is not None]
        missing = n - len(lat)
        errs = [e for e in tr.errors if e]
        for e in errs[:3]:
            print("trial %d: %s" % (k, e), file=sys.stderr)
        if not measured:
            continue
        early_total += sum(tr.early)
        errors += len(errs)
        ack_ms = (t_ack - t0) * 1000
        ack.append(ack_ms)
        if missing:
            timeouts += sum(1 for j in range(n) if tr.seen[j] is None and not tr.errors[j])
            rows.append((k - o.warmup, ack_ms, float("nan"), float("nan"), sum(tr.early), missing))
            if timeouts + errors > 5 * n:
                print("too many clients never saw their value; giving up", file=sys.stderr)
                break
        else:
            last.append(max(lat))
            med.append(statistics.median(lat))
            rows.append((k - o.warmup, ack_ms, med[-1], last[-1], sum(tr.early), 0))
        m = k - o.warmup + 1
        if m % 20 == 0 or m == o.trials:
            print("  trial %d/%d: last client %.1f ms, median client %.1f ms (so far p99 of the last: %.1f ms)"
                  % (m, o.trials, rows[-1][3], rows[-1][2], pct(last, 99)), file=sys.stderr, flush=True)
    for c in clients:
        c.submit(None)

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
    print("RESULT trials=%d clients=%d last_p50_ms=%.1f last_p99_ms=%.1f last_max_ms=%.1f med_p50_ms=%.1f "
          "med_p99_ms=%.1f med_max_ms=%.1f ack_p50_ms=%.1f ack_p99_ms=%.1f timeouts=%d errors=%d early=%d"
          % (len(last), n, pct(last, 50), pct(last, 99), max(last, default=float("nan")), pct(med, 50),
             pct(med, 99), max(med, default=float("nan")), pct(ack, 50), pct(ack, 99), timeouts, errors,
             early_total))
    return 1 if timeouts or errors else 0


if __name__ == "__main__":
    sys.exit(main())
