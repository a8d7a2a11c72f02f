"""Pictures of a model: orthographic views, flat Lambert shading, outlines where faces fold.

The nearest face at each pixel comes from a numpy z-buffer (preview_zbuffer); the picture is
drawn at twice its size and reduced, which smooths the edges. Outlines are found in the picture,
not in the mesh: a pixel whose neighbour belongs to a face turned more than FEATURE_ANGLE_DEG
away, lies off its face's plane (an occlusion) or is background is darkened. The diagonals of a
face's triangulation and the facets of a round column stay unmarked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cad3d_cli.preview_model import ModelTriangles
from cad3d_cli.preview_zbuffer import Buffers, rasterise

BACKGROUND = (255, 255, 255)
INK = (40, 40, 40)
SUPERSAMPLE = 2
FEATURE_ANGLE_DEG = 30.0
# A neighbour this many pixels off a face's plane is behind or in front of it: an outline.
OCCLUSION_PIXELS = 3.0
_AMBIENT = 0.35
_DARKEST = 80.0
_EDGE_DARKNESS = 0.45


@dataclass(frozen=True)
class View:
    """An orthographic camera: ``right`` and ``up`` span the screen, ``towards`` points at the viewer."""

    name: str
    right: np.ndarray
    up: np.ndarray
    towards: np.ndarray


def oblique_view(azimuth_deg: float = -35.0, elevation_deg: float = 30.0) -> View:
    """Seen from the front (-Y) turned by ``azimuth`` about Z and raised by ``elevation``.

    ``right`` stays horizontal, so lengths across the screen are true lengths: the scale bar holds."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    towards = np.array([-math.cos(el) * math.sin(az), -math.cos(el) * math.cos(az), math.sin(el)])
    right = np.array([math.cos(az), -math.sin(az), 0.0])
    return View("oblique view", right, np.cross(towards, right), towards)


def top_view() -> View:
    return View("top view (plan)", np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), np.array([0, 0, 1.0]))


def _unit_normals(corners: np.ndarray) -> np.ndarray:
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.divide(normals, lengths, out=np.zeros_like(normals), where=lengths > 0)


def shade(colours: np.ndarray, normals: np.ndarray, view: View) -> np.ndarray:
    """Lambert shading, lit from over the viewer's left shoulder; both sides of a face are lit
    because relief surfaces and open meshes show their back."""
    light = -0.35 * view.right + 0.55 * view.up + 0.75 * view.towards
    light /= np.linalg.norm(light)
    factor = _AMBIENT + (1 - _AMBIENT) * np.abs(normals @ light)
    # Dark colours are lifted to a grey first (saturated ones keep their hue): a black layer (a
    # PDF's lines) would show neither shading nor outlines.
    base = colours.astype(np.float64)
    luminance = base @ np.array([0.299, 0.587, 0.114])
    base += np.maximum(_DARKEST - luminance, 0)[:, None]
    return np.clip(base * factor[:, None], 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Panel:
    """A rendered view and how model metres map to its pixels (for the scale bar)."""

    image: Image.Image
    pixels_per_metre: float


def render_view(model: ModelTriangles, view: View, size: tuple[int, int], margins: tuple[int, int, int, int]) -> Panel:
    """The model seen through ``view``, fitted into ``size`` less ``margins`` (left, top, right, bottom)."""
    width, height = size
    big_size = (width * SUPERSAMPLE, height * SUPERSAMPLE)
    if not len(model.corners):
        return Panel(Image.new("RGB", size, BACKGROUND), 0.0)
    corners = model.corners
    screen = np.stack([corners @ view.right, corners @ view.up], axis=2)  # (N, 3, 2), metres
    low, high = screen.reshape(-1, 2).min(axis=0), screen.reshape(-1, 2).max(axis=0)
    left, top, right, bottom = margins
    room = np.array([width - left - right, height - top - bottom], dtype=np.float64)
    scale = float(min(room / np.maximum(high - low, 1e-12))) * SUPERSAMPLE  # pixels per metre
    pixels = (screen - (low + high) / 2) * scale
    pixels[..., 1] *= -1  # screen rows grow downwards
    pixels += np.array([left + room[0] / 2, top + room[1] / 2]) * SUPERSAMPLE
    depth = (corners @ view.towards) * scale  # in pixels, so slopes and occlusions compare to pixels
    u, v = pixels[:, 1] - pixels[:, 0], pixels[:, 2] - pixels[:, 0]
    area = np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]) / 2
    # Faces seen edge-on (the walls in a plan) cover no pixel; their neighbours' outlines show them.
    visible = np.flatnonzero(area > 1e-3)
    buffers = rasterise(pixels[visible], depth[visible], big_size)
    normals = _unit_normals(corners[visible])
    fills = shade(model.colours[visible], normals, view)
    picture = np.empty((*buffers.triangle.shape, 3), np.uint8)
    picture[:] = BACKGROUND
    covered = buffers.triangle >= 0
    picture[covered] = fills[buffers.triangle[covered]]
    outline = outlines(buffers, normals)
    picture[outline] = (picture[outline] * _EDGE_DARKNESS).astype(np.uint8)
    image = Image.fromarray(picture, "RGB").resize(size, Image.Resampling.LANCZOS)
    return Panel(image, scale / SUPERSAMPLE)


def outlines(buffers: Buffers, normals: np.ndarray) -> np.ndarray:
    """Covered pixels next to a fold, an occlusion or the background (see the module docstring)."""
    tri, depth = buffers.triangle, buffers.depth
    marked = np.zeros(tri.shape, bool)
    limit = math.cos(math.radians(FEATURE_ANGLE_DEG))
    for axis in (0, 1):
        here = [slice(None), slice(None)]
        there = [slice(None), slice(None)]
        here[axis], there[axis] = slice(None, -1), slice(1, None)
        a, b = tri[tuple(here)], tri[tuple(there)]
        both = (a >= 0) & (b >= 0)
        ia, ib = np.where(both, a, 0), np.where(both, b, 0)
        fold = np.einsum("...k,...k->...", normals[ia], normals[ib]) < limit
        # b's depth predicted from a's plane one pixel along (x is axis 1, y axis 0).
        predicted = depth[tuple(here)] + buffers.slope[ia, 1 - axis]
        occluded = np.abs(np.where(both, depth[tuple(there)], 0) - np.where(both, predicted, 0)) > OCCLUSION_PIXELS
        edge = (both & (fold | occluded)) | ((a >= 0) != (b >= 0))
        marked[tuple(here)] |= edge & (a >= 0)
        marked[tuple(there)] |= edge & (b >= 0)
    return marked


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def nice_length(upper: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``upper`` (a scale bar's length)."""
    if upper <= 0 or not math.isfinite(upper):
        return 0.0
    power = 10 ** math.floor(math.log10(upper))
    return max(step * power for step in (1, 2, 5) if step * power <= upper * (1 + 1e-9))


def scale_bar_label(length: float, unit: str, metres_per_unit: float) -> str:
    text = f"{length:g} {unit}"
    metres = length * metres_per_unit
    if unit != "m" and metres >= 1:
        text += f" = {metres:g} m"
    return text


def draw_scale_bar(
    image: Image.Image, at: tuple[int, int], pixels_per_unit: float, unit: str, metres_per_unit: float
) -> None:
    """A bar about a quarter of the picture wide, in the model's own unit, with its length written."""
    if pixels_per_unit <= 0:
        return
    length = nice_length(image.width * 0.25 / pixels_per_unit)
    bar = length * pixels_per_unit
    x, y = at
    draw = ImageDraw.Draw(image)
    draw.rectangle((x, y, x + bar, y + 6), fill=INK)
    draw.rectangle((x + bar / 2, y + 1, x + bar - 1, y + 5), fill=BACKGROUND)
    for tick in (x, x + bar / 2, x + bar):
        draw.line((tick, y - 4, tick, y + 6), fill=INK, width=2)
    draw.text((x, y + 10), scale_bar_label(length, unit, metres_per_unit), fill=INK, font=font(16))
