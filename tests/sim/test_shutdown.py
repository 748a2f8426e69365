"""The simulators stop with their background work running: the ERP's ticker making changes and its
outbox's deliveries stuck on a receiver that never answers; BigCommerce's webhook sender likewise."""
from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.demo import bigcommerce_sim_app
from pricing_edge.config import Settings
from pricing_edge.sim.dataset import build_dataset
from pricing_edge.sim.erp import create_app
from pricing_edge.sim.fixtures import DEMO_EVENT_SECRET
from tests.support.polling import wait_until
from tests.support.servers import ServerThread, serve


class NeverAnswers:
    """A receiver that takes each POST and never answers it."""

    def __init__(self) -> None:
        self.arrived = 0

    def app(self) -> Starlette:
        async def hang(request: Request) -> Response:
            self.arrived += 1
            await asyncio.Event().wait()
            return Response()

        return Starlette(routes=[Route("/{path:path}", hang, methods=["POST"])])


def test_the_erp_simulator_stops_with_its_ticker_running_and_deliveries_stuck() -> None:
    receiver = NeverAnswers()
    with serve(receiver.app()) as hanging:
        erp = ServerThread(create_app(build_dataset(7), events_url=hanging.base_url + "/events/erp",
                                      event_secret=DEMO_EVENT_SECRET, latency_ms=0, ticker_rate=50))
        erp.start()
        try:
            wait_until(lambda: receiver.arrived >= 3, what="deliveries waiting on the receiver")
        finally:
            erp.stop()  # raises if the simulator did not stop
        assert not erp.thread.is_alive()


def test_the_bigcommerce_simulator_stops_with_webhook_deliveries_stuck() -> None:
    receiver = NeverAnswers()
    settings = Settings.from_env({})
    with serve(receiver.app()) as hanging:
        bigcommerce = ServerThread(bigcommerce_sim_app(settings, latency_ms=0))
        bigcommerce.start()
        try:
            admin = f"{bigcommerce.base_url}/stores/{settings.store_hash}"
            headers = {"X-Auth-Token": settings.admin_token}
            hook = {"scope": "store/order/created", "destination": hanging.base_url + "/hooks", "is_active": True}
            assert httpx.post(admin + "/v3/hooks", json=hook, headers=headers, timeout=30).status_code == 200
            dataset = build_dataset(settings.seed)
            product = dataset.products[0]
            address = {"first_name": "A", "last_name": "B", "street_1": "1 Main St", "city": "Austin", "state": "Texas",
                       "zip": "78701", "country": "United States", "country_iso2": "US", "email": "a@example.com"}
            order = {"customer_id": 0, "status_id": 11, "billing_address": address,
                     "products": [{"product_id": product.id, "quantity": 1}]}
            assert httpx.post(admin + "/v2/orders", json=order, headers=headers, timeout=30).status_code == 200
            wait_until(lambda: receiver.arrived >= 1, what="a webhook waiting on the receiver")
        finally:
            bigcommerce.stop()
        assert not bigcommerce.thread.is_alive()
