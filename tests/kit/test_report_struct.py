"""Reports cross gRPC as protobuf Structs, which keep every number as a double."""

from __future__ import annotations

from cad3d_kit.conversion_service import dict_to_struct, struct_to_dict


def test_a_report_comes_back_with_its_whole_numbers_as_integers() -> None:
    report = {
        "parts": 3,
        "volume": 97990.43517101905,
        "height": 10.0,
        "watertight": True,
        "unit": "mm",
        "layers": {"WALL": {"parts": 2, "area": 0.5, "colors": ["#ff0000"]}},
        "bbox": [[-1, 0, 2.25], [4, 5, 6]],
        "offset": [3_500_000.0, -(2**60)],
        "missing": None,
    }
    back = struct_to_dict(dict_to_struct(report))
    assert back == report
    assert type(back["parts"]) is int and type(back["layers"]["WALL"]["parts"]) is int
    assert type(back["volume"]) is float and type(back["watertight"]) is bool
    assert back["bbox"] == [[-1, 0, 2.25], [4, 5, 6]] and type(back["bbox"][0][0]) is int
    # Past 2**53 a double no longer holds every integer: such values stay floats.
    assert type(back["offset"][1]) is float


def test_non_finite_numbers_become_null_instead_of_failing_the_response() -> None:
    report = {"total_volume": float("inf"), "parts": {"items": [{"area": float("nan"), "holes": 2}]}, "ok": 1.5}
    back = struct_to_dict(dict_to_struct(report))
    assert back == {"total_volume": None, "parts": {"items": [{"area": None, "holes": 2}]}, "ok": 1.5}
