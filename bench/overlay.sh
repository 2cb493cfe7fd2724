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
#   ROUNDS          rounds (default 3): each path is measured once per round, in a rotating order, so that the
#                   machine's load swings hit all paths alike; the table shows the median round
#   DURATION        iperf3 seconds per path and round (default 10); OMIT: first seconds not counted (default 1)
#   PINGS           pings per path and round (default 200), PING_INTERVAL seconds between them (default 0.01)
#   RUNS            convergence runs (default 50), POLL_MS connect attempt interval (default 10)
#   CONV_ON         the host whose dockerd starts the servers: w2 (default; its agent is a client agent) or w1
#                   (the Raft server's host)
#   PARTS           what to run (default "underlay vxlan weft converge")
#   UNDERLAY_MTU    MTU of the underlay links (default 1500); VXLAN devices get 50 less
#   WEFT_JAR        the agent (default agent/target/weft.jar; built with ./mvnw -pl agent -am package if missing)
#   WEFT_JAVA_OPTS  JVM options of the two weft agents (default "-Xmx512m")
#   WEFT_SUBNET     the weft network's --subnet (default 10.200.0.0/16)
#   REF_HOSTS       same (default: the underlay and hand-made VXLAN paths run between the weft hosts w1 and w2)
#                   or separate (two other host namespaces, h1 and h2)
#   HOLD            a file name: once everything is set up, wait while that file exists (to look around)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
OMIT="${OMIT:-1}"
PINGS="${PINGS:-200}"
PING_INTERVAL="${PING_INTERVAL:-0.01}"
RUNS="${RUNS:-50}"
POLL_MS="${POLL_MS:-10}"
CONV_ON="${CONV_ON:-w2}"
case "$CONV_ON" in w1 | w2) ;; *) echo "CONV_ON must be w1 or w2" >&2; exit 2 ;; esac
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
bench_before_stop() {   # containers go first, while the weft agents still answer their dockerd
    local h ids
    for h in "${DOCKERDS[@]}"; do
        ids="$(dk_timeout 30 "$h" ps -aq 2>/dev/null || true)"
        # shellcheck disable=SC2086
        [ -z "$ids" ] || dk_timeout 60 "$h" rm -f $ids >/dev/null 2>&1 || log "cleanup: docker rm on $h failed"
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
dk_timeout() { local t=$1 h=$2; shift 2; DOCKER_CONFIG="$WORK/docker-cli" timeout "$t" docker -H "unix://$WORK/$h/docker.sock" "$@"; }
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

# ---- paths and measurements ----------------------------------------------------------------------------------
# A path: its destination address, the netns file of its iperf3 server, its ping command and its client (a
# function that runs a command where the path's client is: client_<label>).
PATHS=()
declare -A DEST SRVNS PINGCMD
declare -A TPUT RETR                      # per "label round": Gbit/s, retransmits
declare -A GBPS GMIN GMAX RETRS PAVG P50 P99 LOSS
add_path() {   # add_path LABEL DEST_IP SERVER_NETNS_FILE PING_CMD: needs client_LABEL; checks it answers
    PATHS+=("$1")
    DEST[$1]=$2
    SRVNS[$1]=$3
    PINGCMD[$1]=$4
    wait_for 30 "the iperf3 server of $1" listening "$3" "$IPERF_PORT"
    # shellcheck disable=SC2086
    "client_$1" $4 -c 3 -i 0.2 "$2" >/dev/null || die "$1: $2 does not answer ping"
}
client_underlay() { nsenter --net="/run/netns/${P}${RH}1" "$@"; }   # the clients of the three paths
client_vxlan() { nsenter --net="/run/netns/${P}c1" "$@"; }
client_weft() { dk w1 exec client "$@"; }
iperf_round() {   # iperf_round LABEL ROUND
    local l=$1 r=$2 f="$OUT/iperf3-$1-$2.json"
    "client_$l" iperf3 -c "${DEST[$l]}" -p "$IPERF_PORT" -t "$DURATION" -O "$OMIT" -J >"$f" \
        || die "$l: iperf3 failed (see $f)"
    TPUT[$l $r]="$(jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | round / 100' "$f")"
    RETR[$l $r]="$(jq -r '.end.sum_sent.retransmits // 0' "$f")"
    log "round $r/$ROUNDS: $l ${TPUT[$l $r]} Gbit/s (${RETR[$l $r]} retransmits)"
}
ping_round() {    # ping_round LABEL ROUND: appended to ping-LABEL.txt
    local l=$1
    # shellcheck disable=SC2086
    "client_$l" ${PINGCMD[$l]} -c "$PINGS" -i "$PING_INTERVAL" "${DEST[$l]}" >>"$OUT/ping-$l.txt" 2>&1 || true
}
# ping_stats FILE SENT: "avg p50 p99 loss%" from ping's "time=X ms" lines (nearest-rank percentiles)
ping_stats() {
    grep -o 'time=[0-9.]*' "$1" | cut -d= -f2 | sort -g | awk -v sent="$2" '
        { v[NR] = $1; s += $1 }
        END { n = NR; if (n == 0) { print "nan nan nan 100"; exit }
              printf "%.3f %.3f %.3f %.1f\n", s / n, v[int((n * 50 + 99) / 100)], v[int((n * 99 + 99) / 100)],
                     100 * (sent - n) / sent }'
}
summarize() {     # summarize LABEL: median/min/max Gbit/s over the rounds, total retransmits, pooled pings
    local l=$1 r vals=()
    for r in $(seq 1 "$ROUNDS"); do vals+=("${TPUT[$l $r]}"); done
    read -r GBPS[$l] GMIN[$l] GMAX[$l] < <(printf '%s\n' "${vals[@]}" | sort -g | awk '
        { v[NR] = $1 } END { printf "%.2f %s %s\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }')
    RETRS[$l]=0
    for r in $(seq 1 "$ROUNDS"); do RETRS[$l]=$((RETRS[$l] + RETR[$l $r])); done
    read -r PAVG[$l] P50[$l] P99[$l] LOSS[$l] < <(ping_stats "$OUT/ping-$l.txt" $((PINGS * ROUNDS)))
}
# iperf_server_ns NS IP: an iperf3 server in a plain namespace
iperf_server_ns() {
    nsenter --net="/run/netns/$1" iperf3 -s -B "$2" -p "$IPERF_PORT" >"$OUT/iperf3-server-$1.log" 2>&1 &
    PIDS+=($!)
}

HEADER="overlay datapath, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, kernel $(uname -r), $(iperf3 --version | head -n1 | cut -d' ' -f1-2), load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "$HEADER"
log "prefix $P; underlay MTU $UNDERLAY_MTU, VXLAN MTU $VX_MTU; $ROUNDS rounds of iperf3 ${DURATION}s (omit ${OMIT}s) and $PINGS pings; parts:$PARTS"

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
# The underlay and the hand-made VXLAN pair are measured between the same two hosts as weft (w1, w2) when weft
# runs: host namespaces of one run differ by several per cent between pairs on this kind of machine (measured:
# a hand-made pair built inside w1/w2 gave 0.94 of one built in two other namespaces, weft 0.98 of the one in
# w1/w2), so only the same hosts make the comparison about the datapath. REF_HOSTS=separate uses h1/h2.
if { part weft || part converge; } && [ "${REF_HOSTS:-same}" = same ]; then
    RH=w; RA1=10.249.0.11; RA2=10.249.0.12
else
    RH=h; RA1=10.249.0.1; RA2=10.249.0.2
fi
log "underlay: namespaces ${P}${RH}1 ($RA1) and ${P}${RH}2 ($RA2) on bridge ${P}ub in $U"
host_ns "${RH}1" "$RA1"
host_ns "${RH}2" "$RA2"

if part underlay; then
    iperf_server_ns "${P}${RH}2" "$RA2"
    add_path underlay "$RA2" "/run/netns/${P}${RH}2" "busybox ping"
fi

# ---- kernel VXLAN by hand: flannel's scheme between containers of the two hosts -----------------------------
# vx_host I ADDRESS: on host I (${P}${RH}I) a VXLAN device ${P}vx (VNI 42, UDP 4789, no learning, 10.250.I.0/32), a bridge
# ${P}cb with the gateway 10.250.I.1/24, a container namespace ${P}cI (10.250.I.2) on it by a veth
vx_host() {
    local i=$1 ns="${P}${RH}$1" c="${P}c$1"
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
    # forwarding on these two devices only, as weft does (not the host's ip_forward)
    inns "$ns" sh -c "echo 1 > /proc/sys/net/ipv4/conf/${P}cb/forwarding; echo 1 > /proc/sys/net/ipv4/conf/${P}vx/forwarding"
}
# vx_peer I J PEER_ADDRESS: on host I, the way to host J's containers: neighbour, FDB entry, onlink route
vx_peer() {
    local ns="${P}${RH}$1" j=$2
    ip -n "$ns" neigh replace "10.250.$j.0" lladdr "02:fb:00:00:00:0$j" dev "${P}vx" nud permanent
    bridge -n "$ns" fdb replace "02:fb:00:00:00:0$j" dev "${P}vx" dst "$3" self permanent
    ip -n "$ns" route replace "10.250.$j.0/24" via "10.250.$j.0" dev "${P}vx" onlink
}
if part vxlan; then
    log "kernel VXLAN: ${P}c1 (10.250.1.2) on ${P}${RH}1 <-> ${P}c2 (10.250.2.2) on ${P}${RH}2, VNI 42, MTU $VX_MTU"
    vx_host 1 "$RA1"
    vx_host 2 "$RA2"
    vx_peer 1 2 "$RA2"
    vx_peer 2 1 "$RA1"
    iperf_server_ns "${P}c2" 10.250.2.2
    add_path vxlan 10.250.2.2 "/run/netns/${P}c2" "busybox ping"
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
    if [ "$RH" != w ]; then
        host_ns w1 10.249.0.11
        host_ns w2 10.249.0.12
    fi
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
            dk "$h" network create -d weft --ipam-driver weft --subnet "$WEFT_SUBNET" benchnet >/dev/null \
                2>"$OUT/network-create-$h.log" || die "docker network create on $h failed:" \
                "$(cat "$OUT/network-create-$h.log") (see also $OUT/agent-$h.log)"
        done
        # (docker warns "IPv4 forwarding is disabled": weft enables forwarding on its own devices only)
        dk w2 run -d --name iperfsrv --network benchnet "$IMAGE" iperf3 -s -p "$IPERF_PORT" >/dev/null \
            2>>"$OUT/docker-cli.log" || die "docker run on w2 failed (see $OUT/docker-cli.log)"
        dk w1 run -d --name client --network benchnet "$IMAGE" sleep 1000000 >/dev/null 2>>"$OUT/docker-cli.log" \
            || die "docker run on w1 failed (see $OUT/docker-cli.log)"
        SRV_IP="$(ctr_ip w2 iperfsrv)"
        log "weft: client $(ctr_ip w1 client) on w1, iperf3 server $SRV_IP on w2; devices on w1:" \
            "$(ip -n "${P}w1" -br link | awk '{print $1}' | tr '\n' ' ')"
        WEFT_READY=1
    fi
fi
if part weft && [ -n "$WEFT_READY" ]; then
    add_path weft "$SRV_IP" "$(ctr_netns w2 iperfsrv)" ping
fi

if [ -n "${HOLD:-}" ]; then   # to look around: everything stays set up while the file exists
    touch "$HOLD"
    log "holding while $HOLD exists (prefix $P, work directory $WORK)"
    while [ -e "$HOLD" ]; do sleep 1; done
fi

# ---- throughput and RTT: ROUNDS rounds, each path once per round, the order rotating ----------------------
if [ "${#PATHS[@]}" -gt 0 ]; then
    log "measuring ${PATHS[*]}: $ROUNDS rounds of iperf3 ${DURATION}s and $PINGS pings per path"
    for r in $(seq 1 "$ROUNDS"); do
        n=${#PATHS[@]}
        for k in $(seq 0 $((n - 1))); do
            l="${PATHS[$(((k + r - 1) % n))]}"
            iperf_round "$l" "$r"
            ping_round "$l" "$r"
        done
    done
    for l in "${PATHS[@]}"; do
        summarize "$l"
        log "$l: median ${GBPS[$l]} Gbit/s (${GMIN[$l]}-${GMAX[$l]}), ping avg ${PAVG[$l]} p50 ${P50[$l]} p99 ${P99[$l]} ms"
    done
fi

# ---- convergence -----------------------------------------------------------------------------------------
CONV=""
if part converge && [ -n "$WEFT_READY" ]; then
    if [ "$CONV_ON" = w2 ]; then poller="$(ctr_netns w1 client)"; else poller="$(ctr_netns w2 iperfsrv)"; fi
    log "convergence: $RUNS runs of docker run -d (httpd on $CONV_ON) until a container on the other host" \
        "connects (every ${POLL_MS} ms)"
    nsenter --net="$poller" env DOCKER_CONFIG="$WORK/docker-cli" python3 \
        "$ROOT/bench/overlay/converge.py" --docker-host "unix://$WORK/$CONV_ON/docker.sock" --network benchnet \
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
    echo "underlay MTU $UNDERLAY_MTU (VXLAN $VX_MTU); per path $ROUNDS rounds of iperf3 TCP ${DURATION}s (first ${OMIT}s" \
        "omitted, one stream; the median round, min-max) and $PINGS pings (busybox, every ${PING_INTERVAL}s; pooled)"
    echo
    echo "| path | Gbit/s | min-max | retransmits | ping avg ms | p50 ms | p99 ms | loss % |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for l in underlay vxlan weft; do
        case $l in
            underlay) name="underlay (host ↔ host)" ;;
            vxlan) name="kernel VXLAN by hand (container ↔ container)" ;;
            weft) name="weft (container ↔ container)" ;;
        esac
        echo "| $name | $(val GBPS $l) | $(val GMIN $l)-$(val GMAX $l) | $(val RETRS $l) | $(val PAVG $l) | $(val P50 $l) | $(val P99 $l) | $(val LOSS $l) |"
    done
    echo "| weft / kernel VXLAN | $(ratio "$(val GBPS weft)" "$(val GBPS vxlan)") | | | $(ratio "$(val PAVG weft)" "$(val PAVG vxlan)") | $(ratio "$(val P50 weft)" "$(val P50 vxlan)") | $(ratio "$(val P99 weft)" "$(val P99 vxlan)") | |"
    echo
    tput="$(ratio "$(val GBPS weft)" "$(val GBPS vxlan)")"
    verdict="$(awk -v r="$tput" 'BEGIN { if (r == "n/a") print "not measured"; else if (r >= 0.95) print "met"; else print "MISSED" }')"
    echo "Target: weft throughput >= 95% of the kernel VXLAN pair: $verdict ($tput)."
    if [ -n "$CONV" ]; then
        echo
        echo "Convergence: docker run -d of httpd on $CONV_ON (agent: $( [ "$CONV_ON" = w1 ] && echo 'the Raft server' || echo 'a client agent')) until the first TCP connect from the other host's container (polled every ${POLL_MS} ms)"
        echo
        echo "| runs | total p50 ms | total p99 ms | max ms | docker run p50 ms | docker run p99 ms | connect after run returned p50 ms | p99 ms | connected before run returned | timeouts |"
        echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        echo "| $(cf n)/$RUNS | $(cf total_p50_ms) | $(cf total_p99_ms) | $(cf total_max_ms) | $(cf run_p50_ms) | $(cf run_p99_ms) | $(cf after_run_p50_ms) | $(cf after_run_p99_ms) | $(cf before_run) | $(cf timeouts) |"
        echo
        echo "Inside docker run (Docker's events, p50 / p99 ms): container created $(cf created_p50_ms) / $(cf created_p99_ms)" \
            "after t0; network connected (IPAM + CreateEndpoint + Join by the weft driver, and the sandbox)" \
            "$(cf net_p50_ms) / $(cf net_p99_ms) after that; container started $(cf started_p50_ms) / $(cf started_p99_ms) later."
        echo
        verdict="$(awk -v r="$(cf total_p99_ms)" 'BEGIN { if (r !~ /^[0-9.]+$/) print "not measured"; else if (r < 1000) print "met"; else print "MISSED" }')"
        echo "Target: convergence p99 < 1 s: $verdict."
    elif part converge; then
        echo "Convergence: not measured (weft not ready)."
    fi
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/table.md"
