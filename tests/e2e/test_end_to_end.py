"""The whole path with real servers: HTTP -> gateway -> NATS JetStream -> dxf gRPC -> S3 -> download.

Every hop is checked on its own, so the test fails when any one of them is broken.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trimesh
from minio import Minio

from cad3d_gateway.auth import hash_key
from tests.support.fixtures import plate_with_hole
from tests.support.servers import (
    Process,
    S3Server,
    await_service,
    launch_service,
    nats_server,
    start_gateway,
    storage_env,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
BUCKET = "cad3d-e2e"


@pytest.fixture(scope="module")
def minio_client(s3: S3Server) -> Minio:
    client = Minio(s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key, secure=False)
    if not client.bucket_exists(BUCKET):
        client.make_bucket(BUCKET)  # in the cluster the chart's post-install job does this
    return client


@pytest.fixture(scope="module")
def services(
    tmp_path_factory: pytest.TempPathFactory, s3: S3Server, minio_client: Minio, standin_model: Path
) -> Iterator[dict[str, str]]:
    workdir = tmp_path_factory.mktemp("e2e-services")
    storage = storage_env(s3, None, BUCKET)
    started: list[Process] = []
    try:
        addresses = {}
        # Launch all three first, then wait: their start-ups overlap.
        for name, extra in (("dxf", {}), ("pdf", {}), ("depth", {"CAD3D_DEPTH_MODEL_PATH": str(standin_model)})):
            process, addresses[name] = launch_service(name, workdir, storage, extra)
            started.append(process)
        for process in started:
            await_service(process, addresses[process.name])
        yield addresses
    finally:
        for process in started:  # signal all, then wait: their drains overlap
            process.proc.terminate()
        for process in started:
            process.stop()


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The stack gateway's nats-server: each gateway here has its own, or one would run the other's jobs."""
    with nats_server(tmp_path_factory.mktemp("e2e-nats")) as url:
        yield url


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, s3: S3Server, nats_url: str, services: dict[str, str]
) -> Iterator[str]:
    # Clients reach the object store at the same address here; in a cluster it is the public one.
    public = {"CAD3D_GATEWAY_S3_PUBLIC_URL": f"http://{s3.endpoint}"}
    gateway, url = start_gateway(
        tmp_path_factory.mktemp("e2e"), storage_env(s3, None, BUCKET), nats_url, services, public
    )
    yield url
    gateway.stop()


@dataclass(frozen=True)
class SecuredGateway:
    url: str
    keys: dict[str, str]  # name -> plain key


@pytest.fixture(scope="module")
def secured(
    tmp_path_factory: pytest.TempPathFactory, s3: S3Server, services: dict[str, str]
) -> Iterator[SecuredGateway]:
    """A second gateway with API keys for two tenants and a small upload limit."""
    workdir = tmp_path_factory.mktemp("e2e-secured")
    keys = {"alice": "key-alice-rw", "reader": "key-alice-ro", "bob": "key-bob-rw"}
    entries = [
        {"id": "alice", "tenant": "alice", "sha256": hash_key(keys["alice"]), "scopes": ["read", "write"]},
        {"id": "reader", "tenant": "alice", "sha256": hash_key(keys["reader"]), "scopes": ["read"]},
        {"id": "bob", "tenant": "bob", "sha256": hash_key(keys["bob"]), "scopes": ["read", "write"]},
    ]
    keyfile = workdir / "keys.json"
    keyfile.write_text(json.dumps({"keys": entries}))
    with nats_server(workdir) as nats_url:
        gateway, url = start_gateway(
            workdir,
            storage_env(s3, None, BUCKET),
            nats_url,
            services,
            {"CAD3D_GATEWAY_API_KEYS_FILE": str(keyfile), "CAD3D_GATEWAY_MAX_UPLOAD_BYTES": str(1 << 20)},
        )
        yield SecuredGateway(url, keys)
        gateway.stop()


def test_dxf_upload_converts_through_every_hop(stack: str, minio_client: Minio, nats_url: str) -> None:
    drawing = plate_with_hole(100, 50, 20)
    with httpx.Client(base_url=stack, timeout=60) as client:
        response = client.post(
            "/v1/conversions",
            files={"file": ("../../etc/plate.dxf", drawing, "application/octet-stream")},
            data={"options": '{"format": "glb", "height": 10}'},
            headers={"Prefer": "wait=30"},
        )
        assert response.status_code == 200, response.text
        job = response.json()
        assert job["status"] == "succeeded", job
        assert job["kind"] == "dxf"
        assert job["input"]["filename"] == "plate.dxf"  # hostile path reduced to a label
        # The report crossed gRPC as a Struct (doubles only): its counts are integers again.
        assert job["report"]["dxf"]["parts"]["count"] == 1 and type(job["report"]["dxf"]["parts"]["count"]) is int
        assert response.headers["Location"].endswith(f"/v1/conversions/{job['id']}")

        # Hop: the job state is in JetStream KV, readable by any gateway.
        again = client.get(f"/v1/conversions/{job['id']}").json()
        assert again["status"] == "succeeded" and again["artifacts"] == job["artifacts"]

        # Hop: the dxf service wrote the model into S3 under the tenant/job prefix.
        names = {a["name"]: a for a in job["artifacts"]}
        assert {"model.glb", "report.json"} <= set(names)
        objects = {o.object_name for o in minio_client.list_objects(BUCKET, prefix="tenants/", recursive=True)}
        model_key = f"tenants/anonymous/jobs/{job['id']}/outputs/model.glb"
        assert model_key in objects
        assert f"tenants/anonymous/jobs/{job['id']}/input/source.dxf" in objects

        # Hop: download through the API (a redirect to a presigned S3 URL), then check the bytes.
        download = client.get(names["model.glb"]["href"], follow_redirects=False)
        assert download.status_code == 307
        model_bytes = httpx.get(download.headers["location"], timeout=30).content
        assert len(model_bytes) == names["model.glb"]["size"]
        assert hashlib.sha256(model_bytes).hexdigest() == names["model.glb"]["sha256"]

    mesh = trimesh.load(io.BytesIO(model_bytes), file_type="glb", force="mesh")  # node transforms applied
    assert mesh.is_watertight
    volume_m3 = mesh.volume  # glTF is in metres by specification
    assert volume_m3 * 1e9 == pytest.approx((100 * 50 - 20 * 20) * 10, rel=1e-6)


def test_unknown_content_is_refused_with_problem_json(stack: str) -> None:
    response = httpx.post(
        f"{stack}/v1/conversions", files={"file": ("plan.dxf", b"this is not a drawing", "image/vnd.dxf")}
    )
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unsupported_media_type"


def test_unreadable_drawing_fails_the_job_with_a_code(stack: str) -> None:
    broken = b"0\nSECTION\n2\nENTITIES\n0\nLINE\n10\nnot-a-number\n"
    response = httpx.post(
        f"{stack}/v1/conversions", files={"file": ("x.dxf", broken)}, headers={"Prefer": "wait=30"}, timeout=60
    )
    job = response.json()
    assert job["status"] == "failed", job
    assert job["error"]["code"] in {"dxf_unreadable", "nothing_to_extrude"}


def test_readiness_reports_every_dependency(stack: str) -> None:
    body = httpx.get(f"{stack}/readyz").json()
    assert body["status"] == "ready"
    assert body["checks"] == {"nats": "ok", "storage": "ok", "dxf": "ok", "pdf": "ok", "depth": "ok"}


def test_metrics_and_openapi_are_served(stack: str) -> None:
    metrics = httpx.get(f"{stack}/metrics").text
    assert "cad3d_http_requests_total" in metrics and "cad3d_jobs_created_total" in metrics
    schema = httpx.get(f"{stack}/openapi.json").json()
    assert "/v1/conversions" in schema["paths"] and "/v1/conversions/{job_id}/artifacts/{name}" in schema["paths"]
    assert httpx.get(f"{stack}/docs").status_code == 200


def test_web_page_posts_to_the_api_it_is_served_with(stack: str) -> None:
    page = httpx.get(f"{stack}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    schema = httpx.get(f"{stack}/openapi.json").json()
    # Every API path the page calls exists, and the form sends the fields the API reads.
    assert 'fetch("/v1/conversions"' in page.text and "/v1/conversions" in schema["paths"]
    form = schema["paths"]["/v1/conversions"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    fields = form.get("properties") or schema["components"]["schemas"][form["$ref"].rsplit("/", 1)[1]]["properties"]
    assert {"file", "options"} <= set(fields)
    assert 'body.append("file"' in page.text and 'body.append("options"' in page.text


def test_cli_server_mode_goes_through_the_gateway(stack: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    source = tmp_path / "plate.dxf"
    source.write_bytes(plate_with_hole(60, 40, 10))
    output = tmp_path / "plate.stl"
    cli = Path(sys.executable).parent / "cad3d"
    proc = subprocess.run(
        [str(cli), "convert", str(source), "-o", str(output), "--height", "5", "--server", stack],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    mesh = trimesh.load(output, file_type="stl")
    assert mesh.volume == pytest.approx((60 * 40 - 10 * 10) * 5, rel=1e-6)


def test_photo_becomes_a_relief_through_the_depth_service(stack: str) -> None:
    from PIL import Image

    photo = io.BytesIO()
    gradient = Image.linear_gradient("L").resize((320, 240)).convert("RGB")
    gradient.save(photo, format="JPEG")
    response = httpx.post(
        f"{stack}/v1/conversions",
        files={"file": ("room.jpg", photo.getvalue())},
        data={"options": '{"format": "glb", "target_triangles": 2000}'},
        headers={"Prefer": "wait=60"},
        timeout=90,
    )
    job = response.json()
    assert job["status"] == "succeeded", job
    assert job["kind"] == "image"
    relief = next(a for a in job["artifacts"] if a["name"].endswith(".glb"))
    data = httpx.get(relief["href"], follow_redirects=True, timeout=30).content
    mesh = trimesh.load(io.BytesIO(data), file_type="glb", force="mesh")
    assert 1000 <= len(mesh.faces) <= 4000


def test_pdf_chains_to_3d_through_pdf_and_dxf_services(stack: str) -> None:
    import pymupdf as fitz

    doc = fitz.open()
    page = doc.new_page(width=300, height=200)
    page.draw_rect(fitz.Rect(50, 50, 250, 150), color=(0, 0, 0), width=1)
    page.insert_text((60, 40), "PLATE A", fontsize=12)
    pdf = doc.tobytes()
    response = httpx.post(
        f"{stack}/v1/conversions",
        files={"file": ("plate.pdf", pdf)},
        data={"options": '{"format": "stl", "height": 3}'},
        headers={"Prefer": "wait=60"},
        timeout=90,
    )
    job = response.json()
    assert job["status"] == "succeeded", job
    names = {a["name"] for a in job["artifacts"]}
    assert any(n.endswith(".dxf") for n in names) and "model.stl" in names
    assert set(job["report"]) == {"pdf", "dxf"}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_api_keys_scopes_and_tenants(secured: SecuredGateway) -> None:
    url, keys = secured.url, secured.keys
    drawing = {"file": ("p.dxf", plate_with_hole())}
    missing = httpx.post(f"{url}/v1/conversions", files=drawing)
    assert missing.status_code == 401 and missing.json()["code"] == "unauthenticated"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.post(f"{url}/v1/conversions", files=drawing, headers=auth("nope"))
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_api_key"
    read_only = httpx.post(f"{url}/v1/conversions", files=drawing, headers=auth(keys["reader"]))
    assert read_only.status_code == 403 and read_only.json()["code"] == "insufficient_scope"

    created = httpx.post(
        f"{url}/v1/conversions", files=drawing, headers={**auth(keys["alice"]), "Prefer": "wait=30"}, timeout=60
    )
    assert created.status_code == 200, created.text
    job = created.json()
    assert httpx.get(job["links"]["self"], headers=auth(keys["reader"])).status_code == 200
    # Another tenant's job does not exist for bob, and neither do its artifacts.
    for link in (job["links"]["self"], job["artifacts"][0]["href"]):
        other = httpx.get(link, headers=auth(keys["bob"]))
        assert other.status_code == 404 and other.json()["code"] == "job_not_found"
    # Without a public object-store address the gateway streams the download itself (a presigned
    # URL for its in-cluster S3 endpoint would be useless to the client).
    artifact = job["artifacts"][0]
    download = httpx.get(artifact["href"], headers=auth(keys["reader"]), follow_redirects=False)
    assert download.status_code == 200, download.status_code
    assert hashlib.sha256(download.content).hexdigest() == artifact["sha256"]
    assert download.headers["content-type"].startswith(artifact["media_type"])


def test_oversize_upload_is_refused_while_streaming(secured: SecuredGateway) -> None:
    big = b"0\nSECTION\n" + b"9" * (2 << 20)
    response = httpx.post(
        f"{secured.url}/v1/conversions", files={"file": ("big.dxf", big)}, headers=auth(secured.keys["alice"])
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "payload_too_large"


def test_unknown_job_and_artifact(stack: str) -> None:
    assert httpx.get(f"{stack}/v1/conversions/{'0' * 32}").json()["code"] == "job_not_found"
    assert httpx.get(f"{stack}/v1/conversions/..%2F..%2Fetc").status_code == 404
