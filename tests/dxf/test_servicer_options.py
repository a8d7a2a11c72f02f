"""The dxf gRPC service reads the drawing-sense options (proto fields 7-11) into DxfOptions unchanged:
empty strings and false mean the core's defaults, a bad value is INVALID_ARGUMENT with the code.

The real DxfServicer and ConversionRpc run on a real grpc.aio server; only the worker pool is
replaced by one that runs the real core in this process (the pool's process isolation is tested
in tests/kit)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from cad3d.common.v1 import common_pb2
from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d_dxf import core
from cad3d_dxf.core import DxfOptions
from cad3d_dxf.servicer import DxfServicer
from cad3d_dxf.settings import DxfSettings
from cad3d_kit.conversion import ConversionResult
from cad3d_kit.conversion_service import struct_to_dict
from cad3d_kit.errors import from_rpc_error
from cad3d_kit.grpc_server import GrpcServer, ServiceRegistration
from cad3d_kit.settings import ServiceSettings
from tests.support.fixtures import plate_with_hole

SERVICE = "cad3d.dxf.v1.DxfService"


class InProcessRunner:
    """Stands in for IsolatedRunner: records the options the servicer built, runs the real core."""

    def __init__(self) -> None:
        self.options: list[DxfOptions] = []

    async def run(self, target: str, data: bytes, options: DxfOptions, **kwargs: Any) -> ConversionResult:
        self.options.append(options)
        function = getattr(core, target.split(":")[1])
        result: ConversionResult = function(data, options, kwargs["progress"], dwg=kwargs["dwg"])
        return result


@pytest.fixture
async def service() -> AsyncIterator[tuple[dxf_pb2_grpc.DxfServiceStub, InProcessRunner]]:
    runner = InProcessRunner()
    servicer = DxfServicer(DxfSettings(), runner, None)  # type: ignore[arg-type]
    settings = ServiceSettings(grpc_host="127.0.0.1", grpc_port=0, shutdown_grace_seconds=1)

    async def ready() -> bool:
        return True

    # The service's own server: its interceptor turns a ConversionError into a status with details.
    server = GrpcServer(
        settings,
        [ServiceRegistration(SERVICE, lambda s: dxf_pb2_grpc.add_DxfServiceServicer_to_server(servicer, s))],
        ready,
    )
    port = await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield dxf_pb2_grpc.DxfServiceStub(channel), runner
    await server.stop()


def request(**options: Any) -> dxf_pb2.ConvertRequest:
    # A 100 x 50 plate with a 20 x 20 hole, drawn in millimetres ($INSUNITS 4).
    return dxf_pb2.ConvertRequest(
        input=common_pb2.InputSource(inline_data=plate_with_hole(100, 50, 20)),
        options=dxf_pb2.ConvertOptions(format=dxf_pb2.OUTPUT_FORMAT_STL, **options),
    )


async def test_unset_fields_are_the_core_defaults(
    service: tuple[dxf_pb2_grpc.DxfServiceStub, InProcessRunner],
) -> None:
    stub, runner = service
    response = await stub.Convert(request())
    assert runner.options == [DxfOptions(format="stl")]
    echoed = struct_to_dict(response.report)["options"]
    assert {k: echoed[k] for k in ("input_unit", "sheet", "views", "plan", "strict")} == {
        "input_unit": "auto",
        "sheet": "auto",
        "views": "auto",
        "plan": "auto",
        "strict": False,
    }


async def test_set_fields_reach_the_core_unchanged(
    service: tuple[dxf_pb2_grpc.DxfServiceStub, InProcessRunner],
) -> None:
    stub, runner = service
    sent = {"input_unit": "in", "sheet": "keep", "views": "all", "plan": "plain"}
    response = await stub.Convert(request(**sent))
    assert runner.options == [DxfOptions(format="stl", **sent)]
    report = struct_to_dict(response.report)
    assert {k: report["options"][k] for k in sent} == sent
    # The drawing said millimetres, the caller said inches: the plate is 100 in = 2540 mm wide.
    low, high = report["bbox"]["min"], report["bbox"]["max"]
    assert (high[0] - low[0], high[1] - low[1]) == pytest.approx((2540, 1270), rel=1e-6)
    assert report["units"]["used"] == "in" and report["units"]["source"] == "option"


async def test_strict_fails_a_drawing_with_warnings(
    service: tuple[dxf_pb2_grpc.DxfServiceStub, InProcessRunner],
) -> None:
    import ezdxf

    from tests.support.fixtures import dxf_bytes

    doc = ezdxf.new()
    doc.modelspace().add_lwpolyline([(0, 0), (100, 0), (100, 50), (0, 50)], close=True)
    doc.modelspace().add_lwpolyline([(200, 0), (300, 0), (300, 40)])  # open: encloses nothing, a warning
    stub, runner = service
    options = dxf_pb2.ConvertOptions(format=dxf_pb2.OUTPUT_FORMAT_STL, strict=True)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Convert(
            dxf_pb2.ConvertRequest(input=common_pb2.InputSource(inline_data=dxf_bytes(doc)), options=options)
        )
    assert runner.options[0].strict is True
    assert from_rpc_error(info.value).code == "strict_warnings"
    # Without strict the same drawing converts, with the warning.
    options.strict = False
    response = await stub.Convert(
        dxf_pb2.ConvertRequest(input=common_pb2.InputSource(inline_data=dxf_bytes(doc)), options=options)
    )
    assert [w.code for w in response.warnings] == ["open_outline"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("sheet", "nope"), ("views", "some"), ("plan", "fancy"), ("input_unit", "furlong")],
)
async def test_a_bad_value_is_invalid_argument_with_the_code(
    service: tuple[dxf_pb2_grpc.DxfServiceStub, InProcessRunner], field: str, value: str
) -> None:
    stub, runner = service
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Convert(request(**{field: value}))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = from_rpc_error(info.value)
    assert error.code == "invalid_options"
    assert field in error.message and value in error.message
    assert runner.options == []  # refused before any conversion started


async def test_mode_values_are_case_insensitive_as_the_core_reads_them(
    service: tuple[dxf_pb2_grpc.DxfServiceStub, InProcessRunner],
) -> None:
    stub, runner = service
    await stub.Inspect(dxf_pb2.InspectRequest(input=request().input, options=dxf_pb2.ConvertOptions(sheet="KEEP")))
    assert runner.options[0].sheet == "keep"
