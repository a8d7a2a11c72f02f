"""In-process inference with ONNX Runtime: CUDA when onnxruntime-gpu and a GPU are present, else CPU."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from cad3d_depth.core.errors import inference_failed, model_unavailable
from cad3d_depth.core.spec import ModelSpec, spec_from_shapes

log = logging.getLogger(__name__)

_ONNX_TO_KSERVE = {"tensor(float)": "FP32", "tensor(float16)": "FP16", "tensor(double)": "FP64"}
_KSERVE_TO_NUMPY = {"FP32": np.float32, "FP16": np.float16, "FP64": np.float64}


def preferred_providers() -> list[str]:
    available = ort.get_available_providers()
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class OnnxRuntimeEstimator:
    def __init__(
        self,
        model_path: str | Path,
        *,
        model_name: str | None = None,
        providers: list[str] | None = None,
        intra_op_threads: int = 0,
    ) -> None:
        self._path = Path(model_path)
        self._name = model_name or self._path.parent.parent.name or self._path.stem
        self._providers = providers or preferred_providers()
        self._threads = intra_op_threads
        self._session: ort.InferenceSession | None = None
        self._spec: ModelSpec | None = None
        self._lock = asyncio.Lock()

    @property
    def spec(self) -> ModelSpec:
        if self._spec is None:
            raise model_unavailable(f"model {self._name!r} is not loaded yet")
        return self._spec

    @property
    def providers(self) -> list[str]:
        """Providers the session actually uses (after load)."""
        return self._session.get_providers() if self._session else []

    async def load(self) -> ModelSpec:
        if self._spec is not None:
            return self._spec
        async with self._lock:
            if self._spec is None:
                self._session, self._spec = await asyncio.to_thread(self._open)
        return self._spec

    def _open(self) -> tuple[ort.InferenceSession, ModelSpec]:
        if not self._path.is_file():
            raise model_unavailable(f"model file {self._path} does not exist (run `make models`?)")
        options = ort.SessionOptions()
        if self._threads:
            options.intra_op_num_threads = self._threads
        try:
            session = ort.InferenceSession(str(self._path), sess_options=options, providers=self._providers)
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph/... families
            raise model_unavailable(f"cannot load model {self._path}: {exc}") from exc
        meta = session.get_modelmeta()
        inp, out = session.get_inputs()[0], session.get_outputs()[0]
        spec = spec_from_shapes(
            model_name=self._name,
            input_name=inp.name,
            input_shape=list(inp.shape),
            input_datatype=_ONNX_TO_KSERVE.get(inp.type, inp.type),
            output_name=out.name,
            metadata=dict(meta.custom_metadata_map),
        )
        if spec.standin:
            log.warning("loaded STAND-IN depth model %s (%s): depth is a heuristic, not MiDaS", self._name, self._path)
        log.info(
            "loaded depth model %s from %s on %s (input %s %s)",
            self._name,
            self._path,
            session.get_providers()[0],
            inp.name,
            inp.shape,
        )
        return session, spec

    async def ready(self) -> bool:
        try:
            await self.load()
        except Exception:
            return False
        return True

    async def infer(self, batch: np.ndarray) -> np.ndarray:
        spec = await self.load()
        session = self._session
        if session is None:  # closed meanwhile
            raise model_unavailable(f"model {self._name!r} was closed")
        # Preprocessing yields float32; half-precision exports get their own dtype.
        feed = batch.astype(_KSERVE_TO_NUMPY.get(spec.input_datatype, np.float32), copy=False)
        try:
            outputs = await asyncio.to_thread(session.run, [spec.output_name], {spec.input_name: feed})
        except Exception as exc:
            raise inference_failed(f"ONNX Runtime failed on model {self._name!r}: {exc}") from exc
        return np.asarray(outputs[0])

    async def close(self) -> None:
        self._session = None
        self._spec = None
