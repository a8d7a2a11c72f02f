"""Conversions through a running cad3d gateway (`--server URL`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from cad3d_kit.conversion import ConversionError, ConversionResult, ErrorKind, OutputArtifact, ProgressCallback

TERMINAL = ("succeeded", "failed", "canceled")


def _raise_problem(response: httpx.Response) -> None:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    code = problem.get("code") or f"http_{response.status_code}"
    detail = problem.get("detail") or problem.get("title") or response.text[:200]
    raise ConversionError(code, f"{response.status_code}: {detail}", ErrorKind.INVALID_INPUT)


def convert_remote(
    server: str,
    api_key: str | None,
    source: Path,
    options: dict[str, Any],
    progress: ProgressCallback,
    timeout: float = 600.0,
) -> ConversionResult:
    headers = {"Prefer": "wait=10"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    with httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=60, follow_redirects=True) as client:
        with source.open("rb") as handle:
            response = client.post(
                "/v1/conversions", files={"file": (source.name, handle)}, data={"options": json.dumps(options)}
            )
        if response.status_code not in (200, 202):
            _raise_problem(response)
        job = response.json()
        deadline = time.monotonic() + timeout
        while job["status"] not in TERMINAL:
            if time.monotonic() > deadline:
                raise ConversionError(
                    "timeout", f"job {job['id']} still {job['status']} after {timeout:g} s", ErrorKind.DEADLINE
                )
            progress(float(job.get("progress", 0)), job.get("stage", ""), job["status"])
            time.sleep(0.5)
            response = client.get(job["links"]["self"])
            if response.status_code != 200:
                _raise_problem(response)
            job = response.json()
        if job["status"] != "succeeded":
            error = job.get("error") or {}
            raise ConversionError(error.get("code", job["status"]), error.get("message", "the job did not succeed"))
        artifacts = []
        for artifact in job["artifacts"]:
            if artifact["name"] == "report.json":
                continue
            download = client.get(artifact["href"])
            if download.status_code != 200:
                _raise_problem(download)
            artifacts.append(OutputArtifact(artifact["name"], artifact["media_type"], download.content))
        return ConversionResult(artifacts, job.get("report") or {}, [], job.get("converter_version", ""))
