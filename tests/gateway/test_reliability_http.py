"""Errors the API used to answer with a bare 500 or an empty ``http_400`` (reliability finding 5, and
the rest of finding 6): each is now a problem+json with a stable code, leaves nothing behind, and
every 5xx closes its connection. ``/readyz`` turns red when the store stops taking writes.

The API runs in-process (ASGI) on a real nats-server of each test's own; no service is needed, as
every request here is refused before a job would run."""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cad3d_gateway.app import create_app
from cad3d_gateway.settings import GatewaySettings
from tests.support.fixtures import plate_with_hole
from tests.support.servers import BIN, Process, free_port, port_open, start_process, wait_until


@contextlib.contextmanager
def killable_nats(workdir: Path) -> Iterator[tuple[str, Process]]:
    port = free_port()
    argv = [str(BIN / "nats-server"), "--jetstream", "--store_dir", str(workdir / "nats"), "--addr", "127.0.0.1"]
    process = start_process("nats", [*argv, "--port", str(port)], workdir)
    try:
        wait_until(lambda: port_open(port), 20, "nats-server", process.proc)
        yield f"nats://127.0.0.1:{port}", process
    finally:
        process.stop()


@contextlib.asynccontextmanager
async def gateway(nats_url: str, tmp_path: Path, **settings: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    config = GatewaySettings(
        nats_url=nats_url, storage_dir=tmp_path / "store", dxf_address="127.0.0.1:9", role="api", **settings
    )
    app = create_app(config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client, app


def stored_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "store").rglob("*") if p.is_file() and "tenants" in p.parts]


async def post(client: httpx.AsyncClient, options: str = "{}", **headers: str) -> httpx.Response:
    return await client.post(
        "/v1/conversions",
        files={"file": ("plate.dxf", plate_with_hole())},
        data={"options": options},
        headers={"Cache-Control": "no-cache", **headers},
    )


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code and problem["detail"], problem
    if status >= 500:
        assert response.headers["connection"] == "close"
    return problem


async def test_options_nested_too_deeply_are_a_422(nats_url: str, tmp_path: Path) -> None:
    async with gateway(nats_url, tmp_path) as (client, _):
        response = await post(client, '{"rules": ' + "[" * 2000 + "]" * 2000 + "}")
        assert "nest" in assert_problem(response, 422, "invalid_options")["detail"]
        assert stored_files(tmp_path) == []


async def test_nats_down_is_a_503_that_leaves_nothing(tmp_path: Path) -> None:
    with killable_nats(tmp_path) as (url, nats):
        async with gateway(url, tmp_path) as (client, app):
            nats.stop()
            for _ in range(200):  # the client notices the closed socket at once
                if not app.state.js.nc.is_connected:
                    break
                await asyncio.sleep(0.05)
            response = await post(client)
            assert_problem(response, 503, "queue_unavailable")
            assert response.headers["retry-after"]
            assert stored_files(tmp_path) == []


async def test_a_queue_failure_after_storing_removes_the_input(nats_url: str, tmp_path: Path) -> None:
    from nats.errors import TimeoutError as NatsTimeout

    async with gateway(nats_url, tmp_path) as (client, app):

        async def timeout(*args: Any, **kwargs: Any) -> Any:
            raise NatsTimeout

        app.state.js.publish = timeout  # NATS stops answering between the upload and the queueing
        response = await post(client, **{"Idempotency-Key": "k1"})
        assert_problem(response, 503, "queue_unavailable")
        assert stored_files(tmp_path) == []
        listing = (await client.get("/v1/conversions")).json()
        assert listing["items"] == []  # no job record left queued for ever
        del app.state.js.publish
        retried = await post(client, **{"Idempotency-Key": "k1"})  # the key's claim was released
        assert retried.status_code == 202, retried.text


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), 507, "storage_full"),
        (PermissionError(errno.EACCES, "Permission denied"), 503, "storage_unavailable"),
    ],
)
async def test_storage_that_refuses_writes_is_a_problem_not_a_500(
    nats_url: str, tmp_path: Path, error: OSError, status: int, code: str
) -> None:
    async with gateway(nats_url, tmp_path, storage_probe_seconds=0) as (client, app):
        assert (await client.get("/readyz")).json()["checks"]["storage"] == "ok"

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise error

        app.state.store.put_stream = refuse
        app.state.store.put = refuse
        assert_problem(await post(client), status, code)
        assert (await client.get("/v1/conversions")).json()["items"] == []
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["connection"] == "close"
        assert ready.json()["checks"]["storage"].startswith("error:")


async def test_readyz_probes_storage_at_most_every_interval(nats_url: str, tmp_path: Path) -> None:
    async with gateway(nats_url, tmp_path, storage_probe_seconds=60) as (client, app):
        writes = []
        put = app.state.store.put

        def counting(*args: Any, **kwargs: Any) -> Any:
            writes.append(args[0])
            return put(*args, **kwargs)

        app.state.store.put = counting
        for _ in range(5):
            assert (await client.get("/readyz")).status_code in (200, 503)
        assert len(writes) <= 1
        assert not any((tmp_path / "store").rglob("_probes/*/*"))  # the probe cleans up


async def test_an_unexpected_500_closes_the_connection(nats_url: str, tmp_path: Path) -> None:
    async with gateway(nats_url, tmp_path) as (client, app):

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("a bug")

        app.state.jobs.list = broken
        response = await client.get("/v1/conversions")
        assert_problem(response, 500, "internal_error")


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"content": b"--xx\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=yy"}},
        {"content": b"no boundary", "headers": {"content-type": "multipart/form-data"}},
        {"files": {"file": ("a" * 100_000 + ".dxf", b"0\nSECTION\n")}},
        {"files": {"file": ("a.dxf", b"0\nSECTION\n")}, "data": {"options": "x" * (2 << 20)}},
    ],
    ids=["boundary", "no-boundary", "long-filename", "2MB-options"],
)
async def test_unreadable_uploads_are_invalid_upload(
    nats_url: str, tmp_path: Path, request_kwargs: dict[str, Any]
) -> None:
    async with gateway(nats_url, tmp_path) as (client, app):
        response = await client.post("/v1/conversions", **request_kwargs)
        assert_problem(response, 400, "invalid_upload")
        assert "400" in app.openapi()["paths"]["/v1/conversions"]["post"]["responses"]
