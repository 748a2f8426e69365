"""What every resolver of the simulated storefront shares: the request's context (catalog, buyer,
the app's mutable state) and the small value shapes BigCommerce repeats everywhere (Money, dates,
images, SEO details)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from pricing_edge.domain.money import format_money
from pricing_edge.sim.catalog_content import Seo
from pricing_edge.sim.dataset import CDN_URL
from pricing_edge.sim.storefront.catalog import Buyer, StorefrontCatalog

DEFAULT_CURRENCY = "USD"


@dataclass
class Context:
    catalog: StorefrontCatalog
    buyer: Buyer
    state: dict[str, Any] = field(default_factory=dict)  # the app's carts, issued tokens… (lives as long as the app)
    access_token: str | None = None  # the X-Bc-Customer-Access-Token that named the buyer, if one did
    server_to_server: bool = True  # no browser Origin: fields "only fetched in server-to-server context" answer
    auth: Any = None  # the app's Authenticator: login issues tokens, logout revokes them


def ctx(info: GraphQLResolveInfo) -> Context:
    context: Context = info.context
    return context


def money(value: Decimal | None, currency: str) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"currencyCode": currency, "value": value, "formattedV2": format_money(value, currency)}


def when(moment: datetime) -> dict[str, str]:
    """A DateTimeExtended: UTC, ISO 8601 with a Z."""
    return {"utc": moment.isoformat().replace("+00:00", "Z")}


def image(path: str, alt: str, is_default: bool = False) -> dict[str, Any]:
    """An Image (its URL fields are resolved from the path)."""
    return {"path": path, "altText": alt, "isDefault": is_default}


def seo(details: Seo | None) -> dict[str, str]:
    details = details or Seo()
    return {"pageTitle": details.page_title, "metaDescription": details.meta_description,
            "metaKeywords": details.meta_keywords}


def plain_text(html: str, limit: int) -> str:
    """BigCommerce's plainTextDescription / plainTextSummary: tags stripped, cut at ``limit`` with an ellipsis."""
    text = re.sub(r"<[^>]+>", "", html).strip()
    return text if len(text) <= limit else text[: max(limit - 3, 0)].rstrip() + "..."


def image_url(source: dict[str, Any], info: GraphQLResolveInfo, width: int, height: int | None = None,
              lossy: bool | None = None) -> str:
    size = f"{width}x{height}" if height else f"{width}w"
    return f"{CDN_URL}/images/stencil/{size}/{source['path']}" + ("?compression=lossy" if lossy else "")


IMAGE_FIELDS: dict[str, Any] = {
    "url": image_url,
    "urlOriginal": lambda s, i, lossy=None: f"{CDN_URL}/images/stencil/original/{s['path']}"
                                            + ("?compression=lossy" if lossy else ""),
    # Storefronts substitute {:size} (e.g. 500x500) themselves: one URL template, every size.
    "urlTemplate": lambda s, i, lossy=None: f"{CDN_URL}/images/stencil/{{:size}}/{s['path']}"
                                            + ("?compression=lossy" if lossy else ""),
}
