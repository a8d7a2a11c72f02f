"""In-process conversions: the same cores the services run, with no server involved."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from cad3d_kit.conversion import ConversionError, ConversionResult, ErrorKind, ProgressCallback
from cad3d_kit.detect import DetectedInput

THREE_D = ("glb", "stl", "obj")
# The DXF core's options the CLI passes on: to a drawing's conversion and to the DXF stage of a PDF
# converted to 3D alike (convert_pdf goes through convert_drawing).
DXF_KEYS = (
    "height",
    "preset",
    "rules_json",
    "layout",
    "output_unit",
    "input_unit",
    "sheet",
    "views",
    "plan",
    "strict",
)


def dxf_options(fmt: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": fmt,
        **{k: v for k, v in extra.items() if k in DXF_KEYS and v is not None},
    }


def convert_drawing(data: bytes, fmt: str, extra: dict[str, Any], progress: ProgressCallback) -> ConversionResult:
    from cad3d_dxf.core import DwgConfig, DxfOptions, convert

    dwg = DwgConfig(
        oda_path=os.environ.get("CAD3D_DXF_DWG_ODA_PATH") or None,
        dwg2dxf_path=os.environ.get("CAD3D_DXF_DWG2DXF_PATH") or None,
    )
    return convert(data, DxfOptions.from_mapping(dxf_options(fmt, extra)), progress, dwg=dwg)


def convert_pdf(data: bytes, fmt: str, extra: dict[str, Any], progress: ProgressCallback) -> ConversionResult:
    from cad3d_pdf.core import PdfOptions, convert

    pdf_keys = ("pages", "scale", "unit", "page_mode", "layer_mode", "raster_mode", "flatten_curves", "password")
    options = PdfOptions.from_mapping({k: v for k, v in extra.items() if k in pdf_keys and v is not None})
    result = convert(data, options, progress)
    if fmt == "dxf":
        return result
    if fmt not in THREE_D:
        raise ConversionError("invalid_options", f"a PDF converts to dxf, glb, stl or obj, not {fmt}")
    dxf = next((a for a in result.artifacts if a.name.endswith(".dxf")), None)
    if dxf is None:
        raise ConversionError("chain_no_dxf", "the PDF produced no DXF to extrude")
    model = convert_drawing(dxf.data, fmt, extra, progress)
    model.report = {"pdf": result.report, "dxf": model.report}
    model.warnings = [*result.warnings, *model.warnings]
    return model


def default_model_path() -> str | None:
    configured = os.environ.get("CAD3D_DEPTH_MODEL_PATH")
    if configured:
        return configured
    repo_models = Path(__file__).resolve().parents[3] / "models"
    found = sorted(repo_models.glob("*standin*/1/model.onnx"))
    return str(found[0]) if found else None


def convert_photo(
    data: bytes, fmt: str, extra: dict[str, Any], progress: ProgressCallback, model: str | None
) -> ConversionResult:
    from cad3d_depth.core import DepthOptions, convert, create_estimator

    model_path = model or default_model_path()
    if not model_path:
        raise ConversionError(
            "model_unavailable",
            "no depth model: pass --model PATH or set CAD3D_DEPTH_MODEL_PATH (see docs/depth-models.md); "
            "in a source checkout `make models` generates the stand-in model",
            ErrorKind.PRECONDITION,
        )
    depth_keys = ("target_triangles", "relief_scale", "solid_base", "texture", "preview", "fov_degrees")
    options = DepthOptions.from_mapping(
        {"format": fmt, **{k: v for k, v in extra.items() if k in depth_keys and v is not None}}
    )
    name = Path(model_path).parent.parent.name or "model"

    async def run() -> ConversionResult:
        estimator = create_estimator("onnxruntime", model_path=model_path, triton_url=None, model_name=name)
        try:
            return await convert(data, options, estimator, progress)
        finally:
            await estimator.close()

    return asyncio.run(run())


def convert_in_process(
    detected: DetectedInput,
    data: bytes,
    fmt: str,
    extra: dict[str, Any],
    progress: ProgressCallback,
    model: str | None = None,
) -> ConversionResult:
    if detected.kind == "dxf":
        return convert_drawing(data, fmt, extra, progress)
    if detected.kind == "pdf":
        return convert_pdf(data, fmt, extra, progress)
    if fmt == "dxf":
        # A raster drawing asked for as DXF goes through the PDF service's line detection.
        return convert_pdf(data, fmt, extra, progress)
    return convert_photo(data, fmt, extra, progress, model)
