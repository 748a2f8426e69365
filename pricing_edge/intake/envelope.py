"""The envelope of an ERP change event: CloudEvents 1.0 structured JSON, signed per Standard Webhooks.

Producers (the simulated ERP, ERP connectors) call :func:`signed_event`; the edge's intake calls
:func:`verify` on the raw body *before* parsing it (a signature covers bytes, not a re-serialised
dict), then :func:`parse`, which checks the envelope and its ``data`` against ``pricing_edge/schemas/events/``.
The two failures are distinct types because they answer differently: :class:`SignatureError` is
a 401 (not from whom it claims), :class:`EnvelopeError` a 400 (from them, but malformed).

``webhook-id`` is the CloudEvents ``id`` so one key identifies a delivery end to end: a retry
re-signs the same id with a fresh timestamp, and the receiver deduplicates on it.
"""
from __future__ import annotations

import base64
import binascii
import functools
import math
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError

from pricing_edge.config import listed
from pricing_edge.domain.event_schema import SchemaViolation, check, validator
from pricing_edge.domain.event_schema import schema as schema  # one schema by name, for tests and tools

SECRET_PREFIX = "whsec_"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
DATA_CONTENT_TYPE = "application/json"
ENVELOPE_SCHEMA = "cloudevent"


class SignatureError(Exception):
    """Missing, malformed or wrong signature headers, or a timestamp outside the tolerance (→ 401)."""


class EnvelopeError(ValueError):
    """A body that is not a valid event envelope or whose data fails its schema (→ 400)."""


@dataclass(frozen=True)
class SignedEvent:
    """One event ready to POST: the exact bytes that were signed and the headers that go with them."""

    id: str
    type: str
    envelope: dict[str, Any]
    body: bytes
    headers: dict[str, str]


def generate_secret(nbytes: int = 32) -> str:
    """A fresh signing secret in Standard Webhooks form: ``whsec_`` + base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(nbytes)).decode("ascii")


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and ``Z``, as CloudEvents ``time`` wants."""
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def build_envelope(event_type: str, data: Mapping[str, Any], *, source: str, event_id: str | None = None,
                   time: datetime | None = None, subject: str | None = None) -> dict[str, Any]:
    """A CloudEvents 1.0 structured-mode envelope; the SDK checks the attributes, we own the JSON."""
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id or new_event_id(),
        "source": source,
        "type": event_type,
        "time": time or datetime.now(UTC),
        "datacontenttype": DATA_CONTENT_TYPE,
    }
    if subject is not None:
        attributes["subject"] = subject
    try:
        CloudEvent(attributes, dict(data))
    except BaseCloudEventException as exc:
        raise EnvelopeError(f"invalid CloudEvents attributes: {exc}") from exc
    envelope = dict(attributes)
    envelope["time"] = format_time(attributes["time"])
    envelope["data"] = dict(data)
    return envelope


def encode(envelope: Mapping[str, Any]) -> bytes:
    return orjson.dumps(envelope)


def sign(body: bytes, event_id: str, secret: str, *, timestamp: datetime | None = None) -> dict[str, str]:
    """The Standard Webhooks headers for ``body`` (plus the CloudEvents structured content type). Several
    secrets (a rotation) give several signatures, space-separated, as the spec allows: receivers that know
    either secret accept it."""
    moment = timestamp or datetime.now(UTC)
    signature = " ".join(_webhook(one).sign(msg_id=event_id, timestamp=moment, data=body.decode("utf-8"))
                         for one in listed(secret) or [secret])
    return {
        "content-type": CONTENT_TYPE,
        "webhook-id": event_id,
        "webhook-timestamp": str(math.floor(moment.timestamp())),
        "webhook-signature": signature,
    }


def signed_event(event_type: str, data: Mapping[str, Any], *, source: str, secret: str | None,
                 event_id: str | None = None, time: datetime | None = None, subject: str | None = None,
                 timestamp: datetime | None = None) -> SignedEvent:
    """Build, encode and sign one event; without a secret the headers carry no signature."""
    envelope = build_envelope(event_type, data, source=source, event_id=event_id, time=time, subject=subject)
    body = encode(envelope)
    headers = (sign(body, envelope["id"], secret, timestamp=timestamp) if secret
               else {"content-type": CONTENT_TYPE})
    return SignedEvent(envelope["id"], event_type, envelope, body, headers)


def resign(event: SignedEvent, secret: str, *, timestamp: datetime | None = None) -> SignedEvent:
    """The same event (same id, same bytes) with a fresh signature timestamp, for a retry."""
    return SignedEvent(event.id, event.type, event.envelope, event.body,
                       sign(event.body, event.id, secret, timestamp=timestamp))


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Check the Standard Webhooks signature of ``body``; raises SignatureError, returns nothing.

    ``secret`` may list several secrets, comma-separated, during a rotation: a signature by any of them
    passes. Tolerance is the library's (5 minutes either way). A bad *secret* is a configuration error
    and raises ValueError, so a misconfigured edge fails loudly instead of 401-ing every sender.
    """
    webhooks = [_webhook(one) for one in listed(secret)] or [_webhook("")]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("body is not UTF-8") from None
    plain = {str(k): str(v) for k, v in headers.items()}
    refusal = "no signature matched"
    for webhook in webhooks:
        try:
            webhook.verify(text, plain, json_parse=False)
            return
        except WebhookVerificationError as exc:
            refusal = str(exc)
        except (ValueError, binascii.Error):  # a malformed webhook-signature header
            raise SignatureError("malformed webhook-signature header") from None
    raise SignatureError(refusal)


@functools.lru_cache(maxsize=16)
def _webhook(secret: str) -> Webhook:
    if not secret:
        raise ValueError("the event signing secret is empty")
    try:
        return Webhook(secret)
    except (ValueError, binascii.Error, EmptyWebhookSecretError) as exc:
        raise ValueError(f"the event signing secret is not whsec_<base64>: {exc}") from None


def parse(body: bytes) -> dict[str, Any]:
    """The envelope in ``body``, checked against the envelope schema and its type's data schema."""
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"body is not JSON: {exc}") from None
    validate(envelope)
    assert isinstance(envelope, dict)
    return envelope


def validate(envelope: object) -> None:
    """Raise EnvelopeError naming the first problem (with its JSON path) in the envelope or its data."""
    try:
        check(ENVELOPE_SCHEMA, envelope, top="envelope")
        assert isinstance(envelope, dict)
        event_type = envelope["type"]
        try:
            validator(event_type)
        except FileNotFoundError:
            raise EnvelopeError(f"type: unknown event type {event_type!r}") from None
        check(event_type, envelope["data"], "data")
    except SchemaViolation as exc:
        raise EnvelopeError(str(exc)) from None
