"""PDF -> DXF benchmark: our core vs Inkscape's PDF import + DXF export, on the corpus PDFs.

Measures, per PDF: our conversion (median of ``--repeat`` warm runs, wall and process CPU),
pages per second, ms per 1000 path items, and what comes out (TEXT/MTEXT kept as text, SPLINEs
kept as curves). Inkscape (Debian's ``inkscape``) runs ``--export-type=dxf`` with its default
PDF import and with ``--pdf-poppler``; a run that hits ``--inkscape-timeout`` (180 s) counts as
the timeout. Inkscape is optional: without it only our numbers are written.

A generated sheet with curves and text joins the corpus (the SolidWorks corpus PDFs have no
Bézier curves), and a generated 20-page set measures throughput over many pages.

Not a test: run ``make bench`` or ``.venv/bin/python bench/pdf/bench_pdf.py [--corpus DIR]``;
it rewrites the "pdf" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import ezdxf
import pymupdf

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench"))

from report import write_section  # noqa: E402

from cad3d_pdf.core import PdfOptions, convert  # noqa: E402

DEFAULT_CORPUS = REPO / ".." / "shared" / "corpus" / "pdf"
TARGET_SPEEDUP = 30.0


@dataclass
class OurRun:
    pages: int
    path_items: int
    wall_s: float
    cpu_s: float
    entities: dict[str, int]
    text_count: int


@dataclass
class InkscapeRun:
    mode: str
    wall_s: float
    cpu_s: float
    timed_out: bool
    entities: dict[str, int] = field(default_factory=dict)
    error: str = ""


def generated_sheet() -> bytes:
    """One A3 sheet: arcs and circles as Béziers, dimension-like text, a title block."""
    doc = pymupdf.open()
    page = doc.new_page(width=1191, height=842)
    shape = page.new_shape()
    for row in range(6):
        for col in range(8):
            cx, cy = 120 + col * 130, 120 + row * 110
            shape.draw_circle((cx, cy), 35)
            shape.draw_bezier((cx - 50, cy + 40), (cx - 20, cy - 10), (cx + 20, cy + 90), (cx + 50, cy + 40))
            shape.draw_rect(pymupdf.Rect(cx - 55, cy - 45, cx + 55, cy + 50))
    shape.finish(color=(0, 0, 0), width=0.7)
    shape.commit()
    for row in range(6):
        for col in range(8):
            page.insert_text((75 + col * 130, 90 + row * 110), f"D{row}{col} Ø{20 + row * col}", fontsize=8)
    page.draw_rect(pymupdf.Rect(841, 742, 1171, 822), width=1.2)
    page.insert_text((851, 772), "GENERATED TEST SHEET  SCALE 1:10", fontsize=12)
    return doc.tobytes()


def generated_set(pages: int = 20) -> bytes:
    """A multi-page set of plans: many short strokes, text and curves on every page."""
    doc = pymupdf.open()
    for number in range(pages):
        page = doc.new_page(width=842, height=595)
        shape = page.new_shape()
        for k in range(400):
            x = 40 + (k * 37 + number * 11) % 760
            y = 40 + (k * 53 + number * 7) % 510
            shape.draw_line((x, y), (x + 30, y + (k % 3) * 10))
        for k in range(40):
            shape.draw_circle((60 + (k * 97) % 720, 60 + (k * 61) % 480), 8 + k % 5)
        shape.finish(color=(0, 0, 0), width=0.5)
        shape.commit()
        for k in range(60):
            page.insert_text((50 + (k * 131) % 700, 50 + (k * 71) % 500), f"ROOM {number}.{k}", fontsize=7)
    return doc.tobytes()


def run_ours(data: bytes, repeat: int) -> OurRun:
    result = convert(data, PdfOptions())  # warm-up (imports, font caches)
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = convert(data, PdfOptions())
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    report = result.report
    return OurRun(
        pages=report["pages_converted"],
        path_items=sum(p.get("path_items", 0) for p in report["pages"]),
        wall_s=statistics.median(walls),
        cpu_s=statistics.median(cpus),
        entities=report["entities"],
        text_count=report["text_count"],
    )


def run_inkscape(pdf: Path, mode: str, timeout: float, workdir: Path) -> InkscapeRun:
    out = workdir / f"{pdf.stem}-{mode}.dxf"
    args = [
        "inkscape",
        *(["--pdf-poppler"] if mode == "poppler" else []),
        "--export-type=dxf",
        f"--export-filename={out}",
        str(pdf),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    timed_out, error = False, ""
    # Its own process group, so a timeout also ends the DXF export helper it spawns.
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=timeout)
        if process.returncode != 0:
            error = stderr.decode(errors="replace").strip().splitlines()[-1:][0] if stderr else "failed"
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, 9)
        process.communicate()
    wall = timeout if timed_out else time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    entities: dict[str, int] = {}
    if not timed_out and out.exists():
        try:
            doc = ezdxf.readfile(str(out))
            entities = dict(Counter(e.dxftype() for e in doc.modelspace()))
        except (OSError, ezdxf.DXFError) as exc:
            error = f"unreadable DXF: {exc}"
    return InkscapeRun(mode, wall, cpu, timed_out, entities, error)


def _fmt_s(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _kept(entities: dict[str, int]) -> str:
    text = entities.get("TEXT", 0) + entities.get("MTEXT", 0)
    curves = entities.get("SPLINE", 0) + entities.get("ARC", 0) + entities.get("CIRCLE", 0)
    return f"{text} / {curves} / {sum(entities.values())}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--inkscape-timeout", type=float, default=180.0)
    parser.add_argument("--no-inkscape", action="store_true", help="measure our core only")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch docs/benchmarks.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        inputs: list[Path] = sorted(args.corpus.glob("*.pdf")) if args.corpus.is_dir() else []
        sheet = workdir / "generated-curves-and-text.pdf"
        sheet.write_bytes(generated_sheet())
        inputs.append(sheet)
        inkscape = None if args.no_inkscape else shutil.which("inkscape")
        version = ""
        if inkscape:
            version = subprocess.run([inkscape, "--version"], capture_output=True, text=True).stdout.strip()

        rows, speedups_wall, speedups_cpu = [], [], []
        total_pages = total_wall = total_items = 0.0
        for pdf in inputs:
            ours = run_ours(pdf.read_bytes(), args.repeat)
            total_pages += ours.pages
            total_wall += ours.wall_s
            total_items += ours.path_items
            per_k = ours.wall_s * 1000 / max(ours.path_items, 1) * 1000
            row = [
                pdf.name,
                str(ours.path_items),
                f"{ours.wall_s * 1000:.1f} ms",
                f"{ours.cpu_s * 1000:.1f} ms",
                f"{per_k:.1f}",
                _kept(ours.entities),
            ]
            if inkscape:
                runs = [run_inkscape(pdf, mode, args.inkscape_timeout, workdir) for mode in ("default", "poppler")]
                for run in runs:
                    cell = f">= {_fmt_s(run.wall_s)} (timeout)" if run.timed_out else _fmt_s(run.wall_s)
                    if run.error:
                        cell += f" ({run.error[:40]})"
                    row += [cell, f"{run.cpu_s:.1f} s", _kept(run.entities) if run.entities else "-"]
                fastest = min(runs, key=lambda r: r.wall_s)
                speedups_wall.append(fastest.wall_s / ours.wall_s)
                speedups_cpu.append(
                    min(r.cpu_s for r in runs if not r.timed_out) / ours.cpu_s
                    if any(not r.timed_out for r in runs)
                    else math.nan
                )
                row += [f"{fastest.wall_s / ours.wall_s:.0f}x", f"{speedups_cpu[-1]:.0f}x"]
            rows.append(row)
            print(" | ".join(row), flush=True)

        many = generated_set()
        set_run = run_ours(many, max(1, args.repeat // 2))

    header = ["PDF", "path items", "ours wall", "ours CPU", "ms / 1000 items", "ours text / curves / all"]
    if inkscape:
        header += [
            "Inkscape default wall",
            "CPU",
            "text / curves / all",
            "Inkscape --pdf-poppler wall",
            "CPU",
            "text / curves / all",
            "speed-up vs fastest (wall)",
            "(CPU)",
        ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    body = [
        "PDF -> DXF with the pdf core (`cad3d_pdf.core.convert`, default options: mm, OCG/style layers,",
        "exact SPLINEs, text as TEXT/MTEXT) on the corpus PDFs (SolidWorks A4 sheets) and a generated",
        "A3 sheet with Bézier curves and text. Ours: median of "
        f"{args.repeat} warm in-process runs. 'text / curves / all' counts TEXT+MTEXT, SPLINE+ARC+CIRCLE",
        "and all entities in the DXF written.",
        "",
        *lines,
        "",
        f"- Throughput over these inputs: {total_pages / total_wall:.1f} pages/s, "
        f"{total_wall * 1000 / max(total_items, 1) * 1000:.1f} ms per 1000 path items.",
        f"- Generated 20-page set ({set_run.path_items} path items): {set_run.pages / set_run.wall_s:.1f} pages/s, "
        f"{set_run.wall_s * 1000 / max(set_run.path_items, 1) * 1000:.1f} ms per 1000 path items "
        f"(CPU {set_run.cpu_s:.2f} s).",
    ]
    if inkscape:
        finite_cpu = [s for s in speedups_cpu if not math.isnan(s)]
        low_wall = min(speedups_wall)
        body += [
            f"- Inkscape: {version}; `inkscape [--pdf-poppler] --export-type=dxf`, timeout "
            f"{args.inkscape_timeout:.0f} s counted as the time. Its CPU column is the CPU time of"
            " inkscape and its export helper.",
            f"- Speed-up against Inkscape's fastest mode per file: wall {low_wall:.0f}x to {max(speedups_wall):.0f}x"
            f" (median {statistics.median(speedups_wall):.0f}x)"
            + (f", CPU {min(finite_cpu):.0f}x to {max(finite_cpu):.0f}x" if finite_cpu else "")
            + f". Target {TARGET_SPEEDUP:.0f}x: {'met' if low_wall >= TARGET_SPEEDUP else 'NOT met'} on wall time"
            " for every file.",
        ]
    else:
        body.append("- Inkscape not installed (`apt-get install -y inkscape`): comparison skipped.")
    text = "\n".join(body)
    print(text)
    if not args.no_write:
        command = "make bench  (or .venv/bin/python bench/pdf/bench_pdf.py)"
        write_section("pdf", "PDF -> DXF (pdf core vs Inkscape)", command, text)


if __name__ == "__main__":
    main()
