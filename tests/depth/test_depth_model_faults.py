"""Models that misbehave (real ONNX graphs run by ONNX Runtime): flat, wrongly shaped, NaN output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cad3d_depth.backends.onnx_runtime import OnnxRuntimeEstimator
from cad3d_depth.core import DepthOptions, convert
from cad3d_kit.conversion import ConversionError, ErrorKind

from .photos import encode, scene


def _model(path: Path, nodes: list[onnx.NodeProto], out_shape: list[int | str], **constants: float) -> Path:
    graph = helper.make_graph(
        nodes,
        "fault",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 256, 256])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, out_shape)],
        initializer=[numpy_helper.from_array(np.array(v, dtype=np.float32), k) for k, v in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


async def test_flat_output_warns_and_still_converts(tmp_path: Path) -> None:
    path = _model(
        tmp_path / "flat.onnx",
        [
            helper.make_node("ReduceMax", ["image"], ["m"], axes=[1], keepdims=0),
            helper.make_node("Mul", ["m", "zero"], ["out"]),
        ],
        ["batch", 256, 256],
        zero=0.0,
    )
    result = await convert(encode(scene()), DepthOptions(target_triangles=1000), OnnxRuntimeEstimator(path))
    assert [w.code for w in result.warnings] == ["depth_flat"]
    assert result.report["mesh"]["triangles"] <= 1000


async def test_wrongly_shaped_output_is_inference_failed(tmp_path: Path) -> None:
    path = _model(tmp_path / "echo.onnx", [helper.make_node("Identity", ["image"], ["out"])], ["batch", 3, 256, 256])
    with pytest.raises(ConversionError) as info:
        await convert(encode(scene()), DepthOptions(), OnnxRuntimeEstimator(path))
    assert (info.value.code, info.value.kind) == ("inference_failed", ErrorKind.INTERNAL)


async def test_nan_output_is_inference_failed(tmp_path: Path) -> None:
    path = _model(
        tmp_path / "nan.onnx",
        [
            helper.make_node("ReduceMax", ["image"], ["m"], axes=[1], keepdims=0),
            helper.make_node("Sub", ["m", "big"], ["negative"]),
            helper.make_node("Sqrt", ["negative"], ["out"]),
        ],
        ["batch", 256, 256],
        big=1000.0,
    )
    with pytest.raises(ConversionError) as info:
        await convert(encode(scene()), DepthOptions(), OnnxRuntimeEstimator(path))
    assert info.value.code == "inference_failed"


async def test_corrupt_model_file_is_model_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"not a protobuf at all")
    estimator = OnnxRuntimeEstimator(path)
    assert await estimator.ready() is False
    with pytest.raises(ConversionError) as info:
        await convert(encode(scene()), DepthOptions(), estimator)
    assert info.value.code == "model_unavailable"
