"""Artifact encoders: GLB / STL relief, PLY point cloud, 16-bit depth PNG, preview PNG.

GLB goes through trimesh's glTF exporter. Binary STL and PLY are written here with numpy structured
arrays: both formats are a fixed header plus packed records, and trimesh's generic exporters took
100-140 ms for a 200k-triangle / 750k-point output on one core against a 150 ms budget for all
non-inference stages. Tests read every artifact back with trimesh / Pillow.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import trimesh
from PIL import Image

from cad3d_depth.core.mesh import ReliefMesh
from cad3d_kit.conversion import ConversionError, ErrorKind

# 16-bit depth PNG in millimetres when calibrated: 65.535 m is the farthest storable distance.
DEPTH_PNG_MAX = 65535
# Texture embedded in the GLB as JPEG; bounded so the file stays browser-friendly.
TEXTURE_MAX_SIDE = 1024
TEXTURE_JPEG_QUALITY = 90
# The preview is for a glance (thumbnails, the web page), not analysis: the 16-bit PNG is for that.
PREVIEW_MAX_SIDE = 512
# zlib level 1 with run-length matching: about half the time of the default for a few % more bytes.
_PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
_STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attribute", "<u2")])
_PLY_RECORD = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")])


def relief_to_trimesh(relief: ReliefMesh, rgb: np.ndarray | None) -> trimesh.Trimesh:
    """rgb given -> textured with the photo; otherwise vertex colours."""
    if rgb is not None:
        visual: trimesh.visual.ColorVisuals | trimesh.visual.TextureVisuals = trimesh.visual.TextureVisuals(
            uv=relief.uv, image=_jpeg_image(_fit(rgb, TEXTURE_MAX_SIDE))
        )
    else:
        visual = trimesh.visual.ColorVisuals(vertex_colors=relief.colors)
    return trimesh.Trimesh(vertices=relief.vertices, faces=relief.faces, visual=visual, process=False)


def encode_glb(mesh: trimesh.Trimesh) -> bytes:
    return _as_bytes(mesh.export(file_type="glb"))


def encode_stl(relief: ReliefMesh) -> bytes:
    """Binary STL: 80-byte header, uint32 count, then (normal, 3 vertices, attribute) per triangle."""
    corners = relief.vertices[relief.faces].astype(np.float32)
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    records = np.zeros(len(corners), dtype=_STL_RECORD)
    records["normal"] = np.divide(normals, lengths, out=np.zeros_like(normals), where=lengths > 0)
    records["vertices"] = corners
    header = b"cad3d depth relief".ljust(80, b" ")
    return header + np.uint32(len(records)).tobytes() + records.tobytes()


def encode_ply(points: np.ndarray, colors: np.ndarray) -> bytes:
    """Binary little-endian PLY with float32 xyz and uchar rgb per vertex."""
    records = np.empty(len(points), dtype=_PLY_RECORD)
    for axis, name in enumerate("xyz"):
        records[name] = points[:, axis]
    for channel, name in enumerate(("red", "green", "blue")):
        records[name] = colors[:, channel]
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment cad3d depth point cloud\n"
        f"element vertex {len(records)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n"
    )
    return header.encode("ascii") + records.tobytes()


def encode_depth_png(depth_16bit: np.ndarray) -> bytes:
    return _png(depth_16bit.astype(np.uint16))


def encode_preview_png(normalized_inverse: np.ndarray) -> bytes:
    small = _fit(normalized_inverse, PREVIEW_MAX_SIDE)
    grey = np.clip(small * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return _png(cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO))  # BGR, as imencode expects


def _png(image: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".png", image, _PNG_PARAMS)
    if not ok:
        raise ConversionError("encode_failed", "PNG encoding failed", ErrorKind.INTERNAL)
    return buffer.tobytes()


def _fit(image: np.ndarray, max_side: int) -> np.ndarray:
    height, width = image.shape[:2]
    if max(height, width) <= max_side:
        return image
    factor = max_side / max(height, width)
    return cv2.resize(image, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA)


def _jpeg_image(rgb: np.ndarray) -> Image.Image:
    # trimesh embeds images whose format is JPEG as JPEG (image/jpeg) instead of PNG-encoding them,
    # which for a photo is ~10x faster and ~5x smaller.
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=TEXTURE_JPEG_QUALITY)
    image = Image.open(io.BytesIO(buffer.getvalue()))
    image.load()
    return image


def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    raise ConversionError("encode_failed", f"exporter returned {type(data).__name__}", ErrorKind.INTERNAL)
