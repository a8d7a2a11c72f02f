"""The chart lints strictly, renders with every value set and validates against Kubernetes schemas."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.chart.chart_support import CHART_DIR, VALUE_SETS, load_value_set, render_value_set, without_source

KUBE_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# Custom resources have no schema in kubernetes-validate; each one is pinned to its API version here
# and checked structurally by the policy tests.
CUSTOM_RESOURCES = {
    "ServiceMonitor": "monitoring.coreos.com/v1",
    "PrometheusRule": "monitoring.coreos.com/v1",
    "ScaledObject": "keda.sh/v1alpha1",
}
MISSING_DEPENDENCIES = "chart directory is missing these dependencies: nats,minio"


@pytest.fixture(scope="module")
def chart_without_dependencies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the chart without its optional subchart dependencies.

    The nats and minio archives cannot be fetched offline, and strict lint treats a declared but
    absent dependency as an error; everything else in the chart is linted unchanged.
    """
    target = tmp_path_factory.mktemp("chart") / "cad3d"
    shutil.copytree(CHART_DIR, target)
    metadata = yaml.safe_load((target / "Chart.yaml").read_text())
    assert {d["name"] for d in metadata.pop("dependencies")} == {"nats", "minio"}
    (target / "Chart.yaml").write_text(yaml.safe_dump(metadata, sort_keys=False))
    return target


def test_only_lint_finding_on_the_real_chart_is_the_unfetched_dependencies() -> None:
    report = helm.lint(str(CHART_DIR), strict=True, kube_version="v1.30.0")
    assert report["errors"] == [MISSING_DEPENDENCIES], report


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_strict_lint(chart_without_dependencies: Path, value_set: str) -> None:
    report = helm.lint(str(chart_without_dependencies), load_value_set(value_set), strict=True, kube_version="v1.30.0")
    findings = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and findings == [], report


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_values_pass_the_schema(value_set: str) -> None:
    helm.Chart.load(CHART_DIR).validate_schema(load_value_set(value_set))


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_manifest_validates(value_set: str, kube_version: str) -> None:
    manifests = render_value_set(value_set)
    assert manifests, "nothing rendered"
    failures: list[str] = []
    for manifest in manifests:
        kind = manifest["kind"]
        if kind in CUSTOM_RESOURCES:
            assert manifest["apiVersion"] == CUSTOM_RESOURCES[kind]
            continue
        try:
            kubernetes_validate.validate(without_source(manifest), kube_version, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as error:
            failures.append(f"{kind}/{manifest['metadata']['name']}: {getattr(error, 'message', error)}")
    assert failures == []


def test_value_sets_render_what_they_promise() -> None:
    def kinds(value_set: str) -> set[str]:
        return {m["kind"] for m in render_value_set(value_set)}

    def names(value_set: str, kind: str) -> set[str]:
        return {m["metadata"]["name"] for m in render_value_set(value_set) if m["kind"] == kind}

    assert {"ServiceMonitor", "PrometheusRule", "ScaledObject", "Ingress"} <= kinds("ha")
    assert "rel-cad3d-dashboard" in names("ha", "ConfigMap")
    assert "rel-cad3d-triton" not in names("cpu-only", "Deployment")
    assert "rel-cad3d-triton" in names("gpu", "Deployment")
    assert names("minimal", "Deployment") == {"rel-cad3d-gateway", "rel-cad3d-dxf"}
    assert "NetworkPolicy" not in kinds("minimal")


def render_error(values: dict[str, Any]) -> str:
    with pytest.raises(helm.HelmError) as caught:
        helm.Chart.load(CHART_DIR).render(values, name="rel", namespace="cad3d")
    return str(caught.value)


MINIO_CREDENTIALS = {"minio": {"rootUser": "cad3d", "rootPassword": "secret"}}


def test_bundled_minio_without_credentials_is_refused() -> None:
    assert "new random credentials on every upgrade" in render_error({})
    rendered = helm.Chart.load(CHART_DIR).render(MINIO_CREDENTIALS, name="rel", namespace="cad3d")
    assert any(name.endswith("deployment.yaml") for name in rendered)


def test_triton_backend_without_triton_is_refused() -> None:
    message = render_error({**MINIO_CREDENTIALS, "components": {"triton": {"enabled": False}}})
    assert "backend=triton needs components.triton.enabled" in message


def test_latest_tag_is_refused_by_schema_and_template(tmp_path: Path) -> None:
    assert "/image/tag" in render_error({"image": {"tag": "latest"}})
    # `helm install --skip-schema-validation` exists, so the template refuses "latest" by itself too.
    unchecked = tmp_path / "cad3d"
    shutil.copytree(CHART_DIR, unchecked)
    (unchecked / "values.schema.json").unlink()
    with pytest.raises(helm.HelmError) as caught:
        helm.Chart.load(unchecked).render(
            {**MINIO_CREDENTIALS, "image": {"tag": "latest"}}, name="rel", namespace="cad3d"
        )
    assert 'the tag "latest" is not allowed' in str(caught.value)


def test_external_endpoints_are_required_without_bundled_dependencies() -> None:
    assert "externalNats.url" in render_error({**MINIO_CREDENTIALS, "nats": {"enabled": False}})
    assert "objectStorage.endpoint" in render_error({"minio": {"enabled": False}})


def test_chart_managed_s3_secret_needs_credentials() -> None:
    message = render_error({**MINIO_CREDENTIALS, "objectStorage": {"endpoint": "s3.example.com:443"}})
    assert "accessKey and secretKey" in message


def test_keda_and_cpu_hpa_on_the_dispatchers_are_exclusive() -> None:
    message = render_error(
        {**MINIO_CREDENTIALS, "components": {"dispatcher": {"enabled": True, "keda": {"enabled": True}}}}
    )
    assert "keda.enabled replaces the CPU HPA" in message


def test_dispatchers_need_the_gateway() -> None:
    values = {**MINIO_CREDENTIALS, "components": {"gateway": {"enabled": False}, "dispatcher": {"enabled": True}}}
    assert "components.dispatcher needs components.gateway" in render_error(values)
