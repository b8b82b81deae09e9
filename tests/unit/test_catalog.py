"""The catalogue is the single description both deployments build from."""

from __future__ import annotations

import json
import re

import pytest
from sluice.catalog import CATALOG, FunctionSpec
from sluice.local.lambda_runtime import load_handler
from sluice.local.provision import Deployment, substitute

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@pytest.mark.parametrize("spec", CATALOG.functions, ids=lambda s: s.name)
def test_every_function_names_a_handler_that_exists(spec: FunctionSpec) -> None:
    assert spec.module_path.is_file()
    assert callable(load_handler(spec))


def test_function_names_are_unique() -> None:
    names = [spec.name for spec in CATALOG.functions]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("machine", CATALOG.state_machines, ids=lambda m: m.name)
def test_every_placeholder_in_an_asl_file_has_a_substitution(machine) -> None:  # type: ignore[no-untyped-def]
    text = machine.definition_path.read_text()
    assert set(PLACEHOLDER.findall(text)) == set(machine.functions)


@pytest.mark.parametrize("machine", CATALOG.state_machines, ids=lambda m: m.name)
def test_state_machines_call_only_catalogued_functions(machine) -> None:  # type: ignore[no-untyped-def]
    for function in machine.functions.values():
        CATALOG.function(function)


@pytest.mark.parametrize("machine", CATALOG.state_machines, ids=lambda m: m.name)
def test_a_substituted_definition_is_valid_json(machine) -> None:  # type: ignore[no-untyped-def]
    values = {
        key: f"arn:aws:lambda:us-east-1:123456789012:function:{fn}"
        for key, fn in machine.functions.items()
    }
    definition = json.loads(substitute(machine.definition_path.read_text(), values))
    assert definition["StartAt"] in definition["States"]


def test_substitute_refuses_an_unknown_placeholder() -> None:
    with pytest.raises(KeyError, match="Missing"):
        substitute('{"Resource": "${Missing}"}', {})


def test_notifications_and_grants_name_catalogued_resources() -> None:
    buckets = {b.name for b in CATALOG.buckets}
    tables = {t.name for t in CATALOG.tables}
    machines = {m.name for m in CATALOG.state_machines}
    databases = {d.name for d in CATALOG.glue_databases}
    known = {
        "bucket": buckets,
        "table": tables,
        "state_machine": machines,
        "glue_database": databases,
    }
    for note in CATALOG.notifications:
        assert note.bucket in buckets
        CATALOG.function(note.function)
    for spec in CATALOG.functions:
        refs = [grant.target for grant in spec.grants] + list(spec.environment.values())
        for ref in refs:
            if ref.kind in known:
                assert ref.name in known[ref.kind], (spec.name, ref)


def test_every_environment_reference_resolves_locally() -> None:
    deployment = Deployment(
        endpoint="http://127.0.0.1:1",
        tables={t.name: f"t-{t.name}" for t in CATALOG.tables},
        buckets={b.name: f"b-{b.name}" for b in CATALOG.buckets},
        state_machines={m.name: f"arn:{m.name}" for m in CATALOG.state_machines},
        functions={f.name: f"arn:function:{f.name}" for f in CATALOG.functions},
        user_pool_id="pool",
        user_pool_client_id="client",
        container_tasks={t.name: f"arn:task-definition:{t.name}" for t in CATALOG.container_tasks},
        cluster="arn:cluster",
        subnets="subnet-1,subnet-2",
        security_groups="sg-1",
        glue_databases={d.name: f"db_{d.name}" for d in CATALOG.glue_databases},
    )
    env = deployment.environment(CATALOG)
    assert env["SLUICE_TABLE"] == "t-records"
    assert env["SLUICE_INGEST_STATE_MACHINE_ARN"] == "arn:ingest_dataset"
    assert env["SLUICE_USER_POOL_CLIENT_ID"] == "client"
    assert env["SLUICE_NETWORKS_FUNCTION"] == "arn:function:networks"
    assert env["SLUICE_TRAINER_TASK_DEFINITION"] == "arn:task-definition:trainer"
    assert env["SLUICE_TRAINER_SUBNETS"] == "subnet-1,subnet-2"
    assert env["SLUICE_GLUE_DATABASE"] == "db_datasets"


def test_only_what_makes_or_deletes_a_ready_dataset_touches_the_glue_catalogue() -> None:
    # The ingest's and the operations' Finish and the predictor register a ready dataset's
    # table; deleting the dataset (the api) removes it; the backfill registers the ready
    # datasets that have none.
    touching = [
        spec.name
        for spec in (*CATALOG.functions, *CATALOG.container_tasks)
        if any(grant.target.kind == "glue_database" for grant in spec.grants)
    ]
    assert touching == ["api", "ingest_finish", "catalog_backfill", "operation_finish", "predictor"]


def test_the_api_is_the_only_public_function() -> None:
    assert [spec.name for spec in CATALOG.functions if spec.public_api] == ["api"]
