from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ObjectRef(_message.Message):
    __slots__ = ("bucket", "key", "version_id")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    version_id: str
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ...) -> None: ...

class InputSource(_message.Message):
    __slots__ = ("object", "inline_data", "filename", "media_type")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    INLINE_DATA_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    object: ObjectRef
    inline_data: bytes
    filename: str
    media_type: str
    def __init__(self, object: _Optional[_Union[ObjectRef, _Mapping]] = ..., inline_data: _Optional[bytes] = ..., filename: _Optional[str] = ..., media_type: _Optional[str] = ...) -> None: ...

class ArtifactDescriptor(_message.Message):
    __slots__ = ("name", "media_type", "size_bytes", "sha256")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    name: str
    media_type: str
    size_bytes: int
    sha256: str
    def __init__(self, name: _Optional[str] = ..., media_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class Artifact(_message.Message):
    __slots__ = ("descriptor", "object", "inline_data")
    DESCRIPTOR_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    INLINE_DATA_FIELD_NUMBER: _ClassVar[int]
    descriptor: ArtifactDescriptor
    object: ObjectRef
    inline_data: bytes
    def __init__(self, descriptor: _Optional[_Union[ArtifactDescriptor, _Mapping]] = ..., object: _Optional[_Union[ObjectRef, _Mapping]] = ..., inline_data: _Optional[bytes] = ...) -> None: ...

class SourceLocation(_message.Message):
    __slots__ = ("entity_handle", "entity_type", "layer", "page")
    ENTITY_HANDLE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    entity_handle: str
    entity_type: str
    layer: str
    page: int
    def __init__(self, entity_handle: _Optional[str] = ..., entity_type: _Optional[str] = ..., layer: _Optional[str] = ..., page: _Optional[int] = ...) -> None: ...

class Warning(_message.Message):
    __slots__ = ("code", "message", "location")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    location: SourceLocation
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., location: _Optional[_Union[SourceLocation, _Mapping]] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("percent", "stage", "message")
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    percent: float
    stage: str
    message: str
    def __init__(self, percent: _Optional[float] = ..., stage: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ErrorDetail(_message.Message):
    __slots__ = ("code", "message", "location")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    location: SourceLocation
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., location: _Optional[_Union[SourceLocation, _Mapping]] = ...) -> None: ...

class OutputLocation(_message.Message):
    __slots__ = ("bucket", "prefix")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    prefix: str
    def __init__(self, bucket: _Optional[str] = ..., prefix: _Optional[str] = ...) -> None: ...
