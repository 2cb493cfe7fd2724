#!/usr/bin/env bash
# Side-by-side DNS benchmark: weft's DNS server vs unbound (local-data, 1 and 2 threads) and knot
# (authoritative zone), the same 11,000 services and the same dnsperf query files against each, all on
# loopback. See bench/README.md. Not a test: it measures, prints a table and writes it to bench/out/dns-<time>/.
#
# Environment:
#   BENCH_SECONDS      seconds per measured dnsperf run (default 20)
#   BENCH_WARMUP       seconds of unreported dnsperf load per system before measuring (default 10)
#   BENCH_CLIENTS      dnsperf -c (default 16)
#   BENCH_OUTSTANDING  dnsperf -q, queries in flight (default 500)
#   BENCH_SERVICES     services queried by A (default 10000)
#   BENCH_SRV_SERVICES services queried by SRV (default 1000)
#   BENCH_NX_NAMES     distinct NXDOMAIN names in the mix (default 10000: each NXDOMAIN line a new name)
#   BENCH_QUERYSETS    which query files (default "a mix": A only; 70 % A, 20 % SRV, 10 % NXDOMAIN)
#   BENCH_SYSTEMS      which servers (default "weft unbound1 unbound2 knot"; unboundN = unbound, N threads)
#   BENCH_KNOT_WORKERS knot's udp-workers (default: knot's own default, one per CPU)
#   BENCH_REG_CONNS    concurrent HTTP connections registering the services in weft (default 16)
#   WEFT_JAVA_OPTS     JVM options for the weft agent (default "-Xmx1g")
#   BENCH_PORT_BASE    first of the loopback ports used (default 24000: +1..+3 weft, +11.. unbound, +21 knot)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECS="${BENCH_SECONDS:-20}"
WARMUP="${BENCH_WARMUP:-10}"
CLIENTS="${BENCH_CLIENTS:-16}"
OUTSTANDING="${BENCH_OUTSTANDING:-500}"
NSVC="${BENCH_SERVICES:-10000}"
NSRV="${BENCH_SRV_SERVICES:-1000}"
NX_NAMES="${BENCH_NX_NAMES:-10000}"
QUERYSETS="${BENCH_QUERYSETS:-a mix}"
SYSTEMS="${BENCH_SYSTEMS:-weft unbound1 unbound2 knot}"
KNOT_WORKERS="${BENCH_KNOT_WORKERS:-}"
REG_CONNS="${BENCH_REG_CONNS:-16}"
export WEFT_JAVA_OPTS="${WEFT_JAVA_OPTS:--Xmx1g}"
PORT_BASE="${BENCH_PORT_BASE:-24000}"
HOST=127.0.0.1
DNSDIR="$ROOT/bench/dns"

. "$ROOT/bench/lib.sh"
bench_setup "dns-" "weft-dnsbench"

has() { case " $SYSTEMS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
for s in $SYSTEMS; do
    case "$s" in weft | knot | unbound[1-9]) ;; *) die "unknown system '$s' in BENCH_SYSTEMS" ;; esac
done
for q in $QUERYSETS; do case "$q" in a | mix) ;; *) die "unknown query set '$q' in BENCH_QUERYSETS" ;; esac; done

# ---- tools ------------------------------------------------------------------------------------------------
need_install=()
command -v unbound >/dev/null || need_install+=(unbound)
command -v knotd >/dev/null   || need_install+=(knot)
command -v dnsperf >/dev/null || need_install+=(dnsperf)
command -v curl >/dev/null    || need_install+=(curl)
command -v ss >/dev/null      || need_install+=(iproute2)
command -v python3 >/dev/null || need_install+=(python3)
bench_install "${need_install[@]}"

# ---- ports ------------------------------------------------------------------------------------------------
WEFT_HTTP=$((PORT_BASE + 1)) WEFT_RAFT=$((PORT_BASE + 2)) WEFT_DNS=$((PORT_BASE + 3))
KNOT_PORT=$((PORT_BASE + 21))
declare -A PORT PID
PORT[weft]=$WEFT_DNS
PORT[knot]=$KNOT_PORT
for s in $SYSTEMS; do case "$s" in unbound*) PORT[$s]=$((PORT_BASE + 10 + ${s#unbound})) ;; esac; done
busy() {   # a TCP listener or a bound UDP socket on the port
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null && return 0
    [ -n "$(ss -Huan "sport = :$1" 2>/dev/null)" ]
}
for p in $WEFT_HTTP $WEFT_RAFT $WEFT_DNS $KNOT_PORT $(for s in $SYSTEMS; do echo "${PORT[$s]}"; done); do
    if busy "$p"; then die "port $p on $HOST is in use (set BENCH_PORT_BASE)"; fi
done

# ---- header -----------------------------------------------------------------------------------------------
versions() {
    has weft && echo "weft:    $("$ROOT/weft" version 2>/dev/null | head -n1) ($(java -version 2>&1 | head -n1); $WEFT_JAVA_OPTS)"
    echo "unbound: $(unbound -V 2>/dev/null | sed -n 's/^Version //p' | head -n1)"
    echo "knot:    $(knotd --version 2>/dev/null | head -n1)"
    echo "dnsperf: $(dnsperf -h 2>&1 | sed -n 's/^Version //p' | head -n1)"
}
if has weft; then
    log "building agent/target/weft.jar if needed"
    "$ROOT/weft" version >/dev/null || die "cannot build or run weft"
fi
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
{
    echo "DNS benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $LOAD_BEFORE"
    versions
    echo "$NSVC A services + $NSRV SRV services, $NX_NAMES NXDOMAIN names; dnsperf -c $CLIENTS -q $OUTSTANDING, ${SECS}s per run after ${WARMUP}s warm-up;" \
        "net.core.rmem_max $(cat /proc/sys/net/core/rmem_max), rmem_default $(cat /proc/sys/net/core/rmem_default)"
} | tee "$OUT/header.txt" >&2

# ---- data ---------------------------------------------------------------------------------------------------
DATA="$WORK/data"
python3 "$DNSDIR/gen.py" --out "$DATA" --a-services "$NSVC" --srv-services "$NSRV" --nx-names "$NX_NAMES" ||
    die "gen.py failed"
cp "$DATA/queries-a.txt" "$DATA/queries-mix.txt" "$DATA/check.tsv" "$OUT/"
LAST_A="$(tail -n1 "$DATA/services.tsv" | cut -f3).service.weft."
LAST_A_IP="$(tail -n1 "$DATA/services.tsv" | cut -f4)"
log "data: $(wc -l <"$DATA/services.tsv") services, $(wc -l <"$DATA/queries-a.txt") A queries," \
    "$(wc -l <"$DATA/queries-mix.txt") mixed queries (in ${WORK}/data)"

# ---- peers ---------------------------------------------------------------------------------------------------
start_unbound() {   # start_unbound SYSTEM (unboundN: N threads)
    local s=$1 threads=${1#unbound} d="$WORK/$1"
    mkdir -p "$d"
    cat >"$d/unbound.conf" <<EOF
server:
    verbosity: 1
    interface: $HOST
    port: ${PORT[$s]}
    do-ip6: no
    do-tcp: yes
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$d"
    pidfile: "$d/unbound.pid"
    use-syslog: no
    logfile: ""
    num-threads: $threads
    so-reuseport: yes
    so-rcvbuf: 4m
    so-sndbuf: 4m
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    auto-trust-anchor-file: ""
    trust-anchor-file: ""
    minimal-responses: no
    statistics-interval: 0
include: "$DATA/unbound-local.conf"
remote-control:
    control-enable: no
EOF
    unbound-checkconf "$d/unbound.conf" >/dev/null 2>"$OUT/$s.log" || die "unbound config invalid (see $OUT/$s.log)"
    log "starting $s (unbound, $threads thread(s), port ${PORT[$s]})"
    unbound -d -c "$d/unbound.conf" >>"$OUT/$s.log" 2>&1 &
    PIDS+=($!); PID[$s]=$!
}

start_knot() {
    local d="$WORK/knot"
    mkdir -p "$d/db"
    cat >"$d/knot.conf" <<EOF
server:
    rundir: "$d"
    pidfile: "$d/knot.pid"
    listen: $HOST@$KNOT_PORT
${KNOT_WORKERS:+    udp-workers: $KNOT_WORKERS}
database:
    storage: "$d/db"
control:
    listen: "$d/knot.sock"
log:
  - target: stderr
    any: notice
template:
  - id: default
    storage: "$DATA"
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: weft.
    file: "$DATA/weft.zone"
EOF
    log "starting knot (port $KNOT_PORT${KNOT_WORKERS:+, $KNOT_WORKERS UDP workers})"
    knotd -c "$d/knot.conf" >"$OUT/knot.log" 2>&1 &
    PIDS+=($!); PID[knot]=$!
}

start_weft() {
    log "starting weft agent -dev (HTTP $WEFT_HTTP, Raft $WEFT_RAFT, DNS $WEFT_DNS, JVM $WEFT_JAVA_OPTS)"
    "$ROOT/weft" agent -dev -node bench-agent -bind "$HOST" -client "$HOST" -http-port "$WEFT_HTTP" \
        -raft-port "$WEFT_RAFT" -dns-port "$WEFT_DNS" -dns-addr "$HOST" -registrator=false >"$OUT/weft.log" 2>&1 &
    PIDS+=($!); PID[weft]=$!
}

wait_for() {   # wait_for SECONDS DESCRIPTION COMMAND...
    local secs=$1 what=$2 deadline=$((SECONDS + $1))
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || die "$what not ready after ${secs}s (see $OUT/*.log)"
        sleep 0.5
    done
}
alive() { kill -0 "${PID[$1]}" 2>/dev/null || die "$1 exited (see $OUT/$1.log)"; }
dns_answers() { alive "$1"; python3 "$DNSDIR/dnsprobe.py" wait "$HOST:${PORT[$1]}" "$2" A "$3" --timeout 1; }
weft_leader() { [ -n "$(curl -fsS -m 2 "http://$HOST:$WEFT_HTTP/v1/status/leader" | tr -d '"')" ]; }

for s in $SYSTEMS; do
    case "$s" in unbound*) start_unbound "$s" ;; knot) start_knot ;; weft) start_weft ;; esac
done
for s in $SYSTEMS; do
    [ "$s" = weft ] && continue
    wait_for 60 "$s" dns_answers "$s" "$LAST_A" "$LAST_A_IP"
    log "$s answers"
done

if has weft; then
    wait_for 120 "weft HTTP API and leader" weft_leader
    log "weft has a leader; registering $(wc -l <"$DATA/services.tsv") services through PUT /v1/catalog/register" \
        "($REG_CONNS connections)"
    reg_start=$SECONDS
    python3 "$DNSDIR/register.py" --http "$HOST:$WEFT_HTTP" --concurrency "$REG_CONNS" "$DATA/services.tsv" \
        2> >(tee "$OUT/register.log" >&2) || die "registration failed (see $OUT/register.log, $OUT/weft.log)"
    sleep 0.2   # let tee flush
    REG_SUMMARY="$(tail -n1 "$OUT/register.log" | sed 's/^registered //')"
    wait_for 120 "weft DNS answer for $LAST_A" dns_answers weft "$LAST_A" "$LAST_A_IP"
    log "weft answers the last registered service ($LAST_A); registering took $((SECONDS - reg_start)) s"
fi

# ---- answers: a sample of names checked on every server ------------------------------------------------------
declare -A CHECK
CHECK_FAILED=""
for s in $SYSTEMS; do
    extra=(); case "$s" in unbound*) extra=(--no-additional) ;; esac
    if python3 "$DNSDIR/dnsprobe.py" check "$HOST:${PORT[$s]}" "$DATA/check.tsv" "${extra[@]}" >"$OUT/check-$s.txt" 2>&1; then
        CHECK[$s]="ok"
    else
        CHECK[$s]="WRONG"; CHECK_FAILED+=" $s"
        log "$s: wrong answers (see $OUT/check-$s.txt):"; sed 's/^/    /' "$OUT/check-$s.txt" >&2
    fi
    log "$s: $(tail -n1 "$OUT/check-$s.txt")"
done

# ---- measuring ------------------------------------------------------------------------------------------------
TICK="$(getconf CLK_TCK)"
cpu_ticks() {   # user+system ticks of a process (all threads)
    local f
    f="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
    f="${f##*) }"
    # shellcheck disable=SC2086
    set -- $f
    echo $(( ${12} + ${13} ))
}
sock_drops() {   # packets dropped by the kernel on the server's UDP socket(s) (receive buffer full), summed
    ss -Huamn "sport = :$1" 2>/dev/null | grep -o 'd[0-9]*)' | tr -dc '0-9\n' | awk '{ s += $1 } END { print s + 0 }'
}
pf() { sed -n "s/^ *$1 *\([0-9.]*\).*/\1/p" "$2" | head -n1; }

RESULTS="$OUT/results.tsv"
printf 'queries\tsystem\tqps\tavg_ms\tmax_ms\tsent\tlost\tserver_drops\tcpu_pct\tcpu_us_per_query\trcodes\n' >"$RESULTS"
declare -A R   # R[queries,system] = "qps avg_ms max_ms lost lost% drops cpu us/q"
declare -A RC  # response codes

run_dnsperf() {   # run_dnsperf SYSTEM QUERYSET SECONDS LOGFILE → sets globals for the caller
    local s=$1 qs=$2 secs=$3 logf=$4 c0 c1 d0 d1
    alive "$s"
    c0=$(cpu_ticks "${PID[$s]}"); d0=$(sock_drops "${PORT[$s]}")
    dnsperf -s "$HOST" -p "${PORT[$s]}" -d "$DATA/queries-$qs.txt" -l "$secs" -c "$CLIENTS" -q "$OUTSTANDING" \
        >"$logf" 2>&1 || die "dnsperf failed against $s (see $logf)"
    c1=$(cpu_ticks "${PID[$s]}"); d1=$(sock_drops "${PORT[$s]}")
    alive "$s"
    grep -q 'Queries per second' "$logf" || die "dnsperf printed no statistics for $s (see $logf)"
    RUN_CPU=$(( (c1 - c0) * 100 / TICK / secs ))
    RUN_CPU_TICKS=$((c1 - c0))
    RUN_DROPS=$((d1 - d0))
}

if [ "$WARMUP" -gt 0 ]; then
    for s in $SYSTEMS; do
        log "warm-up: $s, mixed queries, ${WARMUP}s (not reported)"
        run_dnsperf "$s" mix "$WARMUP" "$OUT/dnsperf-warmup-$s.log"
    done
fi

total=0; for q in $QUERYSETS; do for s in $SYSTEMS; do total=$((total + 1)); done; done
n=0
for q in $QUERYSETS; do
    for s in $SYSTEMS; do
        n=$((n + 1))
        logf="$OUT/dnsperf-$q-$s.log"
        log "[$n/$total] $q queries: $s (port ${PORT[$s]}), ${SECS}s"
        run_dnsperf "$s" "$q" "$SECS" "$logf"
        qps=$(pf 'Queries per second:' "$logf")
        sent=$(pf 'Queries sent:' "$logf")
        completed=$(pf 'Queries completed:' "$logf")
        lost=$(pf 'Queries lost:' "$logf")
        avg=$(sed -n 's/^ *Average Latency (s): *\([0-9.]*\).*/\1/p' "$logf" | head -n1)
        max=$(sed -n 's/^ *Average Latency (s):.*max \([0-9.]*\)).*/\1/p' "$logf" | head -n1)
        rcodes=$(sed -n 's/^ *Response codes: *//p' "$logf" | head -n1)
        avg_ms=$(awk -v a="${avg:-0}" 'BEGIN { printf "%.3f", a * 1000 }')
        max_ms=$(awk -v a="${max:-0}" 'BEGIN { printf "%.2f", a * 1000 }')
        lostp=$(awk -v l="${lost:-0}" -v s="${sent:-0}" 'BEGIN { printf "%.3f", (s > 0 ? 100 * l / s : 0) }')
        usq=$(awk -v t="$RUN_CPU_TICKS" -v k="$TICK" -v c="${completed:-0}" 'BEGIN { printf "%.1f", (c > 0 ? t * 1e6 / k / c : 0) }')
        R[$q,$s]="$qps $avg_ms $max_ms ${lost:-0} $lostp $RUN_DROPS $RUN_CPU $usq"
        RC[$q,$s]="$rcodes"
        log "        → $(printf '%.0f' "$qps") qps, mean $avg_ms ms, max $max_ms ms, lost ${lost:-0} of $sent," \
            "server socket drops $RUN_DROPS, server CPU ${RUN_CPU}% ($usq µs/query); $rcodes"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$q" "$s" "$qps" "$avg_ms" "$max_ms" "$sent" \
            "${lost:-0}" "$RUN_DROPS" "$RUN_CPU" "$usq" "$rcodes" >>"$RESULTS"
    done
done

# ---- report -------------------------------------------------------------------------------------------------------
label() {
    case "$1" in
        weft) echo "weft" ;;
        knot) echo "knot${KNOT_WORKERS:+ ($KNOT_WORKERS UDP workers)}" ;;
        unbound1) echo "unbound, 1 thread" ;;
        unbound*) echo "unbound, ${1#unbound} threads" ;;
    esac
}
qlabel() { case "$1" in a) echo "A only" ;; mix) echo "mix: 70 % A, 20 % SRV, 10 % NXDOMAIN" ;; esac; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "–" }'; }

{
    echo
    cat "$OUT/header.txt"
    [ -n "${REG_SUMMARY:-}" ] && echo "weft: registered $REG_SUMMARY"
    echo
    echo "| queries | server | qps | mean ms | max ms | lost (%) | server socket drops | server CPU % | µs CPU/query | weft ÷ this | answers |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for q in $QUERYSETS; do
        wq=""; has weft && read -r wq _ <<<"${R[$q,weft]}"
        for s in $SYSTEMS; do
            read -r qps avg max lost lostp drops cpu usq <<<"${R[$q,$s]}"
            r="–"; [ -n "$wq" ] && [ "$s" != weft ] && r="$(ratio "$wq" "$qps")"
            printf '| %s | %s | %.0f | %s | %s | %s (%s) | %s | %s | %s | %s | %s |\n' "$(qlabel "$q")" "$(label "$s")" \
                "$qps" "$avg" "$max" "$lost" "$lostp" "$drops" "$cpu" "$usq" "$r" "${CHECK[$s]}"
        done
    done
    echo
    echo "Response codes:"
    for q in $QUERYSETS; do for s in $SYSTEMS; do echo "  $q $s: ${RC[$q,$s]}"; done; done
    echo
    echo "lost = dnsperf's count of queries without an answer within its 5 s timeout; server socket drops = the"
    echo "kernel's drop counter on the server's UDP socket(s) during the run (receive buffer full). 'answers' = $(grep -c . "$DATA/check.tsv") sampled names (A, SRV with its"
    echo "additional A, NXDOMAIN) answered as expected before the load (unbound: without additional records,"
    echo "which its local-data does not add). Server CPU in % of one core; dnsperf runs on the same $(nproc) cores."
    if has weft; then
        echo
        for s in $SYSTEMS; do
            case "$s" in weft) continue ;; esac
            line="vs $(label "$s"):"
            for q in $QUERYSETS; do
                read -r wq _ _ wl _ <<<"${R[$q,weft]}"; read -r pq _ _ pl _ <<<"${R[$q,$s]}"
                line+=" $q $(ratio "$wq" "$pq") (lost weft $wl, $s $pl);"
            done
            echo "weft $line"
        done
        echo "Target: weft ≥ 1.0× unbound's qps, no lost queries; stretch: ≥ knot."
    fi
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (before: $LOAD_BEFORE)"
} | tee "$OUT/table.md"

[ -z "$CHECK_FAILED" ] || die "wrong answers from:$CHECK_FAILED (see $OUT/check-*.txt)"
