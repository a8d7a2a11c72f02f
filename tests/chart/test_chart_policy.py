"""Policy assertions over every rendered object of every value set."""

from __future__ import annotations

import math
from typing import Any

import pytest

from cad3d_gateway.jobqueue import CONSUMER, job_stream
from tests.chart.chart_support import (
    RELEASE,
    VALUE_SETS,
    Manifest,
    by_kind,
    deep_merge,
    load_value_set,
    pod_labels,
    pod_spec,
    render,
    render_value_set,
    workloads,
)
from tests.chart.netpol_eval import allowed, egress_port_open, policies_selecting, selector_matches

ALL_SETS = sorted(VALUE_SETS)
# Value sets that keep the production defaults for scaling (dev and minimal turn it off on purpose).
SCALED_SETS = ("defaults", "gpu", "ha")
SCALABLE = ("gateway", "dispatcher", "dxf", "pdf", "depth", "triton")
CPU_SCALED = ("gateway", "dxf", "pdf")
HTTP_COMPONENTS = ("gateway", "dispatcher")
RECOMMENDED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "helm.sh/chart",
)


def component(manifest: Manifest) -> str:
    return manifest["metadata"]["labels"]["app.kubernetes.io/component"]


def deployments(value_set: str) -> dict[str, Manifest]:
    return {component(d): d for d in by_kind(render_value_set(value_set), "Deployment")}


def containers(workload: Manifest) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_of(value_set: str, workload: Manifest) -> dict[str, str]:
    """The container's environment: its ConfigMap (envFrom) and literal env values."""
    container = pod_spec(workload)["containers"][0]
    env: dict[str, str] = {}
    config_maps = {m["metadata"]["name"]: m for m in by_kind(render_value_set(value_set), "ConfigMap")}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]]["data"])
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return env


@pytest.mark.parametrize("value_set", ALL_SETS)
def test_recommended_labels_everywhere(value_set: str) -> None:
    for manifest in render_value_set(value_set):
        labels = manifest["metadata"].get("labels", {})
        missing = [label for label in RECOMMENDED_LABELS if label not in labels]
        assert not missing, f"{manifest['kind']}/{manifest['metadata']['name']} lacks {missing}"
        assert labels["app.kubernetes.io/instance"] == RELEASE
    for workload in workloads(render_value_set(value_set)):
        assert all(label in pod_labels(workload) for label in RECOMMENDED_LABELS), workload["metadata"]["name"]


@pytest.mark.parametrize("value_set", ALL_SETS)
def test_images_are_pinned(value_set: str) -> None:
    for workload in workloads(render_value_set(value_set)):
        for container in containers(workload):
            image = container["image"]
            name_and_tag = image.split("@")[0]
            assert ":" in name_and_tag.rsplit("/", 1)[-1], f"{image} has no tag"
            assert not name_and_tag.endswith(":latest"), image


@pytest.mark.parametrize("value_set", ALL_SETS)
def test_every_container_has_requests_and_limits(value_set: str) -> None:
    for workload in workloads(render_value_set(value_set)):
        for container in containers(workload):
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(bound, {})), (workload["metadata"]["name"], bound)


@pytest.mark.parametrize("value_set", ALL_SETS)
def test_hardened_security_context(value_set: str) -> None:
    for workload in workloads(render_value_set(value_set)):
        spec = pod_spec(workload)
        pod_context = spec["securityContext"]
        assert pod_context["runAsNonRoot"] is True
        assert pod_context["runAsUser"] != 0
        assert pod_context["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec["automountServiceAccountToken"] is False
        tmp_volumes = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for container in containers(workload):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert context.get("privileged", False) is False
            tmp_mounts = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp_mounts and tmp_mounts[0]["name"] in tmp_volumes, "writable /tmp on an emptyDir"


RESTRICTED_VOLUME_TYPES = {"configMap", "emptyDir", "secret", "projected", "downwardAPI", "csi", "ephemeral"}


@pytest.mark.parametrize("value_set", ALL_SETS)
def test_pods_meet_the_restricted_pod_security_standard(value_set: str) -> None:
    for workload in workloads(render_value_set(value_set)):
        spec = pod_spec(workload)
        for host_field in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(host_field), host_field
        for volume in spec.get("volumes", []):
            assert set(volume) - {"name"} <= RESTRICTED_VOLUME_TYPES, volume
        for container in containers(workload):
            assert all("hostPort" not in port for port in container.get("ports", []))
            added = container["securityContext"]["capabilities"].get("add", [])
            assert set(added) <= {"NET_BIND_SERVICE"}


@pytest.mark.parametrize("value_set", ALL_SETS)
def test_probes(value_set: str) -> None:
    for name, deployment in deployments(value_set).items():
        container = pod_spec(deployment)["containers"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert probe in container, f"{name} lacks {probe}"
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        if name in HTTP_COMPONENTS:
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        elif name == "triton":
            assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
            startup = container["startupProbe"]
            assert startup["periodSeconds"] * startup["failureThreshold"] >= 300, "model load needs minutes"
        else:
            readiness = container["readinessProbe"]["grpc"]
            assert readiness["port"] == ports["grpc"]
            assert readiness["service"] == f"cad3d.{name}.v1.{name.capitalize()}Service"
            # Liveness and startup use the kit's "liveness" health name, which ignores dependencies.
            for probe in ("livenessProbe", "startupProbe"):
                assert container[probe]["grpc"] == {"port": ports["grpc"], "service": "liveness"}
            env = env_of(value_set, deployment)
            prefix = f"CAD3D_{name.upper()}_"
            assert int(env[prefix + "GRPC_PORT"]) == ports["grpc"]
            assert int(env[prefix + "METRICS_PORT"]) == ports["metrics"]


@pytest.mark.parametrize("value_set", ALL_SETS)
def test_rollouts_never_cut_capacity_or_conversions(value_set: str) -> None:
    values = load_value_set(value_set)
    timeout = values.get("config", {}).get("conversionTimeoutSeconds", 300)
    for name, deployment in deployments(value_set).items():
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        spec = pod_spec(deployment)
        container = spec["containers"][0]
        pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pre_stop > 0
        grace = spec["terminationGracePeriodSeconds"]
        if name != "triton":
            env = env_of(value_set, deployment)
            prefix = "CAD3D_GATEWAY_" if name in HTTP_COMPONENTS else f"CAD3D_{name.upper()}_"
            drain = int(env.get(prefix + "SHUTDOWN_GRACE_SECONDS", env.get(prefix + "JOB_TIMEOUT_SECONDS", "0")))
            assert grace > pre_stop + drain, name
            assert grace > timeout, f"{name}: grace {grace}s must exceed the longest conversion {timeout}s"
        assert "checksum/config" in deployment["spec"]["template"]["metadata"].get("annotations", {}) or (
            name == "triton"
        )


@pytest.mark.parametrize("value_set", SCALED_SETS)
def test_each_scalable_component_has_pdb_and_autoscaler(value_set: str) -> None:
    manifests = render_value_set(value_set)
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind(manifests, "HorizontalPodAutoscaler")}
    scaled_objects = {s["spec"]["scaleTargetRef"]["name"]: s for s in by_kind(manifests, "ScaledObject")}
    pdbs = by_kind(manifests, "PodDisruptionBudget")
    for name, deployment in deployments(value_set).items():
        assert name in SCALABLE
        deployment_name = deployment["metadata"]["name"]
        template_labels = pod_labels(deployment)
        assert any(selector_matches(p["spec"]["selector"], template_labels) for p in pdbs), f"{name}: no PDB"
        assert (deployment_name in hpas) != (deployment_name in scaled_objects), f"{name}: one autoscaler"
        assert "replicas" not in deployment["spec"], "an autoscaled Deployment must leave replicas to it"
        if deployment_name in hpas:
            metrics = hpas[deployment_name]["spec"]["metrics"]
            if name in CPU_SCALED:
                assert metrics[0]["resource"]["name"] == "cpu"
            if name == "triton":
                assert metrics[0]["type"] == "Pods"
                assert metrics[0]["pods"]["metric"]["name"] == "triton_avg_queue_time_us"


# Which setting enables which job kind in the gateway (cad3d_gateway.backends.Backends).
KIND_ADDRESSES = {
    "dxf": "CAD3D_GATEWAY_DXF_ADDRESS",
    "pdf": "CAD3D_GATEWAY_PDF_ADDRESS",
    "image": "CAD3D_GATEWAY_DEPTH_ADDRESS",
}


def keda_triggers_and_pulled_streams(manifests: tuple[Manifest, ...] | list[Manifest]) -> tuple[set[Any], set[Any]]:
    """(stream, consumer) of the ScaledObject's JetStream triggers, and of the kinds the dispatcher pods pull."""
    (scaled_object,) = by_kind(manifests, "ScaledObject")
    triggers = {
        (t["metadata"]["stream"], t["metadata"]["consumer"])
        for t in scaled_object["spec"]["triggers"]
        if t["type"] == "nats-jetstream"
    }
    (dispatcher,) = [d for d in by_kind(manifests, "Deployment") if component(d) == "dispatcher"]
    config_maps = {m["metadata"]["name"]: m["data"] for m in by_kind(manifests, "ConfigMap")}
    env: dict[str, str] = {}
    for source in pod_spec(dispatcher)["containers"][0].get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    pulled = {(job_stream(kind), CONSUMER) for kind, name in KIND_ADDRESSES.items() if env.get(name)}
    return triggers, pulled


def test_keda_scales_the_dispatchers_on_jetstream_lag() -> None:
    (scaled_object,) = by_kind(render_value_set("ha"), "ScaledObject")
    assert scaled_object["spec"]["scaleTargetRef"]["name"] == f"{RELEASE}-cad3d-dispatcher"
    jetstream = [t for t in scaled_object["spec"]["triggers"] if t["type"] == "nats-jetstream"]
    assert {t["metadata"]["natsServerMonitoringEndpoint"] for t in jetstream} == {"nats.messaging.svc:8222"}
    assert "cpu" in {t["type"] for t in scaled_object["spec"]["triggers"]}
    # One trigger per kind's stream, exactly the streams (and consumer) the dispatcher pods pull.
    triggers, pulled = keda_triggers_and_pulled_streams(render_value_set("ha"))
    assert (
        triggers
        == pulled
        == {("CAD3D_JOBS_DXF", "dispatchers"), ("CAD3D_JOBS_PDF", "dispatchers"), ("CAD3D_JOBS_IMAGE", "dispatchers")}
    )


def test_keda_triggers_follow_the_enabled_kinds() -> None:
    values = deep_merge(load_value_set("ha"), {"components": {"pdf": {"enabled": False}, "depth": {"enabled": False}}})
    triggers, pulled = keda_triggers_and_pulled_streams(render(values))
    assert triggers == pulled == {(job_stream("dxf"), CONSUMER)}


@pytest.mark.parametrize(
    ("value_set", "roles"), [("defaults", {"gateway": "all"}), ("ha", {"gateway": "api", "dispatcher": "worker"})]
)
def test_dispatchers_run_in_the_gateway_or_on_their_own(value_set: str, roles: dict[str, str]) -> None:
    found = deployments(value_set)
    assert {n: env_of(value_set, found[n])["CAD3D_GATEWAY_ROLE"] for n in HTTP_COMPONENTS if n in found} == roles
    if "dispatcher" in found:
        gateway_image = pod_spec(found["gateway"])["containers"][0]["image"]
        assert pod_spec(found["dispatcher"])["containers"][0]["image"] == gateway_image
        assert not [
            i
            for i in by_kind(render_value_set(value_set), "Ingress")
            if i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"].endswith("dispatcher")
        ]


@pytest.mark.parametrize("value_set", ["defaults", "gpu", "ha"])
def test_triton_runs_on_gpu_nodes_from_the_s3_model_repository(value_set: str) -> None:
    triton = deployments(value_set)["triton"]
    spec = pod_spec(triton)
    container = spec["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] >= 1
    assert spec["nodeSelector"]
    assert any(t["key"] == "nvidia.com/gpu" for t in spec["tolerations"])
    repository = next(a for a in container["args"] if a.startswith("--model-repository="))
    assert repository.startswith("--model-repository=s3://")
    env_names = {e["name"] for e in container["env"]}
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= env_names
    assert "--load-model=midas_v21_small_256" in container["args"]


def test_cpu_only_depth_runs_onnxruntime_with_the_model_from_the_bucket() -> None:
    depth = deployments("cpu-only")["depth"]
    env = env_of("cpu-only", depth)
    assert env["CAD3D_DEPTH_BACKEND"] == "onnxruntime"
    assert "CAD3D_DEPTH_TRITON_URL" not in env
    (init,) = pod_spec(depth)["initContainers"]
    model_mount = next(m for m in init["volumeMounts"] if m["name"] == "models")
    assert env["CAD3D_DEPTH_MODEL_PATH"].startswith(model_mount["mountPath"] + "/")


@pytest.mark.parametrize("value_set", ALL_SETS)
def test_services_route_to_named_container_ports(value_set: str) -> None:
    manifests = render_value_set(value_set)
    pods = workloads(manifests)
    for service in by_kind(manifests, "Service"):
        targets = [p for p in pods if selector_matches({"matchLabels": service["spec"]["selector"]}, pod_labels(p))]
        assert len(targets) == 1, service["metadata"]["name"]
        port_names = {p["name"] for p in pod_spec(targets[0])["containers"][0]["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names


@pytest.mark.parametrize("value_set", ALL_SETS)
def test_gateway_and_depth_addresses_point_at_real_services(value_set: str) -> None:
    manifests = render_value_set(value_set)
    services = {s["metadata"]["name"]: {p["port"] for p in s["spec"]["ports"]} for s in by_kind(manifests, "Service")}
    found = deployments(value_set)
    addresses = {k: v for k, v in env_of(value_set, found["gateway"]).items() if k.endswith("_ADDRESS")}
    if "depth" in found:
        addresses.update({k: v for k, v in env_of(value_set, found["depth"]).items() if k.endswith("TRITON_URL")})
    expected = {f"CAD3D_GATEWAY_{n.upper()}_ADDRESS" for n in ("dxf", "pdf", "depth") if n in found}
    assert expected <= set(addresses)
    for key, address in addresses.items():
        host, port = address.rsplit(":", 1)
        assert int(port) in services[host], key


@pytest.mark.parametrize("value_set", ALL_SETS)
def test_every_pod_is_covered_by_network_policies(value_set: str) -> None:
    manifests = render_value_set(value_set)
    policies = by_kind(manifests, "NetworkPolicy")
    if not load_value_set(value_set).get("networkPolicy", {}).get("enabled", True):
        assert policies == []
        return
    default_deny = [p for p in policies if p["metadata"]["name"].endswith("default-deny")]
    assert len(default_deny) == 1 and "ingress" not in default_deny[0]["spec"]
    for workload in workloads(manifests):
        labels = pod_labels(workload)
        assert selector_matches(default_deny[0]["spec"]["podSelector"], labels)
        own = [p for p in policies_selecting(policies, labels, "Egress") if p is not default_deny[0]]
        assert own, f"{workload['kind']}/{workload['metadata']['name']} has no policy of its own"
        assert egress_port_open(policies, labels, 53), "DNS"


ARCHITECTURE_PATHS = [
    ("gateway", "dxf", "grpc", True),
    ("dispatcher", "dxf", "grpc", True),
    ("dispatcher", "depth", "grpc", True),
    ("dispatcher", "triton", "grpc", False),
    ("helm-test", "dispatcher", "http", False),
    ("gateway", "pdf", "grpc", True),
    ("gateway", "depth", "grpc", True),
    ("depth", "triton", "grpc", True),
    ("helm-test", "gateway", "http", True),
    ("gateway", "triton", "grpc", False),
    ("dxf", "triton", "grpc", False),
    ("dxf", "pdf", "grpc", False),
    ("pdf", "gateway", "http", False),
    ("triton", "depth", "grpc", False),
]


def present_components(value_set: str) -> set[str]:
    return {w["metadata"]["labels"]["app.kubernetes.io/component"] for w in workloads(render_value_set(value_set))}


PATH_CASES = [
    pytest.param(value_set, *path, id=f"{value_set}-{path[0]}-{path[1]}")
    for value_set in ("defaults", "gpu", "ha")
    for path in ARCHITECTURE_PATHS
    if {path[0], path[1]} <= present_components(value_set)
]


@pytest.mark.parametrize(("value_set", "source", "target", "port_name", "expected"), PATH_CASES)
def test_network_policies_allow_only_the_architecture(
    value_set: str, source: str, target: str, port_name: str, expected: bool
) -> None:
    manifests = render_value_set(value_set)
    policies = by_kind(manifests, "NetworkPolicy")
    pods = {p["metadata"]["labels"]["app.kubernetes.io/component"]: p for p in workloads(manifests)}
    target_container = pod_spec(pods[target])["containers"][0]
    port_names = {p["name"]: p["containerPort"] for p in target_container["ports"]}
    verdict = allowed(policies, pod_labels(pods[source]), pod_labels(pods[target]), port_names[port_name], port_names)
    assert verdict is expected


def test_ingress_has_tls_and_upload_size_from_settings() -> None:
    values = load_value_set("ha")
    (ingress,) = by_kind(render_value_set("ha"), "Ingress")
    assert ingress["spec"]["tls"][0]["hosts"] == [values["ingress"]["host"]]
    annotations = ingress["metadata"]["annotations"]
    expected_mib = math.ceil(values["config"]["maxUploadBytes"] / 1048576)
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == f"{expected_mib}m"
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
    gateway_env = env_of("ha", deployments("ha")["gateway"])
    assert int(gateway_env["CAD3D_GATEWAY_MAX_UPLOAD_BYTES"]) == values["config"]["maxUploadBytes"]


def test_existing_secrets_are_used_without_rendering_credentials() -> None:
    manifests = render_value_set("ha")
    assert by_kind(manifests, "Secret") == []
    dxf = pod_spec(deployments("ha")["dxf"])["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in dxf["env"] if "valueFrom" in e}
    assert refs["CAD3D_DXF_S3_ACCESS_KEY"]["name"] == "cad3d-s3"
    gateway = pod_spec(deployments("ha")["gateway"])
    auth = next(v for v in gateway["volumes"] if v["name"] == "auth")
    assert auth["secret"]["secretName"] == "cad3d-api-keys"


def test_bucket_job_is_an_idempotent_post_install_and_upgrade_hook() -> None:
    (job,) = by_kind(render_value_set("defaults"), "Job")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"post-install", "post-upgrade"}
    script = pod_spec(job)["containers"][0]["args"][0]
    assert script.count("mb --ignore-existing") == 2


def test_helm_test_checks_health_and_converts() -> None:
    manifests = render_value_set("defaults")
    (pod,) = by_kind(manifests, "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    targets = dict(entry.split("=") for entry in env["GRPC_TARGETS"].split(","))
    expected = {"cad3d.dxf.v1.DxfService", "cad3d.pdf.v1.PdfService", "cad3d.depth.v1.DepthService"}
    assert set(targets.values()) == expected
    script_map = next(m for m in by_kind(manifests, "ConfigMap") if "smoke_test.py" in m.get("data", {}))
    script = script_map["data"]["smoke_test.py"]
    assert "/v1/conversions" in script and "HealthCheckRequest" in script
