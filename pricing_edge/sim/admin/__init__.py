"""The simulated BigCommerce REST Admin API, mounted in the BigCommerce simulator next to ``/graphql``.

Paths are BigCommerce's, under ``/stores/{store_hash}``; every call needs ``X-Auth-Token`` (else 401;
another store hash is 404). Shapes follow the vendor's ``orders.v2.oas2.yml`` and ``webhooks.v3.yml``;
money is a four-decimal string; v2 errors are ``[{"status", "message"}]``, v3 errors
``{"status", "title", "type"[, "errors"]}``::

  POST /v2/orders                  create (catalog lines by product_id/variant_id/sku, or custom lines with
                                   name + price); 200 order; emits store/order/created
  GET  /v2/orders?page=&limit=&min_id=&max_id=&status_id=&customer_id=&email=&external_order_id=&sort=
  GET  /v2/orders/{id}             404 if unknown
  PUT  /v2/orders/{id}             status_id, external_order_id, staff_notes, customer_message, products
                                   (with id: update/quantity 0 removes; without: add), ...; emits
                                   store/order/updated, and store/order/statusUpdated if the status changed
  GET  /v2/orders/{id}/products, /v2/orders/{id}/shipping_addresses   (page, limit)
  GET  /v2/orders/{id}/shipments   204 when there are none
  POST /v2/orders/{id}/shipments   {order_address_id, items: [{order_product_id, quantity}], tracking_number,
                                   shipping_provider | tracking_carrier, ...} → 201; the order becomes
                                   Shipped / Partially Shipped; emits store/shipment/created (+ order events)
  GET  /v2/order_statuses          the 15 built-in statuses
  GET|POST /v3/hooks, GET|PUT|DELETE /v3/hooks/{id}    {"data": ..., "meta": {...}}
  GET  /v3/channels[/{id}], /v3/channels[/{id}]/currency-assignments; GET|POST|DELETE /v3/pricelists/assignments,
                                   PUT /v3/pricelists/{id}/assignments  (``pricing_edge.sim.admin.assignments``)
  GET  /v3/carts/{id}, PUT /v3/carts/{id}/items/{item}   the storefront's carts, server to server: a line's
                                   quantity and list_price override (``pricing_edge.sim.admin.carts``)

Rate limit (fixed window per store, default 150 per 30 s) with BigCommerce's ``X-Rate-Limit-*`` headers on
every REST response, 429 + ``X-Retry-After`` over quota. Webhooks: see ``pricing_edge.sim.admin.webhooks``.
Controls (never faulted or limited): ``GET /_sim/webhooks``, ``POST /_sim/webhooks/{seq}/redeliver``,
``GET|POST /_sim/rate-limit``.
"""
from pricing_edge.sim.admin.rate_limit import FixedWindow, RateLimitMiddleware
from pricing_edge.sim.admin.routes import admin_routes
from pricing_edge.sim.admin.state import DEFAULT_CLIENT_ID, AdminState
from pricing_edge.sim.admin.webhooks import DEFAULT_POLICY, signing_secret
from pricing_edge.sim.delivery import DeliveryPolicy

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_POLICY", "AdminState", "DeliveryPolicy", "FixedWindow",
           "RateLimitMiddleware", "admin_routes", "signing_secret"]
