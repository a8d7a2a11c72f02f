"""The triton backend against a real KServe v2 gRPC server (ONNX Runtime behind tritonclient's stubs)."""

from __future__ import annotations

import io
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cad3d_depth.backends.onnx_runtime import OnnxRuntimeEstimator
from cad3d_depth.backends.triton import TritonEstimator
from cad3d_depth.core import DepthOptions, convert, create_estimator, preprocess
from cad3d_depth.core.profiles import get_profile
from cad3d_depth.models import STANDIN_NAME
from cad3d_kit.conversion import ConversionError, ErrorKind

from .kserve_server import KServeTestServer
from .photos import scene


@pytest.fixture
async def kserve(model_repository: Path) -> AsyncIterator[KServeTestServer]:
    async with KServeTestServer(model_repository) as server:
        yield server


def triton(
    server: KServeTestServer, *, timeout_s: float = 5.0, retries: int = 2, retry_backoff_s: float = 0.01
) -> TritonEstimator:
    return TritonEstimator(
        server.url, STANDIN_NAME, timeout_s=timeout_s, retries=retries, retry_backoff_s=retry_backoff_s
    )


async def test_readiness_and_spec_come_from_the_server(
    kserve: KServeTestServer, onnx_estimator: OnnxRuntimeEstimator
) -> None:
    estimator = triton(kserve)
    try:
        assert await estimator.ready() is True
        spec = await estimator.load()
        local = await onnx_estimator.load()
        # Names, layout and size all read from ModelMetadata / ModelConfig, matching the ONNX file.
        assert (spec.input_name, spec.output_name, spec.layout) == (local.input_name, local.output_name, "NCHW")
        assert (spec.height, spec.width, spec.has_batch_dim) == (256, 256, True)
        assert spec.standin is True and spec.normalized_in_graph is False
    finally:
        await estimator.close()


async def test_both_backends_give_the_same_depth(
    kserve: KServeTestServer, onnx_estimator: OnnxRuntimeEstimator
) -> None:
    data = _png(scene(300, 200, seed=3))
    options = DepthOptions(format="depth_png")
    estimator = create_estimator(
        "triton", model_path=None, triton_url=kserve.url, model_name=STANDIN_NAME, model_version="1", timeout_s=5
    )
    try:
        remote = await convert(data, options, estimator)
    finally:
        await estimator.close()
    local = await convert(data, options, onnx_estimator)
    remote_depth = np.asarray(Image.open(io.BytesIO(remote.artifacts[0].data)))
    local_depth = np.asarray(Image.open(io.BytesIO(local.artifacts[0].data)))
    assert remote_depth.shape == (200, 300)
    np.testing.assert_array_equal(remote_depth, local_depth)
    assert remote_depth.std() > 1000  # a real depth map, not a constant


async def test_raw_inference_matches_in_process(kserve: KServeTestServer, onnx_estimator: OnnxRuntimeEstimator) -> None:
    spec = await onnx_estimator.load()
    batch = preprocess(scene(), spec, get_profile("midas_v21_small"))
    estimator = triton(kserve)
    try:
        remote = await estimator.infer(batch)
    finally:
        await estimator.close()
    local = await onnx_estimator.infer(batch)
    assert remote.shape == local.shape == (1, 256, 256)
    np.testing.assert_allclose(remote, local, rtol=1e-6)


async def test_unavailable_is_retried(kserve: KServeTestServer) -> None:
    estimator = triton(kserve, retries=3)
    try:
        await estimator.load()
        kserve.faults.unavailable_calls = 2
        calls_before = kserve.faults.calls.get("ModelInfer", 0)
        output = await estimator.infer(np.zeros((1, 3, 256, 256), np.float32))
        assert output.shape == (1, 256, 256)
        assert kserve.faults.calls["ModelInfer"] - calls_before == 3
    finally:
        await estimator.close()


async def test_unavailable_after_all_retries_is_model_unavailable(kserve: KServeTestServer) -> None:
    estimator = triton(kserve, retries=2)
    kserve.faults.unavailable_calls = 100
    try:
        with pytest.raises(ConversionError) as info:
            await convert(_png(scene()), DepthOptions(), estimator)
        assert info.value.code == "model_unavailable"
        assert info.value.kind is ErrorKind.UNAVAILABLE
        assert kserve.faults.calls["ModelMetadata"] == 3
    finally:
        await estimator.close()


async def test_slow_inference_times_out(kserve: KServeTestServer) -> None:
    estimator = triton(kserve, timeout_s=0.2)
    kserve.faults.infer_delay_s = 1.0
    try:
        with pytest.raises(ConversionError) as info:
            await convert(_png(scene()), DepthOptions(), estimator)
        assert info.value.code == "inference_timeout"
        assert info.value.kind is ErrorKind.DEADLINE
    finally:
        await estimator.close()


@pytest.mark.parametrize(("model", "version"), [("no_such_model", ""), (STANDIN_NAME, "7")])
async def test_unknown_model_or_version_is_model_unavailable(
    kserve: KServeTestServer, model: str, version: str
) -> None:
    estimator = TritonEstimator(kserve.url, model, version, timeout_s=5, retries=0)
    try:
        assert await estimator.ready() is False
        with pytest.raises(ConversionError) as info:
            await convert(_png(scene()), DepthOptions(), estimator)
        assert info.value.code == "model_unavailable"
    finally:
        await estimator.close()


async def test_config_only_model_is_not_ready(kserve: KServeTestServer) -> None:
    # midas_v21_small_256 ships as config only here; a repository without its .onnx serves nothing.
    estimator = TritonEstimator(kserve.url, "midas_v21_small_256", timeout_s=5, retries=0)
    try:
        assert await estimator.ready() is False
    finally:
        await estimator.close()


async def test_server_down_is_not_ready_and_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    estimator = TritonEstimator(f"127.0.0.1:{port}", STANDIN_NAME, timeout_s=1, retries=1, retry_backoff_s=0.01)
    try:
        assert await estimator.ready() is False
        with pytest.raises(ConversionError) as info:
            await convert(_png(scene()), DepthOptions(), estimator)
        assert info.value.code == "model_unavailable"
    finally:
        await estimator.close()


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()
