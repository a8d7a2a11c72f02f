"""Render the cad3d chart offline (helm_python embeds Helm's Go SDK) for the chart tests."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "charts" / "cad3d"
K8S_DIR = REPO_ROOT / "k8s"
VALUES_DIR = Path(__file__).resolve().parent / "values"
RELEASE = "rel"
NAMESPACE = "cad3d"

# Each value set is a list of values files merged in order, like `helm -f a -f b`.
VALUE_SETS: dict[str, list[Path]] = {
    "defaults": [VALUES_DIR / "defaults.yaml"],
    "dev": [K8S_DIR / "values-dev.yaml"],
    "cpu-only": [K8S_DIR / "values-dev.yaml", K8S_DIR / "values-cpu-only.yaml"],
    "gpu": [VALUES_DIR / "defaults.yaml", K8S_DIR / "values-gpu.yaml"],
    "ha": [VALUES_DIR / "ha.yaml"],
    "minimal": [VALUES_DIR / "minimal.yaml"],
}

Manifest = dict[str, Any]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing for user values files: maps merge key by key, everything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_value_set(name: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for path in VALUE_SETS[name]:
        values = deep_merge(values, helm.values_from_yaml(path.read_text()) or {})
    return values


@functools.cache
def load_chart() -> helm.Chart:
    return helm.Chart.load(CHART_DIR)


def render_templates(values: dict[str, Any]) -> dict[str, str]:
    return load_chart().render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def render(values: dict[str, Any]) -> list[Manifest]:
    manifests: list[Manifest] = []
    for template, text in sorted(render_templates(values).items()):
        if template.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                document.setdefault("__template__", template)
                manifests.append(document)
    return manifests


@functools.cache
def render_value_set(name: str) -> tuple[Manifest, ...]:
    return tuple(render(load_value_set(name)))


def without_source(manifest: Manifest) -> Manifest:
    return {k: v for k, v in manifest.items() if k != "__template__"}


def by_kind(manifests: tuple[Manifest, ...] | list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def pod_spec(workload: Manifest) -> dict[str, Any]:
    if workload["kind"] == "Pod":
        return workload["spec"]
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: Manifest) -> dict[str, str]:
    if workload["kind"] == "Pod":
        return workload["metadata"].get("labels", {})
    return workload["spec"]["template"]["metadata"].get("labels", {})


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "Pod")


def workloads(manifests: tuple[Manifest, ...] | list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["kind"] in WORKLOAD_KINDS]
