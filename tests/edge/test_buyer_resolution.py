"""The hit path resolves a known buyer from what it holds, without waiting (``BuyerResolver.held``); a buyer
seen for the first time is resolved by ``resolve``, one upstream check per token however many ask, and from
then on held — against the BigCommerce simulator over real HTTP, calls counted at the client."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from pricing_edge.bigcommerce.storefront import StorefrontClient
from pricing_edge.config import DEMO_IMPERSONATION_TOKEN, DEMO_STOREFRONT_TOKEN
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.scope import PriceListAssignments, Scope
from pricing_edge.edge.buyers import BuyerResolver, Refusal
from pricing_edge.erp.simulated import SimulatedErpAdapter
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.storefront.app import create_app
from pricing_edge.store.embedded import EmbeddedStore
from tests.support.servers import ServerThread, serve

CUSTOMER, GROUP, COMPANY = 4242, 2, 17
ASSIGNMENTS = PriceListAssignments({0: 1, GROUP: 3}, default_price_list_id=1)


@pytest.fixture(scope="module")
def storefront() -> Iterator[ServerThread]:
    app = create_app(build_dataset(7), storefront_token=DEMO_STOREFRONT_TOKEN,
                     impersonation_token=DEMO_IMPERSONATION_TOKEN, latency_ms=20)
    with serve(app) as server:
        yield server


class Counted:
    """The upstream, reached over HTTP, with every call it is sent counted."""

    def __init__(self, base_url: str) -> None:
        self.calls = 0

        async def count(request: httpx.Request) -> None:
            self.calls += 1

        self.client = httpx.AsyncClient(timeout=30, event_hooks={"request": [count]})
        self.upstream = StorefrontClient(base_url + "/graphql", client=self.client)


@pytest.fixture
async def counted(storefront: ServerThread) -> AsyncIterator[Counted]:
    counted = Counted(storefront.base_url)
    yield counted
    await counted.client.aclose()


async def resolver(counted: Counted) -> BuyerResolver:
    store = EmbeddedStore()
    await store.put_customer(CustomerRecord(CUSTOMER, GROUP, COMPANY))  # the ERP is never asked for it
    erp = SimulatedErpAdapter("http://127.0.0.1:9")  # a port nothing listens on: any ERP call would fail
    return BuyerResolver(counted.upstream, store, erp, ASSIGNMENTS, channel_id=1, currency="USD",
                         impersonation_token=DEMO_IMPERSONATION_TOKEN)


IMPERSONATED = {"authorization": f"Bearer {DEMO_IMPERSONATION_TOKEN}", "x-bc-customer-id": str(CUSTOMER)}
WANTED = Scope(channel_id=1, customer_group_id=GROUP, price_list_id=3, currency="USD", customer_id=CUSTOMER,
               company_id=COMPANY)


async def test_a_first_sight_is_not_held_and_asks_nothing(counted: Counted) -> None:
    buyers = await resolver(counted)
    assert buyers.held(IMPERSONATED) is None
    await asyncio.sleep(0)  # a refresh started in the background would have begun by now
    assert counted.calls == 0


async def test_once_resolved_a_buyer_is_held_with_the_same_scope(counted: Counted) -> None:
    buyers = await resolver(counted)
    assert await buyers.resolve(IMPERSONATED) == WANTED
    assert counted.calls == 1  # the token check; the customer came from the store
    assert all(buyers.held(IMPERSONATED) == WANTED for _ in range(100))
    assert counted.calls == 1


async def test_many_first_requests_at_once_check_the_token_once(counted: Counted) -> None:
    buyers = await resolver(counted)
    scopes = await asyncio.gather(*(buyers.resolve(IMPERSONATED) for _ in range(50)))
    assert scopes == [WANTED] * 50
    assert counted.calls == 1


async def test_a_guest_token_resolves_to_the_guest_scope_and_is_then_held(counted: Counted) -> None:
    buyers = await resolver(counted)
    guest = {"authorization": f"Bearer {DEMO_STOREFRONT_TOKEN}", "x-bc-customer-id": str(CUSTOMER)}
    wanted = Scope(channel_id=1, customer_group_id=0, price_list_id=1, currency="USD")
    assert await buyers.resolve(guest) == wanted  # a customer id without the impersonation token: a guest
    assert buyers.held(guest) == wanted


async def test_a_refused_token_is_refused_again_from_what_is_held(counted: Counted) -> None:
    buyers = await resolver(counted)
    bad = {"authorization": "Bearer not-a-token"}
    refused = await buyers.resolve(bad)
    assert isinstance(refused, Refusal) and refused.answer.status == 401
    held = buyers.held(bad)
    assert isinstance(held, Refusal) and held.answer == refused.answer
    assert counted.calls == 1
