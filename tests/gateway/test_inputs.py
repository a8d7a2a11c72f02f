"""Gateway input handling that needs no server: content detection, names, options, preferences."""

from __future__ import annotations

import io

import ezdxf
import pytest
from PIL import Image

from cad3d_gateway.api import parse_prefer_wait
from cad3d_gateway.options import parse_options
from cad3d_gateway.problems import ProblemError
from cad3d_gateway.submission import safe_filename
from cad3d_kit.detect import detect
from tests.support.fixtures import plate_with_hole


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format=fmt)
    return out.getvalue()


def binary_dxf() -> bytes:
    doc = ezdxf.new()
    doc.modelspace().add_line((0, 0), (1, 1))
    stream = io.BytesIO()
    doc.write(stream, fmt="bin")
    return stream.getvalue()


@pytest.mark.parametrize(
    ("data", "kind", "media_type"),
    [
        (plate_with_hole(), "dxf", "image/vnd.dxf"),
        (b"\xef\xbb\xbf  0\r\nSECTION\r\n  2\r\nHEADER\r\n", "dxf", "image/vnd.dxf"),
        (b"999\nexported by X\n0\nSECTION\n2\nENTITIES\n", "dxf", "image/vnd.dxf"),
        (binary_dxf(), "dxf", "image/vnd.dxf"),
        (b"AC1027\x00\x00\x00\x00\x00\x01", "dxf", "image/vnd.dwg"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf", "application/pdf"),
        (image_bytes("PNG"), "image", "image/png"),
        (image_bytes("JPEG"), "image", "image/jpeg"),
        (image_bytes("WEBP"), "image", "image/webp"),
        (image_bytes("TIFF"), "image", "image/tiff"),
    ],
)
def test_content_decides_the_kind(data: bytes, kind: str, media_type: str) -> None:
    detected = detect(data[:4096])
    assert detected is not None and (detected.kind, detected.media_type) == (kind, media_type)


@pytest.mark.parametrize("data", [b"", b"hello world", b"PK\x03\x04zip", b"<svg xmlns='x'/>", b"0\nNOT A DXF\n"])
def test_other_content_is_not_accepted(data: bytes) -> None:
    assert detect(data) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\plan.dxf", "plan.dxf"),
        ("a\x00b\nc.dxf", "abc.dxf"),
        ("  ..  ", "upload"),
        (None, "upload"),
        ("план этажа.dxf", "план этажа.dxf"),
        ("x" * 500, "x" * 200),
    ],
)
def test_client_file_names_become_harmless_labels(name: str | None, expected: str) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize(
    ("header", "wait"),
    [(None, 0.0), ("wait=5", 5.0), ("respond-async, wait=10", 10.0), ("wait=999", 60.0), ("handling=lenient", 0.0)],
)
def test_prefer_wait(header: str | None, wait: float) -> None:
    assert parse_prefer_wait(header, ceiling=60.0) == wait


def test_options_are_validated_per_kind() -> None:
    assert parse_options("dxf", '{"format": "stl", "height": 3}') == {
        "format": "stl",
        "height": 3.0,
        "output_unit": "mm",
    }
    assert parse_options("image", None)["format"] == "glb"
    for kind, raw in [
        ("dxf", "[1]"),
        ("dxf", "{bad json"),
        ("dxf", '{"colour": 1}'),
        ("dxf", '{"height": -1}'),
        ("pdf", '{"pages": "1;rm -rf"}'),
        ("image", '{"format": "dxf"}'),
    ]:
        with pytest.raises(ProblemError) as info:
            parse_options(kind, raw)
        assert info.value.status == 422 and info.value.code == "invalid_options"
