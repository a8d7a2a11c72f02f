"""Conversion options accepted by the API, per input kind; validated before a job is queued."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cad3d_gateway.problems import ProblemError
from cad3d_kit.detect import InputKind

LengthUnit = Literal["mm", "cm", "m", "in", "ft"]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DxfJobOptions(_Options):
    format: Literal["glb", "stl", "obj", "dxf"] = "glb"
    height: float | None = Field(None, gt=0, description="Default extrusion height in output units.")
    preset: Literal["architecture", "mechanical"] | None = None
    rules: list[dict[str, Any]] | dict[str, Any] | None = Field(None, description="Per-layer extrusion rules.")
    layout: str | None = Field(None, max_length=255)
    output_unit: LengthUnit = "mm"


class Calibration(_Options):
    x1: float
    y1: float
    x2: float
    y2: float
    length: float = Field(gt=0)


class PdfJobOptions(_Options):
    format: Literal["dxf", "glb", "stl", "obj"] = "dxf"
    pages: str | None = Field(None, max_length=200, pattern=r"^[0-9,\- ]*$")
    page_mode: Literal["file_per_page", "layout_per_page"] = "file_per_page"
    scale: float = Field(1.0, gt=0)
    unit: LengthUnit = "mm"
    calibration: Calibration | None = None
    layer_mode: Literal["ocg", "style", "single"] = "ocg"
    raster_mode: Literal["auto", "never", "always"] = "auto"
    flatten_curves: bool = False
    merge_dashes: bool = False
    raster_underlay: bool = False
    detect_circles: bool = False
    password: str | None = Field(None, max_length=1024)
    height: float | None = Field(None, gt=0, description="Extrusion height when format is a 3D format.")
    preset: Literal["architecture", "mechanical"] | None = None


class ReferencePoint(_Options):
    x: float = Field(ge=0)
    y: float = Field(ge=0)
    distance: float = Field(gt=0, description="Metres from the camera.")


class DepthJobOptions(_Options):
    format: Literal["glb", "stl", "ply", "depth_png"] = "glb"
    target_triangles: int | None = Field(None, ge=100, le=5_000_000)
    relief_scale: float | None = Field(None, gt=0, le=10)
    solid_base: bool = False
    reference_points: list[ReferencePoint] = Field(default_factory=list, max_length=64)
    texture: bool = False
    preview: bool = False
    fov_degrees: float | None = Field(None, gt=1, lt=179)


OPTIONS_BY_KIND: dict[str, type[_Options]] = {"dxf": DxfJobOptions, "pdf": PdfJobOptions, "image": DepthJobOptions}


def parse_options(kind: InputKind, raw: str | None) -> dict[str, Any]:
    """Validate the ``options`` form field for this kind of input; returns the normalised options."""
    try:
        data = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise ProblemError(422, "invalid_options", "Options are not valid JSON", str(exc)) from None
    if not isinstance(data, dict):
        raise ProblemError(422, "invalid_options", "Options must be a JSON object")
    try:
        model = OPTIONS_BY_KIND[kind].model_validate(data)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ProblemError(422, "invalid_options", f"Options are not valid for {kind} input", detail) from None
    return model.model_dump(exclude_none=True)
