"""The store as a storefront's layout reads it: ``site.settings`` (status, logo, contact, URLs, SEO,
privacy, inventory display, shipping destinations, gift certificates…), ``site.currencies``,
``channel`` and ``geography``."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from pricing_edge.sim.dataset import CDN_URL, CURRENCIES, DEFAULT_CURRENCY, EUR_RATE, STORE_HASH, STORE_NAME, STORE_URL
from pricing_edge.sim.geography import Country
from pricing_edge.sim.storefront.connections import connection
from pricing_edge.sim.storefront.context import ctx, image, money

_CURRENCY_INFO = {  # code: (entity id, name, exchange rate, symbol, placement, decimal token, thousands token)
    "USD": (1, "US Dollar", Decimal(1), "$", "LEFT", ".", ","),
    "EUR": (2, "Euro", EUR_RATE, "€", "RIGHT", ",", "."),
}


def _currency(code: str) -> dict[str, Any]:
    entity_id, name, rate, symbol, placement, decimal_token, thousands = _CURRENCY_INFO[code]
    return {"entityId": entity_id, "code": code, "name": name, "flagImage": f"{CDN_URL}/lib/flags/{code[:2].lower()}.gif",
            "isActive": True, "exchangeRate": float(rate), "isTransactional": True, "isDefault": code == DEFAULT_CURRENCY,
            "display": {"symbol": symbol, "symbolPlacement": placement, "decimalToken": decimal_token,
                        "thousandsToken": thousands, "decimalPlaces": 2}}


def _enabled(info: GraphQLResolveInfo) -> tuple[str, ...]:
    """The currencies enabled on the request's channel (the REST Admin's currency assignments)."""
    c = ctx(info)
    return c.catalog.channels.channel(c.buyer.channel_id).currencies


def _country(country: Country) -> dict[str, Any]:
    return {"entityId": country.id, "code": country.code, "name": country.name,
            "statesOrProvinces": [{"entityId": s.id, "name": s.name, "abbreviation": s.abbreviation}
                                  for s in country.states]}


def countries(_: Any, info: GraphQLResolveInfo, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    found = list(ctx(info).catalog.dataset.site.countries)
    filters = filters or {}
    if filters.get("code"):
        found = [c for c in found if c.code.lower() == filters["code"].lower()]
    if filters.get("name"):
        found = [c for c in found if c.name.lower() == filters["name"].lower()]
    return [_country(c) for c in found]


def settings(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    site = ctx(info).catalog.dataset.site
    s = site.settings
    return {
        "storeName": STORE_NAME, "storeHash": STORE_HASH, "channelId": ctx(info).buyer.channel_id, "status": s.status,
        "logoV2": {"__typename": "StoreImageLogo", "image": image(s.logo_path, STORE_NAME)},
        "contact": {"address": s.address, "country": s.country, "addressType": s.address_type, "email": s.email,
                    "phone": s.phone},
        "url": {"vanityUrl": STORE_URL, "cdnUrl": CDN_URL, "checkoutUrl": f"{STORE_URL}/checkout"},
        "display": {"shortDateFormat": "M jS Y", "extendedDateFormat": "M jS Y @ g:i A"},
        "tax": {"pdp": "EX", "plp": "EX"},
        "search": {"productFilteringEnabled": True},
        "storefront": {"catalog": {"productComparisonsEnabled": s.comparisons}},
        "inventory": {"productOutOfStockBehavior": "DO_NOTHING", "optionOutOfStockBehavior": "LABEL_OPTION",
                      "stockLevelDisplay": s.stock_level_display, "defaultOutOfStockMessage": s.out_of_stock_message,
                      "hideInProductFiltering": False, "showPreOrderStockLevels": False,
                      "showOutOfStockMessage": s.show_out_of_stock_message, "updateStockBehavior": "ORDER_PLACED"},
        "socialMediaLinks": [{"name": name, "url": url} for name, url in s.social],
        "checkout": {"reCaptchaEnabled": False, "persistentCartEnabled": True},
        "statusMessage": None,
        "locales": [{"code": "en", "isDefault": True}],
        "faviconUrl": f"{CDN_URL}/product_images/favicon.ico",
        "webAnalytics": {"ga4": {"tagId": s.ga4_tag}},
        "currency": {"defaultCurrency": ctx(info).catalog.default_currency(ctx(info).buyer)},
        "seo": {"pageTitle": s.seo_title, "metaDescription": s.seo_description, "metaKeywords": s.seo_keywords},
        "privacy": {"cookieConsentEnabled": s.cookie_consent, "privacyPolicyUrl": STORE_URL + s.privacy_policy_path},
        "shipping": {"supportedShippingDestinations": {
            "countries": [_country(c) for c in site.countries if c.code in s.ships_to]}},
    }


def gift_certificate_settings(_: Any, info: GraphQLResolveInfo, currencyCode: str | None = None) -> dict[str, Any]:  # noqa: N803
    currency = currencyCode or DEFAULT_CURRENCY
    if currency not in CURRENCIES:
        raise GraphQLError(f"Currency {currency} is not enabled for this channel.")
    s = ctx(info).catalog.dataset.site.settings
    rate = _CURRENCY_INFO[currency][2]
    return {"__typename": "FixedAmountGiftCertificateSettings", "currencyCode": currency,
            "isEnabled": s.gift_certificates, "amounts": [money(a * rate, currency) for a in s.gift_certificate_amounts]}


SETTINGS: dict[tuple[str, str], Any] = {
    ("Query", "channel"): lambda _, i: {"entityId": ctx(i).buyer.channel_id},
    ("Query", "geography"): lambda _, i: {},
    ("Geography", "countries"): countries,
    ("Site", "settings"): settings,
    ("Settings", "giftCertificates"): gift_certificate_settings,
    ("Site", "currencies"): lambda _, i, **a: connection([_currency(c) for c in _enabled(i)], a),
    ("Site", "currency"): lambda _, i, currencyCode: _currency(currencyCode) if currencyCode in _enabled(i) else None,
}
