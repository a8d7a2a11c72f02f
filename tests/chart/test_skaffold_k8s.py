"""skaffold.yaml and the k8s/ environment extras are consistent with the chart and the services."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonpatch
import jsonschema
import pytest
import yaml

from tests.chart.chart_support import (
    K8S_DIR,
    REPO_ROOT,
    by_kind,
    deep_merge,
    load_chart,
    load_value_set,
    render,
    render_value_set,
)

SKAFFOLD = REPO_ROOT / "skaffold.yaml"
SHAPE = Path(__file__).resolve().parent / "skaffold_v4_shape.schema.json"
SERVICES = sorted(p.parent.name for p in (REPO_ROOT / "services").glob("*/pyproject.toml"))


def skaffold_config() -> dict[str, Any]:
    return yaml.safe_load(SKAFFOLD.read_text())


def test_skaffold_matches_the_published_schema_shape() -> None:
    schema = json.loads(SHAPE.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(skaffold_config(), schema)


def test_shape_schema_rejects_a_misspelled_field() -> None:
    schema = json.loads(SHAPE.read_text())
    broken = skaffold_config()
    broken["deploy"]["helm"]["releases"][0]["valueFiles"] = ["k8s/values-dev.yaml"]
    with pytest.raises(jsonschema.ValidationError, match="valueFiles"):
        jsonschema.validate(broken, schema)


def test_one_artifact_per_service_built_from_its_dockerfile() -> None:
    artifacts = skaffold_config()["build"]["artifacts"]
    assert sorted(a["image"] for a in artifacts) == [f"cad3d-{s}" for s in SERVICES]
    for artifact in artifacts:
        service = artifact["image"].removeprefix("cad3d-")
        assert artifact["context"] == "."
        assert artifact["docker"]["dockerfile"] == f"services/{service}/Dockerfile"
        assert (REPO_ROOT / artifact["docker"]["dockerfile"]).is_file()


def release_values(profile: str | None) -> dict[str, Any]:
    """Values the skaffold helm release passes, with skaffold's image templates filled in."""
    config = skaffold_config()
    if profile:
        (chosen,) = [p for p in config["profiles"] if p["name"] == profile]
        config = jsonpatch.apply_patch(copy.deepcopy(config), chosen["patches"])
    (release,) = config["deploy"]["helm"]["releases"]
    assert (REPO_ROOT / release["chartPath"] / "Chart.yaml").is_file()
    values: dict[str, Any] = {}
    for values_file in release["valuesFiles"]:
        values = deep_merge(values, yaml.safe_load((REPO_ROOT / values_file).read_text()))
    for dotted, template in release["setValueTemplates"].items():
        assert template.startswith("{{.IMAGE_")
        sample = "localhost:5000/" + dotted.split(".")[1] if dotted.endswith("repository") else "abc1234"
        node = values
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = sample
    return values


@pytest.mark.parametrize("profile", [None, "cpu-only", "gpu"])
def test_skaffold_release_renders_with_the_built_images(profile: str | None) -> None:
    values = release_values(profile)
    load_chart().validate_schema(values)
    deployments = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in by_kind(render(values), "Deployment")
    }
    for service in SERVICES:
        image = deployments[service]["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image == f"localhost:5000/{service}:abc1234"
    assert ("triton" in deployments) is (profile != "cpu-only")


def test_profiles_layer_the_k8s_value_files() -> None:
    profiles = {p["name"]: p for p in skaffold_config()["profiles"]}
    assert set(profiles) == {"cpu-only", "gpu"}
    for name, profile in profiles.items():
        (patch,) = profile["patches"]
        assert patch["value"] == f"k8s/values-{name}.yaml"
        assert (REPO_ROOT / patch["value"]).is_file()


def test_kind_config_is_a_kind_cluster_with_an_ingress_node() -> None:
    config = yaml.safe_load((K8S_DIR / "kind-config.yaml").read_text())
    assert config["kind"] == "Cluster" and config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    roles = [n["role"] for n in config["nodes"]]
    assert roles.count("control-plane") == 1
    for node in config["nodes"]:
        assert node["image"].startswith("kindest/node:v1.3"), "the chart needs Kubernetes >= 1.30"
    ports = {m["hostPort"] for m in config["nodes"][0]["extraPortMappings"]}
    assert {80, 443} <= ports


def test_prometheus_adapter_serves_the_metric_the_triton_hpa_uses() -> None:
    adapter = yaml.safe_load((K8S_DIR / "prometheus-adapter-values.yaml").read_text())
    (hpa,) = [
        h
        for h in by_kind(render_value_set("gpu"), "HorizontalPodAutoscaler")
        if h["metadata"]["name"].endswith("triton")
    ]
    metric = hpa["spec"]["metrics"][0]["pods"]["metric"]["name"]
    rules = {r["name"]["as"]: r for r in adapter["rules"]["custom"]}
    assert metric in rules
    rule = rules[metric]
    assert "nv_inference_queue_duration_us" in rule["seriesQuery"]
    assert rule["resources"]["overrides"]["pod"]["resource"] == "pod"
    assert "<<.LabelMatchers>>" in rule["metricsQuery"] and "<<.GroupBy>>" in rule["metricsQuery"]


def test_k8s_holds_no_second_copy_of_the_manifests() -> None:
    for path in K8S_DIR.rglob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            kind = (document or {}).get("kind")
            assert kind in (None, "Cluster"), f"{path.name} holds a {kind}; manifests belong in the chart"


def test_dev_values_are_a_valid_value_set() -> None:
    load_chart().validate_schema(load_value_set("dev"))
