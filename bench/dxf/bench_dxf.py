"""DXF benchmark: ezdxf's own parse time vs our whole conversion, per corpus file and a large plan.

Each input runs in its own child process (so peak RSS belongs to that input alone): the child
imports everything, converts once to warm up, then times ezdxf's parse and our conversion
``--repeat`` times each and reports the medians. Peak RSS is read right after that first
conversion, before any ezdxf-only parse has run in the process: it is what one conversion needs
(imports and the input bytes included), not what ezdxf's own document costs. For inputs over
10 MB a further child records the peak RSS of each pipeline stage (profile_memory.py).
Not a test: run it with ``make bench`` or

    .venv/bin/python bench/dxf/bench_dxf.py [--corpus ../shared/corpus/dxf] [--plan-cells 100x100]

and it rewrites the "dxf" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(HERE))

CHILD = r"""
import json, resource, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
import logging
logging.disable(logging.CRITICAL)
import ezdxf, ezdxf.recover
from cad3d_dxf.core import DxfOptions, convert
from cad3d_kit.conversion import ConversionError
path, repeat, fmt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()

def status_kb(field):
    # Linux: this process image's own figures. ru_maxrss would also hold the parent's RSS at fork,
    # which exec() carries into the child's maximum (it read ~157 MB for every small input).
    try:
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

baseline_kb = status_kb("VmRSS")

def parse():
    try:
        ezdxf.readfile(path)
    except Exception:
        try:
            ezdxf.recover.readfile(path)
        except Exception:
            return False
    return True

def ours():
    try:
        result = convert(data, DxfOptions(format=fmt))
        return "ok", result.report["parts"]["count"], result.report["parts"]["all_watertight"]
    except ConversionError as exc:
        return exc.code, 0, True

outcome = ours()  # warm-up: imports, caches
peak_kb = status_kb("VmHWM")  # imports + input + one conversion
parse_times, convert_times = [], []
parsed = True
for _ in range(repeat):
    start = time.perf_counter(); parsed = parse(); parse_times.append(time.perf_counter() - start)
    start = time.perf_counter(); ours(); convert_times.append(time.perf_counter() - start)
print(json.dumps({
    "parse_s": statistics.median(parse_times),
    "convert_s": statistics.median(convert_times),
    "peak_rss_mb": peak_kb / 1024,
    "baseline_rss_mb": baseline_kb / 1024,
    "outcome": outcome[0], "parts": outcome[1], "watertight": outcome[2], "parsed": parsed,
}))
"""


def measure(path: Path, repeat: int, fmt: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(repeat), fmt],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "crashed"}
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def stage_peaks(path: Path, fmt: str) -> list[dict[str, Any]] | None:
    """Peak RSS per pipeline stage of one conversion in a fresh process (Linux only)."""
    completed = subprocess.run(
        [sys.executable, str(HERE / "profile_memory.py"), str(path), "--format", fmt, "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if completed.returncode != 0:
        return None
    return list(json.loads(completed.stdout.strip().splitlines()[-1])["stages"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / ".." / "shared" / "corpus" / "dxf")
    parser.add_argument(
        "--plan-cells", default="100x100", help="columns x rows of the generated plan (10 entities each)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", default="glb", choices=["glb", "stl", "obj", "dxf"])
    parser.add_argument("--no-write", action="store_true", help="print the table, do not touch docs/benchmarks.md")
    args = parser.parse_args()

    from generate_plan import plan_bytes

    inputs: list[tuple[str, Path]] = []
    if args.corpus.is_dir():
        inputs += [(p.name, p) for p in sorted(args.corpus.iterdir()) if p.is_file()]
    columns, rows = (int(v) for v in args.plan_cells.lower().split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="cad3d-bench-"))
    plan = tmp / f"generated_plan_{columns * rows * 10}_entities.dxf"
    plan.write_bytes(plan_bytes(columns, rows))
    inputs.append((plan.name, plan))

    load_before = os.getloadavg()[0]
    baselines: list[float] = []
    rows_out = []
    ratios = []
    big_inputs: list[tuple[str, float, float, list[dict[str, Any]] | None]] = []
    for name, path in inputs:
        result = measure(path, args.repeat, args.format)
        size_mb = path.stat().st_size / 2**20
        if "error" in result:
            rows_out.append(f"| `{name}` | {size_mb:.2f} | - | - | - | - | crashed: {result['error']} |")
            print(name, "ERROR", result["error"], flush=True)
            continue
        baselines.append(result["baseline_rss_mb"])
        if not result["parsed"]:
            rows_out.append(
                f"| `{name}` | {size_mb:.2f} | fails | {result['convert_s'] * 1000:.0f} | - | "
                f"{result['peak_rss_mb']:.0f} | {result['outcome']} (ezdxf cannot parse it either) |"
            )
            print(rows_out[-1], flush=True)
            continue
        ratio = result["convert_s"] / result["parse_s"] if result["parse_s"] > 0 else float("inf")
        ratios.append(ratio)
        outcome = (
            result["outcome"]
            if result["outcome"] != "ok"
            else (f"ok, {result['parts']} parts" + ("" if result["watertight"] else " (NOT all watertight)"))
        )
        rss_ratio = result["peak_rss_mb"] / size_mb if size_mb else 0.0
        if size_mb > 10:
            big_inputs.append((name, size_mb, result["peak_rss_mb"], stage_peaks(path, args.format)))
        rows_out.append(
            f"| `{name}` | {size_mb:.2f} | {result['parse_s'] * 1000:.0f} | {result['convert_s'] * 1000:.0f} | "
            f"{ratio:.2f} | {result['peak_rss_mb']:.0f} ({rss_ratio:.0f}x) | {outcome} |"
        )
        print(rows_out[-1], flush=True)

    load_after = os.getloadavg()[0]
    median_ratio = statistics.median(ratios) if ratios else float("nan")
    big_input_notes: list[str] = []
    for name, mb, rss, stages in big_inputs:
        big_input_notes.append(
            f"Peak RSS of `{name}` ({mb:.1f} MB input): {rss:.0f} MB = {rss / mb:.1f}x the input "
            f"(target: at most 20x for inputs over 10 MB) - {'met' if rss <= 20 * mb else 'NOT met'}."
        )
        if stages:
            big_input_notes += [
                "",
                f"Peak RSS per stage of one `{name}` conversion in a fresh process "
                "(`bench/dxf/profile_memory.py`; the peak is reset at each stage boundary). Besides "
                "the libraries and the input bytes, geometry holds the collected outlines and lines "
                "(the model space is streamed, never a whole ezdxf document); regions adds their "
                "shapely polygons and polygonising; extrude the parts' mesh pieces; export the "
                "layer meshes as trimesh holds them (float64 vertices, int64 indices) plus the "
                "file's buffers:",
                "",
                "| stage | peak RSS MB | x input | RSS at its end MB |",
                "|---|---:|---:|---:|",
                *(
                    f"| {row['stage']} | {row['peak_mb']:.0f} | {row['peak_mb'] / mb:.1f} "
                    f"| {row['rss_at_end_mb']:.0f} |"
                    for row in stages
                ),
            ]
    body = "\n".join(
        [
            f"Output format: {args.format}; medians of {args.repeat} warm runs per input, "
            "each input in its own process.",
            "Peak RSS is the whole child process through its first conversion, before any ezdxf-only "
            "parse: Python, numpy, shapely, trimesh and ezdxf loaded "
            f"({statistics.median(baselines) if baselines else float('nan'):.0f} MB before any input, median), "
            "the input bytes and one conversion.",
            f"Load average (1 min) on the {os.cpu_count()} cores before / after: {load_before:.2f} / "
            f"{load_after:.2f} (other work on this shared machine slows the times, not the memory).",
            "",
            "| Input | MB | ezdxf parse ms | our conversion ms | ratio | peak RSS MB (x input) | result |",
            "|---|---:|---:|---:|---:|---:|---|",
            *rows_out,
            "",
            f"**Median conversion / parse ratio: {median_ratio:.2f}** (target: at most 3).",
            *big_input_notes,
        ]
    )
    print(body)
    if not args.no_write:
        from report import write_section

        command = "python bench/dxf/bench_dxf.py " + " ".join(sys.argv[1:])
        write_section("dxf", "DXF -> 3D conversion vs ezdxf parse", command.strip(), body)


if __name__ == "__main__":
    main()
