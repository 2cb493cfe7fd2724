#!/usr/bin/env bash
# Client agents (issue 8): 3 weft servers and CLIENTS client agents (`weft agent` without -server) on loopback.
# Measures the clients' memory, how fast a KV write becomes visible on every client, DNS qps on a client vs a
# server, and the servers' CPU with the clients attached. See bench/README.md. Not a test: it prints a table
# and writes it to bench/out/clients-<time>/summary.txt.
#
# Environment:
#   CLIENTS             client agents (default 50)
#   SERVICES            services registered through the clients' agent APIs, spread evenly (default 10000)
#   TRIALS              propagation trials (default 200)
#   BENCH_WARMUP_TRIALS propagation trials before them, not reported (default 100: the servers' feed path is
#                       still being compiled by C2 during the first hundred writes; 10 gives the cold figure)
#   BENCH_DNS_ROUNDS    dnsperf rounds, server and client alternating; the median of each is compared (default 5;
#                       with 3, one run's rounds ranged from 0.91 to 0.98x, so one slow round moved the median)
#   BENCH_SECONDS       seconds per measured dnsperf run (default 15; 5 s of warm-up per agent before)
#   BENCH_DNS_RATE      queries/s of the fixed-rate DNS rounds, whose agent CPU per query is compared (default 15000)
#   BENCH_CPU_SECONDS   seconds of each server CPU sample, idle and under writes (default 30)
#   BENCH_WRITE_RATE    KV writes/s to the leader during the second CPU sample (default 200)
#   BENCH_CLIENT_BATCH  clients started at a time (default 10)
#   BENCH_PORT_BASE     first of the loopback ports (default 26000: servers HTTP +1..3, Raft +11..13,
#                       DNS +21..23; client i HTTP +1000+i, DNS +2000+i)
#   WEFT_JAVA_OPTS      JVM options of the servers only (default "-Xmx1g"); the clients run with the launcher's
#                       client defaults (48 MiB heap, …) or WEFT_CLIENT_JAVA_OPTS
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CMDLINE="bench/clients.sh"
for v in WEFT_CLIENT_JAVA_OPTS WEFT_JAVA_OPTS BENCH_PORT_BASE BENCH_CLIENT_BATCH BENCH_WRITE_RATE BENCH_CPU_SECONDS \
    BENCH_SECONDS TRIALS SERVICES CLIENTS BENCH_WARMUP_TRIALS BENCH_DNS_ROUNDS BENCH_DNS_RATE; do
    [ -z "${!v:-}" ] || CMDLINE="$v=${!v@Q} $CMDLINE"
done
NCLIENTS="${CLIENTS:-50}"
NSVC="${SERVICES:-10000}"
NTRIALS="${TRIALS:-200}"
NWARM="${BENCH_WARMUP_TRIALS:-100}"
DNS_ROUNDS="${BENCH_DNS_ROUNDS:-5}"
SECS="${BENCH_SECONDS:-15}"
DNS_RATE="${BENCH_DNS_RATE:-15000}"
WARMUP=5
CPU_SECS="${BENCH_CPU_SECONDS:-30}"
WRITE_RATE="${BENCH_WRITE_RATE:-200}"
BATCH="${BENCH_CLIENT_BATCH:-10}"
PORT_BASE="${BENCH_PORT_BASE:-26000}"
SERVER_JAVA_OPTS="${WEFT_JAVA_OPTS:--Xmx1g}"
unset WEFT_JAVA_OPTS   # only the servers get it (below), the clients keep the launcher's small heap
HOST=127.0.0.1
HERE="$ROOT/bench/clients"
DNSDIR="$ROOT/bench/dns"
RSS_TARGET=64          # MiB per client
PROP_TARGET=100        # ms, p99 of the last client
DNS_TARGET=0.95        # client qps ÷ server qps: "no measurable slowdown"

. "$ROOT/bench/lib.sh"
for v in NCLIENTS NSVC NTRIALS NWARM DNS_ROUNDS DNS_RATE SECS CPU_SECS WRITE_RATE BATCH PORT_BASE; do
    case "${!v}" in '' | *[!0-9]*) die "$v must be a positive integer (got '${!v}')" ;; esac
    [ "${!v}" -gt 0 ] || die "$v must be a positive integer"
done
[ "$NCLIENTS" -le 999 ] || die "at most 999 clients (their ports are BENCH_PORT_BASE+1001…+1999, +2001…+2999)"
[ $((PORT_BASE + 2000 + NCLIENTS)) -le 65535 ] || die "BENCH_PORT_BASE too high"

# ---- tools --------------------------------------------------------------------------------------------------
need_install=()
command -v dnsperf >/dev/null || need_install+=(dnsperf)
command -v curl >/dev/null    || need_install+=(curl)
command -v ss >/dev/null      || need_install+=(iproute2)
command -v python3 >/dev/null || need_install+=(python3)
bench_install "${need_install[@]}"

# ---- ports: all free, TCP and UDP ----------------------------------------------------------------------------
HTTP=($((PORT_BASE + 1)) $((PORT_BASE + 2)) $((PORT_BASE + 3)))
RAFT=($((PORT_BASE + 11)) $((PORT_BASE + 12)) $((PORT_BASE + 13)))
DNS=($((PORT_BASE + 21)) $((PORT_BASE + 22)) $((PORT_BASE + 23)))
CHTTP=() CDNS=() CPID=()   # indexed 1..NCLIENTS
for ((i = 1; i <= NCLIENTS; i++)); do CHTTP[i]=$((PORT_BASE + 1000 + i)); CDNS[i]=$((PORT_BASE + 2000 + i)); done
in_use=" $(ss -Htuln 2>/dev/null | awk '{ n = split($5, a, ":"); print a[n] }' | sort -un | tr '\n' ' ') "
for p in "${HTTP[@]}" "${RAFT[@]}" "${DNS[@]}" "${CHTTP[@]}" "${CDNS[@]}"; do
    case "$in_use" in *" $p "*) die "port $p on $HOST is in use (set BENCH_PORT_BASE)" ;; esac
done
CLIENT_LIST="$(for ((i = 1; i <= NCLIENTS; i++)); do printf '%s:%s,' "$HOST" "${CHTTP[$i]}"; done)"

bench_setup "clients-" "weft-clients"
mkdir -p "$OUT/clients"

# ---- helpers ------------------------------------------------------------------------------------------------
TICK="$(getconf CLK_TCK)"
cpu_ticks() {   # user+system ticks of a process (all threads)
    local s
    s="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
    s="${s##*) }"
    # shellcheck disable=SC2086
    set -- $s
    echo $((${12} + ${13}))
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
num() { [[ "$1" =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
verdict() {   # verdict VALUE OP TARGET (OP: le, lt, ge)
    num "$1" || { echo "?"; return; }
    awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == "le") ? (v <= t) : (op == "lt") ? (v < t) : (v >= t)
        print ok ? "met" : "NOT met" }'
}
median_fmt() {   # median_fmt PRINTF-FORMAT VALUE...
    local fmt=$1; shift
    printf '%s\n' "$@" | sort -g | awk -v f="$fmt" '{ v[NR] = $1 } END { printf f, NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
median() { median_fmt %.0f "$@"; }
f() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }   # f RESULT-LINE KEY
servers_alive() {
    local i
    for i in 0 1 2; do
        kill -0 "${SPID[$i]}" 2>/dev/null || die "server weft$((i + 1)) exited (see $OUT/weft$((i + 1)).log)"
    done
}
leader_idx() {   # 0-2: the leading server, as the first server that knows one sees it
    local p l i
    for p in "${HTTP[@]}"; do
        l="$(curl -fsS -m 2 "http://$HOST:$p/v1/status/leader" 2>/dev/null | tr -d '"')" || continue
        for i in 0 1 2; do
            if [ -n "$l" ] && [ "${l##*:}" = "${RAFT[$i]}" ]; then echo "$i"; return 0; fi
        done
    done
    return 1
}
mark() { if [ "$1" = "$L" ]; then echo "weft$(($1 + 1))*"; else echo "weft$(($1 + 1))"; fi; }   # * = leader

# ---- header ---------------------------------------------------------------------------------------------------
log "building agent/target/weft.jar if needed"
"$ROOT/weft" version >/dev/null || die "cannot build or run weft"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
MEM_AVAIL="$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)"
CLIENT_OPTS="${WEFT_CLIENT_JAVA_OPTS:-the launcher defaults for clients (-Xmx48m …)}"
HEADER="client agents, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $LOAD_BEFORE, $MEM_AVAIL MiB available
weft: $("$ROOT/weft" version 2>/dev/null | head -n1 || true) ($(java -version 2>&1 | head -n1 || true)); servers: $SERVER_JAVA_OPTS; clients: $CLIENT_OPTS
3 servers + $NCLIENTS clients on $HOST (client i follows server (i-1) mod 3), $NSVC services"
echo "$HEADER" >&2
[ "$MEM_AVAIL" -ge $((NCLIENTS * 80 + 2048)) ] ||
    log "warning: only $MEM_AVAIL MiB available for 3 servers and $NCLIENTS clients (~$((NCLIENTS * 80 + 2048)) MiB wanted)"

# ---- 1. servers, then clients in batches ------------------------------------------------------------------------
log "starting 3 weft servers (HTTP ${HTTP[*]}, Raft ${RAFT[*]}, DNS ${DNS[*]})"
for i in 0 1 2; do WEFT_JAVA_OPTS="$SERVER_JAVA_OPTS" weft_server "$i" -registrator=false; done
SPID=("${PIDS[@]:0:3}")
deadline=$((SECONDS + 120))
until weft_agreed "${HTTP[@]}" >/dev/null 2>&1; do
    servers_alive
    [ "$SECONDS" -lt "$deadline" ] || die "weft servers (one leader, a KV write) not ready after 120 s"
    sleep 0.5
done
L="$(leader_idx)" || die "no leader"
L_START=$L
log "servers ready; leader weft$((L + 1))"

start_client() {   # start_client I: client agent cI (1-based), following server (I-1) mod 3
    local i=$1
    "$ROOT/weft" agent -node "c$i" -bind "$HOST" -client "$HOST" -retry-join "$HOST:${HTTP[$(((i - 1) % 3))]}" \
        -data-dir "$WORK/c$i" -http-port "${CHTTP[$i]}" -dns-port "${CDNS[$i]}" -dns-addr "$HOST" \
        -registrator=false >"$OUT/clients/c$i.log" 2>&1 &
    CPID[i]=$!
    PIDS+=($!)
}
client_ready() { [ -n "$(curl -fsS -m 2 "http://$HOST:${CHTTP[$1]}/v1/status/leader" 2>/dev/null | tr -d '"')" ]; }

t_clients=$(now)
ready=0
for ((b = 1; b <= NCLIENTS; b += BATCH)); do
    e=$((b + BATCH - 1)); [ "$e" -le "$NCLIENTS" ] || e=$NCLIENTS
    log "starting clients c$b…c$e (HTTP ${CHTTP[$b]}…${CHTTP[$e]}, DNS ${CDNS[$b]}…${CDNS[$e]})"
    pending=()
    for ((i = b; i <= e; i++)); do start_client "$i"; pending+=("$i"); done
    deadline=$((SECONDS + 180)); report=$((SECONDS + 10))
    while :; do
        still=()
        for i in "${pending[@]}"; do
            kill -0 "${CPID[$i]}" 2>/dev/null || die "client c$i exited (see $OUT/clients/c$i.log)"
            if client_ready "$i"; then ready=$((ready + 1)); else still+=("$i"); fi
        done
        pending=("${still[@]}")
        [ "${#pending[@]}" -gt 0 ] || break
        servers_alive
        [ "$SECONDS" -lt "$deadline" ] || die "clients ${pending[*]} not ready (no leader) after 180 s (see $OUT/clients/)"
        if [ "$SECONDS" -ge "$report" ]; then
            log "  $ready/$NCLIENTS clients ready, waiting for ${#pending[@]} of this batch"; report=$((SECONDS + 10))
        fi
        sleep 0.5
    done
    log "  $ready/$NCLIENTS clients ready ($(since "$t_clients") s)"
done
CLIENTS_UP_S=$(since "$t_clients")
for ((i = 1; i <= NCLIENTS; i++)); do   # ./weft execs java: the PID we recorded is the JVM's
    comm="$(cat "/proc/${CPID[$i]}/comm" 2>/dev/null || true)"
    [ "$comm" = java ] || log "warning: client c$i's PID ${CPID[$i]} is '$comm', not java: its RSS is not the JVM's"
done

# ---- 2. services, registered through the clients ------------------------------------------------------------------
catalog_count() {   # services svc-* in server I's catalog
    curl -fsS -m 10 "http://$HOST:${HTTP[$1]}/v1/catalog/services" 2>/dev/null |
        python3 -c 'import json, sys; print(sum(1 for k in json.load(sys.stdin) if k.startswith("svc-")))' \
            2>/dev/null || echo 0
}
log "registering $NSVC services through the $NCLIENTS clients' PUT /v1/agent/service/register (16 connections)"
t_reg=$(now)
python3 "$HERE/register.py" --clients "$CLIENT_LIST" --services "$NSVC" --concurrency 16 \
    >"$OUT/register.txt" 2> >(tee "$OUT/register.log" >&2) || die "registration failed (see $OUT/register.log)"
REG_ACK_S=$(since "$t_reg")
sleep 0.2   # let tee flush
REG_RATE="$(f "$(grep '^RESULT' "$OUT/register.txt")" rate)"
log "all $NSVC registrations acknowledged after $REG_ACK_S s; waiting for them in weft1's catalog"
deadline=$((SECONDS + 300)); report=$((SECONDS + 5))
while :; do
    n="$(catalog_count 0)"
    [ "$n" -lt "$NSVC" ] || break
    servers_alive
    [ "$SECONDS" -lt "$deadline" ] || die "weft1's catalog lists $n of $NSVC services after 300 s"
    if [ "$SECONDS" -ge "$report" ]; then log "  weft1's catalog: $n/$NSVC"; report=$((SECONDS + 5)); fi
    sleep 0.5
done
REG_ALL_S=$(since "$t_reg")
log "weft1's catalog lists all $NSVC services $REG_ALL_S s after the first registration"
LAST_NAME="svc-$NSVC.service.weft."
LAST_IP="127.0.$((NSVC >> 8 & 255)).$((NSVC & 255))"
log "waiting until every client's DNS answers $LAST_NAME (its local view has caught up)"
for ((i = 1; i <= NCLIENTS; i++)); do
    python3 "$DNSDIR/dnsprobe.py" wait "$HOST:${CDNS[$i]}" "$LAST_NAME" A "$LAST_IP" --timeout 60 ||
        die "client c$i's DNS does not answer $LAST_NAME (see $OUT/clients/c$i.log)"
done

# ---- 3. memory --------------------------------------------------------------------------------------------------
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || true; }
rss() {   # rss LABEL: sets CRSS ("min median max" MiB of the clients) and SRSS (the servers'); all in rss-LABEL.tsv
    local i
    {
        for i in 0 1 2; do printf 'weft%d\t%s\t%s\n' $((i + 1)) "${SPID[$i]}" "$(rss_mib "${SPID[$i]}")"; done
        for ((i = 1; i <= NCLIENTS; i++)); do printf 'c%d\t%s\t%s\n' "$i" "${CPID[$i]}" "$(rss_mib "${CPID[$i]}")"; done
    } >"$OUT/rss-$1.tsv"
    CRSS="$(grep '^c' "$OUT/rss-$1.tsv" | cut -f3 | grep . | sort -g |
        awk '{ v[NR] = $1 } END { if (NR) printf "%.0f %.0f %.0f %d", v[1], NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[NR], NR }')"
    SRSS="$(for i in 0 1 2; do printf '%s %.0f · ' "$(mark "$i")" "$(sed -n "$((i + 1))p" "$OUT/rss-$1.tsv" | cut -f3)"; done)"
    SRSS="${SRSS% · } MiB"
}
rss registered
read -r RSS_MIN RSS_MED RSS_MAX RSS_N <<<"$CRSS"
RSS1="min $RSS_MIN / median $RSS_MED / max $RSS_MAX MiB ($RSS_N clients)"; SRSS1="$SRSS"
log "RSS: clients $RSS1; servers $SRSS1"

# ---- 4. propagation: a write on the leader until every client answers it -------------------------------------------
L="$(leader_idx)" || die "no leader"
PROP_L="$L"
log "propagation: $NWARM warm-up + $NTRIALS trials; PUT /v1/kv/bench/prop on the leader weft$((L + 1)), one ?stale" \
    "blocking query per client"
prop_rc=0
clients_ticks() { local i t=0; for ((i = 1; i <= NCLIENTS; i++)); do t=$((t + $(cpu_ticks "${CPID[$i]}"))); done; echo "$t"; }
servers_ticks() { echo $(($(cpu_ticks "${SPID[0]}") + $(cpu_ticks "${SPID[1]}") + $(cpu_ticks "${SPID[2]}"))); }
PROP_C0="$(clients_ticks)" PROP_S0="$(servers_ticks)" PROP_T0="$(now)"
GROUPS_LIST="$(for ((i = 1; i <= NCLIENTS; i++)); do printf 'weft%s,' $(( (i - 1) % 3 + 1 )); done)"
python3 "$HERE/propagation.py" --leader "$HOST:${HTTP[$L]}" --clients "$CLIENT_LIST" --groups "$GROUPS_LIST" \
    --servers "weft1=$HOST:${HTTP[0]},weft2=$HOST:${HTTP[1]},weft3=$HOST:${HTTP[2]}" --trials "$NTRIALS" --warmup "$NWARM" --tsv "$OUT/propagation.tsv" >"$OUT/propagation.txt" 2> >(tee "$OUT/propagation.log" >&2) || prop_rc=$?
sleep 0.2
PROP_C1="$(clients_ticks)" PROP_S1="$(servers_ticks)"
PROP="$(grep '^RESULT' "$OUT/propagation.txt" || true)"
# CPU per write: all the clients' and all the servers' CPU during the phase, divided by its writes (warm-up included)
PROP_CPU="$(awk -v c="$((PROP_C1 - PROP_C0))" -v s="$((PROP_S1 - PROP_S0))" -v n="$((NTRIALS + NWARM))" -v t="$TICK" \
    -v k="$NCLIENTS" -v secs="$(since "$PROP_T0")" 'BEGIN { printf "clients %.1f ms in all (%.2f ms each), servers %.1f ms in all (%d writes in %.0f s)", c * 1000 / t / n, c * 1000 / t / n / k, s * 1000 / t / n, n, secs }')"
[ -n "$PROP" ] || die "propagation.py printed no result (see $OUT/propagation.log)"

# ---- 5. DNS: a follower vs a client, alternating ------------------------------------------------------------------
servers_alive
L="$(leader_idx)" || die "no leader"
F=0; [ "$F" != "$L" ] || F=1
QFILE="$WORK/queries.txt"
awk -v n="$NSVC" 'BEGIN { srand(42); for (i = 0; i < 100000; i++) printf "svc-%d.service.weft A\n", 1 + int(rand() * n) }' \
    >"$QFILE"
for hp in "$HOST:${DNS[$F]}" "$HOST:${CDNS[1]}"; do
    python3 "$DNSDIR/dnsprobe.py" wait "$hp" "$LAST_NAME" A "$LAST_IP" --timeout 30 || die "$hp does not answer $LAST_NAME"
done
pf() { sed -n "s/^ *$1 *\([0-9.]*\).*/\1/p" "$2" | head -n1; }
dnsperf_run() {   # dnsperf_run PORT SECONDS LOGFILE [RATE]: sets RUN_QPS RUN_DONE RUN_LOST RUN_AVG_MS
    dnsperf -s "$HOST" -p "$1" -d "$QFILE" -l "$2" -c 16 -q 500 ${4:+-Q "$4"} >"$3" 2>&1 || die "dnsperf failed (see $3)"
    grep -q 'Queries per second' "$3" || die "dnsperf printed no statistics (see $3)"
    RUN_QPS="$(pf 'Queries per second:' "$3")"
    RUN_DONE="$(pf 'Queries completed:' "$3")"
    RUN_LOST="$(pf 'Queries lost:' "$3")"
    RUN_AVG_MS="$(awk -v a="$(pf 'Average Latency (s):' "$3")" 'BEGIN { printf "%.2f", a * 1000 }')"
}
declare -A DPORT=([server]="${DNS[$F]}" [client]="${CDNS[1]}")
declare -A DPID=([server]="${SPID[$F]}" [client]="${CPID[1]}")
declare -A DNAME=([server]="weft$((F + 1)) (follower)" [client]="c1 (client of weft1)")
declare -A QPS=([server]="" [client]="")
log "DNS: dnsperf -c 16 -q 500, $(wc -l <"$QFILE") random svc-N A queries; ${WARMUP}s warm-up on each, not reported"
for who in server client; do dnsperf_run "${DPORT[$who]}" "$WARMUP" "$OUT/dnsperf-warmup-$who.log"; done
for ((r = 1; r <= DNS_ROUNDS; r++)); do
    for who in server client; do
        log "  round $r: ${DNAME[$who]}, DNS port ${DPORT[$who]}, ${SECS}s"
        dnsperf_run "${DPORT[$who]}" "$SECS" "$OUT/dnsperf-$who-$r.log"
        log "    → $(printf '%.0f' "$RUN_QPS") qps, mean $RUN_AVG_MS ms, lost $RUN_LOST"
        QPS[$who]+=" $RUN_QPS"
    done
done
# shellcheck disable=SC2086
QPS_S="$(median ${QPS[server]})"
# shellcheck disable=SC2086
QPS_C="$(median ${QPS[client]})"
DNS_RATIO="$(awk -v c="$QPS_C" -v s="$QPS_S" 'BEGIN { if (s > 0) printf "%.2f", c / s; else print "?" }')"
runs() { local out="" q; for q in $1; do out+="${out:+, }$(printf '%.0f' "$q")"; done; echo "$out"; }

# The qps above is what dnsperf and the agent reach together on this machine's cores, so it varies ±10-15 % run to
# run. The agent's own CPU per answered query at a fixed rate both can sustain is steadier: each round measures
# the agent's background CPU for 5 s, then its CPU over a run at DNS_RATE queries/s, and charges the difference.
declare -A USPQ=([server]="" [client]="")
log "DNS CPU per query: dnsperf -Q $DNS_RATE, ${SECS}s per run, alternating; the agent's background CPU subtracted"
for ((r = 1; r <= DNS_ROUNDS; r++)); do
    for who in server client; do
        pid="${DPID[$who]}"
        b0=$(cpu_ticks "$pid"); t0=$(now); sleep 5; b1=$(cpu_ticks "$pid"); bdt=$(since "$t0")
        t0=$(now)
        dnsperf_run "${DPORT[$who]}" "$SECS" "$OUT/dnsperf-rate-$who-$r.log" "$DNS_RATE"
        c1=$(cpu_ticks "$pid"); rdt=$(since "$t0")
        us="$(awk -v b=$((b1 - b0)) -v bt="$bdt" -v c=$((c1 - b1)) -v rt="$rdt" -v k="$TICK" -v q="$RUN_DONE" \
            'BEGIN { x = (c - b * rt / bt) / k / q * 1e6; printf "%.1f", x < 0 ? 0 : x }')"
        log "  round $r: ${DNAME[$who]}: $(printf '%.0f' "$RUN_QPS") qps, $us µs of CPU per query" \
            "(background $(awk -v b=$((b1 - b0)) -v t="$bdt" -v k="$TICK" 'BEGIN { printf "%.0f", b * 1000 / k / t }') ms/s)"
        USPQ[$who]+=" $us"
    done
done
# shellcheck disable=SC2086
US_S="$(median_fmt %.1f ${USPQ[server]})"
# shellcheck disable=SC2086
US_C="$(median_fmt %.1f ${USPQ[client]})"
CPU_RATIO="$(awk -v c="$US_C" -v s="$US_S" 'BEGIN { if (c > 0) printf "%.2f", s / c; else print "?" }')"

# ---- 6. server CPU with the clients attached: idle, then under a steady write load ------------------------------------
internal_count() {   # internal_count I FILE: completed /v1/internal requests in server I's metrics (empty: none)
    local lines
    lines="$(curl -fsS -m 5 "http://$HOST:${HTTP[$1]}/v1/agent/metrics?format=prometheus" 2>/dev/null |
        grep '/v1/internal' || true)"
    printf '%s\n' "$lines" >"$2"
    printf '%s\n' "$lines" | awk '/^weft_http_requests_seconds_count/ { s += $NF; n++ } END { if (n) printf "%.0f", s }'
}
declare -A CPU FEED
cpu_phase() {   # cpu_phase idle|writes: sets CPU[phase], FEED[phase]
    local ph=$1 i t0 dt c0=() c1=() m0=() m1=() cpu="" feed=""
    L="$(leader_idx)" || die "no leader"
    for i in 0 1 2; do m0[i]="$(internal_count "$i" "$OUT/metrics-$ph-start-weft$((i + 1)).txt")"; done
    for i in 0 1 2; do c0[i]=$(cpu_ticks "${SPID[$i]}"); done
    t0=$(now)
    if [ "$ph" = writes ]; then
        python3 "$HERE/writer.py" --http "$HOST:${HTTP[$L]}" --rate "$WRITE_RATE" --seconds "$CPU_SECS" \
            >"$OUT/writer.txt" 2>&1 || log "warning: some writes failed (see $OUT/writer.txt)"
    else
        sleep "$CPU_SECS"
    fi
    for i in 0 1 2; do c1[i]=$(cpu_ticks "${SPID[$i]}"); done
    dt=$(since "$t0")
    for i in 0 1 2; do m1[i]="$(internal_count "$i" "$OUT/metrics-$ph-end-weft$((i + 1)).txt")"; done
    for i in 0 1 2; do
        cpu+="$(mark "$i") $(awk -v d=$((c1[i] - c0[i])) -v k="$TICK" -v t="$dt" 'BEGIN { printf "%.1f", d * 100 / k / t }') % · "
        if [ -n "${m0[i]}" ] && [ -n "${m1[i]}" ]; then
            feed+="$(mark "$i") $(awk -v a="${m0[i]}" -v b="${m1[i]}" -v t="$dt" 'BEGIN { printf "%.1f", (b - a) / t }')/s · "
        else
            feed+="$(mark "$i") n/a · "
        fi
        log "  weft$((i + 1)) /v1/internal metrics at the end:"
        if grep -q . "$OUT/metrics-$ph-end-weft$((i + 1)).txt"; then
            sed 's/^/      /' "$OUT/metrics-$ph-end-weft$((i + 1)).txt" >&2
        else
            echo "      (none)" >&2
        fi
    done
    CPU[$ph]="${cpu% · }"
    FEED[$ph]="${feed% · }"
    log "  CPU (% of one core): ${CPU[$ph]}; /v1/internal requests: ${FEED[$ph]}"
}
servers_alive
log "server CPU, ${CPU_SECS}s idle with $NCLIENTS clients attached"
cpu_phase idle
log "server CPU, ${CPU_SECS}s of $WRITE_RATE KV writes/s to the leader"
cpu_phase writes
WRITER="$(grep '^RESULT' "$OUT/writer.txt" || true)"

# ---- 7. summary -----------------------------------------------------------------------------------------------------
servers_alive
rss end
read -r RSS2_MIN RSS2_MED RSS2_MAX RSS2_N <<<"$CRSS"
alive=0; for ((i = 1; i <= NCLIENTS; i++)); do ! kill -0 "${CPID[$i]}" 2>/dev/null || alive=$((alive + 1)); done
L_END="$(leader_idx)" && L_END="weft$((L_END + 1))" || L_END="?"
RSS_WORST="$(printf '%s\n' "$RSS_MAX" "$RSS2_MAX" | sort -g | tail -n1)"
{
    echo
    echo "$HEADER"
    echo "leader: weft$((L_START + 1)) at the start, $L_END at the end" \
        "(* = leader when measured); clients alive at the end: $alive/$NCLIENTS"
    echo
    echo "| measure | result | target | |"
    echo "|---|---|---|---|"
    echo "| client RSS after registering | $RSS1 | ≤ $RSS_TARGET MiB | $(verdict "$RSS_MAX" le "$RSS_TARGET") |"
    echo "| client RSS at the end | min $RSS2_MIN / median $RSS2_MED / max $RSS2_MAX MiB ($RSS2_N clients) | ≤ $RSS_TARGET MiB | $(verdict "$RSS2_MAX" le "$RSS_TARGET") |"
    echo "| server RSS after registering / at the end | $SRSS1 / $SRSS | – | |"
    echo "| client start-up | $NCLIENTS clients know the leader after $CLIENTS_UP_S s (batches of $BATCH) | – | |"
    echo "| $NSVC agent registrations through the clients | all acknowledged after $REG_ACK_S s (${REG_RATE:-?}/s, 16 connections); all in weft1's catalog after $REG_ALL_S s | – | |"
    echo "| write → visible on the last of $NCLIENTS clients | p50 $(f "$PROP" last_p50_ms) / p99 $(f "$PROP" last_p99_ms) / max $(f "$PROP" last_max_ms) ms ($(f "$PROP" trials) trials after $NWARM warm-up, $(f "$PROP" timeouts) timeouts) | p99 < $PROP_TARGET ms | $(verdict "$(f "$PROP" last_p99_ms)" lt "$PROP_TARGET") |"
    echo "| write → visible on the median client | p50 $(f "$PROP" med_p50_ms) / p99 $(f "$PROP" med_p99_ms) / max $(f "$PROP" med_max_ms) ms | – | |"
    while read -r _ g rest; do
        lead=""; [ "${g#server-}" != "weft$((PROP_L + 1))" ] || lead=", the leader"
        case "$g" in
            server-*) what="on the server ${g#server-}$lead itself" ;;
            *) what="on a client of $g$lead (every answer)" ;;
        esac
        echo "| write → visible $what | p50 $(f "$rest" p50_ms) / p99 $(f "$rest" p99_ms) / max $(f "$rest" max_ms) ms | – | |"
    done < <(grep '^GROUP' "$OUT/propagation.txt")
    echo "| CPU per write during the propagation trials | $PROP_CPU | – | |"
    echo "| leader's PUT acknowledgement | p50 $(f "$PROP" ack_p50_ms) / p99 $(f "$PROP" ack_p99_ms) ms | – | |"
    echo "| DNS qps, server ${DNAME[server]} | median $QPS_S (runs $(runs "${QPS[server]}")) | – | |"
    echo "| DNS qps, client ${DNAME[client]} | median $QPS_C (runs $(runs "${QPS[client]}")); client ÷ server ${DNS_RATIO}× | ≥ ${DNS_TARGET}× | $(verdict "$DNS_RATIO" ge "$DNS_TARGET") |"
    echo "| DNS CPU per query at $DNS_RATE queries/s, server ${DNAME[server]} | median $US_S µs (runs ${USPQ[server]# }) | – | |"
    echo "| DNS CPU per query at $DNS_RATE queries/s, client ${DNAME[client]} | median $US_C µs (runs ${USPQ[client]# }); server ÷ client ${CPU_RATIO}× | ≥ ${DNS_TARGET}× | $(verdict "$CPU_RATIO" ge "$DNS_TARGET") |"
    echo "| server CPU, idle, $NCLIENTS clients attached | ${CPU[idle]} | – | |"
    echo "| /v1/internal requests/s, idle | ${FEED[idle]} | – | |"
    echo "| server CPU, $(f "$WRITER" rate) KV writes/s to the leader (asked $WRITE_RATE; PUT p50 $(f "$WRITER" p50_ms) ms) | ${CPU[writes]} | – | |"
    echo "| /v1/internal requests/s, under writes | ${FEED[writes]} | – | |"
    echo
    echo "RSS = VmRSS of each JVM (/proc/<pid>/status). write → visible: PUT /v1/kv/bench/prop on the leader (t0 = just"
    echo "before it is sent) until a ?stale blocking query on the client answers the new value, one query in flight"
    echo "per client. DNS: dnsperf -c 16 -q 500, ${SECS}s per run, server and client alternating $DNS_ROUNDS times after ${WARMUP}s"
    echo "of warm-up each; target = no measurable slowdown on clients (≥ ${DNS_TARGET}× the server's qps). DNS CPU per query:"
    echo "the agent's user+system CPU during a dnsperf -Q $DNS_RATE run, less its background CPU measured just before,"
    echo "÷ answered queries; server ÷ client ≥ ${DNS_TARGET}× means the client needs at most ~5 % more CPU per query. Server CPU in"
    echo "% of one core over ${CPU_SECS}s (/proc/<pid>/stat); /v1/internal = completed feed/apply/barrier requests"
    echo "(weft_http_requests_seconds_count, path group /v1/internal), n/a when the metrics lack them."
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (before: $LOAD_BEFORE); worst client RSS $RSS_WORST MiB"
} | tee "$OUT/summary.txt"
log "record this table in docs/PERFORMANCE.md, with the command: $CMDLINE"
[ "$prop_rc" -eq 0 ] || die "some clients never saw a write or answered with an error (see $OUT/propagation.log)"
[ "$alive" -eq "$NCLIENTS" ] || die "$((NCLIENTS - alive)) clients exited during the run (see $OUT/clients/)"
