"""Foreign failures map onto one hierarchy: transient (ErpUnavailable) or permanent (ErpRejected)."""
from __future__ import annotations

import httpx
import pytest

from pricing_edge.erp.errors import ErpBadResponse, ErpError, ErpRejected, ErpUnavailable, from_httpx, from_status

REQUEST = httpx.Request("GET", "http://erp.invalid/api/v1/stock")


@pytest.mark.parametrize(("status", "kind"), [
    (500, ErpUnavailable), (502, ErpUnavailable), (503, ErpUnavailable), (429, ErpUnavailable),
    (408, ErpUnavailable), (400, ErpRejected), (401, ErpRejected), (403, ErpRejected), (404, ErpRejected),
    (422, ErpRejected),
])
def test_statuses(status: int, kind: type[ErpError]) -> None:
    error = from_status(httpx.Response(status, json={"error": "why"}, request=REQUEST), erp="sap_s4")
    assert type(error) is kind and error.status == status and error.erp == "sap_s4"
    assert "why" in str(error) and "/api/v1/stock" in str(error)
    assert error.retryable is (kind is ErpUnavailable)


def test_transport_errors_are_transient() -> None:
    for exc in (httpx.ConnectError("refused", request=REQUEST), httpx.ReadTimeout("slow", request=REQUEST),
                httpx.RemoteProtocolError("eof", request=REQUEST)):
        assert isinstance(from_httpx(exc), ErpUnavailable)
    assert "timed out" in str(from_httpx(httpx.ConnectTimeout("x", request=REQUEST)))


def test_retry_after_seconds_and_bad_responses() -> None:
    error = from_status(httpx.Response(503, headers={"retry-after": "3"}, request=REQUEST))
    assert isinstance(error, ErpUnavailable) and error.retry_after == 3.0
    assert issubclass(ErpBadResponse, ErpUnavailable)
