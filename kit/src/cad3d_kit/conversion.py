"""The transport-agnostic contract every conversion core implements.

A core is a plain function: input bytes + options -> artifacts + report. The gRPC servicers, the
CLI's in-process mode and the tests all call the same core, so this module has no I/O and no
dependency on gRPC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    """How a failure maps onto transports (gRPC status, HTTP status)."""

    INVALID_INPUT = "invalid_input"  # gRPC INVALID_ARGUMENT, HTTP 422
    PRECONDITION = "precondition"  # gRPC FAILED_PRECONDITION, HTTP 422/501 (e.g. missing DWG converter)
    RESOURCE_EXHAUSTED = "resource_exhausted"  # gRPC RESOURCE_EXHAUSTED, HTTP 413
    DEADLINE = "deadline"  # gRPC DEADLINE_EXCEEDED, HTTP 504
    UNAVAILABLE = "unavailable"  # gRPC UNAVAILABLE, HTTP 503 (retryable)
    INTERNAL = "internal"  # gRPC INTERNAL, HTTP 500


@dataclass(frozen=True)
class SourceLocation:
    entity_handle: str = ""
    entity_type: str = ""
    layer: str = ""
    page: int = 0


@dataclass(frozen=True)
class ConversionWarning:
    code: str
    message: str
    location: SourceLocation = field(default_factory=SourceLocation)

    def as_dict(self) -> dict[str, Any]:
        loc = {k: v for k, v in self.location.__dict__.items() if v}
        return {"code": self.code, "message": self.message, **({"location": loc} if loc else {})}


class ConversionError(Exception):
    """A conversion that cannot produce a result. ``code`` is stable and machine-readable."""

    def __init__(
        self,
        code: str,
        message: str,
        kind: ErrorKind = ErrorKind.INVALID_INPUT,
        location: SourceLocation | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind = kind
        self.location = location or SourceLocation()

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle through ``args``; keep every field when crossing a process boundary.
        return (type(self), (self.code, self.message, self.kind, self.location))


@dataclass(frozen=True)
class OutputArtifact:
    name: str
    media_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class ConversionResult:
    artifacts: list[OutputArtifact]
    report: dict[str, Any]
    warnings: list[ConversionWarning] = field(default_factory=list)
    converter_version: str = ""


# Called by cores as work advances: (percent 0-100, stage name, human message).
ProgressCallback = Callable[[float, str, str], None]


def no_progress(percent: float, stage: str, message: str) -> None:
    """Default progress callback: ignore."""
