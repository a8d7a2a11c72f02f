"""The key tool: a new key is printed once, stored hashed, and accepted by the key ring."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cad3d_gateway.auth import KeyRing
from cad3d_gateway.keys import add_key
from cad3d_gateway.problems import ProblemError


def test_added_key_authenticates_with_its_tenant_and_scopes(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    key = add_key(path, "ci", "acme", ["read"])
    assert key not in path.read_text()  # only the hash is stored
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    principal = KeyRing.from_file(path).authenticate(f"Bearer {key}")
    assert (principal.key_id, principal.tenant, principal.scopes) == ("ci", "acme", frozenset({"read"}))
    second = add_key(path, "ops", "acme", ["read", "write", "admin"])
    ring = KeyRing.from_file(path)
    assert ring.authenticate(f"Bearer {second}").key_id == "ops" and ring.authenticate(f"Bearer {key}").key_id == "ci"
    with pytest.raises(ProblemError):
        ring.authenticate("Bearer not-a-key")


def test_duplicate_ids_and_unknown_scopes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    add_key(path, "ci", "acme", ["read"])
    with pytest.raises(ValueError, match="already"):
        add_key(path, "ci", "acme", ["read"])
    with pytest.raises(ValueError, match="unknown scopes"):
        add_key(path, "x", "acme", ["root"])
    assert len(json.loads(path.read_text())["keys"]) == 1


def test_command_line_prints_the_key(tmp_path: Path) -> None:
    path = tmp_path / "var" / "keys.json"
    run = subprocess.run(
        [sys.executable, "-m", "cad3d_gateway.keys", "--file", str(path), "--tenant", "dev"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    key = run.stdout.strip()
    assert key.startswith("c3d_")
    assert KeyRing.from_file(path).authenticate(f"Bearer {key}").tenant == "dev"
