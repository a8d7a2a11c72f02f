"""Conversion options of the DXF core and their validation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, cast, get_args

from .errors import invalid_options
from .units import OUTPUT_UNITS

OutputFormat = Literal["glb", "stl", "obj", "dxf"]
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)
PRESETS: tuple[str, ...] = ("architecture", "mechanical")
# Drawing-sense switches (docs/reading-drawings.md). "auto" lets the core decide from evidence and
# record why in the report; the other value turns that inference off.
INPUT_UNIT_MODES: tuple[str, ...] = ("auto", "declared")  # or an explicit unit name (units.OUTPUT_UNITS)
SHEET_MODES: tuple[str, ...] = ("auto", "keep")  # keep: model the frame, title block and annotations too
VIEW_MODES: tuple[str, ...] = ("auto", "all")  # all: extrude every view of a mechanical sheet
PLAN_MODES: tuple[str, ...] = ("auto", "plain")  # plain: no wall/opening/room inference on plans


# Larger heights only overflow volumes to inf/NaN, which no report or mesh format can carry.
MAX_HEIGHT = 1e9

_MODE_OPTIONS = ("input_unit", "sheet", "views", "plan")


@dataclass(frozen=True)
class DxfOptions:
    format: OutputFormat = "glb"
    # Default extrusion height in OUTPUT units; None -> the preset's default (or 1000 mm).
    height: float | None = None
    preset: str | None = None
    rules_json: str | None = None
    layout: str | None = None
    output_unit: str = "mm"
    # What the drawing's coordinates are in: "auto" checks $INSUNITS against the drawing itself,
    # "declared" trusts $INSUNITS, a unit name (mm, in, ...) overrides both.
    input_unit: str = "auto"
    sheet: str = "auto"
    views: str = "auto"
    plan: str = "auto"
    # Fail (code strict_warnings) instead of converting with warnings.
    strict: bool = False

    def __post_init__(self) -> None:
        if self.format not in OUTPUT_FORMATS:
            raise invalid_options(f"format must be one of {', '.join(OUTPUT_FORMATS)}, got {self.format!r}")
        if self.height is not None and (not math.isfinite(self.height) or not 0 < self.height <= MAX_HEIGHT):
            raise invalid_options(f"height must be a positive number up to {MAX_HEIGHT:g}, got {self.height!r}")
        if self.preset is not None and self.preset not in PRESETS:
            raise invalid_options(f"preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        if self.output_unit not in OUTPUT_UNITS:
            raise invalid_options(f"output_unit must be one of {', '.join(OUTPUT_UNITS)}, got {self.output_unit!r}")
        if self.input_unit not in INPUT_UNIT_MODES and self.input_unit not in OUTPUT_UNITS:
            choices = ", ".join((*INPUT_UNIT_MODES, *OUTPUT_UNITS))
            raise invalid_options(f"input_unit must be one of {choices}, got {self.input_unit!r}")
        for name, modes in (("sheet", SHEET_MODES), ("views", VIEW_MODES), ("plan", PLAN_MODES)):
            if getattr(self, name) not in modes:
                raise invalid_options(f"{name} must be one of {', '.join(modes)}, got {getattr(self, name)!r}")
        if not isinstance(self.strict, bool):
            raise invalid_options(f"strict must be true or false, got {self.strict!r}")
        if self.rules_json is not None:
            from .rules import parse_rules  # local: rules imports options' constants

            parse_rules(self.rules_json)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DxfOptions:
        """Build options from loosely typed input (gRPC message fields, CLI flags, JSON).

        Empty strings and a height of 0 mean "default", as in the proto contract.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise invalid_options(f"unknown option(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key in ("format", "preset", "rules_json", "layout", "output_unit", *_MODE_OPTIONS):
            value = data.get(key)
            if value is None or value == "":
                continue
            if not isinstance(value, str):
                raise invalid_options(f"{key} must be a string, got {type(value).__name__}")
            values[key] = value.lower() if key in ("format", "preset", "output_unit", *_MODE_OPTIONS) else value
        height = data.get("height")
        if height is not None and height != 0:
            if isinstance(height, bool) or not isinstance(height, int | float):
                raise invalid_options(f"height must be a number, got {type(height).__name__}")
            values["height"] = float(height)
        strict = data.get("strict")
        if strict is not None:
            if not isinstance(strict, bool):
                raise invalid_options(f"strict must be true or false, got {type(strict).__name__}")
            values["strict"] = strict
        if "format" in values:
            values["format"] = cast(OutputFormat, values["format"])
        return cls(**values)


@dataclass(frozen=True)
class DwgConfig:
    """Where the DWG -> DXF converters are; None means "not configured" / look up on PATH."""

    oda_path: str | None = None
    dwg2dxf_path: str | None = None
    timeout_seconds: float = 120.0
