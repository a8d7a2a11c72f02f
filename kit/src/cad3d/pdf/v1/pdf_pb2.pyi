from cad3d.common.v1 import common_pb2 as _common_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PageMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAGE_MODE_UNSPECIFIED: _ClassVar[PageMode]
    PAGE_MODE_FILE_PER_PAGE: _ClassVar[PageMode]
    PAGE_MODE_LAYOUT_PER_PAGE: _ClassVar[PageMode]

class LayerMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LAYER_MODE_UNSPECIFIED: _ClassVar[LayerMode]
    LAYER_MODE_OCG: _ClassVar[LayerMode]
    LAYER_MODE_STYLE: _ClassVar[LayerMode]
    LAYER_MODE_SINGLE: _ClassVar[LayerMode]

class RasterMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RASTER_MODE_UNSPECIFIED: _ClassVar[RasterMode]
    RASTER_MODE_AUTO: _ClassVar[RasterMode]
    RASTER_MODE_NEVER: _ClassVar[RasterMode]
    RASTER_MODE_ALWAYS: _ClassVar[RasterMode]
PAGE_MODE_UNSPECIFIED: PageMode
PAGE_MODE_FILE_PER_PAGE: PageMode
PAGE_MODE_LAYOUT_PER_PAGE: PageMode
LAYER_MODE_UNSPECIFIED: LayerMode
LAYER_MODE_OCG: LayerMode
LAYER_MODE_STYLE: LayerMode
LAYER_MODE_SINGLE: LayerMode
RASTER_MODE_UNSPECIFIED: RasterMode
RASTER_MODE_AUTO: RasterMode
RASTER_MODE_NEVER: RasterMode
RASTER_MODE_ALWAYS: RasterMode

class Calibration(_message.Message):
    __slots__ = ("x1", "y1", "x2", "y2", "length")
    X1_FIELD_NUMBER: _ClassVar[int]
    Y1_FIELD_NUMBER: _ClassVar[int]
    X2_FIELD_NUMBER: _ClassVar[int]
    Y2_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    x1: float
    y1: float
    x2: float
    y2: float
    length: float
    def __init__(self, x1: _Optional[float] = ..., y1: _Optional[float] = ..., x2: _Optional[float] = ..., y2: _Optional[float] = ..., length: _Optional[float] = ...) -> None: ...

class ConvertOptions(_message.Message):
    __slots__ = ("pages", "page_mode", "scale", "unit", "calibration", "layer_mode", "raster_mode", "flatten_curves", "merge_dashes", "raster_underlay", "password", "target", "detect_circles")
    PAGES_FIELD_NUMBER: _ClassVar[int]
    PAGE_MODE_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    LAYER_MODE_FIELD_NUMBER: _ClassVar[int]
    RASTER_MODE_FIELD_NUMBER: _ClassVar[int]
    FLATTEN_CURVES_FIELD_NUMBER: _ClassVar[int]
    MERGE_DASHES_FIELD_NUMBER: _ClassVar[int]
    RASTER_UNDERLAY_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    DETECT_CIRCLES_FIELD_NUMBER: _ClassVar[int]
    pages: str
    page_mode: PageMode
    scale: float
    unit: str
    calibration: Calibration
    layer_mode: LayerMode
    raster_mode: RasterMode
    flatten_curves: bool
    merge_dashes: bool
    raster_underlay: bool
    password: str
    target: str
    detect_circles: bool
    def __init__(self, pages: _Optional[str] = ..., page_mode: _Optional[_Union[PageMode, str]] = ..., scale: _Optional[float] = ..., unit: _Optional[str] = ..., calibration: _Optional[_Union[Calibration, _Mapping]] = ..., layer_mode: _Optional[_Union[LayerMode, str]] = ..., raster_mode: _Optional[_Union[RasterMode, str]] = ..., flatten_curves: _Optional[bool] = ..., merge_dashes: _Optional[bool] = ..., raster_underlay: _Optional[bool] = ..., password: _Optional[str] = ..., target: _Optional[str] = ..., detect_circles: _Optional[bool] = ...) -> None: ...

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
