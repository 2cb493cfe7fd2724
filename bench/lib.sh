# Shared by the benchmark scripts (sourced, not run): output and work directories, one-line logging, and the
# cleanup trap that stops only the processes the script started itself (their PIDs are added to PIDS).

# bench_setup OUT_PREFIX TMP_PREFIX: results go to bench/out/<OUT_PREFIX><time>/, scratch data to a temp dir.
bench_setup() {
    OUT="$ROOT/bench/out/$1$(date +%Y%m%d-%H%M%S)"
    mkdir -p "$OUT"
    WORK="$(mktemp -d "/tmp/$2.XXXXXX")"
    PIDS=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- cleanup: only the processes this script started, by PID ----------------------------------------------
# A script may define bench_before_stop (runs while its processes are still up) and bench_after_stop (runs once
# they are gone, before the work directory is removed); their failures are logged, not fatal.
bench_cleanup() {
    local rc=$? pid i
    trap - EXIT INT TERM
    if declare -F bench_before_stop >/dev/null; then bench_before_stop || log "cleanup: bench_before_stop failed"; fi
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if declare -F bench_after_stop >/dev/null; then bench_after_stop || log "cleanup: bench_after_stop failed"; fi
    rm -rf "$WORK"
    log "stopped ${#PIDS[@]} processes; logs and results in ${OUT#"$ROOT"/}"
    exit "$rc"
}

# bench_install PACKAGE...: installs the given Debian packages (as root), without letting Debian start their
# packaged daemons (a temporary policy-rc.d unless the machine has one). Nothing to do without arguments.
bench_install() {
    [ "$#" -gt 0 ] || return 0
    [ "$(id -u)" -eq 0 ] || die "missing $*: install them (apt-get install $*)"
    log "installing $* (Debian packages)"
    local restore_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        restore_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get -q -y update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends "$@" >/dev/null
    [ -n "$restore_policy" ] && rm -f /usr/sbin/policy-rc.d
    return 0
}

# ---- weft servers ------------------------------------------------------------------------------------------
# weft_server I [FLAG...]: starts member I (0-based) of a 3-server cluster on $HOST with the ports in the arrays
# HTTP, RAFT and DNS, data in $WORK/weft<I+1>, log in $OUT/weft<I+1>.log; its PID goes to PIDS.
weft_server() {
    local i=$1 j joins=()
    shift
    for j in 0 1 2; do [ "$i" = "$j" ] || joins+=(-retry-join "$HOST:${RAFT[$j]}"); done
    "$ROOT/weft" agent -server -bootstrap-expect 3 "${joins[@]}" -node "weft$((i + 1))" -bind "$HOST" \
        -client "$HOST" -data-dir "$WORK/weft$((i + 1))" -http-port "${HTTP[$i]}" -raft-port "${RAFT[$i]}" \
        -dns-port "${DNS[$i]}" -dns-addr "$HOST" "$@" >"$OUT/weft$((i + 1)).log" 2>&1 &
    PIDS+=($!)
}

# weft_agreed PORT...: every given HTTP port names the same leader, and a KV write through the first succeeds.
weft_agreed() {
    local p first="" l
    for p in "$@"; do
        l="$(curl -fsS -m 2 "http://$HOST:$p/v1/status/leader" | tr -d '"')" || return 1
        [ -n "$l" ] || return 1
        [ -z "$first" ] || [ "$first" = "$l" ] || return 1
        first="$l"
    done
    [ "$(curl -fsS -m 5 -X PUT --data ok "http://$HOST:$1/v1/kv/bench-health")" = true ]
}

# weft_cluster_healthy: weft_agreed over HTTP, and every DNS port answers NXDOMAIN for an unknown service.
weft_cluster_healthy() {
    local p
    weft_agreed "${HTTP[@]}" || return 1
    for p in "${DNS[@]}"; do
        python3 "$ROOT/bench/dns/dnsprobe.py" query "$HOST:$p" "nosuch.service.weft." A | grep -q NXDOMAIN \
            || return 1
    done
}
