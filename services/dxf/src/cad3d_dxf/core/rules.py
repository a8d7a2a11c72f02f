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
import math
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
    source: str  # "rule", "preset", "option" (height from --height) or "default": lets the report explain each layer
    # True when a user rule fixed the height, so entity thickness must not override it.
    height_from_user: bool = False
    # What decided the height: "rule", "option", "rules_default", "preset", "drawing" or "default".
    height_source: str = "default"


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


def _preset_height(
    category: tuple[float, float, Role], preset: Preset, option_height: float | None, mm_to_output: float
) -> tuple[float, str]:
    """A category's height: --height replaces a storey-high category (walls, columns); openings
    stay their own height but never reach above the --height storey; slabs keep theirs."""
    height_mm, base_mm, role = category
    height = height_mm * mm_to_output
    if option_height is None or role == "slab":
        return height, "preset"
    if height_mm >= preset.default_height_mm:
        return option_height, "option"
    room = option_height - base_mm * mm_to_output
    if 0 < room < height:
        return room, "option"
    return height, "preset"


def resolve_layer(
    layer: str,
    rules: RuleSet,
    preset: Preset | None,
    option_height: float | None,
    mm_to_output: float,
    drawing_height: float | None = None,
) -> ResolvedLayer:
    """Decide include/height/base/colour/role of a layer (heights and bases in output units).

    Precedence for the height: a user rule's height; --height (``option_height``) for every layer
    no rule gives a height, preset categories included (see _preset_height for openings and
    slabs); the rules' default; the preset's default; ``drawing_height`` (the caller's default
    from the drawing's size, default_height_for); DEFAULT_HEIGHT_MM. ``height_source`` records
    which one decided.
    """
    default_height, height_source = (
        (option_height, "option")
        if option_height is not None
        else (rules.default_height, "rules_default")
        if rules.default_height is not None
        else (preset.default_height_mm * mm_to_output, "preset")
        if preset
        else (drawing_height, "drawing")
        if drawing_height is not None
        else (DEFAULT_HEIGHT_MM * mm_to_output, "default")
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
                height_source="rule" if rule.height is not None else height_source,
            )
    # Where the height came from --height, the layer says so; include and role are the preset's.
    source = "option" if height_source == "option" else "preset"
    if preset is not None:
        category = layer_category(layer)
        if category == "ignore":
            return ResolvedLayer(False, default_height, default_base, None, "", "preset", False, height_source)
        if category == "" and preset.name == "mechanical":
            return ResolvedLayer(True, default_height, default_base, None, "plate", source, False, height_source)
        if category in preset.categories:
            _, base_mm, role = preset.categories[category]
            height, height_source = _preset_height(preset.categories[category], preset, option_height, mm_to_output)
            source = "option" if height_source == "option" else "preset"
            return ResolvedLayer(True, height, base_mm * mm_to_output, None, role, source, False, height_source)
    elif _normalise(layer) == "defpoints":
        # AutoCAD never plots DEFPOINTS: it only holds dimension definition points.
        return ResolvedLayer(False, default_height, default_base, None, "", "default", False, height_source)
    source = "option" if height_source == "option" else "default"
    return ResolvedLayer(True, default_height, default_base, None, "", source, False, height_source)


def _step_125(value: float) -> float:
    """The largest 1-2-5 step (1, 2, 5, 10, 20, ...) not above ``value`` (> 0)."""
    decade = 10.0 ** math.floor(math.log10(value))
    return max(step * decade for step in (1.0, 2.0, 5.0, 10.0) if step * decade <= value * (1 + 1e-9))


def default_height_for(extent_mm: float, smaller_mm: float | None = None) -> tuple[float, str]:
    """A default extrusion height (mm) for a drawing without a preset, from its plan size in mm.

    ``extent_mm`` is the larger side of the drawing's plan extent, ``smaller_mm`` the smaller one
    (the larger when not given). The rule, with the reason returned alongside the value:

    - up to 2 m across it is a part: a plate 1/20 of the smaller side, rounded down to a 1-2-5
      step and kept within 1..20 mm (a 100 mm part is 5 mm thick, a 1 m panel 20 mm);
    - over 5 m across it is a building: 3000 mm, one storey;
    - in between (furniture, a site element): 100 mm;
    - no usable extent: DEFAULT_HEIGHT_MM.
    """
    if not math.isfinite(extent_mm) or extent_mm <= 0:
        return DEFAULT_HEIGHT_MM, "the drawing has no plan extent: the generic default"
    smaller = extent_mm if smaller_mm is None or not math.isfinite(smaller_mm) or smaller_mm <= 0 else smaller_mm
    smaller = min(smaller, extent_mm)
    if extent_mm <= 2000.0:
        height = min(max(_step_125(smaller / 20.0), 1.0), 20.0)
        return height, (
            f"the drawing is {extent_mm:.4g} mm across, a part: a plate 1/20 of its smaller side "
            f"({smaller:.4g} mm) in 1-2-5 steps, 1 to 20 mm"
        )
    if extent_mm > 5000.0:
        return 3000.0, f"the drawing is {extent_mm:.4g} mm across, building-sized: one 3000 mm storey"
    return 100.0, f"the drawing is {extent_mm:.4g} mm across, between a part and a building: 100 mm"


class LayerResolver:
    """Resolves (and caches) every layer's extrusion from the options, rules and preset.

    ``default_height`` (output units) replaces the generic default of layers no option, rule or
    preset gives a height (the pipeline passes default_height_for of the drawing's extent);
    ``default_height_reason`` says why, for the report.
    """

    def __init__(
        self, options: DxfOptions, default_height: float | None = None, default_height_reason: str = ""
    ) -> None:
        from .units import OUTPUT_UNITS

        self.rules = parse_rules(options.rules_json) if options.rules_json else RuleSet()
        self.preset: Preset | None = PRESET_TABLE.get(options.preset or "")
        self.option_height = options.height
        self.mm_to_output = 0.001 / OUTPUT_UNITS[options.output_unit]
        self.default_height = default_height
        self.default_height_reason = default_height_reason
        # Wall/opening/room inference on plans: the preset asks for it and --plan plain does not
        # turn it off.
        self.plan_inference = bool(self.preset and self.preset.classify_plan and options.plan != "plain")
        self.cache: dict[str, ResolvedLayer] = {}

    def __call__(self, layer: str) -> ResolvedLayer:
        resolved = self.cache.get(layer)
        if resolved is None:
            resolved = resolve_layer(
                layer, self.rules, self.preset, self.option_height, self.mm_to_output, self.default_height
            )
            self.cache[layer] = resolved
        return resolved
