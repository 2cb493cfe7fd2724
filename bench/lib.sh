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
bench_cleanup() {
    local rc=$? pid i
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
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
