"""The simulated store's orders (``/v2/orders``): create, read, list, update, with BigCommerce's semantics.

Every mutation validates the whole request on a staged copy before anything changes (a 4xx leaves the
order as it was) and returns the webhook events it causes as ``(scope, data)`` pairs; the routes hand them
to the emitter. ``PUT`` products follow the spec: an item with ``id`` updates that line (``quantity`` 0
removes it), an item without ``id`` adds a line.
"""
from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pricing_edge.sim.admin import statuses
from pricing_edge.sim.admin.fields import ADDRESS_FIELDS, ORDER_FIELDS, address_fields, apply_scalars, check_totals
from pricing_edge.sim.admin.http import (
    FOUR_PLACES,
    NOT_FOUND,
    AdminError,
    money4,
    parse_money,
    reject_unknown,
    require_int,
    require_str,
)
from pricing_edge.sim.admin.lines import LINE_FIELDS, ZERO, LineFactory, OrderLine
from pricing_edge.sim.dataset import CURRENCIES, DEFAULT_CURRENCY, GUEST_GROUP_ID, Dataset

if TYPE_CHECKING:
    from pricing_edge.sim.admin.channels import ChannelBook
    from pricing_edge.sim.admin.shipments import Shipment

Event = tuple[str, dict[str, Any]]
_SORT_KEYS = ("id", "customer_id", "date_created", "date_modified", "status_id", "channel_id", "external_id")


@dataclass
class Address:
    id: int
    order_id: int
    fields: dict[str, str]
    shipping_method: str = "None"
    cost: Decimal | None = None  # this consignment's shipping (ex tax; shipping is untaxed); None: the order's rest

    def base(self) -> dict[str, str]:
        return {name: self.fields.get(name, "") for name in ADDRESS_FIELDS}


@dataclass
class Order:
    id: int
    customer_id: int
    status_id: int
    currency: str
    billing_address: dict[str, str]
    created: datetime
    modified: datetime
    lines: list[OrderLine] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    money: dict[str, Decimal] = field(default_factory=dict)
    text: dict[str, Any] = field(default_factory=dict)
    channel_id: int = 1
    date_shipped: datetime | None = None
    coupons: list[Coupon] = field(default_factory=list)
    fees: list[Fee] = field(default_factory=list)
    tax_inclusive: bool = False
    paid: bool = False  # placed through a checkout (``OrderBook.place``): it has a payment transaction

    def fee_totals(self) -> tuple[Decimal, Decimal]:
        return sum((f.ex for f in self.fees), ZERO), sum((f.inc for f in self.fees), ZERO)

    def coupon_discount(self) -> Decimal:
        return sum((coupon.amount for coupon in self.coupons), ZERO)

    def shipping_of(self, address: Address) -> Decimal:
        """A consignment's shipping cost: its own, or (the first, single-consignment case) what the others leave."""
        if address.cost is not None:
            return address.cost
        others = sum((a.cost for a in self.addresses if a.cost is not None and a is not address), ZERO)
        return max(ZERO, self.cost("shipping_cost_ex_tax") - others) if address is self.addresses[0] else ZERO

    def line(self, line_id: int) -> OrderLine | None:
        return next((line for line in self.lines if line.id == line_id), None)

    def address(self, address_id: int) -> Address | None:
        return next((a for a in self.addresses if a.id == address_id), None)

    def cost(self, name: str) -> Decimal:
        return self.money.get(name, ZERO)

    def sort_key(self, key: str) -> tuple[Any, int]:
        values = {"id": self.id, "customer_id": self.customer_id, "date_created": self.created,
                  "date_modified": self.modified, "status_id": self.status_id, "channel_id": self.channel_id,
                  "external_id": self.text.get("external_order_id", "")}
        return values[key], self.id


@dataclass
class Coupon:
    """A coupon applied at checkout (``GET /v2/orders/{id}/coupons``); its amount is spread over the lines."""

    id: int
    code: str
    amount: Decimal
    type: int = 2  # per_total_discount

    def view(self, order_id: int) -> dict[str, Any]:
        return {"id": self.id, "coupon_id": self.id, "order_id": order_id, "code": self.code,
                "amount": money4(self.amount), "type": self.type, "discount": float(self.amount)}


@dataclass
class Fee:
    """A custom fee on the order (``fees`` in ``POST /v2/orders``, ``GET /v2/orders/{id}/fees``)."""

    id: int
    name_customer: str
    name_merchant: str
    source: str
    ex: Decimal
    inc: Decimal

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "type": "custom_fee", "display_name_customer": self.name_customer,
                "display_name_merchant": self.name_merchant, "source": self.source, "base_cost": money4(self.ex),
                "cost_ex_tax": money4(self.ex), "cost_inc_tax": money4(self.inc),
                "cost_tax": money4(self.inc - self.ex), "tax_class_id": None}


def parse_fees(raw: Any, ids: Iterator[int]) -> list[Fee]:
    """``fees`` as ``orderFees_Post`` has them: custom fees, a display name, two of ex, inc and tax."""
    if not isinstance(raw, list):
        raise AdminError(400, "The field 'fees' must be a list.")
    found = []
    for n, item in enumerate(raw):
        where = f"fees[{n}]"
        if not isinstance(item, dict):
            raise AdminError(400, f"{where} must be an object.")
        reject_unknown(item, frozenset({"type", "display_name_customer", "display_name_merchant", "source",
                                        "cost_ex_tax", "cost_inc_tax", "cost_tax"}), f"{where}.")
        if item.get("type", "custom_fee") != "custom_fee":
            raise AdminError(400, f"{where}.type must be custom_fee.")
        customer = require_str(item.get("display_name_customer", ""), f"{where}.display_name_customer")
        merchant = require_str(item.get("display_name_merchant", ""), f"{where}.display_name_merchant")
        if not customer and not merchant:
            raise AdminError(400, f"{where}: give display_name_customer or display_name_merchant.")
        costs = {k: parse_money(item[k], f"{where}.{k}") for k in ("cost_ex_tax", "cost_inc_tax", "cost_tax")
                 if k in item}
        if len(costs) < 2:
            raise AdminError(400, f"{where}: give at least two of cost_ex_tax, cost_inc_tax and cost_tax.")
        ex = costs.get("cost_ex_tax", costs.get("cost_inc_tax", ZERO) - costs.get("cost_tax", ZERO))
        inc = costs.get("cost_inc_tax", ex + costs.get("cost_tax", ZERO))
        if inc < ex or ("cost_tax" in costs and inc - ex != costs["cost_tax"]):
            raise AdminError(400, f"{where}: cost_inc_tax must be cost_ex_tax plus cost_tax.")
        found.append(Fee(next(ids), customer or merchant, merchant or customer,
                         require_str(item.get("source", "v2"), f"{where}.source"), ex, inc))
    return found


def status_event(order_id: int, previous: int, new: int) -> Event:
    return ("store/order/statusUpdated",
            {"type": "order", "id": order_id, "status": {"previous_status_id": previous, "new_status_id": new}})


class OrderBook:
    """All orders of the store, in memory; ids as BigCommerce hands them out (orders from 100)."""

    def __init__(self, dataset: Dataset, channels: ChannelBook, *, tax_rate: Decimal = Decimal("0.10")) -> None:
        self.dataset = dataset
        self.lines = LineFactory(dataset, tax_rate, channels.price_list_for)
        self.orders: dict[int, Order] = {}
        self._order_ids = itertools.count(100)
        self._line_ids = itertools.count(1)
        self._address_ids = itertools.count(1)
        self.shipment_ids = itertools.count(1)
        self._coupon_ids = itertools.count(1)
        self._fee_ids = itertools.count(1)

    @property
    def tax_inclusive(self) -> bool:
        return self.lines.tax_inclusive

    def get(self, order_id: int) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise AdminError(404, NOT_FOUND)
        return order

    def select(self, *, min_id: int | None = None, max_id: int | None = None, status_id: int | None = None,
               customer_id: int | None = None, external_order_id: str | None = None, email: str | None = None,
               min_date_modified: datetime | None = None, max_date_modified: datetime | None = None,
               sort: str = "id") -> list[Order]:
        """``GET /v2/orders`` filters; ``sort`` is a field with an optional ``:asc``/``:desc``."""
        key, _, direction = sort.partition(":")
        if key not in _SORT_KEYS or direction not in ("", "asc", "desc"):
            raise AdminError(400, f"The query parameter 'sort' cannot be {sort!r}: use one of {list(_SORT_KEYS)}, "
                                  "optionally with ':asc' or ':desc'.")
        chosen = [o for o in self.orders.values()
                  if (min_id is None or o.id >= min_id) and (max_id is None or o.id <= max_id)
                  and (status_id is None or o.status_id == status_id)
                  and (customer_id is None or o.customer_id == customer_id)
                  and (external_order_id is None or o.text.get("external_order_id", "") == external_order_id)
                  and (email is None or o.billing_address.get("email", "").lower() == email.lower())
                  # v2 dates have whole seconds: compare what a client can see
                  and (min_date_modified is None or o.modified.replace(microsecond=0) >= min_date_modified)
                  and (max_date_modified is None or o.modified.replace(microsecond=0) <= max_date_modified)]
        return sorted(chosen, key=lambda o: o.sort_key(key), reverse=direction == "desc")

    def create(self, body: dict[str, Any]) -> tuple[Order, list[Event]]:
        reject_unknown(body, ORDER_FIELDS)
        _refuse_unsupported(body)
        products = body.get("products")
        if not isinstance(products, list) or not products:
            raise AdminError(400, "The field 'products' is required: a non-empty list of order products.")
        currency = body.get("default_currency_code", DEFAULT_CURRENCY)
        if currency not in CURRENCIES:
            raise AdminError(400, f"The field 'default_currency_code' must be one of {list(CURRENCIES)}, "
                                  f"got {currency!r}.")
        if "billing_address" not in body:
            raise AdminError(400, "The field 'billing_address' is required.")
        now = datetime.now(UTC)
        order = Order(0, 0, statuses.PENDING, currency, {}, now, now, tax_inclusive=self.tax_inclusive)
        apply_scalars(order, body, self.dataset)
        order.billing_address = address_fields(body["billing_address"], "billing_address", require_zip=True)
        shipping = body.get("shipping_addresses") or [order.billing_address]
        if not isinstance(shipping, list):
            raise AdminError(400, "The field 'shipping_addresses' must be a list.")
        addresses = [address_fields(a, f"shipping_addresses[{n}]", extra=("shipping_method",))
                     for n, a in enumerate(shipping)]
        group = self._customer_group(order.customer_id)
        lines = [self.lines.new_line(item, f"products[{n}]", line_id=0, order_id=0, address_id=0,
                                     customer_group=group, channel_id=order.channel_id, currency=currency)
                 for n, item in enumerate(products)]
        order.fees = parse_fees(body.get("fees") or [], self._fee_ids)
        check_totals(order, lines)
        order.id = next(self._order_ids)  # valid: only now take ids
        for fields in addresses:
            method = fields.pop("shipping_method", "") or "None"
            order.addresses.append(Address(next(self._address_ids), order.id, fields, method))
        for line in lines:
            line.id, line.order_id, line.order_address_id = next(self._line_ids), order.id, order.addresses[0].id
        order.lines = lines
        self.orders[order.id] = order
        return order, [("store/order/created", {"type": "order", "id": order.id})]

    def place(self, body: Any) -> tuple[Order, list[Event]]:
        """What a completed checkout leaves (``POST /_sim/orders``, the simulator's stand-in for a shopper's
        checkout): an ``order_Post`` body plus what only a checkout sets — ``products[].address_index`` (the
        consignment a line ships in), ``shipping_addresses[].cost_ex_tax`` (each consignment's shipping) and
        ``coupons: [{code, amount}]`` (spread over the lines in proportion to their totals). All is checked
        before the order exists."""
        if not isinstance(body, dict):
            raise AdminError(400, "The body must be an order object.")
        body = copy.deepcopy(body)
        coupons = _coupons(body.pop("coupons", []))
        addresses = body.get("shipping_addresses") or []
        products = body.get("products") if isinstance(body.get("products"), list) else []
        costs = [parse_money(a.pop("cost_ex_tax"), f"shipping_addresses[{n}].cost_ex_tax")
                 if isinstance(a, dict) and "cost_ex_tax" in a else None for n, a in enumerate(addresses)]
        indexes = [require_int(p.pop("address_index", 0), f"products[{n}].address_index", minimum=0,
                               maximum=max(0, len(addresses) - 1)) if isinstance(p, dict) else 0
                   for n, p in enumerate(products)]
        if any(cost is not None for cost in costs):
            if "shipping_cost_ex_tax" in body or "shipping_cost_inc_tax" in body:
                raise AdminError(400, "Give each consignment's cost_ex_tax or the order's shipping cost, not both.")
            body["shipping_cost_ex_tax"] = str(sum((cost or ZERO for cost in costs), ZERO))
        order, events = self.create(body)
        for address, cost in zip(order.addresses, costs, strict=True):
            address.cost = cost
        for line, index in zip(order.lines, indexes, strict=True):
            line.order_address_id = order.addresses[index].id
        try:
            self._apply_coupons(order, coupons)
        except AdminError:
            del self.orders[order.id]  # nothing is left of a refused checkout
            raise
        order.paid = True
        return order, events

    def _apply_coupons(self, order: Order, coupons: list[tuple[str, Decimal]]) -> None:
        for code, amount in coupons:
            base = sum((line.price_ex * line.quantity - line.discount for line in order.lines), ZERO)
            if amount > base:
                raise AdminError(400, f"coupons: {code} ({amount}) is more than the lines' total ({base}).")
            left = amount
            for n, line in enumerate(order.lines):
                share = left if n == len(order.lines) - 1 else (
                    amount * (line.price_ex * line.quantity - line.discount) / base).quantize(FOUR_PLACES)
                share = min(share, left)
                left -= share
                if share:
                    line.discounts = (*line.discounts, (code, share))
            order.coupons.append(Coupon(next(self._coupon_ids), code, amount))
        check_totals(order, order.lines)

    def update(self, order_id: int, body: dict[str, Any]) -> tuple[Order, list[Event]]:
        current = self.get(order_id)
        if "default_currency_code" in body:
            raise AdminError(400, "The field 'default_currency_code' cannot be written to. "
                                  "Please remove it from your request before trying again.")
        _refuse_unsupported(body)
        if body.get("fees"):
            raise AdminError(400, "The field 'fees' is not supported by the simulator on an update: give fees "
                                  "when the order is created.")
        staged = copy.deepcopy(current)
        apply_scalars(staged, body, self.dataset)
        if "billing_address" in body:
            staged.billing_address = {**staged.billing_address,
                                      **address_fields(body["billing_address"], "billing_address")}
        if "shipping_addresses" in body:
            _update_addresses(staged, body["shipping_addresses"])
        added = self._update_lines(staged, body["products"]) if "products" in body else []
        check_totals(staged, staged.lines + added)
        for line in added:
            line.id = next(self._line_ids)
        staged.lines.extend(added)
        staged.modified = datetime.now(UTC)
        self.orders[order_id] = staged
        events: list[Event] = [("store/order/updated", {"type": "order", "id": order_id})]
        if staged.status_id != current.status_id:
            events.append(status_event(order_id, current.status_id, staged.status_id))
        return staged, events

    def _update_lines(self, order: Order, items: Any) -> list[OrderLine]:
        if not isinstance(items, list):
            raise AdminError(400, "The field 'products' must be a list.")
        group = self._customer_group(order.customer_id)
        added: list[OrderLine] = []
        for n, item in enumerate(items):
            where = f"products[{n}]"
            if not isinstance(item, dict):
                raise AdminError(400, f"{where} must be an object.")
            if "id" not in item:
                added.append(self.lines.new_line(item, where, line_id=0, order_id=order.id,
                                                 address_id=order.addresses[0].id, customer_group=group,
                                                 channel_id=order.channel_id, currency=order.currency))
                continue
            reject_unknown(item, LINE_FIELDS, f"{where}.")
            line_id = require_int(item["id"], f"{where}.id")
            line = order.line(line_id)
            if line is None:
                raise AdminError(400, f"{where}.id: order product {line_id} is not on order {order.id}.")
            quantity = require_int(item.get("quantity", line.quantity), f"{where}.quantity", minimum=0)
            if quantity < line.quantity_shipped:
                raise AdminError(400, f"{where}.quantity: order product {line_id} has {line.quantity_shipped} "
                                      f"units shipped; its quantity cannot go below that (asked {quantity}).")
            if quantity == 0:
                order.lines.remove(line)
                continue
            line.quantity = quantity
            line.price_ex, line.price_inc = self.lines.repriced(line, item, where)
            if "name" in item:
                line.name = require_str(item["name"], f"{where}.name") or line.name
            if "sku" in item and line.product_id == 0:
                line.sku = require_str(item["sku"], f"{where}.sku")
        if not order.lines and not added:
            raise AdminError(400, "An order must keep at least one product.")
        return added

    def _customer_group(self, customer_id: int) -> int:
        customer = self.dataset.customer(customer_id) if customer_id else None
        return customer.customer_group_id if customer else GUEST_GROUP_ID


def _coupons(raw: Any) -> list[tuple[str, Decimal]]:
    if not isinstance(raw, list):
        raise AdminError(400, "coupons must be a list of {code, amount}.")
    found = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != {"code", "amount"}:
            raise AdminError(400, f"coupons[{n}] must be {{code, amount}}.")
        amount = parse_money(item["amount"], f"coupons[{n}].amount")
        if amount <= 0:
            raise AdminError(400, f"coupons[{n}].amount must be more than 0.")
        found.append((require_str(item["code"], f"coupons[{n}].code"), amount))
    return found


_UNSUPPORTED_EMPTY_OK = frozenset({"consignments"})


def _refuse_unsupported(body: dict[str, Any]) -> None:
    for name in sorted(_UNSUPPORTED_EMPTY_OK):
        if body.get(name):
            raise AdminError(400, f"The field '{name}' is not supported by the simulator: use products and "
                                  "shipping_addresses.")


def _update_addresses(order: Order, items: Any) -> None:
    if not isinstance(items, list):
        raise AdminError(400, "The field 'shipping_addresses' must be a list.")
    for n, item in enumerate(items):
        where = f"shipping_addresses[{n}]"
        if not isinstance(item, dict) or "id" not in item:
            raise AdminError(400, f"{where}: give the id of the shipping address to update.")
        address_id = require_int(item["id"], f"{where}.id")
        address = order.address(address_id)
        if address is None:
            raise AdminError(400, f"{where}.id: shipping address {address_id} is not on order {order.id}.")
        fields = address_fields({k: v for k, v in item.items() if k != "id"}, where, extra=("shipping_method",))
        if "shipping_method" in fields:
            address.shipping_method = fields.pop("shipping_method")
        address.fields.update(fields)
