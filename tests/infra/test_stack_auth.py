"""The Cognito user pool and its client in the synthesised stack."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template
from sluice.catalog import CATALOG

pytestmark = pytest.mark.infra


def test_user_pool_is_admin_only_with_an_eight_character_minimum(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "Policies": {"PasswordPolicy": Match.object_like({"MinimumLength": 8})},
            "Schema": Match.array_with([{"Name": "email", "Required": False, "Mutable": True}]),
        },
    )


def test_user_pool_client_is_public_with_password_and_refresh_flows_and_catalogue_lifetimes(
    template: Template,
) -> None:
    spec = CATALOG.user_pool
    template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "ClientName": spec.client_name,
            "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "AccessTokenValidity": spec.access_token_minutes,
            "IdTokenValidity": spec.access_token_minutes,
            "RefreshTokenValidity": spec.refresh_token_days * 24 * 60,
            "TokenValidityUnits": {
                "AccessToken": "minutes",
                "IdToken": "minutes",
                "RefreshToken": "minutes",
            },
        },
    )
