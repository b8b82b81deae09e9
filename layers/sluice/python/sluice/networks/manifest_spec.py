"""The spec table: what Keras's signatures and docstrings do not say about a parameter
(its type, its allowed values, its range), and which public names are not offered.

``manifest_build`` applies it over what it reads from Keras; a rule named
``Class.param`` wins over one named ``param``. Pure data: no Keras here.
"""

from __future__ import annotations

from typing import Any

Rule = dict[str, Any]
"""Any of: type, allowed_values, value_range ({min, max, min_exclusive}), nullable."""

POSITIVE_INT: Rule = {"type": "int", "value_range": {"min": 1}}
POSITIVE_INTS: Rule = {"type": "int_tuple", "value_range": {"min": 1}}
NON_NEGATIVE_INTS: Rule = {"type": "int_tuple", "value_range": {"min": 0}}
FRACTION: Rule = {"type": "float", "value_range": {"min": 0, "max": 1}}
NON_NEGATIVE: Rule = {"type": "float", "value_range": {"min": 0}}
POSITIVE: Rule = {"type": "float", "value_range": {"min": 0, "min_exclusive": True}}
PADDING: Rule = {"type": "enum", "allowed_values": ["valid", "same"]}
CAUSAL_PADDING: Rule = {"type": "enum", "allowed_values": ["valid", "same", "causal"]}

INITIALIZERS = "initializers"
REGULARIZERS = "regularizers"
CONSTRAINTS = "constraints"
ACTIVATIONS = "activations"
"""Markers for ``allowed_values``: the identifiers that ``keras.<module>.get`` takes, listed
by the build from the installed Keras (so "uniform" and "Zeros" pass where Keras takes them)."""

DTYPES = [
    "bfloat16", "bool", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
    "string", "uint8",
]  # fmt: skip
REDUCTIONS = ["mean", "mean_with_sample_weight", "none", "sum", "sum_over_batch_size"]

BY_SUFFIX: dict[str, Rule] = {
    "_initializer": {"type": "enum", "allowed_values": INITIALIZERS},
    "_regularizer": {"type": "enum", "allowed_values": REGULARIZERS, "nullable": True},
    "_constraint": {"type": "enum", "allowed_values": CONSTRAINTS, "nullable": True},
}
"""Rules for every parameter whose name ends so (kernel_initializer, bias_regularizer ...)."""

BY_NAME: dict[str, Rule] = {
    "units": POSITIVE_INT,
    "filters": POSITIVE_INT,
    "groups": POSITIVE_INT,
    "depth_multiplier": POSITIVE_INT,
    "num_heads": POSITIVE_INT,
    "key_dim": POSITIVE_INT,
    "input_dim": POSITIVE_INT,
    "output_dim": POSITIVE_INT,
    "n": POSITIVE_INT,
    "kernel_size": POSITIVE_INTS,
    "strides": POSITIVE_INTS,
    "pool_size": POSITIVE_INTS,
    "dilation_rate": POSITIVE_INTS,
    "size": POSITIVE_INTS,
    "dims": POSITIVE_INTS,
    "cropping": NON_NEGATIVE_INTS,
    "target_shape": {"type": "int_tuple", "value_range": {"min": -1}},
    "axis": {"type": "int_tuple"},
    "padding": PADDING,
    "data_format": {
        "type": "enum",
        "allowed_values": ["channels_first", "channels_last"],
        "nullable": True,
    },
    "activation": {"type": "enum", "allowed_values": ACTIVATIONS, "nullable": True},
    "recurrent_activation": {"type": "enum", "allowed_values": ACTIVATIONS},
    "rate": FRACTION,
    "dropout": FRACTION,
    "recurrent_dropout": FRACTION,
    "momentum": FRACTION,
    "ema_momentum": FRACTION,
    "beta_1": FRACTION,
    "beta_2": FRACTION,
    "rho": FRACTION,
    "label_smoothing": FRACTION,
    "epsilon": NON_NEGATIVE,
    "stddev": NON_NEGATIVE,
    "learning_rate": POSITIVE,
    "clipnorm": {**POSITIVE, "nullable": True},
    "clipvalue": {**POSITIVE, "nullable": True},
    "global_clipnorm": {**POSITIVE, "nullable": True},
    "weight_decay": {**NON_NEGATIVE, "nullable": True},
    "dtype": {"type": "enum", "allowed_values": DTYPES, "nullable": True},
    "name": {"type": "string", "nullable": True},
    "reduction": {"type": "enum", "allowed_values": REDUCTIONS, "nullable": True},
    "seed": {"type": "int", "value_range": {"min": 0}, "nullable": True},
    "batch_size": {**POSITIVE_INT, "nullable": True},
    "num_bins": POSITIVE_INT,
    "num_tokens": {**POSITIVE_INT, "nullable": True},
    "max_tokens": {**POSITIVE_INT, "nullable": True},
    "head_dim": POSITIVE_INT,
    "num_query_heads": POSITIVE_INT,
    "num_key_value_heads": POSITIVE_INT,
    "value_dim": {**POSITIVE_INT, "nullable": True},
    "max_number": POSITIVE_INT,
}

BY_CLASS: dict[str, Rule] = {
    "InputLayer.shape": {"type": "shape", "value_range": {"min": 1}, "nullable": True},
    "InputLayer.batch_shape": {"type": "shape", "value_range": {"min": 1}, "nullable": True},
    "Conv1D.padding": CAUSAL_PADDING,
    "ZeroPadding1D.padding": NON_NEGATIVE_INTS,
    "ZeroPadding2D.padding": NON_NEGATIVE_INTS,
    "ZeroPadding3D.padding": NON_NEGATIVE_INTS,
    "Activation.activation": {"type": "enum", "allowed_values": ACTIVATIONS, "nullable": False},
    "Dropout.rate": {"type": "float", "value_range": {"min": 0, "max": 1, "min_exclusive": False}},
    "LeakyReLU.negative_slope": NON_NEGATIVE,
    "ReLU.max_value": {**NON_NEGATIVE, "nullable": True},
    "Softmax.axis": {"type": "int_tuple"},
}

LAYER_BASE_PARAMETERS: list[dict[str, Any]] = [
    {"name": "name", "default": None, "type": "string", "nullable": True,
     "doc": "The layer's name (unique in a model)."},
    {"name": "trainable", "default": True, "type": "bool", "nullable": False,
     "doc": "Whether the layer's weights are updated by training."},
    {"name": "dtype", "default": None, "type": "enum", "allowed_values": DTYPES,
     "nullable": True, "doc": "The layer's dtype policy (default: the global policy)."},
]  # fmt: skip
"""Arguments every layer takes through ``**kwargs`` (Keras's Layer base), declared so that
a canvas can name its nodes and an import keeps their names."""

EXCLUDED: dict[str, dict[str, str]] = {
    "layers": {
        "Layer": "the abstract base",
        "Wrapper": "the abstract base of wrappers",
        "Bidirectional": "wraps another layer object",
        "TimeDistributed": "wraps another layer object",
        "SpectralNormalization": "wraps another layer object",
        "RNN": "takes a cell object",
        "GRUCell": "used only inside an RNN",
        "LSTMCell": "used only inside an RNN",
        "SimpleRNNCell": "used only inside an RNN",
        "StackedRNNCells": "used only inside an RNN",
        "Lambda": "runs arbitrary Python code",
        "Pipeline": "holds other layer objects",
        "FlaxLayer": "a JAX module, not a Keras layer definition",
        "JaxLayer": "a JAX function, not a Keras layer definition",
        "TorchModuleWrapper": "a PyTorch module",
        "TFSMLayer": "loads a SavedModel from a path on the server",
    },
    "optimizers": {
        "Optimizer": "the abstract base",
        "LossScaleOptimizer": "wraps another optimizer object",
        "MultiOptimizer": "holds other optimizer objects",
        "OptimizerMap": "holds other optimizer objects",
    },
    "losses": {"Loss": "the abstract base"},
    "metrics": {"Metric": "the abstract base", "MeanMetricWrapper": "wraps a Python function"},
    "activations": {},
}
"""Public names that are not offered, and why: what a JSON canvas cannot express."""

LAYER_INPUTS: dict[str, dict[str, int | None]] = {
    "InputLayer": {"min": 0, "max": 0},
    "Add": {"min": 2, "max": None},
    "Average": {"min": 2, "max": None},
    "Concatenate": {"min": 2, "max": None},
    "Maximum": {"min": 2, "max": None},
    "Minimum": {"min": 2, "max": None},
    "Multiply": {"min": 2, "max": None},
    "Subtract": {"min": 2, "max": 2},
    "Dot": {"min": 2, "max": 2},
    "Attention": {"min": 2, "max": 3},
    "AdditiveAttention": {"min": 2, "max": 3},
    "MultiHeadAttention": {"min": 2, "max": 3},
    "GroupQueryAttention": {"min": 2, "max": 3},
    "HashedCrossing": {"min": 2, "max": 2},
}
"""Inbound edges a layer takes when not one: inputs take none, merges two or more."""

DESCRIPTIONS: dict[str, str] = {
    "InputLayer": "The input of a model: tensors of `shape` (without the batch dimension) "
    "and `dtype`.",
}
"""Summaries for classes whose own docstring is missing (Keras's would be their base's)."""

EXTRA_LAYER_ALIASES: dict[str, str] = {"Input": "InputLayer"}
"""Names a canvas uses that are functions in keras.layers, not classes."""
