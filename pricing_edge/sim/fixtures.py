"""The demo's layout (ports, URLs) and data (buyers, products, what each buyer should pay).

``pricing-edge fixtures`` prints this as JSON, for people trying the demo and for automated checks.
Expected prices come from the ERP's truth, not BigCommerce's lagging copy.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pricing_edge.config import Settings, listed
from pricing_edge.domain.inventory import total_available
from pricing_edge.sim.dataset import CURRENCIES, DEFAULT_CURRENCY, Dataset, Product

# Obviously demo-only: anyone can read it here. Production secrets come from PRICING_EDGE_EVENT_SECRET.
DEMO_EVENT_SECRET = "whsec_" + base64.b64encode(b"pricing-edge-demo-only-signing-key").decode()
DEMO_CUSTOMER_TOKEN_SECRET = "demo-customer-token-secret"
DEFAULT_PORT = 8080
DEMO_CATEGORY_ID = 1
FIXTURE_PRODUCT_COUNT = 20

# (name, customer id): buyers in three price lists — two of them colleagues in one company and customer
# group, who share every answer of their scope —, and the guest.
DEMO_BUYERS: tuple[tuple[str, int | None], ...] = (
    ("Wholesale buyer (Acme Facilities)", 1),
    ("Distributor buyer (Bolt Builders)", 2),
    ("Education buyer (Evergreen Schools)", 5),
    ("Guest", None),
    ("Wholesale buyer 2 (Acme Facilities)", 13),
)

# Customers whose address lies in another tax zone than the store's (10%): BigCommerce's tax-inclusive
# prices for them use their zone's rate. Buyer 13 shares buyer 1's group and price list, not its tax zone.
DEMO_TAX_ZONES: dict[int, Decimal] = {13: Decimal("0.20")}


@dataclass(frozen=True)
class DemoLayout:
    """Edge on N, BigCommerce simulator on N+1, ERP simulator on N+2, worker on N+3."""

    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"

    def url(self, offset: int) -> str:
        return f"http://{self.host}:{self.port + offset}"

    @property
    def edge_url(self) -> str:
        return self.url(0)

    @property
    def upstream_url(self) -> str:
        return self.url(1) + "/graphql"

    @property
    def erp_url(self) -> str:
        return self.url(2)

    @property
    def worker_url(self) -> str:
        return self.url(3)


def buyer_key(customer_id: int | None) -> str:
    return "guest" if customer_id is None else str(customer_id)


def buyer_headers(customer_id: int | None, settings: Settings) -> dict[str, str]:
    """Headers a server-side storefront (Catalyst) sends: impersonation token + customer id, or guest."""
    if customer_id is None:
        return {"Authorization": f"Bearer {settings.storefront_token}"}
    token = listed(settings.impersonation_token)[0]  # the current one, while a rotation lists two
    return {"Authorization": f"Bearer {token}", "X-Bc-Customer-Id": str(customer_id)}


def expected_price(dataset: Dataset, product: Product, customer_id: int | None, currency: str = DEFAULT_CURRENCY) -> str:
    """What ``prices.price.value`` should be for this buyer according to the ERP (sale price if one applies)."""
    group_id = dataset.customer(customer_id).customer_group_id if customer_id is not None else None  # type: ignore[union-attr]
    record = dataset.prices.get(dataset.price_list_for_group(group_id), product.default_variant.sku, currency)
    assert record is not None, f"no ERP price for {product.sku}"
    return str(record.effective_price)


def _group_of(dataset: Dataset, customer_id: int | None) -> int | None:
    customer = dataset.customer(customer_id) if customer_id is not None else None
    return customer.customer_group_id if customer else None


def fixture_products(dataset: Dataset) -> list[Product]:
    """Twenty products every demo buyer can see and whose prices differ between all their price lists,
    starting with the one that has exactly ten units available to sell."""
    groups = [_group_of(dataset, cid) for _, cid in DEMO_BUYERS]
    price_lists = {dataset.price_list_for_group(g) for g in groups}
    chosen: list[Product] = []
    for product in dataset.products:
        if not all(dataset.visible_to(product, g) for g in groups):
            continue
        prices = {expected_price(dataset, product, cid) for _, cid in DEMO_BUYERS}
        if len(prices) == len(price_lists):
            chosen.append(product)
        if len(chosen) == FIXTURE_PRODUCT_COUNT:
            break
    ten = next(p for p in dataset.products if product_available(dataset, p) == 10)
    if ten in chosen:
        chosen.remove(ten)
    return [ten] + chosen[: FIXTURE_PRODUCT_COUNT - 1]


def product_available(dataset: Dataset, product: Product) -> int:
    return sum(total_available(dataset.stock_for(v.sku)) for v in product.variants)


def demo_fixtures(dataset: Dataset, layout: DemoLayout, settings: Settings) -> dict[str, Any]:
    from pricing_edge.sim.storefront import customer_access_token

    buyers = []
    for name, customer_id in DEMO_BUYERS:
        customer = dataset.customer(customer_id) if customer_id is not None else None
        group_id = customer.customer_group_id if customer else None
        buyers.append({
            "name": name,
            "customer_id": customer_id,
            "customer_group_id": group_id if group_id is not None else 0,
            "price_list_id": dataset.price_list_for_group(group_id),
            "company_id": customer.company_id if customer else None,
            "headers": buyer_headers(customer_id, settings),
            "customer_access_token": (
                customer_access_token(customer_id, DEMO_CUSTOMER_TOKEN_SECRET) if customer_id is not None else None
            ),
            "email": customer.email if customer else None,
            "password": dataset.site.passwords.get(customer.id) if customer else None,  # demo-only: log in with it
        })
    products = [
        {
            "entity_id": product.id,
            "sku": product.sku,
            "name": product.name,
            "variants": [{"entity_id": v.id, "sku": v.sku} for v in product.variants],
            "available_to_sell": product_available(dataset, product),
            "expected_price": {buyer_key(cid): expected_price(dataset, product, cid) for _, cid in DEMO_BUYERS},
        }
        for product in fixture_products(dataset)
    ]
    return {
        "edge_url": layout.edge_url + "/graphql",
        "events_url": layout.edge_url + "/events/erp",
        "webhooks_url": layout.edge_url + "/webhooks/bigcommerce",
        "worker_url": layout.worker_url,
        "admin_url": f"{layout.url(1)}/stores/{settings.store_hash}",
        "admin_token": settings.admin_token,
        "upstream_url": layout.upstream_url,
        "erp_url": layout.erp_url,
        "event_secret": settings.event_secret or DEMO_EVENT_SECRET,
        "currency": DEFAULT_CURRENCY,
        "currencies": list(CURRENCIES),
        "category_id": DEMO_CATEGORY_ID,
        "seed": dataset.seed,
        "buyers": buyers,
        "products": products,
    }
