"""What a storefront's router and layout ask: ``site.route`` (entities by path, 301 redirects followed or not,
legacy query-string URLs), web pages of every kind with their tree, the blog, scripts, store settings,
currencies, channel and geography."""
from __future__ import annotations

from decimal import Decimal

import httpx

from pricing_edge.sim.dataset import STORE_URL, Dataset
from tests.sim.storefront import page_documents as pages
from tests.sim.storefront.helpers import (
    CONTRACTOR_EXCLUSIVES,
    WHOLESALE,
    bc_product_view,
    data_of,
    gql,
    impersonating,
    nodes,
    price_list_of,
)

SHOWCASE = 104


async def route(client: httpx.AsyncClient, path: str, behavior: str = "IGNORE",
                headers: dict[str, str] | None = None) -> dict[str, object]:
    data = await data_of(client, pages.ROUTE, {"path": path, "behavior": behavior}, headers)
    found: dict[str, object] = data["site"]["route"]
    return found


async def test_a_path_names_its_product_category_brand_page_blog_or_post(client: httpx.AsyncClient,
                                                                          dataset: Dataset) -> None:
    product = dataset.product_by_id[SHOWCASE]
    assert await route(client, product.path) == {"redirect": None, "node": {
        "__typename": "Product", "id": "UHJvZHVjdDoxMDQ=", "entityId": SHOWCASE, "sku": product.sku,
        "prices": {"price": {"value": bc_product_view(dataset, product, price_list_of(dataset, None)).price}}}}
    assert (await route(client, "/fasteners/bolts/"))["node"] == {"__typename": "Category", "id": "Q2F0ZWdvcnk6MjE=",
                                                                  "entityId": 21, "name": "Bolts"}
    assert (await route(client, "/fasteners/bolts"))["node"]["entityId"] == 21  # trailing slash optional
    assert (await route(client, dataset.brands[0].path))["node"]["name"] == dataset.brands[0].name
    assert (await route(client, "/about-us/"))["node"]["name"] == "About Us"
    assert (await route(client, "/price-feed/"))["node"]["htmlBody"].startswith("<html>")
    assert (await route(client, "/blog/"))["node"] == {"__typename": "Blog", "id": "QmxvZzo0", "name": "Blog",
                                                       "path": "/blog/"}
    assert (await route(client, "/blog/choosing-the-right-fastener/"))["node"]["entityId"] == 1
    assert await route(client, "/no-such-thing/") == {"redirect": None, "node": None}


async def test_a_redirect_is_answered_and_followed_only_when_asked(client: httpx.AsyncClient, dataset: Dataset) -> None:
    product = dataset.product_by_id[SHOWCASE]
    old = f"/old{product.path}"
    ignored = await route(client, old, "IGNORE")
    assert ignored["node"] is None  # nothing lives at the old path itself
    assert ignored["redirect"] == {"id": ignored["redirect"]["id"], "fromPath": old, "toUrl": STORE_URL + product.path,
                                   "to": {"__typename": "ProductRedirect", "entityId": SHOWCASE, "path": product.path}}
    followed = await route(client, old, "FOLLOW")
    assert followed["redirect"] == ignored["redirect"]
    assert followed["node"]["entityId"] == SHOWCASE
    legacy = await route(client, f"/product.php?product_id={SHOWCASE}", "FOLLOW")  # matched with its query string
    assert legacy["node"]["entityId"] == SHOWCASE
    assert (await route(client, "/product.php?product_id=1", "FOLLOW")) == {"redirect": None, "node": None}
    manual = await route(client, "/trade/", "FOLLOW")
    assert manual["redirect"]["to"] == {"__typename": "ManualRedirect", "url": "/trade-account-application/"}
    assert manual["node"]["name"] == "Trade Account Application"  # an internal manual redirect leads somewhere
    external = await route(client, "/catalog-request/", "FOLLOW")
    assert external["redirect"]["toUrl"] == "https://catalog.pricing-edge.invalid/request" and external["node"] is None
    for path, kind in (("/fixings/", "CategoryRedirect"), ("/brands/iron-clad/", "BrandRedirect"),
                       ("/shipping.html", "PageRedirect"), ("/blog/fastener-guide/", "BlogPostRedirect")):
        assert (await route(client, path, "FOLLOW"))["redirect"]["to"]["__typename"] == kind


async def test_a_route_never_shows_what_the_buyers_group_may_not_see(client: httpx.AsyncClient,
                                                                     dataset: Dataset) -> None:
    hidden = next(p for p in dataset.products if p.category_ids == (CONTRACTOR_EXCLUSIVES,))
    assert await route(client, hidden.path) == {"redirect": None, "node": None}
    assert (await route(client, hidden.path, headers=impersonating(WHOLESALE)))["node"]["entityId"] == hidden.id
    assert (await route(client, "/contractor-exclusives/"))["node"] is None


async def test_web_pages_filter_sort_and_nest_and_the_blog_and_scripts_are_listed(client: httpx.AsyncClient) -> None:
    top = nodes((await data_of(client, pages.CONTENT, {"filters": {"parentEntityIds": [0]}}))["site"]["content"]["pages"])
    assert [(p["__typename"], p["name"]) for p in top] == [
        ("NormalPage", "About Us"), ("ContactPage", "Contact Us"), ("NormalPage", "Shipping & Returns"),
        ("BlogIndexPage", "Blog"), ("ExternalLinkPage", "Print Catalog (PDF)"), ("RawHtmlPage", "Price Feed"),
        ("NormalPage", "Trade Account Application")]
    about = top[0]
    assert about["children"] == {"edges": [{"node": {"entityId": 7}}, {"node": {"entityId": 8}}]}
    assert about["plainTextSummary"] == "Trade supply sinc..." and about["parentEntityId"] is None
    assert top[4]["link"] == "https://catalog.pricing-edge.invalid/2026.pdf"
    data = await data_of(client, pages.CONTENT, {"filters": {"parentEntityIds": [1], "isVisibleInNavigation": True},
                                                 "scripts": {"visibilities": ["ALL_PAGES", "STOREFRONT"]}})
    content = data["site"]["content"]
    terms = nodes(content["pages"])[0]
    assert terms["parentEntityId"] == 1
    assert [b["name"] for b in nodes(terms["breadcrumbs"])] == ["About Us", "Terms & Conditions"]
    assert [p["name"] for p in nodes(content["blog"]["posts"])] == ["Safety gear checklist for 2026",
                                                                    "Choosing the right fastener"]  # newest first
    assert content["blog"]["post"] == {"name": "Safety gear checklist for 2026"}
    scripts = nodes(content["scripts"])
    assert [(s["__typename"], s["visibility"]) for s in scripts] == [("InlineScript", "ALL_PAGES"),
                                                                     ("SrcScript", "STOREFRONT")]
    hidden = await data_of(client, pages.CONTENT, {"filters": {"isVisibleInNavigation": False}, "sortBy": "SORT_ORDER"})
    assert [p["name"] for p in nodes(hidden["site"]["content"]["pages"])] == ["Price Feed", "Trade Account Application"]


async def test_the_store_settings_currencies_channel_and_geography(client: httpx.AsyncClient) -> None:
    data = await data_of(client, pages.STORE, {"currencyCode": "EUR"})
    settings = data["site"]["settings"]
    assert data["channel"] == {"entityId": 1}
    assert settings["status"] == "LAUNCHED" and settings["storeName"] == "Pricing Edge Demo Supply"
    assert settings["logoV2"]["__typename"] == "StoreImageLogo"
    assert "{:size}" in settings["logoV2"]["image"]["urlTemplate"] and "lossy" in settings["logoV2"]["image"]["urlTemplate"]
    assert settings["url"]["checkoutUrl"] == f"{STORE_URL}/checkout"
    assert settings["inventory"]["stockLevelDisplay"] == "SHOW_WHEN_LOW"
    assert [c["code"] for c in settings["shipping"]["supportedShippingDestinations"]["countries"]] == ["CA", "US"]
    assert settings["giftCertificates"] == {
        "__typename": "FixedAmountGiftCertificateSettings", "currencyCode": "EUR", "isEnabled": True,
        "amounts": [{"value": Decimal("23.00"), "currencyCode": "EUR"}, {"value": Decimal("46.00"), "currencyCode": "EUR"},
                    {"value": Decimal("92.00"), "currencyCode": "EUR"}]}
    assert settings["storefront"] == {"catalog": {"productComparisonsEnabled": True}}
    currencies = nodes(data["site"]["currencies"])
    assert [(c["code"], c["isDefault"], c["display"]["symbolPlacement"]) for c in currencies] == [
        ("USD", True, "LEFT"), ("EUR", False, "RIGHT")]
    assert data["site"]["eur"] == {"name": "Euro"}
    [canada] = data["geography"]["countries"]
    assert canada["name"] == "Canada" and {"abbreviation": "ON"} in canada["statesOrProvinces"]


async def test_gift_certificate_settings_refuse_a_currency_the_channel_does_not_sell_in(
        client: httpx.AsyncClient) -> None:
    body = await gql(client, pages.STORE, {"currencyCode": "JPY"})
    assert body["errors"][0]["message"] == "Currency JPY is not enabled for this channel."
