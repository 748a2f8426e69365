"""Buyers from BigCommerce's headers, as the real Storefront API reads them.

``Authorization: Bearer`` is required. With the customer-impersonation token, ``X-Bc-Customer-Id``
names the customer; ``X-Bc-Customer-Access-Token`` names one too (an invalid one means guest, unless
``X-Bc-Error-On-Invalid-Customer-Access-Token: true`` asks for an error). Otherwise: guest.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from pricing_edge.config import listed
from pricing_edge.sim.dataset import Dataset
from pricing_edge.sim.storefront.catalog import GUEST, Buyer

INVALID_TOKEN_CODE = "INVALID_CUSTOMER_ACCESS_TOKEN"
# Longer digit strings name no customer (and int() of more than 4300 digits would raise: a 500).
MAX_ID_DIGITS = 18


def customer_access_token(customer_id: int, secret: str) -> str:
    """A deterministic token per customer (the demo prints them; a real store issues them at login)."""
    digest = hmac.new(secret.encode(), f"customer:{customer_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"cat_{customer_id}_{digest}"


class AuthError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Authenticator:
    dataset: Dataset
    storefront_token: str
    impersonation_token: str  # several, comma-separated: a store has as many valid tokens as were created
    customer_token_secret: str

    def buyer(self, headers: Mapping[str, str]) -> Buyer:
        authorization = headers.get("authorization", "")
        token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
        impersonating = any(hmac.compare_digest(token.encode(), one.encode())
                            for one in listed(self.impersonation_token))
        if not (impersonating or hmac.compare_digest(token.encode(), self.storefront_token.encode())):
            raise AuthError(401, "Unauthorized: a valid storefront token is required (Authorization: Bearer …)")
        if impersonating and headers.get("x-bc-customer-id"):
            raw = headers["x-bc-customer-id"].strip()
            return self._customer(int(raw)) if raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS else GUEST
        access_token = headers.get("x-bc-customer-access-token")
        if access_token:
            buyer = self._from_access_token(access_token)
            if buyer is None:
                if headers.get("x-bc-error-on-invalid-customer-access-token", "").lower() == "true":
                    raise AuthError(200, "Invalid customer access token.", INVALID_TOKEN_CODE)
                return GUEST
            return buyer
        return GUEST

    def _customer(self, customer_id: int) -> Buyer:
        customer = self.dataset.customer(customer_id)
        return Buyer(customer.id, customer.customer_group_id) if customer else GUEST

    def _from_access_token(self, token: str) -> Buyer | None:
        parts = token.split("_")
        if len(parts) != 3 or not (parts[1].isascii() and parts[1].isdigit() and len(parts[1]) <= MAX_ID_DIGITS):
            return None
        customer_id = int(parts[1])
        expected = customer_access_token(customer_id, self.customer_token_secret)
        if not hmac.compare_digest(token.encode(), expected.encode()) or self.dataset.customer(customer_id) is None:
            return None
        return self._customer(customer_id)
