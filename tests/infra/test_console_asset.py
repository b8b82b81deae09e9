"""The api function serves the web console from the sluice layer: its files and the
vendored chart library are in the layer's asset, and synthesis stops without them."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import Stage
from sluice.console.files import CHART_JS, STATIC_DIR

from infra.constructs import layers
from infra.stack import SluiceStack
from tests.infra.conftest import Resources


def test_the_layer_ships_the_console_with_its_chart_library(
    stack: SluiceStack, resources: Resources
) -> None:
    layer_id = stack.resolve(stack.layers.sluice.node.default_child.logical_id)  # type: ignore[union-attr]
    key: str = resources[layer_id]["Properties"]["Content"]["S3Key"]
    app = Stage.of(stack)
    assert app is not None
    static = Path(app.outdir) / f"asset.{key.removesuffix('.zip')}" / "python/sluice/console/static"
    shipped = {p.relative_to(static).as_posix() for p in static.rglob("*") if p.is_file()}
    ours = {p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*") if p.is_file()}
    assert {"index.html", "app.js", "pages/dataset.js", CHART_JS} <= shipped
    assert shipped == ours


def test_synthesis_stops_when_the_chart_library_was_not_vendored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(layers, "missing_vendor_files", lambda: [CHART_JS])
    with pytest.raises(layers.ConsoleNotBuilt, match=r"run `make install` before synth"):
        layers.check_console_vendored()
