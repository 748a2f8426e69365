"""A process whose event loop a request can block outright (``/block?how=sleep|spin`` for two minutes), served
the way the commands serve: ``runtime.run`` (``serve``, ``worker``, ``demo``) or, with ``--workers N``,
uvicorn's supervisor with each child wrapped in ``ExitDeadlineOnShutdown`` (``serve --workers N``).

``python -m tests.support.blocked_loop PORT GRACE [--workers N]``; prints a line when the loop is blocked."""
from __future__ import annotations

import os
import sys
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from pricing_edge.runtime import ExitDeadlineOnShutdown, Grace, Served, run

BLOCKING = "blocking the event loop"
BLOCK_SECONDS = 120.0
GRACE_VARIABLE = "BLOCKED_LOOP_GRACE"


async def readyz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def block(request: Request) -> PlainTextResponse:
    print(BLOCKING, flush=True)
    end = time.monotonic() + BLOCK_SECONDS
    if request.query_params.get("how") == "sleep":
        time.sleep(BLOCK_SECONDS)
    while time.monotonic() < end:  # CPU-bound: the loop never gets control back
        pass
    return PlainTextResponse("done")


def blocking_app() -> Starlette:
    return Starlette(routes=[Route("/readyz", readyz), Route("/block", block)])


def supervised() -> ASGIApp:
    """One child of the supervisor, as ``pricing_edge.edge.main.supervised_app`` wraps the edge."""
    return ExitDeadlineOnShutdown(blocking_app(), Grace(float(os.environ[GRACE_VARIABLE])))


def main(argv: list[str]) -> None:
    port, grace = int(argv[0]), Grace(float(argv[1]))
    if "--workers" in argv:
        import uvicorn

        os.environ[GRACE_VARIABLE] = str(grace.seconds)
        uvicorn.run(f"{__name__}:supervised", factory=True, port=port, workers=int(argv[argv.index("--workers") + 1]),
                    log_level="warning", timeout_graceful_shutdown=max(1, round(grace.drain)))
    else:
        run([Served("blocked", blocking_app(), port)], grace=grace)


if __name__ == "__main__":
    main(sys.argv[1:])
