#!/usr/bin/env bash
# A first, closed-loop look at the hit path: a 24-product category page for one buyer, the edge against
# BigCommerce's simulator. wrk (Debian: apt-get install wrk) cannot hold a fixed rate, so queueing delay is
# hidden (coordinated omission): the load-test harness replaces this.
#   loadtests/smoke_wrk.sh demo  [port] [seconds]   the demo: one process, embedded store
#   loadtests/smoke_wrk.sh serve [port] [seconds]   production shape: `serve --workers 2` on Redis
#                                                   ($PRICING_EDGE_REDIS_URL, default the local one)
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-demo}
PORT=${2:-9300}
SECONDS_EACH=${3:-10}
WORK=$(mktemp -d)
PIDS=()
export PRICING_EDGE_REDIS_PREFIX="pe-smoke-$$:"
cleanup() {
  kill "${PIDS[@]}" 2>/dev/null || true
  if [ "$MODE" = serve ]; then
    redis-cli -u "$PRICING_EDGE_REDIS_URL" --scan --pattern "$PRICING_EDGE_REDIS_PREFIX*" \
      | xargs -r redis-cli -u "$PRICING_EDGE_REDIS_URL" del >/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
background() { "$@" >>"$WORK/servers.log" 2>&1 & PIDS+=($!); }

case "$MODE" in
  demo)
    PRICING_EDGE_BC_LATENCY_MS=150 background .venv/bin/pricing-edge demo --port "$PORT" ;;
  serve)
    export PRICING_EDGE_REDIS_URL=${PRICING_EDGE_REDIS_URL:-redis://localhost:6379/0}
    PRICING_EDGE_EVENT_SECRET=$(.venv/bin/python -c "from pricing_edge.sim.fixtures import DEMO_EVENT_SECRET as s; print(s)")
    export PRICING_EDGE_EVENT_SECRET
    PRICING_EDGE_BC_LATENCY_MS=150 background .venv/bin/pricing-edge sim bigcommerce --port $((PORT + 1)) --log-level warning
    background .venv/bin/pricing-edge sim erp --port $((PORT + 2)) --events-url "http://127.0.0.1:$PORT/events/erp" \
      --log-level warning
    PRICING_EDGE_UPSTREAM_URL="http://127.0.0.1:$((PORT + 1))/graphql" PRICING_EDGE_ERP_URL="http://127.0.0.1:$((PORT + 2))" \
      PRICING_EDGE_SCHEMA_CACHE="$WORK/schema.json" \
      background .venv/bin/pricing-edge serve --port "$PORT" --workers 2 --log-level warning ;;
  *) echo "usage: $0 demo|serve [port] [seconds]" >&2; exit 2 ;;
esac
for _ in $(seq 1 150); do curl -sf "localhost:$PORT/readyz" >/dev/null && break; sleep 0.2; done

QUERY='query { site { category(entityId: 1) { products(first: 24) { edges { node { entityId name prices { price { value formattedV2 } priceRange { min { value } max { value } } bulkPricing { minimumQuantity } } inventory { aggregated { availableToSell } } } } } } } }'
cat >"$WORK/plp.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer demo-impersonation-token"
wrk.headers["X-Bc-Customer-Id"] = "1"
wrk.body = '{"query":"$QUERY"}'
LUA
for _ in 1 2 3 4; do  # warm (each worker): the first answers are misses
  curl -s "localhost:$PORT/graphql" -H 'Content-Type: application/json' -H 'Authorization: Bearer demo-impersonation-token' \
    -H 'X-Bc-Customer-Id: 1' -d "{\"query\":\"$QUERY\"}" >/dev/null
done
measure() {
  echo "--- $1"
  wrk -t1 -c"$3" -d"${SECONDS_EACH}s" --latency -s "$WORK/plp.lua" "http://127.0.0.1:$2/graphql" \
    | grep -E "50%|90%|99%|Requests/sec|Non-2xx"
}
if [ "$MODE" = demo ]; then
  measure edge "$PORT" 16
  measure bigcommerce-simulator $((PORT + 1)) 16
else
  measure "edge (serve --workers 2, Redis)" "$PORT" 32
fi
