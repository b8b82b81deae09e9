"""sluice.local.patches.service_regions: botocore lists a service's regions as it would,
without keeping the service's model."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.session import Session
from sluice.local.patches import replace, service_regions

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
# The services the local system's moto backends ask about, and services whose endpoint
# prefix is not their name (DocumentDB and Neptune resolve as rds, SSO as portal.sso).
SERVICES = (
    "cognito-idp",
    "dynamodb",
    "ec2",
    "ecs",
    "glue",
    "iam",
    "lambda",
    "logs",
    "s3",
    "stepfunctions",
    "sts",
    "docdb",
    "neptune",
    "sso",
    "cloudwatch",
)


def _botocores_own(service: str, partition: str, non_regional: bool = False) -> list[str]:
    own = replace.original(Session, "get_available_regions")
    answer: list[str] = own(botocore.session.get_session(), service, partition, non_regional)
    return answer


@pytest.mark.parametrize("service", SERVICES)
def test_regions_are_botocores_own_in_every_partition(service: str) -> None:
    service_regions.install()
    session = botocore.session.get_session()
    for partition in PARTITIONS:
        assert session.get_available_regions(service, partition) == _botocores_own(
            service, partition
        )
    assert session.get_available_regions(service, "aws", True) == _botocores_own(
        service, "aws", True
    )


def test_a_session_keeps_no_service_model_after_listing_regions() -> None:
    service_regions.install()
    session = botocore.session.get_session()
    assert "us-east-1" in session.get_available_regions("ec2")
    cached = session.get_component("data_loader")._cache
    loads = ("load_service_model", "load_data_with_path")
    assert [key for key in cached if key[0] in loads and "service-2" in str(key)] == []


def test_an_unknown_service_has_no_regions() -> None:
    service_regions.install()
    assert botocore.session.get_session().get_available_regions("no-such-service") == []
    assert _botocores_own("no-such-service", "aws") == []


def test_every_botocore_services_prefix_is_its_models() -> None:
    session = botocore.session.get_session()
    for service in session.get_available_services():
        metadata = session.get_service_model(service).metadata
        expected = metadata.get("endpointPrefix", service)
        assert service_regions.endpoint_prefix(session, service) == expected, service
