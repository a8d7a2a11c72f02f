"""Evaluate rendered NetworkPolicies the way a CNI does, for pods of one namespace.

Only what the chart uses is modelled: podSelector peers in the release namespace, namespaceSelector
peers (treated as other namespaces), named and numbered ports. A connection src -> dst:port is
allowed when some policy selecting dst admits it on ingress and some policy selecting src admits it
on egress (or the side is selected by no policy at all).
"""

from __future__ import annotations

from typing import Any

Manifest = dict[str, Any]


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def policies_selecting(policies: list[Manifest], labels: dict[str, str], direction: str) -> list[Manifest]:
    return [
        p
        for p in policies
        if direction in p["spec"].get("policyTypes", ["Ingress"])
        and selector_matches(p["spec"].get("podSelector") or {}, labels)
    ]


def port_matches(rule_ports: list[dict[str, Any]] | None, port: int, port_names: dict[str, int]) -> bool:
    if not rule_ports:
        return True
    for rule_port in rule_ports:
        wanted = rule_port.get("port")
        if wanted is None or wanted == port or port_names.get(str(wanted)) == port:
            return True
    return False


def peer_matches_pod(peers: list[dict[str, Any]] | None, labels: dict[str, str]) -> bool:
    """A same-namespace pod matches a podSelector-only peer; an empty/absent peer list matches all."""
    if not peers:
        return True
    return any(
        "podSelector" in peer and "namespaceSelector" not in peer and selector_matches(peer["podSelector"], labels)
        for peer in peers
    )


def allowed(
    policies: list[Manifest],
    src_labels: dict[str, str],
    dst_labels: dict[str, str],
    port: int,
    dst_port_names: dict[str, int],
) -> bool:
    ingress_policies = policies_selecting(policies, dst_labels, "Ingress")
    ingress_ok = not ingress_policies or any(
        peer_matches_pod(rule.get("from"), src_labels) and port_matches(rule.get("ports"), port, dst_port_names)
        for policy in ingress_policies
        for rule in policy["spec"].get("ingress") or []
    )
    egress_policies = policies_selecting(policies, src_labels, "Egress")
    egress_ok = not egress_policies or any(
        peer_matches_pod(rule.get("to"), dst_labels) and port_matches(rule.get("ports"), port, dst_port_names)
        for policy in egress_policies
        for rule in policy["spec"].get("egress") or []
    )
    return ingress_ok and egress_ok


def egress_port_open(policies: list[Manifest], src_labels: dict[str, str], port: int) -> bool:
    """Whether src may reach *something* on port (any peer), e.g. DNS or an external endpoint."""
    egress_policies = policies_selecting(policies, src_labels, "Egress")
    return not egress_policies or any(
        port_matches(rule.get("ports"), port, {})
        for policy in egress_policies
        for rule in policy["spec"].get("egress") or []
    )
