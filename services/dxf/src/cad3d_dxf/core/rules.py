"""Per-layer extrusion rules: user JSON rules, named presets and how a layer resolves.

Rules JSON (heights and elevations in OUTPUT units)::

    {"default": {"height": 2500, "base": 0},
     "layers": [{"match": "WALL*", "height": 3000},
                {"match": "DIM*", "include": false},
                {"match": "SLAB", "height": 200, "base": -200, "color": "#c0c0c0"}]}

A bare list is taken as the "layers" list. ``match`` is a case-insensitive shell glob on the
layer name; the first matching rule wins. Presets are consulted after user rules.
"""

from __future__ import annotations

import fnmatch
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import invalid_options

if TYPE_CHECKING:
    from .options import DxfOptions

Role = str  # "wall", "door", "window", "column", "slab", "plate" or "" (plain extrusion)

DEFAULT_HEIGHT_MM = 1000.0


@dataclass(frozen=True)
class LayerRule:
    match: str
    height: float | None = None
    base: float | None = None
    include: bool = True
    color: tuple[int, int, int] | None = None
    role: Role = ""

    def matches(self, layer: str) -> bool:
        return fnmatch.fnmatchcase(layer.casefold(), self.match.casefold())


@dataclass(frozen=True)
class RuleSet:
    layers: tuple[LayerRule, ...] = ()
    default_height: float | None = None
    default_base: float | None = None


@dataclass(frozen=True)
class ResolvedLayer:
    """How one layer is extruded. ``height``/``base`` already in output units."""

    include: bool
    height: float
    base: float
    color: tuple[int, int, int] | None
    role: Role
    source: str  # "rule", "preset" or "default": lets the report explain each layer
    # True when a user rule fixed the height, so entity thickness must not override it.
    height_from_user: bool = False


def _parse_color(value: Any) -> tuple[int, int, int]:
    if isinstance(value, str) and re.fullmatch(r"#?[0-9a-fA-F]{6}", value):
        text = value.lstrip("#")
        return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
    if (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    ):
        return int(value[0]), int(value[1]), int(value[2])
    raise invalid_options(f"colour must be '#rrggbb' or [r, g, b] with 0-255 values, got {value!r}")


def _number(value: Any, what: str, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_options(f"{what} must be a number, got {value!r}")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")) or (positive and number <= 0):
        raise invalid_options(f"{what} must be a {'positive ' if positive else ''}finite number, got {value!r}")
    return number


def _parse_rule(item: Any, index: int) -> LayerRule:
    if not isinstance(item, dict):
        raise invalid_options(f"rules.layers[{index}] must be an object")
    allowed = {"match", "height", "base", "include", "color", "colour", "role"}
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise invalid_options(f"rules.layers[{index}] has unknown key(s): {', '.join(unknown)}")
    match = item.get("match")
    if not isinstance(match, str) or not match:
        raise invalid_options(f"rules.layers[{index}].match must be a non-empty layer-name glob")
    include = item.get("include", True)
    if not isinstance(include, bool):
        raise invalid_options(f"rules.layers[{index}].include must be true or false")
    role = item.get("role", "")
    if role not in ("", "wall", "door", "window", "column", "slab", "plate"):
        raise invalid_options(f"rules.layers[{index}].role {role!r} is not a known role")
    color = item.get("color", item.get("colour"))
    return LayerRule(
        match=match,
        height=None if item.get("height") is None else _number(item["height"], "height", True),
        base=None if item.get("base") is None else _number(item["base"], "base", False),
        include=include,
        color=None if color is None else _parse_color(color),
        role=role,
    )


def parse_rules(text: str) -> RuleSet:
    """Parse and validate rules JSON; raises ConversionError(invalid_options)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise invalid_options(f"rules_json is not valid JSON: {exc}") from None
    if isinstance(data, list):
        data = {"layers": data}
    if not isinstance(data, dict):
        raise invalid_options("rules_json must be an object with 'layers' (and optional 'default') or a list")
    unknown = sorted(set(data) - {"layers", "default"})
    if unknown:
        raise invalid_options(f"rules_json has unknown key(s): {', '.join(unknown)}")
    items = data.get("layers", [])
    if not isinstance(items, list):
        raise invalid_options("rules_json 'layers' must be a list")
    default = data.get("default", {})
    if not isinstance(default, dict) or set(default) - {"height", "base"}:
        raise invalid_options("rules_json 'default' may only hold 'height' and 'base'")
    return RuleSet(
        layers=tuple(_parse_rule(item, i) for i, item in enumerate(items)),
        default_height=None if default.get("height") is None else _number(default["height"], "height", True),
        default_base=None if default.get("base") is None else _number(default["base"], "base", False),
    )


# --- presets -------------------------------------------------------------------------------------

# Layer names are split into words (case-folded, Arabic letter forms mapped to Persian), so
# "A-WALL-EXT", "Стены_наружные" and "دیوار-بیرونی" all say "wall". A word matches a category when
# it starts with one of its prefixes or equals one of its whole words (short words such as Persian
# "در" (door) or Russian "пол" (floor) would match far too much as prefixes).
_PREFIXES: dict[str, tuple[str, ...]] = {
    "ignore": (
        "dim",
        "text",
        "txt",
        "anno",
        "hatch",
        "defpoint",
        "furn",
        "grid",
        "axis",
        "center",
        "centre",
        "title",
        "border",
        "viewport",
        "vport",
        "hidden",
        "symbol",
        "note",
        "leader",
        "размер",
        "текст",
        "штрих",
        "мебел",
        "ось",
        "оси",
        "осев",
        "невид",
        "рамк",
        "подпис",
        "اندازه",
        "ابعاد",
        "متن",
        "هاشور",
        "مبلمان",
        "محور",
        "نوشته",
    ),
    "wall": ("wall", "стен", "перегород", "دیوار"),
    "door": ("door", "двер"),
    "window": ("window", "glaz", "окн", "окон", "پنجره"),
    "column": ("column", "pillar", "колон", "ستون"),
    "slab": ("slab", "floor", "плит", "перекрыт", "دال"),
}
_WHOLE_WORDS: dict[str, frozenset[str]] = {
    "ignore": frozenset({"dims"}),
    "wall": frozenset(),
    "door": frozenset({"در", "درب"}),
    "window": frozenset(),
    "column": frozenset({"col", "cols"}),
    "slab": frozenset({"пол", "полы", "کف"}),
}


def _normalise(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold()
    return text.replace("\u064a", "\u06cc").replace("\u0643", "\u06a9").replace("\u0451", "\u0435")


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\W_]+", _normalise(name)) if w]


def layer_category(name: str) -> str:
    """Preset category of a layer name ("wall", "door", ..., "ignore") or "" when unknown."""
    words = _words(name)
    for category, prefixes in _PREFIXES.items():
        for word in words:
            if word in _WHOLE_WORDS[category] or word.startswith(prefixes):
                return category
    return ""


@dataclass(frozen=True)
class Preset:
    name: str
    default_height_mm: float
    # category -> (height mm, base mm, role); "ignore" excludes the layer.
    categories: dict[str, tuple[float, float, Role]] = field(default_factory=dict)
    # Architecture: loose-line plans get walls (thin faces) and room slabs (large faces).
    classify_plan: bool = False
    max_wall_thickness_mm: float = 600.0
    min_wall_thickness_mm: float = 50.0
    slab_thickness_mm: float = 200.0


PRESET_TABLE: dict[str, Preset] = {
    "architecture": Preset(
        name="architecture",
        default_height_mm=3000.0,
        categories={
            "wall": (3000.0, 0.0, "wall"),
            "column": (3000.0, 0.0, "column"),
            "door": (2100.0, 0.0, "door"),
            "window": (1200.0, 900.0, "window"),
            "slab": (200.0, -200.0, "slab"),
        },
        classify_plan=True,
    ),
    "mechanical": Preset(
        name="mechanical",
        default_height_mm=10.0,
        categories={},
    ),
}


def resolve_layer(
    layer: str,
    rules: RuleSet,
    preset: Preset | None,
    option_height: float | None,
    mm_to_output: float,
) -> ResolvedLayer:
    """Decide include/height/base/colour/role of a layer. Precedence: user rule, preset, defaults."""
    default_height = (
        option_height
        if option_height is not None
        else rules.default_height
        if rules.default_height is not None
        else (preset.default_height_mm if preset else DEFAULT_HEIGHT_MM) * mm_to_output
    )
    default_base = rules.default_base if rules.default_base is not None else 0.0
    for rule in rules.layers:
        if rule.matches(layer):
            return ResolvedLayer(
                include=rule.include,
                height=rule.height if rule.height is not None else default_height,
                base=rule.base if rule.base is not None else default_base,
                color=rule.color,
                role=rule.role,
                source="rule",
                height_from_user=rule.height is not None,
            )
    if preset is not None:
        category = layer_category(layer)
        if category == "ignore":
            return ResolvedLayer(False, default_height, default_base, None, "", "preset")
        if category == "" and preset.name == "mechanical":
            return ResolvedLayer(True, default_height, default_base, None, "plate", "preset")
        if category in preset.categories:
            height_mm, base_mm, role = preset.categories[category]
            return ResolvedLayer(True, height_mm * mm_to_output, base_mm * mm_to_output, None, role, "preset")
    elif _normalise(layer) == "defpoints":
        # AutoCAD never plots DEFPOINTS: it only holds dimension definition points.
        return ResolvedLayer(False, default_height, default_base, None, "", "default")
    return ResolvedLayer(True, default_height, default_base, None, "", "default")


class LayerResolver:
    """Resolves (and caches) every layer's extrusion from the options, rules and preset."""

    def __init__(self, options: DxfOptions) -> None:
        from .units import OUTPUT_UNITS

        self.rules = parse_rules(options.rules_json) if options.rules_json else RuleSet()
        self.preset: Preset | None = PRESET_TABLE.get(options.preset or "")
        self.option_height = options.height
        self.mm_to_output = 0.001 / OUTPUT_UNITS[options.output_unit]
        self.cache: dict[str, ResolvedLayer] = {}

    def __call__(self, layer: str) -> ResolvedLayer:
        resolved = self.cache.get(layer)
        if resolved is None:
            resolved = resolve_layer(layer, self.rules, self.preset, self.option_height, self.mm_to_output)
            self.cache[layer] = resolved
        return resolved
