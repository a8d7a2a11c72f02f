"""Walk a layout and turn each entity into 2D contours, open pieces or pass-through meshes (WCS).

Blocks: each block definition is collected once into a template (in block coordinates, nested
blocks included) and every INSERT places it with its full transform matrix (base point, scale,
rotation, OCS), applied with numpy; MINSERT grids go through ``multi_insert``. This is much
faster than ezdxf's per-reference virtual entities on plans with thousands of block references.
Entities on layer "0" and with colour BYBLOCK inside a block take the INSERT's layer and colour,
as AutoCAD draws them. Every entity that cannot be built is skipped with its handle and a reason;
nothing aborts the walk.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ezdxf import colors as dxf_colors
from ezdxf import path as dxf_path
from ezdxf.entities import DXFGraphic
from ezdxf.math import OCS, Vec3
from ezdxf.render import MeshBuilder

from .annotations import MAX_TEXTS, TEXT_TYPES, InsertRecord, TextItem, place_texts, placed_bounds, text_of
from .bulges import bulge_midpoints, bulge_points
from .errors import DRAWING_TOO_COMPLEX, ConversionError, ErrorKind
from .reading import layer_display_name

RGB = tuple[int, int, int]
_MAX_BLOCK_DEPTH = 32
# Placeholders inside block templates for "the INSERT's layer / colour".
BYBLOCK_LAYER = "\x00BYBLOCK"
BYBLOCK_COLOR: RGB = (-1, -1, -1)
_MAX_SKIP_RECORDS = 10_000
_FLATTEN_ENTITY_RELATIVE = 2e-4
_Z_AXIS_TOLERANCE = 1e-9
# Coordinates beyond this are garbage (a broken writer, a hostile file), not geodetic data (~1e7):
# kept, one such entity would set the drawing size and with it every tolerance, and ordinary
# outlines would fall below the minimum area and vanish.
MAX_COORDINATE = 1e12
_HUGE = f"coordinates beyond +/-{MAX_COORDINATE:g} drawing units"
# Block references may multiply a small file into a huge drawing (nested blocks, MINSERT grids):
# past this many placed geometry items the drawing is refused before it exhausts memory.
MAX_PLACED_ITEMS = 1_000_000

ANNOTATION_TYPES = frozenset(
    {
        "TEXT",
        "MTEXT",
        "ATTRIB",
        "ATTDEF",
        "DIMENSION",
        "ARC_DIMENSION",
        "LARGE_RADIAL_DIMENSION",
        "LEADER",
        "MULTILEADER",
        "MLEADER",
        "TOLERANCE",
        "ACAD_TABLE",
        "POINT",
        "SHAPE",
        "VIEWPORT",
        "IMAGE",
        "WIPEOUT",
        "XLINE",
        "RAY",
        "LIGHT",
        "UNDERLAY",
        "PDFUNDERLAY",
        "DWFUNDERLAY",
        "DGNUNDERLAY",
        "OLE2FRAME",
        "OLEFRAME",
        "HELIX",
        "SUN",
        "GEOPOSITIONMARKER",
    }
)
ACIS_TYPES = frozenset(
    {
        "3DSOLID",
        "REGION",
        "BODY",
        "SURFACE",
        "EXTRUDEDSURFACE",
        "LOFTEDSURFACE",
        "REVOLVEDSURFACE",
        "SWEPTSURFACE",
        "PLANESURFACE",
        "NURBSURFACE",
    }
)


@dataclass(slots=True)
class Contour:
    """A closed ring in the XY plane (WCS), last point not repeated."""

    points: np.ndarray  # (n, 2) float64
    z: float
    thickness: float
    layer: str
    color: RGB | None
    handle: str
    dxftype: str
    hatch_group: int = -1  # rings of one HATCH combine by even-odd inside that hatch only


@dataclass(slots=True)
class TiltedContour:
    """A closed outline drawn in a plane not parallel to XY, in its own OCS (drawing units).

    It is extruded along its own normal: that is how AutoCAD gives such an entity thickness.
    """

    points: np.ndarray  # (n, 2) OCS x/y
    elevation: float  # OCS z of the plane
    axes: np.ndarray  # (3, 3) rows: OCS x, y, z axes in WCS
    thickness: float
    layer: str
    color: RGB | None
    handle: str
    dxftype: str


@dataclass(slots=True)
class Piece:
    """An open polyline in the XY plane (WCS), to be chained with others of its layer."""

    points: np.ndarray  # (n, 2) float64
    z: float
    layer: str
    handle: str


@dataclass(slots=True)
class PassMesh:
    vertices: np.ndarray  # (n, 3)
    faces: np.ndarray  # (m, 3) int
    layer: str
    color: RGB | None
    handle: str
    dxftype: str


@dataclass(slots=True)
class Skip:
    handle: str
    dxftype: str
    layer: str
    reason: str


@dataclass(slots=True)
class _PendingCurve:
    """A curved outline kept as an ezdxf Path until the drawing size (and so the tolerance) is known."""

    path: dxf_path.Path
    closed: bool
    z_planar_check: bool
    dxftype: str
    handle: str
    layer: str
    color: RGB | None
    thickness: float
    hatch_group: int
    normal: tuple[float, float, float] | None = None  # set for outlines in a tilted plane


@dataclass(slots=True)
class _PendingArc:
    """A CIRCLE/ARC in the default OCS, flattened analytically once the tolerance is known."""

    cx: float
    cy: float
    z: float
    radius: float
    start: float  # radians
    sweep: float  # radians, 2 pi for a circle
    closed: bool
    dxftype: str
    handle: str
    layer: str
    color: RGB | None
    thickness: float


@dataclass(slots=True)
class _PendingBulges:
    """A 2D polyline with arc segments in the default OCS, flattened with numpy at the end."""

    points: np.ndarray  # (n, 2)
    bulges: np.ndarray  # (n,)
    closed: bool
    z: float
    dxftype: str
    handle: str
    layer: str
    color: RGB | None
    thickness: float


@dataclass(slots=True)
class _Placement:
    matrix: np.ndarray  # (4, 4), row-vector convention like ezdxf's Matrix44
    layer: str
    color: RGB | None
    handle: str


@dataclass
class Collected:
    contours: list[Contour] = field(default_factory=list)
    tilted: list[TiltedContour] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    # LINE entities as (x1, y1, x2, y2, z) rows per layer: the hot path of floor plans. Single
    # lines are appended to a flat array of doubles (40 bytes a line, not a tuple of five float
    # objects), lines placed by block references as whole arrays.
    lines: dict[str, array[float]] = field(default_factory=dict)
    line_arrays: dict[str, list[np.ndarray]] = field(default_factory=dict)
    meshes: list[PassMesh] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)  # non-annotation skips, capped
    skip_counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (type, reason) -> count
    seen: Counter[str] = field(default_factory=Counter)
    used: Counter[str] = field(default_factory=Counter)
    layer_colors: dict[str, Counter[RGB]] = field(default_factory=dict)
    layers: set[str] = field(default_factory=set)  # every layer an entity was seen on
    texts: list[TextItem] = field(default_factory=list)  # words on the drawing (annotations.py)
    inserts: list[InsertRecord] = field(default_factory=list)  # block references, placed
    # Left out on purpose (sheet furniture, furniture blocks...): reason -> count of entities.
    excluded: Counter[str] = field(default_factory=Counter)
    hatch_count: int = 0
    block_references: int = 0
    bounds: tuple[np.ndarray, np.ndarray] | None = None  # XY min/max of all collected geometry
    flatten_distance: float = 0.0

    def line_array(self, layer: str) -> np.ndarray:
        chunks = list(self.line_arrays.get(layer, []))
        if self.lines.get(layer):
            chunks.append(np.frombuffer(self.lines[layer], dtype=np.float64).reshape(-1, 5).copy())
        return np.concatenate(chunks) if chunks else np.zeros((0, 5))

    def line_layers(self) -> set[str]:
        return {k for k, v in self.lines.items() if v} | {k for k, v in self.line_arrays.items() if v}

    def release_linework(self) -> None:
        """Drop loose lines and open pieces once they have become faces and wall bands."""
        self.pieces.clear()
        self.lines.clear()
        self.line_arrays.clear()


@dataclass
class _Budget:
    """Geometry items placed by block references so far, shared by a collector and its blocks."""

    placed: int = 0

    def charge(self, items: int, name: str) -> None:
        self.placed += items
        if self.placed > MAX_PLACED_ITEMS:
            raise ConversionError(
                DRAWING_TOO_COMPLEX,
                f"block references expand to more than {MAX_PLACED_ITEMS:,} geometry items "
                f"(nested blocks or MINSERT grids; last: block {name!r}); the drawing is refused "
                "before it exhausts memory",
                ErrorKind.RESOURCE_EXHAUSTED,
            )


def _template_size(template: Collected) -> int:
    lines = sum(len(v) // 5 for v in template.lines.values())
    lines += sum(len(a) for arrays in template.line_arrays.values() for a in arrays)
    return len(template.contours) + len(template.pieces) + len(template.meshes) + len(template.texts) + lines + 1


def _is_annotation(dxftype: str) -> bool:
    return dxftype in ANNOTATION_TYPES


class EntityCollector:
    """Collects geometry from entities; curves are flattened to ``flatten_relative`` x drawing size."""

    def __init__(
        self,
        layer_rgb: dict[str, RGB | None],
        flatten_relative: float,
        *,
        in_block: bool = False,
        templates: dict[str, Collected | None] | None = None,
        building: tuple[str, ...] = (),
        exclude_block: Callable[[str, str], str] | None = None,
        budget: _Budget | None = None,
        hidden_layers: dict[str, str] | None = None,
    ) -> None:
        self.layer_rgb = layer_rgb
        self.flatten_relative = flatten_relative
        self.in_block = in_block
        # Block name -> collected template; None while under construction (cycle guard).
        self.templates: dict[str, Collected | None] = {} if templates is None else templates
        self.building = building
        # (block name, INSERT layer) -> why its geometry stays out of the model ("" keeps it).
        self.exclude_block = exclude_block
        self.budget = _Budget() if budget is None else budget
        # Layer -> why nothing on it is modelled (off, frozen, not plotted): a person reading the
        # sheet never sees it. Entities there are counted in ``excluded``, not skipped as errors.
        self.hidden_layers = hidden_layers or {}
        self._excluded_placements: dict[str, tuple[str, list[_Placement]]] = {}
        self.out = Collected()
        self._pending: list[_PendingCurve] = []
        self._pending_arcs: list[_PendingArc] = []
        self._pending_bulges: list[_PendingBulges] = []
        self._placements: dict[str, list[_Placement]] = {}
        self._layer_names: dict[str, str] = {}
        self._dispatch: dict[str, Any] = {
            "LINE": self._line,
            "LWPOLYLINE": self._polyline,
            "POLYLINE": self._polyline,
            "CIRCLE": self._curve,
            "ARC": self._curve,
            "ELLIPSE": self._curve,
            "SPLINE": self._curve,
            "HATCH": self._hatch,
            "MPOLYGON": self._hatch,
            "SOLID": self._solid,
            "TRACE": self._solid,
            "3DFACE": self._face,
            "MESH": self._mesh,
            "INSERT": self._insert,
        }

    # --- entry --------------------------------------------------------------------------------
    def collect(self, entities: Any) -> Collected:
        for entity in entities:
            self._visit(entity)
        self._place_all()
        self.out.bounds = self._bounds()
        if self.out.bounds is not None:
            low, high = self.out.bounds
            self.out.flatten_distance = float(np.linalg.norm(high - low)) * self.flatten_relative
        for pending in self._pending:
            self._flatten_pending(pending)
        for arc in self._pending_arcs:
            self._flatten_arc(arc)
        for polyline in self._pending_bulges:
            self._flatten_bulges(polyline)
        self._pending.clear()
        self._pending_arcs.clear()
        self._pending_bulges.clear()
        return self.out

    def _visit(self, entity: DXFGraphic) -> None:
        dxftype = entity.dxftype()
        self.out.seen[dxftype] += 1
        try:
            handle = str(entity.dxf.get("handle", "") or "")
            layer = self._layer(entity)
        except Exception:  # unknown entity kinds (e.g. R2.10 REPEAT) may lack the common attributes
            self._skip("", dxftype, "0", "entity type not supported for extrusion")
            return
        hidden = self.hidden_layers.get(layer)
        if hidden is not None:
            self.out.excluded[hidden] += 1
            return
        self.out.layers.add(layer)
        if dxftype in TEXT_TYPES:
            self._text(entity, handle, layer)
        handler = self._dispatch.get(dxftype)
        if handler is None:
            reason = (
                "ACIS solid/surface data cannot be tessellated without an ACIS kernel"
                if dxftype in ACIS_TYPES
                else "annotation or non-geometric entity"
                if dxftype in ANNOTATION_TYPES
                else "entity type not supported for extrusion"
            )
            self._skip(handle, dxftype, layer, reason)
            return
        try:
            handler(entity, handle, layer)
        except ConversionError:  # a drawing-level refusal (too complex), not one broken entity
            raise
        except Exception as exc:  # one broken entity must never abort the drawing
            self._skip(handle, dxftype, layer, f"cannot be built: {type(exc).__name__}: {exc}")

    # --- helpers ------------------------------------------------------------------------------
    def _text(self, entity: Any, handle: str, layer: str) -> None:
        """Keep what a text says (not extruded: it still counts as a skipped annotation)."""
        if len(self.out.texts) >= MAX_TEXTS:
            return
        try:
            item = text_of(entity, layer, handle, self.building[-1] if self.building else "")
        except Exception:  # an unreadable text is only a text less to reason with
            return
        if item is not None:
            self.out.texts.append(item)

    def _layer(self, entity: DXFGraphic) -> str:
        raw = str(entity.dxf.get("layer", "0") or "0")
        name = self._layer_names.get(raw)
        if name is None:
            name = layer_display_name(raw)
            self._layer_names[raw] = name
        if name == "0" and self.in_block:
            return BYBLOCK_LAYER
        return name

    def _color(self, entity: DXFGraphic, layer: str) -> RGB | None:
        if entity.dxf.hasattr("true_color"):
            rgb = entity.rgb
            if rgb is not None:
                return (int(rgb[0]), int(rgb[1]), int(rgb[2]))
        aci = int(entity.dxf.get("color", 256))
        if aci == 0:  # BYBLOCK
            return BYBLOCK_COLOR if self.in_block else None
        if 1 <= aci <= 255:
            r, g, b = dxf_colors.aci2rgb(aci)
            return (r, g, b)
        return None if layer == BYBLOCK_LAYER else self.layer_rgb.get(layer)

    def _skip(self, handle: str, dxftype: str, layer: str, reason: str, count: int = 1) -> None:
        self.out.skip_counts[(dxftype, reason)] += count
        if not _is_annotation(dxftype) and len(self.out.skipped) < _MAX_SKIP_RECORDS:
            self.out.skipped.append(Skip(handle, dxftype, layer, reason))

    def _used(self, dxftype: str, layer: str, color: RGB | None) -> None:
        self.out.used[dxftype] += 1
        if color is not None and color != BYBLOCK_COLOR and layer != BYBLOCK_LAYER:
            self.out.layer_colors.setdefault(layer, Counter())[color] += 1

    def _bounds(self) -> tuple[np.ndarray, np.ndarray] | None:
        chunks = [self.out.line_array(layer)[:, :4].reshape(-1, 2) for layer in self.out.line_layers()]
        chunks += [c.points for c in self.out.contours] + [p.points for p in self.out.pieces]
        chunks += [m.vertices[:, :2] for m in self.out.meshes]
        if self._pending_arcs:
            arcs = np.asarray([(a.cx, a.cy, a.radius) for a in self._pending_arcs])
            chunks.append(np.concatenate([arcs[:, :2] - arcs[:, 2:3], arcs[:, :2] + arcs[:, 2:3]]))
        for polyline in self._pending_bulges:
            chunks.append(polyline.points)
            chunks.append(bulge_midpoints(polyline.points, polyline.bulges, polyline.closed))
        for pending in self._pending:
            # Control points enclose the curve (convex hull property): good enough for a tolerance.
            control = pending.path.control_vertices()
            if control:
                chunks.append(np.asarray([(v.x, v.y) for v in control], dtype=float))
        if not chunks:
            return None
        points = np.concatenate(chunks)
        points = points[np.isfinite(points).all(axis=1) & (np.abs(points) <= MAX_COORDINATE).all(axis=1)]
        if len(points) == 0:
            return None
        return points.min(axis=0), points.max(axis=0)

    def _tolerance(self, size: float) -> float:
        # Relative to the drawing, but small curves (bolt holes in a site plan) get a finer
        # tolerance relative to themselves, down to a hundredth of the drawing tolerance.
        drawing = self.out.flatten_distance
        return max(min(drawing, size * _FLATTEN_ENTITY_RELATIVE), drawing * 1e-2, 1e-12)

    def _flatten_arc(self, arc: _PendingArc) -> None:
        distance = min(self._tolerance(2.0 * arc.radius), arc.radius)
        step = 2.0 * math.acos(1.0 - distance / arc.radius)  # chord angle for that sagitta
        count = int(
            min(
                max(math.ceil(arc.sweep / step), math.ceil(8 * arc.sweep / math.tau), 2),
                4096,
            )
        )
        angles = arc.start + np.linspace(0.0, arc.sweep, count, endpoint=not arc.closed)
        points3 = np.column_stack(
            [
                arc.cx + arc.radius * np.cos(angles),
                arc.cy + arc.radius * np.sin(angles),
                np.full(count, arc.z),
            ]
        )
        self._add(
            points3,
            arc.closed,
            arc.dxftype,
            arc.handle,
            arc.layer,
            arc.color,
            arc.thickness,
            count_use=False,
        )

    def _flatten_bulges(self, polyline: _PendingBulges) -> None:
        low, high = polyline.points.min(axis=0), polyline.points.max(axis=0)
        distance = self._tolerance(float(np.hypot(*(high - low))))
        points = bulge_points(polyline.points, polyline.bulges, polyline.closed, distance)
        points3 = np.column_stack([points, np.full(len(points), polyline.z)])
        self._add(
            points3,
            polyline.closed,
            polyline.dxftype,
            polyline.handle,
            polyline.layer,
            polyline.color,
            polyline.thickness,
            count_use=False,
        )

    def _add_tilted(self, pending: _PendingCurve, points3: np.ndarray) -> None:
        assert pending.normal is not None
        ocs = OCS(Vec3(pending.normal))
        axes = np.asarray([tuple(ocs.ux), tuple(ocs.uy), tuple(ocs.uz)], dtype=float)
        local = points3 @ axes.T  # WCS -> OCS: the axes are orthonormal
        if len(local) > 3 and np.array_equal(local[0], local[-1]):
            local = local[:-1]
        if len(local) < 3 or not np.isfinite(local).all():
            self._skip(
                pending.handle,
                pending.dxftype,
                pending.layer,
                "closed outline with fewer than three points",
            )
            return
        self.out.tilted.append(
            TiltedContour(
                local[:, :2],
                float(np.median(local[:, 2])),
                axes,
                pending.thickness,
                pending.layer,
                pending.color,
                pending.handle,
                pending.dxftype,
            )
        )

    def _flatten_pending(self, pending: _PendingCurve) -> None:
        try:
            bbox = pending.path.bbox()
            size = (bbox.size.x**2 + bbox.size.y**2) ** 0.5 if bbox.has_data else 0.0
            distance = self._tolerance(size)
            points3 = np.asarray([(v.x, v.y, v.z) for v in pending.path.flattening(distance, segments=2)])
        except Exception as exc:
            self._skip(
                pending.handle,
                pending.dxftype,
                pending.layer,
                f"cannot be flattened: {exc}",
            )
            return
        if pending.normal is not None:
            self._add_tilted(pending, points3)
            return
        if pending.z_planar_check and len(points3) and np.ptp(points3[:, 2]) > 1e-9 * max(size, 1.0):
            self._skip(
                pending.handle,
                pending.dxftype,
                pending.layer,
                "curve is not planar in XY",
            )
            return
        self._add(
            points3,
            pending.closed,
            pending.dxftype,
            pending.handle,
            pending.layer,
            pending.color,
            pending.thickness,
            pending.hatch_group,
            count_use=False,
        )

    def _add(
        self,
        points3: np.ndarray,
        closed: bool,
        dxftype: str,
        handle: str,
        layer: str,
        color: RGB | None,
        thickness: float = 0.0,
        hatch_group: int = -1,
        count_use: bool = True,
    ) -> None:
        if len(points3) == 0 or not np.isfinite(points3).all():
            self._skip(handle, dxftype, layer, "no points or non-finite coordinates")
            return
        if np.abs(points3).max() > MAX_COORDINATE:
            self._skip(handle, dxftype, layer, _HUGE)
            return
        points = points3[:, :2]
        if closed and len(points) > 3 and points[0, 0] == points[-1, 0] and points[0, 1] == points[-1, 1]:
            points = points[:-1]
        if closed:
            if len(points) < 3:
                self._skip(
                    handle,
                    dxftype,
                    layer,
                    "closed outline with fewer than three points",
                )
                return
            self.out.contours.append(
                Contour(
                    points,
                    float(points3[0, 2]),
                    thickness,
                    layer,
                    color,
                    handle,
                    dxftype,
                    hatch_group,
                )
            )
        elif len(points) >= 2:
            self.out.pieces.append(Piece(points, float(points3[0, 2]), layer, handle))
        else:
            self._skip(handle, dxftype, layer, "fewer than two distinct points")
            return
        if count_use:
            self._used(dxftype, layer, color)

    def _defer(
        self,
        path: dxf_path.Path,
        closed: bool,
        entity: Any,
        handle: str,
        layer: str,
        thickness: float = 0.0,
        hatch_group: int = -1,
        z_planar_check: bool = False,
        normal: tuple[float, float, float] | None = None,
    ) -> None:
        color = self._color(entity, layer)
        self._pending.append(
            _PendingCurve(
                path,
                closed,
                z_planar_check,
                entity.dxftype(),
                handle,
                layer,
                color,
                thickness,
                hatch_group,
                normal,
            )
        )
        self._used(entity.dxftype(), layer, color)

    def _planar_in_xy(self, entity: DXFGraphic, handle: str, layer: str, closed_outline: bool = False) -> bool:
        """True for the usual XY-plane entity. A closed outline in a tilted plane is deferred to be
        extruded along its own normal; anything else tilted is skipped with the reason."""
        extrusion = Vec3(entity.dxf.get("extrusion", (0, 0, 1)))
        if abs(abs(extrusion.normalize().z) - 1.0) <= _Z_AXIS_TOLERANCE:
            return True
        if closed_outline:
            path = dxf_path.make_path(entity)
            if len(path):
                normal = extrusion.normalize()
                self._defer(
                    path,
                    True,
                    entity,
                    handle,
                    layer,
                    float(entity.dxf.get("thickness", 0.0)),
                    normal=(normal.x, normal.y, normal.z),
                )
                return False
        self._skip(
            handle,
            entity.dxftype(),
            layer,
            "open or unsupported outline in a plane not parallel to XY",
        )
        return False

    # --- entity handlers ----------------------------------------------------------------------
    def _line(self, entity: Any, handle: str, layer: str) -> None:
        start, end = entity.dxf.start, entity.dxf.end
        row = (start.x, start.y, end.x, end.y, start.z)
        if not all(math.isfinite(v) for v in row):
            self._skip(handle, "LINE", layer, "non-finite coordinates")
            return
        if max(abs(v) for v in row) > MAX_COORDINATE:
            self._skip(handle, "LINE", layer, _HUGE)
            return
        if start.x == end.x and start.y == end.y:
            self._skip(handle, "LINE", layer, "zero length in plan view")
            return
        self.out.lines.setdefault(layer, array("d")).extend(row)
        self._used("LINE", layer, self._color(entity, layer))

    def _polyline(self, entity: Any, handle: str, layer: str) -> None:
        dxftype = entity.dxftype()
        if dxftype == "POLYLINE" and (entity.is_poly_face_mesh or entity.is_polygon_mesh):
            self._builder_mesh(MeshBuilder.from_polyface(entity), entity, handle, layer)
            return
        color = self._color(entity, layer)
        if dxftype == "POLYLINE" and entity.is_3d_polyline:
            points3 = np.asarray([tuple(v) for v in entity.points()], dtype=float).reshape(-1, 3)
            if len(points3) and np.ptp(points3[:, 2]) > 0:
                self._skip(handle, dxftype, layer, "3D polyline is not planar in XY")
                return
            self._add(points3, bool(entity.is_closed), dxftype, handle, layer, color)
            return
        closed = bool(entity.closed if dxftype == "LWPOLYLINE" else entity.is_closed)
        if not self._planar_in_xy(entity, handle, layer, closed_outline=closed):
            return
        thickness = float(entity.dxf.get("thickness", 0.0))
        has_curves = entity.has_arc if dxftype == "LWPOLYLINE" else any(v.dxf.get("bulge", 0) for v in entity.vertices)
        extrusion = Vec3(entity.dxf.get("extrusion", (0, 0, 1)))
        default_ocs = tuple(extrusion) == (0, 0, 1)
        if dxftype == "LWPOLYLINE" and default_ocs:
            # Hot path: LWPOLYLINE in the default OCS, no per-vertex objects.
            xyb = np.asarray(entity.get_points("xyb"), dtype=float).reshape(-1, 3)
            elevation = float(entity.dxf.elevation)
            if not has_curves:
                points3 = np.column_stack([xyb[:, :2], np.full(len(xyb), elevation)])
                self._add(points3, closed, dxftype, handle, layer, color, thickness)
            else:
                self._defer_bulges(xyb, closed, elevation, dxftype, handle, layer, color, thickness)
            return
        if dxftype == "POLYLINE" and default_ocs and has_curves and not (entity.dxf.flags & 6):
            xyb = np.asarray(
                [(v.dxf.location.x, v.dxf.location.y, v.dxf.get("bulge", 0.0)) for v in entity.vertices],
                dtype=float,
            ).reshape(-1, 3)
            elevation = float(Vec3(entity.dxf.get("elevation", (0, 0, 0))).z)
            self._defer_bulges(xyb, closed, elevation, dxftype, handle, layer, color, thickness)
            return
        path = dxf_path.make_path(entity)
        if len(path) == 0:
            self._skip(handle, dxftype, layer, "polyline without segments")
            return
        self._defer(path, closed, entity, handle, layer, thickness)

    def _curve(self, entity: Any, handle: str, layer: str) -> None:
        dxftype = entity.dxftype()
        full_ellipse = dxftype == "ELLIPSE" and math.isclose(
            (float(entity.dxf.end_param) - float(entity.dxf.start_param)) % math.tau,
            0.0,
            abs_tol=1e-9,
        )
        if dxftype != "SPLINE" and not self._planar_in_xy(
            entity, handle, layer, closed_outline=dxftype == "CIRCLE" or full_ellipse
        ):
            return
        if dxftype in ("CIRCLE", "ARC"):
            closed = dxftype == "CIRCLE"
            radius = float(entity.dxf.radius)
            if not (radius > 0 and math.isfinite(radius)):
                self._skip(
                    handle,
                    dxftype,
                    layer,
                    f"{dxftype.lower()} with zero or invalid radius",
                )
                return
            if tuple(entity.dxf.get("extrusion", (0, 0, 1))) == (0, 0, 1):
                self._defer_arc(entity, handle, layer, radius, closed)
                return
        elif dxftype == "ELLIPSE":
            ratio = float(entity.dxf.ratio)
            major = Vec3(entity.dxf.major_axis).magnitude
            if not (major > 0 and ratio > 0 and math.isfinite(ratio) and math.isfinite(major)):
                self._skip(handle, dxftype, layer, "degenerate ellipse (zero axis)")
                return
            sweep = (float(entity.dxf.end_param) - float(entity.dxf.start_param)) % math.tau
            closed = math.isclose(sweep, 0.0, abs_tol=1e-9)
        else:  # SPLINE
            closed = bool(entity.closed)
        path = dxf_path.make_path(entity)
        if len(path) == 0:
            self._skip(handle, dxftype, layer, "curve without segments")
            return
        if dxftype == "SPLINE":
            closed = closed or path.start.isclose(path.end)
        thickness = float(entity.dxf.get("thickness", 0.0)) if dxftype in ("CIRCLE", "ARC") else 0.0
        self._defer(
            path,
            closed,
            entity,
            handle,
            layer,
            thickness,
            z_planar_check=dxftype == "SPLINE",
        )

    def _defer_bulges(
        self,
        xyb: np.ndarray,
        closed: bool,
        z: float,
        dxftype: str,
        handle: str,
        layer: str,
        color: RGB | None,
        thickness: float,
    ) -> None:
        if len(xyb) < 2 or not np.isfinite(xyb).all() or not math.isfinite(z):
            self._skip(
                handle,
                dxftype,
                layer,
                "fewer than two points or non-finite coordinates",
            )
            return
        self._pending_bulges.append(
            _PendingBulges(
                xyb[:, :2],
                xyb[:, 2],
                closed,
                z,
                dxftype,
                handle,
                layer,
                color,
                thickness,
            )
        )
        self._used(dxftype, layer, color)

    def _defer_arc(self, entity: Any, handle: str, layer: str, radius: float, closed: bool) -> None:
        center = entity.dxf.center
        if closed:
            start, sweep = 0.0, math.tau
        else:
            start = math.radians(float(entity.dxf.start_angle))
            sweep = (math.radians(float(entity.dxf.end_angle)) - start) % math.tau or math.tau
        if not all(math.isfinite(v) for v in (center.x, center.y, center.z, start, sweep)):
            self._skip(handle, entity.dxftype(), layer, "non-finite coordinates")
            return
        color = self._color(entity, layer)
        thickness = float(entity.dxf.get("thickness", 0.0))
        self._pending_arcs.append(
            _PendingArc(
                center.x,
                center.y,
                center.z,
                radius,
                start,
                sweep,
                closed,
                entity.dxftype(),
                handle,
                layer,
                color,
                thickness,
            )
        )
        self._used(entity.dxftype(), layer, color)

    def _hatch(self, entity: Any, handle: str, layer: str) -> None:
        if not self._planar_in_xy(entity, handle, layer):
            return
        paths = [path for path in dxf_path.from_hatch(entity) if len(path) > 0]
        if not paths:
            self._skip(handle, entity.dxftype(), layer, "hatch without a usable boundary path")
            return
        group = self.out.hatch_count
        self.out.hatch_count += 1
        for path in paths:
            self._defer(path, True, entity, handle, layer, hatch_group=group)
        # _defer counted each boundary path as a use; a hatch is one entity.
        self.out.used[entity.dxftype()] -= len(paths) - 1

    def _solid(self, entity: Any, handle: str, layer: str) -> None:
        if not self._planar_in_xy(entity, handle, layer, closed_outline=True):
            return
        ocs = entity.ocs()
        # SOLID/TRACE store their corners in "Z" order: 0, 1, 3, 2 walks the outline.
        corners = [
            entity.dxf.vtx0,
            entity.dxf.vtx1,
            entity.dxf.get("vtx3", entity.dxf.vtx2),
            entity.dxf.vtx2,
        ]
        wcs = np.asarray([tuple(v) for v in ocs.points_to_wcs(corners)], dtype=float)
        _, keep = np.unique(np.round(wcs[:, :2], 12), axis=0, return_index=True)
        wcs = wcs[np.sort(keep)]
        thickness = float(entity.dxf.get("thickness", 0.0))
        self._add(
            wcs,
            True,
            entity.dxftype(),
            handle,
            layer,
            self._color(entity, layer),
            thickness,
        )

    def _face(self, entity: Any, handle: str, layer: str) -> None:
        vertices = [tuple(entity.dxf.get(f"vtx{i}", entity.dxf.vtx2)) for i in range(4)]
        faces = [[0, 1, 2], [0, 2, 3]] if vertices[3] != vertices[2] else [[0, 1, 2]]
        self._pass_mesh(
            np.asarray(vertices, float),
            np.asarray(faces, np.int64),
            entity,
            handle,
            layer,
        )

    def _mesh(self, entity: Any, handle: str, layer: str) -> None:
        self._builder_mesh(MeshBuilder.from_mesh(entity), entity, handle, layer)

    def _builder_mesh(self, builder: MeshBuilder, entity: Any, handle: str, layer: str) -> None:
        vertices = np.asarray([tuple(v) for v in builder.vertices], dtype=float).reshape(-1, 3)
        triangles = [tri for face in builder.faces for tri in _fan(face)]
        if len(vertices) == 0 or not triangles or not np.isfinite(vertices).all():
            self._skip(
                handle,
                entity.dxftype(),
                layer,
                "mesh without faces or with non-finite vertices",
            )
            return
        self._pass_mesh(vertices, np.asarray(triangles, np.int64), entity, handle, layer)

    def _pass_mesh(
        self,
        vertices: np.ndarray,
        faces: np.ndarray,
        entity: Any,
        handle: str,
        layer: str,
    ) -> None:
        color = self._color(entity, layer)
        self.out.meshes.append(PassMesh(vertices, faces, layer, color, handle, entity.dxftype()))
        self._used(entity.dxftype(), layer, color)

    # --- blocks -------------------------------------------------------------------------------
    def _template(self, name: str, doc: Any, handle: str, layer: str) -> Collected | None:
        if name in self.templates:
            template = self.templates[name]
            if template is None:
                self._skip(handle, "INSERT", layer, f"block {name!r} references itself")
            return template
        if len(self.building) >= _MAX_BLOCK_DEPTH:
            self._skip(
                handle,
                "INSERT",
                layer,
                f"block nesting deeper than {_MAX_BLOCK_DEPTH} levels",
            )
            return None
        block = doc.blocks.get(name) if doc is not None else None
        if block is None:
            self._skip(handle, "INSERT", layer, f"block {name!r} is not defined")
            return None
        self.templates[name] = None
        sub = EntityCollector(
            self.layer_rgb,
            self.flatten_relative,
            in_block=True,
            templates=self.templates,
            building=(*self.building, name),
            exclude_block=self.exclude_block,
            budget=self.budget,
            hidden_layers=self.hidden_layers,
        )
        template = sub.collect(block)
        self.templates[name] = template
        return template

    def _insert(self, entity: Any, handle: str, layer: str) -> None:
        name = str(entity.dxf.name)
        template = self._template(name, entity.doc, handle, layer)
        if template is None:
            return
        color = self._color(entity, layer)
        # Charged before a MINSERT grid is expanded: 30000 x 30000 must fail here, not in memory.
        self.budget.charge(int(entity.mcount) * _template_size(template), name)
        inserts = list(entity.multi_insert()) if entity.mcount > 1 else [entity]
        reason = self.exclude_block(name, layer) if self.exclude_block is not None else ""
        if reason:
            placements = self._excluded_placements.setdefault(name, (reason, []))[1]
            self.out.excluded[reason] += len(inserts)
        else:
            placements = self._placements.setdefault(name, [])
        for insert in inserts:
            matrix = np.asarray(list(insert.matrix44()), dtype=float).reshape(4, 4)
            placements.append(_Placement(matrix, layer, color, handle))
        self.out.used["INSERT"] += 1
        for attrib in getattr(entity, "attribs", []):
            self._text(attrib, str(attrib.dxf.get("handle", "") or handle), self._layer(attrib))

    def _place_all(self) -> None:
        """Place every block reference, one numpy pass per block definition and template item."""
        for name, placements in self._placements.items():
            template = self.templates.get(name)
            if template is not None and placements:
                self._place(template, placements)
                self._place_annotations(name, template, placements)
        for name, (reason, placements) in self._excluded_placements.items():
            template = self.templates.get(name)
            if template is not None and placements:
                self._place_annotations(name, template, placements, excluded=reason)
        self._placements.clear()
        self._excluded_placements.clear()

    def _place_annotations(
        self, name: str, template: Collected, placements: list[_Placement], excluded: str = ""
    ) -> None:
        """Texts and nested block references of a template, placed like its geometry."""
        matrices = np.stack([p.matrix for p in placements])
        layers = [p.layer for p in placements]
        handles = [p.handle for p in placements]
        room = MAX_TEXTS - len(self.out.texts)
        if template.texts and room > 0:
            self.out.texts.extend(place_texts(template.texts, matrices, layers, handles, name)[:room])
        if template.bounds is not None:
            scales = np.sqrt(np.abs(np.linalg.det(matrices[:, :2, :2])))
            lows, highs = placed_bounds(template.bounds[0], template.bounds[1], matrices)
            for placement, low, high, scale in zip(placements, lows, highs, scales.tolist(), strict=True):
                self.out.inserts.append(
                    InsertRecord(name, placement.layer, placement.handle, low, high, scale, excluded)
                )
        for nested in template.inserts[: max(0, MAX_TEXTS - len(self.out.inserts))]:
            corners = placed_bounds(nested.low, nested.high, matrices)
            for placement, low, high in zip(placements, corners[0], corners[1], strict=True):
                layer = placement.layer if nested.layer == BYBLOCK_LAYER else nested.layer
                why = excluded or nested.excluded
                record = InsertRecord(nested.name, layer, placement.handle, low, high, nested.scale, why)
                self.out.inserts.append(record)

    def _place(self, template: Collected, placements: list[_Placement]) -> None:
        """Add a block template once per placement (row-vector matrices, as ezdxf)."""
        out = self.out
        count = len(placements)
        matrices = np.stack([p.matrix for p in placements])
        linear, shift = matrices[:, :3, :3], matrices[:, 3, :3]
        z_scale = np.linalg.norm(linear[:, 2, :], axis=1)
        reference = np.maximum(1.0, np.abs(linear).max(axis=(1, 2)))
        in_plane = (
            (np.abs(np.abs(linear[:, 2, 2]) - z_scale) <= 1e-9 * np.maximum(z_scale, 1.0))
            & (np.abs(linear[:, 0, 2]) <= 1e-12 * reference)
            & (np.abs(linear[:, 1, 2]) <= 1e-12 * reference)
        )
        out.block_references += count * (1 + template.block_references)
        for counter, source in ((out.seen, template.seen), (out.used, template.used)):
            for key, value in source.items():
                counter[key] += value * count
        for reason_key, value in template.skip_counts.items():
            out.skip_counts[reason_key] += value * count
        for reason, value in template.excluded.items():
            out.excluded[reason] += value * count
        insert_layers = Counter(p.layer for p in placements)
        for insert_layer, times in insert_layers.items():
            own = {insert_layer if n == BYBLOCK_LAYER else n for n in template.layers}
            out.layers.update(own)
            for item_layer, colors in template.layer_colors.items():
                target = out.layer_colors.setdefault(
                    insert_layer if item_layer == BYBLOCK_LAYER else item_layer,
                    Counter(),
                )
                for rgb, value in colors.items():
                    target[rgb] += value * times
        for placement in placements:
            for skip in template.skipped:
                if len(out.skipped) >= _MAX_SKIP_RECORDS:
                    break
                layer = placement.layer if skip.layer == BYBLOCK_LAYER else skip.layer
                out.skipped.append(
                    Skip(
                        placement.handle,
                        skip.dxftype,
                        layer,
                        f"in block: {skip.reason}",
                    )
                )

        def own_layer(name: str, placement: _Placement) -> str:
            return placement.layer if name == BYBLOCK_LAYER else name

        def own_color(value: RGB | None, item_layer: str, placement: _Placement) -> RGB | None:
            if value == BYBLOCK_COLOR:
                return placement.color
            if value is None and item_layer == BYBLOCK_LAYER:
                return self.layer_rgb.get(placement.layer)
            return value

        def place(xyz: np.ndarray, rows: np.ndarray) -> np.ndarray:
            """(n, 3) template points -> (len(rows), n, 3) placed points."""
            return np.einsum("nj,kjl->knl", xyz, linear[rows]) + shift[rows][:, None, :]

        for tilted in template.tilted:
            for placement in placements:
                self._skip(
                    placement.handle,
                    tilted.dxftype,
                    own_layer(tilted.layer, placement),
                    "outline in a tilted plane inside a block: not placed",
                )
        has_2d = bool(template.contours or template.pieces or template.line_layers())
        if has_2d:
            for index in np.flatnonzero(~in_plane).tolist():
                placement = placements[index]
                self._skip(
                    placement.handle,
                    "INSERT",
                    placement.layer,
                    "block reference tilted out of the XY plane: 2D content skipped",
                )
        planar = np.flatnonzero(in_plane)
        if has_2d and len(planar):
            hatch_base = out.hatch_count
            out.hatch_count += len(planar) * template.hatch_count
            for contour in template.contours:
                xyz = np.column_stack([contour.points, np.full(len(contour.points), contour.z)])
                moved = place(xyz, planar)
                for slot, index in enumerate(planar.tolist()):
                    placement = placements[index]
                    out.contours.append(
                        Contour(
                            moved[slot, :, :2],
                            float(moved[slot, 0, 2]),
                            contour.thickness * float(z_scale[index]),
                            own_layer(contour.layer, placement),
                            own_color(contour.color, contour.layer, placement),
                            placement.handle,
                            contour.dxftype,
                            hatch_base + slot * template.hatch_count + contour.hatch_group
                            if contour.hatch_group >= 0
                            else -1,
                        )
                    )
            for piece in template.pieces:
                xyz = np.column_stack([piece.points, np.full(len(piece.points), piece.z)])
                moved = place(xyz, planar)
                for slot, index in enumerate(planar.tolist()):
                    placement = placements[index]
                    out.pieces.append(
                        Piece(
                            moved[slot, :, :2],
                            float(moved[slot, 0, 2]),
                            own_layer(piece.layer, placement),
                            placement.handle,
                        )
                    )
            for item_layer in template.line_layers():
                rows = template.line_array(item_layer)
                starts = place(np.column_stack([rows[:, 0:2], rows[:, 4]]), planar)
                ends = place(np.column_stack([rows[:, 2:4], rows[:, 4]]), planar)
                placed = np.concatenate([starts[..., :2], ends[..., :2], starts[..., 2:3]], axis=2)
                layers = np.asarray(
                    [own_layer(item_layer, placements[i]) for i in planar.tolist()],
                    dtype=object,
                )
                for target in set(layers.tolist()):
                    out.line_arrays.setdefault(target, []).append(placed[layers == target].reshape(-1, 5))
        for mesh in template.meshes:
            moved = place(mesh.vertices, np.arange(count))
            for index, placement in enumerate(placements):
                out.meshes.append(
                    PassMesh(
                        moved[index],
                        mesh.faces,
                        own_layer(mesh.layer, placement),
                        own_color(mesh.color, mesh.layer, placement),
                        placement.handle,
                        mesh.dxftype,
                    )
                )


def _fan(face: Any) -> list[tuple[int, int, int]]:
    indices = list(face)
    return [(indices[0], indices[i], indices[i + 1]) for i in range(1, len(indices) - 1)]
