"""Options parsing, page ranges and input detection."""

from __future__ import annotations

import pytest

from cad3d_kit.conversion import ConversionError
from cad3d_pdf.core import Calibration, PdfOptions, convert
from cad3d_pdf.core.detect import detect_input
from cad3d_pdf.core.page_ranges import parse_page_ranges
from cad3d_pdf.core.units import MM_PER_POINT, output_factor


def test_defaults_mirror_proto_defaults() -> None:
    options = PdfOptions.from_mapping({})
    assert options == PdfOptions()
    assert options.page_mode == "file_per_page" and options.layer_mode == "ocg"
    assert options.raster_mode == "auto" and options.unit == "mm" and options.scale == 1.0
    assert options.scale_status == "unknown"


def test_proto_style_mapping_is_accepted() -> None:
    options = PdfOptions.from_mapping(
        {
            "pages": "1-2",
            "page_mode": "PAGE_MODE_LAYOUT_PER_PAGE",
            "layer_mode": "LAYER_MODE_STYLE",
            "raster_mode": "RASTER_MODE_ALWAYS",
            "scale": 50,
            "unit": "M",
            "calibration": {},
            "flatten_curves": True,
            "merge_dashes": True,
            "raster_underlay": True,
            "password": "",
            "target": "dxf",
        }
    )
    assert options.page_mode == "layout_per_page" and options.layer_mode == "style"
    assert options.raster_mode == "always" and options.unit == "m" and options.scale == 50.0
    assert options.flatten_curves and options.merge_dashes and options.raster_underlay
    assert options.password is None and options.calibration is None
    assert options.scale_status == "declared"


def test_message_to_dict_style_keys_and_enum_numbers() -> None:
    options = PdfOptions.from_mapping(
        {
            "pageMode": 2,
            "layerMode": "LAYER_MODE_SINGLE",
            "rasterMode": 2,
            "flattenCurves": True,
            "rasterUnderlay": True,
        }
    )
    assert options.page_mode == "layout_per_page" and options.layer_mode == "single"
    assert options.raster_mode == "never" and options.flatten_curves and options.raster_underlay
    with pytest.raises(ConversionError) as info:
        PdfOptions.from_mapping({"pageMode": 7})
    assert info.value.code == "invalid_options"


def test_zero_scale_and_unspecified_enums_mean_default() -> None:
    options = PdfOptions.from_mapping({"scale": 0, "page_mode": "PAGE_MODE_UNSPECIFIED", "layer_mode": 0})
    assert options == PdfOptions()


@pytest.mark.parametrize(
    "mapping",
    [
        {"page_mode": "sideways"},
        {"layer_mode": "colour"},
        {"raster_mode": "sometimes"},
        {"scale": -2},
        {"scale": "big"},
        {"scale": True},
        {"scale": float("nan")},
        {"unit": "furlong"},
        {"flatten_curves": "yes"},
        {"pages": 12},
        {"calibration": {"x1": 0, "y1": 0, "x2": 0, "y2": 0, "length": 10}},
        {"calibration": {"x1": 0, "y1": 0, "x2": 10, "y2": 0, "length": -1}},
        {"calibration": {"x1": 0, "y1": 0}},
        {"calibration": {"x1": "a", "x2": 3, "length": 1}},
        {"calibration": "0,0,1,1"},
        {"colour": "red"},
    ],
)
def test_invalid_options_are_refused(mapping: dict[str, object]) -> None:
    with pytest.raises(ConversionError) as info:
        PdfOptions.from_mapping(mapping)
    assert info.value.code == "invalid_options"


def test_invalid_constructor_values_are_refused() -> None:
    with pytest.raises(ConversionError) as info:
        PdfOptions(unit="parsec")
    assert info.value.code == "invalid_options"


def test_calibration_from_proto3_mapping_with_zero_fields_left_out() -> None:
    # MessageToDict drops x1 = y1 = y2 = 0.
    options = PdfOptions.from_mapping({"calibration": {"x2": 10.0, "length": 100.0}})
    assert options.calibration == Calibration(0.0, 0.0, 10.0, 0.0, 100.0)
    assert output_factor(options) == pytest.approx(10.0)


def test_calibration_sets_units_per_point_and_status() -> None:
    options = PdfOptions.from_mapping({"calibration": {"x1": 0, "y1": 0, "x2": 30, "y2": 40, "length": 1000}})
    assert isinstance(options.calibration, Calibration)
    assert output_factor(options) == pytest.approx(20.0)  # 1000 units over 50 points
    assert options.scale_status == "calibrated"


def test_scale_and_unit_factor() -> None:
    assert output_factor(PdfOptions()) == pytest.approx(MM_PER_POINT)
    assert output_factor(PdfOptions(scale=100, unit="m")) == pytest.approx(MM_PER_POINT * 100 / 1000)
    assert output_factor(PdfOptions(unit="in")) == pytest.approx(1 / 72)


@pytest.mark.parametrize(
    ("spec", "count", "expected"),
    [
        (None, 3, [0, 1, 2]),
        ("", 3, [0, 1, 2]),
        ("2", 3, [1]),
        ("1-2", 5, [0, 1]),
        ("1-3, 5", 6, [0, 1, 2, 4]),
        ("4-", 6, [3, 4, 5]),
        ("-2", 6, [0, 1]),
        ("3,1,3", 4, [0, 2]),
    ],
)
def test_page_ranges(spec: str | None, count: int, expected: list[int]) -> None:
    assert parse_page_ranges(spec, count) == expected


@pytest.mark.parametrize("spec", ["0", "4", "2-1", "a", "1-2-3", "1,,2", "-", "3-9"])
def test_bad_page_ranges(spec: str) -> None:
    with pytest.raises(ConversionError) as info:
        parse_page_ranges(spec, 3)
    assert info.value.code == "invalid_page_range"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n...", "pdf"),
        (b"\x00" * 500 + b"%PDF-1.4\n", "pdf"),
        (b"\x89PNG\r\n\x1a\n0000", "png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
    ],
)
def test_input_is_detected_from_content(data: bytes, kind: str) -> None:
    assert detect_input(data) == kind


@pytest.mark.parametrize("data", [b"", b"GIF89a....", b"\x00" * 2000 + b"%PDF-1.4", b"0\nSECTION\n2\nHEADER\n"])
def test_unsupported_input(data: bytes) -> None:
    with pytest.raises(ConversionError) as info:
        convert(data, PdfOptions())
    assert info.value.code == "unsupported_input"
