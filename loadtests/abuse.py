"""The ``abuse`` scenario's hostile clients (issue 19): four clients beside normal traffic, each holding
only the public storefront token, alternating the two attacks that used to starve everyone else — a
document of 6,000 conflicting aliases (seconds of validation CPU before the one-pass budget) and a
random bearer token (one BigCommerce check each before the per-client limit). What they got back is
counted; the scenario's target is normal buyers' p99 within 2x of the same load without them.

As in production, the edge sits behind a proxy it trusts (the bench sets ``PRICING_EDGE_TRUSTED_PROXIES`` to
the loopback address) and each hostile client arrives with its own ``True-Client-IP``; the normal traffic
comes without one, as the proxy's own address."""
from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from typing import Any

import httpx
import orjson

HOSTILE_CLIENTS = 4
ALIASES = 6000
# One response key for two different fields, 6,000 times: every pair is compared by OverlappingFieldsCanBeMerged
# (18,000 tokens: under the parser's token bound, so it is the budget that must refuse it).
HOSTILE_DOCUMENT = orjson.dumps({"query": "{ " + " ".join("a: site" if i % 2 else "a: __typename"
                                                          for i in range(ALIASES)) + " }"})


def hostile_document(index: int) -> bytes:
    """A distinct text per request (a trailing comment): no cache of prepared documents can absorb it."""
    return HOSTILE_DOCUMENT[:-2] + f" # {index}".encode() + b'"}'


async def _client(url: str, token: str, until: float, outcomes: Counter[str], number: int) -> None:
    sent = 0
    address = f"198.51.100.{number + 1}"  # what the proxy in front of the edge would say this client is
    async with httpx.AsyncClient(timeout=30.0, headers={"content-type": "application/json",
                                                        "true-client-ip": address}) as client:
        while time.monotonic() < until:
            sent += 1
            if sent % 2:
                kind, body = "document", hostile_document(number * 1_000_000 + sent)
                headers = {"authorization": f"Bearer {token}"}
            else:
                kind, body = "token", orjson.dumps({"query": "{ site { settings { storeName } } }"})
                headers = {"authorization": f"Bearer {secrets.token_hex(16)}"}
            try:
                response = await client.post(url, content=body, headers=headers)
                outcomes[f"{kind}:{response.status_code}"] += 1
            except httpx.HTTPError as exc:
                outcomes[f"{kind}:{type(exc).__name__}"] += 1


async def run(url: str, storefront_token: str, duration: float, clients: int = HOSTILE_CLIENTS) -> dict[str, Any]:
    """``clients`` hostile clients against ``url`` for ``duration`` seconds; what they were answered."""
    outcomes: Counter[str] = Counter()
    until = time.monotonic() + duration
    await asyncio.gather(*(_client(url, storefront_token, until, outcomes, n) for n in range(clients)))
    return {"clients": clients, "aliases_per_document": ALIASES, "requests": sum(outcomes.values()),
            "outcomes": dict(sorted(outcomes.items()))}
