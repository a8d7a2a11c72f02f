"""Line detection on scanned / raster drawings with OpenCV.

Pipeline: Otsu binarisation -> LSD (Line Segment Detector) on the ink mask -> merge collinear
pieces (LSD reports both edges of a thick stroke and breaks long lines; merging collapses both
into the centre line) -> snap nearby endpoints -> optional Hough circles.
Everything here works in pixels; callers map pixels to page points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from cad3d_pdf.core.deadline import PageDeadline

PixelSegment = tuple[float, float, float, float]

_ANGLE_TOL = math.radians(2.0)
_MIN_LENGTH_PX = 8.0
_CIRCLE_INK_SHARE = 0.9
# Thick walls make the stroke width large; endpoints further apart than this are never joined.
_MAX_SNAP_PX = 12.0
_MAX_SNAP_TURN = math.radians(1.0)


@dataclass
class RasterResult:
    segments: list[PixelSegment]
    circles: list[tuple[float, float, float]]  # cx, cy, r in pixels
    raw_segments: int
    stroke_width_px: float


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def binarise(gray: np.ndarray) -> np.ndarray:
    """Ink = 255, paper = 0 (Otsu picks the threshold; scans vary too much for a fixed one)."""
    blurred = cv2.GaussianBlur(gray, (3, 3), 0)
    _, mask = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return mask


def stroke_width(mask: np.ndarray) -> float:
    ink = mask > 0
    if not ink.any():
        return 1.0
    distance = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    # The thickest point of a stroke is its centre; twice its distance is the stroke width.
    return float(max(1.0, 2.0 * np.percentile(distance[ink], 90)))


def detect_lines(image: np.ndarray, deadline: PageDeadline, detect_circles: bool = False) -> RasterResult:
    gray = to_gray(image)
    mask = binarise(gray)
    width = stroke_width(mask)
    detector = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD)
    found = detector.detect(mask)[0]
    deadline.check()
    raw: list[PixelSegment] = []
    if found is not None:
        for x1, y1, x2, y2 in found.reshape(-1, 4):
            if math.hypot(x2 - x1, y2 - y1) >= _MIN_LENGTH_PX:
                raw.append((float(x1), float(y1), float(x2), float(y2)))
    merged = merge_collinear(raw, offset_tol=max(1.5, width), gap_tol=max(3.0, 2.0 * width), deadline=deadline)
    snapped = snap_endpoints(merged, tol=min(max(2.0, 1.5 * width), _MAX_SNAP_PX))
    circles: list[tuple[float, float, float]] = []
    if detect_circles:
        circles = _hough_circles(gray, mask, width)
        # A circle replaces the short chords LSD traced along it.
        snapped = [s for s in snapped if not _on_any_circle(s, circles, tol=max(2.0, 1.5 * width))]
    return RasterResult(snapped, circles, len(raw), width)


def _on_any_circle(segment: PixelSegment, circles: list[tuple[float, float, float]], tol: float) -> bool:
    x1, y1, x2, y2 = segment
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    return any(
        all(abs(math.hypot(px - cx, py - cy) - r) <= tol for px, py in ((x1, y1), (x2, y2), (mx, my)))
        for cx, cy, r in circles
    )


def merge_collinear(
    segments: list[PixelSegment], offset_tol: float, gap_tol: float, deadline: PageDeadline
) -> list[PixelSegment]:
    """Greedy clustering of segments on (almost) the same carrier line with overlapping spans."""
    order = sorted(segments, key=lambda s: -math.hypot(s[2] - s[0], s[3] - s[1]))
    # cluster: [ux, uy, offset, t_min, t_max, weight]
    clusters: list[list[float]] = []
    buckets: dict[int, list[int]] = {}
    bucket_size = _ANGLE_TOL
    for index, (x1, y1, x2, y2) in enumerate(order):
        if index % 512 == 0:
            deadline.check()
        length = math.hypot(x2 - x1, y2 - y1)
        angle = math.atan2(y2 - y1, x2 - x1) % math.pi
        bucket = int(angle / bucket_size)
        target = None
        n_buckets = int(math.pi / bucket_size) + 1
        for b in (bucket - 1, bucket, bucket + 1):
            for ci in buckets.get(b % n_buckets, []):
                ux, uy, offset, t_min, t_max, _ = clusters[ci]
                if abs(ux * (y2 - y1) - uy * (x2 - x1)) > math.sin(_ANGLE_TOL) * length:
                    continue
                mid_offset = -uy * (x1 + x2) / 2 + ux * (y1 + y2) / 2
                if abs(mid_offset - offset) > offset_tol:
                    continue
                t1, t2 = sorted((ux * x1 + uy * y1, ux * x2 + uy * y2))
                if t1 > t_max + gap_tol or t2 < t_min - gap_tol:
                    continue
                target = ci
                break
            if target is not None:
                break
        if target is None:
            ux, uy = math.cos(angle), math.sin(angle)
            t1, t2 = sorted((ux * x1 + uy * y1, ux * x2 + uy * y2))
            clusters.append([ux, uy, -uy * x1 + ux * y1, t1, t2, length])
            buckets.setdefault(bucket % (int(math.pi / bucket_size) + 1), []).append(len(clusters) - 1)
        else:
            cluster = clusters[target]
            ux, uy = cluster[0], cluster[1]
            t1, t2 = sorted((ux * x1 + uy * y1, ux * x2 + uy * y2))
            mid_offset = -uy * (x1 + x2) / 2 + ux * (y1 + y2) / 2
            weight = cluster[5] + length
            cluster[2] = (cluster[2] * cluster[5] + mid_offset * length) / weight
            cluster[3], cluster[4], cluster[5] = min(cluster[3], t1), max(cluster[4], t2), weight
    result: list[PixelSegment] = []
    for ux, uy, offset, t_min, t_max, _ in clusters:
        # Point on the carrier: offset along the normal (-uy, ux) plus t along the direction.
        bx, by = -uy * offset, ux * offset
        result.append((bx + ux * t_min, by + uy * t_min, bx + ux * t_max, by + uy * t_max))
    return result


def snap_endpoints(segments: list[PixelSegment], tol: float) -> list[PixelSegment]:
    """Move endpoints within ``tol`` of an earlier endpoint onto their common mean so corners close.

    Greedy and non-transitive on purpose: chaining neighbours (union-find) lets dense areas such
    as text collapse into one far-away point and turns short strokes into long diagonals.
    """
    if not segments:
        return []
    points = np.array([(s[0], s[1]) for s in segments] + [(s[2], s[3]) for s in segments], dtype=float)
    anchors: list[list[float]] = []  # x, y of the first point, sum x, sum y, count
    cells: dict[tuple[int, int], list[int]] = {}
    assignment = np.empty(len(points), dtype=int)
    for index, (x, y) in enumerate(points):
        cx, cy = int(x // tol), int(y // tol)
        best, best_distance = -1, tol
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for anchor_index in cells.get((cx + dx, cy + dy), ()):
                    ax, ay = anchors[anchor_index][:2]
                    distance = math.hypot(x - ax, y - ay)
                    if distance <= best_distance:
                        best, best_distance = anchor_index, distance
        if best < 0:
            best = len(anchors)
            anchors.append([x, y, 0.0, 0.0, 0.0])
            cells.setdefault((cx, cy), []).append(best)
        anchor = anchors[best]
        anchor[2] += x
        anchor[3] += y
        anchor[4] += 1
        assignment[index] = best
    snapped = np.array([(a[2] / a[4], a[3] / a[4]) for a in anchors])[assignment]
    n = len(segments)
    out: dict[tuple[float, ...], PixelSegment] = {}
    for k in range(n):
        start, end = points[k], points[k + n]
        angle = math.atan2(end[1] - start[1], end[0] - start[0])
        # Snapping must not tilt a line: an endpoint that would turn it by more than
        # _MAX_SNAP_TURN keeps its detected position.
        for which in (0, 1):
            candidate = (snapped[k], end) if which == 0 else (start, snapped[k + n])
            turned = math.atan2(candidate[1][1] - candidate[0][1], candidate[1][0] - candidate[0][0])
            if abs(math.remainder(turned - angle, 2 * math.pi)) <= _MAX_SNAP_TURN:
                start, end = candidate
        x1, y1 = start
        x2, y2 = end
        if math.hypot(x2 - x1, y2 - y1) >= _MIN_LENGTH_PX / 2:
            segment = (float(x1), float(y1), float(x2), float(y2))
            # Both edges of a curved stroke can snap onto the same chord: keep it once.
            key = tuple(round(v, 3) for v in min(segment, (segment[2], segment[3], segment[0], segment[1])))
            out.setdefault(key, segment)
    return list(out.values())


def _hough_circles(gray: np.ndarray, mask: np.ndarray, width: float) -> list[tuple[float, float, float]]:
    blurred = cv2.medianBlur(gray, 5)
    min_dim = min(gray.shape[:2])
    found = cv2.HoughCircles(
        blurred,
        cv2.HOUGH_GRADIENT,
        dp=1.2,
        minDist=max(10.0, 4 * width),
        param1=120,
        param2=40,
        minRadius=max(4, int(2 * width)),
        maxRadius=max(8, min_dim // 3),
    )
    if found is None:
        return []
    # Hough votes are noisy on drawings; keep circles whose whole circumference is inked.
    ink = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    angles = np.linspace(0.0, 2 * np.pi, 90, endpoint=False)
    kept: list[tuple[float, float, float]] = []
    for x, y, r in found.reshape(-1, 3):
        xs = np.clip(np.round(x + r * np.cos(angles)).astype(int), 0, mask.shape[1] - 1)
        ys = np.clip(np.round(y + r * np.sin(angles)).astype(int), 0, mask.shape[0] - 1)
        if float(np.mean(ink[ys, xs] > 0)) >= _CIRCLE_INK_SHARE:
            kept.append(_refine_circle(mask, float(x), float(y), float(r), width))
    return kept


def _refine_circle(mask: np.ndarray, x: float, y: float, r: float, width: float) -> tuple[float, float, float]:
    """Least-squares (Kasa) fit to the ink pixels in an annulus around a Hough circle."""
    band = r + 2 * width
    x0, y0 = max(0, int(x - band)), max(0, int(y - band))
    x1, y1 = min(mask.shape[1], int(x + band) + 1), min(mask.shape[0], int(y + band) + 1)
    ys, xs = np.nonzero(mask[y0:y1, x0:x1])
    px, py = xs.astype(float) + x0, ys.astype(float) + y0
    near = np.abs(np.hypot(px - x, py - y) - r) <= 1.5 * width
    px, py = px[near], py[near]
    if px.size < 10:
        return (x, y, r)
    a = np.column_stack([px, py, np.ones_like(px)])
    b = px**2 + py**2
    (c0, c1, c2), *_ = np.linalg.lstsq(a, b, rcond=None)
    cx, cy = c0 / 2, c1 / 2
    radius = math.sqrt(max(c2 + cx**2 + cy**2, 0.0))
    return (float(cx), float(cy), float(radius))
