"""convert(): photo bytes + options -> 3D artifacts + report, through any DepthEstimator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from cad3d_depth.core import calibration as calib
from cad3d_depth.core import encode
from cad3d_depth.core.camera import back_project, intrinsics_for
from cad3d_depth.core.decode import DecodedImage, decode_image
from cad3d_depth.core.depthmap import DepthMaps, to_depth_maps
from cad3d_depth.core.estimator import DepthEstimator
from cad3d_depth.core.mesh import RELIEF_WIDTH, build_relief
from cad3d_depth.core.options import DepthOptions, ImageLimits
from cad3d_depth.core.profiles import DEFAULT_PROFILE, get_profile, model_input_size, output_to_map, preprocess
from cad3d_depth.core.spec import ModelSpec
from cad3d_kit.conversion import (
    ConversionResult,
    ConversionWarning,
    OutputArtifact,
    ProgressCallback,
    no_progress,
)

CONVERTER_VERSION = "cad3d-depth-core/0.1.0"
T = TypeVar("T")


@dataclass
class _Timer:
    """Wall time per stage, and process CPU time per stage (exact only while one conversion runs in
    the process, as in the benchmark; it is robust to other processes competing for the core)."""

    stages_ms: dict[str, float] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.stages_ms[name] = self.stages_ms.get(name, 0.0) + (time.perf_counter() - start) * 1000
            self.cpu_ms[name] = self.cpu_ms.get(name, 0.0) + (time.process_time() - start_cpu) * 1000


async def _cpu(func: Callable[..., T], *args: Any) -> T:
    # Keeps the event loop (gRPC server, Triton channel) responsive during numpy / codec work.
    return await asyncio.to_thread(func, *args)


async def convert(
    data: bytes,
    options: DepthOptions,
    estimator: DepthEstimator,
    progress: ProgressCallback = no_progress,
    *,
    limits: ImageLimits = ImageLimits(),  # noqa: B008 - frozen, immutable default
    profile: str = DEFAULT_PROFILE,
) -> ConversionResult:
    timer = _Timer()
    warnings: list[ConversionWarning] = []
    preprocessing = get_profile(profile)

    progress(0.0, "decode", "decoding the photo")
    with timer.stage("decode"):
        image = await _cpu(decode_image, data, limits)
    # Before inference, so a typo in the options costs no model time.
    calib.check_points_inside(options.reference_points, (image.original_width, image.original_height))

    progress(15.0, "preprocess", "preparing the model input")
    spec = await estimator.load()
    with timer.stage("preprocess"):
        batch = await _cpu(preprocess, image.rgb, spec, preprocessing)

    progress(25.0, "inference", f"estimating depth with {spec.model_name}")
    with timer.stage("inference"):
        raw = await estimator.infer(batch)

    progress(60.0, "postprocess", "building the depth map")
    with timer.stage("postprocess"):
        model_map = output_to_map(raw, spec)
        height, width = image.rgb.shape[:2]
        maps = await _cpu(to_depth_maps, model_map, width, height)
        calibration = _calibrate(maps, image, options, warnings)
    if maps.flat:
        warnings.append(ConversionWarning("depth_flat", "the model found no depth variation in the photo"))

    progress(75.0, "mesh", "building the 3D output")
    artifacts, output_report = await _build_outputs(image, maps, calibration, options, timer)

    progress(100.0, "done", f"produced {', '.join(a.name for a in artifacts)}")
    report: dict[str, Any] = {
        "input": {
            "format": image.source_format,
            "width": image.original_width,
            "height": image.original_height,
            "working_width": width,
            "working_height": height,
        },
        "model": _model_report(spec, preprocessing.name, model_input_size(spec, preprocessing)),
        "depth": {
            "kind": "metric" if calibration else "relative_inverse_depth",
            "map_width": width,
            "map_height": height,
        },
        "calibration": calibration.as_report() if calibration else {"calibrated": False},
        **output_report,
        "timings_ms": {k: round(v, 3) for k, v in timer.stages_ms.items()},
        "cpu_ms": {k: round(v, 3) for k, v in timer.cpu_ms.items()},
    }
    return ConversionResult(artifacts, report, warnings, CONVERTER_VERSION)


def _calibrate(
    maps: DepthMaps, image: DecodedImage, options: DepthOptions, warnings: list[ConversionWarning]
) -> calib.Calibration | None:
    if not options.reference_points:
        return None
    samples = calib.sample_at_points(
        maps.inverse, options.reference_points, (image.original_width, image.original_height)
    )
    distances = np.array([p.distance for p in options.reference_points], dtype=np.float64)
    fitted = calib.fit_calibration(samples, distances)
    if fitted is None:
        warnings.append(
            ConversionWarning(
                "calibration_inconsistent",
                "the reference distances contradict the depth map (a farther point looks nearer); "
                "the output stays in relative units",
            )
        )
    return fitted


async def _build_outputs(
    image: DecodedImage,
    maps: DepthMaps,
    calibration: calib.Calibration | None,
    options: DepthOptions,
    timer: _Timer,
) -> tuple[list[OutputArtifact], dict[str, Any]]:
    artifacts: list[OutputArtifact] = []
    report: dict[str, Any] = {}
    height, width = maps.normalized.shape
    intrinsics = intrinsics_for(width, height, image.focal_length_35mm, options.fov_degrees)
    report["camera"] = intrinsics.as_report()

    if options.format in ("glb", "stl"):
        with timer.stage("mesh"):
            relief = await _cpu(
                lambda: build_relief(
                    maps.normalized,
                    image.rgb,
                    relief_scale=options.relief_scale,
                    budget=options.target_triangles,
                    solid=options.solid_base,
                )
            )
        textured = options.texture and options.format == "glb"
        with timer.stage("encode"):
            if options.format == "glb":
                glb = await _cpu(
                    lambda: encode.encode_glb(encode.relief_to_trimesh(relief, image.rgb if textured else None))
                )
                artifacts.append(OutputArtifact("relief.glb", "model/gltf-binary", glb))
            else:
                artifacts.append(OutputArtifact("relief.stl", "model/stl", await _cpu(encode.encode_stl, relief)))
        report["mesh"] = {
            "vertices": len(relief.vertices),
            "triangles": len(relief.faces),
            "grid": list(relief.grid),
            "solid_base": relief.solid,
            # Closed and consistently wound by construction (walls + bottom fan); tests check it.
            "watertight": relief.solid,
            "colour": "texture" if textured else ("none" if options.format == "stl" else "vertex_colors"),
            "width_units": RELIEF_WIDTH,
            "relief_height_units": options.relief_scale * RELIEF_WIDTH,
        }
    elif options.format == "ply":
        with timer.stage("mesh"):
            depth = maps.camera_depth(calibration)
            points = await _cpu(back_project, depth, intrinsics)
        with timer.stage("encode"):
            ply = await _cpu(encode.encode_ply, points, image.rgb.reshape(-1, 3))
        artifacts.append(OutputArtifact("points.ply", "application/vnd.ply", ply))
        report["point_cloud"] = {
            "points": len(points),
            "units": "metres" if calibration else "relative",
            "convention": "camera at origin looking down -z, y up",
        }
    else:
        with timer.stage("encode"):
            depth16, units = _depth_png_values(maps, calibration)
            artifacts.append(OutputArtifact("depth.png", "image/png", await _cpu(encode.encode_depth_png, depth16)))
        report["depth_png"] = {"bits": 16, "units": units}

    if options.preview:
        with timer.stage("encode"):
            preview = await _cpu(encode.encode_preview_png, maps.normalized)
        artifacts.append(OutputArtifact("preview.png", "image/png", preview))
    return artifacts, report


def _depth_png_values(maps: DepthMaps, calibration: calib.Calibration | None) -> tuple[np.ndarray, str]:
    if calibration is not None:
        millimetres = calibration.metric_depth(maps.inverse) * 1000.0
        return np.clip(np.rint(millimetres), 0, encode.DEPTH_PNG_MAX).astype(np.uint16), "millimetres"
    scaled = np.rint(maps.normalized * encode.DEPTH_PNG_MAX)
    return scaled.astype(np.uint16), "relative_inverse_depth_0_65535_near_is_high"


def _model_report(spec: ModelSpec, profile: str, size: tuple[int, int]) -> dict[str, Any]:
    return {
        "name": spec.model_name,
        "standin": spec.standin,
        "profile": profile,
        "layout": spec.layout,
        "input_height": size[0],
        "input_width": size[1],
        "normalized_in_graph": spec.normalized_in_graph,
    }
