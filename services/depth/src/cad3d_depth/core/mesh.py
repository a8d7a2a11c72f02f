"""Relief mesh: a regular grid over the photo, lifted by normalised inverse depth.

The grid resolution is chosen from the triangle budget (uniform resampling of the depth map is the
decimation: the map is smooth at the model's 256x256 resolution, so an error-driven simplifier would
buy little here and cost a dependency). An optional solid base (side walls + bottom) makes the mesh
a closed, consistently wound solid for printing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# Model units: the photo is RELIEF_WIDTH wide (mm in an STL slicer); heights are relief_scale * width.
RELIEF_WIDTH = 100.0
# Solid base thickness below the lowest relief point, as a fraction of the photo width.
BASE_THICKNESS = 0.02


@dataclass(frozen=True)
class ReliefMesh:
    vertices: np.ndarray  # (V, 3) float32, x right, y up, z = relief height (toward the viewer)
    faces: np.ndarray  # (F, 3) int32, counter-clockwise seen from outside
    uv: np.ndarray  # (V, 2) float32 texture coordinates (v up)
    colors: np.ndarray  # (V, 4) uint8 RGBA vertex colours
    grid: tuple[int, int]  # (columns, rows) of grid vertices
    solid: bool


def grid_size(width: int, height: int, budget: int, solid: bool) -> tuple[int, int]:
    """Vertex columns/rows whose triangle count (walls and bottom included) stays within budget."""
    aspect = width / height
    cells = max(budget, 2) / 2.0
    if solid:  # walls and bottom take 3 triangles per boundary edge, about 6 * sqrt(cells) edges
        cells = max(1.0, cells - 3.0 * (1 + aspect) * math.sqrt(cells / aspect))
    cols = max(2, min(width, math.floor(math.sqrt(cells * aspect)) + 1))
    rows = max(2, min(height, math.floor(cells / (cols - 1)) + 1))
    while triangle_count(cols, rows, solid) > budget and (cols > 2 or rows > 2):
        # Trim whichever side is longer relative to the photo's aspect.
        if rows == 2 or (cols > 2 and (cols - 1) / (rows - 1) >= aspect):
            cols -= 1
        else:
            rows -= 1
    return cols, rows


def triangle_count(cols: int, rows: int, solid: bool) -> int:
    top = 2 * (cols - 1) * (rows - 1)
    boundary = 2 * (cols - 1) + 2 * (rows - 1)
    return top + (3 * boundary if solid else 0)  # walls: 2 per edge, bottom fan: 1 per edge


def build_relief(
    normalized_inverse: np.ndarray, rgb: np.ndarray, *, relief_scale: float, budget: int, solid: bool
) -> ReliefMesh:
    height_px, width_px = normalized_inverse.shape
    cols, rows = grid_size(width_px, height_px, budget, solid)
    heights = cv2.resize(normalized_inverse, (cols, rows), interpolation=cv2.INTER_AREA)
    colors = cv2.resize(rgb, (cols, rows), interpolation=cv2.INTER_AREA)

    photo_w = RELIEF_WIDTH
    photo_h = RELIEF_WIDTH * height_px / width_px
    u = np.linspace(0.0, 1.0, cols, dtype=np.float32)
    v = np.linspace(0.0, 1.0, rows, dtype=np.float32)
    uu, vv = np.meshgrid(u, v)  # row 0 = top of the photo
    top = np.stack(
        [uu * photo_w, (1.0 - vv) * photo_h, heights.astype(np.float32) * np.float32(relief_scale * photo_w)],
        axis=-1,
    ).reshape(-1, 3)
    uv = np.stack([uu, 1.0 - vv], axis=-1).reshape(-1, 2)
    rgba = np.concatenate([colors.reshape(-1, 3), np.full((cols * rows, 1), 255, np.uint8)], axis=1)
    faces = _grid_faces(cols, rows)
    if not solid:
        return ReliefMesh(top, faces, uv, rgba, (cols, rows), False)

    ring = _boundary_ring(cols, rows)
    bottom_z = -BASE_THICKNESS * photo_w
    bottom = top[ring].copy()
    bottom[:, 2] = bottom_z
    centre = np.array([[photo_w / 2, photo_h / 2, bottom_z]], dtype=np.float32)
    vertices = np.concatenate([top, bottom, centre]).astype(np.float32)
    n_top, n_ring = len(top), len(ring)
    bottom_idx = n_top + np.arange(n_ring)
    centre_idx = n_top + n_ring
    top_a, top_b = ring, np.roll(ring, -1)
    bot_a, bot_b = bottom_idx, np.roll(bottom_idx, -1)
    # The ring runs clockwise seen from above (+z): walls face outward with this winding.
    walls = np.concatenate([np.stack([top_a, top_b, bot_a], axis=1), np.stack([top_b, bot_b, bot_a], axis=1)])
    base = np.stack([bot_a, bot_b, np.full(n_ring, centre_idx)], axis=1)
    all_faces = np.concatenate([faces, walls, base]).astype(np.int32)
    all_uv = np.concatenate([uv, uv[ring], np.array([[0.5, 0.5]], np.float32)]).astype(np.float32)
    all_rgba = np.concatenate([rgba, rgba[ring], rgba[:1]])
    return ReliefMesh(vertices, all_faces, all_uv, all_rgba, (cols, rows), True)


def _grid_faces(cols: int, rows: int) -> np.ndarray:
    index = np.arange(rows * cols, dtype=np.int32).reshape(rows, cols)
    tl, tr = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
    bl, br = index[1:, :-1].ravel(), index[1:, 1:].ravel()
    # Row index grows downward (y decreases), so (tl, bl, tr) is counter-clockwise seen from +z.
    return np.concatenate([np.stack([tl, bl, tr], axis=1), np.stack([tr, bl, br], axis=1)]).astype(np.int32)


def _boundary_ring(cols: int, rows: int) -> np.ndarray:
    """Grid boundary vertex indices, clockwise seen from +z: along the top row, then down the right."""
    index = np.arange(rows * cols).reshape(rows, cols)
    return np.concatenate([index[0, :-1], index[:-1, -1], index[-1, :0:-1], index[:0:-1, 0]]).astype(np.int32)
