#!/usr/bin/env bash
# ADD and DEL latency of weft-cni as a runtime runs it (a new process per call: JVM start included), side by side
# with the reference bridge + host-local plugins of containernetworking-plugins (/usr/lib/cni), interleaved in one
# run so that both see the same machine. Prints p50/p99 per plugin and the ratios weft/reference.
#
#   bench/cni.sh                 # N=200 ADD+DEL pairs per plugin
#   N=50 bench/cni.sh
#
# The agent side is dev.weft.cni.CniTestAgent (cni test classes): a real single-member Raft store on 127.0.0.1
# and a simulated host (a namespace with an underlay veth) serving weft-cni's socket. Both plugins run in that
# host namespace (nsenter --net) and attach one container namespace each; nothing is made in the machine's own
# namespace. Namespaces carry the prefix wftcb + 6 hex (and the agent's wftcn + 6 hex); all are removed on exit.
# Root only. Results: bench/out/cni-<time>/ (results.tsv, the per-call times, the agent's log).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

N=${N:-200}
WARMUP=${WARMUP:-5}
REF_DIR=${REF_DIR:-/usr/lib/cni}
[ "$(id -u)" -eq 0 ] || die "run as root (network namespaces)"
[ -x "$REF_DIR/bridge" ] && [ -x "$REF_DIR/host-local" ] || bench_install containernetworking-plugins
command -v nsenter >/dev/null || die "nsenter (util-linux) is missing"

bench_setup cni- weft-cni-bench
PREFIX="wftcb$(printf '%06x' $((RANDOM * 32768 + RANDOM)))"
NAMESPACES=()
cleanup_namespaces() {
    local ns
    for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap 'rc=$?; cleanup_namespaces; (exit $rc); bench_cleanup' EXIT

log "building weft-cni and the test agent"
(cd "$ROOT" && ./mvnw -q -B -o -pl cni -am package -DskipTests \
    dependency:build-classpath -Dmdep.outputFile="$WORK/cp" -Dmdep.includeScope=test) >"$OUT/build.log" 2>&1 \
    || die "build failed, see $OUT/build.log"

mkfifo "$WORK/agent-stdin"
(cd "$ROOT/cni" && exec java -cp "$ROOT/cni/target/test-classes:$(cat "$WORK/cp")" dev.weft.cni.CniTestAgent \
    "$WORK/agent" <"$WORK/agent-stdin" >"$OUT/agent.log" 2>&1) &
PIDS+=($!)
sleep 1000000 >"$WORK/agent-stdin" &   # holds the agent's stdin open; killed (by PID) on exit
PIDS+=($!)
for _ in $(seq 1 600); do grep -q '^ready ' "$OUT/agent.log" && break; sleep 0.1; done
grep -q '^ready ' "$OUT/agent.log" || die "the test agent did not start: see $OUT/agent.log"
read -r _ SOCKET HOST_NS _ < <(grep '^ready ' "$OUT/agent.log")
log "agent ready: socket $SOCKET, host namespace $HOST_NS"

for c in w r; do
    ip netns add "$PREFIX$c"
    NAMESPACES+=("$PREFIX$c")
done
mkdir -p "$WORK/host-local"
WEFT_CONF='{"cniVersion":"1.0.0","name":"benchweft","type":"weft-cni","subnet":"10.216.0.0/16"}'
REF_CONF='{"cniVersion":"1.0.0","name":"benchref","type":"bridge","bridge":"wfbref0","isGateway":true,
 "ipMasq":false,"ipam":{"type":"host-local","subnet":"10.217.0.0/24","dataDir":"'"$WORK/host-local"'"}}'

# call PLUGIN COMMAND CONTAINER NETNS CONF: one invocation in the host namespace; prints its wall time in µs
call() {
    local exe=$1 cmd=$2 id=$3 ns=$4 conf=$5 t0 t1 out
    t0=$EPOCHREALTIME
    if ! out=$(CNI_COMMAND=$cmd CNI_CONTAINERID=$id CNI_NETNS=/var/run/netns/$ns CNI_IFNAME=eth0 \
            CNI_PATH=$REF_DIR WEFT_CNI_SOCKET=$SOCKET nsenter --net="$HOST_NS" "$exe" <<<"$conf"); then
        die "$exe $cmd $id failed: $out"
    fi
    t1=$EPOCHREALTIME
    echo $(( (${t1/./} - ${t0/./}) ))
}

WEFT="$ROOT/cni/weft-cni"
log "warm-up: $WARMUP ADD+DEL per plugin (the first weft-cni call writes its AppCDS archive, or starts making its AOT cache on JDK 25+)"
for i in $(seq 1 "$WARMUP"); do
    for c in ADD DEL; do
        call "$WEFT" $c "warm$i" "${PREFIX}w" "$WEFT_CONF" >/dev/null || exit 1
        call "$REF_DIR/bridge" $c "warm$i" "${PREFIX}r" "$REF_CONF" >/dev/null || exit 1
    done
done
for _ in $(seq 1 120); do   # a JDK 25+ AOT cache is made in the background: wait for it (at most 60 s)
    compgen -G "$ROOT/cni/target/.weft-cni-*.aot.lock" >/dev/null || break
    sleep 0.5
done

log "measuring: $N ADD+DEL per plugin, interleaved"
: >"$OUT/calls.tsv"
for i in $(seq 1 "$N"); do
    for s in weft ref; do
        if [ $s = weft ]; then exe=$WEFT ns=${PREFIX}w conf=$WEFT_CONF; else exe=$REF_DIR/bridge ns=${PREFIX}r conf=$REF_CONF; fi
        for c in ADD DEL; do
            t=$(call "$exe" $c "c$i" "$ns" "$conf") || exit 1
            printf '%s\t%s\t%s\n' $s $c "$t" >>"$OUT/calls.tsv"
        done
    done
done

# pct SYSTEM COMMAND P: the P-th percentile (nearest rank) in ms
pct() {
    awk -F'\t' -v s="$1" -v c="$2" '$1 == s && $2 == c { print $3 }' "$OUT/calls.tsv" | sort -n \
        | awk -v p="$3" '{ v[NR] = $1 } END { r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1;
                                             printf "%.1f", v[r] / 1000 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

printf 'system\tcommand\tp50_ms\tp99_ms\n' >"$OUT/results.tsv"
for s in weft ref; do
    for c in ADD DEL; do
        printf '%s\t%s\t%s\t%s\n' "$s" "$c" "$(pct $s $c 50)" "$(pct $s $c 99)" >>"$OUT/results.tsv"
    done
done
java_version="$(java -version 2>&1 | head -n1) on PATH; weft-cni's launcher prefers a JDK 25+ under /usr/lib/jvm: $(ls -d /usr/lib/jvm/*25* 2>/dev/null | head -n1)"
echo
echo "weft-cni vs bridge+host-local ($REF_DIR), $N calls each, $(nproc) cores, $java_version"
echo
echo "| call | weft-cni p50 | weft-cni p99 | bridge+host-local p50 | p99 | ratio p50 | ratio p99 |"
echo "|---|---|---|---|---|---|---|"
for c in ADD DEL; do
    w50=$(pct weft $c 50); w99=$(pct weft $c 99); r50=$(pct ref $c 50); r99=$(pct ref $c 99)
    echo "| $c | $w50 ms | $w99 ms | $r50 ms | $r99 ms | $(ratio "$w50" "$r50") | $(ratio "$w99" "$r99") |"
done
agent_pct() {
    grep -o "cni: $1 container c[0-9]* eth0 .* in [0-9]* ms" "$OUT/agent.log" | grep -o '[0-9]* ms$' \
        | awk '{ print $1 }' | sort -n | awk -v p="$2" '{ v[NR] = $1 } END { r = int((p / 100) * NR + 0.999999);
                                                       if (r < 1) r = 1; print v[r] }'
}
echo
echo "weft's share inside the agent (its log): ADD p50 $(agent_pct ADD 50) ms, p99 $(agent_pct ADD 99) ms;" \
    "DEL p50 $(agent_pct DEL 50) ms, p99 $(agent_pct DEL 99) ms; the rest is the JVM's start and the socket"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
