"""The HTTP client and the CLI stay out of every Lambda: the layer and the image contexts
ship neither (they need click, rich and platformdirs, which no Lambda has)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Stage

from infra.constructs.container_tasks import TASK_CONTEXT
from infra.constructs.functions import image_context
from infra.stack import SluiceStack
from tests.infra.conftest import Resources

LAPTOP_ONLY = {"local", "cli", "client"}


def test_the_sluice_layer_ships_neither_the_client_nor_the_cli(
    stack: SluiceStack, resources: Resources
) -> None:
    layer_id = stack.resolve(stack.layers.sluice.node.default_child.logical_id)  # type: ignore[union-attr]
    key: str = resources[layer_id]["Properties"]["Content"]["S3Key"]
    app = Stage.of(stack)
    assert app is not None
    library = Path(app.outdir) / f"asset.{key.removesuffix('.zip')}" / "python" / "sluice"
    shipped = {path.relative_to(library).parts[0] for path in library.rglob("*")}
    assert "api" in shipped
    assert not shipped & LAPTOP_ONLY


def test_the_images_build_contexts_leave_out_the_client() -> None:
    for context in (TASK_CONTEXT, image_context("functions/networks/Dockerfile")):
        left_out = {rule.rsplit("/", 1)[-1] for rule in context if not rule.startswith("!")}
        assert left_out >= LAPTOP_ONLY
