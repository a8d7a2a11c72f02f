"""cad3d.depth.v1.DepthService: the shared conversion RPC around the depth core.

Inference is already isolated (a Triton server, or ONNX Runtime's own threads), and the image is
bounded by pixel limits before decoding, so the core runs in this process under a semaphore and a
deadline rather than in worker processes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from cad3d.depth.v1 import depth_pb2, depth_pb2_grpc
from cad3d_depth.core import DepthEstimator, DepthOptions, ImageLimits, convert, profile_for_model
from cad3d_depth.settings import DepthSettings
from cad3d_kit.conversion import ConversionError, ConversionResult, ErrorKind, ProgressCallback
from cad3d_kit.conversion_service import ConversionRpc, Executor, conversion_servicer_class, options_to_mapping
from cad3d_kit.storage import ArtifactStore


def depth_executor(settings: DepthSettings, estimator: DepthEstimator) -> Executor:
    limits = ImageLimits(max_pixels=settings.max_pixels, min_side=settings.min_side, max_bytes=settings.max_bytes)
    profile = settings.profile or profile_for_model(settings.model_name)
    slots = asyncio.Semaphore(settings.max_concurrent_conversions)

    async def execute(
        request: Any, data: bytes, progress: ProgressCallback, time_left: float | None
    ) -> ConversionResult:
        options = DepthOptions.from_mapping(options_to_mapping(request.options))
        budget = min(settings.conversion_timeout_seconds, time_left or settings.conversion_timeout_seconds)
        async with slots:
            try:
                return await asyncio.wait_for(
                    convert(data, options, estimator, progress, limits=limits, profile=profile), timeout=budget
                )
            except TimeoutError:
                raise ConversionError(
                    "conversion_timeout", f"the conversion did not finish within {budget:g} s", ErrorKind.DEADLINE
                ) from None

    return execute


class DepthServicer(conversion_servicer_class(depth_pb2_grpc.DepthServiceServicer, "rpc", depth_pb2)):  # type: ignore[misc]
    def __init__(self, settings: DepthSettings, estimator: DepthEstimator, store: ArtifactStore | None) -> None:
        self.rpc = ConversionRpc("depth", depth_executor(settings, estimator), store, settings.max_message_bytes // 2)
