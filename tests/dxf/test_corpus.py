"""Every real drawing in ../shared/corpus/dxf converts to a valid mesh or fails with a documented code."""

from __future__ import annotations

import io

import pytest
import trimesh

from cad3d_dxf.core import ALL_ERROR_CODES, DxfOptions, convert
from cad3d_kit.conversion import ConversionError

from .helpers import CORPUS

CORPUS_DXF = CORPUS / "dxf"
FILES = sorted(CORPUS_DXF.iterdir()) if CORPUS_DXF.is_dir() else []


@pytest.mark.corpus
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_file_converts_or_fails_with_documented_code(path) -> None:  # type: ignore[no-untyped-def]
    try:
        result = convert(path.read_bytes(), DxfOptions())
    except ConversionError as exc:
        assert exc.code in ALL_ERROR_CODES
        print(f"{path.name}: {exc.code}: {exc.message}")
        return
    rep = result.report
    print(
        f"{path.name}: ok, {rep['parts']['count']} parts ({rep['parts']['watertight']} watertight), "
        f"{rep['passthrough_meshes']} meshes, read {rep['input']['read_mode']}"
    )
    assert rep["parts"]["all_watertight"]
    for part in rep["parts"]["items"]:
        assert part["volume"] == pytest.approx(part["area"] * part["height"], rel=1e-6)
    scene = trimesh.load(io.BytesIO(result.artifacts[0].data), file_type="glb")
    assert len(scene.geometry) >= 1
    assert sum(len(g.faces) for g in scene.geometry.values()) > 0


def test_corpus_is_present_or_skipped() -> None:
    if not FILES:
        pytest.skip("../shared/corpus/dxf is absent")
    assert all(p.is_file() for p in FILES)
