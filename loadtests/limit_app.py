"""The limit baseline: a plain Starlette endpoint under the edge's server settings (uvicorn, N workers,
uvloop/httptools, access log off) returning the edge's own answers as pre-serialized bytes.

It reads the request body and looks the answer up by (``X-Bc-Customer-Id``, body): the least any
server must do to answer these requests. Nothing in the edge can be faster; the ratio to it is what
the edge's own work costs.

    python -m loadtests.limit_app --port 9000 --workers 2 --responses answers.json
"""
from __future__ import annotations

import argparse
import base64
import os
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

RESPONSES_ENV = "LOADTESTS_LIMIT_RESPONSES"
JSON = "application/json"


def load_answers(path: Path) -> dict[tuple[str, bytes], bytes]:
    """``[{"customer": "1" | "", "body": <request body>, "answer": <base64 of the answer bytes>}, ...]``"""
    entries = orjson.loads(path.read_bytes())
    return {(e["customer"], e["body"].encode()): base64.b64decode(e["answer"]) for e in entries}


def create_app(answers: dict[tuple[str, bytes], bytes]) -> Starlette:
    async def graphql(request: Request) -> Response:
        key = (request.headers.get("x-bc-customer-id", ""), await request.body())
        answer = answers.get(key)
        if answer is None:
            return Response(b'{"errors":[{"message":"not a request of the benchmark"}]}', 404, media_type=JSON)
        return Response(answer, media_type=JSON)

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type=JSON)

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)])


def app_from_env() -> Starlette:
    return create_app(load_answers(Path(os.environ[RESPONSES_ENV])))


def main() -> None:
    from pricing_edge.reuse_port import run_workers

    parser = argparse.ArgumentParser(prog="python -m loadtests.limit_app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--responses", required=True, help="the answers file the harness wrote")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    os.environ[RESPONSES_ENV] = str(Path(args.responses).resolve())
    # Exactly `pricing-edge serve`'s call (pricing_edge/cli.py: cmd_serve).
    run_workers("loadtests.limit_app:app_from_env", host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, access_log=False)


if __name__ == "__main__":
    main()
