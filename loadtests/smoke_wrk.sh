#!/usr/bin/env bash
# A first, closed-loop look at the hit path: the demo (one process, embedded store) against BigCommerce's
# simulator, on a 24-product category page for one buyer. wrk (Debian: apt-get install wrk) cannot hold a
# fixed rate, so queueing delay is hidden (coordinated omission): the load-test harness replaces this.
# Usage: loadtests/smoke_wrk.sh [port] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-9300}
SECONDS_EACH=${2:-10}
WORK=$(mktemp -d)
trap 'kill "$DEMO" 2>/dev/null; rm -rf "$WORK"' EXIT
PRICING_EDGE_BC_LATENCY_MS=150 .venv/bin/pricing-edge demo --port "$PORT" >"$WORK/demo.log" 2>&1 &
DEMO=$!
for _ in $(seq 1 150); do curl -sf "localhost:$PORT/readyz" >/dev/null && break; sleep 0.2; done
CATEGORY=$(.venv/bin/pricing-edge fixtures --port "$PORT" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["category_id"])')
QUERY="query { site { category(entityId: $CATEGORY) { products(first: 24) { edges { node { entityId name prices { price { value formattedV2 } priceRange { min { value } max { value } } bulkPricing { minimumQuantity } } inventory { aggregated { availableToSell } } } } } } } }"
cat >"$WORK/plp.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer demo-impersonation-token"
wrk.headers["X-Bc-Customer-Id"] = "1"
wrk.body = '{"query":"$QUERY"}'
LUA
curl -s "localhost:$PORT/graphql" -H 'Content-Type: application/json' -H 'Authorization: Bearer demo-impersonation-token' \
  -H 'X-Bc-Customer-Id: 1' -d "{\"query\":\"$QUERY\"}" >/dev/null  # warm: the first answer is a miss
for target in "edge:$PORT" "bigcommerce-simulator:$((PORT + 1))"; do
  echo "--- ${target%%:*}"
  wrk -t1 -c16 -d"${SECONDS_EACH}s" --latency -s "$WORK/plp.lua" "http://127.0.0.1:${target##*:}/graphql" \
    | grep -E "50%|90%|99%|Requests/sec|Non-2xx"
done
