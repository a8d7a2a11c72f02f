"""Zip uploads of batches, opened defensively.

Refused before anything is stored: more entries than allowed, encrypted entries, an unpacked total
over the limit or an entry packed more tightly than ``max_ratio`` (zip bombs: sizes are taken from
the directory, and reading is bounded by them, so a lying header fails its CRC instead of growing),
and archives inside the archive (by content, not by name). Entry names are only labels.
"""

from __future__ import annotations

import zipfile
from typing import BinaryIO

from cad3d_gateway.problems import ProblemError

ZIP_MAGIC = b"PK\x03\x04"
# Archive and compressed-stream signatures at the start of a file, and tar's at offset 257.
_NESTED = (ZIP_MAGIC, b"PK\x05\x06", b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"BZh", b"\xfd7zXZ\x00")


def is_zip(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) or head.startswith(b"PK\x05\x06")


def is_archive(head: bytes) -> bool:
    return head.startswith(_NESTED) or head[257:262] == b"ustar"


def open_zip(
    stream: BinaryIO, max_files: int, max_unpacked: int, max_ratio: float, max_entry: int | None = None
) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The archive and its file entries, after every check that needs no unpacking; ProblemError otherwise."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ProblemError(422, "invalid_archive", "The zip file cannot be read", str(exc)) from None
    entries = [info for info in archive.infolist() if not info.is_dir()]
    if not entries:
        raise ProblemError(422, "empty_archive", "The zip file holds no files")
    if len(entries) > max_files:
        raise ProblemError(422, "too_many_files", "Too many files in the batch", f"at most {max_files}")
    if any(info.flag_bits & 0x1 for info in entries):
        raise ProblemError(422, "encrypted_archive", "Encrypted zip entries are not accepted")
    if sum(info.file_size for info in entries) > max_unpacked:
        raise ProblemError(413, "zip_bomb", "The zip file unpacks to too much", f"at most {max_unpacked} bytes")
    too_large = [info.filename for info in entries if max_entry is not None and info.file_size > max_entry]
    if too_large:
        # One entry is one upload: the upload limit holds for it however well it was packed.
        raise ProblemError(
            413, "payload_too_large", "A zip entry is larger than one upload may be", f"at most {max_entry} bytes"
        )
    for info in entries:
        if info.file_size > 1024 * 1024 and info.file_size / max(info.compress_size, 1) > max_ratio:
            raise ProblemError(
                413, "zip_bomb", "A zip entry is compressed suspiciously well", f"more than {max_ratio:g}:1"
            )
    for info in entries:
        head = _checked_head(archive, info)
        if is_archive(head):
            raise ProblemError(422, "nested_archive", "Archives inside the zip file are not accepted")
    return archive, entries


def _checked_head(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """An entry's first bytes, after reading it whole: a bad CRC or a broken stream refuses the
    batch here, before any entry has become a job (read later, it failed mid-batch with a 500)."""
    try:
        with archive.open(info) as entry:
            head = entry.read(512)
            while entry.read(1 << 20):  # bounded by the sizes checked above; the CRC is checked at the end
                pass
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise ProblemError(422, "invalid_archive", "A zip entry cannot be read", str(exc)) from None
    return head
