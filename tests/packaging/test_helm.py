"""The helm chart, rendered offline with the default values and the production values file: helm lint
passes strictly, the values match values.schema.json, and every manifest is valid Kubernetes (the
ServiceMonitor against the Prometheus Operator schema named below). Then what the chart promises: the
edge with an autoscaler and a disruption budget, probed on /readyz and /healthz; the worker on its own;
settings from a ConfigMap that pricing-edge accepts and secrets from a Secret; Redis external, or bundled
with AOF and noeviction."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import orjson
import pytest
import yaml

from pricing_edge.config import Settings
from tests.packaging.dockerfile import REPO

CHART = REPO / "helm" / "pricing-edge"
KUBERNETES = "1.30.0"  # the oldest release the chart supports with its API versions (HPA v2, PDB v1) and still served
SERVICE_MONITOR_SCHEMA = Path(__file__).with_name("servicemonitor.schema.json")
VALUES = {"default": None, "production": CHART / "values-production.yaml"}


def render(values: dict[str, Any] | None) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name="shop", namespace="commerce", is_install=True)
    return [doc for path, text in sorted(manifests.items()) if path.endswith(".yaml")
            for doc in yaml.safe_load_all(text) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.fixture(params=sorted(VALUES))
def values(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    path = VALUES[request.param]
    return yaml.safe_load(path.read_text()) if path else None


def test_helm_lint_passes_strictly_and_the_values_match_the_schema(values: dict[str, Any] | None) -> None:
    report = helm.lint(CHART, values, strict=True, kube_version=f"v{KUBERNETES}")
    assert report["errors"] == [] and [m for m in report["messages"] if m["severity"] >= 2] == []
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(values)


def test_every_rendered_manifest_is_valid_kubernetes(values: dict[str, Any] | None) -> None:
    service_monitor = orjson.loads(SERVICE_MONITOR_SCHEMA.read_bytes())
    docs = render(values)
    assert docs
    for doc in docs:
        if doc["apiVersion"] == "monitoring.coreos.com/v1":
            jsonschema.validate(doc, service_monitor)
        else:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_edge_scales_keeps_a_quorum_and_is_probed_where_the_app_answers(values: dict[str, Any] | None) -> None:
    docs = render(values)
    edge = by_kind(docs, "Deployment")["shop-pricing-edge-edge"]
    (container,) = edge["spec"]["template"]["spec"]["containers"]
    assert container["args"][:1] == ["serve"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert edge["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    hpa = by_kind(docs, "HorizontalPodAutoscaler")["shop-pricing-edge-edge"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "shop-pricing-edge-edge" and "replicas" not in edge["spec"]
    pdb = by_kind(docs, "PodDisruptionBudget")["shop-pricing-edge-edge"]
    assert pdb["spec"]["selector"]["matchLabels"] == edge["spec"]["selector"]["matchLabels"]
    assert 1 <= pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]


def test_the_worker_runs_on_its_own_with_the_same_settings(values: dict[str, Any] | None) -> None:
    deployments = by_kind(render(values), "Deployment")
    (edge,) = deployments["shop-pricing-edge-edge"]["spec"]["template"]["spec"]["containers"]
    (worker,) = deployments["shop-pricing-edge-worker"]["spec"]["template"]["spec"]["containers"]
    assert worker["args"][:1] == ["worker"]
    assert worker["envFrom"] == edge["envFrom"]
    assert deployments["shop-pricing-edge-worker"]["spec"]["selector"] != deployments["shop-pricing-edge-edge"]["spec"]["selector"]


def test_settings_come_from_a_config_map_pricing_edge_accepts_and_secrets_from_a_secret(
        values: dict[str, Any] | None) -> None:
    docs = render(values)
    (config,) = by_kind(docs, "ConfigMap").values()
    settings = Settings.from_env(config["data"])  # every plain setting the chart writes is one pricing-edge takes
    assert settings.redis_url or (values or {}).get("secrets", {}).get("existingSecret")
    assert settings.require_durable is True
    (edge,) = by_kind(docs, "Deployment")["shop-pricing-edge-edge"]["spec"]["template"]["spec"]["containers"]
    secret_name = next(source["secretRef"]["name"] for source in edge["envFrom"] if "secretRef" in source)
    assert not any(key.endswith(("_SECRET", "_TOKEN")) for key in config["data"])
    if values and values["secrets"]["existingSecret"]:
        assert secret_name == values["secrets"]["existingSecret"] and not by_kind(docs, "Secret")
    else:
        secret = by_kind(docs, "Secret")[secret_name]
        event_secret = Settings.from_env({"PRICING_EDGE_EVENT_SECRET": _b64decode(
            secret["data"]["PRICING_EDGE_EVENT_SECRET"])}).event_secret
        assert event_secret and event_secret.startswith("whsec_")


def test_the_default_bundles_a_durable_redis_and_production_uses_its_own() -> None:
    default = render(None)
    (redis,) = by_kind(default, "StatefulSet").values()
    args = redis["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--appendonly") + 1] == "yes" and args[args.index("--maxmemory-policy") + 1] == "noeviction"
    (config,) = by_kind(default, "ConfigMap").values()
    assert config["data"]["PRICING_EDGE_REDIS_URL"] == f"redis://{redis['metadata']['name']}:6379/0"
    production = render(yaml.safe_load(VALUES["production"].read_text()))
    assert by_kind(production, "StatefulSet") == {}
    monitors = by_kind(production, "ServiceMonitor")
    assert sorted(monitors) == ["shop-pricing-edge-edge", "shop-pricing-edge-worker"]
    assert all(m["spec"]["endpoints"][0]["path"] == "/metrics" for m in monitors.values())


@pytest.mark.parametrize(("change", "named"), [
    ({"config": {"PRICING_EDGE_EVENT_SECRET": "whsec_c2VjcmV0"}}, "config"),  # a secret in the ConfigMap
    ({"config": {"price_ttl": "60"}}, "price_ttl"),  # not a PRICING_EDGE_* variable
    ({"edge": {"autoscaling": {"maxReplicas": 0}}}, "maxReplicas"),
    ({"redis": {"url": "localhost:6379"}}, "url"),
])
def test_the_values_schema_refuses_a_bad_value(change: dict[str, Any], named: str) -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmError) as caught:
        chart.validate_schema(change)
    assert named in str(caught.value)


def _b64decode(text: str) -> str:
    import base64

    return base64.b64decode(text).decode()
