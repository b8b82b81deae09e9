"""How many weights a graph's largest layers will hold, from the shapes known without
TensorFlow: so that a compile refuses a model too large to build before Keras tries to
allocate it (a Dense of 10**9 units would take the function's memory, not answer)."""

from __future__ import annotations

import math
from typing import Any

from sluice.networks.shapes import Shape

_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
_CONVOLUTIONS = {"Conv1D": 1, "Conv2D": 2, "Conv3D": 3}


def layer_parameters(layer: str, params: dict[str, Any], inputs: list[Shape | None]) -> int:
    """The weights ``layer`` creates, where its input shape tells (else 0: not counted)."""
    if layer == "Embedding":
        return int(params["input_dim"]) * int(params["output_dim"])
    shape = inputs[0] if len(inputs) == 1 else None
    if not shape or shape[-1] is None:
        return 0
    if layer == "Dense":
        return (shape[-1] + 1) * int(params["units"])
    if layer in _GATES:
        units = int(params["units"])
        return _GATES[layer] * units * (shape[-1] + units + 2)
    if layer in _CONVOLUTIONS:
        n = _CONVOLUTIONS[layer]
        kernel = params["kernel_size"]
        window = math.prod([kernel] * n if isinstance(kernel, int) else kernel)
        first = params.get("data_format") == "channels_first"
        channels = shape[0] if first else shape[-1]
        if channels is None:
            return 0
        return (window * channels + 1) * int(params["filters"])
    return 0
