"""Webhooks in the chart: the signing key comes from a Secret and the gateway may reach receivers."""

from __future__ import annotations

from tests.chart.chart_support import pod_spec, render_value_set


def gateway_objects(value_set: str) -> tuple[dict, dict]:
    manifests = render_value_set(value_set)
    deployment = next(m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"].endswith("gateway"))
    policy = next(m for m in manifests if m["kind"] == "NetworkPolicy" and m["metadata"]["name"].endswith("gateway"))
    return deployment, policy


def test_webhooks_on_wire_the_secret_and_the_egress() -> None:
    deployment, policy = gateway_objects("ha")
    env = {e["name"]: e for e in pod_spec(deployment)["containers"][0]["env"]}
    ref = env["CAD3D_GATEWAY_WEBHOOK_SECRET"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "cad3d-webhooks", "key": "webhook-secret"}
    ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}
    assert {443, 8443} <= ports
    webhook_rule = next(r for r in policy["spec"]["egress"] if {"port": 8443, "protocol": "TCP"} in r.get("ports", []))
    block = webhook_rule["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0" and "10.0.0.0/8" in block["except"]


def test_webhooks_off_by_default() -> None:
    deployment, policy = gateway_objects("defaults")
    env = {e["name"] for e in pod_spec(deployment)["containers"][0]["env"]}
    assert "CAD3D_GATEWAY_WEBHOOK_SECRET" not in env
    assert all("ipBlock" not in str(rule) for rule in policy["spec"]["egress"])
