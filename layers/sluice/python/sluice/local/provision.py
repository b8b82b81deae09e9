"""Create every resource of the catalogue in the embedded AWS.

The local twin of infra/: the same catalogue, the same ASL files with the same
substitutions, the same S3 notification, so what runs locally is what deploys.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3

from sluice.catalog import Catalog, Ref

PREFIX = "sluice"
ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class Deployment:
    """Names and ARNs of what was created, and how to reach it."""

    endpoint: str
    tables: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)  # catalogue name -> ARN
    state_machines: dict[str, str] = field(default_factory=dict)  # catalogue name -> ARN
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    container_tasks: dict[str, str] = field(default_factory=dict)  # name -> task definition
    cluster: str = ""
    subnets: str = ""  # comma-separated ids
    security_groups: str = ""
    glue_databases: dict[str, str] = field(default_factory=dict)  # catalogue name -> name

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint}/{self.user_pool_id}/.well-known/jwks.json"

    def resolve(self, ref: Ref) -> str:
        """The local value of a catalogue reference."""
        match ref.kind:
            case "table":
                return self.tables[ref.name]
            case "bucket":
                return self.buckets[ref.name]
            case "state_machine":
                return self.state_machines[ref.name]
            case "function":
                return self.functions[ref.name]
            case "user_pool":
                return self.user_pool_id
            case "user_pool_client":
                return self.user_pool_client_id
            case "container_task":
                return self.container_tasks[ref.name]
            case "cluster":
                return self.cluster
            case "subnets":
                return self.subnets
            case "security_groups":
                return self.security_groups
            case "glue_database":
                return self.glue_databases[ref.name]
            case "value":
                return ref.name
        raise ValueError(f"unknown reference kind {ref.kind}")

    def environment(self, catalog: Catalog) -> dict[str, str]:
        """Every function's environment, merged: locally they share one process."""
        env: dict[str, str] = {}
        for spec in catalog.functions:
            for key, ref in spec.environment.items():
                env[key] = self.resolve(ref)
        return env


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _stub_zip() -> bytes:
    # moto wants code to store; the hook runs the real handler from functions/ instead.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "sluice local runs this function in-process\n")
    return buffer.getvalue()


def substitute(definition: str, values: dict[str, str]) -> str:
    """Replace ${Name} placeholders as CloudFormation's DefinitionSubstitutions does."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no substitution for ${{{name}}}")
        return values[name]

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}", value_of, definition)


def provision(catalog: Catalog, endpoint: str) -> Deployment:
    """Create the catalogue's resources in the AWS at ``endpoint``."""
    deployment = Deployment(endpoint=endpoint)
    iam = _client("iam", endpoint)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role_arn = iam.create_role(
        RoleName=f"{PREFIX}-local", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]

    dynamodb = _client("dynamodb", endpoint)
    for table in catalog.tables:
        name = f"{PREFIX}-{table.name}"
        dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=[
                {"AttributeName": table.partition_key, "AttributeType": "S"},
                {"AttributeName": table.sort_key, "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": table.partition_key, "KeyType": "HASH"},
                {"AttributeName": table.sort_key, "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        deployment.tables[table.name] = name

    s3 = _client("s3", endpoint)
    for bucket in catalog.buckets:
        name = f"{PREFIX}-{bucket.name}"
        s3.create_bucket(Bucket=name)
        if bucket.versioned:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_cors(
            Bucket=name,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedMethods": ["GET", "POST", "PUT"],
                        "AllowedOrigins": ["*"],
                        "AllowedHeaders": ["*"],
                        # As in AWS (infra's upload CORS): a page sending parts must read
                        # each part's ETag to complete the upload.
                        "ExposeHeaders": ["ETag"],
                    }
                ]
            },
        )
        deployment.buckets[bucket.name] = name

    glue = _client("glue", endpoint)
    for database in catalog.glue_databases:
        # Glue names are lower case, with underscores (Athena's rule for a database too).
        name = f"{PREFIX}_{database.name}"
        glue.create_database(
            DatabaseInput={"Name": name, "Description": "sluice: every ready dataset, a table"}
        )
        deployment.glue_databases[database.name] = name

    cognito = _client("cognito-idp", endpoint)
    pool = catalog.user_pool
    pool_id = cognito.create_user_pool(
        PoolName=f"{PREFIX}-{pool.name}",
        Policies={"PasswordPolicy": pool.password_policy()},
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=pool.client_name,
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    deployment.user_pool_id, deployment.user_pool_client_id = pool_id, client_id

    lambda_ = _client("lambda", endpoint)
    code = _stub_zip()
    for spec in catalog.functions:
        arn = lambda_.create_function(
            FunctionName=f"{PREFIX}-{spec.name}",
            Runtime="python3.11",
            Role=role_arn,
            Handler=spec.handler,
            Code={"ZipFile": code},
            MemorySize=spec.memory_mb,
            Timeout=spec.timeout_s,
        )["FunctionArn"]
        deployment.functions[spec.name] = arn

    _provision_container_tasks(catalog, deployment)

    sfn = _client("stepfunctions", endpoint)
    for machine in catalog.state_machines:
        definition = substitute(
            machine.definition_path.read_text(),
            {key: deployment.functions[fn] for key, fn in machine.functions.items()},
        )
        deployment.state_machines[machine.name] = sfn.create_state_machine(
            name=f"{PREFIX}-{machine.name}", definition=definition, roleArn=role_arn
        )["stateMachineArn"]

    by_bucket: dict[str, list[dict[str, Any]]] = {}
    for note in catalog.notifications:
        by_bucket.setdefault(note.bucket, []).append(
            {
                "LambdaFunctionArn": deployment.functions[note.function],
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": note.prefix}]}},
            }
        )
    for bucket_name, configs in by_bucket.items():
        s3.put_bucket_notification_configuration(
            Bucket=deployment.buckets[bucket_name],
            NotificationConfiguration={"LambdaFunctionConfigurations": configs},
        )
    return deployment


def _provision_container_tasks(catalog: Catalog, deployment: Deployment) -> None:
    """The container tasks' network (moto's ECS wants a real subnet and security group
    for an awsvpc task, and DNS hostnames on their VPC), cluster and task definitions.
    Locally a task runs its command as a process (``sluice.local.patches.ecs_tasks``)."""
    if not catalog.container_tasks:
        return
    ec2 = _client("ec2", deployment.endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(
        GroupName=f"{PREFIX}-tasks", Description="sluice container tasks", VpcId=vpc
    )["GroupId"]
    deployment.subnets, deployment.security_groups = subnet, group
    ecs = _client("ecs", deployment.endpoint)
    deployment.cluster = ecs.create_cluster(clusterName=f"{PREFIX}-tasks")["cluster"]["clusterArn"]
    for spec in catalog.container_tasks:
        environment = [
            {"name": key, "value": deployment.resolve(ref)} for key, ref in spec.environment.items()
        ]
        deployment.container_tasks[spec.name] = ecs.register_task_definition(
            family=f"{PREFIX}-{spec.name}",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu=str(spec.cpu),
            memory=str(spec.memory_mb),
            containerDefinitions=[
                {
                    "name": spec.container_name,
                    "image": f"{PREFIX}-{spec.name}:local",
                    "essential": True,
                    "memory": spec.memory_mb,  # moto sums the containers' (ECS need not)
                    "command": list(spec.command),
                    "environment": environment,
                    "stopTimeout": spec.stop_timeout_s,
                }
            ],
        )["taskDefinition"]["taskDefinitionArn"]


def create_user(deployment: Deployment, username: str, password: str) -> None:
    """A confirmed user with a permanent password."""
    cognito = _client("cognito-idp", deployment.endpoint)
    cognito.admin_create_user(
        UserPoolId=deployment.user_pool_id, Username=username, MessageAction="SUPPRESS"
    )
    cognito.admin_set_user_password(
        UserPoolId=deployment.user_pool_id, Username=username, Password=password, Permanent=True
    )
