"""Envelope: CloudEvents structured JSON signed per Standard Webhooks; verify refuses anything not exactly signed."""
from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from cloudevents.core.formats.json import JSONFormat
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from pricing_edge.domain import events
from pricing_edge.intake import envelope
from pricing_edge.intake.envelope import EnvelopeError, SignatureError

DATA = {"company_id": 4, "credit_limit": "1000.00", "balance": "12.50", "status": "hold", "version": 9}


@pytest.fixture
def secret() -> str:
    return envelope.generate_secret()


def make(secret: str, **kwargs: object) -> envelope.SignedEvent:
    return envelope.signed_event(events.CREDIT_CHANGED, DATA, source="urn:test:erp", secret=secret,
                                 subject="credit:4", **kwargs)  # type: ignore[arg-type]


def test_generate_secret_is_whsec_base64() -> None:
    first, second = envelope.generate_secret(), envelope.generate_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_envelope_is_cloudevents_structured_json(secret: str) -> None:
    event = make(secret)
    body = orjson.loads(event.body)
    assert set(body) == {"specversion", "id", "source", "type", "time", "datacontenttype", "subject", "data"}
    assert body["specversion"] == "1.0" and body["datacontenttype"] == "application/json"
    assert body["data"] == DATA and body["id"] == event.id and body["time"].endswith("Z")
    parsed = JSONFormat().read(None, event.body)  # the SDK reads it back as a v1.0 event
    assert parsed.get_id() == event.id and parsed.get_type() == events.CREDIT_CHANGED
    assert parsed.get_data() == DATA
    assert envelope.parse(event.body) == body


def test_sign_verify_round_trip(secret: str) -> None:
    event = make(secret)
    assert event.headers["webhook-id"] == event.id
    assert event.headers["webhook-signature"].startswith("v1,")
    assert event.headers["content-type"].startswith("application/cloudevents+json")
    envelope.verify(event.headers, event.body, secret)
    assert Webhook(secret).verify(event.body, event.headers) == orjson.loads(event.body)  # the library agrees
    envelope.verify({k.upper(): v for k, v in event.headers.items()}, event.body, secret)  # header case


def test_a_library_signed_message_verifies(secret: str) -> None:
    body = envelope.encode(envelope.build_envelope(events.CREDIT_CHANGED, DATA, source="urn:x"))
    now = datetime.now(UTC)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(secret).sign("msg_1", now, body.decode())}
    envelope.verify(headers, body, secret)


def test_tampered_body_is_rejected(secret: str) -> None:
    event = make(secret)
    tampered = event.body.replace(b'"12.50"', b'"0.00"')
    assert tampered != event.body
    with pytest.raises(SignatureError):
        envelope.verify(event.headers, tampered, secret)


def test_wrong_secret_is_rejected(secret: str) -> None:
    event = make(secret)
    with pytest.raises(SignatureError):
        envelope.verify(event.headers, event.body, envelope.generate_secret())


@pytest.mark.parametrize("age", [timedelta(minutes=-6), timedelta(minutes=6), timedelta(days=-1)])
def test_stale_or_future_timestamp_is_rejected(secret: str, age: timedelta) -> None:
    event = make(secret, timestamp=datetime.now(UTC) + age)
    with pytest.raises(SignatureError, match="too"):
        envelope.verify(event.headers, event.body, secret)


def test_a_replayed_signature_with_a_new_timestamp_is_rejected(secret: str) -> None:
    event = make(secret)
    headers = dict(event.headers) | {"webhook-timestamp": str(int(datetime.now(UTC).timestamp()) + 1)}
    with pytest.raises(SignatureError):
        envelope.verify(headers, event.body, secret)


@pytest.mark.parametrize("spoil", [
    lambda h: h.pop("webhook-signature"),
    lambda h: h.pop("webhook-id"),
    lambda h: h.pop("webhook-timestamp"),
    lambda h: h.update({"webhook-signature": "garbage"}),
    lambda h: h.update({"webhook-signature": "v1,not-base64!!"}),
    lambda h: h.update({"webhook-timestamp": "soon"}),
    lambda h: h.update({"webhook-id": "another-id"}),
])
def test_missing_or_malformed_headers_are_rejected(secret: str, spoil: object) -> None:
    event = make(secret)
    headers = dict(event.headers)
    spoil(headers)  # type: ignore[operator]
    with pytest.raises(SignatureError):
        envelope.verify(headers, event.body, secret)


def test_non_utf8_body_is_rejected(secret: str) -> None:
    event = make(secret)
    with pytest.raises(SignatureError):
        envelope.verify(event.headers, b"\xff\xfe" + event.body, secret)


def test_a_bad_secret_is_a_configuration_error() -> None:
    event = make(envelope.generate_secret())
    for bad in ("", "whsec_"):
        with pytest.raises(ValueError):
            envelope.verify(event.headers, event.body, bad)


def test_resign_keeps_id_and_bytes_with_a_fresh_timestamp(secret: str) -> None:
    old = make(secret, timestamp=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(SignatureError):
        envelope.verify(old.headers, old.body, secret)
    fresh = envelope.resign(old, secret)
    assert (fresh.id, fresh.body) == (old.id, old.body)
    envelope.verify(fresh.headers, fresh.body, secret)


def test_unsigned_without_a_secret() -> None:
    event = envelope.signed_event(events.CREDIT_CHANGED, DATA, source="urn:x", secret=None)
    assert "webhook-signature" not in event.headers


def test_parse_names_the_problem(secret: str) -> None:
    with pytest.raises(EnvelopeError, match="not JSON"):
        envelope.parse(b"{nope")
    with pytest.raises(EnvelopeError, match="envelope"):
        envelope.parse(b"[1, 2]")
    bad = orjson.loads(make(secret).body)
    bad["data"]["balance"] = 12.5
    with pytest.raises(EnvelopeError, match=r"^data\.balance"):
        envelope.parse(orjson.dumps(bad))
    missing = orjson.loads(make(secret).body)
    del missing["time"]
    with pytest.raises(EnvelopeError, match="^time: required field is missing"):
        envelope.parse(orjson.dumps(missing))


def test_build_refuses_naive_times_and_bad_attributes() -> None:
    with pytest.raises(EnvelopeError):
        envelope.build_envelope(events.CREDIT_CHANGED, DATA, source="")
    with pytest.raises(EnvelopeError):
        envelope.build_envelope(events.CREDIT_CHANGED, DATA, source="urn:x", time=datetime(2024, 1, 1))
    fixed = envelope.build_envelope(events.CREDIT_CHANGED, DATA, source="urn:x", event_id="evt_1",
                                    time=datetime(2024, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC))
    assert fixed["id"] == "evt_1" and fixed["time"] == "2024-01-02T03:04:05.678Z"
    with pytest.raises(WebhookVerificationError):  # sanity: the library itself refuses stale messages
        Webhook(envelope.generate_secret()).verify("{}", {"webhook-id": "a", "webhook-timestamp": "1",
                                                         "webhook-signature": "v1,AAAA"})
