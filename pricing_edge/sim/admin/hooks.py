"""The store's webhook subscriptions (``/v3/hooks``), as BigCommerce keeps them for one app's ``client_id``.

A hook is ``{scope, destination, is_active, headers, events_history_enabled}``; a scope is exact
(``store/order/created``) or a wildcard (``store/order/*`` covers every ``store/order/...`` event).
Invalid values answer 422 naming the field, as the v3 spec does. Unlike BigCommerce, the simulator accepts
``http://`` destinations on any port (tests and the demo receive on localhost).
"""
from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pricing_edge.sim.admin.http import NOT_FOUND, AdminError

SCOPE = re.compile(r"^store/[A-Za-z]+(/[A-Za-z]+)*(/\*)?$")
FIELDS = frozenset({"scope", "destination", "is_active", "headers", "events_history_enabled"})


@dataclass
class Hook:
    id: int
    client_id: str
    store_hash: str
    scope: str
    destination: str
    is_active: bool = True
    headers: dict[str, str] | None = None
    events_history_enabled: bool = False
    created_at: int = field(default_factory=lambda: int(time.time()))
    updated_at: int = field(default_factory=lambda: int(time.time()))

    def matches(self, scope: str) -> bool:
        if self.scope.endswith("/*"):
            return scope.startswith(self.scope[:-1])
        return scope == self.scope

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "client_id": self.client_id, "store_hash": self.store_hash, "scope": self.scope,
                "destination": self.destination, "is_active": self.is_active, "headers": self.headers,
                "events_history_enabled": self.events_history_enabled, "created_at": self.created_at,
                "updated_at": self.updated_at}


class HookRegistry:
    def __init__(self, *, store_hash: str, client_id: str) -> None:
        self.store_hash = store_hash
        self.client_id = client_id
        self.hooks: dict[int, Hook] = {}
        self._ids = itertools.count(1)

    def get(self, hook_id: int) -> Hook:
        hook = self.hooks.get(hook_id)
        if hook is None:
            raise AdminError(404, NOT_FOUND)
        return hook

    def select(self, *, is_active: bool | None = None, scope: str | None = None,
               destination: str | None = None) -> list[Hook]:
        return [h for h in self.hooks.values()
                if (is_active is None or h.is_active == is_active) and (scope is None or h.scope == scope)
                and (destination is None or h.destination == destination)]

    def matching(self, scope: str) -> list[Hook]:
        """The active hooks an event of ``scope`` goes to."""
        return [h for h in self.hooks.values() if h.is_active and h.matches(scope)]

    def create(self, body: dict[str, Any]) -> Hook:
        values = _validated(body)
        for name in ("scope", "destination"):
            if name not in values:
                raise AdminError(422, f"The field '{name}' is required.", field=name)
        hook = Hook(next(self._ids), self.client_id, self.store_hash, **values)
        self.hooks[hook.id] = hook
        return hook

    def update(self, hook_id: int, body: dict[str, Any]) -> Hook:
        hook = self.get(hook_id)
        values = _validated(body)
        if not values:
            raise AdminError(422, "At least one field is required to update a webhook.", field="body")
        for name, value in values.items():
            setattr(hook, name, value)
        hook.updated_at = int(time.time())
        return hook

    def delete(self, hook_id: int) -> Hook:
        hook = self.get(hook_id)
        del self.hooks[hook_id]
        return hook


def _validated(body: dict[str, Any]) -> dict[str, Any]:
    for name in body:
        if name not in FIELDS:
            raise AdminError(422, f"The field '{name}' is not a webhook field; allowed: {sorted(FIELDS)}.",
                             field=name)
    values: dict[str, Any] = {}
    if "scope" in body:
        scope = body["scope"]
        if not isinstance(scope, str) or not SCOPE.match(scope):
            raise AdminError(422, f"The field 'scope' must be an event scope like 'store/order/created' or "
                                  f"'store/order/*', got {scope!r}.", field="scope")
        values["scope"] = scope
    if "destination" in body:
        destination = body["destination"]
        parts = urlsplit(destination) if isinstance(destination, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise AdminError(422, f"The field 'destination' must be an absolute http(s) URL, got {destination!r}.",
                             field="destination")
        values["destination"] = destination
    for name in ("is_active", "events_history_enabled"):
        if name in body:
            if not isinstance(body[name], bool):
                raise AdminError(422, f"The field '{name}' must be a boolean, got {body[name]!r}.", field=name)
            values[name] = body[name]
    if "headers" in body:
        headers = body["headers"]
        if headers is not None and (not isinstance(headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items())):
            raise AdminError(422, "The field 'headers' must be an object of string values, or null.", field="headers")
        values["headers"] = dict(headers) if headers is not None else None
    return values
