# Shared by the example scripts (sourced, not run): three simulated "hosts" on one Linux machine, each a network
# namespace on an underlay bridge with its own dockerd and weft agent. Everything it makes is named with the
# prefix wx- (namespaces wx-u, wx-h1..wx-h3; bridge wx-br; veths wx-u1..wx-u3 and wx-e) and its files live in
# $STATE; down() removes exactly that, and kills only the processes whose PIDs it recorded (the agents, the
# dockerds, the scraper of ../prometheus, plus what runs in the mount namespaces of the dockerds it started: their
# containerd and container processes).
#
# Nothing is created in the machine's own network namespace or sent to its addresses: the hosts talk over
# 10.247.0.0/24 inside wx-u, containers use 10.248.0.0/16 (the weft network "demo").

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${WEFT_EXAMPLE_DIR:-/tmp/weft-example}"
PFX=wx
HOSTS=(h1 h2 h3)
declare -A ADDR=([h1]=10.247.0.1 [h2]=10.247.0.2 [h3]=10.247.0.3)
SUBNET=10.248.0.0/16
NETWORK=demo
IMAGE=weft-example/web
WEFT_JAVA_OPTS="${WEFT_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}"

T_START=$(date +%s.%N)
STEPS=()
T_STEP=$T_START
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
# step "what happened": prints it with the time since the previous step and records it for the summary
step() {
    local took
    took="$(elapsed "$T_STEP")"
    T_STEP=$(date +%s.%N)
    STEPS+=("$(printf '%6.1f s  %s' "$took" "$1")")
    printf '[%s] %-70s (%s s)\n' "$(date +%H:%M:%S)" "$1" "$took"
}
summary_steps() { local s; for s in "${STEPS[@]}"; do echo "  $s"; done; echo "  total $(elapsed "$T_START") s"; }

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s until it succeeds, or dies after SECONDS.
wait_for() {
    local secs=$1 limit=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$limit" ] || die "timed out after $secs s waiting for $what"
        sleep 0.2
    done
}

need_root() { [ "$(id -u)" -eq 0 ] || die "run as root: it creates network namespaces and starts dockerd"; }

# install_missing [COMMAND:PACKAGE…]: Debian packages for the tools the examples use (docker.io, iproute2,
# busybox-static, curl, jq, and those an example names), without letting Debian start their packaged daemons.
install_missing() {
    local missing=() t restore=""
    for t in ip:iproute2 nsenter:util-linux unshare:util-linux setsid:util-linux dockerd:docker.io \
        docker:docker.io curl:curl jq:jq java:openjdk-17-jdk-headless "$@"; do
        command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
    done
    [ -x /bin/busybox ] || missing+=(busybox-static)
    [ "${#missing[@]}" -gt 0 ] || return 0
    log "installing $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')(Debian packages)"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        restore=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get -q -y update >/dev/null
    # shellcheck disable=SC2046
    DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends \
        $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
    [ -z "$restore" ] || rm -f /usr/sbin/policy-rc.d
}

# The agent: WEFT_JAR when set (the tests pass the jar the build just made), else agent/target/weft.jar, which
# `./weft version` builds first when it is missing or older than the sources.
weft_jar() {
    if [ -n "${WEFT_JAR:-}" ]; then
        [ -f "$WEFT_JAR" ] || die "WEFT_JAR=$WEFT_JAR does not exist"
        echo "$WEFT_JAR"
    else
        "$ROOT/weft" version >/dev/null || die "cannot build the weft agent (./weft version failed)"
        echo "$ROOT/agent/target/weft.jar"
    fi
}

inns() { local h=$1; shift; nsenter --net="/run/netns/$PFX-$h" "$@"; }
dk() { local h=$1; shift; DOCKER_CONFIG="$STATE/docker-cli" docker -H "unix://$STATE/$h/docker.sock" "$@"; }
api() { local h=$1 path=$2; shift 2; inns "$h" curl -fsS -m 5 "$@" "http://${ADDR[$h]}:8500$path"; }
weft_cli() { local h=$1; shift; inns "$h" java -jar "$JAR" "$@" -http-addr "${ADDR[$h]}:8500"; }

is_up() { [ -f "$STATE/up" ] && ip netns list | grep -q "^$PFX-h1\b"; }

# ---- building ------------------------------------------------------------------------------------------------
make_underlay() {
    ip netns add "$PFX-u"
    ip -n "$PFX-u" link set lo up
    ip -n "$PFX-u" link add "$PFX-br" type bridge
    ip -n "$PFX-u" link set "$PFX-br" up
    local h i=0
    for h in "${HOSTS[@]}"; do
        i=$((i + 1))
        ip netns add "$PFX-$h"
        ip -n "$PFX-$h" link set lo up
        ip -n "$PFX-u" link add "$PFX-u$i" type veth peer name "$PFX-e" netns "$PFX-$h"
        ip -n "$PFX-u" link set "$PFX-u$i" master "$PFX-br" up
        ip -n "$PFX-$h" link set "$PFX-e" up
        ip -n "$PFX-$h" addr add "${ADDR[$h]}/24" dev "$PFX-e"
    done
}

# The image: busybox (sh, httpd, nslookup, …) and curl with the shared libraries ldd names.
make_image() {
    local r="$STATE/rootfs" a lib
    rm -rf "$r"
    mkdir -p "$r/bin" "$r/tmp" "$r/www" "$r/usr/bin" "$r/etc"
    cp /bin/busybox "$r/bin/"
    for a in sh httpd nc nslookup ping sleep cat echo ls kill true hostname; do ln -s busybox "$r/bin/$a"; done
    cp /usr/bin/curl "$r/usr/bin/"
    for lib in $(ldd /usr/bin/curl | grep -o '/[^ ]*'); do
        mkdir -p "$r$(dirname "$lib")"
        cp -L "$lib" "$r$lib"
    done
    echo 'hosts: files dns' >"$r/etc/nsswitch.conf"
    tar -C "$r" -cf "$STATE/image.tar" .
}

# start_dockerd HOST: a dockerd in the host's network namespace and in a mount namespace of its own, where
# $STATE/HOST/plugins is /run/docker/plugins (the weft agent puts its plugin socket there); socket
# $STATE/HOST/docker.sock. No iptables, no masquerading, no docker0 bridge.
start_dockerd() {
    local h=$1 d="$STATE/$1"
    mkdir -p "$d/data" "$d/exec" "$d/plugins"
    echo '{}' >"$d/daemon.json"
    # shellcheck disable=SC2016
    setsid nsenter --net="/run/netns/$PFX-$h" unshare --mount --propagation private sh -c \
        'mount --make-rprivate / && mkdir -p /run/docker/plugins && mount --bind "$1" /run/docker/plugins && shift && exec "$@"' \
        sh "$d/plugins" dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/docker.pid" \
        --config-file "$d/daemon.json" -H "unix://$d/docker.sock" --containerd-namespace "$PFX-$h" \
        --containerd-plugins-namespace "$PFX-$h-plugins" --bridge=none --iptables=false --ip6tables=false \
        --ip-masq=false --ip-forward=false --userland-proxy=false --shutdown-timeout 5 \
        </dev/null >"$d/dockerd.log" 2>&1 &
    echo $! >"$d/dockerd.pid"
}
dockerd_ready() {
    local h=$1
    dk "$h" version >/dev/null 2>&1 || return 1
    readlink "/proc/$(cat "$STATE/$h/dockerd.pid")/ns/mnt" >"$STATE/$h/mntns"
}

# start_agent HOST FLAG...: a weft server agent in the host's namespace: API on ADDR:8500, DNS on ADDR:8600 and
# on its gateway addresses (port 53), the registrator watching the host's dockerd, the overlay with its Docker
# plugin socket in the dockerd's plugin directory.
start_agent() {
    local h=$1 d="$STATE/$1"
    shift
    mkdir -p "$d/weft"
    # shellcheck disable=SC2086  # WEFT_JAVA_OPTS is a list of options
    setsid nsenter --net="/run/netns/$PFX-$h" java $WEFT_JAVA_OPTS -jar "$JAR" agent -server -node "$h" \
        -bind "${ADDR[$h]}" -client "${ADDR[$h]}" -data-dir "$d/weft" -dns-port 8600 \
        -docker-host "unix://$d/docker.sock" -internal \
        -overlay -overlay-docker-socket "$d/plugins/weft.sock" -overlay-cni-socket none "$@" \
        </dev/null >>"$d/agent.log" 2>&1 &
    echo $! >"$d/agent.pid"
}
agent_ready() { grep -q "overlay on: host $1" "$STATE/$1/agent.log"; }
leader() { api "$1" /v1/status/leader | tr -d '"'; }
# leader_host: the host whose agent is the Raft leader (its Raft address is ADDR:8300), asked of any live agent
leader_host() {
    local h l
    for h in "${HOSTS[@]}"; do
        alive "$h" || continue
        l="$(leader "$h" 2>/dev/null)" || continue
        for h in "${HOSTS[@]}"; do [ "${l%:*}" != "${ADDR[$h]}" ] || { echo "$h"; return 0; }; done
    done
    return 1
}
alive() { [ -f "$STATE/$1/agent.pid" ] && running "$(cat "$STATE/$1/agent.pid")"; }
# running PID: the process exists and is not a zombie (an orphan that exited waits for init to reap it)
running() { local s; s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1; s="${s##*) }"; [ "${s%% *}" != Z ]; }

# gateway HOST: the host's gateway address in the demo network (containers use it as their DNS server)
gateway() {
    api "$1" "/v1/weft/network/$NETWORK" | jq -r --arg h "$1" '.Leases[] | select(.Host == $h) | .Gateway'
}

# web HOST NAME: busybox httpd on port 8080 answering "hello from HOST", registered by the registrator as
# service "web" with an HTTP check
web() {
    local h=$1 name=$2 gw
    gw="$(gateway "$h")"
    dk "$h" run -d --name "$name" --hostname "$name" --network "$NETWORK" --dns "$gw" --expose 8080 \
        -e SERVICE_NAME=web -e SERVICE_CHECK_HTTP=/ -e SERVICE_CHECK_INTERVAL=2s "$IMAGE" \
        sh -c "echo hello from $name on $h > /www/index.html && exec httpd -f -p 8080 -h /www" >/dev/null
}

# passing HOST: how many instances of web HOST's agent lists as passing
passing() { api "$1" "/v1/health/service/web?passing" | jq length; }

# ---- removing ------------------------------------------------------------------------------------------------
# down: removes what the examples made, even after a failure half-way; quiet about what is not there.
down() {
    local h pid p m own
    own="$(readlink /proc/self/ns/mnt)"
    for h in "${HOSTS[@]}"; do
        [ -S "$STATE/$h/docker.sock" ] || continue
        local ids
        ids="$(timeout 20 docker -H "unix://$STATE/$h/docker.sock" ps -aq 2>/dev/null || true)"
        # shellcheck disable=SC2086
        [ -z "$ids" ] || timeout 60 docker -H "unix://$STATE/$h/docker.sock" rm -f $ids >/dev/null 2>&1 || true
    done
    for h in "${HOSTS[@]}"; do
        for pid in victoria-metrics agent dockerd; do
            [ -f "$STATE/$h/$pid.pid" ] || continue
            p="$(cat "$STATE/$h/$pid.pid")"
            kill -TERM "$p" 2>/dev/null || true
        done
    done
    for h in "${HOSTS[@]}"; do
        for pid in victoria-metrics agent dockerd; do
            [ -f "$STATE/$h/$pid.pid" ] || continue
            p="$(cat "$STATE/$h/$pid.pid")"
            for _ in $(seq 1 100); do running "$p" || break; sleep 0.1; done
            kill -KILL "$p" 2>/dev/null || true
        done
        # what is left in the dockerd's mount namespace is its own (containerd, shims, containers)
        if [ -f "$STATE/$h/mntns" ]; then
            m="$(cat "$STATE/$h/mntns")"
            if [ -n "$m" ] && [ "$m" != "$own" ]; then
                for p in /proc/[0-9]*; do
                    [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$m" ] && kill -KILL "${p#/proc/}" 2>/dev/null
                done
            fi
        fi
    done
    for h in "${HOSTS[@]}" u; do
        ip netns del "$PFX-$h" 2>/dev/null || true
    done
    if [ -d "$STATE" ]; then
        # dockerd's data root may hold mounts of its own namespace only; nothing is mounted here
        rm -rf "$STATE"
    fi
}
