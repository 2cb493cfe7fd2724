#!/usr/bin/env bash
# Registration-to-answer latency: 3 weft servers on loopback; services registered one at a time through the
# HTTP API of agent 1, each followed by polling agent 2's DNS server until the new name answers. Prints
# p50/p99/max. See bench/README.md. Results also in bench/out/reg-<time>/.
#
# Environment:
#   BENCH_REGISTRATIONS  measured registrations (default 200)
#   BENCH_WARMUP_REGS    registrations before those, not reported (default 20)
#   BENCH_REG_API        catalog (PUT /v1/catalog/register, default) or agent (PUT /v1/agent/service/register)
#   BENCH_REG_AGENT      agent (1-3) whose HTTP API registers (default "follower": a follower, which forwards
#                        the write to the leader)
#   BENCH_DNS_AGENT      agent (1-3) whose DNS server is polled (default "follower": the other follower)
#   BENCH_POLL_MS        pause between DNS polls in ms (default 1; 0 = back to back, one query in flight)
#   WEFT_JAVA_OPTS       JVM options for the weft servers (default "-Xmx512m")
#   BENCH_PORT_BASE      first of the loopback ports used (default 24100: HTTP +1..3, Raft +11..13, DNS +21..23)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COUNT="${BENCH_REGISTRATIONS:-200}"
WARM="${BENCH_WARMUP_REGS:-20}"
API="${BENCH_REG_API:-catalog}"
REG_AGENT="${BENCH_REG_AGENT:-follower}"
DNS_AGENT="${BENCH_DNS_AGENT:-follower}"
POLL_MS="${BENCH_POLL_MS:-1}"
export WEFT_JAVA_OPTS="${WEFT_JAVA_OPTS:--Xmx512m}"
PORT_BASE="${BENCH_PORT_BASE:-24100}"
HOST=127.0.0.1
DNSDIR="$ROOT/bench/dns"

. "$ROOT/bench/lib.sh"
bench_setup "reg-" "weft-regbench"

case "$API" in catalog | agent) ;; *) die "BENCH_REG_API must be catalog or agent" ;; esac
for a in "$REG_AGENT" "$DNS_AGENT"; do
    case "$a" in 1 | 2 | 3 | follower) ;; *) die "BENCH_REG_AGENT and BENCH_DNS_AGENT must be 1, 2, 3 or follower" ;; esac
done
for t in curl python3 ss; do command -v "$t" >/dev/null || die "missing $t"; done

HTTP=($((PORT_BASE + 1)) $((PORT_BASE + 2)) $((PORT_BASE + 3)))
RAFT=($((PORT_BASE + 11)) $((PORT_BASE + 12)) $((PORT_BASE + 13)))
DNS=($((PORT_BASE + 21)) $((PORT_BASE + 22)) $((PORT_BASE + 23)))
for p in "${HTTP[@]}" "${RAFT[@]}" "${DNS[@]}"; do
    if (exec 3<>"/dev/tcp/$HOST/$p") 2>/dev/null || [ -n "$(ss -Huan "sport = :$p" 2>/dev/null)" ]; then
        die "port $p on $HOST is in use (set BENCH_PORT_BASE)"
    fi
done

log "building agent/target/weft.jar if needed"
"$ROOT/weft" version >/dev/null || die "cannot build or run weft"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
HEADER="registration-to-answer, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $LOAD_BEFORE
weft: $("$ROOT/weft" version 2>/dev/null | head -n1) ($(java -version 2>&1 | head -n1); $WEFT_JAVA_OPTS)"
echo "$HEADER" >&2

log "starting 3 weft servers (HTTP ${HTTP[*]}, Raft ${RAFT[*]}, DNS ${DNS[*]})"
for i in 0 1 2; do weft_server "$i" -registrator=false; done

deadline=$((SECONDS + 120))
until weft_cluster_healthy >/dev/null 2>&1; do
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "a weft server exited (see $OUT/weft*.log)"; done
    [ "$SECONDS" -lt "$deadline" ] || die "weft cluster (leader, KV write, DNS NXDOMAIN on all 3) not ready after 120s"
    sleep 0.5
done
leader_no() {   # 1-3, the agent that leads (from agent 1's view)
    local l i
    l="$(curl -fsS -m 2 "http://$HOST:${HTTP[0]}/v1/status/leader" | tr -d '"')"
    for i in 0 1 2; do [ "${l##*:}" = "${RAFT[$i]}" ] && { echo $((i + 1)); return; }; done
    echo "?"
}
LEADER_START="$(leader_no)"
log "cluster ready; leader: agent $LEADER_START"
role() { if [ "$1" = "$LEADER_START" ]; then echo leader; else echo follower; fi; }
followers=(); for i in 1 2 3; do [ "$i" = "$LEADER_START" ] || followers+=("$i"); done
[ "$REG_AGENT" != follower ] || REG_AGENT="${followers[0]}"
if [ "$DNS_AGENT" = follower ]; then
    DNS_AGENT="${followers[1]}"; [ "$DNS_AGENT" != "$REG_AGENT" ] || DNS_AGENT="${followers[0]}"
fi
[ "$REG_AGENT" != "$DNS_AGENT" ] || log "note: registering and polling on the same agent ($REG_AGENT)"

rta() {   # rta PREFIX COUNT [extra args]
    python3 "$DNSDIR/reg_to_answer.py" --http "$HOST:${HTTP[$((REG_AGENT - 1))]}" \
        --dns "$HOST:${DNS[$((DNS_AGENT - 1))]}" --api "$API" --poll-ms "$POLL_MS" --prefix "$1" --count "$2" "${@:3}"
}
if [ "$WARM" -gt 0 ]; then
    log "warm-up: $WARM registrations (not reported)"
    rta warm "$WARM" >"$OUT/warmup.txt" 2>&1 || { cat "$OUT/warmup.txt" >&2; die "warm-up registrations failed"; }
fi
log "measuring: $COUNT registrations through agent $REG_AGENT's HTTP API ($API; $(role "$REG_AGENT")), polling" \
    "agent $DNS_AGENT's DNS ($(role "$DNS_AGENT")) every ${POLL_MS} ms"
rc=0
rta r2a "$COUNT" --tsv "$OUT/registrations.tsv" >"$OUT/result.txt" 2> >(tee "$OUT/progress.log" >&2) || rc=$?
sleep 0.2
line="$(grep '^RESULT' "$OUT/result.txt" || true)"
[ -n "$line" ] || die "reg_to_answer.py printed no result (see $OUT/result.txt, $OUT/progress.log)"
LEADER_END="$(leader_no)"
f() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }

{
    echo
    echo "$HEADER"
    echo "3 servers on $HOST; register through agent $REG_AGENT, a $(role "$REG_AGENT") ($API API: $( [ "$API" = catalog ] &&
        echo 'PUT /v1/catalog/register' || echo 'PUT /v1/agent/service/register')), poll the DNS server of agent" \
        "$DNS_AGENT, a $(role "$DNS_AGENT") (UDP, every $POLL_MS ms); leader: agent $LEADER_START at the start," \
        "agent $LEADER_END at the end"
    echo
    echo "| registrations | HTTP ack p50 ms | ack p99 ms | answer p50 ms | answer p90 ms | answer p99 ms | answer max ms | answered at ack | timeouts |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    echo "| $(f n)/$COUNT | $(f ack_p50_ms) | $(f ack_p99_ms) | $(f answer_p50_ms) | $(f answer_p90_ms) | $(f answer_p99_ms) | $(f answer_max_ms) | $(f at_ack) | $(f timeouts) |"
    echo
    echo "answer = from sending the HTTP registration to the first DNS answer with the address on agent $DNS_AGENT;"
    echo "answered at ack = registrations whose first DNS poll after the HTTP 200 already had the answer."
    echo "Before each registration one query for the new name must be NXDOMAIN: $(f pre_not_nxdomain) were not."
    echo "HTTP errors: $(f http_errors). Target: answer p99 < 100 ms."
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (before: $LOAD_BEFORE)"
} | tee "$OUT/table.md"
[ "$rc" -eq 0 ] || die "some registrations failed or never answered (see $OUT/progress.log, $OUT/registrations.tsv)"
