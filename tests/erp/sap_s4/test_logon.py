"""Sessions and tokens recover without losing a request; refusals are the ERP's, named; writes whose
outcome is unknown are never resent."""
from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest

from pricing_edge.domain.orders import SalesOrder, SalesOrderLine
from pricing_edge.erp.errors import ErpNotFound, ErpRejected, ErpUnavailable
from pricing_edge.sim.erp.faces.s4hana import DEMO_LOGON
from tests.erp.connectors import Face


def gateway(face: Face) -> dict[str, int]:
    return dict(httpx.get(f"{face.server.base_url}/_sim/s4hana/gateway", timeout=30).json())


def an_order(face: Face) -> SalesOrder:
    sku = face.sim.state.skus[300]
    return SalesOrder(f"BC-logon-{uuid.uuid4().hex[:8]}", 1, 1, "company:2", "USD",
                      (SalesOrderLine(sku, 1, Decimal("2.50")),))


async def test_oauth_client_credentials_are_fetched_and_renewed_when_they_expire(face: Face) -> None:
    erp = face.adapter(s4_user=None, s4_password=None, s4_token_url=f"{face.server.base_url}/oauth/token",
                       s4_client_id=DEMO_LOGON.oauth_client_id, s4_client_secret=DEMO_LOGON.oauth_client_secret)
    try:
        sku = face.sim.state.skus[0]
        assert sku in await erp.get_prices(1, "USD", [sku])
        face.expire_sessions()  # the token is revoked: the next call gets a 401, renews, and goes through
        refusals = gateway(face)["logon_refusals"]
        assert (await erp.get_customer(1)) is not None
        assert gateway(face)["logon_refusals"] == refusals + 1
    finally:
        await erp.aclose()


async def test_a_wrong_client_secret_is_refused_with_the_erps_answer(face: Face) -> None:
    erp = face.adapter(s4_user=None, s4_password=None, s4_token_url=f"{face.server.base_url}/oauth/token",
                       s4_client_id=DEMO_LOGON.oauth_client_id, s4_client_secret="wrong")
    try:
        with pytest.raises(ErpRejected, match="401"):
            await erp.get_customer(1)
    finally:
        await erp.aclose()


async def test_a_stale_csrf_token_is_fetched_again_and_the_order_posted_once(face: Face) -> None:
    erp = face.adapter()
    try:
        first = await erp.create_sales_order(an_order(face))
        face.expire_sessions()
        before = gateway(face)["csrf_refusals"]
        posted = an_order(face)
        second = await erp.create_sales_order(posted)
        assert gateway(face)["csrf_refusals"] == before + 1  # refused once, fetched again, sent again
        assert second.number != first.number
        assert len([o for o in face.sim.orders.all() if o.order.reference == posted.reference]) == 1
    finally:
        await erp.aclose()


async def test_a_write_whose_answer_never_comes_is_not_resent(face: Face) -> None:
    """S/4 commits the order but its answer is lost (a timeout): the adapter reports the failure and
    leaves the retry to the order flow, whose lookup by reference finds the order."""
    erp = face.adapter(erp_timeout=1.0)
    posted = an_order(face)
    try:
        await erp.find_sales_order(posted.reference)
        face.control("/sales-orders/hold-replies", {"seconds": 5})
        with pytest.raises(ErpUnavailable, match="timed out"):
            await erp.create_sales_order(posted)
        face.control("/sales-orders/hold-replies", {"seconds": 0})
        assert len([o for o in face.sim.orders.all() if o.order.reference == posted.reference]) == 1
        found = await erp.find_sales_order(posted.reference)
        assert found is not None and found.lines == posted.lines
    finally:
        face.control("/sales-orders/hold-replies", {"seconds": 0})
        await erp.aclose()


async def test_a_wrong_sap_client_and_an_unknown_order_are_named(face: Face) -> None:
    wrong = face.adapter(s4_sap_client="999")
    try:
        with pytest.raises(ErpRejected, match="401"):
            await wrong.get_customer(1)
    finally:
        await wrong.aclose()
    erp = face.adapter()
    try:
        with pytest.raises(ErpNotFound):
            await erp.update_sales_order("424242", an_order(face))
    finally:
        await erp.aclose()
