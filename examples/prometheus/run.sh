#!/usr/bin/env bash
# Prometheus finds its targets through weft: on the three hosts of ../three-hosts, a container on h1 and one on h2
# serve a /metrics page (busybox httpd) with SERVICE_TAGS=prometheus; the registrator in each host's agent
# registers them; Debian's Prometheus runs on h3 (its own process, not the packaged service) with
# consul_sd_configs pointing at h3's weft agent, relabels the __meta_consul_* labels and scrapes both containers
# over the overlay. Then metrics-h2 is stopped: the registrator deregisters it and Prometheus drops the target.
# Prints each step with its time and a summary. Sets up the three hosts first (../three-hosts/up.sh) unless they
# are up. Run as root. Prometheus and the containers stay up to look around; running this again replaces them;
# ../three-hosts/down.sh removes everything.
#
# Environment: WEFT_EXAMPLE_DIR, WEFT_JAR, WEFT_JAVA_OPTS as for ../three-hosts/up.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/../lib/hosts.sh"
need_root

if ! is_up || [ -e "$STATE/failed-over" ]; then
    log "the three hosts are not up (or a failover already ran): running ../three-hosts/up.sh first"
    "$HERE/../three-hosts/up.sh"
    echo
fi
T_START=$(date +%s.%N) T_STEP=$T_START STEPS=()
P="$STATE/prometheus"                 # its config, data and log
PROM_PID="$STATE/h3/prometheus.pid"   # down() stops it with the agents and dockerds
PROM=127.0.0.1:9090                   # in h3's namespace: reachable only from there
SERVICE=demo-metrics
trap 'rc=$?; [ $rc -eq 0 ] || log "failed (exit $rc): Prometheus log $P/prometheus.log; ../three-hosts/down.sh removes everything"' EXIT

install_missing prometheus:prometheus
if [ -f "$PROM_PID" ] || dk h1 inspect metrics-h1 >/dev/null 2>&1; then
    log "an earlier run of this example is up: replacing its Prometheus and containers"
    if [ -f "$PROM_PID" ]; then
        kill -TERM "$(cat "$PROM_PID")" 2>/dev/null || true
        for _ in $(seq 1 100); do running "$(cat "$PROM_PID")" || break; sleep 0.1; done
        kill -KILL "$(cat "$PROM_PID")" 2>/dev/null || true
        rm -f "$PROM_PID"
    fi
    dk h1 rm -f metrics-h1 >/dev/null 2>&1 || true
    dk h2 rm -f metrics-h2 >/dev/null 2>&1 || true
fi
rm -rf "$P"
mkdir -p "$P/data"
step "three hosts up; $(prometheus --version 2>&1 | head -n1 | cut -d' ' -f1-3) (Debian package) found"

# metrics HOST: a container serving /metrics on port 9100 (a static text page in Prometheus' format),
# registered by the registrator as demo-metrics with the tag prometheus and an HTTP check on /metrics
metrics() {
    local h=$1
    dk "$h" run -d --name "metrics-$h" --hostname "metrics-$h" --network "$NETWORK" --expose 9100 \
        -e SERVICE_NAME="$SERVICE" -e SERVICE_TAGS=prometheus -e SERVICE_CHECK_HTTP=/metrics \
        -e SERVICE_CHECK_INTERVAL=2s "$IMAGE" sh -c "printf '# HELP demo_up A demo gauge.\n# TYPE demo_up gauge\ndemo_up 1\n' \
            >/www/metrics && exec httpd -f -p 9100 -h /www" >/dev/null
}
metrics h1
metrics h2
step "metrics-h1 on h1, metrics-h2 on h2: /metrics on :9100, SERVICE_NAME=$SERVICE, SERVICE_TAGS=prometheus"

demo_passing() { api h3 "/v1/health/service/$SERVICE?passing&tag=prometheus" | jq length; }
two_passing() { [ "$(demo_passing 2>/dev/null)" = 2 ]; }
wait_for 60 "two passing instances of $SERVICE in h3's catalog" two_passing
FOUND="$(api h3 "/v1/catalog/service/$SERVICE" | jq -r '[.[] | "\(.Node) \(.ServiceAddress):\(.ServicePort)"] | join(", ")')"
step "the registrator registered both; h3's agent lists them passing: $FOUND"

cat >"$P/prometheus.yml" <<EOF
# Written by examples/prometheus/run.sh: every service that weft lists with the tag "prometheus" is a target.
global:
  scrape_interval: 2s
  scrape_timeout: 1s
scrape_configs:
  - job_name: weft-services
    metrics_path: /metrics
    consul_sd_configs:
      - server: ${ADDR[h3]}:8500    # h3's weft agent (Consul's HTTP API)
        tags: [prometheus]
    relabel_configs:
      - source_labels: [__meta_consul_service]
        target_label: service
      - source_labels: [__meta_consul_node]
        target_label: node
      - source_labels: [__meta_consul_service_id]
        target_label: service_id
      - source_labels: [__meta_consul_dc]
        target_label: dc
EOF
setsid nsenter --net="/run/netns/$PFX-h3" prometheus --config.file="$P/prometheus.yml" \
    --storage.tsdb.path="$P/data" --web.listen-address="$PROM" --log.level=warn \
    </dev/null >"$P/prometheus.log" 2>&1 &
echo $! >"$PROM_PID"
prom() { inns h3 curl -fsS -m 5 "$@"; }
ready() { running "$(cat "$PROM_PID")" && prom "http://$PROM/-/ready"; }
wait_for 60 "Prometheus to start (log $P/prometheus.log)" ready
step "Prometheus on h3 (http://$PROM in namespace $PFX-h3): consul_sd_configs server ${ADDR[h3]}:8500, tags [prometheus]"

# targets_up: how many active targets of the job are up
targets() { prom "http://$PROM/api/v1/targets?state=active"; }
targets_up() { targets | jq '[.data.activeTargets[] | select(.labels.job == "weft-services" and .health == "up")] | length'; }
two_up() { [ "$(targets_up 2>/dev/null)" = 2 ]; }
wait_for 60 "Prometheus to list both targets as up" two_up
targets | jq -r '.data.activeTargets[] | select(.labels.job == "weft-services") |
    "      target \(.scrapeUrl)  health \(.health)  service=\(.labels.service) node=\(.labels.node) service_id=\(.labels.service_id)"'
step "Prometheus discovered both through weft and scraped them: /api/v1/targets lists 2 up"

query() { prom -G "http://$PROM/api/v1/query" --data-urlencode "query=$1"; }
has_two() { [ "$(query demo_up | jq '.data.result | length')" = 2 ]; }
wait_for 30 "two demo_up series" has_two
RESULT="$(query demo_up | jq -r '.data.result[] | "      demo_up{service=\"\(.metric.service)\", node=\"\(.metric.node)\", instance=\"\(.metric.instance)\"} \(.value[1])"' | sort)"
echo "$RESULT"
SUM="$(query 'sum(demo_up)' | jq -r '.data.result[0].value[1]')"
step "query demo_up: 2 series, one per container, with their consul labels; sum(demo_up) = $SUM"

# A stopped container: the registrator deregisters it, the blocking query Prometheus holds on weft wakes, the
# target goes. (Prometheus keeps the last sample for up to 5 minutes; the target list is the immediate change.)
dk h2 stop -t 1 metrics-h2 >/dev/null
T_STOP=$(date +%s.%N)
one_target() { [ "$(targets | jq '[.data.activeTargets[] | select(.labels.job == "weft-services")] | length')" = 1 ]; }
wait_for 60 "Prometheus to drop metrics-h2's target" one_target
GONE="$(elapsed "$T_STOP")"
LEFT="$(targets | jq -r '.data.activeTargets[] | select(.labels.job == "weft-services") | .labels.node')"
step "docker stop metrics-h2: Prometheus dropped its target after $GONE s; left: the one on $LEFT"

cat <<EOF

Summary
$(summary_steps)

  Prometheus on h3 scraped 2 targets found through weft's Consul API (consul_sd_configs, tag prometheus):
$RESULT
  after metrics-h2 stopped, its target left Prometheus in $GONE s

Look around (as root):
  ip netns exec $PFX-h3 curl -s http://$PROM/api/v1/targets | jq '.data.activeTargets[] | {scrapeUrl, health, labels}'
  ip netns exec $PFX-h3 curl -s 'http://$PROM/api/v1/query?query=demo_up' | jq .data.result
  ip netns exec $PFX-h3 curl -s 'http://${ADDR[h3]}:8500/v1/health/service/$SERVICE?tag=prometheus' | jq .
  docker -H unix://$STATE/h2/docker.sock start metrics-h2      # and watch the target come back
  config: $P/prometheus.yml, log: $P/prometheus.log
Remove everything: $HERE/../three-hosts/down.sh
EOF
[ "$SUM" = 2 ] || die "sum(demo_up) = $SUM, not 2"
[ "$LEFT" = h1 ] || die "the target left is on $LEFT, not h1"
log "OK: Prometheus found the registrator's services through weft, scraped them, and followed a container stopping"
