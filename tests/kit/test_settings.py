"""Typed settings: env prefixes, validation and a readable fail-fast exit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cad3d_dxf.settings import DxfSettings
from cad3d_gateway.settings import GatewaySettings
from cad3d_kit.settings import load_settings


def test_each_component_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAD3D_DXF_GRPC_PORT", "6001")
    monkeypatch.setenv("CAD3D_GATEWAY_HTTP_PORT", "6002")
    assert DxfSettings().grpc_port == 6001
    assert GatewaySettings().http_port == 6002
    assert DxfSettings().metrics_port == 9101  # not affected by the gateway's variables


def test_bad_config_exits_with_a_readable_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAD3D_DXF_GRPC_PORT", "not-a-port")
    monkeypatch.setenv("CAD3D_DXF_STORAGE_BACKEND", "s3")
    with pytest.raises(SystemExit) as info:
        load_settings(DxfSettings)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "CAD3D_DXF_GRPC_PORT" in err and "not-a-port" in err


def test_s3_without_endpoint_is_rejected(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CAD3D_GATEWAY_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("CAD3D_GATEWAY_S3_SECRET_KEY", "hunter2")
    with pytest.raises(SystemExit):
        load_settings(GatewaySettings)
    err = capsys.readouterr().err
    assert "s3_endpoint is empty" in err
    assert "hunter2" not in err


def test_service_process_fails_fast_on_bad_config() -> None:
    env = {"CAD3D_DXF_CONVERSION_TIMEOUT_SECONDS": "-1", "PATH": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "cad3d_dxf"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 2
    assert "CAD3D_DXF_CONVERSION_TIMEOUT_SECONDS" in proc.stderr
