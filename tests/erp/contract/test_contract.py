"""The connector contract: every ERP connector, against its face of the simulated ERP, reads the
same truth and posts orders the same way. The simulator's state is the truth each test compares with;
a connector that skips its mapping (ERP codes ↔ BigCommerce ids) reads nothing and fails here."""
from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from pricing_edge.domain.orders import Charge, Consignment, ErpStatus, SalesOrder, SalesOrderLine, ShipTo, cents
from pricing_edge.erp.errors import DuplicateReference, ErpRejected
from pricing_edge.erp.protocol import ErpAdapter
from tests.erp.connectors import Face

ADDRESS = ShipTo("Ada Buyer", "Acme Facilities", "1 Main St", "Suite 2", "Austin", "TX", "78701", "US")
_skus = itertools.count(100)


def truth(face: Face, price_list: int, sku: str, currency: str = "USD"):  # type: ignore[no-untyped-def]
    record = face.sim.state.dataset.prices.get(price_list, sku, currency)
    assert record is not None
    return record


def fresh_sku(face: Face) -> str:
    """A SKU no other test of the module touches (orders and changes use their own)."""
    return face.sim.state.skus[next(_skus)]


def order(face: Face, *lines: tuple[str, int], cancelled: bool = False, reference: str | None = None) -> SalesOrder:
    return SalesOrder(reference=reference or f"BC-contract-{uuid.uuid4().hex[:8]}", bc_order_id=1, customer_id=1,
                      sold_to="company:1", currency="USD",
                      lines=tuple(SalesOrderLine(sku, qty, truth(face, 2, sku).price) for sku, qty in lines),
                      ship_to=ADDRESS, po_number="PO-4711", cancelled=cancelled)


async def test_prices_are_the_lists_own_in_its_currency_with_volume_breaks(face: Face, erp: ErpAdapter) -> None:
    state = face.sim.state
    tiered = [sku for sku in state.skus if truth(face, 2, sku).bulk_tiers][:5]
    plain = [sku for sku in state.skus if not truth(face, 2, sku).bulk_tiers][:5]
    found = await erp.get_prices(2, "USD", [*tiered, *plain, "NO-SUCH-SKU"])
    assert set(found) == {*tiered, *plain}  # an unknown SKU is absent, not an error
    for sku, record in found.items():
        expected = truth(face, 2, sku)
        assert (record.price_list_id, record.sku, record.currency) == (2, sku, "USD")
        assert record.price == expected.price and isinstance(record.price, Decimal)
        assert record.bulk_tiers == expected.bulk_tiers
    euro = await erp.get_prices(2, "EUR", tiered[:1])
    assert euro[tiered[0]].price == truth(face, 2, tiered[0], "EUR").price != found[tiered[0]].price
    other_list = await erp.get_prices(5, "USD", tiered[:1])
    assert other_list[tiered[0]].price == truth(face, 5, tiered[0]).price


async def test_a_price_changed_in_the_erp_is_read_with_a_newer_version(face: Face, erp: ErpAdapter) -> None:
    sku = fresh_sku(face)
    before = (await erp.get_prices(3, "USD", [sku]))[sku]
    face.control("/changes/price", {"price_list_id": 3, "sku": sku, "currency": "USD", "price": "12.34"})
    after = (await erp.get_prices(3, "USD", [sku]))[sku]
    assert after.price == Decimal("12.34")
    assert after.version > before.version


async def test_stock_is_read_per_location(face: Face, erp: ErpAdapter) -> None:
    skus = face.sim.state.skus[:3]
    found = await erp.get_stock([*skus, "NO-SUCH-SKU"])
    assert set(found) == set(skus)
    for sku in skus:
        expected = {level.location_id: level.on_hand for level in face.sim.state.dataset.stock_for(sku)}
        assert {level.location_id: level.on_hand for level in found[sku]} == expected


async def test_credit_and_hold_come_from_the_erp(face: Face, erp: ErpAdapter) -> None:
    for company in face.sim.state.dataset.companies[:5]:
        credit = await erp.get_credit(company.id)
        assert credit is not None
        assert (credit.credit_limit, credit.balance) == (company.credit_limit, company.balance)
        assert credit.status == ("hold" if company.status == "hold" else "ok")
    assert any(c.status == "hold" for c in face.sim.state.dataset.companies[:5])
    assert await erp.get_credit(999) is None


async def test_customers_carry_their_group_and_company(face: Face, erp: ErpAdapter) -> None:
    dataset = face.sim.state.dataset
    business = dataset.customers[0]
    consumer = next(c for c in dataset.customers if c.company_id is None)
    for customer in (business, consumer):
        record = await erp.get_customer(customer.id)
        assert record is not None
        assert (record.customer_id, record.customer_group_id, record.company_id) == (
            customer.id, customer.customer_group_id, customer.company_id)
    assert await erp.get_customer(999) is None


async def test_a_whole_price_list_is_iterated_once(face: Face, erp: ErpAdapter) -> None:
    seen: list[str] = []
    async for batch in erp.iter_price_list(4, "EUR"):
        assert all(r.price_list_id == 4 and r.currency == "EUR" for r in batch)
        seen.extend(r.sku for r in batch)
    expected = [sku for sku in face.sim.state.skus if face.sim.state.dataset.prices.get(4, sku, "EUR")]
    assert sorted(seen) == sorted(expected)


async def test_all_stock_is_iterated_in_batches_of_whole_skus(face: Face, erp: ErpAdapter) -> None:
    locations = {loc.id for loc in face.sim.state.dataset.locations}
    seen: set[str] = set()
    batches = 0
    async for batch in erp.iter_stock():
        batches += 1
        by_sku: dict[str, set[int]] = {}
        for level in batch:
            by_sku.setdefault(level.sku, set()).add(level.location_id)
        assert all(found == locations for found in by_sku.values())  # never half a SKU
        assert not seen & set(by_sku)
        seen |= set(by_sku)
    assert batches > 1 and seen == set(face.sim.state.skus)


async def test_orders_are_found_created_and_updated_by_reference_and_never_posted_twice(
        face: Face, erp: ErpAdapter) -> None:
    first, second = fresh_sku(face), fresh_sku(face)
    posted = order(face, (first, 2))
    assert await erp.find_sales_order(posted.reference) is None
    created = await erp.create_sales_order(posted)
    assert (created.reference, created.status, created.lines) == (posted.reference, ErpStatus.OPEN, posted.lines)
    assert created.total == posted.total  # every connector reports the ERP's own total
    found = await erp.find_sales_order(posted.reference)
    assert found is not None and found.number == created.number and found.total == posted.total
    with pytest.raises(DuplicateReference):
        await erp.create_sales_order(posted)
    kept = face.sim.orders.find(posted.reference)
    assert kept is not None and kept.order.po_number == "PO-4711" and kept.order.ship_to == ADDRESS
    assert len([o for o in face.sim.orders.all() if o.order.reference == posted.reference]) == 1

    changed = order(face, (first, 5), (second, 1), reference=posted.reference)
    updated = await erp.update_sales_order(created.number, changed)
    assert updated.lines == changed.lines and updated.version > created.version
    fewer = order(face, (second, 3), reference=posted.reference)
    assert (await erp.update_sales_order(created.number, fewer)).lines == fewer.lines
    cancelled = await erp.update_sales_order(created.number, order(face, (second, 3), cancelled=True,
                                                                      reference=posted.reference))
    assert cancelled.status is ErpStatus.CANCELLED
    assert face.sim.orders.get(face.state_number(created.number)).status is ErpStatus.CANCELLED


async def test_an_order_for_an_item_the_erp_lacks_is_rejected_and_leaves_nothing(face: Face, erp: ErpAdapter) -> None:
    ghost = SalesOrder(f"BC-contract-{uuid.uuid4().hex[:8]}", 1, 1, "company:1", "USD",
                       (SalesOrderLine("GHOST-1", 1, Decimal("5.00")),))
    with pytest.raises(ErpRejected) as refused:
        await erp.create_sales_order(ghost)
    assert "GHOST-1" in str(refused.value)
    assert face.sim.orders.find(ghost.reference) is None


async def test_shipments_and_invoices_are_read_by_reference(face: Face, erp: ErpAdapter) -> None:
    first, second = fresh_sku(face), fresh_sku(face)
    posted = order(face, (first, 4), (second, 1))
    created = await erp.create_sales_order(posted)
    assert await erp.list_shipments(posted.reference) == []
    face.control(f"/sales-orders/{face.state_number(created.number)}/ship",
                 {"carrier": "UPS", "tracking_number": "1Z999", "lines": [{"sku": first, "quantity": 3}]})
    face.control(f"/sales-orders/{face.state_number(created.number)}/ship",
                 {"carrier": "DHL", "tracking_number": "JD014"})
    shipments = await erp.list_shipments(posted.reference)
    assert [(s.carrier, s.tracking_number) for s in shipments] == [("UPS", "1Z999"), ("DHL", "JD014")]
    assert [[(line.sku, line.quantity) for line in s.lines] for s in shipments] == [
        [(first, 3)], [(first, 1), (second, 1)]]
    assert all(s.reference == posted.reference and s.order_number == created.number for s in shipments)
    invoices = await erp.list_invoices(posted.reference)
    assert len(invoices) == 2 and all(i.reference == posted.reference and i.currency == "USD" for i in invoices)
    price = {line.sku: line.unit_price for line in posted.lines}
    assert invoices[0].net_amount == 3 * price[first]
    assert sum((i.net_amount for i in invoices), Decimal(0)) == 4 * price[first] + price[second]
    shipped = await erp.find_sales_order(posted.reference)
    assert shipped is not None and shipped.status is ErpStatus.SHIPPED


async def test_throttling_is_waited_out_without_losing_or_doubling_a_call(face: Face, erp: ErpAdapter) -> None:
    sku = fresh_sku(face)
    face.throttle(2, retry_after=1)
    assert sku in await erp.get_prices(2, "USD", [sku])
    posted = order(face, (sku, 1))
    await erp.find_sales_order(posted.reference)  # (S/4: fetches its CSRF token first, unthrottled)
    face.throttle(1, retry_after=1)
    created = await erp.create_sales_order(posted)
    assert len([o for o in face.sim.orders.all() if o.order.reference == posted.reference]) == 1
    assert (await erp.find_sales_order(posted.reference)).number == created.number  # type: ignore[union-attr]


async def test_an_expired_session_is_renewed_without_losing_the_request(face: Face, erp: ErpAdapter) -> None:
    first, second = fresh_sku(face), fresh_sku(face)
    posted = order(face, (first, 1))
    created = await erp.create_sales_order(posted)
    face.expire_sessions()  # the session (and CSRF token) the adapter holds is no longer valid
    updated = await erp.update_sales_order(created.number, order(face, (first, 1), (second, 2),
                                                                 reference=posted.reference))
    assert [line.sku for line in updated.lines] == [first, second]
    face.expire_sessions()
    assert first in await erp.get_prices(2, "USD", [first])


async def test_a_complete_order_posts_with_the_po_number_and_our_reference_apart(face: Face, erp: ErpAdapter) -> None:
    """Everything the buyer agreed to travels in the SalesOrder; each connector posts what its ERP keeps, finds
    it by our reference, keeps the buyer's PO in a field of its own, and a total it reports is the order's."""
    first, second = fresh_sku(face), fresh_sku(face)
    base = order(face, (first, 2), (second, 1))
    lines = (replace(base.lines[0], line_id=11, discount=Decimal("1.50"), tax=Decimal("0.80"),
                     options=(("Engraving", "Engraved"),)),
             replace(base.lines[1], line_id=12, tax=Decimal("0.20"), consignment=1))
    complete = replace(base, lines=lines, consignments=(Consignment(ADDRESS, "Ground"),
                                                        Consignment(replace(ADDRESS, street_1="9 Dock Rd"), "Air")),
                       charges=(Charge("shipping", "Ground", Decimal("5.00"), Decimal("0.50"), 0),
                                Charge("fee", "Insurance", Decimal("2.00"))),
                       discount=Decimal("1.00"), coupons=("SPRING10",))
    created = await erp.create_sales_order(complete)
    assert [line.key() for line in created.lines] == [line.key() for line in complete.lines]
    assert created.total is not None and cents(created.total) == cents(complete.total)
    found = await erp.find_sales_order(complete.reference)
    assert found is not None and found.number == created.number
    kept = face.sim.orders.find(complete.reference)
    assert kept is not None and (kept.order.reference, kept.order.po_number) == (complete.reference, "PO-4711")


def coupon_two_ship_tos_tax_inclusive_and_an_option(face: Face) -> SalesOrder:
    """What a tax-inclusive store's checkout makes of a coupon, a second ship-to and an option that adds to the
    price: gross prices shown, the coupon's share on each line, the option's modifier in the unit price, tax
    per line, per consignment's shipping and on a fee, and a discount on the order as a whole."""
    plain, engraved = fresh_sku(face), fresh_sku(face)
    modifier = Decimal("4.25")
    plain_price, engraved_price = truth(face, 2, plain).price, truth(face, 2, engraved).price + modifier
    rate = Decimal("0.0825")
    lines = (SalesOrderLine(plain, 3, plain_price, line_id=31, discount=Decimal("6.67"),
                            tax=cents((plain_price * 3 - Decimal("6.67")) * rate),
                            gross_price=cents(plain_price * (1 + rate))),
             SalesOrderLine(engraved, 1, engraved_price, line_id=32, discount=Decimal("3.33"),
                            tax=cents((engraved_price - Decimal("3.33")) * rate), options=(("Engraving", "Yes"),),
                            consignment=1, gross_price=cents(engraved_price * (1 + rate))))
    second = replace(ADDRESS, name="Rob Buyer", street_1="9 Dock Road", city="Dallas", zip="75201")
    return replace(order(face), lines=lines, tax_inclusive=True, coupons=("SPRING10",), discount=Decimal("2.00"),
                   ship_to=ADDRESS, consignments=(Consignment(ADDRESS, "Ground"), Consignment(second, "Express")),
                   charges=(Charge("shipping", "Ground", Decimal("7.50"), Decimal("0.62"), 0),
                            Charge("shipping", "Express", Decimal("12.25"), Decimal("1.01"), 1),
                            Charge("fee", "Insurance", Decimal("3.00"), Decimal("0.25"))))


async def test_the_erp_reports_a_total_equal_to_the_orders_to_the_cent(face: Face, erp: ErpAdapter) -> None:
    """A coupon, two ship-tos, a tax-inclusive store and an option with a price modifier: the total the ERP
    computed from what it was sent (never a total it was given) is the order's, on create and on every read."""
    posted = coupon_two_ship_tos_tax_inclusive_and_an_option(face)
    created = await erp.create_sales_order(posted)
    assert created.total is not None, f"{face.name}: the connector reports no ERP total"
    assert cents(created.total) == cents(posted.total)
    found = await erp.find_sales_order(posted.reference)
    assert found is not None and found.total is not None and cents(found.total) == cents(posted.total)
    kept = face.sim.orders.find(posted.reference)
    assert kept is not None and cents(kept.order.total) == cents(posted.total)
    assert [line.options for line in kept.order.lines] == [(), (("Engraving", "Yes"),)]
    assert [kept.order.consignments[line.consignment].ship_to.street_1 for line in kept.order.lines] == [
        "1 Main St", "9 Dock Road"]
    assert sum((line.discount for line in kept.order.lines), Decimal(0)) == Decimal("10.00")
    assert kept.order.discount == Decimal("2.00") and kept.order.coupons == ("SPRING10",)
    assert [c.method for c in kept.order.consignments] == ["Ground", "Express"]

    # The buyer's order changed in BigCommerce: more of the first line, a larger discount and tax with it; the
    # second line's coupon share withdrawn. The ERP's total follows.
    first, second = posted.lines
    changed = replace(posted, lines=(replace(first, quantity=5, discount=Decimal("9.99"), tax=Decimal("4.44")),
                                     replace(second, discount=Decimal(0), tax=Decimal("2.50"))))
    updated = await erp.update_sales_order(created.number, changed)
    assert updated.total is not None and cents(updated.total) == cents(changed.total) != cents(posted.total)
