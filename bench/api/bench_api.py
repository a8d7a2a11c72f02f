"""API benchmark: small DXF conversions through the whole stack on loopback, bounded in time.

Starts nats-server, the dxf service and a gateway (artifacts in a local folder, as ``make run``),
then drives it with locust, headless, in three phases (users in bench/api/locustfile.py):

1. convert: U users in a closed loop, each posting a distinct small drawing and following its events
   until the job ends; POST latency, completed conversions per second (first POST to last job
   finished), CPU seconds per conversion of each process (gateway, dxf service with its workers,
   nats-server, locust).
2. cache hit, one user: the latency of the cache-hit path itself (the target is judged on this).
3. cache hit, four users: the same path under concurrency.

Writes the "api" section of docs/benchmarks.md.  Usage: python bench/api/bench_api.py [--seconds 20]
(``make bench-api`` installs locust first: it is in the ``bench`` dependency group).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.api.locust_phase import PhaseResult, RequestStats, require_locust, run_phase  # noqa: E402
from bench.api.names import CACHE_NAME, EVENTS_NAME, OPTIONS, POST_NAME  # noqa: E402
from bench.report import write_section  # noqa: E402
from tests.support.fixtures import plate_with_hole  # noqa: E402
from tests.support.servers import Process, nats_server, start_gateway, start_service, storage_env  # noqa: E402


def nats_pid() -> int:
    """nats_server() yields only its URL; the nats-server binary is this process's child."""
    import psutil  # installed with locust (bench group), which main() checks before starting the stack

    for child in psutil.Process().children():
        if child.name() == "nats-server":
            return int(child.pid)
    raise RuntimeError("nats-server is not a child of this process")


def warm_up(url: str, drawing: bytes) -> None:
    """Convert the cache phases' drawing once, so every later POST of it is a cache hit."""
    response = httpx.post(
        f"{url}/v1/conversions",
        files={"file": ("plate.dxf", drawing)},
        data=OPTIONS,
        headers={"Prefer": "wait=60"},
        timeout=90,
    )
    if response.json().get("status") != "succeeded":
        raise RuntimeError(f"warm-up conversion did not succeed: {response.status_code} {response.text[:500]}")


def run_all(args: argparse.Namespace, workdir: Path) -> tuple[PhaseResult, PhaseResult, PhaseResult]:
    bench_dir = workdir / "locust"
    bench_dir.mkdir()
    (bench_dir / "template.dxf").write_bytes(plate_with_hole(50, 20, 5))
    cached = plate_with_hole(77, 33, 9)
    (bench_dir / "cached.dxf").write_bytes(cached)
    storage = storage_env(None, workdir / "artifacts", "cad3d")
    with nats_server(workdir) as nats_url:
        started: list[Process] = []
        try:
            dxf, address = start_service(
                "dxf",
                workdir,
                storage,
                {"CAD3D_DXF_LOG_LEVEL": "WARNING", "CAD3D_DXF_MAX_CONCURRENT_CONVERSIONS": str(args.dxf_workers)},
            )
            started.append(dxf)
            gateway, url = start_gateway(
                workdir,
                storage,
                nats_url,
                {"dxf": address},
                {
                    "CAD3D_GATEWAY_DISPATCHER_CONCURRENCY": str(args.dispatchers),
                    "CAD3D_GATEWAY_LOG_LEVEL": "WARNING",
                },
            )
            started.append(gateway)
            pids = {"gateway": gateway.proc.pid, "dxf service": dxf.proc.pid, "nats-server": nats_pid()}
            (bench_dir / "pids.json").write_text(json.dumps(pids))
            convert = run_phase("convert", "Converter", args.users, args.seconds, url, bench_dir)
            warm_up(url, cached)
            cache_1 = run_phase("cache-1", "CacheHit", 1, args.cache_seconds, url, bench_dir)
            cache_4 = run_phase("cache-4", "CacheHit", 4, args.cache_seconds, url, bench_dir)
        finally:
            for process in reversed(started):
                process.stop()
    return convert, cache_1, cache_4


def status_counts(*phases: PhaseResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for phase in phases:
        for key, n in phase.tally["statuses"].items():
            counts[key] = counts.get(key, 0) + n
    return counts


def errors(counts: dict[str, int]) -> int:
    """Answers other than 2xx and the intended 429 (status 0: no answer at all)."""
    return sum(n for key, n in counts.items() if not (200 <= int(key.rsplit(" ", 1)[1]) < 300 or key.endswith(" 429")))


def cpu_table(convert: PhaseResult) -> list[str]:
    cpu = convert.cpu_seconds()
    completed = convert.tally["succeeded"]
    wall = convert.wall_seconds
    rows = [
        "| Process | CPU s in the phase | CPU ms per completed conversion | Share of 2 cores |",
        "|---|---|---|---|",
    ]
    for name, seconds in [*sorted(cpu.items(), key=lambda kv: -kv[1]), ("all four", sum(cpu.values()))]:
        per_conversion = seconds / completed * 1000 if completed else math.nan
        rows.append(f"| {name} | {seconds:.1f} | {per_conversion:.1f} | {seconds / wall / 2:.0%} |")
    return rows


def report(
    args: argparse.Namespace, convert: PhaseResult, cache_1: PhaseResult, cache_4: PhaseResult, loads: tuple[float, ...]
) -> str:
    post, events = convert.request(POST_NAME), convert.request(EVENTS_NAME)
    hit_1, hit_4 = cache_1.request(CACHE_NAME), cache_4.request(CACHE_NAME)
    tally = convert.tally
    completed = tally["succeeded"]
    busy = (tally["last_finished_at"] or 0) - (tally["first_post_at"] or 0)
    per_second = completed / busy if completed and busy > 0 else 0.0
    counts = status_counts(convert, cache_1, cache_4)
    rate_limited = sum(p.tally["rate_limited"] for p in (convert, cache_1, cache_4))
    table = [
        "| Measure | Target | Result |",
        "|---|---|---|",
        f"| POST /v1/conversions p95 ({args.users} users, distinct drawings) | < 200 ms | {post.p95_ms:.0f} ms "
        f"(p50 {post.p50_ms:.0f} ms, {post.requests} posts) |",
        f"| Completed conversions per second | >= 50 | {per_second:.1f} ({completed} in {busy:.1f} s, first POST "
        "to last job finished) |",
        f"| Errors (other than 429) | 0 | {errors(counts)} (failed jobs {tally['failed_jobs']}; 429s "
        f"{rate_limited}; answers: {', '.join(f'{key} x{n}' for key, n in sorted(counts.items()))}) |",
        f"| POST accepted -> job finished (events stream) | - | p50 {events.p50_ms:.0f} ms, "
        f"p95 {events.p95_ms:.0f} ms |",
        f"| Cache-hit POST p95, 1 user (the path's latency) | < 20 ms | {hit_1.p95_ms:.0f} ms (p50 {hit_1.p50_ms:.0f} "
        f"ms, {hit_1.requests} posts, {hit_1.failures} failed: not 200 with X-Cache: hit) |",
        f"| Cache-hit POST p95, 4 users | - | {hit_4.p95_ms:.0f} ms (p50 {hit_4.p50_ms:.0f} ms, {hit_4.requests} "
        f"posts, {hit_4.failures} failed) |",
    ]
    setup = (
        "Setup: loopback, nats-server + cad3d-dxf + cad3d-gateway (one process each; dispatcher concurrency "
        f"{args.dispatchers}, dxf service with {args.dxf_workers} conversion workers), local artifact folder. "
        f"Load by locust (headless, FastHttpUser): {args.users} users (--run-time {args.seconds} s; "
        f"{convert.wall_seconds:.1f} s from locust's test start to the last user's end), each in a closed loop "
        "posting a distinct ~15 KB DXF plate (STL output; one plate made distinct by a leading DXF comment) "
        "and following the job's server-sent events until it ends, so the queue never holds more than "
        f"{args.users} jobs and backpressure (503) does not shape the run. Cache hits: one warm-up conversion, "
        f"then the same drawing posted for {args.cache_seconds} s by 1 user, then by 4; every answer must be "
        "200 with X-Cache: hit. The cache-hit target is judged on the 1-user figure (the path's own latency); "
        "the 4-user figure adds queueing behind the other users on the same cores. Percentiles are locust's "
        "(whole milliseconds, rounded to 10 ms above 100 ms). 429s would count as intended, not as errors, and "
        "enter locust's latencies (none expected: the gateway runs without a rate limit here). "
        "The load generator shares the 2 cores with the stack. "
        f"1-minute load average before/after: {loads[0]:.1f}/{loads[1]:.1f} (other work on the machine shows "
        "here)."
    )
    where = (
        "Where the CPU goes during the convert phase (CPU seconds from /proc/<pid>/stat at the phase's start "
        "and end, each process with its children, e.g. the dxf service's worker processes; the gateway's share "
        "includes serving every job's event stream to the users):"
    )
    missed = missed_paragraph(convert, per_second, post, hit_1, loads)
    return "\n".join([*table, "", setup, "", where, "", *cpu_table(convert), "", missed])


def missed_paragraph(
    convert: PhaseResult, per_second: float, post: RequestStats, hit_1: RequestStats, loads: tuple[float, ...]
) -> str:
    """Only what this run measured: which targets are missed, and the CPU arithmetic behind throughput."""
    cpu = convert.cpu_seconds()
    completed = convert.tally["succeeded"] or 1
    stack_ms = sum(v for k, v in cpu.items() if k != "locust") / completed * 1000
    all_ms = sum(cpu.values()) / completed * 1000
    parts = []
    if per_second < 50 and stack_ms > 0:
        parts.append(
            f"throughput ({per_second:.1f}/s): the stack used {stack_ms:.0f} CPU ms per completed conversion "
            f"({all_ms:.0f} ms with the load generator), so at that cost 2 cores with nothing else running would "
            f"complete at most {2000 / stack_ms:.0f} per second ({2000 / all_ms:.0f} with the load generator on "
            "them); 50/s needs under 40 CPU ms per conversion for everything together. The table shows which "
            "process spends it"
        )
    if post.p95_ms >= 200:
        parts.append(f"POST p95 ({post.p95_ms:.0f} ms): not broken down further by this benchmark")
    if hit_1.p95_ms >= 20:
        parts.append(
            f"cache-hit p95 ({hit_1.p95_ms:.0f} ms, p50 {hit_1.p50_ms:.0f} ms, one user): the gap between median and "
            "tail is not profiled here"
        )
    if not parts:
        return "Every target is met in this run."
    share = sum(cpu.values()) / convert.wall_seconds / 2
    busy = (
        f" The stack and locust used {share:.0%} of the 2 cores in the convert phase; other work on the machine "
        f"had the rest (1-minute load average {loads[0]:.1f} before, {loads[1]:.1f} after): these numbers come "
        "from a shared machine."
        if share < 0.9
        else ""
    )
    return "Where targets are missed: " + "; ".join(parts) + "." + busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20, help="length of the convert phase")
    parser.add_argument("--users", type=int, default=16, help="locust users in the convert phase")
    parser.add_argument("--cache-seconds", type=int, default=10, help="length of each cache-hit phase")
    parser.add_argument("--dispatchers", type=int, default=4, help="jobs the gateway's dispatcher runs at once")
    parser.add_argument("--dxf-workers", type=int, default=2, help="conversions the dxf service runs at once")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    require_locust()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="cad3d-bench-api-") as tmp:
        convert, cache_1, cache_4 = run_all(args, Path(tmp))
    body = report(args, convert, cache_1, cache_4, (load_before, os.getloadavg()[0]))
    print(body)
    if not args.no_write:
        write_section("api", "API: conversions through the whole stack", "make bench-api", body)


if __name__ == "__main__":
    main()
