"""Read artifacts back with trimesh (an independent reader) as concrete, typed objects."""

from __future__ import annotations

import io

import trimesh


def load_mesh(data: bytes, file_type: str) -> trimesh.Trimesh:
    mesh = trimesh.load(io.BytesIO(data), file_type=file_type, force="mesh")
    assert isinstance(mesh, trimesh.Trimesh)
    return mesh


def load_cloud(data: bytes) -> trimesh.PointCloud:
    cloud = trimesh.load(io.BytesIO(data), file_type="ply")
    assert isinstance(cloud, trimesh.PointCloud)
    return cloud
