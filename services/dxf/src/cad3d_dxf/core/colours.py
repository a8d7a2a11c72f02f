"""Part colours: how each mesh piece's colour is decided, and layer meshes split into colour runs.

Precedence (as AutoCAD shows a drawing, with the rules on top): a rule ``color`` for the layer >
the entity's own colour (true colour > ACI > BYLAYER -> its layer's colour; BYBLOCK inside a
block -> the INSERT's colour, resolved in entities.py) > for geometry that no single entity made
(faces of loose lines, walls merged from several colours, room slabs) the layer's most common
entity colour > the layer table's colour > grey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ezdxf import colors as dxf_colors

from .extrusion import MeshArrays

RGB = tuple[int, int, int]
DEFAULT_RGB: RGB = (200, 200, 200)


@dataclass(frozen=True, slots=True)
class ColourRun:
    """Consecutive faces (and the vertices only they use) of one colour in a layer's mesh."""

    rgb: RGB
    faces: int
    vertices: int


def part_colour(rule: RGB | None, entity: RGB | None, layer_fallback: RGB | None) -> RGB:
    return rule or entity or layer_fallback or DEFAULT_RGB


def hex_colour(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def order_by_colour(pieces: list[tuple[RGB, MeshArrays]]) -> tuple[list[MeshArrays], list[ColourRun]]:
    """The pieces reordered so each colour's pieces are adjacent (colours in order of first
    appearance, pieces in their own order within a colour), and the runs they make.

    Only references move: concatenating the reordered pieces gives each colour a contiguous range
    of faces and vertices, so writers take a colour as a slice of the layer's arrays, no copy.
    A single-colour layer keeps its order."""
    first: dict[RGB, int] = {}
    for rgb, _ in pieces:
        first.setdefault(rgb, len(first))
    ordered = sorted(pieces, key=lambda item: first[item[0]])  # stable
    runs: dict[RGB, list[int]] = {}
    for rgb, mesh in ordered:
        counts = runs.setdefault(rgb, [0, 0])
        counts[0] += len(mesh.faces)
        counts[1] += len(mesh.vertices)
    return [mesh for _, mesh in ordered], [ColourRun(rgb, f, v) for rgb, (f, v) in runs.items()]


def _aci_rgb() -> np.ndarray:
    return np.asarray([dxf_colors.aci2rgb(aci) for aci in range(1, 256)], dtype=float)


_ACI_RGB = _aci_rgb()


def nearest_aci(rgb: RGB) -> int:
    """The ACI index (1-255) closest to ``rgb``: what a reader without true colour shows."""
    distance = ((_ACI_RGB - np.asarray(rgb, dtype=float)) ** 2).sum(axis=1)
    return int(np.argmin(distance)) + 1
