"""Order shipments (``/v2/orders/{id}/shipments``), as BigCommerce keeps them.

A shipment names one of the order's shipping addresses and which order products (and how many of each)
leave in it; it may not ship a product the order does not have, or more than is still unshipped. As in
BigCommerce, shipping moves the order to Shipped (everything shipped) or Partially Shipped, so a shipment
causes ``store/shipment/created``, ``store/order/updated`` and, when the status changes,
``store/order/statusUpdated``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pricing_edge.sim.admin import statuses
from pricing_edge.sim.admin.fields import ADDRESS_FIELDS, rfc2822
from pricing_edge.sim.admin.http import AdminError, money4, parse_money, reject_unknown, require_int, require_str
from pricing_edge.sim.admin.lines import ZERO
from pricing_edge.sim.admin.orders import Event, Order, OrderBook, status_event

POST_FIELDS = frozenset({"order_address_id", "tracking_number", "tracking_link", "merchant_shipping_cost",
                         "shipping_method", "shipping_provider", "tracking_carrier", "comments", "items"})
PROVIDER_NAMES = {"": "", "auspost": "Australia Post", "canadapost": "Canada Post", "endicia": "Endicia",
                  "usps": "USPS", "fedex": "FedEx", "ups": "UPS", "upsready": "UPS", "upsonline": "UPS",
                  "shipperhq": "ShipperHQ", "royalmail": "Royal Mail"}
_LIMITS = {"tracking_number": 50, "tracking_link": 500, "comments": 65535, "shipping_method": None,
           "shipping_provider": None, "tracking_carrier": None}


@dataclass
class Shipment:
    id: int
    order_id: int
    customer_id: int
    order_address_id: int
    created: datetime
    items: list[tuple[int, int, int]]  # (order product id, product id, quantity)
    text: dict[str, str] = field(default_factory=dict)
    merchant_shipping_cost: Decimal = ZERO

    def view(self, order: Order) -> dict[str, Any]:
        address = order.address(self.order_address_id)
        provider = self.text.get("shipping_provider", "")
        carrier = self.text.get("tracking_carrier", "")
        number = self.text.get("tracking_number", "")
        generated = f"https://track.aftership.com/{carrier or provider}/{number}" if number and (
            carrier or provider) else ""
        return {
            "id": self.id, "order_id": self.order_id, "customer_id": self.customer_id,
            "order_address_id": self.order_address_id, "date_created": rfc2822(self.created),
            "tracking_number": number, "merchant_shipping_cost": money4(self.merchant_shipping_cost),
            "shipping_method": self.text.get("shipping_method", "None"), "comments": self.text.get("comments", ""),
            "shipping_provider": provider, "tracking_carrier": carrier,
            "tracking_link": self.text.get("tracking_link", ""),
            "billing_address": {name: order.billing_address.get(name, "") for name in ADDRESS_FIELDS},
            "shipping_address": address.base() if address else {},
            "items": [{"order_product_id": line_id, "product_id": product_id, "quantity": quantity}
                      for line_id, product_id, quantity in self.items],
            "shipping_provider_display_name": PROVIDER_NAMES.get(provider, provider),
            "generated_tracking_link": generated,
        }


def create_shipment(book: OrderBook, order_id: int, body: dict[str, Any]) -> tuple[Shipment, list[Event]]:
    """Validate everything first; then record the shipment and move the order's shipped counts and status."""
    order = book.get(order_id)
    reject_unknown(body, POST_FIELDS)
    if "order_address_id" not in body:
        raise AdminError(400, "The field 'order_address_id' is required.")
    address_id = require_int(body["order_address_id"], "order_address_id")
    if order.address(address_id) is None:
        raise AdminError(400, f"The field 'order_address_id': {address_id} is not a shipping address of "
                              f"order {order_id}.")
    text = {name: require_str(body[name], name, max_length=limit) for name, limit in _LIMITS.items() if name in body}
    cost = parse_money(body["merchant_shipping_cost"], "merchant_shipping_cost") \
        if "merchant_shipping_cost" in body else ZERO
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise AdminError(400, "The field 'items' is required: a non-empty list of {order_product_id, quantity}.")
    wanted: Counter[int] = Counter()
    for n, item in enumerate(items):
        where = f"items[{n}]"
        if not isinstance(item, dict):
            raise AdminError(400, f"The field '{where}' must be an object.")
        reject_unknown(item, frozenset({"order_product_id", "quantity"}), f"{where}.")
        line_id = require_int(item.get("order_product_id"), f"{where}.order_product_id")
        line = order.line(line_id)
        if line is None:
            raise AdminError(400, f"The field '{where}.order_product_id': order product {line_id} is not on "
                                  f"order {order_id}.")
        if line.order_address_id != address_id:
            raise AdminError(400, f"The field '{where}.order_product_id': order product {line_id} ships to "
                                  f"address {line.order_address_id}, not {address_id}.")
        wanted[line_id] += require_int(item.get("quantity"), f"{where}.quantity", minimum=1)
    for line_id, quantity in wanted.items():
        line = order.line(line_id)
        assert line is not None
        if quantity > line.remaining:
            raise AdminError(400, f"Cannot ship {quantity} of order product {line_id} ({line.sku or line.name}): "
                                  f"only {line.remaining} of {line.quantity} not yet shipped.")
    now = datetime.now(UTC)
    previous_status = order.status_id
    shipped_items = []
    for line_id, quantity in wanted.items():
        line = order.line(line_id)
        assert line is not None
        line.quantity_shipped += quantity
        shipped_items.append((line_id, line.product_id, quantity))
    shipment = Shipment(next(book.shipment_ids), order_id, order.customer_id, address_id, now, shipped_items,
                        text, cost)
    order.shipments.append(shipment)
    all_shipped = all(line.remaining == 0 for line in order.lines)
    order.status_id = statuses.SHIPPED if all_shipped else statuses.PARTIALLY_SHIPPED
    order.date_shipped = now
    order.modified = now
    events: list[Event] = [("store/shipment/created", {"type": "shipment", "id": shipment.id, "orderId": order_id}),
                           ("store/order/updated", {"type": "order", "id": order_id})]
    if order.status_id != previous_status:
        events.append(status_event(order_id, previous_status, order.status_id))
    return shipment, events
