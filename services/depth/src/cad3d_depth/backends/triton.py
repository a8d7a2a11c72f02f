"""Remote inference over KServe v2 gRPC (NVIDIA Triton) with tritonclient's asyncio client."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import numpy as np
from tritonclient.grpc import InferInput, InferRequestedOutput
from tritonclient.grpc.aio import InferenceServerClient
from tritonclient.utils import InferenceServerException, triton_to_np_dtype

from cad3d_depth.core.errors import inference_failed, inference_timeout, model_unavailable
from cad3d_depth.core.spec import META_LAYOUT, ModelSpec, spec_from_shapes

log = logging.getLogger(__name__)
T = TypeVar("T")

_UNAVAILABLE = "StatusCode.UNAVAILABLE"
_DEADLINE = "StatusCode.DEADLINE_EXCEEDED"
_FORMAT_TO_LAYOUT = {"FORMAT_NCHW": "NCHW", "FORMAT_NHWC": "NHWC"}


class TritonEstimator:
    """One model (name + version) on a KServe v2 server. Retries only UNAVAILABLE (transient)."""

    def __init__(
        self,
        url: str,
        model_name: str,
        model_version: str = "",
        *,
        timeout_s: float = 10.0,
        retries: int = 3,
        retry_backoff_s: float = 0.2,
    ) -> None:
        self._url = url
        self._model = model_name
        self._version = model_version
        self._timeout = timeout_s
        self._retries = retries
        self._backoff = retry_backoff_s
        self._client: InferenceServerClient | None = None
        self._spec: ModelSpec | None = None
        self._lock = asyncio.Lock()

    @property
    def spec(self) -> ModelSpec:
        if self._spec is None:
            raise model_unavailable(f"model {self._model!r} metadata not loaded from {self._url} yet")
        return self._spec

    def _connection(self) -> InferenceServerClient:
        # Created lazily so the grpc.aio channel belongs to the running event loop.
        if self._client is None:
            self._client = InferenceServerClient(self._url)
        return self._client

    async def _call(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        delay = self._backoff
        for attempt in range(self._retries + 1):
            try:
                return await call()
            except InferenceServerException as exc:
                status = exc.status()
                if status == _DEADLINE:
                    raise inference_timeout(
                        f"{what} on {self._url} exceeded {self._timeout} s: {exc.message()}"
                    ) from exc
                if status != _UNAVAILABLE:
                    raise
                if attempt == self._retries:
                    raise model_unavailable(
                        f"{what}: {self._url} unavailable after {self._retries + 1} attempts: {exc.message()}"
                    ) from exc
                log.warning("%s: %s unavailable (attempt %d), retrying", what, self._url, attempt + 1)
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    async def load(self) -> ModelSpec:
        if self._spec is not None:
            return self._spec
        async with self._lock:
            if self._spec is None:
                self._spec = await self._fetch_spec()
        return self._spec

    async def _fetch_spec(self) -> ModelSpec:
        client = self._connection()
        try:
            metadata: dict[str, Any] = await self._call(
                "ModelMetadata",
                lambda: client.get_model_metadata(
                    self._model, self._version, as_json=True, client_timeout=self._timeout
                ),
            )
            config: dict[str, Any] = await self._call(
                "ModelConfig",
                lambda: client.get_model_config(self._model, self._version, as_json=True, client_timeout=self._timeout),
            )
        except InferenceServerException as exc:
            raise model_unavailable(
                f"model {self._model!r} version {self._version or 'latest'} on {self._url}: {exc.message()}"
            ) from exc
        inputs, outputs = metadata.get("inputs", []), metadata.get("outputs", [])
        if not inputs or not outputs:
            raise model_unavailable(f"model {self._model!r} on {self._url} declares no inputs/outputs")
        model_config = config.get("config", {})
        hints = {k: v.get("string_value", "") for k, v in model_config.get("parameters", {}).items()}
        declared_format = (model_config.get("input") or [{}])[0].get("format", "")
        if declared_format in _FORMAT_TO_LAYOUT and META_LAYOUT not in hints:
            hints[META_LAYOUT] = _FORMAT_TO_LAYOUT[declared_format]
        spec = spec_from_shapes(
            model_name=self._model,
            input_name=inputs[0]["name"],
            input_shape=[int(d) for d in inputs[0]["shape"]],
            input_datatype=inputs[0]["datatype"],
            output_name=outputs[0]["name"],
            metadata=hints,
        )
        if spec.standin:
            log.warning("Triton model %s at %s is a STAND-IN: depth is a heuristic, not MiDaS", self._model, self._url)
        log.info("using Triton model %s (version %s) at %s", self._model, self._version or "latest", self._url)
        return spec

    async def ready(self) -> bool:
        """Readiness = the model (this version) is ready on the server."""
        client = self._connection()
        try:
            return bool(await client.is_model_ready(self._model, self._version, client_timeout=self._timeout))
        except InferenceServerException:
            return False

    async def infer(self, batch: np.ndarray) -> np.ndarray:
        spec = await self.load()
        client = self._connection()
        tensor = InferInput(spec.input_name, list(batch.shape), spec.input_datatype)
        tensor.set_data_from_numpy(np.ascontiguousarray(batch, dtype=triton_to_np_dtype(spec.input_datatype)))
        wanted = [InferRequestedOutput(spec.output_name)]
        try:
            result = await self._call(
                "ModelInfer",
                lambda: client.infer(
                    self._model, [tensor], self._version, outputs=wanted, client_timeout=self._timeout
                ),
            )
        except InferenceServerException as exc:
            raise inference_failed(f"Triton model {self._model!r} failed: {exc.message()}") from exc
        output = result.as_numpy(spec.output_name)
        if output is None:
            raise inference_failed(f"Triton model {self._model!r} returned no {spec.output_name!r} output")
        return np.asarray(output)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
