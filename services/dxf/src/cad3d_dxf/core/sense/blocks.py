"""Which block references are not part of the object (furniture, fixtures, plants, symbols).

A block is judged by the words of its name (and, for furniture and plants, of the INSERT's layer),
split like rules.layer_category: case-folded letter runs, so "xref-A$0$FIXT-WASHER26" says
"xref", "a", "fixt", "washer". A word matches a kind when it equals one of its whole words or
starts with one of its prefixes (short words are whole-word only: "bed" must not catch "bedrock").

Furniture, fixtures, plants, people and vehicles are left out only on architecture sheets: on a
mechanical sheet a "TABLE" block is a machine table, and without a preset the drawing may well be
of the furniture itself. Symbols (north arrows, section and elevation marks, projection symbols,
logos) and the sheet's title and border blocks are left out with any preset. A block whose name
says door or window is never left out for furniture words: doors matter to the plan step.
Nothing is left out with sheet="keep".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from ..options import DxfOptions

# kind -> (prefixes, whole words). The kind is the reason recorded for the reference.
_FURNISHING: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "furniture": (
        (
            "furn",
            "chair",
            "sofa",
            "couch",
            "armchair",
            "desk",
            "cabinet",
            "wardrobe",
            "dresser",
            "bookcase",
            "shelf",
            "shelv",
            "stool",
            "bench",
            "nightstand",
            "ottoman",
            "piano",
            "mesa",
            "silla",
            "мебел",
            "стул",
            "кресл",
            "диван",
            "кроват",
            "шкаф",
            "тумб",
            "مبل",
            "صندلی",
            "کمد",
        ),
        frozenset({"bed", "beds", "table", "tables", "tbl", "cama", "стол", "столы", "میز", "تخت"}),
    ),
    "fixture": (
        (
            "fixt",
            "toilet",
            "bath",
            "sink",
            "basin",
            "lavatory",
            "shower",
            "washer",
            "dryer",
            "dishwash",
            "fridge",
            "refrig",
            "oven",
            "cooktop",
            "stove",
            "hob",
            "bidet",
            "urinal",
            "faucet",
            "унитаз",
            "раковин",
            "ванн",
            "душ",
            "мойк",
            "холодильн",
            "توالت",
            "دستشویی",
            "حمام",
            "سینک",
            "یخچال",
            "اجاق",
        ),
        frozenset({"wc", "ref", "range", "lav", "tub", "دوش"}),
    ),
    "plant": (
        (
            "plant",
            "tree",
            "shrub",
            "bush",
            "hedge",
            "flower",
            "landscap",
            "veget",
            "garden",
            "palm",
            "arbre",
            "arbol",
            "arbust",
            "растен",
            "дерев",
            "куст",
            "газон",
            "درخت",
            "گیاه",
            "چمن",
        ),
        frozenset({"grass", "лес", "گل"}),
    ),
    "person_or_vehicle": (
        ("person", "people", "human", "pedestrian", "vehicle", "truck", "человек", "автомоб", "машин", "ماشین"),
        frozenset({"car", "cars", "man", "woman", "figure"}),
    ),
}
_SHEET: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "title_block": (
        ("title", "cartouche", "штамп", "titleblock"),
        frozenset(),
    ),
    "frame": (
        ("border", "рамк", "кадр", "کادر"),
        frozenset({"frame", "формат"}),
    ),
    "symbol": (
        ("north", "arrow", "logo", "symbol", "projection", "callout", "север", "стрелк", "логотип", "شمال", "فلش"),
        frozenset(),
    ),
}
# Section, elevation and grid marks are symbols only with one of these words beside them: a block
# named "SECTION A-A" may hold the section view itself.
_MARK_WORDS = frozenset({"mark", "marker", "tag", "head", "bubble", "symbol", "sym", "flag", "target", "key"})
_MARKED = ("section", "sect", "elev", "elevation", "grid", "detail", "room", "door", "window", "level")
# Doors and windows keep their geometry whatever else the name says (unless it is a mark).
_OPENINGS = ("door", "window", "puerta", "ventana", "двер", "окн", "окон", "پنجره")
_OPENING_WORDS = frozenset({"در", "درب"})


def _words(name: str) -> list[str]:
    text = unicodedata.normalize("NFKC", name).casefold()
    text = text.replace("\u064a", "\u06cc").replace("\u0643", "\u06a9").replace("\u0451", "\u0435")
    return re.findall(r"[^\W\d_]+", text)


def _matches(words: list[str], table: dict[str, tuple[tuple[str, ...], frozenset[str]]]) -> str:
    for kind, (prefixes, whole) in table.items():
        if any(word in whole or word.startswith(prefixes) for word in words):
            return kind
    return ""


def _is_opening(words: list[str]) -> bool:
    return any(word in _OPENING_WORDS or word.startswith(_OPENINGS) for word in words)


def block_kind(name: str, layer: str = "", *, furnishings: bool = True) -> str:
    """Why a reference of block ``name`` on ``layer`` is not part of the object, or ""."""
    words = _words(name)
    if any(w.startswith(_MARKED) for w in words) and _MARK_WORDS.intersection(words):
        return "symbol"
    sheet = _matches(words, _SHEET)
    if sheet:
        return sheet
    if not furnishings or _is_opening(words):
        return ""
    return _matches(words, _FURNISHING) or _matches(_words(layer), _FURNISHING)


def block_excluder(options: DxfOptions) -> Callable[[str, str], str] | None:
    """A function (block name, INSERT layer) -> reason to leave the reference out ("" keeps it),
    or None when nothing is to be left out."""
    if options.sheet != "auto":
        return None
    furnishings = options.preset == "architecture"
    cache: dict[tuple[str, str], str] = {}

    def exclude(name: str, layer: str) -> str:
        key = (name, layer)
        if key not in cache:
            cache[key] = block_kind(name, layer, furnishings=furnishings)
        return cache[key]

    return exclude
