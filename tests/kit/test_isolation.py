"""The isolated runner bounds time and memory per conversion and keeps errors intact."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cad3d_kit.conversion import ConversionError, ErrorKind
from cad3d_kit.isolation import PROGRESS_INTERVAL, IsolatedRunner, runner_ready

TARGETS = "tests.kit.targets"


@pytest.fixture(scope="module")
def runner() -> Iterator[IsolatedRunner]:
    pool = IsolatedRunner(workers=1, timeout_seconds=20, memory_mb=1024, preload=[TARGETS])
    yield pool
    pool.close()


async def test_result_and_progress_cross_the_process_boundary(runner: IsolatedRunner) -> None:
    seen: list[float] = []
    pause = PROGRESS_INTERVAL * 1.5
    result = await runner.run(f"{TARGETS}:echo", b"abc", pause=pause, progress=lambda p, s, m: seen.append(p))
    assert result.artifacts[0].data == b"cba"
    assert result.report == {"size": 3}
    # Progress arrives through a queue read by a thread, and before the result.
    assert seen == [25.0, 50.0, 75.0]


async def test_progress_faster_than_the_interval_is_thinned(runner: IsolatedRunner) -> None:
    seen: list[float] = []
    result = await runner.run(f"{TARGETS}:echo", b"abc", progress=lambda p, s, m: seen.append(p))
    assert result.report == {"size": 3}
    assert seen == []  # three steps within the first interval: the result says the rest


async def test_conversion_error_keeps_code_and_kind(runner: IsolatedRunner) -> None:
    with pytest.raises(ConversionError) as info:
        await runner.run(f"{TARGETS}:refuse")
    assert info.value.code == "bad_input" and info.value.kind == ErrorKind.INVALID_INPUT


async def test_time_budget_kills_the_worker_and_the_pool_recovers(runner: IsolatedRunner) -> None:
    with pytest.raises(ConversionError) as info:
        await runner.run(f"{TARGETS}:sleep_for", 30, timeout_seconds=1)
    assert info.value.code == "conversion_timeout" and info.value.kind == ErrorKind.DEADLINE
    assert await runner_ready(runner)


async def test_memory_budget_is_enforced(runner: IsolatedRunner) -> None:
    with pytest.raises(ConversionError) as info:
        await runner.run(f"{TARGETS}:allocate", 4096)
    assert info.value.code in {"memory_budget_exceeded", "conversion_crashed"}
    assert info.value.kind == ErrorKind.RESOURCE_EXHAUSTED
    result = await runner.run(f"{TARGETS}:allocate", 16)
    assert result.report["allocated"] == 16 * 1024 * 1024
