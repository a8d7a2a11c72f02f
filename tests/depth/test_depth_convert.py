"""End-to-end core conversions through the in-process ONNX Runtime backend and the stand-in model."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from cad3d_depth.backends.onnx_runtime import OnnxRuntimeEstimator
from cad3d_depth.core import CONVERTER_VERSION, DepthOptions, ReferencePoint, convert
from cad3d_kit.conversion import ConversionError

from .photos import jpeg_with_exif, scene
from .readback import load_cloud, load_mesh


async def test_glb_relief_with_vertex_colours(photo_jpeg: bytes, onnx_estimator: OnnxRuntimeEstimator) -> None:
    result = await convert(photo_jpeg, DepthOptions(target_triangles=5000), onnx_estimator)
    assert [a.name for a in result.artifacts] == ["relief.glb"]
    assert result.converter_version == CONVERTER_VERSION
    mesh = load_mesh(result.artifacts[0].data, "glb")
    assert 0 < len(mesh.faces) <= 5000
    assert len(mesh.faces) == result.report["mesh"]["triangles"]
    assert isinstance(mesh.visual, trimesh.visual.ColorVisuals)
    colours = mesh.visual.vertex_colors[:, :3].astype(int)
    assert colours.std() > 5  # the photo's colours, not one flat default
    assert result.report["model"]["standin"] is True
    assert result.report["input"]["width"] == 320 and result.report["input"]["height"] == 240
    # Width 100 units; the relief rises by at most relief_scale * width.
    extents = mesh.bounds[1] - mesh.bounds[0]
    assert extents[0] == pytest.approx(100.0)
    assert extents[1] == pytest.approx(75.0, rel=0.01)
    assert 0 < extents[2] <= 15.0 + 1e-3


async def test_glb_texture_embeds_the_photo(photo_jpeg: bytes, onnx_estimator: OnnxRuntimeEstimator) -> None:
    result = await convert(photo_jpeg, DepthOptions(texture=True, target_triangles=2000), onnx_estimator)
    mesh = load_mesh(result.artifacts[0].data, "glb")
    assert result.report["mesh"]["colour"] == "texture"
    assert isinstance(mesh.visual, trimesh.visual.TextureVisuals)
    assert isinstance(mesh.visual.material, trimesh.visual.material.PBRMaterial)
    image = mesh.visual.material.baseColorTexture
    assert image is not None and image.size == (320, 240)
    assert mesh.visual.uv.min() >= 0 and mesh.visual.uv.max() <= 1


async def test_stl_with_solid_base_is_watertight(photo_jpeg: bytes, onnx_estimator: OnnxRuntimeEstimator) -> None:
    options = DepthOptions(format="stl", solid_base=True, target_triangles=3000)
    result = await convert(photo_jpeg, options, onnx_estimator)
    assert result.artifacts[0].name == "relief.stl"
    mesh = load_mesh(result.artifacts[0].data, "stl")
    mesh.merge_vertices()
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert mesh.volume > 0  # outward normals
    assert len(mesh.faces) <= 3000
    assert result.report["mesh"]["watertight"] is True


async def test_ply_point_cloud_uses_exif_focal_length(onnx_estimator: OnnxRuntimeEstimator) -> None:
    data = jpeg_with_exif(scene(), focal_35mm=28)
    result = await convert(data, DepthOptions(format="ply"), onnx_estimator)
    cloud = load_cloud(result.artifacts[0].data)
    assert len(cloud.vertices) == 320 * 240
    assert cloud.colors.shape == (320 * 240, 4)
    camera = result.report["camera"]
    assert camera["source"] == "exif_focal_length_35mm"
    assert camera["fx"] == pytest.approx(28 * 320 / 36)
    assert np.all(cloud.vertices[:, 2] < 0)  # all in front of the camera (looking down -z)


async def test_ply_without_exif_uses_the_field_of_view_option(
    photo_jpeg: bytes, onnx_estimator: OnnxRuntimeEstimator
) -> None:
    result = await convert(photo_jpeg, DepthOptions(format="ply", fov_degrees=90.0), onnx_estimator)
    camera = result.report["camera"]
    assert camera["source"] == "default_fov"
    assert camera["fx"] == pytest.approx(160.0)  # (width / 2) / tan(45 degrees)
    assert camera["horizontal_fov_degrees"] == pytest.approx(90.0)


async def test_depth_png_is_16_bit_at_the_photo_aspect_and_preview(onnx_estimator: OnnxRuntimeEstimator) -> None:
    data = jpeg_with_exif(scene(400, 200))
    result = await convert(data, DepthOptions(format="depth_png", preview=True), onnx_estimator)
    names = [a.name for a in result.artifacts]
    assert names == ["depth.png", "preview.png"]
    depth = Image.open(io.BytesIO(result.artifacts[0].data))
    assert depth.mode.startswith("I;16") or depth.mode == "I"
    assert depth.size == (400, 200)
    values = np.asarray(depth)
    assert values.max() == 65535 and values.min() == 0  # normalised relative inverse depth
    preview = Image.open(io.BytesIO(result.artifacts[1].data))
    assert preview.mode == "RGB" and preview.size == (400, 200)
    assert result.report["depth_png"]["units"].startswith("relative")


async def test_calibration_from_reference_points_gives_metres(
    photo_jpeg: bytes, onnx_estimator: OnnxRuntimeEstimator
) -> None:
    points = (ReferencePoint(160, 200, 2.0), ReferencePoint(160, 20, 8.0), ReferencePoint(40, 120, 5.0))
    options = DepthOptions(format="depth_png", reference_points=points)
    result = await convert(photo_jpeg, options, onnx_estimator)
    calibration = result.report["calibration"]
    assert calibration["calibrated"] is True
    assert calibration["method"] == "least_squares_inverse_depth"
    assert calibration["points"] == 3 and calibration["scale"] > 0
    assert result.report["depth_png"]["units"] == "millimetres"
    depth_mm = np.asarray(Image.open(io.BytesIO(result.artifacts[0].data))).astype(float)
    # Near the reference pixels the metric map agrees with the given distances within the fit error.
    tolerance = 1000 * calibration["rms_error_m"] * 2 + 300
    assert abs(depth_mm[200, 160] - 2000) < tolerance
    assert abs(depth_mm[20, 160] - 8000) < tolerance


async def test_single_known_distance_scales_depth(photo_jpeg: bytes, onnx_estimator: OnnxRuntimeEstimator) -> None:
    options = DepthOptions(format="ply", reference_points=(ReferencePoint(160, 200, 3.0),))
    result = await convert(photo_jpeg, options, onnx_estimator)
    assert result.report["calibration"]["method"] == "single_point_scale"
    assert result.report["calibration"]["rms_error_m"] == pytest.approx(0.0, abs=1e-6)
    cloud = load_cloud(result.artifacts[0].data)
    depth_at_point = -cloud.vertices.reshape(240, 320, 3)[200, 160, 2]
    assert depth_at_point == pytest.approx(3.0, rel=0.02)


async def test_contradicting_reference_points_warn_and_stay_relative(
    photo_jpeg: bytes, onnx_estimator: OnnxRuntimeEstimator
) -> None:
    # Bottom of the photo is nearer in the stand-in: claiming it is farther contradicts the map.
    points = (ReferencePoint(160, 230, 50.0), ReferencePoint(160, 10, 1.0))
    result = await convert(photo_jpeg, DepthOptions(reference_points=points), onnx_estimator)
    assert [w.code for w in result.warnings] == ["calibration_inconsistent"]
    assert result.report["calibration"] == {"calibrated": False}


async def test_reference_point_outside_the_photo_is_invalid(
    photo_jpeg: bytes, onnx_estimator: OnnxRuntimeEstimator
) -> None:
    options = DepthOptions(reference_points=(ReferencePoint(5000, 10, 2.0), ReferencePoint(1, 1, 3.0)))
    stages: list[str] = []
    with pytest.raises(ConversionError) as info:
        await convert(photo_jpeg, options, onnx_estimator, lambda _p, stage, _m: stages.append(stage))
    assert info.value.code == "invalid_options"
    assert stages == ["decode"]  # refused before any model time is spent


async def test_progress_is_reported_in_order(photo_jpeg: bytes, onnx_estimator: OnnxRuntimeEstimator) -> None:
    events: list[tuple[float, str]] = []
    options = DepthOptions(target_triangles=500)
    await convert(photo_jpeg, options, onnx_estimator, lambda p, s, _m: events.append((p, s)))
    percents = [p for p, _ in events]
    assert percents == sorted(percents) and percents[0] == 0 and percents[-1] == 100
    assert [s for _, s in events][:5] == ["decode", "preprocess", "inference", "postprocess", "mesh"]


async def test_unknown_profile_is_a_precondition_error(photo_jpeg: bytes, onnx_estimator: OnnxRuntimeEstimator) -> None:
    with pytest.raises(ConversionError) as info:
        await convert(photo_jpeg, DepthOptions(), onnx_estimator, profile="nope")
    assert info.value.code == "invalid_profile"


async def test_missing_model_file_is_model_unavailable(tmp_path: Path, photo_jpeg: bytes) -> None:
    from cad3d_depth.core import create_estimator

    estimator = create_estimator(
        "onnxruntime", model_path=str(tmp_path / "absent.onnx"), triton_url=None, model_name="x"
    )
    assert await estimator.ready() is False
    with pytest.raises(ConversionError) as info:
        await convert(photo_jpeg, DepthOptions(), estimator)
    assert info.value.code == "model_unavailable"
    assert info.value.kind.value == "unavailable"
