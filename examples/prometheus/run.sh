#!/usr/bin/env bash
# Prometheus-style scraping with targets found through weft: on the three hosts of ../three-hosts, a container on
# h1 and one on h2 serve a /metrics page (busybox httpd) with SERVICE_TAGS=prometheus; the registrator in each
# host's agent registers them; on h3 a scraper reads a Prometheus configuration with consul_sd_configs pointing at
# h3's weft agent, relabels the __meta_consul_* labels and scrapes both containers over the overlay; the
# Prometheus query API shows the samples with those labels. Then metrics-h2 is stopped (its target goes) and
# started again (it comes back). Prints each step with its time and a summary.
#
# The scraper is Debian's VictoriaMetrics (package victoria-metrics: it reads Prometheus' scrape configuration,
# consul_sd_configs included, and serves Prometheus' HTTP API), run as a process of this script's own, not the
# packaged service. Debian's own Prometheus package cannot do this: Debian builds it without Consul service
# discovery. An upstream Prometheus reads the same prometheus.yml.
#
# Sets up the three hosts first (../three-hosts/up.sh) unless they are up. Run as root. The scraper and the
# containers stay up to look around; running this again replaces them; ../three-hosts/down.sh removes everything.
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
P="$STATE/prometheus"                       # the scrape configuration, the scraper's data and log
PROM_PID="$STATE/h3/victoria-metrics.pid"   # down() stops it with the agents and dockerds
PROM=127.0.0.1:9090                         # in h3's namespace: reachable only from there
SERVICE=demo-metrics
trap 'rc=$?; [ $rc -eq 0 ] || log "failed (exit $rc): scraper log $P/victoria-metrics.log; ../three-hosts/down.sh removes everything"' EXIT

install_missing victoria-metrics:victoria-metrics
if [ -f "$PROM_PID" ] || dk h1 inspect metrics-h1 >/dev/null 2>&1; then
    log "an earlier run of this example is up: replacing its scraper and containers"
    p="$(cat "$PROM_PID" 2>/dev/null || true)"
    if [ -n "$p" ] && grep -qa victoria-metrics "/proc/$p/cmdline" 2>/dev/null; then   # still ours
        kill -TERM "$p" 2>/dev/null || true
        for _ in $(seq 1 100); do running "$p" || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    fi
    rm -f "$PROM_PID"
    dk h1 rm -f metrics-h1 >/dev/null 2>&1 || true
    dk h2 rm -f metrics-h2 >/dev/null 2>&1 || true
    none_left() { [ "$(api h3 "/v1/catalog/service/$SERVICE" | jq length)" = 0 ]; }
    wait_for 60 "the old containers to leave h3's catalog" none_left
fi
rm -rf "$P"
mkdir -p "$P/data"
step "three hosts up; Debian's victoria-metrics $(dpkg-query -W -f '${Version}' victoria-metrics 2>/dev/null || echo '?') found"

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
# -promscrape.consulSDCheckInterval: how often the targets found by the Consul watch (blocking queries on weft)
# are applied (default 30 s); -search.latencyOffset: how old a sample must be before queries see it (default 30 s)
setsid nsenter --net="/run/netns/$PFX-h3" victoria-metrics -promscrape.config="$P/prometheus.yml" \
    -storageDataPath="$P/data" -httpListenAddr="$PROM" -retentionPeriod=1d -loggerLevel=WARN \
    -promscrape.consulSDCheckInterval=1s -search.latencyOffset=1s \
    </dev/null >"$P/victoria-metrics.log" 2>&1 &
echo $! >"$PROM_PID"
prom() { inns h3 curl -fsS -m 5 "$@"; }
ready() { running "$(cat "$PROM_PID")" && prom "http://$PROM/-/ready"; }
wait_for 60 "the scraper to start (log $P/victoria-metrics.log)" ready
step "scraper on h3 (http://$PROM in namespace $PFX-h3): consul_sd_configs server ${ADDR[h3]}:8500, tags [prometheus]"

# targets_up: how many active targets of the job are up
targets() { prom "http://$PROM/api/v1/targets"; }
targets_up() { targets | jq '[.data.activeTargets[] | select(.labels.job == "weft-services" and .health == "up")] | length'; }
two_up() { [ "$(targets_up 2>/dev/null)" = 2 ]; }
wait_for 60 "the scraper to list both targets as up" two_up
targets | jq -r '.data.activeTargets[] | select(.labels.job == "weft-services") |
    "      target \(.scrapeUrl)  health \(.health)  service=\(.labels.service) node=\(.labels.node) service_id=\(.labels.service_id)"'
step "discovered both through weft and scraped them: /api/v1/targets lists 2 up"

query() { prom -G "http://$PROM/api/v1/query" --data-urlencode "query=$1"; }
has_two() { [ "$(query demo_up | jq '.data.result | length')" = 2 ]; }
wait_for 30 "two demo_up series" has_two
RESULT="$(query demo_up | jq -r '.data.result[] | "      demo_up{service=\"\(.metric.service)\", node=\"\(.metric.node)\", instance=\"\(.metric.instance)\"} \(.value[1])"' | sort)"
echo "$RESULT"
SUM="$(query 'sum(demo_up)' | jq -r '.data.result[0].value[1]')"
step "query demo_up: 2 series, one per container, with their consul labels; sum(demo_up) = $SUM"

# A stopped container: the registrator deregisters it, the blocking query the scraper holds on weft wakes, the
# target goes; started again, it comes back. (Queries keep a stopped target's last sample for a few minutes;
# the target list is the immediate change.)
jobs_targets() { targets | jq '[.data.activeTargets[] | select(.labels.job == "weft-services")] | length'; }
one_target() { [ "$(jobs_targets 2>/dev/null)" = 1 ]; }
dk h2 stop -t 1 metrics-h2 >/dev/null
T_STOP=$(date +%s.%N)
wait_for 60 "metrics-h2's target to go" one_target
GONE="$(elapsed "$T_STOP")"
LEFT="$(targets | jq -r '.data.activeTargets[] | select(.labels.job == "weft-services") | .labels.node')"
step "docker stop metrics-h2: its target went after $GONE s; left: the one on $LEFT"

dk h2 start metrics-h2 >/dev/null
T_START2=$(date +%s.%N)
wait_for 60 "metrics-h2's target to come back up" two_up
BACK="$(elapsed "$T_START2")"
step "docker start metrics-h2: its target was back and up after $BACK s"

cat <<EOF

Summary
$(summary_steps)

  the scraper on h3 scraped 2 targets found through weft's Consul API (consul_sd_configs, tag prometheus):
$RESULT
  metrics-h2 stopped: its target went after $GONE s; started again: back and up after $BACK s

Look around (as root):
  ip netns exec $PFX-h3 curl -s http://$PROM/api/v1/targets | jq '.data.activeTargets[] | {scrapeUrl, health, labels}'
  ip netns exec $PFX-h3 curl -s 'http://$PROM/api/v1/query?query=demo_up' | jq .data.result
  ip netns exec $PFX-h3 curl -s 'http://${ADDR[h3]}:8500/v1/health/service/$SERVICE?tag=prometheus' | jq .
  docker -H unix://$STATE/h1/docker.sock stop metrics-h1       # and watch its target go
  scrape configuration: $P/prometheus.yml, log: $P/victoria-metrics.log
Remove everything: $HERE/../three-hosts/down.sh
EOF
[ "$SUM" = 2 ] || die "sum(demo_up) = $SUM, not 2"
[ "$LEFT" = h1 ] || die "the target left is on $LEFT, not h1"
log "OK: the registrator's services were found through weft's Consul API and scraped; a stop and a start were followed"
