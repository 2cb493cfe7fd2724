#!/usr/bin/env bash
# Coverage-guided fuzzing of weft's input parsers with Jazzer, SECONDS per target (default 300).
#
#   bench/fuzz.sh            # 7 targets x 300 s (about 40 minutes)
#   bench/fuzz.sh 20         # a quick pass; .ci/run runs this with 10
#   FUZZ_TARGETS='QueryFuzzTest#queryPacket' bench/fuzz.sh 600     # one target (or a comma-separated list)
#
# Each target runs in its module's surefire JVM with JAZZER_FUZZ=1 (Jazzer fuzzes only one @FuzzTest per JVM, so
# the targets run in rounds: one target of each module per Maven invocation). A crash fails the run and Jazzer
# writes the crashing input into the target's src/test/resources/<package>/<Class>Inputs/<method>/ directory, where
# it becomes a regression input of every later `./mvnw verify`: fix the bug, keep the file, commit both. The
# generated corpus is kept in <module>/.cifuzz-corpus/ (git-ignored) and reused by the next run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SECONDS_PER_TARGET="${1:-300}"
[[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/fuzz.sh [SECONDS per target]" >&2; exit 2; }
MVN_FLAGS=(${FUZZ_MVN_FLAGS:--o -q})

# module:Class#method, in rounds (a module appears at most once per round)
ROUNDS=(
    "dns:QueryFuzzTest#queryPacket agent:HttpRequestFuzzTest#rawConnection runtime:EventStreamFuzzTest#chunkedEventStream net-plugin:CniConfigFuzzTest#networkConfig cni:JsonFuzzTest#topLevelStrings"
    "agent:HttpRequestFuzzTest#requestTarget runtime:EventStreamFuzzTest#framingIgnoresSplitPoints"
)
log() { printf '[%s] fuzz: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

selected() {
    [ -z "${FUZZ_TARGETS:-}" ] && return 0
    local t
    IFS=',' read -ra wanted <<< "$FUZZ_TARGETS"
    for t in "${wanted[@]}"; do [ "$t" = "$1" ] && return 0; done
    return 1
}

total=0
for round in "${ROUNDS[@]}"; do
    for entry in $round; do selected "${entry#*:}" && total=$((total + 1)); done
done
[ "$total" -gt 0 ] || { echo "fuzz: no target matches FUZZ_TARGETS=$FUZZ_TARGETS" >&2; exit 2; }

started=$(date +%s)
done_count=0
failed=()
for round in "${ROUNDS[@]}"; do
    modules=() tests=()
    for entry in $round; do
        selected "${entry#*:}" || continue
        modules+=("${entry%%:*}")
        tests+=("${entry#*:}")
    done
    [ "${#tests[@]}" -gt 0 ] || continue
    log "[$((done_count + 1))-$((done_count + ${#tests[@]}))/$total] ${tests[*]}: ${SECONDS_PER_TARGET} s each, one module after the other"
    pl=$(IFS=,; echo "${modules[*]}")
    tl=$(IFS=,; echo "${tests[*]}")
    round_started=$(date +%s)
    # jazzer.internal.arg.0 is argv[0]; the libFuzzer flag after it overrides the annotation's maxDuration.
    JAZZER_FUZZ=1 ./mvnw "${MVN_FLAGS[@]}" -fn -pl "$pl" -am test -Dtest="$tl" -Dsurefire.failIfNoSpecifiedTests=false \
        -Djazzer.hooks=true -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-max_total_time="$SECONDS_PER_TARGET" \
        || true
    # one verdict per target, from its surefire report (a module after a failed one may not have run)
    for i in "${!tests[@]}"; do
        report=$(ls "${modules[$i]}"/target/surefire-reports/TEST-*."${tests[$i]%%#*}".xml 2>/dev/null | head -n1)
        if [ -z "$report" ] || [ "$(stat -c %Y "$report")" -lt "$round_started" ]; then
            verdict="did not run"
        elif head -n3 "$report" | grep -q 'errors="0"' && head -n3 "$report" | grep -q 'failures="0"'; then
            verdict=ok
        else
            verdict="FAILED (a finding: $report)"
        fi
        log "${tests[$i]}: $verdict"
        [ "$verdict" = ok ] || failed+=("${tests[$i]}")
    done
    done_count=$((done_count + ${#tests[@]}))
done

new_inputs=$(git status --porcelain --untracked-files=all -- '*/src/test/resources/*Inputs/*' || true)
if [ -n "$new_inputs" ]; then
    log "new or changed inputs (crashes to fix and keep as regression inputs):"
    printf '%s\n' "$new_inputs" >&2
fi
log "$total target(s) in $(( $(date +%s) - started )) s; failed: ${failed[*]:-none}"
[ "${#failed[@]}" -eq 0 ]
