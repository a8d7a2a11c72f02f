"""``cad3d``: convert drawings, PDFs and photos to 3D, in-process or through a cad3d server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cad3d_kit.conversion import ConversionError
from cad3d_kit.detect import detect

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
    report: Annotated[Path | None, typer.Option(help="Write the conversion report (JSON) here.")] = None,
    server: Annotated[
        str | None, typer.Option(help="Convert through this cad3d gateway instead of in-process.")
    ] = None,
    api_key: Annotated[str | None, typer.Option(envvar="CAD3D_API_KEY", help="API key for --server.")] = None,
) -> None:
    """Convert SOURCE into OUTPUT."""
    from cad3d_cli.outputs import format_for, write_artifacts, write_report

    try:
        fmt = format_for(output, to)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    extra: dict[str, Any] = {
        "height": height,
        "preset": preset,
        "layout": layout,
        "output_unit": unit,
        "unit": unit,
        "pages": pages,
        "scale": scale,
        "solid_base": solid_base or None,
    }
    if rules is not None:
        extra["rules_json"] = rules.read_text()
    data = source.read_bytes()
    detected = detect(data[:4096])
    if detected is None:
        console.print(f"[red]error[/red] unsupported_media_type: {source.name} is not a DXF/DWG, PDF or image")
        raise typer.Exit(2)

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

        try:
            if server:
                from cad3d_cli.remote import convert_remote

                options = {k: v for k, v in extra.items() if v is not None and k not in ("unit", "output_unit")}
                if "rules_json" in options:
                    options["rules"] = json.loads(options.pop("rules_json"))
                if unit:
                    options["unit" if detected.kind == "pdf" else "output_unit"] = unit
                result = convert_remote(server, api_key, source, {"format": fmt, **options}, on_progress)
            else:
                from cad3d_cli.local import convert_in_process

                result = convert_in_process(detected, data, fmt, extra, on_progress, str(model) if model else None)
        except ConversionError as exc:
            console.print(f"[red]error[/red] {exc.code}: {exc.message}")
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
