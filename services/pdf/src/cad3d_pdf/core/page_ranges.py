"""Page range strings ("1-3,5", "4-", "-2") -> zero-based page indices."""

from __future__ import annotations

import re

from cad3d_kit.conversion import ConversionError

_PART = re.compile(r"^\s*(\d*)\s*(-?)\s*(\d*)\s*$")


def _bad(spec: str, why: str) -> ConversionError:
    return ConversionError("invalid_page_range", f"page range {spec!r}: {why}")


def parse_page_ranges(spec: str | None, page_count: int) -> list[int]:
    """Return sorted, de-duplicated zero-based indices; ``None``/empty selects every page.

    Pages are one-based in ``spec``. An open end ("4-") runs to the last page, an open start
    ("-2") from the first. Pages beyond the document are an error, not silently dropped.
    """
    if spec is None or not spec.strip():
        return list(range(page_count))
    selected: set[int] = set()
    for part in spec.split(","):
        match = _PART.match(part)
        if not match or not (match.group(1) or match.group(3)):
            raise _bad(spec, f"cannot parse {part.strip()!r}")
        first_text, dash, last_text = match.groups()
        if not dash and last_text:
            raise _bad(spec, f"cannot parse {part.strip()!r}")
        first = int(first_text) if first_text else 1
        last = (int(last_text) if last_text else page_count) if dash else first
        if first < 1 or last < first:
            raise _bad(spec, f"{part.strip()!r} is empty or starts before page 1")
        if last > page_count:
            raise _bad(spec, f"page {last} does not exist (the document has {page_count} pages)")
        selected.update(range(first - 1, last))
    return sorted(selected)
