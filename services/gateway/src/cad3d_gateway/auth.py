"""API keys as bearer tokens, stored hashed (sha256) in a JSON key file or a Kubernetes Secret.

Key file format::

    {"keys": [{"id": "ci", "tenant": "acme", "sha256": "<hex of sha256(key)>", "scopes": ["read", "write"]}]}

Without a key file (development only) every request acts as tenant ``anonymous`` with all scopes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fastapi import Request

from cad3d_gateway.problems import ProblemError

Scope = Literal["read", "write", "admin"]


@dataclass(frozen=True)
class Principal:
    key_id: str
    tenant: str
    scopes: frozenset[str]


ANONYMOUS = Principal("anonymous", "anonymous", frozenset({"read", "write", "admin"}))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return "c3d_" + secrets.token_urlsafe(32)


class KeyRing:
    def __init__(self, entries: dict[str, Principal] | None) -> None:
        self._by_hash = entries  # None = authentication disabled

    @classmethod
    def from_file(cls, path: Path | None) -> KeyRing:
        if path is None:
            return cls(None)
        data = json.loads(path.read_text())
        entries: dict[str, Principal] = {}
        for item in data.get("keys", []):
            digest = str(item["sha256"]).lower()
            if len(digest) != 64:
                raise ValueError(f"key {item.get('id')!r}: sha256 must be 64 hex characters")
            entries[digest] = Principal(str(item["id"]), str(item["tenant"]), frozenset(item.get("scopes", ["read"])))
        return cls(entries)

    @property
    def enabled(self) -> bool:
        return self._by_hash is not None

    def authenticate(self, authorization: str | None) -> Principal:
        if self._by_hash is None:
            return ANONYMOUS
        unauthorized = {"WWW-Authenticate": 'Bearer realm="cad3d"'}
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ProblemError(
                401, "unauthenticated", "An API key is required", "send Authorization: Bearer <key>", unauthorized
            )
        digest = hash_key(authorization[7:].strip())
        for known, principal in self._by_hash.items():
            if hmac.compare_digest(known, digest):
                return principal
        raise ProblemError(401, "invalid_api_key", "The API key is not valid", headers=unauthorized)


def require(scope: Scope):  # type: ignore[no-untyped-def]
    """FastAPI dependency: the caller, who must hold ``scope``."""

    async def dependency(request: Request) -> Principal:
        principal = request.app.state.keyring.authenticate(request.headers.get("authorization"))
        if scope not in principal.scopes:
            raise ProblemError(403, "insufficient_scope", f"This API key lacks the {scope!r} scope")
        buckets = getattr(request.app.state, "rate_limits", None)
        if buckets is not None and buckets.enabled:
            # The headers go on the response in app.py's middleware, whatever the route returns.
            request.state.rate_limit = buckets.take(principal.key_id)
        return principal

    return dependency
