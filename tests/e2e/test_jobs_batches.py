"""Batches against real servers: repeated files or one zip, per-file outcomes, reports as JSON, CSV
and HTML, and unsafe archives refused (bombs, nested archives, too many files)."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.support.fixtures import plate_with_hole

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
BROKEN_DXF = b"0\nSECTION\n2\nENTITIES\n0\nLINE\n10\nnot-a-number\n"
OPTIONS = {"options": '{"format": "stl", "height": 2}'}


def zip_of(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def post_batch(api: Api, files: list[tuple[str, bytes]], name: str = "alice", **headers: str) -> Any:
    return api.client.post(
        "/v1/batches",
        files=[("files", (filename, data)) for filename, data in files],
        data=OPTIONS,
        headers={**api.keys.auth(name), **headers},
    )


def finished_report(api: Api, url: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report: dict[str, Any] = api.client.get(url, headers=api.keys.auth("alice")).json()
        if report["finished"]:
            return report
        time.sleep(0.2)
    raise AssertionError(f"batch not finished: {report['totals']}")


def test_batch_of_files_reports_each_file_as_json_csv_and_html(api: Api) -> None:
    created = post_batch(
        api,
        [
            ("../../etc/first.dxf", plate_with_hole(20, 10, 2)),
            ("<i>second&.dxf", plate_with_hole(21, 10, 2)),
            ("notes.txt", b"just some words"),
            ("broken.dxf", BROKEN_DXF),
        ],
    )
    assert created.status_code == 202, created.text
    location = created.headers["location"]
    assert created.json()["totals"]["rejected"] == 1

    report = finished_report(api, location)
    assert report["totals"] == {
        "files": 4,
        "converted": 2,
        "failed": 1,
        "rejected": 1,
        "canceled": 0,
        "pending": 0,
        "warnings": report["totals"]["warnings"],
    }
    by_name = {f["filename"]: f for f in report["files"]}
    assert set(by_name) == {"first.dxf", "<i>second&.dxf", "notes.txt", "broken.dxf"}  # labels, not paths
    assert by_name["notes.txt"]["status"] == "rejected"
    assert by_name["notes.txt"]["error_code"] == "unsupported_media_type"
    assert by_name["broken.dxf"]["status"] == "failed" and by_name["broken.dxf"]["error_code"]
    job = api.client.get(by_name["first.dxf"]["href"], headers=api.keys.auth("alice")).json()
    assert job["batch_id"] == report["id"] and job["status"] == "succeeded"

    as_csv = api.client.get(location, headers={**api.keys.auth("alice"), "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert sorted(r["filename"] for r in rows) == sorted(by_name)
    assert {r["filename"]: r["status"] for r in rows}["broken.dxf"] == "failed"

    as_html = api.client.get(location, headers={**api.keys.auth("alice"), "Accept": "text/html;q=0.9, */*;q=0.1"})
    assert as_html.headers["content-type"].startswith("text/html")
    assert "&lt;i&gt;second&amp;.dxf" in as_html.text and "<i>second" not in as_html.text
    assert "2 converted, 1 failed, 1 rejected" in as_html.text

    refused = api.client.get(location, headers={**api.keys.auth("alice"), "Accept": "image/png"})
    assert refused.status_code == 406 and refused.json()["code"] == "not_acceptable"
    other = api.client.get(location, headers=api.keys.auth("bob"))
    assert other.status_code == 404 and other.json()["code"] == "batch_not_found"


def test_batch_from_one_zip(api: Api) -> None:
    archive = zip_of({"plans/a.dxf": plate_with_hole(30, 10, 2), "../b.dxf": plate_with_hole(31, 10, 2), "dir/": b""})
    created = post_batch(api, [("plans.zip", archive)])
    assert created.status_code == 202, created.text
    report = finished_report(api, created.headers["location"])
    assert report["totals"]["files"] == 2 and report["totals"]["converted"] == 2
    assert sorted(f["filename"] for f in report["files"]) == ["a.dxf", "b.dxf"]


@pytest.mark.parametrize(
    ("archive", "status", "code"),
    [
        (zip_of({"zeros.dxf": b"\0" * (5 << 20)}), 413, "zip_bomb"),  # unpacks past the 4 MiB limit
        (zip_of({"zeros.dxf": b"0\n" * (3 << 19)}), 413, "zip_bomb"),  # 3 MiB packed ~1000:1
        (
            zip_of({"inner.zip": zip_of({"a.dxf": plate_with_hole()}), "a.dxf": plate_with_hole()}),
            422,
            "nested_archive",
        ),
        (zip_of({f"{i}.dxf": plate_with_hole(10 + i) for i in range(6)}), 422, "too_many_files"),
        (b"PK\x03\x04 not really a zip", 422, "invalid_archive"),
    ],
    ids=["unpacked-total", "ratio", "nested", "too-many", "corrupt"],
)
def test_unsafe_zips_are_refused(api: Api, archive: bytes, status: int, code: str) -> None:
    before = api.get("alice", "/v1/conversions", limit=1).json()["items"]
    response = post_batch(api, [("upload.zip", archive)])
    assert response.status_code == status and response.json()["code"] == code, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert api.get("alice", "/v1/conversions", limit=1).json()["items"] == before  # no job was made


def test_too_many_repeated_files_are_refused(api: Api) -> None:
    response = post_batch(api, [(f"{i}.dxf", plate_with_hole(10 + i)) for i in range(6)])
    assert response.status_code == 422 and response.json()["code"] == "too_many_files"
