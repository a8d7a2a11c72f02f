"""Convert the shared corpus (and any files given) and render each result to PNG, so a person can
look at what cad3d makes: ``make render``, then open var/render/index.html.

Per input, var/render/<stem>/ gets drawing.png (the 2D input), model.png (oblique + top views),
model.glb, report.json and summary.json. Each file is converted and rendered in its own process
with a time limit, through the same in-process conversion the CLI uses; a conversion that fails
is listed with its error code.
"""

from __future__ import annotations

import argparse
import html
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO / ".." / "shared" / "corpus"
DEFAULT_OUT = REPO / "var" / "render"
# Which preset fits which corpus file, by a word in its name; PDFs are mechanical drawings.
PRESETS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("floorplan", "house_plan", "architecture"), "architecture"),
    (("issue42", "laser_panel"), "mechanical"),
)
PDF_PRESET = "mechanical"
INPUT_SUFFIXES = (".dxf", ".pdf")


def preset_for(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".pdf"):
        return PDF_PRESET
    return next((preset for words, preset in PRESETS if any(word in name for word in words)), None)


def corpus_inputs(corpus: Path) -> list[Path]:
    found = [p for folder in ("dxf", "pdf") for p in sorted((corpus / folder).glob("*"))]
    return [p for p in found if p.suffix.lower() in INPUT_SUFFIXES]


def render_one(path: Path, out: Path, preset: str | None, fmt: str) -> dict[str, Any]:
    """Convert and render one input into ``out``; never raises for a bad input."""
    from cad3d_cli.local import convert_in_process
    from cad3d_cli.preview import render_drawing_png, render_pdf_page_png, write_preview
    from cad3d_kit.conversion import ConversionError, no_progress
    from cad3d_kit.detect import detect

    out.mkdir(parents=True, exist_ok=True)
    data = path.read_bytes()
    summary: dict[str, Any] = {"name": path.name, "preset": preset, "format": fmt, "ok": False, "notes": []}
    detected = detect(data[:4096])
    if detected is None:
        summary["error"] = {"code": "unsupported_media_type", "message": "not a DXF/DWG, PDF or image"}
        return summary
    summary["kind"] = detected.kind
    seconds: dict[str, float] = {}
    summary["seconds"] = seconds
    started = time.perf_counter()
    try:
        if detected.kind == "pdf":
            render_pdf_page_png(data, out / "drawing.png")
        else:
            summary["notes"] += render_drawing_png(data, out / "drawing.png", title=path.name)
    except Exception as exc:  # the drawing picture is a courtesy: the conversion still runs
        summary["notes"].append(f"drawing not rendered: {type(exc).__name__}: {exc}")
    seconds["drawing"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    try:
        result = convert_in_process(detected, data, fmt, {"preset": preset}, no_progress)
    except ConversionError as exc:
        summary["error"] = {"code": exc.code, "message": exc.message}
        return summary
    finally:
        seconds["convert"] = round(time.perf_counter() - started, 2)
    for artifact in result.artifacts:
        (out / artifact.name).write_bytes(artifact.data)
    report = {"report": result.report, "warnings": [w.as_dict() for w in result.warnings]}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    started = time.perf_counter()
    summary["notes"] += write_preview(result.artifacts, out / "model.png", fmt, title=path.name)
    seconds["model"] = round(time.perf_counter() - started, 2)
    summary.update(ok=True, **key_lines(result.report, [w.code for w in result.warnings]))
    return summary


def key_lines(report: dict[str, Any], warning_codes: list[str]) -> dict[str, Any]:
    """What a person checks first: the unit used, the size in metres, the parts, the warnings."""
    from cad3d_dxf.core.units import OUTPUT_UNITS

    dxf = report.get("dxf", report)  # a PDF's report holds the DXF conversion's under "dxf"
    units = dxf.get("units") or {}
    lines: dict[str, Any] = {"units": units, "warnings": len(warning_codes)}
    lines["warning_codes"] = dict(Counter(warning_codes).most_common(6))
    bbox, output = dxf.get("bbox") or {}, units.get("output")
    if "min" in bbox and "max" in bbox and output in OUTPUT_UNITS:
        factor = OUTPUT_UNITS[output]
        lines["size_m"] = [round((hi - lo) * factor, 4) for lo, hi in zip(bbox["min"], bbox["max"], strict=True)]
    parts = dxf.get("parts")
    lines["parts"] = parts.get("count") if isinstance(parts, dict) else parts
    return lines


def run_isolated(path: Path, out: Path, preset: str | None, fmt: str, timeout: float) -> dict[str, Any]:
    """``render_one`` in a child process, so a slow or crashing file costs only itself."""
    command = [sys.executable, __file__, "--one", str(path), "--out", str(out), "--format", fmt]
    if preset:
        command += ["--preset", preset]
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").unlink(missing_ok=True)
    started = time.perf_counter()
    with (out / "log.txt").open("w") as log:
        try:
            code = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False
            ).returncode
        except subprocess.TimeoutExpired:
            code = None
    elapsed = round(time.perf_counter() - started, 1)
    summary_path = out / "summary.json"
    if summary_path.exists():
        summary: dict[str, Any] = json.loads(summary_path.read_text())
    else:
        reason = f"over the {timeout:g} s limit" if code is None else f"the process ended with code {code}"
        summary = {"name": path.name, "preset": preset, "ok": False, "notes": []}
        summary["error"] = {"code": "timeout" if code is None else "crashed", "message": f"{reason}; see log.txt"}
    summary["elapsed"] = elapsed
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="more DXF/PDF files to render")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (dxf/, pdf/)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--preset", help="preset for every file instead of the table in this script")
    parser.add_argument("--format", default="glb", choices=("glb", "stl", "obj", "dxf"), help="model format")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds allowed per file")
    parser.add_argument("--only", help="only inputs whose name contains this")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        summary = render_one(args.one, args.out, args.preset, args.format)
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        return 0
    inputs = list(args.files)
    if args.corpus.is_dir():
        inputs = corpus_inputs(args.corpus) + inputs
    else:
        print(f"no corpus at {args.corpus}: rendering only the files given")
    if args.only:
        inputs = [p for p in inputs if args.only.lower() in p.name.lower()]
    if not inputs:
        print("nothing to render")
        return 0
    summaries = []
    for path in inputs:
        preset = args.preset or preset_for(path)
        summary = run_isolated(path, args.out / path.stem, preset, args.format, args.timeout)
        summary["folder"] = path.stem
        summaries.append(summary)
        status = "ok" if summary["ok"] else f"FAILED {summary['error']['code']}"
        print(f"{summary['elapsed']:7.1f} s  {path.name}  ({preset or 'no preset'})  {status}", flush=True)
        write_index(args.out, summaries)  # after each file, so a long run can be watched
    print(f"wrote {args.out / 'index.html'}")
    return 0


def write_index(out: Path, summaries: list[dict[str, Any]]) -> None:
    rows = "\n".join(_index_row(s) for s in summaries)
    (out / "index.html").write_text(_PAGE.format(count=len(summaries), rows=rows))


def _index_row(summary: dict[str, Any]) -> str:
    folder = html.escape(summary["folder"])
    facts = [f"preset: {summary.get('preset') or 'none'}; {summary['elapsed']} s ({_seconds(summary)})"]
    if summary.get("ok"):
        units = summary.get("units") or {}
        used = units.get("used", units.get("drawing", "?"))
        source = f" ({units['source']}, confidence {units.get('confidence')})" if "source" in units else ""
        facts.append(f"units: {used}{source}; declared {units.get('declared', units.get('drawing', '?'))}")
        size = summary.get("size_m")
        facts.append("size: " + (" x ".join(f"{v:.3f} m" for v in size) if size else "?"))
        facts.append(f"parts: {summary.get('parts')}")
        codes = ", ".join(f"{code} x{n}" for code, n in (summary.get("warning_codes") or {}).items())
        facts.append(f"warnings: {summary.get('warnings')}" + (f" ({codes})" if codes else ""))
    else:
        error = summary.get("error") or {}
        facts.append(f'<b class="error">failed: {html.escape(str(error.get("code")))}</b>: ')
        facts[-1] += html.escape(str(error.get("message", ""))[:400])
    facts += [f'<span class="note">{html.escape(note)}</span>' for note in summary.get("notes", [])]
    facts = [f if f.startswith("<") else html.escape(f) for f in facts]
    links = " ".join(
        f'<a href="{folder}/{name}">{name}</a>' for name in ("report.json", "model.glb", "log.txt", "summary.json")
    )
    return (
        f'<section><h2>{html.escape(summary["name"])}</h2><div class="pair">'
        f'<a href="{folder}/drawing.png"><img src="{folder}/drawing.png" alt="drawing"></a>'
        f'<a href="{folder}/model.png"><img src="{folder}/model.png" alt="model"></a></div>'
        f"<ul>{''.join(f'<li>{fact}</li>' for fact in facts)}</ul><p>{links}</p></section>"
    )


def _seconds(summary: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v} s" for k, v in (summary.get("seconds") or {}).items())


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cad3d renders ({count} files)</title>
<style>
body {{ font-family: sans-serif; margin: 1em 2em; }}
section {{ border-top: 1px solid #ccc; padding: 0.5em 0; }}
.pair {{ display: flex; gap: 8px; }}
.pair img {{ width: 100%; border: 1px solid #ddd; }}
.pair a {{ flex: 1; }}
.error {{ color: #b00; }}
.note {{ color: #a60; }}
</style></head><body>
<h1>cad3d renders: drawing (left) and model (right), {count} files</h1>
{rows}
</body></html>
"""


if __name__ == "__main__":
    sys.exit(main())
