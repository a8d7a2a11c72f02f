"""Read a DXF with its model space streamed: the document without the model-space entities, then
those entities one at a time.

ezdxf's loaded document costs about 12x the file size in memory, nearly all of it model-space
entities, and the full tag list it builds first is as large again. Here the first pass loads
the document with the ENTITIES section left empty (header, tables, blocks and objects: all an
entity refers to), and the second pass builds each ENTITIES-section entity the way ezdxf's
loader does (same tag compiler, entity factory, VERTEX/ATTRIB/SEQEND linking, owner and
paperspace rule, post-load hook), yields the model-space ones, and keeps none of them.

Only a strict read of the model space takes this way, and only when every entity of the
section has a handle (ezdxf numbers handle-less entities in load order, which this order would
not reproduce) and the file is R12 or later. A file outside that, or one whose first pass
fails, gets ``None`` from ``load_streamed``; a failure while streaming raises ``StreamFailed``.
Either way the caller reads the file the full way (strict, then recover mode), so a file's
result never depends on which way it was read.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ezdxf.document import Drawing
from ezdxf.entities import DXFGraphic, factory
from ezdxf.entities.subentity import entity_linker
from ezdxf.lldxf.const import DXF12
from ezdxf.lldxf.extendedtags import ExtendedTags
from ezdxf.lldxf.tagger import ascii_tags_loader, binary_tags_loader, tag_compiler
from ezdxf.lldxf.tags import group_tags
from ezdxf.lldxf.types import DXFTag

from .reading import ascii_encoding


class StreamFailed(Exception):
    """An entity of the streamed section could not be loaded; read the file the full way."""


@dataclass
class _SectionScan:
    """What the first pass saw of the ENTITIES section it left out."""

    sections: int = 0
    handle_less: bool = False

    def without_entities(self, tags: Iterator[DXFTag]) -> Iterator[DXFTag]:
        after_section = False
        for tag in tags:
            yield tag
            if after_section and tag.code == 2 and tag.value == "ENTITIES":
                self.sections += 1
                yield from self._skip_content(tags)
            after_section = tag.code == 0 and tag.value == "SECTION"

    def _skip_content(self, tags: Iterator[DXFTag]) -> Iterator[DXFTag]:
        has_handle = True
        for tag in tags:
            if tag.code == 0:
                self.handle_less = self.handle_less or not has_handle
                if tag.value == "ENDSEC":
                    yield tag
                    return
                has_handle = False
            elif tag.code == 5:
                has_handle = True


def _entities_content(tags: Iterator[DXFTag]) -> Iterator[DXFTag]:
    """The raw tags after (2, ENTITIES), up to and including its ENDSEC.

    The ENDSEC tag is passed on because the tag compiler looks one tag past a point for its z
    value: ending the stream before it would lose the section's last point.
    """
    after_section = False
    for tag in tags:
        if after_section and tag.code == 2 and tag.value == "ENTITIES":
            break
        after_section = tag.code == 0 and tag.value == "SECTION"
    for tag in tags:
        yield tag
        if tag.code == 0 and tag.value == "ENDSEC":
            return


@dataclass
class StreamedDocument:
    doc: Drawing  # without the ENTITIES section's entities
    encoding: str
    raw_tags: Callable[[], Iterator[DXFTag]]  # a fresh raw tag stream over the whole file

    def modelspace(self) -> Iterator[DXFGraphic]:
        """Model-space entities in file order, each built only when asked for."""
        try:
            yield from self._modelspace()
        except MemoryError:
            raise
        except Exception as exc:
            raise StreamFailed(f"{type(exc).__name__}: {exc}") from exc

    def _modelspace(self) -> Iterator[DXFGraphic]:
        doc = self.doc
        model_key = doc.block_records.get("*Model_Space").dxf.handle
        paper_key = doc.block_records.get("*Paper_Space").dxf.handle
        linked = entity_linker()
        queued: DXFGraphic | None = None
        for tags in group_tags(tag_compiler(_entities_content(self.raw_tags()))):
            if tags[0].value == "ENDSEC":
                break
            entity = factory.load(ExtendedTags(tags), doc)
            entity.post_load_hook(doc)
            if linked(entity):  # VERTEX, ATTRIB, SEQEND: now part of the queued POLYLINE/INSERT
                continue
            if queued is not None:
                yield queued
            # ezdxf's rule (EntitySection): the owner decides, the paperspace flag is the fallback.
            owner = entity.dxf.get("owner")
            on_paper = (
                owner == paper_key
                if owner in (model_key, paper_key)
                else bool(entity.dxf.hasattr("paperspace") and entity.dxf.paperspace)
            )
            queued = None if on_paper else entity  # type: ignore[assignment]
        if queued is not None:
            yield queued


def load_streamed(data: bytes, input_format: str) -> StreamedDocument | None:
    """The document without its model-space entities, or None where the full read must be used."""
    raw_tags: Callable[[], Iterator[DXFTag]]
    try:
        if input_format == "dxf-binary":

            def raw_tags() -> Iterator[DXFTag]:
                return binary_tags_loader(data, errors="surrogateescape")

        elif input_format == "dxf-ascii":
            text_encoding = ascii_encoding(data)

            def raw_tags() -> Iterator[DXFTag]:
                stream = io.TextIOWrapper(
                    io.BytesIO(data), encoding=text_encoding, errors="surrogateescape", newline=None
                )
                return ascii_tags_loader(stream)

        else:
            return None
        scan = _SectionScan()
        doc = Drawing.load(scan.without_entities(raw_tags()))
        doc.modelspace()  # a file without a usable model space needs recover mode's repairs
    except MemoryError:
        raise
    except Exception:  # the full read gives the exact strict error, then tries recover mode
        return None
    if scan.sections != 1 or scan.handle_less or (doc.loaded_dxfversion or "") < DXF12:
        return None
    encoding = doc.encoding if input_format == "dxf-binary" else text_encoding
    return StreamedDocument(doc, encoding, raw_tags)
