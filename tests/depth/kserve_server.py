"""A real KServe v2 gRPC inference server for tests and benchmarks, backed by ONNX Runtime.

Built on the service stubs shipped in tritonclient (``GRPCInferenceServiceServicer``) and serving a
Triton-style model repository (``<name>/config.pbtxt`` + ``<name>/<version>/model.onnx``), so the
depth service's ``triton`` backend talks real gRPC to it. It implements the RPCs that backend uses
(ServerLive, ServerReady, ModelReady, ModelMetadata, ModelConfig, ModelInfer) and can inject faults
a real Triton shows: UNAVAILABLE for the first N calls, and slow inference.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np
import onnxruntime as ort
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2, service_pb2, service_pb2_grpc

_ONNX_TO_KSERVE = {"tensor(float)": "FP32", "tensor(float16)": "FP16", "tensor(double)": "FP64"}
_KSERVE_TO_NUMPY = {"FP32": np.float32, "FP16": np.float16, "FP64": np.float64}


@dataclass
class ServedModel:
    name: str
    version: str
    session: ort.InferenceSession
    config: model_config_pb2.ModelConfig

    def tensor_metadata(self, args: list[ort.NodeArg]) -> list[service_pb2.ModelMetadataResponse.TensorMetadata]:
        return [
            service_pb2.ModelMetadataResponse.TensorMetadata(
                name=a.name,
                datatype=_ONNX_TO_KSERVE.get(a.type, a.type),
                shape=[d if isinstance(d, int) else -1 for d in a.shape],
            )
            for a in args
        ]


@dataclass
class Faults:
    unavailable_calls: int = 0  # the next N RPCs answer UNAVAILABLE
    infer_delay_s: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)


def load_repository(root: Path) -> dict[str, ServedModel]:
    models: dict[str, ServedModel] = {}
    for config_path in sorted(root.glob("*/config.pbtxt")):
        config = text_format.Parse(config_path.read_text(), model_config_pb2.ModelConfig())
        versions = sorted(
            (p for p in config_path.parent.iterdir() if p.is_dir() and (p / "model.onnx").is_file()),
            key=lambda p: int(p.name),
        )
        if not versions:
            continue  # config only (e.g. the real MiDaS, not available here)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(
            str(versions[-1] / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
        )
        models[config.name] = ServedModel(config.name, versions[-1].name, session, config)
    return models


class OnnxKServeServicer(service_pb2_grpc.GRPCInferenceServiceServicer):
    def __init__(self, models: dict[str, ServedModel], faults: Faults) -> None:
        self.models = models
        self.faults = faults

    async def _gate(self, rpc: str, context: grpc.aio.ServicerContext) -> None:
        self.faults.calls[rpc] = self.faults.calls.get(rpc, 0) + 1
        if self.faults.unavailable_calls > 0:
            self.faults.unavailable_calls -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "injected: server warming up")

    async def _model(self, name: str, version: str, context: grpc.aio.ServicerContext) -> ServedModel:
        model = self.models.get(name)
        if model is None or version not in ("", model.version):
            await context.abort(grpc.StatusCode.NOT_FOUND, f"Request for unknown model: '{name}' version {version}")
        assert model is not None
        return model

    async def ServerLive(self, request, context):  # type: ignore[no-untyped-def]
        await self._gate("ServerLive", context)
        return service_pb2.ServerLiveResponse(live=True)

    async def ServerReady(self, request, context):  # type: ignore[no-untyped-def]
        await self._gate("ServerReady", context)
        return service_pb2.ServerReadyResponse(ready=True)

    async def ModelReady(self, request, context):  # type: ignore[no-untyped-def]
        await self._gate("ModelReady", context)
        model = self.models.get(request.name)
        ready = model is not None and request.version in ("", model.version)
        return service_pb2.ModelReadyResponse(ready=ready)

    async def ModelMetadata(self, request, context):  # type: ignore[no-untyped-def]
        await self._gate("ModelMetadata", context)
        model = await self._model(request.name, request.version, context)
        return service_pb2.ModelMetadataResponse(
            name=model.name,
            versions=[model.version],
            platform="onnxruntime_onnx",
            inputs=model.tensor_metadata(model.session.get_inputs()),
            outputs=model.tensor_metadata(model.session.get_outputs()),
        )

    async def ModelConfig(self, request, context):  # type: ignore[no-untyped-def]
        await self._gate("ModelConfig", context)
        model = await self._model(request.name, request.version, context)
        return service_pb2.ModelConfigResponse(config=model.config)

    async def ModelInfer(self, request, context):  # type: ignore[no-untyped-def]
        await self._gate("ModelInfer", context)
        model = await self._model(request.model_name, request.model_version, context)
        feeds = {}
        for index, tensor in enumerate(request.inputs):
            dtype = _KSERVE_TO_NUMPY.get(tensor.datatype)
            if dtype is None:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unsupported datatype {tensor.datatype}")
            if index < len(request.raw_input_contents):
                array = np.frombuffer(request.raw_input_contents[index], dtype=dtype)
            else:
                array = np.asarray(tensor.contents.fp32_contents, dtype=dtype)
            feeds[tensor.name] = array.reshape(list(tensor.shape))
        if self.faults.infer_delay_s:
            await asyncio.sleep(self.faults.infer_delay_s)
        wanted = [o.name for o in request.outputs] or [o.name for o in model.session.get_outputs()]
        try:
            # Inline: one request at a time here, and a thread hop would count as transport overhead.
            results = model.session.run(wanted, feeds)
        except Exception as exc:  # ORT's own exception families -> INVALID_ARGUMENT like Triton
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"inference failed: {exc}")
        response = service_pb2.ModelInferResponse(model_name=model.name, model_version=model.version, id=request.id)
        for name, result in zip(wanted, results, strict=True):
            array = np.ascontiguousarray(result)
            response.outputs.add(name=name, datatype="FP32", shape=list(array.shape))
            response.raw_output_contents.append(array.astype(np.float32).tobytes())
        return response


class KServeTestServer:
    """``async with KServeTestServer(repo) as server: server.url`` -> a loopback host:port on port 0."""

    def __init__(self, repository: Path) -> None:
        self.faults = Faults()
        self._servicer = OnnxKServeServicer(load_repository(repository), self.faults)
        self._server: grpc.aio.Server | None = None
        self.url = ""

    async def start(self) -> str:
        self._server = grpc.aio.server()
        service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(self._servicer, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        await self._server.start()
        self.url = f"127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=None)
            self._server = None

    async def __aenter__(self) -> KServeTestServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()
