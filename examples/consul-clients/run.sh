#!/usr/bin/env bash
# Runs the Consul-client program (ConsulClientsDemo: Orbitz' com.orbitz.consul:consul-client doing KV, a lock,
# service discovery and a blocking query) against a weft agent, after building it when
# examples/consul-clients/target/consul-clients.jar is missing or older than its sources. Start the agent first:
#
#   ./weft agent -dev                      # in one terminal
#   examples/consul-clients/run.sh         # in another: about 5 s (the first run builds the program: ~30 s)
#
# Environment: CONSUL_HTTP_ADDR (the agent's HTTP API, host:port, default 127.0.0.1:8500), JAVA_HOME. Exit code
# 0 when every answer was what Consul answers, 1 at the first wrong one (it prints WRONG: …), 2 on an error such
# as no agent answering. Needs no root; writes only under the key prefix consul-clients-demo/ and the services
# greeter-1 and greeter-2, and removes them again.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
JAR="$HERE/target/consul-clients.jar"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
export CONSUL_HTTP_ADDR="${CONSUL_HTTP_ADDR:-127.0.0.1:8500}"

stale() {
    [ -f "$JAR" ] || return 0
    [ -n "$(find "$ROOT/pom.xml" "$HERE/pom.xml" "$HERE/src/main" -type f -newer "$JAR" -print -quit)" ]
}
if stale; then
    printf '[%s] building %s (./mvnw -pl examples/consul-clients package)\n' "$(date +%H:%M:%S)" "${JAR#"$ROOT"/}"
    (cd "$ROOT" && ./mvnw -q -B -pl examples/consul-clients package) || {
        echo "build failed (command: cd $ROOT && ./mvnw -pl examples/consul-clients package)" >&2
        exit 2
    }
    touch "$JAR"
fi
printf '[%s] the Consul client library com.orbitz.consul:consul-client 1.5.3 against %s\n' "$(date +%H:%M:%S)" \
    "$CONSUL_HTTP_ADDR"
exec "$JAVA" -jar "$JAR"
