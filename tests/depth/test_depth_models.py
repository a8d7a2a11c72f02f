"""The stand-in model generator, metadata-driven backends, and the Triton model repository configs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from cad3d_depth.backends.onnx_runtime import OnnxRuntimeEstimator
from cad3d_depth.core import get_profile, preprocess
from cad3d_depth.models import STANDIN_NAME, build_standin_model, main, make_batch_dynamic, write_standin

from .conftest import REPO
from .photos import scene


def test_generation_is_deterministic(tmp_path: Path, standin_path: Path) -> None:
    again = write_standin(tmp_path)
    assert again.read_bytes() == standin_path.read_bytes()
    assert again.relative_to(tmp_path).as_posix() == f"{STANDIN_NAME}/1/model.onnx"


def test_standin_says_it_is_a_standin(standin_path: Path) -> None:
    model = onnx.load(str(standin_path))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["cad3d.standin"] == "true"
    assert "STAND-IN" in model.doc_string and "stand-in" in STANDIN_NAME.replace("standin", "stand-in")
    inp, out = model.graph.input[0], model.graph.output[0]
    in_dims = [d.dim_value or d.dim_param for d in inp.type.tensor_type.shape.dim]
    out_dims = [d.dim_value or d.dim_param for d in out.type.tensor_type.shape.dim]
    assert in_dims == ["batch", 3, 256, 256] and out_dims == ["batch", 256, 256]


def test_cli_writes_into_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["standin", "--repository", str(tmp_path)]) == 0
    assert (tmp_path / STANDIN_NAME / "1" / "model.onnx").is_file()
    assert "STAND-IN" in capsys.readouterr().out


async def test_standin_output_follows_image_structure(
    onnx_estimator: OnnxRuntimeEstimator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING"):
        spec = await onnx_estimator.load()
    assert "STAND-IN" in caplog.text
    profile = get_profile("midas_v21_small")
    flat = await onnx_estimator.infer(preprocess(np.full((240, 320, 3), 128, np.uint8), spec, profile))
    busy = await onnx_estimator.infer(preprocess(scene(), spec, profile))
    flat_map, busy_map = flat[0], busy[0]
    assert flat_map[200:].mean() > flat_map[:50].mean()  # lower rows nearer (ground plane prior)
    # The textured box (rows 128-230, cols 85-170 of 256) stands out from its surroundings.
    assert busy_map[150:200, 100:150].mean() > busy_map[150:200, 10:60].mean()
    assert np.all(busy_map >= 0)


async def test_backend_reads_names_and_layout_from_the_model(
    tmp_path: Path, onnx_estimator: OnnxRuntimeEstimator
) -> None:
    nhwc = tmp_path / "nhwc.onnx"
    onnx.save(build_standin_model(layout="NHWC", input_name="pixels", output_name="disparity"), str(nhwc))
    other = OnnxRuntimeEstimator(nhwc, model_name="nhwc")
    spec = await other.load()
    assert (spec.input_name, spec.output_name, spec.layout) == ("pixels", "disparity", "NHWC")
    profile = get_profile("midas_v21_small")
    rgb = scene(200, 150)
    nhwc_out = await other.infer(preprocess(rgb, spec, profile))
    nchw_out = await onnx_estimator.infer(preprocess(rgb, await onnx_estimator.load(), profile))
    np.testing.assert_allclose(nhwc_out, nchw_out, rtol=1e-5, atol=1e-3)


def test_batch_dynamic_conversion_for_fixed_batch_exports(tmp_path: Path) -> None:
    fixed, dynamic = tmp_path / "fixed.onnx", tmp_path / "dynamic.onnx"
    onnx.save(build_standin_model(dynamic_batch=False), str(fixed))
    make_batch_dynamic(fixed, dynamic)
    dims = onnx.load(str(dynamic)).graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 3


@pytest.mark.parametrize("name", ["midas_standin_256", "midas_v21_small_256"])
def test_repository_configs_parse_and_batch_on_gpu(name: str) -> None:
    text = (REPO / "models" / name / "config.pbtxt").read_text()
    config = text_format.Parse(text, model_config_pb2.ModelConfig())
    assert config.name == name and config.backend == "onnxruntime"
    assert config.max_batch_size > 0 and config.HasField("dynamic_batching")
    assert [g.kind for g in config.instance_group] == [model_config_pb2.ModelInstanceGroup.KIND_GPU]


async def test_standin_config_matches_the_generated_model(onnx_estimator: OnnxRuntimeEstimator) -> None:
    text = (REPO / "models" / STANDIN_NAME / "config.pbtxt").read_text()
    config = text_format.Parse(text, model_config_pb2.ModelConfig())
    spec = await onnx_estimator.load()
    assert [i.name for i in config.input] == [spec.input_name]
    assert [o.name for o in config.output] == [spec.output_name]
    assert list(config.input[0].dims) == [3, 256, 256] and list(config.output[0].dims) == [256, 256]
