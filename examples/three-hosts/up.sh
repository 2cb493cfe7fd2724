#!/usr/bin/env bash
# weft on three "hosts" of one Linux machine: each host is a network namespace on an underlay bridge with its own
# dockerd and weft server agent. A weft network spans the hosts; web services on h1 and h2 (busybox httpd,
# registered by the registrator with an HTTP check); a client container on h3 curls web.service.weft through
# weft DNS over the overlay. Prints every step with its time and a summary. Run as root; ./down.sh removes
# everything it made. Running it again first removes the previous run.
#
# Environment: WEFT_EXAMPLE_DIR (state, default /tmp/weft-example), WEFT_JAR (use this agent jar instead of
# building agent/target/weft.jar), WEFT_JAVA_OPTS (the agents' JVM options), CURLS (client requests, default 20).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/../lib/hosts.sh"
CURLS="${CURLS:-20}"
case "$CURLS" in '' | *[!0-9]* | 0) die "CURLS must be a positive number" ;; esac

need_root
if [ -e "$STATE" ] || ip netns list | grep -q "^$PFX-"; then
    log "an earlier run is still set up: removing it first (as ./down.sh does)"
    down
fi
trap 'rc=$?; [ $rc -eq 0 ] || { log "failed (exit $rc): logs are in $STATE/h*/; ./down.sh removes everything"; }' EXIT
install_missing
JAR="$(weft_jar)"
mkdir -p "$STATE/docker-cli"
step "prerequisites checked, agent $(basename "$JAR") ready"

make_underlay
step "hosts h1 h2 h3: namespaces $PFX-h1..3 on bridge $PFX-br (10.247.0.1-3)"

make_image
for h in "${HOSTS[@]}"; do start_dockerd "$h"; done
for h in "${HOSTS[@]}"; do wait_for 120 "dockerd on $h (log $STATE/$h/dockerd.log)" dockerd_ready "$h"; done
for h in "${HOSTS[@]}"; do
    dk "$h" import -c 'CMD ["/bin/sh"]' -c 'WORKDIR /www' "$STATE/image.tar" "$IMAGE" >/dev/null
done
step "a dockerd on each host, image $IMAGE (busybox + curl) imported"

for h in "${HOSTS[@]}"; do
    start_agent "$h" -bootstrap-expect 3 -retry-join "${ADDR[h1]}:8300" -retry-join "${ADDR[h2]}:8300" \
        -retry-join "${ADDR[h3]}:8300"
done
for h in "${HOSTS[@]}"; do
    wait_for 180 "the weft agent on $h (log $STATE/$h/agent.log)" agent_ready "$h"
done
leader_known() { local h; for h in "${HOSTS[@]}"; do [ -n "$(leader "$h" 2>/dev/null)" ] || return 1; done; }
wait_for 120 "a Raft leader that all three agents know" leader_known
LEADER="$(leader_host)" || die "no leader"
step "weft server agents on h1 h2 h3: Raft leader is $LEADER"

for h in "${HOSTS[@]}"; do
    dk "$h" network create -d weft --ipam-driver weft --subnet "$SUBNET" -o name="$NETWORK" "$NETWORK" >/dev/null \
        || die "docker network create on $h failed (agent log $STATE/$h/agent.log)"
done
step "docker network create -d weft --ipam-driver weft --subnet $SUBNET -o name=$NETWORK $NETWORK, each host"

web h1 web-h1
web h2 web-h2
step "web on h1 and h2: busybox httpd :8080, SERVICE_NAME=web, SERVICE_CHECK_HTTP=/"

two_passing() { [ "$(passing h3 2>/dev/null)" = 2 ]; }
wait_for 120 "two passing instances of web in h3's catalog" two_passing
step "registrator registered both; their HTTP checks pass; h3's agent lists 2 passing"

GW3="$(gateway h3)"
dk h3 run -d --name client --network "$NETWORK" --dns "$GW3" "$IMAGE" sleep 1000000 >/dev/null
CLIENT_IP="$(dk h3 inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' client)"
step "client container on h3 ($CLIENT_IP), its DNS server is h3's gateway $GW3"

ANSWER="$(dk h3 exec client nslookup web.service.weft 2>&1 || true)"
echo "$ANSWER" | sed 's/^/      /'
IPS="$(echo "$ANSWER" | awk '/^Name:/ { n = 1; next } n && /^Address/ { print $NF }' | sort -u | tr '\n' ' ')"
WEB1="$(dk h1 inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' web-h1)"
WEB2="$(dk h2 inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' web-h2)"
case " $IPS " in *" $WEB1 "*) ;; *) die "web.service.weft does not name web-h1 ($WEB1): $IPS" ;; esac
case " $IPS " in *" $WEB2 "*) ;; *) die "web.service.weft does not name web-h2 ($WEB2): $IPS" ;; esac
step "client: nslookup web.service.weft -> $IPS(web-h1 $WEB1, web-h2 $WEB2)"

FROM1=0 FROM2=0 FAILED=0
for i in $(seq 1 "$CURLS"); do
    body="$(dk h3 exec client curl -fsS -m 5 http://web.service.weft:8080/ 2>&1)" || { FAILED=$((FAILED + 1)); continue; }
    case "$body" in
        *"from web-h1 on h1"*) FROM1=$((FROM1 + 1)) ;;
        *"from web-h2 on h2"*) FROM2=$((FROM2 + 1)) ;;
        *) FAILED=$((FAILED + 1)) ;;
    esac
    [ "$i" -gt 1 ] || echo "      curl http://web.service.weft:8080/ -> $body"
done
step "client: $CURLS x curl http://web.service.weft:8080/ over the overlay"
date +%s >"$STATE/up"

cat <<EOF

Summary
$(summary_steps)

  client on h3: $CURLS requests to web.service.weft: $FROM1 answered by web-h1 on h1, $FROM2 by web-h2 on h2, $FAILED failed
  (weft DNS shuffles the two addresses; each request crosses the VXLAN overlay from h3 to h1 or h2)

Look around (as root):
  docker -H unix://$STATE/h3/docker.sock exec client curl -s http://web.service.weft:8080/
  docker -H unix://$STATE/h3/docker.sock exec client nslookup web.service.weft
  ip netns exec $PFX-h1 curl -s http://${ADDR[h1]}:8500/v1/health/service/web?passing
  ip netns exec $PFX-h2 dig @${ADDR[h2]} -p 8600 web.service.weft
  ip netns exec $PFX-h1 java -jar $JAR network inspect $NETWORK -http-addr ${ADDR[h1]}:8500
  logs: $STATE/h1/agent.log, $STATE/h1/dockerd.log, …
Remove everything: $HERE/down.sh
EOF
if [ "$FAILED" -gt 0 ] || [ "$FROM1" -eq 0 ] || [ "$FROM2" -eq 0 ]; then
    die "the client did not get answers from both hosts ($FROM1 from h1, $FROM2 from h2, $FAILED failed)"
fi
log "OK: the client on h3 got answers from web on h1 and h2 through weft DNS over the overlay"
