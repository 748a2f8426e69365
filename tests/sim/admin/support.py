"""Helpers for the REST Admin simulator's tests (and the admin client's): the simulator served over real
HTTP, a webhook receiver that can fail on purpose, a recorder of what reached the simulator, order bodies,
and contract checks against the vendor's OpenAPI files and webhook callback schemas.

The specs are test data read from ../shared/specs (or PRICING_EDGE_SPECS_DIR), never copied; without them
the contract checks skip (and fail under PRICING_EDGE_REQUIRE_SPECS=1).
"""
from __future__ import annotations

import copy
import functools
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import jsonschema
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pricing_edge.config import DEMO_ADMIN_TOKEN, DEMO_CLIENT_SECRET, DEMO_IMPERSONATION_TOKEN, DEMO_STOREFRONT_TOKEN
from pricing_edge.sim.admin import AdminState, DeliveryPolicy
from pricing_edge.sim.dataset import Dataset, Product
from pricing_edge.sim.storefront import create_app
from tests.support.servers import ServerThread
from tests.support.specs import require_spec

STORE_HASH = "teststore"
ADMIN_TOKEN = DEMO_ADMIN_TOKEN
CLIENT_SECRET = DEMO_CLIENT_SECRET
FAST_RETRY = DeliveryPolicy(max_attempts=10, first_backoff=0.02, max_backoff=0.1, timeout=5.0)
ORDERS_SPEC = "bigcommerce/rest/orders.v2.oas2.yml"
WEBHOOKS_SPEC = "bigcommerce/rest/webhooks.v3.yml"
CALLBACKS = "bigcommerce/webhooks/callbacks"
SPEC_HOST = "https://api.bigcommerce.com"  # the specs' server is https://api.bigcommerce.com/stores/{store_hash}/v2|v3
HEADERS = {"X-Auth-Token": ADMIN_TOKEN, "Accept": "application/json", "Content-Type": "application/json"}


def make_app(dataset: Dataset, **overrides: Any) -> Starlette:
    options: dict[str, Any] = {"latency_ms": 0, "admin_token": ADMIN_TOKEN, "store_hash": STORE_HASH,
                               "client_secret": CLIENT_SECRET, "rate_limit": (10_000, 30.0),
                               "webhook_retry": FAST_RETRY}
    options.update(overrides)
    return create_app(dataset, storefront_token=DEMO_STOREFRONT_TOKEN, impersonation_token=DEMO_IMPERSONATION_TOKEN,
                      **options)


@dataclass
class Sim:
    server: ServerThread
    app: Starlette

    @property
    def admin(self) -> AdminState:
        state: AdminState = self.app.state.admin
        return state

    @property
    def store_url(self) -> str:
        return f"{self.server.base_url}/stores/{STORE_HASH}"

    def rest(self, **headers: str) -> httpx.Client:
        """A client on the store's API root with the admin token (override or drop headers by keyword)."""
        sent = {**HEADERS, **{k.replace("_", "-"): v for k, v in headers.items()}}
        return httpx.Client(base_url=self.store_url, headers={k: v for k, v in sent.items() if v}, timeout=30.0)

    def deliveries(self, **params: Any) -> list[dict[str, Any]]:
        response = httpx.get(self.server.base_url + "/_sim/webhooks", params=params, timeout=30.0)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["deliveries"]
        return found


# --- building orders ----------------------------------------------------------------------------------
BILLING = {"first_name": "Jane", "last_name": "Doe", "street_1": "123 Main Street", "city": "Austin",
           "state": "Texas", "zip": "78751", "country": "United States", "country_iso2": "US",
           "email": "janedoe@example.com"}
SHIPPING = {"first_name": "Trish", "last_name": "Smith", "company": "Acme Pty Ltd", "street_1": "666 Sussex St",
            "city": "Austin", "state": "Texas", "zip": "78751", "country": "United States", "country_iso2": "US",
            "email": "elsie@example.com"}


def simple_product(dataset: Dataset, index: int = 0) -> Product:
    return [p for p in dataset.products if not p.has_variants][index]


def variant_product(dataset: Dataset) -> Product:
    return next(p for p in dataset.products if p.has_variants)


def order_body(dataset: Dataset, *, customer_id: int = 1, status_id: int = 11, **extra: Any) -> dict[str, Any]:
    """A realistic order: a simple catalog product, a variant, and a custom line with a SKU no one knows."""
    plain, with_variants = simple_product(dataset), variant_product(dataset)
    body: dict[str, Any] = {
        "customer_id": customer_id, "status_id": status_id, "billing_address": BILLING,
        "shipping_addresses": [SHIPPING],
        "products": [
            {"product_id": plain.id, "quantity": 2},
            {"product_id": with_variants.id, "variant_id": with_variants.variants[1].id, "quantity": 1,
             "price_ex_tax": Decimal("19.99"), "price_inc_tax": Decimal("21.99")},
            {"name": "Custom engraving", "sku": "CUSTOM-ENGRAVE-1", "quantity": 3,
             "price_ex_tax": Decimal("4.50"), "price_inc_tax": Decimal("4.95")},
        ],
        "payment_method": "Manual", "customer_message": "Leave at the back door",
    }
    body.update(extra)
    return body


# --- recording what reaches the simulator (for checking a client's requests) -------------------------------
@dataclass
class Exchange:
    method: str
    path: str
    query: bytes
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""


class Recorder:
    """ASGI wrapper: keeps every request to ``/stores/...`` and its answer, as the wire carried them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/stores/"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        exchange = Exchange(scope["method"], scope["path"], scope["query_string"], headers, b"")
        with self.lock:  # kept in arrival order; filled in before the answer leaves
            self.exchanges.append(exchange)

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                exchange.body += message.get("body", b"")
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.response_headers = {k.decode("latin-1"): v.decode("latin-1")
                                             for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                exchange.response_body += message.get("body", b"")
            await send(message)

        await self.app(scope, recording_receive, recording_send)

    def all(self) -> list[Exchange]:
        with self.lock:
            return list(self.exchanges)


# --- contract checks ------------------------------------------------------------------------------------
@functools.cache
def _document(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


@functools.cache
def _openapi(path: str, patched: bool) -> OpenAPI:
    document = _document(path)
    if path.endswith("carts.v3.yml"):
        # Vendor spec bug (carts.v3.yml, Cart_Line_Item_Update_Put): `line_item` is `oneOf` "Item with variant"
        # and "Item with modifier", neither closed to other properties, so every valid line item matches both
        # and `oneOf` refuses it. Validate it as `anyOf`, which is what the documentation describes.
        document = copy.deepcopy(document)
        line_item = document["components"]["schemas"]["Cart_Line_Item_Update_Put"]["properties"]["line_item"]
        line_item["anyOf"] = line_item.pop("oneOf")
    if path.endswith("inventory.v3.yml"):
        # Vendor spec bug (inventory.v3.yml, LocationItemsSettingsRequest): an item's `identity` is `oneOf` {sku},
        # {variant_id}, {product_id}, none of them requiring its one property, so every identity matches all
        # three and `oneOf` refuses it. Validate it as `anyOf`: "one of sku, product_id or variant_id".
        document = copy.deepcopy(document)
        item = document["components"]["schemas"]["LocationItemsSettingsRequest"]["properties"]["settings"]["items"]
        item["properties"]["identity"]["anyOf"] = item["properties"]["identity"].pop("oneOf")
    if patched:
        # Vendor spec bug (webhooks.v3.yml, components.responses.webhooks_Resp): `data` has `minItems: 1`,
        # so a store with no hooks (a valid, common answer: `{"data": [], ...}`) fails validation. Only for
        # that case, validate against a copy without that one keyword.
        document = copy.deepcopy(document)
        schema = document["components"]["responses"]["webhooks_Resp"]["content"]["application/json"]["schema"]
        del schema["properties"]["data"]["minItems"]
    return OpenAPI.from_dict(document)


def spec(relative: str, *, empty_hook_list: bool = False) -> OpenAPI:
    return _openapi(str(require_spec(relative)), empty_hook_list)


def _mock_request(method: str, path: str, query: bytes | str, headers: dict[str, str], body: bytes) -> MockRequest:
    args = dict(httpx.QueryParams(query.decode() if isinstance(query, bytes) else query))
    return MockRequest(SPEC_HOST, method, path, args=args, headers=headers, data=body or None,
                       content_type=headers.get("content-type", "application/json"))


def check_exchange(relative: str, method: str, path: str, query: bytes | str, headers: dict[str, str],
                   body: bytes, status: int, response_headers: dict[str, str], response_body: bytes) -> None:
    """Validate one request and its response against the vendor's OpenAPI file (raises on a mismatch)."""
    empty_hook_list = relative == WEBHOOKS_SPEC and response_body.startswith(b'{"data":[]')
    openapi = spec(relative, empty_hook_list=empty_hook_list)
    request = _mock_request(method, path, query, {k.lower(): v for k, v in headers.items()}, body)
    openapi.validate_request(request)
    if status == 204:
        # The spec writes "no body" as `204: {content: {}}`, which openapi-core reads as "a body is required"
        # (MissingData). Check what the spec says instead: a 204 is declared for this operation, body empty.
        assert response_body == b""
        paths = _document(str(require_spec(relative)))["paths"]
        declared = [template for template, item in paths.items()
                    if _matches(template, path) and "204" in item.get(method.lower(), {}).get("responses", {})]
        assert declared, f"the spec declares no 204 for {method} {path}"
        return
    content_type = {k.lower(): v for k, v in response_headers.items()}.get("content-type", "application/json")
    openapi.validate_response(request, MockResponse(response_body, status, response_headers, content_type))


def _matches(template: str, path: str) -> bool:
    parts = path.split("/")[4:]  # drop "", "stores", hash, version
    pattern = template.strip("/").split("/")
    return len(parts) == len(pattern) and all(p.startswith("{") or p == q for p, q in zip(pattern, parts, strict=True))


def check(relative: str, response: httpx.Response) -> None:
    """Validate an httpx exchange with the simulator against the vendor's OpenAPI file."""
    request = response.request
    check_exchange(relative, request.method, request.url.path, request.url.query, dict(request.headers),
                   request.content, response.status_code, dict(response.headers), response.content)


def check_recorded(exchange: Exchange) -> None:
    relative = WEBHOOKS_SPEC if "/v3/" in exchange.path else ORDERS_SPEC
    check_exchange(relative, exchange.method, exchange.path, exchange.query, exchange.headers, exchange.body,
                   exchange.status, exchange.response_headers, exchange.response_body)


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    """Inline the ``#/components/...`` refs of a schema from the webhooks spec."""
    if isinstance(node, dict):
        if "$ref" in node and str(node["$ref"]).startswith("#/"):
            target: Any = root
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            return _resolve(target, root)
        return {k: _resolve(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, root) for v in node]
    return node


@functools.cache
def _callback_schemas(callbacks_dir: str, webhooks_spec: str, scope: str) -> tuple[dict[str, Any], dict[str, Any]]:
    name = scope.replace("/", "_")
    with open(f"{callbacks_dir}/{name}.yml", encoding="utf-8") as handle:
        callback = yaml.safe_load(handle)["properties"][scope]
    with open(webhooks_spec, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    return callback, _resolve(document["components"]["schemas"][name], document)


def check_callback(scope: str, payload: dict[str, Any]) -> None:
    """Validate a webhook payload against ``webhooks/callbacks/<scope>.yml`` and the webhooks spec's schema."""
    callbacks_dir = require_spec(f"{CALLBACKS}/{scope.replace('/', '_')}.yml").parent
    callback, component = _callback_schemas(str(callbacks_dir), str(require_spec(WEBHOOKS_SPEC)), scope)
    jsonschema.validate(payload, callback)
    jsonschema.validate(payload, component)
