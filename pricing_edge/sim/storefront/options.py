"""Product options as the Storefront API shows them: ``productOptions`` (every CatalogProductOption type,
variant options and modifiers) and the older ``Variant.options`` (a variant's own option values)."""
from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from pricing_edge.sim.catalog_content import OptionKind, OptionValue, ProductOption
from pricing_edge.sim.dataset import Product, Variant
from pricing_edge.sim.storefront.connections import connection
from pricing_edge.sim.storefront.context import ctx
from pricing_edge.sim.storefront.products import ProductRef, default_image, variant_values

PICK_LIST_STYLES = ("ProductPickList", "ProductPickListWithImages")


def _stamp(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _value(option: ProductOption, value: OptionValue, selected: frozenset[int]) -> dict[str, Any]:
    found: dict[str, Any] = {"entityId": value.id, "label": value.label, "isDefault": value.is_default,
                             "isSelected": value.id in selected}
    if option.display_style == "Swatch":
        return {**found, "__typename": "SwatchOptionValue", "hexColors": list(value.hex_colors)}
    if option.display_style in PICK_LIST_STYLES:
        return {**found, "__typename": "ProductPickListOptionValue", "productId": value.product_id,
                "_product": value.product_id}
    return {**found, "__typename": "MultipleChoiceOptionValue"}


def option_dict(option: ProductOption, selected: frozenset[int] = frozenset()) -> dict[str, Any]:
    """One CatalogProductOption; ``__typename`` is its concrete type."""
    found: dict[str, Any] = {"__typename": option.kind.value, "entityId": option.id, "displayName": option.name,
                             "isRequired": option.is_required, "isVariantOption": option.is_variant_option}
    kind = option.kind
    if kind is OptionKind.MULTIPLE_CHOICE:
        found |= {"displayStyle": option.display_style, "_values": [_value(option, v, selected) for v in option.values]}
    elif kind is OptionKind.CHECKBOX:
        checked, unchecked = option.values
        found |= {"label": option.label, "checkedByDefault": checked.is_default,
                  "checkedOptionValueEntityId": checked.id, "uncheckedOptionValueEntityId": unchecked.id}
    elif kind is OptionKind.NUMBER:
        found |= {"defaultValue": _number(option.default_number), "lowest": _number(option.lowest),
                  "highest": _number(option.highest), "isIntegerOnly": option.integer_only,
                  "limitNumberBy": option.limit_number_by}
    elif kind in (OptionKind.TEXT, OptionKind.MULTI_LINE_TEXT):
        found |= {"defaultValue": option.default_text, "minLength": option.min_length, "maxLength": option.max_length}
        if kind is OptionKind.MULTI_LINE_TEXT:
            found["maxLines"] = option.max_lines
    elif kind is OptionKind.DATE:
        found |= {"defaultValue": _stamp(option.default_date), "earliest": _stamp(option.earliest),
                  "latest": _stamp(option.latest), "limitDateBy": option.limit_date_by}
    else:
        found |= {"maxFileSize": option.max_file_size, "fileTypes": list(option.file_types)}
    return found


def product_options(ref: ProductRef, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    options = ctx(info).catalog.options(ref.product)
    return connection([option_dict(o, ref.values) for o in options], args)


def variant_options(pv: tuple[Product, Variant], info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    """``Variant.options``: the variant's values of the product's variant options (the older ProductOption type)."""
    product, variant = pv
    options = ctx(info).catalog.options(product)
    chosen = variant_values(options, variant)
    found = [{"entityId": o.id, "displayName": o.name, "isRequired": o.is_required,
              "_values": [{"entityId": v.id, "label": v.label} for v in o.values if v.id == chosen.get(o.id)]}
             for o in options if o.id in chosen]
    return connection(found, args)


def _pick_list_image(source: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    c = ctx(info)
    product = c.catalog.product(source["_product"], c.buyer) if source.get("_product") else None
    return default_image(product) if product else None


OPTIONS: dict[tuple[str, str], Any] = {
    ("Product", "productOptions"): product_options,
    ("Variant", "options"): variant_options,
    ("MultipleChoiceOption", "values"): lambda s, i, **a: connection(s["_values"], a),
    ("ProductOption", "values"): lambda s, i, **a: connection(s["_values"], a),
    ("ProductPickListOptionValue", "defaultImage"): _pick_list_image,
    ("SwatchOptionValue", "imageUrl"): lambda s, i, **a: None,  # the demo's swatches are colours, not textures
}
