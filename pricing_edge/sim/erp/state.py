"""The simulated ERP's records over the demo dataset: reads, and validated changes that bump versions.

Changes are validated by building the complete new record through the event wire format
(``domain.events``) *before* anything is touched: whatever the ERP applies, it can also emit, and
a rejected change leaves no trace (not even a consumed version number).
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from pricing_edge.domain import events
from pricing_edge.domain.credit import CreditRecord, CreditStatus
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.pricing import PriceRecord
from pricing_edge.sim.dataset import CURRENCIES, Dataset, PriceList

INITIAL_CUSTOMER_VERSION = 1


class ChangeError(ValueError):
    """A change request the ERP refuses; ``field`` names what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class ErpState:
    """The ERP's truth: the dataset's prices, stock, companies and customers, mutated in place."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.skus: list[str] = list(dataset.iter_skus())
        self.known_skus: set[str] = set(self.skus)  # the ERP's item master (``skus`` in catalogue order)
        self.currencies: tuple[str, ...] = CURRENCIES
        # Customers carry no version in the dataset; the ERP keeps one per customer.
        self.customer_versions: dict[int, int] = {}
        self.reads: Counter[str] = Counter()  # live reads per key, for /_sim/reads
        # When each record last changed (epoch ms, strictly increasing across changes): vendor faces
        # show it as their change timestamps (S/4 LastChangeDateTime). The seeded data was "loaded" a
        # day before the simulator started.
        self.loaded_at_ms = int(time.time() * 1000) - 86_400_000
        self.changed_at: dict[str, int] = {}
        self._last_stamp = 0
        # Price lists of one company's own (customer-specific prices): price list id → company id.
        self.company_price_lists: dict[int, int] = {}

    def stamp(self, key: str) -> int:
        """Record that ``key`` (``events.record_key``, ``order:<number>``, ...) changed now."""
        self._last_stamp = max(int(time.time() * 1000), self._last_stamp + 1)
        self.changed_at[key] = self._last_stamp
        return self._last_stamp

    def last_change_ms(self, key: str) -> int:
        return self.changed_at.get(key, self.loaded_at_ms)

    # --- reads -------------------------------------------------------------------------------

    def has_price_list(self, price_list_id: int) -> bool:
        return any(p.id == price_list_id for p in self.dataset.price_lists)

    def prices(self, price_list_id: int, currency: str,
               skus: Sequence[str]) -> tuple[list[PriceRecord], list[str]]:
        found: list[PriceRecord] = []
        missing: list[str] = []
        for sku in skus:
            record = self.dataset.prices.get(price_list_id, sku, currency)
            if record is None:
                missing.append(sku)
            else:
                found.append(record)
        return found, missing

    def price_page(self, price_list_id: int, currency: str, offset: int, limit: int) -> list[PriceRecord]:
        """One page of a price list, in catalogue order (offset and limit count SKUs)."""
        found, _ = self.prices(price_list_id, currency, self.skus[offset:offset + limit])
        return found

    def stock(self, skus: Sequence[str],
              location_id: int | None = None) -> tuple[list[StockLevel], list[str]]:
        found: list[StockLevel] = []
        missing: list[str] = []
        for sku in skus:
            levels = [level for level in self.dataset.stock_for(sku)
                      if location_id is None or level.location_id == location_id]
            if levels:
                found.extend(levels)
            else:
                missing.append(sku)
        return found, missing

    def stock_page(self, offset: int, limit: int) -> list[StockLevel]:
        """One page of all stock, whole SKUs at a time (offset and limit count SKUs)."""
        found, _ = self.stock(self.skus[offset:offset + limit])
        return found

    def credit(self, company_id: int) -> CreditRecord | None:
        company = self.dataset.company(company_id)
        if company is None:
            return None
        status: CreditStatus = "hold" if company.status == "hold" else "ok"
        return CreditRecord(company.id, company.credit_limit, company.balance, status, company.version)

    def customer(self, customer_id: int) -> CustomerRecord | None:
        customer = self.dataset.customer(customer_id)
        if customer is None:
            return None
        version = self.customer_versions.get(customer_id, INITIAL_CUSTOMER_VERSION)
        return CustomerRecord(customer.id, customer.customer_group_id, customer.company_id, version)

    # --- changes -----------------------------------------------------------------------------

    def change_price(self, body: object) -> PriceRecord:
        """Patch one price record: given fields replace, ``null`` clears an optional field."""
        patch = _patch(body, ("price_list_id", "sku", "currency"),
                       ("price", "sale_price", "retail_price", "map_price", "bulk_pricing"))
        list_id, sku, currency = patch.pop("price_list_id"), patch.pop("sku"), patch.pop("currency")
        if not _is_int(list_id) or not self.has_price_list(list_id):
            raise ChangeError("price_list_id", f"no price list {list_id!r}")
        self._known_sku(sku)
        if currency not in self.currencies:
            raise ChangeError("currency", f"must be one of {', '.join(self.currencies)}, got {currency!r}")
        current = self.dataset.prices.get(list_id, sku, currency)
        if current is None:
            raise ChangeError("sku", f"no price for {sku} on price list {list_id} in {currency}")
        record = events.price_from_data(_merge(events.price_to_data(current), patch))
        record = replace(record, version=self.dataset.next_version())
        self.dataset.prices.put(record)
        self.stamp(events.record_key(record))
        return record

    def change_stock(self, body: object) -> StockLevel:
        patch = _patch(body, ("sku", "location_id"),
                       ("on_hand", "allocated", "safety_stock", "backorder", "lead_time_days"))
        sku, location_id = patch.pop("sku"), patch.pop("location_id")
        self._known_sku(sku)
        current = self.dataset.stock.get((sku, location_id)) if _is_int(location_id) else None
        if current is None:
            known = ", ".join(str(loc.id) for loc in self.dataset.locations)
            raise ChangeError("location_id", f"no warehouse {location_id!r} for {sku} (warehouses: {known})")
        level = events.stock_from_data(_merge(events.stock_to_data(current), patch))
        level = replace(level, version=self.dataset.next_version())
        self.dataset.stock[(sku, location_id)] = level
        self.stamp(events.record_key(level))
        return level

    def change_credit(self, body: object) -> CreditRecord:
        patch = _patch(body, ("company_id",), ("credit_limit", "balance", "status"))
        company_id = patch.pop("company_id")
        current = self.credit(company_id) if _is_int(company_id) else None
        if current is None:
            raise ChangeError("company_id", f"no company {company_id!r}")
        record = events.credit_from_data(_merge(events.credit_to_data(current), patch))
        record = replace(record, version=self.dataset.next_version())
        companies = self.dataset.companies
        index = next(i for i, c in enumerate(companies) if c.id == company_id)
        companies[index] = replace(companies[index], credit_limit=record.credit_limit, balance=record.balance,
                                   status=record.status, version=record.version)
        self.stamp(events.record_key(record))
        return record

    def change_customer(self, body: object) -> CustomerRecord:
        patch = _patch(body, ("customer_id",), ("customer_group_id", "company_id"))
        customer_id = patch.pop("customer_id")
        current = self.customer(customer_id) if _is_int(customer_id) else None
        if current is None:
            raise ChangeError("customer_id", f"no customer {customer_id!r}")
        group_id = patch.get("customer_group_id")
        if "customer_group_id" in patch and self.dataset.group(_int_or(group_id)) is None:
            raise ChangeError("customer_group_id", f"no customer group {patch['customer_group_id']!r}")
        company_id = patch.get("company_id")
        if company_id is not None and self.dataset.company(_int_or(company_id)) is None:
            raise ChangeError("company_id", f"no company {company_id!r}")
        record = events.customer_from_data(_merge(events.customer_to_data(current), patch))
        record = replace(record, version=self.dataset.next_version())
        customers = self.dataset.customers
        index = next(i for i, c in enumerate(customers) if c.id == customer_id)
        assert record.customer_group_id is not None
        customers[index] = replace(customers[index], customer_group_id=record.customer_group_id,
                                   company_id=record.company_id)
        self.customer_versions[customer_id] = record.version
        self.stamp(events.record_key(record))
        return record

    def has_item(self, sku: str) -> bool:
        return sku in self.known_skus

    def add_item(self, sku: str, price: Decimal, on_hand: int = 0) -> tuple[list[PriceRecord], list[StockLevel]]:
        """A new item in the ERP's item master, priced ``price`` on every price list in every currency
        and stocked ``on_hand`` in every warehouse (a mapping fixed after an order failed for it)."""
        if sku in self.known_skus:
            raise ChangeError("sku", f"the ERP already knows item {sku!r}")
        prices = [PriceRecord(price_list.id, sku, currency, price, version=self.dataset.next_version())
                  for price_list in self.dataset.price_lists for currency in self.currencies]
        levels = [StockLevel(sku, location.id, on_hand, version=self.dataset.next_version())
                  for location in self.dataset.locations]
        for record in prices:
            self.dataset.prices.put(record)
            self.stamp(events.record_key(record))
        for level in levels:
            self.dataset.stock[(sku, level.location_id)] = level
            self.stamp(events.record_key(level))
        self.skus.append(sku)
        self.known_skus.add(sku)
        return prices, levels

    def add_price_list(self, body: object) -> list[PriceRecord]:
        """A new price list — a company's own when ``company_id`` is given (customer-specific prices,
        which an S/4 face shows as condition records keyed by customer) — with its first prices."""
        if not isinstance(body, Mapping):
            raise ChangeError("body", "must be a JSON object")
        unknown = sorted(str(k) for k in body if k not in ("id", "name", "company_id", "prices"))
        if unknown:
            raise ChangeError(unknown[0], "unknown field (allowed: id, name, company_id, prices)")
        raw_id, name, company_id, prices = (body.get(k) for k in ("id", "name", "company_id", "prices"))
        list_id = _int_or(raw_id)
        if list_id < 1 or self.has_price_list(list_id):
            raise ChangeError("id", f"must be a new positive price list id, got {raw_id!r}")
        if not isinstance(name, str) or not name.strip():
            raise ChangeError("name", "must be a non-empty string")
        if company_id is not None and self.dataset.company(_int_or(company_id)) is None:
            raise ChangeError("company_id", f"no company {company_id!r}")
        if not isinstance(prices, list) or not prices:
            raise ChangeError("prices", "must be a non-empty list of {sku, currency, price}")
        records = []
        for index, item in enumerate(prices):
            if not isinstance(item, Mapping) or set(item) - {"sku", "currency", "price"}:
                raise ChangeError(f"prices[{index}]", "must be {sku, currency, price}")
            self._known_sku(item.get("sku"))
            if item.get("currency") not in self.currencies:
                raise ChangeError(f"prices[{index}].currency", f"must be one of {', '.join(self.currencies)}")
            data = {"price_list_id": list_id, "sku": item["sku"], "currency": item["currency"],
                    "price": item.get("price"), "version": 1}
            try:
                records.append(events.price_from_data(data))
            except events.EventDataError as exc:
                raise ChangeError(f"prices[{index}].{exc.field}", exc.problem) from None
        self.dataset.price_lists.append(PriceList(list_id, name))
        if company_id is not None:
            self.company_price_lists[list_id] = _int_or(company_id)
        stored = []
        for record in records:
            record = replace(record, version=self.dataset.next_version())
            self.dataset.prices.put(record)
            self.stamp(events.record_key(record))
            stored.append(record)
        return stored

    def _known_sku(self, sku: object) -> None:
        if not isinstance(sku, str) or sku not in self.known_skus:
            raise ChangeError("sku", f"unknown SKU {sku!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_or(value: object, default: int = -1) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _patch(body: object, keys: tuple[str, ...], fields: tuple[str, ...]) -> dict[str, Any]:
    """The change body as a dict: its key fields present, only known fields, at least one to change."""
    if not isinstance(body, Mapping):
        raise ChangeError("body", "must be a JSON object")
    for key in keys:
        if key not in body:
            raise ChangeError(key, "required field is missing")
    unknown = sorted(str(k) for k in body if k not in keys and k not in fields)
    if unknown:
        raise ChangeError(unknown[0], f"unknown field (allowed: {', '.join(keys + fields)})")
    if not any(f in body for f in fields):
        raise ChangeError("body", f"nothing to change: give at least one of {', '.join(fields)}")
    return dict(body)


def _merge(current: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
