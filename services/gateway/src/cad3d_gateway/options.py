"""Conversion options accepted by the API, per input kind; validated before a job is queued."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cad3d_gateway.problems import ProblemError
from cad3d_kit.detect import InputKind

LengthUnit = Literal["mm", "cm", "m", "in", "ft"]
# The DXF core's units (cad3d_dxf.core.units.OUTPUT_UNITS) plus its two inference modes; the gateway
# does not import the services, so a test keeps this list equal to the core's.
InputUnit = Literal["auto", "declared", "mm", "cm", "dm", "m", "km", "in", "ft", "yd", "um"]


# How the DXF core reads a drawing (docs/reading-drawings.md): "auto" infers from the drawing and
# records why in the report; the other value turns that inference off.
InputUnitOption = Annotated[
    InputUnit,
    Field(
        description='What the drawing is in: "auto" checks $INSUNITS against the drawing itself, '
        '"declared" trusts $INSUNITS, a unit name overrides both.'
    ),
]
SheetOption = Annotated[
    Literal["auto", "keep"],
    Field(description='"auto" leaves out the frame, title block, notes, dimensions and symbols; "keep" models them.'),
]
ViewsOption = Annotated[
    Literal["auto", "all"],
    Field(
        description='"auto": one part per object of a mechanical sheet from its main view, thickness from the '
        'side view; "all" extrudes every view.'
    ),
]
PlanOption = Annotated[
    Literal["auto", "plain"],
    Field(description='"auto" reads plans as walls, openings and rooms; "plain" extrudes the lines as drawn.'),
]
StrictOption = Annotated[
    bool, Field(description='Fail with code "strict_warnings" instead of converting with warnings.')
]
SENSE_DEFAULTS: dict[str, Any] = {
    "input_unit": "auto",
    "sheet": "auto",
    "views": "auto",
    "plan": "auto",
    "strict": False,
}
# What the DXF stage of a PDF -> 3D job gets of the job's options.
DXF_STAGE_OPTIONS = ("format", "height", "preset", *SENSE_DEFAULTS)


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DxfJobOptions(_Options):
    format: Literal["glb", "stl", "obj", "dxf"] = "glb"
    height: float | None = Field(None, gt=0, description="Default extrusion height in output units.")
    preset: Literal["architecture", "mechanical"] | None = None
    rules: list[dict[str, Any]] | dict[str, Any] | None = Field(None, description="Per-layer extrusion rules.")
    layout: str | None = Field(None, max_length=255)
    output_unit: LengthUnit = "mm"
    input_unit: InputUnitOption = "auto"
    sheet: SheetOption = "auto"
    views: ViewsOption = "auto"
    plan: PlanOption = "auto"
    strict: StrictOption = False


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
    # These go to the DXF stage of a 3D format; a PDF converted to DXF only has no such stage.
    input_unit: InputUnitOption = "auto"
    sheet: SheetOption = "auto"
    views: ViewsOption = "auto"
    plan: PlanOption = "auto"
    strict: StrictOption = False

    @model_validator(mode="after")
    def _sense_needs_a_3d_format(self) -> PdfJobOptions:
        # Refused rather than ignored: a caller asking for sheet "keep" on a DXF output would
        # otherwise get a result that silently did not do what was asked.
        if self.format == "dxf":
            given = [name for name, default in SENSE_DEFAULTS.items() if getattr(self, name) != default]
            if given:
                raise ValueError(f"{', '.join(given)} apply to a 3D format (glb, stl, obj), not to format dxf")
        return self


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
        detail = "; ".join(_error_text(e) for e in exc.errors())
        raise ProblemError(422, "invalid_options", f"Options are not valid for {kind} input", detail) from None
    options = model.model_dump(exclude_none=True)
    # A drawing-sense option left at its default is the core's default too: leaving it out keeps
    # the job's options (and so its cache and idempotency keys) the same as when it is not sent.
    for name, default in SENSE_DEFAULTS.items():
        if options.get(name, default) == default:
            options.pop(name, None)
    return options


def _error_text(error: Any) -> str:
    # A model-level check (no field location) reads "Value error, <what>"; the field name, where
    # there is one, says which option it was.
    message = str(error["msg"]).removeprefix("Value error, ")
    location = ".".join(str(part) for part in error["loc"])
    return f"{location}: {message}" if location else message


def add_option_schemas(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds the per-kind option models to an OpenAPI schema's components.

    The options travel as one JSON form field, which FastAPI describes only as a string; the
    models are what tells a client which options exist and which values they take."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in OPTIONS_BY_KIND.values():
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in model_schema.pop("$defs", {}).items():
            components.setdefault(name, sub)
        components[model.__name__] = model_schema
    return schema


def install_option_schemas(app: FastAPI) -> None:
    """Makes ``app.openapi()`` (and so /openapi.json) list the option models; see add_option_schemas."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_option_schemas(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
