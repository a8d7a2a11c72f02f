"""Peak RSS per pipeline stage of one DXF conversion (Linux only).

The conversion reports its stages through the progress callback; at each stage boundary this
reads the process's peak RSS since the last boundary (``VmHWM``) and resets it by writing ``5``
to ``/proc/self/clear_refs``, so every stage gets its own peak, not the running maximum.

    .venv/bin/python bench/dxf/profile_memory.py plan.dxf [--format glb] [--warm]
    .venv/bin/python bench/dxf/profile_memory.py --plan-cells 100x100

``--warm`` converts once before measuring, as a warm service worker would have, so the measured
run starts from a heap that already held one conversion. The rows are the pipeline's stages as
named in its progress events; "done" ends when ``convert`` returns (the result still held).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def profile(data: bytes, fmt: str) -> list[dict[str, float | str]]:
    from cad3d_dxf.core import DxfOptions, convert

    rows: list[dict[str, float | str]] = []
    stage = "start"

    def boundary(next_stage: str) -> None:
        nonlocal stage
        rows.append(
            {
                "stage": stage,
                "peak_mb": _status_kb("VmHWM") / 1024,
                "rss_at_end_mb": _status_kb("VmRSS") / 1024,
            }
        )
        stage = next_stage
        _reset_peak()

    def progress(percent: float, name: str, message: str) -> None:
        if name != stage:
            boundary(name)

    _reset_peak()
    result = convert(data, DxfOptions(format=fmt), progress)
    boundary("")
    del result
    gc.collect()
    return [row for row in rows if row["stage"] != "start"]  # "start": before the first event


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", nargs="?", type=Path)
    parser.add_argument("--plan-cells", help="generate the benchmark plan instead, e.g. 100x100")
    parser.add_argument("--format", default="glb", choices=["glb", "stl", "obj", "dxf"])
    parser.add_argument("--warm", action="store_true", help="convert once before measuring")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.plan_cells:
        from generate_plan import plan_bytes

        columns, rows = (int(v) for v in args.plan_cells.lower().split("x"))
        data = plan_bytes(columns, rows)
    elif args.input is not None:
        data = args.input.read_bytes()
    else:
        parser.error("give an input file or --plan-cells")
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)
    import cad3d_dxf.core  # noqa: F401  (imports are not part of any stage)

    gc.collect()
    baseline = _status_kb("VmRSS") / 1024
    if args.warm:
        profile(data, args.format)
    measured = profile(data, args.format)
    if args.json:
        print(json.dumps({"input_mb": len(data) / 2**20, "baseline_mb": baseline, "stages": measured}))
        return
    print(f"input {len(data) / 2**20:.1f} MB, RSS before the conversion {baseline:.0f} MB")
    print(f"{'stage':<10} {'peak MB':>8} {'x input':>8} {'RSS at end MB':>14}")
    for row in measured:
        peak = float(row["peak_mb"])
        print(f"{row['stage']!s:<10} {peak:8.0f} {peak / (len(data) / 2**20):8.1f} {float(row['rss_at_end_mb']):14.0f}")


if __name__ == "__main__":
    main()
