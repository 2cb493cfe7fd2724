#!/usr/bin/env python3
"""Overlay convergence: time from `docker run -d` of a server container on one host to the first successful TCP
connect to it from another host's container. Runs inside the client container's network namespace (the shell
script starts it with `nsenter --net=/proc/<pid>/ns/net`); the docker CLI still reaches the server host's dockerd
through its unix socket.

  converge.py --docker-host unix:///…/docker.sock --network benchnet --image weft-bench/net
              [--runs 50] [--port 5000] [--poll-ms 10] [--timeout 10] [--tsv out.tsv]

Per run i: t0; `docker run -d --name weftconv<i> --network NET IMAGE httpd -f -p PORT` started (not waited
for); meanwhile a fresh TCP connect to the server's address every --poll-ms ms (each attempt waits at most
--poll-ms ms for the SYN-ACK; "connection refused" means the container is there but httpd not yet listening)
until one succeeds: t_connect. t_run is when `docker run` returned. Then `docker rm -f`, which releases the
address, so the next run's container gets the same one: its address is known before it exists, polling starts
at t0. A first, unreported run learns the address; a run whose container got another address is not counted
("moved") and teaches the new one.
Afterwards Docker's events of the runs split `docker run` into phases (from t0, wall clock): the container
created, the network connected (libnetwork's IPAM RequestAddress, CreateEndpoint and Join calls to the driver
are done by then) and the container started.
Prints progress to stderr and "RESULT n=.. total_p50_ms=.. …" for the shell script.
"""
import argparse
import errno
import os
import select
import socket
import subprocess
import sys
import time


def pct(values, p):
    """Nearest-rank percentile of a list (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def try_connect(ip, port, wait_s):
    """One fresh TCP connect, waiting at most wait_s: 'ok', 'refused', 'unreachable' or 'timeout'."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        rc = s.connect_ex((ip, port))
        if rc not in (0, errno.EINPROGRESS):
            return "refused" if rc == errno.ECONNREFUSED else "unreachable"
        _, w, _ = select.select([], [s], [], wait_s)
        if not w:
            return "timeout"
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err == 0:
            return "ok"
        return "refused" if err == errno.ECONNREFUSED else "unreachable"
    finally:
        s.close()


def event_phases(docker, walls, ids):
    """name -> {"create", "connect", "start"}: ms from the run's t0 to Docker's events for its container."""
    if not walls:
        return {}
    since = min(walls.values()) / 1e9 - 1
    out = docker("events", "--since", "%.3f" % since, "--until", "%.3f" % (time.time() + 1), "--format",
                 "{{.TimeNano}} {{.Type}} {{.Action}} {{.Actor.ID}} {{index .Actor.Attributes \"container\"}} "
                 "{{index .Actor.Attributes \"name\"}}")
    phases = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) < 4:
            continue
        t, typ, action = int(f[0]), f[1], f[2]
        if typ == "container" and action in ("create", "start"):
            name = ids.get(f[3])
        elif typ == "network" and action == "connect" and len(f) > 4:
            name = ids.get(f[4])
            action = "connect"
        else:
            continue
        if name in walls:
            phases.setdefault(name, {})[action] = (t - walls[name]) / 1e6
    return phases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docker", default="docker")
    ap.add_argument("--docker-host", required=True)
    ap.add_argument("--network", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--port", type=int, default=5000)
    ap.add_argument("--poll-ms", type=float, default=10)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--tsv")
    a = ap.parse_args()
    dk = [a.docker, "-H", a.docker_host]
    poll = a.poll_ms / 1000.0

    def docker(*args):
        return subprocess.run(dk + list(args), check=True, capture_output=True, text=True).stdout.strip()

    expected = None
    walls = {}   # container name -> wall-clock t0 (ns)
    phases = {}  # container name -> its docker run phases
    total, run_ms, after_run = [], [], []
    before_run = timeouts = moved = 0
    rows = []
    for i in range(a.runs + 1):
        name = "weftconv%d" % i
        walls[name] = time.time_ns()
        t0 = time.monotonic()
        p = subprocess.Popen(dk + ["run", "-d", "--name", name, "--network", a.network, a.image,
                                   "httpd", "-f", "-p", str(a.port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        t_run = t_conn = None
        attempts = 0
        last = ""
        while True:
            now = time.monotonic()
            if t_run is None and p.poll() is not None:
                t_run = now
                if p.returncode != 0:
                    raise SystemExit("docker run failed: " + p.stderr.read().strip())
            if expected is None:
                if t_run is None:
                    time.sleep(0.005)
                    continue
                expected = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                                  name)
            if now - t0 > a.timeout:
                break
            start = time.monotonic()
            last = try_connect(expected, a.port, poll)
            attempts += 1
            if last == "ok":
                t_conn = time.monotonic()
                break
            rest = poll - (time.monotonic() - start)
            if rest > 0:
                time.sleep(rest)
        if t_run is None:
            p.wait()
            t_run = time.monotonic()
        ip = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name)
        cid = docker("inspect", "-f", "{{.Id}}", name)
        docker("rm", "-f", name)
        # now, not at the end: dockerd keeps only its last 256 events
        phases.update(event_phases(docker, {name: walls[name]}, {cid: name}))
        if i == 0:
            print("converge: warm-up run: server address %s, %s" % (ip, "connected" if t_conn else last),
                  file=sys.stderr)
            expected = ip
            continue
        status = "ok"
        if ip != expected:
            status = "moved"
            moved += 1
            expected = ip
        elif t_conn is None:
            status = "timeout"
            timeouts += 1
        else:
            total.append((t_conn - t0) * 1000)
            run_ms.append((t_run - t0) * 1000)
            after_run.append(max(0.0, t_conn - t_run) * 1000)
            if t_conn < t_run:
                before_run += 1
        rows.append("%d\t%s\t%s\t%.1f\t%s\t%d\t%s" % (
            i, ip, status, (t_run - t0) * 1000, "%.1f" % ((t_conn - t0) * 1000) if t_conn else "", attempts, last))
        if i % 10 == 0 or status != "ok":
            print("converge: %d/%d runs; last: %s, docker run %.0f ms, connect %s" % (
                i, a.runs, status, (t_run - t0) * 1000,
                "%.0f ms" % ((t_conn - t0) * 1000) if t_conn else "never (" + last + ")"), file=sys.stderr)
    if a.tsv:
        with open(a.tsv, "w") as f:
            f.write("run\tip\tstatus\tdocker_run_ms\tconnect_ms\tattempts\tlast\tcreated_ms\tnet_connected_ms\t"
                    "started_ms\n")
            for row in rows:
                ph = phases.get("weftconv" + row.split("\t")[0], {})
                f.write(row + "".join("\t%s" % ("%.1f" % ph[k] if k in ph else "")
                                      for k in ("create", "connect", "start")) + "\n")
    counted = [phases[n] for n in phases if n != "weftconv0" and len(phases[n]) == 3]
    created = [p["create"] for p in counted]
    net = [p["connect"] - p["create"] for p in counted]
    started = [p["start"] - p["connect"] for p in counted]
    print("RESULT n=%d total_p50_ms=%.0f total_p99_ms=%.0f total_max_ms=%.0f run_p50_ms=%.0f run_p99_ms=%.0f "
          "after_run_p50_ms=%.0f after_run_p99_ms=%.0f before_run=%d timeouts=%d moved=%d "
          "created_p50_ms=%.0f created_p99_ms=%.0f net_p50_ms=%.0f net_p99_ms=%.0f started_p50_ms=%.0f "
          "started_p99_ms=%.0f" % (
              len(total), pct(total, 50), pct(total, 99), max(total) if total else float("nan"),
              pct(run_ms, 50), pct(run_ms, 99), pct(after_run, 50), pct(after_run, 99), before_run, timeouts,
              moved, pct(created, 50), pct(created, 99), pct(net, 50), pct(net, 99), pct(started, 50),
              pct(started, 99)))
    return 0 if total and not timeouts else 1


if __name__ == "__main__":
    os.environ.setdefault("DOCKER_CLI_HINTS", "false")
    sys.exit(main())
