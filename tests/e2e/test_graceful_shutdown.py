"""SIGTERM during a conversion: health turns NOT_SERVING at once, the in-flight RPC completes,
and the process exits 0 within its grace."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cad3d.common.v1 import common_pb2
from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from tests.support.fixtures import many_squares
from tests.support.servers import start_service, storage_env

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
GRACE = 40


def test_sigterm_drains_in_flight_conversion(tmp_path: Path) -> None:
    process, address = start_service(
        "dxf",
        tmp_path,
        storage_env(None, tmp_path / "artifacts", "cad3d"),
        {"CAD3D_DXF_SHUTDOWN_GRACE_SECONDS": str(GRACE), "CAD3D_DXF_MAX_CONCURRENT_CONVERSIONS": "1"},
    )
    drawing = many_squares(8_000)
    statuses: list[tuple[float, int]] = []
    outcome: dict[str, object] = {}
    started = threading.Event()

    with grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", 64 << 20)]) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))

        def follow_health() -> None:
            try:
                for response in watch:
                    statuses.append((time.monotonic(), response.status))
            except grpc.RpcError:
                pass  # the server closes the stream when it stops

        def convert() -> None:
            stub = dxf_pb2_grpc.DxfServiceStub(channel)
            request = dxf_pb2.ConvertStreamRequest(
                input=common_pb2.InputSource(inline_data=drawing), options=dxf_pb2.ConvertOptions(height=5)
            )
            try:
                for event in stub.ConvertStream(request, timeout=120):
                    if event.WhichOneof("event") == "progress" and event.progress.stage != "queued":
                        started.set()
                    if event.WhichOneof("event") == "result":
                        outcome["result"] = event.result
            except grpc.RpcError as exc:
                outcome["error"] = exc
            finally:
                started.set()

        health_thread = threading.Thread(target=follow_health, daemon=True)
        health_thread.start()
        worker = threading.Thread(target=convert, daemon=True)
        worker.start()
        assert started.wait(60), "the conversion never started"
        assert "result" not in outcome, "conversion finished before SIGTERM; make the drawing bigger"

        sigterm_at = time.monotonic()
        process.proc.send_signal(signal.SIGTERM)
        exit_code = process.proc.wait(GRACE + 10)
        exited_after = time.monotonic() - sigterm_at
        worker.join(30)
        health_thread.join(5)

    assert exit_code == 0, process.log()[-3000:]
    assert exited_after < GRACE
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert isinstance(result, dxf_pb2.ConvertResponse) and result.artifacts[0].descriptor.name == "model.glb"
    not_serving = [t for t, s in statuses if s == health_pb2.HealthCheckResponse.NOT_SERVING and t >= sigterm_at]
    assert not_serving, f"health never turned NOT_SERVING after SIGTERM: {statuses}"
    assert not_serving[0] - sigterm_at < 1.0
