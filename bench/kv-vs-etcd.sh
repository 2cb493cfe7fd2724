#!/usr/bin/env bash
# Side-by-side KV benchmark: 3 weft servers vs 3 etcd members, all on loopback, same wrk + Lua workload.
# See bench/README.md. Not a test: it measures, prints a table and writes it to bench/out/<time>/.
#
# Environment:
#   BENCH_SECONDS   seconds per measured phase (default 20)
#   BENCH_WARMUP    seconds of unreported PUT warm-up per system (default 45; a third of it for GETs)
#   BENCH_KEYS      distinct keys (default 10000)
#   BENCH_PHASES    which phases to run (default "put1 put16 put64 get-consistent get-default get-stale")
#   BENCH_SYSTEMS   which systems (default "weft etcd3 etcd2")
#   WEFT_JAVA_OPTS  JVM options for the weft servers (default "-Xmx1g")
#   BENCH_PORT_BASE first of the 12 loopback ports used (default 23000)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECS="${BENCH_SECONDS:-20}"
WARMUP="${BENCH_WARMUP:-45}"
NKEYS="${BENCH_KEYS:-10000}"
PHASES="${BENCH_PHASES:-put1 put16 put64 get-consistent get-default get-stale}"
SYSTEMS="${BENCH_SYSTEMS:-weft etcd3 etcd2}"
export WEFT_JAVA_OPTS="${WEFT_JAVA_OPTS:--Xmx1g}"
PORT_BASE="${BENCH_PORT_BASE:-23000}"
LUA="$ROOT/bench/lua/kv.lua"
HOST=127.0.0.1

. "$ROOT/bench/lib.sh"
bench_setup "" "weft-bench"

# ---- tools ------------------------------------------------------------------------------------------------
need_install=()
command -v etcd >/dev/null    || need_install+=(etcd-server)
command -v etcdctl >/dev/null || need_install+=(etcd-client)
command -v wrk >/dev/null     || need_install+=(wrk)
command -v curl >/dev/null    || need_install+=(curl)
command -v jq >/dev/null      || need_install+=(jq)
bench_install "${need_install[@]}"

# ---- ports ------------------------------------------------------------------------------------------------
WEFT_HTTP=($((PORT_BASE + 1)) $((PORT_BASE + 2)) $((PORT_BASE + 3)))
WEFT_RAFT=($((PORT_BASE + 11)) $((PORT_BASE + 12)) $((PORT_BASE + 13)))
ETCD_CLIENT=($((PORT_BASE + 21)) $((PORT_BASE + 22)) $((PORT_BASE + 23)))
ETCD_PEER=($((PORT_BASE + 31)) $((PORT_BASE + 32)) $((PORT_BASE + 33)))
for p in "${WEFT_HTTP[@]}" "${WEFT_RAFT[@]}" "${ETCD_CLIENT[@]}" "${ETCD_PEER[@]}"; do
    if (exec 3<>"/dev/tcp/$HOST/$p") 2>/dev/null; then die "port $p on $HOST is in use (set BENCH_PORT_BASE)"; fi
done
ETCD_ENDPOINTS="http://$HOST:${ETCD_CLIENT[0]},http://$HOST:${ETCD_CLIENT[1]},http://$HOST:${ETCD_CLIENT[2]}"

# ---- start the clusters -------------------------------------------------------------------------------------
WEFT_PIDS=()
ETCD_PIDS=()

start_weft() {
    log "building/starting 3 weft servers (HTTP ${WEFT_HTTP[*]}, Raft ${WEFT_RAFT[*]}, JVM $WEFT_JAVA_OPTS)"
    "$ROOT/weft" version >/dev/null   # builds agent/target/weft.jar if needed, once
    local i j joins
    for i in 0 1 2; do
        joins=()
        for j in 0 1 2; do [ "$i" = "$j" ] || joins+=(-retry-join "$HOST:${WEFT_RAFT[$j]}"); done
        "$ROOT/weft" agent -server -bootstrap-expect 3 "${joins[@]}" -node "weft$((i + 1))" -bind "$HOST" \
            -data-dir "$WORK/weft$((i + 1))" -http-port "${WEFT_HTTP[$i]}" -raft-port "${WEFT_RAFT[$i]}" \
            >"$OUT/weft$((i + 1)).log" 2>&1 &
        PIDS+=($!); WEFT_PIDS+=($!)
    done
}

start_etcd() {
    log "starting 3 etcd members (client ${ETCD_CLIENT[*]}, peer ${ETCD_PEER[*]})"
    local i cluster="e1=http://$HOST:${ETCD_PEER[0]},e2=http://$HOST:${ETCD_PEER[1]},e3=http://$HOST:${ETCD_PEER[2]}"
    for i in 0 1 2; do
        etcd --name "e$((i + 1))" --data-dir "$WORK/etcd$((i + 1))" \
            --listen-client-urls "http://$HOST:${ETCD_CLIENT[$i]}" \
            --advertise-client-urls "http://$HOST:${ETCD_CLIENT[$i]}" \
            --listen-peer-urls "http://$HOST:${ETCD_PEER[$i]}" \
            --initial-advertise-peer-urls "http://$HOST:${ETCD_PEER[$i]}" \
            --initial-cluster "$cluster" --initial-cluster-token weft-bench --initial-cluster-state new \
            --enable-v2=true --logger=zap --log-outputs=stderr \
            >"$OUT/etcd$((i + 1)).log" 2>&1 &
        PIDS+=($!); ETCD_PIDS+=($!)
    done
}

# Leader of weft as "httpPort raftAddress term", from /v1/status/leader (Raft address) and /v1/agent/self.
weft_leader() {
    local p l i term
    for p in "${WEFT_HTTP[@]}"; do
        l="$(curl -fsS -m 2 "http://$HOST:$p/v1/status/leader" 2>/dev/null | tr -d '"')" || continue
        [ -n "$l" ] || continue
        for i in 0 1 2; do
            if [ "$l" = "$HOST:${WEFT_RAFT[$i]}" ] || [ "${l##*:}" = "${WEFT_RAFT[$i]}" ]; then
                term="$(weft_term "${WEFT_HTTP[$i]}")"
                echo "${WEFT_HTTP[$i]} $l ${term:-?}"
                return 0
            fi
        done
    done
    return 1
}

# Raft term of a weft member, from /v1/agent/self (Consul's Stats.raft.term) if the agent reports it.
weft_term() {
    curl -fsS -m 2 "http://$HOST:$1/v1/agent/self" 2>/dev/null |
        jq -r '(.Stats.raft.term // .Stats.Raft.Term // .Stats.raft.Term // empty) | tostring' 2>/dev/null || true
}

# Leader of etcd as "clientPort memberId term", from `etcdctl endpoint status -w fields` (exact 64-bit IDs).
etcd_leader() {
    ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINTS" --command-timeout=3s endpoint status -w fields 2>/dev/null |
        awk -F' : ' '{ gsub(/"/, "") }
            $1 == "MemberID" { m = $2 } $1 == "Leader" { l = $2 } $1 == "RaftTerm" { t = $2 }
            $1 == "Endpoint" { if (m != "" && m == l) { sub(/.*:/, "", $2); print $2, l, t; found = 1; exit } m = "" }
            END { exit !found }'
}

wait_for() {   # wait_for SECONDS DESCRIPTION COMMAND...
    local secs=$1 what=$2 deadline=$((SECONDS + $1))
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || die "$what not ready after ${secs}s (see $OUT/*.log)"
        sleep 0.5
    done
}

weft_healthy() { weft_agreed "${WEFT_HTTP[@]}"; }

etcd_healthy() {
    ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINTS" --command-timeout=3s endpoint health >/dev/null 2>&1 &&
        etcd_leader >/dev/null &&
        curl -fsS -m 5 -X PUT -d value=ok "http://$HOST:${ETCD_CLIENT[0]}/v2/keys/bench-health" >/dev/null
}

has() { case " $SYSTEMS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
if has weft; then start_weft; fi
if has etcd3 || has etcd2; then start_etcd; fi
if has weft; then wait_for 120 "weft cluster" weft_healthy; log "weft healthy: leader $(weft_leader)"; fi
if has etcd3 || has etcd2; then wait_for 60 "etcd cluster" etcd_healthy; log "etcd healthy: leader $(etcd_leader)"; fi

# ---- measuring ------------------------------------------------------------------------------------------------
TICK="$(getconf CLK_TCK)"
# "utime stime ctxsw" summed over the given PIDs: CPU ticks in user and kernel mode, and context switches
# (voluntary + involuntary) of all their threads.
cpu_stats() {
    local pid f u=0 k=0 c=0 t
    for pid in "$@"; do
        f="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
        f="${f##*) }"   # fields after "pid (comm) "
        # shellcheck disable=SC2086
        set -- $f
        u=$((u + ${12})); k=$((k + ${13}))   # utime, stime (fields 14 and 15 of the full line)
        for t in /proc/"$pid"/task/*/status; do
            c=$((c + $(awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' "$t" 2>/dev/null || echo 0)))
        done
    done
    echo "$u $k $c"
}

RESULTS="$OUT/results.tsv"
printf 'phase\tsystem\tconns\trps\tp50_us\tp99_us\terrors\tcpu_pct\tuser_pct\tsys_pct\tcpu_us_per_op\tctxsw_per_op\n' >"$RESULTS"

# run_wrk SYSTEM OP READ CONNS SECONDS → prints BENCHRESULT line fields
run_wrk() {
    local system=$1 op=$2 read=$3 conns=$4 secs=$5 port threads pids
    case "$system" in
        weft) port="$(weft_leader | cut -d' ' -f1)"; pids=("${WEFT_PIDS[@]}") ;;
        etcd3 | etcd2) port="$(etcd_leader | cut -d' ' -f1)"; pids=("${ETCD_PIDS[@]}") ;;
    esac
    [ -n "$port" ] || die "$system: no leader"
    threads=2; [ "$conns" -ge 2 ] || threads=1
    local before after line
    before="$(cpu_stats "${pids[@]}")"
    line="$(BENCH_API=$system BENCH_OP=$op BENCH_READ=$read BENCH_KEYS=$NKEYS BENCH_THREADS=$threads \
        wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s -s "$LUA" "http://$HOST:$port" 2>&1 |
        tee -a "$OUT/wrk.log" | grep '^BENCHRESULT' || true)"
    after="$(cpu_stats "${pids[@]}")"
    [ -n "$line" ] || die "wrk printed no result for $system $op (see $OUT/wrk.log)"
    local b=($before) a=($after) requests
    requests="$(field requests "$line")"
    # CPU in % of one core, summed over the three servers; per operation: CPU time and context switches
    echo "$line" \
        "cpu_pct=$(( (a[0] + a[1] - b[0] - b[1]) * 100 / TICK / secs ))" \
        "user_pct=$(( (a[0] - b[0]) * 100 / TICK / secs ))" \
        "sys_pct=$(( (a[1] - b[1]) * 100 / TICK / secs ))" \
        "cpu_us_per_op=$(( (a[0] + a[1] - b[0] - b[1]) * 1000000 / TICK / (requests > 0 ? requests : 1) ))" \
        "ctxsw_per_op=$(awk -v c=$((a[2] - b[2])) -v r="$requests" 'BEGIN { printf "%.1f", (r > 0 ? c / r : 0) }')"
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# Number of bench keys a system holds (read from one member, locally).
key_count() {
    case "$1" in
        weft) curl -fsS -m 10 "http://$HOST:${WEFT_HTTP[0]}/v1/kv/benchkey?keys&stale" | jq length ;;
        etcd3) ETCDCTL_API=3 etcdctl --endpoints="http://$HOST:${ETCD_CLIENT[0]}" get benchkey --prefix --limit=1 \
            --consistency=s -w json | jq '.count // 0' ;;
        etcd2) curl -fsS -m 10 "http://$HOST:${ETCD_CLIENT[0]}/v2/keys/" |
            jq '[.node.nodes // [] | .[] | select(.key | startswith("/benchkey"))] | length' ;;
    esac
}

# Writes every key once so that reads find them: wrk walks the keys and each thread stops after its share;
# wrk itself only ends at its duration or on SIGINT, so we interrupt it once the keys are all there.
preload() {
    local system=$1 port n=0 wrk_pid deadline=$((SECONDS + 180))
    case "$system" in
        weft) port="$(weft_leader | cut -d' ' -f1)" ;;
        *) port="$(etcd_leader | cut -d' ' -f1)" ;;
    esac
    log "preloading $NKEYS keys into $system"
    BENCH_API=$system BENCH_OP=preload BENCH_KEYS=$NKEYS BENCH_THREADS=2 \
        wrk -t2 -c16 -d180s --timeout 10s -s "$LUA" "http://$HOST:$port" >>"$OUT/wrk.log" 2>&1 &
    wrk_pid=$!
    PIDS+=("$wrk_pid")
    while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$wrk_pid" 2>/dev/null; do
        sleep 1
        n="$(key_count "$system" 2>/dev/null || echo 0)"
        [ "${n:-0}" -lt "$NKEYS" ] || break
    done
    kill -INT "$wrk_pid" 2>/dev/null || true
    wait "$wrk_pid" 2>/dev/null || true
    n="$(key_count "$system" 2>/dev/null || echo 0)"
    [ "${n:-0}" -ge "$NKEYS" ] || die "$system has ${n:-0} of $NKEYS keys after preload"
}

declare -A R   # R[phase,system] = "rps p50_us p99_us errors cpu"
declare -A C   # C[phase,system] = "user+sys cpu_us_per_op ctxsw_per_op"
WEFT_START="" ETCD_START=""
has weft && WEFT_START="$(weft_leader)"
{ has etcd3 || has etcd2; } && ETCD_START="$(etcd_leader)"

if [ "$WARMUP" -gt 0 ]; then
    for s in $SYSTEMS; do
        log "warm-up: $s PUT, 64 connections, ${WARMUP}s (not reported)"
        run_wrk "$s" put "" 64 "$WARMUP" >/dev/null
    done
fi
case " $PHASES " in
    *" get-"*)
        for s in $SYSTEMS; do
            preload "$s"
            if [ "$WARMUP" -gt 0 ]; then
                rd=consistent; [ "$s" = etcd3 ] && rd=linearizable; [ "$s" = etcd2 ] && rd=quorum
                log "warm-up: $s GET ($rd), 64 connections, $((WARMUP / 3 + 1))s (not reported)"
                run_wrk "$s" get "$rd" 64 $((WARMUP / 3 + 1)) >/dev/null
            fi
        done ;;
esac

phase_spec() {   # phase system → "op read conns" or nothing when the system has no such phase
    case "$1/$2" in
        put1/*) echo "put - 1" ;;
        put16/*) echo "put - 16" ;;
        put64/*) echo "put - 64" ;;
        get-consistent/weft) echo "get consistent 64" ;;
        get-consistent/etcd3) echo "get linearizable 64" ;;
        get-consistent/etcd2) echo "get quorum 64" ;;
        get-default/weft) echo "get default 64" ;;
        get-stale/weft) echo "get stale 64" ;;
        get-stale/etcd3) echo "get serializable 64" ;;
        get-stale/etcd2) echo "get local 64" ;;
    esac
}

total=0
for ph in $PHASES; do for s in $SYSTEMS; do [ -z "$(phase_spec "$ph" "$s")" ] || total=$((total + 1)); done; done
n=0
for ph in $PHASES; do
    for s in $SYSTEMS; do
        spec="$(phase_spec "$ph" "$s")"
        [ -n "$spec" ] || continue
        read -r op rd conns <<<"$spec"
        [ "$rd" != "-" ] || rd=""
        n=$((n + 1))
        log "[$n/$total] $ph: $s ${op^^}${rd:+ ($rd)}, $conns connection(s), ${SECS}s"
        line="$(run_wrk "$s" "$op" "$rd" "$conns" "$SECS")"
        errs=$(( $(field non2xx "$line") + $(field connect "$line") + $(field read "$line") + $(field write "$line") + $(field timeout "$line") ))
        R[$ph,$s]="$(field rps "$line") $(field p50_us "$line") $(field p99_us "$line") $errs $(field cpu_pct "$line")"
        C[$ph,$s]="$(field user_pct "$line")+$(field sys_pct "$line") $(field cpu_us_per_op "$line") $(field ctxsw_per_op "$line")"
        log "        → $(field rps "$line") ops/s, p50 $(field p50_us "$line") µs, p99 $(field p99_us "$line") µs, errors $errs," \
            "server CPU $(field cpu_pct "$line")% ($(field cpu_us_per_op "$line") µs/op, $(field ctxsw_per_op "$line") context switches/op)"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ph" "$s" "$conns" "$(field rps "$line")" \
            "$(field p50_us "$line")" "$(field p99_us "$line")" "$errs" "$(field cpu_pct "$line")" \
            "$(field user_pct "$line")" "$(field sys_pct "$line")" "$(field cpu_us_per_op "$line")" \
            "$(field ctxsw_per_op "$line")" >>"$RESULTS"
    done
done

WEFT_END="" ETCD_END=""
has weft && WEFT_END="$(weft_leader)"
{ has etcd3 || has etcd2; } && ETCD_END="$(etcd_leader)"

# ---- report -----------------------------------------------------------------------------------------------------
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else printf "–" }'; }

compare_with() {   # phase → which etcd row weft's figure is compared with
    case "$1" in get-default) echo get-consistent ;; *) echo "$1" ;; esac
}

{
    echo "| phase | weft ops/s | weft p50 ms | weft p99 ms | etcd v3 ops/s | p50 ms | p99 ms | weft/etcd v3 | etcd v2 ops/s | p50 ms | p99 ms | weft/etcd v2 |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for ph in $PHASES; do
        read -r wr w50 w99 _ _ <<<"${R[$ph,weft]:-- - - - -}"
        cmp="$(compare_with "$ph")"
        read -r e3 e350 e399 _ _ <<<"${R[$cmp,etcd3]:-- - - - -}"
        read -r e2 e250 e299 _ _ <<<"${R[$cmp,etcd2]:-- - - - -}"
        f() { if [ "$1" = - ]; then echo -n "–"; else ms "$1"; fi; }
        n0() { if [ "$1" = - ]; then echo -n "–"; else printf '%.0f' "$1"; fi; }
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$ph" \
            "$(n0 "$wr")" "$(f "$w50")" "$(f "$w99")" \
            "$(n0 "$e3")" "$(f "$e350")" "$(f "$e399")" "$( [ "$wr" = - ] || [ "$e3" = - ] && echo – || ratio "$wr" "$e3")" \
            "$(n0 "$e2")" "$(f "$e250")" "$(f "$e299")" "$( [ "$wr" = - ] || [ "$e2" = - ] && echo – || ratio "$wr" "$e2")"
    done
    echo
    echo "Server CPU during each phase: % of one core (user+kernel), summed over the 3 servers; CPU time and"
    echo "context switches per operation (the machine has $(nproc) cores, shared with wrk):"
    echo
    echo "| phase | weft CPU % | µs/op | ctx sw/op | etcd v3 CPU % | µs/op | ctx sw/op | etcd v2 CPU % | µs/op | ctx sw/op | errors w/v3/v2 |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for ph in $PHASES; do
        read -r _ _ _ we _ <<<"${R[$ph,weft]:-- - - – –}"
        read -r _ _ _ e3e _ <<<"${R[$ph,etcd3]:-- - - – –}"
        read -r _ _ _ e2e _ <<<"${R[$ph,etcd2]:-- - - – –}"
        read -r wc wu wx <<<"${C[$ph,weft]:-– – –}"
        read -r e3c e3u e3x <<<"${C[$ph,etcd3]:-– – –}"
        read -r e2c e2u e2x <<<"${C[$ph,etcd2]:-– – –}"
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s/%s/%s |\n' "$ph" "$wc" "$wu" "$wx" \
            "$e3c" "$e3u" "$e3x" "$e2c" "$e2u" "$e2x" "$we" "$e3e" "$e2e"
    done
    echo
    echo "get-default compares weft's default consistency (leader-confirmed) with etcd's linearizable reads;"
    echo "get-stale compares weft ?stale with etcd v3 serializable / v2 non-quorum reads."
    echo
    if has weft; then
        read -r _ ws wst <<<"$WEFT_START"; read -r _ we wet <<<"$WEFT_END"
        if [ "$ws" = "$we" ] && [ "$wst" = "$wet" ]; then wchg="0 (leader $ws throughout, term $wst)";
        else wchg="leader $ws (term $wst) → $we (term $wet)"; fi
        echo "weft leader changes during the run: $wchg"
    fi
    if has etcd3 || has etcd2; then
        read -r _ es est <<<"$ETCD_START"; read -r _ ee eet <<<"$ETCD_END"
        if [ "$es" = "$ee" ] && [ "$est" = "$eet" ]; then echr="0 (leader $es throughout, term $est)";
        else echr="leader $es (term $est) → $ee (term $eet), $((eet - est)) new term(s)"; fi
        echo "etcd leader changes during the run: $echr"
    fi
    echo
    echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); ${SECS}s per phase, $NKEYS keys of 16 B, values of 128 B;"
    echo "$("$ROOT/weft" version 2>/dev/null | head -n1); $(etcd --version | head -n1); $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2)"
    echo "$(java -version 2>&1 | head -n1); weft JVM options: $WEFT_JAVA_OPTS"
    echo "load average before the clusters started: $LOAD_BEFORE; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "(the 5- and 15-minute averages include this run; anything else running meanwhile skews the figures)"
} | tee "$OUT/table.md"
