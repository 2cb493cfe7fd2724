#!/usr/bin/env bash
# Overlay datapath, side by side in one run: (1) the underlay between two simulated hosts, (2) a hand-made kernel
# VXLAN pair (flannel's scheme: learning off, static FDB entry + permanent neighbour + onlink route per peer)
# between containers of those hosts, (3) weft: containers of two more hosts, each with its own dockerd and weft
# agent, on a `docker network create -d weft` network; iperf3 TCP throughput and ping RTT for each, then (4)
# convergence: `docker run -d` of a server on one weft host until a container on the other connects to it.
# See bench/README.md. Results also in bench/out/overlay-<time>/.
#
# Everything lives in network namespaces this script creates (wfbh<6 hex>…, 10.249.0.0/24 underlay); nothing
# is created in or sent to the machine's own namespace. Needs root, iproute2, iperf3, busybox-static, jq,
# docker.io (dockerd + docker), python3, and for (3)/(4) agent/target/weft.jar with the -overlay mode.
#
# Environment:
#   DURATION        iperf3 seconds per path (default 10); OMIT: first seconds not counted (default 1)
#   PINGS           pings per path (default 200), PING_INTERVAL seconds between them (default 0.01)
#   RUNS            convergence runs (default 50), POLL_MS connect attempt interval (default 10)
#   PARTS           what to run (default "underlay vxlan weft converge")
#   UNDERLAY_MTU    MTU of the underlay links (default 1500); VXLAN devices get 50 less
#   WEFT_JAR        the agent (default agent/target/weft.jar; built with ./mvnw -pl agent -am package if missing)
#   WEFT_JAVA_OPTS  JVM options of the two weft agents (default "-Xmx512m")
#   WEFT_SUBNET     the weft network's --subnet (default 10.200.0.0/16)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${DURATION:-10}"
OMIT="${OMIT:-1}"
PINGS="${PINGS:-200}"
PING_INTERVAL="${PING_INTERVAL:-0.01}"
RUNS="${RUNS:-50}"
POLL_MS="${POLL_MS:-10}"
PARTS=" ${PARTS:-underlay vxlan weft converge} "
UNDERLAY_MTU="${UNDERLAY_MTU:-1500}"
VX_MTU=$((UNDERLAY_MTU - 50))
WEFT_JAR="${WEFT_JAR:-$ROOT/agent/target/weft.jar}"
WEFT_JAVA_OPTS="${WEFT_JAVA_OPTS:--Xmx512m}"
WEFT_SUBNET="${WEFT_SUBNET:-10.200.0.0/16}"
IMAGE=weft-bench/net
IPERF_PORT=5201

. "$ROOT/bench/lib.sh"
bench_setup "overlay-" "weft-overlay"

part() { [[ "$PARTS" == *" $1 "* ]]; }
[ "$(id -u)" -eq 0 ] || die "run as root (network namespaces, dockerd)"
missing=()
for t in ip:iproute2 bridge:iproute2 nsenter:util-linux unshare:util-linux iperf3:iperf3 jq:jq; do
    command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
[ -x /bin/busybox ] || missing+=(busybox-static)
if part weft || part converge; then
    command -v dockerd >/dev/null && command -v docker >/dev/null || missing+=(docker.io)
    command -v python3 >/dev/null || missing+=(python3)
fi
# shellcheck disable=SC2046
bench_install $(printf '%s\n' "${missing[@]}" | sort -u)

P="wfbh$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"   # every namespace and device name starts with it
NSES=()      # namespaces created, deleted at exit
DOCKERDS=()  # simulated hosts with a running dockerd (w1 w2)
MNTNS=()     # their mount namespaces: what is left in them at exit is theirs
declare -A DOCKERD_PID

# ---- cleanup (lib.sh calls these around stopping PIDS) ----------------------------------------------------
bench_before_stop() {
    local h ids
    for h in "${DOCKERDS[@]}"; do
        ids="$(timeout 30 dk "$h" ps -aq 2>/dev/null || true)"
        # shellcheck disable=SC2086
        [ -z "$ids" ] || timeout 60 dk "$h" rm -f $ids >/dev/null 2>&1 || log "cleanup: docker rm on $h failed"
    done
}
bench_after_stop() {
    local m p own ns
    own="$(readlink /proc/self/ns/mnt)"
    for m in "${MNTNS[@]}"; do
        [ -n "$m" ] && [ "$m" != "$own" ] || continue
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$m" ] && kill -KILL "${p#/proc/}" 2>/dev/null
        done
    done
    for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null || log "cleanup: cannot delete netns $ns"; done
    [ "${#NSES[@]}" -eq 0 ] || log "deleted namespaces ${NSES[*]}"
}

# ---- helpers -------------------------------------------------------------------------------------------------
mk_ns() { ip netns add "$1"; NSES+=("$1"); ip -n "$1" link set lo up; }
inns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }
dk() { local h=$1; shift; DOCKER_CONFIG="$WORK/docker-cli" docker -H "unix://$WORK/$h/docker.sock" "$@"; }
# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s until it succeeds, or dies after SECONDS.
wait_for() {
    local limit=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$limit" ] || die "timed out waiting for $what"
        sleep 0.1
    done
}
listening() { [ -n "$(nsenter --net="$1" ss -Hltn "sport = :$2")" ]; }   # NETNS_FILE PORT
ctr_netns() { echo "/proc/$(dk "$1" inspect -f '{{.State.Pid}}' "$2")/ns/net"; }   # HOST CONTAINER
ctr_ip() { dk "$1" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$2"; }

declare -A GBPS RETR PAVG P50 P99 LOSS
# ping_stats FILE SENT: "avg p50 p99 loss%" from ping's "time=X ms" lines (nearest-rank percentiles)
ping_stats() {
    grep -o 'time=[0-9.]*' "$1" | cut -d= -f2 | sort -g | awk -v sent="$2" '
        { v[NR] = $1; s += $1 }
        END { n = NR; if (n == 0) { print "nan nan nan 100"; exit }
              printf "%.3f %.3f %.3f %.1f\n", s / n, v[int((n * 50 + 99) / 100)], v[int((n * 99 + 99) / 100)],
                     100 * (sent - n) / sent }'
}
# measure LABEL DEST_IP SERVER_NETNS_FILE PING_CMD CLIENT_PREFIX...: iperf3 (server already listening in
# SERVER_NETNS_FILE on IPERF_PORT) and ping from the client, results into GBPS/RETR/PAVG/P50/P99/LOSS[LABEL].
measure() {
    local label=$1 ip=$2 srvns=$3 pingcmd=$4
    shift 4
    wait_for 30 "iperf3 server of $label" listening "$srvns" "$IPERF_PORT"
    "$@" $pingcmd -c 3 -i 0.2 "$ip" >/dev/null || die "$label: $ip does not answer ping"
    log "$label: iperf3 -t $DURATION to $ip"
    "$@" iperf3 -c "$ip" -p "$IPERF_PORT" -t "$DURATION" -O "$OMIT" -J >"$OUT/iperf3-$label.json" \
        || die "$label: iperf3 failed (see $OUT/iperf3-$label.json)"
    GBPS[$label]="$(jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | round / 100' "$OUT/iperf3-$label.json")"
    RETR[$label]="$(jq -r '.end.sum_sent.retransmits // "-"' "$OUT/iperf3-$label.json")"
    log "$label: $PINGS pings every ${PING_INTERVAL}s"
    "$@" $pingcmd -c "$PINGS" -i "$PING_INTERVAL" "$ip" >"$OUT/ping-$label.txt" 2>&1 || true
    read -r PAVG[$label] P50[$label] P99[$label] LOSS[$label] < <(ping_stats "$OUT/ping-$label.txt" "$PINGS")
    log "$label: ${GBPS[$label]} Gbit/s (${RETR[$label]} retransmits), ping avg ${PAVG[$label]} p50 ${P50[$label]}" \
        "p99 ${P99[$label]} ms, loss ${LOSS[$label]}%"
}
# iperf_server_ns NS IP: a one-shot iperf3 server in a plain namespace (exits after its one test)
iperf_server_ns() {
    nsenter --net="/run/netns/$1" iperf3 -s -1 -B "$2" -p "$IPERF_PORT" >"$OUT/iperf3-server-$1.log" 2>&1 &
    PIDS+=($!)
}

HEADER="overlay datapath, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, kernel $(uname -r), $(iperf3 --version | head -n1 | cut -d' ' -f1-2), load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "$HEADER"
log "prefix $P; underlay MTU $UNDERLAY_MTU, VXLAN MTU $VX_MTU; iperf3 ${DURATION}s (omit ${OMIT}s), $PINGS pings; parts:$PARTS"

# ---- the underlay: a bridge in its own namespace, one veth per simulated host ---------------------------
U="${P}u"
mk_ns "$U"
ip -n "$U" link add "${P}ub" type bridge
ip -n "$U" link set "${P}ub" mtu "$UNDERLAY_MTU" up
# host_ns NAME ADDRESS: namespace ${P}NAME with ${P}e (ADDRESS/24) on the underlay bridge
host_ns() {
    local ns="${P}$1"
    mk_ns "$ns"
    ip -n "$U" link add "${P}u$1" mtu "$UNDERLAY_MTU" type veth peer name "${P}e" mtu "$UNDERLAY_MTU" netns "$ns"
    ip -n "$U" link set "${P}u$1" master "${P}ub" up
    ip -n "$ns" link set "${P}e" up
    ip -n "$ns" addr add "$2/24" dev "${P}e"
}
log "underlay: namespaces ${P}h1 (10.249.0.1) and ${P}h2 (10.249.0.2) on bridge ${P}ub in $U"
host_ns h1 10.249.0.1
host_ns h2 10.249.0.2

if part underlay; then
    iperf_server_ns "${P}h2" 10.249.0.2
    measure underlay 10.249.0.2 "/run/netns/${P}h2" "busybox ping" nsenter --net="/run/netns/${P}h1"
fi

# ---- kernel VXLAN by hand: flannel's scheme between containers of h1 and h2 ------------------------------
# vx_host I ADDRESS: on ${P}hI a VXLAN device ${P}vx (VNI 42, UDP 4789, no learning, 10.250.I.0/32), a bridge
# ${P}cb with the gateway 10.250.I.1/24, a container namespace ${P}cI (10.250.I.2) on it by a veth
vx_host() {
    local i=$1 ns="${P}h$1" c="${P}c$1"
    inns "$ns" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
    ip -n "$ns" link add "${P}vx" type vxlan id 42 dstport 4789 local "$2" dev "${P}e" nolearning
    ip -n "$ns" link set "${P}vx" address "02:fb:00:00:00:0$i" mtu "$VX_MTU" up
    ip -n "$ns" addr add "10.250.$i.0/32" dev "${P}vx"
    ip -n "$ns" link add "${P}cb" type bridge
    ip -n "$ns" link set "${P}cb" address "02:fb:00:00:01:0$i" mtu "$VX_MTU" up
    ip -n "$ns" addr add "10.250.$i.1/24" dev "${P}cb"
    mk_ns "$c"
    ip -n "$ns" link add "${P}cv" mtu "$VX_MTU" type veth peer name "${P}ce" mtu "$VX_MTU" netns "$c"
    ip -n "$ns" link set "${P}cv" master "${P}cb" up
    ip -n "$c" link set "${P}ce" up
    ip -n "$c" addr add "10.250.$i.2/24" dev "${P}ce"
    ip -n "$c" route add default via "10.250.$i.1"
}
# vx_peer I J PEER_ADDRESS: on ${P}hI, the way to hJ's containers: neighbour, FDB entry, onlink route
vx_peer() {
    local ns="${P}h$1" j=$2
    ip -n "$ns" neigh replace "10.250.$j.0" lladdr "02:fb:00:00:00:0$j" dev "${P}vx" nud permanent
    bridge -n "$ns" fdb replace "02:fb:00:00:00:0$j" dev "${P}vx" dst "$3" self permanent
    ip -n "$ns" route replace "10.250.$j.0/24" via "10.250.$j.0" dev "${P}vx" onlink
}
if part vxlan; then
    log "kernel VXLAN: ${P}c1 (10.250.1.2) on ${P}h1 <-> ${P}c2 (10.250.2.2) on ${P}h2, VNI 42, MTU $VX_MTU"
    vx_host 1 10.249.0.1
    vx_host 2 10.249.0.2
    vx_peer 1 2 10.249.0.2
    vx_peer 2 1 10.249.0.1
    iperf_server_ns "${P}c2" 10.250.2.2
    measure vxlan 10.250.2.2 "/run/netns/${P}c2" "busybox ping" nsenter --net="/run/netns/${P}c1"
fi

# ---- weft: two more simulated hosts, each with a dockerd and a weft agent ----------------------------------
# The test image: busybox (sh, httpd, ping, …) and iperf3 with the shared libraries ldd names.
build_image() {
    local r="$WORK/rootfs" a lib
    mkdir -p "$r/bin" "$r/tmp" "$r/www" "$r/usr/bin"
    cp /bin/busybox "$r/bin/"
    for a in sh httpd nc ip ping sleep cat echo ls kill true; do ln -s busybox "$r/bin/$a"; done
    cp /usr/bin/iperf3 "$r/usr/bin/"
    for lib in $(ldd /usr/bin/iperf3 | grep -o '/[^ ]*'); do
        mkdir -p "$r$(dirname "$lib")"
        cp -L "$lib" "$r$lib"
    done
    echo weft-bench >"$r/www/index.html"
    tar -C "$r" -cf "$WORK/image.tar" .
}
# start_dockerd NAME: a dockerd in namespace ${P}NAME (own mount namespace, $WORK/NAME/plugins as its
# /run/docker/plugins), socket $WORK/NAME/docker.sock; imports the image
start_dockerd() {
    local h=$1 d="$WORK/$1"
    mkdir -p "$d/data" "$d/exec" "$d/plugins"
    echo '{}' >"$d/daemon.json"
    # shellcheck disable=SC2016
    nsenter --net="/run/netns/${P}$h" unshare --mount --propagation private sh -c \
        'mount --make-rprivate / && mkdir -p /run/docker/plugins && mount --bind "$1" /run/docker/plugins && shift && exec "$@"' \
        sh "$d/plugins" dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/docker.pid" \
        --config-file "$d/daemon.json" -H "unix://$d/docker.sock" --containerd-namespace "${P}$h" \
        --containerd-plugins-namespace "${P}$h-plugins" --bridge=none --iptables=false --ip6tables=false \
        --ip-masq=false --ip-forward=false --userland-proxy=false --shutdown-timeout 5 \
        >"$OUT/dockerd-$h.log" 2>&1 &
    PIDS+=($!)
    DOCKERD_PID[$h]=$!
    DOCKERDS+=("$h")
    wait_for 60 "dockerd of $h (see $OUT/dockerd-$h.log)" dk "$h" version
    MNTNS+=("$(readlink "/proc/${DOCKERD_PID[$h]}/ns/mnt")")
    dk "$h" import -c 'CMD ["/bin/sh"]' -c 'WORKDIR /www' "$WORK/image.tar" "$IMAGE" >/dev/null
}
weft_has_overlay() { java -jar "$WEFT_JAR" agent --help 2>&1 | grep -q -- '-overlay-docker-socket'; }
# start_agent NAME ADDRESS ARGS...: the weft agent in namespace ${P}NAME, its Docker plugin socket in the
# dockerd's plugin directory
start_agent() {
    local h=$1 addr=$2
    shift 2
    mkdir -p "$WORK/$h/weft"
    # shellcheck disable=SC2086
    nsenter --net="/run/netns/${P}$h" java $WEFT_JAVA_OPTS -jar "$WEFT_JAR" agent -node "$h" -bind "$addr" \
        -client "$addr" -data-dir "$WORK/$h/weft" -dns-port 8600 -registrator=false "$@" \
        -overlay -overlay-docker-socket "$WORK/$h/plugins/weft.sock" -overlay-cni-socket none \
        >"$OUT/agent-$h.log" 2>&1 &
    PIDS+=($!)
}
plugin_answers() {   # NAME: the agent's Docker plugin socket answers Plugin.Activate
    curl -fsS -m 2 --unix-socket "$WORK/$1/plugins/weft.sock" -X POST http://weft/Plugin.Activate | grep -q NetworkDriver
}
leader_known() { [ -n "$(inns "${P}w1" curl -fsS -m 2 http://10.249.0.11:8500/v1/status/leader | tr -d '"')" ]; }
agents_alive() { local p; for p in "${WEFT_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done; }

WEFT_READY=""
if part weft || part converge; then
    if [ ! -f "$WEFT_JAR" ]; then
        log "building $WEFT_JAR (./mvnw -q -pl agent -am package -DskipTests)"
        (cd "$ROOT" && ./mvnw -q -pl agent -am package -DskipTests) || die "cannot build the agent"
    fi
    log "weft: namespaces ${P}w1 (10.249.0.11) and ${P}w2 (10.249.0.12) on the same underlay, a dockerd in each"
    host_ns w1 10.249.0.11
    host_ns w2 10.249.0.12
    build_image
    start_dockerd w1
    start_dockerd w2
    if ! weft_has_overlay; then
        log "weft: SKIPPED: $WEFT_JAR has no -overlay mode (agent --help names no -overlay-docker-socket)"
    else
        log "weft: starting agents (server on w1, client on w2)"
        start_agent w1 10.249.0.11 -server -bootstrap-expect 1
        WEFT_PIDS=("${PIDS[-1]}")
        wait_for 90 "a weft leader on w1 (see $OUT/agent-w1.log)" leader_known
        start_agent w2 10.249.0.12 -retry-join 10.249.0.11:8500
        WEFT_PIDS+=("${PIDS[-1]}")
        wait_for 90 "the Docker plugin socket of w1 (see $OUT/agent-w1.log)" plugin_answers w1
        wait_for 90 "the Docker plugin socket of w2 (see $OUT/agent-w2.log)" plugin_answers w2
        agents_alive || die "a weft agent exited (see $OUT/agent-w*.log)"
        for h in w1 w2; do
            log "weft: docker network create -d weft --ipam-driver weft --subnet $WEFT_SUBNET benchnet on $h"
            dk "$h" network create -d weft --ipam-driver weft --subnet "$WEFT_SUBNET" benchnet >/dev/null
        done
        dk w2 run -d --name iperfsrv --network benchnet "$IMAGE" iperf3 -s -p "$IPERF_PORT" >/dev/null
        dk w1 run -d --name client --network benchnet "$IMAGE" sleep 1000000 >/dev/null
        SRV_IP="$(ctr_ip w2 iperfsrv)"
        log "weft: client $(ctr_ip w1 client) on w1, iperf3 server $SRV_IP on w2; devices on w1:" \
            "$(ip -n "${P}w1" -br link | awk '{print $1}' | tr '\n' ' ')"
        WEFT_READY=1
    fi
fi
if part weft && [ -n "$WEFT_READY" ]; then
    measure weft "$SRV_IP" "$(ctr_netns w2 iperfsrv)" ping dk w1 exec client
fi

# ---- convergence -----------------------------------------------------------------------------------------
CONV=""
if part converge && [ -n "$WEFT_READY" ]; then
    log "convergence: $RUNS runs of docker run -d (httpd on w2) until a container on w1 connects (every ${POLL_MS} ms)"
    nsenter --net="$(ctr_netns w1 client)" env DOCKER_CONFIG="$WORK/docker-cli" python3 \
        "$ROOT/bench/overlay/converge.py" --docker-host "unix://$WORK/w2/docker.sock" --network benchnet \
        --image "$IMAGE" --runs "$RUNS" --poll-ms "$POLL_MS" --tsv "$OUT/convergence.tsv" \
        >"$OUT/convergence.txt" 2> >(tee "$OUT/convergence.log" >&2) || log "convergence: some runs failed"
    CONV="$(grep '^RESULT' "$OUT/convergence.txt" || true)"
fi

# ---- the table -------------------------------------------------------------------------------------------
val() { local -n a=$1; echo "${a[$2]:-n/a}"; }
ratio() {   # ratio A B: A/B with 2 decimals, or n/a
    awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "n/a" }'
}
cf() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $CONV"; }
{
    echo
    echo "$HEADER"
    echo "underlay MTU $UNDERLAY_MTU (VXLAN $VX_MTU); iperf3 TCP ${DURATION}s (first ${OMIT}s omitted), one stream;" \
        "$PINGS pings (busybox) every ${PING_INTERVAL}s"
    echo
    echo "| path | Gbit/s | retransmits | ping avg ms | p50 ms | p99 ms | loss % |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for l in underlay vxlan weft; do
        case $l in
            underlay) name="underlay (host ↔ host)" ;;
            vxlan) name="kernel VXLAN by hand (container ↔ container)" ;;
            weft) name="weft (container ↔ container)" ;;
        esac
        echo "| $name | $(val GBPS $l) | $(val RETR $l) | $(val PAVG $l) | $(val P50 $l) | $(val P99 $l) | $(val LOSS $l) |"
    done
    echo "| weft / kernel VXLAN | $(ratio "$(val GBPS weft)" "$(val GBPS vxlan)") | | $(ratio "$(val PAVG weft)" "$(val PAVG vxlan)") | $(ratio "$(val P50 weft)" "$(val P50 vxlan)") | $(ratio "$(val P99 weft)" "$(val P99 vxlan)") | |"
    echo
    tput="$(ratio "$(val GBPS weft)" "$(val GBPS vxlan)")"
    verdict="$(awk -v r="$tput" 'BEGIN { if (r == "n/a") print "not measured"; else if (r >= 0.95) print "met"; else print "MISSED" }')"
    echo "Target: weft throughput >= 95% of the kernel VXLAN pair: $verdict ($tput)."
    if [ -n "$CONV" ]; then
        echo
        echo "Convergence: docker run -d of httpd on w2 until the first TCP connect from w1's container (polled every ${POLL_MS} ms)"
        echo
        echo "| runs | total p50 ms | total p99 ms | max ms | docker run p50 ms | docker run p99 ms | connect after run returned p50 ms | p99 ms | connected before run returned | timeouts |"
        echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        echo "| $(cf n)/$RUNS | $(cf total_p50_ms) | $(cf total_p99_ms) | $(cf total_max_ms) | $(cf run_p50_ms) | $(cf run_p99_ms) | $(cf after_run_p50_ms) | $(cf after_run_p99_ms) | $(cf before_run) | $(cf timeouts) |"
        echo
        verdict="$(awk -v r="$(cf total_p99_ms)" 'BEGIN { if (r !~ /^[0-9.]+$/) print "not measured"; else if (r < 1000) print "met"; else print "MISSED" }')"
        echo "Target: convergence p99 < 1 s: $verdict."
    elif part converge; then
        echo "Convergence: not measured (weft not ready)."
    fi
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/table.md"
