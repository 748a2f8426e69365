"""The simulated ERP (`pricing-edge sim erp`): live reads, changes that emit signed events, faults.

One state over the seeded demo dataset (``pricing_edge.sim.dataset``), whose ERP-side records it owns
and mutates, seen through one *face*: the generic API below (``face="sim"``), or a vendor's API in its
own codes (``face="s4hana"``: ``pricing_edge.sim.erp.faces.s4hana``, which replaces ``/api/v1`` and
sends the vendor's business events instead of ours). On the generic face, ids are BigCommerce-side ids
(price list, location, customer group, company); records travel in exactly the shape of the change
events' ``data`` (``pricing_edge.domain.events``): money as decimal strings, an integer ``version``,
optional fields absent when none.

Live reads (JSON; slowed by the configured latency and subject to ``/_sim/faults``)::

  GET /healthz                                        {"status": "ok", "service": "erp-sim", "seed"}
  GET /api/v1/price-lists                             {"items": [{"id", "name", "currencies"}]}
  GET /api/v1/price-lists/{id}/prices?currency=USD&sku=A&sku=B   (or sku=A,B; 1..500 SKUs)
      → {"price_list_id", "currency", "items": [price data], "missing": [unknown SKUs]}
  GET /api/v1/price-lists/{id}/prices/export?currency=USD&offset=0&limit=500   (limit ≤ 1000)
      → {"price_list_id", "currency", "total_skus", "offset", "next_offset": int | null, "items"}
  GET /api/v1/locations                               {"items": [{"id", "code", "name"}]}
  GET /api/v1/stock?sku=A,B[&location_id=1]           {"items": [stock data per warehouse], "missing"}
  GET /api/v1/stock/export?offset=0&limit=500         {"total_skus", "offset", "next_offset", "items"}
  GET /api/v1/companies/{company_id}/credit           credit data
  GET /api/v1/customers/{customer_id}                 customer data

Sales orders (JSON; faulted like the reads; see ``pricing_edge.sim.erp.sales_orders``)::

  POST  /api/v1/sales-orders    {"reference", "bc_order_id", "customer_id", "sold_to", "currency",
                                 "document_type"?, "po_number"?, "ship_to"?, "cancelled"?,
                                 "lines": [{"sku", "quantity", "unit_price"}]}
      → 201 order {"number": "SO-100001", "reference", "status": "open", "lines", "version", ...};
      409 {"error", "field": "reference", "number"} if an order has that reference; 422 for an
      unknown item ("lines[N].sku"), an unknown account ("sold_to") or any other invalid field
  GET   /api/v1/sales-orders[?reference=X][&offset=&limit=]   {"total", "offset", "next_offset", "items"}
  GET   /api/v1/sales-orders/{number}                           one order (404 if unknown)
  PATCH /api/v1/sales-orders/{number}   lines / ship_to / po_number / cancelled; only while open or
      released (else 409); ``cancelled: true`` cancels and emits com.pricingedge.salesorder.changed

Paging counts SKUs, so one SKU's records never straddle two pages. Unknown SKUs are listed in
``missing`` (not an error); an unknown price list, company or customer is 404; a bad parameter
is 400 ``{"error": "<param>: <problem>", "field": "<param>"}``. A well-formed currency the price
list has no prices in reports every SKU missing.

Simulator control (never faulted)::

  POST /_sim/changes/price     {"price_list_id", "sku", "currency", "price"?, "sale_price"?,
                                "retail_price"?, "map_price"?, "bulk_pricing"?}
  POST /_sim/changes/stock     {"sku", "location_id", "on_hand"?, "allocated"?, "safety_stock"?,
                                "backorder"?, "lead_time_days"?}
  POST /_sim/changes/credit    {"company_id", "credit_limit"?, "balance"?, "status"?: "ok"|"hold"}
  POST /_sim/changes/customer  {"customer_id", "customer_group_id"?, "company_id"?}
      Patch semantics: given fields replace, ``null`` clears an optional one, at least one field
      to change. The record gets a new ``version`` from the ERP's sequence and exactly one signed
      event is emitted. → 200 {"type", "record": data, "event": outbox entry}. Bad input → 400
      ``{"error", "field"}``, nothing changed, nothing emitted. The answer waits for the event's first
      delivery attempt (at most 1 s); with ``?wait_ms=N`` (≤ 60000) until it is settled (delivered,
      rejected, failed) or N ms have passed.
  GET  /_sim/events?type=&status=&after=<seq>&limit=   the outbox, oldest first:
      {"events": [{"seq", "id", "type", "subject", "status", "attempts", "last_status",
                   "last_error", "created_at", "delivered_at", "envelope"}], "emitted", "in_flight"}
      status: pending | retrying | delivered | failed | rejected | not_sent (no events URL)
  GET  /_sim/events/{id}?wait_ms=N   held until the event is settled or N ms have passed (default 0)
  POST /_sim/events/{id}/redeliver   (same id again: exercises dedup)
  GET|POST /_sim/ticker {"rate": changes per second, 0 stops}; POST /_sim/ticker/tick {"count"?}
  POST /_sim/sales-orders/{number}/ship    {"carrier", "tracking_number", "lines"?: [{"sku", "quantity"}]}
      (default: everything left) → order shipped or partially_shipped; emits
      com.pricingedge.shipment.created → {"order", "shipment": data, "event"}
  POST /_sim/sales-orders/{number}/status  {"status"} → emits com.pricingedge.salesorder.changed if it
      changed → {"order", "event": entry | null}
  GET  /_sim/sales-orders                  {"orders": [...], "shipments": [shipment data]}
  POST /_sim/items  {"sku", "price"?: "10.00", "on_hand"?: 0}   a new item: priced on every price list in
      every currency, stocked in every warehouse → 201 {"sku", "prices", "stock"}; 409 if it exists
  POST /_sim/price-lists {"id", "name", "company_id"?, "prices": [{"sku", "currency", "price"}]}   a new
      price list — a company's own with ``company_id`` (customer-specific prices) → 201 {"prices"}
  GET  /api/v1/shipments?reference=X, /api/v1/invoices?reference=X   an order's shipments and invoices
  GET|POST|DELETE /_sim/faults {"down_seconds", "latency_ms", "error_rate", "throttle_requests", "retry_after"}
"""
from pricing_edge.sim.erp.app import DEFAULT_SOURCE, ErpSim, create_app
from pricing_edge.sim.delivery import DeliveryPolicy

__all__ = ["DEFAULT_SOURCE", "DeliveryPolicy", "ErpSim", "create_app"]
