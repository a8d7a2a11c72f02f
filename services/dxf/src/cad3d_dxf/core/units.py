"""Length units: $INSUNITS codes and output unit names, as exact metre factors.

Own table rather than ezdxf.units.METER_FACTOR because that one stores rounded reciprocals
(39.37007874 in/m) and has no entry for unitless drawings; these are the exact definitions.
"""

from __future__ import annotations

# $INSUNITS code -> (name, metres per unit). Code 0 (unitless) is handled by the caller.
INSUNITS: dict[int, tuple[str, float]] = {
    1: ("in", 0.0254),
    2: ("ft", 0.3048),
    3: ("mi", 1609.344),
    4: ("mm", 0.001),
    5: ("cm", 0.01),
    6: ("m", 1.0),
    7: ("km", 1000.0),
    8: ("uin", 0.0254e-6),
    9: ("mil", 0.0254e-3),
    10: ("yd", 0.9144),
    11: ("angstrom", 1e-10),
    12: ("nm", 1e-9),
    13: ("um", 1e-6),
    14: ("dm", 0.1),
    15: ("dam", 10.0),
    16: ("hm", 100.0),
    17: ("gm", 1e9),
    18: ("au", 149597870700.0),
    19: ("ly", 9460730472580800.0),
    20: ("pc", 3.0856775814913673e16),
    21: ("us_ft", 1200.0 / 3937.0),
    22: ("us_in", 100.0 / 3937.0),
    23: ("us_yd", 3600.0 / 3937.0),
    24: ("us_mi", 6336000.0 / 3937.0),
}

OUTPUT_UNITS: dict[str, float] = {
    "mm": 0.001,
    "cm": 0.01,
    "dm": 0.1,
    "m": 1.0,
    "km": 1000.0,
    "in": 0.0254,
    "ft": 0.3048,
    "yd": 0.9144,
    "um": 1e-6,
}


def drawing_unit(insunits: int) -> tuple[str, float] | None:
    """Name and metres per unit of a $INSUNITS code; None when unitless or unknown."""
    return INSUNITS.get(insunits)


def scale_to_output(insunits: int, output_unit: str) -> tuple[float, str]:
    """Factor that turns drawing units into output units, and the drawing unit's name.

    A unitless drawing ($INSUNITS 0 or missing) is taken to be drawn in the output unit already,
    which is what a user who picks an output unit for such a file expects.
    """
    unit = drawing_unit(insunits)
    if unit is None:
        return 1.0, "unitless"
    name, metres = unit
    return metres / OUTPUT_UNITS[output_unit], name
