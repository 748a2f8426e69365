"""An order's scalar fields, addresses and totals: what ``POST``/``PUT /v2/orders`` may write and how it is
checked (the spec's ``order_Post``/``order_Put`` properties; computed and read-only ones are refused)."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from pricing_edge.sim.admin.http import AdminError, parse_money, reject_unknown, require_int, require_str
from pricing_edge.sim.admin.lines import ZERO, OrderLine
from pricing_edge.sim.dataset import Dataset

if TYPE_CHECKING:
    from pricing_edge.sim.admin.orders import Order

ADDRESS_FIELDS = ("first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip", "country",
                  "country_iso2", "phone", "email")
COST_KINDS = ("shipping", "handling", "wrapping")
_MONEY = ("base_handling_cost", "base_shipping_cost", "base_wrapping_cost", "discount_amount",
          "handling_cost_ex_tax", "handling_cost_inc_tax", "shipping_cost_ex_tax", "shipping_cost_inc_tax",
          "wrapping_cost_ex_tax", "wrapping_cost_inc_tax")
_TEXT: dict[str, int | None] = {
    "customer_message": 65535, "order_source": None, "ebay_order_id": None, "geoip_country": None,
    "geoip_country_iso2": None, "payment_method": None, "staff_notes": 65535, "tax_provider_id": None,
    "customer_locale": None, "ip_address": 30, "ip_address_v6": 39, "date_created": None}
_NULLABLE_TEXT = ("external_merchant_id", "external_source", "external_order_id")
_COMPUTED = ("external_id", "items_shipped", "items_total", "refunded_amount", "subtotal_ex_tax",
             "subtotal_inc_tax", "total_ex_tax", "total_inc_tax")
_SCALARS = frozenset(_MONEY) | frozenset(_TEXT) | frozenset(_NULLABLE_TEXT) | frozenset(_COMPUTED) | {
    "channel_id", "customer_id", "status_id", "order_is_digital", "payment_provider_id"}
ORDER_FIELDS = _SCALARS | {"billing_address", "default_currency_code", "products", "shipping_addresses",
                           "consignments", "fees"}


def rfc2822(moment: datetime) -> str:
    """BigCommerce v2 dates: ``Tue, 05 Mar 2019 21:40:11 +0000``."""
    return format_datetime(moment.astimezone(UTC))


def apply_scalars(order: Order, body: dict[str, Any], dataset: Dataset) -> None:
    """Write the request's scalar fields onto ``order`` (a staged copy: a 4xx midway changes nothing)."""
    reject_unknown(body, ORDER_FIELDS)
    for name in _COMPUTED:
        if name in body:
            raise AdminError(400, f"The field '{name}' cannot be written to: the simulator computes it. "
                                  "Please remove it from your request before trying again.")
    if "status_id" in body:
        order.status_id = require_int(body["status_id"], "status_id", minimum=0, maximum=14)
    if "customer_id" in body:
        customer_id = require_int(body["customer_id"], "customer_id", minimum=0)
        if customer_id and dataset.customer(customer_id) is None:
            raise AdminError(400, f"The field 'customer_id': customer {customer_id} does not exist.")
        order.customer_id = customer_id
    if "channel_id" in body:
        order.channel_id = require_int(body["channel_id"], "channel_id", minimum=1)
    if "order_is_digital" in body:
        if not isinstance(body["order_is_digital"], bool):
            raise AdminError(400, "The field 'order_is_digital' must be a boolean.")
        order.text["order_is_digital"] = body["order_is_digital"]
    if "payment_provider_id" in body:
        value = body["payment_provider_id"]
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise AdminError(400, "The field 'payment_provider_id' must be a string or a number.")
        order.text["payment_provider_id"] = value
    for name, limit in _TEXT.items():
        if name in body:
            order.text[name] = require_str(body[name], name, max_length=limit)
    for name in _NULLABLE_TEXT:
        if name in body:
            # external_order_id reads back as a string (the spec's response has it non-nullable): null clears it.
            keep_null = body[name] is None and name != "external_order_id"
            order.text[name] = None if keep_null else require_str(body[name], name, nullable=True)
    for name in _MONEY:
        if name in body:
            order.money[name] = parse_money(body[name], name)
    for kind in COST_KINDS:
        ex, inc = f"{kind}_cost_ex_tax", f"{kind}_cost_inc_tax"
        # A cost given one way only is the same amount both ways (the simulator taxes only products).
        if ex in body and inc not in body:
            order.money[inc] = order.money[ex]
        elif inc in body and ex not in body:
            order.money[ex] = order.money[inc]
        if order.cost(inc) < order.cost(ex):
            raise AdminError(400, f"The field '{inc}' ({order.cost(inc)}) is less than '{ex}' ({order.cost(ex)}).")


def address_fields(value: Any, where: str, *, require_zip: bool = False,
                   extra: tuple[str, ...] = ()) -> dict[str, str]:
    if not isinstance(value, dict):
        raise AdminError(400, f"The field '{where}' must be an object.")
    reject_unknown(value, frozenset(ADDRESS_FIELDS) | {"form_fields", *extra}, f"{where}.")
    fields = {name: require_str(v, f"{where}.{name}") for name, v in value.items() if name != "form_fields"}
    if require_zip and not fields.get("zip"):
        raise AdminError(400, f"The field '{where}.zip' is required.")
    return fields


def subtotals(lines: list[OrderLine]) -> tuple[Decimal, Decimal]:
    return (sum((line.price_ex * line.quantity for line in lines), ZERO),
            sum((line.price_inc * line.quantity for line in lines), ZERO))


def totals(order: Order, lines: list[OrderLine]) -> tuple[Decimal, Decimal]:
    """Total ex and inc tax: the lines, plus shipping, handling, wrapping and fees, less the discount and the coupons
    (both taken off the ex- and the inc-tax amount alike)."""
    sub_ex, sub_inc = subtotals(lines)
    extra_ex = sum((order.cost(f"{kind}_cost_ex_tax") for kind in COST_KINDS), ZERO)
    extra_inc = sum((order.cost(f"{kind}_cost_inc_tax") for kind in COST_KINDS), ZERO)
    discount = order.cost("discount_amount") + order.coupon_discount()
    fees_ex, fees_inc = order.fee_totals()
    return sub_ex + extra_ex + fees_ex - discount, sub_inc + extra_inc + fees_inc - discount


def check_totals(order: Order, lines: list[OrderLine]) -> None:
    total_ex, _ = totals(order, lines)
    if total_ex < 0:
        raise AdminError(400, f"The field 'discount_amount' ({order.cost('discount_amount')}) is more than the "
                              "order's total.")
