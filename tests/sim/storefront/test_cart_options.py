"""Cart lines with options, as Catalyst's product form sends them: variant options pick the variant, modifiers of
every kind are validated the way BigCommerce validates them (a refused line changes nothing), gift certificates
are lines too, ``version`` guards concurrent edits and ``updateCartCurrency`` reprices the cart."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from pricing_edge.sim.dataset import Dataset
from tests.sim.storefront import page_documents as pages
from tests.sim.storefront.helpers import WHOLESALE, data_of, gql, impersonating

SHOWCASE = 104
REQUIRED_LENGTH = {"numberFields": [{"optionEntityId": 1044, "number": 3}]}
GIFT = {"name": "Thanks", "theme": "GENERAL", "amount": "50.00", "quantity": 1,
        "sender": {"name": "Avery", "email": "avery@example.com"}, "recipient": {"name": "Blake", "email": "b@example.com"}}


def showcase_line(selected: dict[str, Any], quantity: int = 1) -> dict[str, Any]:
    return {"productEntityId": SHOWCASE, "quantity": quantity, "selectedOptions": selected}


async def create(client: httpx.AsyncClient, lines: list[dict[str, Any]], gifts: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> dict[str, Any]:
    data = await data_of(client, pages.CART_WITH_OPTIONS,
                         {"input": {"lineItems": lines, "giftCertificates": gifts or []}}, headers)
    cart: dict[str, Any] = data["cart"]["createCart"]["cart"]
    return cart


async def test_selected_options_pick_the_variant_and_keep_every_modifier(client: httpx.AsyncClient,
                                                                         dataset: Dataset) -> None:
    product = dataset.product_by_id[SHOWCASE]
    selected = {
        "multipleChoices": [{"optionEntityId": 1040, "optionValueEntityId": 10401},  # Orange
                            {"optionEntityId": 1041, "optionValueEntityId": 10412}],  # L
        "checkboxes": [{"optionEntityId": 1043, "optionValueEntityId": 10430}],
        "numberFields": [{"optionEntityId": 1044, "number": 12}],
        "textFields": [{"optionEntityId": 1045, "text": "ACME"}],
        "multiLineTextFields": [{"optionEntityId": 1046, "text": "Leave at\\ngate 3"}],
        "dateFields": [{"optionEntityId": 1047, "date": "2026-06-01T00:00:00Z"}],
    }
    cart = await create(client, [showcase_line(selected, 2)], [GIFT])
    [line] = cart["lineItems"]["physicalItems"]
    variant = next(v for v in product.variants if dict(v.option_values) == {"Color": "Orange", "Size": "L"})
    assert line["variantEntityId"] == variant.id and line["quantity"] == 2
    assert [(o["__typename"], o["name"]) for o in line["selectedOptions"]] == [
        ("CartSelectedMultipleChoiceOption", "Color"), ("CartSelectedMultipleChoiceOption", "Size"),
        ("CartSelectedCheckboxOption", "Gift wrap"), ("CartSelectedNumberFieldOption", "Cut length (m)"),
        ("CartSelectedTextFieldOption", "Engraving"), ("CartSelectedMultiLineTextFieldOption", "Special instructions"),
        ("CartSelectedDateFieldOption", "Delivery date")]
    assert cart["lineItems"]["giftCertificates"] == [{"name": "Thanks", "amount": {"value": 50}}]
    assert cart["lineItems"]["totalQuantity"] == 3
    again = await data_of(client, pages.ADD_WITH_VERSION, {"input": {
        "cartEntityId": cart["entityId"], "version": cart["version"],
        "data": {"lineItems": [showcase_line(selected), showcase_line({**REQUIRED_LENGTH})]}}})
    lines = again["cart"]["addCartLineItems"]["cart"]["lineItems"]["physicalItems"]
    assert [x["quantity"] for x in lines] == [3, 1]  # the same choices merge; other choices are another line


async def test_a_required_modifier_must_be_chosen(client: httpx.AsyncClient, dataset: Dataset) -> None:
    product_id, option = next((pid, o) for pid, options in dataset.catalog_content.options.items() for o in options
                              if o.is_required and not o.is_variant_option and dataset.visible_to(
                                  dataset.product_by_id[pid], 0))
    body = await gql(client, pages.CART_WITH_OPTIONS, {"input": {"lineItems": [
        {"productEntityId": product_id, "quantity": 1}]}})
    assert body["errors"][0]["message"] == f"Required option(s) missing for product {product_id}: {option.name}."
    given = {"textFields": [{"optionEntityId": option.id, "text": "ACME"}]}
    assert "errors" not in await gql(client, pages.CART_WITH_OPTIONS, {"input": {"lineItems": [
        {"productEntityId": product_id, "quantity": 1, "selectedOptions": given}]}})


@pytest.mark.parametrize(("selected", "message"), [
    ({**REQUIRED_LENGTH, "checkboxes": [{"optionEntityId": 1045, "optionValueEntityId": 1}]},
     "Option 1045 is not a CheckboxOption of product 104."),
    ({"numberFields": [{"optionEntityId": 1044, "number": 101}]}, "'Cut length (m)' (option 1044) must be between 1 and 100."),
    ({"numberFields": [{"optionEntityId": 1044, "number": 2.5}]}, "'Cut length (m)' (option 1044) accepts whole numbers only."),
    ({**REQUIRED_LENGTH, "textFields": [{"optionEntityId": 1045, "text": "x" * 31}]},
     "'Engraving' (option 1045) accepts at most 30 characters."),
    ({**REQUIRED_LENGTH, "dateFields": [{"optionEntityId": 1047, "date": "2030-01-01T00:00:00Z"}]},
     "'Delivery date' (option 1047) must be between 2026-01-01 and 2027-12-31."),
    ({**REQUIRED_LENGTH, "multipleChoices": [{"optionEntityId": 1040, "optionValueEntityId": 10410}]},
     "Option value 10410 is not a value of 'Color' (option 1040)."),
])
async def test_a_bad_option_choice_is_refused_naming_it_and_no_cart_is_made(client: httpx.AsyncClient,
                                                                            selected: dict[str, Any], message: str) -> None:
    headers = impersonating(WHOLESALE)
    body = await gql(client, pages.CART_WITH_OPTIONS, {"input": {"lineItems": [showcase_line(selected)]}}, headers)
    assert body["errors"][0]["message"] == message
    assert body["data"]["cart"]["createCart"] is None
    latest = await gql(client, "query { site { cart { entityId } } }", headers=headers)
    assert latest["data"]["site"]["cart"] is None  # nothing was created for this buyer


async def test_a_stale_version_is_refused_and_changes_nothing(client: httpx.AsyncClient) -> None:
    cart = await create(client, [showcase_line(REQUIRED_LENGTH)])
    first = await data_of(client, pages.ADD_WITH_VERSION, {"input": {
        "cartEntityId": cart["entityId"], "version": cart["version"], "data": {"lineItems": [showcase_line(REQUIRED_LENGTH)]}}})
    assert first["cart"]["addCartLineItems"]["cart"]["version"] == cart["version"] + 1
    stale = await gql(client, pages.ADD_WITH_VERSION, {"input": {
        "cartEntityId": cart["entityId"], "version": cart["version"], "data": {"lineItems": [showcase_line(REQUIRED_LENGTH)]}}})
    assert stale["errors"][0]["message"] == (f"Cart version {cart['version']} is out of date: the cart is at version "
                                             f"{cart['version'] + 1}.")
    now = await data_of(client, pages.CHECKOUT, {"cartId": cart["entityId"]})
    assert now["site"]["cart"]["lineItems"]["totalQuantity"] == 2


async def test_the_currency_of_a_cart_changes_and_its_lines_are_repriced(client: httpx.AsyncClient) -> None:
    cart = await create(client, [showcase_line(REQUIRED_LENGTH)])
    usd = (await data_of(client, pages.CHECKOUT, {"cartId": cart["entityId"]}))["site"]["cart"]["amount"]
    data = await data_of(client, pages.UPDATE_CURRENCY, {"input": {"cartEntityId": cart["entityId"],
                                                                   "data": {"currencyCode": "EUR"}}})
    eur = data["cart"]["updateCartCurrency"]["cart"]
    assert eur["currencyCode"] == "EUR" and eur["amount"]["currencyCode"] == "EUR"
    assert eur["amount"]["value"] != usd["value"]
    unknown = await gql(client, pages.UPDATE_CURRENCY, {"input": {"cartEntityId": cart["entityId"],
                                                                  "data": {"currencyCode": "GBP"}}})
    assert unknown["errors"][0]["message"] == "Currency GBP is not enabled for this channel."
    gift = await create(client, [], [GIFT])
    refused = await gql(client, pages.UPDATE_CURRENCY, {"input": {"cartEntityId": gift["entityId"],
                                                                  "data": {"currencyCode": "EUR"}}})
    assert refused["errors"][0]["message"] == \
        "The currency of a cart with gift certificates cannot be changed."
