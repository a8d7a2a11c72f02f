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
    OUTPUT_FORMAT_OBJ: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_DXF: _ClassVar[OutputFormat]
OUTPUT_FORMAT_UNSPECIFIED: OutputFormat
OUTPUT_FORMAT_GLB: OutputFormat
OUTPUT_FORMAT_STL: OutputFormat
OUTPUT_FORMAT_OBJ: OutputFormat
OUTPUT_FORMAT_DXF: OutputFormat

class ConvertOptions(_message.Message):
    __slots__ = ("format", "height", "preset", "rules_json", "layout", "output_unit", "input_unit", "sheet", "views", "plan", "strict")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PRESET_FIELD_NUMBER: _ClassVar[int]
    RULES_JSON_FIELD_NUMBER: _ClassVar[int]
    LAYOUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_UNIT_FIELD_NUMBER: _ClassVar[int]
    INPUT_UNIT_FIELD_NUMBER: _ClassVar[int]
    SHEET_FIELD_NUMBER: _ClassVar[int]
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    STRICT_FIELD_NUMBER: _ClassVar[int]
    format: OutputFormat
    height: float
    preset: str
    rules_json: str
    layout: str
    output_unit: str
    input_unit: str
    sheet: str
    views: str
    plan: str
    strict: bool
    def __init__(self, format: _Optional[_Union[OutputFormat, str]] = ..., height: _Optional[float] = ..., preset: _Optional[str] = ..., rules_json: _Optional[str] = ..., layout: _Optional[str] = ..., output_unit: _Optional[str] = ..., input_unit: _Optional[str] = ..., sheet: _Optional[str] = ..., views: _Optional[str] = ..., plan: _Optional[str] = ..., strict: _Optional[bool] = ...) -> None: ...

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

class InspectRequest(_message.Message):
    __slots__ = ("input", "options")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    input: _common_pb2.InputSource
    options: ConvertOptions
    def __init__(self, input: _Optional[_Union[_common_pb2.InputSource, _Mapping]] = ..., options: _Optional[_Union[ConvertOptions, _Mapping]] = ...) -> None: ...

class InspectResponse(_message.Message):
    __slots__ = ("report", "warnings", "converter_version")
    REPORT_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    CONVERTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    report: _struct_pb2.Struct
    warnings: _containers.RepeatedCompositeFieldContainer[_common_pb2.Warning]
    converter_version: str
    def __init__(self, report: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., warnings: _Optional[_Iterable[_Union[_common_pb2.Warning, _Mapping]]] = ..., converter_version: _Optional[str] = ...) -> None: ...
