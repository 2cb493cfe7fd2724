#!/usr/bin/env bash
# The long chaos profile (not in CI): RUNS runs x SECONDS s of nemesis each (default 20 x 300), alternating 3 and
# 5 servers, every fault kind many times, with the same checkers as the CI profile (chaos-tests/ChaosIT).
# Prints one line per fault and a summary table; results (per-run report, history, member logs of failing runs)
# go to bench/out/chaos-long-<time>/. Record the summary in docs/RELIABILITY.md.
#
#   bench/chaos-long.sh                      # 20 x 300 s, seed from the clock (printed)
#   RUNS=4 SECONDS_PER_RUN=120 SEED=42 bench/chaos-long.sh
#
# Needs the Toxiproxy server: go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0 (or TOXIPROXY_SERVER).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

RUNS=${RUNS:-20}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-300}
SERVERS=${SERVERS:-3,5}
SEED=${SEED:-$(date +%s)}
bench_setup chaos-long- weft-chaos

export PATH="$PATH:/usr/local/go/bin"
if [ -z "${TOXIPROXY_SERVER:-}" ] && command -v go >/dev/null && [ -x "$(go env GOPATH)/bin/server" ]; then
    export TOXIPROXY_SERVER="$(go env GOPATH)/bin/server"
fi

log "building the agent jar and the harness"
(cd "$ROOT" && ./mvnw -q -B -ntp -pl chaos-tests -am package -DskipTests \
    dependency:build-classpath -Dmdep.outputFile="$WORK/cp" -Dmdep.includeScope=compile) >"$OUT/build.log" 2>&1 \
    || die "build failed, see $OUT/build.log"

# Private copies: rebuilding the tree during a long run must not change what the run forks.
cp "$ROOT/agent/target/weft.jar" "$WORK/weft.jar"
cp -r "$ROOT/chaos-tests/target/classes" "$WORK/classes"
log "chaos: $RUNS runs x $SECONDS_PER_RUN s, servers $SERVERS, seed $SEED"
: >"$OUT/chaos.log"   # exists before tail follows it
java -cp "$WORK/classes:$(cat "$WORK/cp")" dev.weft.chaos.harness.ChaosMain \
    --runs "$RUNS" --seconds "$SECONDS_PER_RUN" --servers "$SERVERS" --seed "$SEED" --out "$OUT" \
    --weft-jar "$WORK/weft.jar" >"$OUT/chaos.log" 2>&1 &
java_pid=$!
PIDS+=("$java_pid")
tail -n +1 -f --pid="$java_pid" "$OUT/chaos.log" | grep --line-buffered -v '^SLF4J' || true
rc=0
wait "$java_pid" || rc=$?
[ -f "$OUT/summary.txt" ] || die "no summary written (exit $rc); see $OUT/chaos.log"
log "summary: $OUT/summary.txt"
[ "$rc" = 0 ] || die "some runs failed (exit $rc): their reports, histories and member logs are under $OUT"
