"""Give memory freed by a pipeline stage back to the operating system before the next stage.

Each stage drops structures made of many small allocations (the ezdxf document, the collected
outlines and loose lines, the region polygons); glibc keeps such freed memory in its heap, where
the large arrays of the next stage rarely fit, so without this a conversion's resident size only
grows from stage to stage and a warm worker starts its next conversion with the last one's heap.
``malloc_trim(0)`` returns every free heap page (a few milliseconds). Where the C library has no
``malloc_trim`` (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def return_free_memory() -> None:
    if _TRIM is not None:
        _TRIM(0)
