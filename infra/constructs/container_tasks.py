"""The catalogue's container tasks (the trainer): a Fargate task definition per task, its
image built from its Dockerfile (``cdk synth`` only stages it), the ECS cluster and the
network they run in, and what a state machine needs to run them (``ecs:runTask.sync``).

The network has no NAT gateway: public subnets, a public IP per task (``AssignPublicIp``
in train_model.asl.json) and a security group that lets nothing in and only HTTPS out;
S3 and DynamoDB are reached through gateway endpoints (free), so the data never crosses
the internet. docs/architecture.md says why this rather than interface endpoints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aws_cdk import Duration, IgnoreMode, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from sluice.catalog import PROJECT_ROOT, ContainerTaskSpec

from infra.constructs.nag import accept, accept_wildcards
from infra.constructs.naming import pascal
from infra.constructs.wiring import Resources

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
TASK_CONTEXT = [
    "*",
    "!pyproject.toml",
    "!README.md",
    "!layers/sluice/python/sluice",
    "**/__pycache__",
    "**/*.pyc",
    "layers/sluice/python/sluice/local",
    "layers/sluice/python/sluice/cli",
    "layers/sluice/python/sluice/client",
]
"""What of the project root a task image's build sees: the library and what pip needs."""
SYNC_RULE = "StepFunctionsGetEventsForECSTaskRule"
"""The managed rule through which Step Functions learns that a ``.sync`` task stopped."""


@dataclass(frozen=True)
class ContainerTask:
    spec: ContainerTaskSpec
    definition: ecs.FargateTaskDefinition
    container: ecs.ContainerDefinition


class ContainerTasks(Construct):
    """The cluster, its network and one Fargate task definition per ``ContainerTaskSpec``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, specs: Iterable[ContainerTaskSpec]
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="tasks", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                )
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDb": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        self.vpc.add_flow_log("FlowLog")
        self.security_group = ec2.SecurityGroup(
            self,
            "TaskSecurityGroup",
            vpc=self.vpc,
            description="sluice container tasks: nothing in, HTTPS out (AWS APIs only)",
            allow_all_outbound=False,
        )
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to ECR, S3, DynamoDB and CloudWatch Logs"
        )
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.by_name: dict[str, ContainerTask] = {spec.name: self._task(spec) for spec in specs}

    def _task(self, spec: ContainerTaskSpec) -> ContainerTask:
        construct_id = pascal(spec.name)
        definition = ecs.FargateTaskDefinition(
            self,
            f"{construct_id}Task",
            cpu=spec.cpu,
            memory_limit_mib=spec.memory_mb,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,  # tensorflow-cpu's wheels
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        container = definition.add_container(
            spec.container_name,
            image=ecs.ContainerImage.from_asset(
                str(PROJECT_ROOT),
                file=spec.dockerfile,
                platform=ecr_assets.Platform.LINUX_AMD64,
                exclude=TASK_CONTEXT,
                ignore_mode=IgnoreMode.DOCKER,
            ),
            command=list(spec.command),
            essential=True,
            stop_timeout=Duration.seconds(spec.stop_timeout_s),
            logging=ecs.LogDrivers.aws_logs(stream_prefix=spec.name, log_group=log_group),
        )
        accept(
            definition,
            "ECS2",
            "the environment holds the names of the table and buckets (from the catalogue) "
            "and glibc's heap settings, no secret; each run adds only its job's owner and id",
        )
        if definition.execution_role is not None:
            accept_wildcards(
                definition.execution_role,
                "ecr:GetAuthorizationToken takes no resource ARN: IAM accepts only '*'",
                ["Resource::*"],
            )
        return ContainerTask(spec, definition, container)

    def __getitem__(self, name: str) -> ContainerTask:
        return self.by_name[name]

    @property
    def subnet_ids(self) -> str:
        return ",".join(subnet.subnet_id for subnet in self.vpc.public_subnets)

    def wire(self, resources: Resources) -> None:
        """Each task's environment and its task role's grants (what its code may do)."""
        for task in self.by_name.values():
            for key, ref in task.spec.environment.items():
                task.container.add_environment(key, resources.resolve(ref))
            for grant in task.spec.grants:
                resources.grant(task.definition.task_role, grant)

    def grant_run(self, machine: sfn.StateMachine, names: Iterable[str]) -> None:
        """What ``ecs:runTask.sync`` needs: run these task definitions in the cluster, pass
        their two roles, follow and stop their tasks, and the managed rule of ``.sync``."""
        stack = Stack.of(self)
        tasks = [self[name] for name in names]
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:RunTask"],
                resources=[task.definition.task_definition_arn for task in tasks],
                conditions={"ArnEquals": {"ecs:cluster": self.cluster.cluster_arn}},
            )
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:StopTask", "ecs:DescribeTasks"],
                resources=[
                    stack.format_arn(
                        service="ecs",
                        resource="task",
                        resource_name=f"{self.cluster.cluster_name}/*",
                    )
                ],
            )
        )
        roles = [task.definition.task_role.role_arn for task in tasks] + [
            task.definition.execution_role.role_arn
            for task in tasks
            if task.definition.execution_role is not None
        ]
        machine.add_to_role_policy(iam.PolicyStatement(actions=["iam:PassRole"], resources=roles))
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[
                    stack.format_arn(service="events", resource="rule", resource_name=SYNC_RULE)
                ],
            )
        )
