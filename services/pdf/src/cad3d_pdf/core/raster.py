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
    snapped = snap_endpoints(merged, tol=max(2.0, 1.5 * width))
    circles: list[tuple[float, float, float]] = []
    if detect_circles:
        circles = _hough_circles(gray, width)
    return RasterResult(snapped, circles, len(raw), width)


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
    """Move endpoints closer than ``tol`` onto their common mean so corners close."""
    if not segments:
        return []
    points = np.array([(s[0], s[1]) for s in segments] + [(s[2], s[3]) for s in segments], dtype=float)
    cells: dict[tuple[int, int], list[int]] = {}
    for index, (x, y) in enumerate(points):
        cells.setdefault((int(x // tol), int(y // tol)), []).append(index)
    parent = list(range(len(points)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (cx, cy), members in cells.items():
        neighbours = [j for dx in (-1, 0, 1) for dy in (-1, 0, 1) for j in cells.get((cx + dx, cy + dy), [])]
        for i in members:
            for j in neighbours:
                if j > i and math.dist(points[i], points[j]) <= tol:
                    parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(points)):
        groups.setdefault(find(i), []).append(i)
    snapped = points.copy()
    for members in groups.values():
        if len(members) > 1:
            snapped[members] = points[members].mean(axis=0)
    n = len(segments)
    out: list[PixelSegment] = []
    for k in range(n):
        x1, y1 = snapped[k]
        x2, y2 = snapped[k + n]
        if math.hypot(x2 - x1, y2 - y1) >= _MIN_LENGTH_PX / 2:
            out.append((float(x1), float(y1), float(x2), float(y2)))
    return out


def _hough_circles(gray: np.ndarray, width: float) -> list[tuple[float, float, float]]:
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
    return [(float(x), float(y), float(r)) for x, y, r in found.reshape(-1, 3)]
