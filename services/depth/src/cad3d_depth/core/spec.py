"""What a depth model expects, read from the model itself (ONNX metadata or KServe ModelMetadata)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from cad3d_kit.conversion import ConversionError, ErrorKind

Layout = Literal["NCHW", "NHWC"]
Dim = int | str | None  # str / None / negative ints are dynamic dimensions

# Optional metadata keys a model (ONNX metadata_props or Triton config parameters) may carry to say
# what the shapes alone cannot: the layout when the channel dim is ambiguous, and whether the graph
# applies the mean/std normalisation itself.
META_LAYOUT = "cad3d.layout"
META_NORMALIZED = "cad3d.input_normalized"
META_STANDIN = "cad3d.standin"


@dataclass(frozen=True)
class ModelSpec:
    model_name: str
    input_name: str
    output_name: str
    input_datatype: str  # KServe datatype name, e.g. "FP32"
    layout: Layout
    height: int | None  # None when the model accepts any size (then the profile's size is used)
    width: int | None
    has_batch_dim: bool
    normalized_in_graph: bool
    standin: bool = False


def spec_from_shapes(
    *,
    model_name: str,
    input_name: str,
    input_shape: Sequence[Dim],
    input_datatype: str,
    output_name: str,
    metadata: Mapping[str, str],
) -> ModelSpec:
    """Derive layout and size from the input shape: a dim of 3 after the batch dim is the channel."""
    shape = [d if isinstance(d, int) and d > 0 else None for d in input_shape]
    if len(shape) not in (3, 4):
        raise ConversionError(
            "model_incompatible",
            f"model {model_name!r} input {input_name!r} has shape {list(input_shape)}; expected an image "
            "tensor of rank 3 or 4",
            ErrorKind.PRECONDITION,
        )
    has_batch = len(shape) == 4
    image_dims = shape[1:] if has_batch else shape
    layout = _layout(metadata, image_dims, model_name)
    height, width = (image_dims[1], image_dims[2]) if layout == "NCHW" else (image_dims[0], image_dims[1])
    return ModelSpec(
        model_name=model_name,
        input_name=input_name,
        output_name=output_name,
        input_datatype=input_datatype,
        layout=layout,
        height=height,
        width=width,
        has_batch_dim=has_batch,
        normalized_in_graph=_truthy(metadata.get(META_NORMALIZED)),
        standin=_truthy(metadata.get(META_STANDIN)),
    )


def _layout(metadata: Mapping[str, str], image_dims: Sequence[int | None], model_name: str) -> Layout:
    declared = metadata.get(META_LAYOUT, "").upper()
    if declared in ("NCHW", "NHWC"):
        return "NCHW" if declared == "NCHW" else "NHWC"
    if image_dims[0] == 3:
        return "NCHW"
    if image_dims[2] == 3:
        return "NHWC"
    raise ConversionError(
        "model_incompatible",
        f"cannot tell the layout of model {model_name!r} (input dims {list(image_dims)}); "
        f"set metadata {META_LAYOUT}=NCHW or NHWC",
        ErrorKind.PRECONDITION,
    )


def _truthy(value: str | None) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")
