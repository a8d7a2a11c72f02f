"""values.schema.json is strict: misspelled or unknown keys and bad values fail before rendering."""

from __future__ import annotations

import json
from typing import Any

import helm_python as helm
import pytest

from tests.chart.chart_support import CHART_DIR


def schema_error(values: dict[str, Any]) -> str:
    with pytest.raises(helm.HelmValuesError) as caught:
        helm.Chart.load(CHART_DIR).validate_schema(values)
    return str(caught.value)


@pytest.mark.parametrize(
    ("values", "offending"),
    [
        ({"components": {"dxf": {"replica": 3}}}, "replica"),
        ({"ingres": {"enabled": True}}, "ingres"),
        ({"components": {"gateway": {"autoscaling": {"maxReplica": 4}}}}, "maxReplica"),
        ({"components": {"triton": {"gpu": {"ammount": 2}}}}, "ammount"),
        ({"components": {"worker": {"enabled": True}}}, "worker"),
        ({"config": {"conversionTimeout": 30}}, "conversionTimeout"),
        ({"objectStorage": {"existingSecrets": "x"}}, "existingSecrets"),
    ],
)
def test_misspelled_key_is_rejected(values: dict[str, Any], offending: str) -> None:
    message = schema_error(values)
    assert "additional properties" in message and offending in message


@pytest.mark.parametrize(
    "values",
    [
        {"image": {"tag": "latest"}},
        {"components": {"dxf": {"image": {"repository": "x", "tag": "latest"}}}},
        {"components": {"depth": {"backend": "tensorflow"}}},
        {"config": {"logLevel": "LOUD"}},
        {"components": {"dxf": {"replicas": -1}}},
        {"components": {"gateway": {"image": {"repository": "x", "digest": "md5:abc"}}}},
        {"config": {"conversionTimeoutSeconds": "300"}},
        {"components": {"pdf": {"resources": {"requests": {"cpu": "lots"}, "limits": {}}}}},
    ],
)
def test_bad_value_is_rejected(values: dict[str, Any]) -> None:
    schema_error(values)


def test_every_object_in_the_schema_is_closed() -> None:
    """additionalProperties must be false everywhere except the documented free-form maps."""
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    free_form = {
        "nats",
        "minio",
        "global",
        "affinity",
        "podSecurityContext",
        "containerSecurityContext",
        "ingressControllerNamespaceSelector",
        "prometheusNamespaceSelector",
    }
    open_objects: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            is_open = node.get("type") == "object" and node.get("additionalProperties") is not False
            if is_open and "properties" in node and path.rsplit("/", 1)[-1] not in free_form:
                open_objects.append(path)
            for key, child in node.items():
                walk(child, f"{path}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{path}/{index}")

    walk(schema, "")
    assert schema["additionalProperties"] is False
    assert open_objects == []


SUBCHART_KEYS = {".nats", ".minio"}  # the official charts own and validate what is below these


def test_every_default_value_is_described() -> None:
    """Each key of values.yaml is in the schema with a description (the docs are generated from it)."""
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    chart = helm.Chart.load(CHART_DIR)
    undocumented: list[str] = []

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target = schema["definitions"][node["$ref"].rsplit("/", 1)[-1]]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def walk(values: Any, node: dict[str, Any], path: str) -> None:
        node = resolve(node)
        if not isinstance(values, dict) or "properties" not in node:
            return
        for key, value in values.items():
            child = node["properties"].get(key)
            if child is None:
                undocumented.append(f"{path}.{key} (missing)")
                continue
            if not resolve(child).get("description"):
                undocumented.append(f"{path}.{key}")
            if f"{path}.{key}" not in SUBCHART_KEYS:
                walk(value, child, f"{path}.{key}")

    walk(chart.values, schema, "")
    assert undocumented == []
