"""The Lambda functions of the catalogue, created first and wired once everything exists."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from aws_cdk import Duration, IgnoreMode, RemovalPolicy
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from sluice.catalog import PROJECT_ROOT, FunctionSpec

from infra.constructs.layers import ARCHITECTURE, ASSET_EXCLUDES, RUNTIME, SharedLayers
from infra.constructs.nag import XRAY, accept, accept_wildcards
from infra.constructs.naming import pascal
from infra.constructs.wiring import Resources

LOG_RETENTION = logs.RetentionDays.ONE_MONTH


def image_context(dockerfile: str) -> list[str]:
    """What of the project root an image's build may see (Docker's ignore rules: all but
    the library, the folder of the image's Dockerfile and what pip needs to install the
    library), so that an image changes only with its own code. The local system, the CLI
    and the client stay out, as they stay out of the layer."""
    return [
        "*",
        "!pyproject.toml",
        "!README.md",
        "!layers/sluice/python/sluice",
        f"!{PurePosixPath(dockerfile).parent}",
        "**/__pycache__",
        "**/*.pyc",
        "layers/sluice/python/sluice/local",
        "layers/sluice/python/sluice/cli",
        "layers/sluice/python/sluice/client",
    ]


class Functions(Construct):
    """One Lambda function per ``FunctionSpec``, reachable by catalogue name.

    Creation and wiring are two steps because the references go both ways: the
    ingest state machine needs the ARNs of its step functions, and ``on_upload``
    needs the state machine's ARN. Functions come first (without environment or
    grants), then the state machines, then :meth:`wire` resolves every reference.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: Iterable[FunctionSpec],
        layers: SharedLayers,
    ) -> None:
        super().__init__(scope, construct_id)
        self.specs: dict[str, FunctionSpec] = {spec.name: spec for spec in specs}
        # One asset per code folder: the ingest steps share a folder, and so one upload.
        self._code: dict[str, lambda_.Code] = {}
        self.by_name: dict[str, lambda_.Function] = {
            name: self._function(spec, layers) for name, spec in self.specs.items()
        }

    def __getitem__(self, name: str) -> lambda_.Function:
        """The function the catalogue calls ``name``."""
        try:
            return self.by_name[name]
        except KeyError:
            known = ", ".join(sorted(self.by_name))
            raise KeyError(f"function {name!r} is not in the catalogue (known: {known})") from None

    def public_api(self) -> list[tuple[FunctionSpec, lambda_.Function]]:
        """The functions that API Gateway fronts."""
        return [(spec, self.by_name[name]) for name, spec in self.specs.items() if spec.public_api]

    def wire(self, resources: Resources) -> None:
        """Give each function its environment and its grants, now that all targets exist."""
        for name, spec in self.specs.items():
            function = self.by_name[name]
            for key, ref in spec.environment.items():
                function.add_environment(key, resources.resolve(ref))
            for grant in spec.grants:
                resources.grant(function, grant)

    def _function(self, spec: FunctionSpec, layers: SharedLayers) -> lambda_.Function:
        construct_id = pascal(spec.name)
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=LOG_RETENTION,
            # Logs expire anyway; keeping them after the stack is gone only leaves litter.
            removal_policy=RemovalPolicy.DESTROY,
        )
        # A role of its own instead of CDK's default, which attaches the managed
        # AWSLambdaBasicExecutionRole (logs:CreateLogGroup and writes to any log group):
        # the function may write to its own log group, which exists before it runs.
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"sluice {spec.name}: its log group, traces and catalogue grants",
        )
        log_group.grant_write(role)
        if spec.image:
            return self._image_function(spec, construct_id, log_group, role)
        function = lambda_.Function(
            self,
            construct_id,
            description=f"sluice {spec.name} ({spec.code_dir}/{spec.handler})",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=self._code_for(spec.code_dir),
            handler=spec.handler,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            layers=layers.all,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
        )
        accept_wildcards(role, XRAY, ["Resource::*"])
        accept(
            function,
            "L1",
            f"{RUNTIME.name} on purpose: the managed layers it runs with are built for it "
            "(MANAGED_LAYERS: AWSSDKPandas-Python311-Arm64, Powertools' python311-arm64) and "
            "the project targets it (requires-python, ruff, mypy); a newer runtime moves "
            "with those layers, in infra/constructs/layers.py",
        )
        return function

    def _image_function(
        self, spec: FunctionSpec, construct_id: str, log_group: logs.ILogGroup, role: iam.Role
    ) -> lambda_.Function:
        """A function run from its Dockerfile's image (its handler is the image's CMD)."""
        assert spec.image is not None
        function = lambda_.DockerImageFunction(
            self,
            construct_id,
            description=f"sluice {spec.name} ({spec.image}: {spec.handler})",
            code=lambda_.DockerImageCode.from_image_asset(
                str(PROJECT_ROOT),
                file=spec.image,
                cmd=[spec.handler],
                platform=ecr_assets.Platform.LINUX_AMD64,
                exclude=image_context(spec.image),
                ignore_mode=IgnoreMode.DOCKER,
            ),
            architecture=lambda_.Architecture.X86_64,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
        )
        accept_wildcards(role, XRAY, ["Resource::*"])
        return function

    def _code_for(self, code_dir: str) -> lambda_.Code:
        if code_dir not in self._code:
            self._code[code_dir] = lambda_.Code.from_asset(
                str(PROJECT_ROOT / code_dir), exclude=ASSET_EXCLUDES
            )
        return self._code[code_dir]
