"""CPU seconds of a process and everything it started, read from /proc (through psutil).

The dxf service runs its conversions in worker processes that may be replaced while the benchmark
runs; a replaced worker's time moves into its parent's "children" times once reaped, so summing each
live process's own and reaped-children times over the tree counts every CPU second exactly once.
"""

from __future__ import annotations

import contextlib

import psutil


def own_cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


def tree_cpu_seconds(pid: int) -> float:
    root = psutil.Process(pid)
    total = own_cpu_seconds(root)
    for child in root.children(recursive=True):
        # A worker may exit between listing and reading; its time then shows in its parent's.
        with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
            total += own_cpu_seconds(child)
    return total


def sample(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process tree."""
    return {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
