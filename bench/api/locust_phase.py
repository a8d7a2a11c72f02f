"""One benchmark phase: locust, headless, as a subprocess bounded in time; its CSV stats read back
(written by the locustfile once every user has ended; see there why not by ``--csv``).

A subprocess rather than locust's library API: gevent's monkey patching stays out of the process
that starts and stops the stack, and locust's CPU time is its own process's.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
LOCUST = Path(sys.executable).parent / "locust"


@dataclass(frozen=True)
class RequestStats:
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class PhaseResult:
    stats: dict[str, RequestStats]  # by locust request name
    tally: dict[str, Any]  # what the locustfile wrote at test stop (see Tally there)

    def request(self, name: str) -> RequestStats:
        return self.stats.get(name, RequestStats(0, 0, float("nan"), float("nan")))

    @property
    def wall_seconds(self) -> float:
        return float(self.tally["stopped_at"] - self.tally["started_at"])

    def cpu_seconds(self) -> dict[str, float]:
        before, after = self.tally["cpu_before"], self.tally["cpu_after"]
        return {name: after[name] - before[name] for name in after}


def millis(value: str) -> float:
    return float(value) if value not in ("", "N/A") else float("nan")


def read_stats(csv_path: Path) -> dict[str, RequestStats]:
    with csv_path.open(newline="") as handle:
        return {
            row["Name"]: RequestStats(
                int(row["Request Count"]), int(row["Failure Count"]), millis(row["50%"]), millis(row["95%"])
            )
            for row in csv.DictReader(handle)
            if row["Name"] != "Aggregated"
        }


def require_locust() -> None:
    if not LOCUST.exists():
        raise SystemExit(f"{LOCUST} missing: `make bench-api` installs the bench dependency group (locust)")


def run_phase(
    label: str, user_class: str, users: int, seconds: int, host: str, bench_dir: Path, stop_timeout: int = 60
) -> PhaseResult:
    """Run ``users`` users of ``user_class`` for ``seconds``, then let them finish their iteration."""
    require_locust()
    prefix = str(bench_dir / label)
    summary = Path(f"{prefix}_summary.json")
    log_path = bench_dir / f"{label}_locust.log"
    argv = [
        str(LOCUST),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        f"{stop_timeout}s",
        "--host",
        host,
        "--only-summary",
        "--loglevel",
        "WARNING",
        # Failures are read from the CSV and judged by bench_api.py, not by locust's exit code.
        "--exit-code-on-error",
        "0",
        user_class,
    ]
    env = {**os.environ, "CAD3D_BENCH_DIR": str(bench_dir), "CAD3D_BENCH_PREFIX": prefix}
    with log_path.open("wb") as log:
        done = subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=seconds + stop_timeout + 60)
    if done.returncode != 0 or not summary.exists():
        tail = log_path.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"locust ({label}) exited with {done.returncode}:\n{tail}")
    return PhaseResult(read_stats(Path(f"{prefix}_stats.csv")), json.loads(summary.read_text()))
