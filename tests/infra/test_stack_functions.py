"""The catalogue's functions in the synthesised stack: each Lambda, its image or layers,
its environment, and what the sluice layer ships."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from aws_cdk import Stage
from sluice.catalog import CATALOG

from infra.constructs.layers import MANAGED_LAYERS
from infra.stack import SluiceStack
from tests.infra.conftest import Resources
from tests.infra.stack_queries import (
    ZIP_FUNCTIONS,
    function_id,
    logical_id,
)

pytestmark = pytest.mark.infra


def test_each_catalogue_function_is_one_lambda_with_its_handler_memory_and_timeout(
    stack: SluiceStack, resources: Resources
) -> None:
    for spec in ZIP_FUNCTIONS:
        props = resources[function_id(stack, spec.name)]["Properties"]
        assert (props["Handler"], props["MemorySize"], props["Timeout"]) == (
            spec.handler,
            spec.memory_mb,
            spec.timeout_s,
        )
        assert (props["Runtime"], props["Architectures"]) == ("python3.11", ["arm64"])
    sluice_layer = {"Ref": logical_id(stack, stack.layers.sluice)}
    sluice_functions = {
        key
        for key, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
        and sluice_layer in resource["Properties"].get("Layers", [])
    }
    assert sluice_functions == {function_id(stack, spec.name) for spec in ZIP_FUNCTIONS}


def test_an_image_function_runs_its_dockerfiles_image_with_its_handler(
    stack: SluiceStack, resources: Resources
) -> None:
    images = [spec for spec in CATALOG.functions if spec.image]
    assert [spec.name for spec in images] == ["networks", "networks_import", "training_predict"]
    codes = []
    for spec in images:
        props = resources[function_id(stack, spec.name)]["Properties"]
        assert props["PackageType"] == "Image" and "Layers" not in props
        assert props["ImageConfig"]["Command"] == [spec.handler]
        assert (props["MemorySize"], props["Timeout"]) == (spec.memory_mb, spec.timeout_s)
        assert props["Architectures"] == ["x86_64"]  # tensorflow-cpu's wheels
        codes.append(props["Code"])
    # Compile and import are one image (one build, one push), each its own handler.
    assert codes[0] == codes[1] != codes[2]


def test_an_images_build_context_is_the_library_and_its_function_only(
    stack: SluiceStack,
) -> None:
    app = Stage.of(stack)
    assert app is not None
    contexts = [
        path.parent for path in Path(app.outdir).glob("asset.*/functions/networks/Dockerfile")
    ]
    assert len(contexts) == 1
    context = contexts[0].parents[1]
    top = {path.name for path in context.iterdir()}
    assert top == {"functions", "layers", "pyproject.toml", "README.md"}
    assert {path.name for path in (context / "functions").iterdir()} == {"networks"}
    library = context / "layers/sluice/python/sluice"
    assert (library / "networks/manifests/layers.json").is_file()
    assert not {"local", "cli", "client"} & {path.name for path in library.iterdir()}


def test_function_environment_resolves_each_catalogue_reference(
    stack: SluiceStack, resources: Resources
) -> None:
    targets = {
        **{("table", n): {"Ref": logical_id(stack, t)} for n, t in stack.storage.tables.items()},
        **{("bucket", n): {"Ref": logical_id(stack, b)} for n, b in stack.storage.buckets.items()},
        **{
            ("state_machine", n): {"Ref": logical_id(stack, m)}
            for n, m in stack.workflows.by_name.items()
        },
        **{
            ("function", n): {"Fn::GetAtt": [logical_id(stack, f), "Arn"]}
            for n, f in stack.functions.by_name.items()
        },
        ("user_pool", "users"): {"Ref": logical_id(stack, stack.auth.user_pool)},
        ("user_pool_client", "users"): {"Ref": logical_id(stack, stack.auth.client)},
        **{
            ("glue_database", n): {"Ref": logical_id(stack, d)}
            for n, d in stack.query_catalog.resources.items()
        },
    }
    tasks = stack.container_tasks
    assert tasks is not None
    targets.update(
        {
            **{
                ("container_task", n): {"Ref": logical_id(stack, t.definition)}
                for n, t in tasks.by_name.items()
            },
            ("cluster", "tasks"): {"Fn::GetAtt": [logical_id(stack, tasks.cluster), "Arn"]},
            ("subnets", "tasks"): stack.resolve(tasks.subnet_ids),
            ("security_groups", "tasks"): {
                "Fn::GetAtt": [logical_id(stack, tasks.security_group), "GroupId"]
            },
        }
    )
    for spec in CATALOG.functions:
        expected = {
            key: ref.name if ref.kind == "value" else targets[(ref.kind, ref.name)]
            for key, ref in spec.environment.items()
        }
        props = resources[function_id(stack, spec.name)]["Properties"]
        assert props["Environment"]["Variables"] == expected, spec.name


def test_every_function_runs_with_the_regional_managed_layers_then_the_sluice_layer(
    stack: SluiceStack, resources: Resources
) -> None:
    managed = sorted(
        json.dumps({"Fn::Sub": layer.arn_template}) for layer in MANAGED_LAYERS.values()
    )
    assert all("${AWS::Region}" in layer.arn_template for layer in MANAGED_LAYERS.values())
    for spec in ZIP_FUNCTIONS:
        *first, last = resources[function_id(stack, spec.name)]["Properties"]["Layers"]
        assert sorted(json.dumps(layer) for layer in first) == managed
        assert last == {"Ref": logical_id(stack, stack.layers.sluice)}


def _imported_roots(source: Path) -> set[str]:
    """The top-level packages a Python file imports, anywhere in it."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_sluice_layer_ships_the_library_but_not_the_local_system_or_the_cli(
    stack: SluiceStack, resources: Resources
) -> None:
    # The layer's code is staged in the cloud assembly as asset.<hash>, the hash its S3 key names.
    key: str = resources[logical_id(stack, stack.layers.sluice)]["Properties"]["Content"]["S3Key"]
    app = Stage.of(stack)
    assert app is not None
    library = Path(app.outdir) / f"asset.{key.removesuffix('.zip')}" / "python" / "sluice"
    shipped = {path.relative_to(library).parts[0] for path in library.rglob("*")}
    assert {"api", "auth", "csv", "datasets", "inference", "ingest", "store", "tasks"} <= shipped
    assert {"catalog", "aws.py", "config.py", "errors.py"} <= shipped
    assert not shipped & {"local", "cli", "client"}
    # moto (and werkzeug, which serves it) are in no Lambda: nothing shipped may import them.
    importers = {
        str(path.relative_to(library)): roots & {"moto", "werkzeug"}
        for path in library.rglob("*.py")
        if (roots := _imported_roots(path)) & {"moto", "werkzeug"}
    }
    assert importers == {}
