"""Runs conversion cores in worker processes with a time and memory budget.

Hostile drawings can make a parser spin or allocate without bound. A worker process with an
address-space limit (RLIMIT_AS) that is killed when its time is up is the only way to bound both
without trusting the parser. Workers are kept warm (imports done once) and only the worker of a
task that overran is killed; pebble does the per-task kill that concurrent.futures cannot.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing
import queue
import resource
import signal
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError as FutureCancelled
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from pebble import ProcessExpired, ProcessPool

from cad3d_kit.conversion import ConversionError, ConversionResult, ErrorKind, ProgressCallback, no_progress

log = logging.getLogger("cad3d.isolation")

# Worker-side state, set by the initializer.
_progress_queue: Any = None
_current_task = ""
_last_sent = 0.0
_sent_any = False  # whether the current task put any progress on the queue
# Progress crosses two processes and a network hop per event; nobody watches a bar move faster than
# this, and most conversions finish before the first interval is up (they then send none at all).
PROGRESS_INTERVAL = 0.1


def _init_worker(memory_mb: int, progress_queue: Any, preload: Sequence[str]) -> None:
    global _progress_queue
    _progress_queue = progress_queue
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    for module in preload:
        importlib.import_module(module)


def _emit(percent: float, stage: str, message: str) -> None:
    global _last_sent, _sent_any
    now = time.monotonic()
    if _progress_queue is not None and now - _last_sent >= PROGRESS_INTERVAL:
        _last_sent, _sent_any = now, True
        _progress_queue.put((_current_task, percent, stage, message))


def _resolve(target: str) -> Callable[..., ConversionResult]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _run_task(
    task_id: str, target: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[ConversionResult, bool]:
    """The target's result, and whether any progress of this task went on the queue."""
    global _current_task, _last_sent, _sent_any
    _current_task, _last_sent, _sent_any = task_id, time.monotonic(), False
    try:
        result = _resolve(target)(*args, progress=_emit, **kwargs)
        return result, _sent_any
    except MemoryError:
        raise ConversionError(
            "memory_budget_exceeded", "the conversion needed more memory than its budget", ErrorKind.RESOURCE_EXHAUSTED
        ) from None
    except ConversionError:
        raise
    except RecursionError:
        raise ConversionError(
            "input_too_complex", "the input nests too deeply to convert", ErrorKind.RESOURCE_EXHAUSTED
        ) from None
    finally:
        # End-of-task marker: the parent waits for it so no progress event arrives after the result.
        # Only after progress was sent: most conversions finish before the first interval is up,
        # and then there is nothing to wait for (no marker, no wait, no hand-off between threads).
        if _progress_queue is not None and _sent_any:
            _progress_queue.put((task_id, None, "", ""))


class IsolatedRunner:
    """A pool of warm worker processes; ``run`` executes ``module:function`` in one of them.

    The target is called as ``function(*args, progress=callback, **kwargs)`` and must return a
    ConversionResult or raise ConversionError.
    """

    def __init__(self, workers: int, timeout_seconds: float, memory_mb: int, preload: Sequence[str] = ()) -> None:
        self.timeout_seconds = timeout_seconds
        # spawn, not fork: the parent runs gRPC threads, which must never be forked.
        context = multiprocessing.get_context("spawn")
        self._progress: Any = context.Queue()
        self._listeners: dict[str, tuple[ProgressCallback, threading.Event]] = {}
        self._pool = ProcessPool(
            max_workers=workers,
            initializer=_init_worker,
            initargs=(memory_mb, self._progress, tuple(preload)),
            context=context,
        )
        self._closed = False
        self._reader = threading.Thread(target=self._read_progress, name="progress-reader", daemon=True)
        self._reader.start()

    def _read_progress(self) -> None:
        while not self._closed:
            try:
                task_id, percent, stage, message = self._progress.get(timeout=0.5)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            entry = self._listeners.get(task_id)
            if entry is None:
                continue
            listener, finished = entry
            if percent is None:
                finished.set()
                continue
            try:
                listener(percent, stage, message)
            except Exception:
                log.exception("progress listener failed")

    async def run(
        self,
        target: str,
        *args: Any,
        progress: ProgressCallback = no_progress,
        timeout_seconds: float | None = None,
        **kwargs: Any,
    ) -> ConversionResult:
        timeout = min(self.timeout_seconds, timeout_seconds) if timeout_seconds else self.timeout_seconds
        task_id = uuid.uuid4().hex
        finished = threading.Event()
        self._listeners[task_id] = (progress, finished)
        future = self._pool.schedule(_run_task, args=(task_id, target, args, kwargs), timeout=timeout)
        try:
            result, sent_progress = await asyncio.wrap_future(future)
            if sent_progress:
                await asyncio.to_thread(finished.wait, 2.0)
            return result
        except FutureTimeout:
            raise ConversionError(
                "conversion_timeout", f"the conversion did not finish within {timeout:g} s", ErrorKind.DEADLINE
            ) from None
        except ProcessExpired as exc:
            # Killed by the kernel (e.g. an allocation past RLIMIT_AS that did not raise) or crashed.
            raise ConversionError(
                "conversion_crashed",
                f"the conversion process ended unexpectedly (exit code {exc.exitcode}); the input may exceed limits",
                ErrorKind.RESOURCE_EXHAUSTED,
            ) from None
        except (asyncio.CancelledError, FutureCancelled):
            future.cancel()  # pebble kills the worker running it
            raise
        finally:
            self._listeners.pop(task_id, None)

    def close(self) -> None:
        self._closed = True
        self._pool.stop()
        self._pool.join(timeout=5)


def warmup(progress: ProgressCallback = no_progress) -> ConversionResult:
    """A no-op task: proves a worker can start and import its preloads (used by readiness)."""
    return ConversionResult(artifacts=[], report={"warm": True})


async def runner_ready(runner: IsolatedRunner) -> bool:
    result = await runner.run("cad3d_kit.isolation:warmup", timeout_seconds=60)
    return bool(result.report.get("warm"))
