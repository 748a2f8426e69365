"""What a storefront shows of the demo catalog beyond SKUs, prices and stock: product options and
modifiers, reviews, nested categories, SEO, images of categories and brands.

Built from its own random stream (``seed`` mixed with a label), after the core dataset, so that adding
storefront content never moves a price, a stock level or an id the ERP side reads. Option ids follow
one rule per product ``p``: option ``p·10 + k`` (variant options first, k = 0, 1; modifiers k ≥ 2),
value ``p·100 + k·10 + i`` — unique in the store, as BigCommerce's are.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the dataset imports this module to build itself
    from pricing_edge.sim.dataset import Brand, Category, Product

SHOWCASE_INDEX = 3  # product 104: colour × size variants and one modifier of every kind
REQUIRED_FROM_INDEX = 500  # products from 601 on with an engraving require it (the demo's first products never do)
SWATCH_HEX = {"Black": "#1B1B1B", "Orange": "#F28C28", "Yellow": "#F4C430", "Blue": "#1F4E9E", "Gray": "#8A8D91"}
_SUBCATEGORIES = {1: ("Bolts", "Screws", "Anchors"), 2: ("Wrenches", "Pliers"), 3: ("Drills", "Saws"),
                  4: ("Gloves", "Eye Protection"), 5: ("Cable", "Connectors"), 6: ("Pipe Fittings", "Valves")}
_GRANDCHILDREN = {"Bolts": ("Hex Bolts", "Carriage Bolts"), "Drills": ("Cordless Drills",)}
_REVIEW_TITLES = {5: ["Exactly what we needed", "Great value", "Built to last"],
                  4: ["Solid product", "Good, minor quibbles", "Would reorder"],
                  3: ["Does the job", "Average"], 2: ["Not for heavy use", "Disappointed"],
                  1: ["Broke in a week", "Wrong size shipped"]}
_REVIEWERS = ["Alex P.", "Jamie R.", "Sam K.", "Chris D.", "Pat M.", "Robin T.", "Lee W.", "Dana S."]
REVIEWS_SINCE = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


class OptionKind(StrEnum):
    """The seven CatalogProductOption types of the Storefront API."""

    MULTIPLE_CHOICE = "MultipleChoiceOption"
    CHECKBOX = "CheckboxOption"
    NUMBER = "NumberFieldOption"
    TEXT = "TextFieldOption"
    MULTI_LINE_TEXT = "MultiLineTextFieldOption"
    DATE = "DateFieldOption"
    FILE = "FileUploadFieldOption"


@dataclass(frozen=True)
class OptionValue:
    id: int
    label: str
    is_default: bool = False
    hex_colors: tuple[str, ...] = ()  # a swatch's colours
    product_id: int | None = None  # a pick list's product


@dataclass(frozen=True)
class ProductOption:
    """A variant option (its values make the variants) or a modifier (chosen per cart line)."""

    id: int
    name: str
    kind: OptionKind
    is_variant_option: bool
    is_required: bool
    values: tuple[OptionValue, ...] = ()  # multiple choice; a checkbox's (checked, unchecked)
    display_style: str = ""  # multiple choice: Swatch, RectangleBoxes, RadioButtons, DropdownList, ProductPickList…
    label: str = ""  # checkbox
    checked_by_default: bool = False
    default_number: Decimal | None = None
    lowest: Decimal | None = None
    highest: Decimal | None = None
    integer_only: bool = False
    limit_number_by: str = "NO_LIMIT"
    default_text: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    max_lines: int | None = None
    default_date: datetime | None = None
    earliest: datetime | None = None
    latest: datetime | None = None
    limit_date_by: str = "NO_LIMIT"
    max_file_size: int = 0  # kilobytes
    file_types: tuple[str, ...] = ()

    def value(self, value_id: int) -> OptionValue | None:
        return next((v for v in self.values if v.id == value_id), None)


@dataclass(frozen=True)
class Review:
    id: int
    product_id: int
    author: str
    title: str
    text: str
    rating: int
    created_at: datetime


@dataclass(frozen=True)
class Seo:
    page_title: str = ""  # BigCommerce answers "" when the merchant set none; storefronts fall back to the name
    meta_description: str = ""
    meta_keywords: str = ""


@dataclass(frozen=True)
class ProductDetails:
    """Storefront-only attributes of a product."""

    condition: str = "NEW"
    gtin: str | None = None
    warranty: str = ""
    dimensions: tuple[Decimal, Decimal, Decimal] | None = None  # height, width, depth (inches)
    preorder_release: datetime | None = None  # a pre-order product's release date


@dataclass
class CatalogContent:
    options: dict[int, tuple[ProductOption, ...]] = field(default_factory=dict)
    reviews: dict[int, tuple[Review, ...]] = field(default_factory=dict)
    details: dict[int, ProductDetails] = field(default_factory=dict)
    seo: dict[tuple[str, int], Seo] = field(default_factory=dict)  # ("Product" | "Category" | "Brand", id)
    images: dict[tuple[str, int], str] = field(default_factory=dict)  # ("Category" | "Brand", id) -> image path
    search_keywords: dict[int, tuple[str, ...]] = field(default_factory=dict)  # brand id -> keywords


def _slug(text: str) -> str:
    return "".join(ch.lower() if ch.isalnum() else "-" for ch in text).strip("-").replace("--", "-")


def nested_categories(categories: list[Category]) -> list[Category]:
    """Children (ids from 21) under six top-level categories, and grandchildren under two children."""
    from pricing_edge.sim.dataset import Category

    by_id = {c.id: c for c in categories}
    next_id = max(by_id) + 1
    children: list[Category] = []
    for parent_id, names in _SUBCATEGORIES.items():
        parent = by_id[parent_id]
        for name in names:
            children.append(Category(next_id, name, f"{parent.path}{_slug(name)}/",
                                     f"<p>{name}, from our {parent.name.lower()} range.</p>", parent_id))
            next_id += 1
    grandchildren: list[Category] = []
    for child in children:
        for name in _GRANDCHILDREN.get(child.name, ()):
            grandchildren.append(Category(next_id, name, f"{child.path}{_slug(name)}/",
                                          f"<p>{name}.</p>", child.id))
            next_id += 1
    return children + grandchildren


def assign_subcategories(products: list[Product], subcategories: list[Category]) -> list[Product]:
    """Two products in three of a parent category also sit in one of its children (and half of those
    in a grandchild). Only added, never moved: a product stays in every category it was in."""
    kids: dict[int, list[Category]] = {}
    for category in subcategories:
        kids.setdefault(category.parent_id, []).append(category)
    out = []
    for product in products:
        extra: list[int] = []
        mix = (product.id * 2654435761) % 2**32 >> 8  # spread ids that one category's products share mod n
        for category_id in product.category_ids:
            children = kids.get(category_id)
            if not children or mix % 3 == 0:
                continue
            child = children[(mix // 3) % len(children)]
            extra.append(child.id)
            grandchildren = kids.get(child.id)
            if grandchildren and (mix // 7) % 2 == 0:
                extra.append(grandchildren[(mix // 14) % len(grandchildren)].id)
        out.append(replace(product, category_ids=product.category_ids + tuple(extra)) if extra else product)
    return out


def _variant_options(product: Product) -> list[ProductOption]:
    """The options whose values make the product's variants; the default variant's values are the defaults."""
    options = []
    for k, name in enumerate(product.option_names):
        labels = list(dict.fromkeys(v.option_values[k][1] for v in product.variants))
        default = product.default_variant.option_values[k][1]
        style = {"Color": "Swatch", "Size": "RectangleBoxes", "Pack Size": "RadioButtons"}.get(name, "DropdownList")
        values = tuple(OptionValue(product.id * 100 + k * 10 + i, label, label == default,
                                   (SWATCH_HEX[label],) if style == "Swatch" and label in SWATCH_HEX else ())
                       for i, label in enumerate(labels))
        options.append(ProductOption(product.id * 10 + k, name, OptionKind.MULTIPLE_CHOICE, True, True, values, style))
    return options


def _modifiers(product: Product, index: int, product_count: int, showcase: bool) -> list[ProductOption]:
    """Modifiers by a fixed pattern of the product's index; the showcase product has one of every kind."""
    p = product.id
    wanted = {kind for kind, every in ((OptionKind.TEXT, 5), (OptionKind.CHECKBOX, 7), (OptionKind.DATE, 11),
                                       (OptionKind.NUMBER, 13), (OptionKind.MULTI_LINE_TEXT, 17),
                                       (OptionKind.FILE, 19), (OptionKind.MULTIPLE_CHOICE, 23)) if index % every == 4}
    if showcase:
        wanted = set(OptionKind)
    modifiers: list[ProductOption] = []
    k = 2
    for kind in OptionKind:  # a fixed order: ids do not depend on set iteration
        if kind not in wanted:
            continue
        oid, base = p * 10 + k, p * 100 + k * 10
        if kind is OptionKind.TEXT:
            required = index >= REQUIRED_FROM_INDEX  # made to order: the engraving must be given
            modifiers.append(ProductOption(oid, "Engraving", kind, False, required, default_text="",
                                           min_length=1 if required else 0, max_length=30))
        elif kind is OptionKind.CHECKBOX:
            modifiers.append(ProductOption(oid, "Gift wrap", kind, False, False,
                                           (OptionValue(base, "Yes"), OptionValue(base + 1, "No", True)),
                                           label="Wrap it for me"))
        elif kind is OptionKind.DATE:
            modifiers.append(ProductOption(oid, "Delivery date", kind, False, False,
                                           earliest=datetime(2026, 1, 1, tzinfo=UTC),
                                           latest=datetime(2027, 12, 31, tzinfo=UTC), limit_date_by="RANGE"))
        elif kind is OptionKind.NUMBER:
            modifiers.append(ProductOption(oid, "Cut length (m)", kind, False, False, default_number=Decimal(1),
                                           lowest=Decimal(1), highest=Decimal(100), integer_only=True,
                                           limit_number_by="RANGE"))
        elif kind is OptionKind.MULTI_LINE_TEXT:
            modifiers.append(ProductOption(oid, "Special instructions", kind, False, False, min_length=0,
                                           max_length=500, max_lines=5))
        elif kind is OptionKind.FILE:
            modifiers.append(ProductOption(oid, "Your logo", kind, False, False, max_file_size=2048,
                                           file_types=("png", "jpg", "svg")))
        else:
            if showcase:  # a pick list: add a matching accessory
                picks = [101 + (index + step) % product_count for step in (1, 2)]
                values = tuple(OptionValue(base + i, f"Accessory {pid}", product_id=pid) for i, pid in enumerate(picks))
                modifiers.append(ProductOption(oid, "Add an accessory", kind, False, False, values, "ProductPickList"))
            else:
                values = (OptionValue(base, "None", True), OptionValue(base + 1, "1-year cover"),
                          OptionValue(base + 2, "3-year cover"))
                modifiers.append(ProductOption(oid, "Extended warranty", kind, False, False, values, "DropdownList"))
        k += 1
    return modifiers


def _reviews(rng: random.Random, product: Product, next_id: list[int]) -> tuple[Review, ...]:
    reviews = []
    for _ in range(rng.choice((0, 0, 1, 2, 3, 5, 8))):
        rating = rng.choices((5, 4, 3, 2, 1), weights=(45, 30, 12, 8, 5))[0]
        when = REVIEWS_SINCE + timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 1439))
        reviews.append(Review(next_id[0], product.id, rng.choice(_REVIEWERS), rng.choice(_REVIEW_TITLES[rating]),
                              f"{product.name}: {'recommended' if rating >= 4 else 'see the title'} — "
                              f"{rating} of 5 from our site team.", rating, when))
        next_id[0] += 1
    return tuple(sorted(reviews, key=lambda r: r.created_at, reverse=True))


def build_catalog_content(seed: int, products: list[Product], categories: list[Category],
                          brands: list[Brand]) -> CatalogContent:
    rng = random.Random(f"{seed}:catalog-content")
    content = CatalogContent()
    review_ids = [1]
    for index, product in enumerate(products):
        showcase = index == SHOWCASE_INDEX
        options = _variant_options(product) + _modifiers(product, index, len(products), showcase)
        if options:
            content.options[product.id] = tuple(options)
        reviews = _reviews(rng, product, review_ids)
        if reviews:
            content.reviews[product.id] = reviews
        roll = rng.random()
        content.details[product.id] = ProductDetails(
            condition="REFURBISHED" if roll < 0.03 else "USED" if roll < 0.04 else "NEW",
            gtin=f"00{700000000000 + product.id:012d}"[-14:] if rng.random() < 0.6 else None,
            warranty="1-year manufacturer warranty" if rng.random() < 0.3 else "",
            dimensions=(Decimal(rng.randint(1, 40)), Decimal(rng.randint(1, 30)), Decimal(rng.randint(1, 20)))
            if rng.random() < 0.5 else None,
            preorder_release=datetime(2027, 3, 1, tzinfo=UTC) if index % 97 == 50 else None)
        if rng.random() < 0.25:
            content.seo[("Product", product.id)] = Seo(f"{product.name} | Pricing Edge Demo Supply",
                                                      f"Buy {product.name} at trade prices.",
                                                      f"{product.name.lower()}, trade, {product.sku.lower()}")
    for category in categories:
        if category.parent_id == 0:
            content.seo[("Category", category.id)] = Seo(f"{category.name} for the trade",
                                                          f"Shop {category.name.lower()} at trade prices.",
                                                          category.name.lower())
            content.images[("Category", category.id)] = f"categories/{category.id}/{_slug(category.name)}.jpg"
    for brand in brands:
        content.images[("Brand", brand.id)] = f"brands/{brand.id}/{_slug(brand.name)}-logo.png"
        content.search_keywords[brand.id] = (brand.name.lower(), _slug(brand.name))
        if brand.id % 2:
            content.seo[("Brand", brand.id)] = Seo(f"{brand.name} tools and supplies",
                                                   f"Every {brand.name} product we stock.", brand.name.lower())
    return content
