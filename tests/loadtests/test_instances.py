"""Connections pinned to edge processes (``instances.pin``), against ``uvicorn --workers 2`` — the workers
share one listening socket, as the edge's do — with the edge's own ``X-Pricing-Edge-Instance`` header."""
from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from loadtests import instances
from pricing_edge.ops.instance import HEADER, InstanceHeaderMiddleware
from tests.support.polling import wait_until
from tests.support.processes import cli_env, cli_process, free_port_block, sigterm_and_wait

ROOT = Path(__file__).resolve().parents[2]


def instance_app() -> ASGIApp:
    """Each answer names the process (the header) and the client's port (which socket carried it)."""
    async def echo(request: Request) -> Response:
        return JSONResponse({"port": request.client.port if request.client else None})

    routes = [Route("/healthz", echo), Route("/graphql", echo, methods=["POST"])]
    return InstanceHeaderMiddleware(Starlette(routes=routes))


def _seen(base_url: str, instances: set[str]) -> int:
    """How many workers have answered so far (a fresh connection each time: any worker may accept it)."""
    with contextlib.suppress(httpx.HTTPError):
        instances.add(httpx.get(base_url + "/healthz", timeout=2).headers[HEADER])
    return len(instances)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port_block(1)
    command = [sys.executable, "-m", "uvicorn", "--factory", f"{__name__}:instance_app", "--workers", "2",
               "--port", str(port), "--log-level", "warning"]
    log = tmp_path_factory.mktemp("workers") / "uvicorn.log"
    with cli_process([], cli_env({}), log, command=command, cwd=ROOT) as process:
        base_url = f"http://127.0.0.1:{port}"
        seen: set[str] = set()  # both workers up: the second may still be importing when the first answers
        wait_until(lambda: _seen(base_url, seen) == 2 or process.poll() is not None, timeout=60,
                   what="both uvicorn workers to answer")
        assert process.poll() is None, log.read_text()
        yield base_url
        sigterm_and_wait(process, 30)  # the supervisor stops its workers (a kill would orphan them)


def test_each_pinned_connection_stays_with_the_process_it_reached(two_workers: str) -> None:
    """Asked many times, each process answers over its own pinned sockets only: no reconnect, no stray."""
    async def go() -> tuple[list[str], dict[str, set[int]], set[str]]:
        pinned = await instances.pin(two_workers, processes=2, per_process=2)
        try:
            answers = await asyncio.gather(*(pinned.ask(instance, b"{}", {"content-type": "application/json"})
                                             for instance in pinned.instances for _ in range(20)))
        finally:
            await pinned.aclose()
        ports: dict[str, set[int]] = defaultdict(set)
        for answer in answers:
            ports[answer.headers[HEADER]].add(answer.json()["port"])
        return pinned.instances, ports, {answer.headers[HEADER] for answer in answers}

    processes, ports, answered = asyncio.run(go())
    assert len(processes) == 2 and answered == set(processes)
    assert all(1 <= len(ports[instance]) <= 2 for instance in processes)  # the two pinned sockets, none new
    assert not ports[processes[0]] & ports[processes[1]]
