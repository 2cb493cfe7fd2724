#!/usr/bin/env bash
# Removes what ./up.sh (and ../failover/run.sh) made: containers, dockerds and weft agents it started (by the PIDs
# it recorded), the namespaces wx-u and wx-h1..wx-h3 (with their bridge and veths) and the state directory
# (WEFT_EXAMPLE_DIR, default /tmp/weft-example). Nothing else. Safe to run twice, or after a failed up.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/../lib/hosts.sh"
need_root
down
left="$(ip netns list | grep "^$PFX-" || true)"
[ -z "$left" ] || die "namespaces left: $left"
log "removed the three hosts, their dockerds, agents and containers, and $STATE ($(elapsed "$T_START") s)"
