"""The committed manifests: equal to a regeneration, served without TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sluice.networks import docstrings, manifests
from sluice.networks.manifest_models import ManifestKind, ParamType

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_manifests_are_a_regeneration() -> None:
    """Fails when Keras or the spec table changed and `sluice manifests` was not run."""
    from sluice.networks.manifest_build import build_manifests

    drifted = [
        kind.value
        for kind, manifest in build_manifests().items()
        if manifests.render(manifest)
        != (manifests.MANIFEST_DIR / f"{kind.value}.json").read_text(encoding="utf-8")
    ]
    assert drifted == [], f"run `sluice manifests` and commit: {drifted} drifted"


def test_importing_the_api_handler_loads_no_tensorflow() -> None:
    """The api Lambda's package has no TensorFlow: its import (and a manifest read) must
    not need it."""
    code = (
        "import sys; sys.path.insert(0, 'functions/api'); import handler; "
        "from sluice.networks import manifests; from sluice.networks.manifest_models import "
        "ManifestKind; [manifests.load(kind) for kind in ManifestKind]; "
        "import sluice.api.networks; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "[]"


def test_entries_are_sorted_and_aliases_resolve() -> None:
    layers = manifests.load(ManifestKind.LAYERS)
    names = [entry.name for entry in layers.entries]
    assert names == sorted(names)
    assert manifests.entry(ManifestKind.LAYERS, "Input").name == "InputLayer"
    assert manifests.entry(ManifestKind.LAYERS, "Convolution2D").name == "Conv2D"
    assert manifests.entry(ManifestKind.LOSSES, "binary_crossentropy").name == (
        "BinaryCrossentropy"
    )
    assert manifests.entry(ManifestKind.OPTIMIZERS, "adam").name == "Adam"
    assert manifests.find(ManifestKind.LAYERS, "Lambda") is None  # runs arbitrary code


def test_parameters_carry_json_defaults_types_values_and_ranges() -> None:
    conv = manifests.entry(ManifestKind.LAYERS, "Conv2D")
    padding, strides = conv.parameter("padding"), conv.parameter("strides")
    assert padding is not None and padding.allowed_values == ["valid", "same"]
    assert padding.default == "valid" and padding.type is ParamType.ENUM
    assert strides is not None and strides.default == [1, 1]
    assert strides.type is ParamType.INT_TUPLE and strides.value_range is not None
    dense = manifests.entry(ManifestKind.LAYERS, "Dense")
    units = dense.parameter("units")
    assert units is not None and units.required and units.type is ParamType.INT
    activation = dense.parameter("activation")
    assert activation is not None and activation.nullable and activation.allowed_values
    assert "relu" in activation.allowed_values
    adam = manifests.entry(ManifestKind.OPTIMIZERS, "Adam").parameter("learning_rate")
    assert adam is not None and adam.default == 0.001 and adam.value_range is not None
    assert adam.value_range.min == 0 and adam.value_range.min_exclusive
    assert manifests.entry(ManifestKind.LAYERS, "Concatenate").inputs is not None


def test_an_unknown_name_is_not_found() -> None:
    from sluice.errors import NotFound

    with pytest.raises(NotFound):
        manifests.entry(ManifestKind.METRICS, "NoSuchMetric")


def test_docstring_arguments_are_read_per_name() -> None:
    doc = """Summary line
    goes on.

    Args:
        units: Positive integer,
            dimensionality.
        rate: Float between 0 and 1.

    Returns:
        nothing: not an argument.
    """
    assert docstrings.summary(doc) == "Summary line goes on."
    assert docstrings.arguments(doc) == {
        "units": "Positive integer, dimensionality.",
        "rate": "Float between 0 and 1.",
    }
