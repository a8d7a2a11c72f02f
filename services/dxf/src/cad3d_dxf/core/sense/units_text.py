"""Lengths and unit names as drawings write them: ``24'-7 1/2"``, ``1,250 mm``, ``UNIT: MM``."""

from __future__ import annotations

import re

_NUMBER = r"\d+(?:[.,]\d+)?"
_FRACTION = r"(?:(\d+)\s+)?(\d+)/(\d+)"  # "7 1/2" or "1/2"
# Feet and inches: 24'-7", 24'-7 1/2", 24' 7", 3'-0", 16'
_FEET_INCHES = re.compile(rf"^({_NUMBER})\s*'\s*-?\s*(?:(?:{_FRACTION}|({_NUMBER}))\s*\"?)?$")
_INCHES = re.compile(rf"^(?:{_FRACTION}|({_NUMBER}))\s*(?:\"|in\b|inch(?:es)?)$", re.IGNORECASE)
_METRIC = re.compile(rf"^({_NUMBER})\s*(mm|cm|m)$", re.IGNORECASE)
# Prefixes a dimension value may carry: diameter, radius, count ("2x"), MTEXT diameter code.
_PREFIX = re.compile(r"^(?:(?:%%[cC]|[ØøⱠ⌀]|R|\d+\s*[xX\u00d7]|M)\s*)+")

_UNIT_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("mm", re.compile(r"\b(mm|millimet(er|re)s?)\b|毫米|мм|میلی\s*متر", re.IGNORECASE)),
    ("cm", re.compile(r"\b(cm|centimet(er|re)s?)\b|厘米|см|سانتی\s*متر", re.IGNORECASE)),
    # A bare "in" is the English word in "DIMENSIONS IN METRES": only a field that is just "in".
    ("in", re.compile(r"\binch(es)?\b|^\s*in\.?\s*$|\"|英寸|дюйм", re.IGNORECASE)),
    ("ft", re.compile(r"\b(ft|feet|foot)\b|英尺|фут", re.IGNORECASE)),
    ("m", re.compile(r"\b(m|metres?|meters?)\b|米|\bм\b|متر", re.IGNORECASE)),
)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _fraction(whole: str | None, top: str, bottom: str) -> float:
    return (float(whole) if whole else 0.0) + float(top) / max(float(bottom), 1.0)


def displayed_length(text: str) -> tuple[float, str] | None:
    """The length a dimension displays and the unit it names ("" when it names none).

    ``24'-7 1/2"`` -> (295.5, "in"); ``1200 mm`` -> (1200, "mm"); ``12.5`` -> (12.5, "");
    angles, tolerances and texts that are not one length -> None.
    """
    value = _PREFIX.sub("", text.strip()).strip()
    if not value or "°" in value or "\\U+00B0" in value or "±" in value:
        return None
    match = _FEET_INCHES.match(value)
    if match:
        feet = _number(match.group(1))
        if match.group(4):
            inches = _fraction(match.group(2), match.group(3), match.group(4))
        elif match.group(5):
            inches = _number(match.group(5))
        else:
            inches = 0.0
        return feet * 12.0 + inches, "in"
    match = _INCHES.match(value)
    if match:
        if match.group(3):
            return _fraction(match.group(1), match.group(2), match.group(3)), "in"
        return _number(match.group(4)), "in"
    match = _METRIC.match(value)
    if match:
        return _number(match.group(1)), match.group(2).lower()
    if re.fullmatch(_NUMBER, value):
        return _number(value), ""
    return None


def unit_named_in(text: str) -> str | None:
    """The length unit a note or title-block field names ("UNIT: MM", "毫米"), or None."""
    for unit, pattern in _UNIT_WORDS:
        if pattern.search(text):
            return unit
    return None
