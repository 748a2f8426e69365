"""The demo store's site beyond its catalog: web pages, a blog, URL redirects, scripts, the store's
settings, where it ships and how much that costs, coupons, gift certificates, and its shoppers'
passwords and wishlists. Pure data, built from its own random stream so it never moves the catalog's.

Passwords are public, demo-only values (``pricing-edge fixtures`` prints them), like the demo tokens.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pricing_edge.sim.geography import COUNTRIES, Country

if TYPE_CHECKING:
    from pricing_edge.sim.dataset import Customer, Product

STORE_CREATED = datetime(2024, 2, 1, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class WebPage:
    """A BigCommerce web page: kind is NORMAL, CONTACT, RAW, BLOG or LINK (WebPageType)."""

    id: int
    kind: str
    name: str
    path: str = ""  # every kind but LINK
    link: str = ""  # LINK only
    parent_id: int = 0
    sort_order: int = 0
    visible_in_navigation: bool = True
    html_body: str = ""
    contact_fields: tuple[str, ...] = ()
    seo_title: str = ""
    seo_description: str = ""


@dataclass(frozen=True)
class BlogPost:
    id: int
    name: str
    path: str
    author: str
    published: datetime
    tags: tuple[str, ...]
    html_body: str


@dataclass(frozen=True)
class Redirect:
    """A 301 from ``from_path``; to an entity (``to_kind`` Product, Category, Brand, Page, BlogPost and
    ``to_id``) or a manual URL (``to_kind`` Manual, ``to_url`` absolute or a path of this store)."""

    id: int
    from_path: str
    to_kind: str
    to_id: int = 0
    to_url: str = ""


@dataclass(frozen=True)
class Script:
    id: str  # a UUID
    kind: str  # "InlineScript" or "SrcScript"
    consent_category: str  # ScriptConsentCategory
    visibility: str  # ScriptVisibility
    location: str  # ScriptLocation
    body: str  # the script tag (inline) or the src URL
    integrity_hashes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShippingMethod:
    """One shipping option of a zone (the zone is its countries). Cost: ``flat`` per consignment plus
    ``per_lb`` per pound of goods; free when the consignment's goods reach ``free_over`` (if set)."""

    id: str
    description: str
    type: str
    countries: frozenset[str]
    flat: Decimal
    per_lb: Decimal = Decimal(0)
    handling: Decimal = Decimal(0)
    free_over: Decimal | None = None
    transit_time: str | None = None


@dataclass(frozen=True)
class Coupon:
    id: int
    code: str
    type: str  # CouponType: PERCENTAGE_DISCOUNT (amount %), PER_TOTAL_DISCOUNT (amount off), FREE_SHIPPING
    amount: Decimal
    min_purchase: Decimal = Decimal(0)
    expires: datetime | None = None


@dataclass(frozen=True)
class GiftCertificate:
    code: str
    balance: Decimal
    currency: str
    purchased: datetime


@dataclass(frozen=True)
class Wishlist:
    id: int
    customer_id: int
    name: str
    is_public: bool
    token: str
    items: tuple[tuple[int, int, int | None], ...]  # (item id, product id, variant id)


@dataclass(frozen=True)
class StoreSettings:
    status: str = "LAUNCHED"
    logo_path: str = "logos/pricing-edge-demo-supply.png"
    address: str = "1 Industrial Way\nAustin, TX 78701"
    country: str = "United States"
    address_type: str = "Commercial"
    email: str = "orders@pricing-edge.invalid"
    phone: str = "+1-555-0100"
    social: tuple[tuple[str, str], ...] = (("LinkedIn", "https://www.linkedin.com/company/pricing-edge-demo"),
                                           ("YouTube", "https://www.youtube.com/@pricing-edge-demo"))
    ga4_tag: str = "G-PEDEMO0001"
    cookie_consent: bool = True
    privacy_policy_path: str = "/privacy-policy/"
    seo_title: str = "Pricing Edge Demo Supply — tools and MRO supplies for the trade"
    seo_description: str = "Trade prices for every account, live from our ERP."
    seo_keywords: str = "tools, fasteners, safety, MRO, trade supply"
    comparisons: bool = True
    out_of_stock_message: str = "Out of stock — ask about lead times"
    show_out_of_stock_message: bool = True
    stock_level_display: str = "SHOW_WHEN_LOW"
    gift_certificates: bool = True
    gift_certificate_amounts: tuple[Decimal, ...] = (Decimal(25), Decimal(50), Decimal(100))
    ships_to: frozenset[str] = frozenset({"US", "CA"})
    weight_unit: str = "lbs"
    length_unit: str = "in"


@dataclass
class SiteContent:
    settings: StoreSettings = field(default_factory=StoreSettings)
    pages: list[WebPage] = field(default_factory=list)
    blog_posts: list[BlogPost] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    countries: tuple[Country, ...] = COUNTRIES
    shipping_methods: list[ShippingMethod] = field(default_factory=list)
    coupons: list[Coupon] = field(default_factory=list)
    gift_certificates: list[GiftCertificate] = field(default_factory=list)
    passwords: dict[int, str] = field(default_factory=dict)  # customer id -> demo password
    wishlists: list[Wishlist] = field(default_factory=list)


def _pages() -> list[WebPage]:
    return [
        WebPage(1, "NORMAL", "About Us", "/about-us/", sort_order=1,
                html_body="<p>Trade supply since 1987, now with live ERP pricing.</p>",
                seo_title="About Pricing Edge Demo Supply"),
        WebPage(2, "CONTACT", "Contact Us", "/contact-us/", sort_order=2,
                html_body="<p>Questions about an order or an account? Write to us.</p>",
                contact_fields=("fullname", "phone", "companyname", "ordernumber")),
        WebPage(3, "NORMAL", "Shipping & Returns", "/shipping-returns/", sort_order=3,
                html_body="<p>Orders placed by 2 pm ship the same day.</p>"),
        WebPage(4, "BLOG", "Blog", "/blog/", sort_order=4),
        WebPage(5, "LINK", "Print Catalog (PDF)", link="https://catalog.pricing-edge.invalid/2026.pdf", sort_order=5),
        WebPage(6, "RAW", "Price Feed", "/price-feed/", sort_order=6, visible_in_navigation=False,
                html_body="<html><body><h1>Price feed</h1></body></html>"),
        WebPage(7, "NORMAL", "Terms & Conditions", "/terms-conditions/", parent_id=1, sort_order=1,
                html_body="<p>Net 30 for approved accounts.</p>"),
        WebPage(8, "NORMAL", "Privacy Policy", "/privacy-policy/", parent_id=1, sort_order=2,
                html_body="<p>We keep what an order needs, nothing more.</p>"),
        WebPage(9, "NORMAL", "Trade Account Application", "/trade-account-application/", sort_order=7,
                visible_in_navigation=False, html_body="<p>Apply for net terms and price-list access.</p>"),
    ]


def _blog_posts() -> list[BlogPost]:
    return [
        BlogPost(1, "Choosing the right fastener", "/blog/choosing-the-right-fastener/", "Pat M.",
                 datetime(2025, 9, 2, 10, 0, tzinfo=UTC), ("fasteners", "how-to"),
                 "<p>Grade, thread and finish, in that order.</p>"),
        BlogPost(2, "Safety gear checklist for 2026", "/blog/safety-gear-checklist-2026/", "Robin T.",
                 datetime(2026, 1, 12, 9, 30, tzinfo=UTC), ("safety",), "<p>Gloves, glasses, ears, lungs.</p>"),
    ]


def _redirects(products: list[Product]) -> list[Redirect]:
    showcase = products[3]
    return [
        Redirect(1, f"/old{showcase.path}", "Product", showcase.id),
        Redirect(2, f"/product.php?product_id={showcase.id}", "Product", showcase.id),
        Redirect(3, "/fixings/", "Category", 1),
        Redirect(4, "/brands/iron-clad/", "Brand", 1),
        Redirect(5, "/shipping.html", "Page", 3),
        Redirect(6, "/blog/fastener-guide/", "BlogPost", 1),
        Redirect(7, "/trade/", "Manual", to_url="/trade-account-application/"),
        Redirect(8, "/catalog-request/", "Manual", to_url="https://catalog.pricing-edge.invalid/request"),
    ]


def _scripts(rng: random.Random) -> list[Script]:
    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    return [
        Script(uid(), "InlineScript", "ESSENTIAL", "ALL_PAGES", "HEAD",
               "<script>window.peConsent = window.peConsent || {};</script>"),
        Script(uid(), "SrcScript", "ANALYTICS", "STOREFRONT", "FOOTER", "https://analytics.pricing-edge.invalid/tag.js",
               ("sha384-" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                                    for _ in range(64)),)),
        Script(uid(), "SrcScript", "FUNCTIONAL", "CHECKOUT", "FOOTER", "https://pay.pricing-edge.invalid/widget.js"),
    ]


def _shipping() -> list[ShippingMethod]:
    us, ca = frozenset({"US"}), frozenset({"CA"})
    return [
        ShippingMethod("us-ground", "Ground (3-5 business days)", "shipping_byweight", us, Decimal("6.00"),
                       Decimal("0.50"), transit_time="3-5 business days"),
        ShippingMethod("us-flat", "Flat Rate", "shipping_flatrate", us, Decimal("12.00"), handling=Decimal("2.50")),
        ShippingMethod("us-free", "Free Shipping", "shipping_freeshipping", us, Decimal(0),
                       free_over=Decimal("500.00")),
        ShippingMethod("ca-intl", "International Flat Rate", "shipping_flatrate", ca, Decimal("35.00"),
                       handling=Decimal("5.00"), transit_time="5-10 business days"),
    ]


def _coupons() -> list[Coupon]:
    return [
        Coupon(1, "WELCOME10", "PERCENTAGE_DISCOUNT", Decimal(10)),
        Coupon(2, "TAKE25", "PER_TOTAL_DISCOUNT", Decimal(25), min_purchase=Decimal(100)),
        Coupon(3, "FREESHIP", "FREE_SHIPPING", Decimal(0)),
        Coupon(4, "SUMMER2024", "PERCENTAGE_DISCOUNT", Decimal(15), expires=datetime(2024, 9, 1, tzinfo=UTC)),
    ]


def _gift_certificates() -> list[GiftCertificate]:
    return [
        GiftCertificate("GC-DEMO-0050", Decimal("50.00"), "USD", datetime(2025, 12, 1, tzinfo=UTC)),
        GiftCertificate("GC-DEMO-0500", Decimal("500.00"), "USD", datetime(2025, 12, 1, tzinfo=UTC)),
        GiftCertificate("GC-DEMO-SPENT", Decimal("0.00"), "USD", datetime(2025, 6, 1, tzinfo=UTC)),
    ]


def _wishlists(rng: random.Random, customers: list[Customer], products: list[Product]) -> list[Wishlist]:
    """Two lists for the first demo buyer (the showcase product in the first), one for a few others."""
    wishlists: list[Wishlist] = []
    item_id = 1
    for customer in customers[:12]:
        count = 2 if customer.id == 1 else 1 if customer.id % 3 == 1 else 0
        for n in range(count):
            chosen = [products[3]] if customer.id == 1 and n == 0 else []
            chosen += rng.sample(products[:200], 3)
            items = []
            for product in chosen:
                items.append((item_id, product.id, product.default_variant.id if product.has_variants else None))
                item_id += 1
            wishlists.append(Wishlist(len(wishlists) + 1, customer.id, "Reorder list" if n == 0 else "Next quarter",
                                      n == 1, f"{rng.getrandbits(64):016x}", tuple(items)))
    return wishlists


def build_site_content(seed: int, products: list[Product], customers: list[Customer]) -> SiteContent:
    rng = random.Random(f"{seed}:site-content")
    passwords = {c.id: f"pe-demo-{rng.getrandbits(32):08x}" for c in customers}
    return SiteContent(pages=_pages(), blog_posts=_blog_posts(), redirects=_redirects(products),
                       scripts=_scripts(rng), shipping_methods=_shipping(), coupons=_coupons(),
                       gift_certificates=_gift_certificates(), passwords=passwords,
                       wishlists=_wishlists(rng, customers, products))
