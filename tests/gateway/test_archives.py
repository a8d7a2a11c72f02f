"""Batch zips opened defensively: every refusal has its code, and a sound zip passes."""

from __future__ import annotations

import io
import zipfile

import pytest

from cad3d_gateway.archives import is_archive, open_zip
from cad3d_gateway.problems import ProblemError
from tests.support.fixtures import plate_with_hole

LIMITS = {"max_files": 3, "max_unpacked": 4 << 20, "max_ratio": 200.0}


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def refusal(data: bytes) -> ProblemError:
    with pytest.raises(ProblemError) as refused:
        open_zip(io.BytesIO(data), **LIMITS)
    return refused.value


def test_sound_zip_lists_its_files_only() -> None:
    drawing = plate_with_hole()
    archive, entries = open_zip(io.BytesIO(zip_of({"a/b.dxf": drawing, "a/": b""})), **LIMITS)
    assert [e.filename for e in entries] == ["a/b.dxf"]
    assert archive.read(entries[0]) == drawing


def test_encrypted_entries_are_refused() -> None:
    data = bytearray(zip_of({"a.dxf": plate_with_hole()}))
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # the "encrypted" flag in the central directory, which zipfile reads
    assert refusal(bytes(data)).code == "encrypted_archive"


def test_other_refusals() -> None:
    assert refusal(zip_of({"dir/": b""})).code == "empty_archive"
    assert refusal(zip_of({f"{i}.dxf": b"0\n" for i in range(4)})).code == "too_many_files"
    assert refusal(zip_of({"z.dxf": b"\0" * (5 << 20)})).code == "zip_bomb"
    assert refusal(b"PK\x03\x04 truncated").code == "invalid_archive"
    assert refusal(zip_of({"n.dxf": zip_of({"x": b"x"})})).code == "nested_archive"  # by content, not name


@pytest.mark.parametrize(
    "head",
    [b"\x1f\x8b\x08\x00", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07\x00", b"BZh91AY", b"\0" * 257 + b"ustar\x0000"],
    ids=["gzip", "7z", "rar", "bzip2", "tar"],
)
def test_archive_signatures(head: bytes) -> None:
    assert is_archive(head)
    assert not is_archive(plate_with_hole()[:512])


def test_a_bad_crc_refuses_the_whole_batch_before_any_entry_is_used() -> None:
    data = bytearray(zip_of({"a.dxf": plate_with_hole(), "b.dxf": plate_with_hole() + b"999\nsecond\n"}))
    second = data.index(b"PK\x03\x04", 4)  # the second entry's local header
    data[second + 14] ^= 0xFF  # its CRC-32
    central = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)
    data[central + 16] ^= 0xFF  # and the central directory's copy, which zipfile compares with
    assert refusal(bytes(data)).code == "invalid_archive"


def test_an_entry_over_the_upload_limit_is_refused_however_well_it_packs() -> None:
    small_zip = zip_of({"big.dxf": b"0\n" * (300_000)})  # 600 kB of text packs to ~1 kB
    assert len(small_zip) < 10_000
    with pytest.raises(ProblemError) as refused:
        open_zip(io.BytesIO(small_zip), max_files=3, max_unpacked=4 << 20, max_ratio=1e6, max_entry=100_000)
    assert (refused.value.status, refused.value.code) == (413, "payload_too_large")
