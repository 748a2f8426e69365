"""A thin async OData V2 client for SAP Gateway: what the S/4HANA adapter and change source talk through.

- Logon: Basic (user, password) or OAuth 2.0 client credentials (a bearer token fetched from the
  token URL, renewed on expiry or on a 401); ``sap-client`` on every call.
- CSRF: a token fetched once per session (``X-CSRF-Token: Fetch``, session cookie kept) and sent on
  every change; a 403 ``x-csrf-token: Required`` refetches it and resends once — the change was
  refused, not made, so nothing is lost and nothing is posted twice.
- 429: waits ``Retry-After`` (up to ``max_throttle_wait``) and resends, reads and writes alike (a 429
  is a refusal); a longer wait is an :class:`ErpThrottled` for the caller to schedule.
- Reads follow ``__next`` server paging; ``batch_get`` sends many reads in one ``$batch``, and
  ``changeset`` sends changes that S/4 applies all or none.
- A write that times out or meets a 5xx is never resent: its outcome is unknown, and only a lookup
  by our reference can tell (the order flow does that).
"""
from __future__ import annotations

import asyncio
import email.parser
import email.policy
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import orjson

from pricing_edge.erp.errors import ErpBadResponse, ErpThrottled, from_httpx, from_status, vendor_message
from pricing_edge.erp.throttling import ATTEMPTS, DEFAULT_MAX_WAIT, retry_after
from pricing_edge.ops.tracing import traced_client

ODATA_PATH = "/sap/opu/odata/sap"
SAFE = "$,()'/=:"


@dataclass(frozen=True)
class Logon:
    """Basic (``user``/``password``) or OAuth client credentials (``token_url``, ``client_id``, ``client_secret``)."""

    user: str | None = None
    password: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None

    @property
    def oauth(self) -> bool:
        return bool(self.token_url)

    def problem(self) -> str | None:
        if self.oauth:
            return None if self.client_id and self.client_secret else \
                "OAuth needs PRICING_EDGE_S4_CLIENT_ID and PRICING_EDGE_S4_CLIENT_SECRET"
        return None if self.user and self.password is not None else \
            "set PRICING_EDGE_S4_USER and PRICING_EDGE_S4_PASSWORD (Basic) or PRICING_EDGE_S4_TOKEN_URL (OAuth)"


@dataclass(frozen=True)
class Answer:
    """One sub-response of a ``$batch``."""

    status: int
    body: Any
    headers: Mapping[str, str]


class ODataClient:
    def __init__(self, base_url: str, logon: Logon, *, sap_client: str | None = None, timeout: float = 5.0,
                 erp: str = "s4hana", max_throttle_wait: float = DEFAULT_MAX_WAIT,
                 client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.logon = logon
        self.sap_client = sap_client
        self.timeout = timeout
        self.erp = erp
        self.max_throttle_wait = max_throttle_wait
        self._owns = client is None
        auth = httpx.BasicAuth(logon.user or "", logon.password or "") if not logon.oauth else None
        self._client = client or traced_client(timeout=timeout)
        self._auth = auth
        self._token: tuple[str, float] | None = None  # (bearer, monotonic expiry)
        self._csrf: dict[str, str] = {}  # service → token
        self._lock = asyncio.Lock()

    def url(self, service: str, path: str = "") -> str:
        return f"{self.base_url}{ODATA_PATH}/{service}/{path}".rstrip("/") if path else \
            f"{self.base_url}{ODATA_PATH}/{service}/"

    def _params(self, params: Mapping[str, str] | None = None) -> dict[str, str]:
        merged = dict(params or {})
        if self.sap_client:
            merged["sap-client"] = self.sap_client
        return merged

    # --- logon -----------------------------------------------------------------------------------

    async def _bearer(self, renew: bool = False) -> str:
        async with self._lock:
            if self._token and not renew and self._token[1] > time.monotonic():
                return self._token[0]
            assert self.logon.token_url
            try:
                response = await self._client.post(
                    self.logon.token_url, data={"grant_type": "client_credentials"},
                    auth=httpx.BasicAuth(self.logon.client_id or "", self.logon.client_secret or ""),
                    timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise from_httpx(exc, erp=self.erp) from exc
            if not response.is_success:
                raise from_status(response, erp=self.erp)
            body = _json(response, self.erp)
            token = body.get("access_token") if isinstance(body, dict) else None
            if not isinstance(token, str):
                raise ErpBadResponse(f"{self.erp}: the token endpoint gave no access_token", erp=self.erp)
            lifetime = float(body.get("expires_in") or 300)
            self._token = (token, time.monotonic() + max(1.0, lifetime - 30))  # renew before it lapses
            return token

    async def _headers(self, extra: Mapping[str, str] | None = None, renew: bool = False) -> dict[str, str]:
        headers = {"accept": "application/json", **(extra or {})}
        if self.logon.oauth:
            headers["authorization"] = f"Bearer {await self._bearer(renew)}"
        return headers

    async def _send(self, method: str, url: str, *, params: Mapping[str, str] | None = None,
                    headers: Mapping[str, str] | None = None, content: bytes | None = None,
                    service: str | None = None) -> httpx.Response:
        """One call with logon, CSRF and throttling handled; the answer as it came (any status)."""
        changes = method not in ("GET", "HEAD")
        renew = False
        csrf_retried = throttle_waits = 0
        while True:
            extra = dict(headers or {})
            if changes and service is not None:
                extra["x-csrf-token"] = await self._csrf_token(service)
            request_headers = await self._headers(extra, renew)
            target = httpx.URL(url).copy_merge_params(self._params(params))  # keeps a __next link's own query
            try:
                response = await self._client.request(method, target, headers=request_headers,
                                                      content=content, auth=self._auth or httpx.USE_CLIENT_DEFAULT,
                                                      timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise from_httpx(exc, erp=self.erp) from exc
            if response.status_code == 401 and self.logon.oauth and not renew:
                renew = True  # an expired or revoked token: renew once; the call was refused, resend it
                continue
            if (response.status_code == 403 and service is not None and changes and not csrf_retried
                    and response.headers.get("x-csrf-token", "").lower() == "required"):
                csrf_retried += 1
                self._csrf.pop(service, None)
                continue
            if response.status_code == 429:
                wait = retry_after(response)
                if wait is not None and wait <= self.max_throttle_wait and throttle_waits < ATTEMPTS - 1:
                    throttle_waits += 1
                    await asyncio.sleep(wait)
                    continue
                raise ErpThrottled(f"{self.erp}: throttled on {method} {response.request.url.path}",
                                   erp=self.erp, status=429, retry_after=wait)
            return response

    async def _csrf_token(self, service: str) -> str:
        token = self._csrf.get(service)
        if token:
            return token
        response = await self._send("GET", self.url(service), headers={"x-csrf-token": "Fetch"})
        if not response.is_success:
            raise from_status(response, erp=self.erp)
        token = response.headers.get("x-csrf-token")
        if not token:
            raise ErpBadResponse(f"{self.erp}: {service} gave no CSRF token", erp=self.erp)
        self._csrf[service] = token
        return token

    # --- reads -----------------------------------------------------------------------------------

    async def get(self, service: str, path: str, params: Mapping[str, str] | None = None, *,
                  missing_ok: bool = False) -> Any:
        """The ``d`` of one read (an entity, or ``{"results": [...], "__next"?}``); None for a 404 if allowed."""
        response = await self._send("GET", self.url(service, path), params=params)
        if missing_ok and response.status_code == 404:
            return None
        return _d(self._checked(response), self.erp)

    async def pages(self, service: str, path: str, params: Mapping[str, str] | None = None) -> AsyncIterator[list[Any]]:
        """Every entity of a collection, page by page, following ``__next``."""
        url: str | None = self.url(service, path)
        query: Mapping[str, str] | None = params
        seen: set[str] = set()
        while url is not None:
            response = await self._send("GET", url, params=query)
            body = _d(self._checked(response), self.erp)
            yield _results(body, self.erp)
            following = body.get("__next") if isinstance(body, dict) else None
            if following is not None and (not isinstance(following, str) or following in seen):
                raise ErpBadResponse(f"{self.erp}: bad __next link {following!r}", erp=self.erp)
            if following:
                seen.add(following)
            url, query = following, None

    async def all(self, service: str, path: str, params: Mapping[str, str] | None = None) -> list[Any]:
        return [item async for page in self.pages(service, path, params) for item in page]

    async def batch_get(self, service: str, reads: Sequence[tuple[str, Mapping[str, str]]]) -> list[list[Any]]:
        """Many collection reads in one ``$batch``; each one's entities (its ``__next`` pages followed)."""
        if not reads:
            return []
        parts = [_request_part("GET", _target(path, self._params(params))) for path, params in reads]
        answers = await self._batch(service, parts)
        if len(answers) != len(reads):
            raise ErpBadResponse(f"{self.erp}: $batch answered {len(answers)} parts for {len(reads)}", erp=self.erp)
        results = []
        for answer in answers:
            if answer.status >= 400:
                raise self._part_error(answer, "GET")
            body = answer.body.get("d") if isinstance(answer.body, dict) else None
            items = _results(body, self.erp)
            following = body.get("__next") if isinstance(body, dict) else None
            if following:
                async for page in self._follow(following):
                    items.extend(page)
            results.append(items)
        return results

    async def _follow(self, url: str) -> AsyncIterator[list[Any]]:
        next_url: str | None = url
        while next_url:
            response = await self._send("GET", next_url)
            body = _d(self._checked(response), self.erp)
            yield _results(body, self.erp)
            next_url = body.get("__next") if isinstance(body, dict) else None

    # --- writes ----------------------------------------------------------------------------------

    async def create(self, service: str, path: str, body: Mapping[str, Any]) -> httpx.Response:
        """POST (a deep insert); the answer as it came, for the caller to read its vendor error."""
        return await self._send("POST", self.url(service, path), content=orjson.dumps(body),
                                headers={"content-type": "application/json"}, service=service)

    async def changeset(self, service: str, operations: Sequence[tuple[str, str, Mapping[str, Any] | None,
                                                                          Mapping[str, str]]]) -> list[Answer]:
        """Changes S/4 applies all or none: (method, path, body, headers) each. A failed changeset
        answers with its one error, which is raised."""
        boundary = f"changeset_{uuid.uuid4()}"
        inner = [_request_part(method, _target(path, {}), body, headers) for method, path, body, headers in operations]
        changeset = (f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n".encode()
                     + _compose(boundary, inner))
        answers = await self._batch(service, [changeset])
        if len(answers) == 1 and answers[0].status >= 400:
            raise self._part_error(answers[0], "changeset")
        if len(answers) != len(operations):
            raise ErpBadResponse(f"{self.erp}: changeset answered {len(answers)} parts for {len(operations)}",
                                 erp=self.erp)
        return answers

    async def _batch(self, service: str, parts: list[bytes]) -> list[Answer]:
        boundary = f"batch_{uuid.uuid4()}"
        body = b"".join(f"--{boundary}\r\n".encode() + part + b"\r\n" for part in parts)
        body += f"--{boundary}--\r\n".encode()
        response = await self._send("POST", self.url(service, "$batch"), content=body, service=service,
                                    headers={"content-type": f"multipart/mixed; boundary={boundary}"})
        if response.status_code != 202 and not response.is_success:
            raise from_status(response, erp=self.erp)
        try:
            return _answers(response.headers.get("content-type", ""), response.content)
        except (ValueError, IndexError) as exc:
            raise ErpBadResponse(f"{self.erp}: unreadable $batch answer: {exc}", erp=self.erp) from exc

    def _part_error(self, answer: Answer, what: str) -> Exception:
        message = vendor_message(answer.body) or str(answer.body)[:200]
        text = f"{self.erp}: HTTP {answer.status} in $batch {what}: {message}"
        fake = httpx.Response(answer.status, headers=dict(answer.headers), content=orjson.dumps(answer.body),
                              request=httpx.Request("POST", self.base_url))
        error = from_status(fake, erp=self.erp)
        error.args = (text,)
        return error

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if not response.is_success:
            raise from_status(response, erp=self.erp)
        return response

    async def aclose(self) -> None:
        if self._owns:
            await self._client.aclose()


# --- wire helpers ------------------------------------------------------------------------------

def _json(response: httpx.Response, erp: str) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise ErpBadResponse(f"{erp}: {response.request.url.path} answered {response.status_code} with a non-JSON "
                             f"body", erp=erp, status=response.status_code) from exc


def _d(response: httpx.Response, erp: str) -> Any:
    body = _json(response, erp)
    if not isinstance(body, dict) or "d" not in body:
        raise ErpBadResponse(f"{erp}: {response.request.url.path}: no OData 'd' envelope", erp=erp)
    return body["d"]


def _results(body: Any, erp: str) -> list[Any]:
    items = body.get("results") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ErpBadResponse(f"{erp}: an OData collection without results", erp=erp)
    return items


def _target(path: str, params: Mapping[str, str]) -> str:
    return f"{path}?{urlencode(params, quote_via=quote, safe=SAFE)}" if params else path


def _request_part(method: str, target: str, body: Mapping[str, Any] | None = None,
                  headers: Mapping[str, str] | None = None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Accept: application/json"]
    payload = b""
    if body is not None:
        payload = orjson.dumps(body)
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    http = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
    return b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" + http


def _compose(boundary: str, parts: list[bytes]) -> bytes:
    return b"".join(f"--{boundary}\r\n".encode() + part + b"\r\n" for part in parts) + f"--{boundary}--\r\n".encode()


def _answers(content_type: str, body: bytes) -> list[Answer]:
    """The sub-responses of a multipart/mixed ``$batch`` answer, changesets flattened in order."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValueError("not a multipart answer")
    answers: list[Answer] = []
    for part in message.iter_parts():
        if part.is_multipart():
            for inner in part.iter_parts():
                answers.append(_answer(inner.get_payload(decode=True)))
        else:
            answers.append(_answer(part.get_payload(decode=True)))
    return answers


def _answer(payload: object) -> Answer:
    raw = payload if isinstance(payload, bytes) else b""
    head, _, content = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    lines = head.decode(errors="replace").strip().split("\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    content = content.strip()
    try:
        parsed: Any = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        parsed = content.decode(errors="replace")
    return Answer(status, parsed, headers)

