#!/usr/bin/env bash
# DNS on client agents, one JVM variant per client (issue 8): 1 weft server and one client agent per variant on
# loopback, SERVICES services registered through the first client. Each round runs dnsperf at a fixed rate
# against the server and then each client, and charges each agent the CPU it used beyond its background (measured
# for 5 s just before) per answered query. Prints the median per agent, server ÷ client, and each client's RSS.
# This is how the JIT and heap variants in docs/PERFORMANCE.md ("Client agents") were compared. Not a test.
#
# Environment:
#   VARIANTS         client JVM option sets separated by '|'; an empty set means the launcher's client options
#                    (agent/client-jvm.options). Default: the launcher's options, and the same options without
#                    -XX:TieredStopAtLevel=1 and -XX:CICompilerCount=1 (C1 and C2, the JVM's default tiered JIT).
#   SERVICES         services registered (default 10000)
#   BENCH_DNS_RATE   queries/s of every measured run (default 15000)
#   BENCH_SECONDS    seconds per measured run (default 10; one 5 s warm-up run per agent before)
#   BENCH_DNS_ROUNDS rounds (default 3)
#   BENCH_PORT_BASE  first of the loopback ports (default 27000: server HTTP +1, Raft +2, DNS +3; client i
#                    HTTP +100+i, DNS +200+i)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLIENT_OPTS="$(sed 's/#.*//' "$ROOT/agent/client-jvm.options" | tr -s ' \n' ' ')"
# Default: the launcher's client options against the same options with C2 allowed (the default tiered JIT).
# (Tiered compilation needs at least two compiler threads, so -XX:CICompilerCount=1 goes too.)
VARIANTS="${VARIANTS-|$(sed 's/-XX:TieredStopAtLevel=1//; s/-XX:CICompilerCount=1//' <<<"$CLIENT_OPTS")}"
NSVC="${SERVICES:-10000}"
RATE="${BENCH_DNS_RATE:-15000}"
SECS="${BENCH_SECONDS:-10}"
ROUNDS="${BENCH_DNS_ROUNDS:-3}"
PORT_BASE="${BENCH_PORT_BASE:-27000}"
HOST=127.0.0.1

. "$ROOT/bench/lib.sh"
for v in NSVC RATE SECS ROUNDS PORT_BASE; do
    case "${!v}" in '' | *[!0-9]*) die "$v must be a positive integer (got '${!v}')" ;; esac
done
IFS='|' read -r -a VAR <<<"$VARIANTS"
[ "${#VAR[@]}" -ge 1 ] || VAR=("")
[ "${#VAR[@]}" -le 9 ] || die "at most 9 variants"
command -v dnsperf >/dev/null && command -v curl >/dev/null && command -v python3 >/dev/null \
    || bench_install dnsperf curl python3

SHTTP=$((PORT_BASE + 1)) SRAFT=$((PORT_BASE + 2)) SDNS=$((PORT_BASE + 3))
in_use=" $(ss -Htuln 2>/dev/null | awk '{ n = split($5, a, ":"); print a[n] }' | sort -un | tr '\n' ' ') "
for p in $SHTTP $SRAFT $SDNS $(for i in "${!VAR[@]}"; do echo $((PORT_BASE + 101 + i)) $((PORT_BASE + 201 + i)); done); do
    case "$in_use" in *" $p "*) die "port $p on $HOST is in use (set BENCH_PORT_BASE)" ;; esac
done

bench_setup "dns-client-variants-" "weft-dnsvar"
TICK="$(getconf CLK_TCK)"
cpu_ticks() { local s; s="$(cat "/proc/$1/stat")"; s="${s##*) }"; set -- $s; echo $((${12} + ${13})); }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rss() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

log "weft server on $HOST (HTTP $SHTTP, DNS $SDNS); ${#VAR[@]} client variant(s)"
"$ROOT/weft" agent -server -bootstrap-expect 1 -node s1 -bind "$HOST" -client "$HOST" -data-dir "$WORK/s1" \
    -http-port "$SHTTP" -raft-port "$SRAFT" -dns-port "$SDNS" -dns-addr "$HOST" -registrator=false \
    >"$OUT/s1.log" 2>&1 &
PIDS+=($!); NAME=(server); PID=($!); PORT=("$SDNS")
for i in $(seq 1 300); do curl -fsS -m 1 -X PUT --data x "http://$HOST:$SHTTP/v1/kv/ready" >/dev/null 2>&1 && break
    sleep 0.3; done
for i in "${!VAR[@]}"; do
    h=$((PORT_BASE + 101 + i)) d=$((PORT_BASE + 201 + i))
    WEFT_CLIENT_JAVA_OPTS="${VAR[$i]}" "$ROOT/weft" agent -node "c$((i + 1))" -bind "$HOST" -client "$HOST" \
        -retry-join "$HOST:$SHTTP" -data-dir "$WORK/c$((i + 1))" -http-port "$h" -dns-port "$d" -dns-addr "$HOST" \
        -registrator=false >"$OUT/c$((i + 1)).log" 2>&1 &
    PIDS+=($!); NAME+=("c$((i + 1))"); PID+=($!); PORT+=("$d")
    for t in $(seq 1 300); do
        kill -0 "${PID[-1]}" 2>/dev/null || die "c$((i + 1)) exited (see $OUT/c$((i + 1)).log)"
        [ -n "$(curl -fsS -m 1 "http://$HOST:$h/v1/status/leader" 2>/dev/null | tr -d '"')" ] && break; sleep 0.3
    done
    log "c$((i + 1)): ${VAR[$i]:-the launcher client options}"
done
log "registering $NSVC services through c1"
python3 "$ROOT/bench/clients/register.py" --clients "$HOST:$((PORT_BASE + 101))" --services "$NSVC" \
    --concurrency 8 >"$OUT/register.log" 2>&1 || die "registration failed (see $OUT/register.log)"
for i in "${!PORT[@]}"; do
    for t in $(seq 1 600); do
        [ -n "$(dig +short -p "${PORT[$i]}" @"$HOST" "svc-$NSVC.service.weft" A)" ] && break; sleep 0.5
    done
done
QFILE="$WORK/queries.txt"
awk -v n="$NSVC" 'BEGIN { srand(42); for (i = 0; i < 100000; i++) printf "svc-%d.service.weft A\n", 1 + int(rand() * n) }' >"$QFILE"

run() {   # run INDEX SECONDS: sets US (µs of CPU per answered query, background subtracted) and QPS
    local pid=${PID[$1]} b0 b1 c1 t0 bdt rdt out answered
    b0=$(cpu_ticks "$pid"); t0=$(now); sleep 5; b1=$(cpu_ticks "$pid"); bdt=$(since "$t0")
    t0=$(now)
    out="$(dnsperf -s "$HOST" -p "${PORT[$1]}" -d "$QFILE" -l "$2" -c 16 -q 500 -Q "$RATE" 2>&1)" || die "dnsperf: $out"
    c1=$(cpu_ticks "$pid"); rdt=$(since "$t0")
    answered="$(sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p' <<<"$out")"
    QPS="$(sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p' <<<"$out")"
    US="$(awk -v b=$((b1 - b0)) -v bt="$bdt" -v c=$((c1 - b1)) -v rt="$rdt" -v k="$TICK" -v q="$answered" \
        'BEGIN { x = (c - b * rt / bt) / k / q * 1e6; printf "%.1f", x < 0 ? 0 : x }')"
}
log "warm-up: 5 s per agent at $RATE queries/s"
for i in "${!PID[@]}"; do run "$i" 5; done
declare -A ALL
for r in $(seq 1 "$ROUNDS"); do
    line="round $r:"
    for i in "${!PID[@]}"; do
        run "$i" "$SECS"
        ALL[$i]+=" $US"
        q="$(printf '%.0f' "$QPS")"
        line+=" ${NAME[$i]} $US µs at $q qps;"
    done
    log "$line"
done
{
    echo "DNS CPU per query at $RATE queries/s, ${SECS}s runs, median of $ROUNDS rounds ($NSVC services, $(nproc) cores)"
    echo "command: VARIANTS=${VARIANTS@Q} bench/dns-client-variants.sh"
    # shellcheck disable=SC2086
    us_s="$(median ${ALL[0]})"
    printf '%-8s %10s %16s %8s  %s\n' agent "µs/query" "server÷agent" "RSS MiB" "JVM options"
    printf '%-8s %10s %16s %8s  %s\n' server "$us_s" 1.00 "$(rss "${PID[0]}")" "launcher's server defaults"
    for i in "${!VAR[@]}"; do
        # shellcheck disable=SC2086
        us="$(median ${ALL[$((i + 1))]})"
        printf '%-8s %10s %16s %8s  %s\n' "c$((i + 1))" "$us" \
            "$(awk -v s="$us_s" -v c="$us" 'BEGIN { printf "%.2f", (c > 0 ? s / c : 0) }')" \
            "$(rss "${PID[$((i + 1))]}")" "${VAR[$i]:-launcher client options: $CLIENT_OPTS}"
    done
} | tee "$OUT/summary.txt"
