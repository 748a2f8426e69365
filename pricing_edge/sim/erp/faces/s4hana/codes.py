"""The S/4HANA face's own codes for the simulator's records: material numbers, plants, price-list
types, customer groups, business partners, condition records, document numbers.

Deterministic from the BigCommerce-side ids of the demo dataset (so the same seed is the same ERP),
and deliberately unlike them (``M0001001``, ``1710``, ``PB``, ``17100001``): a connector that skips
its mapping layer reads nothing. :meth:`S4Codes.demo_mapping` is the mapping document a merchant
would write for this ERP (``erp/sap_s4/mapping.py`` reads it), generated instead of typed.
"""
from __future__ import annotations

import itertools
from typing import Any

from pricing_edge.domain import events
from pricing_edge.sim.erp.state import ErpState

SALES_ORGANIZATION = "1710"
DISTRIBUTION_CHANNEL = "10"
DIVISION = "00"
COMPANY_CODE = "1710"
CONDITION_TYPE = "PPR0"
SALES_ORDER_TYPE = "OR"
STORAGE_LOCATION = "171A"
UNRESTRICTED = "01"
BASE_UNIT = "EA"
GUEST_ACCOUNT = "30000000"  # the one-time customer guest orders are sold to
SYSTEM, CLIENT = "S4H", "100"


class S4Codes:
    """Both directions of every code; items added later (``/_sim/items``) get the next free numbers."""

    def __init__(self, state: ErpState) -> None:
        self.state = state
        dataset = state.dataset
        self._materials: dict[str, str] = {}
        self._skus: dict[str, str] = {}
        for _, variant in dataset.variant_by_sku.values():
            self._add_material(variant.sku, f"M{variant.id:07d}")
        self._extra = itertools.count(9_000_001)
        self._records: dict[str, str] = {}
        self._record_keys: dict[str, str] = {}
        self._next_record = itertools.count(1)
        for key in sorted(dataset.prices.records, key=lambda k: (k[0], k[1], k[2])):
            self.condition_record(f"price:{key[0]}:{key[2]}:{key[1]}")

    # --- items ------------------------------------------------------------------------------------

    def _add_material(self, sku: str, material: str) -> None:
        self._materials[sku] = material
        self._skus[material] = sku

    def material(self, sku: str) -> str:
        if sku not in self._materials:
            if not self.state.has_item(sku):
                raise KeyError(sku)
            self._add_material(sku, f"M{next(self._extra):07d}")
        return self._materials[sku]

    def sku_of(self, material: str) -> str | None:
        for sku in self.state.skus:  # items added since start get their numbers here
            if sku not in self._materials:
                self.material(sku)
        return self._skus.get(material)

    # --- organisation -----------------------------------------------------------------------------

    @staticmethod
    def plant(location_id: int) -> str:
        return f"{1700 + 10 * location_id}"

    def location_of(self, plant: str) -> int | None:
        return next((loc.id for loc in self.state.dataset.locations if self.plant(loc.id) == plant), None)

    @staticmethod
    def price_list_type(price_list_id: int) -> str:
        return "P" + chr(ord("A") + price_list_id - 1)

    @staticmethod
    def customer_group(group_id: int) -> str:
        return f"G{group_id}"

    # --- business partners -----------------------------------------------------------------------

    @staticmethod
    def company_account(company_id: int) -> str:
        return f"{17100000 + company_id}"

    @staticmethod
    def person(customer_id: int) -> str:
        return f"{30000000 + customer_id}"

    def account(self, sold_to: str) -> str:
        """The S/4 sold-to of a state account (``company:<id>`` / ``customer:<id>``)."""
        kind, _, number = sold_to.partition(":")
        if kind == "company":
            return self.company_account(int(number))
        return GUEST_ACCOUNT if int(number) == 0 else self.person(int(number))

    def state_account(self, party: str) -> str | None:
        """The state account of an S/4 sold-to party, None for a party this ERP does not sell to."""
        if party == GUEST_ACCOUNT:
            return "customer:0"
        number = int(party) if party.isdigit() else -1
        dataset = self.state.dataset
        if 17100000 < number < 17200000 and dataset.company(number - 17100000):
            return f"company:{number - 17100000}"
        customer = dataset.customer(number - 30000000) if 30000000 < number < 31000000 else None
        if customer is not None and customer.company_id is None:
            return f"customer:{customer.id}"  # business buyers buy on their company's account
        return None

    # --- documents --------------------------------------------------------------------------------

    def condition_record(self, record_key: str) -> str:
        if record_key not in self._records:
            number = f"{next(self._next_record):010d}"
            self._records[record_key] = number
            self._record_keys[number] = record_key
        return self._records[record_key]

    def record_key_of(self, condition_record: str) -> str | None:
        return self._record_keys.get(condition_record)

    @staticmethod
    def sales_order(number: str) -> str:
        return number.removeprefix("SO-")

    @staticmethod
    def state_order(sales_order: str) -> str:
        return f"SO-{sales_order}"

    @staticmethod
    def delivery(shipment_id: str) -> str:
        return f"{80000000 + int(shipment_id.removeprefix('SH-')) - 200000}"

    @staticmethod
    def billing_document(invoice_number: str) -> str:
        return f"{90000000 + int(invoice_number.removeprefix('INV-')) - 300000}"

    # --- the mapping a merchant would write --------------------------------------------------------

    def demo_mapping(self) -> dict[str, Any]:
        """The connector's mapping document for this ERP (see ``pricing_edge.erp.sap_s4.mapping``)."""
        dataset, state = self.state.dataset, self.state
        own = state.company_price_lists
        return {
            "price_lists": {self.price_list_type(p.id): p.id for p in dataset.price_lists if p.id not in own},
            # a BigCommerce customer group of each such company's own (ids above the dataset's groups)
            "company_price_lists": {self.company_account(company): {"price_list": price_list,
                                                                    "customer_group": 100 + price_list}
                                    for price_list, company in own.items()},
            "locations": {self.plant(loc.id): loc.id for loc in dataset.locations},
            "customer_groups": {self.customer_group(g.id): g.id for g in dataset.customer_groups},
            "companies": {self.company_account(c.id): c.id for c in dataset.companies},
            "customers": {self.person(c.id): c.id for c in dataset.customers},
            "guest_customer": GUEST_ACCOUNT,
            "materials": {self.material(sku): sku for sku in state.skus},
            "credit_limits": {self.company_account(c.id): events.money_str(c.credit_limit)
                              for c in dataset.companies},
        }
