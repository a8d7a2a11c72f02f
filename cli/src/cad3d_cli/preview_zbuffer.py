"""A z-buffer in numpy: which triangle is nearest at each pixel, with no GPU or OpenGL.

Triangles are cut into pixel rows, rows into pixels (all with array operations, a bounded number
of fragments at a time), and each pixel keeps its nearest fragment. A painter's algorithm (sort
faces, fill them far to near) was tried first: it draws the top of an L-shaped slab under the wall
of its notch, and cutting big faces small enough to fix that multiplies thin ones into millions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Fragments (covered pixels, hidden ones included) resolved per step: bounds the memory to a few
# hundred MB whatever the model.
FRAGMENTS_PER_STEP = 4_000_000
ROWS_PER_STEP = 2_000_000


@dataclass
class Buffers:
    """Per pixel: the nearest triangle (-1 where none) and its depth (larger is nearer); per
    triangle the depth plane's slopes along x and y, to tell a fold from an occlusion."""

    triangle: np.ndarray
    depth: np.ndarray
    slope: np.ndarray


def rasterise(pixels: np.ndarray, depth: np.ndarray, size: tuple[int, int]) -> Buffers:
    """``pixels`` (N, 3, 2) screen corners (x right, y down, pixel centres at +0.5), ``depth`` (N, 3)."""
    width, height = size
    slope, offset = _depth_planes(pixels, depth)
    buffers = Buffers(np.full(width * height, -1, np.int64), np.full(width * height, -np.inf), slope)
    edges = _Edges.of(pixels)
    rows = np.maximum(edges.last_row(height) - edges.first_row(height) + 1, 0)
    row_ends = np.cumsum(rows)
    start = 0
    while start < len(pixels):
        # Triangles in groups of at most ROWS_PER_STEP rows (at least one triangle).
        base = row_ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(row_ends, base + ROWS_PER_STEP, side="right")), start + 1)
        tri, row, left, count = edges.spans(np.arange(start, stop), width, height)
        _resolve_rows(buffers, width, tri, row, left, count, offset)
        start = stop
    buffers.triangle = buffers.triangle.reshape(height, width)
    buffers.depth = buffers.depth.reshape(height, width)
    return buffers


def _resolve_rows(
    buffers: Buffers,
    width: int,
    tri: np.ndarray,
    row: np.ndarray,
    left: np.ndarray,
    count: np.ndarray,
    offset: np.ndarray,
) -> None:
    ends = np.cumsum(count)
    start = 0
    while start < len(tri):
        base = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, base + FRAGMENTS_PER_STEP, side="right")), start + 1)
        _resolve(buffers, width, tri[start:stop], row[start:stop], left[start:stop], count[start:stop], offset)
        start = stop


def _depth_planes(pixels: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per triangle, depth = slope . (x, y) + offset over the screen (least squares is exact here)."""
    x, y = pixels[..., 0], pixels[..., 1]
    e1x, e1y, e1z = x[:, 1] - x[:, 0], y[:, 1] - y[:, 0], depth[:, 1] - depth[:, 0]
    e2x, e2y, e2z = x[:, 2] - x[:, 0], y[:, 2] - y[:, 0], depth[:, 2] - depth[:, 0]
    det = e1x * e2y - e2x * e1y
    safe = np.where(np.abs(det) > 1e-12, det, 1.0)
    a = np.where(np.abs(det) > 1e-12, (e1z * e2y - e2z * e1y) / safe, 0.0)
    b = np.where(np.abs(det) > 1e-12, (e1x * e2z - e2x * e1z) / safe, 0.0)
    offset = depth[:, 0] - a * x[:, 0] - b * y[:, 0]
    return np.stack([a, b], axis=1), offset


@dataclass
class _Edges:
    """Each triangle's corners sorted top to bottom (0, 1, 2) and the inverse slopes (dx/dy) of its
    edges: a row's span runs from the long edge 0-2 to edge 0-1 above corner 1, edge 1-2 below."""

    x: np.ndarray
    y: np.ndarray
    inverse: np.ndarray  # (N, 3): edges 0-2, 0-1, 1-2

    @classmethod
    def of(cls, pixels: np.ndarray) -> _Edges:
        order = np.argsort(pixels[..., 1], axis=1)
        x = np.take_along_axis(pixels[..., 0], order, axis=1)
        y = np.take_along_axis(pixels[..., 1], order, axis=1)
        inverse = np.zeros((len(pixels), 3))
        for k, (i, j) in enumerate(((0, 2), (0, 1), (1, 2))):
            dy = y[:, j] - y[:, i]
            inverse[:, k] = np.divide(x[:, j] - x[:, i], dy, out=np.zeros(len(dy)), where=dy > 1e-12)
        return cls(x, y, inverse)

    def first_row(self, height: int) -> np.ndarray:
        return np.clip(np.ceil(self.y[:, 0] - 0.5), 0, height).astype(np.int64)

    def last_row(self, height: int) -> np.ndarray:
        return np.clip(np.floor(self.y[:, 2] - 0.5), -1, height - 1).astype(np.int64)

    def spans(self, triangles: np.ndarray, width: int, height: int) -> tuple[np.ndarray, ...]:
        """For each pixel row the given triangles cross (at the row's centre): triangle, row, first
        column and number of columns whose centre lies inside."""
        first = self.first_row(height)[triangles]
        rows = np.maximum(self.last_row(height)[triangles] - first + 1, 0)
        tri = np.repeat(triangles, rows)
        row = np.repeat(first, rows) + (np.arange(len(tri)) - np.repeat(np.cumsum(rows) - rows, rows))
        centre = row + 0.5
        x, y, inverse = self.x[tri], self.y[tri], self.inverse[tri]
        long = x[:, 0] + (centre - y[:, 0]) * inverse[:, 0]
        upper = centre < y[:, 1]
        short = np.where(
            upper, x[:, 0] + (centre - y[:, 0]) * inverse[:, 1], x[:, 1] + (centre - y[:, 1]) * inverse[:, 2]
        )
        left = np.clip(np.ceil(np.minimum(long, short) - 0.5), 0, width).astype(np.int64)
        right = np.clip(np.floor(np.maximum(long, short) - 0.5), -1, width - 1).astype(np.int64)
        count = np.maximum(right - left + 1, 0)
        keep = count > 0
        return tri[keep], row[keep], left[keep], count[keep]


def _resolve(
    buffers: Buffers,
    width: int,
    tri: np.ndarray,
    row: np.ndarray,
    left: np.ndarray,
    count: np.ndarray,
    offset: np.ndarray,
) -> None:
    """Expand rows into pixels, keep each pixel's nearest fragment (ties: either)."""
    owner = np.repeat(np.arange(len(tri)), count)
    column = left[owner] + (np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count))
    fragment_tri = tri[owner]
    y = row[owner]
    slope = buffers.slope
    z = slope[fragment_tri, 0] * (column + 0.5) + slope[fragment_tri, 1] * (y + 0.5) + offset[fragment_tri]
    index = y * width + column
    np.maximum.at(buffers.depth, index, z)
    won = z >= buffers.depth[index]
    buffers.triangle[index[won]] = fragment_tri[won]
