"""Real photos from the shared corpus convert (skipped when the corpus is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cad3d_depth.backends.onnx_runtime import OnnxRuntimeEstimator
from cad3d_depth.core import DepthOptions, convert

from .conftest import CORPUS_IMAGES
from .readback import load_mesh

IMAGES = sorted(CORPUS_IMAGES.glob("*")) if CORPUS_IMAGES.is_dir() else []

pytestmark = pytest.mark.corpus


@pytest.mark.skipif(not IMAGES, reason="../shared/corpus/images is absent")
@pytest.mark.parametrize("path", IMAGES, ids=lambda p: p.name)
async def test_corpus_photo_converts_to_a_relief(path: Path, onnx_estimator: OnnxRuntimeEstimator) -> None:
    data = path.read_bytes()  # noqa: ASYNC240 - a small local test file
    result = await convert(data, DepthOptions(target_triangles=20_000, preview=True), onnx_estimator)
    assert [a.name for a in result.artifacts] == ["relief.glb", "preview.png"]
    mesh = load_mesh(result.artifacts[0].data, "glb")
    assert 0 < len(mesh.faces) <= 20_000
    aspect = result.report["input"]["width"] / result.report["input"]["height"]
    extents = mesh.bounds[1] - mesh.bounds[0]
    assert extents[0] / extents[1] == pytest.approx(aspect, rel=0.02)
    assert not result.warnings
