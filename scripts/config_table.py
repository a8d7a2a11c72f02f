"""Renders the configuration reference (every setting of every component) from the settings classes.

`python scripts/config_table.py` prints the Markdown; `--write README.md` replaces the block between
the config markers. A test fails when README.md is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from cad3d_depth.settings import DepthSettings
from cad3d_dxf.settings import DxfSettings
from cad3d_gateway.settings import GatewaySettings
from cad3d_pdf.settings import PdfSettings

COMPONENTS: list[tuple[str, type[BaseSettings]]] = [
    ("gateway", GatewaySettings),
    ("dxf", DxfSettings),
    ("pdf", PdfSettings),
    ("depth", DepthSettings),
]
START, END = "<!-- config:start -->", "<!-- config:end -->"


def _default(value: object) -> str:
    if value is None or isinstance(value, SecretStr) or str(value) == "":
        return "(empty)"
    return f"`{value}`"


def render() -> str:
    lines = []
    for name, cls in COMPONENTS:
        prefix = cls.model_config.get("env_prefix", "")
        lines += [f"#### {name} (`{prefix}*`)", "", "| Variable | Default | Meaning |", "| --- | --- | --- |"]
        for field_name, field in cls.model_fields.items():
            # A field with a default_factory has no plain default (pydantic shows PydanticUndefined).
            default = field.get_default(call_default_factory=True)
            lines.append(f"| `{prefix}{field_name.upper()}` | {_default(default)} | {field.description or ''} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def replace_block(text: str, table: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}{END}{tail}"


if __name__ == "__main__":
    table = render()
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        path = Path(sys.argv[2])
        path.write_text(replace_block(path.read_text(), table))
    else:
        sys.stdout.write(table)
