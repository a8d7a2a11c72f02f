"""The drawing-sense options (input_unit, sheet, views, plan, strict) through the gateway: listed in
the OpenAPI schema, refused with 422 invalid_options when wrong, and carried unchanged to the dxf
service, also as the DXF stage of a PDF converted to 3D.

The API runs in-process on a real nats-server (the dispatcher too); the conversion services are
gRPC servers of this test that record the requests they get."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args

import grpc
import httpx
import pytest

from cad3d.common.v1 import common_pb2
from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d.pdf.v1 import pdf_pb2, pdf_pb2_grpc
from cad3d_dxf.core.units import OUTPUT_UNITS
from cad3d_gateway.app import create_app
from cad3d_gateway.options import DXF_STAGE_OPTIONS, InputUnit, add_option_schemas, parse_options
from cad3d_gateway.problems import ProblemError
from cad3d_gateway.settings import GatewaySettings
from tests.support.fixtures import plate_with_hole

SENSE = ("input_unit", "sheet", "views", "plan", "strict")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_input_unit_choices_are_the_cores() -> None:
    # The gateway may not import the services, so its list is written out; it must stay the core's.
    assert set(get_args(InputUnit)) == {"auto", "declared", *OUTPUT_UNITS}


def test_the_option_models_are_in_the_schema() -> None:
    schemas = add_option_schemas({"openapi": "3.1.0"})["components"]["schemas"]
    for model in ("DxfJobOptions", "PdfJobOptions"):
        properties = schemas[model]["properties"]
        assert set(SENSE) <= set(properties), model
        assert properties["sheet"]["enum"] == ["auto", "keep"] and properties["sheet"]["default"] == "auto"
        assert properties["views"]["enum"] == ["auto", "all"]
        assert properties["plan"]["enum"] == ["auto", "plain"]
        assert properties["strict"]["type"] == "boolean" and properties["strict"]["default"] is False
        assert set(properties["input_unit"]["enum"]) == {"auto", "declared", *OUTPUT_UNITS}
        assert all(properties[name]["description"] for name in SENSE)
    assert "DepthJobOptions" in schemas and "sheet" not in schemas["DepthJobOptions"]["properties"]


def test_the_served_schema_lists_the_option_models(tmp_path: Path) -> None:
    app = create_app(GatewaySettings(storage_dir=tmp_path))
    assert "DxfJobOptions" in app.openapi()["components"]["schemas"]


@pytest.mark.parametrize(
    ("kind", "options", "where"),
    [
        ("dxf", {"sheet": "nope"}, "sheet"),
        ("dxf", {"views": "front"}, "views"),
        ("dxf", {"plan": "fancy"}, "plan"),
        ("dxf", {"input_unit": "furlong"}, "input_unit"),
        ("dxf", {"strict": "maybe"}, "strict"),
        ("pdf", {"format": "glb", "sheet": "nope"}, "sheet"),
        # A PDF converted to DXF has no DXF stage: asking it to keep the sheet would do nothing.
        ("pdf", {"format": "dxf", "sheet": "keep"}, "sheet"),
        ("image", {"sheet": "keep"}, "sheet"),
    ],
)
def test_bad_values_are_refused(kind: Any, options: dict[str, Any], where: str) -> None:
    import json

    with pytest.raises(ProblemError) as info:
        parse_options(kind, json.dumps(options))
    assert (info.value.status, info.value.code) == (422, "invalid_options")
    assert where in (info.value.detail or "")


def test_defaults_leave_the_job_options_as_before() -> None:
    # Sent or not, a default is the same job (same cache and idempotency keys).
    assert parse_options("dxf", '{"sheet": "auto", "strict": false}') == parse_options("dxf", "{}")
    assert "sheet" not in parse_options("dxf", "{}")
    assert parse_options("dxf", '{"sheet": "keep", "strict": true}')["sheet"] == "keep"
    assert set(SENSE) <= set(DXF_STAGE_OPTIONS)


class DxfRecorder(dxf_pb2_grpc.DxfServiceServicer):
    def __init__(self) -> None:
        self.requests: list[Any] = []

    async def ConvertStream(self, request: Any, context: Any) -> AsyncIterator[Any]:
        self.requests.append(request)
        artifact = common_pb2.Artifact(
            descriptor=common_pb2.ArtifactDescriptor(name="model.glb", media_type="model/gltf-binary", size_bytes=4),
            inline_data=b"glTF",
        )
        result = dxf_pb2.ConvertResponse(artifacts=[artifact], converter_version="dxf-test/1")
        yield dxf_pb2.ConvertStreamResponse(result=result)


class PdfRecorder(pdf_pb2_grpc.PdfServiceServicer):
    def __init__(self) -> None:
        self.requests: list[Any] = []

    async def ConvertStream(self, request: Any, context: Any) -> AsyncIterator[Any]:
        self.requests.append(request)
        data = plate_with_hole()
        artifact = common_pb2.Artifact(
            descriptor=common_pb2.ArtifactDescriptor(
                name="page-1.dxf", media_type="image/vnd.dxf", size_bytes=len(data)
            ),
            inline_data=data,
        )
        result = pdf_pb2.ConvertResponse(artifacts=[artifact], converter_version="pdf-test/1")
        yield pdf_pb2.ConvertStreamResponse(result=result)


@pytest.fixture
async def gateway(nats_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, DxfRecorder, PdfRecorder]]:
    dxf, pdf = DxfRecorder(), PdfRecorder()
    server = grpc.aio.server()
    dxf_pb2_grpc.add_DxfServiceServicer_to_server(dxf, server)
    pdf_pb2_grpc.add_PdfServiceServicer_to_server(pdf, server)
    address = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    await server.start()
    settings = GatewaySettings(
        nats_url=nats_url, storage_dir=tmp_path / "store", dxf_address=address, pdf_address=address, role="all"
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                yield client, dxf, pdf
    finally:
        await server.stop(None)


async def submit(client: httpx.AsyncClient, name: str, data: bytes, options: str) -> httpx.Response:
    return await client.post(
        "/v1/conversions",
        files={"file": (name, data)},
        data={"options": options},
        headers={"Prefer": "wait=20", "Cache-Control": "no-cache"},
    )


async def test_an_invalid_sheet_is_a_422_problem(gateway: tuple[httpx.AsyncClient, DxfRecorder, PdfRecorder]) -> None:
    client, dxf, _ = gateway
    response = await submit(client, "plate.dxf", plate_with_hole(), '{"sheet": "nope"}')
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "invalid_options" and "sheet" in problem["detail"]
    assert dxf.requests == []


async def test_dxf_options_reach_the_dxf_service(gateway: tuple[httpx.AsyncClient, DxfRecorder, PdfRecorder]) -> None:
    client, dxf, _ = gateway
    options = '{"format": "stl", "input_unit": "in", "sheet": "keep", "views": "all", "plan": "plain", "strict": true}'
    response = await submit(client, "plate.dxf", plate_with_hole(), options)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    sent = dxf.requests[0].options
    assert (sent.input_unit, sent.sheet, sent.views, sent.plan, sent.strict) == ("in", "keep", "all", "plain", True)
    assert sent.format == dxf_pb2.OUTPUT_FORMAT_STL


async def test_unset_options_reach_the_service_as_its_defaults(
    gateway: tuple[httpx.AsyncClient, DxfRecorder, PdfRecorder],
) -> None:
    client, dxf, _ = gateway
    response = await submit(client, "plate.dxf", plate_with_hole(), "{}")
    assert response.status_code == 200, response.text
    sent = dxf.requests[0].options
    # Empty strings and false: the core's own defaults (auto, not strict) apply.
    assert (sent.input_unit, sent.sheet, sent.views, sent.plan, sent.strict) == ("", "", "", "", False)


async def test_a_pdf_to_glb_passes_them_to_its_dxf_stage(
    gateway: tuple[httpx.AsyncClient, DxfRecorder, PdfRecorder],
) -> None:
    client, dxf, pdf = gateway
    options = '{"format": "glb", "sheet": "keep", "views": "all", "input_unit": "declared", "strict": true}'
    response = await submit(client, "sheet.pdf", PDF, options)
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "succeeded", job
    assert pdf.requests[0].options.target == "dxf"  # the first stage makes the DXF
    stage = dxf.requests[0]
    assert stage.input.object.key.endswith("page-1.dxf")
    sent = stage.options
    assert (sent.format, sent.sheet, sent.views, sent.input_unit, sent.strict) == (
        dxf_pb2.OUTPUT_FORMAT_GLB,
        "keep",
        "all",
        "declared",
        True,
    )
    assert sent.plan == ""  # not sent: the core's default
