"""Which clip applies to each piece of text, and whether the text is kept.

MuPDF's text extraction knows nothing of clip paths beyond their bounding boxes, and the drawing
list has no text. So a small MuPDF device replays the page, following clip pushes and pops and
recording, for every glyph drawn under a clip that cuts into the page, the innermost clip path
active, keyed by the glyph's origin. The n-th clip path it sees is the n-th ``clip`` entry of the
extended drawing list (same interpreter, same order), whose effective region the vector pass has
already built. Clips by text or image masks are not followed (text under them is not clipped by
them); a clip path without segments hides the text under it.

A text string is kept when the centre of its visible glyphs lies inside that region. The replay
only runs when some clip region does not cover the whole page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pymupdf
from pymupdf import mupdf

from cad3d_pdf.core.clip import INSIDE, ClipRegion
from cad3d_pdf.core.model import Point

# Glyph origins are matched to the text extraction's by value rounded to this many decimals.
_KEY_DECIMALS = 2
# Stack markers for clips that are not clip paths: text, image masks (not honoured) and
# empty clip paths (which hide everything drawn under them).
_UNKNOWN, _EMPTY = -1, -2

OriginKey = tuple[float, float]
_NEIGHBOURS = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)]


def origin_key(x: float, y: float) -> OriginKey:
    return (round(x, _KEY_DECIMALS), round(y, _KEY_DECIMALS))


class _ClipTracer(mupdf.FzDevice2):
    """Records the clip stack at every glyph; all other device calls are no-ops in C."""

    def __init__(self, relevant: Sequence[bool]) -> None:
        super().__init__()
        # Per clip path: does its region cut into the page? Glyphs under none need no record.
        self.relevant = relevant
        for name in (
            "clip_path",
            "clip_stroke_path",
            "clip_text",
            "clip_stroke_text",
            "clip_image_mask",
            "pop_clip",
            "fill_text",
            "stroke_text",
            "ignore_text",
        ):
            getattr(self, f"use_virtual_{name}")()
        self.stack: list[int] = []
        self.clip_paths = 0
        self.glyphs: dict[OriginKey, int] = {}  # origin -> innermost clip path index (or marker)

    def _push_path(self, path: Any, ctm: Any) -> None:
        bounds = mupdf.ll_fz_bound_path(path, None, ctm)
        if bounds.x0 > bounds.x1 or bounds.y0 > bounds.y1:
            # No segments: PyMuPDF lists no clip entry for it, and nothing under it is drawn.
            self.stack.append(_EMPTY)
            return
        self.stack.append(self.clip_paths)
        self.clip_paths += 1

    def clip_path(self, ctx: Any, path: Any, even_odd: Any, ctm: Any, scissor: Any) -> None:
        self._push_path(path, ctm)

    def clip_stroke_path(self, ctx: Any, path: Any, stroke: Any, ctm: Any, scissor: Any) -> None:
        self._push_path(path, ctm)

    def clip_text(self, ctx: Any, text: Any, ctm: Any, scissor: Any) -> None:
        self.stack.append(_UNKNOWN)

    def clip_stroke_text(self, ctx: Any, text: Any, stroke: Any, ctm: Any, scissor: Any) -> None:
        self.stack.append(_UNKNOWN)

    def clip_image_mask(self, ctx: Any, image: Any, ctm: Any, scissor: Any) -> None:
        self.stack.append(_UNKNOWN)

    def pop_clip(self, ctx: Any) -> None:
        if self.stack:
            self.stack.pop()

    def fill_text(self, ctx: Any, text: Any, ctm: Any, *rest: Any) -> None:
        self._record(text, ctm)

    def stroke_text(self, ctx: Any, text: Any, stroke: Any, ctm: Any, *rest: Any) -> None:
        self._record(text, ctm)

    def ignore_text(self, ctx: Any, text: Any, ctm: Any) -> None:
        self._record(text, ctm)

    def _record(self, text: Any, ctm: Any) -> None:
        if _EMPTY in self.stack:
            innermost = _EMPTY
        else:
            innermost = next((c for c in reversed(self.stack) if c != _UNKNOWN), _UNKNOWN)
            if innermost == _UNKNOWN or (innermost < len(self.relevant) and not self.relevant[innermost]):
                return  # unrecorded glyphs count as unclipped
        # The transform in Python (one SWIG call per glyph instead of three); lookups allow for
        # the last-digit differences from MuPDF's single-precision arithmetic.
        a, b, c, d, e, f = ctm.a, ctm.b, ctm.c, ctm.d, ctm.e, ctm.f
        glyphs = self.glyphs
        span = text.head
        while span:
            items = mupdf.FzTextSpan(span)
            for i in range(span.len):
                item = items.items(i)
                x, y = item.x, item.y
                glyphs[origin_key(x * a + y * c + e, x * b + y * d + f)] = innermost
            span = span.next


class TextClip:
    """Decides, per text string, whether it lies inside the clip it was drawn under."""

    def __init__(self, glyphs: dict[OriginKey, int], regions: Sequence[ClipRegion | None]) -> None:
        self.glyphs = glyphs
        self.regions = regions

    def _clip_of(self, origin: Point) -> int:
        x, y = origin_key(*origin)
        step = 10.0**-_KEY_DECIMALS
        for dx, dy in _NEIGHBOURS:
            found = self.glyphs.get((round(x + dx * step, _KEY_DECIMALS), round(y + dy * step, _KEY_DECIMALS)))
            if found is not None:
                return found
        return _UNKNOWN

    def keeps(self, origin: Point, centre: Point) -> bool:
        """``origin``: a glyph origin of the string (finds its clip); ``centre``: what is tested."""
        clip = self._clip_of(origin)
        if clip == _EMPTY:
            return False
        region = self.regions[clip] if 0 <= clip < len(self.regions) else None
        return region is None or region.contains_point(*centre)


def text_clip(page: pymupdf.Page, regions: Sequence[ClipRegion | None]) -> tuple[TextClip | None, bool]:
    """The page's text clip filter (None: no clip cuts into the page), and False when the clip
    paths the replay saw do not match the drawing list's (text is then not clipped)."""
    whole_page = [(0.0, 0.0, page.cropbox.width, page.cropbox.height)]
    cuts: dict[int, bool] = {}  # by region: repeated clip paths share one region object
    for region in regions:
        if region is not None and id(region) not in cuts:
            cuts[id(region)] = region.classify(whole_page)[0] != INSIDE
    relevant = [region is not None and cuts[id(region)] for region in regions]
    if not any(relevant):
        return None, True
    tracer = _ClipTracer(relevant)
    rotation = page.rotation
    # Text extraction and the drawing list both work on the unrotated page; so must the replay.
    if rotation:
        page.set_rotation(0)
    try:
        fz_page = page.this if isinstance(page.this, mupdf.FzPage) else mupdf.FzPage(page.this)
        mupdf.fz_run_page(fz_page, tracer, mupdf.FzMatrix(), mupdf.FzCookie())
        mupdf.fz_close_device(tracer)
    finally:
        if rotation:
            page.set_rotation(rotation)
    if tracer.clip_paths != len(regions):
        return None, False
    return TextClip(tracer.glyphs, regions), True
