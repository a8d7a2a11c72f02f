"""Preprocessing, model spec parsing, calibration and relief-mesh geometry."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st

from cad3d_depth.core import ModelSpec, ReferencePoint, get_profile, preprocess, profile_for_model, spec_from_shapes
from cad3d_depth.core.calibration import fit_calibration, sample_at_points
from cad3d_depth.core.depthmap import to_depth_maps
from cad3d_depth.core.mesh import build_relief, triangle_count
from cad3d_kit.conversion import ConversionError


def _spec(shape: list[int | str], **meta: str) -> ModelSpec:
    return spec_from_shapes(
        model_name="m", input_name="in", input_shape=shape, input_datatype="FP32", output_name="out", metadata=meta
    )


def test_spec_layout_and_size_from_shapes() -> None:
    nchw = _spec([-1, 3, 256, 256])
    assert (nchw.layout, nchw.height, nchw.width, nchw.has_batch_dim) == ("NCHW", 256, 256, True)
    nhwc = _spec(["batch", 384, 512, 3])
    assert (nhwc.layout, nhwc.height, nhwc.width) == ("NHWC", 384, 512)
    dynamic = _spec([1, 3, "h", "w"])
    assert (dynamic.height, dynamic.width) == (None, None)
    assert _spec([3, 3, 3, 3], **{"cad3d.layout": "NHWC"}).layout == "NHWC"
    assert _spec([1, 3, 256, 256], **{"cad3d.input_normalized": "true"}).normalized_in_graph


@pytest.mark.parametrize("shape", [[1, 256, 256], [1, 5, 64, 64], [256]])
def test_unusable_input_shapes_are_refused(shape: list) -> None:
    with pytest.raises(ConversionError) as info:
        _spec(shape)
    assert info.value.code == "model_incompatible"


def test_midas_profile_is_imagenet_normalised_nchw() -> None:
    rgb = np.zeros((10, 20, 3), np.uint8)
    rgb[..., 0] = 255
    batch = preprocess(rgb, _spec([1, 3, 256, 256]), get_profile("midas_v21_small"))
    assert batch.shape == (1, 3, 256, 256) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[0, :, 100, 100], [(1 - 0.485) / 0.229, -0.456 / 0.224, -0.406 / 0.225], rtol=1e-5)


def test_graph_that_normalises_itself_gets_zero_to_one() -> None:
    rgb = np.full((8, 8, 3), 51, np.uint8)
    batch = preprocess(rgb, _spec([1, 3, 32, 32], **{"cad3d.input_normalized": "1"}), get_profile("midas_v21_small"))
    np.testing.assert_allclose(batch, 0.2, rtol=1e-6)


def test_dpt_profile_uses_half_mean_std_and_its_size_when_dynamic() -> None:
    rgb = np.full((8, 8, 3), 255, np.uint8)
    batch = preprocess(rgb, _spec([1, "h", "w", 3]), get_profile("dpt"))
    assert batch.shape == (1, 384, 384, 3)
    np.testing.assert_allclose(batch, 1.0, rtol=1e-6)  # (1 - 0.5) / 0.5


def test_depth_map_is_resized_to_the_photo_aspect() -> None:
    maps = to_depth_maps(np.outer(np.arange(256), np.ones(256)).astype(np.float32), 300, 100)
    assert maps.normalized.shape == (100, 300)
    assert maps.normalized.min() == 0 and maps.normalized.max() == pytest.approx(1)
    assert not maps.flat and to_depth_maps(np.ones((256, 256), np.float32), 30, 20).flat


def test_least_squares_recovers_scale_and_shift_exactly() -> None:
    inverse = np.linspace(0.5, 3.0, 200 * 100, dtype=np.float32).reshape(100, 200)
    scale, shift = 0.2, 0.05
    photo = (400, 200)  # the map is at half resolution of the photo
    pixels = [(10, 10), (390, 190), (200, 100), (50, 150)]
    truth = sample_at_points(inverse, tuple(ReferencePoint(x, y, 1.0) for x, y in pixels), photo)
    points = tuple(ReferencePoint(x, y, 1 / (scale * d + shift)) for (x, y), d in zip(pixels, truth, strict=True))
    samples = sample_at_points(inverse, points, photo)
    fitted = fit_calibration(samples, np.array([p.distance for p in points]))
    assert fitted is not None
    assert fitted.scale == pytest.approx(scale, rel=1e-4) and fitted.shift == pytest.approx(shift, abs=1e-5)
    assert fitted.rms_error_m == pytest.approx(0, abs=1e-4)


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(8, 400),
    height=st.integers(8, 400),
    budget=st.integers(2, 50_000),
    solid=st.booleans(),
)
def test_relief_respects_the_triangle_budget(width: int, height: int, budget: int, solid: bool) -> None:
    depth = np.random.default_rng(width * height).random((height, width)).astype(np.float32)
    rgb = np.zeros((height, width, 3), np.uint8)
    relief = build_relief(depth, rgb, relief_scale=0.1, budget=budget, solid=solid)
    floor = triangle_count(2, 2, solid)  # the smallest mesh that can exist
    assert len(relief.faces) <= max(budget, floor)
    assert len(relief.faces) == triangle_count(*relief.grid, solid)
    assert len(relief.vertices) == len(relief.uv) == len(relief.colors)
    if solid:
        mesh = trimesh.Trimesh(relief.vertices, relief.faces, process=False)
        assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0


@pytest.mark.parametrize(
    ("model", "profile"),
    [("midas_v21_small_256", "midas_v21_small"), ("midas_standin_256", "midas_v21_small"), ("dpt_hybrid_384", "dpt")],
)
def test_default_profile_follows_the_model_family(model: str, profile: str) -> None:
    assert profile_for_model(model) == profile
