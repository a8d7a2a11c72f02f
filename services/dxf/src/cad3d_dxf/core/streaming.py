"""Read a DXF with its model space streamed: the document without the model-space entities, then
those entities one at a time.

ezdxf's loaded document costs about 12x the file size in memory, nearly all of it model-space
entities, and the full tag list it builds first is as large again. Here the first pass loads
the document with the ENTITIES section left empty (header, tables, blocks and objects: all an
entity refers to), and the second pass builds each ENTITIES-section entity the way ezdxf's
loader does (same tag compiler, entity factory, VERTEX/ATTRIB/SEQEND linking, owner and
paperspace rule, post-load hook), yields the model-space ones, and keeps none of them. In an
ASCII file each pass tags only its own part: the first jumps from the section's start to its
ENDSEC line, the second starts at the section's content.

Only a strict read of the model space takes this way, and only for R12 or later files whose
entities all have handles (ezdxf numbers handle-less entities in load order, which this order
would not reproduce). A file outside that whose first pass fails gets ``None`` from
``load_streamed``; a failure while streaming, a handle-less entity included, raises
``StreamFailed``. Either way the caller reads the file the full way (strict, then recover mode),
so a file's result never depends on which way it was read.
"""

from __future__ import annotations

import io
import re
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


# A group code 0 line followed by an ENDSEC line. In a valid file only a section end reads so:
# lines alternate code and value and "ENDSEC" is no group code.
_SECTION_END = re.compile(rb"\n[ \t]*0[ \t]*\r?\nENDSEC\r?\n")


@dataclass
class _SectionScan:
    """Leaves the ENTITIES section's content out of the first pass and notes where it starts."""

    stream: io.TextIOWrapper | None = None  # the ASCII file's text stream (None: binary)
    data: bytes = b""
    sections: int = 0
    content_at: int | None = None  # where the content starts (the text stream's tell())

    def without_entities(self, tags: Iterator[DXFTag]) -> Iterator[DXFTag]:
        after_section = False
        for tag in tags:
            yield tag
            if after_section and tag.code == 2 and tag.value == "ENTITIES":
                self.sections += 1
                if self.stream is not None:
                    # The tagger has read exactly through this tag's line: the content starts here.
                    self.content_at = self.stream.tell()
                    self._jump_to_section_end(self.content_at)
                for content in tags:  # the content (none left after a jump), then the ENDSEC
                    if content.code == 0 and content.value == "ENDSEC":
                        yield content
                        break
                after_section = False
                continue
            after_section = tag.code == 0 and tag.value == "SECTION"

    def _jump_to_section_end(self, content_at: int) -> None:
        """Seek the stream to the section's ENDSEC line where its byte position is certain: the
        tell() cookie is a plain byte offset (no decoder state in it) and the line ends in a
        line feed. Otherwise the content is tagged and dropped."""
        assert self.stream is not None
        if content_at > len(self.data):
            return
        end = _SECTION_END.search(self.data, max(content_at - 1, 0))
        if end is not None:
            self.stream.seek(end.start() + 1)


def _after_entities_header(tags: Iterator[DXFTag]) -> Iterator[DXFTag]:
    """``tags`` advanced past (0, SECTION), (2, ENTITIES)."""
    after_section = False
    for tag in tags:
        if after_section and tag.code == 2 and tag.value == "ENTITIES":
            break
        after_section = tag.code == 0 and tag.value == "SECTION"
    return tags


def _entities_content(tags: Iterator[DXFTag]) -> Iterator[DXFTag]:
    """The raw tags from the start of the ENTITIES content up to and including its ENDSEC.

    The ENDSEC tag is passed on because the tag compiler looks one tag past a point for its z
    value: ending the stream before it would lose the section's last point.
    """
    for tag in tags:
        yield tag
        if tag.code == 0 and tag.value == "ENDSEC":
            return


@dataclass
class StreamedDocument:
    doc: Drawing  # without the ENTITIES section's entities
    encoding: str
    content_tags: Callable[[], Iterator[DXFTag]]  # raw tags from the start of the ENTITIES content

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
        for tags in group_tags(tag_compiler(_entities_content(self.content_tags()))):
            if tags[0].value == "ENDSEC":
                break
            entity = factory.load(ExtendedTags(tags), doc)
            if entity.dxf.handle is None:  # ezdxf would number it in load order (EntityDB.add)
                raise StreamFailed(f"{entity.dxftype()} without a handle")
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
    content_tags: Callable[[], Iterator[DXFTag]]
    try:
        if input_format == "dxf-binary":
            scan = _SectionScan()
            doc = Drawing.load(scan.without_entities(binary_tags_loader(data, errors="surrogateescape")))
            encoding = doc.encoding

            def content_tags() -> Iterator[DXFTag]:
                return _after_entities_header(binary_tags_loader(data, errors="surrogateescape"))

        elif input_format == "dxf-ascii":
            encoding = ascii_encoding(data)

            def text(at: int | None) -> io.TextIOWrapper:
                stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="surrogateescape", newline=None)
                if at is not None:
                    stream.seek(at)
                return stream

            stream = text(None)
            scan = _SectionScan(stream, data)
            doc = Drawing.load(scan.without_entities(ascii_tags_loader(stream)))
            content_at = scan.content_at

            def content_tags() -> Iterator[DXFTag]:
                # The second pass starts where the content does instead of tagging the tables,
                # blocks and objects again.
                return ascii_tags_loader(text(content_at))

        else:
            return None
        doc.modelspace()  # a file without a usable model space needs recover mode's repairs
    except MemoryError:
        raise
    except Exception:  # the full read gives the exact strict error, then tries recover mode
        return None
    if scan.sections != 1 or (doc.loaded_dxfversion or "") < DXF12:
        return None
    return StreamedDocument(doc, encoding, content_tags)
