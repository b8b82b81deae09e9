"""Output shapes known without TensorFlow, for a documented subset of layers.

A shape leaves out the batch dimension; a null dimension is unknown. A layer outside the
subset gives an unknown shape (None), and so do the layers after it: only what can be
known for certain is checked. The subset: InputLayer; Dense, EinsumDense-free core layers
(Dense, Embedding, Flatten, Reshape, RepeatVector, Permute); shape-keeping layers
(activations, dropouts, noise, normalizations, Masking, Rescaling, Identity); merges
(Concatenate's axis, the element-wise merges' broadcasting); Conv1D/2D/3D and
Max/AveragePooling1D/2D/3D (padding, strides, dilation, data_format); global poolings;
SimpleRNN, GRU and LSTM.
"""

from __future__ import annotations

import math
from typing import Any

Shape = list[int | None]

KEEPS_SHAPE = frozenset(
    [
        "Activation",
        "ActivityRegularization",
        "AlphaDropout",
        "BatchNormalization",
        "Dropout",
        "ELU",
        "GaussianDropout",
        "GaussianNoise",
        "GroupNormalization",
        "Identity",
        "LayerNormalization",
        "LeakyReLU",
        "Masking",
        "PReLU",
        "ReLU",
        "RMSNormalization",
        "Rescaling",
        "Softmax",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "UnitNormalization",
    ]
)
ELEMENTWISE = frozenset(["Add", "Average", "Maximum", "Minimum", "Multiply", "Subtract"])
_SPATIAL = {
    "Conv1D": 1, "Conv2D": 2, "Conv3D": 3,
    "MaxPooling1D": 1, "MaxPooling2D": 2, "MaxPooling3D": 3,
    "AveragePooling1D": 1, "AveragePooling2D": 2, "AveragePooling3D": 3,
}  # fmt: skip
_GLOBAL = {f"Global{kind}Pooling{n}D": n for kind in ("Average", "Max") for n in (1, 2, 3)}
_RECURRENT = frozenset({"SimpleRNN", "GRU", "LSTM"})


class ShapeError(ValueError):
    """The inputs cannot feed the layer; the message says why."""


def _product(dims: Shape) -> int | None:
    return None if any(d is None for d in dims) else math.prod(d for d in dims if d is not None)


def _need_rank(layer: str, shape: Shape, rank: int, what: str) -> None:
    if len(shape) != rank:
        raise ShapeError(f"{layer} takes inputs of rank {rank} ({what}), got shape {shape}")


def _tuple(value: Any, n: int) -> list[int]:
    return [value] * n if isinstance(value, int) else list(value)


def _spatial(layer: str, params: dict[str, Any], shape: Shape, n: int) -> Shape:
    _need_rank(layer, shape, n + 1, f"{n} spatial dimensions and channels")
    first = params.get("data_format") == "channels_first"
    channels, spatial = (shape[0], shape[1:]) if first else (shape[-1], shape[:-1])
    conv = layer.startswith("Conv")
    window = _tuple(params.get("kernel_size" if conv else "pool_size", 2), n)
    default_strides = 1 if conv else window
    strides = _tuple(params.get("strides") or default_strides, n)
    dilation = _tuple(params.get("dilation_rate", 1), n) if conv else [1] * n
    padding = params.get("padding", "valid")
    if any(len(values) != n for values in (window, strides, dilation)):
        raise ShapeError(f"{layer}'s window, strides and dilation take {n} values each")
    out: Shape = []
    for size, k, s, d in zip(spatial, window, strides, dilation, strict=True):
        if size is None:
            out.append(None)
        elif padding == "same":
            out.append(math.ceil(size / s))
        else:
            span = d * (k - 1) + 1
            if padding == "causal":
                out.append(math.ceil(size / s))
                continue
            if size < span:
                raise ShapeError(f"{layer}'s window {span} is larger than the input's {size}")
            out.append((size - span) // s + 1)
    depth = params["filters"] if conv else channels
    return [depth, *out] if first else [*out, depth]


def _concatenate(params: dict[str, Any], shapes: list[Shape]) -> Shape:
    rank = len(shapes[0])
    if any(len(shape) != rank for shape in shapes):
        raise ShapeError(f"Concatenate takes inputs of one rank, got shapes {shapes}")
    axis = params.get("axis", -1)
    if not isinstance(axis, int):
        return [None] * rank
    index = axis - 1 if axis > 0 else rank + axis  # Keras counts the batch dimension
    if axis == 0 or not 0 <= index < rank:
        raise ShapeError(f"Concatenate's axis {axis} is not an axis of shapes {shapes}")
    out: Shape = []
    for i in range(rank):
        dims = [shape[i] for shape in shapes]
        if i == index:
            out.append(None if None in dims else sum(d for d in dims if d is not None))
            continue
        known = {d for d in dims if d is not None}
        if len(known) > 1:
            raise ShapeError(
                f"Concatenate on axis {axis} needs equal other dimensions, got shapes {shapes}"
            )
        out.append(known.pop() if len(known) == 1 and None not in dims else None)
    return out


def _elementwise(layer: str, shapes: list[Shape]) -> Shape | None:
    rank = len(shapes[0])
    if any(len(shape) != rank for shape in shapes):
        return None  # Keras may expand ranks; not checked here
    out: Shape = []
    for i in range(rank):
        known = {shape[i] for shape in shapes} - {None, 1}
        if len(known) > 1:
            raise ShapeError(f"{layer} takes inputs of one shape (or 1s to broadcast): {shapes}")
        out.append(known.pop() if known else (None if None in {s[i] for s in shapes} else 1))
    return out


def _reshape(params: dict[str, Any], shape: Shape) -> Shape:
    target = params["target_shape"]
    target = [target] if isinstance(target, int) else list(target)
    size = _product(shape)
    if target.count(-1) > 1:
        raise ShapeError(f"Reshape's target_shape {target} has more than one -1")
    if -1 in target:
        rest = math.prod(d for d in target if d != -1)
        if size is None or rest == 0:
            return [None if d == -1 else d for d in target]
        if size % rest:
            raise ShapeError(f"cannot reshape {size} values into {target}")
        return [size // rest if d == -1 else d for d in target]
    if size is not None and size != math.prod(target):
        raise ShapeError(f"cannot reshape {size} values (shape {shape}) into {target}")
    return target


def output_shape(layer: str, params: dict[str, Any], inputs: list[Shape]) -> Shape | None:
    """The layer's output shape from its inputs' (all known); None when not in the subset.
    ``ShapeError`` when the inputs cannot feed it."""
    shape = inputs[0]
    if layer in ELEMENTWISE:
        return _elementwise(layer, inputs)
    if layer == "Concatenate":
        return _concatenate(params, inputs)
    if layer in KEEPS_SHAPE:
        return list(shape)
    if layer == "Dense":
        if not shape:
            raise ShapeError("Dense takes inputs of rank 1 or more, got a scalar")
        return [*shape[:-1], params["units"]]
    if layer == "Flatten":
        return [_product(shape) if shape else 1]
    if layer == "Reshape":
        return _reshape(params, shape)
    if layer == "Embedding":
        return [*shape, params["output_dim"]]
    if layer == "RepeatVector":
        _need_rank(layer, shape, 1, "features")
        return [params["n"], *shape]
    if layer == "Permute":
        dims = list(params["dims"])
        if sorted(dims) != list(range(1, len(shape) + 1)):
            raise ShapeError(f"Permute's dims {dims} do not permute the axes of shape {shape}")
        return [shape[d - 1] for d in dims]
    if layer in _SPATIAL:
        return _spatial(layer, params, shape, _SPATIAL[layer])
    if layer in _GLOBAL:
        n = _GLOBAL[layer]
        _need_rank(layer, shape, n + 1, f"{n} spatial dimensions and channels")
        first = params.get("data_format") == "channels_first"
        return [shape[0] if first else shape[-1]]
    if layer in _RECURRENT:
        _need_rank(layer, shape, 2, "timesteps and features")
        units = params["units"]
        return [shape[0], units] if params.get("return_sequences") else [units]
    return None
