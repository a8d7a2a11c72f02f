"""Conversion options and safety limits for the PDF -> DXF core.

``PdfOptions`` mirrors ``cad3d.pdf.v1.ConvertOptions``; ``from_mapping`` is the one place where
loosely typed input (JSON, CLI flags, proto-as-dict) becomes validated options.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

from cad3d_kit.conversion import ConversionError, ErrorKind

_CAMEL = re.compile(r"(?<=[a-z0-9])[A-Z]")

PageMode = Literal["file_per_page", "layout_per_page"]
LayerMode = Literal["ocg", "style", "single"]
RasterMode = Literal["auto", "never", "always"]

# Millimetres per output unit; the keys are the accepted ``unit`` values.
UNIT_TO_MM: dict[str, float] = {
    "mm": 1.0,
    "cm": 10.0,
    "m": 1000.0,
    "in": 25.4,
    "ft": 304.8,
    "pt": 25.4 / 72.0,
}
# DXF $INSUNITS codes for the units above.
UNIT_TO_INSUNITS: dict[str, int] = {"mm": 4, "cm": 5, "m": 6, "in": 1, "ft": 2, "pt": 0}


def _invalid(message: str) -> ConversionError:
    return ConversionError("invalid_options", message, ErrorKind.INVALID_INPUT)


@dataclass(frozen=True)
class Calibration:
    """Two points on the page (PDF points) whose real distance is ``length`` output units."""

    x1: float
    y1: float
    x2: float
    y2: float
    length: float

    def page_distance(self) -> float:
        return math.hypot(self.x2 - self.x1, self.y2 - self.y1)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Calibration:
        try:
            # proto3 leaves zero fields out of MessageToDict output: a missing number means 0.
            values = {name: float(data.get(name) or 0.0) for name in ("x1", "y1", "x2", "y2", "length")}
        except (TypeError, ValueError) as exc:
            raise _invalid(f"calibration needs numeric x1, y1, x2, y2 and length: {exc}") from exc
        calibration = cls(**values)
        if not all(math.isfinite(v) for v in values.values()):
            raise _invalid("calibration values must be finite numbers")
        if calibration.length <= 0:
            raise _invalid("calibration length must be positive")
        if calibration.page_distance() <= 1e-6:
            raise _invalid("calibration points must be distinct")
        return calibration


@dataclass(frozen=True)
class PdfOptions:
    pages: str | None = None
    page_mode: PageMode = "file_per_page"
    scale: float = 1.0
    unit: str = "mm"
    calibration: Calibration | None = None
    layer_mode: LayerMode = "ocg"
    raster_mode: RasterMode = "auto"
    flatten_curves: bool = False
    merge_dashes: bool = False
    raster_underlay: bool = False
    password: str | None = None
    # Not in ConvertOptions v1 yet: also detect circles on raster pages (HoughCircles).
    detect_circles: bool = False

    def __post_init__(self) -> None:
        if self.page_mode not in get_args(PageMode):
            raise _invalid(f"page_mode must be one of {get_args(PageMode)}, got {self.page_mode!r}")
        if self.layer_mode not in get_args(LayerMode):
            raise _invalid(f"layer_mode must be one of {get_args(LayerMode)}, got {self.layer_mode!r}")
        if self.raster_mode not in get_args(RasterMode):
            raise _invalid(f"raster_mode must be one of {get_args(RasterMode)}, got {self.raster_mode!r}")
        if not (isinstance(self.scale, int | float) and math.isfinite(self.scale) and self.scale > 0):
            raise _invalid(f"scale must be a positive number (the n of 1:n), got {self.scale!r}")
        if self.unit not in UNIT_TO_MM:
            raise _invalid(f"unit must be one of {sorted(UNIT_TO_MM)}, got {self.unit!r}")

    @property
    def scale_status(self) -> Literal["unknown", "declared", "calibrated"]:
        # A scale of exactly 1 is indistinguishable from "not given" (proto: 0 means 1).
        if self.calibration is not None:
            return "calibrated"
        return "declared" if self.scale != 1.0 else "unknown"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> PdfOptions:
        """Build options from a plain mapping; empty strings and zeros mean "default" as in proto3.

        Accepts snake_case or camelCase keys (``MessageToDict`` output) and enum values as proto
        names ("PAGE_MODE_LAYOUT_PER_PAGE"), short names ("layout_per_page") or proto numbers.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise _invalid("options must be a mapping")
        data = {_CAMEL.sub(lambda m: "_" + m.group(0).lower(), str(k)): v for k, v in data.items()}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"target"})
        if unknown:
            raise _invalid(f"unknown option(s): {', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        for key in ("pages", "password"):
            value = data.get(key)
            if value not in (None, ""):
                if not isinstance(value, str):
                    raise _invalid(f"{key} must be a string")
                kwargs[key] = value
        for key, prefix, literal in (
            ("page_mode", "PAGE_MODE_", PageMode),
            ("layer_mode", "LAYER_MODE_", LayerMode),
            ("raster_mode", "RASTER_MODE_", RasterMode),
        ):
            value = data.get(key)
            if value in (None, "", 0, f"{prefix}UNSPECIFIED"):
                continue
            names = get_args(literal)
            if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(names):
                kwargs[key] = names[value - 1]  # proto enum numbers follow the Literal order
                continue
            if not isinstance(value, str):
                raise _invalid(f"{key} must be one of {names}")
            kwargs[key] = value.removeprefix(prefix).lower()
        if data.get("scale") not in (None, "", 0):
            kwargs["scale"] = _number(data["scale"], "scale")
        if data.get("unit") not in (None, ""):
            kwargs["unit"] = str(data["unit"]).lower()
        calibration = data.get("calibration")
        if isinstance(calibration, Calibration):
            kwargs["calibration"] = calibration
        elif calibration not in (None, {}):
            if not isinstance(calibration, Mapping):
                raise _invalid("calibration must be a mapping with x1, y1, x2, y2, length")
            kwargs["calibration"] = Calibration.from_mapping(calibration)
        for key in ("flatten_curves", "merge_dashes", "raster_underlay", "detect_circles"):
            if key in data and data[key] is not None:
                if not isinstance(data[key], bool):
                    raise _invalid(f"{key} must be a boolean")
                kwargs[key] = data[key]
        return cls(**kwargs)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise _invalid(f"{name} must be a number")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise _invalid(f"{name} must be a number, got {value!r}") from exc


@dataclass(frozen=True)
class PdfLimits:
    """Guards against hostile or runaway input; every limit maps to a stable error code."""

    max_pages: int = 200
    max_objects_per_page: int = 500_000
    # Sum of decompressed page content streams (and form XObjects) per page.
    max_decompressed_bytes: int = 256 * 1024 * 1024
    page_timeout_seconds: float = 30.0
    # Largest raster (page render or embedded image) we decode, in pixels.
    max_image_pixels: int = 60_000_000
    # Resolution used to render scanned pages for line detection (lowered to fit max_image_pixels).
    raster_dpi: int = 200
