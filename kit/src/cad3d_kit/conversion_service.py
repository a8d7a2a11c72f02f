"""Convert / ConvertStream for every conversion service, written once.

All three services share the message shapes of cad3d.common.v1 (input source, output location,
artifacts, warnings, report) so one implementation resolves inputs, runs the core, places the
outputs (object storage or inline) and builds responses. A service only supplies how to run its
core for a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2

from cad3d.common.v1 import common_pb2
from cad3d_kit.conversion import (
    ConversionError,
    ConversionResult,
    ConversionWarning,
    ErrorKind,
    ProgressCallback,
)
from cad3d_kit.errors import location_to_proto
from cad3d_kit.metrics import CONVERSION_DURATION, CONVERSIONS
from cad3d_kit.storage import ArtifactStore, ObjectNotFound, aget, aput, validate_key

# Runs the service's core for one request: (request, input bytes, progress, time left) -> result.
Executor = Callable[[Any, bytes, ProgressCallback, float | None], Awaitable[ConversionResult]]


def options_to_mapping(options: Any) -> dict[str, Any]:
    """Proto options -> plain mapping for a core's ``from_mapping``; enum values lose their type prefix.

    Fields left at their default are omitted, so cores apply their own defaults.
    """
    mapping: dict[str, Any] = {}
    for field, value in options.ListFields():
        if field.enum_type is not None:
            name = field.enum_type.values_by_number[value].name
            prefix = "".join("_" + c if c.isupper() else c for c in field.enum_type.name).lstrip("_").upper() + "_"
            mapping[field.name] = name.removeprefix(prefix).lower()
        elif field.message_type is not None:
            mapping[field.name] = (
                json_format.MessageToDict(value, preserving_proto_field_name=True)
                if not field.is_repeated
                else [json_format.MessageToDict(v, preserving_proto_field_name=True) for v in value]
            )
        elif field.is_repeated:
            mapping[field.name] = list(value)
        else:
            mapping[field.name] = value
    return mapping


def dict_to_struct(data: dict[str, Any]) -> struct_pb2.Struct:
    # Struct.update builds the same message as json_format.ParseDict at a fraction of the cost
    # (ParseDict goes through the generic JSON-to-message parser, value by value).
    struct = struct_pb2.Struct()
    struct.update(data)
    return struct


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A report Struct back as the dict the converter made, whole numbers included.

    Struct keeps every number as a double, so counts would come back as 3.0; a converter's
    integers are what clients expect (and what its own report.json says). Whole doubles within
    the exactly representable range become int again: JSON readers see the same value."""
    try:
        return _whole_numbers_as_int(json_format.MessageToDict(struct))
    except ValueError:
        # MessageToDict refuses NaN and infinity ("Fail to serialize NaN"), which a Struct holds
        # fine: such numbers become null rather than failing a conversion that succeeded.
        return _whole_numbers_as_int(_struct_value(struct))


def _struct_value(value: Any) -> Any:
    if isinstance(value, struct_pb2.Struct):
        return {key: _struct_value(item) for key, item in value.items()}
    if isinstance(value, struct_pb2.ListValue):
        return [_struct_value(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_EXACT_INT_LIMIT = 2**53


def _whole_numbers_as_int(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < _EXACT_INT_LIMIT else value
    if isinstance(value, dict):
        return {key: _whole_numbers_as_int(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers_as_int(item) for item in value]
    return value


def warning_to_proto(warning: ConversionWarning) -> common_pb2.Warning:
    return common_pb2.Warning(code=warning.code, message=warning.message, location=location_to_proto(warning.location))


@contextlib.contextmanager
def storage_errors(doing: str) -> Iterator[None]:
    """A store failure (disk, permissions, S3) is ``storage_error``, retryable, not an internal error."""
    try:
        yield
    except ConversionError:
        raise
    except Exception as exc:
        if not (isinstance(exc, OSError) or type(exc).__module__.startswith(("minio", "urllib3"))):
            raise
        raise ConversionError(
            "storage_error", f"the artifact store failed while {doing}: {type(exc).__name__}", ErrorKind.UNAVAILABLE
        ) from exc


class ConversionRpc:
    def __init__(
        self,
        kind: str,
        executor: Executor,
        store: ArtifactStore | None,
        max_inline_bytes: int,
    ) -> None:
        self.kind = kind
        self.executor = executor
        self.store = store
        self.max_inline_bytes = max_inline_bytes

    async def read_input(self, source: common_pb2.InputSource) -> bytes:
        which = source.WhichOneof("source")
        if which == "inline_data":
            return bytes(source.inline_data)
        if which == "object":
            ref = source.object
            if self.store is None or ref.bucket not in ("", self.store.bucket):
                raise ConversionError(
                    "input_not_reachable", f"this service cannot read bucket {ref.bucket!r}", ErrorKind.PRECONDITION
                )
            try:
                return await aget(self.store, validate_key(ref.key))
            except ObjectNotFound:
                raise ConversionError("input_not_found", f"no object {ref.key!r} in the store") from None
            except ValueError as exc:
                raise ConversionError("invalid_object_key", str(exc)) from None
        raise ConversionError("missing_input", "the request has no input (object reference or inline data)")

    async def place_outputs(
        self, result: ConversionResult, output: common_pb2.OutputLocation
    ) -> list[common_pb2.Artifact]:
        artifacts: list[common_pb2.Artifact] = []
        if output.prefix:
            if self.store is None or output.bucket not in ("", self.store.bucket):
                raise ConversionError(
                    "output_not_reachable",
                    f"this service cannot write bucket {output.bucket!r}",
                    ErrorKind.PRECONDITION,
                )
            prefix = validate_key(output.prefix.rstrip("/"))
            for item in result.artifacts:
                stored = await aput(self.store, f"{prefix}/{item.name}", item.data, item.media_type)
                artifacts.append(
                    common_pb2.Artifact(
                        descriptor=common_pb2.ArtifactDescriptor(
                            name=item.name, media_type=item.media_type, size_bytes=stored.size, sha256=stored.sha256
                        ),
                        object=common_pb2.ObjectRef(bucket=self.store.bucket, key=stored.key),
                    )
                )
            return artifacts
        total = sum(item.size for item in result.artifacts)
        if total > self.max_inline_bytes:
            raise ConversionError(
                "output_too_large_for_inline",
                f"outputs total {total} bytes, over the inline limit of {self.max_inline_bytes}; "
                "ask for an output location in object storage",
                ErrorKind.RESOURCE_EXHAUSTED,
            )
        for item in result.artifacts:
            artifacts.append(
                common_pb2.Artifact(
                    descriptor=common_pb2.ArtifactDescriptor(
                        name=item.name, media_type=item.media_type, size_bytes=item.size, sha256=item.sha256
                    ),
                    inline_data=item.data,
                )
            )
        return artifacts

    async def _run(self, request: Any, context: grpc.aio.ServicerContext[Any, Any], progress: ProgressCallback) -> Any:
        started = time.perf_counter()
        outcome = "failed"
        try:
            with storage_errors("reading the input"):
                data = await self.read_input(request.input)
            remaining = context.time_remaining()
            result = await self.executor(request, data, progress, remaining)
            with storage_errors("writing the outputs"):
                artifacts = await self.place_outputs(result, request.output) if hasattr(request, "output") else []
            outcome = "succeeded"
            return result, artifacts
        except asyncio.CancelledError:
            outcome = "canceled"
            raise
        finally:
            CONVERSIONS.labels(self.kind, outcome).inc()
            CONVERSION_DURATION.labels(self.kind).observe(time.perf_counter() - started)

    @staticmethod
    def build_response(response_cls: Any, result: ConversionResult, artifacts: list[common_pb2.Artifact]) -> Any:
        fields = response_cls.DESCRIPTOR.fields_by_name
        message = response_cls(
            report=dict_to_struct(result.report),
            warnings=[warning_to_proto(w) for w in result.warnings],
            converter_version=result.converter_version,
        )
        if "artifacts" in fields:
            message.artifacts.extend(artifacts)
        return message

    async def unary(self, request: Any, context: grpc.aio.ServicerContext[Any, Any], response_cls: Any) -> Any:
        result, artifacts = await self._run(request, context, lambda *_: None)
        return self.build_response(response_cls, result, artifacts)

    async def stream(
        self,
        request: Any,
        context: grpc.aio.ServicerContext[Any, Any],
        stream_response_cls: Any,
        response_cls: Any,
    ) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[common_pb2.Progress] = asyncio.Queue()

        def on_progress(percent: float, stage: str, message: str) -> None:
            # Cores report from worker threads or the isolation reader thread.
            event = common_pb2.Progress(percent=percent, stage=stage, message=message)
            loop.call_soon_threadsafe(events.put_nowait, event)

        yield stream_response_cls(progress=common_pb2.Progress(percent=0, stage="queued", message="accepted"))
        task = asyncio.create_task(self._run(request, context, on_progress))
        try:
            while not task.done():
                getter = asyncio.create_task(events.get())
                done, _ = await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    yield stream_response_cls(progress=getter.result())
                else:
                    getter.cancel()
            while not events.empty():
                yield stream_response_cls(progress=events.get_nowait())
            result, artifacts = task.result()
            yield stream_response_cls(progress=common_pb2.Progress(percent=100, stage="done", message="finished"))
            yield stream_response_cls(result=self.build_response(response_cls, result, artifacts))
        finally:
            if not task.done():
                task.cancel()


def conversion_servicer_class(base: type, rpc_attribute: str, messages: Any) -> type:
    """A servicer class for ``base`` (a generated *Servicer) whose Convert and ConvertStream run the
    ConversionRpc stored on the instance as ``rpc_attribute``; ``messages`` is the *_pb2 module."""

    async def convert(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        return await getattr(self, rpc_attribute).unary(request, context, messages.ConvertResponse)

    async def convert_stream(
        self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        rpc: ConversionRpc = getattr(self, rpc_attribute)
        async for event in rpc.stream(request, context, messages.ConvertStreamResponse, messages.ConvertResponse):
            yield event

    return type(f"{base.__name__}Impl", (base,), {"Convert": convert, "ConvertStream": convert_stream})
