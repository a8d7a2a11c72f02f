"""Gateway test fixtures: a nats-server of each test's own and a JetStream client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cad3d_kit.messaging import JetStream
from tests.support.servers import nats_server


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    with nats_server(tmp_path) as url:
        yield url


@pytest.fixture
async def js(nats_url: str, request: pytest.FixtureRequest) -> AsyncIterator[JetStream]:
    client = await JetStream.connect(nats_url, f"test-{request.node.name}"[:64])
    yield client
    await client.close()
