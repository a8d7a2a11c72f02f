"""Which texts of a plan can name a room, and what each says (name, number, stated size or area).

The rule, line by line (an MTEXT's lines, or single-line TEXTs stacked on top of each other):

- dimensions, attribute definitions and texts on dimension layers are never names;
- a door or window size tag is not a name: a 4- or 5-digit size code (width feet+inches, height
  feet+inches: "3068" is 3'0" x 6'8", "16070" is 16'0" x 7'0") alone or followed by known
  opening-type abbreviations ("5050 XO", "2050 SH", "6068 S.G.D.", "16070 O.H. DOOR"). A bare
  4-digit number stacked above a name is read as a room number instead ("1012" over "LAB"),
  and "1012 OFFICE" is a name (OFFICE is no opening type);
- marks are not names: one character ("A", a callout letter) or a section/grid mark ("D-D");
- a size ("13'8 x 14'", "3.60 x 4.20 m") or an area ("12.5 m²", "135 sq ft") is the label's
  stated size, not part of its name: it is kept to check the computed area against;
- a note is not a name: a line of more than 5 words or 40 characters,
  one that ends with ":", "," or ";", or one carrying a measurement ('18" MIN. RAISED'). A stack
  holding a note, more than 3 name lines or more than 6 words is a note block and names nothing;
  so is a stack holding a mark (a section bubble "D-D" over "A6");
- the name is the number and name lines in reading order, joined by spaces: "101" above "OFFICE"
  (two TEXTs, or the MTEXT "101\\POFFICE") is "101 OFFICE".

Single-line TEXTs stack when they share rotation 0, overlap horizontally and sit at most 2.2
line heights apart; name lines must be of about the same height (within 30 %), size and area
lines may be smaller (a door tag in small print beside a room name is not stacked with it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import shapely

from ..annotations import TextItem

NAME_KINDS = frozenset({"TEXT", "MTEXT", "ATTRIB"})
_DIMENSION_LAYER = re.compile(r"(^|[^a-z])(dim|dims|dimension|dimensions)([^a-z]|$)", re.IGNORECASE)
_SIZE_CODE = re.compile(r"\d{4,5}")
# Opening-type abbreviations that follow a size code on US plans (sliding, single/double hung,
# sliding glass door, overhead door, fixed, casement, awning, pocket, bifold, bypass...).
_OPENING_WORDS = frozenset(
    {"XO", "OX", "XOX", "OXO", "SH", "DH", "SGD", "OH", "DOOR", "DR", "O", "F", "FX", "FIXED", "CSMT"}
    | {"CASEMENT", "SL", "SLD", "AWN", "AWNING", "HR", "PKT", "POCKET", "BF", "BIFOLD", "BP", "BYPASS"}
    | {"SC", "HC", "WIN", "WINDOW", "TEMP", "TEMPERED"}
)
_NUMBER = re.compile(r"[A-Z]{0,2}[-.]?\d{1,5}([-.]\d{1,4})*[A-Z]?", re.IGNORECASE)
_MARK = re.compile(r".|[A-Z]-[A-Z]|[A-Z]{1,2}\d{0,2}/[A-Z]?\d{1,3}", re.IGNORECASE)
_MEASURE_MARK = re.compile(r"\d\s*(['\u2019\"\u201d]|ft\b|mm\b|cm\b)", re.IGNORECASE)
_NUM = r"\d+(?:[.,]\d+)?"
_FEET = rf"({_NUM})\s*(?:['\u2019]|ft)\s*-?\s*(?:({_NUM})\s*(?:[\"\u201d]|in)?)?"  # 13'8, 13'-8", 14'
_INCHES = rf"({_NUM})\s*(?:[\"\u201d]|in)"  # 30"
_PLAIN = rf"({_NUM})\s*(mm|cm|m)?"  # 3.60, 360 cm
_SIDE = rf"(?:{_FEET}|{_INCHES}|{_PLAIN})"
_SIZE = re.compile(rf"{_SIDE}\s*[x\u00d7X*]\s*{_SIDE}\s*(mm|cm|m)?")
_AREA = re.compile(
    rf"(?:(?:area|a|s|f)\s*[=:]\s*)?({_NUM})\s*(m²|m2|sq\.?\s*m|sqm|м²|м2|кв\.?\s*м|ft²|ft2|sq\.?\s*ft|sf|s\.f\.)\.?",
    re.IGNORECASE,
)
_SQ_METRES = {"m²", "m2", "sqm", "sq m", "sq.m", "м²", "м2", "кв м", "кв.м"}
_LENGTH_METRES = {"mm": 0.001, "cm": 0.01, "m": 1.0}
_FOOT, _INCH = 0.3048, 0.0254
MAX_NAME_WORDS = 5
MAX_NAME_CHARS = 40
MAX_NAME_LINES = 3
STACK_GAP = 2.2  # line heights between baselines of stacked lines
SAME_HEIGHT = 1.3  # name lines of one label differ in height by at most this ratio


@dataclass
class Label:
    """A text that may name a room, output units, recentred.

    ``text`` is the name (number and name lines); ``lines`` the whole label as drawn;
    ``stated_area_m2`` what the label says the room measures (from an area or a size line).
    ``anchors`` are the places to look the label up by (its lines' insertion points, then their
    estimated centres), first the one the drafter most likely clicked inside the room.
    """

    text: str
    x: float
    y: float
    height: float
    lines: list[str] = field(default_factory=list)
    stated_area_m2: float | None = None
    stated: str = ""  # the size or area line as written
    anchors: list[tuple[float, float]] = field(default_factory=list)
    room: str = ""  # the room it lies in, once rooms.find_rooms placed it


@dataclass
class _Line:
    text: str
    x: float
    y: float
    height: float
    rotation: float
    kind: str  # "name", "number", "tag", "mark", "size", "area", "note", "empty"
    area_m2: float | None = None


def _feet_inches(groups: tuple[str | None, ...], unit: str | None) -> float | None:
    """One side of a size in metres, from the regex groups of _SIDE."""
    feet, inches, only_inches, plain, side_unit = groups

    def num(value: str | None) -> float:
        return float(value.replace(",", ".")) if value else 0.0

    if feet is not None:
        return num(feet) * _FOOT + num(inches) * _INCH
    if only_inches is not None:
        return num(only_inches) * _INCH
    unit = side_unit or unit
    if unit:
        return num(plain) * _LENGTH_METRES[unit.lower()]
    # A bare number is metres only when written with decimals ("3.60"); "2 x 4" is lumber.
    return num(plain) if plain and re.search(r"[.,]\d", plain) else None


def stated_area_m2(line: str) -> float | None:
    """The area a label line states, in m²: "12.5 m²", "135 sq ft", "13'8 x 14'", "3.60 x 4.20"."""
    text = line.strip()
    area = _AREA.fullmatch(text)
    if area:
        value = float(area.group(1).replace(",", "."))
        unit = re.sub(r"\s+", " ", area.group(2).lower()).replace("sq. ", "sq ")
        return value if unit in _SQ_METRES or unit.startswith(("sq m", "sq.m")) else value * _FOOT**2
    size = _SIZE.fullmatch(text)
    if size:
        groups = size.groups()
        unit = groups[10] or groups[9]  # "360 x 420 cm": the unit written once, at the end
        first, second = _feet_inches(groups[0:5], unit), _feet_inches(groups[5:10], unit)
        if first and second:
            return first * second
    return None


def _is_tag(text: str) -> bool:
    """A door/window size code, alone or with opening-type abbreviations ("6068 S.G.D.")."""
    code, *rest = text.split()
    return bool(_SIZE_CODE.fullmatch(code)) and all(word.replace(".", "").upper() in _OPENING_WORDS for word in rest)


def line_kind(text: str) -> str:
    """What one line of a label is (see the module docstring)."""
    text = text.strip()
    if not text:
        return "empty"
    if stated_area_m2(text) is not None:
        return "area" if _AREA.fullmatch(text) else "size"
    if _is_tag(text):
        return "tag"
    if _MARK.fullmatch(text):
        return "mark"
    if _NUMBER.fullmatch(text):
        return "number"
    words = text.split()
    if (
        len(words) > MAX_NAME_WORDS
        or len(text) > MAX_NAME_CHARS
        or text.endswith((":", ",", ";"))
        or _MEASURE_MARK.search(text)
        or not any(ch.isalpha() for ch in text)
    ):
        return "note"
    return "name"


def _split(item: TextItem, offset: np.ndarray, scale: float) -> list[_Line]:
    """The lines of one text, output units; MTEXT lines go down from the insertion point (down
    as the text reads: a text turned 90 degrees has its next line to the right)."""
    x = (item.x - float(offset[0])) * scale
    y = (item.y - float(offset[1])) * scale
    height = item.height * scale
    raw = [part.strip() for part in item.text.replace("\r", "").split("\n")]
    lines = []
    for index, text in enumerate(part for part in raw if part):
        lx, ly = _along(x, y, item.rotation, 0.0, -index * 1.6 * height)
        lines.append(_Line(text, lx, ly, height, item.rotation, line_kind(text), stated_area_m2(text)))
    return lines


def _along(x: float, y: float, rotation: float, du: float, dv: float) -> tuple[float, float]:
    """The point ``du`` along and ``dv`` up from (x, y) in the frame of a text turned ``rotation``."""
    angle = math.radians(rotation)
    cos, sin = math.cos(angle), math.sin(angle)
    return x + du * cos - dv * sin, y + du * sin + dv * cos


def _width(line: _Line) -> float:
    return max(len(line.text), 1) * 0.8 * max(line.height, 1e-9)


def _stacks(lines: list[_Line]) -> list[list[_Line]]:
    """Single-line texts grouped into labels: one line above another in their own direction
    (rotated labels stack along their rotation), overlapping sideways."""
    by_rotation: dict[int, list[_Line]] = {}
    groups: list[list[_Line]] = []
    for line in lines:
        if line.height > 0:
            by_rotation.setdefault(round(line.rotation) % 360, []).append(line)
        else:
            groups.append([line])
    for rotation, same in by_rotation.items():
        groups.extend(_stack_upright(same, rotation))
    return groups


def _stack_upright(lines: list[_Line], rotation: float) -> list[list[_Line]]:
    """Stacks of lines of one rotation, found in the frame where they read upright."""
    angle = math.radians(rotation)
    cos, sin = math.cos(angle), math.sin(angle)
    local = [_Line(ln.text, ln.x * cos + ln.y * sin, -ln.x * sin + ln.y * cos, ln.height, 0.0, ln.kind) for ln in lines]
    parent = list(range(len(lines)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if len(lines) > 1:
        boxes = shapely.box(
            [ln.x for ln in local],
            [ln.y - STACK_GAP * ln.height for ln in local],
            [ln.x + _width(ln) for ln in local],
            [ln.y + ln.height for ln in local],
        )
        left, right = shapely.STRtree(boxes).query(boxes, predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if i < j and _stackable(local[i], local[j]):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(lines)):
        groups.setdefault(root(i), []).append(i)
    return [[lines[i] for i in sorted(group, key=lambda i: -local[i].y)] for group in groups.values()]


def _stackable(a: _Line, b: _Line) -> bool:
    upper, lower = (a, b) if a.y >= b.y else (b, a)
    gap = upper.y - lower.y
    if gap <= 0.3 * min(upper.height, lower.height) or gap > STACK_GAP * max(upper.height, lower.height):
        return False
    if upper.kind in ("size", "area") and lower.kind not in ("size", "area"):
        return False  # a size line closes a label: the name below it is another room's
    ratio = max(a.height, b.height) / min(a.height, b.height)
    informative = {a.kind, b.kind} & {"size", "area"}
    return ratio <= (2.0 if informative else SAME_HEIGHT)


def _label_of(group: list[_Line]) -> Label | None:
    """The label a stack of lines makes, or None when it names nothing (notes, tags, marks)."""
    kinds = [line.kind for line in group]
    if "note" in kinds or ("mark" in kinds and len(group) > 1):
        return None  # a note block, or a callout / section bubble
    name_lines: list[_Line] = []
    for index, line in enumerate(group):
        following = kinds[index + 1] if index + 1 < len(kinds) else ""
        bare_code = line.kind == "tag" and line.text.isdigit() and following == "name"
        if line.kind in ("name", "number") or bare_code:
            name_lines.append(line)
    name = " ".join(line.text for line in name_lines)
    if not name_lines or kinds.count("name") > MAX_NAME_LINES or len(name.split()) > MAX_NAME_WORDS + 1:
        return None
    stated = next((line for line in group if line.area_m2 is not None), None)
    first = name_lines[0]
    anchors = [(line.x, line.y) for line in name_lines]
    anchors += [_along(line.x, line.y, line.rotation, _width(line) / 2.0, line.height / 2.0) for line in name_lines]
    return Label(
        name,
        first.x,
        first.y,
        max(line.height for line in name_lines),
        [line.text for line in group],
        stated.area_m2 if stated else None,
        stated.text if stated else "",
        anchors,
    )


def labels_from_texts(texts: list[TextItem], offset: np.ndarray, scale: float) -> list[Label]:
    """Texts that can name a room (the rule is the module docstring), in output units, recentred
    (``(drawing - offset) * scale``)."""
    singles: list[_Line] = []
    multi: list[list[_Line]] = []
    for item in texts:
        if item.kind not in NAME_KINDS or _DIMENSION_LAYER.search(item.layer):
            continue
        lines = _split(item, offset, scale)
        if len(lines) == 1:
            singles.append(lines[0])
        elif lines:
            multi.append(lines)
    labels = [_label_of(group) for group in _stacks(singles) + multi]
    return [label for label in labels if label is not None]
