"""Which block references are not part of the object (furniture, fixtures, plants, symbols)."""

from __future__ import annotations

from collections.abc import Callable

from ..options import DxfOptions


def block_excluder(options: DxfOptions) -> Callable[[str, str], str] | None:
    """A function (block name, INSERT layer) -> reason to leave the reference out ("" keeps it),
    or None when nothing is to be left out."""
    return None
