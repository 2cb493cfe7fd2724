#!/usr/bin/env bash
# The memory floor of a client agent's libraries (issue 8): how much RSS a JVM started with the launcher's client
# options (agent/client-jvm.options, MALLOC_ARENA_MAX=2, weft.jar on the class path) uses before any of weft runs.
# bench/floor/Floor.java loads and uses only the named parts: a Netty HTTP server on epoll, Jackson databind,
# a Micrometer Prometheus registry, Micrometer's JVM binders, dnsjava. Each variant adds one part; each is started,
# sent 20 JSON and 20 /metrics requests on 127.0.0.1, left SETTLE seconds, and its VmRSS read. Not a test.
#
# Environment:
#   ROUNDS           runs of each variant (default 3); the median is reported
#   SETTLE           seconds between the requests and the RSS reading (default 8)
#   BENCH_PORT_BASE  the loopback HTTP port of the variants (default 47001)
#   WEFT_CLIENT_JAVA_OPTS  JVM options instead of the launcher's client options
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${ROUNDS:-3}"
SETTLE="${SETTLE:-8}"
PORT="${BENCH_PORT_BASE:-47001}"
HOST=127.0.0.1
. "$ROOT/bench/lib.sh"
for v in ROUNDS SETTLE PORT; do
    case "${!v}" in '' | *[!0-9]*) die "$v must be a positive integer (got '${!v}')" ;; esac
done
command -v curl >/dev/null || bench_install curl
ss -Htln 2>/dev/null | awk '{ print $4 }' | grep -q ":$PORT\$" && die "port $PORT on $HOST is in use (set BENCH_PORT_BASE)"

bench_setup "client-floor-" "weft-floor"
"$ROOT/weft" version >/dev/null # builds agent/target/weft.jar when it is missing or stale
JAR="$ROOT/agent/target/weft.jar"
JAVA="$(command -v java)"
[ -n "${JAVA_HOME:-}" ] && JAVA="$JAVA_HOME/bin/java"
"$(dirname "$(readlink -f "$JAVA")")/javac" -d "$WORK/classes" -cp "$JAR" "$ROOT/bench/floor/Floor.java"
# shellcheck disable=SC2207  # a list of options: split on whitespace on purpose
OPTS=(${WEFT_CLIENT_JAVA_OPTS:-$(sed 's/#.*//' "$ROOT/agent/client-jvm.options")})
export MALLOC_ARENA_MAX=2

VARIANTS=(none netty netty,jackson netty,jackson,metrics netty,jackson,metrics,jvm netty,jackson,metrics,jvm,dns)
LABELS=("a JVM that only sleeps" "+ Netty HTTP server (epoll)" "+ Jackson databind" "+ Micrometer Prometheus registry"
    "+ Micrometer JVM binders (JMX)" "+ dnsjava")
declare -A RSS
for ((r = 1; r <= ROUNDS; r++)); do
    for i in "${!VARIANTS[@]}"; do
        v="${VARIANTS[$i]}"
        out="$WORK/out-$r-$i.txt" # one file per run: a background start may open it after the first check below
        "$JAVA" "${OPTS[@]}" -Xlog:class+load:file="$WORK/classes-$i.txt" -cp "$JAR:$WORK/classes" Floor "$v" "$PORT" \
            >"$out" 2>&1 &
        pid=$!
        PIDS+=("$pid")
        deadline=$((SECONDS + 60))
        until grep -qs ready "$out"; do
            kill -0 "$pid" 2>/dev/null || die "$v exited: $(tail -3 "$out")"
            [ "$SECONDS" -lt "$deadline" ] || die "$v not ready after 60 s"
            sleep 0.2
        done
        if [[ "$v" == *netty* ]]; then
            for _ in $(seq 1 20); do
                curl -fsS -o /dev/null "http://$HOST:$PORT/v1/catalog/services"
                curl -fsS -o /dev/null "http://$HOST:$PORT/metrics"
            done
        fi
        sleep "$SETTLE"
        kb="$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")"
        RSS[$i]="${RSS[$i]:-} $kb"
        CLASSES[$i]="$(grep -vc 'shared objects file' "$WORK/classes-$i.txt" || true)"
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        log "round $r: ${LABELS[$i]}: $((kb / 1024)) MiB, ${CLASSES[$i]} classes outside the CDS archive"
    done
done
median_mib() { printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1024 }'; }
{
    echo "| JVM (launcher's client options, weft.jar on the class path) | RSS, median of $ROUNDS (MiB) | classes outside CDS |"
    echo "|---|---|---|"
    for i in "${!VARIANTS[@]}"; do
        echo "| ${LABELS[$i]} | $(median_mib "${RSS[$i]}") | ${CLASSES[$i]} |"
    done
    echo
    echo "Options: ${OPTS[*]}; MALLOC_ARENA_MAX=2; $("$JAVA" -version 2>&1 | head -1)"
} | tee "$OUT/summary.txt"
log "command: bench/client-floor.sh"
