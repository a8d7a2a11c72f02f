"""Install one service alone into a fresh virtual environment, the way its image does.

No Docker engine runs here, so the builder stage of services/<name>/Dockerfile is replayed: the
files its COPY lines bring into the build context are copied into an empty directory, and its
`uv sync` RUN lines run there with UV_PROJECT_ENVIRONMENT pointing at a temporary environment. A
missing COPY, a dependency only the dev tools provide, or a stale cached wheel fails here as it
would in `docker build`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.packaging.dockerfile_support import REPO_ROOT, parse_dockerfile

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


def build_context(service: str, context: Path) -> list[list[str]]:
    """Copy what the builder stage COPYs into context; return its `uv sync` commands as argv lists."""
    _, stages = parse_dockerfile(REPO_ROOT / "services" / service / "Dockerfile")
    builder = next(stage for stage in stages if stage.name == "builder")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for copy in builder.all("COPY"):
        if copy.startswith("--from="):
            continue
        *sources, destination = [part for part in copy.split() if not part.startswith("--")]
        # Relative destinations are under WORKDIR (/src), the root of the replayed context.
        into = context / destination
        for source in sources:
            origin = REPO_ROOT / source
            if origin.is_dir():  # Docker copies a directory's contents into the destination
                shutil.copytree(origin, into, ignore=ignore, dirs_exist_ok=True)
                continue
            target = into / origin.name if destination.endswith("/") else into
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
    commands = []
    for run in builder.all("RUN"):
        words = [word for word in shlex.split(run) if not word.startswith("--mount=")]
        if words[:2] == ["uv", "sync"]:
            commands.append(words)
    return commands


def install_service(uv: str, service: str, workdir: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Replay the image's builder stage; offline from uv's cache when it can. Returns the venv path."""
    context = workdir / "context"
    target = workdir / "venv"
    context.mkdir(parents=True)
    # The image compiles bytecode at build time; skipped here because it only costs time.
    env = clean_environment(
        {"UV_PROJECT_ENVIRONMENT": str(target), "UV_PYTHON_DOWNLOADS": "never", "UV_COMPILE_BYTECODE": "0"}
    )
    local = ["--python", sys.executable, "--link-mode", "hardlink", "--quiet"]
    result = subprocess.CompletedProcess[str]([], 0, "", "")
    for words in build_context(service, context):
        command = [uv, *words[1:], *local]
        result = subprocess.run(
            [*command, "--offline"], cwd=context, env=env, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            # A cold cache (fresh CI machine) needs the index once; the lock still pins every version.
            result = subprocess.run(command, cwd=context, env=env, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            break
    return target, result


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


def system_libraries(venv: Path) -> dict[str, set[str]]:
    """Shared libraries the venv's native code loads from outside the venv: {library: {extension}}.

    "not found" entries are reported too: a library neither bundled in a wheel nor on the system.
    """
    ldd = shutil.which("ldd")
    if ldd is None:
        raise FileNotFoundError("ldd")
    needed: dict[str, set[str]] = {}
    for library in venv.rglob("*.so*"):
        if not library.is_file() or library.is_symlink():
            continue
        result = subprocess.run([ldd, str(library)], capture_output=True, text=True, timeout=30)
        for line in result.stdout.splitlines():
            name, arrow, location = line.strip().partition(" => ")
            if not arrow:
                continue
            path = location.split(" (")[0].strip()
            if path == "not found" or not path.startswith(str(venv)):
                needed.setdefault(name if path != "not found" else f"{name} (not found)", set()).add(library.name)
    return needed
