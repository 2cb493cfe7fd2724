#!/usr/bin/env python3
"""Container registration latency: containers started and stopped one at a time on a (private) dockerd whose
containers an agent's registrator turns into services; after each `docker start` / `docker stop`, another agent's
DNS server is polled over UDP from this process (no process start-up per poll) until the name answers / is gone.

  regl.py measure --docker /usr/bin/docker --host unix:///tmp/wftb-…/docker.sock --dns 127.0.0.1:24222
                  [--count 100] [--warmup 10] [--poll-ms 1] [--timeout 10] [--image weft-test/busybox]
                  [--ip 127.0.0.1] [--tsv out.tsv]
  regl.py overlaps NET [--ignore-dev DEV]     exit 0 when a route (any table, not on DEV) overlaps NET/24
  regl.py static-elf FILE                     exit 0 when FILE is a statically linked ELF

Per container i (name lat<i>, service lat-<i>; warm-up containers: latw<i>, latw-<i>, not reported):
  1. docker create --name lat<i> -e SERVICE_NAME=lat-<i> -p 127.0.0.1::8080 IMAGE httpd -f -p 8080 (not timed);
     one DNS query for lat-<i>.service.<domain> A: must be NXDOMAIN (catches negative answers never invalidated);
  2. docker start lat<i>; t0 when the CLI returns; poll the A record every --poll-ms ms until it answers NOERROR
     with --ip: "up" = answer - t0;
  3. (not timed) SRV lat-<i>.service.<domain>: its port must be the host port Docker published (docker port);
  4. docker stop -t 0 lat<i>; t0 when the CLI returns; poll until the name is gone (NXDOMAIN, or NOERROR
     without an A record): "down" = gone - t0;
  5. docker rm lat<i> (not timed).
A thread follows Docker's event stream (GET /events on the same socket) and notes when each container's
`start` and its first `die`/`stop` event arrived here, so that the time from the event (what the registrator
reacts to) to the answer is shown as well, and how much earlier than the CLI's return the event came.
Prints p50/p90/p99/max and the result line "RESULT n=.. up_p50_ms=.. ... down_p99_ms=.. failures=.." for the
shell script; progress on stderr.
"""
import argparse
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "dns"))
from dnsprobe import Resolver  # noqa: E402
from reg_to_answer import pct  # noqa: E402


# ---- helpers for the shell script -------------------------------------------------------------------------

def ipv4(s):
    return struct.unpack(">I", socket.inet_aton(s))[0]


def overlaps(net, ignore_devs):
    """True when a route of any table, other than one on ignore_devs, overlaps net/24 (like DockerDaemon)."""
    out = subprocess.run(["ip", "-4", "route", "show", "table", "all"], check=True, capture_output=True,
                         text=True).stdout
    base = ipv4(net)
    for line in out.splitlines():
        t = line.split()
        if not t:
            continue
        if t[0] in ("unicast", "local", "broadcast", "multicast", "anycast", "blackhole", "unreachable",
                    "prohibit", "throw", "nat"):
            t = t[1:]
        if not t or t[0] == "default":
            continue
        if "dev" in t:
            i = t.index("dev")
            if i + 1 < len(t) and t[i + 1] in ignore_devs:
                continue
        prefix, _, length = t[0].partition("/")
        length = int(length) if length else 32
        common = min(length, 24)
        mask = 0 if common == 0 else (0xFFFFFFFF << (32 - common)) & 0xFFFFFFFF
        if ipv4(prefix) & mask == base & mask:
            return True
    return False


def static_elf(path):
    """True for an ELF file without a program interpreter (statically linked)."""
    try:
        with open(path, "rb") as f:
            h = f.read(64)
            if h[:4] != b"\x7fELF":
                return False
            if h[4] != 2 or h[5] != 1:
                return True
            phoff = struct.unpack_from("<Q", h, 0x20)[0]
            phentsize, phnum = struct.unpack_from("<HH", h, 0x36)
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                if struct.unpack("<I", f.read(4))[0] == 3:  # PT_INTERP
                    return False
            return True
    except OSError:
        return False


# ---- Docker --------------------------------------------------------------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=None):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.timeout is not None:
            self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class EventWatch(threading.Thread):
    """Follows GET /events (containers) and notes when each container's start and first die/stop arrived."""

    def __init__(self, sock_path):
        super().__init__(daemon=True, name="docker-events")
        self.sock_path = sock_path
        self.started = {}   # name -> perf_counter() at arrival
        self.stopped = {}
        self.ready = threading.Event()
        self.error = None

    def run(self):
        try:
            c = UnixHTTPConnection(self.sock_path)
            flt = json.dumps({"type": ["container"], "event": ["start", "die", "stop"]})
            c.request("GET", "/events?filters=" + urlquote(flt))
            r = c.getresponse()
            if r.status != 200:
                raise RuntimeError("GET /events: HTTP %d" % r.status)
            self.ready.set()
            while True:
                line = r.readline()
                if not line:
                    raise RuntimeError("event stream ended")
                now = time.perf_counter()
                line = line.strip()
                if not line:
                    continue
                e = json.loads(line)
                name = e.get("Actor", {}).get("Attributes", {}).get("name", "")
                action = e.get("Action") or e.get("status", "")
                if action == "start":
                    self.started[name] = now
                elif action in ("die", "stop") and name not in self.stopped:
                    self.stopped[name] = now
        except Exception as e:  # noqa: BLE001: reported by the main thread
            self.error = e
            self.ready.set()


def urlquote(s):
    from urllib.parse import quote
    return quote(s, safe="")


class Docker:
    def __init__(self, binary, host):
        self.cmd = [binary, "-H", host]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_") and k != "CONTAINER_HOST"}
        if "DOCKER_CONFIG" in os.environ:
            self.env["DOCKER_CONFIG"] = os.environ["DOCKER_CONFIG"]

    def run(self, *args):
        """Runs the CLI; returns (seconds it took, stdout); raises on a non-zero exit."""
        t = time.perf_counter()
        p = subprocess.run(self.cmd + list(args), env=self.env, capture_output=True, text=True, timeout=120)
        took = time.perf_counter() - t
        if p.returncode != 0:
            raise RuntimeError("docker %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()[:300]))
        return took, p.stdout

    def popen(self, args):
        return subprocess.Popen(self.cmd + list(args), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


# ---- the measurement -------------------------------------------------------------------------------------------

def has_a(res, ip):
    return res is not None and res[0] == "NOERROR" and any(t == "A" and d == ip for (_n, t, d) in res[1])


def gone(res):
    return res is not None and (res[0] == "NXDOMAIN" or (res[0] == "NOERROR" and not any(t == "A" for (_n, t, _d)
                                                                                         in res[1])))


def timed(docker, args, dns, qname, done, timeout, poll_ms):
    """Runs `docker ARGS` and polls the name from the moment the CLI is started (so an answer that comes before
    the CLI returns is seen as such) until done(answer), for at most `timeout` s after the CLI returned.
    Returns (t_call, t_return, t_done or None, polls after the return)."""
    t_call = time.perf_counter()
    proc = docker.popen(args)
    res = {}

    def wait():
        res["out"], res["err"] = proc.communicate(timeout=120)
        res["t_ret"] = time.perf_counter()

    th = threading.Thread(target=wait, daemon=True)
    th.start()
    t_done, polls_after = None, 0
    while True:
        t_ret = res.get("t_ret")
        r = dns.query(qname, "A")
        now = time.perf_counter()
        if t_ret is not None:
            polls_after += 1
        if done(r):
            t_done = now
            break
        if t_ret is not None and now > t_ret + timeout:
            break
        if t_ret is None and now > t_call + 130:
            break
        if poll_ms > 0:
            time.sleep(poll_ms / 1000.0)
    th.join(130)
    if "t_ret" not in res:
        raise RuntimeError("docker %s: no exit within 120 s" % " ".join(args))
    if proc.returncode != 0:
        raise RuntimeError("docker %s: exit %d: %s" % (" ".join(args), proc.returncode, res["err"].strip()[:300]))
    return t_call, res["t_ret"], t_done, polls_after


def one(o, docker, dns, events, prefix, i, dom):
    """One container's start/stop cycle; returns a dict of measurements (ms) and problems."""
    cname = "%s%03d" % (prefix, i)
    svc = "%s-%03d" % (prefix, i)
    qname = "%s.service.%s" % (svc, dom)
    row = {"i": i, "name": cname, "problems": []}
    docker.run("create", "--name", cname, "-e", "SERVICE_NAME=" + svc, "-p", "%s::8080" % o.ip, o.image,
               "httpd", "-f", "-p", "8080")
    pre = dns.query(qname, "A")
    if pre is None or pre[0] != "NXDOMAIN":
        row["problems"].append("before start: %s, expected NXDOMAIN" % ("timeout" if pre is None else pre[0]))
    for key, args, done, evs in (("up", ("start", cname), lambda r: has_a(r, o.ip), events and events.started),
                                 ("down", ("stop", "-t", "0", cname), gone, events and events.stopped)):
        t_call, t_ret, t_done, polls = timed(docker, args, dns, qname, done, o.timeout, o.poll_ms)
        ev = evs.get(cname) if evs else None
        row["%s_cli_ms" % key] = (t_ret - t_call) * 1000
        row["%s_ms" % key] = None if t_done is None else max(0.0, t_done - t_ret) * 1000
        row["%s_before_return" % key] = t_done is not None and t_done <= t_ret
        row["%s_polls" % key] = polls
        row["%s_ev_lead_ms" % key] = None if ev is None else (t_ret - ev) * 1000
        row["%s_from_ev_ms" % key] = None if ev is None or t_done is None else (t_done - ev) * 1000
        if t_done is None:
            row["problems"].append("no A %s %.0f s after docker start returned" % (o.ip, o.timeout) if key == "up"
                                   else "still answering %.0f s after docker stop returned" % o.timeout)
            if key == "up":
                docker.run("stop", "-t", "0", cname)
                break
        elif key == "up":
            _, out = docker.run("port", cname, "8080/tcp")
            want = {int(line.rsplit(":", 1)[1]) for line in out.split() if ":" in line}
            srv = dns.query(qname, "SRV")
            got = {int(d.split()[2]) for (_n, t, d) in (srv[1] if srv else []) if t == "SRV"}
            if not want or got != want:
                row["problems"].append("SRV ports %s, published %s" % (sorted(got) or "none", sorted(want)))
    docker.run("rm", cname)
    return row


def col(rows, key):
    return [r[key] for r in rows if r.get(key) is not None]


def stats(values):
    v = [x for x in values if x is not None]
    if not v:
        return {"p50": float("nan"), "p90": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    return {"p50": pct(v, 50), "p90": pct(v, 90), "p99": pct(v, 99), "max": max(v), "min": min(v), "n": len(v)}


def measure(o):
    docker = Docker(o.docker, o.host)
    dhost, _, dport = o.dns.rpartition(":")
    dns = Resolver(dhost, int(dport), timeout=0.5)
    dom = o.domain.rstrip(".") + "."
    events = None
    if o.host.startswith("unix://"):
        events = EventWatch(o.host[len("unix://"):])
        events.start()
        events.ready.wait(10)
        if events.error is not None:
            print("docker events not followed (%s): event columns stay empty" % events.error, file=sys.stderr)
            events = None
    failures = 0
    for i in range(o.warmup):
        try:
            row = one(o, docker, dns, events, "latw", i, dom)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            print("  warm-up container %d: %s" % (i, e), file=sys.stderr)
            return 1
        if row["problems"]:
            print("  warm-up %s: %s" % (row["name"], "; ".join(row["problems"])), file=sys.stderr)
            return 1
    if o.warmup:
        print("  warm-up: %d containers up and down (not reported)" % o.warmup, file=sys.stderr, flush=True)
    rows = []
    for i in range(o.count):
        try:
            row = one(o, docker, dns, events, "lat", i, dom)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            print("  container %d: %s" % (i, e), file=sys.stderr)
            failures += 1
            if failures > 5:
                break
            continue
        rows.append(row)
        if row["problems"]:
            failures += 1
            print("  %s: %s" % (row["name"], "; ".join(row["problems"])), file=sys.stderr, flush=True)
        if (i + 1) % 10 == 0 or i + 1 == o.count:
            u, d = stats(col(rows, "up_ms")), stats(col(rows, "down_ms"))
            print("  %d/%d containers: start→answer p50 %.1f ms (max %.1f), stop→gone p50 %.1f ms (max %.1f)"
                  % (i + 1, o.count, u["p50"], u["max"], d["p50"], d["max"]), file=sys.stderr, flush=True)
    cols = ["i", "name"] + ["%s_%s" % (k, c) for k in ("up", "down")
                            for c in ("cli_ms", "ms", "before_return", "polls", "ev_lead_ms", "from_ev_ms")]
    if o.tsv:
        with open(o.tsv, "w") as f:
            f.write("\t".join(cols + ["problems"]) + "\n")
            for r in rows:
                f.write("\t".join("-" if r.get(c) is None else ("%.3f" % r[c] if isinstance(r[c], float)
                                                                 else str(r[c])) for c in cols)
                        + "\t" + ("; ".join(r["problems"]) or "-") + "\n")
    fields = [("n", len(col(rows, "up_ms"))), ("down_n", len(col(rows, "down_ms"))), ("count", o.count)]
    for key in ("up", "down"):
        for name, c in (("", "ms"), ("_cli", "cli_ms"), ("_ev", "from_ev_ms")):
            s = stats(col(rows, "%s_%s" % (key, c)))
            fields += [("%s%s_%s_ms" % (key, name, q), "%.2f" % s[q]) for q in ("p50", "p90", "p99", "max")]
        fields += [("%s_ev_lead_p50_ms" % key, "%.2f" % stats(col(rows, key + "_ev_lead_ms"))["p50"]),
                   ("%s_before_return" % key, sum(1 for r in rows if r.get(key + "_before_return"))),
                   ("%s_timeouts" % key, sum(1 for r in rows if key + "_cli_ms" in r and r.get(key + "_ms") is None))]
    fields += [("pre_not_nxdomain", sum(1 for r in rows if any(p.startswith("before start") for p in r["problems"]))),
               ("srv_wrong", sum(1 for r in rows if any(p.startswith("SRV") for p in r["problems"]))),
               ("events", "yes" if events is not None else "no"),
               ("failures", failures)]
    print("RESULT " + " ".join("%s=%s" % kv for kv in fields))
    return 0 if failures == 0 and len(rows) == o.count else 1


def main(argv):
    if argv[:1] == ["overlaps"]:
        ap = argparse.ArgumentParser(prog="regl.py overlaps")
        ap.add_argument("net")
        ap.add_argument("--ignore-dev", action="append", default=[])
        a = ap.parse_args(argv[1:])
        return 0 if overlaps(a.net, a.ignore_dev) else 1
    if argv[:1] == ["static-elf"] and len(argv) == 2:
        return 0 if static_elf(argv[1]) else 1
    if argv[:1] != ["measure"]:
        print(__doc__, file=sys.stderr)
        return 2
    ap = argparse.ArgumentParser(prog="regl.py measure", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docker", default="docker")
    ap.add_argument("--host", required=True, help="unix:///path/docker.sock")
    ap.add_argument("--dns", required=True, help="HOST:PORT of the DNS server to poll")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--poll-ms", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for one answer / removal")
    ap.add_argument("--image", default="weft-test/busybox")
    ap.add_argument("--ip", default="127.0.0.1", help="published ports' host address = the registered address")
    ap.add_argument("--domain", default="weft.")
    ap.add_argument("--tsv")
    return measure(ap.parse_args(argv[1:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
