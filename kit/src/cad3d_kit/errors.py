"""One mapping between conversion errors and transports: gRPC status (with details) and HTTP status."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import status_pb2
from grpc_status import rpc_status

from cad3d.common.v1 import common_pb2
from cad3d_kit.conversion import ConversionError, ErrorKind, SourceLocation

GRPC_CODE_BY_KIND: dict[ErrorKind, grpc.StatusCode] = {
    ErrorKind.INVALID_INPUT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorKind.PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorKind.RESOURCE_EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorKind.DEADLINE: grpc.StatusCode.DEADLINE_EXCEEDED,
    ErrorKind.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorKind.INTERNAL: grpc.StatusCode.INTERNAL,
}
KIND_BY_GRPC_CODE = {code: kind for kind, code in GRPC_CODE_BY_KIND.items()}

HTTP_STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID_INPUT: 422,
    ErrorKind.PRECONDITION: 422,
    ErrorKind.RESOURCE_EXHAUSTED: 413,
    ErrorKind.DEADLINE: 504,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.INTERNAL: 500,
}

# gRPC codes worth retrying with backoff: the peer or network may recover.
RETRYABLE_GRPC_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})


def location_to_proto(location: SourceLocation) -> common_pb2.SourceLocation:
    return common_pb2.SourceLocation(
        entity_handle=location.entity_handle,
        entity_type=location.entity_type,
        layer=location.layer,
        page=location.page,
    )


def location_from_proto(location: common_pb2.SourceLocation) -> SourceLocation:
    return SourceLocation(location.entity_handle, location.entity_type, location.layer, location.page)


def to_grpc_status(error: ConversionError) -> grpc.Status:
    """A status whose details carry a cad3d.common.v1.ErrorDetail with the stable code."""
    detail = any_pb2.Any()
    detail.Pack(
        common_pb2.ErrorDetail(code=error.code, message=error.message, location=location_to_proto(error.location))
    )
    code = GRPC_CODE_BY_KIND[error.kind]
    return rpc_status.to_status(
        status_pb2.Status(code=code.value[0], message=f"{error.code}: {error.message}", details=[detail])
    )


def from_rpc_error(error: grpc.RpcError) -> ConversionError:
    """Rebuild the ConversionError a service raised, or a generic one for transport failures."""
    status = rpc_status.from_call(error)
    code: grpc.StatusCode = error.code()
    kind = KIND_BY_GRPC_CODE.get(code, ErrorKind.INTERNAL)
    if code == grpc.StatusCode.CANCELLED:
        kind = ErrorKind.UNAVAILABLE
    if status is not None:
        for any_detail in status.details:
            detail = common_pb2.ErrorDetail()
            if any_detail.Unpack(detail):
                return ConversionError(detail.code, detail.message, kind, location_from_proto(detail.location))
    generic = {
        grpc.StatusCode.UNAVAILABLE: "backend_unavailable",
        grpc.StatusCode.DEADLINE_EXCEEDED: "deadline_exceeded",
        grpc.StatusCode.RESOURCE_EXHAUSTED: "resource_exhausted",
        grpc.StatusCode.CANCELLED: "canceled",
    }.get(code, "backend_error")
    return ConversionError(generic, error.details() or code.name, kind)
