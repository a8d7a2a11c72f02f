"""Make an API key: ``python -m cad3d_gateway.keys --tenant acme --scopes read,write [--file keys.json]``.

Prints the new key once (only its sha256 is stored) and adds its entry to the key file, creating
the file when missing. ``make run`` uses it to print a development key.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from cad3d_gateway.auth import hash_key, new_key

SCOPES = ("read", "write", "admin")


def add_key(path: Path, key_id: str, tenant: str, scopes: list[str]) -> str:
    """A new key for ``tenant``, its hash appended to the key file at ``path``; returns the plain key."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}; choose from {SCOPES}")
    data = json.loads(path.read_text()) if path.exists() else {"keys": []}
    if any(entry.get("id") == key_id for entry in data["keys"]):
        raise ValueError(f"a key with id {key_id!r} is already in {path}")
    key = new_key()
    data["keys"].append({"id": key_id, "tenant": tenant, "sha256": hash_key(key), "scopes": scopes})
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n")
    os.chmod(temporary, 0o600)
    temporary.replace(path)
    return key


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=Path("var/api-keys.json"), help="key file to add to")
    parser.add_argument("--tenant", default="dev")
    parser.add_argument("--id", dest="key_id", default=None, help="key id (default: <tenant>-<n>)")
    parser.add_argument("--scopes", default="read,write", help="comma-separated: read, write, admin")
    args = parser.parse_args(argv)
    existing = json.loads(args.file.read_text())["keys"] if args.file.exists() else []
    key_id = args.key_id or f"{args.tenant}-{len(existing) + 1}"
    try:
        key = add_key(args.file, key_id, args.tenant, [s.strip() for s in args.scopes.split(",") if s.strip()])
    except ValueError as exc:
        parser.error(str(exc))
    print(key)


if __name__ == "__main__":
    main()
