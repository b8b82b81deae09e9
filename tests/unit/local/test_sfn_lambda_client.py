"""sluice.local.patches.sfn_lambda_client: Step Functions' Lambda tasks share a client
made as moto makes one, per region and server port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from sluice.local.patches import sfn_lambda_client


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MOTO_PORT", "45123")
    sfn_lambda_client.install()
    yield


def test_install_is_idempotent() -> None:
    sfn_lambda_client.install()
    patched = lambda_eval_utils.boto_client_for
    sfn_lambda_client.install()
    assert lambda_eval_utils.boto_client_for is patched
    assert sfn_lambda_client.installed()


@pytest.mark.usefixtures("shared")
def test_a_lambda_task_reuses_the_client_of_its_region_and_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = lambda_eval_utils.boto_client_for(region="eu-west-1", service="lambda")
    assert lambda_eval_utils.boto_client_for(region="eu-west-1", service="lambda") is first
    assert lambda_eval_utils.boto_client_for(region="us-east-1", service="lambda") is not first
    monkeypatch.setenv("MOTO_PORT", "45124")  # another local system's server
    moved = lambda_eval_utils.boto_client_for(region="eu-west-1", service="lambda")
    assert moved is not first
    assert moved.meta.endpoint_url == "http://localhost:45124"


@pytest.mark.usefixtures("shared")
def test_the_shared_client_is_motos_with_a_larger_pool() -> None:
    ours = lambda_eval_utils.boto_client_for(region="eu-west-1", service="lambda")
    own = boto_client_for(region="eu-west-1", service="lambda")
    assert ours.meta.endpoint_url == own.meta.endpoint_url == "http://localhost:45123"
    assert ours.meta.region_name == own.meta.region_name
    mine, motos = ours._request_signer._credentials, own._request_signer._credentials
    assert (mine.access_key, mine.secret_key) == (motos.access_key, motos.secret_key)
    for setting in ("parameter_validation", "retries", "connect_timeout", "read_timeout"):
        assert getattr(ours.meta.config, setting) == getattr(own.meta.config, setting), setting
    assert ours.meta.config.max_pool_connections == sfn_lambda_client.POOL_CONNECTIONS
