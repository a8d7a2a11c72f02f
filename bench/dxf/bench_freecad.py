"""Side by side with FreeCAD: headless DXF -> STL in ``freecadcmd`` vs our conversion to STL.

Needs Debian's ``freecad`` package (``apt-get install freecad``; ``freecadcmd`` on PATH). Not
part of the product or the tests. For every corpus file and the generated plan it runs
freecad_dxf_to_stl.py in a fresh freecadcmd (wall time, timeouts counted at the timeout) and our
core in a warm process (bench_dxf.measure, STL output), then rewrites the "dxf-freecad" section
of docs/benchmarks.md:

    .venv/bin/python bench/dxf/bench_freecad.py [--timeout 300] [--plan-cells 100x100]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(HERE))


def run_freecad(path: Path, timeout: float, work: Path) -> dict[str, Any]:
    result_file = work / "freecad.json"
    result_file.unlink(missing_ok=True)
    env = {
        **os.environ,
        "CAD3D_DXF": str(path),
        "CAD3D_STL": str(work / "freecad.stl"),
        "CAD3D_RESULT": str(result_file),
        "CAD3D_HEIGHT": "1000",
    }
    started = time.perf_counter()
    with subprocess.Popen(
        ["freecadcmd", str(HERE / "freecad_dxf_to_stl.py")],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as process:
        try:
            code = process.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
            code, timed_out = -9, True
    wall = time.perf_counter() - started
    inner: dict[str, Any] = json.loads(result_file.read_text()) if result_file.exists() else {}
    return {"wall_s": timeout if timed_out else wall, "timed_out": timed_out, "code": code, **inner}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / ".." / "shared" / "corpus" / "dxf")
    parser.add_argument("--plan-cells", default="100x100")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if shutil.which("freecadcmd") is None:
        raise SystemExit("freecadcmd not found: apt-get install freecad")

    from bench_dxf import measure
    from generate_plan import plan_bytes

    work = Path(tempfile.mkdtemp(prefix="cad3d-freecad-"))
    corpus = sorted(p for p in args.corpus.iterdir() if p.is_file()) if args.corpus.is_dir() else []
    columns, rows = (int(v) for v in args.plan_cells.lower().split("x"))
    plan = work / f"generated_plan_{columns * rows * 10}_entities.dxf"
    plan.write_bytes(plan_bytes(columns, rows))

    lines = []
    totals = {"freecad": 0.0, "ours": 0.0}
    plan_row = ""
    plan_ratio: float | None = None
    plan_bound: float | None = None
    for path in [*corpus, plan]:
        freecad = run_freecad(path, args.timeout, work)
        ours = measure(path, args.repeat, "stl")
        our_s = float(ours.get("convert_s", float("nan")))
        if freecad["timed_out"]:
            fc_text = f"timeout ({args.timeout:.0f} s)"
        elif freecad.get("stage") != "done":
            fc_text = f"failed in {freecad.get('stage', 'start')} after {freecad['wall_s']:.1f} s"
        else:
            fc_text = f"{freecad['solids']} solids, {freecad['watertight']} closed meshes"
        our_text = (
            ours.get("outcome", "crashed")
            if ours.get("outcome") != "ok"
            else f"{ours['parts']} parts" + ("" if ours.get("watertight") else " (not all closed)")
        )
        inner = freecad.get("total_s")
        row = (
            f"| `{path.name}` | {freecad['wall_s']:.2f} | {inner if inner is None else f'{inner:.2f}'} | "
            f"{fc_text} | {our_s:.3f} | {our_text} |"
        )
        print(row, flush=True)
        if path == plan:
            plan_row = row
            plan_inner = freecad.get("total_s")
            plan_ratio = (plan_inner / our_s) if plan_inner else None
            plan_bound = args.timeout / our_s if freecad["timed_out"] else None
        else:
            lines.append(row)
            totals["freecad"] += freecad["wall_s"]
            totals["ours"] += our_s
    ratio = totals["freecad"] / totals["ours"] if totals["ours"] else float("nan")
    body = "\n".join(
        [
            "FreeCAD 0.20 (Debian `freecad`, `freecadcmd` running bench/dxf/freecad_dxf_to_stl.py: C++ DXF "
            "importer, edges sorted into wires, closed wires faced and extruded 1000 units, tessellated at 0.1, "
            "STL) in a fresh process per file, wall time incl. start-up, timeouts counted at the timeout. "
            "Ours: cad3d-dxf core to STL in a warm process (median of runs).",
            "",
            "| Input | FreeCAD wall s | FreeCAD import+build+mesh s | FreeCAD result | ours s | our result |",
            "|---|---:|---:|---|---:|---|",
            *lines,
            f"| **corpus total** | **{totals['freecad']:.1f}** | | | **{totals['ours']:.2f}** | "
            f"**{ratio:.1f}x less time** (target: at least 10x) |",
            "",
            "Generated large plan (FreeCAD's own import+build+mesh time inside freecadcmd vs ours):",
            "",
            "| Input | FreeCAD wall s | FreeCAD import+build+mesh s | FreeCAD result | ours s | our result |",
            "|---|---:|---:|---|---:|---|",
            plan_row,
            "",
            f"Large plan: ours is {plan_ratio:.1f}x faster than FreeCAD's import+build+mesh (target: 10x)."
            if plan_ratio
            else f"Large plan: FreeCAD did not finish within the {args.timeout:.0f} s timeout, so ours is at least "
            f"{plan_bound:.1f}x faster (target: 10x)."
            if plan_bound
            else "Large plan: FreeCAD failed before finishing.",
        ]
    )
    print(body)
    if not args.no_write:
        from report import write_section

        command = "python bench/dxf/bench_freecad.py " + " ".join(sys.argv[1:])
        write_section("dxf-freecad", "DXF -> STL: FreeCAD headless vs cad3d-dxf", command.strip(), body)


if __name__ == "__main__":
    main()
