"""docs/operations.md, the alerts and the dashboard stay in step with the chart."""

from __future__ import annotations

import json
import re

import pytest

from tests.chart.chart_support import CHART_DIR, REPO_ROOT, by_kind, load_value_set, render_templates, render_value_set
from tests.chart.config_reference import main as config_reference_main

DOC = REPO_ROOT / "docs" / "operations.md"


def heading_anchors() -> set[str]:
    """GitHub-style anchors of the page's headings."""
    anchors = set()
    for line in DOC.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return anchors


def alert_rules() -> list[dict[str, object]]:
    (rule,) = by_kind(render_value_set("ha"), "PrometheusRule")
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def test_configuration_reference_is_current() -> None:
    assert config_reference_main(["--check"]) == 0


def test_every_alert_links_to_its_runbook_section() -> None:
    anchors = heading_anchors()
    rules = alert_rules()
    assert len(rules) >= 8
    for rule in rules:
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        url = annotations["runbook_url"]
        assert url.startswith("https://") and "docs/operations.md#" in url
        assert url.rsplit("#", 1)[1] in anchors, f"{rule['alert']}: no runbook section"
        assert annotations["summary"] and annotations["description"]
        assert rule["labels"]["severity"] in ("critical", "warning")  # type: ignore[index]


def test_alert_expressions_select_this_release() -> None:
    for rule in alert_rules():
        expression = str(rule["expr"])
        assert 'namespace="cad3d"' in expression, rule["alert"]
        assert expression.count("(") == expression.count(")"), rule["alert"]


def test_documented_alerts_exist() -> None:
    names = {str(rule["alert"]) for rule in alert_rules()}
    documented = {line[4:].strip() for line in DOC.read_text().splitlines() if line.startswith("### Cad3d")}
    assert documented == names


def test_dashboard_is_valid_grafana_json_with_queries() -> None:
    dashboard = json.loads((CHART_DIR / "files" / "dashboard.json").read_text())
    assert dashboard["uid"] and dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].count("(") == target["expr"].count(")")
    (config_map,) = [m for m in by_kind(render_value_set("ha"), "ConfigMap") if "cad3d.json" in m.get("data", {})]
    assert json.loads(config_map["data"]["cad3d.json"]) == dashboard
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"


@pytest.mark.parametrize("section", ["Install", "Upgrade", "Rollback", "Zero-downtime rollout", "Backup and restore"])
def test_operations_guide_has_the_sections_sres_need(section: str) -> None:
    assert f"## {section}" in DOC.read_text()


def notes(value_set: str) -> str:
    return render_templates(load_value_set(value_set))["cad3d/templates/NOTES.txt"]


def test_notes_tell_what_was_installed_and_what_to_do_next() -> None:
    ha, minimal, dev = notes("ha"), notes("minimal"), notes("dev")
    assert "dispatcher enabled (KEDA on JetStream lag" in ha
    assert "https://cad3d.example.com/docs" in ha
    assert "helm test rel" in ha and "helm test" not in minimal
    assert "port-forward svc/rel-cad3d-gateway" in minimal
    assert "WARNING: no API keys" in dev and "WARNING: no API keys" not in ha
    assert "helm dependency build" in dev and "helm dependency build" not in ha
