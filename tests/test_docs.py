"""Documentation that is generated must match what ships."""

from __future__ import annotations

from pathlib import Path

from scripts.config_table import END, START, render

REPO = Path(__file__).resolve().parents[1]


def test_readme_configuration_table_is_current() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split(START, 1)[1].split(END, 1)[0]
    assert block.strip() == render().strip(), "run: .venv/bin/python scripts/config_table.py --write README.md"


def test_readme_shows_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text()
