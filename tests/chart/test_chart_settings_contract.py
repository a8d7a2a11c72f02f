"""The environment the chart renders is exactly what each component's typed settings read.

The settings classes ignore unknown variables (extra="ignore"), so a misspelled name in the chart
would be silently dropped at run time; this test loads the real classes with the rendered
environment and fails on any variable that no field reads and on any value a field refuses.
"""

from __future__ import annotations

import importlib
import inspect
import os
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from tests.chart.chart_support import VALUE_SETS, by_kind, pod_spec, render_value_set

SETTINGS_MODULES = {
    "gateway": "cad3d_gateway.settings",
    "dispatcher": "cad3d_gateway.settings",
    "dxf": "cad3d_dxf.settings",
    "pdf": "cad3d_pdf.settings",
    "depth": "cad3d_depth.settings",
}
# Variables that are not settings: read by the runtime, not by the application.
RUNTIME_VARIABLES = {"TMPDIR"}


def settings_class(component: str) -> type[BaseSettings]:
    try:
        module = importlib.import_module(SETTINGS_MODULES[component])
    except ModuleNotFoundError:
        pytest.skip(f"{SETTINGS_MODULES[component]} does not exist yet")
    prefix = "CAD3D_GATEWAY_" if component == "dispatcher" else f"CAD3D_{component.upper()}_"
    candidates = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, BaseSettings) and cls.model_config.get("env_prefix") == prefix
    ]
    assert len(candidates) == 1, f"one settings class with prefix {prefix} expected in {module.__name__}"
    return candidates[0]


def rendered_environment(value_set: str, component: str) -> dict[str, str]:
    manifests = render_value_set(value_set)
    (deployment,) = [
        d
        for d in by_kind(manifests, "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    container = pod_spec(deployment)["containers"][0]
    config_maps = {m["metadata"]["name"]: m["data"] for m in by_kind(manifests, "ConfigMap")}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    for variable in container.get("env", []):
        # Secret references resolve at run time; a placeholder stands in for the secret value.
        env[variable["name"]] = variable.get("value", "from-a-secret")
    return {k: v for k, v in env.items() if k not in RUNTIME_VARIABLES}


def cases() -> list[Any]:
    found = []
    for value_set in sorted(VALUE_SETS):
        for deployment in by_kind(render_value_set(value_set), "Deployment"):
            component = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
            if component in SETTINGS_MODULES:
                found.append(pytest.param(value_set, component, id=f"{value_set}-{component}"))
    return found


@pytest.mark.parametrize(("value_set", "component"), cases())
def test_rendered_environment_matches_the_settings(
    value_set: str, component: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = settings_class(component)
    prefix = str(cls.model_config["env_prefix"])
    env = rendered_environment(value_set, component)
    fields = {prefix + name.upper() for name in cls.model_fields}
    unread = sorted(name for name in env if name not in fields)
    assert unread == [], f"{component}: no setting reads {unread}"
    for name in list(os.environ):
        if name.startswith("CAD3D_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = cls()
    for name in env:
        field = name.removeprefix(prefix).lower()
        if field in cls.model_fields:
            assert getattr(settings, field) is not None


def test_public_object_store_address_reaches_the_gateway_only() -> None:
    assert rendered_environment("ha", "gateway")["CAD3D_GATEWAY_S3_PUBLIC_URL"] == "https://files.example.com"
    assert not any(name.endswith("S3_PUBLIC_URL") for name in rendered_environment("ha", "dxf"))
    assert "CAD3D_GATEWAY_S3_PUBLIC_URL" not in rendered_environment("minimal", "gateway")
