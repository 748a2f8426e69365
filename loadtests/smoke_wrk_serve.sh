#!/usr/bin/env bash
# The same first look as smoke_wrk.sh, the way production runs: `pricing-edge serve --workers 2` on Redis,
# with both simulators as their own processes. Closed loop (wrk): no substitute for the load-test harness.
# Usage: loadtests/smoke_wrk_serve.sh [port] [seconds] [redis-url]
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-9400}
SECONDS_EACH=${2:-10}
export PRICING_EDGE_REDIS_URL=${3:-redis://localhost:6379/0}
export PRICING_EDGE_REDIS_PREFIX="pe-smoke-$$:"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  kill "${PIDS[@]}" 2>/dev/null || true
  redis-cli -u "$PRICING_EDGE_REDIS_URL" --scan --pattern "$PRICING_EDGE_REDIS_PREFIX*" | xargs -r redis-cli -u "$PRICING_EDGE_REDIS_URL" del >/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
export PRICING_EDGE_EVENT_SECRET
PRICING_EDGE_EVENT_SECRET=$(.venv/bin/python -c "from pricing_edge.sim.fixtures import DEMO_EVENT_SECRET as s; print(s)")
PRICING_EDGE_BC_LATENCY_MS=150 .venv/bin/pricing-edge sim bigcommerce --port $((PORT + 1)) --log-level warning >"$WORK/bc.log" 2>&1 &
PIDS+=($!)
.venv/bin/pricing-edge sim erp --port $((PORT + 2)) --events-url "http://127.0.0.1:$PORT/events/erp" --log-level warning >"$WORK/erp.log" 2>&1 &
PIDS+=($!)
PRICING_EDGE_UPSTREAM_URL="http://127.0.0.1:$((PORT + 1))/graphql" PRICING_EDGE_ERP_URL="http://127.0.0.1:$((PORT + 2))" \
  PRICING_EDGE_SCHEMA_CACHE="$WORK/schema.json" .venv/bin/pricing-edge serve --port "$PORT" --workers 2 --log-level warning >"$WORK/edge.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 150); do curl -sf "localhost:$PORT/readyz" >/dev/null && break; sleep 0.2; done
QUERY='query { site { category(entityId: 1) { products(first: 24) { edges { node { entityId name prices { price { value formattedV2 } priceRange { min { value } max { value } } bulkPricing { minimumQuantity } } inventory { aggregated { availableToSell } } } } } } } }'
cat >"$WORK/plp.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer demo-impersonation-token"
wrk.headers["X-Bc-Customer-Id"] = "1"
wrk.body = '{"query":"$QUERY"}'
LUA
for _ in 1 2 3 4; do  # warm both workers
  curl -s "localhost:$PORT/graphql" -H 'Content-Type: application/json' -H 'Authorization: Bearer demo-impersonation-token' \
    -H 'X-Bc-Customer-Id: 1' -d "{\"query\":\"$QUERY\"}" >/dev/null
done
wrk -t1 -c32 -d"${SECONDS_EACH}s" --latency -s "$WORK/plp.lua" "http://127.0.0.1:$PORT/graphql" | grep -E "50%|90%|99%|Requests/sec|Non-2xx"
