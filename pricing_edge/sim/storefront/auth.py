"""Buyers from BigCommerce's headers, as the real Storefront API reads them, and the customer access
tokens ``login`` issues.

``Authorization: Bearer`` is required. With the customer-impersonation token, ``X-Bc-Customer-Id``
names the customer; ``X-Bc-Customer-Access-Token`` names one too (an invalid, expired or revoked one
means guest, unless ``X-Bc-Error-On-Invalid-Customer-Access-Token: true`` asks for an error). Otherwise:
guest. Two kinds of access token are valid: those ``login`` issued (opaque, for ``TOKEN_LIFETIME``, until
``logout`` revokes them) and the demo's deterministic one per customer (printed by ``pricing-edge
fixtures``, so a script can act as a buyer without logging in).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from pricing_edge.config import listed
from pricing_edge.sim.dataset import Dataset
from pricing_edge.sim.storefront.catalog import GUEST, Buyer

INVALID_TOKEN_CODE = "INVALID_CUSTOMER_ACCESS_TOKEN"
# Longer digit strings name no customer (and int() of more than 4300 digits would raise: a 500).
MAX_ID_DIGITS = 18
TOKEN_LIFETIME = timedelta(days=1)


def customer_access_token(customer_id: int, secret: str) -> str:
    """A deterministic token per customer (the demo prints them; a real store issues them at login)."""
    digest = hmac.new(secret.encode(), f"customer:{customer_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"cat_{customer_id}_{digest}"


class AuthError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Authenticator:
    def __init__(self, dataset: Dataset, storefront_token: str, impersonation_token: str,
                 customer_token_secret: str) -> None:
        self.dataset = dataset
        self.storefront_token = storefront_token
        self.impersonation_token = impersonation_token  # several, comma-separated: a store has as many valid tokens as were created
        self.customer_token_secret = customer_token_secret
        self._issued: dict[str, tuple[int, datetime]] = {}  # sha256(token) -> (customer id, expiry)
        self._revoked: set[str] = set()  # sha256 of revoked demo tokens
        self._lock = threading.Lock()

    def buyer(self, headers: Mapping[str, str]) -> tuple[Buyer, str | None]:
        """The buyer, and the customer access token that named it (if one did)."""
        authorization = headers.get("authorization", "")
        token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
        impersonating = any(hmac.compare_digest(token.encode(), one.encode())
                            for one in listed(self.impersonation_token))
        if not (impersonating or hmac.compare_digest(token.encode(), self.storefront_token.encode())):
            raise AuthError(401, "Unauthorized: a valid storefront token is required (Authorization: Bearer …)")
        if impersonating and headers.get("x-bc-customer-id"):
            raw = headers["x-bc-customer-id"].strip()
            return (self._customer(int(raw)) if raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS
                    else GUEST), None
        access_token = headers.get("x-bc-customer-access-token")
        if access_token:
            buyer = self._from_access_token(access_token)
            if buyer is None:
                if headers.get("x-bc-error-on-invalid-customer-access-token", "").lower() == "true":
                    raise AuthError(200, "Invalid customer access token.", INVALID_TOKEN_CODE)
                return GUEST, None
            return buyer, access_token
        return GUEST, None

    def issue(self, customer_id: int) -> tuple[str, str]:
        """A new access token for the customer and its expiry (ISO 8601, UTC)."""
        token = secrets.token_hex(24)
        expires = datetime.now(UTC) + TOKEN_LIFETIME
        with self._lock:
            if len(self._issued) >= 10_000:  # forget expired tokens now and then
                now = datetime.now(UTC)
                self._issued = {k: v for k, v in self._issued.items() if v[1] > now}
            self._issued[_key(token)] = (customer_id, expires)
        return token, expires.isoformat(timespec="seconds").replace("+00:00", "Z")

    def revoke(self, token: str) -> None:
        with self._lock:
            if self._issued.pop(_key(token), None) is None:
                self._revoked.add(_key(token))

    def _customer(self, customer_id: int) -> Buyer:
        customer = self.dataset.customer(customer_id)
        return Buyer(customer.id, customer.customer_group_id) if customer else GUEST

    def _from_access_token(self, token: str) -> Buyer | None:
        key = _key(token)
        with self._lock:
            issued = self._issued.get(key)
            if issued is not None and issued[1] <= datetime.now(UTC):
                del self._issued[key]
                issued = None
            revoked = key in self._revoked
        if issued is not None:
            return self._customer(issued[0])
        parts = token.split("_")
        if revoked or len(parts) != 3 or not (parts[1].isascii() and parts[1].isdigit() and len(parts[1]) <= MAX_ID_DIGITS):
            return None
        customer_id = int(parts[1])
        expected = customer_access_token(customer_id, self.customer_token_secret)
        if not hmac.compare_digest(token.encode(), expected.encode()) or self.dataset.customer(customer_id) is None:
            return None
        return self._customer(customer_id)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
