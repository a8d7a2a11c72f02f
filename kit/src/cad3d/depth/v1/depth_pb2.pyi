from cad3d.common.v1 import common_pb2 as _common_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OutputFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTPUT_FORMAT_UNSPECIFIED: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_GLB: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_STL: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_PLY: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_DEPTH_PNG: _ClassVar[OutputFormat]
OUTPUT_FORMAT_UNSPECIFIED: OutputFormat
OUTPUT_FORMAT_GLB: OutputFormat
OUTPUT_FORMAT_STL: OutputFormat
OUTPUT_FORMAT_PLY: OutputFormat
OUTPUT_FORMAT_DEPTH_PNG: OutputFormat

class ReferencePoint(_message.Message):
    __slots__ = ("x", "y", "distance")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    distance: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ..., distance: _Optional[float] = ...) -> None: ...

class ConvertOptions(_message.Message):
    __slots__ = ("format", "target_triangles", "relief_scale", "solid_base", "reference_points", "texture", "preview", "fov_degrees")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    TARGET_TRIANGLES_FIELD_NUMBER: _ClassVar[int]
    RELIEF_SCALE_FIELD_NUMBER: _ClassVar[int]
    SOLID_BASE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_POINTS_FIELD_NUMBER: _ClassVar[int]
    TEXTURE_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    FOV_DEGREES_FIELD_NUMBER: _ClassVar[int]
    format: OutputFormat
    target_triangles: int
    relief_scale: float
    solid_base: bool
    reference_points: _containers.RepeatedCompositeFieldContainer[ReferencePoint]
    texture: bool
    preview: bool
    fov_degrees: float
    def __init__(self, format: _Optional[_Union[OutputFormat, str]] = ..., target_triangles: _Optional[int] = ..., relief_scale: _Optional[float] = ..., solid_base: _Optional[bool] = ..., reference_points: _Optional[_Iterable[_Union[ReferencePoint, _Mapping]]] = ..., texture: _Optional[bool] = ..., preview: _Optional[bool] = ..., fov_degrees: _Optional[float] = ...) -> None: ...

class ConvertRequest(_message.Message):
    __slots__ = ("input", "options", "output")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    input: _common_pb2.InputSource
    options: ConvertOptions
    output: _common_pb2.OutputLocation
    def __init__(self, input: _Optional[_Union[_common_pb2.InputSource, _Mapping]] = ..., options: _Optional[_Union[ConvertOptions, _Mapping]] = ..., output: _Optional[_Union[_common_pb2.OutputLocation, _Mapping]] = ...) -> None: ...

class ConvertResponse(_message.Message):
    __slots__ = ("artifacts", "report", "warnings", "converter_version")
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    CONVERTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    artifacts: _containers.RepeatedCompositeFieldContainer[_common_pb2.Artifact]
    report: _struct_pb2.Struct
    warnings: _containers.RepeatedCompositeFieldContainer[_common_pb2.Warning]
    converter_version: str
    def __init__(self, artifacts: _Optional[_Iterable[_Union[_common_pb2.Artifact, _Mapping]]] = ..., report: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., warnings: _Optional[_Iterable[_Union[_common_pb2.Warning, _Mapping]]] = ..., converter_version: _Optional[str] = ...) -> None: ...

class ConvertStreamRequest(_message.Message):
    __slots__ = ("input", "options", "output")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    input: _common_pb2.InputSource
    options: ConvertOptions
    output: _common_pb2.OutputLocation
    def __init__(self, input: _Optional[_Union[_common_pb2.InputSource, _Mapping]] = ..., options: _Optional[_Union[ConvertOptions, _Mapping]] = ..., output: _Optional[_Union[_common_pb2.OutputLocation, _Mapping]] = ...) -> None: ...

class ConvertStreamResponse(_message.Message):
    __slots__ = ("progress", "result")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    progress: _common_pb2.Progress
    result: ConvertResponse
    def __init__(self, progress: _Optional[_Union[_common_pb2.Progress, _Mapping]] = ..., result: _Optional[_Union[ConvertResponse, _Mapping]] = ...) -> None: ...
