"""Conversion options and input limits; mirrors ``cad3d.depth.v1.ConvertOptions``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, cast, get_args

from cad3d_kit.conversion import ConversionError, ErrorKind

OutputFormat = Literal["glb", "stl", "ply", "depth_png"]
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)

DEFAULT_TARGET_TRIANGLES = 200_000
DEFAULT_RELIEF_SCALE = 0.15
DEFAULT_FOV_DEGREES = 60.0
# Keeps the relief mesh (and the GLB) within what a browser viewer handles comfortably.
MAX_TARGET_TRIANGLES = 4_000_000
MIN_TARGET_TRIANGLES = 2


def _invalid(message: str) -> ConversionError:
    return ConversionError("invalid_options", message, ErrorKind.INVALID_INPUT)


@dataclass(frozen=True)
class ReferencePoint:
    """A photo pixel (x right, y down, in pixels of the upright photo) at a known distance in metres."""

    x: float
    y: float
    distance: float

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ReferencePoint:
        try:
            point = cls(float(data["x"]), float(data["y"]), float(data["distance"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise _invalid(f"reference point needs numeric x, y and distance: {data!r}") from exc
        if not all(math.isfinite(v) for v in (point.x, point.y, point.distance)):
            raise _invalid(f"reference point values must be finite: {data!r}")
        if point.distance <= 0:
            raise _invalid(f"reference point distance must be positive metres, got {point.distance}")
        return point


@dataclass(frozen=True)
class DepthOptions:
    format: OutputFormat = "glb"
    target_triangles: int = DEFAULT_TARGET_TRIANGLES
    relief_scale: float = DEFAULT_RELIEF_SCALE
    solid_base: bool = False
    reference_points: tuple[ReferencePoint, ...] = ()
    texture: bool = False
    preview: bool = False
    fov_degrees: float = DEFAULT_FOV_DEGREES

    def __post_init__(self) -> None:
        if self.format not in OUTPUT_FORMATS:
            raise _invalid(f"format must be one of {', '.join(OUTPUT_FORMATS)}, got {self.format!r}")
        if not MIN_TARGET_TRIANGLES <= self.target_triangles <= MAX_TARGET_TRIANGLES:
            raise _invalid(
                f"target_triangles must be in [{MIN_TARGET_TRIANGLES}, {MAX_TARGET_TRIANGLES}], "
                f"got {self.target_triangles}"
            )
        if not (math.isfinite(self.relief_scale) and 0 < self.relief_scale <= 10):
            raise _invalid(f"relief_scale must be in (0, 10], got {self.relief_scale}")
        if not (math.isfinite(self.fov_degrees) and 1 <= self.fov_degrees <= 179):
            raise _invalid(f"fov_degrees must be in [1, 179], got {self.fov_degrees}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> DepthOptions:
        """Build options from a JSON-like mapping (proto field names; 0 / missing means default).

        Accepts the proto enum spelling too (``OUTPUT_FORMAT_GLB`` and ``OUTPUT_FORMAT_UNSPECIFIED``).
        """
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise _invalid(f"unknown option(s): {', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        if "format" in data:
            kwargs["format"] = _parse_format(data["format"])
        if data.get("target_triangles"):
            kwargs["target_triangles"] = _parse_int("target_triangles", data["target_triangles"])
        if data.get("relief_scale"):
            kwargs["relief_scale"] = _parse_float("relief_scale", data["relief_scale"])
        if data.get("fov_degrees"):
            kwargs["fov_degrees"] = _parse_float("fov_degrees", data["fov_degrees"])
        for flag in ("solid_base", "texture", "preview"):
            if flag in data:
                kwargs[flag] = _parse_bool(flag, data[flag])
        if data.get("reference_points"):
            kwargs["reference_points"] = _parse_points(data["reference_points"])
        return cls(**kwargs)


def _parse_format(value: Any) -> OutputFormat:
    text = str(value).lower().removeprefix("output_format_") if value not in (None, 0) else ""
    if text in ("", "unspecified"):
        return "glb"
    if text not in OUTPUT_FORMATS:
        raise _invalid(f"format must be one of {', '.join(OUTPUT_FORMATS)}, got {value!r}")
    return cast(OutputFormat, text)


def _parse_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _invalid(f"{name} must be an integer, got {value!r}")
    try:
        number = float(value)
    except ValueError as exc:
        raise _invalid(f"{name} must be an integer, got {value!r}") from exc
    if not number.is_integer():
        raise _invalid(f"{name} must be an integer, got {value!r}")
    return int(number)


def _parse_float(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise _invalid(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise _invalid(f"{name} must be a number, got {value!r}") from exc


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _invalid(f"{name} must be a boolean, got {value!r}")


def _parse_points(value: Any) -> tuple[ReferencePoint, ...]:
    if isinstance(value, Mapping | str | bytes) or not isinstance(value, Iterable):
        raise _invalid("reference_points must be a list of {x, y, distance}")
    points = []
    for item in value:
        if isinstance(item, ReferencePoint):
            points.append(item)
        elif isinstance(item, Mapping):
            points.append(ReferencePoint.from_mapping(item))
        else:
            raise _invalid(f"reference point must be an object with x, y, distance, got {item!r}")
    return tuple(points)


@dataclass(frozen=True)
class ImageLimits:
    """Input guards. ``max_pixels`` is the decompression-bomb limit checked before decoding."""

    max_pixels: int = 50_000_000
    min_side: int = 32
    max_bytes: int = 64 * 1024 * 1024
