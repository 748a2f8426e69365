"""Order product lines: how a ``products[]`` item of ``POST``/``PUT /v2/orders`` becomes a line, and a line's
JSON (the spec's ``orderProducts``, which allows no other keys).

A line is a catalog product (``product_id`` and/or ``variant_id``, or a catalog ``sku``) or, as BigCommerce
allows, a custom product (``name`` and a price, any ``sku``; ``product_id`` 0). Prices are Decimal, given as
JSON numbers or strings; when a catalog line names none, it is BigCommerce's price for the customer's price
list on the order's channel (the store's price-list assignments, as the storefront prices). A missing inc-tax (ex-tax) price is derived with the store's tax rate.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pricing_edge.domain.money import quantize
from pricing_edge.domain.pricing import unit_price
from pricing_edge.sim.admin.http import (
    FOUR_PLACES,
    AdminError,
    money4,
    parse_money,
    reject_unknown,
    require_int,
    require_str,
)
from pricing_edge.sim.dataset import Dataset, Product, Variant

_CATALOG_POST = frozenset({"product_id", "name", "name_customer", "name_merchant", "product_options", "quantity",
                           "price_inc_tax", "price_ex_tax", "upc", "variant_id", "wrapping_id", "wrapping_name",
                           "wrapping_message", "wrapping_cost_ex_tax", "wrapping_cost_inc_tax", "sku"})
LINE_FIELDS = _CATALOG_POST | {"id"}
ZERO = Decimal("0.0000")
# The store's shared modifier options (BigCommerce's "shared options" any product may carry): option id →
# (display name, {value id: (label, price adjustment ex tax)}). Given as ``product_options: [{id, value}]``.
MODIFIERS: dict[int, tuple[str, dict[int, tuple[str, Decimal]]]] = {
    9001: ("Engraving", {9101: ("None", Decimal("0.0000")), 9102: ("Engraved", Decimal("4.5000"))}),
    9002: ("Gift box", {9201: ("No", Decimal("0.0000")), 9202: ("Yes", Decimal("2.2500"))}),
}


@dataclass
class OrderLine:
    id: int
    order_id: int
    order_address_id: int
    product_id: int
    variant_id: int
    name: str
    sku: str
    upc: str
    price_ex: Decimal
    price_inc: Decimal
    quantity: int
    weight: Decimal = ZERO
    brand: str = ""
    options: tuple[tuple[str, str], ...] = ()
    name_customer: str | None = None
    name_merchant: str | None = None
    quantity_shipped: int = 0
    modifiers: tuple[tuple[int, int], ...] = ()  # (option id, value id) of MODIFIERS chosen for this line
    discounts: tuple[tuple[str, Decimal], ...] = ()  # (coupon code, amount off this line) applied at checkout

    @property
    def discount(self) -> Decimal:
        return sum((amount for _, amount in self.discounts), ZERO)

    @property
    def remaining(self) -> int:
        return self.quantity - self.quantity_shipped

    def view(self) -> dict[str, Any]:
        tax = self.price_inc - self.price_ex
        total_ex, total_inc = self.price_ex * self.quantity, self.price_inc * self.quantity
        return {
            "id": self.id, "order_id": self.order_id, "product_id": self.product_id, "variant_id": self.variant_id,
            "order_address_id": self.order_address_id, "name": self.name,
            "name_customer": self.name_customer or self.name, "name_merchant": self.name_merchant or self.name,
            "sku": self.sku, "upc": self.upc, "type": "physical",
            "base_price": money4(self.price_ex), "price_ex_tax": money4(self.price_ex),
            "price_inc_tax": money4(self.price_inc), "price_tax": money4(tax),
            "base_total": money4(total_ex), "total_ex_tax": money4(total_ex), "total_inc_tax": money4(total_inc),
            "total_tax": money4(total_inc - total_ex),
            "weight": money4(self.weight), "width": money4(ZERO), "height": money4(ZERO), "depth": money4(ZERO),
            "quantity": self.quantity,
            "base_cost_price": money4(ZERO), "cost_price_inc_tax": money4(ZERO), "cost_price_ex_tax": money4(ZERO),
            "cost_price_tax": money4(ZERO), "is_refunded": False, "quantity_refunded": 0,
            "refund_amount": money4(ZERO), "return_id": 0, "wrapping_id": 0, "wrapping_name": "",
            "base_wrapping_cost": money4(ZERO), "wrapping_cost_ex_tax": money4(ZERO),
            "wrapping_cost_inc_tax": money4(ZERO), "wrapping_cost_tax": money4(ZERO), "wrapping_message": "",
            "quantity_shipped": self.quantity_shipped, "event_name": None, "event_date": None,
            "fixed_shipping_cost": money4(ZERO), "ebay_item_id": "", "ebay_transaction_id": "",
            "option_set_id": None, "parent_order_product_id": None, "is_bundled_product": False,
            "bin_picking_number": "", "external_id": None, "brand": self.brand,
            "applied_discounts": [{"id": code, "amount": money4(amount), "name": code, "code": code,
                                   "target": "order"} for code, amount in self.discounts],
            "product_options": [self._option(n, name, value) for n, (name, value) in enumerate(self.options)]
            + [self._modifier(len(self.options) + n, option, value) for n, (option, value) in enumerate(self.modifiers)],
            "configurable_fields": [], "gift_certificate_id": None,
            "discounted_total_inc_tax": money4(total_inc - self.discount),
        }

    def _modifier(self, index: int, option_id: int, value_id: int) -> dict[str, Any]:
        name, values = MODIFIERS[option_id]
        found = self._option(index, name, values[value_id][0])
        return found | {"option_id": option_id, "product_option_id": option_id, "value": str(value_id)}

    def _option(self, index: int, name: str, value: str) -> dict[str, Any]:
        return {"id": self.id * 100 + index + 1, "option_id": index + 1, "order_product_id": self.id,
                "product_option_id": index + 1, "display_name": name, "display_name_customer": name,
                "display_name_merchant": name, "display_value": value, "display_value_customer": value,
                "display_value_merchant": value, "value": value, "type": "Multiple choice", "name": name,
                "display_style": "Rectangle"}


class LineFactory:
    """Turns ``products[]`` items into lines, validated against the demo catalog. ``price_list_for(group,
    channel)``: the store's price-list assignments (``ChannelBook.price_list_for``), the storefront's too."""

    def __init__(self, dataset: Dataset, tax_rate: Decimal, price_list_for: Callable[[int | None, int], int]) -> None:
        self.dataset = dataset
        self.price_list_for = price_list_for
        self.tax_rate = tax_rate
        self.tax_inclusive = False  # the store's tax setting: catalog prices include tax (``/_sim/store``)
        self.brands = {b.id: b.name for b in dataset.brands}

    def new_line(self, item: Any, where: str, *, line_id: int, order_id: int, address_id: int,
                 customer_group: int, channel_id: int, currency: str) -> OrderLine:
        if not isinstance(item, dict):
            raise AdminError(400, f"{where} must be an object.")
        reject_unknown(item, _CATALOG_POST, f"{where}.")
        quantity = require_int(item.get("quantity"), f"{where}.quantity", minimum=1)
        modifiers = self._modifiers(item.get("product_options"), where)
        resolved = self._catalog(item, where)
        if resolved is None:
            if modifiers:
                raise AdminError(400, f"{where}.product_options: a custom product has no options.")
            return self._custom(item, where, line_id=line_id, order_id=order_id, address_id=address_id,
                                quantity=quantity)
        product, variant = resolved
        price_ex, price_inc = self.prices(item, where)
        if price_ex is None and price_inc is None:
            # BigCommerce's price for the buyer, plus what the chosen options add; in a tax-inclusive store the
            # catalog price is the gross one.
            catalog = self._catalog_price(variant, self.price_list_for(customer_group, channel_id), currency,
                                          quantity) + sum(
                (MODIFIERS[option][1][value][1] for option, value in modifiers), ZERO)
            price_ex, price_inc = (None, catalog) if self.tax_inclusive else (catalog, None)
        price_ex, price_inc = self._pair(price_ex, price_inc)
        name = require_str(item.get("name", product.name), f"{where}.name") or product.name
        return OrderLine(line_id, order_id, address_id, product.id, variant.id, name, variant.sku, variant.upc or "",
                         price_ex, price_inc, quantity, weight=product.weight.quantize(FOUR_PLACES),
                         brand=self.brands.get(product.brand_id, ""), options=variant.option_values,
                         name_customer=_opt_str(item, "name_customer", where),
                         name_merchant=_opt_str(item, "name_merchant", where), modifiers=modifiers)

    @staticmethod
    def _modifiers(raw: Any, where: str) -> tuple[tuple[int, int], ...]:
        """``product_options: [{id, value}]``: the store's modifier options (variants are chosen by variant_id
        or sku)."""
        if raw is None or raw == []:
            return ()
        if not isinstance(raw, list):
            raise AdminError(400, f"{where}.product_options must be a list of {{id, value}}.")
        chosen = []
        for n, option in enumerate(raw):
            at = f"{where}.product_options[{n}]"
            if not isinstance(option, dict) or set(option) - {"id", "value", "display_name"}:
                raise AdminError(400, f"{at} must be {{id, value}}.")
            option_id = require_int(option.get("id"), f"{at}.id")
            value_id = require_int(int(option["value"]) if str(option.get("value", "")).isdigit()
                                   else option.get("value"), f"{at}.value")
            if option_id not in MODIFIERS:
                raise AdminError(400, f"{at}.id: option {option_id} is not a modifier option of the store "
                                      f"(variants are chosen by variant_id or sku).")
            if value_id not in MODIFIERS[option_id][1]:
                raise AdminError(400, f"{at}.value: {value_id} is not a value of option {option_id}.")
            chosen.append((option_id, value_id))
        if len({option for option, _ in chosen}) != len(chosen):
            raise AdminError(400, f"{where}.product_options: an option is given twice.")
        return tuple(chosen)

    def prices(self, item: dict[str, Any], where: str) -> tuple[Decimal | None, Decimal | None]:
        ex = parse_money(item["price_ex_tax"], f"{where}.price_ex_tax") if "price_ex_tax" in item else None
        inc = parse_money(item["price_inc_tax"], f"{where}.price_inc_tax") if "price_inc_tax" in item else None
        if ex is not None and inc is not None and inc < ex:
            raise AdminError(400, f"{where}: price_inc_tax ({inc}) is less than price_ex_tax ({ex}).")
        return ex, inc

    def repriced(self, line: OrderLine, item: dict[str, Any], where: str) -> tuple[Decimal, Decimal]:
        """A PUT's new prices for an existing line (the other one derived when only one is given)."""
        ex, inc = self.prices(item, where)
        if ex is None and inc is None:
            return line.price_ex, line.price_inc
        return self._pair(ex, inc)

    def _pair(self, ex: Decimal | None, inc: Decimal | None) -> tuple[Decimal, Decimal]:
        factor = Decimal(1) + self.tax_rate
        if ex is None:
            assert inc is not None
            ex = (inc / factor).quantize(FOUR_PLACES)
        if inc is None:
            inc = (ex * factor).quantize(FOUR_PLACES)
        return ex, inc

    def _catalog(self, item: dict[str, Any], where: str) -> tuple[Product, Variant] | None:
        data = self.dataset
        sku = require_str(item["sku"], f"{where}.sku") if "sku" in item else None
        variant_id = require_int(item["variant_id"], f"{where}.variant_id") if "variant_id" in item else None
        if "product_id" in item and item["product_id"] != 0:
            product_id = require_int(item["product_id"], f"{where}.product_id", minimum=1)
            product = data.product_by_id.get(product_id)
            if product is None:
                raise AdminError(400, f"{where}.product_id: product {product_id} does not exist in the catalog.")
            variant = self._variant_of(product, variant_id, sku, where)
            return product, variant
        if variant_id:
            found = data.variant_by_id.get(variant_id)
            if found is None:
                raise AdminError(400, f"{where}.variant_id: variant {variant_id} does not exist in the catalog.")
            if sku is not None and found[1].sku != sku:
                raise AdminError(400, f"{where}: sku {sku!r} is not the SKU of variant {variant_id}.")
            return found
        if sku is not None and sku in data.variant_by_sku:
            return data.variant_by_sku[sku]
        return None

    @staticmethod
    def _variant_of(product: Product, variant_id: int | None, sku: str | None, where: str) -> Variant:
        if variant_id is not None:
            variant = next((v for v in product.variants if v.id == variant_id), None)
            if variant is None:
                raise AdminError(400, f"{where}.variant_id: variant {variant_id} is not a variant of product "
                                      f"{product.id}.")
            if sku is not None and variant.sku != sku:
                raise AdminError(400, f"{where}: sku {sku!r} is not the SKU of variant {variant_id}.")
            return variant
        if sku is not None:
            variant = next((v for v in product.variants if v.sku == sku), None)
            if variant is None:
                raise AdminError(400, f"{where}.sku: {sku!r} is not a SKU of product {product.id}.")
            return variant
        if product.has_variants:
            raise AdminError(400, f"{where}: product {product.id} has {len(product.variants)} variants; "
                                  "give variant_id or sku.")
        return product.default_variant

    def _custom(self, item: dict[str, Any], where: str, *, line_id: int, order_id: int, address_id: int,
                quantity: int) -> OrderLine:
        sku = require_str(item.get("sku", ""), f"{where}.sku")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            if sku:
                raise AdminError(400, f"{where}.sku: {sku!r} is not in the catalog; a custom product needs "
                                      "name, quantity and price_ex_tax (or price_inc_tax).")
            raise AdminError(400, f"{where}: give product_id, variant_id or a catalog sku, or a custom product "
                                  "with name, quantity and price_ex_tax.")
        if len(name) > 250:
            raise AdminError(400, f"{where}.name must be at most 250 characters long.")
        ex, inc = self.prices(item, where)
        if ex is None and inc is None:
            raise AdminError(400, f"{where}: a custom product needs price_ex_tax or price_inc_tax.")
        ex, inc = self._pair(ex, inc)
        return OrderLine(line_id, order_id, address_id, 0, 0, name, sku, require_str(item.get("upc", ""),
                         f"{where}.upc"), ex, inc, quantity, name_customer=_opt_str(item, "name_customer", where),
                         name_merchant=_opt_str(item, "name_merchant", where))

    def _catalog_price(self, variant: Variant, price_list: int, currency: str, quantity: int) -> Decimal:
        record = (self.dataset.bc_prices.get(price_list, variant.sku, currency)
                  or self.dataset.bc_prices.get(self.dataset.default_price_list_id, variant.sku, currency))
        if record is None:
            return Decimal(0).quantize(FOUR_PLACES)
        return quantize(unit_price(record, quantity), 4)


def _opt_str(item: dict[str, Any], key: str, where: str) -> str | None:
    return require_str(item[key], f"{where}.{key}") if key in item else None
