"""The `data` of ERP change events: one wire shape per record kind, exact in both directions.

Every producer (the simulated ERP, real ERP connectors) and every consumer (the edge's intake and
cache updater, the worker) goes through these functions, so the wire format is defined once and
the JSON Schemas in ``pricing_edge/schemas/events/`` describe the same thing. Rules:

- money is a decimal string (``"12.50"``), never a JSON number: a float has already lost digits;
- ``version`` is an integer (ERP sequence or epoch milliseconds); newer replaces older;
- an event carries the record's *full* state; an absent optional field (or ``null``) means "none",
  which is why unknown fields are refused: a misspelt ``sale_prise`` must not silently clear a sale.

Record data is checked against the JSON Schemas (``domain/event_schema.py``: package data, read once) and
then only converted: the schemas are the one contract (order events too, ``domain/order_events.py``). No clock: a version far in the future is refused by the
receivers (``domain/versioning.py``).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.event_schema import SchemaViolation, check, check_many
from pricing_edge.domain.inventory import StockLevel
from pricing_edge.domain.money import MoneyError, to_decimal
from pricing_edge.domain.pricing import BulkTier, PriceRecord, TierKind

PREFIX = "com.pricingedge."
PRICE_CHANGED = "com.pricingedge.price.changed"
STOCK_CHANGED = "com.pricingedge.stock.changed"
CREDIT_CHANGED = "com.pricingedge.credit.changed"
CUSTOMER_CHANGED = "com.pricingedge.customer.changed"
# Order events: named here; their data is in ``domain.order_events`` and belongs to the worker's flows.
SHIPMENT_CREATED = "com.pricingedge.shipment.created"
SALES_ORDER_CHANGED = "com.pricingedge.salesorder.changed"

RECORD_EVENT_TYPES: tuple[str, ...] = (PRICE_CHANGED, STOCK_CHANGED, CREDIT_CHANGED, CUSTOMER_CHANGED)
EVENT_TYPES: tuple[str, ...] = RECORD_EVENT_TYPES + (SHIPMENT_CREATED, SALES_ORDER_CHANGED)

Record = PriceRecord | StockLevel | CreditRecord | CustomerRecord



class EventDataError(ValueError):
    """Event data that does not describe a valid record; ``field`` names the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


# --- records → data ---------------------------------------------------------------------------

def money_str(value: object, field: str = "amount") -> str:
    """A Decimal's exact digits as a plain decimal string (no exponent); floats are refused."""
    try:
        amount = to_decimal(value)
    except MoneyError as exc:
        raise EventDataError(field, str(exc)) from None
    return f"{amount:f}"


def price_to_data(record: PriceRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "price_list_id": record.price_list_id,
        "sku": record.sku,
        "currency": record.currency,
        "price": money_str(record.price, "price"),
    }
    for name in ("sale_price", "retail_price", "map_price"):
        value = getattr(record, name)
        if value is not None:
            data[name] = money_str(value, name)
    if record.bulk_tiers:
        data["bulk_pricing"] = [_tier_to_data(tier, i) for i, tier in enumerate(record.bulk_tiers)]
    data["version"] = record.version
    return data


def _tier_to_data(tier: BulkTier, index: int) -> dict[str, Any]:
    if tier.kind is not TierKind.FIXED_PRICE:
        # ERP price lists state volume breaks as unit prices; percent/relative tiers are catalog-side.
        raise EventDataError(f"bulk_pricing[{index}]",
                             f"only fixed unit-price tiers travel in events, not {tier.kind.value}")
    item: dict[str, Any] = {"min_quantity": tier.min_quantity}
    if tier.max_quantity is not None:
        item["max_quantity"] = tier.max_quantity
    item["price"] = money_str(tier.amount, f"bulk_pricing[{index}].price")
    return item


def stock_to_data(level: StockLevel) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sku": level.sku,
        "location_id": level.location_id,
        "on_hand": level.on_hand,
        "allocated": level.allocated,
        "safety_stock": level.safety_stock,
        "backorder": level.backorder,
    }
    if level.lead_time_days is not None:
        data["lead_time_days"] = level.lead_time_days
    data["version"] = level.version
    return data


def credit_to_data(record: CreditRecord) -> dict[str, Any]:
    return {
        "company_id": record.company_id,
        "credit_limit": money_str(record.credit_limit, "credit_limit"),
        "balance": money_str(record.balance, "balance"),
        "status": record.status,
        "version": record.version,
    }


def customer_to_data(record: CustomerRecord) -> dict[str, Any]:
    data: dict[str, Any] = {"customer_id": record.customer_id}
    if record.customer_group_id is not None:
        data["customer_group_id"] = record.customer_group_id
    if record.company_id is not None:
        data["company_id"] = record.company_id
    data["version"] = record.version
    return data


def event_type_of(record: Record) -> str:
    if isinstance(record, PriceRecord):
        return PRICE_CHANGED
    if isinstance(record, StockLevel):
        return STOCK_CHANGED
    if isinstance(record, CreditRecord):
        return CREDIT_CHANGED
    if isinstance(record, CustomerRecord):
        return CUSTOMER_CHANGED
    raise TypeError(f"no change event for {type(record).__name__}")


def to_data(record: Record) -> dict[str, Any]:
    """The event ``data`` for any record kind."""
    if isinstance(record, PriceRecord):
        return price_to_data(record)
    if isinstance(record, StockLevel):
        return stock_to_data(record)
    if isinstance(record, CreditRecord):
        return credit_to_data(record)
    if isinstance(record, CustomerRecord):
        return customer_to_data(record)
    raise TypeError(f"no change event for {type(record).__name__}")


def record_key(record: Record) -> str:
    """The entity a record is the state of: the unit of versioning, ordering and the CloudEvents subject."""
    if isinstance(record, PriceRecord):
        return f"price:{record.price_list_id}:{record.currency}:{record.sku}"
    if isinstance(record, StockLevel):
        return f"stock:{record.location_id}:{record.sku}"
    if isinstance(record, CreditRecord):
        return f"credit:{record.company_id}"
    if isinstance(record, CustomerRecord):
        return f"customer:{record.customer_id}"
    raise TypeError(f"no key for {type(record).__name__}")


# --- data → records ---------------------------------------------------------------------------

def check_data(event_type: str, data: object) -> dict[str, Any]:
    """``data`` checked against its type's JSON Schema (the one contract); EventDataError names the field."""
    try:
        check(event_type, data)
    except SchemaViolation as exc:
        raise EventDataError(exc.field, exc.problem) from None
    assert isinstance(data, dict)
    return data


def _money(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def price_from_data(data: object) -> PriceRecord:
    return _price_record(check_data(PRICE_CHANGED, data))


def prices_from_data(items: list[Any]) -> list[PriceRecord]:
    """Many records of a bulk export, checked at once (``check_many``): the same contract, faster."""
    return [_price_record(d) for d in _checked_many(PRICE_CHANGED, items)]


def stock_levels_from_data(items: list[Any]) -> list[StockLevel]:
    return [_stock_level(d) for d in _checked_many(STOCK_CHANGED, items)]


def _checked_many(event_type: str, items: list[Any]) -> list[dict[str, Any]]:
    try:
        check_many(event_type, items)
    except SchemaViolation as exc:
        raise EventDataError(exc.field, exc.problem) from None
    return items


def _price_record(d: dict[str, Any]) -> PriceRecord:
    tiers: list[BulkTier] = []
    for i, tier in enumerate(d.get("bulk_pricing") or ()):
        high = tier.get("max_quantity")
        if high is not None and high < tier["min_quantity"]:  # across fields: beyond what the schema states
            raise EventDataError(f"bulk_pricing[{i}].max_quantity", f"must be at least {tier['min_quantity']}, got {high}")
        tiers.append(BulkTier(tier["min_quantity"], high, Decimal(tier["price"])))
    return PriceRecord(
        price_list_id=d["price_list_id"], sku=d["sku"], currency=d["currency"], price=Decimal(d["price"]),
        sale_price=_money(d.get("sale_price")), retail_price=_money(d.get("retail_price")),
        map_price=_money(d.get("map_price")), bulk_tiers=tuple(tiers), version=d["version"])


def stock_from_data(data: object) -> StockLevel:
    return _stock_level(check_data(STOCK_CHANGED, data))


def _stock_level(d: dict[str, Any]) -> StockLevel:
    return StockLevel(sku=d["sku"], location_id=d["location_id"], on_hand=d["on_hand"],
                      allocated=d.get("allocated") or 0, safety_stock=d.get("safety_stock") or 0,
                      backorder=bool(d.get("backorder")), lead_time_days=d.get("lead_time_days"),
                      version=d["version"])


def credit_from_data(data: object) -> CreditRecord:
    d = check_data(CREDIT_CHANGED, data)
    return CreditRecord(company_id=d["company_id"], credit_limit=Decimal(d["credit_limit"]),
                        balance=Decimal(d["balance"]), status="hold" if d["status"] == "hold" else "ok",
                        version=d["version"])


def customer_from_data(data: object) -> CustomerRecord:
    d = check_data(CUSTOMER_CHANGED, data)
    return CustomerRecord(customer_id=d["customer_id"], customer_group_id=d.get("customer_group_id"),
                          company_id=d.get("company_id"), version=d["version"])


def from_data(event_type: str, data: object) -> Record:
    """The record an event of ``event_type`` carries; EventDataError names the first bad field."""
    if event_type == PRICE_CHANGED:
        return price_from_data(data)
    if event_type == STOCK_CHANGED:
        return stock_from_data(data)
    if event_type == CREDIT_CHANGED:
        return credit_from_data(data)
    if event_type == CUSTOMER_CHANGED:
        return customer_from_data(data)
    known = ", ".join(RECORD_EVENT_TYPES)
    raise EventDataError("type", f"not a record change event type: {event_type!r} (known: {known})")
