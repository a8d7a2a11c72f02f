from __future__ import annotations

from pathlib import Path

import pytest

from cad3d_depth.backends.onnx_runtime import OnnxRuntimeEstimator
from cad3d_depth.models import STANDIN_NAME, write_standin

from .photos import encode, scene

REPO = Path(__file__).resolve().parents[2]
CORPUS_IMAGES = REPO / ".." / "shared" / "corpus" / "images"


@pytest.fixture(scope="session")
def model_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Triton-style repository holding the freshly generated stand-in (the .onnx is git-ignored)."""
    root = tmp_path_factory.mktemp("models")
    write_standin(root)
    (root / STANDIN_NAME / "config.pbtxt").write_text((REPO / "models" / STANDIN_NAME / "config.pbtxt").read_text())
    return root


@pytest.fixture(scope="session")
def standin_path(model_repository: Path) -> Path:
    return model_repository / STANDIN_NAME / "1" / "model.onnx"


@pytest.fixture
def onnx_estimator(standin_path: Path) -> OnnxRuntimeEstimator:
    return OnnxRuntimeEstimator(standin_path, model_name=STANDIN_NAME, intra_op_threads=1)


@pytest.fixture(scope="session")
def photo_jpeg() -> bytes:
    return encode(scene(), "JPEG", quality=90)
