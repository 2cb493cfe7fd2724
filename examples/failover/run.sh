#!/usr/bin/env bash
# Failover on the three hosts of ../three-hosts: kills the host that runs the Raft leader (its agent, its dockerd
# and containers, and its underlay link: as if it lost power) while a writer, a reader and a client container on
# another host keep working, and shows how long each was disturbed: a new leader, reads and writes through a
# surviving agent, DNS answers and cross-host requests from the client, and the dead host's web instance leaving
# DNS. Sets up the three hosts first (../three-hosts/up.sh) unless they are up. Run as root;
# ../three-hosts/down.sh removes everything.
#
# Environment: AFTER (seconds to keep watching after the dead host's services left DNS, default 5),
# WEFT_EXAMPLE_DIR, WEFT_JAR, WEFT_JAVA_OPTS as for up.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/../lib/hosts.sh"
AFTER="${AFTER:-5}"
case "$AFTER" in '' | *[!0-9]*) die "AFTER must be a number of seconds" ;; esac
need_root

if ! is_up || [ -e "$STATE/failed-over" ]; then
    log "the three hosts are not up (or a failover already ran): running ../three-hosts/up.sh first"
    "$HERE/../three-hosts/up.sh"
    echo
fi
JAR="$(weft_jar)"
T_START=$(date +%s.%N) T_STEP=$T_START STEPS=()

# The client runs on h3, so the host to kill must be h1 or h2 (each runs a web instance): if h3 leads, hand the
# leadership over first.
not_h3() { local l; l="$(leader_host)" && [ "$l" != h3 ]; }
L="$(leader_host)" || die "no leader"
if [ "$L" = h3 ]; then
    log "h3 (the client's host) leads: transferring the leadership (weft operator raft transfer-leader)"
    weft_cli h3 operator raft transfer-leader >/dev/null || die "transfer-leader failed"
    wait_for 30 "a leader other than h3" not_h3
    L="$(leader_host)"
fi
[ "$L" != h3 ] || die "h3 keeps the leadership"
if [ "$L" = h1 ]; then S=h2; else S=h1; fi
LEADER_BEFORE="$(leader h3)"
WEB_DEAD="$(dk "$L" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "web-$L")"
WEB_LIVE="$(dk "$S" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "web-$S")"
step "leader is $L ($LEADER_BEFORE); web-$L $WEB_DEAD will die with it, web-$S $WEB_LIVE stays"

# ---- watchers: each appends "<unix time with ns when the attempt started> <result> … <when it ended>" lines to its file
W="$STATE/failover"
mkdir -p "$W"
: >"$W/writes-$S" ; : >"$W/writes-h3" ; : >"$W/dns" ; : >"$W/curls"
writer() {   # writer HOST: PUT through HOST's agent, then a default (linearizable) read of the key through it
    local h=$1 i=0 v t
    while [ -e "$W/run" ]; do
        i=$((i + 1))
        t=$(date +%s.%N)   # when the attempt started
        if [ "$(api "$h" "/v1/kv/failover/$h" -m 3 -X PUT --data "$i" 2>/dev/null)" = true ] &&
            v="$(api "$h" "/v1/kv/failover/$h?raw" -m 3 2>/dev/null)" && [ "$v" = "$i" ]; then
            echo "$t ok $i $(date +%s.%N)" >>"$W/writes-$h"
        else
            echo "$t fail $i $(date +%s.%N)" >>"$W/writes-$h"
        fi
        sleep 0.1
    done
}
dns_watch() {   # the addresses web.service.weft has in the client container's DNS (through h3's gateway)
    local a
    while [ -e "$W/run" ]; do
        a="$(dk h3 exec client nslookup web.service.weft 2>/dev/null |
            awk '/^Name:/ { n = 1; next } n && /^Address/ { print $NF }' | sort | tr '\n' ' ')"
        echo "$(date +%s.%N) ${a:-none}" >>"$W/dns"
        sleep 0.2
    done
}
curl_watch() {   # requests from the client on h3 to web.service.weft over the overlay
    local b t
    while [ -e "$W/run" ]; do
        t=$(date +%s.%N)   # when the request started
        if b="$(dk h3 exec client curl -fsS -m 1 http://web.service.weft:8080/ 2>/dev/null)"; then
            echo "$t ok ${b##* on } $(date +%s.%N)" >>"$W/curls"
        else
            echo "$t fail $(date +%s.%N)" >>"$W/curls"
        fi
        sleep 0.1
    done
}
touch "$W/run"
writer "$S" & WPIDS=($!)
writer h3 & WPIDS+=($!)
dns_watch & WPIDS+=($!)
curl_watch & WPIDS+=($!)
stop_watchers() { rm -f "$W/run"; wait "${WPIDS[@]}" 2>/dev/null || true; }
trap 'rc=$?; stop_watchers; [ $rc -eq 0 ] || log "failed (exit $rc): logs in $STATE; ../three-hosts/down.sh removes everything"' EXIT
wait_for 30 "the watchers' first results" sh -c "[ -s '$W/writes-h3' ] && [ -s '$W/writes-$S' ] && [ -s '$W/dns' ] && [ -s '$W/curls' ]"
sleep 3   # a few seconds of normal operation to compare with
step "writers (PUT + read via $S's and h3's agents), DNS and curl watchers running for 3 s"

# ---- the kill -------------------------------------------------------------------------------------------------
T_KILL=$(date +%s.%N)
i=${L#h}
ip -n "$PFX-u" link set "$PFX-u$i" down                       # the host's cable
kill -KILL "$(cat "$STATE/$L/agent.pid")" 2>/dev/null || true  # its weft agent
m="$(cat "$STATE/$L/mntns")"                                    # its dockerd, containerd and containers
for p in /proc/[0-9]*; do [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$m" ] && kill -KILL "${p#/proc/}" 2>/dev/null; done
touch "$STATE/failed-over"
step "killed $L: agent, dockerd, containers, underlay link down"

new_leader() { local l; l="$(leader h3 2>/dev/null)" && [ -n "$l" ] && [ "$l" != "$LEADER_BEFORE" ]; }
wait_for 60 "a new leader" new_leader
T_LEADER=$(date +%s.%N)
step "new leader: $(leader_host) ($(leader h3))"

only_live() { [ "$(tail -n1 "$W/dns" | cut -d' ' -f2-)" = "$WEB_LIVE " ]; }
wait_for 90 "web-$L to leave DNS" only_live
T_DNS=$(date +%s.%N)
step "web-$L left DNS: web.service.weft names only $WEB_LIVE"
sleep "$AFTER"
stop_watchers
step "watched $AFTER s more"

# ---- what the watchers saw ------------------------------------------------------------------------------------
# report FILE PATTERN: of the attempts that ended after the kill, the longest run of lines not matching PATTERN
# (seconds, by start time), and counts
report() {
    awk -v k="$T_KILL" -v ok="$2" '
        $NF < k { next }
        { last = $1 }
        $0 ~ ok { good++; if (from) { if ($1 - from > worst) worst = $1 - from; from = 0 }; next }
        { bad++; if (!from) from = $1 }
        END { open = from ? sprintf(", still failing at the end (for %.1f s)", last - from) : ""
              printf "%d ok, %d failed; longest outage %.1f s%s", good, bad, worst, open }' "$1"
}
# Attempts that ended before the kill count as "before"; the one in flight at the kill counts as "after".
before() { awk -v k="$T_KILL" -v ok="$2" '$NF < k { n++; if ($0 ~ ok) g++ } END { printf "%d/%d ok", g, n }' "$1"; }
LIVE_CURLS="$(awk -v k="$T_DNS" '$1 >= k && / ok / { g++ } $1 >= k { n++ } END { printf "%d/%d", g, n }' "$W/curls")"
t() { awk -v a="$T_KILL" -v b="$1" 'BEGIN { printf "%.1f", b - a }'; }

cat <<EOF

Summary
$(summary_steps)

  killed $L (the Raft leader) at t=0; survivors: $S and h3 (2 of 3 servers: still a quorum)
  new leader after                 $(t "$T_LEADER") s
  writes + reads via $S's agent    before: $(before "$W/writes-$S" " ok "); after the kill: $(report "$W/writes-$S" " ok ")
  writes + reads via h3's agent    before: $(before "$W/writes-h3" " ok "); after the kill: $(report "$W/writes-h3" " ok ")
                                   (one of the two is a follower of the new leader: it forwards to it)
  curl web.service.weft from h3    before: $(before "$W/curls" " ok "); after the kill: $(report "$W/curls" " ok ")
                                   (requests that DNS sent to web-$L fail until it leaves DNS)
  web-$L left DNS after            $(t "$T_DNS") s (the leader marks an agent critical after -node-health-timeout, 10 s,
                                   counted from the new leadership)
  after that                       $LIVE_CURLS requests ok, all answered by web-$S
Raw results: $W/{writes-$S,writes-h3,dns,curls} (unix start time, result, …, end time)
Bring $L back: ../three-hosts/up.sh (rebuilds all three hosts); remove everything: ../three-hosts/down.sh
EOF
[ "$(awk -v k="$T_DNS" '$1 >= k && / fail/ { n++ } END { print n + 0 }' "$W/curls")" -eq 0 ] ||
    die "requests failed after web-$L had left DNS"
[ "$(cat "$W/writes-$S" "$W/writes-h3" | awk -v k="$T_DNS" '$1 >= k && / fail/ { n++ } END { print n + 0 }')" -eq 0 ] ||
    die "writes failed after the new leader was elected and web-$L had left DNS"
log "OK: reads, writes, DNS and cross-host requests continued after the leader's host died"
