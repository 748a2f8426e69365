"""The write path over real HTTP: BigCommerce simulator (REST Admin, signed webhooks), ERP simulator
(sales orders, signed events), the edge's intakes, and a worker — in a thread beside the edge (they
share the store's event loop, which the embedded store needs) or as a real subprocess."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson

from pricing_edge.config import DEMO_CLIENT_SECRET, Settings
from pricing_edge.demo import bigcommerce_sim_app, demo_settings, edge_and_worker, edge_app, erp_sim_app
from pricing_edge.domain.pricing import unit_price
from pricing_edge.intake import envelope
from pricing_edge.intake.bigcommerce_webhooks import signing_secret
from pricing_edge.demo import pristine_dataset
from pricing_edge.sim.dataset import Dataset
from pricing_edge.sim.fixtures import DemoLayout
from tests.support.polling import wait_until
from tests.support.redis_server import free_port
from tests.support.servers import ServerThread, serve

ADDRESS = {"first_name": "Ada", "last_name": "Buyer", "street_1": "1 Main St", "city": "Austin", "state": "Texas",
           "zip": "78701", "country": "United States", "country_iso2": "US", "email": "ada@example.com"}
FAST_WORKER = {"worker_lease_ttl": 2.0, "worker_retry_base": 0.1, "worker_retry_cap": 1.0, "worker_max_attempts": 3,
               "bc_latency_ms": 0.0, "erp_latency_ms": 0.0}


@dataclass
class OrderSystem:
    settings: Settings
    dataset: Dataset
    bigcommerce: ServerThread
    erp: ServerThread
    edge: ServerThread
    worker_url: str
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    # -- BigCommerce ------------------------------------------------------------------------------
    def admin(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """The REST Admin API as another of the merchant's apps calls it: within the store's rate limit, which
        the worker spends too (a 429 waits the window out, as BigCommerce asks, a few times at most)."""
        url = f"{self.bigcommerce.base_url}/stores/{self.settings.store_hash}{path}"
        for _ in range(10):
            response = self.http.request(method, url, json=body, headers={"X-Auth-Token": self.settings.admin_token})
            if response.status_code != 429:
                break
            time.sleep(int(response.headers.get("X-Rate-Limit-Time-Reset-Ms", "1000")) / 1000)
        return response

    def order(self, order_id: int) -> dict[str, Any]:
        response = self.admin("GET", f"/v2/orders/{order_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def register_hooks(self) -> None:
        for scope in ("store/order/created", "store/order/updated", "store/order/statusUpdated"):
            response = self.admin("POST", "/v3/hooks", {"scope": scope, "destination": self.webhook_url,
                                                        "is_active": True})
            assert response.status_code == 200, response.text

    @property
    def webhook_url(self) -> str:
        return self.edge.base_url + "/webhooks/bigcommerce"

    def line(self, sku: str, quantity: int, customer_id: int, *, price: Decimal | None = None) -> dict[str, Any]:
        """A catalog line priced as the ERP prices it for this buyer (so the price check passes)."""
        product, variant = next((p, v) for p in self.dataset.products for v in p.variants if v.sku == sku)
        return {"product_id": product.id, "variant_id": variant.id, "quantity": quantity,
                "price_ex_tax": str(price if price is not None else self.erp_price(sku, quantity, customer_id)),
                "price_inc_tax": str(price if price is not None else self.erp_price(sku, quantity, customer_id))}

    def erp_price(self, sku: str, quantity: int, customer_id: int) -> Decimal:
        customer = self.dataset.customer(customer_id) if customer_id else None
        assignments = self.settings.assignments
        price_list = assignments.price_list_for(customer.customer_group_id if customer else None)
        record = self.dataset.prices.get(price_list, sku, "USD")
        assert record is not None, f"{sku} has no price on list {price_list}"
        return unit_price(record, quantity)

    def create_order(self, customer_id: int, lines: list[dict[str, Any]], status_id: int = 11,
                     **extra: Any) -> dict[str, Any]:
        body = {"customer_id": customer_id, "status_id": status_id, "billing_address": ADDRESS,
                "shipping_addresses": [ADDRESS], "products": lines, **extra}
        response = self.admin("POST", "/v2/orders", body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def skus(self, n: int, offset: int = 0) -> list[str]:
        return [p.variants[0].sku for p in self.dataset.products[offset:offset + n]]

    def deliver(self, scope: str, data: dict[str, Any], webhook_id: str | None = None,
                headers: dict[str, str] | None = None, url: str | None = None) -> httpx.Response:
        """A webhook exactly as BigCommerce sends it, signed with the app's client secret (to ``url``, an
        edge's webhook URL: by default this system's edge)."""
        body = orjson.dumps({"scope": scope, "store_id": "1001", "data": data, "hash": _hash(data),
                             "created_at": int(time.time()), "producer": f"stores/{self.settings.store_hash}"})
        webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
        secret = signing_secret(self.settings.client_secret or DEMO_CLIENT_SECRET)
        signed = {**envelope.sign(body, webhook_id, secret), "content-type": "application/json", **(headers or {})}
        try:
            return self.http.post(url or self.webhook_url, content=body, headers=signed)
        except httpx.TransportError:  # a kept-alive connection the server had just closed: BigCommerce retries too
            return self.http.post(url or self.webhook_url, content=body, headers=signed)

    # -- ERP ----------------------------------------------------------------------------------------
    def erp_orders(self, reference: str) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.erp.base_url}/api/v1/sales-orders", params={"reference": reference})
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    def erp_sim(self, path: str, body: Any) -> dict[str, Any]:
        response = self.http.post(f"{self.erp.base_url}/_sim{path}", json=body)
        assert response.status_code < 300, response.text
        return dict(response.json())

    def reference(self, order_id: int) -> str:
        return f"BC-{self.settings.store_hash}-{order_id}"

    # -- worker -------------------------------------------------------------------------------------
    def ops(self, method: str, path: str) -> httpx.Response:
        """The ops API with the demo's ops token (``demo_settings`` configures it)."""
        return self.http.request(method, self.worker_url + path,
                                 headers={"authorization": f"Bearer {self.settings.ops_token}"})

    def ledger(self, order_id: int) -> dict[str, Any] | None:
        response = self.ops("GET", f"/ops/ledger/orders/{order_id}")
        return dict(response.json()) if response.status_code == 200 else None

    def wait_synced(self, order_id: int, timeout: float = 30.0) -> dict[str, Any]:
        return wait_until(lambda: _synced(self.ledger(order_id)), timeout=timeout,
                          what=f"order {order_id} synced to the ERP")

    def history(self, order_id: int) -> list[str]:
        """The kinds of the order's messages handled successfully, in the order handled."""
        entry = self.ledger(order_id) or {}
        detail = orjson.loads(entry["detail"]) if entry.get("detail") else {}
        return [step["kind"] for step in detail.get("history", []) if step["outcome"] == "ok"]


def _synced(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    return entry if entry and entry.get("erp_id") and entry.get("status") == "synced" else None


def _hash(data: dict[str, Any]) -> str:
    return hashlib.sha1(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


def order_settings(base: Settings, tmp_path: Path) -> Settings:
    layout = DemoLayout(free_port())
    settings = demo_settings(base, layout)
    return replace(settings, schema_cache=str(tmp_path / "schema.json"), webhook_destination=None, **FAST_WORKER)


@contextmanager
def order_system(base: Settings, tmp_path: Path, *, worker: str = "thread", register_hooks: bool = True,
                 worker_registers_hooks: bool = False, **overrides: Any) -> Iterator[OrderSystem]:
    """``worker``: "thread" (beside the edge), or "none" (start one with :func:`worker_process`).
    ``worker_registers_hooks``: the worker registers (and keeps active) the hooks to the edge itself, as with
    ``PRICING_EDGE_WEBHOOK_DESTINATION``. ``overrides``: settings to change (``order_poll_interval=0.5``...)."""
    settings = replace(order_settings(base, tmp_path), **overrides)
    bc_port, erp_port, edge_port, worker_port = free_port(), free_port(), free_port(), free_port()
    settings = replace(settings, upstream_url=f"http://127.0.0.1:{bc_port}/graphql", admin_url=f"http://127.0.0.1:{bc_port}",
                       erp_url=f"http://127.0.0.1:{erp_port}", events_url=f"http://127.0.0.1:{edge_port}/events/erp",
                       worker_url=f"http://127.0.0.1:{worker_port}")
    if worker_registers_hooks:
        settings = replace(settings, webhook_destination=f"http://127.0.0.1:{edge_port}/webhooks/bigcommerce")
    with serve(bigcommerce_sim_app(settings), bc_port) as bigcommerce, serve(erp_sim_app(settings), erp_port) as erp:
        if worker == "thread":
            edge, worker_app = edge_and_worker(settings)
            edge_server = serve(edge, edge_port, also=[(worker_app, worker_port)])
        else:
            edge_server = serve(edge_app(settings), edge_port)
        with edge_server as edge_thread:
            system = OrderSystem(settings, pristine_dataset(settings.seed), bigcommerce, erp, edge_thread,
                                 settings.worker_url)
            if register_hooks:
                system.register_hooks()
            yield system


def worker_env(settings: Settings) -> dict[str, str]:
    values = {"REDIS_URL": settings.redis_url, "REDIS_PREFIX": settings.redis_prefix, "ADMIN_URL": settings.admin_url,
              "ERP_URL": settings.erp_url, "STORE_HASH": settings.store_hash, "ADMIN_TOKEN": settings.admin_token,
              "PRICE_LISTS": settings.to_env()["PRICING_EDGE_PRICE_LISTS"], "DEFAULT_PRICE_LIST": str(settings.default_price_list),
              "WORKER_LEASE_TTL": str(settings.worker_lease_ttl), "WORKER_RETRY_BASE": str(settings.worker_retry_base),
              "WORKER_RETRY_CAP": str(settings.worker_retry_cap), "WORKER_URL": settings.worker_url,
              "OPS_TOKENS": settings.ops_tokens, "OPS_TOKEN": settings.ops_token,
              "ERP_TIMEOUT": str(settings.erp_timeout), "SHUTDOWN_GRACE": str(settings.shutdown_grace)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}
    env.update({f"PRICING_EDGE_{k}": str(v) for k, v in values.items() if v is not None})
    return env


@contextmanager
def worker_process(settings: Settings, log_path: Path,
                   env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """``pricing-edge worker`` as a real process on the settings' worker port, killed on exit
    (``env``: its environment, default :func:`worker_env`)."""
    port = int(settings.worker_url.rsplit(":", 1)[1])
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "pricing_edge.cli", "worker", "--port", str(port)],
                                   env=env or worker_env(settings), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _healthy(settings.worker_url) or process.poll() is not None, timeout=30,
                   what="the worker process to start")
        assert process.poll() is None, log_path.read_text()
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
