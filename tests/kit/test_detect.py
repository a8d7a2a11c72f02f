"""Content sniffing: what an upload is, from its first bytes, as other writers make them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cad3d_kit.detect import detect

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


@pytest.mark.parametrize(
    "head",
    [
        b"0\nSECTION\n2\nHEADER\n",
        b"999\ndxflib 3.26.4\n999\nCloudCompare export\n999\nunits: m\n0\nSECTION\n2\nHEADER\n",
        b"\xef\xbb\xbf  999\r\ncomment\r\n  0\r\nSECTION\r\n",
        b"999\n" + b"x" * 10 + b"\n0\nEOF\n",
    ],
)
def test_ascii_dxf_with_any_number_of_leading_comments(head: bytes) -> None:
    detected = detect(head)
    assert detected is not None and detected.kind == "dxf" and detected.extension == "dxf"


@pytest.mark.parametrize("head", [b"999\ncomment\nhello\nworld\n", b"0\nNOTASECTION\n", b"999\n"])
def test_text_that_only_starts_like_a_dxf_is_not_one(head: bytes) -> None:
    assert detect(head) is None


def test_every_corpus_drawing_is_detected_as_a_drawing() -> None:
    files = sorted((CORPUS / "dxf").glob("*")) + sorted((CORPUS / "dwg").glob("*"))
    if not files:
        pytest.skip(f"corpus not found at {CORPUS}")
    undetected = [f.name for f in files if (found := detect(f.read_bytes()[:4096])) is None or found.kind != "dxf"]
    # The R1.4 file has no HEADER and starts straight with entities of a format ezdxf cannot read.
    assert undetected in ([], ["libredwg__r1.4_entities.dxf"])
