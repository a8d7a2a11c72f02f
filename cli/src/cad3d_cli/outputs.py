"""Writing a conversion's artifacts to the paths the user asked for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cad3d_kit.conversion import ConversionError, OutputArtifact

FORMAT_BY_SUFFIX = {
    ".glb": "glb",
    ".stl": "stl",
    ".obj": "obj",
    ".dxf": "dxf",
    ".ply": "ply",
    ".png": "depth_png",
}


def format_for(output: Path, explicit: str | None) -> str:
    if explicit:
        return explicit.lower()
    fmt = FORMAT_BY_SUFFIX.get(output.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the output format from {output.name!r}; use --to")
    return fmt


def write_artifacts(artifacts: list[OutputArtifact], output: Path, fmt: str) -> list[Path]:
    """The main artifact goes to ``output``; companions (e.g. OBJ's MTL, extra pages) beside it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    suffix = output.suffix.lower()
    main = next((a for a in artifacts if a.name.lower().endswith(suffix)), None) or (
        artifacts[0] if artifacts else None
    )
    if main is None:
        raise ValueError("the conversion produced no artifact")
    written: list[Path] = []
    renames: dict[str, str] = {}
    for artifact in artifacts:
        if artifact is main:
            continue
        target = output.with_name(f"{output.stem}{Path(artifact.name).suffix}")
        if target == output or any(target == w for w in written):
            target = output.with_name(f"{output.stem}-{artifact.name}")
        renames[artifact.name] = target.name
        target.write_bytes(artifact.data)
        written.append(target)
    data = main.data
    if fmt == "obj":
        # The OBJ names its material library; keep the reference right after renaming it.
        text = data.decode()
        for old, new in renames.items():
            text = text.replace(f"mtllib {old}", f"mtllib {new}")
        data = text.encode()
    output.write_bytes(data)
    return [output, *written]


def write_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")


def failure_report(error: ConversionError, source: str, options: dict[str, Any]) -> dict[str, Any]:
    """The --report of a conversion that failed: its error code and message, and what was asked."""
    location = {k: v for k, v in vars(error.location).items() if v}
    detail = {"code": error.code, "message": error.message, **({"location": location} if location else {})}
    return {"error": detail, "source": source, "options": options}
