"""Carts of the simulated storefront: the cart mutations storefronts send (with ``selectedOptions`` of
every kind, gift certificates, ``updateCartCurrency``, optimistic ``version``), validated the way
BigCommerce validates them, priced from BigCommerce's own copy for the cart's buyer, and refusing
quantities over its available stock ("Not enough stock: …"). Lines with the same variant and the same
option choices merge (a server-set price stays on the merged line). A line's list price may be set by a server (``LineItem.price``), as BigCommerce's
REST cart API allows; totals always follow the lines (``totals.py``)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from pricing_edge.sim.catalog_content import OptionKind, ProductOption
from pricing_edge.sim.dataset import Product, Variant
from pricing_edge.sim.storefront.catalog import Buyer
from pricing_edge.sim.storefront.context import Context, ctx
from pricing_edge.sim.storefront.products import variant_values

CARTS_KEY = "carts"
GIFT_CERTIFICATE_LIMITS = (Decimal("1.00"), Decimal("1000.00"))


@dataclass(frozen=True)
class Choice:
    """One option chosen on a cart line: a value (multiple choice, checkbox), a number, a text or a date."""

    option: ProductOption
    value_id: int | None = None
    number: Decimal | None = None
    text: str | None = None
    date: datetime | None = None


@dataclass
class LineItem:
    entity_id: str
    product: Product
    variant: Variant
    quantity: int
    choices: tuple[Choice, ...] = ()
    price: Decimal | None = None  # a list price a server set on the line, instead of the price list's

    def same_as(self, variant: Variant, choices: tuple[Choice, ...]) -> bool:
        """An added line of the same variant and choices merges into this one — a line whose price a server
        set too: the quantity grows, the set price stays until the server sets another."""
        return self.variant.id == variant.id and self.choices == choices


@dataclass
class GiftCertificateLine:
    entity_id: str
    name: str
    theme: str
    amount: Decimal
    quantity: int
    sender: dict[str, str]
    recipient: dict[str, str]
    message: str | None


@dataclass
class Consignment:
    entity_id: str
    address: dict[str, Any]
    line_ids: list[str]
    selected: str | None = None  # a ShippingMethod id


@dataclass
class Cart:
    entity_id: str
    buyer: Buyer
    currency: str
    items: list[LineItem] = field(default_factory=list)
    gift_certificates: list[GiftCertificateLine] = field(default_factory=list)
    locale: str = "en"
    version: int = 1
    coupons: list[str] = field(default_factory=list)  # applied at checkout, by code
    redeemed: list[str] = field(default_factory=list)  # gift certificates applied at checkout, by code
    consignments: list[Consignment] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def touch(self) -> None:
        self.version += 1
        self.updated_at = datetime.now(UTC)


def carts(info: GraphQLResolveInfo) -> dict[str, Cart]:
    found: dict[str, Cart] = ctx(info).state.setdefault(CARTS_KEY, {})
    return found


def owned(info: GraphQLResolveInfo, cart: Cart | None) -> bool:
    """A guest cart is anyone's who knows its id; a customer's cart is that customer's alone."""
    return cart is not None and cart.buyer.customer_id == ctx(info).buyer.customer_id


def cart_for_update(info: GraphQLResolveInfo, entity_id: str, version: int | None = None) -> Cart:
    cart = carts(info).get(entity_id)
    if cart is None or not owned(info, cart):
        raise GraphQLError(f"Cart {entity_id} not found.")
    if version is not None and version != cart.version:
        raise GraphQLError(f"Cart version {version} is out of date: the cart is at version {cart.version}.")
    return cart


# -- selected options --------------------------------------------------------------------------------

def _choices(product: Product, options: tuple[ProductOption, ...], selected: dict[str, Any] | None) -> list[Choice]:
    """The ``CartSelectedOptionsInput``, checked against the product's options, one Choice per option."""
    by_id = {o.id: o for o in options}
    kinds = {"multipleChoices": OptionKind.MULTIPLE_CHOICE, "checkboxes": OptionKind.CHECKBOX,
             "numberFields": OptionKind.NUMBER, "textFields": OptionKind.TEXT,
             "multiLineTextFields": OptionKind.MULTI_LINE_TEXT, "dateFields": OptionKind.DATE}
    found: dict[int, Choice] = {}
    for key, kind in kinds.items():
        for entry in (selected or {}).get(key) or []:
            option = by_id.get(entry["optionEntityId"])
            if option is None or option.kind is not kind:
                raise GraphQLError(f"Option {entry['optionEntityId']} is not a {kind.value} of product {product.id}.")
            if option.id in found:
                raise GraphQLError(f"Option {option.id} ({option.name}) is selected more than once.")
            found[option.id] = _choice(option, entry)
    return [found[o.id] for o in options if o.id in found]


def _choice(option: ProductOption, entry: dict[str, Any]) -> Choice:
    name = f"{option.name!r} (option {option.id})"
    if option.kind in (OptionKind.MULTIPLE_CHOICE, OptionKind.CHECKBOX):
        value_id = entry["optionValueEntityId"]
        if option.value(value_id) is None:
            raise GraphQLError(f"Option value {value_id} is not a value of {name}.")
        return Choice(option, value_id=value_id)
    if option.kind is OptionKind.NUMBER:
        try:
            number = Decimal(str(entry["number"]))
        except InvalidOperation:
            raise GraphQLError(f"{name} needs a number.") from None
        if option.integer_only and number != number.to_integral_value():
            raise GraphQLError(f"{name} accepts whole numbers only.")
        low = option.lowest if option.limit_number_by in ("LOWEST_VALUE", "RANGE") else None
        high = option.highest if option.limit_number_by in ("HIGHEST_VALUE", "RANGE") else None
        if (low is not None and number < low) or (high is not None and number > high):
            raise GraphQLError(f"{name} must be between {low} and {high}.")
        return Choice(option, number=number)
    if option.kind in (OptionKind.TEXT, OptionKind.MULTI_LINE_TEXT):
        text = entry["text"]
        if option.max_length is not None and len(text) > option.max_length:
            raise GraphQLError(f"{name} accepts at most {option.max_length} characters.")
        if option.min_length and len(text) < option.min_length:
            raise GraphQLError(f"{name} needs at least {option.min_length} characters.")
        if option.max_lines is not None and text.count("\n") + 1 > option.max_lines:
            raise GraphQLError(f"{name} accepts at most {option.max_lines} lines.")
        return Choice(option, text=text)
    moment = _date(entry["date"], name)
    if (option.earliest and moment < option.earliest) or (option.latest and moment > option.latest):
        raise GraphQLError(f"{name} must be between {option.earliest:%Y-%m-%d} and {option.latest:%Y-%m-%d}.")
    return Choice(option, date=moment)


def _date(value: Any, name: str) -> datetime:
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise GraphQLError(f"{name} needs an ISO 8601 date.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def resolve_line(c: Context, line: dict[str, Any]) -> tuple[Product, Variant, tuple[Choice, ...]]:
    """The product, variant and modifier choices of a ``CartLineItemInput``; a GraphQL error naming what is wrong."""
    if line["quantity"] < 1:
        raise GraphQLError("Quantity must be at least 1.")
    product: Product | None = None
    variant: Variant | None = None
    if line.get("variantEntityId") is not None:
        found = c.catalog.dataset.variant_by_id.get(line["variantEntityId"])
        product, variant = found if found and c.catalog.visible(found[0], c.buyer) else (None, None)
        if variant is None:
            raise GraphQLError(f"Variant {line['variantEntityId']} not found.")
    elif line.get("sku"):
        found = c.catalog.dataset.variant_by_sku.get(line["sku"])
        product, variant = found if found and c.catalog.visible(found[0], c.buyer) else (None, None)
        if variant is None:
            raise GraphQLError(f"SKU {line['sku']} not found.")
    if line.get("productEntityId") is not None:
        if product is not None and product.id != line["productEntityId"]:
            raise GraphQLError(f"Variant {variant.id if variant else ''} is not a variant of product "
                               f"{line['productEntityId']}.")
        product = c.catalog.product(line["productEntityId"], c.buyer)
    if product is None:
        raise GraphQLError(f"Product {line.get('productEntityId')} not found.")
    options = c.catalog.options(product)
    choices = _choices(product, options, line.get("selectedOptions"))
    picked = {ch.option.id: ch.value_id for ch in choices if ch.option.is_variant_option and ch.value_id is not None}
    if variant is None:
        variant = product.default_variant  # no variant named: BigCommerce's default selection
        if picked:
            full = {**variant_values(options, variant), **picked}
            variant = next((v for v in product.variants if variant_values(options, v) == full), None)
            if variant is None:
                raise GraphQLError(f"No variant of product {product.id} has the option values {sorted(picked.values())}.")
    elif picked and any(variant_values(options, variant).get(o) != v for o, v in picked.items()):
        raise GraphQLError(f"The selected options do not match variant {variant.id}.")
    modifiers = tuple(ch for ch in choices if not ch.option.is_variant_option)
    missing = [o.name for o in options if o.is_required and not o.is_variant_option
               and all(ch.option.id != o.id for ch in modifiers)]
    if missing:
        raise GraphQLError(f"Required option(s) missing for product {product.id}: {', '.join(missing)}.")
    return product, variant, modifiers


def check_stock(c: Context, product: Product, variant: Variant, quantity: int) -> None:
    available = c.catalog.available(variant)
    backorder = any(level.backorder for level in c.catalog.stock(variant))
    if quantity > available and not backorder:
        raise GraphQLError(f"Not enough stock: {product.name} ({variant.sku}) is limited to {available} units.")


def _add(info: GraphQLResolveInfo, cart: Cart, lines: list[dict[str, Any]], gift_certificates: list[dict[str, Any]]) -> None:
    """Validate every line first, then change the cart: a refused mutation changes nothing."""
    c = ctx(info)
    planned: list[tuple[LineItem | None, Product, Variant, tuple[Choice, ...], int]] = []
    for line in lines:
        product, variant, choices = resolve_line(c, line)
        existing = next((i for i in cart.items if i.same_as(variant, choices)), None)
        earlier = sum(q for e, _, v, ch, q in planned if v.id == variant.id and ch == choices)
        total = line["quantity"] + earlier + (existing.quantity if existing else 0)
        check_stock(c, product, variant, total)
        planned.append((existing, product, variant, choices, line["quantity"]))
    bought = [_gift_certificate(g) for g in gift_certificates]
    for existing, product, variant, choices, quantity in planned:
        same = existing or next((i for i in cart.items if i.same_as(variant, choices)), None)
        if same is not None:
            same.quantity += quantity
        else:
            cart.items.append(LineItem(str(uuid.uuid4()), product, variant, quantity, choices))
    cart.gift_certificates.extend(bought)
    cart.touch()


def _gift_certificate(entry: dict[str, Any]) -> GiftCertificateLine:
    amount = Decimal(str(entry["amount"]))
    low, high = GIFT_CERTIFICATE_LIMITS
    if not low <= amount <= high:
        raise GraphQLError(f"A gift certificate must be between {low} and {high}.")
    if entry["quantity"] < 1:
        raise GraphQLError("Quantity must be at least 1.")
    return GiftCertificateLine(str(uuid.uuid4()), entry["name"], entry["theme"], amount, entry["quantity"],
                               dict(entry["sender"]), dict(entry["recipient"]), entry.get("message"))


# -- mutations -----------------------------------------------------------------------------------------

def site_cart(_: Any, info: GraphQLResolveInfo, entityId: str | None = None) -> Cart | None:  # noqa: N803
    """``site.cart``: the cart with that id if it is this buyer's; without an id, a customer's latest cart."""
    if entityId is not None:
        cart = carts(info).get(entityId)
        return cart if owned(info, cart) else None
    if ctx(info).buyer.customer_id is None:
        return None
    mine = [cart for cart in carts(info).values() if owned(info, cart)]
    return max(mine, key=lambda cart: cart.updated_at) if mine else None


def _currency(info: GraphQLResolveInfo, code: str | None) -> str:
    """The cart's currency: the one asked for, else the channel's default; either enabled on the channel."""
    c = ctx(info)
    currency = code or c.catalog.default_currency(c.buyer)
    if currency not in c.catalog.channels.channel(c.buyer.channel_id).currencies:
        raise GraphQLError(f"Currency {currency} is not enabled for this channel.")
    return currency


def create_cart(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    if not input.get("lineItems") and not input.get("giftCertificates"):
        raise GraphQLError("A cart needs at least one line item or gift certificate.")
    cart = Cart(str(uuid.uuid4()), ctx(info).buyer, _currency(info, input.get("currencyCode")), locale=input.get("locale") or "en")
    _add(info, cart, input.get("lineItems") or [], input.get("giftCertificates") or [])
    cart.version = 1
    carts(info)[cart.entity_id] = cart
    return {"cart": cart}


def add_line_items(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = cart_for_update(info, input["cartEntityId"], input.get("version"))
    data = input["data"]
    if not data.get("lineItems") and not data.get("giftCertificates"):
        raise GraphQLError("Nothing to add: give lineItems or giftCertificates.")
    _add(info, cart, data.get("lineItems") or [], data.get("giftCertificates") or [])
    return {"cart": cart}


def update_line_item(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = cart_for_update(info, input["cartEntityId"], input.get("version"))
    line_id = input["lineItemEntityId"]
    data = input["data"]
    item = next((i for i in cart.items if i.entity_id == line_id), None)
    if item is not None and data.get("lineItem"):
        line = data["lineItem"]
        c = ctx(info)
        if "selectedOptions" in line or line.get("variantEntityId") is not None or line.get("sku"):
            product, variant, choices = resolve_line(c, {"productEntityId": item.product.id, **line})
        else:
            if line.get("productEntityId") not in (None, item.product.id):
                raise GraphQLError(f"Line item {line_id} is for product {item.product.id}, "
                                   f"not {line['productEntityId']}.")
            if line["quantity"] < 1:
                raise GraphQLError("Quantity must be at least 1.")
            product, variant, choices = item.product, item.variant, item.choices
        check_stock(c, product, variant, line["quantity"])
        item.product, item.variant, item.choices, item.quantity = product, variant, choices, line["quantity"]
    else:
        gift = next((g for g in cart.gift_certificates if g.entity_id == line_id), None)
        if gift is None or not data.get("giftCertificate"):
            raise GraphQLError(f"Line item {line_id} not found.")
        replacement = _gift_certificate(data["giftCertificate"])
        replacement.entity_id = gift.entity_id
        cart.gift_certificates[cart.gift_certificates.index(gift)] = replacement
    cart.touch()
    return {"cart": cart}


def delete_line_item(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = cart_for_update(info, input["cartEntityId"], input.get("version"))
    line_id = input["lineItemEntityId"]
    before = len(cart.items) + len(cart.gift_certificates)
    cart.items = [i for i in cart.items if i.entity_id != line_id]
    cart.gift_certificates = [g for g in cart.gift_certificates if g.entity_id != line_id]
    if len(cart.items) + len(cart.gift_certificates) == before:
        raise GraphQLError(f"Line item {line_id} not found.")
    for consignment in cart.consignments:
        consignment.line_ids = [x for x in consignment.line_ids if x != line_id]
    cart.consignments = [x for x in cart.consignments if x.line_ids]
    if not cart.items and not cart.gift_certificates:  # BigCommerce deletes a cart whose last line is deleted
        del carts(info)[cart.entity_id]
        return {"deletedLineItemEntityId": line_id, "cart": None, "deletedCartEntityId": cart.entity_id}
    cart.touch()
    return {"deletedLineItemEntityId": line_id, "cart": cart, "deletedCartEntityId": None}


def delete_cart(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    cart = cart_for_update(info, input["cartEntityId"])
    del carts(info)[cart.entity_id]
    return {"deletedCartEntityId": cart.entity_id}


def update_currency(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    """Lines are repriced from the price list in the new currency — a price a server set on a line too: it
    was an amount in the old currency, so it is dropped (the server sets it again in the new one; BigCommerce
    does not document converting an override). Gift certificates bought or redeemed have no price list
    behind them and cannot follow, so such a cart is refused."""
    cart = cart_for_update(info, input["cartEntityId"])
    currency = _currency(info, input["data"]["currencyCode"])
    if currency != cart.currency:
        if cart.gift_certificates or cart.redeemed:
            raise GraphQLError("The currency of a cart with gift certificates cannot be changed.")
        for item in cart.items:
            item.price = None
        cart.currency = currency
        cart.touch()
    return {"cart": cart}


MUTATIONS: dict[str, Any] = {
    "createCart": create_cart, "addCartLineItems": add_line_items, "updateCartLineItem": update_line_item,
    "deleteCartLineItem": delete_line_item, "deleteCart": delete_cart, "updateCartCurrency": update_currency,
}
