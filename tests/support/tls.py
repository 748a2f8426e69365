"""One TLS context for every HTTP client the test process makes.

httpx builds a new ``ssl.SSLContext`` for each client, loading certifi's CA bundle each time: ~25 ms of CPU
per ``httpx.get``/``post`` and per client the edge, worker and simulators open. The suite makes tens of
thousands of such calls to plain-HTTP servers on 127.0.0.1, where the context is never used; the default
context is the same every time, so the test process builds it once (``verify=<context>`` is httpx's own way
to pass one). Only the default case is shared: a client asking for anything else still gets its own."""
from __future__ import annotations

import functools
import os
import ssl
from typing import Any

import certifi
import httpx._transports.default as transports

_create = transports.create_ssl_context


@functools.cache
def _default_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def _create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
    if verify is True and cert is None and not (trust_env and (os.environ.get("SSL_CERT_FILE")
                                                               or os.environ.get("SSL_CERT_DIR"))):
        return _create(verify=_default_context(), cert=None, trust_env=trust_env)
    return _create(verify=verify, cert=cert, trust_env=trust_env)


def share_the_default_tls_context() -> None:
    transports.create_ssl_context = _create_ssl_context
