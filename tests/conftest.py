"""Shared fixtures: real servers (nats-server, moto's S3 server) once per session, corpus paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import REPO, S3Server, s3_server

CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def servers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def s3(servers_dir: Path) -> Iterator[S3Server]:
    with s3_server(servers_dir) as server:
        yield server


@pytest.fixture(scope="session")
def standin_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in depth model (MiDaS small's interface), generated for this session."""
    from cad3d_depth.models import write_standin

    return write_standin(tmp_path_factory.mktemp("models"))
