"""The CDK stack, synthesised offline from the catalogue, and checked resource by resource.

The app is synthesised once per module in-process (the assertions) and once through
the pinned CDK CLI (``npx cdk synth`` then cfn-lint). The CLI runs ``python3 -m infra.app``
as ``cdk.json`` says, so the interpreter running these tests (the project's virtualenv)
is put first on PATH for it: run them as
``PATH=$PWD/.venv/bin:$PATH .venv/bin/pytest tests/infra``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_cdk.assertions import Annotations, Match, Template
from sluice.catalog import CATALOG, PROJECT_ROOT

from infra.app import STACK_NAME, build_app, cdk_json_context
from infra.constructs.wiring import CatalogWiringError
from infra.stack import SluiceStack
from tests.infra.conftest import Resources
from tests.support import run_command

pytestmark = pytest.mark.infra


CDK_CLI = PROJECT_ROOT / "node_modules" / ".bin" / "cdk"

# W3005 (DependsOn already implied by a GetAtt): CDK makes each function and state
# machine DependsOn its role *and* the role's default policy on purpose, so that nothing
# runs before its permissions exist; the role half of that pair is what W3005 reports.
CFN_LINT_IGNORED = ("W3005",)


def test_outputs_name_the_entry_points(template: Template) -> None:
    assert set(template.to_json()["Outputs"]) == {
        "ApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "RecordsTable",
        "UploadsBucket",
        "DataBucket",
        "IngestDatasetStateMachineArn",
        "ExportDatasetStateMachineArn",
        "RunTaskStateMachineArn",
        "RunOperationStateMachineArn",
        "ImportModelStateMachineArn",
        "TrainModelStateMachineArn",
        "PredictDatasetStateMachineArn",
        "DatasetsGlueDatabase",
    }


def test_synthesis_reports_no_warnings_or_errors(stack: SluiceStack) -> None:
    annotations = Annotations.from_stack(stack)
    assert annotations.find_warning("*", Match.any_value()) == []
    assert annotations.find_error("*", Match.any_value()) == []


def test_a_placeholder_without_a_catalogue_substitution_fails_synthesis(
    tmp_path: Path,
) -> None:
    machine = CATALOG.state_machines[0]
    functions = {k: v for k, v in machine.functions.items() if k != "ScanChunkFunctionArn"}
    broken = machine.model_copy(update={"functions": functions})
    catalog = CATALOG.model_copy(update={"state_machines": (broken,)})
    app, _ = build_app(context=cdk_json_context(), outdir=str(tmp_path))
    with pytest.raises(CatalogWiringError, match="ScanChunkFunctionArn"):
        SluiceStack(app, "Broken", catalog=catalog)


@pytest.fixture(scope="module")
def cli_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The template the pinned CDK CLI synthesises, as ``cdk deploy`` would."""
    if not CDK_CLI.exists():
        pytest.skip("the CDK CLI is not installed: run `npm ci` at the repository root")
    outdir = tmp_path_factory.mktemp("cli.out")
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", "")]),
        # Offline and quiet: no version check, telemetry or notices over the network.
        "CDK_DISABLE_VERSION_CHECK": "1",
        "CDK_DISABLE_CLI_TELEMETRY": "1",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    run_command([str(CDK_CLI), "synth", "--quiet", "--no-notices", "-o", str(outdir)], env)
    yield outdir / f"{STACK_NAME}.template.json"


def test_cdk_cli_synthesises_a_template_that_passes_cfn_lint(cli_template: Path) -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    result = subprocess.run(
        [cfn_lint, "--ignore-checks", *CFN_LINT_IGNORED, "--", str(cli_template)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cdk_cli_synthesises_the_same_resources_as_the_in_process_app(
    cli_template: Path, template: Template
) -> None:
    # The deployment's id hashes the whole API and CDKMetadata exists only under the CLI;
    # everything else differing would mean the tests see other feature flags than cdk.json.
    def kinds(resources: Resources) -> dict[str, str]:
        return {
            key: r["Type"]
            for key, r in resources.items()
            if r["Type"] not in ("AWS::ApiGateway::Deployment", "AWS::CDK::Metadata")
        }

    cli = json.loads(cli_template.read_text(encoding="utf-8"))
    assert kinds(cli["Resources"]) == kinds(template.to_json()["Resources"])
