"""The sluice stack: every resource of the catalogue, and nothing the catalogue lacks."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct
from sluice.catalog import CATALOG, Catalog

from infra.constructs.api import Api
from infra.constructs.auth import Auth
from infra.constructs.container_tasks import ContainerTasks
from infra.constructs.functions import Functions
from infra.constructs.layers import SharedLayers
from infra.constructs.naming import pascal
from infra.constructs.notifications import add_notifications
from infra.constructs.query_catalog import QueryCatalog
from infra.constructs.storage import Storage
from infra.constructs.wiring import CatalogWiringError, Resources
from infra.constructs.workflows import Workflows


class SluiceStack(Stack):
    """Builds the stack from ``catalog`` (the project's one catalogue unless a test passes
    another), so that the AWS deployment and ``sluice local`` cannot drift apart."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        catalog: Catalog = CATALOG,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.catalog = catalog
        self.layers = SharedLayers(self, "Layers")
        self.storage = Storage(self, "Storage", tables=catalog.tables, buckets=catalog.buckets)
        self.query_catalog = QueryCatalog(self, "QueryCatalog", specs=catalog.glue_databases)
        self.auth = Auth(self, "Auth", spec=catalog.user_pool)
        self.functions = Functions(self, "Functions", specs=catalog.functions, layers=self.layers)
        self.container_tasks = (
            ContainerTasks(self, "ContainerTasks", specs=catalog.container_tasks)
            if catalog.container_tasks
            else None
        )
        self.workflows = Workflows(
            self,
            "Workflows",
            specs=catalog.state_machines,
            functions=self.functions,
            container_tasks=self.container_tasks,
            buckets=self.storage.buckets,
        )
        tasks = self.container_tasks
        resources = Resources(
            tables=self.storage.tables,
            buckets=self.storage.buckets,
            state_machines=self.workflows.by_name,
            user_pool_name=catalog.user_pool.name,
            user_pool=self.auth.user_pool,
            user_pool_client=self.auth.client,
            functions=self.functions.by_name,
            container_tasks={
                name: task.definition.task_definition_arn for name, task in tasks.by_name.items()
            }
            if tasks
            else {},
            cluster=tasks.cluster.cluster_arn if tasks else "",
            subnets=tasks.subnet_ids if tasks else "",
            security_groups=tasks.security_group.security_group_id if tasks else "",
            glue_databases=self.query_catalog.by_name,
        )
        self.functions.wire(resources)
        if tasks is not None:
            tasks.wire(resources)
        add_notifications(
            catalog.notifications, buckets=self.storage.buckets, functions=self.functions
        )
        self.api = self._api()
        self._outputs()

    def _api(self) -> Api:
        public = self.functions.public_api()
        if len(public) != 1:
            # The routes (auth, docs, everything else) belong to one router function.
            names = [spec.name for spec, _ in public]
            raise CatalogWiringError(f"expected one public_api function, found {names}")
        _, handler = public[0]
        return Api(self, "Api", handler=handler, user_pool=self.auth.user_pool)

    def _outputs(self) -> None:
        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the HTTP API")
        CfnOutput(self, "UserPoolId", value=self.auth.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.auth.client.user_pool_client_id)
        for name, table in self.storage.tables.items():
            CfnOutput(self, f"{pascal(name)}Table", value=table.table_name)
        for name, bucket in self.storage.buckets.items():
            CfnOutput(self, f"{pascal(name)}Bucket", value=bucket.bucket_name)
        for name, machine in self.workflows.by_name.items():
            CfnOutput(self, f"{pascal(name)}StateMachineArn", value=machine.state_machine_arn)
        for name, database in self.query_catalog.by_name.items():
            CfnOutput(
                self,
                f"{pascal(name)}GlueDatabase",
                value=database.ref,
                description='Athena: SELECT ... FROM "<this>"."<dataset\'s query_table>"',
            )
