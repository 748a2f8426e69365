"""The S/4HANA connector's mapping: S/4 codes ↔ BigCommerce ids, validated whole at start.

The document (JSON, ``PRICING_EDGE_ERP_MAPPING``)::

  {"price_lists":     {"PA": 1, ...},          value of the price-list key field (PriceListType) → price list
   "company_price_lists": {"17100003": {"price_list": 7, "customer_group": 6}},
                                               customer with customer-specific condition records → the
                                               BigCommerce price list and customer group of its own
   "locations":       {"1710": 1, ...},        plant → location
   "customer_groups": {"G1": 1, ...},          sales-area CustomerGroup → customer group (0: guests)
   "companies":       {"17100001": 1, ...},    customer (sold-to) → B2B company
   "customers":       {"30000001": 1, ...},    business partner → customer (a person: a company's contact,
                                               or a customer of its own)
   "guest_customer":  "30000000",              sold-to of guest orders (a one-time customer)
   "materials":       {"M0001001": "PE-10000"} material → SKU; omit to use SKUs as material numbers
   "credit_limits":   {"17100001": "25000.00"}  per customer; S/4's credit management API is not used}
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pricing_edge.erp.mapping import Codes, MappingError, bc_id, load_document, sku

SECTIONS = ("price_lists", "company_price_lists", "locations", "customer_groups", "companies", "customers",
            "guest_customer", "materials", "credit_limits")


@dataclass(frozen=True)
class OwnPriceList:
    """A company whose prices are customer-specific condition records: its own list and group."""

    customer: str
    price_list_id: int
    customer_group_id: int


@dataclass(frozen=True)
class S4Mapping:
    price_lists: Codes[int]
    own_price_lists: tuple[OwnPriceList, ...]
    locations: Codes[int]
    customer_groups: Codes[int]
    companies: Codes[int]
    customers: Codes[int]
    guest_customer: str | None
    materials: Codes[str] | None  # None: SKUs are material numbers
    credit_limits: Mapping[str, Decimal]

    @classmethod
    def load(cls, path: str) -> S4Mapping:
        return cls.parse(load_document(path))

    @classmethod
    def parse(cls, doc: Mapping[str, Any]) -> S4Mapping:
        unknown = sorted(set(doc) - set(SECTIONS))
        if unknown:
            raise MappingError(f"mapping: unknown section(s) {', '.join(unknown)} (known: {', '.join(SECTIONS)})")
        price_lists = Codes.parse(doc, "price_lists", bc_id)
        customer_groups = Codes.parse(doc, "customer_groups", bc_id)
        own = tuple(_own(code, raw) for code, raw in (doc.get("company_price_lists") or {}).items())
        for entry in own:
            if entry.price_list_id in price_lists.to_erp:
                raise MappingError(f"mapping: company_price_lists[{entry.customer!r}]: price list "
                                   f"{entry.price_list_id} is also price_lists[{price_lists.erp(entry.price_list_id)!r}]")
            if entry.customer_group_id in customer_groups.to_erp:
                raise MappingError(f"mapping: company_price_lists[{entry.customer!r}]: customer group "
                                   f"{entry.customer_group_id} is also customer_groups"
                                   f"[{customer_groups.erp(entry.customer_group_id)!r}]")
        if len({e.price_list_id for e in own}) != len(own) or len({e.customer for e in own}) != len(own):
            raise MappingError("mapping: company_price_lists: each company needs a price list of its own")
        companies = Codes.parse(doc, "companies", bc_id, required=False)
        for entry in own:
            if entry.customer not in companies.to_bc:
                raise MappingError(f"mapping: company_price_lists[{entry.customer!r}] is not in companies")
        guest = doc.get("guest_customer")
        if guest is not None and (not isinstance(guest, str) or not guest.strip()):
            raise MappingError("mapping: guest_customer must be the sold-to number of guest orders")
        materials = Codes.parse(doc, "materials", sku) if doc.get("materials") is not None else None
        limits = {}
        for code, raw in (doc.get("credit_limits") or {}).items():
            try:
                amount = Decimal(raw) if isinstance(raw, str) else Decimal("NaN")
            except InvalidOperation:
                amount = Decimal("NaN")
            if not amount.is_finite() or amount < 0:
                raise MappingError(f"mapping: credit_limits[{code!r}] must be a decimal string like \"25000.00\"")
            if code not in companies.to_bc:
                raise MappingError(f"mapping: credit_limits[{code!r}] is not in companies")
            limits[code] = amount
        return cls(price_lists, own, Codes.parse(doc, "locations", bc_id), customer_groups, companies,
                   Codes.parse(doc, "customers", bc_id, required=False), guest, materials, limits)

    # --- lookups -----------------------------------------------------------------------------

    def price_list(self, price_list_id: int) -> tuple[str, str] | None:
        """("list", key value) for a price list, ("customer", customer) for a company's own, or None."""
        code = self.price_lists.erp(price_list_id)
        if code is not None:
            return "list", code
        own = next((e for e in self.own_price_lists if e.price_list_id == price_list_id), None)
        return ("customer", own.customer) if own else None

    def own_price_list_of(self, customer: str) -> OwnPriceList | None:
        return next((e for e in self.own_price_lists if e.customer == customer), None)

    def material(self, sku_: str) -> str | None:
        return sku_ if self.materials is None else self.materials.erp(sku_)

    def sku(self, material: str) -> str | None:
        return material if self.materials is None else self.materials.bc(material)

    def sold_to(self, account: str) -> str | None:
        """The S/4 sold-to of our account (``company:<id>`` / ``customer:<id>``; customer 0: the guest)."""
        kind, _, number = account.partition(":")
        if not number.isdigit():
            return None
        if kind == "company":
            return self.companies.erp(int(number))
        if int(number) == 0:
            return self.guest_customer
        return self.customers.erp(int(number))


def _own(code: object, raw: object) -> OwnPriceList:
    if not isinstance(code, str) or not isinstance(raw, dict) or set(raw) != {"price_list", "customer_group"}:
        raise MappingError(f"mapping: company_price_lists[{code!r}] must be "
                           '{"price_list": <id>, "customer_group": <id>}')
    try:
        return OwnPriceList(code, bc_id(raw["price_list"]), bc_id(raw["customer_group"]))
    except ValueError:
        raise MappingError(f"mapping: company_price_lists[{code!r}]: ids must be non-negative integers") from None
