"""``cad3d``: convert drawings, PDFs and photos to 3D, in-process or through a cad3d server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cad3d_kit.conversion import ConversionError, ConversionResult
from cad3d_kit.detect import DetectedInput, detect

app = typer.Typer(
    help=(
        "cad3d turns 2D engineering input into 3D: DXF/DWG drawings to GLB/STL/OBJ/3D DXF by extrusion, "
        "PDF drawings to DXF (and on to 3D), photos to relief meshes and point clouds.\n\n"
        "Two modes: by default `cad3d convert` runs the converters in this process, no server needed. "
        "With --server URL (and --api-key KEY) the same command sends the file to a cad3d gateway and "
        "downloads the result."
    ),
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

# The DXF core's input units (cad3d_dxf.core.units.OUTPUT_UNITS) and its two inference modes; a
# test keeps the list equal to the core's. Literal choices make typer refuse a typo before any work.
InputUnit = Literal["auto", "declared", "mm", "cm", "dm", "m", "km", "in", "ft", "yd", "um"]
# Flags that tell the DXF core how to read the drawing: DXF/DWG input, and PDFs converted to 3D.
SENSE_FLAGS = {
    "input_unit": "--input-unit",
    "sheet": "--sheet",
    "views": "--views",
    "plan": "--plan",
    "strict": "--strict",
}


@app.callback()
def _root() -> None:
    """cad3d command-line interface."""


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Input file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file; its extension picks the format.")],
    to: Annotated[str | None, typer.Option(help="Output format: glb, stl, obj, dxf, ply, depth_png.")] = None,
    height: Annotated[float | None, typer.Option(help="Default extrusion height (output units).")] = None,
    preset: Annotated[str | None, typer.Option(help="Extrusion preset: architecture or mechanical.")] = None,
    rules: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="Per-layer rules JSON.")] = None,
    layout: Annotated[str | None, typer.Option(help="Layout to read instead of modelspace.")] = None,
    unit: Annotated[str | None, typer.Option(help="Output unit (mm, cm, m, in, ft).")] = None,
    pages: Annotated[str | None, typer.Option(help="PDF page ranges, e.g. 1-3,5.")] = None,
    scale: Annotated[float | None, typer.Option(help="PDF drawing scale denominator (1:n).")] = None,
    solid_base: Annotated[bool, typer.Option(help="Photos: add a base so the relief is a closed solid.")] = False,
    model: Annotated[
        Path | None, typer.Option(help="Photos: ONNX depth model (default: CAD3D_DEPTH_MODEL_PATH).")
    ] = None,
    input_unit: Annotated[
        InputUnit | None,
        typer.Option(
            help="Drawings: what the drawing is in. auto (default) checks $INSUNITS against the drawing, "
            "declared trusts $INSUNITS, a unit name overrides both."
        ),
    ] = None,
    sheet: Annotated[
        Literal["auto", "keep"] | None,
        typer.Option(
            help="Drawings: auto (default) leaves out frame, title block, notes, dimensions; keep models them."
        ),
    ] = None,
    views: Annotated[
        Literal["auto", "all"] | None,
        typer.Option(
            help="Drawings: auto (default) builds one part per object from its main view; all extrudes every view."
        ),
    ] = None,
    plan: Annotated[
        Literal["auto", "plain"] | None,
        typer.Option(
            help="Drawings: auto (default) reads plans as walls, openings, rooms; plain extrudes lines as drawn."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Drawings: fail (strict_warnings) instead of converting with warnings.")
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="Write the conversion report (JSON) here, also when the conversion fails.")
    ] = None,
    preview: Annotated[
        Path | None, typer.Option(help="Write a PNG picture of the result here (model views, or the drawing).")
    ] = None,
    server: Annotated[
        str | None, typer.Option(help="Convert through this cad3d gateway instead of in-process.")
    ] = None,
    api_key: Annotated[str | None, typer.Option(envvar="CAD3D_API_KEY", help="API key for --server.")] = None,
) -> None:
    """Convert SOURCE into OUTPUT."""
    from cad3d_cli.outputs import failure_report, format_for, write_artifacts, write_report

    try:
        fmt = format_for(output, to)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    sense = {"input_unit": input_unit, "sheet": sheet, "views": views, "plan": plan, "strict": strict or None}
    extra: dict[str, Any] = {
        "height": height,
        "preset": preset,
        "layout": layout,
        "output_unit": unit,
        "unit": unit,
        "pages": pages,
        "scale": scale,
        "solid_base": solid_base or None,
        **sense,
    }
    if rules is not None:
        extra["rules_json"] = rules.read_text()
    data = source.read_bytes()
    detected = detect(data[:4096])
    if detected is None:
        console.print(f"[red]error[/red] unsupported_media_type: {source.name} is not a DXF/DWG, PDF or image")
        raise typer.Exit(2)
    problem = sense_problem(detected.kind, fmt, sense)
    if problem:
        console.print(f"[red]error[/red] invalid_options: {problem}")
        raise typer.Exit(2)
    target = Target(server, api_key, str(model) if model else None)
    try:
        result = _run(detected, source, data, fmt, extra, target)
    except ConversionError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.message}")
        if report is not None:
            # The report is what tells the user why: it is written for a failure too.
            asked = {k: v for k, v in extra.items() if v is not None and k != "rules_json"}
            write_report(failure_report(exc, source.name, {"format": fmt, **asked}), report)
        raise typer.Exit(1) from None

    written = write_artifacts(result.artifacts, output, fmt)
    if report is not None:
        write_report({"report": result.report, "warnings": [w.as_dict() for w in result.warnings]}, report)
    for warning in result.warnings[:20]:
        console.print(f"[yellow]warning[/yellow] {warning.code}: {warning.message}")
    if len(result.warnings) > 20:
        console.print(f"[yellow]… {len(result.warnings) - 20} more warnings (see --report)[/yellow]")
    for path in written:
        console.print(f"wrote {path} ({path.stat().st_size} bytes)")
    if preview is not None:
        _write_preview(result, preview, fmt, source.name, unit)


@dataclass(frozen=True)
class Target:
    """Where the conversion runs: a cad3d gateway (server) or this process (with its depth model)."""

    server: str | None
    api_key: str | None
    model: str | None


def sense_problem(kind: str, fmt: str, sense: dict[str, Any]) -> str | None:
    """Why the drawing-sense flags given cannot apply, or None.

    They steer the DXF core, which only DXF/DWG input and PDFs converted to 3D go through; elsewhere
    they would be dropped without a word, so they are refused instead."""
    given = [SENSE_FLAGS[name] for name, value in sense.items() if value is not None]
    if not given or kind == "dxf" or (kind == "pdf" and fmt in ("glb", "stl", "obj")):
        return None
    return f"{', '.join(given)} apply to DXF/DWG drawings and to PDFs converted to glb, stl or obj"


def remote_options(extra: dict[str, Any], fmt: str, kind: str, unit: str | None) -> dict[str, Any]:
    """The gateway's options for this input kind (its names where they differ from the core's)."""
    options = {k: v for k, v in extra.items() if v is not None and k not in ("unit", "output_unit")}
    if "rules_json" in options:
        options["rules"] = json.loads(options.pop("rules_json"))
    if unit:
        options["unit" if kind == "pdf" else "output_unit"] = unit
    return {"format": fmt, **options}


def _run(
    detected: DetectedInput, source: Path, data: bytes, fmt: str, extra: dict[str, Any], target: Target
) -> ConversionResult:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("converting", total=100)

        def on_progress(percent: float, stage: str, message: str) -> None:
            bar.update(task, completed=percent, description=stage or "converting")

        if target.server:
            from cad3d_cli.remote import convert_remote

            options = remote_options(extra, fmt, detected.kind, extra.get("unit"))
            return convert_remote(target.server, target.api_key, source, options, on_progress)
        from cad3d_cli.local import convert_in_process

        return convert_in_process(detected, data, fmt, extra, on_progress, target.model)


def _write_preview(result: ConversionResult, preview: Path, fmt: str, title: str, unit: str | None) -> None:
    from cad3d_cli.preview import write_preview

    try:
        notes = write_preview(result.artifacts, preview, fmt, title=title, unit=unit)
    except Exception as exc:  # the model is written; a picture that fails must still say so
        console.print(f"[red]error[/red] preview_failed: {exc}")
        raise typer.Exit(1) from None
    for note in notes:
        console.print(f"[yellow]preview[/yellow] {note}")
    console.print(f"wrote {preview} ({preview.stat().st_size} bytes)")
