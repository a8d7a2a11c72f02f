"""Artifact encoders: GLB / STL relief, PLY point cloud, 16-bit depth PNG, preview PNG."""

from __future__ import annotations

import cv2
import numpy as np
import trimesh
from PIL import Image

from cad3d_depth.core.mesh import ReliefMesh
from cad3d_kit.conversion import ConversionError, ErrorKind

# 16-bit depth PNG in millimetres when calibrated: 65.535 m is the farthest storable distance.
DEPTH_PNG_MAX = 65535
# Texture embedded in the GLB (PNG inside glTF); bounded so the file stays browser-friendly.
TEXTURE_MAX_SIDE = 1024


def relief_to_trimesh(relief: ReliefMesh, rgb: np.ndarray | None) -> trimesh.Trimesh:
    """rgb given -> textured with the photo; otherwise vertex colours."""
    if rgb is not None:
        visual: trimesh.visual.ColorVisuals | trimesh.visual.TextureVisuals = trimesh.visual.TextureVisuals(
            uv=relief.uv, image=Image.fromarray(_fit(rgb, TEXTURE_MAX_SIDE))
        )
    else:
        visual = trimesh.visual.ColorVisuals(vertex_colors=relief.colors)
    return trimesh.Trimesh(vertices=relief.vertices, faces=relief.faces, visual=visual, process=False)


def encode_glb(mesh: trimesh.Trimesh) -> bytes:
    return _as_bytes(mesh.export(file_type="glb"))


def encode_stl(mesh: trimesh.Trimesh) -> bytes:
    return _as_bytes(mesh.export(file_type="stl"))


def encode_ply(points: np.ndarray, colors: np.ndarray) -> bytes:
    """Binary little-endian PLY with float32 xyz and uchar rgb per vertex."""
    cloud = trimesh.PointCloud(vertices=points, colors=colors)
    return _as_bytes(cloud.export(file_type="ply", encoding="binary"))


def encode_depth_png(depth_16bit: np.ndarray) -> bytes:
    return _png(depth_16bit.astype(np.uint16))


def encode_preview_png(normalized_inverse: np.ndarray) -> bytes:
    grey = np.clip(normalized_inverse * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return _png(cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO))  # BGR, as imencode expects


def _png(image: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ConversionError("encode_failed", "PNG encoding failed", ErrorKind.INTERNAL)
    return buffer.tobytes()


def _fit(rgb: np.ndarray, max_side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    if max(height, width) <= max_side:
        return rgb
    factor = max_side / max(height, width)
    return cv2.resize(rgb, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA)


def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    raise ConversionError("encode_failed", f"exporter returned {type(data).__name__}", ErrorKind.INTERNAL)
