"""Turn input bytes into an ezdxf document: detect the format, read strictly, fall back to recover."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import ezdxf
import ezdxf.recover
from ezdxf.document import Drawing
from ezdxf.layouts import Layout
from ezdxf.lldxf.encoding import decode_dxf_unicode, has_dxf_unicode
from ezdxf.lldxf.tagger import binary_tags_loader
from ezdxf.lldxf.validator import dxf_info

from .errors import LAYOUT_NOT_FOUND, ConversionError, unreadable

BINARY_DXF_SENTINEL = b"AutoCAD Binary DXF\r\n\x1a\x00"
_DWG_MAGIC = re.compile(rb"^AC(?:1\d{3}|\d\.\d\d)")
# An ASCII DXF opens with a group code line (optionally after a BOM and blank space).
_ASCII_DXF_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*-?\d{1,4}\s*\r?\n")
_HEADER_PROBE_BYTES = 256 * 1024
_MAX_FINDINGS = 200


def detect_format(data: bytes) -> str:
    """ "dwg", "dxf-binary", "dxf-ascii" or "unknown", from the content alone."""
    if data.startswith(BINARY_DXF_SENTINEL):
        return "dxf-binary"
    if _DWG_MAGIC.match(data):
        return "dwg"
    if _ASCII_DXF_START.match(data[:64]):
        return "dxf-ascii"
    return "unknown"


@dataclass
class SourceInfo:
    """What the report and the output metadata say about the input: kept after the document is gone."""

    input_format: str
    read_mode: str  # "strict" or "recover"
    encoding: str
    dxf_version: str
    release: str
    audit_findings: list[dict[str, Any]] = field(default_factory=list)
    audit_counts: dict[str, int] = field(default_factory=lambda: {"fixes": 0, "errors": 0})


@dataclass
class LoadedDocument:
    doc: Drawing
    input_format: str
    read_mode: str  # "strict" or "recover"
    encoding: str
    audit_findings: list[dict[str, Any]] = field(default_factory=list)
    audit_counts: dict[str, int] = field(default_factory=lambda: {"fixes": 0, "errors": 0})

    def info(self) -> SourceInfo:
        return SourceInfo(
            self.input_format,
            self.read_mode,
            self.encoding,
            self.doc.dxfversion,
            self.doc.acad_release,
            self.audit_findings,
            self.audit_counts,
        )


def ascii_encoding(data: bytes) -> str:
    """The text encoding of an ASCII DXF: UTF-8 from R2007 on, else its $DWGCODEPAGE."""
    info = dxf_info(io.StringIO(data[:_HEADER_PROBE_BYTES].decode("utf-8", errors="ignore")))
    return "utf-8" if info.version >= "AC1021" else info.encoding


def _strict_ascii(data: bytes) -> tuple[Drawing, str]:
    encoding = ascii_encoding(data)
    # Universal newlines like ezdxf.readfile's open(): the tagger expects "\n" line ends.
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="surrogateescape", newline=None)
    return ezdxf.read(stream), encoding


def _findings(auditor: Any) -> tuple[list[dict[str, Any]], dict[str, int]]:
    findings: list[dict[str, Any]] = []
    for kind, entries in (("fix", auditor.fixes), ("error", auditor.errors)):
        for entry in entries:
            if len(findings) >= _MAX_FINDINGS:
                break
            entity = getattr(entry, "dxf_entity", None)
            handle = getattr(getattr(entity, "dxf", None), "handle", None) if entity is not None else None
            item: dict[str, Any] = {"kind": kind, "code": int(entry.code), "message": str(entry.message)}
            if handle:
                item["handle"] = str(handle)
            findings.append(item)
    return findings, {"fixes": len(auditor.fixes), "errors": len(auditor.errors)}


def load_document(data: bytes, input_format: str) -> LoadedDocument:
    """Read a DXF (ASCII or binary). Strict first because it is faster; recover mode on failure."""
    if input_format not in ("dxf-ascii", "dxf-binary"):
        raise unreadable("input is neither a DXF (ASCII or binary) nor a DWG file")
    strict_error: Exception | None = None
    try:
        if input_format == "dxf-binary":
            doc = ezdxf.document.Drawing.load(binary_tags_loader(data, errors="surrogateescape"))
            encoding = doc.encoding
        else:
            doc, encoding = _strict_ascii(data)
        doc.modelspace()  # a file without a usable model space needs recover mode's repairs
        return LoadedDocument(doc, input_format, "strict", encoding)
    except MemoryError:
        raise
    except Exception as exc:  # any strict-reader failure: recover mode gets its chance
        strict_error = exc
    try:
        doc, auditor = ezdxf.recover.read(io.BytesIO(data), errors="surrogateescape")
    except MemoryError:
        raise
    except Exception as exc:
        raise unreadable(
            f"the DXF file cannot be read, not even in recover mode: {type(exc).__name__}: {exc}"
        ) from None
    findings, counts = _findings(auditor)
    findings.insert(
        0,
        {
            "kind": "recover",
            "code": 0,
            "message": f"strict reader failed ({type(strict_error).__name__}: {strict_error}); read in recover mode",
        },
    )
    return LoadedDocument(doc, input_format, "recover", doc.encoding, findings, counts)


def is_model_space(name: str | None) -> bool:
    return name is None or name.casefold() in ("model", "modelspace", "*model_space")


def select_layout(doc: Drawing, name: str | None) -> Layout:
    if name is None or is_model_space(name):
        try:
            return doc.modelspace()
        except (KeyError, ezdxf.DXFError) as exc:
            raise unreadable(f"the drawing has no usable model space ({type(exc).__name__}: {exc})") from None
    for layout_name in doc.layouts.names():
        if layout_name == name or layout_name.casefold() == name.casefold():
            return doc.layouts.get(layout_name)
    available = ", ".join(doc.layouts.names())
    raise ConversionError(LAYOUT_NOT_FOUND, f"layout {name!r} not found; the drawing has: {available}")


def layer_display_name(name: str) -> str:
    """Layer names in pre-R2007 files may carry \\U+XXXX escapes for non-ASCII letters."""
    return decode_dxf_unicode(name) if has_dxf_unicode(name) else name
