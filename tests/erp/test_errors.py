"""Foreign failures map onto one hierarchy: transient (ErpUnavailable) or permanent (ErpRejected)."""
from __future__ import annotations

import httpx
import pytest

from pricing_edge.erp.errors import (
    ErpBadResponse,
    ErpError,
    ErpNotFound,
    ErpRejected,
    ErpThrottled,
    ErpUnavailable,
    from_httpx,
    from_status,
)

REQUEST = httpx.Request("GET", "http://erp.invalid/api/v1/stock")


@pytest.mark.parametrize(("status", "kind"), [
    (500, ErpUnavailable), (502, ErpUnavailable), (503, ErpUnavailable), (429, ErpThrottled),
    (408, ErpUnavailable), (400, ErpRejected), (401, ErpRejected), (403, ErpRejected), (404, ErpNotFound),
    (422, ErpRejected),
])
def test_statuses(status: int, kind: type[ErpError]) -> None:
    error = from_status(httpx.Response(status, json={"error": "why"}, request=REQUEST), erp="sap_s4")
    assert type(error) is kind and error.status == status and error.erp == "sap_s4"
    assert "why" in str(error) and "/api/v1/stock" in str(error)
    assert error.retryable is issubclass(kind, ErpUnavailable)


def test_transport_errors_are_transient() -> None:
    for exc in (httpx.ConnectError("refused", request=REQUEST), httpx.ReadTimeout("slow", request=REQUEST),
                httpx.RemoteProtocolError("eof", request=REQUEST)):
        assert isinstance(from_httpx(exc), ErpUnavailable)
    assert "timed out" in str(from_httpx(httpx.ConnectTimeout("x", request=REQUEST)))


def test_retry_after_seconds_and_bad_responses() -> None:
    error = from_status(httpx.Response(503, headers={"retry-after": "3"}, request=REQUEST))
    assert isinstance(error, ErpUnavailable) and error.retry_after == 3.0
    assert issubclass(ErpBadResponse, ErpUnavailable)


def test_a_throttle_keeps_its_retry_after_and_a_vendor_body_its_message() -> None:
    throttled = from_status(httpx.Response(429, headers={"retry-after": "30"}, request=REQUEST), erp="s4hana")
    assert isinstance(throttled, ErpThrottled) and throttled.retry_after == 30.0 and throttled.retryable
    sap = {"error": {"code": "V1/302", "message": {"lang": "en", "value": "Sold-to party 9 not maintained"}}}
    rejected = from_status(httpx.Response(400, json=sap, request=REQUEST), erp="s4hana")
    assert type(rejected) is ErpRejected and "V1/302: Sold-to party 9 not maintained" in str(rejected)
    assert not rejected.retryable
