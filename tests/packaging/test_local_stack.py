"""`make run` binds every listening socket of the local stack to loopback, metrics included."""

from __future__ import annotations

from pathlib import Path

from cad3d_depth.settings import DepthSettings
from cad3d_dxf.settings import DxfSettings
from cad3d_pdf.settings import PdfSettings
from scripts.local_stack import stack_env


def test_every_service_binds_grpc_and_metrics_to_loopback() -> None:
    env = stack_env(Path("/models/m/1/model.onnx"))
    hosts = {key: value for key, value in env.items() if key.endswith("_HOST")}
    assert hosts and set(hosts.values()) == {"127.0.0.1"}
    for prefix, settings_cls in (
        ("CAD3D_DXF_", DxfSettings),
        ("CAD3D_PDF_", PdfSettings),
        ("CAD3D_DEPTH_", DepthSettings),
    ):
        mine = {k.removeprefix(prefix).lower(): v for k, v in env.items() if k.startswith(prefix)}
        settings = settings_cls.model_validate({k: v for k, v in mine.items() if k in settings_cls.model_fields})
        assert settings.metrics_host == "127.0.0.1" and settings.grpc_host == "127.0.0.1"
        assert settings.metrics_port > 0
