"""`pricing-edge serve` refuses what cannot work in production, with one clear line."""
import os
import subprocess
import sys


def run_serve(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_EDGE_")}
    return subprocess.run([sys.executable, "-m", "pricing_edge.cli", "serve", "--port", "9"], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_serve_without_redis_refuses_the_embedded_store() -> None:
    result = run_serve(PRICING_EDGE_EVENT_SECRET="whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")
    assert result.returncode != 0 and "PRICING_EDGE_REDIS_URL" in result.stderr + result.stdout


def test_serve_without_the_event_secret_refuses_to_start(redis_url: str) -> None:
    result = run_serve(PRICING_EDGE_REDIS_URL=redis_url)
    assert result.returncode != 0 and "PRICING_EDGE_EVENT_SECRET" in result.stderr + result.stdout
