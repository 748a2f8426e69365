"""Orders and shipping addresses as BigCommerce v2 returns them (the spec's ``order_Resp`` and
``orderShippingAddress``): money as four-decimal strings, dates in RFC 2822, sub-resources as links."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pricing_edge.sim.admin import statuses
from pricing_edge.sim.admin.fields import ADDRESS_FIELDS, COST_KINDS, rfc2822, subtotals, totals
from pricing_edge.sim.admin.http import money4
from pricing_edge.sim.admin.lines import ZERO
from pricing_edge.sim.dataset import CURRENCIES, DEFAULT_CURRENCY

if TYPE_CHECKING:
    from pricing_edge.sim.admin.orders import Address, Order

CURRENCY_IDS = {code: n + 1 for n, code in enumerate(CURRENCIES)}
EXCHANGE_RATE_ONE = "1.0000000000"


def order_view(order: Order, base_url: str) -> dict[str, Any]:
    """``base_url`` is the store's API root (``.../stores/{hash}``): the links point back into the simulator."""
    lines = order.lines
    sub_ex, sub_inc = subtotals(lines)
    total_ex, total_inc = totals(order, lines)
    text = order.text
    resource = f"/orders/{order.id}"

    def link(name: str) -> dict[str, str]:
        return {"url": f"{base_url}/v2{resource}/{name}", "resource": f"{resource}/{name}"}

    costs: dict[str, Any] = {}
    for kind in COST_KINDS:
        ex, inc = order.cost(f"{kind}_cost_ex_tax"), order.cost(f"{kind}_cost_inc_tax")
        costs |= {f"base_{kind}_cost": money4(order.money.get(f"base_{kind}_cost", ex)),
                  f"{kind}_cost_ex_tax": money4(ex), f"{kind}_cost_inc_tax": money4(inc),
                  f"{kind}_cost_tax": money4(inc - ex), f"{kind}_cost_tax_class_id": 0}
    currency_id = CURRENCY_IDS[order.currency]
    status_name = statuses.name_of(order.status_id)
    return {
        "id": order.id, "customer_id": order.customer_id,
        "date_created": text.get("date_created") or rfc2822(order.created),
        "date_modified": rfc2822(order.modified),
        "date_shipped": rfc2822(order.date_shipped) if order.date_shipped else "",
        "status_id": order.status_id, "status": status_name,
        "subtotal_ex_tax": money4(sub_ex), "subtotal_inc_tax": money4(sub_inc),
        "subtotal_tax": money4(sub_inc - sub_ex), **costs,
        "total_ex_tax": money4(total_ex), "total_inc_tax": money4(total_inc),
        "total_tax": money4(total_inc - total_ex), "is_tax_inclusive_pricing": order.tax_inclusive,
        "items_total": sum(line.quantity for line in lines),
        "items_shipped": sum(line.quantity_shipped for line in lines),
        "payment_method": text.get("payment_method", "Manual"),
        "payment_provider_id": text.get("payment_provider_id", ""), "payment_status": "",
        "refunded_amount": money4(ZERO), "order_is_digital": text.get("order_is_digital", False),
        "store_credit_amount": money4(ZERO), "gift_certificate_amount": money4(ZERO),
        "ip_address": text.get("ip_address", ""), "ip_address_v6": text.get("ip_address_v6", ""),
        "geoip_country": text.get("geoip_country", ""), "geoip_country_iso2": text.get("geoip_country_iso2", ""),
        "currency_id": currency_id, "currency_code": order.currency, "currency_exchange_rate": EXCHANGE_RATE_ONE,
        "default_currency_id": currency_id, "default_currency_code": order.currency,
        "staff_notes": text.get("staff_notes", ""), "customer_message": text.get("customer_message", ""),
        "discount_amount": money4(order.cost("discount_amount")), "coupon_discount": money4(order.coupon_discount()),
        "shipping_address_count": len(order.addresses), "is_deleted": False,
        "ebay_order_id": text.get("ebay_order_id", "0"), "cart_id": "",
        "billing_address": {**{name: order.billing_address.get(name, "") for name in ADDRESS_FIELDS},
                            "form_fields": []},
        "is_email_opt_in": False, "credit_card_type": None, "order_source": text.get("order_source", "external"),
        "channel_id": order.channel_id, "external_source": text.get("external_source"),
        "products": link("products"), "shipping_addresses": link("shipping_addresses"), "coupons": link("coupons"), "fees": link("fees"),
        "external_id": None, "external_merchant_id": text.get("external_merchant_id"),
        "tax_provider_id": text.get("tax_provider_id", "BasicTaxProvider"),
        "store_default_currency_code": DEFAULT_CURRENCY,
        "store_default_to_transactional_exchange_rate": EXCHANGE_RATE_ONE,
        "custom_status": status_name, "customer_locale": text.get("customer_locale", "en"),
        "external_order_id": text.get("external_order_id", ""),
    }


def address_view(order: Order, address: Address, base_url: str) -> dict[str, Any]:
    lines = [line for line in order.lines if line.order_address_id == address.id]
    ex = inc = order.shipping_of(address)  # the simulator does not tax shipping
    quotes = f"/orders/{order.id}/shipping_addresses/{address.id}/shipping_quotes"
    return {
        "id": address.id, "order_id": order.id, **address.base(),
        "items_total": sum(line.quantity for line in lines),
        "items_shipped": sum(line.quantity_shipped for line in lines),
        "shipping_method": address.shipping_method,
        "base_cost": money4(ex), "cost_ex_tax": money4(ex), "cost_inc_tax": money4(inc), "cost_tax": money4(inc - ex),
        "cost_tax_class_id": 0, "base_handling_cost": money4(ZERO), "handling_cost_ex_tax": money4(ZERO),
        "handling_cost_inc_tax": money4(ZERO), "handling_cost_tax": money4(ZERO), "handling_cost_tax_class_id": 0,
        "shipping_zone_id": 1, "shipping_zone_name": "United States",
        "shipping_quotes": {"url": f"{base_url}/v2{quotes}", "resource": quotes}, "form_fields": [],
    }


def taxes_view(order: Order, tax_rate: str) -> list[dict[str, Any]]:
    """``GET /v2/orders/{id}/taxes``: one row per taxed line (the simulator taxes products only, at one rate)."""
    rows = []
    for line in order.lines:
        tax = (line.price_inc - line.price_ex) * line.quantity
        if tax:
            rows.append({"id": line.id, "order_id": order.id, "order_address_id": line.order_address_id,
                         "tax_rate_id": 1, "tax_class_id": 0, "name": "Sales Tax", "class": "Default Tax Class",
                         "rate": tax_rate, "priority": 0, "priority_amount": money4(tax), "line_amount": money4(tax),
                         "order_product_id": str(line.id), "line_item_type": "item"})
    return rows


_CONSIGNMENT_MONEY = frozenset({"base_cost", "cost_ex_tax", "cost_inc_tax", "cost_tax", "base_handling_cost",
                                "handling_cost_ex_tax", "handling_cost_inc_tax", "handling_cost_tax"})


def consignments_view(order: Order, base_url: str) -> dict[str, Any]:
    """``GET /v2/orders/{id}/consignments``: each shipping address as a shipping consignment with its lines
    (as links, the default without ``include=consignments.line_items``)."""
    shipping = []
    for address in order.addresses:
        view = address_view(order, address, base_url)
        lines = [line for line in order.lines if line.order_address_id == address.id]
        quotes = f"/orders/{order.id}/consignments/shipping/{address.id}/shipping_quotes"
        # Consignments carry money as JSON numbers (the spec's shippingConsignment_Get), exact digits kept.
        shipping.append({key: Decimal(value) if key in _CONSIGNMENT_MONEY else value for key, value in view.items()
                         if key not in ("order_id", "shipping_quotes")}
                        | {"line_items": [{"url": f"{base_url}/v2/orders/{order.id}/products/{line.id}",
                                           "resource": f"/orders/{order.id}/products/{line.id}"} for line in lines],
                           "shipping_quotes": {"url": f"{base_url}/v2{quotes}", "resource": quotes}})
    return {"pickups": [], "shipping": shipping, "downloads": [], "email": {"gift_certificates": []}}


OFFLINE_METHODS = frozenset({"Purchase Order", "PO", "Manual", "Bank Deposit", "Cheque"})


def transactions_view(order: Order) -> list[dict[str, Any]]:
    """``GET /v3/orders/{id}/transactions``: a checkout's payment — pending for an offline method (a purchase
    order: paid on account, later), a purchase otherwise; orders made through the API have none."""
    if not order.paid:
        return []
    method = order.text.get("payment_method", "Manual")
    offline = method in OFFLINE_METHODS
    _, total_inc = totals(order, order.lines)
    return [{"id": order.id * 10 + 1, "order_id": str(order.id), "event": "pending" if offline else "purchase",
             "method": "offline" if offline else "credit_card", "amount": total_inc, "currency": order.currency,
             "gateway": "custom" if offline else "testgateway", "gateway_transaction_id": "", "test": True,
             "status": "ok", "fraud_review": False, "date_created": order.created.isoformat(timespec="seconds"),
             "offline": {"display_name": method} if offline else None}]
