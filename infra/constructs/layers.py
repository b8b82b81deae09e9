"""The Lambda layers every sluice function runs with."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Fn
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from sluice.catalog import PROJECT_ROOT
from sluice.console.files import missing_vendor_files

RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64

SLUICE_LAYER_DIR = "layers/sluice"
"""The ``sluice`` library laid out as a layer wants it (``python/sluice/...``)."""

# Build and tool leftovers that must not ship in the layer (nor change its hash).
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/*.egg-info", "**/.pytest_cache"]

LAYER_EXCLUDES = [
    *ASSET_EXCLUDES,
    "python/sluice/local",
    "python/sluice/cli",
    "python/sluice/client",
]
"""What of the library only runs on a laptop stays out of the layer too: the local system
(it imports moto, which no Lambda has), the CLI that starts it, and the HTTP client the
CLI is built on (it needs click, rich and platformdirs, which no Lambda has)."""


@dataclass(frozen=True)
class ManagedLayer:
    """A layer that AWS publishes in every commercial region under one account."""

    account: str
    name: str
    version: int

    @property
    def arn_template(self) -> str:
        """The layer version ARN with ``${AWS::Region}`` left for CloudFormation to fill."""
        return f"arn:aws:lambda:${{AWS::Region}}:{self.account}:layer:{self.name}:{self.version}"


# The managed layers, for Python 3.11 on arm64; bump the versions here and nowhere else.
# - AWS SDK for pandas (pyarrow, pandas, awswrangler): its version numbers differ a
#   little per region (its table for release 3.16.1 lists 30 in af-south-1 and 31 in
#   ap-northeast-1), and a lower number is an older release of the same layer, so 30
#   is picked as the one likelier to exist everywhere; `aws lambda list-layer-versions
#   --layer-name AWSSDKPandas-Python311-Arm64` shows what a region has. Opt-in regions such as
#   ap-east-1 publish it from another account and are not covered.
# - Powertools for AWS Lambda (Python) v3: one version number across regions.
MANAGED_LAYERS: dict[str, ManagedLayer] = {
    "SdkPandas": ManagedLayer(
        account="336392948345", name="AWSSDKPandas-Python311-Arm64", version=30
    ),
    "Powertools": ManagedLayer(
        account="017000801446", name="AWSLambdaPowertoolsPythonV3-python311-arm64", version=27
    ),
}


class ConsoleNotBuilt(Exception):
    """The web console's vendored files are missing: the layer would serve a console
    without its chart library."""


def check_console_vendored() -> None:
    """Raise ``ConsoleNotBuilt`` unless the console's vendored files are in the layer's
    folder (``make install`` copies them from node_modules; they are git-ignored)."""
    missing = missing_vendor_files()
    if missing:
        raise ConsoleNotBuilt(
            f"the web console's vendored files are missing ({', '.join(missing)} under "
            "layers/sluice/python/sluice/console/static): run `make install` before synth"
        )


class SharedLayers(Construct):
    """The ``sluice`` library as a layer, plus the AWS-managed layers it depends on."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # The api function serves the console from this layer (sluice.api.console).
        check_console_vendored()
        self.sluice = lambda_.LayerVersion(
            self,
            "Sluice",
            code=lambda_.Code.from_asset(
                str(PROJECT_ROOT / SLUICE_LAYER_DIR), exclude=LAYER_EXCLUDES
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="The sluice library (catalogue, store, tables, pipelines, api).",
        )
        managed = [
            lambda_.LayerVersion.from_layer_version_arn(
                self, f"Managed{name}", Fn.sub(layer.arn_template)
            )
            for name, layer in MANAGED_LAYERS.items()
        ]
        # Lambda unpacks layers in order, a later one winning a file clash in /opt, and
        # CDK sorts a function's layers by construct path: "Managed..." ids sort before
        # "Sluice", so our own library stays last whatever the managed layers ship.
        self.all: list[lambda_.ILayerVersion] = [*managed, self.sluice]
