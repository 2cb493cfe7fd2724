#!/usr/bin/env bash
# Container registration latency: a private dockerd (own bridge, data-root, socket; never the system's Docker)
# and 3 weft servers on loopback, agent 1 running the registrator against that dockerd. Containers with a
# published port are started and stopped one at a time; after each `docker start` / `docker stop` returns,
# agent 2's DNS server is polled until the name answers / is gone. Prints p50/p90/p99/max of both. Needs root.
# See bench/README.md. Results also in bench/out/regl-<time>/.
#
# Environment:
#   BENCH_CONTAINERS         measured containers (default 100)
#   BENCH_WARMUP_CONTAINERS  containers started and stopped before those, not reported (default 10)
#   BENCH_POLL_MS            pause between DNS polls in ms (default 1; 0 = back to back, one query in flight)
#   BENCH_TIMEOUT            seconds to wait for one name to answer or go (default 10)
#   BENCH_LEADER             agent (1-3) made Raft leader before measuring, or "any" to keep the elected one
#                            (default 3: the registrator's agent 1 and the polled agent 2 are both followers)
#   BENCH_DNS_AGENT          agent (1-3) whose DNS server is polled (default 2)
#   WEFT_JAVA_OPTS           JVM options for the weft servers (default "-Xmx512m")
#   BENCH_PORT_BASE          first of the loopback ports used (default 24200: HTTP +1..3, Raft +11..13, DNS +21..23)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COUNT="${BENCH_CONTAINERS:-100}"
WARM="${BENCH_WARMUP_CONTAINERS:-10}"
POLL_MS="${BENCH_POLL_MS:-1}"
TIMEOUT="${BENCH_TIMEOUT:-10}"
LEADER="${BENCH_LEADER:-3}"
DNS_AGENT="${BENCH_DNS_AGENT:-2}"
export WEFT_JAVA_OPTS="${WEFT_JAVA_OPTS:--Xmx512m}"
PORT_BASE="${BENCH_PORT_BASE:-24200}"
HOST=127.0.0.1
IMAGE=weft-test/busybox
HELPER="$ROOT/bench/registrator/regl.py"
DNSDIR="$ROOT/bench/dns"

. "$ROOT/bench/lib.sh"
[ "$(id -u)" = 0 ] || die "registration-latency.sh must run as root: it starts a private dockerd and creates its bridge"
case "$LEADER" in 1 | 2 | 3 | any) ;; *) die "BENCH_LEADER must be 1, 2, 3 or any" ;; esac
case "$DNS_AGENT" in 1 | 2 | 3) ;; *) die "BENCH_DNS_AGENT must be 1, 2 or 3" ;; esac
for t in dockerd ip curl python3 ss tar umount; do command -v "$t" >/dev/null || die "missing $t"; done
# the CLI packaged with dockerd (the same version) when there is one
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER="$(command -v docker)" || die "missing docker"; fi
[ -x /bin/busybox ] && python3 "$HELPER" static-elf /bin/busybox ||
    die "needs a static /bin/busybox (Debian package busybox-static) for the container image"

# Never the machine's Docker: no DOCKER_HOST & co. for anything started from here.
for v in $(compgen -e); do case "$v" in DOCKER_* | CONTAINER_HOST) unset "$v" ;; esac; done

HTTP=($((PORT_BASE + 1)) $((PORT_BASE + 2)) $((PORT_BASE + 3)))
RAFT=($((PORT_BASE + 11)) $((PORT_BASE + 12)) $((PORT_BASE + 13)))
DNS=($((PORT_BASE + 21)) $((PORT_BASE + 22)) $((PORT_BASE + 23)))
for p in "${HTTP[@]}" "${RAFT[@]}" "${DNS[@]}"; do
    if (exec 3<>"/dev/tcp/$HOST/$p") 2>/dev/null || [ -n "$(ss -Huan "sport = :$p" 2>/dev/null)" ]; then
        die "port $p on $HOST is in use (set BENCH_PORT_BASE)"
    fi
done

bench_setup "regl-" "weft-reglat"

# ---- teardown of the private dockerd: containers, our dockerd PID (and, after a SIGKILL, its children),
# ---- mounts under its directory, the directory, the bridge. Runs before lib.sh's bench_cleanup (weft PIDs).
DDIR=""
DPID=""
MPID=""
BRIDGE=""
BRIDGE_CREATED=0
dk() { "$DOCKER" -H "unix://$DDIR/docker.sock" "$@"; }
descendants() {   # descendants PID: every process below PID (children first)
    local c
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done
}
docker_teardown() {
    local ids kids pid i m
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
        ids="$(timeout 60 "$DOCKER" -H "unix://$DDIR/docker.sock" ps -aq --no-trunc 2>/dev/null)"
        # shellcheck disable=SC2086
        [ -z "$ids" ] || timeout 120 "$DOCKER" -H "unix://$DDIR/docker.sock" rm -f -v $ids >/dev/null 2>&1 ||
            log "teardown: docker rm -f failed"
        kids="$(descendants "$DPID")"
        kill -TERM "$DPID" 2>/dev/null
        for i in $(seq 1 300); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$DPID" 2>/dev/null; then
            log "teardown: dockerd $DPID ignored SIGTERM for 30 s; SIGKILL (and its children $kids)"
            kill -KILL "$DPID" 2>/dev/null
            for pid in $kids; do kill -TERM "$pid" 2>/dev/null; done
            sleep 2
            for pid in $kids; do kill -KILL "$pid" 2>/dev/null; done
        fi
        wait "$DPID" 2>/dev/null
    fi
    if [ -n "$DDIR" ] && [ -d "$DDIR" ]; then
        # mounts left under our directory (only after an unclean stop), deepest first
        for m in $(awk -v d="$DDIR" '$5 == d || index($5, d "/") == 1 { print length($5) " " $5 }' /proc/self/mountinfo |
            sort -rn | cut -d' ' -f2); do
            umount -l "$m" 2>/dev/null || log "teardown: cannot unmount $m"
        done
        if awk -v d="$DDIR" '$5 == d || index($5, d "/") == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
            log "teardown: mounts remain under $DDIR; not deleting it"
        else
            case "$DDIR" in /tmp/wftb-*) rm -rf "$DDIR" ;; esac
        fi
    fi
    if [ "$BRIDGE_CREATED" = 1 ]; then
        ip link del "$BRIDGE" 2>/dev/null || log "teardown: cannot delete bridge $BRIDGE"
    fi
}
regl_cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    if [ -n "$MPID" ] && kill -0 "$MPID" 2>/dev/null; then   # the measuring helper first: no new containers
        kill -TERM "$MPID" 2>/dev/null
        wait "$MPID" 2>/dev/null
    fi
    docker_teardown
    (exit "$rc")
    bench_cleanup
}
trap regl_cleanup EXIT

# ---- the bridge: wftb + 4 hex digits, a private /24 no route of the host covers --------------------------------
DDIR="$(mktemp -d /tmp/wftb-XXXXXX)"
while :; do
    BRIDGE="$(printf 'wftb%04x' $((RANDOM * 2 + RANDOM % 2)))"
    [ -e "/sys/class/net/$BRIDGE" ] || break
done
ip link add "$BRIDGE" type bridge || die "cannot create bridge $BRIDGE"
BRIDGE_CREATED=1
ip link set "$BRIDGE" alias "weft registration-latency bench $DDIR"
SUBNET=""
for attempt in $(seq 1 50); do
    b=$((16 + RANDOM % 234)); c=$((1 + RANDOM % 254))
    python3 "$HELPER" overlaps "10.$b.$c.0" && continue
    ip addr add "10.$b.$c.1/24" dev "$BRIDGE"
    # someone may have taken the same /24 meanwhile: then only ours may cover it
    if python3 "$HELPER" overlaps "10.$b.$c.0" --ignore-dev "$BRIDGE"; then
        ip addr del "10.$b.$c.1/24" dev "$BRIDGE"
        continue
    fi
    SUBNET="10.$b.$c.0/24"
    break
done
[ -n "$SUBNET" ] || die "no free private /24 in 10.16-249.x.0 for the bridge"
ip link set "$BRIDGE" up

# ---- the private dockerd --------------------------------------------------------------------------------------
mkdir -p "$DDIR/data" "$DDIR/exec" "$DDIR/cli-config"
echo '{}' >"$DDIR/daemon.json"
export DOCKER_CONFIG="$DDIR/cli-config"   # the CLI reads no ~/.docker
log "starting a private dockerd (socket $DDIR/docker.sock, bridge $BRIDGE $SUBNET, published ports on $HOST)"
dockerd --data-root "$DDIR/data" --exec-root "$DDIR/exec" --pidfile "$DDIR/docker.pid" \
    --config-file "$DDIR/daemon.json" -H "unix://$DDIR/docker.sock" \
    --containerd-namespace "$BRIDGE" --containerd-plugins-namespace "$BRIDGE-plugins" --bridge "$BRIDGE" \
    --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false --ip "$HOST" \
    --userland-proxy=true --shutdown-timeout 5 >"$OUT/dockerd.log" 2>&1 &
DPID=$!
deadline=$((SECONDS + 90))
until [ "$(curl -fsS -m 2 --unix-socket "$DDIR/docker.sock" http://docker/_ping 2>/dev/null)" = OK ]; do
    kill -0 "$DPID" 2>/dev/null || die "dockerd exited (see $OUT/dockerd.log)"
    [ "$SECONDS" -lt "$deadline" ] || die "dockerd not answering after 90 s (see $OUT/dockerd.log)"
    sleep 0.2
done
if ! dk image inspect "$IMAGE" >/dev/null 2>&1; then
    log "importing $IMAGE (static busybox, /www/index.html)"
    mkdir -p "$DDIR/rootfs/bin" "$DDIR/rootfs/tmp" "$DDIR/rootfs/www"
    cp /bin/busybox "$DDIR/rootfs/bin/busybox"
    for a in sh httpd nc ip ping true false sleep cat echo wget ls kill env hostname; do
        ln -s busybox "$DDIR/rootfs/bin/$a"
    done
    echo weft-test >"$DDIR/rootfs/www/index.html"
    tar -C "$DDIR/rootfs" -cf "$DDIR/rootfs.tar" .
    dk import -c 'CMD ["/bin/sh"]' -c 'WORKDIR /www' "$DDIR/rootfs.tar" "$IMAGE" >/dev/null ||
        die "docker import failed"
    rm -rf "$DDIR/rootfs" "$DDIR/rootfs.tar"
fi

# ---- weft --------------------------------------------------------------------------------------------------------
log "building agent/target/weft.jar if needed"
"$ROOT/weft" version >/dev/null || die "cannot build or run weft"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
HEADER="container registration latency, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $LOAD_BEFORE
weft: $("$ROOT/weft" version 2>/dev/null | head -n1) ($(java -version 2>&1 | head -n1); $WEFT_JAVA_OPTS)
docker: $(dk version -f 'engine {{.Server.Version}}, CLI {{.Client.Version}}, API {{.Server.APIVersion}}' 2>/dev/null), $(containerd --version 2>/dev/null | cut -d' ' -f1,3 || echo 'containerd ?'), $(uname -sr)"
echo "$HEADER" >&2

log "starting 3 weft servers (HTTP ${HTTP[*]}, Raft ${RAFT[*]}, DNS ${DNS[*]}); agent 1 runs the registrator"
weft_server 0 -docker-host "unix://$DDIR/docker.sock" -registrator-ip "$HOST"
weft_server 1 -registrator=false
weft_server 2 -registrator=false

weft_alive() {
    local pid
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "a weft server exited (see $OUT/weft*.log)"; done
}
deadline=$((SECONDS + 120))
until weft_cluster_healthy >/dev/null 2>&1; do
    weft_alive
    [ "$SECONDS" -lt "$deadline" ] || die "weft cluster (leader, KV write, DNS NXDOMAIN on all 3) not ready after 120s"
    sleep 0.5
done
leader_no() {   # 1-3, the agent that leads as all three see it ("?" while they disagree)
    local p l first="" i
    for p in "${HTTP[@]}"; do
        l="$(curl -fsS -m 2 "http://$HOST:$p/v1/status/leader" 2>/dev/null | tr -d '"')"
        [ -n "$l" ] && { [ -z "$first" ] || [ "$first" = "$l" ]; } || { echo "?"; return; }
        first="$l"
    done
    for i in 0 1 2; do [ "${first##*:}" = "${RAFT[$i]}" ] && { echo $((i + 1)); return; }; done
    echo "?"
}
LEADER_ELECTED="$(leader_no)"
if [ "$LEADER" != any ] && [ "$LEADER_ELECTED" != "$LEADER" ]; then
    id="$(curl -fsS -m 5 "http://$HOST:${HTTP[0]}/v1/operator/raft/configuration" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["Servers"]:
    if s["Address"].rsplit(":", 1)[-1] == sys.argv[1]:
        print(s["ID"])' "${RAFT[$((LEADER - 1))]}")" || true
    if [ -n "$id" ] && curl -fsS -m 30 -X POST "http://$HOST:${HTTP[0]}/v1/operator/raft/transfer-leader?id=$id" \
        >"$OUT/transfer-leader.json" 2>&1; then
        deadline=$((SECONDS + 30))
        until [ "$(leader_no)" = "$LEADER" ] && weft_cluster_healthy >/dev/null 2>&1; do
            [ "$SECONDS" -lt "$deadline" ] || break
            sleep 0.2
        done
    fi
    [ "$(leader_no)" = "$LEADER" ] || log "note: could not make agent $LEADER the leader (see $OUT/transfer-leader.json)"
fi
LEADER_START="$(leader_no)"
role() { if [ "$1" = "$LEADER_START" ]; then echo leader; else echo follower; fi; }
log "cluster ready; leader: agent $LEADER_START (elected: agent $LEADER_ELECTED); registrator on agent 1" \
    "($(role 1)), polling agent $DNS_AGENT's DNS ($(role "$DNS_AGENT"))"
grep -aq 'registrator on' "$OUT/weft1.log" || die "agent 1 did not start its registrator (see $OUT/weft1.log)"

# ---- measure ---------------------------------------------------------------------------------------------------
log "measuring: $WARM warm-up + $COUNT containers, one at a time (create; start → answer; stop -t 0 → gone; rm)," \
    "polling every ${POLL_MS} ms"
rc=0
python3 "$HELPER" measure --docker "$DOCKER" --host "unix://$DDIR/docker.sock" \
    --dns "$HOST:${DNS[$((DNS_AGENT - 1))]}" --count "$COUNT" --warmup "$WARM" --poll-ms "$POLL_MS" \
    --timeout "$TIMEOUT" --image "$IMAGE" --ip "$HOST" --tsv "$OUT/containers.tsv" \
    >"$OUT/result.txt" 2> >(tee "$OUT/progress.log" >&2) &
MPID=$!   # in the background so that a signal ends the run at once (bash runs traps only between commands)
wait "$MPID" || rc=$?
MPID=""
sleep 0.2
line="$(grep '^RESULT' "$OUT/result.txt" || true)"
[ -n "$line" ] || die "regl.py printed no result (see $OUT/result.txt, $OUT/progress.log)"
weft_alive
LEADER_END="$(leader_no)"
f() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
verdict() { python3 -c 'import sys; v = float(sys.argv[1]); print("met" if v < 250 else "NOT met")' "$1"; }

{
    echo
    echo "$HEADER"
    echo "private dockerd (bridge $BRIDGE, published ports on $HOST, userland proxy); 3 weft servers on $HOST;"
    echo "registrator on agent 1 ($(role 1)), DNS polled on agent $DNS_AGENT ($(role "$DNS_AGENT")) over UDP every" \
        "$POLL_MS ms; leader: agent $LEADER_START at the start, agent $LEADER_END at the end"
    echo
    echo "| direction | containers | docker CLI p50 ms | CLI p99 ms | p50 ms | p90 ms | p99 ms | max ms | done before CLI returned | from the event p50 ms | event p99 ms | event max ms | timeouts |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    echo "| \`docker start\` → answers | $(f n)/$COUNT | $(f up_cli_p50_ms) | $(f up_cli_p99_ms) | $(f up_p50_ms) | $(f up_p90_ms) | $(f up_p99_ms) | $(f up_max_ms) | $(f up_before_return) | $(f up_ev_p50_ms) | $(f up_ev_p99_ms) | $(f up_ev_max_ms) | $(f up_timeouts) |"
    echo "| \`docker stop -t 0\` → gone | $(f down_n)/$COUNT | $(f down_cli_p50_ms) | $(f down_cli_p99_ms) | $(f down_p50_ms) | $(f down_p90_ms) | $(f down_p99_ms) | $(f down_max_ms) | $(f down_before_return) | $(f down_ev_p50_ms) | $(f down_ev_p99_ms) | $(f down_ev_max_ms) | $(f down_timeouts) |"
    echo
    echo "p50…max: from the return of the docker CLI command to the first DNS answer with the A record $HOST"
    echo "(start) / to the first NXDOMAIN or answer without A record (stop) on agent $DNS_AGENT; 0 when that came"
    echo "before the command returned (polling starts with the command). docker CLI: how long \`docker start\` /"
    echo "\`docker stop -t 0\` themselves took (Docker's part, not in p50…max). from the event: from Docker's"
    echo "\`start\` / first \`die\`-or-\`stop\` event reaching a listener on the same socket (what the registrator"
    echo "reacts to) to the answer; it arrived $(f up_ev_lead_p50_ms) ms (start) and $(f down_ev_lead_p50_ms) ms" \
        "(stop) before the CLI returned (p50)."
    echo "Before each start one query must be NXDOMAIN: $(f pre_not_nxdomain) were not. SRV port ≠ published port:" \
        "$(f srv_wrong). Failures: $(f failures)."
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (before: $LOAD_BEFORE)"
    echo
    echo "RESULT start→answer p50 $(f up_p50_ms) / p99 $(f up_p99_ms) / max $(f up_max_ms) ms;" \
        "stop→gone p50 $(f down_p50_ms) / p99 $(f down_p99_ms) / max $(f down_max_ms) ms;" \
        "docker start p50 $(f up_cli_p50_ms) ms, docker stop p50 $(f down_cli_p50_ms) ms;" \
        "target p99 < 250 ms: start $(verdict "$(f up_p99_ms)"), stop $(verdict "$(f down_p99_ms)")"
} | tee "$OUT/table.md"
[ "$rc" -eq 0 ] || die "some containers failed, never answered or never went away (see $OUT/progress.log, $OUT/containers.tsv)"
