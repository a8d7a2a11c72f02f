"""The inference backend interface shared by the in-process and the Triton paths."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from cad3d_depth.core.spec import ModelSpec


@runtime_checkable
class DepthEstimator(Protocol):
    """One depth model behind some runtime. Pre- and post-processing never live here."""

    @property
    def spec(self) -> ModelSpec:
        """The model's tensor names, size and layout; raises model_unavailable before load()."""
        ...

    async def load(self) -> ModelSpec:
        """Read the model's metadata (idempotent). Raises ConversionError(model_unavailable)."""
        ...

    async def ready(self) -> bool:
        """True when the model can serve now (never raises)."""
        ...

    async def infer(self, batch: np.ndarray) -> np.ndarray:
        """Preprocessed input (layout per ``spec``) -> raw model output for the batch."""
        ...

    async def close(self) -> None:
        """Release sessions / channels."""
        ...
