"""Closed outlines drawn in tilted planes (OCS normal not along Z), extruded along their normal."""

from __future__ import annotations

from dataclasses import dataclass

from .entities import TiltedContour
from .extrusion import MeshArrays, extrude_polygon
from .parts import ExtrusionKey, extrusion_key
from .regions import ring_polygons
from .rules import LayerResolver


@dataclass
class TiltedSolid:
    layer: str
    mesh: MeshArrays  # WCS, drawing units
    area: float  # drawing units^2
    key: ExtrusionKey  # output units, measured along the outline's own normal
    holes: int
    color: tuple[int, int, int] | None


def extrude_tilted(
    contours: list[TiltedContour], resolve: LayerResolver, scale: float, min_area: float
) -> list[TiltedSolid]:
    """Extrude in the outline's own coordinate system, then rotate into WCS (volumes unchanged)."""
    included = [c for c in contours if resolve(c.layer).include]
    solids: list[TiltedSolid] = []
    for contour, polygons in zip(included, ring_polygons([c.points for c in included], min_area), strict=True):
        key = extrusion_key(resolve(contour.layer), 0.0, contour.thickness, scale)
        for polygon in polygons:
            local = extrude_polygon(polygon, contour.elevation + key.base / scale, key.height / scale)
            if len(local.faces) == 0:
                continue
            # Rows of ``axes`` are the OCS axes in WCS: local (x, y, z) -> x*ux + y*uy + z*uz.
            world = MeshArrays(local.vertices @ contour.axes, local.faces)
            solids.append(
                TiltedSolid(
                    contour.layer,
                    world,
                    float(polygon.area),
                    key,
                    len(polygon.interiors),
                    contour.color,
                )
            )
    return solids
