"""CPU per cached answer, in process: the edge's ASGI app against the limit app's (``loadtests/limit_app.py``)
for the same plp requests, with no server and no socket between (uvicorn's and the socket's share is the same
for both, and is left out). On a shared machine this is the steady figure to compare commits by: CPU time of
this process only, not latency. The simulators come from ``pricing-edge demo`` on free ports (its own edge is
not used); the edge under test is built here, on the embedded store, as ``pricing-edge serve`` builds it.

    python -m loadtests.hit_cpu [--requests 20000] [--profile profile.txt]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

from loadtests.limit_app import create_app as limit_app
from loadtests.scenarios import Catalog, Request
from pricing_edge.config import Settings
from pricing_edge.demo import demo_settings, edge_app
from pricing_edge.ops.tracing import configure_tracing
from pricing_edge.runtime import free_port_block
from pricing_edge.sim.fixtures import DemoLayout

START_SECONDS = 60.0


async def call(app: ASGIApp, request: Request) -> tuple[int, bytes]:
    """One POST /graphql straight into ``app``: its status and body."""
    return await post(app, "/graphql", request.body, request.headers)


async def post(app: ASGIApp, path: str, body: bytes, sent_headers: Mapping[str, str]) -> tuple[int, bytes]:
    """One POST of ``body`` to ``path`` straight into ``app``: its status and body."""
    headers = [(k.lower().encode(), v.encode()) for k, v in sent_headers.items()]
    headers.append((b"content-length", str(len(body)).encode()))
    scope: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
                             "query_string": b"", "headers": headers, "client": ("127.0.0.1", 40000),
                             "server": ("127.0.0.1", 8080), "state": {}}
    sent = False
    status, chunks = 0, []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def measure(app: ASGIApp, requests: Sequence[Request], count: int,
                  profile: cProfile.Profile | None = None) -> float:
    """CPU microseconds per request over ``count`` requests cycling ``requests``."""
    started = time.process_time()
    if profile is not None:
        profile.enable()
    for i in range(count):
        status, _ = await call(app, requests[i % len(requests)])
        if status != 200:
            raise SystemExit(f"request {i} answered {status}")
    if profile is not None:
        profile.disable()
    return (time.process_time() - started) * 1e6 / count


async def run(args: argparse.Namespace, layout: DemoLayout) -> None:
    settings = demo_settings(Settings.from_env({}, warm_at_start=False), layout)
    requests = Catalog(settings, small=True).plp_requests()
    configure_tracing("pricing-edge-edge")  # as `serve` does: the provider is set, nothing exported
    edge = edge_app(settings)
    async with edge.router.lifespan_context(edge):
        answers: dict[tuple[str, bytes], bytes] = {}
        for _ in range(3):  # computed, then kept: every later call is a hit
            for request in requests:
                status, body = await call(edge, request)
                if status != 200:
                    raise SystemExit(f"warming: {status} {body[:200]!r}")
                answers[request.key()] = body
            await asyncio.sleep(0.2)
        limit = limit_app(answers)
        await measure(edge, requests, 1000)
        await measure(limit, requests, 1000)
        figures: dict[str, list[float]] = {"edge": [], "limit": []}
        for _ in range(args.rounds):  # interleaved: a busy neighbour costs both alike
            figures["edge"].append(await measure(edge, requests, args.requests))
            figures["limit"].append(await measure(limit, requests, args.requests))
        edge_us, limit_us = min(figures["edge"]), min(figures["limit"])
        print(f"CPU per cached plp answer (in process, best of {args.rounds} × {args.requests}): "
              f"edge {edge_us:.1f} µs, limit {limit_us:.1f} µs, edge − limit {edge_us - limit_us:.1f} µs")
        print(f"  rounds: edge {[round(x, 1) for x in figures['edge']]}, limit {[round(x, 1) for x in figures['limit']]}")
        if args.profile:
            profile = cProfile.Profile()
            await measure(edge, requests, args.requests, profile)
            write_profile(profile, args.profile)
            print(f"  profile of the edge: {args.profile}")


def write_profile(profile: cProfile.Profile, path: Path) -> None:
    """The 40 functions with the most time of their own, then the 60 with the most in all."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(60)
    path.write_text(out.getvalue())


@contextlib.contextmanager
def simulators() -> Iterator[DemoLayout]:
    """``pricing-edge demo`` on free ports, in a process of its own, for its simulators (its edge is not used)."""
    layout = DemoLayout(free_port_block(4))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}
    demo = subprocess.Popen([sys.executable, "-m", "pricing_edge.cli", "demo", "--port", str(layout.port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if httpx.get(layout.edge_url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or demo.poll() is not None:
                raise SystemExit("the demo (the simulators) did not start")
            time.sleep(0.2)
        yield layout
    finally:
        demo.terminate()
        try:
            demo.wait(15)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.hit_cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000, help="requests per round (default 20000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each app, interleaved (default 3)")
    parser.add_argument("--profile", type=Path, default=None, help="write a cProfile of the edge's hits here")
    serve_and_run(run, parser.parse_args())


def serve_and_run(run: Callable[[argparse.Namespace, DemoLayout], Coroutine[Any, Any, None]],
                  args: argparse.Namespace) -> None:
    """``run`` against the demo's simulators, stopped after."""
    with simulators() as layout:
        asyncio.run(run(args, layout))


def tool_main(module: str, doc: str | None, run: Callable[[argparse.Namespace, DemoLayout], Coroutine[Any, Any, None]],
              count: tuple[str, int, str], profiled: str) -> None:
    """A CPU tool's command line — ``--<count>`` (name, default, help) and ``--profile`` — then ``run`` against the
    demo's simulators."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    name, default, text = count
    parser.add_argument(f"--{name}", type=int, default=default, help=text)
    parser.add_argument("--profile", type=Path, default=None, help=f"write a cProfile of {profiled}")
    serve_and_run(run, parser.parse_args())


if __name__ == "__main__":
    main()
