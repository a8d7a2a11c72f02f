"""Install one service alone into a fresh virtual environment, the way its image does.

The image runs `uv sync --frozen --no-dev --no-editable --package cad3d-<name>` into /opt/venv; this
module runs the same command into a temporary environment, so the test exercises exactly the set of
packages the image gets: the locked versions of what the member and the shared kit declare, nothing
from the dev tools or the other services.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.packaging.dockerfile_support import REPO_ROOT

# Environment variables of the test runner that would leak its own virtualenv into the child.
LEAKING_VARIABLES = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT", "CONDA_PREFIX")


def uv_binary() -> str | None:
    for candidate in (shutil.which("uv"), REPO_ROOT / ".tools" / "bin" / "uv", Path(sys.executable).parent / "uv"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    return None


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKING_VARIABLES}
    env.update(extra or {})
    return env


def install_service(uv: str, service: str, target: Path) -> subprocess.CompletedProcess[str]:
    """Sync the member's locked runtime dependencies into target; offline from uv's cache when it can."""
    command = [
        uv,
        "sync",
        "--frozen",
        "--no-dev",
        "--no-editable",
        "--package",
        f"cad3d-{service}",
        # uv keys its cache of a local package on pyproject.toml only: force fresh wheels of the
        # workspace members so new or changed source files are always in.
        "--reinstall-package",
        "cad3d-kit",
        "--reinstall-package",
        f"cad3d-{service}",
        "--python",
        sys.executable,
        "--link-mode",
        "hardlink",
        "--quiet",
    ]
    env = clean_environment({"UV_PROJECT_ENVIRONMENT": str(target), "UV_PYTHON_DOWNLOADS": "never"})
    result = subprocess.run(
        [*command, "--offline"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        # A cold cache (fresh CI machine) needs the index once; the lock still pins every version.
        result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    return result


def installed_bytes(root: Path) -> int:
    """Bytes of every regular file under root, each inode once (hard links are not double-counted)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            stat = os.lstat(os.path.join(directory, name))
            key = (stat.st_dev, stat.st_ino)
            if key not in seen and not os.path.islink(os.path.join(directory, name)):
                seen.add(key)
                total += stat.st_size
    return total


def installed_distributions(python: Path) -> set[str]:
    script = "import importlib.metadata as m; print(*sorted({d.metadata['Name'].lower() for d in m.distributions()}))"
    result = subprocess.run(
        [str(python), "-c", script], env=clean_environment(), capture_output=True, text=True, check=True, timeout=60
    )
    return set(result.stdout.split())


def largest_entries(venv: Path, count: int = 6) -> list[tuple[str, float]]:
    """The biggest top-level entries of site-packages in MB, to say what a size overrun is made of."""
    (site_packages,) = (venv / "lib").glob("python3*/site-packages")
    sizes = [(entry.name, installed_bytes(entry) / 1e6) for entry in site_packages.iterdir() if entry.is_dir()]
    return sorted(sizes, key=lambda item: item[1], reverse=True)[:count]
