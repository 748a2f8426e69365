"""Configuration: environment variables ``PRICING_EDGE_*`` (the README has the table)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any

from pricing_edge.sim.dataset import DEFAULT_SEED

# Obviously demo-only credentials: the simulators accept them and nothing else does.
DEMO_STOREFRONT_TOKEN = "demo-storefront-token"
DEMO_IMPERSONATION_TOKEN = "demo-impersonation-token"
DEMO_ADMIN_TOKEN = "demo-admin-token"
DEMO_CLIENT_SECRET = "demo-client-secret"  # the BigCommerce app's client secret: signs its webhooks
DEMO_STORE_HASH = "demo"


@dataclass(frozen=True)
class Settings:
    redis_url: str | None = None
    upstream_url: str = "http://127.0.0.1:8081/graphql"
    erp_url: str = "http://127.0.0.1:8082"
    worker_url: str = "http://127.0.0.1:8083"
    events_url: str | None = None
    event_secret: str | None = None
    seed: int = DEFAULT_SEED
    storefront_token: str = DEMO_STOREFRONT_TOKEN
    impersonation_token: str = DEMO_IMPERSONATION_TOKEN
    admin_token: str = DEMO_ADMIN_TOKEN
    bc_latency_ms: float = 150.0
    bc_rate_limit: str = "150/30"  # the BigCommerce simulator's REST quota: requests / seconds
    erp_latency_ms: float = 20.0
    erp_ticker_rate: float = 0.0
    channel_id: int = 1
    currency: str = "USD"
    currencies: str = "USD,EUR"
    price_lists: str = "0:1,1:2,2:3,3:4,4:5,5:6"
    default_price_list: int = 1
    schema_cache: str = ".pricing-edge/upstream-schema.json"
    trusted_proxy_secret: str | None = None
    price_ttl: float = 60.0
    stock_ttl: float = 10.0
    catalog_ttl: float = 300.0
    buyer_ttl: float = 60.0
    erp_timeout: float = 5.0
    erp_budget_ms: float = 150.0
    credit_ttl: float = 60.0
    credit_max_age: float = 900.0
    reservation_ttl: float = 1800.0
    redis_down_stock_factor: float = 5.0
    breaker_threshold: int = 5
    breaker_reset: float = 10.0
    upstream_timeout: float = 5.0
    redis_prefix: str = "pe:"
    redis_timeout: float = 2.0  # seconds a Redis connect, command or pool wait may take before it counts as down
    warm_at_start: int = 0
    # BigCommerce REST Admin and webhooks (the worker's side)
    admin_url: str = "http://127.0.0.1:8081"  # stands for https://api.bigcommerce.com
    store_hash: str = DEMO_STORE_HASH
    client_secret: str | None = None  # webhooks are verified with base64(client secret), Standard Webhooks
    webhook_header: str | None = None  # "Name: value" set at registration, required on every webhook
    webhook_destination: str | None = None  # set: the worker registers its webhooks there at start
    dedup_ttl: float = 7 * 24 * 3600.0
    require_durable: int = 0
    # the worker
    worker_concurrency: int = 8  # entities a worker process handles at once, per flow
    worker_lease_ttl: float = 10.0
    worker_max_attempts: int = 5
    worker_retry_base: float = 1.0
    worker_retry_cap: float = 60.0
    worker_give_up_after: float = 24 * 3600.0
    order_document_type: str = "SO"
    # stopping: SIGTERM/SIGINT to exit, whatever the process is doing (pricing_edge.runtime.Grace)
    shutdown_grace: float = 10.0
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(f"PRICING_EDGE_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
            if "int" in kind and "float" not in kind:
                values[f.name] = int(raw)
            elif "float" in kind:
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
